//! The formatter on hand-written messy files, the repository's examples and exported specs.

use super::*;

fn fmt(text: &str) -> String {
    match format_text(text) {
        Ok(t) => t,
        Err(e) => panic!("refused: {e}\n{text}"),
    }
}

fn comment_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains('#'))
        .map(|l| l[l.find('#').unwrap_or(0)..].trim_end().to_string())
        .collect()
}

/// Written with CRLF line endings at run time; trailing spaces are spelled out.
const MESSY: &str = r#"# yaml-language-server: $schema=../schema/simfleet.schema.json


rules:
- name:    eu-trackers      # unique
  match:
      end_customer_label:   ACME
      status: [ activated,test-ready ]   # list = in
      iccid: {prefix: 894900}
  set:
      monthly_data_limit: 500 MB<SP>
      imei_lock: auto
# between rules
- name: all
  match: all
  set: { monthly_sms_mo_limit: 100 }
sims:
    89490000000000000015:
        # a pinned SIM
        imei_lock: '356938035643809'
        custom_field_1: "truck #17"
    '89490000000000000023': {status: activated,end_customer_label: none}


"#;

fn messy() -> String {
    MESSY.replace("<SP>", "   ").replace('\n', "\r\n")
}

const CANONICAL: &str = "# yaml-language-server: $schema=../schema/simfleet.schema.json

rules:
  - name: eu-trackers       # unique
    match:
      end_customer_label: ACME
      status: [activated, test-ready]    # list = in
      iccid: { prefix: \"894900\" }
    set:
      monthly_data_limit: 500MB
      imei_lock: auto
  # between rules
  - name: all
    match: all
    set: { monthly_sms_mo_limit: 100 }
sims:
  \"89490000000000000015\":
    # a pinned SIM
    imei_lock: \"356938035643809\"
    custom_field_1: \"truck #17\"
  \"89490000000000000023\": { status: activated, end_customer_label: none }
";

#[test]
fn messy_files_get_the_canonical_layout_and_keep_every_comment() {
    // Inline comments keep their column (aligned comments stay aligned).
    let formatted = fmt(&messy());
    assert_eq!(formatted, CANONICAL, "\n{formatted}");
    assert_eq!(comment_lines(&messy()), comment_lines(&formatted));
    assert_eq!(fmt(&formatted), formatted, "idempotent");
}

#[test]
fn canonical_files_and_the_examples_are_left_alone_and_idempotent() {
    assert_eq!(fmt(CANONICAL), CANONICAL);
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fleet");
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(fmt(&text), text, "{} is hand-formatted", path.display());
    }
}

#[test]
fn exported_specs_are_already_formatted() {
    let fleet = crate::sandbox::generate(300, 4);
    let exported = crate::export::export_spec(
        &fleet.sims,
        &crate::export::ExportOptions::new("test", "2026-11-28T00:00:00Z"),
    );
    for file in &exported.files {
        assert_eq!(fmt(&file.text), file.text, "{}", file.path);
    }
}

#[test]
fn indentless_and_nested_sequences_and_block_scalars() {
    let text =
        "a:\n- x\n- y:\n    - 1\n    -   2\nb: |\n    keep   \n      this\nc: >-\n  folded\n";
    let want =
        "a:\n  - x\n  - y:\n      - 1\n      - 2\nb: |\n  keep   \n    this\nc: >-\n  folded\n";
    assert_eq!(fmt(text), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn iccid_lists_and_digit_keys_are_quoted_but_other_numbers_are_not() {
    let text = "rules:\n  - name: r\n    match:\n      iccid:\n        - 89490000000000000015\n        - '89490000000000000023'\n      imsi: [262011234567890]\n    set: {monthly_sms_mo_limit: 100, custom_field_1: 123}\n";
    let want = "rules:\n  - name: r\n    match:\n      iccid:\n        - \"89490000000000000015\"\n        - \"89490000000000000023\"\n      imsi: [\"262011234567890\"]\n    set: { monthly_sms_mo_limit: 100, custom_field_1: 123 }\n";
    assert_eq!(fmt(text), want);
}

#[test]
fn what_cannot_be_laid_out_safely_is_refused_with_its_line() {
    for (text, line, says) in [
        ("a: [1,\n  2]\n", 1, "flow collection"),
        ("a: \"one\n  two\"\n", 1, "quoted value"),
        ("a: one\n  two\n", 2, "continues"),
        ("a:\n\t- b\n", 2, "tab"),
        ("a: [b\n", 1, "flow collection"),
    ] {
        match format_text(text) {
            Ok(t) => panic!("{text:?} was formatted as {t:?}"),
            Err(e) => {
                assert_eq!(e.line, line, "{text:?}: {e}");
                assert!(e.message.contains(says), "{text:?}: {e}");
            }
        }
    }
    let invalid = format_text("a: b\na: c: d\n").unwrap_err();
    assert!(invalid.message.contains("YAML"), "{invalid}");
}

#[test]
fn hashes_inside_values_are_not_comments() {
    let text = "a: \"x # y\"\nb: it's #here\nc: 'q # r'   # real\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n"), "");
    assert_eq!(fmt("# only a comment   \n\n"), "# only a comment\n");
}
