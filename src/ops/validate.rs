//! `simfleet validate`: load and check a spec directory offline, print warnings and a summary.

use std::path::Path;

use crate::output::Output;
use crate::{spec, Error, Outcome};

/// Validates the spec in `dir`: warnings go to stderr, the one-line summary to stdout.
/// Every problem found is in the returned error.
pub fn validate(dir: &Path, out: &mut Output) -> Result<Outcome, Error> {
    let loaded = spec::load(dir)?;
    for warning in &loaded.warnings {
        out.note(&warning.to_string())?;
    }
    let s = loaded.summary;
    let checks = match s.checks {
        0 => String::new(),
        1 => ", 1 check".to_string(),
        n => format!(", {n} checks"),
    };
    out.print(&format!(
        "{} file{}, {} rule{}, {} SIM entr{}{checks}: valid\n",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.rules,
        if s.rules == 1 { "" } else { "s" },
        s.sim_entries,
        if s.sim_entries == 1 { "y" } else { "ies" },
    ))?;
    Ok(Outcome::Success)
}
