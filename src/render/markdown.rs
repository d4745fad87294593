//! The pull-request comment: title with the outcome, summary table, the risky changes called
//! out, then details in collapsed `<details>` sections — always under 65,000 characters (GitHub's
//! comment limit is 65,536), with a note pointing at the JSON artifact when something is cut.
//!
//! Sections are added in order of importance against a character budget, so a million-SIM plan
//! still shows its summary, risks, guards and checksum.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::values::{self, action_lines, change_groups, sims, ChangeGroup};
use super::Plan;
use crate::outcome::Outcome;
use crate::plan::status_label;
use crate::plan::RiskFlag;

/// The comment never reaches this many characters.
pub const MARKDOWN_LIMIT: usize = 65_000;
/// ICCIDs listed in one collapsed section.
const ICCIDS_PER_SECTION: usize = 50;
/// Groups shown per list of blocked, pending, held or skipped SIMs, so they leave room for the
/// changes.
const GROUPS_PER_LIST: usize = 20;
/// Lines per risk call-out.
const RISK_LINES: usize = 10;

/// The comment being built, and how many sections did not fit.
struct Budget {
    out: String,
    limit: usize,
    omitted: usize,
}

impl Budget {
    /// Appends the section if it fits and nothing before it was left out.
    fn add(&mut self, section: impl FnOnce() -> String) {
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

/// Adds a titled list of collapsed sections, one per distinct key, with the ICCIDs under it.
fn keyed(details: &mut Budget, title: &str, rows: Vec<(String, &str)>, mask: bool) {
    if rows.is_empty() {
        return;
    }
    let mut grouped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (k, i) in rows {
        grouped.entry(k).or_default().push(i);
    }
    details.add(|| format!("\n#### {title}\n"));
    let more = grouped.len().saturating_sub(GROUPS_PER_LIST);
    for (k, ids) in grouped.into_iter().take(GROUPS_PER_LIST) {
        details.add(|| {
            format!(
                "<details><summary>{} · {}</summary>\n\n{}\n\n</details>\n",
                html(&k),
                sims(ids.len()),
                iccids(&ids, mask)
            )
        });
    }
    if more > 0 {
        details.add(|| format!("\n… and {more} more groups (see the JSON artifact)\n"));
    }
}

/// Options for [`markdown`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Mask ICCIDs and IMEIs (all but the last 4 digits): PR comments may be public.
    pub mask: bool,
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", html(text))
}

fn iccids(ids: &[&str], mask: bool) -> String {
    let shown = ids.len().min(ICCIDS_PER_SECTION);
    let mut out = ids[..shown]
        .iter()
        .map(|i| code(&values::iccid(i, mask)))
        .collect::<Vec<_>>()
        .join(", ");
    if shown < ids.len() {
        let _ = write!(out, " and {} more", ids.len() - shown);
    }
    out
}

fn group_line(g: &ChangeGroup<'_>, mask: bool) -> String {
    let c = g.change;
    format!(
        "{}: {} → {} · {} · {}",
        code(c.field.name()),
        html(&values::value(c.field, &c.from, mask)),
        html(&values::value(c.field, &c.to, mask)),
        sims(g.iccids.len()),
        html(&values::source(&c.source, mask))
    )
}

/// Renders the plan as a pull-request comment.
pub fn markdown(plan: &Plan, opts: MarkdownOptions) -> String {
    let s = &plan.summary;
    let mask = opts.mask;
    let mut head = String::new();

    let title = match plan.outcome() {
        Outcome::Success => "✅ simfleet plan: no changes".to_string(),
        Outcome::Blocked => format!(
            "⛔ simfleet plan: blocked — {} changing, {} blocked, {} guard(s) stop it",
            sims(s.sims_changing as usize),
            s.blocked,
            plan.guards.iter().filter(|g| g.stops).count()
        ),
        _ => format!(
            "📝 simfleet plan: {} changing",
            sims(s.sims_changing as usize)
        ),
    };
    let _ = writeln!(head, "### {title}\n");
    let _ = writeln!(head, "| | |\n|---|---:|");
    let _ = writeln!(head, "| SIMs in fleet | {} |", s.sims_total);
    let _ = writeln!(head, "| SIMs read | {} |", s.sims_seen);
    let _ = writeln!(head, "| managed | {} |", s.sims_managed);
    let _ = writeln!(
        head,
        "| unmanaged | {}{} |",
        s.sims_unmanaged,
        if s.unmanaged_is_count {
            " (counted)"
        } else {
            ""
        }
    );
    let _ = writeln!(head, "| **changing** | **{}** |", s.sims_changing);
    let _ = writeln!(head, "| field changes | {} |", s.field_changes);
    for (field, n) in &s.changes_per_field {
        let _ = writeln!(head, "| &nbsp;&nbsp;{} | {n} |", code(field.name()));
    }
    if s.implied_changes > 0 {
        let _ = writeln!(head, "| implied status changes | {} |", s.implied_changes);
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

    let calls = action_lines(plan);
    if !calls.is_empty() {
        let _ = writeln!(head, "\n**Calls**, in the order apply makes them:\n");
        for line in calls {
            let _ = writeln!(head, "- {line}");
        }
    }

    let groups = change_groups(plan);

    // Risky changes, by flag, each with its largest groups.
    let mut risky: BTreeMap<RiskFlag, Vec<&ChangeGroup<'_>>> = BTreeMap::new();
    for g in &groups {
        for flag in &g.change.flags {
            risky.entry(*flag).or_default().push(g);
        }
    }
    if !risky.is_empty() {
        let _ = writeln!(head, "\n#### ⚠️ Risky changes\n");
        for (flag, gs) in &risky {
            let total: usize = gs.iter().map(|g| g.iccids.len()).sum();
            let title = match flag {
                RiskFlag::StatusCut => "Status cuts (service stops)",
                RiskFlag::Irreversible => "Irreversible (retired)",
                RiskFlag::ImeiUnlock => "IMEI unlocks",
                RiskFlag::LoweredLimit => "Lowered limits",
                RiskFlag::RestoresService => "Service restored (implied 20 → 2)",
            };
            let _ = writeln!(head, "- **{title}**: {}", sims(total));
            let mut sorted = gs.clone();
            sorted.sort_by_key(|g| std::cmp::Reverse(g.iccids.len()));
            for g in sorted.iter().take(RISK_LINES) {
                let _ = writeln!(head, "  - {}", group_line(g, mask));
            }
            if sorted.len() > RISK_LINES {
                let _ = writeln!(head, "  - … and {} more groups", sorted.len() - RISK_LINES);
            }
        }
    }
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

    let mut footer = String::new();
    let _ = writeln!(
        footer,
        "\nPlan checksum `{}` · spec digest `{}`",
        plan.checksum, plan.spec_digest
    );

    // Collapsed details, in order, as long as they fit; once one does not, the rest are only
    // counted (never formatted), so a million-SIM plan costs no more than a small one here.
    const NOTE_RESERVE: usize = 300;
    let mut details = Budget {
        out: head,
        limit: MARKDOWN_LIMIT.saturating_sub(footer.len() + NOTE_RESERVE),
        omitted: 0,
    };
    keyed(
        &mut details,
        "Blocked",
        plan.blocked
            .iter()
            .map(|b| {
                (
                    format!(
                        "{}: {} → {} ({}): {}",
                        b.field,
                        values::value(b.field, &b.from, mask),
                        values::value(b.field, &b.to, mask),
                        values::source(&b.source, mask),
                        values::text(&b.reason, mask)
                    ),
                    b.iccid.as_str(),
                )
            })
            .collect(),
        mask,
    );
    if !groups.is_empty() {
        details.add(|| "\n#### Changes\n".to_string());
    }
    for g in &groups {
        details.add(|| {
            let mut flags = String::new();
            for f in &g.change.flags {
                let _ = write!(flags, " · ⚠️ {}", values::flag(*f));
            }
            format!(
                "<details><summary>{}{flags}</summary>\n\n{}\n\n</details>\n",
                group_line(g, mask),
                iccids(&g.iccids, mask)
            )
        });
    }
    keyed(
        &mut details,
        "Pending",
        plan.pending
            .iter()
            .map(|x| {
                (
                    format!(
                        "{} → {} ({})",
                        status_label(x.statusid),
                        status_label(x.desired),
                        values::source(&x.source, mask)
                    ),
                    x.iccid.as_str(),
                )
            })
            .collect(),
        mask,
    );
    keyed(
        &mut details,
        "Held",
        plan.held
            .iter()
            .map(|x| (values::text(&x.reason, mask), x.iccid.as_str()))
            .collect(),
        mask,
    );
    keyed(
        &mut details,
        "Skipped (terminal)",
        plan.skipped
            .iter()
            .map(|x| (status_label(x.statusid), x.iccid.as_str()))
            .collect(),
        mask,
    );
    let Budget {
        mut out, omitted, ..
    } = details;
    if omitted > 0 {
        let _ = writeln!(
            out,
            "\n_{omitted} more sections are not shown to keep this comment under {MARKDOWN_LIMIT} characters: the full plan is in the JSON artifact._"
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
        out.push_str(
            "\n\n_Cut to stay under the comment limit: the full plan is in the JSON artifact._\n",
        );
    }
    out.push_str(&footer);
    out
}
