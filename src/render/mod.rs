//! Renderers of a [`Plan`]: text for terminals and logs, markdown for pull-request comments,
//! JSON for machines (the plan file's own format), and the JSON Schema of that JSON; and of
//! apply's report (text; its JSON is the report's serde form).
//!
//! All of them are pure functions of one `Plan` value, so `plan` and `show PLANFILE` print the
//! same thing. Text and markdown build their rows in one place (`rows`: lists grouped by cause,
//! capped to their largest groups, risks counted by SIM) and only format them. Depends on `plan`,
//! on `apply` for the report's data only, and on the spec's size format alone, so a value reads
//! as the spec writes it.

mod apply_report;
mod checks;
mod diff;
mod drift;
mod explain;
mod json;
mod last_applied;
mod links;
mod markdown;
mod rehearsal;
mod rows;
mod text;
mod values;

pub use apply_report::{
    apply_report_text, stale_text, ApplyReportOptions, GROUPS_SHOWN as APPLY_GROUPS_SHOWN,
};
pub use diff::{diff_json, diff_markdown, diff_schema, diff_text, DiffTextOptions};
pub use explain::{explain_json, explain_schema, explain_text, ExplainStyle};
pub use json::{json, json_masked, mask_json, plan_file_schema, plan_schema, write_json};
pub use links::{ForgeVars, SourceLinks};
pub use markdown::{markdown, markdown_linked, MarkdownOptions, MARKDOWN_LIMIT};
pub use rehearsal::{rehearsal_markdown, rehearsal_text, RehearsalOptions};
pub use rows::GROUPS_PER_LIST;
pub use text::{checks_text, checks_text_after_plan, text, TextOptions};
/// One field's value in the spec's units (`1GB`, `unlimited`, status names), for other reports.
pub use values::value as spec_value;

/// `check --why-drift`'s drift section, as `plan` shows it.
pub fn drift_text(report: &crate::plan::drift::DriftReport, mask: bool) -> String {
    drift::text_block(report, mask, false, "Drift")
}

/// `check --last-applied`'s section, as `plan` shows it.
pub fn last_applied_text(
    report: &crate::plan::last_applied::LastAppliedReport,
    mask: bool,
) -> String {
    last_applied::text_block(report, mask, false, last_applied::TITLE)
}

/// For other reports (apply's) that promise `--mask`: identifiers in free text, last 4 digits kept.
pub use values::{mask as mask_identifier, mask_text};

use crate::plan::Plan;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod usage_tests;
