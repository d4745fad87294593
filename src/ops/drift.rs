//! `--why-drift`: reads the event log of the drifted SIMs whose status or IMEI lock differs
//! (at most `limit` of them, riskiest first, one `listSimEvents` page of 100 each, newest
//! first) at the configured concurrency, and attaches what it says to the plan.
//!
//! Which SIMs, and what the events mean, is decided by [`crate::plan::drift`] (pure); this
//! module only reads. A failed read is that SIM's evidence ("could not read"), not the plan's
//! failure: the plan itself is already complete and correct.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};

use crate::api::{self, SimEventQuery};
use crate::fleet::DRIFT_EVENT_TYPES;
use crate::plan::drift::{DriftReading, EVENTS_PER_SIM};
use crate::plan::Plan;

/// Reads the events `plan`'s drift needs and attaches the report to the plan. `now_ms` is the
/// clock "how long ago" is measured by.
pub async fn attach_evidence(
    client: &api::Client,
    plan: &mut Plan,
    limit: u64,
    concurrency: usize,
    now_ms: i64,
) {
    let reading = DriftReading::of(plan, limit);
    let before = client.requests_sent();
    let queries: Vec<SimEventQuery> = reading
        .to_read()
        .into_iter()
        .map(|iccid| SimEventQuery {
            iccid: iccid.to_string(),
            limit: EVENTS_PER_SIM,
            types: DRIFT_EVENT_TYPES.iter().map(|t| t.to_string()).collect(),
            newest_first: true,
            next_token: None,
        })
        .collect();
    let reads: HashMap<String, Result<Vec<crate::fleet::SimEvent>, String>> = stream::iter(queries)
        .map(|query| async move {
            let result = client
                .list_sim_events(&query)
                .await
                .map(|page| page.items)
                .map_err(|e| format!("SIM {}: {e}", query.iccid));
            (query.iccid, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let requests = client.requests_sent().saturating_sub(before);
    plan.drift = Some(reading.finish(&reads, requests, now_ms));
    if let Some(report) = &mut plan.since_last_apply {
        report.attach_evidence(&reads, limit, now_ms);
    }
}

/// Unix milliseconds now: the clock `--why-drift` reads events by.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
