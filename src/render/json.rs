//! The JSON renderer and the plan's JSON Schema.
//!
//! `--format json` prints the same document as the plan file (pretty-printed), so CI can keep
//! the JSON of the very plan it posted as markdown, and `apply`/`show` can load either. The
//! schema is generated from the same serde types into `schema/plan.schema.json`; a test keeps the
//! checked-in copy current.

use super::Plan;

/// The plan as pretty JSON (the documented contract: `format_version`, `summary`, `changes`,
/// `actions`, `blocked`, `warnings`, plus everything else the plan knows and its `checksum`).
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes [`json`]'s output to `out` as it is serialised, without holding it in memory.
pub fn write_json(plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, plan)?;
    std::io::Write::write_all(&mut out, b"\n")?;
    std::io::Write::flush(&mut out)
}

/// Keys whose strings are digests, not identifiers: kept so a reader can match the masked copy
/// to the plan it came from.
const DIGEST_KEYS: [&str; 5] = [
    "checksum",
    "plan_checksum",
    "spec_digest",
    "fingerprint",
    "generated_at",
];

/// The plan as pretty JSON with identifiers masked (ICCIDs, IMEIs, MSISDNs in every string but
/// their last 4 digits), for artifacts of public repositories. It is for reading: its ICCIDs no
/// longer match the checksum, so `show` and `apply` refuse it.
pub fn json_masked(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    mask_json(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Masks identifiers in every string of a JSON document (a plan, an apply report), except
/// digests and timestamps.
pub fn mask_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = super::values::mask_text(s),
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if !DIGEST_KEYS.contains(&key.as_str()) {
                    mask_json(v);
                }
            }
        }
        _ => {}
    }
}

/// The JSON Schema of [`json`]'s output, the per-SIM plan (which `show` and `apply` also read).
pub fn plan_schema() -> String {
    let schema = schemars::schema_for!(Plan);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of the plan file `plan --out` writes (changes grouped by change set).
pub fn plan_file_schema() -> String {
    let schema = schemars::schema_for!(crate::plan::PlanFile<'static>);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
