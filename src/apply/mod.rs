//! `apply`: turn a plan into API calls, safely, and prove the fleet converged.
//!
//! Order of work, each step a file: `preflight` (checksum, guards with apply's own flags, and
//! for a saved plan a re-read of the touched SIMs, judged by [`recheck`]: stale → nothing
//! applied, already at target → done, so an interrupted apply resumes), `concurrent` (another
//! run's batch jobs at work on these SIMs → nothing applied, unless allowed), execution in the
//! plan's phases (`batch` jobs and `update` calls, bounded in flight; a SIM whose phase-0/1
//! change failed or is uncertain is left out of its phase-2 activation; the steps of multi-step
//! status paths run first, one round each, and `steps` checks each before the next), then `verify`
//! (re-read what was touched and check every planned field). How often each step is tried is
//! stated once, in [`retry`]. Everything that happened is written into a `Ledger` and ends up
//! in the [`ApplyReport`], whose counters say whose work it was: "changed" only when a call of
//! this run changed the SIM, "already set" when someone else set it first. Depends on `plan`
//! and `api`; never on the sandbox, nor on `render` (the report's text lives there).
//!
//! Interruption: the first cancel (Ctrl-C / SIGTERM) stops starting new actions and waits for
//! those in flight; [`ApplyOptions::abort`] (the second signal) also sends `cancelBatchJob` for
//! jobs still running. Either way the report says what was done; running again converges.

mod batch;
mod concurrent;
mod preflight;
mod progress;
pub mod recheck;
mod report;
pub mod retry;
mod steps;
mod update;
mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiError, Client};
use crate::plan::{Action, Guards, Plan};

pub use concurrent::RunningJob;
/// Reads SIMs by ICCID, as the re-read and verification do (`rehearse` reads live state so).
pub(crate) use preflight::read_sims;
pub use preflight::{check_spec_digest, GivenSpec, StaleField, StaleSim};
pub use progress::{ProgressMode, LINE_INTERVAL};
pub use report::{
    ApplyReport, ApplyStatus, BatchJobReport, CallCounts, SimFailure, SkippedSim, StaleFieldReport,
    StaleSimReport, APPLY_REPORT_FORMAT_VERSION,
};

use progress::Progress;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Actions (batch jobs and updateSim calls) in flight at once.
    pub concurrency: usize,
    /// A batch job still PREPARING or RUNNING after this long is reported (and left running).
    pub job_timeout: Duration,
    /// First delay between two `getBatchJob` polls; it grows by half each poll…
    pub poll_min: Duration,
    /// …up to this.
    pub poll_max: Duration,
    /// Guards with the flags and `simfleet.yaml` settings of this run.
    pub guards: Guards,
    /// Refuse a plan whose checksum is not this one (`--expect-checksum`).
    pub expect_checksum: Option<String>,
    /// Re-read the touched SIMs before applying (a saved plan); `false` trusts a plan just made.
    pub recheck: bool,
    pub progress: ProgressMode,
    /// Cancelled by the second signal: send `cancelBatchJob` for running jobs.
    pub abort: CancellationToken,
    /// How far back (before it was sent) a batch job found after a lost `startBatchJob` answer
    /// may have started to count as that start.
    pub lookup_window: Duration,
    /// `--allow-concurrent`: apply even when another run's batch jobs are changing these SIMs.
    pub allow_concurrent: bool,
    /// `--spec DIR` given with a plan file: refuse the plan unless it was made from DIR's spec.
    pub given_spec: Option<GivenSpec>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 8,
            job_timeout: Duration::from_secs(30 * 60),
            poll_min: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
            guards: Guards::default(),
            expect_checksum: None,
            recheck: true,
            progress: ProgressMode::Off,
            abort: CancellationToken::new(),
            lookup_window: Duration::from_secs(120),
            allow_concurrent: false,
            given_spec: None,
        }
    }
}

/// Why an apply made no calls, or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no such plan file or spec directory: {}", .0.display())]
    NoTarget(std::path::PathBuf),
    #[error("plan checksum {actual} is not the approved {expected} (--expect-checksum): the plan changed after review; nothing was applied")]
    Checksum { expected: String, actual: String },
    #[error("the spec changed since this plan was made: {} now has digest {now}, the plan was made from {planned}, so nothing was applied. Re-plan with `simfleet plan {} --out PLANFILE`, review it, and apply that", .dir.display(), .dir.display())]
    SpecChanged {
        dir: std::path::PathBuf,
        now: String,
        planned: String,
    },
    #[error("the plan is stale: {} SIM(s) changed since it was made, so nothing was applied. Make a new plan", .0.len())]
    Stale(Vec<StaleSim>),
    #[error("another apply is at work on this plan's SIMs, so nothing was applied: {}. Wait for it to finish and make a new plan, or pass --allow-concurrent to apply anyway", running_list(.0))]
    Concurrent(Vec<RunningJob>),
    #[error("looking for other applies' running batch jobs failed, nothing was applied: {0}")]
    ConcurrentCheck(#[source] ApiError),
    #[error("re-reading the SIMs the plan touches failed, nothing was applied: {0}")]
    Recheck(#[source] ApiError),
    #[error("cannot set up the API client: {0}")]
    Client(#[source] ApiError),
    #[error("another apply is running against this endpoint on this machine{holder}: it holds the lock {}. Wait for it to finish (then make a new plan if it changed these SIMs), or pass --allow-concurrent to apply anyway; nothing was applied", .path.display())]
    Locked {
        path: std::path::PathBuf,
        holder: String,
    },
    #[error("cannot take the apply lock {}: {source}; nothing was applied", .path.display())]
    LockFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("apply did not converge: {failed} SIM(s) failed or did not reach their planned values (see the report above); fix the cause and run apply again")]
    NotConverged { failed: u64 },
}

/// Running jobs listed in the error; the rest are counted.
const JOBS_SHOWN: usize = 5;

fn running_list(jobs: &[RunningJob]) -> String {
    let mut shown: Vec<String> = jobs
        .iter()
        .take(JOBS_SHOWN)
        .map(|j| j.to_string())
        .collect();
    if jobs.len() > JOBS_SHOWN {
        shown.push(format!("and {} more jobs", jobs.len() - JOBS_SHOWN));
    }
    shown.join("; ")
}

/// What happened so far, shared by the actions in flight.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Per ICCID, everything that went wrong.
    failures: BTreeMap<String, Vec<SimFailure>>,
    /// SIMs whose outcome is not known (timed-out or cancelled job, ambiguous start): decided by
    /// verification, and never activated in phase 2.
    uncertain: BTreeMap<String, String>,
    /// SIMs at least one call was sent for (verification re-reads them).
    attempted: BTreeSet<String>,
    /// SIMs a call of this run changed (a batch job listed them as done, or updateSim answered).
    changed: BTreeSet<String>,
    /// SIMs a batch job of this run skipped because every value was already set (by someone
    /// else: another apply, a user, the API itself).
    already_set: BTreeSet<String>,
    skipped: BTreeMap<String, String>,
    jobs: Vec<BatchJobReport>,
    start_batch_job: u64,
    update_sim: u64,
    cancel_batch_job: u64,
}

impl Ledger {
    fn fail(&mut self, failure: SimFailure) {
        self.failures
            .entry(failure.iccid.clone())
            .or_default()
            .push(failure);
    }

    fn fail_all(&mut self, iccids: &[String], reason: &str, batch_job_id: Option<i64>) {
        for iccid in iccids {
            self.fail(SimFailure {
                iccid: iccid.clone(),
                field: None,
                code: None,
                reason: reason.to_string(),
                batch_job_id,
                expected: None,
                found: None,
            });
        }
    }

    fn job_mut(&mut self, id: i64) -> Option<&mut BatchJobReport> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }
}

/// What one run shares between its actions.
pub(crate) struct Run<'a> {
    client: &'a Client,
    opts: &'a ApplyOptions,
    cancel: &'a CancellationToken,
    ledger: Mutex<Ledger>,
    progress: Progress,
    /// startBatchJob calls are made one at a time, so that when an answer is lost every other
    /// job this run started is already known and the lookup can tell them apart.
    start_lock: tokio::sync::Mutex<()>,
}

impl Run<'_> {
    fn ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> R {
        match self.ledger.lock() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// One action as it will be sent: the plan's action minus the SIMs already done or excluded.
#[derive(Debug, Clone)]
enum Work {
    Batch {
        phase: u8,
        params: api::BatchJobParams,
        /// The status it sets, if any (what a status-path step must reach).
        statusid: Option<i32>,
    },
    Update(api::UpdateSimArgs),
}

impl Work {
    fn iccids(&self) -> Vec<String> {
        match self {
            Work::Batch { params, .. } => params.include_iccids().to_vec(),
            Work::Update(args) => vec![args.iccid.clone()],
        }
    }
}

/// Applies `plan` through `client`; see the module documentation. Errors mean nothing was
/// applied (checksum, staleness, re-read failure); failures during execution are in the report.
pub async fn apply(
    plan: &Plan,
    client: &Client,
    opts: ApplyOptions,
    cancel: CancellationToken,
) -> Result<ApplyReport, ApplyError> {
    let started = Instant::now();
    let requests_before = client.requests_sent();
    preflight::check_checksum(plan, opts.expect_checksum.as_deref())?;
    preflight::check_spec_digest(plan, opts.given_spec.as_ref())?;
    let mut report = ApplyReport::empty(plan);
    let stops = preflight::stopping_guards(plan, &opts.guards);
    if !stops.is_empty() {
        report.status = ApplyStatus::StoppedByGuard;
        report.guards = stops;
        return Ok(report);
    }

    let resume = if opts.recheck && !plan.changes.is_empty() {
        preflight::recheck(plan, client, opts.concurrency).await?
    } else {
        preflight::Resume::default()
    };
    let done = &resume.done;
    report.sims_already_done = done.len() as u64;
    if !opts.allow_concurrent {
        refuse_concurrent(plan, client, done).await?;
    }

    let run = Run {
        client,
        opts: &opts,
        cancel: &cancel,
        ledger: Mutex::new(Ledger::default()),
        progress: Progress::new(opts.progress),
        start_lock: tokio::sync::Mutex::new(()),
    };
    execute(plan, &run, &resume).await;
    run.progress.finish();

    let ledger = run
        .ledger
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let verified = verify::verify(plan, client, &ledger, opts.concurrency).await;
    record(&mut report, &ledger, verified, cancel.is_cancelled());
    report.calls.http_requests = client.requests_sent().saturating_sub(requests_before);
    report.wall_time_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Stops before the first call when another run's batch jobs are changing SIMs still to do.
async fn refuse_concurrent(
    plan: &Plan,
    client: &Client,
    done: &BTreeSet<String>,
) -> Result<(), ApplyError> {
    let todo: BTreeSet<String> = plan
        .changes
        .iter()
        .map(|c| &c.iccid)
        .filter(|i| !done.contains(*i))
        .cloned()
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    let running = concurrent::running_jobs(client, &todo)
        .await
        .map_err(ApplyError::ConcurrentCheck)?;
    if running.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Concurrent(running))
    }
}

/// Writes what the ledger and verification found into the report. A converged SIM counts as
/// changed when a call of this run changed it; when every answer this run got for it said the
/// value was already set, someone else set it first and it counts as already set.
fn record(report: &mut ApplyReport, ledger: &Ledger, verified: verify::Verified, cancelled: bool) {
    report.calls.start_batch_job = ledger.start_batch_job;
    report.calls.update_sim = ledger.update_sim;
    report.calls.cancel_batch_job = ledger.cancel_batch_job;
    report.calls.made = ledger.start_batch_job + ledger.update_sim + ledger.cancel_batch_job;
    report.batch_jobs = ledger.jobs.clone();
    report.batch_jobs.sort_by_key(|j| (j.phase, j.id));
    let failed: BTreeSet<&str> = verified.failures.iter().map(|f| f.iccid.as_str()).collect();
    // A SIM is counted once: a failed one is under failures (with why its later change was not
    // sent), a converged one under changed.
    report.skipped = ledger
        .skipped
        .iter()
        .filter(|(iccid, _)| {
            !verified.converged.contains(*iccid) && !failed.contains(iccid.as_str())
        })
        .map(|(iccid, reason)| SkippedSim {
            iccid: iccid.clone(),
            reason: reason.clone(),
        })
        .collect();
    report.sims_skipped = report.skipped.len() as u64;
    report.already_set = verified
        .converged
        .iter()
        .filter(|i| ledger.already_set.contains(*i) && !ledger.changed.contains(*i))
        .cloned()
        .collect();
    report.sims_already_set = report.already_set.len() as u64;
    report.sims_changed = verified.converged.len() as u64 - report.sims_already_set;
    report.pending = verified.pending;
    report.failures = verified.failures;
    report.sims_failed = report
        .failures
        .iter()
        .map(|f| f.iccid.as_str())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    report.status = if cancelled {
        ApplyStatus::Interrupted
    } else if report.sims_failed > 0 {
        ApplyStatus::Failed
    } else if report.sims_changed + report.sims_already_set > 0 {
        ApplyStatus::Converged
    } else {
        ApplyStatus::NothingToDo
    };
}

/// A round of calls run together: a phase, and within phase 0 the lead-in steps of status
/// paths (`steps_after` > 0, highest first) before its other calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Round {
    phase: u8,
    steps_after: std::cmp::Reverse<u8>,
}

impl Round {
    fn of(action: &Action) -> Round {
        Round {
            phase: action.phase(),
            steps_after: std::cmp::Reverse(action.steps_after()),
        }
    }
}

/// True when `iccid`'s part of `action` is a lead-in step a resumed apply already made.
fn step_made(action: &Action, iccid: &str, resume: &preflight::Resume) -> bool {
    action.steps_after() > 0
        && resume
            .steps_left
            .get(iccid)
            .is_some_and(|left| action.steps_after() >= *left)
}

/// Runs the plan's actions round by round: phase 0's status-path steps, each verified
/// ([`steps::settle`]) before the next, then phases 0, 1 and 2. The progress total is every SIM
/// action still to do, known up front; an action never sent counts as "not attempted", never as
/// done.
async fn execute(plan: &Plan, run: &Run<'_>, resume: &preflight::Resume) {
    let done = &resume.done;
    let mut total = 0u64;
    let mut sims: foldhash::HashSet<&str> = foldhash::HashSet::default();
    for (_, i) in plan
        .actions
        .iter()
        .flat_map(|a| a.iccids().iter().map(move |i| (a, i)))
        .filter(|(a, i)| !done.contains(*i) && !step_made(a, i, resume))
    {
        total += 1;
        sims.insert(i.as_str());
    }
    run.progress.add_total(total);
    run.progress.add_sims(sims.len() as u64);
    let mut rounds: BTreeSet<Round> = plan.actions.iter().map(Round::of).collect();
    rounds.extend((0u8..=2).map(|phase| Round {
        phase,
        steps_after: std::cmp::Reverse(0),
    }));
    // SIMs whose status path stopped at a step: no later status step is sent for them. A
    // resumed SIM still moving to the status of its last step made is waited for first.
    let mut path_stopped: BTreeMap<String, String> = BTreeMap::new();
    if !resume.settling.is_empty() {
        let stopped = steps::settle(run, resume.settling.clone()).await;
        record_stopped(run, &stopped);
        path_stopped.extend(stopped);
    }
    for round in rounds {
        let mut excluded = if round.phase == 1 {
            BTreeMap::new()
        } else {
            path_stopped.clone()
        };
        if round.phase == 2 {
            for (iccid, why) in not_to_activate(run) {
                excluded.entry(iccid).or_insert(why);
            }
        }
        let work = phase_work(plan, round, run, resume, &excluded);
        let expected = step_targets(&work);
        stream::iter(work)
            .map(|w| run_work(run, w))
            .buffer_unordered(run.opts.concurrency.max(1))
            .collect::<Vec<()>>()
            .await;
        if round.steps_after.0 > 0 && !run.cancel.is_cancelled() {
            // A step whose call failed is not read again: it stops there.
            let (failed, expected): (BTreeMap<_, _>, BTreeMap<_, _>) = run.ledger(|l| {
                expected
                    .into_iter()
                    .partition(|(iccid, _)| l.failures.contains_key(iccid))
            });
            path_stopped.extend(failed.into_keys().map(|iccid| {
                (
                    iccid,
                    "later status steps not sent: a step of its status path failed".to_string(),
                )
            }));
            let stopped = steps::settle(run, expected).await;
            record_stopped(run, &stopped);
            path_stopped.extend(stopped);
        }
    }
}

/// SIMs whose status path stopped at a step are failures of this run (the report says why).
fn record_stopped(run: &Run<'_>, stopped: &BTreeMap<String, String>) {
    run.ledger(|l| {
        for (iccid, reason) in stopped {
            l.attempted.insert(iccid.clone());
            l.fail(SimFailure {
                iccid: iccid.clone(),
                field: Some("status".into()),
                code: None,
                reason: reason.clone(),
                batch_job_id: None,
                expected: None,
                found: None,
            });
        }
    });
}

/// The status each SIM of a round's calls is sent to (what its step must reach).
fn step_targets(work: &[Work]) -> BTreeMap<String, i32> {
    let mut out = BTreeMap::new();
    for w in work {
        let status = match w {
            Work::Batch { statusid, .. } => *statusid,
            Work::Update(args) => args.changes.statusid,
        };
        if let Some(status) = status {
            for iccid in w.iccids() {
                out.insert(iccid, status);
            }
        }
    }
    out
}

/// An activation only follows limits and locks that succeeded: a SIM whose earlier change
/// failed, or whose outcome is unknown, is not activated.
fn not_to_activate(run: &Run<'_>) -> BTreeMap<String, String> {
    run.ledger(|l| {
        let mut out: BTreeMap<String, String> = l
            .failures
            .keys()
            .map(|i| {
                (
                    i.clone(),
                    "not activated: an earlier change of this SIM failed".to_string(),
                )
            })
            .collect();
        for (iccid, why) in &l.uncertain {
            out.entry(iccid.clone()).or_insert_with(|| {
                format!("not activated: the outcome of an earlier change is unknown ({why})")
            });
        }
        out
    })
}

/// The calls of one round, each restricted to the SIMs not done, not past this step of their
/// status path, and not excluded.
fn phase_work(
    plan: &Plan,
    round: Round,
    run: &Run<'_>,
    resume: &preflight::Resume,
    excluded: &BTreeMap<String, String>,
) -> Vec<Work> {
    let mut work = Vec::new();
    for action in plan.actions.iter().filter(|a| Round::of(a) == round) {
        let mut keep = Vec::new();
        for iccid in action
            .iccids()
            .iter()
            .filter(|i| !resume.done.contains(*i) && !step_made(action, i, resume))
        {
            match excluded.get(iccid) {
                Some(why) => {
                    run.ledger(|l| l.skipped.insert(iccid.clone(), why.clone()));
                    run.progress.skip(1);
                }
                None => keep.push(iccid.clone()),
            }
        }
        // A batch include list that lost every SIM is not sent: an empty list would select
        // the whole fleet.
        if keep.is_empty() {
            continue;
        }
        let sims = keep.len() as u64;
        match to_work(action, keep) {
            Ok(w) => work.push(w),
            Err(e) => {
                run.ledger(|l| l.fail_all(action.iccids(), &e.to_string(), None));
                run.progress.advance(sims);
            }
        }
    }
    work
}

async fn run_work(run: &Run<'_>, work: Work) {
    if run.cancel.is_cancelled() {
        let iccids = work.iccids();
        run.ledger(|l| {
            for iccid in &iccids {
                l.skipped
                    .entry(iccid.clone())
                    .or_insert_with(|| "interrupted before its change was sent".to_string());
            }
        });
        run.progress.skip(iccids.len() as u64);
        return;
    }
    match work {
        Work::Batch { phase, params, .. } => batch::run_batch(run, phase, params).await,
        Work::Update(args) => update::run_update(run, args).await,
    }
}

/// The client call for a plan action restricted to `iccids`: the plan's changes are what the
/// client sends.
fn to_work(action: &Action, iccids: Vec<String>) -> Result<Work, ApiError> {
    Ok(match action {
        Action::BatchJob(b) => Work::Batch {
            phase: b.phase,
            params: api::BatchJobParams::new(iccids, b.changes.clone())?,
            statusid: b.changes.statusid,
        },
        Action::UpdateSim(u) => Work::Update(api::UpdateSimArgs {
            iccid: u.iccid.clone(),
            changes: u.changes.clone(),
        }),
    })
}

/// Milliseconds since the Unix epoch (the API's timestamps).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
