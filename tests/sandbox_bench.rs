//! A measurement, not a check (ignored by default): the cost of one `listSims` page (ICCID
//! order, limit 100) with 1,000 and with 1,000,000 generated SIMs. Run with
//! `cargo test --test sandbox_bench -- --ignored --nocapture`; the figures go to BENCHMARKS.md.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use simfleet::sandbox::{generate, Sandbox, SandboxConfig};

async fn per_page(n: usize, pages: usize, filter: Value) -> (Duration, Duration) {
    let started = Instant::now();
    let fleet = generate(n, 1);
    let generated = started.elapsed();
    let sb = Sandbox::start(SandboxConfig::default(), fleet)
        .await
        .expect("starts");
    let client = reqwest::Client::new();
    let q = "query($f: SimFilterInput, $t: String) { listSims(filter: $f, limit: 100, nextToken: $t) { items { iccid statusid monthly_data_limit } nextToken totalSims } }";
    let mut token = Value::Null;
    let mut done = 0;
    let start = Instant::now();
    while done < pages {
        let v: Value = client
            .post(sb.url())
            .header("Authorization", "sandbox")
            .json(&json!({ "query": q, "variables": { "f": filter, "t": token } }))
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON");
        token = v["data"]["listSims"]["nextToken"].clone();
        assert!(v["data"]["listSims"]["items"].is_array(), "{v}");
        done += 1;
        if token.is_null() {
            token = Value::Null;
        }
    }
    let per = start.elapsed() / pages as u32;
    sb.shutdown().await;
    (per, generated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for BENCHMARKS.md"]
async fn list_sims_page_cost_does_not_grow_with_the_fleet() {
    for (n, filter) in [
        (1_000, Value::Null),
        (1_000_000, Value::Null),
        (1_000, json!({ "iccid": { "beginsWith": "8988303" } })),
        (1_000_000, json!({ "iccid": { "beginsWith": "8988303" } })),
    ] {
        let (per, generated) = per_page(n, 500, filter.clone()).await;
        println!(
            "n={n:>9} filter={filter}: {:>8.3} ms/page (500 pages, limit 100); generate took {:.2} s",
            per.as_secs_f64() * 1000.0,
            generated.as_secs_f64()
        );
    }
}
