//! The API operations simfleet uses, as typed methods on [`Client`]: SIM pages and counts, the
//! status transition table, `updateSim`, and the batch job calls apply needs.
//!
//! Each method builds exactly the variables its document declares, picks the retry safety of
//! the operation, and maps the API's wire shape onto the plain types in `types`.

use std::sync::atomic::AtomicU64;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::client::{Client, Request, Safety};
use super::documents;
use super::error::ApiError;
use super::types::{
    BatchJob, BatchJobChanges, BatchJobDetailPage, BatchJobPage, BatchJobParams,
    BatchJobSimDetailStatus, BatchJobSimResult, BatchJobStatus, SimEventPage, SimEventQuery,
    SimFields, SimPage, UpdateSimArgs,
};
use crate::fleet::{Sim, SimFilter, Transition};

/// Most SIMs one `listSims` page returns.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Deserialize)]
struct WireSimList {
    #[serde(default)]
    items: Option<Vec<Sim>>,
    #[serde(rename = "nextToken", default)]
    next_token: Option<String>,
    #[serde(rename = "totalSims")]
    total_sims: u64,
}

#[derive(Deserialize)]
struct WireSimEvents {
    #[serde(default)]
    items: Option<Vec<Option<crate::fleet::SimEvent>>>,
    #[serde(rename = "nextToken", default)]
    next_token: Option<String>,
    #[serde(rename = "totalEvents", default)]
    total_events: Option<u64>,
}

#[derive(Deserialize)]
struct WireCount {
    #[serde(rename = "totalSims")]
    total_sims: u64,
}

#[derive(Deserialize)]
struct WireIccid {
    iccid: String,
}

#[derive(Deserialize)]
struct WireBound {
    #[serde(default)]
    items: Option<Vec<WireIccid>>,
    #[serde(rename = "totalSims")]
    total_sims: u64,
}

#[derive(Deserialize)]
struct WireCreated {
    #[serde(rename = "batchJobId")]
    batch_job_id: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatusDetails {
    current_status: BatchJobStatus,
    total_sims: i64,
    failed_sims: i64,
    successful_sims: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatchJob {
    batch_job_id: i64,
    started_at: i64,
    #[serde(default)]
    finished_at: Option<i64>,
    status_details: WireStatusDetails,
    changes: BatchJobChanges,
}

impl From<WireBatchJob> for BatchJob {
    fn from(w: WireBatchJob) -> BatchJob {
        BatchJob {
            id: w.batch_job_id,
            status: w.status_details.current_status,
            started_at: w.started_at,
            finished_at: w.finished_at,
            total_sims: w.status_details.total_sims,
            failed_sims: w.status_details.failed_sims,
            successful_sims: w.status_details.successful_sims,
            changes: w.changes,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatchJobList {
    #[serde(default)]
    items: Option<Vec<WireBatchJob>>,
    #[serde(default)]
    next_token: Option<String>,
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSimDetailChange {
    #[serde(default)]
    executed_at: Option<i64>,
    #[serde(default)]
    error_codes: Option<Vec<Option<i32>>>,
    status: BatchJobSimDetailStatus,
}

#[derive(Deserialize)]
struct WireSimDetail {
    iccid: String,
    details: WireSimDetailChange,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatchJobDetail {
    sim_list: Vec<WireSimDetail>,
    #[serde(default)]
    next_token: Option<String>,
    total_count: i64,
}

/// The `filter` variable: left out when it selects everything.
fn filter_value(filter: &SimFilter) -> Option<Value> {
    if filter.is_empty() {
        None
    } else {
        serde_json::to_value(filter).ok()
    }
}

impl Client {
    /// One `listSims` page ordered by ICCID ascending. `next_token: None` leaves `nextToken` out
    /// (the first page); `limit` must be 1..=100.
    pub async fn list_sims_page(
        &self,
        filter: &SimFilter,
        limit: u32,
        next_token: Option<&str>,
        fields: SimFields,
    ) -> Result<SimPage, ApiError> {
        self.list_sims_page_counted(filter, limit, next_token, fields, None)
            .await
    }

    pub(crate) async fn list_sims_page_counted(
        &self,
        filter: &SimFilter,
        limit: u32,
        next_token: Option<&str>,
        fields: SimFields,
        counter: Option<&AtomicU64>,
    ) -> Result<SimPage, ApiError> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::InvalidRequest {
                operation: "ListSims",
                reason: format!("limit {limit} is outside 1..={MAX_PAGE_SIZE}"),
            });
        }
        let mut vars = Map::new();
        if let Some(filter) = filter_value(filter) {
            vars.insert("filter".into(), filter);
        }
        vars.insert("order".into(), json!({"iccid": "asc"}));
        vars.insert("limit".into(), json!(limit));
        if let Some(token) = next_token {
            vars.insert("nextToken".into(), json!(token));
        }
        let query = match fields {
            SimFields::Plan => documents::LIST_SIMS_PLAN,
            SimFields::All => documents::LIST_SIMS_ALL,
        };
        let page: WireSimList = self
            .execute(
                Request {
                    operation: "ListSims",
                    field: "listSims",
                    query,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                counter,
            )
            .await?;
        Ok(SimPage {
            items: page.items.unwrap_or_default(),
            next_token: page.next_token,
            total_sims: page.total_sims,
        })
    }

    /// `totalSims` of a filter (one request, `limit: 1`).
    pub async fn count_sims(&self, filter: &SimFilter) -> Result<u64, ApiError> {
        self.count_sims_counted(filter, None).await
    }

    pub(crate) async fn count_sims_counted(
        &self,
        filter: &SimFilter,
        counter: Option<&AtomicU64>,
    ) -> Result<u64, ApiError> {
        let mut vars = Map::new();
        if let Some(filter) = filter_value(filter) {
            vars.insert("filter".into(), filter);
        }
        let count: WireCount = self
            .execute(
                Request {
                    operation: "CountSims",
                    field: "listSims",
                    query: documents::COUNT_SIMS,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                counter,
            )
            .await?;
        Ok(count.total_sims)
    }

    /// The lowest (or, `descending`, the highest) ICCID matching `filter`, with `totalSims`.
    pub(crate) async fn iccid_bound(
        &self,
        filter: &SimFilter,
        descending: bool,
        counter: Option<&AtomicU64>,
    ) -> Result<(Option<String>, u64), ApiError> {
        let mut vars = Map::new();
        if let Some(filter) = filter_value(filter) {
            vars.insert("filter".into(), filter);
        }
        let order = if descending { "desc" } else { "asc" };
        vars.insert("order".into(), json!({ "iccid": order }));
        let bound: WireBound = self
            .execute(
                Request {
                    operation: "IccidBound",
                    field: "listSims",
                    query: documents::ICCID_BOUND,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                counter,
            )
            .await?;
        let first = bound
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|i| i.iccid);
        Ok((first, bound.total_sims))
    }

    /// `getAvailableStatusTransitions`, sorted.
    pub async fn status_transitions(&self) -> Result<Vec<Transition>, ApiError> {
        let mut table: Vec<Transition> = self
            .execute(
                Request {
                    operation: "GetAvailableStatusTransitions",
                    field: "getAvailableStatusTransitions",
                    query: documents::STATUS_TRANSITIONS,
                    variables: json!({}),
                    safety: Safety::Idempotent,
                },
                None,
            )
            .await?;
        table.sort();
        table.dedup();
        Ok(table)
    }

    /// `updateSim` with exactly the arguments `args` sets; returns the SIM as the API reports it
    /// afterwards (plan fields). Retried like a read: it sets values, so resending is harmless.
    pub async fn update_sim(&self, args: &UpdateSimArgs) -> Result<Sim, ApiError> {
        let variables = args.to_variables()?;
        let query = documents::update_sim_document(
            variables
                .as_object()
                .into_iter()
                .flat_map(|vars| vars.keys().map(String::as_str)),
        );
        self.execute(
            Request {
                operation: "UpdateSim",
                field: "updateSim",
                query: &query,
                variables,
                safety: Safety::Idempotent,
            },
            None,
        )
        .await
    }

    /// `startBatchJob` with an include list; returns the batch job id. Not resent when the
    /// outcome is unknown: that is [`ApiError::OutcomeUnknown`], and the caller looks the job up
    /// with [`Client::list_batch_jobs`] before deciding anything.
    pub async fn start_batch_job(&self, params: &BatchJobParams) -> Result<i64, ApiError> {
        let created: WireCreated = self
            .execute(
                Request {
                    operation: "StartBatchJob",
                    field: "startBatchJob",
                    query: documents::START_BATCH_JOB,
                    variables: params.to_variables(),
                    safety: Safety::NotIdempotent,
                },
                None,
            )
            .await?;
        Ok(created.batch_job_id)
    }

    /// `getBatchJob`.
    pub async fn get_batch_job(&self, id: i64) -> Result<BatchJob, ApiError> {
        let job: WireBatchJob = self
            .execute(
                Request {
                    operation: "GetBatchJob",
                    field: "getBatchJob",
                    query: documents::GET_BATCH_JOB,
                    variables: json!({ "batchJobId": id }),
                    safety: Safety::Idempotent,
                },
                None,
            )
            .await?;
        Ok(job.into())
    }

    /// One page of `listBatchJobs` (newest first), optionally only jobs in `status`.
    pub async fn list_batch_jobs(
        &self,
        status: Option<BatchJobStatus>,
        limit: u32,
        next_token: Option<&str>,
    ) -> Result<BatchJobPage, ApiError> {
        let mut vars = Map::new();
        if let Some(status) = status {
            vars.insert("filter".into(), json!({ "status": status }));
        }
        vars.insert("limit".into(), json!(limit));
        if let Some(token) = next_token {
            vars.insert("nextToken".into(), json!(token));
        }
        let list: WireBatchJobList = self
            .execute(
                Request {
                    operation: "ListBatchJobs",
                    field: "listBatchJobs",
                    query: documents::LIST_BATCH_JOBS,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                None,
            )
            .await?;
        Ok(BatchJobPage {
            items: list
                .items
                .unwrap_or_default()
                .into_iter()
                .map(BatchJob::from)
                .collect(),
            next_token: list.next_token,
            total_count: list.total_count,
        })
    }

    /// One page of a batch job's per-SIM results, optionally only those in `statuses`.
    pub async fn list_batch_job_details(
        &self,
        id: i64,
        statuses: &[BatchJobSimDetailStatus],
        next_token: Option<&str>,
    ) -> Result<BatchJobDetailPage, ApiError> {
        let mut vars = Map::new();
        vars.insert("batchJobId".into(), json!(id));
        if !statuses.is_empty() {
            vars.insert("filter".into(), json!({ "status": statuses }));
        }
        if let Some(token) = next_token {
            vars.insert("nextToken".into(), json!(token));
        }
        let detail: WireBatchJobDetail = self
            .execute(
                Request {
                    operation: "ListBatchJobDetails",
                    field: "listBatchJobDetails",
                    query: documents::LIST_BATCH_JOB_DETAILS,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                None,
            )
            .await?;
        Ok(BatchJobDetailPage {
            sims: detail
                .sim_list
                .into_iter()
                .map(|s| BatchJobSimResult {
                    iccid: s.iccid,
                    status: s.details.status,
                    error_codes: s
                        .details
                        .error_codes
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .collect(),
                    executed_at: s.details.executed_at,
                })
                .collect(),
            next_token: detail.next_token,
            total_count: detail.total_count,
        })
    }

    /// Every per-SIM result of a batch job (all pages of `listBatchJobDetails`), optionally only
    /// those in `statuses`.
    pub async fn batch_job_results(
        &self,
        id: i64,
        statuses: &[BatchJobSimDetailStatus],
    ) -> Result<Vec<BatchJobSimResult>, ApiError> {
        let mut results = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = self
                .list_batch_job_details(id, statuses, token.as_deref())
                .await?;
            results.extend(page.sims);
            match page.next_token {
                None => return Ok(results),
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(ApiError::Malformed {
                        operation: "ListBatchJobDetails",
                        attempts: 1,
                        detail: format!(
                            "batch job {id}: the API returned nextToken {next:?} twice; \
                             its pages do not end"
                        ),
                    })
                }
                Some(next) => token = Some(next),
            }
        }
    }

    /// Batch jobs that could be the one `params` started, newest first: same changes, as many
    /// SIMs as the include list, started at or after `started_after_ms` (Unix milliseconds).
    /// Used after [`ApiError::OutcomeUnknown`]: exactly one candidate means the job was
    /// started; none means it was not; several are ambiguous (re-read the SIMs instead).
    /// Reads at most `max_pages` pages of `listBatchJobs`.
    pub async fn find_batch_jobs(
        &self,
        params: &BatchJobParams,
        started_after_ms: i64,
        max_pages: u32,
    ) -> Result<Vec<BatchJob>, ApiError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..max_pages.max(1) {
            let page = self.list_batch_jobs(None, 50, token.as_deref()).await?;
            let mut older = false;
            for job in page.items {
                if job.started_at < started_after_ms {
                    older = true;
                } else if job.changes == params.changes
                    && job.total_sims == params.include_iccids().len() as i64
                {
                    found.push(job);
                }
            }
            // Jobs come newest first: once one predates the window, the rest do too.
            match page.next_token {
                Some(next) if !older => token = Some(next),
                _ => break,
            }
        }
        Ok(found)
    }

    /// `cancelBatchJob`; `true` when the API accepted the cancellation (it completes
    /// asynchronously).
    pub async fn cancel_batch_job(&self, id: i64) -> Result<bool, ApiError> {
        self.execute(
            Request {
                operation: "CancelBatchJob",
                field: "cancelBatchJob",
                query: documents::CANCEL_BATCH_JOB,
                variables: json!({ "batchJobId": id }),
                safety: Safety::Idempotent,
            },
            None,
        )
        .await
    }

    /// One page of `listSimEvents`: the SIM's events of `query.types` (all types when empty),
    /// newest or oldest first. `limit` must be 1..=100 (the reference's bounds).
    pub async fn list_sim_events(&self, query: &SimEventQuery) -> Result<SimEventPage, ApiError> {
        if !(1..=MAX_PAGE_SIZE).contains(&query.limit) {
            return Err(ApiError::InvalidRequest {
                operation: "ListSimEvents",
                reason: format!("limit {} is outside 1..={MAX_PAGE_SIZE}", query.limit),
            });
        }
        let mut vars = Map::new();
        vars.insert("iccid".into(), json!(query.iccid));
        vars.insert("limit".into(), json!(query.limit));
        if let Some(token) = &query.next_token {
            vars.insert("nextToken".into(), json!(token));
        }
        if !query.types.is_empty() {
            vars.insert(
                "filterOptions".into(),
                json!({ "type": { "in": query.types } }),
            );
        }
        let order = if query.newest_first { "desc" } else { "asc" };
        vars.insert("order".into(), json!({ "timestampMilliseconds": order }));
        let page: WireSimEvents = self
            .execute(
                Request {
                    operation: "ListSimEvents",
                    field: "listSimEvents",
                    query: documents::LIST_SIM_EVENTS,
                    variables: Value::Object(vars),
                    safety: Safety::Idempotent,
                },
                None,
            )
            .await?;
        Ok(SimEventPage {
            items: page
                .items
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect(),
            next_token: page.next_token,
            total_events: page.total_events,
        })
    }
}
