//! Property-based fuzzing of every entry point that reads untrusted input: spec files (arbitrary
//! YAML-ish text and bytes, and structured-random specs), the value parsers (parse → format →
//! parse is the identity), snapshot and plan files, `--target` selectors, and the API client's
//! response decoder (arbitrary bodies and statuses from a stub server on loopback).
//!
//! The property everywhere is "a clear error or a valid result, never a panic": a panic in a CI
//! run of `plan` or `apply` is a run that stops halfway. The number of cases is bounded by
//! `PROPTEST_CASES` (each target has a small default so `cargo test` stays fast); `.ci/run` raises
//! it. A failing case is printed minimised by proptest; add it to the fixed cases below.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::Config;
use secrecy::SecretString;
use serde_json::{json, Value};

use simfleet::api::{
    BatchJobChanges, BatchJobParams, Client, ClientConfig, RetryPolicy, SimFields, UpdateSimArgs,
};
use simfleet::fleet::{tables, SimFilter, Snapshot};
use simfleet::plan::Plan;
use simfleet::spec::values::{self, RawScalar};
use simfleet::spec::{self, DesiredValue, Field, ImeiLockSetting, Limit, Matcher};

/// `PROPTEST_CASES` when set, else `default`: each target is sized for a fast default run.
fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Failures are reported minimised in the test output; no files in the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Pieces of YAML that real specs and real mistakes are made of: keys, values, indicators,
/// anchors, tags, flow collections, document markers, tabs and odd unicode.
fn yaml_token() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "rules:",
        "sims:",
        "- name: r",
        "  - name: r2",
        "match:",
        "  match: all",
        "set:",
        "    set:",
        "priority: 10",
        "priority: -1",
        "status: activated",
        "status: [activated, test-ready]",
        "status: 99",
        "provider: link+",
        "provider: 3",
        "iccid: { prefix: \"8949\" }",
        "iccid: {prefix: 8949}",
        "end_customer_label: ACME",
        "end_customer_label: none",
        "custom_field_1: truck-1",
        "monthly_data_limit: 500MB",
        "monthly_data_limit: 0",
        "monthly_data_limit: 1.5GB",
        "monthly_data_limit: 2.0000000001GB",
        "monthly_data_limit: unlimited",
        "monthly_sms_mo_limit: 2147483648",
        "monthly_sms_mt_limit: unlimited",
        "monthly_voice_mo_limit: 9223372036854775808",
        "imei_lock: auto",
        "imei_lock: off",
        "imei_lock: \"356938035643809\"",
        "imei_lock: 356938035643809",
        "\"89490000000000000015\":",
        "89490000000000000015:",
        "luhn_check: false",
        "max_changes: 5",
        "---",
        "...",
        "&a",
        "*a",
        "<<: *a",
        "!!binary",
        "!custom",
        "? complex",
        ": value",
        "- ",
        "  ",
        "    ",
        "\t",
        "#",
        "|",
        ">-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\"",
        "'",
        "~",
        "null",
        "true",
        "yes",
        "0x1F",
        "1e400",
        "-0",
        ".inf",
        ".nan",
        "é",
        "\u{feff}",
        "\u{0}",
        "\r",
        "%YAML 1.2",
        "%TAG ! tag:x,2000:",
    ]);
    prop_oneof![
        8 => words.prop_map(str::to_string),
        1 => "[ -~]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ]
}

/// YAML-ish text: lines of tokens at random indentation.
fn yamlish_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (0usize..4, prop::collection::vec(yaml_token(), 1..4)),
        0..24,
    )
    .prop_map(|lines| {
        let mut text = String::new();
        for (indent, tokens) in lines {
            text.push_str(&"  ".repeat(indent));
            text.push_str(&tokens.join(" "));
            text.push('\n');
        }
        text
    })
}

/// A full ICCID (19 or 20 digits) with a valid Luhn check digit.
fn iccid() -> impl Strategy<Value = String> {
    (prop::bool::ANY, "[0-9]{18}").prop_map(|(long, body)| {
        let body = if long { format!("8{body}") } else { body };
        with_luhn(&body)
    })
}

/// A 15-digit IMEI with a valid Luhn check digit.
fn imei() -> impl Strategy<Value = String> {
    "[0-9]{14}".prop_map(|body| with_luhn(&body))
}

fn with_luhn(body: &str) -> String {
    for check in 0..10 {
        let candidate = format!("{body}{check}");
        if values::luhn_valid(&candidate) {
            return candidate;
        }
    }
    unreachable!("one of ten check digits is valid")
}

fn limit(max: i64) -> impl Strategy<Value = Limit> {
    prop_oneof![
        1 => Just(Limit::Unlimited),
        3 => (1..=max).prop_map(Limit::Value),
        // Round sizes are where unit formatting kicks in.
        3 => (1i64..10_000, 0u32..5).prop_map(move |(n, p)| {
            Limit::Value(n.saturating_mul(1000i64.pow(p)).clamp(1, max))
        }),
        2 => (1i64..10_000, 0u32..5).prop_map(move |(n, p)| {
            Limit::Value(n.saturating_mul(1024i64.pow(p)).clamp(1, max))
        }),
    ]
}

fn text_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        // Printable text without leading/trailing blanks, never the word `none` itself.
        4 => "[A-Za-z0-9][A-Za-z0-9 _.:/#-]{0,20}[A-Za-z0-9]"
            .prop_filter("`none` means remove", |s| s != "none")
            .prop_map(Some),
    ]
}

fn imei_lock() -> impl Strategy<Value = ImeiLockSetting> {
    prop_oneof![
        Just(ImeiLockSetting::Off),
        Just(ImeiLockSetting::Auto),
        imei().prop_map(ImeiLockSetting::Imei),
    ]
}

/// One field and a value for it that a spec may set.
fn setting() -> impl Strategy<Value = (Field, DesiredValue)> {
    prop_oneof![
        prop::sample::select(tables::SETTABLE_STATUSES.to_vec())
            .prop_map(|s| (Field::Status, DesiredValue::Status(s))),
        limit(i64::MAX).prop_map(|l| (Field::MonthlyDataLimit, DesiredValue::Limit(l))),
        limit(i64::from(i32::MAX)).prop_map(|l| (Field::MonthlySmsMoLimit, DesiredValue::Limit(l))),
        limit(i64::from(i32::MAX)).prop_map(|l| (Field::MonthlySmsMtLimit, DesiredValue::Limit(l))),
        limit(i64::MAX).prop_map(|l| (Field::MonthlyVoiceMoLimit, DesiredValue::Limit(l))),
        text_value().prop_map(|t| (Field::CustomField1, DesiredValue::Text(t))),
        text_value().prop_map(|t| (Field::EndCustomerLabel, DesiredValue::Text(t))),
        imei_lock().prop_map(|l| (Field::ImeiLock, DesiredValue::ImeiLock(l))),
    ]
}

/// A value as a spec writes it, with the spec module's own formatters.
fn write_value(field: Field, value: &DesiredValue) -> String {
    match value {
        DesiredValue::Status(id) => values::format_status(*id),
        DesiredValue::Limit(l) if field == Field::MonthlyDataLimit => values::format_data_limit(*l),
        DesiredValue::Limit(l) => values::format_limit(*l),
        DesiredValue::Text(t) => values::format_text(t.as_deref()),
        DesiredValue::ImeiLock(l) => values::format_imei_lock(l),
    }
}

/// Text as a double-quoted YAML scalar, unless it is the bare word `none`.
fn yaml_quote(text: &str) -> String {
    if text == "none" {
        return text.to_string();
    }
    serde_json::to_string(text).unwrap_or_default()
}

/// A random match that the loader must accept.
fn match_block() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("all".to_string()),
        prop::sample::select(vec![
            "{ end_customer_label: ACME }",
            "{ status: [activated, test-ready] }",
            "{ provider: link+ }",
            "{ iccid: { prefix: \"8949\" } }",
            "{ custom_field_1: truck-1, status: 2 }",
        ])
        .prop_map(str::to_string),
    ]
}

/// A rule: a match, one to eight distinct fields with values, a priority.
#[derive(Debug, Clone)]
struct RandomRule {
    matcher: String,
    settings: Vec<(Field, DesiredValue)>,
    priority: Option<i64>,
}

fn random_rule() -> impl Strategy<Value = RandomRule> {
    (
        match_block(),
        prop::collection::vec(setting(), 1..8),
        prop::option::of(-100i64..100),
    )
        .prop_map(|(matcher, settings, priority)| {
            let mut seen = BTreeSet::new();
            let settings = settings
                .into_iter()
                .filter(|(f, _)| seen.insert(*f))
                .collect();
            RandomRule {
                matcher,
                settings,
                priority,
            }
        })
}

/// Distinct priorities, so that two rules never conflict: the first rule may leave it out (0) or
/// be negative, the others are 1, 2, ...
fn written_priority(index: usize, rule: &RandomRule) -> Option<i64> {
    match (index, rule.priority) {
        (0, None) => None,
        (0, Some(p)) => Some(-p.abs() - 1),
        (i, _) => Some(i as i64),
    }
}

fn render_rules(rules: &[RandomRule]) -> String {
    let mut yaml = String::from("rules:\n");
    for (i, rule) in rules.iter().enumerate() {
        let _ = writeln!(yaml, "  - name: rule-{i}");
        let _ = writeln!(yaml, "    match: {}", rule.matcher);
        if let Some(p) = written_priority(i, rule) {
            let _ = writeln!(yaml, "    priority: {p}");
        }
        yaml.push_str("    set:\n");
        for (field, value) in &rule.settings {
            let _ = writeln!(
                yaml,
                "      {}: {}",
                field.name(),
                write_value(*field, value)
            );
        }
    }
    yaml
}

/// Writes `files` into a fresh spec directory and loads it; the directory lives as long as the
/// result is inspected.
fn load_files(
    files: &[(&str, &[u8])],
) -> (
    tempfile::TempDir,
    Result<spec::LoadedSpec, spec::SpecErrors>,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(path, bytes).expect("write spec file");
    }
    let loaded = spec::load(dir.path());
    (dir, loaded)
}

/// What every failed load must look like: at least one error, each with a message and a file.
fn assert_clear_errors(errors: &spec::SpecErrors) -> Result<(), TestCaseError> {
    prop_assert!(
        !errors.diagnostics.is_empty(),
        "an error without diagnostics"
    );
    for d in &errors.diagnostics {
        prop_assert!(!d.message.trim().is_empty(), "empty message in {d:?}");
        prop_assert!(!d.file.is_empty(), "no file in {d:?}");
    }
    prop_assert!(!errors.to_string().is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Spec loader
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(96))]

    /// Arbitrary YAML-ish text: an error with locations, or a spec whose rules are unique.
    #[test]
    fn spec_loader_survives_yamlish_text(text in yamlish_text()) {
        let (_dir, loaded) = load_files(&[("fleet.yaml", text.as_bytes())]);
        match loaded {
            Ok(loaded) => {
                let names: BTreeSet<_> = loaded.spec.rules().iter().map(|r| &r.name).collect();
                prop_assert_eq!(names.len(), loaded.spec.rules().len());
                for rule in loaded.spec.rules() {
                    prop_assert!(rule.origin.line >= 1, "rule without a location: {rule:?}");
                }
            }
            Err(errors) => assert_clear_errors(&errors)?,
        }
    }

    /// Arbitrary bytes (not UTF-8, NULs, control characters) as a spec file and as the config.
    #[test]
    fn spec_loader_survives_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        config in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let (_dir, loaded) = load_files(&[("a.yaml", &bytes), ("simfleet.yaml", &config)]);
        if let Err(errors) = loaded {
            assert_clear_errors(&errors)?;
        }
    }

    /// Structured-random specs written with the spec module's own formatters load, and every
    /// rule resolves to exactly the values that were written.
    #[test]
    fn random_valid_specs_load_with_the_values_written(
        rules in prop::collection::vec(random_rule(), 1..6),
    ) {
        let yaml = render_rules(&rules);
        let (_dir, loaded) = load_files(&[("rules.yaml", yaml.as_bytes())]);
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(errors) => {
                return Err(TestCaseError::fail(format!("valid spec refused: {errors}\n{yaml}")));
            }
        };
        prop_assert_eq!(loaded.spec.rules().len(), rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let name = format!("rule-{i}");
            let loaded_rule = loaded.spec.rules().iter().find(|r| r.name == name);
            prop_assert!(loaded_rule.is_some(), "{name} missing\n{yaml}");
            let loaded_rule = loaded_rule.expect("checked above");
            prop_assert_eq!(loaded_rule.settings.len(), rule.settings.len(), "{}", yaml);
            for (field, value) in &rule.settings {
                let got = loaded_rule.setting(*field).map(|r| &r.value);
                prop_assert_eq!(got, Some(value), "{} of {}\n{}", field.name(), name, yaml);
            }
            prop_assert_eq!(loaded_rule.priority, written_priority(i, rule).unwrap_or(0));
        }
    }

    /// A valid spec with one line damaged: still an error or a spec, never a panic.
    #[test]
    fn damaged_valid_specs_fail_cleanly(
        rules in prop::collection::vec(random_rule(), 1..4),
        line in any::<prop::sample::Index>(),
        damage in yaml_token(),
    ) {
        let yaml = render_rules(&rules);
        let mut lines: Vec<String> = yaml.lines().map(str::to_string).collect();
        let at = line.index(lines.len());
        lines[at] = format!("{}{damage}", &lines[at][..lines[at].len() / 2]);
        let damaged = lines.join("\n");
        let (_dir, loaded) = load_files(&[("rules.yaml", damaged.as_bytes())]);
        if let Err(errors) = loaded {
            assert_clear_errors(&errors)?;
        }
    }

    /// `plan --target` selectors: an error or a matcher, never a panic.
    #[test]
    fn target_selector_parser_survives(text in yamlish_text()) {
        let _ = Matcher::parse_inline(&text);
    }
}

/// An alias bomb ("billion laughs") must not hang or exhaust memory: it is refused or expanded
/// within the parser's budget, and the loader answers in seconds.
#[test]
fn spec_loader_survives_an_alias_bomb() {
    let mut yaml =
        String::from("a0: &a0 [\"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\"]\n");
    for i in 1..12 {
        let prev = i - 1;
        let _ = writeln!(
            yaml,
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]"
        );
    }
    yaml.push_str("rules: *a11\n");
    let started = std::time::Instant::now();
    let (_dir, loaded) = load_files(&[("bomb.yaml", yaml.as_bytes())]);
    assert!(loaded.is_err(), "an alias bomb is not a spec");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// Deep nesting must not overflow the stack.
#[test]
fn spec_loader_survives_deep_nesting() {
    for depth in [200usize, 5_000, 50_000] {
        let yaml = format!("rules: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let (_dir, loaded) = load_files(&[("deep.yaml", yaml.as_bytes())]);
        assert!(loaded.is_err(), "depth {depth} is not a spec");
        let yaml = format!(
            "rules:\n{}",
            (0..depth.min(2_000))
                .map(|i| format!("{}- \n", " ".repeat(i)))
                .collect::<String>()
        );
        let (_dir, loaded) = load_files(&[("deep2.yaml", yaml.as_bytes())]);
        assert!(loaded.is_err(), "indented depth {depth} is not a spec");
    }
}

// ---------------------------------------------------------------------------------------------
// Value parsers
// ---------------------------------------------------------------------------------------------

/// A YAML scalar as the loader sees it.
fn scalar(yaml: &str) -> RawScalar {
    serde_saphyr::from_str::<RawScalar>(yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"))
}

proptest! {
    #![proptest_config(cases(512))]

    /// Sizes: any text parses to an error or a positive size that formats and parses back.
    #[test]
    fn size_parser_is_total_and_canonical(text in prop_oneof![
        "[0-9]{0,22}(\\.[0-9]{0,12})? ?(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB|kb|mb|Gb|K|)",
        "[ -~]{0,16}",
        any::<String>(),
    ]) {
        if let Ok(bytes) = values::parse_size(&text) {
            prop_assert!(bytes >= 0);
            let formatted = values::format_size(bytes);
            prop_assert_eq!(values::parse_size(&formatted), Ok(bytes), "{} → {}", text, formatted);
        }
    }

    /// Limits of each kind: format → YAML → parse is the identity.
    #[test]
    fn limits_round_trip_through_yaml(
        data in limit(i64::MAX),
        sms in limit(i64::from(i32::MAX)),
        voice in limit(i64::MAX),
    ) {
        prop_assert_eq!(values::parse_data_limit(&scalar(&values::format_data_limit(data))), Ok(data));
        prop_assert_eq!(values::parse_sms_limit(&scalar(&values::format_limit(sms))), Ok(sms));
        prop_assert_eq!(values::parse_voice_limit(&scalar(&values::format_limit(voice))), Ok(voice));
    }

    /// ICCIDs and IMEIs (quoted, as the spec requires) parse back to themselves; unquoted they
    /// are refused with "quote it"; one changed digit fails the Luhn check.
    #[test]
    fn iccids_and_imeis_round_trip(iccid in iccid(), imei in imei(), flip in 0usize..15, delta in 1u8..10) {
        prop_assert_eq!(values::parse_iccid(&scalar(&format!("\"{iccid}\"")), true), Ok(iccid.clone()));
        prop_assert_eq!(values::parse_imei(&scalar(&format!("\"{imei}\""))), Ok(imei.clone()));
        let lock = ImeiLockSetting::Imei(imei.clone());
        prop_assert_eq!(values::parse_imei_lock(&scalar(&values::format_imei_lock(&lock))), Ok(lock));
        prop_assert!(values::parse_imei(&scalar(&imei)).is_err(), "unquoted IMEI accepted");
        prop_assert!(values::parse_iccid(&scalar(&iccid), true).is_err(), "unquoted ICCID accepted");
        let mut typo = imei.into_bytes();
        typo[flip] = b'0' + (typo[flip] - b'0' + delta) % 10;
        let typo = String::from_utf8(typo).expect("digits");
        prop_assert!(values::parse_imei(&RawScalar::Str(typo)).is_err(), "one-digit typo passed Luhn");
    }

    /// Any scalar into every parser: an error with a message and a fix, or a value that
    /// formats and parses back to itself.
    #[test]
    fn every_value_parser_is_total(raw in prop_oneof![
        Just(RawScalar::Null),
        any::<bool>().prop_map(RawScalar::Bool),
        any::<i128>().prop_map(RawScalar::Int),
        (-5i128..5_000_000_000).prop_map(RawScalar::Int),
        any::<f64>().prop_map(RawScalar::Float),
        "[ -~]{0,24}".prop_map(RawScalar::Str),
        "[0-9]{0,22}".prop_map(RawScalar::Str),
        any::<String>().prop_map(RawScalar::Str),
    ]) {
        let check = |r: Result<String, values::ValueError>| -> Result<(), TestCaseError> {
            if let Err(e) = r {
                prop_assert!(!e.message.is_empty() && !e.help.is_empty(), "{e:?}");
            }
            Ok(())
        };
        if let Ok(l) = values::parse_data_limit(&raw) {
            prop_assert_eq!(values::parse_data_limit(&scalar(&values::format_data_limit(l))), Ok(l));
        }
        if let Ok(l) = values::parse_sms_limit(&raw) {
            prop_assert!(matches!(l, Limit::Unlimited) || matches!(l, Limit::Value(1..=0x7fff_ffff)));
            prop_assert_eq!(values::parse_sms_limit(&scalar(&values::format_limit(l))), Ok(l));
        }
        if let Ok(l) = values::parse_voice_limit(&raw) {
            prop_assert_eq!(values::parse_voice_limit(&scalar(&values::format_limit(l))), Ok(l));
        }
        if let Ok(s) = values::parse_status(&raw) {
            prop_assert_eq!(values::parse_status(&scalar(&values::format_status(s))), Ok(s));
        }
        if let Ok(s) = values::parse_settable_status(&raw) {
            prop_assert!(tables::SETTABLE_STATUSES.contains(&s));
        }
        if let Ok(p) = values::parse_provider(&raw) {
            prop_assert_eq!(values::parse_provider(&scalar(&yaml_quote(&values::format_provider(p)))), Ok(p));
        }
        if let Ok(l) = values::parse_imei_lock(&raw) {
            prop_assert_eq!(values::parse_imei_lock(&scalar(&values::format_imei_lock(&l))), Ok(l));
        }
        if let Ok(t) = values::parse_text_or_none(&raw, "label") {
            // `format_text` is for messages: it quotes without escaping, so the round trip holds
            // for printable text without `"` and `\` (RELIABILITY.md notes the rest).
            let plain = |s: &str| s.chars().all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\');
            if t.as_deref().is_none_or(plain) {
                let written = values::format_text(t.as_deref());
                prop_assert_eq!(values::parse_text_or_none(&scalar(&written), "label"), Ok(t));
            }
        }
        check(values::parse_iccid(&raw, true))?;
        check(values::parse_iccid(&raw, false))?;
        check(values::parse_imei(&raw))?;
        check(values::parse_digit_prefix(&raw, "ICCID"))?;
        check(values::parse_data_limit(&raw).map(values::format_data_limit))?;
        check(values::parse_status(&raw).map(values::format_status))?;
        check(values::parse_provider(&raw).map(values::format_provider))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshot and plan files
// ---------------------------------------------------------------------------------------------

/// JSON values biased towards the field names of the API and of our files.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "data",
        "errors",
        "message",
        "listSims",
        "items",
        "nextToken",
        "totalSims",
        "iccid",
        "statusid",
        "providerid",
        "imei",
        "imsi",
        "msisdn",
        "monthly_data_limit",
        "monthly_sms_mo_limit",
        "monthly_sms_mt_limit",
        "monthly_voice_mo_limit",
        "custom_field_1",
        "end_customer_label",
        "name",
        "imei_lock",
        "enabled",
        "getAvailableStatusTransitions",
        "fromstatusid",
        "tostatusid",
        "updateSim",
        "startBatchJob",
        "batchJobId",
        "getBatchJob",
        "listBatchJobs",
        "listBatchJobDetails",
        "cancelBatchJob",
        "statusDetails",
        "currentStatus",
        "totalCount",
        "simList",
        "details",
        "errorCodes",
        "status",
        "startedAt",
        "finishedAt",
        "changes",
        "format_version",
        "sims",
        "transitions",
        "summary",
        "checksum",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(0i64), Just(1), Just(-1), Just(i64::from(i32::MAX) + 1)]
            .prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[ -~]{0,10}".prop_map(Value::from),
        prop::sample::select(vec![
            "89490000000000000015",
            "COMPLETED",
            "FAILED",
            "RUNNING",
            "SUCCESSFUL",
            "SKIPPED",
            ""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(cases(256))]

    /// Snapshot files: an error naming the file, or a snapshot without duplicate ICCIDs.
    #[test]
    fn snapshot_parser_survives(value in json_value(), raw in any::<String>()) {
        for text in [value.to_string(), raw] {
            match Snapshot::from_json(&text, "fuzz.json") {
                Ok(snapshot) => {
                    let unique: BTreeSet<_> = snapshot.sims.iter().map(|s| &s.iccid).collect();
                    prop_assert_eq!(unique.len(), snapshot.sims.len());
                }
                Err(e) => prop_assert!(e.to_string().contains("fuzz.json"), "{e}"),
            }
        }
    }

    /// Plan files (`show`, `apply`): arbitrary JSON is refused with a message, never a panic.
    #[test]
    fn plan_file_parser_survives(value in json_value(), raw in any::<String>()) {
        for text in [value.to_string(), raw] {
            if let Err(e) = Plan::from_file_json(&text) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// API response decoder, over real HTTP from a stub server
// ---------------------------------------------------------------------------------------------

/// What the stub answers next: status and body.
type Answer = Arc<Mutex<(u16, Vec<u8>)>>;

struct Stub {
    runtime: tokio::runtime::Runtime,
    answer: Answer,
    client: Client,
}

/// One stub server and client for all cases: answers whatever `answer` holds.
fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let answer: Answer = Arc::new(Mutex::new((200, b"{}".to_vec())));
        let served = answer.clone();
        let url = runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/graphql",
                axum::routing::post(move || {
                    let served = served.clone();
                    async move {
                        let (status, body) = served.lock().map(|a| a.clone()).unwrap_or_default();
                        (
                            axum::http::StatusCode::from_u16(status)
                                .unwrap_or(axum::http::StatusCode::OK),
                            [("content-type", "application/json")],
                            body,
                        )
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            format!("http://{addr}/graphql")
        });
        let mut config = ClientConfig::new(url, SecretString::from("fuzz-token-1234".to_string()));
        config.rate_per_second = None;
        config.retry = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        config.timeout = std::time::Duration::from_secs(5);
        let client = runtime
            .block_on(async { Client::new(config) })
            .expect("client");
        Stub {
            runtime,
            answer,
            client,
        }
    })
}

/// A body for one operation's root field: well-formed, damaged, or anything at all.
fn response_body() -> impl Strategy<Value = (u16, String)> {
    let field = prop::sample::select(vec![
        "listSims",
        "getAvailableStatusTransitions",
        "updateSim",
        "startBatchJob",
        "getBatchJob",
        "listBatchJobs",
        "listBatchJobDetails",
        "cancelBatchJob",
    ]);
    let status = prop_oneof![
        12 => Just(200u16),
        1 => Just(400),
        1 => Just(401),
        1 => Just(429),
        1 => Just(500),
        1 => Just(204),
    ];
    let body = prop_oneof![
        4 => (field.clone(), json_value()).prop_map(|(f, v)| json!({"data": {f: v}}).to_string()),
        2 => json_value().prop_map(|v| v.to_string()),
        2 => (field, json_value(), any::<prop::sample::Index>()).prop_map(|(f, v, cut)| {
            let text = json!({"data": {f: v}}).to_string();
            let at = cut.index(text.len() + 1);
            text.get(..at).unwrap_or(&text).to_string()
        }),
        1 => any::<String>(),
    ];
    (status, body)
}

proptest! {
    #![proptest_config(cases(256))]

    /// Every operation decodes an arbitrary answer into its value or an error whose message
    /// names the operation; never a panic, never the token.
    #[test]
    fn api_decoder_survives_arbitrary_answers((status, body) in response_body()) {
        let stub = stub();
        if let Ok(mut answer) = stub.answer.lock() {
            *answer = (status, body.into_bytes());
        }
        let client = &stub.client;
        let errors: Vec<String> = stub.runtime.block_on(async {
            let mut update = UpdateSimArgs::new("89490000000000000015");
            update.changes.custom_field_1 = Some("x".into());
            let batch = BatchJobParams::new(
                vec!["89490000000000000015".into()],
                BatchJobChanges { imei_lock: Some(true), ..BatchJobChanges::default() },
            ).expect("valid job");
            let results = vec![
                client.list_sims_page(&SimFilter::default(), 100, None, SimFields::Plan).await.err(),
                client.count_sims(&SimFilter::default()).await.err(),
                client.status_transitions().await.err(),
                client.update_sim(&update).await.err(),
                client.start_batch_job(&batch).await.err(),
                client.get_batch_job(1).await.err(),
                client.list_batch_jobs(None, 10, None).await.err(),
                client.list_batch_job_details(1, &[], None).await.err(),
                client.cancel_batch_job(1).await.err(),
            ];
            results.into_iter().flatten().map(|e| e.to_string()).collect()
        });
        for message in errors {
            prop_assert!(!message.is_empty());
            prop_assert!(!message.contains("fuzz-token-1234"), "token in {message}");
        }
    }
}
