//! The rules of meaning: when a desired value already holds on a live SIM, and how both are
//! written in a plan.
//!
//! The API gives some values two spellings (unlimited is `null` or `0`, none is `null` or `""`,
//! an auto-detected IMEI lock fills in the IMEI later), so equality here is semantic, never
//! structural. These rules belong to the plan, not to `fleet`: the sandbox keeps its own storage
//! rules and must not share this code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::value::FieldValue;

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

/// The rule of meaning that made a live value count as the desired one (what `explain` names).
/// Each `*_holds` below is "some rule applies", so there is one definition of each rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    /// The same value, spelled the same way.
    Identical,
    UnlimitedIsNull,
    UnlimitedIsZero,
    NoneIsNull,
    NoneIsEmpty,
    OffIsNoLock,
    OffIsDisabledLock,
    AutoIsEnabledLock,
    ImeiLockedToIt,
}

impl Meaning {
    /// The rule, as a person reads it.
    pub fn describe(self) -> &'static str {
        match self {
            Meaning::Identical => "the same value",
            Meaning::UnlimitedIsNull => "`unlimited` equals a live null",
            Meaning::UnlimitedIsZero => "`unlimited` equals a live 0",
            Meaning::NoneIsNull => "`none` equals a live null",
            Meaning::NoneIsEmpty => "`none` equals a live empty string",
            Meaning::OffIsNoLock => "`off` equals a SIM without an IMEI lock",
            Meaning::OffIsDisabledLock => "`off` equals a disabled IMEI lock",
            Meaning::AutoIsEnabledLock => {
                "`auto` equals any enabled IMEI lock (auto-detect may have filled in the IMEI)"
            }
            Meaning::ImeiLockedToIt => "an IMEI equals an enabled lock on exactly that IMEI",
        }
    }
}

/// Which rule makes a live limit hold: `unlimited` equals a live `null` or `0`; a number
/// equals exactly that number.
pub fn limit_meaning(desired: Limit, live: Option<i64>) -> Option<Meaning> {
    match (desired, live) {
        (Limit::Unlimited, None) => Some(Meaning::UnlimitedIsNull),
        (Limit::Unlimited, Some(0)) => Some(Meaning::UnlimitedIsZero),
        (Limit::Value(want), Some(live)) if want == live => Some(Meaning::Identical),
        _ => None,
    }
}

/// `unlimited` equals a live `null` or `0`; a number equals exactly that number.
pub fn limit_holds(desired: Limit, live: Option<i64>) -> bool {
    limit_meaning(desired, live).is_some()
}

/// Which rule makes a live text hold: `none` (or `""`, which the API reads as "erase") equals
/// a live `null` or `""`; text equals exactly that text.
pub fn text_meaning(desired: Option<&str>, live: Option<&str>) -> Option<Meaning> {
    match (desired.filter(|want| !want.is_empty()), live) {
        (None, None) => Some(Meaning::NoneIsNull),
        (None, Some("")) => Some(Meaning::NoneIsEmpty),
        (Some(want), Some(live)) if want == live => Some(Meaning::Identical),
        _ => None,
    }
}

/// `none` (or `""`, which the API reads as "erase") equals a live `null` or `""`; text equals
/// exactly that text.
pub fn text_holds(desired: Option<&str>, live: Option<&str>) -> bool {
    text_meaning(desired, live).is_some()
}

/// Which rule makes a live IMEI lock hold: `off` equals no lock or a disabled one; `auto`
/// equals any enabled lock (auto-detect may have filled in the IMEI already); an IMEI equals an
/// enabled lock on exactly that IMEI.
pub fn imei_lock_meaning(desired: &ImeiLockSetting, live: Option<&ImeiLock>) -> Option<Meaning> {
    let enabled = live.is_some_and(|l| l.enabled);
    match desired {
        ImeiLockSetting::Off if live.is_none() => Some(Meaning::OffIsNoLock),
        ImeiLockSetting::Off if !enabled => Some(Meaning::OffIsDisabledLock),
        ImeiLockSetting::Auto if enabled => Some(Meaning::AutoIsEnabledLock),
        ImeiLockSetting::Imei(imei)
            if enabled && live.and_then(|l| l.imei.as_deref()) == Some(imei.as_str()) =>
        {
            Some(Meaning::ImeiLockedToIt)
        }
        _ => None,
    }
}

/// `off` equals no lock or a disabled one; `auto` equals any enabled lock (auto-detect may have
/// filled in the IMEI already); an IMEI equals an enabled lock on exactly that IMEI.
pub fn imei_lock_holds(desired: &ImeiLockSetting, live: Option<&ImeiLock>) -> bool {
    imei_lock_meaning(desired, live).is_some()
}

/// Which rule makes the desired value already hold on the live SIM, if one does. Status is
/// decided by the status table, not here, and reports plain equality.
pub fn meaning(field: Field, desired: &DesiredValue, sim: &Sim) -> Option<Meaning> {
    match desired {
        DesiredValue::Status(id) => (sim.statusid == *id).then_some(Meaning::Identical),
        DesiredValue::Limit(limit) => limit_meaning(*limit, live_limit(sim, field)),
        DesiredValue::Text(text) => text_meaning(text.as_deref(), live_text(sim, field)),
        DesiredValue::ImeiLock(setting) => imei_lock_meaning(setting, sim.imei_lock.as_ref()),
    }
}

/// True when the desired value already holds on the live SIM. Status is decided by the status
/// table, not here, and reports plain equality.
pub fn holds(field: Field, desired: &DesiredValue, sim: &Sim) -> bool {
    meaning(field, desired, sim).is_some()
}

/// True when a plan's value of `field` (a change's `from` or `to`, in its API form) holds on the
/// live SIM, by the same rules as [`holds`]: what `apply` checks before and after its calls.
pub fn planned_holds(field: Field, planned: &FieldValue, sim: &Sim) -> bool {
    if field == Field::Status && planned.as_i64().is_none() {
        return false;
    }
    holds(field, &desired_from_api(field, planned), sim)
}

/// The raw live value of a field, as the API returned it.
pub fn live_value(sim: &Sim, field: Field) -> FieldValue {
    match field {
        Field::Status => FieldValue::from(sim.statusid),
        Field::MonthlyDataLimit
        | Field::MonthlySmsMoLimit
        | Field::MonthlySmsMtLimit
        | Field::MonthlyVoiceMoLimit => {
            live_limit(sim, field).map_or(FieldValue::Null, FieldValue::Int)
        }
        Field::CustomField1 | Field::EndCustomerLabel => {
            live_text(sim, field).map_or(FieldValue::Null, FieldValue::from)
        }
        Field::ImeiLock => match &sim.imei_lock {
            None => FieldValue::Null,
            Some(lock) => FieldValue::ImeiLock {
                enabled: lock.enabled,
                imei: lock.imei.as_deref().map(Box::from),
            },
        },
    }
}

/// The API value a desired value stands for: `null` for unlimited and none, an IMEI lock as
/// `{"enabled", "imei"}` with `auto` = `{"enabled": true, "imei": null}`.
pub fn desired_value(desired: &DesiredValue) -> FieldValue {
    match desired {
        DesiredValue::Status(id) => FieldValue::from(*id),
        DesiredValue::Limit(Limit::Unlimited) => FieldValue::Null,
        DesiredValue::Limit(Limit::Value(v)) => FieldValue::Int(*v),
        DesiredValue::Text(text) => text.as_deref().map_or(FieldValue::Null, FieldValue::from),
        DesiredValue::ImeiLock(ImeiLockSetting::Off) => FieldValue::ImeiLock {
            enabled: false,
            imei: None,
        },
        DesiredValue::ImeiLock(ImeiLockSetting::Auto) => FieldValue::ImeiLock {
            enabled: true,
            imei: None,
        },
        DesiredValue::ImeiLock(ImeiLockSetting::Imei(imei)) => FieldValue::ImeiLock {
            enabled: true,
            imei: Some(imei.as_str().into()),
        },
    }
}

/// The desired value whose API form is `value` (the inverse of [`desired_value`] for a value of
/// `field`'s kind): a plan's mutations are rebuilt from its changes' `to` values.
pub fn desired_from_api(field: Field, value: &FieldValue) -> DesiredValue {
    match (field, value) {
        (Field::Status, FieldValue::Int(id)) => {
            DesiredValue::Status(i32::try_from(*id).unwrap_or(i32::MAX))
        }
        (
            Field::MonthlyDataLimit
            | Field::MonthlySmsMoLimit
            | Field::MonthlySmsMtLimit
            | Field::MonthlyVoiceMoLimit,
            FieldValue::Int(n),
        ) if *n > 0 => DesiredValue::Limit(Limit::Value(*n)),
        (
            Field::MonthlyDataLimit
            | Field::MonthlySmsMoLimit
            | Field::MonthlySmsMtLimit
            | Field::MonthlyVoiceMoLimit,
            _,
        ) => DesiredValue::Limit(Limit::Unlimited),
        (_, FieldValue::ImeiLock { enabled: false, .. }) => {
            DesiredValue::ImeiLock(ImeiLockSetting::Off)
        }
        (_, FieldValue::ImeiLock { imei: None, .. }) => {
            DesiredValue::ImeiLock(ImeiLockSetting::Auto)
        }
        (
            _,
            FieldValue::ImeiLock {
                imei: Some(imei), ..
            },
        ) => DesiredValue::ImeiLock(ImeiLockSetting::Imei(imei.to_string())),
        (Field::ImeiLock, _) => DesiredValue::ImeiLock(ImeiLockSetting::Off),
        (_, FieldValue::Text(text)) => DesiredValue::Text(Some(text.to_string())),
        (_, _) => DesiredValue::Text(None),
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

/// Statuses in which a SIM has service (Activated, Test ready, Activation pendant, Waiting for
/// activation): only there does a limit at or below this month's usage cut anything. A SIM
/// already deactivated, suspended or held has no service to lose.
pub const IN_SERVICE: [i32; 4] = [2, 6, 11, 13];

/// This month's usage of the counter that `field` (a limit) caps, as read: data volume in bytes
/// for the data limit, SMS sent (MO) for the SMS MO limit, SMS received (MT) for the SMS MT
/// limit (the API keeps one counter and one limit per direction), outgoing voice seconds for the
/// voice limit. `None` when the counter was not read, or for a field that is not a limit.
pub fn live_usage(sim: &Sim, field: Field) -> Option<i64> {
    match field {
        Field::MonthlyDataLimit => sim.monthly_data_volume,
        Field::MonthlySmsMoLimit => sim.monthly_sms_mo.map(i64::from),
        Field::MonthlySmsMtLimit => sim.monthly_sms_mt.map(i64::from),
        Field::MonthlyVoiceMoLimit => sim.monthly_voice_mo,
        _ => None,
    }
}

/// How a new limit stands to this month's usage of its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageRisk {
    /// `limit <= usage`: the SIM has used its new allowance already; service stops once set.
    Cut,
    /// `usage < limit <= usage × 1.1` (in integers: `10 × limit <= 11 × usage`): the SIM is
    /// within 10 % of its new limit.
    Near,
}

/// The usage risk of setting `to` on a SIM that used `usage` this month: unlimited never cuts,
/// and an unread (or negative) counter says nothing.
pub fn usage_risk(usage: Option<i64>, to: Limit) -> Option<UsageRisk> {
    let usage = i128::from(usage.filter(|u| *u >= 0)?);
    let limit = match to {
        Limit::Value(v) if v > 0 => i128::from(v),
        _ => return None,
    };
    if limit <= usage {
        Some(UsageRisk::Cut)
    } else if 10 * limit <= 11 * usage {
        Some(UsageRisk::Near)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn lock(enabled: bool, imei: Option<&str>) -> ImeiLock {
        ImeiLock {
            enabled,
            imei: imei.map(str::to_string),
        }
    }

    #[test]
    fn desired_values_come_back_from_their_api_form() {
        let values = [
            (Field::Status, DesiredValue::Status(2)),
            (Field::Status, DesiredValue::Status(12)),
            (
                Field::MonthlyDataLimit,
                DesiredValue::Limit(Limit::Value(1 << 20)),
            ),
            (
                Field::MonthlyDataLimit,
                DesiredValue::Limit(Limit::Unlimited),
            ),
            (
                Field::MonthlySmsMoLimit,
                DesiredValue::Limit(Limit::Value(10)),
            ),
            (
                Field::MonthlyVoiceMoLimit,
                DesiredValue::Limit(Limit::Unlimited),
            ),
            (
                Field::CustomField1,
                DesiredValue::Text(Some("truck".into())),
            ),
            (Field::CustomField1, DesiredValue::Text(Some(String::new()))),
            (Field::EndCustomerLabel, DesiredValue::Text(None)),
            (
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Off),
            ),
            (
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Auto),
            ),
            (
                Field::ImeiLock,
                DesiredValue::ImeiLock(ImeiLockSetting::Imei("490154203237518".into())),
            ),
        ];
        for (field, value) in values {
            assert_eq!(
                desired_from_api(field, &desired_value(&value)),
                value,
                "{field}"
            );
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
        assert!(text_holds(Some(""), None));
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

    #[test]
    fn usage_at_or_above_the_new_limit_cuts_and_within_ten_percent_is_near() {
        let v = Limit::Value;
        assert_eq!(usage_risk(Some(100), v(100)), Some(UsageRisk::Cut));
        assert_eq!(usage_risk(Some(101), v(100)), Some(UsageRisk::Cut));
        assert_eq!(usage_risk(Some(100), v(101)), Some(UsageRisk::Near));
        assert_eq!(usage_risk(Some(100), v(110)), Some(UsageRisk::Near));
        assert_eq!(usage_risk(Some(100), v(111)), None);
        assert_eq!(usage_risk(Some(0), v(1)), None);
        assert_eq!(
            usage_risk(Some(i64::MAX), v(i64::MAX)),
            Some(UsageRisk::Cut)
        );
        assert_eq!(usage_risk(Some(1 << 40), Limit::Unlimited), None);
        assert_eq!(usage_risk(None, v(1)), None);
        assert_eq!(usage_risk(Some(-5), v(1)), None);
    }

    #[test]
    fn each_limit_is_judged_by_its_own_counter() {
        let sim = Sim {
            monthly_data_volume: Some(1),
            monthly_sms_mo: Some(2),
            monthly_sms_mt: Some(3),
            monthly_voice_mo: Some(4),
            ..Sim::default()
        };
        assert_eq!(live_usage(&sim, Field::MonthlyDataLimit), Some(1));
        assert_eq!(live_usage(&sim, Field::MonthlySmsMoLimit), Some(2));
        assert_eq!(live_usage(&sim, Field::MonthlySmsMtLimit), Some(3));
        assert_eq!(live_usage(&sim, Field::MonthlyVoiceMoLimit), Some(4));
        assert_eq!(live_usage(&sim, Field::Status), None);
    }
}
