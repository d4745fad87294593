//! Unit tests of the rehearsal's pure parts: seeding a sandbox from a plan, and the prediction.

use super::*;
use crate::fleet::{EndCustomerLabel, ImeiLock};
use crate::plan::compare::live_value;
use crate::plan::tests::{build, input, sim, table, want};
use crate::plan::Field;
use crate::spec::{DesiredValue, ImeiLockSetting, Limit};

/// Each change as (ICCID, [(field, from, to)]).
type Changes = Vec<(String, Vec<(Field, String, String)>)>;

fn changes_of(plan: &crate::plan::Plan) -> Changes {
    plan.changes
        .iter()
        .map(|c| {
            let fields = c
                .fields()
                .map(|f| (f.field, f.from.to_string(), f.to.to_string()))
                .collect();
            (c.iccid.clone(), fields)
        })
        .collect()
}

#[test]
fn sims_rebuilt_from_a_plan_give_the_same_changes_again() {
    let mut sims = vec![
        sim(1, 2),
        sim(2, 2),
        sim(3, 20),
        sim(4, 3),
        sim(5, 7),
        sim(6, 13),
    ];
    sims[0].monthly_data_limit = Some(100);
    sims[0].monthly_sms_mo_limit = Some(5);
    sims[1].end_customer_label = Some(EndCustomerLabel { name: "old".into() });
    sims[1].custom_field_1 = Some("x".into());
    sims[2].imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let desired = vec![
        want(
            1,
            &[
                (
                    Field::MonthlyDataLimit,
                    DesiredValue::Limit(Limit::Value(500)),
                ),
                (
                    Field::MonthlySmsMoLimit,
                    DesiredValue::Limit(Limit::Unlimited),
                ),
                (Field::Status, DesiredValue::Status(12)),
            ],
        ),
        want(
            2,
            &[
                (Field::EndCustomerLabel, DesiredValue::Text(None)),
                (Field::CustomField1, DesiredValue::Text(Some("y".into()))),
            ],
        ),
        want(
            3,
            &[(
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Off),
            )],
        ),
        want(4, &[(Field::Status, DesiredValue::Status(12))]),
        want(5, &[(Field::Status, DesiredValue::Status(2))]),
        want(6, &[(Field::Status, DesiredValue::Status(2))]),
    ];
    let t = table();
    let plan = build(input(&sims, &desired, Some(&t))).expect("plan");
    assert!(!plan.blocked.is_empty() && !plan.skipped.is_empty() && !plan.pending.is_empty());

    let seed = seed_from_plan(&plan, None);
    assert_eq!(
        seed.snapshot.sims.len(),
        6,
        "changed, blocked, skipped and pending SIMs"
    );
    let rebuilt: std::collections::HashMap<&str, &crate::fleet::Sim> = seed
        .snapshot
        .sims
        .iter()
        .map(|s| (s.iccid.as_str(), s))
        .collect();
    for change in &plan.changes {
        for f in change.fields() {
            assert_eq!(live_value(rebuilt[change.iccid.as_str()], f.field), f.from);
        }
    }
    let again = build(input(&seed.snapshot.sims, &desired, Some(&t))).expect("plan");
    assert_eq!(changes_of(&again), changes_of(&plan));
    assert_eq!(again.blocked.len(), plan.blocked.len());
    assert_eq!(again.pending, plan.pending);
    assert_eq!(again.skipped, plan.skipped);
}

#[test]
fn seeding_from_live_sims_keeps_the_plans_and_names_the_missing() {
    let sims = vec![sim(1, 2), sim(2, 2), sim(3, 2)];
    let desired = vec![
        want(
            1,
            &[(Field::CustomField1, DesiredValue::Text(Some("a".into())))],
        ),
        want(
            2,
            &[(Field::CustomField1, DesiredValue::Text(Some("b".into())))],
        ),
    ];
    let plan = build(input(&sims, &desired, None)).expect("plan");
    let seed = seed_from_sims(&plan, vec![sim(1, 2), sim(3, 2)], None);
    let kept: Vec<&str> = seed
        .snapshot
        .sims
        .iter()
        .map(|s| s.iccid.as_str())
        .collect();
    assert_eq!(kept, [crate::plan::tests::iccid(1)]);
    assert_eq!(seed.missing, [crate::plan::tests::iccid(2)]);
}

#[test]
fn the_wall_time_follows_the_formula() {
    let phases = [
        PhaseCalls {
            phase: 0,
            batch_jobs: 3,
            batch_sims: 2500,
            largest_job: 1000,
            update_sim: 0,
        },
        PhaseCalls {
            phase: 1,
            batch_jobs: 100,
            batch_sims: 100_000,
            largest_job: 1000,
            update_sim: 40,
        },
    ];
    // 10 jobs of 1,000 SIMs in 200 ms each: 5,000 SIMs/s.
    let jobs = vec![(1000, 200); 10];
    let t = predict_time(&TimingInput {
        requests_per_second: 25,
        concurrency: 8,
        http_requests: 1200,
        polls: 200,
        phases: &phases,
        jobs: &jobs,
    });
    assert_eq!(t.batch_sims_per_second, Some(5000.0));
    assert_eq!(t.requests, 1000);
    assert!((t.request_seconds - 40.0).abs() < 1e-9);
    // ⌈3/8⌉ × 1000/5000 + ⌈100/8⌉ × 1000/5000 = 0.2 + 13 × 0.2
    assert!((t.batch_seconds - 2.8).abs() < 1e-9, "{}", t.batch_seconds);
    assert!((t.predicted_seconds - 42.8).abs() < 1e-9);
    assert!(t.formula.starts_with(FORMULA));
    let none = predict_time(&TimingInput {
        jobs: &[],
        ..TimingInput {
            requests_per_second: 25,
            concurrency: 8,
            http_requests: 50,
            polls: 0,
            phases: &[],
            jobs: &[],
        }
    });
    assert_eq!(
        (none.batch_sims_per_second, none.predicted_seconds),
        (None, 2.0)
    );
}

#[test]
fn failures_count_each_sim_once_per_cause() {
    let f = |iccid: &str, cause| PredictedFailure {
        iccid: iccid.into(),
        cause,
        field: None,
        detail: String::new(),
    };
    let failures = [
        f("1", FailureCause::ForbiddenTransition),
        f("1", FailureCause::ForbiddenTransition),
        f("2", FailureCause::ForbiddenTransition),
        f("2", FailureCause::Other),
    ];
    let counts = by_cause(&failures);
    assert_eq!(counts[&FailureCause::ForbiddenTransition], 2);
    assert_eq!(counts[&FailureCause::Other], 1);
    assert!(!counts.contains_key(&FailureCause::Stale));
}
