//! The rules of meaning: when a desired value already holds on a live SIM, and how both are
//! written in a plan.
//!
//! The API gives some values two spellings (unlimited is `null` or `0`, none is `null` or `""`,
//! an auto-detected IMEI lock fills in the IMEI later), so equality here is semantic, never
//! structural. These rules belong to the plan, not to `fleet`: the sandbox keeps its own storage
//! rules and must not share this code.

use serde_json::{json, Value};

use crate::fleet::{ImeiLock, Sim};
use crate::spec::{DesiredValue, Field, ImeiLockSetting, Limit};

/// A live limit as read, widened to i64 (SMS limits are Int in the API).
pub(crate) fn live_limit(sim: &Sim, field: Field) -> Option<i64> {
    match field {
        Field::MonthlyDataLimit => sim.monthly_data_limit,
        Field::MonthlySmsMoLimit => sim.monthly_sms_mo_limit.map(i64::from),
        Field::MonthlySmsMtLimit => sim.monthly_sms_mt_limit.map(i64::from),
        Field::MonthlyVoiceMoLimit => sim.monthly_voice_mo_limit,
        _ => None,
    }
}

fn live_text(sim: &Sim, field: Field) -> Option<&str> {
    match field {
        Field::CustomField1 => sim.custom_field_1.as_deref(),
        Field::EndCustomerLabel => sim.label(),
        _ => None,
    }
}

/// `unlimited` equals a live `null` or `0`; a number equals exactly that number.
pub fn limit_holds(desired: Limit, live: Option<i64>) -> bool {
    match desired {
        Limit::Unlimited => matches!(live, None | Some(0)),
        Limit::Value(v) => live == Some(v),
    }
}

/// `none` equals a live `null` or `""`; text equals exactly that text.
pub fn text_holds(desired: Option<&str>, live: Option<&str>) -> bool {
    match desired {
        None => matches!(live, None | Some("")),
        Some(want) => live == Some(want),
    }
}

/// `off` equals no lock or a disabled one; `auto` equals any enabled lock (auto-detect may have
/// filled in the IMEI already); an IMEI equals an enabled lock on exactly that IMEI.
pub fn imei_lock_holds(desired: &ImeiLockSetting, live: Option<&ImeiLock>) -> bool {
    let enabled = live.is_some_and(|l| l.enabled);
    match desired {
        ImeiLockSetting::Off => !enabled,
        ImeiLockSetting::Auto => enabled,
        ImeiLockSetting::Imei(imei) => {
            enabled && live.and_then(|l| l.imei.as_deref()) == Some(imei.as_str())
        }
    }
}

/// True when the desired value already holds on the live SIM. Status is decided by the status
/// table, not here, and reports plain equality.
pub fn holds(field: Field, desired: &DesiredValue, sim: &Sim) -> bool {
    match desired {
        DesiredValue::Status(id) => sim.statusid == *id,
        DesiredValue::Limit(limit) => limit_holds(*limit, live_limit(sim, field)),
        DesiredValue::Text(text) => text_holds(text.as_deref(), live_text(sim, field)),
        DesiredValue::ImeiLock(setting) => imei_lock_holds(setting, sim.imei_lock.as_ref()),
    }
}

/// The raw live value of a field, as the API returned it.
pub fn live_value(sim: &Sim, field: Field) -> Value {
    match field {
        Field::Status => json!(sim.statusid),
        Field::MonthlyDataLimit
        | Field::MonthlySmsMoLimit
        | Field::MonthlySmsMtLimit
        | Field::MonthlyVoiceMoLimit => live_limit(sim, field).map_or(Value::Null, Value::from),
        Field::CustomField1 | Field::EndCustomerLabel => {
            live_text(sim, field).map_or(Value::Null, Value::from)
        }
        Field::ImeiLock => match &sim.imei_lock {
            None => Value::Null,
            Some(lock) => json!({"enabled": lock.enabled, "imei": lock.imei}),
        },
    }
}

/// The API value a desired value stands for: `null` for unlimited and none, an IMEI lock as
/// `{"enabled", "imei"}` with `auto` = `{"enabled": true, "imei": null}`.
pub fn desired_value(desired: &DesiredValue) -> Value {
    match desired {
        DesiredValue::Status(id) => json!(id),
        DesiredValue::Limit(Limit::Unlimited) => Value::Null,
        DesiredValue::Limit(Limit::Value(v)) => json!(v),
        DesiredValue::Text(text) => text.as_deref().map_or(Value::Null, Value::from),
        DesiredValue::ImeiLock(ImeiLockSetting::Off) => json!({"enabled": false, "imei": null}),
        DesiredValue::ImeiLock(ImeiLockSetting::Auto) => json!({"enabled": true, "imei": null}),
        DesiredValue::ImeiLock(ImeiLockSetting::Imei(imei)) => {
            json!({"enabled": true, "imei": imei})
        }
    }
}

/// True when going from the live limit to `to` lowers it (unlimited counts as infinite).
pub fn lowers_limit(live: Option<i64>, to: Limit) -> bool {
    match (live, to) {
        (_, Limit::Unlimited) => false,
        (None | Some(0), Limit::Value(_)) => true,
        (Some(from), Limit::Value(to)) => to < from,
    }
}

/// Feeds the normalised live value of `field` into `out`: the two spellings of unlimited, of
/// none and of "no lock" write the same bytes, so a fingerprint does not change when the API
/// merely re-spells a value. Usage counters are never part of it.
pub(crate) fn write_normalised(sim: &Sim, field: Field, out: &mut Vec<u8>) {
    out.extend_from_slice(field.name().as_bytes());
    out.push(b'=');
    match field {
        Field::Status => out.extend_from_slice(sim.statusid.to_string().as_bytes()),
        Field::MonthlyDataLimit
        | Field::MonthlySmsMoLimit
        | Field::MonthlySmsMtLimit
        | Field::MonthlyVoiceMoLimit => match live_limit(sim, field) {
            None | Some(0) => out.extend_from_slice(b"unlimited"),
            Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
        },
        Field::CustomField1 | Field::EndCustomerLabel => match live_text(sim, field) {
            None | Some("") => out.extend_from_slice(b"none"),
            Some(text) => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
        },
        Field::ImeiLock => match &sim.imei_lock {
            Some(ImeiLock {
                enabled: true,
                imei,
            }) => {
                out.extend_from_slice(b"on:");
                out.extend_from_slice(imei.as_deref().unwrap_or("").as_bytes());
            }
            _ => out.extend_from_slice(b"off"),
        },
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(enabled: bool, imei: Option<&str>) -> ImeiLock {
        ImeiLock {
            enabled,
            imei: imei.map(str::to_string),
        }
    }

    #[test]
    fn unlimited_equals_null_or_zero_only() {
        assert!(limit_holds(Limit::Unlimited, None));
        assert!(limit_holds(Limit::Unlimited, Some(0)));
        assert!(!limit_holds(Limit::Unlimited, Some(1)));
        assert!(limit_holds(Limit::Value(5), Some(5)));
        assert!(!limit_holds(Limit::Value(5), None));
        assert!(!limit_holds(Limit::Value(5), Some(0)));
        assert!(!limit_holds(Limit::Value(5), Some(6)));
    }

    #[test]
    fn none_equals_null_or_empty_only() {
        assert!(text_holds(None, None));
        assert!(text_holds(None, Some("")));
        assert!(!text_holds(None, Some("x")));
        assert!(text_holds(Some("ACME"), Some("ACME")));
        assert!(!text_holds(Some("ACME"), Some("acme")));
        assert!(!text_holds(Some("ACME"), None));
    }

    #[test]
    fn imei_lock_rules() {
        let imei = ImeiLockSetting::Imei("356938035643809".into());
        assert!(imei_lock_holds(&ImeiLockSetting::Off, None));
        assert!(imei_lock_holds(
            &ImeiLockSetting::Off,
            Some(&lock(false, Some("1")))
        ));
        assert!(!imei_lock_holds(
            &ImeiLockSetting::Off,
            Some(&lock(true, None))
        ));
        assert!(imei_lock_holds(
            &ImeiLockSetting::Auto,
            Some(&lock(true, None))
        ));
        assert!(imei_lock_holds(
            &ImeiLockSetting::Auto,
            Some(&lock(true, Some("356938035643809")))
        ));
        assert!(!imei_lock_holds(&ImeiLockSetting::Auto, None));
        assert!(!imei_lock_holds(
            &ImeiLockSetting::Auto,
            Some(&lock(false, None))
        ));
        assert!(imei_lock_holds(
            &imei,
            Some(&lock(true, Some("356938035643809")))
        ));
        assert!(!imei_lock_holds(
            &imei,
            Some(&lock(true, Some("490154203237518")))
        ));
        assert!(!imei_lock_holds(&imei, Some(&lock(true, None))));
        assert!(!imei_lock_holds(
            &imei,
            Some(&lock(false, Some("356938035643809")))
        ));
    }

    #[test]
    fn values_are_written_as_the_api_spells_them() {
        let sim = Sim {
            monthly_data_limit: Some(0),
            end_customer_label: None,
            imei_lock: Some(lock(true, None)),
            ..Sim::default()
        };
        assert_eq!(live_value(&sim, Field::MonthlyDataLimit), json!(0));
        assert_eq!(live_value(&sim, Field::EndCustomerLabel), Value::Null);
        assert_eq!(
            live_value(&sim, Field::ImeiLock),
            json!({"enabled": true, "imei": null})
        );
        assert_eq!(
            desired_value(&DesiredValue::Limit(Limit::Unlimited)),
            Value::Null
        );
        assert_eq!(
            desired_value(&DesiredValue::ImeiLock(ImeiLockSetting::Auto)),
            json!({"enabled": true, "imei": null})
        );
        assert_eq!(desired_value(&DesiredValue::Text(None)), Value::Null);
    }

    #[test]
    fn lowering_counts_unlimited_as_infinite() {
        assert!(lowers_limit(None, Limit::Value(10)));
        assert!(lowers_limit(Some(0), Limit::Value(10)));
        assert!(lowers_limit(Some(20), Limit::Value(10)));
        assert!(!lowers_limit(Some(5), Limit::Value(10)));
        assert!(!lowers_limit(Some(5), Limit::Unlimited));
    }
}
