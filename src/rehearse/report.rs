//! `Rehearsal`: what a rehearsed apply did and predicts, as plain data. Its serde form is the
//! `--format json` output; `render::rehearsal` writes text and markdown from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::apply::{ApplyReport, StaleSim};
use crate::plan::{Field, FieldValue, GuardResult};

/// The report format this build writes.
pub const REHEARSAL_FORMAT_VERSION: u32 = 1;

/// What the real apply is predicted to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every planned change holds afterwards (or the plan has nothing to do).
    Converges,
    /// Some SIMs fail or do not reach their planned values; the rest are changed.
    DoesNotConverge,
    /// SIMs left their planned "from" values: apply refuses the plan before its first call.
    Stale,
    /// A guard or a `deny` check stops the apply before its first call.
    StoppedByGuard,
}

/// Where the SIMs' current state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateSource {
    /// Read from the API (only the plan's SIMs, by ICCID).
    Api,
    /// A snapshot file (`--live`).
    Snapshot,
    /// The plan's own "from" values (`--from-plan`).
    Plan,
}

/// Where the sandbox's status transition table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableSource {
    Api,
    Snapshot,
    /// The sandbox's default table: the source carries none (a plan never does).
    SandboxDefault,
}

/// Why a SIM is predicted to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// The transition table has no row for the planned status change (batch code 4).
    ForbiddenTransition,
    /// A field is at neither its planned "from" nor its "to": the SIM changed since the plan.
    Stale,
    /// Anything else apply reported (another batch code, an updateSim error, not converged).
    Other,
}

/// One SIM predicted to fail, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictedFailure {
    pub iccid: String,
    pub cause: FailureCause,
    /// The spec field, when the cause concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What apply (or the re-read) reported, in words.
    pub detail: String,
}

/// The calls of one phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseCalls {
    pub phase: u8,
    /// `startBatchJob` calls (batch jobs started).
    pub batch_jobs: u64,
    /// SIMs in those jobs.
    pub batch_sims: u64,
    /// SIMs in the largest job of the phase.
    pub largest_job: u64,
    /// `updateSim` calls sent in the phase.
    pub update_sim: u64,
}

/// Calls of the rehearsed apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RehearsedCalls {
    /// Mutation calls per phase, phases in order.
    pub phases: Vec<PhaseCalls>,
    /// Mutation calls in total (startBatchJob + updateSim + cancelBatchJob).
    pub mutations: u64,
    /// The plan's own count, and its lower bound.
    pub planned: u64,
    pub lower_bound: u64,
    /// Every request the sandbox answered, per GraphQL root field (reads and polls included).
    pub per_operation: BTreeMap<String, u64>,
    /// HTTP requests in total.
    pub http_requests: u64,
}

/// A field the rehearsed apply changed that the plan does not list (should never happen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnplannedChange {
    pub iccid: String,
    pub field: String,
}

/// The end state, checked against the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndState {
    /// apply's own verification: every planned field holds (re-planning finds nothing left).
    pub planned_fields_hold: bool,
    /// SIMs verified at their planned values, and those still moving to their status.
    pub sims_converged: u64,
    pub sims_pending: u64,
    /// Managed fields that changed without being planned (implied changes excepted).
    pub unplanned_changes: Vec<UnplannedChange>,
}

/// The predicted wall time of the real apply (see [`super::FORMULA`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePrediction {
    /// `requests_per_second` of the settings (flag > simfleet.yaml > default).
    pub requests_per_second: u32,
    /// Batch jobs and updateSim calls in flight at once.
    pub concurrency: usize,
    /// The batch-job speed observed in the rehearsal, SIMs per second (`None`: no batch job).
    pub batch_sims_per_second: Option<f64>,
    /// HTTP requests that are not `getBatchJob` polls (polls overlap the jobs they wait for).
    pub requests: u64,
    pub polls: u64,
    /// `requests / requests_per_second`.
    pub request_seconds: f64,
    /// Σ over phases of ⌈jobs / concurrency⌉ × largest job / speed.
    pub batch_seconds: f64,
    pub predicted_seconds: f64,
    pub formula: String,
}

/// The whole rehearsal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rehearsal {
    pub format_version: u32,
    pub verdict: Verdict,
    pub plan_checksum: String,
    pub state_source: StateSource,
    pub table_source: TableSource,
    /// Plan SIMs loaded into the sandbox.
    pub sims_loaded: u64,
    /// Plan SIMs the live source does not have (the real apply finds them gone: stale).
    pub sims_missing: u64,
    pub calls: RehearsedCalls,
    /// SIMs per cause.
    pub failures_by_cause: BTreeMap<FailureCause, u64>,
    /// Every predicted failure, by ICCID.
    pub failures: Vec<PredictedFailure>,
    pub end_state: EndState,
    pub time: TimePrediction,
    /// Guards and deny checks that stop the apply.
    pub guards: Vec<GuardResult>,
    /// The rehearsed apply's own report (absent when it refused a stale plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply: Option<ApplyReport>,
    /// How long the rehearsal took, milliseconds.
    pub rehearsal_ms: u64,
}

impl Rehearsal {
    /// Stale SIMs as the failures of a refused plan; `value` writes a field's value for people
    /// (the spec's units).
    pub fn stale_failures(
        stale: &[StaleSim],
        value: &dyn Fn(Field, &FieldValue) -> String,
    ) -> Vec<PredictedFailure> {
        let mut out = Vec::new();
        for sim in stale {
            for f in &sim.fields {
                let shown = |v: &FieldValue| match Field::from_name(&f.field) {
                    Some(field) => value(field, v),
                    None => v.to_string(),
                };
                let detail = match &f.now {
                    Some(now) => format!(
                        "{} planned from {} to {}, now {}",
                        f.field,
                        shown(&f.planned_from),
                        shown(&f.planned_to),
                        shown(now)
                    ),
                    None => "no longer in the fleet".to_string(),
                };
                out.push(PredictedFailure {
                    iccid: sim.iccid.clone(),
                    cause: FailureCause::Stale,
                    field: f.now.as_ref().map(|_| f.field.clone()),
                    detail,
                });
            }
        }
        out
    }
}
