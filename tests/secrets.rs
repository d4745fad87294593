//! The API token never leaves the process: not on stdout or stderr, not in logs at any level, not
//! in plan files, error messages or Debug output, not even when the server echoes it back. It is
//! read from `WHEREVER_SIM_TOKEN` or `--token-file` only (there is no `--token` argument: it
//! would show in `ps` and shell history), and a world-readable token file draws a warning.

mod common;

use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;

use common::{simfleet_command, snapshot_file, spec_dir, Sandbox};
use simfleet::api::{Client, ClientConfig, RetryPolicy, SimFields};
use simfleet::fleet::SimFilter;
use simfleet::ops::connect::ConnectOptions;

/// Distinctive enough that finding it anywhere is a leak, not a coincidence.
const TOKEN: &str = "wsim-SECRET-7c1f0a9e42d3";

/// Fails with the place where the token was found.
fn assert_no_token(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN),
        "the token appears in {what}:\n{text}"
    );
    // Also no tail of it: a leak that cuts the prefix is still a leak.
    assert!(
        !text.contains(&TOKEN[5..]),
        "part of the token appears in {what}:\n{text}"
    );
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut assert_cmd::Command) -> Run {
    let output = cmd.output().expect("simfleet runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

fn fixture() -> (tempfile::TempDir, tempfile::TempDir, std::path::PathBuf) {
    let work = tempfile::tempdir().expect("temp dir");
    let snapshot = snapshot_file(work.path(), 400, 21);
    let spec = spec_dir(common::GENERATED_FLEET_FILES);
    (work, spec, snapshot)
}

/// plan (every format, every log level, with --out) and show (every format) with the token in
/// the environment: nothing prints or saves it.
#[test]
fn token_from_the_environment_appears_nowhere() {
    let (work, spec, snapshot) = fixture();
    let sandbox = Sandbox::builder().fleet(&snapshot).token(TOKEN).start();
    let formats = ["text", "markdown", "json"];
    for (i, level) in ["error", "warn", "info", "debug", "trace"]
        .iter()
        .enumerate()
    {
        for format in formats {
            let out = work.path().join(format!("plan-{i}-{format}.json"));
            let r = run(simfleet_command()
                .arg("plan")
                .arg(spec.path())
                .args(["--endpoint", &sandbox.url, "--format", format, "--verbose"])
                .arg("--out")
                .arg(&out)
                // JSON log lines with the JSON plan, text lines otherwise.
                .args([
                    "--log-format",
                    if format == "json" { "json" } else { "text" },
                ])
                .env("WHEREVER_SIM_TOKEN", TOKEN)
                .env("SIMFLEET_LOG", level)
                .env("RUST_BACKTRACE", "1"));
            assert!(r.code == 0 || r.code == 2, "plan failed: {}", r.stderr);
            if *level == "trace" {
                // The logs really were on: API requests and HTTP internals at TRACE.
                assert!(r.stderr.lines().count() > 20, "no trace logs: {}", r.stderr);
            }
            assert_no_token(&format!("plan stdout ({level}, {format})"), &r.stdout);
            assert_no_token(&format!("plan stderr ({level}, {format})"), &r.stderr);
            let saved = std::fs::read_to_string(&out).expect("plan saved");
            assert_no_token("the plan file", &saved);
            for show_format in formats {
                let r = run(simfleet_command()
                    .arg("show")
                    .arg(&out)
                    .args(["--format", show_format])
                    .env("WHEREVER_SIM_TOKEN", TOKEN)
                    .env("SIMFLEET_LOG", level));
                assert_eq!(r.code, 0, "show failed: {}", r.stderr);
                assert_no_token("show stdout", &r.stdout);
                assert_no_token("show stderr", &r.stderr);
            }
        }
    }
    // export: a snapshot file and a spec directory written from the live fleet.
    for (i, level) in ["info", "trace"].iter().enumerate() {
        let snapshot_out = work.path().join(format!("export-{i}.json"));
        let spec_out = work.path().join(format!("exported-spec-{i}"));
        let r = run(simfleet_command()
            .arg("export")
            .arg("--snapshot")
            .arg(&snapshot_out)
            .args(["--endpoint", &sandbox.url])
            .env("WHEREVER_SIM_TOKEN", TOKEN)
            .env("SIMFLEET_LOG", level));
        assert_eq!(r.code, 0, "export --snapshot failed: {}", r.stderr);
        assert_no_token("export stdout", &r.stdout);
        assert_no_token("export stderr", &r.stderr);
        let written = std::fs::read_to_string(&snapshot_out).expect("snapshot written");
        assert_no_token("the exported snapshot", &written);
        let r = run(simfleet_command()
            .arg("export")
            .arg("--spec")
            .arg(&spec_out)
            .args(["--endpoint", &sandbox.url])
            .env("WHEREVER_SIM_TOKEN", TOKEN)
            .env("SIMFLEET_LOG", level));
        assert_eq!(r.code, 0, "export --spec failed: {}", r.stderr);
        assert_no_token("export --spec stdout", &r.stdout);
        assert_no_token("export --spec stderr", &r.stderr);
        for entry in std::fs::read_dir(&spec_out).expect("spec dir written") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert_no_token(&format!("exported {}", path.display()), &text);
            }
        }
    }
    // The sandbox really required the token: it was sent, just never shown.
    let stats = sandbox.stats();
    assert!(
        stats["operations"]["listSims"].as_u64().unwrap_or(0) > 0,
        "{stats}"
    );
}

/// Failures that carry request details: a wrong token (401), a server that fails every request,
/// an unreachable endpoint. The error says what went wrong without the token.
#[test]
fn errors_never_contain_the_token() {
    let (_work, spec, snapshot) = fixture();
    let wrong = Sandbox::builder()
        .fleet(&snapshot)
        .token("a-different-token")
        .start();
    let faulty = Sandbox::builder()
        .fleet(&snapshot)
        .token(TOKEN)
        .seed(5)
        .fault_rate(1.0)
        .start();
    let unreachable = "http://127.0.0.1:9/graphql".to_string();
    for (name, url) in [
        ("401", &wrong.url),
        ("faults", &faulty.url),
        ("unreachable", &unreachable),
    ] {
        for level in ["info", "trace"] {
            let r = run(simfleet_command()
                .arg("plan")
                .arg(spec.path())
                .args(["--endpoint", url, "--format", "json"])
                .env("WHEREVER_SIM_TOKEN", TOKEN)
                .env("SIMFLEET_LOG", level));
            assert_eq!(r.code, 1, "{name}: {}", r.stderr);
            assert!(r.stderr.contains("error:"), "{name}: {}", r.stderr);
            assert_no_token(&format!("{name} stderr"), &r.stderr);
            assert_no_token(&format!("{name} stdout"), &r.stdout);
        }
    }
}

#[cfg(unix)]
fn write_token_file(dir: &Path, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("token-{mode:o}"));
    std::fs::write(&path, format!("{TOKEN}\n")).expect("write token");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// `--token-file`: works, is never printed, and warns (with the fix) when world-readable.
#[cfg(unix)]
#[test]
fn token_file_is_used_and_world_readable_files_warn() {
    let (work, spec, snapshot) = fixture();
    let sandbox = Sandbox::builder().fleet(&snapshot).token(TOKEN).start();
    let private = write_token_file(work.path(), 0o600);
    let public = write_token_file(work.path(), 0o644);

    let r = run(simfleet_command()
        .arg("plan")
        .arg(spec.path())
        .args(["--endpoint", &sandbox.url, "--token-file"])
        .arg(&private)
        .env("SIMFLEET_LOG", "trace"));
    assert!(r.code == 0 || r.code == 2, "{}", r.stderr);
    assert!(!r.stderr.contains("readable by every user"), "{}", r.stderr);
    assert_no_token("stdout", &r.stdout);
    assert_no_token("stderr", &r.stderr);

    let r = run(simfleet_command()
        .arg("plan")
        .arg(spec.path())
        .args(["--endpoint", &sandbox.url, "--token-file"])
        .arg(&public)
        .env("SIMFLEET_LOG", "trace"));
    assert!(r.code == 0 || r.code == 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("readable by every user") && r.stderr.contains("chmod 600"),
        "no warning for a world-readable token file: {}",
        r.stderr
    );
    assert_no_token("stdout", &r.stdout);
    assert_no_token("stderr", &r.stderr);

    // A token file that cannot be read: the error names the file, not its content.
    let r = run(simfleet_command()
        .arg("plan")
        .arg(spec.path())
        .args(["--endpoint", &sandbox.url, "--token-file"])
        .arg(work.path().join("missing")));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
}

/// There is no `--token`: clap refuses it (usage error, exit 1) and does not echo the value.
#[test]
fn token_is_not_accepted_as_an_argument() {
    let spec = spec_dir(common::GENERATED_FLEET_FILES);
    for args in [
        vec!["--token".to_string(), TOKEN.to_string()],
        vec![format!("--token={TOKEN}")],
    ] {
        let r = run(simfleet_command()
            .arg("plan")
            .arg(spec.path())
            .args(["--endpoint", "http://127.0.0.1:9/graphql"])
            .args(&args));
        assert_eq!(r.code, 1, "{args:?} accepted: {}", r.stderr);
        assert!(r.stderr.contains("unexpected argument"), "{}", r.stderr);
        assert_no_token("the usage error", &r.stderr);
    }
    let help = run(simfleet_command().args(["plan", "--help"]));
    assert!(!help.stdout.contains("--token <"), "{}", help.stdout);
    assert!(help.stdout.contains("--token-file"), "{}", help.stdout);
}

/// Debug output of everything that holds the token prints `[REDACTED]`, so a panic message or
/// a `{:?}` in a log cannot leak it.
#[test]
fn debug_output_redacts_the_token() {
    let config = ClientConfig::new("http://127.0.0.1:9/graphql", SecretString::from(TOKEN));
    let debug = format!("{config:?}");
    assert_no_token("ClientConfig's Debug", &debug);
    assert!(debug.contains("REDACTED"), "{debug}");
    let options = ConnectOptions {
        endpoint: Some("http://127.0.0.1:9/graphql".into()),
        ..ConnectOptions::default()
    };
    assert_no_token("ConnectOptions' Debug", &format!("{options:?}"));
}

/// A server that echoes the Authorization header back in every kind of answer (GraphQL errors,
/// 401, 500, 400, a malformed body): the client's errors still never contain the token.
#[tokio::test]
async fn a_server_echoing_the_token_cannot_make_the_client_print_it() {
    use axum::http::{HeaderMap, StatusCode};

    let mode = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let served = mode.clone();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |headers: HeaderMap| {
            let mode = served.load(std::sync::atomic::Ordering::SeqCst);
            async move {
                let token = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let errors = format!(r#"{{"errors":[{{"message":"bad token {token}"}}]}}"#);
                match mode {
                    0 => (StatusCode::OK, errors),
                    1 => (StatusCode::UNAUTHORIZED, errors),
                    2 => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("upstream said {token}"),
                    ),
                    3 => (StatusCode::BAD_REQUEST, errors),
                    _ => (
                        StatusCode::OK,
                        format!("{{\"data\": {{\"listSims\": \"{token}"),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = ClientConfig::new(url, SecretString::from(TOKEN));
    config.rate_per_second = None;
    config.retry = RetryPolicy {
        max_attempts: 2,
        min_delay: std::time::Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let client = Client::new(config).expect("client");
    for m in 0..5 {
        mode.store(m, std::sync::atomic::Ordering::SeqCst);
        let error = client
            .list_sims_page(&SimFilter::default(), 10, None, SimFields::Plan)
            .await
            .expect_err("every answer is an error");
        assert_no_token(&format!("error Display (mode {m})"), &error.to_string());
        assert_no_token(&format!("error Debug (mode {m})"), &format!("{error:?}"));
    }
}

/// `apply` (a saved plan, in text and JSON reports, at info and trace) prints the token nowhere,
/// and neither does an apply that the API refuses (a sandbox expecting another token).
#[test]
fn apply_never_shows_the_token() {
    let (work, _spec, snapshot) = fixture();
    let sandbox = Sandbox::builder()
        .fleet(&snapshot)
        .token(TOKEN)
        .batch_rate(100_000.0)
        .start();
    let wrong = Sandbox::builder()
        .fleet(&snapshot)
        .token("a-different-token")
        .start();
    let mut applied = 0;
    for (i, (level, format)) in [("info", "text"), ("trace", "json"), ("trace", "text")]
        .into_iter()
        .enumerate()
    {
        // A fresh change every round, so that every apply has work to do.
        let spec = spec_dir(&[(
            "rules.yaml",
            &format!(
                "rules:\n  - name: all\n    match: all\n    set: {{ custom_field_1: round-{i} }}\n"
            ),
        )]);
        let out = work.path().join(format!("apply-{i}.json"));
        let r = run(simfleet_command()
            .arg("plan")
            .arg(spec.path())
            .args(["--endpoint", &sandbox.url, "--out"])
            .arg(&out)
            .env("WHEREVER_SIM_TOKEN", TOKEN));
        assert_eq!(r.code, 0, "plan: {}", r.stderr);
        let r = run(simfleet_command()
            .arg("apply")
            .arg(&out)
            .arg("--spec")
            .arg(spec.path())
            .args(["--endpoint", &sandbox.url, "--format", format])
            .env("WHEREVER_SIM_TOKEN", TOKEN)
            .env("SIMFLEET_LOG", level)
            .env("RUST_BACKTRACE", "1"));
        assert_eq!(r.code, 0, "apply ({level}, {format}): {}", r.stderr);
        assert_no_token(&format!("apply stdout ({level}, {format})"), &r.stdout);
        assert_no_token(&format!("apply stderr ({level}, {format})"), &r.stderr);
        applied += 1;

        let r = run(simfleet_command()
            .arg("apply")
            .arg(&out)
            .arg("--spec")
            .arg(spec.path())
            .args(["--endpoint", &wrong.url, "--format", format])
            .env("WHEREVER_SIM_TOKEN", TOKEN)
            .env("SIMFLEET_LOG", level));
        assert_ne!(
            r.code, 0,
            "apply against a sandbox refusing the token succeeded"
        );
        assert_no_token("refused apply stdout", &r.stdout);
        assert_no_token("refused apply stderr", &r.stderr);
    }
    assert_eq!(applied, 3);
    let stats = sandbox.stats();
    assert!(
        stats["operations"]["startBatchJob"].as_u64().unwrap_or(0)
            + stats["operations"]["updateSim"].as_u64().unwrap_or(0)
            > 0,
        "nothing was applied: {stats}"
    );
}
