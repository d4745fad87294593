//! The rows that text and markdown both show, as plain data: the lists of SIMs a plan leaves
//! alone (blocked, pending, held, skipped) grouped by cause, the risky changes counted by SIM,
//! and how a long list is cut to its largest groups.
//!
//! One home, so the two formats say the same thing about the same SIMs, in the same order, with
//! the same counts; each renderer only decides how a row looks.

use std::collections::BTreeMap;

use super::values::{self, ChangeGroup};
use crate::plan::{status_label, Plan, RiskFlag};

/// Groups shown of one list (and of one field's changes) without `--verbose`, largest first.
/// When causes are unique per SIM (IMEIs, per-device values, per-SIM reasons), every SIM is its
/// own group: a million-SIM plan would print hundreds of thousands of them, which no reviewer
/// reads. The rest are counted in one line; `--verbose` and the JSON list them all.
pub const GROUPS_PER_LIST: usize = 20;

/// SIMs that share one cause.
pub struct SimGroup<'a> {
    /// What would happen, or what the SIM is: `status: Issued (3) → Activated (2)`.
    pub what: String,
    /// The rule or `sims:` entry that asks for it, when one does.
    pub source: Option<String>,
    /// Why the plan leaves these SIMs alone, when the list's title does not say it already.
    pub reason: Option<String>,
    /// In plan (ICCID) order.
    pub iccids: Vec<&'a str>,
}

/// Which list of SIMs a plan leaves alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Blocked,
    Pending,
    Held,
    Skipped,
}

impl ListKind {
    pub fn title(self) -> &'static str {
        match self {
            ListKind::Blocked => "Blocked",
            ListKind::Pending => "Pending (already moving to the desired status)",
            ListKind::Held => "Held (deactivated by the provider; not re-activated)",
            ListKind::Skipped => "Skipped (terminal status, never changed)",
        }
    }
}

/// One list of SIMs the plan leaves alone, grouped by cause, largest group first.
pub struct StatusList<'a> {
    pub kind: ListKind,
    pub groups: Vec<SimGroup<'a>>,
}

/// What a group of SIMs shares: what, source, reason.
type Cause = (String, Option<String>, Option<String>);

/// Groups rows of (what, source, reason, ICCID): largest group first, then by what they say, so
/// the order does not depend on the order the fleet was read in.
fn grouped<'a>(
    kind: ListKind,
    rows: impl Iterator<Item = (String, Option<String>, Option<String>, &'a str)>,
) -> StatusList<'a> {
    let mut by_cause: BTreeMap<Cause, Vec<&'a str>> = BTreeMap::new();
    for (what, source, reason, iccid) in rows {
        by_cause
            .entry((what, source, reason))
            .or_default()
            .push(iccid);
    }
    let mut groups: Vec<SimGroup<'a>> = by_cause
        .into_iter()
        .map(|((what, source, reason), iccids)| SimGroup {
            what,
            source,
            reason,
            iccids,
        })
        .collect();
    // Stable: equal sizes keep the order of what they say.
    groups.sort_by_key(|g| std::cmp::Reverse(g.iccids.len()));
    StatusList { kind, groups }
}

/// The blocked, pending, held and skipped SIMs, in that order (empty lists included), with
/// identifiers masked when asked.
pub fn status_lists(plan: &Plan, mask: bool) -> [StatusList<'_>; 4] {
    let source = |origin| Some(values::source(origin, mask));
    [
        grouped(
            ListKind::Blocked,
            plan.blocked.iter().map(|b| {
                let what = format!(
                    "{}: {} → {}",
                    b.field,
                    values::value(b.field, &b.from, mask),
                    values::value(b.field, &b.to, mask)
                );
                let reason = Some(values::text(&b.reason, mask));
                (what, source(&b.source), reason, b.iccid.as_str())
            }),
        ),
        grouped(
            ListKind::Pending,
            plan.pending.iter().map(|p| {
                let what = format!(
                    "status: {} → {}",
                    status_label(p.statusid),
                    status_label(p.desired)
                );
                (what, source(&p.source), None, p.iccid.as_str())
            }),
        ),
        grouped(
            ListKind::Held,
            plan.held.iter().map(|h| {
                let what = format!(
                    "status: {}, wanted {}",
                    status_label(h.statusid),
                    status_label(h.desired)
                );
                let reason = Some(values::text(&h.reason, mask));
                (what, source(&h.source), reason, h.iccid.as_str())
            }),
        ),
        grouped(
            ListKind::Skipped,
            plan.skipped
                .iter()
                .map(|s| (status_label(s.statusid), None, None, s.iccid.as_str())),
        ),
    ]
}

/// The groups of a list that are shown, and what the others add up to.
pub struct Capped<'s, T> {
    pub shown: &'s [T],
    /// Groups not shown.
    pub hidden: usize,
    /// SIMs in the groups not shown.
    pub hidden_sims: usize,
}

/// The first [`GROUPS_PER_LIST`] of `groups` (all of them when `all`), and the rest counted.
pub fn cap<'s, T>(groups: &'s [T], all: bool, sims: impl Fn(&T) -> usize) -> Capped<'s, T> {
    let n = if all {
        groups.len()
    } else {
        groups.len().min(GROUPS_PER_LIST)
    };
    let (shown, rest) = groups.split_at(n);
    Capped {
        shown,
        hidden: rest.len(),
        hidden_sims: rest.iter().map(sims).sum(),
    }
}

/// `N more group(s) (M SIMs)`, for the line that counts what a capped list does not show.
pub fn more_groups(hidden: usize, hidden_sims: usize) -> String {
    format!(
        "{hidden} more group{} ({})",
        if hidden == 1 { "" } else { "s" },
        values::sims(hidden_sims)
    )
}

/// The change groups of each field, in field order (groups come ordered by field, then largest
/// first).
pub fn by_field<'g, 'a>(groups: &'g [ChangeGroup<'a>]) -> Vec<&'g [ChangeGroup<'a>]> {
    groups
        .chunk_by(|a, b| a.change.field == b.change.field)
        .collect()
}

/// The changes of one risk, counted by SIM and by field change.
pub struct RiskRow<'g, 'a> {
    pub flag: RiskFlag,
    /// SIMs with at least one change of this risk: a SIM whose data and SMS limits both go
    /// down counts once.
    pub sims: usize,
    /// (SIM, field) changes of this risk.
    pub fields: usize,
    /// The change groups of this risk, largest first.
    pub groups: Vec<&'g ChangeGroup<'a>>,
}

impl RiskRow<'_, '_> {
    pub fn title(&self) -> &'static str {
        match self.flag {
            RiskFlag::StatusCut => "Status cuts (service stops)",
            RiskFlag::Irreversible => "Irreversible (retired)",
            RiskFlag::ImeiUnlock => "IMEI unlocks",
            RiskFlag::LoweredLimit => "Lowered limits",
            RiskFlag::RestoresService => "Service restored (implied 20 → 2)",
            RiskFlag::UsageCut => "Limits at or below this month's usage (service stops now)",
            RiskFlag::NearUsage => "Limits near this month's usage (within 10 %)",
        }
    }

    /// `65 SIMs (77 field changes)`, or `3 SIMs` when each SIM has one such change.
    pub fn count(&self) -> String {
        if self.fields == self.sims {
            values::sims(self.sims)
        } else {
            format!(
                "{} ({} field changes)",
                values::sims(self.sims),
                self.fields
            )
        }
    }
}

/// Where a risk's row stands, most severe first: a limit that cuts service at once comes right
/// after status cuts and ahead of plain lowered limits, a limit near the usage just before them.
fn risk_rank(flag: RiskFlag) -> u8 {
    match flag {
        RiskFlag::StatusCut => 0,
        RiskFlag::UsageCut => 1,
        RiskFlag::Irreversible => 2,
        RiskFlag::ImeiUnlock => 3,
        RiskFlag::NearUsage => 4,
        RiskFlag::LoweredLimit => 5,
        RiskFlag::RestoresService => 6,
    }
}

/// The rows a change is listed in: a lowered limit that cuts service at once is listed with the
/// usage cuts only, so `Lowered limits` holds the plain ones.
fn row_flags(flags: crate::plan::RiskFlags) -> crate::plan::RiskFlags {
    if !flags.contains(RiskFlag::UsageCut) {
        return flags;
    }
    flags
        .iter()
        .copied()
        .filter(|f| *f != RiskFlag::LoweredLimit)
        .collect()
}

/// The risky changes of the plan by flag (most severe first), each counted by SIM.
pub fn risk_rows<'g, 'a>(plan: &'a Plan, groups: &'g [ChangeGroup<'a>]) -> Vec<RiskRow<'g, 'a>> {
    let mut rows: BTreeMap<RiskFlag, RiskRow<'g, 'a>> = BTreeMap::new();
    for g in groups {
        for flag in row_flags(g.change.flags).iter() {
            let row = rows.entry(*flag).or_insert_with(|| RiskRow {
                flag: *flag,
                sims: 0,
                fields: 0,
                groups: Vec::new(),
            });
            row.fields += g.sim_count();
            row.groups.push(g);
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    for sim in &plan.changes {
        let mut flags = crate::plan::RiskFlags::default();
        for f in sim.fields() {
            for flag in row_flags(f.flags).iter() {
                flags.insert(*flag);
            }
        }
        for flag in flags.iter() {
            if let Some(row) = rows.get_mut(flag) {
                row.sims += 1;
            }
        }
    }
    let mut rows: Vec<RiskRow<'g, 'a>> = rows.into_values().collect();
    rows.sort_by_key(|row| risk_rank(row.flag));
    for row in &mut rows {
        row.groups.sort_by_key(|g| std::cmp::Reverse(g.sim_count()));
    }
    rows
}
