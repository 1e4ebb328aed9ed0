//! The AgentX session with the master agent (RFC 2741 §7).
//!
//! [`run_session`] connects, opens a session, registers the configured
//! subtree (priority 127), adds it to the master's sysORTable, then answers
//! Get/GetNext/GetBulk from an [`ObjectSource`] and refuses Sets. It pings
//! the master every `ping_interval`; on EOF, an I/O error, a missed Ping or a
//! Close from the master it reconnects — at the initial pace for a while (a
//! master that went away is usually restarting), then with capped
//! exponential backoff — and registers again. It returns when `shutdown`
//! completes, after sending Close (reason shutdown).
//!
//! [`Notification`]s come in on an `mpsc` channel that the session drains at
//! all times; they wait in a bounded queue (oldest dropped, counted in
//! [`SessionStats`]) while the master is away and go out as Notify PDUs once
//! a session is registered.
//!
//! ```no_run
//! # use vti_agentx::agentx::clock::MasterClock;
//! # use vti_agentx::agentx::session::{Objects, ObjectSource, NoObjects};
//! # struct Mine;
//! # impl ObjectSource for Mine {
//! #     fn view(&self, _: MasterClock) -> impl Objects + '_ { NoObjects }
//! # }
//! # async fn example() {
//! use std::sync::Arc;
//! use vti_agentx::agentx::session::{run_session, SessionConfig};
//! let cfg = SessionConfig::new(
//!     "unix:/var/agentx/master".parse().unwrap(),
//!     "1.3.6.1.4.1.8072.9999.9999.2741".parse().unwrap(),
//!     "an example subagent",
//! );
//! let (notify_tx, notify_rx) = tokio::sync::mpsc::channel(64);
//! // keep notify_tx to send notifications, then:
//! run_session(cfg, Arc::new(Mine), notify_rx, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! .unwrap();
//! # drop(notify_tx);
//! # }
//! ```

pub mod answer;
mod config;
mod conn;
mod incoming;
mod link;
mod notification;
mod objects;
mod queue;
mod responder;
mod serve;
mod stats;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

pub use config::{
    SessionConfig, DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_NOTIFY_QUEUE_LEN,
    DEFAULT_PING_INTERVAL, DEFAULT_RESPONSE_TIMEOUT,
};
pub use incoming::LinkError;
pub use notification::{Notification, SNMP_TRAP_OID_0, SYS_UPTIME_0};
pub use objects::{NoObjects, ObjectSource, Objects};
pub use stats::SessionStats;

use crate::oid::{Oid, MAX_OID_LEN};
use link::{Backoff, LinkLog};
use queue::NotifyQueue;
use serve::{drain_until, establish, serve, Ended, Inbox, Shared};

/// A session that ended sooner than this after registering does not get the
/// fast reconnects of a restart (`link::RESTART_WINDOW`), so a master that
/// accepts and then drops us at once is not hammered with reconnects.
const STABLE_SESSION: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("MIB root {0} cannot be registered: it must have 1 to {MAX_OID_LEN} sub-identifiers")]
    BadRoot(Oid),
}

/// A session, built so its [`SessionStats`] can be shared before it runs.
pub struct Session<S> {
    cfg: SessionConfig,
    objects: Arc<S>,
    notifications: mpsc::Receiver<Notification>,
    stats: Arc<SessionStats>,
}

impl<S: ObjectSource> Session<S> {
    /// A session serving `objects` under `cfg.root` and sending what
    /// arrives on `notifications`.
    pub fn new(
        cfg: SessionConfig,
        objects: Arc<S>,
        notifications: mpsc::Receiver<Notification>,
    ) -> Self {
        Session {
            cfg,
            objects,
            notifications,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<SessionStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown` completes. Errors only for a configuration that
    /// can never work; everything else is retried.
    pub async fn run(self, shutdown: impl Future) -> Result<(), SessionError> {
        let Session {
            cfg,
            objects,
            notifications,
            stats,
        } = self;
        if cfg.root.is_empty() || cfg.root.len() > MAX_OID_LEN {
            return Err(SessionError::BadRoot(cfg.root));
        }
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
            let Some(attempt) = drain_until(&mut sh, establish(&cfg, &objects)).await else {
                break;
            };
            let failure = match attempt {
                Ok(mut conn) => {
                    log.registered(conn.session_id, &cfg.root);
                    stats.registered();
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
                    stats.disconnected();
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
pub async fn run_session<S: ObjectSource>(
    cfg: SessionConfig,
    objects: Arc<S>,
    notifications: mpsc::Receiver<Notification>,
    shutdown: impl Future,
) -> Result<(), SessionError> {
    Session::new(cfg, objects, notifications)
        .run(shutdown)
        .await
}
