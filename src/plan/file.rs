//! The plan file: a plan as JSON with a checksum that proves it was not edited after review.
//!
//! `plan --out` writes the grouped layout ([`super::grouped`]: each distinct change once, with
//! its SIMs), a few dozen bytes per changing SIM. `show` and `apply` read it, and also the
//! per-SIM JSON that `plan --format json` prints, as long as its `format_version` is this
//! build's: both give the same [`Plan`] and the same checksum. Older versions are refused with
//! the command that makes the plan again.
//!
//! The checksum is SHA-256 over the canonical plan: every field but `generated_at` (a timestamp)
//! and `checksum` itself, in the plan's own deterministic order (ICCID, field, phase), so two runs
//! over the same fleet and spec give the same checksum whatever order the SIMs were fetched in.
//!
//! The canonical form is a layout marker, `changes` in a length-prefixed binary layout (see
//! [`ChangesEncoder`]) in which each distinct `source` is written once and then cited by number,
//! then compact JSON for everything else. A million-SIM plan is over a gigabyte of per-SIM JSON,
//! nine tenths of it the same few sources repeated; hashing that JSON took longer than the rest
//! of the plan together. The layout is unambiguous (every string and list carries its length), so
//! the digest still changes whenever any value of the plan does. It is streamed into the hasher
//! on a second thread, so a large plan is never held twice.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::actions::Action;
use super::change_set::{SetInterner, Target};
use super::grouped::PlanFile;
use super::model::{
    BlockedChange, CheckResult, GuardResult, HeldStatus, PendingStatus, Plan, RiskFlag, SimChange,
    SkippedSim, Summary, WaiverResult, Warning, PLAN_FORMAT_VERSION,
};
use super::value::FieldValue;
use super::{Field, Origin, PlanError};

/// Marks the canonical layout, so a digest of one layout is never taken for another's.
const CHECKSUM_LAYOUT: &[u8] = b"simfleet plan checksum, layout 3\n";

/// Writes `changes` for the checksum: counts and lengths as u64 little-endian, strings as bytes
/// after their length, a field as its index in [`Field::ALL`], a value as a tag byte (0 null, 1
/// integer, 2 text, 3 IMEI lock) and its payload, flags as a count and one byte each, a
/// source as its number in order of first appearance, its JSON written the first time, and
/// last a byte for `implied` (bit 0), the presence of `usage` (bit 1, the usage after the byte)
/// and of a status path (bit 2: `via`, a count, then each status id as i32, after the usage).
struct ChangesEncoder<'p, W> {
    out: W,
    by_pointer: foldhash::HashMap<*const Origin, u64>,
    by_value: foldhash::HashMap<&'p Origin, u64>,
}

impl<'p, W: Write> ChangesEncoder<'p, W> {
    fn u64(&mut self, n: u64) -> std::io::Result<()> {
        self.out.write_all(&n.to_le_bytes())
    }

    fn str(&mut self, s: &str) -> std::io::Result<()> {
        self.u64(s.len() as u64)?;
        self.out.write_all(s.as_bytes())
    }

    fn value(&mut self, value: &FieldValue) -> std::io::Result<()> {
        match value {
            FieldValue::Null => self.out.write_all(&[0]),
            FieldValue::Int(n) => {
                self.out.write_all(&[1])?;
                self.out.write_all(&n.to_le_bytes())
            }
            FieldValue::Text(text) => {
                self.out.write_all(&[2])?;
                self.str(text)
            }
            FieldValue::ImeiLock { enabled, imei } => {
                self.out.write_all(&[3, u8::from(*enabled)])?;
                match imei {
                    None => self.out.write_all(&[0]),
                    Some(imei) => {
                        self.out.write_all(&[1])?;
                        self.str(imei)
                    }
                }
            }
        }
    }

    fn source(&mut self, source: &'p std::sync::Arc<Origin>) -> std::io::Result<()> {
        let pointer = std::sync::Arc::as_ptr(source);
        if let Some(&number) = self.by_pointer.get(&pointer) {
            return self.u64(number);
        }
        let next = self.by_value.len() as u64;
        let number = *self.by_value.entry(&**source).or_insert(next);
        self.by_pointer.insert(pointer, number);
        self.u64(number)?;
        if number == next {
            let json = serde_json::to_vec(&**source).map_err(std::io::Error::other)?;
            self.u64(json.len() as u64)?;
            self.out.write_all(&json)?;
        }
        Ok(())
    }

    fn field_change(
        &mut self,
        change: &'p Target,
        from: &FieldValue,
        usage: Option<i64>,
    ) -> std::io::Result<()> {
        let field = Field::ALL
            .iter()
            .position(|f| *f == change.field)
            .unwrap_or(Field::ALL.len());
        self.out.write_all(&[field as u8])?;
        self.value(from)?;
        self.value(&change.to)?;
        self.source(&change.source)?;
        self.u64(change.flags.len() as u64)?;
        for flag in &change.flags {
            self.out.write_all(&[match flag {
                RiskFlag::StatusCut => 0,
                RiskFlag::Irreversible => 1,
                RiskFlag::ImeiUnlock => 2,
                RiskFlag::LoweredLimit => 3,
                RiskFlag::RestoresService => 4,
                RiskFlag::UsageCut => 5,
                RiskFlag::NearUsage => 6,
            }])?;
        }
        // Bit 0: implied; bit 1: a usage follows; bit 2: a status path follows (count, then each
        // id). A change with neither writes the byte it always did, so such plans keep their
        // checksums.
        let usage_bit = if usage.is_some() { 2 } else { 0 };
        let has_path = !change.via.is_empty();
        self.out
            .write_all(&[u8::from(change.implied) | usage_bit | (u8::from(has_path) << 2)])?;
        if let Some(usage) = usage {
            self.out.write_all(&usage.to_le_bytes())?;
        }
        if has_path {
            self.u64(change.via.len() as u64)?;
            for status in change.via.iter() {
                self.out.write_all(&status.to_le_bytes())?;
            }
        }
        Ok(())
    }

    fn changes(&mut self, changes: &'p [SimChange]) -> std::io::Result<()> {
        self.u64(changes.len() as u64)?;
        for sim in changes {
            self.str(&sim.iccid)?;
            self.u64(sim.field_count() as u64)?;
            for (target, (from, usage)) in sim.set().targets().iter().zip(sim.froms()) {
                self.field_change(target, &from, usage)?;
            }
        }
        Ok(())
    }
}

/// The plan as hashed, but for `changes`: `Plan` without `generated_at` and `checksum`.
#[derive(Serialize)]
struct Canonical<'a> {
    format_version: u32,
    summary: &'a Summary,
    blocked: &'a [BlockedChange],
    pending: &'a [PendingStatus],
    held: &'a [HeldStatus],
    skipped: &'a [SkippedSim],
    guards: &'a [GuardResult],
    warnings: &'a [Warning],
    actions: &'a [Action],
    /// Left out when empty, so plans without checks keep the checksum they always had.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    checks: &'a [CheckResult],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    waivers: &'a [WaiverResult],
    spec_digest: &'a str,
}

/// Hands serialised JSON to a hashing thread in large pieces: serialising and hashing a
/// million-SIM plan take about as long as each other, so doing them on two cores halves the time
/// and gives the same digest as hashing on one.
struct HashPipe {
    buffer: Vec<u8>,
    to_hasher: std::sync::mpsc::SyncSender<Vec<u8>>,
}

const PIPE_PIECE: usize = 1 << 20;

impl Write for HashPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= PIPE_PIECE {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buffer, Vec::with_capacity(PIPE_PIECE + 4096));
        self.to_hasher
            .send(piece)
            .map_err(|_| std::io::Error::other("the hashing thread stopped"))
    }
}

/// SHA-256 of what `write` writes, hashed on a second thread as it is written.
fn sha256_streamed(
    mut hasher: Sha256,
    write: impl FnOnce(&mut HashPipe) -> std::io::Result<()>,
) -> std::io::Result<Sha256> {
    let (to_hasher, pieces) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let (digest, written) = crate::parallel::join(
        move || {
            for piece in pieces {
                hasher.update(&piece);
            }
            hasher
        },
        || {
            let mut pipe = HashPipe {
                buffer: Vec::with_capacity(PIPE_PIECE + 4096),
                to_hasher,
            };
            // Dropping the pipe at the end closes the channel and lets the hasher finish.
            write(&mut pipe).and_then(|()| pipe.flush())
        },
    );
    written.map(|()| digest)
}

/// The first part of a plan's checksum: the layout marker and `changes`. Kept apart so that a
/// plan being built can hash its changes on one core while it groups its actions on the other.
pub(super) struct ChangesDigest(std::io::Result<Sha256>);

impl ChangesDigest {
    pub(super) fn of(changes: &[SimChange]) -> ChangesDigest {
        ChangesDigest(sha256_streamed(Sha256::new(), |pipe| {
            pipe.write_all(CHECKSUM_LAYOUT)?;
            ChangesEncoder {
                out: pipe,
                by_pointer: foldhash::HashMap::default(),
                by_value: foldhash::HashMap::default(),
            }
            .changes(changes)
        }))
    }
}

#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
    /// Every plan has one, of any version; a snapshot or a report has none.
    #[serde(default)]
    checksum: Option<serde::de::IgnoredAny>,
}

impl Plan {
    /// `sha256:<hex>` of the canonical plan (see the module docs).
    pub fn compute_checksum(&self) -> String {
        self.checksum_after(ChangesDigest::of(&self.changes))
    }

    /// The checksum, given the digest of this plan's `changes`.
    pub(super) fn checksum_after(&self, changes: ChangesDigest) -> String {
        let canonical = Canonical {
            format_version: self.format_version,
            summary: &self.summary,
            blocked: &self.blocked,
            pending: &self.pending,
            held: &self.held,
            skipped: &self.skipped,
            guards: &self.guards,
            warnings: &self.warnings,
            actions: &self.actions,
            checks: &self.checks,
            waivers: &self.waivers,
            spec_digest: &self.spec_digest,
        };
        // Serialising plain data cannot fail; should it ever, the checksum would differ from any
        // file's and loading would refuse the plan.
        let digest = changes.0.and_then(|hasher| {
            sha256_streamed(hasher, |pipe| {
                serde_json::to_writer(pipe, &canonical).map_err(std::io::Error::other)
            })
        });
        match digest {
            Ok(hasher) => format!("sha256:{}", hex::encode(hasher.finalize())),
            Err(_) => String::from("sha256:unavailable"),
        }
    }

    /// Makes every SIM that changes the same way share one change set, and every change that
    /// cites the same source one `Arc`, as a plan built in memory does: a plan read per SIM
    /// gets a set and a copy of each source per SIM.
    fn share_change_sets(&mut self) {
        let mut sources: foldhash::HashMap<Origin, std::sync::Arc<Origin>> =
            foldhash::HashMap::default();
        let mut sets = SetInterner::default();
        for sim in &mut self.changes {
            let mut fields = sim.field_list();
            for change in &mut fields {
                match sources.get(&*change.source) {
                    Some(one) => change.source = one.clone(),
                    None => {
                        sources.insert((*change.source).clone(), change.source.clone());
                    }
                }
            }
            let set = sets.intern(&fields);
            *sim = SimChange::in_set(std::mem::take(&mut sim.iccid), set, &fields);
        }
    }

    /// Writes the plan file (the grouped layout, see [`super::grouped`]) to `out`, streamed.
    pub fn write_file_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer(&mut out, &PlanFile::of(self))?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// The plan file's text (compact JSON in the grouped layout, one trailing newline).
    pub fn to_file_json(&self) -> String {
        let mut text = serde_json::to_string(&PlanFile::of(self)).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a plan file, or the per-SIM JSON of `plan --format json` of this format version,
    /// checking its version, that it is not a masked (read-only) plan, its checksum and the
    /// safety of its actions.
    pub fn from_file_json(text: &str) -> Result<Plan, PlanError> {
        // One parse of the whole text, in the layout its head names (the writer puts
        // `format_version` and `layout` first); the other layout is tried only when that parse
        // fails (a file rewritten with its keys in another order), and the text probed apart
        // only when both fail, to say why.
        let grouped = names_grouped_layout(text);
        let parsed = match Self::parse_layout(text, grouped) {
            Err(first @ PlanError::Parse(_)) => match Self::parse_layout(text, !grouped) {
                Err(PlanError::Parse(_)) => Err(first),
                other => other,
            },
            other => other,
        };
        let (plan, computed) = parsed.map_err(|e| match e {
            PlanError::Parse(_) => Self::why_unreadable(text, e),
            other => other,
        })?;
        if plan.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanError::Version {
                found: plan.format_version,
            });
        }
        if let Some(masked) = plan.changes.iter().find(|c| is_masked(&c.iccid)) {
            return Err(PlanError::Masked {
                example: masked.iccid.clone(),
            });
        }
        if computed != plan.checksum {
            return Err(PlanError::Checksum {
                stated: plan.checksum,
                computed,
            });
        }
        plan.check_actions()?;
        Ok(plan)
    }

    /// A masked plan file (`--mask`), for reading only: parsed in either layout and its format
    /// version checked, but not its checksum (the unmasked plan's) nor its actions' safety, so
    /// `show` can display it. Nothing that applies a plan reads it this way.
    pub fn from_masked_file_json(text: &str) -> Result<Plan, PlanError> {
        let grouped = names_grouped_layout(text);
        let (plan, _) = Self::parse_layout(text, grouped)
            .or_else(|_| Self::parse_layout(text, !grouped))
            .map_err(|e| Self::why_unreadable(text, e))?;
        if plan.format_version != PLAN_FORMAT_VERSION {
            return Err(PlanError::Version {
                found: plan.format_version,
            });
        }
        Ok(plan)
    }

    /// The plan a text states in one layout, and the checksum its content has.
    fn parse_layout(text: &str, grouped: bool) -> Result<(Plan, String), PlanError> {
        if grouped {
            let file: PlanFile<'_> = serde_json::from_str(text).map_err(PlanError::Parse)?;
            file.into_plan()
        } else {
            let mut plan: Plan = serde_json::from_str(text).map_err(PlanError::Parse)?;
            plan.share_change_sets();
            let computed = plan.compute_checksum();
            Ok((plan, computed))
        }
    }

    /// Why a text did not parse as a plan: not a plan at all (no checksum), a plan of another
    /// format version, a masked plan, or the parse error itself.
    fn why_unreadable(text: &str, error: PlanError) -> PlanError {
        let probe: VersionProbe = match serde_json::from_str(text) {
            Ok(probe) => probe,
            Err(e) => return PlanError::Parse(e),
        };
        if probe.checksum.is_none() {
            return PlanError::Parse(serde::de::Error::missing_field("checksum"));
        }
        if probe.format_version != PLAN_FORMAT_VERSION {
            return PlanError::Version {
                found: probe.format_version,
            };
        }
        masked(text).unwrap_or(error)
    }
}

/// True when the head of a plan file names the grouped layout.
fn names_grouped_layout(text: &str) -> bool {
    let head = &text.as_bytes()[..text.len().min(256)];
    head.windows(8).any(|w| w == b"\"layout\"")
}

/// A masked identifier: `--mask` replaces all but the last 4 digits with `*`.
fn is_masked(iccid: &str) -> bool {
    iccid.contains('*')
}

/// The masked-plan error for a plan file that did not parse because masking changed a value's
/// shape, when its text shows masked ICCIDs.
fn masked(text: &str) -> Option<PlanError> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        changes: Vec<ProbeChange>,
    }
    #[derive(Deserialize)]
    struct ProbeChange {
        iccid: String,
    }
    let probe: Probe = serde_json::from_str(text).ok()?;
    let change = probe.changes.into_iter().find(|c| is_masked(&c.iccid))?;
    Some(PlanError::Masked {
        example: change.iccid,
    })
}
