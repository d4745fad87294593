//! Planning against the live fleet through the API: the transition table and running batch jobs
//! are read alongside the SIMs, which are all of them, or only what the spec's (or `--target`'s)
//! filters select on a large fleet. Each partition of the read is handed to the plan engine's
//! [`Planner`] as soon as it is complete and dropped once decided, so the fleet is never held
//! whole. Also home of the partitioned read with a progress bar that `export` uses.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::api::{self, BatchJobStatus, FetchOptions, FetchScope, ReadTotals, SimFields};
use crate::fleet::{Coverage, Sim, SimFilter, Transition};
use crate::plan::{FleetFacts, Plan, PlanRequest, Planner};
use crate::spec::Matcher;
use crate::Error;

use super::connect::{ConnectOptions, Connection};
use super::plan::PlanOptions;

/// Fleets smaller than this are always read whole: a full read is a handful of pages, cheaper
/// than counting what each rule's filter selects.
pub const PUSHDOWN_MIN_FLEET: u64 = 5_000;

/// Opens the connection, plans against the fleet as it is read, and closes the connection
/// again; the read's note (SIMs, requests, time) joins `notes`.
pub async fn plan_from_api(
    connect: &ConnectOptions,
    request: &PlanRequest<'_>,
    opts: &PlanOptions,
    notes: &mut Vec<String>,
) -> Result<Plan, Error> {
    let conn = Connection::open(connect, notes).await?;
    let concurrency = opts.concurrency.max(1);
    let last = opts.last_applied.as_deref();
    let keeper = super::last_applied::Keeper::of(last);
    let read = plan_while_reading(&conn.client, request, concurrency, opts.progress, keeper).await;
    let mut result = match (read, last) {
        (Ok((mut plan, note, kept)), Some(last)) => {
            let spec = request.spec;
            super::last_applied::attach_from_api(
                &conn.client,
                &mut plan,
                last,
                kept,
                spec,
                concurrency,
            )
            .await
            .map(|again| (plan, [Some(note), again]))
        }
        (read, _) => read.map(|(plan, note, _)| (plan, [Some(note), None])),
    };
    if let (Ok((plan, _)), Some(limit)) = (&mut result, opts.why_drift) {
        let now = super::drift::now_ms();
        super::drift::attach_evidence(&conn.client, plan, limit, concurrency, now).await;
    }
    conn.close().await;
    let (plan, read_notes) = result?;
    notes.extend(read_notes.into_iter().flatten());
    Ok(plan)
}

/// Reads the fleet and decides its SIMs partition by partition as they arrive. The transition
/// table is read alongside the first pages (three round trips less before them); partitions
/// complete before it wait for it. `keeper` keeps the SIMs `--last-applied` compares.
async fn plan_while_reading(
    client: &api::Client,
    request: &PlanRequest<'_>,
    concurrency: usize,
    progress: bool,
    mut keeper: super::last_applied::Keeper,
) -> Result<(Plan, String, Vec<Sim>), Error> {
    let started = Instant::now();
    let table: OnceLock<Vec<Transition>> = OnceLock::new();
    let context = async {
        let _ = table.set(client.status_transitions().await?);
        let mut running_batch_jobs = Vec::new();
        for status in [BatchJobStatus::Preparing, BatchJobStatus::Running] {
            let page = client.list_batch_jobs(Some(status), 100, None).await?;
            running_batch_jobs.extend(page.items.iter().map(|j| j.id));
        }
        running_batch_jobs.sort_unstable();
        Ok::<_, Error>(running_batch_jobs)
    };
    let sims = async {
        let scope = scope_to_read(client, request).await?;
        let mut decider = Decider::new(request, &table, &scope);
        let totals = fetch_into(client, scope, concurrency, progress, &mut |part| {
            keeper.page(&part);
            decider.partition(part)
        })
        .await?;
        Ok::<_, Error>((decider, totals))
    };
    let (running_batch_jobs, (decider, totals)) = futures::future::try_join(context, sims).await?;
    let note = format!(
        "read {} of {} SIMs{} in {} requests ({:.1}s, concurrency {concurrency})",
        decider.read,
        totals.sims_total,
        if decider.coverage == Coverage::PushedDown {
            " (filters pushed down)"
        } else {
            ""
        },
        client.requests_sent(),
        started.elapsed().as_secs_f64(),
    );
    let plan = decider.finish(totals.sims_total, running_batch_jobs)?;
    Ok((plan, note, keeper.kept))
}

/// The whole fleet, or on a large fleet only what `--target` or the spec's rules select
/// (pushed down as server-side filters; what they return is matched again locally).
async fn scope_to_read(
    client: &api::Client,
    request: &PlanRequest<'_>,
) -> Result<FetchScope, Error> {
    if let Some(filter) = request.target.and_then(Matcher::to_filter) {
        return Ok(FetchScope::Filters(vec![filter]));
    }
    match request.spec.pushdown_filters() {
        Some(filters) if !filters.is_empty() => {
            let total = client.count_sims(&SimFilter::default()).await?;
            Ok(if total >= PUSHDOWN_MIN_FLEET {
                FetchScope::Filters(filters)
            } else {
                FetchScope::Everything
            })
        }
        _ => Ok(FetchScope::Everything),
    }
}

/// Hands the partitions of a read to the plan engine, once the transition table is known.
struct Decider<'r> {
    request: &'r PlanRequest<'r>,
    table: &'r OnceLock<Vec<Transition>>,
    coverage: Coverage,
    planner: Option<Planner<'r>>,
    /// Partitions complete before the table was read.
    waiting: Vec<Vec<Sim>>,
    /// ICCIDs handed in so far, when the scopes read may overlap (filters pushed down).
    seen: Option<HashSet<String>>,
    /// SIMs read, each once.
    read: u64,
}

impl<'r> Decider<'r> {
    fn new(
        request: &'r PlanRequest<'r>,
        table: &'r OnceLock<Vec<Transition>>,
        scope: &FetchScope,
    ) -> Decider<'r> {
        let pushed_down = matches!(scope, FetchScope::Filters(_));
        Decider {
            request,
            table,
            coverage: if pushed_down {
                Coverage::PushedDown
            } else {
                Coverage::Full
            },
            planner: None,
            waiting: Vec::new(),
            seen: pushed_down.then(HashSet::new),
            read: 0,
        }
    }

    /// Decides one complete partition (or keeps it until the table is in).
    fn partition(&mut self, mut sims: Vec<Sim>) {
        if let Some(seen) = &mut self.seen {
            sims.retain(|sim| seen.insert(sim.iccid.clone()));
        }
        self.read += sims.len() as u64;
        if self.planner.is_none() && self.table.get().is_some() {
            self.planner = Some(self.start());
        }
        match &mut self.planner {
            Some(planner) => planner.page(&sims),
            None => self.waiting.push(sims),
        }
    }

    /// A planner with the table as read so far, that has decided what waited for it.
    fn start(&mut self) -> Planner<'r> {
        let table = self.table.get().map(Vec::as_slice);
        let mut planner = Planner::new(self.request, table, &self.coverage);
        for sims in self.waiting.drain(..) {
            planner.page(&sims);
        }
        planner
    }

    /// The plan of everything read.
    fn finish(mut self, sims_total: u64, running_batch_jobs: Vec<i64>) -> Result<Plan, Error> {
        let planner = match self.planner.take() {
            Some(planner) => planner,
            None => self.start(),
        };
        let facts = FleetFacts {
            sims_total,
            coverage: self.coverage.clone(),
            running_batch_jobs,
        };
        Ok(planner.finish(&facts)?)
    }
}

/// A progress bar on an interactive terminal, and the callback the read reports to.
fn progress_bar(progress: bool) -> (Option<indicatif::ProgressBar>, Option<api::ProgressFn>) {
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
    let report: Option<api::ProgressFn> = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }) as api::ProgressFn
    });
    (bar, report)
}

/// Reads `scope` with the partitioned fetch for the plan, with a progress bar on an interactive
/// terminal, handing each complete partition to `sink`.
async fn fetch_into(
    client: &api::Client,
    scope: FetchScope,
    concurrency: usize,
    progress: bool,
    sink: &mut api::PartitionSink<'_>,
) -> Result<ReadTotals, Error> {
    let (bar, report) = progress_bar(progress);
    let options = FetchOptions {
        concurrency: concurrency.max(1),
        fields: SimFields::Plan,
        progress: report,
    };
    let totals = api::fetch_partitions(client, scope, options, sink).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(totals)
}

/// Reads `scope` with the partitioned fetch into one list, with a progress bar on an
/// interactive terminal (for `export`).
pub async fn fetch_with_progress(
    client: &api::Client,
    scope: FetchScope,
    fields: SimFields,
    concurrency: usize,
    progress: bool,
) -> Result<api::FetchedSims, Error> {
    let (bar, report) = progress_bar(progress);
    let options = FetchOptions {
        concurrency: concurrency.max(1),
        fields,
        progress: report,
    };
    let fetched = api::fetch_sims(client, scope, options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(fetched)
}
