//! The checked-in JSON Schemas match what the code generates, `simfleet schema` writes them, and
//! real output is valid against them: plan JSON (`plan --format json` masked or not, `show
//! --format json`), the plan file (`plan --out`, grouped) and apply reports (`apply --format json`), made by the binary against a sandbox and
//! checked with a JSON Schema validator. Comparing files alone cannot catch a schema that is
//! wrong at its source, as `custom_field1` for `custom_field_1` was.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::Sandbox;
use serde_json::Value;

const EXAMPLES: &str = "examples/fleet";

/// A validator for the checked-in `schema/<name>`.
fn validator(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let schema: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("schema file")).expect("JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// Fails with every violation, each at its place in the document.
fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

/// Every field a plan changes, as named in its JSON.
fn changed_fields(plan: &Value) -> Vec<String> {
    let mut fields = Vec::new();
    for change in plan["changes"].as_array().into_iter().flatten() {
        for field in change["fields"].as_array().into_iter().flatten() {
            if let Some(name) = field["field"].as_str() {
                fields.push(name.to_string());
            }
        }
    }
    fields
}

/// Every field a plan file's change sets change.
fn plan_file_fields(file: &Value) -> Vec<String> {
    let mut fields = Vec::new();
    for set in file["change_sets"].as_array().into_iter().flatten() {
        for field in set["fields"].as_array().into_iter().flatten() {
            if let Some(name) = field["field"].as_str() {
                fields.push(name.to_string());
            }
        }
    }
    fields
}

#[test]
fn real_plans_are_valid_against_the_plan_schema() {
    let schema = validator("plan.schema.json");
    let server = Sandbox::demo();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut plans = Vec::new();
    for mask in [false, true] {
        let mut args = vec!["plan", EXAMPLES, "--format", "json"];
        if mask {
            args.push("--mask");
        }
        let run = server.simfleet(&args).run();
        assert_eq!(run.code(), 0, "{}", run.stderr());
        plans.push((format!("plan --format json (mask: {mask})"), run.json()));
    }
    let out = dir.path().join("plan.json");
    let out_arg = out.to_str().expect("utf-8 path");
    let run = server.simfleet(&["plan", EXAMPLES, "--out", out_arg]).run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let written: Value =
        serde_json::from_str(&fs::read_to_string(&out).expect("plan file")).expect("JSON");
    assert_valid(&validator("plan-file.schema.json"), &written, "plan --out");
    assert!(
        !plan_file_fields(&written).is_empty(),
        "the example's plan file changes something (else this test proves less): {written}"
    );
    // What `show` prints of the file is the per-SIM plan.
    let run = server
        .simfleet(&["show", out_arg, "--format", "json"])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    plans.push(("show PLANFILE --format json".to_string(), run.json()));
    for (what, plan) in &plans {
        assert!(
            changed_fields(plan).iter().any(|f| f == "custom_field_1"),
            "{what}: the example plan changes custom_field_1 (else this test proves less): {plan}"
        );
        assert_valid(&schema, plan, what);
    }
}

#[test]
fn real_apply_reports_are_valid_against_the_apply_report_schema() {
    let schema = validator("apply-report.schema.json");
    let dir = tempfile::tempdir().expect("temp dir");
    // From a spec directory, and from a reviewed plan file on a fresh fleet.
    let server = Sandbox::demo();
    let run = server
        .simfleet(&["apply", EXAMPLES, "--auto-approve", "--format", "json"])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_valid(&schema, &run.json(), "apply DIR --format json");

    let server = Sandbox::demo();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().expect("utf-8 path");
    let run = server
        .simfleet(&["plan", EXAMPLES, "--out", plan_arg])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let run = server
        .simfleet(&[
            "apply",
            plan_arg,
            "--spec",
            EXAMPLES,
            "--auto-approve",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let report = run.json();
    assert_valid(&schema, &report, "apply PLANFILE --format json");
    // A report with nothing left to do is valid too.
    let run = server
        .simfleet(&["apply", EXAMPLES, "--auto-approve", "--format", "json"])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_valid(&schema, &run.json(), "apply with no changes --format json");
}

#[test]
fn checked_in_schemas_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    for (name, generated) in simfleet::spec::schema::schemas() {
        let path = root.join(name);
        let checked_in = fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "schema/{name} is out of date with the spec types: regenerate it with `cargo run -- schema` and commit it"
        );
    }
}

#[test]
fn the_schema_command_writes_both_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    Command::cargo_bin("simfleet")
        .expect("binary")
        .args(["schema", "--out-dir"])
        .arg(&out)
        .assert()
        .code(0);
    let spec: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("simfleet.schema.json")).expect("spec schema"),
    )
    .expect("JSON");
    assert_eq!(spec["additionalProperties"], false);
    assert_eq!(
        spec["$defs"]["RuleDocument"]["required"],
        serde_json::json!(["name", "match", "set"])
    );
    let config: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("simfleet-config.schema.json")).expect("config schema"),
    )
    .expect("JSON");
    for key in ["luhn_check", "max_changes", "max_percent"] {
        assert!(
            config["properties"].get(key).is_some(),
            "config schema lacks {key}"
        );
    }
}

#[test]
fn example_files_point_editors_at_the_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).expect("examples/fleet") {
        let path = entry.expect("entry").path();
        let text = fs::read_to_string(&path).expect("read");
        let schema = if path.file_name().is_some_and(|n| n == "simfleet.yaml") {
            "simfleet-config.schema.json"
        } else {
            "simfleet.schema.json"
        };
        let first = text.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!("# yaml-language-server: $schema=../../schema/{schema}"),
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 4);
}
