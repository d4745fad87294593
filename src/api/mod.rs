//! The wherever SIM GraphQL API client: requests with retries, a rate limit and typed errors;
//! the operations plan and apply need; and the fast partitioned read of the live fleet.
//!
//! Depends on `crate::fleet` only, whose mutation inputs are what it sends (the plan's actions
//! are made of the same types: one definition). Documents are hand-written constants checked against the SDL
//! by a test; inputs serialise to exactly the arguments to send.

mod client;
pub mod documents;
mod error;
mod fetch;
mod operations;
mod token;
mod types;

#[cfg(test)]
mod stub;
#[cfg(test)]
mod tests;

pub use client::{
    Client, ClientConfig, RetryPolicy, DEFAULT_ENDPOINT, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT,
};
pub use error::ApiError;
pub use fetch::{
    fetch_pages, fetch_sims, Delivery, FetchOptions, FetchScope, FetchedSims, PageSink, ProgressFn,
    ReadTotals,
};
pub use operations::MAX_PAGE_SIZE;
pub use token::{load_token, TOKEN_ENV};
pub use types::{
    describe_batch_error, is_already_set, BatchJob, BatchJobChanges, BatchJobDetailPage,
    BatchJobPage, BatchJobParams, BatchJobSimDetailStatus, BatchJobSimResult, BatchJobStatus,
    ImeiLockInput, SimEventPage, SimEventQuery, SimFields, SimPage, UpdateSimArgs,
    UpdateSimChanges, BATCH_ERROR_CODES, MAX_BATCH_ICCIDS,
};
