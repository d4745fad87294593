//! `simfleet apply [PLANFILE | DIR]`: make the planned changes.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::apply::{ApplyCommand, ReportFormat};
use simfleet::output::Output;
use simfleet::settings::{plan_file_spec_dir, Env, Settings};

use super::connect::ConnectArgs;
use super::guards::GuardArgs;

/// Apply a reviewed plan file, or plan a spec directory and apply it after confirmation.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan file from `plan --out`, or a spec directory to plan first.
    #[arg(default_value = "fleet", value_name = "PLANFILE | DIR")]
    pub target: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Apply a directory's plan without asking (needed when not on a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Refuse the plan unless its checksum is this one (the one a reviewer approved).
    #[arg(long, value_name = "SUM")]
    pub expect_checksum: Option<String>,
    /// Batch jobs and updateSim calls in flight at once [default: 8, or simfleet.yaml's concurrency].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    #[command(flatten)]
    pub guards: GuardArgs,
    /// Report a batch job still PREPARING or RUNNING after this long (it is left running)
    /// [default: 30m].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub job_timeout: Option<std::time::Duration>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Spec directory whose simfleet.yaml holds the guards, when applying a plan file; it must
    /// exist, and when given, the plan must have been made from its spec (same spec digest)
    /// [default: fleet, when ./fleet exists, not compared; otherwise required].
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
    /// List every SIM in the report, not the largest groups.
    #[arg(long, short)]
    pub verbose: bool,
    /// Apply even when another apply is running: skips this machine's apply lock (one apply per
    /// endpoint) and the check for other runs' batch jobs changing the plan's SIMs (by default
    /// apply stops before its first call).
    #[arg(long)]
    pub allow_concurrent: bool,
    /// Do not apply: rehearse this apply of a plan file on an embedded sandbox copy of its SIMs
    /// read from the API (the same as `simfleet rehearse PLANFILE`).
    #[arg(long)]
    pub rehearse: bool,
}

/// Builds the settings from the flags and the simfleet.yaml of the spec directory (the target,
/// or `--spec` for a plan file, read and checked as `plan` does) before any work, then applies.
pub fn run(
    args: ApplyArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let flags = args
        .guards
        .flags(args.concurrency, args.connect.rate_limit, args.job_timeout);
    flags.check()?;
    if !args.target.exists() {
        return Err(simfleet::apply::ApplyError::NoTarget(args.target).into());
    }
    if !args.target.is_file() {
        if let Some(spec) = &args.spec {
            return Err(simfleet::Error::Usage(format!(
                "--spec {} is for applying a plan file; {} is a spec directory and holds its own simfleet.yaml: leave --spec out",
                spec.display(),
                args.target.display()
            )));
        }
    }
    let spec_dir = if args.target.is_file() {
        plan_file_spec_dir(args.spec.as_deref())?
    } else {
        args.target.clone()
    };
    let settings = Settings::for_spec_dir(&flags, &spec_dir, env)?;
    if args.rehearse {
        return super::rehearse::for_apply(args, settings, out);
    }
    let cmd = ApplyCommand {
        spec: args.spec.filter(|_| args.target.is_file()),
        target: args.target,
        auto_approve: args.auto_approve,
        expect_checksum: args.expect_checksum,
        format: args.format,
        connect: args.connect.options(&settings),
        verbose: args.verbose,
        allow_concurrent: args.allow_concurrent,
        settings,
    };
    super::runtime()?.block_on(simfleet::ops::apply::run(cmd, out))
}
