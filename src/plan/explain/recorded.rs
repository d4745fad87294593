//! `explain --plan PLANFILE`: one SIM explained from a saved plan's records (its changes,
//! blocked, pending, held, skipped and unmanaged lists), so a reviewer can ask about the plan
//! that was approved rather than about the fleet as it is now.
//!
//! A plan records live values only of what it changes or holds back, and not which rules
//! matched. With the spec it was made from, the winning rule's priority and the rules that
//! would have lost to it are added; whether those matched the SIM is not in the plan, and the
//! explanation says so.

use std::sync::Arc;

use crate::spec::{Field, Origin, OriginKind, Spec};

use super::super::model::Plan;
use super::super::FieldValue;
use super::{
    calls, Decision, Explanation, FieldExplanation, Lost, Managed, OtherValue, TransitionRow,
};
use crate::fleet::tables::status_label as label;

/// Explains `iccid` from the plan's records, with the spec's rules when given.
pub fn explain_recorded(plan: &Plan, iccid: &str, spec: Option<&Spec>) -> Explanation {
    let mut fields = recorded_fields(plan, iccid);
    let skipped = plan.skipped.iter().find(|s| s.iccid == iccid);
    if let Some(skipped) = skipped {
        fields.push(FieldExplanation {
            field: Field::Status,
            live: Some(FieldValue::from(skipped.statusid)),
            desired: None,
            source: None,
            priority: None,
            others: Vec::new(),
            decision: Decision::Skipped {
                reason: format!(
                    "{} is a terminal status: nothing of the SIM is changed",
                    label(skipped.statusid)
                ),
            },
        });
    }
    let unmanaged = plan.unmanaged.iter().any(|u| u == iccid);
    let entry = spec.and_then(|s| s.sim_entries().iter().find(|e| e.iccid == iccid));
    let managed = if !fields.is_empty() || entry.is_some() {
        Managed::Yes
    } else if unmanaged {
        Managed::No
    } else {
        Managed::Unknown
    };
    if let Some(spec) = spec {
        for f in &mut fields {
            add_spec_rules(spec, f);
        }
        if let Some(entry) = entry {
            for (field, _) in &entry.settings {
                if !fields.iter().any(|f| f.field == *field) {
                    fields.push(not_recorded(*field));
                }
            }
        }
    }
    fields.sort_by_key(|f| f.field);
    // The rules the plan names as sources did match the SIM.
    let sources: Vec<&str> = (fields.iter())
        .filter_map(|f| match f.source.as_deref().map(|o| &o.kind) {
            Some(OriginKind::Rule { name }) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let matched_rules = (spec.iter())
        .flat_map(|s| s.rules())
        .filter(|r| sources.contains(&r.name.as_str()))
        .map(super::rule_ref)
        .collect();
    Explanation {
        iccid: iccid.to_string(),
        statusid: None,
        providerid: None,
        managed,
        entry: entry.map(|e| e.origin.location()),
        matched_rules,
        fields,
        closest_rules: Vec::new(),
        note: note(plan, managed, spec),
    }
}

/// What a plan-based explanation cannot tell.
fn note(plan: &Plan, managed: Managed, spec: Option<&Spec>) -> Option<String> {
    let stale = spec.is_some_and(|s| s.digest() != plan.spec_digest);
    let mut notes = Vec::new();
    match managed {
        Managed::Unknown if plan.summary.unmanaged_is_count => notes.push(
            "the plan has no record of this SIM: every managed field already held, or no rule manages it, or it is not in the fleet (the plan read only what the rules' filters select)",
        ),
        Managed::Unknown => notes.push(
            "the plan has no record of this SIM: every managed field already held when it was made, or the SIM is not in the fleet",
        ),
        Managed::No => notes.push("the plan lists this SIM as unmanaged: no rule or `sims:` entry applies to it"),
        Managed::Yes => notes.push(
            "explained from the plan's records: live values are known only for fields the plan changes or holds back",
        ),
    }
    if stale {
        notes.push("the spec given is not the one the plan was made from (its digest differs): rule locations may have moved");
    }
    Some(notes.join("; "))
}

/// A field a `sims:` entry sets that the plan has no record of: it already held.
fn not_recorded(field: Field) -> FieldExplanation {
    FieldExplanation {
        field,
        live: None,
        desired: None,
        source: None,
        priority: None,
        others: Vec::new(),
        decision: Decision::NotRecorded,
    }
}

/// Every field the plan recorded for the SIM: changes (implied ones included), then blocked,
/// pending and held statuses.
fn recorded_fields(plan: &Plan, iccid: &str) -> Vec<FieldExplanation> {
    let mut fields = Vec::new();
    let change = (plan.changes)
        .binary_search_by(|c| c.iccid.as_str().cmp(iccid))
        .ok()
        .map(|i| &plan.changes[i]);
    // The plan's own calls for this SIM: the phases and the status path apply takes.
    let sim_calls = calls::of_sim(&plan.actions, iccid);
    for f in change.iter().flat_map(|c| c.fields()) {
        let decision = calls::change_decision(&f, &sim_calls);
        fields.push(field(f.field, &f.from, &f.to, &f.source, decision));
    }
    for b in plan.blocked.iter().filter(|b| b.iccid == iccid) {
        let id = |v: &FieldValue| v.as_i64().and_then(|n| i32::try_from(n).ok());
        let row = TransitionRow {
            from: id(&b.from).unwrap_or_default(),
            to: id(&b.to).unwrap_or_default(),
            providerid: None,
            allowed: None,
        };
        let decision = Decision::Blocked {
            reason: b.reason.clone(),
            row,
        };
        fields.push(field(b.field, &b.from, &b.to, &b.source, decision));
    }
    for p in plan.pending.iter().filter(|p| p.iccid == iccid) {
        let decision = Decision::Pending {
            reason: format!(
                "{} is already on its way to {}",
                label(p.statusid),
                label(p.desired)
            ),
        };
        let (from, to) = (FieldValue::from(p.statusid), FieldValue::from(p.desired));
        fields.push(field(Field::Status, &from, &to, &p.source, decision));
    }
    for h in plan.held.iter().filter(|h| h.iccid == iccid) {
        let decision = Decision::Held {
            reason: h.reason.clone(),
        };
        let (from, to) = (FieldValue::from(h.statusid), FieldValue::from(h.desired));
        fields.push(field(Field::Status, &from, &to, &h.source, decision));
    }
    fields
}

fn field(
    field: Field,
    from: &FieldValue,
    to: &FieldValue,
    source: &Arc<Origin>,
    decision: Decision,
) -> FieldExplanation {
    FieldExplanation {
        field,
        live: Some(from.clone()),
        desired: Some(to.clone()),
        source: Some(Arc::clone(source)),
        priority: None,
        others: Vec::new(),
        decision,
    }
}

/// The winner's priority and the rules that would have lost to it, had they matched.
fn add_spec_rules(spec: &Spec, f: &mut FieldExplanation) {
    let Some(source) = f.source.clone() else {
        return;
    };
    let winner = match &source.kind {
        OriginKind::Rule { name } => spec.rules().iter().find(|r| &r.name == name),
        OriginKind::SimEntry { .. } => None,
    };
    f.priority = winner.map(|r| r.priority);
    let entry_wins = matches!(source.kind, OriginKind::SimEntry { .. });
    for rule in spec.rules() {
        if winner.is_some_and(|w| w.name == rule.name) {
            continue;
        }
        let Some(value) = rule.setting(f.field) else {
            continue;
        };
        let agrees =
            |w: &crate::spec::Rule| w.setting(f.field).map(|v| &v.value) == Some(&value.value);
        let lost = match winner {
            _ if entry_wins => Lost::OverriddenBySimsEntry,
            Some(w) if rule.priority < w.priority => Lost::LowerPriority,
            Some(w) if rule.priority == w.priority && agrees(w) => Lost::NotEvaluated,
            // A rule of higher priority, or of the same priority with another value, that is
            // not the source cannot have matched (it would have won, or been a conflict).
            _ => continue,
        };
        f.others.push(OtherValue {
            value: super::super::compare::desired_value(&value.value),
            source: Arc::clone(&value.origin),
            priority: rule.priority,
            lost,
        });
    }
}
