//! `simfleet validate` end to end: the real binary on spec directories written to temp dirs,
//! one test per kind of bad input (exit 1, file:line:col, what to do), plus the valid example.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

/// Writes `files` under `<tmp>/spec/` and runs `simfleet validate spec` from `<tmp>`.
fn validate(files: &[(&str, &str)]) -> (tempfile::TempDir, assert_cmd::assert::Assert) {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = tmp.path().join("spec").join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, text).expect("write fixture");
    }
    let assert = Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(tmp.path())
        .args(["validate", "spec"])
        .assert();
    (tmp, assert)
}

/// Asserts exit 1 and that stderr holds every expected line fragment.
fn fails_with(files: &[(&str, &str)], expected: &[&str]) -> String {
    let (_tmp, assert) = validate(files);
    let output = assert.code(1).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for fragment in expected {
        assert!(
            stderr.contains(fragment),
            "expected `{fragment}` in stderr:\n{stderr}"
        );
    }
    assert!(output.stdout.is_empty(), "nothing on stdout when invalid");
    stderr
}

const VALID_RULE: &str = "rules:
  - name: acme
    match: {end_customer_label: ACME}
    set: {monthly_data_limit: 500MB}
";

#[test]
fn the_example_spec_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(root)
        .args(["validate", "examples/fleet"])
        .assert()
        .code(0)
        .stdout("4 files, 5 rules, 3 SIM entries, 3 checks: valid\n");
}

#[test]
fn a_valid_spec_prints_one_summary_line_and_skips_the_config() {
    let (_tmp, assert) = validate(&[
        ("a.yaml", VALID_RULE),
        (
            "nested/devices.yml",
            "sims:\n  \"89490000000000012341\":\n    custom_field_1: truck-17\n",
        ),
        (
            "simfleet.yaml",
            "luhn_check: true\nmax_changes: 10\nmax_percent: 5\n",
        ),
        ("notes.txt", "not yaml: [\n"),
        (".github/workflows/ci.yaml", "on: push\n"),
        ("empty.yaml", ""),
        ("comments.yaml", "# nothing yet\n"),
        ("nulls.yaml", "rules:\nsims:\n"),
    ]);
    assert
        .code(0)
        .stdout("5 files, 1 rule, 1 SIM entry: valid\n")
        .stderr("");
}

#[test]
fn the_default_directory_is_fleet() {
    let tmp = tempfile::tempdir().expect("temp dir");
    Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(tmp.path())
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("fleet: error: does not exist"));
}

#[test]
fn malformed_yaml() {
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n   set: {status: activated}\n",
        )],
        &[
            "spec/a.yaml:4:4: error: malformed YAML",
            "fix the YAML syntax",
        ],
    );
    fails_with(
        &[("b.yaml", "rules:\n  - name: \"unterminated\n")],
        &["spec/b.yaml:", "error: malformed YAML"],
    );
    fails_with(
        &[("c.yaml", "rules: []\n---\nsims: {}\n")],
        &["spec/c.yaml:3:1: error: a second YAML document (`---`) — a spec file holds one document"],
    );
}

#[test]
fn unknown_keys_anywhere() {
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n    set:\n      monthly_data_limt: 5GB\n",
        )],
        &[
            "spec/a.yaml:5:7: error: unknown key `monthly_data_limt`",
            "monthly_data_limit",
        ],
    );
    fails_with(
        &[("a.yaml", "rule:\n  - name: x\n")],
        &["spec/a.yaml:1:1: error: unknown key `rule`", "rules, sims"],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: {label: ACME}\n    set: {status: activated}\n",
        )],
        &[
            "spec/a.yaml:3:13: error: unknown key `label`",
            "end_customer_label",
        ],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    priorty: 3\n    match: all\n    set: {status: activated}\n",
        )],
        &["spec/a.yaml:3:5: error: unknown key `priorty`"],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: {iccid: {prefx: '8949'}}\n    set: {status: activated}\n",
        )],
        &["spec/a.yaml:3:21: error: unknown key `prefx`", "prefix"],
    );
    fails_with(
        &[(
            "a.yaml",
            "sims:\n  \"89490000000000012341\":\n    stauts: activated\n",
        )],
        &["spec/a.yaml:3:5: error: unknown key `stauts`"],
    );
    fails_with(
        &[("a.yaml", VALID_RULE), ("simfleet.yaml", "max_change: 3\n")],
        &[
            "spec/simfleet.yaml:1:1: error: unknown key `max_change`",
            "max_changes",
        ],
    );
}

#[test]
fn a_typo_does_not_hide_the_other_problems_of_its_file() {
    let stderr = fails_with(
        &[(
            "a.yaml",
            "rules:
  - nmae: x
    match: {end_customer_lable: ACME, status: activ}
    set:
      monthly_data_limt: 5GB
      monthly_sms_mo_limit: 0
sims:
  \"89490000000000012341\":
    imei_lok: off
    status: deleted
",
        )],
        &[
            "spec/a.yaml:2:5: error: unknown key `nmae` — did you mean `name`?",
            "spec/a.yaml:2:5: error: the rule has no `name`",
            "spec/a.yaml:3:13: error: unknown key `end_customer_lable` — did you mean `end_customer_label`?",
            "spec/a.yaml:3:47: error: match status: `activ` is not a SIM status",
            "spec/a.yaml:5:7: error: unknown key `monthly_data_limt` — did you mean `monthly_data_limit`?",
            "spec/a.yaml:6:29: error: monthly_sms_mo_limit: a limit of 0",
            "spec/a.yaml:9:5: error: unknown key `imei_lok` — did you mean `imei_lock`?",
            "spec/a.yaml:10:13: error: status: status Deleted (4) cannot be set",
        ],
    );
    assert!(
        stderr.starts_with("error: the spec has 8 problems:"),
        "{stderr}"
    );
}

#[test]
fn wrong_types() {
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n    set: {status: activated}\n    priority: high\n",
        )],
        &["spec/a.yaml:5:15: error: wrong type: expected a whole number"],
    );
    fails_with(
        &[("a.yaml", "rules:\n  name: x\n")],
        &["spec/a.yaml:2:3: error:"],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: everything\n    set: {status: activated}\n",
        )],
        &[
            "spec/a.yaml:3:12: error: rule `x`: `match: everything` is not a selection",
            "match: all",
        ],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n    set: {monthly_sms_mo_limit: [1, 2]}\n",
        )],
        &["spec/a.yaml:4:11: error: wrong type: expected a single value (a scalar), not a list or mapping, found sequence"],
    );
}

#[test]
fn iccids_must_be_19_to_20_digits_with_a_luhn_digit() {
    fails_with(
        &[(
            "a.yaml",
            "sims:\n  \"894900000000001234\":\n    custom_field_1: x\n",
        )],
        &["spec/a.yaml:2:3: error: sims entry: ICCID \"894900000000001234\" is not 19–20 digits"],
    );
    fails_with(
        &[("a.yaml", "sims:\n  \"89490000000000012342\":\n    custom_field_1: x\n")],
        &["spec/a.yaml:2:3: error: sims entry: ICCID \"89490000000000012342\" fails its Luhn check digit", "luhn_check: false"],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: {iccid: [\"8949000000000000018\", \"8949000000000000019\"]}\n    set: {status: activated}\n",
        )],
        &["spec/a.yaml:3:44: error: match iccid: ICCID \"8949000000000000019\" fails its Luhn check digit"],
    );
}

#[test]
fn luhn_check_false_turns_the_iccid_check_off_but_never_applies_to_prefixes() {
    let files = [
        (
            "a.yaml",
            "sims:\n  \"89490000000000012342\":\n    custom_field_1: x\n",
        ),
        ("simfleet.yaml", "luhn_check: false\n"),
    ];
    validate(&files).1.code(0);
    validate(&[(
        "a.yaml",
        "rules:\n  - name: x\n    match: {iccid: {prefix: \"89490000000000012\"}}\n    set: {status: activated}\n",
    )])
    .1
    .code(0);
}

#[test]
fn imeis_must_be_15_digits_with_a_luhn_digit() {
    fails_with(
        &[(
            "a.yaml",
            "sims:\n  \"89490000000000012341\":\n    imei_lock: \"35693803564380\"\n",
        )],
        &["spec/a.yaml:3:16: error: imei_lock: IMEI \"35693803564380\" is not 15 digits"],
    );
    fails_with(
        &[("a.yaml", "sims:\n  \"89490000000000012341\":\n    imei_lock: \"356938035643808\"\n")],
        &["spec/a.yaml:3:16: error: imei_lock: IMEI \"356938035643808\" fails its Luhn check digit"],
    );
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: {imei: \"12345\"}\n    set: {status: activated}\n",
        )],
        &["spec/a.yaml:3:19: error: match imei: IMEI \"12345\" is not 15 digits"],
    );
}

#[test]
fn iccids_and_imeis_written_as_numbers_must_be_quoted() {
    let stderr = fails_with(
        &[(
            "a.yaml",
            "sims:\n  8949000000000000018:\n    imei_lock: 356938035643809\n  89490000000000012341:\n    custom_field_1: x\n",
        )],
        &[
            "spec/a.yaml:2:3: error: sims entry: ICCID is written as a number (`8949000000000000018`) — quote it, e.g. \"8949000000000000018\"",
            "spec/a.yaml:3:16: error: imei_lock: IMEI is written as a number (`356938035643809`) — quote it",
            "spec/a.yaml:4:3: error: sims entry: ICCID is written as a number (`89490000000000012341`) — quote it, e.g. \"89490000000000012341\"",
        ],
    );
    assert_eq!(stderr.matches("quote it").count(), 3, "{stderr}");
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: {iccid: {prefix: 8949}}\n    set: {status: activated}\n",
        )],
        &["spec/a.yaml:3:29: error: match iccid: ICCID is written as a number (`8949`) — quote it"],
    );
}

#[test]
fn limits_out_of_range() {
    let stderr = fails_with(
        &[(
            "a.yaml",
            "rules:
  - name: x
    match: all
    set:
      monthly_data_limit: -5MB
      monthly_sms_mo_limit: 2147483648
      monthly_sms_mt_limit: -1
      monthly_voice_mo_limit: 9223372036854775808
  - name: y
    match: {provider: link+}
    set:
      monthly_data_limit: 9300000TB
  - name: z
    match: {provider: tech+}
    set:
      monthly_data_limit: 1.5B
",
        )],
        &[
            "spec/a.yaml:5:27: error: monthly_data_limit: `-5MB` is negative",
            "spec/a.yaml:6:29: error: monthly_sms_mo_limit: SMS limit `2147483648` is larger than the API allows (2147483647)",
            "spec/a.yaml:7:29: error: monthly_sms_mt_limit: SMS limit `-1` is negative",
            "spec/a.yaml:8:31: error: monthly_voice_mo_limit: voice limit (seconds) `9223372036854775808` is larger than the API allows",
            "spec/a.yaml:12:27: error: monthly_data_limit: `9300000TB` is larger than the API's limit",
            "spec/a.yaml:16:27: error: monthly_data_limit: `1.5B` is not a whole number of bytes",
        ],
    );
    assert!(
        stderr.starts_with("error: the spec has 6 problems:"),
        "{stderr}"
    );
}

#[test]
fn a_zero_data_limit_says_to_write_unlimited() {
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n    set: {monthly_data_limit: 0}\n",
        )],
        &[
            "spec/a.yaml:4:31: error: monthly_data_limit:",
            "write `unlimited`, or a positive limit",
        ],
    );
}

#[test]
fn units_are_case_sensitive() {
    fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: x\n    match: all\n    set: {monthly_data_limit: 500mb}\n",
        )],
        &[
            "spec/a.yaml:4:31: error: monthly_data_limit: `mb` in `500mb` is not a unit",
            "case-sensitive",
        ],
    );
}

#[test]
fn unknown_status_and_provider_names() {
    fails_with(
        &[(
            "a.yaml",
            "rules:
  - name: x
    match: {status: [activated, actived], provider: link}
    set: {status: retired}
  - name: y
    match: {provider: 9}
    set: {status: deleted}
",
        )],
        &[
            "spec/a.yaml:3:33: error: match status: `actived` is not a SIM status",
            "spec/a.yaml:3:53: error: match provider: `link` is not a provider",
            "link+ (5)",
            "spec/a.yaml:6:23: error: match provider: `9` is not a provider",
            "spec/a.yaml:7:19: error: status: status Deleted (4) cannot be set by simfleet — a spec may set: activated",
        ],
    );
}

#[test]
fn duplicate_rule_names_across_files() {
    fails_with(
        &[("a.yaml", VALID_RULE), ("b/c.yaml", VALID_RULE)],
        &["spec/b/c.yaml:2:11: error: rule name `acme` is already used at spec/a.yaml:2:11"],
    );
}

#[test]
fn the_same_iccid_in_two_files() {
    let entry = "sims:\n  \"89490000000000012341\":\n    custom_field_1: x\n";
    fails_with(
        &[("a.yaml", entry), ("b.yaml", entry)],
        &["spec/b.yaml:2:3: error: ICCID \"89490000000000012341\" already has a sims entry at spec/a.yaml:2:3"],
    );
}

#[test]
fn duplicate_keys_in_one_mapping() {
    fails_with(
        &[(
            "a.yaml",
            "sims:\n  \"89490000000000012341\":\n    status: activated\n    status: suspended\n",
        )],
        &[
            "spec/a.yaml:4:5: error: duplicate key `status`",
            "remove or merge",
        ],
    );
    fails_with(
        &[(
            "a.yaml",
            "sims:\n  \"89490000000000012341\":\n    status: activated\n  \"89490000000000012341\":\n    status: suspended\n",
        )],
        &["spec/a.yaml:4:3: error: duplicate key"],
    );
}

#[test]
fn empty_set_and_empty_or_missing_match() {
    fails_with(
        &[(
            "a.yaml",
            "rules:
  - name: no-set
    match: all
  - name: empty-set
    match: all
    set: {}
  - name: empty-match
    match: {}
    set: {status: activated}
  - name: null-match
    match:
    set: {status: activated}
  - name: no-match
    set: {status: activated}
",
        )],
        &[
            "spec/a.yaml:2:5: error: rule `no-set` has no `set`",
            "spec/a.yaml:6:10: error: rule `empty-set` sets nothing",
            "spec/a.yaml:8:12: error: rule `empty-match` has an empty `match`",
            "write `match: all` to select every SIM",
            "spec/a.yaml:10:5: error: rule `null-match` has an empty `match`",
            "spec/a.yaml:13:5: error: rule `no-match` has no `match`",
        ],
    );
}

#[test]
fn static_conflicts() {
    fails_with(
        &[
            (
                "a.yaml",
                "rules:\n  - name: a\n    match: {status: [activated, test-ready]}\n    set: {monthly_data_limit: 1GB}\n",
            ),
            (
                "b.yaml",
                "rules:\n  - name: b\n    match: {status: [6, activated]}\n    set: {monthly_data_limit: 2GB}\n",
            ),
        ],
        &["spec/b.yaml:4:31: error: rule `b` sets monthly_data_limit to 2000000000, but rule `a` with the same match and priority sets it to 1000000000 at spec/a.yaml:4:31", "higher `priority`"],
    );
    // A different priority, or the same value, is fine.
    validate(&[
        (
            "a.yaml",
            "rules:\n  - name: a\n    match: all\n    set: {monthly_data_limit: 1GB}\n  - name: b\n    match: all\n    set: {monthly_data_limit: 1000MB}\n  - name: c\n    match: all\n    priority: 1\n    set: {monthly_data_limit: 2GB}\n",
        ),
    ])
    .1
    .code(0);
}

#[test]
fn a_rule_matching_on_a_field_some_rule_sets_gets_a_warning() {
    let (_tmp, assert) = validate(&[(
        "a.yaml",
        "rules:
  - name: label-them
    match: {iccid: {prefix: \"8949\"}}
    set: {end_customer_label: ACME}
  - name: acme
    match: {end_customer_label: ACME}
    set: {monthly_data_limit: 1GB}
",
    )]);
    assert
        .code(0)
        .stdout("1 file, 2 rules, 0 SIM entries: valid\n")
        .stderr(predicate::str::contains(
            "spec/a.yaml:6:33: warning: rule `acme` matches on end_customer_label, which is also set by spec/a.yaml:4:31 (rule label-them)",
        ));
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let stderr = fails_with(
        &[
            ("a.yaml", "rules:\n  - name: x\n    match: all\n    set: {monthly_data_limit: 0, status: bogus}\n"),
            ("b.yaml", "rules: [\n"),
            ("c/d.yaml", "sims:\n  \"123\":\n    custom_field_1: x\n"),
            ("simfleet.yaml", "max_percent: 150\n"),
        ],
        &[
            "spec/a.yaml:4:31: error: monthly_data_limit",
            "spec/a.yaml:4:42: error: status: `bogus` is not a SIM status",
            "spec/b.yaml:",
            "spec/c/d.yaml:2:3: error: sims entry: ICCID \"123\" is not 19–20 digits",
            "spec/simfleet.yaml:1:14: error: max_percent 150 is not a percentage",
        ],
    );
    assert!(
        stderr.starts_with("error: the spec has 5 problems:"),
        "{stderr}"
    );
}

#[test]
fn the_digest_covers_every_file_and_the_config() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fs::write(tmp.path().join("a.yaml"), VALID_RULE).expect("write");
    let first = simfleet::spec::load(tmp.path())
        .expect("valid")
        .spec
        .digest();
    assert_eq!(first.len(), 64);
    fs::write(tmp.path().join("simfleet.yaml"), "max_changes: 3\n").expect("write");
    let second = simfleet::spec::load(tmp.path()).expect("valid");
    assert_ne!(second.spec.digest(), first);
    assert_eq!(second.spec.config().max_changes, Some(3));
    assert_eq!(
        simfleet::spec::load(tmp.path())
            .expect("valid")
            .spec
            .digest(),
        second.spec.digest(),
        "stable"
    );
}

// ------------------------------------------------------------ inputs that hang or are misread

/// A `sims:` file of `n` entries with three fields each, every ICCID with a valid Luhn digit.
fn sims_file(n: usize) -> String {
    let mut text = String::with_capacity(n * 120);
    text.push_str("sims:\n");
    for i in 0..n {
        let body = format!("894900000{i:010}");
        let iccid = format!("{body}{}", luhn_digit(&body));
        text.push_str(&format!(
            "  \"{iccid}\":\n    custom_field_1: device-{i}\n    monthly_data_limit: 1GB\n    monthly_sms_mo_limit: 100\n"
        ));
    }
    text
}

fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = body
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[test]
fn a_sims_file_of_100000_entries_loads() {
    let text = sims_file(100_000);
    assert!(text.len() > 10_000_000, "{} bytes", text.len());
    let (_tmp, assert) = validate(&[("sims.yaml", &text)]);
    assert
        .code(0)
        .stdout("1 file, 0 rules, 100000 SIM entries: valid\n");
}

#[test]
fn a_billion_laughs_file_is_rejected_with_a_whole_message_naming_the_limit() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, next) in "abcdefghi".chars().zip("bcdefghij".chars()) {
        let row = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{next}: &{next} [{row}]\n"));
    }
    let stderr = fails_with(&[("a.yaml", &text)], &["spec/a.yaml:", "YAML limit"]);
    let line = stderr
        .lines()
        .find(|l| l.contains("spec/a.yaml"))
        .expect("a located line");
    assert!(
        line.contains("see docs/spec-limits.md") && !line.contains("(used"),
        "the message is whole and says what to do: {line}"
    );
}

#[test]
fn a_null_set_is_a_spec_error_not_malformed_yaml() {
    let stderr = fails_with(
        &[(
            "a.yaml",
            "rules:\n  - name: r1\n    match: {provider: link+}\n    set: null\n",
        )],
        &["spec/a.yaml:4:5: error: `set` must be a mapping of fields, not null"],
    );
    assert!(!stderr.contains("malformed YAML"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_spec_directory_is_skipped_with_a_warning() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let spec = tmp.path().join("spec");
    fs::create_dir_all(&spec).expect("mkdir");
    fs::write(spec.join("b.yaml"), VALID_RULE).expect("write");
    let status = std::process::Command::new("mkfifo")
        .arg(spec.join("a.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let out = Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(tmp.path())
        .args(["validate", "spec"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(0)
        .stdout("1 file, 1 rule, 0 SIM entries: valid\n")
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec/a.yaml: warning: skipped: not a regular file (a FIFO)"),
        "{stderr}"
    );
}

#[test]
fn a_fifo_simfleet_yaml_fails_validate_as_it_fails_plan() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let spec = tmp.path().join("spec");
    fs::create_dir_all(&spec).expect("mkdir");
    fs::write(spec.join("b.yaml"), VALID_RULE).expect("write");
    let status = std::process::Command::new("mkfifo")
        .arg(spec.join("simfleet.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let out = Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(tmp.path())
        .args(["validate", "spec"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec/simfleet.yaml: error: is not a regular file (a FIFO)"),
        "{stderr}"
    );
}

#[test]
fn an_empty_spec_directory_is_valid_but_says_nothing_is_managed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::cargo_bin("simfleet")
        .expect("binary")
        .args(["validate", &tmp.path().display().to_string()])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing is managed"), "{stderr}");
}
