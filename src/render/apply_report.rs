//! Apply's report for people, and the stale SIMs that stop an apply: text for terminals and CI
//! logs. The data is [`crate::apply::ApplyReport`]; JSON is its serde form.
//!
//! Every per-SIM list (failed, not attempted, stale) is grouped by cause: SIMs with the same
//! causes form one group, the [`GROUPS_SHOWN`] largest groups are shown with a few ICCIDs each
//! and the rest are counted ("and N more groups"), so a failure that hits 5,000 SIMs reads as
//! one line, not 5,000. `verbose` lists every group and every ICCID. Values are written in the
//! spec's units (`1GB`, `unlimited`, status names), as the plan shows them.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::apply::{ApplyReport, ApplyStatus, BatchJobReport, SimFailure, StaleSim};
use crate::plan::{Field, FieldValue};

use super::values;

/// Groups shown per list in the default (not verbose) report: the plan's cap, one number for
/// every list simfleet prints.
pub use super::rows::GROUPS_PER_LIST as GROUPS_SHOWN;
/// ICCIDs shown per group in the default report.
pub const ICCIDS_SHOWN: usize = 3;
/// Batch jobs listed one by one in the default report; the rest are summed up.
pub const JOBS_SHOWN: usize = 20;

/// How to render the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyReportOptions {
    /// Every group and every ICCID.
    pub verbose: bool,
    /// Identifiers keep only their last 4 digits.
    pub mask: bool,
}

/// The apply report as text.
pub fn apply_report_text(report: &ApplyReport, opts: ApplyReportOptions) -> String {
    let mut out = String::new();
    let w = &mut out;
    match report.status {
        ApplyStatus::StoppedByGuard => {
            let _ = writeln!(w, "Apply stopped before the first call by a guard:");
            for g in report.guards.iter().filter(|g| g.stops) {
                let _ = writeln!(w, "  - {}", g.message);
            }
            return finish(out, opts);
        }
        ApplyStatus::NothingToDo if report.sims_planned == 0 => {
            let _ = writeln!(w, "No changes: the plan has nothing to apply.");
            return finish(out, opts);
        }
        _ => {}
    }
    headline(w, report);
    failed(w, &report.failures, opts);
    not_attempted(w, report, opts);
    batch_jobs(w, &report.batch_jobs, opts);
    calls(w, report);
    finish(out, opts)
}

fn finish(out: String, opts: ApplyReportOptions) -> String {
    values::text(&out, opts.mask)
}

/// The one-line outcome and the counters that qualify it.
fn headline(w: &mut String, report: &ApplyReport) {
    let _ = writeln!(
        w,
        "Apply {}: {} SIMs planned, {} changed, {} already set by someone else, {} already done before, {} failed, {} not attempted.",
        match report.status {
            ApplyStatus::Converged | ApplyStatus::NothingToDo => "complete",
            ApplyStatus::Failed => "incomplete",
            ApplyStatus::Interrupted => "interrupted",
            ApplyStatus::StoppedByGuard => "stopped",
            ApplyStatus::Stale => "refused (stale plan)",
        },
        report.sims_planned,
        report.sims_changed,
        report.sims_already_set,
        report.sims_already_done,
        report.sims_failed,
        report.sims_skipped,
    );
    if !report.pending.is_empty() {
        let _ = writeln!(
            w,
            "{} SIMs are still moving to their new status (converging).",
            report.pending.len()
        );
    }
    if report.sims_already_set > 0 {
        let _ = writeln!(
            w,
            "{} SIMs already had their values when this run's call reached them: another apply or a user set them first (not counted as changed).",
            report.sims_already_set
        );
    }
    if report.blocked > 0 {
        let _ = writeln!(
            w,
            "{} blocked change(s) in the plan were not attempted.",
            report.blocked
        );
    }
}

/// One cause of a failure, as people read it (the batch job id left out: jobs are listed apart).
fn failure_cause(f: &SimFailure, mask: bool) -> String {
    let mut cause = String::new();
    if let Some(field) = &f.field {
        let _ = write!(cause, "{field}");
        if let Some(code) = f.code {
            let _ = write!(cause, " (code {code})");
        }
        let _ = write!(cause, ": ");
    } else if let Some(code) = f.code {
        let _ = write!(cause, "code {code}: ");
    }
    let _ = write!(cause, "{}", f.reason);
    let field = f.field.as_deref().and_then(Field::from_name);
    if let (Some(field), Some(expected)) = (field, &f.expected) {
        let _ = write!(cause, " (wanted {}", json_value(field, expected, mask));
        if let Some(found) = &f.found {
            let _ = write!(cause, ", found {}", json_value(field, found, mask));
        }
        let _ = write!(cause, ")");
    }
    cause
}

/// A report value (JSON) of `field` in the spec's units.
fn json_value(field: Field, value: &serde_json::Value, mask: bool) -> String {
    match serde_json::from_value::<FieldValue>(value.clone()) {
        Ok(v) => values::value(field, &v, mask),
        Err(_) => value.to_string(),
    }
}

fn failed(w: &mut String, failures: &[SimFailure], opts: ApplyReportOptions) {
    if failures.is_empty() {
        return;
    }
    let mut causes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for f in failures {
        let list = causes.entry(f.iccid.as_str()).or_default();
        let cause = failure_cause(f, opts.mask);
        if !list.contains(&cause) {
            list.push(cause);
        }
    }
    let _ = writeln!(w, "\nFailed:");
    write_groups(w, group(causes), "failed SIMs", opts);
}

fn not_attempted(w: &mut String, report: &ApplyReport, opts: ApplyReportOptions) {
    if report.skipped.is_empty() {
        return;
    }
    let causes = report
        .skipped
        .iter()
        .map(|s| (s.iccid.as_str(), vec![s.reason.clone()]))
        .collect();
    let _ = writeln!(w, "\nNot attempted:");
    write_groups(w, group(causes), "SIMs not attempted", opts);
}

/// SIMs with the same causes, largest group first (then by cause, for a stable order).
fn group(by_sim: BTreeMap<&str, Vec<String>>) -> Vec<(Vec<String>, Vec<&str>)> {
    let mut groups: BTreeMap<Vec<String>, Vec<&str>> = BTreeMap::new();
    for (iccid, causes) in by_sim {
        groups.entry(causes).or_default().push(iccid);
    }
    let mut groups: Vec<(Vec<String>, Vec<&str>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    groups
}

/// Writes groups: the causes, how many SIMs, a few ICCIDs (every one when verbose), and what
/// was left out.
fn write_groups(
    w: &mut String,
    groups: Vec<(Vec<String>, Vec<&str>)>,
    what: &str,
    opts: ApplyReportOptions,
) {
    let shown = if opts.verbose {
        groups.len()
    } else {
        GROUPS_SHOWN
    };
    for (causes, iccids) in groups.iter().take(shown) {
        let _ = writeln!(w, "  {}:", values::sims(iccids.len()));
        for cause in causes {
            let _ = writeln!(w, "    - {cause}");
        }
        let limit = if opts.verbose {
            iccids.len()
        } else {
            ICCIDS_SHOWN
        };
        let mut list: Vec<String> = iccids
            .iter()
            .take(limit)
            .map(|i| values::iccid(i, opts.mask))
            .collect();
        if iccids.len() > limit {
            list.push(format!("and {} more", iccids.len() - limit));
        }
        let _ = writeln!(w, "    {}", list.join(", "));
    }
    if groups.len() > shown {
        let rest = &groups[shown..];
        let sims: usize = rest.iter().map(|(_, i)| i.len()).sum();
        let _ = writeln!(
            w,
            "  and {} more groups ({}); -v or --format json lists all {what}",
            rest.len(),
            values::sims(sims)
        );
    }
}

fn batch_jobs(w: &mut String, jobs: &[BatchJobReport], opts: ApplyReportOptions) {
    if jobs.is_empty() {
        return;
    }
    let _ = writeln!(w, "\nBatch jobs:");
    let shown = if opts.verbose { jobs.len() } else { JOBS_SHOWN };
    for j in jobs.iter().take(shown) {
        let mut notes = Vec::new();
        if j.partial {
            notes.push("partial");
        }
        if j.timed_out {
            notes.push("timed out, left running");
        }
        if j.adopted {
            notes.push("adopted after a lost answer");
        }
        if j.cancel_requested {
            notes.push("cancel requested");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let _ = writeln!(
            w,
            "  {} phase {}: {} {} SIMs, {} successful, {} failed{notes}",
            j.id, j.phase, j.status, j.sims, j.successful_sims, j.failed_sims
        );
    }
    if jobs.len() > shown {
        let rest = &jobs[shown..];
        let _ = writeln!(
            w,
            "  and {} more batch jobs ({} SIMs, {} successful, {} failed); -v or --format json lists them",
            rest.len(),
            rest.iter().map(|j| j.sims).sum::<u64>(),
            rest.iter().map(|j| j.successful_sims).sum::<u64>(),
            rest.iter().map(|j| j.failed_sims).sum::<u64>(),
        );
    }
}

fn calls(w: &mut String, report: &ApplyReport) {
    let c = &report.calls;
    let _ = writeln!(
        w,
        "\nAPI calls: {} mutation calls made ({} startBatchJob, {} updateSim, {} cancelBatchJob) vs {} planned, lower bound {}; {} HTTP requests in all; {:.1}s.",
        c.made,
        c.start_batch_job,
        c.update_sim,
        c.cancel_batch_job,
        c.planned,
        c.lower_bound,
        c.http_requests,
        report.wall_time_ms as f64 / 1000.0
    );
    if report.status == ApplyStatus::Interrupted {
        let _ = writeln!(
            w,
            "Interrupted: run the same apply (or plan file) again to finish; it converges."
        );
    }
}

/// The SIMs that made a plan stale, grouped by what changed (field, planned from → to, value
/// now), largest group first.
pub fn stale_text(sims: &[StaleSim], opts: ApplyReportOptions) -> String {
    let causes: BTreeMap<&str, Vec<String>> = sims
        .iter()
        .map(|sim| {
            let causes = sim
                .fields
                .iter()
                .map(|f| match (&f.now, Field::from_name(&f.field)) {
                    (None, _) => "no longer in the fleet".to_string(),
                    (Some(now), Some(field)) => format!(
                        "{}: planned {} → {}, now {}",
                        f.field,
                        values::value(field, &f.planned_from, opts.mask),
                        values::value(field, &f.planned_to, opts.mask),
                        values::value(field, now, opts.mask)
                    ),
                    (Some(now), None) => format!(
                        "{}: planned {} → {}, now {now}",
                        f.field, f.planned_from, f.planned_to
                    ),
                })
                .collect();
            (sim.iccid.as_str(), causes)
        })
        .collect();
    let mut out = format!(
        "The plan is stale: {} changed since it was made:\n",
        values::sims(sims.len())
    );
    write_groups(&mut out, group(causes), "stale SIMs", opts);
    finish(out, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{CallCounts, SkippedSim, APPLY_REPORT_FORMAT_VERSION};
    use serde_json::json;

    fn report(failures: Vec<SimFailure>, skipped: Vec<SkippedSim>) -> ApplyReport {
        ApplyReport {
            format_version: APPLY_REPORT_FORMAT_VERSION,
            status: ApplyStatus::Failed,
            plan_checksum: "sha256:0".into(),
            sims_planned: 5000,
            sims_changed: 0,
            sims_already_set: 0,
            sims_already_done: 0,
            sims_failed: 5000,
            sims_skipped: skipped.len() as u64,
            blocked: 0,
            pending: Vec::new(),
            already_set: Vec::new(),
            failures,
            skipped,
            batch_jobs: Vec::new(),
            guards: Vec::new(),
            calls: CallCounts::default(),
            wall_time_ms: 0,
            stale: Vec::new(),
        }
    }

    /// 5,000 SIMs over 25 causes: (cause i has 100 + i SIMs, each SIM also the same second line).
    fn many_failures() -> Vec<SimFailure> {
        let mut out = Vec::new();
        let mut n = 0u64;
        for cause in 0..25u64 {
            for _ in 0..(100 + cause) {
                let iccid = format!("8949{n:016}");
                n += 1;
                out.push(SimFailure {
                    iccid: iccid.clone(),
                    field: Some("monthly_data_limit".into()),
                    code: None,
                    reason: format!("cause {cause:02}"),
                    batch_job_id: Some(cause as i64),
                    expected: Some(json!(1_000_000_000)),
                    found: Some(json!(500_000_000 + cause)),
                });
            }
        }
        out
    }

    #[test]
    fn failures_are_grouped_capped_and_in_the_specs_units() {
        let text = apply_report_text(&report(many_failures(), Vec::new()), Default::default());
        assert!(text.lines().count() < 80, "{text}");
        assert!(
            text.contains(
                "  124 SIMs:\n    - monthly_data_limit: cause 24 (wanted 1GB, found 500000024B)\n"
            ),
            "{text}"
        );
        assert!(!text.contains("1000000000"), "{text}");
        assert!(
            text.contains(
                "and 5 more groups (510 SIMs); -v or --format json lists all failed SIMs"
            ),
            "{text}"
        );
        assert!(
            !text.contains("cause 04"),
            "the smallest groups are the ones left out: {text}"
        );
    }

    #[test]
    fn verbose_lists_every_group_and_every_sim() {
        let failures = many_failures();
        let text = apply_report_text(
            &report(failures.clone(), Vec::new()),
            ApplyReportOptions {
                verbose: true,
                mask: false,
            },
        );
        for f in &failures {
            assert!(text.contains(&f.iccid), "{} missing", f.iccid);
        }
        assert!(!text.contains("more groups"), "{text}");
    }

    #[test]
    fn masked_text_keeps_only_the_last_four_digits() {
        let skipped = vec![SkippedSim {
            iccid: "89490000000000001234".into(),
            reason: "interrupted before its change was sent".into(),
        }];
        let text = apply_report_text(
            &report(Vec::new(), skipped),
            ApplyReportOptions {
                verbose: false,
                mask: true,
            },
        );
        assert!(text.contains("****************1234"), "{text}");
        assert!(!text.contains("8949"), "{text}");
    }
}
