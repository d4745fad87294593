//! Two plans compared (`simfleet diff OLD NEW`): which SIMs the new plan adds, drops or changes,
//! which guards and checks changed their result, the call count before and after, and which
//! SIMs' live values moved between the two reads (the fleet changed underneath).
//!
//! Pure and borrowed: a [`PlanDiff`] points into the two plans, so comparing two million-SIM
//! plans copies no change. Both `changes` lists are ordered by ICCID (and each SIM's fields by
//! field), so one merge walk pairs them without building a map of either.
//!
//! Two plans are equivalent when they would do the same thing: the same changes (from, to,
//! source, flags), the same SIMs blocked, pending, held and skipped, the same actions, and the
//! same guard and check results. `generated_at` is ignored; so are the spec digest and the
//! fleet-size figures, which are shown but change nothing `apply` does. Equal checksums are
//! equivalent without a walk.

use std::cmp::Ordering;

use schemars::JsonSchema;
use serde::Serialize;

use super::model::{CheckResult, FieldChange, GuardKind, GuardResult, Plan, SimChange};
use crate::spec::Field;

/// What one plan looked like, for the before/after lines.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanSide<'a> {
    pub checksum: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<&'a str>,
    pub spec_digest: &'a str,
    pub sims_total: u64,
    pub sims_changing: u64,
    pub field_changes: u64,
    /// Planned mutation calls (`summary.api_calls`).
    pub api_calls: u64,
    /// HTTP requests those calls need (`summary.http_requests`).
    pub http_requests: u64,
}

impl<'a> PlanSide<'a> {
    fn of(plan: &'a Plan) -> PlanSide<'a> {
        let s = &plan.summary;
        PlanSide {
            checksum: &plan.checksum,
            generated_at: plan.generated_at.as_deref(),
            spec_digest: &plan.spec_digest,
            sims_total: s.sims_total,
            sims_changing: s.sims_changing,
            field_changes: s.field_changes,
            api_calls: s.api_calls,
            http_requests: s.http_requests,
        }
    }
}

/// How a SIM's planned changes differ between the plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimDiffKind {
    /// Only the new plan changes it.
    Added,
    /// Only the old plan changed it.
    Removed,
    /// Both change it, with a different target, source, flag or set of fields.
    Changed,
    /// Both change it the same way, but from other live values: only the fleet moved.
    Moved,
}

/// One field of one SIM in either plan (at least one side is there; they differ).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FieldDiff {
    pub field: Field,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<FieldChange>,
}

impl FieldDiff {
    /// True when the target, source, flags or presence differ (not only the live value).
    pub fn target_changed(&self) -> bool {
        match (&self.old, &self.new) {
            (Some(o), Some(n)) => {
                o.to != n.to || o.source != n.source || o.flags != n.flags || o.implied != n.implied
            }
            _ => true,
        }
    }

    /// True when both plans change the field but read a different live value.
    pub fn from_moved(&self) -> bool {
        matches!((&self.old, &self.new), (Some(o), Some(n)) if o.from != n.from)
    }
}

/// One SIM whose planned changes differ, with the fields that differ (in field order).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SimDiff<'a> {
    pub iccid: &'a str,
    pub kind: SimDiffKind,
    /// True when both plans change the SIM and a `from` differs between the two reads: the fleet
    /// changed underneath.
    pub live_moved: bool,
    pub fields: Vec<FieldDiff>,
}

/// The SIMs of a diff, counted by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DiffCounts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// SIMs only the fleet moved for (same changes from other live values).
    pub moved: u64,
    /// SIMs in both plans whose live values moved (the `moved` ones and changed ones alike).
    pub live_moved: u64,
}

/// A guard whose result changed: triggered in one plan only, or stopping in one only.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GuardDiff<'a> {
    pub guard: GuardKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<&'a GuardResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<&'a GuardResult>,
}

/// A check whose result changed: its failing or waived count, or it exists in one plan only.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckDiff<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<&'a CheckResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<&'a CheckResult>,
}

/// Parts of a plan besides its changes, guards and checks that `diff` compares as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanPart {
    Blocked,
    Pending,
    Held,
    Skipped,
    Actions,
    Waivers,
}

impl PlanPart {
    pub fn name(self) -> &'static str {
        match self {
            PlanPart::Blocked => "blocked",
            PlanPart::Pending => "pending",
            PlanPart::Held => "held",
            PlanPart::Skipped => "skipped",
            PlanPart::Actions => "actions",
            PlanPart::Waivers => "waivers",
        }
    }
}

/// The diff format this build writes (`format_version` of `diff --format json`).
pub const DIFF_FORMAT_VERSION: u32 = 1;

/// Two plans compared: what differs and whether they are equivalent (`diff --format json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanDiff<'a> {
    pub format_version: u32,
    /// True when the plans would do the same thing: `diff` exits 0.
    pub equivalent: bool,
    pub old: PlanSide<'a>,
    pub new: PlanSide<'a>,
    pub counts: DiffCounts,
    /// Every SIM whose planned changes differ, in ICCID order.
    pub sims: Vec<SimDiff<'a>>,
    pub guards: Vec<GuardDiff<'a>>,
    pub checks: Vec<CheckDiff<'a>>,
    /// Other parts that differ (their SIM lists are in the plans' JSON).
    pub parts: Vec<PlanPart>,
}

/// Compares two plans (see the module docs).
pub fn diff<'a>(old: &'a Plan, new: &'a Plan) -> PlanDiff<'a> {
    let mut out = PlanDiff {
        format_version: DIFF_FORMAT_VERSION,
        equivalent: true,
        old: PlanSide::of(old),
        new: PlanSide::of(new),
        counts: DiffCounts::default(),
        sims: Vec::new(),
        guards: Vec::new(),
        checks: Vec::new(),
        parts: Vec::new(),
    };
    if old.checksum == new.checksum {
        return out;
    }
    out.sims = sim_diffs(&old.changes, &new.changes);
    out.counts = count(&out.sims);
    out.guards = guard_diffs(&old.guards, &new.guards);
    out.checks = check_diffs(&old.checks, &new.checks);
    out.parts = part_diffs(old, new);
    out.equivalent = out.sims.is_empty()
        && out.guards.is_empty()
        && out.checks.is_empty()
        && out.parts.is_empty();
    out
}

/// The merge walk over both ICCID-ordered change lists.
fn sim_diffs<'a>(old: &'a [SimChange], new: &'a [SimChange]) -> Vec<SimDiff<'a>> {
    let mut out = Vec::new();
    let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.iccid.cmp(&b.iccid),
        };
        match order {
            Ordering::Less => {
                if let Some(a) = o.next() {
                    out.push(one_sided(a, SimDiffKind::Removed));
                }
            }
            Ordering::Greater => {
                if let Some(b) = n.next() {
                    out.push(one_sided(b, SimDiffKind::Added));
                }
            }
            Ordering::Equal => {
                if let (Some(a), Some(b)) = (o.next(), n.next()) {
                    out.extend(both_sided(a, b));
                }
            }
        }
    }
    out
}

fn one_sided(sim: &SimChange, kind: SimDiffKind) -> SimDiff<'_> {
    let side = |f| match kind {
        SimDiffKind::Removed => (Some(f), None),
        _ => (None, Some(f)),
    };
    SimDiff {
        iccid: &sim.iccid,
        kind,
        live_moved: false,
        fields: sim
            .fields()
            .map(|f| {
                let field = f.field;
                let (old, new) = side(f);
                FieldDiff { field, old, new }
            })
            .collect(),
    }
}

/// The fields of a SIM both plans change that differ, or nothing when none does.
fn both_sided<'a>(a: &'a SimChange, b: &'a SimChange) -> Option<SimDiff<'a>> {
    if a == b {
        return None;
    }
    let mut fields = Vec::new();
    let (mut o, mut n) = (a.fields().peekable(), b.fields().peekable());
    loop {
        let (old, new) = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(x), Some(y)) if x.field == y.field => (o.next(), n.next()),
            (Some(x), Some(y)) if x.field < y.field => (o.next(), None),
            (Some(_), None) => (o.next(), None),
            _ => (None, n.next()),
        };
        if old != new {
            let field = old.as_ref().or(new.as_ref()).map(|f| f.field);
            if let Some(field) = field {
                fields.push(FieldDiff { field, old, new });
            }
        }
    }
    // A plan records a SIM's live values only as the `from` of what it changes.
    let live_moved = fields.iter().any(FieldDiff::from_moved);
    let kind = if fields.iter().any(FieldDiff::target_changed) {
        SimDiffKind::Changed
    } else {
        SimDiffKind::Moved
    };
    Some(SimDiff {
        iccid: &a.iccid,
        kind,
        live_moved,
        fields,
    })
}

fn count(sims: &[SimDiff<'_>]) -> DiffCounts {
    let mut c = DiffCounts::default();
    for s in sims {
        match s.kind {
            SimDiffKind::Added => c.added += 1,
            SimDiffKind::Removed => c.removed += 1,
            SimDiffKind::Changed => c.changed += 1,
            SimDiffKind::Moved => c.moved += 1,
        }
        c.live_moved += u64::from(s.live_moved);
    }
    c
}

/// Guards triggered in one plan only, or stopping in one only.
fn guard_diffs<'a>(old: &'a [GuardResult], new: &'a [GuardResult]) -> Vec<GuardDiff<'a>> {
    let mut kinds: Vec<GuardKind> = old.iter().chain(new).map(|g| g.guard).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .filter_map(|guard| {
            let old = old.iter().find(|g| g.guard == guard);
            let new = new.iter().find(|g| g.guard == guard);
            let same = match (old, new) {
                (Some(a), Some(b)) => a.stops == b.stops,
                _ => false,
            };
            (!same).then_some(GuardDiff { guard, old, new })
        })
        .collect()
}

/// Checks in one plan only, or whose failing, made-to-fail or waived counts differ; in the
/// new plan's order, then the old plan's checks it no longer has.
fn check_diffs<'a>(old: &'a [CheckResult], new: &'a [CheckResult]) -> Vec<CheckDiff<'a>> {
    let result = |c: &CheckResult| (c.failing, c.made_failing, c.waived);
    let mut out: Vec<CheckDiff<'a>> = new
        .iter()
        .filter_map(|n| {
            let o = old.iter().find(|o| o.name == n.name);
            let same = o.is_some_and(|o| result(o) == result(n));
            (!same).then_some(CheckDiff {
                name: &n.name,
                old: o,
                new: Some(n),
            })
        })
        .collect();
    out.extend(
        old.iter()
            .filter(|o| !new.iter().any(|n| n.name == o.name))
            .map(|o| CheckDiff {
                name: &o.name,
                old: Some(o),
                new: None,
            }),
    );
    out
}

fn part_diffs(old: &Plan, new: &Plan) -> Vec<PlanPart> {
    [
        (PlanPart::Blocked, old.blocked == new.blocked),
        (PlanPart::Pending, old.pending == new.pending),
        (PlanPart::Held, old.held == new.held),
        (PlanPart::Skipped, old.skipped == new.skipped),
        (PlanPart::Actions, old.actions == new.actions),
        (PlanPart::Waivers, old.waivers == new.waivers),
    ]
    .into_iter()
    .filter_map(|(part, same)| (!same).then_some(part))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{build, iccid, input, origin, table};
    use crate::plan::FieldValue;

    fn change(field: Field, from: i64, to: i64, rule: &str) -> FieldChange {
        FieldChange {
            field,
            from: FieldValue::Int(from),
            to: FieldValue::Int(to),
            source: origin(rule, 3).into(),
            flags: Default::default(),
            implied: false,
            usage: None,
            via: Default::default(),
        }
    }

    fn sim(i: u64, fields: Vec<FieldChange>) -> SimChange {
        SimChange::new(iccid(i), fields)
    }

    fn plan(changes: Vec<SimChange>) -> Plan {
        let t = table();
        let mut plan = build(input(&[], &[], Some(&t))).expect("empty plan");
        plan.changes = changes;
        plan.checksum = plan.compute_checksum();
        plan
    }

    #[test]
    fn equal_plans_are_equivalent_whatever_their_timestamps() {
        let a = plan(vec![sim(
            1,
            vec![change(Field::MonthlySmsMoLimit, 5, 10, "r")],
        )]);
        let mut b = a.clone();
        b.generated_at = Some("2030-01-01T00:00:00Z".into());
        let d = diff(&a, &b);
        assert!(d.equivalent && d.sims.is_empty());
    }

    #[test]
    fn the_walk_finds_added_removed_changed_and_moved_sims() {
        let f = Field::MonthlySmsMoLimit;
        let a = plan(vec![
            sim(1, vec![change(f, 5, 10, "r")]),
            sim(2, vec![change(f, 5, 10, "r")]),
            sim(3, vec![change(f, 5, 10, "r")]),
            sim(5, vec![change(f, 5, 10, "r")]),
        ]);
        let moved = sim(3, vec![change(f, 6, 10, "r")]);
        let b = plan(vec![
            sim(1, vec![change(f, 5, 10, "r")]),
            sim(2, vec![change(f, 5, 20, "s")]),
            moved,
            sim(4, vec![change(f, 5, 10, "r")]),
        ]);
        let d = diff(&a, &b);
        assert!(!d.equivalent);
        let kinds: Vec<(String, SimDiffKind, bool)> = d
            .sims
            .iter()
            .map(|s| (s.iccid.to_string(), s.kind, s.live_moved))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (iccid(2), SimDiffKind::Changed, false),
                (iccid(3), SimDiffKind::Moved, true),
                (iccid(4), SimDiffKind::Added, false),
                (iccid(5), SimDiffKind::Removed, false),
            ]
        );
        assert_eq!(
            d.counts,
            DiffCounts {
                added: 1,
                removed: 1,
                changed: 1,
                moved: 1,
                live_moved: 1
            }
        );
    }

    #[test]
    fn a_field_only_one_plan_changes_is_a_changed_sim() {
        let a = plan(vec![sim(
            1,
            vec![change(Field::MonthlySmsMoLimit, 5, 10, "r")],
        )]);
        let b = plan(vec![sim(
            1,
            vec![
                change(Field::MonthlyDataLimit, 5, 10, "r"),
                change(Field::MonthlySmsMoLimit, 5, 10, "r"),
            ],
        )]);
        let d = diff(&a, &b);
        assert_eq!(d.sims.len(), 1);
        assert_eq!(d.sims[0].kind, SimDiffKind::Changed);
        assert_eq!(d.sims[0].fields.len(), 1);
        assert_eq!(d.sims[0].fields[0].field, Field::MonthlyDataLimit);
        assert!(d.sims[0].fields[0].old.is_none());
    }

    #[test]
    fn guards_and_checks_whose_result_changed_are_listed() {
        use crate::plan::{CheckResult, GuardResult};
        let guard = |stops| GuardResult {
            guard: GuardKind::MaxChanges,
            count: 3,
            limit: Some(2.0),
            stops,
            message: "max_changes".into(),
        };
        let check = |name: &str, failing| CheckResult {
            name: name.into(),
            level: crate::spec::CheckLevel::Deny,
            message: String::new(),
            location: "fleet/checks.yaml:3:5".into(),
            selected: 3,
            failing,
            fails_unfixed: failing,
            made_failing: 0,
            fixed: 0,
            waived: 0,
            examples: Vec::new(),
            limits: Vec::new(),
        };
        let mut a = plan(vec![sim(
            1,
            vec![change(Field::MonthlySmsMoLimit, 5, 10, "r")],
        )]);
        a.guards = vec![guard(true)];
        a.checks = vec![check("same", 1), check("fixed", 2), check("gone", 0)];
        a.checksum = a.compute_checksum();
        let mut b = a.clone();
        b.guards = vec![guard(false)];
        b.checks = vec![check("same", 1), check("fixed", 0), check("new", 0)];
        b.checksum = b.compute_checksum();
        let d = diff(&a, &b);
        assert!(!d.equivalent && d.sims.is_empty());
        assert_eq!(d.guards.len(), 1);
        let names: Vec<&str> = d.checks.iter().map(|c| c.name).collect();
        assert_eq!(names, ["fixed", "new", "gone"]);
        let mut c = a.clone();
        c.guards[0].count = 4;
        c.checksum = c.compute_checksum();
        assert!(
            diff(&a, &c).guards.is_empty(),
            "a count alone is not a result"
        );
    }
}
