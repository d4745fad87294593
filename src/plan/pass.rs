//! The per-SIM pass: every live SIM in view is resolved against the spec once and decided, and
//! dropped unless it changes. What the pass finds wrong across the whole fleet (conflicts
//! between rules, `sims:` entries the fleet lacks) is collected over every run and reported all
//! together, and what it finds suspicious (rules that match nothing) becomes a warning.
//!
//! A [`Pass`] is shared by every run of a plan (it is `Sync`); a [`Run`] is one contiguous run
//! of SIMs, decided on one core. [`Pass::finish`] joins runs given in ICCID order.

use std::collections::HashSet;

use crate::fleet::Sim;
use crate::spec::{format_date, Conflict, Matcher, Resolution, Spec, Waiver};

use super::checks::{EndState, Tally, Waiving};
use super::decide::PartialPlan;
use super::model::{CheckResult, WaiverResult, WaiverStatus, Warning, WarningCode};
use super::status::TransitionSet;
use super::PlanError;

/// What every run of one plan shares: the spec, `--target`, the transition table, and the
/// ICCIDs of `sims:` entries (to report those the fleet lacks).
pub struct Pass<'p> {
    spec: &'p Spec,
    target: Option<&'p Matcher>,
    table: Option<TransitionSet>,
    entries: HashSet<&'p str>,
    list_unmanaged: bool,
    /// Per check of the spec, the indices of the waivers of it that hold today.
    holding: Vec<Vec<usize>>,
}

/// One run of the pass: what it decided, and what it found wrong.
pub struct Run {
    plan: PartialPlan,
    conflicts: Vec<Conflict>,
    entries_found: Vec<String>,
    /// One flag per rule of the spec: whether the rule matched a SIM of this run.
    matched: Vec<bool>,
    /// One tally per check of the spec.
    checks: Vec<Tally>,
    /// Failing SIMs each waiver of the spec waived.
    waiver_hits: Vec<u64>,
    error: Option<PlanError>,
}

impl Run {
    /// The ICCID of the first SIM this run saw, for ordering runs that arrive out of order.
    pub fn first_iccid(&self) -> Option<&str> {
        self.plan.first.as_deref()
    }

    /// True when runs given in order saw their SIMs in strictly ascending ICCID order, one run
    /// after another (so no ICCID was seen twice).
    pub fn in_order(runs: &[Run]) -> bool {
        runs.iter().all(|r| r.plan.ascending)
            && runs
                .iter()
                .filter(|r| r.plan.sims_seen > 0)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| w[0].plan.last < w[1].plan.first)
    }
}

impl<'p> Pass<'p> {
    /// A pass over the SIMs `target` selects (all without it); `list_unmanaged` when the whole
    /// fleet is read (else unmanaged SIMs are only a count).
    pub fn new(
        spec: &'p Spec,
        target: Option<&'p Matcher>,
        table: Option<TransitionSet>,
        list_unmanaged: bool,
    ) -> Pass<'p> {
        Pass {
            spec,
            target,
            table,
            entries: spec.sim_entry_iccids().map(|(iccid, _)| iccid).collect(),
            list_unmanaged,
            holding: spec
                .checks()
                .iter()
                .map(|check| {
                    let waivers = spec.waivers().iter().enumerate();
                    waivers
                        .filter(|(_, w)| w.check == check.name)
                        .filter(|(_, w)| waiver_status(spec.today(), w) != WaiverStatus::Expired)
                        .map(|(i, _)| i)
                        .collect()
                })
                .collect(),
        }
    }

    /// A new, empty run.
    pub fn run(&self) -> Run {
        Run {
            plan: PartialPlan::new(self.list_unmanaged),
            conflicts: Vec::new(),
            entries_found: Vec::new(),
            matched: vec![false; self.spec.rules().len()],
            checks: vec![Tally::default(); self.spec.checks().len()],
            waiver_hits: vec![0; self.spec.waivers().len()],
            error: None,
        }
    }

    /// Sets the transition table, once it is known (a snapshot may list it after its SIMs).
    pub fn set_table(&mut self, table: Option<TransitionSet>) {
        self.table = table;
    }

    /// Records why a SIM could not be read; a run stops at its first error.
    pub fn fail(&self, run: &mut Run, error: PlanError) {
        if run.error.is_none() {
            run.error = Some(error);
        }
    }

    /// Resolves and decides one SIM in view (all, or those `--target` selects).
    pub fn decide(&self, run: &mut Run, sim: &Sim) {
        self.decide_with(run, sim, self.table.as_ref());
    }

    /// [`Pass::decide`] with the transition table given rather than the pass's own (while a
    /// snapshot is split, the table arrives after the pass is shared).
    pub fn decide_with(&self, run: &mut Run, sim: &Sim, table: Option<&TransitionSet>) {
        if run.error.is_some() || self.target.is_some_and(|t| !t.matches(sim)) {
            return;
        }
        if self.entries.contains(sim.iccid.as_str()) {
            run.entries_found.push(sim.iccid.clone());
        }
        let matched = &mut run.matched;
        let resolution = match self.spec.resolve_noting(sim, |rule| matched[rule] = true) {
            Ok(resolution) => resolution,
            Err(conflicts) => {
                run.conflicts.extend(conflicts);
                return;
            }
        };
        if let Err(e) = run.plan.visit_resolution(sim, resolution, table) {
            run.error = Some(e);
            return;
        }
        self.judge_checks(run, sim, resolution.as_ref());
    }

    /// Judges the spec's checks on one SIM, now and after the plan (whose changes to the SIM, if
    /// any, are the run's last).
    fn judge_checks(&self, run: &mut Run, sim: &Sim, resolution: Option<&Resolution<'_>>) {
        let checks = self.spec.checks();
        if checks.is_empty() {
            return;
        }
        let changed = run
            .plan
            .changes
            .last()
            .filter(|change| change.iccid == sim.iccid)
            .map(|change| change.set().targets())
            .unwrap_or_default();
        let now = EndState::now(sim);
        let end = EndState::after(
            sim,
            resolution,
            changed.iter().map(|f| (f.field, f.implied)),
        );
        let all = self.spec.waivers();
        for ((check, tally), holding) in checks.iter().zip(&mut run.checks).zip(&self.holding) {
            if check.select.matches(sim) {
                let mut waiving = Waiving {
                    holding,
                    all,
                    hits: &mut run.waiver_hits,
                };
                tally.judge(check, &now, &end, resolution, changed, &mut waiving);
            }
        }
    }

    /// Decides a slice of SIMs as one run.
    pub fn decide_all(&self, sims: &[Sim]) -> Run {
        let mut run = self.run();
        for sim in sims {
            self.decide(&mut run, sim);
        }
        run
    }

    /// The runs' plans joined in the order given, with the warnings the pass raised; or every
    /// conflict between rules and every `sims:` entry the fleet lacks, all together.
    pub fn finish(&self, runs: Vec<Run>) -> Result<(PartialPlan, Vec<Warning>), PlanError> {
        let mut plans = Vec::with_capacity(runs.len());
        let mut conflicts = Vec::new();
        let mut found = HashSet::new();
        let mut matched = vec![false; self.spec.rules().len()];
        let mut tallies = vec![Tally::default(); self.spec.checks().len()];
        let mut hits = vec![0; self.spec.waivers().len()];
        for run in runs {
            if let Some(e) = run.error {
                return Err(e);
            }
            plans.push(run.plan);
            conflicts.extend(run.conflicts);
            found.extend(run.entries_found);
            for (any, this) in matched.iter_mut().zip(run.matched) {
                *any |= this;
            }
            for (all, this) in tallies.iter_mut().zip(run.checks) {
                all.merge(this);
            }
            for (all, this) in hits.iter_mut().zip(run.waiver_hits) {
                *all += this;
            }
        }
        if !conflicts.is_empty() {
            // Runs that saw only conflicting SIMs cannot be put in order by what they decided.
            conflicts.sort_by(|a, b| (&a.iccid, a.field).cmp(&(&b.iccid, b.field)));
            return Err(PlanError::Conflicts(conflicts));
        }
        self.check_entries_exist(&found)?;
        let mut partial = PartialPlan::concat(plans);
        partial.checks = (self.spec.checks().iter().zip(tallies))
            .map(|(check, tally)| tally.result(check))
            .collect();
        partial.waivers = self.waiver_results(&hits);
        let mut warnings = self.warnings(&matched);
        warnings.extend(self.unmatched_checks(&partial.checks));
        warnings.extend(
            partial
                .waivers
                .iter()
                .filter(|w| w.status == WaiverStatus::Expiring)
                .map(|w| Warning {
                    code: WarningCode::WaiverExpiring,
                    message: format!(
                        "the waiver of check {} ({}) expires on {}: renew it or fix the SIMs it covers",
                        w.check, w.location, w.expires
                    ),
                }),
        );
        Ok((partial, warnings))
    }

    /// Every `sims:` entry must name a live SIM. With `--target` only part of the fleet is in
    /// view: entries outside it are not checked.
    fn check_entries_exist(&self, found: &HashSet<String>) -> Result<(), PlanError> {
        if self.target.is_some() {
            return Ok(());
        }
        let missing: Vec<String> = self
            .spec
            .sim_entry_iccids()
            .filter(|(iccid, _)| !found.contains(*iccid))
            .map(|(iccid, origin)| format!("{iccid} ({})", origin.location()))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(PlanError::UnknownIccids(missing))
        }
    }

    /// Every waiver of the spec, judged on the spec's date, with what it waived.
    fn waiver_results(&self, hits: &[u64]) -> Vec<WaiverResult> {
        let today = self.spec.today();
        self.spec
            .waivers()
            .iter()
            .zip(hits)
            .map(|(w, &waived)| WaiverResult {
                check: w.check.clone(),
                location: w.location(),
                reason: w.reason.clone(),
                expires: format_date(w.expires),
                status: waiver_status(today, w),
                waived,
            })
            .collect()
    }

    /// A check that selects no SIM in view judges nothing: a warning (not judged under
    /// `--target`, which hides part of the fleet).
    fn unmatched_checks(&self, results: &[CheckResult]) -> Vec<Warning> {
        if self.target.is_some() {
            return Vec::new();
        }
        results
            .iter()
            .filter(|c| c.selected == 0)
            .map(|c| Warning {
                code: WarningCode::UnmatchedCheck,
                message: format!(
                    "check {} ({}) selects no live SIM: check its `select`",
                    c.name, c.location
                ),
            })
            .collect()
    }

    /// Silent no-ops made loud: a spec with nothing in it, and each rule that matched no SIM in
    /// view (not judged under `--target`, which hides part of the fleet).
    fn warnings(&self, matched: &[bool]) -> Vec<Warning> {
        let rules = self.spec.rules();
        if rules.is_empty() && self.entries.is_empty() {
            return vec![Warning {
                code: WarningCode::EmptySpec,
                message: "the spec has no rules and no `sims:` entries: nothing is managed"
                    .to_string(),
            }];
        }
        if self.target.is_some() {
            return Vec::new();
        }
        rules
            .iter()
            .zip(matched)
            .filter(|(_, matched)| !**matched)
            .map(|(rule, _)| Warning {
                code: WarningCode::UnmatchedRule,
                message: format!(
                    "rule {} ({}) matches no live SIM: check its `match`",
                    rule.name,
                    rule.origin.location()
                ),
            })
            .collect()
    }
}

/// Days before its date a waiver is reported as expiring.
const EXPIRY_NOTICE_DAYS: i64 = 7;

/// A waiver on `today` (days since 1970-01-01): it holds through its `expires` day; a week
/// before, it is expiring; after, or with no date to judge by, it is expired.
fn waiver_status(today: Option<i64>, waiver: &Waiver) -> WaiverStatus {
    match today {
        Some(today) if today <= waiver.expires - EXPIRY_NOTICE_DAYS => WaiverStatus::Active,
        Some(today) if today <= waiver.expires => WaiverStatus::Expiring,
        _ => WaiverStatus::Expired,
    }
}
