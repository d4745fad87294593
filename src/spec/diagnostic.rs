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

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(
            f,
            "the spec has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
