//! `export --spec`: turns a live fleet into spec files that reproduce its settings, compactly.
//!
//! Pure: SIMs in, file texts out. SIMs are grouped by the `--group-by` keys (by default the end
//! customer label, the status and the product), which are all server-side filters, so every
//! rule can be pushed down. A group gets a rule for a field only when no SIM in it lacks an
//! exportable value, and the rule sets the group's most common value; every SIM whose value
//! differs is pinned by a `sims:` entry, which beats every rule. Groups whose rules end up
//! identical are merged into one rule with a list selector. By construction every SIM resolves
//! to exactly its exported values, which `ops::export` checks again by loading the written
//! files before it moves them into place.
//!
//! A field that is also a group-by key is expressed by the rules' selectors and not set: a rule
//! that sets what it matches on could undo itself (`validate` warns about such rules).

mod error;
mod values;
mod yaml;

use std::collections::{BTreeMap, HashMap};

use crate::fleet::{tables, Sim};
use crate::spec::{values as spec_values, DesiredValue, Field};

pub use error::ExportError;
pub use values::{exported_value, writable_text, DEFAULT_FIELDS};

/// Deleted, retired and replaced SIMs (terminal: never changed). The export leaves
/// them out: a rule or entry for them would only make every plan warn that it skipped them.
pub const TERMINAL_STATUSES: [i32; 3] = [4, 7, 10];

/// A key SIMs can be grouped by: a match key the API can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    EndCustomerLabel,
    Status,
    Provider,
    CustomField1,
}

impl GroupKey {
    /// The default grouping: label, then status, then product.
    pub const DEFAULT: [GroupKey; 3] = [
        GroupKey::EndCustomerLabel,
        GroupKey::Status,
        GroupKey::Provider,
    ];

    /// The match key's name in a spec.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::EndCustomerLabel => "end_customer_label",
            GroupKey::Status => "status",
            GroupKey::Provider => "provider",
            GroupKey::CustomField1 => "custom_field_1",
        }
    }

    /// Parses a `--group-by` name (`label` is accepted for `end_customer_label`).
    pub fn from_name(name: &str) -> Option<GroupKey> {
        match name.trim() {
            "end_customer_label" | "label" => Some(GroupKey::EndCustomerLabel),
            "status" => Some(GroupKey::Status),
            "provider" => Some(GroupKey::Provider),
            "custom_field_1" => Some(GroupKey::CustomField1),
            _ => None,
        }
    }

    /// The settable field this key reads, if any.
    pub fn field(self) -> Option<Field> {
        match self {
            GroupKey::EndCustomerLabel => Some(Field::EndCustomerLabel),
            GroupKey::Status => Some(Field::Status),
            GroupKey::CustomField1 => Some(Field::CustomField1),
            GroupKey::Provider => None,
        }
    }

    /// The SIM's value for this key, or `None` when no selector matches exactly that value.
    fn value(self, sim: &Sim) -> Option<KeyValue> {
        match self {
            GroupKey::Status => {
                tables::status_name(sim.statusid).map(|_| KeyValue::Id(sim.statusid))
            }
            GroupKey::Provider => {
                tables::provider_name(sim.providerid).map(|_| KeyValue::Id(sim.providerid))
            }
            GroupKey::EndCustomerLabel => text_key(sim.label()),
            GroupKey::CustomField1 => text_key(sim.custom_field_1.as_deref()),
        }
    }
}

fn text_key(text: Option<&str>) -> Option<KeyValue> {
    match text {
        None | Some("") => Some(KeyValue::Text(None)),
        Some(t) if writable_text(t) => Some(KeyValue::Text(Some(t.to_string()))),
        Some(_) => None,
    }
}

/// Parses `--fields`: field names, plus `limits` for the four limits and `label` for
/// `end_customer_label`.
pub fn parse_fields(list: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let add: Vec<Field> = match name {
            "limits" => vec![
                Field::MonthlyDataLimit,
                Field::MonthlySmsMoLimit,
                Field::MonthlySmsMtLimit,
                Field::MonthlyVoiceMoLimit,
            ],
            "label" => vec![Field::EndCustomerLabel],
            other => match Field::from_name(other) {
                Some(f) => vec![f],
                None => {
                    return Err(format!(
                        "unknown field `{other}`: choose from limits, label, {}",
                        Field::ALL.map(Field::name).join(", ")
                    ))
                }
            },
        };
        fields.extend(add);
    }
    if fields.is_empty() {
        return Err("--fields names no field".to_string());
    }
    fields.sort();
    fields.dedup();
    Ok(fields)
}

/// Parses `--group-by`: a comma-separated list of keys, possibly empty (one rule set for all).
pub fn parse_group_by(list: &str) -> Result<Vec<GroupKey>, String> {
    let mut keys = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let key = GroupKey::from_name(name).ok_or_else(|| {
            format!("cannot group by `{name}`: choose from end_customer_label (or label), status, provider, custom_field_1")
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// One value of a group key: a text (or none) or a status/provider id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyValue {
    Text(Option<String>),
    Id(i32),
}

/// How to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub fields: Vec<Field>,
    pub group_by: Vec<GroupKey>,
    /// Where the fleet came from, for the files' header comment (never a token).
    pub source: String,
    /// When it was read (RFC 3339), for the header comment.
    pub taken_at: String,
    /// A group gets a rule for a field only when at least this many SIMs share the value.
    pub min_rule_sims: usize,
    /// `sims:` entries per file.
    pub entries_per_file: usize,
}

impl ExportOptions {
    pub fn new(source: impl Into<String>, taken_at: impl Into<String>) -> ExportOptions {
        ExportOptions {
            fields: DEFAULT_FIELDS.to_vec(),
            group_by: GroupKey::DEFAULT.to_vec(),
            source: source.into(),
            taken_at: taken_at.into(),
            min_rule_sims: 2,
            entries_per_file: 5_000,
        }
    }

    /// The fields rules and entries set: the chosen fields minus those the groups select by.
    pub fn set_fields(&self) -> Vec<Field> {
        self.fields
            .iter()
            .copied()
            .filter(|f| !self.group_by.iter().any(|k| k.field() == Some(*f)))
            .collect()
    }
}

/// One file to write, relative to the spec directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecText {
    /// `/`-separated, e.g. `sims/001.yaml`.
    pub path: String,
    pub text: String,
}

/// A value the export could not write, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub iccid: String,
    pub field: Field,
    pub reason: &'static str,
}

/// What `export --spec` produced.
#[derive(Debug, Clone)]
pub struct ExportedSpec {
    pub files: Vec<SpecText>,
    pub rules: usize,
    /// SIMs the rules match.
    pub rule_sims: usize,
    /// `sims:` entries written.
    pub entries: usize,
    /// Values written in entries.
    pub entry_values: usize,
    /// SIMs neither a rule nor an entry applies to.
    pub unmanaged: usize,
    /// SIMs left out because their status is terminal.
    pub terminal: usize,
    /// Values left unmanaged because no spec value reproduces them (a status a spec may not
    /// set, blank text, a malformed ICCID...).
    pub skipped: Vec<Skipped>,
    /// Some entry's ICCID fails the Luhn check: `simfleet.yaml` turns the check off.
    pub luhn_off: bool,
}

impl ExportedSpec {
    /// Total bytes of the files.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).sum()
    }
}

/// A rule before it is written: its selector (a list of values per group key), what it sets,
/// and how many SIMs it matches.
#[derive(Debug, Clone)]
struct RuleDraft {
    selector: Vec<Vec<KeyValue>>,
    set: BTreeMap<Field, DesiredValue>,
    sims: usize,
}

/// Exports `sims` (any order) as spec files.
pub fn export_spec(sims: &[Sim], opts: &ExportOptions) -> ExportedSpec {
    let set_fields = opts.set_fields();
    let grouping = group_sims(sims, opts);
    let mut drafted = draft_rules(sims, &grouping, &set_fields, opts.min_rule_sims);
    let drafts = merge(std::mem::take(&mut drafted.drafts), opts.group_by.len());
    let (written, luhn_off) = pinned_entries(sims, &grouping.order, &mut drafted);
    let unmanaged = count_unmanaged(sims, &grouping, &drafts, &written);
    let header = yaml::Header {
        source: &opts.source,
        taken_at: &opts.taken_at,
        sims: sims.len(),
        fields: &opts.fields,
        group_by: &opts.group_by,
        set_fields: &set_fields,
    };
    ExportedSpec {
        files: spec_texts(&header, opts, &drafts, &written, luhn_off),
        rules: drafts.len(),
        rule_sims: drafted.rule_sims,
        entries: written.len(),
        entry_values: written.iter().map(|(_, f)| f.len()).sum(),
        unmanaged,
        terminal: grouping.terminal,
        skipped: drafted.skipped,
        luhn_off,
    }
}

/// The SIMs by group key (indexes into the fleet), terminal SIMs left out.
struct Grouping {
    /// Every SIM, in ICCID order.
    order: Vec<usize>,
    groups: BTreeMap<Vec<KeyValue>, Vec<usize>>,
    /// SIMs without a value for some group key.
    ungrouped: Vec<usize>,
    terminal: usize,
}

/// Step 1: sort the fleet by ICCID and group it by the chosen keys.
fn group_sims(sims: &[Sim], opts: &ExportOptions) -> Grouping {
    let mut order: Vec<usize> = (0..sims.len()).collect();
    order.sort_by(|&a, &b| sims[a].iccid.cmp(&sims[b].iccid));
    let mut grouping = Grouping {
        order: Vec::new(),
        groups: BTreeMap::new(),
        ungrouped: Vec::new(),
        terminal: 0,
    };
    for &i in &order {
        if TERMINAL_STATUSES.contains(&sims[i].statusid) {
            grouping.terminal += 1;
            continue;
        }
        let key: Option<Vec<KeyValue>> = opts.group_by.iter().map(|k| k.value(&sims[i])).collect();
        match key {
            Some(key) => grouping.groups.entry(key).or_default().push(i),
            None => grouping.ungrouped.push(i),
        }
    }
    grouping.order = order;
    grouping
}

/// Rules per group, and what each SIM needs beyond its group's rule.
struct Drafted {
    drafts: Vec<RuleDraft>,
    /// Per SIM (by index): the values its `sims:` entry sets.
    entries: Vec<Vec<(Field, DesiredValue)>>,
    skipped: Vec<Skipped>,
    /// SIMs the rules match.
    rule_sims: usize,
}

/// Step 2: a rule for each group that shares values, and entries for the exceptions and for
/// SIMs in no group.
fn draft_rules(sims: &[Sim], grouping: &Grouping, set_fields: &[Field], min: usize) -> Drafted {
    let mut drafted = Drafted {
        drafts: Vec::new(),
        entries: vec![Vec::new(); sims.len()],
        skipped: Vec::new(),
        rule_sims: 0,
    };
    for (key, members) in &grouping.groups {
        let mut set = BTreeMap::new();
        for &field in set_fields {
            if let Some(v) = group_rule_value(sims, members, field, min, &mut drafted) {
                set.insert(field, v);
            }
        }
        if !set.is_empty() {
            drafted.rule_sims += members.len();
            drafted.drafts.push(RuleDraft {
                selector: key.iter().map(|v| vec![v.clone()]).collect(),
                set,
                sims: members.len(),
            });
        }
    }
    for &i in &grouping.ungrouped {
        for &field in set_fields {
            match exported_value(&sims[i], field) {
                Some(v) => drafted.entries[i].push((field, v)),
                None => drafted.skipped.push(unexportable(&sims[i], field)),
            }
        }
    }
    drafted
}

/// The value a group's rule sets for `field`, if any; members that differ get it in their
/// entries, and members without an exportable value are skipped.
fn group_rule_value(
    sims: &[Sim],
    members: &[usize],
    field: Field,
    min: usize,
    drafted: &mut Drafted,
) -> Option<DesiredValue> {
    let values: Vec<Option<DesiredValue>> = members
        .iter()
        .map(|&i| exported_value(&sims[i], field))
        .collect();
    let mut rule_value = group_value(&values, min);
    // A SIM no `sims:` entry can name cannot be an exception to its group's rule.
    if let Some(v) = &rule_value {
        let unpinnable_differs = members
            .iter()
            .zip(&values)
            .any(|(&i, value)| !can_pin(&sims[i]) && value.as_ref() != Some(v));
        if unpinnable_differs {
            rule_value = None;
        }
    }
    for (&i, value) in members.iter().zip(values) {
        match value {
            Some(v) if Some(&v) != rule_value.as_ref() => drafted.entries[i].push((field, v)),
            Some(_) => {}
            None => drafted.skipped.push(unexportable(&sims[i], field)),
        }
    }
    rule_value
}

/// A `sims:` entry: an ICCID and the values it sets.
type Entry<'s> = (&'s str, Vec<(Field, DesiredValue)>);

/// Step 3: the entries to write, in ICCID order; an ICCID a spec cannot hold loses its entry
/// (and says so). True when some ICCID fails the Luhn check.
fn pinned_entries<'s>(
    sims: &'s [Sim],
    order: &[usize],
    drafted: &mut Drafted,
) -> (Vec<Entry<'s>>, bool) {
    let mut luhn_off = false;
    let mut written = Vec::new();
    for &i in order {
        let fields = std::mem::take(&mut drafted.entries[i]);
        if fields.is_empty() {
            continue;
        }
        let iccid = sims[i].iccid.as_str();
        if !can_pin(&sims[i]) {
            drafted
                .skipped
                .extend(fields.iter().map(|(field, _)| Skipped {
                    iccid: iccid.to_string(),
                    field: *field,
                    reason: "the ICCID is not 19–20 digits, so no sims: entry can name it",
                }));
            continue;
        }
        luhn_off |= !spec_values::luhn_valid(iccid);
        written.push((iccid, fields));
    }
    (written, luhn_off)
}

/// Step 4: SIMs neither a rule nor an entry applies to.
fn count_unmanaged(
    sims: &[Sim],
    grouping: &Grouping,
    drafts: &[RuleDraft],
    written: &[Entry<'_>],
) -> usize {
    let in_entries: std::collections::HashSet<&str> = written.iter().map(|(i, _)| *i).collect();
    grouping
        .groups
        .iter()
        .filter(|(key, _)| !drafts.iter().any(|d| selector_covers(&d.selector, key)))
        .flat_map(|(_, members)| members.iter())
        .chain(grouping.ungrouped.iter())
        .filter(|&&i| !in_entries.contains(sims[i].iccid.as_str()))
        .count()
}

/// Step 5: the files: `rules.yaml`, `sims/NNN.yaml`, and `simfleet.yaml` when the Luhn check
/// must be off.
fn spec_texts(
    header: &yaml::Header<'_>,
    opts: &ExportOptions,
    drafts: &[RuleDraft],
    written: &[Entry<'_>],
    luhn_off: bool,
) -> Vec<SpecText> {
    let mut files = Vec::new();
    if !drafts.is_empty() {
        files.push(SpecText {
            path: "rules.yaml".to_string(),
            text: yaml::rules_file(header, &opts.group_by, drafts),
        });
    }
    for (n, chunk) in written.chunks(opts.entries_per_file.max(1)).enumerate() {
        files.push(SpecText {
            path: format!("sims/{:03}.yaml", n + 1),
            text: yaml::sims_file(header, chunk),
        });
    }
    if luhn_off {
        files.push(SpecText {
            path: crate::spec::CONFIG_FILE.to_string(),
            text: yaml::config_file(header),
        });
    }
    files
}

/// The value a group's rule sets for one field: the most common one (ties go to the smallest,
/// for stable output), provided every member has an exportable value and at least `min` share it.
fn group_value(values: &[Option<DesiredValue>], min: usize) -> Option<DesiredValue> {
    let mut counts: HashMap<&DesiredValue, usize> = HashMap::new();
    for value in values {
        *counts.entry(value.as_ref()?).or_default() += 1;
    }
    let (best, count) = counts
        .into_iter()
        .max_by(|(va, ca), (vb, cb)| ca.cmp(cb).then_with(|| vb.cmp(va)))?;
    (count >= min.max(1)).then(|| best.clone())
}

/// True when a `sims:` entry can name this SIM (19–20 digits; the Luhn check can be turned off).
fn can_pin(sim: &Sim) -> bool {
    spec_values::check_iccid(&sim.iccid, false).is_ok()
}

fn unexportable(sim: &Sim, field: Field) -> Skipped {
    let reason = match field {
        Field::Status => "a spec may not set this status",
        Field::EndCustomerLabel | Field::CustomField1 => {
            "the text is blank, `none`, or has surrounding spaces"
        }
        _ => "the live limit is negative",
    };
    Skipped {
        iccid: sim.iccid.clone(),
        field,
        reason,
    }
}

/// Rules merge when they set the same values and agree on every key but the one merged.
type MergeKey = (Vec<Vec<KeyValue>>, Vec<(Field, DesiredValue)>);

/// Merges rules that set the same values and whose selectors differ in one key only, one key
/// at a time (the last first, so the first key stays the outermost grouping). The merged
/// selector is the product of the merged groups' keys, so it matches exactly their SIMs.
fn merge(mut drafts: Vec<RuleDraft>, keys: usize) -> Vec<RuleDraft> {
    for position in (0..keys).rev() {
        let mut merged: BTreeMap<MergeKey, RuleDraft> = BTreeMap::new();
        for draft in drafts {
            let mut rest = draft.selector.clone();
            rest[position].clear();
            let set: Vec<(Field, DesiredValue)> =
                draft.set.iter().map(|(f, v)| (*f, v.clone())).collect();
            match merged.entry((rest, set)) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(draft);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    let into = slot.get_mut();
                    into.selector[position].extend(draft.selector[position].iter().cloned());
                    into.selector[position].sort();
                    into.selector[position].dedup();
                    into.sims += draft.sims;
                }
            }
        }
        drafts = merged.into_values().collect();
    }
    drafts.sort_by(|a, b| a.selector.cmp(&b.selector));
    drafts
}

fn selector_covers(selector: &[Vec<KeyValue>], key: &[KeyValue]) -> bool {
    selector
        .iter()
        .zip(key)
        .all(|(values, v)| values.contains(v))
}

/// The size of the naive export, one `sims:` entry per SIM with every exportable value, in
/// the same one-line style: the yardstick for how compact [`export_spec`] is.
pub fn naive_size(sims: &[Sim], fields: &[Field]) -> usize {
    let mut bytes = "sims:\n".len();
    for sim in sims {
        let values: Vec<(Field, DesiredValue)> = fields
            .iter()
            .filter_map(|&f| exported_value(sim, f).map(|v| (f, v)))
            .collect();
        bytes += yaml::entry_line(&sim.iccid, &values).len();
    }
    bytes
}

/// Checks that `spec` (the exported files, loaded back) resolves every SIM to exactly its
/// exported values: each set field that was not skipped holds its exported value, and nothing
/// else is managed. Returns one message per SIM that does not (at most `limit`).
pub fn check_round_trip(
    spec: &crate::spec::Spec,
    sims: &[Sim],
    opts: &ExportOptions,
    exported: &ExportedSpec,
    limit: usize,
) -> Vec<String> {
    let set_fields = opts.set_fields();
    let skipped: std::collections::HashSet<(&str, Field)> = exported
        .skipped
        .iter()
        .map(|s| (s.iccid.as_str(), s.field))
        .collect();
    let mut problems = Vec::new();
    for sim in sims {
        // A rule grouped without status may match a terminal SIM; the plan never changes it.
        if TERMINAL_STATUSES.contains(&sim.statusid) {
            continue;
        }
        let resolution = match spec.resolve(sim) {
            Ok(r) => r,
            Err(conflicts) => {
                problems.extend(conflicts.iter().map(ToString::to_string));
                continue;
            }
        };
        for field in Field::ALL {
            let want =
                if set_fields.contains(&field) && !skipped.contains(&(sim.iccid.as_str(), field)) {
                    exported_value(sim, field)
                } else {
                    None
                };
            let got = resolution.and_then(|r| r.get(field)).map(|v| &v.value);
            if got != want.as_ref() {
                problems.push(format!(
                    "SIM {}: {field} resolves to {} but the fleet has {}",
                    sim.iccid,
                    got.map_or("nothing".to_string(), crate::spec::format_value),
                    want.as_ref()
                        .map_or("nothing exportable".to_string(), crate::spec::format_value),
                ));
            }
        }
        if problems.len() >= limit {
            break;
        }
    }
    problems
}

#[cfg(test)]
mod tests;
