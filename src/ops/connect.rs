//! Where the live fleet comes from: the real API, the embedded sandbox, or a snapshot file.
//!
//! `plan`, `apply` and `export` share these connection options so that a flag means the same
//! thing everywhere. The token is read from `WHEREVER_SIM_TOKEN` or `--token-file`, never from
//! a command-line argument (it would show in `ps` and shell history), and is only ever held as a
//! `SecretString`.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::api::{self, Client, ClientConfig};
use crate::fleet::Snapshot;
use crate::sandbox::{self, RunningSandbox, Sandbox, SandboxConfig};
use crate::Error;

/// Environment variable holding the API token.
pub const TOKEN_ENV: &str = "WHEREVER_SIM_TOKEN";
/// Environment variable holding the endpoint URL.
pub const ENDPOINT_ENV: &str = "WHEREVER_SIM_ENDPOINT";
/// The token the embedded sandbox accepts (a test value, not a secret).
pub const SANDBOX_TOKEN: &str = "sandbox";

/// Batch-job speed of the embedded sandbox (`--sandbox`, `rehearse`), SIMs per second: it
/// plays the vendor, so a demo apply does not wait minutes.
pub const EMBEDDED_BATCH_RATE: f64 = 5_000.0;

/// How to reach the API (everything but `--live`, which needs no connection).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--endpoint`; falls back to `WHEREVER_SIM_ENDPOINT`, then the reference's URL.
    pub endpoint: Option<String>,
    /// `--token-file`; without it the token comes from `WHEREVER_SIM_TOKEN`.
    pub token_file: Option<PathBuf>,
    /// `--sandbox`: start the embedded sandbox on a free loopback port and talk to it over HTTP.
    pub sandbox: bool,
    /// `--sandbox-fleet FILE`: seed that sandbox from a snapshot instead of the demo fleet.
    pub sandbox_fleet: Option<PathBuf>,
    /// Requests-per-second ceiling (`None` = the client's default).
    pub requests_per_second: Option<u32>,
    /// Requests in flight at once (`None` = the client's default).
    pub max_in_flight: Option<usize>,
}

impl ConnectOptions {
    /// The API endpoint this connects to: `--endpoint`, `WHEREVER_SIM_ENDPOINT`, then the
    /// reference's URL; `None` with `--sandbox` (a sandbox of this process's own).
    pub fn api_endpoint(&self) -> Option<String> {
        if self.sandbox {
            return None;
        }
        Some(
            self.endpoint
                .clone()
                .or_else(|| std::env::var(ENDPOINT_ENV).ok().filter(|e| !e.is_empty()))
                .unwrap_or_else(|| api::DEFAULT_ENDPOINT.to_string()),
        )
    }
}

/// An open connection; keeps an embedded sandbox alive for as long as it lives.
pub struct Connection {
    pub client: Client,
    sandbox: Option<RunningSandbox>,
}

impl Connection {
    /// Builds the client (starting the embedded sandbox first with `--sandbox`).
    pub async fn open(
        opts: &ConnectOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Connection, Error> {
        let (endpoint, token, sandbox) = if opts.sandbox {
            let fleet = match &opts.sandbox_fleet {
                Some(path) => Snapshot::load(path)?,
                None => sandbox::demo_fleet(),
            };
            let running = Sandbox::start(
                SandboxConfig {
                    batch_rate: EMBEDDED_BATCH_RATE,
                    ..SandboxConfig::default()
                },
                fleet,
            )
            .await?;
            (
                running.url(),
                SecretString::from(SANDBOX_TOKEN.to_string()),
                Some(running),
            )
        } else {
            if opts.sandbox_fleet.is_some() {
                return Err(Error::Usage(
                    "--sandbox-fleet only makes sense with --sandbox".to_string(),
                ));
            }
            let endpoint = opts.api_endpoint().unwrap_or_default();
            let token = read_token(opts.token_file.as_deref(), warnings)?;
            (endpoint, token, None)
        };
        let mut config = ClientConfig::new(endpoint, token);
        if let Some(rps) = opts.requests_per_second {
            config.rate_per_second = NonZeroU32::new(rps);
        }
        if let Some(n) = opts.max_in_flight {
            config.max_in_flight = n.max(1);
        }
        let client = Client::new(config)?;
        Ok(Connection { client, sandbox })
    }

    /// Stops the embedded sandbox, if any.
    pub async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The token from `--token-file` or `WHEREVER_SIM_TOKEN`; a world-readable file gets a warning.
fn read_token(file: Option<&Path>, warnings: &mut Vec<String>) -> Result<SecretString, Error> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.display().to_string(),
            source,
        })?;
        warn_if_world_readable(path, warnings);
        let token = text.trim();
        if token.is_empty() {
            return Err(Error::EmptyToken {
                path: path.display().to_string(),
            });
        }
        return Ok(SecretString::from(token.to_string()));
    }
    match std::env::var(TOKEN_ENV) {
        Ok(token) if !token.trim().is_empty() => Ok(SecretString::from(token.trim().to_string())),
        _ => Err(Error::NoToken { env: TOKEN_ENV }),
    }
}

#[cfg(unix)]
fn warn_if_world_readable(path: &Path, warnings: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o004 != 0 {
            warnings.push(format!(
                "token file {} is readable by every user on this machine; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_world_readable(_path: &Path, _warnings: &mut Vec<String>) {}
