//! The plan file: a plan as JSON with a checksum that proves it was not edited after review.
//!
//! The checksum is SHA-256 over the canonical plan: every field but `generated_at` (a timestamp)
//! and `checksum` itself, serialised in the plan's own deterministic order (ICCID, field, phase),
//! so two runs over the same fleet and spec give the same checksum whatever order the SIMs were
//! fetched in. It is streamed into the hasher, so a million-SIM plan is never held twice.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::actions::Action;
use super::model::{
    BlockedChange, GuardResult, HeldStatus, PendingStatus, Plan, SimChange, SkippedSim, Summary,
    Warning, PLAN_FORMAT_VERSION,
};
use super::{hex, PlanError};

/// The plan as hashed: `Plan` without `generated_at` and `checksum`.
#[derive(Serialize)]
struct Canonical<'a> {
    format_version: u32,
    summary: &'a Summary,
    changes: &'a [SimChange],
    blocked: &'a [BlockedChange],
    pending: &'a [PendingStatus],
    held: &'a [HeldStatus],
    skipped: &'a [SkippedSim],
    guards: &'a [GuardResult],
    warnings: &'a [Warning],
    actions: &'a [Action],
    spec_digest: &'a str,
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl Plan {
    /// `sha256:<hex>` of the canonical plan (see the module docs).
    pub fn compute_checksum(&self) -> String {
        let canonical = Canonical {
            format_version: self.format_version,
            summary: &self.summary,
            changes: &self.changes,
            blocked: &self.blocked,
            pending: &self.pending,
            held: &self.held,
            skipped: &self.skipped,
            guards: &self.guards,
            warnings: &self.warnings,
            actions: &self.actions,
            spec_digest: &self.spec_digest,
        };
        // serde_json writes many tiny pieces; buffering them makes hashing a large plan several
        // times faster than feeding the hasher piece by piece.
        let mut writer = std::io::BufWriter::with_capacity(1 << 16, HashWriter(Sha256::new()));
        // Serialising plain data into a writer that never fails cannot fail; should it ever, the
        // checksum would differ from any file's and loading would refuse the plan.
        if serde_json::to_writer(&mut writer, &canonical).is_err() {
            return String::from("sha256:unavailable");
        }
        match writer.into_inner() {
            Ok(hasher) => format!("sha256:{}", hex(&hasher.0.finalize())),
            Err(_) => String::from("sha256:unavailable"),
        }
    }

    /// Writes the plan file's text to `out` without building it in memory first (a million-SIM
    /// plan is over a gigabyte of JSON).
    pub fn write_file_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// The plan file's text (compact JSON, one trailing newline).
    pub fn to_file_json(&self) -> String {
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a plan file (or `--format json` output), checking its version, its checksum and the
    /// safety of its actions.
    pub fn from_file_json(text: &str) -> Result<Plan, PlanError> {
        let probe: VersionProbe = serde_json::from_str(text).map_err(PlanError::Parse)?;
        if probe.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanError::Version {
                found: probe.format_version,
            });
        }
        let plan: Plan = serde_json::from_str(text).map_err(PlanError::Parse)?;
        let computed = plan.compute_checksum();
        if computed != plan.checksum {
            return Err(PlanError::Checksum {
                stated: plan.checksum,
                computed,
            });
        }
        plan.check_actions()?;
        Ok(plan)
    }
}
