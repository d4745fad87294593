//! `apply --mask` (CI logs of public repositories are public): the report and the errors show
//! ICCIDs with all but their last 4 digits starred — here through a stale plan, whose error
//! lists the SIM that changed since the plan was made.

use std::path::Path;

use assert_cmd::Command;
use serde_json::{json, Value};
mod common;

use common::Served;
use simfleet::sandbox::{demo_fleet, SandboxConfig};

fn serve() -> Served {
    Served::start(
        SandboxConfig {
            batch_rate: 100_000.0,
            ..SandboxConfig::default()
        },
        demo_fleet(),
    )
}

fn simfleet(dir: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(dir)
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .env("CI", "1")
        .env("NO_COLOR", "1")
        .env_remove("SIMFLEET_LOG")
        .args(args)
        .args(["--endpoint", url])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("simfleet runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn masked_apply_hides_iccids_in_errors_and_reports() {
    let served = serve();
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    let spec = spec.to_str().expect("utf-8 path");
    let (code, _, stderr) = simfleet(
        dir.path(),
        &served.url,
        &["plan", spec, "--out", "plan.json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("plan.json")).expect("plan file"),
    )
    .expect("plan JSON");
    let stale = plan["change_sets"]
        .as_array()
        .expect("change sets")
        .iter()
        .find(|c| c["fields"][0]["field"] == "monthly_data_limit")
        .and_then(|c| c["iccids"][0].as_str())
        .expect("a data limit change")
        .to_string();
    // Someone changes that SIM to a third value after the plan was made.
    let changed: Value = served.rt.block_on(async {
        reqwest::Client::new()
            .post(&served.url)
            .header("Authorization", "sandbox")
            .json(&json!({
                "query": "mutation($i: ID!) { updateSim(iccid: $i, monthly_data_limit: 777) { iccid } }",
                "variables": {"i": stale},
            }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON")
    });
    assert!(changed.get("errors").is_none(), "{changed}");

    let apply = ["apply", "plan.json", "--auto-approve", "--spec", spec];
    let (code, _, clear) = simfleet(dir.path(), &served.url, &apply);
    assert_eq!(code, 1, "{clear}");
    assert!(clear.contains("stale") && clear.contains(&stale), "{clear}");

    let masked_args = [&apply[..], &["--mask"]].concat();
    let (code, stdout, masked) = simfleet(dir.path(), &served.url, &masked_args);
    assert_eq!(code, 1, "{masked}");
    assert!(masked.contains("stale"), "{masked}");
    assert!(!masked.contains(&stale), "--mask shows {stale}:\n{masked}");
    assert!(masked.contains(&stale[stale.len() - 4..]), "{masked}");
    assert!(!stdout.contains(&stale));

    // A fresh plan applies, and its masked report carries no full ICCID either.
    let (code, _, stderr) = simfleet(
        dir.path(),
        &served.url,
        &["plan", spec, "--out", "plan.json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = simfleet(
        dir.path(),
        &served.url,
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--spec",
            spec,
            "--mask",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert!(report["plan_checksum"]
        .as_str()
        .is_some_and(|c| c.starts_with("sha256:")));
    assert!(!stdout.contains(&stale));
}
