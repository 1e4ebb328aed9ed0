//! Up/down state notifications (a tunnel interface, an IKE connection's
//! CHILD_SA): one event per change, with the same hold-down and start-up
//! rules as the SA events. A change inside the hold-down is held back and
//! reported when the hold-down ends, if it still holds; a disabled kind
//! is tracked but neither sent nor starts a hold-down. A subject that is
//! down may be reported down again (`again`), e.g. when another attempt
//! to bring it up failed.

use std::time::{Duration, Instant};

use super::config::Startup;
use super::event::Notified;

#[derive(Debug, Default)]
pub struct UpDown {
    /// Last reported state.
    up: Option<bool>,
    /// The last notification sent: the hold-down runs from here.
    last_sent_at: Option<Instant>,
    /// A held-back change already recorded as such.
    held: bool,
}

/// How one evaluation goes.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub hold_down: Duration,
    pub startup: Startup,
    pub notify_down: bool,
    pub notify_up: bool,
}

impl UpDown {
    fn held(&self, now: Instant, rules: Rules) -> bool {
        self.last_sent_at
            .is_some_and(|at| now.saturating_duration_since(at) < rules.hold_down)
    }

    /// Feeds the current state; `Some((up, how))` when there is an event:
    /// sent, disabled (state tracked, no hold-down started) or held down
    /// (recorded once; reported when the hold-down ends, if it still holds).
    pub fn step(&mut self, up: bool, now: Instant, rules: Rules) -> Option<(bool, Notified)> {
        let change = match self.up {
            // At start-up a down subject is reported like a rising alarm.
            None if !up && rules.startup.allows_rising() => Some(false),
            None => {
                self.up = Some(up);
                None
            }
            Some(was) if was != up => Some(up),
            Some(_) => None,
        };
        let Some(change) = change else {
            self.held = false;
            return None;
        };
        let enabled = if change {
            rules.notify_up
        } else {
            rules.notify_down
        };
        if !enabled {
            self.up = Some(change);
            self.held = false;
            Some((change, Notified::Disabled))
        } else if !self.held(now, rules) {
            self.up = Some(change);
            self.last_sent_at = Some(now);
            self.held = false;
            Some((change, Notified::Sent))
        } else if !self.held {
            self.held = true;
            Some((change, Notified::HeldDown))
        } else {
            None
        }
    }

    /// A down subject, reported down before, has news (e.g. another attempt
    /// failed): how a repeated down notification goes, if it may go at all.
    pub fn again(&mut self, now: Instant, rules: Rules) -> Option<Notified> {
        if self.up != Some(false) {
            return None;
        }
        if !rules.notify_down {
            return Some(Notified::Disabled);
        }
        if self.held(now, rules) {
            return Some(Notified::HeldDown);
        }
        self.last_sent_at = Some(now);
        Some(Notified::Sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(hold: u64) -> Rules {
        Rules {
            hold_down: Duration::from_secs(hold),
            startup: Startup::Rising,
            notify_down: true,
            notify_up: true,
        }
    }

    #[test]
    fn one_event_per_change_and_a_flap_waits_for_the_hold_down() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut u = UpDown::default();
        let sent = |up| Some((up, Notified::Sent));
        assert_eq!(u.step(true, at(0), rules(60)), None);
        assert_eq!(u.step(true, at(10), rules(60)), None);
        assert_eq!(u.step(false, at(20), rules(60)), sent(false));
        assert_eq!(u.step(false, at(30), rules(60)), None);
        // Back up inside the hold-down: held (recorded once), then reported.
        assert_eq!(
            u.step(true, at(40), rules(60)),
            Some((true, Notified::HeldDown))
        );
        assert_eq!(u.step(true, at(50), rules(60)), None);
        assert_eq!(u.step(true, at(80), rules(60)), sent(true));
        // Down and up again inside a hold-down: nothing left to report.
        assert_eq!(
            u.step(false, at(90), rules(60)),
            Some((false, Notified::HeldDown))
        );
        assert_eq!(u.step(true, at(100), rules(60)), None);
        assert_eq!(u.step(true, at(200), rules(60)), None);
    }

    #[test]
    fn down_at_start_up_is_reported_and_disabled_kinds_are_tracked() {
        let t0 = Instant::now();
        let mut u = UpDown::default();
        assert_eq!(u.step(false, t0, rules(0)), Some((false, Notified::Sent)));
        let mut quiet = rules(0);
        quiet.notify_up = false;
        assert_eq!(u.step(true, t0, quiet), Some((true, Notified::Disabled)));
        assert_eq!(u.step(false, t0, rules(0)), Some((false, Notified::Sent)));
        assert_eq!(
            u.again(t0, rules(0)),
            Some(Notified::Sent),
            "down: may be repeated"
        );
        assert_eq!(u.again(t0, rules(60)), Some(Notified::HeldDown));
        let mut falling = rules(0);
        falling.startup = Startup::Falling;
        assert_eq!(UpDown::default().step(false, t0, falling), None);
    }
}
