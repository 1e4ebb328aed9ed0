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
        sample: Sample,
        lookups: &mut L,
        poll_interval: Duration,
    ) -> Arc<Snapshot> {
        let interval_secs = u32::try_from(poll_interval.as_secs()).unwrap_or(u32::MAX);
        let mut snapshot = self.builder.build(sample, interval_secs);
        self.diagnose_new_errors(&mut snapshot, lookups, poll_interval)
            .await;
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
                Some((dst, src, mark)) => timeout(LOOKUP_TIMEOUT, lookups.route_to(dst, src, mark))
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
