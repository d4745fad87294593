//! Re-checking a plan against SIMs read again later: does a live SIM still hold a change's
//! `from`, already hold its `to`, or neither (the plan is stale for it)?
//!
//! `apply` asks this twice: before the first mutation (staleness of a saved plan, and which SIMs
//! an interrupted apply already finished) and after the last one (did the fleet converge). The
//! comparison is the plan's own rules of meaning ([`crate::plan::compare::planned_holds`]), so
//! apply never disagrees with plan about what counts as done; on top of them, a SIM moving
//! towards a wanted status (13, 14, 17, 11) counts as converging, and one standing at a status
//! its multi-step path passes through is midway (in progress, not stale). Guards are re-evaluated here
//! too, with the flags `apply` runs with rather than those the plan was made with.

use crate::fleet::Sim;
use crate::plan::compare::planned_holds;
use crate::plan::status::converging;
use crate::plan::Field;
use crate::plan::{FieldChange, GuardResult, Guards, Plan, RiskFlag};

/// Where one planned field change stands on a live SIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldState {
    /// The live value is still the plan's `from`: the change is still to do.
    AtFrom,
    /// The live value is the plan's `to`: done.
    AtTo,
    /// The status is in transition to the plan's `to` (13 for 2, 14 for 5, 17 for 8, 11 for 2).
    Converging,
    /// A multi-step status change stands at (or is moving to) the status after its `done`-th
    /// step: in progress, not stale; the steps after it are still to do.
    Midway { done: usize },
    /// Neither: someone else changed it since the plan was made.
    Neither,
}

impl FieldState {
    /// Done or on its way there.
    pub fn holds(self) -> bool {
        matches!(self, FieldState::AtTo | FieldState::Converging)
    }
}

/// Where `change` stands on `sim`.
pub fn field_state(sim: &Sim, change: &FieldChange) -> FieldState {
    if planned_holds(change.field, &change.to, sim) {
        return FieldState::AtTo;
    }
    if change.field == Field::Status {
        if let Some(want) = change.to.as_i64().and_then(|v| i32::try_from(v).ok()) {
            if converging(sim.statusid, want) {
                return FieldState::Converging;
            }
        }
        let live = sim.statusid;
        if let Some(at) = change
            .via
            .iter()
            .position(|s| s == live || converging(live, s))
        {
            return FieldState::Midway { done: at + 1 };
        }
    }
    if planned_holds(change.field, &change.from, sim) {
        FieldState::AtFrom
    } else {
        FieldState::Neither
    }
}

/// The guards of `plan` evaluated with `guards` (the flags and settings of the apply run).
pub fn guards_for(plan: &Plan, guards: &Guards) -> Vec<GuardResult> {
    let with_flag = |flag: RiskFlag| {
        plan.changes
            .iter()
            .filter(|c| {
                c.set()
                    .targets()
                    .iter()
                    .any(|f| !f.implied && f.flags.contains(flag))
            })
            .count() as u64
    };
    let implied = plan
        .changes
        .iter()
        .map(|c| c.set().targets().iter().filter(|f| f.implied).count() as u64)
        .sum();
    let mut out = crate::plan::evaluate_guards(
        guards,
        plan.summary.sims_changing,
        plan.summary.sims_total,
        with_flag(RiskFlag::StatusCut),
        with_flag(RiskFlag::UsageCut),
        with_flag(RiskFlag::Irreversible),
        implied,
    );
    out.extend(crate::plan::path_activations_guard(
        crate::plan::paths::activations_on_the_way(plan),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::ImeiLock;
    use crate::spec::{Origin, OriginKind};
    use serde_json::{json, Value};

    fn change(field: Field, from: Value, to: Value) -> FieldChange {
        FieldChange {
            field,
            from: serde_json::from_value(from).unwrap(),
            to: serde_json::from_value(to).unwrap(),
            via: crate::plan::Via::default(),
            source: std::sync::Arc::new(Origin {
                file: "fleet/a.yaml".into(),
                line: 1,
                col: 1,
                kind: OriginKind::Rule { name: "r".into() },
            }),
            flags: crate::plan::RiskFlags::default(),
            implied: false,
            usage: None,
        }
    }

    #[test]
    fn limits_compare_unlimited_spellings() {
        let c = change(Field::MonthlyDataLimit, json!(0), json!(1000));
        let mut sim = Sim::default();
        assert_eq!(field_state(&sim, &c), FieldState::AtFrom);
        sim.monthly_data_limit = Some(1000);
        assert_eq!(field_state(&sim, &c), FieldState::AtTo);
        sim.monthly_data_limit = Some(5);
        assert_eq!(field_state(&sim, &c), FieldState::Neither);
        let to_unlimited = change(Field::MonthlySmsMoLimit, json!(10), Value::Null);
        sim.monthly_sms_mo_limit = Some(0);
        assert_eq!(field_state(&sim, &to_unlimited), FieldState::AtTo);
    }

    #[test]
    fn status_in_transition_converges() {
        let c = change(Field::Status, json!(6), json!(2));
        let mut sim = Sim {
            statusid: 13,
            ..Sim::default()
        };
        assert_eq!(field_state(&sim, &c), FieldState::Converging);
        assert!(field_state(&sim, &c).holds());
        sim.statusid = 6;
        assert_eq!(field_state(&sim, &c), FieldState::AtFrom);
        sim.statusid = 5;
        assert_eq!(field_state(&sim, &c), FieldState::Neither);
    }

    #[test]
    fn a_status_on_its_path_is_midway_not_stale() {
        let mut c = change(Field::Status, json!(3), json!(7));
        c.via = crate::plan::Via::new(&[2, 5]).unwrap();
        let mut sim = Sim {
            statusid: 3,
            ..Sim::default()
        };
        assert_eq!(field_state(&sim, &c), FieldState::AtFrom);
        sim.statusid = 2;
        assert_eq!(field_state(&sim, &c), FieldState::Midway { done: 1 });
        // Moving to the first step's status counts as having made it.
        sim.statusid = 13;
        assert_eq!(field_state(&sim, &c), FieldState::Midway { done: 1 });
        sim.statusid = 5;
        assert_eq!(field_state(&sim, &c), FieldState::Midway { done: 2 });
        assert!(!field_state(&sim, &c).holds());
        sim.statusid = 7;
        assert_eq!(field_state(&sim, &c), FieldState::AtTo);
        sim.statusid = 12;
        assert_eq!(field_state(&sim, &c), FieldState::Neither);
        // Without a path the same status is stale.
        c.via = crate::plan::Via::default();
        sim.statusid = 2;
        assert_eq!(field_state(&sim, &c), FieldState::Neither);
    }

    #[test]
    fn auto_lock_matches_any_enabled_lock_and_text_none_matches_empty() {
        let c = change(
            Field::ImeiLock,
            Value::Null,
            json!({"enabled": true, "imei": null}),
        );
        let mut sim = Sim {
            imei_lock: Some(ImeiLock {
                enabled: false,
                imei: Some("356938035643809".into()),
            }),
            ..Sim::default()
        };
        assert_eq!(field_state(&sim, &c), FieldState::AtFrom);
        sim.imei_lock = Some(ImeiLock {
            enabled: true,
            imei: Some("356938035643809".into()),
        });
        assert_eq!(field_state(&sim, &c), FieldState::AtTo);
        let specific = change(
            Field::ImeiLock,
            Value::Null,
            json!({"enabled": true, "imei": "490154203237518"}),
        );
        assert_eq!(field_state(&sim, &specific), FieldState::Neither);
        let label = change(Field::EndCustomerLabel, json!("OLD"), Value::Null);
        sim.end_customer_label = Some(crate::fleet::EndCustomerLabel {
            name: String::new(),
        });
        assert_eq!(field_state(&sim, &label), FieldState::AtTo);
    }
}
