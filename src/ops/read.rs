//! Planning against the live fleet through the API: the transition table and running batch jobs
//! are read alongside the SIMs, which are all of them, or only what the spec's (or `--target`'s)
//! filters select on a large fleet. Each page of the read is handed to the plan engine's
//! [`Planner`] as it arrives and dropped once decided, so what a read holds is the pages in
//! flight and the plan, never the fleet. Also home of the partitioned read with a progress bar
//! that `export` uses.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::api::{self, BatchJobStatus, Delivery, FetchOptions, FetchScope, ReadTotals, SimFields};
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

/// Reads the fleet and decides its SIMs page by page as they arrive. The transition table is
/// read alongside the first pages (three round trips less before them); pages in before it
/// wait for it. `keeper` keeps the SIMs `--last-applied` compares.
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
        let totals = fetch_into(client, scope, concurrency, progress, &mut |delivery| {
            if let Delivery::Page { sims, .. } = &delivery {
                keeper.page(sims);
            }
            decider.take(delivery)
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

/// Hands the pages of a read to the plan engine, once the transition table is known.
struct Decider<'r> {
    request: &'r PlanRequest<'r>,
    table: &'r OnceLock<Vec<Transition>>,
    coverage: Coverage,
    planner: Option<Planner<'r>>,
    /// Pages in before the table was read, with their partition.
    waiting: Vec<(usize, Vec<Sim>)>,
    /// When the scopes read may overlap (filters pushed down): each ICCID handed in so far, with
    /// the partition that handed it in (a partition read again hands its SIMs in again).
    seen: Option<HashMap<String, usize>>,
    /// SIMs read, each once.
    read: u64,
    /// SIMs each partition handed in (taken back from `read` when it is read again).
    per_partition: HashMap<usize, u64>,
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
            seen: pushed_down.then(HashMap::new),
            read: 0,
            per_partition: HashMap::new(),
        }
    }

    /// Decides one page (or keeps it until the table is in), or forgets a partition read again.
    fn take(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Page {
                partition, sims, ..
            } => self.page(partition, sims),
            Delivery::Restart { partition } => self.forget(partition),
        }
    }

    fn page(&mut self, partition: usize, mut sims: Vec<Sim>) {
        if let Some(seen) = &mut self.seen {
            sims.retain(|sim| match seen.entry(sim.iccid.clone()) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(free) => {
                    free.insert(partition);
                    true
                }
            });
        }
        self.read += sims.len() as u64;
        *self.per_partition.entry(partition).or_insert(0) += sims.len() as u64;
        if self.planner.is_none() && self.table.get().is_some() {
            self.planner = Some(self.start());
        }
        match &mut self.planner {
            Some(planner) => planner.partition_page(partition, &sims),
            None => self.waiting.push((partition, sims)),
        }
    }

    /// Partition `partition` is read again: what it handed in no longer counts.
    fn forget(&mut self, partition: usize) {
        if let Some(seen) = &mut self.seen {
            seen.retain(|_, p| *p != partition);
        }
        self.read -= self.per_partition.remove(&partition).unwrap_or(0);
        match &mut self.planner {
            Some(planner) => planner.forget_partition(partition),
            None => self.waiting.retain(|(p, _)| *p != partition),
        }
    }

    /// A planner with the table as read so far, that has decided what waited for it.
    fn start(&mut self) -> Planner<'r> {
        let table = self.table.get().map(Vec::as_slice);
        let mut planner = Planner::new(self.request, table, &self.coverage);
        for (partition, sims) in self.waiting.drain(..) {
            planner.partition_page(partition, &sims);
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
/// terminal, handing each page to `sink`.
async fn fetch_into(
    client: &api::Client,
    scope: FetchScope,
    concurrency: usize,
    progress: bool,
    sink: &mut api::PageSink<'_>,
) -> Result<ReadTotals, Error> {
    let (bar, report) = progress_bar(progress);
    let options = FetchOptions {
        concurrency: concurrency.max(1),
        fields: SimFields::Plan,
        progress: report,
    };
    let totals = api::fetch_pages(client, scope, options, sink).await?;
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
