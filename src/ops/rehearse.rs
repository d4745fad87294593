//! `simfleet rehearse PLANFILE`: the real apply of a saved plan, run against an embedded
//! sandbox loaded with the plan's SIMs, never against the real API.
//!
//! Steps: load the plan; take the current state of its SIMs (and the status transition
//! table) from the API (reads of exactly those SIMs, by ICCID, and of the table: nothing else
//! is sent there), from `--live SNAPSHOT`, or from the plan's own "from" values
//! (`--from-plan`); start a sandbox on 127.0.0.1:0 with that state; run [`apply::apply`] on it
//! with the command's settings (guards, concurrency, job timeout), so phases, batching,
//! polling, the stale re-read and verification are apply's own; then turn what happened into
//! a [`Rehearsal`] (`rehearse::predict`) and print it.

use std::path::PathBuf;
use std::time::Instant;

use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::api::{self, Client, ClientConfig};
use crate::apply::{self, ApplyError, ApplyOptions, ApplyReport, ApplyStatus, ProgressMode};
use crate::fleet::{Sim, Snapshot};
use crate::output::Output;
use crate::plan::Plan;
use crate::rehearse::{
    self, Rehearsal, RehearsedCalls, Seed, StateSource, TableSource, TimingInput, Verdict,
};
use crate::render::{self, RehearsalOptions};
use crate::sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use crate::settings::Settings;
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection, SANDBOX_TOKEN};
use super::plan::load_plan_file;

/// Where the plan's SIMs' current state comes from.
#[derive(Debug, Clone)]
pub enum RehearseSource {
    /// Read from the API: only the plan's SIMs, and the transition table.
    Api(ConnectOptions),
    /// `--live SNAPSHOT`: no network.
    Snapshot(PathBuf),
    /// `--from-plan`: the plan's "from" values; no network.
    Plan,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RehearsalFormat {
    Text,
    /// For a pull-request comment (appendable below the plan).
    Markdown,
    Json,
}

/// The `rehearse` command's options.
#[derive(Debug, Clone)]
pub struct RehearseCommand {
    pub plan: PathBuf,
    pub source: RehearseSource,
    /// `--spec DIR` as given: its spec digest must be the plan's (none: not compared).
    pub spec: Option<PathBuf>,
    /// Guards, concurrency, job timeout, request rate and the environment, merged once.
    pub settings: Settings,
    /// The sandbox's batch-job speed, SIMs per second.
    pub batch_rate: f64,
    pub format: RehearsalFormat,
    pub verbose: bool,
    /// `--end-state FILE`: the sandbox's fleet after the rehearsed apply, as a snapshot.
    pub end_state: Option<PathBuf>,
    /// `--expect-checksum`: the rehearsed apply refuses another plan, as the real one would.
    pub expect_checksum: Option<String>,
}

/// Runs `rehearse`: the report on stdout, notes on stderr. Exit 0 when the rehearsal
/// converges, 3 when a guard or a deny check stops it, 1 (an error after the report) when it
/// does not converge or the plan is stale.
pub async fn run(cmd: RehearseCommand, out: &mut Output) -> Result<Outcome, Error> {
    if let Some(path) = &cmd.end_state {
        crate::output::check_target(path)?;
    }
    let started = Instant::now();
    let plan = load_plan_file(&cmd.plan)?;
    // `--spec DIR`: a plan made from another spec is refused before anything is read, as
    // `apply` refuses it.
    let given = super::apply::given_spec(cmd.spec.as_deref())?;
    apply::check_spec_digest(&plan, given.as_ref())?;
    let (seed, state_source, table_source, notes) = load_state(&plan, &cmd).await?;
    for note in notes {
        out.note(&note)?;
    }
    let (mut rehearsal, end) = rehearse(&plan, seed, state_source, table_source, &cmd).await?;
    rehearsal.rehearsal_ms = started.elapsed().as_millis() as u64;
    if let (Some(path), Some(end)) = (&cmd.end_state, &end) {
        let bytes = serde_json::to_vec(end).map_err(|source| Error::Json {
            what: "the end state",
            source,
        })?;
        crate::output::write_file(path, &bytes)?;
    }
    print(&rehearsal, &cmd, out)?;
    outcome(&rehearsal)
}

/// The exit: converges → 0, stopped by a guard → 3, anything else → an error (exit 1).
pub fn outcome(rehearsal: &Rehearsal) -> Result<Outcome, Error> {
    match rehearsal.verdict {
        Verdict::Converges => Ok(Outcome::Success),
        Verdict::StoppedByGuard => Ok(Outcome::Blocked),
        Verdict::Stale | Verdict::DoesNotConverge => {
            Err(rehearse::RehearseError::DoesNotConverge {
                verdict: rehearsal.verdict,
                failed: rehearsal.failures_by_cause.values().sum(),
            }
            .into())
        }
    }
}

fn print(rehearsal: &Rehearsal, cmd: &RehearseCommand, out: &mut Output) -> Result<(), Error> {
    let view = RehearsalOptions {
        verbose: cmd.verbose,
        mask: cmd.settings.env.mask,
    };
    match cmd.format {
        RehearsalFormat::Text => out.print(&render::rehearsal_text(rehearsal, view)),
        RehearsalFormat::Markdown => out.print(&render::rehearsal_markdown(rehearsal, view)),
        RehearsalFormat::Json => {
            let text = serde_json::to_string_pretty(rehearsal).map_err(|source| Error::Json {
                what: "the rehearsal",
                source,
            })?;
            out.print_json(&(text + "\n"))
        }
    }
}

type Loaded = (Seed, StateSource, TableSource, Vec<String>);

/// The plan's SIMs and the transition table, from the chosen source.
async fn load_state(plan: &Plan, cmd: &RehearseCommand) -> Result<Loaded, Error> {
    Ok(match &cmd.source {
        RehearseSource::Plan => (
            rehearse::seed_from_plan(plan, None),
            StateSource::Plan,
            TableSource::SandboxDefault,
            vec!["rehearse: the plan's SIMs at their planned \"from\" values; the sandbox's default transition table (a plan carries none)".to_string()],
        ),
        RehearseSource::Snapshot(path) => {
            let snapshot = Snapshot::load(path)?;
            let table = if snapshot.transitions.is_some() {
                TableSource::Snapshot
            } else {
                TableSource::SandboxDefault
            };
            let seed = rehearse::seed_from_sims(plan, snapshot.sims, snapshot.transitions);
            (seed, StateSource::Snapshot, table, Vec::new())
        }
        RehearseSource::Api(connect) => read_live(plan, connect, &cmd.settings).await?,
    })
}

/// Reads the plan's SIMs (by ICCID, nothing else) and the transition table from the API.
async fn read_live(
    plan: &Plan,
    connect: &ConnectOptions,
    settings: &Settings,
) -> Result<Loaded, Error> {
    let mut notes = Vec::new();
    let mut connect = connect.clone();
    connect.requests_per_second = settings.requests_per_second;
    let connection = Connection::open(&connect, &mut notes).await?;
    let iccids = rehearse::plan_iccids(plan);
    let read = async {
        let sims = if iccids.is_empty() {
            Vec::new()
        } else {
            apply::read_sims(&connection.client, iccids.iter(), settings.concurrency)
                .await?
                .sims
        };
        let table = connection.client.status_transitions().await?;
        Ok::<_, api::ApiError>((sims, table))
    }
    .await;
    let requests = connection.client.requests_sent();
    connection.close().await;
    let (sims, table) = read?;
    notes.push(format!(
        "rehearse: read {} of the plan's {} SIMs and the transition table from the API ({requests} requests, reads only)",
        sims.len(),
        iccids.len()
    ));
    let seed = rehearse::seed_from_sims(plan, sims, Some(table));
    Ok((seed, StateSource::Api, TableSource::Api, notes))
}

/// Starts the sandbox with `seed`, runs the real apply on it, and builds the report.
async fn rehearse(
    plan: &Plan,
    seed: Seed,
    state_source: StateSource,
    table_source: TableSource,
    cmd: &RehearseCommand,
) -> Result<(Rehearsal, Option<Snapshot>), Error> {
    let before: Vec<Sim> = seed.snapshot.sims.clone();
    let sims_loaded = before.len() as u64;
    let sandbox = Sandbox::start(
        SandboxConfig {
            batch_rate: cmd.batch_rate,
            ..SandboxConfig::default()
        },
        seed.snapshot,
    )
    .await?;
    let result = run_apply(plan, &sandbox, cmd).await;
    let (per_operation, http_requests) = sandbox.operations();
    let jobs = sandbox.finished_jobs();
    let end = sandbox.state();
    sandbox.shutdown().await;
    let report = match result {
        Ok(report) => report,
        Err(ApplyError::Stale(stale)) => {
            let value = |field, v: &_| render::spec_value(field, v, false);
            let failures = Rehearsal::stale_failures(&stale, &value);
            let mut r = base(plan, state_source, table_source, sims_loaded, &seed.missing);
            r.verdict = Verdict::Stale;
            r.failures_by_cause = rehearse::by_cause(&failures);
            r.failures = failures;
            r.calls = calls(plan, None, per_operation, http_requests);
            r.time = time(&r.calls, &jobs, &cmd.settings);
            return Ok((r, end));
        }
        Err(e) => return Err(e.into()),
    };
    let mut r = base(plan, state_source, table_source, sims_loaded, &seed.missing);
    r.calls = calls(plan, Some(&report), per_operation, http_requests);
    r.time = time(&r.calls, &jobs, &cmd.settings);
    let after = end.as_ref().map(|s| s.sims.as_slice()).unwrap_or_default();
    r.end_state = rehearse::end_state(plan, &report, &before, after);
    r.failures = rehearse::classify(plan, &report);
    r.failures_by_cause = rehearse::by_cause(&r.failures);
    r.verdict = if report.status == ApplyStatus::StoppedByGuard {
        r.guards = report.guards.clone();
        Verdict::StoppedByGuard
    } else if r.end_state.planned_fields_hold
        && r.failures.is_empty()
        && r.end_state.unplanned_changes.is_empty()
    {
        Verdict::Converges
    } else {
        Verdict::DoesNotConverge
    };
    r.apply = Some(report);
    Ok((r, end))
}

/// The real apply, against the sandbox: a saved plan's re-read, the running-job check, the
/// phases and verification, with this command's settings. No rate ceiling: the sandbox is
/// local, and the real rate enters the time prediction instead.
async fn run_apply(
    plan: &Plan,
    sandbox: &RunningSandbox,
    cmd: &RehearseCommand,
) -> Result<ApplyReport, ApplyError> {
    let settings = &cmd.settings;
    let mut config = ClientConfig::new(sandbox.url(), SecretString::from(SANDBOX_TOKEN));
    config.rate_per_second = None;
    let client = Client::new(config).map_err(ApplyError::Client)?;
    let options = ApplyOptions {
        concurrency: settings.concurrency,
        job_timeout: settings.job_timeout,
        guards: settings.guards.clone(),
        expect_checksum: cmd.expect_checksum.clone(),
        recheck: true,
        progress: if settings.env.progress_bar() {
            ProgressMode::Bar
        } else {
            ProgressMode::Off
        },
        ..ApplyOptions::default()
    };
    apply::apply(plan, &client, options, CancellationToken::new()).await
}

fn base(
    plan: &Plan,
    state_source: StateSource,
    table_source: TableSource,
    sims_loaded: u64,
    missing: &[String],
) -> Rehearsal {
    Rehearsal {
        format_version: rehearse::REHEARSAL_FORMAT_VERSION,
        verdict: Verdict::Converges,
        plan_checksum: plan.checksum.clone(),
        state_source,
        table_source,
        sims_loaded,
        sims_missing: missing.len() as u64,
        calls: RehearsedCalls::default(),
        failures_by_cause: Default::default(),
        failures: Vec::new(),
        end_state: Default::default(),
        time: Default::default(),
        guards: Vec::new(),
        apply: None,
        rehearsal_ms: 0,
    }
}

fn calls(
    plan: &Plan,
    report: Option<&ApplyReport>,
    per_operation: std::collections::BTreeMap<String, u64>,
    http_requests: u64,
) -> RehearsedCalls {
    let phases = report
        .map(|r| rehearse::phase_calls(plan, r))
        .unwrap_or_default();
    RehearsedCalls {
        mutations: report.map_or(0, |r| r.calls.made),
        phases,
        planned: plan.summary.api_calls,
        lower_bound: plan.summary.lower_bound,
        per_operation,
        http_requests,
    }
}

fn time(
    calls: &RehearsedCalls,
    jobs: &[(u64, i64)],
    settings: &Settings,
) -> rehearse::TimePrediction {
    rehearse::predict_time(&TimingInput {
        requests_per_second: settings
            .requests_per_second
            .unwrap_or(api::DEFAULT_RATE_PER_SECOND),
        concurrency: settings.concurrency,
        http_requests: calls.http_requests,
        polls: calls.per_operation.get("getBatchJob").copied().unwrap_or(0),
        phases: &calls.phases,
        jobs,
    })
}
