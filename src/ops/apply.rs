//! `simfleet apply`: load (or make) a plan, connect, apply it with signals wired to the
//! cancellation tokens, and print the report.
//!
//! A path that is a file is a saved plan: it is applied after re-reading the SIMs it touches. A
//! directory is a spec: it is planned first, the plan is shown, and a terminal asks for `yes`
//! (without a terminal `--auto-approve` is required). Guards, concurrency and the request rate
//! come merged in the command's [`Settings`] (flags > `simfleet.yaml` > defaults, the config
//! read from the spec directory, or from `--spec` for a plan file). The first Ctrl-C / SIGTERM
//! stops starting new work; the second also cancels running batch jobs.

use std::io::BufRead;
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::apply::{self, ApplyOptions, ApplyReport, ApplyStatus, ProgressMode};
use crate::output::Output;
use crate::plan::Plan;
use crate::render::ApplyReportOptions;
use crate::settings::Settings;
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection};
use super::plan::{
    load_plan_file, make_plan, plan_text, LiveSource, PlanFormat, PlanOptions, RenderOptions,
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
    pub auto_approve: bool,
    pub expect_checksum: Option<String>,
    pub format: ReportFormat,
    /// How to reach the API; the request rate is taken from `settings`.
    pub connect: ConnectOptions,
    /// Guards, concurrency, job timeout, request rate and the environment, merged once.
    pub settings: Settings,
    /// `-v`: the text report lists every SIM, not the largest groups.
    pub verbose: bool,
    /// `--allow-concurrent`: apply even when another run's batch jobs are changing these SIMs.
    pub allow_concurrent: bool,
    /// `--spec DIR` as given for a plan file: the plan must have been made from DIR's spec.
    pub spec: Option<PathBuf>,
}

/// Runs `apply`; the report goes to stdout, the plan (for a directory), prompts and progress to
/// stderr.
pub async fn run(cmd: ApplyCommand, out: &mut Output) -> Result<Outcome, Error> {
    let settings = &cmd.settings;
    if !cmd.target.exists() {
        return Err(apply::ApplyError::NoTarget(cmd.target.clone()).into());
    }
    let is_plan_file = cmd.target.is_file();
    let mut connect = cmd.connect.clone();
    connect.requests_per_second = settings.requests_per_second;
    // Held until this function returns: one apply per endpoint on this machine at a time
    // (`--allow-concurrent` allows concurrent applies, so it takes no lock).
    let _lock = connect
        .api_endpoint()
        .filter(|_| !cmd.allow_concurrent)
        .map(|endpoint| super::apply_lock::ApplyLock::acquire(&endpoint))
        .transpose()?;

    let (plan, given_spec) = if is_plan_file {
        (
            load_plan_file(&cmd.target)?,
            given_spec(cmd.spec.as_deref())?,
        )
    } else {
        (plan_directory(&cmd, &connect, out).await?, None)
    };

    let mut notes = Vec::new();
    let connection = Connection::open(&connect, &mut notes).await?;
    for note in notes {
        out.note(&note)?;
    }
    let cancel = CancellationToken::new();
    let abort = CancellationToken::new();
    let signals = tokio::spawn(watch_signals(cancel.clone(), abort.clone()));
    let options = ApplyOptions {
        concurrency: settings.concurrency,
        job_timeout: settings.job_timeout,
        guards: settings.guards.clone(),
        expect_checksum: cmd.expect_checksum.clone(),
        recheck: is_plan_file,
        progress: if settings.env.progress_bar() {
            ProgressMode::Bar
        } else if settings.env.quiet {
            ProgressMode::Off
        } else {
            ProgressMode::Lines
        },
        abort,
        allow_concurrent: cmd.allow_concurrent,
        given_spec,
        ..ApplyOptions::default()
    };
    let result = apply::apply(&plan, &connection.client, options, cancel).await;
    signals.abort();
    connection.close().await;
    let view = ApplyReportOptions {
        verbose: cmd.verbose,
        mask: settings.env.mask,
    };
    let report = match result {
        Err(apply::ApplyError::Stale(sims)) => {
            // JSON readers get the report too (status `stale`, the SIMs); the error stays.
            if cmd.format == ReportFormat::Json {
                let report = ApplyReport::stale(&plan, &sims);
                out.print_json(&render_report(&report, cmd.format, view)?)?;
            }
            return Err(Error::StalePlan {
                listed: crate::render::stale_text(&sims, view),
                count: sims.len(),
            });
        }
        other => other?,
    };
    let text = render_report(&report, cmd.format, view)?;
    match cmd.format {
        ReportFormat::Json => out.print_json(&text)?,
        ReportFormat::Text => out.print(&text)?,
    }
    outcome(&report)
}

/// `--spec DIR` with a plan file: DIR's spec loaded (and checked, as `plan` would) for its
/// digest, which the preflight compares with the plan's.
pub(super) fn given_spec(dir: Option<&std::path::Path>) -> Result<Option<apply::GivenSpec>, Error> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let loaded = crate::spec::load(dir)?;
    Ok(Some(apply::GivenSpec {
        dir: dir.to_path_buf(),
        digest: loaded.spec.digest(),
    }))
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

/// The report as text or JSON; `view.mask` hides identifiers but their last 4 digits (batch job
/// ids and counts stay readable); the text lists every SIM with `view.verbose`, JSON always.
pub fn render_report(
    report: &ApplyReport,
    format: ReportFormat,
    view: ApplyReportOptions,
) -> Result<String, Error> {
    let json_error = |source: serde_json::Error| Error::Json {
        what: "the apply report",
        source,
    };
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

/// Plans a spec directory, shows the plan and asks for confirmation.
async fn plan_directory(
    cmd: &ApplyCommand,
    connect: &ConnectOptions,
    out: &mut Output,
) -> Result<Plan, Error> {
    let settings = &cmd.settings;
    let made = make_plan(&PlanOptions {
        dir: cmd.target.clone(),
        source: LiveSource::Api(connect.clone()),
        target: None,
        guards: settings.guards.clone(),
        concurrency: settings.concurrency,
        progress: settings.env.progress_bar(),
        why_drift: None,
        today: settings.today,
        last_applied: None,
    })
    .await?;
    for note in &made.notes {
        out.note(note)?;
    }
    let plan = made.plan;
    // The plan goes to stderr: stdout carries the apply report (JSON with --format json).
    let shown = plan_text(
        &plan,
        &RenderOptions {
            format: PlanFormat::Text,
            verbose: false,
            mask: settings.env.mask,
            color: settings.env.stderr_color,
            out: None,
            links: None,
        },
    );
    let asks = !plan.changes.is_empty() && !cmd.auto_approve;
    if asks {
        // Shown even with --quiet: nobody confirms a plan they have not seen.
        out.tell(&shown)?;
    } else {
        out.note(&shown)?;
    }
    if !asks {
        return Ok(plan);
    }
    if !settings.env.stdin_terminal {
        return Err(Error::NeedsConfirmation);
    }
    out.tell("\nApply these changes? Only 'yes' is accepted: ")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::ReadAnswer)?;
    if answer.trim() != "yes" {
        return Err(Error::NotConfirmed);
    }
    Ok(plan)
}

/// First signal → `cancel`, second → `abort`.
async fn watch_signals(cancel: CancellationToken, abort: CancellationToken) {
    if wait_signal().await.is_err() {
        return;
    }
    // Not through `Output` (it belongs to the command's task): a side line, masked like it.
    crate::output::side_line(
        "apply: interrupted; finishing what is in flight (interrupt again to cancel running batch jobs)",
    );
    cancel.cancel();
    if wait_signal().await.is_err() {
        return;
    }
    crate::output::side_line("apply: cancelling running batch jobs");
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
