//! The poll loop: collect a Sample, build a Snapshot, render it, swap it in.
//!
//! This is the only place that waits on the kernel; the AgentX session reads
//! whatever index was swapped in last, so a slow or failing poll never delays
//! an SNMP answer (snmpd drops the whole AgentX session after 1 s).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{interval, timeout, MissedTickBehavior};

use crate::alarm::notify::{notification, Notification};
use crate::alarm::{AlarmConfig, AlarmEngine};
use crate::classify::builder::SnapshotBuilder;
use crate::classify::diagnose::{diagnose, peer_of, Evidence};
use crate::mib::render::render;
use crate::mib::SharedIndex;
use crate::model::{Lookups, SampleSource, Snapshot};
use crate::oid::Oid;

pub struct Poller<S> {
    source: S,
    builder: SnapshotBuilder,
    index: SharedIndex,
    root: Oid,
    interval: Duration,
    latest: watch::Sender<Option<Arc<Snapshot>>>,
    failing: bool,
    alarms: AlarmEngine,
    /// Where notifications go (the AgentX session's queue); `None` for a
    /// one-shot `show`.
    notify: Option<mpsc::Sender<Notification>>,
}

/// What a SIGHUP may change without restarting anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reload {
    pub interval: Duration,
    pub alarms: AlarmConfig,
}

/// At most one set of diagnosis look-ups per tunnel this often (and at
/// most once per poll anyway): a tunnel erroring non-stop costs at most a
/// few netlink requests a second. A little under the shortest poll interval
/// (1 s): consecutive polls are stamped when their task wakes, so two of
/// them can be 0.99 s apart, and a look-up skipped on the poll where a new
/// fault shows would leave the previous cause served.
const MIN_LOOKUP_GAP: Duration = Duration::from_millis(900);

/// The least time a poll gets before it counts as stuck and failed.
const MIN_POLL_BUDGET: Duration = Duration::from_secs(10);

/// Budget for one tunnel's look-ups.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

impl<S: SampleSource + Lookups> Poller<S> {
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
            alarms: AlarmEngine::new(AlarmConfig::default()),
            notify: None,
        }
    }

    /// Evaluate alarms with `config` and send notifications to `notify`.
    pub fn with_alarms(mut self, config: AlarmConfig, notify: mpsc::Sender<Notification>) -> Self {
        self.alarms = AlarmEngine::new(config);
        self.notify = Some(notify);
        self
    }

    /// Every snapshot published, for consumers other than SNMP (alarms).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.latest.subscribe()
    }

    /// One poll. On failure the previous snapshot stays served and the
    /// failure is counted (vtiPollFailures).
    pub async fn poll_once(&mut self) -> anyhow::Result<Arc<Snapshot>> {
        // A poll that takes longer than this is stuck: give up on it (the
        // ticks are delayed meanwhile, never queued). Not the interval: at
        // short intervals a busy machine makes polls merely slow, and giving
        // up on every slow poll would serve stale data for as long as the
        // load lasts.
        let budget = self.interval.max(MIN_POLL_BUDGET);
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
        let mut snapshot = self.builder.build(sample, interval_secs);
        self.diagnose_new_errors(&mut snapshot).await;
        let (events, alarm_rows) = self.alarms.evaluate(&snapshot);
        snapshot.alarms = alarm_rows;
        if let Some(notify) = &self.notify {
            for event in &events {
                tracing::info!(?event, "notification");
                // The session queues while the master is away; if even its
                // inbox is full, dropping here is the same bounded policy.
                if notify.try_send(notification(&self.root, event)).is_err() {
                    tracing::warn!("notification queue full: dropped {event:?}");
                }
            }
        }
        let snapshot = Arc::new(snapshot);
        self.builder.remember_served(Arc::clone(&snapshot));
        self.index
            .store(Arc::new(render(Arc::clone(&snapshot), &self.root)));
        self.latest.send_replace(Some(Arc::clone(&snapshot)));
        Ok(snapshot)
    }

    /// For each tunnel whose errors rose in this interval: look up route,
    /// policy and SA and record why.
    async fn diagnose_new_errors(&mut self, snapshot: &mut Snapshot) {
        let erroring: Vec<usize> = (0..snapshot.tunnels.len())
            .filter(|&i| snapshot.tunnels[i].last_delta.any_error())
            .collect();
        if erroring.is_empty() {
            return;
        }
        let default_out_blocks = timeout(LOOKUP_TIMEOUT, self.source.default_out_blocks())
            .await
            .unwrap_or(None);
        for i in erroring {
            let ifindex = snapshot.tunnels[i].tunnel.ifindex;
            if !self
                .builder
                .book_lookup(ifindex, snapshot.taken_at, MIN_LOOKUP_GAP)
            {
                continue;
            }
            let sas = snapshot.xfrm_available.then_some(snapshot.sas.as_slice());
            let policies = snapshot.policies.as_ref().map(Vec::as_slice);
            let row = &snapshot.tunnels[i];
            let peer = peer_of(&row.tunnel, sas.unwrap_or(&[]), policies.unwrap_or(&[]));
            let route = match peer {
                Some((dst, src, mark)) => {
                    timeout(LOOKUP_TIMEOUT, self.source.route_to(dst, src, mark))
                        .await
                        .unwrap_or(None)
                }
                None => None,
            };
            let diagnosis = diagnose(&Evidence {
                tunnel: &row.tunnel,
                delta: &row.last_delta,
                sas,
                policies,
                default_out_blocks,
                xfrm_stat_delta: self.builder.xfrm_stat_recent(),
                route,
                after_hard_expiry: self.builder.after_hard_expiry(ifindex),
            });
            tracing::info!(
                tunnel = %row.tunnel.name,
                cause = diagnosis.cause.name(),
                "{}",
                diagnosis.text
            );
            // Two polls and a bit: the errors of the poll after a fault's last
            // look-up, counted before it was repaired.
            let keep = self.interval * 2 + Duration::from_secs(1);
            snapshot.tunnels[i].diagnosis =
                self.builder
                    .record_diagnosis(ifindex, diagnosis, snapshot.taken_at, keep);
        }
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

    /// Polls forever at the configured interval (first poll immediately),
    /// taking new intervals and thresholds from `reload`.
    pub async fn run(mut self, mut reload: watch::Receiver<Reload>) {
        let mut ticks = interval(self.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut reload_open = true;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    let _ = self.poll_once().await;
                    crate::heap::release_free();
                }
                changed = reload.changed(), if reload_open => {
                    if changed.is_err() {
                        // Nobody can reload any more: just keep polling.
                        reload_open = false;
                        continue;
                    }
                    let new = reload.borrow_and_update().clone();
                    if new.interval != self.interval {
                        self.interval = new.interval;
                        ticks = interval(self.interval);
                        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    }
                    self.alarms.set_config(new.alarms);
                    tracing::info!(interval = ?self.interval, "configuration reloaded");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::MibIndex;
    use crate::model::{Availability, RouteAnswer, Sample};
    use arc_swap::ArcSwap;
    use std::net::IpAddr;
    use std::time::{Instant, SystemTime};

    /// A kernel that answers after `delay`.
    struct Slow {
        delay: Duration,
    }

    impl SampleSource for Slow {
        async fn collect(&mut self) -> anyhow::Result<Sample> {
            tokio::time::sleep(self.delay).await;
            Ok(Sample {
                taken_at: Instant::now(),
                wall_time: SystemTime::now(),
                kernel_release: "6.1.0-test".into(),
                tunnels: vec![],
                sas: Availability::Available(vec![]),
                policies: Availability::Available(vec![]),
                xfrm_stat: Availability::Available(vec![]),
            })
        }
    }

    impl Lookups for Slow {
        async fn route_to(&mut self, _: IpAddr, _: Option<IpAddr>, _: u32) -> Option<RouteAnswer> {
            None
        }
        async fn default_out_blocks(&mut self) -> Option<bool> {
            None
        }
    }

    fn poller(delay: Duration, interval: Duration) -> Poller<Slow> {
        let root = Oid::from(&[1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 2741][..]);
        let index: SharedIndex = Arc::new(ArcSwap::from_pointee(MibIndex::empty(root.clone())));
        Poller::new(Slow { delay }, index, root, interval)
    }

    /// Lab finding: at a 1 s interval on a loaded machine polls took a little
    /// over 1 s and were all discarded as failures.
    #[tokio::test(start_paused = true)]
    async fn a_slow_poll_is_not_a_failure() {
        let mut p = poller(Duration::from_millis(2500), Duration::from_secs(1));
        let snap = p
            .poll_once()
            .await
            .expect("a 2.5 s poll at a 1 s interval succeeds");
        assert_eq!(snap.poll_failures, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_poll_fails_and_is_counted() {
        let mut p = poller(Duration::from_secs(3600), Duration::from_secs(1));
        assert!(p.poll_once().await.is_err());
        p.source.delay = Duration::ZERO;
        assert_eq!(p.poll_once().await.unwrap().poll_failures, 1);
    }
}
