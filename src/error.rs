//! The library's top-level error: one variant per stage, each carrying its own typed context.
//!
//! Every variant is an error (exit 1); how the process exits is decided only in
//! [`crate::outcome::exit_code`].

/// Any failure of a simfleet command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] crate::fleet::SnapshotError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error("cannot read plan file {path}: {source}")]
    ReadPlan {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    PlanFile {
        path: String,
        source: crate::plan::PlanError,
    },
}
