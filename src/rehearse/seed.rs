//! The SIMs a rehearsal loads into its sandbox: the plan's SIMs (changed, blocked, pending,
//! held and skipped ones), taken from live SIMs read elsewhere or rebuilt from the plan.
//!
//! Rebuilt from the plan (`--from-plan`), a SIM has exactly the values the plan states: each
//! changed field at its planned "from", and the status a blocked, pending, held or skipped
//! entry records. What the plan does not state is empty (no limit, no label, no IMEI lock),
//! the status is activated when the plan names none, and the provider is
//! [`UNKNOWN_PROVIDER`]: the plan's changes do not depend on them, and the sandbox's default
//! transition table is the same for every provider.

use std::collections::{BTreeMap, BTreeSet};

use crate::fleet::{EndCustomerLabel, ImeiLock, Sim, Snapshot, Transition};
use crate::plan::{Field, FieldValue, Plan};

/// The provider a SIM rebuilt from a plan gets (link+); plans do not record providers.
pub const UNKNOWN_PROVIDER: i32 = 5;
/// The status a SIM rebuilt from a plan gets when the plan records none (activated).
const UNKNOWN_STATUS: i32 = 2;

/// A sandbox's fleet, and the plan's SIMs the source did not have.
#[derive(Debug, Clone)]
pub struct Seed {
    pub snapshot: Snapshot,
    /// Plan SIMs missing from the live source, in ICCID order: the real apply finds them gone.
    pub missing: Vec<String>,
}

/// Every SIM the plan names: changed, blocked, pending, held and skipped ones.
pub fn plan_iccids(plan: &Plan) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = plan.changes.iter().map(|c| c.iccid.clone()).collect();
    out.extend(plan.blocked.iter().map(|b| b.iccid.clone()));
    out.extend(plan.pending.iter().map(|p| p.iccid.clone()));
    out.extend(plan.held.iter().map(|h| h.iccid.clone()));
    out.extend(plan.skipped.iter().map(|s| s.iccid.clone()));
    out
}

/// The plan's SIMs out of `sims` (any others are dropped), with `transitions` as the table.
pub fn seed_from_sims(
    plan: &Plan,
    sims: impl IntoIterator<Item = Sim>,
    transitions: Option<Vec<Transition>>,
) -> Seed {
    let wanted = plan_iccids(plan);
    let kept: Vec<Sim> = sims
        .into_iter()
        .filter(|s| wanted.contains(&s.iccid))
        .collect();
    let found: BTreeSet<&str> = kept.iter().map(|s| s.iccid.as_str()).collect();
    let missing = wanted
        .iter()
        .filter(|i| !found.contains(i.as_str()))
        .cloned()
        .collect();
    Seed {
        snapshot: snapshot(kept, transitions),
        missing,
    }
}

/// The plan's SIMs rebuilt from its own "from" values (see the module documentation).
pub fn seed_from_plan(plan: &Plan, transitions: Option<Vec<Transition>>) -> Seed {
    let mut sims: BTreeMap<String, Sim> = BTreeMap::new();
    let mut status = |iccid: &str, statusid: i32| {
        sims.entry(iccid.to_string())
            .or_insert_with(|| blank(iccid))
            .statusid = statusid;
    };
    for b in &plan.blocked {
        if let (Field::Status, Some(id)) = (b.field, b.from.as_i64()) {
            status(&b.iccid, id as i32);
        }
    }
    for p in &plan.pending {
        status(&p.iccid, p.statusid);
    }
    for h in &plan.held {
        status(&h.iccid, h.statusid);
    }
    for s in &plan.skipped {
        status(&s.iccid, s.statusid);
    }
    for change in &plan.changes {
        let sim = sims
            .entry(change.iccid.clone())
            .or_insert_with(|| blank(&change.iccid));
        for f in change.fields() {
            set_live_value(sim, f.field, &f.from);
        }
    }
    Seed {
        snapshot: snapshot(sims.into_values().collect(), transitions),
        missing: Vec::new(),
    }
}

fn blank(iccid: &str) -> Sim {
    Sim {
        iccid: iccid.to_string(),
        statusid: UNKNOWN_STATUS,
        providerid: UNKNOWN_PROVIDER,
        ..Sim::default()
    }
}

fn snapshot(sims: Vec<Sim>, transitions: Option<Vec<Transition>>) -> Snapshot {
    Snapshot {
        format_version: crate::fleet::SNAPSHOT_FORMAT_VERSION,
        taken_at: None,
        transitions,
        sims,
    }
}

/// Writes a plan's value of `field` into `sim` as the API would return it: the inverse of
/// `plan::compare::live_value`. A value of the wrong kind for the field leaves it alone.
pub(crate) fn set_live_value(sim: &mut Sim, field: Field, value: &FieldValue) {
    let int = value.as_i64();
    let text = value.as_str().map(str::to_string);
    match field {
        Field::Status => {
            if let Some(id) = int.and_then(|v| i32::try_from(v).ok()) {
                sim.statusid = id;
            }
        }
        Field::MonthlyDataLimit => sim.monthly_data_limit = int,
        Field::MonthlyVoiceMoLimit => sim.monthly_voice_mo_limit = int,
        Field::MonthlySmsMoLimit => {
            sim.monthly_sms_mo_limit = int.and_then(|v| i32::try_from(v).ok())
        }
        Field::MonthlySmsMtLimit => {
            sim.monthly_sms_mt_limit = int.and_then(|v| i32::try_from(v).ok())
        }
        Field::CustomField1 => sim.custom_field_1 = text,
        Field::EndCustomerLabel => {
            sim.end_customer_label = text.map(|name| EndCustomerLabel { name })
        }
        Field::ImeiLock => {
            sim.imei_lock = value.imei_lock().map(|(enabled, imei)| ImeiLock {
                enabled,
                imei: imei.map(str::to_string),
            })
        }
    }
}
