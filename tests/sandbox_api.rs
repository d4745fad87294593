//! The sandbox over real HTTP on 127.0.0.1:0: the reference's own examples, the bad-input
//! cases of issue #3 (each leaves the fleet untouched), storage rules, transitions, batch jobs,
//! faults, `/stats` and `/state`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use simfleet::fleet::Snapshot;
use simfleet::sandbox::{generate, RunningSandbox, Sandbox, SandboxConfig};

struct Sb {
    running: RunningSandbox,
    client: reqwest::Client,
}

impl Sb {
    async fn start(fleet: Snapshot, config: SandboxConfig) -> Sb {
        let running = Sandbox::start(config, fleet).await.expect("sandbox starts");
        Sb {
            running,
            client: reqwest::Client::new(),
        }
    }

    async fn with(fleet: Snapshot) -> Sb {
        Sb::start(
            fleet,
            SandboxConfig {
                batch_rate: 1_000_000.0,
                ..SandboxConfig::default()
            },
        )
        .await
    }

    /// POSTs a raw body with the default token; returns (status, JSON body).
    async fn raw(&self, body: &str) -> (u16, Value) {
        let r = self
            .client
            .post(self.running.url())
            .header("Content-Type", "application/json")
            .header("Authorization", "sandbox")
            .body(body.to_string())
            .send()
            .await
            .expect("request is answered");
        let status = r.status().as_u16();
        (status, r.json().await.expect("body is JSON"))
    }

    async fn gql(&self, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, v) = self.raw(&body).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("http://{}{}", self.running.addr(), path);
        self.client
            .get(url)
            .send()
            .await
            .expect("GET is answered")
            .json()
            .await
            .expect("JSON")
    }

    async fn sims(&self) -> Value {
        self.get("/state").await["sims"].clone()
    }

    async fn wait_job(&self, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self
                .gql(
                    "query($id: Long!) { getBatchJob(batchJobId: $id) { batchJobId finishedAt \
                     statusDetails { currentStatus totalSims failedSims successfulSims \
                     failures { statusId monthly_data_limit imei_lock } } \
                     changes { monthly_data_limit monthly_voice_mo_limit imei_lock statusid } } }",
                    json!({ "id": id }),
                )
                .await;
            let job = v["data"]["getBatchJob"].clone();
            let status = job["statusDetails"]["currentStatus"].as_str().unwrap_or("");
            if ["COMPLETED", "FAILED", "CANCELLED"].contains(&status) {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} did not finish: {v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn details(&self, id: i64) -> Vec<Value> {
        let v = self
            .gql(
                "query($id: Long!) { listBatchJobDetails(batchJobId: $id, limit: 1000) { \
                 simList { iccid details { status errorCodes executedAt } } totalCount nextToken } }",
                json!({ "id": id }),
            )
            .await;
        v["data"]["listBatchJobDetails"]["simList"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn fleet(json: Value) -> Snapshot {
    Snapshot::from_json(&json.to_string(), "test fleet").expect("valid snapshot")
}

fn sim(iccid: &str, status: i32) -> Value {
    json!({ "iccid": iccid, "statusid": status, "providerid": 5 })
}

/// The 9 SIMs of the reference's nextToken walk-through.
fn nine() -> Snapshot {
    let sims: Vec<Value> = (1..=9)
        .map(|i| sim(&format!("98765432000123456{i:02}"), 2))
        .collect();
    fleet(json!({ "format_version": 1, "sims": sims }))
}

fn error_message(v: &Value) -> String {
    v["errors"][0]["message"].as_str().unwrap_or("").to_string()
}

fn by_iccid<'a>(sims: &'a Value, iccid: &str) -> &'a Value {
    sims.as_array()
        .and_then(|a| a.iter().find(|s| s["iccid"] == iccid))
        .expect("SIM in state")
}

// ---------------------------------------------------------------- reference examples

#[tokio::test]
async fn reference_next_token_walk_through() {
    let sb = Sb::with(nine()).await;
    let first = r#" {
   "variables": {
     "order": { "iccid": "asc" },
     "limit": 5,
     "nextToken": ""
   },
   "query": "query ListSims($order: SimListOrder, $limit: Int!, $nextToken: String) { listSims(order: $order, limit: $limit, nextToken: $nextToken) { items { iccid } nextToken }}"
 }"#;
    let (status, page1) = sb.raw(first).await;
    assert_eq!(status, 200);
    let items = page1["data"]["listSims"]["items"]
        .as_array()
        .expect("items");
    let iccids: Vec<&str> = items.iter().filter_map(|i| i["iccid"].as_str()).collect();
    assert_eq!(
        iccids,
        (1..=5)
            .map(|i| format!("98765432000123456{i:02}"))
            .collect::<Vec<_>>()
    );
    let token = page1["data"]["listSims"]["nextToken"]
        .as_str()
        .expect("a nextToken after 5 of 9");
    let second = first.replace(r#""nextToken": """#, &format!(r#""nextToken": "{token}""#));
    let (_, page2) = sb.raw(&second).await;
    let items = page2["data"]["listSims"]["items"]
        .as_array()
        .expect("items");
    let iccids: Vec<&str> = items.iter().filter_map(|i| i["iccid"].as_str()).collect();
    assert_eq!(
        iccids,
        (6..=9)
            .map(|i| format!("98765432000123456{i:02}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(page2["data"]["listSims"]["nextToken"], Value::Null);
    sb.running.shutdown().await;
}

#[tokio::test]
async fn reference_curl_example_verbatim() {
    let sb = Sb::with(fleet(json!({ "format_version": 1, "sims": [
        { "iccid": "9876543212345678901", "statusid": 2, "providerid": 5, "imei": "869876543212341", "monthly_data_volume": 31457280 },
        { "iccid": "9876543210123456789", "statusid": 2, "providerid": 5, "imei": "869876543210123", "monthly_data_volume": 6012954214i64 },
        { "iccid": "9876543200000000001", "statusid": 2, "providerid": 5, "imei": "869876543200001", "monthly_data_volume": 1000 },
        { "iccid": "9876543211234567890", "statusid": 2, "providerid": 5, "imei": "869876543211234", "monthly_data_volume": 501219328 }
    ]})))
    .await;
    let body = r#"{
  "variables": {
    "order": { "monthly_data_volume": "desc" },
    "limit": 3
  },
  "query": "query ListSims($filter: SimFilterInput, $order: SimListOrder, $limit: Int!, $nextToken: String) { listSims(filter: $filter, order: $order, limit: $limit, nextToken: $nextToken) { items { iccid imei monthly_data_volume } }}"
}"#;
    let (status, v) = sb.raw(body).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({ "data": { "listSims": { "items": [
            { "iccid": "9876543210123456789", "imei": "869876543210123", "monthly_data_volume": 6012954214i64 },
            { "iccid": "9876543211234567890", "imei": "869876543211234", "monthly_data_volume": 501219328 },
            { "iccid": "9876543212345678901", "imei": "869876543212341", "monthly_data_volume": 31457280 }
        ]}}})
    );
    sb.running.shutdown().await;
}

#[tokio::test]
async fn reference_batch_example_p1_changes_every_sim() {
    let sb = Sb::with(generate(50, 1)).await;
    let body = r#"   {
     "variables": {
       "p1": { "monthly_data_limit": 0 }
     },
     "query": "mutation startBatchJob($p1: BatchJobParametersInput!) {startBatchJob(params: $p1) {batchJobId}}"
   }"#;
    let before = sb.sims().await;
    let (_, v) = sb.raw(body).await;
    let id = v["data"]["startBatchJob"]["batchJobId"]
        .as_i64()
        .expect("an id");
    let job = sb.wait_job(id).await;
    assert_eq!(job["statusDetails"]["currentStatus"], "COMPLETED");
    assert_eq!(job["statusDetails"]["totalSims"], 50);
    assert_eq!(job["changes"]["monthly_data_limit"], 0);
    let after = sb.sims().await;
    for (b, a) in before
        .as_array()
        .unwrap()
        .iter()
        .zip(after.as_array().unwrap())
    {
        let mut expected = b.clone();
        expected
            .as_object_mut()
            .unwrap()
            .remove("monthly_data_limit");
        assert_eq!(
            a, &expected,
            "only the data limit changes, to unlimited (null)"
        );
    }
    let details = sb.details(id).await;
    let limited = before
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["monthly_data_limit"].is_null())
        .count();
    let successful = details
        .iter()
        .filter(|d| d["details"]["status"] == "SUCCESSFUL")
        .count();
    assert_eq!(successful, limited);
    assert!(details
        .iter()
        .filter(|d| d["details"]["status"] == "SKIPPED")
        .all(|d| d["details"]["errorCodes"] == json!([200])));
    sb.running.shutdown().await;
}

#[tokio::test]
async fn reference_batch_example_p3_changes_activated_minus_excluded() {
    let sims: Vec<Value> = [
        ("9876543210987654321", 2),
        ("9876543210987654322", 2),
        ("9876543210987654323", 2),
        ("9876543210987654324", 5),
        ("9876543210987654325", 2),
    ]
    .iter()
    .map(|(i, s)| {
        json!({ "iccid": i, "statusid": s, "providerid": 5, "monthly_voice_mo_limit": 600 })
    })
    .collect();
    let sb = Sb::with(fleet(json!({ "format_version": 1, "sims": sims }))).await;
    let body = r#"  {
    "variables": {
      "p3": {
        "excludeIccIds": [
          "9876543210987654321",
          "9876543210987654322"
        ],
        "simFilter": {
          "statusid": {
            "in": [
              2
            ]
          }
        },
        "monthly_voice_mo_limit": 0
      }
    },
    "query": "mutation startBatchJob($p3: BatchJobParametersInput!) {startBatchJob(params: $p3) {batchJobId}}"
  }"#;
    let (_, v) = sb.raw(body).await;
    let id = v["data"]["startBatchJob"]["batchJobId"]
        .as_i64()
        .expect("an id");
    let job = sb.wait_job(id).await;
    assert_eq!(job["statusDetails"]["currentStatus"], "COMPLETED");
    assert_eq!(job["statusDetails"]["totalSims"], 2);
    assert_eq!(job["statusDetails"]["successfulSims"], 2);
    let after = sb.sims().await;
    for (iccid, limit) in [
        ("9876543210987654321", json!(600)),
        ("9876543210987654322", json!(600)),
        ("9876543210987654323", Value::Null),
        ("9876543210987654324", json!(600)),
        ("9876543210987654325", Value::Null),
    ] {
        assert_eq!(
            by_iccid(&after, iccid)["monthly_voice_mo_limit"],
            limit,
            "{iccid}"
        );
    }
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- auth, stats, state

#[tokio::test]
async fn requests_without_the_raw_token_get_401_with_graphql_errors() {
    let sb = Sb::with(nine()).await;
    for auth in [None, Some("Bearer sandbox"), Some("wrong")] {
        let mut req = sb
            .client
            .post(sb.running.url())
            .body(r#"{"query":"{ getCustomerData { customerid } }"}"#);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.expect("answered");
        assert_eq!(r.status().as_u16(), 401, "{auth:?}");
        let v: Value = r.json().await.expect("JSON");
        assert!(error_message(&v).contains("Authorization"), "{v}");
    }
    sb.running.shutdown().await;
}

#[tokio::test]
async fn stats_count_root_fields_whatever_the_operation_name() {
    let sb = Sb::with(nine()).await;
    sb.gql(
        "query Whatever { a: listSims(limit: 1) { totalSims } getCustomerData { customerid } }",
        json!({}),
    )
    .await;
    sb.gql(
        "query Other { listSims(limit: 2) { totalSims } }",
        json!({}),
    )
    .await;
    sb.gql(
        "mutation M { updateSim(iccid: \"9876543200012345601\", custom_field_1: \"x\") { iccid } }",
        json!({}),
    )
    .await;
    let stats = sb.get("/stats").await;
    assert_eq!(stats["operations"]["listSims"], 2);
    assert_eq!(stats["operations"]["getCustomerData"], 1);
    assert_eq!(stats["operations"]["updateSim"], 1);
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["faults"], json!({}));
    let state = sb.get("/state").await;
    assert_eq!(state["format_version"], 1);
    assert!(state["transitions"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        by_iccid(&state["sims"], "9876543200012345601")["custom_field_1"],
        "x"
    );
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- bad input changes nothing

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let sb = Sb::with(generate(40, 5)).await;
    let state = sb.sims().await;
    let first = state[0]["iccid"].as_str().unwrap().to_string();
    let many: Vec<String> = (0..1001).map(|i| format!("89490000000{i:08}")).collect();
    let list = "query($f: SimFilterInput, $l: Int!, $t: String) { listSims(filter: $f, limit: $l, nextToken: $t) { items { iccid } nextToken } }";
    let token = sb.gql(list, json!({ "l": 2 })).await["data"]["listSims"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();
    let batch =
        "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }";
    let update = "mutation($i: ID!, $s: Int, $d: Long) { updateSim(iccid: $i, statusid: $s, monthly_data_limit: $d) { iccid } }";
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "syntax error",
            "{ listSims(limit: 1) { items { iccid }".into(),
            json!({}),
            "expected",
        ),
        (
            "unknown field",
            "{ listSims(limit: 1) { items { nope } } }".into(),
            json!({}),
            "nope",
        ),
        (
            "wrong variable type",
            list.into(),
            json!({ "l": "ten" }),
            "l",
        ),
        (
            "limit 0",
            list.into(),
            json!({ "l": 0 }),
            "between 1 and 100",
        ),
        (
            "limit 101",
            list.into(),
            json!({ "l": 101 }),
            "between 1 and 100",
        ),
        (
            "malformed nextToken",
            list.into(),
            json!({ "l": 2, "t": "bm9wZQ==" }),
            "malformed nextToken",
        ),
        (
            "token with another filter",
            list.into(),
            json!({ "l": 2, "t": token, "f": { "statusid": { "eq": 2 } } }),
            "only valid",
        ),
        (
            "include over 1000",
            batch.into(),
            json!({ "p": { "includeIccIds": many, "monthly_data_limit": 0 } }),
            "maximum is 1000",
        ),
        (
            "exclude over 1000",
            batch.into(),
            json!({ "p": { "excludeIccIds": many, "monthly_data_limit": 0 } }),
            "maximum is 1000",
        ),
        (
            "batch without change",
            batch.into(),
            json!({ "p": { "includeIccIds": [first] } }),
            "at least one",
        ),
        (
            "batch invalid status",
            batch.into(),
            json!({ "p": { "includeIccIds": [first], "statusid": 99 } }),
            "statusid 99",
        ),
        (
            "unknown ICCID",
            update.into(),
            json!({ "i": "89490000000000000000", "s": 2 }),
            "no SIM with ICCID",
        ),
        (
            "invalid status id",
            update.into(),
            json!({ "i": first, "s": 42 }),
            "statusid 42",
        ),
        (
            "data limit 0",
            update.into(),
            json!({ "i": first, "d": 0 }),
            "monthly_data_limit 0",
        ),
        (
            "status 7 to 3 forbidden",
            update.into(),
            json!({ "i": first, "s": 3 }),
            "not allowed",
        ),
    ];
    for (name, query, variables, needle) in cases {
        let v = sb.gql(&query, variables).await;
        let msg = error_message(&v);
        assert!(msg.contains(needle), "{name}: expected {needle:?} in {v}");
        assert_eq!(sb.sims().await, state, "{name} changed the fleet");
    }
    let jobs = sb.gql("{ listBatchJobs { totalCount } }", json!({})).await;
    assert_eq!(jobs["data"]["listBatchJobs"]["totalCount"], 0);
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- storage rules

#[tokio::test]
async fn update_sim_storage_rules() {
    let sb = Sb::with(fleet(json!({ "format_version": 1, "sims": [
        { "iccid": "89490000000000000015", "statusid": 20, "providerid": 5,
          "monthly_sms_mo_limit": 50, "monthly_sms_mt_limit": 50, "monthly_voice_mo_limit": 600,
          "monthly_data_limit": 1000000, "custom_field_1": "truck-1",
          "end_customer_label": { "name": "ACME" },
          "imei_lock": { "imei": "356938035643809", "enabled": true } }
    ]})))
    .await;
    let q = "mutation($v: Long, $l: EndCustomerLabelInput, $k: ImeiLockInput) { \
             updateSim(iccid: \"89490000000000000015\", monthly_sms_mo_limit: $v, end_customer_label: $l, imei_lock: $k) \
             { statusid monthly_sms_mo_limit monthly_sms_mt_limit monthly_data_limit custom_field_1 \
               end_customer_label { name } imei_lock { imei enabled } } }";
    // Omitted arguments are left alone; an explicit null SMS limit means no limit.
    let v = sb.gql(q, json!({ "v": null })).await;
    let s = &v["data"]["updateSim"];
    assert_eq!(s["monthly_sms_mo_limit"], Value::Null, "{v}");
    assert_eq!(s["monthly_sms_mt_limit"], 50);
    assert_eq!(s["monthly_data_limit"], 1000000);
    assert_eq!(s["end_customer_label"]["name"], "ACME");
    assert_eq!(s["statusid"], 20);
    // An empty label name deletes the label.
    let v = sb.gql(q, json!({ "l": { "name": "" } })).await;
    assert_eq!(
        v["data"]["updateSim"]["end_customer_label"],
        Value::Null,
        "{v}"
    );
    // Unlocking a SIM in status 20 sets it to 2.
    let v = sb.gql(q, json!({ "k": { "lock": false } })).await;
    assert_eq!(v["data"]["updateSim"]["statusid"], 2, "{v}");
    assert_eq!(v["data"]["updateSim"]["imei_lock"]["enabled"], false);
    // lock true without IMEI = auto-detect; with one = that IMEI.
    let v = sb
        .gql(q, json!({ "k": { "lock": true, "imei": null } }))
        .await;
    assert_eq!(
        v["data"]["updateSim"]["imei_lock"],
        json!({ "imei": null, "enabled": true })
    );
    let v = sb
        .gql(
            q,
            json!({ "k": { "lock": true, "imei": "356938035643809" } }),
        )
        .await;
    assert_eq!(
        v["data"]["updateSim"]["imei_lock"],
        json!({ "imei": "356938035643809", "enabled": true })
    );
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- transitions

#[tokio::test]
async fn transitions_follow_the_table_and_pass_through_13_and_14_with_a_delay() {
    let sb = Sb::start(
        fleet(json!({ "format_version": 1, "sims": [sim("89490000000000000015", 5), sim("89490000000000000023", 2)] })),
        SandboxConfig {
            transition_delay: Duration::from_millis(300),
            ..SandboxConfig::default()
        },
    )
    .await;
    let q = "mutation($i: ID!, $s: Int) { updateSim(iccid: $i, statusid: $s) { statusid } }";
    let v = sb
        .gql(q, json!({ "i": "89490000000000000015", "s": 2 }))
        .await;
    assert_eq!(v["data"]["updateSim"]["statusid"], 13, "{v}");
    let v = sb
        .gql(q, json!({ "i": "89490000000000000023", "s": 5 }))
        .await;
    assert_eq!(v["data"]["updateSim"]["statusid"], 14, "{v}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let sims = sb.sims().await;
    assert_eq!(by_iccid(&sims, "89490000000000000015")["statusid"], 2);
    assert_eq!(by_iccid(&sims, "89490000000000000023")["statusid"], 5);
    let v = sb
        .gql(q, json!({ "i": "89490000000000000023", "s": 3 }))
        .await;
    assert!(
        error_message(&v).contains("from Deactivated (5) to Issued (3)"),
        "{v}"
    );
    let t = sb
        .gql(
            "{ getAvailableStatusTransitions { fromstatusid tostatusid providerid } }",
            json!({}),
        )
        .await;
    let table = t["data"]["getAvailableStatusTransitions"]
        .as_array()
        .unwrap();
    assert!(table.contains(&json!({ "fromstatusid": 5, "tostatusid": 2, "providerid": 5 })));
    assert!(!table.contains(&json!({ "fromstatusid": 5, "tostatusid": 3, "providerid": 5 })));
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- batch jobs

#[tokio::test]
async fn batch_job_detail_codes_and_counts() {
    let sb = Sb::with(fleet(json!({ "format_version": 1, "sims": [
        { "iccid": "89490000000000000015", "statusid": 2, "providerid": 5, "monthly_data_limit": 500000000 },
        { "iccid": "89490000000000000023", "statusid": 7, "providerid": 5 },
        { "iccid": "89490000000000000031", "statusid": 5, "providerid": 5, "imei_lock": { "enabled": true } }
    ]})))
    .await;
    let q = "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }";
    let v = sb
        .gql(q, json!({ "p": {
            "includeIccIds": ["89490000000000000015", "89490000000000000023", "89490000000000000031", "89490000000000000049"],
            "statusid": 2, "monthly_data_limit": 500000000, "imei_lock": true } }))
        .await;
    let id = v["data"]["startBatchJob"]["batchJobId"]
        .as_i64()
        .expect("id");
    let job = sb.wait_job(id).await;
    let d = &job["statusDetails"];
    assert_eq!(d["currentStatus"], "COMPLETED", "{job}");
    assert_eq!(d["totalSims"], 4);
    assert_eq!(d["successfulSims"], 2);
    assert_eq!(d["failedSims"], 2);
    assert_eq!(d["failures"]["statusId"], 2);
    let details = sb.details(id).await;
    let get = |iccid: &str| {
        details
            .iter()
            .find(|x| x["iccid"] == iccid)
            .map(|x| x["details"].clone())
            .expect("detail")
    };
    // Already activated, limit already set, lock enabled now: successful with "already set" codes.
    assert_eq!(get("89490000000000000015")["status"], "SUCCESSFUL");
    assert_eq!(get("89490000000000000015")["errorCodes"], json!([1, 200]));
    // Retired cannot be activated.
    assert_eq!(get("89490000000000000023")["status"], "FAILED");
    assert!(get("89490000000000000023")["errorCodes"]
        .as_array()
        .unwrap()
        .contains(&json!(4)));
    // 5 -> 2 is allowed and made; the limit (unset) is set; the lock was already enabled (700).
    assert_eq!(get("89490000000000000031")["status"], "SUCCESSFUL");
    assert_eq!(get("89490000000000000031")["errorCodes"], json!([700]));
    // Not in the fleet.
    assert_eq!(get("89490000000000000049")["status"], "FAILED");
    assert_eq!(get("89490000000000000049")["errorCodes"], json!([3]));
    let sims = sb.sims().await;
    assert_eq!(by_iccid(&sims, "89490000000000000031")["statusid"], 2);
    assert_eq!(by_iccid(&sims, "89490000000000000023")["statusid"], 7);
    assert_eq!(
        by_iccid(&sims, "89490000000000000015")["imei_lock"],
        json!({ "imei": null, "enabled": true })
    );
    // Filter details by status.
    let v = sb
        .gql(
            "query($id: Long!) { listBatchJobDetails(batchJobId: $id, filter: { status: [FAILED] }) { totalCount simList { iccid } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(v["data"]["listBatchJobDetails"]["totalCount"], 2);
    sb.running.shutdown().await;
}

#[tokio::test]
async fn an_empty_include_list_counts_as_absent_and_selects_the_whole_fleet() {
    let sb = Sb::with(generate(30, 2)).await;
    let v = sb
        .gql(
            "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }",
            json!({ "p": { "includeIccIds": [], "custom_field_1": "oops" } }),
        )
        .await;
    let id = v["data"]["startBatchJob"]["batchJobId"]
        .as_i64()
        .expect("id");
    let job = sb.wait_job(id).await;
    assert_eq!(job["statusDetails"]["totalSims"], 30);
    let sims = sb.sims().await;
    assert!(sims
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["custom_field_1"] == "oops"));
    sb.running.shutdown().await;
}

#[tokio::test]
async fn batch_jobs_run_over_time_list_newest_first_and_can_be_cancelled() {
    let sb = Sb::start(
        generate(200, 3),
        SandboxConfig {
            batch_rate: 100.0,
            ..SandboxConfig::default()
        },
    )
    .await;
    let q = "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }";
    let a = sb.gql(q, json!({ "p": { "custom_field_1": "a" } })).await["data"]["startBatchJob"]
        ["batchJobId"]
        .as_i64()
        .unwrap();
    let b = sb.gql(q, json!({ "p": { "custom_field_1": "b" } })).await["data"]["startBatchJob"]
        ["batchJobId"]
        .as_i64()
        .unwrap();
    let list = sb
        .gql(
            "{ listBatchJobs(limit: 1) { items { batchJobId statusDetails { currentStatus } } nextToken totalCount } }",
            json!({}),
        )
        .await;
    let l = &list["data"]["listBatchJobs"];
    assert_eq!(l["totalCount"], 2);
    assert_eq!(l["items"][0]["batchJobId"], b);
    let status = l["items"][0]["statusDetails"]["currentStatus"]
        .as_str()
        .unwrap();
    assert!(["PREPARING", "RUNNING"].contains(&status), "{status}");
    let next = sb
        .gql(
            "query($t: String) { listBatchJobs(limit: 1, nextToken: $t) { items { batchJobId } nextToken } }",
            json!({ "t": l["nextToken"] }),
        )
        .await;
    assert_eq!(next["data"]["listBatchJobs"]["items"][0]["batchJobId"], a);
    assert_eq!(next["data"]["listBatchJobs"]["nextToken"], Value::Null);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in [a, b] {
        let v = sb
            .gql(
                "mutation($id: Long!) { cancelBatchJob(batchJobId: $id) }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(v["data"]["cancelBatchJob"], true, "{v}");
    }
    let job = sb.wait_job(a).await;
    assert_eq!(job["statusDetails"]["currentStatus"], "CANCELLED");
    assert!(!job["finishedAt"].is_null());
    let done = job["statusDetails"]["successfulSims"].as_i64().unwrap();
    assert!(
        done > 0 && done < 200,
        "processed over time, not at once: {done}"
    );
    let details = sb.details(a).await;
    assert_eq!(details.len(), 200);
    assert!(details.iter().any(|d| d["details"]["status"] == "SKIPPED"));
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- listing

async fn page_all(
    sb: &Sb,
    filter: Value,
    order: Value,
    limit: i64,
    search: Value,
) -> (Vec<String>, i64) {
    let q = "query($f: SimFilterInput, $o: SimListOrder, $l: Int!, $q: String, $t: String) { \
             listSims(filter: $f, order: $o, limit: $l, quickSearch: $q, nextToken: $t) { items { iccid } nextToken totalSims } }";
    let mut out = Vec::new();
    let mut token = json!("");
    let mut total = -1;
    for _ in 0..10_000 {
        let v = sb
            .gql(
                q,
                json!({ "f": filter, "o": order, "l": limit, "q": search, "t": token }),
            )
            .await;
        let page = &v["data"]["listSims"];
        assert!(page.is_object(), "{v}");
        total = page["totalSims"].as_i64().unwrap();
        for item in page["items"].as_array().unwrap() {
            out.push(item["iccid"].as_str().unwrap().to_string());
        }
        token = page["nextToken"].clone();
        if token.is_null() {
            break;
        }
    }
    (out, total)
}

#[tokio::test]
async fn paging_filters_orders_and_quick_search_agree_with_the_state() {
    let snapshot = generate(700, 11);
    let sb = Sb::with(snapshot.clone()).await;
    let all: Vec<String> = snapshot.sims.iter().map(|s| s.iccid.clone()).collect();

    let (got, total) = page_all(&sb, Value::Null, Value::Null, 100, Value::Null).await;
    assert_eq!(got, all);
    assert_eq!(total, 700);

    let (got, _) = page_all(
        &sb,
        Value::Null,
        json!({ "iccid": "desc" }),
        33,
        Value::Null,
    )
    .await;
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(got, rev);

    let expect = |f: &dyn Fn(&simfleet::fleet::Sim) -> bool| -> Vec<String> {
        snapshot
            .sims
            .iter()
            .filter(|s| f(s))
            .map(|s| s.iccid.clone())
            .collect()
    };
    let cases: Vec<(Value, Vec<String>)> = vec![
        (
            json!({ "iccid": { "beginsWith": "8988303" } }),
            expect(&|s| s.iccid.starts_with("8988303")),
        ),
        (
            json!({ "statusid": { "in": [5, 12] } }),
            expect(&|s| [5, 12].contains(&s.statusid)),
        ),
        (
            json!({ "providerid": { "eq": 1 } }),
            expect(&|s| s.providerid == 1),
        ),
        (
            json!({ "end_customer_label": { "eq": "acme" } }),
            expect(&|s| s.label() == Some("ACME")),
        ),
        (
            json!({ "custom_field_1": { "beginsWith": "truck-" }, "statusid": { "eq": 2 } }),
            expect(&|s| {
                s.statusid == 2
                    && s.custom_field_1
                        .as_deref()
                        .is_some_and(|c| c.starts_with("truck-"))
            }),
        ),
        (
            json!({ "iccid": { "in": [all[3], all[500], "89490000000000000000"] } }),
            vec![all[3].clone(), all[500].clone()],
        ),
        (
            json!({ "imei": { "eq": snapshot.sims[9].imei } }),
            expect(&|s| s.imei == snapshot.sims[9].imei),
        ),
    ];
    for (filter, expected) in cases {
        let (got, total) = page_all(&sb, filter.clone(), Value::Null, 17, Value::Null).await;
        assert_eq!(got, expected, "{filter}");
        assert_eq!(total as usize, expected.len(), "{filter}");
    }

    // Another order: every SIM exactly once, in that order.
    let (got, _) = page_all(
        &sb,
        Value::Null,
        json!({ "monthly_data_volume": "desc" }),
        45,
        Value::Null,
    )
    .await;
    let mut sorted = snapshot.sims.clone();
    sorted
        .sort_by(|a, b| (b.monthly_data_volume, &b.iccid).cmp(&(a.monthly_data_volume, &a.iccid)));
    assert_eq!(
        got,
        sorted.iter().map(|s| s.iccid.clone()).collect::<Vec<_>>()
    );

    // quickSearch over ICCID, device name, MSISDN and IMEI.
    let msisdn = snapshot.sims[42].msisdn.clone().unwrap();
    let (got, _) = page_all(&sb, Value::Null, Value::Null, 100, json!(msisdn)).await;
    assert!(got.contains(&snapshot.sims[42].iccid));
    let (got, total) = page_all(&sb, Value::Null, Value::Null, 100, json!("TRUCK-")).await;
    assert_eq!(
        got,
        expect(&|s| s
            .custom_field_1
            .as_deref()
            .is_some_and(|c| c.contains("truck-")))
    );
    assert_eq!(total as usize, got.len());
    sb.running.shutdown().await;
}

#[tokio::test]
async fn other_served_reads() {
    let sb = Sb::with(generate(100, 4)).await;
    let v = sb
        .gql(
            "{ getStatistics { totalSimCards activeSimCards currentMonthlyDataUsage } \
               getCustomerData { customerid current_name is_test_customer } \
               listEndCustomerLabels(limit: 2, filter: { name: { beginsWith: \"g\" } }) { items { name } nextToken } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["getStatistics"]["totalSimCards"], 100, "{v}");
    assert_eq!(v["data"]["getCustomerData"]["is_test_customer"], true);
    assert_eq!(
        v["data"]["listEndCustomerLabels"]["items"],
        json!([{ "name": "Globex" }])
    );
    let v = sb
        .gql(
            "mutation { sendSms(iccid: \"1\", text: \"hi\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_message(&v), "sendSms is not supported by the sandbox");
    let v = sb.gql("{ listApiKeys { keyid } }", json!({})).await;
    assert_eq!(
        error_message(&v),
        "listApiKeys is not supported by the sandbox"
    );
    sb.running.shutdown().await;
}

// ---------------------------------------------------------------- faults

/// What a client observes for one request: an HTTP status and a body kind, or a transport error.
async fn observe(client: &reqwest::Client, url: &str, body: &str) -> String {
    match client
        .post(url)
        .header("Authorization", "sandbox")
        .body(body.to_string())
        .send()
        .await
    {
        Err(_) => "transport error".to_string(),
        Ok(r) => {
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or("").to_string());
            match r.text().await {
                Err(_) => format!("{status} broken body"),
                Ok(t) => match serde_json::from_str::<Value>(&t) {
                    Err(_) => format!("{status} truncated"),
                    Ok(v) if v["data"]["listSims"].is_null() && v["errors"].is_null() => {
                        format!("{status} null payload")
                    }
                    Ok(_) => format!("{status} ok {retry:?}"),
                },
            }
        }
    }
}

#[tokio::test]
async fn faults_are_deterministic_for_seed_body_and_attempt() {
    let config = SandboxConfig {
        fault_rate: 0.6,
        seed: 99,
        ..SandboxConfig::default()
    };
    let one = Sb::start(nine(), config.clone()).await;
    let two = Sb::start(nine(), config).await;
    let bodies: Vec<String> = (1..=6)
        .map(|l| format!(r#"{{"query":"{{ listSims(limit: {l}) {{ totalSims }} }}"}}"#))
        .collect();
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    for _attempt in 0..4 {
        for b in &bodies {
            seen_a.push(observe(&one.client, &one.running.url(), b).await);
            seen_b.push(observe(&two.client, &two.running.url(), b).await);
        }
    }
    assert_eq!(seen_a, seen_b);
    let faulty = seen_a.iter().filter(|s| !s.starts_with("200 ok")).count();
    assert!(faulty > 0 && faulty < seen_a.len(), "{seen_a:#?}");
    let stats = one.get("/stats").await;
    let counted: u64 = stats["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, faulty, "{stats} vs {seen_a:#?}");
    assert!(
        seen_a
            .iter()
            .any(|s| s.starts_with("429") && s.contains("\"1\""))
            || !stats["faults"]["http_429"].is_u64()
    );
    one.running.shutdown().await;
    two.running.shutdown().await;
}

#[tokio::test]
async fn a_mutation_can_be_committed_and_the_connection_dropped() {
    let sb = Sb::start(
        nine(),
        SandboxConfig {
            fault_rate: 1.0,
            seed: 3,
            ..SandboxConfig::default()
        },
    )
    .await;
    // Try distinct bodies until the committed-then-dropped fault shows up.
    let mut committed = false;
    for i in 0..60 {
        let body = json!({ "query": format!(
            "mutation {{ updateSim(iccid: \"9876543200012345601\", custom_field_1: \"v{i}\") {{ iccid }} }}") })
        .to_string();
        let seen = observe(&sb.client, &sb.running.url(), &body).await;
        let stats = sb.get("/stats").await;
        if stats["faults"]["mutation_committed_then_dropped"].as_u64() == Some(1) {
            assert_eq!(seen, "transport error");
            let sims = sb.sims().await;
            assert_eq!(
                by_iccid(&sims, "9876543200012345601")["custom_field_1"],
                format!("v{i}")
            );
            committed = true;
            break;
        }
    }
    assert!(committed);
    sb.running.shutdown().await;
}

#[tokio::test]
async fn batch_zero_is_unlimited_for_all_four_limits() {
    let sb = Sb::with(fleet(json!({ "format_version": 1, "sims": [
        { "iccid": "89490000000000000015", "statusid": 2, "providerid": 5, "monthly_data_limit": 1000000,
          "monthly_sms_mo_limit": 50, "monthly_sms_mt_limit": 100, "monthly_voice_mo_limit": 600 },
        { "iccid": "89490000000000000023", "statusid": 2, "providerid": 5, "monthly_data_limit": 1000000 }
    ]})))
    .await;
    let v = sb
        .gql(
            "mutation($p: BatchJobParametersInput!) { startBatchJob(params: $p) { batchJobId } }",
            json!({ "p": { "includeIccIds": ["89490000000000000015"], "monthly_data_limit": 0,
                "monthly_sms_mo_limit": 0, "monthly_sms_mt_limit": 0, "monthly_voice_mo_limit": 0 } }),
        )
        .await;
    let id = v["data"]["startBatchJob"]["batchJobId"]
        .as_i64()
        .expect("id");
    assert_eq!(sb.wait_job(id).await["statusDetails"]["successfulSims"], 1);
    let v = sb
        .gql(
            "{ listSims(limit: 10) { items { iccid monthly_data_limit monthly_sms_mo_limit monthly_sms_mt_limit monthly_voice_mo_limit } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["data"]["listSims"]["items"],
        json!([
            { "iccid": "89490000000000000015", "monthly_data_limit": null, "monthly_sms_mo_limit": null,
              "monthly_sms_mt_limit": null, "monthly_voice_mo_limit": null },
            { "iccid": "89490000000000000023", "monthly_data_limit": 1000000, "monthly_sms_mo_limit": null,
              "monthly_sms_mt_limit": null, "monthly_voice_mo_limit": null }
        ])
    );
    sb.running.shutdown().await;
}

#[tokio::test]
async fn latency_delays_every_response() {
    let sb = Sb::start(
        nine(),
        SandboxConfig {
            latency: Duration::from_millis(250),
            ..SandboxConfig::default()
        },
    )
    .await;
    let started = Instant::now();
    sb.gql("{ getCustomerData { customerid } }", json!({}))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    sb.running.shutdown().await;
}
