//! `simfleet sandbox`: serve a simulated wherever SIM GraphQL API on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use simfleet::ops::sandbox::{FleetSource, SandboxOptions};

/// Serve a simulated wherever SIM GraphQL API on loopback (POST /graphql, GET /stats, GET /state).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Serve the SIMs of this snapshot file (format v1).
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    fleet: Option<PathBuf>,
    /// Serve N generated SIMs (deterministic for --seed), at most 10,000,000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=simfleet::sandbox::MAX_GENERATED_SIMS))]
    generate: Option<u64>,
    /// Seeds the generator and the fault choices.
    #[arg(long, value_name = "S", default_value_t = 7)]
    seed: u64,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// The Authorization header value requests must send (a test value, not a secret).
    #[arg(long, value_name = "TOKEN", default_value = "sandbox")]
    token: String,
    /// Delay every response by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
    /// Fraction of requests (0..1) hit by an injected fault.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    fault_rate: f64,
    /// Activation and deactivation pass through 13/14 for this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    transition_delay: u64,
    /// Batch job speed in SIMs per second.
    #[arg(long, value_name = "SIMS_PER_S", default_value_t = 200.0)]
    batch_rate: f64,
}

pub fn run(
    args: SandboxArgs,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let fleet = match (args.fleet, args.generate) {
        (Some(path), _) => FleetSource::File(path),
        (None, Some(n)) => FleetSource::Generate(usize::try_from(n).unwrap_or(usize::MAX)),
        (None, None) => FleetSource::Demo,
    };
    simfleet::ops::sandbox::run(
        SandboxOptions {
            fleet,
            seed: args.seed,
            listen: args.listen,
            token: args.token,
            latency: Duration::from_millis(args.latency),
            fault_rate: args.fault_rate,
            transition_delay: Duration::from_millis(args.transition_delay),
            batch_rate: args.batch_rate,
        },
        out,
    )
}
