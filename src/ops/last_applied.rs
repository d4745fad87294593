//! `--last-applied PLANFILE`: finds the live SIMs of the last applied plan and attaches what
//! drifted since it to the plan (the comparison itself is [`crate::plan::last_applied`], pure).
//!
//! SIMs the plan's own read saw are compared as that read found them (kept by
//! [`Keeper`] while the pages go by); the others (filters pushed down, `--target`, a rule
//! removed since the apply so the SIM is unmanaged now) are read again by ICCID, the way
//! `apply` re-reads the SIMs of a saved plan. With `--live SNAPSHOT` they come from the
//! snapshot. A SIM found nowhere is reported as not found (deleted).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::api;
use crate::fleet::Sim;
use crate::plan::last_applied::{compare, LastApplied, LiveSims};
use crate::plan::Plan;
use crate::spec::Spec;
use crate::Error;

/// Keeps, from the pages of a read, the SIMs the last applied plan changed.
#[derive(Debug, Default)]
pub struct Keeper {
    wanted: HashSet<String>,
    pub kept: Vec<Sim>,
}

impl Keeper {
    /// A keeper of the SIMs `last` changed (none without `--last-applied`).
    pub fn of(last: Option<&LastApplied>) -> Keeper {
        Keeper {
            wanted: last
                .map(|l| l.iccids().into_iter().map(str::to_string).collect())
                .unwrap_or_default(),
            kept: Vec::new(),
        }
    }

    /// Keeps the wanted SIMs of one page.
    pub fn page(&mut self, sims: &[Sim]) {
        if self.wanted.is_empty() {
            return;
        }
        // Each SIM once: a partition read again, or two pushed-down scopes, hand it in twice.
        let wanted = &mut self.wanted;
        self.kept
            .extend(sims.iter().filter(|s| wanted.remove(&s.iccid)).cloned());
    }
}

/// Compares the last plan's SIMs, as the plan's read kept them or read again by ICCID now,
/// and attaches the report to `plan`. Returns a note on what was read again, if anything was.
pub async fn attach_from_api(
    client: &api::Client,
    plan: &mut Plan,
    last: &LastApplied,
    kept: Vec<Sim>,
    spec: &Spec,
    concurrency: usize,
) -> Result<Option<String>, Error> {
    let seen: HashSet<&str> = kept.iter().map(|s| s.iccid.as_str()).collect();
    let unseen: Vec<String> = (last.iccids().into_iter())
        .filter(|iccid| !seen.contains(iccid))
        .map(str::to_string)
        .collect();
    if unseen.is_empty() {
        attach(plan, last, &kept, &[], spec);
        return Ok(None);
    }
    let again = crate::apply::read_sims(client, &unseen, concurrency).await?;
    attach(plan, last, &kept, &again.sims, spec);
    Ok(Some(format!(
        "--last-applied: {} of {}'s SIMs were outside this read, read again by ICCID ({} found, {} requests)",
        unseen.len(),
        last.path,
        again.sims.len(),
        again.requests
    )))
}

/// Compares the last plan's SIMs as the snapshot at `path` holds them.
pub fn attach_from_snapshot(
    path: &Path,
    plan: &mut Plan,
    last: &LastApplied,
    spec: &Spec,
) -> Result<(), Error> {
    let iccids: Vec<String> = last.iccids().into_iter().map(str::to_string).collect();
    let (sims, _) = super::explain::read_snapshot(path, &iccids)?;
    attach(plan, last, &sims, &[], spec);
    Ok(())
}

/// The comparison of `seen` (from the plan's own read) and `again` (read again).
fn attach(plan: &mut Plan, last: &LastApplied, seen: &[Sim], again: &[Sim], spec: &Spec) {
    let sims: HashMap<&str, &Sim> = (seen.iter().chain(again))
        .map(|s| (s.iccid.as_str(), s))
        .collect();
    let live = LiveSims {
        sims,
        read_again: again.len(),
    };
    plan.since_last_apply = Some(compare(last, &live, spec, plan));
}
