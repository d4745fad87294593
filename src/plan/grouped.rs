//! The plan file's grouped layout (`format_version` 2, `"layout": "grouped"`): what `plan --out`
//! writes, and `show` and `apply` read.
//!
//! A plan changes a million SIMs in a few hundred distinct ways, so the file states each way once:
//! a *change set* is the fields a group of SIMs change, with their shared target values, sources,
//! risk flags and implied marks, followed by the ICCIDs of those SIMs. What differs per SIM, its
//! live `from` values, is a column per field: the distinct values once, and one index per SIM when
//! there is more than one. Every source is written once, in `sources`, and cited by number. The
//! calls (`actions`) are not written at all: they are a function of the changes, so the loader
//! groups them again ([`super::assemble::group_and_hash`]) and the checksum, which covers them,
//! proves the result is the plan that was reviewed. Everything else (summary, blocked, pending,
//! held, skipped, guards, warnings, checks, waivers, and `--why-drift`'s drift) is as in the
//! per-SIM JSON.
//!
//! Loading gives back the same [`Plan`] value, so the checksum is computed exactly as for a plan
//! made in memory, and `show --format json` prints the per-SIM shape.

use std::borrow::Cow;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::assemble::group_and_hash;
use super::change_set::{ChangeSet as SharedSet, Target as SharedTarget};
use super::flags::RiskFlags;
use super::model::{
    BlockedChange, CheckResult, GuardResult, HeldStatus, OriginSchema, PendingStatus, Plan,
    RiskFlag, SimChange, SkippedSim, Summary, WaiverResult, Warning,
};
use super::packed::Packed;
use super::value::FieldValue;
use super::via::Via;
use super::{Field, Origin, PlanError};

/// The value of the file's `layout` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Changes grouped by change set (this module).
    Grouped,
}

/// A plan file in the grouped layout. Borrowed when written, owned (but for unescaped strings)
/// when read.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PlanFile")]
pub struct PlanFile<'a> {
    pub format_version: u32,
    pub layout: Layout,
    /// When the plan was made (RFC 3339); left out of the checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<Cow<'a, str>>,
    pub summary: Cow<'a, Summary>,
    /// Every source a change cites, once; change sets cite them by index.
    #[schemars(with = "Vec<OriginSchema>")]
    pub sources: Vec<Cow<'a, Origin>>,
    /// The changing SIMs, grouped by what they change.
    #[serde(borrow)]
    pub change_sets: Vec<ChangeSet<'a>>,
    pub blocked: Cow<'a, [BlockedChange]>,
    pub pending: Cow<'a, [PendingStatus]>,
    pub held: Cow<'a, [HeldStatus]>,
    pub skipped: Cow<'a, [SkippedSim]>,
    #[serde(default, borrow)]
    pub unmanaged: Vec<&'a str>,
    pub guards: Cow<'a, [GuardResult]>,
    pub warnings: Cow<'a, [Warning]>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub checks: Cow<'a, [CheckResult]>,
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub waivers: Cow<'a, [WaiverResult]>,
    /// `--why-drift`'s evidence; left out of the checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Cow<'a, super::drift::DriftReport>>,
    /// `--last-applied`'s drift since that plan; left out of the checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_last_apply: Option<Cow<'a, super::last_applied::LastAppliedReport>>,
    pub spec_digest: Cow<'a, str>,
    pub checksum: Cow<'a, str>,
}

/// SIMs that change the same fields to the same values from the same sources.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSet<'a> {
    /// What every SIM of the set changes, in the order of its per-SIM changes.
    pub fields: Vec<Target<'a>>,
    /// The SIMs, in ICCID order.
    #[serde(borrow)]
    pub iccids: Vec<&'a str>,
    /// The live `from` value of each field, one column per entry of `fields`.
    pub from: Vec<Column<'a>>,
}

/// One field of a change set: everything of a change but its `from`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target<'a> {
    pub field: Field,
    #[schemars(with = "serde_json::Value")]
    pub to: Cow<'a, FieldValue>,
    /// Index into the file's `sources`.
    pub source: u32,
    #[serde(default, skip_serializing_if = "RiskFlags::is_empty")]
    #[schemars(with = "Vec<RiskFlag>")]
    pub flags: RiskFlags,
    #[serde(default, skip_serializing_if = "is_false")]
    pub implied: bool,
    /// For a multi-step status change, the statuses it passes through.
    #[serde(default, skip_serializing_if = "Via::is_empty")]
    #[schemars(with = "Vec<i32>")]
    pub via: Via,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One field's live values over the SIMs of a change set: the distinct values, and for each SIM
/// the index of its value (left out when there is only one value); and, for a limit flagged
/// against this month's usage, each SIM's usage (left out when no SIM has one).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column<'a> {
    #[schemars(with = "Vec<serde_json::Value>")]
    pub values: Vec<Cow<'a, FieldValue>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index: Vec<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<Option<i64>>,
}

/// Numbers every distinct source in order of first appearance (by pointer first: a plan made in
/// memory shares one `Arc` per source).
struct Sources<'p> {
    by_pointer: foldhash::HashMap<*const Origin, u32>,
    by_value: foldhash::HashMap<&'p Origin, u32>,
    list: Vec<Cow<'p, Origin>>,
}

impl<'p> Sources<'p> {
    fn number(&mut self, source: &'p Arc<Origin>) -> u32 {
        let pointer = Arc::as_ptr(source);
        if let Some(&n) = self.by_pointer.get(&pointer) {
            return n;
        }
        let next = self.list.len() as u32;
        let n = *self.by_value.entry(&**source).or_insert(next);
        if n == next {
            self.list.push(Cow::Borrowed(&**source));
        }
        self.by_pointer.insert(pointer, n);
        n
    }
}

/// A change set being built: its targets, its SIMs, and per field the distinct live values.
struct SetBuilder<'p> {
    set: ChangeSet<'p>,
    seen: Vec<foldhash::HashMap<FieldValue, u32>>,
}

impl<'p> SetBuilder<'p> {
    fn new(shared: &'p SharedSet, sources: &mut Sources<'p>) -> SetBuilder<'p> {
        let targets = shared.targets();
        SetBuilder {
            set: ChangeSet {
                fields: targets
                    .iter()
                    .map(|t| Target {
                        field: t.field,
                        to: Cow::Borrowed(&t.to),
                        source: sources.number(&t.source),
                        flags: t.flags,
                        implied: t.implied,
                        via: t.via,
                    })
                    .collect(),
                iccids: Vec::new(),
                from: targets
                    .iter()
                    .map(|_| Column {
                        values: Vec::new(),
                        index: Vec::new(),
                        usage: Vec::new(),
                    })
                    .collect(),
            },
            seen: targets
                .iter()
                .map(|_| foldhash::HashMap::default())
                .collect(),
        }
    }

    fn push(&mut self, sim: &'p SimChange) {
        self.set.iccids.push(&sim.iccid);
        for (((from, usage), column), seen) in
            sim.froms().zip(&mut self.set.from).zip(&mut self.seen)
        {
            let next = column.values.len() as u32;
            let n = match seen.get(&from) {
                Some(&n) => n,
                None => {
                    seen.insert(from.clone(), next);
                    column.values.push(Cow::Owned(from));
                    next
                }
            };
            column.index.push(n);
            // A usage column exists only once a SIM has a usage (most sets have none): the
            // SIMs before it get `None`.
            if usage.is_some() || !column.usage.is_empty() {
                column.usage.resize(column.index.len() - 1, None);
                column.usage.push(usage);
            }
        }
    }

    /// The set, with the index of every single-valued column left out.
    fn finish(mut self) -> ChangeSet<'p> {
        for column in &mut self.set.from {
            if column.values.len() == 1 {
                column.index = Vec::new();
            }
            if column.usage.iter().all(Option::is_none) {
                column.usage = Vec::new();
            }
        }
        self.set
    }
}

impl<'p> PlanFile<'p> {
    /// The grouped form of `plan`, borrowing from it.
    pub fn of(plan: &'p Plan) -> PlanFile<'p> {
        let mut sources = Sources {
            by_pointer: foldhash::HashMap::default(),
            by_value: foldhash::HashMap::default(),
            list: Vec::new(),
        };
        // The plan's SIMs share one `Arc` per distinct change set; sets equal in value but
        // not shared (never made by the planner) are still written once.
        let mut by_pointer: foldhash::HashMap<*const SharedSet, usize> =
            foldhash::HashMap::default();
        let mut by_value: foldhash::HashMap<&'p [SharedTarget], usize> =
            foldhash::HashMap::default();
        let mut builders: Vec<SetBuilder<'p>> = Vec::new();
        for sim in &plan.changes {
            let shared = sim.set();
            let at = match by_pointer.get(&Arc::as_ptr(shared)) {
                Some(&at) => at,
                None => {
                    let next = builders.len();
                    let at = *by_value.entry(shared.targets()).or_insert(next);
                    if at == next {
                        builders.push(SetBuilder::new(shared, &mut sources));
                    }
                    by_pointer.insert(Arc::as_ptr(shared), at);
                    at
                }
            };
            builders[at].push(sim);
        }
        PlanFile {
            format_version: super::PLAN_FORMAT_VERSION,
            layout: Layout::Grouped,
            generated_at: plan.generated_at.as_deref().map(Cow::Borrowed),
            summary: Cow::Borrowed(&plan.summary),
            sources: sources.list,
            change_sets: builders.into_iter().map(SetBuilder::finish).collect(),
            blocked: Cow::Borrowed(&plan.blocked),
            pending: Cow::Borrowed(&plan.pending),
            held: Cow::Borrowed(&plan.held),
            skipped: Cow::Borrowed(&plan.skipped),
            unmanaged: plan.unmanaged.iter().map(String::as_str).collect(),
            guards: Cow::Borrowed(&plan.guards),
            warnings: Cow::Borrowed(&plan.warnings),
            checks: Cow::Borrowed(&plan.checks),
            waivers: Cow::Borrowed(&plan.waivers),
            drift: plan.drift.as_ref().map(Cow::Borrowed),
            since_last_apply: plan.since_last_apply.as_ref().map(Cow::Borrowed),
            spec_digest: Cow::Borrowed(&plan.spec_digest),
            checksum: Cow::Borrowed(&plan.checksum),
        }
    }

    /// The plan this file states, its calls grouped again from its changes, with the checksum
    /// the file states (the caller verifies it) and the checksum its content has.
    pub fn into_plan(self) -> Result<(Plan, String), PlanError> {
        let sources: Vec<Arc<Origin>> = self
            .sources
            .into_iter()
            .map(|s| Arc::new(s.into_owned()))
            .collect();
        let changes = changes_of(&self.change_sets, &sources)?;
        // The parsed sets are copied into `changes`: freed before the calls are grouped.
        drop(self.change_sets);
        let (grouped, digest) = group_and_hash(&changes);
        let mut plan = Plan {
            format_version: self.format_version,
            generated_at: self.generated_at.map(Cow::into_owned),
            summary: self.summary.into_owned(),
            changes,
            blocked: self.blocked.into_owned(),
            pending: self.pending.into_owned(),
            held: self.held.into_owned(),
            skipped: self.skipped.into_owned(),
            unmanaged: self.unmanaged.into_iter().map(str::to_string).collect(),
            guards: self.guards.into_owned(),
            warnings: self.warnings.into_owned(),
            actions: grouped.actions,
            checks: self.checks.into_owned(),
            waivers: self.waivers.into_owned(),
            drift: self.drift.map(Cow::into_owned),
            since_last_apply: self.since_last_apply.map(Cow::into_owned),
            spec_digest: self.spec_digest.into_owned(),
            checksum: self.checksum.into_owned(),
        };
        let computed = plan.checksum_after(digest);
        let stated = std::mem::replace(&mut plan.checksum, computed.clone());
        plan.checksum = stated;
        Ok((plan, computed))
    }
}

/// A layout problem of a grouped plan file.
fn layout_error(set: usize, what: String) -> PlanError {
    PlanError::Layout(format!("change set {set}: {what}"))
}

/// Every SIM's changes, in ICCID order, rebuilt from the change sets.
fn changes_of(
    sets: &[ChangeSet<'_>],
    sources: &[Arc<Origin>],
) -> Result<Vec<SimChange>, PlanError> {
    let targets = sets
        .iter()
        .enumerate()
        .map(|(n, set)| targets_of(n, set, sources))
        .collect::<Result<Vec<_>, _>>()?;
    // (ICCID, set, row): every SIM once, then in ICCID order.
    let mut order: Vec<(&str, u32, u32)> =
        Vec::with_capacity(sets.iter().map(|s| s.iccids.len()).sum());
    for (n, set) in sets.iter().enumerate() {
        order.extend(
            set.iccids
                .iter()
                .enumerate()
                .map(|(row, iccid)| (*iccid, n as u32, row as u32)),
        );
    }
    order.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(twice) = order.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(PlanError::Layout(format!(
            "ICCID {} is in more than one change set",
            twice[0].0
        )));
    }
    Ok(order
        .into_iter()
        .map(|(iccid, n, row)| {
            let (set, shared) = (&sets[n as usize], &targets[n as usize]);
            let row = row as usize;
            let from = Packed::pack(set.from.iter().map(|column| {
                (
                    column_value(column, row),
                    column.usage.get(row).copied().flatten(),
                )
            }));
            SimChange::from_parts(iccid.to_string(), shared.clone(), from)
        })
        .collect())
}

/// A change set's fields, shared by its SIMs, after checking that its columns and indexes fit
/// its SIMs.
fn targets_of(
    n: usize,
    set: &ChangeSet<'_>,
    sources: &[Arc<Origin>],
) -> Result<Arc<SharedSet>, PlanError> {
    if set.iccids.is_empty() {
        return Err(layout_error(n, "no ICCIDs".into()));
    }
    if set.fields.is_empty() || set.from.len() != set.fields.len() {
        return Err(layout_error(
            n,
            format!(
                "{} fields but {} `from` columns",
                set.fields.len(),
                set.from.len()
            ),
        ));
    }
    for (f, column) in set.from.iter().enumerate() {
        let usage_fits = column.usage.is_empty() || column.usage.len() == set.iccids.len();
        let fits = usage_fits
            && match (column.values.len(), column.index.len()) {
                (0, _) => false,
                (1, 0) => true,
                (values, rows) => {
                    rows == set.iccids.len() && column.index.iter().all(|&i| (i as usize) < values)
                }
            };
        if !fits {
            return Err(layout_error(
                n,
                format!("the `from` column of field {f} does not fit its SIMs"),
            ));
        }
    }
    set.fields
        .iter()
        .map(|t| {
            let source = sources
                .get(t.source as usize)
                .ok_or_else(|| layout_error(n, format!("source {} does not exist", t.source)))?;
            Ok(SharedTarget {
                field: t.field,
                to: t.to.clone().into_owned(),
                source: source.clone(),
                flags: t.flags,
                implied: t.implied,
                via: t.via,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|targets| Arc::new(SharedSet::new(targets)))
}

/// The value of `column` for the SIM in `row` (the shapes were checked by [`targets_of`]).
fn column_value<'c>(column: &'c Column<'_>, row: usize) -> &'c FieldValue {
    let at = column.index.get(row).map_or(0, |&i| i as usize);
    &column.values[at.min(column.values.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{build, iccid, input, sim, want};
    use crate::spec::{DesiredValue, Limit};

    /// A plan of `n` SIMs: every SIM gets a 1 MB data limit from live limits of two values, and
    /// every third SIM also gets a label: two change sets, with columns of one and of two values.
    fn plan_of(n: u64) -> Plan {
        let sims: Vec<_> = (0..n)
            .map(|i| {
                let mut s = sim(i, 2);
                s.monthly_data_limit = Some(5 + (i % 2) as i64);
                s
            })
            .collect();
        let desired: Vec<_> = (0..n)
            .map(|i| {
                let mut fields = vec![(
                    Field::MonthlyDataLimit,
                    DesiredValue::Limit(Limit::Value(1_000_000)),
                )];
                if i % 3 == 0 {
                    fields.push((
                        Field::EndCustomerLabel,
                        DesiredValue::Text(Some("ACME".into())),
                    ));
                }
                want(i, &fields)
            })
            .collect();
        build(input(&sims, &desired, None)).expect("plans")
    }

    fn file_of(plan: &Plan) -> serde_json::Value {
        serde_json::from_str(&plan.to_file_json()).expect("JSON")
    }

    fn load(file: &serde_json::Value) -> Result<Plan, PlanError> {
        Plan::from_file_json(&file.to_string())
    }

    #[test]
    fn changes_are_grouped_by_change_set_and_load_back_as_the_plan() {
        let plan = plan_of(30);
        let file = file_of(&plan);
        assert_eq!(file["layout"], "grouped");
        assert!(
            file.get("actions").is_none(),
            "actions are grouped again on load"
        );
        let sets = file["change_sets"].as_array().expect("sets");
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0]["iccids"].as_array().map(Vec::len), Some(10));
        assert_eq!(sets[0]["iccids"][0], iccid(0));
        // The data limit's live values: two distinct, one index per SIM; the label's: one.
        assert_eq!(sets[0]["from"][0]["values"], serde_json::json!([5, 6]));
        assert_eq!(
            sets[0]["from"][0]["index"].as_array().map(Vec::len),
            Some(10)
        );
        assert!(sets[0]["from"][1].get("index").is_none());
        assert_eq!(file["sources"].as_array().map(Vec::len), Some(2));
        assert_eq!(load(&file).expect("loads"), plan);
    }

    #[test]
    fn a_changed_from_value_fails_the_checksum() {
        let plan = plan_of(9);
        let mut file = file_of(&plan);
        file["change_sets"][0]["from"][0]["values"][1] = serde_json::json!(9);
        assert!(matches!(load(&file), Err(PlanError::Checksum { .. })));
        let mut moved = file_of(&plan);
        moved["change_sets"][0]["from"][0]["index"][0] = serde_json::json!(1);
        assert!(matches!(load(&moved), Err(PlanError::Checksum { .. })));
    }

    #[test]
    fn a_damaged_layout_is_refused_with_what_does_not_fit() {
        let plan = plan_of(9);
        type Damage = fn(&mut serde_json::Value);
        let damages: [(&str, Damage); 6] = [
            ("out of range", |f| {
                f["change_sets"][0]["from"][0]["index"][0] = serde_json::json!(7)
            }),
            ("short index", |f| {
                f["change_sets"][0]["from"][0]["index"] = serde_json::json!([0])
            }),
            ("no values", |f| {
                f["change_sets"][0]["from"][0]["values"] = serde_json::json!([])
            }),
            ("columns", |f| {
                f["change_sets"][0]["from"] = serde_json::json!([])
            }),
            ("source", |f| {
                f["change_sets"][0]["fields"][0]["source"] = serde_json::json!(99)
            }),
            ("twice", |f| {
                let first = f["change_sets"][0]["iccids"][0].clone();
                f["change_sets"][1]["iccids"][0] = first;
            }),
        ];
        for (what, damage) in damages {
            let mut file = file_of(&plan);
            damage(&mut file);
            match load(&file) {
                Err(PlanError::Layout(message)) => assert!(!message.is_empty(), "{what}"),
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    /// The size the format promises: a few dozen bytes per changing SIM, however many sources
    /// and calls (a million changing SIMs fit in 64 MB).
    #[test]
    fn a_changing_sim_costs_a_few_dozen_bytes_of_file() {
        let plan = plan_of(3_000);
        let bytes = plan.to_file_json().len();
        assert!(bytes < 3_000 * 40, "{bytes} bytes for 3,000 SIMs");
        let per_sim = serde_json::to_string(&plan).expect("JSON").len();
        assert!(per_sim > 5 * bytes, "per-SIM {per_sim}, grouped {bytes}");
    }
}
