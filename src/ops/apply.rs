//! `simfleet apply`: load (or make) a plan, connect, apply it with signals wired to the
//! cancellation tokens, and print the report.
//!
//! A path that is a file is a saved plan: it is applied after re-reading the SIMs it touches. A
//! directory is a spec: it is planned first, the plan is shown, and a terminal asks for `yes`
//! (without a terminal `--auto-approve` is required). Guards come from the flags, falling back
//! on `simfleet.yaml` at the spec root. The first Ctrl-C / SIGTERM stops starting new work; the
//! second also cancels running batch jobs.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::api::{Client, ClientConfig, DEFAULT_ENDPOINT};
use crate::apply::{self, ApplyOptions, ApplyReport, ApplyStatus, ProgressMode};
use crate::fleet::Snapshot;
use crate::plan::{Guards, Plan};
use crate::sandbox::{demo_fleet, Sandbox, SandboxConfig};
use crate::{Error, Outcome};

/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "WHEREVER_SIM_TOKEN";

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Where the API is.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub endpoint: Option<String>,
    pub token_file: Option<PathBuf>,
    /// Start an in-process sandbox (demo fleet, or `sandbox_fleet`) and talk to it.
    pub sandbox: bool,
    pub sandbox_fleet: Option<PathBuf>,
}

/// The `apply` command's options.
#[derive(Debug, Clone)]
pub struct ApplyCommand {
    /// A plan file, or a spec directory to plan first.
    pub target: PathBuf,
    /// Where `simfleet.yaml` is looked for when `target` is a plan file.
    pub spec_dir: PathBuf,
    pub auto_approve: bool,
    pub expect_checksum: Option<String>,
    pub concurrency: Option<usize>,
    pub max_changes: Option<u64>,
    pub max_percent: Option<f64>,
    pub allow_status_cuts: bool,
    pub allow_irreversible: bool,
    pub job_timeout: Duration,
    pub format: ReportFormat,
    pub connection: Connection,
}

/// Runs `apply`; the report goes to `out`, prompts and progress to stderr.
pub fn apply(cmd: ApplyCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(apply_async(cmd, out))
}

async fn apply_async(cmd: ApplyCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    let sandbox = if cmd.connection.sandbox {
        let fleet = match &cmd.connection.sandbox_fleet {
            Some(path) => Snapshot::load(path)?,
            None => demo_fleet(),
        };
        Some(Sandbox::start(SandboxConfig::default(), fleet).await?)
    } else {
        None
    };
    let client = connect(&cmd.connection, sandbox.as_ref().map(|s| s.url()))?;

    let is_plan_file = cmd.target.is_file();
    let spec_dir = if is_plan_file {
        cmd.spec_dir.clone()
    } else {
        cmd.target.clone()
    };
    let config = load_config(&spec_dir)?;
    let guards = Guards {
        max_changes: cmd.max_changes.or(config.max_changes),
        max_percent: cmd.max_percent.or(config.max_percent),
        allow_status_cuts: cmd.allow_status_cuts || config.allow_status_cuts,
        allow_irreversible: cmd.allow_irreversible || config.allow_irreversible,
    };
    let concurrency = cmd.concurrency.or(config.concurrency).unwrap_or(8).max(1);

    let plan = if is_plan_file {
        read_plan(&cmd.target)?
    } else {
        plan_directory(&cmd, &client, &guards, out).await?
    };

    let cancel = CancellationToken::new();
    let abort = CancellationToken::new();
    let signals = tokio::spawn(watch_signals(cancel.clone(), abort.clone()));
    let options = ApplyOptions {
        concurrency,
        job_timeout: cmd.job_timeout,
        guards,
        expect_checksum: cmd.expect_checksum.clone(),
        recheck: is_plan_file,
        progress: ProgressMode::detect(),
        abort,
        ..ApplyOptions::default()
    };
    let result = apply::apply(&plan, &client, options, cancel).await;
    signals.abort();
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    let report = result?;
    write_report(&report, cmd.format, out)?;
    outcome(&report)
}

/// The process outcome of a finished apply: failures are an error (exit 1), then interrupted
/// (130), then a guard (3).
pub fn outcome(report: &ApplyReport) -> Result<Outcome, Error> {
    if report.has_failures() {
        return Err(apply::ApplyError::NotConverged {
            failed: report.sims_failed,
        }
        .into());
    }
    Ok(match report.status {
        ApplyStatus::Interrupted => Outcome::Interrupted,
        ApplyStatus::StoppedByGuard => Outcome::Blocked,
        _ => Outcome::Success,
    })
}

fn write_report(report: &ApplyReport, format: ReportFormat, out: &mut dyn Write) -> Result<(), Error> {
    let text = match format {
        ReportFormat::Text => report.to_text(),
        ReportFormat::Json => {
            serde_json::to_string_pretty(report)
                .map_err(|e| Error::Usage(format!("cannot write the report as JSON: {e}")))?
                + "\n"
        }
    };
    out.write_all(text.as_bytes()).map_err(|source| Error::WriteFile {
        path: "stdout".into(),
        source,
    })
}

/// Builds the API client: the sandbox's URL with its test token, or `--endpoint` (default the
/// reference's) with the token from `WHEREVER_SIM_TOKEN` or `--token-file`.
pub fn connect(connection: &Connection, sandbox_url: Option<String>) -> Result<Client, Error> {
    let (endpoint, token) = match sandbox_url {
        Some(url) => (url, "sandbox".to_string()),
        None => {
            let token = match &connection.token_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| {
                        Error::Usage(format!("cannot read the token file {}: {e}", path.display()))
                    })?
                    .trim()
                    .to_string(),
                None => std::env::var(TOKEN_ENV).map_err(|_| {
                    Error::Usage(format!(
                        "no API token: set {TOKEN_ENV} or use --token-file (or --sandbox to try without one)"
                    ))
                })?,
            };
            (
                connection
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
                token,
            )
        }
    };
    Client::new(ClientConfig::new(endpoint, SecretString::from(token)))
        .map_err(|e| Error::Apply(apply::ApplyError::Client(e)))
}

/// `simfleet.yaml` of the spec directory, or the defaults when there is none.
fn load_config(spec_dir: &Path) -> Result<crate::spec::Config, Error> {
    let path = spec_dir.join(crate::spec::CONFIG_FILE);
    if !path.is_file() {
        return Ok(crate::spec::Config::default());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let config: Option<crate::spec::Config> = serde_saphyr::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(config.unwrap_or_default())
}

fn read_plan(path: &Path) -> Result<Plan, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the plan file {}: {e}", path.display())))?;
    Plan::from_file_json(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// Plans a spec directory, shows the plan and asks for confirmation.
async fn plan_directory(
    cmd: &ApplyCommand,
    client: &Client,
    guards: &Guards,
    out: &mut dyn Write,
) -> Result<Plan, Error> {
    let plan = super::plan_for_apply::plan_dir(&cmd.target, client, guards).await?;
    let shown = crate::render::text::render(&plan);
    let mut err = std::io::stderr();
    let _ = err.write_all(shown.as_bytes());
    if plan.changes.is_empty() {
        return Ok(plan);
    }
    if cmd.auto_approve {
        return Ok(plan);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "apply needs confirmation: run it on a terminal, or pass --auto-approve (or apply a reviewed plan file)".into(),
        ));
    }
    let _ = write!(err, "\nApply these changes? Only 'yes' is accepted: ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "yes" {
        let _ = writeln!(out, "Apply cancelled; nothing was changed.");
        return Err(Error::Usage("apply not confirmed".into()));
    }
    Ok(plan)
}

/// First signal → `cancel`, second → `abort`.
async fn watch_signals(cancel: CancellationToken, abort: CancellationToken) {
    if wait_signal().await.is_err() {
        return;
    }
    eprintln!("apply: interrupted; finishing what is in flight (interrupt again to cancel running batch jobs)");
    cancel.cancel();
    if wait_signal().await.is_err() {
        return;
    }
    eprintln!("apply: cancelling running batch jobs");
    abort.cancel();
}

#[cfg(unix)]
async fn wait_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}
