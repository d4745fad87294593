//! `POST /outside/updateSim`: a change made outside simfleet, as if someone changed a SIM in
//! the vendor's portal. Sandbox-only (the real API has no such endpoint); it exists so tests and
//! demos can make drift that simfleet did not make, and see its events.
//!
//! The body is `updateSim`'s arguments as a JSON object (`iccid`, `statusid`, the four limits,
//! `custom_field_1`, `end_customer_label: {name}`, `imei_lock: {lock, imei}`), with the same
//! rules: an absent key leaves the field alone, `null` is an explicit null. An optional
//! `timestampMilliseconds` dates the change (and its events) in the past; it defaults to now.
//! An unknown key is refused, so a typo does not silently change nothing.

use serde_json::{Map, Value};

use super::store::{now_ms, Arg, SimUpdate};
use super::types::{EndCustomerLabelInput, ImeiLockInput};

/// The keys the body may have.
const KEYS: &[&str] = &[
    "iccid",
    "timestampMilliseconds",
    "statusid",
    "monthly_data_limit",
    "custom_field_1",
    "monthly_sms_mo_limit",
    "monthly_sms_mt_limit",
    "monthly_voice_mo_limit",
    "end_customer_label",
    "imei_lock",
];

fn arg<T>(
    body: &Map<String, Value>,
    key: &str,
    problems: &mut Vec<String>,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Arg<T> {
    match body.get(key) {
        None => Arg::Absent,
        Some(Value::Null) => Arg::Null,
        Some(v) => match read(v) {
            Some(t) => Arg::Value(t),
            None => {
                problems.push(format!("{key}: {v} is not a value updateSim takes"));
                Arg::Absent
            }
        },
    }
}

/// The change the body asks for and when it happened, or every problem with the body.
pub fn parse(bytes: &[u8]) -> Result<(SimUpdate, i64), String> {
    let body: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(body) = body else {
        return Err("the body must be a JSON object of updateSim's arguments".to_string());
    };
    let mut problems: Vec<String> = body
        .keys()
        .filter(|k| !KEYS.contains(&k.as_str()))
        .map(|k| format!("unknown key {k:?} (updateSim takes {})", KEYS.join(", ")))
        .collect();
    let iccid = match body.get("iccid") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            problems.push("iccid (a string) is required".to_string());
            String::new()
        }
    };
    let at = match body.get("timestampMilliseconds") {
        None | Some(Value::Null) => now_ms(),
        Some(v) => v.as_i64().unwrap_or_else(|| {
            problems.push(format!("timestampMilliseconds: {v} is not an integer"));
            0
        }),
    };
    let int = |v: &Value| v.as_i64();
    let text = |v: &Value| v.as_str().map(str::to_string);
    let update = SimUpdate {
        iccid,
        statusid: arg(&body, "statusid", &mut problems, |v| {
            v.as_i64().and_then(|n| i32::try_from(n).ok())
        }),
        monthly_data_limit: arg(&body, "monthly_data_limit", &mut problems, int),
        custom_field_1: arg(&body, "custom_field_1", &mut problems, text),
        monthly_sms_mo_limit: arg(&body, "monthly_sms_mo_limit", &mut problems, int),
        monthly_sms_mt_limit: arg(&body, "monthly_sms_mt_limit", &mut problems, int),
        monthly_voice_mo_limit: arg(&body, "monthly_voice_mo_limit", &mut problems, int),
        end_customer_label: arg(&body, "end_customer_label", &mut problems, |v| {
            Some(EndCustomerLabelInput {
                name: v.get("name")?.as_str()?.to_string(),
            })
        }),
        imei_lock: arg(&body, "imei_lock", &mut problems, |v| {
            Some(ImeiLockInput {
                lock: v.get("lock")?.as_bool()?,
                imei: match v.get("imei") {
                    None | Some(Value::Null) => None,
                    Some(i) => Some(i.as_str()?.to_string()),
                },
            })
        }),
    };
    if problems.is_empty() {
        Ok((update, at))
    } else {
        Err(format!("outside/updateSim: {}", problems.join("; ")))
    }
}

/// `POST /outside/imeiUnauthorized`'s body: `{"iccid", "imei", "timestampMilliseconds"?}`.
pub fn parse_unauthorized(bytes: &[u8]) -> Result<(String, String, i64), String> {
    let body: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(body) = body else {
        return Err("the body must be a JSON object: {\"iccid\", \"imei\"}".to_string());
    };
    let mut problems: Vec<String> = body
        .keys()
        .filter(|k| !["iccid", "imei", "timestampMilliseconds"].contains(&k.as_str()))
        .map(|k| format!("unknown key {k:?} (iccid, imei, timestampMilliseconds)"))
        .collect();
    let mut text = |key: &str| match body.get(key) {
        Some(Value::String(s)) => s.clone(),
        _ => {
            problems.push(format!("{key} (a string) is required"));
            String::new()
        }
    };
    let (iccid, imei) = (text("iccid"), text("imei"));
    let at = match body.get("timestampMilliseconds") {
        None | Some(Value::Null) => now_ms(),
        Some(v) => v.as_i64().unwrap_or_else(|| {
            problems.push(format!("timestampMilliseconds: {v} is not an integer"));
            0
        }),
    };
    if problems.is_empty() {
        Ok((iccid, imei, at))
    } else {
        Err(format!("outside/imeiUnauthorized: {}", problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_null_and_values_are_told_apart_and_typos_refused() {
        let (u, at) = parse(
            br#"{"iccid":"1","statusid":5,"monthly_sms_mo_limit":null,
                 "imei_lock":{"lock":true,"imei":"356938035643809"},"timestampMilliseconds":42}"#,
        )
        .unwrap();
        assert_eq!(at, 42);
        assert_eq!(u.statusid, Arg::Value(5));
        assert_eq!(u.monthly_sms_mo_limit, Arg::Null);
        assert_eq!(u.monthly_data_limit, Arg::Absent);
        let err = parse(br#"{"iccid":"1","status":5,"statusid":"x"}"#).unwrap_err();
        assert!(err.contains("unknown key \"status\""), "{err}");
        assert!(err.contains("statusid"), "{err}");
        assert!(parse(b"[]").is_err());
    }
}
