//! docs/cli.md is generated from the clap definitions (`simfleet cli-reference`); this test fails
//! when the checked-in page no longer matches the code, and says how to regenerate it. It also
//! checks that completions and man pages render for the whole command tree, and that the
//! environment variables are documented in `--help`.

use assert_cmd::Command;

fn simfleet() -> Command {
    let mut cmd = Command::cargo_bin("simfleet").expect("the simfleet binary is built");
    cmd.env_remove("SIMFLEET_LOG").env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = simfleet().args(args).output().expect("simfleet runs");
    assert!(
        out.status.success(),
        "simfleet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn docs_cli_md_matches_the_code() {
    let generated = stdout_of(&["cli-reference"]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &generated).expect("docs/cli.md is writable");
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/cli.md is out of date with the command-line definitions; regenerate it with\n\n    \
         cargo run -- cli-reference > docs/cli.md\n\n(or UPDATE_DOCS=1 cargo test --test cli_reference)"
    );
    for command in [
        "validate",
        "schema",
        "sandbox",
        "plan",
        "check",
        "show",
        "completions",
        "man",
    ] {
        assert!(
            generated.contains(&format!("## `simfleet {command}`")),
            "docs/cli.md lacks `simfleet {command}`"
        );
    }
    assert!(
        !generated.contains("## `simfleet cli-reference`"),
        "the hidden command stays hidden"
    );
}

const README_BEGIN: &str = "<!-- BEGIN simfleet --help (generated; tests/cli_reference.rs) -->\n";
const README_END: &str = "<!-- END simfleet --help -->";

/// The README's flag reference is the root command's help, copied from docs/cli.md's first block.
#[test]
fn readme_root_help_matches_the_code() {
    let generated = stdout_of(&["cli-reference"]);
    let start = generated.find("```text\n").expect("a help block");
    let end = generated[start + 8..]
        .find("\n```\n")
        .expect("closed help block")
        + start
        + 8;
    let block = format!("{}\n```\n", &generated[start..end]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (Some(b), Some(e)) = (readme.find(README_BEGIN), readme.find(README_END)) else {
        panic!("README.md lacks the generated --help markers");
    };
    let expected = format!("{}{README_BEGIN}{block}{}", &readme[..b], &readme[e..]);
    let readme = if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).expect("README.md is writable");
        expected.clone()
    } else {
        readme
    };
    assert!(
        readme == expected,
        "README.md's generated --help section is out of date; regenerate it with\n\n    \
         UPDATE_DOCS=1 cargo test --test cli_reference"
    );
}

#[test]
fn root_help_documents_the_environment_and_exit_codes() {
    let help = stdout_of(&["--help"]);
    for name in [
        "WHEREVER_SIM_TOKEN",
        "WHEREVER_SIM_ENDPOINT",
        "NO_COLOR",
        "CI",
        "SIMFLEET_LOG",
        "Exit codes",
    ] {
        assert!(
            help.contains(name),
            "--help does not mention {name}:\n{help}"
        );
    }
}

#[test]
fn completions_cover_every_shell_and_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        for word in ["plan", "show", "detailed-exitcode", "mask", "log-format"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    simfleet()
        .args(["completions", "tcsh"])
        .assert()
        .failure()
        // A usage error: 1, never 2 (which --detailed-exitcode gives to "changes").
        .code(1);
}

#[test]
fn man_page_renders_and_writes_one_page_per_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH simfleet 1"), "not a roff page:\n{page}");
    assert!(page.contains("WHEREVER_SIM_TOKEN"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("man1");
    simfleet()
        .args(["man", "--out-dir"])
        .arg(&out)
        .assert()
        .success();
    for page in [
        "simfleet.1",
        "simfleet-plan.1",
        "simfleet-show.1",
        "simfleet-validate.1",
    ] {
        let text = std::fs::read_to_string(out.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} missing or empty");
    }
}
