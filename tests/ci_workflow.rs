//! The example CI set-ups cannot rot: this test reads examples/ci/github-actions.yml and
//! examples/ci/gitlab-ci.yml, and runs their shell steps as the runner would (bash, the same
//! environment variables and expressions) against the simfleet sandbox on loopback, with `gh`
//! and `curl` replaced by tests/ci/fake-forge.sh, which keeps comments as files. It checks the
//! exit codes, that the comment posted is the plan's markdown, that a second run edits the same
//! comment instead of adding one, that a fork's pull request only validates, and that the merge
//! job applies exactly the approved plan and refuses any other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
mod common;

use common::Served;
use simfleet::sandbox::{demo_fleet, SandboxConfig};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const PR: &str = "7";

/// A sandbox serving the demo fleet, and the directories a job runs in.
struct World {
    served: Served,
    root: tempfile::TempDir,
}

/// What one job run left behind.
struct JobRun {
    /// The exit code of the step that failed, or 0.
    code: i32,
    /// Outputs of each step by id (`GITHUB_OUTPUT`).
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    log: String,
}

impl World {
    fn new() -> World {
        // The workflows (and gh's --jq, which the fake evaluates) use jq, as hosted runners have it.
        let jq = Command::new("jq").arg("--version").output();
        assert!(
            jq.is_ok_and(|o| o.status.success()),
            "the CI workflow test needs jq on PATH (apt-get install jq / brew install jq)"
        );
        let served = Served::start(
            SandboxConfig {
                batch_rate: 100_000.0,
                ..SandboxConfig::default()
            },
            demo_fleet(),
        );
        let root = tempfile::tempdir().expect("temp dir");
        // The runner's tools: simfleet (the binary under test), and gh/curl faked.
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_simfleet"), bin.join("simfleet"))
            .expect("simfleet on PATH");
        let fake = Path::new(REPO).join("tests/ci/fake-forge.sh");
        for tool in ["gh", "curl"] {
            std::os::unix::fs::symlink(&fake, bin.join(tool)).expect("fake tool on PATH");
        }
        std::fs::create_dir_all(root.path().join("forge")).expect("forge dir");
        World { served, root }
    }

    /// A fresh checkout of examples/fleet without `allow_status_cuts`: the guard stops the
    /// example's one suspension, as it would in a repository that has not allowed it yet.
    fn checkout_blocked(&self, name: &str) -> PathBuf {
        let dir = self.checkout(name);
        let path = dir.join("fleet/simfleet.yaml");
        let text = std::fs::read_to_string(&path).expect("simfleet.yaml");
        assert!(text.contains("allow_status_cuts: true"), "{text}");
        std::fs::write(
            &path,
            text.replace("allow_status_cuts: true", "allow_status_cuts: false"),
        )
        .expect("simfleet.yaml written");
        dir
    }

    /// A fresh checkout of a repository whose fleet/ is examples/fleet.
    fn checkout(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        let fleet = dir.join("fleet");
        std::fs::create_dir_all(&fleet).expect("checkout dir");
        for entry in std::fs::read_dir(Path::new(REPO).join("examples/fleet")).expect("examples") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), fleet.join(entry.file_name())).expect("copy spec");
        }
        dir
    }

    /// Keeps a file uploaded by `actions/upload-artifact` as GitHub does: a numbered artifact
    /// with its name, which the fake `gh` lists and zips.
    fn keep_artifact(&self, name: &str, file: &Path) {
        let root = self.forge().join("artifacts");
        let id = 1 + std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
        let files = root.join(id.to_string()).join("files");
        std::fs::create_dir_all(&files).expect("artifact dir");
        std::fs::write(root.join(id.to_string()).join("name"), name).expect("artifact name");
        std::fs::copy(file, files.join(file.file_name().expect("a file"))).expect("artifact kept");
    }

    fn forge(&self) -> PathBuf {
        self.root.path().join("forge")
    }

    /// The comments on the pull request, oldest first, as (id, body).
    fn comments(&self, thread: &str) -> Vec<(u64, String)> {
        let dir = self.forge().join("threads").join(thread);
        let mut out: Vec<(u64, String)> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| {
                        let id = e.path().file_stem()?.to_str()?.parse().ok()?;
                        Some((id, std::fs::read_to_string(e.path()).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.forge().join("calls")).unwrap_or_default()
    }

    /// Runs one bash script as the runner does, in `dir`, with `env`.
    fn bash(&self, dir: &Path, script: &str, env: &BTreeMap<String, String>) -> (i32, String) {
        let path = std::env::var("PATH").unwrap_or_default();
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(dir)
            .env_clear()
            .env(
                "PATH",
                format!("{}:{path}", self.root.path().join("bin").display()),
            )
            .env("HOME", self.root.path())
            .env("FAKE_FORGE", self.forge())
            .env("WHEREVER_SIM_ENDPOINT", &self.served.url)
            .env("CI", "true")
            .env("NO_COLOR", "1")
            // Every commit the fake forge is asked about came from pull request PR.
            .env("FAKE_PR_FOR_COMMIT", PR)
            .envs(env)
            .output()
            .expect("bash runs");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), log)
    }

    /// Runs a GitHub Actions job's steps in order, as the runner would, until one fails.
    /// `uses:` steps (checkout, cache, upload) are the runner's business and are skipped; the
    /// files an upload step names must exist.
    fn run_github_job(
        &self,
        workflow: &Value,
        job: &str,
        dir: &Path,
        ctx: &GithubContext,
    ) -> JobRun {
        let job_def = &workflow["jobs"][job];
        let steps = job_def["steps"].as_array().expect("steps");
        let mut run = JobRun {
            code: 0,
            outputs: BTreeMap::new(),
            log: String::new(),
        };
        for (n, step) in steps.iter().enumerate() {
            if let Some(cond) = step.get("if").and_then(Value::as_str) {
                if !github_condition(cond, &run.outputs) {
                    continue;
                }
            }
            if let Some(action) = step.get("uses").and_then(Value::as_str) {
                if action.starts_with("actions/upload-artifact") {
                    let file = step["with"]["path"].as_str().expect("upload path");
                    assert!(
                        dir.join(file).is_file(),
                        "the artifact {file} was not written"
                    );
                    let name = step["with"]["name"].as_str().expect("artifact name");
                    self.keep_artifact(&github_expand(name, ctx, &run.outputs), &dir.join(file));
                }
                continue;
            }
            let script = step["run"].as_str().expect("a run step");
            assert!(
                !script.contains("${{"),
                "keep ${{{{ }}}} out of run scripts: {script}"
            );
            let mut env = BTreeMap::new();
            for scope in [&workflow["env"], &job_def["env"], &step["env"]] {
                if let Some(map) = scope.as_object() {
                    for (k, v) in map {
                        let v = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        env.insert(k.clone(), github_expand(&v, ctx, &run.outputs));
                    }
                }
            }
            let output = self.root.path().join(format!("output-{job}-{n}"));
            let _ = std::fs::remove_file(&output);
            env.insert("GITHUB_OUTPUT".into(), output.display().to_string());
            env.insert(
                "GITHUB_STEP_SUMMARY".into(),
                self.root.path().join("summary.md").display().to_string(),
            );
            env.insert("GITHUB_REPOSITORY".into(), "acme/fleet".into());
            env.insert("GITHUB_SHA".into(), ctx.sha.clone());
            let (code, log) = self.bash(dir, script, &env);
            run.log
                .push_str(&format!("--- step {n}: {}\n{log}", step["name"]));
            if let Some(id) = step.get("id").and_then(Value::as_str) {
                let text = std::fs::read_to_string(&output).unwrap_or_default();
                let map = text
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                run.outputs.insert(id.to_string(), map);
            }
            if code != 0 {
                run.code = code;
                return run;
            }
        }
        run
    }

    /// Runs a GitLab CI job: `before_script` then `script`, in one bash, with the project's
    /// variables and the predefined ones a merge-request or branch pipeline has.
    fn run_gitlab_job(&self, ci: &Value, job: &str, dir: &Path, vars: &[(&str, &str)]) -> JobRun {
        let mut lines: Vec<String> = Vec::new();
        for section in [&ci["default"]["before_script"], &ci[job]["script"]] {
            for line in section.as_array().expect("script lines") {
                lines.push(line.as_str().expect("a script line").to_string());
            }
        }
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        if let Some(map) = ci["variables"].as_object() {
            for (k, v) in map {
                env.insert(k.clone(), v.as_str().expect("string variable").to_string());
            }
        }
        for (k, v) in [
            ("CI_PROJECT_DIR", dir.display().to_string().as_str()),
            ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
            ("CI_PROJECT_ID", "42"),
            ("GITLAB_API_TOKEN", "glpat-test"),
            ("CI_DEFAULT_BRANCH", "main"),
        ]
        .into_iter()
        .chain(vars.iter().copied())
        {
            env.insert(k.to_string(), v.to_string());
        }
        let (code, log) = self.bash(dir, &lines.join("\n"), &env);
        // The job's artifacts, kept as GitLab keeps them: by ref (a merge request's pipeline
        // runs on refs/merge-requests/IID/head) and job.
        if let Some(iid) = env.get("CI_MERGE_REQUEST_IID") {
            let kept = self
                .forge()
                .join("gitlab-artifacts")
                .join(format!("refs%2Fmerge-requests%2F{iid}%2Fhead"))
                .join(job);
            for path in ci[job]["artifacts"]["paths"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let file = path.as_str().expect("artifact path");
                if dir.join(file).is_file() {
                    std::fs::create_dir_all(&kept).expect("artifact dir");
                    std::fs::copy(dir.join(file), kept.join(file)).expect("artifact kept");
                }
            }
        }
        // A branch pipeline's successful job, kept as GitLab's jobs API lists it (newest
        // first), with its ref and artifact files.
        if code == 0 && !env.contains_key("CI_MERGE_REQUEST_IID") {
            let root = self.forge().join("gitlab-jobs");
            let id = 1 + std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
            let files = root.join(id.to_string()).join("files");
            std::fs::create_dir_all(&files).expect("job dir");
            let branch = env.get("CI_COMMIT_BRANCH").map_or("main", String::as_str);
            std::fs::write(root.join(id.to_string()).join("name"), job).expect("job name");
            std::fs::write(root.join(id.to_string()).join("ref"), branch).expect("job ref");
            for path in ci[job]["artifacts"]["paths"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let file = path.as_str().expect("artifact path");
                if dir.join(file).is_file() {
                    std::fs::copy(dir.join(file), files.join(file)).expect("artifact kept");
                }
            }
        }
        JobRun {
            code,
            outputs: BTreeMap::new(),
            log,
        }
    }

    /// `simfleet plan` of a checkout, exit code only (2 = changes, 0 = none).
    fn plan_exit(&self, dir: &Path) -> i32 {
        let (code, log) = self.bash(
            dir,
            "simfleet plan fleet --detailed-exitcode > /dev/null",
            &BTreeMap::from([("WHEREVER_SIM_TOKEN".to_string(), "sandbox".to_string())]),
        );
        assert!(code == 0 || code == 2, "plan failed: {log}");
        code
    }
}

/// The reviewer's fix for a blocked plan: allow the deactivation.
fn allow_status_cuts(dir: &Path) {
    let path = dir.join("fleet/simfleet.yaml");
    let text = std::fs::read_to_string(&path).expect("simfleet.yaml");
    assert!(text.contains("allow_status_cuts: false"), "{text}");
    std::fs::write(
        &path,
        text.replace("allow_status_cuts: false", "allow_status_cuts: true"),
    )
    .expect("simfleet.yaml written");
}

/// The GitHub context of one run.
struct GithubContext {
    token: String,
    sha: String,
    dispatch_checksum: String,
}

/// Replaces the `${{ }}` expressions the workflow uses; any other expression fails the test,
/// so a new one must be given a meaning here first.
fn github_expand(
    text: &str,
    ctx: &GithubContext,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start;
        let expr = rest[start + 3..end].trim();
        let value = match expr {
            "secrets.WHEREVER_SIM_TOKEN" => ctx.token.clone(),
            "github.token" => "ghs_fake".into(),
            "github.event.pull_request.number" => PR.into(),
            "github.event.inputs.checksum" => ctx.dispatch_checksum.clone(),
            _ => match expr
                .strip_prefix("steps.")
                .and_then(|e| e.split_once(".outputs."))
            {
                Some((id, key)) => outputs
                    .get(id)
                    .and_then(|o| o.get(key))
                    .cloned()
                    .unwrap_or_default(),
                None => panic!("the test does not know the expression ${{{{ {expr} }}}}"),
            },
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Evaluates the `if:` forms the workflow uses: `steps.ID.outputs.KEY == 'VALUE'`.
fn github_condition(cond: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let (lhs, rhs) = cond
        .split_once("==")
        .unwrap_or_else(|| panic!("the test does not know the condition {cond:?}"));
    let (id, key) = lhs
        .trim()
        .strip_prefix("steps.")
        .and_then(|e| e.split_once(".outputs."))
        .unwrap_or_else(|| panic!("the test does not know the condition {cond:?}"));
    let want = rhs.trim().trim_matches('\'');
    outputs.get(id).and_then(|o| o.get(key)).map(String::as_str) == Some(want)
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(REPO).join(path)).expect("example exists");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn apply_available() -> bool {
    Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(["apply", "--help"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The plan's markdown exactly as `show --format markdown --mask` renders it.
fn shown_markdown(world: &World, dir: &Path) -> String {
    let (code, log) = world.bash(
        dir,
        "simfleet show plan.json --format markdown --mask || [ $? -eq 3 ]",
        &BTreeMap::new(),
    );
    assert_eq!(code, 0, "{log}");
    log
}

fn checksum_of(dir: &Path) -> String {
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).expect("plan.json"))
            .expect("plan JSON");
    plan["checksum"].as_str().expect("checksum").to_string()
}

// ---- the scheduled drift job: one issue per fleet directory, managed in place ----

/// One drift issue as the fake forge keeps it.
struct DriftIssue {
    number: String,
    state: String,
    body: String,
}

impl World {
    /// Every issue the fake forge holds, by number.
    fn issues(&self) -> Vec<DriftIssue> {
        let dir = self.forge().join("issues");
        let mut out: Vec<DriftIssue> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| {
                        let read =
                            |f: &str| std::fs::read_to_string(e.path().join(f)).unwrap_or_default();
                        DriftIssue {
                            number: e.file_name().to_string_lossy().to_string(),
                            state: read("state"),
                            body: read("body.md"),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.number.cmp(&b.number));
        out
    }

    /// A change made in the vendor's portal (the sandbox-only `POST /outside/updateSim`).
    fn outside_change(&self, body: Value) {
        let url = format!("{}/outside/updateSim", self.served.base);
        let status = self.served.rt.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .header("Authorization", "sandbox")
                .json(&body)
                .send()
                .await
                .expect("POST")
                .status()
                .as_u16()
        });
        assert_eq!(status, 200, "{body}");
    }

    /// Plans and applies the checkout's spec: the fleet matches it afterwards.
    fn reconcile(&self, dir: &Path) {
        let (code, log) = self.bash(
            dir,
            "simfleet plan fleet --out reconcile.json > /dev/null; \
             simfleet show reconcile.json --format json > reconcile-sims.json; \
             simfleet apply reconcile.json --auto-approve --spec fleet > /dev/null",
            &BTreeMap::from([("WHEREVER_SIM_TOKEN".to_string(), "sandbox".to_string())]),
        );
        assert_eq!(code, 0, "{log}");
    }
}

/// A checkout of examples/fleet without its checks (the demo fleet fails one), so that a
/// reconciled fleet is clean and the issue can close.
fn checkout_without_checks(world: &World, name: &str) -> PathBuf {
    let dir = world.checkout(name);
    std::fs::remove_file(dir.join("fleet/checks.yaml")).expect("checks.yaml removed");
    dir
}

/// A SIM the example spec locks to auto, and an outside change that turns its lock off.
fn drift_back_change(dir: &Path) -> Value {
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("reconcile-sims.json")).expect("plan"),
    )
    .expect("plan JSON");
    let iccid = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| {
            c["fields"].as_array().is_some_and(|f| {
                f.iter()
                    .any(|f| f["field"] == "imei_lock" && f["to"]["enabled"] == true)
            })
        })
        .and_then(|c| c["iccid"].as_str())
        .expect("the example locks some SIM to auto")
        .to_string();
    serde_json::json!({"iccid": iccid, "imei_lock": {"lock": false}})
}

/// Runs the drift job four times against the sandbox, checking the issue after each run:
/// opened on drift, updated when the drift changes, closed with a comment once the fleet is
/// reconciled, reopened when drift comes back. `run` runs the forge's job in a checkout.
fn drift_issue_lifecycle(world: &World, dir: &Path, run: &dyn Fn(&World, &Path) -> JobRun) {
    let identifiers = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|r| (15..=20).contains(&r.len()))
            .map(str::to_string)
            .collect()
    };
    // 1. The demo fleet drifts from the example spec: one issue is opened.
    let opened = run(world, dir);
    assert_eq!(opened.code, 0, "{}", opened.log);
    assert!(opened.log.contains("opened drift issue"), "{}", opened.log);
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{}", world.calls());
    let first = &issues[0];
    assert_eq!(first.state, "open");
    assert!(
        first
            .body
            .starts_with("<!-- simfleet-drift dir=fleet -->\n"),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("Drift and its evidence"),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("simfleet apply plan.json --spec fleet"),
        "the command to reconcile"
    );
    assert!(
        identifiers(&first.body).is_empty(),
        "masked: {:?}",
        identifiers(&first.body)
    );

    // 2. Someone moves the SIM the spec activates to "test ready" in the portal: the same issue
    //    is updated, with that change as the evidence, first (status drift ranks first).
    let (code, log) = world.bash(
        dir,
        "simfleet plan fleet --format json > probe.json",
        &BTreeMap::from([("WHEREVER_SIM_TOKEN".to_string(), "sandbox".to_string())]),
    );
    assert_eq!(code, 0, "{log}");
    let probe: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("probe.json")).expect("plan"))
            .expect("plan JSON");
    let issued = probe["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| {
            c["fields"].as_array().is_some_and(|f| {
                f.iter()
                    .any(|f| f["field"] == "status" && f["from"] == 3 && f["to"] == 2)
            })
        })
        .and_then(|c| c["iccid"].as_str())
        .expect("the example activates an issued SIM")
        .to_string();
    world.outside_change(serde_json::json!({"iccid": issued, "statusid": 8}));
    let updated = run(world, dir);
    assert_eq!(updated.code, 0, "{}", updated.log);
    assert!(
        updated.log.contains("updated drift issue"),
        "{}",
        updated.log
    );
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "updated in place: {}", world.calls());
    assert_eq!(issues[0].number, first.number);
    assert_ne!(issues[0].body, first.body);
    assert!(
        issues[0]
            .body
            .contains("(lifecycle: SIM status changed from Issued to"),
        "{}",
        issues[0].body
    );
    assert!(
        issues[0].body.contains("by portal user)"),
        "{}",
        issues[0].body
    );
    assert!(
        identifiers(&issues[0].body).is_empty(),
        "masked: {:?}",
        identifiers(&issues[0].body)
    );

    // 3. The fleet is reconciled: the issue is closed with a comment.
    world.reconcile(dir);
    let closed = run(world, dir);
    assert_eq!(closed.code, 0, "{}", closed.log);
    assert!(closed.log.contains("closed drift issue"), "{}", closed.log);
    let issues = world.issues();
    assert_eq!((issues.len(), issues[0].state.as_str()), (1, "closed"));
    let comments = world.comments(&first.number);
    assert!(
        comments
            .last()
            .is_some_and(|(_, c)| c.contains("matches `fleet` again")),
        "{comments:?}"
    );
    // A clean run with the issue closed changes nothing.
    let quiet = run(world, dir);
    assert!(
        quiet.log.contains("no drift, no open drift issue"),
        "{}",
        quiet.log
    );
    assert_eq!(world.comments(&first.number).len(), comments.len());

    // 4. Drift comes back: the same issue is reopened, with a comment.
    world.outside_change(drift_back_change(dir));
    let reopened = run(world, dir);
    assert_eq!(reopened.code, 0, "{}", reopened.log);
    assert!(
        reopened.log.contains("reopened drift issue"),
        "{}",
        reopened.log
    );
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{}", world.calls());
    assert_eq!(
        (issues[0].number.as_str(), issues[0].state.as_str()),
        (first.number.as_str(), "open")
    );
    assert!(world
        .comments(&first.number)
        .last()
        .is_some_and(|(_, c)| c.contains("Drift is back")));
}

#[test]
fn github_scheduled_drift_job_opens_updates_closes_and_reopens_one_issue() {
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    assert!(
        wf["on"]["schedule"][0]["cron"].as_str().is_some(),
        "a scheduled trigger"
    );
    assert_eq!(wf["jobs"]["drift"]["if"], "github.event_name == 'schedule'");
    assert_eq!(wf["jobs"]["drift"]["permissions"]["issues"], "write");
    let dir = checkout_without_checks(&world, "scheduled");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    drift_issue_lifecycle(&world, &dir, &|world, dir| {
        world.run_github_job(&wf, "drift", dir, &ctx)
    });
}

#[test]
fn gitlab_scheduled_drift_job_opens_updates_closes_and_reopens_one_issue() {
    let world = World::new();
    let ci = yaml("examples/ci/gitlab-ci.yml");
    assert_eq!(
        ci["simfleet-drift"]["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"schedule\""
    );
    let dir = checkout_without_checks(&world, "scheduled");
    let vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_PIPELINE_SOURCE", "schedule"),
    ];
    drift_issue_lifecycle(&world, &dir, &|world, dir| {
        world.run_gitlab_job(&ci, "simfleet-drift", dir, &vars)
    });
}

#[test]
fn a_failing_check_alone_opens_the_drift_issue() {
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    let dir = checkout_without_checks(&world, "checks");
    // Reconcile first, then add a deny check the fleet fails and no rule fixes.
    world.reconcile(&dir);
    std::fs::write(
        dir.join("fleet/checks.yaml"),
        "checks:\n  - name: every-sim-named\n    level: deny\n    message: every activated SIM has a device name\n    select: { status: activated }\n    expect: { custom_field_1: never-used-name }\n",
    )
    .expect("checks.yaml");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    let run = world.run_github_job(&wf, "drift", &dir, &ctx);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log.contains("drifted=true (check exit 3"),
        "{}",
        run.log
    );
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{}", world.calls());
    assert!(
        issues[0].body.contains("every-sim-named"),
        "{}",
        issues[0].body
    );
}

#[test]
fn github_workflow_is_shaped_as_documented() {
    let wf = yaml("examples/ci/github-actions.yml");
    assert!(
        wf["on"]["pull_request"].is_object(),
        "runs on pull requests"
    );
    assert_eq!(wf["on"]["push"]["branches"][0], "main");
    let apply = &wf["jobs"]["apply"];
    assert_eq!(apply["concurrency"]["group"], "simfleet-apply");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    assert!(
        apply["if"]
            .as_str()
            .is_some_and(|c| c.contains("github.ref == 'refs/heads/main'")),
        "only main is applied"
    );
    let scripts: Vec<&str> = wf["jobs"]["plan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    let all = scripts.join("\n");
    for needle in [
        "simfleet validate",
        "--out plan.json --detailed-exitcode",
        "show plan.json --format markdown",
        "show plan.json --format json",
        "<!-- simfleet-plan",
        "--method PATCH",
    ] {
        assert!(all.contains(needle), "the plan job lacks {needle}");
    }
    let apply_scripts: String = apply["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(apply_scripts.contains("simfleet apply plan.json --auto-approve --expect-checksum"));
    // The token only ever comes from the secret, never a literal.
    let text = std::fs::read_to_string(Path::new(REPO).join("examples/ci/github-actions.yml"))
        .expect("workflow");
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("WHEREVER_SIM_TOKEN:"))
    {
        assert!(line.contains("${{ secrets.WHEREVER_SIM_TOKEN }}"), "{line}");
    }
}

/// The ICCIDs of every changing SIM of a plan file (grouped by change set).
fn plan_file_iccids(plan: &Value) -> Vec<&str> {
    plan["change_sets"]
        .as_array()
        .expect("change sets")
        .iter()
        .flat_map(|set| set["iccids"].as_array().expect("ICCIDs"))
        .map(|iccid| iccid.as_str().expect("iccid"))
        .collect()
}

#[test]
fn github_pull_request_gets_one_comment_edited_in_place_and_merge_applies_it() {
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };

    let pr = world.checkout_blocked("pr");
    // First push: the example deactivates a SIM, which a guard stops. The plan is posted and
    // the check fails.
    let blocked = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(blocked.code, 3, "{}", blocked.log);
    assert_eq!(
        blocked.outputs["plan"].get("exitcode").map(String::as_str),
        Some("3"),
        "{:?}\n{}",
        blocked.outputs,
        blocked.log
    );
    let comments = world.comments(PR);
    assert_eq!(comments.len(), 1, "{}", world.calls());
    let title = comments[0].1.lines().nth(1).unwrap_or_default();
    assert!(title.contains("blocked"), "titled blocked: {title}");

    // Second push allows the deactivation: the same comment now shows the changes.
    allow_status_cuts(&pr);
    let first = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(first.code, 0, "{}", first.log);
    assert_eq!(
        first.outputs["plan"]["exitcode"], "2",
        "the demo plan has changes"
    );
    let comments = world.comments(PR);
    assert_eq!(comments.len(), 1, "edited, not added: {}", world.calls());
    let (id, body) = &comments[0];
    let checksum = checksum_of(&pr);
    assert!(body.starts_with(&format!("<!-- simfleet-plan checksum={checksum} -->\n")));
    let markdown = shown_markdown(&world, &pr);
    assert!(
        body.contains(&markdown),
        "the comment is the plan's markdown"
    );
    let title = markdown.lines().next().unwrap_or_default();
    assert!(
        title.contains("SIMs changing") && !title.contains("blocked"),
        "titled with the outcome: {title}"
    );
    assert!(body.len() < 65_536, "GitHub's comment limit");
    // Masked: no changing SIM's full ICCID is in the comment.
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(pr.join("plan.json")).expect("plan"))
            .expect("plan JSON");
    for iccid in plan_file_iccids(&plan) {
        assert!(!body.contains(iccid), "{iccid} is not masked");
    }
    assert!(pr.join("simfleet-plan.json").is_file());

    // A new push: the same comment is edited, and an identical plan gives an identical comment.
    let again = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(again.code, 0, "{}", again.log);
    let comments_after = world.comments(PR);
    assert_eq!(
        comments_after.len(),
        1,
        "still one comment: {}",
        world.calls()
    );
    assert_eq!(&comments_after[0].0, id, "edited in place");
    assert_eq!(&comments_after[0].1, body, "same plan, same comment");
    assert!(
        world.calls().contains("--method PATCH"),
        "{}",
        world.calls()
    );

    // The merge: plan again on main, apply only the approved checksum.
    let main = world.checkout("main");
    let merged = GithubContext {
        sha: "feedbeef".into(),
        ..ctx
    };
    if !apply_available() {
        eprintln!("simfleet apply is not built in yet: checking the approved checksum step only");
        let mut job = wf.clone();
        let steps = job["jobs"]["apply"]["steps"].as_array_mut().expect("steps");
        steps.pop();
        let run = world.run_github_job(&job, "apply", &main, &merged);
        assert_eq!(run.code, 0, "{}", run.log);
        assert_eq!(run.outputs["approved"]["checksum"], checksum);
        return;
    }
    let run = world.run_github_job(&wf, "apply", &main, &merged);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["approved"]["checksum"], checksum);
    assert!(run.log.contains("Apply complete"), "{}", run.log);
    for iccid in plan_file_iccids(&plan) {
        assert!(
            !run.log.contains(iccid),
            "the public apply log shows {iccid}"
        );
    }
    assert_eq!(
        world.plan_exit(&main),
        0,
        "after the apply the fleet matches the spec"
    );
}

#[test]
fn github_merge_refuses_a_plan_nobody_approved() {
    if !apply_available() {
        eprintln!("simfleet apply is not built in yet");
        return;
    }
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    let main = world.checkout("main");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "feedbeef".into(),
        dispatch_checksum: format!("sha256:{}", "0".repeat(64)),
    };
    let run = world.run_github_job(&wf, "apply", &main, &ctx);
    assert_ne!(
        run.code, 0,
        "a different checksum must not be applied: {}",
        run.log
    );
    assert_eq!(world.plan_exit(&main), 2, "nothing was applied");
}

#[test]
fn github_fork_pull_request_only_validates() {
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    let pr = world.checkout("fork");
    let ctx = GithubContext {
        token: String::new(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    let run = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["plan"]["planned"], "false");
    assert!(run.log.contains("forks get no secrets"), "{}", run.log);
    assert!(
        world.calls().is_empty(),
        "nothing posted: {}",
        world.calls()
    );
    assert!(!pr.join("plan.json").exists());

    // A broken spec fails the check even without a token.
    std::fs::write(
        pr.join("fleet/broken.yaml"),
        "rules:\n  - name: x\n    set: {status: nope}\n",
    )
    .expect("broken spec");
    let run = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(run.code, 1, "{}", run.log);
}

#[test]
fn gitlab_merge_request_gets_one_note_and_merge_applies_it() {
    let world = World::new();
    let ci = yaml("examples/ci/gitlab-ci.yml");
    assert_eq!(ci["simfleet-apply"]["resource_group"], "simfleet-apply");
    let mr = world.checkout("mr");
    let vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_MERGE_REQUEST_IID", PR),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
    ];
    let first = world.run_gitlab_job(&ci, "simfleet-plan", &mr, &vars);
    assert_eq!(first.code, 0, "{}", first.log);
    let second = world.run_gitlab_job(&ci, "simfleet-plan", &mr, &vars);
    assert_eq!(second.code, 0, "{}", second.log);
    let notes = world.comments(PR);
    assert_eq!(
        notes.len(),
        1,
        "one note, edited in place: {}",
        world.calls()
    );
    let checksum = checksum_of(&mr);
    assert!(notes[0]
        .1
        .starts_with(&format!("<!-- simfleet-plan checksum={checksum} -->\n")));
    assert!(notes[0].1.contains(&shown_markdown(&world, &mr)));
    assert!(world.calls().contains("--request PUT"), "{}", world.calls());
    assert!(mr.join("simfleet-plan.json").is_file());

    // A fork's merge request has no variables: validate only, no note.
    let fork = world.checkout("fork");
    let run = world.run_gitlab_job(
        &ci,
        "simfleet-plan",
        &fork,
        &[("CI_MERGE_REQUEST_IID", "8"), ("WHEREVER_SIM_TOKEN", "")],
    );
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(world.comments("8").is_empty());

    if !apply_available() {
        eprintln!("simfleet apply is not built in yet");
        return;
    }
    let main = world.checkout("main");
    let run = world.run_gitlab_job(
        &ci,
        "simfleet-apply",
        &main,
        &[
            ("WHEREVER_SIM_TOKEN", "sandbox"),
            ("CI_COMMIT_SHA", "feedbeef"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(
        world.plan_exit(&main),
        0,
        "after the apply the fleet matches the spec"
    );
}

#[test]
fn the_optional_rehearsal_is_appended_to_the_comment_and_changes_nothing() {
    let world = World::new();
    let mut wf = yaml("examples/ci/github-actions.yml");
    assert_eq!(
        wf["env"]["SIMFLEET_REHEARSE"], "false",
        "off unless asked for"
    );
    wf["env"]["SIMFLEET_REHEARSE"] = Value::from("true");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    let pr = world.checkout("pr");
    let run = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(run.code, 0, "{}", run.log);
    let comments = world.comments(PR);
    assert_eq!(comments.len(), 1, "{}", world.calls());
    let body = &comments[0].1;
    assert!(
        body.contains(&shown_markdown(&world, &pr)),
        "the plan first"
    );
    assert!(
        body.contains("### Rehearsal: the apply converges"),
        "{body}\n{}",
        run.log
    );
    assert!(body.len() < 65_536);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(pr.join("plan.json")).expect("plan"))
            .expect("plan JSON");
    for iccid in plan_file_iccids(&plan) {
        assert!(!body.contains(iccid), "{iccid} is not masked");
    }

    let ci = yaml("examples/ci/gitlab-ci.yml");
    let mr = world.checkout("mr");
    let vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_MERGE_REQUEST_IID", "9"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("SIMFLEET_REHEARSE", "true"),
    ];
    let run = world.run_gitlab_job(&ci, "simfleet-plan", &mr, &vars);
    assert_eq!(run.code, 0, "{}", run.log);
    let notes = world.comments("9");
    assert!(notes[0].1.contains("### Rehearsal: the apply converges"));

    // Both rehearsals only read: the "real" API saw no mutation.
    assert_eq!(
        world.served.calls("startBatchJob") + world.served.calls("updateSim"),
        0
    );
}

/// The merge-time refusal: the fleet's spec changed on main after the plan was approved, so the
/// new plan's checksum is not the approved one. apply refuses, and the job log shows `simfleet
/// diff` of the approved plan (the pull request's encrypted artifact) and the new one, masked.
#[test]
fn github_refusal_prints_the_diff_of_the_approved_and_the_new_plan() {
    if !apply_available() {
        eprintln!("simfleet apply is not built in yet");
        return;
    }
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    let pr = world.checkout("pr");
    let planned = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(planned.code, 0, "{}", planned.log);
    let approved = checksum_of(&pr);
    assert!(pr.join("simfleet-plan-file.enc").is_file());
    let kept = std::fs::read(pr.join("simfleet-plan-file.enc")).expect("encrypted plan");
    assert!(
        !String::from_utf8_lossy(&kept).contains("\"changes\""),
        "the plan file artifact is encrypted"
    );

    // Another merge changed a rule before this one was applied.
    let main = world.checkout("main");
    let rules = main.join("fleet/customers.yaml");
    let text = std::fs::read_to_string(&rules).expect("customers.yaml");
    assert!(text.contains("monthly_data_limit: 1.5GB"), "{text}");
    std::fs::write(
        &rules,
        text.replace("monthly_data_limit: 1.5GB", "monthly_data_limit: 1GB"),
    )
    .expect("spec changed");
    let merged = GithubContext {
        sha: "feedbeef".into(),
        ..ctx
    };
    let run = world.run_github_job(&wf, "apply", &main, &merged);
    assert_ne!(run.code, 0, "a changed plan is refused: {}", run.log);
    assert_eq!(run.outputs["approved"]["checksum"], approved);
    assert!(
        run.log.contains("The plan changed since it was approved"),
        "{}",
        run.log
    );
    assert!(
        run.log.contains("The plans differ"),
        "the diff is printed: {}",
        run.log
    );
    assert!(run.log.contains("was → 1.5GB, now → 1GB"), "{}", run.log);
    assert!(run.log.contains(&approved), "{}", run.log);
    assert!(
        !run.log.lines().any(|l| l
            .split(|c: char| !c.is_ascii_digit())
            .any(|w| w.len() >= 19)),
        "the public job log holds no whole ICCID: {}",
        run.log
    );
    assert_eq!(world.plan_exit(&main), 2, "nothing was applied");
}

/// The same refusal on GitLab: the approved plan is the merge request pipeline's artifact.
#[test]
fn gitlab_refusal_prints_the_diff_of_the_approved_and_the_new_plan() {
    if !apply_available() {
        eprintln!("simfleet apply is not built in yet");
        return;
    }
    let world = World::new();
    let ci = yaml("examples/ci/gitlab-ci.yml");
    let mr = world.checkout("mr");
    let vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_MERGE_REQUEST_IID", PR),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
    ];
    let planned = world.run_gitlab_job(&ci, "simfleet-plan", &mr, &vars);
    assert_eq!(planned.code, 0, "{}", planned.log);
    let approved = checksum_of(&mr);
    let main = world.checkout("main");
    let rules = main.join("fleet/customers.yaml");
    let text = std::fs::read_to_string(&rules).expect("customers.yaml");
    std::fs::write(
        &rules,
        text.replace("monthly_data_limit: 1.5GB", "monthly_data_limit: 1GB"),
    )
    .expect("spec changed");
    let run = world.run_gitlab_job(
        &ci,
        "simfleet-apply",
        &main,
        &[
            ("WHEREVER_SIM_TOKEN", "sandbox"),
            ("CI_COMMIT_SHA", "feedbeef"),
        ],
    );
    assert_ne!(run.code, 0, "a changed plan is refused: {}", run.log);
    assert!(
        run.log.contains("The plans differ"),
        "the diff is printed: {}",
        run.log
    );
    assert!(run.log.contains("was → 1.5GB, now → 1GB"), "{}", run.log);
    assert!(run.log.contains(&approved), "{}", run.log);
    assert!(
        !run.log.lines().any(|l| l
            .split(|c: char| !c.is_ascii_digit())
            .any(|w| w.len() >= 19)),
        "the public job log holds no whole ICCID: {}",
        run.log
    );
    assert_eq!(world.plan_exit(&main), 2, "nothing was applied");
}

// ---- the scheduled drift job compares with the plan the last apply applied ----

/// A SIM the applied plan locked to auto-detect (`imei_lock: auto` of the example's
/// acme-trackers rule), from the plan file in `dir`.
fn auto_locked_sim(world: &World, dir: &Path) -> String {
    let (code, log) = world.bash(
        dir,
        "simfleet show plan.json --format json",
        &BTreeMap::new(),
    );
    assert_eq!(code, 0, "{log}");
    let plan: Value = serde_json::from_str(&log).expect("plan JSON");
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| {
            c["fields"].as_array().is_some_and(|f| {
                f.iter().any(|f| {
                    f["field"] == "imei_lock"
                        && f["to"] == serde_json::json!({"enabled": true, "imei": null})
                })
            })
        })
        .and_then(|c| c["iccid"].as_str())
        .expect("the example locks some SIM to auto")
        .to_string()
}

#[test]
fn github_drift_job_compares_with_the_plan_the_apply_job_kept() {
    let world = World::new();
    let wf = yaml("examples/ci/github-actions.yml");
    assert_eq!(wf["jobs"]["drift"]["permissions"]["actions"], "read");
    let ctx = GithubContext {
        token: "sandbox".into(),
        sha: "0123abcd".into(),
        dispatch_checksum: String::new(),
    };
    // Reviewed on a pull request, applied on merge: the apply job keeps the plan it applied.
    let pr = world.checkout("pr");
    let planned = world.run_github_job(&wf, "plan", &pr, &ctx);
    assert_eq!(planned.code, 0, "{}", planned.log);
    let main = world.checkout("main");
    let applied = world.run_github_job(&wf, "apply", &main, &ctx);
    assert_eq!(applied.code, 0, "{}", applied.log);
    assert_eq!(applied.outputs["apply"]["applied"], "true");
    let kept = world.forge().join("artifacts");
    let names: Vec<String> = std::fs::read_dir(&kept)
        .expect("artifacts")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("name")).ok())
        .collect();
    assert!(
        names.contains(&"simfleet-applied-plan".to_string()),
        "{names:?}"
    );

    // Someone unlocks a SIM in the portal, and the spec stops managing IMEI locks: no plan of
    // the spec sees it, only the comparison with what the apply set.
    let iccid = auto_locked_sim(&world, &main);
    world.outside_change(serde_json::json!({"iccid": iccid, "imei_lock": {"lock": false}}));
    let dir = checkout_without_checks(&world, "scheduled");
    let customers = dir.join("fleet/customers.yaml");
    let text = std::fs::read_to_string(&customers).expect("customers.yaml");
    assert!(text.contains("      imei_lock: auto\n"), "{text}");
    std::fs::write(&customers, text.replace("      imei_lock: auto\n", "")).expect("written");
    assert_eq!(
        world.plan_exit(&dir),
        0,
        "the spec's plan alone sees no drift"
    );

    let run = world.run_github_job(&wf, "drift", &dir, &ctx);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(!run.log.contains("No usable applied plan"), "{}", run.log);
    assert!(run.log.contains("opened drift issue"), "{}", run.log);
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{}", world.calls());
    let body = &issues[0].body;
    assert!(body.contains("(plan exit 2)"), "{body}");
    assert!(body.contains("Drift since the last applied plan"), "{body}");
    assert!(
        body.contains(
            "imei_lock auto set by the last plan, off live; the spec no longer manages it"
        ),
        "{body}"
    );
    assert!(!body.contains(&iccid), "masked: {body}");
}

#[test]
fn gitlab_drift_job_compares_with_the_plan_the_apply_job_kept() {
    let world = World::new();
    let ci = yaml("examples/ci/gitlab-ci.yml");
    let mr = world.checkout("mr");
    let mr_vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_MERGE_REQUEST_IID", PR),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
    ];
    let planned = world.run_gitlab_job(&ci, "simfleet-plan", &mr, &mr_vars);
    assert_eq!(planned.code, 0, "{}", planned.log);
    let main = world.checkout("main");
    let apply_vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_COMMIT_SHA", "feedbeef"),
        ("CI_COMMIT_BRANCH", "main"),
    ];
    let applied = world.run_gitlab_job(&ci, "simfleet-apply", &main, &apply_vars);
    assert_eq!(applied.code, 0, "{}", applied.log);
    assert!(main.join("simfleet-applied-plan.enc").is_file());

    let iccid = auto_locked_sim(&world, &main);
    world.outside_change(serde_json::json!({"iccid": iccid, "imei_lock": {"lock": false}}));
    let dir = checkout_without_checks(&world, "scheduled");
    let customers = dir.join("fleet/customers.yaml");
    let text = std::fs::read_to_string(&customers).expect("customers.yaml");
    std::fs::write(&customers, text.replace("      imei_lock: auto\n", "")).expect("written");
    assert_eq!(
        world.plan_exit(&dir),
        0,
        "the spec's plan alone sees no drift"
    );
    let vars = [
        ("WHEREVER_SIM_TOKEN", "sandbox"),
        ("CI_PIPELINE_SOURCE", "schedule"),
    ];
    let run = world.run_gitlab_job(&ci, "simfleet-drift", &dir, &vars);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(!run.log.contains("No usable applied plan"), "{}", run.log);
    assert!(run.log.contains("opened drift issue"), "{}", run.log);
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{}", world.calls());
    let body = &issues[0].body;
    assert!(body.contains("(plan exit 2)"), "{body}");
    assert!(
        body.contains(
            "imei_lock auto set by the last plan, off live; the spec no longer manages it"
        ),
        "{body}"
    );
    assert!(!body.contains(&iccid), "masked: {body}");
}
