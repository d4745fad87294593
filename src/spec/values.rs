//! Exact parsers and formatters for the values a spec writes: sizes, limits, statuses,
//! providers, IMEI locks, labels, ICCIDs and IMEIs.
//!
//! They live apart from the YAML model so they can be tested exhaustively and reused for
//! `plan --target`. Sizes are computed with integer arithmetic only: a floating-point parser
//! would turn `2.01GB` into 2,009,999,999 bytes. Every error carries what is wrong and what to
//! write instead, so the loader can print both next to file:line:col.

use std::fmt;

use crate::fleet::tables;
use crate::spec::desired::{DesiredValue, Field, ImeiLockSetting, Limit};

/// The largest SMS limit: the SIM type reads SMS limits back as a GraphQL `Int`.
pub const MAX_SMS_LIMIT: i64 = i32::MAX as i64;

/// A value that a spec cannot use: what is wrong, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub message: String,
    pub help: String,
}

impl ValueError {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        ValueError {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.message, self.help)
    }
}

/// A YAML scalar as written, before it is given a meaning. Keeping numbers apart from strings
/// is what lets the loader say "quote it" for an ICCID YAML has already turned into a number.
#[derive(Debug, Clone, PartialEq)]
pub enum RawScalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

impl RawScalar {
    /// How the scalar reads in a message.
    pub fn describe(&self) -> String {
        match self {
            RawScalar::Null => "an empty value".to_string(),
            RawScalar::Bool(b) => format!("`{b}`"),
            RawScalar::Int(i) => format!("`{i}`"),
            RawScalar::Float(x) => format!("`{x}`"),
            RawScalar::Str(s) => format!("`{s}`"),
        }
    }
}

const UNITS: &[(&str, u128)] = &[
    ("B", 1),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

const UNIT_HELP: &str =
    "write whole bytes or a number with one of the case-sensitive units B, kB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 500MB, 1.5GB, 1GiB)";

/// Parses a size such as `1048576`, `500MB`, `1.5GB` or `1GiB` into bytes, exactly.
pub fn parse_size(text: &str) -> Result<i64, ValueError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim_start());
    if number.is_empty() {
        if text.starts_with('-') {
            return Err(ValueError::new(
                format!("`{text}` is negative"),
                "limits are positive; write `unlimited` for no limit",
            ));
        }
        return Err(ValueError::new(
            format!("`{text}` is not a size"),
            UNIT_HELP,
        ));
    }
    let multiplier = if unit.is_empty() {
        1
    } else {
        match UNITS.iter().find(|(name, _)| *name == unit) {
            Some((_, m)) => *m,
            None => {
                return Err(ValueError::new(
                    format!("`{unit}` in `{text}` is not a unit"),
                    UNIT_HELP,
                ))
            }
        }
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(ValueError::new(
            format!("`{text}` is not a number"),
            UNIT_HELP,
        ));
    }
    let too_large = || {
        ValueError::new(
            format!(
                "`{text}` is larger than the API's limit of {} bytes",
                i64::MAX
            ),
            "write a smaller limit, or `unlimited`",
        )
    };
    let fraction = fraction.trim_end_matches('0');
    // 39 digits overflow u128; anything near that is far beyond i64 anyway.
    if whole.trim_start_matches('0').len() > 20 || fraction.len() > 20 {
        return Err(too_large());
    }
    let whole_value: u128 = whole.parse().map_err(|_| too_large())?;
    let mut bytes = whole_value.checked_mul(multiplier).ok_or_else(too_large)?;
    if !fraction.is_empty() {
        let fraction_value: u128 = fraction.parse().map_err(|_| too_large())?;
        let scale = 10u128.pow(fraction.len() as u32);
        let scaled = fraction_value
            .checked_mul(multiplier)
            .ok_or_else(too_large)?;
        if scaled % scale != 0 {
            return Err(ValueError::new(
                format!("`{text}` is not a whole number of bytes"),
                "use fewer decimals or a smaller unit",
            ));
        }
        bytes = bytes.checked_add(scaled / scale).ok_or_else(too_large)?;
    }
    i64::try_from(bytes).map_err(|_| too_large())
}

/// Formats bytes as the shortest exact size: `500MB`, `1GiB`, `1.5GB`, or plain bytes.
pub fn format_size(bytes: i64) -> String {
    let mut best = bytes.to_string();
    if bytes <= 0 {
        return best;
    }
    let value = bytes as u128;
    for (unit, multiplier) in UNITS.iter().skip(1) {
        if value < *multiplier {
            continue;
        }
        let whole = value / multiplier;
        let rest = value % multiplier;
        let candidate = if rest == 0 {
            format!("{whole}{unit}")
        } else if multiplier % 10 == 0 {
            // Decimal units: show up to three decimals when they are exact.
            let thousandth = multiplier / 1000;
            if !rest.is_multiple_of(thousandth) {
                continue;
            }
            let digits = format!("{:03}", rest / thousandth);
            format!("{whole}.{}{unit}", digits.trim_end_matches('0'))
        } else {
            continue;
        };
        if candidate.len() <= best.len() {
            best = candidate;
        }
    }
    best
}

fn zero_limit_error() -> ValueError {
    ValueError::new(
        "a limit of 0 is ambiguous (the API reads 0 as \"no limit\" in batch jobs)",
        "write `unlimited`, or a positive limit",
    )
}

fn limit_from_int(value: i128, max: i64, what: &str) -> Result<Limit, ValueError> {
    if value == 0 {
        return Err(zero_limit_error());
    }
    if value < 0 {
        return Err(ValueError::new(
            format!("{what} `{value}` is negative"),
            "write a positive limit, or `unlimited`",
        ));
    }
    if value > max as i128 {
        return Err(ValueError::new(
            format!("{what} `{value}` is larger than the API allows ({max})"),
            format!("write at most {max}, or `unlimited`"),
        ));
    }
    Ok(Limit::Value(value as i64))
}

/// `monthly_data_limit`: bytes, a size with a unit, or `unlimited`.
pub fn parse_data_limit(raw: &RawScalar) -> Result<Limit, ValueError> {
    match raw {
        RawScalar::Int(i) => limit_from_int(*i, i64::MAX, "data limit"),
        RawScalar::Str(s) if s.trim() == "unlimited" => Ok(Limit::Unlimited),
        RawScalar::Str(s) => match parse_size(s)? {
            0 => Err(zero_limit_error()),
            bytes => Ok(Limit::Value(bytes)),
        },
        RawScalar::Float(_) => Err(ValueError::new(
            format!(
                "data limit {} is not a whole number of bytes",
                raw.describe()
            ),
            "add a unit, e.g. `1.5GB`",
        )),
        other => Err(ValueError::new(
            format!("data limit {} is not a size", other.describe()),
            format!("{UNIT_HELP}, or `unlimited`"),
        )),
    }
}

fn parse_count_limit(raw: &RawScalar, max: i64, what: &str) -> Result<Limit, ValueError> {
    match raw {
        RawScalar::Int(i) => limit_from_int(*i, max, what),
        RawScalar::Str(s) if s.trim() == "unlimited" => Ok(Limit::Unlimited),
        RawScalar::Str(s)
            if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            match s.trim().parse::<i128>() {
                Ok(i) => limit_from_int(i, max, what),
                Err(_) => limit_from_int(i128::MAX, max, what),
            }
        }
        other => Err(ValueError::new(
            format!("{what} {} is not a whole number", other.describe()),
            format!("write a whole number from 1 to {max}, or `unlimited`"),
        )),
    }
}

/// `monthly_sms_mo_limit` / `monthly_sms_mt_limit`: 1 ..= 2³¹−1 or `unlimited`.
pub fn parse_sms_limit(raw: &RawScalar) -> Result<Limit, ValueError> {
    parse_count_limit(raw, MAX_SMS_LIMIT, "SMS limit")
}

/// `monthly_voice_mo_limit`, in seconds: 1 ..= 2⁶³−1 or `unlimited`.
pub fn parse_voice_limit(raw: &RawScalar) -> Result<Limit, ValueError> {
    parse_count_limit(raw, i64::MAX, "voice limit (seconds)")
}

/// A limit as the spec would write it: `unlimited`, or the number.
pub fn format_limit(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "unlimited".to_string(),
        Limit::Value(v) => v.to_string(),
    }
}

/// A data limit as the spec would write it: `unlimited` or the shortest exact size.
pub fn format_data_limit(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "unlimited".to_string(),
        Limit::Value(v) => format_size(v),
    }
}

fn spec_name(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "-")
}

fn id_from(raw: &RawScalar) -> Option<i32> {
    match raw {
        RawScalar::Int(i) => i32::try_from(*i).ok(),
        _ => None,
    }
}

/// Any status, by name (`activated`, `Test Ready`, `test-ready`) or id, for matching.
pub fn parse_status(raw: &RawScalar) -> Result<i32, ValueError> {
    let known = || {
        tables::STATUSES
            .iter()
            .map(|(_, n)| spec_name(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let id = match raw {
        RawScalar::Str(s) => tables::status_id(s),
        other => id_from(other).filter(|id| tables::status_name(*id).is_some()),
    };
    id.ok_or_else(|| {
        ValueError::new(
            format!("{} is not a SIM status", raw.describe()),
            format!(
                "write a status name or id from the API reference: {}",
                known()
            ),
        )
    })
}

/// A status a spec may set: one of `tables::SETTABLE_STATUSES`.
pub fn parse_settable_status(raw: &RawScalar) -> Result<i32, ValueError> {
    let id = parse_status(raw)?;
    if tables::SETTABLE_STATUSES.contains(&id) {
        return Ok(id);
    }
    let settable = tables::SETTABLE_STATUSES
        .iter()
        .map(|id| format_status(*id))
        .collect::<Vec<_>>()
        .join(", ");
    Err(ValueError::new(
        format!(
            "status {} cannot be set by simfleet",
            tables::status_label(id)
        ),
        format!("a spec may set: {settable}"),
    ))
}

/// A status id as the spec writes it: `test-ready`, or the id when unknown.
pub fn format_status(id: i32) -> String {
    match tables::status_name(id) {
        Some(name) => spec_name(name),
        None => id.to_string(),
    }
}

/// A provider (product) by name (`link+`, `tech+ pro`) or id.
pub fn parse_provider(raw: &RawScalar) -> Result<i32, ValueError> {
    let id = match raw {
        RawScalar::Str(s) => tables::provider_id(s),
        other => id_from(other).filter(|id| tables::provider_name(*id).is_some()),
    };
    id.ok_or_else(|| {
        let known = tables::PROVIDERS
            .iter()
            .map(|(id, n)| format!("{n} ({id})"))
            .collect::<Vec<_>>()
            .join(", ");
        ValueError::new(
            format!("{} is not a provider", raw.describe()),
            format!("write a provider name or id: {known}"),
        )
    })
}

/// A provider id as the spec writes it: `link+`.
pub fn format_provider(id: i32) -> String {
    match tables::provider_name(id) {
        Some(name) => name.to_string(),
        None => id.to_string(),
    }
}

/// True when the digits end in a valid Luhn check digit.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn quote_it(what: &str, raw: &RawScalar) -> ValueError {
    // A float has already lost digits: showing it would mislead.
    let (written, shown) = match raw {
        RawScalar::Int(i) => (format!("`{i}`"), format!("\"{i}\"")),
        _ => (
            "too long for a YAML number".to_string(),
            "\"8949...\"".to_string(),
        ),
    };
    ValueError::new(
        format!("{what} is written as a number ({written})"),
        format!("quote it, e.g. {shown}: YAML numbers lose leading zeros and precision"),
    )
}

fn digits_string<'a>(raw: &'a RawScalar, what: &str) -> Result<&'a str, ValueError> {
    match raw {
        RawScalar::Str(s) => Ok(s.as_str()),
        RawScalar::Int(_) | RawScalar::Float(_) => Err(quote_it(what, raw)),
        other => Err(ValueError::new(
            format!("{what} {} is not a string of digits", other.describe()),
            format!("write the {what} in quotes"),
        )),
    }
}

/// A full ICCID: 19–20 digits, with a Luhn check digit when `luhn_check` is on.
pub fn parse_iccid(raw: &RawScalar, luhn_check: bool) -> Result<String, ValueError> {
    let text = digits_string(raw, "ICCID")?;
    check_iccid(text, luhn_check)?;
    Ok(text.to_string())
}

/// Checks an ICCID already known to be a string.
pub fn check_iccid(text: &str, luhn_check: bool) -> Result<(), ValueError> {
    if !crate::fleet::well_formed_iccid(text) {
        return Err(ValueError::new(
            format!("ICCID \"{text}\" is not 19–20 digits"),
            "write the full ICCID as printed on the SIM, or match a range with `iccid: {prefix: \"8949...\"}`",
        ));
    }
    if luhn_check && !luhn_valid(text) {
        return Err(ValueError::new(
            format!("ICCID \"{text}\" fails its Luhn check digit"),
            "check for a typo; if your ICCIDs carry no check digit, set `luhn_check: false` in simfleet.yaml",
        ));
    }
    Ok(())
}

/// An IMEI: 15 digits with a valid Luhn check digit.
pub fn parse_imei(raw: &RawScalar) -> Result<String, ValueError> {
    let text = digits_string(raw, "IMEI")?;
    if text.len() != 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::new(
            format!("IMEI \"{text}\" is not 15 digits"),
            "write the device's 15-digit IMEI (without the software version)",
        ));
    }
    if !luhn_valid(text) {
        return Err(ValueError::new(
            format!("IMEI \"{text}\" fails its Luhn check digit"),
            "check the IMEI for a typo",
        ));
    }
    Ok(text.to_string())
}

/// A `{prefix: ...}` of an ICCID, IMEI, IMSI or MSISDN: digits only, no Luhn check.
pub fn parse_digit_prefix(raw: &RawScalar, what: &str) -> Result<String, ValueError> {
    let text = digits_string(raw, what)?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::new(
            format!("{what} prefix \"{text}\" is not digits"),
            format!("write the leading digits of the {what} in quotes"),
        ));
    }
    Ok(text.to_string())
}

/// An IMSI or MSISDN to match: a quoted string of digits.
pub fn parse_digits(raw: &RawScalar, what: &str) -> Result<String, ValueError> {
    parse_digit_prefix(raw, what)
}

/// `imei_lock`: `off`, `auto`, or a quoted 15-digit IMEI.
pub fn parse_imei_lock(raw: &RawScalar) -> Result<ImeiLockSetting, ValueError> {
    match raw {
        RawScalar::Str(s) if s.trim() == "off" => Ok(ImeiLockSetting::Off),
        RawScalar::Str(s) if s.trim() == "auto" => Ok(ImeiLockSetting::Auto),
        RawScalar::Str(s) if s.bytes().any(|b| !b.is_ascii_digit()) => Err(ValueError::new(
            format!("`{s}` is not an IMEI lock"),
            "write `off`, `auto`, or a quoted 15-digit IMEI",
        )),
        RawScalar::Bool(_) | RawScalar::Null => Err(ValueError::new(
            format!("{} is not an IMEI lock", raw.describe()),
            "write `off`, `auto`, or a quoted 15-digit IMEI",
        )),
        other => parse_imei(other).map(ImeiLockSetting::Imei),
    }
}

/// A value of a settable field as a spec writes it: the one parser a rule's `set`, a `sims:`
/// entry and a check's `expect` share. `status` says which statuses are accepted (a rule may
/// set only some, a check may expect any).
pub fn parse_field(
    field: Field,
    raw: &RawScalar,
    status: fn(&RawScalar) -> Result<i32, ValueError>,
) -> Result<DesiredValue, ValueError> {
    match field {
        Field::Status => status(raw).map(DesiredValue::Status),
        Field::MonthlyDataLimit => parse_data_limit(raw).map(DesiredValue::Limit),
        Field::MonthlySmsMoLimit | Field::MonthlySmsMtLimit => {
            parse_sms_limit(raw).map(DesiredValue::Limit)
        }
        Field::MonthlyVoiceMoLimit => parse_voice_limit(raw).map(DesiredValue::Limit),
        Field::CustomField1 | Field::EndCustomerLabel => {
            parse_text_or_none(raw, field.name()).map(DesiredValue::Text)
        }
        Field::ImeiLock => parse_imei_lock(raw).map(DesiredValue::ImeiLock),
    }
}

/// How an IMEI lock is written in a spec.
pub fn format_imei_lock(lock: &ImeiLockSetting) -> String {
    match lock {
        ImeiLockSetting::Off => "off".to_string(),
        ImeiLockSetting::Auto => "auto".to_string(),
        ImeiLockSetting::Imei(imei) => format!("\"{imei}\""),
    }
}

/// `custom_field_1` / `end_customer_label`: text, or `none` to remove it (`Ok(None)`).
pub fn parse_text_or_none(raw: &RawScalar, what: &str) -> Result<Option<String>, ValueError> {
    match raw {
        RawScalar::Str(s) if s == "none" => Ok(None),
        RawScalar::Str(s) if s.trim().is_empty() => Err(ValueError::new(
            format!("{what} is an empty string"),
            "write `none` to remove the value",
        )),
        RawScalar::Str(s) => Ok(Some(s.clone())),
        RawScalar::Null => Err(ValueError::new(
            format!("{what} has no value"),
            "write `none` to remove the value, or the text to set",
        )),
        other => Err(ValueError::new(
            format!("{what} {} is not text", other.describe()),
            "quote it to set it as text",
        )),
    }
}

/// Text (or `none`) as the spec writes it.
pub fn format_text(text: Option<&str>) -> String {
    match text {
        None => "none".to_string(),
        Some(t) => format!("\"{t}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> RawScalar {
        RawScalar::Str(text.to_string())
    }

    #[test]
    fn sizes_are_exact() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("2.01GB"), Ok(2_010_000_000));
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("0.5KiB"), Ok(512));
        assert_eq!(parse_size("1.000GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("12 kB"), Ok(12_000));
        assert_eq!(parse_size("7B"), Ok(7));
        assert_eq!(parse_size("8TiB"), Ok(8 << 40));
    }

    #[test]
    fn sizes_reject_what_is_not_exact() {
        for bad in [
            "500mb", "1gb", "1KB", "1Gb", "1.5B", "0.3KiB", "abc", "-5MB", "1..5GB", "1.GB",
            ".5GB", "5 M B", "",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} should fail");
        }
        assert!(parse_size("8388608TiB").is_err(), "beyond i64");
        assert!(parse_size("99999999999999999999999999999999999999999").is_err());
        assert_eq!(parse_size("9223372036854775807"), Ok(i64::MAX));
        assert!(parse_size("9223372036854775808").is_err());
        let message = parse_size("1mb").unwrap_err();
        assert!(message.help.contains("case-sensitive"), "{message}");
    }

    #[test]
    fn sizes_format_then_parse_back() {
        let cases = [
            (500_000_000, "500MB"),
            (1 << 30, "1GiB"),
            (1_500_000_000, "1.5GB"),
            (1_048_576, "1MiB"),
            (1234, "1234"),
            (12_340_000, "12.34MB"),
            (1_000, "1kB"),
            (7, "7"),
            (1_073_741_825, "1073741825"),
        ];
        for (bytes, text) in cases {
            assert_eq!(format_size(bytes), text);
            assert_eq!(parse_size(text), Ok(bytes));
        }
        for bytes in [1, 999, 1001, 123_456_789, 2_010_000_000, i64::MAX, 3 << 41] {
            assert_eq!(parse_size(&format_size(bytes)), Ok(bytes), "{bytes}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_size_formats_and_parses_back(bytes in 1i64..=i64::MAX) {
            proptest::prop_assert_eq!(parse_size(&format_size(bytes)), Ok(bytes));
        }

        #[test]
        fn decimal_sizes_are_exact(whole in 0i64..1_000_000, milli in 0i64..1000) {
            let text = format!("{whole}.{milli:03}GB");
            proptest::prop_assert_eq!(
                parse_size(&text),
                Ok(whole * 1_000_000_000 + milli * 1_000_000)
            );
        }
    }

    #[test]
    fn data_limits() {
        assert_eq!(parse_data_limit(&s("unlimited")), Ok(Limit::Unlimited));
        assert_eq!(parse_data_limit(&s("500MB")), Ok(Limit::Value(500_000_000)));
        assert_eq!(parse_data_limit(&RawScalar::Int(42)), Ok(Limit::Value(42)));
        let zero = parse_data_limit(&RawScalar::Int(0)).unwrap_err();
        assert!(zero.help.contains("write `unlimited`, or a positive limit"));
        assert!(parse_data_limit(&s("0GB")).is_err());
        assert!(parse_data_limit(&RawScalar::Int(-1)).is_err());
        assert!(parse_data_limit(&RawScalar::Float(1.5)).is_err());
        assert!(parse_data_limit(&RawScalar::Int(i64::MAX as i128 + 1)).is_err());
        for limit in [Limit::Unlimited, Limit::Value(1 << 30), Limit::Value(12345)] {
            assert_eq!(parse_data_limit(&s(&format_data_limit(limit))), Ok(limit));
        }
    }

    #[test]
    fn sms_and_voice_ranges() {
        assert_eq!(
            parse_sms_limit(&RawScalar::Int(MAX_SMS_LIMIT as i128)),
            Ok(Limit::Value(MAX_SMS_LIMIT))
        );
        assert!(parse_sms_limit(&RawScalar::Int(MAX_SMS_LIMIT as i128 + 1)).is_err());
        assert!(parse_sms_limit(&RawScalar::Int(0)).is_err());
        assert!(parse_sms_limit(&RawScalar::Int(-3)).is_err());
        assert!(parse_sms_limit(&s("100MB")).is_err());
        assert_eq!(parse_sms_limit(&s("unlimited")), Ok(Limit::Unlimited));
        assert_eq!(
            parse_voice_limit(&RawScalar::Int(i64::MAX as i128)),
            Ok(Limit::Value(i64::MAX))
        );
        assert!(parse_voice_limit(&RawScalar::Int(i64::MAX as i128 + 1)).is_err());
        assert!(parse_voice_limit(&s("99999999999999999999999")).is_err());
        for limit in [Limit::Unlimited, Limit::Value(600)] {
            assert_eq!(parse_voice_limit(&s(&format_limit(limit))), Ok(limit));
        }
    }

    #[test]
    fn statuses_and_providers() {
        assert_eq!(parse_status(&s("Test Ready")), Ok(6));
        assert_eq!(parse_status(&s("test-ready")), Ok(6));
        assert_eq!(parse_status(&RawScalar::Int(20)), Ok(20));
        assert!(parse_status(&RawScalar::Int(21)).is_err());
        assert!(parse_status(&s("activate")).is_err());
        assert_eq!(parse_settable_status(&s("activated")), Ok(2));
        let err = parse_settable_status(&s("deleted")).unwrap_err();
        assert!(err.help.contains("activated"), "{err}");
        for id in crate::fleet::tables::SETTABLE_STATUSES {
            assert_eq!(parse_settable_status(&s(&format_status(*id))), Ok(*id));
        }
        assert_eq!(parse_provider(&s("link+")), Ok(5));
        assert_eq!(parse_provider(&s("Tech+ Pro")), Ok(2));
        assert_eq!(parse_provider(&RawScalar::Int(4)), Ok(4));
        assert!(parse_provider(&s("link")).is_err());
        assert!(parse_provider(&RawScalar::Int(6)).is_err());
        for (id, _) in crate::fleet::tables::PROVIDERS {
            assert_eq!(parse_provider(&s(&format_provider(*id))), Ok(*id));
        }
    }

    #[test]
    fn iccids_and_imeis() {
        assert_eq!(
            parse_iccid(&s("89490200001234567892"), true),
            Ok("89490200001234567892".to_string())
        );
        assert!(parse_iccid(&s("89490200001234567895"), true).is_err());
        assert!(parse_iccid(&s("89490200001234567895"), false).is_ok());
        assert!(parse_iccid(&s("894902000012345678"), false).is_err());
        assert!(parse_iccid(&s("8949020000123456789a"), false).is_err());
        let number = parse_iccid(&RawScalar::Int(8949020000123456789), true).unwrap_err();
        assert!(number.help.contains("quote"), "{number}");
        assert!(parse_iccid(&RawScalar::Float(8.9e19), true).is_err());
        assert_eq!(
            parse_imei(&s("356938035643809")),
            Ok("356938035643809".to_string())
        );
        assert!(parse_imei(&s("356938035643808")).is_err());
        assert!(parse_imei(&s("35693803564380")).is_err());
        assert!(parse_imei(&RawScalar::Int(356938035643809)).is_err());
        assert_eq!(parse_digit_prefix(&s("8949"), "ICCID"), Ok("8949".into()));
        assert!(parse_digit_prefix(&RawScalar::Int(8949), "ICCID").is_err());
    }

    #[test]
    fn imei_locks_and_text() {
        assert_eq!(parse_imei_lock(&s("off")), Ok(ImeiLockSetting::Off));
        assert_eq!(parse_imei_lock(&s("auto")), Ok(ImeiLockSetting::Auto));
        assert_eq!(
            parse_imei_lock(&s("356938035643809")),
            Ok(ImeiLockSetting::Imei("356938035643809".into()))
        );
        assert!(parse_imei_lock(&s("on")).is_err());
        assert!(parse_imei_lock(&RawScalar::Bool(false)).is_err());
        assert!(parse_imei_lock(&RawScalar::Int(356938035643809)).is_err());
        for lock in [
            ImeiLockSetting::Off,
            ImeiLockSetting::Auto,
            ImeiLockSetting::Imei("356938035643809".into()),
        ] {
            let text = format_imei_lock(&lock);
            assert_eq!(parse_imei_lock(&s(text.trim_matches('"'))), Ok(lock));
        }
        assert_eq!(parse_text_or_none(&s("none"), "label"), Ok(None));
        assert_eq!(
            parse_text_or_none(&s("ACME"), "label"),
            Ok(Some("ACME".into()))
        );
        assert!(parse_text_or_none(&s(""), "label").is_err());
        assert!(parse_text_or_none(&RawScalar::Null, "label").is_err());
        assert!(parse_text_or_none(&RawScalar::Int(17), "label").is_err());
    }
}
