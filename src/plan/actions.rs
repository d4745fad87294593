//! Grouping a plan's changes into the mutation calls `apply` will make, in safe phases, and the
//! independent lower bound those calls are measured against.
//!
//! Phases (ARCHITECTURE.md, "Ordering for safety"): phase 0 cuts or retires (status first, before any
//! other change of that SIM); phase 1 sets limits, labels, the custom field and IMEI locks;
//! phase 2 activates (to 2, 6 or 8), and `apply` runs a SIM's activation only after its phase-1
//! changes succeeded. A multi-step status path (Issued → Activated → Deactivated) has its last
//! step in the phase its final status belongs to, and each step before it in a round of phase 0
//! of its own (`steps_after`: the steps of the path after it), run before phase 0's other
//! calls, highest first, so paths of different lengths share their later rounds; a round is
//! grouped like any status change. Within a phase, SIMs that share the exact same batch-expressible changes
//! become include-list batch jobs of at most 1000 ICCIDs; a SIM that needs a specific IMEI gets
//! one `updateSim` carrying all its changes of that phase.
//!
//! Decisions documented here:
//! - Unlimited data is only ever set by a batch job (`0` = unlimited there), even for one SIM:
//!   updateSim does not define `monthly_data_limit: 0`. A SIM with a specific IMEI that also needs
//!   unlimited data gets both its updateSim and a batch job for the data limit.
//! - Per phase, two groupings are computed and the one with fewer calls is kept: one batch job
//!   per exact set of changes (each SIM in one job), or one batch job per (field, value) (a SIM
//!   in one job per field it changes). The second is what the lower bound counts, and wins when
//!   SIMs share values field by field but rarely all at once; on a tie the first is kept.
//! - A group of a single SIM uses updateSim instead of a one-SIM batch job (unless it needs
//!   unlimited data): both are one mutation call, but updateSim answers synchronously while a batch
//!   job needs polling requests until it finishes. From two SIMs on, one batch job is fewer calls.
//!
//! Action values are API-level so `apply` maps them 1:1 onto the client: status ids, bytes with
//! `0` = unlimited in batch jobs, `Some(None)` = explicit `null` (no limit) for updateSim SMS and
//! voice limits, `""` to erase a text field.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{DesiredValue, Field, ImeiLockSetting, Limit};

use super::status::{ACTIVATIONS, CUTS, IRREVERSIBLE};
use super::via::Via;

pub use crate::fleet::{BatchChanges, ImeiLockInput, UpdateSimChanges, MAX_BATCH_ICCIDS};
fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Groups smaller than this use updateSim (see the module docs).
pub const MIN_BATCH_SIMS: usize = 2;

/// One mutation call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// `startBatchJob` with `includeIccIds`.
    BatchJob(BatchAction),
    /// `updateSim` for one SIM.
    UpdateSim(UpdateSimAction),
}

impl Action {
    pub fn phase(&self) -> u8 {
        match self {
            Action::BatchJob(b) => b.phase,
            Action::UpdateSim(u) => u.phase,
        }
    }

    /// For a lead-in step of a multi-step status path, the steps of the path after it (see the
    /// module docs); 0 for every other call.
    pub fn steps_after(&self) -> u8 {
        match self {
            Action::BatchJob(b) => b.steps_after,
            Action::UpdateSim(u) => u.steps_after,
        }
    }

    /// True for a call in phase 0 that changes the status and nothing else (what a lead-in step
    /// of a status path must be).
    pub fn is_status_step(&self) -> bool {
        match self {
            Action::BatchJob(b) => {
                b.phase == 0
                    && b.changes.statusid.is_some()
                    && b.changes
                        == BatchChanges {
                            statusid: b.changes.statusid,
                            ..BatchChanges::default()
                        }
            }
            Action::UpdateSim(u) => {
                u.phase == 0
                    && u.changes.statusid.is_some()
                    && u.changes
                        == UpdateSimChanges {
                            statusid: u.changes.statusid,
                            ..UpdateSimChanges::default()
                        }
            }
        }
    }

    fn set_phase(&mut self, phase: u8) {
        match self {
            Action::BatchJob(b) => b.phase = phase,
            Action::UpdateSim(u) => u.phase = phase,
        }
    }

    fn set_steps_after(&mut self, steps: u8) {
        match self {
            Action::BatchJob(b) => b.steps_after = steps,
            Action::UpdateSim(u) => u.steps_after = steps,
        }
    }

    /// The SIMs this call changes.
    pub fn iccids(&self) -> &[String] {
        match self {
            Action::BatchJob(b) => &b.iccids,
            Action::UpdateSim(u) => std::slice::from_ref(&u.iccid),
        }
    }
}

/// An include-list batch job: never empty, at most 1000 ICCIDs, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BatchAction {
    pub phase: u8,
    /// A step of multi-step status paths before their last: how many steps of the path follow
    /// it (0: not such a step). `apply` runs these in phase 0, highest first, each round
    /// verified before the next, before phase 0's other calls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub steps_after: u8,
    pub iccids: Vec<String>,
    pub changes: BatchChanges,
}

/// One `updateSim` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpdateSimAction {
    pub phase: u8,
    /// A step of multi-step status paths before their last: how many steps of the path follow
    /// it (0: not such a step). `apply` runs these in phase 0, highest first, each round
    /// verified before the next, before phase 0's other calls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub steps_after: u8,
    pub iccid: String,
    pub changes: UpdateSimChanges,
}

/// One SIM's mutations, as the plan decided them (no held, pending, blocked or implied ones).
#[derive(Debug, Clone)]
pub struct SimWork<'a> {
    pub iccid: &'a str,
    /// Borrowed from the SIM's change set, which every SIM that changes the same way shares.
    pub changes: &'a [(Field, DesiredValue)],
}

/// The grouped calls and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPlan {
    pub actions: Vec<Action>,
    pub api_calls: u64,
    pub http_requests: u64,
    pub lower_bound: u64,
}

/// The phase a change runs in, given the SIM's status change (if any).
pub fn phase_of(field: Field, value: &DesiredValue) -> u8 {
    match (field, value) {
        (Field::Status, DesiredValue::Status(id)) if CUTS.contains(id) || *id == IRREVERSIBLE => 0,
        (Field::Status, DesiredValue::Status(id)) if ACTIVATIONS.contains(id) => 2,
        _ => 1,
    }
}

/// A batch-expressible (field, value), borrowed from the desired values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum BatchValue<'a> {
    Status(i32),
    /// API value: 0 = unlimited.
    Limit(i64),
    /// "" = erase.
    Text(&'a str),
    Lock(bool),
}

/// Returns the batch form of a change, or `None` for a specific IMEI lock.
fn batch_value(value: &DesiredValue) -> Option<BatchValue<'_>> {
    Some(match value {
        DesiredValue::Status(id) => BatchValue::Status(*id),
        DesiredValue::Limit(Limit::Unlimited) => BatchValue::Limit(0),
        DesiredValue::Limit(Limit::Value(v)) => BatchValue::Limit(*v),
        DesiredValue::Text(t) => BatchValue::Text(t.as_deref().unwrap_or("")),
        DesiredValue::ImeiLock(ImeiLockSetting::Off) => BatchValue::Lock(false),
        DesiredValue::ImeiLock(ImeiLockSetting::Auto) => BatchValue::Lock(true),
        DesiredValue::ImeiLock(ImeiLockSetting::Imei(_)) => return None,
    })
}

fn needs_specific_imei(value: &DesiredValue) -> bool {
    matches!(value, DesiredValue::ImeiLock(ImeiLockSetting::Imei(_)))
}

fn is_unlimited_data(field: Field, value: &DesiredValue) -> bool {
    field == Field::MonthlyDataLimit && matches!(value, DesiredValue::Limit(Limit::Unlimited))
}

/// The exact set of batch changes one SIM needs in one phase (ordered by field).
type BatchKey<'a> = Vec<(Field, BatchValue<'a>)>;

fn batch_changes(key: &[(Field, BatchValue<'_>)]) -> BatchChanges {
    let mut c = BatchChanges::default();
    for (field, value) in key {
        match (field, value) {
            (_, BatchValue::Status(id)) => c.statusid = Some(*id),
            (Field::MonthlyDataLimit, BatchValue::Limit(v)) => c.monthly_data_limit = Some(*v),
            (Field::MonthlySmsMoLimit, BatchValue::Limit(v)) => c.monthly_sms_mo_limit = Some(*v),
            (Field::MonthlySmsMtLimit, BatchValue::Limit(v)) => c.monthly_sms_mt_limit = Some(*v),
            (Field::MonthlyVoiceMoLimit, BatchValue::Limit(v)) => {
                c.monthly_voice_mo_limit = Some(*v)
            }
            (Field::CustomField1, BatchValue::Text(t)) => c.custom_field_1 = Some(t.to_string()),
            (Field::EndCustomerLabel, BatchValue::Text(t)) => {
                c.end_customer_label = Some(t.to_string())
            }
            (_, BatchValue::Lock(lock)) => c.imei_lock = Some(*lock),
            _ => {}
        }
    }
    c
}

/// updateSim arguments for changes that are all updateSim-expressible (no unlimited data).
fn update_changes(changes: &[(Field, &DesiredValue)]) -> UpdateSimChanges {
    let mut c = UpdateSimChanges::default();
    for (field, value) in changes {
        match (field, value) {
            (_, DesiredValue::Status(id)) => c.statusid = Some(*id),
            (Field::MonthlyDataLimit, DesiredValue::Limit(Limit::Value(v))) => {
                c.monthly_data_limit = Some(*v)
            }
            (Field::MonthlySmsMoLimit, DesiredValue::Limit(l)) => {
                c.monthly_sms_mo_limit = Some(limit_or_null(*l))
            }
            (Field::MonthlySmsMtLimit, DesiredValue::Limit(l)) => {
                c.monthly_sms_mt_limit = Some(limit_or_null(*l))
            }
            (Field::MonthlyVoiceMoLimit, DesiredValue::Limit(l)) => {
                c.monthly_voice_mo_limit = Some(limit_or_null(*l))
            }
            (Field::CustomField1, DesiredValue::Text(t)) => {
                c.custom_field_1 = Some(t.clone().unwrap_or_default())
            }
            (Field::EndCustomerLabel, DesiredValue::Text(t)) => {
                c.end_customer_label = Some(t.clone().unwrap_or_default())
            }
            (_, DesiredValue::ImeiLock(setting)) => {
                c.imei_lock = Some(match setting {
                    ImeiLockSetting::Off => ImeiLockInput {
                        lock: false,
                        imei: None,
                    },
                    ImeiLockSetting::Auto => ImeiLockInput {
                        lock: true,
                        imei: None,
                    },
                    ImeiLockSetting::Imei(imei) => ImeiLockInput {
                        lock: true,
                        imei: Some(imei.clone()),
                    },
                })
            }
            _ => {}
        }
    }
    c
}

fn limit_or_null(limit: Limit) -> Option<i64> {
    match limit {
        Limit::Unlimited => None,
        Limit::Value(v) => Some(v),
    }
}

fn key_changes<'a>(
    key: &BatchKey<'a>,
    source: &[(Field, &'a DesiredValue)],
) -> Vec<(Field, &'a DesiredValue)> {
    source
        .iter()
        .filter(|(f, _)| key.iter().any(|(k, _)| k == f))
        .copied()
        .collect()
}

/// Batch jobs plus the updateSim calls for SIMs that ended up alone, for one phase.
type PhaseCalls = (Vec<Action>, Vec<UpdateSimAction>);

/// The changes of one SIM that run in `phase`.
fn phase_changes<'a>(sim: &SimWork<'a>, phase: u8) -> Vec<(Field, &'a DesiredValue)> {
    sim.changes
        .iter()
        .filter(|(f, v)| phase_of(*f, v) == phase)
        .map(|(f, v)| (*f, v))
        .collect()
}

/// One batch job per exact set of changes (and per 1000 SIMs): each SIM is in one job.
fn by_change_set<'a>(phase: u8, groups: ChangeSetGroups<'a>, work: &[SimWork<'a>]) -> PhaseCalls {
    let mut batches = Vec::new();
    let mut updates = Vec::new();
    // Hashed while grouping a million SIMs, ordered once here so the plan is deterministic.
    let mut groups = groups;
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, mut members) in groups {
        if members.len() < MIN_BATCH_SIMS && !has_unlimited_data(&key) {
            for index in members {
                let sim = &work[index as usize];
                updates.push(UpdateSimAction {
                    phase,
                    steps_after: 0,
                    iccid: sim.iccid.to_string(),
                    changes: update_changes(&key_changes(&key, &phase_changes(sim, phase))),
                });
            }
            continue;
        }
        // Already in ICCID order when the SIMs were (the usual case): no need to sort again.
        let iccid = |i: u32| work[i as usize].iccid;
        if !members.windows(2).all(|w| iccid(w[0]) <= iccid(w[1])) {
            members.sort_unstable_by_key(|&i| iccid(i));
        }
        let changes = batch_changes(&key);
        for chunk in members.chunks(MAX_BATCH_ICCIDS) {
            batches.push(Action::BatchJob(BatchAction {
                phase,
                steps_after: 0,
                iccids: chunk.iter().map(|&i| iccid(i).to_string()).collect(),
                changes: changes.clone(),
            }));
        }
    }
    (batches, updates)
}

/// One batch job per (field, value) (and per 1000 SIMs): a SIM with several changes is in
/// several jobs. Wins when SIMs share values field by field but rarely all at once, which is
/// what the lower bound counts. Changes left alone in their (field, value) go into one
/// updateSim per SIM.
fn by_field<'a>(
    phase: u8,
    groups: FieldGroups<'a>,
    sims: &[PhaseSim],
    work: &[SimWork<'a>],
) -> PhaseCalls {
    let mut batches = Vec::new();
    let mut left: BTreeMap<u32, BatchKey<'a>> = BTreeMap::new();
    let sim_work = |i: u32| &work[sims[i as usize].work as usize];
    let mut groups = groups;
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((field, value), members) in groups {
        let single = [(field, value)];
        if members.len() < MIN_BATCH_SIMS && !has_unlimited_data(&single) {
            for index in members {
                left.entry(index).or_default().push((field, value));
            }
            continue;
        }
        let mut iccids: Vec<&str> = members.iter().map(|&i| sim_work(i).iccid).collect();
        if !iccids.windows(2).all(|w| w[0] <= w[1]) {
            iccids.sort_unstable();
        }
        let changes = batch_changes(&single);
        for chunk in iccids.chunks(MAX_BATCH_ICCIDS) {
            batches.push(Action::BatchJob(BatchAction {
                phase,
                steps_after: 0,
                iccids: chunk.iter().map(|i| i.to_string()).collect(),
                changes: changes.clone(),
            }));
        }
    }
    let updates = left
        .into_iter()
        .map(|(index, key)| UpdateSimAction {
            phase,
            steps_after: 0,
            iccid: sim_work(index).iccid.to_string(),
            changes: update_changes(&key_changes(&key, &phase_changes(sim_work(index), phase))),
        })
        .collect();
    (batches, updates)
}

/// A SIM with batch changes in the phase being grouped (indexes as `u32`: a phase of a million
/// SIMs holds one each).
struct PhaseSim {
    /// Its exact set of batch changes, as an index into the phase's distinct sets.
    key: u32,
    /// Its index in the work list.
    work: u32,
}

/// SIMs (by index into the phase's [`PhaseSim`]s) per (field, value).
type FieldGroups<'a> = Vec<((Field, BatchValue<'a>), Vec<u32>)>;

/// SIMs (by index into the work list) per exact set of batch changes.
type ChangeSetGroups<'a> = Vec<(BatchKey<'a>, Vec<u32>)>;

/// Regroups SIMs by (field, value), in SIM order within each group. Hashes each distinct change
/// set's entries once, not each SIM's: a million SIMs share a few thousand sets.
fn field_groups<'a>(sims: &[PhaseSim], keys: &[BatchKey<'a>]) -> FieldGroups<'a> {
    let mut ids: HashMap<(Field, BatchValue<'a>), usize> = HashMap::new();
    let mut groups: FieldGroups<'a> = Vec::new();
    let key_groups: Vec<Vec<usize>> = keys
        .iter()
        .map(|key| {
            key.iter()
                .map(|entry| {
                    *ids.entry(*entry).or_insert_with(|| {
                        groups.push((*entry, Vec::new()));
                        groups.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    for (index, sim) in sims.iter().enumerate() {
        for &group in &key_groups[sim.key as usize] {
            groups[group].1.push(index as u32);
        }
    }
    groups
}

/// Calls [`by_change_set`] would make, without making them.
fn count_by_change_set(keys: &[BatchKey<'_>], members: &[Vec<u32>]) -> usize {
    keys.iter()
        .zip(members)
        .map(|(key, members)| {
            if members.len() < MIN_BATCH_SIMS && !has_unlimited_data(key) {
                members.len()
            } else {
                members.len().div_ceil(MAX_BATCH_ICCIDS)
            }
        })
        .sum()
}

/// Calls [`by_field`] would make, without making them: its batch jobs, plus one updateSim per
/// SIM with a change left alone in its (field, value).
fn count_by_field(groups: &FieldGroups<'_>, sims: usize) -> usize {
    let mut left = vec![false; sims];
    let mut batches = 0;
    for ((field, value), members) in groups {
        if members.len() < MIN_BATCH_SIMS && !has_unlimited_data(&[(*field, *value)]) {
            for &index in members {
                left[index as usize] = true;
            }
        } else {
            batches += members.len().div_ceil(MAX_BATCH_ICCIDS);
        }
    }
    batches + left.iter().filter(|l| **l).count()
}

fn has_unlimited_data(key: &[(Field, BatchValue<'_>)]) -> bool {
    key.iter()
        .any(|(f, v)| *f == Field::MonthlyDataLimit && *v == BatchValue::Limit(0))
}

/// Groups every SIM's mutations into calls. `updates_per_request` is how many updateSim
/// mutations `apply` sends in one HTTP request (1 when it sends each alone).
pub fn group(work: &[SimWork<'_>], updates_per_request: u32) -> ActionPlan {
    group_with_paths(work, &[], updates_per_request)
}

/// The lead-in steps of one SIM's multi-step status path: the statuses it passes through
/// before its final status (which is in its [`SimWork`] like any status change).
#[derive(Debug, Clone, Copy)]
pub struct SimPath<'a> {
    pub iccid: &'a str,
    pub via: Via,
}

/// [`group`], with the lead-in steps of multi-step status paths: each step is a round of phase
/// 0 of its own, counted back from the path's end (`steps_after`), run before phase 0's other
/// calls, highest first, so every SIM's final step lands in its usual phase. A round's SIMs
/// are grouped like any status change: one call per status per 1000 SIMs.
pub fn group_with_paths(
    work: &[SimWork<'_>],
    paths: &[SimPath<'_>],
    updates_per_request: u32,
) -> ActionPlan {
    let per_request = u64::from(updates_per_request.max(1));
    let mut plan = ActionPlan {
        actions: Vec::new(),
        api_calls: 0,
        http_requests: 0,
        lower_bound: 0,
    };
    let longest = paths.iter().map(|p| p.via.len()).max().unwrap_or(0);
    for steps_after in (1..=longest).rev() {
        let in_round: Vec<(&str, i32)> = paths
            .iter()
            .filter_map(|p| {
                let at = p.via.len().checked_sub(steps_after)?;
                Some((p.iccid, p.via.get(at)?))
            })
            .collect();
        let targets: Vec<[(Field, DesiredValue); 1]> = in_round
            .iter()
            .map(|(_, status)| [(Field::Status, DesiredValue::Status(*status))])
            .collect();
        let round: Vec<SimWork<'_>> = in_round
            .iter()
            .zip(&targets)
            .map(|((iccid, _), target)| SimWork {
                iccid,
                changes: target,
            })
            .collect();
        let before = plan.actions.len();
        // Each status in the round is grouped in the phase it would have as a final step, so
        // the calls are those of an ordinary status change; the round itself runs in phase 0.
        for natural in 0u8..=2 {
            add_phase(&mut plan, &round, natural, per_request);
        }
        let steps = u8::try_from(steps_after).unwrap_or(u8::MAX);
        for action in &mut plan.actions[before..] {
            action.set_phase(0);
            action.set_steps_after(steps);
        }
    }
    for phase in 0u8..=2 {
        add_phase(&mut plan, work, phase, per_request);
    }
    plan
}

/// Groups the changes of one phase into calls and adds them to `plan`.
fn add_phase(plan: &mut ActionPlan, work: &[SimWork<'_>], phase: u8, per_request: u64) {
    let sets = PhaseSets::of(work, phase);
    plan.lower_bound += sets.lower_bound();
    let (batches, mut updates) = sets.into_calls(phase, work);
    updates.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    let batch_calls = batches.len() as u64;
    let update_calls = updates.len() as u64;
    plan.api_calls += batch_calls + update_calls;
    plan.http_requests += batch_calls + update_calls.div_ceil(per_request);
    plan.actions.extend(batches);
    plan.actions
        .extend(updates.into_iter().map(Action::UpdateSim));
}

/// One phase's mutations, SIM by SIM: the updateSim calls that a specific IMEI forces, and for
/// every other SIM the exact set of batch changes it needs, by number. Sets are interned (built
/// in a scratch list, hashed as a slice, and copied only when new), so a million SIMs cost a few
/// thousand allocations, not millions.
struct PhaseSets<'a> {
    /// SIMs with batch changes in this phase, in SIM order.
    sims: Vec<PhaseSim>,
    /// Each distinct change set, by number.
    keys: Vec<BatchKey<'a>>,
    /// The SIMs of each change set.
    members: Vec<Vec<u32>>,
    updates: Vec<UpdateSimAction>,
    /// SIMs that must use updateSim (a specific IMEI).
    must_update: u64,
}

impl<'a> PhaseSets<'a> {
    fn of(work: &[SimWork<'a>], phase: u8) -> PhaseSets<'a> {
        let mut sets = PhaseSets {
            sims: Vec::new(),
            keys: Vec::new(),
            members: Vec::new(),
            updates: Vec::new(),
            must_update: 0,
        };
        let mut interned: HashMap<BatchKey<'a>, usize> = HashMap::new();
        let mut key: BatchKey<'a> = Vec::new();
        for (index, sim) in work.iter().enumerate() {
            key.clear();
            sets.split_sim(phase, sim, &mut key);
            if key.is_empty() {
                continue;
            }
            key.sort();
            let id = match interned.get(key.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = sets.members.len();
                    interned.insert(key.clone(), id);
                    sets.members.push(Vec::new());
                    id
                }
            };
            // A plan has fewer than 2^32 SIMs (the API's ICCIDs are far fewer).
            let (key, work) = (id as u32, index as u32);
            sets.members[id].push(work);
            sets.sims.push(PhaseSim { key, work });
        }
        sets.keys = vec![Vec::new(); sets.members.len()];
        for (key, id) in interned {
            sets.keys[id] = key;
        }
        sets
    }

    /// Puts one SIM's changes of this phase into an updateSim (when a specific IMEI needs one)
    /// and its batch changes into `key`.
    fn split_sim(&mut self, phase: u8, sim: &SimWork<'a>, key: &mut BatchKey<'a>) {
        let in_phase = sim.changes.iter().filter(|(f, v)| phase_of(*f, v) == phase);
        if !in_phase.clone().any(|(_, v)| needs_specific_imei(v)) {
            key.extend(in_phase.filter_map(|(f, v)| batch_value(v).map(|bv| (*f, bv))));
            return;
        }
        self.must_update += 1;
        let via_update: Vec<(Field, &DesiredValue)> = in_phase
            .clone()
            .filter(|(f, v)| !is_unlimited_data(*f, v))
            .map(|(f, v)| (*f, v))
            .collect();
        self.updates.push(UpdateSimAction {
            phase,
            steps_after: 0,
            iccid: sim.iccid.to_string(),
            changes: update_changes(&via_update),
        });
        key.extend(
            in_phase
                .filter(|(f, v)| is_unlimited_data(*f, v))
                .filter_map(|(f, v)| batch_value(v).map(|bv| (*f, bv))),
        );
    }

    /// The independent lower bound of this phase: every SIM that needs its own updateSim, plus
    /// for the field that needs the most, Σ over its values of ceil(n(field, value) / 1000).
    fn lower_bound(&self) -> u64 {
        let mut counts: HashMap<(Field, BatchValue<'_>), u64> = HashMap::new();
        for (key, members) in self.keys.iter().zip(&self.members) {
            for entry in key {
                *counts.entry(*entry).or_insert(0) += members.len() as u64;
            }
        }
        let mut per_field: BTreeMap<Field, u64> = BTreeMap::new();
        for ((field, _), n) in counts {
            *per_field.entry(field).or_insert(0) += n.div_ceil(MAX_BATCH_ICCIDS as u64);
        }
        self.must_update + per_field.values().copied().max().unwrap_or(0)
    }

    /// The phase's batch jobs, by field or by change set, whichever needs fewer calls (on a tie,
    /// one job per change set is easier to review), and its updateSim calls. Both ways are
    /// counted first and only the winner is built: on a large fleet each is a million ICCIDs to
    /// copy.
    fn into_calls(self, phase: u8, work: &[SimWork<'a>]) -> (Vec<Action>, Vec<UpdateSimAction>) {
        let mut updates = self.updates;
        let fields = field_groups(&self.sims, &self.keys);
        let (batches, singles) = if count_by_field(&fields, self.sims.len())
            < count_by_change_set(&self.keys, &self.members)
        {
            by_field(phase, fields, &self.sims, work)
        } else {
            drop(fields);
            by_change_set(
                phase,
                self.keys.into_iter().zip(self.members).collect(),
                work,
            )
        };
        updates.extend(singles);
        (batches, updates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iccid(i: usize) -> String {
        format!("894900000{i:011}")
    }

    fn work<'a>(iccids: &'a [String], changes: &[(Field, &DesiredValue)]) -> Vec<SimWork<'a>> {
        // Shared by every SIM, as a change set's mutations are (leaked: a test's few bytes).
        let changes: &'a [(Field, DesiredValue)] =
            Vec::leak(changes.iter().map(|(f, v)| (*f, (*v).clone())).collect());
        iccids
            .iter()
            .map(|i| SimWork { iccid: i, changes })
            .collect()
    }

    #[test]
    fn values_shared_field_by_field_get_one_job_per_field_value() {
        // Eight SIMs, three fields with two values each: every SIM has its own combination, so
        // one job per change set would be eight calls; one job per (field, value) is six.
        let iccids: Vec<String> = (0..8).map(iccid).collect();
        let data = [
            DesiredValue::Limit(Limit::Value(1_000_000)),
            DesiredValue::Limit(Limit::Value(2_000_000)),
        ];
        let sms = [
            DesiredValue::Limit(Limit::Value(10)),
            DesiredValue::Limit(Limit::Value(20)),
        ];
        let voice = [
            DesiredValue::Limit(Limit::Value(60)),
            DesiredValue::Limit(Limit::Value(120)),
        ];
        let changes: Vec<Vec<(Field, DesiredValue)>> = (0..iccids.len())
            .map(|i| {
                vec![
                    (Field::MonthlyDataLimit, data[i % 2].clone()),
                    (Field::MonthlySmsMoLimit, sms[(i / 2) % 2].clone()),
                    (Field::MonthlyVoiceMoLimit, voice[(i / 4) % 2].clone()),
                ]
            })
            .collect();
        let work: Vec<SimWork<'_>> = iccids
            .iter()
            .zip(&changes)
            .map(|(iccid, changes)| SimWork { iccid, changes })
            .collect();
        let plan = group(&work, 1);
        assert_eq!(plan.api_calls, 6);
        assert_eq!(plan.lower_bound, 2);
        // Every SIM still gets each of its three changes exactly once.
        for (i, iccid) in iccids.iter().enumerate() {
            let mut seen = BatchChanges::default();
            for action in &plan.actions {
                let Action::BatchJob(b) = action else {
                    panic!("expected batch jobs only: {action:?}")
                };
                if b.iccids.contains(iccid) {
                    assert_eq!(b.iccids.len(), 4);
                    let c = &b.changes;
                    for (mine, theirs) in [
                        (&mut seen.monthly_data_limit, c.monthly_data_limit),
                        (&mut seen.monthly_sms_mo_limit, c.monthly_sms_mo_limit),
                        (&mut seen.monthly_voice_mo_limit, c.monthly_voice_mo_limit),
                    ] {
                        if theirs.is_some() {
                            assert!(mine.is_none(), "a field set twice for {iccid}");
                            *mine = theirs;
                        }
                    }
                }
            }
            assert_eq!(seen.monthly_data_limit, Some([1_000_000, 2_000_000][i % 2]));
            assert_eq!(seen.monthly_sms_mo_limit, Some([10, 20][(i / 2) % 2]));
            assert_eq!(seen.monthly_voice_mo_limit, Some([60, 120][(i / 4) % 2]));
        }
    }

    #[test]
    fn fifty_thousand_sims_same_limit_make_fifty_batch_jobs() {
        let iccids: Vec<String> = (0..50_000).map(iccid).collect();
        let limit = DesiredValue::Limit(Limit::Value(500_000_000));
        let plan = group(&work(&iccids, &[(Field::MonthlyDataLimit, &limit)]), 1);
        assert_eq!(plan.actions.len(), 50);
        assert_eq!(plan.api_calls, 50);
        assert_eq!(plan.lower_bound, 50);
        for action in &plan.actions {
            let Action::BatchJob(b) = action else {
                panic!("expected a batch job: {action:?}")
            };
            assert_eq!(b.iccids.len(), 1000);
            assert_eq!(b.changes.monthly_data_limit, Some(500_000_000));
            assert!(b.iccids.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn mixed_plan_against_its_lower_bound() {
        let a: Vec<String> = (0..1500).map(iccid).collect();
        let b: Vec<String> = (1500..1700).map(iccid).collect();
        let c: Vec<String> = (1700..1703).map(iccid).collect();
        let small = DesiredValue::Limit(Limit::Value(1_000_000));
        let sms = DesiredValue::Limit(Limit::Value(10));
        let imei = DesiredValue::ImeiLock(ImeiLockSetting::Imei("356938035643809".into()));
        let mut w = work(&a, &[(Field::MonthlyDataLimit, &small)]);
        w.extend(work(
            &b,
            &[
                (Field::MonthlyDataLimit, &small),
                (Field::MonthlySmsMoLimit, &sms),
            ],
        ));
        w.extend(work(
            &c,
            &[(Field::ImeiLock, &imei), (Field::MonthlySmsMoLimit, &sms)],
        ));
        let plan = group(&w, 1);
        // {data} 1500 → 2 jobs, {data, sms} 200 → 1 job, 3 IMEI SIMs → 3 updateSim.
        assert_eq!(plan.api_calls, 6);
        // Bound: 3 updateSim + max(data: ceil(1700/1000)=2, sms: ceil(200/1000)=1) = 5.
        assert_eq!(plan.lower_bound, 5);
        assert!(plan.api_calls >= plan.lower_bound);
        let updates: Vec<_> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::UpdateSim(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(updates.len(), 3);
        assert_eq!(updates[0].changes.monthly_sms_mo_limit, Some(Some(10)));
        assert_eq!(
            updates[0].changes.imei_lock,
            Some(ImeiLockInput {
                lock: true,
                imei: Some("356938035643809".into())
            })
        );
    }

    #[test]
    fn activation_runs_after_limits_and_cuts_run_first() {
        let ids: Vec<String> = (0..10).map(iccid).collect();
        let on = DesiredValue::Status(2);
        let off = DesiredValue::Status(5);
        let limit = DesiredValue::Limit(Limit::Value(1000));
        let lock = DesiredValue::ImeiLock(ImeiLockSetting::Auto);
        let mut w = work(
            &ids[..5],
            &[
                (Field::Status, &on),
                (Field::MonthlyDataLimit, &limit),
                (Field::ImeiLock, &lock),
            ],
        );
        w.extend(work(
            &ids[5..],
            &[(Field::Status, &off), (Field::MonthlyDataLimit, &limit)],
        ));
        let plan = group(&w, 1);
        let phases: Vec<u8> = plan.actions.iter().map(Action::phase).collect();
        assert!(phases.windows(2).all(|p| p[0] <= p[1]), "{phases:?}");
        for action in &plan.actions {
            let Action::BatchJob(b) = action else {
                panic!("{action:?}")
            };
            match b.phase {
                0 => assert_eq!(
                    b.changes,
                    BatchChanges {
                        statusid: Some(5),
                        ..Default::default()
                    }
                ),
                2 => assert_eq!(
                    b.changes,
                    BatchChanges {
                        statusid: Some(2),
                        ..Default::default()
                    }
                ),
                _ => assert_eq!(b.changes.statusid, None),
            }
        }
        let activation = plan.actions.iter().position(|a| a.phase() == 2);
        let limits = plan.actions.iter().position(
            |a| matches!(a, Action::BatchJob(b) if b.changes.monthly_data_limit.is_some()),
        );
        assert!(limits < activation);
    }

    #[test]
    fn unlimited_data_is_never_sent_through_update_sim() {
        let ids: Vec<String> = (0..1).map(iccid).collect();
        let unlimited = DesiredValue::Limit(Limit::Unlimited);
        let imei = DesiredValue::ImeiLock(ImeiLockSetting::Imei("356938035643809".into()));
        // A single SIM: still a batch job, not updateSim.
        let plan = group(&work(&ids, &[(Field::MonthlyDataLimit, &unlimited)]), 1);
        assert!(
            matches!(&plan.actions[..], [Action::BatchJob(b)] if b.changes.monthly_data_limit == Some(0))
        );
        // With a specific IMEI: updateSim for the lock, a batch job for the data.
        let plan = group(
            &work(
                &ids,
                &[
                    (Field::MonthlyDataLimit, &unlimited),
                    (Field::ImeiLock, &imei),
                ],
            ),
            1,
        );
        assert_eq!(plan.api_calls, 2);
        for action in &plan.actions {
            if let Action::UpdateSim(u) = action {
                assert_eq!(u.changes.monthly_data_limit, None);
            }
        }
    }

    #[test]
    fn singletons_use_update_sim_with_explicit_null_for_unlimited_sms() {
        let ids: Vec<String> = (0..1).map(iccid).collect();
        let unlimited = DesiredValue::Limit(Limit::Unlimited);
        let none = DesiredValue::Text(None);
        let plan = group(
            &work(
                &ids,
                &[
                    (Field::MonthlySmsMtLimit, &unlimited),
                    (Field::EndCustomerLabel, &none),
                ],
            ),
            1,
        );
        let [Action::UpdateSim(u)] = &plan.actions[..] else {
            panic!("{:?}", plan.actions)
        };
        assert_eq!(u.changes.monthly_sms_mt_limit, Some(None));
        assert_eq!(u.changes.end_customer_label.as_deref(), Some(""));
        let json = serde_json::to_value(u).expect("serialises");
        assert_eq!(
            json["changes"]["monthly_sms_mt_limit"],
            serde_json::Value::Null
        );
        assert!(json["changes"].get("monthly_sms_mo_limit").is_none());
        let back: UpdateSimAction = serde_json::from_value(json).expect("round trip");
        assert_eq!(&back, u);
    }

    #[test]
    fn http_requests_count_shared_update_requests() {
        let ids: Vec<String> = (0..5).map(iccid).collect();
        let w: Vec<SimWork> = ids
            .iter()
            .map(|i| SimWork {
                iccid: i,
                changes: &[],
            })
            .collect();
        assert_eq!(group(&w, 1).api_calls, 0);
        let imei = DesiredValue::ImeiLock(ImeiLockSetting::Imei("356938035643809".into()));
        let plan = group(&work(&ids, &[(Field::ImeiLock, &imei)]), 2);
        assert_eq!(plan.api_calls, 5);
        assert_eq!(plan.http_requests, 3);
    }

    proptest! {
        #[test]
        fn include_lists_are_never_empty_nor_over_1000(
            sims in proptest::collection::vec((0u8..4, 0u8..3, any::<bool>()), 0..2500)
        ) {
            let limits = [
                DesiredValue::Limit(Limit::Unlimited),
                DesiredValue::Limit(Limit::Value(1)),
                DesiredValue::Limit(Limit::Value(2)),
                DesiredValue::Limit(Limit::Value(3)),
            ];
            let statuses = [DesiredValue::Status(2), DesiredValue::Status(5), DesiredValue::Status(7)];
            let iccids: Vec<String> = (0..sims.len()).map(iccid).collect();
            let changes: Vec<Vec<(Field, DesiredValue)>> = sims
                .iter()
                .map(|(l, s, with_status)| {
                    let mut changes = vec![(Field::MonthlyDataLimit, limits[*l as usize].clone())];
                    if *with_status {
                        changes.push((Field::Status, statuses[*s as usize].clone()));
                    }
                    changes
                })
                .collect();
            let w: Vec<SimWork> = changes
                .iter()
                .zip(&iccids)
                .map(|(changes, i)| SimWork { iccid: i, changes })
                .collect();
            let plan = group(&w, 1);
            prop_assert!(plan.api_calls >= plan.lower_bound);
            let mut covered = 0usize;
            for action in &plan.actions {
                if let Action::BatchJob(b) = action {
                    prop_assert!(!b.iccids.is_empty());
                    prop_assert!(b.iccids.len() <= MAX_BATCH_ICCIDS);
                }
                if let Action::UpdateSim(u) = action {
                    prop_assert_ne!(u.changes.monthly_data_limit, Some(0));
                }
                covered += action.iccids().len();
            }
            let expected: usize = w.iter().map(|s| {
                let mut phases: Vec<u8> = s.changes.iter().map(|(f, v)| phase_of(*f, v)).collect();
                phases.dedup();
                phases.len()
            }).sum();
            prop_assert_eq!(covered, expected);
        }
    }
}
