//! Located problems in spec files, printed as `fleet/eu.yaml:12:5: error: <what> — <what to do>`.
//!
//! Validation collects every problem before failing, so errors are a list ([`SpecErrors`]),
//! and each one names its place and the fix: users meet these in CI logs, far from an editor.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem at one place in a spec file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; `None` when the problem concerns the whole file or directory.
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub severity: Severity,
    pub message: String,
    pub help: String,
}

impl Diagnostic {
    pub fn error(
        file: &str,
        at: Option<(u32, u32)>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: at.map(|(l, _)| l),
            col: at.map(|(_, c)| c),
            severity: Severity::Error,
            message: message.into(),
            help: help.into(),
        }
    }

    pub fn warning(
        file: &str,
        at: Option<(u32, u32)>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, at, message, help)
        }
    }

    /// `fleet/eu.yaml:12:5`, or just the file when there is no position.
    pub fn location(&self) -> String {
        match (self.line, self.col) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {severity}: {}", self.location(), self.message)?;
        if !self.help.is_empty() {
            write!(f, " — {}", self.help)?;
        }
        Ok(())
    }
}

/// Every error found in a spec, in file and position order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors {
    pub diagnostics: Vec<Diagnostic>,
}

impl SpecErrors {
    pub fn new(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort();
        diagnostics.dedup();
        SpecErrors { diagnostics }
    }
}

/// Problems shown by name in an error; the rest are counted (`simfleet -v` lists them all).
const SHOWN_PROBLEMS: usize = 50;

impl SpecErrors {
    /// The problems, all of them with `all`, else the first [`SHOWN_PROBLEMS`] and a count of
    /// the rest (a 20,000-entry file with one mistake repeated must not print 20,000 lines).
    pub fn report(&self, all: bool) -> String {
        let n = self.diagnostics.len();
        let shown = if all { n } else { n.min(SHOWN_PROBLEMS) };
        let mut text = format!("the spec has {n} problem{}:", if n == 1 { "" } else { "s" });
        for d in &self.diagnostics[..shown] {
            text.push('\n');
            text.push_str(&d.to_string());
        }
        if shown < n {
            text.push_str(&format!(
                "\n… and {} more (run `simfleet -v …` to list every one)",
                n - shown
            ));
        }
        text
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_of_problems_are_capped_unless_all_are_asked_for() {
        let errors = SpecErrors::new(
            (1..=120)
                .map(|i| Diagnostic::error("a.yaml", Some((i, 1)), "bad", "fix"))
                .collect(),
        );
        let short = errors.to_string();
        assert_eq!(short.lines().count(), 1 + SHOWN_PROBLEMS + 1, "{short}");
        assert!(short.ends_with("… and 70 more (run `simfleet -v …` to list every one)"));
        assert_eq!(errors.report(true).lines().count(), 121);
    }

    #[test]
    fn prints_location_severity_and_fix() {
        let d = Diagnostic::error("fleet/eu.yaml", Some((12, 5)), "bad", "do this");
        assert_eq!(d.to_string(), "fleet/eu.yaml:12:5: error: bad — do this");
        let errors = SpecErrors::new(vec![
            Diagnostic::error("b.yaml", Some((1, 1)), "second", "x"),
            Diagnostic::error("a.yaml", None, "first", ""),
        ]);
        assert_eq!(
            errors.to_string(),
            "the spec has 2 problems:\na.yaml: error: first\nb.yaml:1:1: error: second — x"
        );
    }
}
