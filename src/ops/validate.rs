//! `simfleet validate`: load and check a spec directory offline, print warnings and a summary.

use std::io::Write;
use std::path::Path;

use crate::{spec, Error, Outcome};

/// Validates the spec in `dir`: warnings go to `warnings`, the one-line summary to `out`.
/// Every problem found is in the returned error.
pub fn validate(
    dir: &Path,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<Outcome, Error> {
    let loaded = spec::load(dir)?;
    for warning in &loaded.warnings {
        // Output streams that fail to write (a closed pipe) must not turn success into failure.
        let _ = writeln!(warnings, "{warning}");
    }
    let s = loaded.summary;
    let _ = writeln!(
        out,
        "{} file{}, {} rule{}, {} SIM entr{}: valid",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.rules,
        if s.rules == 1 { "" } else { "s" },
        s.sim_entries,
        if s.sim_entries == 1 { "y" } else { "ies" },
    );
    Ok(Outcome::Success)
}
