//! The running agent: the poller and the AgentX session side by side, plus
//! signal handling (SIGTERM/SIGINT: Close and exit; SIGHUP: reload
//! thresholds and the poll interval without touching the session).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

use tokio::task::{JoinError, JoinHandle};

use crate::agentx::clock::MasterClock;
use crate::agentx::session::{ObjectSource, Objects, Session, SessionConfig};
use crate::agentx::transport::{MasterAddr, MasterAddrError};
use crate::collect::ike::{IkeOptions, IkeSource};
use crate::config::{Config, DEFAULT_PATH};
use crate::mib::index::RenderCtx;
use crate::mib::{Lookup, MibIndex, SharedIndex};
use crate::model::{Lookups, SampleSource};
use crate::oid::Oid;
use crate::poller::{Poller, Reload, Served};
use crate::value::Value;

/// Notifications waiting between the poller and the session; the session
/// has its own bounded queue for the time the master is away.
const NOTIFY_INBOX: usize = 256;

/// What `run` needs, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    pub session: SessionConfig,
    pub root: Oid,
    pub reload: Reload,
    /// The IKE view (`[ike]`); `None` when disabled.
    pub ike: Option<IkeOptions>,
}

impl Settings {
    pub fn from_config(cfg: &Config) -> Result<Settings, String> {
        let session = session_config(cfg).map_err(|e| format!("master: {e}"))?;
        Ok(Settings {
            session,
            root: cfg.oid_root.clone(),
            reload: reload_of(cfg),
            ike: cfg.ike.agent_options(),
        })
    }
}

/// The AgentX session's settings from the configuration file; the rest
/// take the session's defaults.
fn session_config(cfg: &Config) -> Result<SessionConfig, MasterAddrError> {
    let mut session = SessionConfig::new(
        cfg.master.parse()?,
        cfg.oid_root.clone(),
        cfg.description.clone(),
    );
    session.ping_interval = Duration::from_secs(u64::from(cfg.ping_interval_secs.max(1)));
    Ok(session)
}

fn reload_of(cfg: &Config) -> Reload {
    Reload {
        interval: Duration::from_secs(u64::from(cfg.poll_interval_secs)),
        alarms: cfg.alarms.clone(),
        history_size: cfg.events.history_size,
    }
}

/// Makes the allocator hand freed memory back to the kernel promptly; see
/// [`crate::heap::limit_retention`]. Call once, before anything allocates much.
pub fn limit_heap_retention() {
    crate::heap::limit_retention();
}

/// Runs until SIGTERM or SIGINT. `config_path` is re-read on SIGHUP.
pub async fn run<S>(
    settings: Settings,
    source: S,
    config_path: Option<PathBuf>,
) -> anyhow::Result<()>
where
    S: SampleSource + Lookups + Send + 'static,
{
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: closing the AgentX session"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: closing the AgentX session"),
        }
        crate::systemd::notify("STOPPING=1");
    };
    run_until(settings, source, config_path, shutdown).await
}

/// Runs until `shutdown` completes (tests pass their own).
pub async fn run_until<S>(
    settings: Settings,
    source: S,
    config_path: Option<PathBuf>,
    shutdown: impl Future,
) -> anyhow::Result<()>
where
    S: SampleSource + Lookups + Send + 'static,
{
    let index: SharedIndex = Arc::new(ArcSwap::from_pointee(MibIndex::empty(
        settings.root.clone(),
    )));
    let (notify_tx, notify_rx) = mpsc::channel(NOTIFY_INBOX);
    let (reload_tx, reload_rx) = watch::channel(settings.reload.clone());
    let poller = Poller::new(
        source,
        Arc::clone(&index),
        settings.root.clone(),
        settings.reload.interval,
    )
    .with_alarms(
        settings.reload.alarms.clone(),
        settings.reload.history_size,
        notify_tx,
    )
    .with_ike(settings.ike.clone().map(IkeSource::new));
    let session = Session::new(settings.session.clone(), index, notify_rx);
    let stats = session.stats();
    let systemd = crate::systemd::supervise(
        move || stats.sessions() > 0,
        poller.completed_polls(),
        reload_tx.subscribe(),
    );
    tracing::info!(
        master = %settings.session.master,
        root = %settings.root,
        interval = ?settings.reload.interval,
        "vti-agentx starting"
    );
    // Tasks of their own, so the session's task is woken (and polls) only
    // for its own traffic.
    let mut supervisor = Task(tokio::spawn(systemd));
    let mut poller = Task(tokio::spawn(poller.run(reload_rx)));
    let mut reloader = Task(tokio::spawn(reload_on_sighup(
        config_path,
        settings,
        reload_tx,
    )));
    tokio::select! {
        result = session.run(shutdown) => result.context("AgentX session")?,
        ended = &mut poller.0 => rethrow_panic(ended),
        ended = &mut reloader.0 => rethrow_panic(ended),
        ended = &mut supervisor.0 => rethrow_panic(ended),
    }
    Ok(())
}

/// A spawned task that ends with the agent: aborted when dropped.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A panic in a task is a panic of the agent.
fn rethrow_panic(ended: Result<(), JoinError>) {
    if let Err(e) = ended {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// The MIB index as the AgentX session serves it: one loaded snapshot and
/// one render time per request PDU.
impl ObjectSource for ArcSwap<MibIndex> {
    fn view(&self, clock: MasterClock) -> impl Objects + '_ {
        IndexView {
            index: self.load(),
            ctx: RenderCtx::now(clock),
        }
    }
}

struct IndexView {
    index: arc_swap::Guard<Arc<MibIndex>>,
    ctx: RenderCtx,
}

impl Objects for IndexView {
    fn get(&self, oid: &Oid) -> Value {
        match self.index.get_at(oid, &self.ctx) {
            Lookup::Value(v) => v,
            Lookup::NoSuchObject => Value::NoSuchObject,
            Lookup::NoSuchInstance => Value::NoSuchInstance,
        }
    }

    fn next(&self, start: &Oid, include: bool) -> Option<(Oid, Value)> {
        self.index.next_at(start, include, &self.ctx)
    }
}

/// On SIGHUP, re-reads the config and hands the new thresholds and interval
/// to the poller. A broken file is reported and the running settings kept.
async fn reload_on_sighup(path: Option<PathBuf>, running: Settings, tx: watch::Sender<Reload>) {
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot handle SIGHUP ({e}); reloading is disabled");
            return std::future::pending().await;
        }
    };
    let path = path.unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    while hup.recv().await.is_some() {
        let cfg = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("SIGHUP: keeping the running configuration: {e}");
                continue;
            }
        };
        let same_master =
            cfg.master.parse::<MasterAddr>().ok().as_ref() == Some(&running.session.master);
        if !same_master || cfg.oid_root != running.root {
            tracing::warn!(
                "SIGHUP: master and oid_root changes need a restart; thresholds and the poll \
                 interval are reloaded"
            );
        }
        tx.send_replace(reload_of(&cfg));
    }
}

/// One look at the kernel for `show`: two readings `wait` apart, so that
/// errors rising in between are classified and diagnosed.
pub async fn snapshot_once<S>(source: S, cfg: &Config, wait: Duration) -> anyhow::Result<Served>
where
    S: SampleSource + Lookups,
{
    let index: SharedIndex = Arc::new(ArcSwap::from_pointee(MibIndex::empty(cfg.oid_root.clone())));
    let interval = Duration::from_secs(u64::from(cfg.poll_interval_secs));
    let mut poller = Poller::new(source, index, cfg.oid_root.clone(), interval)
        .with_ike(cfg.ike.options().map(IkeSource::new));
    let first = poller.poll_once().await?;
    if wait.is_zero() {
        return Ok(first);
    }
    tokio::time::sleep(wait).await;
    poller.poll_once().await
}
