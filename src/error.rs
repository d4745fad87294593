//! The library's top-level error: one variant per stage, each carrying its own typed context.
//!
//! Every variant is an error (exit 1); how the process exits is decided only in
//! [`crate::outcome::exit_code`].

/// Any failure of a simfleet command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] crate::fleet::SnapshotError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    #[error(transparent)]
    Plan(crate::plan::PlanError),
    #[error("plan file {path}: {source}")]
    PlanFile {
        path: String,
        source: crate::plan::PlanError,
    },
    #[error("{} conflict(s) between rules:\n{}", .0.len(), .0.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"))]
    Conflicts(Vec<crate::spec::Conflict>),
    #[error("cannot read plan file {path}: {source}")]
    ReadPlan {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecErrors),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Export(#[from] crate::ops::export::ExportError),
    #[error(transparent)]
    Fmt(#[from] crate::ops::fmt::FmtError),
}

impl From<crate::plan::PlanError> for Error {
    /// A plan's failures keep their own variants where the top level has one (conflicts are
    /// listed, a snapshot's problem is named as the snapshot's).
    fn from(error: crate::plan::PlanError) -> Error {
        match error {
            crate::plan::PlanError::Conflicts(conflicts) => Error::Conflicts(conflicts),
            crate::plan::PlanError::Snapshot(e) => Error::Snapshot(e),
            other => Error::Plan(other),
        }
    }
}
