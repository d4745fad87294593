//! Snapshot format v1: the live fleet saved as one JSON file.
//!
//! `simfleet export --snapshot` writes it, `plan --live` reads it, and the sandbox's `--fleet`
//! seeds from it, so one serde type serves all three and they cannot disagree.

use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

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
    #[error(
        "{path} is not a simfleet snapshot (format v1): SIM number {number} of `sims`: {source}"
    )]
    Sim {
        path: String,
        /// 1-based position in `sims`.
        number: usize,
        source: serde_json::Error,
    },
    #[error("{path}: ICCID {iccid} appears more than once")]
    DuplicateIccid { path: String, iccid: String },
    #[error(
        "{path} is not a simfleet snapshot (format v1): SIM number {number} of `sims`: ICCID {shown} is not 19–20 digits, as the API's ICCIDs are"
    )]
    Iccid {
        path: String,
        /// 1-based position in `sims`.
        number: usize,
        /// The ICCID as written, cut to a readable length.
        shown: String,
    },
}

/// The API's ICCIDs are 19–20 ASCII digits. The spec checks the same (and, unless turned off,
/// a Luhn digit, which a snapshot does not: it holds what the API returned).
pub fn well_formed_iccid(text: &str) -> bool {
    (19..=20).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses SIM `index` (0-based) of the snapshot at `path` when its ICCID cannot be the API's.
fn check_iccid(iccid: &str, index: usize, path: &str) -> Result<(), SnapshotError> {
    if well_formed_iccid(iccid) {
        return Ok(());
    }
    const SHOWN: usize = 24;
    let chars = iccid.chars().count();
    let shown = if chars > SHOWN {
        let head: String = iccid.chars().take(SHOWN).collect();
        format!("\"{head}…\" ({chars} characters)")
    } else {
        format!("{iccid:?}")
    };
    Err(SnapshotError::Iccid {
        path: path.to_string(),
        number: index + 1,
        shown,
    })
}

/// A snapshot file's bytes: mapped from the page cache for a regular file, read into memory
/// otherwise (a pipe, an empty file, or where mapping fails).
///
/// Why map: a million-SIM snapshot is 470 MB. Read, every byte was copied out of the page cache
/// into fresh memory the kernel first had to zero, all before the first SIM could be split.
/// Mapped, the 1,000,000-SIM plan took 2.25–2.79 s (mean 2.48 s) against 2.53–2.93 s (mean
/// 2.67 s) read, with a third of the system time (BENCHMARKS.md).
pub enum SnapshotBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl SnapshotBytes {
    /// The bytes of the file at `path` (a snapshot, or a plan file: both are large inputs read
    /// once).
    pub fn open(path: &Path) -> std::io::Result<SnapshotBytes> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only and private, and lives only while one command reads
            // it. What the compiler cannot rule out is another process changing the file in
            // place meanwhile: changed bytes make a parse error at worst, a truncation can end
            // the process with SIGBUS. simfleet itself never changes a file in place (exports
            // and plan files are written to a temporary file and renamed over, which leaves a
            // mapped file intact), and a snapshot or plan file is an input the operator names; ripgrep makes
            // the same trade for large files.
            #[allow(unsafe_code)]
            let mapped = unsafe { memmap2::Mmap::map(&file) };
            if let Ok(map) = mapped {
                return Ok(SnapshotBytes::Mapped(map));
            }
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes)?;
        Ok(SnapshotBytes::Read(bytes))
    }
}

/// The bytes of a snapshot being planned, which may let go of the part already decided.
pub trait SnapshotSource: std::ops::Deref<Target = [u8]> {
    /// `part`, a piece of these bytes, has been decided and is not needed again soon.
    fn decided(&self, _part: &[u8]) {}
}

impl SnapshotSource for &[u8] {}

impl SnapshotSource for Vec<u8> {}

impl SnapshotSource for SnapshotBytes {
    /// Takes the decided part's pages out of this process's resident set: a mapped million-SIM
    /// snapshot would otherwise count its 470 MB in the plan's peak memory, though each SIM's
    /// text is read once. The pages stay in the page cache and come back, unchanged, if the part
    /// is read again (a duplicate-ICCID check, a table after the SIMs).
    fn decided(&self, part: &[u8]) {
        let SnapshotBytes::Mapped(map) = self else {
            return;
        };
        // Whole 64 KiB pieces inside `part` only (a multiple of every page size in use), so
        // no page of a neighbouring part is touched.
        const PIECE: usize = 1 << 16;
        let base = map.as_ptr() as usize;
        let start = (part.as_ptr() as usize).wrapping_sub(base);
        let end = start.wrapping_add(part.len());
        if start > map.len() || end > map.len() {
            return;
        }
        let from = start.next_multiple_of(PIECE);
        let to = end - end % PIECE;
        if to > from {
            // SAFETY: the map is a shared, read-only mapping of a file nobody writes while it is
            // read (see `open`). MADV_DONTNEED on such a mapping drops the process's references
            // to the pages; a later read faults them in again from the file, with the same
            // bytes, so every reference into the map stays valid and reads what it read before.
            // A failure leaves the pages resident, which is only slower, so it is ignored.
            #[allow(unsafe_code)]
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
            };
        }
    }
}

impl std::ops::Deref for SnapshotBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            SnapshotBytes::Mapped(map) => map,
            SnapshotBytes::Read(bytes) => bytes,
        }
    }
}

/// A snapshot whose header is parsed but whose SIMs are still JSON text, borrowed from the file's
/// bytes.
///
/// This is how a plan reads a million-SIM snapshot: one fast pass finds where each SIM's text
/// starts and ends (serde_json validates it on the way), then the SIMs are parsed one at a time,
/// by as many threads as there are cores, and each is dropped as soon as the plan has looked at
/// it. Parsing from memory is several times faster than from a reader, and no `Vec<Sim>` of the
/// whole fleet ever exists. Read by [`StreamingSeed`], with the same rules as [`Snapshot`]'s
/// derive (unknown keys refused, `taken_at` and `transitions` optional).
#[derive(Debug)]
pub struct RawSnapshot<'a> {
    format_version: u32,
    transitions: Option<Vec<Transition>>,
    sims: Vec<&'a serde_json::value::RawValue>,
}

impl<'a> RawSnapshot<'a> {
    /// Reads a snapshot file's bytes (to be split with [`RawSnapshot::parse`]).
    pub fn read(path: &Path) -> Result<SnapshotBytes, SnapshotError> {
        SnapshotBytes::open(path).map_err(|source| SnapshotError::Read {
            path: path.display().to_string(),
            source,
        })
    }

    /// Checks the header and finds every SIM's text; `path` is only used in messages.
    pub fn parse(bytes: &'a [u8], path: &str) -> Result<RawSnapshot<'a>, SnapshotError> {
        RawSnapshot::parse_streaming(bytes, path, usize::MAX, |_| false, |_, _| {})
    }

    /// [`RawSnapshot::parse`] that hands out SIM texts while it is still reading: once the
    /// header before `sims` is read, `on_sims` gets the transition table (when `transitions`
    /// comes first, as simfleet writes it) and returns whether to stream; then `on_batch` gets
    /// every run of `batch` SIM texts, in order, with the index of its first. A reader can decide
    /// SIMs on another core while the rest of the file is split. Without a table before `sims`,
    /// nothing is streamed (a SIM's status cannot be decided without the table) and the caller
    /// reads the returned snapshot as from [`RawSnapshot::parse`].
    pub fn parse_streaming(
        bytes: &'a [u8],
        path: &str,
        batch: usize,
        on_sims: impl FnOnce(Option<&[Transition]>) -> bool,
        on_batch: impl FnMut(usize, Vec<&'a serde_json::value::RawValue>),
    ) -> Result<RawSnapshot<'a>, SnapshotError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let raw = StreamingSeed {
            batch: batch.max(1),
            on_sims: Some(on_sims),
            on_batch,
        }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|source| SnapshotError::Parse {
            path: path.to_string(),
            source,
        })?;
        if raw.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::Version {
                path: path.to_string(),
                found: raw.format_version,
            });
        }
        Ok(raw)
    }

    /// Number of SIMs.
    pub fn len(&self) -> usize {
        self.sims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sims.is_empty()
    }

    /// The transition table, if the snapshot has one.
    pub fn transitions(&self) -> Option<&[Transition]> {
        self.transitions.as_deref()
    }

    /// Parses SIM `index` (0-based) with the same rules as [`Snapshot::load`].
    pub fn sim(&self, index: usize, path: &str) -> Result<Sim, SnapshotError> {
        match self.sims.get(index) {
            Some(text) => RawSnapshot::parse_sim(text, index, path),
            None => RawSnapshot::parse_sim_text("null", index, path),
        }
    }

    /// Parses one SIM's text, the `index`-th (0-based) of its snapshot.
    pub fn parse_sim(
        text: &serde_json::value::RawValue,
        index: usize,
        path: &str,
    ) -> Result<Sim, SnapshotError> {
        RawSnapshot::parse_sim_text(text.get(), index, path)
    }

    fn parse_sim_text(text: &str, index: usize, path: &str) -> Result<Sim, SnapshotError> {
        let sim: Sim = serde_json::from_str(text).map_err(|source| SnapshotError::Sim {
            path: path.to_string(),
            number: index + 1,
            source,
        })?;
        check_iccid(&sim.iccid, index, path)?;
        Ok(sim)
    }

    /// The first ICCID that appears twice, if any. Reads only the ICCIDs; a caller that saw the
    /// SIMs in strictly ascending order already knows there is none.
    pub fn duplicate_iccid(&self, path: &str) -> Result<Option<String>, SnapshotError> {
        #[derive(Deserialize)]
        struct IccidOnly<'s> {
            #[serde(borrow)]
            iccid: std::borrow::Cow<'s, str>,
        }
        let mut seen = std::collections::HashSet::with_capacity(self.sims.len());
        for (index, raw) in self.sims.iter().enumerate() {
            let sim: IccidOnly<'_> =
                serde_json::from_str(raw.get()).map_err(|source| SnapshotError::Sim {
                    path: path.to_string(),
                    number: index + 1,
                    source,
                })?;
            if !seen.insert(sim.iccid.clone()) {
                return Ok(Some(sim.iccid.into_owned()));
            }
        }
        Ok(None)
    }
}

impl Snapshot {
    /// Parses and checks a snapshot; `path` is only used in messages.
    pub fn from_json(text: &str, path: &str) -> Result<Snapshot, SnapshotError> {
        let snapshot: Snapshot =
            serde_json::from_str(text).map_err(|source| SnapshotError::Parse {
                path: path.to_string(),
                source,
            })?;
        snapshot.check(path)
    }

    /// Reads a snapshot file.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let shown = path.display().to_string();
        let bytes = RawSnapshot::read(path)?;
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|source| SnapshotError::Parse {
                path: shown.clone(),
                source,
            })?;
        snapshot.check(&shown)
    }

    /// The checks every loaded snapshot passes: its version, ICCIDs the API can have, and unique
    /// ICCIDs. (A [`RawSnapshot`]'s SIMs pass the same when they are parsed.)
    fn check(self, path: &str) -> Result<Snapshot, SnapshotError> {
        if self.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::Version {
                path: path.to_string(),
                found: self.format_version,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(self.sims.len());
        for (index, sim) in self.sims.iter().enumerate() {
            check_iccid(&sim.iccid, index, path)?;
            if !seen.insert(sim.iccid.as_str()) {
                return Err(SnapshotError::DuplicateIccid {
                    path: path.to_string(),
                    iccid: sim.iccid.clone(),
                });
            }
        }
        Ok(self)
    }
}

/// Deserialises a [`RawSnapshot`] with the same rules as its derive, streaming SIM texts.
struct StreamingSeed<S, B> {
    batch: usize,
    on_sims: Option<S>,
    on_batch: B,
}

impl<'de, S, B> DeserializeSeed<'de> for StreamingSeed<S, B>
where
    S: FnOnce(Option<&[Transition]>) -> bool,
    B: FnMut(usize, Vec<&'de serde_json::value::RawValue>),
{
    type Value = RawSnapshot<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawSnapshot<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S, B> Visitor<'de> for StreamingSeed<S, B>
where
    S: FnOnce(Option<&[Transition]>) -> bool,
    B: FnMut(usize, Vec<&'de serde_json::value::RawValue>),
{
    type Value = RawSnapshot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snapshot object {format_version, taken_at, transitions, sims}")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<RawSnapshot<'de>, A::Error> {
        const FIELDS: &[&str] = &["format_version", "taken_at", "transitions", "sims"];
        let mut format_version = None;
        // Checked (a string or null), not kept: a plan does not read it.
        let mut taken_at: Option<Option<String>> = None;
        let mut transitions: Option<Option<Vec<Transition>>> = None;
        let mut sims = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let duplicate = || serde::de::Error::custom(format!("duplicate field `{key}`"));
            match key.as_ref() {
                "format_version" if format_version.is_none() => {
                    format_version = Some(map.next_value()?)
                }
                "taken_at" if taken_at.is_none() => taken_at = Some(map.next_value()?),
                "transitions" if transitions.is_none() => transitions = Some(map.next_value()?),
                "sims" if sims.is_none() => {
                    let stream = match (self.on_sims.take(), &transitions) {
                        (Some(on_sims), Some(table)) => on_sims(table.as_deref()),
                        _ => false,
                    };
                    sims = Some(map.next_value_seed(RawSimsSeed {
                        batch: self.batch,
                        on_batch: stream.then_some(&mut self.on_batch),
                    })?)
                }
                k if FIELDS.contains(&k) => return Err(duplicate()),
                k => return Err(serde::de::Error::unknown_field(k, FIELDS)),
            }
        }
        Ok(RawSnapshot {
            format_version: format_version
                .ok_or_else(|| serde::de::Error::missing_field("format_version"))?,
            transitions: transitions.flatten(),
            sims: sims.ok_or_else(|| serde::de::Error::missing_field("sims"))?,
        })
    }
}

struct RawSimsSeed<'b, B> {
    batch: usize,
    on_batch: Option<&'b mut B>,
}

impl<'de, B> DeserializeSeed<'de> for RawSimsSeed<'_, B>
where
    B: FnMut(usize, Vec<&'de serde_json::value::RawValue>),
{
    type Value = Vec<&'de serde_json::value::RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, B> Visitor<'de> for RawSimsSeed<'_, B>
where
    B: FnMut(usize, Vec<&'de serde_json::value::RawValue>),
{
    type Value = Vec<&'de serde_json::value::RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of SIM objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut sent = 0;
        while let Some(raw) = seq.next_element::<&'de serde_json::value::RawValue>()? {
            all.push(raw);
            if let Some(on_batch) = self.on_batch.as_mut() {
                if all.len() - sent == self.batch {
                    on_batch(sent, all[sent..].to_vec());
                    sent = all.len();
                }
            }
        }
        if let Some(on_batch) = self.on_batch.as_mut() {
            if all.len() > sent {
                on_batch(sent, all[sent..].to_vec());
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"format_version": 1, "taken_at": "2026-11-28T00:00:00Z",
        "sims": [{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5, "apn": "x"}]}"#;

    #[test]
    fn loading_a_file_reads_what_the_derive_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, ONE).unwrap();
        let loaded = Snapshot::load(&path).unwrap();
        assert_eq!(loaded, Snapshot::from_json(ONE, "s.json").unwrap());
        assert_eq!(loaded.sims[0].apn.as_deref(), Some("x"));
    }

    #[test]
    fn decided_parts_of_a_mapped_file_read_the_same_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let text: Vec<u8> = (0..1_000_000u32).flat_map(|n| n.to_le_bytes()).collect();
        std::fs::write(&path, &text).unwrap();
        let bytes = SnapshotBytes::open(&path).unwrap();
        assert!(matches!(bytes, SnapshotBytes::Mapped(_)));
        assert_eq!(&bytes[..], &text[..]);
        // A part, the whole file, an empty part and bytes from elsewhere: the map reads the
        // same after each (dropped pages come back from the file).
        bytes.decided(&bytes[70_000..3_000_000]);
        assert_eq!(&bytes[..], &text[..]);
        bytes.decided(&bytes[..]);
        bytes.decided(&bytes[5..5]);
        bytes.decided(&text[..]);
        assert_eq!(&bytes[..], &text[..]);
    }

    #[test]
    fn a_regular_file_is_mapped_and_anything_else_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, ONE).unwrap();
        let bytes = RawSnapshot::read(&path).unwrap();
        assert!(matches!(bytes, SnapshotBytes::Mapped(_)));
        assert_eq!(&*bytes, ONE.as_bytes());
        // An empty file cannot be mapped: it is read (and then fails as JSON, not as a map).
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "").unwrap();
        let bytes = RawSnapshot::read(&empty).unwrap();
        assert!(matches!(&bytes, SnapshotBytes::Read(b) if b.is_empty()));
        assert!(matches!(
            Snapshot::load(&empty),
            Err(SnapshotError::Parse { .. })
        ));
        // A directory is neither: the error names the path.
        let err = RawSnapshot::read(dir.path()).err().unwrap();
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn raw_snapshots_read_what_the_derive_reads() {
        let raw = RawSnapshot::parse(ONE.as_bytes(), "s.json").unwrap();
        let full = Snapshot::from_json(ONE, "s.json").unwrap();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw.sim(0, "s.json").unwrap(), full.sims[0]);
        assert_eq!(raw.transitions(), None);
        assert_eq!(raw.duplicate_iccid("s").unwrap(), None);
        let twice = r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5},
            {"iccid": "89490000000000000023", "statusid": 2, "providerid": 5}, {"iccid": "89490000000000000015", "statusid": 2, "providerid": 5}]}"#;
        let raw = RawSnapshot::parse(twice.as_bytes(), "s").unwrap();
        assert_eq!(
            raw.duplicate_iccid("s").unwrap(),
            Some("89490000000000000015".to_string())
        );
    }

    #[test]
    fn raw_snapshots_refuse_what_the_derive_refuses() {
        for bad in [
            r#"{"format_version": 1, "sims": [], "extra": 1}"#,
            r#"{"sims": []}"#,
            r#"{"format_version": 1}"#,
            r#"{"format_version": 2, "sims": []}"#,
            r#"{"format_version": 1, "sims": []} trailing"#,
            r#"{"format_version": 1, "format_version": 1, "sims": []}"#,
            r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5}, ]}"#,
        ] {
            assert!(RawSnapshot::parse(bad.as_bytes(), "s").is_err(), "{bad}");
        }
        // A SIM's own errors show when it is parsed, with its position.
        let bad_sim = r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5},
            {"iccid": "89490000000000000023", "statusid": 2}]}"#;
        let raw = RawSnapshot::parse(bad_sim.as_bytes(), "s").unwrap();
        assert!(raw.sim(0, "s").is_ok());
        let message = raw.sim(1, "s").unwrap_err().to_string();
        assert!(message.contains("SIM number 2"), "{message}");
        assert!(message.contains("providerid"), "{message}");
    }

    #[test]
    fn streaming_hands_out_every_sim_in_order_only_after_the_table() {
        let sims: Vec<String> = (1..=7)
            .map(|i| {
                format!(r#"{{"iccid": "8949000000000000001{i}", "statusid": 2, "providerid": 5}}"#)
            })
            .collect();
        let with_table = format!(
            r#"{{"format_version": 1, "transitions": [], "sims": [{}]}}"#,
            sims.join(",")
        );
        let mut seen = Vec::new();
        let raw = RawSnapshot::parse_streaming(
            with_table.as_bytes(),
            "s",
            3,
            |table| table == Some(&[][..]),
            |start, batch| seen.push((start, batch.len())),
        )
        .unwrap();
        assert_eq!(seen, vec![(0, 3), (3, 3), (6, 1)]);
        assert_eq!(raw.len(), 7);
        // `sims` before `transitions`, or no table at all: nothing streamed, all returned.
        for text in [
            format!(
                r#"{{"format_version": 1, "sims": [{}], "transitions": []}}"#,
                sims.join(",")
            ),
            format!(r#"{{"format_version": 1, "sims": [{}]}}"#, sims.join(",")),
        ] {
            let mut streamed = 0;
            let raw = RawSnapshot::parse_streaming(
                text.as_bytes(),
                "s",
                3,
                |_| true,
                |_, b| streamed += b.len(),
            )
            .unwrap();
            assert_eq!((streamed, raw.len()), (0, 7));
        }
        // The same refusals as `parse`.
        for bad in [
            r#"{"format_version": 1, "sims": [], "extra": 1}"#,
            r#"{"format_version": 2, "sims": []}"#,
            r#"{"format_version": 1, "sims": []} trailing"#,
            r#"{"format_version": 1, "format_version": 1, "sims": []}"#,
        ] {
            assert!(
                RawSnapshot::parse_streaming(bad.as_bytes(), "s", 3, |_| true, |_, _| {}).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_iccid_the_api_cannot_have_is_refused_by_both_readers() {
        let long = "8".repeat(200);
        for iccid in [
            "8949",
            long.as_str(),
            "8949000000000000001x",
            "894900000000000000155",
        ] {
            let text = format!(
                r#"{{"format_version": 1, "sims": [{{"iccid": "89490000000000000015", "statusid": 2, "providerid": 5}},
                    {{"iccid": "{iccid}", "statusid": 2, "providerid": 5}}]}}"#
            );
            let whole = Snapshot::from_json(&text, "s").unwrap_err().to_string();
            let raw = RawSnapshot::parse(text.as_bytes(), "s").unwrap();
            let split = raw.sim(1, "s").unwrap_err().to_string();
            assert_eq!(whole, split);
            assert!(
                whole.contains("SIM number 2") && whole.contains("not 19–20 digits"),
                "{whole}"
            );
            assert!(whole.len() < 200, "the ICCID is cut: {whole}");
        }
        assert!(well_formed_iccid("8949000000000000001"));
        assert!(well_formed_iccid("89490000000000000015"));
    }

    #[test]
    fn loading_refuses_what_the_derive_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        for bad in [
            r#"{"format_version": 1, "sims": [], "extra": 1}"#,
            r#"{"sims": []}"#,
            r#"{"format_version": 1}"#,
            r#"{"format_version": 2, "sims": []}"#,
            r#"{"format_version": 1, "sims": [{"iccid": "89490000000000000015"}]}"#,
            r#"{"format_version": 1, "sims": []} trailing"#,
            r#"{"format_version": 1, "format_version": 1, "sims": []}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(Snapshot::load(&path).is_err(), "{bad}");
            assert!(Snapshot::from_json(bad, "s").is_err(), "{bad}");
        }
    }
}
