//! `simfleet fmt` as a user runs it: rewrites messy files canonically without losing a
//! comment, is idempotent, `--check` prints a unified diff and fails, and a file it cannot lay
//! out safely is refused and left untouched.

use std::path::Path;
use std::process::{Command, Output};

fn simfleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("simfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const MESSY: &str = "# Fleet rules for ACME   \n\n\n\nrules:\n- name: acme   # the big customer\n  match:\n        end_customer_label: ACME\n        iccid: {  prefix: 894900 }\n  set:\n        monthly_data_limit: 1 GB\n        # unlimited texts\n        monthly_sms_mo_limit: unlimited\nsims:\n   89490000000000000015:\n      imei_lock: 356938035643809   # pinned\n";

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find('#').map(|i| l[i..].trim_end().to_string()))
        .collect()
}

#[test]
fn fmt_rewrites_messy_files_keeps_every_comment_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("acme.yaml");
    std::fs::write(&file, MESSY).expect("written");
    // A hidden directory is never a spec file's home.
    std::fs::create_dir(dir.path().join(".git")).expect("hidden dir");
    std::fs::write(dir.path().join(".git/x.yaml"), "a:    b\n").expect("hidden file");

    let out = simfleet(&["fmt", path(dir.path())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("formatted"),
        "{}",
        text(&out.stderr)
    );
    let formatted = std::fs::read_to_string(&file).expect("read back");
    assert_eq!(
        formatted,
        "# Fleet rules for ACME\n\nrules:\n  - name: acme  # the big customer\n    match:\n      end_customer_label: ACME\n      iccid: { prefix: \"894900\" }\n    set:\n      monthly_data_limit: 1GB\n      # unlimited texts\n      monthly_sms_mo_limit: unlimited\nsims:\n  \"89490000000000000015\":\n    imei_lock: \"356938035643809\"   # pinned\n"
    );
    assert_eq!(comments(MESSY), comments(&formatted));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".git/x.yaml")).expect("hidden file"),
        "a:    b\n"
    );

    // The result is a valid spec, and formatting it again changes nothing.
    let validated = simfleet(&["validate", path(dir.path())]);
    assert!(validated.status.success(), "{}", text(&validated.stderr));
    let again = simfleet(&["fmt", "--check", path(dir.path())]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(again.stdout.is_empty());
    let twice = simfleet(&["fmt", path(dir.path())]);
    assert!(twice.status.success());
    assert_eq!(std::fs::read_to_string(&file).expect("read"), formatted);
}

#[test]
fn check_prints_a_unified_diff_exits_1_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("acme.yaml");
    std::fs::write(&file, MESSY).expect("written");
    let out = simfleet(&["fmt", "--check", path(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(diff.contains("--- a/") && diff.contains("+++ b/"), "{diff}");
    assert!(diff.contains("@@"), "{diff}");
    assert!(diff.contains("-        monthly_data_limit: 1 GB"), "{diff}");
    assert!(diff.contains("+      monthly_data_limit: 1GB"), "{diff}");
    assert!(
        text(&out.stderr).contains("not formatted"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), MESSY);
}

#[test]
fn a_file_that_cannot_be_laid_out_safely_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let odd = dir.path().join("odd.yaml");
    let odd_text = "rules:\n  - name: a\n    match: {end_customer_label: [ACME,\n       Globex]}\n    set: {status: activated}\n";
    std::fs::write(&odd, odd_text).expect("written");
    let fine = dir.path().join("fine.yml");
    std::fs::write(
        &fine,
        "sims:\n    \"89490000000000000015\": {status: activated}\n",
    )
    .expect("written");

    let out = simfleet(&["fmt", path(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(message.contains("odd.yaml:3:"), "{message}");
    assert!(message.contains("flow collection"), "{message}");
    assert_eq!(std::fs::read_to_string(&odd).expect("read"), odd_text);
    // The other file is still formatted.
    assert_eq!(
        std::fs::read_to_string(&fine).expect("read"),
        "sims:\n  \"89490000000000000015\": { status: activated }\n"
    );
}

#[test]
fn the_examples_and_an_exported_spec_are_formatted() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fleet");
    let out = simfleet(&["fmt", "--check", examples]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("fleet");
    let exported = simfleet(&["export", "--sandbox", "--spec", path(&spec)]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let out = simfleet(&["fmt", "--check", path(&spec)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_missing_directory_is_an_error() {
    let out = simfleet(&["fmt", "/nonexistent/simfleet-fmt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/simfleet-fmt"));
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_spec_files_is_skipped_with_a_warning_not_waited_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("b.yaml"), "rules: []\n").expect("written");
    let fifo = dir.path().join("a.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(["fmt", "--check", path(dir.path())])
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("simfleet runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: skipped {}: not a regular file (a FIFO)",
            path(&fifo)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("1 file checked"), "{stderr}");
}
