//! How a command ended, and the one place that turns that into a process exit code.
//!
//! Exit codes follow Terraform: 0 success with nothing to change; 1 error, a usage error (a
//! mistyped flag) included, so it can never read as "changes"; 2 (only with
//! `--detailed-exitcode`) success with changes, or with drift since the last applied plan
//! (`plan --last-applied`, [`crate::plan::Plan::outcome`]); 3 changes exist but some are blocked or stopped
//! by a guard; 130 interrupted; 141 the reader of stdout went away (`| head`), as a shell
//! reports a process ended by SIGPIPE. When several apply, the first of 1, 130, 3, 2, 0 wins.
//! No error path can exit 0 because errors never become an [`Outcome`].

use crate::Error;

/// A command that ran to its end (errors are `Err`, never an `Outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Nothing to change, or a command with no notion of changes that succeeded.
    Success,
    /// Succeeded, and there are changes (exit 2 with `--detailed-exitcode`, else 0).
    Changes,
    /// There are changes, but some are blocked or stopped by a guard.
    Blocked,
    /// Stopped by Ctrl-C or SIGTERM after finishing what was in flight.
    Interrupted,
}

impl Outcome {
    /// The stronger of two outcomes, by the precedence 130 > 3 > 2 > 0.
    pub fn combine(self, other: Outcome) -> Outcome {
        self.max(other)
    }
}

/// Exit code when stdout's reader went away (128 + SIGPIPE).
pub const BROKEN_PIPE: u8 = 141;

/// The process exit code for a command's result: the only place exit codes are decided.
pub fn exit_code(result: &Result<Outcome, Error>, detailed_exitcode: bool) -> u8 {
    match result {
        Err(Error::BrokenPipe { .. }) => BROKEN_PIPE,
        Err(_) => 1,
        Ok(Outcome::Interrupted) => 130,
        Ok(Outcome::Blocked) => 3,
        Ok(Outcome::Changes) if detailed_exitcode => 2,
        Ok(Outcome::Changes) | Ok(Outcome::Success) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_terraform() {
        let ok = |o| exit_code(&Ok(o), true);
        let usage = Err(Error::CommandLine("error: unexpected argument".into()));
        assert_eq!(exit_code(&usage, true), 1);
        let pipe = Err(Error::BrokenPipe { stream: "stdout" });
        assert_eq!(exit_code(&pipe, true), BROKEN_PIPE);
        assert_eq!(ok(Outcome::Interrupted), 130);
        assert_eq!(ok(Outcome::Blocked), 3);
        assert_eq!(ok(Outcome::Changes), 2);
        assert_eq!(exit_code(&Ok(Outcome::Changes), false), 0);
        assert_eq!(ok(Outcome::Success), 0);
        assert_eq!(Outcome::Changes.combine(Outcome::Blocked), Outcome::Blocked);
        assert_eq!(
            Outcome::Interrupted.combine(Outcome::Blocked),
            Outcome::Interrupted
        );
    }
}
