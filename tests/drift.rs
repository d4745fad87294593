//! Drift with its evidence, end to end: the sandbox's `listSimEvents` (paging and filters
//! against the reference's example), changes made "in the portal" through the sandbox-only
//! `POST /outside/updateSim`, and `plan --why-drift` / `check --why-drift` reading them back.
//! The sandbox's `/stats` counts the requests, not the tool's own report.

mod common;

use common::*;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// `POST /outside/updateSim`: (HTTP status, body).
fn outside(env: &Served, body: Value) -> (u16, Value) {
    let url = format!("{}/outside/updateSim", env.base);
    env.rt.block_on(async {
        let r = reqwest::Client::new()
            .post(&url)
            .header("Authorization", "sandbox")
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.expect("JSON"))
    })
}

/// The reference's `ListSimEvents` document, verbatim.
const REFERENCE_QUERY: &str = "query ListSimEvents(
  $iccid: ID!,
  $limit: Int!,
  $nextToken: String,
  $filterOptions: SimEventFilterInput,
  $order: SimEventOrder
) {
  listSimEvents(
    iccid: $iccid,
    limit: $limit,
    nextToken: $nextToken,
    filterOptions: $filterOptions,
    order: $order
  ) {
    items {
      id
      iccid
      timestampMilliseconds
      type
      details
      jsonData
    }
    nextToken
    totalEvents
  }
}";

fn events(env: &Served, vars: Value) -> Value {
    env.gql(REFERENCE_QUERY, vars)
}

fn acme_fleet(n: u32) -> simfleet::fleet::Snapshot {
    fleet(
        (0..n)
            .map(|i| sim(i, 2, "ACME", json!({"monthly_sms_mo_limit": 100})))
            .collect(),
    )
}

const SPEC: &str = r#"rules:
  - name: acme
    match: { end_customer_label: ACME }
    set:
      status: activated
      imei_lock: off
      monthly_sms_mo_limit: 100
"#;

#[test]
fn list_sim_events_pages_filters_and_orders_like_the_reference() {
    let env = Served::new(acme_fleet(2));
    let id = iccid(0);
    let t0 = now_ms() - 10 * DAY_MS;
    // Five status changes a day apart, made in the portal.
    for (k, status) in [5, 2, 5, 2, 5].into_iter().enumerate() {
        let at = t0 + k as i64 * DAY_MS;
        let body = json!({"iccid": id, "statusid": status, "timestampMilliseconds": at});
        assert_eq!(outside(&env, body).0, 200);
    }
    let lifecycle = json!({"type": {"eq": "lifecycle"}});
    let first = events(
        &env,
        json!({"iccid": id, "limit": 2, "filterOptions": lifecycle,
               "order": {"timestampMilliseconds": "desc"}}),
    );
    let page = &first["data"]["listSimEvents"];
    assert_eq!(page["totalEvents"], 5, "{first}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    let newest = &items[0];
    assert_eq!(newest["iccid"], id.as_str());
    assert_eq!(newest["type"], "lifecycle");
    assert_eq!(newest["timestampMilliseconds"], t0 + 4 * DAY_MS);
    assert_eq!(
        newest["details"],
        "SIM status changed from Activated to Deactivated by portal user"
    );
    let data: Value = serde_json::from_str(
        newest["jsonData"]
            .as_str()
            .expect("jsonData is a JSON string"),
    )
    .expect("jsonData parses");
    assert_eq!(
        (data["oldStatusId"].clone(), data["newStatusId"].clone()),
        (json!(2), json!(5))
    );

    // Paging: the pages join up, newest first, without repeats.
    let mut seen = vec![newest["timestampMilliseconds"].as_i64().unwrap()];
    seen.push(items[1]["timestampMilliseconds"].as_i64().unwrap());
    let mut token = page["nextToken"].clone();
    while !token.is_null() {
        let next = events(
            &env,
            json!({"iccid": id, "limit": 2, "nextToken": token, "filterOptions": lifecycle,
                   "order": {"timestampMilliseconds": "desc"}}),
        );
        let page = &next["data"]["listSimEvents"];
        for e in page["items"].as_array().expect("items") {
            seen.push(e["timestampMilliseconds"].as_i64().unwrap());
        }
        token = page["nextToken"].clone();
    }
    let expected: Vec<i64> = (0..5).rev().map(|k| t0 + k * DAY_MS).collect();
    assert_eq!(seen, expected);

    // A time window (`between` is min..max of its list) and `in` on the type.
    let window = events(
        &env,
        json!({"iccid": id, "limit": 100, "filterOptions": {
            "type": {"in": ["lifecycle", "imeiLockSwitch"]},
            "timestampMilliseconds": {"between": [t0 + DAY_MS, t0 + 3 * DAY_MS]}}}),
    );
    let got: Vec<i64> = window["data"]["listSimEvents"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["timestampMilliseconds"].as_i64().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![t0 + DAY_MS, t0 + 2 * DAY_MS, t0 + 3 * DAY_MS],
        "oldest first by default"
    );

    // The reference's bounds and errors.
    for limit in [0, 101] {
        let r = events(&env, json!({"iccid": id, "limit": limit}));
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("limit"),
            "{r}"
        );
    }
    let r = events(&env, json!({"iccid": "8949000000000009999", "limit": 5}));
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no SIM"),
        "{r}"
    );
    let other = events(
        &env,
        json!({"iccid": id, "limit": 2, "nextToken": page["nextToken"]}),
    );
    assert!(
        other.get("errors").is_some(),
        "a token of another query is refused: {other}"
    );
}

#[test]
fn the_sandbox_records_its_own_mutations_and_presence() {
    let env = Served::new(acme_fleet(40));
    env.update_sim(
        &iccid(0),
        "imei_lock: {lock: true, imei: \"356938035643809\"}",
    );
    env.update_sim(&iccid(0), "statusid: 5");
    let r = events(
        &env,
        json!({"iccid": iccid(0), "limit": 100, "order": {"timestampMilliseconds": "desc"},
               "filterOptions": {"type": {"in": ["lifecycle", "imeiLockSwitch"]}}}),
    );
    let items = r["data"]["listSimEvents"]["items"]
        .as_array()
        .expect("items")
        .clone();
    let details: Vec<&str> = items
        .iter()
        .map(|e| e["details"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        [
            "SIM status changed from Activated to Deactivated by API",
            "IMEI lock enabled for IMEI 356938035643809 by API"
        ]
    );
    // A batch job records its changes too, naming itself.
    let started = env.gql(
        "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }",
        json!({"p": {"includeIccIds": [iccid(1)], "statusid": 12, "imei_lock": true}}),
    );
    let job = started["data"]["startBatchJob"]["batchJobId"].clone();
    assert!(job.is_number(), "{started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let batch_events = loop {
        let r = events(
            &env,
            json!({"iccid": iccid(1), "limit": 100,
                   "filterOptions": {"type": {"in": ["lifecycle", "imeiLockSwitch"]}}}),
        );
        let items = r["data"]["listSimEvents"]["items"]
            .as_array()
            .expect("items")
            .clone();
        if items.len() == 2 || std::time::Instant::now() > deadline {
            break items;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let details: Vec<&str> = batch_events
        .iter()
        .map(|e| e["details"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        [
            format!("IMEI lock switched to auto-detect by batch job {job}"),
            format!("SIM status changed from Activated to Suspended by batch job {job}"),
        ]
    );

    // Presence: some SIMs have some, in the example's shape, the same on every read.
    let presence = |i: u32| {
        events(
            &env,
            json!({"iccid": iccid(i), "limit": 100, "filterOptions": {"type": {"eq": "presence"}}}),
        )["data"]["listSimEvents"]["items"]
            .clone()
    };
    let with: Vec<Value> = (0..40).map(presence).filter(|p| p != &json!([])).collect();
    assert!(!with.is_empty() && with.len() < 40, "presence now and then");
    assert!(with[0][0]["details"]
        .as_str()
        .unwrap()
        .contains("Operator: Telefonica O2 Germany,DE(26203), IP: 10."));
    assert_eq!(
        (0..40).map(presence).filter(|p| p != &json!([])).count(),
        with.len()
    );
}

#[test]
fn outside_changes_are_refused_like_update_sim_and_typos_are_errors() {
    let env = Served::new(acme_fleet(1));
    let (status, body) = outside(&env, json!({"iccid": iccid(0), "status": 5}));
    assert_eq!(status, 400);
    assert!(body.to_string().contains("unknown key"), "{body}");
    let (status, body) = outside(&env, json!({"iccid": iccid(0), "statusid": 7}));
    assert_eq!(status, 400, "2 → 7 is not in the transition table: {body}");
    assert_eq!(env.sim(&iccid(0)).statusid, 2);
    let url = format!("{}/outside/updateSim", env.base);
    let unauthorized = env.rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .json(&json!({"iccid": iccid(0), "statusid": 5}))
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    });
    assert_eq!(unauthorized, 401);
}

/// Three kinds of drift made in the portal: a status 3 days ago, an IMEI lock 2 hours ago, an
/// SMS limit (no events).
fn drifted_env() -> Served {
    let env = Served::new(acme_fleet(5));
    let now = now_ms();
    let changes = [
        json!({"iccid": iccid(0), "statusid": 5, "timestampMilliseconds": now - 3 * DAY_MS - 60_000}),
        json!({"iccid": iccid(1), "imei_lock": {"lock": true, "imei": "356938035643809"},
               "timestampMilliseconds": now - 2 * 3_600_000 - 60_000}),
        json!({"iccid": iccid(2), "monthly_sms_mo_limit": 50}),
    ];
    for body in changes {
        let (status, answer) = outside(&env, body);
        assert_eq!(status, 200, "{answer}");
    }
    env
}

#[test]
fn why_drift_shows_when_and_how_status_and_lock_changed_and_says_limits_have_no_events() {
    let env = drifted_env();
    let spec = env.spec(SPEC);
    let out = env
        .simfleet(&["plan", path_str(&spec), "--why-drift"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains(
            "status Activated (2) in the spec, Deactivated (5) live: changed 3 days ago, "
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "(lifecycle: SIM status changed from Activated to Deactivated by portal user)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "imei_lock off in the spec, IMEI 356938035643809 live: changed 2 hours ago, "
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "(imeiLockSwitch: IMEI lock enabled for IMEI 356938035643809 by portal user)"
        ),
        "{text}"
    );
    assert!(
        text.contains("monthly_sms_mo_limit differs on 1 SIM: no events record changes to limits"),
        "{text}"
    );
    assert!(
        text.contains("3 SIMs differ from the spec; 2 of them in status or IMEI lock: events read for 2, not read for 0"),
        "{text}"
    );
    assert_eq!(env.calls("listSimEvents"), 2);

    // A saved plan keeps the evidence: `show` prints it as `plan` did.
    let saved = env.path("why.json");
    env.simfleet(&[
        "plan",
        path_str(&spec),
        "--why-drift",
        "--out",
        path_str(&saved),
    ])
    .assert()
    .success();
    let shown = simfleet_command()
        .args(["show", path_str(&saved)])
        .assert()
        .success();
    let shown = String::from_utf8_lossy(&shown.get_output().stdout).to_string();
    assert!(
        shown.contains(
            "(lifecycle: SIM status changed from Activated to Deactivated by portal user)"
        ),
        "{shown}"
    );
    assert_eq!(env.calls("listSimEvents"), 4);

    // Without the flag, no events are read and nothing is said.
    let plain = env.simfleet(&["plan", path_str(&spec)]).assert().success();
    assert!(!String::from_utf8_lossy(&plain.get_output().stdout).contains("Drift"));
    assert_eq!(env.calls("listSimEvents"), 4);

    // JSON carries the report; markdown shows it.
    let json_out = env
        .simfleet(&["plan", path_str(&spec), "--why-drift", "--format", "json"])
        .assert()
        .success();
    let plan: Value = serde_json::from_slice(&json_out.get_output().stdout).expect("JSON");
    let drift = &plan["drift"];
    assert_eq!(
        (drift["read"].clone(), drift["not_read"].clone()),
        (json!(2), json!(0))
    );
    assert_eq!(drift["without_events"]["monthly_sms_mo_limit"], 1);
    let first = &drift["sims"][0];
    assert_eq!(first["iccid"], iccid(0).as_str(), "status drift first");
    assert_eq!(first["fields"][0]["evidence"]["kind"], "event");
    assert_eq!(first["fields"][0]["evidence"]["event_type"], "lifecycle");
    let md = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--format",
            "markdown",
        ])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&md.get_output().stdout).contains("Drift and its evidence"));
}

/// Runs of 15 to 20 digits (IMEIs, ICCIDs): what `--mask` must never let out.
fn identifiers(text: &str) -> Vec<String> {
    // A digest (`sha256:` and 64 hex digits) is not an identifier, but about one in fifty has a
    // run of 15 or more decimal digits: leave digests out.
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == '`' || c == '<' || c == '>')
        .filter(|w| !w.starts_with("sha256:"))
        .collect();
    words
        .iter()
        .flat_map(|w| w.split(|c: char| !c.is_ascii_digit()))
        .filter(|run| (15..=20).contains(&run.len()))
        .map(str::to_string)
        .collect()
}

#[test]
fn why_drift_under_mask_shows_no_identifier() {
    let env = drifted_env();
    let spec = env.spec(SPEC);
    for format in ["text", "markdown", "json"] {
        let out = env
            .simfleet(&[
                "--mask",
                "plan",
                path_str(&spec),
                "--why-drift",
                "--format",
                format,
            ])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            text.contains("3809"),
            "{format}: the evidence is there, masked: {text}"
        );
        let found = identifiers(&text);
        assert!(found.is_empty(), "{format}: unmasked {found:?} in {text}");
    }
    let out = env
        .simfleet(&["--mask", "check", path_str(&spec), "--why-drift", "--json"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(identifiers(&text).is_empty(), "{text}");
    assert!(text.contains("\"drift\""), "{text}");
}

#[test]
fn check_why_drift_prints_the_checks_and_the_evidence() {
    let env = drifted_env();
    let spec = env.spec(&format!(
        "{SPEC}checks:\n  - name: acme-active\n    level: warn\n    message: ACME SIMs are active\n    select: {{ end_customer_label: ACME }}\n    expect: {{ status: activated }}\n"
    ));
    let out = env
        .simfleet(&["check", path_str(&spec), "--why-drift"])
        .assert();
    let output = out.get_output();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        text.contains("acme-active"),
        "{text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("status Activated (2) in the spec, Deactivated (5) live: changed 3 days ago"),
        "{text}"
    );
}

#[test]
fn why_drift_limit_caps_the_reads_at_one_request_each() {
    let env = Served::new(acme_fleet(60));
    for i in 0..60 {
        let (status, body) = outside(&env, json!({"iccid": iccid(i), "statusid": 5}));
        assert_eq!(status, 200, "{body}");
    }
    let spec = env.spec(SPEC);
    let run = |extra: &[&str]| {
        let mut args = vec!["plan", path_str(&spec), "--why-drift", "--format", "json"];
        args.extend_from_slice(extra);
        let out = env.simfleet(&args).assert().success();
        let plan: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
        plan["drift"].clone()
    };
    // The default: 50 SIMs read, 10 not, 50 requests (the sandbox counts them).
    let drift = run(&["--concurrency", "4"]);
    assert_eq!(drift["drifted_sims"], 60);
    assert_eq!(
        (drift["read"].clone(), drift["not_read"].clone()),
        (json!(50), json!(10))
    );
    assert_eq!(drift["requests"], 50);
    assert_eq!(
        env.calls("listSimEvents"),
        50,
        "at most one request per SIM read"
    );
    assert_eq!(drift["sims"].as_array().map(Vec::len), Some(50));

    let drift = run(&["--why-drift-limit", "5"]);
    assert_eq!(
        (drift["read"].clone(), drift["not_read"].clone()),
        (json!(5), json!(55))
    );
    assert_eq!(env.calls("listSimEvents"), 55);

    // The text says how many were and were not read.
    let text = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--why-drift-limit",
            "7",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(
        text.contains("events read for 7, not read for 53 (over --why-drift-limit 7)"),
        "{text}"
    );
}

#[test]
fn why_drift_flags_are_checked_before_any_work() {
    let env = Served::new(acme_fleet(1));
    let spec = env.spec(SPEC);
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--why-drift-limit",
            "0",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("--why-drift-limit 0"), "{stderr}");
    assert_eq!(env.calls("listSims"), 0);
    let out = env
        .simfleet(&["plan", path_str(&spec), "--why-drift-limit", "5"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--why-drift"));
}

#[test]
fn events_are_read_at_the_configured_concurrency() {
    // 24 SIMs drifted in status; every response takes 150 ms. One at a time the events cost
    // 24 × 150 ms = 3.6 s; eight at a time about 0.45 s.
    let env = Served::start(
        simfleet::sandbox::SandboxConfig {
            latency: std::time::Duration::from_millis(150),
            ..simfleet::sandbox::SandboxConfig::default()
        },
        acme_fleet(24),
    );
    for i in 0..24 {
        assert_eq!(
            outside(&env, json!({"iccid": iccid(i), "statusid": 5})).0,
            200
        );
    }
    let spec = env.spec(SPEC);
    let timed = |concurrency: &str| {
        let started = std::time::Instant::now();
        let out = env
            .simfleet(&[
                "plan",
                path_str(&spec),
                "--why-drift",
                "--format",
                "json",
                "--concurrency",
                concurrency,
                "--rate-limit",
                "1000",
            ])
            .assert()
            .success();
        let plan: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
        assert_eq!(plan["drift"]["read"], 24);
        started.elapsed().as_secs_f64()
    };
    let one = timed("1");
    let eight = timed("8");
    assert!(
        one > eight + 1.5,
        "concurrency 1 took {one:.2}s, concurrency 8 {eight:.2}s: the reads are not concurrent"
    );
}

#[test]
fn the_client_reads_events_typed_and_names_the_operation_in_errors() {
    let env = Served::new(acme_fleet(1));
    let at = now_ms() - DAY_MS;
    outside(
        &env,
        json!({"iccid": iccid(0), "statusid": 5, "timestampMilliseconds": at}),
    );
    let client = client(&env);
    let query = |iccid: String, limit: u32| simfleet::api::SimEventQuery {
        iccid,
        limit,
        types: vec!["lifecycle".into()],
        newest_first: true,
        next_token: None,
    };
    let page = env
        .rt
        .block_on(client.list_sim_events(&query(iccid(0), 100)))
        .expect("listSimEvents");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].timestamp_ms, at);
    assert_eq!(page.items[0].kind, "lifecycle");
    assert_eq!(page.total_events, Some(1));
    assert!(page.next_token.is_none());

    let refused = env
        .rt
        .block_on(client.list_sim_events(&query(iccid(0), 101)))
        .expect_err("101 is over the reference's limit");
    assert_eq!(refused.operation(), Some("ListSimEvents"));
    let unknown = env
        .rt
        .block_on(client.list_sim_events(&query("8949000000000009999".into(), 10)))
        .expect_err("no such SIM");
    assert_eq!(unknown.operation(), Some("ListSimEvents"));
    assert!(
        unknown.to_string().starts_with("ListSimEvents: "),
        "{unknown}"
    );
    assert!(
        unknown.to_string().contains("8949000000000009999"),
        "{unknown}"
    );
}

#[test]
fn use_with_an_unauthorized_imei_is_drift_with_its_events() {
    let locked = json!({"enabled": true, "imei": "356938035643809"});
    let env = Served::new(fleet(vec![sim(0, 2, "ACME", json!({"imei_lock": locked}))]));
    let spec = env.spec(
        "rules:\n  - name: acme\n    match: { end_customer_label: ACME }\n    set:\n      status: activated\n      imei_lock: \"356938035643809\"\n",
    );
    let clean = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--detailed-exitcode",
            "--why-drift",
        ])
        .assert()
        .code(0);
    let clean = String::from_utf8_lossy(&clean.get_output().stdout).to_string();
    assert!(
        clean.contains("no SIM differs from the spec on a field it manages: no events were read"),
        "{clean}"
    );
    assert_eq!(env.calls("listSimEvents"), 0);
    let url = format!("{}/outside/imeiUnauthorized", env.base);
    let post = |body: Value| {
        env.rt.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .header("Authorization", "sandbox")
                .json(&body)
                .send()
                .await
                .expect("POST")
                .status()
                .as_u16()
        })
    };
    assert_eq!(
        post(json!({"iccid": iccid(0), "imei": "356938035643809"})),
        400,
        "its own IMEI"
    );
    assert_eq!(
        post(json!({"iccid": iccid(0), "imei": "490154203237518"})),
        200
    );
    assert_eq!(env.sim(&iccid(0)).statusid, 20);
    let r = events(
        &env,
        json!({"iccid": iccid(0), "limit": 10, "filterOptions": {"type": {"eq": "imeiUnauthorized"}}}),
    );
    assert_eq!(
        r["data"]["listSimEvents"]["items"][0]["details"],
        "SIM card used with unauthorized IMEI 490154203237518 (locked to IMEI 356938035643809)"
    );
    // The provider holds the SIM in status 20: the plan does not re-activate it, but it is drift.
    let out = env
        .simfleet(&["plan", path_str(&spec), "--why-drift"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains(
            "status Activated (2) in the spec, IMEI unauthorized (20) live: changed just now"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "(lifecycle: SIM status changed from Activated to IMEI unauthorized by network)"
        ),
        "{text}"
    );
}

#[test]
fn plans_with_drift_match_the_plan_and_plan_file_schemas() {
    let env = drifted_env();
    let spec = env.spec(SPEC);
    let schema = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
        jsonschema::validator_for(&schema).expect("a valid JSON Schema")
    };
    let check = |validator: &jsonschema::Validator, instance: &Value, what: &str| {
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
    };
    let saved = env.path("drift-plan.json");
    let out = env
        .simfleet(&[
            "plan",
            path_str(&spec),
            "--why-drift",
            "--format",
            "json",
            "--out",
            path_str(&saved),
        ])
        .assert()
        .success();
    let plan: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert!(plan["drift"]["sims"]
        .as_array()
        .is_some_and(|s| s.len() == 2));
    check(&schema("plan.schema.json"), &plan, "the plan's JSON");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("plan file")).expect("JSON");
    assert!(
        file["drift"].is_object(),
        "the plan file keeps the evidence"
    );
    check(&schema("plan-file.schema.json"), &file, "the plan file");
}
