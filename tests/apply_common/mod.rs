//! Shared harness of the `apply` end-to-end tests: an in-process sandbox, the real binary, and
//! the sandbox's `/state` and `/stats` as evidence.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use simfleet::fleet::{Sim, Snapshot};
use simfleet::sandbox::{RunningSandbox, Sandbox, SandboxConfig};

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub sandbox: Option<RunningSandbox>,
    pub url: String,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn start(fleet: Snapshot, config: SandboxConfig) -> Env {
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

    pub fn new(fleet: Snapshot) -> Env {
        Env::start(
            fleet,
            SandboxConfig {
                batch_rate: 100_000.0,
                ..SandboxConfig::default()
            },
        )
    }

    /// The binary with the token and endpoint set; CI=1 keeps progress to plain lines.
    pub fn simfleet(&self, args: &[&str]) -> Command {
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
    pub fn spec(&self, yaml: &str) -> PathBuf {
        let dir = self.dir.path().join("fleet");
        std::fs::create_dir_all(&dir).expect("spec dir");
        std::fs::write(dir.join("fleet.yaml"), yaml).expect("spec file");
        std::fs::write(dir.join("simfleet.yaml"), "luhn_check: false\n").expect("config");
        dir
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn get(&self, path: &str) -> Value {
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

    pub fn state(&self) -> Vec<Sim> {
        let snapshot = self.get("/state");
        serde_json::from_value(snapshot["sims"].clone()).expect("SIMs")
    }

    pub fn sim(&self, iccid: &str) -> Sim {
        self.state()
            .into_iter()
            .find(|s| s.iccid == iccid)
            .unwrap_or_else(|| panic!("{iccid} in the sandbox"))
    }

    pub fn calls(&self, field: &str) -> u64 {
        self.get("/stats")["operations"][field]
            .as_u64()
            .unwrap_or(0)
    }

    pub fn gql(&self, query: &str, variables: Value) -> Value {
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
    pub fn plan_out(&self, spec: &Path, extra: &[&str]) -> PathBuf {
        let out = self.path("plan.json");
        let mut args = vec!["plan", path_str(spec), "--out", path_str(&out)];
        args.extend_from_slice(extra);
        let assert = self.simfleet(&args).assert();
        let code = assert.get_output().status.code();
        assert!(
            matches!(code, Some(0) | Some(3)),
            "plan failed: {:?}",
            assert.get_output()
        );
        out
    }

    /// `apply FILE --format json`: exit code and report (when one was printed).
    pub fn apply_json(
        &self,
        plan: &Path,
        spec: &Path,
        extra: &[&str],
    ) -> (i32, Option<Value>, String) {
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
    pub fn replan_code(&self, spec: &Path) -> (i32, String) {
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

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

pub fn iccid(i: u32) -> String {
    format!("8949000000000000{i:04}")
}

/// One SIM as the sandbox stores it.
pub fn sim(i: u32, status: i32, label: &str, extra: Value) -> Value {
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

pub fn fleet(sims: Vec<Value>) -> Snapshot {
    Snapshot::from_json(
        &json!({"format_version": 1, "sims": sims}).to_string(),
        "test fleet",
    )
    .expect("valid snapshot")
}

/// 10 ACME SIMs (limits + auto lock), 4 Globex test-ready SIMs (unlimited data, voice, then
/// activation), one SIM with a specific IMEI, 5 SIMs no rule matches.
pub fn mixed_fleet() -> Snapshot {
    let mut sims = Vec::new();
    for i in 0..10 {
        sims.push(sim(i, 2, "ACME", json!({})));
    }
    for i in 10..14 {
        sims.push(sim(i, 6, "Globex", json!({})));
    }
    sims.push(sim(14, 2, "Solo", json!({"custom_field_1": "old"})));
    for i in 15..20 {
        sims.push(sim(
            i,
            2,
            "Other",
            json!({"custom_field_1": format!("keep-{i}")}),
        ));
    }
    fleet(sims)
}

pub fn mixed_spec() -> String {
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

/// A library client for the sandbox (no rate limit, quick retries), for evidence the binary's
/// report must not be trusted for.
pub fn client(env: &Env) -> simfleet::api::Client {
    simfleet::api::Client::new(simfleet::api::ClientConfig {
        rate_per_second: None,
        ..simfleet::api::ClientConfig::new(
            env.url.clone(),
            secrecy::SecretString::from("sandbox".to_string()),
        )
    })
    .expect("client")
}

/// Every batch job the sandbox knows: (id, totalSims, status).
pub fn sandbox_jobs(env: &Env) -> Vec<simfleet::api::BatchJob> {
    let client = client(env);
    env.rt.block_on(async {
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_batch_jobs(None, 100, token.as_deref())
                .await
                .expect("listBatchJobs");
            jobs.extend(page.items);
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        jobs
    })
}
