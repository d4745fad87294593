//! The global `--quiet`, `--verbose` and `--log-format` flags, and the tracing subscriber they set
//! up: diagnostics (API traffic, retries) go to stderr as text or JSON lines, never to stdout,
//! so `plan --format json` stays parseable with logging on.
//!
//! The API token never reaches a log line: the client marks the Authorization header sensitive
//! and logs operation names, attempts, statuses and durations only (tests/logging.rs checks it).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgAction, Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event (for log collectors).
    Json,
}

/// Logging flags; they go before the subcommand (`simfleet -vv plan`) or, for `--quiet` and
/// `--log-format`, anywhere.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Print only errors: no notes, progress or warnings on stderr (beats -v).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More diagnostics on stderr: -v one line per API request (operation, attempt, status,
    /// duration), -vv also failed attempts and retries, -vvv everything (also from libraries).
    /// Put it before the command: `simfleet -vv plan`.
    #[arg(id = "log_verbosity", long = "verbose", short = 'v', action = ArgAction::Count)]
    pub verbose: u8,
    /// Format of log lines on stderr.
    #[arg(long, value_enum, global = true, default_value = "text")]
    pub log_format: LogFormat,
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// True with `--quiet`: commands then leave out notes and progress bars.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The filter for a verbosity; `SIMFLEET_LOG` (RUST_LOG syntax) overrides it.
pub fn filter_for(args: &LogArgs) -> String {
    if args.quiet {
        return "error".into();
    }
    match args.verbose {
        0 => "warn",
        1 => "warn,simfleet=info",
        2 => "info,simfleet=debug",
        _ => "trace",
    }
    .into()
}

/// Installs the subscriber. Called once, before any command runs.
pub fn init(args: &LogArgs) {
    QUIET.store(args.quiet, Ordering::Relaxed);
    let filter = match std::env::var("SIMFLEET_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec.trim()).unwrap_or_else(|e| {
                eprintln!("warning: SIMFLEET_LOG is not a valid filter ({e}); using the default");
                EnvFilter::new(filter_for(args))
            })
        }
        _ => EnvFilter::new(filter_for(args)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let result = match args.log_format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_ansi(false)
            .try_init(),
        LogFormat::Text => builder.with_ansi(stderr_color()).try_init(),
    };
    if let Err(e) = result {
        eprintln!("warning: cannot set up logging: {e}");
    }
}

/// Colours on stderr only on a terminal and without `NO_COLOR` (https://no-color.org).
fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
