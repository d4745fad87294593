//! A scripted HTTP/1.1 server on loopback for the client's fault tests: each request gets the
//! reply a handler chooses, including replies no well-behaved server sends (a body cut off
//! mid-stream, a connection that hangs). Raw TCP rather than axum so those faults are exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the stub answers.
pub(crate) enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Headers announcing `announced` bytes, then `body` (shorter), then the connection closes.
    Cut { announced: usize, body: String },
    /// Never answers.
    Hang,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply::Http {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub(crate) fn data(field: &str, value: Value) -> Reply {
        Reply::json(200, json!({ "data": { field: value } }))
    }
}

/// One request the stub received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Handler = Arc<dyn Fn(usize, &Value) -> Reply + Send + Sync>;

pub(crate) struct Stub {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// The most requests that were being answered at the same time.
    pub peak_in_flight: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// Requests being answered now, and the most there ever were.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    peak: Arc<AtomicUsize>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Serves `handler(request index, request body)` on 127.0.0.1:0.
    pub(crate) async fn start(
        handler: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static,
    ) -> Stub {
        Stub::start_with_latency(Duration::ZERO, handler).await
    }

    /// Like [`Stub::start`], holding every answer back by `latency`.
    pub(crate) async fn start_with_latency(
        latency: Duration,
        handler: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static,
    ) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/graphql", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = received.clone();
        let in_flight = Arc::new(InFlight::default());
        let peak_in_flight = in_flight.peak.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = log.clone();
                let in_flight = in_flight.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, handler, log, latency, &in_flight).await;
                });
            }
        });
        Stub {
            url,
            received,
            peak_in_flight,
            task,
        }
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve(
    mut socket: TcpStream,
    handler: Handler,
    log: Arc<Mutex<Vec<Received>>>,
    latency: Duration,
    in_flight: &InFlight,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    let index = {
        let mut log = log.lock().unwrap();
        log.push(Received {
            headers,
            body: body.clone(),
        });
        log.len() - 1
    };
    let now = in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
    in_flight.peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(latency).await;
    in_flight.now.fetch_sub(1, Ordering::SeqCst);
    match handler(index, &body) {
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            socket.write_all(out.as_bytes()).await?;
        }
        Reply::Cut { announced, body } => {
            let out = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\nconnection: close\r\n\r\n{body}"
            );
            socket.write_all(out.as_bytes()).await?;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }
    socket.shutdown().await
}

/// A fake `listSims` over a fixed list of ICCIDs: `iccid` filters (`eq`, `beginsWith`), order
/// asc/desc, `limit`, offset tokens. `drop_from` names a prefix whose pages silently lose their
/// last item (a short read).
pub(crate) fn fake_fleet(
    mut iccids: Vec<String>,
    drop_from: Option<String>,
) -> impl Fn(usize, &Value) -> Reply + Send + Sync + 'static {
    iccids.sort();
    move |_, body| {
        let vars = &body["variables"];
        let filter = &vars["filter"]["iccid"];
        let mut matching: Vec<&String> = iccids
            .iter()
            .filter(|i| match filter["beginsWith"].as_str() {
                Some(p) => i.starts_with(p),
                None => true,
            })
            .filter(|i| match filter["eq"].as_str() {
                Some(e) => i.as_str() == e,
                None => true,
            })
            .collect();
        if vars["order"]["iccid"] == "desc" {
            matching.reverse();
        }
        let total = matching.len();
        let limit = vars["limit"].as_u64().unwrap_or(100) as usize;
        let offset: usize = vars["nextToken"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let end = (offset + limit).min(total);
        let mut items: Vec<Value> = matching[offset.min(end)..end]
            .iter()
            .map(|i| json!({"iccid": i, "statusid": 2, "providerid": 5}))
            .collect();
        let short = drop_from.as_deref().is_some_and(|p| {
            filter["beginsWith"]
                .as_str()
                .is_some_and(|b| b.starts_with(p))
        });
        if short && end == total {
            items.pop();
        }
        let next = (end < total).then(|| end.to_string());
        Reply::data(
            "listSims",
            json!({"items": items, "nextToken": next, "totalSims": total}),
        )
    }
}
