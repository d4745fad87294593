//! The fields a check may test: every field the API returns for a SIM, the eight a spec sets and
//! the ones only the network sets (provider, IMEI, IMSI, MSISDN, network data, this month's and
//! last month's usage).
//!
//! A check constrains the end state of a SIM, managed or not, so it may test what no rule can
//! set: the end state of a read-only field is its live value. Each field has a [`Kind`] that
//! says which forms of `expect` it takes and how its values are parsed, so that a check and a
//! rule read `1GB` the same way.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::spec::desired::{DesiredValue, Field, Limit};
use crate::spec::values::{self, RawScalar, ValueError};

/// A field a check tests, named as the API (and the spec) names it.
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
pub enum CheckField {
    Status,
    MonthlyDataLimit,
    MonthlySmsMoLimit,
    MonthlySmsMtLimit,
    MonthlyVoiceMoLimit,
    // The API says `custom_field_1`, serde's snake_case `custom_field1`.
    #[serde(rename = "custom_field_1")]
    CustomField1,
    EndCustomerLabel,
    ImeiLock,
    Provider,
    Imei,
    Imsi,
    Msisdn,
    Nwc,
    Apn,
    IpAddress,
    MonthlyDataVolume,
    MonthlySmsMo,
    MonthlySmsMt,
    MonthlyVoiceMo,
    PreviousMonthDataVolume,
}

/// What kind of value a field holds, which decides the forms of `expect` it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A status: equals, any of, none of.
    Status,
    /// A settable monthly limit (`unlimited` allowed): also at_most / at_least.
    Limit,
    /// A settable label: equals, any of, none of, present, absent.
    Label,
    /// The IMEI lock: equals, any of, none of (`off`, `auto`, an IMEI).
    ImeiLock,
    /// The provider (product): equals, any of, none of, by name or id.
    Provider,
    /// Read-only text (IMEI, IMSI, MSISDN, network data): equals, any of, none of, present,
    /// absent.
    Text,
    /// A usage counter (no `unlimited`; a live null counts as 0): at_most / at_least only.
    Usage,
}

impl CheckField {
    pub const ALL: [CheckField; 20] = [
        CheckField::Status,
        CheckField::MonthlyDataLimit,
        CheckField::MonthlySmsMoLimit,
        CheckField::MonthlySmsMtLimit,
        CheckField::MonthlyVoiceMoLimit,
        CheckField::CustomField1,
        CheckField::EndCustomerLabel,
        CheckField::ImeiLock,
        CheckField::Provider,
        CheckField::Imei,
        CheckField::Imsi,
        CheckField::Msisdn,
        CheckField::Nwc,
        CheckField::Apn,
        CheckField::IpAddress,
        CheckField::MonthlyDataVolume,
        CheckField::MonthlySmsMo,
        CheckField::MonthlySmsMt,
        CheckField::MonthlyVoiceMo,
        CheckField::PreviousMonthDataVolume,
    ];

    /// The field a spec can set under this name, or `None` for a read-only one.
    pub fn settable(self) -> Option<Field> {
        Some(match self {
            CheckField::Status => Field::Status,
            CheckField::MonthlyDataLimit => Field::MonthlyDataLimit,
            CheckField::MonthlySmsMoLimit => Field::MonthlySmsMoLimit,
            CheckField::MonthlySmsMtLimit => Field::MonthlySmsMtLimit,
            CheckField::MonthlyVoiceMoLimit => Field::MonthlyVoiceMoLimit,
            CheckField::CustomField1 => Field::CustomField1,
            CheckField::EndCustomerLabel => Field::EndCustomerLabel,
            CheckField::ImeiLock => Field::ImeiLock,
            _ => return None,
        })
    }

    /// The spec's (and the API's) name of the field.
    pub fn name(self) -> &'static str {
        if let Some(field) = self.settable() {
            return field.name();
        }
        match self {
            CheckField::Provider => "provider",
            CheckField::Imei => "imei",
            CheckField::Imsi => "imsi",
            CheckField::Msisdn => "msisdn",
            CheckField::Nwc => "nwc",
            CheckField::Apn => "apn",
            CheckField::IpAddress => "ip_address",
            CheckField::MonthlyDataVolume => "monthly_data_volume",
            CheckField::MonthlySmsMo => "monthly_sms_mo",
            CheckField::MonthlySmsMt => "monthly_sms_mt",
            CheckField::MonthlyVoiceMo => "monthly_voice_mo",
            CheckField::PreviousMonthDataVolume => "previous_month_data_volume",
            _ => "",
        }
    }

    pub fn from_name(name: &str) -> Option<CheckField> {
        CheckField::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn kind(self) -> Kind {
        match self {
            CheckField::Status => Kind::Status,
            CheckField::MonthlyDataLimit
            | CheckField::MonthlySmsMoLimit
            | CheckField::MonthlySmsMtLimit
            | CheckField::MonthlyVoiceMoLimit => Kind::Limit,
            CheckField::CustomField1 | CheckField::EndCustomerLabel => Kind::Label,
            CheckField::ImeiLock => Kind::ImeiLock,
            CheckField::Provider => Kind::Provider,
            CheckField::Imei
            | CheckField::Imsi
            | CheckField::Msisdn
            | CheckField::Nwc
            | CheckField::Apn
            | CheckField::IpAddress => Kind::Text,
            CheckField::MonthlyDataVolume
            | CheckField::MonthlySmsMo
            | CheckField::MonthlySmsMt
            | CheckField::MonthlyVoiceMo
            | CheckField::PreviousMonthDataVolume => Kind::Usage,
        }
    }

    /// True for fields counted in bytes (shown as sizes: `1.5GB`).
    pub fn is_bytes(self) -> bool {
        matches!(
            self,
            CheckField::MonthlyDataLimit
                | CheckField::MonthlyDataVolume
                | CheckField::PreviousMonthDataVolume
        )
    }

    /// True when `at_most` / `at_least` apply.
    pub fn is_ordered(self) -> bool {
        matches!(self.kind(), Kind::Limit | Kind::Usage)
    }

    /// True when `present` / `absent` apply.
    pub fn is_text(self) -> bool {
        matches!(self.kind(), Kind::Label | Kind::Text)
    }

    /// A value of this field as a check writes it. Settable fields parse as a rule's `set`
    /// parses them (any status, not only those a spec may set); a provider is kept as its
    /// canonical name (`link+`); usage takes 0 and no `unlimited`.
    pub fn parse(self, raw: &RawScalar) -> Result<DesiredValue, ValueError> {
        match self {
            CheckField::Status => values::parse_status(raw).map(DesiredValue::Status),
            CheckField::MonthlyDataLimit => values::parse_data_limit(raw).map(DesiredValue::Limit),
            CheckField::MonthlySmsMoLimit | CheckField::MonthlySmsMtLimit => {
                values::parse_sms_limit(raw).map(DesiredValue::Limit)
            }
            CheckField::MonthlyVoiceMoLimit => {
                values::parse_voice_limit(raw).map(DesiredValue::Limit)
            }
            CheckField::CustomField1 | CheckField::EndCustomerLabel => {
                values::parse_text_or_none(raw, self.name()).map(DesiredValue::Text)
            }
            CheckField::ImeiLock => values::parse_imei_lock(raw).map(DesiredValue::ImeiLock),
            CheckField::Provider => values::parse_provider(raw)
                .map(|id| DesiredValue::Text(Some(values::format_provider(id)))),
            CheckField::Imei | CheckField::Imsi | CheckField::Msisdn if matches!(raw, RawScalar::Str(s) if s == "none") => {
                Ok(DesiredValue::Text(None))
            }
            CheckField::Imei => values::parse_imei(raw).map(|s| DesiredValue::Text(Some(s))),
            CheckField::Imsi => {
                values::parse_digits(raw, "IMSI").map(|s| DesiredValue::Text(Some(s)))
            }
            CheckField::Msisdn => {
                values::parse_digits(raw, "MSISDN").map(|s| DesiredValue::Text(Some(s)))
            }
            CheckField::Nwc | CheckField::Apn | CheckField::IpAddress => {
                values::parse_text_or_none(raw, self.name()).map(DesiredValue::Text)
            }
            CheckField::MonthlyDataVolume
            | CheckField::MonthlySmsMo
            | CheckField::MonthlySmsMt
            | CheckField::MonthlyVoiceMo
            | CheckField::PreviousMonthDataVolume => self.parse_usage(raw).map(DesiredValue::Limit),
        }
    }

    /// A usage bound: 0 or more, in the unit of the matching limit (bytes or a size for data,
    /// a count of SMS, seconds of voice); `unlimited` is not a usage.
    fn parse_usage(self, raw: &RawScalar) -> Result<Limit, ValueError> {
        let zero = match raw {
            RawScalar::Int(0) => true,
            RawScalar::Str(s) => values::parse_size(s).is_ok_and(|b| b == 0),
            _ => false,
        };
        if zero {
            return Ok(Limit::Value(0));
        }
        if matches!(raw, RawScalar::Str(s) if s.trim() == "unlimited") {
            return Err(ValueError::new(
                "`unlimited` is not a usage",
                "compare usage with a number (or a size for data), e.g. `at_most: 1GB`",
            ));
        }
        match self {
            CheckField::MonthlySmsMo | CheckField::MonthlySmsMt => values::parse_sms_limit(raw),
            CheckField::MonthlyVoiceMo => values::parse_voice_limit(raw),
            _ => values::parse_data_limit(raw),
        }
    }

    /// A value of this field as the spec writes it (`1.5GB`, `activated`, `link+`).
    pub fn format(self, value: &DesiredValue) -> String {
        match value {
            DesiredValue::Limit(limit) if self.is_bytes() => values::format_data_limit(*limit),
            // A provider is kept as its name, which is shown unquoted.
            DesiredValue::Text(Some(name)) if self == CheckField::Provider => name.clone(),
            _ => crate::spec::format_value(value),
        }
    }
}

impl From<Field> for CheckField {
    fn from(field: Field) -> CheckField {
        match field {
            Field::Status => CheckField::Status,
            Field::MonthlyDataLimit => CheckField::MonthlyDataLimit,
            Field::MonthlySmsMoLimit => CheckField::MonthlySmsMoLimit,
            Field::MonthlySmsMtLimit => CheckField::MonthlySmsMtLimit,
            Field::MonthlyVoiceMoLimit => CheckField::MonthlyVoiceMoLimit,
            Field::CustomField1 => CheckField::CustomField1,
            Field::EndCustomerLabel => CheckField::EndCustomerLabel,
            Field::ImeiLock => CheckField::ImeiLock,
        }
    }
}

impl fmt::Display for CheckField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names_and_settable_fields_keep_theirs() {
        for field in CheckField::ALL {
            let json = serde_json::to_value(field).unwrap();
            assert_eq!(json, serde_json::Value::from(field.name()), "{field:?}");
            assert_eq!(CheckField::from_name(field.name()), Some(field));
        }
        for field in Field::ALL {
            assert_eq!(CheckField::from(field).settable(), Some(field));
            assert_eq!(CheckField::from(field).name(), field.name());
        }
    }

    #[test]
    fn usage_takes_zero_and_units_but_not_unlimited() {
        let usage = CheckField::MonthlyDataVolume;
        let raw = |s: &str| RawScalar::Str(s.into());
        assert_eq!(
            usage.parse(&raw("1GB")),
            Ok(DesiredValue::Limit(Limit::Value(1_000_000_000)))
        );
        assert_eq!(
            usage.parse(&RawScalar::Int(0)),
            Ok(DesiredValue::Limit(Limit::Value(0)))
        );
        assert!(usage.parse(&raw("unlimited")).is_err());
        assert!(CheckField::MonthlySmsMo.parse(&raw("1GB")).is_err());
        assert_eq!(
            CheckField::Provider
                .parse(&RawScalar::Int(1))
                .map(|v| CheckField::Provider.format(&v)),
            Ok(values::format_provider(1))
        );
    }
}
