//! An SA's configured limits: `SaLifetime` as the kernel gives them, and
//! `Lifetime`, the form an SA keeps them in.
//!
//! `Lifetime` stores them in 40 bytes instead of 64 (there is one per SA,
//! and tens of thousands of SAs, in every copy of the SA list). Exact: the
//! seconds and the usual limits ("none", stored by the kernel as
//! `u64::MAX`, or a count below 2^32 − 1) fit in a `u32` each; an SA with
//! any value that does not (a byte limit of 4 GiB or more) keeps its
//! `SaLifetime` whole, boxed. The layout is private; `get` gives the plain
//! value back.

use serde::{Serialize, Serializer};

/// Configured limits (`xfrm_lifetime_cfg`); `u64::MAX` means "no limit",
/// as the kernel stores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SaLifetime {
    pub soft_byte_limit: u64,
    pub hard_byte_limit: u64,
    pub soft_packet_limit: u64,
    pub hard_packet_limit: u64,
    /// Seconds after add; 0 = none.
    pub soft_add_expires_seconds: u64,
    pub hard_add_expires_seconds: u64,
    pub soft_use_expires_seconds: u64,
    pub hard_use_expires_seconds: u64,
}

/// "No limit" (`u64::MAX`) narrowed.
const NO_LIMIT: u32 = u32::MAX;

/// An `SaLifetime`, stored compactly (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifetime(Packed);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Packed {
    /// `SaLifetime`'s fields in declaration order, narrowed (`narrowed`).
    Narrow([u32; 8]),
    Wide(Box<SaLifetime>),
}

impl From<SaLifetime> for Lifetime {
    fn from(lifetime: SaLifetime) -> Self {
        let mut narrow = [0; 8];
        for (slot, value) in narrow.iter_mut().zip(fields(&lifetime)) {
            match narrowed(value) {
                Some(n) => *slot = n,
                None => return Lifetime(Packed::Wide(Box::new(lifetime))),
            }
        }
        Lifetime(Packed::Narrow(narrow))
    }
}

impl Default for Lifetime {
    fn default() -> Self {
        SaLifetime::default().into()
    }
}

impl Lifetime {
    pub fn get(&self) -> SaLifetime {
        match &self.0 {
            Packed::Narrow(narrow) => from_fields(narrow.map(widened)),
            Packed::Wide(lifetime) => **lifetime,
        }
    }
}

/// Serialized as the `SaLifetime` it stands for.
impl Serialize for Lifetime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

fn narrowed(value: u64) -> Option<u32> {
    if value == u64::MAX {
        return Some(NO_LIMIT);
    }
    u32::try_from(value).ok().filter(|&n| n != NO_LIMIT)
}

fn widened(n: u32) -> u64 {
    if n == NO_LIMIT {
        u64::MAX
    } else {
        u64::from(n)
    }
}

fn fields(l: &SaLifetime) -> [u64; 8] {
    [
        l.soft_byte_limit,
        l.hard_byte_limit,
        l.soft_packet_limit,
        l.hard_packet_limit,
        l.soft_add_expires_seconds,
        l.hard_add_expires_seconds,
        l.soft_use_expires_seconds,
        l.hard_use_expires_seconds,
    ]
}

fn from_fields(f: [u64; 8]) -> SaLifetime {
    SaLifetime {
        soft_byte_limit: f[0],
        hard_byte_limit: f[1],
        soft_packet_limit: f[2],
        hard_packet_limit: f[3],
        soft_add_expires_seconds: f[4],
        hard_add_expires_seconds: f[5],
        soft_use_expires_seconds: f[6],
        hard_use_expires_seconds: f[7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly_and_narrows_what_fits() {
        let typical = SaLifetime {
            soft_byte_limit: u64::MAX,
            hard_byte_limit: u64::MAX,
            soft_packet_limit: u64::MAX,
            hard_packet_limit: 1000,
            soft_add_expires_seconds: 3240,
            hard_add_expires_seconds: 3600,
            soft_use_expires_seconds: 0,
            hard_use_expires_seconds: 0,
        };
        let edges = [
            u64::from(u32::MAX) - 1,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX - 1,
        ];
        assert!(matches!(
            Lifetime::from(typical),
            Lifetime(Packed::Narrow(_))
        ));
        assert_eq!(Lifetime::from(typical).get(), typical);
        for (i, edge) in edges.into_iter().enumerate() {
            let l = SaLifetime {
                hard_byte_limit: edge,
                ..typical
            };
            let packed = Lifetime::from(l);
            assert_eq!(packed.get(), l);
            assert_eq!(matches!(packed, Lifetime(Packed::Narrow(_))), i == 0);
        }
        assert_eq!(Lifetime::default().get(), SaLifetime::default());
        assert_eq!(std::mem::size_of::<Lifetime>(), 40);
    }
}
