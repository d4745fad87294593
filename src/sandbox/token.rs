//! Opaque `nextToken`s: base64 of a small JSON cursor that names the query it belongs to.
//!
//! A cursor holds the last key returned (never an offset), so paging stays correct and cheap
//! while the fleet changes, and a digest of the filter and order, so a token replayed with
//! another query is refused instead of silently returning the wrong page. A null sort value
//! (a SIM without a data limit, a label, an IMEI) is a key like any other: the token says
//! `"v":null` and decodes back to it, so paging by a nullable field never dead-ends.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the previous page ended, and which query it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Digest of the query (filter, order, search) the token was issued for.
    pub q: String,
    /// The last key returned: an ICCID, a batch job id, a detail index, a label.
    pub k: String,
    /// The last sort value, for orders other than the key itself. `Some(Value::Null)` is a
    /// null key and is written as `"v":null`; `None` (no sort value) leaves `v` out.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub v: Option<serde_json::Value>,
}

/// `v` when the token has it, even when it is `null` (serde's `Option` would read that as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// A short digest naming a query; `parts` is its canonical text.
pub fn query_digest(parts: &str) -> String {
    let digest = Sha256::digest(parts.as_bytes());
    hex::encode(&digest[..8])
}

pub fn encode(cursor: &Cursor) -> String {
    // Serialising a struct of strings and a JSON value cannot fail.
    let json = serde_json::to_vec(cursor).unwrap_or_default();
    STANDARD.encode(json)
}

/// Decodes a client's token: `None` for absent or `""` (the first page, as in the reference's
/// walk-through), an error message for a malformed token or one from another query.
pub fn decode(token: Option<&str>, digest: &str) -> Result<Option<Cursor>, String> {
    let token = match token {
        None | Some("") => return Ok(None),
        Some(t) => t,
    };
    let bytes = STANDARD
        .decode(token)
        .map_err(|_| format!("malformed nextToken {token:?}: not a token this server issued"))?;
    let cursor: Cursor = serde_json::from_slice(&bytes)
        .map_err(|_| format!("malformed nextToken {token:?}: not a token this server issued"))?;
    if cursor.q != digest {
        return Err(format!(
            "nextToken {token:?} belongs to a query with another filter, order or search; \
             a nextToken is only valid with the arguments of the request that returned it"
        ));
    }
    Ok(Some(cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_mismatch() {
        let c = Cursor {
            q: query_digest("a"),
            k: "894900".into(),
            v: None,
        };
        let t = encode(&c);
        assert_eq!(decode(Some(&t), &query_digest("a")), Ok(Some(c)));
        assert!(decode(Some(&t), &query_digest("b")).is_err());
        assert_eq!(decode(Some(""), "x"), Ok(None));
        assert!(decode(Some("!!"), "x").is_err());
        assert!(decode(Some("eyJuZXh0X29mZnNldCI6NX0="), "x").is_err());
    }

    #[test]
    fn a_null_sort_value_survives_the_round_trip() {
        let null = Cursor {
            q: query_digest("a"),
            k: "894900".into(),
            v: Some(serde_json::Value::Null),
        };
        assert_eq!(
            decode(Some(&encode(&null)), &query_digest("a")),
            Ok(Some(null))
        );
    }
}
