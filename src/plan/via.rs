//! [`Via`]: the statuses a multi-step status change passes through, stored inline.
//!
//! Every change set's status target carries one (and every `FieldChange` built from it), almost
//! always empty: a boxed slice would add 16 bytes and an allocation to each, while five bytes
//! fit in the padding the structs already have. A
//! path passes only through statuses of the reference (ids 1 to 20, see [`super::paths`]), so
//! each id fits a byte, and at most [`MAX_VIA`] of them (six steps; the reference's table has
//! seven statuses a path may pass through, and real paths take two or three steps). In JSON it
//! is the list of status ids, as the plan file has always written lists.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most statuses one path may pass through.
pub const MAX_VIA: usize = 5;

/// Status ids in order, zero-terminated (no status has id 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Via([u8; MAX_VIA]);

impl Via {
    /// `None` when the path is too long or passes through an id that is no byte.
    pub fn new(ids: &[i32]) -> Option<Via> {
        if ids.len() > MAX_VIA {
            return None;
        }
        let mut out = [0u8; MAX_VIA];
        for (slot, id) in out.iter_mut().zip(ids) {
            *slot = u8::try_from(*id).ok().filter(|b| *b != 0)?;
        }
        Some(Via(out))
    }

    pub fn len(&self) -> usize {
        self.0.iter().take_while(|b| **b != 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    pub fn get(&self, index: usize) -> Option<i32> {
        self.iter().nth(index)
    }

    /// The status ids in order.
    pub fn iter(&self) -> impl Iterator<Item = i32> + Clone + '_ {
        self.0
            .iter()
            .take_while(|b| **b != 0)
            .map(|b| i32::from(*b))
    }

    pub fn to_vec(&self) -> Vec<i32> {
        self.iter().collect()
    }
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Via {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Via, D::Error> {
        let ids = Vec::<i32>::deserialize(deserializer)?;
        Via::new(&ids).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a status path passes through at most {MAX_VIA} statuses, each an id from 1 to 255: {ids:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_it_cannot_hold() {
        let via = Via::new(&[2, 5]).expect("fits");
        assert_eq!(via.len(), 2);
        assert_eq!(via.to_vec(), vec![2, 5]);
        assert_eq!(via.get(1), Some(5));
        assert_eq!(via.get(2), None);
        assert_eq!(serde_json::to_string(&via).expect("json"), "[2,5]");
        let back: Via = serde_json::from_str("[2,5]").expect("parses");
        assert_eq!(back, via);
        assert!(Via::default().is_empty());
        assert!(Via::new(&[1, 2, 3, 4, 5, 6]).is_none());
        assert!(Via::new(&[0]).is_none());
        assert!(Via::new(&[300]).is_none());
        assert!(serde_json::from_str::<Via>("[2,-1]").is_err());
    }

    #[test]
    fn fits_in_the_padding_of_a_field_change_and_a_target() {
        // 24 + 24 (from, to) + 8 (source) + 16 (usage) + 1 + 1 + 1 (field, flags, implied)
        // leave 5 bytes of padding in 80: `via` takes them. A change set's target is the same
        // without `from` and `usage`.
        assert!(std::mem::size_of::<crate::plan::FieldChange>() <= 80);
        assert!(std::mem::size_of::<crate::plan::change_set::Target>() <= 40);
    }
}
