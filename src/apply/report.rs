//! `ApplyReport`: what an apply did, as plain data for the text and JSON renderings.
//!
//! It is written whatever happened (converged, partly failed, interrupted, stopped by a guard),
//! so CI logs always say which SIMs changed, which failed and why (decoded error codes), which
//! batch jobs ran, and how many calls were made against the plan's count and lower bound. The
//! JSON form has a schema in `schema/apply-report.schema.json`.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::GuardResult;

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
    /// SIMs changed by this run and verified (converging ones included).
    pub sims_changed: u64,
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
    /// True when some SIM failed or did not converge.
    pub fn has_failures(&self) -> bool {
        self.sims_failed > 0
    }

    /// The report for humans.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        match self.status {
            ApplyStatus::StoppedByGuard => {
                let _ = writeln!(w, "Apply stopped before the first call by a guard:");
                for g in self.guards.iter().filter(|g| g.stops) {
                    let _ = writeln!(w, "  - {}", g.message);
                }
                return out;
            }
            ApplyStatus::NothingToDo if self.sims_planned == 0 => {
                let _ = writeln!(w, "No changes: the plan has nothing to apply.");
                return out;
            }
            _ => {}
        }
        let _ = writeln!(
            w,
            "Apply {}: {} SIMs planned, {} changed, {} already done, {} failed, {} skipped.",
            match self.status {
                ApplyStatus::Converged | ApplyStatus::NothingToDo => "complete",
                ApplyStatus::Failed => "incomplete",
                ApplyStatus::Interrupted => "interrupted",
                ApplyStatus::StoppedByGuard => "stopped",
            },
            self.sims_planned,
            self.sims_changed,
            self.sims_already_done,
            self.sims_failed,
            self.sims_skipped,
        );
        if !self.pending.is_empty() {
            let _ = writeln!(
                w,
                "{} SIMs are still moving to their new status (converging).",
                self.pending.len()
            );
        }
        if self.blocked > 0 {
            let _ = writeln!(
                w,
                "{} blocked change(s) in the plan were not attempted.",
                self.blocked
            );
        }
        if !self.failures.is_empty() {
            let _ = writeln!(w, "\nFailed:");
            for f in &self.failures {
                let _ = write!(w, "  {}", f.iccid);
                if let Some(field) = &f.field {
                    let _ = write!(w, " {field}");
                }
                if let Some(code) = f.code {
                    let _ = write!(w, " (code {code})");
                }
                let _ = write!(w, ": {}", f.reason);
                if let Some(id) = f.batch_job_id {
                    let _ = write!(w, " [batch job {id}]");
                }
                let _ = writeln!(w);
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(w, "\nNot attempted:");
            for s in &self.skipped {
                let _ = writeln!(w, "  {}: {}", s.iccid, s.reason);
            }
        }
        if !self.batch_jobs.is_empty() {
            let _ = writeln!(w, "\nBatch jobs:");
            for j in &self.batch_jobs {
                let mut notes = Vec::new();
                if j.partial {
                    notes.push("partial".to_string());
                }
                if j.timed_out {
                    notes.push("timed out, left running".to_string());
                }
                if j.adopted {
                    notes.push("adopted after a lost answer".to_string());
                }
                if j.cancel_requested {
                    notes.push("cancel requested".to_string());
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                };
                let _ = writeln!(
                    w,
                    "  {} phase {}: {} {} SIMs, {} successful, {} failed{notes}",
                    j.id, j.phase, j.status, j.sims, j.successful_sims, j.failed_sims
                );
            }
        }
        let c = &self.calls;
        let _ = writeln!(
            w,
            "\nAPI calls: {} mutation calls made ({} startBatchJob, {} updateSim, {} cancelBatchJob) vs {} planned, lower bound {}; {} HTTP requests in all; {:.1}s.",
            c.made,
            c.start_batch_job,
            c.update_sim,
            c.cancel_batch_job,
            c.planned,
            c.lower_bound,
            c.http_requests,
            self.wall_time_ms as f64 / 1000.0
        );
        if self.status == ApplyStatus::Interrupted {
            let _ = writeln!(
                w,
                "Interrupted: run the same apply (or plan file) again to finish; it converges."
            );
        }
        out
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
