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
static JSON: AtomicBool = AtomicBool::new(false);

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
    JSON.store(args.log_format == LogFormat::Json, Ordering::Relaxed);
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

/// With `--log-format json`, stderr is JSON lines only: a note or an error becomes one object
/// shaped like the subscriber's events (`timestamp`, `level`, `fields.message`, `target`).
fn json_line(level: &str, message: &str) -> String {
    let event = serde_json::json!({
        "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
        "level": level,
        "fields": { "message": message },
        "target": "simfleet",
    });
    format!("{event}\n")
}

/// Prints the error that ends the command, as a plain `error:` line or a JSON event.
pub fn report_error(error: &simfleet::Error) {
    if JSON.load(Ordering::Relaxed) {
        eprint!("{}", json_line("ERROR", &error.to_string()));
    } else {
        eprintln!("error: {error}");
    }
}

/// Where notes go: stderr as they are, as JSON events with `--log-format json`, nowhere with
/// `--quiet`.
pub fn notes() -> Box<dyn std::io::Write> {
    if quiet() {
        Box::new(std::io::sink())
    } else if JSON.load(Ordering::Relaxed) {
        Box::new(JsonNotes::default())
    } else {
        Box::new(std::io::stderr())
    }
}

/// Turns each complete line written to it into one JSON event on stderr.
#[derive(Default)]
struct JsonNotes {
    pending: Vec<u8>,
}

impl JsonNotes {
    fn emit(&mut self, upto: usize) {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if !text.is_empty() {
            eprint!("{}", json_line("INFO", text));
        }
    }
}

impl std::io::Write for JsonNotes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            self.emit(end + 1);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for JsonNotes {
    fn drop(&mut self) {
        let rest = self.pending.len();
        self.emit(rest);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn json_events_carry_the_message() {
        let line = json_line("INFO", "plan saved to plan.json");
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(event["fields"]["message"], "plan saved to plan.json");
        assert_eq!(event["level"], "INFO");
        assert!(line.ends_with('\n'));
    }

    #[test]
    fn notes_are_split_into_lines() {
        let mut notes = JsonNotes::default();
        notes.write_all(b"first\nsec").expect("write");
        assert_eq!(notes.pending, b"sec");
        notes.write_all(b"ond\n").expect("write");
        assert!(notes.pending.is_empty());
    }
}
