//! Reads a spec directory: every `*.yaml` / `*.yml` below it in path order (skipping the root
//! `simfleet.yaml`, which is the configuration), parses each with locations, gives values their
//! meaning, and checks what no single file can: unique rule names, each ICCID in one entry only,
//! and static conflicts between rules with the same selection.
//!
//! This is the only part of `spec` that touches the file system. Problems from every file are
//! collected before failing, so one run shows them all.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::spec::build::FileCx;
use crate::spec::config::{Config, CONFIG_FILE};
use crate::spec::desired::Field;
use crate::spec::diagnostic::{Diagnostic, SpecErrors};
use crate::spec::matcher::Matcher;
use crate::spec::model::SpecDocument;
use crate::spec::resolve::{format_value, Rule, SimEntry, Spec, SpecFile};

/// Counts for the one-line summary of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub rules: usize,
    pub sim_entries: usize,
}

/// A spec that loaded without errors, with its warnings.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: Spec,
    pub warnings: Vec<Diagnostic>,
    pub summary: Summary,
}

/// Parses YAML text into `T`, or a located diagnostic naming `file`.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_diagnostic(&e, file))
}

fn yaml_diagnostic(error: &serde_saphyr::Error, file: &str) -> Diagnostic {
    use serde_saphyr::Error as E;
    let at = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| (clamp(l.line()), clamp(l.column())));
    let plain = error.without_snippet();
    let (message, help) = match plain {
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
            format!("wrong type: expected {expected}, found {unexpected}"),
            "see README.md or schema/simfleet.schema.json for the format of this key".to_string(),
        ),
        E::MultipleDocuments { .. } => (
            "a second YAML document (`---`)".to_string(),
            "a spec file holds one document: split it into two files".to_string(),
        ),
        _ => (
            format!("malformed YAML: {}", first_line(&plain.to_string())),
            "fix the YAML syntax here (indentation, quotes, colons)".to_string(),
        ),
    };
    Diagnostic::error(file, at, message, help)
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

/// The message without saphyr's own " at line X column Y" suffix (we print the location first).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text).trim();
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// Every `*.yaml` / `*.yml` under `dir`, as `/`-separated paths relative to it, sorted.
fn spec_paths(dir: &Path, display_dir: &str, problems: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = match fs::read_dir(dir.join(&relative)) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(Diagnostic::error(
                    &join(display_dir, &relative.to_string_lossy()),
                    None,
                    format!("cannot read the directory: {e}"),
                    "pass an existing spec directory, e.g. `simfleet validate examples/fleet`",
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // Hidden directories and files (.git, .github workflows) are never spec files.
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = relative.join(&name);
            // file_type does not follow symlinks, so a symlinked directory cannot loop us.
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml") | Some("yml")
            ) {
                let parts: Vec<String> = path
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }
    found.sort();
    found
}

fn join(display_dir: &str, relative: &str) -> String {
    if display_dir.is_empty() || display_dir == "." {
        return relative.to_string();
    }
    if relative.is_empty() {
        return display_dir.to_string();
    }
    format!("{}/{relative}", display_dir.trim_end_matches('/'))
}

/// `simfleet.yaml` parsed and range-checked; problems (with file:line:col) go to `errors`.
fn parse_config(text: &str, display: &str, errors: &mut Vec<Diagnostic>) -> Config {
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

/// Only `simfleet.yaml` of the spec directory `dir`, checked exactly as [`load`] checks it (for
/// `apply PLANFILE --spec DIR`); the defaults when the directory has none. A `dir` that is not
/// a directory is an error.
pub fn load_config(dir: &Path) -> Result<Config, SpecErrors> {
    let display_dir = dir.to_string_lossy().replace('\\', "/");
    if !dir.is_dir() {
        return Err(SpecErrors::new(vec![Diagnostic::error(
            &display_dir,
            None,
            "is not a directory",
            "pass the spec directory (to `apply PLANFILE` with --spec, the one the plan was made from), e.g. `examples/fleet`",
        )]));
    }
    let path = dir.join(CONFIG_FILE);
    let display = join(&display_dir, CONFIG_FILE);
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
    let config = parse_config(&text, &display, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(SpecErrors::new(errors))
    }
}

/// Loads and validates the spec in `dir`, failing with every problem found.
pub fn load(dir: &Path) -> Result<LoadedSpec, SpecErrors> {
    let display_dir = dir.to_string_lossy().replace('\\', "/");
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if !dir.is_dir() {
        return Err(SpecErrors::new(vec![Diagnostic::error(
            &display_dir,
            None,
            "is not a directory",
            "pass the spec directory, e.g. `simfleet validate examples/fleet`",
        )]));
    }
    let paths = spec_paths(dir, &display_dir, &mut errors);
    let mut hasher = Sha256::new();
    let mut config = Config::default();
    let mut texts = Vec::new();
    for relative in &paths {
        let display = join(&display_dir, relative);
        let bytes = match fs::read(dir.join(relative)) {
            Ok(bytes) => bytes,
            Err(e) => {
                errors.push(Diagnostic::error(
                    &display,
                    None,
                    format!("cannot read the file: {e}"),
                    "check its permissions",
                ));
                continue;
            }
        };
        hasher.update((relative.len() as u64).to_le_bytes());
        hasher.update(relative.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                errors.push(Diagnostic::error(
                    &display,
                    None,
                    "is not UTF-8 text",
                    "save the file as UTF-8",
                ));
                continue;
            }
        };
        if relative == CONFIG_FILE {
            config = parse_config(&text, &display, &mut errors);
            continue;
        }
        texts.push((relative.clone(), display, text));
    }

    let mut files = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut entries: Vec<SimEntry> = Vec::new();
    // Every rule's name, also of rules with errors: a duplicate is reported either way.
    let mut rule_names = Vec::new();
    for (relative, display, text) in &texts {
        files.push(SpecFile {
            display: display.clone(),
            relative: relative.clone(),
        });
        let document = match parse_yaml::<Option<SpecDocument>>(text, display) {
            Ok(document) => document.unwrap_or_default(),
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        let mut cx = FileCx::new(display, text, config.luhn_check, &mut errors);
        cx.unknown_keys(&document.unknown, SpecDocument::KEYS);
        for rule in document.rules.iter().flatten() {
            if let Some(name) = &rule.value.name {
                rule_names.push(NamedAt {
                    name: name.value.trim().to_string(),
                    file: display.clone(),
                    at: (name.line, name.col),
                });
            }
            if let Some(rule) = cx.rule(rule) {
                rules.push(rule);
            }
        }
        for (key, entry) in document.sims.iter().flat_map(|s| s.0.iter()) {
            if let Some(entry) = cx.entry(key, entry) {
                entries.push(entry);
            }
        }
    }

    check_unique_rule_names(&rule_names, &mut errors);
    check_unique_iccids(&entries, &mut errors);
    check_static_conflicts(&rules, &mut errors);
    warn_self_referencing_matches(&rules, &mut warnings);

    if !errors.is_empty() {
        return Err(SpecErrors::new(errors));
    }
    warnings.sort();
    let summary = Summary {
        files: files.len(),
        rules: rules.len(),
        sim_entries: entries.len(),
    };
    let digest = hex::encode(hasher.finalize());
    Ok(LoadedSpec {
        spec: Spec::new(rules, entries, config, files, digest),
        warnings,
        summary,
    })
}

/// A rule name and where it is written.
struct NamedAt {
    name: String,
    file: String,
    at: (u32, u32),
}

fn check_unique_rule_names(names: &[NamedAt], errors: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, &NamedAt> = HashMap::new();
    for named in names {
        if let Some(first) = seen.get(named.name.as_str()) {
            errors.push(Diagnostic::error(
                &named.file,
                Some(named.at),
                format!(
                    "rule name `{}` is already used at {}:{}:{}",
                    named.name, first.file, first.at.0, first.at.1
                ),
                "rule names must be unique across all files (plans cite them): rename one",
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
