//! The JSON renderer and the plan's JSON Schema.
//!
//! `--format json` prints the same document as the plan file (pretty-printed), so CI can keep
//! the JSON of the very plan it posted as markdown, and `apply`/`show` can load either. The
//! schema is generated from the same serde types into `schema/plan.schema.json`; a test keeps the
//! checked-in copy current.

use super::Plan;

/// The plan as pretty JSON (DESIGN.md's contract: `format_version`, `summary`, `changes`,
/// `actions`, `blocked`, `warnings`, plus everything else the plan knows and its `checksum`).
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`json`]'s output (and of the plan file).
pub fn plan_schema() -> String {
    let schema = schemars::schema_for!(Plan);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
