//! After the last action: re-read every SIM a call was sent for and check each planned field.
//!
//! This is what the report's numbers rest on, not the calls' answers: a SIM counts as changed
//! only when every planned field holds (a status moving to its target counts as converging).
//! A SIM that did not converge is reported with the failures recorded for it (decoded batch
//! codes, updateSim errors, unknown outcomes) and what was read back.

use std::collections::{BTreeSet, HashMap};

use super::recheck::{field_state, FieldState};
use crate::api::Client;
use crate::plan::compare::live_value;
use crate::plan::{status_label, FieldChange, Plan};

use super::preflight::read_sims;
use super::{Ledger, SimFailure};

/// What verification found.
pub(crate) struct Verified {
    pub converged: BTreeSet<String>,
    pub pending: Vec<String>,
    pub failures: Vec<SimFailure>,
}

pub(crate) async fn verify(
    plan: &Plan,
    client: &Client,
    ledger: &Ledger,
    concurrency: usize,
) -> Verified {
    let mut touched: BTreeSet<String> = ledger.attempted.clone();
    touched.extend(ledger.failures.keys().cloned());
    let mut out = Verified {
        converged: BTreeSet::new(),
        pending: Vec::new(),
        failures: Vec::new(),
    };
    if touched.is_empty() {
        return out;
    }
    let fetched = read_sims(client, touched.iter(), concurrency).await;
    let sims = match fetched {
        Ok(f) => f.sims,
        Err(e) => {
            for iccid in &touched {
                out.failures.extend(recorded(ledger, iccid));
                out.failures.push(failure(
                    iccid,
                    format!("could not be verified: re-reading it failed ({e})"),
                ));
            }
            return out;
        }
    };
    let live: HashMap<&str, &crate::fleet::Sim> =
        sims.iter().map(|s| (s.iccid.as_str(), s)).collect();

    for change in plan.changes.iter().filter(|c| touched.contains(&c.iccid)) {
        let Some(sim) = live.get(change.iccid.as_str()) else {
            out.failures.extend(recorded(ledger, &change.iccid));
            out.failures.push(failure(
                &change.iccid,
                "not found when re-read after the apply".to_string(),
            ));
            continue;
        };
        let mut converging = false;
        let mut missed = Vec::new();
        for f in change.fields().filter(|f| !f.implied) {
            match field_state(sim, &f) {
                FieldState::AtTo => {}
                FieldState::Converging => converging = true,
                state @ (FieldState::AtFrom | FieldState::Neither | FieldState::Midway { .. }) => {
                    missed.push((f, state))
                }
            }
        }
        if missed.is_empty() {
            out.converged.insert(change.iccid.clone());
            if converging {
                out.pending.push(change.iccid.clone());
            }
            continue;
        }
        let known = recorded(ledger, &change.iccid);
        if known.is_empty()
            && !ledger.uncertain.contains_key(&change.iccid)
            && ledger.skipped.contains_key(&change.iccid)
        {
            continue;
        }
        let mut known = known;
        let mut unexplained = Vec::new();
        for (f, state) in missed {
            let expected = Some(f.to.to_json());
            let found = Some(live_value(sim, f.field).to_json());
            // A recorded failure of this very field (a decoded batch code) says why; it gains
            // what was wanted and found instead of a second line.
            let field = f.field.name();
            if let Some(k) = known
                .iter_mut()
                .find(|k| k.field.as_deref() == Some(field) && k.expected.is_none())
            {
                k.expected = expected;
                k.found = found;
                continue;
            }
            let failed = !known.is_empty();
            unexplained.push(SimFailure {
                iccid: change.iccid.clone(),
                field: Some(field.to_string()),
                code: None,
                reason: why_missed(ledger, &change.iccid, failed, state, &f),
                batch_job_id: None,
                expected,
                found,
            });
        }
        out.failures.extend(known);
        out.failures.extend(unexplained);
    }
    out
}

/// Why a planned field does not hold after the apply.
fn why_missed(
    ledger: &Ledger,
    iccid: &str,
    failed: bool,
    state: FieldState,
    change: &FieldChange,
) -> String {
    if let FieldState::Midway { done } = state {
        let at = change.via.get(done.saturating_sub(1)).unwrap_or(0);
        let midway = format!(
            "stopped midway along its status path, at {} after step {done} of {}",
            status_label(at),
            change.via.len() + 1
        );
        return match ledger.skipped.get(iccid) {
            Some(reason) => format!("{midway}: {reason}"),
            None => format!("{midway}; run apply again to finish it"),
        };
    }
    if state == FieldState::Neither {
        // Neither the plan's `from` nor its `to`: someone else wrote another value meanwhile.
        return "did not converge: another value was set during the apply (another apply or a user changed this SIM); make a new plan".into();
    }
    if let Some(reason) = ledger.skipped.get(iccid) {
        // Its call was not sent (an earlier change of the SIM failed, or an interrupt).
        return reason.clone();
    }
    if failed {
        return "did not converge".into();
    }
    match ledger.uncertain.get(iccid) {
        Some(reason) => format!("did not converge: {reason}"),
        None => "did not converge: the call succeeded but the value did not change".into(),
    }
}

fn recorded(ledger: &Ledger, iccid: &str) -> Vec<SimFailure> {
    ledger.failures.get(iccid).cloned().unwrap_or_default()
}

fn failure(iccid: &str, reason: String) -> SimFailure {
    SimFailure {
        iccid: iccid.to_string(),
        field: None,
        code: None,
        reason,
        batch_job_id: None,
        expected: None,
        found: None,
    }
}
