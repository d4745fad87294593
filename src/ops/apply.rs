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

use tokio_util::sync::CancellationToken;

use crate::apply::{self, ApplyOptions, ApplyReport, ApplyStatus, ProgressMode};
use crate::plan::{Guards, Plan};
use crate::render::ApplyReportOptions;
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection};
use super::plan::{
    load_plan_file, make_plan, print_plan, LiveSource, PlanFormat, PlanOptions, RenderOptions,
};

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
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
    pub connect: ConnectOptions,
    /// `--mask`: identifiers in the shown plan and the report keep only their last 4 digits.
    pub mask: bool,
    /// `-v`: the text report lists every SIM, not the largest groups.
    pub verbose: bool,
    /// `--allow-concurrent`: apply even when another run's batch jobs are changing these SIMs.
    pub allow_concurrent: bool,
}

/// Runs `apply`; the report goes to `out`, the plan (for a directory), prompts and progress to
/// stderr.
pub async fn run(cmd: ApplyCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    apply_async(cmd, out).await
}

async fn apply_async(cmd: ApplyCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut err = std::io::stderr();
    if !cmd.target.exists() {
        return Err(apply::ApplyError::NoTarget(cmd.target.clone()).into());
    }
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
    let mut connect = cmd.connect.clone();
    if connect.requests_per_second.is_none() {
        connect.requests_per_second = config.requests_per_second;
    }

    let plan = if is_plan_file {
        load_plan_file(&cmd.target)?
    } else {
        plan_directory(&cmd, &connect, &guards, concurrency).await?
    };

    let mut notes = Vec::new();
    let connection = Connection::open(&connect, &mut notes).await?;
    for note in notes {
        let _ = writeln!(err, "{note}");
    }
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
        allow_concurrent: cmd.allow_concurrent,
        ..ApplyOptions::default()
    };
    let result = apply::apply(&plan, &connection.client, options, cancel).await;
    signals.abort();
    connection.close().await;
    let view = ApplyReportOptions {
        verbose: cmd.verbose,
        mask: cmd.mask,
    };
    if let Err(apply::ApplyError::Stale(sims)) = &result {
        let _ = write!(err, "{}", crate::render::stale_text(sims, view));
    }
    let report = result?;
    write_report(&report, cmd.format, view, out)?;
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

fn write_report(
    report: &ApplyReport,
    format: ReportFormat,
    view: ApplyReportOptions,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let text = render_report(report, format, view)?;
    out.write_all(text.as_bytes())
        .map_err(|source| Error::WriteFile {
            path: "stdout".into(),
            source,
        })
}

/// The report as text or JSON; `view.mask` hides identifiers but their last 4 digits (batch job
/// ids and counts stay readable); the text lists every SIM with `view.verbose`, JSON always.
pub fn render_report(
    report: &ApplyReport,
    format: ReportFormat,
    view: ApplyReportOptions,
) -> Result<String, Error> {
    let json_error =
        |e: serde_json::Error| Error::Usage(format!("cannot write the report as JSON: {e}"));
    Ok(match (format, view.mask) {
        (ReportFormat::Text, _) => crate::render::apply_report_text(report, view),
        (ReportFormat::Json, false) => {
            serde_json::to_string_pretty(report).map_err(json_error)? + "\n"
        }
        (ReportFormat::Json, true) => {
            let mut value = serde_json::to_value(report).map_err(json_error)?;
            crate::render::mask_json(&mut value);
            serde_json::to_string_pretty(&value).map_err(json_error)? + "\n"
        }
    })
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

/// Plans a spec directory, shows the plan and asks for confirmation.
async fn plan_directory(
    cmd: &ApplyCommand,
    connect: &ConnectOptions,
    guards: &Guards,
    concurrency: usize,
) -> Result<Plan, Error> {
    let made = make_plan(&PlanOptions {
        dir: cmd.target.clone(),
        source: LiveSource::Api(connect.clone()),
        target: None,
        concurrency,
        allow_status_cuts: guards.allow_status_cuts,
        allow_irreversible: guards.allow_irreversible,
        max_changes: guards.max_changes,
        max_percent: guards.max_percent,
        progress: super::plan::interactive_progress(),
    })
    .await?;
    let mut err = std::io::stderr();
    for note in &made.notes {
        let _ = writeln!(err, "{note}");
    }
    let plan = made.plan;
    // The plan goes to stderr: stdout carries the apply report (JSON with --format json).
    print_plan(
        &plan,
        &RenderOptions {
            format: PlanFormat::Text,
            verbose: false,
            mask: cmd.mask,
            out: None,
        },
        &mut err,
    );
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
        return Err(Error::Usage(
            "apply not confirmed; nothing was changed".into(),
        ));
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
