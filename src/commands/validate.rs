//! `simfleet validate [DIR]`: check a spec offline.

use std::path::PathBuf;

use clap::Args;

/// Check the spec files offline: syntax, keys, values, names, ICCIDs, conflicts.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spec directory.
    #[arg(default_value = "fleet")]
    pub dir: PathBuf,
}

pub fn run(
    args: ValidateArgs,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    simfleet::ops::validate::validate(&args.dir, out)
}
