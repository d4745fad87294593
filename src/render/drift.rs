//! The drift evidence (`--why-drift`) as lines both text and markdown show: a headline with
//! how many SIMs were read and how many not, one line per drifted field of each SIM read
//! ("status Activated (2) in the spec, Suspended (12) live: changed 3 days ago,
//! 2026-11-28T09:00:00Z (lifecycle: …)"), and a
//! plain statement for fields no event records. "How long ago" is measured from the time the
//! events were read, stored in the report, so the same report always reads the same.
//!
//! With `--mask`, ICCIDs, and IMEIs or ICCIDs inside event details and errors, are masked here.

use crate::plan::drift::{
    ago, event_types_for, field_family, DriftReport, Evidence, EVENTS_PER_SIM,
};

use super::values;
use crate::spec::Field;

/// The most characters of an event's `details` shown (the API does not bound them).
const DETAILS_SHOWN: usize = 240;

/// The most SIMs the markdown lists: it shares the comment's size limit with the plan.
const MARKDOWN_SIMS: usize = 10;

/// One SIM read: its ICCID as shown and one line per drifted field.
pub struct DriftSimLines {
    pub iccid: String,
    pub fields: Vec<String>,
}

impl DriftSimLines {
    /// A SIM's lines: its ICCID (masked when asked) and `line` of each of its fields.
    pub fn of<F>(iccid: &str, fields: &[F], mask: bool, line: impl Fn(&F) -> String) -> Self {
        DriftSimLines {
            iccid: values::iccid(iccid, mask),
            fields: fields.iter().map(line).collect(),
        }
    }
}

/// The report as lines.
pub struct DriftLines {
    pub headline: String,
    pub sims: Vec<DriftSimLines>,
    /// "monthly_data_limit differs on 3 SIMs: no events record changes to limits …".
    pub without_events: Vec<String>,
}

/// Builds the lines of `report`.
pub fn lines(report: &DriftReport, mask: bool) -> DriftLines {
    let sims = report
        .sims
        .iter()
        .map(|sim| {
            DriftSimLines::of(&sim.iccid, &sim.fields, mask, |f| {
                field_line(report, f, mask)
            })
        })
        .collect();
    let without_events = report
        .without_events
        .iter()
        .map(|(field, n)| {
            format!(
                "{field} differs on {}: no events record changes to {}, so when and how it \
                 changed is not known",
                values::sims(*n as usize),
                field_family(*field)
            )
        })
        .collect();
    DriftLines {
        headline: headline(report),
        sims,
        without_events,
    }
}

/// How many SIMs drifted, and how many of those with events were read and not read.
fn headline(r: &DriftReport) -> String {
    if r.drifted_sims == 0 {
        return format!(
            "no SIM differs from the spec on a field it manages: no events were read (at {})",
            r.read_at
        );
    }
    let mut line = format!(
        "{} differ from the spec; {} of them in status or IMEI lock: events read for {}, not read for {}",
        values::sims(r.drifted_sims as usize),
        r.with_events,
        r.read,
        r.not_read
    );
    if r.not_read > 0 {
        line.push_str(&format!(" (over --why-drift-limit {})", r.limit));
    }
    if r.failed > 0 {
        line.push_str(&format!(", {} could not be read", r.failed));
    }
    line.push_str(&format!(
        "; {} listSimEvents request(s), read at {}",
        r.requests, r.read_at
    ));
    line
}

/// `details` cut to [`DETAILS_SHOWN`] characters, on a character boundary. Cut after masking:
/// a cut through an IMEI would leave a run too short to be masked.
fn shorten(details: &str) -> String {
    if details.chars().count() <= DETAILS_SHOWN {
        return details.to_string();
    }
    let cut: String = details.chars().take(DETAILS_SHOWN).collect();
    format!("{cut}…")
}

fn field_line(r: &DriftReport, f: &crate::plan::drift::DriftedField, mask: bool) -> String {
    let (spec, live) = (
        values::value(f.field, &f.spec, mask),
        values::value(f.field, &f.live, mask),
    );
    let what = format!("{} {spec} in the spec, {live} live", f.field);
    format!(
        "{what}: {}",
        evidence_text(f.field, &f.evidence, r.read_at_ms, mask)
    )
}

/// What `evidence` says of `field`, "how long ago" measured from `read_at_ms`: the evidence
/// line of a drifted field, since the spec or since the last applied plan.
pub fn evidence_text(field: Field, evidence: &Evidence, read_at_ms: i64, mask: bool) -> String {
    match evidence {
        Evidence::Event {
            at,
            at_ms,
            event_type,
            details,
        } => {
            let details = details
                .as_deref()
                .map(|d| shorten(&values::text(d, mask)))
                .unwrap_or_else(|| "no details".to_string());
            format!(
                "changed {}, {at} ({event_type}: {details})",
                ago(*at_ms, read_at_ms)
            )
        }
        Evidence::NoMatchingEvent { events_read } => {
            let types = event_types_for(field).join(" or ");
            match *events_read {
                0 => format!("no {types} event in the SIM's event log"),
                n if n >= u64::from(EVENTS_PER_SIM) => {
                    format!("no {types} event among the newest {n} read (older ones were not read)")
                }
                n => format!("no {types} event among the SIM's {n} status and lock events"),
            }
        }
        Evidence::NoEventsForField => {
            format!("no events record changes to {}", field_family(field))
        }
        Evidence::ReadFailed { error } => format!(
            "its events could not be read: {}",
            values::text(error, mask)
        ),
    }
}

/// The drift section of the text plan, under `title`: at most 20 SIMs unless `all`.
pub fn text_block(report: &DriftReport, mask: bool, all: bool, title: &str) -> String {
    text_of(&lines(report, mask), all, title)
}

/// Drift lines as a text section under `title`: at most 20 SIMs unless `all`.
pub(super) fn text_of(l: &DriftLines, all: bool, title: &str) -> String {
    let mut out = format!("\n{title}\n  {}\n", l.headline);
    let capped = super::rows::cap(&l.sims, all, |_| 1);
    for sim in capped.shown {
        out.push_str(&format!("  {}\n", sim.iccid));
        for f in &sim.fields {
            out.push_str(&format!("      {f}\n"));
        }
    }
    if capped.hidden > 0 {
        out.push_str(&format!(
            "  … and {}: --verbose or --format json lists them\n",
            values::sims(capped.hidden)
        ));
    }
    for line in &l.without_events {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// The drift section of the markdown comment (and of the scheduled drift issue).
pub fn markdown_block(report: &DriftReport, mask: bool) -> String {
    markdown_of(&lines(report, mask), "🔎 Drift and its evidence", "read")
}

/// Drift lines as a markdown section under `heading`: at most [`MARKDOWN_SIMS`] SIMs, the rest
/// counted as "… and N `more`".
pub(super) fn markdown_of(l: &DriftLines, heading: &str, more: &str) -> String {
    let html = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!("\n#### {heading}\n\n{}\n\n", html(&l.headline));
    let shown = l.sims.len().min(MARKDOWN_SIMS);
    for sim in &l.sims[..shown] {
        out.push_str(&format!("- <code>{}</code>\n", html(&sim.iccid)));
        for f in &sim.fields {
            out.push_str(&format!("  - {}\n", html(f)));
        }
    }
    if shown < l.sims.len() {
        out.push_str(&format!(
            "- … and {} {more}: `--format json` lists them\n",
            values::sims(l.sims.len() - shown)
        ));
    }
    for line in &l.without_events {
        out.push_str(&format!("- {}\n", html(line)));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::drift::{DriftedField, DriftedSim};
    use crate::plan::{Field, FieldValue};

    pub(crate) fn report() -> DriftReport {
        let day = 86_400_000;
        let now = 1_764_590_400_000; // 2025-12-01T12:00:00Z
        DriftReport {
            read_at: crate::plan::drift::rfc3339(now),
            read_at_ms: now,
            limit: 1,
            drifted_sims: 3,
            with_events: 2,
            read: 1,
            not_read: 1,
            failed: 0,
            requests: 1,
            without_events: BTreeMap::from([(Field::MonthlyDataLimit, 2)]),
            sims: vec![DriftedSim {
                iccid: "8988303000000001234".into(),
                fields: vec![
                    DriftedField {
                        field: Field::Status,
                        spec: FieldValue::Int(2),
                        live: FieldValue::Int(5),
                        evidence: Evidence::Event {
                            at: crate::plan::drift::rfc3339(now - 3 * day),
                            at_ms: now - 3 * day,
                            event_type: "lifecycle".into(),
                            details: Some(
                                "SIM status changed from Activated to Deactivated by portal user"
                                    .into(),
                            ),
                        },
                    },
                    DriftedField {
                        field: Field::ImeiLock,
                        spec: FieldValue::ImeiLock {
                            enabled: false,
                            imei: None,
                        },
                        live: FieldValue::ImeiLock {
                            enabled: true,
                            imei: Some("356938035643809".into()),
                        },
                        evidence: Evidence::Event {
                            at: crate::plan::drift::rfc3339(now - 7_200_000),
                            at_ms: now - 7_200_000,
                            event_type: "imeiLockSwitch".into(),
                            details: Some(
                                "IMEI lock enabled for IMEI 356938035643809 by portal user".into(),
                            ),
                        },
                    },
                    DriftedField {
                        field: Field::MonthlyDataLimit,
                        spec: FieldValue::Int(1_000_000),
                        live: FieldValue::Int(2_000_000),
                        evidence: Evidence::NoEventsForField,
                    },
                ],
            }],
        }
    }

    #[test]
    fn evidence_reads_with_its_time_and_masks_identifiers() {
        let plain = lines(&report(), false);
        assert_eq!(
            plain.sims[0].fields[0],
            "status Activated (2) in the spec, Deactivated (5) live: changed 3 days ago, \
             2025-11-28T12:00:00Z (lifecycle: SIM status changed from Activated to Deactivated \
             by portal user)"
        );
        assert!(plain.sims[0].fields[1].contains("2 hours ago"));
        assert!(plain.sims[0].fields[2].ends_with("no events record changes to limits"));
        assert!(plain
            .headline
            .contains("events read for 1, not read for 1 (over --why-drift-limit 1)"));
        assert!(plain.without_events[0].contains("no events record changes to limits"));
        let masked = lines(&report(), true);
        let all = format!("{} {:?}", masked.sims[0].iccid, masked.sims[0].fields);
        assert!(!all.contains("356938035643809") && !all.contains("8988303000000001234"));
        assert!(all.contains("***********3809"), "{all}");
        let long = "x".repeat(1000);
        assert_eq!(shorten(&long).chars().count(), DETAILS_SHOWN + 1);
        assert_eq!(shorten("é short"), "é short");
    }
}
