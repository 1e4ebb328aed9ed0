//! The AgentX session with the master agent (RFC 2741 §7).
//!
//! [`run_session`] connects, opens a session, registers the MIB root
//! (priority 127), adds it to the master's sysORTable, then serves
//! Get/GetNext/GetBulk from the current [`SharedIndex`] snapshot and refuses
//! Sets. It pings the master every `ping_interval`; on EOF, an I/O error, a
//! missed Ping or a Close from the master it reconnects — at the initial
//! pace for a while (a master that went away is usually restarting), then
//! with capped exponential backoff — and registers again. It returns when `shutdown`
//! completes, after sending Close (reason shutdown).
//!
//! Notifications come in on an `mpsc` channel that the session drains at all
//! times; they wait in a bounded queue (oldest dropped, counted in
//! [`SessionStats`]) while the master is away and go out as Notify PDUs once
//! a session is registered.
//!
//! ```no_run
//! # async fn example(index: vti_agentx::mib::SharedIndex) {
//! use vti_agentx::agentx::session::{run_session, SessionConfig};
//! let cfg = SessionConfig::new(
//!     "unix:/var/agentx/master".parse().unwrap(),
//!     "1.3.6.1.4.1.8072.9999.9999.2741".parse().unwrap(),
//!     "vti-agentx",
//! );
//! let (notify_tx, notify_rx) = tokio::sync::mpsc::channel(64);
//! // hand notify_tx to the alarm engine, then:
//! run_session(cfg, index, notify_rx, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! .unwrap();
//! # }
//! ```

pub mod answer;
mod conn;
mod link;
mod queue;
mod responder;
mod serve;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

pub use conn::LinkError;
pub use queue::{SNMP_TRAP_OID_0, SYS_UPTIME_0};

use crate::agentx::transport::{MasterAddr, MasterAddrError};
use crate::alarm::notify::Notification;
use crate::config::Config;
use crate::mib::index::SharedIndex;
use crate::oid::{Oid, MAX_OID_LEN};
use link::{Backoff, LinkLog};
use queue::NotifyQueue;
use serve::{drain_until, establish, serve, Ended, Inbox, Shared};

#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub master: MasterAddr,
    /// The subtree we register, also our Open and sysORTable OID.
    pub root: Oid,
    /// Open's o.descr and the sysORTable description.
    pub description: String,
    /// How often to Ping the master.
    pub ping_interval: Duration,
    /// How long the master may take to answer a PDU of ours (and to accept
    /// a connection or a write) before we consider it dead.
    pub response_timeout: Duration,
    /// First reconnect delay; doubles per failed attempt up to
    /// `backoff_max`.
    pub backoff_initial: Duration,
    /// Upper bound of the reconnect delay: a restarted master is re-joined
    /// at most this long after it is back.
    pub backoff_max: Duration,
    /// Notifications held while the master is away; the oldest are dropped
    /// beyond this.
    pub notify_queue_len: usize,
}

pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(4);
pub const DEFAULT_NOTIFY_QUEUE_LEN: usize = 256;

/// A session that ended sooner than this after registering does not get the
/// fast reconnects of a restart (`link::RESTART_WINDOW`), so a master that
/// accepts and then drops us at once is not hammered with reconnects.
const STABLE_SESSION: Duration = Duration::from_secs(10);

impl SessionConfig {
    pub fn new(master: MasterAddr, root: Oid, description: impl Into<String>) -> Self {
        SessionConfig {
            master,
            root,
            description: description.into(),
            ping_interval: DEFAULT_PING_INTERVAL,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
            notify_queue_len: DEFAULT_NOTIFY_QUEUE_LEN,
        }
    }

    /// From the agent's configuration file; other fields take defaults.
    pub fn from_config(config: &Config) -> Result<Self, MasterAddrError> {
        let mut cfg = SessionConfig::new(
            config.master.parse()?,
            config.oid_root.clone(),
            config.description.clone(),
        );
        cfg.ping_interval = Duration::from_secs(u64::from(config.ping_interval_secs.max(1)));
        Ok(cfg)
    }
}

/// Counters for the outside world (logs, a future status object).
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
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("MIB root {0} cannot be registered: it must have 1 to {MAX_OID_LEN} sub-identifiers")]
    BadRoot(Oid),
}

/// A session, built so its [`SessionStats`] can be shared before it runs.
pub struct Session {
    cfg: SessionConfig,
    index: SharedIndex,
    notifications: mpsc::Receiver<Notification>,
    stats: Arc<SessionStats>,
}

impl Session {
    pub fn new(
        cfg: SessionConfig,
        index: SharedIndex,
        notifications: mpsc::Receiver<Notification>,
    ) -> Self {
        Session {
            cfg,
            index,
            notifications,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<SessionStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown` completes. Errors only for a configuration that
    /// can never work; everything else is retried.
    pub async fn run<S: Future>(self, shutdown: S) -> Result<(), SessionError> {
        let Session {
            cfg,
            index,
            notifications,
            stats,
        } = self;
        if cfg.root.is_empty() || cfg.root.len() > MAX_OID_LEN {
            return Err(SessionError::BadRoot(cfg.root));
        }
        // Polled only when a signal (or whatever it waits on) woke it, not
        // on every request from the master.
        let shutdown = crate::gate::Gated::new(shutdown);
        tokio::pin!(shutdown);
        let mut inbox = Inbox::new(notifications);
        let mut queue = NotifyQueue::new(cfg.notify_queue_len, stats.clone());
        let mut sh = Shared {
            cfg: &cfg,
            stats: &stats,
            inbox: &mut inbox,
            queue: &mut queue,
            shutdown,
        };
        let mut backoff = Backoff::new(cfg.backoff_initial, cfg.backoff_max);
        let mut log = LinkLog::new(cfg.master.to_string());

        loop {
            let Some(attempt) = drain_until(&mut sh, establish(&cfg, &index)).await else {
                break;
            };
            let failure = match attempt {
                Ok(mut conn) => {
                    log.registered(conn.session_id, &cfg.root);
                    stats.connected.store(true, Ordering::Relaxed);
                    stats.sessions.fetch_add(1, Ordering::Relaxed);
                    sh.queue.report_drops();
                    let waiting = sh.queue.len();
                    if waiting > 0 {
                        tracing::info!(
                            "AgentX: sending {waiting} notification(s) queued while the master \
                             was away"
                        );
                    }
                    let started = Instant::now();
                    let ended = serve(&mut conn, &mut sh).await;
                    stats.connected.store(false, Ordering::Relaxed);
                    let Ended::Lost(e) = ended else {
                        break;
                    };
                    log.lost(&e);
                    if started.elapsed() >= STABLE_SESSION {
                        backoff.session_lost(Instant::now());
                    }
                    None
                }
                Err(e) => Some(e),
            };
            let delay = backoff.next_delay(Instant::now());
            if let Some(e) = failure {
                log.attempt_failed(&e, delay);
            }
            if drain_until(&mut sh, tokio::time::sleep(delay))
                .await
                .is_none()
            {
                break;
            }
        }
        let discarded = sh.queue.len();
        if discarded > 0 {
            tracing::warn!("AgentX: {discarded} queued notification(s) discarded at shutdown");
        }
        Ok(())
    }
}

/// Runs a session until `shutdown` completes; see the module docs.
pub async fn run_session<S: Future>(
    cfg: SessionConfig,
    index: SharedIndex,
    notifications: mpsc::Receiver<Notification>,
    shutdown: S,
) -> Result<(), SessionError> {
    Session::new(cfg, index, notifications).run(shutdown).await
}
