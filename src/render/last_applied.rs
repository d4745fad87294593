//! Drift since the last applied plan (`--last-applied`) as lines text and markdown show, laid
//! out like the drift evidence ([`super::drift`]): a headline with the counts (SIMs compared,
//! drifted, not found), one line per drifted field of each SIM, riskiest first ("status
//! Activated (2) set by the last plan, Suspended (12) live; the spec no longer manages it
//! (nothing sets it back); changed 3 days ago, … (lifecycle: …)"), then the fields no event records and the SIMs not
//! found. ICCIDs, and identifiers in values and event details, are masked with `--mask`.

use crate::plan::drift::{event_types_for, field_family};
use crate::plan::last_applied::{LastAppliedField, LastAppliedReport};

use super::drift::{evidence_text, DriftLines, DriftSimLines};
use super::values;

/// The most ICCIDs of SIMs not found that are listed (the rest are counted).
const NOT_FOUND_SHOWN: usize = 20;

/// The section's title.
pub const TITLE: &str = "Drift since the last applied plan";

/// The report as lines.
pub fn lines(report: &LastAppliedReport, mask: bool) -> DriftLines {
    let sims = report
        .sims
        .iter()
        .map(|sim| {
            DriftSimLines::of(&sim.iccid, &sim.fields, mask, |f| {
                field_line(report, f, mask)
            })
        })
        .collect();
    DriftLines {
        headline: headline(report),
        sims,
        without_events: trailing(report, mask),
    }
}

/// The counts, and how many SIMs' events were read.
fn headline(r: &LastAppliedReport) -> String {
    let made = r
        .plan_generated_at
        .as_deref()
        .map(|at| format!(", made {at}"))
        .unwrap_or_default();
    let mut line = format!(
        "{} ({}{made}): {} of its {} compared",
        r.plan_file,
        r.plan_checksum,
        r.compared,
        values::sims(r.sims_in_plan as usize),
    );
    if r.read_again > 0 {
        line.push_str(&format!(
            " ({} not in this plan's read, read again by ICCID)",
            r.read_again
        ));
    }
    if r.drifted_sims == 0 {
        line.push_str(", none drifted: every field is still at what the plan set");
    } else {
        line.push_str(&format!(
            ", {} no longer at what it set",
            values::sims(r.drifted_sims as usize)
        ));
    }
    if !r.not_found.is_empty() {
        line.push_str(&format!(
            ", {} not found (deleted)",
            values::sims(r.not_found.len())
        ));
    }
    if let Some(e) = &r.events {
        line.push_str(&format!(
            "; status or IMEI lock drift: events read for {}, not read for {}",
            e.read, e.not_read
        ));
        if e.not_read > 0 {
            line.push_str(&format!(" (over --why-drift-limit {})", e.limit));
        }
    }
    line
}

/// One drifted field: what was set, what is live, what the spec and this plan say of it now,
/// and the evidence when events were read.
fn field_line(r: &LastAppliedReport, f: &LastAppliedField, mask: bool) -> String {
    let value = |v| values::value(f.field, v, mask);
    let mut line = format!(
        "{} {} set by the last plan, {} live; {}",
        f.field,
        value(&f.set),
        value(&f.live),
        spec_now(f, mask)
    );
    if let (Some(evidence), Some(events)) = (&f.evidence, &r.events) {
        line.push_str("; ");
        line.push_str(&evidence_text(f.field, evidence, events.read_at_ms, mask));
    }
    line
}

/// Whether the spec still manages the field, and this plan's change of it.
fn spec_now(f: &LastAppliedField, mask: bool) -> String {
    if !f.managed {
        return "the spec no longer manages it (nothing sets it back)".to_string();
    }
    match &f.current {
        Some(c) if c.blocked => format!(
            "the spec wants {}, but this plan cannot make the change (blocked)",
            values::value(f.field, &c.to, mask)
        ),
        Some(c) if c.to == f.set => "the spec still wants it: this plan sets it back".to_string(),
        Some(c) => format!(
            "the spec now wants {}: this plan sets that",
            values::value(f.field, &c.to, mask)
        ),
        None => "the spec manages it, and this plan changes nothing (the spec now agrees with \
                 the live value, or the SIM is pending, held or outside --target)"
            .to_string(),
    }
}

/// Fields no event records (when events were read), and the SIMs not found.
fn trailing(r: &LastAppliedReport, mask: bool) -> Vec<String> {
    let mut out = Vec::new();
    if r.events.is_some() {
        for (field, n) in (r.drifted_fields.iter()).filter(|(f, _)| event_types_for(**f).is_empty())
        {
            out.push(format!(
                "{field} drifted on {}: no events record changes to {}, so when and how it \
                 changed is not known",
                values::sims(*n as usize),
                field_family(*field)
            ));
        }
    }
    if !r.not_found.is_empty() {
        let shown: Vec<String> = (r.not_found.iter().take(NOT_FOUND_SHOWN))
            .map(|iccid| values::iccid(iccid, mask))
            .collect();
        let more = r.not_found.len().saturating_sub(NOT_FOUND_SHOWN);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push(format!(
            "not found in the fleet (deleted since the apply?): {}{more}",
            shown.join(", ")
        ));
    }
    out
}

/// The text section: at most 20 SIMs unless `all`.
pub fn text_block(report: &LastAppliedReport, mask: bool, all: bool, title: &str) -> String {
    super::drift::text_of(&lines(report, mask), all, title)
}

/// The markdown section (of the comment and of the scheduled drift issue).
pub fn markdown_block(report: &LastAppliedReport, mask: bool) -> String {
    super::drift::markdown_of(&lines(report, mask), &format!("🔎 {TITLE}"), "drifted")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::drift::Evidence;
    use crate::plan::last_applied::{CurrentChange, EventsRead, LastAppliedSim};
    use crate::plan::{Field, FieldValue};

    fn report() -> LastAppliedReport {
        let iccid = "89490000000030318262";
        LastAppliedReport {
            plan_file: "applied.plan".into(),
            plan_checksum: "sha256:ab".into(),
            plan_generated_at: Some("2026-11-30T08:00:00Z".into()),
            sims_in_plan: 3,
            compared: 2,
            read_again: 1,
            drifted_sims: 1,
            drifted_fields: BTreeMap::from([(Field::Status, 1), (Field::MonthlyDataLimit, 1)]),
            not_found: vec!["89490000000030318999".into()],
            events: Some(EventsRead {
                limit: 50,
                read: 1,
                not_read: 0,
                read_at_ms: 86_400_000 * 3,
            }),
            sims: vec![LastAppliedSim {
                iccid: iccid.into(),
                fields: vec![
                    LastAppliedField {
                        field: Field::Status,
                        set: FieldValue::Int(2),
                        live: FieldValue::Int(12),
                        managed: false,
                        current: None,
                        evidence: Some(Evidence::Event {
                            at: "1970-01-01T00:00:00Z".into(),
                            at_ms: 0,
                            event_type: "lifecycle".into(),
                            details: Some(format!("SIM {iccid} suspended by portal user")),
                        }),
                    },
                    LastAppliedField {
                        field: Field::MonthlyDataLimit,
                        set: FieldValue::Int(1_000_000),
                        live: FieldValue::Int(2_000_000),
                        managed: true,
                        current: Some(CurrentChange {
                            to: FieldValue::Int(1_000_000),
                            blocked: false,
                        }),
                        evidence: Some(Evidence::NoEventsForField),
                    },
                ],
            }],
        }
    }

    #[test]
    fn each_field_says_what_was_set_what_is_live_and_what_the_spec_says_now() {
        let l = lines(&report(), false);
        assert!(
            l.headline.contains("2 of its 3 SIMs compared"),
            "{}",
            l.headline
        );
        assert!(l.headline.contains("1 SIM no longer at what it set"));
        assert!(l.headline.contains("1 SIM not found (deleted)"));
        assert!(l.headline.contains("events read for 1, not read for 0"));
        let status = &l.sims[0].fields[0];
        assert!(
            status.starts_with("status Activated (2) set by the last plan, Suspended (12) live; the spec no longer manages it"),
            "{status}"
        );
        assert!(status.contains("changed 3 days ago"), "{status}");
        assert!(l.sims[0].fields[1].contains("the spec still wants it: this plan sets it back"));
        assert!(l.sims[0].fields[1].ends_with("no events record changes to limits"));
        assert!(l.without_events[0].starts_with("monthly_data_limit drifted on 1 SIM"));
        assert!(l.without_events[1].contains("89490000000030318999"));
    }

    #[test]
    fn masked_lines_hold_no_identifier() {
        let l = lines(&report(), true);
        let all = format!(
            "{} {:?} {:?} {:?}",
            l.headline, l.sims[0].iccid, l.sims[0].fields, l.without_events
        );
        assert!(!all.contains("89490000000030318262"), "{all}");
        assert!(!all.contains("89490000000030318999"), "{all}");
        let block = text_block(&report(), true, false, TITLE);
        assert!(!block.contains("8949000000003031"), "{block}");
        let md = markdown_block(&report(), true);
        assert!(!md.contains("8949000000003031"), "{md}");
    }
}
