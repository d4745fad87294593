//! Shared helpers for end-to-end tests: a fluent builder that runs `simfleet sandbox` as a child
//! process on a free loopback port, reads its `/stats`, and writes spec directories and snapshot
//! files into temporary directories.
//!
//! ```ignore
//! let sandbox = SandboxProcess::builder().fleet_file(&snapshot).fault_rate(0.3).seed(4).start();
//! simfleet().args(["plan", dir, "--endpoint", &sandbox.url]).env("WHEREVER_SIM_TOKEN", "sandbox")
//! ```
//!
//! Every test binary compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The binary under test, with a clean environment for the variables simfleet reads.
pub fn simfleet() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("simfleet").expect("the simfleet binary");
    cmd.env_remove("WHEREVER_SIM_TOKEN")
        .env_remove("WHEREVER_SIM_ENDPOINT")
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .timeout(Duration::from_secs(300));
    cmd
}

/// How to start a sandbox child process.
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    args: Vec<String>,
}

impl SandboxBuilder {
    /// Serve `n` generated SIMs (`--generate N`).
    pub fn generate(mut self, n: usize) -> Self {
        self.args.extend(["--generate".into(), n.to_string()]);
        self
    }

    /// Serve a snapshot file (`--fleet FILE`).
    pub fn fleet_file(mut self, path: &Path) -> Self {
        self.args
            .extend(["--fleet".into(), path.display().to_string()]);
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.args.extend(["--seed".into(), seed.to_string()]);
        self
    }

    pub fn fault_rate(mut self, rate: f64) -> Self {
        self.args.extend(["--fault-rate".into(), rate.to_string()]);
        self
    }

    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.args.extend(["--latency".into(), ms.to_string()]);
        self
    }

    /// The Authorization value the sandbox accepts (`--token`; a test value).
    pub fn token(mut self, token: &str) -> Self {
        self.args.extend(["--token".into(), token.into()]);
        self
    }

    pub fn batch_rate(mut self, sims_per_second: f64) -> Self {
        self.args
            .extend(["--batch-rate".into(), sims_per_second.to_string()]);
        self
    }

    /// Any other flag.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Starts the sandbox and waits for its "listening on URL" line.
    pub fn start(self) -> SandboxProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simfleet"))
            .arg("sandbox")
            .args(["--listen", "127.0.0.1:0"])
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("simfleet sandbox starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a line on stdout");
        let url = match line.trim().strip_prefix("simfleet sandbox listening on ") {
            Some(url) => url.to_string(),
            None => {
                let _ = child.kill();
                panic!("sandbox {:?} printed {line:?}", self.args)
            }
        };
        SandboxProcess { child, url }
    }
}

/// A running `simfleet sandbox`; killed when dropped.
pub struct SandboxProcess {
    child: Child,
    /// `http://127.0.0.1:PORT/graphql`
    pub url: String,
}

impl SandboxProcess {
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `host:port` of the sandbox.
    fn authority(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/graphql")
    }

    /// `GET /stats`: `{"operations": {...}, "requests": n, "faults": {kind: n}}`.
    pub fn stats(&self) -> Value {
        self.get_json("/stats")
    }

    /// `GET /state`: the fleet as the sandbox holds it.
    pub fn state(&self) -> Value {
        self.get_json("/state")
    }

    fn get_json(&self, path: &str) -> Value {
        let body = http_get(self.authority(), path);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET over std (the tests need no async runtime for it).
pub fn http_get(authority: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("send GET");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read answer");
    let response = String::from_utf8_lossy(&response).to_string();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not HTTP: {response}"));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
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
/// label-free ICCID-range rule, and a status rule that some SIMs cannot follow.
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

/// Writes a generated fleet as a snapshot file into `dir` and returns its path.
pub fn snapshot_file(dir: &Path, n: usize, seed: u64) -> PathBuf {
    let snapshot = simfleet::sandbox::generate(n, seed);
    let path = dir.join(format!("fleet-{n}-{seed}.json"));
    std::fs::write(
        &path,
        serde_json::to_vec(&snapshot).expect("snapshot serialises"),
    )
    .expect("write snapshot");
    path
}

/// A plan JSON without the parts that legitimately differ between runs (the time it was made).
pub fn comparable_plan(json: &str) -> Value {
    let mut plan: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("plan JSON: {e}: {json}"));
    if let Some(object) = plan.as_object_mut() {
        object.remove("generated_at");
    }
    plan
}
