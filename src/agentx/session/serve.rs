//! The life of one session: establish (Open, Register, AddAgentCaps), then
//! serve requests, ping, and deliver notifications until it ends.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use super::config::SessionConfig;
use super::conn::Conn;
use super::incoming::{LinkError, Reply};
use super::notification::{notify_varbinds, Notification};
use super::objects::ObjectSource;
use super::queue::NotifyQueue;
use super::stats::SessionStats;
use crate::agentx::clock::MasterClock;
use crate::agentx::pdu::{AgentCaps, Body, CloseReason, ErrorStatus, Open, Register, Response};

/// RFC 2741 §6.2.3: "Subagents with no particular knowledge of priority
/// should register with the default value of 127."
const DEFAULT_PRIORITY: u8 = 127;

/// Notifications sent but not yet acknowledged, at most. Small, so a dead
/// master strands few; more than one, so a burst is not paced by round trips.
const NOTIFY_WINDOW: usize = 8;

/// How long a shutdown waits for the master to acknowledge our Close.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The notification channel, drained at all times (connected or not) so
/// senders never block; pends forever once every sender is gone.
pub struct Inbox {
    rx: mpsc::Receiver<Notification>,
    open: bool,
}

impl Inbox {
    pub fn new(rx: mpsc::Receiver<Notification>) -> Self {
        Inbox { rx, open: true }
    }

    pub async fn recv(&mut self) -> Notification {
        if self.open {
            if let Some(n) = self.rx.recv().await {
                return n;
            }
            self.open = false;
        }
        std::future::pending().await
    }
}

/// What the session loop needs besides the connection.
pub struct Shared<'a, S> {
    pub cfg: &'a SessionConfig,
    pub stats: &'a SessionStats,
    pub inbox: &'a mut Inbox,
    pub queue: &'a mut NotifyQueue,
    pub shutdown: Pin<&'a mut S>,
}

/// Runs `fut` to completion while still queueing notifications; `None` if
/// shutdown came first.
pub async fn drain_until<S: Future, F: Future>(
    sh: &mut Shared<'_, S>,
    fut: F,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            biased;
            _ = sh.shutdown.as_mut() => return None,
            out = &mut fut => return Some(out),
            n = sh.inbox.recv() => sh.queue.push_back(n),
        }
    }
}

fn require_ok(what: &'static str, res: &Response) -> Result<(), LinkError> {
    match res.error {
        ErrorStatus::NoError => Ok(()),
        status => Err(LinkError::Refused { what, status }),
    }
}

/// Connects and performs Open, Register and AddAgentCaps; from then on the
/// master's requests are answered from `objects`.
pub async fn establish<S: ObjectSource>(
    cfg: &SessionConfig,
    objects: &Arc<S>,
) -> Result<Conn, LinkError> {
    let mut conn = Conn::connect(&cfg.master, cfg.response_timeout, &cfg.root, objects).await?;
    let open = Body::Open(Open {
        timeout: 0, // the master's default
        id: cfg.root.clone(),
        descr: cfg.description.as_bytes().to_vec(),
    });
    let reply = conn.request(open, "Open").await?;
    require_ok("Open", &reply.res)?;
    // Anchored once: TimeStamp objects must not shift by a tick between
    // polls, which re-anchoring on every Ping would cause.
    let clock = MasterClock::from_master_uptime(reply.res.sys_uptime, std::time::Instant::now());
    conn.opened(reply.session_id, clock);

    let register = Body::Register(Register {
        context: None,
        timeout: 0,
        priority: DEFAULT_PRIORITY,
        subtree: cfg.root.clone(),
        range: None,
        instance: false,
    });
    let reply = conn.request(register, "Register").await?;
    require_ok("Register", &reply.res)?;

    let caps = Body::AddAgentCaps(AgentCaps {
        context: None,
        id: cfg.root.clone(),
        descr: cfg.description.as_bytes().to_vec(),
    });
    let reply = conn.request(caps, "AddAgentCaps").await?;
    if let Err(e) = require_ok("AddAgentCaps", &reply.res) {
        // Serving works without a sysORTable entry; not worth failing for.
        tracing::warn!("AgentX: {e}; the subagent will be missing from sysORTable");
    }
    Ok(conn)
}

pub enum Ended {
    Shutdown,
    Lost(LinkError),
}

struct InFlight {
    packet_id: u32,
    deadline: Instant,
    notification: Notification,
}

/// Serves an established session until it is lost or shutdown is requested.
pub async fn serve<S: Future>(conn: &mut Conn, sh: &mut Shared<'_, S>) -> Ended {
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let ended = serve_loop(conn, sh, &mut in_flight).await;
    // Unacknowledged notifications go out again on the next session. The
    // master may have forwarded some already: duplicates beat losses.
    sh.queue
        .requeue_front(in_flight.into_iter().map(|f| f.notification));
    if matches!(ended, Ended::Shutdown) {
        close(conn).await;
    }
    ended
}

async fn serve_loop<S: Future>(
    conn: &mut Conn,
    sh: &mut Shared<'_, S>,
    in_flight: &mut VecDeque<InFlight>,
) -> Ended {
    let cfg = sh.cfg;
    let mut ping = interval_at(Instant::now() + cfg.ping_interval, cfg.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut ping_wait: Option<(u32, Instant)> = None;

    loop {
        if let Err(e) = send_queued(conn, sh, in_flight).await {
            return Ended::Lost(e);
        }
        // In-flight notifications were sent in order, so the oldest has the
        // earliest deadline.
        let deadline = [
            ping_wait.map(|(_, d)| d),
            in_flight.front().map(|f| f.deadline),
        ]
        .into_iter()
        .flatten()
        .min();

        tokio::select! {
            biased;
            _ = sh.shutdown.as_mut() => return Ended::Shutdown,
            reply = conn.next_reply() => match reply {
                Ok(reply) => {
                    if ping_wait.is_some_and(|(id, _)| id == reply.packet_id) {
                        ping_wait = None;
                    } else {
                        acknowledge(in_flight, reply, sh.stats);
                    }
                }
                Err(e) => return Ended::Lost(e),
            },
            _ = ping.tick() => {
                if ping_wait.is_none() {
                    let id = conn.next_packet_id();
                    if let Err(e) = conn.send(id, Body::Ping { context: None }, "Ping") {
                        return Ended::Lost(e);
                    }
                    ping_wait = Some((id, Instant::now() + cfg.response_timeout));
                }
            }
            // Built only when there is a deadline (there is no point in a
            // timer that can never fire).
            () = until(deadline) => {
                let now = Instant::now();
                if ping_wait.is_some_and(|(_, d)| d <= now) {
                    return Ended::Lost(LinkError::NoResponse("Ping", cfg.response_timeout));
                }
                if in_flight.front().is_some_and(|f| f.deadline <= now) {
                    return Ended::Lost(LinkError::NoResponse("Notify", cfg.response_timeout));
                }
            }
            n = sh.inbox.recv() => sh.queue.push_back(n),
        }
    }
}

/// Completes at `deadline`; never when there is none.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn send_queued<S: Future>(
    conn: &mut Conn,
    sh: &mut Shared<'_, S>,
    in_flight: &mut VecDeque<InFlight>,
) -> Result<(), LinkError> {
    while in_flight.len() < NOTIFY_WINDOW {
        let Some(notification) = sh.queue.pop_front() else {
            break;
        };
        let packet_id = conn.next_packet_id();
        let body = Body::Notify {
            context: None,
            varbinds: notify_varbinds(&notification, &conn.clock, std::time::Instant::now()),
        };
        match conn.send(packet_id, body, "Notify") {
            Ok(()) => in_flight.push_back(InFlight {
                packet_id,
                deadline: Instant::now() + sh.cfg.response_timeout,
                notification,
            }),
            Err(LinkError::Encode { err, .. }) => {
                // This one can never be sent; the rest still can.
                tracing::error!(
                    "AgentX: dropping notification {}: cannot encode it: {err}",
                    notification.trap_oid
                );
                sh.stats.count_rejected();
            }
            Err(e) => {
                sh.queue.requeue_front(std::iter::once(notification));
                return Err(e);
            }
        }
    }
    Ok(())
}

fn acknowledge(in_flight: &mut VecDeque<InFlight>, reply: Reply, stats: &SessionStats) {
    let Some(pos) = in_flight
        .iter()
        .position(|f| f.packet_id == reply.packet_id)
    else {
        tracing::debug!(
            "AgentX: ignoring Response to unknown packet {}",
            reply.packet_id
        );
        return;
    };
    let Some(done) = in_flight.remove(pos) else {
        return;
    };
    if reply.res.error == ErrorStatus::NoError {
        stats.count_sent();
    } else {
        // Retrying would fail the same way (§7.1.10: the varbinds are wrong).
        tracing::error!(
            "AgentX: master rejected notification {}: {:?} at varbind {}",
            done.notification.trap_oid,
            reply.res.error,
            reply.res.index
        );
        stats.count_rejected();
    }
}

/// Closes the session (reason shutdown) and waits briefly for the master's
/// acknowledgement, so it drops our registration before we go.
async fn close(conn: &mut Conn) {
    let close = Body::Close {
        reason: CloseReason::Shutdown,
    };
    match tokio::time::timeout(CLOSE_WAIT, conn.request(close, "Close")).await {
        Ok(Ok(_)) => tracing::info!("AgentX: session closed"),
        Ok(Err(LinkError::Eof)) => tracing::info!("AgentX: session closed by master"),
        Ok(Err(e)) => tracing::debug!("AgentX: Close not acknowledged: {e}"),
        Err(_) => tracing::debug!("AgentX: Close not acknowledged within {CLOSE_WAIT:?}"),
    }
}
