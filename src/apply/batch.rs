//! One include-list batch job: start it (without ever starting it twice), poll it until it
//! finishes or times out, and decode what it did to each SIM.
//!
//! `startBatchJob` is not idempotent. When its answer is lost (`ApiError::OutcomeUnknown`) the
//! job may or may not exist, so it is looked up with `listBatchJobs`: a job with the same
//! changes and the same `totalSims`, started since shortly before the call, that this run does
//! not already know. Exactly one → adopt it; none → send again (within
//! [`retry::START_SENDS`]); several → ambiguous: the action stops and its SIMs are left to
//! verification (running apply again, the report's one remedy, re-reads them first). Starts are
//! serialised by [`Run::start_lock`] so every earlier job of this run is known by then.

use std::collections::HashSet;
use std::time::Instant;

use crate::api::{
    describe_batch_error, is_already_set, ApiError, BatchJob, BatchJobParams,
    BatchJobSimDetailStatus, BatchJobStatus,
};

use super::{now_ms, retry, BatchJobReport, Run, SimFailure};

/// `listBatchJobs` pages read when looking for a job whose start answer was lost.
const LOOKUP_PAGES: u32 = 5;

/// How a start ended.
enum Started {
    Sent(i64),
    Adopted(i64),
}

/// The spec field a batch error code is about (the code's hundreds).
pub(crate) fn code_field(code: i32) -> Option<&'static str> {
    Some(match code / 100 {
        0 => "status",
        1 => "custom_field_1",
        2 => "monthly_data_limit",
        3 => "monthly_sms_mo_limit",
        4 => "monthly_sms_mt_limit",
        5 => "monthly_voice_mo_limit",
        6 => "end_customer_label",
        7 => "imei_lock",
        _ => return None,
    })
}

pub(crate) async fn run_batch(run: &Run<'_>, phase: u8, params: BatchJobParams) {
    let iccids = params.include_iccids().to_vec();
    let sims = iccids.len() as u64;
    run.ledger(|l| l.attempted.extend(iccids.iter().cloned()));
    let (id, adopted) = match start(run, &params).await {
        Ok(Started::Sent(id)) => (id, false),
        Ok(Started::Adopted(id)) => (id, true),
        Err(StartFailure::Refused(reason)) => {
            run.ledger(|l| l.fail_all(&iccids, &reason, None));
            run.progress.advance(sims);
            return;
        }
        Err(StartFailure::Unknown(reason)) => {
            run.ledger(|l| {
                for iccid in &iccids {
                    l.uncertain.insert(iccid.clone(), reason.clone());
                }
            });
            run.progress
                .note(&format!("apply: phase {phase}: {reason}"));
            run.progress.advance(sims);
            return;
        }
    };
    run.ledger(|l| {
        l.jobs.push(BatchJobReport {
            id,
            phase,
            sims,
            status: "PREPARING".into(),
            successful_sims: 0,
            failed_sims: 0,
            partial: false,
            timed_out: false,
            adopted,
            cancel_requested: false,
        })
    });

    let finished = poll(run, id, &iccids).await;
    let Some(job) = finished else {
        return;
    };
    run.ledger(|l| {
        if let Some(r) = l.job_mut(id) {
            r.status = status_name(job.status).into();
            r.successful_sims = job.successful_sims.max(0) as u64;
            r.failed_sims = job.failed_sims.max(0) as u64;
            r.partial = job.status == BatchJobStatus::Completed && job.failed_sims > 0;
        }
    });
    let cancelled = job.status == BatchJobStatus::Cancelled;
    if cancelled {
        // Which SIMs the job reached before it stopped is for verification to find out; the
        // others were not attempted (they are not failures: a re-run does them).
        run.ledger(|l| {
            for iccid in &iccids {
                l.skipped.entry(iccid.clone()).or_insert_with(|| {
                    format!("batch job {id} was cancelled before it reached this SIM")
                });
            }
        });
    }
    read_details(run, id, &iccids, cancelled).await;
}

enum StartFailure {
    /// The API refused the job: it certainly does not exist.
    Refused(String),
    /// It may or may not exist.
    Unknown(String),
}

async fn start(run: &Run<'_>, params: &BatchJobParams) -> Result<Started, StartFailure> {
    let _one_at_a_time = run.start_lock.lock().await;
    let known: HashSet<i64> = run.ledger(|l| l.jobs.iter().map(|j| j.id).collect());
    let mut last = String::new();
    for sent in 1..=retry::START_SENDS {
        let sent_at = now_ms();
        run.ledger(|l| l.start_batch_job += 1);
        let cause = match run.client.start_batch_job(params).await {
            Ok(id) => return Ok(Started::Sent(id)),
            Err(ApiError::OutcomeUnknown { cause, .. }) => *cause,
            // Not sent, or certainly not started: sending again is safe.
            Err(e) if retry::transient(&e) => {
                last = e.to_string();
                tokio::time::sleep(retry::pause(sent)).await;
                continue;
            }
            Err(e) => return Err(StartFailure::Refused(e.to_string())),
        };
        last = cause.to_string();
        match settle_lost_start(run, params, &known, sent_at).await {
            Ok(LostStart::Adopt(id)) => return Ok(Started::Adopted(id)),
            Ok(LostStart::NotStarted) => tokio::time::sleep(retry::pause(sent)).await,
            Ok(LostStart::Ambiguous(ids)) => {
                return Err(StartFailure::Unknown(format!(
                    "startBatchJob answer lost; {} matching jobs are listed ({}), so which one is this run's cannot be told",
                    ids.len(),
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                )))
            }
            Err(e) => {
                return Err(StartFailure::Unknown(format!(
                    "startBatchJob answer lost and listing batch jobs failed {} times ({e})",
                    retry::LOOKUP_TRIES
                )))
            }
        }
    }
    Err(StartFailure::Unknown(format!(
        "startBatchJob was not started after {} sends (last: {last})",
        retry::START_SENDS
    )))
}

/// Looks up the job a start whose answer was lost may have created (see [`resolve_lost_start`]).
async fn settle_lost_start(
    run: &Run<'_>,
    params: &BatchJobParams,
    known: &HashSet<i64>,
    sent_at: i64,
) -> Result<LostStart, ApiError> {
    let since = sent_at - run.opts.lookup_window.as_millis() as i64;
    let found = retry::again(retry::LOOKUP_TRIES, || {
        run.client.find_batch_jobs(params, since, LOOKUP_PAGES)
    })
    .await?;
    Ok(resolve_lost_start(&found, known))
}

/// What a lost `startBatchJob` answer turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LostStart {
    /// Exactly one matching job this run does not know yet: it is ours.
    Adopt(i64),
    /// No such job: the start did not take effect, so it may be sent again.
    NotStarted,
    /// Several candidates: which one is ours cannot be told.
    Ambiguous(Vec<i64>),
}

/// Decides from the jobs `find_batch_jobs` listed (same changes, same size, recent) which one,
/// if any, a lost start created; jobs this run already started or adopted are not candidates.
pub(crate) fn resolve_lost_start(found: &[BatchJob], known: &HashSet<i64>) -> LostStart {
    let candidates: Vec<i64> = found
        .iter()
        .map(|job| job.id)
        .filter(|id| !known.contains(id))
        .collect();
    match candidates[..] {
        [] => LostStart::NotStarted,
        [id] => LostStart::Adopt(id),
        _ => LostStart::Ambiguous(candidates),
    }
}

fn status_name(status: BatchJobStatus) -> &'static str {
    match status {
        BatchJobStatus::Preparing => "PREPARING",
        BatchJobStatus::Running => "RUNNING",
        BatchJobStatus::Cancelled => "CANCELLED",
        BatchJobStatus::Failed => "FAILED",
        BatchJobStatus::Completed => "COMPLETED",
    }
}

/// Polls with growing delays until the job finishes (`Some`), or times out or cannot be read
/// (`None`, its SIMs left to verification).
async fn poll(run: &Run<'_>, id: i64, iccids: &[String]) -> Option<BatchJob> {
    let sims = iccids.len() as u64;
    let started = Instant::now();
    let mut delay = run.opts.poll_min;
    let mut reported = 0u64;
    let mut failures = 0u32;
    let mut cancel_sent = false;
    loop {
        match run.client.get_batch_job(id).await {
            Ok(job) => {
                failures = 0;
                let progressed = (job.successful_sims.max(0) + job.failed_sims.max(0)) as u64;
                let progressed = if job.status.is_finished() {
                    sims
                } else {
                    progressed.min(sims)
                };
                run.progress.advance(progressed.saturating_sub(reported));
                reported = reported.max(progressed);
                run.ledger(|l| {
                    if let Some(r) = l.job_mut(id) {
                        r.status = status_name(job.status).into();
                    }
                });
                if job.status.is_finished() {
                    return Some(job);
                }
            }
            Err(e) => {
                failures += 1;
                if failures >= retry::POLL_FAILURES {
                    give_up(
                        run,
                        iccids,
                        sims - reported,
                        &format!("polling batch job {id} failed: {e}"),
                    );
                    return None;
                }
            }
        }
        if started.elapsed() >= run.opts.job_timeout {
            run.ledger(|l| {
                if let Some(r) = l.job_mut(id) {
                    r.timed_out = true;
                }
            });
            give_up(
                run,
                iccids,
                sims - reported,
                &format!(
                    "batch job {id} still not finished after {} (--job-timeout); it was left running",
                    humantime::format_duration(run.opts.job_timeout)
                ),
            );
            return None;
        }
        if run.opts.abort.is_cancelled() && !cancel_sent {
            cancel_sent = true;
            run.ledger(|l| {
                l.cancel_batch_job += 1;
                if let Some(r) = l.job_mut(id) {
                    r.cancel_requested = true;
                }
            });
            if let Err(e) = run.client.cancel_batch_job(id).await {
                run.progress
                    .note(&format!("apply: cancelBatchJob {id} failed: {e}"));
            }
            delay = run.opts.poll_min;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = run.opts.abort.cancelled(), if !cancel_sent => {}
        }
        delay = (delay + delay / 2).min(run.opts.poll_max);
    }
}

/// Leaves a job's SIMs to verification, remembering why their outcome is unknown.
fn give_up(run: &Run<'_>, iccids: &[String], remaining: u64, reason: &str) {
    run.progress.note(&format!("apply: {reason}"));
    run.progress.advance(remaining);
    run.ledger(|l| {
        for iccid in iccids {
            l.uncertain.insert(iccid.clone(), reason.to_string());
        }
    });
}

/// Reads the FAILED and SKIPPED SIMs of a finished job (every page) and records the ones that
/// did not converge, with decoded codes. "Already set" codes count as converged.
async fn read_details(run: &Run<'_>, id: i64, iccids: &[String], cancelled: bool) {
    let statuses = [
        BatchJobSimDetailStatus::Failed,
        BatchJobSimDetailStatus::Skipped,
    ];
    let results = match retry::again(retry::READ_TRIES, || {
        run.client.batch_job_results(id, &statuses)
    })
    .await
    {
        Ok(results) => results,
        Err(e) => {
            run.progress.note(&format!(
                "apply: reading the results of batch job {id} failed ({e}); verification decides"
            ));
            return;
        }
    };
    // Every target the job did not list as FAILED or SKIPPED was changed by this job.
    let not_changed: HashSet<&str> = results.iter().map(|r| r.iccid.as_str()).collect();
    run.ledger(|l| {
        l.changed.extend(
            iccids
                .iter()
                .filter(|i| !not_changed.contains(i.as_str()))
                .cloned(),
        );
        for sim in &results {
            let real: Vec<i32> = sim
                .error_codes
                .iter()
                .copied()
                .filter(|c| !is_already_set(*c))
                .collect();
            if real.is_empty() && !sim.error_codes.is_empty() {
                // Skipped because every value was already set: by someone else, not this run.
                l.already_set.insert(sim.iccid.clone());
                continue;
            }
            // A cancelled job skips the SIMs it had not reached yet, without a code.
            if real.is_empty() && cancelled && sim.status == BatchJobSimDetailStatus::Skipped {
                continue;
            }
            if real.is_empty() {
                l.fail(SimFailure {
                    iccid: sim.iccid.clone(),
                    field: None,
                    code: None,
                    reason: format!(
                        "{} by batch job without an error code",
                        if sim.status == BatchJobSimDetailStatus::Skipped {
                            "skipped"
                        } else {
                            "failed"
                        }
                    ),
                    batch_job_id: Some(id),
                    expected: None,
                    found: None,
                });
            }
            for code in real {
                l.fail(SimFailure {
                    iccid: sim.iccid.clone(),
                    field: code_field(code).map(str::to_string),
                    code: Some(code),
                    reason: describe_batch_error(code).to_string(),
                    batch_job_id: Some(id),
                    expected: None,
                    found: None,
                });
            }
        }
    });
}
