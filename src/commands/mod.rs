//! One file per subcommand: its clap arguments and a `run` that calls into `simfleet::ops`.

pub mod apply;
pub mod completions;
pub mod connect;
pub mod export;
pub mod fmt;
pub mod logging;
pub mod man;
pub mod plan;
pub mod reference;
pub mod sandbox;
pub mod schema;
pub mod show;
pub mod validate;

/// The environment variables simfleet reads, shown under the root command's `--help`.
pub const ENVIRONMENT: &str = "\
Environment:
  WHEREVER_SIM_TOKEN     API token (or --token-file); never printed or logged
  WHEREVER_SIM_ENDPOINT  GraphQL endpoint (default https://graphql.api.whereversim.de/graphql)
  NO_COLOR               any non-empty value turns colours off
  CI                     set (as CI services do): no progress bars
  SIMFLEET_LOG           log filter in RUST_LOG syntax, e.g. simfleet::api=debug (beats -v/-q)

Exit codes: 0 success (no changes), 1 error, 2 changes (with --detailed-exitcode),
3 blocked or stopped by a guard, 130 interrupted.";

pub use logging::notes;

/// The tokio runtime the network commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, simfleet::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| simfleet::Error::Usage(format!("cannot start the async runtime: {e}")))
}
