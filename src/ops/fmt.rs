//! `simfleet fmt [DIR] [--check]`: lay out every spec file canonically, or (with `--check`)
//! print what would change as a unified diff and fail, for pre-commit hooks and CI.
//!
//! Files are rewritten through a temporary file and a rename; a file the formatter refuses is
//! left untouched and named in the error, after the others are done.

use std::path::{Path, PathBuf};

use crate::fmt::{format_text, FmtError};
use crate::output::{write_file, Output};
use crate::spec::walk;
use crate::{Error, Outcome};

/// Formats (or checks) every spec file under `dir`, or `dir` itself when it is a file.
pub fn run(dir: &Path, check: bool, out: &mut Output) -> Result<Outcome, Error> {
    let files = spec_files(dir, out)?;
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
            out.print(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{shown}"), &format!("b/{shown}"))
                    .to_string(),
            )?;
        } else {
            write_file(path, formatted.as_bytes())?;
            out.note(&format!("formatted {shown}"))?;
        }
        changed.push(shown);
    }
    out.note(&format!(
        "{} file{} checked, {} {}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        changed.len(),
        if check {
            "not formatted"
        } else {
            "reformatted"
        },
    ))?;
    if !refused.is_empty() {
        return Err(FmtError::Refused(refused).into());
    }
    if check && !changed.is_empty() {
        return Err(FmtError::Unformatted(changed).into());
    }
    Ok(Outcome::Success)
}

/// The spec files under `dir` (the loader's walk: regular files only, a FIFO or socket skipped
/// with a warning), or `dir` itself when it is a file.
fn spec_files(dir: &Path, out: &mut Output) -> Result<Vec<PathBuf>, Error> {
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
        out.note(&format!(
            "warning: skipped {}: not a regular file ({})",
            walk::display_path(&display_dir, &skipped.relative),
            skipped.kind
        ))?;
    }
    Ok(walk.files.into_iter().map(|f| f.path).collect())
}
