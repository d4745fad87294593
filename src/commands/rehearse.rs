//! `simfleet rehearse PLANFILE`: the real apply of a saved plan against an embedded sandbox
//! holding a copy of the plan's SIMs, to predict calls, failures, end state and wall time.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::apply::ReportFormat;
use simfleet::ops::connect::EMBEDDED_BATCH_RATE;
use simfleet::ops::rehearse::{RehearsalFormat, RehearseCommand, RehearseSource};
use simfleet::output::Output;
use simfleet::settings::{plan_file_spec_dir, Env, Settings};

use super::connect::ConnectArgs;
use super::guards::GuardArgs;

/// Run a plan file's real apply on a sandbox copy of its SIMs: calls, predicted failures, end
/// state, wall time (exit 0 converges, 1 does not, 3 a guard stops it)
///
/// The SIMs' current state comes from the API (reads of the plan's SIMs and the transition
/// table only), from --live SNAPSHOT or from the plan's own "from" values (--from-plan); no
/// other request reaches the real API. See docs/rehearse.md for the wall-time formula.
#[derive(Debug, Args)]
pub struct RehearseArgs {
    /// A plan file from `plan --out`.
    #[arg(value_name = "PLANFILE")]
    pub plan: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Take the SIMs' current state from this snapshot instead of the API; no network.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["endpoint", "token_file", "sandbox", "from_plan"])]
    pub live: Option<PathBuf>,
    /// Take the SIMs' current state from the plan's own "from" values; no network.
    #[arg(long, conflicts_with_all = ["endpoint", "token_file", "sandbox"])]
    pub from_plan: bool,
    /// Spec directory whose simfleet.yaml holds the guards and settings, as for `apply
    /// PLANFILE` [default: fleet, when ./fleet exists; otherwise required].
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
    /// Batch jobs and updateSim calls in flight at once [default: 8, or simfleet.yaml's concurrency].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    #[command(flatten)]
    pub guards: GuardArgs,
    /// Report a batch job still running after this long, as apply does [default: 30m].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub job_timeout: Option<std::time::Duration>,
    /// The sandbox's batch-job speed in SIMs per second (the wall-time prediction uses the
    /// speed observed).
    #[arg(long, value_name = "SIMS_PER_S", default_value_t = EMBEDDED_BATCH_RATE)]
    pub batch_rate: f64,
    /// Report format (markdown appends to the plan's pull-request comment).
    #[arg(long, value_enum, default_value = "text")]
    pub format: RehearsalFormat,
    /// Write the sandbox's fleet after the rehearsed apply to FILE (a snapshot, format v1).
    #[arg(long, value_name = "FILE")]
    pub end_state: Option<PathBuf>,
    /// Refuse the plan unless its checksum is this one, as `apply --expect-checksum` does.
    #[arg(long, value_name = "SUM")]
    pub expect_checksum: Option<String>,
    /// List every failing SIM, not the largest groups.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Builds the settings as `apply PLANFILE` does (flags > --spec's simfleet.yaml > defaults),
/// then rehearses.
pub fn run(
    args: RehearseArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let flags = args
        .guards
        .flags(args.concurrency, args.connect.rate_limit, args.job_timeout);
    flags.check()?;
    if !args.batch_rate.is_finite() || args.batch_rate <= 0.0 {
        return Err(simfleet::Error::Usage(format!(
            "--batch-rate must be a positive number of SIMs per second, got {}",
            args.batch_rate
        )));
    }
    let spec_dir = plan_file_spec_dir(args.spec.as_deref())?;
    let settings = Settings::for_spec_dir(&flags, &spec_dir, env)?;
    let source = match (args.live, args.from_plan) {
        (Some(path), _) => RehearseSource::Snapshot(path),
        (None, true) => RehearseSource::Plan,
        (None, false) => RehearseSource::Api(args.connect.options(&settings)),
    };
    let cmd = RehearseCommand {
        plan: args.plan,
        source,
        spec: args.spec,
        batch_rate: args.batch_rate,
        format: args.format,
        verbose: args.verbose,
        end_state: args.end_state,
        expect_checksum: args.expect_checksum,
        settings,
    };
    super::runtime()?.block_on(simfleet::ops::rehearse::run(cmd, out))
}

/// `apply PLANFILE --rehearse`: `rehearse PLANFILE` reading the live state from the API, with
/// apply's settings, checksum and report format.
pub fn for_apply(
    args: super::apply::ApplyArgs,
    settings: Settings,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    if !args.target.is_file() {
        return Err(simfleet::Error::Usage(format!(
            "--rehearse rehearses a plan file; {} is a spec directory: run `simfleet plan {} --out plan.json` first",
            args.target.display(),
            args.target.display()
        )));
    }
    let cmd = RehearseCommand {
        plan: args.target,
        source: RehearseSource::Api(args.connect.options(&settings)),
        spec: args.spec,
        batch_rate: EMBEDDED_BATCH_RATE,
        format: match args.format {
            ReportFormat::Text => RehearsalFormat::Text,
            ReportFormat::Json => RehearsalFormat::Json,
        },
        verbose: args.verbose,
        end_state: None,
        expect_checksum: args.expect_checksum,
        settings,
    };
    super::runtime()?.block_on(simfleet::ops::rehearse::run(cmd, out))
}
