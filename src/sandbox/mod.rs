//! The sandbox: a real GraphQL server on loopback that simulates the wherever SIM API, so every
//! test, benchmark and demo runs the real client over real HTTP without credentials.
//!
//! It depends on `crate::fleet` only and never on the tool's spec, plan, api or apply code: it
//! is the independent counterpart that tests the tool, with its own storage rules. See
//! docs/sandbox.md for what it serves, its transition table and its faults.

mod batch;
mod events;
mod faults;
mod generate;
mod http;
mod outside;
mod schema;
mod store;
mod token;
mod types;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::fleet::Snapshot;

pub use faults::Fault;
pub use generate::{demo_fleet, generate, MAX_GENERATED_SIMS};
pub use store::DEFAULT_TRANSITIONS;

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The raw `Authorization` header value a request must carry (a test value, not a secret).
    pub token: String,
    /// Added to every response.
    pub latency: Duration,
    /// The fraction of requests, in [0, 1], hit by a fault.
    pub fault_rate: f64,
    /// Seeds fault choices (and, by convention, the generator).
    pub seed: u64,
    /// With a non-zero delay, activation passes through 13 and deactivation through 14.
    pub transition_delay: Duration,
    /// Batch job speed in SIMs per second.
    pub batch_rate: f64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: "sandbox".to_string(),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            seed: 0,
            transition_delay: Duration::ZERO,
            batch_rate: 200.0,
        }
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("sandbox: invalid configuration: {0}")]
    Config(String),
}

/// Starts sandboxes.
pub struct Sandbox;

/// A sandbox serving in the background until [`RunningSandbox::shutdown`].
pub struct RunningSandbox {
    addr: SocketAddr,
    server: Arc<http::Server>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// How often the clock settles delayed transitions and moves batch jobs.
const TICK: Duration = Duration::from_millis(10);

impl Sandbox {
    /// Binds, then serves `fleet` in background tasks on the current tokio runtime.
    pub async fn start(
        config: SandboxConfig,
        fleet: Snapshot,
    ) -> Result<RunningSandbox, SandboxError> {
        if !(0.0..=1.0).contains(&config.fault_rate) {
            return Err(SandboxError::Config(format!(
                "fault rate must be between 0 and 1, got {}",
                config.fault_rate
            )));
        }
        if !config.batch_rate.is_finite() || config.batch_rate <= 0.0 {
            return Err(SandboxError::Config(format!(
                "batch rate must be a positive number of SIMs per second, got {}",
                config.batch_rate
            )));
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let mut store = store::Store::new(fleet.sims, fleet.transitions, config.transition_delay);
        store.events = events::EventLog::new(config.seed, store::now_ms());
        let shared = Arc::new(schema::Shared {
            store: Mutex::new(store),
        });
        let schema = schema::build(shared.clone());
        let rate = config.batch_rate;
        let server = Arc::new(http::Server::new(schema, shared.clone(), config));
        let handle = server.clone();
        let app = Router::new()
            .route("/graphql", post(http::graphql))
            .route("/stats", get(http::stats))
            .route("/state", get(http::state))
            .route("/outside/updateSim", post(http::outside_update_sim))
            .route(
                "/outside/imeiUnauthorized",
                post(http::outside_imei_unauthorized),
            )
            .with_state(server);
        let cancel = CancellationToken::new();

        let serve_cancel = cancel.clone();
        let serve = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(serve_cancel.cancelled_owned())
                .await;
            if let Err(e) = result {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        let clock_cancel = cancel.clone();
        let clock = tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            loop {
                tokio::select! {
                    _ = clock_cancel.cancelled() => break,
                    _ = tick.tick() => {
                        if let Ok(mut store) = shared.store.lock() {
                            let now = Instant::now();
                            store.settle_due(now);
                            store.advance_jobs(now, rate);
                        }
                    }
                }
            }
        });
        Ok(RunningSandbox {
            addr,
            server: handle,
            cancel,
            tasks: vec![serve, clock],
        })
    }
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT/graphql`.
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `GET /stats` reports: requests answered per root field, and in total.
    pub fn operations(&self) -> (BTreeMap<String, u64>, u64) {
        self.server
            .stats
            .lock()
            .map(|s| (s.operations.clone(), s.requests))
            .unwrap_or_default()
    }

    /// What `GET /state` serves: the fleet now, as a snapshot.
    pub fn state(&self) -> Option<Snapshot> {
        self.server.snapshot()
    }

    /// `(SIMs, milliseconds from start to finish)` of every finished batch job.
    pub fn finished_jobs(&self) -> Vec<(u64, i64)> {
        let Ok(store) = self.server.shared.store.lock() else {
            return Vec::new();
        };
        store
            .jobs
            .values()
            .filter_map(|j| Some((j.targets.len() as u64, j.finished_at? - j.started_at)))
            .collect()
    }

    /// Stops serving and waits for the background tasks to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The SDL the server exports (compared with `schema/wherever-sim.graphql` by a test).
pub fn sdl() -> String {
    let shared = Arc::new(schema::Shared {
        store: Mutex::new(store::Store::new(Vec::new(), None, Duration::ZERO)),
    });
    schema::build(shared).sdl()
}
