//! The last guard of `fmt`: the formatted text must parse to the same YAML as the original
//! (allowing only the edits fmt makes: digits now quoted, a size's space dropped) and carry the
//! same comments in the same order. Otherwise the file is refused and left as it was.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::scan::scan_line;
use super::Refusal;

/// A YAML document as plain data, with any kind of key.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Text(String),
    /// A float keeps only an approximation of the digits written (a 20-digit ICCID).
    Float(f64),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Text(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(entry) = map.next_entry()? {
            items.push(entry);
        }
        Ok(Node::Map(items))
    }
}

/// Equal up to fmt's edits: digits that were a number are now text, and spaces in a scalar
/// (`500 MB`) may be gone.
fn same(a: &Node, b: &Node) -> bool {
    let squash = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::Text(x), Node::Text(y)) => x == y || squash(x) == squash(y),
        (Node::Float(x), Node::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Node::Float(f), Node::Text(t)) | (Node::Text(t), Node::Float(f)) => {
            t.bytes().all(|b| b.is_ascii_digit()) && t.parse::<f64>().ok() == Some(*f)
        }
        (Node::Seq(x), Node::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Node::Map(x), Node::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        _ => false,
    }
}

fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
    if text.trim().is_empty() {
        return Ok(Node::Null);
    }
    let options = serde_saphyr::options! {
        strict_booleans: true,
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// Every comment's text, in order.
fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| scan_line(line.trim_start()).ok())
        .filter_map(|s| s.comment.map(|c| c.trim_end().to_string()))
        .collect()
}

pub(super) fn same_meaning(original: &str, formatted: &str) -> Result<(), Refusal> {
    let before = parse(original).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line() as usize);
        Refusal::new(
            line,
            format!(
                "not valid YAML ({}); fix it first (`simfleet validate` shows where)",
                e.without_snippet()
            ),
        )
    })?;
    let after = parse(formatted).map_err(|e| {
        Refusal::new(
            0,
            format!("the formatted text would not parse ({e}); left unchanged — please report this simfleet bug"),
        )
    })?;
    if !same(&before, &after) {
        return Err(Refusal::new(
            0,
            "formatting would change a value; left unchanged — please report this simfleet bug",
        ));
    }
    if comments(original) != comments(formatted) {
        return Err(Refusal::new(
            0,
            "formatting would change or lose a comment; left unchanged — please report this simfleet bug",
        ));
    }
    Ok(())
}
