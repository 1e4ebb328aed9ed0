//! The last failure per connection, derived from charon's event stream:
//! `log` lines (see `reason`) and `ike-updown` / `child-updown` /
//! `ike-rekey` / `child-rekey` events. Pure state: time comes in as an
//! argument, so the derivation is tested with hand-made sequences.
//!
//! charon delivers `log` events from a queue, so a log line may arrive
//! just *after* the updown event it explains. A down event without a known
//! cause is therefore recorded as provisional `other` and refined by a
//! deletion line for the same IKE SA that follows within [`PENDING_SECS`].
//!
//! The first deletion line of an SA decides who deleted it: a local
//! terminate logs `deleting IKE_SA …` / `closing CHILD_SA …` before the
//! peer's reply (whose DELETE payload is logged as `received DELETE for …`),
//! a peer's delete is logged the other way round. One IKE SA's deletion
//! explains the down events of its CHILD_SAs that charon raises with it.
//! When charon shuts down it deletes every IKE SA but no longer delivers log
//! lines, so `SIGTERM received, shutting down` explains the down events that
//! follow it; as that line is not always delivered, the event connection
//! closing right after unexplained down events means the same.
//!
//! A responder's IKE SA has no name until IKE_AUTH selects a config, so a
//! failure in IKE_SA_INIT (no proposal chosen) is logged for `(unnamed)`:
//! it is kept per peer address (from charon's `… is initiating an IKE_SA`
//! line or the down event) and shown on the connections to that address.

use std::collections::HashMap;

use super::reason::{classify, initiating_host, sanitise, Signal};
use super::sample::{ChildBinding, IkeFailure, IkeSa, TermReason};

/// charon's name for an IKE SA without a config yet.
const UNNAMED: &str = "(unnamed)";

/// How soon after down events charon's closing of the event connection
/// means it shut down (it raises them while deleting every SA, then exits).
pub const SHUTDOWN_SECS: u64 = 2;
/// The message recorded when only the closed connection tells of a shutdown.
pub const SHUTDOWN_MESSAGE: &str = "charon closed the VICI connection (shutting down)";
/// How long a deletion line and a down event are taken to belong together.
pub const PENDING_SECS: u64 = 10;
/// How far apart the two deletion lines of one exchange may be (charon logs
/// them back to back). Wider, and a rekey's `closing CHILD_SA` line would
/// decide who deleted the next child of the same IKE SA seconds later.
pub const EXCHANGE_SECS: u64 = 1;
/// Bounds on what is remembered (connections, IKE SAs, child bindings).
const MAX_CONNECTIONS: usize = 4096;
const MAX_SAS: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// A down event with no explaining line yet.
    Provisional,
    /// A DELETE (ours or the peer's) followed by a down event.
    Deletion,
    /// A line that is a failure in itself.
    Specific,
}

#[derive(Debug, Clone)]
struct Recorded {
    failure: IkeFailure,
    strength: Strength,
    /// Order of recording (timestamps are whole seconds).
    seq: u64,
}

#[derive(Debug, Clone, Default)]
struct SaState {
    dpd_sent: bool,
    /// The last deletion line: (by_peer, message, unix time).
    deletion: Option<(bool, String, u64)>,
    /// For an unnamed (responder) SA: the peer, and a failure seen before it.
    remote_host: Option<String>,
    orphan: Option<IkeFailure>,
    touched: u64,
}

#[derive(Debug, Default)]
pub struct FailureTracker {
    failures: HashMap<String, Recorded>,
    /// Failures of unnamed SAs, by peer address.
    peer_failures: HashMap<String, Recorded>,
    next_seq: u64,
    sas: HashMap<u32, SaState>,
    /// charon's shutdown line (sanitised) and its time.
    shutdown: Option<(String, u64)>,
    bindings: HashMap<(String, String), ChildBinding>,
}

impl FailureTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last failure of connection `conn`.
    pub fn failure(&self, conn: &str) -> Option<&IkeFailure> {
        self.failures.get(conn).map(|r| &r.failure)
    }

    /// The last failure of `conn`, or of an unnamed SA with one of its
    /// remote addresses if that is newer.
    pub fn failure_for(&self, conn: &str, remote_addrs: &[String]) -> Option<&IkeFailure> {
        let by_peer = remote_addrs
            .iter()
            .filter_map(|addr| self.peer_failures.get(addr));
        std::iter::once(self.failures.get(conn))
            .flatten()
            .chain(by_peer)
            .max_by_key(|r| r.seq)
            .map(|r| &r.failure)
    }

    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn record_peer(&mut self, host: String, failure: IkeFailure) {
        if self.peer_failures.len() >= MAX_CONNECTIONS && !self.peer_failures.contains_key(&host) {
            return;
        }
        let seq = self.next_seq();
        let recorded = Recorded {
            failure,
            strength: Strength::Specific,
            seq,
        };
        self.peer_failures.insert(host, recorded);
    }

    /// A line about an SA that has no name yet (a responder in IKE_SA_INIT).
    fn on_unnamed_log(&mut self, now: u64, uniqueid: u32, msg: &str) {
        if let Some(host) = initiating_host(msg) {
            self.sa(uniqueid, now).remote_host = Some(host.to_owned());
            return;
        }
        let reason = match classify(msg) {
            Some(Signal::Failed(reason)) => reason,
            Some(Signal::GaveUp) => TermReason::PeerUnreachable,
            _ => return,
        };
        let failure = IkeFailure {
            reason,
            message: sanitise(msg),
            unix_secs: now,
            ike_sa_uniqueid: Some(uniqueid),
            child: None,
        };
        let state = self.sa(uniqueid, now);
        match state.remote_host.clone() {
            Some(host) => self.record_peer(host, failure),
            None => state.orphan = Some(failure),
        }
    }

    /// The if_id/mark/reqid of the last CHILD_SA of `conn`'s `child` seen.
    pub fn binding(&self, conn: &str, child: &str) -> Option<&ChildBinding> {
        self.bindings.get(&(conn.to_owned(), child.to_owned()))
    }

    /// Remembers the bindings of every CHILD_SA in a poll.
    pub fn note_sas(&mut self, sas: &[IkeSa]) {
        for sa in sas {
            self.note_bindings(sa);
        }
    }

    fn note_bindings(&mut self, sa: &IkeSa) {
        for child in &sa.children {
            let key = (sa.name.clone(), child.name.clone());
            if self.bindings.len() >= MAX_CONNECTIONS && !self.bindings.contains_key(&key) {
                continue;
            }
            self.bindings.insert(key, child.binding.clone());
        }
    }

    fn sa(&mut self, uniqueid: u32, now: u64) -> &mut SaState {
        if self.sas.len() >= MAX_SAS && !self.sas.contains_key(&uniqueid) {
            if let Some(oldest) = self
                .sas
                .iter()
                .min_by_key(|(_, s)| s.touched)
                .map(|(id, _)| *id)
            {
                self.sas.remove(&oldest);
            }
        }
        let state = self.sas.entry(uniqueid).or_default();
        state.touched = now;
        state
    }

    fn record(&mut self, conn: &str, failure: IkeFailure, strength: Strength) {
        let seq = self.next_seq();
        if self.failures.len() >= MAX_CONNECTIONS && !self.failures.contains_key(conn) {
            let oldest = self
                .failures
                .iter()
                .min_by_key(|(_, r)| r.failure.unix_secs)
                .map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                self.failures.remove(&oldest);
            }
        }
        self.failures.insert(
            conn.to_owned(),
            Recorded {
                failure,
                strength,
                seq,
            },
        );
    }

    /// A failure line; a second line with the same reason on the same SA
    /// (`giving up after 2 retransmits`, then `establishing IKE_SA failed,
    /// peer not responding`) keeps the first, which names the cause.
    fn record_specific(&mut self, conn: &str, failure: IkeFailure) {
        if let Some(recorded) = self.failures.get(conn) {
            let same = recorded.strength == Strength::Specific
                && recorded.failure.reason == failure.reason
                && recorded.failure.ike_sa_uniqueid == failure.ike_sa_uniqueid
                && failure.unix_secs <= recorded.failure.unix_secs + PENDING_SECS;
            if same {
                return;
            }
        }
        self.record(conn, failure, Strength::Specific);
    }

    /// A `log` event: `conn`/`uniqueid` are its `ikesa-name`/`ikesa-uniqueid`
    /// (lines outside an IKE SA cannot be attributed and are ignored).
    pub fn on_log(&mut self, now: u64, conn: Option<&str>, uniqueid: Option<u32>, msg: &str) {
        if conn.is_none() && classify(msg) == Some(Signal::ShuttingDown) {
            return self.on_shutdown(now, msg);
        }
        if let (None | Some(UNNAMED), Some(id)) = (conn, uniqueid) {
            return self.on_unnamed_log(now, id, msg);
        }
        let (Some(conn), Some(signal)) = (conn, classify(msg)) else {
            return;
        };
        let failure = |reason| IkeFailure {
            reason,
            message: sanitise(msg),
            unix_secs: now,
            ike_sa_uniqueid: uniqueid,
            child: None,
        };
        match signal {
            Signal::Failed(reason) => self.record_specific(conn, failure(reason)),
            Signal::GaveUp => {
                let dpd = uniqueid.is_some_and(|id| self.sas.get(&id).is_some_and(|s| s.dpd_sent));
                let reason = if dpd {
                    TermReason::DpdTimeout
                } else {
                    TermReason::PeerUnreachable
                };
                self.record_specific(conn, failure(reason));
            }
            Signal::DpdSent => {
                if let Some(id) = uniqueid {
                    self.sa(id, now).dpd_sent = true;
                }
            }
            Signal::ShuttingDown => {}
            Signal::Deleted { by_peer } => {
                let Some(id) = uniqueid else { return };
                let state = self.sa(id, now);
                // The first deletion line names who started the exchange;
                // the other side's DELETE (or our own line) that follows is not.
                let follows = state
                    .deletion
                    .as_ref()
                    .is_some_and(|(_, _, at)| now <= at + EXCHANGE_SECS);
                if follows {
                    return;
                }
                state.deletion = Some((by_peer, sanitise(msg), now));
                // Refine a down event that arrived before this line.
                if let Some(recorded) = self.failures.get_mut(conn) {
                    let same_sa = recorded.failure.ike_sa_uniqueid == Some(id);
                    let fresh = now <= recorded.failure.unix_secs + PENDING_SECS;
                    let upgrade = recorded.strength == Strength::Provisional;
                    if same_sa && fresh && upgrade {
                        recorded.failure.reason = deletion_reason(by_peer);
                        recorded.failure.message = sanitise(msg);
                        recorded.strength = Strength::Deletion;
                    }
                }
            }
        }
    }

    /// charon's shutdown line: the down events that follow it (and those
    /// just before it, as log lines are queued) are its deletions.
    fn on_shutdown(&mut self, now: u64, msg: &str) {
        let message = sanitise(msg);
        for recorded in self.failures.values_mut() {
            let fresh = now <= recorded.failure.unix_secs + PENDING_SECS;
            if fresh && recorded.strength == Strength::Provisional {
                recorded.failure.reason = TermReason::DeletedLocally;
                recorded.failure.message = message.clone();
                recorded.strength = Strength::Deletion;
            }
        }
        self.shutdown = Some((message, now));
    }

    /// The event connection was closed by charon. Down events just before
    /// it with no explanation are its shutdown's deletions: the shutdown line
    /// is not always delivered (charon stops serving its log queue).
    pub fn on_events_lost(&mut self, now: u64) {
        for recorded in self.failures.values_mut() {
            let fresh = now <= recorded.failure.unix_secs + SHUTDOWN_SECS;
            if fresh && recorded.strength == Strength::Provisional {
                recorded.failure.reason = TermReason::DeletedLocally;
                recorded.failure.message = SHUTDOWN_MESSAGE.to_owned();
                recorded.strength = Strength::Deletion;
            }
        }
    }

    /// An `ike-updown` event.
    pub fn on_ike_updown(&mut self, now: u64, up: bool, sa: &IkeSa) {
        if sa.name == UNNAMED {
            // Kept (not removed) for failure lines that arrive after this event.
            let state = self.sa(sa.uniqueid, now);
            let host = state
                .remote_host
                .get_or_insert_with(|| sa.remote_host.clone())
                .clone();
            if let Some(orphan) = state.orphan.take() {
                self.record_peer(host, orphan);
            }
            return;
        }
        if up {
            self.note_bindings(sa);
            self.shutdown = None;
            let state = self.sa(sa.uniqueid, now);
            state.dpd_sent = false;
            state.deletion = None;
        } else {
            let what = format!(
                "IKE_SA {}[{}] down in state {}",
                sa.name, sa.uniqueid, sa.state
            );
            // The SA's state stays (bounded by MAX_SAS): the lines that
            // explain this event may still be on their way.
            self.went_down(now, sa, None, what);
        }
    }

    /// A `child-updown` event (its IKE SA carries the one CHILD_SA).
    pub fn on_child_updown(&mut self, now: u64, up: bool, sa: &IkeSa) {
        if up {
            self.note_bindings(sa);
            return;
        }
        for child in &sa.children {
            let what = format!(
                "CHILD_SA {}{{{}}} down in state {}",
                child.name, child.uniqueid, child.state
            );
            self.went_down(now, sa, Some(child.name.clone()), what);
        }
    }

    /// An `ike-rekey` / `child-rekey` event: the deletion that completes a
    /// rekey is not a failure.
    pub fn on_rekey(&mut self, ike_sa_uniqueid: u32) {
        if let Some(state) = self.sas.get_mut(&ike_sa_uniqueid) {
            state.deletion = None;
        }
    }

    fn went_down(&mut self, now: u64, sa: &IkeSa, child: Option<String>, what: String) {
        if let Some(recorded) = self.failures.get(&sa.name) {
            // A failure line on this very SA already explains it.
            if recorded.strength == Strength::Specific
                && recorded.failure.ike_sa_uniqueid == Some(sa.uniqueid)
            {
                return;
            }
        }
        // Kept, not taken: charon raises the CHILD_SAs' down events right
        // after their IKE SA's, for the same cause.
        let deletion = self
            .sas
            .get(&sa.uniqueid)
            .and_then(|s| s.deletion.clone())
            .filter(|(_, _, at)| now <= at + PENDING_SECS)
            .map(|(by_peer, msg, _)| (deletion_reason(by_peer), msg));
        let shutdown = self
            .shutdown
            .clone()
            .filter(|(_, at)| now <= at + PENDING_SECS)
            .map(|(msg, _)| (TermReason::DeletedLocally, msg));
        let (reason, message, strength) = match deletion.or(shutdown) {
            Some((reason, msg)) => (reason, msg, Strength::Deletion),
            None => (TermReason::Other, sanitise(&what), Strength::Provisional),
        };
        let failure = IkeFailure {
            reason,
            message,
            unix_secs: now,
            ike_sa_uniqueid: Some(sa.uniqueid),
            child,
        };
        self.record(&sa.name, failure, strength);
    }
}

fn deletion_reason(by_peer: bool) -> TermReason {
    if by_peer {
        TermReason::DeletedByPeer
    } else {
        TermReason::DeletedLocally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::ike::sample::ChildSa;

    fn sa(uniqueid: u32, state: &str) -> IkeSa {
        IkeSa {
            name: "vti1".into(),
            uniqueid,
            state: state.into(),
            ..IkeSa::default()
        }
    }

    fn reason(t: &FailureTracker) -> Option<(TermReason, &str)> {
        t.failure("vti1").map(|f| (f.reason, f.message.as_str()))
    }

    fn log(t: &mut FailureTracker, now: u64, id: u32, msg: &str) {
        t.on_log(now, Some("vti1"), Some(id), msg);
    }

    #[test]
    fn auth_failure_is_recorded_and_survives_the_down_event() {
        let mut t = FailureTracker::new();
        log(
            &mut t,
            100,
            1,
            "received AUTHENTICATION_FAILED notify error",
        );
        t.on_ike_updown(100, false, &sa(1, "CONNECTING"));
        let f = t.failure("vti1").unwrap();
        assert_eq!(f.reason, TermReason::AuthFailed);
        assert_eq!(f.message, "received AUTHENTICATION_FAILED notify error");
        assert_eq!((f.unix_secs, f.ike_sa_uniqueid), (100, Some(1)));
    }

    #[test]
    fn retransmit_give_up_is_unreachable_unless_a_dpd_was_pending() {
        let mut t = FailureTracker::new();
        log(&mut t, 10, 1, "giving up after 5 retransmits");
        log(
            &mut t,
            10,
            1,
            "establishing IKE_SA failed, peer not responding",
        );
        assert_eq!(
            reason(&t),
            Some((TermReason::PeerUnreachable, "giving up after 5 retransmits"))
        );

        t.on_ike_updown(20, true, &sa(2, "ESTABLISHED"));
        log(&mut t, 30, 2, "sending DPD request");
        log(&mut t, 60, 2, "giving up after 5 retransmits");
        assert_eq!(reason(&t).unwrap().0, TermReason::DpdTimeout);
    }

    #[test]
    fn dpd_give_up_arriving_after_the_down_event() {
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(5, "ESTABLISHED"));
        log(&mut t, 3, 5, "sending DPD request");
        t.on_ike_updown(7, false, &sa(5, "ESTABLISHED"));
        log(&mut t, 7, 5, "giving up after 2 retransmits");
        assert_eq!(reason(&t).unwrap().0, TermReason::DpdTimeout);
    }

    #[test]
    fn peer_delete_wins_over_our_own_deletion_line() {
        let mut t = FailureTracker::new();
        log(&mut t, 10, 1, "received DELETE for IKE_SA vti1[1]");
        log(
            &mut t,
            10,
            1,
            "deleting IKE_SA vti1[1] between 192.0.2.1[a]...192.0.2.2[b]",
        );
        t.on_ike_updown(10, false, &sa(1, "DELETING"));
        assert_eq!(
            reason(&t),
            Some((
                TermReason::DeletedByPeer,
                "received DELETE for IKE_SA vti1[1]"
            ))
        );
    }

    #[test]
    fn a_deletion_line_arriving_after_the_down_event_refines_it() {
        let mut t = FailureTracker::new();
        t.on_ike_updown(10, false, &sa(1, "DELETING"));
        assert_eq!(
            reason(&t),
            Some((TermReason::Other, "IKE_SA vti1[1] down in state DELETING"))
        );
        // A peer's delete as charon logs it: its DELETE, then our deletion.
        log(&mut t, 11, 1, "received DELETE for IKE_SA vti1[1]");
        assert_eq!(reason(&t).unwrap().0, TermReason::DeletedByPeer);
        log(&mut t, 11, 1, "deleting IKE_SA vti1[1] between x...y");
        assert_eq!(reason(&t).unwrap().0, TermReason::DeletedByPeer);
        // Too late, or about another SA: no change.
        log(&mut t, 30, 1, "deleting IKE_SA vti1[1] between x...y");
        log(&mut t, 11, 9, "deleting IKE_SA vti1[9] between x...y");
        assert_eq!(reason(&t).unwrap().0, TermReason::DeletedByPeer);
    }

    fn with_child(mut sa: IkeSa, uniqueid: u32, state: &str) -> IkeSa {
        sa.children.push(ChildSa {
            name: "vti1-child".into(),
            uniqueid,
            state: state.into(),
            ..ChildSa::default()
        });
        sa
    }

    /// `swanctl --terminate --ike vti1` on this side (charon 5.9.8's lines):
    /// the IKE SA's down event and the CHILD_SA's that charon raises with it.
    #[test]
    fn local_ike_terminate_is_deleted_locally_for_the_child_too() {
        let deleting =
            "deleting IKE_SA vti1[1] between 192.0.2.1[192.0.2.1]...192.0.2.2[192.0.2.2]";
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(1, "ESTABLISHED"));
        log(&mut t, 5, 1, deleting);
        log(&mut t, 5, 1, "sending DELETE for IKE_SA vti1[1]");
        log(&mut t, 5, 1, "IKE_SA deleted");
        t.on_ike_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        assert_eq!(reason(&t), Some((TermReason::DeletedLocally, deleting)));
        t.on_child_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        let f = t.failure("vti1").unwrap();
        assert_eq!(
            (f.reason, f.message.as_str(), f.child.as_deref()),
            (TermReason::DeletedLocally, deleting, Some("vti1-child"))
        );
    }

    /// `swanctl --terminate --child vti1-child` on this side: our closing
    /// line comes first, the peer's DELETE in its reply after it.
    #[test]
    fn local_child_terminate_is_not_blamed_on_the_peers_reply() {
        let closing = "closing CHILD_SA vti1-child{1} with SPIs c8e1f2a3_i (0 bytes) c2d4e6f8_o (0 bytes) and TS 0.0.0.0/0 === 0.0.0.0/0";
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(1, "ESTABLISHED"));
        log(&mut t, 5, 1, closing);
        log(
            &mut t,
            5,
            1,
            "sending DELETE for ESP CHILD_SA with SPI c8e1f2a3",
        );
        log(
            &mut t,
            5,
            1,
            "received DELETE for ESP CHILD_SA with SPI c2d4e6f8",
        );
        log(&mut t, 5, 1, "CHILD_SA closed");
        t.on_child_updown(5, false, &with_child(sa(1, "ESTABLISHED"), 1, "DELETED"));
        assert_eq!(reason(&t), Some((TermReason::DeletedLocally, closing)));
    }

    /// Lab finding: a rekey closes the old CHILD_SA with a local deletion
    /// line; a peer's delete of the new child seconds later is still the
    /// peer's.
    #[test]
    fn a_rekeys_closing_line_does_not_decide_a_later_peer_delete() {
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(1, "ESTABLISHED"));
        log(
            &mut t,
            2,
            1,
            "closing CHILD_SA vti1-child{1} with SPIs c8e1f2a3_i (0 bytes) c2d4e6f8_o (0 bytes) and TS 0.0.0.0/0 === 0.0.0.0/0",
        );
        let received = "received DELETE for ESP CHILD_SA with SPI c469c17d";
        log(&mut t, 6, 1, received);
        log(
            &mut t,
            6,
            1,
            "closing CHILD_SA vti1-child{2} with SPIs c7ecaa80_i (0 bytes) c469c17d_o (0 bytes) and TS 0.0.0.0/0 === 0.0.0.0/0",
        );
        t.on_child_updown(6, false, &with_child(sa(1, "ESTABLISHED"), 2, "DELETED"));
        assert_eq!(reason(&t), Some((TermReason::DeletedByPeer, received)));
    }

    /// charon stopped with SIGTERM: its shutdown line (outside any IKE SA),
    /// then the down events of every SA, and no further log lines.
    #[test]
    fn charon_shutting_down_is_deleted_locally() {
        let line = "SIGTERM received, shutting down";
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(1, "ESTABLISHED"));
        t.on_log(5, None, None, line);
        t.on_ike_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        t.on_child_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        assert_eq!(reason(&t), Some((TermReason::DeletedLocally, line)));

        // The line queued behind the down events still explains them.
        let mut t = FailureTracker::new();
        t.on_child_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        assert_eq!(reason(&t).unwrap().0, TermReason::Other);
        t.on_log(5, None, None, line);
        assert_eq!(reason(&t), Some((TermReason::DeletedLocally, line)));

        // Once charon is back and an SA came up, a down is not blamed on it.
        t.on_ike_updown(8, true, &sa(2, "ESTABLISHED"));
        t.on_ike_updown(9, false, &sa(2, "ESTABLISHED"));
        assert_eq!(reason(&t).unwrap().0, TermReason::Other);
        // Without the line: the connection closed right after the down events.
        let mut t = FailureTracker::new();
        t.on_child_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        t.on_events_lost(6);
        assert_eq!(
            reason(&t),
            Some((TermReason::DeletedLocally, SHUTDOWN_MESSAGE))
        );
        // A down long before the connection closed (SIGKILL) stays unexplained.
        let mut t = FailureTracker::new();
        t.on_child_updown(5, false, &with_child(sa(1, "DELETING"), 1, "INSTALLED"));
        t.on_events_lost(5 + SHUTDOWN_SECS + 1);
        assert_eq!(reason(&t).unwrap().0, TermReason::Other);
        // Nor long after the line.
        let mut t = FailureTracker::new();
        t.on_log(5, None, None, line);
        t.on_ike_updown(5 + PENDING_SECS + 1, false, &sa(1, "ESTABLISHED"));
        assert_eq!(reason(&t).unwrap().0, TermReason::Other);
    }

    #[test]
    fn a_rekey_deletes_without_a_failure() {
        let mut t = FailureTracker::new();
        t.on_ike_updown(1, true, &sa(1, "ESTABLISHED"));
        log(
            &mut t,
            5,
            1,
            "closing CHILD_SA vti1-child{1} with SPIs a_i b_o and TS x === y",
        );
        t.on_rekey(1);
        assert_eq!(reason(&t), None);
        // A later, unrelated child down is not blamed on that old deletion.
        let mut down = sa(1, "ESTABLISHED");
        down.children.push(ChildSa {
            name: "vti1-child".into(),
            uniqueid: 2,
            state: "DELETING".into(),
            ..ChildSa::default()
        });
        t.on_child_updown(6, false, &down);
        let f = t.failure("vti1").unwrap();
        assert_eq!(
            (f.reason, f.child.as_deref()),
            (TermReason::Other, Some("vti1-child"))
        );
    }

    #[test]
    fn child_deleted_by_peer() {
        let mut t = FailureTracker::new();
        log(
            &mut t,
            5,
            1,
            "received DELETE for ESP CHILD_SA with SPI c1a2b3c4",
        );
        log(
            &mut t,
            5,
            1,
            "closing CHILD_SA vti1-child{1} with SPIs c1a2b3c4_i 0badf00d_o",
        );
        let mut down = sa(1, "ESTABLISHED");
        down.children.push(ChildSa {
            name: "vti1-child".into(),
            uniqueid: 1,
            ..ChildSa::default()
        });
        t.on_child_updown(5, false, &down);
        let f = t.failure("vti1").unwrap();
        assert_eq!(f.reason, TermReason::DeletedByPeer);
        assert_eq!(f.child.as_deref(), Some("vti1-child"));
    }

    #[test]
    fn unattributable_and_uninteresting_lines_are_ignored() {
        let mut t = FailureTracker::new();
        t.on_log(1, None, None, "received AUTHENTICATION_FAILED notify error");
        t.on_log(
            1,
            Some("vti1"),
            Some(1),
            "IKE_SA vti1[1] established between a...b",
        );
        assert_eq!(reason(&t), None);
    }

    #[test]
    fn unnamed_responder_failures_are_kept_per_peer() {
        let mut t = FailureTracker::new();
        let peers = ["192.0.2.1".to_owned()];
        // Host known from the initiating line, failure line later.
        t.on_log(
            5,
            Some("(unnamed)"),
            Some(3),
            "192.0.2.1 is initiating an IKE_SA",
        );
        t.on_log(
            5,
            Some("(unnamed)"),
            Some(3),
            "received proposals unacceptable",
        );
        let f = t.failure_for("vti1", &peers).unwrap();
        assert_eq!((f.reason, f.unix_secs), (TermReason::NoProposalChosen, 5));
        assert!(t
            .failure_for("vti1", &["198.51.100.1".to_owned()])
            .is_none());

        // Failure line first, host from the down event.
        t.on_log(9, Some("(unnamed)"), Some(4), "no proposal found");
        let mut down = sa(4, "CONNECTING");
        down.name = "(unnamed)".into();
        down.remote_host = "192.0.2.1".into();
        t.on_ike_updown(9, false, &down);
        assert_eq!(t.failure_for("vti1", &peers).unwrap().unix_secs, 9);

        // Down event first, failure line after it.
        down.uniqueid = 6;
        t.on_ike_updown(10, false, &down);
        t.on_log(10, Some("(unnamed)"), Some(6), "no proposal found");
        assert_eq!(
            t.failure_for("vti1", &peers).unwrap().ike_sa_uniqueid,
            Some(6)
        );

        // A newer named failure wins.
        log(&mut t, 12, 5, "received AUTHENTICATION_FAILED notify error");
        assert_eq!(
            t.failure_for("vti1", &peers).unwrap().reason,
            TermReason::AuthFailed
        );
    }

    #[test]
    fn remembers_child_bindings_from_sas() {
        let mut t = FailureTracker::new();
        let mut up = sa(1, "ESTABLISHED");
        up.children.push(ChildSa {
            name: "vti1-child".into(),
            binding: ChildBinding {
                if_id_out: Some(2),
                ..ChildBinding::default()
            },
            ..ChildSa::default()
        });
        t.note_sas(&[up]);
        assert_eq!(t.binding("vti1", "vti1-child").unwrap().if_id_out, Some(2));
        assert!(t.binding("vti1", "other").is_none());
    }
}
