//! Usage-aware risk end to end: the real binary reads this month's usage from a sandbox, a new
//! limit at or below it is flagged and stops the plan at the status-cuts guard unless allowed,
//! `apply` re-checks the same guard with its own flags, and the allowed change converges.

mod common;

use common::*;
use serde_json::{json, Value};

/// SIM 0 used 800MB of its 1GB, SIM 1 10MB, SIM 2 480MB (near a 500MB limit), SIM 3 is
/// suspended with 900MB used (no service to lose); SIM 4 used 40 SMS MT of 100.
fn usage_fleet() -> simfleet::fleet::Snapshot {
    fleet(vec![
        sim(
            0,
            2,
            "ACME",
            json!({"monthly_data_limit": 1_000_000_000, "monthly_data_volume": 800_000_000}),
        ),
        sim(
            1,
            2,
            "ACME",
            json!({"monthly_data_limit": 1_000_000_000, "monthly_data_volume": 10_000_000}),
        ),
        sim(
            2,
            2,
            "ACME",
            json!({"monthly_data_limit": 1_000_000_000, "monthly_data_volume": 480_000_000}),
        ),
        sim(
            3,
            12,
            "ACME",
            json!({"monthly_data_limit": 1_000_000_000, "monthly_data_volume": 900_000_000}),
        ),
        sim(
            4,
            2,
            "Globex",
            json!({"monthly_sms_mt_limit": 100, "monthly_sms_mt": 40}),
        ),
    ])
}

const SPEC: &str = "rules:
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 500MB }
  - name: globex
    match: { end_customer_label: Globex }
    set: { monthly_sms_mt_limit: 40 }
";

fn run(env: &Served, args: &[&str]) -> (i32, String, String) {
    let out = env.simfleet(args).output().expect("simfleet runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_limit_below_this_months_usage_stops_the_plan_unless_status_cuts_are_allowed() {
    let env = Served::new(usage_fleet());
    let spec = env.spec(SPEC);
    let dir = path_str(&spec);

    let (code, text, stderr) = run(&env, &["plan", dir, "--detailed-exitcode"]);
    assert_eq!(code, 3, "{text}{stderr}");
    assert!(
        text.contains(
            "monthly_data_limit: 1GB → 500MB  × 1 SIM  [lowered limit]  [below this month's usage: cuts service now]  used 800MB this month"
        ),
        "{text}"
    );
    assert!(
        text.contains("[near this month's usage]  used 480MB this month"),
        "{text}"
    );
    assert!(
        text.contains("monthly_sms_mt_limit: 100 → 40  × 1 SIM  [lowered limit]  [below this month's usage: cuts service now]  used 40 SMS this month"),
        "{text}"
    );
    assert!(
        text.contains("2 SIMs get a limit at or below this month's usage, which cuts service at once: pass --allow-status-cuts"),
        "{text}"
    );
    assert!(
        text.contains("Usage:      2 SIMs get a limit at or below this month's usage (service stops), 1 SIM a limit within 10 % above it"),
        "{text}"
    );

    let (code, out, stderr) = run(
        &env,
        &[
            "plan",
            dir,
            "--allow-status-cuts",
            "--detailed-exitcode",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    let plan: Value = serde_json::from_str(&out).expect("JSON plan");
    assert_eq!(plan["summary"]["usage_cuts"], 2);
    assert_eq!(plan["summary"]["near_usage"], 1);
    let fields: Vec<&Value> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| &c["fields"][0])
        .collect();
    let usages: Vec<&Value> = fields.iter().map(|f| &f["usage"]).collect();
    // SIM 3 is suspended: lowered, but nothing to cut.
    assert_eq!(
        usages,
        vec![
            &json!(800_000_000),
            &Value::Null,
            &json!(480_000_000),
            &Value::Null,
            &json!(40)
        ]
    );
    assert_eq!(fields[3]["flags"], json!(["lowered_limit"]));
    assert_eq!(plan["guards"][0]["guard"], "status_cuts");
    assert_eq!(plan["guards"][0]["stops"], false);
}

#[test]
fn apply_rechecks_the_usage_cut_with_its_own_flags_and_the_allowed_change_converges() {
    let env = Served::new(usage_fleet());
    let spec = env.spec(SPEC);
    let plan = env.plan_out(&spec, &["--allow-status-cuts"]);

    let (code, out) = env.apply_text(&plan, &spec, &["--auto-approve"]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(env.calls("startBatchJob") + env.calls("updateSim"), 0);
    assert_eq!(env.sim(&iccid(0)).monthly_data_limit, Some(1_000_000_000));

    let (code, _, stderr) =
        env.apply_json(&plan, &spec, &["--auto-approve", "--allow-status-cuts"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.sim(&iccid(0)).monthly_data_limit, Some(500_000_000));
    assert_eq!(env.sim(&iccid(4)).monthly_sms_mt_limit, Some(40));
    let (code, stdout) = env.replan_code(&spec);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn the_markdown_comment_lists_usage_cuts_ahead_of_plain_lowered_limits() {
    let env = Served::new(usage_fleet());
    let spec = env.spec(SPEC);
    let (code, md, stderr) = run(
        &env,
        &["plan", path_str(&spec), "--format", "markdown", "--mask"],
    );
    assert_eq!(code, 3, "{stderr}");
    let usage = md
        .find("**Limits at or below this month's usage (service stops now)**: 2 SIMs")
        .unwrap_or_else(|| panic!("{md}"));
    let lowered = md
        .find("**Lowered limits**")
        .unwrap_or_else(|| panic!("{md}"));
    assert!(usage < lowered, "{md}");
    assert!(md.contains("· used 800MB this month"), "{md}");
    assert!(
        md.contains("| ⚠️ **limit at or below this month's usage** (service stops) | **2** |"),
        "{md}"
    );
}
