//! How a command ended, and the one place that turns that into a process exit code.
//!
//! Exit codes follow Terraform: 0 success with nothing to change; 1 error; 2 (only with
//! `--detailed-exitcode`) success with changes; 3 changes exist but some are blocked or stopped
//! by a guard; 130 interrupted. When several apply, the first of 1, 130, 3, 2, 0 wins. No error
//! path can exit 0 because errors never become an [`Outcome`].

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

/// The process exit code for a command's result.
pub fn exit_code<E>(result: &Result<Outcome, E>, detailed_exitcode: bool) -> u8 {
    match result {
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
        let ok = |o| exit_code::<()>(&Ok(o), true);
        assert_eq!(exit_code::<()>(&Err(()), true), 1);
        assert_eq!(ok(Outcome::Interrupted), 130);
        assert_eq!(ok(Outcome::Blocked), 3);
        assert_eq!(ok(Outcome::Changes), 2);
        assert_eq!(exit_code::<()>(&Ok(Outcome::Changes), false), 0);
        assert_eq!(ok(Outcome::Success), 0);
        assert_eq!(Outcome::Changes.combine(Outcome::Blocked), Outcome::Blocked);
        assert_eq!(
            Outcome::Interrupted.combine(Outcome::Blocked),
            Outcome::Interrupted
        );
    }
}
