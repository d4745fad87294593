//! The `Plan` value: plain data that every renderer, the plan file and `apply` read.
//!
//! One serde type serves the JSON output, the saved plan file and its JSON Schema, so what a
//! reviewer approves in CI is byte for byte what `apply` loads. Collections are kept in a
//! deterministic order (ICCID, then field) so the checksum does not depend on fetch order.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{CheckLevel, Field, Origin};

use super::actions::Action;
use super::change_set::{ChangeSet, Target};
use super::flags::RiskFlags;
use super::packed::{Packed, Unpack};
use super::value::FieldValue;
use super::via::Via;

/// The plan format this build reads and writes (`format_version`).
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// A complete plan: what changes, why, what is held back, and the API calls that would do it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    /// When the plan was made (RFC 3339), set by the caller; left out of the checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    pub summary: Summary,
    /// One entry per SIM with at least one field to change, ordered by ICCID.
    pub changes: Vec<SimChange>,
    /// Status changes that cannot be made, with the reason, ordered by ICCID.
    pub blocked: Vec<BlockedChange>,
    /// SIMs already moving to the desired status (shown, not changed).
    pub pending: Vec<PendingStatus>,
    /// SIMs the provider deactivated for usage, limits or IMEI: a status rule does not re-activate
    /// them.
    pub held: Vec<HeldStatus>,
    /// Managed SIMs in a terminal status (deleted, retired, replaced): never changed.
    pub skipped: Vec<SkippedSim>,
    /// ICCIDs of the SIMs read that no rule or `sims:` entry applies to (never touched), in
    /// ICCID order. Empty when `summary.unmanaged_is_count`: those SIMs were never read.
    #[serde(default)]
    pub unmanaged: Vec<String>,
    /// Guards that this plan triggers, and whether they stop it.
    pub guards: Vec<GuardResult>,
    pub warnings: Vec<Warning>,
    /// The mutation calls, in the phases `apply` runs them.
    pub actions: Vec<Action>,
    /// Every check of the spec, judged on the SIMs' end state, in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Every waiver of the spec: whether it still holds, and how many failing SIMs it waived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverResult>,
    /// `--why-drift`: the drift and what the SIMs' events say about it. Describes the past, so
    /// it is left out of the checksum; absent without `--why-drift`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<super::drift::DriftReport>,
    /// `--last-applied PLANFILE`: the SIMs no longer at what that plan set. Describes the
    /// past, so it is left out of the checksum; absent without `--last-applied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_last_apply: Option<super::last_applied::LastAppliedReport>,
    /// Digest of the spec the plan was computed from.
    pub spec_digest: String,
    /// `sha256:<hex>` over the canonical plan without `generated_at` and `checksum`.
    pub checksum: String,
}

/// The figures a reviewer reads first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// SIMs in the live fleet (`totalSims` without a filter).
    pub sims_total: u64,
    /// SIMs actually read (all of them, unless filters were pushed down).
    pub sims_seen: u64,
    /// SIMs that at least one rule or `sims:` entry applies to.
    pub sims_managed: u64,
    /// SIMs no rule applies to (never touched).
    pub sims_unmanaged: u64,
    /// True when `sims_unmanaged` is only a count (`sims_total - sims_managed`) because the
    /// rules' filters were pushed down and the unmanaged SIMs were never read.
    pub unmanaged_is_count: bool,
    /// Managed SIMs with at least one field to change.
    pub sims_changing: u64,
    /// (SIM, field) changes, implied ones not included.
    pub field_changes: u64,
    /// (SIM, field) changes per field name.
    #[schemars(with = "BTreeMap<String, u64>")]
    pub changes_per_field: BTreeMap<Field, u64>,
    /// Status changes that happen as a side effect (IMEI unlock on status 20 → 2).
    pub implied_changes: u64,
    /// Blocked (SIM, field) changes.
    pub blocked: u64,
    pub pending: u64,
    pub held: u64,
    pub skipped: u64,
    /// Planned mutation calls (batch jobs + updateSim calls).
    pub api_calls: u64,
    /// HTTP requests those mutations need (several updateSim may share one request).
    pub http_requests: u64,
    /// An independent lower bound on mutation calls for these changes (ARCHITECTURE.md).
    pub lower_bound: u64,
    /// SIMs in service given a limit at or below this month's usage: the limit cuts their
    /// service as soon as it is set (flag `usage_cut`, counted by the status-cuts guard).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage_cuts: u64,
    /// SIMs in service given a limit above this month's usage but within 10 % of it (flag
    /// `near_usage`, a warning).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub near_usage: u64,
}

/// Every change to one SIM: its ICCID, the change set it shares with every SIM that changes
/// the same way ([`ChangeSet`]), and its own live `from` values, packed ([`Packed`]). Read its
/// changes with [`SimChange::fields`]; serialised (JSON output, `show --format json`) it has
/// the per-SIM shape `{"iccid", "fields": [FieldChange…]}`.
#[derive(Clone)]
pub struct SimChange {
    pub iccid: String,
    set: Arc<ChangeSet>,
    from: Packed,
}

impl SimChange {
    /// A SIM's changes with a change set of its own (tests, and plans read per SIM, which
    /// [`Plan::share_change_sets`] then shares).
    pub fn new(iccid: impl Into<String>, fields: Vec<FieldChange>) -> SimChange {
        let set = Arc::new(ChangeSet::new(fields.iter().map(Target::of).collect()));
        SimChange::in_set(iccid.into(), set, &fields)
    }

    /// A SIM whose changes are `fields`, in the shared `set` made of them.
    pub(super) fn in_set(iccid: String, set: Arc<ChangeSet>, fields: &[FieldChange]) -> SimChange {
        SimChange {
            iccid,
            set,
            from: Packed::pack(fields.iter().map(|f| (&f.from, f.usage))),
        }
    }

    /// A SIM of a change set read from a plan file: its `(from, usage)` per target, in order.
    pub(super) fn from_parts(iccid: String, set: Arc<ChangeSet>, from: Packed) -> SimChange {
        SimChange { iccid, set, from }
    }

    /// Its changes, field by field, in the order they were decided.
    pub fn fields(&self) -> impl Iterator<Item = FieldChange> + '_ {
        self.set
            .targets()
            .iter()
            .zip(self.from.iter())
            .map(|(t, (from, usage))| FieldChange {
                field: t.field,
                from,
                to: t.to.clone(),
                via: t.via,
                source: t.source.clone(),
                flags: t.flags,
                implied: t.implied,
                usage,
            })
    }

    /// Its changes collected, for code that needs them as a slice.
    pub fn field_list(&self) -> Vec<FieldChange> {
        self.fields().collect()
    }

    /// How many fields change (implied ones included).
    pub fn field_count(&self) -> usize {
        self.set.targets().len()
    }

    /// The change set it shares.
    pub fn set(&self) -> &Arc<ChangeSet> {
        &self.set
    }

    /// Its `(from, usage)` per target of its set, unpacked.
    pub fn froms(&self) -> Unpack<'_> {
        self.from.iter()
    }

    /// Edits its changes (tests: a plan changed after review), giving it a set of its own.
    #[cfg(test)]
    pub fn edit(&mut self, edit: impl FnOnce(&mut Vec<FieldChange>)) {
        let mut fields = self.field_list();
        edit(&mut fields);
        *self = SimChange::new(std::mem::take(&mut self.iccid), fields);
    }

    pub(super) fn replace_set(&mut self, set: Arc<ChangeSet>) {
        self.set = set;
    }
}

impl PartialEq for SimChange {
    fn eq(&self, other: &SimChange) -> bool {
        self.iccid == other.iccid
            && self.from == other.from
            && (Arc::ptr_eq(&self.set, &other.set) || self.set.targets() == other.set.targets())
    }
}

impl std::fmt::Debug for SimChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimChange")
            .field("iccid", &self.iccid)
            .field("fields", &self.field_list())
            .finish()
    }
}

// The per-SIM JSON shape of a `SimChange` (a plain comment: a doc comment would become the
// schema's description).
/// Every change to one SIM.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SimChange")]
struct SimChangeJson {
    iccid: String,
    fields: Vec<FieldChange>,
}

impl Serialize for SimChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Fields<'a>(&'a SimChange);
        impl Serialize for Fields<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.fields())
            }
        }
        let mut s = serializer.serialize_struct("SimChange", 2)?;
        s.serialize_field("iccid", &self.iccid)?;
        s.serialize_field("fields", &Fields(self))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for SimChange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = SimChangeJson::deserialize(deserializer)?;
        Ok(SimChange::new(json.iccid, json.fields))
    }
}

impl JsonSchema for SimChange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        SimChangeJson::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SimChangeJson::json_schema(generator)
    }
}

/// One field of one SIM, from the raw live value to the API value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub field: Field,
    /// The live value as read (`0` or `null` as the API returned it).
    #[schemars(with = "serde_json::Value")]
    pub from: FieldValue,
    /// The API value: bytes/counts/seconds, `null` for unlimited or none, status id, IMEI lock as
    /// `{"enabled", "imei"}` (auto = `{"enabled": true, "imei": null}`).
    #[schemars(with = "serde_json::Value")]
    pub to: FieldValue,
    /// A status change the transition table allows only in several steps: the statuses it
    /// passes through between `from` and `to`, in order (empty for a direct change). `apply`
    /// runs one step per round of phase 0 (`steps_after` on the actions), each verified before
    /// the next.
    #[serde(default, skip_serializing_if = "Via::is_empty")]
    #[schemars(with = "Vec<i32>")]
    pub via: Via,
    #[schemars(with = "OriginSchema")]
    pub source: Arc<Origin>,
    #[serde(default, skip_serializing_if = "RiskFlags::is_empty")]
    #[schemars(with = "Vec<RiskFlag>")]
    pub flags: RiskFlags,
    /// True for a side effect of another change (not a mutation of its own).
    #[serde(default, skip_serializing_if = "is_false")]
    pub implied: bool,
    /// This month's usage of the limit's counter as read (bytes, SMS or seconds, like `to`):
    /// present only with the `usage_cut` or `near_usage` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<i64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A waiver of the spec, judged on the plan's date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverResult {
    /// The check it waives.
    pub check: String,
    /// Where the waiver is written, `file:line:col`.
    pub location: String,
    pub reason: String,
    /// The last day it holds, `YYYY-MM-DD`.
    pub expires: String,
    pub status: WaiverStatus,
    /// Failing SIMs it waived (0 once expired: an expired waiver waives nothing).
    pub waived: u64,
}

/// Whether a waiver holds on the plan's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaiverStatus {
    /// It holds.
    Active,
    /// It holds, and expires within a week: a warning.
    Expiring,
    /// Past its date (or no date to judge by): it waives nothing and blocks the plan.
    Expired,
}

/// What makes a change risky enough to call out to a reviewer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    /// To deactivated (5) or suspended (12): the SIM loses service.
    StatusCut,
    /// To retired (7): cannot be undone.
    Irreversible,
    /// An enabled IMEI lock is turned off.
    ImeiUnlock,
    /// A limit goes down (or from unlimited to a limit).
    LoweredLimit,
    /// Implied status 20 → 2: the SIM gets service back.
    RestoresService,
    /// A limit at or below what the SIM (in service after the plan) used this month: setting
    /// it cuts the SIM's service at once. Counted by the status-cuts guard.
    UsageCut,
    /// A limit above this month's usage but within 10 % of it (`limit <= usage × 1.1`).
    NearUsage,
}

/// A status change that cannot be made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockedChange {
    pub iccid: String,
    pub field: Field,
    #[schemars(with = "serde_json::Value")]
    pub from: FieldValue,
    #[schemars(with = "serde_json::Value")]
    pub to: FieldValue,
    #[schemars(with = "OriginSchema")]
    pub source: Arc<Origin>,
    pub reason: String,
}

/// A SIM already in transition to the desired status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PendingStatus {
    pub iccid: String,
    pub statusid: i32,
    pub desired: i32,
    #[schemars(with = "OriginSchema")]
    pub source: Arc<Origin>,
}

/// A SIM the provider deactivated, which a status rule must not re-activate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldStatus {
    pub iccid: String,
    pub statusid: i32,
    pub desired: i32,
    #[schemars(with = "OriginSchema")]
    pub source: Arc<Origin>,
    pub reason: String,
}

/// A managed SIM in a terminal status: nothing of it is changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkippedSim {
    pub iccid: String,
    pub statusid: i32,
}

/// Which guard.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    MaxChanges,
    MaxPercent,
    StatusCuts,
    Irreversible,
    RestoresService,
    /// A `deny` check of the spec fails (only `apply` lists it; a plan has its `checks`).
    DenyCheck,
    /// Multi-step status changes that pass through an activation (Issued → Activated →
    /// Deactivated): the SIM has service between two steps. Reported, never stops.
    PathActivations,
}

/// A guard this plan triggers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardResult {
    pub guard: GuardKind,
    /// What the guard counted (SIMs changing, or SIMs with such a change).
    pub count: u64,
    /// The configured ceiling, for max_changes / max_percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    /// True when the plan must not be applied as is.
    pub stops: bool,
    /// What to say to let it through, or why it does not stop.
    pub message: String,
}

/// Something a reviewer should know that is not a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    RunningBatchJobs,
    TerminalSims,
    HeldSims,
    /// A rule whose `match` selects no SIM that was read.
    UnmatchedRule,
    /// A spec with no rules and no `sims:` entries.
    EmptySpec,
    /// A check whose `select` matches no SIM that was read.
    UnmatchedCheck,
    /// A waiver that expires within a week.
    WaiverExpiring,
}

/// A check of the spec judged on every SIM it selects, after the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub name: String,
    /// `deny`: a failure blocks the plan (exit 3); `warn`: it is reported only.
    pub level: CheckLevel,
    pub message: String,
    /// Where the check's name is written, `file:line:col`.
    pub location: String,
    /// SIMs in view the check selects.
    pub selected: u64,
    /// SIMs that fail after the plan: `fails_unfixed + made_failing`.
    pub failing: u64,
    /// SIMs that fail now and still fail after the plan.
    pub fails_unfixed: u64,
    /// SIMs that pass now and fail after the plan.
    pub made_failing: u64,
    /// SIMs that fail now and pass after the plan (not failures).
    pub fixed: u64,
    /// Failing SIMs a waiver covers: not counted in `failing`, shown apart.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waived: u64,
    /// Up to 20 failing SIMs, smallest ICCIDs first (for a `limit` check: SIMs it counted).
    pub examples: Vec<CheckExample>,
    /// A `limit` check's constraints on the change, each with what it counted. A `limit`
    /// check fails when one is exceeded: `failing` and `made_failing` are the largest count
    /// over its ceiling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitResult>,
}

/// One constraint of a `limit` check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitResult {
    /// What is counted: `monthly_data_limit changes`, `status changes to suspended`, `IMEI unlocks`.
    pub what: String,
    /// Selected SIMs the plan changes that way.
    pub counted: u64,
    /// The most allowed (a percentage is resolved against the selected SIMs, rounded down).
    pub at_most: u64,
}

impl CheckResult {
    /// True when a `deny` check fails: the plan must not be applied.
    pub fn denies(&self) -> bool {
        self.level == CheckLevel::Deny && self.failing > 0
    }
}

/// One failing SIM of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckExample {
    pub iccid: String,
    /// The first field the SIM fails on (for a `limit` check, the field counted).
    pub field: crate::spec::CheckField,
    /// Its value after the plan, as the spec writes it (`2GB`, `off`).
    pub value: String,
    /// True when the SIM passes now and the plan makes it fail.
    pub made_failing: bool,
    /// The rule or `sims:` entry that set the value, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<OriginSchema>")]
    pub source: Option<Arc<Origin>>,
}

/// Schema-only mirror of [`Origin`]: `{"file", "line", "col", "kind": "rule", "name"}` or
/// `{..., "kind": "sim_entry", "iccid"}`.
#[derive(JsonSchema)]
#[schemars(rename = "Origin")]
#[allow(dead_code)]
pub(super) struct OriginSchema {
    file: String,
    line: u32,
    col: u32,
    #[serde(flatten)]
    kind: OriginKindSchema,
}

#[derive(JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schemars(rename = "OriginKind")]
#[allow(dead_code)]
enum OriginKindSchema {
    Rule { name: String },
    SimEntry { iccid: String },
}
