//! Fast reads of the live fleet: split a scope into disjoint ICCID-prefix partitions sized with
//! `totalSims` counts, then page every partition concurrently.
//!
//! `listSims` returns at most 100 SIMs a page and pages chain through opaque tokens, so one
//! filter is read strictly sequentially. A fleet of N SIMs needs ceil(N/100) pages; with C
//! partitions paged at once the read takes about ceil(N/100)/C round trips plus a few rounds of
//! counts. Every partition's item count is checked against its `totalSims` (one re-read, then
//! [`ApiError::ShortRead`]), so a server that drops items mid-chain cannot shrink the fleet.
//!
//! The split decisions are a pure state machine ([`Partitioner`]) fed with counts, so they are
//! unit-tested without a network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::client::Client;
use super::error::ApiError;
use super::operations::MAX_PAGE_SIZE;
use super::types::SimFields;
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
    /// Partitions paged at once (default 8); also the number of count requests in flight while
    /// partitioning.
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

/// Reads `scope` as fast as the partitioning allows; see the module documentation.
pub async fn fetch_sims(
    client: &Client,
    scope: FetchScope,
    opts: FetchOptions,
) -> Result<FetchedSims, ApiError> {
    let counter = AtomicU64::new(0);
    let concurrency = opts.concurrency.max(1);
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

    let discover = futures::future::try_join_all(
        filters
            .iter()
            .map(|f| discover_partitions(client, f, concurrency, &counter)),
    );
    let (scopes, sims_total) = if whole_fleet {
        let scopes = discover.await?;
        let total = scopes.first().map_or(0, |s| s.total.unwrap_or(0));
        (scopes, total)
    } else {
        futures::future::try_join(
            discover,
            client.count_sims_counted(&SimFilter::default(), Some(&counter)),
        )
        .await?
    };

    let mut partitions: Vec<Partition> = scopes.into_iter().flat_map(|s| s.partitions).collect();
    // Largest first, so the long chains start early and the short ones fill in around them.
    partitions.sort_by(|a, b| {
        b.expected
            .unwrap_or(u64::MAX)
            .cmp(&a.expected.unwrap_or(u64::MAX))
    });
    let expected_total: u64 = partitions.iter().filter_map(|p| p.expected).sum();
    let progress = Progress {
        done: AtomicU64::new(0),
        total: expected_total,
        callback: opts.progress.clone(),
    };
    progress.report(0);

    let read: Vec<Vec<Sim>> = stream::iter(partitions.iter())
        .map(|p| read_partition(client, p, opts.fields, &counter, &progress))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;

    // One list in ICCID order, the first copy of a SIM read twice kept. Pages come in ICCID
    // order and partitions are disjoint prefixes, so this is mostly a merge of sorted runs; no
    // map of the whole fleet is built beside the list (a million SIMs are half a gigabyte).
    let mut sims: Vec<Sim> = Vec::with_capacity(read.iter().map(Vec::len).sum());
    for part in read {
        sims.extend(part);
    }
    sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    sims.dedup_by(|later, earlier| later.iccid == earlier.iccid);
    Ok(FetchedSims {
        sims,
        sims_total,
        requests: counter.load(Ordering::Relaxed),
    })
}

struct Progress {
    done: AtomicU64,
    total: u64,
    callback: Option<ProgressFn>,
}

impl Progress {
    fn report(&self, add: u64) {
        let done = self.done.fetch_add(add, Ordering::Relaxed) + add;
        if let Some(callback) = &self.callback {
            // A re-read or a growing fleet can read more than was counted: never report done > total.
            let total = self.total.max(done);
            callback(done, total);
        }
    }
}

/// One disjoint slice to page: the scope filter, narrowed by an ICCID prefix where possible.
#[derive(Debug, Clone)]
struct Partition {
    filter: SimFilter,
    /// `totalSims` when it was counted while partitioning.
    expected: Option<u64>,
}

struct ScopePartitions {
    partitions: Vec<Partition>,
    total: Option<u64>,
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

/// A question the partitioner needs answered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Query {
    /// `totalSims` of this ICCID prefix.
    Count(String),
    /// The lowest and the highest ICCID under this prefix.
    Bounds(String),
}

/// The answers to a round of [`Query`]s.
#[derive(Debug, Default)]
pub(crate) struct Answers {
    pub counts: HashMap<String, u64>,
    pub bounds: HashMap<String, (Option<String>, Option<String>)>,
}

/// A prefix with its counted `totalSims`, waiting to be split. `split_at` is the longer prefix
/// every one of its ICCIDs shares, once its bounds are known; `digits` the range of next digits
/// between its lowest and highest ICCID (children outside it are empty without asking).
#[derive(Debug, Clone)]
struct Pending {
    prefix: String,
    count: u64,
    split_at: Option<String>,
    digits: (u8, u8),
}

/// The adaptive split as a state machine: answer [`Partitioner::pending`] with
/// [`Partitioner::feed`] until [`Partitioner::is_finished`].
///
/// A partition larger than the target first has its lowest and highest ICCID read: every ICCID
/// between them shares their common prefix (ICCIDs order as strings), so the split skips the
/// digits the whole partition has in common instead of counting ten children per digit. The
/// shared prefix is then split into its ten digit children by count; the split is taken only
/// when the children's counts add up to the partition's own (which also proves the shared prefix
/// was right), otherwise the partition stays whole. Empty children are dropped.
#[derive(Debug)]
pub(crate) struct Partitioner {
    target: u64,
    done: Vec<(String, u64)>,
    frontier: Vec<Pending>,
}

impl Partitioner {
    /// Starts from a prefix whose `totalSims` is `count`.
    pub(crate) fn new(prefix: String, count: u64, target: u64) -> Partitioner {
        let mut p = Partitioner {
            target,
            done: Vec::new(),
            frontier: Vec::new(),
        };
        p.place(prefix, count);
        p
    }

    fn place(&mut self, prefix: String, count: u64) {
        let worth_splitting = count > self.target + SPLIT_SLACK_PAGES * u64::from(MAX_PAGE_SIZE);
        if worth_splitting && prefix.len() < MAX_SPLIT_PREFIX_LEN {
            self.frontier.push(Pending {
                prefix,
                count,
                split_at: None,
                digits: (0, 9),
            });
        } else if count > 0 {
            self.done.push((prefix, count));
        }
    }

    /// The questions of the next round.
    pub(crate) fn pending(&self) -> Vec<Query> {
        self.frontier
            .iter()
            .flat_map(|p| match &p.split_at {
                None => vec![Query::Bounds(p.prefix.clone())],
                Some(at) => (p.digits.0..=p.digits.1)
                    .map(|d| Query::Count(format!("{at}{d}")))
                    .collect(),
            })
            .collect()
    }

    /// Takes the answers of [`Partitioner::pending`]; a missing answer means "do not split".
    pub(crate) fn feed(&mut self, answers: &Answers) {
        for mut part in std::mem::take(&mut self.frontier) {
            match part.split_at.take() {
                None => {
                    let (lo, hi) = match answers.bounds.get(&part.prefix) {
                        Some((Some(lo), Some(hi))) => (lo.as_str(), hi.as_str()),
                        _ => ("", ""),
                    };
                    let shared = common_prefix(lo, hi);
                    let at = if shared.starts_with(&part.prefix) {
                        shared
                    } else {
                        part.prefix.clone()
                    };
                    part.digits = match (next_digit(lo, &at), next_digit(hi, &at)) {
                        (Some(first), Some(last)) if first <= last => (first, last),
                        _ => (0, 9),
                    };
                    if at.len() < MAX_SPLIT_PREFIX_LEN {
                        part.split_at = Some(at);
                        self.frontier.push(part);
                    } else {
                        self.done.push((part.prefix, part.count));
                    }
                }
                Some(at) => {
                    let children: Option<Vec<(String, u64)>> = (0..10)
                        .map(|d| {
                            let prefix = format!("{at}{d}");
                            if (part.digits.0..=part.digits.1).contains(&d) {
                                answers.counts.get(&prefix).map(|&c| (prefix, c))
                            } else {
                                Some((prefix, 0))
                            }
                        })
                        .collect();
                    match children {
                        Some(children)
                            if children.iter().map(|(_, c)| c).sum::<u64>() == part.count =>
                        {
                            for (prefix, count) in children {
                                self.place(prefix, count);
                            }
                        }
                        _ => self.done.push((part.prefix, part.count)),
                    }
                }
            }
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.frontier.is_empty()
    }

    /// The final partitions as `(prefix, count)`, sorted by prefix.
    pub(crate) fn finish(mut self) -> Vec<(String, u64)> {
        self.done
            .extend(self.frontier.drain(..).map(|p| (p.prefix, p.count)));
        self.done.sort();
        self.done
    }
}

/// Splits one scope into partitions with `totalSims` counts.
async fn discover_partitions(
    client: &Client,
    scope: &SimFilter,
    concurrency: usize,
    counter: &AtomicU64,
) -> Result<ScopePartitions, ApiError> {
    let Some(root) = root_prefix(scope) else {
        return Ok(ScopePartitions {
            partitions: vec![Partition {
                filter: scope.clone(),
                expected: None,
            }],
            total: None,
        });
    };
    let (lowest, highest, total) = bounds(client, scope, &root, counter).await?;
    let target = target_partition_size(total, concurrency);
    let mut partitioner = Partitioner::new(root.clone(), total, target);
    let mut answers = Answers::default();
    answers.bounds.insert(root, (lowest, highest));
    partitioner.feed(&answers);
    while !partitioner.is_finished() {
        let answers = stream::iter(partitioner.pending())
            .map(|query| async move {
                match &query {
                    Query::Count(prefix) => {
                        let n = client
                            .count_sims_counted(&with_prefix(scope, prefix), Some(counter))
                            .await?;
                        Ok::<_, ApiError>((query, None, n))
                    }
                    Query::Bounds(prefix) => {
                        let (lo, hi, n) = bounds(client, scope, prefix, counter).await?;
                        Ok((query, Some((lo, hi)), n))
                    }
                }
            })
            .buffer_unordered(concurrency)
            .try_fold(
                Answers::default(),
                |mut answers, (query, bounds, n)| async move {
                    match (query, bounds) {
                        (Query::Bounds(prefix), Some(b)) => {
                            answers.bounds.insert(prefix, b);
                        }
                        (Query::Count(prefix), _) | (Query::Bounds(prefix), None) => {
                            answers.counts.insert(prefix, n);
                        }
                    }
                    Ok(answers)
                },
            )
            .await?;
        partitioner.feed(&answers);
    }
    Ok(ScopePartitions {
        partitions: partitioner
            .finish()
            .into_iter()
            .map(|(prefix, count)| Partition {
                filter: with_prefix(scope, &prefix),
                expected: Some(count),
            })
            .collect(),
        total: Some(total),
    })
}

/// The lowest and highest ICCID under `prefix` within `scope`, and its `totalSims`.
async fn bounds(
    client: &Client,
    scope: &SimFilter,
    prefix: &str,
    counter: &AtomicU64,
) -> Result<(Option<String>, Option<String>, u64), ApiError> {
    let filter = with_prefix(scope, prefix);
    let ((lowest, total), (highest, _)) = futures::future::try_join(
        client.iccid_bound(&filter, false, Some(counter)),
        client.iccid_bound(&filter, true, Some(counter)),
    )
    .await?;
    Ok((lowest, highest, total))
}

/// Pages one partition to its end, checks the count, re-reads once if it is short.
async fn read_partition(
    client: &Client,
    partition: &Partition,
    fields: SimFields,
    counter: &AtomicU64,
    progress: &Progress,
) -> Result<Vec<Sim>, ApiError> {
    let mut last = (0, 0);
    for _ in 0..2 {
        let (mut sims, total) =
            page_all(client, &partition.filter, fields, counter, progress).await?;
        sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        sims.dedup_by(|a, b| a.iccid == b.iccid);
        if sims.len() as u64 == total {
            return Ok(sims);
        }
        tracing::warn!(
            filter = %filter_text(&partition.filter),
            expected = total,
            got = sims.len(),
            "listSims returned a different number of SIMs than totalSims; reading the partition again"
        );
        last = (total, sims.len() as u64);
    }
    Err(ApiError::ShortRead {
        filter: filter_text(&partition.filter),
        expected: last.0,
        got: last.1,
    })
}

fn filter_text(filter: &SimFilter) -> String {
    if filter.is_empty() {
        "(none: the whole fleet)".into()
    } else {
        serde_json::to_string(filter).unwrap_or_else(|_| format!("{filter:?}"))
    }
}

/// Every page of one filter: the SIMs and the `totalSims` the first page reported.
async fn page_all(
    client: &Client,
    filter: &SimFilter,
    fields: SimFields,
    counter: &AtomicU64,
    progress: &Progress,
) -> Result<(Vec<Sim>, u64), ApiError> {
    let mut sims = Vec::new();
    let mut token: Option<String> = None;
    let mut total = None;
    let mut pages = 0u64;
    loop {
        let page = client
            .list_sims_page_counted(
                filter,
                MAX_PAGE_SIZE,
                token.as_deref(),
                fields,
                Some(counter),
            )
            .await?;
        pages += 1;
        let expected = *total.get_or_insert(page.total_sims);
        progress.report(page.items.len() as u64);
        sims.extend(page.items);
        match page.next_token {
            None => return Ok((sims, expected)),
            Some(next) => {
                let limit = expected.div_ceil(u64::from(MAX_PAGE_SIZE)) + PAGE_SLACK;
                if pages >= limit || token.as_deref() == Some(next.as_str()) {
                    return Err(ApiError::Malformed {
                        operation: "ListSims",
                        attempts: 1,
                        detail: format!(
                            "the nextToken chain for filter {} did not end after {pages} pages \
                             ({expected} SIMs counted)",
                            filter_text(filter)
                        ),
                    });
                }
                token = Some(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the partitioner over a known fleet, answering like the server would.
    fn partition(fleet: &[String], root: &str, concurrency: usize) -> (Vec<(String, u64)>, usize) {
        let under =
            |p: &str| -> Vec<&String> { fleet.iter().filter(|i| i.starts_with(p)).collect() };
        let total = under(root).len() as u64;
        let mut p = Partitioner::new(
            root.to_string(),
            total,
            target_partition_size(total, concurrency),
        );
        let mut requests = 0;
        while !p.is_finished() {
            let mut answers = Answers::default();
            for query in p.pending() {
                match query {
                    Query::Count(q) => {
                        requests += 1;
                        answers.counts.insert(q.clone(), under(&q).len() as u64);
                    }
                    Query::Bounds(q) => {
                        requests += 2;
                        let matching = under(&q);
                        let lo = matching.iter().min().map(|s| s.to_string());
                        let hi = matching.iter().max().map(|s| s.to_string());
                        answers.bounds.insert(q, (lo, hi));
                    }
                }
            }
            p.feed(&answers);
        }
        (p.finish(), requests)
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
        let mut p = Partitioner::new("89".into(), 5_000, 200);
        let mut answers = Answers::default();
        answers.bounds.insert(
            "89".into(),
            (Some("8949000".into()), Some("8949999".into())),
        );
        p.feed(&answers);
        assert_eq!(p.pending().len(), 10);
        let counts = p
            .pending()
            .into_iter()
            .map(|q| match q {
                Query::Count(q) => (q, 100),
                Query::Bounds(q) => (q, 0),
            })
            .collect();
        p.feed(&Answers {
            counts,
            ..Answers::default()
        });
        assert!(p.is_finished());
        assert_eq!(p.finish(), vec![("89".to_string(), 5_000)]);
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
