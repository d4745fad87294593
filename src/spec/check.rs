//! Checks: fleet-wide policies a spec states about the end state of the SIMs it selects
//! (`checks:`), validated into [`Check`] values with file:line:col.
//!
//! A check is data here; the plan evaluates it (the rules of meaning, such as "`unlimited` equals
//! a live 0", belong to the plan). Every value of an `expect` is parsed by the same parser as the
//! `set` of a rule for that field, so a check and a rule cannot read `1GB` differently. Every
//! problem of a check is reported, not only the first.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::build::FileCx;
use crate::spec::check_field::{CheckField, Kind, ReadOnlyField};
use crate::spec::desired::{DesiredValue, Field};
use crate::spec::matcher::{Condition, MatchKey, Matcher, Test};
use crate::spec::model::{
    AtMostDocument, CheckDocument, ExpectDocument, ExpectForm, ExpectOps, LimitDocument, LimitOps,
    Located, MatchForm, WaiverDocument,
};
use crate::spec::values::{self, RawScalar};

/// How much a failing check matters: `warn` is reported, `deny` blocks the plan (exit 3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckLevel {
    Warn,
    Deny,
}

/// What one field of a selected SIM's end state must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// One of these values (a single value: equals).
    AnyOf(Vec<DesiredValue>),
    /// None of these values (`not: x` is `none_of: [x]`).
    NoneOf(Vec<DesiredValue>),
    /// A limit at or below this one (`unlimited` is above every number).
    AtMost(crate::spec::Limit),
    /// A limit at or above this one.
    AtLeast(crate::spec::Limit),
    /// A text field with a value.
    Present,
    /// A text field without a value.
    Absent,
}

/// What a `limit` counts among the selected SIMs the plan changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Counted {
    /// SIMs on which the field changes (an implied status change included).
    Field(Field),
    /// SIMs whose status changes to one of these.
    StatusTo(Vec<i32>),
    /// SIMs whose enabled IMEI lock is turned off.
    ImeiUnlocks,
}

/// A `limit`'s ceiling: a number of SIMs, or a percentage of the SIMs the check selects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Count(u64),
    Percent(f64),
}

impl Bound {
    /// The most SIMs allowed out of `selected`.
    pub fn ceiling(self, selected: u64) -> u64 {
        match self {
            Bound::Count(n) => n,
            // Rounded down: 10 % of 15 SIMs allows 1.
            Bound::Percent(p) => (p / 100.0 * selected as f64).floor() as u64,
        }
    }
}

/// One constraint on the change.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeLimit {
    pub counted: Counted,
    pub at_most: Bound,
}

impl ChangeLimit {
    /// `monthly_data_limit changes`, `status to suspended, deactivated`, `IMEI unlocks`.
    pub fn describe(&self) -> String {
        match &self.counted {
            Counted::Field(field) => format!("{field} changes"),
            Counted::StatusTo(ids) => format!(
                "status changes to {}",
                ids.iter()
                    .map(|id| values::format_status(*id))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Counted::ImeiUnlocks => "IMEI unlocks".to_string(),
        }
    }
}

/// A validated check.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub level: CheckLevel,
    pub message: String,
    /// Where the check's name is written.
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub select: Matcher,
    /// Every field's test; a SIM passes when all hold. Empty for a `limit` check.
    pub expect: Vec<(CheckField, Expectation)>,
    /// Constraints on the change; empty for an `expect` check.
    pub limits: Vec<ChangeLimit>,
}

impl Check {
    /// `fleet/checks.yaml:3:11`
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }
}

impl FileCx<'_> {
    /// A check, or `None` when it has errors (which are recorded).
    pub fn check(&mut self, doc: &Located<CheckDocument>) -> Option<Check> {
        let check = &doc.value;
        let errors_before = self.diagnostics_len();
        let owner_at = (doc.line, doc.col);
        self.unknown_keys(&check.unknown, CheckDocument::KEYS);
        let (name, at) = self.check_name(check, owner_at);
        let owner = format!("check `{name}`");
        let level = self.check_level(check, &owner, owner_at);
        let message = match &check.message {
            Some(m) if !m.value.trim().is_empty() => m.value.trim().to_string(),
            Some(m) => {
                self.error(
                    (m.line, m.col),
                    format!("{owner} has an empty `message`"),
                    "say in words what the check asks for: it is shown with every failure",
                );
                String::new()
            }
            None => {
                self.error(
                    owner_at,
                    format!("{owner} has no `message`"),
                    "add `message:` saying in words what the check asks for",
                );
                String::new()
            }
        };
        let select = self.matcher(check.select.as_ref(), &owner, owner_at);
        let (expect, limits) = self.check_assertion(check, &owner, owner_at);
        if self.diagnostics_len() > errors_before {
            return None;
        }
        Some(Check {
            name,
            level: level?,
            message,
            file: self.file.to_string(),
            line: at.0,
            col: at.1,
            select: select?.0,
            expect,
            limits,
        })
    }

    fn check_name(&mut self, check: &CheckDocument, owner_at: (u32, u32)) -> (String, (u32, u32)) {
        match &check.name {
            Some(name) if !name.value.trim().is_empty() => {
                (name.value.trim().to_string(), (name.line, name.col))
            }
            Some(name) => {
                self.error(
                    (name.line, name.col),
                    "the check's name is empty",
                    "give every check a unique name (plans cite it)",
                );
                (String::new(), (name.line, name.col))
            }
            None => {
                self.error(
                    owner_at,
                    "the check has no `name`",
                    "give every check a unique `name:` (plans cite it)",
                );
                (String::new(), owner_at)
            }
        }
    }

    fn check_level(
        &mut self,
        check: &CheckDocument,
        owner: &str,
        owner_at: (u32, u32),
    ) -> Option<CheckLevel> {
        const HELP: &str =
            "write `level: warn` (reported) or `level: deny` (blocks the plan, exit 3)";
        match &check.level {
            None => {
                self.error(owner_at, format!("{owner} has no `level`"), HELP);
                None
            }
            Some(l) => match &l.value {
                RawScalar::Str(s) if s == "warn" => Some(CheckLevel::Warn),
                RawScalar::Str(s) if s == "deny" => Some(CheckLevel::Deny),
                other => {
                    self.error(
                        (l.line, l.col),
                        format!(
                            "{owner}: `level: {}` is not a level",
                            other.describe().trim_matches('`')
                        ),
                        HELP,
                    );
                    None
                }
            },
        }
    }

    /// The check's one assertion: `expect` or `limit`.
    fn check_assertion(
        &mut self,
        check: &CheckDocument,
        owner: &str,
        owner_at: (u32, u32),
    ) -> (Vec<(CheckField, Expectation)>, Vec<ChangeLimit>) {
        match (&check.expect, &check.limit) {
            (Some(_), Some(limit)) => {
                self.error(
                    (limit.line, limit.col),
                    format!("{owner} has both `expect` and `limit`"),
                    "a check has exactly one assertion: split it into two checks",
                );
                (Vec::new(), Vec::new())
            }
            (None, None) => {
                self.error(
                    owner_at,
                    format!("{owner} has neither `expect` nor `limit`"),
                    "add `expect:` (the end state of every selected SIM) or `limit:` (how much the plan may change them)",
                );
                (Vec::new(), Vec::new())
            }
            (Some(expect), None) => (self.expectations(expect, owner), Vec::new()),
            (None, Some(limit)) => (Vec::new(), self.limits(limit, owner)),
        }
    }

    fn limits(&mut self, doc: &Located<LimitDocument>, owner: &str) -> Vec<ChangeLimit> {
        let l = &doc.value;
        // A read-only field is a known key with a specific error: no spec changes it.
        let (read_only, unknown): (Vec<_>, Vec<_>) = l.unknown.iter().cloned().partition(|key| {
            CheckField::from_name(&key.value).is_some_and(|f| f.settable().is_none())
        });
        for key in &read_only {
            self.error(
                (key.line, key.col),
                format!("{owner}: `{}` is read-only, no spec can change it", key.value),
                "a limit counts changes the plan makes: limit a field a rule sets, or test this one with `expect`",
            );
        }
        self.unknown_keys(&unknown, LimitDocument::KEYS);
        let fields = [
            (Some(Field::Status), &l.status),
            (Some(Field::MonthlyDataLimit), &l.monthly_data_limit),
            (Some(Field::MonthlySmsMoLimit), &l.monthly_sms_mo_limit),
            (Some(Field::MonthlySmsMtLimit), &l.monthly_sms_mt_limit),
            (Some(Field::MonthlyVoiceMoLimit), &l.monthly_voice_mo_limit),
            (Some(Field::CustomField1), &l.custom_field_1),
            (Some(Field::EndCustomerLabel), &l.end_customer_label),
            (Some(Field::ImeiLock), &l.imei_lock),
            (None, &l.imei_unlocks),
        ];
        let mut out = Vec::new();
        for (field, ops) in fields {
            let Some(ops) = ops else { continue };
            if let Some(limit) = self.limit(field, ops) {
                out.push(limit);
            }
        }
        if fields.iter().all(|(_, v)| v.is_none()) && l.unknown.is_empty() {
            self.error(
                (doc.line, doc.col),
                format!("{owner} limits nothing"),
                "write e.g. `limit: { imei_unlocks: { at_most: 10 } }`",
            );
        }
        out
    }

    /// One `limit` field (`None` for `imei_unlocks`).
    fn limit(&mut self, field: Option<Field>, ops: &Located<LimitOps>) -> Option<ChangeLimit> {
        let at = (ops.line, ops.col);
        let o = &ops.value;
        self.unknown_keys(&o.unknown, LimitOps::KEYS);
        let name = field.map_or("imei_unlocks", Field::name);
        let form = (field, &o.changes, &o.to, &o.at_most);
        let (counted, bound) = match form {
            (Some(field), Some(changes), None, None) => {
                self.unknown_keys(&changes.value.unknown, AtMostDocument::KEYS);
                let Some(bound) = &changes.value.at_most else {
                    self.error(
                        (changes.line, changes.col),
                        format!("{name}: `changes` has no `at_most`"),
                        "write `changes: { at_most: 10 }` or `changes: { at_most: \"5%\" }`",
                    );
                    return None;
                };
                (Counted::Field(field), bound)
            }
            (Some(Field::Status), None, Some(to), Some(bound)) => {
                let ids = self.statuses(&to.value.form, (to.line, to.col))?;
                (Counted::StatusTo(ids), bound)
            }
            (None, None, None, Some(bound)) => (Counted::ImeiUnlocks, bound),
            _ => {
                let help = match field {
                    None => "write `imei_unlocks: { at_most: 10 }`",
                    Some(Field::Status) => "write `status: { changes: { at_most: 50 } }` or `status: { to: [deactivated, suspended], at_most: 50 }`",
                    Some(_) => "write `<field>: { changes: { at_most: 10 } }` (or `\"5%\"`)",
                };
                if o.unknown.is_empty() {
                    self.error(at, format!("{name}: not a limit"), help);
                }
                return None;
            }
        };
        let at_most = self.bound(name, bound)?;
        Some(ChangeLimit { counted, at_most })
    }

    fn statuses(&mut self, form: &MatchForm, at: (u32, u32)) -> Option<Vec<i32>> {
        let items: Vec<(RawScalar, (u32, u32))> = match form {
            MatchForm::One(raw) => vec![(raw.clone(), at)],
            MatchForm::Many(items) => items
                .iter()
                .map(|i| (i.value.clone(), (i.line, i.col)))
                .collect(),
            MatchForm::Prefix(p) => {
                self.error(
                    (p.line, p.col),
                    "status: `prefix` does not apply to statuses",
                    "list the statuses",
                );
                return None;
            }
        };
        let mut ids = Vec::new();
        let mut ok = !items.is_empty();
        for (raw, at) in items {
            match values::parse_status(&raw) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    self.value_error(at, "status", e);
                    ok = false;
                }
            }
        }
        ok.then_some(ids)
    }

    fn bound(&mut self, name: &str, raw: &Located<RawScalar>) -> Option<Bound> {
        let at = (raw.line, raw.col);
        let bound = match &raw.value {
            RawScalar::Int(n) => u64::try_from(*n).ok().map(Bound::Count),
            RawScalar::Str(s) => s
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<f64>().ok())
                .filter(|p| (0.0..=100.0).contains(p))
                .map(Bound::Percent),
            _ => None,
        };
        if bound.is_none() {
            self.error(
                at,
                format!(
                    "{name}: `at_most: {}` is not a count or a percentage",
                    raw.value.describe().trim_matches('`')
                ),
                "write a number of SIMs (0 or more) or a percentage in quotes, e.g. \"5%\"",
            );
        }
        bound
    }

    fn expectations(
        &mut self,
        doc: &Located<ExpectDocument>,
        owner: &str,
    ) -> Vec<(CheckField, Expectation)> {
        let e = &doc.value;
        self.unknown_keys(&e.unknown, ExpectDocument::KEYS);
        let written = [
            (Field::Status.into(), &e.status),
            (Field::MonthlyDataLimit.into(), &e.monthly_data_limit),
            (Field::MonthlySmsMoLimit.into(), &e.monthly_sms_mo_limit),
            (Field::MonthlySmsMtLimit.into(), &e.monthly_sms_mt_limit),
            (Field::MonthlyVoiceMoLimit.into(), &e.monthly_voice_mo_limit),
            (Field::CustomField1.into(), &e.custom_field_1),
            (Field::EndCustomerLabel.into(), &e.end_customer_label),
            (Field::ImeiLock.into(), &e.imei_lock),
            (ReadOnlyField::Provider.into(), &e.provider),
            (ReadOnlyField::Imei.into(), &e.imei),
            (ReadOnlyField::Imsi.into(), &e.imsi),
            (ReadOnlyField::Msisdn.into(), &e.msisdn),
            (ReadOnlyField::Nwc.into(), &e.nwc),
            (ReadOnlyField::Apn.into(), &e.apn),
            (ReadOnlyField::IpAddress.into(), &e.ip_address),
            (
                ReadOnlyField::MonthlyDataVolume.into(),
                &e.monthly_data_volume,
            ),
            (ReadOnlyField::MonthlySmsMo.into(), &e.monthly_sms_mo),
            (ReadOnlyField::MonthlySmsMt.into(), &e.monthly_sms_mt),
            (ReadOnlyField::MonthlyVoiceMo.into(), &e.monthly_voice_mo),
            (
                ReadOnlyField::PreviousMonthDataVolume.into(),
                &e.previous_month_data_volume,
            ),
        ];
        let mut out = Vec::new();
        for (field, value) in written {
            let Some(value) = value else { continue };
            if let Some(expectation) =
                self.expectation(field, value.value.0.clone(), (value.line, value.col))
            {
                out.push((field, expectation));
            }
        }
        if out.is_empty() && written.iter().all(|(_, v)| v.is_none()) && e.unknown.is_empty() {
            self.error(
                (doc.line, doc.col),
                format!("{owner} expects nothing"),
                format!(
                    "list at least one field under `expect:` ({})",
                    ExpectDocument::KEYS.join(", ")
                ),
            );
        }
        out
    }

    /// One value of `field`, its error recorded at `at`.
    fn expected_value(
        &mut self,
        field: CheckField,
        raw: &RawScalar,
        at: (u32, u32),
    ) -> Option<DesiredValue> {
        match field.parse(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.value_error(at, field.name(), e);
                None
            }
        }
    }

    fn values_of(
        &mut self,
        field: CheckField,
        items: &[Located<RawScalar>],
        at: (u32, u32),
    ) -> Option<Vec<DesiredValue>> {
        if items.is_empty() {
            self.error(
                at,
                format!("{field}: an empty list"),
                "list at least one value",
            );
            return None;
        }
        let parsed: Vec<Option<DesiredValue>> = items
            .iter()
            .map(|item| self.expected_value(field, &item.value, (item.line, item.col)))
            .collect();
        parsed.into_iter().collect()
    }

    /// Usage is compared, never equated: an error for `equals`, `any of` and `none of`.
    fn equality_allowed(&mut self, field: CheckField, at: (u32, u32)) -> bool {
        if field.kind() != Kind::Usage {
            return true;
        }
        self.error(
            at,
            format!("{field}: usage is compared with `at_most` or `at_least`"),
            format!("write e.g. `{field}: {{ at_most: ... }}`"),
        );
        false
    }

    fn expectation(
        &mut self,
        field: CheckField,
        form: ExpectForm,
        at: (u32, u32),
    ) -> Option<Expectation> {
        match form {
            ExpectForm::One(raw) => {
                if !self.equality_allowed(field, at) {
                    return None;
                }
                let value = self.expected_value(field, &raw, at)?;
                Some(Expectation::AnyOf(vec![value]))
            }
            ExpectForm::Many(items) => {
                if !self.equality_allowed(field, at) {
                    return None;
                }
                self.values_of(field, &items, at).map(Expectation::AnyOf)
            }
            ExpectForm::Ops(ops) => self.operator(field, &ops, at),
        }
    }

    fn operator(
        &mut self,
        field: CheckField,
        ops: &ExpectOps,
        at: (u32, u32),
    ) -> Option<Expectation> {
        self.unknown_keys(&ops.unknown, ExpectOps::KEYS);
        let count = [
            ops.none_of.is_some(),
            ops.not.is_some(),
            ops.at_most.is_some(),
            ops.at_least.is_some(),
            ops.present.is_some(),
            ops.absent.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if count != 1 {
            if count > 1 || ops.unknown.is_empty() {
                self.error(at, format!("{field}: write exactly one operator"), "one of none_of, not, at_most, at_least, present, absent; list several fields to test several things");
            }
            return None;
        }
        if let Some(list) = &ops.none_of {
            if !self.equality_allowed(field, (list.line, list.col)) {
                return None;
            }
            return self
                .values_of(field, &list.value, (list.line, list.col))
                .map(Expectation::NoneOf);
        }
        if let Some(not) = &ops.not {
            if !self.equality_allowed(field, (not.line, not.col)) {
                return None;
            }
            let value = self.expected_value(field, &not.value, (not.line, not.col))?;
            return Some(Expectation::NoneOf(vec![value]));
        }
        for (bound, at_most) in [(&ops.at_most, true), (&ops.at_least, false)] {
            let Some(bound) = bound else { continue };
            let op = if at_most { "at_most" } else { "at_least" };
            if !field.is_ordered() {
                self.error((bound.line, bound.col), format!("{field}: `{op}` compares limits and usage only"), "use it on a monthly limit (monthly_data_limit, ...) or on usage (monthly_data_volume, monthly_sms_mo, monthly_sms_mt, monthly_voice_mo, previous_month_data_volume)");
                return None;
            }
            return match self.expected_value(field, &bound.value, (bound.line, bound.col))? {
                DesiredValue::Limit(limit) if at_most => Some(Expectation::AtMost(limit)),
                DesiredValue::Limit(limit) => Some(Expectation::AtLeast(limit)),
                _ => None,
            };
        }
        for (flag, present) in [(&ops.present, true), (&ops.absent, false)] {
            let Some(flag) = flag else { continue };
            let op = if present { "present" } else { "absent" };
            if !field.is_text() {
                self.error(
                    (flag.line, flag.col),
                    format!("{field}: `{op}` applies to text fields only"),
                    "use it on custom_field_1, end_customer_label, imei, imsi, msisdn, nwc, apn or ip_address",
                );
                return None;
            }
            if !matches!(flag.value, RawScalar::Bool(true)) {
                self.error(
                    (flag.line, flag.col),
                    format!("{field}: write `{op}: true`"),
                    format!("`{op}` takes only `true`"),
                );
                return None;
            }
            return Some(if present {
                Expectation::Present
            } else {
                Expectation::Absent
            });
        }
        None
    }
}

/// A validated waiver: the SIMs a check does not fail on, until `expires` (inclusive).
#[derive(Debug, Clone)]
pub struct Waiver {
    /// The check waived (checked to exist).
    pub check: String,
    pub select: Matcher,
    pub reason: String,
    /// The last day it holds, in days since 1970-01-01 (UTC).
    pub expires: i64,
    /// Where the waiver is written (its `check:` key).
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl Waiver {
    /// `fleet/waivers.yaml:3:12`
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as days since 1970-01-01, or `None` when it is not a real date.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (text.trim().len() == 10 && (1..=days_in_month).contains(&day))
        .then(|| days_from_civil(year, month, day))
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (the inverse of [`days_from_civil`]).
pub fn format_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl FileCx<'_> {
    /// A waiver, or `None` when it has errors (which are recorded). Whether its check exists is
    /// checked across files by the loader.
    pub fn waiver(&mut self, doc: &Located<WaiverDocument>) -> Option<Waiver> {
        let w = &doc.value;
        let errors_before = self.diagnostics_len();
        let owner_at = (doc.line, doc.col);
        self.unknown_keys(&w.unknown, WaiverDocument::KEYS);
        let (check, at) = match &w.check {
            Some(c) if !c.value.trim().is_empty() => (c.value.trim().to_string(), (c.line, c.col)),
            _ => {
                self.error(
                    owner_at,
                    "the waiver names no `check`",
                    "write `check:` with the name of the check it waives",
                );
                (String::new(), owner_at)
            }
        };
        let owner = format!("waiver of `{check}`");
        let select = match (&w.match_, &w.iccids) {
            (Some(_), Some(iccids)) => {
                self.error(
                    (iccids.line, iccids.col),
                    format!("{owner} has both `match` and `iccids`"),
                    "select the waived SIMs one way: `match:` or `iccids:`",
                );
                None
            }
            (None, Some(iccids)) => self.iccid_selection(iccids, &owner),
            (m, None) => self.matcher(m.as_ref(), &owner, owner_at).map(|(m, _)| m),
        };
        let reason = match &w.reason {
            Some(r) if !r.value.trim().is_empty() => r.value.trim().to_string(),
            _ => {
                self.error(owner_at, format!("{owner} has no `reason`"), "say why these SIMs may fail the check: a waiver without a reason is not accepted");
                String::new()
            }
        };
        let expires = match &w.expires {
            None => {
                self.error(owner_at, format!("{owner} has no `expires`"), "give the last day it holds, e.g. `expires: 2027-03-31`: waivers never last forever");
                None
            }
            Some(e) => {
                let date = match &e.value {
                    RawScalar::Str(s) => parse_date(s),
                    _ => None,
                };
                if date.is_none() {
                    self.error(
                        (e.line, e.col),
                        format!(
                            "{owner}: `expires: {}` is not a date",
                            e.value.describe().trim_matches('`')
                        ),
                        "write the date as YYYY-MM-DD, e.g. 2027-03-31",
                    );
                }
                date
            }
        };
        if self.diagnostics_len() > errors_before {
            return None;
        }
        Some(Waiver {
            check,
            select: select?,
            reason,
            expires: expires?,
            file: self.file.to_string(),
            line: at.0,
            col: at.1,
        })
    }

    fn iccid_selection(
        &mut self,
        iccids: &Located<Vec<Located<RawScalar>>>,
        owner: &str,
    ) -> Option<Matcher> {
        if iccids.value.is_empty() {
            self.error(
                (iccids.line, iccids.col),
                format!("{owner}: `iccids` is empty"),
                "list the quoted ICCIDs waived",
            );
            return None;
        }
        let mut values = Vec::new();
        let mut ok = true;
        for item in &iccids.value {
            match values::parse_iccid(&item.value, self.luhn_check()) {
                Ok(iccid) => values.push(iccid),
                Err(e) => {
                    self.value_error((item.line, item.col), "iccids", e);
                    ok = false;
                }
            }
        }
        ok.then(|| {
            Matcher::from_conditions(vec![Condition {
                key: MatchKey::Iccid,
                test: Test::Texts {
                    values,
                    or_none: false,
                },
            }])
        })
    }
}
