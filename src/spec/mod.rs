//! The desired-state spec: YAML files that say what every SIM should look like.
//!
//! Stages, in order: `model` (the serde shape of a file, with locations, and the source of the
//! JSON Schemas) → `build` (values given meaning, via `values`) → `loader` (directory walk,
//! cross-file checks; `walk` finds the files) → `resolve` (the validated [`Spec`], and per-SIM resolution). `desired`
//! is the contract the plan consumes. Only `loader` and `walk` do I/O.

mod build;
mod check;
mod check_across;
mod check_field;
mod config;
mod desired;
mod diagnostic;
mod explain;
mod loader;
mod matcher;
mod model;
mod resolve;
pub mod schema;
pub mod values;
pub mod walk;

pub use check::{
    days_from_civil, format_date, parse_date, Bound, ChangeLimit, Check, CheckLevel, Counted,
    Expectation, Waiver,
};
pub use check_field::{CheckField, ReadOnlyField};
pub use config::{check_range, Config, RangeProblem, Setting, SettingName, CONFIG_FILE};
pub use desired::{DesiredValue, Field, ImeiLockSetting, Limit, Origin, OriginKind, ResolvedValue};
pub use diagnostic::{Diagnostic, Severity, SpecErrors};
pub use explain::{Candidate, Candidates, NearMiss, CLOSEST_RULES};
pub use loader::{load, load_config, LoadedSpec, Summary, YamlLimits, YAML_LIMITS};
pub use matcher::{Condition, MatchKey, Matcher, Test};
pub use resolve::{
    format_value, Conflict, Resolution, Rule, SimEntry, Spec, SpecFile, Verdict, ICCID_FILTER_CHUNK,
};
