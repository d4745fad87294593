//! The `Explanation` value: plain data saying, for one SIM and each of its fields, the live
//! value, the desired value and who set it, every other value offered and why it lost, and what
//! the plan decides. One serde type serves `explain --format json` and its JSON Schema
//! (`schema/explain.schema.json`); the text and markdown renderers read the same value.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{Field, Origin};

use super::super::compare::Meaning;
use super::super::flags::RiskFlags;
use super::super::model::{OriginSchema, RiskFlag};
use super::super::value::FieldValue;

/// What `simfleet explain` says about the SIMs it was asked about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainReport {
    /// Where the live values came from.
    pub source: ExplainSource,
    /// With `--plan`: the checksum of the plan explained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_checksum: Option<String>,
    /// One explanation per ICCID asked about, in the order given.
    pub sims: Vec<Explanation>,
}

/// Where an explanation's live values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExplainSource {
    /// Read through the API (only the SIMs asked about).
    Api,
    /// A snapshot file (`--live`).
    Snapshot,
    /// A saved plan's records (`--plan`): only what the plan recorded is known.
    Plan,
}

/// Everything about one SIM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Explanation {
    pub iccid: String,
    /// The live status id (not known from a plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statusid: Option<i32>,
    /// The live product (provider) id (not known from a plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providerid: Option<i32>,
    pub managed: Managed,
    /// Where the SIM's `sims:` entry is written, `file:line:col`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Rules whose `match` selects the SIM, highest priority first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched_rules: Vec<RuleRef>,
    /// Every field of the SIM, in the API's order.
    pub fields: Vec<FieldExplanation>,
    /// For an unmanaged SIM: the rules closest to matching it (fewest failing keys first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closest_rules: Vec<ClosestRule>,
    /// What the source cannot tell (a plan records only what it changes or holds back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether any rule or `sims:` entry applies to the SIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Managed {
    Yes,
    /// No rule matches and no entry names it: it is never touched.
    No,
    /// From a plan without a record of the SIM: it may hold already, or not be managed.
    Unknown,
}

/// A rule, by name, where it is written and its priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    pub name: String,
    /// `file:line:col` of its name.
    pub location: String,
    pub priority: i64,
}

/// A rule that does not match the SIM, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosestRule {
    pub rule: RuleRef,
    /// The keys of its `match` that fail.
    pub failed: Vec<FailedKey>,
}

/// One key of a `match` that the live SIM fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedKey {
    pub key: String,
    /// What the rule asks for, as the spec writes it.
    pub wants: String,
    /// The live value, as a match would write it.
    pub live: String,
}

/// One field of one SIM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldExplanation {
    pub field: Field,
    /// The live value as read (`0` or `null` as the API returned it); absent when the source
    /// does not know it (a plan records live values only of what it changes or holds back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub live: Option<FieldValue>,
    /// The winning desired value in its API form; absent when no rule or entry sets the field
    /// (or rules of equal priority disagree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Value>")]
    pub desired: Option<FieldValue>,
    /// The rule or `sims:` entry that set the desired value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<OriginSchema>")]
    pub source: Option<Arc<Origin>>,
    /// The winning rule's priority (absent for a `sims:` entry, which beats every rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Every other value a rule offered for the field, and why it lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<OtherValue>,
    pub decision: Decision,
}

/// A value a rule offered that is not the desired one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherValue {
    #[schemars(with = "serde_json::Value")]
    pub value: FieldValue,
    #[schemars(with = "OriginSchema")]
    pub source: Arc<Origin>,
    pub priority: i64,
    pub lost: Lost,
}

/// Why a rule's value is not the desired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lost {
    /// A rule of higher priority sets the field.
    LowerPriority,
    /// The SIM's `sims:` entry sets the field, and beats every rule.
    OverriddenBySimsEntry,
    /// A rule of the same priority, earlier in file order, sets the same value.
    SamePrioritySameValue,
    /// A rule of the same priority sets a different value: a conflict, and the plan stops.
    SamePriorityConflict,
    /// From a plan: a rule of the same priority sets the same value; whether it matches the
    /// SIM is not recorded (if it does, it agrees).
    NotEvaluated,
}

/// What the plan does with the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decision {
    /// The field changes to the desired value.
    Change {
        #[serde(default, skip_serializing_if = "RiskFlags::is_empty")]
        #[schemars(with = "Vec<RiskFlag>")]
        flags: RiskFlags,
        /// The apply phase of the change: 0 cuts and retires, 1 settings, 2 activations.
        phase: u8,
        /// True for a side effect of another change (the IMEI unlock of a SIM in status 20).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        implied: bool,
        /// For status: the transitions apply makes, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<StatusStep>,
        /// For a limit at or near this month's usage (flag `usage_cut` or `near_usage`): the
        /// usage of its counter as read (bytes, SMS or seconds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<i64>,
    },
    /// The live value already counts as the desired one, by this rule of meaning.
    Equal {
        rule: Meaning,
        /// The rule as a person reads it (`` `unlimited` equals a live 0 ``).
        rule_text: String,
    },
    /// The SIM is already on its way to the desired status.
    Pending { reason: String },
    /// The provider deactivated the SIM; a status rule does not re-activate it.
    Held { reason: String },
    /// The transition table has no such transition.
    Blocked { reason: String, row: TransitionRow },
    /// The SIM is in a terminal status: nothing of it is changed.
    Skipped { reason: String },
    /// Rules of equal priority set different values: the plan stops with an error.
    Conflict { reason: String },
    /// No rule or entry sets the field: it is never compared or changed.
    Unmanaged,
    /// From a plan: the plan has no record of the field (it held already, or is not managed).
    NotRecorded,
}

/// One status transition apply makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusStep {
    pub from: i32,
    pub to: i32,
    /// The apply phase it runs in.
    pub phase: u8,
}

/// The transition a blocked change needs, and what the table offers instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRow {
    pub from: i32,
    pub to: i32,
    /// The product (not recorded in a plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providerid: Option<i32>,
    /// The statuses the table allows from `from` for this product (not known from a plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<i32>>,
}
