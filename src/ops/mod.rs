//! The commands' logic, one function per command, over the pipeline stages.
//!
//! Like cargo's `ops`, these functions take plain options and return an [`crate::Outcome`], so
//! the binary stays a thin argument parser and tests can drive the same code.

pub mod apply;
pub mod apply_lock;
pub mod connect;
pub mod diff;
pub mod drift;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod last_applied;
pub mod plan;
pub mod read;
pub mod rehearse;
pub mod sandbox;
pub mod schema;
pub mod validate;
