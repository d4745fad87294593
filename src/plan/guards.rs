//! Guards and plan-wide warnings: the limits that stop a plan unless the user allows it, and
//! what a reviewer should know about the fleet besides the changes.
//!
//! Guards are evaluated over the whole plan once it is assembled; a guard that stops the plan
//! leaves its changes in the plan so the reviewer sees exactly what was stopped.

use super::model::{GuardKind, GuardResult, HeldStatus, SkippedSim, Warning, WarningCode};
use super::sims_phrase;

/// Limits that stop a plan unless the user allows it (flags, or `simfleet.yaml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Guards {
    /// At most this many SIMs may change.
    pub max_changes: Option<u64>,
    /// At most this percentage of `sims_total` may change.
    pub max_percent: Option<f64>,
    /// Status changes to deactivated (5) or suspended (12) are allowed.
    pub allow_status_cuts: bool,
    /// Status changes to retired (7) are allowed.
    pub allow_irreversible: bool,
    /// Where `allow_status_cuts` came from, for the guard line's wording.
    pub status_cuts_allowed_by: AllowedBy,
    /// Where `allow_irreversible` came from.
    pub irreversible_allowed_by: AllowedBy,
}

/// Where an allowance came from: the flag, or `simfleet.yaml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AllowedBy {
    #[default]
    Flag,
    Config,
}

impl AllowedBy {
    /// `--allow-status-cuts` or `allow_status_cuts in simfleet.yaml`, for `flag`.
    fn phrase(self, flag: &str) -> String {
        match self {
            AllowedBy::Flag => format!("--{flag}"),
            AllowedBy::Config => format!("{} in simfleet.yaml", flag.replace('-', "_")),
        }
    }
}

pub fn evaluate_guards(
    guards: &Guards,
    sims_changing: u64,
    sims_total: u64,
    cut_sims: u64,
    usage_cut_sims: u64,
    retire_sims: u64,
    implied: u64,
) -> Vec<GuardResult> {
    let mut out = Vec::new();
    if let Some(max) = guards.max_changes {
        if sims_changing > max {
            out.push(GuardResult {
                guard: GuardKind::MaxChanges,
                count: sims_changing,
                limit: Some(max as f64),
                stops: true,
                message: format!("{} would change, more than max_changes = {max}: raise max_changes (flag or simfleet.yaml) if that is intended", sims_phrase(sims_changing)),
            });
        }
    }
    if let Some(max) = guards.max_percent {
        let percent = if sims_total == 0 {
            0.0
        } else {
            sims_changing as f64 * 100.0 / sims_total as f64
        };
        if percent > max {
            out.push(GuardResult {
                guard: GuardKind::MaxPercent,
                count: sims_changing,
                limit: Some(max),
                stops: true,
                message: format!("{sims_changing} of {sims_total} SIMs ({percent:.1}%) would change, more than max_percent = {max}%: raise max_percent (flag or simfleet.yaml) if that is intended"),
            });
        }
    }
    if cut_sims + usage_cut_sims > 0 {
        let stops = !guards.allow_status_cuts;
        out.push(GuardResult {
            guard: GuardKind::StatusCuts,
            count: cut_sims + usage_cut_sims,
            limit: None,
            stops,
            message: status_cuts_message(guards, cut_sims, usage_cut_sims, stops),
        });
    }
    if retire_sims > 0 {
        let stops = !guards.allow_irreversible;
        out.push(GuardResult {
            guard: GuardKind::Irreversible,
            count: retire_sims,
            limit: None,
            stops,
            message: if stops {
                format!("{} would be retired, which cannot be undone: pass --allow-irreversible (or allow_irreversible in simfleet.yaml) to plan them", sims_phrase(retire_sims))
            } else {
                format!("{} will be retired, which cannot be undone (allowed by {})", sims_phrase(retire_sims), guards.irreversible_allowed_by.phrase("allow-irreversible"))
            },
        });
    }
    if implied > 0 {
        out.push(GuardResult {
            guard: GuardKind::RestoresService,
            count: implied,
            limit: None,
            stops: false,
            message: format!("{} in IMEI unauthorized (20): turning the IMEI lock off restores service (status 20 → 2); counted among the SIMs changing", sims_phrase(implied)),
        });
    }
    out
}

/// The status-cuts guard's line: SIMs deactivated or suspended, and SIMs in service given a
/// limit at or below this month's usage (service stops as soon as it is set); both lose
/// service, so one allowance covers both, and the line names each.
fn status_cuts_message(guards: &Guards, cuts: u64, usage_cuts: u64, stops: bool) -> String {
    let (would, lose) = if stops {
        ("would", "would lose")
    } else {
        ("will", "will lose")
    };
    let get = |n: u64| if n == 1 { "gets" } else { "get" };
    const USAGE: &str = "a limit at or below this month's usage, which cuts service at once";
    let what = match (cuts, usage_cuts) {
        (_, 0) if stops => format!(
            "{} would be deactivated or suspended (they lose service)",
            sims_phrase(cuts)
        ),
        (_, 0) => format!("{} will be deactivated or suspended", sims_phrase(cuts)),
        (0, n) => format!("{} {} {USAGE}", sims_phrase(n), get(n)),
        (c, n) => format!(
            "{} {lose} service: {c} {would} be deactivated or suspended, {n} {} {USAGE}",
            sims_phrase(c + n),
            get(n)
        ),
    };
    if stops {
        format!(
            "{what}: pass --allow-status-cuts (or allow_status_cuts in simfleet.yaml) to plan them"
        )
    } else {
        format!(
            "{what} (allowed by {})",
            guards.status_cuts_allowed_by.phrase("allow-status-cuts")
        )
    }
}

pub(super) fn warnings(
    running: &[i64],
    skipped: &[SkippedSim],
    held: &[HeldStatus],
) -> Vec<Warning> {
    let mut out = Vec::new();
    if !running.is_empty() {
        let mut ids = running.to_vec();
        ids.sort_unstable();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        out.push(Warning {
            code: WarningCode::RunningBatchJobs,
            message: format!("batch jobs still PREPARING or RUNNING ({}): their half-applied values look like drift; plan again once they finish", ids.join(", ")),
        });
    }
    if !skipped.is_empty() {
        out.push(Warning {
            code: WarningCode::TerminalSims,
            message: format!(
                "{} managed: in a terminal status (deleted, retired or replaced), skipped",
                sims_phrase(skipped.len() as u64)
            ),
        });
    }
    if !held.is_empty() {
        out.push(Warning {
            code: WarningCode::HeldSims,
            message: format!("{} held: deactivated by the provider (usage, limits or IMEI), and a status rule does not re-activate them", sims_phrase(held.len() as u64)),
        });
    }
    out
}
