//! `simfleet fmt`: canonical formatting of spec files.

use std::path::PathBuf;

use clap::Args;

/// Format spec files in place (indentation, spacing, quoting), keeping every comment.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// The spec directory (or one file).
    #[arg(default_value = "fleet")]
    pub dir: PathBuf,
    /// Change nothing: print a unified diff of what would change and exit 1 if any file is not
    /// formatted (for pre-commit hooks and CI).
    #[arg(long)]
    pub check: bool,
}

pub fn run(
    args: FmtArgs,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    simfleet::ops::fmt::run(&args.dir, args.check, out)
}
