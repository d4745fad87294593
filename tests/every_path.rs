//! Every path a command's output, settings, masking and exit code can take, tried as a user
//! would: stdout on a full disk or a closed pipe, `--out` onto a device, a symlink or a missing
//! directory, typo'd flags on every subcommand, out-of-range flags and config values, and
//! `--mask` on the errors that list identifiers. Plans run offline (`--live SNAPSHOT`) where the
//! API is not the point.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;

use common::{bin, root, snapshot_file, spec_dir, Simfleet};

fn example_fleet() -> String {
    root().join("examples/fleet").display().to_string()
}

/// A generated 300-SIM snapshot in `dir`.
fn fleet(dir: &Path) -> String {
    snapshot_file(dir, 300, 7).display().to_string()
}

/// The ICCIDs of the generated fleet `fleet` wrote.
fn iccids(snapshot: &str) -> Vec<String> {
    let text = std::fs::read_to_string(snapshot).expect("snapshot");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    value["sims"]
        .as_array()
        .expect("sims")
        .iter()
        .map(|s| s["iccid"].as_str().expect("iccid").to_string())
        .collect()
}

/// True when `text` holds a run of 19 or 20 digits (a full ICCID).
fn has_full_iccid(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| (19..=20).contains(&run.len()))
}

fn run_to_dev_full(args: &[&str]) -> (i32, String) {
    let dev_full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(bin())
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("SIMFLEET_LOG")
        .stdout(dev_full)
        .output()
        .expect("run simfleet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_full_disk_on_stdout_is_an_error_naming_stdout() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let spec = example_fleet();
    let spec = spec.as_str();
    let plan_file = dir.path().join("plan.json");
    let plan_file = plan_file.to_str().expect("utf-8");
    Simfleet::new(&[
        "plan",
        spec,
        "--live",
        &snapshot,
        "--out",
        plan_file,
        "--allow-status-cuts",
    ])
    .run()
    .expect_code(0);
    let cases: Vec<Vec<&str>> = vec![
        vec!["plan", spec, "--live", &snapshot, "--format", "json"],
        vec!["plan", spec, "--live", &snapshot, "--format", "text"],
        vec!["plan", spec, "--live", &snapshot, "--format", "markdown"],
        vec!["plan", spec, "--live", &snapshot, "--detailed-exitcode"],
        vec!["show", plan_file, "--format", "markdown"],
        vec!["show", plan_file, "--detailed-exitcode"],
        vec!["explain", "89490000000030318262", spec, "--live", &snapshot],
        vec!["diff", plan_file, plan_file],
        vec!["diff", plan_file, plan_file, "--format", "json"],
        vec!["diff", plan_file, plan_file, "--format", "markdown"],
        vec!["validate", spec],
        vec!["--help"],
        vec!["plan", "--help"],
        vec!["--version"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["schema", "--out-dir", dir.path().to_str().expect("utf-8")],
    ];
    for args in cases {
        let (code, stderr) = run_to_dev_full(&args);
        assert_eq!(code, 1, "{args:?} exits 1 on a full stdout\n{stderr}");
        assert!(
            stderr.contains("cannot write to stdout"),
            "{args:?} names stdout:\n{stderr}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_without_a_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let spec = example_fleet();
    for args in [
        vec!["completions", "bash"],
        vec!["plan", &spec, "--live", &snapshot, "--format", "json"],
        vec!["--help"],
    ] {
        let mut child = std::process::Command::new(bin())
            .args(&args)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The reader goes away before the first byte is written (`| head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code().unwrap_or(-1);
        assert!(code == 141 || code == 1, "{args:?}: exit {code}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?} ends quietly: {stderr}");
    }
}

#[test]
fn out_replaces_only_regular_files_and_writes_through_devices() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let spec = example_fleet();
    let plan = |out: &Path| {
        Simfleet::new(&[
            "plan",
            &spec,
            "--live",
            &snapshot,
            "--allow-status-cuts",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .run()
    };
    // A symlink to a regular file: the link stays, its target gets the plan.
    let target = dir.path().join("target.json");
    std::fs::write(&target, "old").expect("write");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    plan(&link).expect_code(0);
    assert!(std::fs::symlink_metadata(&link)
        .expect("meta")
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .expect("target")
        .contains("\"checksum\""));
    // A character device is written through and stays a device.
    plan(Path::new("/dev/null")).expect_code(0);
    assert!(std::fs::metadata("/dev/null")
        .expect("meta")
        .file_type()
        .is_char_device());
    // A FIFO is written through: its reader gets the plan, and it stays a FIFO.
    let fifo = dir.path().join("plan.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
    };
    plan(&fifo).expect_code(0);
    assert!(reader.join().expect("reader").contains("\"checksum\""));
    assert!(std::fs::symlink_metadata(&fifo)
        .expect("meta")
        .file_type()
        .is_fifo());
    // A missing directory: an error naming the path.
    let run = plan(&dir.path().join("missing/plan.json")).expect_code(1);
    assert!(
        run.stderr().contains("missing/plan.json"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("does not exist"), "{}", run.stderr());
}

#[test]
fn every_subcommand_exits_1_on_a_bad_flag() {
    for command in [
        "validate",
        "schema",
        "sandbox",
        "plan",
        "check",
        "show",
        "explain",
        "diff",
        "export",
        "fmt",
        "apply",
        "completions",
        "man",
        "cli-reference",
    ] {
        let run = Simfleet::new(&[command, "--no-such-flag"]).run();
        assert_eq!(run.code(), 1, "{command}: {}", run.stderr());
        assert!(
            run.stderr().contains("unexpected argument"),
            "{command}: {}",
            run.stderr()
        );
    }
    // No subcommand at all, and a bad flag with --detailed-exitcode (never 2, "changes").
    Simfleet::new(&[]).run().expect_code(1);
    Simfleet::new(&["plan", "--detailed-exitcode", "--formt", "json"])
        .run()
        .expect_code(1);
    // Help and version still succeed.
    Simfleet::new(&["plan", "--help"]).run().expect_code(0);
}

#[test]
fn flags_pass_the_range_checks_config_values_get() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let spec = example_fleet();
    for (flag, value, message) in [
        (
            "--max-percent",
            "500",
            "--max-percent 500 is not a percentage",
        ),
        (
            "--concurrency",
            "0",
            "--concurrency 0 would never send a request",
        ),
        (
            "--max-changes",
            "0",
            "--max-changes 0 would stop every apply",
        ),
    ] {
        let run = Simfleet::new(&["plan", &spec, "--live", &snapshot, flag, value])
            .run()
            .expect_code(1);
        assert!(run.stderr().contains(message), "{}", run.stderr());
    }
    let run = Simfleet::new(&["plan", &spec, "--sandbox", "--rate-limit", "0"])
        .run()
        .expect_code(1);
    assert!(
        run.stderr()
            .contains("--rate-limit 0 would never send a request"),
        "{}",
        run.stderr()
    );
    let run = Simfleet::new(&["apply", &spec, "--sandbox", "--job-timeout", "0s"])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("--job-timeout"), "{}", run.stderr());
    let run = Simfleet::new(&[
        "export",
        "--live",
        &snapshot,
        "--spec",
        "x",
        "--concurrency",
        "0",
    ])
    .run()
    .expect_code(1);
    assert!(run.stderr().contains("--concurrency 0"), "{}", run.stderr());
}

/// A plan file of the example fleet, and the directory it lives in.
fn example_plan() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let plan = dir.path().join("plan.json");
    Simfleet::new(&[
        "plan",
        &example_fleet(),
        "--sandbox",
        "--out",
        plan.to_str().expect("utf-8"),
    ])
    .run()
    .expect_code(0);
    (dir, plan)
}

#[test]
fn apply_of_a_plan_file_checks_simfleet_yaml_as_plan_does() {
    let (dir, plan) = example_plan();
    let plan = plan.to_str().expect("utf-8");
    let bad = spec_dir(&[("simfleet.yaml", "max_percent: 500\nconcurrency: 0\n")]);
    let run = Simfleet::new(&[
        "apply",
        plan,
        "--sandbox",
        "--auto-approve",
        "--spec",
        bad.path().to_str().expect("utf-8"),
    ])
    .run()
    .expect_code(1);
    assert!(
        run.stderr().contains("simfleet.yaml:1:14"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("max_percent 500"), "{}", run.stderr());
    assert!(run.stderr().contains("concurrency 0"), "{}", run.stderr());
    // A bad type is a located message, not a parser dump.
    let typed = spec_dir(&[("simfleet.yaml", "max_percent: lots\n")]);
    let run = Simfleet::new(&[
        "apply",
        plan,
        "--sandbox",
        "--spec",
        typed.path().to_str().expect("utf-8"),
    ])
    .run()
    .expect_code(1);
    assert!(
        run.stderr().contains("simfleet.yaml:1:"),
        "{}",
        run.stderr()
    );
    // A --spec that does not exist, and no --spec without ./fleet: errors, not default guards.
    let run = Simfleet::new(&["apply", plan, "--sandbox", "--spec", "no/such/dir"])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("no/such/dir"), "{}", run.stderr());
    let run = Simfleet::new(&["apply", plan, "--sandbox"])
        .current_dir(dir.path())
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("pass --spec"), "{}", run.stderr());
}

/// A spec whose two rules disagree on every ACME SIM with status activated.
const CONFLICTING: &str = r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set: { monthly_data_limit: 1GB }
  - name: activated
    match: { status: activated }
    set: { monthly_data_limit: 500MB }
"#;

#[test]
fn conflicts_are_grouped_by_cause_in_spec_units() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let spec = spec_dir(&[("fleet.yaml", CONFLICTING)]);
    let spec = spec.path().to_str().expect("utf-8");
    let run = Simfleet::new(&["plan", spec, "--live", &snapshot])
        .run()
        .expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("1 cause:"), "{stderr}");
    assert!(
        stderr.contains("1GB") && stderr.contains("500MB"),
        "{stderr}"
    );
    assert!(!stderr.contains("to 1000000000 "), "raw bytes: {stderr}");
    assert!(stderr.lines().count() < 5, "one line per cause: {stderr}");
    // -v keeps every SIM.
    let all = Simfleet::new(&["-v", "plan", spec, "--live", &snapshot])
        .run()
        .expect_code(1);
    let listed = all
        .stderr()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 19)
        .count();
    assert!(listed > 10, "{}", all.stderr());
}

#[test]
fn mask_reaches_every_error_that_lists_identifiers() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let known = iccids(&snapshot);
    let conflicting = spec_dir(&[("fleet.yaml", CONFLICTING)]);
    // A sims entry the fleet lacks (Luhn off so it is not refused first).
    let missing = spec_dir(&[
        ("simfleet.yaml", "luhn_check: false\n"),
        (
            "sims.yaml",
            "sims:\n  \"89490000000000000012\":\n    custom_field_1: gone\n",
        ),
    ]);
    // A sims entry with a wrong Luhn digit.
    let mut bad_luhn = known[0].clone();
    let last = bad_luhn.pop().expect("digit");
    bad_luhn.push(if last == '0' { '1' } else { '0' });
    let luhn = spec_dir(&[(
        "sims.yaml",
        format!("sims:\n  \"{bad_luhn}\":\n    custom_field_1: x\n").as_str(),
    )]);
    let path = |d: &tempfile::TempDir| d.path().to_str().expect("utf-8").to_string();
    let cases: Vec<Vec<String>> = vec![
        vec![
            "plan".into(),
            path(&conflicting),
            "--live".into(),
            snapshot.clone(),
        ],
        vec![
            "plan".into(),
            path(&missing),
            "--live".into(),
            snapshot.clone(),
        ],
        vec!["validate".into(), path(&luhn)],
        vec![
            "plan".into(),
            path(&luhn),
            "--live".into(),
            snapshot.clone(),
        ],
        vec![
            "apply".into(),
            path(&conflicting),
            "--sandbox".into(),
            "--sandbox-fleet".into(),
            snapshot.clone(),
            "--auto-approve".into(),
        ],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let unmasked = Simfleet::new(&args).run().expect_code(1);
        assert!(
            has_full_iccid(&unmasked.stderr()),
            "{args:?} lists an ICCID without --mask: {}",
            unmasked.stderr()
        );
        let mut masked_args = args.clone();
        masked_args.push("--mask");
        let masked = Simfleet::new(&masked_args).run().expect_code(1);
        let both = masked.stdout() + &masked.stderr();
        assert!(!has_full_iccid(&both), "{args:?} --mask: {both}");
    }
}

#[test]
fn the_guard_line_says_where_an_allowance_came_from() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let status_rule = r#"rules:
  - name: suspend-initech
    match: { end_customer_label: Initech, status: activated }
    set: { status: suspended }
"#;
    let from_config = spec_dir(&[
        ("fleet.yaml", status_rule),
        ("simfleet.yaml", "allow_status_cuts: true\n"),
    ]);
    let run = Simfleet::new(&[
        "plan",
        from_config.path().to_str().expect("utf-8"),
        "--live",
        &snapshot,
    ])
    .run()
    .expect_code(0);
    assert!(
        run.stdout()
            .contains("allowed by allow_status_cuts in simfleet.yaml"),
        "{}",
        run.stdout()
    );
    let from_flag = spec_dir(&[("fleet.yaml", status_rule)]);
    let run = Simfleet::new(&[
        "plan",
        from_flag.path().to_str().expect("utf-8"),
        "--live",
        &snapshot,
        "--allow-status-cuts",
    ])
    .run()
    .expect_code(0);
    assert!(
        run.stdout().contains("allowed by --allow-status-cuts"),
        "{}",
        run.stdout()
    );
}

#[test]
fn quiet_silences_export_notes() {
    let dir = tempfile::tempdir().expect("dir");
    let snapshot = fleet(dir.path());
    let out = dir.path().join("spec");
    let run = Simfleet::new(&[
        "-q",
        "export",
        "--live",
        &snapshot,
        "--spec",
        out.to_str().expect("utf-8"),
    ])
    .run()
    .expect_code(0);
    assert_eq!(run.stderr(), "");
}

#[test]
fn quiet_silences_apply_notes_and_the_plan_it_shows() {
    let run = Simfleet::new(&[
        "apply",
        &example_fleet(),
        "--sandbox",
        "--auto-approve",
        "-q",
    ])
    .run()
    .expect_code(0);
    assert_eq!(run.stderr(), "");
    assert!(run.stdout().contains("changed"), "{}", run.stdout());
}

#[test]
fn a_flag_beats_simfleet_yaml_in_plan_as_in_apply() {
    let spec = spec_dir(&[
        (
            "fleet.yaml",
            CONFLICTING
                .split("  - name: activated")
                .next()
                .expect("rule"),
        ),
        // Some demo SIMs used more this month than the new limit: it cuts their service.
        ("simfleet.yaml", "concurrency: 3\nallow_status_cuts: true\n"),
    ]);
    let spec = spec.path().to_str().expect("utf-8");
    let run = Simfleet::new(&["plan", spec, "--sandbox", "--concurrency", "5"])
        .run()
        .expect_code(0);
    assert!(run.stderr().contains("concurrency 5)"), "{}", run.stderr());
    let run = Simfleet::new(&["plan", spec, "--sandbox"])
        .run()
        .expect_code(0);
    assert!(run.stderr().contains("concurrency 3)"), "{}", run.stderr());
}

/// Masking is for identifiers only: a masked JSON plan stays valid JSON, and its numbers (a
/// 10GB limit is 11 digits in bytes) and checksum are the unmasked plan's.
#[test]
fn masked_json_keeps_its_numbers_and_stays_json() {
    let spec = spec_dir(&[(
        "big.yaml",
        "rules:\n  - name: big-data\n    match: all\n    set: { monthly_data_limit: 10GB }\n",
    )]);
    let dir = spec.path().display().to_string();
    let plan = |mask: bool| {
        let mut args = vec!["plan", dir.as_str(), "--sandbox", "--format", "json"];
        if mask {
            args.push("--mask");
        }
        let out = Simfleet::new(&args).run().expect_code(0).stdout();
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap_or_else(|e| panic!("masked={mask}: not JSON ({e}):\n{out}"))
    };
    let (plain, masked) = (plan(false), plan(true));
    assert_eq!(masked["checksum"], plain["checksum"]);
    assert_eq!(
        masked["changes"][0]["fields"][0]["to"],
        serde_json::json!(10_000_000_000u64)
    );
    assert!(!has_full_iccid(&masked.to_string()));
}

/// `--spec` names the spec of a plan file; given with a spec directory it would be silently
/// ignored (its guards never read), so it is refused before any work.
#[test]
fn apply_of_a_directory_refuses_a_spec_flag() {
    let run = Simfleet::new(&[
        "apply",
        &example_fleet(),
        "--sandbox",
        "--auto-approve",
        "--spec",
        "/nonexistent-dir",
    ])
    .run()
    .expect_code(1);
    assert!(
        run.stderr().contains("leave --spec out"),
        "{}",
        run.stderr()
    );
}

/// An `--out` that cannot be written is refused before the fleet is read, not after.
/// A file simfleet writes is never masked, so with `--mask` it may not go where the masked
/// output goes; without `--mask`, `--out /dev/stdout` is a pipe like any other.
#[test]
fn a_masked_run_refuses_to_write_its_plan_file_to_stdout() {
    let run = Simfleet::new(&[
        "plan",
        &example_fleet(),
        "--sandbox",
        "--mask",
        "--out",
        "/dev/stdout",
    ])
    .run()
    .expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("is this command's stdout"), "{stderr}");
    assert!(
        !stderr.contains("read 300"),
        "the fleet was read first:\n{stderr}"
    );
    let out = run.stdout();
    assert!(
        !out.split(|c: char| !c.is_ascii_digit())
            .any(|w| w.len() >= 19),
        "an identifier reached stdout: {out}"
    );
    Simfleet::new(&[
        "plan",
        &example_fleet(),
        "--sandbox",
        "--out",
        "/dev/stdout",
        "--format",
        "json",
    ])
    .run()
    .expect_code(0);
}

#[test]
fn an_out_path_in_a_missing_directory_is_refused_before_any_read() {
    let run = Simfleet::new(&[
        "plan",
        &example_fleet(),
        "--sandbox",
        "--out",
        "/nonexistent-dir/plan.json",
    ])
    .run()
    .expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("the directory /nonexistent-dir does not exist"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("read 300"),
        "the fleet was read first:\n{stderr}"
    );
}

/// A spec path that does not exist is said not to exist; a file is said not to be a directory.
#[test]
fn a_missing_spec_path_is_said_not_to_exist() {
    let run = Simfleet::new(&["validate", "/nonexistent-spec-dir"])
        .run()
        .expect_code(1);
    assert!(
        run.stderr()
            .contains("/nonexistent-spec-dir: error: does not exist")
            && !run.stderr().contains("not a directory"),
        "{}",
        run.stderr()
    );
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().display().to_string();
    let run = Simfleet::new(&["plan", &path, "--sandbox"])
        .run()
        .expect_code(1);
    assert!(
        run.stderr().contains("is not a directory"),
        "{}",
        run.stderr()
    );
}

/// A masked plan is for reading: `show` displays it (and says it is masked), `apply` refuses it.
#[test]
fn show_displays_a_masked_plan_that_apply_refuses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let masked = dir.path().join("masked.json");
    let fleet = example_fleet();
    let plan = Simfleet::new(&["plan", &fleet, "--sandbox", "--format", "json", "--mask"])
        .run()
        .expect_code(0);
    std::fs::write(&masked, plan.stdout()).expect("masked plan");
    let masked = masked.display().to_string();
    for format in ["text", "markdown", "json"] {
        let run = Simfleet::new(&["show", &masked, "--format", format])
            .run()
            .expect_code(0);
        assert!(run.stdout().contains("****"), "{format}: {}", run.stdout());
        assert!(!has_full_iccid(&run.stdout()), "{format}");
        assert!(
            run.stderr().contains("is a masked plan"),
            "{}",
            run.stderr()
        );
    }
    let run = Simfleet::new(&["apply", &masked, "--spec", &fleet, "--sandbox"])
        .run()
        .expect_code(1);
    assert!(run.stderr().contains("masked plan"), "{}", run.stderr());
}

/// `--max-percent` out of range is refused with the allowed range, never echoed digit by digit,
/// and a value too fine to mean anything (300 digits after the point) is out of range.
#[test]
fn a_300_digit_max_percent_is_refused_with_the_allowed_range() {
    let huge = format!("1{}", "0".repeat(299));
    let tiny = format!("0.{}1", "0".repeat(298));
    for value in [huge, tiny] {
        let run = Simfleet::new(&[
            "plan",
            &example_fleet(),
            "--sandbox",
            "--max-percent",
            &value,
        ])
        .run()
        .expect_code(1);
        let err = run.stderr();
        assert!(err.contains("0.001 to 100"), "{err}");
        assert!(err.lines().all(|l| l.len() < 200), "{err}");
    }
}

/// `sandbox --generate N` refuses N above its maximum at once, instead of trying to build it.
#[test]
fn sandbox_generate_refuses_a_huge_fleet() {
    let run = Simfleet::new(&[
        "sandbox",
        "--generate",
        "100000000000",
        "--listen",
        "127.0.0.1:0",
    ])
    .run()
    .expect_code(1);
    assert!(run.stderr().contains("0..=10000000"), "{}", run.stderr());
}
