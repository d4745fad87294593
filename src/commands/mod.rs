//! One file per subcommand: its clap arguments and a `run` that builds the command's settings
//! and calls into `simfleet::ops`; and how every command ends ([`end`]): output flushed, the
//! error reported through `Output`, the exit code from `simfleet::outcome::exit_code`.

pub mod apply;
pub mod check;
pub mod completions;
pub mod connect;
pub mod diff;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod guards;
pub mod links;
pub mod logging;
pub mod man;
pub mod plan;
pub mod reference;
pub mod rehearse;
pub mod sandbox;
pub mod schema;
pub mod show;
pub mod validate;

/// The environment variables simfleet reads, shown under the root command's `--help`.
pub const ENVIRONMENT: &str = "\
Environment:
  WHEREVER_SIM_TOKEN     API token (or --token-file); never printed or logged
  WHEREVER_SIM_ENDPOINT  GraphQL endpoint (default https://graphql.api.whereversim.de/graphql)
  NO_COLOR               any non-empty value turns colours off
  CI                     set (as CI services do): no progress bars
  SIMFLEET_LOG           log filter in RUST_LOG syntax, e.g. simfleet::api=debug (beats -v/-q)
  SIMFLEET_TODAY         the date (YYYY-MM-DD, UTC) waivers are judged by (default today)
  GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_SHA / CI_PROJECT_URL, CI_COMMIT_SHA
                         set by GitHub / GitLab CI: markdown links spec locations to that commit

Exit codes: 0 success (no changes), 1 error (usage errors included), 2 changes (with
--detailed-exitcode), 3 blocked or stopped by a guard, 130 interrupted, 141 stdout closed by
its reader.";

use std::process::ExitCode;

use simfleet::output::Output;
use simfleet::settings::Env;
use simfleet::{Error, Outcome};

/// The tokio runtime the network commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// What a command returned, and how its ending is reported.
pub struct Ran {
    pub result: Result<Outcome, Error>,
    /// `--detailed-exitcode`.
    pub detailed: bool,
    /// The command's own `--verbose`: long lists in the error in full.
    pub verbose: bool,
}

impl Ran {
    /// A command without `--detailed-exitcode` or `--verbose`.
    pub fn plain(result: Result<Outcome, Error>) -> Ran {
        Ran {
            result,
            detailed: false,
            verbose: false,
        }
    }
}

/// Ends every command: stdout flushed (a command is done only when its output is out), the
/// error reported, the exit code decided by `simfleet::outcome::exit_code`.
pub fn end(ran: Ran, env: Env, out: &mut Output) -> ExitCode {
    let result = ran
        .result
        .and_then(|outcome| out.finish().map(|()| outcome));
    if let Err(error) = &result {
        out.error(error, ran.verbose || env.verbosity > 0);
    }
    ExitCode::from(simfleet::outcome::exit_code(&result, ran.detailed))
}

/// Ends a command line clap refused, or `--help` / `--version`: help goes to stdout through
/// `Output` (so a failed write is an error), a usage error to stderr with exit 1 (never 2,
/// which `--detailed-exitcode` gives to "changes").
pub fn end_parse_error(e: clap::Error) -> ExitCode {
    let env = Env::detect(false, false, 0, false);
    let mut out = Output::standard(env.output_style());
    let color = if e.use_stderr() {
        env.stderr_color
    } else {
        env.stdout_color
    };
    let rendered = e.render();
    let text = if color {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    let result = if e.use_stderr() {
        Err(Error::CommandLine(text))
    } else {
        out.print(&text).map(|()| Outcome::Success)
    };
    end(Ran::plain(result), env, &mut out)
}
