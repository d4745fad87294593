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

mod layouts {
    //! Spec-like files written with random (valid) layouts: fmt must accept them, keep their
    //! meaning and comments (its own guard checks both), and reach a fixed point in one pass.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Layout {
        unit: usize,
        indentless: bool,
        colon_spaces: usize,
        blank_lines: usize,
        comments: bool,
        flow_spaces: bool,
    }

    fn layouts() -> impl Strategy<Value = Layout> {
        (
            2usize..=4,
            any::<bool>(),
            1usize..=3,
            0usize..=2,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(unit, indentless, colon_spaces, blank_lines, comments, flow_spaces)| Layout {
                    unit,
                    indentless,
                    colon_spaces,
                    blank_lines,
                    comments,
                    flow_spaces,
                },
            )
    }

    const VALUES: [&str; 8] = [
        "500MB",
        "500 MB",
        "unlimited",
        "100",
        "auto",
        "\"quoted: # not a comment\"",
        "'single'",
        "ACME",
    ];
    const ICCIDS: [&str; 3] = [
        "89490000000000000015",
        "'89490000000000000023'",
        "\"89490000000000000031\"",
    ];

    fn write(l: &Layout, picks: &[usize]) -> String {
        let pad = |level: usize| " ".repeat(level * l.unit);
        let colon = |key: &str| format!("{key}:{}", " ".repeat(l.colon_spaces));
        let pick = |i: usize| picks[i % picks.len()];
        let mut out = String::new();
        let mut line = |text: String, n: usize| {
            out.push_str(&text);
            if l.comments && n.is_multiple_of(3) {
                out.push_str(&format!("   # note {n}"));
            }
            out.push('\n');
            for _ in 0..(if n.is_multiple_of(4) {
                l.blank_lines
            } else {
                0
            }) {
                out.push('\n');
            }
        };
        if l.comments {
            line("# header".to_string(), 1);
        }
        line("rules:".to_string(), 2);
        let item = if l.indentless { 0 } else { 1 };
        for r in 0..3 {
            line(format!("{}- {}rule-{r}", pad(item), colon("name")), 3 + r);
            let inner = format!("{}  ", pad(item));
            line(format!("{inner}match:"), 10 + r);
            let list = if l.flow_spaces {
                "[ activated ,test-ready ]"
            } else {
                "[activated, test-ready]"
            };
            line(
                format!("{inner}{}{}", pad(1), colon("status") + list),
                20 + r,
            );
            line(
                format!("{inner}{}{}{}", pad(1), colon("iccid"), "{prefix: 894900}"),
                30 + r,
            );
            line(format!("{inner}set:"), 40 + r);
            line(
                format!(
                    "{inner}{}{}{}",
                    pad(1),
                    colon("custom_field_1"),
                    VALUES[pick(r) % VALUES.len()]
                ),
                50 + r,
            );
            line(
                format!("{inner}{}{}{}", pad(1), colon("monthly_data_limit"), "1 GB"),
                60 + r,
            );
        }
        line("sims:".to_string(), 70);
        for (n, iccid) in ICCIDS.iter().enumerate() {
            line(format!("{}{iccid}:", pad(1)), 71 + n);
            line(
                format!("{}{}{}", pad(2), colon("imei_lock"), "356938035643809"),
                80 + n,
            );
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_layout_formats_to_a_fixed_point(layout in layouts(), picks in proptest::collection::vec(0usize..8, 3)) {
            let text = write(&layout, &picks);
            let once = format_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(format_text(&once).ok(), Some(once.clone()));
            for line in once.lines() {
                let indent = line.len() - line.trim_start().len();
                prop_assert!(indent.is_multiple_of(2), "{}", once);
                prop_assert_eq!(line.trim_end(), line);
            }
            prop_assert!(once.contains("\"89490000000000000015\":"), "{}", once);
            prop_assert!(once.contains("monthly_data_limit: 1GB"), "{}", once);
            prop_assert!(once.contains("iccid: { prefix: \"894900\" }"), "{}", once);
        }
    }
}

/// `checks:` and `waivers:` as a hurried hand writes them.
const MESSY_CHECKS: &str = r#"checks:
-   name:   acme-data-cap     # per customer
    level: warn
    message:   ACME SIMs stay at or below 1 GB a month
    select: {end_customer_label: ACME,status: [activated,test-ready]}
    expect:
        monthly_data_limit: {at_most: 1 GB}
        monthly_data_volume:
            at_least:   500 MB
        imei: {not: 356938035643809}
        msisdn: [4915112345678]
- name: few-unlocks
  level: deny
  message: a change unlocks at most 10 IMEIs
  select: all
  limit: {imei_unlocks: {at_most: 10},status: {to: [deactivated,suspended],at_most: "5%"}}
waivers:
- check: acme-data-cap
  iccids: [89490000000000000015,'89490000000000000023']
  reason:   lab devices swap modems daily
  expires:   2027-03-31
-   check: few-unlocks
    match: {custom_field_1: {prefix: lab-}}
    reason: "lab"
    expires: "2027-12-31"
"#;

const CANONICAL_CHECKS: &str = r#"checks:
  - name: acme-data-cap       # per customer
    level: warn
    message: ACME SIMs stay at or below 1 GB a month
    select: { end_customer_label: ACME, status: [activated, test-ready] }
    expect:
      monthly_data_limit: { at_most: 1GB }
      monthly_data_volume:
        at_least: 500MB
      imei: { not: "356938035643809" }
      msisdn: ["4915112345678"]
  - name: few-unlocks
    level: deny
    message: a change unlocks at most 10 IMEIs
    select: all
    limit: { imei_unlocks: { at_most: 10 }, status: { to: [deactivated, suspended], at_most: "5%" } }
waivers:
  - check: acme-data-cap
    iccids: ["89490000000000000015", "89490000000000000023"]
    reason: lab devices swap modems daily
    expires: 2027-03-31
  - check: few-unlocks
    match: { custom_field_1: { prefix: lab- } }
    reason: "lab"
    expires: "2027-12-31"
"#;

#[test]
fn checks_and_waivers_get_the_canonical_layout_sizes_and_quoted_digits() {
    let formatted = fmt(MESSY_CHECKS);
    assert_eq!(formatted, CANONICAL_CHECKS, "\n{formatted}");
    assert_eq!(fmt(&formatted), formatted, "idempotent");
    assert_eq!(comment_lines(MESSY_CHECKS), comment_lines(&formatted));
    // Counts stay numbers: a limit's `at_most: 10` is not a size or digits to quote.
    assert!(formatted.contains("{ at_most: 10 }"), "{formatted}");
}
