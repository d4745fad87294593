//! The status table (ARCHITECTURE.md, "Rules of meaning"), desired × live: which status
//! changes the plan makes, shows as pending or held, skips, or blocks.
//!
//! It lives apart from the other comparisons because it alone depends on the provider's
//! transition table and decides about the whole SIM (terminal statuses skip every field).

use std::collections::HashSet;

use crate::fleet::tables::{provider_name, status_label};
use crate::fleet::Transition;

/// Deleted, retired, replaced: a SIM in one of these is never changed.
pub const TERMINAL: [i32; 3] = [4, 7, 10];
/// Deactivated by the provider for exhausted usage, exceeded limits or an unauthorised IMEI.
pub const HELD: [i32; 5] = [15, 16, 18, 19, 20];
/// Desired statuses that give (or prepare) service: the ones a held SIM must not be moved to.
pub const ACTIVATIONS: [i32; 3] = [2, 6, 8];
/// Desired statuses that cut service.
pub const CUTS: [i32; 2] = [5, 12];
/// Retired: cannot be undone.
pub const IRREVERSIBLE: i32 = 7;
/// `IMEI unauthorized`: turning the IMEI lock off sets such a SIM to Activated.
pub const IMEI_UNAUTHORIZED: i32 = 20;
pub const ACTIVATED: i32 = 2;

/// What the plan does with one SIM's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusDecision {
    NoChange,
    /// Already in transition to the desired status.
    Pending,
    /// Terminal status: the whole SIM is skipped.
    Terminal,
    Held {
        reason: String,
    },
    Change,
    Blocked {
        reason: String,
    },
}

/// The status table needs a transition table for the last row only.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a status must change ({from} → {to}) but the live fleet has no status transition table (a snapshot without \"transitions\"): plan against the API, or export the snapshot again with its transitions")]
pub struct NoTransitionTable {
    pub from: String,
    pub to: String,
}

/// `getAvailableStatusTransitions` as a set, looked up once per SIM.
#[derive(Debug, Clone, Default)]
pub struct TransitionSet(HashSet<(i32, i32, i32)>);

impl TransitionSet {
    pub fn new(transitions: &[Transition]) -> TransitionSet {
        TransitionSet(
            transitions
                .iter()
                .map(|t| (t.fromstatusid, t.tostatusid, t.providerid))
                .collect(),
        )
    }

    pub fn allows(&self, from: i32, to: i32, provider: i32) -> bool {
        self.0.contains(&(from, to, provider))
    }

    /// The statuses the table allows from `from` for `provider`, in id order (what `explain`
    /// shows beside a blocked change).
    pub fn targets(&self, from: i32, provider: i32) -> Vec<i32> {
        let mut to: Vec<i32> = (self.0.iter())
            .filter(|(f, _, p)| *f == from && *p == provider)
            .map(|(_, t, _)| *t)
            .collect();
        to.sort_unstable();
        to
    }
}

/// True for the converging pairs: 13 for 2, 14 for 5, 17 for 8, 11 for 2.
pub fn converging(live: i32, desired: i32) -> bool {
    matches!((live, desired), (13, 2) | (14, 5) | (17, 8) | (11, 2))
}

fn held_reason(live: i32) -> String {
    let why = match live {
        15 => "its test usage is exhausted",
        16 => "its data usage is exhausted",
        18 => "its SMS limit is exceeded",
        19 => "its voice limit is exceeded",
        _ => "its device's IMEI does not match the IMEI lock (set imei_lock to the device or off to restore service)",
    };
    format!(
        "{}: the provider deactivated it because {why}; a status rule does not re-activate it",
        status_label(live)
    )
}

/// Decides one SIM's status, following the status table row by row.
///
/// A held SIM (15, 16, 18, 19, 20) is only held against the statuses that give or prepare
/// service (2, 6, 8): deactivating, suspending or retiring it does not defeat the limit that
/// stopped it, so those fall through to the transition table like any other change.
pub fn decide(
    live: i32,
    desired: i32,
    provider: i32,
    transitions: Option<&TransitionSet>,
) -> Result<StatusDecision, NoTransitionTable> {
    if live == desired {
        return Ok(StatusDecision::NoChange);
    }
    if converging(live, desired) {
        return Ok(StatusDecision::Pending);
    }
    if TERMINAL.contains(&live) {
        return Ok(StatusDecision::Terminal);
    }
    if HELD.contains(&live) && ACTIVATIONS.contains(&desired) {
        return Ok(StatusDecision::Held {
            reason: held_reason(live),
        });
    }
    let Some(table) = transitions else {
        return Err(NoTransitionTable {
            from: status_label(live),
            to: status_label(desired),
        });
    };
    if table.allows(live, desired, provider) {
        Ok(StatusDecision::Change)
    } else {
        let product = provider_name(provider)
            .map(|n| format!("{n} ({provider})"))
            .unwrap_or_else(|| format!("unknown product ({provider})"));
        Ok(StatusDecision::Blocked {
            reason: format!(
                "getAvailableStatusTransitions has no {} → {} for {product}",
                status_label(live),
                status_label(desired)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TransitionSet {
        TransitionSet::new(&[
            Transition {
                fromstatusid: 5,
                tostatusid: 2,
                providerid: 1,
            },
            Transition {
                fromstatusid: 2,
                tostatusid: 5,
                providerid: 1,
            },
            Transition {
                fromstatusid: 16,
                tostatusid: 7,
                providerid: 1,
            },
        ])
    }

    fn d(live: i32, desired: i32) -> StatusDecision {
        decide(live, desired, 1, Some(&table())).expect("table given")
    }

    #[test]
    fn same_status_is_no_change() {
        for s in [2, 5, 6, 7, 8, 12] {
            assert_eq!(d(s, s), StatusDecision::NoChange);
        }
    }

    #[test]
    fn converging_rows_are_pending() {
        assert_eq!(d(13, 2), StatusDecision::Pending);
        assert_eq!(d(14, 5), StatusDecision::Pending);
        assert_eq!(d(17, 8), StatusDecision::Pending);
        assert_eq!(d(11, 2), StatusDecision::Pending);
        // Converging elsewhere is not pending: 13 is heading to 2, not to 5.
        assert_ne!(d(13, 5), StatusDecision::Pending);
    }

    #[test]
    fn terminal_rows_skip() {
        for live in TERMINAL {
            for desired in [2, 5, 12, 6, 8] {
                assert_eq!(d(live, desired), StatusDecision::Terminal);
            }
        }
    }

    #[test]
    fn held_rows_are_never_reactivated() {
        for live in HELD {
            for desired in ACTIVATIONS {
                match d(live, desired) {
                    StatusDecision::Held { reason } => {
                        assert!(reason.contains(&format!("({live})")), "{reason}")
                    }
                    other => panic!("{live} → {desired}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn held_sim_may_still_be_retired_if_the_table_allows() {
        assert_eq!(d(16, 7), StatusDecision::Change);
        assert!(matches!(d(16, 5), StatusDecision::Blocked { .. }));
    }

    #[test]
    fn anything_else_follows_the_transition_table() {
        assert_eq!(d(5, 2), StatusDecision::Change);
        assert_eq!(d(2, 5), StatusDecision::Change);
        match d(2, 12) {
            StatusDecision::Blocked { reason } => {
                assert!(
                    reason.contains("Activated (2) → Suspended (12)"),
                    "{reason}"
                );
                assert!(reason.contains("connect+ (1)"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // The provider is part of the key.
        assert!(matches!(
            decide(5, 2, 3, Some(&table())),
            Ok(StatusDecision::Blocked { .. })
        ));
    }

    #[test]
    fn no_table_is_an_error_only_when_a_status_must_change() {
        assert_eq!(decide(2, 2, 1, None), Ok(StatusDecision::NoChange));
        assert_eq!(decide(13, 2, 1, None), Ok(StatusDecision::Pending));
        assert_eq!(decide(7, 2, 1, None), Ok(StatusDecision::Terminal));
        assert!(matches!(
            decide(16, 2, 1, None),
            Ok(StatusDecision::Held { .. })
        ));
        let err = decide(5, 2, 1, None).expect_err("needs the table");
        assert!(err.to_string().contains("no status transition table"));
    }
}
