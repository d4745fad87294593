//! `simfleet export`: read the live fleet once and write it as a snapshot file, as a spec
//! directory, or both.
//!
//! Nothing is ever half-written: the snapshot goes through a temporary file renamed into place,
//! and the spec is written to a temporary directory next to the target, loaded back and checked
//! to reproduce every SIM before it replaces the target. An existing non-empty target is refused
//! before any network traffic unless `--force`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use crate::api::{FetchScope, SimFields};
use crate::export::{self, ExportError, ExportedSpec, GroupKey};
use crate::fleet::{Sim, Snapshot, Transition, SNAPSHOT_FORMAT_VERSION};
use crate::spec::Field;
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection};
use crate::output::{write_file, Output};

/// Where the fleet is read from.
#[derive(Debug, Clone)]
pub enum ExportSource {
    Api(ConnectOptions),
    /// `--live SNAPSHOT`: export a spec from a saved snapshot, offline.
    Snapshot(PathBuf),
}

/// What `simfleet export` writes.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub source: ExportSource,
    /// `--snapshot FILE`.
    pub snapshot: Option<PathBuf>,
    /// `--spec DIR`.
    pub spec_dir: Option<PathBuf>,
    pub fields: Vec<Field>,
    pub group_by: Vec<GroupKey>,
    /// Replace a non-empty spec directory.
    pub force: bool,
    /// listSims requests in flight at once (counting and paging alike).
    pub concurrency: usize,
    pub progress: bool,
    /// List every value that could not be exported.
    pub verbose: bool,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| {
        Error::Export(ExportError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Runs `simfleet export`; the summary goes to stderr as notes (stdout stays free for pipes).
pub async fn run(opts: &ExportOptions, out: &mut Output) -> Result<Outcome, Error> {
    if opts.snapshot.is_none() && opts.spec_dir.is_none() {
        return Err(ExportError::NoTarget.into());
    }
    // Refuse a bad target before reading thousands of SIMs.
    if let Some(path) = &opts.snapshot {
        crate::output::check_target(path)?;
    }
    if let Some(dir) = &opts.spec_dir {
        check_target(dir, opts.force)?;
    }
    let started = Instant::now();
    let taken_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let (sims, transitions, source) = match &opts.source {
        ExportSource::Snapshot(path) => {
            let snapshot = Snapshot::load(path)?;
            (
                snapshot.sims,
                snapshot.transitions,
                format!("snapshot {}", path.display()),
            )
        }
        ExportSource::Api(connect) => {
            let mut notes = Vec::new();
            let conn = Connection::open(connect, &mut notes).await?;
            for note in &notes {
                out.note(note)?;
            }
            let result = read_fleet(&conn, opts.concurrency, opts.progress).await;
            let endpoint = conn.client.endpoint().to_string();
            conn.close().await;
            let (sims, transitions) = result?;
            let source = if connect.sandbox {
                "the embedded sandbox".to_string()
            } else {
                shown_endpoint(&endpoint)
            };
            (sims, Some(transitions), source)
        }
    };
    out.note(&format!(
        "read {} SIMs from {source} ({:.1}s)",
        sims.len(),
        started.elapsed().as_secs_f64()
    ))?;

    if let Some(path) = &opts.snapshot {
        let snapshot = Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            taken_at: Some(taken_at.clone()),
            transitions: transitions.clone(),
            sims: Vec::new(),
        };
        write_file(path, snapshot_json(&snapshot, &sims).as_bytes())?;
        out.note(&format!(
            "snapshot of {} SIMs written to {}",
            sims.len(),
            path.display()
        ))?;
    }

    if let Some(dir) = &opts.spec_dir {
        let export_started = Instant::now();
        let mut export_opts = export::ExportOptions::new(source, taken_at);
        export_opts.fields = opts.fields.clone();
        export_opts.group_by = opts.group_by.clone();
        let exported = export::export_spec(&sims, &export_opts);
        write_spec(dir, &exported, &sims, &export_opts, opts.force)?;
        out.note(&report(
            dir,
            &exported,
            &sims,
            &export_opts,
            export_started.elapsed().as_secs_f64(),
            opts.verbose,
        ))?;
    }
    Ok(Outcome::Success)
}

/// The endpoint as the files' header shows it: without user info or query, which could hold
/// credentials that must not be committed.
fn shown_endpoint(endpoint: &str) -> String {
    let without_query = endpoint.split(['?', '#']).next().unwrap_or(endpoint);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_string(),
    }
}

/// The transition table and every SIM with every field, read with the partitioned fetch.
async fn read_fleet(
    conn: &Connection,
    concurrency: usize,
    progress: bool,
) -> Result<(Vec<Sim>, Vec<Transition>), Error> {
    let client = &conn.client;
    let transitions = client.status_transitions().await?;
    let fetched = super::plan::fetch_with_progress(
        client,
        FetchScope::Everything,
        SimFields::All,
        concurrency,
        progress,
    )
    .await?;
    Ok((fetched.sims, transitions))
}

/// The snapshot as JSON with one SIM per line: greppable, and a diff of two snapshots shows
/// the SIMs that changed.
fn snapshot_json(head: &Snapshot, sims: &[Sim]) -> String {
    let mut out = String::from("{\n");
    out.push_str(&format!("\"format_version\": {},\n", head.format_version));
    if let Some(taken_at) = &head.taken_at {
        out.push_str(&format!(
            "\"taken_at\": {},\n",
            serde_json::Value::from(taken_at.as_str())
        ));
    }
    if let Some(transitions) = &head.transitions {
        out.push_str(&format!(
            "\"transitions\": {},\n",
            serde_json::to_string(transitions).unwrap_or_else(|_| "[]".to_string())
        ));
    }
    out.push_str("\"sims\": [");
    for (n, sim) in sims.iter().enumerate() {
        out.push_str(if n == 0 { "\n" } else { ",\n" });
        out.push_str(&serde_json::to_string(sim).unwrap_or_default());
    }
    out.push_str("\n]\n}\n");
    out
}

/// An existing target must be an empty directory, unless `--force`.
fn check_target(dir: &Path, force: bool) -> Result<(), Error> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(dir)(e)),
        Ok(meta) if !meta.is_dir() => Err(ExportError::NotADirectory {
            path: dir.display().to_string(),
        }
        .into()),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
            if entries.next().is_some() && !force {
                return Err(ExportError::NotEmpty {
                    path: dir.display().to_string(),
                }
                .into());
            }
            Ok(())
        }
    }
}

/// Writes the files to a temporary directory beside `dir`, checks that they load and reproduce
/// every SIM, then swaps them into place.
fn write_spec(
    dir: &Path,
    exported: &ExportedSpec,
    sims: &[Sim],
    opts: &export::ExportOptions,
    force: bool,
) -> Result<(), Error> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".simfleet-export-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    for file in &exported.files {
        let path = staging.path().join(&file.path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io(p))?;
        }
        std::fs::write(&path, &file.text).map_err(io(&path))?;
    }
    #[cfg(unix)]
    {
        // A temporary directory is private (0700); a spec directory is ordinary project files.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(io(staging.path()))?;
    }
    let loaded = crate::spec::load(staging.path())?;
    let problems = export::check_round_trip(&loaded.spec, sims, opts, exported, 10);
    if !problems.is_empty() {
        return Err(ExportError::RoundTrip(problems).into());
    }
    // Re-check: the directory may have been filled while the fleet was read.
    check_target(dir, force)?;
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".simfleet-replaced-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        let aside = old.path().join("spec");
        std::fs::rename(dir, &aside).map_err(io(dir))?;
        if let Err(e) = std::fs::rename(staging.path(), dir) {
            // Put the old directory back rather than leave nothing.
            let _ = std::fs::rename(&aside, dir);
            return Err(io(dir)(e));
        }
        drop(old);
    } else {
        std::fs::rename(staging.path(), dir).map_err(io(dir))?;
    }
    // The staging path is now `dir`: make sure dropping the guard does not remove it.
    let _ = staging.keep();
    Ok(())
}

/// The summary of a written spec, for stderr.
fn report(
    dir: &Path,
    exported: &ExportedSpec,
    sims: &[Sim],
    opts: &export::ExportOptions,
    seconds: f64,
    verbose: bool,
) -> String {
    let mut err = String::new();
    let naive = export::naive_size(sims, &opts.set_fields());
    let _ = writeln!(
        err,
        "spec written to {}: {} file{}, {} rule{} (matching {} SIMs), {} sims entr{} ({} values), {} unmanaged SIM{}; {} bytes, {:.0}% of one entry per SIM ({:.1}s)",
        dir.display(),
        exported.files.len(),
        plural(exported.files.len()),
        exported.rules,
        plural(exported.rules),
        exported.rule_sims,
        exported.entries,
        if exported.entries == 1 { "y" } else { "ies" },
        exported.entry_values,
        exported.unmanaged,
        plural(exported.unmanaged),
        exported.bytes(),
        if naive == 0 { 100.0 } else { exported.bytes() as f64 * 100.0 / naive as f64 },
        seconds,
    );
    if exported.terminal > 0 {
        let _ = writeln!(
            err,
            "left out: {} SIM{} in a terminal status (deleted, retired, replaced), which simfleet never changes",
            exported.terminal,
            plural(exported.terminal)
        );
    }
    if exported.luhn_off {
        let _ = writeln!(
            err,
            "some ICCIDs carry no valid Luhn digit: simfleet.yaml sets luhn_check: false"
        );
    }
    if !exported.skipped.is_empty() {
        let mut by_reason: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
        for s in &exported.skipped {
            *by_reason.entry((s.field.name(), s.reason)).or_default() += 1;
        }
        for ((field, reason), count) in by_reason {
            let _ = writeln!(
                err,
                "left unmanaged: {field} of {count} SIM{} ({reason})",
                plural(count)
            );
        }
        if verbose {
            for s in &exported.skipped {
                let _ = writeln!(err, "  {} {}", s.iccid, s.field);
            }
        }
    }
    err
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_never_shows_credentials_in_the_endpoint() {
        assert_eq!(
            shown_endpoint("https://graphql.api.whereversim.de/graphql"),
            "https://graphql.api.whereversim.de/graphql"
        );
        assert_eq!(
            shown_endpoint("https://user:secret@example.com/graphql?token=x"),
            "https://example.com/graphql"
        );
        assert_eq!(
            shown_endpoint("http://127.0.0.1:9/g#frag"),
            "http://127.0.0.1:9/g"
        );
    }

    #[test]
    fn snapshots_are_one_sim_per_line_and_read_back() {
        let fleet = crate::sandbox::generate(5, 1);
        let head = Snapshot {
            sims: Vec::new(),
            taken_at: Some("2026-11-28T00:00:00Z".into()),
            ..fleet.clone()
        };
        let text = snapshot_json(&head, &fleet.sims);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("{\"iccid\"")).count(),
            5
        );
        let back = Snapshot::from_json(&text, "test").expect("reads back");
        assert_eq!(back.sims, fleet.sims);
        assert_eq!(back.transitions, fleet.transitions);
        assert_eq!(back.taken_at.as_deref(), Some("2026-11-28T00:00:00Z"));
    }
}
