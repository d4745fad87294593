//! The live fleet as the plan sees it: the SIMs that were read and how they were read.

use super::sim::{Sim, Transition};

/// How much of the fleet `sims` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Every SIM of the fleet was read.
    Full,
    /// Only SIMs matching the spec's pushed-down filters were read; the rest are counted, not
    /// listed.
    PushedDown,
}

/// The live fleet: SIMs sorted by ICCID without duplicates, plus what the plan needs besides.
#[derive(Debug, Clone)]
pub struct LiveFleet {
    pub sims: Vec<Sim>,
    /// `totalSims` of an unfiltered `listSims`: the size of the whole fleet.
    pub sims_total: u64,
    pub coverage: Coverage,
    /// `getAvailableStatusTransitions`, fetched once per run; `None` when unknown (a snapshot
    /// without a table), in which case a plan that changes a status fails.
    pub transitions: Option<Vec<Transition>>,
    /// Batch jobs still PREPARING or RUNNING when the fleet was read (their half-applied values
    /// look like drift).
    pub running_batch_jobs: Vec<i64>,
}
