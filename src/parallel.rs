//! Every thread simfleet starts for CPU work starts here: the one idiom for parallel work.
//!
//! Planning a million SIMs means parsing and diffing a million independent records. Three shapes
//! cover every use, each on `std::thread::scope` so borrowed data needs no `Arc` and a panic in
//! a worker is re-raised on the caller:
//! - [`fold_runs`]: the same work for each item of a known count, in contiguous runs of equal
//!   length, one per core; each run folds into its own state and the states come back in run
//!   order, so merging them in that order gives what one sequential pass would.
//! - [`stream`]: items that appear while a producer is still reading (a snapshot being split):
//!   the other cores take them from one bounded queue as they come; the producer takes an item
//!   itself when the queue is full, and joins in when done.
//! - [`join`]: two independent pieces of work, one core each.
//!
//! No thread-pool crate is pulled in: the work is even, so work stealing would buy nothing,
//! and the async runtime's threads are for I/O only.

use std::sync::mpsc;
use std::sync::Mutex;

/// Below this many items a pass stays on the calling thread: threads would cost more than they
/// save, and small fleets (every test) run the sequential path.
pub const PARALLEL_MIN_ITEMS: usize = 20_000;

/// Most threads a pass uses, whatever the machine has.
const MAX_THREADS: usize = 8;

/// Folds `step` over `0..n` in contiguous runs, one per core, each starting from `init()`;
/// returns the runs' states in order. A panic in a run is re-raised on the calling thread.
pub fn fold_runs<S, I, F>(n: usize, init: I, step: F) -> Vec<S>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize) + Sync,
{
    let threads = threads_for(n);
    let run = |range: std::ops::Range<usize>| {
        let mut state = init();
        for i in range {
            step(&mut state, i);
        }
        state
    };
    if threads <= 1 {
        return vec![run(0..n)];
    }
    let len = n.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run = &run;
                scope.spawn(move || run(t * len..((t + 1) * len).min(n)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Threads for a pass over `n` items: one below [`PARALLEL_MIN_ITEMS`], else one per core.
fn threads_for(n: usize) -> usize {
    if n < PARALLEL_MIN_ITEMS {
        1
    } else {
        cores()
    }
}

/// The cores this process may use, at most [`MAX_THREADS`].
fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
}

/// Items waiting in [`stream`]'s queue, per worker, before the producer stops reading ahead.
const QUEUED_PER_WORKER: usize = 2;

/// Runs `produce` on the calling thread; every item it hands to its sender is taken by
/// `consume` on one of the other cores as soon as one is free, and by the calling thread too
/// once `produce` has returned. Returns what `produce` returned and every item's result, in no
/// particular order (tag items to put results back in order).
///
/// The queue is bounded: when the other cores are [`QUEUED_PER_WORKER`] items behind, the
/// producer consumes the item itself instead of reading ahead. What an item borrows (a mapped
/// snapshot's pages) is then never far ahead of the work, so a fast producer cannot pull a
/// whole file into memory while the consumers lag.
pub fn stream<T, R, P>(
    produce: impl FnOnce(&mut dyn FnMut(T)) -> P,
    consume: impl Fn(T) -> R + Sync,
) -> (P, Vec<R>)
where
    T: Send,
    R: Send,
{
    let workers = cores().saturating_sub(1);
    let (sender, receiver) = mpsc::sync_channel::<T>(workers.max(1) * QUEUED_PER_WORKER);
    let queue = Mutex::new(receiver);
    let drain = || {
        let mut results = Vec::new();
        loop {
            // A worker that panicked poisons the queue: the others stop taking items, and the
            // panic is re-raised when the worker is joined.
            let next = match queue.lock() {
                Ok(queue) => queue.recv(),
                Err(_) => break,
            };
            match next {
                Ok(item) => results.push(consume(item)),
                Err(_) => break,
            }
        }
        results
    };
    std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..workers).map(|_| scope.spawn(drain)).collect();
        let mut own = Vec::new();
        let produced = produce(&mut |item| match sender.try_send(item) {
            Ok(()) => {}
            // Full, or every worker has stopped: the producer does the work itself.
            Err(mpsc::TrySendError::Full(item) | mpsc::TrySendError::Disconnected(item)) => {
                own.push(consume(item))
            }
        });
        drop(sender);
        let mut results = drain();
        results.append(&mut own);
        for worker in spawned {
            results.extend(
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        (produced, results)
    })
}

/// Runs `a` on a second thread and `b` on the calling one; returns both results.
pub fn join<A, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B)
where
    A: Send,
{
    std::thread::scope(|scope| {
        let first = scope.spawn(a);
        let second = b();
        let first = first
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_item_once_in_order() {
        for n in [0, 1, 7, PARALLEL_MIN_ITEMS - 1, PARALLEL_MIN_ITEMS, 100_003] {
            let runs = fold_runs(n, Vec::new, |seen: &mut Vec<usize>, i| seen.push(i));
            let all: Vec<usize> = runs.into_iter().flatten().collect();
            assert_eq!(all, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn a_stream_consumes_every_item_once_whatever_the_core() {
        let (produced, mut results) = stream(
            |send| {
                for i in 0..10_000u64 {
                    send(i);
                }
                "done"
            },
            |i| i * 2,
        );
        results.sort_unstable();
        assert_eq!(produced, "done");
        assert_eq!(results, (0..10_000u64).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_slow_consumer_keeps_the_producer_at_most_a_queue_ahead() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Every item is started (taken by a consumer) before the producer makes the next one
        // only if the queue is bounded: the producer may run ahead by the queue and one item
        // per consumer, never by the whole input.
        let started = AtomicUsize::new(0);
        let ahead = AtomicUsize::new(0);
        let bound = cores().saturating_sub(1).max(1) * QUEUED_PER_WORKER + cores() + 1;
        stream(
            |send| {
                for i in 0..200usize {
                    let gap = i - started.load(Ordering::SeqCst).min(i);
                    ahead.fetch_max(gap, Ordering::SeqCst);
                    send(i);
                }
            },
            |_| {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_micros(200));
            },
        );
        let ahead = ahead.into_inner();
        assert!(
            ahead <= bound,
            "producer ran {ahead} items ahead (bound {bound})"
        );
    }

    #[test]
    fn join_returns_both_results() {
        let data = [1, 2, 3];
        let (sum, len) = join(|| data.iter().sum::<i32>(), || data.len());
        assert_eq!((sum, len), (6, 3));
    }

    #[test]
    fn threads_start_only_in_this_module() {
        // The invariant this module keeps: one idiom for parallel CPU work. Any other place that
        // starts threads must go through these functions instead.
        let mut offenders = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("parallel.rs")
                {
                    let text = std::fs::read_to_string(&path).expect("source is readable");
                    if text.contains("thread::scope") || text.contains("thread::spawn") {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "threads started outside src/parallel.rs: {offenders:?}"
        );
    }

    #[test]
    fn large_passes_use_more_than_one_run_when_the_machine_has_cores() {
        let runs = fold_runs(PARALLEL_MIN_ITEMS * 2, || 0u64, |count, _| *count += 1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(runs.len(), cores.min(MAX_THREADS));
        assert_eq!(runs.iter().sum::<u64>(), (PARALLEL_MIN_ITEMS * 2) as u64);
    }
}
