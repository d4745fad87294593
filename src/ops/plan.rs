//! `simfleet plan`: load the spec, read the live fleet, resolve every rule against every SIM,
//! build the plan and render it.
//!
//! This is the one place where the stages meet, so `apply` (which plans first when given a
//! directory) and the tests call [`make_plan`] rather than repeating the wiring. Reading the
//! fleet is the only part that talks to the network; everything after it is pure.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::api::{self, BatchJobStatus, FetchOptions, FetchScope, SimFields};
use crate::fleet::{Coverage, LiveFleet, SimFilter, Snapshot};
use crate::plan::{self, Guards, Plan, PlanError, PlanInput};
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

    let live = match &opts.source {
        LiveSource::Snapshot(path) => {
            live_from_snapshot(Snapshot::load_trimmed(path, keep_plan_fields)?)
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
            live
        }
    };

    check_resolution(&spec, &live, target.as_ref())?;
    // With --target only the selected SIMs are in view (a copy of just those).
    let targeted: Option<Vec<crate::fleet::Sim>> = target
        .as_ref()
        .map(|t| live.sims.iter().filter(|s| t.matches(s)).cloned().collect());
    let sims = targeted.as_deref().unwrap_or(&live.sims);
    let guards = Guards {
        max_changes: opts.max_changes.or(config.max_changes),
        max_percent: opts.max_percent.or(config.max_percent),
        allow_status_cuts: opts.allow_status_cuts || config.allow_status_cuts,
        allow_irreversible: opts.allow_irreversible || config.allow_irreversible,
    };
    // Resolved on the fly: only changing SIMs keep desired state (see plan::build_resolving).
    let mut plan = plan::build_resolving(
        PlanInput {
            sims,
            desired: &[],
            sims_total: live.sims_total,
            coverage: live.coverage.clone(),
            transitions: live.transitions.as_deref(),
            running_batch_jobs: &live.running_batch_jobs,
            guards,
            spec_digest: spec.digest(),
            updates_per_request: 1,
        },
        |sim| spec.resolve(sim).ok().flatten(),
    )
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
    print_plan(&made.plan, render_opts, out);
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

/// Drops what no plan reads (usage counters, session and network details) from a SIM read from a
/// snapshot; what stays is what `api::SimFields::Plan` asks the API for.
fn keep_plan_fields(sim: &mut crate::fleet::Sim) {
    sim.activation_timestamp = None;
    sim.in_session_since = None;
    sim.monthly_data_volume = None;
    sim.monthly_sms_mo = None;
    sim.monthly_sms_mt = None;
    sim.monthly_voice_mo = None;
    sim.previous_month_data_volume = None;
    sim.nwc = None;
    sim.apn = None;
    sim.ip_address = None;
}

fn live_from_snapshot(snapshot: Snapshot) -> LiveFleet {
    let mut sims = snapshot.sims;
    sims.sort_by(|a, b| a.iccid.cmp(&b.iccid));
    LiveFleet {
        sims_total: sims.len() as u64,
        sims,
        coverage: Coverage::Full,
        transitions: snapshot.transitions,
        running_batch_jobs: Vec::new(),
    }
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

/// Checks the spec against the live fleet before planning: every conflict between rules (for the
/// SIMs in view) and every `sims:` entry that the fleet lacks is an error, all reported together.
/// Resolution here borrows and allocates nothing, so this pass is cheap on large fleets.
fn check_resolution(
    spec: &spec::Spec,
    live: &LiveFleet,
    target: Option<&Matcher>,
) -> Result<(), Error> {
    let conflicts: Vec<spec::Conflict> = live
        .sims
        .iter()
        .filter(|s| target.is_none_or(|t| t.matches(s)))
        .filter_map(|sim| spec.resolve_borrowed(sim).err())
        .collect();
    if !conflicts.is_empty() {
        return Err(Error::Conflicts(conflicts));
    }
    // With --target only part of the fleet is in view: entries outside it are not checked.
    if target.is_none() {
        let missing: Vec<String> = spec
            .sim_entry_iccids()
            .filter(|(iccid, _)| {
                live.sims
                    .binary_search_by(|s| s.iccid.as_str().cmp(iccid))
                    .is_err()
            })
            .map(|(iccid, origin)| format!("{iccid} ({})", origin.location()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Plan(PlanError::UnknownIccids(missing)));
        }
    }
    Ok(())
}
