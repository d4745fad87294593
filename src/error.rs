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
    Spec(#[from] crate::spec::SpecErrors),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
}
