//! `plan` against a stub API that misbehaves in ways the sandbox never does: a server whose
//! pages do not add up to its own `totalSims`, and one that answers garbage. The plan must fail
//! with a clear error, never print a partial plan.

mod common;

use axum::routing::post;
use axum::Router;
use common::{block_on, Simfleet};
use serde_json::{json, Value};

/// Serves `answer(query)` on 127.0.0.1:0 in a background thread; returns the URL.
fn stub(answer: fn(&str) -> String) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        block_on(async move {
            let app = Router::new().route(
                "/graphql",
                post(move |body: String| async move {
                    let query = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["query"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        answer(&query),
                    )
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        })
    });
    let addr = rx.recv().unwrap();
    format!("http://{addr}/graphql")
}

fn sim(iccid: &str) -> Value {
    json!({"iccid": iccid, "statusid": 2, "providerid": 5})
}

fn short_fleet(query: &str) -> String {
    let data = if query.contains("getAvailableStatusTransitions") {
        json!({"getAvailableStatusTransitions": []})
    } else if query.contains("listBatchJobs") {
        json!({"listBatchJobs": {"items": [], "nextToken": null, "totalCount": 0}})
    } else {
        // Three SIMs, but the server claims five.
        json!({"listSims": {
            "items": [sim("8949000000000000001"), sim("8949000000000000002"), sim("8949000000000000003")],
            "nextToken": null,
            "totalSims": 5
        }})
    };
    json!({ "data": data }).to_string()
}

fn garbage(_query: &str) -> String {
    "<html>502 Bad Gateway</html>".to_string()
}

fn spec_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("all.yaml"),
        "rules:\n  - name: everything\n    match: all\n    set:\n      monthly_sms_mo_limit: 10\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_server_that_returns_fewer_sims_than_it_counts_fails_the_plan() {
    let url = stub(short_fleet);
    let dir = spec_dir();
    let run = Simfleet::new(&["plan", dir.path().to_str().unwrap(), "--endpoint", &url])
        .env("WHEREVER_SIM_TOKEN", "t")
        .run()
        .expect_code(1);
    assert_eq!(run.stdout(), "", "no partial plan may be printed");
    let err = run.stderr();
    assert!(err.contains('5') && err.contains('3'), "{err}");
}

#[test]
fn a_server_that_answers_garbage_fails_the_plan_clearly() {
    let url = stub(garbage);
    let dir = spec_dir();
    let run = Simfleet::new(&["plan", dir.path().to_str().unwrap(), "--endpoint", &url])
        .env("WHEREVER_SIM_TOKEN", "t")
        .run()
        .expect_code(1);
    assert_eq!(run.stdout(), "");
    assert!(
        run.stderr().contains("GetAvailableStatusTransitions") || run.stderr().contains("JSON"),
        "{}",
        run.stderr()
    );
}
