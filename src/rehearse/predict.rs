//! From what the rehearsed apply did to a prediction: calls per phase, failures by cause, the
//! end state against the plan, and the wall time the real API would take.
//!
//! The wall time is [`FORMULA`]: requests are paced by the rate ceiling, batch jobs run
//! `concurrency` at a time at the observed speed, and polls overlap the jobs they wait for.
//! Requests and jobs are added, not overlapped, so the figure leans long; network latency is
//! assumed hidden by the requests in flight.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::apply::{ApplyReport, ApplyStatus};
use crate::fleet::Sim;
use crate::plan::compare::live_value;
use crate::plan::{status_label, Action, Field, Plan};

use super::report::{
    EndState, FailureCause, PhaseCalls, PredictedFailure, TimePrediction, UnplannedChange,
};

/// The wall-time formula, as the report and the docs state it.
pub const FORMULA: &str = "T = (R - P) / r + sum over phases p of ceil(J_p / C) * L_p / v";
/// What the formula's terms are.
pub const FORMULA_TERMS: &str = "R = HTTP requests of the apply, P = getBatchJob polls among them, \
r = requests_per_second, J_p = batch jobs in phase p, C = concurrency, \
L_p = SIMs in the largest batch job of phase p, v = batch-job speed observed in the rehearsal (SIMs/s)";

/// The batch code of a forbidden status transition (the reference's code 4).
const FORBIDDEN_TRANSITION_CODE: i32 = 4;

/// Mutation calls per phase: batch jobs as apply reported them; updateSim calls as the plan's
/// updateSim actions of the phase that apply did not skip.
pub fn phase_calls(plan: &Plan, report: &ApplyReport) -> Vec<PhaseCalls> {
    let mut phases: BTreeMap<u8, PhaseCalls> = BTreeMap::new();
    for job in &report.batch_jobs {
        let p = phases.entry(job.phase).or_insert_with(|| PhaseCalls {
            phase: job.phase,
            ..PhaseCalls::default()
        });
        p.batch_jobs += 1;
        p.batch_sims += job.sims;
        p.largest_job = p.largest_job.max(job.sims);
    }
    let skipped: BTreeSet<&str> = report.skipped.iter().map(|s| s.iccid.as_str()).collect();
    for action in &plan.actions {
        if let Action::UpdateSim(u) = action {
            if skipped.contains(u.iccid.as_str()) {
                continue;
            }
            let p = phases.entry(u.phase).or_insert_with(|| PhaseCalls {
                phase: u.phase,
                ..PhaseCalls::default()
            });
            p.update_sim += 1;
        }
    }
    phases.into_values().collect()
}

/// Each failure apply reported, with its cause; a forbidden transition names the status change.
pub fn classify(plan: &Plan, report: &ApplyReport) -> Vec<PredictedFailure> {
    let status_changes: HashMap<&str, (i64, i64)> = plan
        .changes
        .iter()
        .filter_map(|c| {
            let f = c
                .fields()
                .find(|f| f.field == Field::Status && !f.implied)?;
            Some((c.iccid.as_str(), (f.from.as_i64()?, f.to.as_i64()?)))
        })
        .collect();
    report
        .failures
        .iter()
        .map(|f| {
            let forbidden = f.code == Some(FORBIDDEN_TRANSITION_CODE);
            let cause = if forbidden {
                FailureCause::ForbiddenTransition
            } else if f.reason.contains("another value was set during the apply") {
                FailureCause::Stale
            } else {
                FailureCause::Other
            };
            let detail = match status_changes.get(f.iccid.as_str()) {
                Some((from, to)) if forbidden => format!(
                    "status {} → {}: the transition table has no such row",
                    status_label(*from as i32),
                    status_label(*to as i32)
                ),
                _ => f.reason.clone(),
            };
            PredictedFailure {
                iccid: f.iccid.clone(),
                cause,
                field: f.field.clone(),
                detail,
            }
        })
        .collect()
}

/// SIMs per cause (a SIM counted once per cause).
pub fn by_cause(failures: &[PredictedFailure]) -> BTreeMap<FailureCause, u64> {
    let mut sims: BTreeMap<FailureCause, BTreeSet<&str>> = BTreeMap::new();
    for f in failures {
        sims.entry(f.cause).or_default().insert(&f.iccid);
    }
    sims.into_iter().map(|(c, s)| (c, s.len() as u64)).collect()
}

/// The end state against the plan: apply's verification, and every managed field that moved
/// between `before` and `after` without the plan listing it.
pub fn end_state(plan: &Plan, report: &ApplyReport, before: &[Sim], after: &[Sim]) -> EndState {
    let planned: BTreeSet<(&str, Field)> = plan
        .changes
        .iter()
        .flat_map(|c| c.fields().map(move |f| (c.iccid.as_str(), f.field)))
        .collect();
    let before: HashMap<&str, &Sim> = before.iter().map(|s| (s.iccid.as_str(), s)).collect();
    let mut unplanned = Vec::new();
    for sim in after {
        let Some(old) = before.get(sim.iccid.as_str()) else {
            continue;
        };
        for field in Field::ALL {
            if live_value(old, field) != live_value(sim, field)
                && !planned.contains(&(sim.iccid.as_str(), field))
            {
                unplanned.push(UnplannedChange {
                    iccid: sim.iccid.clone(),
                    field: field.name().to_string(),
                });
            }
        }
    }
    let verified = matches!(
        report.status,
        ApplyStatus::Converged | ApplyStatus::NothingToDo
    );
    EndState {
        planned_fields_hold: verified && report.sims_failed == 0,
        sims_converged: report.sims_changed + report.sims_already_set + report.sims_already_done,
        sims_pending: report.pending.len() as u64,
        unplanned_changes: unplanned,
    }
}

/// What the wall-time prediction is computed from.
#[derive(Debug, Clone)]
pub struct TimingInput<'a> {
    pub requests_per_second: u32,
    pub concurrency: usize,
    pub http_requests: u64,
    pub polls: u64,
    pub phases: &'a [PhaseCalls],
    /// `(SIMs, milliseconds from start to finish)` of each finished batch job.
    pub jobs: &'a [(u64, i64)],
}

/// The observed batch-job speed: SIMs over the jobs' summed durations.
pub fn batch_speed(jobs: &[(u64, i64)]) -> Option<f64> {
    let sims: u64 = jobs.iter().map(|(s, _)| s).sum();
    let ms: i64 = jobs.iter().map(|(_, ms)| (*ms).max(1)).sum();
    (sims > 0 && ms > 0).then(|| sims as f64 * 1000.0 / ms as f64)
}

/// [`FORMULA`] applied.
pub fn predict_time(input: &TimingInput<'_>) -> TimePrediction {
    let rate = f64::from(input.requests_per_second.max(1));
    let concurrency = input.concurrency.max(1) as u64;
    let speed = batch_speed(input.jobs);
    let requests = input.http_requests.saturating_sub(input.polls);
    let request_seconds = requests as f64 / rate;
    let batch_seconds = match speed {
        Some(v) => input
            .phases
            .iter()
            .map(|p| p.batch_jobs.div_ceil(concurrency) as f64 * p.largest_job as f64 / v)
            .sum(),
        None => 0.0,
    };
    TimePrediction {
        requests_per_second: input.requests_per_second,
        concurrency: input.concurrency,
        batch_sims_per_second: speed,
        requests,
        polls: input.polls,
        request_seconds,
        batch_seconds,
        predicted_seconds: request_seconds + batch_seconds,
        formula: format!("{FORMULA} ({FORMULA_TERMS})"),
    }
}
