//! `simfleet plan [DIR]`: show what would change.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::plan::{LiveSource, PlanFormat, PlanOptions, RenderOptions};
use simfleet::output::Output;
use simfleet::settings::{Env, Settings};

use super::connect::ConnectArgs;
use super::guards::GuardArgs;

/// Read the live fleet, diff it against the spec, and print what would change (never mutates).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The spec directory.
    #[arg(default_value = "fleet")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Plan offline against a snapshot file (from `simfleet export --snapshot`); no network.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["endpoint", "token_file", "sandbox"])]
    pub live: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// Save the plan file (grouped by change set, with its checksum) for `show` and `apply`.
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, or (with --last-applied) a SIM no longer at what that plan
    /// set (0 = none, 3 = blocked or stopped by a guard, 1 = error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// listSims requests in flight at once (counting and paging alike) [default: 8, or
    /// simfleet.yaml's concurrency].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Only plan SIMs matching this selector, e.g. '{end_customer_label: ACME}' (exceptional use).
    #[arg(long, value_name = "SELECTOR")]
    pub target: Option<String>,
    /// Read the event log (listSimEvents) of drifted SIMs whose status or IMEI lock differs
    /// from the spec, and show when and how each changed. Needs the API (not --live).
    #[arg(long, conflicts_with = "live")]
    pub why_drift: bool,
    /// With --why-drift: read the events of at most N SIMs, riskiest first (one request each)
    /// [default: 50].
    #[arg(long, value_name = "N", requires = "why_drift")]
    pub why_drift_limit: Option<u64>,
    /// Also report the SIMs no longer at what this plan file (saved by `plan --out`: the last
    /// one applied) set, and whether the spec still manages each field. Exit 2 with --detailed-exitcode when a SIM drifted, even if the plan changes nothing.
    #[arg(long, value_name = "PLANFILE")]
    pub last_applied: Option<PathBuf>,
    #[command(flatten)]
    pub guards: GuardArgs,
    /// List every SIM, not a few per group.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub links: super::links::LinkArgs,
}

/// Builds the settings (flags > the spec's simfleet.yaml > defaults) before any work, then plans.
pub fn run(
    args: PlanArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let mut flags = args
        .guards
        .flags(args.concurrency, args.connect.rate_limit, None);
    flags.why_drift_limit = args.why_drift_limit;
    flags.last_applied = args.last_applied;
    let settings = Settings::for_spec_dir(&flags, &args.dir, env)?;
    let source = match args.live {
        Some(path) => LiveSource::Snapshot(path),
        None => LiveSource::Api(args.connect.options(&settings)),
    };
    let opts = PlanOptions {
        dir: args.dir,
        source,
        target: args.target,
        guards: settings.guards.clone(),
        concurrency: settings.concurrency,
        progress: env.progress_bar(),
        why_drift: args.why_drift.then_some(settings.why_drift_limit),
        today: settings.today,
        last_applied: settings.last_applied.clone(),
    };
    let render = RenderOptions {
        format: args.format,
        verbose: args.verbose,
        mask: env.mask,
        color: env.stdout_color,
        out: args.out,
        links: args.links.source_links(),
    };
    super::runtime()?.block_on(simfleet::ops::plan::run(&opts, &render, out))
}
