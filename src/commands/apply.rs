//! `simfleet apply [PLANFILE | DIR]`: make the planned changes.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::apply::{ApplyCommand, ReportFormat};

use super::connect::ConnectArgs;

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
    /// Guard: stop when more than N SIMs would change.
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Guard: stop when more than P percent of the fleet would change.
    #[arg(long, value_name = "P")]
    pub max_percent: Option<f64>,
    /// Allow status changes that cut service (deactivate, suspend).
    #[arg(long)]
    pub allow_status_cuts: bool,
    /// Allow irreversible status changes (retire).
    #[arg(long)]
    pub allow_irreversible: bool,
    /// Report a batch job still PREPARING or RUNNING after this long (it is left running).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = humantime::parse_duration)]
    pub job_timeout: std::time::Duration,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Spec directory whose simfleet.yaml holds guard settings, when applying a plan file.
    #[arg(long, value_name = "DIR", default_value = "fleet")]
    pub spec: PathBuf,
    /// Mask ICCIDs, IMEIs and MSISDNs but their last 4 digits in the plan, report and errors
    /// (for public CI logs).
    #[arg(long)]
    pub mask: bool,
    /// List every SIM in the report, not the largest groups.
    #[arg(long, short)]
    pub verbose: bool,
    /// Apply even when another run's batch jobs are changing the plan's SIMs (by default apply
    /// stops before its first call).
    #[arg(long)]
    pub allow_concurrent: bool,
}

pub fn run(args: ApplyArgs) -> Result<simfleet::Outcome, simfleet::Error> {
    let cmd = ApplyCommand {
        target: args.target,
        spec_dir: args.spec,
        auto_approve: args.auto_approve,
        expect_checksum: args.expect_checksum,
        concurrency: args.concurrency,
        max_changes: args.max_changes,
        max_percent: args.max_percent,
        allow_status_cuts: args.allow_status_cuts,
        allow_irreversible: args.allow_irreversible,
        job_timeout: args.job_timeout,
        format: args.format,
        connect: args.connect.options(),
        mask: args.mask,
        verbose: args.verbose,
        allow_concurrent: args.allow_concurrent,
    };
    let result = super::runtime()?.block_on(simfleet::ops::apply::run(
        cmd,
        &mut std::io::stdout().lock(),
    ));
    // Errors list ICCIDs too (stale SIMs, failures): masked like the report.
    result.map_err(|e| match args.mask {
        true => simfleet::Error::Usage(simfleet::render::mask_text(&e.to_string())),
        false => e,
    })
}
