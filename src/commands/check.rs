//! `simfleet check [DIR]`: judge the spec's checks on the live fleet as it is now.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::plan::{LiveSource, PlanOptions};
use simfleet::output::Output;
use simfleet::settings::{Env, Settings};

use super::connect::ConnectArgs;
use super::guards::GuardArgs;

/// Judge the spec's checks on the live fleet as it is now (drift audits): exit 0 when clean, 3 when a deny check fails or a waiver has expired.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec directory.
    #[arg(default_value = "fleet")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Check a snapshot file (from `simfleet export --snapshot`) instead; no network.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["endpoint", "token_file", "sandbox"])]
    pub live: Option<PathBuf>,
    /// Print the checks and waivers as JSON.
    #[arg(long)]
    pub json: bool,
    /// listSims requests in flight at once [default: 8, or simfleet.yaml's concurrency].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Read the event log (listSimEvents) of drifted SIMs whose status or IMEI lock differs
    /// from the spec, and show when and how each changed. Needs the API (not --live).
    #[arg(long, conflicts_with = "live")]
    pub why_drift: bool,
    /// With --why-drift: read the events of at most N SIMs, riskiest first (one request each)
    /// [default: 50].
    #[arg(long, value_name = "N", requires = "why_drift")]
    pub why_drift_limit: Option<u64>,
    /// Also report the SIMs no longer at what this plan file (saved by `plan --out`: the last
    /// one applied) set, and whether the spec still manages each field. Reported like the drift of --why-drift (the exit code is the checks').
    #[arg(long, value_name = "PLANFILE")]
    pub last_applied: Option<PathBuf>,
}

/// Builds the settings (flags > the spec's simfleet.yaml > defaults) before any work, then checks.
pub fn run(
    args: CheckArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let mut flags = GuardArgs::default().flags(args.concurrency, args.connect.rate_limit, None);
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
        target: None,
        guards: settings.guards.clone(),
        concurrency: settings.concurrency,
        progress: env.progress_bar(),
        why_drift: args.why_drift.then_some(settings.why_drift_limit),
        today: settings.today,
        last_applied: settings.last_applied.clone(),
    };
    super::runtime()?.block_on(simfleet::ops::plan::check(&opts, args.json, env.mask, out))
}
