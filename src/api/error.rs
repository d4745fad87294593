//! `ApiError`: everything that can go wrong talking to the wherever SIM API, each naming the
//! GraphQL operation and saying what to try.
//!
//! The variants follow what a caller must decide: retry (the client already did), fix
//! credentials, fix the request, or — for `startBatchJob` only — find out whether a job was
//! started (`OutcomeUnknown`). No variant ever holds the API token.

use std::time::Duration;

/// A failed API call. `operation` is the GraphQL operation name, e.g. `ListSims`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{operation}: cannot reach {endpoint}: {detail}. Check the network and the endpoint (--endpoint)")]
    Unreachable {
        operation: &'static str,
        endpoint: String,
        detail: String,
    },
    #[error("{operation}: no answer within {timeout:?} ({attempts} attempt(s)). The API may be overloaded; try again later or raise the request timeout")]
    Timeout {
        operation: &'static str,
        timeout: Duration,
        attempts: u32,
    },
    #[error("{operation}: the connection failed during the request ({attempts} attempt(s)): {detail}. Try again")]
    Connection {
        operation: &'static str,
        attempts: u32,
        detail: String,
    },
    #[error("{operation}: the API refused the token (HTTP {status}){}. Check WHEREVER_SIM_TOKEN / --token-file", server_messages(.messages))]
    Unauthorized {
        operation: &'static str,
        status: u16,
        messages: Vec<String>,
    },
    #[error("{operation}: rate limited by the API (HTTP 429) after {attempts} attempt(s){}. Lower the request rate (--rate) or try again later", retry_after_note(.retry_after))]
    RateLimited {
        operation: &'static str,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("{operation}: the API failed with HTTP {status} after {attempts} attempt(s): {body}. Try again later")]
    Server {
        operation: &'static str,
        status: u16,
        attempts: u32,
        body: String,
    },
    #[error("{operation}: unexpected HTTP {status}{}: {body}", server_messages(.messages))]
    HttpStatus {
        operation: &'static str,
        status: u16,
        messages: Vec<String>,
        body: String,
    },
    #[error("{operation}: the API sent a malformed or truncated answer ({attempts} attempt(s)): {detail}. Try again; if it persists, check the endpoint")]
    Malformed {
        operation: &'static str,
        attempts: u32,
        detail: String,
    },
    #[error("{operation}: the API answered with errors:{}", bullet_list(.messages))]
    GraphQl {
        operation: &'static str,
        messages: Vec<String>,
    },
    #[error("{operation}: the API answered `{field}: null` without an error ({attempts} attempt(s)); refusing to treat that as an empty result. Try again")]
    NullPayload {
        operation: &'static str,
        field: &'static str,
        attempts: u32,
    },
    #[error("ListSims: the API listed {got} SIM(s) for filter {filter} but counted {expected} (totalSims), also on a re-read. The fleet may be changing; try again")]
    ShortRead {
        filter: String,
        expected: u64,
        got: u64,
    },
    #[error("{operation}: unknown whether the request took effect: {cause}. Look the result up before sending it again")]
    OutcomeUnknown {
        operation: &'static str,
        cause: Box<ApiError>,
    },
    #[error("{operation}: refused to send: {reason}")]
    InvalidRequest {
        operation: &'static str,
        reason: String,
    },
    #[error("API client configuration: {0}")]
    Config(String),
}

impl ApiError {
    /// The GraphQL operation the error belongs to, if it belongs to one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            ApiError::Unreachable { operation, .. }
            | ApiError::Timeout { operation, .. }
            | ApiError::Connection { operation, .. }
            | ApiError::Unauthorized { operation, .. }
            | ApiError::RateLimited { operation, .. }
            | ApiError::Server { operation, .. }
            | ApiError::HttpStatus { operation, .. }
            | ApiError::Malformed { operation, .. }
            | ApiError::GraphQl { operation, .. }
            | ApiError::NullPayload { operation, .. }
            | ApiError::OutcomeUnknown { operation, .. }
            | ApiError::InvalidRequest { operation, .. } => Some(operation),
            ApiError::ShortRead { .. } => Some("ListSims"),
            ApiError::Config(_) => None,
        }
    }
}

fn server_messages(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        format!(" ({})", messages.join("; "))
    }
}

fn bullet_list(messages: &[String]) -> String {
    messages.iter().map(|m| format!("\n  - {m}")).collect()
}

fn retry_after_note(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (it asked to wait {}s)", d.as_secs()),
        None => String::new(),
    }
}
