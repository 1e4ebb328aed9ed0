//! `IkeSource`: polls charon over VICI (`list-conns` + `list-sas`, one of
//! each per poll, on one connection kept open between polls) and keeps a
//! second, long-lived connection registered for the events that explain
//! failures. Every poll is bounded by one timeout, so a slow or hung charon
//! delays a poll by at most that long and never a request (requests are
//! served from the last snapshot).
//!
//! Without charon the sample says unavailable and why; one warning is
//! logged when the view becomes unavailable (a different reason during the
//! same outage is logged at info), one info line when it is back; both
//! connections retry with a capped exponential backoff, so a charon restart
//! is followed on its own.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

use crate::vici::{Client, ClientError, Endpoint, Message};

use super::failures::FailureTracker;
use super::parse;
use super::sample::{IkeConnection, IkeSa, IkeSample};
use super::state_file::{AgentFailures, StateWriter};

/// The events the failure tracker needs. `log` is capped at level 1 by
/// charon itself (its vici logger never sends more).
pub const EVENTS: [&str; 5] = [
    "ike-updown",
    "child-updown",
    "ike-rekey",
    "child-rekey",
    "log",
];

const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The poll connection retries at most this far apart (polls come every
/// few seconds anyway) …
const MAX_RETRY: Duration = Duration::from_secs(30);
/// … the event connection more often: while it is down, failure reasons
/// are lost.
const MAX_EVENT_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct IkeOptions {
    pub endpoint: Endpoint,
    /// Bound on one poll (connect + list-conns + list-sas), and on the
    /// event connection's connect + registration.
    pub timeout: Duration,
    /// Most IKE SAs / connections read per poll; more is an error.
    pub max_sas: usize,
    /// Where the last failures are written for `show` (the running agent
    /// only); `None` writes nothing.
    pub state_file: Option<std::path::PathBuf>,
}

impl Default for IkeOptions {
    fn default() -> Self {
        IkeOptions {
            endpoint: Endpoint::default(),
            timeout: Duration::from_secs(2),
            max_sas: 20_000,
            state_file: None,
        }
    }
}

/// Why charon cannot be used right now; one log line per change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unavailable {
    NoSocket,
    PermissionDenied,
    Refused,
    Closed,
    TimedOut,
    Protocol,
    Io,
}

impl Unavailable {
    fn of(error: &ClientError) -> Self {
        match error {
            ClientError::Io(e) => match e.kind() {
                ErrorKind::NotFound => Self::NoSocket,
                ErrorKind::PermissionDenied => Self::PermissionDenied,
                ErrorKind::ConnectionRefused => Self::Refused,
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof => {
                    Self::Closed
                }
                _ => Self::Io,
            },
            ClientError::Closed => Self::Closed,
            _ => Self::Protocol,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::NoSocket => "no VICI socket (charon not running?)",
            Self::PermissionDenied => "permission denied on the VICI socket",
            Self::Refused => "connection refused (charon not running?)",
            Self::Closed => "charon closed the connection",
            Self::TimedOut => "charon did not answer in time",
            Self::Protocol => "VICI protocol error",
            Self::Io => "VICI I/O error",
        }
    }
}

/// Capped exponential retry delay.
#[derive(Debug)]
struct Backoff {
    delay: Duration,
    cap: Duration,
    next_attempt: Option<Instant>,
}

impl Backoff {
    fn new(cap: Duration) -> Self {
        Backoff {
            delay: FIRST_RETRY,
            cap,
            next_attempt: None,
        }
    }

    fn ready(&self, now: Instant) -> bool {
        self.next_attempt.is_none_or(|at| now >= at)
    }

    fn failed(&mut self, now: Instant) -> Duration {
        let delay = self.delay;
        self.next_attempt = Some(now + delay);
        self.delay = (self.delay * 2).min(self.cap);
        delay
    }

    fn succeeded(&mut self) {
        *self = Backoff::new(self.cap);
    }
}

struct Shared {
    tracker: Mutex<FailureTracker>,
    events_connected: AtomicBool,
}

pub struct IkeSource {
    options: IkeOptions,
    client: Option<Client>,
    backoff: Backoff,
    /// None before the first attempt, then the last state logged.
    state: Option<Result<(), Unavailable>>,
    shared: Arc<Shared>,
    events: JoinHandle<()>,
    state_writer: Option<StateWriter>,
}

impl Drop for IkeSource {
    fn drop(&mut self) {
        self.events.abort();
    }
}

impl IkeSource {
    /// Starts the event connection; must be called inside a tokio runtime.
    pub fn new(options: IkeOptions) -> Self {
        let shared = Arc::new(Shared {
            tracker: Mutex::new(FailureTracker::new()),
            events_connected: AtomicBool::new(false),
        });
        let events = tokio::spawn(follow_events(options.clone(), Arc::clone(&shared)));
        let state_writer = options.state_file.clone().map(StateWriter::new);
        IkeSource {
            state_writer,
            options,
            client: None,
            backoff: Backoff::new(MAX_RETRY),
            state: None,
            shared,
            events,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.options.endpoint
    }

    /// Whether the event connection is registered right now.
    pub fn events_connected(&self) -> bool {
        self.shared.events_connected.load(Ordering::Relaxed)
    }

    /// One poll: at most `options.timeout` long, whatever charon does.
    pub async fn poll(&mut self) -> IkeSample {
        let now = Instant::now();
        let result = if self.client.is_none() && !self.backoff.ready(now) {
            Err(self.last_unavailable())
        } else {
            match timeout(self.options.timeout, self.query_reconnecting()).await {
                Ok(Ok(lists)) => Ok(lists),
                Ok(Err(error)) => {
                    tracing::debug!(endpoint = %self.options.endpoint, %error, "VICI poll failed");
                    Err(Unavailable::of(&error))
                }
                Err(_) => Err(Unavailable::TimedOut),
            }
        };
        match result {
            Ok((connections, ike_sas)) => {
                self.backoff.succeeded();
                self.set_state(Ok(()));
                let sample = self.sample(connections, ike_sas);
                if let Some(writer) = &mut self.state_writer {
                    let now_unix = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    writer.update(AgentFailures::of(&sample.connections), now_unix);
                }
                sample
            }
            Err(why) => {
                if self.client.take().is_some() || self.backoff.ready(now) {
                    self.backoff.failed(now);
                }
                self.set_state(Err(why));
                IkeSample {
                    available: false,
                    unavailable: Some(why.describe().to_owned()),
                    events_connected: self.events_connected(),
                    ..IkeSample::default()
                }
            }
        }
    }

    fn last_unavailable(&self) -> Unavailable {
        match self.state {
            Some(Err(why)) => why,
            _ => Unavailable::Closed,
        }
    }

    fn set_state(&mut self, state: Result<(), Unavailable>) {
        if self.state == Some(state) {
            return;
        }
        let endpoint = &self.options.endpoint;
        match (self.state, state) {
            (_, Ok(())) => tracing::info!(%endpoint, "IKE view available (charon over VICI)"),
            // One warning per outage; a new reason within it is only news.
            (Some(Err(_)), Err(why)) => {
                tracing::info!(%endpoint, "IKE view still unavailable: {}", why.describe())
            }
            (_, Err(why)) => tracing::warn!(%endpoint, "IKE view unavailable: {}", why.describe()),
        }
        self.state = Some(state);
    }

    /// [`Self::query`]; if the connection kept from the last poll turns out
    /// dead (charon restarted since), once more on a fresh one, so a restart
    /// costs no poll.
    async fn query_reconnecting(
        &mut self,
    ) -> Result<(Vec<IkeConnection>, Vec<IkeSa>), ClientError> {
        let reused = self.client.is_some();
        match self.query().await {
            Err(error) if reused && is_stale(&error) => {
                tracing::debug!(endpoint = %self.options.endpoint, %error, "VICI connection went stale; reconnecting");
                self.client = None;
                self.query().await
            }
            result => result,
        }
    }

    async fn query(&mut self) -> Result<(Vec<IkeConnection>, Vec<IkeSa>), ClientError> {
        if self.client.is_none() {
            let mut client = Client::connect(&self.options.endpoint).await?;
            client.register("list-conn").await?;
            client.register("list-sa").await?;
            self.client = Some(client);
        }
        let client = self.client.as_mut().expect("connected above");
        let max = self.options.max_sas;
        let (conns, _) = client
            .stream_request("list-conns", Message::new(), "list-conn", max)
            .await?;
        // noblock: charon lists what it can without waiting for busy IKE SAs.
        let (sas, _) = client
            .stream_request(
                "list-sas",
                Message::new().with_value("noblock", "yes"),
                "list-sa",
                max,
            )
            .await?;
        Ok((
            conns.iter().flat_map(parse::list_conn).collect(),
            sas.iter().flat_map(parse::list_sa).collect(),
        ))
    }

    fn sample(&self, mut connections: Vec<IkeConnection>, ike_sas: Vec<IkeSa>) -> IkeSample {
        let mut tracker = self
            .shared
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tracker.note_sas(&ike_sas);
        for conn in &mut connections {
            conn.last_failure = tracker.failure_for(&conn.name, &conn.remote_addrs).cloned();
            for child in &mut conn.children {
                if child.binding == Default::default() {
                    if let Some(seen) = tracker.binding(&conn.name, &child.name) {
                        child.binding = seen.clone();
                    }
                }
            }
        }
        IkeSample {
            available: true,
            unavailable: None,
            events_connected: self.events_connected(),
            connections,
            ike_sas,
        }
    }
}

/// An error that means the peer went away, not that it misbehaved.
fn is_stale(error: &ClientError) -> bool {
    match error {
        ClientError::Closed => true,
        ClientError::Io(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The event connection: connect, register, feed the tracker; on any error
/// start over after a capped backoff. Logs at debug only: the poll side
/// owns the one warning per availability change.
async fn follow_events(options: IkeOptions, shared: Arc<Shared>) {
    let mut backoff = Backoff::new(MAX_EVENT_RETRY);
    loop {
        let connected = timeout(options.timeout, async {
            let mut client = Client::connect(&options.endpoint).await?;
            for event in EVENTS {
                client.register(event).await?;
            }
            Ok::<_, ClientError>(client)
        })
        .await;
        let error = match connected {
            Ok(Ok(mut client)) => {
                backoff.succeeded();
                shared.events_connected.store(true, Ordering::Relaxed);
                tracing::debug!(endpoint = %options.endpoint, "VICI event connection registered");
                let error = loop {
                    match client.next_event().await {
                        Ok((name, message)) => handle_event(&shared, &name, &message),
                        Err(error) => break error.to_string(),
                    }
                };
                shared.events_connected.store(false, Ordering::Relaxed);
                shared
                    .tracker
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .on_events_lost(unix_now());
                error
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        let delay = backoff.failed(Instant::now());
        tracing::debug!(endpoint = %options.endpoint, %error, ?delay, "VICI event connection lost");
        tokio::time::sleep(delay).await;
    }
}

fn handle_event(shared: &Shared, name: &str, message: &Message) {
    let now = unix_now();
    let mut tracker = shared.tracker.lock().unwrap_or_else(|e| e.into_inner());
    match name {
        "log" => {
            let conn = message.text("ikesa-name");
            let uniqueid = message
                .text("ikesa-uniqueid")
                .and_then(|id| id.parse().ok());
            if let Some(msg) = message.value("msg") {
                tracker.on_log(
                    now,
                    conn.as_deref(),
                    uniqueid,
                    &String::from_utf8_lossy(msg),
                );
            }
        }
        "ike-updown" | "child-updown" => {
            let up = message.value("up") == Some(b"yes");
            for sa in parse::list_sa(message) {
                if name == "ike-updown" {
                    tracker.on_ike_updown(now, up, &sa);
                } else {
                    tracker.on_child_updown(now, up, &sa);
                }
            }
        }
        "ike-rekey" => {
            for (_, rekey) in message.sections() {
                if let Some(old) = rekey.section("old").and_then(|old| old.text("uniqueid")) {
                    if let Ok(id) = old.parse() {
                        tracker.on_rekey(id);
                    }
                }
            }
        }
        "child-rekey" => {
            for sa in parse::list_sa(message) {
                tracker.on_rekey(sa.uniqueid);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut b = Backoff::new(MAX_RETRY);
        let now = Instant::now();
        assert!(b.ready(now));
        let delays: Vec<_> = (0..9).map(|_| b.failed(now)).collect();
        assert_eq!(delays[0], FIRST_RETRY);
        assert_eq!(delays[1], FIRST_RETRY * 2);
        assert_eq!(*delays.last().unwrap(), MAX_RETRY);
        assert!(!b.ready(now));
        b.succeeded();
        assert!(b.ready(now));
    }

    #[tokio::test]
    async fn missing_socket_is_unavailable_at_once_and_backs_off() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::Unix(dir.path().join("charon.vici"));
        let mut source = IkeSource::new(IkeOptions {
            endpoint,
            ..IkeOptions::default()
        });
        let sample = source.poll().await;
        assert!(!sample.available);
        assert_eq!(
            sample.unavailable.as_deref(),
            Some(Unavailable::NoSocket.describe())
        );
        // Inside the backoff the poll does not even try.
        let started = std::time::Instant::now();
        let again = source.poll().await;
        assert_eq!(again.unavailable, sample.unavailable);
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_silent_peer_costs_one_timeout() {
        // A Unix listener that accepts and never answers: a hung charon.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hung.vici");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let _accept = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let mut source = IkeSource::new(IkeOptions {
            endpoint: Endpoint::Unix(path),
            timeout: Duration::from_millis(200),
            ..IkeOptions::default()
        });
        let started = std::time::Instant::now();
        let sample = source.poll().await;
        let took = started.elapsed();
        assert_eq!(
            sample.unavailable.as_deref(),
            Some(Unavailable::TimedOut.describe())
        );
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(1),
            "{took:?}"
        );
    }
}
