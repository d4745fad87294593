//! `simfleet rehearse PLANFILE` end to end: the real binary rehearses a plan on its embedded
//! sandbox, and a separate sandbox plays the real API. What that "real" sandbox was asked
//! (`GET /stats`) and holds (`GET /state`) is the evidence that nothing but the allowed reads
//! reached it, and a real apply on it is what the rehearsal must match.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use simfleet::sandbox::SandboxConfig;

/// The "real" API's fleet saved as a snapshot file, for `--live`.
fn save_state(env: &Served, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut state = env.get("/state");
    edit(&mut state);
    let path = env.path(name);
    std::fs::write(&path, state.to_string()).expect("snapshot");
    path
}

/// `rehearse PLAN --spec SPEC --format json EXTRA…` with the token and endpoint of `env` in the
/// environment (so an accidental call would reach it and show in its stats).
fn rehearse(env: &Served, plan: &Path, spec: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "rehearse",
        path_str(plan),
        "--spec",
        path_str(spec),
        "--format",
        "json",
        "--batch-rate",
        "100000",
    ];
    args.extend_from_slice(extra);
    let output = simfleet_command()
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .env("WHEREVER_SIM_ENDPOINT", &env.url)
        .args(&args)
        .output()
        .expect("rehearse runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n--- stderr\n{stderr}"));
    (output.status.code().unwrap_or(-1), report, stderr)
}

fn operations(stats: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(stats["operations"].clone()).expect("operations")
}

/// Requests per operation between two `/stats`, polls left out (their number follows timing).
fn delta(before: &Value, after: &Value) -> BTreeMap<String, u64> {
    let before = operations(before);
    operations(after)
        .into_iter()
        .filter(|(op, _)| op != "getBatchJob")
        .map(|(op, n)| (op.clone(), n - before.get(&op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn without_polls(ops: &Value) -> BTreeMap<String, u64> {
    let mut ops: BTreeMap<String, u64> = serde_json::from_value(ops.clone()).expect("ops");
    ops.remove("getBatchJob");
    ops
}

#[test]
fn rehearse_matches_a_real_apply_on_the_same_fleet() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let live = save_state(&env, "live.json", |_| {});
    let end = env.path("end.json");

    let quiet = env.get("/stats");
    let (code, r, stderr) = rehearse(
        &env,
        &plan,
        &spec,
        &["--live", path_str(&live), "--end-state", path_str(&end)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["verdict"], "converges");
    assert_eq!(env.get("/stats"), quiet, "the rehearsal sent a request");

    // The real apply on the fleet the rehearsal copied.
    let (code, report, stderr) = env.apply_json(&plan, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    let applied = delta(&quiet, &env.get("/stats"));
    assert_eq!(without_polls(&r["calls"]["per_operation"]), applied);
    assert_eq!(r["calls"]["mutations"], report["calls"]["made"]);
    assert_eq!(
        r["apply"]["batch_jobs"].as_array().map(Vec::len),
        report["batch_jobs"].as_array().map(Vec::len)
    );
    assert_eq!(r["apply"]["sims_changed"], report["sims_changed"]);
    let phases = r["calls"]["phases"].as_array().expect("phases");
    let in_phases: u64 = phases
        .iter()
        .map(|p| p["batch_jobs"].as_u64().unwrap_or(0) + p["update_sim"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(Some(in_phases), r["calls"]["mutations"].as_u64());

    // The same end state, SIM for SIM.
    let rehearsed: simfleet::fleet::Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&end).expect("end state")).expect("snapshot");
    let real: BTreeMap<String, simfleet::fleet::Sim> = env
        .state()
        .into_iter()
        .map(|s| (s.iccid.clone(), s))
        .collect();
    assert_eq!(rehearsed.sims.len(), 15, "the plan's SIMs were loaded");
    for sim in &rehearsed.sims {
        let mut real = real.get(&sim.iccid).cloned().expect("in the real fleet");
        // An activation is stamped with the second it happened in.
        if sim.activation_timestamp.is_some() {
            real.activation_timestamp = sim.activation_timestamp;
        }
        assert_eq!(sim, &real, "{}", sim.iccid);
    }
    assert_eq!(r["end_state"]["planned_fields_hold"], true);
    assert_eq!(r["end_state"]["unplanned_changes"], Value::Array(vec![]));
}

#[test]
fn rehearse_predicts_a_forbidden_transition_and_a_stale_sim() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);

    // The table now forbids 6 → 2: the four Globex activations fail, the rest converge.
    let forbidding = save_state(&env, "forbidding.json", |s| {
        let rows = s["transitions"].as_array_mut().expect("table");
        rows.retain(|t| !(t["fromstatusid"] == 6 && t["tostatusid"] == 2));
    });
    let (code, r, stderr) = rehearse(&env, &plan, &spec, &["--live", path_str(&forbidding)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("would not converge"), "{stderr}");
    assert_eq!(r["verdict"], "does_not_converge");
    assert_eq!(r["table_source"], "snapshot");
    assert_eq!(r["failures_by_cause"]["forbidden_transition"], 4);
    let forbidden: Vec<&Value> = r["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter(|f| f["cause"] == "forbidden_transition")
        .collect();
    let mut sims: Vec<&str> = forbidden
        .iter()
        .filter_map(|f| f["iccid"].as_str())
        .collect();
    sims.dedup();
    assert_eq!(sims, [iccid(10), iccid(11), iccid(12), iccid(13)]);
    assert!(forbidden[0]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("Test Ready (6)") && d.contains("Activated (2)")));

    // One SIM's label moved since the plan: apply would refuse the whole plan.
    let moved = save_state(&env, "moved.json", |s| {
        for sim in s["sims"].as_array_mut().expect("sims") {
            if sim["iccid"] == iccid(3) {
                sim["monthly_data_limit"] = Value::from(777_000_000);
            }
        }
    });
    let (code, r, stderr) = rehearse(&env, &plan, &spec, &["--live", path_str(&moved)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("would refuse this plan"), "{stderr}");
    assert_eq!(r["verdict"], "stale");
    assert_eq!(r["failures_by_cause"], serde_json::json!({"stale": 1}));
    assert_eq!(r["failures"][0]["iccid"], iccid(3));
    assert_eq!(r["failures"][0]["field"], "monthly_data_limit");
    assert_eq!(
        r["failures"][0]["detail"],
        "monthly_data_limit planned from 100MB to 250MB, now 777MB"
    );
    assert_eq!(r["calls"]["mutations"], 0);
}

#[test]
fn no_request_reaches_the_real_api_but_reads_of_the_plans_sims() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let before = env.state();

    // From the API: only listSims (by ICCID) and the transition table.
    let quiet = env.get("/stats");
    let (code, r, stderr) = rehearse(&env, &plan, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["state_source"], "api");
    let asked = delta(&quiet, &env.get("/stats"));
    assert_eq!(
        asked.keys().map(String::as_str).collect::<Vec<_>>(),
        ["getAvailableStatusTransitions", "listSims"],
        "{asked:?}"
    );
    assert_eq!(env.state(), before, "the real fleet changed");
    assert_eq!(r["sims_loaded"], 15, "only the plan's SIMs are read");

    // From the plan: not one request, even to an endpoint that fails every request.
    let failing = Served::start(
        SandboxConfig {
            fault_rate: 1.0,
            ..SandboxConfig::default()
        },
        mixed_fleet(),
    );
    let (code, r, stderr) = rehearse(&failing, &plan, &spec, &["--from-plan"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["state_source"], "plan");
    assert_eq!(r["table_source"], "sandbox_default");
    assert_eq!(r["verdict"], "converges");
    assert_eq!(failing.get("/stats")["requests"], 0);
    // And the failing endpoint does fail a rehearsal that must read it.
    let (code, _, stderr) = {
        let output = simfleet_command()
            .env("WHEREVER_SIM_TOKEN", "sandbox")
            .args(["rehearse", path_str(&plan), "--spec", path_str(&spec)])
            .args(["--endpoint", &failing.url])
            .output()
            .expect("runs");
        (
            output.status.code().unwrap_or(-1),
            (),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        failing.calls("startBatchJob") + failing.calls("updateSim"),
        0
    );
}

#[test]
fn a_plan_made_from_another_spec_is_refused_before_anything_is_read() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    // The spec moves on after the plan was made: `rehearse --spec` and `apply --rehearse
    // --spec` refuse the plan as `apply --spec` does, before reading anything.
    let changed =
        mixed_spec().replacen("monthly_sms_mo_limit: 100", "monthly_sms_mo_limit: 101", 1);
    assert_ne!(changed, mixed_spec(), "the edit must change the spec");
    std::fs::write(spec.join("fleet.yaml"), changed).expect("spec file");
    let reads = env.calls("listSims");
    for args in [
        vec!["rehearse", path_str(&plan), "--spec", path_str(&spec)],
        vec![
            "apply",
            path_str(&plan),
            "--spec",
            path_str(&spec),
            "--rehearse",
        ],
    ] {
        let output = simfleet_command()
            .env("WHEREVER_SIM_TOKEN", "sandbox")
            .env("WHEREVER_SIM_ENDPOINT", &env.url)
            .args(&args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the spec changed since this plan was made"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(env.calls("listSims"), reads, "the fleet was read first");
}

#[test]
fn exit_codes_are_zero_one_and_three() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let (code, r, _) = rehearse(&env, &plan, &spec, &["--from-plan"]);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("converges")));
    let (code, r, stderr) = rehearse(&env, &plan, &spec, &["--from-plan", "--max-changes", "2"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(r["verdict"], "stopped_by_guard");
    assert_eq!(r["calls"]["mutations"], 0);
    assert_eq!(r["guards"][0]["guard"], "max_changes");
    // A SIM whose IMEI lock writes fail (the sandbox's failure knob) does not converge.
    let knob = save_state(&env, "knob.json", |s| {
        for sim in s["sims"].as_array_mut().expect("sims") {
            if sim["iccid"] == iccid(0) {
                sim["custom_field_1"] = Value::from("sandbox-fail-imei-lock");
            }
        }
    });
    let (code, r, stderr) = rehearse(&env, &plan, &spec, &["--live", path_str(&knob)]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(r["verdict"], "does_not_converge");
    assert_eq!(r["failures_by_cause"]["other"], 1);
}

#[test]
fn text_and_markdown_state_the_formula_and_mask_identifiers() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let forbidding = save_state(&env, "forbidding.json", |s| {
        let rows = s["transitions"].as_array_mut().expect("table");
        rows.retain(|t| !(t["fromstatusid"] == 6 && t["tostatusid"] == 2));
    });
    for format in ["text", "markdown"] {
        let output = simfleet_command()
            .args([
                "--mask",
                "rehearse",
                path_str(&plan),
                "--spec",
                path_str(&spec),
            ])
            .args(["--live", path_str(&forbidding), "--format", format])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("T = (R - P) / r"), "{text}");
        assert!(
            text.contains("transition the table forbids: 4 SIM(s)"),
            "{text}"
        );
        assert!(text.contains("*0010"), "{text}");
        let digits = regex_free_long_numbers(&text);
        assert!(
            digits.is_empty(),
            "unmasked identifiers {digits:?} in\n{text}"
        );
    }
}

/// Runs of 19 or more digits (ICCIDs) in `text`.
fn regex_free_long_numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 19)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_command_works() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let line = "simfleet rehearse plan.json --spec examples/fleet --from-plan";
    assert!(readme.contains(line), "README lacks `{line}`");
    let dir = tempfile::tempdir().expect("dir");
    let plan = dir.path().join("plan.json");
    simfleet_command()
        .current_dir(root())
        .args([
            "plan",
            "examples/fleet",
            "--sandbox",
            "--out",
            path_str(&plan),
        ])
        .assert()
        .code(0);
    simfleet_command()
        .current_dir(root())
        .args([
            "rehearse",
            path_str(&plan),
            "--spec",
            "examples/fleet",
            "--from-plan",
        ])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Rehearsal: the apply converges"));
}

#[test]
fn apply_rehearse_is_rehearse_with_apply_s_flags() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let before = env.state();
    let output = env
        .simfleet(&["apply", path_str(&plan), "--spec", path_str(&spec)])
        .args(["--rehearse", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let r: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(r["verdict"], "converges");
    assert_eq!(r["state_source"], "api");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);
    assert_eq!(env.state(), before);
    // The approved checksum is checked as apply checks it.
    let output = env
        .simfleet(&[
            "apply",
            path_str(&plan),
            "--spec",
            path_str(&spec),
            "--rehearse",
        ])
        .args(["--expect-checksum", "sha256:0000"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not the approved"));
}

#[test]
fn a_failed_write_is_an_error_and_the_end_state_target_is_checked_first() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan = env.plan_out(&spec, &[]);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = std::process::Command::new(bin())
        .env("NO_COLOR", "1")
        .args([
            "rehearse",
            path_str(&plan),
            "--spec",
            path_str(&spec),
            "--from-plan",
        ])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write to stdout"));
    let missing = env.path("no/such/dir/end.json");
    let output = simfleet_command()
        .args([
            "rehearse",
            path_str(&plan),
            "--spec",
            path_str(&spec),
            "--from-plan",
        ])
        .args(["--end-state", path_str(&missing)])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(output.stdout.is_empty(), "refused before the rehearsal");
}
