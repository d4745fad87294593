//! End to end: `simfleet diff OLD NEW` over plan files the binary made offline (`plan --live`):
//! identical plans exit 0 (timestamps ignored), one SIM's new target exits 2 and shows exactly
//! that SIM, a fleet that moved underneath is reported, `--mask` hides every ICCID, bad input is
//! refused with the path, and markdown links sources when the forge's variables are set.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

/// ICCIDs of the test fleet (Luhn-valid, so the spec may name them in `sims:`).
const A: &str = "89490000000000000015";
const B: &str = "89490000000000000023";
const C: &str = "89490000000000000031";

const SPEC: &str = "rules:\n  - name: all-data\n    match: all\n    set:\n      monthly_data_limit: 500MB\n      monthly_sms_mo_limit: 10\n";

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("fleet")).expect("spec dir");
        let case = Case { dir };
        case.spec(SPEC);
        case.live(&[(A, 100_000_000), (B, 100_000_000), (C, 100_000_000)]);
        case
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn spec(&self, text: &str) {
        std::fs::write(self.path("fleet/rules.yaml"), text).expect("spec");
    }

    /// The live fleet: each SIM active with this data limit.
    fn live(&self, sims: &[(&str, i64)]) {
        let sims: Vec<Value> = sims
            .iter()
            .map(|(iccid, limit)| {
                json!({"iccid": iccid, "statusid": 2, "providerid": 1,
                       "monthly_data_limit": limit, "monthly_sms_mo_limit": 5})
            })
            .collect();
        std::fs::write(
            self.path("live.json"),
            json!({"format_version": 1, "sims": sims}).to_string(),
        )
        .expect("snapshot");
    }

    /// `simfleet plan fleet --live live.json --out NAME`, with a fixed `generated_at` so
    /// snapshots do not depend on the clock (it is outside the checksum).
    fn plan(&self, name: &str, generated_at: &str) -> PathBuf {
        let out = simfleet(self.dir.path())
            .args(["plan", "fleet", "--live", "live.json", "--out", name])
            .output()
            .expect("plan runs");
        // 3: a blocked plan is still saved.
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = self.path(name);
        let mut plan: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("plan")).expect("json");
        plan["generated_at"] = json!(generated_at);
        std::fs::write(&path, plan.to_string()).expect("plan rewritten");
        path
    }
}

fn simfleet(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("simfleet").expect("binary");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_SHA")
        .env_remove("CI_PROJECT_URL")
        .env_remove("CI_COMMIT_SHA");
    cmd
}

/// Runs `simfleet diff OLD NEW ARGS…` in the case's directory: (exit code, stdout, stderr).
fn diff(case: &Case, old: &str, new: &str, args: &[&str]) -> (i32, String, String) {
    let out = simfleet(case.dir.path())
        .arg("diff")
        .args([old, new])
        .args(args)
        .output()
        .expect("diff runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Old: every SIM to 500MB. New: SIM B to 2GB by a `sims:` entry.
fn one_target_changed() -> Case {
    let case = Case::new();
    case.plan("old.plan", "2026-01-01T00:00:00Z");
    case.spec(&format!(
        "{SPEC}sims:\n  \"{B}\":\n    monthly_data_limit: 2GB\n"
    ));
    case.plan("new.plan", "2026-01-02T00:00:00Z");
    case
}

#[test]
fn identical_plans_exit_0_whatever_their_timestamps() {
    let case = Case::new();
    case.plan("a.plan", "2026-01-01T00:00:00Z");
    case.plan("b.plan", "2026-02-01T00:00:00Z");
    for format in ["text", "markdown", "json"] {
        let (code, out, err) = diff(&case, "a.plan", "b.plan", &["--format", format]);
        assert_eq!(code, 0, "{format}: {out}{err}");
        assert!(out.contains("equivalent"), "{out}");
    }
}

#[test]
fn one_sims_target_changed_exits_2_and_shows_exactly_that_sim() {
    let case = one_target_changed();
    let (code, out, err) = diff(&case, "old.plan", "new.plan", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(B), "{out}");
    assert!(
        !out.contains(A) && !out.contains(C),
        "only B differs: {out}"
    );
    assert!(
        out.contains("monthly_data_limit: was → 500MB, now → 2GB  × 1 SIM"),
        "{out}"
    );
    assert!(
        out.contains("was from fleet/rules.yaml:5:27 (rule all-data), now from fleet/rules.yaml:9:25 (sims entry"),
        "{out}"
    );
    let (code, json, _) = diff(&case, "old.plan", "new.plan", &["--format", "json"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["equivalent"], false);
    let sims = v["sims"].as_array().expect("sims");
    assert_eq!(sims.len(), 1, "{json}");
    assert_eq!(sims[0]["iccid"], B);
    assert_eq!(sims[0]["kind"], "changed");
    assert_eq!(sims[0]["fields"][0]["old"]["to"], 500_000_000);
    assert_eq!(sims[0]["fields"][0]["new"]["to"], 2_000_000_000);
}

#[test]
fn a_fleet_that_moved_underneath_is_reported() {
    let case = Case::new();
    case.plan("old.plan", "2026-01-01T00:00:00Z");
    // C's data limit was changed by someone else; the spec is the same.
    case.live(&[(A, 100_000_000), (B, 100_000_000), (C, 300_000_000)]);
    case.plan("new.plan", "2026-01-02T00:00:00Z");
    let (code, out, err) = diff(&case, "old.plan", "new.plan", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("the fleet moved under 1 SIM"), "{out}");
    assert!(
        out.contains("monthly_data_limit: live value was 100MB, is now 300MB  × 1 SIM"),
        "{out}"
    );
    assert!(out.contains(C) && !out.contains(A), "{out}");
    let (_, json, _) = diff(&case, "old.plan", "new.plan", &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["counts"]["live_moved"], 1);
    assert_eq!(v["sims"][0]["kind"], "moved");
}

#[test]
fn text_markdown_and_json_snapshots() {
    let case = one_target_changed();
    for format in ["text", "markdown", "json"] {
        let (code, out, err) = diff(&case, "old.plan", "new.plan", &["--format", format]);
        assert_eq!(code, 2, "{err}");
        insta::assert_snapshot!(format!("diff_{format}"), out);
    }
}

#[test]
fn json_output_is_valid_against_the_checked_in_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/diff.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let case = one_target_changed();
    case.live(&[(A, 100_000_000), (B, 100_000_000), (C, 300_000_000)]);
    case.plan("moved.plan", "2026-01-03T00:00:00Z");
    for (old, new) in [
        ("old.plan", "new.plan"),
        ("old.plan", "moved.plan"),
        ("old.plan", "old.plan"),
    ] {
        for mask in [&[][..], &["--mask"][..]] {
            let (_, out, err) = diff(&case, old, new, &[&["--format", "json"][..], mask].concat());
            let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{old} {new} {mask:?}: {errors:?}");
        }
    }
}

#[test]
fn mask_hides_every_iccid_in_every_format() {
    let case = one_target_changed();
    for format in ["text", "markdown", "json"] {
        let (code, out, err) = diff(
            &case,
            "old.plan",
            "new.plan",
            &["--format", format, "--mask", "--verbose"],
        );
        assert_eq!(code, 2, "{err}");
        assert!(!out.contains(B), "{format}: {out}");
        assert!(out.contains("0023"), "the last 4 digits stay: {out}");
        // The digests a reviewer compares stay whole.
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(case.path("new.plan")).expect("plan"))
                .expect("plan");
        assert!(
            out.contains(v["checksum"].as_str().expect("checksum")),
            "{out}"
        );
    }
}

#[test]
fn bad_input_is_refused_with_the_path() {
    let case = one_target_changed();
    std::fs::write(case.path("not-a-plan.json"), "{\"hello\": 1}").expect("file");
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(case.path("new.plan")).expect("plan"))
            .expect("plan");
    plan["change_sets"][0]["fields"][0]["to"] = json!(1);
    std::fs::write(case.path("tampered.plan"), plan.to_string()).expect("file");
    plan["format_version"] = json!(99);
    std::fs::write(case.path("future.plan"), plan.to_string()).expect("file");
    for (file, says) in [
        ("missing.plan", "cannot read plan file"),
        ("not-a-plan.json", "not a simfleet plan file"),
        ("tampered.plan", "checksum mismatch"),
        ("future.plan", "format_version 99"),
    ] {
        let (code, out, err) = diff(&case, "old.plan", file, &[]);
        assert_eq!(code, 1, "{file}: {out}{err}");
        assert!(err.contains(file) && err.contains(says), "{file}: {err}");
        assert!(out.is_empty(), "{out}");
    }
    // Both unusable: both are reported.
    let (code, _, err) = diff(&case, "missing.plan", "tampered.plan", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("missing.plan") && err.contains("tampered.plan"),
        "{err}"
    );
}

#[test]
fn markdown_links_sources_on_github_and_stays_plain_elsewhere() {
    let case = one_target_changed();
    // A repository root above the spec: paths in links are from the root.
    std::fs::create_dir_all(case.path(".git")).expect(".git");
    let github = |cmd: &mut Command| {
        cmd.env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/fleet")
            .env("GITHUB_SHA", "0123abcd");
    };
    let link = "<a href=\"https://github.com/acme/fleet/blob/0123abcd/fleet/rules.yaml#L9\">fleet/rules.yaml:9:25</a>";
    for args in [
        vec!["diff", "old.plan", "new.plan", "--format", "markdown"],
        vec!["show", "new.plan", "--format", "markdown"],
    ] {
        let mut cmd = simfleet(case.dir.path());
        github(&mut cmd);
        let out = cmd.args(&args).output().expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(link), "{args:?}: {text}");
        // Text output never links.
        let mut cmd = simfleet(case.dir.path());
        github(&mut cmd);
        let plain = cmd.args(&args[..args.len() - 2]).output().expect("runs");
        assert!(!String::from_utf8_lossy(&plain.stdout).contains("<a href"));
        // Without a forge, markdown stays plain.
        let out = simfleet(case.dir.path())
            .args(&args)
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("<a href"), "{text}");
    }
    // --link-base beats the forge's variables.
    let mut cmd = simfleet(case.dir.path());
    github(&mut cmd);
    let out = cmd
        .args(["show", "new.plan", "--format", "markdown"])
        .args(["--link-base", "https://git.example/fleet/src/commit/abc/"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("href=\"https://git.example/fleet/src/commit/abc/fleet/rules.yaml#L9\""),
        "{text}"
    );
}

#[test]
fn guards_and_checks_whose_result_changed_are_shown_with_links() {
    let case = Case::new();
    let check = "checks:\n  - name: data-cap\n    level: warn\n    message: data stays at or below 1GB\n    select: all\n    expect: { monthly_data_limit: { at_most: 1GB } }\n";
    std::fs::write(case.path("fleet/checks.yaml"), check).expect("checks");
    case.plan("old.plan", "2026-01-01T00:00:00Z");
    // The new spec raises one SIM over the cap and adds a guard that stops the plan.
    case.spec(&format!(
        "{SPEC}sims:\n  \"{B}\":\n    monthly_data_limit: 2GB\n"
    ));
    std::fs::write(case.path("fleet/simfleet.yaml"), "max_changes: 1\n").expect("config");
    case.plan("new.plan", "2026-01-02T00:00:00Z");
    let (code, out, err) = diff(&case, "old.plan", "new.plan", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Guards whose result changed"), "{out}");
    assert!(
        out.contains("max_changes: not triggered → stops the plan"),
        "{out}"
    );
    assert!(out.contains("Checks whose result changed"), "{out}");
    assert!(
        out.contains("data-cap [warn]: passes → 1 failing  (fleet/checks.yaml:2:11)"),
        "{out}"
    );
    let out = simfleet(case.dir.path())
        .args(["diff", "old.plan", "new.plan", "--format", "markdown"])
        .args(["--link-base", "https://git.example/c/abc"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("<a href=\"https://git.example/c/abc/fleet/checks.yaml#L2\">"),
        "{text}"
    );
}
