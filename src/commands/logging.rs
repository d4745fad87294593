//! The global `--quiet`, `--verbose` and `--log-format` flags, and the tracing subscriber they set
//! up: diagnostics (API traffic, retries) go to stderr as text or JSON lines, never to stdout,
//! so `plan --format json` stays parseable with logging on.
//!
//! The API token never reaches a log line: the client marks the Authorization header sensitive
//! and logs operation names, attempts, statuses and durations only (tests/logging.rs checks it).

use clap::{ArgAction, Args, ValueEnum};
use simfleet::output::LogWriter;
use simfleet::settings::Env;
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
    /// Mask ICCIDs, IMEIs and MSISDNs but their last 4 digits in everything printed: plans,
    /// reports, notes, warnings, log lines and errors (for public CI logs and PR comments; masked
    /// JSON is for reading only). Saved plan files are never masked.
    #[arg(long, global = true)]
    pub mask: bool,
}

impl LogArgs {
    /// The environment every command's settings start from.
    pub fn env(&self) -> Env {
        Env::detect(
            self.quiet,
            self.mask,
            self.verbose,
            self.log_format == LogFormat::Json,
        )
    }
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
pub fn init(args: &LogArgs, env: &Env) {
    let mut warning = None;
    let filter = match std::env::var("SIMFLEET_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec.trim()).unwrap_or_else(|e| {
                warning = Some(format!(
                    "SIMFLEET_LOG is not a valid filter ({e}); using the default"
                ));
                EnvFilter::new(filter_for(args))
            })
        }
        _ => EnvFilter::new(filter_for(args)),
    };
    let mask = env.mask;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || LogWriter { mask })
        .with_target(true);
    let result = match args.log_format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_ansi(false)
            .try_init(),
        LogFormat::Text => builder.with_ansi(env.stderr_color).try_init(),
    };
    if let Err(e) = result {
        warning = Some(format!("cannot set up logging: {e}"));
    }
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_beats_verbose() {
        let args = LogArgs {
            quiet: true,
            verbose: 3,
            log_format: LogFormat::Text,
            mask: false,
        };
        assert_eq!(filter_for(&args), "error");
    }
}
