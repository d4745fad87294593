//! Another apply at work on the same SIMs: found before the first call, so two runs never both
//! claim the same changes.
//!
//! The API shows running work only as batch jobs: `listBatchJobs` (filtered to PREPARING, then
//! RUNNING) lists them, and `listBatchJobDetails` names each job's SIMs. A job that targets any
//! SIM of this plan stops the apply before its first call, unless `--allow-concurrent` is given.
//! `updateSim` calls leave no trace to find; those are caught afterwards by the counters (a value
//! someone else set first counts as "already set", never as "changed").

use std::collections::BTreeSet;
use std::fmt;

use crate::api::{ApiError, BatchJobStatus, Client};

use super::retry;

/// `listBatchJobs` page size when looking for running jobs.
const PAGE: u32 = 100;

/// A running batch job that targets SIMs of this plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningJob {
    pub id: i64,
    pub status: BatchJobStatus,
    /// SIMs of this plan it targets.
    pub overlap: u64,
}

impl fmt::Display for RunningJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            BatchJobStatus::Preparing => "PREPARING",
            _ => "RUNNING",
        };
        write!(
            f,
            "batch job {} ({status}) targets {} of its SIMs",
            self.id, self.overlap
        )
    }
}

/// The PREPARING or RUNNING batch jobs that target any of `iccids`.
pub(crate) async fn running_jobs(
    client: &Client,
    iccids: &BTreeSet<String>,
) -> Result<Vec<RunningJob>, ApiError> {
    let mut found = Vec::new();
    for status in [BatchJobStatus::Preparing, BatchJobStatus::Running] {
        for id in job_ids(client, status).await? {
            let targets =
                retry::again(retry::READ_TRIES, || client.batch_job_results(id, &[])).await?;
            let overlap = targets.iter().filter(|t| iccids.contains(&t.iccid)).count() as u64;
            if overlap > 0 && !found.iter().any(|j: &RunningJob| j.id == id) {
                found.push(RunningJob {
                    id,
                    status,
                    overlap,
                });
            }
        }
    }
    Ok(found)
}

/// Every job id `listBatchJobs` lists in `status` (all pages).
async fn job_ids(client: &Client, status: BatchJobStatus) -> Result<Vec<i64>, ApiError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = BTreeSet::new();
    loop {
        let page = retry::again(retry::READ_TRIES, || {
            client.list_batch_jobs(Some(status), PAGE, token.as_deref())
        })
        .await?;
        ids.extend(page.items.iter().map(|j| j.id));
        match page.next_token {
            Some(next) if seen.insert(next.clone()) => token = Some(next),
            _ => return Ok(ids),
        }
    }
}
