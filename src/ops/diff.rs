//! `simfleet diff OLD NEW`: load two plan files (each checked: format, masking, checksum), compare
//! them ([`crate::plan::diff`]), print the result ([`crate::render`]). Both files are read at
//! once, on two cores: a million-SIM plan file takes seconds to parse and verify.

use std::path::PathBuf;

use crate::output::Output;
use crate::plan::diff::diff as compare;
use crate::plan::Plan;
use crate::render::{self, DiffTextOptions, SourceLinks};
use crate::{Error, Outcome};

use super::plan::{load_plan_file, PlanFormat};

/// Everything `diff` needs.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub old: PathBuf,
    pub new: PathBuf,
    pub format: PlanFormat,
    pub verbose: bool,
    pub mask: bool,
    /// Spec locations as links in markdown (built by the settings).
    pub links: Option<SourceLinks>,
}

/// Runs `simfleet diff`: `Success` when the plans are equivalent, `Changes` when they differ
/// (the command always asks for the detailed exit code: 0 or 2).
pub fn diff(opts: &DiffOptions, out: &mut Output) -> Result<Outcome, Error> {
    let (old, new) = load_both(opts)?;
    let started = std::time::Instant::now();
    let d = compare(&old, &new);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        sims = d.sims.len(),
        "plans compared"
    );
    match opts.format {
        PlanFormat::Text => out.print(&render::diff_text(
            &d,
            DiffTextOptions {
                verbose: opts.verbose,
                mask: opts.mask,
            },
        ))?,
        PlanFormat::Markdown => {
            out.print(&render::diff_markdown(&d, opts.mask, opts.links.as_ref()))?
        }
        // Masked structurally by `Output` with `--mask` (digests are kept).
        PlanFormat::Json => out.print_json(&render::diff_json(&d))?,
    }
    Ok(if d.equivalent {
        Outcome::Success
    } else {
        Outcome::Changes
    })
}

/// Both plan files, read and verified side by side; when both are unusable, both are reported.
fn load_both(opts: &DiffOptions) -> Result<(Plan, Plan), Error> {
    let started = std::time::Instant::now();
    let (old, new) =
        crate::parallel::join(|| load_plan_file(&opts.old), || load_plan_file(&opts.new));
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "plan files loaded"
    );
    match (old, new) {
        (Ok(old), Ok(new)) => Ok((old, new)),
        (Err(a), Err(b)) => Err(Error::PlanFiles(vec![a, b])),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}
