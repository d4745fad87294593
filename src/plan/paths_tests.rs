//! Multi-step status paths through the whole plan engine: what their intermediate statuses
//! count for the guards, how their steps are batched, and that the checksum covers the path.

use super::tests::{build, input, sim, want};
use super::*;
use crate::fleet::{Sim, Transition};
use crate::spec::DesiredValue;

fn transitions(pairs: &[(i32, i32)], providers: &[i32]) -> Vec<Transition> {
    let mut out = Vec::new();
    for provider in providers {
        for (from, to) in pairs {
            out.push(Transition {
                fromstatusid: *from,
                tostatusid: *to,
                providerid: *provider,
            });
        }
    }
    out
}

fn status(n: u64, live: i32, desired: i32) -> (Sim, crate::spec::SimEntry) {
    (
        sim(n, live),
        want(n, &[(Field::Status, DesiredValue::Status(desired))]),
    )
}

#[test]
fn a_cut_on_the_way_is_a_status_cut_and_an_activation_on_the_way_is_reported() {
    // 2 → 6 only through Deactivated (5); 3 → 5 only through Activated (2).
    let t = transitions(&[(2, 5), (5, 6), (3, 2)], &[1]);
    let (a, want_a) = status(1, 2, 6);
    let (b, want_b) = status(2, 3, 5);
    let sims = [a, b];
    let desired = [want_a, want_b];
    let mut case = input(&sims, &desired, Some(&t));
    case.guards = Guards::default();
    let p = build(case.clone()).expect("plan");
    let fields: Vec<FieldChange> = p.changes.iter().map(|c| c.field_list().remove(0)).collect();
    assert_eq!(fields[0].via.to_vec(), vec![5]);
    // Test Ready is no cut, but the step through Deactivated is.
    assert_eq!(fields[0].flags, RiskFlags::from(RiskFlag::StatusCut));
    assert_eq!(fields[1].via.to_vec(), vec![2]);
    assert_eq!(fields[1].flags, RiskFlags::from(RiskFlag::StatusCut));
    let cuts = p
        .guards
        .iter()
        .find(|g| g.guard == GuardKind::StatusCuts)
        .expect("status cut guard");
    assert_eq!((cuts.count, cuts.stops), (2, true));
    let on_the_way = p
        .guards
        .iter()
        .find(|g| g.guard == GuardKind::PathActivations)
        .expect("path activation line");
    assert_eq!((on_the_way.count, on_the_way.stops), (1, false));
    assert_eq!(p.outcome(), Outcome::Blocked);
    // Allowed, the plan goes through; the activation on the way is still reported.
    case.guards.allow_status_cuts = true;
    let p = build(case).expect("plan");
    assert_eq!(p.outcome(), Outcome::Changes);
    assert!(p
        .guards
        .iter()
        .any(|g| g.guard == GuardKind::PathActivations));
}

#[test]
fn steps_are_batched_like_any_status_change() {
    // 2,500 issued SIMs of two products and 1,500 suspended ones, all to be deactivated: each
    // goes through Activated. Step one (to 2) covers 4,000 SIMs, step two (to 5) too: 4 + 4
    // batch jobs, whatever the product or the status they start from.
    let t = transitions(&[(3, 2), (2, 5), (12, 2)], &[1, 5]);
    let mut sims = Vec::new();
    let mut desired = Vec::new();
    for n in 0..4_000u64 {
        let live = if n < 2_500 { 3 } else { 12 };
        let (mut s, w) = status(n, live, 5);
        s.providerid = if n % 2 == 0 { 1 } else { 5 };
        sims.push(s);
        desired.push(w);
    }
    let p = build(input(&sims, &desired, Some(&t))).expect("plan");
    assert_eq!(p.summary.api_calls, 8);
    assert_eq!(p.summary.lower_bound, 8);
    let rounds: Vec<(u8, u8, Option<i32>, usize)> = p
        .actions
        .iter()
        .map(|a| match a {
            Action::BatchJob(b) => (b.phase, b.steps_after, b.changes.statusid, b.iccids.len()),
            Action::UpdateSim(u) => panic!("{u:?}"),
        })
        .collect();
    assert_eq!(
        rounds,
        vec![
            (0, 1, Some(2), 1000),
            (0, 1, Some(2), 1000),
            (0, 1, Some(2), 1000),
            (0, 1, Some(2), 1000),
            (0, 0, Some(5), 1000),
            (0, 0, Some(5), 1000),
            (0, 0, Some(5), 1000),
            (0, 0, Some(5), 1000),
        ]
    );
}

#[test]
fn longer_paths_run_their_earliest_step_first_and_share_later_rounds() {
    // 3 → 2 → 5 → 7 (three steps) and 2 → 5 → 7 (two): the three-step SIM starts one round
    // earlier; from then on both take the same steps in the same calls.
    let t = transitions(&[(3, 2), (2, 5), (5, 7)], &[1]);
    let (a, want_a) = status(1, 3, 7);
    let (b, want_b) = status(2, 2, 7);
    let (c, want_c) = status(3, 3, 7);
    let p = build(input(&[a, b, c], &[want_a, want_b, want_c], Some(&t))).expect("plan");
    assert_eq!(p.changes[0].field_list()[0].via.to_vec(), vec![2, 5]);
    assert_eq!(p.changes[1].field_list()[0].via.to_vec(), vec![5]);
    let rounds: Vec<(u8, u8, Vec<String>)> = p
        .actions
        .iter()
        .map(|a| (a.phase(), a.steps_after(), a.iccids().to_vec()))
        .collect();
    let [one, two, three] = [1, 2, 3].map(tests::iccid);
    assert_eq!(
        rounds,
        vec![
            (0, 2, vec![one.clone(), three.clone()]),
            (0, 1, vec![one.clone(), two.clone(), three.clone()]),
            (0, 0, vec![one, two, three]),
        ]
    );
    // Retiring counts once, and the cut on the way counts as a cut.
    assert_eq!(
        p.changes[1].field_list()[0].flags,
        [RiskFlag::StatusCut, RiskFlag::Irreversible]
            .into_iter()
            .collect::<RiskFlags>()
    );
}

#[test]
fn the_checksum_covers_the_path() {
    let t = transitions(&[(3, 2), (2, 5), (3, 8), (8, 5)], &[1]);
    let (a, want_a) = status(1, 3, 5);
    let p = build(input(&[a], &[want_a], Some(&t))).expect("plan");
    assert_eq!(p.changes[0].field_list()[0].via.to_vec(), vec![2]);
    let text = p.to_file_json();
    assert_eq!(Plan::from_file_json(&text).expect("loads"), p);
    let tampered = text.replace("\"via\":[2]", "\"via\":[8]");
    assert_ne!(tampered, text);
    assert!(matches!(
        Plan::from_file_json(&tampered),
        Err(PlanError::Checksum { .. })
    ));
}

#[test]
fn a_lead_in_step_that_changes_more_than_the_status_is_refused() {
    let t = transitions(&[(3, 2), (2, 5)], &[1]);
    let (a, want_a) = status(1, 3, 5);
    let mut p = build(input(&[a], &[want_a], Some(&t))).expect("plan");
    assert!(p.check_actions().is_ok());
    match &mut p.actions[0] {
        Action::UpdateSim(u) => {
            assert_eq!(u.steps_after, 1);
            u.changes.custom_field_1 = Some("x".into());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        p.check_actions(),
        Err(PlanError::UnsafeActions(_))
    ));
}
