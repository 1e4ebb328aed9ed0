//! The agent run in-process (same `agent::run_until` the binary uses) with a
//! fixture data source, for tests that need tunnel rows on a host without
//! tunnel support.

use std::thread::JoinHandle;
use tokio::sync::oneshot;
use vti_agentx::agent::{run_until, Settings};
use vti_agentx::config::Config;

use super::fixture::FixtureSource;

pub struct InProcessAgent {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
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
        // Session defaults as shipped (backoff included): the restart test
        // proves the real behaviour.
        let settings = Settings::from_config(&cfg).expect("valid settings");
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                run_until(settings, source, None, async {
                    let _ = stopped.await;
                })
                .await
                .expect("agent run");
            });
        });
        InProcessAgent {
            stop: Some(stop),
            thread: Some(thread),
        }
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
