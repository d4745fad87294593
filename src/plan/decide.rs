//! The per-SIM decision: one live SIM and what the spec wants of it in, every managed field
//! decided (change, already equal, pending, held, blocked, skipped) into a [`PartialPlan`].
//!
//! A [`PartialPlan`] covers a run of SIMs. SIMs are independent of each other until the calls
//! are grouped, so runs are decided on separate cores or page by page, and merged in ICCID
//! order ([`PartialPlan::concat`]): the result is the same as one sequential pass, whatever the
//! split. The rules of meaning (when a live value already counts as the desired one) are not
//! here but in [`super::compare`]; the status table's rows are in [`super::status`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::fleet::Sim;
use crate::spec::{DesiredValue, Field, ImeiLockSetting, Resolution, ResolvedValue};

use super::change_set::SetInterner;
use super::flags::RiskFlags;
use super::model::{
    BlockedChange, CheckResult, FieldChange, HeldStatus, PendingStatus, RiskFlag, SimChange,
    SkippedSim, WaiverResult,
};
use super::status::{
    self, StatusDecision as D, TransitionSet, ACTIVATED, ACTIVATIONS, CUTS, IMEI_UNAUTHORIZED,
    IRREVERSIBLE, TERMINAL,
};
use super::value::FieldValue;
use super::via::Via;
use super::{compare, PlanError};

/// True when a desired value has the type its field takes.
fn kind_matches(field: Field, value: &DesiredValue) -> bool {
    matches!(
        (field, value),
        (Field::Status, DesiredValue::Status(_))
            | (
                Field::MonthlyDataLimit
                    | Field::MonthlySmsMoLimit
                    | Field::MonthlySmsMtLimit
                    | Field::MonthlyVoiceMoLimit,
                DesiredValue::Limit(_)
            )
            | (
                Field::CustomField1 | Field::EndCustomerLabel,
                DesiredValue::Text(_)
            )
            | (Field::ImeiLock, DesiredValue::ImeiLock(_))
    )
}

fn risk_flags(field: Field, value: &DesiredValue, sim: &Sim) -> RiskFlags {
    match value {
        DesiredValue::Status(id) if CUTS.contains(id) => RiskFlag::StatusCut.into(),
        DesiredValue::Status(id) if *id == IRREVERSIBLE => RiskFlag::Irreversible.into(),
        DesiredValue::Limit(limit)
            if compare::lowers_limit(compare::live_limit(sim, field), *limit) =>
        {
            RiskFlag::LoweredLimit.into()
        }
        DesiredValue::ImeiLock(ImeiLockSetting::Off) => RiskFlag::ImeiUnlock.into(),
        _ => RiskFlags::default(),
    }
}

fn wrong_kinds_of<'v>(
    iccid: &str,
    fields: impl Iterator<Item = (Field, &'v ResolvedValue)>,
) -> Vec<String> {
    fields
        .filter(|(f, r)| !kind_matches(*f, &r.value))
        .map(|(f, r)| format!("{iccid} {f} = {:?} ({})", r.value, r.origin))
        .collect()
}

/// What the per-SIM pass has decided for a run of SIMs, turned into a [`Plan`] by
/// [`super::assemble`].
///
/// SIMs are independent of each other until actions are grouped, so a large fleet is split into
/// contiguous runs decided on separate threads, and the runs are merged in order
/// ([`PartialPlan::merge`]): the plan is the same as from one sequential pass.
#[derive(Default)]
pub struct PartialPlan {
    pub(super) changes: Vec<SimChange>,
    /// One `Arc` per distinct change set of `changes`.
    pub(super) sets: SetInterner,
    pub(super) blocked: Vec<BlockedChange>,
    pub(super) pending: Vec<PendingStatus>,
    pub(super) held: Vec<HeldStatus>,
    pub(super) skipped: Vec<SkippedSim>,
    /// SIMs read that no rule or entry applies to (listed only when the whole fleet was read).
    pub(super) unmanaged: Vec<String>,
    pub(super) list_unmanaged: bool,
    pub(super) changes_per_field: BTreeMap<Field, u64>,
    pub(super) field_changes: u64,
    pub(super) implied_changes: u64,
    pub(super) cut_sims: u64,
    pub(super) retire_sims: u64,
    /// SIMs in service with a limit at or below this month's usage.
    pub(super) usage_cut_sims: u64,
    /// SIMs in service with a limit within 10 % above this month's usage.
    pub(super) near_usage_sims: u64,
    /// Status changes made in several steps that pass through an activation (2, 6, 8).
    pub(super) path_activations: u64,
    pub(super) sims_managed: u64,
    pub(super) sims_seen: u64,
    /// Desired values of the wrong type, as messages (a bug in resolution if ever non-empty).
    pub(super) wrong_kind: Vec<String>,
    /// The spec's checks, judged (set once the runs are joined).
    pub(super) checks: Vec<CheckResult>,
    /// The spec's waivers, judged (set once the runs are joined).
    pub(super) waivers: Vec<WaiverResult>,
    /// ICCID order of the SIMs seen: first, last, and whether every one was above the previous.
    pub(super) first: Option<String>,
    pub(super) last: Option<String>,
    pub(super) ascending: bool,
}

impl PartialPlan {
    /// An empty run; `list_unmanaged` when the whole fleet is read (else unmanaged SIMs are only
    /// a count).
    pub fn new(list_unmanaged: bool) -> PartialPlan {
        PartialPlan {
            list_unmanaged,
            ascending: true,
            ..PartialPlan::default()
        }
    }

    /// Looks at one live SIM: `resolution` is what the spec wants of it (`None`: unmanaged),
    /// borrowed from the spec, so only the SIMs that change copy anything.
    pub fn visit_resolution(
        &mut self,
        sim: &Sim,
        resolution: Option<Resolution<'_>>,
        table: Option<&TransitionSet>,
    ) -> Result<(), PlanError> {
        self.visit_fields(sim, resolution.as_ref().map(|r| r.iter()), table)
    }

    fn visit_fields<'v, I>(
        &mut self,
        sim: &Sim,
        desired: Option<I>,
        table: Option<&TransitionSet>,
    ) -> Result<(), PlanError>
    where
        I: Iterator<Item = (Field, &'v ResolvedValue)> + Clone,
    {
        self.sims_seen += 1;
        match &self.last {
            Some(last) if last.as_str() >= sim.iccid.as_str() => self.ascending = false,
            _ => {}
        }
        if self.first.is_none() {
            self.first = Some(sim.iccid.clone());
        }
        // Only the last ICCID is kept: reuse its buffer.
        match &mut self.last {
            Some(last) => sim.iccid.clone_into(last),
            None => self.last = Some(sim.iccid.clone()),
        }
        let Some(desired) = desired else {
            if self.list_unmanaged {
                self.unmanaged.push(sim.iccid.clone());
            }
            return Ok(());
        };
        let wrong = wrong_kinds_of(&sim.iccid, desired.clone());
        if !wrong.is_empty() {
            self.wrong_kind.extend(wrong);
            return Ok(());
        }
        self.decide(sim, desired, table)
    }

    /// Joins runs of SIMs given in order, allocating each list once at its final size (growing
    /// the first run's lists instead would copy them and briefly need both copies).
    pub fn concat(runs: Vec<PartialPlan>) -> PartialPlan {
        let list_unmanaged = runs.first().is_some_and(|r| r.list_unmanaged);
        let mut joined = PartialPlan::new(list_unmanaged);
        joined.changes = Vec::with_capacity(runs.iter().map(|r| r.changes.len()).sum());
        joined.unmanaged = Vec::with_capacity(runs.iter().map(|r| r.unmanaged.len()).sum());
        for run in runs {
            joined.merge(run);
        }
        joined
    }

    /// Appends a run of SIMs that comes after this one.
    fn merge(&mut self, later: PartialPlan) {
        self.ascending = self.ascending
            && later.ascending
            && match (&self.last, &later.first) {
                (Some(last), Some(first)) => last < first,
                _ => true,
            };
        if self.first.is_none() {
            self.first = later.first;
        }
        if later.last.is_some() {
            self.last = later.last;
        }
        let replaced = self.sets.absorb(later.sets);
        self.changes
            .extend(later.changes.into_iter().map(|mut change| {
                if let Some(set) = replaced.get(&Arc::as_ptr(change.set())) {
                    change.replace_set(set.clone());
                }
                change
            }));
        self.blocked.extend(later.blocked);
        self.pending.extend(later.pending);
        self.held.extend(later.held);
        self.skipped.extend(later.skipped);
        self.unmanaged.extend(later.unmanaged);
        for (field, n) in later.changes_per_field {
            *self.changes_per_field.entry(field).or_insert(0) += n;
        }
        self.field_changes += later.field_changes;
        self.implied_changes += later.implied_changes;
        self.cut_sims += later.cut_sims;
        self.retire_sims += later.retire_sims;
        self.usage_cut_sims += later.usage_cut_sims;
        self.near_usage_sims += later.near_usage_sims;
        self.path_activations += later.path_activations;
        self.sims_managed += later.sims_managed;
        self.sims_seen += later.sims_seen;
        self.wrong_kind.extend(later.wrong_kind);
    }

    /// Decides every managed field of one SIM.
    pub(super) fn decide<'v>(
        &mut self,
        sim: &Sim,
        desired: impl Iterator<Item = (Field, &'v ResolvedValue)>,
        table: Option<&TransitionSet>,
    ) -> Result<(), PlanError> {
        self.sims_managed += 1;
        if TERMINAL.contains(&sim.statusid) {
            self.skipped.push(SkippedSim {
                iccid: sim.iccid.clone(),
                statusid: sim.statusid,
            });
            return Ok(());
        }
        let mut fields = Vec::new();
        for (field, resolved) in desired {
            if let Some(via) = self.changes_field(sim, field, resolved, table)? {
                let change = self.field_change(sim, field, resolved);
                fields.push(self.with_path(change, via));
            }
        }
        if fields.is_empty() {
            return Ok(());
        }
        self.add_implied_activation(sim, &mut fields);
        self.flag_usage(sim, &mut fields);
        let set = self.sets.intern(&fields);
        self.changes
            .push(SimChange::in_set(sim.iccid.clone(), set, &fields));
        Ok(())
    }

    /// `Some` when the field must change, with the statuses a status change passes through
    /// (none for a direct one); a status that cannot (pending, held, blocked) is listed as such
    /// instead, and a value that already holds is left alone.
    fn changes_field(
        &mut self,
        sim: &Sim,
        field: Field,
        resolved: &ResolvedValue,
        table: Option<&TransitionSet>,
    ) -> Result<Option<Via>, PlanError> {
        let value = &resolved.value;
        let DesiredValue::Status(want) = value else {
            return Ok((!compare::holds(field, value, sim)).then(Via::default));
        };
        let (statusid, source) = (sim.statusid, || resolved.origin.clone());
        match status::decide(statusid, *want, sim.providerid, table)? {
            D::NoChange | D::Terminal => {}
            D::Pending => self.pending.push(PendingStatus {
                iccid: sim.iccid.clone(),
                statusid,
                desired: *want,
                source: source(),
            }),
            D::Held { reason } => self.held.push(HeldStatus {
                iccid: sim.iccid.clone(),
                statusid,
                desired: *want,
                source: source(),
                reason,
            }),
            D::Blocked { reason } => self.blocked.push(BlockedChange {
                iccid: sim.iccid.clone(),
                field,
                from: compare::live_value(sim, field),
                to: compare::desired_value(value),
                source: source(),
                reason,
            }),
            D::Change => return Ok(Some(Via::default())),
            D::Steps { via } => return Ok(Some(via)),
        }
        Ok(None)
    }

    /// A multi-step status change: its path, and what its intermediate statuses count for the
    /// guards (a cut on the way is a status cut; an activation on the way is counted apart).
    fn with_path(&mut self, mut change: FieldChange, via: Via) -> FieldChange {
        if via.is_empty() {
            return change;
        }
        if via.iter().any(|s| CUTS.contains(&s)) && !change.flags.contains(RiskFlag::StatusCut) {
            change.flags.insert(RiskFlag::StatusCut);
            self.cut_sims += 1;
        }
        if via.iter().any(|s| ACTIVATIONS.contains(&s)) {
            self.path_activations += 1;
        }
        change.via = via;
        change
    }

    /// The change of one field, counted and flagged.
    fn field_change(&mut self, sim: &Sim, field: Field, resolved: &ResolvedValue) -> FieldChange {
        let value = &resolved.value;
        let flags = risk_flags(field, value, sim);
        if flags.contains(RiskFlag::StatusCut) {
            self.cut_sims += 1;
        }
        if flags.contains(RiskFlag::Irreversible) {
            self.retire_sims += 1;
        }
        *self.changes_per_field.entry(field).or_insert(0) += 1;
        self.field_changes += 1;
        FieldChange {
            field,
            from: compare::live_value(sim, field),
            to: compare::desired_value(value),
            via: Via::default(),
            source: resolved.origin.clone(),
            flags,
            implied: false,
            usage: None,
        }
    }

    /// Flags the SIM's new limits against this month's usage ([`compare::usage_risk`]), when
    /// the SIM has service after the plan (its planned status, else its live one; an implied
    /// 20 → 2 counts), and records the usage on each flagged change.
    fn flag_usage(&mut self, sim: &Sim, fields: &mut [FieldChange]) {
        let end_status = fields
            .iter()
            .find(|f| f.field == Field::Status)
            .and_then(|f| f.to.as_i64())
            .and_then(|id| i32::try_from(id).ok())
            .unwrap_or(sim.statusid);
        if !compare::IN_SERVICE.contains(&end_status) {
            return;
        }
        let (mut cut, mut near) = (false, false);
        for change in fields.iter_mut() {
            let DesiredValue::Limit(limit) = compare::desired_from_api(change.field, &change.to)
            else {
                continue;
            };
            let usage = compare::live_usage(sim, change.field);
            let flag = match compare::usage_risk(usage, limit) {
                Some(compare::UsageRisk::Cut) => {
                    cut = true;
                    RiskFlag::UsageCut
                }
                Some(compare::UsageRisk::Near) => {
                    near = true;
                    RiskFlag::NearUsage
                }
                None => continue,
            };
            change.flags.insert(flag);
            change.usage = usage;
        }
        self.usage_cut_sims += u64::from(cut);
        self.near_usage_sims += u64::from(near);
    }

    /// The reference: unlocking a SIM in IMEI unauthorized sets it to Activated. Unless the plan
    /// moves its status first (phase 0), that is a status change the reviewer must see, listed
    /// first among the SIM's fields.
    fn add_implied_activation(&mut self, sim: &Sim, fields: &mut Vec<FieldChange>) {
        let status_moves = fields.iter().any(|f| f.field == Field::Status);
        if sim.statusid != IMEI_UNAUTHORIZED || status_moves {
            return;
        }
        let Some(unlock) = fields
            .iter()
            .find(|f| f.field == Field::ImeiLock && f.flags.contains(RiskFlag::ImeiUnlock))
        else {
            return;
        };
        let implied = FieldChange {
            field: Field::Status,
            from: FieldValue::from(IMEI_UNAUTHORIZED),
            to: FieldValue::from(ACTIVATED),
            via: Via::default(),
            source: unlock.source.clone(),
            flags: RiskFlag::RestoresService.into(),
            implied: true,
            usage: None,
        };
        fields.insert(0, implied);
        self.implied_changes += 1;
    }

    /// Orders every list by ICCID (needed only when the SIMs were not visited in that order).
    pub(super) fn sort(&mut self) {
        self.changes.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.blocked.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.pending.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.held.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.skipped.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    }
}
