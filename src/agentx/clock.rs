//! The master agent's sysUpTime, as seen from here.
//!
//! TimeStamp objects (RFC 2579) are "the value of sysUpTime at which an event
//! happened", and sysUpTime is the *master's* clock: snmpd's, which restarts
//! at 0 whenever snmpd restarts. The master tells us its sysUpTime in the
//! response to our Open, so we anchor a monotonic `Instant` there and derive
//! every TimeStamp from it. Events before the master's last start read 0, as
//! RFC 2579 prescribes.

use std::time::{Duration, Instant};

/// The instant at which the master's sysUpTime was zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterClock {
    zero: Instant,
}

impl MasterClock {
    /// Before we have talked to a master: our own process start stands in.
    pub fn local() -> Self {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        MasterClock {
            zero: *START.get_or_init(Instant::now),
        }
    }

    /// Anchors the clock from a master sysUpTime (hundredths of a second)
    /// observed at `observed_at`.
    pub fn from_master_uptime(ticks: u32, observed_at: Instant) -> Self {
        let up = Duration::from_millis(u64::from(ticks) * 10);
        // A master that claims to have started before our monotonic clock's
        // origin cannot be represented; pin it to the earliest instant we can.
        let zero = observed_at.checked_sub(up).unwrap_or(observed_at);
        MasterClock { zero }
    }

    /// The master's sysUpTime at `now`, in TimeTicks (wraps after ~497 days,
    /// like sysUpTime itself).
    pub fn uptime_ticks(&self, now: Instant) -> u32 {
        Self::ticks(now.saturating_duration_since(self.zero))
    }

    /// A TimeStamp for an event at `event`: 0 when it happened before the
    /// master (re)started.
    pub fn timestamp(&self, event: Instant) -> u32 {
        match event.checked_duration_since(self.zero) {
            Some(since) => Self::ticks(since),
            None => 0,
        }
    }

    fn ticks(d: Duration) -> u32 {
        // Truncation is the wrap-around sysUpTime has by definition.
        (d.as_millis() / 10) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_on_master_uptime() {
        let now = Instant::now() + Duration::from_secs(100);
        let clock = MasterClock::from_master_uptime(1234, now);
        assert_eq!(clock.uptime_ticks(now), 1234);
        assert_eq!(clock.uptime_ticks(now + Duration::from_secs(1)), 1334);
    }

    #[test]
    fn events_before_master_start_read_zero() {
        let now = Instant::now() + Duration::from_secs(100);
        let clock = MasterClock::from_master_uptime(500, now);
        assert_eq!(clock.timestamp(now - Duration::from_secs(6)), 0);
        assert_eq!(clock.timestamp(now - Duration::from_secs(1)), 400);
    }

    #[test]
    fn wraps_instead_of_overflowing() {
        let now = Instant::now();
        let clock = MasterClock::from_master_uptime(u32::MAX, now);
        assert_eq!(clock.uptime_ticks(now + Duration::from_millis(10)), 0);
    }
}
