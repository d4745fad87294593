//! `simfleet explain ICCID… [SPEC]`: why each named SIM gets the values it gets.
//!
//! Orchestration only: the ICCIDs are checked (every malformed one reported at once), the
//! named SIMs alone are read (through the API with `iccid: {in: [...]}` filters of at most
//! [`ICCID_FILTER_CHUNK`], so one SIM of a million-SIM fleet costs a page, not the fleet; or
//! from `--live SNAPSHOT`), and [`crate::plan::explain`] explains each with the plan's own
//! engine. With `--plan PLANFILE` the saved plan's records are explained instead.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::api::{self, FetchOptions, FetchScope, SimFields};
use crate::fleet::{RawSnapshot, Sim, SimFilter, StringFilter, Transition};
use crate::output::Output;
use crate::plan::explain::{self, ExplainReport, ExplainSource, Explanation};
use crate::plan::TransitionSet;
use crate::render::{self, ExplainStyle};
use crate::spec::{self, Spec, ICCID_FILTER_CHUNK};
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection};
use super::plan::PlanFormat;

/// Where the SIMs are explained from.
#[derive(Debug, Clone)]
pub enum ExplainFrom {
    /// The API (real endpoint or `--sandbox`): only the named SIMs are read.
    Api(ConnectOptions),
    /// `--live SNAPSHOT`.
    Snapshot(PathBuf),
    /// `--plan PLANFILE`: the plan's records.
    Plan(PathBuf),
}

/// Everything `explain` needs.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// As given on the command line, checked here.
    pub iccids: Vec<String>,
    /// The spec directory; optional only with `--plan`.
    pub spec_dir: Option<PathBuf>,
    pub from: ExplainFrom,
    pub format: PlanFormat,
    pub mask: bool,
    /// Requests in flight at once, merged by the settings.
    pub concurrency: usize,
    /// The day waivers are judged by (days since 1970-01-01), from the settings.
    pub today: i64,
    /// Spec locations as links in markdown (built by the settings).
    pub links: Option<render::SourceLinks>,
}

/// Runs `simfleet explain`.
pub async fn run(opts: &ExplainOptions, out: &mut Output) -> Result<Outcome, Error> {
    // The Luhn check is the spec's setting; a plan explained without its spec checks only the
    // ICCIDs' form (the plan's ICCIDs are what they are).
    let luhn_check = match &opts.spec_dir {
        Some(dir) => spec::load_config(dir)?.luhn_check,
        None => false,
    };
    let iccids = checked_iccids(&opts.iccids, luhn_check)?;
    let spec = match &opts.spec_dir {
        Some(dir) => {
            let loaded = spec::load(dir)?;
            for warning in &loaded.warnings {
                out.note(&warning.to_string())?;
            }
            Some(loaded.spec.with_today(opts.today))
        }
        None => None,
    };
    let (report, missing) = match (&opts.from, &spec) {
        (ExplainFrom::Plan(path), spec) => (from_plan(path, &iccids, spec.as_ref())?, Vec::new()),
        (ExplainFrom::Snapshot(path), Some(spec)) => {
            let (sims, table) = read_snapshot(path, &iccids)?;
            live_report(spec, &iccids, &sims, table, ExplainSource::Snapshot)?
        }
        (ExplainFrom::Api(connect), Some(spec)) => {
            let (sims, table) = read_api(connect, &iccids, opts.concurrency, out).await?;
            live_report(spec, &iccids, &sims, table, ExplainSource::Api)?
        }
        (_, None) => {
            return Err(Error::Usage(
                "explain needs the spec directory (the last argument) unless it explains a saved plan (--plan)".to_string(),
            ))
        }
    };
    print(&report, opts, out)?;
    if missing.is_empty() {
        Ok(Outcome::Success)
    } else {
        Err(Error::NotInFleet {
            iccids: missing,
            read_from: match &opts.from {
                ExplainFrom::Snapshot(path) => format!("snapshot {}", path.display()),
                _ => "the API".to_string(),
            },
        })
    }
}

/// The ICCIDs, each once in the order given; every malformed one is reported together.
fn checked_iccids(given: &[String], luhn_check: bool) -> Result<Vec<String>, Error> {
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    let mut iccids = Vec::new();
    for iccid in given {
        match spec::values::check_iccid(iccid, luhn_check) {
            Err(e) => bad.push(e.message),
            Ok(()) if seen.insert(iccid.as_str()) => iccids.push(iccid.clone()),
            Ok(()) => {}
        }
    }
    match bad.as_slice() {
        [] if iccids.is_empty() => Err(Error::Usage(
            "explain needs at least one ICCID: simfleet explain ICCID... [SPEC]".to_string(),
        )),
        [] => Ok(iccids),
        _ => Err(Error::Usage(format!(
            "{} malformed ICCID(s): {}. An ICCID has 19–20 digits and a Luhn check digit (if yours have none, set `luhn_check: false` in simfleet.yaml)",
            bad.len(),
            bad.join("; ")
        ))),
    }
}

/// Explains each ICCID found among `sims`; returns the ICCIDs not found.
fn live_report(
    spec: &Spec,
    iccids: &[String],
    sims: &[Sim],
    table: Option<Vec<Transition>>,
    source: ExplainSource,
) -> Result<(ExplainReport, Vec<String>), Error> {
    let table = table.as_deref().map(TransitionSet::new);
    let mut explained: Vec<Explanation> = Vec::new();
    let mut missing = Vec::new();
    for iccid in iccids {
        match sims.iter().find(|s| &s.iccid == iccid) {
            Some(sim) => {
                explained.push(explain::explain(spec, sim, table.as_ref()).map_err(Error::Plan)?)
            }
            None => missing.push(iccid.clone()),
        }
    }
    let report = ExplainReport {
        source,
        plan_checksum: None,
        sims: explained,
    };
    Ok((report, missing))
}

/// Explains each ICCID from a saved plan's records.
fn from_plan(path: &Path, iccids: &[String], spec: Option<&Spec>) -> Result<ExplainReport, Error> {
    let plan = super::plan::load_plan_file(path)?;
    Ok(ExplainReport {
        source: ExplainSource::Plan,
        plan_checksum: Some(plan.checksum.clone()),
        sims: (iccids.iter())
            .map(|iccid| explain::explain_recorded(&plan, iccid, spec))
            .collect(),
    })
}

/// The named SIMs of a snapshot, and its transition table. Only SIM texts that contain one of
/// the ICCIDs are parsed.
pub(super) fn read_snapshot(
    path: &Path,
    iccids: &[String],
) -> Result<(Vec<Sim>, Option<Vec<Transition>>), Error> {
    let wanted: std::collections::HashSet<&str> = iccids.iter().map(String::as_str).collect();
    let shown = path.display().to_string();
    let bytes = RawSnapshot::read(path)?;
    let raw = RawSnapshot::parse(&bytes, &shown)?;
    let mut sims = Vec::new();
    for index in 0..raw.len() {
        let sim = raw.sim(index, &shown)?;
        if wanted.contains(sim.iccid.as_str()) {
            sims.push(sim);
        }
    }
    Ok((sims, raw.transitions().map(<[Transition]>::to_vec)))
}

/// The named SIMs read through the API (`iccid in [...]` filters, never the whole fleet) and
/// the transition table, read together.
async fn read_api(
    connect: &ConnectOptions,
    iccids: &[String],
    concurrency: usize,
    out: &mut Output,
) -> Result<(Vec<Sim>, Option<Vec<Transition>>), Error> {
    let mut notes = Vec::new();
    let conn = Connection::open(connect, &mut notes).await?;
    let filters: Vec<SimFilter> = (iccids.chunks(ICCID_FILTER_CHUNK))
        .map(|chunk| SimFilter {
            iccid: Some(StringFilter {
                in_: Some(chunk.to_vec()),
                ..StringFilter::default()
            }),
            ..SimFilter::default()
        })
        .collect();
    let options = FetchOptions {
        concurrency: concurrency.max(1),
        fields: SimFields::Plan,
        progress: None,
    };
    let client = &conn.client;
    let read = futures::future::try_join(
        api::fetch_sims(client, FetchScope::Filters(filters), options),
        client.status_transitions(),
    )
    .await;
    let requests = client.requests_sent();
    conn.close().await;
    let (fetched, table) = read?;
    for note in &notes {
        out.note(note)?;
    }
    out.note(&format!(
        "read {} of {} SIMs in {requests} requests",
        fetched.sims.len(),
        fetched.sims_total
    ))?;
    Ok((fetched.sims, Some(table)))
}

/// Prints the report in the chosen format.
fn print(report: &ExplainReport, opts: &ExplainOptions, out: &mut Output) -> Result<(), Error> {
    match opts.format {
        PlanFormat::Json => out.print_json(&render::explain_json(report)),
        PlanFormat::Text => out.print(&render::explain_text(
            report,
            ExplainStyle::Text,
            opts.mask,
            None,
        )),
        PlanFormat::Markdown => out.print(&render::explain_text(
            report,
            ExplainStyle::Markdown,
            opts.mask,
            opts.links.as_ref(),
        )),
    }
}
