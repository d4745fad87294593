//! Unit tests of usage-aware risk, through the engine the binary runs: a new limit at or below
//! this month's usage cuts service (flag `usage_cut`, counted by the status-cuts guard), one
//! within 10 % above it is a warning (`near_usage`), for each limit and its own counter.

use serde_json::json;

use super::tests::{build, iccid, input, sim, table, want};
use super::*;
use crate::fleet::{ImeiLock, Sim};
use crate::spec::{DesiredValue, ImeiLockSetting, Limit};

/// Sets this month's usage of one counter.
type SetUsage = fn(&mut Sim, i64);

/// The four limits, each with a setter for the counter it is judged by.
const COUNTERS: [(Field, SetUsage); 4] = [
    (Field::MonthlyDataLimit, |s, n| {
        s.monthly_data_volume = Some(n)
    }),
    (Field::MonthlySmsMoLimit, |s, n| {
        s.monthly_sms_mo = Some(n as i32);
    }),
    (Field::MonthlySmsMtLimit, |s, n| {
        s.monthly_sms_mt = Some(n as i32);
    }),
    (Field::MonthlyVoiceMoLimit, |s, n| {
        s.monthly_voice_mo = Some(n)
    }),
];

fn limit(n: i64) -> DesiredValue {
    DesiredValue::Limit(Limit::Value(n))
}

/// The plan of one Activated SIM that used `used` of `field`'s counter, given `to` (allowed to
/// cut service, so the plan is made whatever its flags).
fn one(field: Field, set: SetUsage, used: i64, to: DesiredValue) -> Plan {
    let mut s = sim(1, 2);
    set(&mut s, used);
    let t = table();
    let desired = [want(1, &[(field, to)])];
    build(input(&[s], &desired, Some(&t))).expect("plan")
}

fn only_change(p: &Plan) -> FieldChange {
    assert_eq!(p.changes.len(), 1, "{p:#?}");
    p.changes[0].field_list().remove(0)
}

#[test]
fn a_limit_at_or_below_usage_cuts_service_for_every_counter() {
    for (field, set) in COUNTERS {
        for (used, to) in [(100, 100), (150, 100), (100, 1)] {
            let p = one(field, set, used, limit(to));
            let c = only_change(&p);
            assert!(c.flags.contains(RiskFlag::UsageCut), "{field} {used} {to}");
            assert!(!c.flags.contains(RiskFlag::NearUsage), "{field}");
            // From unlimited, the limit is lowered too.
            assert!(c.flags.contains(RiskFlag::LoweredLimit), "{field}");
            assert_eq!(c.usage, Some(used), "{field}");
            assert_eq!(p.summary.usage_cuts, 1, "{field}");
            assert_eq!(p.summary.near_usage, 0, "{field}");
        }
    }
}

#[test]
fn a_limit_within_ten_percent_above_usage_is_near_and_above_that_is_plain() {
    for (field, set) in COUNTERS {
        for to in [101, 105, 110] {
            let p = one(field, set, 100, limit(to));
            let c = only_change(&p);
            assert!(c.flags.contains(RiskFlag::NearUsage), "{field} {to}");
            assert!(!c.flags.contains(RiskFlag::UsageCut), "{field} {to}");
            assert_eq!(c.usage, Some(100));
            assert_eq!((p.summary.usage_cuts, p.summary.near_usage), (0, 1));
            // A warning only: no guard stops it.
            assert!(!p.stopped_by_guard(), "{field} {to}");
        }
        let p = one(field, set, 100, limit(111));
        let c = only_change(&p);
        assert!(!c.flags.contains(RiskFlag::NearUsage) && !c.flags.contains(RiskFlag::UsageCut));
        assert_eq!(c.usage, None, "usage is shown only with its flags");
        assert_eq!((p.summary.usage_cuts, p.summary.near_usage), (0, 0));
    }
}

#[test]
fn unlimited_and_unread_usage_never_cut() {
    for (field, set) in COUNTERS {
        let mut s = sim(1, 2);
        set(&mut s, 1 << 30);
        match field {
            Field::MonthlyDataLimit => s.monthly_data_limit = Some(1),
            Field::MonthlySmsMoLimit => s.monthly_sms_mo_limit = Some(1),
            Field::MonthlySmsMtLimit => s.monthly_sms_mt_limit = Some(1),
            _ => s.monthly_voice_mo_limit = Some(1),
        }
        let t = table();
        let desired = [want(1, &[(field, DesiredValue::Limit(Limit::Unlimited))])];
        let p = build(input(&[s], &desired, Some(&t))).expect("plan");
        assert!(only_change(&p).flags.is_empty(), "{field}");
        // A SIM read without its counters (an old snapshot) says nothing about usage.
        let unread = [sim(1, 2)];
        let desired = [want(1, &[(field, limit(1))])];
        let p = build(input(&unread, &desired, Some(&t))).expect("plan");
        assert_eq!(
            only_change(&p).flags,
            RiskFlag::LoweredLimit.into(),
            "{field}"
        );
    }
}

#[test]
fn each_limit_is_judged_by_its_own_counter_only() {
    let mut s = sim(1, 2);
    s.monthly_sms_mo = Some(50);
    s.monthly_sms_mt = Some(5);
    let t = table();
    let desired = [want(
        1,
        &[
            (Field::MonthlySmsMoLimit, limit(40)),
            (Field::MonthlySmsMtLimit, limit(40)),
        ],
    )];
    let p = build(input(&[s], &desired, Some(&t))).expect("plan");
    let fields = &p.changes[0].field_list();
    assert_eq!(fields[0].field, Field::MonthlySmsMoLimit);
    assert!(fields[0].flags.contains(RiskFlag::UsageCut));
    assert_eq!(fields[0].usage, Some(50));
    assert!(!fields[1].flags.contains(RiskFlag::UsageCut));
    assert_eq!(fields[1].usage, None);
    // Counted by SIM, not by field.
    assert_eq!(p.summary.usage_cuts, 1);
}

#[test]
fn only_a_sim_with_service_after_the_plan_can_lose_it() {
    let t = table();
    let used = |status: i32| {
        let mut s = sim(1, status);
        s.monthly_data_volume = Some(1_000);
        s
    };
    let cut = |p: &Plan| {
        p.changes[0]
            .fields()
            .any(|f| f.flags.contains(RiskFlag::UsageCut))
    };
    // Deactivated, suspended, held: no service to lose.
    for status in [5, 12, 16, 3] {
        let desired = [want(1, &[(Field::MonthlyDataLimit, limit(10))])];
        let p = build(input(&[used(status)], &desired, Some(&t))).expect("plan");
        assert!(!cut(&p), "status {status}");
        assert_eq!(p.summary.usage_cuts, 0);
    }
    // Activated by the same plan: the limit stops it at once.
    let desired = [want(
        1,
        &[
            (Field::Status, DesiredValue::Status(2)),
            (Field::MonthlyDataLimit, limit(10)),
        ],
    )];
    let p = build(input(&[used(5)], &desired, Some(&t))).expect("plan");
    assert!(cut(&p));
    // Suspended by the same plan: that is the status cut, the limit cuts nothing more.
    let desired = [want(
        1,
        &[
            (Field::Status, DesiredValue::Status(12)),
            (Field::MonthlyDataLimit, limit(10)),
        ],
    )];
    let p = build(input(&[used(2)], &desired, Some(&t))).expect("plan");
    assert!(!cut(&p));
    assert_eq!(p.guards[0].count, 1);
    // IMEI unauthorized, unlocked: the implied 20 → 2 gives service back, and the limit takes it.
    let mut locked = used(20);
    locked.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let desired = [want(
        1,
        &[
            (Field::MonthlyDataLimit, limit(10)),
            (
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Off),
            ),
        ],
    )];
    let p = build(input(&[locked], &desired, Some(&t))).expect("plan");
    assert!(cut(&p));
}

#[test]
fn the_status_cuts_guard_stops_a_usage_cut_unless_allowed_and_names_it() {
    let t = table();
    let mut heavy = sim(1, 2);
    heavy.monthly_data_volume = Some(2_000_000_000);
    let cut = sim(2, 2);
    let sims = [heavy, cut];
    let desired = [
        want(1, &[(Field::MonthlyDataLimit, limit(1_000_000_000))]),
        want(2, &[(Field::Status, DesiredValue::Status(5))]),
    ];
    let mut i = input(&sims, &desired, Some(&t));
    i.guards = Guards::default();
    let p = build(i.clone()).expect("plan");
    assert_eq!(p.outcome(), crate::outcome::Outcome::Blocked);
    let g = &p.guards[0];
    assert_eq!(
        (g.guard, g.count, g.stops),
        (GuardKind::StatusCuts, 2, true)
    );
    assert!(
        g.message
            .contains("2 SIMs would lose service: 1 would be deactivated or suspended, 1 gets a limit at or below this month's usage, which cuts service at once")
            && g.message.contains("--allow-status-cuts"),
        "{}",
        g.message
    );
    // The usage cut alone stops the plan too.
    let mut alone = i.clone();
    alone.desired = &desired[..1];
    let p = build(alone.clone()).expect("plan");
    let g = &p.guards[0];
    assert_eq!(
        (g.guard, g.count, g.stops),
        (GuardKind::StatusCuts, 1, true)
    );
    assert_eq!(
        g.message,
        "1 SIM gets a limit at or below this month's usage, which cuts service at once: pass --allow-status-cuts (or allow_status_cuts in simfleet.yaml) to plan them"
    );
    alone.guards.allow_status_cuts = true;
    alone.guards.status_cuts_allowed_by = AllowedBy::Config;
    let p = build(alone).expect("plan");
    assert!(!p.stopped_by_guard());
    assert!(p.guards[0]
        .message
        .ends_with("(allowed by allow_status_cuts in simfleet.yaml)"));
}

#[test]
fn usage_is_in_the_json_and_the_checksum_only_where_flagged() {
    let mut s = sim(1, 2);
    s.monthly_voice_mo = Some(600);
    let other = sim(2, 2);
    let t = table();
    let desired = [
        want(1, &[(Field::MonthlyVoiceMoLimit, limit(300))]),
        want(2, &[(Field::MonthlyVoiceMoLimit, limit(300))]),
    ];
    let p = build(input(&[s, other], &desired, Some(&t))).expect("plan");
    let json = serde_json::to_value(&p).expect("json");
    let flagged = &json["changes"][0]["fields"][0];
    assert_eq!(flagged["usage"], json!(600));
    assert_eq!(flagged["flags"], json!(["lowered_limit", "usage_cut"]));
    assert_eq!(json["summary"]["usage_cuts"], json!(1));
    assert!(json["summary"].get("near_usage").is_none());
    let plain = &json["changes"][1]["fields"][0];
    assert!(plain.get("usage").is_none(), "{plain}");
    // The usage is covered by the checksum, and survives the plan file.
    let text = p.to_file_json();
    assert_eq!(Plan::from_file_json(&text).expect("loads"), p);
    let tampered = text.replacen("\"usage\":[600]", "\"usage\":[601]", 1);
    assert_ne!(tampered, text);
    assert!(matches!(
        Plan::from_file_json(&tampered),
        Err(PlanError::Checksum { .. })
    ));
    let mut edited = p.clone();
    edited.changes[0].edit(|f| f[0].usage = None);
    assert_ne!(edited.compute_checksum(), p.checksum);
    assert_eq!(iccid(1), p.changes[0].iccid);
}
