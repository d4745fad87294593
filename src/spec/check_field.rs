//! The fields a check may test: every field the API returns for a SIM, the eight a spec sets and
//! the ones only the network sets (provider, IMEI, IMSI, MSISDN, network data, this month's and
//! last month's usage).
//!
//! A check constrains the end state of a SIM, managed or not, so it may test what no rule can
//! set: the end state of a read-only field is its live value. Each field has a [`Kind`] that
//! says which forms of `expect` it takes and how its values are parsed, so that a check and a
//! rule read `1GB` the same way.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::desired::{DesiredValue, Field, Limit};
use crate::spec::values::{self, RawScalar, ValueError};

/// A field a check tests: one a spec sets, or one only the API sets. It is written (in the spec,
/// the plan and its schema) by its API name, `monthly_data_limit` or `monthly_data_volume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckField {
    Set(Field),
    ReadOnly(ReadOnlyField),
}

/// A field the API returns and no spec sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadOnlyField {
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

impl ReadOnlyField {
    pub const ALL: [ReadOnlyField; 12] = [
        ReadOnlyField::Provider,
        ReadOnlyField::Imei,
        ReadOnlyField::Imsi,
        ReadOnlyField::Msisdn,
        ReadOnlyField::Nwc,
        ReadOnlyField::Apn,
        ReadOnlyField::IpAddress,
        ReadOnlyField::MonthlyDataVolume,
        ReadOnlyField::MonthlySmsMo,
        ReadOnlyField::MonthlySmsMt,
        ReadOnlyField::MonthlyVoiceMo,
        ReadOnlyField::PreviousMonthDataVolume,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReadOnlyField::Provider => "provider",
            ReadOnlyField::Imei => "imei",
            ReadOnlyField::Imsi => "imsi",
            ReadOnlyField::Msisdn => "msisdn",
            ReadOnlyField::Nwc => "nwc",
            ReadOnlyField::Apn => "apn",
            ReadOnlyField::IpAddress => "ip_address",
            ReadOnlyField::MonthlyDataVolume => "monthly_data_volume",
            ReadOnlyField::MonthlySmsMo => "monthly_sms_mo",
            ReadOnlyField::MonthlySmsMt => "monthly_sms_mt",
            ReadOnlyField::MonthlyVoiceMo => "monthly_voice_mo",
            ReadOnlyField::PreviousMonthDataVolume => "previous_month_data_volume",
        }
    }

    fn kind(self) -> Kind {
        match self {
            ReadOnlyField::Provider => Kind::Provider,
            ReadOnlyField::Imei
            | ReadOnlyField::Imsi
            | ReadOnlyField::Msisdn
            | ReadOnlyField::Nwc
            | ReadOnlyField::Apn
            | ReadOnlyField::IpAddress => Kind::Text,
            ReadOnlyField::MonthlyDataVolume
            | ReadOnlyField::MonthlySmsMo
            | ReadOnlyField::MonthlySmsMt
            | ReadOnlyField::MonthlyVoiceMo
            | ReadOnlyField::PreviousMonthDataVolume => Kind::Usage,
        }
    }

    /// A value as a check writes it: a provider is kept as its canonical name (`link+`); usage
    /// takes 0 and no `unlimited`.
    fn parse(self, raw: &RawScalar) -> Result<DesiredValue, ValueError> {
        let text = |s: String| DesiredValue::Text(Some(s));
        match self {
            ReadOnlyField::Provider => values::parse_provider(raw)
                .map(|id| DesiredValue::Text(Some(values::format_provider(id)))),
            ReadOnlyField::Imei | ReadOnlyField::Imsi | ReadOnlyField::Msisdn if matches!(raw, RawScalar::Str(s) if s == "none") => {
                Ok(DesiredValue::Text(None))
            }
            ReadOnlyField::Imei => values::parse_imei(raw).map(text),
            ReadOnlyField::Imsi => values::parse_digits(raw, "IMSI").map(text),
            ReadOnlyField::Msisdn => values::parse_digits(raw, "MSISDN").map(text),
            ReadOnlyField::Nwc | ReadOnlyField::Apn | ReadOnlyField::IpAddress => {
                values::parse_text_or_none(raw, self.name()).map(DesiredValue::Text)
            }
            _ => self.parse_usage(raw).map(DesiredValue::Limit),
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
            ReadOnlyField::MonthlySmsMo | ReadOnlyField::MonthlySmsMt => {
                values::parse_sms_limit(raw)
            }
            ReadOnlyField::MonthlyVoiceMo => values::parse_voice_limit(raw),
            _ => values::parse_data_limit(raw),
        }
    }
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
    /// The field a spec can set under this name, or `None` for a read-only one.
    pub fn settable(self) -> Option<Field> {
        match self {
            CheckField::Set(field) => Some(field),
            CheckField::ReadOnly(_) => None,
        }
    }

    /// The spec's (and the API's) name of the field.
    pub fn name(self) -> &'static str {
        match self {
            CheckField::Set(field) => field.name(),
            CheckField::ReadOnly(field) => field.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<CheckField> {
        Field::from_name(name).map(CheckField::Set).or_else(|| {
            ReadOnlyField::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .map(CheckField::ReadOnly)
        })
    }

    pub fn kind(self) -> Kind {
        match self {
            CheckField::Set(Field::Status) => Kind::Status,
            CheckField::Set(
                Field::MonthlyDataLimit
                | Field::MonthlySmsMoLimit
                | Field::MonthlySmsMtLimit
                | Field::MonthlyVoiceMoLimit,
            ) => Kind::Limit,
            CheckField::Set(Field::CustomField1 | Field::EndCustomerLabel) => Kind::Label,
            CheckField::Set(Field::ImeiLock) => Kind::ImeiLock,
            CheckField::ReadOnly(field) => field.kind(),
        }
    }

    /// True for fields counted in bytes (shown as sizes: `1.5GB`).
    pub fn is_bytes(self) -> bool {
        matches!(
            self,
            CheckField::Set(Field::MonthlyDataLimit)
                | CheckField::ReadOnly(
                    ReadOnlyField::MonthlyDataVolume | ReadOnlyField::PreviousMonthDataVolume
                )
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

    /// A value of this field as a check writes it: a settable field as a rule's `set` parses
    /// it (any status, not only those a spec may set), a read-only one by its own kind.
    pub fn parse(self, raw: &RawScalar) -> Result<DesiredValue, ValueError> {
        match self {
            CheckField::Set(field) => values::parse_field(field, raw, values::parse_status),
            CheckField::ReadOnly(field) => field.parse(raw),
        }
    }

    /// A value of this field as the spec writes it (`1.5GB`, `activated`, `link+`).
    pub fn format(self, value: &DesiredValue) -> String {
        match value {
            DesiredValue::Limit(limit) if self.is_bytes() => values::format_data_limit(*limit),
            // A provider is kept as its name, which is shown unquoted.
            DesiredValue::Text(Some(name))
                if self == CheckField::ReadOnly(ReadOnlyField::Provider) =>
            {
                name.clone()
            }
            _ => crate::spec::format_value(value),
        }
    }
}

impl From<Field> for CheckField {
    fn from(field: Field) -> CheckField {
        CheckField::Set(field)
    }
}

impl From<ReadOnlyField> for CheckField {
    fn from(field: ReadOnlyField) -> CheckField {
        CheckField::ReadOnly(field)
    }
}

impl fmt::Display for CheckField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Written by name, as a [`Field`] is.
impl Serialize for CheckField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for CheckField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        CheckField::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown field `{name}`")))
    }
}

impl JsonSchema for CheckField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CheckField".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Field::ALL
            .iter()
            .map(|f| f.name())
            .chain(ReadOnlyField::ALL.iter().map(|f| f.name()))
            .collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names_and_settable_fields_keep_theirs() {
        let all = Field::ALL
            .into_iter()
            .map(CheckField::Set)
            .chain(ReadOnlyField::ALL.into_iter().map(CheckField::ReadOnly));
        for field in all {
            let json = serde_json::to_value(field).unwrap();
            assert_eq!(json, serde_json::Value::from(field.name()), "{field:?}");
            assert_eq!(serde_json::from_value::<CheckField>(json).unwrap(), field);
            assert_eq!(CheckField::from_name(field.name()), Some(field));
        }
        for field in ReadOnlyField::ALL {
            let json = serde_json::to_value(field).unwrap();
            assert_eq!(json, serde_json::Value::from(field.name()), "{field:?}");
            assert_eq!(Field::from_name(field.name()), None);
        }
    }

    #[test]
    fn usage_takes_zero_and_units_but_not_unlimited() {
        let usage = CheckField::ReadOnly(ReadOnlyField::MonthlyDataVolume);
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
        let sms = CheckField::ReadOnly(ReadOnlyField::MonthlySmsMo);
        assert!(sms.parse(&raw("1GB")).is_err());
        let provider = CheckField::ReadOnly(ReadOnlyField::Provider);
        assert_eq!(
            provider
                .parse(&RawScalar::Int(1))
                .map(|v| provider.format(&v)),
            Ok(values::format_provider(1))
        );
    }
}
