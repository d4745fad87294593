//! `simfleet apply` end to end: the real binary against a real sandbox on loopback.
//!
//! Each test starts its own sandbox in-process (its server runs on this test's tokio runtime
//! while the binary runs as a child process), writes a spec, and drives plan → apply → plan.
//! What the sandbox holds afterwards (`GET /state`) and what it was asked (`GET /stats`) are the
//! evidence, not the tool's own report.

mod common;

use common::*;
use serde_json::{json, Value};

fn failures_of<'a>(report: &'a Value, iccid: &str) -> Vec<&'a Value> {
    report["failures"]
        .as_array()
        .map(|f| f.iter().filter(|x| x["iccid"] == iccid).collect())
        .unwrap_or_default()
}

#[test]
fn plan_apply_plan_converges_and_leaves_the_rest_alone() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let before = env.state();
    let plan_file = env.plan_out(&spec, &[]);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).expect("plan")).expect("JSON");

    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("a JSON report");
    assert_eq!(report["status"], "converged");
    assert_eq!(report["sims_changed"], 15);
    assert_eq!(report["sims_failed"], 0);
    // Exactly the planned calls, all of them mutations the plan listed.
    assert_eq!(report["calls"]["made"], plan["summary"]["api_calls"]);
    assert_eq!(
        env.calls("startBatchJob") + env.calls("updateSim"),
        plan["summary"]["api_calls"].as_u64().expect("count")
    );
    let jobs = report["batch_jobs"].as_array().expect("jobs");
    assert!(!jobs.is_empty());
    assert!(jobs
        .iter()
        .all(|j| j["status"] == "COMPLETED" && j["id"].is_i64()));

    let (code, stdout) = env.replan_code(&spec);
    assert_eq!(code, 0, "plan after apply still has changes:\n{stdout}");

    let after = env.state();
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.iccid, a.iccid);
        if b.label() == Some("Other") {
            assert_eq!(b, a, "a SIM outside the spec changed");
        }
    }
    let solo = env.sim(&iccid(14));
    assert_eq!(solo.custom_field_1.as_deref(), Some("truck-17"));
    assert_eq!(
        solo.imei_lock.and_then(|l| l.imei).as_deref(),
        Some("356938035643809")
    );
    let globex = env.sim(&iccid(10));
    assert_eq!(globex.statusid, 2);
    assert_eq!(globex.monthly_data_limit, None);

    // The same plan file again: everything is already done, no mutation is sent.
    let mutations = env.calls("startBatchJob") + env.calls("updateSim");
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report.expect("report")["sims_already_done"], 15);
    assert_eq!(
        env.calls("startBatchJob") + env.calls("updateSim"),
        mutations
    );
}

#[test]
fn a_stale_plan_applies_nothing_and_lists_the_sim() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    // Someone changes a managed field of a planned SIM to a third value, and an unmanaged field
    // of another (which alone would not make the plan stale).
    let stale = iccid(3);
    let changed = env.gql(
        "mutation($i: ID!) { updateSim(iccid: $i, monthly_data_limit: 777) { iccid } }",
        json!({"i": stale}),
    );
    assert!(changed.get("errors").is_none(), "{changed}");
    let touched = env.gql(
        "mutation($i: ID!) { updateSim(iccid: $i, custom_field_1: \"note\") { iccid } }",
        json!({"i": iccid(4)}),
    );
    assert!(touched.get("errors").is_none(), "{touched}");
    let before = env.state();
    let (code, _, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stale"), "{stderr}");
    assert!(stderr.contains(&stale), "{stderr}");
    assert!(
        stderr.contains("monthly_data_limit") && stderr.contains("777"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&iccid(4)),
        "an unmanaged change made it stale: {stderr}"
    );
    assert_eq!(env.calls("startBatchJob"), 0);
    assert_eq!(env.state(), before, "a stale plan changed the fleet");
}

#[test]
fn a_stale_plan_gives_its_json_report_with_the_stale_sims_and_still_fails() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    let stale = iccid(3);
    env.update_sim(&stale, "monthly_data_limit: 777");
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the plan is stale"), "{stderr}");
    let report = report.expect("a JSON report on stdout");
    assert_eq!(report["status"], "stale", "{report}");
    assert_eq!(report["sims_changed"], 0);
    assert_eq!(report["calls"]["made"], 0);
    assert_eq!(
        report["stale"],
        json!([{
            "iccid": stale,
            "in_fleet": true,
            "fields": [{
                "field": "monthly_data_limit",
                "planned_from": report["stale"][0]["fields"][0]["planned_from"],
                "planned_to": report["stale"][0]["fields"][0]["planned_to"],
                "now": 777
            }]
        }]),
        "{report}"
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/apply-report.schema.json")).expect("schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The text report is unchanged: the error on stderr, nothing on stdout.
    let (code, stdout) = env.apply_text(&plan_file, &spec, &[]);
    assert_eq!((code, stdout.as_str()), (1, ""));
}

#[test]
fn an_unmanaged_change_does_not_make_the_plan_stale() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    let touched = env.gql(
        "mutation($i: ID!) { updateSim(iccid: $i, custom_field_1: \"note\") { iccid } }",
        json!({"i": iccid(4)}),
    );
    assert!(touched.get("errors").is_none(), "{touched}");
    let (code, _, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.sim(&iccid(4)).custom_field_1.as_deref(), Some("note"));
}

#[test]
fn a_wrong_checksum_is_refused_before_any_call() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    let before = env.state();
    let reads = env.calls("listSims");
    let (code, _, stderr) = env.apply_json(
        &plan_file,
        &spec,
        &[
            "--expect-checksum",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--expect-checksum"), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert_eq!(env.state(), before);
    assert_eq!(
        env.calls("listSims"),
        reads,
        "apply read the fleet before refusing"
    );
}

#[test]
fn a_plan_made_from_another_spec_than_the_given_one_is_refused_before_any_call() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    // The spec moves on after the plan was made (a rule's value changed in review).
    let changed =
        mixed_spec().replacen("monthly_sms_mo_limit: 100", "monthly_sms_mo_limit: 101", 1);
    assert_ne!(changed, mixed_spec(), "the edit must change the spec");
    std::fs::write(spec.join("fleet.yaml"), changed).expect("spec file");
    let before = env.state();
    let reads = env.calls("listSims");
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(report.is_none(), "{report:?}");
    assert!(
        stderr.contains("the spec changed since this plan was made")
            && stderr.contains(&spec.display().to_string())
            && stderr.contains("simfleet plan")
            && stderr.contains("nothing was applied"),
        "{stderr}"
    );
    assert_eq!(env.calls("listSims"), reads, "apply read the fleet first");
    assert_eq!(env.state(), before);

    // Without --spec (./fleet gives the guards), the digest is not compared: as before.
    let output = env
        .simfleet(&["apply", path_str(&plan_file), "--format", "json"])
        .current_dir(env.dir.path())
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn guards_stop_with_exit_3_and_name_the_flag() {
    let mut sims: Vec<Value> = (0..4).map(|i| sim(i, 2, "ACME", json!({}))).collect();
    sims.push(sim(4, 2, "Cut", json!({})));
    let env = Served::new(fleet(sims));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 5 }\n  - name: cut\n    match: { end_customer_label: Cut }\n    set: { status: suspended }\n",
    );
    // The reviewer allowed the cut when planning, but apply runs without the flag.
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let before = env.state();
    let (code, stdout) = env.apply_text(&plan_file, &spec, &[]);
    assert_eq!(code, 3);
    assert!(stdout.contains("--allow-status-cuts"), "{stdout}");

    let (code, stdout) = env.apply_text(
        &plan_file,
        &spec,
        &["--allow-status-cuts", "--max-changes", "2"],
    );
    assert_eq!(code, 3);
    assert!(stdout.contains("max_changes"), "{stdout}");
    assert_eq!(env.state(), before, "a guard let a change through");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);

    // simfleet.yaml's max_percent applies too.
    std::fs::write(
        spec.join("simfleet.yaml"),
        "luhn_check: false\nmax_percent: 50\n",
    )
    .expect("config");
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let (code, stdout) = env.apply_text(&plan_file, &spec, &["--allow-status-cuts"]);
    assert_eq!(code, 3);
    assert!(stdout.contains("max_percent"), "{stdout}");

    let (code, stdout) = env.apply_text(
        &plan_file,
        &spec,
        &["--allow-status-cuts", "--max-percent", "100"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(env.sim(&iccid(4)).statusid, 12);
}

#[test]
fn a_forbidden_transition_is_blocked_in_the_plan_and_never_sent() {
    let env = Served::new(fleet(vec![
        sim(0, 2, "ACME", json!({})),
        sim(1, 3, "ACME", json!({})),
    ]));
    // Activated → test-ready is not in the transition table, directly or through other
    // statuses; issued → test-ready is.
    let spec = env.spec(
        "rules:\n  - name: park\n    match: { end_customer_label: ACME }\n    set: { status: test-ready }\n",
    );
    let output = env
        .simfleet(&["plan", path_str(&spec), "--allow-status-cuts"])
        .output()
        .expect("plan runs");
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&iccid(0)), "{stdout}");
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &["--allow-status-cuts"]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["blocked"], 1);
    assert_eq!(env.sim(&iccid(0)).statusid, 2);
    assert_eq!(env.sim(&iccid(1)).statusid, 6);
}

#[test]
fn code_701_and_a_failed_batch_job_are_reported_by_iccid_and_block_activation() {
    let fail = json!({"custom_field_1": "sandbox-fail-imei-lock"});
    let env = Served::new(fleet(vec![
        // A job whose every SIM fails: FAILED.
        sim(0, 2, "Doomed", fail.clone()),
        sim(1, 2, "Doomed", fail.clone()),
        // A job with one failing SIM among good ones: COMPLETED, partial; and activation after.
        sim(2, 6, "Mixed", fail.clone()),
        sim(3, 6, "Mixed", json!({})),
        sim(4, 6, "Mixed", json!({})),
    ]));
    let spec = env.spec(
        "rules:\n  - name: doomed\n    match: { end_customer_label: Doomed }\n    set: { imei_lock: auto, monthly_sms_mo_limit: 5 }\n  - name: mixed\n    match: { end_customer_label: Mixed }\n    set: { imei_lock: auto, status: activated }\n",
    );
    let plan_file = env.plan_out(&spec, &[]);
    let (code, report, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("did not converge"), "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["sims_failed"], 3);
    for i in [0, 1, 2] {
        let f = failures_of(&report, &iccid(i));
        assert!(
            f.iter().any(|x| x["code"] == 701
                && x["field"] == "imei_lock"
                && x["reason"] == "General error while writing IMEI lock"
                && x["batch_job_id"].is_i64()),
            "{i}: {f:?}"
        );
    }
    let jobs = report["batch_jobs"].as_array().expect("jobs");
    let statuses: Vec<(&Value, &Value)> =
        jobs.iter().map(|j| (&j["status"], &j["partial"])).collect();
    assert!(
        statuses.contains(&(&json!("FAILED"), &json!(false))),
        "{jobs:?}"
    );
    assert!(
        statuses.contains(&(&json!("COMPLETED"), &json!(true))),
        "{jobs:?}"
    );
    // The SIM whose lock failed was not activated; the others were.
    assert_eq!(env.sim(&iccid(2)).statusid, 6);
    // Counted once, as failed, with why its activation was not sent.
    assert!(
        failures_of(&report, &iccid(2))
            .iter()
            .any(|f| f["field"] == "status"
                && f["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("not activated"))),
        "{report}"
    );
    assert_eq!(report["sims_skipped"], 0, "{report}");
    assert_eq!(env.sim(&iccid(3)).statusid, 2);
    assert_eq!(env.sim(&iccid(4)).statusid, 2);

    // The text report says the same, by ICCID.
    let (code, text) = env.apply_text(&plan_file, &spec, &[]);
    assert_eq!(code, 1);
    assert!(
        text.contains(
            "    - imei_lock (code 701): General error while writing IMEI lock (wanted auto, found none)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("    {}, {}\n", iccid(0), iccid(1))),
        "{text}"
    );
}

#[test]
fn an_update_sim_error_is_reported_with_the_api_message() {
    let env = Served::new(fleet(vec![sim(
        0,
        2,
        "Solo",
        json!({"custom_field_1": "sandbox-fail-imei-lock"}),
    )]));
    let spec = env.spec(&format!(
        "sims:\n  \"{}\":\n    imei_lock: \"356938035643809\"\n",
        iccid(0)
    ));
    let plan_file = env.plan_out(&spec, &[]);
    let (code, report, _) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1);
    let report = report.expect("report");
    let f = failures_of(&report, &iccid(0));
    assert!(
        f.iter().any(|x| x["reason"]
            .as_str()
            .is_some_and(|r| r.contains("updateSim failed") && r.contains("IMEI lock"))),
        "{f:?}"
    );
}

#[test]
fn a_directory_needs_auto_approve_without_a_terminal() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let before = env.state();
    let output = env
        .simfleet(&["apply", path_str(&spec)])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--auto-approve"));
    assert_eq!(env.state(), before);

    let output = env
        .simfleet(&["apply", path_str(&spec), "--auto-approve"])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(env.replan_code(&spec).0, 0);
}

/// Issue 13 (defect 10, apply's part): a plan file that does not exist is named as such.
#[test]
fn a_missing_plan_file_is_reported_as_missing() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let missing = env.path("no-such-plan.json");
    let (code, _, stderr) = env.apply_json(&missing, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no such plan file or spec directory: {}",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("not a directory"), "{stderr}");
}

/// Issue 13 (defect 10, apply's part): a masked plan is refused as masked, not as edited.
#[test]
fn a_masked_plan_is_refused_as_masked_and_read_only() {
    let env = Served::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let masked = env.path("masked.json");
    let output = env
        .simfleet(&["plan", path_str(&spec), "--format", "json", "--mask"])
        .output()
        .expect("plan runs");
    std::fs::write(&masked, &output.stdout).expect("masked plan");
    let (code, _, stderr) = env.apply_json(&masked, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("masked plan") && stderr.contains("without --mask"),
        "{stderr}"
    );
    assert!(!stderr.contains("edited after it was made"), "{stderr}");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);
}

/// Issue 13, defect 7: stale SIMs are grouped by what changed, in the spec's units.
#[test]
fn stale_sims_are_grouped_by_cause_in_the_specs_units() {
    let env = Served::new(fleet(
        (0..40).map(|i| sim(i, 2, "ACME", json!({}))).collect(),
    ));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_data_limit: 1GB }\n",
    );
    let plan_file = env.plan_out(&spec, &[]);
    for i in 0..40 {
        env.update_sim(&iccid(i), "monthly_data_limit: 2000000000");
    }
    let (code, _, stderr) = env.apply_json(&plan_file, &spec, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("  40 SIMs:\n    - monthly_data_limit: planned 100MB → 1GB, now 2GB\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("1000000000"), "{stderr}");
    assert!(stderr.lines().count() < 15, "{stderr}");
    // The list is the error itself: `--quiet` keeps it.
    let (code, _, quiet) = env.apply_json(&plan_file, &spec, &["--quiet"]);
    assert_eq!(code, 1, "{quiet}");
    assert!(
        quiet.contains("  40 SIMs:\n    - monthly_data_limit: planned 100MB → 1GB, now 2GB\n"),
        "{quiet}"
    );
}
