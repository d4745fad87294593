//! The desired values a spec sets, and where each was written: the vocabulary `spec` and `plan`
//! share.
//!
//! Values here are already parsed and normalised (bytes, status ids, `Unlimited`), and each one
//! carries the [`Origin`] it came from so the plan can cite `fleet/eu.yaml:12:5 (rule eu-trackers)`
//! for every change. What one SIM gets is a [`super::Resolution`], borrowed from the spec by
//! [`super::Spec::resolve`], so a million-SIM plan copies only the values that change.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A field a spec can set, named as in the spec (and in `updateSim`). Its JSON Schema (in the
/// plan's schema) is derived from this type, so the two cannot name a field differently.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Status,
    MonthlyDataLimit,
    MonthlySmsMoLimit,
    MonthlySmsMtLimit,
    MonthlyVoiceMoLimit,
    // serde's snake_case would say `custom_field1`; the API says `custom_field_1`. (A plain
    // comment: a doc comment would go into the schema and turn the enum into a `oneOf`.)
    #[serde(rename = "custom_field_1")]
    CustomField1,
    EndCustomerLabel,
    ImeiLock,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Status,
        Field::MonthlyDataLimit,
        Field::MonthlySmsMoLimit,
        Field::MonthlySmsMtLimit,
        Field::MonthlyVoiceMoLimit,
        Field::CustomField1,
        Field::EndCustomerLabel,
        Field::ImeiLock,
    ];

    /// The spec's (and the JSON plan's) name of the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::MonthlyDataLimit => "monthly_data_limit",
            Field::MonthlySmsMoLimit => "monthly_sms_mo_limit",
            Field::MonthlySmsMtLimit => "monthly_sms_mt_limit",
            Field::MonthlyVoiceMoLimit => "monthly_voice_mo_limit",
            Field::CustomField1 => "custom_field_1",
            Field::EndCustomerLabel => "end_customer_label",
            Field::ImeiLock => "imei_lock",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        // `name()` and the serde names are one table: a test keeps them equal.
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A monthly limit: bytes for data, a count for SMS, seconds for voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Limit {
    Unlimited,
    /// Always positive: `0` is rejected by the spec loader (the API gives it two meanings).
    Value(i64),
}

impl Limit {
    /// `self` ≤ `bound`, where `unlimited` is above every number.
    pub fn is_at_most(self, bound: Limit) -> bool {
        match (self, bound) {
            (_, Limit::Unlimited) => true,
            (Limit::Unlimited, Limit::Value(_)) => false,
            (Limit::Value(have), Limit::Value(bound)) => have <= bound,
        }
    }
}

/// The desired IMEI lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImeiLockSetting {
    Off,
    /// Lock to whatever device the SIM is (or next is) in.
    Auto,
    /// Lock to exactly this 15-digit IMEI.
    Imei(String),
}

/// A desired value, typed by field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DesiredValue {
    /// A status id from `fleet::tables::SETTABLE_STATUSES`.
    Status(i32),
    Limit(Limit),
    /// `custom_field_1` / `end_customer_label`; `None` means `none` (remove the value).
    Text(Option<String>),
    ImeiLock(ImeiLockSetting),
}

/// What kind of spec entry a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OriginKind {
    /// A rule under `rules:`, by its unique name.
    Rule { name: String },
    /// A per-SIM entry under `sims:`.
    SimEntry { iccid: String },
}

/// Where a value was written: the file (relative to the spec directory's parent as the user
/// named it), 1-based line and column, and the rule or entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    pub file: String,
    pub line: u32,
    pub col: u32,
    #[serde(flatten)]
    pub kind: OriginKind,
}

impl Origin {
    /// `fleet/eu.yaml:12:5`
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }
}

impl fmt::Display for Origin {
    /// `fleet/eu.yaml:12:5 (rule eu-trackers)` or `fleet/sims.yaml:3:3 (sims entry 8949…)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            OriginKind::Rule { name } => write!(f, "{} (rule {name})", self.location()),
            OriginKind::SimEntry { iccid } => write!(f, "{} (sims entry {iccid})", self.location()),
        }
    }
}

/// One resolved field: the winning value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedValue {
    pub value: DesiredValue,
    /// Shared: a rule's origin is cited by every change it makes (millions in a large plan), so
    /// citing it must not copy its strings.
    pub origin: std::sync::Arc<Origin>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_spec_names() {
        for field in Field::ALL {
            let json = serde_json::to_value(field).unwrap();
            assert_eq!(json, serde_json::Value::from(field.name()));
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
    }
}
