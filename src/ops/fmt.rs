//! `simfleet fmt [DIR] [--check]`: lay out every spec file canonically, or (with `--check`)
//! print what would change as a unified diff and fail, for pre-commit hooks and CI.
//!
//! Files are rewritten through a temporary file and a rename; a file the formatter refuses is
//! left untouched and named in the error, after the others are done.

use std::path::{Path, PathBuf};

use crate::fmt::{format_text, FmtError};
use crate::{Error, Outcome};

use crate::output::{write_file, Output};

/// Formats (or checks) every spec file under `dir`, or `dir` itself when it is a file.
pub fn run(dir: &Path, check: bool, out: &mut Output) -> Result<Outcome, Error> {
    let files = spec_files(dir)?;
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

/// `*.yaml` / `*.yml` below `dir` in path order, skipping hidden entries and never following a
/// symlinked directory (the loader's rules), or `dir` itself when it is a file.
fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read_error = |path: &Path, source| FmtError::Read {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(|e| read_error(dir, e))?;
    if meta.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| read_error(&current, e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
