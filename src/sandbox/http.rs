//! The HTTP face of the sandbox: `POST /graphql` with the raw-token `Authorization` check,
//! latency and fault injection, and the observability endpoints `GET /stats` and `GET /state`.
//!
//! The GraphQL request is executed by hand (no async-graphql-axum) so that authentication,
//! faults and per-root-field counting all happen in one place around the executor.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection, SelectionSet};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::faults::{self, Fault};
use super::schema::{SandboxSchema, Shared};
use super::SandboxConfig;
use crate::fleet::{Snapshot, SNAPSHOT_FORMAT_VERSION};

/// What `GET /stats` reports.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub operations: BTreeMap<String, u64>,
    pub requests: u64,
    pub faults: BTreeMap<String, u64>,
}

/// Everything a request handler needs.
pub struct Server {
    pub schema: SandboxSchema,
    pub shared: Arc<Shared>,
    pub config: SandboxConfig,
    pub stats: Mutex<Stats>,
    attempts: Mutex<HashMap<[u8; 32], u32>>,
}

impl Server {
    pub fn new(schema: SandboxSchema, shared: Arc<Shared>, config: SandboxConfig) -> Server {
        Server {
            schema,
            shared,
            config,
            stats: Mutex::new(Stats::default()),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn with_stats(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error_body(message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "errors": [{ "message": message }] }))
        .unwrap_or_default()
}

/// A response whose body fails before a byte is sent: hyper closes the connection, so the
/// client sees a transport error and cannot know what happened.
fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox fault: connection dropped"))
    });
    Response::new(Body::from_stream(stream))
}

/// A root field of a request: its name (counted in `/stats`) and its response key (alias).
#[derive(Debug, Clone)]
struct RootField {
    name: String,
    key: String,
}

/// Whether the selected operation is a mutation, and its root fields.
fn root_fields(query: &str, operation_name: Option<&str>) -> Option<(bool, Vec<RootField>)> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let op = match &doc.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.iter().find(|(n, _)| n.as_str() == name)?.1,
            None if ops.len() == 1 => ops.values().next()?,
            None => return None,
        },
    };
    let mut names = Vec::new();
    collect_fields(&doc, &op.node.selection_set.node, &mut names, 0);
    Some((op.node.ty == OperationType::Mutation, names))
}

fn collect_fields(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    out: &mut Vec<RootField>,
    depth: u8,
) {
    if depth > 8 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if !name.starts_with("__") {
                    let key = f.node.alias.as_ref().map_or(name, |a| a.node.as_str());
                    out.push(RootField {
                        name: name.to_string(),
                        key: key.to_string(),
                    });
                }
            }
            Selection::InlineFragment(frag) => {
                collect_fields(doc, &frag.node.selection_set.node, out, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect_fields(doc, &frag.node.selection_set.node, out, depth + 1);
                }
            }
        }
    }
}

/// HTTP 401 unless the request carries the sandbox's token as the raw Authorization header, the
/// one check `/graphql` and the `/outside/*` endpoints share.
fn unauthorized(server: &Server, headers: &HeaderMap) -> Option<Response> {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == server.config.token.as_bytes());
    (!authorized).then(|| {
        json_response(
            StatusCode::UNAUTHORIZED,
            error_body(
                "Unauthorized: send the API token as the raw Authorization header value \
                 (no \"Bearer\" prefix)",
            ),
        )
    })
}

pub async fn graphql(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    server.with_stats(|s| s.requests += 1);
    if let Some(refused) = unauthorized(&server, &headers) {
        return refused;
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                error_body(&format!(
                    "the request body is not a GraphQL request (JSON with \"query\"): {e}"
                )),
            )
        }
    };
    let (mutation, fields) =
        root_fields(&request.query, request.operation_name.as_deref()).unwrap_or_default();
    server.with_stats(|s| {
        for f in &fields {
            *s.operations.entry(f.name.clone()).or_insert(0) += 1;
        }
    });
    if !server.config.latency.is_zero() {
        tokio::time::sleep(server.config.latency).await;
    }
    let fault = if server.config.fault_rate > 0.0 {
        let digest = faults::body_digest(&body);
        let attempt = match server.attempts.lock() {
            Ok(mut a) => {
                let n = a.entry(digest).or_insert(0);
                *n += 1;
                *n
            }
            Err(_) => 1,
        };
        faults::decide(
            server.config.seed,
            &body,
            attempt,
            server.config.fault_rate,
            mutation,
        )
    } else {
        None
    };
    if let Some(f) = fault {
        server.with_stats(|s| *s.faults.entry(f.stats_key()).or_insert(0) += 1);
    }
    match fault {
        Some(Fault::ServerError(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return json_response(status, error_body("sandbox fault: internal server error"));
        }
        Some(Fault::TooManyRequests) => {
            let mut r = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                error_body("sandbox fault: too many requests"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
        Some(Fault::DroppedConnection) => return dropped_connection(),
        Some(Fault::NullPayload) => {
            let field = fields
                .first()
                .map_or_else(|| "data".to_string(), |f| f.key.clone());
            let mut data = serde_json::Map::new();
            data.insert(field, serde_json::Value::Null);
            let body = serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap_or_default();
            return json_response(StatusCode::OK, body);
        }
        _ => {}
    }
    let response = server.schema.execute(request).await;
    let mut bytes = serde_json::to_vec(&response).unwrap_or_default();
    match fault {
        Some(Fault::MutationCommittedThenDropped) => dropped_connection(),
        Some(Fault::TruncatedBody) => {
            bytes.truncate((bytes.len() / 2).max(1));
            json_response(StatusCode::OK, bytes)
        }
        _ => json_response(StatusCode::OK, bytes),
    }
}

pub async fn stats(State(server): State<Arc<Server>>) -> Response {
    let stats = server.stats.lock().map(|s| s.clone()).unwrap_or_default();
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&stats).unwrap_or_default(),
    )
}

impl Server {
    /// The fleet as a snapshot (format v1), SIMs in ICCID order, transitions included; `None`
    /// after an internal panic poisoned the store.
    pub fn snapshot(&self) -> Option<Snapshot> {
        let store = self.shared.store.lock().ok()?;
        Some(Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            taken_at: Some(
                humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            ),
            transitions: Some(store.transitions.clone()),
            sims: store.sims.values().cloned().collect(),
        })
    }
}

pub async fn state(State(server): State<Arc<Server>>) -> Response {
    let Some(snapshot) = server.snapshot() else {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_body("sandbox state is unavailable after an internal panic"),
        );
    };
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&snapshot).unwrap_or_default(),
    )
}

/// `POST /outside/updateSim`: a change made as if in the vendor's portal (see `outside`). Needs
/// the token like `/graphql`; answers the SIM as changed, or HTTP 400 with the problems.
pub async fn outside_update_sim(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = unauthorized(&server, &headers) {
        return refused;
    }
    let (update, at) = match super::outside::parse(&body) {
        Ok(parsed) => parsed,
        Err(message) => return json_response(StatusCode::BAD_REQUEST, error_body(&message)),
    };
    let result = match server.shared.store.lock() {
        Ok(mut store) => store.update_sim_by(update, super::events::Actor::Portal, at),
        Err(_) => Err("sandbox state is unavailable after an internal panic".to_string()),
    };
    match result {
        Ok(sim) => json_response(StatusCode::OK, serde_json::to_vec(&sim).unwrap_or_default()),
        Err(message) => json_response(StatusCode::BAD_REQUEST, error_body(&message)),
    }
}

/// `POST /outside/imeiUnauthorized`: the SIM was used in a device with another IMEI than the one
/// it is locked to (see `Store::unauthorized_use`). Needs the token like `/graphql`.
pub async fn outside_imei_unauthorized(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = unauthorized(&server, &headers) {
        return refused;
    }
    let (iccid, imei, at) = match super::outside::parse_unauthorized(&body) {
        Ok(parsed) => parsed,
        Err(message) => return json_response(StatusCode::BAD_REQUEST, error_body(&message)),
    };
    let result = match server.shared.store.lock() {
        Ok(mut store) => store.unauthorized_use(&iccid, &imei, at),
        Err(_) => Err("sandbox state is unavailable after an internal panic".to_string()),
    };
    match result {
        Ok(sim) => json_response(StatusCode::OK, serde_json::to_vec(&sim).unwrap_or_default()),
        Err(message) => json_response(StatusCode::BAD_REQUEST, error_body(&message)),
    }
}
