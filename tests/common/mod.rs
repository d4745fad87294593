//! Shared helpers for end-to-end tests: a sandbox child process on 127.0.0.1:0 and a fluent
//! builder for running the real `simfleet` binary against it.
//!
//! Every test that needs a server spawns its own sandbox, so tests never share state and can run
//! in parallel; the child is killed when the handle drops.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};
use simfleet::fleet::{Sim, Snapshot};
use simfleet::sandbox::SandboxConfig;

/// The token every test sandbox accepts.
pub const TOKEN: &str = "sandbox";

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_simfleet"))
}

/// The repository root (for examples/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A sandbox server in a child process.
pub struct Sandbox {
    child: Child,
    pub url: String,
}

/// Builds the `simfleet sandbox` command line.
#[derive(Default)]
pub struct SandboxBuilder {
    args: Vec<String>,
}

impl SandboxBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn generate(self, n: usize, seed: u64) -> Self {
        self.arg("--generate")
            .arg(n.to_string())
            .arg("--seed")
            .arg(seed.to_string())
    }
    pub fn fleet(self, path: &Path) -> Self {
        self.arg("--fleet").arg(path.display().to_string())
    }
    pub fn latency_ms(self, ms: u64) -> Self {
        self.arg("--latency").arg(ms.to_string())
    }
    pub fn fault_rate(self, p: f64) -> Self {
        self.arg("--fault-rate").arg(p.to_string())
    }
    pub fn batch_rate(self, r: f64) -> Self {
        self.arg("--batch-rate").arg(r.to_string())
    }
    /// Seeds the fault choices (and the generator, with `--generate`).
    pub fn seed(self, seed: u64) -> Self {
        self.arg("--seed").arg(seed.to_string())
    }
    /// The Authorization value the sandbox accepts instead of [`TOKEN`] (a test value).
    pub fn token(self, token: &str) -> Self {
        self.arg("--token").arg(token)
    }
    pub fn start(self) -> Sandbox {
        let mut child = Command::new(bin())
            .arg("sandbox")
            .args(["--listen", "127.0.0.1:0"])
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn simfleet sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read sandbox banner");
        let url = line
            .trim()
            .strip_prefix("simfleet sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected sandbox banner: {line:?}"))
            .to_string();
        Sandbox { child, url }
    }
}

impl Sandbox {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The demo fleet `--sandbox` uses.
    pub fn demo() -> Sandbox {
        Sandbox::builder().start()
    }

    fn base(&self) -> String {
        self.url.trim_end_matches("/graphql").to_string()
    }

    /// `GET /stats`.
    pub fn stats(&self) -> Value {
        get_json(&format!("{}/stats", self.base()))
    }

    /// `GET /state`: the fleet as a snapshot.
    pub fn state(&self) -> Value {
        get_json(&format!("{}/state", self.base()))
    }

    /// How many requests for one root field the sandbox answered.
    pub fn operation_count(&self, field: &str) -> u64 {
        self.stats()["operations"][field].as_u64().unwrap_or(0)
    }

    /// Sends one GraphQL request with the sandbox token.
    pub fn graphql(&self, query: &str, variables: Value) -> Value {
        let body = serde_json::json!({"query": query, "variables": variables});
        block_on(async {
            reqwest::Client::new()
                .post(&self.url)
                .header("Authorization", TOKEN)
                .json(&body)
                .send()
                .await?
                .json::<Value>()
                .await
        })
        .expect("GraphQL JSON answer")
    }

    /// A `simfleet` command pointed at this sandbox.
    pub fn simfleet(&self, args: &[&str]) -> Simfleet {
        Simfleet::new(args)
            .env("WHEREVER_SIM_ENDPOINT", &self.url)
            .env("WHEREVER_SIM_TOKEN", TOKEN)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get_json(url: &str) -> Value {
    block_on(async { reqwest::get(url).await?.json::<Value>().await }).expect("JSON answer")
}

/// Runs one future to completion on a throwaway runtime (tests stay synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// The day every run of the binary is judged on (`SIMFLEET_TODAY`), unless a test says otherwise.
pub const TODAY: &str = "2027-06-01";

/// A run of the real binary, built fluently.
pub struct Simfleet {
    cmd: Command,
}

impl Simfleet {
    pub fn new(args: &[&str]) -> Simfleet {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(root())
            .env_remove("WHEREVER_SIM_TOKEN")
            .env_remove("WHEREVER_SIM_ENDPOINT")
            .env("NO_COLOR", "1")
            .env("CI", "true")
            // Waivers are judged by this day, so output does not change with the calendar.
            .env("SIMFLEET_TODAY", TODAY);
        Simfleet { cmd }
    }
    pub fn env(mut self, k: &str, v: &str) -> Simfleet {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Simfleet {
        self.cmd.env_remove(k);
        self
    }
    pub fn current_dir(mut self, dir: &Path) -> Simfleet {
        self.cmd.current_dir(dir);
        self
    }
    pub fn run(mut self) -> Run {
        let out = self.cmd.output().expect("run simfleet");
        Run(out)
    }
}

/// What a run printed and how it exited.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout()))
    }
    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A plan JSON without the fields that legitimately differ between two runs.
pub fn comparable_plan(mut plan: Value) -> Value {
    if let Some(obj) = plan.as_object_mut() {
        obj.remove("generated_at");
    }
    plan
}

/// A plan printed or saved as JSON, without the fields that differ between two runs; panics
/// with the text when it is not JSON.
pub fn comparable_plan_text(text: &str) -> Value {
    comparable_plan(
        serde_json::from_str(text).unwrap_or_else(|e| panic!("plan JSON: {e}:\n{text}")),
    )
}

/// The binary under test as an `assert_cmd` command with a time limit (a run that hangs fails
/// instead of stalling CI), and a clean environment for the variables simfleet reads.
pub fn simfleet_command() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin());
    cmd.env_remove("WHEREVER_SIM_TOKEN")
        .env_remove("WHEREVER_SIM_ENDPOINT")
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .timeout(std::time::Duration::from_secs(300));
    cmd
}

/// Writes `files` (relative path, text) into a new temporary directory.
pub fn spec_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dirs");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// A spec for generated fleets (`sandbox::generate`): limits by customer label, IMEI locks, a
/// label-free ICCID-range rule, and a status rule.
pub const GENERATED_FLEET_SPEC: &str = r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 500MB, monthly_sms_mo_limit: 100, imei_lock: auto }
  - name: globex
    match: { end_customer_label: Globex, status: [activated, test-ready] }
    set: { monthly_data_limit: 1.5GB, monthly_voice_mo_limit: 600, monthly_sms_mt_limit: unlimited }
  - name: uk-range
    match: { iccid: { prefix: "8944500000" } }
    set: { custom_field_1: uk-fleet }
    priority: -1
  - name: initech-test
    match: { end_customer_label: Initech, status: test-ready }
    set: { status: activated, imei_lock: off }
"#;

/// `simfleet.yaml` for [`GENERATED_FLEET_SPEC`]: a generated fleet has SIMs that already used
/// more this month than the limits the spec sets (limits that cut service), and the spec means
/// them.
pub const GENERATED_FLEET_CONFIG: &str = "allow_status_cuts: true\n";

/// The spec files of [`GENERATED_FLEET_SPEC`], with its [`GENERATED_FLEET_CONFIG`].
pub const GENERATED_FLEET_FILES: &[(&str, &str)] = &[
    ("rules.yaml", GENERATED_FLEET_SPEC),
    ("simfleet.yaml", GENERATED_FLEET_CONFIG),
];

/// Writes a generated fleet (`sandbox::generate(n, seed)`) as a snapshot file into `dir`.
pub fn snapshot_file(dir: &Path, n: usize, seed: u64) -> PathBuf {
    let snapshot = simfleet::sandbox::generate(n, seed);
    let path = dir.join(format!("fleet-{n}-{seed}.json"));
    let file = std::fs::File::create(&path).expect("snapshot file");
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, &snapshot).expect("write snapshot");
    std::io::Write::flush(&mut writer).expect("flush snapshot");
    path
}

/// A sandbox served inside the test process on a runtime of its own, for tests that need a
/// configuration or fleet the CLI flags cannot give (a custom token, a batch rate, a fault rate,
/// a fleet built in code), with a scratch directory and the sandbox's `/state` and `/stats` as
/// evidence. Shut down when dropped.
pub struct Served {
    pub rt: tokio::runtime::Runtime,
    sandbox: Option<simfleet::sandbox::RunningSandbox>,
    pub url: String,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Served {
    pub fn start(config: SandboxConfig, fleet: Snapshot) -> Served {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = rt
            .block_on(simfleet::sandbox::Sandbox::start(config, fleet))
            .expect("sandbox starts");
        let url = sandbox.url();
        let base = format!("http://{}", sandbox.addr());
        Served {
            rt,
            sandbox: Some(sandbox),
            url,
            base,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A fault-free sandbox whose batch jobs finish at once.
    pub fn new(fleet: Snapshot) -> Served {
        Served::start(
            SandboxConfig {
                batch_rate: 100_000.0,
                ..SandboxConfig::default()
            },
            fleet,
        )
    }

    /// The binary with the token and endpoint set; CI=1 keeps progress to plain lines.
    pub fn simfleet(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(bin());
        cmd.env("WHEREVER_SIM_TOKEN", "sandbox")
            .env("CI", "1")
            .env_remove("WHEREVER_SIM_ENDPOINT")
            .args(args)
            .args(["--endpoint", &self.url])
            .timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// The binary started in the background with the token and endpoint set, its output piped
    /// (for runs that overlap, or that a test signals).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(bin())
            .env("WHEREVER_SIM_TOKEN", "sandbox")
            .env("CI", "1")
            .env_remove("WHEREVER_SIM_ENDPOINT")
            .args(args)
            .args(["--endpoint", &self.url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("simfleet starts")
    }

    /// Waits (at most 30 s) until the sandbox has answered `field` at least once.
    pub fn wait_for_call(&self, field: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.calls(field) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no {field} call reached the sandbox"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `updateSim(iccid, <arguments>)` sent behind simfleet's back, as another user would.
    pub fn update_sim(&self, iccid: &str, arguments: &str) {
        let r = self.gql(
            &format!("mutation($i: ID!) {{ updateSim(iccid: $i, {arguments}) {{ iccid }} }}"),
            json!({"i": iccid}),
        );
        assert!(r.get("errors").is_none(), "{r}");
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
        let output = self
            .simfleet(&apply_json_args(plan, spec, extra))
            .output()
            .expect("apply runs");
        let report = serde_json::from_slice::<Value>(&output.stdout).ok();
        (
            output.status.code().unwrap_or(-1),
            report,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `apply FILE --spec DIR EXTRA…` with the text report: exit code and stdout.
    pub fn apply_text(&self, plan: &Path, spec: &Path, extra: &[&str]) -> (i32, String) {
        let mut args = vec!["apply", path_str(plan), "--spec", path_str(spec)];
        args.extend_from_slice(extra);
        let output = self.simfleet(&args).output().expect("apply runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
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

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.rt.block_on(sandbox.shutdown());
        }
    }
}

/// `apply PLAN --spec SPEC --format json EXTRA…`.
pub fn apply_json_args<'a>(plan: &'a Path, spec: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "apply",
        path_str(plan),
        "--spec",
        path_str(spec),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args
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
pub fn client(env: &Served) -> simfleet::api::Client {
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
pub fn sandbox_jobs(env: &Served) -> Vec<simfleet::api::BatchJob> {
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
