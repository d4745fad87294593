//! The plan: compare what the spec wants with the live fleet, decide every field of every
//! managed SIM, and group the changes into the calls `apply` will make.
//!
//! This stage is pure: a validated spec and live SIMs in, one [`Plan`] out, no I/O. The stages
//! inside it, in order (see ARCHITECTURE.md for the whole pipeline):
//! - [`engine`]: the one way in, for a snapshot's bytes, a fleet in memory, or pages of SIMs;
//! - `pass`: resolves each SIM against the spec and collects what is wrong fleet-wide;
//! - `decide`: decides each field of one SIM (with [`compare`], the rules of meaning, and
//!   [`status`], the status table);
//! - `assemble`: groups mutations into calls ([`actions`]), totals, guards, warnings, checksum.
//!
//! The plan file helpers (`file`) only turn a plan into a string and back, verifying its
//! checksum, so the file a reviewer approved is exactly the one applied. Depends on `spec`
//! (desired values) and `fleet` (live data) only.
//!
//! Decisions worth knowing when reading a plan:
//! - Changes stopped by a guard stay in `changes` and `actions` (the reviewer sees exactly what
//!   was stopped) and the plan's outcome is `Blocked`; `apply` must refuse a plan whose
//!   [`Plan::stopped_by_guard`] is true unless it is re-planned with the allow flags.
//! - A blocked, held or pending status does not hold back the SIM's other fields.
//! - The implied 20 → 2 of an IMEI unlock is listed among the SIM's fields with `implied: true`;
//!   it is not a mutation, so it counts in `implied_changes`, not in `field_changes`.

pub mod actions;
mod assemble;
pub mod change_set;
mod checks;
pub mod compare;
mod decide;
pub mod diff;
pub mod drift;
pub mod engine;
pub mod explain;
mod file;
mod flags;
mod grouped;
mod guards;
pub mod last_applied;
mod model;
mod packed;
mod pass;
pub mod paths;
pub mod status;
mod value;
mod via;

use crate::fleet::SnapshotError;
use crate::outcome::Outcome;
use crate::spec::Conflict;

pub use actions::{
    Action, ActionPlan, BatchAction, BatchChanges, ImeiLockInput, SimWork, UpdateSimAction,
    UpdateSimChanges, MAX_BATCH_ICCIDS,
};
pub use checks::MAX_EXAMPLES as MAX_CHECK_EXAMPLES;
pub use engine::{plan_fleet, plan_snapshot, FleetFacts, PlanRequest, Planner};
pub use flags::RiskFlags;
pub use grouped::PlanFile;
pub use guards::{evaluate_guards, path_activations_guard, AllowedBy, Guards};
pub use model::{
    BlockedChange, CheckExample, CheckResult, FieldChange, GuardKind, GuardResult, HeldStatus,
    LimitResult, PendingStatus, Plan, RiskFlag, SimChange, SkippedSim, Summary, WaiverResult,
    WaiverStatus, Warning, WarningCode, PLAN_FORMAT_VERSION,
};
pub use status::{NoTransitionTable, StatusDecision, TransitionSet};
pub use value::FieldValue;
pub use via::{Via, MAX_VIA};

// What a plan's readers (renderers, apply) need from the stages below, so they depend on `plan`
// alone.
pub use crate::fleet::tables::status_label;
pub use crate::spec::{Field, Origin, OriginKind};

/// Why no plan could be made, or a plan file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{}", unknown_iccids(.0))]
    UnknownIccids(Vec<String>),
    /// Rules of equal priority that disagree, every one found in the fleet.
    #[error("{} conflict(s) between rules", .0.len())]
    Conflicts(Vec<Conflict>),
    /// The snapshot a plan was made from cannot be read.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    NoTransitionTable(#[from] NoTransitionTable),
    #[error("resolved spec values of the wrong kind (a bug in spec resolution): {}", .0.join("; "))]
    WrongKind(Vec<String>),
    #[error("not a simfleet plan file: {0}")]
    Parse(serde_json::Error),
    #[error("plan file has format_version {found}; this simfleet reads version {PLAN_FORMAT_VERSION} only: make the plan again with this version (`simfleet plan … --out FILE`)")]
    Version { found: u32 },
    /// A grouped plan file whose parts do not fit together (never written by simfleet).
    #[error("plan file is damaged: {0}")]
    Layout(String),
    #[error("plan file has unsafe actions, refusing it: {}", .0.join("; "))]
    UnsafeActions(Vec<String>),
    #[error("plan file checksum mismatch: it says {stated} but its content hashes to {computed}; the file was edited after it was made, so it is not the plan that was reviewed: make the plan again")]
    Checksum { stated: String, computed: String },
    #[error("this is a masked plan (ICCIDs such as {example} keep only their last 4 digits): it is for reading only and cannot be applied. Make the plan again without --mask and apply that file")]
    Masked { example: String },
}

/// ICCIDs shown by name in an error that lists SIMs; the rest are counted.
const LISTED_ICCIDS: usize = 20;

/// `sims:` entries the fleet lacks, the first [`LISTED_ICCIDS`] by name (a spec pointed at the
/// wrong account would otherwise print every entry on one line).
fn unknown_iccids(missing: &[String]) -> String {
    let shown: Vec<&str> = missing
        .iter()
        .take(LISTED_ICCIDS)
        .map(String::as_str)
        .collect();
    let more = missing.len().saturating_sub(LISTED_ICCIDS);
    format!(
        "{} ICCID(s) in `sims:` do not exist in the live fleet (a typo, or the wrong account?): {}{}",
        missing.len(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// `1 SIM` / `2 SIMs`, for messages.
pub fn sims_phrase(n: u64) -> String {
    if n == 1 {
        "1 SIM".to_string()
    } else {
        format!("{n} SIMs")
    }
}

impl Plan {
    /// How the plan ends: Blocked when anything is blocked, a guard stops it or a `deny` check
    /// fails, Changes when something changes or a SIM drifted since the last applied plan
    /// (`--last-applied`), Success otherwise.
    pub fn outcome(&self) -> Outcome {
        if !self.blocked.is_empty()
            || self.stopped_by_guard()
            || self.denied_by_check()
            || self.expired_waivers() > 0
        {
            Outcome::Blocked
        } else if !self.changes.is_empty() || self.drifted_since_last_apply() {
            Outcome::Changes
        } else {
            Outcome::Success
        }
    }

    /// True when `--last-applied` found a SIM no longer at what that plan set (a SIM not found
    /// has no live value to differ: it is reported, not counted).
    pub fn drifted_since_last_apply(&self) -> bool {
        (self.since_last_apply.as_ref()).is_some_and(|r| r.drifted_sims > 0)
    }

    /// Checks the invariants `apply` relies on, whoever wrote the file: every batch job has 1 to
    /// 1000 ICCIDs (an empty include list would select the whole fleet), no updateSim sets
    /// `monthly_data_limit` to 0 or less (undefined by the API), and every action changes
    /// something. Collects every problem.
    pub fn check_actions(&self) -> Result<(), PlanError> {
        let mut problems = Vec::new();
        for (i, action) in self.actions.iter().enumerate() {
            if action.steps_after() > 0 && !action.is_status_step() {
                problems.push(format!(
                    "action {i}: a status-path step (steps_after {}) must be in phase 0 and change the status only",
                    action.steps_after()
                ));
            }
            match action {
                Action::BatchJob(b) => {
                    if b.iccids.is_empty() || b.iccids.len() > MAX_BATCH_ICCIDS {
                        problems.push(format!(
                            "action {i}: batch job with {} ICCIDs (must be 1 to {MAX_BATCH_ICCIDS})",
                            b.iccids.len()
                        ));
                    }
                    if b.changes == BatchChanges::default() {
                        problems.push(format!("action {i}: batch job that changes nothing"));
                    }
                }
                Action::UpdateSim(u) => {
                    if u.changes.monthly_data_limit.is_some_and(|v| v <= 0) {
                        problems.push(format!(
                            "action {i}: updateSim of {} with monthly_data_limit {:?} (unlimited data goes through a batch job)",
                            u.iccid, u.changes.monthly_data_limit
                        ));
                    }
                    if u.changes == UpdateSimChanges::default() {
                        problems.push(format!(
                            "action {i}: updateSim of {} that changes nothing",
                            u.iccid
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PlanError::UnsafeActions(problems))
        }
    }

    /// Each failing `deny` check (and each expired waiver) as a guard that stops the plan, for
    /// `apply` to refuse it.
    pub fn denying_checks(&self) -> Vec<GuardResult> {
        let expired = self
            .waivers
            .iter()
            .filter(|w| w.status == WaiverStatus::Expired)
            .map(|w| GuardResult {
                guard: GuardKind::DenyCheck,
                count: 0,
                limit: None,
                stops: true,
                message: format!(
                    "the waiver of check {} ({}) expired on {}: renew or remove it",
                    w.check, w.location, w.expires
                ),
            });
        self.checks
            .iter()
            .filter(|c| c.denies())
            .map(|c| GuardResult {
                guard: GuardKind::DenyCheck,
                count: c.failing,
                limit: None,
                stops: true,
                message: format!(
                    "deny check {} ({}) fails on {}: {} (change the spec or the fleet, then plan again)",
                    c.name,
                    c.location,
                    sims_phrase(c.failing),
                    c.message
                ),
            })
            .chain(expired)
            .collect()
    }

    /// Waivers past their date: each blocks the plan until it is renewed or removed.
    pub fn expired_waivers(&self) -> usize {
        self.waivers
            .iter()
            .filter(|w| w.status == WaiverStatus::Expired)
            .count()
    }

    /// True when at least one `deny` check fails after the plan.
    pub fn denied_by_check(&self) -> bool {
        self.checks.iter().any(|c| c.denies())
    }

    /// True when at least one guard stops the plan.
    pub fn stopped_by_guard(&self) -> bool {
        self.guards.iter().any(|g| g.stops)
    }
}

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod paths_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod usage_tests;
