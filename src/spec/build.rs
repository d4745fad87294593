//! Gives meaning to one parsed spec file: turns its documents (values as written) into rules
//! and per-SIM entries with typed values and origins, collecting every problem on the way.
//!
//! A value that fails leaves out only itself, so the rest of the file is still checked and
//! every mistake is reported in one run.

use crate::spec::desired::{Field, Origin, OriginKind, ResolvedValue};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::matcher::{Condition, MatchKey, Matcher, Test};
use crate::spec::model::{
    Located, MatchDocument, MatchForm, MatchKeys, MatchValue, RuleDocument, Scalar, SetDocument,
};
use crate::spec::resolve::{Rule, SimEntry};
use crate::spec::values::{self, RawScalar, ValueError};

/// Where a match key was written, for warnings.
pub type KeyLocations = Vec<(MatchKey, (u32, u32))>;

/// The state of checking one file: its name, the ICCID Luhn setting, and where problems go.
pub struct FileCx<'a> {
    pub file: &'a str,
    /// The file's text, to recover digits YAML turned into a float.
    source: &'a str,
    luhn_check: bool,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl<'a> FileCx<'a> {
    pub fn new(
        file: &'a str,
        source: &'a str,
        luhn_check: bool,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        FileCx {
            file,
            source,
            luhn_check,
            diagnostics,
        }
    }

    /// An unquoted number too long for a u64 (a 20-digit ICCID) reaches us as a float that has
    /// lost digits; read the digits back from the source so the message can show them quoted.
    fn recover_digits(&self, raw: &RawScalar, at: (u32, u32)) -> RawScalar {
        if !matches!(raw, RawScalar::Float(_)) {
            return raw.clone();
        }
        let digits: Option<String> = self
            .source
            .lines()
            .nth(at.0.saturating_sub(1) as usize)
            .map(|line| {
                line.chars()
                    .skip(at.1.saturating_sub(1) as usize)
                    .take_while(|c| c.is_ascii_digit())
                    .collect()
            });
        match digits.as_deref().map(str::parse::<i128>) {
            Some(Ok(value)) => RawScalar::Int(value),
            _ => raw.clone(),
        }
    }

    /// Reports keys a mapping does not accept, suggesting the closest accepted one.
    pub fn unknown_keys(&mut self, unknown: &[Located<String>], allowed: &[&str]) {
        for key in unknown {
            let help = match closest(&key.value, allowed) {
                Some(near) => format!(
                    "did you mean `{near}`? The keys allowed here are: {}",
                    allowed.join(", ")
                ),
                None => format!(
                    "check the spelling; the keys allowed here are: {}",
                    allowed.join(", ")
                ),
            };
            self.error(
                (key.line, key.col),
                format!("unknown key `{}`", key.value),
                help,
            );
        }
    }

    pub(super) fn error(
        &mut self,
        at: (u32, u32),
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::error(self.file, Some(at), message, help));
    }

    /// Whether ICCIDs must pass the Luhn check (`luhn_check` in simfleet.yaml).
    pub(super) fn luhn_check(&self) -> bool {
        self.luhn_check
    }

    /// How many problems are recorded so far (to tell whether a step added any).
    pub(super) fn diagnostics_len(&self) -> usize {
        self.diagnostics.len()
    }

    pub(super) fn value_error(&mut self, at: (u32, u32), context: &str, e: ValueError) {
        self.error(at, format!("{context}: {}", e.message), e.help);
    }

    fn origin(&self, at: (u32, u32), kind: &OriginKind) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: at.0,
            col: at.1,
            kind: kind.clone(),
        }
    }

    /// A rule, or `None` when it has errors (which are recorded).
    pub fn rule(&mut self, doc: &Located<RuleDocument>) -> Option<Rule> {
        let rule = &doc.value;
        let errors_before = self.diagnostics.len();
        self.unknown_keys(&rule.unknown, RuleDocument::KEYS);
        let (name, name_at) = match &rule.name {
            Some(name) => (name.value.trim().to_string(), (name.line, name.col)),
            None => {
                self.error(
                    (doc.line, doc.col),
                    "the rule has no `name`",
                    "give every rule a unique `name:` (plans cite it)",
                );
                (String::new(), (doc.line, doc.col))
            }
        };
        if name.is_empty() && rule.name.is_some() {
            self.error(
                name_at,
                "the rule's name is empty",
                "give every rule a unique name",
            );
        }
        let owner = format!("rule `{name}`");
        let matched = self.matcher(rule.match_.as_ref(), &owner, (doc.line, doc.col));
        let kind = OriginKind::Rule { name: name.clone() };
        let settings = match &rule.set {
            None => {
                self.error(
                    (doc.line, doc.col),
                    format!("{owner} has no `set`"),
                    "add `set:` with at least one field to manage, or delete the rule",
                );
                Vec::new()
            }
            Some(set) => self.settings(set, &kind, &owner),
        };
        let priority = rule.priority.as_ref().map_or(0, |p| p.value);
        let (matcher, match_keys) = matched?;
        if self.diagnostics.len() > errors_before {
            return None;
        }
        Some(Rule::new(
            name,
            self.origin(name_at, &kind),
            priority,
            matcher,
            match_keys,
            settings,
        ))
    }

    /// A `sims:` entry, or `None` when it has errors (which are recorded).
    pub fn entry(
        &mut self,
        key: &Located<RawScalar>,
        doc: &Located<SetDocument>,
    ) -> Option<SimEntry> {
        let at = (key.line, key.col);
        let errors_before = self.diagnostics.len();
        let key_value = self.recover_digits(&key.value, at);
        let iccid = match values::parse_iccid(&key_value, self.luhn_check) {
            Ok(iccid) => iccid,
            Err(e) => {
                self.value_error(at, "sims entry", e);
                String::new()
            }
        };
        let kind = OriginKind::SimEntry {
            iccid: iccid.clone(),
        };
        let owner = format!("sims entry \"{iccid}\"");
        let settings = self.settings(doc, &kind, &owner);
        if self.diagnostics.len() > errors_before {
            return None;
        }
        Some(SimEntry::new(iccid, self.origin(at, &kind), settings))
    }

    /// The fields a rule or entry sets, each with its origin.
    fn settings(
        &mut self,
        doc: &Located<SetDocument>,
        kind: &OriginKind,
        owner: &str,
    ) -> Vec<(Field, ResolvedValue)> {
        let set = &doc.value;
        self.unknown_keys(&set.unknown, SetDocument::KEYS);
        fn raw<K>(v: &Option<Located<Scalar<K>>>) -> Option<(&RawScalar, (u32, u32))> {
            v.as_ref().map(|l| (&l.value.raw, (l.line, l.col)))
        }
        let written = [
            (Field::Status, raw(&set.status)),
            (Field::MonthlyDataLimit, raw(&set.monthly_data_limit)),
            (Field::MonthlySmsMoLimit, raw(&set.monthly_sms_mo_limit)),
            (Field::MonthlySmsMtLimit, raw(&set.monthly_sms_mt_limit)),
            (Field::MonthlyVoiceMoLimit, raw(&set.monthly_voice_mo_limit)),
            (Field::CustomField1, raw(&set.custom_field_1)),
            (Field::EndCustomerLabel, raw(&set.end_customer_label)),
            (Field::ImeiLock, raw(&set.imei_lock)),
        ];
        let mut out = Vec::new();
        for (field, value) in written {
            let Some((raw, at)) = value else { continue };
            match values::parse_field(field, raw, values::parse_settable_status) {
                Ok(value) => out.push((
                    field,
                    ResolvedValue {
                        value,
                        origin: std::sync::Arc::new(self.origin(at, kind)),
                    },
                )),
                Err(e) => self.value_error(at, field.name(), e),
            }
        }
        if written.iter().all(|(_, v)| v.is_none()) && set.unknown.is_empty() {
            self.error(
                (doc.line, doc.col),
                format!("{owner} sets nothing"),
                "list at least one field to set (status, monthly_data_limit, monthly_sms_mo_limit, monthly_sms_mt_limit, monthly_voice_mo_limit, custom_field_1, end_customer_label, imei_lock)",
            );
        }
        out
    }

    /// A rule's selection, with where each key was written; `None` after recording errors.
    pub fn matcher(
        &mut self,
        doc: Option<&Located<MatchDocument>>,
        owner: &str,
        owner_at: (u32, u32),
    ) -> Option<(Matcher, KeyLocations)> {
        const HELP: &str = "write `match: all` to select every SIM, or keys that must all hold (iccid, status, provider, imei, imsi, msisdn, custom_field_1, end_customer_label)";
        let Some(doc) = doc else {
            self.error(owner_at, format!("{owner} has no `match`"), HELP);
            return None;
        };
        let at = (doc.line, doc.col);
        let keys = match &doc.value {
            MatchDocument::All => return Some((Matcher::All, Vec::new())),
            // An empty value is located at the next token: point at the rule instead.
            MatchDocument::Null => {
                self.error(
                    owner_at,
                    format!("{owner} has an empty `match`"),
                    format!("an empty match never means every SIM: {HELP}"),
                );
                return None;
            }
            MatchDocument::Invalid(raw) => {
                self.error(
                    at,
                    format!(
                        "{owner}: `match: {}` is not a selection",
                        raw.describe().trim_matches('`')
                    ),
                    HELP,
                );
                return None;
            }
            MatchDocument::Keys(keys) => keys,
        };
        let errors_before = self.diagnostics.len();
        self.unknown_keys(&keys.unknown, MatchKeys::KEYS);
        let mut conditions = Vec::new();
        let mut locations = Vec::new();
        self.match_keys(keys, &mut conditions, &mut locations);
        if conditions.is_empty() && self.diagnostics.len() == errors_before {
            self.error(
                at,
                format!("{owner} has an empty `match`"),
                format!("an empty match never means every SIM: {HELP}"),
            );
        }
        if self.diagnostics.len() > errors_before {
            return None;
        }
        Some((Matcher::from_conditions(conditions), locations))
    }

    fn match_keys(
        &mut self,
        keys: &MatchKeys,
        conditions: &mut Vec<Condition>,
        locations: &mut KeyLocations,
    ) {
        let luhn_check = self.luhn_check;
        let texts = |key: MatchKey| {
            move |raw: &RawScalar| -> Result<TextValue, ValueError> {
                match (key, raw) {
                    (_, RawScalar::Str(s)) if s == "none" && key != MatchKey::Iccid => {
                        Ok(TextValue::None)
                    }
                    (MatchKey::Iccid, _) => {
                        values::parse_iccid(raw, luhn_check).map(TextValue::Text)
                    }
                    (MatchKey::Imei, _) => values::parse_imei(raw).map(TextValue::Text),
                    (MatchKey::Imsi, _) => values::parse_digits(raw, "IMSI").map(TextValue::Text),
                    (MatchKey::Msisdn, _) => {
                        values::parse_digits(raw, "MSISDN").map(TextValue::Text)
                    }
                    (_, RawScalar::Str(s)) if !s.is_empty() => Ok(TextValue::Text(s.clone())),
                    (_, other) => Err(ValueError::new(
                        format!("{} is not text", other.describe()),
                        "write the text in quotes, or `none` for SIMs without a value",
                    )),
                }
            }
        };
        self.text_key(
            MatchKey::Iccid,
            &keys.iccid,
            &texts(MatchKey::Iccid),
            conditions,
            locations,
        );
        self.id_key(
            MatchKey::Status,
            &keys.status,
            &values::parse_status,
            conditions,
            locations,
        );
        self.id_key(
            MatchKey::Provider,
            &keys.provider,
            &values::parse_provider,
            conditions,
            locations,
        );
        self.text_key(
            MatchKey::Imei,
            &keys.imei,
            &texts(MatchKey::Imei),
            conditions,
            locations,
        );
        self.text_key(
            MatchKey::Imsi,
            &keys.imsi,
            &texts(MatchKey::Imsi),
            conditions,
            locations,
        );
        self.text_key(
            MatchKey::Msisdn,
            &keys.msisdn,
            &texts(MatchKey::Msisdn),
            conditions,
            locations,
        );
        self.text_key(
            MatchKey::CustomField1,
            &keys.custom_field_1,
            &texts(MatchKey::CustomField1),
            conditions,
            locations,
        );
        self.text_key(
            MatchKey::EndCustomerLabel,
            &keys.end_customer_label,
            &texts(MatchKey::EndCustomerLabel),
            conditions,
            locations,
        );
    }

    /// The values of a scalar or list form, each parsed, errors recorded.
    fn listed<T>(
        &mut self,
        key: MatchKey,
        form: &MatchForm,
        at: (u32, u32),
        parse: &dyn Fn(&RawScalar) -> Result<T, ValueError>,
    ) -> Vec<T> {
        let context = format!("match {}", key.name());
        let items: Vec<(&RawScalar, (u32, u32))> = match form {
            MatchForm::One(raw) => vec![(raw, at)],
            MatchForm::Many(items) => {
                if items.is_empty() {
                    self.error(
                        at,
                        format!("{context}: the list is empty, so it matches no SIM"),
                        "list at least one value, or remove the key",
                    );
                }
                items.iter().map(|i| (&i.value, (i.line, i.col))).collect()
            }
            MatchForm::Prefix(_) => Vec::new(),
        };
        let mut out = Vec::new();
        for (raw, at) in items {
            match parse(&self.recover_digits(raw, at)) {
                Ok(v) => out.push(v),
                Err(e) => self.value_error(at, &context, e),
            }
        }
        out
    }

    fn id_key<K>(
        &mut self,
        key: MatchKey,
        value: &Option<Located<MatchValue<K, false>>>,
        parse: &dyn Fn(&RawScalar) -> Result<i32, ValueError>,
        conditions: &mut Vec<Condition>,
        locations: &mut KeyLocations,
    ) {
        let Some(value) = value else { return };
        let at = (value.line, value.col);
        locations.push((key, at));
        if let MatchForm::Prefix(_) = value.value.form {
            self.error(
                at,
                format!("match {}: `prefix` only applies to text keys", key.name()),
                format!(
                    "list the {}es instead, e.g. [activated, test-ready]",
                    key.name()
                ),
            );
            return;
        }
        let ids = self.listed(key, &value.value.form, at, parse);
        if !ids.is_empty() {
            conditions.push(Condition {
                key,
                test: Test::Ids(ids),
            });
        }
    }

    fn text_key<K>(
        &mut self,
        key: MatchKey,
        value: &Option<Located<MatchValue<K, true>>>,
        parse: &dyn Fn(&RawScalar) -> Result<TextValue, ValueError>,
        conditions: &mut Vec<Condition>,
        locations: &mut KeyLocations,
    ) {
        let Some(value) = value else { return };
        let at = (value.line, value.col);
        locations.push((key, at));
        if let MatchForm::Prefix(prefix) = &value.value.form {
            let prefix_at = (prefix.line, prefix.col);
            let parsed = match key {
                MatchKey::Iccid => values::parse_digit_prefix(&prefix.value, "ICCID"),
                MatchKey::Imei => values::parse_digit_prefix(&prefix.value, "IMEI"),
                MatchKey::Imsi => values::parse_digit_prefix(&prefix.value, "IMSI"),
                MatchKey::Msisdn => values::parse_digit_prefix(&prefix.value, "MSISDN"),
                _ => match &prefix.value {
                    RawScalar::Str(s) if !s.is_empty() => Ok(s.clone()),
                    other => Err(ValueError::new(
                        format!("prefix {} is not text", other.describe()),
                        "write the prefix in quotes",
                    )),
                },
            };
            match parsed {
                Ok(p) => conditions.push(Condition {
                    key,
                    test: Test::Prefix(p),
                }),
                Err(e) => self.value_error(prefix_at, &format!("match {}", key.name()), e),
            }
            return;
        }
        let parsed = self.listed(key, &value.value.form, at, parse);
        if parsed.is_empty() {
            return;
        }
        let mut values = Vec::new();
        let mut or_none = false;
        for v in parsed {
            match v {
                TextValue::None => or_none = true,
                TextValue::Text(t) => values.push(t),
            }
        }
        conditions.push(Condition {
            key,
            test: Test::Texts { values, or_none },
        });
    }
}

/// The accepted key nearest to a typo (at most a third of its letters off), if any.
fn closest<'k>(typo: &str, allowed: &[&'k str]) -> Option<&'k str> {
    allowed
        .iter()
        .map(|k| (edit_distance(typo, k), *k))
        .filter(|(d, k)| *d <= k.len().max(3).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// One text value of a match: a string, or `none` (no value).
enum TextValue {
    None,
    Text(String),
}
