//! Shared helpers for end-to-end tests: a sandbox child process on 127.0.0.1:0 and a fluent
//! builder for running the real `simfleet` binary against it.
//!
//! Every test that needs a server spawns its own sandbox, so tests never share state and can run
//! in parallel; the child is killed when the handle drops.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

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
            .env("CI", "true");
        Simfleet { cmd }
    }
    pub fn env(mut self, k: &str, v: &str) -> Simfleet {
        self.cmd.env(k, v);
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
/// configuration or fleet the CLI flags cannot give (a custom token, a batch rate, a fleet built
/// in code). Shut down when dropped.
pub struct Served {
    pub rt: tokio::runtime::Runtime,
    sandbox: Option<simfleet::sandbox::RunningSandbox>,
    pub url: String,
}

impl Served {
    pub fn start(
        config: simfleet::sandbox::SandboxConfig,
        fleet: simfleet::fleet::Snapshot,
    ) -> Served {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = rt
            .block_on(simfleet::sandbox::Sandbox::start(config, fleet))
            .expect("sandbox starts");
        let url = sandbox.url();
        Served {
            rt,
            sandbox: Some(sandbox),
            url,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.rt.block_on(sandbox.shutdown());
        }
    }
}
