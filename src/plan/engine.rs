//! The plan engine: the one path from a spec and a live fleet to a [`Plan`], whatever the fleet
//! was read from. `plan`, `apply DIR`, the tests and the benchmarks all come through here.
//!
//! Three ways in, one way out:
//! - [`plan_snapshot`]: a snapshot file's bytes, decided while the file is still being split
//!   (the splitting thread hands out runs of SIM texts, the other cores decide them);
//! - [`Planner`]: SIMs handed in page by page as an API read delivers them, in any order
//!   ([`plan_fleet`] wraps it for SIMs already in memory, decided on every core).
//!
//! Each decides every SIM with the same [`Pass`], joins the runs in ICCID order, and
//! assembles the plan with [`super::assemble`], so the three give the same plan for the same
//! fleet (a property test holds them to it). No I/O happens here: reading files and the network
//! is the caller's, and so is the clock (`generated_at`).

use crate::fleet::{
    Coverage, LiveFleet, RawSnapshot, Sim, SnapshotError, SnapshotSource, Transition,
};
use crate::spec::{Matcher, Spec};

use super::assemble::assemble;
use super::guards::Guards;
use super::model::Plan;
use super::pass::{Pass, Run};
use super::status::TransitionSet;
use super::PlanError;

/// SIMs per piece of work while a snapshot is still being split.
const STREAM_BATCH: usize = 4096;

/// What to plan: the spec, `--target`, and the guards in force.
#[derive(Debug, Clone)]
pub struct PlanRequest<'s> {
    pub spec: &'s Spec,
    /// Only SIMs this selector matches are in view (`--target`).
    pub target: Option<&'s Matcher>,
    pub guards: Guards,
}

/// What the plan needs to know of the fleet besides its SIMs.
#[derive(Debug, Clone)]
pub struct FleetFacts {
    /// `totalSims` of the unfiltered fleet.
    pub sims_total: u64,
    pub coverage: Coverage,
    /// Batch jobs still PREPARING or RUNNING when the fleet was read.
    pub running_batch_jobs: Vec<i64>,
}

/// Plans against a snapshot file's bytes (`plan --live`). The bytes are released before the
/// plan grows its actions.
pub fn plan_snapshot<B>(request: &PlanRequest<'_>, bytes: B, shown: &str) -> Result<Plan, PlanError>
where
    B: SnapshotSource + Sync,
{
    plan_snapshot_in_batches(request, bytes, shown, STREAM_BATCH)
}

/// [`plan_snapshot`] with SIMs handed to the other cores `batch` at a time.
pub(super) fn plan_snapshot_in_batches<B>(
    request: &PlanRequest<'_>,
    bytes: B,
    shown: &str,
    batch: usize,
) -> Result<Plan, PlanError>
where
    B: SnapshotSource + Sync,
{
    let (runs, pass, sims_total) = decide_snapshot(request, &bytes, shown, batch)?;
    drop(bytes);
    let facts = FleetFacts {
        sims_total,
        coverage: Coverage::Full,
        running_batch_jobs: Vec::new(),
    };
    conclude(request, &pass, runs, &facts)
}

/// Plans against a fleet held in memory, deciding its SIMs on every core: a thin wrapper over
/// [`Planner`], the path of an API read. The SIMs are freed once decided, before the calls are
/// grouped.
pub fn plan_fleet(request: &PlanRequest<'_>, live: LiveFleet) -> Result<Plan, PlanError> {
    let LiveFleet {
        sims,
        sims_total,
        coverage,
        transitions,
        running_batch_jobs,
    } = live;
    let mut planner = Planner::new(request, transitions.as_deref(), &coverage);
    planner.sims(&sims);
    drop(sims);
    planner.finish(&FleetFacts {
        sims_total,
        coverage,
        running_batch_jobs,
    })
}

/// A plan made from pages of SIMs handed in one at a time, as an API read delivers them. Pages
/// may come in any order; together they must hold each SIM in view once.
pub struct Planner<'p> {
    request: &'p PlanRequest<'p>,
    pass: Pass<'p>,
    runs: Vec<Run>,
    /// One run per partition of a read, grown page by page (see [`Planner::partition_page`]).
    partitions: std::collections::HashMap<usize, Run>,
}

impl<'p> Planner<'p> {
    /// A planner for a fleet read with `coverage`, whose transition table is `transitions`.
    pub fn new(
        request: &'p PlanRequest<'p>,
        transitions: Option<&[Transition]>,
        coverage: &Coverage,
    ) -> Planner<'p> {
        Planner {
            request,
            pass: Pass::new(
                request.spec,
                request.target,
                transitions.map(TransitionSet::new),
                *coverage == Coverage::Full,
            ),
            runs: Vec::new(),
            partitions: std::collections::HashMap::new(),
        }
    }

    /// Decides one page of SIMs; the page can be dropped afterwards.
    pub fn page(&mut self, sims: &[Sim]) {
        self.runs.push(self.pass.decide_all(sims));
    }

    /// Decides one page of partition `partition` of a read into that partition's run: the pages
    /// of one partition come in ascending ICCID order, each continuing the one before.
    pub fn partition_page(&mut self, partition: usize, sims: &[Sim]) {
        let run = (self.partitions)
            .entry(partition)
            .or_insert_with(|| self.pass.run());
        for sim in sims {
            self.pass.decide(run, sim);
        }
    }

    /// Forgets what partition `partition` decided: the read is reading it again.
    pub fn forget_partition(&mut self, partition: usize) {
        self.partitions.remove(&partition);
    }

    /// Decides many SIMs at once, in runs on every core.
    pub fn sims(&mut self, sims: &[Sim]) {
        let pass = &self.pass;
        let runs = crate::parallel::fold_runs(
            sims.len(),
            || pass.run(),
            |run, i| pass.decide(run, &sims[i]),
        );
        self.runs.extend(runs);
    }

    /// The plan of every page handed in.
    pub fn finish(mut self, facts: &FleetFacts) -> Result<Plan, PlanError> {
        self.runs.extend(self.partitions.into_values());
        // Pages of disjoint ICCID ranges, put in order of their first ICCID, join without the
        // sort that SIMs seen out of order need.
        self.runs
            .sort_by(|a, b| a.first_iccid().cmp(&b.first_iccid()));
        conclude(self.request, &self.pass, self.runs, facts)
    }
}

/// Joins the runs of a whole pass, in the order given, into the plan.
fn conclude(
    request: &PlanRequest<'_>,
    pass: &Pass<'_>,
    runs: Vec<Run>,
    facts: &FleetFacts,
) -> Result<Plan, PlanError> {
    let (partial, found) = pass.finish(runs)?;
    assemble(
        partial,
        facts,
        &request.guards,
        &request.spec.digest(),
        found,
    )
}

/// Splits a snapshot and decides its SIMs: while it is split when its transition table comes
/// before its SIMs (as simfleet writes it), else afterwards. Returns the runs in file order, the
/// pass, and the number of SIMs; a snapshot that lists an ICCID twice is refused.
fn decide_snapshot<'r, B: SnapshotSource + Sync>(
    request: &'r PlanRequest<'r>,
    source: &B,
    shown: &str,
    batch: usize,
) -> Result<(Vec<Run>, Pass<'r>, u64), PlanError> {
    let bytes: &[u8] = source;
    let mut pass = Pass::new(request.spec, request.target, None, true);
    let table = std::sync::OnceLock::new();
    let (split, mut streamed) = crate::parallel::stream(
        |send| {
            RawSnapshot::parse_streaming(
                bytes,
                shown,
                batch,
                |transitions| table.set(transitions.map(TransitionSet::new)).is_ok(),
                |start, sims| send((start, sims)),
            )
        },
        |(start, sims)| {
            let run = decide_texts(&pass, table.get(), start, &sims, shown);
            source.decided(span(bytes, &sims));
            (start, run)
        },
    );
    let raw = split?;
    let runs = match table.into_inner() {
        Some(table) => {
            streamed.sort_by_key(|(start, _)| *start);
            pass.set_table(table);
            streamed.into_iter().map(|(_, run)| run).collect()
        }
        // No table before the SIMs: nothing was streamed; decide them now that it is known.
        None => {
            pass.set_table(raw.transitions().map(TransitionSet::new));
            crate::parallel::fold_runs(
                raw.len(),
                || pass.run(),
                |run, i| match raw.sim(i, shown) {
                    Ok(sim) => pass.decide(run, &sim),
                    Err(e) => pass.fail(run, e.into()),
                },
            )
        }
    };
    if !Run::in_order(&runs) {
        if let Some(iccid) = raw.duplicate_iccid(shown)? {
            return Err(SnapshotError::DuplicateIccid {
                path: shown.to_string(),
                iccid,
            }
            .into());
        }
    }
    Ok((runs, pass, raw.len() as u64))
}

/// The piece of `bytes` that holds `texts` (SIM texts split out of it, in file order).
fn span<'b>(bytes: &'b [u8], texts: &[&serde_json::value::RawValue]) -> &'b [u8] {
    let (Some(first), Some(last)) = (texts.first(), texts.last()) else {
        return &[];
    };
    let base = bytes.as_ptr() as usize;
    let start = (first.get().as_ptr() as usize).wrapping_sub(base);
    let end = (last.get().as_ptr() as usize + last.get().len()).wrapping_sub(base);
    bytes.get(start..end).unwrap_or(&[])
}

/// Decides a run of SIM texts from a snapshot, the first being SIM `start` of the file.
fn decide_texts(
    pass: &Pass<'_>,
    table: Option<&Option<TransitionSet>>,
    start: usize,
    texts: &[&serde_json::value::RawValue],
    shown: &str,
) -> Run {
    let mut run = pass.run();
    let table = table.and_then(Option::as_ref);
    for (k, text) in texts.iter().enumerate() {
        match RawSnapshot::parse_sim(text, start + k, shown) {
            Ok(sim) => pass.decide_with(&mut run, &sim, table),
            Err(e) => pass.fail(&mut run, e.into()),
        }
    }
    run
}
