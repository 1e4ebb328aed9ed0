//! The poll loop: wires the stages together and swaps the result in.
//!
//! collect (`SampleSource`, and `IkeSource` for charon) → classify (`Classifier`, a complete Snapshot)
//! → alarm (`AlarmEngine`: the alarm table and the events; each event is
//! recorded in the `EventHistory` and, if it is to be sent, handed to the
//! session as a notification) → mib (`render`: the index SNMP answers
//! from). Each stage hands the next a
//! finished value; nothing here reaches into a stage.
//!
//! This is the only place that waits on the kernel; the AgentX session reads
//! whatever index was swapped in last, so a slow or failing poll never delays
//! an SNMP answer (snmpd drops the whole AgentX session after 1 s).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{interval, timeout, MissedTickBehavior};

use crate::alarm::notify::{notification, Notification};
use crate::alarm::{AlarmConfig, AlarmEngine, AlarmTable, EventHistory, EventTable, Notified};
use crate::classify::Classifier;
use crate::collect::ike::IkeSource;
use crate::mib::render::render;
use crate::mib::SharedIndex;
use crate::model::{Lookups, SampleSource, Snapshot};
use crate::oid::Oid;

pub struct Poller<S> {
    source: S,
    classifier: Classifier,
    index: SharedIndex,
    root: Oid,
    interval: Duration,
    failing: bool,
    alarms: AlarmEngine,
    events: EventHistory,
    /// Where notifications go (the AgentX session's queue); `None` for a
    /// one-shot `show`.
    notify: Option<mpsc::Sender<Notification>>,
    /// charon over VICI, polled alongside the kernel (its own timeout);
    /// `None` when the IKE view is disabled.
    ike: Option<IkeSource>,
    /// Polls completed so far (the systemd watchdog is fed from it).
    completed: watch::Sender<u64>,
}

/// What one poll served.
#[derive(Clone, Debug)]
pub struct Served {
    pub snapshot: Arc<Snapshot>,
    pub alarms: Arc<AlarmTable>,
    pub events: Arc<EventTable>,
}

/// What a SIGHUP may change without restarting anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reload {
    pub interval: Duration,
    pub alarms: AlarmConfig,
    /// Rows kept in vtiEventTable.
    pub history_size: usize,
}

/// The least time a poll gets before it counts as stuck and failed.
const MIN_POLL_BUDGET: Duration = Duration::from_secs(10);

impl<S: SampleSource + Lookups> Poller<S> {
    pub fn new(source: S, index: SharedIndex, root: Oid, interval: Duration) -> Self {
        Poller {
            source,
            classifier: Classifier::new(),
            index,
            root,
            interval,
            failing: false,
            alarms: AlarmEngine::new(AlarmConfig::default()),
            events: EventHistory::new(crate::alarm::history::DEFAULT_CAPACITY),
            notify: None,
            ike: None,
            completed: watch::channel(0).0,
        }
    }

    /// Polls charon too (the IKE view).
    pub fn with_ike(mut self, ike: Option<IkeSource>) -> Self {
        self.ike = ike;
        self
    }

    /// Counts the polls that completed: a consumer learns that the loop is
    /// alive and served new data (the systemd watchdog).
    pub fn completed_polls(&self) -> watch::Receiver<u64> {
        self.completed.subscribe()
    }

    /// Evaluate alarms with `config`, keep the last `history_size` events
    /// and send notifications to `notify`.
    pub fn with_alarms(
        mut self,
        config: AlarmConfig,
        history_size: usize,
        notify: mpsc::Sender<Notification>,
    ) -> Self {
        self.alarms = AlarmEngine::new(config);
        self.events = EventHistory::new(history_size);
        self.notify = Some(notify);
        self
    }

    /// One poll. On failure the previous snapshot stays served and the
    /// failure is counted (vtiPollFailures).
    pub async fn poll_once(&mut self) -> anyhow::Result<Served> {
        // A poll that takes longer than this is stuck: give up on it (the
        // ticks are delayed meanwhile, never queued). Not the interval: at
        // short intervals a busy machine makes polls merely slow, and giving
        // up on every slow poll would serve stale data for as long as the
        // load lasts.
        let budget = self.interval.max(MIN_POLL_BUDGET);
        // charon is asked at the same time; its poll is bounded by its own
        // (shorter) timeout and never fails the kernel's.
        let ike = async {
            match self.ike.as_mut() {
                Some(ike) => Some(ike.poll().await),
                None => None,
            }
        };
        let (kernel, ike) = tokio::join!(timeout(budget, self.source.collect()), ike);
        let sample = match kernel {
            Ok(Ok(mut sample)) => {
                sample.ike = ike;
                sample
            }
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
        let snapshot = self
            .classifier
            .classify(sample, &mut self.source, self.interval)
            .await;
        let (events, alarms) = self.alarms.evaluate(&snapshot);
        for event in &events {
            let index = self
                .events
                .record(event, snapshot.taken_at, snapshot.wall_time);
            let Some(notify) = self.notify.as_ref().filter(|_| event.is_sent()) else {
                tracing::info!(index, ?event, "event (no notification)");
                continue;
            };
            tracing::info!(index, ?event, "notification");
            // The session queues while the master is away; if even its
            // inbox is full, dropping here is the same bounded policy.
            if notify
                .try_send(notification(&self.root, event, index))
                .is_err()
            {
                tracing::warn!("notification queue full: dropped {event:?}");
                self.events.mark(index, Notified::QueueFull);
            }
        }
        let alarms = Arc::new(alarms);
        let events = self.events.table();
        self.index.store(Arc::new(render(
            Arc::clone(&snapshot),
            Arc::clone(&alarms),
            Arc::clone(&events),
            &self.root,
        )));
        self.completed.send_modify(|n| *n += 1);
        Ok(Served {
            snapshot,
            alarms,
            events,
        })
    }

    fn failed(&mut self, e: anyhow::Error) -> anyhow::Error {
        let n = self.classifier.record_failure();
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
                    self.events.set_capacity(new.history_size);
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
                ike: None,
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
        assert_eq!(snap.snapshot.poll_failures, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_poll_fails_and_is_counted() {
        let mut p = poller(Duration::from_secs(3600), Duration::from_secs(1));
        assert!(p.poll_once().await.is_err());
        p.source.delay = Duration::ZERO;
        assert_eq!(p.poll_once().await.unwrap().snapshot.poll_failures, 1);
    }
}
