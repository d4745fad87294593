//! Multi-step status paths end to end against the sandbox: a status change its transition
//! table allows only through another status (Issued → Activated → Deactivated) is planned with
//! its path, applied one verified step per round, resumed after an interrupt from wherever
//! each SIM stands, and blocked with the reason when no path exists.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use simfleet::sandbox::SandboxConfig;

const DEACTIVATE: &str =
    "rules:\n  - name: acme-off\n    match: { end_customer_label: ACME }\n    set: { status: deactivated }\n";

/// `n` Issued link+ SIMs labelled ACME, a spec that deactivates them (cuts allowed in its
/// simfleet.yaml), and the sandbox.
fn issued(n: u32, config: SandboxConfig) -> (Served, PathBuf) {
    let env = Served::start(
        config,
        fleet((0..n).map(|i| sim(i, 3, "ACME", json!({}))).collect()),
    );
    let spec = env.spec(DEACTIVATE);
    std::fs::write(
        spec.join("simfleet.yaml"),
        "luhn_check: false\nallow_status_cuts: true\n",
    )
    .expect("config");
    (env, spec)
}

/// The saved plan as `show --format json` prints it: one entry per changing SIM.
fn read_plan(path: &Path) -> Value {
    let output = simfleet_command()
        .args(["show", path_str(path), "--format", "json"])
        .output()
        .expect("show");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("plan JSON")
}

fn fast() -> SandboxConfig {
    SandboxConfig {
        batch_rate: 100_000.0,
        ..SandboxConfig::default()
    }
}

#[test]
fn the_plan_shows_the_path_in_text_markdown_and_json() {
    let (env, spec) = issued(3, fast());
    let plan_file = env.plan_out(&spec, &[]);
    let plan = read_plan(&plan_file);
    let change = &plan["changes"][0]["fields"][0];
    assert_eq!(change["from"], 3);
    assert_eq!(change["to"], 5);
    assert_eq!(change["via"], json!([2]));
    assert_eq!(change["flags"], json!(["status_cut"]));
    // Two rounds of phase 0: the step to Activated, then the step to Deactivated.
    let actions = plan["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0]["steps_after"], 1);
    assert_eq!(actions[0]["changes"]["statusid"], 2);
    assert_eq!(actions[1]["phase"], 0);
    assert!(actions[1].get("steps_after").is_none());
    assert_eq!(actions[1]["changes"]["statusid"], 5);
    // Passing through Activated is reported (it never stops the plan).
    let guards = plan["guards"].as_array().expect("guards");
    assert!(
        guards
            .iter()
            .any(|g| g["guard"] == "path_activations" && g["count"] == 3 && g["stops"] == false),
        "{guards:?}"
    );

    let text = simfleet_command()
        .args(["show", path_str(&plan_file)])
        .output()
        .expect("show");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("status: Issued (3) → Activated (2) → Deactivated (5), 2 steps  × 3 SIMs"),
        "{text}"
    );
    let md = simfleet_command()
        .args(["show", path_str(&plan_file), "--format", "markdown"])
        .output()
        .expect("show markdown");
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("Issued (3) → Activated (2) → Deactivated (5), 2 steps"),
        "{md}"
    );
}

/// Applies `plan_file` and sends SIGTERM once its first batch job has started: the job in
/// flight finishes, nothing after it is sent. Returns the output.
fn apply_interrupted(env: &Served, plan_file: &Path, spec: &Path) -> String {
    let child = env.spawn(&["apply", path_str(plan_file), "--spec", path_str(spec)]);
    env.wait_for_call("startBatchJob");
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("apply ends");
    let out = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{out}");
    out
}

#[test]
fn a_resumed_sim_still_settling_into_its_first_step_is_waited_for() {
    // Activation passes through Waiting for Activation (13) for 1.5 s: the interrupted run
    // leaves the SIMs there, and the re-run waits for them to stand at Activated before it
    // sends the step to Deactivated (13 → 5 is no transition).
    let (env, spec) = issued(
        8,
        SandboxConfig {
            batch_rate: 8.0,
            transition_delay: Duration::from_millis(1500),
            ..SandboxConfig::default()
        },
    );
    let plan_file = env.plan_out(&spec, &[]);
    let out = apply_interrupted(&env, &plan_file, &spec);
    assert_eq!(env.calls("startBatchJob"), 1, "{out}");
    assert!(env.state().iter().all(|s| s.statusid == 13), "{out}");
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["sims_failed"], 0, "{report}");
    assert_eq!(env.calls("startBatchJob"), 2);
    std::thread::sleep(Duration::from_millis(1800));
    assert!(env.state().iter().all(|s| s.statusid == 5));
}

#[test]
fn a_two_step_path_interrupted_after_its_first_step_resumes_and_converges() {
    // 16 SIMs at 8 a second: the first step's batch job runs for two seconds.
    let (env, spec) = issued(
        16,
        SandboxConfig {
            batch_rate: 8.0,
            ..SandboxConfig::default()
        },
    );
    let plan_file = env.plan_out(&spec, &[]);
    let out = apply_interrupted(&env, &plan_file, &spec);
    // The first step finished; the second was never sent.
    assert_eq!(env.calls("startBatchJob"), 1, "{out}");
    assert!(env.state().iter().all(|s| s.statusid == 2), "{out}");

    // The same plan again: the SIMs stand midway (Activated), which is progress, not
    // staleness; only the second step is sent.
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["status"], "converged", "{report}");
    assert_eq!(report["sims_changed"], 16, "{report}");
    assert_eq!(env.calls("startBatchJob"), 2);
    assert!(env.state().iter().all(|s| s.statusid == 5));
    assert_eq!(env.replan_code(&spec).0, 0);
}

#[test]
fn each_step_is_one_call_per_thousand_sims_and_waits_for_the_status_to_settle() {
    // 2,500 SIMs: 3 batch jobs per step, 6 in all; with a transition delay each step passes
    // through Waiting for Activation / Deactivation, and the second step waits for the first.
    let (env, spec) = issued(
        2_500,
        SandboxConfig {
            batch_rate: 100_000.0,
            // Longer than apply's first poll of a batch job (0.5 s): the first step's job is
            // seen finished while its SIMs still wait for activation.
            transition_delay: Duration::from_millis(2000),
            ..SandboxConfig::default()
        },
    );
    let plan_file = env.plan_out(&spec, &[]);
    let plan = read_plan(&plan_file);
    assert_eq!(plan["summary"]["api_calls"], 6);
    assert_eq!(plan["summary"]["lower_bound"], 6);
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["calls"]["start_batch_job"], 6, "{report}");
    assert_eq!(report["calls"]["update_sim"], 0, "{report}");
    assert_eq!(env.calls("startBatchJob"), 6);
    assert_eq!(env.calls("updateSim"), 0);
    std::thread::sleep(Duration::from_millis(2300));
    assert!(env.state().iter().all(|s| s.statusid == 5));
    assert_eq!(env.replan_code(&spec).0, 0);
}

#[test]
fn a_sim_moved_off_its_path_is_stale() {
    let (env, spec) = issued(3, fast());
    let plan_file = env.plan_out(&spec, &[]);
    // Someone suspends one SIM: Suspended is not on Issued → Activated → Deactivated.
    let first = iccid(0);
    env.update_sim(&first, "statusid: 2");
    env.update_sim(&first, "statusid: 12");
    let (code, _, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stale"), "{stderr}");
    assert_eq!(env.calls("startBatchJob"), 0);
}

#[test]
fn no_path_is_blocked_with_the_reason() {
    // The sandbox's table has no way into Test Ready from Activated, direct or not.
    let env = Served::start(fast(), fleet(vec![sim(0, 2, "ACME", json!({}))]));
    let spec = env.spec(
        "rules:\n  - name: acme-test\n    match: { end_customer_label: ACME }\n    set: { status: test-ready }\n",
    );
    let output = env
        .simfleet(&["plan", path_str(&spec), "--format", "json"])
        .output()
        .expect("plan");
    assert_eq!(output.status.code(), Some(3));
    let plan: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let reason = plan["blocked"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains(
            "no Activated (2) → Test Ready (6) for link+ (5), nor any path through other statuses"
        ),
        "{reason}"
    );
    assert!(plan["actions"].as_array().is_some_and(|a| a.is_empty()));
}

#[test]
fn a_step_that_fails_stops_the_path_there() {
    // The plan is made offline from a snapshot whose table goes Issued → Activated →
    // Deactivated; the live table only knows Issued → Test Ready → Deactivated, so the first
    // step is refused (code 4) and the second is never sent.
    let sims: Vec<Value> = (0..4).map(|i| sim(i, 3, "ACME", json!({}))).collect();
    let table = |pairs: &[(i32, i32)]| -> Vec<Value> {
        pairs
            .iter()
            .map(|(f, t)| json!({"fromstatusid": f, "tostatusid": t, "providerid": 5}))
            .collect()
    };
    let live = simfleet::fleet::Snapshot::from_json(
        &json!({"format_version": 1, "sims": sims, "transitions": table(&[(3, 6), (6, 5)])})
            .to_string(),
        "live",
    )
    .expect("snapshot");
    let env = Served::start(fast(), live);
    let spec = env.spec(DEACTIVATE);
    let offline = env.path("offline.json");
    std::fs::write(
        &offline,
        json!({"format_version": 1, "sims": sims, "transitions": table(&[(3, 2), (2, 5)])})
            .to_string(),
    )
    .expect("offline snapshot");
    let plan_file = env.path("plan.json");
    let output = simfleet_command()
        .args([
            "plan",
            path_str(&spec),
            "--live",
            path_str(&offline),
            "--allow-status-cuts",
            "--out",
            path_str(&plan_file),
        ])
        .output()
        .expect("plan");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        read_plan(&plan_file)["changes"][0]["fields"][0]["via"],
        json!([2])
    );

    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &["--allow-status-cuts"]);
    assert_eq!(code, 1, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["sims_failed"], 4, "{report}");
    assert_eq!(env.calls("startBatchJob"), 1, "{report}");
    let failures = report["failures"].to_string();
    assert!(failures.contains("transition"), "{failures}");
    assert!(env.state().iter().all(|s| s.statusid == 3));
}
