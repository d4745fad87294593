//! End-to-end tests of `simfleet plan` and `simfleet show`: the real binary against a real
//! sandbox over loopback (or a stub server for answers the sandbox never gives).

mod common;

use std::io::Write;

use common::{comparable_plan, Sandbox, Simfleet};
use serde_json::{json, Value};

const EXAMPLES: &str = "examples/fleet";

#[test]
fn the_readme_command_prints_a_real_plan() {
    let run = Simfleet::new(&["plan", EXAMPLES, "--sandbox"])
        .run()
        .expect_code(0);
    let out = run.stdout();
    assert!(out.contains("SIMs changing"), "{out}");
    assert!(out.contains("allowed by"), "{out}");
    assert!(out.contains("examples/fleet/devices.yaml:"), "{out}");
    assert!(out.contains("Plan checksum: sha256:"), "{out}");
    assert!(
        run.stderr().contains("read 300 of 300 SIMs"),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_readme_plan_reads_in_spec_units_and_counts_risky_sims() {
    let text = Simfleet::new(&["plan", EXAMPLES, "--sandbox"])
        .run()
        .expect_code(0)
        .stdout();
    // globex-meters writes `monthly_data_limit: 1.5GB`.
    assert!(text.contains("monthly_data_limit: 500MB → 1.5GB"), "{text}");
    // A lock never set and a disabled lock are two groups that read differently.
    assert!(text.contains("imei_lock: none → auto  × 50 SIMs"), "{text}");
    assert!(text.contains("imei_lock: off → auto  × 8 SIMs"), "{text}");
    // Plain lowered limits; the 13 at or below this month's usage have their own line above.
    assert!(
        text.contains("  Lowered limits: 55 SIMs (64 field changes)\n"),
        "{text}"
    );
    assert!(
        text.contains("  Limits at or below this month's usage (service stops now): 13 SIMs\n"),
        "{text}"
    );
    let md = Simfleet::new(&["plan", EXAMPLES, "--sandbox", "--format", "markdown"])
        .run()
        .expect_code(0)
        .stdout();
    // 55 SIMs have a plain lowered limit; 9 of them have two.
    assert!(
        md.contains("- **Lowered limits**: 55 SIMs (64 field changes)"),
        "{md}"
    );
}

#[test]
fn detailed_exitcode_says_2_when_there_are_changes() {
    Simfleet::new(&["plan", EXAMPLES, "--sandbox", "--detailed-exitcode"])
        .run()
        .expect_code(2);
}

#[test]
fn a_guard_stops_the_plan_with_exit_3_and_names_what_allows_it() {
    let run = Simfleet::new(&["plan", EXAMPLES, "--sandbox", "--max-changes", "10"])
        .run()
        .expect_code(3);
    let out = run.stdout();
    assert!(out.contains("max_changes"), "{out}");
    // With --detailed-exitcode too: 3 wins over 2.
    Simfleet::new(&[
        "plan",
        EXAMPLES,
        "--sandbox",
        "--max-changes",
        "10",
        "--detailed-exitcode",
    ])
    .run()
    .expect_code(3);
}

#[test]
fn a_status_cut_needs_its_flag_when_the_config_does_not_allow_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cut.yaml"),
        "sims:\n  \"89883030000395342592\":\n    status: suspended\n",
    )
    .unwrap();
    let spec = dir.path().to_str().unwrap();
    let run = Simfleet::new(&["plan", spec, "--sandbox"])
        .run()
        .expect_code(3);
    assert!(
        run.stdout().contains("--allow-status-cuts"),
        "{}",
        run.stdout()
    );
    Simfleet::new(&["plan", spec, "--sandbox", "--allow-status-cuts"])
        .run()
        .expect_code(0);
}

#[test]
fn json_follows_the_documented_contract() {
    let plan = Simfleet::new(&["plan", EXAMPLES, "--sandbox", "--format", "json"])
        .run()
        .expect_code(0)
        .json();
    for key in [
        "format_version",
        "summary",
        "changes",
        "actions",
        "blocked",
        "warnings",
    ] {
        assert!(plan.get(key).is_some(), "missing {key}");
    }
    let summary = &plan["summary"];
    for key in [
        "sims_total",
        "sims_managed",
        "sims_changing",
        "field_changes",
        "blocked",
        "api_calls",
    ] {
        assert!(summary[key].is_u64(), "summary.{key}: {summary}");
    }
    assert_eq!(summary["sims_total"], 300);
    assert!(
        summary["changes_per_field"]["custom_field_1"].is_u64(),
        "{summary}"
    );

    let changes = plan["changes"].as_array().unwrap();
    let fields = |iccid: &str| -> Vec<Value> {
        changes
            .iter()
            .find(|c| c["iccid"] == iccid)
            .unwrap_or_else(|| panic!("{iccid} not in changes"))["fields"]
            .as_array()
            .unwrap()
            .clone()
    };
    // The per-SIM entry locks to a specific IMEI: {"enabled", "imei"} with its source.
    let truck = fields("89445000000882884357");
    let lock = truck.iter().find(|f| f["field"] == "imei_lock").unwrap();
    assert_eq!(
        lock["to"],
        json!({"enabled": true, "imei": "351447367180633"})
    );
    assert_eq!(lock["source"]["file"], "examples/fleet/devices.yaml");
    assert_eq!(lock["source"]["line"], 7);
    // Unlimited is null in the JSON.
    let unlimited = changes
        .iter()
        .flat_map(|c| c["fields"].as_array().unwrap())
        .find(|f| f["field"] == "monthly_sms_mt_limit")
        .unwrap();
    assert_eq!(unlimited["to"], Value::Null);
    assert_eq!(unlimited["source"]["name"], "acme-trackers");
    // Every action's include list is non-empty and at most 1000.
    for action in plan["actions"].as_array().unwrap() {
        if action["kind"] == "batch_job" {
            let n = action["iccids"].as_array().unwrap().len();
            assert!((1..=1000).contains(&n), "{action}");
        }
    }
}

#[test]
fn a_saved_plan_renders_the_same_with_show() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file_arg = file.to_str().unwrap();
    let planned = Simfleet::new(&["plan", EXAMPLES, "--sandbox", "--out", file_arg])
        .run()
        .expect_code(0);
    assert!(
        planned.stderr().contains("plan saved to"),
        "{}",
        planned.stderr()
    );
    let shown = Simfleet::new(&["show", file_arg]).run().expect_code(0);
    assert_eq!(shown.stdout(), planned.stdout());
    let md = Simfleet::new(&["show", file_arg, "--format", "markdown"])
        .run()
        .expect_code(0)
        .stdout();
    assert!(md.len() < 65_000);
    assert!(md.contains("sha256:"), "{md}");
    let json = Simfleet::new(&["show", file_arg, "--format", "json"])
        .run()
        .expect_code(0)
        .json();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["checksum"], saved["checksum"]);

    // A tampered plan file is refused.
    let mut tampered = saved.clone();
    tampered["summary"]["sims_total"] = json!(301);
    std::fs::write(&file, tampered.to_string()).unwrap();
    let run = Simfleet::new(&["show", file_arg]).run().expect_code(1);
    assert!(run.stderr().contains("checksum"), "{}", run.stderr());
}

#[test]
fn offline_plan_against_a_snapshot_equals_the_online_plan() {
    let sandbox = Sandbox::demo();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("fleet.json");
    std::fs::write(&snapshot, sandbox.state().to_string()).unwrap();

    let online = sandbox
        .simfleet(&["plan", EXAMPLES, "--format", "json", "--allow-status-cuts"])
        .run()
        .expect_code(0)
        .json();
    // `state()` as a JSON value has its keys sorted, `sims` before `transitions`: such a file is
    // split first and decided after. simfleet writes `transitions` first, and then SIMs are
    // decided while the file is still being split. Both give the online plan.
    let state = sandbox.state();
    let streamed = dir.path().join("streamed.json");
    std::fs::write(
        &streamed,
        format!(
            r#"{{"format_version": 1, "transitions": {}, "sims": {}}}"#,
            state["transitions"], state["sims"]
        ),
    )
    .unwrap();
    for file in [&snapshot, &streamed] {
        let offline = Simfleet::new(&[
            "plan",
            EXAMPLES,
            "--live",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--allow-status-cuts",
        ])
        .run()
        .expect_code(0)
        .json();
        assert_eq!(comparable_plan(online.clone()), comparable_plan(offline));
    }
}

#[test]
fn a_snapshot_without_a_transition_table_cannot_change_a_status() {
    let sandbox = Sandbox::demo();
    let mut state = sandbox.state();
    state.as_object_mut().unwrap().remove("transitions");
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("fleet.json");
    std::fs::write(&snapshot, state.to_string()).unwrap();
    let run = Simfleet::new(&["plan", EXAMPLES, "--live", snapshot.to_str().unwrap()])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("transition"), "{}", run.stderr());
}

#[test]
fn a_file_that_is_not_a_snapshot_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.json");
    std::fs::write(&path, r#"{"sims": "many"}"#).unwrap();
    let run = Simfleet::new(&["plan", EXAMPLES, "--live", path.to_str().unwrap()])
        .run()
        .expect_code(1);
    assert!(
        run.stderr().contains("is not a simfleet snapshot"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    // Port 9 (discard) on loopback has no listener here.
    let run = Simfleet::new(&["plan", EXAMPLES, "--endpoint", "http://127.0.0.1:9/graphql"])
        .env("WHEREVER_SIM_TOKEN", "x")
        .run()
        .expect_code(1);
    let err = run.stderr();
    assert!(err.contains("127.0.0.1:9"), "{err}");
}

#[test]
fn a_missing_or_wrong_token_is_a_clear_error() {
    let sandbox = Sandbox::demo();
    let run = Simfleet::new(&["plan", EXAMPLES, "--endpoint", &sandbox.url])
        .run()
        .expect_code(1);
    assert!(
        run.stderr().contains("WHEREVER_SIM_TOKEN"),
        "{}",
        run.stderr()
    );

    let run = sandbox
        .simfleet(&["plan", EXAMPLES])
        .env("WHEREVER_SIM_TOKEN", "not-the-token")
        .run()
        .expect_code(1);
    let err = run.stderr();
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthori"),
        "{err}"
    );
    assert!(!err.contains("not-the-token"), "the token leaked: {err}");
}

#[test]
fn an_iccid_in_sims_that_the_fleet_lacks_is_an_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = std::fs::File::create(dir.path().join("sims.yaml")).unwrap();
    // A valid-Luhn ICCID that the demo fleet does not have.
    writeln!(
        f,
        "sims:\n  \"89490000000000012341\":\n    custom_field_1: x"
    )
    .unwrap();
    let run = Simfleet::new(&["plan", dir.path().to_str().unwrap(), "--sandbox"])
        .run()
        .expect_code(1);
    let err = run.stderr();
    assert!(err.contains("89490000000000012341"), "{err}");
    assert!(err.contains("sims.yaml:2:3"), "{err}");
}

#[test]
fn plan_never_mutates_the_fleet() {
    let sandbox = Sandbox::demo();
    let before = sandbox.state();
    sandbox
        .simfleet(&["plan", EXAMPLES, "--allow-status-cuts"])
        .run()
        .expect_code(0);
    // `taken_at` is the time of each GET /state; the SIMs are what must not change.
    assert_eq!(sandbox.state()["sims"], before["sims"]);
    assert_eq!(sandbox.operation_count("updateSim"), 0);
    assert_eq!(sandbox.operation_count("startBatchJob"), 0);
}

#[test]
fn target_limits_the_plan_to_matching_sims() {
    let sandbox = Sandbox::demo();
    let plan = sandbox
        .simfleet(&[
            "plan",
            EXAMPLES,
            "--format",
            "json",
            "--target",
            "{end_customer_label: Globex}",
        ])
        .run()
        .expect_code(0)
        .json();
    let state = sandbox.state();
    let globex: std::collections::HashSet<&str> = state["sims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["end_customer_label"]["name"] == "Globex")
        .map(|s| s["iccid"].as_str().unwrap())
        .collect();
    let changes = plan["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for change in changes {
        assert!(
            globex.contains(change["iccid"].as_str().unwrap()),
            "{change}"
        );
    }
}

#[test]
fn a_narrow_spec_on_a_large_fleet_pushes_its_filters_down() {
    let sandbox = Sandbox::builder().generate(20_000, 3).start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("initech.yaml"),
        "rules:\n  - name: initech\n    match:\n      end_customer_label: Initech\n      provider: data+\n    set:\n      monthly_sms_mo_limit: 7\n",
    )
    .unwrap();
    // SIMs that sent 7 SMS or more this month lose service to this limit: allowed here.
    let run = sandbox
        .simfleet(&[
            "plan",
            dir.path().to_str().unwrap(),
            "--format",
            "json",
            "--allow-status-cuts",
        ])
        .run()
        .expect_code(0);
    let plan = run.json();
    assert_eq!(plan["summary"]["sims_total"], 20_000);
    assert_eq!(plan["summary"]["unmanaged_is_count"], true);
    let managed = plan["summary"]["sims_managed"].as_u64().unwrap();
    assert!(managed > 0 && managed < 5_000, "{}", plan["summary"]);
    // A full read would take 200 pages.
    let pages = sandbox.operation_count("listSims");
    assert!(pages < 100, "{pages} listSims requests");
    assert!(
        run.stderr().contains("filters pushed down"),
        "{}",
        run.stderr()
    );

    // The same plan as reading everything and matching locally.
    let snapshot = dir.path().join("fleet.json");
    std::fs::write(&snapshot, sandbox.state().to_string()).unwrap();
    let offline = Simfleet::new(&[
        "plan",
        dir.path().to_str().unwrap(),
        "--live",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
        "--allow-status-cuts",
    ])
    .run()
    .expect_code(0)
    .json();
    // The usage the API read shows is the snapshot's.
    assert!(plan["summary"]["usage_cuts"].as_u64().unwrap_or(0) > 0);
    assert_eq!(
        plan["summary"]["usage_cuts"],
        offline["summary"]["usage_cuts"]
    );
    assert_eq!(plan["changes"], offline["changes"]);
    assert_eq!(plan["actions"], offline["actions"]);
}

#[test]
fn a_bad_sim_in_a_snapshot_is_named_by_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.json");
    // `transitions` first: the SIMs are decided while the file is being split.
    std::fs::write(
        &path,
        r#"{"format_version": 1, "transitions": [],
            "sims": [{"iccid": "89490200001234567893", "statusid": 2, "providerid": 1},
                     {"iccid": "89490200001234567901", "statusid": "active", "providerid": 1}]}"#,
    )
    .unwrap();
    let run = Simfleet::new(&["plan", EXAMPLES, "--live", path.to_str().unwrap()])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("SIM number 2"), "{}", run.stderr());
    assert!(run.stderr().contains("\"active\""), "{}", run.stderr());
}
