//! Drift since the last applied plan (`plan --last-applied PLANFILE`): for every SIM a saved
//! plan changed and every field it set, is the live value still what that plan set?
//!
//! This is the first half of "a SIM is drifted": the live value differs from what the last
//! applied plan set (the other half, differing from the spec on a managed field, is
//! [`super::drift`]). It sees what the spec cannot: a SIM whose rule was removed since the apply
//! is unmanaged now, so no plan of the spec looks at it, yet someone may have changed it back.
//!
//! "Still what the plan set" is the plan's own rules of meaning
//! ([`super::compare::planned_holds`], what `apply` verifies with), plus a status on its way to
//! the status set (13 for 2: [`super::status::converging`]). Implied changes are not compared
//! (no call set them). For each drifted field the report says whether the current spec still
//! manages it, and the current plan's own change for it, if any. Pure: `ops` reads the live
//! SIMs (from the plan's own read, by ICCID, or from a snapshot) and hands them in.

use std::collections::{BTreeMap, HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fleet::{Sim, SimEvent};
use crate::spec::{Field, Spec};

use super::compare::{live_value, planned_holds};
use super::drift::{event_types_for, Evidence};
use super::model::Plan;
use super::status::converging;
use super::value::FieldValue;

/// One value a plan sets: the SIM, the field and the value (`to`, as the API takes it).
#[derive(Debug, Clone, PartialEq)]
pub struct SetValue {
    pub iccid: String,
    pub field: Field,
    pub to: FieldValue,
}

/// The values a plan sets, mutations only (implied changes are side effects, not set by a
/// call): the one place a plan's changes are read for this comparison.
pub fn values_set(plan: &Plan) -> impl Iterator<Item = (&str, Field, &FieldValue)> {
    plan.changes.iter().flat_map(|sim| {
        sim.set()
            .targets()
            .iter()
            .filter(|t| !t.implied)
            .map(move |t| (sim.iccid.as_str(), t.field, &t.to))
    })
}

/// What `--last-applied PLANFILE` compares against: the plan file's identity and every value
/// it set, in ICCID order. Kept apart from the `Plan` it came from, which can be large.
#[derive(Debug, Clone, PartialEq)]
pub struct LastApplied {
    /// The path as given.
    pub path: String,
    pub checksum: String,
    pub generated_at: Option<String>,
    pub set: Vec<SetValue>,
}

impl LastApplied {
    /// The values `plan` (loaded from `path`) set.
    pub fn of(plan: &Plan, path: &str) -> LastApplied {
        LastApplied {
            path: path.to_string(),
            checksum: plan.checksum.clone(),
            generated_at: plan.generated_at.clone(),
            set: values_set(plan)
                .map(|(iccid, field, to)| SetValue {
                    iccid: iccid.to_string(),
                    field,
                    to: to.clone(),
                })
                .collect(),
        }
    }

    /// The SIMs the plan changed, each once, in ICCID order.
    pub fn iccids(&self) -> Vec<&str> {
        let mut iccids: Vec<&str> = self.set.iter().map(|s| s.iccid.as_str()).collect();
        iccids.sort_unstable();
        iccids.dedup();
        iccids
    }
}

/// Drift since the last applied plan, attached to the plan (`since_last_apply`). It describes
/// the past, so it is left out of the checksum, and `apply` never reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastAppliedReport {
    /// The plan file compared against, as given.
    pub plan_file: String,
    /// Its checksum.
    pub plan_checksum: String,
    /// When it was made (RFC 3339), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_generated_at: Option<String>,
    /// SIMs the last plan changed.
    pub sims_in_plan: u64,
    /// Of those, SIMs found live and compared.
    pub compared: u64,
    /// Of those compared, SIMs the plan's own API read did not see (filters pushed down,
    /// `--target`), read again by ICCID; 0 with `--live`, whose snapshot holds every SIM.
    pub read_again: u64,
    /// SIMs with at least one field no longer at what the last plan set.
    pub drifted_sims: u64,
    /// Drifted (SIM, field) pairs per field.
    #[schemars(with = "BTreeMap<String, u64>")]
    pub drifted_fields: BTreeMap<Field, u64>,
    /// SIMs of the last plan no longer in the fleet (deleted), in ICCID order.
    pub not_found: Vec<String>,
    /// With `--why-drift`: drifted SIMs whose status or IMEI lock differs whose events were
    /// read, and not read (over the shared `--why-drift-limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsRead>,
    /// The drifted SIMs, riskiest first (status, then IMEI lock, then the rest), then by ICCID.
    pub sims: Vec<LastAppliedSim>,
}

/// How many drifted SIMs' events were read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRead {
    /// `--why-drift-limit`.
    pub limit: u64,
    pub read: u64,
    pub not_read: u64,
    /// When the events were read (Unix milliseconds): "how long ago" is measured from here.
    pub read_at_ms: i64,
}

/// One SIM no longer at what the last plan set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastAppliedSim {
    pub iccid: String,
    /// Riskiest first: status, IMEI lock, then the rest in field order.
    pub fields: Vec<LastAppliedField>,
}

/// One field no longer at what the last plan set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LastAppliedField {
    pub field: Field,
    /// What the last plan set (as the API takes it).
    #[schemars(with = "serde_json::Value")]
    pub set: FieldValue,
    /// The live value now, as read.
    #[schemars(with = "serde_json::Value")]
    pub live: FieldValue,
    /// Whether the current spec still manages this field on this SIM.
    pub managed: bool,
    /// The current plan's own change of this field, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentChange>,
    /// With `--why-drift`: what the SIM's events say (absent when they were not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// The current plan's change of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentChange {
    /// The value the current plan sets.
    #[schemars(with = "serde_json::Value")]
    pub to: FieldValue,
    /// True when the current plan cannot make the change (blocked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
}

/// True when what the plan set still holds on the live SIM: its rules of meaning, or a status
/// on its way to the one set.
pub fn still_holds(field: Field, set: &FieldValue, sim: &Sim) -> bool {
    if planned_holds(field, set, sim) {
        return true;
    }
    let wanted = set.as_i64().and_then(|v| i32::try_from(v).ok());
    field == Field::Status && wanted.is_some_and(|want| converging(sim.statusid, want))
}

/// Risk order of a field: status, IMEI lock, then the rest.
fn risk(field: Field) -> (u8, Field) {
    match field {
        Field::Status => (0, field),
        Field::ImeiLock => (1, field),
        _ => (2, field),
    }
}

/// Where the SIMs of the last plan stand now.
pub struct LiveSims<'a> {
    /// Every SIM found, by ICCID.
    pub sims: HashMap<&'a str, &'a Sim>,
    /// Of those, the ones the plan's own read did not see.
    pub read_again: usize,
}

/// Compares what `last` set with the `live` SIMs; `spec` and `current` (the plan of the same
/// read) say whether each drifted field is still managed, and how the current plan changes it.
pub fn compare(
    last: &LastApplied,
    live: &LiveSims<'_>,
    spec: &Spec,
    current: &Plan,
) -> LastAppliedReport {
    let iccids = last.iccids();
    let mut drifted: BTreeMap<&str, Vec<(Field, &FieldValue, &Sim)>> = BTreeMap::new();
    for set in &last.set {
        let Some(sim) = live.sims.get(set.iccid.as_str()) else {
            continue;
        };
        if !still_holds(set.field, &set.to, sim) {
            drifted
                .entry(&set.iccid)
                .or_default()
                .push((set.field, &set.to, sim));
        }
    }
    let changes = current_changes(current, &drifted.keys().copied().collect());
    let mut drifted_fields: BTreeMap<Field, u64> = BTreeMap::new();
    let mut sims: Vec<LastAppliedSim> = drifted
        .into_iter()
        .map(|(iccid, mut fields)| {
            fields.sort_by_key(|(field, ..)| risk(*field));
            let resolution = fields.first().and_then(|(.., sim)| spec.resolve(sim).ok());
            let fields = fields
                .into_iter()
                .map(|(field, set, sim)| {
                    *drifted_fields.entry(field).or_insert(0) += 1;
                    LastAppliedField {
                        field,
                        set: set.clone(),
                        live: live_value(sim, field),
                        managed: match &resolution {
                            Some(resolution) => resolution.is_some_and(|r| r.get(field).is_some()),
                            // Rules in conflict on this SIM: the spec means to manage it.
                            None => true,
                        },
                        current: changes.get(&(iccid, field)).cloned(),
                        evidence: None,
                    }
                })
                .collect();
            LastAppliedSim {
                iccid: iccid.to_string(),
                fields,
            }
        })
        .collect();
    // Stable: ICCID order within a rank.
    sims.sort_by_key(|sim| sim.fields.first().map(|f| risk(f.field).0));
    let not_found: Vec<String> = iccids
        .iter()
        .filter(|iccid| !live.sims.contains_key(*iccid))
        .map(|iccid| iccid.to_string())
        .collect();
    LastAppliedReport {
        plan_file: last.path.clone(),
        plan_checksum: last.checksum.clone(),
        plan_generated_at: last.generated_at.clone(),
        sims_in_plan: iccids.len() as u64,
        compared: (iccids.len() - not_found.len()) as u64,
        read_again: live.read_again as u64,
        drifted_sims: sims.len() as u64,
        drifted_fields,
        not_found,
        events: None,
        sims,
    }
}

/// The current plan's changes (and blocked changes) of the SIMs in `iccids`.
fn current_changes<'p>(
    current: &'p Plan,
    iccids: &HashSet<&str>,
) -> HashMap<(&'p str, Field), CurrentChange> {
    let mut out = HashMap::new();
    for (iccid, field, to) in values_set(current).filter(|(i, ..)| iccids.contains(i)) {
        let change = CurrentChange {
            to: to.clone(),
            blocked: false,
        };
        out.insert((iccid, field), change);
    }
    for b in current
        .blocked
        .iter()
        .filter(|b| iccids.contains(b.iccid.as_str()))
    {
        let change = CurrentChange {
            to: b.to.clone(),
            blocked: true,
        };
        out.insert((b.iccid.as_str(), b.field), change);
    }
    out
}

impl LastAppliedReport {
    /// The drifted SIMs whose status or IMEI lock differs (the fields events record), riskiest
    /// first: what `--why-drift` reads events for, along with the spec's drift.
    pub fn with_events(&self) -> impl Iterator<Item = (&str, Field)> {
        self.sims.iter().flat_map(|sim| {
            sim.fields
                .iter()
                .filter(|f| !event_types_for(f.field).is_empty())
                .map(move |f| (sim.iccid.as_str(), f.field))
        })
    }

    /// Fills in each drifted field's evidence from the events read (newest first) per ICCID
    /// at `read_at_ms`; SIMs with status or IMEI lock drift not in `reads` were over `limit`.
    pub fn attach_evidence(
        &mut self,
        reads: &HashMap<String, Result<Vec<SimEvent>, String>>,
        limit: u64,
        read_at_ms: i64,
    ) {
        let mut events = EventsRead {
            limit,
            read: 0,
            not_read: 0,
            read_at_ms,
        };
        for sim in &mut self.sims {
            let read = reads.get(&sim.iccid);
            let has_events = sim
                .fields
                .iter()
                .any(|f| !event_types_for(f.field).is_empty());
            if has_events {
                match read {
                    Some(_) => events.read += 1,
                    None => events.not_read += 1,
                }
            }
            for f in &mut sim.fields {
                f.evidence = match read {
                    Some(read) => Some(super::drift::evidence(f.field, read)),
                    None if event_types_for(f.field).is_empty() => Some(Evidence::NoEventsForField),
                    None => None,
                };
            }
        }
        self.events = Some(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::ImeiLock;
    use crate::plan::tests;
    use crate::spec::{DesiredValue, Limit, Origin, OriginKind};

    fn sim(iccid: &str, status: i32, data: Option<i64>, lock: Option<ImeiLock>) -> Sim {
        Sim {
            iccid: iccid.into(),
            statusid: status,
            providerid: 1,
            monthly_data_limit: data,
            imei_lock: lock,
            ..Sim::default()
        }
    }

    fn set(iccid: &str, field: Field, to: FieldValue) -> SetValue {
        SetValue {
            iccid: iccid.into(),
            field,
            to,
        }
    }

    fn last(set: Vec<SetValue>) -> LastApplied {
        LastApplied {
            path: "last.plan".into(),
            checksum: "sha256:00".into(),
            generated_at: None,
            set,
        }
    }

    fn report_with(
        last: &LastApplied,
        sims: &[Sim],
        desired: &[crate::spec::SimEntry],
    ) -> LastAppliedReport {
        let live = LiveSims {
            sims: sims.iter().map(|s| (s.iccid.as_str(), s)).collect(),
            read_again: 0,
        };
        let t = tests::table();
        let current = tests::build(tests::input(sims, desired, Some(&t))).expect("plan");
        let spec = tests::entries_spec(desired, "sha256:spec");
        compare(last, &live, &spec, &current)
    }

    fn report(last: &LastApplied, sims: &[Sim]) -> LastAppliedReport {
        report_with(last, sims, &[])
    }

    #[test]
    fn equal_by_the_rules_of_meaning_is_not_drift() {
        let auto = FieldValue::ImeiLock {
            enabled: true,
            imei: None,
        };
        let last = last(vec![
            // unlimited (null) set, 0 live
            set("1", Field::MonthlyDataLimit, FieldValue::Null),
            // auto set, locked to the IMEI auto-detect found
            set("1", Field::ImeiLock, auto),
            // 2 set, 13 live: on its way
            set("1", Field::Status, FieldValue::Int(2)),
        ]);
        let lock = ImeiLock {
            enabled: true,
            imei: Some("356938035643809".into()),
        };
        let r = report(&last, &[sim("1", 13, Some(0), Some(lock))]);
        assert_eq!((r.compared, r.drifted_sims), (1, 0), "{r:?}");
        assert!(r.sims.is_empty() && r.not_found.is_empty());
    }

    #[test]
    fn a_field_off_what_the_plan_set_drifted_riskiest_first() {
        let last = last(vec![
            set("1", Field::MonthlyDataLimit, FieldValue::Int(1_000)),
            set("2", Field::MonthlyDataLimit, FieldValue::Int(1_000)),
            set("2", Field::Status, FieldValue::Int(2)),
            set("3", Field::MonthlyDataLimit, FieldValue::Int(1_000)),
        ]);
        let r = report(
            &last,
            &[
                sim("1", 2, Some(5_000), None),
                sim("2", 12, Some(5_000), None),
                sim("3", 2, Some(1_000), None),
            ],
        );
        assert_eq!((r.compared, r.drifted_sims), (3, 2));
        assert_eq!(r.sims[0].iccid, "2", "status drift first");
        assert_eq!(r.sims[0].fields[0].field, Field::Status);
        assert_eq!(r.sims[0].fields[0].live, FieldValue::Int(12));
        assert_eq!(r.sims[1].iccid, "1");
        assert_eq!(r.sims[1].fields[0].set, FieldValue::Int(1_000));
        assert_eq!(r.sims[1].fields[0].live, FieldValue::Int(5_000));
        assert!(
            !r.sims[1].fields[0].managed,
            "the empty spec manages nothing"
        );
        assert_eq!(r.drifted_fields[&Field::MonthlyDataLimit], 2);
    }

    #[test]
    fn implied_changes_are_not_compared() {
        let t = tests::table();
        let mut plan = tests::build(tests::input(&[], &[], Some(&t))).expect("plan");
        let origin = std::sync::Arc::new(Origin {
            file: "fleet/a.yaml".into(),
            line: 1,
            col: 1,
            kind: OriginKind::Rule { name: "r".into() },
        });
        let change = |field, to, implied| crate::plan::FieldChange {
            field,
            from: FieldValue::Null,
            to,
            via: crate::plan::Via::default(),
            source: origin.clone(),
            flags: crate::plan::RiskFlags::default(),
            implied,
            usage: None,
        };
        plan.changes.push(crate::plan::SimChange::new(
            "1",
            vec![
                change(
                    Field::ImeiLock,
                    FieldValue::ImeiLock {
                        enabled: false,
                        imei: None,
                    },
                    false,
                ),
                change(Field::Status, FieldValue::Int(2), true),
            ],
        ));
        let last = LastApplied::of(&plan, "p");
        assert_eq!(last.set.len(), 1);
        assert_eq!(last.set[0].field, Field::ImeiLock);
        // The implied 20 → 2 did not hold (status 20 live): only the lock is compared, and holds.
        let r = report(&last, &[sim("1", 20, None, None)]);
        assert_eq!(r.drifted_sims, 0, "{r:?}");
    }

    #[test]
    fn a_managed_field_shows_the_current_plans_change() {
        let id = tests::iccid(1);
        let last = last(vec![set(
            &id,
            Field::MonthlyDataLimit,
            FieldValue::Int(1_000),
        )]);
        let desired = [tests::want(
            1,
            &[(
                Field::MonthlyDataLimit,
                DesiredValue::Limit(Limit::Value(2_000)),
            )],
        )];
        let live = [sim(&id, 2, Some(5_000), None)];
        let r = report_with(&last, &live, &desired);
        let f = &r.sims[0].fields[0];
        assert!(f.managed);
        assert_eq!(
            f.current,
            Some(CurrentChange {
                to: FieldValue::Int(2_000),
                blocked: false
            })
        );
    }

    #[test]
    fn a_sim_gone_from_the_fleet_is_not_found_not_drifted() {
        let last = last(vec![
            set("1", Field::Status, FieldValue::Int(2)),
            set("9", Field::Status, FieldValue::Int(2)),
        ]);
        let r = report(&last, &[sim("1", 2, None, None)]);
        assert_eq!((r.sims_in_plan, r.compared, r.drifted_sims), (2, 1, 0));
        assert_eq!(r.not_found, vec!["9".to_string()]);
    }

    #[test]
    fn status_and_lock_drift_since_the_apply_joins_the_event_reading_under_its_limit() {
        let last = last(vec![
            set("1", Field::ImeiLock, FieldValue::Null),
            set("2", Field::Status, FieldValue::Int(2)),
            set("3", Field::MonthlyDataLimit, FieldValue::Int(1)),
        ]);
        let lock = ImeiLock {
            enabled: true,
            imei: None,
        };
        let sims = [
            sim("1", 2, None, Some(lock)),
            sim("2", 12, None, None),
            sim("3", 2, Some(5), None),
        ];
        let t = tests::table();
        let mut plan = tests::build(tests::input(&[], &[], Some(&t))).expect("plan");
        plan.since_last_apply = Some(report(&last, &sims));
        let reading = super::super::drift::DriftReading::of(&plan, 1);
        assert_eq!(
            reading.to_read(),
            vec!["2"],
            "status first, at most the limit"
        );
        let all = super::super::drift::DriftReading::of(&plan, 10);
        assert_eq!(
            all.to_read(),
            vec!["2", "1"],
            "limits have no events to read"
        );
    }

    #[test]
    fn evidence_is_attached_to_the_sims_read_and_limits_say_no_events() {
        let last = last(vec![
            set("1", Field::Status, FieldValue::Int(2)),
            set("1", Field::MonthlyDataLimit, FieldValue::Int(1)),
            set("2", Field::Status, FieldValue::Int(2)),
        ]);
        let mut r = report(
            &last,
            &[sim("1", 12, Some(5), None), sim("2", 12, None, None)],
        );
        let reads = HashMap::from([("1".to_string(), Ok(Vec::new()))]);
        r.attach_evidence(&reads, 1, 7);
        assert_eq!(
            r.events,
            Some(EventsRead {
                limit: 1,
                read: 1,
                not_read: 1,
                read_at_ms: 7
            })
        );
        assert_eq!(
            r.sims[0].fields[0].evidence,
            Some(Evidence::NoMatchingEvent { events_read: 0 })
        );
        assert_eq!(
            r.sims[0].fields[1].evidence,
            Some(Evidence::NoEventsForField)
        );
        assert_eq!(r.sims[1].fields[0].evidence, None, "over the limit");
        assert_eq!(
            r.with_events().collect::<Vec<_>>(),
            vec![("1", Field::Status), ("2", Field::Status)]
        );
    }
}
