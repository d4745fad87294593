//! The HTTP side of the API client: one GraphQL request at a time, rate-limited, bounded in
//! concurrency, retried where that is safe, and decoded into a typed payload or an [`ApiError`].
//!
//! Every request is `{"query", "variables", "operationName"}` POSTed to the endpoint with the
//! token raw in `Authorization` (no `Bearer`). The token lives in a `SecretString`, is marked
//! sensitive in the header, and is scrubbed from anything the server echoes back, so it can
//! appear in no Debug output, error or log line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tracing::Instrument;

use super::error::ApiError;

/// The reference's endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://graphql.api.whereversim.de/graphql";

/// Default ceiling on requests per second, shared by every request of one [`Client`]: 25. The
/// reference documents no limit; 25/s keeps a 100k-SIM read (1000 pages) near 40 s while
/// staying polite. Adjust with [`ClientConfig::rate_per_second`] (`None` = no ceiling).
pub const DEFAULT_RATE_PER_SECOND: u32 = 25;

/// The request-rate ceiling as a quota: `rps` a second, evenly spaced, with no burst. A bucket
/// that starts full (governor's default burst of `rps`) lets `rps` requests through at once and
/// `rps` more within the first second: twice the ceiling. A burst of one keeps every one-second
/// window, the first included, at `rps` requests at most.
pub(crate) fn request_quota(rps: NonZeroU32) -> Quota {
    Quota::per_second(rps).allow_burst(NonZeroU32::MIN)
}

/// Default number of requests in flight at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;

/// Default time one request may take, from connecting to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How failed requests are retried: exponential backoff with jitter, a bounded number of times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles per retry.
    pub min_delay: Duration,
    /// Longest delay between two attempts (a longer `Retry-After` is still honoured up to
    /// `max_retry_after`).
    pub max_delay: Duration,
    /// A 429 asking to wait longer than this fails at once instead of stalling the run.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Everything needed to build a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub endpoint: String,
    /// Sent raw as `Authorization`; Debug prints `[REDACTED]`.
    pub token: SecretString,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Requests-per-second ceiling ([`DEFAULT_RATE_PER_SECOND`] by default); `None` disables it.
    pub rate_per_second: Option<NonZeroU32>,
    /// Requests in flight at once ([`DEFAULT_MAX_IN_FLIGHT`] by default).
    pub max_in_flight: usize,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// The defaults for an endpoint and token.
    pub fn new(endpoint: impl Into<String>, token: SecretString) -> ClientConfig {
        ClientConfig {
            endpoint: endpoint.into(),
            token,
            timeout: DEFAULT_TIMEOUT,
            rate_per_second: NonZeroU32::new(DEFAULT_RATE_PER_SECOND),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            retry: RetryPolicy::default(),
        }
    }
}

/// Whether a failed attempt may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Reads and value-setting mutations (`updateSim`, `cancelBatchJob`): resending is harmless.
    Idempotent,
    /// `startBatchJob`: resent only when the request certainly did not take effect (no
    /// connection, 429); otherwise the failure becomes [`ApiError::OutcomeUnknown`].
    NotIdempotent,
}

/// One GraphQL operation to send.
pub(crate) struct Request<'a> {
    pub operation: &'static str,
    /// The root field whose value is the payload.
    pub field: &'static str,
    pub query: &'a str,
    pub variables: Value,
    pub safety: Safety,
}

/// The wherever SIM GraphQL client. Cheap to clone; clones share the rate limit and the
/// in-flight bound.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    token: SecretString,
    /// The token as a header value, marked sensitive so hyper and reqwest never print it.
    authorization: HeaderValue,
    limiter: Option<DefaultDirectRateLimiter>,
    in_flight: Semaphore,
    retry: RetryPolicy,
    timeout: Duration,
    requests: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("token", &"[REDACTED]")
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed, before deciding whether to try again.
#[derive(Debug)]
enum Failure {
    /// No connection was made: the request was not sent.
    Connect(String),
    Timeout,
    /// The connection broke after the request was (perhaps) sent.
    Dropped(String),
    RateLimited(Option<Duration>),
    Server(u16, String),
    Unauthorized(u16, Vec<String>),
    HttpStatus(u16, Vec<String>, String),
    Malformed(String),
    GraphQl(Vec<String>),
    Null,
}

impl Failure {
    fn retryable(&self, safety: Safety) -> bool {
        match self {
            Failure::Connect(_) | Failure::RateLimited(_) => true,
            Failure::Timeout
            | Failure::Dropped(_)
            | Failure::Server(..)
            | Failure::Malformed(_)
            | Failure::Null => safety == Safety::Idempotent,
            Failure::Unauthorized(..) | Failure::HttpStatus(..) | Failure::GraphQl(_) => false,
        }
    }

    /// True when the request may have taken effect although no answer said so.
    fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Failure::Timeout
                | Failure::Dropped(_)
                | Failure::Server(..)
                | Failure::Malformed(_)
                | Failure::Null
        )
    }
}

impl Client {
    /// Builds a client; fails on an endpoint that is not an http(s) URL or a token that cannot be
    /// an HTTP header value (the message never contains the token).
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let endpoint = reqwest::Url::parse(&config.endpoint).map_err(|e| {
            ApiError::Config(format!("endpoint {:?} is not a URL: {e}", config.endpoint))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(ApiError::Config(format!(
                "endpoint {endpoint} must be an http:// or https:// URL"
            )));
        }
        if config.token.expose_secret().trim().is_empty() {
            return Err(ApiError::Config(
                "the API token is empty; set WHEREVER_SIM_TOKEN or use --token-file".into(),
            ));
        }
        let Ok(mut authorization) = HeaderValue::from_str(config.token.expose_secret().trim())
        else {
            return Err(ApiError::Config(
                "the API token contains characters that cannot be sent in an HTTP header".into(),
            ));
        };
        authorization.set_sensitive(true);
        if config.max_in_flight == 0 {
            return Err(ApiError::Config("max_in_flight must be at least 1".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("simfleet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
        let limiter = config
            .rate_per_second
            .map(|rps| RateLimiter::direct(request_quota(rps)));
        let token = SecretString::from(config.token.expose_secret().trim().to_string());
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                token,
                authorization,
                limiter,
                in_flight: Semaphore::new(config.max_in_flight),
                retry: RetryPolicy {
                    max_attempts: config.retry.max_attempts.max(1),
                    ..config.retry
                },
                timeout: config.timeout,
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str()
    }

    /// HTTP requests sent by this client and its clones so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Sends `request`, retrying as its [`Safety`] allows, and decodes the root field's value.
    /// `counter`, when given, is incremented once per HTTP request sent.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
        counter: Option<&AtomicU64>,
    ) -> Result<T, ApiError> {
        let body = json!({
            "query": request.query,
            "variables": request.variables,
            "operationName": request.operation,
        });
        let body = serde_json::to_vec(&body).map_err(|e| ApiError::InvalidRequest {
            operation: request.operation,
            reason: format!("cannot encode the request: {e}"),
        })?;
        let policy = &self.inner.retry;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .with_jitter_seed(jitter_seed())
            .build();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            if let Some(counter) = counter {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            // Operation and attempt, never headers: the token must not reach a log line.
            let span =
                tracing::info_span!("api", operation = request.operation, attempt = attempts);
            let failure = match self
                .attempt::<T>(&request, &body)
                .instrument(span.clone())
                .await
            {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            span.in_scope(|| tracing::debug!(failure = ?failure, "API request failed"));
            if failure.retryable(request.safety) {
                let retry_after = match &failure {
                    Failure::RateLimited(after) => *after,
                    _ => None,
                };
                let too_long = retry_after.is_some_and(|d| d > policy.max_retry_after);
                if !too_long {
                    if let Some(delay) = backoff.next() {
                        tokio::time::sleep(delay.max(retry_after.unwrap_or_default())).await;
                        continue;
                    }
                }
            }
            let unknown = failure.outcome_unknown();
            let error = self.to_error(&request, failure, attempts);
            if request.safety == Safety::NotIdempotent && unknown {
                return Err(ApiError::OutcomeUnknown {
                    operation: request.operation,
                    cause: Box::new(error),
                });
            }
            return Err(error);
        }
    }

    fn to_error(&self, request: &Request<'_>, failure: Failure, attempts: u32) -> ApiError {
        let operation = request.operation;
        match failure {
            Failure::Connect(detail) => ApiError::Unreachable {
                operation,
                endpoint: self.inner.endpoint.to_string(),
                detail,
            },
            Failure::Timeout => ApiError::Timeout {
                operation,
                timeout: self.inner.timeout,
                attempts,
            },
            Failure::Dropped(detail) => ApiError::Connection {
                operation,
                attempts,
                detail,
            },
            Failure::RateLimited(retry_after) => ApiError::RateLimited {
                operation,
                attempts,
                retry_after,
            },
            Failure::Server(status, body) => ApiError::Server {
                operation,
                status,
                attempts,
                body,
            },
            Failure::Unauthorized(status, messages) => ApiError::Unauthorized {
                operation,
                status,
                messages,
            },
            Failure::HttpStatus(status, messages, body) => ApiError::HttpStatus {
                operation,
                status,
                messages,
                body,
            },
            Failure::Malformed(detail) => ApiError::Malformed {
                operation,
                attempts,
                detail,
            },
            Failure::GraphQl(messages) => ApiError::GraphQl {
                operation,
                messages,
            },
            Failure::Null => ApiError::NullPayload {
                operation,
                field: request.field,
                attempts,
            },
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
        body: &[u8],
    ) -> Result<T, Failure> {
        let inner = &self.inner;
        // The semaphore is never closed, so acquiring cannot fail; treat it as "no bound" if it did.
        let _permit = inner.in_flight.acquire().await.ok();
        if let Some(limiter) = &inner.limiter {
            limiter.until_ready().await;
        }
        inner.requests.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let response = inner
            .http
            .post(inner.endpoint.clone())
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Dropped(format!(
                    "the connection closed while reading the answer: {}",
                    error_chain(&e)
                ))
            }
        })?;
        let text = self.scrub(String::from_utf8_lossy(&bytes));
        let code = status.as_u16();
        tracing::info!(
            status = code,
            duration_ms = started.elapsed().as_millis() as u64,
            bytes = bytes.len(),
            "API response"
        );
        if code == 401 || code == 403 {
            return Err(Failure::Unauthorized(code, graphql_messages(&text)));
        }
        if code == 429 {
            return Err(Failure::RateLimited(retry_after));
        }
        let body = Body {
            status: code,
            content_type: content_type.as_deref(),
            text: &text,
        };
        if status.is_server_error() {
            return Err(Failure::Server(code, body.summary()));
        }
        if !status.is_success() {
            return Err(Failure::HttpStatus(
                code,
                graphql_messages(&text),
                body.summary(),
            ));
        }
        decode_payload(&body, request.field)
    }

    /// Removes the token from text the server sent, in case it echoes request headers. Borrows
    /// the body when there is nothing to remove (every page of a read): a page is 30 KB.
    fn scrub<'t>(&self, text: Cow<'t, str>) -> Cow<'t, str> {
        let token = self.inner.token.expose_secret();
        if token.len() >= 4 && text.contains(token) {
            Cow::Owned(text.replace(token, "[REDACTED]"))
        } else {
            text
        }
    }
}

/// The top level of a GraphQL response, the payload left unparsed until its type is known.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Option<Value>,
}

/// Decodes a 2xx body: GraphQL `errors` are errors, a `null` or missing payload is an error
/// (never an empty result), and the payload must have the expected shape. The payload is parsed
/// straight into `T`, not through a `serde_json::Value` (a page of 100 SIMs as a `Value` tree
/// cost more than the rest of the client's work on it).
fn decode_payload<T: DeserializeOwned>(answer: &Body<'_>, field: &str) -> Result<T, Failure> {
    let text = answer.text;
    let body: Envelope<'_> = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            Failure::Malformed(format!("expected a JSON object, got {}", answer.summary()))
        } else {
            Failure::Malformed(format!(
                "the answer is not JSON ({e}): {}",
                answer.summary()
            ))
        }
    })?;
    if let Some(errors) = &body.errors {
        let messages = messages_of(errors);
        if !messages.is_empty() {
            return Err(Failure::GraphQl(messages));
        }
        if !errors.is_null() && errors.as_array().is_none_or(|a| !a.is_empty()) {
            return Err(Failure::Malformed(format!(
                "unreadable `errors`: {}",
                excerpt(&errors.to_string())
            )));
        }
    }
    let Some(data) = body.data else {
        return Err(Failure::Null);
    };
    let data: HashMap<String, &RawValue> = serde_json::from_str(data.get()).map_err(|_| {
        Failure::Malformed(format!("`data` is not an object: {}", excerpt(data.get())))
    })?;
    let payload = match data.get(field) {
        Some(payload) if payload.get() != "null" => *payload,
        _ => return Err(Failure::Null),
    };
    serde_json::from_str(payload.get())
        .map_err(|e| Failure::Malformed(format!("unexpected shape of `{field}`: {e}")))
}

/// The `message`s of a GraphQL `errors` array (or a best-effort rendering of odd entries).
fn messages_of(errors: &Value) -> Vec<String> {
    match errors {
        Value::Array(items) => items
            .iter()
            .map(|item| match item.get("message").and_then(Value::as_str) {
                Some(m) => m.to_string(),
                None => excerpt(&item.to_string()),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![excerpt(&other.to_string())],
    }
}

fn graphql_messages(text: &str) -> Vec<String> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("errors").map(messages_of))
        .unwrap_or_default()
}

/// An HTTP answer's body with what the server said about it, for decoding and for messages.
struct Body<'t> {
    status: u16,
    content_type: Option<&'t str>,
    text: &'t str,
}

impl Body<'_> {
    /// The one way a body goes into a message. A JSON body is shown (cut at 300 characters,
    /// on one line); anything else, such as the HTML page of a wrong endpoint, is summarised:
    /// status, content type, size, and its title or first line, cut at 100 characters.
    fn summary(&self) -> String {
        let text = self.text.trim();
        let json = self.content_type.is_some_and(|t| t.contains("json"))
            || text.starts_with('{')
            || text.starts_with('[');
        if json || text.is_empty() {
            return excerpt(text);
        }
        let content_type = self.content_type.unwrap_or("no content type");
        let headline = html_title(text)
            .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("");
        format!(
            "HTTP {}, {content_type}, {} bytes, not the API's JSON: \"{}\"",
            self.status,
            text.len(),
            cut(&one_line(headline), 100)
        )
    }
}

/// The text of an HTML page's `<title>`, if it has one.
fn html_title(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    Some(text[start..end].trim()).filter(|t| !t.is_empty())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The first 300 characters of a body, on one line, for messages.
fn excerpt(text: &str) -> String {
    const MAX: usize = 300;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "(empty body)".into();
    }
    let flat = one_line(trimmed);
    match flat.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}… ({} bytes)", &flat[..at], trimmed.len()),
        None => flat,
    }
}

fn classify_send_error(e: &reqwest::Error) -> Failure {
    if e.is_connect() {
        Failure::Connect(error_chain(e))
    } else if e.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Dropped(error_chain(e))
    }
}

/// An error and its sources on one line (reqwest's own Display hides the interesting cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` as delta-seconds. An HTTP-date is not parsed (the backoff delay applies).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A seed for backoff jitter that differs between runs and clients (backon without its `std`
/// feature would otherwise jitter the same way in every process).
fn jitter_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, serde::Deserialize)]
    struct Count {
        #[serde(rename = "totalSims")]
        total_sims: u64,
    }

    fn json_body(text: &str) -> Body<'_> {
        Body {
            status: 200,
            content_type: Some("application/json"),
            text,
        }
    }

    #[test]
    fn a_page_that_is_not_json_is_summarised_on_one_line() {
        let page = format!(
            "<!DOCTYPE html>\n<html><head>\n<TITLE> 404\n Not Found </TITLE></head>\n<body>{}</body></html>",
            "<p>x</p>\n".repeat(20)
        );
        let html = Body {
            status: 404,
            content_type: Some("text/html"),
            text: &page,
        };
        let summary = html.summary();
        assert_eq!(
            summary,
            format!(
                "HTTP 404, text/html, {} bytes, not the API's JSON: \"404 Not Found\"",
                page.len()
            )
        );
        let plain = Body {
            status: 502,
            content_type: None,
            text: "\n  upstream connect error or disconnect/reset before headers. reset reason: overflow and more text that goes on for longer than one hundred characters\nsecond line",
        };
        let summary = plain.summary();
        assert!(
            summary.starts_with("HTTP 502, no content type,"),
            "{summary}"
        );
        assert!(
            summary.ends_with("…\"") && !summary.contains("second line"),
            "{summary}"
        );
        let json = json_body("{\n\"errors\": [1]\n}");
        assert_eq!(json.summary(), "{ \"errors\": [1] }");
    }

    #[test]
    fn decodes_payload_and_rejects_null_and_errors() {
        let ok: Count = decode_payload(
            &json_body(r#"{"data":{"listSims":{"totalSims":3}}}"#),
            "listSims",
        )
        .unwrap();
        assert_eq!(ok.total_sims, 3);
        assert!(matches!(
            decode_payload::<Count>(&json_body(r#"{"data":{"listSims":null}}"#), "listSims"),
            Err(Failure::Null)
        ));
        assert!(matches!(
            decode_payload::<Count>(&json_body(r#"{"data":null}"#), "listSims"),
            Err(Failure::Null)
        ));
        match decode_payload::<Count>(
            &json_body(r#"{"data":null,"errors":[{"message":"bad filter"},{"x":1}]}"#),
            "listSims",
        ) {
            Err(Failure::GraphQl(m)) => assert_eq!(m, vec!["bad filter", r#"{"x":1}"#]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode_payload::<Count>(&json_body(r#"{"data":{"listSims":{"totalSi"#), "listSims"),
            Err(Failure::Malformed(_))
        ));
        assert!(matches!(
            decode_payload::<Count>(
                &json_body(r#"{"data":{"listSims":{"totalSims":"x"}}}"#),
                "listSims"
            ),
            Err(Failure::Malformed(_))
        ));
        // An empty errors array is no error.
        assert!(decode_payload::<Count>(
            &json_body(r#"{"data":{"listSims":{"totalSims":0}},"errors":[]}"#),
            "listSims"
        )
        .is_ok());
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn start_batch_job_is_not_resent_when_the_outcome_is_unknown() {
        for f in [
            Failure::Timeout,
            Failure::Dropped(String::new()),
            Failure::Server(502, String::new()),
            Failure::Null,
            Failure::Malformed(String::new()),
        ] {
            assert!(!f.retryable(Safety::NotIdempotent), "{f:?}");
            assert!(f.retryable(Safety::Idempotent), "{f:?}");
            assert!(f.outcome_unknown(), "{f:?}");
        }
        assert!(Failure::Connect(String::new()).retryable(Safety::NotIdempotent));
        assert!(Failure::RateLimited(None).retryable(Safety::NotIdempotent));
        assert!(!Failure::GraphQl(vec![]).retryable(Safety::Idempotent));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = "tok-SECRET-1234567890";
        let config = ClientConfig::new("http://127.0.0.1:9/graphql", SecretString::from(token));
        let client = Client::new(config.clone()).unwrap();
        for shown in [format!("{config:?}"), format!("{client:?}")] {
            assert!(!shown.contains(token), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
        let bad = ClientConfig::new("http://x/", SecretString::from("bad\ntoken-SECRET"));
        let err = Client::new(bad).unwrap_err().to_string();
        assert!(!err.contains("SECRET"), "{err}");
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_decode_to_a_value_or_an_error(body in ".{0,200}") {
            let _ = decode_payload::<Count>(&json_body(&body), "listSims");
        }

        #[test]
        fn arbitrary_json_bodies_never_panic(
            data in prop_oneof![
                Just("null".to_string()),
                Just("{}".to_string()),
                Just(r#"{"listSims":null}"#.to_string()),
                Just(r#"{"listSims":{"totalSims":-1}}"#.to_string()),
                "[0-9a-z\"{}:,\\[\\]]{0,40}",
            ],
            errors in prop_oneof![
                Just("null".to_string()),
                Just("[]".to_string()),
                Just(r#"[{"message":"m"}]"#.to_string()),
                Just(r#""oops""#.to_string()),
                Just("[1,2]".to_string()),
            ],
        ) {
            let body = format!(r#"{{"data":{data},"errors":{errors}}}"#);
            let decoded = decode_payload::<Count>(&json_body(&body), "listSims");
            if errors != "null" && errors != "[]" {
                prop_assert!(decoded.is_err());
            }
        }
    }
}
