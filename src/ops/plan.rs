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
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::api::{self, BatchJobStatus, FetchOptions, FetchScope, SimFields};
use crate::fleet::{Coverage, LiveFleet, RawSnapshot, Sim, SimFilter, SnapshotError};
use crate::output::Output;
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
    /// Guards, merged by the settings (flags > `simfleet.yaml` > defaults).
    pub guards: Guards,
    /// Partitions read at once, merged by the settings.
    pub concurrency: usize,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// Rendering options of `plan` and `show`.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub format: PlanFormat,
    pub verbose: bool,
    pub mask: bool,
    /// ANSI colours in text (decided by the settings).
    pub color: bool,
    pub out: Option<PathBuf>,
}

/// A plan and the notes gathered while making it.
pub struct MadePlan {
    pub plan: Plan,
    /// Spec warnings, token-file warnings, fetch notes: printed on stderr.
    pub notes: Vec<String>,
}

/// Loads the spec, reads the fleet and builds the plan, without printing it. Guards, concurrency
/// and the request rate come merged in `opts` (see [`crate::settings`]).
pub async fn make_plan(opts: &PlanOptions) -> Result<MadePlan, Error> {
    let loaded = spec::load(&opts.dir)?;
    let spec = loaded.spec;
    let mut notes: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    let config = spec.config().clone();
    let target = match &opts.target {
        Some(text) => Some(Matcher::parse_inline_with(text, &config)?),
        None => None,
    };
    let guards = opts.guards.clone();
    let mut plan = match &opts.source {
        LiveSource::Snapshot(path) => {
            let shown = path.display().to_string();
            let started = Instant::now();
            let bytes = RawSnapshot::read(path)?;
            let (raw, streamed) = decide_while_splitting(&spec, target.as_ref(), &bytes, &shown)?;
            tracing::debug!(
                sims = raw.len(),
                bytes = bytes.len(),
                streamed = streamed.is_some(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "snapshot split into SIMs"
            );
            let runs = match streamed {
                Some(runs) => runs,
                None => {
                    let table = raw.transitions().map(TransitionSet::new);
                    decide_every_sim(
                        &spec,
                        target.as_ref(),
                        raw.len(),
                        table.as_ref(),
                        true,
                        |i| raw.sim(i, &shown).map(Cow::Owned).map_err(Error::from),
                    )?
                }
            };
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
            let conn = Connection::open(connect, &mut notes).await?;
            let concurrency = opts.concurrency.max(1);
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
    out: &mut Output,
) -> Result<Outcome, Error> {
    let made = make_plan(opts).await?;
    for note in &made.notes {
        out.note(note)?;
    }
    if let Some(path) = &render_opts.out {
        crate::output::write_file_with(path, |w| made.plan.write_file_json(w))?;
        out.note(&format!(
            "plan saved to {} ({})",
            path.display(),
            made.plan.checksum
        ))?;
    }
    let started = Instant::now();
    print_plan(&made.plan, render_opts, out)?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "plan printed"
    );
    Ok(made.plan.outcome())
}

/// Runs `simfleet show PLANFILE`: renders a saved plan exactly as `plan` printed it.
pub fn show(path: &Path, render_opts: &RenderOptions, out: &mut Output) -> Result<Outcome, Error> {
    let plan = load_plan_file(path)?;
    print_plan(&plan, render_opts, out)?;
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

/// Prints a plan in the chosen format on stdout.
pub fn print_plan(plan: &Plan, render_opts: &RenderOptions, out: &mut Output) -> Result<(), Error> {
    if render_opts.format == PlanFormat::Json && !render_opts.mask {
        // Streamed: the JSON of a million-SIM plan need not exist in memory as one string.
        return out.print_with(|w| render::write_json(plan, w));
    }
    out.print(&plan_text(plan, render_opts))
}

/// A plan rendered in the chosen format, ending in a newline.
pub fn plan_text(plan: &Plan, render_opts: &RenderOptions) -> String {
    let mut text = match render_opts.format {
        PlanFormat::Text => render::text(
            plan,
            TextOptions {
                verbose: render_opts.verbose,
                color: render_opts.color,
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
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// One run of the per-SIM pass: what it decided, and what it found wrong.
struct Run {
    plan: PartialPlan,
    conflicts: Vec<spec::Conflict>,
    entries_found: Vec<String>,
    error: Option<Error>,
}

/// What every run of the per-SIM pass shares: the spec, `--target`, and the ICCIDs of `sims:`
/// entries (to report those the fleet lacks).
struct Pass<'p> {
    spec: &'p spec::Spec,
    target: Option<&'p Matcher>,
    entries: HashSet<&'p str>,
    list_unmanaged: bool,
}

impl<'p> Pass<'p> {
    fn new(spec: &'p spec::Spec, target: Option<&'p Matcher>, list_unmanaged: bool) -> Pass<'p> {
        Pass {
            spec,
            target,
            entries: spec.sim_entry_iccids().map(|(iccid, _)| iccid).collect(),
            list_unmanaged,
        }
    }

    fn run(&self) -> Run {
        Run {
            plan: PartialPlan::new(self.list_unmanaged),
            conflicts: Vec::new(),
            entries_found: Vec::new(),
            error: None,
        }
    }

    /// Resolves and decides one SIM in view (all, or those `--target` selects); a run stops at
    /// its first error.
    fn step(&self, run: &mut Run, sim: Result<Cow<'_, Sim>, Error>, table: Option<&TransitionSet>) {
        if run.error.is_some() {
            return;
        }
        let sim = match sim {
            Ok(sim) => sim,
            Err(e) => {
                run.error = Some(e);
                return;
            }
        };
        if self.target.is_some_and(|t| !t.matches(&sim)) {
            return;
        }
        if self.entries.contains(sim.iccid.as_str()) {
            run.entries_found.push(sim.iccid.clone());
        }
        let resolution = match self.spec.resolve_borrowed(&sim) {
            Ok(resolution) => resolution,
            Err(conflict) => {
                run.conflicts.push(conflict);
                return;
            }
        };
        if let Err(e) = run.plan.visit_resolution(&sim, resolution, table) {
            run.error = Some(Error::Plan(e));
        }
    }

    /// The runs' plans in order, or every conflict between rules and every `sims:` entry that the
    /// fleet lacks, all together.
    fn finish(&self, runs: Vec<Run>) -> Result<Vec<PartialPlan>, Error> {
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
        if self.target.is_none() {
            let missing: Vec<String> = self
                .spec
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
}

/// The per-SIM pass of a plan, on every core: each SIM in view is resolved against the spec
/// once and decided, and dropped unless it changes. `sim(i)` yields SIM `i` of `n`, borrowed
/// from a fetched fleet or parsed from a snapshot.
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
    let pass = Pass::new(spec, target, list_unmanaged);
    let runs = crate::parallel::fold_runs(n, || pass.run(), |run, i| pass.step(run, sim(i), table));
    pass.finish(runs)
}

/// SIMs per piece of work while a snapshot is still being split.
const STREAM_BATCH: usize = 4096;

/// The per-SIM pass over a snapshot file's bytes, started while the file is still being split:
/// the splitting thread hands out runs of SIM texts, a second thread decides them as they come,
/// and the splitting thread joins in once it is done. Returns the split snapshot and the
/// decided runs in file order, or `None` for the runs when the snapshot could not be streamed
/// (no transition table before its SIMs) and must be decided afterwards.
fn decide_while_splitting<'b>(
    spec: &spec::Spec,
    target: Option<&Matcher>,
    bytes: &'b [u8],
    shown: &str,
) -> Result<(RawSnapshot<'b>, Option<Vec<PartialPlan>>), Error> {
    type Batch<'r> = (usize, Vec<&'r serde_json::value::RawValue>);
    let pass = Pass::new(spec, target, true);
    let table: std::sync::OnceLock<Option<TransitionSet>> = std::sync::OnceLock::new();
    let (to_workers, batches) = std::sync::mpsc::channel::<Batch<'b>>();
    let batches = std::sync::Mutex::new(batches);
    let work = || {
        let mut done: Vec<(usize, Run)> = Vec::new();
        loop {
            let next = match batches.lock() {
                Ok(batches) => batches.recv(),
                Err(_) => break,
            };
            let Ok((start, sims)) = next else { break };
            let table = table.get().and_then(Option::as_ref);
            let mut run = pass.run();
            for (k, text) in sims.into_iter().enumerate() {
                let sim = RawSnapshot::parse_sim(text, start + k, shown)
                    .map(Cow::Owned)
                    .map_err(Error::from);
                pass.step(&mut run, sim, table);
            }
            done.push((start, run));
        }
        done
    };
    let work = &work;
    let (split, mut done) = std::thread::scope(|scope| {
        let helper = scope.spawn(work);
        let split = RawSnapshot::parse_streaming(
            bytes,
            shown,
            STREAM_BATCH,
            |transitions| table.set(transitions.map(TransitionSet::new)).is_ok(),
            |start, sims| {
                let _ = to_workers.send((start, sims));
            },
        );
        drop(to_workers);
        let mut done = work();
        done.extend(
            helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
        (split, done)
    });
    let split = split?;
    if table.get().is_none() {
        return Ok((split, None));
    }
    done.sort_by_key(|(start, _)| *start);
    let runs = pass.finish(done.into_iter().map(|(_, run)| run).collect())?;
    Ok((split, Some(runs)))
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
    // The transition table and the running batch jobs do not depend on the SIMs: they are read
    // alongside them rather than before (three round trips less before the first page).
    let context = async {
        let transitions = client.status_transitions().await?;
        let mut running_batch_jobs = Vec::new();
        for status in [BatchJobStatus::Preparing, BatchJobStatus::Running] {
            let page = client.list_batch_jobs(Some(status), 100, None).await?;
            running_batch_jobs.extend(page.items.iter().map(|j| j.id));
        }
        running_batch_jobs.sort_unstable();
        Ok::<_, Error>((transitions, running_batch_jobs))
    };
    let sims = async {
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
        Ok::<_, Error>((fetched, coverage))
    };
    let ((transitions, running_batch_jobs), (fetched, coverage)) =
        futures::future::try_join(context, sims).await?;
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
