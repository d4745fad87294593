//! Splitting a per-SIM pass over the machine's cores.
//!
//! Planning a million SIMs means parsing and diffing a million independent records: the work is
//! the same for each SIM, so contiguous runs of equal length, one per core, keep every core busy
//! without work stealing. Each run folds into its own state and the states come back in run
//! order, so a caller that merges them in that order gets exactly what one sequential pass would
//! give. `std::thread::scope` does all of this, so no thread-pool crate is pulled in.

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
    let threads = if n < PARALLEL_MIN_ITEMS {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    };
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
    fn large_passes_use_more_than_one_run_when_the_machine_has_cores() {
        let runs = fold_runs(PARALLEL_MIN_ITEMS * 2, || 0u64, |count, _| *count += 1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(runs.len(), cores.min(MAX_THREADS));
        assert_eq!(runs.iter().sum::<u64>(), (PARALLEL_MIN_ITEMS * 2) as u64);
    }
}
