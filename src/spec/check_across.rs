//! What no single check shows: two checks that contradict each other, and `limit`s that can
//! count nothing because no rule or `sims:` entry changes what they count.
//!
//! Two checks contradict when every SIM the narrower one selects is also selected by the wider
//! one (same select, `all`, or conditions that imply the other's) and their `expect`s on one field
//! cannot both hold: equals A vs equals B, `at_most` below another's `at_least`, equals X vs
//! `none_of: [X]`, `present` vs `absent`. Any such SIM fails one of them whatever the plan does,
//! so it is a spec error. Selects that merely might overlap are not judged: that would reject
//! specs whose selections never meet in practice.

use crate::spec::check::{Check, Counted, Expectation};
use crate::spec::check_field::CheckField;
use crate::spec::desired::{DesiredValue, Field, ImeiLockSetting, Limit};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::matcher::{Condition, Matcher, Test};
use crate::spec::resolve::{Rule, SimEntry};

/// The status an IMEI unlock in status 20 implies (20 → 2), as the plan decides it.
const ACTIVATED: i32 = 2;

/// Every pair of checks whose `expect`s contradict on SIMs both select, reported at the later.
pub(super) fn check_contradictions(checks: &[Check], errors: &mut Vec<Diagnostic>) {
    for (i, later) in checks.iter().enumerate() {
        for earlier in &checks[..i] {
            if !covers(&earlier.select, &later.select) && !covers(&later.select, &earlier.select) {
                continue;
            }
            for (field, want) in &later.expect {
                let Some((_, other)) = earlier.expect.iter().find(|(f, _)| f == field) else {
                    continue;
                };
                if contradict(want, other) {
                    errors.push(Diagnostic::error(
                        &later.file,
                        Some((later.line, later.col)),
                        format!(
                            "check `{}` expects {field} {}, but check `{}` at {} expects {}, and some SIMs are selected by both: each of them fails one",
                            later.name,
                            describe(*field, want),
                            earlier.name,
                            earlier.location(),
                            describe(*field, other),
                        ),
                        "make the expectations agree, or narrow one check's `select` so that the two never select the same SIM",
                    ));
                }
            }
        }
    }
}

/// Every `limit` that counts a change no rule or `sims:` entry makes (a warning: the limit holds
/// trivially until one does).
pub(super) fn warn_idle_limits(
    checks: &[Check],
    rules: &[Rule],
    entries: &[SimEntry],
    warnings: &mut Vec<Diagnostic>,
) {
    let settings = || {
        rules
            .iter()
            .flat_map(|r| r.settings.iter())
            .chain(entries.iter().flat_map(|e| e.settings.iter()))
            .map(|(field, value)| (*field, &value.value))
    };
    let unlocks =
        || settings().any(|(_, v)| matches!(v, DesiredValue::ImeiLock(ImeiLockSetting::Off)));
    for check in checks {
        for limit in &check.limits {
            let counted = match &limit.counted {
                Counted::Field(field) => {
                    settings().any(|(f, _)| f == *field) || (*field == Field::Status && unlocks())
                }
                Counted::StatusTo(ids) => {
                    settings()
                        .any(|(_, v)| matches!(v, DesiredValue::Status(id) if ids.contains(id)))
                        || (ids.contains(&ACTIVATED) && unlocks())
                }
                Counted::ImeiUnlocks => unlocks(),
            };
            if !counted {
                warnings.push(Diagnostic::warning(
                    &check.file,
                    Some((check.line, check.col)),
                    format!(
                        "check `{}` limits {}, but no rule or `sims:` entry makes that change: the limit can count nothing",
                        check.name,
                        limit.describe()
                    ),
                    "limit a change the spec makes, or keep it as a guard for rules to come",
                ));
            }
        }
    }
}

/// True when every SIM `narrow` selects is also selected by `wide`.
fn covers(wide: &Matcher, narrow: &Matcher) -> bool {
    match (wide, narrow) {
        (Matcher::All, _) => true,
        (Matcher::Conditions(_), Matcher::All) => false,
        (Matcher::Conditions(wide), Matcher::Conditions(narrow)) => wide
            .iter()
            .all(|w| narrow.iter().any(|n| n.key == w.key && implies(n, w))),
    }
}

/// True when a SIM meeting `n` meets `w` (same key).
fn implies(n: &Condition, w: &Condition) -> bool {
    match (&n.test, &w.test) {
        (Test::Ids(n), Test::Ids(w)) => n.iter().all(|id| w.contains(id)),
        (
            Test::Texts {
                values: n,
                or_none: n_none,
            },
            Test::Texts {
                values: w,
                or_none: w_none,
            },
        ) => n.iter().all(|v| w.contains(v)) && (!n_none || *w_none),
        (Test::Texts { values, or_none }, Test::Prefix(p)) => {
            !or_none && values.iter().all(|v| v.starts_with(p.as_str()))
        }
        (Test::Prefix(n), Test::Prefix(w)) => n.starts_with(w.as_str()),
        _ => false,
    }
}

/// True when no value can satisfy both expectations.
fn contradict(a: &Expectation, b: &Expectation) -> bool {
    use Expectation::{Absent, AnyOf, AtLeast, AtMost, NoneOf, Present};
    match (a, b) {
        (AnyOf(a), AnyOf(b)) => !a.iter().any(|x| b.iter().any(|y| compatible(x, y))),
        (AnyOf(a), NoneOf(b)) | (NoneOf(b), AnyOf(a)) => a.iter().all(|x| excluded(x, b)),
        (AtMost(m), AtLeast(n)) | (AtLeast(n), AtMost(m)) => !n.is_at_most(*m),
        (AnyOf(a), AtMost(m)) | (AtMost(m), AnyOf(a)) => a
            .iter()
            .all(|x| limit_of(x).is_some_and(|x| !x.is_at_most(*m))),
        (AnyOf(a), AtLeast(n)) | (AtLeast(n), AnyOf(a)) => a
            .iter()
            .all(|x| limit_of(x).is_some_and(|x| !n.is_at_most(x))),
        (Present, Absent) | (Absent, Present) => true,
        (AnyOf(a), Present) | (Present, AnyOf(a)) => {
            a.iter().all(|x| matches!(x, DesiredValue::Text(None)))
        }
        (AnyOf(a), Absent) | (Absent, AnyOf(a)) => {
            a.iter().all(|x| matches!(x, DesiredValue::Text(Some(_))))
        }
        _ => false,
    }
}

/// Two expected values one end value can both count as (`auto` is any enabled lock).
fn compatible(x: &DesiredValue, y: &DesiredValue) -> bool {
    use ImeiLockSetting::{Auto, Imei};
    x == y
        || matches!(
            (x, y),
            (
                DesiredValue::ImeiLock(Auto),
                DesiredValue::ImeiLock(Imei(_))
            ) | (
                DesiredValue::ImeiLock(Imei(_)),
                DesiredValue::ImeiLock(Auto)
            )
        )
}

/// True when a value that counts as `x` is always one of `none_of` (a lock on an IMEI is an
/// enabled lock, so `none_of: [auto]` excludes it).
fn excluded(x: &DesiredValue, none_of: &[DesiredValue]) -> bool {
    none_of.iter().any(|y| {
        x == y
            || matches!(
                (x, y),
                (
                    DesiredValue::ImeiLock(ImeiLockSetting::Imei(_)),
                    DesiredValue::ImeiLock(ImeiLockSetting::Auto)
                )
            )
    })
}

fn limit_of(value: &DesiredValue) -> Option<Limit> {
    match value {
        DesiredValue::Limit(limit) => Some(*limit),
        _ => None,
    }
}

/// `= 1GB`, `one of [a, b]`, `none of [off]`, `at most 1GB`, `present`.
fn describe(field: CheckField, expectation: &Expectation) -> String {
    let list = |values: &[DesiredValue]| {
        values
            .iter()
            .map(|v| field.format(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let limit = |l: &Limit| field.format(&DesiredValue::Limit(*l));
    match expectation {
        Expectation::AnyOf(values) if values.len() == 1 => format!("= {}", list(values)),
        Expectation::AnyOf(values) => format!("one of [{}]", list(values)),
        Expectation::NoneOf(values) => format!("none of [{}]", list(values)),
        Expectation::AtMost(l) => format!("at most {}", limit(l)),
        Expectation::AtLeast(l) => format!("at least {}", limit(l)),
        Expectation::Present => "present".to_string(),
        Expectation::Absent => "absent".to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// The spec in `yaml` (one file) loaded: its errors, or its warnings.
    fn load(yaml: &str) -> Result<String, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("fleet.yaml"), yaml).expect("write spec");
        match crate::spec::load(dir.path()) {
            Ok(loaded) => Ok(loaded.warnings.iter().map(|w| format!("{w}\n")).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn check(name: &str, level: &str, select: &str, expect: &str) -> String {
        format!("  - name: {name}\n    level: {level}\n    message: m\n    select: {select}\n    expect: {expect}\n")
    }

    fn two(a: (&str, &str), b: (&str, &str)) -> Result<String, String> {
        load(&format!(
            "checks:\n{}{}",
            check("a", "deny", a.0, a.1),
            check("b", "deny", b.0, b.1)
        ))
    }

    #[test]
    fn contradicting_expects_on_sims_both_select_are_errors() {
        let same = "{ status: activated }";
        let contradictions = [
            (
                (same, "{ monthly_data_limit: 1GB }"),
                (same, "{ monthly_data_limit: 2GB }"),
            ),
            (
                ("all", "{ monthly_data_limit: { at_least: 2GB } }"),
                (
                    "{ provider: link+ }",
                    "{ monthly_data_limit: { at_most: 1GB } }",
                ),
            ),
            (
                (same, r#"{ imei_lock: "off" }"#),
                (same, r#"{ imei_lock: { none_of: ["off"] } }"#),
            ),
            (
                (same, r#"{ imei_lock: "off" }"#),
                (same, r#"{ imei_lock: auto }"#),
            ),
            (
                (
                    "{ end_customer_label: [ACME, Globex] }",
                    "{ custom_field_1: { present: true } }",
                ),
                (
                    "{ end_customer_label: ACME, status: activated }",
                    "{ custom_field_1: { absent: true } }",
                ),
            ),
            (
                (
                    "{ iccid: { prefix: \"8949\" } }",
                    "{ monthly_data_volume: { at_most: 1MB } }",
                ),
                (
                    "{ iccid: { prefix: \"89490\" } }",
                    "{ monthly_data_volume: { at_least: 2MB } }",
                ),
            ),
            (
                (same, "{ monthly_sms_mo_limit: [10, 20] }"),
                (same, "{ monthly_sms_mo_limit: { at_least: 30 } }"),
            ),
            (
                (same, "{ provider: link+ }"),
                (same, "{ provider: { not: 5 } }"),
            ),
        ];
        for (a, b) in contradictions {
            let errors = two(a, b).expect_err("contradiction");
            assert!(
                errors.contains("fleet.yaml:7:11: error: check `b` expects")
                    && errors.contains("but check `a` at")
                    && errors.contains("fleet.yaml:2:11"),
                "{a:?} {b:?}: {errors}"
            );
        }
        let errors = two(contradictions[1].0, contradictions[1].1).expect_err("bounds");
        assert!(
            errors.contains("expects monthly_data_limit at most 1GB, but check `a` at")
                && errors.contains("expects at least 2GB"),
            "{errors}"
        );
    }

    #[test]
    fn compatible_expects_and_disjoint_selects_are_not_errors() {
        let same = "{ status: activated }";
        let fine = [
            (
                (same, "{ monthly_data_limit: [1GB, 2GB] }"),
                (same, "{ monthly_data_limit: 2GB }"),
            ),
            (
                (same, "{ monthly_data_limit: { at_most: 2GB } }"),
                (same, "{ monthly_data_limit: { at_least: 2GB } }"),
            ),
            (
                (same, r#"{ imei_lock: auto }"#),
                (same, r#"{ imei_lock: "356938035643809" }"#),
            ),
            (
                (same, r#"{ imei_lock: { not: "off" } }"#),
                (same, r#"{ imei_lock: "356938035643809" }"#),
            ),
            (
                (same, "{ monthly_data_limit: 1GB }"),
                ("{ status: suspended }", "{ monthly_data_limit: 2GB }"),
            ),
            // They might select the same SIMs, or might not: not judged.
            (
                (
                    "{ end_customer_label: ACME }",
                    "{ monthly_data_limit: 1GB }",
                ),
                ("{ provider: link+ }", "{ monthly_data_limit: 2GB }"),
            ),
            (
                (same, "{ monthly_data_limit: 1GB }"),
                (same, "{ monthly_sms_mo_limit: 2 }"),
            ),
        ];
        for (a, b) in fine {
            assert!(two(a, b).is_ok(), "{a:?} {b:?}: {:?}", two(a, b));
        }
    }

    #[test]
    fn limits_over_changes_no_one_makes_warn_and_read_only_fields_are_errors() {
        let limits = "checks:\n  - name: few-unlocks\n    level: deny\n    message: m\n    select: all\n    limit: { imei_unlocks: { at_most: 10 }, status: { to: [activated], at_most: 5 }, monthly_data_limit: { changes: { at_most: 3 } } }\n";
        let warnings = load(limits).expect("a spec");
        for needle in [
            "fleet.yaml:2:11: warning: check `few-unlocks` limits IMEI unlocks, but no rule",
            "limits status changes to activated, but",
            "limits monthly_data_limit changes, but",
        ] {
            assert!(
                warnings.contains(needle),
                "{needle:?} missing from:\n{warnings}"
            );
        }
        // A rule unlocking IMEIs makes all three count (an unlock in status 20 activates).
        let unlocking = format!(
            "rules:\n  - name: r\n    match: all\n    set: {{ imei_lock: \"off\", monthly_data_limit: 1GB }}\n{limits}"
        );
        let warnings = load(&unlocking).expect("a spec");
        assert!(!warnings.contains("can count nothing"), "{warnings}");
        let errors = load(
            "checks:\n  - name: c\n    level: deny\n    message: m\n    select: all\n    limit: { provider: { changes: { at_most: 1 } }, monthly_data_volume: { changes: { at_most: 1 } }, colour: {} }\n",
        )
        .expect_err("read-only");
        for needle in [
            "fleet.yaml:6:14: error: check `c`: `provider` is read-only, no spec can change it",
            "`monthly_data_volume` is read-only",
            "unknown key `colour`",
        ] {
            assert!(
                errors.contains(needle),
                "{needle:?} missing from:\n{errors}"
            );
        }
    }
}
