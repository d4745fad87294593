//! The plan: compare what the spec wants with the live fleet, decide every field of every
//! managed SIM, and group the changes into the calls `apply` will make.
//!
//! This stage is pure: plain data in ([`PlanInput`]: live SIMs, resolved desired values, the
//! transition table, guards), one [`Plan`] out, no I/O. The plan file helpers only turn a plan
//! into a string and back, verifying its checksum, so the file a reviewer approved is exactly the
//! one applied. Depends on `spec` (desired values) and `fleet` (live data) only.
//!
//! Decisions worth knowing when reading a plan:
//! - Changes stopped by a guard stay in `changes` and `actions` (the reviewer sees exactly what
//!   was stopped) and the plan's outcome is `Blocked`; `apply` must refuse a plan whose
//!   [`Plan::stopped_by_guard`] is true unless it is re-planned with the allow flags.
//! - A blocked, held or pending status does not hold back the SIM's other fields.
//! - The implied 20 → 2 of an IMEI unlock is listed among the SIM's fields with `implied: true`;
//!   it is not a mutation, so it counts in `implied_changes`, not in `field_changes`.

pub mod actions;
pub mod compare;
mod file;
mod flags;
mod model;
pub mod status;
mod value;

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::fleet::{Coverage, LiveFleet, Sim, Transition};
use crate::outcome::Outcome;
use crate::spec::{DesiredSim, DesiredValue, ImeiLockSetting, Resolution, ResolvedValue};

pub use actions::{
    Action, ActionPlan, BatchAction, BatchChanges, ImeiLockInput, SimWork, UpdateSimAction,
    UpdateSimChanges, MAX_BATCH_ICCIDS,
};
pub use flags::RiskFlags;
pub use model::{
    BlockedChange, FieldChange, GuardKind, GuardResult, HeldStatus, PendingStatus, Plan, RiskFlag,
    SimChange, SkippedSim, Summary, Warning, WarningCode, PLAN_FORMAT_VERSION,
};
pub use status::{NoTransitionTable, StatusDecision, TransitionSet};
pub use value::FieldValue;

// What a plan's readers (renderers, apply) need from the stages below, so they depend on `plan`
// alone.
pub use crate::fleet::tables::status_label;
pub use crate::spec::{Field, Origin, OriginKind};

use status::{StatusDecision as D, ACTIVATED, CUTS, IMEI_UNAUTHORIZED, IRREVERSIBLE, TERMINAL};

/// Limits that stop a plan unless the user allows it (flags, or `simfleet.yaml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Guards {
    /// At most this many SIMs may change.
    pub max_changes: Option<u64>,
    /// At most this percentage of `sims_total` may change.
    pub max_percent: Option<f64>,
    /// Status changes to deactivated (5) or suspended (12) are allowed.
    pub allow_status_cuts: bool,
    /// Status changes to retired (7) are allowed.
    pub allow_irreversible: bool,
}

/// Everything the plan is computed from.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// The live SIMs that were read, sorted by ICCID (an unsorted slice is tolerated).
    pub sims: &'a [Sim],
    /// What the spec wants, one entry per managed SIM (ICCIDs the live fleet lacks are an error).
    pub desired: &'a [DesiredSim],
    /// `totalSims` of the unfiltered fleet.
    pub sims_total: u64,
    pub coverage: Coverage,
    /// `getAvailableStatusTransitions`; `None` when unknown (a snapshot without a table).
    pub transitions: Option<&'a [Transition]>,
    /// Batch jobs still PREPARING or RUNNING.
    pub running_batch_jobs: &'a [i64],
    pub guards: Guards,
    /// Digest of the spec files (see the spec loader).
    pub spec_digest: String,
    /// How many updateSim mutations `apply` sends per HTTP request (1 = one each).
    pub updates_per_request: u32,
}

impl<'a> PlanInput<'a> {
    /// The usual input: a fetched (or snapshot) live fleet and the resolved spec, with one
    /// updateSim per HTTP request.
    pub fn new(
        live: &'a LiveFleet,
        desired: &'a [DesiredSim],
        guards: Guards,
        spec_digest: String,
    ) -> PlanInput<'a> {
        PlanInput {
            sims: &live.sims,
            desired,
            sims_total: live.sims_total,
            coverage: live.coverage.clone(),
            transitions: live.transitions.as_deref(),
            running_batch_jobs: &live.running_batch_jobs,
            guards,
            spec_digest,
            updates_per_request: 1,
        }
    }
}

/// `sha256:<hex>` digest of a spec: every file's path and content, in path order, so the same
/// files give the same digest wherever they are checked out. Paths should be relative to the
/// spec directory.
pub fn spec_digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut files: Vec<(&str, &[u8])> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    for (path, content) in files {
        // Lengths first, so no path/content split can collide with another.
        hasher.update((path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(content);
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// Why no plan could be made, or a plan file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{} ICCID(s) in `sims:` do not exist in the live fleet (a typo?): {}", .0.len(), .0.join(", "))]
    UnknownIccids(Vec<String>),
    #[error(transparent)]
    NoTransitionTable(#[from] NoTransitionTable),
    #[error("resolved spec values of the wrong kind (a bug in spec resolution): {}", .0.join("; "))]
    WrongKind(Vec<String>),
    #[error("not a simfleet plan file: {0}")]
    Parse(serde_json::Error),
    #[error("plan file has format_version {found}; this simfleet reads version {PLAN_FORMAT_VERSION}: make the plan again with this version")]
    Version { found: u32 },
    #[error("plan file has unsafe actions, refusing it: {}", .0.join("; "))]
    UnsafeActions(Vec<String>),
    #[error("plan file checksum mismatch: it says {stated} but its content hashes to {computed}; the file was edited after it was made, so it is not the plan that was reviewed: make the plan again")]
    Checksum { stated: String, computed: String },
    #[error("this is a masked plan (ICCIDs such as {example} keep only their last 4 digits): it is for reading only and cannot be applied. Make the plan again without --mask and apply that file")]
    Masked { example: String },
}

/// Fingerprint of the live values a SIM's change was computed from: its ICCID, status and product (they
/// decide the status table and the implied IMEI side effect) and the normalised value of every
/// field in `fields`. Never usage counters. 128 bits of SHA-256, hex.
pub fn fingerprint(sim: &Sim, fields: impl IntoIterator<Item = Field>) -> String {
    use std::io::Write;
    let mut bytes = Vec::with_capacity(192);
    // Writing into a Vec cannot fail.
    let _ = write!(
        bytes,
        "iccid={}\nstatusid={}\nproviderid={}\n",
        sim.iccid, sim.statusid, sim.providerid
    );
    for field in fields {
        if field != Field::Status {
            compare::write_normalised(sim, field, &mut bytes);
        }
    }
    let digest = Sha256::digest(&bytes);
    hex(&digest[..16])
}

/// The fingerprint `apply` compares after re-reading a SIM the plan changes.
pub fn fingerprint_of(sim: &Sim, change: &SimChange) -> String {
    fingerprint(
        sim,
        change.fields.iter().filter(|f| !f.implied).map(|f| f.field),
    )
}

/// `1 SIM` / `2 SIMs`, for messages.
pub fn sims_phrase(n: u64) -> String {
    if n == 1 {
        "1 SIM".to_string()
    } else {
        format!("{n} SIMs")
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Looks SIMs up by ICCID: binary search on the sorted slice, or a map if it is not sorted.
enum SimIndex<'a> {
    Sorted(&'a [Sim]),
    Map(HashMap<&'a str, usize>),
}

impl<'a> SimIndex<'a> {
    fn new(sims: &'a [Sim]) -> SimIndex<'a> {
        if sims.windows(2).all(|w| w[0].iccid < w[1].iccid) {
            SimIndex::Sorted(sims)
        } else {
            SimIndex::Map(
                sims.iter()
                    .enumerate()
                    .map(|(i, s)| (s.iccid.as_str(), i))
                    .collect(),
            )
        }
    }

    fn find(&self, sims: &'a [Sim], iccid: &str) -> Option<&'a Sim> {
        match self {
            SimIndex::Sorted(s) => s
                .binary_search_by(|sim| sim.iccid.as_str().cmp(iccid))
                .ok()
                .map(|i| &s[i]),
            SimIndex::Map(m) => m.get(iccid).map(|&i| &sims[i]),
        }
    }
}

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

/// Computes the plan. Fails when the spec names ICCIDs the fleet lacks, or when a status must
/// change and no transition table is known.
pub fn build(input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let index = SimIndex::new(input.sims);

    let mut order: Vec<usize> = (0..input.desired.len()).collect();
    if !input.desired.windows(2).all(|w| w[0].iccid <= w[1].iccid) {
        order.sort_by(|&a, &b| input.desired[a].iccid.cmp(&input.desired[b].iccid));
    }

    let wrong_kind: Vec<String> = input.desired.iter().flat_map(wrong_kinds).collect();
    if !wrong_kind.is_empty() {
        return Err(PlanError::WrongKind(wrong_kind));
    }

    let mut unknown = Vec::new();
    let mut pairs: Vec<(&Sim, &DesiredSim)> = Vec::with_capacity(order.len());
    for &i in &order {
        let desired = &input.desired[i];
        if pairs.last().is_some_and(|(_, d)| d.iccid == desired.iccid) {
            continue;
        }
        match index.find(input.sims, &desired.iccid) {
            Some(sim) => pairs.push((sim, desired)),
            None => {
                let at = desired
                    .fields
                    .values()
                    .find(|v| matches!(v.origin.kind, OriginKind::SimEntry { .. }))
                    .map(|v| format!(" ({})", v.origin.location()))
                    .unwrap_or_default();
                unknown.push(format!("{}{at}", desired.iccid));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(PlanError::UnknownIccids(unknown));
    }

    let table = input.transitions.map(TransitionSet::new);
    let mut acc = PartialPlan::new(false);
    for &(sim, desired) in &pairs {
        acc.decide(
            sim,
            desired.fields.iter().map(|(f, r)| (*f, r)),
            table.as_ref(),
        )?;
    }
    acc.sims_seen = input.sims.len() as u64;
    if input.coverage == Coverage::Full {
        let managed: std::collections::HashSet<&str> =
            pairs.iter().map(|(sim, _)| sim.iccid.as_str()).collect();
        acc.unmanaged = input
            .sims
            .iter()
            .filter(|sim| !managed.contains(sim.iccid.as_str()))
            .map(|sim| sim.iccid.clone())
            .collect();
    }
    acc.finish(&input)
}

/// Desired values whose type does not fit their field, as messages.
fn wrong_kinds(d: &DesiredSim) -> Vec<String> {
    wrong_kinds_of(&d.iccid, d.fields.iter().map(|(f, r)| (*f, r)))
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
/// [`PartialPlan::finish`].
///
/// SIMs are independent of each other until actions are grouped, so a large fleet is split into
/// contiguous runs decided on separate threads, and the runs are merged in order
/// ([`PartialPlan::merge`]): the plan is the same as from one sequential pass.
#[derive(Default)]
pub struct PartialPlan {
    changes: Vec<SimChange>,
    blocked: Vec<BlockedChange>,
    pending: Vec<PendingStatus>,
    held: Vec<HeldStatus>,
    skipped: Vec<SkippedSim>,
    /// SIMs read that no rule or entry applies to (listed only when the whole fleet was read).
    unmanaged: Vec<String>,
    list_unmanaged: bool,
    changes_per_field: BTreeMap<Field, u64>,
    field_changes: u64,
    implied_changes: u64,
    cut_sims: u64,
    retire_sims: u64,
    sims_managed: u64,
    sims_seen: u64,
    /// Desired values of the wrong type, as messages (a bug in resolution if ever non-empty).
    wrong_kind: Vec<String>,
    /// ICCID order of the SIMs seen: first, last, and whether every one was above the previous.
    first: Option<String>,
    last: Option<String>,
    ascending: bool,
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

    /// True when every SIM seen had a higher ICCID than the one before (so none was seen twice).
    fn visited_in_order(&self) -> bool {
        self.ascending
    }

    /// True when runs given in order saw their SIMs in strictly ascending ICCID order, one run
    /// after another (so no ICCID was seen twice).
    pub fn in_order(runs: &[PartialPlan]) -> bool {
        runs.iter().all(PartialPlan::visited_in_order)
            && runs
                .iter()
                .filter(|r| r.sims_seen > 0)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| w[0].last < w[1].first)
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
        self.changes.extend(later.changes);
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
        self.sims_managed += later.sims_managed;
        self.sims_seen += later.sims_seen;
        self.wrong_kind.extend(later.wrong_kind);
    }

    /// Decides every managed field of one SIM.
    fn decide<'v>(
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
        let mut mutations: Vec<Field> = Vec::new();
        for (field, resolved) in desired {
            let value = &resolved.value;
            if let DesiredValue::Status(want) = value {
                match status::decide(sim.statusid, *want, sim.providerid, table)? {
                    D::NoChange | D::Terminal => continue,
                    D::Pending => {
                        self.pending.push(PendingStatus {
                            iccid: sim.iccid.clone(),
                            statusid: sim.statusid,
                            desired: *want,
                            source: resolved.origin.clone(),
                        });
                        continue;
                    }
                    D::Held { reason } => {
                        self.held.push(HeldStatus {
                            iccid: sim.iccid.clone(),
                            statusid: sim.statusid,
                            desired: *want,
                            source: resolved.origin.clone(),
                            reason,
                        });
                        continue;
                    }
                    D::Blocked { reason } => {
                        self.blocked.push(BlockedChange {
                            iccid: sim.iccid.clone(),
                            field,
                            from: compare::live_value(sim, field),
                            to: compare::desired_value(value),
                            source: resolved.origin.clone(),
                            reason,
                        });
                        continue;
                    }
                    D::Change => {}
                }
            } else if compare::holds(field, value, sim) {
                continue;
            }
            let flags = risk_flags(field, value, sim);
            if flags.contains(RiskFlag::StatusCut) {
                self.cut_sims += 1;
            }
            if flags.contains(RiskFlag::Irreversible) {
                self.retire_sims += 1;
            }
            fields.push(FieldChange {
                field,
                from: compare::live_value(sim, field),
                to: compare::desired_value(value),
                source: resolved.origin.clone(),
                flags,
                implied: false,
            });
            mutations.push(field);
            *self.changes_per_field.entry(field).or_insert(0) += 1;
            self.field_changes += 1;
        }
        if fields.is_empty() {
            return Ok(());
        }
        // The reference: unlocking a SIM in IMEI unauthorized sets it to Activated. Unless the
        // plan moves its status first (phase 0), that is a status change the reviewer must see.
        let status_moves = mutations.contains(&Field::Status);
        if sim.statusid == IMEI_UNAUTHORIZED && !status_moves {
            if let Some(unlock) = fields
                .iter()
                .find(|f| f.field == Field::ImeiLock && f.flags.contains(RiskFlag::ImeiUnlock))
            {
                let implied = FieldChange {
                    field: Field::Status,
                    from: FieldValue::from(IMEI_UNAUTHORIZED),
                    to: FieldValue::from(ACTIVATED),
                    source: unlock.source.clone(),
                    flags: RiskFlag::RestoresService.into(),
                    implied: true,
                };
                fields.insert(0, implied);
                self.implied_changes += 1;
            }
        }
        // Pushed one by one, `fields` has room for 4; a large plan holds a million of them.
        fields.shrink_to_fit();
        self.changes.push(SimChange {
            iccid: sim.iccid.clone(),
            fingerprint: fingerprint(sim, mutations.iter().copied()),
            fields,
        });
        Ok(())
    }

    /// Orders every list by ICCID (needed only when the SIMs were not visited in that order).
    fn sort(&mut self) {
        self.changes.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.blocked.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.pending.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.held.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.skipped.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    }

    /// Groups the actions and totals everything up. `input` gives the fleet-wide figures
    /// (`sims_total`, coverage, running jobs, guards, spec digest); its `sims` and `desired` are
    /// not read: the SIMs were visited already.
    pub fn finish(mut self, input: &PlanInput<'_>) -> Result<Plan, PlanError> {
        if !self.wrong_kind.is_empty() {
            return Err(PlanError::WrongKind(self.wrong_kind));
        }
        if !self.ascending {
            // The plan lists SIMs by ICCID whatever order they were read in.
            self.sort();
        }
        // The calls are made from the changes themselves: each mutation's `to` is the API form
        // of its desired value, so nothing of the spec has to be kept per SIM until now.
        // One flat list for every SIM's mutations (a million small lists would cost a header and
        // an allocation each); `ends[i]` is where SIM i's run ends.
        let mut mutations: Vec<(Field, DesiredValue)> =
            Vec::with_capacity(usize::try_from(self.field_changes).unwrap_or(0));
        let mut ends: Vec<usize> = Vec::with_capacity(self.changes.len());
        for change in &self.changes {
            mutations.extend(
                change
                    .fields
                    .iter()
                    .filter(|f| !f.implied)
                    .map(|f| (f.field, compare::desired_from_api(f.field, &f.to))),
            );
            ends.push(mutations.len());
        }
        let work: Vec<SimWork<'_>> = self
            .changes
            .iter()
            .enumerate()
            .map(|(i, change)| {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                SimWork {
                    iccid: &change.iccid,
                    changes: mutations[start..ends[i]]
                        .iter()
                        .map(|(f, v)| (*f, v))
                        .collect(),
                }
            })
            .collect();
        // Hashing the changes and grouping the calls are independent: one core each.
        let (grouped, changes_digest) = std::thread::scope(|scope| {
            let digest = scope.spawn(|| file::ChangesDigest::of(&self.changes));
            let grouped = actions::group(&work, input.updates_per_request);
            let digest = digest
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (grouped, digest)
        });
        drop(work);
        drop(mutations);
        drop(ends);

        let sims_managed = self.sims_managed;
        let sims_changing = self.changes.len() as u64;
        let guards = evaluate_guards(
            &input.guards,
            sims_changing,
            input.sims_total,
            self.cut_sims,
            self.retire_sims,
            self.implied_changes,
        );
        let warnings = warnings(input.running_batch_jobs, &self.skipped, &self.held);
        let (sims_unmanaged, unmanaged_is_count) = match input.coverage {
            Coverage::Full => (self.sims_seen.saturating_sub(sims_managed), false),
            Coverage::PushedDown => (input.sims_total.saturating_sub(sims_managed), true),
        };

        let mut unmanaged = self.unmanaged;
        unmanaged.sort_unstable();
        let mut plan = Plan {
            format_version: PLAN_FORMAT_VERSION,
            generated_at: None,
            summary: Summary {
                sims_total: input.sims_total,
                sims_seen: self.sims_seen,
                sims_managed,
                sims_unmanaged,
                unmanaged_is_count,
                sims_changing,
                field_changes: self.field_changes,
                changes_per_field: self.changes_per_field,
                implied_changes: self.implied_changes,
                blocked: self.blocked.len() as u64,
                pending: self.pending.len() as u64,
                held: self.held.len() as u64,
                skipped: self.skipped.len() as u64,
                api_calls: grouped.api_calls,
                http_requests: grouped.http_requests,
                lower_bound: grouped.lower_bound,
            },
            changes: self.changes,
            blocked: self.blocked,
            pending: self.pending,
            held: self.held,
            skipped: self.skipped,
            unmanaged,
            guards,
            warnings,
            actions: grouped.actions,
            spec_digest: input.spec_digest.clone(),
            checksum: String::new(),
        };
        plan.checksum = plan.checksum_after(changes_digest);
        Ok(plan)
    }
}

pub(crate) fn evaluate_guards(
    guards: &Guards,
    sims_changing: u64,
    sims_total: u64,
    cut_sims: u64,
    retire_sims: u64,
    implied: u64,
) -> Vec<GuardResult> {
    let mut out = Vec::new();
    if let Some(max) = guards.max_changes {
        if sims_changing > max {
            out.push(GuardResult {
                guard: GuardKind::MaxChanges,
                count: sims_changing,
                limit: Some(max as f64),
                stops: true,
                message: format!("{} would change, more than max_changes = {max}: raise max_changes (flag or simfleet.yaml) if that is intended", sims_phrase(sims_changing)),
            });
        }
    }
    if let Some(max) = guards.max_percent {
        let percent = if sims_total == 0 {
            0.0
        } else {
            sims_changing as f64 * 100.0 / sims_total as f64
        };
        if percent > max {
            out.push(GuardResult {
                guard: GuardKind::MaxPercent,
                count: sims_changing,
                limit: Some(max),
                stops: true,
                message: format!("{sims_changing} of {sims_total} SIMs ({percent:.1}%) would change, more than max_percent = {max}%: raise max_percent (flag or simfleet.yaml) if that is intended"),
            });
        }
    }
    if cut_sims > 0 {
        let stops = !guards.allow_status_cuts;
        out.push(GuardResult {
            guard: GuardKind::StatusCuts,
            count: cut_sims,
            limit: None,
            stops,
            message: if stops {
                format!("{} would be deactivated or suspended (they lose service): pass --allow-status-cuts (or allow_status_cuts in simfleet.yaml) to plan them", sims_phrase(cut_sims))
            } else {
                format!("{} will be deactivated or suspended (allowed by --allow-status-cuts)", sims_phrase(cut_sims))
            },
        });
    }
    if retire_sims > 0 {
        let stops = !guards.allow_irreversible;
        out.push(GuardResult {
            guard: GuardKind::Irreversible,
            count: retire_sims,
            limit: None,
            stops,
            message: if stops {
                format!("{} would be retired, which cannot be undone: pass --allow-irreversible (or allow_irreversible in simfleet.yaml) to plan them", sims_phrase(retire_sims))
            } else {
                format!("{} will be retired, which cannot be undone (allowed by --allow-irreversible)", sims_phrase(retire_sims))
            },
        });
    }
    if implied > 0 {
        out.push(GuardResult {
            guard: GuardKind::RestoresService,
            count: implied,
            limit: None,
            stops: false,
            message: format!("{} in IMEI unauthorized (20): turning the IMEI lock off restores service (status 20 → 2); counted among the SIMs changing", sims_phrase(implied)),
        });
    }
    out
}

fn warnings(running: &[i64], skipped: &[SkippedSim], held: &[HeldStatus]) -> Vec<Warning> {
    let mut out = Vec::new();
    if !running.is_empty() {
        let mut ids = running.to_vec();
        ids.sort_unstable();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        out.push(Warning {
            code: WarningCode::RunningBatchJobs,
            message: format!("batch jobs still PREPARING or RUNNING ({}): their half-applied values look like drift; plan again once they finish", ids.join(", ")),
        });
    }
    if !skipped.is_empty() {
        out.push(Warning {
            code: WarningCode::TerminalSims,
            message: format!(
                "{} managed: in a terminal status (deleted, retired or replaced), skipped",
                sims_phrase(skipped.len() as u64)
            ),
        });
    }
    if !held.is_empty() {
        out.push(Warning {
            code: WarningCode::HeldSims,
            message: format!("{} held: deactivated by the provider (usage, limits or IMEI), and a status rule does not re-activate them", sims_phrase(held.len() as u64)),
        });
    }
    out
}

impl Plan {
    /// How the plan ends: Blocked when anything is blocked or a guard stops it, Changes when
    /// something changes, Success otherwise.
    pub fn outcome(&self) -> Outcome {
        if !self.blocked.is_empty() || self.guards.iter().any(|g| g.stops) {
            Outcome::Blocked
        } else if !self.changes.is_empty() {
            Outcome::Changes
        } else {
            Outcome::Success
        }
    }

    /// Checks the invariants `apply` relies on, whoever wrote the file: every batch job has 1 to
    /// 1000 ICCIDs (an empty include list would select the whole fleet), no updateSim sets
    /// `monthly_data_limit` to 0 or less (undefined by the API), and every action changes
    /// something. Collects every problem.
    pub fn check_actions(&self) -> Result<(), PlanError> {
        let mut problems = Vec::new();
        for (i, action) in self.actions.iter().enumerate() {
            match action {
                Action::BatchJob(b) => {
                    if b.iccids.is_empty() || b.iccids.len() > MAX_BATCH_ICCIDS {
                        problems.push(format!(
                            "action {i}: batch job with {} ICCIDs (must be 1 to {MAX_BATCH_ICCIDS})",
                            b.iccids.len()
                        ));
                    }
                    if b.changes == BatchChanges::default() {
                        problems.push(format!("action {i}: batch job that changes nothing"));
                    }
                }
                Action::UpdateSim(u) => {
                    if u.changes.monthly_data_limit.is_some_and(|v| v <= 0) {
                        problems.push(format!(
                            "action {i}: updateSim of {} with monthly_data_limit {:?} (unlimited data goes through a batch job)",
                            u.iccid, u.changes.monthly_data_limit
                        ));
                    }
                    if u.changes == UpdateSimChanges::default() {
                        problems.push(format!(
                            "action {i}: updateSim of {} that changes nothing",
                            u.iccid
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PlanError::UnsafeActions(problems))
        }
    }

    /// True when at least one guard stops the plan.
    pub fn stopped_by_guard(&self) -> bool {
        self.guards.iter().any(|g| g.stops)
    }
}

#[cfg(test)]
pub(crate) mod tests;
