//! Apply's retry budget, stated once: how often each step of an apply is tried before its SIMs
//! are given up to verification (and the run fails).
//!
//! Every API request is already retried by the client ([`crate::api::RetryPolicy`]: 5 attempts
//! with exponential backoff for reads and value-setting mutations). On top of that, apply tries
//! each of its own steps again when the failure was transient (no answer, a 5xx, a 429, a
//! truncated or `null` answer), because giving up one step fails every SIM behind it. A failure
//! that says the request is wrong (GraphQL errors, 4xx) is never retried. `startBatchJob` is not
//! idempotent: an answer that does not say whether the job was started is first settled by
//! looking the job up with `listBatchJobs`, and only a job that is certainly not there is sent
//! again.

use crate::api::ApiError;

/// `startBatchJob` sends per batch action (the first included). Each ambiguous answer is
/// settled by a lookup before the next send.
pub const START_SENDS: u32 = 6;
/// `listBatchJobs` lookups that may fail in a row while settling one ambiguous start.
pub const LOOKUP_TRIES: u32 = 4;
/// `updateSim` calls per action (each with the client's own retries).
pub const UPDATE_TRIES: u32 = 4;
/// Re-reads of the touched SIMs (the pre-flight re-check and verification), and reads of a
/// finished batch job's per-SIM results.
pub const READ_TRIES: u32 = 4;
/// `getBatchJob` polls that may fail in a row (after the client's own retries) before the job
/// is given up to verification.
pub const POLL_FAILURES: u32 = 8;

/// True when trying the same step again may succeed: the API did not refuse the request itself.
pub fn transient(error: &ApiError) -> bool {
    match error {
        ApiError::Unreachable { .. }
        | ApiError::Timeout { .. }
        | ApiError::Connection { .. }
        | ApiError::RateLimited { .. }
        | ApiError::Server { .. }
        | ApiError::Malformed { .. }
        | ApiError::NullPayload { .. }
        | ApiError::ShortRead { .. }
        | ApiError::OutcomeUnknown { .. } => true,
        ApiError::Unauthorized { .. }
        | ApiError::HttpStatus { .. }
        | ApiError::GraphQl { .. }
        | ApiError::InvalidRequest { .. }
        | ApiError::Config(_) => false,
    }
}

/// Runs `step` up to `tries` times while it fails transiently; the last error otherwise.
pub async fn again<T, F, Fut>(tries: u32, mut step: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut tried = 0;
    loop {
        tried += 1;
        match step().await {
            Ok(value) => return Ok(value),
            Err(e) if tried < tries.max(1) && transient(&e) => {
                tokio::time::sleep(pause(tried)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The pause before apply's own next try: the client has already backed off, so a short,
/// growing pause is enough (0.5 s, 1 s, 2 s, …, at most 8 s).
pub fn pause(tried: u32) -> std::time::Duration {
    std::time::Duration::from_millis(500u64 << tried.saturating_sub(1).min(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn server() -> ApiError {
        ApiError::Server {
            operation: "UpdateSim",
            status: 500,
            attempts: 5,
            body: String::new(),
        }
    }

    /// docs/apply.md states the budget; it must say what this file does.
    #[test]
    fn the_documented_budget_is_this_one() {
        let doc = include_str!("../../docs/apply.md");
        for (row, value) in [
            ("`startBatchJob` sends per batch action", START_SENDS),
            (
                "`listBatchJobs` lookups that may fail in a row",
                LOOKUP_TRIES,
            ),
            ("`updateSim` per action", UPDATE_TRIES),
            ("re-reading the touched SIMs", READ_TRIES),
            ("`getBatchJob` polls that may fail in a row", POLL_FAILURES),
        ] {
            let line = doc
                .lines()
                .find(|l| l.starts_with(&format!("| {row}")))
                .unwrap_or_else(|| panic!("docs/apply.md has no retry budget row for {row}"));
            assert!(
                line.ends_with(&format!("| {value} |")),
                "{line} (code: {value})"
            );
        }
    }

    #[tokio::test]
    async fn transient_failures_are_tried_again_up_to_the_budget() {
        let calls = AtomicU32::new(0);
        let result: Result<(), ApiError> = again(3, || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(server())
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_refusal_is_not_tried_again() {
        let calls = AtomicU32::new(0);
        let result: Result<(), ApiError> = again(3, || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::GraphQl {
                operation: "UpdateSim",
                messages: vec!["bad".into()],
            })
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
