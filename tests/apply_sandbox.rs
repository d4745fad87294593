//! `simfleet apply` end to end: the real binary against a real sandbox on loopback.
//!
//! Each test starts its own sandbox in-process (its server runs on this test's tokio runtime
//! while the binary runs as a child process), writes a spec, and drives plan → apply → plan.
//! What the sandbox holds afterwards (`GET /state`) and what it was asked (`GET /stats`) are the
//! evidence, not the tool's own report.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use simfleet::fleet::{Sim, Snapshot};
use simfleet::sandbox::{RunningSandbox, Sandbox, SandboxConfig};

struct Env {
    rt: tokio::runtime::Runtime,
    sandbox: Option<RunningSandbox>,
    url: String,
    base: String,
    dir: tempfile::TempDir,
}

impl Env {
    fn start(fleet: Snapshot, config: SandboxConfig) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = rt
            .block_on(Sandbox::start(config, fleet))
            .expect("sandbox starts");
        let url = sandbox.url();
        let base = format!("http://{}", sandbox.addr());
        Env {
            rt,
            sandbox: Some(sandbox),
            url,
            base,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn new(fleet: Snapshot) -> Env {
        Env::start(
            fleet,
            SandboxConfig {
                batch_rate: 100_000.0,
                ..SandboxConfig::default()
            },
        )
    }

    /// The binary with the token and endpoint set; CI=1 keeps progress to plain lines.
    fn simfleet(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("simfleet").expect("binary");
        cmd.env("WHEREVER_SIM_TOKEN", "sandbox")
            .env("CI", "1")
            .env_remove("WHEREVER_SIM_ENDPOINT")
            .args(args)
            .args(["--endpoint", &self.url])
            .timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// Writes the spec (and a simfleet.yaml without the Luhn check) and returns its directory.
    fn spec(&self, yaml: &str) -> PathBuf {
        let dir = self.dir.path().join("fleet");
        std::fs::create_dir_all(&dir).expect("spec dir");
        std::fs::write(dir.join("fleet.yaml"), yaml).expect("spec file");
        std::fs::write(dir.join("simfleet.yaml"), "luhn_check: false\n").expect("config");
        dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            reqwest::get(&url)
                .await
                .expect("GET")
                .json::<Value>()
                .await
                .expect("JSON")
        })
    }

    fn state(&self) -> Vec<Sim> {
        let snapshot = self.get("/state");
        serde_json::from_value(snapshot["sims"].clone()).expect("SIMs")
    }

    fn sim(&self, iccid: &str) -> Sim {
        self.state()
            .into_iter()
            .find(|s| s.iccid == iccid)
            .unwrap_or_else(|| panic!("{iccid} in the sandbox"))
    }

    fn calls(&self, field: &str) -> u64 {
        self.get("/stats")["operations"][field].as_u64().unwrap_or(0)
    }

    fn gql(&self, query: &str, variables: Value) -> Value {
        let url = self.url.clone();
        self.rt.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .header("Authorization", "sandbox")
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .expect("POST")
                .json::<Value>()
                .await
                .expect("JSON")
        })
    }

    /// `plan DIR --out FILE`, returning the plan file's path.
    fn plan_out(&self, spec: &Path, extra: &[&str]) -> PathBuf {
        let out = self.path("plan.json");
        let mut args = vec!["plan", path_str(spec), "--out", path_str(&out)];
        args.extend_from_slice(extra);
        let assert = self.simfleet(&args).assert();
        let code = assert.get_output().status.code();
        assert!(matches!(code, Some(0) | Some(3)), "plan failed: {:?}", assert.get_output());
        out
    }

    /// `apply FILE --format json`: exit code and report (when one was printed).
    fn apply_json(&self, plan: &Path, spec: &Path, extra: &[&str]) -> (i32, Option<Value>, String) {
        let mut args = vec![
            "apply",
            path_str(plan),
            "--spec",
            path_str(spec),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let output = self.simfleet(&args).output().expect("apply runs");
        let report = serde_json::from_slice::<Value>(&output.stdout).ok();
        (
            output.status.code().unwrap_or(-1),
            report,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `plan DIR --detailed-exitcode`: 0 = no changes.
    fn replan_code(&self, spec: &Path) -> (i32, String) {
        let output = self
            .simfleet(&["plan", path_str(spec), "--detailed-exitcode"])
            .output()
            .expect("plan runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.rt.block_on(sandbox.shutdown());
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn iccid(i: u32) -> String {
    format!("8949000000000000{i:04}")
}

/// One SIM as the sandbox stores it.
fn sim(i: u32, status: i32, label: &str, extra: Value) -> Value {
    let mut v = json!({
        "iccid": iccid(i),
        "statusid": status,
        "providerid": 5,
        "monthly_data_limit": 100_000_000,
        "end_customer_label": {"name": label},
    });
    if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in more {
            obj.insert(k.clone(), val.clone());
        }
    }
    v
}

fn fleet(sims: Vec<Value>) -> Snapshot {
    Snapshot::from_json(
        &json!({"format_version": 1, "sims": sims}).to_string(),
        "test fleet",
    )
    .expect("valid snapshot")
}

/// 10 ACME SIMs (limits + auto lock), 4 Globex test-ready SIMs (unlimited data, voice, then
/// activation), one SIM with a specific IMEI, 5 SIMs no rule matches.
fn mixed_fleet() -> Snapshot {
    let mut sims = Vec::new();
    for i in 0..10 {
        sims.push(sim(i, 2, "ACME", json!({})));
    }
    for i in 10..14 {
        sims.push(sim(i, 6, "Globex", json!({})));
    }
    sims.push(sim(14, 2, "Solo", json!({"custom_field_1": "old"})));
    for i in 15..20 {
        sims.push(sim(i, 2, "Other", json!({"custom_field_1": format!("keep-{i}")})));
    }
    fleet(sims)
}

fn mixed_spec() -> String {
    format!(
        r#"rules:
  - name: acme
    match: {{ end_customer_label: ACME }}
    set:
      monthly_data_limit: 250MB
      monthly_sms_mo_limit: 100
      imei_lock: auto
  - name: globex
    match: {{ end_customer_label: Globex }}
    set:
      status: activated
      monthly_data_limit: unlimited
      monthly_voice_mo_limit: 600
sims:
  "{}":
    custom_field_1: truck-17
    imei_lock: "356938035643809"
"#,
        iccid(14)
    )
}

fn failures_of<'a>(report: &'a Value, iccid: &str) -> Vec<&'a Value> {
    report["failures"]
        .as_array()
        .map(|f| f.iter().filter(|x| x["iccid"] == iccid).collect())
        .unwrap_or_default()
}

#[test]
fn plan_apply_plan_converges_and_leaves_the_rest_alone() {
    let env = Env::new(mixed_fleet());
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
    assert!(jobs.iter().all(|j| j["status"] == "COMPLETED" && j["id"].is_i64()));

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
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), mutations);
}

#[test]
fn a_stale_plan_applies_nothing_and_lists_the_sim() {
    let env = Env::new(mixed_fleet());
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
    assert!(stderr.contains("monthly_data_limit") && stderr.contains("777"), "{stderr}");
    assert!(!stderr.contains(&iccid(4)), "an unmanaged change made it stale: {stderr}");
    assert_eq!(env.calls("startBatchJob"), 0);
    assert_eq!(env.state(), before, "a stale plan changed the fleet");
}

#[test]
fn an_unmanaged_change_does_not_make_the_plan_stale() {
    let env = Env::new(mixed_fleet());
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
    let env = Env::new(mixed_fleet());
    let spec = env.spec(&mixed_spec());
    let plan_file = env.plan_out(&spec, &[]);
    let before = env.state();
    let reads = env.calls("listSims");
    let (code, _, stderr) = env.apply_json(
        &plan_file,
        &spec,
        &["--expect-checksum", "sha256:0000000000000000000000000000000000000000000000000000000000000000"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--expect-checksum"), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert_eq!(env.state(), before);
    assert_eq!(env.calls("listSims"), reads, "apply read the fleet before refusing");
}

#[test]
fn guards_stop_with_exit_3_and_name_the_flag() {
    let mut sims: Vec<Value> = (0..4).map(|i| sim(i, 2, "ACME", json!({}))).collect();
    sims.push(sim(4, 2, "Cut", json!({})));
    let env = Env::new(fleet(sims));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set: { monthly_sms_mo_limit: 5 }\n  - name: cut\n    match: { end_customer_label: Cut }\n    set: { status: suspended }\n",
    );
    // The reviewer allowed the cut when planning, but apply runs without the flag.
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let before = env.state();
    let output = env
        .simfleet(&["apply", path_str(&plan_file), "--spec", path_str(&spec)])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("--allow-status-cuts"), "{stdout}");

    let output = env
        .simfleet(&[
            "apply",
            path_str(&plan_file),
            "--spec",
            path_str(&spec),
            "--allow-status-cuts",
            "--max-changes",
            "2",
        ])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("max_changes"), "{stdout}");
    assert_eq!(env.state(), before, "a guard let a change through");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);

    // simfleet.yaml's max_percent applies too.
    std::fs::write(spec.join("simfleet.yaml"), "luhn_check: false\nmax_percent: 50\n").expect("config");
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let output = env
        .simfleet(&["apply", path_str(&plan_file), "--spec", path_str(&spec), "--allow-status-cuts"])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stdout).contains("max_percent"));

    let output = env
        .simfleet(&[
            "apply",
            path_str(&plan_file),
            "--spec",
            path_str(&spec),
            "--allow-status-cuts",
            "--max-percent",
            "100",
        ])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(env.sim(&iccid(4)).statusid, 12);
}

#[test]
fn a_forbidden_transition_is_blocked_in_the_plan_and_never_sent() {
    let env = Env::new(fleet(vec![
        sim(0, 6, "ACME", json!({})),
        sim(1, 2, "ACME", json!({})),
    ]));
    // Test-ready → suspended is not in the transition table; activated → suspended is.
    let spec = env.spec(
        "rules:\n  - name: park\n    match: { end_customer_label: ACME }\n    set: { status: suspended }\n",
    );
    let output = env
        .simfleet(&["plan", path_str(&spec), "--allow-status-cuts"])
        .output()
        .expect("plan runs");
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&iccid(0)), "{stdout}");
    let plan_file = env.plan_out(&spec, &["--allow-status-cuts"]);
    let (code, report, stderr) =
        env.apply_json(&plan_file, &spec, &["--allow-status-cuts"]);
    assert_eq!(code, 0, "{stderr}");
    let report = report.expect("report");
    assert_eq!(report["blocked"], 1);
    assert_eq!(env.sim(&iccid(0)).statusid, 6);
    assert_eq!(env.sim(&iccid(1)).statusid, 12);
}

#[test]
fn code_701_and_a_failed_batch_job_are_reported_by_iccid_and_block_activation() {
    let fail = json!({"custom_field_1": "sandbox-fail-imei-lock"});
    let env = Env::new(fleet(vec![
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
    let statuses: Vec<(&Value, &Value)> = jobs
        .iter()
        .map(|j| (&j["status"], &j["partial"]))
        .collect();
    assert!(statuses.contains(&(&json!("FAILED"), &json!(false))), "{jobs:?}");
    assert!(statuses.contains(&(&json!("COMPLETED"), &json!(true))), "{jobs:?}");
    // The SIM whose lock failed was not activated; the others were.
    assert_eq!(env.sim(&iccid(2)).statusid, 6);
    assert!(
        report["skipped"].as_array().expect("skipped").iter().any(|s| s["iccid"] == iccid(2)
            && s["reason"].as_str().is_some_and(|r| r.contains("not activated"))),
        "{report}"
    );
    assert_eq!(env.sim(&iccid(3)).statusid, 2);
    assert_eq!(env.sim(&iccid(4)).statusid, 2);

    // The text report says the same, by ICCID.
    let output = env
        .simfleet(&["apply", path_str(&plan_file), "--spec", path_str(&spec)])
        .output()
        .expect("apply runs");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(&format!("{} imei_lock (code 701): General error while writing IMEI lock", iccid(0))), "{text}");
}

#[test]
fn an_update_sim_error_is_reported_with_the_api_message() {
    let env = Env::new(fleet(vec![sim(
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
    let env = Env::new(mixed_fleet());
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
