//! Snapshots of apply's report (text and JSON, masked and unmasked) on a small deterministic
//! apply: a change in what the report says is reviewed as a diff. What differs run to run (wall
//! time, HTTP request counts, the plan's checksum) is redacted.

mod common;

use common::*;
use serde_json::{json, Value};

/// 12 SIMs: eight take a new limit in one batch job, two fail their IMEI lock (code 701) and are
/// then not activated, two get their own updateSim. A fresh sandbox per run, so the text and the
/// JSON report describe the same apply.
fn applied(format: &str, extra: &[&str]) -> String {
    let fail = json!({"custom_field_1": "sandbox-fail-imei-lock"});
    let mut sims: Vec<Value> = (0..8).map(|i| sim(i, 2, "ACME", json!({}))).collect();
    sims.push(sim(8, 6, "Doomed", fail.clone()));
    sims.push(sim(9, 6, "Doomed", fail));
    sims.push(sim(10, 2, "Solo", json!({"custom_field_1": "a"})));
    sims.push(sim(11, 2, "Solo", json!({"custom_field_1": "b"})));
    let env = Served::new(fleet(sims));
    let spec = env.spec(&format!(
        r#"rules:
  - name: acme
    match: {{ end_customer_label: ACME }}
    set: {{ monthly_data_limit: 1GB }}
  - name: doomed
    match: {{ end_customer_label: Doomed }}
    set: {{ imei_lock: auto, status: activated }}
sims:
  "{}": {{ imei_lock: "356938035643809" }}
  "{}": {{ imei_lock: "490154203237518" }}
"#,
        iccid(10),
        iccid(11)
    ));
    let plan = env.plan_out(&spec, &[]);
    let mut args = vec![
        "apply",
        path_str(&plan),
        "--spec",
        path_str(&spec),
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    let output = env.simfleet(&args).output().expect("apply runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn redact_text(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("; ") {
            Some(i) if l.starts_with("API calls:") => {
                format!("{}; [HTTP requests and time]", &l[..i])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot_json(name: &str, text: &str) {
    let value: Value = serde_json::from_str(text).expect("JSON report");
    insta::assert_json_snapshot!(name, value, {
        ".wall_time_ms" => "[ms]",
        ".calls.http_requests" => "[requests]",
        ".plan_checksum" => "[checksum]",
    });
}

#[test]
fn apply_report_unmasked() {
    insta::assert_snapshot!("apply_report_text", redact_text(&applied("text", &[])));
    snapshot_json("apply_report_json", &applied("json", &[]));
}

#[test]
fn apply_report_masked() {
    insta::assert_snapshot!(
        "apply_report_text_masked",
        redact_text(&applied("text", &["--mask"]))
    );
    snapshot_json("apply_report_json_masked", &applied("json", &["--mask"]));
}
