//! Writes exported rules and entries as spec YAML, in the form `simfleet fmt` keeps.
//!
//! Written by hand rather than through a serialiser so the files carry comments (where they
//! came from, how many SIMs each rule matches) and so each `sims:` entry is one line: a SIM's
//! change is then a one-line diff in review. Text is always double-quoted with JSON escapes,
//! which YAML reads back unchanged.

use std::fmt::Write;

use crate::spec::{values, DesiredValue, Field, ImeiLockSetting, Limit};

use super::{GroupKey, KeyValue, RuleDraft};

/// What every file's header says.
pub(super) struct Header<'a> {
    pub source: &'a str,
    pub taken_at: &'a str,
    pub sims: usize,
    pub fields: &'a [Field],
    pub group_by: &'a [GroupKey],
    pub set_fields: &'a [Field],
}

impl Header<'_> {
    fn write(&self, out: &mut String, what: &str) {
        let names = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "# Exported by `simfleet export --spec` from {} at {} ({} SIMs).",
            self.source, self.taken_at, self.sims
        );
        let _ = writeln!(out, "# {what}");
        let _ = writeln!(out, "# Fields set: {}.", names(self.set_fields));
        let selected: Vec<Field> = self
            .fields
            .iter()
            .copied()
            .filter(|f| !self.set_fields.contains(f))
            .collect();
        if !selected.is_empty() {
            let _ = writeln!(
                out,
                "# {} {} expressed by the rules' selectors, not set: a rule that set what it matches on could undo itself.",
                names(&selected),
                if selected.len() == 1 { "is" } else { "are" }
            );
        }
        if !self.group_by.is_empty() {
            let _ = writeln!(
                out,
                "# Rules group SIMs by {}.",
                self.group_by
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}

/// `rules.yaml`: one rule per merged group, each with the number of SIMs it matched.
pub(super) fn rules_file(header: &Header, keys: &[GroupKey], drafts: &[RuleDraft]) -> String {
    let mut out = String::new();
    header.write(
        &mut out,
        "Each rule holds for every SIM it matched; SIMs that differ are pinned in sims/.",
    );
    out.push_str("rules:\n");
    let mut used = std::collections::HashSet::new();
    for draft in drafts {
        let name = unique_name(rule_name(keys, &draft.selector), &mut used);
        let _ = writeln!(
            out,
            "  # {} SIM{}",
            draft.sims,
            if draft.sims == 1 { "" } else { "s" }
        );
        let _ = writeln!(out, "  - name: {name}");
        let _ = writeln!(out, "    match: {}", selector(keys, &draft.selector));
        out.push_str("    set:\n");
        for (field, value) in &draft.set {
            let _ = writeln!(out, "      {}: {}", field.name(), value_text(*field, value));
        }
    }
    out
}

/// `sims/NNN.yaml`: one line per SIM.
pub(super) fn sims_file(header: &Header, entries: &[(&str, Vec<(Field, DesiredValue)>)]) -> String {
    let mut out = String::new();
    let range = match (entries.first(), entries.last()) {
        (Some((first, _)), Some((last, _))) => format!("ICCIDs {first} to {last}"),
        _ => String::new(),
    };
    header.write(
        &mut out,
        &format!(
            "SIMs whose values differ from their group's rule, or that no rule matches: {range}."
        ),
    );
    out.push_str("sims:\n");
    for (iccid, values) in entries {
        out.push_str(&entry_line(iccid, values));
    }
    out
}

/// `simfleet.yaml`, written only when some ICCID has no valid Luhn digit.
pub(super) fn config_file(header: &Header) -> String {
    let mut out = String::new();
    header.write(&mut out, "simfleet's settings for this spec directory.");
    out.push_str(
        "# Some of this fleet's ICCIDs carry no valid Luhn check digit.\nluhn_check: false\n",
    );
    out
}

/// `  "8949...": { status: activated, monthly_data_limit: 500MB }`
pub(super) fn entry_line(iccid: &str, values: &[(Field, DesiredValue)]) -> String {
    let mut line = format!("  {}: {{ ", quote(iccid));
    for (n, (field, value)) in values.iter().enumerate() {
        if n > 0 {
            line.push_str(", ");
        }
        let _ = write!(line, "{}: {}", field.name(), value_text(*field, value));
    }
    line.push_str(" }\n");
    line
}

/// A value as the spec writes it. Text is quoted so that `none`, `off` or `123` stay text.
fn value_text(field: Field, value: &DesiredValue) -> String {
    match value {
        DesiredValue::Status(id) => values::format_status(*id),
        DesiredValue::Limit(Limit::Unlimited) => "unlimited".to_string(),
        DesiredValue::Limit(limit) if field == Field::MonthlyDataLimit => {
            values::format_data_limit(*limit)
        }
        DesiredValue::Limit(limit) => values::format_limit(*limit),
        DesiredValue::Text(None) => "none".to_string(),
        DesiredValue::Text(Some(text)) => quote(text),
        DesiredValue::ImeiLock(ImeiLockSetting::Imei(imei)) => quote(imei),
        DesiredValue::ImeiLock(lock) => values::format_imei_lock(lock),
    }
}

/// A double-quoted YAML scalar: JSON's escapes are YAML's.
pub(super) fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{}\"", text.escape_default()))
}

fn key_value_text(key: GroupKey, value: &KeyValue) -> String {
    match (key, value) {
        (_, KeyValue::Text(None)) => "none".to_string(),
        (_, KeyValue::Text(Some(t))) => quote(t),
        (GroupKey::Status, KeyValue::Id(id)) => values::format_status(*id),
        (_, KeyValue::Id(id)) => quote(&values::format_provider(*id)),
    }
}

/// `{ end_customer_label: "ACME", status: [activated, test-ready], provider: "link+" }`, or
/// `all` with no group keys.
fn selector(keys: &[GroupKey], selector: &[Vec<KeyValue>]) -> String {
    if keys.is_empty() {
        return "all".to_string();
    }
    let parts: Vec<String> = keys
        .iter()
        .zip(selector)
        .map(|(key, values)| {
            let shown: Vec<String> = values.iter().map(|v| key_value_text(*key, v)).collect();
            if shown.len() == 1 {
                format!("{}: {}", key.name(), shown[0])
            } else {
                format!("{}: [{}]", key.name(), shown.join(", "))
            }
        })
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A readable name from the selector's values, e.g. `acme-activated-link-plus`.
fn rule_name(keys: &[GroupKey], selector: &[Vec<KeyValue>]) -> String {
    if keys.is_empty() {
        return "all-sims".to_string();
    }
    let words: Vec<String> = keys
        .iter()
        .zip(selector)
        .map(|(key, values)| {
            values
                .iter()
                .map(|v| match (key, v) {
                    (GroupKey::EndCustomerLabel, KeyValue::Text(None)) => "no-label".to_string(),
                    (_, KeyValue::Text(None)) => "no-custom-field".to_string(),
                    (_, KeyValue::Text(Some(t))) => t.clone(),
                    (GroupKey::Status, KeyValue::Id(id)) => values::format_status(*id),
                    (_, KeyValue::Id(id)) => values::format_provider(*id).replace('+', "-plus"),
                })
                .collect::<Vec<_>>()
                .join("-or-")
        })
        .collect();
    let mut name = String::new();
    for c in words.join("-").chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let mut name = name.trim_end_matches('-').to_string();
    if name.len() > 80 {
        name.truncate(80);
        name = name.trim_end_matches('-').to_string();
    }
    if name.is_empty() {
        name = "rule".to_string();
    }
    name
}

fn unique_name(name: String, used: &mut std::collections::HashSet<String>) -> String {
    if used.insert(name.clone()) {
        return name;
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}
