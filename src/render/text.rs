//! The default, human renderer: summary first, the risky changes counted by SIM, then changes
//! grouped by (field, from → to, source) with a few ICCIDs each, then what is blocked, pending, held or skipped (and, with
//! `--verbose`, unmanaged), guards, warnings, the calls, and the checksum a reviewer approves.
//!
//! Every list shows its largest groups and counts the rest in one line; `--verbose` lists all.
//! Colour is the caller's decision (terminal and `NO_COLOR`); this function only honours it.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::checks;
use super::rows::{self, ListKind, StatusList};
use super::values::{self, action_lines, change_groups, sims, ChangeGroup};
use super::Plan;
use crate::outcome::Outcome;
use crate::plan::WaiverStatus;

/// How many ICCIDs a group lists without `--verbose`.
pub const ICCIDS_PER_GROUP: usize = 5;

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

/// The first [`ICCIDS_PER_GROUP`] ICCIDs of a group and "and N more" (all of them when
/// `verbose`), masked with `mask`: the ICCID line under every group of the text renderings.
pub(super) fn iccid_list<'s>(
    ids: impl ExactSizeIterator<Item = &'s str>,
    verbose: bool,
    mask: bool,
) -> String {
    let total = ids.len();
    let shown = if verbose {
        total
    } else {
        total.min(ICCIDS_PER_GROUP)
    };
    let mut line = ids
        .take(shown)
        .map(|i| values::iccid(i, mask))
        .collect::<Vec<_>>()
        .join(", ");
    if shown < total {
        let _ = write!(line, " and {} more", total - shown);
    }
    line
}

/// The text being written, with the options and colours it is written with.
struct Writer {
    out: String,
    opts: TextOptions,
    p: Painter,
}

/// Renders the plan for a terminal or a log.
pub fn text(plan: &Plan, opts: TextOptions) -> String {
    let mut w = Writer {
        out: String::new(),
        opts,
        p: Painter { on: opts.color },
    };
    headline(&mut w, plan);
    failed_checks(&mut w, plan);
    summary(&mut w, plan);
    let groups = change_groups(plan);
    risky_changes(&mut w, plan, &groups);
    changes_by_field(&mut w, &groups);
    for list in rows::status_lists(plan, opts.mask) {
        status_list(&mut w, &list);
    }
    if let Some(report) = &plan.drift {
        let title = w.p.paint(BOLD, "Drift");
        let block = super::drift::text_block(report, opts.mask, opts.verbose, &title);
        w.out.push_str(&block);
    }
    if let Some(report) = &plan.since_last_apply {
        let title = w.p.paint(BOLD, super::last_applied::TITLE);
        let block = super::last_applied::text_block(report, opts.mask, opts.verbose, &title);
        w.out.push_str(&block);
    }
    if opts.verbose {
        unmanaged(&mut w, plan);
    }
    guards_and_warnings(&mut w, plan);
    calls(&mut w, plan);
    if opts.verbose {
        every_sim(&mut w, plan);
    }
    footer(&mut w, plan);
    w.out
}

/// The first line: how many SIMs change, and whether the plan is blocked.
fn headline(w: &mut Writer, plan: &Plan) {
    let s = &plan.summary;
    let line = match plan.outcome() {
        Outcome::Success => {
            w.p.paint(BOLD, "No changes: the live fleet matches the spec.")
        }
        Outcome::Blocked => w.p.paint(
            STOP,
            &format!(
                "{} changing; the plan is blocked ({} blocked, {} guard(s) stop it{}).",
                sims(s.sims_changing as usize),
                s.blocked,
                plan.guards.iter().filter(|g| g.stops).count(),
                denying_checks(plan)
            ),
        ),
        _ => w.p.paint(
            BOLD,
            &format!("{} changing.", sims(s.sims_changing as usize)),
        ),
    };
    let _ = writeln!(w.out, "{line}");
}

/// The figures: SIMs, field changes per field, what is left alone, and the calls' cost.
fn summary(w: &mut Writer, plan: &Plan) {
    let s = &plan.summary;
    let out = &mut w.out;
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
    if let Some(usage) = usage_counts(s) {
        let _ = writeln!(out, "  Usage:      {usage}");
    }
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
}

/// `2 SIMs get a limit at or below this month's usage (service stops), 1 SIM a limit within
/// 10 % above it`, or `None` when no new limit comes near a SIM's usage.
pub(crate) fn usage_counts(s: &crate::plan::Summary) -> Option<String> {
    let mut parts = Vec::new();
    if s.usage_cuts > 0 {
        parts.push(format!(
            "{} {} a limit at or below this month's usage (service stops)",
            sims(s.usage_cuts as usize),
            if s.usage_cuts == 1 { "gets" } else { "get" }
        ));
    }
    if s.near_usage > 0 {
        parts.push(format!(
            "{} a limit within 10 % above it",
            sims(s.near_usage as usize)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// One line per kind of risk, counted by SIM (the groups below carry the same flags).
fn risky_changes(w: &mut Writer, plan: &Plan, groups: &[ChangeGroup<'_>]) {
    let risks = rows::risk_rows(plan, groups);
    if risks.is_empty() {
        return;
    }
    let _ = writeln!(w.out, "\n{}", w.p.paint(RISK, "Risky changes"));
    for risk in &risks {
        let _ = writeln!(w.out, "  {}: {}", risk.title(), risk.count());
    }
}

/// Each field's largest change groups, with their source and a few ICCIDs; the others of the
/// field counted in one line.
fn changes_by_field(w: &mut Writer, groups: &[ChangeGroup<'_>]) {
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, "Changes"));
    for of_field in rows::by_field(groups) {
        let capped = rows::cap(of_field, w.opts.verbose, |g| g.sim_count());
        for g in capped.shown {
            change_group(w, g);
        }
        if capped.hidden > 0 {
            let _ = writeln!(
                w.out,
                "  {}: … and {} with other values: --verbose or --format json lists them",
                of_field[0].change.field,
                rows::more_groups(capped.hidden, capped.hidden_sims)
            );
        }
    }
}

/// `field: from → to  × N SIMs  [flags]`, its source and its ICCIDs.
fn change_group(w: &mut Writer, g: &ChangeGroup<'_>) {
    let (c, mask) = (&g.change, w.opts.mask);
    let mut line = format!(
        "  {}: {} → {}",
        c.field,
        values::value(c.field, &c.from, mask),
        w.p.paint(ADD, &values::target(c, mask))
    );
    let _ = write!(line, "  × {}", sims(g.sim_count()));
    for flag in &c.flags {
        let _ = write!(
            line,
            "  {}",
            w.p.paint(RISK, &format!("[{}]", values::flag(*flag)))
        );
    }
    if let Some(used) = values::group_usage(g) {
        let _ = write!(line, "  {used}");
    }
    let _ = writeln!(w.out, "{line}");
    let _ = writeln!(
        w.out,
        "      {} {}",
        w.p.paint(DIM, "from"),
        values::source(&c.source, mask)
    );
    let _ = writeln!(
        w.out,
        "      {}",
        iccid_list(g.iccids(), w.opts.verbose, w.opts.mask)
    );
}

/// A list of SIMs the plan leaves alone: its largest groups, the others counted in one line.
fn status_list(w: &mut Writer, list: &StatusList<'_>) {
    if list.groups.is_empty() {
        return;
    }
    let style = if list.kind == ListKind::Blocked {
        STOP
    } else {
        BOLD
    };
    let _ = writeln!(w.out, "\n{}", w.p.paint(style, list.kind.title()));
    let capped = rows::cap(&list.groups, w.opts.verbose, |g| g.iccids.len());
    for g in capped.shown {
        let _ = writeln!(w.out, "  {}  × {}", g.what, sims(g.iccids.len()));
        if let Some(source) = &g.source {
            let _ = writeln!(w.out, "      {} {source}", w.p.paint(DIM, "from"));
        }
        if let Some(reason) = &g.reason {
            let _ = writeln!(w.out, "      because {reason}");
        }
        let _ = writeln!(
            w.out,
            "      {}",
            iccid_list(g.iccids.iter().copied(), w.opts.verbose, w.opts.mask)
        );
    }
    if capped.hidden > 0 {
        let _ = writeln!(
            w.out,
            "  … and {}: --verbose or --format json lists them",
            rows::more_groups(capped.hidden, capped.hidden_sims)
        );
    }
}

/// With `--verbose`: every SIM no rule or entry applies to, four a line.
fn unmanaged(w: &mut Writer, plan: &Plan) {
    if plan.unmanaged.is_empty() {
        return;
    }
    let title = "Unmanaged (no rule or entry applies; never touched)";
    let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, title));
    for chunk in plan.unmanaged.chunks(4) {
        let shown: Vec<String> = chunk
            .iter()
            .map(|i| values::iccid(i, w.opts.mask))
            .collect();
        let _ = writeln!(w.out, "  {}", shown.join(", "));
    }
}

/// `simfleet check`'s report: a headline, then the checks and waivers as `plan` shows them.
pub fn checks_text(plan: &Plan, mask: bool) -> String {
    checks_text_of(plan, mask, "as they are now")
}

/// The checks of a plan, judged on the SIMs after it (`validate --live`).
pub fn checks_text_after_plan(plan: &Plan, mask: bool) -> String {
    checks_text_of(plan, mask, "after the plan")
}

fn checks_text_of(plan: &Plan, mask: bool, when: &str) -> String {
    let mut w = Writer {
        out: String::new(),
        opts: TextOptions {
            mask,
            ..TextOptions::default()
        },
        p: Painter { on: false },
    };
    let failing = plan.checks.iter().filter(|c| c.failing > 0).count();
    let _ = writeln!(
        w.out,
        "{} check(s) on {} SIMs {when}: {failing} fail{}.",
        plan.checks.len(),
        plan.summary.sims_seen,
        denying_checks(plan)
    );
    failed_checks(&mut w, plan);
    w.out
}

/// `, 2 deny check(s) fail` when any does, for the blocked headline.
pub(super) fn denying_checks(plan: &Plan) -> String {
    let mut out = match plan.checks.iter().filter(|c| c.denies()).count() {
        0 => String::new(),
        n => format!(", {n} deny check(s) fail"),
    };
    match plan.expired_waivers() {
        0 => {}
        n => out.push_str(&format!(", {n} waiver(s) expired")),
    }
    out
}

/// The checks that fail (deny first) with their examples, then the names of those that pass.
fn failed_checks(w: &mut Writer, plan: &Plan) {
    let failed = checks::failed(plan, w.opts.mask);
    if !failed.is_empty() {
        let _ = writeln!(w.out, "\n{}", w.p.paint(STOP, "Failed checks"));
    }
    for f in &failed {
        let style = if f.level == "deny" { STOP } else { RISK };
        let c = f.check;
        let _ = writeln!(
            w.out,
            "  [{}] {} ({}): {}",
            w.p.paint(style, f.level),
            c.name,
            c.location,
            values::text(&c.message, w.opts.mask)
        );
        let _ = writeln!(w.out, "    {}", f.split);
        for line in &f.examples {
            let _ = writeln!(w.out, "    - {line}");
        }
        if f.more > 0 {
            let _ = writeln!(w.out, "    - and {} more", sims(f.more as usize));
        }
    }
    let passed = checks::passed(plan);
    if !passed.is_empty() {
        let _ = writeln!(
            w.out,
            "\n{} {}",
            w.p.paint(BOLD, "Checks passed:"),
            passed.join(", ")
        );
    }
    let waivers = checks::waivers(plan, w.opts.mask);
    if !waivers.is_empty() {
        let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, "Waivers"));
    }
    for (status, line) in &waivers {
        let line = match status {
            WaiverStatus::Expired => w.p.paint(STOP, line),
            WaiverStatus::Expiring => w.p.paint(RISK, line),
            WaiverStatus::Active => line.clone(),
        };
        let _ = writeln!(w.out, "  {line}");
    }
    if !plan.checks.is_empty() {
        w.out.push('\n');
    }
}

/// The guards the plan triggers (and whether they stop it), then the warnings.
fn guards_and_warnings(w: &mut Writer, plan: &Plan) {
    let mask = w.opts.mask;
    if !plan.guards.is_empty() {
        let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, "Guards"));
        for g in &plan.guards {
            let mark = if g.stops {
                w.p.paint(STOP, "stops")
            } else {
                w.p.paint(DIM, "ok")
            };
            let _ = writeln!(w.out, "  [{mark}] {}", values::text(&g.message, mask));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(w.out, "\n{}", w.p.paint(RISK, "Warnings"));
        for warning in &plan.warnings {
            let _ = writeln!(w.out, "  warning: {}", values::text(&warning.message, mask));
        }
    }
}

/// The calls `apply` makes, per phase.
fn calls(w: &mut Writer, plan: &Plan) {
    let lines = action_lines(plan);
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, "Calls"));
    for line in lines {
        let _ = writeln!(w.out, "  {line}");
    }
}

/// With `--verbose`: one line per changing SIM with all its field changes.
fn every_sim(w: &mut Writer, plan: &Plan) {
    if plan.changes.is_empty() {
        return;
    }
    let mask = w.opts.mask;
    let _ = writeln!(w.out, "\n{}", w.p.paint(BOLD, "Every SIM"));
    for sim in &plan.changes {
        let fields: Vec<String> = sim
            .fields()
            .map(|f| {
                format!(
                    "{}{}: {} → {}",
                    if f.implied { "(implied) " } else { "" },
                    f.field,
                    values::value(f.field, &f.from, mask),
                    values::target(&f, mask)
                )
            })
            .collect();
        let _ = writeln!(
            w.out,
            "  {}  {}",
            values::iccid(&sim.iccid, mask),
            fields.join("; ")
        );
    }
}

/// The spec digest and the checksum a reviewer approves.
fn footer(w: &mut Writer, plan: &Plan) {
    let _ = writeln!(w.out, "\nSpec digest:   {}", plan.spec_digest);
    let _ = writeln!(w.out, "Plan checksum: {}", w.p.paint(BOLD, &plan.checksum));
}
