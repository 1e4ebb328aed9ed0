//! A point in time in 8 bytes instead of `Instant`'s 16 (an `Option` of it
//! too), for the alarm state kept per (tunnel, category): six alarms per
//! tunnel, each with several times in it.
//!
//! Exact: nanoseconds from a fixed process-wide anchor, either side of it,
//! so converting back gives the same `Instant` (within ±292 years of the
//! anchor, which is all a process sees).

use std::num::NonZeroU64;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

static ANCHOR: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Bias that maps signed offsets onto unsigned values in order; raw 0 (the
/// earliest representable time) is never produced, so `Option<Stamp>` is
/// 8 bytes.
const ZERO_OFFSET: u64 = 1 << 63;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(NonZeroU64);

impl From<Instant> for Stamp {
    fn from(at: Instant) -> Self {
        let anchor = *ANCHOR;
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let raw = if at >= anchor {
            ZERO_OFFSET.saturating_add(nanos(at - anchor))
        } else {
            ZERO_OFFSET.saturating_sub(nanos(anchor - at))
        };
        Stamp(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
    }
}

impl Stamp {
    pub fn instant(self) -> Instant {
        let raw = self.0.get();
        if raw >= ZERO_OFFSET {
            *ANCHOR + Duration::from_nanos(raw - ZERO_OFFSET)
        } else {
            *ANCHOR - Duration::from_nanos(ZERO_OFFSET - raw)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly_on_both_sides_of_the_anchor() {
        let now = Instant::now();
        for at in [
            now,
            now + Duration::from_nanos(1),
            now + Duration::from_secs(86_400 * 365),
            *ANCHOR,
            *ANCHOR - Duration::from_nanos(1),
        ] {
            assert_eq!(Stamp::from(at).instant(), at);
        }
        if let Some(before) = ANCHOR.checked_sub(Duration::from_secs(3600)) {
            assert_eq!(Stamp::from(before).instant(), before);
            assert!(Stamp::from(before) < Stamp::from(*ANCHOR));
        }
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
    }
}
