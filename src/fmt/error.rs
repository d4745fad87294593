//! Why `simfleet fmt` failed: the formatting stage's error, naming the files concerned.

/// Why `fmt` failed.
#[derive(Debug, thiserror::Error)]
pub enum FmtError {
    #[error("{} file{} not formatted (run `simfleet fmt` to fix): {}", .0.len(), if .0.len() == 1 { " is" } else { "s are" }, .0.join(", "))]
    Unformatted(Vec<String>),
    #[error("{} file{} left unformatted:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("no spec files (*.yaml, *.yml) under {0}")]
    NoFiles(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}
