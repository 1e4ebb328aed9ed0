use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::alarm::config::{Startup, Threshold};
use crate::model::*;

struct Rig {
    engine: AlarmEngine,
    t0: Instant,
    base: Instant,
    carrier: u64,
    outbound: u32,
}

impl Rig {
    fn new(config: AlarmConfig) -> Rig {
        let t0 = Instant::now();
        Rig {
            engine: AlarmEngine::new(config),
            t0,
            base: t0,
            carrier: 0,
            outbound: 1,
        }
    }

    fn snapshot(&self, secs: u64) -> Snapshot {
        let tunnel = crate::classify::testutil::xfrm_tunnel(7, "xfrm7", 8);
        Snapshot {
            taken_at: self.t0 + Duration::from_secs(secs),
            wall_time: SystemTime::now(),
            poll_interval_secs: 10,
            kernel_release: "test".into(),
            xfrm_available: true,
            xfrm_stat: Availability::Available(vec![]),
            xfrm_stat_delta: vec![],
            tunnels: vec![TunnelRow {
                tunnel,
                discontinuity_at: self.base,
                categories: Categories {
                    carrier: self.carrier,
                    ..Categories::default()
                },
                last_delta: Categories::default(),
                last_error_at: None,
                diagnosis: Diagnosis {
                    cause: Cause::NoOutboundSa,
                    text: "no outbound SA".into(),
                },
                sa_summary: SaSummary {
                    outbound: self.outbound,
                    ..SaSummary::default()
                },
                peer: Peer {
                    addr: Some("198.51.100.8".parse().unwrap()),
                    source: PeerSource::PolicyTemplate,
                },
                ike: None,
            }],
            sas: vec![],
            policies: Availability::Available(vec![]),
            poll_failures: 0,
            ike: Default::default(),
        }
    }

    /// The SA events (saDown/saUp) sent at `secs`.
    fn sa_events(&mut self, secs: u64) -> Vec<&'static str> {
        let snap = self.snapshot(secs);
        kinds(&self.engine.evaluate(&snap).0)
            .into_iter()
            .filter(|k| k.starts_with("sa"))
            .collect()
    }

    /// Every SA event at `secs`, sent or not, and how it was notified.
    fn sa_records(&mut self, secs: u64) -> Vec<(&'static str, Notified)> {
        let snap = self.snapshot(secs);
        self.engine
            .evaluate(&snap)
            .0
            .iter()
            .filter(|e| e.category().is_none())
            .map(|e| (kind(e), e.notified))
            .collect()
    }

    /// One poll at `secs` after start, with `add` more carrier errors: the
    /// carrier events sent, and the carrier alarm row.
    fn poll(&mut self, secs: u64, add: u64) -> (Vec<Event>, AlarmRow) {
        let (events, row) = self.poll_all(secs, add);
        (events.into_iter().filter(Event::is_sent).collect(), row)
    }

    /// `poll`, with the carrier events not sent too.
    fn poll_all(&mut self, secs: u64, add: u64) -> (Vec<Event>, AlarmRow) {
        self.carrier += add;
        let snap = self.snapshot(secs);
        let (events, rows) = self.engine.evaluate(&snap);
        let row = rows
            .iter()
            .find(|r| r.category == ErrorCategory::Carrier)
            .unwrap();
        let events = events
            .into_iter()
            .filter(|e| e.category() == Some(ErrorCategory::Carrier))
            .collect();
        (events, row)
    }
}

fn config(interval: u32, rising: u32, falling: u32, hold_down: u64) -> AlarmConfig {
    let mut c = AlarmConfig {
        hold_down_secs: hold_down,
        ..AlarmConfig::default()
    };
    c.categories.carrier = Threshold {
        enabled: true,
        interval_secs: interval,
        rising,
        falling,
    };
    c
}

fn kind(e: &Event) -> &'static str {
    match e.kind {
        EventKind::TxErrorRising => "rising",
        EventKind::TxErrorFalling => "falling",
        EventKind::SaDown => "saDown",
        EventKind::SaUp => "saUp",
        EventKind::SaExpiring => "saExpiring",
        EventKind::IkeDown => "ikeDown",
        EventKind::IkeUp => "ikeUp",
        EventKind::TunnelDown => "tunnelDown",
        EventKind::TunnelUp => "tunnelUp",
    }
}

/// The kinds of the events sent.
fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().filter(|e| e.is_sent()).map(kind).collect()
}

#[test]
fn one_event_per_crossing() {
    let mut r = Rig::new(config(10, 1, 0, 0));
    assert!(r.poll(0, 0).0.is_empty(), "first sample: no delta yet");
    let (e, row) = r.poll(10, 3);
    assert_eq!(kinds(&e), ["rising"]);
    assert_eq!(
        (row.state, row.last_delta, row.sent),
        (AlarmState::ArmedFalling, 3, 1)
    );
    assert_eq!(
        e[0].detail,
        Detail::Threshold {
            category: ErrorCategory::Carrier,
            delta: 3,
            threshold: 1,
            interval_secs: 10
        }
    );
    assert_eq!(e[0].text, "no outbound SA");
    assert_eq!(
        (e[0].cause, e[0].peer.addr, e[0].ifindex, e[0].name.as_str()),
        (
            Cause::NoOutboundSa,
            Some("198.51.100.8".parse().unwrap()),
            7,
            "xfrm7"
        ),
        "the event carries the tunnel's cause and peer"
    );
    assert!(r.poll(20, 5).0.is_empty(), "still high: no second rising");
    let (e, row) = r.poll(30, 0);
    assert_eq!(kinds(&e), ["falling"]);
    assert_eq!(row.state, AlarmState::ArmedRising);
    assert!(r.poll(40, 0).0.is_empty());
    assert_eq!(kinds(&r.poll(50, 1).0), ["rising"]);
}

#[test]
fn quiet_alarms_keep_no_record_and_wake_up_unchanged() {
    // Interval of three polls, so the rise is measured against a baseline
    // from the quiet stretch.
    let mut r = Rig::new(config(30, 3, 0, 0));
    r.poll(0, 0);
    let enabled = r.engine.categories.len();
    assert!(enabled > 0, "first sample: a record per enabled category");
    for s in [10, 20, 30] {
        let (e, row) = r.poll(s, 0);
        assert!(e.is_empty());
        assert_eq!((row.state, row.last_delta), (AlarmState::ArmedRising, 0));
    }
    assert!(r.engine.categories.is_empty(), "quiet: only a bit");
    assert_eq!(r.engine.quiet.len(), 1);
    assert!(r.poll(40, 1).0.is_empty());
    assert_eq!(r.engine.categories.len(), 1, "moving: a record again");
    assert!(r.poll(50, 1).0.is_empty());
    let (e, row) = r.poll(60, 1);
    assert_eq!((kinds(&e), row.last_delta), (vec!["rising"], 3));
    // A new counter base while quiet restarts the alarm, as a record would.
    let mut r = Rig::new(config(10, 1, 0, 0));
    r.poll(0, 0);
    r.poll(10, 0);
    assert!(r.engine.categories.is_empty());
    r.base += Duration::from_secs(15);
    let (e, row) = r.poll(20, 5);
    assert!(
        e.is_empty(),
        "first sample after the new base: no delta yet"
    );
    assert_eq!((row.state, row.last_delta), (AlarmState::ArmedRising, 0));
    assert_eq!(kinds(&r.poll(30, 1).0), ["rising"]);
}

#[test]
fn noise_between_thresholds_yields_one_event() {
    let mut r = Rig::new(config(10, 5, 1, 0));
    r.poll(0, 0);
    let mut all = Vec::new();
    for (i, add) in [5, 4, 6, 3, 2, 5, 4].into_iter().enumerate() {
        all.extend(r.poll(10 * (i as u64 + 1), add).0);
    }
    assert_eq!(kinds(&all), ["rising"]);
}

#[test]
fn delta_is_taken_over_the_interval_not_the_poll() {
    // Poll every 10 s, alarm interval 30 s, rising at 3: one error per poll
    // reaches 3 only once three polls' worth are in the window.
    let mut r = Rig::new(config(30, 3, 0, 0));
    r.poll(0, 0);
    assert!(r.poll(10, 1).0.is_empty());
    assert!(r.poll(20, 1).0.is_empty());
    let (e, row) = r.poll(30, 1);
    assert_eq!((kinds(&e), row.last_delta), (vec!["rising"], 3));
    // Quiet for a whole interval: the window empties.
    assert!(r.poll(40, 0).0.is_empty());
    assert!(r.poll(50, 0).0.is_empty());
    let (e, row) = r.poll(60, 0);
    assert_eq!((kinds(&e), row.last_delta), (vec!["falling"], 0));
}

#[test]
fn hold_down_suppresses_once_then_reports_the_current_state() {
    let mut r = Rig::new(config(10, 1, 0, 60));
    r.poll(0, 0);
    assert_eq!(kinds(&r.poll(10, 2).0), ["rising"]);
    let (e, row) = r.poll(20, 0);
    assert!(e.is_empty(), "falling within hold-down is held back");
    assert_eq!((row.suppressed, row.state), (1, AlarmState::ArmedFalling));
    let (_, row) = r.poll(30, 0);
    assert_eq!(row.suppressed, 1, "counted once per held crossing");
    let (e, row) = r.poll(70, 0);
    assert_eq!(kinds(&e), ["falling"]);
    assert_eq!((row.sent, row.suppressed), (2, 1));
}

#[test]
fn flapping_within_hold_down_sends_nothing_extra() {
    let mut r = Rig::new(config(10, 1, 0, 60));
    r.poll(0, 0);
    let mut all = r.poll(10, 1).0;
    for s in (20..70).step_by(10) {
        all.extend(r.poll(s, if s % 20 == 0 { 0 } else { 1 }).0);
    }
    assert_eq!(kinds(&all), ["rising"]);
}

#[test]
fn startup_behaviour() {
    // rising (default): an already-high first delta raises.
    let mut r = Rig::new(config(10, 1, 0, 0));
    r.poll(0, 0);
    assert_eq!(kinds(&r.poll(10, 1).0), ["rising"]);
    // falling: a high first delta is not reported, its recovery is.
    let mut c = config(10, 1, 0, 0);
    c.startup = Startup::Falling;
    let mut r = Rig::new(c.clone());
    r.poll(0, 0);
    let (e, row) = r.poll(10, 1);
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(row.state, AlarmState::ArmedFalling);
    assert_eq!(kinds(&r.poll(20, 0).0), ["falling"]);
    // falling: a quiet first delta sends a falling event.
    let mut r = Rig::new(c);
    r.poll(0, 0);
    assert_eq!(kinds(&r.poll(10, 0).0), ["falling"]);
    // rising: a quiet start sends nothing.
    let mut r = Rig::new(config(10, 1, 0, 0));
    r.poll(0, 0);
    assert!(r.poll(10, 0).0.is_empty());
}

#[test]
fn enables_silence_events_but_keep_state() {
    let mut c = config(10, 1, 0, 0);
    c.notifications.tx_error_rising = false;
    let mut r = Rig::new(c);
    r.poll(0, 0);
    let (e, row) = r.poll(10, 1);
    assert!(e.is_empty());
    assert_eq!(row.state, AlarmState::ArmedFalling);
    assert_eq!(kinds(&r.poll(20, 0).0), ["falling"]);
    let mut c = config(10, 1, 0, 0);
    c.enabled = false;
    let mut r = Rig::new(c);
    r.poll(0, 0);
    assert!(r.poll(10, 1).0.is_empty());
}

#[test]
fn disabled_category_is_reported_disabled() {
    let mut c = config(10, 1, 0, 0);
    c.categories.carrier.enabled = false;
    let mut r = Rig::new(c);
    r.poll(0, 0);
    let (e, row) = r.poll(10, 5);
    assert!(e.is_empty());
    assert_eq!(row.state, AlarmState::Disabled);
}

#[test]
fn counter_discontinuity_restarts_the_alarm() {
    let mut r = Rig::new(config(10, 1, 0, 0));
    r.poll(0, 0);
    assert_eq!(kinds(&r.poll(10, 4).0), ["rising"]);
    r.base += Duration::from_secs(15);
    r.carrier = 0;
    let (e, row) = r.poll(20, 0);
    assert!(
        e.is_empty(),
        "a fresh interface starts over, no bogus falling"
    );
    assert_eq!((row.state, row.sent), (AlarmState::ArmedRising, 0));
}

#[test]
fn sa_down_and_up() {
    let mut r = Rig::new(config(10, 1, 0, 0));
    assert!(r.sa_events(0).is_empty());
    r.outbound = 0;
    assert_eq!(r.sa_events(10), ["saDown"]);
    assert!(r.sa_events(20).is_empty());
    r.outbound = 2;
    assert_eq!(r.sa_events(30), ["saUp"]);
}

#[test]
fn poll_jitter_does_not_stretch_the_window() {
    // Polls every 10 s, interval 10 s: the delta is one poll's increase
    // even when a poll lands a few milliseconds early relative to the last.
    let mut c = config(10, 5, 1, 0);
    c.startup = Startup::Rising;
    let mut r = Rig::new(c);
    let at = |ms: u64| r.t0 + Duration::from_millis(ms);
    let times = [at(0), at(10_002), at(20_001), at(29_999), at(40_003)];
    let mut deltas = Vec::new();
    for (i, when) in times.into_iter().enumerate() {
        r.carrier += [0, 4, 3, 4, 3][i];
        let mut snap = r.snapshot(0);
        snap.taken_at = when;
        let (events, rows) = r.engine.evaluate(&snap);
        assert!(
            kinds(&events).iter().all(|k| *k != "rising"),
            "4 then 3 per interval never reaches 5: {events:?}"
        );
        let row = rows
            .iter()
            .find(|row| row.category == ErrorCategory::Carrier)
            .unwrap();
        deltas.push(row.last_delta);
    }
    assert_eq!(deltas, [0, 4, 3, 4, 3]);
}

#[test]
fn a_disabled_kind_is_counted_as_suppressed_not_sent() {
    let mut c = config(10, 1, 0, 0);
    c.notifications.tx_error_rising = false;
    let mut r = Rig::new(c);
    r.poll(0, 0);
    let (e, row) = r.poll(10, 1);
    assert!(e.is_empty());
    assert_eq!(
        (row.state, row.sent, row.suppressed),
        (AlarmState::ArmedFalling, 0, 1)
    );
    assert!(row.last_event_at.is_some(), "the crossing time is kept");
    let (e, row) = r.poll(20, 0);
    assert_eq!(kinds(&e), ["falling"]);
    assert_eq!((row.sent, row.suppressed), (1, 1));

    let mut c = config(10, 1, 0, 0);
    c.enabled = false;
    let mut r = Rig::new(c);
    r.poll(0, 0);
    r.poll(10, 1);
    let (e, row) = r.poll(20, 0);
    assert!(e.is_empty());
    assert_eq!((row.sent, row.suppressed), (0, 2));
}

#[test]
fn a_disabled_sa_down_does_not_hold_back_sa_up() {
    let mut c = config(10, 1, 0, 60);
    c.notifications.sa_down = false;
    let mut r = Rig::new(c);
    assert!(r.sa_events(0).is_empty());
    r.outbound = 0;
    assert!(r.sa_events(10).is_empty());
    r.outbound = 1;
    assert_eq!(r.sa_events(20), ["saUp"]);
}

/// The sample window as it was before runs of equal values were collapsed:
/// every sample kept until it leaves the window.
fn delta_keeping_every_sample(
    samples: &mut std::collections::VecDeque<(Instant, u64)>,
    now: Instant,
    value: u64,
    interval_secs: u32,
) -> Option<u64> {
    let window = Duration::from_secs(u64::from(interval_secs));
    samples.push_back((now, value));
    while samples.len() > 2 && now.saturating_duration_since(samples[1].0) >= window {
        samples.pop_front();
    }
    if samples.len() < 2 {
        return None;
    }
    Some(value.saturating_sub(samples[0].1))
}

proptest::proptest! {
    /// Collapsing runs of equal values changes no delta: any poll spacing,
    /// counters that stand still or rise, windows shorter and longer than
    /// the spacing.
    #[test]
    fn collapsed_samples_give_the_same_deltas(
        steps in proptest::collection::vec((1u64..40, 0u64..3), 1..60),
        interval_secs in 1u32..120,
    ) {
        let t0 = Instant::now();
        let mut alarm = CategoryAlarm::new(t0);
        let mut reference = std::collections::VecDeque::new();
        let (mut secs, mut value) = (0u64, 0u64);
        for (gap, rise) in steps {
            secs += gap;
            // Mostly flat, sometimes rising: runs of equal values.
            value += if rise == 2 { 5 } else { 0 };
            let now = t0 + Duration::from_secs(secs);
            let want = delta_keeping_every_sample(&mut reference, now, value, interval_secs);
            let window = Duration::from_secs(u64::from(interval_secs));
            proptest::prop_assert_eq!(alarm.delta(now, value, window, Duration::ZERO), want);
            proptest::prop_assert!(alarm.samples.len() <= reference.len());
        }
    }
}

#[test]
fn a_quiet_alarm_keeps_two_samples() {
    let t0 = Instant::now();
    let mut alarm = CategoryAlarm::new(t0);
    for i in 0..100u64 {
        alarm.delta(
            t0 + Duration::from_secs(10 * i),
            7,
            Duration::from_secs(300),
            Duration::from_secs(5),
        );
    }
    assert_eq!(alarm.samples.len(), 2);
}

#[test]
fn disabled_categories_keep_no_state() {
    let mut rig = Rig::new(AlarmConfig::default());
    rig.poll(0, 0);
    rig.poll(10, 1);
    assert!(!rig
        .engine
        .categories
        .iter()
        .any(|(key, _)| *key == (7, ErrorCategory::Dropped)));
}

/// Events whose notification is held back or switched off are still
/// reported (for the event history), once each, marked as such.
#[test]
fn held_and_disabled_events_are_reported_but_not_sent() {
    // Hold-down 60 s: the falling 10 s after the rising is held back (once,
    // however many polls it stays held), then sent when the hold-down ends.
    let mut r = Rig::new(config(10, 1, 0, 60));
    r.poll_all(0, 0);
    let (e, _) = r.poll_all(10, 1);
    assert_eq!(
        e.iter().map(|e| e.notified).collect::<Vec<_>>(),
        [Notified::Sent]
    );
    let (e, _) = r.poll_all(20, 0);
    assert_eq!(
        e.iter().map(|e| (kind(e), e.notified)).collect::<Vec<_>>(),
        [("falling", Notified::HeldDown)]
    );
    for secs in [30, 40, 50, 60] {
        assert!(r.poll_all(secs, 0).0.is_empty(), "held once, at {secs}");
    }
    let (e, _) = r.poll_all(70, 0);
    assert_eq!(
        e.iter().map(|e| (kind(e), e.notified)).collect::<Vec<_>>(),
        [("falling", Notified::Sent)]
    );

    let mut c = config(10, 1, 0, 0);
    c.notifications.tx_error_rising = false;
    c.notifications.sa_down = false;
    let mut r = Rig::new(c);
    r.poll_all(0, 0);
    let (e, _) = r.poll_all(10, 1);
    assert_eq!(
        e.iter().map(|e| (kind(e), e.notified)).collect::<Vec<_>>(),
        [("rising", Notified::Disabled)]
    );
    r.outbound = 0;
    assert_eq!(r.sa_records(20), [("saDown", Notified::Disabled)]);
}

#[test]
fn a_held_sa_change_is_reported_once_then_sent() {
    let mut r = Rig::new(config(10, 1, 0, 60));
    assert!(r.sa_records(0).is_empty());
    r.outbound = 0;
    assert_eq!(r.sa_records(10), [("saDown", Notified::Sent)]);
    r.outbound = 1;
    assert_eq!(r.sa_records(20), [("saUp", Notified::HeldDown)]);
    assert!(r.sa_records(30).is_empty(), "held: reported once");
    assert_eq!(r.sa_records(70), [("saUp", Notified::Sent)]);
}

/// The IKE and tunnel up/down events sent for one snapshot: (kind, reason number).
fn updown_events(engine: &mut AlarmEngine, snap: &Snapshot) -> Vec<(&'static str, Option<i32>)> {
    use crate::mib::columns::MibEnum;
    let (events, _) = engine.evaluate(snap);
    events
        .iter()
        .filter(|e| e.is_sent())
        .filter_map(|e| match &e.detail {
            Detail::Ike { reason, .. } => Some((kind(e), reason.map(|r| r.mib_number()))),
            Detail::Link { .. } => Some((kind(e), None)),
            _ => None,
        })
        .collect()
}

#[test]
fn ike_and_tunnel_events_follow_the_state_and_each_new_failure() {
    let mut engine = AlarmEngine::new(config(10, 1, 0, 0));
    let rig = Rig::new(AlarmConfig::default());
    let mut snap = rig.snapshot(0);
    let failure = |secs: u64, reason: TermReason| IkeFailure {
        reason,
        message: "charon's line".into(),
        unix_secs: secs,
        ike_sa_uniqueid: Some(1),
        child: None,
    };
    snap.ike = IkeView {
        enabled: true,
        available: true,
        unavailable: None,
        rows: vec![IkeRow {
            index: 1,
            conn: "peer".into(),
            child: "vti1".into(),
            ike_state: IkeSaState::Established,
            child_state: ChildSaState::Installed,
            tunnel_ifindex: 7,
            ..IkeRow::default()
        }],
    };
    assert_eq!(updown_events(&mut engine, &snap), []);
    // A rekey (old REKEYED beside the new INSTALLED is one row, still up): nothing.
    snap.ike.rows[0].child_state = ChildSaState::Rekeyed;
    assert_eq!(updown_events(&mut engine, &snap), []);
    // The CHILD_SA goes; the hook downs the tunnel.
    snap.ike.rows[0].child_state = ChildSaState::None;
    snap.ike.rows[0].last_failure = Some(failure(100, TermReason::DeletedLocally));
    snap.tunnels[0].tunnel.admin_up = false;
    assert_eq!(
        updown_events(&mut engine, &snap),
        [("tunnelDown", None), ("ikeDown", Some(8))]
    );
    assert_eq!(updown_events(&mut engine, &snap), [], "no news, no event");
    // Another attempt fails for another reason: reported again.
    snap.ike.rows[0].last_failure = Some(failure(103, TermReason::AuthFailed));
    assert_eq!(updown_events(&mut engine, &snap), [("ikeDown", Some(2))]);
    // charon unreachable: the IKE rows say nothing (vtiIkeAvailable does).
    let mut gone = snap.clone();
    gone.ike.available = false;
    gone.ike.rows.clear();
    assert_eq!(updown_events(&mut engine, &gone), []);
    snap.ike.rows[0].child_state = ChildSaState::Installed;
    snap.tunnels[0].tunnel.admin_up = true;
    assert_eq!(
        updown_events(&mut engine, &snap),
        [("tunnelUp", None), ("ikeUp", None)]
    );
}
