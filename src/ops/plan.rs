//! `simfleet plan`: load the spec, open the live source, call the plan engine, render.
//!
//! Orchestration only: the plan itself is made by [`crate::plan::engine`], the API read by
//! [`super::read`], the output by [`crate::render`]. `apply DIR` and the tests call
//! [`make_plan`] rather than repeating the wiring. `SIMFLEET_LOG=simfleet=debug` logs each
//! phase's time.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use crate::fleet::RawSnapshot;
use crate::output::Output;
use crate::plan::{self, Guards, Plan, PlanRequest};
use crate::render::{self, MarkdownOptions, TextOptions};
use crate::spec::{self, Matcher};
use crate::{Error, Outcome};

use super::connect::ConnectOptions;
use super::read;

pub use super::read::{fetch_with_progress, PUSHDOWN_MIN_FLEET};

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
    /// `--why-drift`: read the events of at most this many drifted SIMs (API sources only).
    pub why_drift: Option<u64>,
    /// The day waivers are judged by (days since 1970-01-01, UTC), from the settings.
    pub today: i64,
    /// `--last-applied PLANFILE`: what that plan set (loaded by the settings); the plan reports
    /// the SIMs no longer at it.
    pub last_applied: Option<std::sync::Arc<crate::plan::last_applied::LastApplied>>,
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
    /// Spec locations as links in markdown (built by the settings; `None`: plain text).
    pub links: Option<render::SourceLinks>,
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
    make_plan_of(opts, |spec| spec).await
}

/// [`make_plan`] of the spec as `shape` makes it (`check` keeps only its checks).
async fn make_plan_of(
    opts: &PlanOptions,
    shape: impl FnOnce(spec::Spec) -> spec::Spec,
) -> Result<MadePlan, Error> {
    let loaded = spec::load(&opts.dir)?;
    let mut notes: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    // Waivers expire by the calendar: the plan is judged as of the settings' today (UTC).
    let spec = shape(loaded.spec).with_today(opts.today);
    let target = match &opts.target {
        Some(text) => Some(Matcher::parse_inline_with(text, spec.config())?),
        None => None,
    };
    let request = PlanRequest {
        spec: &spec,
        target: target.as_ref(),
        guards: opts.guards.clone(),
    };
    let mut plan = match &opts.source {
        LiveSource::Snapshot(path) => {
            let mut plan = plan_snapshot_file(&request, path)?;
            if let Some(last) = &opts.last_applied {
                super::last_applied::attach_from_snapshot(path, &mut plan, last, &spec)?;
            }
            plan
        }
        LiveSource::Api(connect) => {
            read::plan_from_api(connect, &request, opts, &mut notes).await?
        }
    };
    plan.generated_at = Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
    Ok(MadePlan { plan, notes })
}

/// Plans against a snapshot file (`--live`), with the time it took in the debug log.
pub(super) fn plan_snapshot_file(request: &PlanRequest<'_>, path: &Path) -> Result<Plan, Error> {
    let started = Instant::now();
    let bytes = RawSnapshot::read(path)?;
    let plan = plan::plan_snapshot(request, bytes, &path.display().to_string())?;
    tracing::debug!(
        sims = plan.summary.sims_seen,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "snapshot planned"
    );
    Ok(plan)
}

/// Runs `simfleet plan`: makes the plan, prints it, saves it with `--out`.
pub async fn run(
    opts: &PlanOptions,
    render_opts: &RenderOptions,
    out: &mut Output,
) -> Result<Outcome, Error> {
    if let Some(path) = &render_opts.out {
        crate::output::check_target(path)?;
    }
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

/// Runs `simfleet check`: the spec's checks judged on the live fleet as it is now (a plan of
/// the checks alone, which changes nothing), printed as text or JSON. Blocked (exit 3) when a
/// `deny` check fails or a waiver has expired.
pub async fn check(
    opts: &PlanOptions,
    json: bool,
    mask: bool,
    out: &mut Output,
) -> Result<Outcome, Error> {
    // Drift is judged against the whole spec (a plan of its rules), the checks on the fleet as
    // it is: `--why-drift` and `--last-applied` cost a second read of the fleet.
    let (drift, since_last_apply) = match (opts.why_drift, &opts.last_applied) {
        (None, None) => (None, None),
        _ => {
            let full = make_plan(opts).await?;
            for note in &full.notes {
                out.note(note)?;
            }
            (full.plan.drift, full.plan.since_last_apply)
        }
    };
    let checks_only = PlanOptions {
        why_drift: None,
        last_applied: None,
        ..opts.clone()
    };
    let made = make_plan_of(&checks_only, |spec| spec.checks_only()).await?;
    for note in &made.notes {
        out.note(note)?;
    }
    let plan = &made.plan;
    for warning in plan.warnings.iter().filter(|w| {
        matches!(
            w.code,
            plan::WarningCode::UnmatchedCheck | plan::WarningCode::WaiverExpiring
        )
    }) {
        out.note(&format!("warning: {}", warning.message))?;
    }
    if json {
        let mut value = serde_json::json!({ "checks": plan.checks, "waivers": plan.waivers });
        if let Some(drift) = &drift {
            value["drift"] = serde_json::to_value(drift).unwrap_or_default();
        }
        if let Some(report) = &since_last_apply {
            value["since_last_apply"] = serde_json::to_value(report).unwrap_or_default();
        }
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        out.print_json(&text)?;
    } else {
        out.print(&render::checks_text(plan, mask))?;
        if let Some(drift) = &drift {
            out.print(&render::drift_text(drift, mask))?;
        }
        if let Some(report) = &since_last_apply {
            out.print(&render::last_applied_text(report, mask))?;
        }
    }
    Ok(plan.outcome())
}

/// Runs `simfleet show PLANFILE`: renders a saved plan exactly as `plan` printed it.
pub fn show(path: &Path, render_opts: &RenderOptions, out: &mut Output) -> Result<Outcome, Error> {
    // A masked plan is for reading: shown (with a note), while apply refuses it.
    let plan = match read_plan_file(path, Plan::from_file_json) {
        Err(Error::PlanFile {
            source: crate::plan::PlanError::Masked { .. },
            ..
        }) => {
            let plan = read_plan_file(path, Plan::from_masked_file_json)?;
            out.note(&format!(
                "{} is a masked plan: shown for reading (its identifiers keep their last 4 digits and its checksum is not checked); apply refuses it",
                path.display()
            ))?;
            plan
        }
        other => other?,
    };
    print_plan(&plan, render_opts, out)?;
    Ok(plan.outcome())
}

/// Reads and checks a saved plan file (format and checksum). The file is mapped, not copied
/// (as a snapshot is): a million-SIM plan file is 600 MB that the kernel would otherwise zero
/// and copy before the parse begins.
pub fn load_plan_file(path: &Path) -> Result<Plan, Error> {
    read_plan_file(path, Plan::from_file_json)
}

/// A plan file mapped and read by `parse`.
fn read_plan_file(
    path: &Path,
    parse: fn(&str) -> Result<Plan, crate::plan::PlanError>,
) -> Result<Plan, Error> {
    let read_error = |source| Error::ReadPlan {
        path: path.display().to_string(),
        source,
    };
    let bytes = crate::fleet::SnapshotBytes::open(path).map_err(read_error)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    parse(text).map_err(|e| Error::PlanFile {
        path: path.display().to_string(),
        source: e,
    })
}

/// Prints a plan in the chosen format on stdout.
pub fn print_plan(plan: &Plan, render_opts: &RenderOptions, out: &mut Output) -> Result<(), Error> {
    match render_opts.format {
        // Streamed: the JSON of a million-SIM plan need not exist in memory as one string.
        PlanFormat::Json if !render_opts.mask => out.print_with(|w| render::write_json(plan, w)),
        PlanFormat::Json => out.print_json(&plan_text(plan, render_opts)),
        _ => out.print(&plan_text(plan, render_opts)),
    }
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
        PlanFormat::Markdown => render::markdown_linked(
            plan,
            MarkdownOptions {
                mask: render_opts.mask,
            },
            render_opts.links.as_ref(),
        ),
        PlanFormat::Json if render_opts.mask => render::json_masked(plan),
        PlanFormat::Json => render::json(plan),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}
