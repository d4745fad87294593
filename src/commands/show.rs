//! `simfleet show PLANFILE`: render a saved plan.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::plan::{PlanFormat, RenderOptions};
use simfleet::output::Output;
use simfleet::settings::Env;

/// Render a saved plan (so CI posts markdown and keeps JSON from one plan).
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `simfleet plan --out`.
    pub planfile: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// Exit 2 when the plan has changes (as `plan --detailed-exitcode`).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// List every SIM, not a few per group.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub links: super::links::LinkArgs,
}

pub fn run(
    args: ShowArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let render = RenderOptions {
        format: args.format,
        verbose: args.verbose,
        mask: env.mask,
        color: env.stdout_color,
        out: None,
        links: args.links.source_links(),
    };
    simfleet::ops::plan::show(&args.planfile, &render, out)
}
