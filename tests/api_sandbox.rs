//! The API client against the real sandbox over loopback: the partitioned fetch returns exactly
//! the sandbox's fleet in about ceil(N/100) requests, survives the sandbox's faults, and the
//! mutation calls apply needs work end to end.

use std::time::Duration;

use secrecy::SecretString;
use simfleet::api::{
    fetch_sims, is_already_set, ApiError, BatchJobChanges, BatchJobParams, BatchJobSimDetailStatus,
    Client, ClientConfig, FetchOptions, FetchScope, RetryPolicy, SimFields, UpdateSimArgs,
};
use simfleet::fleet::{IntFilter, Sim, SimFilter, Snapshot, StringFilter};
use simfleet::sandbox::{generate, RunningSandbox, Sandbox, SandboxConfig};

async fn sandbox(fleet: Snapshot, fault_rate: f64) -> RunningSandbox {
    Sandbox::start(
        SandboxConfig {
            token: "sandbox-token".into(),
            fault_rate,
            seed: 7,
            batch_rate: 10_000.0,
            ..SandboxConfig::default()
        },
        fleet,
    )
    .await
    .expect("sandbox starts")
}

fn client(sandbox: &RunningSandbox, token: &str) -> Client {
    Client::new(ClientConfig {
        rate_per_second: None,
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 8,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::new(sandbox.url(), SecretString::from(token))
    })
    .expect("client builds")
}

/// A SIM reduced to the fields `SimFields::Plan` asks for.
fn plan_view(sim: &Sim) -> Sim {
    Sim {
        iccid: sim.iccid.clone(),
        statusid: sim.statusid,
        providerid: sim.providerid,
        monthly_data_limit: sim.monthly_data_limit,
        monthly_sms_mo_limit: sim.monthly_sms_mo_limit,
        monthly_sms_mt_limit: sim.monthly_sms_mt_limit,
        monthly_voice_mo_limit: sim.monthly_voice_mo_limit,
        custom_field_1: sim.custom_field_1.clone(),
        end_customer_label: sim.end_customer_label.clone(),
        imei_lock: sim.imei_lock.clone(),
        imei: sim.imei.clone(),
        imsi: sim.imsi.clone(),
        msisdn: sim.msisdn.clone(),
        monthly_data_volume: sim.monthly_data_volume,
        monthly_sms_mo: sim.monthly_sms_mo,
        monthly_sms_mt: sim.monthly_sms_mt,
        monthly_voice_mo: sim.monthly_voice_mo,
        ..Sim::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_of_10k_fleet_equals_the_snapshot_in_about_n_over_100_requests() {
    let fleet = generate(10_000, 42);
    let expected: Vec<Sim> = fleet.sims.iter().map(plan_view).collect();
    let sandbox = sandbox(fleet, 0.0).await;
    let fetched = fetch_sims(
        &client(&sandbox, "sandbox-token"),
        FetchScope::Everything,
        FetchOptions::default(),
    )
    .await
    .expect("fetch succeeds");
    assert_eq!(fetched.sims_total, 10_000);
    assert_eq!(fetched.sims.len(), 10_000);
    assert!(
        fetched.sims == expected,
        "fetched SIMs differ from the snapshot"
    );
    // 100 pages are the floor; partitioning adds bounds, counts and a few partial pages.
    assert!(
        (100..=150).contains(&fetched.requests),
        "{} requests",
        fetched.requests
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_all_fields_and_pushed_down_filters() {
    let fleet = generate(1_500, 3);
    let sandbox = sandbox(fleet.clone(), 0.0).await;
    let client = client(&sandbox, "sandbox-token");
    let all = fetch_sims(
        &client,
        FetchScope::Everything,
        FetchOptions {
            fields: SimFields::All,
            concurrency: 3,
            ..FetchOptions::default()
        },
    )
    .await
    .expect("fetch succeeds");
    assert!(
        all.sims == fleet.sims,
        "SimFields::All must read the snapshot back exactly"
    );

    let activated = SimFilter {
        statusid: Some(IntFilter {
            in_: Some(vec![2]),
            ..IntFilter::default()
        }),
        ..SimFilter::default()
    };
    let one = SimFilter {
        iccid: Some(StringFilter {
            eq: Some(fleet.sims[0].iccid.clone()),
            ..StringFilter::default()
        }),
        ..SimFilter::default()
    };
    let fetched = fetch_sims(
        &client,
        FetchScope::Filters(vec![activated, one]),
        FetchOptions::default(),
    )
    .await
    .expect("fetch succeeds");
    let expected: Vec<Sim> = fleet
        .sims
        .iter()
        .filter(|s| s.statusid == 2 || s.iccid == fleet.sims[0].iccid)
        .map(plan_view)
        .collect();
    assert!(!expected.is_empty());
    assert!(fetched.sims == expected);
    assert_eq!(fetched.sims_total, 1_500);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_survives_faults() {
    let fleet = generate(2_000, 5);
    let expected: Vec<Sim> = fleet.sims.iter().map(plan_view).collect();
    let sandbox = sandbox(fleet, 0.15).await;
    let fetched = fetch_sims(
        &client(&sandbox, "sandbox-token"),
        FetchScope::Everything,
        FetchOptions::default(),
    )
    .await
    .expect("retries absorb 5xx, 429, drops, null payloads and truncated bodies");
    assert!(fetched.sims == expected);
    assert!(fetched.requests > 20);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_unauthorized() {
    let sandbox = sandbox(generate(10, 1), 0.0).await;
    let err = client(&sandbox, "not-the-token")
        .count_sims(&SimFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("not-the-token"));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_round_trip() {
    let fleet = generate(50, 9);
    let iccids: Vec<String> = fleet.sims.iter().map(|s| s.iccid.clone()).collect();
    let sandbox = sandbox(fleet, 0.0).await;
    let client = client(&sandbox, "sandbox-token");

    let transitions = client.status_transitions().await.expect("transitions");
    assert!(!transitions.is_empty());

    let updated = client
        .update_sim(&UpdateSimArgs {
            iccid: iccids[0].clone(),
            changes: simfleet::api::UpdateSimChanges {
                custom_field_1: Some("truck-17".into()),
                monthly_sms_mo_limit: Some(None),
                monthly_data_limit: Some(500_000_000),
                ..simfleet::api::UpdateSimChanges::default()
            },
        })
        .await
        .expect("updateSim");
    assert_eq!(updated.custom_field_1.as_deref(), Some("truck-17"));
    assert_eq!(updated.monthly_sms_mo_limit, None);
    assert_eq!(updated.monthly_data_limit, Some(500_000_000));

    let params = BatchJobParams::new(
        iccids[1..4].to_vec(),
        BatchJobChanges {
            end_customer_label: Some("Batch".into()),
            ..BatchJobChanges::default()
        },
    )
    .expect("valid params");
    let id = client
        .start_batch_job(&params)
        .await
        .expect("startBatchJob");
    let job = loop {
        let job = client.get_batch_job(id).await.expect("getBatchJob");
        if job.status.is_finished() {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job.id, id);
    assert_eq!(job.total_sims, 3);
    assert_eq!(job.changes, params.changes);
    let listed = client
        .list_batch_jobs(None, 10, None)
        .await
        .expect("listBatchJobs");
    assert!(listed.items.iter().any(|j| j.id == id));
    let candidates = client
        .find_batch_jobs(&params, job.started_at, 5)
        .await
        .expect("find_batch_jobs");
    let ids: Vec<i64> = candidates.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![id]);
    let details = client
        .list_batch_job_details(id, &[], None)
        .await
        .expect("listBatchJobDetails");
    assert_eq!(details.sims.len(), 3);
    let all = client
        .batch_job_results(id, &[])
        .await
        .expect("batch_job_results");
    assert_eq!(all, details.sims);
    for sim in &details.sims {
        let converged = sim.status == BatchJobSimDetailStatus::Successful
            || sim.error_codes.iter().all(|c| is_already_set(*c));
        assert!(converged, "{sim:?}");
    }
    let relabelled = fetch_sims(&client, FetchScope::Everything, FetchOptions::default())
        .await
        .expect("fetch");
    let labels: Vec<Option<&str>> = relabelled.sims[1..4].iter().map(|s| s.label()).collect();
    assert_eq!(labels, vec![Some("Batch"); 3]);

    // An unknown ICCID becomes a failed SIM of the job, not an error of the call.
    let unknown = BatchJobParams::new(
        vec!["89000000000000000000".into()],
        BatchJobChanges {
            imei_lock: Some(false),
            ..BatchJobChanges::default()
        },
    )
    .expect("valid params");
    let id = client
        .start_batch_job(&unknown)
        .await
        .expect("startBatchJob");
    assert!(client.cancel_batch_job(id).await.is_ok());
    sandbox.shutdown().await;
}
