//! The spec files' serde model: exactly what a YAML file may contain, with a location on every
//! value, and the JSON Schemas generated from these same types.
//!
//! Values are kept as written ([`RawScalar`]) and given meaning only afterwards, in
//! `build.rs`: that way one bad value does not stop the file, every problem is reported at
//! once, and an ICCID YAML turned into a number can still be told apart from a quoted one.
//! Unknown keys are collected (not fatal) so a typo does not hide the file's other problems;
//! the schema still forbids them, and duplicate keys are rejected by the parser. An explicit
//! empty value (`status:`) reaches the validator as `RawScalar::Null` rather than meaning
//! "not set". Leaf types carry a marker type parameter only so that the generated
//! schema can describe each field's values precisely.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::spec::values::RawScalar;

/// A value and where it was written (1-based line and column).
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub line: u32,
    pub col: u32,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(Located {
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            col: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
            value: spanned.value,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// Deserialises a struct of optional keys from a mapping, collecting unknown keys (with their
/// locations) in its `unknown` field instead of failing: a typo then costs one diagnostic, not
/// the rest of the file's checks. The schema still says `additionalProperties: false`.
macro_rules! tolerant_mapping {
    ($ty:ident, $expecting:literal, { $($key:literal => $field:ident: $how:ident),* $(,)? }) => {
        impl $ty {
            /// The keys this mapping accepts, for messages.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MappingVisitor;
                impl<'de> Visitor<'de> for MappingVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        while let Some(key) = map.next_key::<Located<String>>()? {
                            match key.value.as_str() {
                                $($key => tolerant_mapping!(@assign $how, out.$field, map),)*
                                _ => {
                                    map.next_value::<de::IgnoredAny>()?;
                                    out.unknown.push(key);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                // `any`, not `map`: a null or a scalar then reaches the visitor, whose
                // `expecting` names the key ("`set` must be a mapping of fields, not null").
                deserializer.deserialize_any(MappingVisitor)
            }
        }
    };
    (@assign present, $place:expr, $map:ident) => {
        $place = Some($map.next_value()?)
    };
    (@assign nullable, $place:expr, $map:ident) => {
        $place = $map.next_value()?
    };
}

/// A mapping whose keys all hold one kind of value (`expect:`, `limit:`): one list of keys makes
/// the struct (each key optional, unknown keys collected), its schema and its deserialiser.
macro_rules! uniform_mapping {
    (
        $(#[$meta:meta])*
        $ty:ident of $value:ty as $schema:literal,
        $expecting:literal,
        { $($(#[$field_meta:meta])* $key:literal => $field:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[schemars(extend("minProperties" = 1))]
        pub struct $ty {
            $(
                $(#[$field_meta])*
                #[serde(default)]
                #[schemars(with = $schema)]
                pub $field: Option<Located<$value>>,
            )*
            /// Keys that are none of the above, reported by the validator.
            #[serde(skip)]
            pub unknown: Vec<Located<String>>,
        }

        tolerant_mapping!($ty, $expecting, { $($key => $field: present),* });
    };
}

/// The scalar `visit_*` methods of a visitor whose value wraps one scalar in `$wrap` (a match
/// value and an expected value read a single value the same way).
macro_rules! scalar_visits {
    ($wrap:path) => {
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Bool(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Int(v.into())))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Int(v.into())))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Float(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Str(v.to_string())))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Null))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(RawScalar::Null))
        }
    };
}

impl<'de> Deserialize<'de> for RawScalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = RawScalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value (a scalar), not a list or mapping")
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawScalar, E> {
                Ok(RawScalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawScalar, E> {
                Ok(RawScalar::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawScalar, E> {
                Ok(RawScalar::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<RawScalar, E> {
                Ok(RawScalar::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<RawScalar, E> {
                Ok(RawScalar::Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawScalar, E> {
                Ok(RawScalar::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawScalar, E> {
                Ok(RawScalar::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawScalar, E> {
                Ok(RawScalar::Str(v))
            }
            fn visit_unit<E>(self) -> Result<RawScalar, E> {
                Ok(RawScalar::Null)
            }
            fn visit_none<E>(self) -> Result<RawScalar, E> {
                Ok(RawScalar::Null)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A scalar whose meaning (and schema) is given by the marker `K`.
#[derive(Debug, Clone)]
pub struct Scalar<K> {
    pub raw: RawScalar,
    kind: PhantomData<K>,
}

impl<'de, K> Deserialize<'de> for Scalar<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Scalar {
            raw: RawScalar::deserialize(deserializer)?,
            kind: PhantomData,
        })
    }
}

impl<K: JsonSchema> JsonSchema for Scalar<K> {
    fn inline_schema() -> bool {
        K::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        K::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        K::json_schema(generator)
    }
}

macro_rules! value_kind {
    ($(#[$doc:meta])* $name:ident, $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {}
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

const SIZE_PATTERN: &str = r"^(unlimited|[0-9]+(\.[0-9]+)? ?(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)?)$";

value_kind!(
    /// Bytes, a size with a case-sensitive unit, or `unlimited`.
    DataLimit,
    json_schema!({
        "description": "Monthly data limit: bytes, a size with a case-sensitive unit (B kB MB GB TB = powers of 10, KiB MiB GiB TiB = powers of 2), or `unlimited`. 0 is not allowed: write `unlimited`.",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": i64::MAX},
            {"type": "string", "pattern": SIZE_PATTERN}
        ],
        "examples": ["500MB", "1GiB", "1.5GB", "unlimited"]
    })
);
value_kind!(
    /// 1 ..= 2³¹−1 or `unlimited`.
    SmsLimit,
    json_schema!({
        "description": "Monthly SMS limit: 1 to 2147483647, or `unlimited`.",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": i32::MAX},
            {"const": "unlimited"}
        ]
    })
);
value_kind!(
    /// Seconds, 1 ..= 2⁶³−1, or `unlimited`.
    VoiceLimit,
    json_schema!({
        "description": "Monthly outgoing voice limit in seconds, or `unlimited`.",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": i64::MAX},
            {"const": "unlimited"}
        ]
    })
);
value_kind!(
    /// Any status by name or id (for matching).
    StatusName,
    json_schema!({
        "description": "A SIM status by name (case-insensitive, hyphen or space: `activated`, `test-ready`) or id (1-20).",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 20},
            {"type": "string", "examples": ["activated", "deactivated", "suspended", "test-ready", "activation-ready", "retired"]}
        ]
    })
);
value_kind!(
    /// A status a spec may set.
    SettableStatus,
    json_schema!({
        "description": "The status to set: activated (2), deactivated (5), suspended (12), test-ready (6), activation-ready (8) or retired (7), by name or id.",
        "anyOf": [
            {"enum": [2, 5, 6, 7, 8, 12]},
            {"type": "string", "examples": ["activated", "deactivated", "suspended", "test-ready", "activation-ready", "retired"]}
        ]
    })
);
value_kind!(
    /// A provider by name or id.
    ProviderName,
    json_schema!({
        "description": "A provider (product) by name (connect+, tech+ pro, tech+, data+, link+) or id (1-5).",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 5},
            {"type": "string", "examples": ["connect+", "tech+ pro", "tech+", "data+", "link+"]}
        ]
    })
);
value_kind!(
    /// `off`, `auto` or a quoted IMEI.
    ImeiLockValue,
    json_schema!({
        "description": "`off`, `auto` (lock to the next device seen) or a quoted 15-digit IMEI.",
        "type": "string",
        "pattern": "^(off|auto|[0-9]{15})$"
    })
);
value_kind!(
    /// Text, or `none` to remove it.
    TextOrNone,
    json_schema!({
        "description": "Text to set, or `none` to remove the value.",
        "type": "string",
        "minLength": 1
    })
);
value_kind!(
    /// A quoted full ICCID.
    Iccid,
    json_schema!({
        "description": "A full ICCID in quotes: 19-20 digits.",
        "type": "string",
        "pattern": "^[0-9]{19,20}$"
    })
);
value_kind!(
    /// A quoted IMEI.
    Imei,
    json_schema!({
        "description": "A 15-digit IMEI in quotes.",
        "type": "string",
        "pattern": "^[0-9]{15}$"
    })
);
value_kind!(
    /// A quoted string of digits (IMSI, MSISDN).
    Digits,
    json_schema!({
        "description": "Digits, in quotes.",
        "type": "string",
        "pattern": "^[0-9]+$"
    })
);
value_kind!(
    /// Text to match, or `none` for no value.
    Text,
    json_schema!({
        "description": "Text to match exactly, or `none` to match SIMs without a value.",
        "type": "string"
    })
);

/// How one match key is written: one value (eq), a list (in), or `{prefix: ...}`.
#[derive(Debug, Clone)]
pub enum MatchForm {
    One(RawScalar),
    Many(Vec<Located<RawScalar>>),
    Prefix(Located<RawScalar>),
}

/// One match key's value; `K` describes the values, `PREFIX` whether `{prefix: ...}` is valid.
#[derive(Debug, Clone)]
pub struct MatchValue<K, const PREFIX: bool> {
    pub form: MatchForm,
    kind: PhantomData<K>,
}

impl<'de, K, const PREFIX: bool> Deserialize<'de> for MatchValue<K, PREFIX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FormVisitor;
        impl<'de> Visitor<'de> for FormVisitor {
            type Value = MatchForm;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or {prefix: ...}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MatchForm, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Located<RawScalar>>()? {
                    items.push(item);
                }
                Ok(MatchForm::Many(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MatchForm, A::Error> {
                let mut prefix = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "prefix" || prefix.is_some() {
                        return Err(de::Error::unknown_field(&key, &["prefix"]));
                    }
                    prefix = Some(map.next_value::<Located<RawScalar>>()?);
                }
                prefix
                    .map(MatchForm::Prefix)
                    .ok_or_else(|| de::Error::missing_field("prefix"))
            }
            scalar_visits!(MatchForm::One);
        }
        Ok(MatchValue {
            form: deserializer.deserialize_any(FormVisitor)?,
            kind: PhantomData,
        })
    }
}

impl<K: JsonSchema, const PREFIX: bool> JsonSchema for MatchValue<K, PREFIX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Match{}", K::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<K>();
        let mut forms = vec![
            one.clone(),
            json_schema!({"type": "array", "items": one, "minItems": 1}),
        ];
        if PREFIX {
            forms.push(json_schema!({
                "type": "object",
                "properties": {"prefix": {"type": "string", "minLength": 1}},
                "required": ["prefix"],
                "additionalProperties": false
            }));
        }
        json_schema!({
            "description": "A value (equals), a list (any of), or {prefix: ...} (begins with) where allowed.",
            "anyOf": forms
        })
    }
}

/// The keys of a `match:` mapping: the API's `SimFilterInput`. Every key must hold.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1))]
pub struct MatchKeys {
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Iccid, true>>")]
    pub iccid: Option<Located<MatchValue<Iccid, true>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<StatusName, false>>")]
    pub status: Option<Located<MatchValue<StatusName, false>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<ProviderName, false>>")]
    pub provider: Option<Located<MatchValue<ProviderName, false>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Imei, true>>")]
    pub imei: Option<Located<MatchValue<Imei, true>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Digits, true>>")]
    pub imsi: Option<Located<MatchValue<Digits, true>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Digits, true>>")]
    pub msisdn: Option<Located<MatchValue<Digits, true>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Text, true>>")]
    pub custom_field_1: Option<Located<MatchValue<Text, true>>>,
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<Text, true>>")]
    pub end_customer_label: Option<Located<MatchValue<Text, true>>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(MatchKeys, "`match` must be `all` or a mapping of match keys", {
    "iccid" => iccid: present,
    "status" => status: present,
    "provider" => provider: present,
    "imei" => imei: present,
    "imsi" => imsi: present,
    "msisdn" => msisdn: present,
    "custom_field_1" => custom_field_1: present,
    "end_customer_label" => end_customer_label: present,
});

/// A rule's `match:`: `all`, or a mapping of keys that must all hold.
#[derive(Debug, Clone)]
pub enum MatchDocument {
    All,
    /// `match:` with no value.
    Null,
    /// Written as something other than `all` or a mapping; the validator explains.
    Invalid(RawScalar),
    Keys(Box<MatchKeys>),
}

impl<'de> Deserialize<'de> for MatchDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MatchVisitor;
        impl<'de> Visitor<'de> for MatchVisitor {
            type Value = MatchDocument;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`all` or a mapping of match keys")
            }
            fn visit_str<E>(self, v: &str) -> Result<MatchDocument, E> {
                Ok(if v == "all" {
                    MatchDocument::All
                } else {
                    MatchDocument::Invalid(RawScalar::Str(v.to_string()))
                })
            }
            fn visit_bool<E>(self, v: bool) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Invalid(RawScalar::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Invalid(RawScalar::Int(v.into())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Invalid(RawScalar::Int(v.into())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Invalid(RawScalar::Float(v)))
            }
            fn visit_unit<E>(self) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Null)
            }
            fn visit_none<E>(self) -> Result<MatchDocument, E> {
                Ok(MatchDocument::Null)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MatchDocument, A::Error> {
                MatchKeys::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|keys| MatchDocument::Keys(Box::new(keys)))
            }
        }
        deserializer.deserialize_any(MatchVisitor)
    }
}

impl JsonSchema for MatchDocument {
    fn schema_name() -> Cow<'static, str> {
        "Match".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let keys = generator.subschema_for::<MatchKeys>();
        json_schema!({
            "description": "Which SIMs the rule applies to: `all`, or keys that must all hold (scalar = equals, list = any of, {prefix: ...} = begins with).",
            "anyOf": [{"const": "all"}, keys]
        })
    }
}

/// The fields a rule or a `sims:` entry sets: the API's `updateSim` arguments.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1))]
pub struct SetDocument {
    #[serde(default)]
    #[schemars(with = "Located<Scalar<SettableStatus>>")]
    pub status: Option<Located<Scalar<SettableStatus>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<DataLimit>>")]
    pub monthly_data_limit: Option<Located<Scalar<DataLimit>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<SmsLimit>>")]
    pub monthly_sms_mo_limit: Option<Located<Scalar<SmsLimit>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<SmsLimit>>")]
    pub monthly_sms_mt_limit: Option<Located<Scalar<SmsLimit>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<VoiceLimit>>")]
    pub monthly_voice_mo_limit: Option<Located<Scalar<VoiceLimit>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<TextOrNone>>")]
    pub custom_field_1: Option<Located<Scalar<TextOrNone>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<TextOrNone>>")]
    pub end_customer_label: Option<Located<Scalar<TextOrNone>>>,
    #[serde(default)]
    #[schemars(with = "Located<Scalar<ImeiLockValue>>")]
    pub imei_lock: Option<Located<Scalar<ImeiLockValue>>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(SetDocument, "`set` must be a mapping of fields", {
    "status" => status: present,
    "monthly_data_limit" => monthly_data_limit: present,
    "monthly_sms_mo_limit" => monthly_sms_mo_limit: present,
    "monthly_sms_mt_limit" => monthly_sms_mt_limit: present,
    "monthly_voice_mo_limit" => monthly_voice_mo_limit: present,
    "custom_field_1" => custom_field_1: present,
    "end_customer_label" => end_customer_label: present,
    "imei_lock" => imei_lock: present,
});

/// One entry of `rules:`.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = require_match_and_set)]
pub struct RuleDocument {
    /// Unique across all files; plans cite it.
    #[serde(default)]
    #[schemars(with = "Located<String>")]
    pub name: Option<Located<String>>,
    /// Required: `all`, or keys that must all hold.
    #[serde(rename = "match", default)]
    #[schemars(with = "Located<MatchDocument>")]
    pub match_: Option<Located<MatchDocument>>,
    /// Required, at least one field.
    #[serde(default)]
    #[schemars(with = "Located<SetDocument>")]
    pub set: Option<Located<SetDocument>>,
    /// Higher wins when rules set the same field of the same SIM; default 0.
    #[serde(default)]
    #[schemars(with = "Located<i64>")]
    pub priority: Option<Located<i64>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(RuleDocument, "a rule must be a mapping with name, match, set and priority", {
    "name" => name: present,
    "match" => match_: present,
    "set" => set: present,
    "priority" => priority: present,
});

/// `name`, `match` and `set` are optional to serde only so that their absence gets a located message
/// from the validator; in the schema they are required.
fn require_match_and_set(schema: &mut Schema) {
    schema.insert(
        "required".into(),
        serde_json::json!(["name", "match", "set"]),
    );
}

/// `sims:`: per-SIM entries keyed by quoted ICCID, in file order.
#[derive(Debug, Clone, Default)]
pub struct SimEntries(pub Vec<(Located<RawScalar>, Located<SetDocument>)>);

impl<'de> Deserialize<'de> for SimEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = SimEntries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of quoted ICCIDs to the fields to set")
            }
            fn visit_unit<E>(self) -> Result<SimEntries, E> {
                Ok(SimEntries::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SimEntries, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Located<RawScalar>>()? {
                    let Located { value, line, col } = map.next_value::<Located<EntryFields>>()?;
                    let value = Located {
                        value: value.0,
                        line,
                        col,
                    };
                    entries.push((key, value));
                }
                Ok(SimEntries(entries))
            }
        }
        deserializer.deserialize_any(EntriesVisitor)
    }
}

/// One `sims:` entry's fields: a [`SetDocument`] whose wrong-type message names the entry.
struct EntryFields(SetDocument);

impl<'de> Deserialize<'de> for EntryFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = EntryFields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a `sims:` entry must be a mapping of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntryFields, A::Error> {
                SetDocument::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(EntryFields)
            }
        }
        deserializer.deserialize_any(FieldsVisitor)
    }
}

impl JsonSchema for SimEntries {
    fn schema_name() -> Cow<'static, str> {
        "SimEntries".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let set = generator.subschema_for::<SetDocument>();
        json_schema!({
            "description": "One SIM by quoted ICCID: these fields beat every rule.",
            "type": "object",
            "propertyNames": {"pattern": "^[0-9]{19,20}$"},
            "additionalProperties": set
        })
    }
}

/// How one `expect` field is written: a value (equals), a list (any of), or a mapping of
/// operators (`none_of`, `not`, `at_most`, `at_least`, `present`, `absent`).
#[derive(Debug, Clone)]
pub enum ExpectForm {
    One(RawScalar),
    Many(Vec<Located<RawScalar>>),
    Ops(Box<ExpectOps>),
}

/// The operators of one `expect` field; the validator says which fields take which.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct ExpectOps {
    /// None of these values.
    #[serde(default)]
    #[schemars(with = "Vec<serde_json::Value>")]
    pub none_of: Option<Located<Vec<Located<RawScalar>>>>,
    /// Anything but this value.
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub not: Option<Located<RawScalar>>,
    /// A limit at or below this size or count (`unlimited` is above every number).
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub at_most: Option<Located<RawScalar>>,
    /// A limit at or above this size or count.
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub at_least: Option<Located<RawScalar>>,
    /// `present: true`: the text field has a value.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub present: Option<Located<RawScalar>>,
    /// `absent: true`: the text field has no value.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub absent: Option<Located<RawScalar>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(ExpectOps, "an `expect` operator mapping", {
    "none_of" => none_of: present,
    "not" => not: present,
    "at_most" => at_most: present,
    "at_least" => at_least: present,
    "present" => present: present,
    "absent" => absent: present,
});

/// One `expect` field's value, located.
#[derive(Debug, Clone)]
pub struct ExpectValue(pub ExpectForm);

impl<'de> Deserialize<'de> for ExpectValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FormVisitor;
        impl<'de> Visitor<'de> for FormVisitor {
            type Value = ExpectForm;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or an operator such as {at_most: ...}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExpectForm, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Located<RawScalar>>()? {
                    items.push(item);
                }
                Ok(ExpectForm::Many(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExpectForm, A::Error> {
                ExpectOps::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|ops| ExpectForm::Ops(Box::new(ops)))
            }
            scalar_visits!(ExpectForm::One);
        }
        Ok(ExpectValue(deserializer.deserialize_any(FormVisitor)?))
    }
}

impl JsonSchema for ExpectValue {
    fn schema_name() -> Cow<'static, str> {
        "ExpectValue".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let ops = generator.subschema_for::<ExpectOps>();
        json_schema!({
            "description": "A value (equals), a list (any of), or one operator: {none_of: [...]}, {not: ...}, {at_most: ...}, {at_least: ...} (limits; `unlimited` allowed), {present: true}, {absent: true} (text fields).",
            "anyOf": [
                {"type": ["string", "integer", "number", "boolean"]},
                {"type": "array", "minItems": 1},
                ops
            ]
        })
    }
}

uniform_mapping!(
    /// `expect:`: the fields every selected SIM must have after the plan, each with its test:
    /// the eight a spec sets, and the read-only ones the API returns (the end state of those is
    /// the live value).
    ExpectDocument of ExpectValue as "ExpectValue",
    "`expect` must be a mapping of fields",
    {
        "status" => status,
        "monthly_data_limit" => monthly_data_limit,
        "monthly_sms_mo_limit" => monthly_sms_mo_limit,
        "monthly_sms_mt_limit" => monthly_sms_mt_limit,
        "monthly_voice_mo_limit" => monthly_voice_mo_limit,
        "custom_field_1" => custom_field_1,
        "end_customer_label" => end_customer_label,
        "imei_lock" => imei_lock,
        "provider" => provider,
        "imei" => imei,
        "imsi" => imsi,
        "msisdn" => msisdn,
        "nwc" => nwc,
        "apn" => apn,
        "ip_address" => ip_address,
        "monthly_data_volume" => monthly_data_volume,
        "monthly_sms_mo" => monthly_sms_mo,
        "monthly_sms_mt" => monthly_sms_mt,
        "monthly_voice_mo" => monthly_voice_mo,
        "previous_month_data_volume" => previous_month_data_volume,
    }
);

/// `{at_most: N}` or `{at_most: "P%"}`: a count of SIMs, or a percentage of the selected ones.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtMostDocument {
    /// A number of SIMs, or `"P%"` of the SIMs the check selects.
    #[serde(default)]
    #[schemars(with = "CountOrPercent")]
    pub at_most: Option<Located<RawScalar>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(AtMostDocument, "`changes` must be a mapping with `at_most`", {
    "at_most" => at_most: present,
});

value_kind!(
    /// A count of SIMs or a percentage of the selected ones.
    CountOrPercent,
    json_schema!({
        "description": "A number of SIMs (0 or more), or a percentage of the selected SIMs in quotes (`\"5%\"`).",
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?%$"}
        ]
    })
);

/// One `limit` field: `{changes: {at_most: ...}}` (how many selected SIMs it changes on), or
/// for `status` `{to: [...], at_most: ...}` (transitions to these statuses), or for
/// `imei_unlocks` `{at_most: ...}`.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOps {
    /// How many selected SIMs the field changes on.
    #[serde(default)]
    #[schemars(with = "AtMostDocument")]
    pub changes: Option<Located<AtMostDocument>>,
    /// `status` only: the statuses counted.
    #[serde(default)]
    #[schemars(with = "Located<MatchValue<StatusName, false>>")]
    pub to: Option<Located<MatchValue<StatusName, false>>>,
    /// With `to`, or for `imei_unlocks`: at most this many SIMs (or `"P%"`).
    #[serde(default)]
    #[schemars(with = "CountOrPercent")]
    pub at_most: Option<Located<RawScalar>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(LimitOps, "a `limit` field must be a mapping", {
    "changes" => changes: present,
    "to" => to: present,
    "at_most" => at_most: present,
});

uniform_mapping!(
    /// `limit:`: constraints on the change the plan makes to the selected SIMs.
    LimitDocument of LimitOps as "LimitOps",
    "`limit` must be a mapping of fields",
    {
        "status" => status,
        "monthly_data_limit" => monthly_data_limit,
        "monthly_sms_mo_limit" => monthly_sms_mo_limit,
        "monthly_sms_mt_limit" => monthly_sms_mt_limit,
        "monthly_voice_mo_limit" => monthly_voice_mo_limit,
        "custom_field_1" => custom_field_1,
        "end_customer_label" => end_customer_label,
        "imei_lock" => imei_lock,
        /// Enabled IMEI locks the plan turns off.
        "imei_unlocks" => imei_unlocks,
    }
);

/// One entry of `checks:`.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = require_check_keys)]
#[schemars(extend("oneOf" = [{"required": ["expect"]}, {"required": ["limit"]}]))]
pub struct CheckDocument {
    /// Unique across all files (like rule names); plans cite it.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: Option<Located<String>>,
    /// `warn` (reported) or `deny` (blocks the plan, exit 3).
    #[serde(default)]
    #[schemars(with = "CheckLevelSchema")]
    pub level: Option<Located<RawScalar>>,
    /// What the check asks for, in words, shown with every failure.
    #[serde(default)]
    #[schemars(with = "String")]
    pub message: Option<Located<String>>,
    /// Which SIMs the check applies to: `all`, or match keys that must all hold.
    #[serde(default)]
    #[schemars(with = "Located<MatchDocument>")]
    pub select: Option<Located<MatchDocument>>,
    /// The end state every selected SIM must have after the plan.
    #[serde(default)]
    #[schemars(with = "Located<ExpectDocument>")]
    pub expect: Option<Located<ExpectDocument>>,
    /// Constraints on the change itself (instead of `expect`): how many selected SIMs a field
    /// changes on, which status transitions, how many IMEI unlocks.
    #[serde(default)]
    #[schemars(with = "Located<LimitDocument>")]
    pub limit: Option<Located<LimitDocument>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(CheckDocument, "a check must be a mapping with name, level, message, select, and expect or limit", {
    "name" => name: present,
    "level" => level: present,
    "message" => message: present,
    "select" => select: present,
    "expect" => expect: present,
    "limit" => limit: present,
});

/// How much a failing check matters: `warn` is reported, `deny` blocks the plan (exit 3).
#[derive(JsonSchema)]
#[schemars(rename = "CheckLevel")]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum CheckLevelSchema {
    Warn,
    Deny,
}

fn require_check_keys(schema: &mut Schema) {
    schema.insert(
        "required".into(),
        serde_json::json!(["name", "level", "message", "select"]),
    );
}

/// One entry of `waivers:`: the SIMs a check does not fail on, why, and until when.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = require_waiver_keys)]
#[schemars(extend("oneOf" = [{"required": ["match"]}, {"required": ["iccids"]}]))]
pub struct WaiverDocument {
    /// The name of the check waived.
    #[serde(default)]
    #[schemars(with = "String")]
    pub check: Option<Located<String>>,
    /// The SIMs waived, in `match` syntax (or `iccids`).
    #[serde(rename = "match", default)]
    #[schemars(with = "Located<MatchDocument>")]
    pub match_: Option<Located<MatchDocument>>,
    /// The SIMs waived, by quoted ICCID (or `match`).
    #[serde(default)]
    #[schemars(with = "Vec<Located<Scalar<Iccid>>>")]
    pub iccids: Option<Located<Vec<Located<RawScalar>>>>,
    /// Why: mandatory, shown with the waived SIMs.
    #[serde(default)]
    #[schemars(with = "String")]
    pub reason: Option<Located<String>>,
    /// The last day the waiver holds (`YYYY-MM-DD`, UTC): mandatory.
    #[serde(default)]
    #[schemars(with = "WaiverDate")]
    pub expires: Option<Located<RawScalar>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(WaiverDocument, "a waiver must be a mapping with check, match or iccids, reason and expires", {
    "check" => check: present,
    "match" => match_: present,
    "iccids" => iccids: present,
    "reason" => reason: present,
    "expires" => expires: present,
});

value_kind!(
    /// A calendar date.
    WaiverDate,
    json_schema!({
        "description": "The last day the waiver holds, `YYYY-MM-DD` (UTC).",
        "type": "string",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    })
);

fn require_waiver_keys(schema: &mut Schema) {
    schema.insert(
        "required".into(),
        serde_json::json!(["check", "reason", "expires"]),
    );
}

/// One spec file.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "simfleet spec file")]
pub struct SpecDocument {
    /// Rules: which SIMs (`match`) get which settings (`set`).
    #[serde(default)]
    #[schemars(with = "Vec<RuleDocument>")]
    pub rules: Option<Vec<Located<RuleDocument>>>,
    /// Per-SIM settings by quoted ICCID; they beat every rule.
    #[serde(default)]
    #[schemars(with = "SimEntries")]
    pub sims: Option<SimEntries>,
    /// Checks: what every selected SIM must look like after the plan.
    #[serde(default)]
    #[schemars(with = "Vec<CheckDocument>")]
    pub checks: Option<Vec<Located<CheckDocument>>>,
    /// Exceptions to checks, each with a reason and an expiry date.
    #[serde(default)]
    #[schemars(with = "Vec<WaiverDocument>")]
    pub waivers: Option<Vec<Located<WaiverDocument>>>,
    /// Keys that are none of the above, reported by the validator.
    #[serde(skip)]
    pub unknown: Vec<Located<String>>,
}

tolerant_mapping!(SpecDocument, "a spec file must be a mapping with rules, sims, checks and waivers", {
    "rules" => rules: nullable,
    "sims" => sims: nullable,
    "checks" => checks: nullable,
    "waivers" => waivers: nullable,
});
