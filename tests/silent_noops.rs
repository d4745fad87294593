//! End to end: a plan never reads as "nothing to do" without saying why. A rule that matches no
//! live SIM is named with its location, and an empty spec directory says that nothing is
//! managed, in the text, the markdown comment and the JSON alike.

mod common;

use common::{spec_dir, Simfleet};

const UNMATCHED: &str = "rules:\n  - name: nobody\n    match: { end_customer_label: Nobody }\n    set: { custom_field_1: x }\n";

fn plan(dir: &std::path::Path, format: &str) -> String {
    Simfleet::new(&[
        "plan",
        &dir.display().to_string(),
        "--sandbox",
        "--format",
        format,
    ])
    .run()
    .expect_code(0)
    .stdout()
}

#[test]
fn a_rule_that_matches_no_sim_is_named_in_every_format() {
    let dir = spec_dir(&[("a.yaml", UNMATCHED)]);
    for format in ["text", "markdown"] {
        let out = plan(dir.path(), format);
        assert!(
            out.contains("rule nobody") && out.contains("a.yaml:2:11"),
            "{format}:\n{out}"
        );
        assert!(out.contains("matches no live SIM"), "{format}:\n{out}");
    }
    let json: serde_json::Value = serde_json::from_str(&plan(dir.path(), "json")).expect("JSON");
    let codes: Vec<&str> = json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert_eq!(codes, ["unmatched_rule"]);
}

#[test]
fn an_empty_spec_directory_says_nothing_is_managed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = plan(dir.path(), "text");
    assert!(out.contains("no rules and no `sims:` entries"), "{out}");
}
