//! The pull-request comment: title with the outcome, summary table, the risky changes called
//! out, then details in collapsed `<details>` sections — always under 65,000 characters (GitHub's
//! comment limit is 65,536), with a note pointing at the JSON artifact when something is cut.
//!
//! Sections are added in order of importance against a character budget, so a million-SIM plan
//! still shows its summary, risks, guards and checksum. Every list shows its largest groups and
//! counts the rest in one line that points at the JSON artifact.

use std::fmt::Write;

use super::checks;
use super::links::{self, SourceLinks};
use super::rows::{self, StatusList};
use super::values::{self, action_lines, change_groups, sims, ChangeGroup};
use super::Plan;
use crate::outcome::Outcome;
use crate::plan::WaiverStatus;

/// The comment never reaches this many characters.
pub const MARKDOWN_LIMIT: usize = 65_000;
/// ICCIDs listed in one collapsed section.
const ICCIDS_PER_SECTION: usize = 50;
/// Failing SIMs listed per check (twenty failing checks then stay a short head).
const CHECK_EXAMPLES: usize = 5;
/// Lines per risk call-out.
const RISK_LINES: usize = 10;

/// The comment being built, and how many sections did not fit (also used by the diff's
/// comment, so both keep the same promise).
pub(super) struct Budget {
    out: String,
    limit: usize,
    omitted: usize,
}

impl Budget {
    /// A comment that starts with `head` and leaves room for `footer` and the note.
    pub(super) fn new(head: String, footer: &str) -> Budget {
        Budget {
            out: head,
            limit: MARKDOWN_LIMIT.saturating_sub(footer.len() + NOTE_RESERVE),
            omitted: 0,
        }
    }

    /// Appends the section if it fits and nothing before it was left out.
    pub(super) fn add(&mut self, section: impl FnOnce() -> String) {
        if self.omitted > 0 {
            self.omitted += 1;
            return;
        }
        let section = section();
        if self.out.len() + section.len() < self.limit {
            self.out.push_str(&section);
        } else {
            self.omitted = 1;
        }
    }
}

/// Options for [`markdown`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Mask ICCIDs and IMEIs (all but the last 4 digits): PR comments may be public.
    pub mask: bool,
}

pub(super) fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn code(text: &str) -> String {
    format!("<code>{}</code>", html(text))
}

pub(super) fn iccids<'s>(ids: impl ExactSizeIterator<Item = &'s str>, mask: bool) -> String {
    let total = ids.len();
    let shown = total.min(ICCIDS_PER_SECTION);
    let mut out = ids
        .take(shown)
        .map(|i| code(&values::iccid(i, mask)))
        .collect::<Vec<_>>()
        .join(", ");
    if shown < total {
        let _ = write!(out, " and {} more", total - shown);
    }
    out
}

fn group_line(g: &ChangeGroup<'_>, mask: bool, links: Option<&SourceLinks>) -> String {
    let c = &g.change;
    let mut line = format!(
        "{}: {} → {} · {} · {}",
        code(c.field.name()),
        html(&values::value(c.field, &c.from, mask)),
        html(&values::target(c, mask)),
        sims(g.sim_count()),
        links::origin_html(links, &c.source, mask)
    );
    if let Some(used) = values::group_usage(g) {
        let _ = write!(line, " · {}", html(&used));
    }
    line
}

/// Reserved for the note that says how many sections were left out.
const NOTE_RESERVE: usize = 300;

/// Renders the plan as a pull-request comment.
pub fn markdown(plan: &Plan, opts: MarkdownOptions) -> String {
    markdown_linked(plan, opts, None)
}

/// [`markdown`] with every spec location a link to its line (see [`SourceLinks`]); the links
/// count against the comment's budget like any other text.
pub fn markdown_linked(plan: &Plan, opts: MarkdownOptions, links: Option<&SourceLinks>) -> String {
    let mask = opts.mask;
    let groups = change_groups(plan);
    let mut head = String::new();
    title(&mut head, plan);
    failed_checks(&mut head, plan, mask, links);
    summary_table(&mut head, plan);
    calls(&mut head, plan);
    risky_changes(&mut head, plan, &groups, mask, links);
    if let Some(report) = &plan.drift {
        head.push_str(&super::drift::markdown_block(report, mask));
    }
    if let Some(report) = &plan.since_last_apply {
        head.push_str(&super::last_applied::markdown_block(report, mask));
    }
    guards_and_warnings(&mut head, plan, mask);
    let footer = format!(
        "\nPlan checksum `{}` · spec digest `{}`\n",
        plan.checksum, plan.spec_digest
    );
    // Collapsed details, in order, as long as they fit; once one does not, the rest are only
    // counted (never formatted), so a million-SIM plan costs no more than a small one here.
    let mut details = Budget::new(head, &footer);
    let [blocked, pending, held, skipped] = rows::status_lists(plan, mask);
    status_list(&mut details, &blocked, mask, links);
    changes_by_field(&mut details, &groups, mask, links);
    for list in [pending, held, skipped] {
        status_list(&mut details, &list, mask, links);
    }
    finish(details, &footer, "the full plan is in the JSON artifact")
}

/// `### 📝 simfleet plan: …`: the outcome in one line.
fn title(head: &mut String, plan: &Plan) {
    let s = &plan.summary;
    let title = match plan.outcome() {
        Outcome::Success => "✅ simfleet plan: no changes".to_string(),
        Outcome::Blocked => format!(
            "⛔ simfleet plan: blocked — {} changing, {} blocked, {} guard(s) stop it{}",
            sims(s.sims_changing as usize),
            s.blocked,
            plan.guards.iter().filter(|g| g.stops).count(),
            super::text::denying_checks(plan)
        ),
        _ => format!(
            "📝 simfleet plan: {} changing",
            sims(s.sims_changing as usize)
        ),
    };
    let _ = writeln!(head, "### {title}\n");
}

/// The figures, as a two-column table.
fn summary_table(head: &mut String, plan: &Plan) {
    let s = &plan.summary;
    let _ = writeln!(head, "| | |\n|---|---:|");
    let _ = writeln!(head, "| SIMs in fleet | {} |", s.sims_total);
    let _ = writeln!(head, "| SIMs read | {} |", s.sims_seen);
    let _ = writeln!(head, "| managed | {} |", s.sims_managed);
    let counted = if s.unmanaged_is_count {
        " (counted)"
    } else {
        ""
    };
    let _ = writeln!(head, "| unmanaged | {}{counted} |", s.sims_unmanaged);
    let _ = writeln!(head, "| **changing** | **{}** |", s.sims_changing);
    let _ = writeln!(head, "| field changes | {} |", s.field_changes);
    for (field, n) in &s.changes_per_field {
        let _ = writeln!(head, "| &nbsp;&nbsp;{} | {n} |", code(field.name()));
    }
    if s.implied_changes > 0 {
        let _ = writeln!(head, "| implied status changes | {} |", s.implied_changes);
    }
    if s.usage_cuts > 0 {
        let _ = writeln!(
            head,
            "| ⚠️ **limit at or below this month's usage** (service stops) | **{}** |",
            s.usage_cuts
        );
    }
    if s.near_usage > 0 {
        let _ = writeln!(
            head,
            "| limit within 10 % above this month's usage | {} |",
            s.near_usage
        );
    }
    let _ = writeln!(head, "| blocked | {} |", s.blocked);
    let _ = writeln!(
        head,
        "| pending / held / skipped | {} / {} / {} |",
        s.pending, s.held, s.skipped
    );
    let _ = writeln!(
        head,
        "| API calls (lower bound) | {} ({}) |",
        s.api_calls, s.lower_bound
    );
    let _ = writeln!(head, "| HTTP requests | {} |", s.http_requests);
}

/// The calls `apply` makes, per phase.
fn calls(head: &mut String, plan: &Plan) {
    let calls = action_lines(plan);
    if calls.is_empty() {
        return;
    }
    let _ = writeln!(head, "\n**Calls**, in the order apply makes them:\n");
    for line in calls {
        let _ = writeln!(head, "- {line}");
    }
}

/// Risky changes, by flag, counted by SIM, each with its largest groups.
fn risky_changes(
    head: &mut String,
    plan: &Plan,
    groups: &[ChangeGroup<'_>],
    mask: bool,
    links: Option<&SourceLinks>,
) {
    let risks = rows::risk_rows(plan, groups);
    if risks.is_empty() {
        return;
    }
    let _ = writeln!(head, "\n#### ⚠️ Risky changes\n");
    for risk in &risks {
        let _ = writeln!(head, "- **{}**: {}", risk.title(), risk.count());
        for g in risk.groups.iter().take(RISK_LINES) {
            let _ = writeln!(head, "  - {}", group_line(g, mask, links));
        }
        let rest = &risk.groups[risk.groups.len().min(RISK_LINES)..];
        if !rest.is_empty() {
            let rest_sims = rest.iter().map(|g| g.sim_count()).sum();
            let more = rows::more_groups(rest.len(), rest_sims);
            let _ = writeln!(head, "  - … and {more}");
        }
    }
}

/// The checks that fail (deny first), above everything but the title, then those that pass.
fn failed_checks(head: &mut String, plan: &Plan, mask: bool, links: Option<&SourceLinks>) {
    let failed = checks::failed(plan, mask);
    if !failed.is_empty() {
        let _ = writeln!(head, "#### Failed checks\n");
    }
    for f in &failed {
        let c = f.check;
        let mark = if f.level == "deny" { "⛔" } else { "⚠️" };
        let _ = writeln!(
            head,
            "- {mark} **{}** {} (<code>{}</code>): {} — {}",
            f.level,
            code(&c.name),
            links::location_html(links, &c.location, false),
            html(&values::text(&c.message, mask)),
            html(&f.split)
        );
        for (line, example) in f.examples.iter().zip(&c.examples).take(CHECK_EXAMPLES) {
            let _ = writeln!(head, "  - {}", example_html(line, example, mask, links));
        }
        let more = f.more as usize + f.examples.len().saturating_sub(CHECK_EXAMPLES);
        if more > 0 {
            let _ = writeln!(head, "  - … and {} more", sims(more));
        }
    }
    let passed = checks::passed(plan);
    if !passed.is_empty() {
        let names: Vec<String> = passed.iter().map(|n| code(n)).collect();
        let _ = writeln!(head, "\n✅ Checks passed: {}", names.join(", "));
    }
    let waivers = checks::waivers(plan, mask);
    if !waivers.is_empty() {
        let _ = writeln!(head, "\n**Waivers**\n");
    }
    for ((status, line), waiver) in waivers.iter().zip(&plan.waivers) {
        let mark = match status {
            WaiverStatus::Expired => "⛔",
            WaiverStatus::Expiring => "⚠️",
            WaiverStatus::Active => "ℹ️",
        };
        let mut line = html(line);
        if links.is_some() {
            // The waiver's location, written `(file:line:col)` in its line, becomes a link.
            let plain = format!("({})", html(&waiver.location));
            let linked = format!("({})", links::location_html(links, &waiver.location, false));
            line = line.replacen(&plain, &linked, 1);
        }
        let _ = writeln!(head, "- {mark} {line}");
    }
    if !failed.is_empty() || !passed.is_empty() {
        head.push('\n');
    }
}

/// One failing SIM of a check as HTML: the source that set its value linked when there are
/// links (the line ends in `, set by SOURCE`).
fn example_html(
    line: &str,
    example: &crate::plan::CheckExample,
    mask: bool,
    links: Option<&SourceLinks>,
) -> String {
    let tail = example
        .source
        .as_ref()
        .map(|s| format!(", set by {}", values::source(s, mask)));
    match (links, example.source.as_ref(), tail) {
        (Some(_), Some(source), Some(tail)) if line.ends_with(&tail) => format!(
            "{}, set by {}",
            html(&line[..line.len() - tail.len()]),
            links::origin_html(links, source, mask)
        ),
        _ => html(line),
    }
}

/// The guards the plan triggers (and whether they stop it), then the warnings.
fn guards_and_warnings(head: &mut String, plan: &Plan, mask: bool) {
    if !plan.guards.is_empty() {
        let _ = writeln!(head, "\n#### Guards\n");
        for g in &plan.guards {
            let mark = if g.stops { "⛔" } else { "ℹ️" };
            let _ = writeln!(head, "- {mark} {}", html(&values::text(&g.message, mask)));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(head, "\n#### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(head, "- ⚠️ {}", html(&values::text(&w.message, mask)));
        }
    }
}

/// A collapsed section per change group: each field's largest groups, the others counted.
fn changes_by_field(
    details: &mut Budget,
    groups: &[ChangeGroup<'_>],
    mask: bool,
    links: Option<&SourceLinks>,
) {
    if groups.is_empty() {
        return;
    }
    details.add(|| "\n#### Changes\n".to_string());
    for of_field in rows::by_field(groups) {
        let capped = rows::cap(of_field, false, |g| g.sim_count());
        for g in capped.shown {
            details.add(|| {
                let mut flags = String::new();
                for f in &g.change.flags {
                    let _ = write!(flags, " · ⚠️ {}", values::flag(*f));
                }
                format!(
                    "<details><summary>{}{flags}</summary>\n\n{}\n\n</details>\n",
                    group_line(g, mask, links),
                    iccids(g.iccids(), mask)
                )
            });
        }
        if capped.hidden > 0 {
            details.add(|| {
                format!(
                    "\n{}: … and {} with other values: the full plan is in the JSON artifact\n\n",
                    code(of_field[0].change.field.name()),
                    rows::more_groups(capped.hidden, capped.hidden_sims)
                )
            });
        }
    }
}

/// A titled list of collapsed sections, one per group of SIMs the plan leaves alone: the
/// largest groups, the others counted.
fn status_list(
    details: &mut Budget,
    list: &StatusList<'_>,
    mask: bool,
    links: Option<&SourceLinks>,
) {
    if list.groups.is_empty() {
        return;
    }
    details.add(|| format!("\n#### {}\n", list.kind.title()));
    let capped = rows::cap(&list.groups, false, |g| g.iccids.len());
    for g in capped.shown {
        details.add(|| {
            // Read like a change group: what, how many, where from, then why.
            let mut summary = html(&format!("{} · {}", g.what, sims(g.iccids.len())));
            if let Some(source) = &g.source {
                let _ = write!(summary, " · {}", links::source_text_html(links, source));
            }
            if let Some(reason) = &g.reason {
                let _ = write!(summary, "{}", html(&format!(": {reason}")));
            }
            format!(
                "<details><summary>{summary}</summary>\n\n{}\n\n</details>\n",
                iccids(g.iccids.iter().copied(), mask)
            )
        });
    }
    if capped.hidden > 0 {
        details.add(|| {
            format!(
                "\n… and {}: the full plan is in the JSON artifact\n",
                rows::more_groups(capped.hidden, capped.hidden_sims)
            )
        });
    }
}

/// The note on what was left out (`whole` says where to read everything), the cut that keeps
/// the promise, and the footer.
pub(super) fn finish(details: Budget, footer: &str, whole: &str) -> String {
    let Budget {
        mut out, omitted, ..
    } = details;
    if omitted > 0 {
        let _ = writeln!(
            out,
            "\n_{omitted} more sections are not shown to keep this comment under {MARKDOWN_LIMIT} characters: {whole}._"
        );
    }
    // The head alone can only outgrow the limit through very many risk lines or guards, which
    // are bounded; cut on a char boundary all the same so the promise always holds.
    if out.len() + footer.len() >= MARKDOWN_LIMIT {
        let mut cut = MARKDOWN_LIMIT - footer.len() - NOTE_RESERVE;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&format!(
            "\n\n_Cut to stay under the comment limit: {whole}._\n"
        ));
    }
    out.push_str(footer);
    out
}
