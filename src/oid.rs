//! Object identifiers: a small owned type with SNMP's lexicographic order.
//!
//! `Oid` is shared by the AgentX codec, the MIB index and the config file
//! (`oid_root`), so it lives at the crate root rather than inside `agentx`.

use std::fmt;
use std::str::FromStr;

/// An SNMP object identifier. Ordering is the lexicographic order SNMP walks
/// use (sub-identifier by sub-identifier, a prefix sorts first), which is
/// exactly `Vec<u32>`'s derived `Ord`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(Vec<u32>);

/// RFC 2578 §3.5: at most 128 sub-identifiers.
pub const MAX_OID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidParseError {
    #[error("empty OID")]
    Empty,
    #[error("OID sub-identifier {0:?} is not a number in 0..=4294967295")]
    BadSubId(String),
    #[error("OID has more than {MAX_OID_LEN} sub-identifiers")]
    TooLong,
}

impl Oid {
    pub fn new(subids: Vec<u32>) -> Self {
        Oid(subids)
    }

    pub fn from_slice(subids: &[u32]) -> Self {
        Oid(subids.to_vec())
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// A new OID: `self` followed by `tail`.
    pub fn child(&self, tail: &[u32]) -> Oid {
        let mut v = Vec::with_capacity(self.0.len() + tail.len());
        v.extend_from_slice(&self.0);
        v.extend_from_slice(tail);
        Oid(v)
    }

    pub fn push(&mut self, subid: u32) {
        self.0.push(subid);
    }

    pub fn into_vec(self) -> Vec<u32> {
        self.0
    }
}

impl From<Vec<u32>> for Oid {
    fn from(v: Vec<u32>) -> Self {
        Oid(v)
    }
}

impl From<&[u32]> for Oid {
    fn from(v: &[u32]) -> Self {
        Oid(v.to_vec())
    }
}

impl FromStr for Oid {
    type Err = OidParseError;

    /// Accepts dotted numeric form, with or without a leading dot
    /// (`1.3.6.1` or `.1.3.6.1`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let s = s.strip_prefix('.').unwrap_or(s);
        if s.is_empty() {
            return Err(OidParseError::Empty);
        }
        let mut v = Vec::new();
        for part in s.split('.') {
            let n: u32 = part
                .parse()
                .map_err(|_| OidParseError::BadSubId(part.to_string()))?;
            v.push(n);
            if v.len() > MAX_OID_LEN {
                return Err(OidParseError::TooLong);
            }
        }
        Ok(Oid(v))
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_dotted_form() {
        let oid: Oid = ".1.3.6.1.4.1.8072".parse().unwrap();
        assert_eq!(oid.as_slice(), &[1, 3, 6, 1, 4, 1, 8072]);
        assert_eq!(oid.to_string(), "1.3.6.1.4.1.8072");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!("".parse::<Oid>(), Err(OidParseError::Empty));
        assert!(matches!(
            "1.x.3".parse::<Oid>(),
            Err(OidParseError::BadSubId(_))
        ));
        assert!(matches!(
            "1..3".parse::<Oid>(),
            Err(OidParseError::BadSubId(_))
        ));
        assert!(matches!(
            "1.4294967296".parse::<Oid>(),
            Err(OidParseError::BadSubId(_))
        ));
        let long = vec!["1"; MAX_OID_LEN + 1].join(".");
        assert_eq!(long.parse::<Oid>(), Err(OidParseError::TooLong));
    }

    #[test]
    fn orders_lexicographically_with_prefix_first() {
        let a: Oid = "1.3.6".parse().unwrap();
        let b: Oid = "1.3.6.1".parse().unwrap();
        let c: Oid = "1.3.7".parse().unwrap();
        let d: Oid = "1.3.10".parse().unwrap();
        assert!(a < b && b < c && c < d);
    }
}
