//! Paging through `listSims` in every order the reference allows (`SimListOrder` has 17 fields),
//! in both directions, over a generated fleet whose values include nulls: every ICCID comes
//! back exactly once, and every nextToken the sandbox issues is one it accepts.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use simfleet::sandbox::{generate, Sandbox, SandboxConfig};

/// Every field of `SimListOrder` in the reference, in its order.
const ORDERABLE: [&str; 17] = [
    "iccid",
    "statusid",
    "providerid",
    "imei",
    "imsi",
    "msisdn",
    "activation_timestamp",
    "in_session_since",
    "monthly_data_volume",
    "monthly_sms_mo",
    "monthly_sms_mt",
    "monthly_voice_mo",
    "monthly_voice_mo_limit",
    "custom_field_1",
    "monthly_data_limit",
    "previous_month_data_volume",
    "end_customer_label",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_in_both_directions_returns_every_iccid_once() {
    let fleet = generate(3_000, 7);
    let expected: BTreeSet<String> = fleet.sims.iter().map(|s| s.iccid.clone()).collect();
    let sb = Sandbox::start(SandboxConfig::default(), fleet)
        .await
        .expect("sandbox starts");
    let client = reqwest::Client::new();
    let q = "query($o: SimListOrder, $t: String) { listSims(order: $o, limit: 100, nextToken: $t) \
             { items { iccid } nextToken } }";
    let mut failures = Vec::new();
    for field in ORDERABLE {
        for direction in ["asc", "desc"] {
            let order = json!({ field: direction });
            let mut seen = Vec::new();
            let mut token = Value::Null;
            for _page in 0..100 {
                let v: Value = client
                    .post(sb.url())
                    .header("Authorization", "sandbox")
                    .json(&json!({ "query": q, "variables": { "o": order, "t": token } }))
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("JSON");
                let Some(items) = v["data"]["listSims"]["items"].as_array() else {
                    failures.push(format!("{field} {direction}: {v}"));
                    break;
                };
                seen.extend(
                    items
                        .iter()
                        .filter_map(|i| i["iccid"].as_str().map(String::from)),
                );
                token = v["data"]["listSims"]["nextToken"].clone();
                if token.is_null() {
                    break;
                }
            }
            let unique: BTreeSet<String> = seen.iter().cloned().collect();
            if unique.len() != seen.len() || unique != expected {
                failures.push(format!(
                    "{field} {direction}: {} ICCIDs returned, {} distinct, {} expected",
                    seen.len(),
                    unique.len(),
                    expected.len()
                ));
            }
        }
    }
    sb.shutdown().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
