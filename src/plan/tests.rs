//! Unit tests of the plan engine (the one the binary runs): the rules of meaning end to end over
//! small fleets built in code, each SIM's desired values given as a `sims:` entry.

use serde_json::json;

use super::*;
use crate::fleet::{Coverage, EndCustomerLabel, ImeiLock, LiveFleet, Sim, Transition};
use crate::spec::{DesiredValue, ImeiLockSetting, Limit, Origin, ResolvedValue, SimEntry, Spec};

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

/// What the spec wants of SIM `n`: a `sims:` entry setting `fields`.
pub(crate) fn want(n: u64, fields: &[(Field, DesiredValue)]) -> SimEntry {
    let settings = fields
        .iter()
        .enumerate()
        .map(|(i, (f, v))| {
            (
                *f,
                ResolvedValue {
                    value: v.clone(),
                    origin: origin("r", 10 + i as u32).into(),
                },
            )
        })
        .collect();
    SimEntry::new(iccid(n), origin("r", 10), settings)
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

/// One plan to make: the live fleet, the `sims:` entries, and what else the engine is given.
#[derive(Debug, Clone)]
pub(crate) struct Case<'a> {
    pub sims: &'a [Sim],
    pub desired: &'a [SimEntry],
    pub sims_total: u64,
    pub coverage: Coverage,
    pub transitions: Option<&'a [Transition]>,
    pub running_batch_jobs: &'a [i64],
    pub guards: Guards,
    pub spec_digest: String,
}

pub(crate) fn input<'a>(
    sims: &'a [Sim],
    desired: &'a [SimEntry],
    transitions: Option<&'a [Transition]>,
) -> Case<'a> {
    Case {
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
    }
}

/// A spec of `sims:` entries only.
pub(crate) fn entries_spec(desired: &[SimEntry], digest: &str) -> Spec {
    Spec::new(
        Vec::new(),
        desired.to_vec(),
        crate::spec::Config::default(),
        Vec::new(),
        digest.to_string(),
    )
}

/// Makes the plan of a case with the engine the binary runs.
pub(crate) fn build(case: Case<'_>) -> Result<Plan, PlanError> {
    let spec = entries_spec(case.desired, &case.spec_digest);
    let request = PlanRequest {
        spec: &spec,
        target: None,
        guards: case.guards.clone(),
    };
    plan_fleet(
        &request,
        LiveFleet {
            sims: case.sims.to_vec(),
            sims_total: case.sims_total,
            coverage: case.coverage.clone(),
            transitions: case.transitions.map(<[_]>::to_vec),
            running_batch_jobs: case.running_batch_jobs.to_vec(),
        },
    )
}

fn plan(sims: &[Sim], desired: &[SimEntry]) -> Plan {
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
    assert_eq!(change.field_count(), 2);
    assert_eq!(change.field_list()[0].from, json!(7));
    assert_eq!(change.field_list()[0].to, json!(null));
    assert_eq!(change.field_list()[1].field, Field::EndCustomerLabel);
    assert_eq!(change.field_list()[1].from, json!("x"));
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
    d.settings.iter_mut().for_each(|(_, v)| {
        std::sync::Arc::make_mut(&mut v.origin).kind = OriginKind::SimEntry { iccid: iccid(7) }
    });
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
    let desired: Vec<SimEntry> = (1..=6).map(|n| want(n, &on)).collect();
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
    let fields = &p.changes[0].field_list();
    assert_eq!(fields.len(), 2);
    assert!(fields[0].implied);
    assert_eq!(
        (fields[0].from.clone(), fields[0].to.clone()),
        (FieldValue::Int(20), FieldValue::Int(2))
    );
    assert_eq!(fields[0].flags, RiskFlags::from(RiskFlag::RestoresService));
    assert_eq!(fields[1].flags, RiskFlags::from(RiskFlag::ImeiUnlock));
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
        .fields()
        .map(|f| f.flags.iter().copied().collect())
        .collect();
    assert_eq!(
        flags,
        vec![vec![RiskFlag::LoweredLimit], vec![RiskFlag::ImeiUnlock]]
    );
}

#[test]
fn checksum_ignores_input_order_and_timestamps() {
    let mut sims: Vec<Sim> = (1..=50).map(|n| sim(n, 2)).collect();
    let desired: Vec<SimEntry> = (1..=50)
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
fn checksum_covers_every_part_of_every_change_and_survives_a_file_round_trip() {
    let sims: Vec<Sim> = (1..=20).map(|n| sim(n, 2)).collect();
    let desired: Vec<SimEntry> = (1..=20)
        .map(|n| {
            want(
                n,
                &[
                    (
                        Field::MonthlyDataLimit,
                        DesiredValue::Limit(Limit::Value(n as i64 % 3 + 1)),
                    ),
                    (Field::CustomField1, DesiredValue::Text(Some("x".into()))),
                ],
            )
        })
        .collect();
    let p = plan(&sims, &desired);
    assert!(p.changes.len() > 2);
    // Loaded from its file, changes citing the same source share it again: same checksum.
    let loaded = Plan::from_file_json(&p.to_file_json()).expect("loads");
    assert_eq!(loaded.checksum, p.checksum);
    assert_eq!(loaded, p);
    let cf1_sources: Vec<_> = loaded
        .changes
        .iter()
        .flat_map(|c| c.fields())
        .filter(|f| f.field == Field::CustomField1)
        .map(|f| f.source)
        .collect();
    assert!(cf1_sources.len() > 1);
    assert!(cf1_sources
        .windows(2)
        .all(|w| std::sync::Arc::ptr_eq(&w[0], &w[1])));
    type Edit = fn(&mut Plan);
    let edits: [(&str, Edit); 9] = [
        ("iccid", |p| p.changes[0].iccid.push('0')),
        ("from", |p| {
            p.changes[0].edit(|f| f[0].from = FieldValue::Int(999))
        }),
        ("to", |p| p.changes[1].edit(|f| f[1].to = FieldValue::Null)),
        ("field", |p| {
            p.changes[0].edit(|f| f[0].field = Field::MonthlySmsMtLimit)
        }),
        ("source", |p| {
            p.changes[2].edit(|f| std::sync::Arc::make_mut(&mut f[0].source).line += 1)
        }),
        ("flags", |p| {
            p.changes[0].edit(|f| f[0].flags.insert(RiskFlag::StatusCut))
        }),
        ("implied", |p| p.changes[0].edit(|f| f[0].implied ^= true)),
        ("order", |p| p.changes.swap(0, 1)),
        ("a SIM less", |p| {
            p.changes.pop();
        }),
    ];
    for (what, edit) in edits {
        let mut edited = p.clone();
        edit(&mut edited);
        assert_ne!(edited.compute_checksum(), p.checksum, "{what}");
    }
    // Two sources swapped between changes is a different plan too.
    let mut swapped = p.clone();
    swapped.changes[0].edit(|f| {
        let first = f[0].source.clone();
        f[0].source = f[1].source.clone();
        f[1].source = first;
    });
    assert_ne!(swapped.compute_checksum(), p.checksum);
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
    let current = format!("\"format_version\":{PLAN_FORMAT_VERSION}");
    let future = text.replacen(&current, "\"format_version\":9", 1);
    assert!(matches!(
        Plan::from_file_json(&future),
        Err(PlanError::Version { found: 9 })
    ));
    // A plan made by an older simfleet is refused with the command that makes it again.
    let old = text.replacen(&current, "\"format_version\":1", 1);
    let refused = Plan::from_file_json(&old).expect_err("format 1 is refused");
    assert!(refused.to_string().contains("simfleet plan"), "{refused}");
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
    assert!(p.unmanaged.is_empty(), "never read, so not listed");
    assert!(p.warnings[0].message.contains("7, 42"));
}

#[test]
fn full_coverage_lists_the_unmanaged_sims_by_iccid() {
    let sims = [sim(3, 2), sim(1, 2), sim(2, 2)];
    let desired = [want(
        2,
        &[(Field::CustomField1, DesiredValue::Text(Some("a".into())))],
    )];
    let p = build(input(&sims, &desired, None)).expect("plan");
    assert_eq!(p.summary.sims_unmanaged, 2);
    assert!(!p.summary.unmanaged_is_count);
    assert_eq!(p.unmanaged, vec![sim(1, 2).iccid, sim(3, 2).iccid]);
}

/// Million-SIM build time: `cargo test --lib plan::tests::million -- --ignored --nocapture`.
#[test]
#[ignore = "slow: a measurement; cargo test --release --lib plan::tests::million -- --ignored --nocapture"]
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
    let desired: Vec<SimEntry> = (0..n)
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

#[test]
fn input_from_a_live_fleet_carries_everything() {
    let live = crate::fleet::LiveFleet {
        sims: vec![sim(1, 5)],
        sims_total: 10,
        coverage: Coverage::PushedDown,
        transitions: Some(table()),
        running_batch_jobs: vec![3],
    };
    let desired = [want(1, &[(Field::Status, DesiredValue::Status(2))])];
    let spec = entries_spec(&desired, "d");
    let request = PlanRequest {
        spec: &spec,
        target: None,
        guards: Guards::default(),
    };
    let p = plan_fleet(&request, live).expect("plan");
    assert_eq!(p.summary.sims_total, 10);
    assert_eq!(p.summary.sims_unmanaged, 9);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(p.warnings[0].code, WarningCode::RunningBatchJobs);
}

/// Applies a plan's actions to SIMs with the API's documented storage rules (batch `0` =
/// unlimited, updateSim `null` SMS/voice = no limit, `""` erases text, batch `imei_lock: true` =
/// auto-detect, unlocking a SIM in status 20 activates it). A stand-in for `apply` + sandbox.
fn apply_actions(sims: &mut [Sim], actions: &[Action]) {
    let find = |sims: &mut [Sim], iccid: &str| -> usize {
        sims.iter()
            .position(|s| s.iccid == iccid)
            .expect("action names a live SIM")
    };
    let text = |t: &str| (!t.is_empty()).then(|| t.to_string());
    let limit32 = |v: i64| i32::try_from(v).expect("SMS limit fits");
    // Every status change the calls make, in the order they are made, is one step the table
    // allows (multi-step paths included).
    let table = crate::plan::TransitionSet::new(&table());
    let set_status = |s: &mut Sim, to: i32| {
        assert!(
            s.statusid == to || table.allows(s.statusid, to, s.providerid),
            "{} → {to} is not in the table ({})",
            s.statusid,
            s.iccid
        );
        s.statusid = to;
    };
    for action in actions {
        match action {
            Action::BatchJob(b) => {
                assert!(!b.iccids.is_empty() && b.iccids.len() <= MAX_BATCH_ICCIDS);
                for iccid in &b.iccids {
                    let i = find(sims, iccid);
                    let s = &mut sims[i];
                    let c = &b.changes;
                    if let Some(v) = c.statusid {
                        set_status(s, v);
                    }
                    let unl = |v: i64| (v != 0).then_some(v);
                    if let Some(v) = c.monthly_data_limit {
                        s.monthly_data_limit = unl(v);
                    }
                    if let Some(v) = c.monthly_sms_mo_limit {
                        s.monthly_sms_mo_limit = unl(v).map(limit32);
                    }
                    if let Some(v) = c.monthly_sms_mt_limit {
                        s.monthly_sms_mt_limit = unl(v).map(limit32);
                    }
                    if let Some(v) = c.monthly_voice_mo_limit {
                        s.monthly_voice_mo_limit = unl(v);
                    }
                    if let Some(t) = &c.custom_field_1 {
                        s.custom_field_1 = text(t);
                    }
                    if let Some(t) = &c.end_customer_label {
                        s.end_customer_label = text(t).map(|name| EndCustomerLabel { name });
                    }
                    match c.imei_lock {
                        Some(true) if !s.imei_lock.as_ref().is_some_and(|l| l.enabled) => {
                            s.imei_lock = Some(ImeiLock {
                                enabled: true,
                                imei: None,
                            })
                        }
                        Some(false) => {
                            s.imei_lock = Some(ImeiLock {
                                enabled: false,
                                imei: None,
                            });
                            if s.statusid == 20 {
                                s.statusid = 2;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Action::UpdateSim(u) => {
                let i = find(sims, &u.iccid);
                let s = &mut sims[i];
                let c = &u.changes;
                assert_ne!(
                    c.monthly_data_limit,
                    Some(0),
                    "unlimited data via updateSim"
                );
                if let Some(v) = c.statusid {
                    set_status(s, v);
                }
                if let Some(v) = c.monthly_data_limit {
                    s.monthly_data_limit = Some(v);
                }
                if let Some(v) = c.monthly_sms_mo_limit {
                    s.monthly_sms_mo_limit = v.map(limit32);
                }
                if let Some(v) = c.monthly_sms_mt_limit {
                    s.monthly_sms_mt_limit = v.map(limit32);
                }
                if let Some(v) = c.monthly_voice_mo_limit {
                    s.monthly_voice_mo_limit = v;
                }
                if let Some(t) = &c.custom_field_1 {
                    s.custom_field_1 = text(t);
                }
                if let Some(t) = &c.end_customer_label {
                    s.end_customer_label = text(t).map(|name| EndCustomerLabel { name });
                }
                if let Some(lock) = &c.imei_lock {
                    s.imei_lock = Some(ImeiLock {
                        enabled: lock.lock,
                        imei: lock.imei.clone(),
                    });
                    if !lock.lock && s.statusid == 20 {
                        s.statusid = 2;
                    }
                }
            }
        }
    }
}

pub(crate) mod converges {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn limit() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![Just(None), Just(Some(0)), (1i64..4).prop_map(Some)]
    }

    pub(crate) fn desired_limit() -> impl Strategy<Value = Option<DesiredValue>> {
        prop_oneof![
            Just(None),
            Just(Some(DesiredValue::Limit(Limit::Unlimited))),
            (1i64..4).prop_map(|v| Some(DesiredValue::Limit(Limit::Value(v)))),
        ]
    }

    pub(crate) fn text() -> impl Strategy<Value = Option<String>> {
        prop_oneof![Just(None), Just(Some(String::new())), "[ab]".prop_map(Some)]
    }

    pub(crate) fn desired_text() -> impl Strategy<Value = Option<DesiredValue>> {
        prop_oneof![
            Just(None),
            Just(Some(DesiredValue::Text(None))),
            "[ab]".prop_map(|t| Some(DesiredValue::Text(Some(t)))),
        ]
    }

    pub(crate) fn lock() -> impl Strategy<Value = Option<ImeiLock>> {
        prop_oneof![
            Just(None),
            any::<bool>().prop_map(|enabled| Some(ImeiLock {
                enabled,
                imei: None
            })),
            Just(Some(ImeiLock {
                enabled: true,
                imei: Some("356938035643809".into())
            })),
        ]
    }

    pub(crate) fn desired_lock() -> impl Strategy<Value = Option<DesiredValue>> {
        prop_oneof![
            Just(None),
            Just(Some(DesiredValue::ImeiLock(ImeiLockSetting::Off))),
            Just(Some(DesiredValue::ImeiLock(ImeiLockSetting::Auto))),
            Just(Some(DesiredValue::ImeiLock(ImeiLockSetting::Imei(
                "490154203237518".into()
            )))),
        ]
    }

    pub(crate) fn desired_status() -> impl Strategy<Value = Option<DesiredValue>> {
        prop_oneof![
            Just(None),
            proptest::sample::select(vec![2, 5, 12, 6, 8, 7])
                .prop_map(|s| Some(DesiredValue::Status(s))),
        ]
    }

    prop_compose! {
        pub(crate) fn live_sim()(
            status in proptest::sample::select(vec![2, 5, 6, 8, 12, 3, 13, 16, 20, 7]),
            data in limit(), sms in limit(), voice in limit(),
            cf in text(), label in text(), imei_lock in lock(),
            used in (0i64..5, 0i32..5, 0i32..5, 0i64..5),
        ) -> Sim {
            Sim {
                statusid: status,
                providerid: 1,
                monthly_data_volume: Some(used.0),
                monthly_sms_mo: Some(used.1),
                monthly_sms_mt: Some(used.2),
                monthly_voice_mo: Some(used.3),
                monthly_data_limit: data,
                monthly_sms_mo_limit: sms.map(|v| v as i32),
                monthly_voice_mo_limit: voice,
                custom_field_1: cf,
                end_customer_label: label.map(|name| EndCustomerLabel { name }),
                imei_lock,
                ..Sim::default()
            }
        }
    }

    prop_compose! {
        pub(crate) fn wanted()(
            status in desired_status(), data in desired_limit(), sms in desired_limit(),
            voice in desired_limit(), cf in desired_text(), label in desired_text(),
            lock in desired_lock(),
        ) -> Vec<(Field, DesiredValue)> {
            [
                (Field::Status, status),
                (Field::MonthlyDataLimit, data),
                (Field::MonthlySmsMoLimit, sms),
                (Field::MonthlyVoiceMoLimit, voice),
                (Field::CustomField1, cf),
                (Field::EndCustomerLabel, label),
                (Field::ImeiLock, lock),
            ]
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .collect()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Applying a plan's actions makes every planned change hold: planning again finds
        /// nothing left to change, and the calls never undercut the lower bound.
        #[test]
        fn applying_the_actions_converges(
            fleet in proptest::collection::vec((live_sim(), wanted(), any::<bool>()), 1..60)
        ) {
            let mut sims = Vec::new();
            let mut desired = Vec::new();
            for (n, (mut s, fields, managed)) in fleet.into_iter().enumerate() {
                s.iccid = iccid(n as u64);
                if managed {
                    desired.push(want(n as u64, &fields));
                }
                sims.push(s);
            }
            let t = table();
            let first = build(input(&sims, &desired, Some(&t))).expect("plan");
            prop_assert!(first.summary.api_calls >= first.summary.lower_bound);
            let planned: u64 = first.changes.iter().map(|c| c.fields().filter(|f| !f.implied).count() as u64).sum();
            prop_assert_eq!(planned, first.summary.field_changes);
            let mut after = sims.clone();
            apply_actions(&mut after, &first.actions);
            let second = build(input(&after, &desired, Some(&t))).expect("plan");
            // A status the first plan could not change (blocked, held, pending) may still
            // differ, e.g. when an IMEI unlock re-activated a SIM whose deactivation is blocked;
            // every other field must hold now.
            let unsettled: Vec<&str> = first
                .blocked
                .iter()
                .map(|b| b.iccid.as_str())
                .chain(first.held.iter().map(|h| h.iccid.as_str()))
                .chain(first.pending.iter().map(|p| p.iccid.as_str()))
                .collect();
            for change in &second.changes {
                for f in change.fields() {
                    prop_assert!(
                        f.field == Field::Status && unsettled.contains(&change.iccid.as_str()),
                        "left over: {:?}", change
                    );
                }
            }
            // Unmanaged SIMs are never touched.
            for (before, now) in sims.iter().zip(&after) {
                if !desired.iter().any(|d| d.iccid == before.iccid) {
                    prop_assert_eq!(before, now);
                }
            }
        }
    }
}

#[test]
fn a_plan_file_with_an_empty_include_list_is_refused_even_with_a_valid_checksum() {
    let sims: Vec<Sim> = (1..=3).map(|n| sim(n, 2)).collect();
    let desired: Vec<SimEntry> = (1..=3)
        .map(|n| {
            want(
                n,
                &[(
                    Field::MonthlyDataLimit,
                    DesiredValue::Limit(Limit::Unlimited),
                )],
            )
        })
        .collect();
    let sims: Vec<Sim> = sims
        .into_iter()
        .map(|mut s| {
            s.monthly_data_limit = Some(5);
            s
        })
        .collect();
    let mut p = plan(&sims, &desired);
    assert!(p.check_actions().is_ok());
    let Action::BatchJob(b) = &mut p.actions[0] else {
        panic!("{:?}", p.actions)
    };
    b.iccids.clear();
    p.actions.push(Action::UpdateSim(UpdateSimAction {
        phase: 1,
        steps_after: 0,
        iccid: iccid(1),
        changes: UpdateSimChanges {
            monthly_data_limit: Some(0),
            ..UpdateSimChanges::default()
        },
    }));
    p.checksum = p.compute_checksum();
    // The grouped plan file has no actions to edit (they are grouped again on load), but the
    // per-SIM JSON, which `apply` also takes, has.
    let per_sim = serde_json::to_string(&p).expect("serialises");
    match Plan::from_file_json(&per_sim) {
        Err(PlanError::UnsafeActions(problems)) => {
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(problems[0].contains("0 ICCIDs"));
            assert!(problems[1].contains("monthly_data_limit"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn values_of_the_wrong_kind_are_reported_all_at_once() {
    let sims = [sim(1, 2), sim(2, 2)];
    let desired = [
        want(1, &[(Field::Status, DesiredValue::Limit(Limit::Unlimited))]),
        want(2, &[(Field::ImeiLock, DesiredValue::Text(None))]),
    ];
    match build(input(&sims, &desired, None)) {
        Err(PlanError::WrongKind(problems)) => assert_eq!(problems.len(), 2),
        other => panic!("{other:?}"),
    }
}
