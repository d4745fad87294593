//! `--last-applied PLANFILE`: the plan file a drift check compares the fleet against, loaded
//! once with the settings, before any request, by the loader `show` and `apply` use (format
//! version and checksum checked). A missing, unreadable or damaged file is a usage error that
//! names the path. Only what the plan set is kept ([`LastApplied`]), not the whole plan.

use std::path::Path;
use std::sync::Arc;

use crate::plan::last_applied::LastApplied;
use crate::Error;

/// The values the plan file at `path` set.
pub fn load(path: &Path) -> Result<Arc<LastApplied>, Error> {
    let plan = crate::ops::plan::load_plan_file(path)
        .map_err(|e| Error::Usage(format!("--last-applied: {e}")))?;
    Ok(Arc::new(LastApplied::of(
        &plan,
        &path.display().to_string(),
    )))
}
