//! Text, markdown and JSON of `simfleet explain`'s [`ExplainReport`], and its JSON Schema.
//!
//! Pure functions of the report, like the plan's renderers: values read as the spec writes
//! them (`values`), sources as `file:line:col (rule …)`, and with `mask` every identifier keeps
//! only its last 4 digits (the output layer masks again on the way out).

use std::fmt::Write;

use crate::plan::explain::{
    provider_name, status_label, ClosestRule, Decision, ExplainReport, ExplainSource, Explanation,
    FieldExplanation, Lost, Managed, OtherValue,
};
use crate::plan::{Field, FieldValue, Origin};

use super::links::SourceLinks;
use super::values;

/// How an explanation is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainStyle {
    Text,
    Markdown,
}

/// The report as text (terminals, logs) or markdown (a pull-request comment, where `links`
/// makes each spec location a link to its line).
pub fn explain_text(
    report: &ExplainReport,
    style: ExplainStyle,
    mask: bool,
    links: Option<&SourceLinks>,
) -> String {
    let mut out = String::new();
    for (i, sim) in report.sims.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let r = Renderer {
            out: &mut out,
            style,
            mask,
            from_plan: report.source == ExplainSource::Plan,
            links: links.filter(|_| style == ExplainStyle::Markdown),
        };
        r.sim(sim);
    }
    out
}

/// The report as pretty JSON (masked by the output layer, structurally, with `--mask`).
pub fn explain_json(report: &ExplainReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`explain_json`]'s output (`schema/explain.schema.json`).
pub fn explain_schema() -> String {
    let schema = schemars::schema_for!(ExplainReport);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

struct Renderer<'o> {
    out: &'o mut String,
    style: ExplainStyle,
    mask: bool,
    from_plan: bool,
    /// Markdown only.
    links: Option<&'o SourceLinks>,
}

impl Renderer<'_> {
    fn md(&self) -> bool {
        self.style == ExplainStyle::Markdown
    }

    /// `file:line:col (rule name)`, its location a link in markdown when links are set.
    fn source(&self, origin: &Origin) -> String {
        match self.links {
            Some(links) => links.origin_html(origin, self.mask),
            None => values::source(origin, self.mask),
        }
    }

    /// Code in markdown, plain in text.
    fn code(&self, text: &str) -> String {
        if self.md() {
            format!("`{}`", text.replace('`', "'"))
        } else {
            text.to_string()
        }
    }

    /// `live:` padded to line values up in text; plain in markdown.
    fn label(&self, name: &str) -> String {
        if self.md() {
            format!("{name} ")
        } else {
            format!("{name:<10}")
        }
    }

    fn line(&mut self, indent: usize, text: &str) {
        if self.md() {
            let bullet = if indent == 0 { "" } else { "- " };
            let pad = "  ".repeat(indent.saturating_sub(1));
            let _ = writeln!(self.out, "{pad}{bullet}{text}");
        } else {
            let _ = writeln!(self.out, "{}{text}", "  ".repeat(indent));
        }
    }

    fn sim(mut self, sim: &Explanation) {
        let iccid = values::iccid(&sim.iccid, self.mask);
        let live = match (sim.statusid, sim.providerid) {
            (Some(s), Some(p)) => format!(" — {}, {}", status_label(s), product(p)),
            _ => String::new(),
        };
        if self.md() {
            let _ = writeln!(self.out, "### SIM `{iccid}`{live}\n");
        } else {
            let _ = writeln!(self.out, "SIM {iccid}{live}");
        }
        if let Some(note) = &sim.note {
            let note = values::text(note, self.mask);
            self.line(1, &format!("note: {note}"));
        }
        self.managed_by(sim);
        let (managed, unmanaged): (Vec<&FieldExplanation>, Vec<&FieldExplanation>) = (sim.fields)
            .iter()
            .partition(|f| f.decision != Decision::Unmanaged);
        for f in managed {
            self.field(f);
        }
        self.unmanaged_fields(sim.managed, &unmanaged);
        self.closest(&sim.closest_rules);
    }

    fn managed_by(&mut self, sim: &Explanation) {
        match sim.managed {
            Managed::No => self.line(
                1,
                "not managed: no rule matches it and no `sims:` entry names it, so it is never touched",
            ),
            Managed::Unknown => {}
            Managed::Yes => {
                let mut by: Vec<String> = Vec::new();
                if let Some(entry) = &sim.entry {
                    by.push(format!("sims: entry ({})", values::text(entry, self.mask)));
                }
                for rule in &sim.matched_rules {
                    let location = match self.links {
                        Some(links) => links.location_html(&rule.location, self.mask),
                        None => values::text(&rule.location, self.mask),
                    };
                    by.push(format!(
                        "rule {} ({location}, priority {})",
                        values::text(&rule.name, self.mask),
                        rule.priority
                    ));
                }
                if !by.is_empty() {
                    self.line(1, &format!("managed by: {}", by.join("; ")));
                }
            }
        }
    }

    fn value(&self, field: Field, v: &FieldValue) -> String {
        self.code(&values::value(field, v, self.mask))
    }

    fn field(&mut self, f: &FieldExplanation) {
        let title = self.code(f.field.name());
        if self.md() {
            self.line(1, &format!("**{title}**"));
        } else {
            self.line(1, &title);
        }
        if let Some(live) = &f.live {
            let live = self.value(f.field, live);
            let line = format!("{}{live}", self.label("live:"));
            self.line(2, &line);
        }
        if let (Some(desired), Some(source)) = (&f.desired, &f.source) {
            let priority = match f.priority {
                Some(p) => format!(", priority {p}"),
                None => String::new(),
            };
            let line = format!(
                "{}{} — {}{priority}",
                self.label("desired:"),
                self.value(f.field, desired),
                self.source(source)
            );
            self.line(2, &line);
        }
        for other in &f.others {
            let line = self.other(f.field, other);
            self.line(2, &line);
        }
        let decision = self.decision(f.field, &f.decision);
        let line = format!("{}{decision}", self.label("decision:"));
        self.line(2, &line);
    }

    fn other(&self, field: Field, other: &OtherValue) -> String {
        let why = match other.lost {
            Lost::LowerPriority if self.from_plan => "lower priority (it loses, if it matches)",
            Lost::LowerPriority => "lost: lower priority",
            Lost::OverriddenBySimsEntry => "lost: the SIM's `sims:` entry beats every rule",
            Lost::SamePrioritySameValue => {
                "agrees: same priority and value (the first in file order is named)"
            }
            Lost::SamePriorityConflict => "conflict: same priority, different value",
            Lost::NotEvaluated => {
                "same priority and value (whether it matches is not in the plan; if so, it agrees)"
            }
        };
        format!(
            "{}{} — {}, priority {}: {why}",
            self.label("also:"),
            self.value(field, &other.value),
            self.source(&other.source),
            other.priority
        )
    }

    fn decision(&self, field: Field, d: &Decision) -> String {
        let text = |t: &str| values::text(t, self.mask);
        match d {
            Decision::Change {
                flags,
                phase,
                implied,
                path,
                usage,
            } => {
                let mut s = if *implied {
                    format!("implied change (a side effect of the IMEI unlock, phase {phase})")
                } else {
                    format!("change (phase {phase})")
                };
                let steps: Vec<String> = path
                    .iter()
                    .map(|st| format!("{} → {}", status_label(st.from), status_label(st.to)))
                    .collect();
                if !steps.is_empty() {
                    let _ = write!(s, ", path: {}", steps.join(", then "));
                }
                let flags: Vec<&str> = flags.iter().map(|f| values::flag(*f)).collect();
                if !flags.is_empty() {
                    let _ = write!(s, " [{}]", flags.join(", "));
                }
                if let Some(used) = usage {
                    let used = self.value(field, &crate::plan::FieldValue::Int(*used));
                    let _ = write!(s, ", used {used} this month");
                }
                s
            }
            Decision::Equal { rule_text, .. } => format!("already equal: {rule_text}"),
            Decision::Pending { reason } => format!("pending: {}", text(reason)),
            Decision::Held { reason } => format!("held: {}", text(reason)),
            Decision::Blocked { reason, row } => {
                let mut s = format!("blocked: {}", text(reason));
                if let (Some(allowed), Some(p)) = (&row.allowed, row.providerid) {
                    let to: Vec<String> = allowed.iter().map(|&t| status_label(t)).collect();
                    let to = if to.is_empty() {
                        "nothing".to_string()
                    } else {
                        to.join(", ")
                    };
                    let _ = write!(
                        s,
                        "; from {} the table allows {to} for {}",
                        status_label(row.from),
                        product(p)
                    );
                }
                s
            }
            Decision::Skipped { reason } => format!("skipped: {}", text(reason)),
            Decision::Conflict { reason } => format!("conflict: {}", text(reason)),
            Decision::Unmanaged => "not managed".to_string(),
            Decision::NotRecorded => {
                "no record in the plan: it already held when the plan was made".to_string()
            }
        }
    }

    fn unmanaged_fields(&mut self, managed: Managed, fields: &[&FieldExplanation]) {
        if fields.is_empty() {
            return;
        }
        let list: Vec<String> = (fields.iter())
            .map(|f| match &f.live {
                Some(live) => format!("{} {}", f.field.name(), self.value(f.field, live)),
                None => f.field.name().to_string(),
            })
            .collect();
        let title = match managed {
            Managed::No => "live values",
            _ => "not managed (no rule or entry sets them; never compared or changed)",
        };
        self.line(1, &format!("{title}: {}", list.join(", ")));
    }

    fn closest(&mut self, rules: &[ClosestRule]) {
        if rules.is_empty() {
            return;
        }
        self.line(1, "closest rules (fewest failing match keys first):");
        for c in rules {
            let failed: Vec<String> = (c.failed.iter())
                .map(|k| {
                    format!(
                        "{} wants {}, live is {}",
                        self.code(&k.key),
                        self.code(&values::text(&k.wants, self.mask)),
                        self.code(&values::text(&k.live, self.mask))
                    )
                })
                .collect();
            let line = format!(
                "{} ({}, priority {}): {}",
                values::text(&c.rule.name, self.mask),
                values::text(&c.rule.location, self.mask),
                c.rule.priority,
                if failed.is_empty() {
                    "matches".to_string()
                } else {
                    failed.join("; ")
                }
            );
            self.line(2, &line);
        }
    }
}

/// `connect+ (1)`.
fn product(id: i32) -> String {
    match provider_name(id) {
        Some(name) => format!("{name} ({id})"),
        None => format!("unknown product ({id})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_file_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/explain.schema.json");
        let generated = explain_schema();
        if std::env::var_os("SIMFLEET_UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &generated).expect("write schema/explain.schema.json");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "schema/explain.schema.json is stale: run `SIMFLEET_UPDATE_SCHEMAS=1 cargo test --lib render::explain`"
        );
    }
}
