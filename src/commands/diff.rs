//! `simfleet diff OLD.plan NEW.plan`: what changed between two saved plans.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::diff::DiffOptions;
use simfleet::ops::plan::PlanFormat;
use simfleet::output::Output;
use simfleet::settings::Env;

use super::links::LinkArgs;

/// Compare two saved plans: SIMs added, removed or changed, guards and checks whose result
/// changed, calls before and after, and SIMs whose live values moved. Exit 0 when the plans are
/// equivalent (timestamps ignored), 2 when they differ, 1 on an error.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier plan (e.g. the approved one), saved with `simfleet plan --out`.
    pub old: PathBuf,
    /// The later plan.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// List every group and every SIM, not the largest groups with a few SIMs each.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub links: LinkArgs,
}

pub fn run(
    args: DiffArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let opts = DiffOptions {
        old: args.old,
        new: args.new,
        format: args.format,
        verbose: args.verbose,
        mask: env.mask,
        links: args.links.source_links(),
    };
    simfleet::ops::diff::diff(&opts, out)
}
