//! The wherever SIM `SIM` type as plain data, with the API's field names.
//!
//! One struct serves the API client's decoder, the snapshot file and the sandbox's storage, so a
//! SIM read from any of them is the same value. Fields the client did not ask for stay `None` and
//! are left out when serialised, which keeps million-SIM snapshots small.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One SIM card as the API's `SIM` type describes it. Unknown fields are rejected so that a
/// snapshot with a typo fails loudly instead of silently dropping a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Sim {
    pub iccid: String,
    pub statusid: i32,
    pub providerid: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imsi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_session_since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_data_volume: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_data_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mo: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mt: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mo_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_sms_mt_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_voice_mo: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_voice_mo_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_month_data_volume: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nwc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_customer_label: Option<EndCustomerLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_lock: Option<ImeiLock>,
}

/// The API's `EndCustomerLabel` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndCustomerLabel {
    pub name: String,
}

/// The API's `ImeiLock` object: `enabled` with no `imei` is auto-detect still waiting for a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImeiLock {
    #[serde(default)]
    pub imei: Option<String>,
    pub enabled: bool,
}

/// One row of `getAvailableStatusTransitions`: `fromstatusid → tostatusid` is allowed for SIMs
/// of product `providerid`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub fromstatusid: i32,
    pub tostatusid: i32,
    pub providerid: i32,
}

impl Sim {
    /// The end customer label's name, if any (an empty name is reported as is).
    pub fn label(&self) -> Option<&str> {
        self.end_customer_label.as_ref().map(|l| l.name.as_str())
    }
}
