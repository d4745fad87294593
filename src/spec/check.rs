//! Checks: fleet-wide policies a spec states about the end state of the SIMs it selects
//! (`checks:`), validated into [`Check`] values with file:line:col.
//!
//! A check is data here; the plan evaluates it (the rules of meaning, such as "`unlimited` equals
//! a live 0", belong to the plan). Every value of an `expect` is parsed by the same parser as the
//! `set` of a rule for that field, so a check and a rule cannot read `1GB` differently. Every
//! problem of a check is reported, not only the first.

use serde::{Deserialize, Serialize};

use crate::spec::build::FileCx;
use crate::spec::desired::{DesiredValue, Field};
use crate::spec::matcher::Matcher;
use crate::spec::model::{CheckDocument, ExpectDocument, ExpectForm, ExpectOps, Located};
use crate::spec::values::{self, RawScalar, ValueError};

/// How much a failing check matters: `warn` is reported, `deny` blocks the plan (exit 3).
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
    /// Every field's test; a SIM passes when all hold.
    pub expect: Vec<(Field, Expectation)>,
}

impl Check {
    /// `fleet/checks.yaml:3:11`
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A field's value as a check writes it, parsed as a rule's `set` would parse it (any status,
/// not only those a spec may set).
fn parse_value(field: Field, raw: &RawScalar) -> Result<DesiredValue, ValueError> {
    match field {
        Field::Status => values::parse_status(raw).map(DesiredValue::Status),
        Field::MonthlyDataLimit => values::parse_data_limit(raw).map(DesiredValue::Limit),
        Field::MonthlySmsMoLimit | Field::MonthlySmsMtLimit => {
            values::parse_sms_limit(raw).map(DesiredValue::Limit)
        }
        Field::MonthlyVoiceMoLimit => values::parse_voice_limit(raw).map(DesiredValue::Limit),
        Field::CustomField1 | Field::EndCustomerLabel => {
            values::parse_text_or_none(raw, field.name()).map(DesiredValue::Text)
        }
        Field::ImeiLock => values::parse_imei_lock(raw).map(DesiredValue::ImeiLock),
    }
}

fn is_limit(field: Field) -> bool {
    matches!(
        field,
        Field::MonthlyDataLimit
            | Field::MonthlySmsMoLimit
            | Field::MonthlySmsMtLimit
            | Field::MonthlyVoiceMoLimit
    )
}

fn is_text(field: Field) -> bool {
    matches!(field, Field::CustomField1 | Field::EndCustomerLabel)
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
        let expect = self.check_assertion(check, &owner, owner_at);
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

    /// The check's one assertion: `expect` (`limit` is recognised but not supported yet).
    fn check_assertion(
        &mut self,
        check: &CheckDocument,
        owner: &str,
        owner_at: (u32, u32),
    ) -> Vec<(Field, Expectation)> {
        if let Some(limit) = &check.limit {
            let message = if check.expect.is_some() {
                format!("{owner} has both `expect` and `limit`")
            } else {
                format!("{owner}: `limit` checks are not supported by this version")
            };
            self.error(
                (limit.line, limit.col),
                message,
                "a check has exactly one assertion: write `expect:` (constraints on the end state)",
            );
            return Vec::new();
        }
        let Some(expect) = &check.expect else {
            self.error(
                owner_at,
                format!("{owner} has no `expect`"),
                "add `expect:` with the fields every selected SIM must have after the plan",
            );
            return Vec::new();
        };
        self.expectations(expect, owner)
    }

    fn expectations(
        &mut self,
        doc: &Located<ExpectDocument>,
        owner: &str,
    ) -> Vec<(Field, Expectation)> {
        let e = &doc.value;
        self.unknown_keys(&e.unknown, ExpectDocument::KEYS);
        let written = [
            (Field::Status, &e.status),
            (Field::MonthlyDataLimit, &e.monthly_data_limit),
            (Field::MonthlySmsMoLimit, &e.monthly_sms_mo_limit),
            (Field::MonthlySmsMtLimit, &e.monthly_sms_mt_limit),
            (Field::MonthlyVoiceMoLimit, &e.monthly_voice_mo_limit),
            (Field::CustomField1, &e.custom_field_1),
            (Field::EndCustomerLabel, &e.end_customer_label),
            (Field::ImeiLock, &e.imei_lock),
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
            self.error((doc.line, doc.col), format!("{owner} expects nothing"), "list at least one field under `expect:` (status, monthly_data_limit, monthly_sms_mo_limit, monthly_sms_mt_limit, monthly_voice_mo_limit, custom_field_1, end_customer_label, imei_lock)");
        }
        out
    }

    fn values_of(
        &mut self,
        field: Field,
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
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match parse_value(field, &item.value) {
                Ok(v) => out.push(v),
                Err(e) => {
                    self.value_error((item.line, item.col), field.name(), e);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn expectation(
        &mut self,
        field: Field,
        form: ExpectForm,
        at: (u32, u32),
    ) -> Option<Expectation> {
        match form {
            ExpectForm::One(raw) => match parse_value(field, &raw) {
                Ok(v) => Some(Expectation::AnyOf(vec![v])),
                Err(e) => {
                    self.value_error(at, field.name(), e);
                    None
                }
            },
            ExpectForm::Many(items) => self.values_of(field, &items, at).map(Expectation::AnyOf),
            ExpectForm::Ops(ops) => self.operator(field, &ops, at),
        }
    }

    fn operator(&mut self, field: Field, ops: &ExpectOps, at: (u32, u32)) -> Option<Expectation> {
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
            return self
                .values_of(field, &list.value, (list.line, list.col))
                .map(Expectation::NoneOf);
        }
        if let Some(not) = &ops.not {
            return match parse_value(field, &not.value) {
                Ok(v) => Some(Expectation::NoneOf(vec![v])),
                Err(e) => {
                    self.value_error((not.line, not.col), field.name(), e);
                    None
                }
            };
        }
        for (bound, at_most) in [(&ops.at_most, true), (&ops.at_least, false)] {
            let Some(bound) = bound else { continue };
            let op = if at_most { "at_most" } else { "at_least" };
            if !is_limit(field) {
                self.error((bound.line, bound.col), format!("{field}: `{op}` compares limits only"), "use it on monthly_data_limit, monthly_sms_mo_limit, monthly_sms_mt_limit or monthly_voice_mo_limit");
                return None;
            }
            return match parse_value(field, &bound.value) {
                Ok(DesiredValue::Limit(limit)) if at_most => Some(Expectation::AtMost(limit)),
                Ok(DesiredValue::Limit(limit)) => Some(Expectation::AtLeast(limit)),
                Ok(_) => None,
                Err(e) => {
                    self.value_error((bound.line, bound.col), field.name(), e);
                    None
                }
            };
        }
        for (flag, present) in [(&ops.present, true), (&ops.absent, false)] {
            let Some(flag) = flag else { continue };
            let op = if present { "present" } else { "absent" };
            if !is_text(field) {
                self.error(
                    (flag.line, flag.col),
                    format!("{field}: `{op}` applies to labels only"),
                    "use it on custom_field_1 or end_customer_label",
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
