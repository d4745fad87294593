//! `simfleet plan`: load the spec, read the live fleet, resolve every rule against every SIM,
//! build the plan and render it.
//!
//! This is the one place where the stages meet, so `apply` (which plans first when given a
//! directory) and the tests call [`make_plan`] rather than repeating the wiring. Reading the
//! fleet is the only part that talks to the network; everything after it is pure.
//!
//! The per-SIM pass (resolve, decide) runs on every core over contiguous runs of SIMs, merged in
//! order, so a million-SIM plan costs what its changes cost: a snapshot is split into one JSON
//! text per SIM in memory, and each SIM is parsed, decided and dropped; no `Vec<Sim>` of the
//! fleet is ever built from a snapshot. `SIMFLEET_LOG=simfleet=debug` logs each phase's time.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::api::{self, BatchJobStatus, FetchOptions, FetchScope, SimFields};
use crate::fleet::{Coverage, LiveFleet, RawSnapshot, Sim, SimFilter, SnapshotError};
use crate::plan::{Guards, PartialPlan, Plan, PlanError, PlanInput, TransitionSet};
use crate::render::{self, MarkdownOptions, TextOptions};
use crate::spec::{self, Matcher};
use crate::{Error, Outcome};

use super::connect::{ConnectOptions, Connection};

/// Fleets smaller than this are always read whole: a full read is a handful of pages, cheaper
/// than counting what each rule's filter selects.
pub const PUSHDOWN_MIN_FLEET: u64 = 5_000;

/// Output formats of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Markdown,
    Json,
}

/// Where the live fleet is read from.
#[derive(Debug, Clone)]
pub enum LiveSource {
    /// The API (real endpoint or `--sandbox`).
    Api(ConnectOptions),
    /// `--live SNAPSHOT`: offline, no network.
    Snapshot(PathBuf),
}

/// Everything `plan` needs besides the spec directory.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub dir: PathBuf,
    pub source: LiveSource,
    /// `--target`: only SIMs matching this selector (same syntax as `match`).
    pub target: Option<String>,
    /// Partitions read at once.
    pub concurrency: usize,
    pub allow_status_cuts: bool,
    pub allow_irreversible: bool,
    pub max_changes: Option<u64>,
    pub max_percent: Option<f64>,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// Rendering options of `plan` and `show`.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub format: PlanFormat,
    pub verbose: bool,
    pub mask: bool,
    pub out: Option<PathBuf>,
}

/// A plan and the notes gathered while making it.
pub struct MadePlan {
    pub plan: Plan,
    /// Spec warnings, token-file warnings, fetch notes: printed on stderr.
    pub notes: Vec<String>,
}

/// Loads the spec, reads the fleet and builds the plan, without printing it.
pub async fn make_plan(opts: &PlanOptions) -> Result<MadePlan, Error> {
    let loaded = spec::load(&opts.dir)?;
    let spec = loaded.spec;
    let mut notes: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    let config = spec.config().clone();
    let target = match &opts.target {
        Some(text) => Some(Matcher::parse_inline_with(text, &config)?),
        None => None,
    };

    let guards = Guards {
        max_changes: opts.max_changes.or(config.max_changes),
        max_percent: opts.max_percent.or(config.max_percent),
        allow_status_cuts: opts.allow_status_cuts || config.allow_status_cuts,
        allow_irreversible: opts.allow_irreversible || config.allow_irreversible,
    };
    let mut plan = match &opts.source {
        LiveSource::Snapshot(path) => {
            let shown = path.display().to_string();
            let started = Instant::now();
            let bytes = RawSnapshot::read(path)?;
            let raw = RawSnapshot::parse(&bytes, &shown)?;
            tracing::debug!(
                sims = raw.len(),
                bytes = bytes.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "snapshot split into SIMs"
            );
            let table = raw.transitions().map(TransitionSet::new);
            let runs = decide_every_sim(
                &spec,
                target.as_ref(),
                raw.len(),
                table.as_ref(),
                true,
                |i| raw.sim(i, &shown).map(Cow::Owned).map_err(Error::from),
            )?;
            let ascending = PartialPlan::in_order(&runs);
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "every SIM decided"
            );
            if !ascending {
                if let Some(iccid) = raw.duplicate_iccid(&shown)? {
                    return Err(SnapshotError::DuplicateIccid { path: shown, iccid }.into());
                }
            }
            // The snapshot's text is no longer needed: free it before the runs are joined and
            // the plan grows its actions.
            let sims_total = raw.len() as u64;
            let transitions = raw.transitions().map(<[_]>::to_vec);
            drop(raw);
            drop(bytes);
            let plan = PartialPlan::concat(runs).finish(&PlanInput {
                sims: &[],
                desired: &[],
                sims_total,
                coverage: Coverage::Full,
                transitions: transitions.as_deref(),
                running_batch_jobs: &[],
                guards,
                spec_digest: spec.digest(),
                updates_per_request: 1,
            });
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "actions grouped, checksum computed"
            );
            plan
        }
        LiveSource::Api(connect) => {
            let mut connect = connect.clone();
            if connect.requests_per_second.is_none() {
                connect.requests_per_second = config.requests_per_second;
            }
            let conn = Connection::open(&connect, &mut notes).await?;
            let concurrency = config.concurrency.unwrap_or(opts.concurrency).max(1);
            let result = read_live(&conn, &spec, target.as_ref(), concurrency, opts.progress).await;
            conn.close().await;
            let (live, note) = result?;
            notes.push(note);
            let table = live.transitions.as_deref().map(TransitionSet::new);
            let runs = decide_every_sim(
                &spec,
                target.as_ref(),
                live.sims.len(),
                table.as_ref(),
                live.coverage == Coverage::Full,
                |i| Ok(Cow::Borrowed(&live.sims[i])),
            )?;
            // Decided: the fetched SIMs are no longer needed before the calls are grouped.
            let mut live = live;
            drop(std::mem::take(&mut live.sims));
            PartialPlan::concat(runs).finish(&PlanInput {
                sims: &[],
                desired: &[],
                sims_total: live.sims_total,
                coverage: live.coverage.clone(),
                transitions: live.transitions.as_deref(),
                running_batch_jobs: &live.running_batch_jobs,
                guards,
                spec_digest: spec.digest(),
                updates_per_request: 1,
            })
        }
    }
    .map_err(Error::Plan)?;
    plan.generated_at = Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
    Ok(MadePlan { plan, notes })
}

/// Runs `simfleet plan`: makes the plan, prints it, saves it with `--out`.
pub async fn run(
    opts: &PlanOptions,
    render_opts: &RenderOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, Error> {
    let made = make_plan(opts).await?;
    for note in &made.notes {
        let _ = writeln!(err, "{note}");
    }
    if let Some(path) = &render_opts.out {
        write_atomically_with(path, |w| made.plan.write_file_json(w))?;
        let _ = writeln!(
            err,
            "plan saved to {} ({})",
            path.display(),
            made.plan.checksum
        );
    }
    let started = Instant::now();
    print_plan(&made.plan, render_opts, out);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "plan printed"
    );
    Ok(made.plan.outcome())
}

/// Runs `simfleet show PLANFILE`: renders a saved plan exactly as `plan` printed it.
pub fn show(
    path: &Path,
    render_opts: &RenderOptions,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let plan = load_plan_file(path)?;
    print_plan(&plan, render_opts, out);
    Ok(plan.outcome())
}

/// Reads and checks a saved plan file (format and checksum).
pub fn load_plan_file(path: &Path) -> Result<Plan, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadPlan {
        path: path.display().to_string(),
        source,
    })?;
    Plan::from_file_json(&text).map_err(|e| Error::PlanFile {
        path: path.display().to_string(),
        source: e,
    })
}

/// Prints a plan in the chosen format on `out`.
pub fn print_plan(plan: &Plan, render_opts: &RenderOptions, out: &mut dyn Write) {
    if render_opts.format == PlanFormat::Json && !render_opts.mask {
        // Streamed: the JSON of a million-SIM plan need not exist in memory as one string.
        let _ = render::write_json(plan, out);
        return;
    }
    let text = match render_opts.format {
        PlanFormat::Text => render::text(
            plan,
            TextOptions {
                verbose: render_opts.verbose,
                color: use_color(),
                mask: render_opts.mask,
            },
        ),
        PlanFormat::Markdown => render::markdown(
            plan,
            MarkdownOptions {
                mask: render_opts.mask,
            },
        ),
        PlanFormat::Json if render_opts.mask => render::json_masked(plan),
        PlanFormat::Json => render::json(plan),
    };
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

/// Colours only on a terminal, and never with `NO_COLOR` set (https://no-color.org).
fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A progress bar only on an interactive terminal outside CI.
pub fn interactive_progress() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a crash never
/// leaves half a plan behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomically`], with the content written by `write` into the temporary file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |source: std::io::Error| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    write(tmp.as_file_mut()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The per-SIM pass of a plan, on every core: each SIM in view (all, or those `--target`
/// selects) is resolved against the spec once and decided, and dropped unless it changes. Every
/// conflict between rules and every `sims:` entry that the fleet lacks is reported, all together.
/// `sim(i)` yields SIM `i` of `n`, borrowed from a fetched fleet or parsed from a snapshot.
fn decide_every_sim<'s, G>(
    spec: &spec::Spec,
    target: Option<&Matcher>,
    n: usize,
    table: Option<&TransitionSet>,
    list_unmanaged: bool,
    sim: G,
) -> Result<Vec<PartialPlan>, Error>
where
    G: Fn(usize) -> Result<Cow<'s, Sim>, Error> + Sync,
{
    struct Run {
        plan: PartialPlan,
        conflicts: Vec<spec::Conflict>,
        entries_found: Vec<String>,
        error: Option<Error>,
    }
    let entries: HashSet<&str> = spec.sim_entry_iccids().map(|(iccid, _)| iccid).collect();
    let runs = crate::parallel::fold_runs(
        n,
        || Run {
            plan: PartialPlan::new(list_unmanaged),
            conflicts: Vec::new(),
            entries_found: Vec::new(),
            error: None,
        },
        |run, i| {
            if run.error.is_some() {
                return;
            }
            let sim = match sim(i) {
                Ok(sim) => sim,
                Err(e) => {
                    run.error = Some(e);
                    return;
                }
            };
            if target.is_some_and(|t| !t.matches(&sim)) {
                return;
            }
            if entries.contains(sim.iccid.as_str()) {
                run.entries_found.push(sim.iccid.clone());
            }
            let resolution = match spec.resolve_borrowed(&sim) {
                Ok(resolution) => resolution,
                Err(conflict) => {
                    run.conflicts.push(conflict);
                    return;
                }
            };
            if let Err(e) = run.plan.visit_resolution(&sim, resolution, table) {
                run.error = Some(Error::Plan(e));
            }
        },
    );
    let mut plans = Vec::with_capacity(runs.len());
    let mut conflicts = Vec::new();
    let mut found = HashSet::new();
    for run in runs {
        if let Some(e) = run.error {
            return Err(e);
        }
        plans.push(run.plan);
        conflicts.extend(run.conflicts);
        found.extend(run.entries_found);
    }
    if !conflicts.is_empty() {
        return Err(Error::Conflicts(conflicts));
    }
    // With --target only part of the fleet is in view: entries outside it are not checked.
    if target.is_none() {
        let missing: Vec<String> = spec
            .sim_entry_iccids()
            .filter(|(iccid, _)| !found.contains(*iccid))
            .map(|(iccid, origin)| format!("{iccid} ({})", origin.location()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Plan(PlanError::UnknownIccids(missing)));
        }
    }
    Ok(plans)
}

/// Reads the fleet through the API: the transition table, running batch jobs, and the SIMs —
/// all of them, or only what the spec's (or `--target`'s) filters select on a large fleet.
async fn read_live(
    conn: &Connection,
    spec: &spec::Spec,
    target: Option<&Matcher>,
    concurrency: usize,
    progress: bool,
) -> Result<(LiveFleet, String), Error> {
    let client = &conn.client;
    let started = Instant::now();
    let transitions = client.status_transitions().await?;
    let mut running_batch_jobs = Vec::new();
    for status in [BatchJobStatus::Preparing, BatchJobStatus::Running] {
        let page = client.list_batch_jobs(Some(status), 100, None).await?;
        running_batch_jobs.extend(page.items.iter().map(|j| j.id));
    }
    running_batch_jobs.sort_unstable();

    let scope = match target.and_then(Matcher::to_filter) {
        Some(filter) => FetchScope::Filters(vec![filter]),
        None => match spec.pushdown_filters() {
            Some(filters) if !filters.is_empty() => {
                let total = client.count_sims(&SimFilter::default()).await?;
                if total >= PUSHDOWN_MIN_FLEET {
                    FetchScope::Filters(filters)
                } else {
                    FetchScope::Everything
                }
            }
            _ => FetchScope::Everything,
        },
    };
    let coverage = match scope {
        FetchScope::Everything => Coverage::Full,
        FetchScope::Filters(_) => Coverage::PushedDown,
    };
    let fetched =
        fetch_with_progress(client, scope, SimFields::Plan, concurrency, progress).await?;
    let note = format!(
        "read {} of {} SIMs{} in {} requests ({:.1}s, concurrency {concurrency})",
        fetched.sims.len(),
        fetched.sims_total,
        if coverage == Coverage::PushedDown {
            " (filters pushed down)"
        } else {
            ""
        },
        client.requests_sent(),
        started.elapsed().as_secs_f64(),
    );
    Ok((
        LiveFleet {
            sims: fetched.sims,
            sims_total: fetched.sims_total,
            coverage,
            transitions: Some(transitions),
            running_batch_jobs,
        },
        note,
    ))
}

/// Reads `scope` with the partitioned fetch, with a progress bar on an interactive terminal.
/// Shared by `plan` and `export`.
pub async fn fetch_with_progress(
    client: &api::Client,
    scope: FetchScope,
    fields: SimFields,
    concurrency: usize,
    progress: bool,
) -> Result<api::FetchedSims, Error> {
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading fleet {bar:30} {pos}/{len} SIMs ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress_fn: Option<api::ProgressFn> = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }) as api::ProgressFn
    });
    let fetched = api::fetch_sims(
        client,
        scope,
        FetchOptions {
            concurrency: concurrency.max(1),
            fields,
            progress: progress_fn,
        },
    )
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(fetched)
}
