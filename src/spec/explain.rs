//! The spec's side of `simfleet explain`: for one live SIM, every value any applicable rule or
//! `sims:` entry offers for each field and how it fared (won, lost to a higher priority, lost to
//! the SIM's entry, agreed or conflicted at the same priority), and, for a SIM nothing applies
//! to, the rules closest to matching it and the keys that failed.
//!
//! Nothing here decides precedence: the candidates are what [`Spec::walk`], the one resolution
//! the plan uses, reports through its verdict hook, so an explanation cannot disagree with a plan.

use crate::fleet::Sim;

use super::desired::{Field, ResolvedValue};
use super::matcher::Condition;
use super::resolve::{Resolution, Rule, SimEntry, Spec, Verdict};

/// Rules listed as closest to matching an unmanaged SIM.
pub const CLOSEST_RULES: usize = 5;

/// One value offered for a field of one SIM.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub value: &'a ResolvedValue,
    /// The rule's priority; `None` for the SIM's `sims:` entry.
    pub priority: Option<i64>,
    pub verdict: Verdict,
}

/// A rule that does not match a SIM, and the conditions of its `match` that fail.
#[derive(Debug, Clone)]
pub struct NearMiss<'a> {
    pub rule: &'a Rule,
    pub failed: Vec<&'a Condition>,
}

/// Everything the spec says about one live SIM.
#[derive(Debug, Clone)]
pub struct Candidates<'a> {
    /// The SIM's `sims:` entry.
    pub entry: Option<&'a SimEntry>,
    /// Rules whose `match` selects the SIM, highest priority first.
    pub matched: Vec<&'a Rule>,
    /// Per field (in [`Field::ALL`] order), every value offered, the winner first.
    pub fields: Vec<(Field, Vec<Candidate<'a>>)>,
    /// Fields whose rules disagree at the same priority (the plan stops on these).
    pub conflicts: Vec<Field>,
    /// The desired values as the plan resolves them, fields in conflict left out; `None` when
    /// nothing applies (the SIM is unmanaged).
    pub resolution: Option<Resolution<'a>>,
    /// For an unmanaged SIM: the rules with the fewest failing match keys, at most
    /// [`CLOSEST_RULES`], fewest first (file order on a tie).
    pub closest: Vec<NearMiss<'a>>,
}

impl Spec {
    /// Every value the spec offers for each field of `sim`, and how each fared, from the same
    /// resolution the plan runs.
    pub fn candidates<'a>(&'a self, sim: &Sim) -> Candidates<'a> {
        let mut offered: Vec<(usize, Field, Verdict)> = Vec::new();
        let mut matched = Vec::new();
        let walked = self.walk(
            sim,
            |rule| matched.push(rule),
            |rule, field, verdict| offered.push((rule, field, verdict)),
        );
        let mut fields: Vec<(Field, Vec<Candidate<'a>>)> = Vec::new();
        for field in Field::ALL {
            let mut list: Vec<Candidate<'a>> = Vec::new();
            if let Some(entry) = walked.entry {
                if let Some((_, value)) = entry.settings.iter().find(|(f, _)| *f == field) {
                    list.push(Candidate {
                        value,
                        priority: None,
                        verdict: Verdict::Wins,
                    });
                }
            }
            for &(rule, _, verdict) in offered.iter().filter(|(_, f, _)| *f == field) {
                let rule = &self.rules()[rule];
                if let Some(value) = rule.setting(field) {
                    list.push(Candidate {
                        value,
                        priority: Some(rule.priority),
                        verdict,
                    });
                }
            }
            if !list.is_empty() {
                fields.push((field, list));
            }
        }
        let conflicts: Vec<Field> = walked.conflicts.iter().map(|c| c.field).collect();
        let mut resolved = walked.fields;
        for field in &conflicts {
            resolved[*field as usize] = None;
        }
        Candidates {
            entry: walked.entry,
            matched: matched.iter().map(|&i| &self.rules()[i]).collect(),
            fields,
            resolution: walked.applies.then_some(Resolution::from_fields(resolved)),
            conflicts,
            closest: if walked.applies {
                Vec::new()
            } else {
                self.closest_rules(sim)
            },
        }
    }

    /// The rules with the fewest failing match keys for `sim`, fewest first.
    fn closest_rules<'a>(&'a self, sim: &Sim) -> Vec<NearMiss<'a>> {
        let mut misses: Vec<NearMiss<'a>> = self
            .rules()
            .iter()
            .map(|rule| NearMiss {
                rule,
                failed: rule.matcher.failing(sim),
            })
            .collect();
        // Stable: file order within the same number of failing keys.
        misses.sort_by_key(|m| m.failed.len());
        misses.truncate(CLOSEST_RULES);
        misses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::EndCustomerLabel;
    use crate::spec::matcher::MatchKey;

    fn spec(yaml: &str) -> Spec {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), yaml).unwrap();
        std::fs::write(dir.path().join("simfleet.yaml"), "luhn_check: false\n").unwrap();
        crate::spec::load(dir.path()).unwrap().spec
    }

    fn sim(iccid: &str, label: &str, provider: i32) -> Sim {
        Sim {
            iccid: iccid.into(),
            statusid: 2,
            providerid: provider,
            end_customer_label: Some(EndCustomerLabel { name: label.into() }),
            ..Sim::default()
        }
    }

    const SPEC: &str = r#"rules:
  - name: base
    match: all
    set: { monthly_data_limit: 1MB, monthly_sms_mo_limit: 5 }
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 2MB }
    priority: 5
  - name: acme-too
    match: { end_customer_label: ACME, provider: link+ }
    set: { monthly_data_limit: 2MB, custom_field_1: x }
    priority: 5
sims:
  "8949000000000000018":
    custom_field_1: pinned
"#;

    #[test]
    fn every_candidate_is_listed_with_how_it_fared() {
        let s = spec(SPEC);
        let c = s.candidates(&sim("8949000000000000018", "ACME", 5));
        let data = &c
            .fields
            .iter()
            .find(|(f, _)| *f == Field::MonthlyDataLimit)
            .unwrap()
            .1;
        let verdicts: Vec<(Option<i64>, Verdict)> =
            data.iter().map(|c| (c.priority, c.verdict)).collect();
        assert_eq!(
            verdicts,
            [
                (Some(5), Verdict::Wins),
                (Some(5), Verdict::SamePriorityAgrees),
                (Some(0), Verdict::LowerPriority)
            ]
        );
        let custom = &c
            .fields
            .iter()
            .find(|(f, _)| *f == Field::CustomField1)
            .unwrap()
            .1;
        assert_eq!(custom[0].priority, None, "the entry first");
        assert_eq!(custom[1].verdict, Verdict::OverriddenByEntry);
        assert!(c.closest.is_empty());
        assert_eq!(c.matched.len(), 3);
    }

    #[test]
    fn an_unmanaged_sim_gets_the_closest_rules_and_their_failing_keys() {
        let s = spec(
            r#"rules:
  - name: acme
    match: { end_customer_label: ACME, provider: link+ }
    set: { monthly_data_limit: 2MB }
  - name: globex
    match: { end_customer_label: Globex }
    set: { monthly_data_limit: 2MB }
"#,
        );
        let c = s.candidates(&sim("8949000000000000018", "Globexx", 1));
        assert!(c.resolution.is_none());
        assert_eq!(c.closest[0].rule.name, "globex");
        assert_eq!(c.closest[0].failed[0].key, MatchKey::EndCustomerLabel);
        assert_eq!(c.closest[0].failed[0].describe(), "Globex");
        assert_eq!(
            c.closest[0].failed[0].live(&sim("1", "Globexx", 5)),
            "Globexx"
        );
        assert_eq!(c.closest[1].rule.name, "acme");
        assert_eq!(c.closest[1].failed.len(), 2, "label and product");
    }

    #[test]
    fn conflicting_fields_are_left_out_of_the_resolution() {
        let s = spec(
            r#"rules:
  - name: a
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 1MB, monthly_sms_mo_limit: 5 }
  - name: b
    match: { provider: link+ }
    set: { monthly_data_limit: 2MB }
"#,
        );
        let c = s.candidates(&sim("8949000000000000018", "ACME", 5));
        assert_eq!(c.conflicts, [Field::MonthlyDataLimit]);
        let r = c.resolution.unwrap();
        assert!(r.get(Field::MonthlyDataLimit).is_none());
        assert!(r.get(Field::MonthlySmsMoLimit).is_some());
    }
}
