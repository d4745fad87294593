//! `simfleet.yaml`: the tool's own settings, kept at the root of the spec directory.
//!
//! It is not a spec file (the loader skips it) because it says how simfleet behaves, not what
//! the fleet should look like: the ICCID Luhn check, the guards `apply` enforces, and limits on
//! how hard the API is driven. It has its own JSON Schema, generated from this type.

use schemars::JsonSchema;
use serde::Deserialize;

/// The file name of the configuration at the root of a spec directory.
pub const CONFIG_FILE: &str = "simfleet.yaml";

/// simfleet's settings for one spec directory. Every field is optional.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(title = "simfleet configuration (simfleet.yaml)")]
pub struct Config {
    /// Check the Luhn digit of full ICCIDs (default true). Turn off for ICCIDs without a check
    /// digit. Prefix matches are never checked; IMEIs always are.
    pub luhn_check: bool,
    /// Guard: `apply` stops when more than this many SIMs would change.
    #[schemars(range(min = 1))]
    pub max_changes: Option<u64>,
    /// Guard: `apply` stops when more than this percentage of the fleet would change.
    #[schemars(range(min = 0, max = 100))]
    pub max_percent: Option<f64>,
    /// Allow status changes that cut service (deactivate, suspend) without a flag.
    pub allow_status_cuts: bool,
    /// Allow irreversible changes (retiring SIMs) without a flag.
    pub allow_irreversible: bool,
    /// API requests in flight at once.
    #[schemars(range(min = 1))]
    pub concurrency: Option<usize>,
    /// Ceiling on API requests per second.
    #[schemars(range(min = 1))]
    pub requests_per_second: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            luhn_check: true,
            max_changes: None,
            max_percent: None,
            allow_status_cuts: false,
            allow_irreversible: false,
            concurrency: None,
            requests_per_second: None,
        }
    }
}

impl Config {
    /// Range problems serde cannot express: `(key, message, help)`.
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut problems = Vec::new();
        if let Some(p) = self.max_percent {
            if !(0.0..=100.0).contains(&p) || p.is_nan() {
                problems.push((
                    "max_percent",
                    format!("max_percent {p} is not a percentage"),
                    "write a number from 0 to 100".to_string(),
                ));
            }
        }
        if self.max_changes == Some(0) {
            problems.push((
                "max_changes",
                "max_changes 0 would stop every apply".to_string(),
                "write a positive number, or leave it out".to_string(),
            ));
        }
        if self.concurrency == Some(0) {
            problems.push((
                "concurrency",
                "concurrency 0 would never send a request".to_string(),
                "write a positive number, or leave it out".to_string(),
            ));
        }
        if self.requests_per_second == Some(0) {
            problems.push((
                "requests_per_second",
                "requests_per_second 0 would never send a request".to_string(),
                "write a positive number, or leave it out".to_string(),
            ));
        }
        problems
    }
}
