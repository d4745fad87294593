//! Multi-step status paths: when the transition table has no direct `from → to` for a product,
//! the shortest chain of allowed transitions that gets there (Issued → Activated → Deactivated).
//!
//! Found by breadth-first search over one product's table, once per (from, to, product) when
//! the table is read, so deciding a million SIMs costs one lookup each. The rules, in order:
//!
//! 1. **Fewest steps.**
//! 2. **Where statuses a path passes through may be.** Never a terminal status (deleted,
//!    retired, replaced: the SIM would be skipped from there on, and retiring cannot be undone),
//!    a status the provider sets on its own (held 15, 16, 18–20) or one the provider moves on
//!    from by itself (11, 13, 14, 17), nor No Status (1) or a status the reference does not
//!    list (an unknown id means nothing to a reviewer). A SIM the provider holds (15, 16,
//!    18–20) is never routed through an activation (2, 6, 8): a status rule does not re-activate
//!    a held SIM, not even for one step. A path through more than [`super::MAX_VIA`] statuses
//!    is not taken (the plan records paths inline, see [`super::Via`]).
//! 3. **Ties**: among the shortest paths, the one passing through the fewest service-cutting
//!    statuses (deactivated 5, suspended 12); then the smallest sequence of status ids, compared
//!    id by id from the first step. The order is total, so the same table always gives the same
//!    path.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::status::{ACTIVATIONS, CUTS, HELD, TERMINAL};

/// Statuses the provider leaves by itself (activation pendant, waiting for …).
const TRANSITIONAL: [i32; 4] = [11, 13, 14, 17];
/// No Status: unknown, never a place to stop at.
const NO_STATUS: i32 = 1;

/// The statuses between `from` and `to` of every pair the table links only through others.
#[derive(Debug, Clone, Default)]
pub struct StatusPaths(HashMap<(i32, i32, i32), Box<[i32]>>);

impl StatusPaths {
    /// Every multi-step path of a table given as (from, to, provider) triples.
    pub fn of(edges: &BTreeSet<(i32, i32, i32)>) -> StatusPaths {
        let mut per_provider: BTreeMap<i32, BTreeMap<i32, Vec<i32>>> = BTreeMap::new();
        for &(from, to, provider) in edges {
            if from != to {
                per_provider
                    .entry(provider)
                    .or_default()
                    .entry(from)
                    .or_default()
                    .push(to);
            }
        }
        let mut paths = HashMap::new();
        for (provider, graph) in &per_provider {
            let nodes: BTreeSet<i32> = graph
                .iter()
                .flat_map(|(from, tos)| std::iter::once(*from).chain(tos.iter().copied()))
                .collect();
            for &from in &nodes {
                for &to in &nodes {
                    if from == to || graph.get(&from).is_some_and(|t| t.contains(&to)) {
                        continue;
                    }
                    if let Some(via) = shortest(graph, from, to) {
                        paths.insert((from, to, *provider), via.into_boxed_slice());
                    }
                }
            }
        }
        StatusPaths(paths)
    }

    /// The statuses a change `from → to` of `provider` passes through, when the table links the
    /// two only through others.
    pub fn via(&self, from: i32, to: i32, provider: i32) -> Option<&[i32]> {
        self.0.get(&(from, to, provider)).map(|v| &**v)
    }
}

/// SIMs of a plan whose status path passes through an activation (2, 6, 8).
pub fn activations_on_the_way(plan: &super::Plan) -> u64 {
    plan.changes
        .iter()
        .filter(|c| {
            c.set()
                .targets()
                .iter()
                .any(|f| f.via.iter().any(|s| ACTIVATIONS.contains(&s)))
        })
        .count() as u64
}

/// May a path from `from` pass through `status`?
pub fn may_pass_through(from: i32, status: i32) -> bool {
    crate::fleet::tables::status_name(status).is_some()
        && !(TERMINAL.contains(&status)
            || HELD.contains(&status)
            || TRANSITIONAL.contains(&status)
            || status == NO_STATUS
            || (HELD.contains(&from) && ACTIVATIONS.contains(&status)))
}

/// The ranking of a path beyond its length: service-cutting statuses passed, then the ids.
type Rank = (usize, Vec<i32>);

/// The intermediate statuses of the best shortest path `from → to`, if any (module docs).
fn shortest(graph: &BTreeMap<i32, Vec<i32>>, from: i32, to: i32) -> Option<Vec<i32>> {
    // Distance to `to` of every status that may be passed through, by breadth-first search on
    // the reversed graph.
    let mut distance: BTreeMap<i32, usize> = BTreeMap::from([(to, 0)]);
    let mut frontier = vec![to];
    let mut found = None;
    while !frontier.is_empty() && found.is_none() {
        let mut next = Vec::new();
        for &node in &frontier {
            let d = distance[&node];
            for (&pred, tos) in graph {
                if !tos.contains(&node) || distance.contains_key(&pred) {
                    continue;
                }
                if pred == from {
                    found = Some(d + 1);
                    continue;
                }
                if may_pass_through(from, pred) {
                    distance.insert(pred, d + 1);
                    next.push(pred);
                }
            }
        }
        frontier = next;
    }
    let steps = found?;
    // Best continuation of every status on a shortest path, nearest to `to` first.
    let mut best: BTreeMap<i32, Rank> = BTreeMap::from([(to, (0, Vec::new()))]);
    for d in 1..steps {
        for (&node, _) in distance.iter().filter(|(_, nd)| **nd == d) {
            if let Some(rank) = best_step(graph, node, d, &distance, &best) {
                best.insert(node, rank);
            }
        }
    }
    best_step(graph, from, steps, &distance, &best).map(|(_, via)| {
        // The last id is `to` itself.
        via[..via.len() - 1].to_vec()
    })
}

/// The best next status from `node` (at `d` steps from the target): the successor one step
/// nearer with the smallest (cuts, ids) including itself.
fn best_step(
    graph: &BTreeMap<i32, Vec<i32>>,
    node: i32,
    d: usize,
    distance: &BTreeMap<i32, usize>,
    best: &BTreeMap<i32, Rank>,
) -> Option<Rank> {
    graph
        .get(&node)?
        .iter()
        .filter(|next| distance.get(next) == Some(&(d - 1)))
        .filter_map(|next| {
            let (cuts, rest) = best.get(next)?;
            let mut ids = Vec::with_capacity(rest.len() + 1);
            ids.push(*next);
            ids.extend(rest);
            let cut = usize::from(d > 1 && CUTS.contains(next));
            Some((cuts + cut, ids))
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(provider: i32, pairs: &[(i32, i32)]) -> BTreeSet<(i32, i32, i32)> {
        pairs.iter().map(|&(f, t)| (f, t, provider)).collect()
    }

    fn sandbox() -> BTreeSet<(i32, i32, i32)> {
        let mut all = BTreeSet::new();
        for provider in 1..=5 {
            all.extend(table(provider, crate::sandbox::DEFAULT_TRANSITIONS));
        }
        all
    }

    #[test]
    fn issued_to_deactivated_passes_through_activated() {
        let paths = StatusPaths::of(&sandbox());
        // 3 → 2 → 5, 3 → 6 → 5 and 3 → 8 → 5 tie on length and cuts; 2 is the smallest id.
        assert_eq!(paths.via(3, 5, 5), Some(&[2][..]));
        assert_eq!(paths.via(3, 12, 1), Some(&[2][..]));
        // Three steps to retire an issued SIM, through Deactivated (a cut either way).
        assert_eq!(paths.via(3, 7, 5), Some(&[2, 5][..]));
        assert_eq!(paths.via(12, 5, 5), Some(&[2][..]));
        // Direct transitions have no path; unreachable statuses neither.
        assert_eq!(paths.via(2, 5, 5), None);
        assert_eq!(paths.via(2, 6, 5), None);
        assert_eq!(paths.via(5, 8, 5), None);
    }

    #[test]
    fn ties_prefer_paths_that_do_not_cut_service() {
        // 3 → 5 → 9 and 3 → 8 → 9 are both two steps: 8 wins although 5 is the smaller id.
        let t = table(1, &[(3, 5), (5, 9), (3, 8), (8, 9)]);
        assert_eq!(StatusPaths::of(&t).via(3, 9, 1), Some(&[8][..]));
        // Without a cut on either, the smaller id wins, compared from the first step.
        let t = table(
            1,
            &[(3, 8), (8, 2), (2, 9), (3, 6), (6, 12), (12, 9), (3, 2)],
        );
        // 3 → 2 → 9 is shortest (2 steps) even though it is not lexicographically first.
        assert_eq!(StatusPaths::of(&t).via(3, 9, 1), Some(&[2][..]));
        let t = table(1, &[(3, 8), (8, 6), (6, 9), (3, 6), (3, 9 + 100)]);
        assert_eq!(StatusPaths::of(&t).via(3, 9, 1), Some(&[6][..]));
        // Cuts are counted over the whole path: 3 → 6 → 8 → 9 (no cut) beats 3 → 2 → 12 → 9
        // (one cut, smaller ids).
        let t = table(
            1,
            &[
                (3, 2),
                (2, 12),
                (12, 9),
                (3, 5),
                (5, 2),
                (2, 9 + 1),
                (3, 6),
                (6, 8),
                (8, 9),
            ],
        );
        assert_eq!(StatusPaths::of(&t).via(3, 9, 1), Some(&[6, 8][..]));
    }

    #[test]
    fn the_same_table_in_any_order_gives_the_same_paths() {
        let pairs = [(3, 12), (12, 9), (3, 5), (5, 9), (3, 8), (8, 9)];
        let mut reversed = pairs;
        reversed.reverse();
        let a = StatusPaths::of(&table(2, &pairs));
        let b = StatusPaths::of(&table(2, &reversed));
        assert_eq!(a.via(3, 9, 2), Some(&[8][..]));
        assert_eq!(b.via(3, 9, 2), Some(&[8][..]));
    }

    #[test]
    fn paths_are_per_product() {
        let mut t = table(1, &[(3, 2), (2, 5)]);
        t.extend(table(5, &[(3, 6), (6, 5)]));
        let paths = StatusPaths::of(&t);
        assert_eq!(paths.via(3, 5, 1), Some(&[2][..]));
        assert_eq!(paths.via(3, 5, 5), Some(&[6][..]));
        assert_eq!(paths.via(3, 5, 3), None);
    }

    #[test]
    fn never_through_terminal_held_or_transitional_statuses() {
        for middle in [4, 7, 10, 13, 14, 11, 17, 15, 16, 18, 19, 20, 1, 99] {
            let t = table(1, &[(3, middle), (middle, 5)]);
            assert_eq!(StatusPaths::of(&t).via(3, 5, 1), None, "through {middle}");
        }
    }

    #[test]
    fn held_sims_are_never_routed_through_an_activation() {
        // Data usage exhausted → Deactivated: the sandbox table only goes through Activated.
        assert_eq!(StatusPaths::of(&sandbox()).via(16, 5, 1), None);
        // Through a non-activation it is fine.
        let t = table(1, &[(16, 12), (12, 5), (16, 2), (2, 5)]);
        assert_eq!(StatusPaths::of(&t).via(16, 5, 1), Some(&[12][..]));
        // Not held: Activated is fine.
        assert_eq!(StatusPaths::of(&t).via(12, 2, 1), None);
    }
}
