//! Why an export could not be written: the export stage's error, with the path it concerns.

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("nothing to export to: give --snapshot FILE, --spec DIR, or both")]
    NoTarget,
    #[error("{path} is not empty: export writes a whole spec directory; choose a new directory, or pass --force to replace it")]
    NotEmpty { path: String },
    #[error("{path} exists and is not a directory")]
    NotADirectory { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the exported spec does not reproduce the fleet (a simfleet bug; nothing was written):\n  {}", .0.join("\n  "))]
    RoundTrip(Vec<String>),
}
