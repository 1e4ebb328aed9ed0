//! The poll loop: collect a Sample, build a Snapshot, render it, swap it in.
//!
//! This is the only place that waits on the kernel; the AgentX session reads
//! whatever index was swapped in last, so a slow or failing poll never delays
//! an SNMP answer (snmpd drops the whole AgentX session after 1 s).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval, timeout, MissedTickBehavior};

use crate::classify::builder::SnapshotBuilder;
use crate::classify::mapping;
use crate::mib::render::render;
use crate::mib::SharedIndex;
use crate::model::{SampleSource, Snapshot};
use crate::oid::Oid;

pub struct Poller<S> {
    source: S,
    builder: SnapshotBuilder,
    index: SharedIndex,
    root: Oid,
    interval: Duration,
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    failing: bool,
}

impl<S: SampleSource> Poller<S> {
    pub fn new(source: S, index: SharedIndex, root: Oid, interval: Duration) -> Self {
        let (latest, _) = watch::channel(None);
        Poller {
            source,
            builder: SnapshotBuilder::new(),
            index,
            root,
            interval,
            latest,
            failing: false,
        }
    }

    /// Every snapshot published, for consumers other than SNMP (alarms).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.latest.subscribe()
    }

    /// One poll. On failure the previous snapshot stays served and the
    /// failure is counted (vtiPollFailures).
    pub async fn poll_once(&mut self) -> anyhow::Result<Arc<Snapshot>> {
        // A poll that takes longer than the interval is stuck; give up on it
        // rather than let every later poll queue behind it.
        let budget = self.interval.max(Duration::from_secs(1));
        let sample = match timeout(budget, self.source.collect()).await {
            Ok(Ok(sample)) => sample,
            Ok(Err(e)) => return Err(self.failed(e)),
            Err(_) => {
                let e = anyhow::anyhow!("poll took longer than {budget:?}");
                return Err(self.failed(e));
            }
        };
        if self.failing {
            tracing::info!("polling the kernel works again");
            self.failing = false;
        }
        let interval_secs = u32::try_from(self.interval.as_secs()).unwrap_or(u32::MAX);
        let snapshot = Arc::new(
            self.builder
                .build(sample, interval_secs, mapping::tunnel_of_sa),
        );
        self.index
            .store(Arc::new(render(Arc::clone(&snapshot), &self.root)));
        self.latest.send_replace(Some(Arc::clone(&snapshot)));
        Ok(snapshot)
    }

    fn failed(&mut self, e: anyhow::Error) -> anyhow::Error {
        let n = self.builder.record_failure();
        if !self.failing {
            tracing::warn!("polling the kernel failed (serving the last good data): {e:#}");
            self.failing = true;
        } else {
            tracing::debug!(failures = n, "poll failed again: {e:#}");
        }
        e
    }

    /// Polls forever at the configured interval (first poll immediately).
    pub async fn run(mut self) {
        let mut ticks = interval(self.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let _ = self.poll_once().await;
        }
    }
}
