//! `simfleet sandbox`: load or generate a fleet, serve it on loopback until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::fleet::Snapshot;
use crate::output::Output;
use crate::sandbox::{demo_fleet, generate, Sandbox, SandboxConfig};
use crate::{Error, Outcome};

/// Where the sandbox's fleet comes from.
#[derive(Debug, Clone)]
pub enum FleetSource {
    File(PathBuf),
    Generate(usize),
    Demo,
}

/// The `sandbox` command's options.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub fleet: FleetSource,
    pub seed: u64,
    pub listen: SocketAddr,
    pub token: String,
    pub latency: Duration,
    pub fault_rate: f64,
    pub transition_delay: Duration,
    pub batch_rate: f64,
}

/// Serves until Ctrl-C; prints the URL on stdout once listening.
pub fn run(options: SandboxOptions, out: &mut Output) -> Result<Outcome, Error> {
    let fleet: Snapshot = match &options.fleet {
        FleetSource::File(path) => Snapshot::load(path)?,
        FleetSource::Generate(n) => generate(*n, options.seed),
        FleetSource::Demo => demo_fleet(),
    };
    let config = SandboxConfig {
        listen: options.listen,
        token: options.token,
        latency: options.latency,
        fault_rate: options.fault_rate,
        seed: options.seed,
        transition_delay: options.transition_delay,
        batch_rate: options.batch_rate,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async move {
        let running = Sandbox::start(config, fleet).await?;
        // Tests and scripts read the URL as soon as it is out: flushed now, not at exit.
        out.print(&format!(
            "simfleet sandbox listening on {}\n",
            running.url()
        ))?;
        out.finish()?;
        let _ = tokio::signal::ctrl_c().await;
        running.shutdown().await;
        Ok(Outcome::Success)
    })
}
