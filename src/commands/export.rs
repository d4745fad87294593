//! `simfleet export`: save the live fleet as a snapshot, or bootstrap a spec from it.

use std::path::PathBuf;

use clap::Args;

use simfleet::export::{parse_fields, parse_group_by};
use simfleet::ops::export::{ExportOptions, ExportSource};
use simfleet::output::Output;
use simfleet::settings::{Env, Flags, Settings};

use super::connect::ConnectArgs;

/// Read the live fleet and write it as a snapshot file and/or a spec directory that
/// reproduces it (so that `plan` shows no changes).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the fleet as a snapshot (format v1, with the transition table) to FILE.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Write a spec reproducing the fleet's settings into DIR (new or empty, or --force).
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
    /// Fields to reproduce: limits, label, status, imei_lock, custom_field_1 or any field name.
    /// A field that is also a --group-by key is expressed by the rules' selectors, not set.
    #[arg(
        long,
        value_name = "F,...",
        default_value = "limits,label,imei_lock,status",
        requires = "spec"
    )]
    pub fields: String,
    /// Keys rules group SIMs by (server-side filters): end_customer_label, status, provider,
    /// custom_field_1; empty for one rule over all SIMs.
    #[arg(
        long,
        value_name = "KEY,...",
        default_value = "end_customer_label,status,provider",
        requires = "spec"
    )]
    pub group_by: String,
    /// Replace a non-empty spec directory.
    #[arg(long, requires = "spec")]
    pub force: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Export a spec from a saved snapshot instead of the API (offline).
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["endpoint", "token_file", "sandbox", "snapshot"])]
    pub live: Option<PathBuf>,
    /// listSims requests in flight at once (counting and paging alike) [default: 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// List every value that could not be exported.
    #[arg(long, short)]
    pub verbose: bool,
}

pub fn run(
    args: ExportArgs,
    env: Env,
    out: &mut Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    // No spec directory is read: flags and defaults, checked like everywhere else.
    let flags = Flags {
        concurrency: args.concurrency,
        requests_per_second: args.connect.rate_limit,
        ..Flags::default()
    };
    let settings = Settings::without_config(&flags, env)?;
    let fields = parse_fields(&args.fields).map_err(simfleet::Error::Usage)?;
    let group_by = parse_group_by(&args.group_by).map_err(simfleet::Error::Usage)?;
    let source = match args.live {
        Some(path) => ExportSource::Snapshot(path),
        None => ExportSource::Api(args.connect.options(&settings)),
    };
    let opts = ExportOptions {
        source,
        snapshot: args.snapshot,
        spec_dir: args.spec,
        fields,
        group_by,
        force: args.force,
        concurrency: settings.concurrency,
        progress: env.progress_bar(),
        verbose: args.verbose,
    };
    super::runtime()?.block_on(simfleet::ops::export::run(&opts, out))
}
