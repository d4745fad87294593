//! Fast reads of the live fleet: split a scope into disjoint ICCID-prefix partitions sized with
//! `totalSims` counts, and page the partitions concurrently while the split goes on.
//!
//! `listSims` returns at most 100 SIMs a page and pages chain through opaque tokens, so one
//! filter is read strictly sequentially. A fleet of N SIMs needs ceil(N/100) pages; with C
//! requests in flight the read takes about ceil(N/100)/C round trips. Three choices keep it
//! close to that:
//!
//! - **One pool of C requests** for the split and the pages alike ([`Reader`]): a partition
//!   starts paging the moment it is known to be small enough, while other prefixes are still
//!   being counted, instead of after a split of several rounds (measured: the rounds left
//!   workers idle for a tenth of the read).
//! - **Counts are first pages**: a prefix is counted with a full first page (`totalSims` comes
//!   with it), so a partition that is not split further already has its first page. Only the
//!   pages of prefixes that are split again are read twice.
//! - **Longest chain first**: the next request goes to the partition with the most pages left,
//!   so the chains end together rather than one long chain ending alone.
//!
//! Each page is handed to the caller as it arrives ([`Delivery`]), so a read holds the pages in
//! flight, not the fleet (a million SIMs are half a gigabyte). A partition's pages are handed
//! over in ICCID order, a SIM repeated from the page before dropped. Every partition's item count
//! is checked against its `totalSims` at its end (one re-read, then [`ApiError::ShortRead`]), so
//! a server that drops items mid-chain cannot shrink the fleet; a re-read is announced first
//! ([`Delivery::Restart`]) so the caller forgets what the partition handed over. A partition
//! whose pages go back in ICCID order is read again and held whole until its end. The split
//! decisions are a pure state machine ([`Partitioner`]) fed with counts, so they are unit-tested
//! without a network.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;

use super::client::Client;
use super::error::ApiError;
use super::operations::MAX_PAGE_SIZE;
use super::types::{SimFields, SimPage};
use crate::fleet::{Sim, SimFilter, StringFilter};

/// Prefixes this long are never split further: ICCIDs have 19 or 20 digits, so a longer prefix
/// would start to equal whole ICCIDs, which no child prefix matches.
const MAX_SPLIT_PREFIX_LEN: usize = 19;

/// A partition is split only when it holds more than this many pages beyond its even share:
/// a split costs two round trips (bounds, then counts) before its first page.
const SPLIT_SLACK_PAGES: u64 = 4;

/// Extra pages a partition may take beyond what its `totalSims` implies before the token chain
/// is declared endless.
const PAGE_SLACK: u64 = 3;

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchScope {
    /// The whole fleet.
    Everything,
    /// The union of these server-side filters (duplicates dropped).
    Filters(Vec<SimFilter>),
}

/// Reports `(SIMs read so far, SIMs expected)`.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How to read.
#[derive(Clone)]
pub struct FetchOptions {
    /// Requests in flight at once (default 8), counting requests and pages alike.
    pub concurrency: usize,
    pub fields: SimFields,
    pub progress: Option<ProgressFn>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            concurrency: 8,
            fields: SimFields::Plan,
            progress: None,
        }
    }
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOptions")
            .field("concurrency", &self.concurrency)
            .field("fields", &self.fields)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The SIMs read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSims {
    /// Sorted by ICCID, each ICCID once.
    pub sims: Vec<Sim>,
    /// `totalSims` without a filter: the size of the whole fleet.
    pub sims_total: u64,
    /// HTTP requests this fetch sent, retries included.
    pub requests: u64,
}

/// What a read that handed its partitions to a sink found besides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTotals {
    /// `totalSims` without a filter: the size of the whole fleet.
    pub sims_total: u64,
    /// HTTP requests this read sent, retries included.
    pub requests: u64,
}

/// Reads `scope` as fast as the partitioning allows (see the module documentation), handing
/// each page to `sink` as soon as it is in (see [`Delivery`]), so a caller can use and drop SIMs
/// while the rest are still being read: what the read holds is the pages in flight, not the
/// fleet.
pub async fn fetch_pages(
    client: &Client,
    scope: FetchScope,
    opts: FetchOptions,
    sink: &mut PageSink<'_>,
) -> Result<ReadTotals, ApiError> {
    let started = std::time::Instant::now();
    let counter = AtomicU64::new(0);
    let (filters, whole_fleet) = match scope {
        FetchScope::Everything => (vec![SimFilter::default()], true),
        FetchScope::Filters(filters) => {
            let mut unique: Vec<SimFilter> = Vec::with_capacity(filters.len());
            for f in filters {
                if !unique.contains(&f) {
                    unique.push(f);
                }
            }
            (unique, false)
        }
    };
    let reader = Reader::new(client, filters, &opts, &counter, sink);
    let (read, sims_total) = if whole_fleet {
        let read = reader.run().await?;
        let total = read.scope_totals.first().copied().flatten().unwrap_or(0);
        (read, total)
    } else {
        futures::future::try_join(
            reader.run(),
            client.count_sims_counted(&SimFilter::default(), Some(&counter)),
        )
        .await?
    };
    drop(read);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        requests = counter.load(Ordering::Relaxed),
        "every partition read"
    );
    Ok(ReadTotals {
        sims_total,
        requests: counter.load(Ordering::Relaxed),
    })
}

/// Reads `scope` into one list in ICCID order (see [`fetch_pages`]).
pub async fn fetch_sims(
    client: &Client,
    scope: FetchScope,
    opts: FetchOptions,
) -> Result<FetchedSims, ApiError> {
    let mut partitions: Vec<Vec<Sim>> = Vec::new();
    let mut collect = |delivery| match delivery {
        Delivery::Page {
            partition,
            expected,
            sims,
        } => {
            if partitions.len() <= partition {
                partitions.resize_with(partition + 1, Vec::new);
            }
            let part = &mut partitions[partition];
            if part.is_empty() {
                // Sized once: growing by doubling moved every SIM of a partition about twice.
                part.reserve_exact(usize::try_from(expected).unwrap_or(0).min(1 << 20));
            }
            part.extend(sims);
        }
        Delivery::Restart { partition } => {
            if let Some(part) = partitions.get_mut(partition) {
                *part = Vec::new();
            }
        }
    };
    let totals = fetch_pages(client, scope, opts, &mut collect).await?;
    Ok(FetchedSims {
        sims: merge_partitions(partitions),
        sims_total: totals.sims_total,
        requests: totals.requests,
    })
}

/// One list in ICCID order, the first copy of a SIM read twice kept. Each partition is sorted
/// and partitions of one scope are disjoint prefixes, so ordered by their first ICCID they
/// usually concatenate into order; only overlapping scopes need the sort (which moved a tenth of
/// a second of memory on 100,000 SIMs). No map of the whole fleet is built beside the list (a
/// million SIMs are half a gigabyte).
fn merge_partitions(mut partitions: Vec<Vec<Sim>>) -> Vec<Sim> {
    partitions.retain(|p| !p.is_empty());
    partitions.sort_unstable_by(|a, b| a[0].iccid.cmp(&b[0].iccid));
    let in_order = partitions
        .windows(2)
        .all(|w| w[0].last().map(|s| &s.iccid) < w[1].first().map(|s| &s.iccid));
    let mut sims: Vec<Sim> = Vec::with_capacity(partitions.iter().map(Vec::len).sum());
    for part in partitions {
        sims.extend(part);
    }
    if !in_order {
        sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        sims.dedup_by(|later, earlier| later.iccid == earlier.iccid);
    }
    sims
}

struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    callback: Option<ProgressFn>,
}

impl Progress {
    fn expect(&self, more: u64) {
        self.total.fetch_add(more, Ordering::Relaxed);
        self.report(0);
    }

    fn report(&self, add: u64) {
        let done = self.done.fetch_add(add, Ordering::Relaxed) + add;
        if let Some(callback) = &self.callback {
            // A re-read or a growing fleet can read more than was counted: never report done > total.
            let total = self.total.load(Ordering::Relaxed).max(done);
            callback(done, total);
        }
    }
}

/// A request the reader can send next.
#[derive(Debug)]
enum Job {
    /// The first page (ascending) and the highest ICCID of a prefix: the prefix's count, and
    /// where its ICCIDs start and end.
    Bounds { scope: usize, prefix: String },
    /// The highest ICCID of a prefix whose first page is in (from its count).
    Highest { scope: usize, prefix: String },
    /// The first page of a prefix, for its `totalSims`.
    Count { scope: usize, prefix: String },
    /// The next page of a partition.
    Page { chain: usize },
}

/// What a [`Job`] brought back.
enum Answer {
    Bounds {
        scope: usize,
        prefix: String,
        first: SimPage,
        highest: Option<String>,
    },
    Highest {
        scope: usize,
        prefix: String,
        highest: Option<String>,
    },
    Count {
        scope: usize,
        prefix: String,
        first: SimPage,
    },
    Page {
        chain: usize,
        page: SimPage,
    },
}

impl Job {
    /// HTTP requests the job holds in flight.
    fn requests(&self) -> usize {
        match self {
            Job::Bounds { .. } => 2,
            Job::Highest { .. } | Job::Count { .. } | Job::Page { .. } => 1,
        }
    }
}

/// One scope of the read: a filter, split under its own [`Partitioner`] once its size is known.
struct ScopeRead {
    filter: SimFilter,
    partitioner: Option<Partitioner>,
    total: Option<u64>,
}

/// One partition being paged: a disjoint slice of a scope.
struct Chain {
    filter: SimFilter,
    /// The count the partitioner saw, for scheduling before the first page is in.
    planned: Option<u64>,
    sims: Vec<Sim>,
    /// `totalSims` the first page of this attempt reported.
    expected: Option<u64>,
    pages: u64,
    token: Option<String>,
    re_read: bool,
    /// SIMs handed to the sink in this attempt.
    delivered: u64,
    /// The highest ICCID handed to the sink in this attempt.
    last: Option<String>,
    /// The server's pages came out of ICCID order: this partition is read whole into `sims`,
    /// sorted, and handed over at its end.
    hold: bool,
}

impl Chain {
    fn pages_left(&self) -> u64 {
        match self.expected.or(self.planned) {
            Some(count) => count
                .div_ceil(u64::from(MAX_PAGE_SIZE))
                .saturating_sub(self.pages),
            // Unknown size (an `eq`/`in` scope): start it early.
            None => u64::MAX,
        }
    }
}

/// What a read hands its caller as it goes, so that SIMs can be used and dropped page by page
/// while the rest are still being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// SIMs of partition `partition`, in ascending ICCID order, each above every SIM that
    /// partition delivered before (so each ICCID once within it). Partitions of one scope are
    /// disjoint; those of different scopes (filters pushed down) may share SIMs.
    Page {
        partition: usize,
        /// The partition's `totalSims`, to size a buffer that collects it.
        expected: u64,
        sims: Vec<Sim>,
    },
    /// Partition `partition` is read again from its start (it came back short, or out of
    /// order): forget every SIM it delivered.
    Restart { partition: usize },
}

/// Where a read hands its [`Delivery`]s.
pub type PageSink<'s> = dyn FnMut(Delivery) + Send + 's;

/// What a finished read holds besides its partitions.
struct ReadResult {
    /// Each scope's `totalSims`, where its root was counted.
    scope_totals: Vec<Option<u64>>,
}

/// The scheduler: at most `concurrency` requests in flight, split queries first (they open up
/// more partitions), then the next page of the partition with the most pages left.
struct Reader<'a> {
    client: &'a Client,
    counter: &'a AtomicU64,
    fields: SimFields,
    concurrency: usize,
    progress: Progress,
    scopes: Vec<ScopeRead>,
    discovery: VecDeque<Job>,
    /// Chains waiting for their next page, by pages left (then by age).
    ready: BinaryHeap<(u64, std::cmp::Reverse<usize>)>,
    chains: Vec<Chain>,
    /// First pages read while splitting, kept until the prefix turns out to be a partition
    /// (the page is its first) or to be split again (the page is dropped).
    first_pages: HashMap<(usize, String), SimPage>,
    sink: &'a mut PageSink<'a>,
}

impl<'a> Reader<'a> {
    fn new(
        client: &'a Client,
        filters: Vec<SimFilter>,
        opts: &FetchOptions,
        counter: &'a AtomicU64,
        sink: &'a mut PageSink<'a>,
    ) -> Reader<'a> {
        let mut reader = Reader {
            client,
            counter,
            fields: opts.fields,
            concurrency: opts.concurrency.max(1),
            progress: Progress {
                done: AtomicU64::new(0),
                total: AtomicU64::new(0),
                callback: opts.progress.clone(),
            },
            scopes: Vec::with_capacity(filters.len()),
            discovery: VecDeque::new(),
            ready: BinaryHeap::new(),
            chains: Vec::new(),
            first_pages: HashMap::new(),
            sink,
        };
        for (scope, filter) in filters.into_iter().enumerate() {
            match root_prefix(&filter) {
                Some(prefix) => reader.discovery.push_back(Job::Bounds { scope, prefix }),
                // `eq`/`in` on the ICCID: no prefix to split, one chain.
                None => {
                    let chain = reader.new_chain(filter.clone(), None);
                    reader.queue(chain);
                }
            }
            reader.scopes.push(ScopeRead {
                filter,
                partitioner: None,
                total: None,
            });
        }
        reader
    }

    async fn run(mut self) -> Result<ReadResult, ApiError> {
        self.progress.report(0);
        // Each future carries the requests it holds, given back when it ends.
        let mut in_flight: FuturesUnordered<BoxFuture<'a, (usize, Result<Answer, ApiError>)>> =
            FuturesUnordered::new();
        let mut requests_in_flight = 0;
        loop {
            while requests_in_flight < self.concurrency {
                let Some(job) = self.next_job() else { break };
                let requests = job.requests();
                requests_in_flight += requests;
                in_flight.push(self.send(job).map(move |answer| (requests, answer)).boxed());
            }
            let Some((requests, answer)) = in_flight.next().await else {
                break;
            };
            requests_in_flight -= requests;
            self.take(answer?)?;
        }
        Ok(ReadResult {
            scope_totals: self.scopes.iter().map(|s| s.total).collect(),
        })
    }

    fn next_job(&mut self) -> Option<Job> {
        if let Some(job) = self.discovery.pop_front() {
            return Some(job);
        }
        let (_, std::cmp::Reverse(chain)) = self.ready.pop()?;
        Some(Job::Page { chain })
    }

    /// The request for `job`, owning everything it needs but the client and the counter.
    fn send(&self, job: Job) -> BoxFuture<'a, Result<Answer, ApiError>> {
        let (client, counter, fields) = (self.client, self.counter, self.fields);
        match job {
            Job::Bounds { scope, prefix } => {
                let filter = with_prefix(&self.scopes[scope].filter, &prefix);
                async move {
                    let (first, (highest, _)) = futures::future::try_join(
                        client.list_sims_page_counted(
                            &filter,
                            MAX_PAGE_SIZE,
                            None,
                            fields,
                            Some(counter),
                        ),
                        client.iccid_bound(&filter, true, Some(counter)),
                    )
                    .await?;
                    Ok(Answer::Bounds {
                        scope,
                        prefix,
                        first,
                        highest,
                    })
                }
                .boxed()
            }
            Job::Highest { scope, prefix } => {
                let filter = with_prefix(&self.scopes[scope].filter, &prefix);
                async move {
                    let (highest, _) = client.iccid_bound(&filter, true, Some(counter)).await?;
                    Ok(Answer::Highest {
                        scope,
                        prefix,
                        highest,
                    })
                }
                .boxed()
            }
            Job::Count { scope, prefix } => {
                let filter = with_prefix(&self.scopes[scope].filter, &prefix);
                async move {
                    let first = client
                        .list_sims_page_counted(&filter, MAX_PAGE_SIZE, None, fields, Some(counter))
                        .await?;
                    Ok(Answer::Count {
                        scope,
                        prefix,
                        first,
                    })
                }
                .boxed()
            }
            Job::Page { chain } => {
                let filter = self.chains[chain].filter.clone();
                let token = self.chains[chain].token.clone();
                async move {
                    let page = client
                        .list_sims_page_counted(
                            &filter,
                            MAX_PAGE_SIZE,
                            token.as_deref(),
                            fields,
                            Some(counter),
                        )
                        .await?;
                    Ok(Answer::Page { chain, page })
                }
                .boxed()
            }
        }
    }

    fn take(&mut self, answer: Answer) -> Result<(), ApiError> {
        match answer {
            Answer::Bounds {
                scope,
                prefix,
                first,
                highest,
            } => self.bounded(scope, prefix, first, highest)?,
            Answer::Highest {
                scope,
                prefix,
                highest,
            } => match self.first_pages.remove(&(scope, prefix.clone())) {
                Some(first) => self.bounded(scope, prefix, first, highest)?,
                None => self.discovery.push_back(Job::Bounds { scope, prefix }),
            },
            Answer::Count {
                scope,
                prefix,
                first,
            } => {
                let count = first.total_sims;
                self.first_pages.insert((scope, prefix.clone()), first);
                let decided = self.scopes[scope]
                    .partitioner
                    .as_mut()
                    .and_then(|p| p.counted(&prefix, count));
                if let Some(decisions) = decided {
                    // The split is settled: the pages of siblings neither paged nor split again
                    // (the split did not add up) are not needed.
                    let split_again: Vec<String> = decisions
                        .iter()
                        .filter_map(|d| match d {
                            Decision::Bounds(p) => Some(p.clone()),
                            _ => None,
                        })
                        .collect();
                    self.decide(scope, decisions)?;
                    let parent = &prefix[..prefix.len() - 1];
                    self.first_pages.retain(|(s, p), _| {
                        *s != scope
                            || p.len() != prefix.len()
                            || !p.starts_with(parent)
                            || split_again.contains(p)
                    });
                }
            }
            Answer::Page { chain, page } => self.page_read(chain, page)?,
        }
        Ok(())
    }

    /// A prefix's first page and highest ICCID are in: split it, or page it whole.
    fn bounded(
        &mut self,
        scope: usize,
        prefix: String,
        first: SimPage,
        highest: Option<String>,
    ) -> Result<(), ApiError> {
        let count = first.total_sims;
        let lowest = first.items.first().map(|s| s.iccid.clone());
        let state = &mut self.scopes[scope];
        if state.total.is_none() {
            // The root: its count sizes every partition of the scope.
            state.total = Some(count);
            self.progress.expect(count);
        }
        let target = target_partition_size(state.total.unwrap_or(count), self.concurrency);
        let decisions = state
            .partitioner
            .get_or_insert_with(|| Partitioner::new(target))
            .bounded(prefix.clone(), count, lowest.as_deref(), highest.as_deref());
        self.first_pages.insert((scope, prefix.clone()), first);
        self.decide(scope, decisions)?;
        self.first_pages.remove(&(scope, prefix));
        Ok(())
    }

    fn decide(&mut self, scope: usize, decisions: Vec<Decision>) -> Result<(), ApiError> {
        for decision in decisions {
            match decision {
                // A counted prefix has its first page, so its lowest ICCID: one request more.
                Decision::Bounds(prefix)
                    if self.first_pages.contains_key(&(scope, prefix.clone())) =>
                {
                    self.discovery.push_back(Job::Highest { scope, prefix });
                }
                Decision::Bounds(prefix) => self.discovery.push_back(Job::Bounds { scope, prefix }),
                Decision::Count(prefix) => self.discovery.push_back(Job::Count { scope, prefix }),
                Decision::Partition(prefix, count) => {
                    let filter = with_prefix(&self.scopes[scope].filter, &prefix);
                    let first = self.first_pages.remove(&(scope, prefix));
                    let chain = self.new_chain(filter, Some(count));
                    match first {
                        Some(page) => self.page_read(chain, page)?,
                        None => self.queue(chain),
                    }
                }
            }
        }
        Ok(())
    }

    /// A new partition to page, not yet queued.
    fn new_chain(&mut self, filter: SimFilter, planned: Option<u64>) -> usize {
        self.chains.push(Chain {
            filter,
            planned,
            sims: Vec::new(),
            expected: None,
            pages: 0,
            token: None,
            re_read: false,
            delivered: 0,
            last: None,
            hold: false,
        });
        self.chains.len() - 1
    }

    /// Queues `chain` for its next page.
    fn queue(&mut self, chain: usize) {
        let pages_left = self.chains[chain].pages_left();
        self.ready.push((pages_left, std::cmp::Reverse(chain)));
    }

    /// One page of `chain` is in: hand its SIMs over, then queue the next page, or check the
    /// partition's count at its end.
    fn page_read(&mut self, index: usize, page: SimPage) -> Result<(), ApiError> {
        let chain = &mut self.chains[index];
        chain.pages += 1;
        if chain.expected.is_none() && chain.planned.is_none() && !chain.re_read && !chain.hold {
            self.progress.expect(page.total_sims);
        }
        let expected = *chain.expected.get_or_insert(page.total_sims);
        self.progress.report(page.items.len() as u64);
        if !self.deliver(index, expected, page.items) {
            return Ok(());
        }
        let chain = &mut self.chains[index];
        match page.next_token {
            Some(next) => {
                let limit = expected.div_ceil(u64::from(MAX_PAGE_SIZE)) + PAGE_SLACK;
                if chain.pages >= limit || chain.token.as_deref() == Some(next.as_str()) {
                    return Err(ApiError::Malformed {
                        operation: "ListSims",
                        attempts: 1,
                        detail: format!(
                            "the nextToken chain for filter {} did not end after {} pages \
                             ({expected} SIMs counted)",
                            filter_text(&chain.filter),
                            chain.pages
                        ),
                    });
                }
                chain.token = Some(next);
                self.queue(index);
                Ok(())
            }
            None => self.partition_end(index, expected),
        }
    }

    /// Hands the SIMs of a page of partition `index` to the sink, sorted, without a SIM the
    /// page before already handed over (a page may repeat the end of the one before). Returns
    /// false when the page goes below what was handed over: the server's order cannot be
    /// trusted, and the partition is read again from its start and held whole until its end.
    fn deliver(&mut self, index: usize, expected: u64, mut sims: Vec<Sim>) -> bool {
        let chain = &mut self.chains[index];
        if chain.hold {
            if chain.sims.is_empty() {
                // Sized once: growing by doubling moved every SIM of a partition about twice.
                let room = usize::try_from(expected).unwrap_or(0).min(1 << 20);
                chain.sims.reserve_exact(room);
            }
            chain.sims.extend(sims);
            return true;
        }
        sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        sims.dedup_by(|a, b| a.iccid == b.iccid);
        if let (Some(last), Some(first)) = (&chain.last, sims.first()) {
            if first.iccid < *last {
                tracing::warn!(
                    filter = %filter_text(&chain.filter),
                    "listSims returned SIMs out of ICCID order; reading the partition again, whole"
                );
                chain.hold = true;
                self.restart(index);
                return false;
            }
            if first.iccid == *last {
                sims.remove(0);
            }
        }
        if let Some(sim) = sims.last() {
            chain.last = Some(sim.iccid.clone());
        }
        chain.delivered += sims.len() as u64;
        if !sims.is_empty() {
            (self.sink)(Delivery::Page {
                partition: index,
                expected,
                sims,
            });
        }
        true
    }

    /// The last page of partition `index` is in: the SIMs it handed over must be as many as
    /// its `totalSims` (one re-read, then [`ApiError::ShortRead`]).
    fn partition_end(&mut self, index: usize, expected: u64) -> Result<(), ApiError> {
        let chain = &mut self.chains[index];
        let got = if chain.hold {
            let mut sims = std::mem::take(&mut chain.sims);
            sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
            sims.dedup_by(|a, b| a.iccid == b.iccid);
            let got = sims.len() as u64;
            if got == expected && !sims.is_empty() {
                (self.sink)(Delivery::Page {
                    partition: index,
                    expected,
                    sims,
                });
            }
            got
        } else {
            chain.delivered
        };
        let chain = &mut self.chains[index];
        if got == expected {
            return Ok(());
        }
        if chain.re_read {
            return Err(ApiError::ShortRead {
                filter: filter_text(&chain.filter),
                expected,
                got,
            });
        }
        tracing::warn!(
            filter = %filter_text(&chain.filter),
            expected,
            got,
            "listSims returned a different number of SIMs than totalSims; reading the partition again"
        );
        chain.re_read = true;
        self.restart(index);
        Ok(())
    }

    /// Reads partition `index` again from its first page; the sink forgets what it handed over.
    fn restart(&mut self, index: usize) {
        let chain = &mut self.chains[index];
        chain.expected = None;
        chain.pages = 0;
        chain.token = None;
        chain.delivered = 0;
        chain.last = None;
        chain.sims = Vec::new();
        (self.sink)(Delivery::Restart { partition: index });
        self.queue(index);
    }
}

/// The ICCID prefix a scope already restricts to: `""` without an iccid key, the prefix of a
/// pure `beginsWith`, `None` for `eq`/`in` (such a scope is paged as one partition).
fn root_prefix(scope: &SimFilter) -> Option<String> {
    match &scope.iccid {
        None => Some(String::new()),
        Some(StringFilter {
            eq: None,
            in_: None,
            begins_with: Some(p),
        }) => Some(p.clone()),
        Some(_) => None,
    }
}

fn with_prefix(scope: &SimFilter, prefix: &str) -> SimFilter {
    let mut filter = scope.clone();
    if !prefix.is_empty() {
        filter.iccid = Some(StringFilter {
            begins_with: Some(prefix.to_string()),
            ..StringFilter::default()
        });
    }
    filter
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// The digit of `iccid` right after `prefix`, if `iccid` continues `prefix` with a digit.
fn next_digit(iccid: &str, prefix: &str) -> Option<u8> {
    let rest = iccid.strip_prefix(prefix)?;
    let c = rest.chars().next()?;
    c.to_digit(10).map(|d| d as u8)
}

/// Partitions small enough that C workers finish together: each holds at most half an even share
/// of the scope's pages (and at least one page). Prefix splits give uneven pieces; with two or
/// more pieces per worker, the largest-first schedule evens them out (with one piece per worker
/// the largest piece alone set the read time, measured 1.8× the lower bound).
pub(crate) fn target_partition_size(total: u64, concurrency: usize) -> u64 {
    let page = u64::from(MAX_PAGE_SIZE);
    let pages = total.div_ceil(page).max(1);
    pages.div_ceil(2 * concurrency.max(1) as u64).max(1) * page
}

/// What the partitioner wants done with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Read its lowest and highest ICCID (and count): it is too large for one partition.
    Bounds(String),
    /// Count it: it is one of the children a split needs.
    Count(String),
    /// Page it as one partition of this many SIMs.
    Partition(String, u64),
}

/// A prefix being split into its digit children: `at` is the longer prefix every one of its
/// ICCIDs shares, `digits` the range of next digits between its lowest and highest ICCID
/// (children outside it are empty without asking).
#[derive(Debug, Clone)]
struct Split {
    parent: String,
    count: u64,
    digits: (u8, u8),
    counts: [Option<u64>; 10],
}

/// The adaptive split as a state machine, fed one answer at a time so that partitions can be
/// paged while others are still being split.
///
/// A partition larger than the target first has its lowest and highest ICCID read
/// ([`Partitioner::bounded`]): every ICCID between them shares their common prefix (ICCIDs order
/// as strings), so the split skips the digits the whole partition has in common instead of
/// counting ten children per digit. The shared prefix is then split into its digit children by
/// count ([`Partitioner::counted`]); the split is taken only when the children's counts add up
/// to the partition's own (which also proves the shared prefix was right), otherwise the
/// partition stays whole. Empty children are dropped.
#[derive(Debug)]
pub(crate) struct Partitioner {
    target: u64,
    /// Splits waiting for their children's counts, by shared prefix.
    splits: HashMap<String, Split>,
}

impl Partitioner {
    /// Splits into partitions of about `target` SIMs.
    pub(crate) fn new(target: u64) -> Partitioner {
        Partitioner {
            target,
            splits: HashMap::new(),
        }
    }

    fn worth_splitting(&self, prefix: &str, count: u64) -> bool {
        count > self.target + SPLIT_SLACK_PAGES * u64::from(MAX_PAGE_SIZE)
            && prefix.len() < MAX_SPLIT_PREFIX_LEN
    }

    /// A counted prefix: split it (ask its bounds), page it whole, or drop it when empty.
    fn place(&self, prefix: String, count: u64) -> Option<Decision> {
        if count == 0 {
            None
        } else if self.worth_splitting(&prefix, count) {
            Some(Decision::Bounds(prefix))
        } else {
            Some(Decision::Partition(prefix, count))
        }
    }

    /// The bounds of `prefix` are in, with its count: the children to count, or the prefix
    /// itself as a partition when it is small enough or cannot be split.
    pub(crate) fn bounded(
        &mut self,
        prefix: String,
        count: u64,
        lowest: Option<&str>,
        highest: Option<&str>,
    ) -> Vec<Decision> {
        if !self.worth_splitting(&prefix, count) {
            return self.place(prefix, count).into_iter().collect();
        }
        let (lo, hi) = (lowest.unwrap_or(""), highest.unwrap_or(""));
        let shared = common_prefix(lo, hi);
        let at = if shared.starts_with(&prefix) {
            shared
        } else {
            prefix.clone()
        };
        if at.len() >= MAX_SPLIT_PREFIX_LEN || self.splits.contains_key(&at) {
            return vec![Decision::Partition(prefix, count)];
        }
        let digits = match (next_digit(lo, &at), next_digit(hi, &at)) {
            (Some(first), Some(last)) if first <= last => (first, last),
            _ => (0, 9),
        };
        let children = (digits.0..=digits.1)
            .map(|d| Decision::Count(format!("{at}{d}")))
            .collect();
        self.splits.insert(
            at,
            Split {
                parent: prefix,
                count,
                digits,
                counts: [None; 10],
            },
        );
        children
    }

    /// The count of a child prefix is in. `None` while its siblings are still being counted;
    /// then what to do with each child, or with the parent when the split does not add up.
    pub(crate) fn counted(&mut self, prefix: &str, count: u64) -> Option<Vec<Decision>> {
        let (at, digit) = prefix.split_at(prefix.len().checked_sub(1)?);
        let digit = digit.parse::<usize>().ok()?;
        let split = self.splits.get_mut(at)?;
        split.counts[digit] = Some(count);
        let (first, last) = (usize::from(split.digits.0), usize::from(split.digits.1));
        if split.counts[first..=last].iter().any(Option::is_none) {
            return None;
        }
        let split = self.splits.remove(at)?;
        let sum: u64 = split.counts.iter().flatten().sum();
        if sum != split.count {
            return Some(vec![Decision::Partition(split.parent, split.count)]);
        }
        Some(
            (first..=last)
                .filter_map(|d| self.place(format!("{at}{d}"), split.counts[d].unwrap_or(0)))
                .collect(),
        )
    }
}

fn filter_text(filter: &SimFilter) -> String {
    if filter.is_empty() {
        "(none: the whole fleet)".into()
    } else {
        serde_json::to_string(filter).unwrap_or_else(|_| format!("{filter:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the partitioner over a known fleet, answering like the server would, one answer
    /// at a time in the order asked. Returns the partitions sorted and the requests sent.
    fn partition(fleet: &[String], root: &str, concurrency: usize) -> (Vec<(String, u64)>, usize) {
        let under =
            |p: &str| -> Vec<&String> { fleet.iter().filter(|i| i.starts_with(p)).collect() };
        let total = under(root).len() as u64;
        let mut p = Partitioner::new(target_partition_size(total, concurrency));
        let mut requests = 0;
        let mut done = Vec::new();
        let mut queue = std::collections::VecDeque::from([Decision::Bounds(root.to_string())]);
        while let Some(decision) = queue.pop_front() {
            match decision {
                Decision::Bounds(q) => {
                    requests += 2;
                    let matching = under(&q);
                    let lo = matching.iter().min().map(|s| s.as_str());
                    let hi = matching.iter().max().map(|s| s.as_str());
                    queue.extend(p.bounded(q.clone(), matching.len() as u64, lo, hi));
                }
                Decision::Count(q) => {
                    requests += 1;
                    queue.extend(p.counted(&q, under(&q).len() as u64).unwrap_or_default());
                }
                Decision::Partition(q, count) => done.push((q, count)),
            }
        }
        assert!(p.splits.is_empty(), "unsettled splits: {:?}", p.splits);
        done.sort();
        (done, requests)
    }

    fn contiguous(start: u64, n: u64) -> Vec<String> {
        (start..start + n)
            .map(|i| format!("894900{i:013}"))
            .collect()
    }

    #[test]
    fn target_size_spreads_pages_over_workers() {
        assert_eq!(target_partition_size(0, 8), 100);
        assert_eq!(target_partition_size(10_000, 8), 700);
        assert_eq!(target_partition_size(250, 8), 100);
        assert_eq!(target_partition_size(1_000_000, 8), 62_500);
    }

    #[test]
    fn partitions_are_disjoint_cover_the_fleet_and_are_small() {
        let mut fleet = contiguous(0, 10_000);
        fleet.extend(contiguous(5_000_000, 3_000));
        fleet.sort();
        let (parts, requests) = partition(&fleet, "", 8);
        let total: u64 = parts.iter().map(|(_, c)| c).sum();
        assert_eq!(total, fleet.len() as u64);
        let target = target_partition_size(fleet.len() as u64, 8);
        let largest = target + SPLIT_SLACK_PAGES * 100;
        for (prefix, count) in &parts {
            assert!(*count <= largest, "{prefix} holds {count} > {largest}");
            assert!(*count > 0);
        }
        for (i, (a, _)) in parts.iter().enumerate() {
            for (b, _) in &parts[i + 1..] {
                assert!(
                    !a.starts_with(b.as_str()) && !b.starts_with(a.as_str()),
                    "{a} / {b}"
                );
            }
        }
        assert!(parts.len() >= 8, "{parts:?}");
        assert!(requests <= 60, "{requests} count requests");
    }

    #[test]
    fn shared_digits_are_skipped_not_counted() {
        let fleet = contiguous(0, 10_000);
        assert_eq!(common_prefix(&fleet[0], &fleet[9_999]), "894900000000000");
        let (parts, requests) = partition(&fleet, "", 8);
        assert_eq!(parts.iter().map(|(_, c)| c).sum::<u64>(), 10_000);
        assert_eq!(parts.len(), 10, "{parts:?}");
        // Bounds of the root, then one round of ten counts (digits 0..=9 all occur).
        assert_eq!(requests, 12);
    }

    #[test]
    fn a_wrong_shared_prefix_keeps_the_partition_whole() {
        // The bounds claim a shared prefix the counts do not confirm.
        let mut p = Partitioner::new(200);
        let children = p.bounded("89".into(), 5_000, Some("8949000"), Some("8949999"));
        assert_eq!(children.len(), 10);
        let mut settled = None;
        for child in children {
            let Decision::Count(q) = child else {
                panic!("{child:?}")
            };
            assert!(settled.is_none(), "settled before every child was counted");
            settled = p.counted(&q, 100);
        }
        assert_eq!(
            settled,
            Some(vec![Decision::Partition("89".to_string(), 5_000)])
        );
        assert!(p.splits.is_empty());
    }

    #[test]
    fn small_or_unsplittable_prefixes_are_partitions_and_empty_ones_vanish() {
        let mut p = Partitioner::new(1_000);
        assert_eq!(
            p.bounded("8".into(), 900, Some("81"), Some("89")),
            vec![Decision::Partition("8".into(), 900)]
        );
        assert_eq!(p.bounded("8".into(), 0, None, None), vec![]);
        // Every ICCID shares 19 digits: nothing left to split on.
        let full = "8949000000000000000";
        assert_eq!(
            p.bounded("89".into(), 90_000, Some(full), Some(full)),
            vec![Decision::Partition("89".into(), 90_000)]
        );
        // Children counted before their split are ignored, not a panic.
        assert_eq!(p.counted("12", 5), None);
        assert_eq!(p.counted("", 5), None);
    }

    #[test]
    fn prefixes_that_do_not_add_up_stay_whole() {
        // Non-digit ICCIDs: the children cannot account for them.
        let mut fleet = contiguous(0, 500);
        fleet.extend((0..300).map(|i| format!("894900X{i}")));
        let (parts, _) = partition(&fleet, "", 2);
        assert_eq!(parts.iter().map(|(_, c)| c).sum::<u64>(), 800);
        assert_eq!(parts, vec![(String::new(), 800)]);
    }

    #[test]
    fn scope_prefixes() {
        assert_eq!(root_prefix(&SimFilter::default()), Some(String::new()));
        let prefixed = SimFilter {
            iccid: Some(StringFilter {
                begins_with: Some("8949".into()),
                ..StringFilter::default()
            }),
            ..SimFilter::default()
        };
        assert_eq!(root_prefix(&prefixed), Some("8949".into()));
        let exact = SimFilter {
            iccid: Some(StringFilter {
                eq: Some("1".into()),
                ..StringFilter::default()
            }),
            ..SimFilter::default()
        };
        assert_eq!(root_prefix(&exact), None);
        let narrowed = with_prefix(&prefixed, "89491");
        assert_eq!(
            narrowed.iccid.unwrap().begins_with.as_deref(),
            Some("89491")
        );
        assert_eq!(with_prefix(&exact, ""), exact);
    }
}
