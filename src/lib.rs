//! simfleet keeps a fleet of wherever SIM IoT cards in version-controlled YAML.
//!
//! The library is a pipeline of stages with plain data between them and dependencies pointing
//! one way: `spec` (desired state) and `fleet` (live data) → `plan` (diff and actions) →
//! `render` (text, markdown, JSON) and `apply` (API calls); `api` talks GraphQL; `sandbox` is an
//! independent simulator of the API that depends on `fleet` only. `ops` holds the commands'
//! logic so that `main.rs` only parses arguments and maps outcomes to exit codes. Three
//! concerns are decided once for every command: `settings` (flags > `simfleet.yaml` > defaults,
//! and the environment), `output` (every write checked, masking where messages leave the
//! process) and `outcome` (exit codes).

// No unwrap()/expect() outside tests: data from files and the network must fail with an error.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod apply;
pub mod error;
pub mod export;
pub mod fleet;
pub mod fmt;
pub mod ops;
pub mod outcome;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod rehearse;
pub mod render;
pub mod sandbox;
pub mod settings;
pub mod spec;

pub use error::Error;
pub use outcome::Outcome;
