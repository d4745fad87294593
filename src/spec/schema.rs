//! The JSON Schemas of spec files and of `simfleet.yaml`, generated from the same serde types
//! the loader reads, so editors and CI check exactly what simfleet accepts.
//!
//! The checked-in copies under `schema/` are compared with these in a test; `simfleet schema`
//! rewrites them.

use crate::spec::config::Config;
use crate::spec::model::SpecDocument;

/// The file name of the spec files' schema under `schema/`.
pub const SPEC_SCHEMA_FILE: &str = "simfleet.schema.json";
/// The file name of `simfleet.yaml`'s schema under `schema/`.
pub const CONFIG_SCHEMA_FILE: &str = "simfleet-config.schema.json";

fn pretty(schema: &schemars::Schema) -> String {
    // A Schema is a JSON value: serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of a spec file, pretty-printed with a trailing newline.
pub fn spec_schema_json() -> String {
    pretty(&schemars::schema_for!(SpecDocument))
}

/// The JSON Schema of `simfleet.yaml`, pretty-printed with a trailing newline.
pub fn config_schema_json() -> String {
    pretty(&schemars::schema_for!(Config))
}

/// Both schemas with their file names, in a fixed order.
pub fn schemas() -> [(&'static str, String); 2] {
    [
        (SPEC_SCHEMA_FILE, spec_schema_json()),
        (CONFIG_SCHEMA_FILE, config_schema_json()),
    ]
}
