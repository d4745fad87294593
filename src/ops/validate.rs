//! `simfleet validate`: load and check a spec directory offline, print warnings and a summary;
//! with `--live SNAPSHOT`, also judge the spec's checks on the snapshot's end state under the
//! spec's plan (still offline), as `plan` judges them.

use std::path::{Path, PathBuf};

use crate::output::Output;
use crate::plan::{Guards, Plan, PlanRequest, WarningCode};
use crate::{render, spec, Error, Outcome};

/// Validates the spec in `dir`: warnings go to stderr, the one-line summary to stdout.
/// Every problem found is in the returned error.
pub fn validate(dir: &Path, out: &mut Output) -> Result<Outcome, Error> {
    validate_against(dir, None, out)
}

/// What `validate --live` judges the checks with: the snapshot, the day waivers are judged by
/// (days since 1970-01-01, from the settings) and whether to mask identifiers.
#[derive(Debug, Clone)]
pub struct LiveChecks {
    pub snapshot: PathBuf,
    pub today: i64,
    pub mask: bool,
}

/// [`validate`], and with `live` the checks judged on the snapshot after the spec's plan:
/// Blocked (exit 3) when a `deny` check fails or a waiver has expired.
pub fn validate_against(
    dir: &Path,
    live: Option<&LiveChecks>,
    out: &mut Output,
) -> Result<Outcome, Error> {
    let loaded = spec::load(dir)?;
    for warning in &loaded.warnings {
        out.note(&warning.to_string())?;
    }
    // The snapshot is judged before anything is printed: a bad one fails without "valid".
    let judged = match live {
        Some(live) => Some(plan_checks(loaded.spec, live)?),
        None => None,
    };
    let s = loaded.summary;
    let checks = match s.checks {
        0 => String::new(),
        1 => ", 1 check".to_string(),
        n => format!(", {n} checks"),
    };
    out.print(&format!(
        "{} file{}, {} rule{}, {} SIM entr{}{checks}: valid\n",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.rules,
        if s.rules == 1 { "" } else { "s" },
        s.sim_entries,
        if s.sim_entries == 1 { "y" } else { "ies" },
    ))?;
    match (judged, live) {
        (Some(plan), Some(live)) => report_checks(&plan, live.mask, out),
        _ => Ok(Outcome::Success),
    }
}

/// The spec's plan against the snapshot, for its checks (judged on the day in `live`).
fn plan_checks(spec: spec::Spec, live: &LiveChecks) -> Result<Plan, Error> {
    let spec = spec.with_today(live.today);
    let request = PlanRequest {
        spec: &spec,
        target: None,
        guards: Guards::default(),
    };
    super::plan::plan_snapshot_file(&request, &live.snapshot)
}

/// Prints the plan's checks; only they decide the outcome (guards are `plan`'s business).
fn report_checks(plan: &Plan, mask: bool, out: &mut Output) -> Result<Outcome, Error> {
    for warning in plan.warnings.iter().filter(|w| {
        matches!(
            w.code,
            WarningCode::UnmatchedCheck | WarningCode::WaiverExpiring
        )
    }) {
        out.note(&format!("warning: {}", warning.message))?;
    }
    out.print(&render::checks_text_after_plan(plan, mask))?;
    Ok(if plan.denied_by_check() || plan.expired_waivers() > 0 {
        Outcome::Blocked
    } else {
        Outcome::Success
    })
}
