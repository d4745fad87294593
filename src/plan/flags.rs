//! [`RiskFlags`]: the set of risk flags of one change.
//!
//! A bit set rather than a `Vec<RiskFlag>`: one byte instead of 24 plus an allocation, for each
//! of the millions of changes in a large plan. It serialises as the list of its flags in their
//! declaration order, which is the JSON plans have always had.

use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::model::RiskFlag;

/// Every flag, in declaration (and serialisation) order.
const ALL: [RiskFlag; 7] = [
    RiskFlag::StatusCut,
    RiskFlag::Irreversible,
    RiskFlag::ImeiUnlock,
    RiskFlag::LoweredLimit,
    RiskFlag::RestoresService,
    RiskFlag::UsageCut,
    RiskFlag::NearUsage,
];

fn bit(flag: RiskFlag) -> u8 {
    1 << (flag as u8)
}

/// A set of [`RiskFlag`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct RiskFlags(u8);

impl RiskFlags {
    pub fn contains(&self, flag: RiskFlag) -> bool {
        self.0 & bit(flag) != 0
    }

    pub fn insert(&mut self, flag: RiskFlag) {
        self.0 |= bit(flag);
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The flags in declaration order.
    pub fn iter(&self) -> RiskFlagsIter {
        RiskFlagsIter {
            flags: *self,
            next: 0,
        }
    }
}

impl From<RiskFlag> for RiskFlags {
    fn from(flag: RiskFlag) -> RiskFlags {
        RiskFlags(bit(flag))
    }
}

impl FromIterator<RiskFlag> for RiskFlags {
    fn from_iter<I: IntoIterator<Item = RiskFlag>>(flags: I) -> RiskFlags {
        let mut set = RiskFlags::default();
        for flag in flags {
            set.insert(flag);
        }
        set
    }
}

/// Iterates a [`RiskFlags`] in declaration order.
pub struct RiskFlagsIter {
    flags: RiskFlags,
    next: usize,
}

impl Iterator for RiskFlagsIter {
    type Item = &'static RiskFlag;

    fn next(&mut self) -> Option<&'static RiskFlag> {
        while let Some(flag) = ALL.get(self.next) {
            self.next += 1;
            if self.flags.contains(*flag) {
                return Some(flag);
            }
        }
        None
    }
}

impl IntoIterator for &RiskFlags {
    type Item = &'static RiskFlag;
    type IntoIter = RiskFlagsIter;

    fn into_iter(self) -> RiskFlagsIter {
        self.iter()
    }
}

impl Serialize for RiskFlags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for flag in self {
            seq.serialize_element(flag)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for RiskFlags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RiskFlags, D::Error> {
        Ok(Vec::<RiskFlag>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_the_list_of_flags_in_declaration_order() {
        let flags: RiskFlags = [RiskFlag::RestoresService, RiskFlag::StatusCut]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&flags).unwrap();
        assert_eq!(json, r#"["status_cut","restores_service"]"#);
        let back: RiskFlags = serde_json::from_str(&json).unwrap();
        assert_eq!(back, flags);
        assert_eq!(back.len(), 2);
        assert!(back.contains(RiskFlag::StatusCut) && !back.contains(RiskFlag::ImeiUnlock));
        assert_eq!(serde_json::to_string(&RiskFlags::default()).unwrap(), "[]");
        for flag in ALL {
            assert_eq!(
                RiskFlags::from(flag).iter().copied().collect::<Vec<_>>(),
                vec![flag]
            );
        }
        assert!(serde_json::from_str::<RiskFlags>(r#"["no_such_flag"]"#).is_err());
    }
}
