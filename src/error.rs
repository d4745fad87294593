//! The library's top-level error: one variant per stage or failure, each carrying its own typed
//! context (path, stream, operation), and how a conflict list reads to a person.
//!
//! Every variant is an error; how the process exits is decided only in
//! [`crate::outcome::exit_code`], and every error leaves the process through
//! [`crate::output::Output::error`], which masks identifiers with `--mask`.

use std::collections::HashMap;

use crate::spec::{Conflict, DesiredValue, Field, Origin, OriginKind};

/// Any failure of a simfleet command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] crate::fleet::SnapshotError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    #[error(transparent)]
    Rehearse(#[from] crate::rehearse::RehearseError),
    /// Arguments that make no sense together (clap catches most before a command runs).
    #[error("{0}")]
    Usage(String),
    /// A command line clap refused, as clap rendered it (with its own `error:` and hint).
    #[error("{0}")]
    CommandLine(String),
    /// Flag values out of range, every one of them (the same checks `simfleet.yaml` passes).
    #[error("{}", settings_report(.0))]
    Settings(Vec<crate::spec::RangeProblem>),
    /// `apply PLANFILE` without `--spec`, and no `./fleet` to take the guards from.
    #[error("no spec directory for the plan file's guards: ./fleet does not exist; pass --spec DIR (the directory the plan was made from)")]
    NoSpecDir,
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    #[error(transparent)]
    Plan(crate::plan::PlanError),
    #[error("plan file {path}: {source}")]
    PlanFile {
        path: String,
        source: crate::plan::PlanError,
    },
    #[error("{}", conflict_report(.0, false))]
    Conflicts(Vec<Conflict>),
    /// Both plan files of `diff` are unusable: each problem, one per line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    PlanFiles(Vec<Error>),
    #[error("cannot read plan file {path}: {source}")]
    ReadPlan {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("token file {path} is empty")]
    EmptyToken { path: String },
    #[error("no API token: set {env} or pass --token-file FILE (or try --sandbox for the embedded sandbox, or --live SNAPSHOT to plan offline)")]
    NoToken { env: &'static str },
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecErrors),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
    /// A write to stdout or stderr failed (a full disk, a closed terminal).
    #[error("cannot write to {stream}: {source}")]
    Stream {
        stream: &'static str,
        source: std::io::Error,
    },
    /// The reader of stdout or stderr went away (`| head`): the command ends quietly.
    #[error("{stream} was closed by its reader")]
    BrokenPipe { stream: &'static str },
    /// A stale plan, with its SIMs grouped by cause (so `--quiet` and `--format json` keep the
    /// list: it is the error, not a note before it).
    #[error("{listed}the plan is stale: {count} SIM(s) changed since it was made, so nothing was applied. Make a new plan")]
    StalePlan { listed: String, count: usize },
    #[error("cannot write {what} as JSON: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("apply needs confirmation: run it on a terminal, or pass --auto-approve (or apply a reviewed plan file)")]
    NeedsConfirmation,
    #[error("cannot read the answer from stdin: {0}")]
    ReadAnswer(std::io::Error),
    #[error("apply not confirmed; nothing was changed")]
    NotConfirmed,
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Fmt(#[from] crate::fmt::FmtError),
    /// `explain` was asked about SIMs the fleet does not have.
    #[error("{} ICCID(s) not in the fleet (read from {read_from}): {} — check for a typo, or whether this is the right account", .iccids.len(), .iccids.join(", "))]
    NotInFleet {
        iccids: Vec<String>,
        read_from: String,
    },
}

impl Error {
    /// The message as reported; `all` lists every SIM of a conflict list instead of the
    /// largest groups (`-v`).
    pub fn report(&self, all: bool) -> String {
        match self {
            Error::Conflicts(conflicts) if all => conflict_report(conflicts, true),
            Error::Spec(errors) => errors.report(all),
            other => other.to_string(),
        }
    }
}

/// One problem on its own, several as a list.
fn settings_report(problems: &[crate::spec::RangeProblem]) -> String {
    match problems {
        [one] => one.to_string(),
        many => format!(
            "{} flags are out of range:\n  {}",
            many.len(),
            many.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        ),
    }
}

/// Groups of a conflict list shown before "and N more".
pub const CONFLICT_GROUPS_SHOWN: usize = 20;
/// Example ICCIDs shown per conflict group.
const CONFLICT_EXAMPLES: usize = 3;

/// One cause of conflicts: the two origins, the field and the two values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Cause {
    field: Field,
    first: String,
    first_value: String,
    second_location: String,
    second_owner: String,
    second_value: String,
}

/// A conflict list grouped by cause (the pair of rules, the field and the two values), largest
/// group first. Without `all`, the [`CONFLICT_GROUPS_SHOWN`] largest groups with a few example
/// ICCIDs each, then "and N more"; with `all`, every group with every ICCID.
pub fn conflict_report(conflicts: &[Conflict], all: bool) -> String {
    let mut index: HashMap<Cause, usize> = HashMap::new();
    let mut groups: Vec<(Cause, Vec<&str>)> = Vec::new();
    for c in conflicts {
        let cause = Cause {
            field: c.field,
            first: c.first.origin.to_string(),
            first_value: spec_value(c.field, &c.first.value),
            second_location: c.second.origin.location(),
            second_owner: owner(&c.second.origin),
            second_value: spec_value(c.field, &c.second.value),
        };
        let at = *index.entry(cause.clone()).or_insert_with(|| {
            groups.push((cause, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(c.iccid.as_str());
    }
    // Largest first; ties in the order they were found (a stable sort).
    groups.sort_by_key(|(_, iccids)| std::cmp::Reverse(iccids.len()));
    let mut out = format!(
        "{} conflict{} between rules, {} cause{}:",
        conflicts.len(),
        plural(conflicts.len()),
        groups.len(),
        plural(groups.len()),
    );
    let shown = if all {
        groups.len()
    } else {
        groups.len().min(CONFLICT_GROUPS_SHOWN)
    };
    for (cause, iccids) in &groups[..shown] {
        let examples = if all {
            iccids.join(", ")
        } else {
            let mut e = iccids[..iccids.len().min(CONFLICT_EXAMPLES)].join(", ");
            if iccids.len() > CONFLICT_EXAMPLES {
                e.push_str(", …");
            }
            e
        };
        out.push_str(&format!(
            "\n  {}: {} is set to {} by {} and to {} by {}, with equal priority, for {} SIM{} ({examples}) — give one rule a higher `priority`, or make them agree",
            cause.second_location,
            cause.field,
            cause.second_value,
            cause.second_owner,
            cause.first_value,
            cause.first,
            iccids.len(),
            plural(iccids.len()),
        ));
    }
    let rest = &groups[shown..];
    if !rest.is_empty() {
        let sims: usize = rest.iter().map(|(_, iccids)| iccids.len()).sum();
        out.push_str(&format!(
            "\n  … and {} more cause{} ({sims} SIM{}); run with -v to list every SIM",
            rest.len(),
            plural(rest.len()),
            plural(sims),
        ));
    }
    out
}

/// A value as the spec writes it: data limits in their unit (`1GB`), other values as shown in
/// messages.
fn spec_value(field: Field, value: &DesiredValue) -> String {
    match (field, value) {
        (Field::MonthlyDataLimit, DesiredValue::Limit(limit)) => {
            crate::spec::values::format_data_limit(*limit)
        }
        _ => crate::spec::format_value(value),
    }
}

/// `rule eu-trackers` or `sims entry 8949…`.
fn owner(origin: &Origin) -> String {
    match &origin.kind {
        OriginKind::Rule { name } => format!("rule {name}"),
        OriginKind::SimEntry { iccid } => format!("sims entry {iccid}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl From<crate::plan::PlanError> for Error {
    /// A plan's failures keep their own variants where the top level has one (conflicts are
    /// listed, a snapshot's problem is named as the snapshot's).
    fn from(error: crate::plan::PlanError) -> Error {
        match error {
            crate::plan::PlanError::Conflicts(conflicts) => Error::Conflicts(conflicts),
            crate::plan::PlanError::Snapshot(e) => Error::Snapshot(e),
            other => Error::Plan(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::spec::{Limit, ResolvedValue};

    fn value(rule: &str, line: u32, bytes: i64) -> Box<ResolvedValue> {
        Box::new(ResolvedValue {
            value: DesiredValue::Limit(Limit::Value(bytes)),
            origin: Arc::new(Origin {
                file: "fleet/a.yaml".into(),
                line,
                col: 5,
                kind: OriginKind::Rule { name: rule.into() },
            }),
        })
    }

    /// `causes` causes, cause `k` with `k + 1` SIMs.
    fn conflicts(causes: usize) -> Vec<Conflict> {
        (0..causes)
            .flat_map(|k| {
                (0..=k).map(move |i| Conflict {
                    iccid: format!("8949{k:06}{i:010}"),
                    field: Field::MonthlyDataLimit,
                    first: value("a", 1, 1_000_000_000),
                    second: value(&format!("b{k}"), 10 + k as u32, 500_000_000),
                })
            })
            .collect()
    }

    #[test]
    fn conflicts_are_grouped_largest_first_and_capped() {
        let list = conflicts(25);
        let text = conflict_report(&list, false);
        assert!(
            text.starts_with("325 conflicts between rules, 25 causes:"),
            "{text}"
        );
        assert_eq!(
            text.lines().count(),
            1 + CONFLICT_GROUPS_SHOWN + 1,
            "{text}"
        );
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains("for 25 SIMs")),
            "{text}"
        );
        assert!(text.contains("… and 5 more causes (15 SIMs)"), "{text}");
        assert!(text.contains("1GB") && text.contains("500MB"), "{text}");
        assert!(
            !text.contains("to 1000000000 ") && !text.contains("to 500000000 "),
            "{text}"
        );
        // Every SIM with `all`.
        let all = conflict_report(&list, true);
        assert!(list.iter().all(|c| all.contains(&c.iccid)));
        assert_eq!(Error::Conflicts(list).report(true), all);
    }
}
