//! End to end: `simfleet show PLANFILE` renders a saved plan in every format and refuses a plan
//! file that was edited after it was made.

use std::collections::BTreeMap;

use assert_cmd::Command;
use predicates::prelude::*;
use simfleet::fleet::{Coverage, LiveFleet, Sim, Transition};
use simfleet::plan::{plan_fleet, Guards, Plan, PlanRequest};
use simfleet::spec::{
    Config, DesiredValue, Field, Limit, Origin, OriginKind, ResolvedValue, SimEntry, Spec,
};

fn saved_plan() -> (tempfile::TempDir, std::path::PathBuf, Plan) {
    let sims: Vec<Sim> = (1..=3)
        .map(|n| Sim {
            iccid: format!("894900000000000000{n:02}"),
            statusid: if n == 3 { 5 } else { 2 },
            providerid: 1,
            monthly_data_limit: Some(1_000_000),
            ..Sim::default()
        })
        .collect();
    let origin = Origin {
        file: "fleet/eu.yaml".into(),
        line: 4,
        col: 5,
        kind: OriginKind::Rule {
            name: "eu-trackers".into(),
        },
    };
    let desired: Vec<SimEntry> = sims
        .iter()
        .map(|s| {
            let fields = BTreeMap::from([
                (
                    Field::MonthlyDataLimit,
                    ResolvedValue {
                        value: DesiredValue::Limit(Limit::Value(500_000_000)),
                        origin: origin.clone().into(),
                    },
                ),
                (
                    Field::Status,
                    ResolvedValue {
                        value: DesiredValue::Status(2),
                        origin: origin.clone().into(),
                    },
                ),
            ]);
            SimEntry::new(
                s.iccid.clone(),
                origin.clone(),
                fields.into_iter().collect(),
            )
        })
        .collect();
    let transitions = [Transition {
        fromstatusid: 5,
        tostatusid: 2,
        providerid: 1,
    }];
    let spec = Spec::new(
        Vec::new(),
        desired,
        Config::default(),
        Vec::new(),
        "sha256:0123".into(),
    );
    let request = PlanRequest {
        spec: &spec,
        target: None,
        guards: Guards::default(),
    };
    let live = LiveFleet {
        sims,
        sims_total: 3,
        coverage: Coverage::Full,
        transitions: Some(transitions.to_vec()),
        running_batch_jobs: Vec::new(),
    };
    let plan = plan_fleet(&request, live).expect("plan builds");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_file_json()).expect("write plan");
    (dir, path, plan)
}

fn show(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("simfleet").expect("binary");
    cmd.arg("show").args(args).env("NO_COLOR", "1");
    cmd
}

#[test]
fn renders_every_format_with_the_checksum() {
    let (_dir, path, plan) = saved_plan();
    let p = path.to_str().expect("utf-8 path");
    show(&[p])
        .assert()
        .success()
        .stdout(predicate::str::contains("3 SIMs changing."))
        .stdout(predicate::str::contains("monthly_data_limit: 1MB → 500MB"))
        .stdout(predicate::str::contains(
            "fleet/eu.yaml:4:5 (rule eu-trackers)",
        ))
        .stdout(predicate::str::contains(plan.checksum.as_str()))
        .stdout(predicate::str::contains("\u{1b}[").not());
    show(&[p, "--format", "markdown", "--mask"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "### 📝 simfleet plan: 3 SIMs changing",
        ))
        .stdout(predicate::str::contains("89490000000000000001").not())
        .stdout(predicate::str::contains(plan.checksum.as_str()));
    let out = show(&[p, "--format", "json"]).assert().success();
    let json = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
    assert_eq!(
        Plan::from_file_json(&json).expect("JSON output is a plan"),
        plan
    );
}

#[test]
fn refuses_an_edited_plan_file() {
    let (_dir, path, _plan) = saved_plan();
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("500000000", "5000000000")).expect("write");
    show(&[path.to_str().expect("utf-8 path")])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("checksum mismatch"));
}

#[test]
fn missing_or_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.json");
    show(&[missing.to_str().expect("utf-8 path")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read plan file"));
    let foreign = dir.path().join("snapshot.json");
    std::fs::write(&foreign, r#"{"format_version": 1, "sims": []}"#).expect("write");
    show(&[foreign.to_str().expect("utf-8 path")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a simfleet plan file"));
}
