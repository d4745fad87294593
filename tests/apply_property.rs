//! Property: for random fleets and random specs, `apply` then `plan` shows no changes (blocked
//! ones aside), every SIM outside the plan is byte-for-byte unchanged in the sandbox's state,
//! and the apply reports no failure. Runs the library pipeline in-process against a real
//! sandbox over loopback (the binary's wiring is covered by the other apply tests).

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{json, Value};
use simfleet::api::{Client, ClientConfig};
use simfleet::apply::{self, ApplyOptions};
use simfleet::fleet::{Sim, Snapshot};
use simfleet::ops::connect::ConnectOptions;
use simfleet::ops::plan::{make_plan, LiveSource, PlanOptions};
use simfleet::sandbox::{Sandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

const LABELS: [&str; 3] = ["A", "B", "C"];

#[derive(Debug, Clone)]
struct LiveSim {
    status: i32,
    label: Option<usize>,
    data: Option<i64>,
    sms: Option<i32>,
    lock: u8,
    custom: Option<&'static str>,
}

fn live_sim() -> impl Strategy<Value = LiveSim> {
    (
        prop::sample::select(vec![2, 2, 2, 5, 6, 12, 3, 20, 7, 15]),
        prop::option::of(0usize..3),
        prop::sample::select(vec![
            None,
            Some(0),
            Some(1_000_000),
            Some(5_000_000),
            Some(7),
        ]),
        prop::sample::select(vec![None, Some(0), Some(10), Some(20)]),
        0u8..4,
        prop::sample::select(vec![None, Some(""), Some("x"), Some("z")]),
    )
        .prop_map(|(status, label, data, sms, lock, custom)| LiveSim {
            status,
            label,
            data,
            sms,
            lock,
            custom,
        })
}

/// One rule's settings: (field, value) pairs, each field at most once.
fn settings() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    (
        prop::option::of(prop::sample::select(vec!["unlimited", "1MB", "5MB"])),
        prop::option::of(prop::sample::select(vec!["unlimited", "10", "20"])),
        prop::option::of(prop::sample::select(vec!["none", "x", "y"])),
        prop::option::of(prop::sample::select(vec!["off", "auto"])),
        // Issued → deactivated, suspended and retired, and suspended ↔ deactivated, take
        // multi-step status paths in the sandbox's table; test-ready has none from most.
        prop::option::of(prop::sample::select(vec![
            "activated",
            "deactivated",
            "suspended",
            "retired",
            "test-ready",
        ])),
    )
        .prop_map(|(data, sms, custom, lock, status)| {
            let mut out = Vec::new();
            if let Some(v) = data {
                out.push(("monthly_data_limit", v));
            }
            if let Some(v) = sms {
                out.push(("monthly_sms_mo_limit", v));
            }
            if let Some(v) = custom {
                out.push(("custom_field_1", v));
            }
            if let Some(v) = lock {
                out.push(("imei_lock", v));
            }
            if let Some(v) = status {
                out.push(("status", v));
            }
            out
        })
}

fn iccid(i: usize) -> String {
    format!("8949000000000001{i:04}")
}

fn snapshot(sims: &[LiveSim]) -> Snapshot {
    let sims: Vec<Value> = sims
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({"iccid": iccid(i), "statusid": s.status, "providerid": 5});
            let o = v.as_object_mut().expect("object");
            if let Some(l) = s.label {
                o.insert("end_customer_label".into(), json!({"name": LABELS[l]}));
            }
            if let Some(d) = s.data {
                o.insert("monthly_data_limit".into(), json!(d));
            }
            if let Some(m) = s.sms {
                o.insert("monthly_sms_mo_limit".into(), json!(m));
            }
            match s.lock {
                1 => {
                    o.insert("imei_lock".into(), json!({"enabled": false}));
                }
                2 => {
                    o.insert("imei_lock".into(), json!({"enabled": true}));
                }
                3 => {
                    o.insert(
                        "imei_lock".into(),
                        json!({"enabled": true, "imei": "356938035643809"}),
                    );
                }
                _ => {}
            }
            if let Some(c) = s.custom {
                o.insert("custom_field_1".into(), json!(c));
            }
            v
        })
        .collect();
    Snapshot::from_json(
        &json!({"format_version": 1, "sims": sims}).to_string(),
        "generated",
    )
    .expect("snapshot")
}

fn spec_yaml(
    rules: &[Option<Vec<(&str, &str)>>],
    all: &[(&str, &str)],
    imei_sim: Option<usize>,
) -> String {
    let mut y = String::from("rules:\n");
    let mut any = false;
    for (i, rule) in rules.iter().enumerate() {
        let Some(set) = rule.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        any = true;
        y += &format!(
            "  - name: r{i}\n    match: {{ end_customer_label: {} }}\n    set:\n",
            LABELS[i]
        );
        for (k, v) in set {
            y += &format!("      {k}: {v}\n");
        }
    }
    if !all.is_empty() {
        any = true;
        y += "  - name: everything\n    match: all\n    priority: -1\n    set:\n";
        for (k, v) in all {
            y += &format!("      {k}: {v}\n");
        }
    }
    if !any {
        y = String::from("rules: []\n");
    }
    if let Some(i) = imei_sim {
        y += &format!(
            "sims:\n  \"{}\":\n    imei_lock: \"490154203237518\"\n",
            iccid(i)
        );
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_shows_no_changes_and_touches_nothing_else(
        sims in prop::collection::vec(live_sim(), 4..24),
        rules in prop::collection::vec(prop::option::of(settings()), 3),
        all in settings(),
        imei_pick in prop::option::of(0usize..4),
    ) {
        let imei_sim = imei_pick.filter(|i| *i < sims.len());
        let yaml = spec_yaml(&rules, &all, imei_sim);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let result: Result<(), TestCaseError> = rt.block_on(async {
            let sandbox = Sandbox::start(
                SandboxConfig { batch_rate: 100_000.0, ..SandboxConfig::default() },
                snapshot(&sims),
            )
            .await
            .expect("sandbox");
            let dir = tempfile::tempdir().expect("dir");
            let spec = dir.path().join("fleet");
            std::fs::create_dir_all(&spec).expect("spec dir");
            std::fs::write(spec.join("fleet.yaml"), &yaml).expect("spec");
            std::fs::write(spec.join("simfleet.yaml"), "luhn_check: false\n").expect("config");
            let token = dir.path().join("token");
            std::fs::write(&token, "sandbox").expect("token");
            let opts = PlanOptions {
                dir: spec.clone(),
                source: LiveSource::Api(ConnectOptions {
                    endpoint: Some(sandbox.url()),
                    token_file: Some(token),
                    requests_per_second: Some(10_000),
                    ..ConnectOptions::default()
                }),
                target: None,
                guards: simfleet::plan::Guards {
                    allow_status_cuts: true,
                    allow_irreversible: true,
                    ..Default::default()
                },
                concurrency: 4,
                progress: false,
                why_drift: None,
                today: simfleet::spec::days_from_civil(2027, 1, 1),
                last_applied: None,
            };
            let state = |url: String| async move {
                let snapshot: Value = reqwest::get(url.replace("/graphql", "/state"))
                    .await
                    .expect("state")
                    .json()
                    .await
                    .expect("JSON");
                serde_json::from_value::<Vec<Sim>>(snapshot["sims"].clone()).expect("sims")
            };
            let before = state(sandbox.url()).await;
            let plan = make_plan(&opts).await.expect("plan").plan;
            let client = Client::new(ClientConfig {
                rate_per_second: None,
                ..ClientConfig::new(sandbox.url(), SecretString::from("sandbox".to_string()))
            })
            .expect("client");
            let report = apply::apply(
                &plan,
                &client,
                ApplyOptions {
                    guards: simfleet::plan::Guards {
                        allow_status_cuts: true,
                        allow_irreversible: true,
                        ..Default::default()
                    },
                    poll_min: Duration::from_millis(10),
                    poll_max: Duration::from_millis(50),
                    ..ApplyOptions::default()
                },
                CancellationToken::new(),
            )
            .await
            .expect("apply");
            prop_assert_eq!(report.sims_failed, 0, "{}\n{}", yaml, simfleet::render::apply_report_text(&report, Default::default()));
            // Multi-step status paths included, no call beyond the plan's: one per step per batch.
            prop_assert!(
                report.calls.start_batch_job + report.calls.update_sim <= plan.summary.api_calls,
                "{} calls made, {} planned", report.calls.made, plan.summary.api_calls
            );
            let again = make_plan(&opts).await.expect("plan again").plan;
            // A status that was blocked or held may become changeable through a side effect of
            // the apply (an IMEI unlock moves 20 → 2): that is the blocked change, not drift.
            let held_back: BTreeSet<(&str, bool)> = plan
                .blocked
                .iter()
                .map(|b| (b.iccid.as_str(), b.field == simfleet::spec::Field::Status))
                .chain(plan.held.iter().map(|h| (h.iccid.as_str(), true)))
                .collect();
            let remaining: Vec<_> = again
                .changes
                .iter()
                .filter(|c| {
                    c.fields().any(|f| {
                        !(f.field == simfleet::spec::Field::Status
                            && held_back.contains(&(c.iccid.as_str(), true)))
                    })
                })
                .collect();
            prop_assert!(
                remaining.is_empty(),
                "spec:\n{}\nchanges after apply: {:?}\nreport:\n{}",
                yaml,
                remaining,
                simfleet::render::apply_report_text(&report, Default::default())
            );
            let planned: BTreeSet<&str> = plan.changes.iter().map(|c| c.iccid.as_str()).collect();
            let after = state(sandbox.url()).await;
            for (b, a) in before.iter().zip(&after) {
                if !planned.contains(b.iccid.as_str()) {
                    prop_assert_eq!(b, a, "a SIM outside the plan changed");
                }
            }
            // No job ever selected more than its include list: an empty or missing list would
            // have made the sandbox select the whole fleet.
            let jobs = client.list_batch_jobs(None, 100, None).await.expect("jobs");
            for job in &jobs.items {
                prop_assert!(job.total_sims >= 1 && job.total_sims as usize <= planned.len());
            }
            sandbox.shutdown().await;
            Ok(())
        });
        result?;
    }
}
