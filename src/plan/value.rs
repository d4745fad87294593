//! [`FieldValue`]: one field's value as the plan states it, live (`from`) or planned (`to`).
//!
//! A typed value rather than a `serde_json::Value`: a million-SIM plan holds millions of them,
//! and an IMEI lock as a JSON map costs three allocations where this costs none. It serialises
//! to exactly the JSON the plan contract gives (`null`, a number, a string, or
//! `{"enabled", "imei"}`), so plan files do not change.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A live or planned API value of one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldValue {
    /// `null`: unlimited, none, or no IMEI lock, as the API spells them.
    Null,
    /// A status id, or a limit in bytes, counts or seconds (`0` kept as the API returned it).
    Int(i64),
    /// A label or custom field (`""` kept as the API returned it). Boxed rather than a `String`:
    /// values never grow, and the 8 bytes saved are 48 MB over a million-SIM plan.
    Text(Box<str>),
    /// `{"enabled", "imei"}`; enabled without an IMEI is auto-detect.
    ImeiLock {
        enabled: bool,
        imei: Option<Box<str>>,
    },
}

impl FieldValue {
    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FieldValue::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// `(enabled, imei)` of an IMEI lock; `None` for any other value.
    pub fn imei_lock(&self) -> Option<(bool, Option<&str>)> {
        match self {
            FieldValue::ImeiLock { enabled, imei } => Some((*enabled, imei.as_deref())),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Null => serde_json::Value::Null,
            FieldValue::Int(n) => serde_json::Value::from(*n),
            FieldValue::Text(s) => serde_json::Value::from(&**s),
            FieldValue::ImeiLock { enabled, imei } => {
                serde_json::json!({"enabled": enabled, "imei": imei})
            }
        }
    }
}

impl From<i64> for FieldValue {
    fn from(n: i64) -> FieldValue {
        FieldValue::Int(n)
    }
}

impl From<i32> for FieldValue {
    fn from(n: i32) -> FieldValue {
        FieldValue::Int(i64::from(n))
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }
}

/// Compares with the JSON the value stands for (handy in tests and reports).
impl PartialEq<serde_json::Value> for FieldValue {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_json() == *other
    }
}

/// The compact JSON spelling, e.g. `null`, `524288000`, `"ACME"`,
/// `{"enabled":true,"imei":null}`.
impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("null"),
            FieldValue::Int(n) => write!(f, "{n}"),
            other => f.write_str(&other.to_json().to_string()),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Null => serializer.serialize_unit(),
            FieldValue::Int(n) => serializer.serialize_i64(*n),
            FieldValue::Text(s) => serializer.serialize_str(s),
            // Keys in the order serde_json's map gives them, so the bytes match earlier plans.
            FieldValue::ImeiLock { enabled, imei } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("enabled", enabled)?;
                map.serialize_entry("imei", imei)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldValue, D::Error> {
        deserializer.deserialize_any(FieldValueVisitor)
    }
}

struct FieldValueVisitor;

impl<'de> Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field value: null, an integer, a string or {\"enabled\", \"imei\"}")
    }

    fn visit_unit<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FieldValue, D::Error> {
        FieldValue::deserialize(d)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Int(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<FieldValue, E> {
        i64::try_from(n)
            .map(FieldValue::Int)
            .map_err(|_| E::custom(format!("{n} is out of range for a field value")))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(s.into()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(s.into_boxed_str()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
        let mut enabled = None;
        let mut imei: Option<Option<Box<str>>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "enabled" if enabled.is_none() => enabled = Some(map.next_value()?),
                "imei" if imei.is_none() => imei = Some(map.next_value()?),
                "enabled" | "imei" => {
                    return Err(de::Error::custom(format!("duplicate field `{key}`")))
                }
                other => return Err(de::Error::unknown_field(other, &["enabled", "imei"])),
            }
        }
        Ok(FieldValue::ImeiLock {
            enabled: enabled.ok_or_else(|| de::Error::missing_field("enabled"))?,
            imei: imei.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_to_the_json_of_the_plan_contract() {
        for (value, json) in [
            (FieldValue::Null, json!(null)),
            (FieldValue::Int(524_288_000), json!(524_288_000)),
            (FieldValue::Int(0), json!(0)),
            (FieldValue::from("ACME \"eu\""), json!("ACME \"eu\"")),
            (
                FieldValue::ImeiLock {
                    enabled: true,
                    imei: None,
                },
                json!({"enabled": true, "imei": null}),
            ),
            (
                FieldValue::ImeiLock {
                    enabled: true,
                    imei: Some("490154203237518".into()),
                },
                json!({"enabled": true, "imei": "490154203237518"}),
            ),
        ] {
            let text = serde_json::to_string(&value).unwrap();
            assert_eq!(text, json.to_string());
            assert_eq!(value.to_string(), json.to_string());
            assert_eq!(value, json);
            let back: FieldValue = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn stays_small() {
        // Three of these per changing SIM in a million-SIM plan: every byte is megabytes.
        assert!(std::mem::size_of::<FieldValue>() <= 24);
    }

    #[test]
    fn refuses_what_is_no_field_value() {
        for bad in [
            "1.5",
            "[1]",
            "true",
            r#"{"imei": null}"#,
            r#"{"enabled": true, "other": 1}"#,
            r#"{"enabled": true, "enabled": false}"#,
            "18446744073709551615",
        ] {
            assert!(serde_json::from_str::<FieldValue>(bad).is_err(), "{bad}");
        }
    }
}
