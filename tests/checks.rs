//! End to end: a spec's `checks:` run in `plan` against the sandbox. A failing `deny` check
//! blocks the plan (exit 3) with or without `--detailed-exitcode`, a failing `warn` check never
//! changes the exit code, and failed checks are shown first in text and markdown (with their
//! file:line, the three-way split and examples), in JSON as a `checks` array, masked by `--mask`.
//! `validate --live` judges them offline after the plan; waivers expire by the date
//! `SIMFLEET_TODAY` pins (every run here pins it, see `common::TODAY`); the README's checks parse.

mod common;

use common::{root, spec_dir, Simfleet};

const DENY: &str = r#"checks:
  - name: active-locked
    level: deny
    message: activated SIMs are locked to their device
    select: { status: activated }
    expect: { imei_lock: { not: "off" } }
"#;

const WARN: &str = r#"checks:
  - name: acme-data-cap
    level: warn
    message: ACME SIMs stay at or below 1 GB a month
    select: { end_customer_label: ACME }
    expect: { monthly_data_limit: { at_most: 1GB } }
"#;

/// The example fleet's spec with one more file of checks.
fn fleet_with(checks: &str) -> tempfile::TempDir {
    let example = |name: &str| {
        std::fs::read_to_string(root().join("examples/fleet").join(name)).expect("example file")
    };
    let files: Vec<(String, String)> = [
        "customers.yaml",
        "devices.yaml",
        "ranges.yaml",
        "simfleet.yaml",
    ]
    .iter()
    .map(|name| (name.to_string(), example(name)))
    .chain([("checks.yaml".to_string(), checks.to_string())])
    .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    spec_dir(&borrowed)
}

fn plan(dir: &tempfile::TempDir, extra: &[&str]) -> common::Run {
    let path = dir.path().display().to_string();
    let mut args = vec!["plan", path.as_str(), "--sandbox"];
    args.extend_from_slice(extra);
    Simfleet::new(&args).run()
}

#[test]
fn a_failing_deny_check_blocks_with_exit_3_and_is_shown_first() {
    let dir = fleet_with(DENY);
    plan(&dir, &[]).expect_code(3);
    let text = plan(&dir, &["--detailed-exitcode"]).expect_code(3).stdout();
    let failed = text.find("Failed checks").expect("a failed checks section");
    let summary = text.find("SIMs:").expect("the summary");
    assert!(failed < summary, "failed checks come first:\n{text}");
    assert!(text.contains("1 deny check(s) fail"), "{text}");
    assert!(text.contains("[deny] active-locked ("), "{text}");
    assert!(text.contains("checks.yaml:2:11)"), "{text}");
    assert!(
        text.contains("fail now and the plan does not fix them"),
        "{text}"
    );
    assert!(text.contains("made to fail by the plan"), "{text}");
    assert!(text.contains(": imei_lock = off"), "{text}");
    assert!(
        text.contains("set by ") && text.contains("(rule umbrella-uk-sensors)"),
        "{text}"
    );

    let markdown = plan(&dir, &["--format", "markdown"])
        .expect_code(3)
        .stdout();
    let failed = markdown.find("#### Failed checks").expect("failed checks");
    let risky = markdown.find("Risky changes").expect("risky changes");
    assert!(failed < risky, "{markdown}");
    assert!(
        markdown.contains("**deny** <code>active-locked</code>"),
        "{markdown}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&plan(&dir, &["--format", "json"]).expect_code(3).stdout())
            .expect("JSON");
    let check = &json["checks"][0];
    assert_eq!(check["name"], "active-locked");
    assert_eq!(check["level"], "deny");
    let failing = check["failing"].as_u64().expect("failing");
    let split = check["fails_unfixed"].as_u64().expect("unfixed")
        + check["made_failing"].as_u64().expect("made");
    assert!(failing > 0 && failing == split, "{check}");
    assert!(check["examples"].as_array().expect("examples").len() <= 20);
}

#[test]
fn a_failing_warn_check_never_changes_the_exit_code() {
    let dir = fleet_with(WARN);
    let text = plan(&dir, &[]).expect_code(0).stdout();
    assert!(text.contains("[warn] acme-data-cap ("), "{text}");
    assert!(text.contains("monthly_data_limit = unlimited"), "{text}");
    plan(&dir, &["--detailed-exitcode"]).expect_code(2);
}

#[test]
fn mask_hides_the_iccids_of_failing_sims() {
    let dir = fleet_with(DENY);
    let text = plan(&dir, &["--format", "json"]).expect_code(3).stdout();
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let iccid = json["checks"][0]["examples"][0]["iccid"]
        .as_str()
        .expect("an example")
        .to_string();
    for format in ["text", "markdown", "json"] {
        let out = plan(&dir, &["--mask", "--format", format])
            .expect_code(3)
            .stdout();
        assert!(out.contains("active-locked"), "{format}:\n{out}");
        assert!(
            !out.contains(&iccid),
            "{format} shows {iccid} under --mask:\n{out}"
        );
        assert!(out.contains(&iccid[iccid.len() - 4..]), "{format}:\n{out}");
    }
}

#[test]
fn a_bad_check_is_a_located_spec_error() {
    let dir = spec_dir(&[(
        "checks.yaml",
        "checks:\n  - name: x\n    level: warn\n    message: m\n    select: { status: sleeping }\n    expect: { imei_lock: auto }\n",
    )]);
    let out = plan(&dir, &[]).expect_code(1);
    let stderr = String::from_utf8_lossy(&out.0.stderr).to_string();
    assert!(
        stderr.contains("checks.yaml:5:23") && stderr.contains("`sleeping` is not a SIM status"),
        "{stderr}"
    );
}

#[test]
fn apply_refuses_a_plan_a_deny_check_fails_before_any_call() {
    let dir = fleet_with(DENY);
    let path = dir.path().display().to_string();
    let out = Simfleet::new(&["apply", path.as_str(), "--sandbox", "--auto-approve"])
        .run()
        .expect_code(3);
    let text = format!("{}{}", out.stdout(), String::from_utf8_lossy(&out.0.stderr));
    assert!(text.contains("stopped before the first call"), "{text}");
    assert!(text.contains("deny check active-locked"), "{text}");
}

#[test]
fn a_limit_on_the_change_blocks_a_plan_that_exceeds_it() {
    let few = |n: u32| {
        format!(
            "checks:\n  - name: few-unlocks\n    level: deny\n    message: a change unlocks at most {n} IMEIs\n    select: all\n    limit: {{ imei_unlocks: {{ at_most: {n} }} }}\n"
        )
    };
    // The example plan turns off 3 IMEI locks.
    let over = fleet_with(&few(2));
    let text = plan(&over, &["--detailed-exitcode"])
        .expect_code(3)
        .stdout();
    assert!(text.contains("[deny] few-unlocks ("), "{text}");
    assert!(
        text.contains("IMEI unlocks: 3 SIMs of 300 selected, at most 2 (over)"),
        "{text}"
    );
    assert!(
        text.contains(": imei_lock = off (made to fail by the plan)"),
        "{text}"
    );
    let within = fleet_with(&few(3));
    let text = plan(&within, &["--detailed-exitcode"])
        .expect_code(2)
        .stdout();
    assert!(
        text.contains("Checks passed:") && text.contains("few-unlocks"),
        "{text}"
    );
}

#[test]
fn a_waiver_holds_until_its_date_and_an_expired_one_blocks_the_plan() {
    let waiver = |expires: &str| {
        format!(
            "{DENY}waivers:\n  - check: active-locked\n    match: all\n    reason: lab devices swap modems daily\n    expires: {expires}\n"
        )
    };
    let holding = fleet_with(&waiver("2999-12-31"));
    let text = plan(&holding, &["--detailed-exitcode"])
        .expect_code(2)
        .stdout();
    assert!(text.contains("[active] active-locked ("), "{text}");
    assert!(
        text.contains("expires 2999-12-31")
            && text.contains("waived — lab devices swap modems daily"),
        "{text}"
    );
    assert!(
        text.contains("active-locked (") && text.contains("waived)"),
        "{text}"
    );
    let expired = fleet_with(&waiver("2000-01-01"));
    let text = plan(&expired, &["--detailed-exitcode"])
        .expect_code(3)
        .stdout();
    assert!(text.contains("1 waiver(s) expired"), "{text}");
    assert!(
        text.contains("[expired, waives nothing] active-locked ("),
        "{text}"
    );
    assert!(text.contains("[deny] active-locked ("), "{text}");
}

#[test]
fn check_judges_the_fleet_as_it_is_through_the_api_and_from_a_snapshot() {
    let deny = fleet_with(DENY);
    let path = deny.path().display().to_string();
    let text = Simfleet::new(&["check", path.as_str(), "--sandbox"])
        .run()
        .expect_code(3)
        .stdout();
    assert!(
        text.contains("as they are now") && text.contains("[deny] active-locked ("),
        "{text}"
    );
    assert!(
        !text.contains("made to fail by the plan"),
        "nothing is planned:\n{text}"
    );
    let snapshot = deny.path().join("fleet.snapshot.json");
    let snapshot = snapshot.display().to_string();
    Simfleet::new(&["export", "--sandbox", "--snapshot", snapshot.as_str()])
        .run()
        .expect_code(0);
    let json = Simfleet::new(&[
        "check",
        path.as_str(),
        "--live",
        snapshot.as_str(),
        "--json",
    ])
    .run()
    .expect_code(3)
    .stdout();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["checks"][0]["name"], "active-locked");
    assert_eq!(json["checks"][0]["made_failing"], 0);
    assert!(json["checks"][0]["fails_unfixed"].as_u64().expect("count") > 0);
    // Warn checks only: clean for a scheduled job, whatever they find.
    let warn = fleet_with(WARN);
    let path = warn.path().display().to_string();
    let text = Simfleet::new(&["check", path.as_str(), "--sandbox"])
        .run()
        .expect_code(0)
        .stdout();
    assert!(text.contains("[warn] acme-data-cap ("), "{text}");
}

/// `plan examples/fleet --sandbox` on `today` (`SIMFLEET_TODAY`).
fn example_plan_on(today: &str) -> common::Run {
    Simfleet::new(&["plan", "examples/fleet", "--sandbox"])
        .env("SIMFLEET_TODAY", today)
        .run()
}

#[test]
fn the_example_waiver_is_shown_warns_a_week_before_it_expires_and_blocks_after() {
    let text = example_plan_on(common::TODAY).expect_code(0).stdout();
    assert!(
        text.contains("[active] test-sims-capped (examples/fleet/checks.yaml:")
            && text.contains("expires 2027-12-31: 1 SIM waived — Umbrella's UK sensors"),
        "{text}"
    );
    assert!(text.contains("; 1 waived"), "{text}");
    // A week before (and on) its last day: still waiving, with a warning.
    for day in ["2027-12-25", "2027-12-31"] {
        let text = example_plan_on(day).expect_code(0).stdout();
        assert!(text.contains("[expiring] test-sims-capped ("), "{day}");
        assert!(
            text.contains(
                "warning: the waiver of check test-sims-capped (examples/fleet/checks.yaml:"
            ) && text.contains("expires on 2027-12-31: renew it"),
            "{day}: {text}"
        );
    }
    let text = example_plan_on("2027-12-24").expect_code(0).stdout();
    assert!(text.contains("[active] test-sims-capped ("), "{text}");
    assert!(!text.contains("warning: the waiver"), "{text}");
    // The day after: it waives nothing and blocks the plan.
    let text = example_plan_on("2028-01-01").expect_code(3).stdout();
    assert!(
        text.contains("[expired, waives nothing] test-sims-capped (")
            && text.contains("1 waiver(s) expired"),
        "{text}"
    );
    // A date that is not one is a usage error, not today.
    let run = example_plan_on("2027-02-30").expect_code(1);
    assert!(
        run.stderr()
            .contains("SIMFLEET_TODAY=\"2027-02-30\" is not a date"),
        "{}",
        run.stderr()
    );
    // Unset, the system clock's date judges (the example's waiver holds until the end of 2027).
    let real = Simfleet::new(&["plan", "examples/fleet", "--sandbox"])
        .env_remove("SIMFLEET_TODAY")
        .run();
    assert!(
        real.stdout().contains("test-sims-capped ("),
        "{}",
        real.stdout()
    );
    // Set but empty (a CI variable that was never filled in) counts as unset.
    let empty = example_plan_on("").expect_code(0);
    assert!(
        empty.stdout().contains("test-sims-capped ("),
        "{}",
        empty.stderr()
    );
}

#[test]
fn validate_live_judges_the_checks_on_a_snapshot_after_the_plan_offline() {
    let deny = fleet_with(DENY);
    let path = deny.path().display().to_string();
    let snapshot = deny.path().join("fleet.snapshot.json");
    let snapshot = snapshot.display().to_string();
    Simfleet::new(&["export", "--sandbox", "--snapshot", snapshot.as_str()])
        .run()
        .expect_code(0);
    let run = Simfleet::new(&["validate", path.as_str(), "--live", snapshot.as_str()])
        .run()
        .expect_code(3);
    let text = run.stdout();
    assert!(text.contains(": valid"), "{text}");
    assert!(
        text.contains("1 check(s) on 300 SIMs after the plan: 1 fail, 1 deny check(s) fail."),
        "{text}"
    );
    assert!(
        text.contains("[deny] active-locked (") && text.contains("checks.yaml:2:11)"),
        "{text}"
    );
    // After the plan: the SIMs its rules unlock are made to fail (`check` sees only the now).
    assert!(text.contains("made to fail by the plan"), "{text}");
    // The example's own checks: warn checks fail, a waiver holds, nothing is denied.
    let text = Simfleet::new(&["validate", "examples/fleet", "--live", snapshot.as_str()])
        .run()
        .expect_code(0)
        .stdout();
    assert!(
        text.contains("3 check(s) on 300 SIMs after the plan: 2 fail."),
        "{text}"
    );
    assert!(text.contains("[active] test-sims-capped ("), "{text}");
    // --mask hides the failing ICCIDs; without --live nothing is judged.
    let masked = Simfleet::new(&[
        "--mask",
        "validate",
        path.as_str(),
        "--live",
        snapshot.as_str(),
    ])
    .run()
    .expect_code(3)
    .stdout();
    assert!(masked.contains("****"), "{masked}");
    let plain = Simfleet::new(&["validate", path.as_str()])
        .run()
        .expect_code(0)
        .stdout();
    assert!(!plain.contains("check(s) on"), "{plain}");
    // A missing snapshot is an error naming it.
    let run = Simfleet::new(&["validate", path.as_str(), "--live", "no/such.json"])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("no/such.json"), "{}", run.stderr());
    assert!(!run.stdout().contains("valid"), "{}", run.stdout());
}

/// The YAML blocks of the README's "Checks" section: the checks, the `limit` checks that
/// continue their list, and the waivers.
fn readme_checks_spec() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme.find("\n## Checks\n").expect("a Checks section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .map(|b| &b[..b.find("```").expect("a closed block")])
        .collect();
    assert_eq!(blocks.len(), 3, "checks, limits, waivers:\n{section}");
    blocks.concat()
}

#[test]
fn the_readme_checks_are_a_valid_spec_with_five_expect_checks() {
    let yaml = readme_checks_spec();
    let dir = spec_dir(&[("checks.yaml", yaml.as_str())]);
    let path = dir.path().display().to_string();
    let run = Simfleet::new(&["validate", path.as_str()])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("8 checks: valid"), "{}", run.stdout());
    assert_eq!(yaml.matches("    expect:").count(), 5, "{yaml}");
    // Judged on the demo fleet (through a snapshot, offline), as a user would try them.
    let snapshot = dir.path().join("fleet.snapshot.json");
    let snapshot = snapshot.display().to_string();
    Simfleet::new(&["export", "--sandbox", "--snapshot", snapshot.as_str()])
        .run()
        .expect_code(0);
    let text = Simfleet::new(&["check", path.as_str(), "--live", snapshot.as_str()])
        .run()
        .stdout();
    assert!(
        text.contains("8 check(s) on 300 SIMs as they are now"),
        "{text}"
    );
}
