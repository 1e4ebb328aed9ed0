//! An SA's algorithm names, shared between the SAs that use the same ones.
//!
//! A router has tens of thousands of SAs but a handful of algorithm
//! combinations: four heap strings per SA would be ~100 bytes of every SA
//! row and four allocations per SA per poll. Converting `AlgorithmNames`
//! into `Algorithms` shares each combination (interned once), and every SA
//! holds a pointer; readers see the names through `Deref`.
//!
//! Security: names only (e.g. "cbc(aes)"), never key material.

use std::collections::HashSet;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// The kernel's algorithm names of one SA (`None` = attribute absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AlgorithmNames {
    pub enc_alg: Option<String>,
    pub auth_alg: Option<String>,
    pub aead_alg: Option<String>,
    pub comp_alg: Option<String>,
}

/// A shared, immutable [`AlgorithmNames`]; serializes as the names
/// themselves, so `show --json` keeps its `enc_alg`, … fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Algorithms(Arc<AlgorithmNames>);

/// Distinct combinations kept before the interner forgets the unused ones:
/// far above what a router configures, low enough to never matter.
const INTERNED_MAX: usize = 64;

static INTERNED: Mutex<Option<HashSet<Arc<AlgorithmNames>>>> = Mutex::new(None);

impl AlgorithmNames {
    /// The shared copy of these names (allocated once per combination).
    fn intern(self) -> Algorithms {
        let mut guard = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
        let set = guard.get_or_insert_with(HashSet::new);
        if let Some(known) = set.get(&self) {
            return Algorithms(Arc::clone(known));
        }
        if set.len() >= INTERNED_MAX {
            // Only the set holds these: no SA uses them any more.
            set.retain(|names| Arc::strong_count(names) > 1);
        }
        let shared = Arc::new(self);
        set.insert(Arc::clone(&shared));
        Algorithms(shared)
    }
}

impl From<AlgorithmNames> for Algorithms {
    fn from(names: AlgorithmNames) -> Self {
        names.intern()
    }
}

/// No algorithms (the shared copy: a parser starting from this allocates
/// nothing).
impl Default for Algorithms {
    fn default() -> Self {
        AlgorithmNames::default().intern()
    }
}

impl Deref for Algorithms {
    type Target = AlgorithmNames;

    fn deref(&self) -> &AlgorithmNames {
        &self.0
    }
}

impl Serialize for Algorithms {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcm() -> AlgorithmNames {
        AlgorithmNames {
            aead_alg: Some("rfc4106(gcm(aes))".into()),
            ..AlgorithmNames::default()
        }
    }

    #[test]
    fn equal_names_share_one_allocation() {
        let (a, b) = (gcm().intern(), gcm().intern());
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a.aead_alg.as_deref(), Some("rfc4106(gcm(aes))"));
    }

    #[test]
    fn the_interner_stays_bounded() {
        let kept = gcm().intern();
        for i in 0..3 * INTERNED_MAX {
            AlgorithmNames {
                enc_alg: Some(format!("cbc(test{i})")),
                ..AlgorithmNames::default()
            }
            .intern();
        }
        let len = INTERNED.lock().unwrap().as_ref().map_or(0, HashSet::len);
        assert!(len <= INTERNED_MAX, "{len} combinations kept");
        assert!(Arc::ptr_eq(&kept.0, &gcm().intern().0), "in use: kept");
    }

    #[test]
    fn serializes_as_the_names() {
        let json = serde_json::to_string(&gcm().intern()).unwrap();
        assert_eq!(
            json,
            r#"{"enc_alg":null,"auth_alg":null,"aead_alg":"rfc4106(gcm(aes))","comp_alg":null}"#
        );
    }
}
