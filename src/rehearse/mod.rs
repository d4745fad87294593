//! `rehearse`: what an apply of a saved plan would do, found by running the real apply on a
//! copy of the plan's SIMs in an embedded sandbox, never on the real API.
//!
//! This module is the pure part: which SIMs a plan touches and how to seed a sandbox with them
//! (`seed`: from live SIMs read elsewhere, or from the plan's own "from" values), and how to
//! turn what the rehearsed apply did into a prediction (`predict`: calls per phase, failures
//! by cause, the end state, and the wall time the real API would take). The report is plain
//! data (`report`); its text and markdown live in `render::rehearsal`. `ops::rehearse` does the
//! I/O: reading the live SIMs, starting the sandbox and running `apply::apply` against it, so
//! every phase, batch, poll and verification is apply's own code. Depends on `plan`, `apply`
//! (its report) and `fleet`; never on `api`, `sandbox`, `ops` or `spec`.

mod error;
mod predict;
mod report;
mod seed;

pub use error::RehearseError;
pub use predict::{
    batch_speed, by_cause, classify, end_state, phase_calls, predict_time, TimingInput, FORMULA,
    FORMULA_TERMS,
};
pub use report::{
    EndState, FailureCause, PhaseCalls, PredictedFailure, Rehearsal, RehearsedCalls, StateSource,
    TableSource, TimePrediction, UnplannedChange, Verdict, REHEARSAL_FORMAT_VERSION,
};
pub use seed::{plan_iccids, seed_from_plan, seed_from_sims, Seed, UNKNOWN_PROVIDER};

#[cfg(test)]
mod tests;
