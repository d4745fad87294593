//! Assembling a plan: the joined runs of a whole pass become a [`Plan`]. Every SIM's mutations
//! are grouped into the calls `apply` will make, the totals are counted, the guards and warnings
//! evaluated and the checksum computed.
//!
//! The calls are made from the changes themselves: each mutation's `to` is the API form of its
//! desired value, so nothing of the spec is kept per SIM once a SIM is decided.

use crate::fleet::Coverage;

use super::actions::{self, ActionPlan, SimPath, SimWork};
use super::decide::PartialPlan;
use super::engine::FleetFacts;
use super::file::ChangesDigest;
use super::guards::{evaluate_guards, path_activations_guard, warnings, Guards};
use super::model::{Plan, SimChange, Summary, Warning, PLAN_FORMAT_VERSION};
use super::PlanError;

/// updateSim mutations `apply` sends per HTTP request: one each.
const UPDATES_PER_REQUEST: u32 = 1;

/// Turns the joined runs of a whole pass into the plan; `found` are the warnings the pass
/// itself raised (rules that matched nothing, an empty spec).
pub(super) fn assemble(
    mut partial: PartialPlan,
    facts: &FleetFacts,
    guards: &Guards,
    spec_digest: &str,
    found: Vec<Warning>,
) -> Result<Plan, PlanError> {
    if !partial.wrong_kind.is_empty() {
        return Err(PlanError::WrongKind(partial.wrong_kind));
    }
    if !partial.ascending {
        // The plan lists SIMs by ICCID whatever order they were read in.
        partial.sort();
    }
    let (grouped, changes_digest) = group_and_hash(&partial.changes);
    let summary = summarise(&partial, facts, &grouped);
    let mut guards = evaluate_guards(
        guards,
        summary.sims_changing,
        facts.sims_total,
        partial.cut_sims,
        partial.usage_cut_sims,
        partial.retire_sims,
        partial.implied_changes,
    );
    guards.extend(path_activations_guard(partial.path_activations));
    let mut all_warnings = found;
    all_warnings.extend(warnings(
        &facts.running_batch_jobs,
        &partial.skipped,
        &partial.held,
    ));
    let mut unmanaged = partial.unmanaged;
    unmanaged.sort_unstable();
    let mut plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        generated_at: None,
        summary,
        changes: partial.changes,
        blocked: partial.blocked,
        pending: partial.pending,
        held: partial.held,
        skipped: partial.skipped,
        unmanaged,
        guards,
        warnings: all_warnings,
        actions: grouped.actions,
        checks: partial.checks,
        waivers: partial.waivers,
        drift: None,
        since_last_apply: None,
        spec_digest: spec_digest.to_string(),
        checksum: String::new(),
    };
    plan.checksum = plan.checksum_after(changes_digest);
    Ok(plan)
}

/// Groups every SIM's mutations into calls and hashes the changes, one core each (the two are
/// independent).
pub(super) fn group_and_hash(changes: &[SimChange]) -> (ActionPlan, ChangesDigest) {
    crate::parallel::join(|| group_calls(changes), || ChangesDigest::of(changes))
}

/// The calls `apply` makes for these changes: every plan's grouping, and `explain`'s for one
/// SIM.
pub(super) fn group_calls(changes: &[SimChange]) -> ActionPlan {
    // A SIM's mutations are its change set's, shared with every SIM that changes the same way:
    // nothing is copied per SIM.
    let work: Vec<SimWork<'_>> = changes
        .iter()
        .map(|change| SimWork {
            iccid: &change.iccid,
            changes: change.set().mutations(),
        })
        .collect();
    // Lead-in steps of multi-step status paths (the final step is among the mutations).
    let paths: Vec<SimPath<'_>> = changes
        .iter()
        .flat_map(|change| {
            change
                .set()
                .targets()
                .iter()
                .filter(|t| !t.via.is_empty())
                .map(|t| SimPath {
                    iccid: &change.iccid,
                    via: t.via,
                })
        })
        .collect();
    actions::group_with_paths(&work, &paths, UPDATES_PER_REQUEST)
}

/// The figures a reviewer reads first.
fn summarise(partial: &PartialPlan, facts: &FleetFacts, grouped: &ActionPlan) -> Summary {
    let (sims_unmanaged, unmanaged_is_count) = match facts.coverage {
        Coverage::Full => (
            partial.sims_seen.saturating_sub(partial.sims_managed),
            false,
        ),
        Coverage::PushedDown => (facts.sims_total.saturating_sub(partial.sims_managed), true),
    };
    Summary {
        sims_total: facts.sims_total,
        sims_seen: partial.sims_seen,
        sims_managed: partial.sims_managed,
        sims_unmanaged,
        unmanaged_is_count,
        sims_changing: partial.changes.len() as u64,
        field_changes: partial.field_changes,
        changes_per_field: partial.changes_per_field.clone(),
        implied_changes: partial.implied_changes,
        blocked: partial.blocked.len() as u64,
        pending: partial.pending.len() as u64,
        held: partial.held.len() as u64,
        skipped: partial.skipped.len() as u64,
        api_calls: grouped.api_calls,
        http_requests: grouped.http_requests,
        lower_bound: grouped.lower_bound,
        usage_cuts: partial.usage_cut_sims,
        near_usage: partial.near_usage_sims,
    }
}
