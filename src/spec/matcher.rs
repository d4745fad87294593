//! Selectors: which live SIMs a rule applies to, evaluated locally and, where exact, turned into
//! the API's `SimFilterInput` so the fleet can be fetched with a server-side filter.
//!
//! Conditions are normalised (sorted keys, sorted and deduplicated values) so that two rules
//! with the same selection written differently compare equal, which is what the static conflict
//! check needs. Local matching is exact and case-sensitive: the server may compare labels
//! case-insensitively, so whatever a pushed-down filter returns is matched again here.

use std::fmt;

use crate::fleet::{IntFilter, Sim, SimFilter, StringFilter};
use crate::spec::config::Config;
use crate::spec::diagnostic::{Diagnostic, SpecErrors};
use crate::spec::model::Located;
use crate::spec::model::MatchDocument;

/// A key of `match:`, named as in the spec (the API's `SimFilterInput`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKey {
    Iccid,
    Status,
    Provider,
    Imei,
    Imsi,
    Msisdn,
    CustomField1,
    EndCustomerLabel,
}

impl MatchKey {
    pub fn name(self) -> &'static str {
        match self {
            MatchKey::Iccid => "iccid",
            MatchKey::Status => "status",
            MatchKey::Provider => "provider",
            MatchKey::Imei => "imei",
            MatchKey::Imsi => "imsi",
            MatchKey::Msisdn => "msisdn",
            MatchKey::CustomField1 => "custom_field_1",
            MatchKey::EndCustomerLabel => "end_customer_label",
        }
    }

    /// The settable field of the same name, if a spec can also set what this key reads.
    pub fn settable_field(self) -> Option<crate::spec::Field> {
        use crate::spec::Field;
        match self {
            MatchKey::Status => Some(Field::Status),
            MatchKey::CustomField1 => Some(Field::CustomField1),
            MatchKey::EndCustomerLabel => Some(Field::EndCustomerLabel),
            _ => None,
        }
    }

    fn live_text(self, sim: &Sim) -> Option<&str> {
        match self {
            MatchKey::Iccid => Some(sim.iccid.as_str()),
            MatchKey::Imei => sim.imei.as_deref(),
            MatchKey::Imsi => sim.imsi.as_deref(),
            MatchKey::Msisdn => sim.msisdn.as_deref(),
            MatchKey::CustomField1 => sim.custom_field_1.as_deref(),
            MatchKey::EndCustomerLabel => sim.label(),
            MatchKey::Status | MatchKey::Provider => None,
        }
    }
}

impl fmt::Display for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one key tests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Test {
    /// Status or provider ids: the live id is one of them (sorted, deduplicated).
    Ids(Vec<i32>),
    /// Text equals one of `values` (sorted, deduplicated); `or_none` also accepts a live null
    /// or empty value (written `none`).
    Texts { values: Vec<String>, or_none: bool },
    /// Text begins with the prefix.
    Prefix(String),
}

/// One `key: value` of a match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub key: MatchKey,
    pub test: Test,
}

impl Condition {
    fn matches(&self, sim: &Sim) -> bool {
        match &self.test {
            Test::Ids(ids) => {
                let live = match self.key {
                    MatchKey::Status => sim.statusid,
                    MatchKey::Provider => sim.providerid,
                    _ => return false,
                };
                ids.contains(&live)
            }
            Test::Texts { values, or_none } => match self.key.live_text(sim) {
                None | Some("") => *or_none,
                Some(live) => values.iter().any(|v| v == live),
            },
            Test::Prefix(prefix) => self
                .key
                .live_text(sim)
                .is_some_and(|live| live.starts_with(prefix.as_str())),
        }
    }
}

impl Condition {
    /// What the key asks for, as a spec writes it: `ACME`, `[activated, test-ready]`,
    /// `{prefix: "8944"}`, `none`.
    pub fn describe(&self) -> String {
        let list = |items: Vec<String>| match items.as_slice() {
            [one] => one.clone(),
            _ => format!("[{}]", items.join(", ")),
        };
        match &self.test {
            Test::Ids(ids) => list(
                ids.iter()
                    .map(|&id| match self.key {
                        MatchKey::Provider => crate::spec::values::format_provider(id),
                        _ => crate::spec::values::format_status(id),
                    })
                    .collect(),
            ),
            Test::Texts { values, or_none } => {
                let mut items: Vec<String> = values.clone();
                if *or_none {
                    items.push("none".to_string());
                }
                list(items)
            }
            Test::Prefix(prefix) => format!("{{prefix: \"{prefix}\"}}"),
        }
    }

    /// The live value this key reads, as a match writes it (`none` for a missing text).
    pub fn live(&self, sim: &Sim) -> String {
        match self.key {
            MatchKey::Status => crate::spec::values::format_status(sim.statusid),
            MatchKey::Provider => crate::spec::values::format_provider(sim.providerid),
            key => match key.live_text(sim) {
                None | Some("") => "none".to_string(),
                Some(text) => text.to_string(),
            },
        }
    }
}

/// A rule's selection: every SIM, or SIMs for which every condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Matcher {
    All,
    /// Non-empty, sorted by key, at most one condition per key.
    Conditions(Vec<Condition>),
}

impl Matcher {
    /// Builds a matcher from conditions, normalising their order and values.
    pub fn from_conditions(mut conditions: Vec<Condition>) -> Matcher {
        for c in &mut conditions {
            match &mut c.test {
                Test::Ids(ids) => {
                    ids.sort_unstable();
                    ids.dedup();
                }
                Test::Texts { values, .. } => {
                    values.sort();
                    values.dedup();
                }
                Test::Prefix(_) => {}
            }
        }
        conditions.sort_by_key(|c| c.key);
        Matcher::Conditions(conditions)
    }

    /// True when the live SIM is selected. Allocates nothing.
    pub fn matches(&self, sim: &Sim) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Conditions(conditions) => conditions.iter().all(|c| c.matches(sim)),
        }
    }

    /// The conditions the live SIM fails, in key order (none for `all` or a SIM it selects):
    /// how far a rule is from matching.
    pub fn failing(&self, sim: &Sim) -> Vec<&Condition> {
        match self {
            Matcher::All => Vec::new(),
            Matcher::Conditions(conditions) => {
                conditions.iter().filter(|c| !c.matches(sim)).collect()
            }
        }
    }

    /// The server-side filter selecting the same SIMs, or `None` when none is exact or useful:
    /// `match: all` (that is the whole fleet) and matches on `none` (the API cannot filter on
    /// a missing value).
    pub fn to_filter(&self) -> Option<SimFilter> {
        let Matcher::Conditions(conditions) = self else {
            return None;
        };
        let mut filter = SimFilter::default();
        for c in conditions {
            match &c.test {
                Test::Ids(ids) => {
                    let int = if let [one] = ids.as_slice() {
                        IntFilter {
                            eq: Some(*one),
                            in_: None,
                        }
                    } else {
                        IntFilter {
                            eq: None,
                            in_: Some(ids.clone()),
                        }
                    };
                    match c.key {
                        MatchKey::Status => filter.statusid = Some(int),
                        MatchKey::Provider => filter.providerid = Some(int),
                        _ => return None,
                    }
                }
                Test::Texts { or_none: true, .. } => return None,
                Test::Texts { values, .. } => {
                    let text = if let [one] = values.as_slice() {
                        StringFilter {
                            eq: Some(one.clone()),
                            ..StringFilter::default()
                        }
                    } else {
                        StringFilter {
                            in_: Some(values.clone()),
                            ..StringFilter::default()
                        }
                    };
                    *text_slot(&mut filter, c.key)? = Some(text);
                }
                Test::Prefix(prefix) => {
                    *text_slot(&mut filter, c.key)? = Some(StringFilter {
                        begins_with: Some(prefix.clone()),
                        ..StringFilter::default()
                    });
                }
            }
        }
        Some(filter)
    }

    /// Parses a selector written like a rule's `match`, e.g. `{end_customer_label: ACME}` or
    /// `all` (for `plan --target`), checking full ICCIDs' Luhn digit.
    pub fn parse_inline(text: &str) -> Result<Matcher, SpecErrors> {
        Matcher::parse_inline_with(text, &Config::default())
    }

    /// [`Matcher::parse_inline`] with the spec's configuration (its `luhn_check`).
    pub fn parse_inline_with(text: &str, config: &Config) -> Result<Matcher, SpecErrors> {
        const SOURCE: &str = "--target";
        let document: Located<MatchDocument> =
            crate::spec::loader::parse_yaml(text, SOURCE).map_err(|d| SpecErrors::new(vec![d]))?;
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        let mut cx =
            crate::spec::build::FileCx::new(SOURCE, text, config.luhn_check, &mut diagnostics);
        let built = cx.matcher(Some(&document), "the selector", (1, 1));
        match built {
            Some((matcher, _)) if diagnostics.is_empty() => Ok(matcher),
            _ => Err(SpecErrors::new(diagnostics)),
        }
    }
}

fn text_slot(filter: &mut SimFilter, key: MatchKey) -> Option<&mut Option<StringFilter>> {
    Some(match key {
        MatchKey::Iccid => &mut filter.iccid,
        MatchKey::Imei => &mut filter.imei,
        MatchKey::Imsi => &mut filter.imsi,
        MatchKey::Msisdn => &mut filter.msisdn,
        MatchKey::CustomField1 => &mut filter.custom_field_1,
        MatchKey::EndCustomerLabel => &mut filter.end_customer_label,
        MatchKey::Status | MatchKey::Provider => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::EndCustomerLabel;

    fn sim(iccid: &str, status: i32, provider: i32, label: Option<&str>) -> Sim {
        Sim {
            iccid: iccid.to_string(),
            statusid: status,
            providerid: provider,
            end_customer_label: label.map(|l| EndCustomerLabel {
                name: l.to_string(),
            }),
            ..Sim::default()
        }
    }

    #[test]
    fn every_condition_must_hold() {
        let m = Matcher::parse_inline(
            "{end_customer_label: ACME, status: [activated, test-ready], iccid: {prefix: '8949'}}",
        )
        .unwrap();
        assert!(m.matches(&sim("8949000000000000018", 2, 5, Some("ACME"))));
        assert!(m.matches(&sim("8949000000000000018", 6, 5, Some("ACME"))));
        assert!(!m.matches(&sim("8949000000000000018", 5, 5, Some("ACME"))));
        assert!(!m.matches(&sim("8988303000000000010", 2, 5, Some("ACME"))));
        assert!(
            !m.matches(&sim("8949000000000000018", 2, 5, Some("acme"))),
            "exact case"
        );
        assert!(!m.matches(&sim("8949000000000000018", 2, 5, None)));
    }

    #[test]
    fn none_matches_null_or_empty_and_is_not_pushed_down() {
        let m = Matcher::parse_inline("{end_customer_label: none}").unwrap();
        assert!(m.matches(&sim("8949000000000000018", 2, 5, None)));
        assert!(m.matches(&sim("8949000000000000018", 2, 5, Some(""))));
        assert!(!m.matches(&sim("8949000000000000018", 2, 5, Some("ACME"))));
        assert_eq!(m.to_filter(), None);
        let either = Matcher::parse_inline("{end_customer_label: [none, ACME]}").unwrap();
        assert!(either.matches(&sim("8949000000000000018", 2, 5, Some("ACME"))));
        assert!(either.matches(&sim("8949000000000000018", 2, 5, None)));
    }

    #[test]
    fn all_matches_everything_but_is_no_filter() {
        let m = Matcher::parse_inline("all").unwrap();
        assert!(m.matches(&sim("8949000000000000018", 7, 1, None)));
        assert_eq!(m.to_filter(), None);
        assert!(Matcher::parse_inline("{}").is_err());
        assert!(Matcher::parse_inline("").is_err());
        assert!(Matcher::parse_inline("{label: ACME}").is_err());
    }

    #[test]
    fn filters_mirror_the_api() {
        let m = Matcher::parse_inline(
            "{provider: [link+, 3], status: activated, iccid: {prefix: '8988'}, end_customer_label: [Globex, ACME]}",
        )
        .unwrap();
        let f = m.to_filter().unwrap();
        assert_eq!(f.providerid.unwrap().in_, Some(vec![3, 5]));
        assert_eq!(f.statusid.unwrap().eq, Some(2));
        assert_eq!(f.iccid.unwrap().begins_with.as_deref(), Some("8988"));
        assert_eq!(
            f.end_customer_label.unwrap().in_,
            Some(vec!["ACME".to_string(), "Globex".to_string()])
        );
    }

    #[test]
    fn same_selection_written_differently_is_equal() {
        let a = Matcher::parse_inline("{status: [activated, 6], provider: link+}").unwrap();
        let b = Matcher::parse_inline("{provider: 5, status: [test-ready, activated]}").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn inline_values_are_validated() {
        let err = Matcher::parse_inline("{iccid: 8949000000000000018}").unwrap_err();
        assert!(err.to_string().contains("quote it"), "{err}");
        assert!(Matcher::parse_inline("{iccid: '8949000000000000019'}").is_err());
        assert!(Matcher::parse_inline("{status: active}").is_err());
        assert!(Matcher::parse_inline("{status: {prefix: act}}").is_err());
    }
}
