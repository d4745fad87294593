//! How plan values read to a person: sizes in the spec's units, status names, `unlimited`,
//! `none`, IMEI locks as `none` / `off` / `auto` / `IMEI …`, and masking of identifiers for
//! public comments.
//!
//! Shared by the text and markdown renderers so both say the same thing about the same value.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use crate::plan::change_set::ChangeSet;
use crate::plan::status_label;
use crate::plan::{Field, Origin};
use crate::plan::{FieldChange, FieldValue, Plan, RiskFlag, RiskFlags, SimChange};

/// Keeps the last 4 characters of an identifier and stars the rest.
pub fn mask(id: &str) -> String {
    let n = id.chars().count();
    if n <= 4 {
        return id.to_string();
    }
    let tail: String = id.chars().skip(n - 4).collect();
    format!("{}{tail}", "*".repeat(n - 4))
}

/// Digit runs at least this long are identifiers (ICCIDs 19–20, IMEIs 15, MSISDNs with a
/// country code 11–15); shorter runs are counts, limits, line numbers and batch job ids (32-bit,
/// at most 10 digits) and stay readable.
const IDENTIFIER_DIGITS: usize = 11;

/// Hex words at least this long that hold a letter are digests (a plan's checksum, a spec
/// digest, a SIM's fingerprint), never identifiers: ICCIDs, IMEIs and MSISDNs are digits only.
const DIGEST_HEX_DIGITS: usize = 32;

/// Masks every identifier-length digit run in free text (labels, custom fields, rule names,
/// reasons, messages) but its last 4 digits, so an MSISDN or ICCID written anywhere in a spec
/// or a message does not end up in a public comment. Digests are left whole: a reviewer compares
/// the checksum in a masked comment with the one `apply --expect-checksum` is given.
pub fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_len = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if word_len == 0 {
            let c = rest.chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..c]);
            rest = &rest[c..];
            continue;
        }
        let (word, after) = rest.split_at(word_len);
        let digest =
            word.len() >= DIGEST_HEX_DIGITS && word.bytes().any(|b| b.is_ascii_alphabetic());
        if digest {
            out.push_str(word);
        } else {
            mask_digit_runs(word, &mut out);
        }
        rest = after;
    }
    out
}

/// Appends `word` with each identifier-length run of digits masked.
fn mask_digit_runs(word: &str, out: &mut String) {
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= IDENTIFIER_DIGITS {
            out.push_str(&mask(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in word.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, out);
            out.push(c);
        }
    }
    flush(&mut run, out);
}

/// Free text as shown: identifiers in it masked when asked.
pub fn text(text: &str, masked: bool) -> String {
    if masked {
        mask_text(text)
    } else {
        text.to_string()
    }
}

/// An ICCID as shown: masked when asked.
pub fn iccid(id: &str, masked: bool) -> String {
    if masked {
        mask(id)
    } else {
        id.to_string()
    }
}

/// Bytes as the spec writes them: the shortest exact size (`500MB`, `1.5GB`, `1GiB`), else whole
/// bytes with their unit (`1536B`), so a value can be copied into a spec as it reads.
pub fn bytes(n: i64) -> String {
    let size = crate::spec::values::format_size(n);
    if size.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        format!("{size}B")
    } else {
        size
    }
}

fn limit(field: Field, n: i64) -> String {
    match field {
        Field::MonthlyDataLimit => bytes(n),
        Field::MonthlyVoiceMoLimit => format!("{n} s"),
        _ => n.to_string(),
    }
}

/// A plan value (from or to) of `field`, for people.
pub fn value(field: Field, v: &FieldValue, masked: bool) -> String {
    match field {
        Field::Status => match v.as_i64() {
            Some(id) => i32::try_from(id)
                .map(status_label)
                .unwrap_or_else(|_| id.to_string()),
            None => v.to_string(),
        },
        Field::MonthlyDataLimit
        | Field::MonthlySmsMoLimit
        | Field::MonthlySmsMtLimit
        | Field::MonthlyVoiceMoLimit => match v {
            FieldValue::Null => "unlimited".into(),
            FieldValue::Int(0) => "unlimited (0)".into(),
            FieldValue::Int(n) => limit(field, *n),
            _ => v.to_string(),
        },
        Field::CustomField1 | Field::EndCustomerLabel => match v {
            FieldValue::Null => "none".into(),
            FieldValue::Text(s) if s.is_empty() => "none (\"\")".into(),
            FieldValue::Text(s) => format!("{:?}", text(s, masked)),
            _ => v.to_string(),
        },
        // A live lock that was never set (`null`) and a disabled one mean the same to `apply`,
        // but they are different values in the plan: they read differently, so their change
        // groups never look alike.
        Field::ImeiLock => match v {
            FieldValue::Null => "none".into(),
            FieldValue::ImeiLock { enabled, imei } => match (enabled, imei) {
                (false, None) => "off".into(),
                (false, Some(imei)) => format!(
                    "off (IMEI {})",
                    if masked { mask(imei) } else { imei.to_string() }
                ),
                (true, None) => "auto".into(),
                (true, Some(imei)) => format!(
                    "IMEI {}",
                    if masked { mask(imei) } else { imei.to_string() }
                ),
            },
            _ => v.to_string(),
        },
    }
}

/// A change's `to` for people; a multi-step status change spells out its path after the
/// `from` it follows: `Activated (2) → Deactivated (5), 2 steps`.
pub fn target(change: &FieldChange, masked: bool) -> String {
    let to = value(change.field, &change.to, masked);
    if change.via.is_empty() {
        return to;
    }
    let mut out = String::new();
    for status in change.via.iter() {
        out.push_str(&status_label(status));
        out.push_str(" → ");
    }
    out.push_str(&to);
    out.push_str(&format!(", {} steps", change.via.len() + 1));
    out
}

/// `fleet/eu.yaml:12:5 (rule eu-trackers)`; when asked, a `sims:` entry's ICCID and any
/// identifier in a rule name are masked.
pub fn source(origin: &Origin, masked: bool) -> String {
    text(&origin.to_string(), masked)
}

/// Short words for risk flags.
pub fn flag(flag: RiskFlag) -> &'static str {
    match flag {
        RiskFlag::StatusCut => "cuts service",
        RiskFlag::Irreversible => "irreversible",
        RiskFlag::ImeiUnlock => "IMEI unlock",
        RiskFlag::LoweredLimit => "lowered limit",
        RiskFlag::RestoresService => "implied: restores service",
        RiskFlag::UsageCut => "below this month's usage: cuts service now",
        RiskFlag::NearUsage => "near this month's usage",
    }
}

/// Bytes for reading, not copying: the largest decimal unit with at most two decimals, cut
/// rather than rounded so a usage never reads above itself (`1.2GB`, `1.23GB` for 1 234 567 890
/// bytes, `999B`).
pub fn approx_bytes(n: i64) -> String {
    let (unit, scale) = match n {
        n if n >= 1_000_000_000_000 => ("TB", 1_000_000_000_000i64),
        n if n >= 1_000_000_000 => ("GB", 1_000_000_000),
        n if n >= 1_000_000 => ("MB", 1_000_000),
        n if n >= 1_000 => ("kB", 1_000),
        n => return format!("{n}B"),
    };
    let hundredths = n / (scale / 100);
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{whole}{unit}"),
        f if f % 10 == 0 => format!("{whole}.{}{unit}", f / 10),
        f => format!("{whole}.{f:02}{unit}"),
    }
}

/// This month's usage of a limit's counter, in the units its limit is shown in: `1.23GB`,
/// `42 SMS`, `610 s`.
pub fn usage(field: Field, n: i64) -> String {
    match field {
        Field::MonthlyDataLimit => approx_bytes(n),
        Field::MonthlyVoiceMoLimit => format!("{n} s"),
        Field::MonthlySmsMoLimit | Field::MonthlySmsMtLimit => format!("{n} SMS"),
        _ => n.to_string(),
    }
}

/// `used 1.23GB this month`, or `used 900MB–1.2GB this month` (`used 52–58 SMS this month`) for a group of SIMs that used
/// different amounts; `None` for a group without usage flags.
pub fn group_usage(g: &ChangeGroup<'_>) -> Option<String> {
    let (low, high) = g.usage?;
    let field = g.change.field;
    let range = if low == high {
        usage(field, low)
    } else if field == Field::MonthlyDataLimit {
        format!("{}–{}", approx_bytes(low), approx_bytes(high))
    } else {
        // `52–58 SMS`: the unit once, after the range.
        let unit = usage(field, high);
        let unit = unit.trim_start_matches(|c: char| c.is_ascii_digit());
        format!("{low}–{high}{unit}")
    };
    Some(format!("used {range} this month"))
}

/// Changes with the same field, from, to, source and flags, with the SIMs they apply to.
pub struct ChangeGroup<'a> {
    /// The change, with the `from` and usage of the group's first SIM.
    pub change: FieldChange,
    /// The group's SIMs, by index into `all`, in plan order (4 bytes each: a million-SIM plan
    /// where every SIM changes eight fields lists eight million).
    sims: Vec<u32>,
    all: &'a [SimChange],
    /// The least and the most this month's usage of the group's SIMs (changes with a usage
    /// flag carry their usage; the others none).
    pub usage: Option<(i64, i64)>,
}

impl<'a> ChangeGroup<'a> {
    /// The group's ICCIDs, in plan order.
    pub fn iccids(&self) -> impl ExactSizeIterator<Item = &'a str> + Clone + '_ {
        let all = self.all;
        self.sims
            .iter()
            .map(move |&i| all.get(i as usize).map_or("", |c| c.iccid.as_str()))
    }

    /// How many SIMs the group has.
    pub fn sim_count(&self) -> usize {
        self.sims.len()
    }

    /// Widens the group's usage range by one change's usage.
    fn add_usage(&mut self, usage: Option<(i64, i64)>) {
        self.usage = match (self.usage, usage) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (mine, theirs) => mine.or(theirs),
        };
    }
}

/// Groups every field change of the plan by (field, from → to, source, flags: SIMs with and
/// without a usage flag differ there), ordered by field, then
/// by number of SIMs (largest first), then by source and values, so output is deterministic.
///
/// A million-SIM plan has millions of changes (0.4 s on one core): contiguous runs of SIMs are
/// tallied on every core and merged in ICCID order, so each group's ICCIDs stay in plan order.
pub fn change_groups(plan: &Plan) -> Vec<ChangeGroup<'_>> {
    let all = plan.changes.as_slice();
    let runs =
        crate::parallel::fold_runs(all.len(), GroupTally::default, |tally, i| tally.add(all, i));
    let mut runs = runs.into_iter();
    let mut all = runs.next().unwrap_or_default();
    for run in runs {
        all.merge(run);
    }
    let mut out: Vec<(String, String, ChangeGroup<'_>)> = all
        .groups
        .into_values()
        .map(|g| (g.change.from.to_string(), g.change.to.to_string(), g))
        .collect();
    out.sort_by(|(a_from, a_to, a), (b_from, b_to, b)| {
        (a.change.field, std::cmp::Reverse(a.sim_count()))
            .cmp(&(b.change.field, std::cmp::Reverse(b.sim_count())))
            .then_with(|| a_from.cmp(b_from))
            .then_with(|| a_to.cmp(b_to))
            .then_with(|| a.change.source.cmp(&b.change.source))
            .then_with(|| a.change.implied.cmp(&b.change.implied))
            .then_with(|| a.change.flags.cmp(&b.change.flags))
            .then_with(|| a.change.via.cmp(&b.change.via))
    });
    out.into_iter().map(|(_, _, g)| g).collect()
}

/// A group's identity, by reference: values are only spelled out (for ordering) once per group.
/// The source is a number local to one [`GroupTally`].
type GroupKey<'a> = (
    Field,
    FieldValue,
    &'a FieldValue,
    usize,
    bool,
    RiskFlags,
    crate::plan::Via,
);

/// The change groups of one run of SIMs.
#[derive(Default)]
struct GroupTally<'a> {
    groups: HashMap<GroupKey<'a>, ChangeGroup<'a>>,
    /// Sources numbered once per distinct origin: changes from one rule usually share one `Arc`,
    /// so most lookups hash a pointer.
    /// Keyed by the `Arc`'s address (as a number, so the tally can move between threads).
    by_pointer: HashMap<usize, usize>,
    by_value: HashMap<&'a Origin, usize>,
}

impl<'a> GroupTally<'a> {
    fn add(&mut self, all: &'a [SimChange], index: usize) {
        let sim = &all[index];
        for (target, (from, usage)) in sim.set().targets().iter().zip(sim.froms()) {
            let next = self.by_value.len();
            let by_value = &mut self.by_value;
            let source = *self
                .by_pointer
                .entry(std::sync::Arc::as_ptr(&target.source) as usize)
                .or_insert_with(|| *by_value.entry(&*target.source).or_insert(next));
            let key = (
                target.field,
                from,
                &target.to,
                source,
                target.implied,
                target.flags,
                target.via,
            );
            let group = self
                .groups
                .entry(key)
                .or_insert_with_key(|key| ChangeGroup {
                    change: FieldChange {
                        field: target.field,
                        from: key.1.clone(),
                        to: target.to.clone(),
                        via: target.via,
                        source: target.source.clone(),
                        flags: target.flags,
                        implied: target.implied,
                        usage,
                    },
                    sims: Vec::new(),
                    all,
                    usage: None,
                });
            group.sims.push(index as u32);
            group.add_usage(usage.map(|u| (u, u)));
        }
    }

    /// Appends `later`, the tally of the SIMs right after these.
    fn merge(&mut self, later: GroupTally<'a>) {
        let mut renumber: HashMap<usize, usize> = HashMap::new();
        for (origin, number) in later.by_value {
            let next = self.by_value.len();
            renumber.insert(number, *self.by_value.entry(origin).or_insert(next));
        }
        for ((field, from, to, source, implied, flags, via), group) in later.groups {
            let source = renumber.get(&source).copied().unwrap_or(source);
            match self
                .groups
                .entry((field, from, to, source, implied, flags, via))
            {
                std::collections::hash_map::Entry::Occupied(mut mine) => {
                    mine.get_mut().add_usage(group.usage);
                    mine.get_mut().sims.extend(group.sims);
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(group);
                }
            }
        }
    }
}

/// `N SIM` / `N SIMs`.
pub fn sims(n: usize) -> String {
    if n == 1 {
        "1 SIM".into()
    } else {
        format!("{n} SIMs")
    }
}

/// SIMs with a call in each round, counted from the SIMs' change sets (the calls are grouped
/// from them): a SIM is in a phase when one of its mutations runs in it, and in the lead-in
/// round with `k` steps after it when its status path passes through at least `k` statuses.
/// No set of ICCIDs is built: a million-SIM phase's set cost tens of megabytes.
fn sims_per_round(plan: &Plan) -> BTreeMap<(u8, std::cmp::Reverse<u8>), usize> {
    let mut rounds_of: HashMap<*const ChangeSet, Vec<(u8, std::cmp::Reverse<u8>)>> = HashMap::new();
    let mut covered = BTreeMap::new();
    for sim in &plan.changes {
        let rounds = rounds_of
            .entry(std::sync::Arc::as_ptr(sim.set()))
            .or_insert_with(|| rounds_of_set(sim.set()));
        for round in rounds.iter() {
            *covered.entry(*round).or_insert(0) += 1;
        }
    }
    covered
}

/// The rounds a change set's SIMs have calls in (see [`sims_per_round`]).
fn rounds_of_set(set: &ChangeSet) -> Vec<(u8, std::cmp::Reverse<u8>)> {
    let mut rounds: Vec<(u8, std::cmp::Reverse<u8>)> = set
        .mutations()
        .iter()
        .map(|(field, value)| {
            (
                crate::plan::actions::phase_of(*field, value),
                std::cmp::Reverse(0),
            )
        })
        .collect();
    let longest = set.targets().iter().map(|t| t.via.len()).max().unwrap_or(0);
    rounds
        .extend((1..=longest).map(|k| (0, std::cmp::Reverse(u8::try_from(k).unwrap_or(u8::MAX)))));
    rounds.sort_unstable();
    rounds.dedup();
    rounds
}

/// Counts of batch jobs and updateSim calls per phase, e.g. `phase 1: 2 batch jobs, 3 updateSim`.
pub fn action_lines(plan: &Plan) -> Vec<String> {
    // A SIM may be in several calls of one phase (one batch job per field value), so SIMs are
    // counted once per phase.
    // Rounds in the order apply runs them: the lead-in steps of status paths (most steps
    // after them first), then each phase.
    type Round = (u8, std::cmp::Reverse<u8>);
    let round = |a: &crate::plan::Action| (a.phase(), std::cmp::Reverse(a.steps_after()));
    let mut per_phase: BTreeMap<Round, (usize, usize)> = BTreeMap::new();
    for action in &plan.actions {
        let entry = per_phase.entry(round(action)).or_default();
        match action {
            crate::plan::Action::BatchJob(_) => entry.0 += 1,
            crate::plan::Action::UpdateSim(_) => entry.1 += 1,
        }
    }
    let covered = sims_per_round(plan);
    per_phase
        .into_iter()
        .map(
            |(key @ (phase, std::cmp::Reverse(after)), (batches, updates))| {
                let n = covered.get(&key).copied().unwrap_or(0);
                let what = match (phase, after) {
                    (0, 0) => "status cuts first".to_string(),
                    (0, 1) => "status paths: the step before the last, verified first".to_string(),
                    (0, after) => {
                        format!("status paths: a step with {after} more after it, verified first")
                    }
                    (1, _) => "limits, labels, IMEI locks".to_string(),
                    _ => "activations, after phase 1 succeeded".to_string(),
                };
                format!(
                    "phase {phase} ({what}): {} batch job{}, {updates} updateSim, covering {}",
                    batches,
                    if batches == 1 { "" } else { "s" },
                    sims(n)
                )
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fv(v: serde_json::Value) -> FieldValue {
        serde_json::from_value(v).unwrap()
    }
    use serde_json::json;

    #[test]
    fn usage_reads_in_the_limits_units_cut_not_rounded() {
        assert_eq!(approx_bytes(1_200_000_000), "1.2GB");
        assert_eq!(approx_bytes(1_234_567_890), "1.23GB");
        assert_eq!(approx_bytes(999_999_999), "999.99MB");
        assert_eq!(approx_bytes(1_050_000), "1.05MB");
        assert_eq!(approx_bytes(500_000_000), "500MB");
        assert_eq!(approx_bytes(999), "999B");
        assert_eq!(approx_bytes(0), "0B");
        assert_eq!(approx_bytes(2_500_000_000_000), "2.5TB");
        assert_eq!(usage(Field::MonthlySmsMtLimit, 42), "42 SMS");
        assert_eq!(usage(Field::MonthlyVoiceMoLimit, 610), "610 s");
        assert_eq!(usage(Field::MonthlyDataLimit, 1_500_000), "1.5MB");
    }

    #[test]
    fn sizes_use_the_largest_exact_unit() {
        assert_eq!(bytes(500_000_000), "500MB");
        assert_eq!(bytes(1_000_000_000), "1GB");
        assert_eq!(bytes(1_500_000_000), "1.5GB");
        assert_eq!(bytes(1 << 30), "1GiB");
        assert_eq!(bytes(1_048_576), "1MiB");
        assert_eq!(bytes(1536), "1536B");
        assert_eq!(bytes(2_000), "2kB");
    }

    #[test]
    fn values_read_naturally() {
        assert_eq!(
            value(Field::Status, &fv(json!(5)), false),
            "Deactivated (5)"
        );
        assert_eq!(
            value(Field::MonthlyDataLimit, &fv(json!(null)), false),
            "unlimited"
        );
        assert_eq!(
            value(Field::MonthlyDataLimit, &fv(json!(0)), false),
            "unlimited (0)"
        );
        assert_eq!(
            value(Field::MonthlyVoiceMoLimit, &fv(json!(600)), false),
            "600 s"
        );
        assert_eq!(
            value(Field::EndCustomerLabel, &fv(json!(null)), false),
            "none"
        );
        assert_eq!(
            value(Field::CustomField1, &fv(json!("truck")), false),
            "\"truck\""
        );
        assert_eq!(
            value(
                Field::ImeiLock,
                &fv(json!({"enabled": true, "imei": null})),
                false
            ),
            "auto"
        );
        assert_eq!(
            value(
                Field::ImeiLock,
                &fv(json!({"enabled": true, "imei": "356938035643809"})),
                true
            ),
            "IMEI ***********3809"
        );
        assert_eq!(value(Field::ImeiLock, &fv(json!(null)), false), "none");
        assert_eq!(
            value(
                Field::ImeiLock,
                &fv(json!({"enabled": false, "imei": null})),
                false
            ),
            "off"
        );
        assert_eq!(mask("89490000000000000015"), "****************0015");
    }

    #[test]
    fn masking_leaves_digests_whole_but_not_identifiers_glued_to_words() {
        let checksum = "sha256:0b1e5a2f3c4d5e6f70123456789012345678901234567890abcdef0123456789";
        assert_eq!(mask_text(checksum), checksum);
        assert_eq!(
            mask_text("fingerprint 8f3a12345678901234567890123456ab"),
            "fingerprint 8f3a12345678901234567890123456ab"
        );
        // Hex-looking but short, or all digits: identifiers, masked.
        assert_eq!(
            mask_text("lab89490000000000000015 and 0x89490000000000000015"),
            "lab****************0015 and 0x****************0015"
        );
        assert_eq!(
            mask_text("89490000000000000015894900000000000000158949"),
            "****************************************8949"
        );
    }

    #[test]
    fn masking_free_text_hides_msisdns_iccids_and_imeis_but_keeps_counts() {
        assert_eq!(
            mask_text("call +491761234567 or 4915112345678, sims entry 89490000000000000015"),
            "call +********4567 or *********5678, sims entry ****************0015"
        );
        assert_eq!(
            mask_text("125 SIMs would change, more than max_changes = 100000; job 2147483647"),
            "125 SIMs would change, more than max_changes = 100000; job 2147483647"
        );
        assert_eq!(
            value(
                Field::CustomField1,
                &fv(json!("driver +491761234567")),
                true
            ),
            "\"driver +********4567\""
        );
        assert_eq!(
            value(
                Field::EndCustomerLabel,
                &fv(json!("ACME 4915112345678")),
                false
            ),
            "\"ACME 4915112345678\""
        );
    }
}
