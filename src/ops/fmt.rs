//! `simfleet fmt [DIR] [--check]`: lay out every spec file canonically, or (with `--check`)
//! print what would change as a unified diff and fail, for pre-commit hooks and CI.
//!
//! Files are rewritten through a temporary file and a rename; a file the formatter refuses is
//! left untouched and named in the error, after the others are done.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::fmt::format_text;
use crate::spec::walk;
use crate::{Error, Outcome};

use super::plan::write_atomically;

/// Why `fmt` failed.
#[derive(Debug, thiserror::Error)]
pub enum FmtError {
    #[error("{} file{} not formatted (run `simfleet fmt` to fix): {}", .0.len(), if .0.len() == 1 { " is" } else { "s are" }, .0.join(", "))]
    Unformatted(Vec<String>),
    #[error("{} file{} left unformatted:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("no spec files (*.yaml, *.yml) under {0}")]
    NoFiles(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Formats (or checks) every spec file under `dir`, or `dir` itself when it is a file.
pub fn run(
    dir: &Path,
    check: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, Error> {
    let files = spec_files(dir, err)?;
    if files.is_empty() {
        return Err(FmtError::NoFiles(dir.display().to_string()).into());
    }
    let mut refused = Vec::new();
    let mut changed = Vec::new();
    for path in &files {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FmtError::Read {
            path: shown.clone(),
            source,
        })?;
        let formatted = match format_text(&text) {
            Ok(f) => f,
            Err(refusal) if refusal.line > 0 => {
                refused.push(format!("{shown}:{}: {}", refusal.line, refusal.message));
                continue;
            }
            Err(refusal) => {
                refused.push(format!("{shown}: {}", refusal.message));
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check {
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
            );
        } else {
            write_atomically(path, formatted.as_bytes())?;
            let _ = writeln!(err, "formatted {shown}");
        }
        changed.push(shown);
    }
    let _ = writeln!(
        err,
        "{} file{} checked, {} {}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        changed.len(),
        if check {
            "not formatted"
        } else {
            "reformatted"
        },
    );
    if !refused.is_empty() {
        return Err(FmtError::Refused(refused).into());
    }
    if check && !changed.is_empty() {
        return Err(FmtError::Unformatted(changed).into());
    }
    Ok(Outcome::Success)
}

/// The spec files under `dir` (the loader's walk: regular files only, a FIFO or socket skipped
/// with a warning on `err`), or `dir` itself when it is a file.
fn spec_files(dir: &Path, err: &mut dyn Write) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(dir).map_err(|source| FmtError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let walk = walk::spec_files(dir);
    let display_dir = dir.display().to_string();
    if let Some(unreadable) = walk.unreadable.into_iter().next() {
        return Err(FmtError::Read {
            path: walk::display_path(&display_dir, &unreadable.relative),
            source: unreadable.source,
        }
        .into());
    }
    for skipped in &walk.skipped {
        let _ = writeln!(
            err,
            "warning: skipped {}: not a regular file ({})",
            walk::display_path(&display_dir, &skipped.relative),
            skipped.kind
        );
    }
    Ok(walk.files.into_iter().map(|f| f.path).collect())
}
