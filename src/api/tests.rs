//! Network tests of the client against the scripted stub: the request shape, the token, every
//! fault the brief lists, the batch-job safety rule and the partitioned fetch.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{json, Value};

use super::stub::{fake_fleet, Reply, Stub};
use super::*;
use crate::fleet::{SimFilter, StringFilter};

const TOKEN: &str = "test-TOKEN-7f3a9c";

fn config(url: &str) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(5),
        rate_per_second: None,
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(5),
        },
        ..ClientConfig::new(url, SecretString::from(TOKEN))
    }
}

fn client(stub: &Stub) -> Client {
    Client::new(config(&stub.url)).unwrap()
}

fn assert_no_token(err: &ApiError) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
}

fn count_reply() -> Reply {
    Reply::data("listSims", json!({"totalSims": 42}))
}

#[tokio::test]
async fn request_shape_and_raw_token() {
    let stub = Stub::start(|_, _| count_reply()).await;
    let filter = SimFilter {
        end_customer_label: Some(StringFilter {
            eq: Some("ACME".into()),
            ..StringFilter::default()
        }),
        ..SimFilter::default()
    };
    assert_eq!(client(&stub).count_sims(&filter).await.unwrap(), 42);
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.header("authorization"), Some(TOKEN));
    let body = request.body.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["operationName", "query", "variables"]);
    assert_eq!(body["operationName"], "CountSims");
    assert_eq!(body["query"], documents::COUNT_SIMS);
    assert_eq!(
        body["variables"],
        json!({"filter": {"end_customer_label": {"eq": "ACME"}}})
    );
}

#[tokio::test]
async fn first_page_omits_next_token_and_orders_by_iccid() {
    let stub = Stub::start(|_, _| {
        Reply::data(
            "listSims",
            json!({"items": [{"iccid": "1", "statusid": 2, "providerid": 5}], "nextToken": "abc", "totalSims": 2}),
        )
    })
    .await;
    let client = client(&stub);
    let page = client
        .list_sims_page(&SimFilter::default(), 100, None, SimFields::Plan)
        .await
        .unwrap();
    assert_eq!(page.next_token.as_deref(), Some("abc"));
    assert_eq!(page.total_sims, 2);
    assert_eq!(page.items[0].iccid, "1");
    client
        .list_sims_page(&SimFilter::default(), 100, Some("abc"), SimFields::All)
        .await
        .unwrap();
    let requests = stub.requests();
    assert_eq!(
        requests[0].body["variables"],
        json!({"order": {"iccid": "asc"}, "limit": 100})
    );
    assert_eq!(requests[1].body["variables"]["nextToken"], "abc");
    assert_eq!(requests[1].body["query"], documents::LIST_SIMS_ALL);
    assert!(client
        .list_sims_page(&SimFilter::default(), 101, None, SimFields::Plan)
        .await
        .is_err());
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_names_the_token_source() {
    let stub = Stub::start(|_, _| {
        Reply::json(
            401,
            json!({"errors": [{"message": format!("invalid token {TOKEN}")}]}),
        )
    })
    .await;
    let err = client(&stub)
        .count_sims(&SimFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("WHEREVER_SIM_TOKEN"), "{text}");
    assert!(text.contains("CountSims"), "{text}");
    assert!(text.contains("invalid token [REDACTED]"), "{text}");
    assert_no_token(&err);
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::json(500, json!({"message": "boom"}))
        } else {
            count_reply()
        }
    })
    .await;
    assert_eq!(
        client(&stub)
            .count_sims(&SimFilter::default())
            .await
            .unwrap(),
        42
    );
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn persistent_server_error_gives_up_after_the_bound() {
    let stub = Stub::start(|_, _| Reply::json(503, json!({"message": "down"}))).await;
    let err = client(&stub).status_transitions().await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("GetAvailableStatusTransitions"));
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::Http {
                status: 429,
                headers: vec![("retry-after".into(), "1".into())],
                body: String::new(),
            }
        } else {
            count_reply()
        }
    })
    .await;
    let started = Instant::now();
    assert_eq!(
        client(&stub)
            .count_sims(&SimFilter::default())
            .await
            .unwrap(),
        42
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_limit_fails_at_once() {
    let stub = Stub::start(|_, _| Reply::Http {
        status: 429,
        headers: vec![("retry-after".into(), "3600".into())],
        body: String::new(),
    })
    .await;
    let err = client(&stub)
        .count_sims(&SimFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::RateLimited { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("3600s"), "{err}");
}

#[tokio::test]
async fn null_payload_is_an_error_never_an_empty_fleet() {
    let stub = Stub::start(|i, _| {
        if i < 2 {
            Reply::data("listSims", Value::Null)
        } else {
            count_reply()
        }
    })
    .await;
    assert_eq!(
        client(&stub)
            .count_sims(&SimFilter::default())
            .await
            .unwrap(),
        42
    );
    let always_null = Stub::start(|_, _| Reply::data("listSims", Value::Null)).await;
    let err = client(&always_null)
        .list_sims_page(&SimFilter::default(), 100, None, SimFields::Plan)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::NullPayload {
                operation: "ListSims",
                field: "listSims",
                attempts: 3
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_body_is_retried_then_reported() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::Http {
                status: 200,
                headers: Vec::new(),
                body: r#"{"data":{"listSims":{"total"#.into(),
            }
        } else {
            Reply::Cut {
                announced: 500,
                body: r#"{"data":{"listSims":{"#.into(),
            }
        }
    })
    .await;
    let err = client(&stub)
        .count_sims(&SimFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Malformed { .. } | ApiError::Connection { .. }
        ),
        "{err:?}"
    );
    assert_eq!(stub.requests().len(), 3);

    let recovers = Stub::start(|i, _| {
        if i == 0 {
            Reply::Cut {
                announced: 500,
                body: "{".into(),
            }
        } else {
            count_reply()
        }
    })
    .await;
    assert_eq!(
        client(&recovers)
            .count_sims(&SimFilter::default())
            .await
            .unwrap(),
        42
    );
}

#[tokio::test]
async fn graphql_errors_show_the_server_messages() {
    let stub = Stub::start(|_, _| {
        Reply::json(
            200,
            json!({"data": null, "errors": [{"message": "Variable \"$limit\" got invalid value"}, {"message": "second"}]}),
        )
    })
    .await;
    let err = client(&stub)
        .list_batch_jobs(None, 10, None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            ApiError::GraphQl {
                operation: "ListBatchJobs",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains("got invalid value") && text.contains("second"),
        "{text}"
    );
    assert_eq!(stub.requests().len(), 1, "GraphQL errors are not retried");
}

#[tokio::test]
async fn unreachable_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(config(&url)).unwrap();
    let err = client.count_sims(&SimFilter::default()).await.unwrap_err();
    assert!(matches!(err, ApiError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");
    // Nothing was sent, so even startBatchJob reports plain unreachability.
    let params = BatchJobParams::new(
        vec!["1".into()],
        BatchJobChanges {
            statusid: Some(2),
            ..BatchJobChanges::default()
        },
    )
    .unwrap();
    let err = client.start_batch_job(&params).await.unwrap_err();
    assert!(matches!(err, ApiError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn timeout() {
    let stub = Stub::start(|_, _| Reply::Hang).await;
    let mut cfg = config(&stub.url);
    cfg.timeout = Duration::from_millis(200);
    cfg.retry.max_attempts = 2;
    let err = Client::new(cfg)
        .unwrap()
        .count_sims(&SimFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(stub.requests().len(), 2);
}

fn one_sim_job() -> BatchJobParams {
    BatchJobParams::new(
        vec!["89490000000000000015".into()],
        BatchJobChanges {
            monthly_data_limit: Some(0),
            ..BatchJobChanges::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn start_batch_job_with_unknown_outcome_is_not_resent() {
    for reply in [
        || Reply::json(502, json!({})),
        || Reply::Cut {
            announced: 100,
            body: r#"{"data":"#.into(),
        },
        || Reply::data("startBatchJob", Value::Null),
    ] {
        let stub = Stub::start(move |_, _| reply()).await;
        let err = client(&stub)
            .start_batch_job(&one_sim_job())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::OutcomeUnknown {
                    operation: "StartBatchJob",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(stub.requests().len(), 1, "{err}");
    }
}

#[tokio::test]
async fn start_batch_job_sends_only_the_include_list_and_changes() {
    let stub =
        Stub::start(|_, _| Reply::data("startBatchJob", json!({"batchJobId": 1707747614}))).await;
    let id = client(&stub).start_batch_job(&one_sim_job()).await.unwrap();
    assert_eq!(id, 1707747614);
    let body = &stub.requests()[0].body;
    assert_eq!(
        body["variables"],
        json!({"params": {"includeIccIds": ["89490000000000000015"], "monthly_data_limit": 0}})
    );
}

#[tokio::test]
async fn update_sim_refuses_data_limit_zero_without_a_request() {
    let stub = Stub::start(|_, _| count_reply()).await;
    let args = UpdateSimArgs {
        iccid: "89490000000000000015".into(),
        changes: crate::api::UpdateSimChanges {
            monthly_data_limit: Some(0),
            ..crate::api::UpdateSimChanges::default()
        },
    };
    let err = client(&stub).update_sim(&args).await.unwrap_err();
    assert!(matches!(
        err,
        ApiError::InvalidRequest {
            operation: "UpdateSim",
            ..
        }
    ));
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn update_sim_is_retried_and_decodes_the_sim() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::json(500, json!({}))
        } else {
            Reply::data(
                "updateSim",
                json!({"iccid": "8949", "statusid": 2, "providerid": 5, "monthly_sms_mo_limit": null,
                       "end_customer_label": {"name": "ACME"}, "imei_lock": {"imei": null, "enabled": true}}),
            )
        }
    })
    .await;
    let args = UpdateSimArgs {
        iccid: "8949".into(),
        changes: crate::api::UpdateSimChanges {
            monthly_sms_mo_limit: Some(None),
            end_customer_label: Some("ACME".into()),
            ..crate::api::UpdateSimChanges::default()
        },
    };
    let sim = client(&stub).update_sim(&args).await.unwrap();
    assert_eq!(sim.label(), Some("ACME"));
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].body["variables"],
        json!({"iccid": "8949", "monthly_sms_mo_limit": null, "end_customer_label": {"name": "ACME"}})
    );
    let query = requests[1].body["query"].as_str().unwrap();
    assert_eq!(
        query,
        documents::update_sim_document(["monthly_sms_mo_limit", "end_customer_label"])
    );
    assert!(!query.contains("statusid:"), "{query}");
}

#[tokio::test]
async fn batch_job_reads() {
    let job = json!({
        "batchJobId": 7, "startedAt": 1000, "finishedAt": null,
        "statusDetails": {"currentStatus": "RUNNING", "totalSims": 3, "failedSims": 1, "successfulSims": 1},
        "changes": {"statusid": null, "custom_field_1": null, "monthly_data_limit": 0, "monthly_sms_mo_limit": null,
                    "monthly_sms_mt_limit": null, "monthly_voice_mo_limit": null, "end_customer_label": "ACME", "imei_lock": null}
    });
    let job_for_stub = job.clone();
    let stub = Stub::start(move |_, body| match body["operationName"].as_str() {
        Some("GetBatchJob") => Reply::data("getBatchJob", job_for_stub.clone()),
        Some("ListBatchJobs") => Reply::data(
            "listBatchJobs",
            json!({"items": [job_for_stub.clone()], "nextToken": null, "totalCount": 1}),
        ),
        Some("ListBatchJobDetails") => Reply::data(
            "listBatchJobDetails",
            json!({"simList": [{"iccid": "1", "details": {"executedAt": 5, "errorCodes": [4, null], "status": "FAILED"}}],
                   "nextToken": "t", "totalCount": 3}),
        ),
        Some("CancelBatchJob") => Reply::data("cancelBatchJob", json!(false)),
        _ => Reply::json(400, json!({"errors": [{"message": "unknown"}]})),
    })
    .await;
    let client = client(&stub);
    let read = client.get_batch_job(7).await.unwrap();
    assert_eq!(read.status, BatchJobStatus::Running);
    assert_eq!(read.finished_at, None);
    assert_eq!(read.changes.monthly_data_limit, Some(0));
    assert_eq!(read.changes.end_customer_label.as_deref(), Some("ACME"));
    let page = client
        .list_batch_jobs(Some(BatchJobStatus::Running), 20, None)
        .await
        .unwrap();
    assert_eq!(page.items, vec![read]);
    let details = client
        .list_batch_job_details(
            7,
            &[
                BatchJobSimDetailStatus::Failed,
                BatchJobSimDetailStatus::Skipped,
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(details.sims[0].error_codes, vec![4]);
    assert_eq!(details.sims[0].status, BatchJobSimDetailStatus::Failed);
    assert_eq!(details.next_token.as_deref(), Some("t"));
    assert!(!client.cancel_batch_job(7).await.unwrap());
    let requests = stub.requests();
    assert_eq!(requests[0].body["variables"], json!({"batchJobId": 7}));
    assert_eq!(
        requests[1].body["variables"],
        json!({"filter": {"status": "RUNNING"}, "limit": 20})
    );
    assert_eq!(
        requests[2].body["variables"],
        json!({"batchJobId": 7, "filter": {"status": ["FAILED", "SKIPPED"]}})
    );
}

#[tokio::test]
async fn find_batch_jobs_matches_changes_total_and_time() {
    let job = |id: i64, started: i64, total: i64, label: &str| {
        json!({
            "batchJobId": id, "startedAt": started, "finishedAt": null,
            "statusDetails": {"currentStatus": "RUNNING", "totalSims": total, "failedSims": 0, "successfulSims": 0},
            "changes": {"end_customer_label": label}
        })
    };
    let pages = [
        json!({"items": [job(5, 9_000, 2, "ACME"), job(4, 8_000, 2, "Other"), job(3, 7_000, 3, "ACME")],
               "nextToken": "p2", "totalCount": 6}),
        json!({"items": [job(2, 6_000, 2, "ACME"), job(1, 1_000, 2, "ACME")],
               "nextToken": "p3", "totalCount": 6}),
    ];
    let stub = Stub::start(move |i, _| Reply::data("listBatchJobs", pages[i.min(1)].clone())).await;
    let params = BatchJobParams::new(
        vec!["1".into(), "2".into()],
        BatchJobChanges {
            end_customer_label: Some("ACME".into()),
            ..BatchJobChanges::default()
        },
    )
    .unwrap();
    let found = client(&stub)
        .find_batch_jobs(&params, 5_000, 10)
        .await
        .unwrap();
    let ids: Vec<i64> = found.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![5, 2]);
    // The second page already reaches before the window: no third request.
    assert_eq!(stub.requests().len(), 2);
    assert_eq!(stub.requests()[1].body["variables"]["nextToken"], "p2");
}

#[tokio::test]
async fn batch_job_results_follow_every_page_and_stop_on_a_loop() {
    let result = |iccid: &str| json!({"iccid": iccid, "details": {"executedAt": 1, "errorCodes": [], "status": "SUCCESSFUL"}});
    let pages = [
        json!({"simList": [result("1"), result("2")], "nextToken": "a", "totalCount": 3}),
        json!({"simList": [result("3")], "nextToken": null, "totalCount": 3}),
    ];
    let stub =
        Stub::start(move |i, _| Reply::data("listBatchJobDetails", pages[i.min(1)].clone())).await;
    let all = client(&stub).batch_job_results(9, &[]).await.unwrap();
    let iccids: Vec<&str> = all.iter().map(|r| r.iccid.as_str()).collect();
    assert_eq!(iccids, ["1", "2", "3"]);

    let looping = Stub::start(move |_, _| {
        Reply::data(
            "listBatchJobDetails",
            json!({"simList": [result("1")], "nextToken": "same", "totalCount": 9}),
        )
    })
    .await;
    let err = client(&looping)
        .batch_job_results(9, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Malformed { .. }), "{err:?}");
    assert_eq!(looping.requests().len(), 2);
}

fn generated_fleet() -> Vec<String> {
    let mut fleet: Vec<String> = (0..2_500u64).map(|i| format!("8949000{i:012}")).collect();
    fleet.extend((0..700u64).map(|i| format!("8988200{:012}", 500_000 + i)));
    fleet
}

#[tokio::test]
async fn fetch_reads_every_sim_with_few_round_trips() {
    let fleet = generated_fleet();
    let stub = Stub::start(fake_fleet(fleet.clone(), None)).await;
    let seen = Arc::new(AtomicU64::new(0));
    let seen_in_cb = seen.clone();
    let fetched = fetch_sims(
        &client(&stub),
        FetchScope::Everything,
        FetchOptions {
            concurrency: 4,
            progress: Some(Arc::new(move |done, total| {
                assert!(done <= total);
                seen_in_cb.store(done, Ordering::Relaxed);
            })),
            ..FetchOptions::default()
        },
    )
    .await
    .unwrap();
    let mut expected = fleet.clone();
    expected.sort();
    let got: Vec<&str> = fetched.sims.iter().map(|s| s.iccid.as_str()).collect();
    assert_eq!(got, expected);
    assert_eq!(fetched.sims_total, 3_200);
    assert_eq!(seen.load(Ordering::Relaxed), 3_200);
    let requests = stub.requests().len() as u64;
    assert_eq!(fetched.requests, requests);
    // 32 pages at least; splitting (into about two partitions per worker) adds the highest
    // ICCID of each split prefix, the first pages of prefixes split again, and partial pages.
    let bounds = stub
        .requests()
        .iter()
        .filter(|r| r.body["operationName"] == "IccidBound")
        .count() as u64;
    eprintln!("{requests} requests, {bounds} bounds");
    assert!((32..=55).contains(&requests), "{requests} requests");
}

/// The whole fleet behind `stub`, read at `concurrency`.
async fn fetch_everything(stub: &Stub, concurrency: usize) -> super::FetchedSims {
    fetch_sims(
        &client(stub),
        FetchScope::Everything,
        FetchOptions {
            concurrency,
            ..FetchOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_keeps_partitions_in_flight() {
    let fleet = generated_fleet();
    let stub = Stub::start_with_latency(Duration::from_millis(30), fake_fleet(fleet, None)).await;
    let fetched = fetch_everything(&stub, 4).await;
    assert_eq!(fetched.sims.len(), 3_200);
    let peak = stub.peak_in_flight.load(Ordering::SeqCst);
    assert!(peak >= 4, "at most {peak} requests were in flight");
    assert!(peak <= DEFAULT_MAX_IN_FLIGHT, "{peak} in flight");
}

#[tokio::test]
async fn fetch_reads_no_first_page_twice_and_pages_while_still_splitting() {
    let fleet = generated_fleet();
    let stub = Stub::start(fake_fleet(fleet, None)).await;
    let fetched = fetch_everything(&stub, 4).await;
    assert_eq!(fetched.sims.len(), 3_200);
    let requests = stub.requests();
    let prefix_of = |r: &super::stub::Received| {
        r.body["variables"]["filter"]["iccid"]["beginsWith"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // A prefix's first page is read once: the count of a partition is its first page.
    let mut first_pages: HashMap<String, usize> = HashMap::new();
    for r in &requests {
        if r.body["operationName"] == "ListSims" && r.body["variables"]["nextToken"].is_null() {
            *first_pages.entry(prefix_of(r)).or_default() += 1;
        }
    }
    assert!(
        first_pages.values().all(|&n| n == 1),
        "first pages read more than once: {first_pages:?}"
    );
    // One highest-ICCID request per split prefix, and nothing else beside pages.
    let highest: Vec<String> = requests
        .iter()
        .filter(|r| r.body["operationName"] == "IccidBound")
        .map(prefix_of)
        .collect();
    assert_eq!(highest.len(), highest.iter().collect::<HashSet<_>>().len());
    assert!(requests.iter().all(|r| matches!(
        r.body["operationName"].as_str(),
        Some("ListSims" | "IccidBound")
    )));
    // "898" (700 SIMs) is small enough at once: its second page is asked before the split of
    // "894" (2,500 SIMs) has asked its last count.
    let continued = requests
        .iter()
        .position(|r| {
            prefix_of(r).starts_with("898") && !r.body["variables"]["nextToken"].is_null()
        })
        .unwrap();
    let split = requests
        .iter()
        .rposition(|r| {
            prefix_of(r).starts_with("894") && r.body["variables"]["nextToken"].is_null()
        })
        .unwrap();
    assert!(
        continued < split,
        "paging began at request {continued}, the split's last count was request {split}"
    );
}

#[tokio::test]
async fn fetch_filters_are_unioned_and_deduplicated() {
    let fleet = generated_fleet();
    let stub = Stub::start(fake_fleet(fleet.clone(), None)).await;
    let prefix = |p: &str| SimFilter {
        iccid: Some(StringFilter {
            begins_with: Some(p.into()),
            ..StringFilter::default()
        }),
        ..SimFilter::default()
    };
    let exact = SimFilter {
        iccid: Some(StringFilter {
            eq: Some("8988200000000500003".into()),
            ..StringFilter::default()
        }),
        ..SimFilter::default()
    };
    let fetched = fetch_sims(
        &client(&stub),
        FetchScope::Filters(vec![prefix("89882"), exact, prefix("89490000000000010")]),
        FetchOptions::default(),
    )
    .await
    .unwrap();
    let expected = fleet
        .iter()
        .filter(|i| i.starts_with("89882") || i.starts_with("89490000000000010"))
        .count();
    assert_eq!(expected, 700 + 100);
    assert_eq!(fetched.sims.len(), expected);
    assert_eq!(fetched.sims_total, 3_200);
    assert!(fetched.sims.windows(2).all(|w| w[0].iccid < w[1].iccid));
}

#[tokio::test]
async fn fetch_fails_on_a_short_partition_after_one_re_read() {
    let fleet = generated_fleet();
    // Every partition under 898 loses its last SIM on every read.
    let stub = Stub::start(fake_fleet(fleet, Some("898".into()))).await;
    let result = fetch_sims(
        &client(&stub),
        FetchScope::Everything,
        FetchOptions::default(),
    )
    .await;
    let Err(err) = result else {
        panic!("a short partition must fail the fetch");
    };
    let (prefix, expected) = match &err {
        ApiError::ShortRead {
            filter,
            expected,
            got,
        } => {
            assert_eq!(*expected, got + 1);
            // The partition that failed: "898" or a longer prefix under it.
            let start = filter.find("898").expect("the failing prefix is under 898");
            let prefix: String = filter[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (prefix, *expected)
        }
        other => panic!("{other:?}"),
    };
    // Read once, re-read once (the same pages each time), then fail.
    let pages = stub
        .requests()
        .iter()
        .filter(|r| {
            r.body["operationName"] == "ListSims"
                && r.body["variables"]["filter"]["iccid"]["beginsWith"] == prefix.as_str()
        })
        .count() as u64;
    assert_eq!(pages, 2 * expected.div_ceil(100), "{prefix}: {pages} pages");
    assert!(err.to_string().contains("ListSims"));
}

#[tokio::test]
async fn fetch_of_an_empty_fleet_is_empty_not_an_error() {
    let stub = Stub::start(fake_fleet(Vec::new(), None)).await;
    let fetched = fetch_sims(
        &client(&stub),
        FetchScope::Everything,
        FetchOptions::default(),
    )
    .await
    .unwrap();
    assert!(fetched.sims.is_empty());
    assert_eq!(fetched.sims_total, 0);
}

#[tokio::test]
async fn rate_limit_spaces_requests() {
    let stub = Stub::start(|_, _| count_reply()).await;
    let mut cfg = config(&stub.url);
    cfg.rate_per_second = std::num::NonZeroU32::new(10);
    let client = Client::new(cfg).unwrap();
    let started = Instant::now();
    // No burst: 15 requests at 10/s are spaced 100 ms apart, the last 1.4 s after the first.
    let everything = SimFilter::default();
    let calls = (0..15).map(|_| client.count_sims(&everything));
    futures::future::try_join_all(calls).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.requests_sent(), 15);
}

/// At most `rps` requests in any one-second window, the first one included: a client sending
/// as fast as the limiter lets it, on a fake clock stepped by 1 ms for 3 s.
#[test]
fn the_rate_ceiling_holds_in_every_second_from_the_start() {
    use governor::clock::FakeRelativeClock;
    for rps in [1u32, 10, 25, 100] {
        let clock = FakeRelativeClock::default();
        let limiter = governor::RateLimiter::direct_with_clock(
            super::client::request_quota(std::num::NonZeroU32::new(rps).unwrap()),
            clock.clone(),
        );
        let mut sent_at_ms = Vec::new();
        for ms in 0..3000u64 {
            while limiter.check().is_ok() {
                sent_at_ms.push(ms);
            }
            clock.advance(Duration::from_millis(1));
        }
        for start in 0..2000u64 {
            let in_window = sent_at_ms
                .iter()
                .filter(|t| (start..start + 1000).contains(*t))
                .count();
            assert!(
                in_window <= rps as usize,
                "{in_window} requests in the second from {start} ms at {rps}/s"
            );
        }
        // The ceiling is also reached: about `rps` a second over the 3 s.
        assert!(
            sent_at_ms.len() >= 3 * rps as usize - 1,
            "{}",
            sent_at_ms.len()
        );
    }
}

/// A `Write` into a shared buffer, for capturing log output.
#[derive(Clone, Default)]
struct SharedBuf(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_never_show_the_token() {
    let buf = SharedBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Other tests run in parallel without a subscriber, and tracing caches a call site as
        // disabled when it first fires there: without this, the events below may be skipped.
        tracing::callsite::rebuild_interest_cache();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // The server echoes the token in every failure it reports.
            let stub = Stub::start(|i, _| match i {
                0 => Reply::json(
                    500,
                    json!({"errors": [{"message": format!("bad {TOKEN}")}]}),
                ),
                1 => Reply::json(200, json!({"data": null, "errors": [{"message": TOKEN}]})),
                _ => Reply::json(401, json!({"errors": [{"message": TOKEN}]})),
            })
            .await;
            let client = client(&stub);
            let err = client.count_sims(&SimFilter::default()).await.unwrap_err();
            assert_no_token(&err);
            let err = client.count_sims(&SimFilter::default()).await.unwrap_err();
            assert_no_token(&err);
        });
    });
    let logs = String::from_utf8_lossy(&buf.0.lock().unwrap()).to_string();
    assert!(logs.contains("API request failed"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
}

/// A fleet whose pages `serve` cuts: given the ICCIDs a `listSims` filter matches (ascending),
/// the `beginsWith` prefix, the offset the token carries and the page size, the ICCIDs of the
/// page and the next offset. `order: desc` requests (the highest ICCID) are answered straight.
fn cut_fleet(
    mut iccids: Vec<String>,
    serve: impl Fn(&[String], &str, usize, usize) -> (Vec<String>, Option<usize>)
        + Send
        + Sync
        + 'static,
) -> impl Fn(usize, &Value) -> Reply + Send + Sync + 'static {
    iccids.sort();
    move |_, body| {
        let vars = &body["variables"];
        let prefix = vars["filter"]["iccid"]["beginsWith"].as_str().unwrap_or("");
        let matching: Vec<String> = iccids
            .iter()
            .filter(|i| i.starts_with(prefix))
            .cloned()
            .collect();
        let limit = vars["limit"].as_u64().unwrap_or(100) as usize;
        let offset: usize = vars["nextToken"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let (page, next) = if vars["order"]["iccid"] == "desc" {
            (matching.iter().rev().take(limit).cloned().collect(), None)
        } else {
            serve(&matching, prefix, offset, limit)
        };
        let items: Vec<Value> = page
            .iter()
            .map(|i| json!({"iccid": i, "statusid": 2, "providerid": 5}))
            .collect();
        Reply::data(
            "listSims",
            json!({"items": items, "nextToken": next.map(|n| n.to_string()), "totalSims": matching.len()}),
        )
    }
}

/// Pages as a well-behaved server cuts them.
fn straight_page(all: &[String], offset: usize, limit: usize) -> (Vec<String>, Option<usize>) {
    let end = (offset + limit).min(all.len());
    let next = (end < all.len()).then_some(end);
    (all[offset.min(end)..end].to_vec(), next)
}

#[tokio::test]
async fn fetch_hands_pages_over_as_they_arrive_never_whole_partitions() {
    let fleet = generated_fleet();
    let stub = Stub::start(fake_fleet(fleet.clone(), None)).await;
    let client = client(&stub);
    let mut pages: Vec<(usize, Vec<String>, usize)> = Vec::new();
    let mut sink = |delivery| match delivery {
        Delivery::Page {
            partition, sims, ..
        } => pages.push((
            partition,
            sims.into_iter().map(|s| s.iccid).collect(),
            stub.requests().len(),
        )),
        Delivery::Restart { .. } => panic!("nothing is read again"),
    };
    let options = FetchOptions {
        concurrency: 4,
        ..FetchOptions::default()
    };
    let totals = fetch_pages(&client, FetchScope::Everything, options, &mut sink)
        .await
        .unwrap();
    assert_eq!(totals.sims_total, 3_200);
    assert!(pages.iter().all(|(_, sims, _)| sims.len() <= 100));
    assert!(pages.len() >= 32, "{} deliveries", pages.len());
    // The first SIMs are handed over before a quarter of the requests are sent.
    let sent = stub.requests().len();
    assert!(
        pages[0].2 * 4 < sent,
        "first page after {} of {sent}",
        pages[0].2
    );
    // Within a partition, each page continues the one before; together they are the fleet.
    let mut last: HashMap<usize, String> = HashMap::new();
    let mut all = Vec::new();
    for (partition, sims, _) in pages {
        assert!(sims.windows(2).all(|w| w[0] < w[1]));
        if let Some(before) = last.get(&partition) {
            assert!(before < &sims[0], "partition {partition} went back");
        }
        last.insert(partition, sims.last().unwrap().clone());
        all.extend(sims);
    }
    all.sort();
    let mut expected = fleet;
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn fetch_drops_the_sim_a_page_repeats_from_the_page_before() {
    let fleet = generated_fleet();
    // Every page after the first starts with the last SIM of the page before.
    let stub = Stub::start(cut_fleet(fleet.clone(), |all, _, offset, limit| {
        let (mut page, next) = straight_page(all, offset, limit);
        if offset > 0 {
            page.insert(0, all[offset - 1].clone());
        }
        (page, next)
    }))
    .await;
    let fetched = fetch_everything(&stub, 4).await;
    let mut expected = fleet;
    expected.sort();
    let got: Vec<String> = fetched.sims.into_iter().map(|s| s.iccid).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn fetch_reads_a_partition_out_of_order_again_whole() {
    let fleet = generated_fleet();
    // Under 898 (700 SIMs, one partition at concurrency 4), pages come last block first.
    let stub = Stub::start(cut_fleet(fleet.clone(), |all, prefix, offset, limit| {
        let (_, next) = straight_page(all, offset, limit);
        if !prefix.starts_with("898") {
            return straight_page(all, offset, limit);
        }
        let blocks = all.len().div_ceil(limit);
        let block = blocks - 1 - offset / limit;
        let end = ((block + 1) * limit).min(all.len());
        (all[block * limit..end].to_vec(), next)
    }))
    .await;
    let fetched = fetch_everything(&stub, 4).await;
    let mut expected = fleet;
    expected.sort();
    let got: Vec<String> = fetched.sims.into_iter().map(|s| s.iccid).collect();
    assert_eq!(got, expected);
    // Read until the order broke (two pages), then again whole (seven pages).
    let under_898 = stub
        .requests()
        .iter()
        .filter(|r| {
            r.body["operationName"] == "ListSims"
                && r.body["variables"]["order"]["iccid"] == "asc"
                && (r.body["variables"]["filter"]["iccid"]["beginsWith"].as_str())
                    .is_some_and(|p| p.starts_with("898"))
        })
        .count();
    assert_eq!(under_898, 9, "{under_898} pages under 898");
}
