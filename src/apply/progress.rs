//! Progress of an apply (SIM actions done / total: one per SIM and phase): a bar on a terminal, plain lines in CI.
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

/// Counts SIM actions done (and the SIMs they are for) and shows them.
pub(crate) struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
    /// SIM actions never sent (interrupted, or an earlier change of the SIM failed): they count
    /// towards the total, never as done.
    skipped: AtomicU64,
    /// Distinct SIMs the actions are for: a SIM changing in several phases (or status-path
    /// steps) has one action in each, so the line says so when the two counts differ.
    sims: AtomicU64,
    /// When the last plain line was printed, and what it said (the same line is not repeated).
    last_line: Mutex<(Instant, String)>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} applying [{bar:30}] {pos}/{len} SIM actions {msg}",
            ) {
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
            skipped: AtomicU64::new(0),
            sims: AtomicU64::new(0),
            last_line: Mutex::new((Instant::now(), String::new())),
        }
    }

    /// The SIMs the actions are for (the unit of the apply report).
    pub fn add_sims(&self, n: u64) {
        self.sims.fetch_add(n, Ordering::Relaxed);
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
        self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
        self.maybe_line(false);
    }

    /// `n` SIM actions will not be sent: not done, and said so.
    pub fn skip(&self, n: u64) {
        self.skipped.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "({} not attempted)",
                self.skipped.load(Ordering::Relaxed)
            ));
        }
        self.maybe_line(false);
    }

    /// `apply: 1200/4911 SIM actions done` (and how many were not attempted). When there are
    /// more actions than SIMs, the line names the SIMs too, so that its counts are never read
    /// as the report's (which counts SIMs).
    pub fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let mut line = match self.skipped.load(Ordering::Relaxed) {
            0 => format!("apply: {done}/{total} SIM actions done"),
            skipped => format!("apply: {done}/{total} SIM actions done, {skipped} not attempted"),
        };
        let sims = self.sims.load(Ordering::Relaxed);
        if sims > 0 && sims != total {
            line.push_str(&format!(
                " ({total} actions for {sims} SIMs: one per SIM and phase; the report counts SIMs)"
            ));
        }
        line
    }

    /// In line mode, prints [`Progress::line`] every [`LINE_INTERVAL`], when everything is
    /// accounted for, or when `now`.
    fn maybe_line(&self, now: bool) {
        if self.bar.is_some() || self.mode != ProgressMode::Lines {
            return;
        }
        let accounted = self.done.load(Ordering::Relaxed) + self.skipped.load(Ordering::Relaxed);
        let complete = accounted == self.total.load(Ordering::Relaxed);
        if let Ok(mut last) = self.last_line.lock() {
            let line = self.line();
            if (now || last.0.elapsed() >= LINE_INTERVAL || complete) && line != last.1 {
                crate::output::side_line(&line);
                *last = (Instant::now(), line);
            }
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

    /// Clears the bar; a run that left actions unsent states what was and was not done.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.skipped.load(Ordering::Relaxed) > 0 {
            match self.mode {
                ProgressMode::Off => {}
                ProgressMode::Lines => self.maybe_line(true),
                ProgressMode::Bar => crate::output::side_line(&self.line()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_not_sent_are_not_counted_as_done() {
        let progress = Progress::new(ProgressMode::Off);
        progress.add_total(10);
        progress.advance(3);
        progress.skip(7);
        assert_eq!(
            progress.line(),
            "apply: 3/10 SIM actions done, 7 not attempted"
        );
    }

    /// Found by the second trial: after a second Ctrl-C the line's "3/10" (actions) and the
    /// report's SIM counts read as disagreeing. The line names the SIMs when they differ.
    #[test]
    fn the_line_names_its_unit_when_actions_and_sims_differ() {
        let progress = Progress::new(ProgressMode::Off);
        progress.add_total(10);
        progress.add_sims(4);
        progress.advance(6);
        progress.skip(4);
        assert_eq!(
            progress.line(),
            "apply: 6/10 SIM actions done, 4 not attempted (10 actions for 4 SIMs: one per SIM and phase; the report counts SIMs)"
        );
    }
}
