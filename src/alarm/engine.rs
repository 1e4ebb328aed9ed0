//! RMON-style threshold alarms (RFC 2819 alarmTable semantics) over the
//! classified categories, plus SA up/down/expiring events.
//!
//! Per (tunnel, category): the delta of the category over the trailing
//! `interval_secs`; a rising event when it reaches the rising threshold, then
//! nothing more until it falls to the falling threshold (falling event), and
//! so on — one event per crossing. A crossing inside the hold-down is held
//! back (counted once as suppressed) and reported when the hold-down ends,
//! if it still holds, so a flapping tunnel cannot storm and the last event
//! sent always matches the current state.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::config::{AlarmConfig, Threshold};
use super::event::{Detail, Event, EventKind, Notified};
use super::stamp::Stamp;
use super::table::{AlarmRow, AlarmState, AlarmTable, AlarmTableBuilder};
use super::updown::{Rules, UpDown};
use super::window::SampleWindow;
use crate::classify::diagnose::selector_text;
use crate::classify::ike::{ike_text, is_down};
use crate::model::{Cause, ErrorCategory, IkeFailure, Peer, Snapshot, TunnelKind, TunnelRow};

struct CategoryAlarm {
    /// The interface's counter base; a new one restarts the alarm.
    discontinuity_at: Stamp,
    /// (time, cumulative category value), oldest first.
    samples: SampleWindow,
    state: Option<AlarmState>,
    last_delta: u64,
    /// The last notification sent: the hold-down runs from here.
    last_sent_at: Option<Stamp>,
    /// The last threshold crossing, notified or suppressed
    /// (vtiAlarmLastEventTime).
    last_crossing_at: Option<Stamp>,
    sent: u64,
    suppressed: u64,
    /// A held-back crossing already counted as suppressed.
    held: bool,
}

#[derive(Default)]
struct SaAlarm {
    /// Last reported: does the tunnel have an outbound SA?
    up: Option<bool>,
    /// The last SA notification sent: the hold-down runs from here.
    last_sent_at: Option<Instant>,
    /// Hard-expiry time last warned about (one warning per SA lifetime).
    warned_expiry: Option<u64>,
    /// A change held back by the hold-down is already recorded.
    held: bool,
}

pub struct AlarmEngine {
    config: AlarmConfig,
    /// Sorted by (tunnel, category); only categories that were ever
    /// enabled and measurable, and are not quiet (`quiet`). A sorted
    /// array, rebuilt at each evaluation, rather than a hash map, whose
    /// power-of-two capacity can hold almost twice the buckets it needs.
    categories: Vec<(CategoryKey, CategoryAlarm)>,
    /// Per tunnel, the alarms in the one state most of them are in — armed,
    /// counter at zero, nothing ever crossed — kept as a bit each instead
    /// of a record (`quiet`); sorted by ifindex, disjoint from `categories`.
    quiet: Vec<QuietAlarms>,
    /// When the last evaluation ran: the time of the quiet alarms' newest
    /// sample.
    last_evaluated_at: Option<Stamp>,
    sas: HashMap<u32, SaAlarm>,
    /// Per tunnel ifindex: admin/oper up or down.
    links: HashMap<u32, UpDown>,
    /// Per vtiIkeTable row: CHILD_SA up or down, and the failure last
    /// reported.
    ike: HashMap<u32, (UpDown, Option<IkeFailure>)>,
}

impl AlarmEngine {
    pub fn new(config: AlarmConfig) -> Self {
        AlarmEngine {
            config,
            categories: Vec::new(),
            quiet: Vec::new(),
            last_evaluated_at: None,
            sas: HashMap::new(),
            links: HashMap::new(),
            ike: HashMap::new(),
        }
    }

    /// New thresholds take effect at the next evaluation; alarm states and
    /// counters are kept (SIGHUP reload).
    pub fn set_config(&mut self, config: AlarmConfig) {
        self.config = config;
    }

    pub fn config(&self) -> &AlarmConfig {
        &self.config
    }

    /// Feeds one snapshot; returns the events (to send, or recorded as held
    /// back or disabled: `Event::notified`) and the alarm table.
    pub fn evaluate(&mut self, snap: &Snapshot) -> (Vec<Event>, AlarmTable) {
        let mut events = Vec::new();
        let mut rows =
            AlarmTableBuilder::with_capacity(snap.tunnels.len() * ErrorCategory::ALL.len());
        let now = snap.taken_at;
        let present: std::collections::HashSet<u32> =
            snap.tunnels.iter().map(|t| t.tunnel.ifindex).collect();
        // Alarms of tunnels that are gone are left behind here.
        let mut previous = std::mem::take(&mut self.categories);
        let previous_quiet = std::mem::take(&mut self.quiet);
        let quiet_since = self.last_evaluated_at.replace(now.into());
        // Most alarms go into `quiet`; trimmed below.
        self.categories = Vec::with_capacity(previous.len());
        self.quiet = Vec::with_capacity(snap.tunnels.len());
        self.sas.retain(|ifindex, _| present.contains(ifindex));
        self.links.retain(|ifindex, _| present.contains(ifindex));
        // Polls are never exactly an interval apart; half a poll of slack
        // when picking a window's baseline keeps the window at a whole
        // number of polls.
        let slack = Duration::from_secs(u64::from(snap.poll_interval_secs)) / 2;
        for row in &snap.tunnels {
            let ifindex = row.tunnel.ifindex;
            let was_quiet = QuietAlarms::find(&previous_quiet, ifindex);
            let mut quiet = QuietAlarms::none(ifindex, row.discontinuity_at);
            for category in ErrorCategory::ALL {
                let key = (ifindex, category);
                let alarm = take_alarm(&mut previous, key, now).or_else(|| {
                    let q = was_quiet.filter(|q| q.holds(category))?;
                    Some(CategoryAlarm::quiet(q.discontinuity_at, quiet_since?))
                });
                let (served, kept) =
                    self.evaluate_category(row, category, alarm, now, slack, &mut events);
                rows.push(served);
                match kept {
                    Some(kept) if kept.is_quiet(now.into(), quiet.discontinuity_at) => {
                        quiet.add(category)
                    }
                    Some(kept) => self.categories.push((key, kept)),
                    None => {}
                }
            }
            if !quiet.is_empty() {
                self.quiet.push(quiet);
            }
            if snap.xfrm_available {
                self.evaluate_sa(row, snap, now, &mut events);
            }
            self.evaluate_link(row, now, &mut events);
        }
        self.evaluate_ike(snap, now, &mut events);
        // Already sorted when the snapshot's tunnels are (they are).
        self.categories.sort_unstable_by_key(|(key, _)| *key);
        self.categories.shrink_to_fit();
        self.quiet.sort_unstable_by_key(|q| q.ifindex);
        self.quiet.shrink_to_fit();
        // The evaluators already mark disabled kinds (and count them as
        // suppressed); this is the last word.
        for e in &mut events {
            if e.is_sent() && !self.sends(e.kind) {
                e.notified = Notified::Disabled;
            }
        }
        (events, rows.finish())
    }

    /// Is this kind of notification enabled (globally and by kind)?
    fn sends(&self, kind: EventKind) -> bool {
        self.config.enabled && self.config.notifications.allows(kind)
    }

    fn hold_down(&self) -> Duration {
        Duration::from_secs(self.config.hold_down_secs)
    }

    /// The served row, and the alarm's state to keep (`None`: nothing worth
    /// keeping).
    fn evaluate_category(
        &self,
        row: &TunnelRow,
        category: ErrorCategory,
        alarm: Option<CategoryAlarm>,
        now: Instant,
        slack: Duration,
        events: &mut Vec<Event>,
    ) -> (AlarmRow, Option<CategoryAlarm>) {
        let t = &row.tunnel;
        let threshold = self.config.threshold(&t.name, category);
        let measurable = is_measurable(t, category);
        if (!threshold.enabled || !measurable) && alarm.is_none() {
            // What a fresh alarm would report; keeping one per disabled
            // category (`dropped` by default) cost a sixth of the engine's
            // memory for nothing.
            return (fresh_row(t.ifindex, category, threshold), None);
        }
        let mut alarm = alarm.unwrap_or_else(|| CategoryAlarm::new(row.discontinuity_at));
        let subject = Subject {
            row,
            category,
            threshold,
            measurable,
        };
        let served = self.step(subject, &mut alarm, now, slack, events);
        (served, Some(alarm))
    }

    /// Advances one existing alarm by one snapshot.
    fn step(
        &self,
        subject: Subject,
        alarm: &mut CategoryAlarm,
        now: Instant,
        slack: Duration,
        events: &mut Vec<Event>,
    ) -> AlarmRow {
        let Subject {
            row,
            category,
            threshold,
            measurable,
        } = subject;
        let t = &row.tunnel;
        let hold_down = self.hold_down();
        let startup = self.config.startup;
        let enables = self.config.notifications;
        let notify_rising = self.config.enabled && enables.tx_error_rising;
        let notify_falling = self.config.enabled && enables.tx_error_falling;
        if alarm.discontinuity_at != Stamp::from(row.discontinuity_at) {
            *alarm = CategoryAlarm::new(row.discontinuity_at);
        }
        let mut out = AlarmRow {
            last_event_at: alarm.last_crossing_at.map(Stamp::instant),
            sent: alarm.sent,
            suppressed: alarm.suppressed,
            ..fresh_row(t.ifindex, category, threshold)
        };
        if !threshold.enabled || !measurable {
            alarm.state = None;
            alarm.samples.clear();
            return out;
        }
        let value = row.categories[category];
        let window = Duration::from_secs(u64::from(threshold.interval_secs));
        let Some(delta) = alarm.delta(now, value, window, slack) else {
            // First sample: no delta yet.
            out.state = AlarmState::ArmedRising;
            return out;
        };
        alarm.last_delta = delta;
        let rising = delta >= u64::from(threshold.rising);
        let falling = delta <= u64::from(threshold.falling);
        let crossing = match alarm.state {
            None => {
                // The first evaluated delta: RMON startup behaviour.
                if rising && startup.allows_rising() {
                    Some(true)
                } else if falling && startup.allows_falling() {
                    Some(false)
                } else {
                    alarm.state = Some(if rising {
                        AlarmState::ArmedFalling
                    } else {
                        AlarmState::ArmedRising
                    });
                    None
                }
            }
            Some(AlarmState::ArmedRising) => rising.then_some(true),
            Some(AlarmState::ArmedFalling) => falling.then_some(false),
            Some(AlarmState::Disabled) => None,
        };
        let event = |is_rising: bool, notified: Notified| Event {
            notified,
            ..Event::about(
                row,
                if is_rising {
                    EventKind::TxErrorRising
                } else {
                    EventKind::TxErrorFalling
                },
                row.diagnosis.text.clone(),
                Detail::Threshold {
                    category,
                    delta,
                    threshold: if is_rising {
                        threshold.rising
                    } else {
                        threshold.falling
                    },
                    interval_secs: threshold.interval_secs,
                },
            )
        };
        match crossing {
            Some(is_rising) => {
                let held = alarm
                    .last_sent_at
                    .is_some_and(|at| now.saturating_duration_since(at.instant()) < hold_down);
                let enabled = if is_rising {
                    notify_rising
                } else {
                    notify_falling
                };
                if held {
                    if !alarm.held {
                        alarm.suppressed += 1;
                        alarm.last_crossing_at = Some(now.into());
                        alarm.held = true;
                        events.push(event(is_rising, Notified::HeldDown));
                    }
                    // Keep the old state: the crossing is reported once the
                    // hold-down ends if it still holds.
                } else if !enabled {
                    // The alarm still changes state (the table shows it);
                    // the notification is suppressed by configuration.
                    alarm.held = false;
                    alarm.state = Some(if is_rising {
                        AlarmState::ArmedFalling
                    } else {
                        AlarmState::ArmedRising
                    });
                    alarm.last_crossing_at = Some(now.into());
                    alarm.suppressed += 1;
                    events.push(event(is_rising, Notified::Disabled));
                } else {
                    alarm.held = false;
                    alarm.state = Some(if is_rising {
                        AlarmState::ArmedFalling
                    } else {
                        AlarmState::ArmedRising
                    });
                    alarm.last_sent_at = Some(now.into());
                    alarm.last_crossing_at = Some(now.into());
                    alarm.sent += 1;
                    events.push(event(is_rising, Notified::Sent));
                }
            }
            None => alarm.held = false,
        }
        out.state = alarm.state.unwrap_or(AlarmState::ArmedRising);
        out.last_delta = delta;
        out.last_event_at = alarm.last_crossing_at.map(Stamp::instant);
        out.sent = alarm.sent;
        out.suppressed = alarm.suppressed;
        out
    }

    fn evaluate_sa(
        &mut self,
        row: &TunnelRow,
        snap: &Snapshot,
        now: Instant,
        out: &mut Vec<Event>,
    ) {
        let t = &row.tunnel;
        let hold_down = self.hold_down();
        let startup = self.config.startup;
        let margin = self.config.sa_expiring_margin_secs;
        let st = self.sas.entry(t.ifindex).or_default();
        let up = row.sa_summary.outbound > 0;
        let held = st
            .last_sent_at
            .is_some_and(|at| now.saturating_duration_since(at) < hold_down);
        let enables = self.config.notifications;
        let (notify_down, notify_up) = (
            self.config.enabled && enables.sa_down,
            self.config.enabled && enables.sa_up,
        );
        let event = match st.up {
            // At start-up a tunnel without an outbound SA is reported like a
            // rising alarm would be.
            None if !up && startup.allows_rising() => Some(false),
            None => {
                st.up = Some(up);
                None
            }
            Some(was) if was != up => Some(up),
            Some(_) => None,
        };
        let sa_event = |now_up: bool, notified: Notified| {
            let outbound = row.sa_summary.outbound;
            let (kind, text) = if now_up {
                (
                    EventKind::SaUp,
                    format!("{outbound} outbound SA(s) for {}", selector_text(t)),
                )
            } else {
                (EventKind::SaDown, sa_down_text(row))
            };
            Event {
                notified,
                ..Event::about(row, kind, text, Detail::OutboundSas(outbound))
            }
        };
        match event {
            Some(now_up) => {
                let enabled = if now_up { notify_up } else { notify_down };
                if !enabled {
                    // Track the state; a disabled kind neither goes out nor
                    // starts a hold-down.
                    st.up = Some(now_up);
                    st.held = false;
                    out.push(sa_event(now_up, Notified::Disabled));
                } else if !held {
                    st.up = Some(now_up);
                    st.last_sent_at = Some(now);
                    st.held = false;
                    out.push(sa_event(now_up, Notified::Sent));
                } else if !st.held {
                    // Reported when the hold-down ends, if it still holds.
                    st.held = true;
                    out.push(sa_event(now_up, Notified::HeldDown));
                }
            }
            None => st.held = false,
        }
        if let Some(expiry) = row.sa_summary.hard_expiry_unix {
            let now_unix = snap
                .wall_time
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let left = expiry.saturating_sub(now_unix);
            if left <= margin && st.warned_expiry != Some(expiry) {
                st.warned_expiry = Some(expiry);
                out.push(Event::about(
                    row,
                    EventKind::SaExpiring,
                    format!(
                        "the outbound SAs for {} reach their hard lifetime in {left} s \
                         and no newer SA replaced them",
                        selector_text(t)
                    ),
                    Detail::SecondsToHardExpiry(left as i64),
                ));
            }
        }
    }
}

impl AlarmEngine {
    fn rules(&self, down: EventKind, up: EventKind) -> Rules {
        Rules {
            hold_down: self.hold_down(),
            startup: self.config.startup,
            notify_down: self.sends(down),
            notify_up: self.sends(up),
        }
    }

    /// vtiTunnelDown/Up: the interface went admin- or oper-down, or back.
    fn evaluate_link(&mut self, row: &TunnelRow, now: Instant, out: &mut Vec<Event>) {
        let rules = self.rules(EventKind::TunnelDown, EventKind::TunnelUp);
        let t = &row.tunnel;
        let state = self.links.entry(t.ifindex).or_default();
        if let Some((up, notified)) = state.step(!is_down(t), now, rules) {
            let (kind, text) = if up {
                (EventKind::TunnelUp, format!("{} is up", t.name))
            } else {
                (EventKind::TunnelDown, row.diagnosis.text.clone())
            };
            let detail = Detail::Link {
                admin_up: t.admin_up,
                oper: t.oper,
            };
            out.push(Event {
                notified,
                ..Event::about(row, kind, text, detail)
            });
        }
    }

    /// vtiIkeDown/Up per vtiIkeTable row, only while charon answers: an
    /// unavailable IKE view says nothing about the connections
    /// (vtiIkeAvailable does). A row that stays down is reported again when
    /// a failure other than the one reported is recorded (another attempt
    /// failed, or charon's explanation came after the down event).
    fn evaluate_ike(&mut self, snap: &Snapshot, now: Instant, out: &mut Vec<Event>) {
        if !snap.ike.available {
            if !snap.ike.enabled {
                self.ike.clear();
            }
            return;
        }
        let rules = self.rules(EventKind::IkeDown, EventKind::IkeUp);
        let present: std::collections::HashSet<u32> =
            snap.ike.rows.iter().map(|r| r.index).collect();
        self.ike.retain(|index, _| present.contains(index));
        for row in &snap.ike.rows {
            let (state, reported) = self.ike.entry(row.index).or_default();
            let change = state.step(row.is_up(), now, rules).or_else(|| {
                let news =
                    !row.is_up() && row.last_failure.is_some() && row.last_failure != *reported;
                match state.again(now, rules).filter(|_| news) {
                    // Not yet: tried again at the next poll.
                    Some(Notified::HeldDown) | None => None,
                    Some(notified) => Some((false, notified)),
                }
            });
            let Some((up, notified)) = change else {
                continue;
            };
            if !up && notified != Notified::HeldDown {
                reported.clone_from(&row.last_failure);
            }
            let tunnel = snap
                .tunnels
                .iter()
                .find(|t| t.tunnel.ifindex == row.tunnel_ifindex);
            let failure = row.last_failure.as_ref().filter(|_| !up);
            let what = if row.child.is_empty() {
                format!("IKE_SA {}", row.conn)
            } else {
                format!("CHILD_SA {} of {}", row.child, row.conn)
            };
            let text = match failure {
                Some(f) => format!(
                    "{what} down: {}: {}",
                    crate::model::reason_label(f.reason),
                    f.message
                ),
                None if up => format!("{what} up"),
                None => format!("{what} down"),
            };
            let (kind, detail) = (
                if up {
                    EventKind::IkeUp
                } else {
                    EventKind::IkeDown
                },
                Detail::Ike {
                    index: row.index,
                    conn: row.conn.clone(),
                    child: row.child.clone(),
                    ike_state: row.ike_state,
                    child_state: row.child_state,
                    reason: failure.map(|f| f.reason),
                    message: failure.map_or_else(String::new, |f| f.message.clone()),
                },
            );
            out.push(Event {
                kind,
                ifindex: row.tunnel_ifindex,
                name: tunnel.map_or_else(String::new, |t| t.tunnel.name.clone()),
                cause: tunnel.map_or(Cause::None, |t| t.diagnosis.cause),
                peer: tunnel.map_or(Peer::UNKNOWN, |t| t.peer),
                text,
                detail,
                notified,
            });
        }
    }
}

/// (tunnel ifindex, category).
type CategoryKey = (u32, ErrorCategory);

/// What one alarm is evaluated against.
struct Subject<'a> {
    row: &'a TunnelRow,
    category: ErrorCategory,
    threshold: Threshold,
    measurable: bool,
}

/// The alarm kept for `key` at the last evaluation, if any, taken out of
/// `previous` (sorted by key; the hole left is a fresh alarm no one reads).
fn take_alarm(
    previous: &mut [(CategoryKey, CategoryAlarm)],
    key: CategoryKey,
    now: Instant,
) -> Option<CategoryAlarm> {
    let i = previous.binary_search_by_key(&key, |(k, _)| *k).ok()?;
    Some(std::mem::replace(
        &mut previous[i].1,
        CategoryAlarm::new(now),
    ))
}

/// Whether the kernel counts `category` on this tunnel at all.
fn is_measurable(t: &crate::model::Tunnel, category: ErrorCategory) -> bool {
    match category {
        ErrorCategory::Dropped => true,
        ErrorCategory::UnderlayDrops => t.kind != TunnelKind::Xfrm,
        _ => t.error_counters_valid,
    }
}

/// What vtiSaDown says: the diagnosis when it is about this very SA, else
/// (no packet has failed yet, or an older cause) the plain fact.
fn sa_down_text(row: &TunnelRow) -> String {
    if row.diagnosis.cause == Cause::NoOutboundSa {
        return row.diagnosis.text.clone();
    }
    match &row.ike {
        Some(ike) => format!(
            "no outbound SA for {}; IKE: {}",
            selector_text(&row.tunnel),
            ike_text(ike)
        ),
        None => format!(
            "no outbound SA for {} (IKE down? check the IKE daemon and 'ip xfrm state')",
            selector_text(&row.tunnel)
        ),
    }
}

/// A tunnel's quiet alarms: armed for a rising crossing, both samples at
/// zero, no delta, nothing ever sent, suppressed or held — all that a record
/// would hold is the tunnel's counter base and the last evaluation's time.
/// Most alarms of a healthy router are quiet: a bit each instead of a
/// ~100-byte record.
struct QuietAlarms {
    ifindex: u32,
    /// Which categories, by bit (`bit`).
    categories: u8,
    discontinuity_at: Stamp,
}

impl QuietAlarms {
    fn none(ifindex: u32, discontinuity_at: Instant) -> Self {
        QuietAlarms {
            ifindex,
            categories: 0,
            discontinuity_at: discontinuity_at.into(),
        }
    }

    /// `all` sorted by ifindex.
    fn find(all: &[QuietAlarms], ifindex: u32) -> Option<&QuietAlarms> {
        let i = all.binary_search_by_key(&ifindex, |q| q.ifindex).ok()?;
        Some(&all[i])
    }

    fn bit(category: ErrorCategory) -> u8 {
        1 << (category as u8)
    }

    fn holds(&self, category: ErrorCategory) -> bool {
        self.categories & Self::bit(category) != 0
    }

    fn add(&mut self, category: ErrorCategory) {
        self.categories |= Self::bit(category);
    }

    fn is_empty(&self) -> bool {
        self.categories == 0
    }
}

impl CategoryAlarm {
    /// The record a quiet alarm stands for (`QuietAlarms`), its newest
    /// sample taken `at`. The oldest sample's time is never read (only its
    /// value, as the baseline), so the same time for both is exact.
    fn quiet(discontinuity_at: Stamp, at: Stamp) -> Self {
        let mut samples = SampleWindow::default();
        samples.push_back((at, 0));
        samples.push_back((at, 0));
        CategoryAlarm {
            discontinuity_at,
            samples,
            state: Some(AlarmState::ArmedRising),
            ..CategoryAlarm::new(at.instant())
        }
    }

    /// Is this exactly what `quiet(discontinuity_at, now)` rebuilds?
    fn is_quiet(&self, now: Stamp, discontinuity_at: Stamp) -> bool {
        let zero_pair = self.samples.len() == 2
            && self.samples.get(0).1 == 0
            && self.samples.get(1) == (now, 0);
        zero_pair
            && self.discontinuity_at == discontinuity_at
            && self.state == Some(AlarmState::ArmedRising)
            && self.last_delta == 0
            && self.last_sent_at.is_none()
            && self.last_crossing_at.is_none()
            && self.sent == 0
            && self.suppressed == 0
            && !self.held
    }

    fn new(discontinuity_at: Instant) -> Self {
        CategoryAlarm {
            discontinuity_at: discontinuity_at.into(),
            samples: SampleWindow::default(),
            state: None,
            last_delta: 0,
            last_sent_at: None,
            last_crossing_at: None,
            sent: 0,
            suppressed: 0,
            held: false,
        }
    }

    /// Records a sample and returns the increase over the trailing `window`
    /// (over the samples we have while the first interval is still filling);
    /// `None` for the very first sample.
    ///
    /// The baseline is the newest earlier sample at least `window − slack`
    /// old. Polls are never exactly one poll interval apart (timer wake-up
    /// and collection time vary by a millisecond or so): without the slack
    /// (half a poll), a sample taken a hair under `window` ago would not
    /// count as the window start, and about every other delta would span
    /// one poll too many.
    fn delta(
        &mut self,
        now: Instant,
        value: u64,
        window: Duration,
        slack: Duration,
    ) -> Option<u64> {
        let reach = window.saturating_sub(slack);
        // A run of equal values needs only its first and its latest sample:
        // the baseline's value (the latest sample at or before the window
        // start) is the same whichever member of the run it falls on. Without
        // this every quiet alarm would hold interval/poll samples; with it,
        // two. Same deltas (`tests::collapsed_samples_*`).
        let n = self.samples.len();
        if n >= 2 && self.samples.get(n - 1).1 == value && self.samples.get(n - 2).1 == value {
            self.samples.touch_newest(now.into());
        } else {
            self.samples.push_back((now.into(), value));
        }
        while self.samples.len() > 2
            && now.saturating_duration_since(self.samples.get(1).0.instant()) >= reach
        {
            self.samples.pop_front();
        }
        if self.samples.len() < 2 {
            return None;
        }
        let (_, base) = self.samples.get(0);
        Some(value.saturating_sub(base))
    }
}

/// The vtiAlarmTable row of an alarm with no history: the thresholds in
/// force, disabled, nothing measured or sent yet.
fn fresh_row(ifindex: u32, category: ErrorCategory, threshold: Threshold) -> AlarmRow {
    AlarmRow {
        ifindex,
        category,
        interval_secs: threshold.interval_secs,
        rising: threshold.rising,
        falling: threshold.falling,
        state: AlarmState::Disabled,
        last_delta: 0,
        last_event_at: None,
        sent: 0,
        suppressed: 0,
    }
}

#[cfg(test)]
mod tests;
