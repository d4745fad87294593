//! Every decision kind `explain` reports, each from the plan's own engine, and the explanation
//! of a whole fleet held against the plan of the same fleet.

use crate::fleet::{Coverage, EndCustomerLabel, ImeiLock, LiveFleet, Sim};
use crate::plan::compare::Meaning;
use crate::plan::tests::table;
use crate::plan::{plan_fleet, FieldValue, Guards, PlanRequest, RiskFlag, TransitionSet};
use crate::spec::{Field, Spec};

use super::*;

fn spec(yaml: &str) -> Spec {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), yaml).unwrap();
    std::fs::write(dir.path().join("simfleet.yaml"), "luhn_check: false\n").unwrap();
    crate::spec::load(dir.path()).unwrap().spec
}

fn sim(n: u64, status: i32, label: &str) -> Sim {
    Sim {
        iccid: format!("8949000000{n:010}"),
        statusid: status,
        providerid: 1,
        end_customer_label: Some(EndCustomerLabel { name: label.into() }),
        ..Sim::default()
    }
}

const SPEC: &str = r#"rules:
  - name: base
    match: all
    set: { monthly_data_limit: unlimited, custom_field_1: none }
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 1MB, status: activated }
    priority: 5
  - name: acme-copy
    match: { end_customer_label: ACME, provider: connect+ }
    set: { monthly_data_limit: 1MB }
    priority: 5
  - name: cut
    match: { end_customer_label: Cut }
    set: { status: deactivated }
  - name: ready
    match: { end_customer_label: Ready }
    set: { status: test-ready }
  - name: unlock
    match: { end_customer_label: Unlock }
    set: { imei_lock: "off" }
  - name: globex
    match: { end_customer_label: Globex, provider: link+ }
    set: { monthly_sms_mo_limit: 5 }
sims:
  "89490000000000000009":
    monthly_data_limit: 2MB
"#;

fn explained(sim: &Sim) -> Explanation {
    let s = spec(SPEC);
    let t = TransitionSet::new(&table());
    explain(&s, sim, Some(&t)).unwrap()
}

fn field(e: &Explanation, field: Field) -> &FieldExplanation {
    e.fields.iter().find(|f| f.field == field).unwrap()
}

#[test]
fn a_change_names_its_source_phase_flags_and_the_rules_that_lost() {
    let mut s = sim(1, 2, "ACME");
    s.monthly_data_limit = Some(5_000_000);
    let e = explained(&s);
    assert_eq!(e.managed, Managed::Yes);
    let data = field(&e, Field::MonthlyDataLimit);
    assert_eq!(data.live, Some(FieldValue::Int(5_000_000)));
    assert_eq!(data.desired, Some(FieldValue::Int(1_000_000)));
    assert_eq!(data.priority, Some(5));
    assert!(data
        .source
        .as_ref()
        .unwrap()
        .to_string()
        .contains("rule acme"));
    let lost: Vec<Lost> = data.others.iter().map(|o| o.lost).collect();
    assert_eq!(lost, [Lost::SamePrioritySameValue, Lost::LowerPriority]);
    match &data.decision {
        Decision::Change { flags, phase, .. } => {
            assert_eq!(*phase, 1);
            assert!(flags.contains(RiskFlag::LoweredLimit));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_sims_entry_beats_every_rule() {
    let e = explained(&sim(9, 2, "ACME"));
    let data = field(&e, Field::MonthlyDataLimit);
    assert_eq!(data.desired, Some(FieldValue::Int(2_000_000)));
    assert_eq!(data.priority, None);
    assert!(e.entry.is_some());
    assert!(data
        .others
        .iter()
        .all(|o| o.lost == Lost::OverriddenBySimsEntry));
    assert_eq!(data.others.len(), 3, "acme, acme-copy and base");
}

#[test]
fn equal_values_name_the_rule_of_meaning() {
    let mut s = sim(2, 2, "Other");
    s.monthly_data_limit = Some(0);
    s.custom_field_1 = Some(String::new());
    let e = explained(&s);
    let data = field(&e, Field::MonthlyDataLimit);
    assert_eq!(
        data.decision,
        Decision::Equal {
            rule: Meaning::UnlimitedIsZero,
            rule_text: "`unlimited` equals a live 0".into()
        }
    );
    match &field(&e, Field::CustomField1).decision {
        Decision::Equal { rule, .. } => assert_eq!(*rule, Meaning::NoneIsEmpty),
        other => panic!("{other:?}"),
    }
    assert_eq!(field(&e, Field::Status).decision, Decision::Unmanaged);
}

#[test]
fn a_status_change_shows_its_path_and_phase() {
    let e = explained(&sim(3, 5, "ACME"));
    match &field(&e, Field::Status).decision {
        Decision::Change { phase, path, .. } => {
            assert_eq!(*phase, 2, "activations run last");
            assert_eq!(
                path,
                &[StatusStep {
                    from: 5,
                    to: 2,
                    phase: 2
                }]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pending_held_and_skipped_come_from_the_status_table() {
    let pending = explained(&sim(4, 13, "ACME"));
    assert!(matches!(
        &field(&pending, Field::Status).decision,
        Decision::Pending { reason } if reason.contains("(13)") && reason.contains("(2)")
    ));
    let held = explained(&sim(5, 16, "ACME"));
    assert!(matches!(
        &field(&held, Field::Status).decision,
        Decision::Held { reason } if reason.contains("(16)")
    ));
    let skipped = explained(&sim(6, 7, "ACME"));
    for f in skipped.fields.iter().filter(|f| f.desired.is_some()) {
        assert!(
            matches!(&f.decision, Decision::Skipped { reason } if reason.contains("Retired (7)")),
            "{f:?}"
        );
    }
}

#[test]
fn a_multi_step_status_change_shows_every_step_in_order() {
    // The table has no 6 → 5, but 6 → 2 and 2 → 5: two steps, the first a round of phase 0.
    let e = explained(&sim(7, 6, "Cut"));
    match &field(&e, Field::Status).decision {
        Decision::Change { path, .. } => assert_eq!(
            path,
            &[
                StatusStep {
                    from: 6,
                    to: 2,
                    phase: 0
                },
                StatusStep {
                    from: 2,
                    to: 5,
                    phase: 0
                }
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blocked_status_shows_the_table_row_and_what_it_allows() {
    // The table has 12 → 2 but no path from 12 to 6 (Test ready).
    let e = explained(&sim(7, 12, "Ready"));
    match &field(&e, Field::Status).decision {
        Decision::Blocked { reason, row } => {
            assert!(
                reason.contains("getAvailableStatusTransitions has no"),
                "{reason}"
            );
            assert_eq!((row.from, row.to, row.providerid), (12, 6, Some(1)));
            assert_eq!(row.allowed, Some(vec![2]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unlock_in_status_20_shows_the_implied_activation() {
    let mut s = sim(8, 20, "Unlock");
    s.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let e = explained(&s);
    match &field(&e, Field::Status).decision {
        Decision::Change {
            implied: true,
            flags,
            path,
            ..
        } => {
            assert!(flags.contains(RiskFlag::RestoresService));
            assert_eq!((path[0].from, path[0].to), (20, 2));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        field(&e, Field::ImeiLock).decision,
        Decision::Change { .. }
    ));
}

#[test]
fn an_unmanaged_sim_lists_the_closest_rules_and_the_keys_that_failed() {
    let s = spec(
        r#"rules:
  - name: globex
    match: { end_customer_label: Globex, provider: link+ }
    set: { monthly_sms_mo_limit: 5 }
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_sms_mo_limit: 5 }
"#,
    );
    let e = explain(&s, &sim(10, 2, "Globex"), None).unwrap();
    assert_eq!(e.managed, Managed::No);
    assert!(e.fields.iter().all(|f| f.decision == Decision::Unmanaged));
    let first = &e.closest_rules[0];
    assert_eq!(first.rule.name, "globex");
    assert_eq!(
        first.failed,
        [FailedKey {
            key: "provider".into(),
            wants: "link+".into(),
            live: "connect+".into()
        }]
    );
    assert_eq!(e.closest_rules[1].failed[0].key, "end_customer_label");
}

#[test]
fn rules_in_conflict_are_named_and_the_other_fields_still_decided() {
    let s = spec(
        r#"rules:
  - name: a
    match: { end_customer_label: x }
    set: { monthly_sms_mo_limit: 5, monthly_sms_mt_limit: 7 }
  - name: b
    match: { provider: connect+ }
    set: { monthly_sms_mo_limit: 6 }
"#,
    );
    let e = explain(&s, &sim(11, 2, "x"), None).unwrap();
    let mo = field(&e, Field::MonthlySmsMoLimit);
    assert!(
        matches!(&mo.decision, Decision::Conflict { reason } if reason.contains("rule a") && reason.contains("rule b"))
    );
    assert_eq!(mo.desired, None);
    assert!(mo
        .others
        .iter()
        .all(|o| o.lost == Lost::SamePriorityConflict));
    assert!(matches!(
        field(&e, Field::MonthlySmsMtLimit).decision,
        Decision::Change { .. }
    ));
}

/// Over a generated fleet, every change the plan makes is a change in the explanation (same
/// values, same source), and nothing else is.
#[test]
fn explanations_agree_with_the_plan() {
    let s = spec(
        r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 500MB, monthly_sms_mo_limit: 100, imei_lock: auto }
  - name: globex
    match: { end_customer_label: Globex, status: [activated, test-ready] }
    set: { monthly_data_limit: 1.5GB, monthly_sms_mt_limit: unlimited }
  - name: initech
    match: { end_customer_label: Initech }
    set: { status: activated, imei_lock: "off" }
    priority: 1
"#,
    );
    let fleet = crate::sandbox::generate(400, 7);
    let request = PlanRequest {
        spec: &s,
        target: None,
        guards: Guards::default(),
    };
    let plan = plan_fleet(
        &request,
        LiveFleet {
            sims: fleet.sims.clone(),
            sims_total: fleet.sims.len() as u64,
            coverage: Coverage::Full,
            transitions: fleet.transitions.clone(),
            running_batch_jobs: Vec::new(),
        },
    )
    .unwrap();
    let t = fleet.transitions.as_deref().map(TransitionSet::new);
    let mut changes = 0;
    for live in &fleet.sims {
        let e = explain(&s, live, t.as_ref()).unwrap();
        let planned = plan.changes.iter().find(|c| c.iccid == live.iccid);
        let explained: Vec<(Field, Option<FieldValue>)> = (e.fields.iter())
            .filter(|f| matches!(f.decision, Decision::Change { .. }))
            .map(|f| (f.field, f.desired.clone()))
            .collect();
        let expected: Vec<(Field, Option<FieldValue>)> = (planned.iter())
            .flat_map(|c| c.fields())
            .map(|f| (f.field, Some(f.to.clone())))
            .collect();
        let mut sorted = expected.clone();
        sorted.sort_by_key(|(f, _)| *f);
        assert_eq!(explained, sorted, "{}", live.iccid);
        changes += expected.len();
        let blocked = plan.blocked.iter().any(|b| b.iccid == live.iccid);
        assert_eq!(
            blocked,
            e.fields
                .iter()
                .any(|f| matches!(f.decision, Decision::Blocked { .. })),
            "{}",
            live.iccid
        );
        assert_eq!(
            plan.unmanaged.contains(&live.iccid),
            e.managed == Managed::No
        );
    }
    assert!(changes > 50, "the fleet exercises the engine: {changes}");
}

/// A saved plan explains its own records: changes, blocked, pending, held, skipped, unmanaged.
#[test]
fn a_saved_plan_explains_its_records() {
    let s = spec(SPEC);
    let mut lowered = sim(1, 2, "ACME");
    lowered.monthly_data_limit = Some(5_000_000);
    let sims = vec![
        lowered,
        sim(4, 13, "ACME"),
        sim(5, 16, "ACME"),
        sim(6, 7, "ACME"),
        sim(7, 12, "Ready"),
    ];
    let request = PlanRequest {
        spec: &s,
        target: None,
        guards: Guards::default(),
    };
    let live = LiveFleet {
        sims: sims.clone(),
        sims_total: 5,
        coverage: Coverage::Full,
        transitions: Some(table()),
        running_batch_jobs: Vec::new(),
    };
    let plan = plan_fleet(&request, live);
    // `sims:` entry 9 is not in this fleet: the plan is refused; add it.
    assert!(plan.is_err());
    let mut with_entry = sims;
    with_entry.push(sim(9, 2, "Other"));
    let plan = plan_fleet(
        &request,
        LiveFleet {
            sims: with_entry,
            sims_total: 6,
            coverage: Coverage::Full,
            transitions: Some(table()),
            running_batch_jobs: Vec::new(),
        },
    )
    .unwrap();
    let kind = |n: u64, f: Field| {
        let e = explain_recorded(&plan, &format!("8949000000{n:010}"), Some(&s));
        e.fields
            .iter()
            .find(|x| x.field == f)
            .map(|x| x.decision.clone())
    };
    assert!(matches!(
        kind(1, Field::MonthlyDataLimit),
        Some(Decision::Change { phase: 1, .. })
    ));
    assert!(matches!(
        kind(4, Field::Status),
        Some(Decision::Pending { .. })
    ));
    assert!(matches!(
        kind(5, Field::Status),
        Some(Decision::Held { .. })
    ));
    assert!(matches!(
        kind(6, Field::Status),
        Some(Decision::Skipped { .. })
    ));
    assert!(matches!(
        kind(7, Field::Status),
        Some(Decision::Blocked { row, .. }) if (row.from, row.to) == (12, 6)
    ));
    let changed = explain_recorded(&plan, "89490000000000000001", Some(&s));
    assert_eq!(changed.managed, Managed::Yes);
    let data = changed
        .fields
        .iter()
        .find(|f| f.field == Field::MonthlyDataLimit)
        .unwrap();
    assert_eq!(data.priority, Some(5));
    assert!(data.others.iter().any(|o| o.lost == Lost::LowerPriority));
    let unknown = explain_recorded(&plan, "89490000000000009999", None);
    assert_eq!(unknown.managed, Managed::Unknown);
    assert!(unknown.note.unwrap().contains("no record"));
}

/// A snapshot without a transition table cannot decide a status change: the status says why,
/// and the SIM's other fields are still decided.
#[test]
fn without_a_transition_table_the_status_says_why_and_the_rest_is_decided() {
    let s = spec(SPEC);
    let e = explain(&s, &sim(3, 5, "ACME"), None).unwrap();
    match &field(&e, Field::Status).decision {
        Decision::Blocked { reason, row } => {
            assert!(reason.contains("no status transition table"), "{reason}");
            assert_eq!((row.from, row.to, row.allowed.as_ref()), (5, 2, None));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        field(&e, Field::MonthlyDataLimit).decision,
        Decision::Change { .. }
    ));
}

#[test]
fn a_limit_below_this_months_usage_shows_the_usage() {
    let mut used = sim(11, 2, "ACME");
    used.monthly_data_volume = Some(2_000_000);
    let e = explained(&used);
    match &field(&e, Field::MonthlyDataLimit).decision {
        Decision::Change { flags, usage, .. } => {
            assert!(flags.contains(crate::plan::RiskFlag::UsageCut), "{flags:?}");
            assert_eq!(*usage, Some(2_000_000));
        }
        other => panic!("{other:?}"),
    }
}
