//! `simfleet export` as a user runs it, against a sandbox on loopback: a spec exported from a
//! fleet plans no changes against it, a snapshot plans exactly as the server does, and bad
//! targets or sources fail clearly without writing anything.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A `simfleet sandbox` child process, killed on drop.
struct Sandbox {
    child: Child,
    url: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sandbox(n: usize, seed: u64) -> Sandbox {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--generate"])
        .arg(n.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("simfleet sandbox starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the sandbox prints its URL");
    let url = line
        .trim()
        .strip_prefix("simfleet sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Sandbox { child, url }
}

/// Runs the binary with the sandbox token in the environment.
fn simfleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(args)
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .env_remove("WHEREVER_SIM_ENDPOINT")
        .env("NO_COLOR", "1")
        .output()
        .expect("simfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The JSON plan without the one field that differs between two runs.
fn plan_json(args: &[&str]) -> Value {
    let mut full = vec!["plan", "--format", "json"];
    full.extend_from_slice(args);
    let output = simfleet(&full);
    assert!(
        matches!(output.status.code(), Some(0 | 2)),
        "plan failed: {}",
        text(&output.stderr)
    );
    let mut plan: Value = serde_json::from_slice(&output.stdout).expect("a JSON plan");
    plan.as_object_mut()
        .expect("an object")
        .remove("generated_at");
    plan
}

#[test]
fn an_exported_spec_validates_and_plans_no_changes_against_its_fleet() {
    for (n, seed) in [(50, 11), (300, 12), (2000, 13)] {
        let server = sandbox(n, seed);
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("fleet");
        let out = simfleet(&["export", "--spec", path(&spec), "--endpoint", &server.url]);
        ok(&out);
        let report = text(&out.stderr);
        assert!(report.contains("spec written to"), "{report}");
        assert!(report.contains(&format!("read {n} SIMs")), "{report}");

        let validated = simfleet(&["validate", path(&spec)]);
        ok(&validated);
        assert!(
            !text(&validated.stderr).contains("warning"),
            "{}",
            text(&validated.stderr)
        );

        let plan = simfleet(&[
            "plan",
            path(&spec),
            "--endpoint",
            &server.url,
            "--detailed-exitcode",
        ]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{n}/{seed}: {}\n{}",
            text(&plan.stdout),
            text(&plan.stderr)
        );
        let json = plan_json(&[path(&spec), "--endpoint", &server.url]);
        assert_eq!(json["summary"]["field_changes"], 0, "{n}/{seed}");
        assert_eq!(
            json["summary"]["skipped"], 0,
            "{n}/{seed}: terminal SIMs are left out"
        );
        assert!(json["summary"]["sims_managed"].as_u64().unwrap_or(0) > 0);
        assert!(
            json["warnings"].as_array().is_some_and(|w| w.is_empty()),
            "{json}"
        );
    }
}

#[test]
fn other_fields_and_groupings_round_trip_too() {
    let server = sandbox(400, 21);
    for (fields, group_by) in [
        ("limits,label,status,imei_lock,custom_field_1", "provider"),
        ("status,imei_lock", ""),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("fleet");
        ok(&simfleet(&[
            "export",
            "--spec",
            path(&spec),
            "--fields",
            fields,
            "--group-by",
            group_by,
            "--endpoint",
            &server.url,
        ]));
        let json = plan_json(&[path(&spec), "--endpoint", &server.url]);
        assert_eq!(
            json["summary"]["field_changes"], 0,
            "{fields} / {group_by}: {json}"
        );
    }
}

#[test]
fn a_snapshot_plans_exactly_like_the_server() {
    let server = sandbox(600, 31);
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("fleet.json");
    ok(&simfleet(&[
        "export",
        "--snapshot",
        path(&snapshot),
        "--endpoint",
        &server.url,
    ]));

    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).expect("snapshot written"))
            .expect("snapshot is JSON");
    assert_eq!(written["format_version"], 1);
    assert!(written["taken_at"].is_string());
    assert!(written["transitions"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(written["sims"].as_array().map(Vec::len), Some(600));
    // Every field of the SIM type, usage counters included.
    assert!(written["sims"]
        .as_array()
        .is_some_and(|s| s.iter().any(|sim| sim.get("monthly_data_volume").is_some())));

    // A spec that changes limits, locks and statuses, so the comparison has substance.
    let spec = dir.path().join("spec");
    std::fs::create_dir(&spec).expect("spec dir");
    std::fs::write(
        spec.join("rules.yaml"),
        "rules:\n  - name: acme\n    match: {end_customer_label: ACME}\n    set:\n      monthly_data_limit: 2GB\n      imei_lock: auto\n  - name: globex\n    match: {end_customer_label: Globex, status: [activated, deactivated]}\n    set:\n      status: activated\n      monthly_sms_mo_limit: unlimited\n",
    )
    .expect("spec written");
    let live = plan_json(&[
        path(&spec),
        "--endpoint",
        &server.url,
        "--allow-status-cuts",
    ]);
    let offline = plan_json(&[
        path(&spec),
        "--live",
        path(&snapshot),
        "--allow-status-cuts",
    ]);
    assert!(
        live["summary"]["field_changes"].as_u64().unwrap_or(0) > 0,
        "{live}"
    );
    assert_eq!(live, offline);
}

#[test]
fn a_non_empty_directory_is_refused_without_force_before_reading_anything() {
    let server = sandbox(60, 41);
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("fleet");
    std::fs::create_dir(&spec).expect("dir");
    std::fs::write(spec.join("mine.yaml"), "rules: []\n").expect("file");

    let refused = simfleet(&["export", "--spec", path(&spec), "--endpoint", &server.url]);
    assert_eq!(refused.status.code(), Some(1));
    let message = text(&refused.stderr);
    assert!(
        message.contains("is not empty") && message.contains("--force"),
        "{message}"
    );
    assert!(
        !message.contains("read "),
        "refused before reading the fleet: {message}"
    );
    assert_eq!(
        std::fs::read_to_string(spec.join("mine.yaml")).expect("untouched"),
        "rules: []\n"
    );

    ok(&simfleet(&[
        "export",
        "--spec",
        path(&spec),
        "--force",
        "--endpoint",
        &server.url,
    ]));
    assert!(
        !spec.join("mine.yaml").exists(),
        "--force replaces the directory"
    );
    assert!(spec.join("rules.yaml").exists());
    // No staging directories are left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listing")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "fleet")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A file where the directory should be.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("file");
    let out = simfleet(&["export", "--spec", path(&file), "--endpoint", &server.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a directory"));
}

#[test]
fn an_unreachable_or_unauthorised_endpoint_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("fleet");
    let snapshot = dir.path().join("fleet.json");
    let out = simfleet(&[
        "export",
        "--spec",
        path(&spec),
        "--snapshot",
        path(&snapshot),
        "--endpoint",
        "http://127.0.0.1:1/graphql",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach"),
        "{}",
        text(&out.stderr)
    );

    let server = sandbox(20, 51);
    let out = Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args([
            "export",
            "--spec",
            path(&spec),
            "--snapshot",
            path(&snapshot),
        ])
        .args(["--endpoint", &server.url])
        .env("WHEREVER_SIM_TOKEN", "wrong")
        .output()
        .expect("simfleet runs");
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("401") || message.to_lowercase().contains("unauthor"),
        "{message}"
    );
    assert!(
        !message.contains("wrong"),
        "the token never shows: {message}"
    );

    assert!(!spec.exists() && !snapshot.exists());
    let entries: Vec<_> = std::fs::read_dir(dir.path()).expect("listing").collect();
    assert!(entries.is_empty(), "nothing half-written: {entries:?}");
}

#[test]
fn a_malformed_snapshot_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015", "providerid": 5}]}"#,
    )
    .expect("written");
    let spec = dir.path().join("fleet");
    let out = simfleet(&["export", "--spec", path(&spec), "--live", path(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("bad.json") && message.contains("statusid"),
        "{message}"
    );
    assert!(!spec.exists());

    // The same snapshot, well-formed, exports offline.
    std::fs::write(
        &bad,
        r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5, "monthly_data_limit": 500000000}]}"#,
    )
    .expect("written");
    ok(&simfleet(&[
        "export",
        "--spec",
        path(&spec),
        "--live",
        path(&bad),
    ]));
    let entries = std::fs::read_to_string(spec.join("sims/001.yaml")).expect("entries");
    assert!(
        entries.contains(r#""89490000000000000015": {monthly_data_limit: 500MB"#),
        "{entries}"
    );
}

#[test]
fn export_needs_a_target() {
    let out = simfleet(&["export", "--sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--snapshot FILE, --spec DIR"));
}

#[test]
fn plan_reports_the_sims_a_spec_does_not_cover() {
    let server = sandbox(200, 61);
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("spec");
    std::fs::create_dir(&spec).expect("spec dir");
    std::fs::write(
        spec.join("acme.yaml"),
        "rules:\n  - name: acme\n    match: {end_customer_label: ACME}\n    set: {imei_lock: auto}\n",
    )
    .expect("spec written");

    let json = plan_json(&[path(&spec), "--endpoint", &server.url]);
    let unmanaged = json["unmanaged"].as_array().expect("an unmanaged list");
    assert_eq!(
        Some(unmanaged.len() as u64),
        json["summary"]["sims_unmanaged"].as_u64()
    );
    assert!(
        !unmanaged.is_empty() && unmanaged.len() < 200,
        "{}",
        unmanaged.len()
    );
    let first = unmanaged[0].as_str().expect("an ICCID").to_string();
    let last = unmanaged[unmanaged.len() - 1]
        .as_str()
        .expect("an ICCID")
        .to_string();
    assert!(first < last, "ordered by ICCID");

    let verbose = simfleet(&["plan", path(&spec), "--endpoint", &server.url, "--verbose"]);
    let listing = text(&verbose.stdout);
    assert!(
        listing.contains("Unmanaged (no rule or entry applies; never touched)"),
        "{listing}"
    );
    assert!(
        listing.contains(&first) && listing.contains(&last),
        "{listing}"
    );
    let short = simfleet(&["plan", path(&spec), "--endpoint", &server.url]);
    let summary = text(&short.stdout);
    assert!(
        summary.contains(&format!("{} unmanaged", unmanaged.len())),
        "{summary}"
    );
    assert!(
        !summary.contains("Unmanaged ("),
        "the list needs --verbose: {summary}"
    );
}
