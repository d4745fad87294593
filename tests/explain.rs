//! `simfleet explain` end to end: every decision kind against a snapshot (text and JSON
//! snapshots), the API path reading only the named SIMs, a saved plan, `--mask`, and the
//! ICCIDs that are malformed or not in the fleet.

mod common;

use common::{simfleet_command, Served};
use serde_json::Value;
use simfleet::fleet::{EndCustomerLabel, ImeiLock, Sim, Snapshot, Transition};

const SPEC: &str = r#"rules:
  - name: base
    match: { provider: connect+ }
    set: { monthly_data_limit: unlimited, custom_field_1: none }
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 1MB, status: activated }
    priority: 5
  - name: cut
    match: { end_customer_label: Cut }
    set: { status: deactivated }
  - name: unlock
    match: { end_customer_label: Unlock }
    set: { imei_lock: "off" }
  - name: globex
    match: { end_customer_label: Globex, provider: link+ }
    set: { monthly_sms_mo_limit: 5 }
sims:
  "89490000000000000009":
    monthly_data_limit: 2MB
"#;

fn iccid(n: u64) -> String {
    format!("8949000000{n:010}")
}

fn sim(n: u64, status: i32, provider: i32, label: &str) -> Sim {
    Sim {
        iccid: iccid(n),
        statusid: status,
        providerid: provider,
        end_customer_label: Some(EndCustomerLabel { name: label.into() }),
        ..Sim::default()
    }
}

/// One SIM per decision kind (the number is its ICCID's last digits).
fn fleet() -> Snapshot {
    let mut lowered = sim(1, 2, 1, "ACME");
    lowered.monthly_data_limit = Some(5_000_000);
    lowered.monthly_data_volume = Some(3_000_000);
    let mut zero = sim(2, 2, 1, "Other");
    zero.monthly_data_limit = Some(0);
    zero.custom_field_1 = Some(String::new());
    let mut locked = sim(10, 20, 1, "Unlock");
    locked.imei_lock = Some(ImeiLock {
        enabled: true,
        imei: Some("356938035643809".into()),
    });
    let transitions = [(5, 2), (2, 5), (6, 12), (2, 12)]
        .iter()
        .map(|&(from, to)| Transition {
            fromstatusid: from,
            tostatusid: to,
            providerid: 1,
        })
        .collect();
    Snapshot {
        format_version: 1,
        taken_at: None,
        transitions: Some(transitions),
        sims: vec![
            lowered,                 // change, lowered limit, a lower-priority rule lost
            zero,                    // equal: `unlimited` equals a live 0, `none` a live ""
            sim(3, 13, 1, "ACME"),   // pending
            sim(4, 16, 1, "ACME"),   // held
            sim(5, 6, 1, "Cut"),     // blocked: no 6 → 5, nor any path
            sim(6, 7, 1, "ACME"),    // skipped: retired
            sim(7, 2, 5, "Globexx"), // unmanaged, closest rules
            sim(8, 5, 1, "ACME"),    // status change 5 → 2 in phase 2
            sim(9, 2, 1, "ACME"),    // a `sims:` entry beats the rules
            locked,                  // implied 20 → 2 by the unlock
        ],
    }
}

const ALL: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// A directory with `fleet/` (the spec, without the Luhn check) and `live.json`.
fn workdir() -> tempfile::TempDir {
    let dir = common::spec_dir(&[
        ("fleet/fleet.yaml", SPEC),
        ("fleet/simfleet.yaml", "luhn_check: false\n"),
    ]);
    let snapshot = serde_json::to_string(&fleet()).unwrap();
    std::fs::write(dir.path().join("live.json"), snapshot).unwrap();
    dir
}

fn explain(dir: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    let mut cmd = simfleet_command();
    cmd.current_dir(dir.path()).arg("explain").args(args);
    cmd.output().unwrap()
}

fn all_iccids() -> Vec<String> {
    ALL.iter().map(|&n| iccid(n)).collect()
}

fn offline(dir: &tempfile::TempDir, extra: &[&str]) -> std::process::Output {
    let iccids = all_iccids();
    let mut args: Vec<&str> = iccids.iter().map(String::as_str).collect();
    args.extend(["fleet", "--live", "live.json"]);
    args.extend_from_slice(extra);
    explain(dir, &args)
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_decision_kind_as_text() {
    let dir = workdir();
    let text = stdout(&offline(&dir, &[]));
    for expected in [
        "decision: change (phase 1) [lowered limit, below this month's usage: cuts service now], used 3MB this month",
        "lost: lower priority",
        "already equal: `unlimited` equals a live 0",
        "already equal: `none` equals a live empty string",
        "pending: Waiting for Activation (13) is already on its way to Activated (2)",
        "held: Data Usage Exhausted (16)",
        "blocked: getAvailableStatusTransitions has no Test Ready (6) → Deactivated (5)",
        "from Test Ready (6) the table allows Suspended (12) for connect+ (1)",
        "skipped: Retired (7) is a terminal status",
        "not managed: no rule matches it",
        "globex (fleet/fleet.yaml:",
        "end_customer_label wants Globex, live is Globexx",
        "path: Deactivated (5) → Activated (2)",
        "change (phase 2)",
        "lost: the SIM's `sims:` entry beats every rule",
        "implied change (a side effect of the IMEI unlock, phase 1), path: IMEI unauthorized (20) → Activated (2)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    insta::assert_snapshot!("explain_text", text);
}

#[test]
fn every_decision_kind_as_json() {
    let dir = workdir();
    let json: Value = serde_json::from_str(&stdout(&offline(&dir, &["--format", "json"]))).unwrap();
    let kinds: std::collections::BTreeSet<&str> = json["sims"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap())
        .filter_map(|f| f["decision"]["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "blocked",
            "change",
            "equal",
            "held",
            "pending",
            "skipped",
            "unmanaged"
        ]
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schema/explain.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = (validator.iter_errors(&json))
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "explain JSON fails its schema:\n{}",
        errors.join("\n")
    );
    assert_eq!(json["sims"][6]["managed"], "no");
    assert_eq!(
        json["sims"][1]["fields"][1]["decision"]["rule"],
        "unlimited_is_zero"
    );
    insta::assert_json_snapshot!("explain_json", json);
}

#[test]
fn markdown_has_a_section_per_sim() {
    let dir = workdir();
    let md = stdout(&offline(&dir, &["--format", "markdown"]));
    assert_eq!(md.matches("### SIM `").count(), ALL.len(), "{md}");
    assert!(md.contains("- **`monthly_data_limit`**"), "{md}");
}

/// True when the text has a run of 11 or more digits (an ICCID, IMEI or MSISDN).
fn has_identifier(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() >= 11)
}

/// No identifier-length digit run (ICCIDs 19–20 digits, IMEIs 15) survives `--mask`.
#[test]
fn mask_hides_every_identifier() {
    let dir = workdir();
    for format in ["text", "json", "markdown"] {
        let out = offline(&dir, &["--format", format, "--mask"]);
        let text = stdout(&out);
        assert!(!has_identifier(&text), "{format}:\n{text}");
        assert!(text.contains("****************0001"), "{format}:\n{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!has_identifier(&err), "{err}");
    }
}

#[test]
fn malformed_iccids_are_a_usage_error_listing_each() {
    let dir = workdir();
    let out = explain(
        &dir,
        &[
            "12345",
            "8949000000000000001x",
            &iccid(1),
            "fleet",
            "--live",
            "live.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 malformed ICCID(s)"), "{err}");
    assert!(
        err.contains("\"12345\"") && err.contains("\"8949000000000000001x\""),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_iccid_not_in_the_fleet_is_an_error_after_the_others_are_explained() {
    let dir = workdir();
    let missing = iccid(99);
    let out = explain(&dir, &[&iccid(1), &missing, "fleet", "--live", "live.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "1 ICCID(s) not in the fleet (read from snapshot live.json): {missing}"
        )),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("SIM {}", iccid(1))));
}

/// Through the API, only the named SIMs are read: one `listSims` page for the ICCID filter and
/// one count, on a fleet of 20,000 SIMs (a whole read is 200 pages).
#[test]
fn the_api_path_reads_only_the_named_sims() {
    let fleet = simfleet::sandbox::generate(20_000, 5);
    let wanted = [
        fleet.sims[123].iccid.clone(),
        fleet.sims[17_000].iccid.clone(),
    ];
    let served = Served::new(fleet);
    let spec = served.spec(common::GENERATED_FLEET_SPEC);
    let out = served
        .simfleet(&["explain", &wanted[0], &wanted[1], spec.to_str().unwrap()])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains(&format!("SIM {}", wanted[0])), "{text}");
    assert!(text.contains(&format!("SIM {}", wanted[1])), "{text}");
    let stats = served.get("/stats");
    assert!(served.calls("listSims") <= 2, "{stats}");
    assert!(stats["requests"].as_u64().unwrap() <= 3, "{stats}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read 2 of 20000 SIMs in 3 requests"), "{err}");
}

/// The same engine through the API as offline: the JSON is the same but for its source.
#[test]
fn the_api_and_a_snapshot_explain_alike() {
    let served = Served::new(fleet());
    let spec = served.spec(SPEC);
    let iccids = all_iccids();
    let mut args = vec!["explain"];
    args.extend(iccids.iter().map(String::as_str));
    args.extend([spec.to_str().unwrap(), "--format", "json"]);
    let mut online: Value =
        serde_json::from_str(&stdout(&served.simfleet(&args).output().unwrap())).unwrap();
    let snapshot = served.path("live.json");
    std::fs::write(&snapshot, serde_json::to_string(&fleet()).unwrap()).unwrap();
    args.extend(["--live", snapshot.to_str().unwrap()]);
    let mut cmd = simfleet_command();
    let mut offline: Value =
        serde_json::from_str(&stdout(&cmd.args(&args).output().unwrap())).unwrap();
    assert_eq!(online["source"], "api");
    online["source"] = Value::Null;
    offline["source"] = Value::Null;
    assert_eq!(online, offline);
}

/// A saved plan explains its records; with the spec, the rules that would lose are named.
#[test]
fn a_saved_plan_is_explained_from_its_records() {
    let dir = workdir();
    let mut plan = simfleet_command();
    plan.current_dir(dir.path()).args([
        "plan",
        "fleet",
        "--live",
        "live.json",
        "--out",
        "plan.json",
    ]);
    let planned = plan.output().unwrap();
    assert!(
        matches!(planned.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let out = explain(
        &dir,
        &[
            &iccid(1),
            &iccid(5),
            &iccid(7),
            &iccid(8),
            &iccid(42),
            "fleet",
            "--plan",
            "plan.json",
        ],
    );
    let text = stdout(&out);
    for expected in [
        "decision: change (phase 1) [lowered limit]",
        "lower priority (it loses, if it matches)",
        "blocked: getAvailableStatusTransitions has no Test Ready (6) → Deactivated (5)",
        "the plan lists this SIM as unmanaged",
        "decision: change (phase 2), path: Deactivated (5) → Activated (2)",
        "the plan has no record of this SIM",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Without the spec, only the records.
    let bare = stdout(&explain(&dir, &[&iccid(1), "--plan", "plan.json"]));
    assert!(bare.contains("desired:  1MB"), "{bare}");
    assert!(!bare.contains("lower priority"), "{bare}");
}

#[test]
fn explain_needs_a_source_that_exists() {
    let dir = workdir();
    let out = explain(&dir, &[&iccid(1), "nowhere", "--live", "live.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
    let out = explain(&dir, &[&iccid(1), "fleet", "--plan", "missing.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}

/// In markdown, every spec location links to its line (`--link-base` here; GitHub's and
/// GitLab's variables do the same in CI); text stays plain.
#[test]
fn markdown_links_each_source_to_its_line() {
    let dir = workdir();
    let md = stdout(&offline(
        &dir,
        &[
            "--format",
            "markdown",
            "--link-base",
            "https://git.example/r/abc",
        ],
    ));
    assert!(
        md.contains(
            "<a href=\"https://git.example/r/abc/fleet/fleet.yaml#L5\">fleet/fleet.yaml:5:"
        ),
        "{md}"
    );
    let text = stdout(&offline(
        &dir,
        &["--link-base", "https://git.example/r/abc"],
    ));
    assert!(!text.contains("<a href"), "{text}");
}
