//! Reading the live fleet through the API for a plan: the transition table and running batch
//! jobs alongside the SIMs, which are all of them, or only what the spec's (or `--target`'s)
//! filters select on a large fleet. Shared by `plan` and `export` (the partitioned read with a
//! progress bar).

use std::sync::Arc;
use std::time::Instant;

use crate::api::{self, BatchJobStatus, FetchOptions, FetchScope, SimFields};
use crate::fleet::{Coverage, LiveFleet, SimFilter};
use crate::plan::PlanRequest;
use crate::spec::Matcher;
use crate::Error;

use super::connect::{ConnectOptions, Connection};
use super::plan::PlanOptions;

/// Fleets smaller than this are always read whole: a full read is a handful of pages, cheaper
/// than counting what each rule's filter selects.
pub const PUSHDOWN_MIN_FLEET: u64 = 5_000;

/// Opens the connection, reads the fleet the plan needs, and closes it again; the read's note
/// (SIMs, requests, time) joins `notes`.
pub async fn read_live(
    connect: &ConnectOptions,
    request: &PlanRequest<'_>,
    opts: &PlanOptions,
    notes: &mut Vec<String>,
) -> Result<LiveFleet, Error> {
    let mut connect = connect.clone();
    let config = request.spec.config();
    if connect.requests_per_second.is_none() {
        connect.requests_per_second = config.requests_per_second;
    }
    let conn = Connection::open(&connect, notes).await?;
    let concurrency = config.concurrency.unwrap_or(opts.concurrency).max(1);
    let result = read_fleet(&conn, request, concurrency, opts.progress).await;
    conn.close().await;
    let (live, note) = result?;
    notes.push(note);
    Ok(live)
}

/// Reads the fleet through the API: the transition table, running batch jobs, and the SIMs —
/// all of them, or only what the spec's (or `--target`'s) filters select on a large fleet.
async fn read_fleet(
    conn: &Connection,
    request: &PlanRequest<'_>,
    concurrency: usize,
    progress: bool,
) -> Result<(LiveFleet, String), Error> {
    let (spec, target) = (request.spec, request.target);
    let client = &conn.client;
    let started = Instant::now();
    // The transition table and the running batch jobs do not depend on the SIMs: they are read
    // alongside them rather than before (three round trips less before the first page).
    let context = async {
        let transitions = client.status_transitions().await?;
        let mut running_batch_jobs = Vec::new();
        for status in [BatchJobStatus::Preparing, BatchJobStatus::Running] {
            let page = client.list_batch_jobs(Some(status), 100, None).await?;
            running_batch_jobs.extend(page.items.iter().map(|j| j.id));
        }
        running_batch_jobs.sort_unstable();
        Ok::<_, Error>((transitions, running_batch_jobs))
    };
    let sims = async {
        let scope = match target.and_then(Matcher::to_filter) {
            Some(filter) => FetchScope::Filters(vec![filter]),
            None => match spec.pushdown_filters() {
                Some(filters) if !filters.is_empty() => {
                    let total = client.count_sims(&SimFilter::default()).await?;
                    if total >= PUSHDOWN_MIN_FLEET {
                        FetchScope::Filters(filters)
                    } else {
                        FetchScope::Everything
                    }
                }
                _ => FetchScope::Everything,
            },
        };
        let coverage = match scope {
            FetchScope::Everything => Coverage::Full,
            FetchScope::Filters(_) => Coverage::PushedDown,
        };
        let fetched =
            fetch_with_progress(client, scope, SimFields::Plan, concurrency, progress).await?;
        Ok::<_, Error>((fetched, coverage))
    };
    let ((transitions, running_batch_jobs), (fetched, coverage)) =
        futures::future::try_join(context, sims).await?;
    let note = format!(
        "read {} of {} SIMs{} in {} requests ({:.1}s, concurrency {concurrency})",
        fetched.sims.len(),
        fetched.sims_total,
        if coverage == Coverage::PushedDown {
            " (filters pushed down)"
        } else {
            ""
        },
        client.requests_sent(),
        started.elapsed().as_secs_f64(),
    );
    Ok((
        LiveFleet {
            sims: fetched.sims,
            sims_total: fetched.sims_total,
            coverage,
            transitions: Some(transitions),
            running_batch_jobs,
        },
        note,
    ))
}

/// Reads `scope` with the partitioned fetch, with a progress bar on an interactive terminal.
/// Shared by `plan` and `export`.
pub async fn fetch_with_progress(
    client: &api::Client,
    scope: FetchScope,
    fields: SimFields,
    concurrency: usize,
    progress: bool,
) -> Result<api::FetchedSims, Error> {
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading fleet {bar:30} {pos}/{len} SIMs ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress_fn: Option<api::ProgressFn> = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }) as api::ProgressFn
    });
    let fetched = api::fetch_sims(
        client,
        scope,
        FetchOptions {
            concurrency: concurrency.max(1),
            fields,
            progress: progress_fn,
        },
    )
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(fetched)
}
