//! What a live SIM's settings are, written as spec values: the inverse of the plan's rules of
//! meaning, chosen so that each exported value holds on the SIM it came from.
//!
//! Some live values have no spec spelling that reproduces them exactly (a status a spec may not
//! set, a label that is literally `none` or blank, a negative limit): those are `None` here and
//! the exporter leaves the field unmanaged for that SIM rather than write something that would
//! plan a change.

use crate::fleet::{tables, Sim};
use crate::spec::{DesiredValue, Field, ImeiLockSetting, Limit};

/// The fields `export --spec` writes by default: the four limits, the label, the IMEI lock and
/// the status. `custom_field_1` is per-device data, opt in with `--fields`.
pub const DEFAULT_FIELDS: [Field; 7] = [
    Field::Status,
    Field::MonthlyDataLimit,
    Field::MonthlySmsMoLimit,
    Field::MonthlySmsMtLimit,
    Field::MonthlyVoiceMoLimit,
    Field::EndCustomerLabel,
    Field::ImeiLock,
];

/// The spec value that reproduces `field` of `sim`, or `None` when no spec value does.
pub fn exported_value(sim: &Sim, field: Field) -> Option<DesiredValue> {
    match field {
        Field::Status => tables::SETTABLE_STATUSES
            .contains(&sim.statusid)
            .then_some(DesiredValue::Status(sim.statusid)),
        Field::MonthlyDataLimit => limit(sim.monthly_data_limit),
        Field::MonthlySmsMoLimit => limit(sim.monthly_sms_mo_limit.map(i64::from)),
        Field::MonthlySmsMtLimit => limit(sim.monthly_sms_mt_limit.map(i64::from)),
        Field::MonthlyVoiceMoLimit => limit(sim.monthly_voice_mo_limit),
        Field::CustomField1 => text(sim.custom_field_1.as_deref()),
        Field::EndCustomerLabel => text(sim.label()),
        // `auto` holds for any enabled lock, whether or not the IMEI is known yet: it is exact
        // and lets every locked SIM share one value.
        Field::ImeiLock => Some(DesiredValue::ImeiLock(
            if sim.imei_lock.as_ref().is_some_and(|l| l.enabled) {
                ImeiLockSetting::Auto
            } else {
                ImeiLockSetting::Off
            },
        )),
    }
}

/// `null` and `0` both read as unlimited; a negative limit has no spec spelling.
fn limit(live: Option<i64>) -> Option<DesiredValue> {
    match live {
        None | Some(0) => Some(DesiredValue::Limit(Limit::Unlimited)),
        Some(v) if v > 0 => Some(DesiredValue::Limit(Limit::Value(v))),
        Some(_) => None,
    }
}

/// `null` and `""` read as `none`; text a spec can write back exactly is kept.
fn text(live: Option<&str>) -> Option<DesiredValue> {
    match live {
        None | Some("") => Some(DesiredValue::Text(None)),
        Some(t) if writable_text(t) => Some(DesiredValue::Text(Some(t.to_string()))),
        Some(_) => None,
    }
}

/// True when a spec can set and match this exact text: not blank, not the word `none` (which
/// means "no value"), and without surrounding whitespace a reader would not see.
pub fn writable_text(text: &str) -> bool {
    !text.trim().is_empty() && text != "none" && text.trim() == text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{EndCustomerLabel, ImeiLock};

    fn sim() -> Sim {
        Sim {
            iccid: "89490000000000000015".into(),
            statusid: 2,
            providerid: 5,
            ..Sim::default()
        }
    }

    #[test]
    fn limits_read_null_and_zero_as_unlimited() {
        let mut s = sim();
        assert_eq!(
            exported_value(&s, Field::MonthlyDataLimit),
            Some(DesiredValue::Limit(Limit::Unlimited))
        );
        s.monthly_data_limit = Some(0);
        assert_eq!(
            exported_value(&s, Field::MonthlyDataLimit),
            Some(DesiredValue::Limit(Limit::Unlimited))
        );
        s.monthly_sms_mo_limit = Some(50);
        assert_eq!(
            exported_value(&s, Field::MonthlySmsMoLimit),
            Some(DesiredValue::Limit(Limit::Value(50)))
        );
        s.monthly_voice_mo_limit = Some(-1);
        assert_eq!(exported_value(&s, Field::MonthlyVoiceMoLimit), None);
    }

    #[test]
    fn only_settable_statuses_are_exported() {
        let mut s = sim();
        assert_eq!(
            exported_value(&s, Field::Status),
            Some(DesiredValue::Status(2))
        );
        for unsettable in [1, 3, 4, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20] {
            s.statusid = unsettable;
            assert_eq!(exported_value(&s, Field::Status), None, "{unsettable}");
        }
    }

    #[test]
    fn locks_are_auto_or_off_and_labels_keep_only_writable_text() {
        let mut s = sim();
        assert_eq!(
            exported_value(&s, Field::ImeiLock),
            Some(DesiredValue::ImeiLock(ImeiLockSetting::Off))
        );
        s.imei_lock = Some(ImeiLock {
            imei: Some("356938035643809".into()),
            enabled: true,
        });
        assert_eq!(
            exported_value(&s, Field::ImeiLock),
            Some(DesiredValue::ImeiLock(ImeiLockSetting::Auto))
        );
        s.imei_lock = Some(ImeiLock {
            imei: None,
            enabled: false,
        });
        assert_eq!(
            exported_value(&s, Field::ImeiLock),
            Some(DesiredValue::ImeiLock(ImeiLockSetting::Off))
        );
        for (label, want) in [
            ("", Some(DesiredValue::Text(None))),
            ("ACME", Some(DesiredValue::Text(Some("ACME".into())))),
            ("none", None),
            (" ACME", None),
            ("  ", None),
        ] {
            s.end_customer_label = Some(EndCustomerLabel { name: label.into() });
            assert_eq!(
                exported_value(&s, Field::EndCustomerLabel),
                want,
                "{label:?}"
            );
        }
    }
}
