//! Unit tests of the pure parts of `apply`: checksum comparison, guard re-evaluation, code
//! decoding, the include-list invariant of the work built from plan actions, and whose work the
//! counters count.

use std::collections::HashSet;

use super::batch::{code_field, resolve_lost_start, LostStart};
use super::preflight::{check_checksum, stopping_guards};
use super::*;
use crate::api::{BatchJob, BatchJobChanges, BatchJobStatus};
use crate::plan::{BatchAction, BatchChanges, GuardKind};

#[test]
fn error_codes_name_their_field() {
    assert_eq!(code_field(4), Some("status"));
    assert_eq!(code_field(701), Some("imei_lock"));
    assert_eq!(code_field(201), Some("monthly_data_limit"));
    assert_eq!(code_field(9999), None);
}

#[test]
fn work_from_a_batch_action_never_has_an_empty_include_list() {
    let action = Action::BatchJob(BatchAction {
        phase: 1,
        steps_after: 0,
        iccids: vec!["89490000000000000015".into()],
        changes: BatchChanges {
            monthly_data_limit: Some(0),
            ..BatchChanges::default()
        },
    });
    assert!(to_work(&action, Vec::new()).is_err());
    let Ok(Work::Batch { params, .. }) = to_work(&action, vec!["89490000000000000015".into()])
    else {
        panic!("expected a batch job");
    };
    assert_eq!(params.include_iccids().len(), 1);
    assert_eq!(params.changes.monthly_data_limit, Some(0));
}

fn plan_with(checksum: &str) -> Plan {
    serde_json::from_value(serde_json::json!({
        "format_version": 1,
        "summary": {
            "sims_total": 10, "sims_seen": 10, "sims_managed": 4, "sims_unmanaged": 6,
            "unmanaged_is_count": false, "sims_changing": 4, "field_changes": 4,
            "changes_per_field": {}, "implied_changes": 0, "blocked": 0, "pending": 0,
            "held": 0, "skipped": 0, "api_calls": 1, "http_requests": 1, "lower_bound": 1
        },
        "changes": [],
        "blocked": [], "pending": [], "held": [], "skipped": [], "guards": [], "warnings": [],
        "actions": [], "spec_digest": "x", "checksum": checksum
    }))
    .unwrap_or_else(|e| panic!("test plan: {e}"))
}

#[test]
fn checksum_must_match_with_or_without_prefix() {
    let plan = plan_with("sha256:abc");
    assert!(check_checksum(&plan, None).is_ok());
    assert!(check_checksum(&plan, Some("sha256:abc")).is_ok());
    assert!(check_checksum(&plan, Some("ABC")).is_ok());
    let err = check_checksum(&plan, Some("sha256:abd")).err();
    assert!(matches!(err, Some(ApplyError::Checksum { .. })), "{err:?}");
}

#[test]
fn guards_use_the_apply_flags() {
    let plan = plan_with("sha256:abc");
    assert!(stopping_guards(&plan, &Guards::default()).is_empty());
    let stops = stopping_guards(
        &plan,
        &Guards {
            max_changes: Some(3),
            max_percent: Some(50.0),
            ..Guards::default()
        },
    );
    let kinds: Vec<GuardKind> = stops.iter().map(|g| g.guard).collect();
    assert_eq!(kinds, vec![GuardKind::MaxChanges]);
    assert!(
        stops[0].message.contains("max_changes"),
        "{}",
        stops[0].message
    );
}

fn job(id: i64) -> BatchJob {
    BatchJob {
        id,
        status: BatchJobStatus::Running,
        started_at: 0,
        finished_at: None,
        total_sims: 2,
        failed_sims: 0,
        successful_sims: 0,
        changes: BatchJobChanges::default(),
    }
}

#[test]
fn a_lost_start_is_adopted_only_when_exactly_one_unknown_job_matches() {
    let known: HashSet<i64> = [1, 2].into_iter().collect();
    assert_eq!(resolve_lost_start(&[], &known), LostStart::NotStarted);
    // Jobs this run already owns are not candidates.
    assert_eq!(
        resolve_lost_start(&[job(1), job(2)], &known),
        LostStart::NotStarted
    );
    assert_eq!(
        resolve_lost_start(&[job(2), job(7)], &known),
        LostStart::Adopt(7)
    );
    assert_eq!(
        resolve_lost_start(&[job(7), job(8), job(1)], &known),
        LostStart::Ambiguous(vec![7, 8])
    );
}

#[test]
fn a_sim_counts_as_changed_only_when_this_run_changed_it() {
    let set = |ids: &[&str]| {
        ids.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    let ledger = Ledger {
        // "a": one job skipped it as already set, another changed it; "b": only "already set".
        changed: set(&["a"]),
        already_set: set(&["a", "b"]),
        attempted: set(&["a", "b", "c"]),
        ..Ledger::default()
    };
    let verified = verify::Verified {
        converged: set(&["a", "b", "c"]),
        pending: Vec::new(),
        failures: Vec::new(),
    };
    let mut report = ApplyReport::empty(&plan_with("sha256:00"));
    record(&mut report, &ledger, verified, false);
    assert_eq!(report.sims_changed, 2, "a and c");
    assert_eq!(report.sims_already_set, 1);
    assert_eq!(report.already_set, vec!["b".to_string()]);
    assert_eq!(report.status, ApplyStatus::Converged);
}
