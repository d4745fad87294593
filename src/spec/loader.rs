//! Reads a spec directory: every `*.yaml` / `*.yml` below it in path order (skipping the root
//! `simfleet.yaml`, which is the configuration), parses each with locations, gives values their
//! meaning, and checks what no single file can: unique rule names, each ICCID in one entry only,
//! and static conflicts between rules with the same selection.
//!
//! With `walk` (which finds the files), this is the only part of `spec` that touches the file
//! system. Problems from every file are collected before failing, so one run shows them all.
//!
//! YAML is parsed within fixed limits ([`YAML_LIMITS`], documented in docs/spec-limits.md):
//! high enough for a 100,000-entry `sims:` file, low enough that an alias bomb is refused
//! before it can exhaust memory.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::spec::build::FileCx;
use crate::spec::check::{Check, Waiver};
use crate::spec::check_across;
use crate::spec::config::{Config, CONFIG_FILE};
use crate::spec::desired::Field;
use crate::spec::diagnostic::{Diagnostic, SpecErrors};
use crate::spec::matcher::Matcher;
use crate::spec::model::SpecDocument;
use crate::spec::resolve::{format_value, Rule, SimEntry, Spec, SpecFile};
use crate::spec::walk::{self, display_path};

/// Counts for the one-line summary of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub rules: usize,
    pub sim_entries: usize,
    pub checks: usize,
}

/// A spec that loaded without errors, with its warnings.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: Spec,
    pub warnings: Vec<Diagnostic>,
    pub summary: Summary,
}

/// The YAML parser's limits for one file. A `sims:` entry with every settable field is about 20
/// nodes, so 100,000 such entries are 2,000,000 nodes: the node and event limits leave twice
/// that. Aliases are rare in spec files; their limits stay at the parser's defaults, which stop
/// a "billion laughs" file long before it is expanded. Documented in docs/spec-limits.md.
pub const YAML_LIMITS: YamlLimits = YamlLimits {
    max_nodes: 4_000_000,
    max_events: 8_000_000,
};

/// The limits simfleet sets on the YAML parser (the others are the parser's defaults).
#[derive(Debug, Clone, Copy)]
pub struct YamlLimits {
    /// Values, lists and mappings, counting every copy an alias makes.
    pub max_nodes: usize,
    /// Parser events (a node's start and end are two).
    pub max_events: usize,
}

/// Parses YAML text into `T`, or a located diagnostic naming `file`.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_nodes: YAML_LIMITS.max_nodes,
            max_events: YAML_LIMITS.max_events,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_diagnostic(&e, file))
}

fn yaml_diagnostic(error: &serde_saphyr::Error, file: &str) -> Diagnostic {
    use serde_saphyr::Error as E;
    let at = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| (clamp(l.line()), clamp(l.column())));
    let plain = original_error(error);
    let (message, help) = match plain {
        E::Budget { breach, .. } => (
            format!("the file exceeds a YAML limit: {}", budget_breach(breach)),
            "the limits keep a file from exhausting memory (see docs/spec-limits.md); split a \
             large `sims:` file into several files, or replace aliases with plain values"
                .to_string(),
        ),
        E::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown key `{field}`"),
            format!(
                "check the spelling; the keys allowed here are: {}",
                expected.join(", ")
            ),
        ),
        E::DuplicateMappingKey { key, .. } => (
            match key {
                Some(key) => format!("duplicate key `{key}`"),
                None => "duplicate key".to_string(),
            },
            "a key may appear only once in a mapping: remove or merge the duplicate".to_string(),
        ),
        E::SerdeMissingField { field, .. } => {
            (format!("missing key `{field}`"), "add it".to_string())
        }
        E::InvalidScalar { ty, .. } => (
            format!("wrong type: expected {}", type_name(ty)),
            "see README.md or schema/simfleet.schema.json for the format of this key".to_string(),
        ),
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => (
            invalid_type(expected, unexpected),
            "see README.md or schema/simfleet.schema.json for the format of this key".to_string(),
        ),
        E::MultipleDocuments { .. } => (
            "a second YAML document (`---`)".to_string(),
            "a spec file holds one document: split it into two files".to_string(),
        ),
        _ => (
            format!("malformed YAML: {}", whole_message(&plain.to_string())),
            "fix the YAML syntax here (indentation, quotes, colons)".to_string(),
        ),
    };
    Diagnostic::error(file, at, message, help)
}

/// The parser's own error, without the wrappers that add a source snippet or an alias's
/// locations (the location we print is the one where the error surfaced).
fn original_error(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    use serde_saphyr::Error as E;
    while let E::WithSnippet { error: inner, .. } | E::AliasError { error: inner, .. } = error {
        error = inner;
    }
    error
}

/// A value of the wrong type. Mappings say what they must be as a sentence ("`set` must be a
/// mapping of fields"); other expectations are a noun ("a whole number").
fn invalid_type(expected: &str, unexpected: &str) -> String {
    let unexpected = match unexpected {
        "unit value" | "null" => "null",
        other => other,
    };
    if expected.contains(" must be ") {
        format!("{expected}, not {unexpected}")
    } else {
        format!("wrong type: expected {expected}, found {unexpected}")
    }
}

/// Which limit a file exceeded, in the words of docs/spec-limits.md.
fn budget_breach(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let defaults = serde_saphyr::Budget::default();
    match breach {
        B::Nodes { .. } => format!(
            "more than {} nodes (values, lists and mappings, counting every copy an alias makes)",
            thousands(YAML_LIMITS.max_nodes)
        ),
        B::Events { .. } => format!(
            "more than {} parser events",
            thousands(YAML_LIMITS.max_events)
        ),
        B::Aliases { .. } => format!(
            "more than {} aliases (`*name`)",
            thousands(defaults.max_aliases)
        ),
        B::Anchors { .. } => format!(
            "more than {} anchors (`&name`)",
            thousands(defaults.max_anchors)
        ),
        B::AliasAnchorRatio { aliases, anchors } => format!(
            "{aliases} aliases for {anchors} anchors (at most {} per anchor)",
            defaults.alias_anchor_ratio_multiplier
        ),
        B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => format!(
            "anchors that hold more than {} parser events or {} MiB of text",
            thousands(defaults.max_recorded_anchor_events),
            defaults.max_recorded_anchor_bytes / (1024 * 1024)
        ),
        B::Depth { .. } => format!("nested deeper than {} levels", defaults.max_depth),
        B::ScalarBytes { .. } => format!(
            "more than {} MiB of text in values",
            defaults.max_total_scalar_bytes / (1024 * 1024)
        ),
        other => format!("{other:?}"),
    }
}

/// 4000000 as `4,000,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where a top-level `key:`'s value is written, for problems found after parsing a plain struct.
fn top_level_value_position(text: &str, key: &str) -> Option<(u32, u32)> {
    text.lines().enumerate().find_map(|(index, line)| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let col = key.len() + 1 + (rest.len() - rest.trim_start().len()) + 1;
        Some((u32::try_from(index + 1).ok()?, u32::try_from(col).ok()?))
    })
}

/// A Rust type as a user would say it.
fn type_name(ty: &str) -> &str {
    match ty {
        "bool" => "true or false",
        t if t.starts_with('i') || t.starts_with('u') => "a whole number",
        t if t.starts_with('f') => "a number",
        t => t,
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The parser's message on one line, whole, without its own " at line X column Y" suffix (the
/// location is printed first).
fn whole_message(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.rfind(" at line ") {
        Some(i) if !joined[i..].contains('(') => joined[..i].to_string(),
        _ => joined,
    }
}

/// `dir` as messages show it (`/`-separated), or an error saying it does not exist or is not a
/// directory.
fn spec_dir(dir: &Path, help: &str) -> Result<String, SpecErrors> {
    let display_dir = dir.to_string_lossy().replace('\\', "/");
    if dir.is_dir() {
        Ok(display_dir)
    } else {
        let problem = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        Err(SpecErrors::new(vec![Diagnostic::error(
            &display_dir,
            None,
            problem,
            help,
        )]))
    }
}

/// Only `simfleet.yaml` of the spec directory `dir`, checked exactly as [`load`] checks it (for
/// `apply PLANFILE --spec DIR`); the defaults when the directory has none. A `dir` that is not
/// a directory is an error.
pub fn load_config(dir: &Path) -> Result<Config, SpecErrors> {
    let display_dir = spec_dir(
        dir,
        "pass the spec directory (to `apply PLANFILE` with --spec, the one the plan was made from), e.g. `examples/fleet`",
    )?;
    let path = dir.join(CONFIG_FILE);
    let display = display_path(&display_dir, CONFIG_FILE);
    if path.exists() && !path.is_file() {
        // A FIFO would block the read forever; the spec walk skips such files too.
        return Err(SpecErrors::new(vec![Diagnostic::error(
            &display,
            None,
            "is not a regular file",
            "make simfleet.yaml a regular file",
        )]));
    }
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(SpecErrors::new(vec![Diagnostic::error(
                &display,
                None,
                format!("cannot read the file: {e}"),
                "check its permissions",
            )]))
        }
    };
    let mut errors = Vec::new();
    let config = read_config(&text, &display, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(SpecErrors::new(errors))
    }
}

/// Loads and validates the spec in `dir`, failing with every problem found.
pub fn load(dir: &Path) -> Result<LoadedSpec, SpecErrors> {
    let display_dir = spec_dir(
        dir,
        "pass the spec directory, e.g. `simfleet validate examples/fleet`",
    )?;
    let mut problems = Problems::default();
    let sources = read_sources(dir, &display_dir, &mut problems);
    let parsed = parse_specs(&sources, &mut problems.errors);
    check_across_files(&parsed, &mut problems);
    if !problems.errors.is_empty() {
        return Err(SpecErrors::new(problems.errors));
    }
    if parsed.rules.is_empty() && parsed.entries.is_empty() {
        problems.warnings.push(Diagnostic::warning(
            &display_dir,
            None,
            "no rules and no `sims:` entries: nothing is managed",
            "add a spec file with `rules:` or `sims:`",
        ));
    }
    problems.warnings.sort();
    let summary = Summary {
        files: parsed.files.len(),
        rules: parsed.rules.len(),
        sim_entries: parsed.entries.len(),
        checks: parsed.checks.len(),
    };
    Ok(LoadedSpec {
        spec: Spec::new(
            parsed.rules,
            parsed.entries,
            sources.config,
            parsed.files,
            sources.digest,
        )
        .with_checks(parsed.checks)
        .with_waivers(parsed.waivers),
        warnings: problems.warnings,
        summary,
    })
}

/// Errors and warnings collected over every step, so one run shows them all.
#[derive(Default)]
struct Problems {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// One spec file's text.
struct SourceText {
    relative: String,
    display: String,
    text: String,
}

/// Every file of the directory read: the configuration, the spec files' texts, and the digest
/// over all of them (the configuration included).
struct Sources {
    config: Config,
    texts: Vec<SourceText>,
    digest: String,
}

/// Step 1: walk the directory and read every file, checking `simfleet.yaml` on the way.
fn read_sources(dir: &Path, display_dir: &str, problems: &mut Problems) -> Sources {
    let walk = walk::spec_files(dir);
    for unreadable in &walk.unreadable {
        problems.errors.push(Diagnostic::error(
            &display_path(display_dir, &unreadable.relative),
            None,
            format!("cannot read the directory: {}", unreadable.source),
            "pass an existing spec directory, e.g. `simfleet validate examples/fleet`",
        ));
    }
    for skipped in &walk.skipped {
        let display = display_path(display_dir, &skipped.relative);
        if skipped.relative == CONFIG_FILE {
            // Skipping the configuration would drop every guard it sets, and `plan` and `apply`
            // refuse it: `validate` must fail the same way.
            problems.errors.push(Diagnostic::error(
                &display,
                None,
                format!("is not a regular file ({})", skipped.kind),
                "make simfleet.yaml a regular file",
            ));
            continue;
        }
        problems.warnings.push(Diagnostic::warning(
            &display,
            None,
            format!("skipped: not a regular file ({})", skipped.kind),
            "only regular files are read from a spec directory: remove it or rename it",
        ));
    }
    let mut hasher = Sha256::new();
    let mut config = Config::default();
    let mut texts = Vec::new();
    for file in &walk.files {
        let display = display_path(display_dir, &file.relative);
        let Some(text) = read_text(&file.path, &display, &mut problems.errors) else {
            continue;
        };
        let relative = &file.relative;
        hasher.update((relative.len() as u64).to_le_bytes());
        hasher.update(relative.as_bytes());
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
        if relative == CONFIG_FILE {
            config = read_config(&text, &display, &mut problems.errors);
            continue;
        }
        texts.push(SourceText {
            relative: relative.clone(),
            display,
            text,
        });
    }
    let digest = hex::encode(hasher.finalize());
    Sources {
        config,
        texts,
        digest,
    }
}

/// A file's UTF-8 text, or an error naming it.
fn read_text(path: &Path, display: &str, errors: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            errors.push(Diagnostic::error(
                display,
                None,
                format!("cannot read the file: {e}"),
                "check its permissions",
            ));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            errors.push(Diagnostic::error(
                display,
                None,
                "is not UTF-8 text",
                "save the file as UTF-8",
            ));
            None
        }
    }
}

/// `simfleet.yaml`, checked; the defaults when it has problems (which are reported).
fn read_config(text: &str, display: &str, errors: &mut Vec<Diagnostic>) -> Config {
    match parse_yaml::<Option<Config>>(text, display) {
        Ok(parsed) => {
            let config = parsed.unwrap_or_default();
            for (key, message, help) in config.problems() {
                let at = top_level_value_position(text, key);
                errors.push(Diagnostic::error(display, at, message, help));
            }
            config
        }
        Err(d) => {
            errors.push(d);
            Config::default()
        }
    }
}

/// What the spec files say, each value given its meaning.
struct Parsed {
    files: Vec<SpecFile>,
    rules: Vec<Rule>,
    entries: Vec<SimEntry>,
    /// Every rule's name, also of rules with errors: a duplicate is reported either way.
    rule_names: Vec<NamedAt>,
    checks: Vec<Check>,
    /// Every check's name, also of checks with errors.
    check_names: Vec<NamedAt>,
    waivers: Vec<Waiver>,
}

/// Step 2: parse every spec file and build its rules and `sims:` entries.
fn parse_specs(sources: &Sources, errors: &mut Vec<Diagnostic>) -> Parsed {
    let mut parsed = Parsed {
        files: Vec::new(),
        rules: Vec::new(),
        entries: Vec::new(),
        rule_names: Vec::new(),
        checks: Vec::new(),
        check_names: Vec::new(),
        waivers: Vec::new(),
    };
    for source in &sources.texts {
        parsed.files.push(SpecFile {
            display: source.display.clone(),
            relative: source.relative.clone(),
        });
        let document = match parse_yaml::<Option<SpecDocument>>(&source.text, &source.display) {
            Ok(document) => document.unwrap_or_default(),
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        let display = &source.display;
        let mut cx = FileCx::new(display, &source.text, sources.config.luhn_check, errors);
        cx.unknown_keys(&document.unknown, SpecDocument::KEYS);
        for rule in document.rules.iter().flatten() {
            if let Some(name) = &rule.value.name {
                parsed.rule_names.push(NamedAt {
                    name: name.value.trim().to_string(),
                    file: display.clone(),
                    at: (name.line, name.col),
                });
            }
            if let Some(rule) = cx.rule(rule) {
                parsed.rules.push(rule);
            }
        }
        for (key, entry) in document.sims.iter().flat_map(|s| s.0.iter()) {
            if let Some(entry) = cx.entry(key, entry) {
                parsed.entries.push(entry);
            }
        }
        for check in document.checks.iter().flatten() {
            if let Some(name) = &check.value.name {
                parsed.check_names.push(NamedAt {
                    name: name.value.trim().to_string(),
                    file: display.clone(),
                    at: (name.line, name.col),
                });
            }
            if let Some(check) = cx.check(check) {
                parsed.checks.push(check);
            }
        }
        for waiver in document.waivers.iter().flatten() {
            if let Some(waiver) = cx.waiver(waiver) {
                parsed.waivers.push(waiver);
            }
        }
    }
    parsed
}

/// Step 3: what no single file can show.
fn check_across_files(parsed: &Parsed, problems: &mut Problems) {
    check_unique_names("rule", &parsed.rule_names, &mut problems.errors);
    check_unique_names("check", &parsed.check_names, &mut problems.errors);
    check_waived_checks_exist(parsed, &mut problems.errors);
    check_unique_iccids(&parsed.entries, &mut problems.errors);
    check_static_conflicts(&parsed.rules, &mut problems.errors);
    check_across::check_contradictions(&parsed.checks, &mut problems.errors);
    check_across::warn_idle_limits(
        &parsed.checks,
        &parsed.rules,
        &parsed.entries,
        &mut problems.warnings,
    );
    warn_self_referencing_matches(&parsed.rules, &mut problems.warnings);
}

/// Every waiver names a check of the spec (of any file).
fn check_waived_checks_exist(parsed: &Parsed, errors: &mut Vec<Diagnostic>) {
    for waiver in &parsed.waivers {
        if !parsed.check_names.iter().any(|c| c.name == waiver.check) {
            errors.push(Diagnostic::error(
                &waiver.file,
                Some((waiver.line, waiver.col)),
                format!("the waiver names an unknown check `{}`", waiver.check),
                "name a check of the spec (`checks:` in any file)",
            ));
        }
    }
}

/// A rule name and where it is written.
struct NamedAt {
    name: String,
    file: String,
    at: (u32, u32),
}

/// Rule names, and check names, are unique across all files (`what` says which).
fn check_unique_names(what: &str, names: &[NamedAt], errors: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, &NamedAt> = HashMap::new();
    for named in names {
        if let Some(first) = seen.get(named.name.as_str()) {
            errors.push(Diagnostic::error(
                &named.file,
                Some(named.at),
                format!(
                    "{what} name `{}` is already used at {}:{}:{}",
                    named.name, first.file, first.at.0, first.at.1
                ),
                format!(
                    "{what} names must be unique across all files (plans cite them): rename one"
                ),
            ));
        } else {
            seen.insert(&named.name, named);
        }
    }
}

fn check_unique_iccids(entries: &[SimEntry], errors: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, &SimEntry> = HashMap::new();
    for entry in entries {
        if let Some(first) = seen.get(entry.iccid.as_str()) {
            errors.push(Diagnostic::error(
                &entry.origin.file,
                Some((entry.origin.line, entry.origin.col)),
                format!(
                    "ICCID \"{}\" already has a sims entry at {}",
                    entry.iccid,
                    first.origin.location()
                ),
                "keep one entry per SIM: merge the two",
            ));
        } else {
            seen.insert(&entry.iccid, entry);
        }
    }
}

/// Rules with the same selection and priority that set a field to different values conflict
/// on every SIM they match: that is knowable without the live fleet.
fn check_static_conflicts(rules: &[Rule], errors: &mut Vec<Diagnostic>) {
    let mut groups: HashMap<(&Matcher, i64), Vec<&Rule>> = HashMap::new();
    for rule in rules {
        groups
            .entry((&rule.matcher, rule.priority))
            .or_default()
            .push(rule);
    }
    for rule in rules {
        let group = &groups[&(&rule.matcher, rule.priority)];
        for earlier in group.iter().take_while(|r| !std::ptr::eq(**r, rule)) {
            for (field, value) in &rule.settings {
                let Some(other) = earlier.setting(*field) else {
                    continue;
                };
                if other.value != value.value {
                    errors.push(Diagnostic::error(
                        &value.origin.file,
                        Some((value.origin.line, value.origin.col)),
                        format!(
                            "rule `{}` sets {field} to {}, but rule `{}` with the same match and priority sets it to {} at {}",
                            rule.name,
                            format_value(&value.value),
                            earlier.name,
                            format_value(&other.value),
                            other.origin.location(),
                        ),
                        "give one rule a higher `priority`, or make them agree",
                    ));
                }
            }
        }
    }
}

/// A rule that matches on a field some rule sets can be undone by it (or undo it).
fn warn_self_referencing_matches(rules: &[Rule], warnings: &mut Vec<Diagnostic>) {
    let mut setters: HashMap<Field, String> = HashMap::new();
    // Only rules count: a `sims:` entry pins one SIM and beats every rule anyway.
    for (field, value) in rules.iter().flat_map(|r| r.settings.iter()) {
        setters
            .entry(*field)
            .or_insert_with(|| value.origin.to_string());
    }
    for rule in rules {
        for (key, (line, col)) in &rule.match_keys {
            let Some(setter) = key.settable_field().and_then(|f| setters.get(&f)) else {
                continue;
            };
            warnings.push(Diagnostic::warning(
                &rule.origin.file,
                Some((*line, *col)),
                format!("rule `{}` matches on {key}, which is also set by {setter}", rule.name),
                "such rules can undo each other: after an apply the SIM may match other rules; prefer matching on fields no rule sets",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_parser_messages_read_whole() {
        assert_eq!(thousands(4_000_000), "4,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(
            whole_message("expected string scalar at line 2 column 14"),
            "expected string scalar"
        );
        assert_eq!(
            whole_message("budget breached\n at line 1, column 32 (defined at line 5, column 7) (used\n here)"),
            "budget breached at line 1, column 32 (defined at line 5, column 7) (used here)"
        );
    }

    #[test]
    fn a_null_or_scalar_mapping_says_what_it_must_be() {
        assert_eq!(
            invalid_type("`set` must be a mapping of fields", "unit value"),
            "`set` must be a mapping of fields, not null"
        );
        assert_eq!(
            invalid_type("a whole number", "string \"x\""),
            "wrong type: expected a whole number, found string \"x\""
        );
    }
}
