//! One settings value per command, built once before any work (as ripgrep builds its `HiArgs`):
//! the guards and limits from flags > `simfleet.yaml` > defaults, and the environment
//! (terminal, `CI`, `NO_COLOR`, `--quiet`, `--mask`, verbosity).
//!
//! Flags pass the same range checks as `simfleet.yaml` values ([`crate::spec::check_range`]),
//! and every problem is reported at once. Colour and progress are decided here only: colour by
//! `anstream` (terminal, `NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb`), progress bars on an
//! interactive stderr outside CI and without `--quiet`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::output::OutputStyle;
use crate::plan::{AllowedBy, Guards};
use crate::spec::{check_range, Config, Setting, SettingName};
use crate::Error;

mod last_applied;
mod links;
pub use links::{forge_vars, repository_root, source_links};

/// Requests in flight at once when neither a flag nor `simfleet.yaml` says.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// How long `apply` waits for a batch job before reporting it (it is left running).
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The spec directory when none is given.
pub const DEFAULT_SPEC_DIR: &str = "fleet";

/// Where the process runs and how it was asked to talk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Env {
    /// `--quiet`: only errors on stderr.
    pub quiet: bool,
    /// `--mask`: identifiers keep their last 4 digits on stdout and stderr.
    pub mask: bool,
    /// `-v` count.
    pub verbosity: u8,
    /// `--log-format json`.
    pub json_logs: bool,
    /// Colours on stdout (plan text).
    pub stdout_color: bool,
    /// Colours on stderr (log lines, the plan `apply` shows).
    pub stderr_color: bool,
    /// stderr is an interactive terminal outside CI (`CI` unset).
    pub interactive_stderr: bool,
    /// stdin is a terminal (`apply` may ask for confirmation).
    pub stdin_terminal: bool,
}

impl Env {
    /// Reads the terminal and the environment variables once.
    pub fn detect(quiet: bool, mask: bool, verbosity: u8, json_logs: bool) -> Env {
        let color = |choice: anstream::ColorChoice| choice != anstream::ColorChoice::Never;
        Env {
            quiet,
            mask,
            verbosity,
            json_logs,
            stdout_color: color(anstream::AutoStream::choice(&std::io::stdout())),
            stderr_color: color(anstream::AutoStream::choice(&std::io::stderr())),
            interactive_stderr: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// A redrawing progress bar on stderr.
    pub fn progress_bar(&self) -> bool {
        self.interactive_stderr && !self.quiet
    }

    /// How stdout and stderr are written.
    pub fn output_style(&self) -> OutputStyle {
        OutputStyle {
            mask: self.mask,
            quiet: self.quiet,
            json_lines: self.json_logs,
        }
    }
}

/// The settings given as flags (`None` / `false` = not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub max_changes: Option<u64>,
    pub max_percent: Option<f64>,
    pub allow_status_cuts: bool,
    pub allow_irreversible: bool,
    pub concurrency: Option<usize>,
    pub requests_per_second: Option<u32>,
    pub job_timeout: Option<Duration>,
    /// `--why-drift-limit`.
    pub why_drift_limit: Option<u64>,
    /// `--last-applied PLANFILE`.
    pub last_applied: Option<PathBuf>,
}

impl Flags {
    /// Every flag value out of range, with the messages `simfleet.yaml` values get.
    pub fn check(&self) -> Result<(), Error> {
        let values = [
            (Setting::MaxChanges, self.max_changes.map(|v| v as f64)),
            (Setting::MaxPercent, self.max_percent),
            (Setting::Concurrency, self.concurrency.map(|v| v as f64)),
            (
                Setting::RequestsPerSecond,
                self.requests_per_second.map(f64::from),
            ),
            (
                Setting::JobTimeout,
                self.job_timeout.map(|d| d.as_secs_f64()),
            ),
            (
                Setting::WhyDriftLimit,
                self.why_drift_limit.map(|v| v as f64),
            ),
        ];
        let problems: Vec<_> = values
            .into_iter()
            .filter_map(|(setting, value)| check_range(setting, value?, SettingName::Flag))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Settings(problems))
        }
    }
}

/// What a command runs with: flags > `simfleet.yaml` > defaults, and the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub env: Env,
    pub guards: Guards,
    /// Requests (reads, batch jobs, updateSim calls) in flight at once.
    pub concurrency: usize,
    /// Ceiling on requests per second; `None` = the client's default.
    pub requests_per_second: Option<u32>,
    pub job_timeout: Duration,
    /// SIMs whose events `--why-drift` reads at most.
    pub why_drift_limit: u64,
    /// The day waivers are judged by (days since 1970-01-01, UTC): see [`today`].
    pub today: i64,
    /// `--last-applied PLANFILE`: what that plan set, loaded and checked once.
    pub last_applied: Option<std::sync::Arc<crate::plan::last_applied::LastApplied>>,
}

/// The environment variable that pins the date waivers are judged by (`YYYY-MM-DD`), for tests
/// and for reproducing a past review; unset, the system clock's date (UTC) is used.
pub const TODAY_VAR: &str = "SIMFLEET_TODAY";

/// Today in days since 1970-01-01 (UTC): `SIMFLEET_TODAY` when set (an empty value counts as
/// unset), else the system clock. The only place a command reads the date.
pub fn today() -> Result<i64, Error> {
    match std::env::var(TODAY_VAR) {
        Ok(text) if !text.is_empty() => crate::spec::parse_date(&text).ok_or_else(|| {
            Error::Usage(format!(
                "{TODAY_VAR}={text:?} is not a date: write it as YYYY-MM-DD, or unset it to use today's date"
            ))
        }),
        _ => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Ok(i64::try_from(secs / 86_400).unwrap_or(i64::MAX))
        }
    }
}

impl Settings {
    /// Checks the flags, then merges them over the (already validated) config.
    pub fn new(flags: &Flags, config: &Config, env: Env) -> Result<Settings, Error> {
        flags.check()?;
        let allowed_by = |flag: bool| {
            if flag {
                AllowedBy::Flag
            } else {
                AllowedBy::Config
            }
        };
        Ok(Settings {
            env,
            guards: Guards {
                max_changes: flags.max_changes.or(config.max_changes),
                max_percent: flags.max_percent.or(config.max_percent),
                allow_status_cuts: flags.allow_status_cuts || config.allow_status_cuts,
                allow_irreversible: flags.allow_irreversible || config.allow_irreversible,
                status_cuts_allowed_by: allowed_by(flags.allow_status_cuts),
                irreversible_allowed_by: allowed_by(flags.allow_irreversible),
            },
            concurrency: flags
                .concurrency
                .or(config.concurrency)
                .unwrap_or(DEFAULT_CONCURRENCY),
            requests_per_second: flags.requests_per_second.or(config.requests_per_second),
            job_timeout: flags.job_timeout.unwrap_or(DEFAULT_JOB_TIMEOUT),
            why_drift_limit: flags
                .why_drift_limit
                .unwrap_or(crate::plan::drift::DEFAULT_WHY_DRIFT_LIMIT),
            today: today()?,
            last_applied: flags
                .last_applied
                .as_deref()
                .map(last_applied::load)
                .transpose()?,
        })
    }

    /// Settings for a spec directory: its `simfleet.yaml` read and checked exactly as `plan`
    /// checks it (file:line:col); a directory that does not exist is an error.
    pub fn for_spec_dir(flags: &Flags, dir: &Path, env: Env) -> Result<Settings, Error> {
        flags.check()?;
        let config = crate::spec::load_config(dir)?;
        Settings::new(flags, &config, env)
    }

    /// Settings of a command without a spec directory (`export`): flags and defaults.
    pub fn without_config(flags: &Flags, env: Env) -> Result<Settings, Error> {
        Settings::new(flags, &Config::default(), env)
    }
}

/// The spec directory whose `simfleet.yaml` guards `apply PLANFILE`: `--spec DIR`, or
/// `./fleet` when that exists. Without either the guards would silently be the defaults, so
/// that is an error asking for `--spec`.
pub fn plan_file_spec_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
    match given {
        Some(dir) => Ok(dir.to_path_buf()),
        None if Path::new(DEFAULT_SPEC_DIR).is_dir() => Ok(PathBuf::from(DEFAULT_SPEC_DIR)),
        None => Err(Error::NoSpecDir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_config_beats_defaults() {
        let config = Config {
            concurrency: Some(3),
            max_percent: Some(50.0),
            allow_status_cuts: true,
            ..Config::default()
        };
        let flags = Flags {
            concurrency: Some(5),
            ..Flags::default()
        };
        let s = Settings::new(&flags, &config, Env::default()).expect("valid");
        assert_eq!(s.concurrency, 5);
        assert_eq!(s.guards.max_percent, Some(50.0));
        assert_eq!(s.guards.status_cuts_allowed_by, AllowedBy::Config);
        let s =
            Settings::new(&Flags::default(), &Config::default(), Env::default()).expect("valid");
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(s.job_timeout, DEFAULT_JOB_TIMEOUT);
    }

    #[test]
    fn every_bad_flag_is_reported_at_once() {
        let flags = Flags {
            max_percent: Some(500.0),
            concurrency: Some(0),
            requests_per_second: Some(0),
            job_timeout: Some(Duration::ZERO),
            why_drift_limit: Some(0),
            ..Flags::default()
        };
        let e = Settings::new(&flags, &Config::default(), Env::default()).expect_err("bad");
        let text = e.to_string();
        for flag in [
            "--max-percent 500",
            "--concurrency 0",
            "--rate-limit 0",
            "--job-timeout",
            "--why-drift-limit 0",
        ] {
            assert!(text.contains(flag), "{text}");
        }
    }
}
