//! One SIM's live `from` values (and this month's usage where a limit is flagged against it),
//! packed into a few bytes: what a change to one SIM holds of its own, beside the change set it
//! shares with every SIM that changes the same way ([`super::change_set`]).
//!
//! A million-SIM plan where every SIM changes eight fields holds eight million `from` values; as
//! [`FieldValue`]s they cost 24 bytes each, packed about 3 (a limit is a tag and a varint, a
//! label its bytes). Values are unpacked on reading, in field order; the packing is private to
//! the process (the checksum and the plan file encode values their own way).

use super::value::FieldValue;

/// The low bits of a value's tag byte.
const NULL: u8 = 0;
const INT: u8 = 1;
const TEXT: u8 = 2;
const LOCK: u8 = 3;
/// Lock tag bits: enabled, and an IMEI follows.
const LOCK_ENABLED: u8 = 0x08;
const LOCK_IMEI: u8 = 0x10;
/// A usage (zigzag varint) follows the value.
const USAGE: u8 = 0x80;
const KIND: u8 = 0x07;

/// Packed `(from, usage)` pairs, one per field of a change set, in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Packed(Box<[u8]>);

impl Packed {
    /// Packs `(from, usage)` pairs in order.
    pub fn pack<'v>(values: impl IntoIterator<Item = (&'v FieldValue, Option<i64>)>) -> Packed {
        let mut out = Vec::with_capacity(16);
        for (value, usage) in values {
            push_value(&mut out, value, usage);
        }
        Packed(out.into_boxed_slice())
    }

    /// The pairs, unpacked, in the order they were packed.
    pub fn iter(&self) -> Unpack<'_> {
        Unpack { rest: &self.0 }
    }

    /// Bytes held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn push_value(out: &mut Vec<u8>, value: &FieldValue, usage: Option<i64>) {
    let usage_bit = if usage.is_some() { USAGE } else { 0 };
    match value {
        FieldValue::Null => out.push(NULL | usage_bit),
        FieldValue::Int(n) => {
            out.push(INT | usage_bit);
            push_varint(out, zigzag(*n));
        }
        FieldValue::Text(text) => {
            out.push(TEXT | usage_bit);
            push_bytes(out, text.as_bytes());
        }
        FieldValue::ImeiLock { enabled, imei } => {
            let enabled_bit = if *enabled { LOCK_ENABLED } else { 0 };
            let imei_bit = if imei.is_some() { LOCK_IMEI } else { 0 };
            out.push(LOCK | enabled_bit | imei_bit | usage_bit);
            if let Some(imei) = imei {
                push_bytes(out, imei.as_bytes());
            }
        }
    }
    if let Some(usage) = usage {
        push_varint(out, zigzag(usage));
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The unpacked `(from, usage)` pairs of a [`Packed`].
#[derive(Debug, Clone)]
pub struct Unpack<'a> {
    rest: &'a [u8],
}

impl Unpack<'_> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.rest.split_first().unwrap_or((&0, &[]));
        self.rest = rest;
        first
    }

    fn varint(&mut self) -> u64 {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        n
    }

    fn text(&mut self) -> Box<str> {
        let len = usize::try_from(self.varint()).unwrap_or(usize::MAX);
        let (bytes, rest) = self.rest.split_at(len.min(self.rest.len()));
        self.rest = rest;
        // Packed from a `str` by this module: always UTF-8, so nothing is ever replaced.
        String::from_utf8_lossy(bytes).into()
    }
}

impl Iterator for Unpack<'_> {
    type Item = (FieldValue, Option<i64>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let tag = self.byte();
        let value = match tag & KIND {
            INT => FieldValue::Int(unzigzag(self.varint())),
            TEXT => FieldValue::Text(self.text()),
            LOCK => FieldValue::ImeiLock {
                enabled: tag & LOCK_ENABLED != 0,
                imei: (tag & LOCK_IMEI != 0).then(|| self.text()),
            },
            _ => FieldValue::Null,
        };
        let usage = (tag & USAGE != 0).then(|| unzigzag(self.varint()));
        Some((value, usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            Just(FieldValue::Null),
            any::<i64>().prop_map(FieldValue::Int),
            ".{0,40}".prop_map(|t| FieldValue::Text(t.into())),
            (any::<bool>(), proptest::option::of("[0-9]{15}")).prop_map(|(enabled, imei)| {
                FieldValue::ImeiLock {
                    enabled,
                    imei: imei.map(Into::into),
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn what_is_packed_unpacks_the_same(
            pairs in proptest::collection::vec((value(), proptest::option::of(any::<i64>())), 0..10)
        ) {
            let packed = Packed::pack(pairs.iter().map(|(v, u)| (v, *u)));
            let back: Vec<_> = packed.iter().collect();
            prop_assert_eq!(back, pairs);
        }
    }

    #[test]
    fn a_limit_and_a_status_take_a_few_bytes() {
        let values = [FieldValue::Int(2), FieldValue::Int(500_000_000)];
        let packed = Packed::pack(values.iter().map(|v| (v, None)));
        assert_eq!(packed.len(), 2 + 1 + 5);
    }
}
