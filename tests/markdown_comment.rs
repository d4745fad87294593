//! The pull-request comment as CI posts it: `--mask` hides ICCIDs, IMEIs and MSISDNs (in values,
//! labels, sources) in text, markdown and JSON, and no masked output of the example fleet or of
//! a generated one holds a whole ICCID; the comment is the same for the same plan whatever order
//! the fleet was read in; and a plan over a very large fleet, built through the plan engine
//! `simfleet plan` runs, stays under GitHub's comment limit.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{json, Value};
use simfleet::fleet::{Coverage, LiveFleet, Sim};
use simfleet::plan::{plan_fleet, Guards, PlanRequest};
use simfleet::render::{markdown, markdown_linked, MarkdownOptions, SourceLinks, MARKDOWN_LIMIT};
use simfleet::spec::{
    Config, DesiredValue, Field, Limit, Origin, OriginKind, ResolvedValue, SimEntry, Spec,
};

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
    // The masked JSON keeps its checksum for reference but is not a plan file any more: `show`
    // displays it for reading (saying it is masked); `apply` refuses it (tests/every_path.rs).
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
        .code(0)
        .stderr(predicates::str::contains("is a masked plan"));
}

/// Words of exactly 19 or 20 digits (`\\b\\d{19,20}\\b`): whole ICCIDs.
fn whole_iccids(out: &str) -> Vec<&str> {
    out.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| (19..=20).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

/// Every format `plan` and `show` print, masked, in `dir`: `--sandbox` or `--live live.json`.
fn every_masked_output(dir: &Path, spec: &str, source: &[&str]) -> Vec<(String, String)> {
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", spec];
        args.extend_from_slice(source);
        args.extend_from_slice(extra);
        simfleet(dir, &args)
    };
    plan(&["--out", "plan.json"]);
    let mut outputs = Vec::new();
    for format in ["text", "markdown", "json"] {
        for verbose in [false, true] {
            let mut extra = vec!["--format", format, "--mask"];
            if verbose {
                extra.push("--verbose");
            }
            outputs.push((format!("plan {extra:?}"), plan(&extra)));
            let mut args = vec!["show", "plan.json"];
            args.extend_from_slice(&extra);
            outputs.push((format!("show {extra:?}"), simfleet(dir, &args)));
        }
    }
    outputs
}

fn assert_no_whole_iccid(dir: &Path, spec: &str, source: &[&str]) {
    let mut args = vec!["plan", spec, "--verbose"];
    args.extend_from_slice(source);
    let clear = simfleet(dir, &args);
    assert!(
        !whole_iccids(&clear).is_empty(),
        "unmasked, the plan lists ICCIDs:\n{clear}"
    );
    for (name, out) in every_masked_output(dir, spec, source) {
        assert!(out.len() > 100, "{name} printed a plan:\n{out}");
        let found = whole_iccids(&out);
        assert!(found.is_empty(), "{name} shows {found:?}:\n{out}");
    }
}

#[test]
fn no_masked_output_of_the_example_fleet_holds_a_whole_iccid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    let spec = spec.to_str().expect("utf-8 path");
    assert_no_whole_iccid(dir.path(), spec, &["--sandbox"]);
}

#[test]
fn no_masked_output_of_a_generated_fleet_holds_a_whole_iccid() {
    let snapshot = simfleet::sandbox::generate(3_000, 11);
    let first = snapshot.sims[0].iccid.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet = dir.path().join("fleet");
    std::fs::create_dir_all(&fleet).expect("spec dir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
    for file in ["customers.yaml", "ranges.yaml"] {
        std::fs::copy(examples.join(file), fleet.join(file)).expect("copy example");
    }
    // Some generated SIMs used more this month than the examples' new limits.
    std::fs::write(fleet.join("simfleet.yaml"), "allow_status_cuts: true\n").expect("config");
    // Status changes from every status (blocked, pending, held, skipped SIMs), and an ICCID in a
    // value and in a source.
    std::fs::write(
        fleet.join("status.yaml"),
        format!(
            "rules:\n  - name: activate-connect\n    match: {{provider: connect+}}\n    \
             set: {{status: activated}}\n\
             sims:\n  \"{first}\":\n    custom_field_1: \"replaces {first}\"\n"
        ),
    )
    .expect("spec");
    std::fs::write(
        dir.path().join("live.json"),
        serde_json::to_string(&snapshot).expect("snapshot JSON"),
    )
    .expect("snapshot");
    assert_no_whole_iccid(dir.path(), "fleet", &["--live", "live.json"]);
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
    big_comment_linked(n, shuffle, None)
}

/// [`big_comment`], with every source a link when `links` is given.
fn big_comment_linked(n: usize, shuffle: bool, links: Option<&SourceLinks>) -> (String, String) {
    let snapshot = simfleet::sandbox::generate(n, 1);
    let mut sims: Vec<Sim> = snapshot.sims;
    let desired: Vec<SimEntry> = sims
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
            let at = origin(&format!("rule-{rule}"), 10);
            SimEntry::new(s.iccid.clone(), at, fields.into_iter().collect())
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
    let spec = Spec::new(
        Vec::new(),
        desired,
        Config::default(),
        Vec::new(),
        "sha256:spec".into(),
    );
    let request = PlanRequest {
        spec: &spec,
        target: None,
        guards: Guards {
            max_changes: Some(n as u64 / 2),
            max_percent: None,
            allow_status_cuts: true,
            allow_irreversible: false,
            ..Guards::default()
        },
    };
    let plan = plan_fleet(&request, live).expect("plan builds");
    let comment = match links {
        Some(links) => markdown_linked(&plan, MarkdownOptions { mask: true }, Some(links)),
        None => markdown(&plan, MarkdownOptions { mask: true }),
    };
    (comment, plan.checksum)
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

/// Links make every source several times longer: the comment still fits, with the links
/// counted, and still shows its summary and checksum.
#[test]
fn a_hundred_thousand_sim_plan_with_links_fits_one_comment() {
    let long_base = format!(
        "https://github.example.com/{}/fleet/blob/{}",
        "a-very-long-organisation-name".repeat(3),
        "0123456789abcdef".repeat(5)
    );
    let links = SourceLinks::new(&long_base, "", "");
    let (comment, checksum) = big_comment_linked(100_000, false, Some(&links));
    assert!(
        comment.len() < MARKDOWN_LIMIT,
        "{} characters",
        comment.len()
    );
    assert!(comment.contains(&checksum));
    let linked = comment.matches("<a href=").count();
    assert!(linked > 20, "sources are links: {linked}");
    assert!(comment.contains("/fleet/rules.yaml#L10\">fleet/rules.yaml:10:5</a>"));
    assert!(
        comment.contains("JSON artifact"),
        "cut sections point at the artifact"
    );
    let (plain, _) = big_comment(100_000, false);
    assert!(
        comment.matches("<details>").count() < plain.matches("<details>").count(),
        "links take room, so fewer sections fit"
    );
}
