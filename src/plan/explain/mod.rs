//! `simfleet explain`'s engine: why one SIM gets the values it gets. Pure, like the rest of the
//! plan.
//!
//! Nothing is decided twice. The spec's candidates come from the plan's own resolution
//! ([`Spec::candidates`] is [`Spec::resolve_noting`]'s walk with its verdict hook); the decision
//! of each field is the plan's per-SIM decision (`PartialPlan`, run on this one SIM) read back
//! from its changes, blocked, pending, held and skipped lists; "already equal" names the rule of
//! meaning [`compare::meaning`] applied; the phase of a change and the path of a status are
//! read from the plan's calls for the SIM (`calls`). A change in any of those shows here
//! without a change here.
//! `recorded` explains from a saved plan's records instead of live values.

mod calls;
mod model;
mod recorded;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::fleet::Sim;
use crate::spec::{Candidate, Candidates, Field, OriginKind, Rule, Spec, Verdict};

use super::actions::Action;
use super::compare::{self, Meaning};
use super::decide::PartialPlan;
use super::model::BlockedChange;
use super::status::TransitionSet;
use super::{FieldValue, PlanError};
use crate::fleet::tables::status_label as label;

pub use model::{
    ClosestRule, Decision, ExplainReport, ExplainSource, Explanation, FailedKey, FieldExplanation,
    Lost, Managed, OtherValue, RuleRef, StatusStep, TransitionRow,
};
pub use recorded::explain_recorded;
// What the renderers need, so they depend on `plan` alone.
pub use crate::fleet::tables::{provider_name, status_label};

/// Explains one live SIM against the spec, with the transition table the plan would use.
pub fn explain(
    spec: &Spec,
    sim: &Sim,
    table: Option<&TransitionSet>,
) -> Result<Explanation, PlanError> {
    let candidates = spec.candidates(sim);
    let mut decided = PartialPlan::new(true);
    // Without a transition table (a snapshot without one) a status change cannot be decided:
    // the status says why, and the SIM's other fields are still decided.
    let mut undecided = None;
    if let Err(e) = decided.visit_resolution(sim, candidates.resolution, table) {
        let PlanError::NoTransitionTable(missing) = e else {
            return Err(e);
        };
        undecided = Some(missing.to_string());
        decided = PartialPlan::new(true);
        let others = candidates.resolution.map(|r| r.without(Field::Status));
        decided.visit_resolution(sim, others, table)?;
    }
    if !decided.wrong_kind.is_empty() {
        return Err(PlanError::WrongKind(std::mem::take(
            &mut decided.wrong_kind,
        )));
    }
    // The calls apply would make for this SIM: the plan's grouping of its changes.
    let grouped: Vec<Action> = decided
        .changes
        .first()
        .map(calls::group_one)
        .unwrap_or_default();
    let calls: Vec<&Action> = calls::of_sim(&grouped, &sim.iccid);
    let mut fields: Vec<FieldExplanation> = Field::ALL
        .into_iter()
        .map(|field| explain_field(sim, field, &candidates, &decided, table, &calls))
        .collect();
    add_implied(&mut fields, &decided, &calls);
    if let Some(reason) = undecided {
        if let Some(status) = fields.iter_mut().find(|f| f.field == Field::Status) {
            status.decision = Decision::Blocked {
                row: TransitionRow {
                    from: sim.statusid,
                    to: status
                        .desired
                        .as_ref()
                        .and_then(FieldValue::as_i64)
                        .map_or(0, |n| i32::try_from(n).unwrap_or_default()),
                    providerid: Some(sim.providerid),
                    allowed: None,
                },
                reason,
            };
        }
    }
    Ok(Explanation {
        iccid: sim.iccid.clone(),
        statusid: Some(sim.statusid),
        providerid: Some(sim.providerid),
        managed: if candidates.resolution.is_some() {
            Managed::Yes
        } else {
            Managed::No
        },
        entry: candidates.entry.map(|e| e.origin.location()),
        matched_rules: candidates.matched.iter().map(|r| rule_ref(r)).collect(),
        fields,
        closest_rules: closest_rules(sim, &candidates),
        note: None,
    })
}

/// A rule by name, location and priority.
pub(super) fn rule_ref(rule: &Rule) -> RuleRef {
    RuleRef {
        name: rule.name.clone(),
        location: rule.origin.location(),
        priority: rule.priority,
    }
}

fn closest_rules(sim: &Sim, candidates: &Candidates<'_>) -> Vec<ClosestRule> {
    (candidates.closest.iter())
        .map(|miss| ClosestRule {
            rule: rule_ref(miss.rule),
            failed: (miss.failed.iter())
                .map(|c| FailedKey {
                    key: c.key.name().to_string(),
                    wants: c.describe(),
                    live: c.live(sim),
                })
                .collect(),
        })
        .collect()
}

/// One field: live value, winner, losers and the plan's decision.
fn explain_field(
    sim: &Sim,
    field: Field,
    candidates: &Candidates<'_>,
    decided: &PartialPlan,
    table: Option<&TransitionSet>,
    calls: &[&Action],
) -> FieldExplanation {
    let offered: &[Candidate<'_>] = (candidates.fields.iter())
        .find(|(f, _)| *f == field)
        .map_or(&[], |(_, list)| list.as_slice());
    let winner = candidates.resolution.and_then(|r| r.get(field));
    let conflict = candidates.conflicts.contains(&field);
    let decision = if conflict {
        Decision::Conflict {
            reason: conflict_reason(offered),
        }
    } else if let Some(resolved) = winner {
        decide_field(sim, field, &resolved.value, decided, table, calls)
    } else {
        Decision::Unmanaged
    };
    FieldExplanation {
        field,
        live: Some(compare::live_value(sim, field)),
        desired: winner.map(|r| compare::desired_value(&r.value)),
        source: winner.map(|r| Arc::clone(&r.origin)),
        priority: offered
            .iter()
            .find(|c| c.verdict == Verdict::Wins && !conflict)
            .and_then(|c| c.priority),
        others: (offered.iter())
            .filter(|c| c.verdict != Verdict::Wins || conflict)
            .filter_map(other_value)
            .collect(),
        decision,
    }
}

/// A losing candidate (a `sims:` entry never loses).
fn other_value(candidate: &Candidate<'_>) -> Option<OtherValue> {
    let lost = match candidate.verdict {
        Verdict::Wins => Lost::SamePriorityConflict,
        Verdict::OverriddenByEntry => Lost::OverriddenBySimsEntry,
        Verdict::LowerPriority => Lost::LowerPriority,
        Verdict::SamePriorityAgrees => Lost::SamePrioritySameValue,
        Verdict::SamePriorityConflict => Lost::SamePriorityConflict,
    };
    Some(OtherValue {
        value: compare::desired_value(&candidate.value.value),
        source: Arc::clone(&candidate.value.origin),
        priority: candidate.priority?,
        lost,
    })
}

/// The rules in conflict over a field, by name and location.
fn conflict_reason(offered: &[Candidate<'_>]) -> String {
    let owners: Vec<String> = (offered.iter())
        .filter(|c| matches!(c.verdict, Verdict::Wins | Verdict::SamePriorityConflict))
        .map(|c| match &c.value.origin.kind {
            OriginKind::Rule { name } => format!("rule {name} ({})", c.value.origin.location()),
            OriginKind::SimEntry { iccid } => format!("sims entry {iccid}"),
        })
        .collect();
    format!(
        "rules of equal priority set different values ({}): the plan stops until one gets a higher `priority` or they agree",
        owners.join(", ")
    )
}

/// The plan's decision for a managed field, read back from what the per-SIM decision recorded.
fn decide_field(
    sim: &Sim,
    field: Field,
    desired: &crate::spec::DesiredValue,
    decided: &PartialPlan,
    table: Option<&TransitionSet>,
    calls: &[&Action],
) -> Decision {
    if decided.skipped.iter().any(|s| s.iccid == sim.iccid) {
        return Decision::Skipped {
            reason: format!(
                "{} is a terminal status: nothing of the SIM is changed",
                label(sim.statusid)
            ),
        };
    }
    let changed = (decided.changes.iter())
        .flat_map(|c| c.fields())
        .find(|f| f.field == field && !f.implied);
    if let Some(change) = changed {
        return calls::change_decision(&change, calls);
    }
    if let Some(blocked) = decided.blocked.iter().find(|b| b.field == field) {
        return blocked_decision(sim, blocked, table);
    }
    if let Some(pending) = decided.pending.first().filter(|_| field == Field::Status) {
        return Decision::Pending {
            reason: format!(
                "{} is already on its way to {}",
                label(pending.statusid),
                label(pending.desired)
            ),
        };
    }
    if let Some(held) = decided.held.first().filter(|_| field == Field::Status) {
        return Decision::Held {
            reason: held.reason.clone(),
        };
    }
    // Neither changed nor held back: the per-SIM decision found it holds.
    let rule = compare::meaning(field, desired, sim).unwrap_or(Meaning::Identical);
    Decision::Equal {
        rule,
        rule_text: rule.describe().to_string(),
    }
}

/// A blocked change with the row of the transition table it needs.
fn blocked_decision(sim: &Sim, blocked: &BlockedChange, table: Option<&TransitionSet>) -> Decision {
    let id = |v: &super::FieldValue| v.as_i64().and_then(|n| i32::try_from(n).ok());
    let (from, to) = (id(&blocked.from).unwrap_or(sim.statusid), id(&blocked.to));
    Decision::Blocked {
        reason: blocked.reason.clone(),
        row: TransitionRow {
            from,
            to: to.unwrap_or_default(),
            providerid: Some(sim.providerid),
            allowed: table.map(|t| t.targets(from, sim.providerid)),
        },
    }
}

/// The implied status change of an IMEI unlock (status 20 → 2), shown on the status field.
fn add_implied(fields: &mut [FieldExplanation], decided: &PartialPlan, calls: &[&Action]) {
    let implied = (decided.changes.iter())
        .flat_map(|c| c.fields())
        .find(|f| f.implied);
    let Some(implied) = implied else { return };
    if let Some(status) = fields.iter_mut().find(|f| f.field == implied.field) {
        status.desired = Some(implied.to.clone());
        status.source = Some(Arc::clone(&implied.source));
        status.decision = calls::change_decision(&implied, calls);
    }
}
