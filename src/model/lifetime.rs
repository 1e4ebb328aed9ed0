//! An SA's configured limits stored in 40 bytes instead of `SaLifetime`'s
//! 64: at 10k tunnels × 4 SAs that is ~1 MB per copy of the SAs (the served
//! rows, the next poll's rows and the collector's sample).
//!
//! Exact: the seconds and the usual limits ("none", stored by the kernel as
//! `u64::MAX`, or a count below 2^32 − 1) fit in a `u32` each; an SA with
//! any value that does not (a byte limit of 4 GiB or more) keeps its
//! `SaLifetime` whole, boxed.

use serde::{Serialize, Serializer};

use super::SaLifetime;

/// "No limit" (`u64::MAX`) narrowed.
const NO_LIMIT: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackedLifetime {
    /// `SaLifetime`'s fields in declaration order, narrowed (`narrow`).
    Narrow([u32; 8]),
    Wide(Box<SaLifetime>),
}

impl From<SaLifetime> for PackedLifetime {
    fn from(lifetime: SaLifetime) -> Self {
        let mut narrow = [0; 8];
        for (slot, value) in narrow.iter_mut().zip(fields(&lifetime)) {
            match narrowed(value) {
                Some(n) => *slot = n,
                None => return PackedLifetime::Wide(Box::new(lifetime)),
            }
        }
        PackedLifetime::Narrow(narrow)
    }
}

impl Default for PackedLifetime {
    fn default() -> Self {
        SaLifetime::default().into()
    }
}

impl PackedLifetime {
    pub fn get(&self) -> SaLifetime {
        match self {
            PackedLifetime::Narrow(narrow) => from_fields(narrow.map(widened)),
            PackedLifetime::Wide(lifetime) => **lifetime,
        }
    }
}

/// Serialized as the `SaLifetime` it stands for.
impl Serialize for PackedLifetime {
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
            PackedLifetime::from(typical),
            PackedLifetime::Narrow(_)
        ));
        assert_eq!(PackedLifetime::from(typical).get(), typical);
        for (i, edge) in edges.into_iter().enumerate() {
            let l = SaLifetime {
                hard_byte_limit: edge,
                ..typical
            };
            let packed = PackedLifetime::from(l);
            assert_eq!(packed.get(), l);
            assert_eq!(matches!(packed, PackedLifetime::Narrow(_)), i == 0);
        }
        assert_eq!(PackedLifetime::default().get(), SaLifetime::default());
        assert_eq!(std::mem::size_of::<PackedLifetime>(), 40);
    }
}
