//! The boundaries ARCHITECTURE.md draws, checked on the source: dependencies between the
//! library's modules point one way, and the pure stages do no I/O. Test code (`tests.rs`,
//! `*_tests.rs`, and everything after a file's `#[cfg(test)]`) may use anything.

use std::path::{Path, PathBuf};

/// Each module and the crate modules it must never import.
const NEVER: &[(&str, &[&str])] = &[
    (
        "fleet",
        &[
            "spec", "plan", "render", "api", "apply", "ops", "sandbox", "export", "fmt",
        ],
    ),
    (
        "spec",
        &[
            "plan", "render", "api", "apply", "ops", "sandbox", "export", "fmt",
        ],
    ),
    (
        "plan",
        &["render", "api", "apply", "ops", "sandbox", "export", "fmt"],
    ),
    ("render", &["api", "ops", "sandbox", "export", "fmt"]),
    (
        "api",
        &[
            "spec", "plan", "render", "apply", "ops", "sandbox", "export", "fmt",
        ],
    ),
    ("apply", &["ops", "sandbox", "export", "fmt", "spec"]),
    (
        "sandbox",
        &[
            "spec", "plan", "render", "api", "apply", "ops", "export", "fmt",
        ],
    ),
    (
        "export",
        &["plan", "render", "api", "apply", "ops", "sandbox"],
    ),
    (
        "rehearse",
        &["spec", "render", "api", "ops", "sandbox", "export", "fmt"],
    ),
];

/// Modules that take data and return data: no files, network or runtime. `spec::loader` is the
/// spec's one reader and is exempt.
const PURE: &[&str] = &["plan", "render", "export", "rehearse"];
const IO: &[&str] = &[
    "std::fs",
    "std::net",
    "tokio",
    "reqwest",
    "File::open",
    "File::create",
];

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The non-test part of a source file, or nothing for a test file.
fn shipped_code(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).expect("readable source");
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn dependencies_between_modules_point_one_way() {
    let mut wrong = Vec::new();
    for (module, never) in NEVER {
        for path in sources(&src().join(module)) {
            let code = shipped_code(&path);
            for other in *never {
                if code.contains(&format!("crate::{other}::"))
                    || code.contains(&format!("crate::{other}}}"))
                    || code.contains(&format!("crate::{other};"))
                {
                    wrong.push(format!("{} imports crate::{other}", path.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "see ARCHITECTURE.md, Code map:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn pure_stages_do_no_io() {
    let mut wrong = Vec::new();
    for module in PURE {
        for path in sources(&src().join(module)) {
            let code = shipped_code(&path);
            for io in IO {
                if code.contains(io) {
                    wrong.push(format!("{} uses {io}", path.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "pure stages take data and return data:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    // A check that finds nothing because it reads nothing would pass forever.
    assert!(sources(&src().join("plan")).len() > 5);
    let engine = shipped_code(&src().join("plan/engine.rs"));
    assert!(engine.contains("crate::fleet::"), "the scan reads imports");
}

/// The forge variables that make source links are read in one place, the settings; renderers
/// only receive the finished `SourceLinks` (ARCHITECTURE.md, `settings`).
#[test]
fn forge_variables_are_read_only_in_the_settings() {
    let mut wrong = Vec::new();
    let mut seen = false;
    for path in sources(&src()) {
        let code = shipped_code(&path);
        for var in ["\"GITHUB_SHA\"", "\"CI_COMMIT_SHA\"", "\"CI_PROJECT_URL\""] {
            if code.contains(var) {
                if path.starts_with(src().join("settings")) {
                    seen = true;
                } else {
                    wrong.push(format!("{} reads {var}", path.display()));
                }
            }
        }
    }
    assert!(seen, "the scan finds the settings reading them");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
