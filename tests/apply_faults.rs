//! `simfleet apply` when things go wrong around it: injected faults, signals, a batch job that
//! does not finish, and include lists emptied by a resumed apply.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use simfleet::sandbox::SandboxConfig;

fn slow_sandbox(n: u32, batch_rate: f64) -> Served {
    Served::start(
        SandboxConfig {
            batch_rate,
            ..SandboxConfig::default()
        },
        fleet((0..n).map(|i| sim(i, 2, "ACME", json!({}))).collect()),
    )
}

const SMS_SPEC: &str =
    "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 9 }\n";

#[test]
fn with_ten_percent_faults_apply_converges_changes_nothing_else_and_leaves_no_duplicate_job() {
    let mut sims = Vec::new();
    for i in 0..300 {
        let status = if i % 5 == 0 { 5 } else { 2 };
        let label = if i % 3 == 0 { "Globex" } else { "ACME" };
        sims.push(sim(
            i,
            status,
            label,
            json!({"custom_field_1": format!("c{i}")}),
        ));
    }
    let env = Served::start(
        SandboxConfig {
            fault_rate: 0.1,
            seed: 11,
            batch_rate: 100_000.0,
            ..SandboxConfig::default()
        },
        fleet(sims),
    );
    let spec = env.spec(
        r#"rules:
  - name: active
    match: { status: activated }
    set: { monthly_data_limit: 321MB, monthly_sms_mt_limit: 77 }
  - name: acme
    match: { status: activated, end_customer_label: ACME }
    set: { monthly_voice_mo_limit: 60, imei_lock: auto }
"#,
    );
    let before = env.state();
    let mut reported_jobs = BTreeSet::new();
    let mut converged = false;
    for _round in 0..5 {
        let out = env.path("plan.json");
        let plan = env
            .simfleet(&["plan", path_str(&spec), "--out", path_str(&out)])
            .output()
            .expect("plan runs");
        if plan.status.code() != Some(0) {
            continue;
        }
        let (code, report, _stderr) = env.apply_json(&out, &spec, &[]);
        if let Some(report) = &report {
            for job in report["batch_jobs"].as_array().into_iter().flatten() {
                reported_jobs.insert(job["id"].as_i64().expect("id"));
            }
        }
        if code == 0 && env.replan_code(&spec).0 == 0 {
            converged = true;
            break;
        }
    }
    assert!(
        converged,
        "apply did not converge in 5 rounds with 10% faults"
    );
    let after = env.state();
    for (b, a) in before.iter().zip(&after) {
        if b.statusid != 2 {
            assert_eq!(b, a, "a SIM outside the plan changed");
        } else {
            assert_eq!(
                b.custom_field_1, a.custom_field_1,
                "an unmanaged field changed"
            );
            assert_eq!(b.statusid, a.statusid);
        }
    }
    let jobs = sandbox_jobs(&env);
    let in_sandbox: BTreeSet<i64> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(
        in_sandbox, reported_jobs,
        "a batch job exists that no report accounts for (a duplicate start)"
    );
    let faults = env.get("/stats")["faults"].clone();
    assert!(
        faults.as_object().is_some_and(|f| !f.is_empty()),
        "no fault was injected: {faults}"
    );
}

/// Starts `apply PLAN`, waits for its first batch job, sends SIGTERM `signals` times, and
/// returns (exit code, stdout).
fn apply_and_signal(
    env: &Served,
    plan: &std::path::Path,
    spec: &std::path::Path,
    signals: usize,
) -> (Option<i32>, String) {
    let child = env.spawn(&["apply", path_str(plan), "--spec", path_str(spec)]);
    env.wait_for_call("startBatchJob");
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    for _ in 0..signals {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(300));
    }
    let output = child.wait_with_output().expect("apply ends");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// `n` test-ready SIMs that take a new SMS limit (phase 1) and are then activated (phase 2),
/// with batch jobs running at `batch_rate` SIMs a second; and the plan file.
fn limit_then_activate(n: u32, batch_rate: f64) -> (Served, PathBuf, PathBuf) {
    let env = Served::start(
        SandboxConfig {
            batch_rate,
            ..SandboxConfig::default()
        },
        fleet((0..n).map(|i| sim(i, 6, "ACME", json!({}))).collect()),
    );
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 9, status: activated }\n",
    );
    let plan_file = env.plan_out(&spec, &[]);
    (env, plan_file, spec)
}

#[test]
fn a_first_signal_finishes_the_job_in_flight_and_starts_no_activation() {
    let (env, plan_file, spec) = limit_then_activate(16, 8.0);
    let (code, out) = apply_and_signal(&env, &plan_file, &spec, 1);
    assert_eq!(code, Some(130), "{out}");
    assert!(
        out.contains("interrupted before its change was sent"),
        "{out}"
    );
    assert_eq!(env.calls("cancelBatchJob"), 0);
    assert_eq!(
        env.calls("startBatchJob"),
        1,
        "the activation was started after the signal"
    );
    let state = env.state();
    assert!(state
        .iter()
        .all(|s| s.monthly_sms_mo_limit == Some(9) && s.statusid == 6));

    let (code, _, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(env.state().iter().all(|s| s.statusid == 2));
    assert_eq!(env.replan_code(&spec).0, 0);
}

#[test]
fn a_second_signal_cancels_the_running_batch_job_and_a_rerun_converges() {
    let env = slow_sandbox(40, 8.0);
    let spec = env.spec(SMS_SPEC);
    let plan_file = env.plan_out(&spec, &[]);
    let (code, stdout) = apply_and_signal(&env, &plan_file, &spec, 2);
    assert_eq!(code, Some(130), "{stdout}");
    assert!(stdout.contains("cancel requested"), "{stdout}");
    assert!(stdout.contains("Interrupted"), "{stdout}");
    assert_eq!(env.calls("cancelBatchJob"), 1);
    let jobs = sandbox_jobs(&env);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, simfleet::api::BatchJobStatus::Cancelled);
    assert!(stdout.contains(&jobs[0].id.to_string()), "{stdout}");

    // The same plan again converges: SIMs the cancelled job reached count as done.
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(
        report["sims_already_done"].as_u64().unwrap_or(0)
            + report["sims_changed"].as_u64().unwrap_or(0),
        40
    );
    assert_eq!(env.replan_code(&spec).0, 0);
}

#[test]
fn a_job_past_the_timeout_is_reported_with_its_id_and_left_running() {
    let env = slow_sandbox(20, 2.0);
    let spec = env.spec(SMS_SPEC);
    let plan_file = env.plan_out(&spec, &[]);
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &["--job-timeout", "1s"]);
    assert_eq!(code, 1, "{stderr}");
    let report = report.expect("report");
    let job = &report["batch_jobs"][0];
    assert_eq!(job["timed_out"], true, "{report}");
    let id = job["id"].as_i64().expect("id");
    let failures: Vec<&Value> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .collect();
    assert!(
        failures.iter().any(|f| {
            f["reason"].as_str().is_some_and(|r| {
                r.contains(&format!("batch job {id}")) && r.contains("--job-timeout")
            })
        }),
        "{failures:?}"
    );
    let jobs = sandbox_jobs(&env);
    assert!(
        jobs.iter().any(|j| j.id == id && !j.status.is_finished()),
        "the timed-out job was not left running"
    );
}

#[test]
fn an_include_list_that_a_resume_empties_is_never_sent() {
    let mut sims: Vec<Value> = (0..3).map(|i| sim(i, 2, "ACME", json!({}))).collect();
    sims.extend((3..6).map(|i| sim(i, 2, "Globex", json!({}))));
    sims.extend((6..10).map(|i| sim(i, 2, "Other", json!({}))));
    let env = Served::new(fleet(sims));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 9 }\n  - name: globex\n    match: { end_customer_label: Globex }\n    set: { monthly_sms_mt_limit: 8 }\n",
    );
    let plan_file = env.plan_out(&spec, &[]);
    // Someone already made the ACME change: that job's include list is now empty.
    for i in 0..3 {
        env.update_sim(&iccid(i), "monthly_sms_mo_limit: 9");
    }
    let before = env.state();
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report.expect("report")["sims_already_done"], 3);
    let jobs = sandbox_jobs(&env);
    assert_eq!(jobs.len(), 1, "only the Globex job may be sent");
    assert_eq!(jobs[0].total_sims, 3);
    assert_eq!(jobs[0].changes.monthly_sms_mt_limit, Some(8));
    let after = env.state();
    for (b, a) in before.iter().zip(&after) {
        if b.label() != Some("Globex") {
            assert_eq!(b, a, "a SIM outside the remaining job changed");
        }
    }
}

#[test]
#[ignore = "slow: ~45 s in debug (50,000-SIM apply); cargo test --test apply_faults -- --ignored"]
fn fifty_thousand_sims_with_one_new_limit_take_fifty_batch_jobs() {
    let env = Served::new(fleet((0..50_000).map(sim_50k).collect()));
    let spec =
        env.spec("rules:\n  - name: all\n    match: all\n    set: { monthly_data_limit: 123MB }\n");
    let started = Instant::now();
    let plan_file = env.plan_out(&spec, &["--rate-limit", "100000", "--concurrency", "16"]);
    let planned = started.elapsed();
    let started = Instant::now();
    let (code, report, stderr) = env.apply_json(
        &plan_file,
        &spec,
        &["--rate-limit", "100000", "--concurrency", "16"],
    );
    let applied = started.elapsed();
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(env.calls("startBatchJob"), 50);
    assert_eq!(env.calls("updateSim"), 0);
    assert_eq!(report["calls"]["made"], 50);
    assert_eq!(report["calls"]["lower_bound"], 50);
    assert_eq!(report["sims_changed"], 50_000);
    eprintln!(
        "50k: plan {planned:?}, apply {applied:?}, apply HTTP requests {}",
        report["calls"]["http_requests"]
    );
}

fn sim_50k(i: u32) -> Value {
    json!({
        "iccid": format!("894900000000{i:08}"),
        "statusid": 2,
        "providerid": 5,
        "monthly_data_limit": 100_000_000,
    })
}

/// Issue 13, defect 13: at a fault rate of 0.3 a single apply of a saved plan converges in at
/// least 9 of 10 runs (fresh sandboxes, 10 fault seeds). The plan is made on a fault-free copy
/// of the fleet, so only apply meets the faults; "converged" is exit 0 and the fleet the
/// fault-free apply of the same plan leaves.
#[test]
fn at_thirty_percent_faults_nine_of_ten_single_applies_converge() {
    let sims: Vec<Value> = (0..320)
        .map(|i| {
            let status = if i % 7 == 0 { 6 } else { 2 };
            let label = format!("L{}", i % 6);
            let extra = if i % 16 == 0 {
                json!({"custom_field_1": format!("solo-{i}")})
            } else {
                json!({})
            };
            sim(i, status, &label, extra)
        })
        .collect();
    // Six label groups with their own limits (a batch job each), an activation phase, and a few
    // SIMs with their own updateSim.
    let mut spec_text = String::from("rules:\n");
    for l in 0..6 {
        spec_text.push_str(&format!(
            "  - name: l{l}\n    match: {{ end_customer_label: L{l} }}\n    set: {{ monthly_data_limit: {}MB, monthly_sms_mt_limit: {} }}\n",
            100 + l,
            10 + l
        ));
    }
    spec_text.push_str(
        "  - name: test-ready\n    match: { status: test-ready }\n    set: { status: activated }\n  - name: solo\n    match: { custom_field_1: { prefix: solo- } }\n    set: { custom_field_1: renamed, monthly_sms_mo_limit: 5 }\n",
    );
    let clean = Served::new(fleet(sims.clone()));
    let spec = clean.spec(&spec_text);
    let plan_file = clean.plan_out(&spec, &[]);
    let (code, _, stderr) = clean.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "fault-free apply: {stderr}");
    let expected = managed(&clean.state());

    let mut converged = 0;
    let mut failures = Vec::new();
    for seed in 1..=10u64 {
        let faulty = Served::start(
            SandboxConfig {
                fault_rate: 0.3,
                seed,
                batch_rate: 100_000.0,
                ..SandboxConfig::default()
            },
            fleet(sims.clone()),
        );
        let (code, report, stderr) =
            faulty.apply_json(&plan_file, &spec, &["--rate-limit", "1000"]);
        if code == 0 && managed(&faulty.state()) == expected {
            converged += 1;
        } else {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            let reasons: BTreeSet<String> = report
                .iter()
                .flat_map(|r| r["failures"].as_array().cloned().unwrap_or_default())
                .filter_map(|f| f["reason"].as_str().map(str::to_string))
                .collect();
            failures.push(format!(
                "seed {seed}: exit {code}, status {:?}, reasons {reasons:?}, {tail:?}",
                report.as_ref().map(|r| r["status"].clone())
            ));
        }
    }
    eprintln!("{converged} of 10 applies converged at fault rate 0.3");
    assert!(
        converged >= 9,
        "only {converged} of 10 applies converged at fault rate 0.3:\n{}",
        failures.join("\n")
    );
}

/// The fields a plan manages, per SIM (timestamps the sandbox sets on activation differ run to
/// run).
fn managed(sims: &[simfleet::fleet::Sim]) -> Vec<String> {
    sims.iter()
        .map(|s| {
            format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                s.iccid,
                s.statusid,
                s.monthly_data_limit,
                s.monthly_sms_mo_limit,
                s.monthly_sms_mt_limit,
                s.monthly_voice_mo_limit,
                s.custom_field_1,
                s.label(),
                s.imei_lock.as_ref().map(|l| l.enabled)
            )
        })
        .collect()
}

/// Issue 13, defect 7: after an interrupt the progress line counts only what was done and says
/// what was not attempted, and the report's "Not attempted:" is one group, not one line per SIM.
#[test]
fn an_interrupted_apply_counts_only_what_it_did_and_groups_what_it_did_not() {
    let (env, plan_file, spec) = limit_then_activate(120, 60.0);
    let (code, out) = apply_and_signal(&env, &plan_file, &spec, 1);
    assert_eq!(code, Some(130), "{out}");
    assert!(
        !out.contains("240/240 SIM actions done"),
        "the progress line counts actions never sent as done:\n{out}"
    );
    assert!(
        out.contains("120/240 SIM actions done, 120 not attempted (240 actions for 120 SIMs: one per SIM and phase; the report counts SIMs)"),
        "{out}"
    );
    let per_sim_lines = out
        .lines()
        .filter(|l| l.trim_start().starts_with("8949") && l.contains(": "))
        .count();
    assert_eq!(per_sim_lines, 0, "one line per SIM:\n{out}");
    assert!(
        out.contains("Not attempted:\n  120 SIMs:\n    - interrupted before its change was sent\n"),
        "{out}"
    );
    assert!(out.lines().count() < 40, "{out}");
}
