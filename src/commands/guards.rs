//! The guard flags `plan` and `apply` share, defined once so both commands take the same flags
//! with the same help, and turned into the settings' [`Flags`] in one place.

use std::time::Duration;

use clap::Args;

use simfleet::settings::Flags;

/// Guards: what stops a plan or an apply unless allowed (flags beat simfleet.yaml).
#[derive(Debug, Clone, Default, Args)]
pub struct GuardArgs {
    /// Guard: stop when more than N SIMs would change.
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Guard: stop when more than P percent of the fleet would change.
    #[arg(long, value_name = "P")]
    pub max_percent: Option<f64>,
    /// Allow changes that cut service: deactivate, suspend, or a limit at or below this
    /// month's usage.
    #[arg(long)]
    pub allow_status_cuts: bool,
    /// Allow irreversible status changes (retire).
    #[arg(long)]
    pub allow_irreversible: bool,
}

impl GuardArgs {
    /// The command's flags for the settings, with the flags that are not guards.
    pub fn flags(
        &self,
        concurrency: Option<usize>,
        requests_per_second: Option<u32>,
        job_timeout: Option<Duration>,
    ) -> Flags {
        Flags {
            max_changes: self.max_changes,
            max_percent: self.max_percent,
            allow_status_cuts: self.allow_status_cuts,
            allow_irreversible: self.allow_irreversible,
            concurrency,
            requests_per_second,
            job_timeout,
            why_drift_limit: None,
            last_applied: None,
        }
    }
}
