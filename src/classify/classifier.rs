//! Sample → complete Snapshot: the classify stage as one call.
//!
//! `classify` builds the snapshot (`builder`: counters, categories, SA
//! rows), then, for each tunnel whose errors rose, runs the targeted
//! look-ups (`Lookups`: route to the peer, the default outbound policy) and
//! records why (`diagnose`). The look-ups are rate limited per tunnel here,
//! so a tunnel erroring non-stop costs at most a few netlink requests a
//! second. The caller gets a finished value and nothing to call back.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::timeout;

use super::builder::SnapshotBuilder;
use super::diagnose::{diagnose, peer_of, Evidence};
use super::ike::IkeJoiner;
use crate::model::{Lookups, Sample, Snapshot};

/// At most one set of diagnosis look-ups per tunnel this often (and at
/// most once per poll anyway). A little under the shortest poll interval
/// (1 s): consecutive polls are stamped when their task wakes, so two of
/// them can be 0.99 s apart, and a look-up skipped on the poll where a new
/// fault shows would leave the previous cause served.
const MIN_LOOKUP_GAP: Duration = Duration::from_millis(900);

/// Budget for one look-up; an unanswered one counts as "could not ask".
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The classify stage; keeps what needs more than one poll.
#[derive(Default)]
pub struct Classifier {
    builder: SnapshotBuilder,
    ike: IkeJoiner,
}

impl Classifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a failed poll (served as vtiPollFailures in later snapshots).
    pub fn record_failure(&mut self) -> u64 {
        self.builder.record_failure()
    }

    /// The snapshot of `sample`, diagnoses included; the next call continues
    /// its counters from this one.
    pub async fn classify<L: Lookups>(
        &mut self,
        mut sample: Sample,
        lookups: &mut L,
        poll_interval: Duration,
    ) -> Arc<Snapshot> {
        let interval_secs = u32::try_from(poll_interval.as_secs()).unwrap_or(u32::MAX);
        let ike = sample.ike.take();
        let mut snapshot = self.builder.build(sample, interval_secs);
        self.diagnose_new_errors(&mut snapshot, lookups, poll_interval)
            .await;
        self.ike.attach(&mut snapshot, ike.as_ref());
        let snapshot = Arc::new(snapshot);
        self.builder.remember_served(Arc::clone(&snapshot));
        snapshot
    }

    /// For each tunnel whose errors rose in this interval: look up route,
    /// policy and SA and record why.
    async fn diagnose_new_errors<L: Lookups>(
        &mut self,
        snapshot: &mut Snapshot,
        lookups: &mut L,
        poll_interval: Duration,
    ) {
        let erroring: Vec<usize> = (0..snapshot.tunnels.len())
            .filter(|&i| snapshot.tunnels[i].last_delta.any_error())
            .collect();
        if erroring.is_empty() {
            return;
        }
        let default_out_blocks = timeout(LOOKUP_TIMEOUT, lookups.default_out_blocks())
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
                Some(p) => timeout(LOOKUP_TIMEOUT, lookups.route_to(p.addr, p.from, p.mark))
                    .await
                    .unwrap_or(None),
                None => None,
            };
            let diagnosis = diagnose(&Evidence {
                tunnel: &row.tunnel,
                delta: &row.last_delta,
                sas,
                policies,
                default_out_blocks,
                xfrm_stat_delta: self.builder.xfrm_stat_recent(),
                peer,
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
            let keep = poll_interval * 2 + Duration::from_secs(1);
            snapshot.tunnels[i].diagnosis =
                self.builder
                    .record_diagnosis(ifindex, diagnosis, snapshot.taken_at, keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::classify::testutil::{out_policy, sa, vti_tunnel};
    use crate::model::{Availability, Cause, RouteAnswer, SaDirection, Tunnel};

    /// A kernel whose route to every peer is gone; counts the look-ups.
    #[derive(Default)]
    struct NoRoute {
        asked: Vec<(IpAddr, Option<IpAddr>, u32)>,
    }

    impl Lookups for NoRoute {
        async fn route_to(
            &mut self,
            dst: IpAddr,
            src: Option<IpAddr>,
            mark: u32,
        ) -> Option<RouteAnswer> {
            self.asked.push((dst, src, mark));
            Some(RouteAnswer::Unreachable("Network is unreachable".into()))
        }
        async fn default_out_blocks(&mut self) -> Option<bool> {
            Some(false)
        }
    }

    fn sample(at: Instant, carrier_errors: u64) -> Sample {
        let mut t: Tunnel = vti_tunnel(7, "vti5", "192.0.2.1", "198.51.100.7", 5);
        t.stats.tx_errors = carrier_errors;
        t.stats.tx_carrier_errors = carrier_errors;
        let mut out = sa(0x100, "192.0.2.1", "198.51.100.7", SaDirection::Out);
        out.mark = Some((5, 0xffff_ffff));
        Sample {
            taken_at: at,
            wall_time: SystemTime::now(),
            kernel_release: "6.1.0-test".into(),
            tunnels: vec![t],
            sas: Availability::Available(vec![out]),
            policies: Availability::Available(vec![out_policy(Some(5), None, "198.51.100.7")]),
            xfrm_stat: Availability::Available(vec![]),
            ike: None,
        }
    }

    /// The snapshot comes back diagnosed: errors rising are looked up (the
    /// route to the tunnel's peer, once per poll at most) and explained;
    /// quiet polls look nothing up and keep the cause.
    #[tokio::test]
    async fn rising_errors_come_back_diagnosed_and_look_ups_are_rate_limited() {
        let t0 = Instant::now();
        let interval = Duration::from_secs(1);
        let mut c = Classifier::new();
        let mut kernel = NoRoute::default();
        let first = c.classify(sample(t0, 0), &mut kernel, interval).await;
        assert_eq!(first.tunnels[0].diagnosis.cause, Cause::None);
        assert!(kernel.asked.is_empty(), "nothing rose: no look-up");

        let snap = c
            .classify(sample(t0 + interval, 3), &mut kernel, interval)
            .await;
        assert_eq!(snap.tunnels[0].diagnosis.cause, Cause::NoRouteToPeer);
        assert!(snap.tunnels[0].diagnosis.text.contains("198.51.100.7"));
        let peer: IpAddr = "198.51.100.7".parse().unwrap();
        let local: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(kernel.asked, vec![(peer, Some(local), 0)]);

        // Rising again 0.5 s later: within the rate limit, no new look-up.
        let half = t0 + interval + Duration::from_millis(500);
        let snap = c.classify(sample(half, 6), &mut kernel, interval).await;
        assert_eq!(kernel.asked.len(), 1);
        assert_eq!(snap.tunnels[0].diagnosis.cause, Cause::NoRouteToPeer);

        // Quiet: the cause stays served, nothing is looked up.
        let snap = c
            .classify(sample(half + interval, 6), &mut kernel, interval)
            .await;
        assert_eq!(kernel.asked.len(), 1);
        assert_eq!(snap.tunnels[0].diagnosis.cause, Cause::NoRouteToPeer);
    }
}
