//! Counters of a session, shared with the outside world (logs, a status
//! object) while the session runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct SessionStats {
    connected: AtomicBool,
    sessions: AtomicU64,
    notifications_sent: AtomicU64,
    notifications_dropped: AtomicU64,
    notifications_rejected: AtomicU64,
}

impl SessionStats {
    /// Whether a session is registered right now.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Sessions registered so far (1 + reconnects).
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }

    /// Notify PDUs the master acknowledged.
    pub fn notifications_sent(&self) -> u64 {
        self.notifications_sent.load(Ordering::Relaxed)
    }

    /// Notifications dropped because the queue was full.
    pub fn notifications_dropped(&self) -> u64 {
        self.notifications_dropped.load(Ordering::Relaxed)
    }

    /// Notifications the master refused or that could not be encoded.
    pub fn notifications_rejected(&self) -> u64 {
        self.notifications_rejected.load(Ordering::Relaxed)
    }

    pub(super) fn registered(&self) {
        self.connected.store(true, Ordering::Relaxed);
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn disconnected(&self) {
        self.connected.store(false, Ordering::Relaxed);
    }

    pub(super) fn count_sent(&self) {
        self.notifications_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_dropped(&self) {
        self.notifications_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_rejected(&self) {
        self.notifications_rejected.fetch_add(1, Ordering::Relaxed);
    }
}
