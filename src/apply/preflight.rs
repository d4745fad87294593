//! Before the first mutation: the approved checksum, the guards with apply's own flags, and —
//! for a saved plan — a re-read of exactly the SIMs it touches.
//!
//! The re-read classifies each SIM by its planned field changes (see `recheck`): every
//! field at `to` → already done (an interrupted apply resumes); otherwise every field at `from`
//! or `to` → to do (its actions set values, so redoing the done ones is harmless), and a status
//! standing at a status its multi-step path passes through → midway: to do from the next step
//! on (the steps before it are not sent again: going back would undo them); any field at
//! neither → the plan is stale and nothing is applied. Fields the plan does not manage and SIMs
//! it does not touch are never looked at, so their changes cannot make it stale.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use super::recheck::{field_state, guards_for, FieldState};
use crate::api::{self, Client, FetchOptions, FetchScope};
use crate::fleet::{SimFilter, StringFilter};
use crate::plan::compare::live_value;
use crate::plan::FieldValue;
use crate::plan::{GuardResult, Guards, Plan};

use super::{retry, ApplyError};

/// ICCIDs per `iccid: {in: [...]}` filter when re-reading SIMs (one page each).
pub const ICCIDS_PER_FILTER: usize = 100;

/// A SIM whose managed fields changed since the plan was made.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleSim {
    pub iccid: String,
    pub fields: Vec<StaleField>,
}

/// One field at neither the plan's `from` nor its `to` (`now` is `None` for a vanished SIM).
#[derive(Debug, Clone, PartialEq)]
pub struct StaleField {
    pub field: String,
    pub planned_from: FieldValue,
    pub planned_to: FieldValue,
    pub now: Option<FieldValue>,
}

impl fmt::Display for StaleSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.iccid)?;
        for (i, field) in self.fields.iter().enumerate() {
            let sep = if i == 0 { " " } else { "; " };
            match &field.now {
                Some(now) => write!(
                    f,
                    "{sep}{} planned from {} to {}, now {}",
                    field.field, field.planned_from, field.planned_to, now
                )?,
                None => write!(f, "{sep}no longer in the fleet")?,
            }
        }
        Ok(())
    }
}

/// `--expect-checksum`: with or without the `sha256:` prefix.
pub fn check_checksum(plan: &Plan, expected: Option<&str>) -> Result<(), ApplyError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let bare = |s: &str| s.trim().trim_start_matches("sha256:").to_ascii_lowercase();
    if bare(expected) == bare(&plan.checksum) {
        Ok(())
    } else {
        Err(ApplyError::Checksum {
            expected: expected.trim().to_string(),
            actual: plan.checksum.clone(),
        })
    }
}

/// The spec directory an apply of a plan file was given (`--spec DIR`) and its digest now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenSpec {
    pub dir: std::path::PathBuf,
    pub digest: String,
}

/// `--spec DIR` with a plan file: DIR's spec must be the one the plan was made from, else the
/// plan no longer says what the spec wants and nothing is applied.
pub fn check_spec_digest(plan: &Plan, given: Option<&GivenSpec>) -> Result<(), ApplyError> {
    match given {
        Some(spec) if spec.digest != plan.spec_digest => Err(ApplyError::SpecChanged {
            dir: spec.dir.clone(),
            now: spec.digest.clone(),
            planned: plan.spec_digest.clone(),
        }),
        _ => Ok(()),
    }
}

/// The guards that stop this plan under the apply's flags and settings, and its failing
/// `deny` checks (no flag lets those through).
pub fn stopping_guards(plan: &Plan, guards: &Guards) -> Vec<GuardResult> {
    guards_for(plan, guards)
        .into_iter()
        .filter(|g| g.stops)
        .chain(plan.denying_checks())
        .collect()
}

/// `iccid in [...]` filters of at most [`ICCIDS_PER_FILTER`].
pub(crate) fn iccid_filters<'a>(iccids: impl IntoIterator<Item = &'a String>) -> Vec<SimFilter> {
    let all: Vec<String> = iccids.into_iter().cloned().collect();
    all.chunks(ICCIDS_PER_FILTER)
        .map(|chunk| SimFilter {
            iccid: Some(StringFilter {
                in_: Some(chunk.to_vec()),
                ..StringFilter::default()
            }),
            ..SimFilter::default()
        })
        .collect()
}

/// Reads `iccids` again (every page), trying again within [`retry::READ_TRIES`].
pub(crate) async fn read_sims<'a>(
    client: &Client,
    iccids: impl IntoIterator<Item = &'a String>,
    concurrency: usize,
) -> Result<api::FetchedSims, api::ApiError> {
    let scope = FetchScope::Filters(iccid_filters(iccids));
    retry::again(retry::READ_TRIES, || {
        api::fetch_sims(
            client,
            scope.clone(),
            FetchOptions {
                concurrency: concurrency.max(1),
                ..FetchOptions::default()
            },
        )
    })
    .await
}

/// Where a re-read found the SIMs of a saved plan.
#[derive(Debug, Default)]
pub struct Resume {
    /// SIMs at every planned value already: nothing is sent for them.
    pub done: BTreeSet<String>,
    /// SIMs midway along a multi-step status path: how many steps of it are left. The lead-in
    /// steps before that are not sent again.
    pub steps_left: BTreeMap<String, u8>,
    /// Of those, the ones still moving to the status of their last step made (13 on its way
    /// to 2): they must stand there before their next step is sent.
    pub settling: BTreeMap<String, i32>,
}

/// Re-reads the touched SIMs; returns the ICCIDs already at their targets and those midway
/// along a status path, or the stale SIMs.
pub async fn recheck(
    plan: &Plan,
    client: &Client,
    concurrency: usize,
) -> Result<Resume, ApplyError> {
    let fetched = read_sims(client, plan.changes.iter().map(|c| &c.iccid), concurrency)
        .await
        .map_err(ApplyError::Recheck)?;
    let live: HashMap<&str, &crate::fleet::Sim> =
        fetched.sims.iter().map(|s| (s.iccid.as_str(), s)).collect();

    let mut resume = Resume::default();
    let mut stale = Vec::new();
    for change in &plan.changes {
        let fields = change.fields().filter(|f| !f.implied);
        let Some(sim) = live.get(change.iccid.as_str()) else {
            stale.push(StaleSim {
                iccid: change.iccid.clone(),
                fields: vec![StaleField {
                    field: "iccid".into(),
                    planned_from: FieldValue::Null,
                    planned_to: FieldValue::Null,
                    now: None,
                }],
            });
            continue;
        };
        let mut all_done = true;
        let mut moved = Vec::new();
        for f in fields {
            match field_state(sim, &f) {
                FieldState::AtTo | FieldState::Converging => {}
                FieldState::AtFrom => all_done = false,
                FieldState::Midway { done } => {
                    all_done = false;
                    let at = f.via.get(done.wrapping_sub(1));
                    if let Some(at) = at.filter(|at| *at != sim.statusid) {
                        resume.settling.insert(change.iccid.clone(), at);
                    }
                    let left = (f.via.len() + 1).saturating_sub(done);
                    resume
                        .steps_left
                        .insert(change.iccid.clone(), u8::try_from(left).unwrap_or(u8::MAX));
                }
                FieldState::Neither => moved.push(StaleField {
                    field: f.field.name().to_string(),
                    planned_from: f.from.clone(),
                    planned_to: f.to.clone(),
                    now: Some(live_value(sim, f.field)),
                }),
            }
        }
        if !moved.is_empty() {
            stale.push(StaleSim {
                iccid: change.iccid.clone(),
                fields: moved,
            });
        } else if all_done {
            resume.done.insert(change.iccid.clone());
        }
    }
    if stale.is_empty() {
        Ok(resume)
    } else {
        Err(ApplyError::Stale(stale))
    }
}
