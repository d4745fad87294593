//! The cost of one `listSims` page (ICCID order, limit 100) against the size of the fleet.
//!
//! A check at a reduced size runs with every `cargo test`: a page from 100,000 SIMs costs at
//! most a few times a page from 1,000 (a cost that grew with the fleet would be about 100 times).
//! The full-size measurement (1,000 and 1,000,000 SIMs) is ignored by default; run it with
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

/// The fastest of `rounds` runs of `pages` pages: the figure least disturbed by other work on a
/// shared machine.
async fn best_per_page(n: usize, rounds: usize, pages: usize, filter: Value) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        best = best.min(per_page(n, pages, filter.clone()).await.0);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_sims_page_cost_does_not_grow_with_the_fleet() {
    for filter in [Value::Null, json!({ "iccid": { "beginsWith": "8988303" } })] {
        let small = best_per_page(1_000, 3, 40, filter.clone()).await;
        let large = best_per_page(100_000, 3, 40, filter.clone()).await;
        // 100 times the SIMs; a page that scanned the fleet would cost about 100 times more.
        // The bound leaves room for a busy machine, and 2 ms for the cost of the round trip.
        let bound = small * 5 + Duration::from_millis(2);
        assert!(
            large <= bound,
            "filter {filter}: a page costs {large:?} with 100,000 SIMs against {small:?} with 1,000 \
             (bound {bound:?}): the page cost grows with the fleet"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for BENCHMARKS.md"]
async fn list_sims_page_cost_measured_at_1k_and_1m_sims() {
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
