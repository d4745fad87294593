//! Server-side SIM filters, shaped like the API's `SimFilterInput`.
//!
//! A spec's `match` is turned into one of these so the API client can push it down to
//! `listSims` without knowing anything about specs. Only the shape lives here; the client
//! serialises it and the plan decides when pushing down is exact.

use serde::{Deserialize, Serialize};

/// The API's `StringFilterInput`. At most one of the three is set by simfleet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct StringFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eq: Option<String>,
    #[serde(rename = "beginsWith", skip_serializing_if = "Option::is_none")]
    pub begins_with: Option<String>,
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub in_: Option<Vec<String>>,
}

/// The API's `SimListIntFilterInput`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct IntFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eq: Option<i32>,
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub in_: Option<Vec<i32>>,
}

/// The API's `SimFilterInput`; every present key must hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct SimFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iccid: Option<StringFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statusid: Option<IntFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providerid: Option<IntFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imei: Option<StringFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imsi: Option<StringFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<StringFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_field_1: Option<StringFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_customer_label: Option<StringFilter>,
}

impl SimFilter {
    /// True when no key is set: such a filter selects the whole fleet.
    pub fn is_empty(&self) -> bool {
        *self == SimFilter::default()
    }
}
