//! The agent run in-process (same `agent::run_until` the binary uses) with a
//! fixture data source, for tests that need tunnel rows on a host without
//! tunnel support.
//!
//! The agent's log (info and up, no colours) is captured per agent, so tests
//! running side by side do not see each other's lines: see [`InProcessAgent::log`].

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;
use vti_agentx::agent::{run_until, Settings};
use vti_agentx::config::Config;

use super::fixture::FixtureSource;

pub struct InProcessAgent {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    log: LogBuf,
}

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl InProcessAgent {
    pub fn start(master: &str, source: FixtureSource) -> InProcessAgent {
        Self::start_with(master, source, |_| {})
    }

    pub fn start_with(
        master: &str,
        source: FixtureSource,
        tweak: impl FnOnce(&mut Config),
    ) -> InProcessAgent {
        let mut cfg = Config {
            master: master.to_string(),
            poll_interval_secs: 1,
            ping_interval_secs: 1,
            ..Config::default()
        };
        tweak(&mut cfg);
        Self::spawn(cfg, source, None)
    }

    /// With the configuration read from `path`, which SIGHUP re-reads (as
    /// `vti-agentx run --config PATH` does).
    pub fn start_with_file(source: FixtureSource, path: &std::path::Path) -> InProcessAgent {
        let cfg = Config::load(path).expect("valid config file");
        Self::spawn(cfg, source, Some(path.to_path_buf()))
    }

    fn spawn(
        cfg: Config,
        source: FixtureSource,
        config_path: Option<std::path::PathBuf>,
    ) -> InProcessAgent {
        // Session defaults as shipped (backoff included): the restart test
        // proves the real behaviour.
        let settings = Settings::from_config(&cfg).expect("valid settings");
        let (stop, stopped) = oneshot::channel::<()>();
        let log = LogBuf::default();
        let writer = log.clone();
        let thread = std::thread::spawn(move || {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .finish();
            // Thread-local: the runtime below is current-thread.
            let _guard = tracing::subscriber::set_default(subscriber);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                run_until(settings, source, config_path, async {
                    let _ = stopped.await;
                })
                .await
                .expect("agent run");
            });
        });
        InProcessAgent {
            stop: Some(stop),
            thread: Some(thread),
            log,
        }
    }

    /// Everything the agent logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.0.lock().unwrap()).into_owned()
    }
}

impl Drop for InProcessAgent {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
