//! `simfleet sandbox` as a user runs it: the real binary prints its URL, serves a fleet from
//! `--fleet FILE` or `--generate N --seed S`, and enforces its `--token`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .arg("sandbox")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("simfleet starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a line on stdout");
    let url = line
        .trim()
        .strip_prefix("simfleet sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/graphql"),
        "{url}"
    );
    Served { child, url }
}

async fn post(url: &str, token: &str, query: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header("Authorization", token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("answered");
    (r.status().as_u16(), r.json().await.expect("JSON"))
}

#[tokio::test]
async fn serves_a_snapshot_file_with_its_own_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fleet.json");
    std::fs::write(
        &path,
        json!({ "format_version": 1, "sims": [
            { "iccid": "89490000000000000015", "statusid": 2, "providerid": 5 },
            { "iccid": "89490000000000000023", "statusid": 5, "providerid": 1 }
        ]})
        .to_string(),
    )
    .expect("fleet written");
    let served = serve(&[
        "--fleet",
        path.to_str().expect("utf-8 path"),
        "--token",
        "t0k",
    ]);
    let query = "{ listSims(limit: 10) { items { iccid statusid } totalSims } }";
    let (status, _) = post(&served.url, "sandbox", query).await;
    assert_eq!(status, 401);
    let (status, v) = post(&served.url, "t0k", query).await;
    assert_eq!(status, 200);
    assert_eq!(v["data"]["listSims"]["totalSims"], 2);
    assert_eq!(v["data"]["listSims"]["items"][1]["statusid"], 5);
}

#[tokio::test]
async fn generates_a_deterministic_fleet() {
    let a = serve(&["--generate", "25", "--seed", "9"]);
    let b = serve(&["--generate", "25", "--seed", "9"]);
    let query =
        "{ listSims(limit: 100) { items { iccid statusid imei monthly_data_limit } totalSims } }";
    let (_, va) = post(&a.url, "sandbox", query).await;
    let (_, vb) = post(&b.url, "sandbox", query).await;
    assert_eq!(va["data"]["listSims"]["totalSims"], 25);
    assert_eq!(va, vb);
}

#[test]
fn a_bad_fleet_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fleet.json");
    std::fs::write(&path, r#"{"format_version": 2, "sims": []}"#).expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_simfleet"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--fleet"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("format_version 2"), "{err}");
}
