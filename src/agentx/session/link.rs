//! Reconnect pacing and logging of link state changes.

use std::time::Duration;

use tokio::time::Instant;

use super::incoming::LinkError;
use crate::oid::Oid;

/// How long after losing an established session reconnects stay at the
/// initial pace. A master that just went away is most likely restarting —
/// VyOS restarts snmpd on every SNMP commit — and doubling the delay during
/// that would leave us unregistered for seconds after it is back.
pub const RESTART_WINDOW: Duration = Duration::from_secs(10);

/// Capped exponential backoff between connection attempts.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    /// Until then, every delay is `initial` (see [`RESTART_WINDOW`]).
    steady_until: Option<Instant>,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.min(max);
        Backoff {
            initial,
            max,
            next: initial,
            steady_until: None,
        }
    }

    pub fn next_delay(&mut self, now: Instant) -> Duration {
        if self.steady_until.is_some_and(|until| now < until) {
            return self.initial;
        }
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }

    /// An established session was lost: retry at the initial pace for
    /// [`RESTART_WINDOW`], then back off from the start again.
    pub fn session_lost(&mut self, now: Instant) {
        self.next = self.initial;
        self.steady_until = Some(now + RESTART_WINDOW);
    }
}

/// How often an unchanged outage is mentioned again.
const REMINDER_EVERY: Duration = Duration::from_secs(300);

struct Outage {
    since: Instant,
    attempts: u64,
    last_error: String,
    next_reminder: Instant,
}

/// Logs the link's state changes — registered, lost, unreachable, a
/// different error — once each, and an unchanged outage every few minutes,
/// rather than every attempt (those are at debug level).
pub struct LinkLog {
    master: String,
    down: Option<Outage>,
}

impl LinkLog {
    pub fn new(master: String) -> Self {
        LinkLog { master, down: None }
    }

    pub fn registered(&mut self, session_id: u32, root: &Oid) {
        match self.down.take() {
            Some(o) => tracing::info!(
                "AgentX: registered {root} with master {} again (session {session_id}) after {}s \
                 and {} attempt(s)",
                self.master,
                o.since.elapsed().as_secs(),
                o.attempts
            ),
            None => tracing::info!(
                "AgentX: registered {root} with master {} (session {session_id})",
                self.master
            ),
        }
    }

    pub fn lost(&mut self, err: &LinkError) {
        tracing::warn!(
            "AgentX: lost session with master {}: {err}; reconnecting",
            self.master
        );
        self.down = Some(Outage::new(err, 0));
    }

    pub fn attempt_failed(&mut self, err: &LinkError, retry_in: Duration) {
        tracing::debug!(
            "AgentX: attempt to reach {} failed: {err}; retry in {retry_in:?}",
            self.master
        );
        let now = Instant::now();
        let text = err.to_string();
        match &mut self.down {
            None => {
                tracing::warn!(
                    "AgentX: cannot register with master {}: {err}; will keep retrying",
                    self.master
                );
                self.down = Some(Outage::new(err, 1));
            }
            Some(o) => {
                o.attempts += 1;
                if o.last_error != text {
                    tracing::warn!("AgentX: master {} still unavailable: {err}", self.master);
                    o.last_error = text;
                    o.next_reminder = now + REMINDER_EVERY;
                } else if now >= o.next_reminder {
                    tracing::warn!(
                        "AgentX: master {} still unavailable after {}s ({} attempts): {err}",
                        self.master,
                        o.since.elapsed().as_secs(),
                        o.attempts
                    );
                    o.next_reminder = now + REMINDER_EVERY;
                }
            }
        }
    }
}

impl Outage {
    fn new(err: &LinkError, attempts: u64) -> Self {
        let now = Instant::now();
        Outage {
            since: now,
            attempts,
            last_error: err.to_string(),
            next_reminder: now + REMINDER_EVERY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_cap() {
        let now = Instant::now();
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(4));
        let got: Vec<u128> = (0..7).map(|_| b.next_delay(now).as_millis()).collect();
        assert_eq!(got, [250, 500, 1000, 2000, 4000, 4000, 4000]);
    }

    #[test]
    fn a_lost_session_is_retried_at_the_initial_pace_then_backs_off_afresh() {
        let lost = Instant::now();
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(4));
        for _ in 0..5 {
            b.next_delay(lost);
        }
        b.session_lost(lost);
        let inside = lost + RESTART_WINDOW - Duration::from_millis(1);
        for _ in 0..20 {
            assert_eq!(b.next_delay(inside), Duration::from_millis(250));
        }
        let after = lost + RESTART_WINDOW;
        let got: Vec<u128> = (0..3).map(|_| b.next_delay(after).as_millis()).collect();
        assert_eq!(got, [250, 500, 1000]);
    }

    #[test]
    fn backoff_initial_above_cap_is_capped() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(1));
        assert_eq!(b.next_delay(Instant::now()), Duration::from_secs(1));
    }
}
