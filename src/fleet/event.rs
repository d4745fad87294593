//! The API's `SimEvent` as plain data: what happened to a SIM and when (`listSimEvents`).
//!
//! The API client decodes events into this type and the plan's drift evidence is built from it,
//! so both speak one definition. `id` is a GraphQL `ID`, which servers send as a string or, as
//! in the reference's example, a number; both are read.

use serde::{Deserialize, Deserializer, Serialize};

/// The event types drift evidence reads: status changes, IMEI lock switches, and use with an
/// unauthorized IMEI (the reference's "List of SIM event types").
pub const DRIFT_EVENT_TYPES: &[&str] = &["lifecycle", "imeiLockSwitch", "imeiUnauthorized"];

/// One event of one SIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimEvent {
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    pub iccid: String,
    /// Unix milliseconds.
    #[serde(rename = "timestampMilliseconds")]
    pub timestamp_ms: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(rename = "jsonData", default)]
    pub json_data: Option<String>,
}

fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "a SimEvent id must be a string or a number, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_references_example() {
        let event: SimEvent = serde_json::from_str(
            r#"{"id": 42, "iccid": "9876543212345678901", "timestampMilliseconds": 1744366387096,
                "type": "presence", "details": "Status: GPRS registered", "jsonData": "{}"}"#,
        )
        .unwrap();
        assert_eq!(event.id, "42");
        assert_eq!(event.timestamp_ms, 1_744_366_387_096);
        assert_eq!(event.kind, "presence");
    }
}
