//! Evaluating the spec's checks on each SIM's end state, inside the per-SIM pass.
//!
//! A SIM's end state is its live value for every field the plan leaves alone and the planned
//! value for every field it changes (an implied 20 → 2 included; a read-only field such as `imei`
//! or this month's usage is always its live value), so a check costs no second pass
//! over the fleet. Each SIM is judged twice, now and after the plan, which splits the failures
//! three ways: failing now and not fixed, made to fail by the plan, and fixed by it (not a
//! failure). Per SIM nothing is allocated: values are borrowed and compared by the rules of
//! meaning in [`super::compare`]; only the at most [`MAX_EXAMPLES`] smallest failing ICCIDs of a
//! check are copied, so which examples a plan shows does not depend on how the fleet was split.

use std::sync::Arc;

use crate::fleet::Sim;
use crate::spec::{
    Check, CheckField, Counted, DesiredValue, Expectation, Field, ImeiLockSetting, Limit, Origin,
    ReadOnlyField, Resolution,
};

use super::change_set::Target;
use super::compare;
use super::model::{CheckExample, CheckResult, LimitResult, RiskFlag};
use super::status::ACTIVATED;

/// Failing SIMs a check lists (the others are counted).
pub const MAX_EXAMPLES: usize = 20;

const FIELDS: usize = Field::ALL.len();

/// The status an implied activation (an IMEI unlock in status 20) ends in.
static ACTIVATED_END: DesiredValue = DesiredValue::Status(ACTIVATED);

/// One SIM after the plan: the planned value of each field the plan changes, else the live one.
pub(super) struct EndState<'a> {
    sim: &'a Sim,
    planned: [Option<&'a DesiredValue>; FIELDS],
}

impl<'a> EndState<'a> {
    /// The SIM as it is now (nothing planned).
    pub(super) fn now(sim: &'a Sim) -> EndState<'a> {
        EndState {
            sim,
            planned: [None; FIELDS],
        }
    }

    /// The SIM after the plan: `changed` are the fields the plan changes (`implied` for the
    /// status an IMEI unlock activates), whose values come from `resolution`.
    pub(super) fn after(
        sim: &'a Sim,
        resolution: Option<&Resolution<'a>>,
        changed: impl Iterator<Item = (Field, bool)>,
    ) -> EndState<'a> {
        let mut state = EndState::now(sim);
        for (field, implied) in changed {
            state.planned[field as usize] = if implied {
                Some(&ACTIVATED_END)
            } else {
                resolution.and_then(|r| r.get(field)).map(|r| &r.value)
            };
        }
        state
    }

    /// True when the plan changes a field `check` tests (else the end state judges as now).
    fn changes_any_of(&self, check: &Check) -> bool {
        check
            .expect
            .iter()
            .any(|(field, _)| self.planned_value(*field).is_some())
    }

    /// The planned value of a field the plan changes (never of a read-only one).
    fn planned_value(&self, field: CheckField) -> Option<&'a DesiredValue> {
        field.settable().and_then(|f| self.planned[f as usize])
    }

    /// True when the field's end value counts as `want`, by the plan's rules of meaning.
    fn is(&self, field: CheckField, want: &DesiredValue) -> bool {
        match (field.settable(), self.planned_value(field)) {
            (Some(field), None) => compare::holds(field, want, self.sim),
            (Some(_), Some(have)) => desired_counts_as(want, have),
            // Read-only: the live value, compared as text (a provider by its name).
            (None, _) => match want {
                DesiredValue::Text(text) => {
                    compare::text_holds(text.as_deref(), live_text(self.sim, field))
                }
                _ => false,
            },
        }
    }

    /// A limit's end value (`unlimited` for a live null or 0), or a usage counter's (0 for a
    /// live null).
    fn limit(&self, field: CheckField) -> Limit {
        if let Some(usage) = live_usage(self.sim, field) {
            return Limit::Value(usage);
        }
        match (field.settable(), self.planned_value(field)) {
            (_, Some(DesiredValue::Limit(limit))) => *limit,
            (Some(field), None) => match compare::live_limit(self.sim, field) {
                None | Some(0) => Limit::Unlimited,
                Some(v) => Limit::Value(v),
            },
            _ => Limit::Unlimited,
        }
    }

    /// True when a text field ends with a value (`""` counts as none, as the API reads it).
    fn has_text(&self, field: CheckField) -> bool {
        !self.is(field, &DesiredValue::Text(None))
    }

    fn passes(&self, field: CheckField, expectation: &Expectation) -> bool {
        match expectation {
            Expectation::AnyOf(values) => values.iter().any(|v| self.is(field, v)),
            Expectation::NoneOf(values) => !values.iter().any(|v| self.is(field, v)),
            Expectation::AtMost(bound) => self.limit(field).is_at_most(*bound),
            Expectation::AtLeast(bound) => bound.is_at_most(self.limit(field)),
            Expectation::Present => self.has_text(field),
            Expectation::Absent => !self.has_text(field),
        }
    }

    /// The first field of `check` this state fails, or `None` when it passes.
    pub(super) fn first_failure(&self, check: &Check) -> Option<CheckField> {
        check
            .expect
            .iter()
            .find(|(field, expectation)| !self.passes(*field, expectation))
            .map(|(field, _)| *field)
    }

    /// The field's end value as the spec writes it (`1GB`, `activated`, `off`, `link+`).
    fn spec_value(&self, field: CheckField) -> String {
        if let Some(usage) = live_usage(self.sim, field) {
            return field.format(&DesiredValue::Limit(Limit::Value(usage)));
        }
        let value = match (field.settable(), self.planned_value(field)) {
            (_, Some(value)) => value.clone(),
            (Some(f), None) => compare::desired_from_api(f, &compare::live_value(self.sim, f)),
            (None, None) => DesiredValue::Text(live_text(self.sim, field).map(str::to_string)),
        };
        field.format(&value)
    }
}

/// A read-only text field's live value (the provider's name for `provider`).
fn live_text(sim: &Sim, field: CheckField) -> Option<&str> {
    match field {
        CheckField::ReadOnly(ReadOnlyField::Provider) => {
            crate::fleet::tables::provider_name(sim.providerid)
        }
        CheckField::ReadOnly(ReadOnlyField::Imei) => sim.imei.as_deref(),
        CheckField::ReadOnly(ReadOnlyField::Imsi) => sim.imsi.as_deref(),
        CheckField::ReadOnly(ReadOnlyField::Msisdn) => sim.msisdn.as_deref(),
        CheckField::ReadOnly(ReadOnlyField::Nwc) => sim.nwc.as_deref(),
        CheckField::ReadOnly(ReadOnlyField::Apn) => sim.apn.as_deref(),
        CheckField::ReadOnly(ReadOnlyField::IpAddress) => sim.ip_address.as_deref(),
        _ => None,
    }
}

/// A usage counter's live value (a null counts as nothing used), `None` for other fields.
fn live_usage(sim: &Sim, field: CheckField) -> Option<i64> {
    let CheckField::ReadOnly(field) = field else {
        return None;
    };
    let value = match field {
        ReadOnlyField::MonthlyDataVolume => sim.monthly_data_volume,
        ReadOnlyField::MonthlySmsMo => sim.monthly_sms_mo.map(i64::from),
        ReadOnlyField::MonthlySmsMt => sim.monthly_sms_mt.map(i64::from),
        ReadOnlyField::MonthlyVoiceMo => sim.monthly_voice_mo,
        ReadOnlyField::PreviousMonthDataVolume => sim.previous_month_data_volume,
        _ => return None,
    };
    Some(value.unwrap_or(0))
}

/// True when a planned value counts as `want`, by the same rules [`compare::holds`] applies to
/// live values: `none` equals `""`, `auto` equals any lock, an IMEI equals only itself.
fn desired_counts_as(want: &DesiredValue, have: &DesiredValue) -> bool {
    match (want, have) {
        (DesiredValue::Text(want), DesiredValue::Text(have)) => {
            compare::text_holds(want.as_deref(), have.as_deref())
        }
        (DesiredValue::ImeiLock(want), DesiredValue::ImeiLock(have)) => {
            matches!(
                (want, have),
                (ImeiLockSetting::Off, ImeiLockSetting::Off)
                    | (
                        ImeiLockSetting::Auto,
                        ImeiLockSetting::Auto | ImeiLockSetting::Imei(_)
                    )
            ) || matches!((want, have), (ImeiLockSetting::Imei(a), ImeiLockSetting::Imei(b)) if a == b)
        }
        _ => want == have,
    }
}

/// What one run of the pass found for one check.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    selected: u64,
    fails_unfixed: u64,
    made_failing: u64,
    fixed: u64,
    /// Failing SIMs, kept to the [`MAX_EXAMPLES`] smallest ICCIDs (at most twice that between
    /// compactions).
    examples: Vec<CheckExample>,
    /// Once compacted: the largest ICCID kept; a larger one cannot be an example.
    cutoff: Option<String>,
    /// For a `limit` check: the selected SIMs each limit counts.
    counts: Vec<u64>,
    /// Failing SIMs a waiver covers.
    waived: u64,
}

/// The waivers that hold for one check, and where to count what each waives.
pub(super) struct Waiving<'a> {
    /// Indices into `all` of the waivers that hold for this check.
    pub(super) holding: &'a [usize],
    pub(super) all: &'a [crate::spec::Waiver],
    /// One count per waiver of the spec.
    pub(super) hits: &'a mut [u64],
}

impl Waiving<'_> {
    /// True (and counted) when a waiver that holds covers the SIM.
    fn covers(&mut self, sim: &Sim) -> bool {
        match self
            .holding
            .iter()
            .find(|&&i| self.all[i].select.matches(sim))
        {
            Some(&i) => {
                self.hits[i] += 1;
                true
            }
            None => false,
        }
    }
}

impl Tally {
    /// Judges one SIM selected by the check: `now` is it as read, `end` after the plan; the
    /// origin of each field's value comes from `resolution`.
    pub(super) fn judge(
        &mut self,
        check: &Check,
        now: &EndState<'_>,
        end: &EndState<'_>,
        resolution: Option<&Resolution<'_>>,
        changed: &[Target],
        waiving: &mut Waiving<'_>,
    ) {
        self.selected += 1;
        if !check.limits.is_empty() {
            if changed.is_empty() {
                return;
            }
            if waiving.covers(end.sim) {
                self.waived += 1;
            } else {
                self.count_changes(check, end, resolution, changed);
            }
            return;
        }
        let failed_now = now.first_failure(check);
        let failed_end = if end.changes_any_of(check) {
            end.first_failure(check)
        } else {
            failed_now
        };
        let (field, made_failing) = match (failed_now, failed_end) {
            (None, None) => return,
            (Some(_), None) => {
                self.fixed += 1;
                return;
            }
            (_, Some(_)) if waiving.covers(end.sim) => {
                self.waived += 1;
                return;
            }
            (Some(_), Some(field)) => {
                self.fails_unfixed += 1;
                (field, false)
            }
            (None, Some(field)) => {
                self.made_failing += 1;
                (field, true)
            }
        };
        self.example(end, field, made_failing, resolution);
    }

    /// Counts one selected SIM under each limit its change meets, keeping it as an example.
    fn count_changes(
        &mut self,
        check: &Check,
        end: &EndState<'_>,
        resolution: Option<&Resolution<'_>>,
        changed: &[Target],
    ) {
        if changed.is_empty() {
            return;
        }
        self.counts.resize(check.limits.len(), 0);
        let mut first = None;
        for (limit, count) in check.limits.iter().zip(&mut self.counts) {
            if let Some(field) = counted_field(&limit.counted, changed) {
                *count += 1;
                first = first.or(Some(field));
            }
        }
        if let Some(field) = first {
            self.example(end, field.into(), true, resolution);
        }
    }

    /// Keeps a failing (or counted) SIM while it is among the smallest ICCIDs.
    fn example(
        &mut self,
        end: &EndState<'_>,
        field: CheckField,
        made_failing: bool,
        resolution: Option<&Resolution<'_>>,
    ) {
        let iccid = end.sim.iccid.as_str();
        if self.cutoff.as_deref().is_some_and(|cut| iccid >= cut) {
            return;
        }
        self.examples.push(CheckExample {
            iccid: iccid.to_string(),
            field,
            value: end.spec_value(field),
            made_failing,
            source: source_of(end, field, resolution),
        });
        if self.examples.len() >= 2 * MAX_EXAMPLES {
            self.compact();
        }
    }

    fn compact(&mut self) {
        self.examples.sort_by(|a, b| a.iccid.cmp(&b.iccid));
        self.examples.truncate(MAX_EXAMPLES);
        if self.examples.len() == MAX_EXAMPLES {
            self.cutoff = self.examples.last().map(|e| e.iccid.clone());
        }
    }

    /// Adds another run's tally (in any order: examples are kept by ICCID).
    pub(super) fn merge(&mut self, other: Tally) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (all, this) in self.counts.iter_mut().zip(other.counts) {
            *all += this;
        }
        self.selected += other.selected;
        self.waived += other.waived;
        self.fails_unfixed += other.fails_unfixed;
        self.made_failing += other.made_failing;
        self.fixed += other.fixed;
        self.examples.extend(other.examples);
        self.compact();
    }

    /// The check's result in the plan.
    pub(super) fn result(mut self, check: &Check) -> CheckResult {
        self.compact();
        self.counts.resize(check.limits.len(), 0);
        let limits: Vec<LimitResult> = check
            .limits
            .iter()
            .zip(&self.counts)
            .map(|(limit, &counted)| LimitResult {
                what: limit.describe(),
                counted,
                at_most: limit.at_most.ceiling(self.selected),
            })
            .collect();
        if !limits.is_empty() {
            // The change itself fails a limit check: the SIMs counted by the limits exceeded.
            let over = limits.iter().filter(|l| l.counted > l.at_most);
            self.made_failing = over.map(|l| l.counted).max().unwrap_or(0);
            if self.made_failing == 0 {
                self.examples.clear();
            }
        }
        CheckResult {
            name: check.name.clone(),
            level: check.level,
            message: check.message.clone(),
            location: check.location(),
            selected: self.selected,
            failing: self.fails_unfixed + self.made_failing,
            fails_unfixed: self.fails_unfixed,
            made_failing: self.made_failing,
            fixed: self.fixed,
            waived: self.waived,
            examples: self.examples,
            limits,
        }
    }
}

/// The field by which a SIM's change meets what a limit counts, if it does.
fn counted_field(counted: &Counted, changed: &[Target]) -> Option<Field> {
    let hit = changed.iter().find(|change| match counted {
        Counted::Field(field) => change.field == *field,
        Counted::StatusTo(ids) => {
            change.field == Field::Status
                && change
                    .to
                    .as_i64()
                    .is_some_and(|to| ids.iter().any(|id| i64::from(*id) == to))
        }
        Counted::ImeiUnlocks => change.flags.contains(RiskFlag::ImeiUnlock),
    });
    hit.map(|change| change.field)
}

/// The rule or entry that set the field's end value, when one did: the one the plan applies, or
/// the one whose value already holds.
fn source_of(
    end: &EndState<'_>,
    field: CheckField,
    resolution: Option<&Resolution<'_>>,
) -> Option<Arc<Origin>> {
    let field = field.settable()?;
    let resolved = resolution?.get(field)?;
    let set_by_it = match end.planned[field as usize] {
        Some(planned) => std::ptr::eq(planned, &resolved.value),
        None => compare::holds(field, &resolved.value, end.sim),
    };
    set_by_it.then(|| resolved.origin.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{EndCustomerLabel, ImeiLock, LiveFleet};
    use crate::outcome::{exit_code, Outcome};
    use crate::plan::tests::{converges, iccid, sim, table};
    use crate::plan::{plan_fleet, Guards, Plan, PlanRequest};
    use crate::spec::{CheckLevel, Matcher, Rule, SimEntry, Spec};
    use proptest::prelude::*;

    /// The spec in `yaml` (one file), loaded as the binary loads it.
    fn spec_of(yaml: &str) -> Spec {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("fleet.yaml"), yaml).expect("write spec");
        // The test ICCIDs carry no check digit.
        std::fs::write(dir.path().join("simfleet.yaml"), "luhn_check: false\n")
            .expect("write config");
        match crate::spec::load(dir.path()) {
            Ok(loaded) => loaded.spec,
            Err(e) => panic!("spec loads: {e}"),
        }
    }

    /// The messages of a spec that does not load.
    fn errors_of(yaml: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("fleet.yaml"), yaml).expect("write spec");
        match crate::spec::load(dir.path()) {
            Ok(_) => panic!("the spec must not load"),
            Err(e) => e.to_string(),
        }
    }

    fn plan_of(spec: &Spec, sims: &[Sim]) -> Plan {
        let request = PlanRequest {
            spec,
            target: None,
            guards: Guards::default(),
        };
        plan_fleet(
            &request,
            LiveFleet {
                sims: sims.to_vec(),
                sims_total: sims.len() as u64,
                coverage: crate::fleet::Coverage::Full,
                transitions: Some(table()),
                running_batch_jobs: Vec::new(),
            },
        )
        .expect("plan")
    }

    /// (failing, fails_unfixed, made_failing, fixed) of the plan's only check.
    fn split(plan: &Plan) -> (u64, u64, u64, u64) {
        let c = &plan.checks[0];
        (c.failing, c.fails_unfixed, c.made_failing, c.fixed)
    }

    fn check_yaml(level: &str, select: &str, expect: &str) -> String {
        format!(
            "checks:\n  - name: c\n    level: {level}\n    message: m\n    select: {select}\n    expect: {expect}\n"
        )
    }

    /// Plans `sims` against one check (and no rule) and gives how many fail.
    fn failing(expect: &str, sims: &[Sim]) -> u64 {
        plan_of(&spec_of(&check_yaml("warn", "all", expect)), sims).checks[0].failing
    }

    fn with(n: u64, edit: impl FnOnce(&mut Sim)) -> Sim {
        let mut s = sim(n, 2);
        edit(&mut s);
        s
    }

    #[test]
    fn every_expect_form_judges_live_values_by_the_rules_of_meaning() {
        let gb = 1_000_000_000;
        let fleet = [
            with(1, |s| s.monthly_data_limit = Some(gb)),
            with(2, |s| s.monthly_data_limit = Some(2 * gb)),
            with(3, |s| s.monthly_data_limit = Some(0)),
            with(4, |s| s.monthly_data_limit = None),
        ];
        assert_eq!(
            failing("{ monthly_data_limit: { at_most: 1GB } }", &fleet),
            3
        );
        assert_eq!(
            failing("{ monthly_data_limit: { at_most: unlimited } }", &fleet),
            0
        );
        assert_eq!(
            failing("{ monthly_data_limit: { at_least: 2GB } }", &fleet),
            1
        );
        assert_eq!(failing("{ monthly_data_limit: unlimited }", &fleet), 2);
        assert_eq!(failing("{ monthly_data_limit: [1GB, 2GB] }", &fleet), 2);
        assert_eq!(
            failing(
                "{ monthly_data_limit: { none_of: [unlimited, 1GB] } }",
                &fleet
            ),
            3
        );
        assert_eq!(failing("{ status: activated }", &fleet), 0);
        assert_eq!(failing("{ status: { not: activated } }", &fleet), 4);
        let locks = [
            with(1, |s| s.imei_lock = None),
            with(2, |s| {
                s.imei_lock = Some(ImeiLock {
                    enabled: false,
                    imei: Some("356938035643809".into()),
                })
            }),
            with(3, |s| {
                s.imei_lock = Some(ImeiLock {
                    enabled: true,
                    imei: Some("356938035643809".into()),
                })
            }),
            with(4, |s| {
                s.imei_lock = Some(ImeiLock {
                    enabled: true,
                    imei: None,
                })
            }),
        ];
        assert_eq!(failing(r#"{ imei_lock: { not: "off" } }"#, &locks), 2);
        assert_eq!(failing("{ imei_lock: auto }", &locks), 2);
        assert_eq!(failing(r#"{ imei_lock: "356938035643809" }"#, &locks), 3);
        let labels = [
            with(1, |s| s.end_customer_label = None),
            with(2, |s| {
                s.end_customer_label = Some(EndCustomerLabel {
                    name: String::new(),
                })
            }),
            with(3, |s| {
                s.end_customer_label = Some(EndCustomerLabel {
                    name: "ACME".into(),
                })
            }),
        ];
        assert_eq!(
            failing("{ end_customer_label: { present: true } }", &labels),
            2
        );
        assert_eq!(
            failing("{ end_customer_label: { absent: true } }", &labels),
            1
        );
        assert_eq!(failing("{ end_customer_label: none }", &labels), 1);
        assert_eq!(
            failing("{ end_customer_label: ACME, status: activated }", &labels),
            2
        );
    }

    #[test]
    fn the_end_state_splits_failures_three_ways_with_examples_and_sources() {
        let gb = 1_000_000_000;
        // SIM 1 fails and stays; SIM 2 passes and the rule breaks it; SIM 3 fails and the
        // entry fixes it; SIM 4 passes and stays.
        let yaml = format!(
            "rules:\n  - name: big\n    match: {{ custom_field_1: big }}\n    set: {{ monthly_data_limit: 5GB }}\nsims:\n  \"{}\": {{ monthly_data_limit: 1GB }}\n{}",
            iccid(3),
            check_yaml("deny", "all", "{ monthly_data_limit: { at_most: 1GB } }")
        );
        let spec = spec_of(&yaml);
        let fleet = [
            with(1, |s| s.monthly_data_limit = Some(3 * gb)),
            with(2, |s| {
                s.monthly_data_limit = Some(gb);
                s.custom_field_1 = Some("big".into());
            }),
            with(3, |s| s.monthly_data_limit = Some(3 * gb)),
            with(4, |s| s.monthly_data_limit = Some(gb)),
        ];
        let plan = plan_of(&spec, &fleet);
        assert_eq!(split(&plan), (2, 1, 1, 1));
        let c = &plan.checks[0];
        assert_eq!(c.selected, 4);
        assert!(c.location.ends_with("fleet.yaml:8:11"), "{}", c.location);
        let examples: Vec<(&str, &str, bool)> = c
            .examples
            .iter()
            .map(|e| (e.iccid.as_str(), e.value.as_str(), e.made_failing))
            .collect();
        assert_eq!(
            examples,
            [
                (iccid(1).as_str(), "3GB", false),
                (iccid(2).as_str(), "5GB", true)
            ]
        );
        assert!(c.examples[0].source.is_none());
        let source = c.examples[1].source.as_ref().expect("the rule set it");
        assert_eq!(
            (source.line, &source.kind),
            (4, &crate::spec::OriginKind::Rule { name: "big".into() })
        );
        assert_eq!(plan.outcome(), Outcome::Blocked);
    }

    #[test]
    fn deny_blocks_with_exit_3_and_warn_never_changes_the_exit_code() {
        let fleet = [with(1, |s| s.imei_lock = None)];
        let expect = r#"{ imei_lock: { not: "off" } }"#;
        let deny = plan_of(
            &spec_of(&check_yaml("deny", "{ status: activated }", expect)),
            &fleet,
        );
        assert!(deny.changes.is_empty());
        assert_eq!(deny.outcome(), Outcome::Blocked);
        assert_eq!(exit_code(&Ok(deny.outcome()), false), 3);
        assert_eq!(exit_code(&Ok(deny.outcome()), true), 3);
        let warn = plan_of(
            &spec_of(&check_yaml("warn", "{ status: activated }", expect)),
            &fleet,
        );
        assert_eq!(warn.checks[0].failing, 1);
        assert_eq!(exit_code(&Ok(warn.outcome()), false), 0);
        assert_eq!(exit_code(&Ok(warn.outcome()), true), 0);
        // With a change, warn keeps exit 2 under --detailed-exitcode.
        let yaml = format!(
            "rules:\n  - name: r\n    match: all\n    set: {{ monthly_sms_mo_limit: 5 }}\n{}",
            check_yaml("warn", "all", expect)
        );
        let changing = plan_of(&spec_of(&yaml), &fleet);
        assert_eq!(changing.outcome(), Outcome::Changes);
        assert_eq!(exit_code(&Ok(changing.outcome()), true), 2);
        // A deny check that passes does not block.
        let passing = plan_of(
            &spec_of(&check_yaml("deny", "{ status: suspended }", expect)),
            &fleet,
        );
        assert_eq!(
            (passing.checks[0].selected, passing.outcome()),
            (0, Outcome::Success)
        );
        // A check that selects no SIM is a warning naming it and its location.
        let unmatched: Vec<&str> = passing
            .warnings
            .iter()
            .filter(|w| w.code == crate::plan::WarningCode::UnmatchedCheck)
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(unmatched.len(), 1, "{:?}", passing.warnings);
        assert!(
            unmatched[0].starts_with("check c (") && unmatched[0].contains("fleet.yaml:2:11"),
            "{unmatched:?}"
        );
    }

    #[test]
    fn read_only_fields_and_usage_are_judged_on_their_live_values() {
        let mb = 1_000_000;
        let fleet = [
            with(1, |s| {
                s.providerid = 5;
                s.imei = Some("356938035643809".into());
                s.msisdn = Some("4915112345678".into());
                s.monthly_data_volume = Some(1500 * mb);
                s.monthly_sms_mo = Some(12);
            }),
            with(2, |s| {
                s.imei = Some(String::new());
                s.monthly_data_volume = Some(200 * mb);
                s.apn = Some("iot.example".into());
            }),
            // Nothing read: no usage counts as 0, no IMEI as absent.
            with(3, |_| {}),
        ];
        assert_eq!(failing("{ provider: link+ }", &fleet), 2);
        assert_eq!(failing("{ provider: { none_of: [5, tech+] } }", &fleet), 1);
        assert_eq!(failing("{ imei: { present: true } }", &fleet), 2);
        assert_eq!(failing("{ imei: { absent: true } }", &fleet), 1);
        assert_eq!(failing(r#"{ imei: "356938035643809" }"#, &fleet), 2);
        assert_eq!(failing(r#"{ msisdn: ["4915112345678", none] }"#, &fleet), 0);
        assert_eq!(failing("{ apn: iot.example }", &fleet), 2);
        assert_eq!(
            failing("{ monthly_data_volume: { at_most: 1GB } }", &fleet),
            1
        );
        assert_eq!(
            failing("{ monthly_data_volume: { at_least: 100MB } }", &fleet),
            1
        );
        assert_eq!(
            failing("{ monthly_data_volume: { at_most: 0 } }", &fleet),
            2
        );
        assert_eq!(failing("{ monthly_sms_mo: { at_most: 10 } }", &fleet), 1);
        assert_eq!(failing("{ monthly_voice_mo: { at_most: 60 } }", &fleet), 0);
        assert_eq!(
            failing("{ previous_month_data_volume: { at_most: 1kB } }", &fleet),
            0
        );
        // The failing value is shown in the spec's units, and no rule set it.
        let plan = plan_of(
            &spec_of(&check_yaml(
                "warn",
                "all",
                "{ monthly_data_volume: { at_most: 1GB } }",
            )),
            &fleet,
        );
        let example = &plan.checks[0].examples[0];
        assert_eq!(
            (
                example.field,
                example.value.as_str(),
                example.source.is_none()
            ),
            (ReadOnlyField::MonthlyDataVolume.into(), "1.5GB", true)
        );
        let plan = plan_of(
            &spec_of(&check_yaml("warn", "all", "{ provider: tech+ }")),
            &fleet,
        );
        assert_eq!(plan.checks[0].examples[0].value, "link+");
        // A rule changes nothing read-only: the end state of usage is the live value.
        let yaml = format!(
            "rules:\n  - name: r\n    match: all\n    set: {{ monthly_data_limit: 1GB }}\n{}",
            check_yaml("deny", "all", "{ monthly_data_volume: { at_most: 1GB } }")
        );
        let plan = plan_of(&spec_of(&yaml), &fleet);
        assert_eq!(split(&plan), (1, 1, 0, 0));
        let errors = errors_of(&check_yaml(
            "warn",
            "all",
            "{ monthly_data_volume: 1GB, monthly_sms_mt: { at_most: unlimited }, provider: { at_most: 3 }, imsi: 262011234, nwc: { present: true }, monthly_voice_mo: { present: true } }",
        ));
        for needle in [
            "monthly_data_volume: usage is compared with `at_most` or `at_least`",
            "`unlimited` is not a usage",
            "provider: `at_most` compares limits and usage only",
            "IMSI is written as a number",
            "monthly_voice_mo: `present` applies to text fields only",
        ] {
            assert!(
                errors.contains(needle),
                "{needle:?} missing from:\n{errors}"
            );
        }
        assert_eq!(errors.matches("error:").count(), 5, "{errors}");
    }

    #[test]
    fn examples_are_the_twenty_smallest_iccids_and_the_checksum_covers_checks() {
        let fleet: Vec<Sim> = (0..50).rev().map(|n| sim(n, 2)).collect();
        let spec = spec_of(&check_yaml("warn", "all", "{ status: suspended }"));
        let plan = plan_of(&spec, &fleet);
        let c = &plan.checks[0];
        assert_eq!((c.failing, c.examples.len()), (50, MAX_EXAMPLES));
        let wanted: Vec<String> = (0..20).map(iccid).collect();
        let got: Vec<String> = c.examples.iter().map(|e| e.iccid.clone()).collect();
        assert_eq!(got, wanted);
        let mut edited = plan.clone();
        edited.checks[0].failing = 1;
        assert_ne!(edited.compute_checksum(), plan.checksum);
    }

    #[test]
    fn check_specs_are_validated_with_every_problem_located() {
        let errors = errors_of(
            "checks:\n  - name: a\n    level: block\n    message: m\n    select: { status: sleeping }\n    expect: { monthly_data_limit: { at_most: 1 GBs } }\n  - name: a\n    level: warn\n    message: m\n    select: all\n    expect: { status: activated }\n    limit: { imei_unlocks: { at_most: 10 } }\n  - name: b\n    level: warn\n    message: m\n    select: all\n    colour: red\n  - name: c\n    level: warn\n    message: m\n    select: all\n    expect: { custom_field_1: { at_most: 3 }, end_customer_label: { present: false } }\n",
        );
        for needle in [
            "fleet.yaml:3:12",
            "`level: block` is not a level",
            "fleet.yaml:5:23",
            "`sleeping` is not a SIM status",
            "fleet.yaml:6:46",
            "check name `a` is already used",
            "has both `expect` and `limit`",
            "unknown key `colour`",
            "check `b` has neither `expect` nor `limit`",
            "`at_most` compares limits and usage only",
            "write `present: true`",
        ] {
            assert!(
                errors.contains(needle),
                "{needle:?} missing from:\n{errors}"
            );
        }
    }

    /// Plans `sims` against one rule and one `limit` check; (failing, counted, at_most).
    fn limited(rule_set: &str, limit: &str, sims: &[Sim]) -> (u64, u64, u64) {
        let yaml = format!(
            "rules:\n  - name: r\n    match: all\n    set: {rule_set}\nchecks:\n  - name: c\n    level: deny\n    message: m\n    select: all\n    limit: {limit}\n"
        );
        let plan = plan_of(&spec_of(&yaml), sims);
        let c = &plan.checks[0];
        assert_eq!(plan.denied_by_check(), c.failing > 0);
        (c.failing, c.limits[0].counted, c.limits[0].at_most)
    }

    #[test]
    fn limit_forms_count_the_selected_sims_the_plan_changes() {
        let locked = |n| {
            with(n, |s| {
                s.imei_lock = Some(ImeiLock {
                    enabled: true,
                    imei: None,
                });
                s.monthly_data_limit = Some(i64::try_from(n).expect("small") * 1000);
            })
        };
        let fleet = [
            locked(1),
            locked(2),
            locked(3),
            with(4, |s| s.imei_lock = None),
        ];
        let unlock = r#"{ imei_lock: "off" }"#;
        assert_eq!(
            limited(unlock, "{ imei_unlocks: { at_most: 2 } }", &fleet),
            (3, 3, 2)
        );
        assert_eq!(
            limited(unlock, "{ imei_unlocks: { at_most: 3 } }", &fleet),
            (0, 3, 3)
        );
        assert_eq!(
            limited(unlock, r#"{ imei_unlocks: { at_most: "75%" } }"#, &fleet),
            (0, 3, 3)
        );
        // 3 kB for everyone: SIM 3 has it already, SIMs 1, 2 and 4 (unlimited) change.
        let data = "{ monthly_data_limit: 3kB }";
        assert_eq!(
            limited(
                data,
                r#"{ monthly_data_limit: { changes: { at_most: "50%" } } }"#,
                &fleet
            ),
            (3, 3, 2)
        );
        assert_eq!(
            limited(data, "{ status: { changes: { at_most: 0 } } }", &fleet),
            (0, 0, 0)
        );
        let suspend = "{ status: suspended }";
        assert_eq!(
            limited(
                suspend,
                "{ status: { to: [deactivated, suspended], at_most: 1 } }",
                &fleet
            ),
            (4, 4, 1)
        );
        assert_eq!(
            limited(suspend, "{ status: { to: retired, at_most: 0 } }", &fleet),
            (0, 0, 0)
        );
        let errors = errors_of(
            "checks:\n  - name: a\n    level: warn\n    message: m\n    select: all\n    limit: { imei_unlocks: { changes: { at_most: 1 } }, custom_field_1: { at_most: 2 }, status: { to: [sleepy], at_most: 1 }, imei_lock: { changes: { at_most: 1x } } }\n",
        );
        for needle in [
            "imei_unlocks: not a limit",
            "custom_field_1: not a limit",
            "`sleepy` is not a SIM status",
            "`at_most: 1x` is not a count or a percentage",
        ] {
            assert!(
                errors.contains(needle),
                "{needle:?} missing from:\n{errors}"
            );
        }
    }

    #[test]
    fn twenty_failing_checks_on_100k_sims_keep_the_markdown_comment_under_its_limit() {
        let mut yaml = String::from("checks:\n");
        for i in 0..20 {
            yaml.push_str(&format!(
                "  - name: a-rather-long-check-name-number-{i}\n    level: warn\n    message: every SIM of the fleet must be suspended, which none of them is, so every one fails\n    select: all\n    expect: {{ status: suspended, end_customer_label: Somebody }}\n"
            ));
        }
        let fleet: Vec<Sim> = (0..100_000).map(|n| sim(n, 2)).collect();
        let plan = plan_of(&spec_of(&yaml), &fleet);
        assert!(plan.checks.iter().all(|c| c.failing == 100_000));
        let comment = crate::render::markdown(&plan, crate::render::MarkdownOptions::default());
        assert!(
            comment.len() < crate::render::MARKDOWN_LIMIT,
            "{}",
            comment.len()
        );
        assert_eq!(comment.matches("**warn**").count(), 20);
    }

    #[test]
    fn waivers_waive_until_they_expire_by_the_clock_passed_in() {
        let yaml = format!(
            "{}waivers:\n  - check: c\n    match: {{ custom_field_1: {{ prefix: \"lab-\" }} }}\n    reason: lab devices swap modems daily\n    expires: 2027-03-31\n  - check: c\n    iccids: [\"{}\"]\n    reason: on loan\n    expires: 2027-12-31\n",
            check_yaml("warn", "all", r#"{ imei_lock: { not: "off" } }"#),
            iccid(3)
        );
        let fleet = [
            with(1, |s| s.custom_field_1 = Some("lab-1".into())),
            with(2, |s| s.custom_field_1 = Some("lab-2".into())),
            with(3, |_| {}),
            with(4, |_| {}),
        ];
        let day = |d: &str| crate::spec::parse_date(d).expect("a date");
        let on = |today: Option<&str>| {
            let spec = spec_of(&yaml);
            let spec = match today {
                Some(d) => spec.with_today(day(d)),
                None => spec,
            };
            plan_of(&spec, &fleet)
        };
        let statuses = |plan: &Plan| -> Vec<crate::plan::WaiverStatus> {
            plan.waivers.iter().map(|w| w.status).collect()
        };
        use crate::plan::WaiverStatus::{Active, Expired, Expiring};
        let expiring = |plan: &Plan| {
            plan.warnings
                .iter()
                .filter(|w| w.code == crate::plan::WarningCode::WaiverExpiring)
                .count()
        };
        // Well before: both hold; the lab SIMs and SIM 3 are waived, shown apart.
        let early = on(Some("2027-03-01"));
        assert_eq!((early.checks[0].failing, early.checks[0].waived), (1, 3));
        assert_eq!(statuses(&early), [Active, Active]);
        let waived: Vec<u64> = early.waivers.iter().map(|w| w.waived).collect();
        assert_eq!(waived, [2, 1]);
        assert_eq!((expiring(&early), early.outcome()), (0, Outcome::Success));
        // A week before, and on its last day, it still waives, with a warning.
        for d in ["2027-03-25", "2027-03-31"] {
            let soon = on(Some(d));
            assert_eq!(statuses(&soon), [Expiring, Active], "{d}");
            assert_eq!((soon.checks[0].waived, expiring(&soon)), (3, 1), "{d}");
            assert_eq!(soon.outcome(), Outcome::Success, "{d}");
        }
        // The day after: it waives nothing and blocks the plan (deny), warn check or not.
        let late = on(Some("2027-04-01"));
        assert_eq!(statuses(&late), [Expired, Active]);
        assert_eq!((late.checks[0].failing, late.checks[0].waived), (3, 1));
        assert_eq!(late.waivers[0].waived, 0);
        assert_eq!(late.outcome(), Outcome::Blocked);
        assert_eq!(late.denying_checks().len(), 1);
        // Without a date to judge by, no waiver waives.
        let undated = on(None);
        assert_eq!(statuses(&undated), [Expired, Expired]);
        assert_eq!(undated.checks[0].failing, 4);
        assert_ne!(late.compute_checksum(), early.compute_checksum());
    }

    #[test]
    fn waivers_are_validated_with_every_problem_located() {
        let errors = errors_of(&format!(
            "{}waivers:\n  - check: nope\n    match: all\n    reason: r\n    expires: 2027-01-01\n  - check: c\n    match: all\n    expires: 2027-02-30\n  - check: c\n    match: all\n    iccids: [\"1\"]\n    reason: r\n",
            check_yaml("warn", "all", "{ status: activated }")
        ));
        for needle in [
            "fleet.yaml:8:12: error: the waiver names an unknown check `nope`",
            "waiver of `c` has no `reason`",
            "`expires: 2027-02-30` is not a date",
            "waiver of `c` has both `match` and `iccids`",
            "waiver of `c` has no `expires`",
        ] {
            assert!(
                errors.contains(needle),
                "{needle:?} missing from:\n{errors}"
            );
        }
        assert_eq!(
            crate::spec::format_date(crate::spec::days_from_civil(2027, 3, 31)),
            "2027-03-31"
        );
        assert_eq!(crate::spec::parse_date("1970-01-02"), Some(1));
        assert_eq!(
            crate::spec::parse_date("2028-02-29")
                .map(crate::spec::format_date)
                .as_deref(),
            Some("2028-02-29")
        );
    }

    #[test]
    fn the_spec_schema_covers_checks() {
        let schema = crate::spec::schema::spec_schema_json();
        for needle in [
            "\"checks\"",
            "CheckDocument",
            "ExpectDocument",
            "at_most",
            "none_of",
        ] {
            assert!(schema.contains(needle), "{needle}");
        }
    }

    fn rule_setting(fields: &[(Field, DesiredValue)]) -> Rule {
        let origin = crate::plan::tests::origin("r", 1);
        let settings = fields
            .iter()
            .map(|(f, v)| {
                (
                    *f,
                    crate::spec::ResolvedValue {
                        value: v.clone(),
                        origin: origin.clone().into(),
                    },
                )
            })
            .collect();
        Rule::new("r".into(), origin, 0, Matcher::All, Vec::new(), settings)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// A deny check that expects exactly what a rule sets never fails on the plan's end
        /// state for the SIMs the rule covers (status aside: a status the table blocks, holds
        /// or leaves pending is not set by the plan, and terminal SIMs are never changed).
        #[test]
        fn a_check_expecting_what_a_rule_sets_never_fails(
            sims in proptest::collection::vec(converges::live_sim(), 1..12),
            wanted in converges::wanted(),
        ) {
            let wanted: Vec<(Field, DesiredValue)> =
                wanted.into_iter().filter(|(f, _)| *f != Field::Status).collect();
            prop_assume!(!wanted.is_empty());
            let sims: Vec<Sim> = sims
                .into_iter()
                .enumerate()
                .filter(|(_, s)| !crate::plan::status::TERMINAL.contains(&s.statusid))
                .map(|(n, s)| Sim { iccid: iccid(n as u64), ..s })
                .collect();
            let check = Check {
                name: "same".into(),
                level: CheckLevel::Deny,
                message: "m".into(),
                file: "fleet/c.yaml".into(),
                line: 1,
                col: 1,
                select: Matcher::All,
                expect: wanted.iter().map(|(f, v)| ((*f).into(), Expectation::AnyOf(vec![v.clone()]))).collect(),
                limits: Vec::new(),
            };
            let spec = Spec::new(
                vec![rule_setting(&wanted)],
                Vec::<SimEntry>::new(),
                crate::spec::Config::default(),
                Vec::new(),
                String::new(),
            )
            .with_checks(vec![check]);
            let plan = plan_of(&spec, &sims);
            prop_assert_eq!(plan.checks[0].failing, 0, "{:?}", plan.checks[0]);
            prop_assert_eq!(plan.checks[0].selected, sims.len() as u64);
            prop_assert!(!plan.denied_by_check());
        }
    }
}
