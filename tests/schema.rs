//! The checked-in JSON Schemas match what the code generates, and `simfleet schema` writes them.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

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
