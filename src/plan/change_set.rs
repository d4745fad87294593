//! Change sets: what a group of SIMs change, stated once and shared. A [`super::SimChange`] is
//! an ICCID, an `Arc` of its change set, and its own live `from` values ([`super::packed`]).
//!
//! A million SIMs change in a few hundred distinct ways (the fields, their target values, the
//! sources, risk flags, implied marks and status paths), so a plan's memory grows with its
//! distinct change sets and the SIMs' ICCIDs and `from` values, not with its field changes.
//! [`SetInterner`] gives every distinct set one `Arc`: each run of the pass interns its own,
//! and runs are joined by re-interning the later run's sets ([`SetInterner::absorb`]). The
//! plan file's grouped layout ([`super::grouped`]) writes these sets as they are.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use crate::spec::{DesiredValue, Field, Origin};

use super::compare;
use super::flags::RiskFlags;
use super::model::FieldChange;
use super::value::FieldValue;
use super::via::Via;

/// One field of a change set: everything of a change but its `from` (and usage).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub field: Field,
    pub to: FieldValue,
    pub via: Via,
    pub source: Arc<Origin>,
    pub flags: RiskFlags,
    pub implied: bool,
}

impl Target {
    /// The target of one change.
    pub fn of(change: &FieldChange) -> Target {
        Target {
            field: change.field,
            to: change.to.clone(),
            via: change.via,
            source: change.source.clone(),
            flags: change.flags,
            implied: change.implied,
        }
    }

    /// True when `change` has this target (sources compared by pointer first).
    fn matches(&self, change: &FieldChange) -> bool {
        self.field == change.field
            && self.flags == change.flags
            && self.implied == change.implied
            && self.via == change.via
            && self.to == change.to
            && (Arc::ptr_eq(&self.source, &change.source) || self.source == change.source)
    }
}

/// The fields a group of SIMs change, and the mutations `apply` makes for them.
#[derive(Debug, PartialEq, Eq)]
pub struct ChangeSet {
    targets: Box<[Target]>,
    /// The non-implied changes as desired values (what the calls are grouped from), computed
    /// once per set instead of once per SIM.
    mutations: Box<[(Field, DesiredValue)]>,
}

impl ChangeSet {
    pub fn new(targets: Vec<Target>) -> ChangeSet {
        let mutations = targets
            .iter()
            .filter(|t| !t.implied)
            .map(|t| (t.field, compare::desired_from_api(t.field, &t.to)))
            .collect();
        ChangeSet {
            targets: targets.into_boxed_slice(),
            mutations,
        }
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The mutations (non-implied changes) of every SIM of the set, as desired values.
    pub fn mutations(&self) -> &[(Field, DesiredValue)] {
        &self.mutations
    }
}

/// The hasher every interner uses, so that two runs' sets with the same targets (and the same
/// source `Arc`s) land in the same bucket when the runs are joined.
fn hasher() -> impl Hasher {
    foldhash::fast::FixedState::default().build_hasher()
}

/// Hashes the targets of a SIM's changes; each source by pointer, which every change of one rule
/// shares (equal sources behind other pointers only cost a set of their own, never a wrong one:
/// sets are compared by value).
fn hash_changes(changes: &[FieldChange]) -> u64 {
    let mut h = hasher();
    changes.len().hash(&mut h);
    for c in changes {
        c.field.hash(&mut h);
        c.to.hash(&mut h);
        c.via.hash(&mut h);
        Arc::as_ptr(&c.source).hash(&mut h);
        c.flags.hash(&mut h);
        c.implied.hash(&mut h);
    }
    h.finish()
}

/// One `Arc` per distinct change set (see the module docs).
#[derive(Debug, Default)]
pub struct SetInterner {
    buckets: foldhash::HashMap<u64, Vec<Arc<ChangeSet>>>,
}

impl SetInterner {
    /// The shared set of one SIM's changes, made when it is new.
    pub fn intern(&mut self, changes: &[FieldChange]) -> Arc<ChangeSet> {
        let bucket = self.buckets.entry(hash_changes(changes)).or_default();
        let found = bucket.iter().find(|set| {
            set.targets.len() == changes.len()
                && set.targets.iter().zip(changes).all(|(t, c)| t.matches(c))
        });
        if let Some(set) = found {
            return set.clone();
        }
        let set = Arc::new(ChangeSet::new(changes.iter().map(Target::of).collect()));
        bucket.push(set.clone());
        set
    }

    /// Takes in a later run's sets. Returns, for each of its sets that this interner already
    /// had, the one to use instead (by the replaced set's address).
    pub fn absorb(
        &mut self,
        later: SetInterner,
    ) -> foldhash::HashMap<*const ChangeSet, Arc<ChangeSet>> {
        let mut replaced = foldhash::HashMap::default();
        for (hash, sets) in later.buckets {
            let bucket = self.buckets.entry(hash).or_default();
            for set in sets {
                match bucket.iter().find(|s| s.targets == set.targets) {
                    Some(kept) => {
                        replaced.insert(Arc::as_ptr(&set), kept.clone());
                    }
                    None => bucket.push(set),
                }
            }
        }
        replaced
    }
}
