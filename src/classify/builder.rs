//! Turns consecutive `Sample`s into served `Snapshot`s.
//!
//! This is the stateful part of the pipeline: it remembers, per interface,
//! when its counters started from a new base (for the discontinuity
//! TimeStamp), and gives every SA a row number that stays the same for as
//! long as the SA exists (so an NMS graphing vtiSaCurBytes.5.2 keeps seeing
//! the same SA).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::classify::mapping::SaMapper;
use crate::model::{
    Availability, Categories, Diagnosis, LinkStats, SaDirection, SaRow, SaSummary, Sample,
    SecurityAssociation, Snapshot, Tunnel, TunnelKind, TunnelRow,
};

/// What identifies "the same interface" across polls: a re-created interface
/// may get the same ifindex back, but it starts new counters.
#[derive(Clone, Debug, PartialEq, Eq)]
struct InterfaceIdentity {
    name: String,
    kind: TunnelKind,
}

#[derive(Clone, Debug)]
struct InterfaceHistory {
    identity: InterfaceIdentity,
    discontinuity_at: Instant,
    last_stats: LinkStats,
    categories: Categories,
    last_error_at: Option<Instant>,
    diagnosis: Diagnosis,
    last_lookup_at: Option<Instant>,
}

/// What the history says about one interface at this poll.
struct Counted {
    discontinuity_at: Instant,
    categories: Categories,
    last_delta: Categories,
    last_error_at: Option<Instant>,
    diagnosis: Diagnosis,
}

/// An SA's identity in the kernel: (daddr, spi, proto) is unique.
type SaKey = (IpAddr, u32, u8);

/// Row numbers of one tunnel's SAs.
#[derive(Default)]
struct SaNumbering {
    rows: HashMap<SaKey, u32>,
    /// Never reused while the tunnel exists, so a row number always means
    /// the same SA.
    next: u32,
}

impl SaNumbering {
    fn number(&mut self, key: SaKey) -> u32 {
        *self.rows.entry(key).or_insert_with(|| {
            self.next += 1;
            self.next
        })
    }
}

#[derive(Default)]
pub struct SnapshotBuilder {
    interfaces: HashMap<u32, InterfaceHistory>,
    /// tunnel ifindex → its SAs' row numbers.
    sa_rows: HashMap<u32, SaNumbering>,
    last_xfrm_stat: Option<Vec<(String, u64)>>,
    poll_failures: u64,
}

impl SnapshotBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a failed poll; the caller keeps serving the previous snapshot.
    pub fn record_failure(&mut self) -> u64 {
        self.poll_failures += 1;
        self.poll_failures
    }

    /// Each SA is attached to the tunnel that uses it (`classify::mapping`).
    pub fn build(&mut self, sample: Sample, poll_interval_secs: u32) -> Snapshot {
        let now = sample.taken_at;
        let present: HashSet<u32> = sample.tunnels.iter().map(|t| t.ifindex).collect();
        self.interfaces
            .retain(|ifindex, _| present.contains(ifindex));

        let (sas, xfrm_available) = match sample.sas {
            Availability::Available(sas) => (sas, true),
            Availability::Unavailable(_) => (Vec::new(), false),
        };
        let sa_rows = self.sa_rows(&sample.tunnels, &present, sas);

        let mut tunnels: Vec<TunnelRow> = sample
            .tunnels
            .into_iter()
            .map(|tunnel| {
                let counted = self.count(&tunnel, now);
                let sa_summary = summarize(tunnel.ifindex, &sa_rows);
                TunnelRow {
                    tunnel,
                    discontinuity_at: counted.discontinuity_at,
                    categories: counted.categories,
                    last_delta: counted.last_delta,
                    last_error_at: counted.last_error_at,
                    diagnosis: counted.diagnosis,
                    sa_summary,
                }
            })
            .collect();
        tunnels.sort_by_key(|t| t.tunnel.ifindex);
        let xfrm_stat_delta = self.xfrm_stat_delta(&sample.xfrm_stat);

        Snapshot {
            taken_at: now,
            wall_time: sample.wall_time,
            poll_interval_secs,
            kernel_release: sample.kernel_release,
            xfrm_available,
            xfrm_stat: sample.xfrm_stat,
            xfrm_stat_delta,
            tunnels,
            sas: sa_rows,
            policies: sample.policies,
            alarms: Vec::new(),
            poll_failures: self.poll_failures,
        }
    }

    /// Advances this interface's history by one reading: detects a new
    /// counter base (interface re-created, counters went backwards) and
    /// accumulates the classified categories.
    fn count(&mut self, tunnel: &Tunnel, now: Instant) -> Counted {
        let identity = InterfaceIdentity {
            name: tunnel.name.clone(),
            kind: tunnel.kind,
        };
        let fresh = |identity: InterfaceIdentity| {
            let categories = Categories::from_totals(&tunnel.stats);
            InterfaceHistory {
                identity,
                discontinuity_at: now,
                last_stats: tunnel.stats,
                last_error_at: categories.any_error().then_some(now),
                categories,
                diagnosis: Diagnosis::none(),
                last_lookup_at: None,
            }
        };
        let mut last_delta = Categories::default();
        match self.interfaces.get_mut(&tunnel.ifindex) {
            Some(h) if h.identity == identity && !went_backwards(&h.last_stats, &tunnel.stats) => {
                last_delta = Categories::delta(tunnel.kind, &h.last_stats, &tunnel.stats);
                h.categories.add(&last_delta);
                if last_delta.any_error() {
                    h.last_error_at = Some(now);
                }
                h.last_stats = tunnel.stats;
            }
            _ => {
                self.interfaces.insert(tunnel.ifindex, fresh(identity));
            }
        }
        let h = &self.interfaces[&tunnel.ifindex];
        Counted {
            discontinuity_at: h.discontinuity_at,
            categories: h.categories,
            last_delta,
            last_error_at: h.last_error_at,
            diagnosis: h.diagnosis.clone(),
        }
    }

    /// Rate limit for the per-tunnel look-ups behind a diagnosis: true (and
    /// the look-up is booked) when this tunnel was not looked at within
    /// `min_gap`.
    pub fn book_lookup(&mut self, ifindex: u32, now: Instant, min_gap: Duration) -> bool {
        let Some(h) = self.interfaces.get_mut(&ifindex) else {
            return false;
        };
        if h.last_lookup_at
            .is_some_and(|at| now.saturating_duration_since(at) < min_gap)
        {
            return false;
        }
        h.last_lookup_at = Some(now);
        true
    }

    /// Remembers a tunnel's diagnosis; it is served until a later error
    /// increase is diagnosed differently.
    pub fn record_diagnosis(&mut self, ifindex: u32, diagnosis: Diagnosis) {
        if let Some(h) = self.interfaces.get_mut(&ifindex) {
            h.diagnosis = diagnosis;
        }
    }

    /// Non-zero xfrm_stat increases since the last poll (empty at the first
    /// poll, or when a counter went backwards: namespace re-created).
    fn xfrm_stat_delta(&mut self, now: &Availability<Vec<(String, u64)>>) -> Vec<(String, u64)> {
        let Some(now) = now.as_ref() else {
            return Vec::new();
        };
        let delta = match &self.last_xfrm_stat {
            Some(before) => now
                .iter()
                .filter_map(|(name, v)| {
                    let old = before
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(0, |(_, o)| *o);
                    (*v > old).then(|| (name.clone(), v - old))
                })
                .collect(),
            None => Vec::new(),
        };
        self.last_xfrm_stat = Some(now.clone());
        delta
    }

    fn sa_rows(
        &mut self,
        tunnels: &[Tunnel],
        present: &HashSet<u32>,
        sas: Vec<SecurityAssociation>,
    ) -> Vec<SaRow> {
        let mapper = SaMapper::new(tunnels);
        let mut seen: HashMap<u32, SaNumbering> = HashMap::new();
        let mut rows: Vec<SaRow> = sas
            .into_iter()
            .map(|sa| {
                let owner = mapper.tunnel_of(&sa);
                let key = (sa.dst, sa.spi, sa.proto);
                let index = self.sa_rows.entry(owner).or_default().number(key);
                let kept = seen.entry(owner).or_default();
                kept.rows.insert(key, index);
                SaRow {
                    tunnel_ifindex: owner,
                    index,
                    sa,
                }
            })
            .collect();
        // Forget SAs that are gone, so the map cannot grow without bound;
        // keep the counters of tunnels that still exist.
        for (owner, numbering) in self.sa_rows.drain() {
            if owner == 0 || present.contains(&owner) {
                seen.entry(owner).or_default().next = numbering.next;
            }
        }
        self.sa_rows = seen;
        rows.sort_by_key(|r| (r.tunnel_ifindex, r.index));
        rows
    }
}

/// Any counter lower than last time means the kernel started over.
fn went_backwards(before: &LinkStats, now: &LinkStats) -> bool {
    let pairs = [
        (before.tx_packets, now.tx_packets),
        (before.tx_bytes, now.tx_bytes),
        (before.tx_errors, now.tx_errors),
        (before.tx_dropped, now.tx_dropped),
        (before.tx_carrier_errors, now.tx_carrier_errors),
        (before.collisions, now.collisions),
        (before.tx_aborted_errors, now.tx_aborted_errors),
        (before.rx_packets, now.rx_packets),
        (before.rx_bytes, now.rx_bytes),
    ];
    pairs.iter().any(|(b, n)| n < b)
}

/// `rows` must be sorted by tunnel (as `sa_rows` returns them): the tunnel's
/// rows are found by binary search, not by a scan per tunnel (which made a
/// poll quadratic: 10k tunnels × 40k SAs).
fn summarize(ifindex: u32, rows: &[SaRow]) -> SaSummary {
    let mut summary = SaSummary::default();
    let from = rows.partition_point(|r| r.tunnel_ifindex < ifindex);
    let to = from + rows[from..].partition_point(|r| r.tunnel_ifindex == ifindex);
    for row in &rows[from..to] {
        let sa = &row.sa;
        match sa.direction {
            SaDirection::Out => summary.outbound += 1,
            SaDirection::In => summary.inbound += 1,
        }
        if sa.direction == SaDirection::Out {
            summary.hard_expiry_unix = max_some(summary.hard_expiry_unix, sa.hard_expiry_unix());
        }
        summary.seq_headroom = min_some(summary.seq_headroom, sa.seq_headroom());
    }
    summary
}

fn max_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::testutil::{self, xfrm_tunnel};
    use std::time::{Duration, SystemTime};

    fn tunnel(ifindex: u32, name: &str, tx_packets: u64) -> Tunnel {
        let mut t = xfrm_tunnel(ifindex, name, ifindex);
        t.stats.tx_packets = tx_packets;
        t
    }

    fn sa(spi: u32, if_id: u32, direction: SaDirection) -> SecurityAssociation {
        let mut sa = testutil::sa(spi, "192.0.2.1", "192.0.2.2", direction);
        sa.if_id = Some(if_id);
        sa
    }

    fn sample(at: Instant, tunnels: Vec<Tunnel>, sas: Vec<SecurityAssociation>) -> Sample {
        Sample {
            taken_at: at,
            wall_time: SystemTime::now(),
            kernel_release: "6.1.0-test".into(),
            tunnels,
            sas: Availability::Available(sas),
            policies: Availability::Available(vec![]),
            xfrm_stat: Availability::Available(vec![]),
        }
    }

    #[test]
    fn discontinuity_moves_on_recreate_and_counter_reset_only() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(10);
        let t2 = t1 + Duration::from_secs(10);
        let t3 = t2 + Duration::from_secs(10);
        let mut b = SnapshotBuilder::new();
        let s = b.build(sample(t0, vec![tunnel(5, "x1", 10)], vec![]), 10);
        assert_eq!(s.tunnels[0].discontinuity_at, t0);
        let s = b.build(sample(t1, vec![tunnel(5, "x1", 20)], vec![]), 10);
        assert_eq!(
            s.tunnels[0].discontinuity_at, t0,
            "counters grew: same base"
        );
        let s = b.build(sample(t2, vec![tunnel(5, "x1", 3)], vec![]), 10);
        assert_eq!(s.tunnels[0].discontinuity_at, t2, "counters went backwards");
        let s = b.build(sample(t3, vec![tunnel(5, "other", 9)], vec![]), 10);
        assert_eq!(
            s.tunnels[0].discontinuity_at, t3,
            "ifindex reused by a new interface"
        );
    }

    #[test]
    fn categories_accumulate_deltas_and_restart_at_a_discontinuity() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::new();
        let mut t = tunnel(5, "x1", 10);
        t.stats.tx_errors = 2;
        t.stats.tx_carrier_errors = 2;
        let s = b.build(sample(t0, vec![t.clone()], vec![]), 10);
        assert_eq!(
            s.tunnels[0].categories.carrier, 2,
            "first poll: kernel totals"
        );
        assert_eq!(s.tunnels[0].last_error_at, Some(t0));
        t.stats.tx_errors = 5;
        t.stats.collisions = 3;
        let t1 = t0 + Duration::from_secs(10);
        let s = b.build(sample(t1, vec![t.clone()], vec![]), 10);
        let row = &s.tunnels[0];
        assert_eq!(
            (row.categories.carrier, row.categories.routing_loop),
            (2, 3)
        );
        assert_eq!(row.last_delta.routing_loop, 3);
        assert_eq!(row.last_error_at, Some(t1));
        t.stats = LinkStats::default();
        let t2 = t1 + Duration::from_secs(10);
        let s = b.build(sample(t2, vec![t], vec![]), 10);
        assert!(s.tunnels[0].categories.is_zero());
        assert_eq!(s.tunnels[0].discontinuity_at, t2);
        assert_eq!(s.tunnels[0].last_error_at, None);
    }

    #[test]
    fn sa_rows_keep_their_number_while_the_sa_lives() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::new();
        let tunnels = vec![tunnel(5, "x1", 0)];
        let s = b.build(
            sample(
                t0,
                tunnels.clone(),
                vec![
                    sa(0x100, 5, SaDirection::Out),
                    sa(0x200, 5, SaDirection::In),
                ],
            ),
            10,
        );
        let idx: Vec<_> = s
            .sas
            .iter()
            .map(|r| (r.sa.spi, r.tunnel_ifindex, r.index))
            .collect();
        assert_eq!(idx, vec![(0x100, 5, 1), (0x200, 5, 2)]);
        // SA 0x100 rekeyed to 0x300; 0x200 keeps row 2, the new one gets 3.
        let s = b.build(
            sample(
                t0,
                tunnels,
                vec![
                    sa(0x200, 5, SaDirection::In),
                    sa(0x300, 5, SaDirection::Out),
                ],
            ),
            10,
        );
        let idx: Vec<_> = s.sas.iter().map(|r| (r.sa.spi, r.index)).collect();
        assert_eq!(idx, vec![(0x200, 2), (0x300, 3)]);
        assert_eq!(s.tunnels[0].sa_summary.outbound, 1);
        assert_eq!(s.tunnels[0].sa_summary.inbound, 1);
        assert_eq!(
            s.tunnels[0].sa_summary.seq_headroom,
            Some(u64::from(u32::MAX) - 10)
        );
    }

    #[test]
    fn unattached_sas_go_to_row_zero_and_unavailable_xfrm_is_flagged() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::new();
        let s = b.build(
            sample(
                t0,
                vec![tunnel(5, "x1", 0)],
                vec![sa(0x100, 99, SaDirection::Out)],
            ),
            10,
        );
        assert_eq!(s.sas[0].tunnel_ifindex, 0);
        assert_eq!(s.tunnels[0].sa_summary.outbound, 0);
        let mut smp = sample(t0, vec![tunnel(5, "x1", 0)], vec![]);
        smp.sas = Availability::Unavailable("needs CAP_NET_ADMIN".into());
        let s = b.build(smp, 10);
        assert!(!s.xfrm_available);
    }
}
