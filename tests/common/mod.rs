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
