//! The default, human renderer: summary first, then changes grouped by (field, from → to,
//! source) with a few ICCIDs each, then what is blocked, pending, held or skipped (and, with
//! `--verbose`, unmanaged), guards, warnings, the calls, and the checksum a reviewer approves.
//!
//! Colour is the caller's decision (terminal and `NO_COLOR`); this function only honours it.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::values::{self, action_lines, change_groups, sims};
use super::Plan;
use crate::outcome::Outcome;
use crate::plan::status_label;

/// How many ICCIDs a group lists without `--verbose`.
pub const ICCIDS_PER_GROUP: usize = 5;

/// How many groups of one field are shown without `--verbose`, largest first. When live values
/// are unique per SIM (IMEIs, per-device custom fields), every SIM is its own group: a million-SIM
/// plan would print hundreds of thousands of them, which no reviewer reads and which took longer
/// to write than the plan took to make. The rest are counted in one line; `--verbose` and the
/// JSON list them all.
pub const GROUPS_PER_FIELD: usize = 20;

/// Options for [`text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// List every SIM of every group.
    pub verbose: bool,
    /// Emit ANSI colours (the caller checked the terminal and `NO_COLOR`).
    pub color: bool,
    /// Show ICCIDs and IMEIs with all but their last 4 digits masked.
    pub mask: bool,
}

struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

const BOLD: Style = Style::new().bold();
const ADD: Style = AnsiColor::Green.on_default();
const RISK: Style = AnsiColor::Yellow.on_default();
const STOP: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();

fn iccid_list(ids: &[&str], opts: TextOptions) -> String {
    let shown = if opts.verbose {
        ids.len()
    } else {
        ids.len().min(ICCIDS_PER_GROUP)
    };
    let mut line = ids[..shown]
        .iter()
        .map(|i| values::iccid(i, opts.mask))
        .collect::<Vec<_>>()
        .join(", ");
    if shown < ids.len() {
        let _ = write!(line, " and {} more", ids.len() - shown);
    }
    line
}

/// Renders the plan for a terminal or a log.
pub fn text(plan: &Plan, opts: TextOptions) -> String {
    let p = Painter { on: opts.color };
    let s = &plan.summary;
    let mut out = String::new();

    let headline = match plan.outcome() {
        Outcome::Success => p.paint(BOLD, "No changes: the live fleet matches the spec."),
        Outcome::Blocked => p.paint(
            STOP,
            &format!(
                "{} changing; the plan is blocked ({} blocked, {} guard(s) stop it).",
                sims(s.sims_changing as usize),
                s.blocked,
                plan.guards.iter().filter(|g| g.stops).count()
            ),
        ),
        _ => p.paint(
            BOLD,
            &format!("{} changing.", sims(s.sims_changing as usize)),
        ),
    };
    let _ = writeln!(out, "{headline}");
    let unmanaged = if s.unmanaged_is_count {
        format!("{} unmanaged (counted, not read)", s.sims_unmanaged)
    } else {
        format!("{} unmanaged", s.sims_unmanaged)
    };
    let _ = writeln!(
        out,
        "  SIMs:       {} in fleet, {} read, {} managed, {unmanaged}, {} changing",
        s.sims_total, s.sims_seen, s.sims_managed, s.sims_changing
    );
    let per_field: Vec<String> = s
        .changes_per_field
        .iter()
        .map(|(f, n)| format!("{f} {n}"))
        .collect();
    let _ = write!(out, "  Changes:    {} field changes", s.field_changes);
    if !per_field.is_empty() {
        let _ = write!(out, " ({})", per_field.join(", "));
    }
    if s.implied_changes > 0 {
        let _ = write!(out, ", {} implied", s.implied_changes);
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "  Untouched:  {} blocked, {} pending, {} held, {} skipped (terminal)",
        s.blocked, s.pending, s.held, s.skipped
    );
    let _ = writeln!(
        out,
        "  API calls:  {} mutations in {} HTTP requests (lower bound {})",
        s.api_calls, s.http_requests, s.lower_bound
    );

    let groups = change_groups(plan);
    if !groups.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(BOLD, "Changes"));
        // Groups come ordered by field, then largest first.
        let mut shown_of_field = 0usize;
        let mut hidden: Option<(crate::plan::Field, usize, usize)> = None;
        let flush_hidden =
            |out: &mut String, hidden: &mut Option<(crate::plan::Field, usize, usize)>| {
                if let Some((field, groups, sims_hidden)) = hidden.take() {
                    let _ = writeln!(
                    out,
                    "  {field}: … and {groups} more group{} ({}) with other values: --verbose or --format json lists them",
                    if groups == 1 { "" } else { "s" },
                    sims(sims_hidden)
                );
                }
            };
        for (i, g) in groups.iter().enumerate() {
            let c = g.change;
            if i > 0 && groups[i - 1].change.field != c.field {
                flush_hidden(&mut out, &mut hidden);
                shown_of_field = 0;
            }
            if !opts.verbose && shown_of_field >= GROUPS_PER_FIELD {
                let entry = hidden.get_or_insert((c.field, 0, 0));
                entry.1 += 1;
                entry.2 += g.iccids.len();
                continue;
            }
            shown_of_field += 1;
            let mut line = format!(
                "  {}: {} → {}",
                c.field,
                values::value(c.field, &c.from, opts.mask),
                p.paint(ADD, &values::value(c.field, &c.to, opts.mask))
            );
            let _ = write!(line, "  × {}", sims(g.iccids.len()));
            for flag in &c.flags {
                let _ = write!(
                    line,
                    "  {}",
                    p.paint(RISK, &format!("[{}]", values::flag(*flag)))
                );
            }
            let _ = writeln!(out, "{line}");
            let _ = writeln!(
                out,
                "      {} {}",
                p.paint(DIM, "from"),
                values::source(&c.source, opts.mask)
            );
            let _ = writeln!(out, "      {}", iccid_list(&g.iccids, opts));
        }
        flush_hidden(&mut out, &mut hidden);
    }

    if !plan.blocked.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(STOP, "Blocked"));
        let mut groups: std::collections::BTreeMap<(String, String, String), Vec<&str>> =
            Default::default();
        for b in &plan.blocked {
            let key = (
                format!(
                    "{}: {} → {}",
                    b.field,
                    values::value(b.field, &b.from, opts.mask),
                    values::value(b.field, &b.to, opts.mask)
                ),
                values::source(&b.source, opts.mask),
                values::text(&b.reason, opts.mask),
            );
            groups.entry(key).or_default().push(&b.iccid);
        }
        for ((what, source, reason), ids) in &groups {
            let _ = writeln!(out, "  {what}  × {}", sims(ids.len()));
            let _ = writeln!(out, "      {} {source}", p.paint(DIM, "from"));
            let _ = writeln!(out, "      because {reason}");
            let _ = writeln!(out, "      {}", iccid_list(ids, opts));
        }
    }

    let status_section = |out: &mut String, title: &str, rows: Vec<(String, &str)>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{}", p.paint(BOLD, title));
        let mut groups: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for (key, iccid) in rows {
            groups.entry(key).or_default().push(iccid);
        }
        for (key, ids) in &groups {
            let _ = writeln!(out, "  {key}  × {}", sims(ids.len()));
            let _ = writeln!(out, "      {}", iccid_list(ids, opts));
        }
    };
    status_section(
        &mut out,
        "Pending (already moving to the desired status)",
        plan.pending
            .iter()
            .map(|x| {
                (
                    format!(
                        "{} → {} ({})",
                        status_label(x.statusid),
                        status_label(x.desired),
                        values::source(&x.source, opts.mask)
                    ),
                    x.iccid.as_str(),
                )
            })
            .collect(),
    );
    status_section(
        &mut out,
        "Held (deactivated by the provider; not re-activated)",
        plan.held
            .iter()
            .map(|x| {
                (
                    format!(
                        "{} (wanted {}, {})",
                        values::text(&x.reason, opts.mask),
                        status_label(x.desired),
                        values::source(&x.source, opts.mask)
                    ),
                    x.iccid.as_str(),
                )
            })
            .collect(),
    );
    status_section(
        &mut out,
        "Skipped (terminal status, never changed)",
        plan.skipped
            .iter()
            .map(|x| (status_label(x.statusid), x.iccid.as_str()))
            .collect(),
    );

    if opts.verbose && !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.paint(BOLD, "Unmanaged (no rule or entry applies; never touched)")
        );
        for chunk in plan.unmanaged.chunks(4) {
            let shown: Vec<String> = chunk.iter().map(|i| values::iccid(i, opts.mask)).collect();
            let _ = writeln!(out, "  {}", shown.join(", "));
        }
    }

    if !plan.guards.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(BOLD, "Guards"));
        for g in &plan.guards {
            let mark = if g.stops {
                p.paint(STOP, "stops")
            } else {
                p.paint(DIM, "ok")
            };
            let _ = writeln!(out, "  [{mark}] {}", values::text(&g.message, opts.mask));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(RISK, "Warnings"));
        for w in &plan.warnings {
            let _ = writeln!(out, "  warning: {}", values::text(&w.message, opts.mask));
        }
    }
    let lines = action_lines(plan);
    if !lines.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(BOLD, "Calls"));
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    }
    if opts.verbose && !plan.changes.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(BOLD, "Every SIM"));
        for sim in &plan.changes {
            let fields: Vec<String> = sim
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}{}: {} → {}",
                        if f.implied { "(implied) " } else { "" },
                        f.field,
                        values::value(f.field, &f.from, opts.mask),
                        values::value(f.field, &f.to, opts.mask)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  {}  {}",
                values::iccid(&sim.iccid, opts.mask),
                fields.join("; ")
            );
        }
    }
    let _ = writeln!(out, "\nSpec digest:   {}", plan.spec_digest);
    let _ = writeln!(out, "Plan checksum: {}", p.paint(BOLD, &plan.checksum));
    out
}
