//! Drift since the last applied plan, end to end: a plan is applied on the sandbox, SIMs are
//! changed "in the portal" (`POST /outside/updateSim`), a rule is removed from the spec, and
//! `plan --last-applied` / `check --last-applied` report every SIM no longer at what the applied
//! plan set, the unmanaged one included, with `--detailed-exitcode`, `--why-drift`, `--target`,
//! `--live`, `--mask`, and the errors a bad PLANFILE gives.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{json, Value};

/// SIM 0 starts deactivated (the plan activates it), 1–3 are ACME, 4–5 BETA.
fn start_fleet() -> simfleet::fleet::Snapshot {
    let mut sims = vec![sim(0, 5, "ACME", json!({"monthly_sms_mo_limit": 100}))];
    for i in 1..4 {
        sims.push(sim(i, 2, "ACME", json!({"monthly_sms_mo_limit": 100})));
    }
    for i in 4..6 {
        sims.push(sim(i, 2, "BETA", json!({"monthly_sms_mo_limit": 100})));
    }
    fleet(sims)
}

const SPEC_APPLIED: &str = r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set:
      status: activated
      monthly_sms_mo_limit: 200
  - name: beta
    match: { end_customer_label: BETA }
    set:
      imei_lock: auto
      monthly_sms_mo_limit: 300
"#;

/// The spec after the apply: the BETA rule is gone, so SIMs 4 and 5 are unmanaged.
const SPEC_NOW: &str = r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set:
      status: activated
      monthly_sms_mo_limit: 200
"#;

/// `POST /outside/updateSim`, which must succeed.
fn outside(env: &Served, body: Value) {
    let url = format!("{}/outside/updateSim", env.base);
    let status = env.rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .header("Authorization", "sandbox")
            .json(&body)
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    });
    assert_eq!(status, 200, "{body}");
}

/// The sandbox after SPEC_APPLIED's plan was applied; the spec is SPEC_NOW from here on.
/// Returns the environment, the spec directory and the applied plan file.
fn applied() -> (Served, PathBuf, PathBuf) {
    let env = Served::new(start_fleet());
    let spec = env.spec(SPEC_APPLIED);
    let made = env.plan_out(&spec, &[]);
    let applied = env.path("applied.plan");
    std::fs::rename(&made, &applied).expect("rename");
    let (code, _, stderr) = env.apply_json(&applied, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let spec = env.spec(SPEC_NOW);
    (env, spec, applied)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn plan_json(env: &Served, args: &[&str]) -> Value {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = env.simfleet(&all).output().expect("plan runs");
    assert!(out.status.code() != Some(1), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON plan")
}

/// The drifted fields of one SIM in the report.
fn drifted<'r>(report: &'r Value, iccid: &str) -> &'r Vec<Value> {
    report["sims"]
        .as_array()
        .expect("sims")
        .iter()
        .find(|s| s["iccid"] == iccid)
        .unwrap_or_else(|| panic!("{iccid} drifted: {report}"))["fields"]
        .as_array()
        .expect("fields")
}

#[test]
fn every_sim_off_what_the_applied_plan_set_is_reported_the_unmanaged_one_included() {
    let (env, spec, applied) = applied();
    outside(&env, json!({"iccid": iccid(0), "statusid": 5}));
    outside(&env, json!({"iccid": iccid(1), "monthly_sms_mo_limit": 50}));
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": false}}),
    );
    outside(
        &env,
        json!({"iccid": iccid(5), "monthly_sms_mo_limit": 999}),
    );

    let plan = plan_json(
        &env,
        &[path_str(&spec), "--last-applied", path_str(&applied)],
    );
    let report = &plan["since_last_apply"];
    assert_eq!(report["sims_in_plan"], 6, "{report}");
    assert_eq!(report["compared"], 6);
    assert_eq!(report["drifted_sims"], 4);
    assert_eq!(report["not_found"], json!([]));
    assert_eq!(
        report["sims"][0]["iccid"],
        iccid(0),
        "status first: {report}"
    );
    assert_eq!(report["sims"][1]["iccid"], iccid(4), "then the IMEI lock");

    let status = &drifted(report, &iccid(0))[0];
    assert_eq!(
        (&status["field"], &status["set"], &status["live"]),
        (&json!("status"), &json!(2), &json!(5))
    );
    assert_eq!(status["managed"], true);
    assert_eq!(status["current"]["to"], 2, "the plan sets it back");
    // SIM 4: its rule was removed, the plan of the spec does not look at it, and yet.
    let lock = &drifted(report, &iccid(4))[0];
    assert_eq!(lock["field"], "imei_lock");
    assert_eq!(lock["set"], json!({"enabled": true, "imei": null}));
    assert_eq!(lock["managed"], false);
    assert!(lock.get("current").is_none(), "{lock}");
    let changed: Vec<&Value> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| &c["iccid"])
        .collect();
    assert!(!changed.contains(&&json!(iccid(4))), "{changed:?}");
    assert_eq!(drifted(report, &iccid(5))[0]["live"], 999);
    assert_eq!(drifted(report, &iccid(1))[0]["current"]["to"], 200);

    let text = stdout(
        &env.simfleet(&[
            "plan",
            path_str(&spec),
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs"),
    );
    assert!(text.contains("Drift since the last applied plan"), "{text}");
    assert!(
        text.contains("6 of its 6 SIMs compared, 4 SIMs no longer at what it set"),
        "{text}"
    );
    assert!(
        text.contains(
            "imei_lock auto set by the last plan, off live; the spec no longer manages it"
        ),
        "{text}"
    );
    assert!(
        text.contains("status Activated (2) set by the last plan, Deactivated (5) live; the spec still wants it: this plan sets it back"),
        "{text}"
    );
}

#[test]
fn detailed_exitcode_is_2_for_drift_since_the_apply_even_without_changes() {
    let (env, spec, applied) = applied();
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": false}}),
    );
    let (code, text) = env.replan_code(&spec);
    assert_eq!(code, 0, "the spec's plan changes nothing: {text}");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--detailed-exitcode",
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 SIM no longer at what it set"));
    // The fleet back at what the plan set: no drift, exit 0.
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": true}}),
    );
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--detailed-exitcode",
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("none drifted"), "{}", stdout(&out));
}

#[test]
fn why_drift_reads_the_events_of_status_and_lock_drift_since_the_apply() {
    let (env, spec, applied) = applied();
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": false}}),
    );
    outside(
        &env,
        json!({"iccid": iccid(5), "monthly_sms_mo_limit": 999}),
    );
    let before = env.calls("listSimEvents");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "imei_lock auto set by the last plan, off live; the spec no longer manages it \
             (nothing sets it back); changed just now, "
        ),
        "{text}"
    );
    assert!(
        text.contains("(imeiLockSwitch: IMEI lock disabled by portal user)"),
        "{text}"
    );
    assert!(
        text.contains("monthly_sms_mo_limit drifted on 1 SIM: no events record changes to limits"),
        "{text}"
    );
    assert!(text.contains("events read for 1, not read for 0"), "{text}");
    assert_eq!(
        env.calls("listSimEvents") - before,
        1,
        "one read, for SIM 4"
    );

    // SIM 0's status drifted from the spec and from the apply: it ranks first, and one read
    // serves both; the shared limit of 1 leaves SIM 4 unread.
    outside(&env, json!({"iccid": iccid(0), "statusid": 5}));
    let before = env.calls("listSimEvents");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--why-drift-limit",
            "1",
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs");
    let text = stdout(&out);
    assert_eq!(env.calls("listSimEvents") - before, 1, "{text}");
    assert!(
        text.contains("events read for 1, not read for 1 (over --why-drift-limit 1)"),
        "{text}"
    );
    assert!(
        text.contains(
            "status Activated (2) set by the last plan, Deactivated (5) live; the spec still \
             wants it: this plan sets it back; changed just now"
        ),
        "{text}"
    );
}

#[test]
fn sims_outside_this_plans_read_are_read_again_by_iccid() {
    let (env, spec, applied) = applied();
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": false}}),
    );
    let plan = plan_json(
        &env,
        &[
            path_str(&spec),
            "--target",
            "{end_customer_label: ACME}",
            "--last-applied",
            path_str(&applied),
        ],
    );
    let report = &plan["since_last_apply"];
    assert_eq!(report["read_again"], 2, "SIMs 4 and 5: {report}");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--target",
            "{end_customer_label: ACME}",
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("plan runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 of ") && stderr.contains("read again by ICCID (2 found, "),
        "{stderr}"
    );
    assert_eq!(report["compared"], 6);
    assert_eq!(drifted(report, &iccid(4))[0]["field"], "imei_lock");
}

#[test]
fn a_snapshot_gives_the_live_values_and_a_sim_gone_is_not_found() {
    let (env, spec, applied) = applied();
    outside(&env, json!({"iccid": iccid(1), "monthly_sms_mo_limit": 50}));
    let mut state = env.get("/state");
    state["sims"]
        .as_array_mut()
        .expect("sims")
        .retain(|s| s["iccid"] != iccid(5));
    let snapshot = env.path("snapshot.json");
    std::fs::write(&snapshot, state.to_string()).expect("snapshot");
    let requests = env.get("/stats");
    let out = simfleet_command()
        .args(["plan", path_str(&spec), "--live", path_str(&snapshot)])
        .args(["--last-applied", path_str(&applied), "--format", "json"])
        .output()
        .expect("plan runs");
    let plan: Value = serde_json::from_slice(&out.stdout).expect("JSON plan");
    assert_eq!(env.get("/stats"), requests, "no request with --live");
    let report = &plan["since_last_apply"];
    assert_eq!(report["not_found"], json!([iccid(5)]), "{report}");
    assert_eq!(
        (&report["compared"], &report["drifted_sims"]),
        (&json!(5), &json!(1))
    );
    assert_eq!(drifted(report, &iccid(1))[0]["live"], 50);
}

/// Runs of 15 to 20 digits (IMEIs, ICCIDs): what `--mask` must never let out.
fn identifiers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| (15..=20).contains(&run.len()))
        .map(str::to_string)
        .collect()
}

#[test]
fn masked_output_names_no_sim() {
    let (env, spec, applied) = applied();
    outside(
        &env,
        json!({"iccid": iccid(4), "imei_lock": {"lock": false}}),
    );
    outside(&env, json!({"iccid": iccid(0), "statusid": 5}));
    for format in ["text", "markdown", "json"] {
        let out = env
            .simfleet(&[
                "--mask",
                "plan",
                path_str(&spec),
                "--why-drift",
                "--last-applied",
                path_str(&applied),
                "--format",
                format,
            ])
            .output()
            .expect("plan runs");
        let text = stdout(&out);
        assert!(
            text.contains("0004")
                && (text.contains("last applied plan") || text.contains("since_last_apply")),
            "{format}: the drift is there, masked: {text}"
        );
        let found = identifiers(&text);
        assert!(found.is_empty(), "{format}: unmasked {found:?} in {text}");
    }
    let out = env
        .simfleet(&[
            "--mask",
            "check",
            path_str(&spec),
            "--last-applied",
            path_str(&applied),
            "--json",
        ])
        .output()
        .expect("check runs");
    let text = stdout(&out);
    assert!(text.contains("\"since_last_apply\""), "{text}");
    assert!(identifiers(&text).is_empty(), "{text}");
}

#[test]
fn check_reports_drift_since_the_apply_like_other_drift() {
    let (env, spec, applied) = applied();
    outside(
        &env,
        json!({"iccid": iccid(5), "monthly_sms_mo_limit": 999}),
    );
    let out = env
        .simfleet(&[
            "check",
            path_str(&spec),
            "--last-applied",
            path_str(&applied),
        ])
        .output()
        .expect("check runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Drift since the last applied plan"), "{text}");
    assert!(
        text.contains("monthly_sms_mo_limit 300 set by the last plan, 999 live"),
        "{text}"
    );
}

#[test]
fn a_missing_or_damaged_plan_file_is_a_usage_error_before_any_request() {
    let (env, spec, applied) = applied();
    let reads = env.calls("listSims");
    let missing = env.path("nowhere.plan");
    for command in ["plan", "check"] {
        let out = env
            .simfleet(&[
                command,
                path_str(&spec),
                "--last-applied",
                path_str(&missing),
            ])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("--last-applied") && stderr.contains(path_str(&missing)),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let damaged = env.path("damaged.plan");
    let text = std::fs::read_to_string(&applied).expect("plan file");
    std::fs::write(&damaged, text.replacen("300", "301", 1)).expect("write");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--last-applied",
            path_str(&damaged),
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(path_str(&damaged)), "{stderr}");
    assert_eq!(env.calls("listSims"), reads, "no SIM was read");
}
