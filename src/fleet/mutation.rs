//! The API's mutation inputs, as plain data: what a batch job changes, `updateSim`'s arguments
//! and the IMEI lock input. The plan's actions are made of these types and the API client sends
//! them as they are, so what a reviewer approved is exactly what is sent, with no copy between.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// The largest include list a batch job takes (the reference's limit for `includeIccIds`).
pub const MAX_BATCH_ICCIDS: usize = 1000;

/// `BatchJobParametersInput` without the selection: only the fields to change are set.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct BatchChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statusid: Option<i32>,
    /// Bytes; `0` = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_data_limit: Option<i64>,
    /// `0` = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mo_limit: Option<i64>,
    /// `0` = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mt_limit: Option<i64>,
    /// Seconds; `0` = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_voice_mo_limit: Option<i64>,
    /// `""` erases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_1: Option<String>,
    /// `""` erases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_customer_label: Option<String>,
    /// `true` = lock with auto-detect, `false` = unlock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_lock: Option<bool>,
}

impl BatchChanges {
    /// True when no change is set; the API requires at least one.
    pub fn is_empty(&self) -> bool {
        *self == BatchChanges::default()
    }
}

/// updateSim's arguments; an absent one is left alone by the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpdateSimChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statusid: Option<i32>,
    /// Bytes, always positive (unlimited data goes through a batch job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_data_limit: Option<i64>,
    /// `null` = no limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "explicit_null"
    )]
    pub monthly_sms_mo_limit: Option<Option<i64>>,
    /// `null` = no limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "explicit_null"
    )]
    pub monthly_sms_mt_limit: Option<Option<i64>>,
    /// Seconds; `null` = no limit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "explicit_null"
    )]
    pub monthly_voice_mo_limit: Option<Option<i64>>,
    /// `""` erases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_1: Option<String>,
    /// `EndCustomerLabelInput.name`; `""` deletes the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_customer_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_lock: Option<ImeiLockInput>,
}

/// The API's `ImeiLockInput`: `lock: true` with no IMEI is auto-detect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImeiLockInput {
    pub lock: bool,
    #[serde(default)]
    pub imei: Option<String>,
}

/// A present key is `Some(value)`, a present `null` is `Some(None)`; absence is `None` (default).
fn explicit_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}
