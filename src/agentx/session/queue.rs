//! Notifications waiting for a live session: a bounded FIFO that drops the
//! oldest when full.

use std::collections::VecDeque;
use std::sync::Arc;

use super::notification::Notification;
use super::stats::SessionStats;

pub struct NotifyQueue {
    items: VecDeque<Notification>,
    capacity: usize,
    stats: Arc<SessionStats>,
    /// Dropped since the last report, so a long outage logs one line when the
    /// queue first overflows and one summary when the master is back.
    dropped_unreported: u64,
}

impl NotifyQueue {
    pub fn new(capacity: usize, stats: Arc<SessionStats>) -> Self {
        NotifyQueue {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            stats,
            dropped_unreported: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn push_back(&mut self, n: Notification) {
        self.items.push_back(n);
        self.trim();
    }

    /// Puts notifications that were in flight when the session died back at
    /// the head, oldest first, so they go out again before newer ones.
    pub fn requeue_front(&mut self, oldest_first: impl DoubleEndedIterator<Item = Notification>) {
        for n in oldest_first.rev() {
            self.items.push_front(n);
        }
        self.trim();
    }

    pub fn pop_front(&mut self) -> Option<Notification> {
        self.items.pop_front()
    }

    fn trim(&mut self) {
        while self.items.len() > self.capacity {
            let Some(dropped) = self.items.pop_front() else {
                break;
            };
            self.stats.count_dropped();
            if self.dropped_unreported == 0 {
                tracing::warn!(
                    "notification queue full ({} waiting for the master); dropping the oldest \
                     (trap {}) and any further overflow",
                    self.capacity,
                    dropped.trap_oid
                );
            }
            self.dropped_unreported += 1;
        }
    }

    /// Logs how many notifications were lost since the last report, if any.
    pub fn report_drops(&mut self) {
        if self.dropped_unreported > 0 {
            tracing::warn!(
                "{} notification(s) were dropped while the master was unavailable",
                self.dropped_unreported
            );
            self.dropped_unreported = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid::Oid;
    use crate::value::Value;

    fn note(i: u32) -> Notification {
        Notification {
            trap_oid: Oid::new(vec![1, 3, 6, 1, 4, 1, 99, 0, i]),
            varbinds: vec![(
                Oid::new(vec![1, 3, 6, 1, 4, 1, 99, 1, i]),
                Value::Integer(i as i32),
            )],
        }
    }

    fn drain(q: &mut NotifyQueue) -> Vec<u32> {
        std::iter::from_fn(|| q.pop_front())
            .map(|n| *n.trap_oid.as_slice().last().unwrap())
            .collect()
    }

    #[test]
    fn drops_oldest_when_full_and_counts() {
        let stats = Arc::new(SessionStats::default());
        let mut q = NotifyQueue::new(3, stats.clone());
        for i in 1..=5 {
            q.push_back(note(i));
        }
        assert_eq!(stats.notifications_dropped(), 2);
        assert_eq!(drain(&mut q), [3, 4, 5]);
        q.report_drops();
        assert_eq!(q.dropped_unreported, 0);
    }

    #[test]
    fn requeued_in_flight_go_first_and_oldest_drop_first() {
        let stats = Arc::new(SessionStats::default());
        let mut q = NotifyQueue::new(4, stats.clone());
        q.push_back(note(3));
        q.push_back(note(4));
        q.requeue_front(vec![note(1), note(2)].into_iter());
        assert_eq!(q.len(), 4);
        q.push_back(note(5));
        assert_eq!(drain(&mut q), [2, 3, 4, 5]);
        assert_eq!(stats.notifications_dropped(), 1);
    }
}
