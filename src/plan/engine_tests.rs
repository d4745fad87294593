//! The engine's three ways in give one plan: a snapshot's bytes (streamed while split, or
//! decided after the split when the table comes last), a fleet in memory decided on every core,
//! and pages handed in out of order. Random small fleets and random specs with rules,
//! priorities, conflicts and `sims:` entries; plus the parallel paths at a size that uses them.

use proptest::prelude::*;

use super::engine::{plan_snapshot_in_batches, FleetFacts};
use super::tests::converges::{live_sim, wanted};
use super::tests::{iccid, origin, table};
use super::*;
use crate::fleet::{Coverage, LiveFleet, Sim, Transition};
use crate::spec::{Config, DesiredValue, Matcher, ResolvedValue, Rule, SimEntry, Spec};

/// A random rule: its selector, priority and what it sets.
type RandomRule = (String, i64, Vec<(Field, DesiredValue)>);

/// Selectors a random rule picks from: every kind of match key the fleet generator varies.
const SELECTORS: [&str; 7] = [
    "all",
    "{status: activated}",
    "{status: [deactivated, suspended]}",
    "{end_customer_label: a}",
    "{end_customer_label: none}",
    "{custom_field_1: {prefix: b}}",
    "{provider: 1}",
];

fn settings(
    fields: &[(Field, DesiredValue)],
    name: &str,
    line: u32,
) -> Vec<(Field, ResolvedValue)> {
    fields
        .iter()
        .map(|(f, v)| {
            (
                *f,
                ResolvedValue {
                    value: v.clone(),
                    origin: origin(name, line).into(),
                },
            )
        })
        .collect()
}

prop_compose! {
    fn rule()(
        selector in proptest::sample::select(SELECTORS.to_vec()),
        priority in 0i64..3,
        fields in wanted(),
    ) -> RandomRule {
        (selector.to_string(), priority, fields)
    }
}

/// A spec of random rules and `sims:` entries for some of the fleet's SIMs.
fn spec_of(rules: &[RandomRule], entries: &[(u64, Vec<(Field, DesiredValue)>)]) -> Spec {
    let rules = rules
        .iter()
        .enumerate()
        .map(|(i, (selector, priority, fields))| {
            let name = format!("rule-{i}");
            let line = 10 * (i as u32 + 1);
            let matcher = Matcher::parse_inline(selector).expect("selector parses");
            Rule::new(
                name.clone(),
                origin(&name, line),
                *priority,
                matcher,
                Vec::new(),
                settings(fields, &name, line),
            )
        })
        .collect();
    let entries = entries
        .iter()
        .map(|(n, fields)| {
            SimEntry::new(iccid(*n), origin("entry", 1), settings(fields, "entry", 1))
        })
        .collect();
    Spec::new(
        rules,
        entries,
        Config::default(),
        Vec::new(),
        "sha256:spec".into(),
    )
}

/// A snapshot's JSON, its transition table before or after its SIMs.
fn snapshot_json(sims: &[Sim], transitions: &[Transition], table_first: bool) -> Vec<u8> {
    let sims = serde_json::to_string(sims).expect("SIMs serialise");
    let table = serde_json::to_string(transitions).expect("table serialises");
    let text = if table_first {
        format!(r#"{{"format_version":1,"transitions":{table},"sims":{sims}}}"#)
    } else {
        format!(r#"{{"format_version":1,"sims":{sims},"transitions":{table}}}"#)
    };
    text.into_bytes()
}

fn request(spec: &Spec) -> PlanRequest<'_> {
    PlanRequest {
        spec,
        target: None,
        guards: Guards::default(),
    }
}

/// A plan, or its error as text (errors are compared by what the user reads).
fn outcome(result: Result<Plan, PlanError>) -> Result<Plan, String> {
    result.map_err(|e| match e {
        PlanError::Conflicts(c) => format!("{} conflicts: {:?}", c.len(), c),
        other => other.to_string(),
    })
}

fn online(spec: &Spec, sims: &[Sim], t: &[Transition]) -> Result<Plan, String> {
    let live = LiveFleet {
        sims: sims.to_vec(),
        sims_total: sims.len() as u64,
        coverage: Coverage::Full,
        transitions: Some(t.to_vec()),
        running_batch_jobs: Vec::new(),
    };
    outcome(plan_fleet(&request(spec), live))
}

fn paged(
    spec: &Spec,
    sims: &[Sim],
    t: &[Transition],
    page: usize,
    order: &[usize],
) -> Result<Plan, String> {
    let request = request(spec);
    let mut planner = Planner::new(&request, Some(t), &Coverage::Full);
    let pages: Vec<&[Sim]> = sims.chunks(page).collect();
    for &i in order {
        planner.page(pages[i]);
    }
    outcome(planner.finish(&FleetFacts {
        sims_total: sims.len() as u64,
        coverage: Coverage::Full,
        running_batch_jobs: Vec::new(),
    }))
}

/// `order` as a permutation of the pages of `n` SIMs cut every `page`.
fn permutation(n: usize, page: usize, keys: &[u32]) -> Vec<usize> {
    let count = n.div_ceil(page);
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&i| keys.get(i).copied().unwrap_or(0));
    order
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The offline plan equals the online plan equals the plan of the same fleet read page by
    /// page, including the error when rules conflict or an entry names a missing SIM.
    #[test]
    fn offline_equals_online_equals_paged(
        fleet in proptest::collection::vec(live_sim(), 0..40),
        rules in proptest::collection::vec(rule(), 0..5),
        entries in proptest::collection::vec((0u64..45, wanted()), 0..4),
        page in 1usize..8,
        batch in 1usize..9,
        table_first in any::<bool>(),
        keys in proptest::collection::vec(any::<u32>(), 40),
    ) {
        let sims: Vec<Sim> = fleet
            .into_iter()
            .enumerate()
            .map(|(n, mut s)| {
                s.iccid = iccid(n as u64);
                s
            })
            .collect();
        let mut entries = entries;
        entries.sort_by_key(|(n, _)| *n);
        entries.dedup_by_key(|(n, _)| *n);
        let spec = spec_of(&rules, &entries);
        let t = table();

        let online = online(&spec, &sims, &t);
        let bytes = snapshot_json(&sims, &t, table_first);
        let offline = outcome(plan_snapshot_in_batches(&request(&spec), &bytes[..], "snap.json", batch));
        let order = permutation(sims.len(), page, &keys);
        let paged = paged(&spec, &sims, &t, page, &order);
        prop_assert_eq!(&offline, &online);
        prop_assert_eq!(&paged, &online);
        // The grouped plan file gives back the same plan.
        if let Ok(plan) = &online {
            let loaded = Plan::from_file_json(&plan.to_file_json());
            prop_assert_eq!(loaded.as_ref().map_err(ToString::to_string), Ok(plan));
        }
    }
}

/// Fleets large enough for every core: the runs of [`crate::parallel::fold_runs`] and the
/// streamed batches join into the plan that pages of 100 give.
#[test]
fn parallel_paths_equal_pages_of_one_hundred() {
    let n = crate::parallel::PARALLEL_MIN_ITEMS as u64 + 5_001;
    let sims: Vec<Sim> = (0..n)
        .map(|i| {
            let mut s = super::tests::sim(i, if i % 7 == 0 { 5 } else { 2 });
            s.monthly_data_limit = Some((i % 5) as i64 * 1_000_000);
            s.custom_field_1 = (i % 3 == 0).then(|| format!("b{i}"));
            s
        })
        .collect();
    let rules = vec![
        (
            "all".to_string(),
            0,
            vec![(
                Field::MonthlyDataLimit,
                DesiredValue::Limit(crate::spec::Limit::Value(2_000_000)),
            )],
        ),
        (
            "{custom_field_1: {prefix: b}}".to_string(),
            1,
            vec![(Field::Status, DesiredValue::Status(2))],
        ),
    ];
    let spec = spec_of(
        &rules,
        &[(3, vec![(Field::CustomField1, DesiredValue::Text(None))])],
    );
    let t = table();
    let online = online(&spec, &sims, &t).expect("plan");
    let bytes = snapshot_json(&sims, &t, true);
    let offline = plan_snapshot(&request(&spec), &bytes[..], "snap.json").expect("plan");
    let order: Vec<usize> = (0..sims.len().div_ceil(100)).rev().collect();
    let paged = paged(&spec, &sims, &t, 100, &order).expect("plan");
    assert!(online.changes.len() > 10_000, "{}", online.changes.len());
    assert_eq!(offline, online);
    assert_eq!(paged, online);
    for plan in [&online, &offline, &paged] {
        change_sets_are_shared(plan);
    }
}

/// A plan's memory follows its distinct change sets: SIMs that change the same way share one
/// `Arc`, whichever run or page decided them.
fn change_sets_are_shared(plan: &Plan) {
    let pointers: std::collections::HashSet<*const super::change_set::ChangeSet> = plan
        .changes
        .iter()
        .map(|c| std::sync::Arc::as_ptr(c.set()))
        .collect();
    let distinct: std::collections::HashSet<&[super::change_set::Target]> =
        plan.changes.iter().map(|c| c.set().targets()).collect();
    assert_eq!(pointers.len(), distinct.len());
    assert!(distinct.len() < 10, "{} change sets", distinct.len());
}

/// Silent no-ops are loud: a rule that matches no SIM is named with its location, and an empty
/// spec says so.
#[test]
fn rules_that_match_nothing_and_empty_specs_warn() {
    let sims = [super::tests::sim(1, 2)];
    let t = table();
    let rules = vec![
        (
            "{status: activated}".to_string(),
            0,
            vec![(Field::CustomField1, DesiredValue::Text(None))],
        ),
        (
            "{end_customer_label: a}".to_string(),
            0,
            vec![(Field::CustomField1, DesiredValue::Text(None))],
        ),
    ];
    let plan = online(&spec_of(&rules, &[]), &sims, &t).expect("plan");
    let unmatched: Vec<&str> = plan
        .warnings
        .iter()
        .filter(|w| w.code == WarningCode::UnmatchedRule)
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    assert!(
        unmatched[0].contains("rule-1") && unmatched[0].contains("fleet/test.yaml:20:5"),
        "{unmatched:?}"
    );

    let empty = online(&spec_of(&[], &[]), &sims, &t).expect("plan");
    assert_eq!(empty.warnings[0].code, WarningCode::EmptySpec);

    // Under --target part of the fleet is hidden: no rule is called unmatched.
    let spec = spec_of(&rules, &[]);
    let target = Matcher::parse_inline("{status: deactivated}").expect("selector");
    let request = PlanRequest {
        spec: &spec,
        target: Some(&target),
        guards: Guards::default(),
    };
    let live = LiveFleet {
        sims: sims.to_vec(),
        sims_total: 1,
        coverage: Coverage::Full,
        transitions: Some(t.clone()),
        running_batch_jobs: Vec::new(),
    };
    let targeted = plan_fleet(&request, live).expect("plan");
    assert!(targeted
        .warnings
        .iter()
        .all(|w| w.code != WarningCode::UnmatchedRule));
}

/// A snapshot that lists a SIM twice is refused by name, however it is split.
#[test]
fn a_snapshot_with_a_duplicate_iccid_is_refused() {
    let mut sims = vec![super::tests::sim(1, 2), super::tests::sim(2, 2)];
    sims.push(super::tests::sim(1, 2));
    let spec = spec_of(
        &[],
        &[(1, vec![(Field::CustomField1, DesiredValue::Text(None))])],
    );
    for table_first in [true, false] {
        let bytes = snapshot_json(&sims, &table(), table_first);
        let err = plan_snapshot(&request(&spec), &bytes[..], "snap.json").expect_err("duplicate");
        assert!(err.to_string().contains(&iccid(1)), "{err}");
    }
}

/// A spec pointed at the wrong fleet names its first 20 missing `sims:` entries and counts the
/// rest, rather than printing every one.
#[test]
fn missing_sims_entries_are_listed_twenty_by_name() {
    let sims = [super::tests::sim(1, 2)];
    let entries: Vec<(u64, Vec<(Field, DesiredValue)>)> = (100..150)
        .map(|n| (n, vec![(Field::CustomField1, DesiredValue::Text(None))]))
        .collect();
    let err = online(&spec_of(&[], &entries), &sims, &table()).expect_err("missing entries");
    assert!(err.starts_with("50 ICCID(s)"), "{err}");
    assert!(err.ends_with(" and 30 more"), "{err}");
    assert_eq!(err.matches("8949").count(), 20, "{err}");
}

/// The pages of `sims` cut every `page`, grouped `per_part` pages to a partition, handed in as a
/// read does: partitions interleaved in the order `keys` gives, each partition's pages in
/// order; the partition `again` is handed in halfway, forgotten, then handed in whole.
fn partitioned(
    spec: &Spec,
    sims: &[Sim],
    t: &[Transition],
    (page, per_part, again): (usize, usize, usize),
    keys: &[u32],
) -> Result<Plan, String> {
    let request = request(spec);
    let mut planner = Planner::new(&request, Some(t), &Coverage::Full);
    let pages: Vec<&[Sim]> = sims.chunks(page).collect();
    let parts = pages.len().div_ceil(per_part);
    let again = again % parts.max(1);
    let mut next = vec![0usize; parts];
    // Which partition hands in its next page, one slot per page, shuffled by `keys`.
    let mut slots: Vec<usize> = (0..pages.len()).map(|i| i / per_part).collect();
    let mut keyed: Vec<(u32, usize)> = (slots.iter().enumerate())
        .map(|(i, &p)| (keys.get(i).copied().unwrap_or(0), p))
        .collect();
    keyed.sort();
    slots = keyed.into_iter().map(|(_, p)| p).collect();
    let mut restarted = false;
    for p in slots {
        if p == again && !restarted && next[p] * 2 >= per_part {
            planner.forget_partition(p);
            restarted = true;
            for k in 0..next[p] {
                planner.partition_page(p, pages[p * per_part + k]);
            }
        }
        planner.partition_page(p, pages[p * per_part + next[p]]);
        next[p] += 1;
    }
    outcome(planner.finish(&FleetFacts {
        sims_total: sims.len() as u64,
        coverage: Coverage::Full,
        running_batch_jobs: Vec::new(),
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Pages handed in partition by partition as an API read delivers them (interleaved, one
    /// partition read again) give the plan of the fleet in memory.
    #[test]
    fn pages_of_interleaved_partitions_equal_online(
        fleet in proptest::collection::vec(live_sim(), 0..40),
        rules in proptest::collection::vec(rule(), 0..5),
        page in 1usize..6,
        per_part in 1usize..5,
        again in 0usize..8,
        keys in proptest::collection::vec(any::<u32>(), 40),
    ) {
        let sims: Vec<Sim> = fleet
            .into_iter()
            .enumerate()
            .map(|(n, mut s)| {
                s.iccid = iccid(n as u64);
                s
            })
            .collect();
        let spec = spec_of(&rules, &[]);
        let t = table();
        let online = online(&spec, &sims, &t);
        let read = partitioned(&spec, &sims, &t, (page, per_part, again), &keys);
        prop_assert_eq!(&read, &online);
    }
}
