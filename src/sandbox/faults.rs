//! Deterministic fault injection: whether and how a request fails depends only on the seed, the
//! request body and how many times that body was seen, so concurrent clients see reproducible
//! faults and a retried request can succeed.

use sha2::{Digest, Sha256};

/// One way a response can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500, 502 or 503 with a GraphQL errors body; nothing executed.
    ServerError(u16),
    /// HTTP 429 with `Retry-After: 1`; nothing executed.
    TooManyRequests,
    /// The connection is closed without a response; nothing executed.
    DroppedConnection,
    /// `{"data": {"<field>": null}}` without errors, as public client code reports the real
    /// service doing; nothing executed.
    NullPayload,
    /// The request is executed and the response body cut short.
    TruncatedBody,
    /// A mutation is executed (committed) and then the connection dropped.
    MutationCommittedThenDropped,
}

impl Fault {
    /// The key under which `/stats` counts this fault.
    pub fn stats_key(self) -> String {
        match self {
            Fault::ServerError(code) => format!("http_{code}"),
            Fault::TooManyRequests => "http_429".to_string(),
            Fault::DroppedConnection => "dropped_connection".to_string(),
            Fault::NullPayload => "null_payload".to_string(),
            Fault::TruncatedBody => "truncated_body".to_string(),
            Fault::MutationCommittedThenDropped => "mutation_committed_then_dropped".to_string(),
        }
    }
}

/// A digest of a request body, the key of its attempt counter.
pub fn body_digest(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

/// Decides the fault for the `attempt`-th sight (1-based) of a body, at `rate` in [0, 1].
pub fn decide(seed: u64, body: &[u8], attempt: u32, rate: f64, mutation: bool) -> Option<Fault> {
    if rate <= 0.0 {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(attempt.to_le_bytes());
    hasher.update(body);
    let h: [u8; 32] = hasher.finalize().into();
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    let draw = (word(0) >> 11) as f64 / (1u64 << 53) as f64;
    if draw >= rate {
        return None;
    }
    let kinds: &[Fault] = if mutation {
        &[
            Fault::ServerError(500),
            Fault::TooManyRequests,
            Fault::DroppedConnection,
            Fault::NullPayload,
            Fault::TruncatedBody,
            Fault::MutationCommittedThenDropped,
        ]
    } else {
        &[
            Fault::ServerError(500),
            Fault::TooManyRequests,
            Fault::DroppedConnection,
            Fault::NullPayload,
            Fault::TruncatedBody,
        ]
    };
    let kind = kinds[(word(1) % kinds.len() as u64) as usize];
    Some(match kind {
        Fault::ServerError(_) => Fault::ServerError([500, 502, 503][(word(2) % 3) as usize]),
        k => k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_rate_bounded() {
        let body = br#"{"query":"{ listSims(limit: 1) { totalSims } }"}"#;
        for attempt in 1..50 {
            assert_eq!(
                decide(7, body, attempt, 0.5, false),
                decide(7, body, attempt, 0.5, false)
            );
            assert_eq!(decide(7, body, attempt, 0.0, true), None);
            assert!(decide(7, body, attempt, 1.0, true).is_some());
            assert_ne!(
                decide(7, body, attempt, 1.0, false),
                Some(Fault::MutationCommittedThenDropped)
            );
        }
        let hits = (1..1000)
            .filter(|a| decide(1, body, *a, 0.2, false).is_some())
            .count();
        assert!((120..280).contains(&hits), "{hits}");
    }
}
