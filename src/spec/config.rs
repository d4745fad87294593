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
    /// Range problems serde cannot express: `(key, message, help)`, from the same validator the
    /// command-line flags pass ([`check_range`]).
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let values = [
            (Setting::MaxPercent, self.max_percent),
            (Setting::MaxChanges, self.max_changes.map(|v| v as f64)),
            (Setting::Concurrency, self.concurrency.map(|v| v as f64)),
            (
                Setting::RequestsPerSecond,
                self.requests_per_second.map(f64::from),
            ),
        ];
        values
            .into_iter()
            .filter_map(|(setting, value)| {
                let problem = check_range(setting, value?, SettingName::Key)?;
                Some((setting.key(), problem.message, problem.help.to_string()))
            })
            .collect()
    }
}

/// A setting that can be given both as a flag and (but for the job timeout) in
/// `simfleet.yaml`: both pass [`check_range`], so they share ranges and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    MaxChanges,
    MaxPercent,
    Concurrency,
    RequestsPerSecond,
    /// `apply --job-timeout` (flag only), in seconds.
    JobTimeout,
    /// `plan --why-drift-limit` / `check --why-drift-limit` (flag only): SIMs whose events are read.
    WhyDriftLimit,
}

/// How a setting is named in a message: as the `simfleet.yaml` key or as the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingName {
    Key,
    Flag,
}

impl Setting {
    /// The key in `simfleet.yaml`.
    pub fn key(self) -> &'static str {
        match self {
            Setting::MaxChanges => "max_changes",
            Setting::MaxPercent => "max_percent",
            Setting::Concurrency => "concurrency",
            Setting::RequestsPerSecond => "requests_per_second",
            Setting::JobTimeout => "job_timeout",
            Setting::WhyDriftLimit => "why_drift_limit",
        }
    }

    /// The command-line flag.
    pub fn flag(self) -> &'static str {
        match self {
            Setting::MaxChanges => "--max-changes",
            Setting::MaxPercent => "--max-percent",
            Setting::Concurrency => "--concurrency",
            Setting::RequestsPerSecond => "--rate-limit",
            Setting::JobTimeout => "--job-timeout",
            Setting::WhyDriftLimit => "--why-drift-limit",
        }
    }

    fn name(self, as_: SettingName) -> &'static str {
        match as_ {
            SettingName::Key => self.key(),
            SettingName::Flag => self.flag(),
        }
    }
}

/// A value out of its setting's range.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeProblem {
    pub setting: Setting,
    /// e.g. `max_percent 500 is not a percentage`.
    pub message: String,
    pub help: &'static str,
}

impl std::fmt::Display for RangeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.message, self.help)
    }
}

/// The smallest `max_percent` above 0: a finer one is no guard anyone means, and its digits
/// would fill a guard line.
pub const MIN_MAX_PERCENT: f64 = 0.001;

/// A number as the user wrote it, unless that takes more than 16 characters (a 300-digit
/// value): then in scientific notation (`1e299`), so a message never echoes it whole.
fn compact_number(value: f64) -> String {
    let plain = value.to_string();
    if plain.len() <= 16 {
        plain
    } else {
        format!("{value:e}")
    }
}

/// The one range check of every setting, whether it came from a flag or from `simfleet.yaml`.
/// Counts are passed as numbers, the job timeout in seconds.
pub fn check_range(setting: Setting, value: f64, named: SettingName) -> Option<RangeProblem> {
    let name = setting.name(named);
    let (bad, reason, help) = match setting {
        Setting::MaxPercent => (
            value.is_nan()
                || !(0.0..=100.0).contains(&value)
                || (value > 0.0 && value < MIN_MAX_PERCENT),
            "is not a percentage",
            "write 0 (no change allowed) or a number from 0.001 to 100",
        ),
        Setting::MaxChanges => (
            value < 1.0,
            "would stop every apply",
            "write a positive number, or leave it out",
        ),
        Setting::Concurrency | Setting::RequestsPerSecond => (
            value < 1.0,
            "would never send a request",
            "write a positive number, or leave it out",
        ),
        Setting::WhyDriftLimit => (
            !(1.0..=10_000.0).contains(&value),
            "is out of range",
            "write a number of SIMs from 1 to 10000 (each costs one request)",
        ),
        Setting::JobTimeout => (
            value <= 0.0,
            "would give up on every batch job at once",
            "give a positive duration such as 30m",
        ),
    };
    let shown = match setting {
        Setting::JobTimeout => {
            humantime::format_duration(std::time::Duration::from_secs_f64(value.max(0.0)))
                .to_string()
        }
        _ => compact_number(value),
    };
    bad.then(|| RangeProblem {
        setting,
        message: format!("{name} {shown} {reason}"),
        help,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_keys_share_ranges_and_messages() {
        let key = check_range(Setting::MaxPercent, 500.0, SettingName::Key).expect("problem");
        let flag = check_range(Setting::MaxPercent, 500.0, SettingName::Flag).expect("problem");
        assert_eq!(key.message, "max_percent 500 is not a percentage");
        assert_eq!(flag.message, "--max-percent 500 is not a percentage");
        assert_eq!(key.help, flag.help);
        assert!(check_range(Setting::Concurrency, 0.0, SettingName::Flag).is_some());
        assert!(check_range(Setting::RequestsPerSecond, 0.0, SettingName::Key).is_some());
        assert!(check_range(Setting::JobTimeout, 0.0, SettingName::Flag).is_some());
        assert!(check_range(Setting::WhyDriftLimit, 0.0, SettingName::Flag).is_some());
        assert!(check_range(Setting::WhyDriftLimit, 10_001.0, SettingName::Flag).is_some());
        assert!(check_range(Setting::WhyDriftLimit, 50.0, SettingName::Flag).is_none());
        assert!(check_range(Setting::MaxPercent, f64::NAN, SettingName::Key).is_some());
        assert!(check_range(Setting::MaxPercent, 0.0, SettingName::Key).is_none());
        assert!(check_range(Setting::MaxChanges, 1.0, SettingName::Key).is_none());
    }
}
