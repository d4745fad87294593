//! The one walk of a spec directory, used by every command that reads spec files (`validate`,
//! `plan`, `apply` through the loader, and `fmt`): every `*.yaml` / `*.yml` below the directory,
//! in path order, skipping hidden entries and never following a symlinked directory.
//!
//! Only regular files are returned (a symlink counts as what it points to). Opening a FIFO,
//! socket or device named `a.yaml` would block or read without end, so such an entry is skipped
//! and reported, for the caller to show as a warning.

use std::fs;
use std::path::{Path, PathBuf};

/// A spec file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecPath {
    /// The path relative to the walked directory, `/`-separated (stable across platforms: it
    /// goes into the spec digest).
    pub relative: String,
    /// The path to open.
    pub path: PathBuf,
}

/// An entry with a spec file's name that is not a regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub relative: String,
    /// What it is instead, e.g. "a FIFO".
    pub kind: &'static str,
}

/// A directory below the walked one that could not be listed.
#[derive(Debug)]
pub struct Unreadable {
    pub relative: String,
    pub source: std::io::Error,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular spec files, sorted by relative path.
    pub files: Vec<SpecPath>,
    pub skipped: Vec<Skipped>,
    pub unreadable: Vec<Unreadable>,
}

/// Walks `dir` (which must be a directory) for spec files.
pub fn spec_files(dir: &Path) -> Walk {
    let mut walk = Walk::default();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = match fs::read_dir(dir.join(&relative)) {
            Ok(entries) => entries,
            Err(source) => {
                walk.unreadable.push(Unreadable {
                    relative: slashed(&relative),
                    source,
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            // Hidden directories and files (.git, .github workflows) are never spec files.
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let relative = relative.join(entry.file_name());
            // file_type does not follow symlinks, so a symlinked directory cannot loop us.
            let Ok(own_type) = entry.file_type() else {
                continue;
            };
            if own_type.is_dir() {
                pending.push(relative);
                continue;
            }
            if !has_spec_extension(&relative) {
                continue;
            }
            let path = dir.join(&relative);
            // A symlink is what it points to; a dangling one is kept, so reading it reports it.
            let kind = if own_type.is_symlink() {
                fs::metadata(&path).map_or(None, |m| not_regular(&m.file_type()))
            } else {
                not_regular(&own_type)
            };
            let relative = slashed(&relative);
            match kind {
                Some(kind) => walk.skipped.push(Skipped { relative, kind }),
                None => walk.files.push(SpecPath { relative, path }),
            }
        }
    }
    walk.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    walk.skipped.sort_by(|a, b| a.relative.cmp(&b.relative));
    walk
}

/// `dir/relative` as shown to users (`relative` alone for `.`, `dir` alone for the root).
pub fn display_path(display_dir: &str, relative: &str) -> String {
    if display_dir.is_empty() || display_dir == "." {
        return relative.to_string();
    }
    if relative.is_empty() {
        return display_dir.to_string();
    }
    format!("{}/{relative}", display_dir.trim_end_matches('/'))
}

fn has_spec_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// `None` for a regular file, else what the entry is, as a user would say it.
fn not_regular(file_type: &fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a file")
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_spec_files_in_path_order_and_skips_hidden_entries() {
        let tmp = tempfile::tempdir().expect("temp dir");
        for name in [
            "b.yaml",
            "a/c.yml",
            "a/notes.txt",
            ".github/ci.yaml",
            ".hidden.yaml",
        ] {
            let path = tmp.path().join(name);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, "").expect("write");
        }
        let walk = spec_files(tmp.path());
        let found: Vec<&str> = walk.files.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(found, ["a/c.yml", "b.yaml"]);
        assert!(walk.skipped.is_empty() && walk.unreadable.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_counts_as_its_target_and_a_directory_link_is_not_followed() {
        let tmp = tempfile::tempdir().expect("temp dir");
        fs::write(tmp.path().join("real.yaml"), "").expect("write");
        fs::create_dir(tmp.path().join("dir")).expect("mkdir");
        fs::write(tmp.path().join("dir/x.yaml"), "").expect("write");
        std::os::unix::fs::symlink("real.yaml", tmp.path().join("link.yaml")).expect("link");
        std::os::unix::fs::symlink("dir", tmp.path().join("loop")).expect("link");
        std::os::unix::fs::symlink("dir", tmp.path().join("dir.yaml")).expect("link");
        let walk = spec_files(tmp.path());
        let found: Vec<&str> = walk.files.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(found, ["dir/x.yaml", "link.yaml", "real.yaml"]);
        assert_eq!(
            walk.skipped,
            [Skipped {
                relative: "dir.yaml".into(),
                kind: "a directory"
            }]
        );
    }

    #[test]
    fn display_paths() {
        assert_eq!(display_path(".", "a.yaml"), "a.yaml");
        assert_eq!(display_path("fleet/", "a.yaml"), "fleet/a.yaml");
        assert_eq!(display_path("fleet", ""), "fleet");
    }
}
