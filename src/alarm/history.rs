//! vtiEventTable as kept: the last `capacity` events, notified or not, in
//! a ring, each numbered from 1 upwards (never reused while the agent runs,
//! so an NMS that saw index N knows that every row above N is new).
//!
//! Bounded: the ring drops its oldest record when full, and a record's
//! text is cut to a DisplayString's 255 octets. The AgentX session is not
//! involved, so the history outlives master (snmpd) restarts.
//!
//! What is served (`EventTable`) is an immutable copy that shares the
//! records; a poll without new events serves the same copy again.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::event::{Event, EventKind, Notified};
use crate::model::{Cause, ErrorCategory, Peer};
use crate::value::display_string;

/// The default number of events kept (`[events] history_size`).
pub const DEFAULT_CAPACITY: usize = 256;

/// One vtiEventTable row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub index: u32,
    pub at: Instant,
    pub wall_time: SystemTime,
    pub kind: EventKind,
    pub ifindex: u32,
    pub name: Box<str>,
    pub cause: Cause,
    pub peer_addr: Option<IpAddr>,
    /// Threshold events only.
    pub category: Option<ErrorCategory>,
    pub text: Box<str>,
    pub notified: Notified,
}

/// The served event table: the records oldest first, the last index
/// handed out (0: none yet) and the configured size.
#[derive(Clone, Debug, Default)]
pub struct EventTable {
    pub records: Vec<Arc<EventRecord>>,
    pub last_index: u32,
    pub capacity: usize,
}

pub struct EventHistory {
    records: VecDeque<Arc<EventRecord>>,
    capacity: usize,
    last_index: u32,
    /// What was served last; `None` when the ring changed since.
    served: Option<Arc<EventTable>>,
}

impl EventHistory {
    pub fn new(capacity: usize) -> Self {
        EventHistory {
            records: VecDeque::with_capacity(capacity),
            capacity,
            last_index: 0,
            served: None,
        }
    }

    /// A smaller size drops the oldest records now; a larger one keeps
    /// them all (SIGHUP reload).
    pub fn set_capacity(&mut self, capacity: usize) {
        if capacity == self.capacity {
            return;
        }
        self.capacity = capacity;
        self.trim();
        self.records.shrink_to(capacity);
        self.served = None;
    }

    /// Records `event` at `at` and returns its index. The index wraps to 1
    /// after 4294967295 events.
    pub fn record(&mut self, event: &Event, at: Instant, wall_time: SystemTime) -> u32 {
        self.last_index = self.last_index.checked_add(1).unwrap_or(1);
        let peer: Peer = event.peer;
        self.records.push_back(Arc::new(EventRecord {
            index: self.last_index,
            at,
            wall_time,
            kind: event.kind,
            ifindex: event.ifindex,
            name: event.name.as_str().into(),
            cause: event.cause,
            peer_addr: peer.addr,
            category: event.category(),
            text: display_string(&event.text).into(),
            notified: event.notified,
        }));
        self.trim();
        self.served = None;
        self.last_index
    }

    /// The notification of event `index` was lost after all (queue full).
    pub fn mark(&mut self, index: u32, notified: Notified) {
        if let Some(r) = self.records.iter_mut().rev().find(|r| r.index == index) {
            Arc::make_mut(r).notified = notified;
            self.served = None;
        }
    }

    fn trim(&mut self) {
        while self.records.len() > self.capacity {
            self.records.pop_front();
        }
    }

    /// The table to serve now.
    pub fn table(&mut self) -> Arc<EventTable> {
        let records = &self.records;
        let (last_index, capacity) = (self.last_index, self.capacity);
        Arc::clone(self.served.get_or_insert_with(|| {
            Arc::new(EventTable {
                records: records.iter().cloned().collect(),
                last_index,
                capacity,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::event::Detail;
    use crate::model::PeerSource;

    fn event(kind: EventKind, text: &str) -> Event {
        Event {
            kind,
            ifindex: 7,
            name: "xfrm7".into(),
            cause: Cause::NoOutboundSa,
            peer: Peer {
                addr: Some("198.51.100.7".parse().unwrap()),
                source: PeerSource::PolicyTemplate,
            },
            text: text.into(),
            detail: Detail::OutboundSas(0),
            notified: Notified::Disabled,
        }
    }

    fn indexes(t: &EventTable) -> Vec<u32> {
        t.records.iter().map(|r| r.index).collect()
    }

    #[test]
    fn the_window_slides_and_indexes_keep_increasing() {
        let mut h = EventHistory::new(3);
        assert_eq!(h.table().last_index, 0);
        let now = Instant::now();
        for i in 1..=5 {
            assert_eq!(
                h.record(&event(EventKind::SaDown, "x"), now, SystemTime::now()),
                i
            );
        }
        let t = h.table();
        assert_eq!(indexes(&t), vec![3, 4, 5]);
        assert_eq!((t.last_index, t.capacity), (5, 3));
        let r = &t.records[0];
        assert_eq!(
            (r.kind, r.cause, r.notified, r.category),
            (
                EventKind::SaDown,
                Cause::NoOutboundSa,
                Notified::Disabled,
                None
            )
        );
        assert_eq!(r.peer_addr, Some("198.51.100.7".parse().unwrap()));

        h.set_capacity(2);
        assert_eq!(indexes(&h.table()), vec![4, 5]);
        h.set_capacity(4);
        h.record(&event(EventKind::SaUp, "y"), now, SystemTime::now());
        assert_eq!(indexes(&h.table()), vec![4, 5, 6]);
    }

    #[test]
    fn an_unchanged_history_serves_the_same_table_and_a_mark_changes_it() {
        let mut h = EventHistory::new(4);
        let i = h.record(
            &event(EventKind::SaDown, "x"),
            Instant::now(),
            SystemTime::now(),
        );
        let a = h.table();
        assert!(Arc::ptr_eq(&a, &h.table()));
        h.mark(i, Notified::QueueFull);
        let b = h.table();
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.records[0].notified, Notified::QueueFull);
        assert_eq!(
            a.records[0].notified,
            Notified::Disabled,
            "served copy kept"
        );
    }

    #[test]
    fn a_long_text_is_cut_to_a_display_string() {
        let mut h = EventHistory::new(1);
        h.record(
            &event(EventKind::SaDown, &"é".repeat(200)),
            Instant::now(),
            SystemTime::now(),
        );
        assert_eq!(h.table().records[0].text.len(), 254);
    }

    /// Memory of a full table of the default size with typical texts: the
    /// unit figure for the README (printed with --nocapture).
    #[test]
    fn a_full_default_table_costs_a_bounded_amount() {
        let mut h = EventHistory::new(DEFAULT_CAPACITY);
        let text = "no outbound SA for if_id 0x42 (IKE down? check the IKE daemon and \
                    'ip xfrm state') (XfrmOutNoStates +3)";
        for _ in 0..DEFAULT_CAPACITY * 2 {
            h.record(
                &event(EventKind::SaDown, text),
                Instant::now(),
                SystemTime::now(),
            );
        }
        let t = h.table();
        let per_record = std::mem::size_of::<EventRecord>()
            + 2 * std::mem::size_of::<usize>() // Arc counts
            + t.records[0].name.len()
            + t.records[0].text.len();
        // The ring's and the served copy's pointers.
        let total = DEFAULT_CAPACITY * (per_record + 2 * std::mem::size_of::<usize>());
        eprintln!(
            "event history: {} records, {per_record} B each, ~{} KiB in all",
            t.records.len(),
            total / 1024
        );
        assert_eq!(t.records.len(), DEFAULT_CAPACITY);
        assert!(total < 64 * 1024, "{total} B");
    }
}
