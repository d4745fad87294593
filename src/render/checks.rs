//! The rows text and markdown show for the spec's checks: failed checks first (deny before
//! warn, in spec order), each with its file:line, the three-way split and its examples; then
//! the names of the checks that pass. Only the wording is here; each renderer lays it out.

use crate::plan::{CheckExample, CheckResult, Plan, WaiverStatus};
use crate::spec::CheckLevel;

use super::values::{self, sims};

/// One failed check, worded.
pub struct FailedCheck<'p> {
    pub check: &'p CheckResult,
    /// `deny` or `warn`.
    pub level: &'static str,
    /// `3 SIMs fail: 2 fail now and the plan does not fix them, 1 is made to fail by the plan`
    /// (and how many the plan fixes).
    pub split: String,
    /// One line per example: ICCID, field = value, who set it.
    pub examples: Vec<String>,
    /// Failing SIMs not listed.
    pub more: u64,
}

/// The failed checks, deny first, then warn, each in spec order.
pub fn failed(plan: &Plan, mask: bool) -> Vec<FailedCheck<'_>> {
    let mut failed: Vec<&CheckResult> = plan.checks.iter().filter(|c| c.failing > 0).collect();
    failed.sort_by_key(|c| std::cmp::Reverse(c.level));
    failed
        .into_iter()
        .map(|check| FailedCheck {
            check,
            level: level(check.level),
            split: split(check),
            examples: check.examples.iter().map(|e| example(e, mask)).collect(),
            more: check.failing.saturating_sub(check.examples.len() as u64),
        })
        .collect()
}

/// The names of the checks that pass, in spec order (with the SIMs waived, if any).
pub fn passed(plan: &Plan) -> Vec<String> {
    plan.checks
        .iter()
        .filter(|c| c.failing == 0)
        .map(|c| match c.waived {
            0 => c.name.clone(),
            n => format!("{} ({} waived)", c.name, sims(n as usize)),
        })
        .collect()
}

/// One line per waiver: its status, check, location, date, what it waived and why.
pub fn waivers(plan: &Plan, mask: bool) -> Vec<(WaiverStatus, String)> {
    plan.waivers
        .iter()
        .map(|w| {
            let status = match w.status {
                WaiverStatus::Active => "active",
                WaiverStatus::Expiring => "expiring",
                WaiverStatus::Expired => "expired, waives nothing",
            };
            let line = format!(
                "[{status}] {} ({}), expires {}: {} waived — {}",
                w.check,
                w.location,
                w.expires,
                sims(w.waived as usize),
                values::text(&w.reason, mask)
            );
            (w.status, line)
        })
        .collect()
}

fn level(level: CheckLevel) -> &'static str {
    match level {
        CheckLevel::Deny => "deny",
        CheckLevel::Warn => "warn",
    }
}

fn split(c: &CheckResult) -> String {
    if !c.limits.is_empty() {
        let limits: Vec<String> = c
            .limits
            .iter()
            .map(|l| {
                let verdict = if l.counted > l.at_most {
                    "over"
                } else {
                    "within"
                };
                format!(
                    "{}: {} of {} selected, at most {} ({verdict})",
                    l.what,
                    sims(l.counted as usize),
                    c.selected,
                    l.at_most
                )
            })
            .collect();
        return format!("the plan exceeds a limit: {}", limits.join("; "));
    }
    let mut parts = Vec::new();
    if c.fails_unfixed > 0 {
        parts.push(format!(
            "{} fail now and the plan does not fix them",
            c.fails_unfixed
        ));
    }
    if c.made_failing > 0 {
        parts.push(format!("{} made to fail by the plan", c.made_failing));
    }
    let mut line = format!(
        "{} of {} selected fail: {}",
        sims(c.failing as usize),
        c.selected,
        parts.join(", ")
    );
    if c.fixed > 0 {
        line.push_str(&format!("; {} fixed by the plan", c.fixed));
    }
    if c.waived > 0 {
        line.push_str(&format!("; {} waived", c.waived));
    }
    line
}

fn example(e: &CheckExample, mask: bool) -> String {
    let mut line = format!(
        "{}: {} = {}",
        values::iccid(&e.iccid, mask),
        e.field.name(),
        values::text(&e.value, mask)
    );
    if e.made_failing {
        line.push_str(" (made to fail by the plan)");
    }
    if let Some(source) = &e.source {
        line.push_str(&format!(", set by {}", values::source(source, mask)));
    }
    line
}
