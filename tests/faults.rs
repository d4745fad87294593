//! Fault injection: `simfleet plan` against a sandbox that fails a share of its requests (5xx,
//! 429 with Retry-After, dropped connections, `null` payloads without errors, truncated bodies)
//! must either print exactly the plan it prints without faults, or fail with a clear error and
//! print no plan and save no plan file — never a partial plan.
//!
//! Each test runs one fleet over several fault seeds and rates and sums the sandbox's `/stats`
//! fault counts per kind; the totals are printed and written to
//! `$CARGO_TARGET_TMPDIR/faults-<test>.json` for RELIABILITY.md. The seeds are fixed, so the
//! faults (chosen by the sandbox from the seed, the request body and the attempt) are the same on
//! every run. `SIMFLEET_FAULT_SEEDS=N` runs seeds 1..=N for longer runs, `A-B` replays seeds A..=B.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use common::{comparable_plan_text, simfleet_command, snapshot_file, spec_dir, Sandbox};

/// Totals over a matrix of runs.
#[derive(Debug, Default)]
struct Tally {
    runs: u64,
    same_plan: u64,
    clean_errors: Vec<String>,
    faults: BTreeMap<String, u64>,
    requests: u64,
}

impl Tally {
    fn to_json(&self, name: &str) -> Value {
        json!({
            "test": name,
            "runs": self.runs,
            // For apply runs: runs that converged on the fault-free result.
            (if name == "apply" { "converged" } else { "same_plan" }): self.same_plan,
            "clean_errors": self.clean_errors.len(),
            "error_examples": self.clean_errors.iter().take(5).collect::<Vec<_>>(),
            "requests": self.requests,
            "faults_survived": self.faults,
        })
    }

    fn report(&self, name: &str) {
        let report = self.to_json(name);
        eprintln!("{name}: {report:#}");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{name}.json"));
        let _ = std::fs::write(path, format!("{report:#}\n"));
    }
}

fn seeds(default: u64) -> std::ops::RangeInclusive<u64> {
    // `SIMFLEET_FAULT_SEEDS=N` runs seeds 1..=N; `A-B` runs A..=B (to replay a failure).
    let value = std::env::var("SIMFLEET_FAULT_SEEDS").unwrap_or_default();
    match value.split_once('-') {
        Some((a, b)) => a.trim().parse().unwrap_or(1)..=b.trim().parse().unwrap_or(default),
        None => 1..=value.trim().parse().unwrap_or(default),
    }
}

/// A short account of how two plans differ: summary counters and the ICCIDs changed by only one.
fn difference(expected: &Value, got: &Value) -> String {
    let mut out = String::new();
    if let (Some(a), Some(b)) = (expected["summary"].as_object(), got["summary"].as_object()) {
        for (key, value) in a {
            if b.get(key) != Some(value) {
                out.push_str(&format!(
                    "\n  summary.{key}: {value} without faults, {:?} with",
                    b.get(key)
                ));
            }
        }
    }
    let iccids = |plan: &Value| -> std::collections::BTreeSet<String> {
        plan["changes"]
            .as_array()
            .map(|changes| {
                changes
                    .iter()
                    .filter_map(|c| c["iccid"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (iccids(expected), iccids(got));
    let missing: Vec<_> = a.difference(&b).take(10).collect();
    let extra: Vec<_> = b.difference(&a).take(10).collect();
    out.push_str(&format!(
        "\n  changing SIMs missing under faults: {} (e.g. {missing:?}); extra: {} (e.g. {extra:?})",
        a.difference(&b).count(),
        b.difference(&a).count()
    ));
    for key in [
        "actions", "blocked", "pending", "held", "skipped", "warnings", "guards", "checksum",
    ] {
        if expected[key] != got[key] {
            out.push_str(&format!("\n  `{key}` differs"));
        }
    }
    out
}

/// Runs `plan --format json --out FILE` against `url`; returns (exit code, stdout, stderr, saved
/// plan if any).
fn plan(dir: &Path, url: &str, out: &Path) -> (i32, String, String, Option<String>) {
    let _ = std::fs::remove_file(out);
    let output = simfleet_command()
        .arg("plan")
        .arg(dir)
        .args([
            "--endpoint",
            url,
            "--format",
            "json",
            "--rate-limit",
            "1000",
        ])
        .arg("--out")
        .arg(out)
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .output()
        .expect("simfleet runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
        std::fs::read_to_string(out).ok(),
    )
}

/// The plan JSON and saved plan file without faults.
fn baseline(dir: &Path, snapshot: &Path, work: &Path) -> (Value, Value) {
    let sandbox = Sandbox::builder().fleet(snapshot).start();
    let out = work.join("baseline-plan.json");
    let (code, stdout, stderr, saved) = plan(dir, &sandbox.url, &out);
    assert!(
        code == 0 || code == 2,
        "baseline plan failed ({code}): {stderr}"
    );
    let stats = sandbox.stats();
    assert_eq!(stats["faults"], json!({}), "no faults without --fault-rate");
    (
        comparable_plan_text(&stdout),
        comparable_plan_text(&saved.expect("baseline plan saved")),
    )
}

/// One faulty run: the same plan as without faults, or a clear error with no plan printed or
/// saved.
fn faulty_run(
    dir: &Path,
    snapshot: &Path,
    work: &Path,
    seed: u64,
    rate: f64,
    expected: &(Value, Value),
    tally: &mut Tally,
) {
    let sandbox = Sandbox::builder()
        .fleet(snapshot)
        .seed(seed)
        .fault_rate(rate)
        .start();
    let out = work.join(format!("plan-{seed}-{rate}.json"));
    let (code, stdout, stderr, saved) = plan(dir, &sandbox.url, &out);
    let stats = sandbox.stats();
    tally.runs += 1;
    tally.requests += stats["requests"].as_u64().unwrap_or(0);
    if let Some(faults) = stats["faults"].as_object() {
        for (kind, n) in faults {
            *tally.faults.entry(kind.clone()).or_insert(0) += n.as_u64().unwrap_or(0);
        }
    }
    let context = format!("seed {seed}, rate {rate}, faults {}", stats["faults"]);
    if code == 0 || code == 2 {
        let printed = comparable_plan_text(&stdout);
        assert!(
            printed == expected.0,
            "a different plan under faults ({context}): {}\n--- stderr\n{stderr}",
            difference(&expected.0, &printed)
        );
        let saved = comparable_plan_text(&saved.expect("a successful plan is saved"));
        assert!(
            saved == expected.1,
            "a different saved plan under faults ({context}): {}",
            difference(&expected.1, &saved)
        );
        tally.same_plan += 1;
    } else {
        assert_eq!(code, 1, "a failed plan exits 1 ({context}): {stderr}");
        assert!(
            stdout.trim().is_empty(),
            "a failed plan printed something ({context}): {stdout}"
        );
        assert!(
            saved.is_none(),
            "a failed plan saved a plan file ({context})"
        );
        let message = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("no `error:` line ({context}): {stderr}"))
            .to_string();
        // A clear error names what failed: the operation and how.
        assert!(
            message.len() > 20 && !message.contains("panicked"),
            "unclear error ({context}): {message}"
        );
        assert!(!stderr.contains("panicked"), "panic ({context}): {stderr}");
        tally.clean_errors.push(message);
    }
}

/// A fleet small enough to be read whole (paged partitions, no pushed-down filters).
#[test]
fn plan_under_faults_is_the_same_plan_or_a_clean_error() {
    let work = tempfile::tempdir().expect("temp dir");
    let snapshot = snapshot_file(work.path(), 2_000, 11);
    let spec = spec_dir(common::GENERATED_FLEET_FILES);
    let expected = baseline(spec.path(), &snapshot, work.path());
    assert!(
        expected.0["summary"]["sims_changing"].as_u64().unwrap_or(0) > 100,
        "the baseline plan must change something to compare: {}",
        expected.0["summary"]
    );
    let mut tally = Tally::default();
    for seed in seeds(3) {
        for rate in [0.1, 0.3] {
            faulty_run(
                spec.path(),
                &snapshot,
                work.path(),
                seed,
                rate,
                &expected,
                &mut tally,
            );
        }
    }
    tally.report("full-read");
    assert!(tally.same_plan > 0, "retries never carried a plan through");
    for kind in [
        "http_429",
        "dropped_connection",
        "null_payload",
        "truncated_body",
    ] {
        assert!(
            tally.faults.get(kind).copied().unwrap_or(0) > 0,
            "the matrix never injected {kind}: {:?}",
            tally.faults
        );
    }
    assert!(
        tally.faults.keys().any(|k| k.starts_with("http_5")),
        "no 5xx injected: {:?}",
        tally.faults
    );
}

/// A fleet above the push-down threshold: the rules' filters are counted and read separately,
/// so faults hit `totalSims` counts and filtered pages too.
#[test]
fn pushed_down_plan_under_faults_is_the_same_plan_or_a_clean_error() {
    let work = tempfile::tempdir().expect("temp dir");
    let snapshot = snapshot_file(work.path(), 6_000, 12);
    // Narrow rules on a fleet above the push-down threshold (5,000): read by filter, not whole.
    let spec = spec_dir(&[
        (
            "rules.yaml",
            r#"rules:
  - name: uk-umbrella
    match: { iccid: { prefix: "8944500000" }, end_customer_label: Umbrella }
    set: { monthly_data_limit: unlimited, imei_lock: off }
  - name: link-acme
    match: { provider: link+, end_customer_label: ACME }
    set: { monthly_sms_mo_limit: 50 }
"#,
        ),
        ("simfleet.yaml", common::GENERATED_FLEET_CONFIG),
    ]);
    let expected = baseline(spec.path(), &snapshot, work.path());
    let mut tally = Tally::default();
    for seed in seeds(2) {
        faulty_run(
            spec.path(),
            &snapshot,
            work.path(),
            seed,
            0.3,
            &expected,
            &mut tally,
        );
    }
    tally.report("pushdown");
    assert!(tally.same_plan > 0, "retries never carried a plan through");
    assert!(tally.faults.values().sum::<u64>() > 0, "no faults injected");
}

/// Every request faulting: a clear error at once, no plan.
#[test]
fn plan_against_an_always_failing_api_fails_cleanly() {
    let work = tempfile::tempdir().expect("temp dir");
    let snapshot = snapshot_file(work.path(), 300, 13);
    let spec = spec_dir(common::GENERATED_FLEET_FILES);
    let sandbox = Sandbox::builder()
        .fleet(&snapshot)
        .seed(1)
        .fault_rate(1.0)
        .start();
    let out = work.path().join("never.json");
    let (code, stdout, stderr, saved) = plan(spec.path(), &sandbox.url, &out);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.trim().is_empty(), "{stdout}");
    assert!(saved.is_none());
    assert!(stderr.contains("error:"), "{stderr}");
    let stats = sandbox.stats();
    assert!(
        stats["requests"].as_u64().unwrap_or(0) >= 2,
        "retried: {stats}"
    );
}

/// The fleet as `/state` shows it, by ICCID, without the activation time (set from the clock
/// when a SIM is activated, so it differs between two runs that activate the same SIM).
fn fleet_state(sandbox: &Sandbox) -> BTreeMap<String, Value> {
    let state = sandbox.state();
    state["sims"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|sim| {
            let mut sim = sim.clone();
            if let Some(object) = sim.as_object_mut() {
                object.remove("activation_timestamp");
            }
            (sim["iccid"].as_str().unwrap_or_default().to_string(), sim)
        })
        .collect()
}

/// One `plan --out` + `apply PLAN` round; returns (plan exit code, apply exit code, stderr).
fn plan_and_apply(spec: &Path, url: &str, work: &Path, round: usize) -> (i32, i32, String) {
    let out = work.join(format!("round-{round}.json"));
    let (plan_code, _, plan_stderr, saved) = plan(spec, url, &out);
    if saved.is_none() {
        return (plan_code, -1, plan_stderr);
    }
    let output = simfleet_command()
        .arg("apply")
        .arg(&out)
        .arg("--spec")
        .arg(spec)
        .args([
            "--endpoint",
            url,
            "--rate-limit",
            "1000",
            "--format",
            "json",
        ])
        .env("WHEREVER_SIM_TOKEN", "sandbox")
        .output()
        .expect("apply runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "apply panicked: {stderr}");
    (plan_code, output.status.code().unwrap_or(-1), stderr)
}

/// `apply` under faults, including mutations committed and then dropped: re-running plan and
/// apply converges on exactly the fleet a fault-free apply produces — every planned change made,
/// no SIM and no field outside the plan touched — within a few rounds.
#[test]
fn apply_under_faults_converges_on_the_fault_free_result() {
    let work = tempfile::tempdir().expect("temp dir");
    let snapshot = snapshot_file(work.path(), 600, 14);
    let spec = spec_dir(common::GENERATED_FLEET_FILES);

    let clean = Sandbox::builder()
        .fleet(&snapshot)
        .batch_rate(100_000.0)
        .start();
    let initial = fleet_state(&clean);
    let (plan_code, apply_code, stderr) = plan_and_apply(spec.path(), &clean.url, work.path(), 0);
    assert_eq!(
        (plan_code, apply_code),
        (0, 0),
        "fault-free apply: {stderr}"
    );
    let expected = fleet_state(&clean);
    let changed = initial
        .iter()
        .filter(|(iccid, sim)| expected.get(*iccid) != Some(*sim))
        .count();
    assert!(
        changed > 100,
        "the fault-free apply changed only {changed} SIMs"
    );

    let mut tally = Tally::default();
    let mut rounds_needed = Vec::new();
    for seed in seeds(2) {
        for rate in [0.1, 0.3] {
            let sandbox = Sandbox::builder()
                .fleet(&snapshot)
                .seed(seed)
                .fault_rate(rate)
                .batch_rate(100_000.0)
                .start();
            let mut converged_after = None;
            for round in 1..=8 {
                let (plan_code, apply_code, stderr) =
                    plan_and_apply(spec.path(), &sandbox.url, work.path(), round);
                if apply_code != 0 {
                    if let Some(line) = stderr.lines().find(|l| l.starts_with("error")) {
                        tally.clean_errors.push(line.to_string());
                    }
                }
                // Converged: the fleet is what the fault-free apply left (checked below), and a
                // plan with everything applied has nothing left to do.
                if plan_code == 0 && apply_code == 0 && fleet_state(&sandbox) == expected {
                    converged_after = Some(round);
                    break;
                }
            }
            let stats = sandbox.stats();
            tally.runs += 1;
            tally.requests += stats["requests"].as_u64().unwrap_or(0);
            for (kind, n) in stats["faults"].as_object().into_iter().flatten() {
                *tally.faults.entry(kind.clone()).or_insert(0) += n.as_u64().unwrap_or(0);
            }
            let state = fleet_state(&sandbox);
            let wrong: Vec<_> = state
                .iter()
                .filter(|(iccid, sim)| expected.get(*iccid) != Some(*sim))
                .map(|(iccid, sim)| {
                    format!(
                        "{iccid}: {sim} (expected {:?}, initially {:?})",
                        expected.get(iccid),
                        initial.get(iccid)
                    )
                })
                .take(3)
                .collect();
            assert!(
                converged_after.is_some(),
                "seed {seed}, rate {rate}: not converged after 8 rounds ({} SIMs differ), e.g. {wrong:#?}\nfaults {}",
                state.iter().filter(|(i, s)| expected.get(*i) != Some(*s)).count(),
                stats["faults"]
            );
            tally.same_plan += 1;
            rounds_needed.push(converged_after.unwrap_or(0));
        }
    }
    eprintln!("apply rounds needed per run: {rounds_needed:?}");
    tally.report("apply");
    assert!(
        tally.faults.values().sum::<u64>() > 0,
        "no faults injected: {:?}",
        tally.faults
    );
}
