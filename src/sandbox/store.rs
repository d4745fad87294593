//! The sandbox's fleet and its storage rules: listing with filters, orders and cursors, and
//! `updateSim`, independent of how the tool itself interprets values.
//!
//! SIMs live in a `BTreeMap` keyed by ICCID, so the ICCID order (the one clients page through)
//! is a range scan from the cursor's last key: a page costs about the same with a million SIMs as
//! with a thousand. `beginsWith`, `eq` and `in` on the ICCID narrow the range or become lookups.
//! Other orders sort the matching SIMs per request (documented in docs/sandbox.md).
//! `totalSims` is cached per query until the fleet changes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::time::{Duration, Instant};

use crate::fleet::{EndCustomerLabel, ImeiLock, Sim, Transition};

use super::batch::Job;
use super::events::{Actor, EventLog};
use super::token::{self, Cursor};
use super::types::{
    EndCustomerLabelInput, ImeiLockInput, SimFilterInput, SimListIntFilterInput, SimListOrder,
    StringFilterInput,
};

/// One page of `listSims`, before it is turned into GraphQL objects.
pub struct SimPage {
    pub items: Vec<Sim>,
    pub next_token: Option<String>,
    pub total: u64,
}

/// A status that is still passing through 13 or 14 and settles at `target` when due.
struct PendingSettle {
    due: Instant,
    iccid: String,
    via: i32,
    target: i32,
}

/// An explicit value, an explicit `null`, or an argument that was not sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<T> {
    Absent,
    Null,
    Value(T),
}

/// `updateSim`'s arguments, already told apart as absent / null / value.
#[derive(Debug, Clone)]
pub struct SimUpdate {
    pub iccid: String,
    pub statusid: Arg<i32>,
    pub monthly_data_limit: Arg<i64>,
    pub custom_field_1: Arg<String>,
    pub monthly_sms_mo_limit: Arg<i64>,
    pub monthly_sms_mt_limit: Arg<i64>,
    pub monthly_voice_mo_limit: Arg<i64>,
    pub end_customer_label: Arg<EndCustomerLabelInput>,
    pub imei_lock: Arg<ImeiLockInput>,
}

/// The whole mutable state of one sandbox.
pub struct Store {
    pub sims: BTreeMap<String, Sim>,
    pub transitions: Vec<Transition>,
    allowed: HashSet<(i32, i32, i32)>,
    /// Bumped on every change; caches keyed by an older generation are stale.
    generation: u64,
    count_cache: HashMap<String, u64>,
    count_cache_generation: u64,
    pending: Vec<PendingSettle>,
    pub transition_delay: Duration,
    pub jobs: BTreeMap<i64, Job>,
    pub next_job_id: i64,
    /// What happened to each SIM, for `listSimEvents`.
    pub events: EventLog,
}

/// The default status transition table (docs/sandbox.md), the same for all five products.
pub const DEFAULT_TRANSITIONS: &[(i32, i32)] = &[
    (3, 2),
    (3, 6),
    (3, 8),
    (6, 2),
    (8, 2),
    (2, 5),
    (5, 2),
    (2, 12),
    (12, 2),
    (5, 7),
    (12, 7),
    (6, 5),
    (8, 5),
    (15, 2),
    (16, 2),
    (18, 2),
    (19, 2),
    (20, 2),
];

/// The default table expanded for every provider of the reference.
pub fn default_transitions() -> Vec<Transition> {
    let mut out = Vec::new();
    for (provider, _) in crate::fleet::tables::PROVIDERS {
        for (from, to) in DEFAULT_TRANSITIONS {
            out.push(Transition {
                fromstatusid: *from,
                tostatusid: *to,
                providerid: *provider,
            });
        }
    }
    out
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The status a SIM is settling into: 13 and 14 are on their way to 2 and 5, so asking for
/// that status again is not a transition (a retried request must not fail).
pub fn heading_to(status: i32) -> i32 {
    match status {
        13 => 2,
        14 => 5,
        s => s,
    }
}

fn is_known_status(id: i32) -> bool {
    crate::fleet::tables::status_name(id).is_some()
}

fn string_matches(filter: &StringFilterInput, value: Option<&str>, fold_case: bool) -> bool {
    let norm = |s: &str| {
        if fold_case {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let value = value.map(norm);
    if let Some(eq) = &filter.eq {
        if value.as_deref() != Some(norm(eq).as_str()) {
            return false;
        }
    }
    if let Some(prefix) = &filter.begins_with {
        match &value {
            Some(v) if v.starts_with(&norm(prefix)) => {}
            _ => return false,
        }
    }
    if let Some(list) = &filter.in_ {
        let Some(v) = &value else { return false };
        if !list.iter().flatten().any(|item| norm(item) == *v) {
            return false;
        }
    }
    true
}

fn int_matches(filter: &SimListIntFilterInput, value: i32) -> bool {
    if let Some(eq) = filter.eq {
        if value != eq {
            return false;
        }
    }
    if let Some(prefix) = filter.begins_with {
        if !value.to_string().starts_with(&prefix.to_string()) {
            return false;
        }
    }
    if let Some(list) = &filter.in_ {
        if !list.iter().flatten().any(|item| *item == value) {
            return false;
        }
    }
    true
}

/// Whether a SIM matches a `SimFilterInput` (every present key must hold). End customer labels
/// compare case-insensitively, as the reference says its label filters do; the rest exactly.
pub fn filter_matches(filter: &SimFilterInput, sim: &Sim) -> bool {
    let s = |f: &Option<StringFilterInput>, v: Option<&str>, fold: bool| {
        f.as_ref().is_none_or(|f| string_matches(f, v, fold))
    };
    s(&filter.iccid, Some(&sim.iccid), false)
        && filter
            .statusid
            .as_ref()
            .is_none_or(|f| int_matches(f, sim.statusid))
        && filter
            .providerid
            .as_ref()
            .is_none_or(|f| int_matches(f, sim.providerid))
        && s(&filter.imei, sim.imei.as_deref(), false)
        && s(&filter.imsi, sim.imsi.as_deref(), false)
        && s(&filter.msisdn, sim.msisdn.as_deref(), false)
        && s(&filter.custom_field_1, sim.custom_field_1.as_deref(), false)
        && s(&filter.end_customer_label, sim.label(), true)
}

/// `quickSearch`: a case-insensitive substring of ICCID, device name (custom_field_1), MSISDN
/// or IMEI.
fn quick_matches(needle: &str, sim: &Sim) -> bool {
    let hay = [
        Some(sim.iccid.as_str()),
        sim.custom_field_1.as_deref(),
        sim.msisdn.as_deref(),
        sim.imei.as_deref(),
    ];
    hay.iter()
        .flatten()
        .any(|h| h.to_lowercase().contains(needle))
}

/// A sort key other than the ICCID: integers and strings, `null` sorting first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Int(Option<i64>),
    Str(Option<String>),
}

impl SortValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            SortValue::Int(v) => serde_json::json!(v),
            SortValue::Str(v) => serde_json::json!(v),
        }
    }

    fn from_json(field: &str, v: &serde_json::Value) -> Option<SortValue> {
        let is_int = matches!(sort_value(field, &Sim::default()), SortValue::Int(_));
        match (is_int, v) {
            (_, serde_json::Value::Null) if is_int => Some(SortValue::Int(None)),
            (_, serde_json::Value::Null) => Some(SortValue::Str(None)),
            (true, serde_json::Value::Number(n)) => n.as_i64().map(|n| SortValue::Int(Some(n))),
            (false, serde_json::Value::String(s)) => Some(SortValue::Str(Some(s.clone()))),
            _ => None,
        }
    }
}

fn sort_value(field: &str, sim: &Sim) -> SortValue {
    let i = |v: Option<i64>| SortValue::Int(v);
    let s = |v: Option<&String>| SortValue::Str(v.cloned());
    match field {
        "statusid" => i(Some(sim.statusid.into())),
        "providerid" => i(Some(sim.providerid.into())),
        "imei" => s(sim.imei.as_ref()),
        "imsi" => s(sim.imsi.as_ref()),
        "msisdn" => s(sim.msisdn.as_ref()),
        "activation_timestamp" => i(sim.activation_timestamp),
        "in_session_since" => i(sim.in_session_since),
        "monthly_data_volume" => i(sim.monthly_data_volume),
        "monthly_sms_mo" => i(sim.monthly_sms_mo.map(i64::from)),
        "monthly_sms_mt" => i(sim.monthly_sms_mt.map(i64::from)),
        "monthly_voice_mo" => i(sim.monthly_voice_mo),
        "monthly_voice_mo_limit" => i(sim.monthly_voice_mo_limit),
        "custom_field_1" => s(sim.custom_field_1.as_ref()),
        "monthly_data_limit" => i(sim.monthly_data_limit),
        "previous_month_data_volume" => i(sim.previous_month_data_volume),
        "end_customer_label" => SortValue::Str(sim.label().map(str::to_string)),
        _ => SortValue::Str(Some(sim.iccid.clone())),
    }
}

/// Checks the order argument: at most one key, direction `asc` or `desc`. Default: ICCID asc.
fn parse_order(order: Option<&SimListOrder>) -> Result<(&'static str, bool), String> {
    let keys = order.map(SimListOrder::keys).unwrap_or_default();
    match keys.as_slice() {
        [] => Ok(("iccid", false)),
        [(field, dir)] => match dir.to_ascii_lowercase().as_str() {
            "asc" => Ok((field, false)),
            "desc" => Ok((field, true)),
            _ => Err(format!(
                "order.{field} must be \"asc\" or \"desc\", got {dir:?}"
            )),
        },
        more => Err(format!(
            "order may name only one field; got {}",
            more.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
        )),
    }
}

impl Store {
    pub fn new(sims: Vec<Sim>, transitions: Option<Vec<Transition>>, delay: Duration) -> Store {
        let transitions = transitions.unwrap_or_else(default_transitions);
        let allowed = transitions
            .iter()
            .map(|t| (t.fromstatusid, t.tostatusid, t.providerid))
            .collect();
        Store {
            sims: sims.into_iter().map(|s| (s.iccid.clone(), s)).collect(),
            transitions,
            allowed,
            generation: 0,
            count_cache: HashMap::new(),
            count_cache_generation: 0,
            pending: Vec::new(),
            transition_delay: delay,
            jobs: BTreeMap::new(),
            next_job_id: 1,
            events: EventLog::new(0, now_ms()),
        }
    }

    pub fn touch(&mut self) {
        self.generation += 1;
    }

    pub fn transition_allowed(&self, from: i32, to: i32, provider: i32) -> bool {
        self.allowed.contains(&(from, to, provider))
    }

    /// `listSims`. Errors are messages for the GraphQL `errors` entry.
    pub fn list_sims(
        &mut self,
        filter: Option<&SimFilterInput>,
        order: Option<&SimListOrder>,
        limit: i32,
        quick_search: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<SimPage, String> {
        if !(1..=100).contains(&limit) {
            return Err(format!("limit must be between 1 and 100, got {limit}"));
        }
        let limit = limit as usize;
        let (field, desc) = parse_order(order)?;
        let empty = SimFilterInput::default();
        let filter = filter.unwrap_or(&empty);
        let needle = quick_search
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        let query_text = format!("{filter:?}|{needle:?}|{field}|{desc}");
        let digest = token::query_digest(&query_text);
        let cursor = token::decode(next_token, &digest)?;
        let matches = |sim: &Sim| {
            filter_matches(filter, sim) && needle.as_deref().is_none_or(|n| quick_matches(n, sim))
        };
        let total = self.count(&query_text, filter, needle.as_deref());

        let (items, more) = if field == "iccid" {
            self.page_by_iccid(filter, cursor.as_ref(), desc, limit, &matches)
        } else {
            self.page_sorted(field, desc, cursor.as_ref(), limit, &matches)?
        };
        let next_token = if more {
            items.last().map(|last| {
                token::encode(&Cursor {
                    q: digest.clone(),
                    k: last.iccid.clone(),
                    v: (field != "iccid").then(|| sort_value(field, last).to_json()),
                })
            })
        } else {
            None
        };
        Ok(SimPage {
            items,
            next_token,
            total,
        })
    }

    /// ICCIDs named exactly by the filter (`eq` / `in`), if it names any.
    fn exact_iccids(filter: &SimFilterInput) -> Option<BTreeSet<String>> {
        let f = filter.iccid.as_ref()?;
        let mut set: Option<BTreeSet<String>> = None;
        if let Some(eq) = &f.eq {
            set = Some([eq.clone()].into());
        }
        if let Some(list) = &f.in_ {
            let listed: BTreeSet<String> = list.iter().flatten().cloned().collect();
            set = Some(match set {
                Some(s) => s.intersection(&listed).cloned().collect(),
                None => listed,
            });
        }
        set
    }

    fn page_by_iccid(
        &self,
        filter: &SimFilterInput,
        cursor: Option<&Cursor>,
        desc: bool,
        limit: usize,
        matches: &dyn Fn(&Sim) -> bool,
    ) -> (Vec<Sim>, bool) {
        let mut out = Vec::with_capacity(limit + 1);
        let after = cursor.map(|c| c.k.as_str());
        if let Some(set) = Self::exact_iccids(filter) {
            let iter: Box<dyn Iterator<Item = &String>> = if desc {
                Box::new(set.iter().rev())
            } else {
                Box::new(set.iter())
            };
            for iccid in iter {
                if let Some(a) = after {
                    if (!desc && iccid.as_str() <= a) || (desc && iccid.as_str() >= a) {
                        continue;
                    }
                }
                if let Some(sim) = self.sims.get(iccid) {
                    if matches(sim) {
                        out.push(sim.clone());
                        if out.len() > limit {
                            break;
                        }
                    }
                }
            }
        } else {
            let prefix = filter
                .iccid
                .as_ref()
                .and_then(|f| f.begins_with.as_deref())
                .unwrap_or("");
            if desc && after.is_some_and(|a| a < prefix) {
                // A cursor below the range (only a forged token can say so): nothing is left.
                return (out, false);
            }
            // Descending, the walk starts at the end of the prefix's range, not at the end of
            // the fleet: the highest ICCID of a prefix is one step away, not every SIM above it.
            let prefix_end = prefix_upper_bound(prefix);
            let range: (Bound<&str>, Bound<&str>) = if desc {
                let upper = match (after, prefix_end.as_deref()) {
                    (Some(a), Some(end)) if a >= end => Bound::Excluded(end),
                    (Some(a), _) => Bound::Excluded(a),
                    (None, Some(end)) => Bound::Excluded(end),
                    (None, None) => Bound::Unbounded,
                };
                (Bound::Included(prefix), upper)
            } else {
                let lower = match after {
                    Some(a) if a >= prefix => Bound::Excluded(a),
                    _ => Bound::Included(prefix),
                };
                (lower, Bound::Unbounded)
            };
            let iter: Box<dyn Iterator<Item = (&String, &Sim)>> = if desc {
                Box::new(self.sims.range::<str, _>(range).rev())
            } else {
                Box::new(self.sims.range::<str, _>(range))
            };
            for (iccid, sim) in iter {
                if !iccid.starts_with(prefix) {
                    if desc {
                        continue;
                    }
                    break;
                }
                if matches(sim) {
                    out.push(sim.clone());
                    if out.len() > limit {
                        break;
                    }
                }
            }
        }
        let more = out.len() > limit;
        out.truncate(limit);
        (out, more)
    }

    fn page_sorted(
        &self,
        field: &str,
        desc: bool,
        cursor: Option<&Cursor>,
        limit: usize,
        matches: &dyn Fn(&Sim) -> bool,
    ) -> Result<(Vec<Sim>, bool), String> {
        let mut keyed: Vec<(SortValue, &Sim)> = self
            .sims
            .values()
            .filter(|s| matches(s))
            .map(|s| (sort_value(field, s), s))
            .collect();
        let cmp = |a: &(SortValue, &str), b: &(SortValue, &str)| -> Ordering {
            let o = a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1));
            if desc {
                o.reverse()
            } else {
                o
            }
        };
        keyed.sort_by(|a, b| cmp(&(a.0.clone(), &a.1.iccid), &(b.0.clone(), &b.1.iccid)));
        let start = match cursor {
            None => 0,
            Some(c) => {
                let v =
                    c.v.as_ref()
                        .and_then(|v| SortValue::from_json(field, v))
                        .ok_or_else(|| {
                            "malformed nextToken: not a token this server issued".to_string()
                        })?;
                let last = (v, c.k.as_str());
                keyed.partition_point(|(sv, s)| {
                    cmp(&(sv.clone(), s.iccid.as_str()), &last) != Ordering::Greater
                })
            }
        };
        let rest = &keyed[start.min(keyed.len())..];
        let more = rest.len() > limit;
        Ok((
            rest.iter().take(limit).map(|(_, s)| (*s).clone()).collect(),
            more,
        ))
    }

    fn count(&mut self, key: &str, filter: &SimFilterInput, needle: Option<&str>) -> u64 {
        let unfiltered = format!("{filter:?}") == format!("{:?}", SimFilterInput::default());
        if needle.is_none() && unfiltered {
            return self.sims.len() as u64;
        }
        if self.count_cache_generation != self.generation {
            self.count_cache.clear();
            self.count_cache_generation = self.generation;
        }
        if let Some(n) = self.count_cache.get(key) {
            return *n;
        }
        let matches =
            |sim: &Sim| filter_matches(filter, sim) && needle.is_none_or(|n| quick_matches(n, sim));
        let n = if let Some(set) = Self::exact_iccids(filter) {
            set.iter()
                .filter_map(|i| self.sims.get(i))
                .filter(|s| matches(s))
                .count()
        } else {
            let prefix = filter
                .iccid
                .as_ref()
                .and_then(|f| f.begins_with.as_deref())
                .unwrap_or("");
            self.sims
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(prefix))
                .filter(|(_, s)| matches(s))
                .count()
        } as u64;
        self.count_cache.insert(key.to_string(), n);
        n
    }

    /// Every SIM matching a filter (for batch jobs), in ICCID order.
    pub fn select(&self, filter: Option<&SimFilterInput>) -> Vec<String> {
        match filter {
            None => self.sims.keys().cloned().collect(),
            Some(f) => self
                .sims
                .values()
                .filter(|s| filter_matches(f, s))
                .map(|s| s.iccid.clone())
                .collect(),
        }
    }

    /// Applies a status change to a SIM already known to allow it, passing through 13 or 14
    /// when a transition delay is configured; `by` made it at `at_ms` (its `lifecycle` event).
    pub fn set_status(&mut self, iccid: &str, to: i32, by: Actor, at_ms: i64) {
        let delay = self.transition_delay;
        let Some(sim) = self.sims.get_mut(iccid) else {
            return;
        };
        let from = sim.statusid;
        let via = match to {
            2 if !delay.is_zero() => Some(13),
            5 if !delay.is_zero() => Some(14),
            _ => None,
        };
        match via {
            Some(via) => {
                sim.statusid = via;
                self.pending.push(PendingSettle {
                    due: Instant::now() + delay,
                    iccid: iccid.to_string(),
                    via,
                    target: to,
                });
            }
            None => {
                sim.statusid = to;
                if to == 2 && sim.activation_timestamp.is_none() {
                    sim.activation_timestamp = Some(now_ms() / 1000);
                }
            }
        }
        let now = sim.statusid;
        self.events.status_changed(iccid, from, now, by, at_ms);
        self.touch();
    }

    /// Settles statuses whose transition delay has passed.
    pub fn settle_due(&mut self, now: Instant) {
        if self.pending.is_empty() {
            return;
        }
        let (due, waiting): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.due <= now);
        self.pending = waiting;
        for p in due {
            if let Some(sim) = self.sims.get_mut(&p.iccid) {
                if sim.statusid == p.via {
                    sim.statusid = p.target;
                    if p.target == 2 && sim.activation_timestamp.is_none() {
                        sim.activation_timestamp = Some(now_ms() / 1000);
                    }
                    self.events
                        .status_changed(&p.iccid, p.via, p.target, Actor::Network, now_ms());
                }
            }
            self.touch();
        }
    }

    /// `updateSim`: checks every argument first, so a refused call changes nothing.
    pub fn update_sim(&mut self, u: SimUpdate) -> Result<Sim, String> {
        self.update_sim_by(u, Actor::Api, now_ms())
    }

    /// `updateSim` made by `by` at `at_ms` (the time its events carry): the API, or someone in
    /// the vendor's portal (`POST /outside/updateSim`).
    pub fn update_sim_by(&mut self, u: SimUpdate, by: Actor, at_ms: i64) -> Result<Sim, String> {
        let sim = self
            .sims
            .get(&u.iccid)
            .ok_or_else(|| format!("updateSim: no SIM with ICCID {:?} in this fleet", u.iccid))?;
        let mut next = sim.clone();
        let mut problems = Vec::new();
        let mut status_to = None;

        match &u.statusid {
            Arg::Absent => {}
            Arg::Null => problems.push("statusid may not be null".to_string()),
            Arg::Value(to) if !is_known_status(*to) => problems.push(format!(
                "statusid {to} is not a SIM status of the reference"
            )),
            Arg::Value(to) if *to == heading_to(sim.statusid) => {}
            Arg::Value(to) => {
                if self.transition_allowed(sim.statusid, *to, sim.providerid) {
                    status_to = Some(*to);
                } else {
                    problems.push(format!(
                        "status transition from {} to {} is not allowed for provider {} ({})",
                        crate::fleet::tables::status_label(sim.statusid),
                        crate::fleet::tables::status_label(*to),
                        sim.providerid,
                        crate::fleet::tables::provider_name(sim.providerid).unwrap_or("unknown"),
                    ))
                }
            }
        }
        match &u.monthly_data_limit {
            Arg::Absent => {}
            Arg::Null => problems.push(
                "monthly_data_limit: null is not defined by the reference for updateSim; \
                 use a batch job with monthly_data_limit 0 for unlimited data"
                    .to_string(),
            ),
            Arg::Value(0) => problems.push(
                "monthly_data_limit 0 is refused: the reference defines 0 = unlimited only for \
                 batch jobs; use a batch job with monthly_data_limit 0 for unlimited data"
                    .to_string(),
            ),
            Arg::Value(v) if *v < 0 => {
                problems.push(format!("monthly_data_limit must be positive, got {v}"))
            }
            Arg::Value(v) => next.monthly_data_limit = Some(*v),
        }
        for (name, arg, slot) in [
            (
                "monthly_sms_mo_limit",
                &u.monthly_sms_mo_limit,
                &mut next.monthly_sms_mo_limit,
            ),
            (
                "monthly_sms_mt_limit",
                &u.monthly_sms_mt_limit,
                &mut next.monthly_sms_mt_limit,
            ),
        ] {
            match arg {
                Arg::Absent => {}
                Arg::Null => *slot = None,
                Arg::Value(v) => match i32::try_from(*v) {
                    Ok(v) if v >= 0 => *slot = Some(v),
                    _ => problems.push(format!(
                        "{name} must be between 0 and 2147483647 (the SIM type reads it as Int), got {v}"
                    )),
                },
            }
        }
        match &u.monthly_voice_mo_limit {
            Arg::Absent => {}
            Arg::Null => next.monthly_voice_mo_limit = None,
            Arg::Value(v) if *v < 0 => problems.push(format!(
                "monthly_voice_mo_limit must not be negative, got {v}"
            )),
            Arg::Value(v) => next.monthly_voice_mo_limit = Some(*v),
        }
        match &u.custom_field_1 {
            Arg::Absent => {}
            Arg::Null => next.custom_field_1 = None,
            Arg::Value(v) if v.is_empty() => next.custom_field_1 = None,
            Arg::Value(v) => next.custom_field_1 = Some(v.clone()),
        }
        match &u.end_customer_label {
            Arg::Absent | Arg::Null => {}
            Arg::Value(l) if l.name.is_empty() => next.end_customer_label = None,
            Arg::Value(l) => {
                next.end_customer_label = Some(EndCustomerLabel {
                    name: l.name.clone(),
                })
            }
        }
        let mut restores_service = false;
        match &u.imei_lock {
            Arg::Absent | Arg::Null => {}
            Arg::Value(_) if super::batch::fails_imei_lock_writes(sim) => problems.push(format!(
                "General error while writing IMEI lock (sandbox failure knob: custom_field_1 starts with {:?})",
                super::batch::FAIL_IMEI_LOCK_PREFIX
            )),
            Arg::Value(l) if !l.lock => {
                next.imei_lock = Some(ImeiLock {
                    imei: None,
                    enabled: false,
                });
                restores_service = sim.statusid == 20;
            }
            Arg::Value(l) => match l.imei.as_deref() {
                None | Some("") => {
                    next.imei_lock = Some(ImeiLock {
                        imei: None,
                        enabled: true,
                    })
                }
                Some(imei) if imei.len() == 15 && imei.bytes().all(|b| b.is_ascii_digit()) => {
                    next.imei_lock = Some(ImeiLock {
                        imei: Some(imei.to_string()),
                        enabled: true,
                    })
                }
                Some(imei) => {
                    problems.push(format!("imei_lock.imei must be 15 digits, got {imei:?}"))
                }
            },
        }
        if !problems.is_empty() {
            return Err(format!(
                "updateSim {}: {}; nothing was changed",
                u.iccid,
                problems.join("; ")
            ));
        }
        let iccid = u.iccid.clone();
        self.events.lock_changed(
            &iccid,
            sim.imei_lock.as_ref(),
            next.imei_lock.as_ref(),
            by,
            at_ms,
        );
        let before = sim.statusid;
        self.sims.insert(iccid.clone(), next);
        if restores_service && status_to.is_none() {
            if let Some(sim) = self.sims.get_mut(&iccid) {
                sim.statusid = 2;
            }
            self.events.status_changed(&iccid, before, 2, by, at_ms);
        }
        if let Some(to) = status_to {
            self.set_status(&iccid, to, by, at_ms);
        }
        self.touch();
        self.sims
            .get(&iccid)
            .cloned()
            .ok_or_else(|| format!("updateSim: SIM {iccid} vanished"))
    }

    /// The SIM was used in a device with `imei` (`POST /outside/imeiUnauthorized`): where it is
    /// locked to another IMEI, that is an `imeiUnauthorized` event, and an activated SIM is
    /// deactivated to status 20 (IMEI unauthorized) by the network. Anything else is refused.
    pub fn unauthorized_use(&mut self, iccid: &str, imei: &str, at_ms: i64) -> Result<Sim, String> {
        let sim = self
            .sims
            .get_mut(iccid)
            .ok_or_else(|| format!("no SIM with ICCID {iccid:?} in this fleet"))?;
        let locked = match &sim.imei_lock {
            Some(ImeiLock {
                enabled: true,
                imei: Some(locked),
            }) if locked != imei => locked.clone(),
            _ => {
                return Err(format!(
                    "SIM {iccid} is not locked to an IMEI other than {imei}: its use is not unauthorized"
                ))
            }
        };
        let before = sim.statusid;
        if before == 2 {
            sim.statusid = 20;
        }
        let after = sim.statusid;
        self.events.unauthorized(iccid, imei, &locked, at_ms);
        self.events
            .status_changed(iccid, before, after, Actor::Network, at_ms);
        self.touch();
        self.sims
            .get(iccid)
            .cloned()
            .ok_or_else(|| format!("SIM {iccid} vanished"))
    }

    /// The unique end customer labels, sorted, filtered case-insensitively.
    pub fn labels(&self, begins_with: Option<&str>, contains: Option<&str>) -> Vec<String> {
        let bw = begins_with.map(str::to_lowercase);
        let ct = contains.map(str::to_lowercase);
        let set: BTreeSet<&str> = self
            .sims
            .values()
            .filter_map(|s| s.label())
            .filter(|l| {
                let low = l.to_lowercase();
                bw.as_deref().is_none_or(|b| low.starts_with(b))
                    && ct.as_deref().is_none_or(|c| low.contains(c))
            })
            .collect();
        set.into_iter().map(str::to_string).collect()
    }
}

/// The smallest string above every string that starts with `prefix` (`None`: no such bound,
/// the prefix is empty or all its characters are the highest).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(iccid: &str, status: i32, label: Option<&str>) -> Sim {
        Sim {
            iccid: iccid.to_string(),
            statusid: status,
            providerid: 5,
            end_customer_label: label.map(|l| EndCustomerLabel {
                name: l.to_string(),
            }),
            ..Sim::default()
        }
    }

    fn sf(eq: Option<&str>, bw: Option<&str>, in_: Option<&[&str]>) -> StringFilterInput {
        StringFilterInput {
            eq: eq.map(str::to_string),
            begins_with: bw.map(str::to_string),
            in_: in_.map(|l| l.iter().map(|s| Some(s.to_string())).collect()),
        }
    }

    #[test]
    fn filters_need_every_key_and_fold_only_labels() {
        let s = sim("8949001", 2, Some("ACME"));
        let mut f = SimFilterInput {
            iccid: Some(sf(None, Some("8949"), None)),
            end_customer_label: Some(sf(Some("acme"), None, None)),
            ..SimFilterInput::default()
        };
        assert!(filter_matches(&f, &s));
        f.statusid = Some(SimListIntFilterInput {
            in_: Some(vec![Some(5), Some(12)]),
            ..SimListIntFilterInput::default()
        });
        assert!(!filter_matches(&f, &s));
        let exact = SimFilterInput {
            iccid: Some(sf(Some("8949001"), Some("89"), Some(&["8949001", "x"]))),
            ..SimFilterInput::default()
        };
        assert!(filter_matches(&exact, &s));
        let cased = SimFilterInput {
            iccid: Some(sf(None, Some("8949"), None)),
            custom_field_1: Some(sf(Some("x"), None, None)),
            ..SimFilterInput::default()
        };
        assert!(!filter_matches(&cased, &s), "a missing value never matches");
        let prefix = SimListIntFilterInput {
            begins_with: Some(1),
            ..SimListIntFilterInput::default()
        };
        assert!(int_matches(&prefix, 12) && !int_matches(&prefix, 2));
    }

    #[test]
    fn descending_pages_of_a_prefix_hold_its_sims_only_from_its_highest_down() {
        let iccids = [
            "8940", "8941", "8941", "89410", "89419", "8942", "8950", "9",
        ];
        let sims: Vec<Sim> = iccids.iter().map(|i| sim(i, 2, None)).collect();
        let mut store = Store::new(sims, None, Duration::from_secs(60));
        let filter = SimFilterInput {
            iccid: Some(sf(None, Some("8941"), None)),
            ..SimFilterInput::default()
        };
        let desc = SimListOrder {
            iccid: Some("DESC".into()),
            ..SimListOrder::default()
        };
        let first = store
            .list_sims(Some(&filter), Some(&desc), 2, None, None)
            .expect("page");
        let got: Vec<&str> = first.items.iter().map(|s| s.iccid.as_str()).collect();
        assert_eq!(got, ["89419", "89410"]);
        let next = store
            .list_sims(
                Some(&filter),
                Some(&desc),
                2,
                None,
                first.next_token.as_deref(),
            )
            .expect("page");
        let got: Vec<&str> = next.items.iter().map(|s| s.iccid.as_str()).collect();
        assert_eq!(got, ["8941"]);
        assert!(next.next_token.is_none());
        assert_eq!(prefix_upper_bound("8941").as_deref(), Some("8942"));
        assert_eq!(prefix_upper_bound("89\u{10FFFF}").as_deref(), Some("8:"));
        assert_eq!(prefix_upper_bound(""), None);
    }

    #[test]
    fn orders_take_one_field_asc_or_desc() {
        assert_eq!(parse_order(None), Ok(("iccid", false)));
        let o = SimListOrder {
            monthly_data_volume: Some("DESC".into()),
            ..SimListOrder::default()
        };
        assert_eq!(parse_order(Some(&o)), Ok(("monthly_data_volume", true)));
        let two = SimListOrder {
            iccid: Some("asc".into()),
            imei: Some("asc".into()),
            ..SimListOrder::default()
        };
        assert!(parse_order(Some(&two)).is_err());
        let bad = SimListOrder {
            iccid: Some("up".into()),
            ..SimListOrder::default()
        };
        assert!(parse_order(Some(&bad)).is_err());
    }

    #[test]
    fn retrying_a_status_that_is_settling_is_not_a_transition() {
        let mut store = Store::new(vec![sim("1", 5, None)], None, Duration::from_secs(60));
        let update = |to| SimUpdate {
            iccid: "1".into(),
            statusid: Arg::Value(to),
            monthly_data_limit: Arg::Absent,
            custom_field_1: Arg::Absent,
            monthly_sms_mo_limit: Arg::Absent,
            monthly_sms_mt_limit: Arg::Absent,
            monthly_voice_mo_limit: Arg::Absent,
            end_customer_label: Arg::Absent,
            imei_lock: Arg::Absent,
        };
        assert_eq!(store.update_sim(update(2)).map(|s| s.statusid), Ok(13));
        assert_eq!(store.update_sim(update(2)).map(|s| s.statusid), Ok(13));
        store.settle_due(Instant::now() + Duration::from_secs(61));
        assert_eq!(store.sims["1"].statusid, 2);
        assert!(store.update_sim(update(3)).is_err());
    }
}
