//! Progress of an apply (SIMs done / total): a bar on a terminal, plain lines in CI.
//!
//! A bar redraws in place, which is noise in a CI log, so it is shown only when stderr is a
//! terminal and `CI` is unset; elsewhere a plain line is written at most every few seconds so a
//! long apply still shows it is alive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown (chosen by the command's settings: a bar on an interactive terminal
/// outside CI, lines otherwise, nothing with `--quiet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A redrawing bar on stderr.
    Bar,
    /// A plain line on stderr at most every [`LINE_INTERVAL`].
    Lines,
    /// Nothing (JSON output on a pipe, tests).
    Off,
}

/// The shortest time between two plain progress lines.
pub const LINE_INTERVAL: Duration = Duration::from_secs(5);

/// Counts SIM actions done and shows them.
pub(crate) struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    last_line: Mutex<Instant>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} applying [{bar:30}] {pos}/{len} SIMs {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            mode,
            bar,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// More SIM actions to do (one phase's worth).
    pub fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc_length(n);
        }
    }

    /// `n` more SIM actions finished (successfully or not). Called on every batch job poll,
    /// also with 0, so a CI log gets its periodic line while a job makes no visible progress.
    pub fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        match (&self.bar, self.mode) {
            (Some(bar), _) if n > 0 => bar.inc(n),
            (Some(_), _) => {}
            (None, ProgressMode::Lines) => {
                let total = self.total.load(Ordering::Relaxed);
                if let Ok(mut last) = self.last_line.lock() {
                    if last.elapsed() >= LINE_INTERVAL || done == total {
                        *last = Instant::now();
                        crate::output::side_line(&format!(
                            "apply: {done}/{total} SIM actions done"
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    /// A line that must not be torn by the bar.
    pub fn note(&self, message: &str) {
        match (&self.bar, self.mode) {
            (Some(bar), _) => bar.println(crate::output::side_text(message)),
            (None, ProgressMode::Off) => {}
            (None, _) => crate::output::side_line(message),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
