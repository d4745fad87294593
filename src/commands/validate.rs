//! `simfleet validate [DIR]`: check a spec offline (with `--live SNAPSHOT`, its checks too).

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::validate::LiveChecks;
use simfleet::settings::Env;

/// Check the spec files offline: syntax, keys, values, names, ICCIDs, conflicts, checks
///
/// With `--live SNAPSHOT`, also judge the spec's checks on the snapshot as it will be after the spec's plan, offline: exit 3 when a deny check fails or a waiver has expired.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spec directory.
    #[arg(default_value = "fleet")]
    pub dir: PathBuf,
    /// Also judge the spec's checks on this snapshot (from `simfleet export --snapshot`) as it will be after the spec's plan; no network.
    #[arg(long, value_name = "SNAPSHOT")]
    pub live: Option<PathBuf>,
}

pub fn run(
    args: ValidateArgs,
    env: Env,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let live = match args.live {
        Some(snapshot) => Some(LiveChecks {
            snapshot,
            today: simfleet::settings::today()?,
            mask: env.mask,
        }),
        None => None,
    };
    simfleet::ops::validate::validate_against(&args.dir, live.as_ref(), out)
}
