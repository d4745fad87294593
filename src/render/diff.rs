//! `simfleet diff` as text, markdown and JSON: a [`PlanDiff`] grouped like a plan.
//!
//! SIMs are grouped by what they share (section, field, old and new target and source, or the
//! live values that moved), largest group first within each field, and each field shows its
//! [`GROUPS_PER_LIST`] largest groups with the rest counted, as the plan's lists do
//! (`rows::cap`). Sections: changed (targets differ), added, removed, and the fleet that moved
//! underneath; then guards and checks whose result changed, other parts that differ, and the
//! call count before and after. Markdown keeps the comment's budget (`markdown::Budget`) and
//! links sources like the plan's comment ([`SourceLinks`]).

use std::fmt::Write;

use foldhash::{HashMap, HashMapExt};

use super::links::{self, SourceLinks};
use super::markdown::{code, finish, html, iccids as md_iccids, Budget};
use super::rows;
use super::text::iccid_list;
use super::values::{self, sims};
use crate::plan::diff::{PlanDiff, SimDiffKind};
use crate::plan::{FieldChange, FieldValue, Origin};
use crate::spec::Field;

/// Where a group of SIMs is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Section {
    /// Both plans change the field, to another value or from another source.
    Changed,
    Added,
    Removed,
    /// The live value read for the field moved (or, with no field, other live values did).
    Moved,
}

impl Section {
    fn title(self) -> &'static str {
        match self {
            Section::Changed => "Changed (both plans change these SIMs, differently)",
            Section::Added => "Added (only the new plan changes these SIMs)",
            Section::Removed => "Removed (only the old plan changed these SIMs)",
            Section::Moved => "Fleet moved underneath (live values differ between the two reads)",
        }
    }
}

/// What a group of SIMs shares: section, field, old and new (from, to, source).
type Key<'a> = (
    Section,
    Option<Field>,
    [Option<&'a FieldValue>; 4],
    Option<&'a Origin>,
    Option<&'a Origin>,
);

/// SIMs that differ the same way.
struct Group<'a> {
    section: Section,
    field: Option<Field>,
    old: Option<&'a FieldChange>,
    new: Option<&'a FieldChange>,
    iccids: Vec<&'a str>,
}

/// Groups every field that differs, in section and field order, largest group first.
fn groups<'a>(d: &'a PlanDiff<'a>) -> Vec<Group<'a>> {
    let mut by_key: HashMap<Key<'a>, Group<'a>> = HashMap::new();
    let mut add =
        |section, field, old: Option<&'a FieldChange>, new: Option<&'a FieldChange>, iccid| {
            let side = |c: Option<&'a FieldChange>, with_from: bool| match c {
                Some(c) => (
                    (with_from || section == Section::Moved).then_some(&c.from),
                    Some(&c.to),
                    Some(&*c.source),
                ),
                None => (None, None, None),
            };
            let one_sided = old.is_none() || new.is_none();
            let (of, ot, os) = side(old, one_sided);
            let (nf, nt, ns) = side(new, one_sided);
            let key: Key<'a> = if section == Section::Moved {
                (section, field, [of, None, nf, None], None, None)
            } else {
                (section, field, [of, ot, nf, nt], os, ns)
            };
            by_key
                .entry(key)
                .or_insert_with(|| Group {
                    section,
                    field,
                    old,
                    new,
                    iccids: Vec::new(),
                })
                .iccids
                .push(iccid);
        };
    for sim in &d.sims {
        let section = match sim.kind {
            SimDiffKind::Added => Section::Added,
            SimDiffKind::Removed => Section::Removed,
            SimDiffKind::Changed | SimDiffKind::Moved => Section::Changed,
        };
        let mut field_moved = false;
        for f in &sim.fields {
            if f.target_changed() {
                add(
                    section,
                    Some(f.field),
                    f.old.as_ref(),
                    f.new.as_ref(),
                    sim.iccid,
                );
            }
            if f.from_moved() {
                field_moved = true;
                add(
                    Section::Moved,
                    Some(f.field),
                    f.old.as_ref(),
                    f.new.as_ref(),
                    sim.iccid,
                );
            }
        }
        if sim.live_moved && !field_moved {
            add(Section::Moved, None, None, None, sim.iccid);
        }
    }
    let mut out: Vec<(String, Group<'a>)> = by_key
        .into_values()
        .map(|g| (describe(&g, false), g))
        .collect();
    out.sort_by(|(a_text, a), (b_text, b)| {
        (a.section, a.field, std::cmp::Reverse(a.iccids.len()))
            .cmp(&(b.section, b.field, std::cmp::Reverse(b.iccids.len())))
            .then_with(|| a_text.cmp(b_text))
    });
    out.into_iter().map(|(_, g)| g).collect()
}

/// `status: Issued (3) → Activated (2)` (one plan), `monthly_data_limit: 500MB → 1GB` (both),
/// `monthly_data_limit: live 100MB, now 200MB` (moved), `other live values`.
fn describe(g: &Group<'_>, mask: bool) -> String {
    let Some(field) = g.field else {
        return "other live values".to_string();
    };
    let v = |value: &FieldValue| values::value(field, value, mask);
    let name = field.name();
    match (g.section, g.old, g.new) {
        (Section::Moved, Some(o), Some(n)) => {
            format!(
                "{name}: live value was {}, is now {}",
                v(&o.from),
                v(&n.from)
            )
        }
        (_, Some(o), Some(n)) => format!("{name}: was → {}, now → {}", v(&o.to), v(&n.to)),
        (_, Some(c), None) | (_, None, Some(c)) => {
            format!("{name}: {} → {}", v(&c.from), v(&c.to))
        }
        (_, None, None) => name.to_string(),
    }
}

/// The sources of a group: `from SOURCE`, or `was from A, now from B`; nothing for the moved.
/// `s` writes one source (as text, or as linked HTML).
fn sources(g: &Group<'_>, s: impl Fn(&FieldChange) -> String) -> Option<String> {
    match (g.section, g.old, g.new) {
        (Section::Moved, ..) => None,
        (_, Some(o), Some(n)) if o.source == n.source => Some(format!("from {}", s(o))),
        (_, Some(o), Some(n)) => Some(format!("was from {}, now from {}", s(o), s(n))),
        (Section::Changed, Some(o), None) => {
            Some(format!("was from {}; the new plan leaves it", s(o)))
        }
        (Section::Changed, None, Some(n)) => {
            Some(format!("now from {}; the old plan left it", s(n)))
        }
        (_, Some(c), None) | (_, None, Some(c)) => Some(format!("from {}", s(c))),
        (_, None, None) => None,
    }
}

/// The headline: equivalent, or what differs in numbers.
fn headline(d: &PlanDiff<'_>) -> String {
    if d.equivalent {
        return "The plans are equivalent: the same changes, guards, checks and calls.".to_string();
    }
    let c = &d.counts;
    let mut line = format!(
        "The plans differ: {} changed, {} added, {} removed",
        sims(c.changed as usize),
        c.added,
        c.removed
    );
    if c.live_moved > 0 {
        let _ = write!(
            line,
            "; the fleet moved under {}",
            sims(c.live_moved as usize)
        );
    }
    line.push('.');
    line
}

/// `old: sha256:… (generated …), 3 SIMs changing, 4 API calls in 5 HTTP requests`.
fn side_line(side: &crate::plan::diff::PlanSide<'_>) -> String {
    let generated = side
        .generated_at
        .map(|t| format!(", made {t}"))
        .unwrap_or_default();
    format!(
        "{}{generated}: {} changing, {} API calls in {} HTTP requests",
        side.checksum,
        sims(side.sims_changing as usize),
        side.api_calls,
        side.http_requests
    )
}

/// Guards and checks whose result changed, and the other parts that differ, as lines.
fn result_lines(d: &PlanDiff<'_>, mask: bool) -> (Vec<String>, Vec<(String, String)>) {
    let guard = |g: Option<&crate::plan::GuardResult>| match g {
        None => "not triggered".to_string(),
        Some(g) if g.stops => "stops the plan".to_string(),
        Some(_) => "triggered, does not stop".to_string(),
    };
    let guards = d
        .guards
        .iter()
        .map(|g| {
            let message = g
                .new
                .or(g.old)
                .map(|r| values::text(&r.message, mask))
                .unwrap_or_default();
            format!(
                "{}: {} → {} ({message})",
                guard_name(g.guard),
                guard(g.old),
                guard(g.new)
            )
        })
        .collect();
    let check = |c: Option<&crate::plan::CheckResult>| match c {
        None => "not in the plan".to_string(),
        Some(c) if c.failing == 0 => {
            format!("passes ({} waived)", c.waived).replace(" (0 waived)", "")
        }
        Some(c) => format!("{} failing", c.failing),
    };
    let checks = d
        .checks
        .iter()
        .map(|c| {
            let location = c
                .new
                .or(c.old)
                .map(|r| r.location.clone())
                .unwrap_or_default();
            let level = c.new.or(c.old).map_or("", |r| match r.level {
                crate::spec::CheckLevel::Deny => "deny",
                crate::spec::CheckLevel::Warn => "warn",
            });
            (
                format!(
                    "{} [{level}]: {} → {}",
                    values::text(c.name, mask),
                    check(c.old),
                    check(c.new)
                ),
                location,
            )
        })
        .collect();
    (guards, checks)
}

fn guard_name(kind: crate::plan::GuardKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Options of [`diff_text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffTextOptions {
    /// Every group and every ICCID.
    pub verbose: bool,
    pub mask: bool,
}

/// The diff for a terminal or a job log.
pub fn diff_text(d: &PlanDiff<'_>, opts: DiffTextOptions) -> String {
    let mask = opts.mask;
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(d));
    let _ = writeln!(out, "  old: {}", side_line(&d.old));
    let _ = writeln!(out, "  new: {}", side_line(&d.new));
    let _ = writeln!(
        out,
        "  Calls: {} → {} API calls, {} → {} HTTP requests",
        d.old.api_calls, d.new.api_calls, d.old.http_requests, d.new.http_requests
    );
    if d.old.spec_digest != d.new.spec_digest {
        let _ = writeln!(
            out,
            "  Spec digest: {} → {}",
            d.old.spec_digest, d.new.spec_digest
        );
    }
    let all = groups(d);
    for section in [
        Section::Changed,
        Section::Added,
        Section::Removed,
        Section::Moved,
    ] {
        let of_section: Vec<&Group<'_>> = all.iter().filter(|g| g.section == section).collect();
        if of_section.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", section.title());
        for of_field in of_section.chunk_by(|a, b| a.field == b.field) {
            let capped = rows::cap(of_field, opts.verbose, |g| g.iccids.len());
            for g in capped.shown {
                let _ = writeln!(out, "  {}  × {}", describe(g, mask), sims(g.iccids.len()));
                if let Some(sources) = sources(g, |c| values::source(&c.source, mask)) {
                    let _ = writeln!(out, "      {sources}");
                }
                let _ = writeln!(
                    out,
                    "      {}",
                    iccid_list(g.iccids.iter().copied(), opts.verbose, opts.mask)
                );
            }
            if capped.hidden > 0 {
                let _ = writeln!(
                    out,
                    "  … and {} (--verbose or --format json lists them)",
                    rows::more_groups(capped.hidden, capped.hidden_sims)
                );
            }
        }
    }
    let (guards, checks) = result_lines(d, mask);
    if !guards.is_empty() {
        let _ = writeln!(out, "\nGuards whose result changed");
        for line in guards {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !checks.is_empty() {
        let _ = writeln!(out, "\nChecks whose result changed");
        for (line, location) in checks {
            let _ = writeln!(out, "  {line}  ({location})");
        }
    }
    if !d.parts.is_empty() {
        let parts: Vec<&str> = d.parts.iter().map(|p| p.name()).collect();
        let _ = writeln!(
            out,
            "\nAlso different: {} (`simfleet show` either plan for the lists).",
            parts.join(", ")
        );
    }
    out
}

/// The diff as a pull-request comment or job summary, under the comment's budget.
pub fn diff_markdown(d: &PlanDiff<'_>, mask: bool, links: Option<&SourceLinks>) -> String {
    let mut head = String::new();
    let mark = if d.equivalent { "✅" } else { "🔀" };
    let _ = writeln!(head, "### {mark} simfleet diff: {}\n", html(&headline(d)));
    let _ = writeln!(head, "| | old | new |\n|---|---|---|");
    let _ = writeln!(
        head,
        "| checksum | `{}` | `{}` |",
        d.old.checksum, d.new.checksum
    );
    for (what, old, new) in [
        ("SIMs changing", d.old.sims_changing, d.new.sims_changing),
        ("field changes", d.old.field_changes, d.new.field_changes),
        ("API calls", d.old.api_calls, d.new.api_calls),
        ("HTTP requests", d.old.http_requests, d.new.http_requests),
    ] {
        let _ = writeln!(head, "| {what} | {old} | {new} |");
    }
    if d.old.spec_digest != d.new.spec_digest {
        let _ = writeln!(
            head,
            "| spec digest | `{}` | `{}` |",
            d.old.spec_digest, d.new.spec_digest
        );
    }
    let (guards, checks) = result_lines(d, mask);
    if !guards.is_empty() {
        let _ = writeln!(head, "\n#### Guards whose result changed\n");
        for line in guards {
            let _ = writeln!(head, "- {}", html(&line));
        }
    }
    if !checks.is_empty() {
        let _ = writeln!(head, "\n#### Checks whose result changed\n");
        for (line, location) in checks {
            let _ = writeln!(
                head,
                "- {} (<code>{}</code>)",
                html(&line),
                links::location_html(links, &location, false)
            );
        }
    }
    if !d.parts.is_empty() {
        let parts: Vec<String> = d.parts.iter().map(|p| code(p.name())).collect();
        let _ = writeln!(head, "\nAlso different: {}.", parts.join(", "));
    }
    let footer = format!(
        "\nOld plan `{}` · new plan `{}`\n",
        d.old.checksum, d.new.checksum
    );
    let mut details = Budget::new(head, &footer);
    let all = groups(d);
    for section in [
        Section::Changed,
        Section::Added,
        Section::Removed,
        Section::Moved,
    ] {
        let of_section: Vec<&Group<'_>> = all.iter().filter(|g| g.section == section).collect();
        if of_section.is_empty() {
            continue;
        }
        details.add(|| format!("\n#### {}\n", section.title()));
        for of_field in of_section.chunk_by(|a, b| a.field == b.field) {
            let capped = rows::cap(of_field, false, |g| g.iccids.len());
            for g in capped.shown {
                details.add(|| {
                    let mut summary =
                        format!("{} · {}", html(&describe(g, mask)), sims(g.iccids.len()));
                    let linked = |c: &FieldChange| links::origin_html(links, &c.source, mask);
                    if let Some(sources) = sources(g, linked) {
                        let _ = write!(summary, " · {sources}");
                    }
                    format!(
                        "<details><summary>{summary}</summary>\n\n{}\n\n</details>\n",
                        md_iccids(g.iccids.iter().copied(), mask)
                    )
                });
            }
            if capped.hidden > 0 {
                details.add(|| {
                    format!(
                        "\n… and {}: the full diff is in `simfleet diff --format json`\n",
                        rows::more_groups(capped.hidden, capped.hidden_sims)
                    )
                });
            }
        }
    }
    finish(
        details,
        &footer,
        "the full diff is in `simfleet diff --format json`",
    )
}

/// The diff as pretty JSON (see `schema/diff.schema.json`); the caller masks it with `--mask`.
pub fn diff_json(d: &PlanDiff<'_>) -> String {
    let mut text = serde_json::to_string_pretty(d).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`diff_json`]'s output.
pub fn diff_schema() -> String {
    let schema = schemars::schema_for!(PlanDiff<'static>);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_schema_file_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/diff.schema.json");
        let generated = diff_schema();
        if std::env::var_os("SIMFLEET_UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).expect("write schema/diff.schema.json");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "schema/diff.schema.json is stale: run `SIMFLEET_UPDATE_SCHEMAS=1 cargo test --lib render::diff::tests::diff_schema_file_is_current`"
        );
    }
}
