//! Drift and its evidence: which SIMs differ from the spec, and what the SIM's event log says
//! about when and how the live value came to be (`plan --why-drift`).
//!
//! A SIM is drifted when its live value differs from the spec on a field the spec manages: the
//! plan changes that field, or would but the change is blocked, or the provider holds the SIM
//! in another status; or when it differs from what the last applied plan set
//! ([`super::last_applied`], `--last-applied`), whose status and IMEI lock drift is read for
//! events here too, under the same limit.
//!
//! Only status and IMEI lock changes leave events (`lifecycle`, `imeiLockSwitch`,
//! `imeiUnauthorized`); limits, labels and the custom field have none, and the evidence says so
//! rather than guessing. Pure: `ops` reads the events (at most `limit` SIMs, one page each)
//! and hands them to [`DriftReading::finish`] with the clock it read them by.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fleet::SimEvent;
use crate::spec::Field;

use super::model::Plan;
use super::value::FieldValue;

/// The most events read per SIM: one `listSimEvents` page.
pub const EVENTS_PER_SIM: u32 = 100;

/// `--why-drift-limit`'s default: SIMs whose events are read.
pub const DEFAULT_WHY_DRIFT_LIMIT: u64 = 50;

/// What `--why-drift` found, attached to the plan. It describes the past, so it is left out
/// of the checksum (like `generated_at`) and `apply` never reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftReport {
    /// When the events were read (RFC 3339, UTC): "how long ago" is measured from here.
    pub read_at: String,
    /// The same instant in Unix milliseconds.
    pub read_at_ms: i64,
    /// `--why-drift-limit`: the most SIMs whose events are read.
    pub limit: u64,
    /// SIMs whose live value differs from the spec on a managed field.
    pub drifted_sims: u64,
    /// Of those, SIMs whose status or IMEI lock differs (the fields events record).
    pub with_events: u64,
    /// SIMs whose events were read (at most `limit`).
    pub read: u64,
    /// SIMs with status or IMEI lock drift whose events were not read (over the limit).
    pub not_read: u64,
    /// SIMs whose read failed (the error is in their entry).
    pub failed: u64,
    /// `listSimEvents` requests sent.
    pub requests: u64,
    /// Drifted (SIM, field) pairs on fields no event records (limits, labels, custom field).
    #[schemars(with = "BTreeMap<String, u64>")]
    pub without_events: BTreeMap<Field, u64>,
    /// The SIMs read, riskiest first (status, then IMEI lock), then by ICCID.
    pub sims: Vec<DriftedSim>,
}

/// One drifted SIM whose events were read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftedSim {
    pub iccid: String,
    pub fields: Vec<DriftedField>,
}

/// One drifted field: what the spec says, what is live, and the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftedField {
    pub field: Field,
    /// The value the spec wants (as the API takes it).
    #[schemars(with = "serde_json::Value")]
    pub spec: FieldValue,
    /// The live value as read.
    #[schemars(with = "serde_json::Value")]
    pub live: FieldValue,
    pub evidence: Evidence,
}

/// What the event log says about one drifted field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evidence {
    /// The newest event of a type that records this field.
    Event {
        /// RFC 3339, UTC.
        at: String,
        at_ms: i64,
        /// The event type (`lifecycle`, `imeiLockSwitch`, `imeiUnauthorized`).
        event_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<String>,
    },
    /// The newest `events_read` matching events (one page) hold none for this field.
    NoMatchingEvent { events_read: u64 },
    /// No event type records changes to this field.
    NoEventsForField,
    /// Reading the SIM's events failed.
    ReadFailed { error: String },
}

/// The event types that record changes to `field`, if any do.
pub fn event_types_for(field: Field) -> &'static [&'static str] {
    match field {
        Field::Status => &["lifecycle", "imeiUnauthorized"],
        Field::ImeiLock => &["imeiLockSwitch", "imeiUnauthorized"],
        _ => &[],
    }
}

/// How the text says which fields have no events.
pub fn field_family(field: Field) -> &'static str {
    match field {
        Field::MonthlyDataLimit
        | Field::MonthlySmsMoLimit
        | Field::MonthlySmsMtLimit
        | Field::MonthlyVoiceMoLimit => "limits",
        Field::EndCustomerLabel => "labels",
        Field::CustomField1 => "the custom field",
        Field::Status => "status",
        Field::ImeiLock => "IMEI locks",
    }
}

/// A drifted SIM before its events are read.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    iccid: String,
    /// Fields off the spec: (field, spec, live).
    fields: Vec<(Field, FieldValue, FieldValue)>,
    /// Fields with events off what the last applied plan set (`--last-applied`).
    since_last_apply: Vec<Field>,
}

impl Candidate {
    /// Status drift first, then IMEI lock, then the rest.
    fn rank(&self) -> u8 {
        let has = |f: Field| {
            self.fields.iter().any(|(g, ..)| *g == f) || self.since_last_apply.contains(&f)
        };
        if has(Field::Status) {
            0
        } else if has(Field::ImeiLock) {
            1
        } else {
            2
        }
    }
}

/// The drift of a plan, and which SIMs' events to read.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftReading {
    limit: u64,
    drifted_sims: u64,
    without_events: BTreeMap<Field, u64>,
    /// SIMs with status or IMEI lock drift, riskiest first.
    with_events: Vec<Candidate>,
}

impl DriftReading {
    /// The drift of `plan`: its (non-implied) changes, blocked changes and held statuses, and
    /// the status and IMEI lock drift since the last applied plan (`since_last_apply`), which
    /// shares the limit.
    pub fn of(plan: &Plan, limit: u64) -> DriftReading {
        let mut by_sim: BTreeMap<&str, Vec<(Field, FieldValue, FieldValue)>> = BTreeMap::new();
        for change in &plan.changes {
            for f in change.fields().filter(|f| !f.implied) {
                by_sim.entry(&change.iccid).or_default().push((
                    f.field,
                    f.to.clone(),
                    f.from.clone(),
                ));
            }
        }
        for b in &plan.blocked {
            by_sim
                .entry(&b.iccid)
                .or_default()
                .push((b.field, b.to.clone(), b.from.clone()));
        }
        for h in &plan.held {
            by_sim.entry(&h.iccid).or_default().push((
                Field::Status,
                FieldValue::Int(h.desired.into()),
                FieldValue::Int(h.statusid.into()),
            ));
        }
        let mut without_events: BTreeMap<Field, u64> = BTreeMap::new();
        let mut with_events: BTreeMap<&str, Candidate> = BTreeMap::new();
        let drifted_sims = by_sim.len() as u64;
        for (iccid, mut fields) in by_sim {
            fields.sort_by_key(|(f, ..)| *f);
            for (f, ..) in fields
                .iter()
                .filter(|(f, ..)| event_types_for(*f).is_empty())
            {
                *without_events.entry(*f).or_insert(0) += 1;
            }
            if fields.iter().any(|(f, ..)| !event_types_for(*f).is_empty()) {
                let candidate = Candidate {
                    iccid: iccid.to_string(),
                    fields,
                    since_last_apply: Vec::new(),
                };
                with_events.insert(iccid, candidate);
            }
        }
        let since_last_apply = plan.since_last_apply.iter().flat_map(|r| r.with_events());
        for (iccid, field) in since_last_apply {
            let candidate = with_events.entry(iccid).or_insert_with(|| Candidate {
                iccid: iccid.to_string(),
                fields: Vec::new(),
                since_last_apply: Vec::new(),
            });
            candidate.since_last_apply.push(field);
        }
        let mut with_events: Vec<Candidate> = with_events.into_values().collect();
        // Stable: ICCID order within a rank.
        with_events.sort_by_key(Candidate::rank);
        DriftReading {
            limit,
            drifted_sims,
            without_events,
            with_events,
        }
    }

    /// The ICCIDs whose events to read: at most `limit`, riskiest first.
    pub fn to_read(&self) -> Vec<&str> {
        self.with_events
            .iter()
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .map(|c| c.iccid.as_str())
            .collect()
    }

    /// The report, given what was read per ICCID (newest first), `requests` sent, and the
    /// clock the events were read by. SIMs read only for their drift since the last applied
    /// plan are not in it (that report takes its evidence from the same reads).
    pub fn finish(
        self,
        reads: &HashMap<String, Result<Vec<SimEvent>, String>>,
        requests: u64,
        read_at_ms: i64,
    ) -> DriftReport {
        let mut sims = Vec::new();
        let mut failed = 0;
        let to_read = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let total = self
            .with_events
            .iter()
            .filter(|c| !c.fields.is_empty())
            .count() as u64;
        let not_read = Err("not read".to_string());
        for candidate in self.with_events.into_iter().take(to_read) {
            if candidate.fields.is_empty() {
                continue;
            }
            let read = reads.get(&candidate.iccid).unwrap_or(&not_read);
            failed += u64::from(read.is_err());
            let fields = candidate
                .fields
                .into_iter()
                .map(|(field, spec, live)| DriftedField {
                    field,
                    spec,
                    live,
                    evidence: evidence(field, read),
                })
                .collect();
            sims.push(DriftedSim {
                iccid: candidate.iccid,
                fields,
            });
        }
        let read = sims.len() as u64;
        DriftReport {
            read_at: rfc3339(read_at_ms),
            read_at_ms,
            limit: self.limit,
            drifted_sims: self.drifted_sims,
            with_events: total,
            read,
            not_read: total - read,
            failed,
            requests,
            without_events: self.without_events,
            sims,
        }
    }
}

/// The evidence for one field from a SIM's events (newest first).
pub(super) fn evidence(field: Field, read: &Result<Vec<SimEvent>, String>) -> Evidence {
    let types = event_types_for(field);
    if types.is_empty() {
        return Evidence::NoEventsForField;
    }
    let events = match read {
        Ok(events) => events,
        Err(error) => {
            return Evidence::ReadFailed {
                error: error.clone(),
            }
        }
    };
    // The newest; of events at the same millisecond, the first as the API listed them (newest
    // first).
    let newest = events
        .iter()
        .filter(|e| types.contains(&e.kind.as_str()))
        .fold(None::<&SimEvent>, |best, e| match best {
            Some(b) if b.timestamp_ms >= e.timestamp_ms => Some(b),
            _ => Some(e),
        });
    match newest {
        Some(e) => Evidence::Event {
            at: rfc3339(e.timestamp_ms),
            at_ms: e.timestamp_ms,
            event_type: e.kind.clone(),
            details: e.details.clone(),
        },
        None => Evidence::NoMatchingEvent {
            events_read: events.len() as u64,
        },
    }
}

/// Unix milliseconds as RFC 3339 UTC, to the second.
pub fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// How long before `now_ms` an event at `at_ms` was, in words: "just now", "5 minutes ago",
/// "3 hours ago", "3 days ago"; "in the future" for a clock that disagrees.
pub fn ago(at_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - at_ms) / 1000;
    if secs < 0 {
        return "in the future (the clocks disagree)".to_string();
    }
    let unit = |n: i64, word: &str| format!("{n} {word}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        0..=59 => "just now".to_string(),
        60..=3_599 => unit(secs / 60, "minute"),
        3_600..=86_399 => unit(secs / 3_600, "hour"),
        _ => unit(secs / 86_400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, at: i64, details: &str) -> SimEvent {
        SimEvent {
            id: at.to_string(),
            iccid: "1".into(),
            timestamp_ms: at,
            kind: kind.into(),
            details: Some(details.into()),
            json_data: None,
        }
    }

    #[test]
    fn the_newest_event_of_the_fields_types_is_the_evidence() {
        let read = Ok(vec![
            event("lifecycle", 300, "newest status"),
            event("imeiLockSwitch", 200, "lock"),
            event("lifecycle", 100, "older status"),
        ]);
        match evidence(Field::Status, &read) {
            Evidence::Event { details, at_ms, .. } => {
                assert_eq!((details.as_deref(), at_ms), (Some("newest status"), 300))
            }
            other => panic!("{other:?}"),
        }
        match evidence(Field::ImeiLock, &read) {
            Evidence::Event { event_type, .. } => assert_eq!(event_type, "imeiLockSwitch"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            evidence(Field::MonthlyDataLimit, &read),
            Evidence::NoEventsForField
        );
        assert_eq!(
            evidence(Field::ImeiLock, &Ok(vec![event("lifecycle", 1, "")])),
            Evidence::NoMatchingEvent { events_read: 1 }
        );
        let failed = evidence(Field::Status, &Err("SIM 1: ListSimEvents: boom".into()));
        assert_eq!(
            failed,
            Evidence::ReadFailed {
                error: "SIM 1: ListSimEvents: boom".into()
            }
        );
        assert_eq!(
            evidence(Field::EndCustomerLabel, &Err("x".into())),
            Evidence::NoEventsForField,
            "a failed read says nothing about fields without events"
        );
    }

    #[test]
    fn ago_reads_like_a_person_would_say_it() {
        let day = 86_400_000;
        assert_eq!(ago(0, 3 * day + 5), "3 days ago");
        assert_eq!(ago(0, day), "1 day ago");
        assert_eq!(ago(0, 7_200_000), "2 hours ago");
        assert_eq!(ago(0, 61_000), "1 minute ago");
        assert_eq!(ago(0, 30_000), "just now");
        assert!(ago(10_000, 0).contains("future"));
        assert_eq!(rfc3339(1_744_366_387_096), "2025-04-11T10:13:07Z");
    }
}
