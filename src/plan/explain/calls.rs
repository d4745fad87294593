//! The calls `apply` makes for one SIM, read for its explanation: the phase each change runs in
//! and, for status, the transitions in order. They come from the plan's own actions (a saved
//! plan's, or the plan's grouping run on this one SIM's changes), never from a rule of their
//! own, so however the plan moves a status (one transition, or a multi-step path's rounds), the
//! explanation shows the calls it makes.

use crate::spec::Field;

use super::super::actions::{self, Action};
use super::super::compare;
use super::super::model::{FieldChange, SimChange};
use super::{Decision, StatusStep};

/// The calls of the plan's grouping for one SIM's changes (implied ones are side effects, not
/// calls), as `assemble` groups every SIM's.
pub(super) fn group_one(change: &SimChange) -> Vec<Action> {
    super::super::assemble::group_calls(std::slice::from_ref(change)).actions
}

/// The actions of a plan that change `iccid`, in the order `apply` runs them.
pub(super) fn of_sim<'a>(actions: &'a [Action], iccid: &str) -> Vec<&'a Action> {
    let mut mine: Vec<&Action> = (actions.iter())
        .filter(|a| match a {
            Action::BatchJob(b) => b.iccids.binary_search_by(|i| i.as_str().cmp(iccid)).is_ok(),
            Action::UpdateSim(u) => u.iccid == iccid,
        })
        .collect();
    // A multi-step status path's steps run first, most steps left first (`steps_after`).
    mine.sort_by_key(|a| (a.phase(), std::cmp::Reverse(a.steps_after())));
    mine
}

/// True when the call changes `field`.
fn sets(action: &Action, field: Field) -> bool {
    match action {
        Action::BatchJob(b) => {
            let c = &b.changes;
            match field {
                Field::Status => c.statusid.is_some(),
                Field::MonthlyDataLimit => c.monthly_data_limit.is_some(),
                Field::MonthlySmsMoLimit => c.monthly_sms_mo_limit.is_some(),
                Field::MonthlySmsMtLimit => c.monthly_sms_mt_limit.is_some(),
                Field::MonthlyVoiceMoLimit => c.monthly_voice_mo_limit.is_some(),
                Field::CustomField1 => c.custom_field_1.is_some(),
                Field::EndCustomerLabel => c.end_customer_label.is_some(),
                Field::ImeiLock => c.imei_lock.is_some(),
            }
        }
        Action::UpdateSim(u) => {
            let c = &u.changes;
            match field {
                Field::Status => c.statusid.is_some(),
                Field::MonthlyDataLimit => c.monthly_data_limit.is_some(),
                Field::MonthlySmsMoLimit => c.monthly_sms_mo_limit.is_some(),
                Field::MonthlySmsMtLimit => c.monthly_sms_mt_limit.is_some(),
                Field::MonthlyVoiceMoLimit => c.monthly_voice_mo_limit.is_some(),
                Field::CustomField1 => c.custom_field_1.is_some(),
                Field::EndCustomerLabel => c.end_customer_label.is_some(),
                Field::ImeiLock => c.imei_lock.is_some(),
            }
        }
    }
}

fn status_of(action: &Action) -> Option<i32> {
    match action {
        Action::BatchJob(b) => b.changes.statusid,
        Action::UpdateSim(u) => u.changes.statusid,
    }
}

/// A planned change as the calls make it: the phase of the call that sets it (for an implied
/// change, of the IMEI unlock that causes it) and, for status, each transition in order.
pub(super) fn change_decision(change: &FieldChange, calls: &[&Action]) -> Decision {
    let caused_by = if change.implied {
        Field::ImeiLock
    } else {
        change.field
    };
    let setting: Vec<&&Action> = calls.iter().filter(|a| sets(a, caused_by)).collect();
    let phase = setting.first().map_or_else(
        || {
            let desired = compare::desired_from_api(change.field, &change.to);
            actions::phase_of(caused_by, &desired)
        },
        |a| a.phase(),
    );
    let from = change.from.as_i64().and_then(|n| i32::try_from(n).ok());
    let path = match (change.field, from) {
        (Field::Status, Some(mut from)) if !change.implied => (setting.iter())
            .filter_map(|a| status_of(a).map(|to| (to, a.phase())))
            .map(|(to, phase)| {
                let step = StatusStep { from, to, phase };
                from = to;
                step
            })
            .collect(),
        (Field::Status, Some(from)) => {
            let to = change.to.as_i64().and_then(|n| i32::try_from(n).ok());
            to.map(|to| vec![StatusStep { from, to, phase }])
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Decision::Change {
        flags: change.flags,
        phase,
        implied: change.implied,
        path,
        usage: change.usage,
    }
}
