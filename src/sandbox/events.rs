//! The sandbox's SIM event log and `listSimEvents`: what happened to each SIM, and when.
//!
//! Events are recorded where the store changes a SIM: a status change gives a `lifecycle`
//! event, a change of the IMEI lock an `imeiLockSwitch` event, each saying who made it (the
//! API, a batch job, or someone in the vendor's portal, simulated by `POST /outside/updateSim`).
//! Besides those, every SIM has a few `presence` events (a data session coming up or going
//! down) in the day before the sandbox started, synthesised on demand from the seed and the
//! ICCID, so a million-SIM sandbox stores none of them and the same seed gives the same ones.
//!
//! `details` is the short text the reference's example shows and `jsonData` a JSON string of
//! the same facts. Paging follows `listSims`: `limit` 1..100, a `nextToken` holding the last
//! key returned (timestamp and id) bound to the query it came from.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::fleet::{tables, ImeiLock};

use super::token::{self, Cursor};
use super::types::{SimEventFilterInput, SimEventOrder, StringFilterInput};

/// One event as stored (or synthesised).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub iccid: String,
    pub timestamp_ms: i64,
    pub kind: String,
    pub details: String,
    pub json_data: String,
}

/// Who changed a SIM, as events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An `updateSim` call.
    Api,
    /// A batch job, by id.
    BatchJob(i64),
    /// `POST /outside/updateSim`: someone in the vendor's portal.
    Portal,
    /// The network settling a delayed transition (13 → 2, 14 → 5).
    Network,
}

impl Actor {
    fn text(self) -> String {
        match self {
            Actor::Api => "API".to_string(),
            Actor::BatchJob(id) => format!("batch job {id}"),
            Actor::Portal => "portal user".to_string(),
            Actor::Network => "network".to_string(),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Actor::Api => "api",
            Actor::BatchJob(_) => "batchJob",
            Actor::Portal => "portal",
            Actor::Network => "network",
        }
    }
}

/// Synthesised presence events get ids from here up; recorded ones count from 1.
const PRESENCE_ID_BASE: i64 = 10_000_000_000;

/// Presence events lie within this many milliseconds before the sandbox started.
const PRESENCE_WINDOW_MS: i64 = 24 * 3_600_000;

/// One page of `listSimEvents`.
#[derive(Debug)]
pub struct EventPage {
    pub items: Vec<Event>,
    pub next_token: Option<String>,
    pub total: u64,
}

/// What a recorded event says, kept small: a million-SIM apply records a million of them, so
/// `details` and `jsonData` are written only when the event is read.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Status {
        from: i32,
        to: i32,
    },
    Lock {
        old: LockState,
        new: LockState,
    },
    /// Used with `imei` while locked to `locked`.
    Unauthorized {
        imei: String,
        locked: String,
    },
}

/// An IMEI lock as events describe it.
#[derive(Debug, Clone, PartialEq)]
enum LockState {
    Disabled,
    Auto,
    Enabled(String),
}

impl LockState {
    fn of(lock: Option<&ImeiLock>) -> LockState {
        match lock {
            Some(l) if l.enabled => match &l.imei {
                Some(imei) => LockState::Enabled(imei.clone()),
                None => LockState::Auto,
            },
            _ => LockState::Disabled,
        }
    }

    fn key(&self) -> &'static str {
        match self {
            LockState::Disabled => "disabled",
            LockState::Auto => "auto",
            LockState::Enabled(_) => "enabled",
        }
    }

    fn imei(&self) -> Option<&str> {
        match self {
            LockState::Enabled(imei) => Some(imei),
            _ => None,
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
struct Record {
    id: i64,
    at_ms: i64,
    by: Actor,
    change: Change,
}

impl Record {
    /// The event as the API shows it.
    fn event(&self, iccid: &str) -> Event {
        let by = self.by;
        let (kind, details, data) = match &self.change {
            Change::Status { from, to } => {
                let (old, new) = (status_text(*from), status_text(*to));
                let details = format!("SIM status changed from {old} to {new} by {}", by.text());
                let data = json!({
                    "oldStatusId": from, "oldStatus": old,
                    "newStatusId": to, "newStatus": new,
                    "changedBy": by.key(), "changedByText": by.text(),
                });
                ("lifecycle", details, data)
            }
            Change::Lock { old, new } => {
                let what = match new {
                    LockState::Enabled(imei) => format!("IMEI lock enabled for IMEI {imei}"),
                    LockState::Auto => "IMEI lock switched to auto-detect".to_string(),
                    LockState::Disabled => "IMEI lock disabled".to_string(),
                };
                let data = json!({
                    "oldImeiLock": old.key(), "oldImei": old.imei(),
                    "imeiLock": new.key(), "imei": new.imei(),
                    "changedBy": by.key(), "changedByText": by.text(),
                });
                ("imeiLockSwitch", format!("{what} by {}", by.text()), data)
            }
            Change::Unauthorized { imei, locked } => {
                let details = format!(
                    "SIM card used with unauthorized IMEI {imei} (locked to IMEI {locked})"
                );
                let data = json!({ "imei": imei, "lockedImei": locked });
                ("imeiUnauthorized", details, data)
            }
        };
        Event {
            id: self.id,
            iccid: iccid.to_string(),
            timestamp_ms: self.at_ms,
            kind: kind.to_string(),
            details,
            json_data: data.to_string(),
        }
    }
}

/// Every recorded event, per ICCID, oldest first.
pub struct EventLog {
    seed: u64,
    started_ms: i64,
    next_id: i64,
    by_sim: HashMap<Box<str>, Vec<Record>>,
}

fn status_text(id: i32) -> String {
    tables::status_name(id).map_or_else(|| format!("status {id}"), str::to_string)
}

impl EventLog {
    pub fn new(seed: u64, started_ms: i64) -> EventLog {
        EventLog {
            seed,
            started_ms,
            next_id: 1,
            by_sim: HashMap::new(),
        }
    }

    fn push(&mut self, iccid: &str, at_ms: i64, by: Actor, change: Change) {
        let record = Record {
            id: self.next_id,
            at_ms,
            by,
            change,
        };
        self.next_id += 1;
        match self.by_sim.get_mut(iccid) {
            Some(records) => records.push(record),
            None => {
                self.by_sim.insert(iccid.into(), vec![record]);
            }
        }
    }

    /// A `lifecycle` event: the status went from `from` to `to`.
    pub fn status_changed(&mut self, iccid: &str, from: i32, to: i32, by: Actor, at_ms: i64) {
        if from != to {
            self.push(iccid, at_ms, by, Change::Status { from, to });
        }
    }

    /// An `imeiLockSwitch` event, when the lock's state or IMEI differs.
    pub fn lock_changed(
        &mut self,
        iccid: &str,
        before: Option<&ImeiLock>,
        after: Option<&ImeiLock>,
        by: Actor,
        at_ms: i64,
    ) {
        let (old, new) = (LockState::of(before), LockState::of(after));
        if old != new {
            self.push(iccid, at_ms, by, Change::Lock { old, new });
        }
    }

    /// An `imeiUnauthorized` event: the SIM was used in a device with `imei` while locked to
    /// `locked`.
    pub fn unauthorized(&mut self, iccid: &str, imei: &str, locked: &str, at_ms: i64) {
        let change = Change::Unauthorized {
            imei: imei.to_string(),
            locked: locked.to_string(),
        };
        self.push(iccid, at_ms, Actor::Network, change);
    }

    /// The SIM's presence events: 0 to 3, the same for the same seed and ICCID.
    fn presence(&self, iccid: &str) -> Vec<Event> {
        let mut hasher = Sha256::new();
        hasher.update(self.seed.to_le_bytes());
        hasher.update(iccid.as_bytes());
        let digest = hasher.finalize();
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&digest[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b)
        };
        let count = (word(0) % 4) as usize;
        (0..count)
            .map(|k| {
                let w = word(1 + k);
                let ago = 1 + (w % PRESENCE_WINDOW_MS as u64) as i64;
                let up = k % 2 == 0;
                let ip = format!(
                    "10.{}.{}.{}",
                    (w >> 40) % 256,
                    (w >> 48) % 256,
                    (w >> 56) % 254 + 1
                );
                let (level, event, text) = if up {
                    (
                        "GPRS",
                        "GPRS_UP",
                        "Status: GPRS registered, Event: GPRS network connection",
                    )
                } else {
                    (
                        "NONE",
                        "GPRS_DOWN",
                        "Status: not registered, Event: GPRS network disconnection",
                    )
                };
                let details =
                    format!("{text}, Operator: Telefonica O2 Germany,DE(26203), IP: {ip}");
                let data = json!({
                    "presenceLevel": level, "presenceEvent": event,
                    "operator": "Telefonica O2 Germany", "nwc": "26203",
                    "ip": ip, "countryCode": "DE",
                });
                Event {
                    id: PRESENCE_ID_BASE + ((w >> 8) % 1_000_000_000) as i64 * 4 + k as i64,
                    iccid: iccid.to_string(),
                    timestamp_ms: self.started_ms - ago,
                    kind: "presence".to_string(),
                    details,
                    json_data: data.to_string(),
                }
            })
            .collect()
    }

    /// `listSimEvents` for a SIM known to exist. Errors are messages for the GraphQL `errors`.
    pub fn list(
        &self,
        iccid: &str,
        limit: i32,
        next_token: Option<&str>,
        filter: Option<&SimEventFilterInput>,
        order: Option<&SimEventOrder>,
    ) -> Result<EventPage, String> {
        if !(1..=100).contains(&limit) {
            return Err(format!("limit must be between 1 and 100, got {limit}"));
        }
        let desc = parse_order(order)?;
        let digest = token::query_digest(&format!("events|{iccid}|{filter:?}|{desc}"));
        let cursor = token::decode(next_token, &digest)?;
        let after = cursor.as_ref().map(cursor_key).transpose()?;
        let mut events = self.presence(iccid);
        events.extend(
            self.by_sim
                .get(iccid)
                .into_iter()
                .flatten()
                .map(|r| r.event(iccid)),
        );
        events.retain(|e| filter.is_none_or(|f| event_matches(f, e)));
        let key = |e: &Event| (e.timestamp_ms, e.id);
        events.sort_by(|a, b| {
            let o = key(a).cmp(&key(b));
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        let total = events.len() as u64;
        let rest: Vec<Event> = events
            .into_iter()
            .filter(|e| {
                after.is_none_or(|a| match key(e).cmp(&a) {
                    Ordering::Greater => !desc,
                    Ordering::Less => desc,
                    Ordering::Equal => false,
                })
            })
            .collect();
        let limit = limit as usize;
        let more = rest.len() > limit;
        let items: Vec<Event> = rest.into_iter().take(limit).collect();
        let next_token = if more {
            items.last().map(|last| {
                token::encode(&Cursor {
                    q: digest.clone(),
                    k: last.id.to_string(),
                    v: Some(json!(last.timestamp_ms)),
                })
            })
        } else {
            None
        };
        Ok(EventPage {
            items,
            next_token,
            total,
        })
    }
}

fn cursor_key(c: &Cursor) -> Result<(i64, i64), String> {
    let bad = || "malformed nextToken: not a token this server issued".to_string();
    let ts = c.v.as_ref().and_then(|v| v.as_i64()).ok_or_else(bad)?;
    let id = c.k.parse::<i64>().map_err(|_| bad())?;
    Ok((ts, id))
}

/// `order`: `timestampMilliseconds` `asc` (the default: oldest first) or `desc`.
fn parse_order(order: Option<&SimEventOrder>) -> Result<bool, String> {
    match order.and_then(|o| o.timestamp_milliseconds.as_deref()) {
        None => Ok(false),
        Some(dir) => match dir.to_ascii_lowercase().as_str() {
            "asc" => Ok(false),
            "desc" => Ok(true),
            _ => Err(format!(
                "order.timestampMilliseconds must be \"asc\" or \"desc\", got {dir:?}"
            )),
        },
    }
}

fn type_matches(f: &StringFilterInput, kind: &str) -> bool {
    f.eq.as_deref().is_none_or(|eq| eq == kind)
        && f.begins_with.as_deref().is_none_or(|p| kind.starts_with(p))
        && f.in_
            .as_ref()
            .is_none_or(|list| list.iter().flatten().any(|t| t == kind))
}

/// Every present key must hold; `between` is the range from the smallest to the largest value
/// listed (the reference: `[1, 5, 15]` is 1 to 15).
fn event_matches(f: &SimEventFilterInput, e: &Event) -> bool {
    let ts_ok = f.timestamp_milliseconds.as_ref().is_none_or(|t| {
        let eq = t.eq.is_none_or(|v| v.0 == e.timestamp_ms);
        let listed = t
            .in_
            .as_ref()
            .is_none_or(|l| l.iter().flatten().any(|v| v.0 == e.timestamp_ms));
        let between = t.between.as_ref().is_none_or(|l| {
            let values: Vec<i64> = l.iter().flatten().map(|v| v.0).collect();
            match (values.iter().min(), values.iter().max()) {
                (Some(lo), Some(hi)) => (*lo..=*hi).contains(&e.timestamp_ms),
                _ => true,
            }
        });
        eq && listed && between
    });
    ts_ok && f.type_.as_ref().is_none_or(|t| type_matches(t, &e.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::types::{Long, SimEventIntFilterInput};

    fn log() -> EventLog {
        let mut log = EventLog::new(7, 1_000_000_000_000);
        for (i, to) in [5, 2, 5].into_iter().enumerate() {
            let from = if to == 5 { 2 } else { 5 };
            log.status_changed("1", from, to, Actor::Portal, 1_000_000_000_000 + i as i64);
        }
        log
    }

    fn only(kind: &str) -> SimEventFilterInput {
        SimEventFilterInput {
            type_: Some(StringFilterInput {
                eq: Some(kind.to_string()),
                ..StringFilterInput::default()
            }),
            timestamp_milliseconds: None,
        }
    }

    #[test]
    fn pages_of_a_filtered_newest_first_list_join_up() {
        let log = log();
        let desc = SimEventOrder {
            timestamp_milliseconds: Some("desc".into()),
        };
        let filter = only("lifecycle");
        let first = log.list("1", 2, None, Some(&filter), Some(&desc)).unwrap();
        assert_eq!(first.total, 3);
        assert_eq!(first.items.len(), 2);
        assert!(first.items[0].timestamp_ms > first.items[1].timestamp_ms);
        let token = first.next_token.clone().unwrap();
        let second = log
            .list("1", 2, Some(&token), Some(&filter), Some(&desc))
            .unwrap();
        assert_eq!(second.items.len(), 1);
        assert!(second.next_token.is_none());
        assert!(second.items[0].timestamp_ms < first.items[1].timestamp_ms);
        assert!(
            log.list("1", 2, Some(&token), None, Some(&desc)).is_err(),
            "token of another query"
        );
        assert!(log.list("1", 0, None, None, None).is_err());
        assert!(log.list("1", 101, None, None, None).is_err());
    }

    #[test]
    fn presence_is_deterministic_and_filters_by_time() {
        let a = EventLog::new(7, 5_000_000_000_000);
        let b = EventLog::new(7, 5_000_000_000_000);
        let with_presence = (0..50)
            .map(|i| format!("894900000000000{i:04}"))
            .find(|i| !a.presence(i).is_empty())
            .unwrap();
        assert_eq!(a.presence(&with_presence), b.presence(&with_presence));
        let page = a
            .list(&with_presence, 100, None, Some(&only("presence")), None)
            .unwrap();
        let ev = &page.items[0];
        assert!(ev
            .details
            .contains("Operator: Telefonica O2 Germany,DE(26203), IP: 10."));
        let data: serde_json::Value = serde_json::from_str(&ev.json_data).unwrap();
        assert_eq!(data["nwc"], "26203");
        let at = SimEventFilterInput {
            type_: None,
            timestamp_milliseconds: Some(SimEventIntFilterInput {
                eq: None,
                in_: None,
                between: Some(vec![
                    Some(Long(ev.timestamp_ms)),
                    Some(Long(ev.timestamp_ms)),
                ]),
            }),
        };
        let hit = a.list(&with_presence, 100, None, Some(&at), None).unwrap();
        assert!(hit.items.iter().all(|e| e.timestamp_ms == ev.timestamp_ms));
        assert!(!hit.items.is_empty());
    }

    #[test]
    fn lock_events_say_what_changed_and_skip_no_change() {
        let mut log = EventLog::new(0, 0);
        let on = ImeiLock {
            imei: Some("356938035643809".into()),
            enabled: true,
        };
        log.lock_changed("1", None, Some(&on), Actor::Portal, 5);
        log.lock_changed("1", Some(&on), Some(&on), Actor::Api, 6);
        let page = log
            .list("1", 100, None, Some(&only("imeiLockSwitch")), None)
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(
            page.items[0].details,
            "IMEI lock enabled for IMEI 356938035643809 by portal user"
        );
    }
}
