//! Snapshot format v1: the live fleet saved as one JSON file.
//!
//! `simfleet export --snapshot` writes it, `plan --live` reads it, and the sandbox's `--fleet`
//! seeds from it, so one serde type serves all three and they cannot disagree.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::sim::{Sim, Transition};

/// The only snapshot format this build reads and writes.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// `{"format_version": 1, "taken_at": ..., "transitions": [...], "sims": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: u32,
    /// RFC 3339 time the snapshot was taken (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    /// The status transition table; without it an offline plan cannot change a status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<Transition>>,
    pub sims: Vec<Sim>,
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a simfleet snapshot (format v1): {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path} has snapshot format_version {found}; this simfleet reads version {SNAPSHOT_FORMAT_VERSION}")]
    Version { path: String, found: u32 },
    #[error("{path}: ICCID {iccid} appears more than once")]
    DuplicateIccid { path: String, iccid: String },
}

impl Snapshot {
    /// Parses and checks a snapshot; `path` is only used in messages.
    pub fn from_json(text: &str, path: &str) -> Result<Snapshot, SnapshotError> {
        let snapshot: Snapshot =
            serde_json::from_str(text).map_err(|source| SnapshotError::Parse {
                path: path.to_string(),
                source,
            })?;
        if snapshot.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::Version {
                path: path.to_string(),
                found: snapshot.format_version,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(snapshot.sims.len());
        for sim in &snapshot.sims {
            if !seen.insert(sim.iccid.as_str()) {
                return Err(SnapshotError::DuplicateIccid {
                    path: path.to_string(),
                    iccid: sim.iccid.clone(),
                });
            }
        }
        Ok(snapshot)
    }

    /// Reads a snapshot file.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
            path: shown.clone(),
            source,
        })?;
        Snapshot::from_json(&text, &shown)
    }
}
