//! Unit tests of `plan::build`: the rules of meaning end to end over small fleets built in code.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::fleet::{EndCustomerLabel, ImeiLock};
use crate::spec::{Limit, Origin, ResolvedValue};

pub(crate) fn origin(rule: &str, line: u32) -> Origin {
    Origin {
        file: "fleet/test.yaml".into(),
        line,
        col: 5,
        kind: OriginKind::Rule { name: rule.into() },
    }
}

pub(crate) fn iccid(n: u64) -> String {
    format!("8949000000{n:010}")
}

pub(crate) fn sim(n: u64, status: i32) -> Sim {
    Sim {
        iccid: iccid(n),
        statusid: status,
        providerid: 1,
        ..Sim::default()
    }
}

pub(crate) fn want(n: u64, fields: &[(Field, DesiredValue)]) -> DesiredSim {
    DesiredSim {
        iccid: iccid(n),
        fields: fields
            .iter()
            .enumerate()
            .map(|(i, (f, v))| {
                (
                    *f,
                    ResolvedValue {
                        value: v.clone(),
                        origin: origin("r", 10 + i as u32),
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

pub(crate) fn table() -> Vec<Transition> {
    let mut t = Vec::new();
    for provider in 1..=5 {
        for (from, to) in [
            (5, 2),
            (2, 5),
            (2, 12),
            (12, 2),
            (6, 2),
            (2, 7),
            (5, 7),
            (9, 8),
            (8, 2),
        ] {
            t.push(Transition {
                fromstatusid: from,
                tostatusid: to,
                providerid: provider,
            });
        }
    }
    t
}

pub(crate) fn input<'a>(
    sims: &'a [Sim],
    desired: &'a [DesiredSim],
    transitions: Option<&'a [Transition]>,
) -> PlanInput<'a> {
    PlanInput {
        sims,
        desired,
        sims_total: sims.len() as u64,
        coverage: Coverage::Full,
        transitions,
        running_batch_jobs: &[],
        guards: Guards {
            allow_status_cuts: true,
            allow_irreversible: true,
            ..Guards::default()
        },
        spec_digest: "sha256:spec".into(),
        updates_per_request: 1,
    }
}

fn plan(sims: &[Sim], desired: &[DesiredSim]) -> Plan {
    let t = table();
    build(input(sims, desired, Some(&t))).expect("plan builds")
}

#[test]
fn only_fields_the_spec_sets_are_compared() {
    let mut live = sim(1, 2);
    live.monthly_data_limit = Some(5);
    live.custom_field_1 = Some("old".into());
    let p = plan(
        &[live],
        &[want(
            1,
            &[(
                Field::MonthlyDataLimit,
                DesiredValue::Limit(Limit::Value(5)),
            )],
        )],
    );
    assert!(p.changes.is_empty());
    assert_eq!(p.outcome(), Outcome::Success);
    assert_eq!(p.summary.sims_managed, 1);
}

#[test]
fn unlimited_and_none_match_both_spellings() {
    let mut a = sim(1, 2);
    a.monthly_data_limit = Some(0);
    a.custom_field_1 = Some(String::new());
    let b = sim(2, 2);
    let mut c = sim(3, 2);
    c.monthly_data_limit = Some(7);
    c.end_customer_label = Some(EndCustomerLabel { name: "x".into() });
    let fields = [
        (
            Field::MonthlyDataLimit,
            DesiredValue::Limit(Limit::Unlimited),
        ),
        (Field::CustomField1, DesiredValue::Text(None)),
        (Field::EndCustomerLabel, DesiredValue::Text(None)),
    ];
    let p = plan(
        &[a, b, c],
        &[want(1, &fields), want(2, &fields), want(3, &fields)],
    );
    assert_eq!(p.changes.len(), 1);
    let change = &p.changes[0];
    assert_eq!(change.iccid, iccid(3));
    assert_eq!(change.fields.len(), 2);
    assert_eq!(change.fields[0].from, json!(7));
    assert_eq!(change.fields[0].to, json!(null));
    assert_eq!(change.fields[1].field, Field::EndCustomerLabel);
    assert_eq!(change.fields[1].from, json!("x"));
    // Unlimited data goes through a batch job, even for one SIM.
    assert!(
        matches!(&p.actions[..], [Action::BatchJob(b)] if b.changes.monthly_data_limit == Some(0))
    );
}

#[test]
fn imei_auto_equals_any_enabled_lock() {
    let mut a = sim(1, 2);
    a.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let p = plan(
        &[a],
        &[want(
            1,
            &[(
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Auto),
            )],
        )],
    );
    assert!(p.changes.is_empty());
}

#[test]
fn unknown_sims_entry_is_an_error_naming_every_iccid() {
    let mut d = want(
        7,
        &[(Field::CustomField1, DesiredValue::Text(Some("x".into())))],
    );
    d.fields
        .values_mut()
        .for_each(|v| v.origin.kind = OriginKind::SimEntry { iccid: iccid(7) });
    let e = want(
        8,
        &[(Field::CustomField1, DesiredValue::Text(Some("x".into())))],
    );
    let sims = [sim(1, 2)];
    let err = build(input(&sims, &[d, e], None)).expect_err("unknown ICCIDs");
    let text = err.to_string();
    assert!(
        text.contains(&iccid(7)) && text.contains(&iccid(8)),
        "{text}"
    );
    assert!(text.contains("fleet/test.yaml:10:5"), "{text}");
}

#[test]
fn status_rows_end_up_in_the_right_lists() {
    let sims = [
        sim(1, 2),  // no change
        sim(2, 13), // pending
        sim(3, 7),  // terminal → skipped
        sim(4, 16), // held
        sim(5, 5),  // change 5 → 2
        sim(6, 3),  // blocked: 3 → 2 not in the table
    ];
    let on = [(Field::Status, DesiredValue::Status(2))];
    let desired: Vec<DesiredSim> = (1..=6).map(|n| want(n, &on)).collect();
    let p = plan(&sims, &desired);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.changes[0].iccid, iccid(5));
    assert_eq!(p.pending.len(), 1);
    assert_eq!(
        p.skipped,
        vec![SkippedSim {
            iccid: iccid(3),
            statusid: 7
        }]
    );
    assert_eq!(p.held.len(), 1);
    assert_eq!(p.blocked.len(), 1);
    assert!(p.blocked[0].reason.contains("Issued (3) → Activated (2)"));
    assert_eq!(p.summary.blocked, 1);
    assert_eq!(p.outcome(), Outcome::Blocked);
    let codes: Vec<WarningCode> = p.warnings.iter().map(|w| w.code).collect();
    assert_eq!(
        codes,
        vec![WarningCode::TerminalSims, WarningCode::HeldSims]
    );
    // The activation runs in phase 2.
    assert!(p.actions.iter().all(|a| a.phase() == 2));
}

#[test]
fn terminal_sims_are_skipped_whole() {
    let p = plan(
        &[sim(1, 10)],
        &[want(
            1,
            &[(Field::CustomField1, DesiredValue::Text(Some("x".into())))],
        )],
    );
    assert!(p.changes.is_empty());
    assert_eq!(p.summary.skipped, 1);
}

#[test]
fn status_change_without_a_table_is_an_error() {
    let sims = [sim(1, 5)];
    let desired = [want(1, &[(Field::Status, DesiredValue::Status(2))])];
    let err = build(input(&sims, &desired, None)).expect_err("no table");
    assert!(matches!(err, PlanError::NoTransitionTable(_)));
}

#[test]
fn imei_unlock_on_status_20_implies_activation() {
    let mut s = sim(1, 20);
    s.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let p = plan(
        &[s],
        &[want(
            1,
            &[(
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Off),
            )],
        )],
    );
    let fields = &p.changes[0].fields;
    assert_eq!(fields.len(), 2);
    assert!(fields[0].implied);
    assert_eq!(
        (fields[0].from.clone(), fields[0].to.clone()),
        (json!(20), json!(2))
    );
    assert_eq!(fields[0].flags, vec![RiskFlag::RestoresService]);
    assert_eq!(fields[1].flags, vec![RiskFlag::ImeiUnlock]);
    assert_eq!(p.summary.implied_changes, 1);
    assert_eq!(p.summary.field_changes, 1);
    assert_eq!(p.summary.api_calls, 1);
    assert!(p
        .guards
        .iter()
        .any(|g| g.guard == GuardKind::RestoresService && !g.stops));
}

#[test]
fn guards_stop_cuts_and_retirements_unless_allowed() {
    let sims = [sim(1, 2), sim(2, 2)];
    let desired = [
        want(1, &[(Field::Status, DesiredValue::Status(5))]),
        want(2, &[(Field::Status, DesiredValue::Status(7))]),
    ];
    let t = table();
    let mut i = input(&sims, &desired, Some(&t));
    i.guards = Guards::default();
    let p = build(i.clone()).expect("plan");
    assert_eq!(p.outcome(), Outcome::Blocked);
    let stops: Vec<GuardKind> = p
        .guards
        .iter()
        .filter(|g| g.stops)
        .map(|g| g.guard)
        .collect();
    assert_eq!(stops, vec![GuardKind::StatusCuts, GuardKind::Irreversible]);
    assert!(p.guards[0].message.contains("--allow-status-cuts"));
    assert!(p.guards[1].message.contains("--allow-irreversible"));
    i.guards.allow_status_cuts = true;
    i.guards.allow_irreversible = true;
    let p = build(i.clone()).expect("plan");
    assert_eq!(p.outcome(), Outcome::Changes);
    assert!(p.actions.iter().all(|a| a.phase() == 0));
    i.guards.max_changes = Some(1);
    assert_eq!(build(i.clone()).expect("plan").outcome(), Outcome::Blocked);
    i.guards.max_changes = None;
    i.guards.max_percent = Some(50.0);
    let p = build(i).expect("plan");
    assert!(p
        .guards
        .iter()
        .any(|g| g.guard == GuardKind::MaxPercent && g.stops));
}

#[test]
fn lowered_limits_and_unlocks_are_flagged() {
    let mut s = sim(1, 2);
    s.monthly_sms_mo_limit = Some(100);
    s.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: None,
    });
    let p = plan(
        &[s],
        &[want(
            1,
            &[
                (
                    Field::MonthlySmsMoLimit,
                    DesiredValue::Limit(Limit::Value(10)),
                ),
                (
                    Field::ImeiLock,
                    DesiredValue::ImeiLock(ImeiLockSetting::Off),
                ),
            ],
        )],
    );
    let flags: Vec<Vec<RiskFlag>> = p.changes[0]
        .fields
        .iter()
        .map(|f| f.flags.clone())
        .collect();
    assert_eq!(
        flags,
        vec![vec![RiskFlag::LoweredLimit], vec![RiskFlag::ImeiUnlock]]
    );
}

#[test]
fn checksum_ignores_input_order_and_timestamps() {
    let mut sims: Vec<Sim> = (1..=50).map(|n| sim(n, 2)).collect();
    let desired: Vec<DesiredSim> = (1..=50)
        .map(|n| {
            want(
                n,
                &[(
                    Field::MonthlyDataLimit,
                    DesiredValue::Limit(Limit::Value(n as i64 % 3 + 1)),
                )],
            )
        })
        .collect();
    let a = plan(&sims, &desired);
    sims.reverse();
    let mut reversed = desired.clone();
    reversed.reverse();
    let mut b = plan(&sims, &reversed);
    b.generated_at = Some("2026-11-28T02:00:00Z".into());
    assert_eq!(a.checksum, b.compute_checksum());
    assert_eq!(a.changes, b.changes);
    assert!(a.checksum.starts_with("sha256:"));
    // A different spec digest is a different plan.
    let t = table();
    let mut i = input(&sims, &desired, Some(&t));
    i.spec_digest = "sha256:other".into();
    assert_ne!(build(i).expect("plan").checksum, a.checksum);
}

#[test]
fn fingerprint_ignores_usage_counters_but_not_managed_values() {
    let mut s = sim(1, 2);
    s.monthly_data_limit = Some(10);
    let base = fingerprint(&s, [Field::MonthlyDataLimit]);
    let mut used = s.clone();
    used.monthly_data_volume = Some(123_456);
    used.monthly_sms_mo = Some(3);
    used.monthly_voice_mo = Some(60);
    used.previous_month_data_volume = Some(1);
    used.in_session_since = Some(99);
    assert_eq!(fingerprint(&used, [Field::MonthlyDataLimit]), base);
    let mut changed = s.clone();
    changed.monthly_data_limit = Some(11);
    assert_ne!(fingerprint(&changed, [Field::MonthlyDataLimit]), base);
    let mut moved = s.clone();
    moved.statusid = 5;
    assert_ne!(fingerprint(&moved, [Field::MonthlyDataLimit]), base);
    // 0 and null are the same (unlimited) once normalised.
    let mut zero = s.clone();
    zero.monthly_data_limit = Some(0);
    let mut null = s;
    null.monthly_data_limit = None;
    assert_eq!(
        fingerprint(&zero, [Field::MonthlyDataLimit]),
        fingerprint(&null, [Field::MonthlyDataLimit])
    );
}

#[test]
fn plan_file_round_trips_and_detects_tampering() {
    let mut s = sim(1, 5);
    s.monthly_sms_mt_limit = Some(3);
    let p = plan(
        &[s],
        &[want(
            1,
            &[
                (Field::Status, DesiredValue::Status(2)),
                (
                    Field::MonthlySmsMtLimit,
                    DesiredValue::Limit(Limit::Unlimited),
                ),
                (
                    Field::ImeiLock,
                    DesiredValue::ImeiLock(ImeiLockSetting::Imei("356938035643809".into())),
                ),
            ],
        )],
    );
    let text = p.to_file_json();
    let back = Plan::from_file_json(&text).expect("loads");
    assert_eq!(back, p);
    let tampered = text.replace("356938035643809", "490154203237518");
    assert!(matches!(
        Plan::from_file_json(&tampered),
        Err(PlanError::Checksum { .. })
    ));
    let future = text.replacen("\"format_version\":1", "\"format_version\":9", 1);
    assert!(matches!(
        Plan::from_file_json(&future),
        Err(PlanError::Version { found: 9 })
    ));
    assert!(matches!(
        Plan::from_file_json("{}"),
        Err(PlanError::Parse(_))
    ));
}

#[test]
fn pushed_down_coverage_reports_unmanaged_as_a_count() {
    let sims = [sim(1, 2)];
    let desired = [want(
        1,
        &[(Field::CustomField1, DesiredValue::Text(Some("a".into())))],
    )];
    let mut i = input(&sims, &desired, None);
    i.coverage = Coverage::PushedDown;
    i.sims_total = 1000;
    i.running_batch_jobs = &[42, 7];
    let p = build(i).expect("plan");
    assert_eq!(p.summary.sims_unmanaged, 999);
    assert!(p.summary.unmanaged_is_count);
    assert!(p.warnings[0].message.contains("7, 42"));
}

/// Million-SIM build time: `cargo test --lib plan::tests::million -- --ignored --nocapture`.
#[test]
#[ignore]
fn million_sim_plan_is_fast() {
    let n = 1_000_000u64;
    let sims: Vec<Sim> = (0..n)
        .map(|i| {
            let mut s = sim(i, 2);
            s.monthly_data_limit = Some(if i % 2 == 0 { 1_000_000 } else { 500_000_000 });
            s
        })
        .collect();
    let limit = DesiredValue::Limit(Limit::Value(500_000_000));
    let desired: Vec<DesiredSim> = (0..n)
        .map(|i| want(i, &[(Field::MonthlyDataLimit, limit.clone())]))
        .collect();
    let t = table();
    let start = std::time::Instant::now();
    let p = build(input(&sims, &desired, Some(&t))).expect("plan");
    let built = start.elapsed();
    let text = p.to_file_json();
    eprintln!(
        "1M SIMs: build {:?}, file {:?} ({} MB), {} changes, {} calls",
        built,
        start.elapsed(),
        text.len() / 1_000_000,
        p.changes.len(),
        p.summary.api_calls
    );
    assert_eq!(p.summary.api_calls, 500);
}
