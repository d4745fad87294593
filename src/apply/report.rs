//! `ApplyReport`: what an apply did, as plain data; `render::apply_report_text` writes it for
//! people, and its serde form is the JSON report.
//!
//! It is written whatever happened (converged, partly failed, interrupted, stopped by a guard),
//! so CI logs always say which SIMs changed, which failed and why (decoded error codes), which
//! batch jobs ran, and how many calls were made against the plan's count and lower bound. The
//! JSON form has a schema in `schema/apply-report.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StaleSim;
use crate::plan::{GuardResult, Plan};

/// The report format this build writes.
pub const APPLY_REPORT_FORMAT_VERSION: u32 = 1;

/// How the apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplyStatus {
    /// Every planned change holds (or is converging).
    Converged,
    /// The plan had nothing to change, or every SIM was already at its target.
    NothingToDo,
    /// Some SIMs failed or did not converge.
    Failed,
    /// Stopped by Ctrl-C / SIGTERM after what was in flight.
    Interrupted,
    /// A guard stopped the apply before the first call.
    StoppedByGuard,
    /// SIMs the plan changes changed since it was made (`stale` lists them): nothing was
    /// applied. Make a new plan.
    Stale,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyReport {
    pub format_version: u32,
    pub status: ApplyStatus,
    /// The checksum of the plan applied.
    pub plan_checksum: String,
    /// SIMs the plan changes.
    pub sims_planned: u64,
    /// SIMs a call of this run changed, verified (converging ones included).
    pub sims_changed: u64,
    /// SIMs verified at their target whose every answer in this run said the value was already
    /// set: someone else (another apply, a user) set it first.
    #[serde(default)]
    pub sims_already_set: u64,
    /// SIMs that were already at their target when the apply started (a resumed plan).
    pub sims_already_done: u64,
    /// SIMs that failed or did not converge.
    pub sims_failed: u64,
    /// SIMs whose changes were not attempted (interrupted, or a prerequisite failed).
    pub sims_skipped: u64,
    /// Blocked (SIM, field) changes in the plan, never attempted.
    pub blocked: u64,
    /// SIMs whose status is still in transition to the target (counted as changed).
    pub pending: Vec<String>,
    /// The SIMs counted in `sims_already_set`.
    #[serde(default)]
    pub already_set: Vec<String>,
    /// Every failure, by ICCID, with decoded reasons.
    pub failures: Vec<SimFailure>,
    /// SIMs not attempted, with why.
    pub skipped: Vec<SkippedSim>,
    /// Every batch job this run started or adopted.
    pub batch_jobs: Vec<BatchJobReport>,
    /// Guards that stopped the apply.
    pub guards: Vec<GuardResult>,
    pub calls: CallCounts,
    /// Wall time of the apply, milliseconds.
    pub wall_time_ms: u64,
    /// With status `stale`: every SIM that changed since the plan was made, and how.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<StaleSimReport>,
}

/// A SIM found changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaleSimReport {
    pub iccid: String,
    /// False when the SIM is no longer in the fleet (then `fields` is empty).
    pub in_fleet: bool,
    /// Each planned field now at neither its planned `from` nor its `to`.
    pub fields: Vec<StaleFieldReport>,
}

/// A planned field found at a third value (values as the API spells them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaleFieldReport {
    pub field: String,
    pub planned_from: Value,
    pub planned_to: Value,
    pub now: Value,
}

/// One SIM that did not reach its target, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimFailure {
    pub iccid: String,
    /// The spec field, when the reason concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The batch job failure code, when the API gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// The decoded code, the API's message, or what verification found.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job_id: Option<i64>,
    /// What the plan wanted, when verification found something else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// What verification read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<Value>,
}

/// A SIM whose changes were not attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkippedSim {
    pub iccid: String,
    pub reason: String,
}

/// A batch job and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchJobReport {
    pub id: i64,
    pub phase: u8,
    pub sims: u64,
    /// COMPLETED, FAILED, CANCELLED, or PREPARING/RUNNING when it timed out.
    pub status: String,
    pub successful_sims: u64,
    pub failed_sims: u64,
    /// COMPLETED with failed SIMs.
    pub partial: bool,
    /// Still PREPARING or RUNNING after `--job-timeout` (left running).
    pub timed_out: bool,
    /// Found with listBatchJobs after a start whose answer was lost, instead of started again.
    pub adopted: bool,
    /// cancelBatchJob was sent (second Ctrl-C / SIGTERM).
    pub cancel_requested: bool,
}

/// API calls, made versus planned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallCounts {
    /// Mutation calls the plan needs (`summary.api_calls`).
    pub planned: u64,
    /// The plan's independent lower bound on mutation calls (ARCHITECTURE.md).
    pub lower_bound: u64,
    /// Mutation calls made: startBatchJob + updateSim (+ cancelBatchJob), resends included.
    pub made: u64,
    pub start_batch_job: u64,
    pub update_sim: u64,
    pub cancel_batch_job: u64,
    /// HTTP requests of the whole apply (reads, polls and retries included).
    pub http_requests: u64,
}

impl ApplyReport {
    /// The report of an apply of `plan` before anything happened.
    pub fn empty(plan: &Plan) -> ApplyReport {
        ApplyReport {
            format_version: APPLY_REPORT_FORMAT_VERSION,
            status: ApplyStatus::NothingToDo,
            plan_checksum: plan.checksum.clone(),
            sims_planned: plan.changes.len() as u64,
            sims_changed: 0,
            sims_already_set: 0,
            sims_already_done: 0,
            sims_failed: 0,
            sims_skipped: 0,
            blocked: plan.summary.blocked,
            pending: Vec::new(),
            already_set: Vec::new(),
            failures: Vec::new(),
            skipped: Vec::new(),
            batch_jobs: Vec::new(),
            guards: Vec::new(),
            calls: CallCounts {
                planned: plan.summary.api_calls,
                lower_bound: plan.summary.lower_bound,
                ..CallCounts::default()
            },
            wall_time_ms: 0,
            stale: Vec::new(),
        }
    }

    /// The report of an apply of `plan` refused as stale: nothing was applied.
    pub fn stale(plan: &Plan, sims: &[StaleSim]) -> ApplyReport {
        let mut report = ApplyReport::empty(plan);
        report.status = ApplyStatus::Stale;
        report.stale = sims
            .iter()
            .map(|sim| StaleSimReport {
                iccid: sim.iccid.clone(),
                in_fleet: sim.fields.iter().all(|f| f.now.is_some()),
                fields: sim
                    .fields
                    .iter()
                    .filter_map(|f| {
                        Some(StaleFieldReport {
                            field: f.field.clone(),
                            planned_from: f.planned_from.to_json(),
                            planned_to: f.planned_to.to_json(),
                            now: f.now.as_ref()?.to_json(),
                        })
                    })
                    .collect(),
            })
            .collect();
        report
    }

    /// True when some SIM failed or did not converge.
    pub fn has_failures(&self) -> bool {
        self.sims_failed > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_file_is_current() {
        let schema = schemars::schema_for!(ApplyReport);
        let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/apply-report.schema.json"
        );
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(path, &text).unwrap_or_else(|e| panic!("write {path}: {e}"));
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            current, text,
            "schema/apply-report.schema.json is stale: run `UPDATE_SCHEMAS=1 cargo test --lib apply::report`"
        );
    }
}
