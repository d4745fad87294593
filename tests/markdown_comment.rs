//! The pull-request comment as CI posts it: `--mask` hides ICCIDs, IMEIs and MSISDNs (in values,
//! labels, sources) in text, markdown and JSON; the comment is the same for the same plan
//! whatever order the fleet was read in; and a plan over a very large fleet, built through
//! `plan::build` as `simfleet plan` builds it, stays under GitHub's comment limit.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{json, Value};
use simfleet::fleet::{Coverage, LiveFleet, Sim};
use simfleet::plan::{build, Guards, PlanInput};
use simfleet::render::{markdown, MarkdownOptions, MARKDOWN_LIMIT};
use simfleet::spec::{DesiredSim, DesiredValue, Field, Limit, Origin, OriginKind, ResolvedValue};

/// Appends the Luhn check digit.
fn luhn(body: &str) -> String {
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

struct Case {
    dir: tempfile::TempDir,
    /// Strings that must never appear in masked output (and do appear unmasked).
    secrets: Vec<String>,
}

/// A spec and a snapshot whose plan carries identifiers everywhere they can appear.
fn case(reversed: bool) -> Case {
    let a = luhn("894900000000001234");
    let b = luhn("894900000000005678");
    let imei = luhn("35693803564380");
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet = dir.path().join("fleet");
    std::fs::create_dir_all(&fleet).expect("spec dir");
    std::fs::write(
        fleet.join("sims.yaml"),
        format!(
            "sims:\n  \"{a}\":\n    custom_field_1: \"driver +4917699998888\"\n    imei_lock: \"{imei}\"\n\
             rules:\n  - name: acme\n    match: {{end_customer_label: ACME}}\n    set:\n      \
             end_customer_label: \"ACME hotline 4917655554444\"\n      monthly_sms_mo_limit: 10\n"
        ),
    )
    .expect("spec");
    let mut sims = vec![
        json!({"iccid": a, "statusid": 2, "providerid": 5, "msisdn": "4917612345678",
               "imei": imei, "custom_field_1": "call +4917612345678"}),
        json!({"iccid": b, "statusid": 2, "providerid": 5, "msisdn": "4917611112222",
               "end_customer_label": {"name": "ACME"}}),
    ];
    if reversed {
        sims.reverse();
    }
    std::fs::write(
        dir.path().join("live.json"),
        json!({"format_version": 1, "sims": sims}).to_string(),
    )
    .expect("snapshot");
    Case {
        dir,
        secrets: vec![
            a,
            b,
            imei,
            "4917612345678".into(),
            "4917699998888".into(),
            "4917655554444".into(),
        ],
    }
}

fn simfleet(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CI", "1")
        .args(args)
        .output()
        .expect("simfleet runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2,
        "simfleet {args:?} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn mask_hides_iccids_imeis_and_msisdns_in_every_format() {
    let case = case(false);
    let dir = case.dir.path();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "fleet", "--live", "live.json"];
        args.extend_from_slice(extra);
        simfleet(dir, &args)
    };
    let clear = plan(&["--verbose"]);
    for secret in &case.secrets {
        assert!(
            clear.contains(secret.as_str()),
            "{secret} is in the plan:\n{clear}"
        );
    }
    simfleet(
        dir,
        &["plan", "fleet", "--live", "live.json", "--out", "plan.json"],
    );
    let outputs = [
        ("text", plan(&["--verbose", "--mask"])),
        ("markdown", plan(&["--format", "markdown", "--mask"])),
        (
            "show markdown",
            simfleet(
                dir,
                &["show", "plan.json", "--format", "markdown", "--mask"],
            ),
        ),
        (
            "show text",
            simfleet(dir, &["show", "plan.json", "--verbose", "--mask"]),
        ),
        (
            "show json",
            simfleet(dir, &["show", "plan.json", "--format", "json", "--mask"]),
        ),
    ];
    for (name, out) in &outputs {
        for secret in &case.secrets {
            assert!(
                !out.contains(secret.as_str()),
                "{name} shows {secret}:\n{out}"
            );
            let tail = &secret[secret.len() - 4..];
            assert!(
                out.contains(tail),
                "{name} keeps the last 4 digits of {secret}:\n{out}"
            );
        }
    }
    // The masked JSON keeps its checksum for reference but is not a plan file any more.
    let masked: Value = serde_json::from_str(&outputs[4].1).expect("JSON");
    assert!(masked["checksum"]
        .as_str()
        .is_some_and(|c| c.starts_with("sha256:")));
    std::fs::write(dir.join("masked.json"), &outputs[4].1).expect("write");
    Command::cargo_bin("simfleet")
        .expect("binary")
        .current_dir(dir)
        .args(["show", "masked.json"])
        .assert()
        .code(1);
}

#[test]
fn same_plan_same_comment_whatever_the_read_order() {
    let sorted = case(false);
    let reversed = case(true);
    let args = [
        "plan",
        "fleet",
        "--live",
        "live.json",
        "--format",
        "markdown",
        "--mask",
    ];
    let first = simfleet(sorted.dir.path(), &args);
    assert_eq!(
        first,
        simfleet(sorted.dir.path(), &args),
        "re-runs are identical"
    );
    assert_eq!(
        first,
        simfleet(reversed.dir.path(), &args),
        "read order does not matter"
    );
    assert!(
        first.starts_with("### 📝 simfleet plan: 2 SIMs changing"),
        "{first}"
    );
}

fn origin(name: &str, line: u32) -> Origin {
    Origin {
        file: "fleet/rules.yaml".into(),
        line,
        col: 5,
        kind: OriginKind::Rule { name: name.into() },
    }
}

/// The plan of a generated fleet of `n` SIMs where every SIM gets a data limit from one of 20
/// rules, every third an SMS limit, every tenth a label, and every 50th is deactivated.
fn big_comment(n: usize, shuffle: bool) -> (String, String) {
    let snapshot = simfleet::sandbox::generate(n, 1);
    let mut sims: Vec<Sim> = snapshot.sims;
    let desired: Vec<DesiredSim> = sims
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let rule = i % 20;
            let mut fields = BTreeMap::new();
            let set = |fields: &mut BTreeMap<Field, ResolvedValue>, f, value, line| {
                fields.insert(
                    f,
                    ResolvedValue {
                        value,
                        origin: origin(&format!("rule-{rule}"), line).into(),
                    },
                );
            };
            set(
                &mut fields,
                Field::MonthlyDataLimit,
                DesiredValue::Limit(Limit::Value(100_000_000 * (rule as i64 + 1))),
                10,
            );
            if i % 3 == 0 {
                set(
                    &mut fields,
                    Field::MonthlySmsMoLimit,
                    DesiredValue::Limit(Limit::Value(20)),
                    11,
                );
            }
            if i % 10 == 0 {
                set(
                    &mut fields,
                    Field::EndCustomerLabel,
                    DesiredValue::Text(Some(format!("customer-{}", i % 7))),
                    12,
                );
            }
            if i % 50 == 0 {
                set(&mut fields, Field::Status, DesiredValue::Status(5), 13);
            }
            DesiredSim {
                iccid: s.iccid.clone(),
                fields,
            }
        })
        .collect();
    let mut desired = desired;
    if shuffle {
        sims.reverse();
        desired.reverse();
    }
    let live = LiveFleet {
        sims_total: sims.len() as u64,
        sims,
        coverage: Coverage::Full,
        transitions: snapshot.transitions,
        running_batch_jobs: Vec::new(),
    };
    let plan = build(PlanInput::new(
        &live,
        &desired,
        Guards {
            max_changes: Some(n as u64 / 2),
            max_percent: None,
            allow_status_cuts: true,
            allow_irreversible: false,
            ..Guards::default()
        },
        "sha256:spec".into(),
    ))
    .expect("plan builds");
    (
        markdown(&plan, MarkdownOptions { mask: true }),
        plan.checksum,
    )
}

fn check_big(n: usize) {
    let (comment, checksum) = big_comment(n, false);
    assert!(
        comment.len() < MARKDOWN_LIMIT,
        "{} characters",
        comment.len()
    );
    assert!(comment.chars().count() < 65_536);
    let title = comment.lines().next().unwrap_or_default();
    assert!(
        title.contains("blocked"),
        "the max_changes guard stops it: {title}"
    );
    assert!(
        comment.contains(&checksum),
        "the checksum a reviewer approves is always shown"
    );
    assert!(
        comment.contains("JSON artifact"),
        "cut sections point at the artifact"
    );
    let (again, _) = big_comment(n, true);
    assert!(
        comment == again,
        "the same plan read in another order gives the same comment"
    );
}

#[test]
fn a_hundred_thousand_sim_plan_fits_one_comment() {
    check_big(100_000);
}

#[test]
#[ignore = "slow: minutes in a debug build; cargo test --release --test markdown_comment -- --ignored"]
fn a_million_sim_plan_fits_one_comment() {
    check_big(1_000_000);
}
