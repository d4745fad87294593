//! A rehearsal for people: text for terminals and CI logs, markdown to append below the plan
//! in a pull-request comment. The data is [`crate::rehearse::Rehearsal`]; JSON is its serde
//! form. Failures are grouped by cause and detail (the [`GROUPS_SHOWN`] largest groups, a few
//! ICCIDs each, the rest counted) unless `verbose`; identifiers are masked with `mask`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::rehearse::{FailureCause, Rehearsal, StateSource, TableSource, Verdict, FORMULA};

use super::apply_report::{GROUPS_SHOWN, ICCIDS_SHOWN};
use super::values;

/// How to render a rehearsal.
#[derive(Debug, Clone, Copy, Default)]
pub struct RehearsalOptions {
    /// Every group and every ICCID.
    pub verbose: bool,
    /// Identifiers keep only their last 4 digits.
    pub mask: bool,
}

/// The rehearsal as text.
pub fn rehearsal_text(r: &Rehearsal, opts: RehearsalOptions) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "Rehearsal: {}", verdict(r));
    let _ = writeln!(w, "  {}", setting(r));
    for g in r.guards.iter().filter(|g| g.stops) {
        let _ = writeln!(w, "  - {}", g.message);
    }
    let _ = writeln!(w, "\nCalls: {}", calls_line(r));
    for p in &r.calls.phases {
        let _ = writeln!(
            w,
            "  phase {}: {} batch job(s) of {} SIMs (largest {}), {} updateSim",
            p.phase, p.batch_jobs, p.batch_sims, p.largest_job, p.update_sim
        );
    }
    let _ = writeln!(w, "  requests per operation: {}", operations(r));
    if !r.failures.is_empty() {
        let _ = writeln!(w, "\nPredicted failures:");
        for (cause, sims) in &r.failures_by_cause {
            let _ = writeln!(w, "  {}: {sims} SIM(s)", cause_name(*cause));
            for (detail, iccids) in groups(r, *cause, opts) {
                let _ = writeln!(w, "    {detail}: {iccids}");
            }
        }
    }
    let _ = writeln!(w, "\nEnd state: {}", end_line(r));
    let _ = writeln!(w, "\nPredicted wall time on the real API: {}", time_line(r));
    let _ = writeln!(w, "  {FORMULA}");
    let _ = writeln!(w, "\n{}", footer(r));
    values::text(&out, opts.mask)
}

/// The rehearsal as markdown, to append to the plan's comment.
pub fn rehearsal_markdown(r: &Rehearsal, opts: RehearsalOptions) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "<!-- simfleet-rehearsal -->\n### Rehearsal: {}\n",
        verdict(r)
    );
    let _ = writeln!(w, "{}\n", setting(r));
    for g in r.guards.iter().filter(|g| g.stops) {
        let _ = writeln!(w, "- {}", g.message);
    }
    let _ = writeln!(w, "**Calls:** {}\n", calls_line(r));
    if !r.calls.phases.is_empty() {
        let _ = writeln!(
            w,
            "| phase | batch jobs | SIMs in jobs | largest job | updateSim |"
        );
        let _ = writeln!(w, "|---|---|---|---|---|");
        for p in &r.calls.phases {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} |",
                p.phase, p.batch_jobs, p.batch_sims, p.largest_job, p.update_sim
            );
        }
        let _ = writeln!(w);
    }
    if !r.failures.is_empty() {
        let _ = writeln!(w, "**Predicted failures:**\n");
        for (cause, sims) in &r.failures_by_cause {
            let _ = writeln!(w, "- {}: {sims} SIM(s)", cause_name(*cause));
            for (detail, iccids) in groups(r, *cause, opts) {
                let _ = writeln!(w, "  - {detail}: `{iccids}`");
            }
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "**End state:** {}\n", end_line(r));
    let _ = writeln!(
        w,
        "**Predicted wall time on the real API:** {} (`{FORMULA}`)\n",
        time_line(r)
    );
    let _ = writeln!(w, "<sub>{}</sub>", footer(r));
    values::text(&out, opts.mask)
}

fn verdict(r: &Rehearsal) -> String {
    let failed: u64 = r.failures_by_cause.values().sum();
    match r.verdict {
        Verdict::Converges => "the apply converges".to_string(),
        Verdict::DoesNotConverge => {
            format!("the apply does NOT converge: {failed} SIM(s) predicted to fail")
        }
        Verdict::Stale => format!(
            "the plan is stale: {failed} SIM(s) left their planned \"from\" values, so apply would refuse it before its first call"
        ),
        Verdict::StoppedByGuard => "a guard or a deny check stops the apply before its first call".to_string(),
    }
}

fn setting(r: &Rehearsal) -> String {
    let state = match r.state_source {
        StateSource::Api => "read from the API (the plan's SIMs only)",
        StateSource::Snapshot => "from the snapshot",
        StateSource::Plan => "the plan's own \"from\" values",
    };
    let table = match r.table_source {
        TableSource::Api => "the API's",
        TableSource::Snapshot => "the snapshot's",
        TableSource::SandboxDefault => "the sandbox's default",
    };
    let missing = if r.sims_missing > 0 {
        format!(", {} missing from the source", r.sims_missing)
    } else {
        String::new()
    };
    format!(
        "Plan {} applied by the real apply code to an embedded sandbox: {} SIMs loaded ({state}{missing}); {table} transition table.",
        r.plan_checksum, r.sims_loaded
    )
}

fn calls_line(r: &Rehearsal) -> String {
    format!(
        "{} mutation call(s) (the plan counts {}, lower bound {}), {} HTTP requests in total",
        r.calls.mutations, r.calls.planned, r.calls.lower_bound, r.calls.http_requests
    )
}

fn operations(r: &Rehearsal) -> String {
    if r.calls.per_operation.is_empty() {
        return "none".to_string();
    }
    r.calls
        .per_operation
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cause_name(cause: FailureCause) -> &'static str {
    match cause {
        FailureCause::ForbiddenTransition => "transition the table forbids",
        FailureCause::Stale => "left its planned \"from\" value (stale)",
        FailureCause::Other => "other",
    }
}

/// Failures of one cause grouped by detail, largest first: `(detail, ICCIDs shown)`.
fn groups(r: &Rehearsal, cause: FailureCause, opts: RehearsalOptions) -> Vec<(String, String)> {
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in r.failures.iter().filter(|f| f.cause == cause) {
        let list = by.entry(f.detail.as_str()).or_default();
        if list.last() != Some(&f.iccid.as_str()) {
            list.push(&f.iccid);
        }
    }
    let mut groups: Vec<(&str, Vec<&str>)> = by.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let shown = if opts.verbose {
        groups.len()
    } else {
        GROUPS_SHOWN
    };
    let mut out: Vec<(String, String)> = groups
        .iter()
        .take(shown)
        .map(|(detail, iccids)| {
            let n = if opts.verbose {
                iccids.len()
            } else {
                ICCIDS_SHOWN
            };
            let mut list: Vec<String> = iccids
                .iter()
                .take(n)
                .map(|i| values::iccid(i, opts.mask))
                .collect();
            if iccids.len() > n {
                list.push(format!("and {} more", iccids.len() - n));
            }
            (detail.to_string(), list.join(", "))
        })
        .collect();
    if groups.len() > shown {
        let rest: usize = groups[shown..].iter().map(|g| g.1.len()).sum();
        out.push((
            format!("and {} more groups", groups.len() - shown),
            format!("{rest} SIM(s); -v lists every one"),
        ));
    }
    out
}

fn end_line(r: &Rehearsal) -> String {
    let e = &r.end_state;
    if r.apply.is_none() || r.verdict == Verdict::StoppedByGuard {
        return "not reached: nothing was applied".to_string();
    }
    let mut line = if e.planned_fields_hold {
        format!(
            "every planned field holds (re-planning finds nothing left): {} SIMs at their planned values, {} still moving to their status",
            e.sims_converged, e.sims_pending
        )
    } else {
        format!(
            "planned fields do NOT all hold: {} SIMs at their planned values, {} still moving to their status",
            e.sims_converged, e.sims_pending
        )
    };
    if !e.unplanned_changes.is_empty() {
        let _ = write!(
            line,
            "; {} field(s) changed that the plan does not list",
            e.unplanned_changes.len()
        );
    }
    line
}

fn time_line(r: &Rehearsal) -> String {
    let t = &r.time;
    let speed = match t.batch_sims_per_second {
        Some(v) => format!("{v:.0} SIMs/s observed"),
        None => "no batch job".to_string(),
    };
    format!(
        "{:.1} s = {} requests at {} per second ({:.1} s) + batch jobs, {} at a time at {speed} ({:.1} s)",
        t.predicted_seconds,
        t.requests,
        t.requests_per_second,
        t.request_seconds,
        t.concurrency,
        t.batch_seconds
    )
}

fn footer(r: &Rehearsal) -> String {
    let source = match r.state_source {
        StateSource::Api => "the real API was only read (the plan's SIMs and the transition table)",
        StateSource::Snapshot | StateSource::Plan => "no request reached the real API",
    };
    format!(
        "Rehearsed in {:.1} s; {source}. The sandbox's batch jobs ran at {} SIMs/s as observed; set --batch-rate to your account's speed for a closer time.",
        r.rehearsal_ms as f64 / 1000.0,
        r.time
            .batch_sims_per_second
            .map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
    )
}
