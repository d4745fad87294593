//! `--verbose`, `--log-format json`, `SIMFLEET_LOG` and `--quiet` against a real sandbox: API
//! traffic is logged (operation, attempt, status, duration) on stderr, stdout stays the plan, and
//! the token never appears in any output — at the most verbose level, with retries and faults,
//! from a token file, and when the server rejects it.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
mod common;

use common::Served;
use simfleet::sandbox::{demo_fleet, SandboxConfig};

/// Distinctive enough that any leak, whole or in the usual header forms, is found.
const TOKEN: &str = "tok-Zq81-unmistakable-7Hh3";

fn serve(fault_rate: f64) -> Served {
    Served::start(
        SandboxConfig {
            token: TOKEN.into(),
            fault_rate,
            seed: 3,
            ..SandboxConfig::default()
        },
        demo_fleet(),
    )
}

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/fleet")
        .display()
        .to_string()
}

fn simfleet(token: Option<&str>) -> Command {
    let mut cmd = Command::cargo_bin("simfleet").expect("binary");
    cmd.env_remove("SIMFLEET_LOG")
        .env_remove("WHEREVER_SIM_ENDPOINT")
        .env_remove("WHEREVER_SIM_TOKEN")
        .env("CI", "1")
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120));
    if let Some(token) = token {
        cmd.env("WHEREVER_SIM_TOKEN", token);
    }
    cmd
}

/// Runs the command and returns (exit code, stdout, stderr), failing if the token shows up.
fn run_clean(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("simfleet runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        for leak in [TOKEN, "unmistakable", "Zq81"] {
            assert!(
                !text.contains(leak),
                "the token leaked on {name}:\n{}",
                text.lines()
                    .filter(|l| l.contains(leak))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn json_logs_at_the_most_verbose_level_never_contain_the_token() {
    let served = serve(0.0);
    let mut cmd = simfleet(Some(TOKEN));
    cmd.args(["-vvv", "--log-format", "json", "plan"])
        .arg(examples())
        .args(["--endpoint", &served.url, "--format", "json"]);
    let (code, stdout, stderr) = run_clean(cmd);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("stdout is only the plan JSON");
    assert!(plan["checksum"].is_string());
    // Every line on stderr is JSON: log events, and the notes ("read 300 of 300 SIMs").
    let events: Vec<Value> = stderr
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect();
    assert!(events.iter().any(|e| e["fields"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("read 300 of 300 SIMs"))));
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["fields"]["message"] == "API response")
        .collect();
    assert!(!requests.is_empty(), "API traffic is logged:\n{stderr}");
    let listsims = requests
        .iter()
        .find(|e| {
            e["span"]["operation"]
                .as_str()
                .is_some_and(|o| o.contains("ListSims"))
        })
        .unwrap_or_else(|| panic!("a listSims request is logged:\n{stderr}"));
    assert_eq!(listsims["fields"]["status"], 200);
    assert!(listsims["fields"]["duration_ms"].is_u64());
    assert_eq!(listsims["span"]["attempt"], 1);
}

#[test]
fn every_library_at_trace_with_faults_and_retries_stays_clean() {
    let served = serve(0.5);
    let mut cmd = simfleet(Some(TOKEN));
    cmd.env("SIMFLEET_LOG", "trace")
        .args(["plan"])
        .arg(examples())
        .args(["--endpoint", &served.url]);
    let (_code, _stdout, stderr) = run_clean(cmd);
    assert!(stderr.contains("API response"), "{stderr}");
    assert!(
        stderr.contains("API request failed"),
        "a 50% fault rate makes some requests fail and retry:\n{stderr}"
    );
}

#[test]
fn token_file_and_rejected_token_stay_out_of_the_logs() {
    let served = serve(0.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("token file");
    let mut cmd = simfleet(None);
    cmd.args(["-vv", "plan"])
        .arg(examples())
        .args(["--endpoint", &served.url, "--token-file"])
        .arg(&file);
    let (code, _, stderr) = run_clean(cmd);
    assert_eq!(code, 0, "{stderr}");

    // A token the server does not accept (it differs from the right one by one character):
    // the error is reported without it.
    let wrong = TOKEN.replace("7Hh3", "7Hh4");
    let mut cmd = simfleet(Some(&wrong));
    cmd.args(["-vvv", "--log-format", "json", "plan"])
        .arg(examples())
        .args(["--endpoint", &served.url]);
    let (code, _, stderr) = run_clean(cmd);
    assert_eq!(code, 1, "{stderr}");
    let last: Value = stderr
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("the error is a JSON event too:\n{stderr}"));
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("refused the token")),
        "{stderr}"
    );
}

#[test]
fn quiet_prints_only_the_plan() {
    let served = serve(0.0);
    let mut cmd = simfleet(Some(TOKEN));
    cmd.args(["plan", "--quiet"])
        .arg(examples())
        .args(["--endpoint", &served.url]);
    let (code, stdout, stderr) = run_clean(cmd);
    assert_eq!(code, 0);
    assert!(stdout.contains("changing"), "{stdout}");
    assert_eq!(stderr, "", "nothing but errors on stderr with --quiet");

    // Without --quiet the notes are there, so the assertion above can fail.
    let mut cmd = simfleet(Some(TOKEN));
    cmd.args(["plan"])
        .arg(examples())
        .args(["--endpoint", &served.url]);
    let (_, _, stderr) = run_clean(cmd);
    assert!(stderr.contains("read 300 of 300 SIMs"), "{stderr}");
}
