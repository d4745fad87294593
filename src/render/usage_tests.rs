//! Snapshot tests of usage-aware risk in the renderers: a limit at or below this month's usage
//! has its own risk line, right after status cuts and ahead of plain lowered limits, its own
//! count in the summary, and each group shows the usage in the limit's units.

use crate::fleet::Sim;
use crate::plan::tests::{build, input, sim, table, want};
use crate::plan::{Guards, Plan};
use crate::spec::{DesiredValue, Field, Limit, SimEntry};

use super::*;

fn limit(n: i64) -> DesiredValue {
    DesiredValue::Limit(Limit::Value(n))
}

/// Activated SIMs with this month's usage: three cut by a lower data limit, one near it, one
/// plainly lowered, an SMS MT and a voice limit at and near their usage, and a status cut.
fn usage_plan() -> Plan {
    let mut sims: Vec<Sim> = Vec::new();
    let mut desired: Vec<SimEntry> = Vec::new();
    let data = [
        (1, None, 1_200_000_000),
        (2, Some(1_000_000_000), 700_000_000),
        (3, Some(1_000_000_000), 480_000_000),
        (4, Some(1_000_000_000), 10_000_000),
        (8, Some(1_000_000_000), 900_000_000),
    ];
    for (n, live, used) in data {
        let mut s = sim(n, 2);
        s.monthly_data_limit = live;
        s.monthly_data_volume = Some(used);
        sims.push(s);
        desired.push(want(n, &[(Field::MonthlyDataLimit, limit(500_000_000))]));
    }
    let mut s = sim(5, 2);
    s.monthly_sms_mt_limit = Some(100);
    s.monthly_sms_mt = Some(40);
    sims.push(s);
    desired.push(want(5, &[(Field::MonthlySmsMtLimit, limit(30))]));
    let mut s = sim(6, 2);
    s.monthly_voice_mo = Some(590);
    sims.push(s);
    desired.push(want(6, &[(Field::MonthlyVoiceMoLimit, limit(600))]));
    sims.push(sim(7, 2));
    desired.push(want(7, &[(Field::Status, DesiredValue::Status(5))]));
    let t = table();
    let mut i = input(&sims, &desired, Some(&t));
    i.guards = Guards::default();
    build(i).expect("usage plan builds")
}

#[test]
fn usage_markdown_snapshot() {
    let out = markdown(&usage_plan(), MarkdownOptions { mask: true });
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{out}"))
    };
    assert!(at("**Status cuts") < at("**Limits at or below this month's usage"));
    assert!(at("**Limits at or below this month's usage") < at("**Lowered limits"));
    assert!(at("**Limits near this month's usage") < at("**Lowered limits"));
    insta::assert_snapshot!(out);
}

#[test]
fn usage_text_snapshot() {
    let out = text(&usage_plan(), TextOptions::default());
    assert!(
        out.contains("[below this month's usage: cuts service now]  used 700MB–900MB this month"),
        "{out}"
    );
    assert!(
        out.contains("[near this month's usage]  used 480MB this month"),
        "{out}"
    );
    assert!(out.contains("used 40 SMS this month"), "{out}");
    assert!(out.contains("used 590 s this month"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn the_summary_counts_usage_cuts_and_the_guard_names_them() {
    let plan = usage_plan();
    assert_eq!((plan.summary.usage_cuts, plan.summary.near_usage), (4, 2));
    let guard = &plan.guards[0];
    assert!(guard.stops);
    assert_eq!(guard.count, 5);
    assert!(
        guard.message.starts_with(
            "5 SIMs would lose service: 1 would be deactivated or suspended, 4 get a limit at or below this month's usage"
        ),
        "{}",
        guard.message
    );
    let out = markdown(&plan, MarkdownOptions::default());
    assert!(
        out.contains("| ⚠️ **limit at or below this month's usage** (service stops) | **4** |"),
        "{out}"
    );
    assert!(
        out.contains("| limit within 10 % above this month's usage | 2 |"),
        "{out}"
    );
}
