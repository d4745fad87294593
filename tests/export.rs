//! `simfleet export` as a user runs it, against a sandbox on loopback: a spec exported from a
//! fleet plans no changes against it, a snapshot plans exactly as the server does, and bad
//! targets or sources fail clearly without writing anything.

mod common;

use std::path::Path;

use common::{comparable_plan, Run, Sandbox, Simfleet};
use serde_json::Value;

fn sandbox(n: usize, seed: u64) -> Sandbox {
    Sandbox::builder().generate(n, seed).start()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `plan --format json` against the sandbox (or offline with `--live`), without generated_at.
fn plan_json(server: &Sandbox, args: &[&str]) -> Value {
    let mut full = vec!["plan", "--format", "json"];
    full.extend_from_slice(args);
    let run = server.simfleet(&full).run();
    assert!(matches!(run.code(), 0 | 2), "plan failed: {}", run.stderr());
    comparable_plan(run.json())
}

fn ok(run: Run) -> Run {
    run.expect_code(0)
}

#[test]
fn an_exported_spec_validates_and_plans_no_changes_against_its_fleet() {
    for (n, seed) in [(50, 11), (300, 12), (2000, 13)] {
        let server = sandbox(n, seed);
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("fleet");
        let report = ok(server.simfleet(&["export", "--spec", path(&spec)]).run()).stderr();
        assert!(report.contains("spec written to"), "{report}");
        assert!(report.contains(&format!("read {n} SIMs")), "{report}");

        let validated = ok(Simfleet::new(&["validate", path(&spec)]).run());
        assert!(
            !validated.stderr().contains("warning"),
            "{}",
            validated.stderr()
        );

        server
            .simfleet(&["plan", path(&spec), "--detailed-exitcode"])
            .run()
            .expect_code(0);
        let json = plan_json(&server, &[path(&spec)]);
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
        ok(server
            .simfleet(&[
                "export",
                "--spec",
                path(&spec),
                "--fields",
                fields,
                "--group-by",
                group_by,
            ])
            .run());
        let json = plan_json(&server, &[path(&spec)]);
        assert_eq!(
            json["summary"]["field_changes"], 0,
            "{fields} / {group_by}: {json}"
        );
    }
}

#[test]
fn a_snapshot_plans_exactly_like_the_server_and_seeds_a_sandbox() {
    let server = sandbox(600, 31);
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("fleet.json");
    ok(server
        .simfleet(&["export", "--snapshot", path(&snapshot)])
        .run());

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
    let live = plan_json(&server, &[path(&spec), "--allow-status-cuts"]);
    let offline = plan_json(
        &server,
        &[
            path(&spec),
            "--live",
            path(&snapshot),
            "--allow-status-cuts",
        ],
    );
    assert!(
        live["summary"]["field_changes"].as_u64().unwrap_or(0) > 0,
        "{live}"
    );
    assert_eq!(live, offline);

    // The sandbox serves the snapshot as the same fleet.
    let copy = Sandbox::builder().fleet(&snapshot).start();
    assert_eq!(
        plan_json(&copy, &[path(&spec), "--allow-status-cuts"]),
        live
    );
}

#[test]
fn a_non_empty_directory_is_refused_without_force_before_reading_anything() {
    let server = sandbox(60, 41);
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("fleet");
    std::fs::create_dir(&spec).expect("dir");
    std::fs::write(spec.join("mine.yaml"), "rules: []\n").expect("file");

    let refused = server
        .simfleet(&["export", "--spec", path(&spec)])
        .run()
        .expect_code(1);
    let message = refused.stderr();
    assert!(
        message.contains("is not empty") && message.contains("--force"),
        "{message}"
    );
    assert_eq!(
        server.operation_count("listSims"),
        0,
        "refused before reading the fleet"
    );
    assert_eq!(
        std::fs::read_to_string(spec.join("mine.yaml")).expect("untouched"),
        "rules: []\n"
    );

    ok(server
        .simfleet(&["export", "--spec", path(&spec), "--force"])
        .run());
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
    let out = server
        .simfleet(&["export", "--spec", path(&file)])
        .run()
        .expect_code(1);
    assert!(out.stderr().contains("not a directory"), "{}", out.stderr());
}

#[test]
fn an_unreachable_or_unauthorised_endpoint_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("fleet");
    let snapshot = dir.path().join("fleet.json");
    let targets = ["--spec", path(&spec), "--snapshot", path(&snapshot)];

    let mut args = vec!["export", "--endpoint", "http://127.0.0.1:1/graphql"];
    args.extend_from_slice(&targets);
    let out = Simfleet::new(&args)
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .run()
        .expect_code(1);
    assert!(out.stderr().contains("cannot reach"), "{}", out.stderr());

    let server = sandbox(20, 51);
    let mut args = vec!["export"];
    args.extend_from_slice(&targets);
    let out = server
        .simfleet(&args)
        .env("WHEREVER_SIM_TOKEN", "wrong-token")
        .run()
        .expect_code(1);
    let message = out.stderr();
    assert!(
        message.contains("401") || message.to_lowercase().contains("unauthor"),
        "{message}"
    );
    assert!(
        !message.contains("wrong-token"),
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
    let out = Simfleet::new(&["export", "--spec", path(&spec), "--live", path(&bad)])
        .run()
        .expect_code(1);
    let message = out.stderr();
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
    ok(Simfleet::new(&["export", "--spec", path(&spec), "--live", path(&bad)]).run());
    let entries = std::fs::read_to_string(spec.join("sims/001.yaml")).expect("entries");
    assert!(
        entries.contains(r#""89490000000000000015": { monthly_data_limit: 500MB"#),
        "{entries}"
    );
}

#[test]
fn export_needs_a_target() {
    let out = Simfleet::new(&["export", "--sandbox"]).run().expect_code(1);
    assert!(
        out.stderr().contains("--snapshot FILE, --spec DIR"),
        "{}",
        out.stderr()
    );
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

    let json = plan_json(&server, &[path(&spec)]);
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

    let listing = server
        .simfleet(&["plan", path(&spec), "--verbose"])
        .run()
        .stdout();
    assert!(
        listing.contains("Unmanaged (no rule or entry applies; never touched)"),
        "{listing}"
    );
    assert!(
        listing.contains(&first) && listing.contains(&last),
        "{listing}"
    );
    let summary = server.simfleet(&["plan", path(&spec)]).run().stdout();
    assert!(
        summary.contains(&format!("{} unmanaged", unmanaged.len())),
        "{summary}"
    );
    assert!(
        !summary.contains("Unmanaged ("),
        "the list needs --verbose: {summary}"
    );
}

#[test]
fn a_snapshot_with_an_iccid_the_api_cannot_have_is_refused_naming_the_sim() {
    let dir = tempfile::tempdir().expect("temp dir");
    let long = "8".repeat(200);
    let spec = dir.path().join("fleet");
    for (transitions_first, number) in [(false, 2), (true, 2)] {
        let file = dir.path().join(format!("live-{transitions_first}.json"));
        let sims = format!(
            r#"[{{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5}},
                {{"iccid": "{long}", "statusid": 2, "providerid": 5}}]"#
        );
        let text = if transitions_first {
            format!(r#"{{"format_version": 1, "transitions": [], "sims": {sims}}}"#)
        } else {
            format!(r#"{{"format_version": 1, "sims": {sims}}}"#)
        };
        std::fs::write(&file, text).expect("written");
        // Read whole (export) and split while reading (plan --live).
        for args in [
            vec!["export", "--spec", path(&spec), "--live", path(&file)],
            vec!["plan", "examples/fleet", "--live", path(&file)],
        ] {
            let message = Simfleet::new(&args).run().expect_code(1).stderr();
            assert!(
                message.contains(&format!("SIM number {number}"))
                    && message.contains("is not 19–20 digits")
                    && !message.contains(&long),
                "{args:?}: {message}"
            );
        }
    }
    assert!(!spec.exists());
}

/// A web server on 127.0.0.1:0 that answers every request with `status` and a 15-line HTML
/// page, as a wrong `--endpoint` does. Returns its URL.
fn html_server(status: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50).flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let page = (0..12)
                .map(|i| format!("  <p>line {i} of a page that is not an API</p>"))
                .collect::<Vec<_>>()
                .join("\n");
            let html = format!(
                "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body>\n{page}\n</body></html>\n"
            );
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn an_html_page_from_a_wrong_endpoint_is_summarised_not_printed() {
    for status in ["200 OK", "404 Not Found", "502 Bad Gateway"] {
        let url = html_server(status);
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("fleet");
        let err = Simfleet::new(&["export", "--spec", path(&spec), "--endpoint", &url])
            .env("WHEREVER_SIM_TOKEN", "t")
            .run()
            .expect_code(1)
            .stderr();
        let code = &status[..3];
        assert!(
            err.contains(&format!("HTTP {code}"))
                && err.contains("text/html")
                && err.contains("Welcome to nginx!"),
            "{status}: {err}"
        );
        assert!(
            !err.contains("<p>") && err.lines().count() <= 3,
            "{status}: the page is printed:\n{err}"
        );
    }
}
