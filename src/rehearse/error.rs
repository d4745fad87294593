//! Why a rehearsal ends in an error: the real apply is predicted not to converge.

use super::report::Verdict;

/// A rehearsal whose prediction is a failed apply (exit 1, after the report).
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    #[error("{}", does_not_converge(*.verdict, *.failed))]
    DoesNotConverge { verdict: Verdict, failed: u64 },
}

fn does_not_converge(verdict: Verdict, failed: u64) -> String {
    match verdict {
        Verdict::Stale => format!(
            "rehearsal: the real apply would refuse this plan: {failed} SIM(s) left their planned \"from\" values (see the report above); make a new plan"
        ),
        _ => format!(
            "rehearsal: the real apply would not converge: {failed} SIM(s) predicted to fail (see the report above)"
        ),
    }
}
