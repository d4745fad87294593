//! Two applies at once against one sandbox: the second stops before its first call while the
//! first one's batch jobs run, and with `--allow-concurrent` the two reports never both claim
//! the same change ("changed" is what this run's call changed, "already set" what someone else
//! set first).

mod common;

use std::process::Child;

use common::*;
use serde_json::{json, Value};
use simfleet::sandbox::SandboxConfig;

const SIMS: u32 = 120;

/// A fleet whose batch jobs take a few seconds (so two runs overlap), and its plan file.
fn slow_fleet() -> (Served, std::path::PathBuf, std::path::PathBuf) {
    let env = Served::start(
        SandboxConfig {
            batch_rate: 40.0,
            ..SandboxConfig::default()
        },
        fleet((0..SIMS).map(|i| sim(i, 2, "ACME", json!({}))).collect()),
    );
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 9 }\n",
    );
    let plan = env.plan_out(&spec, &[]);
    (env, plan, spec)
}

fn wait_report(child: Child) -> (i32, Value, String) {
    let output = child.wait_with_output().expect("apply ends");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"));
    (output.status.code().unwrap_or(-1), report, stderr)
}

#[test]
fn a_second_apply_stops_before_its_first_call_while_another_one_runs() {
    let (env, plan, spec) = slow_fleet();
    let first = env.spawn(&apply_json_args(&plan, &spec, &[]));
    env.wait_for_call("startBatchJob");
    // As from another machine: a lock of its own, so the running-job check is what stops it.
    let elsewhere = tempfile::tempdir().expect("lock dir");
    let second = spawn_locked(&env, &apply_json_args(&plan, &spec, &[]), elsewhere.path())
        .wait_with_output()
        .expect("apply ends");
    let (code, stderr) = (
        second.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&second.stderr),
    );
    assert_eq!(code, 1, "the second apply did not stop: {stderr}");
    assert!(
        stderr.contains("another apply is at work") && stderr.contains("--allow-concurrent"),
        "{stderr}"
    );
    assert_eq!(
        env.calls("startBatchJob") + env.calls("updateSim"),
        1,
        "the second apply made a call"
    );
    let (code, report, stderr) = wait_report(first);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["sims_changed"], SIMS, "{report}");
}

#[test]
fn with_allow_concurrent_two_runs_never_both_claim_a_change() {
    let (env, plan, spec) = slow_fleet();
    let first = env.spawn(&apply_json_args(&plan, &spec, &[]));
    env.wait_for_call("startBatchJob");
    let second = env.spawn(&apply_json_args(&plan, &spec, &["--allow-concurrent"]));
    let (code_a, a, err_a) = wait_report(first);
    let (code_b, b, err_b) = wait_report(second);
    assert_eq!((code_a, code_b), (0, 0), "{err_a}\n{err_b}");
    let n = |r: &Value, k: &str| r[k].as_u64().unwrap_or(0);
    assert_eq!(
        n(&a, "sims_changed") + n(&b, "sims_changed"),
        u64::from(SIMS),
        "both runs claim the same changes:\n{a}\n{b}"
    );
    assert_eq!(
        n(&b, "sims_changed") + n(&b, "sims_already_set") + n(&b, "sims_already_done"),
        u64::from(SIMS),
        "{b}"
    );
    assert!(env
        .state()
        .iter()
        .all(|s| s.monthly_sms_mo_limit == Some(9)));
}

/// `apply` with `XDG_RUNTIME_DIR` (where the apply lock lives) set to `lock_dir`.
fn spawn_locked(env: &Served, args: &[&str], lock_dir: &std::path::Path) -> Child {
    std::process::Command::new(bin())
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .env("CI", "1")
        .env("XDG_RUNTIME_DIR", lock_dir)
        .env_remove("WHEREVER_SIM_ENDPOINT")
        .args(args)
        .args(["--endpoint", &env.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("simfleet starts")
}

#[test]
fn two_applies_started_at_the_same_instant_exactly_one_runs() {
    let (env, plan, spec) = slow_fleet();
    let lock_dir = tempfile::tempdir().expect("lock dir");
    let args = apply_json_args(&plan, &spec, &[]);
    let a = spawn_locked(&env, &args, lock_dir.path());
    let b = spawn_locked(&env, &args, lock_dir.path());
    let mut ends: Vec<_> = [a, b]
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("apply ends");
            (
                output.status.code().unwrap_or(-1),
                serde_json::from_slice::<Value>(&output.stdout).ok(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        })
        .collect();
    ends.sort_by_key(|(code, _, _)| *code);
    let (ran, refused) = (&ends[0], &ends[1]);
    assert_eq!((ran.0, refused.0), (0, 1), "{}\n{}", ran.2, refused.2);
    assert_eq!(ran.1.as_ref().expect("report")["sims_changed"], SIMS);
    let lock = simfleet::ops::apply_lock::lock_path(lock_dir.path(), &env.url);
    assert!(
        refused.2.contains("another apply is running")
            && refused.2.contains(&lock.display().to_string()),
        "{}",
        refused.2
    );
    // The refused one stopped before any call of its own.
    assert_eq!(env.calls("startBatchJob"), 1);
}

#[test]
fn an_apply_refuses_at_once_while_another_process_holds_the_lock() {
    let env = Served::new(fleet(
        (0..3).map(|i| sim(i, 2, "ACME", json!({}))).collect(),
    ));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 9 }\n",
    );
    let plan = env.plan_out(&spec, &[]);
    let lock_dir = tempfile::tempdir().expect("lock dir");
    let held =
        simfleet::ops::apply_lock::ApplyLock::acquire_in(lock_dir.path(), &env.url).expect("lock");
    let reads = env.calls("listSims");
    let output = spawn_locked(&env, &apply_json_args(&plan, &spec, &[]), lock_dir.path())
        .wait_with_output()
        .expect("apply ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another apply is running")
            && stderr.contains(&held.path().display().to_string()),
        "{stderr}"
    );
    assert_eq!(env.calls("listSims"), reads, "a read was made");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);
    drop(held);
    let output = spawn_locked(&env, &apply_json_args(&plan, &spec, &[]), lock_dir.path())
        .wait_with_output()
        .expect("apply ends");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
