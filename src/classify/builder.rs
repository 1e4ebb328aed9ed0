//! Turns consecutive `Sample`s into served `Snapshot`s.
//!
//! This is the stateful part of the pipeline: it remembers, per interface,
//! when its counters started from a new base (for the discontinuity
//! TimeStamp), and gives every SA a row number that stays the same for as
//! long as the SA exists (so an NMS graphing vtiSaCurBytes.5.2 keeps seeing
//! the same SA).
//!
//! A tunnel's counters continue from its row in the last snapshot built
//! (kept by `remember_served`, shared with whoever serves it); the builder
//! itself keeps only what no row shows: the diagnosis bookkeeping of
//! tunnels ever looked at, and the look-up rate limit. A history of its own
//! per interface would duplicate the served rows.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::classify::diagnose::{peer_of, PeerRoute};
use crate::classify::mapping::SaMapper;
use crate::model::{
    Availability, Categories, Cause, Diagnosis, LinkStats, SaDirection, SaRow, SaSummary, Sample,
    SecurityAssociation, Snapshot, Tunnel, TunnelRow,
};

/// An interface's counters as served: where its next reading continues.
struct Counters {
    discontinuity_at: Instant,
    categories: Categories,
    last_error_at: Option<Instant>,
}

/// A tunnel's diagnosis and the look-ups behind it, kept from its first
/// look-up until its counters start over or it is gone. Without one a
/// tunnel's diagnosis is `Diagnosis::none()`.
#[derive(Clone, Debug)]
struct DiagnosisRecord {
    diagnosis: Diagnosis,
    last_lookup_at: Option<Instant>,
    /// An outbound SA was attached to the interface at some poll since its
    /// diagnosis was last recorded.
    out_sa_since_diagnosis: bool,
    /// When `diagnosis` was recorded.
    diagnosed_at: Option<Instant>,
}

impl Default for DiagnosisRecord {
    fn default() -> Self {
        DiagnosisRecord {
            diagnosis: Diagnosis::none(),
            last_lookup_at: None,
            out_sa_since_diagnosis: false,
            diagnosed_at: None,
        }
    }
}

/// An SA's identity in the kernel: (daddr, spi, proto) is unique.
type SaKey = (IpAddr, u32, u8);

/// The tunnel an SA is attached to (0 = none) and the SA's identity.
type SaPlace = (u32, SaKey);

/// Row numbers of the SAs, flat: one sorted array for all tunnels rather
/// than a map per tunnel (one small map per tunnel, rebuilt every poll,
/// costs far more than the numbers in it).
#[derive(Default)]
struct SaNumbering {
    /// The SAs of the last poll and their numbers, sorted by place.
    numbers: Vec<(SaPlace, u32)>,
    /// Per tunnel, the last number handed out: never reused while the
    /// tunnel exists, so a row number always means the same SA.
    last: HashMap<u32, u32>,
}

impl SaNumbering {
    /// Numbers this poll's SAs (`places`, in dump order): an SA seen at the
    /// last poll keeps its number. Forgets the SAs that are gone, so the
    /// table cannot grow without bound, and the counters of tunnels that
    /// are gone.
    fn renumber(&mut self, places: &[SaPlace], present: &HashSet<u32>) -> Vec<u32> {
        // An SA listed twice in one dump gets one number.
        let mut new: HashMap<SaPlace, u32> = HashMap::new();
        let mut numbers = Vec::with_capacity(places.len());
        let indices = places
            .iter()
            .map(|place| {
                let index = match self.numbers.binary_search_by(|(p, _)| p.cmp(place)) {
                    Ok(i) => self.numbers[i].1,
                    Err(_) => *new.entry(*place).or_insert_with(|| {
                        let last = self.last.entry(place.0).or_insert(0);
                        *last += 1;
                        *last
                    }),
                };
                numbers.push((*place, index));
                index
            })
            .collect();
        numbers.sort_unstable();
        numbers.dedup_by(|later, earlier| later.0 == earlier.0);
        self.numbers = numbers;
        self.last
            .retain(|owner, _| *owner == 0 || present.contains(owner));
        indices
    }
}

#[derive(Default)]
pub struct SnapshotBuilder {
    /// The last snapshot served: its rows are the previous readings.
    served: Option<Arc<Snapshot>>,
    /// The ifindexes of the last build's tunnels, sorted.
    built: Vec<u32>,
    /// Sorted by ifindex; only tunnels of the last build that were ever
    /// looked at (a few: one record per tunnel was most of the builder's
    /// memory).
    diagnoses: Vec<(u32, DiagnosisRecord)>,
    sa_numbering: SaNumbering,
    last_xfrm_stat: Option<Vec<(String, u64)>>,
    /// xfrm_stat of the poll before the last one.
    older_xfrm_stat: Option<Vec<(String, u64)>>,
    /// Increases over the last two poll intervals (see `xfrm_stat_recent`).
    recent_xfrm_stat: Vec<(String, u64)>,
    poll_failures: u64,
}

impl SnapshotBuilder {
    /// Counts a failed poll; the caller keeps serving the previous snapshot.
    pub fn record_failure(&mut self) -> u64 {
        self.poll_failures += 1;
        self.poll_failures
    }

    /// Each SA is attached to the tunnel that uses it (`classify::mapping`).
    pub fn build(&mut self, sample: Sample, poll_interval_secs: u32) -> Snapshot {
        let now = sample.taken_at;
        let present: HashSet<u32> = sample.tunnels.iter().map(|t| t.ifindex).collect();

        let (sas, xfrm_available) = match sample.sas {
            Availability::Available(sas) => (sas, true),
            Availability::Unavailable(_) => (Vec::new(), false),
        };
        let sa_rows = self.sa_rows(&sample.tunnels, &present, sas);

        let mut sample_tunnels = sample.tunnels;
        // In ifindex order, as the served rows and the records are.
        sample_tunnels.sort_by_key(|t| t.ifindex);
        let policies = sample.policies.as_ref().map_or(&[][..], Vec::as_slice);
        let served_rows = self.served.as_ref().map_or(&[][..], |s| &s.tunnels[..]);
        let mut before = served_rows.iter().peekable();
        // Records of interfaces that are gone are left behind here.
        let mut records = std::mem::take(&mut self.diagnoses).into_iter().peekable();
        self.built = sample_tunnels.iter().map(|t| t.ifindex).collect();
        let tunnels: Vec<TunnelRow> = sample_tunnels
            .into_iter()
            .map(|tunnel| {
                let ifindex = tunnel.ifindex;
                while before.next_if(|r| r.tunnel.ifindex < ifindex).is_some() {}
                let row_before = before.next_if(|r| r.tunnel.ifindex == ifindex);
                while records.next_if(|(i, _)| *i < ifindex).is_some() {}
                let record = records.next_if(|(i, _)| *i == ifindex).map(|(_, r)| r);
                let (counters, last_delta, continued) = advance(row_before, &tunnel, now);
                let own = own_rows(ifindex, &sa_rows);
                let sa_summary = summarize(own);
                // Only the tunnel's own SAs: a scan of all of them per
                // tunnel would make a poll quadratic. The policy scan is
                // left to tunnels with neither a remote nor an outbound SA.
                let peer = PeerRoute::peer(peer_of(&tunnel, own, policies));
                let mut diagnosis = Diagnosis::none();
                if let Some(mut record) = record.filter(|_| continued) {
                    if sa_summary.outbound > 0 {
                        record.out_sa_since_diagnosis = true;
                    }
                    diagnosis = record.diagnosis.clone();
                    self.diagnoses.push((ifindex, record));
                }
                TunnelRow {
                    discontinuity_at: counters.discontinuity_at,
                    categories: counters.categories,
                    last_delta,
                    last_error_at: counters.last_error_at,
                    diagnosis,
                    sa_summary,
                    peer,
                    tunnel,
                    // Joined after the build (`classify::ike`).
                    ike: None,
                }
            })
            .collect();
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
            poll_failures: self.poll_failures,
            ike: Default::default(),
        }
    }

    /// The snapshot just built, as served (diagnoses filled in): the next
    /// build continues each tunnel's counters from its row here.
    pub fn remember_served(&mut self, snapshot: Arc<Snapshot>) {
        self.served = Some(snapshot);
    }

    fn record(&self, ifindex: u32) -> Option<&DiagnosisRecord> {
        let i = self
            .diagnoses
            .binary_search_by_key(&ifindex, |(i, _)| *i)
            .ok()?;
        Some(&self.diagnoses[i].1)
    }

    /// The tunnel's record, made on first use; `None` when the last build
    /// had no such tunnel.
    fn record_mut(&mut self, ifindex: u32) -> Option<&mut DiagnosisRecord> {
        self.built.binary_search(&ifindex).ok()?;
        let i = match self.diagnoses.binary_search_by_key(&ifindex, |(i, _)| *i) {
            Ok(i) => i,
            Err(i) => {
                self.diagnoses
                    .insert(i, (ifindex, DiagnosisRecord::default()));
                i
            }
        };
        Some(&mut self.diagnoses[i].1)
    }

    /// Rate limit for the per-tunnel look-ups behind a diagnosis: true (and
    /// the look-up is booked) when this tunnel was not looked at within
    /// `min_gap`.
    pub fn book_lookup(&mut self, ifindex: u32, now: Instant, min_gap: Duration) -> bool {
        let Some(h) = self.record_mut(ifindex) else {
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

    /// Remembers the diagnosis of the errors of the poll taken `at`; it is
    /// served until a later error increase is diagnosed differently. Returns
    /// what is served now: an `unknown` (the look-ups found nothing wrong
    /// any more) does not replace a real cause recorded within `keep` — the
    /// errors were counted before the look-ups ran, by the fault just
    /// repaired (lab: the last packets without an SA, looked up once the SA
    /// was back).
    pub fn record_diagnosis(
        &mut self,
        ifindex: u32,
        diagnosis: Diagnosis,
        at: Instant,
        keep: Duration,
    ) -> Diagnosis {
        let Some(h) = self.record_mut(ifindex) else {
            return diagnosis;
        };
        let recent = h
            .diagnosed_at
            .is_some_and(|d| at.saturating_duration_since(d) <= keep);
        if diagnosis.cause == Cause::Unknown
            && recent
            && !matches!(h.diagnosis.cause, Cause::None | Cause::Unknown)
        {
            return h.diagnosis.clone();
        }
        h.diagnosis = diagnosis.clone();
        h.diagnosed_at = Some(at);
        h.out_sa_since_diagnosis = false;
        diagnosis
    }

    /// True when the interface's last diagnosis was a hard SA expiry and no
    /// outbound SA has been attached to it since (at any poll): errors now
    /// are that expiry's aftermath, not a new fault.
    pub fn after_hard_expiry(&self, ifindex: u32) -> bool {
        self.record(ifindex)
            .is_some_and(|h| h.diagnosis.cause == Cause::SaHardExpired && !h.out_sa_since_diagnosis)
    }

    /// Non-zero xfrm_stat increases since the last poll (empty at the first
    /// poll, or when a counter went backwards: namespace re-created).
    fn xfrm_stat_delta(&mut self, now: &Availability<Vec<(String, u64)>>) -> Vec<(String, u64)> {
        let Some(now) = now.as_ref() else {
            self.recent_xfrm_stat.clear();
            return Vec::new();
        };
        let delta = self
            .last_xfrm_stat
            .as_ref()
            .map_or_else(Vec::new, |before| increases(before, now));
        self.recent_xfrm_stat = match &self.older_xfrm_stat {
            Some(older) => increases(older, now),
            None => delta.clone(),
        };
        self.older_xfrm_stat = self.last_xfrm_stat.replace(now.clone());
        delta
    }

    /// Non-zero xfrm_stat increases over the last *two* poll intervals, for
    /// corroborating a diagnosis. /proc/net/xfrm_stat is read after the link
    /// dump, so an error counted between the two reads shows in this poll's
    /// xfrm_stat but in the next poll's link counters (lab: an SA hitting its
    /// hard limit then looked like an underlay drop); the wider window keeps
    /// the counter with the error.
    pub fn xfrm_stat_recent(&self) -> &[(String, u64)] {
        &self.recent_xfrm_stat
    }

    fn sa_rows(
        &mut self,
        tunnels: &[Tunnel],
        present: &HashSet<u32>,
        sas: Vec<SecurityAssociation>,
    ) -> Vec<SaRow> {
        let mapper = SaMapper::new(tunnels);
        let places: Vec<SaPlace> = sas
            .iter()
            .map(|sa| (mapper.tunnel_of(sa), (sa.dst, sa.spi, sa.proto)))
            .collect();
        let indices = self.sa_numbering.renumber(&places, present);
        let mut rows: Vec<SaRow> = sas
            .into_iter()
            .zip(places.iter().zip(indices))
            .map(|(sa, (&(owner, _), index))| SaRow {
                tunnel_ifindex: owner,
                index,
                sa,
            })
            .collect();
        rows.sort_by_key(|r| (r.tunnel_ifindex, r.index));
        rows
    }
}

/// Counters of `now` that are higher than in `before`, with the increase.
fn increases(before: &[(String, u64)], now: &[(String, u64)]) -> Vec<(String, u64)> {
    now.iter()
        .filter_map(|(name, v)| {
            let old = before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, o)| *o);
            (*v > old).then(|| (name.clone(), v - old))
        })
        .collect()
}

/// Advances an interface's counters by one reading from its row at the last
/// poll: detects a new counter base (interface re-created — a new ifindex
/// may come back with the same number, not with the same name and kind —
/// or counters went backwards) and accumulates the classified categories.
/// Returns the counters, what moved since the last reading, and whether
/// they continued (false: a new base).
fn advance(
    before: Option<&TunnelRow>,
    tunnel: &Tunnel,
    now: Instant,
) -> (Counters, Categories, bool) {
    match before {
        Some(row) if is_same_interface(&row.tunnel, tunnel) => {
            let last_delta = Categories::delta(tunnel.kind, &row.tunnel.stats, &tunnel.stats);
            let mut categories = row.categories;
            categories.add(&last_delta);
            let counters = Counters {
                discontinuity_at: row.discontinuity_at,
                categories,
                last_error_at: if last_delta.any_error() {
                    Some(now)
                } else {
                    row.last_error_at
                },
            };
            (counters, last_delta, true)
        }
        _ => {
            let categories = Categories::from_totals(&tunnel.stats);
            let counters = Counters {
                discontinuity_at: now,
                last_error_at: categories.any_error().then_some(now),
                categories,
            };
            (counters, Categories::default(), false)
        }
    }
}

/// Same name and kind, counters not lower than before.
fn is_same_interface(before: &Tunnel, now: &Tunnel) -> bool {
    before.kind == now.kind && before.name == now.name && !went_backwards(&before.stats, &now.stats)
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

/// The SA rows attached to tunnel `ifindex`. `rows` must be sorted by
/// tunnel (as `sa_rows` returns them): the tunnel's rows are found by binary
/// search, not by a scan per tunnel (which made a poll quadratic in
/// tunnels × SAs).
fn own_rows(ifindex: u32, rows: &[SaRow]) -> &[SaRow] {
    let from = rows.partition_point(|r| r.tunnel_ifindex < ifindex);
    let to = from + rows[from..].partition_point(|r| r.tunnel_ifindex == ifindex);
    &rows[from..to]
}

fn summarize(own: &[SaRow]) -> SaSummary {
    let mut summary = SaSummary::default();
    for row in own {
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

    /// Builds and keeps the result, as `Classifier::classify` does.
    fn serve(b: &mut SnapshotBuilder, sample: Sample, poll_interval_secs: u32) -> Arc<Snapshot> {
        let snapshot = Arc::new(b.build(sample, poll_interval_secs));
        b.remember_served(Arc::clone(&snapshot));
        snapshot
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
            ike: None,
        }
    }

    /// Every row has a peer: the vti remote; on xfrm the outbound SA's
    /// destination, else the outbound policy template's; else unknown.
    #[test]
    fn every_row_gets_its_peer_and_how_it_was_found() {
        use crate::model::{Peer, PeerSource};
        let vti = testutil::vti_tunnel(20, "vti20", "192.0.2.1", "198.51.100.20", 20);
        let tunnels = vec![
            vti,
            tunnel(21, "xfrm21", 0), // outbound SA
            tunnel(22, "xfrm22", 0), // policy only
            tunnel(23, "xfrm23", 0), // nothing
        ];
        let mut out = testutil::sa(0x21, "192.0.2.1", "203.0.113.21", SaDirection::Out);
        out.if_id = Some(21);
        let mut inbound = testutil::sa(0x22, "203.0.113.22", "192.0.2.1", SaDirection::In);
        inbound.if_id = Some(22);
        let mut s = sample(Instant::now(), tunnels, vec![out, inbound]);
        s.policies = Availability::Available(vec![
            testutil::out_policy(None, Some(21), "203.0.113.99"),
            testutil::out_policy(None, Some(22), "2001:db8::22"),
        ]);
        let snap = SnapshotBuilder::default().build(s, 10);
        let peers: Vec<Peer> = snap.tunnels.iter().map(|r| r.peer).collect();
        let peer = |a: &str, source| Peer {
            addr: Some(a.parse().unwrap()),
            source,
        };
        assert_eq!(
            peers,
            [
                peer("198.51.100.20", PeerSource::TunnelConfig),
                peer("203.0.113.21", PeerSource::OutboundSa),
                peer("2001:db8::22", PeerSource::PolicyTemplate),
                Peer::UNKNOWN,
            ]
        );
    }

    #[test]
    fn discontinuity_moves_on_recreate_and_counter_reset_only() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(10);
        let t2 = t1 + Duration::from_secs(10);
        let t3 = t2 + Duration::from_secs(10);
        let mut b = SnapshotBuilder::default();
        let s = serve(&mut b, sample(t0, vec![tunnel(5, "x1", 10)], vec![]), 10);
        assert_eq!(s.tunnels[0].discontinuity_at, t0);
        let s = serve(&mut b, sample(t1, vec![tunnel(5, "x1", 20)], vec![]), 10);
        assert_eq!(
            s.tunnels[0].discontinuity_at, t0,
            "counters grew: same base"
        );
        let s = serve(&mut b, sample(t2, vec![tunnel(5, "x1", 3)], vec![]), 10);
        assert_eq!(s.tunnels[0].discontinuity_at, t2, "counters went backwards");
        let s = serve(&mut b, sample(t3, vec![tunnel(5, "other", 9)], vec![]), 10);
        assert_eq!(
            s.tunnels[0].discontinuity_at, t3,
            "ifindex reused by a new interface"
        );
    }

    #[test]
    fn categories_accumulate_deltas_and_restart_at_a_discontinuity() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::default();
        let mut t = tunnel(5, "x1", 10);
        t.stats.tx_errors = 2;
        t.stats.tx_carrier_errors = 2;
        let s = serve(&mut b, sample(t0, vec![t.clone()], vec![]), 10);
        assert_eq!(
            s.tunnels[0].categories.carrier, 2,
            "first poll: kernel totals"
        );
        assert_eq!(s.tunnels[0].last_error_at, Some(t0));
        t.stats.tx_errors = 5;
        t.stats.collisions = 3;
        let t1 = t0 + Duration::from_secs(10);
        let s = serve(&mut b, sample(t1, vec![t.clone()], vec![]), 10);
        let row = &s.tunnels[0];
        assert_eq!(
            (row.categories.carrier, row.categories.routing_loop),
            (2, 3)
        );
        assert_eq!(row.last_delta.routing_loop, 3);
        assert_eq!(row.last_error_at, Some(t1));
        t.stats = LinkStats::default();
        let t2 = t1 + Duration::from_secs(10);
        let s = serve(&mut b, sample(t2, vec![t], vec![]), 10);
        assert!(s.tunnels[0].categories.is_zero());
        assert_eq!(s.tunnels[0].discontinuity_at, t2);
        assert_eq!(s.tunnels[0].last_error_at, None);
    }

    #[test]
    fn sa_rows_keep_their_number_while_the_sa_lives() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::default();
        let tunnels = vec![tunnel(5, "x1", 0)];
        let s = serve(
            &mut b,
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
        let s = serve(
            &mut b,
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
    fn an_sa_listed_twice_in_a_dump_gets_one_number() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::default();
        let out = || sa(0x100, 5, SaDirection::Out);
        let s = serve(
            &mut b,
            sample(t0, vec![tunnel(5, "x1", 0)], vec![out(), out()]),
            10,
        );
        let idx: Vec<_> = s.sas.iter().map(|r| (r.sa.spi, r.index)).collect();
        assert_eq!(idx, vec![(0x100, 1), (0x100, 1)]);
        let s = serve(
            &mut b,
            sample(
                t0,
                vec![tunnel(5, "x1", 0)],
                vec![out(), sa(0x200, 5, SaDirection::In)],
            ),
            10,
        );
        let idx: Vec<_> = s.sas.iter().map(|r| (r.sa.spi, r.index)).collect();
        assert_eq!(idx, vec![(0x100, 1), (0x200, 2)]);
    }

    #[test]
    fn unattached_sas_go_to_row_zero_and_unavailable_xfrm_is_flagged() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::default();
        let s = serve(
            &mut b,
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
        let s = serve(&mut b, smp, 10);
        assert!(!s.xfrm_available);
    }

    #[test]
    fn hard_expiry_is_remembered_until_an_outbound_sa_is_seen_again() {
        let t0 = Instant::now();
        let at = |n: u64| t0 + Duration::from_secs(n);
        let mut b = SnapshotBuilder::default();
        let tunnels = vec![tunnel(5, "x1", 0)];
        let out = || vec![sa(0x100, 5, SaDirection::Out)];
        serve(&mut b, sample(at(0), tunnels.clone(), out()), 1);
        assert!(!b.after_hard_expiry(5));
        // The poll that saw the expiry still lists the SA; the diagnosis is
        // recorded after the build.
        serve(&mut b, sample(at(1), tunnels.clone(), out()), 1);
        let expired = Diagnosis {
            cause: Cause::SaHardExpired,
            text: "expired".into(),
        };
        b.record_diagnosis(5, expired.clone(), at(1), Duration::ZERO);
        assert!(b.after_hard_expiry(5));
        // The kernel deleted it: still the expiry's aftermath.
        serve(&mut b, sample(at(2), tunnels.clone(), vec![]), 1);
        assert!(b.after_hard_expiry(5));
        // IKE installed a new SA: a later loss is a new fault.
        serve(&mut b, sample(at(3), tunnels.clone(), out()), 1);
        assert!(!b.after_hard_expiry(5));
        serve(&mut b, sample(at(4), tunnels.clone(), vec![]), 1);
        assert!(!b.after_hard_expiry(5));
        // Another diagnosis replaces the expiry.
        b.record_diagnosis(5, expired, at(5), Duration::ZERO);
        b.record_diagnosis(5, Diagnosis::none(), at(6), Duration::ZERO);
        assert!(!b.after_hard_expiry(5));
    }

    #[test]
    fn look_ups_are_rate_limited_per_tunnel() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut b = SnapshotBuilder::default();
        serve(&mut b, sample(t0, vec![tunnel(5, "x1", 0)], vec![]), 1);
        let gap = Duration::from_millis(900);
        assert!(b.book_lookup(5, ms(0), gap));
        assert!(!b.book_lookup(5, ms(500), gap), "within the gap");
        // The next 1 s poll, stamped a little early: still looked up.
        assert!(b.book_lookup(5, ms(995), gap));
        assert!(!b.book_lookup(6, ms(995), gap), "unknown interface");
    }

    #[test]
    fn xfrm_stat_recent_spans_two_polls() {
        let t0 = Instant::now();
        let mut b = SnapshotBuilder::default();
        let at = |n: u64, expired: u64| {
            let mut s = sample(t0 + Duration::from_secs(n), vec![], vec![]);
            s.xfrm_stat = Availability::Available(vec![
                ("XfrmOutNoStates".into(), 0),
                ("XfrmOutStateExpired".into(), expired),
            ]);
            s
        };
        let snap = serve(&mut b, at(0, 0), 1);
        assert!(snap.xfrm_stat_delta.is_empty() && b.xfrm_stat_recent().is_empty());
        let snap = serve(&mut b, at(1, 1), 1);
        let one = vec![("XfrmOutStateExpired".to_string(), 1)];
        assert_eq!(
            (snap.xfrm_stat_delta.clone(), b.xfrm_stat_recent()),
            (one.clone(), &one[..])
        );
        // Nothing new: the served delta is empty, the window still has it.
        let snap = serve(&mut b, at(2, 1), 1);
        assert!(snap.xfrm_stat_delta.is_empty());
        assert_eq!(b.xfrm_stat_recent(), &one[..]);
        let snap = serve(&mut b, at(3, 1), 1);
        assert!(snap.xfrm_stat_delta.is_empty() && b.xfrm_stat_recent().is_empty());
    }

    #[test]
    fn unknown_right_after_a_real_cause_keeps_the_cause() {
        let t0 = Instant::now();
        let at = |n: u64| t0 + Duration::from_secs(n);
        let keep = Duration::from_secs(3);
        let mut b = SnapshotBuilder::default();
        serve(&mut b, sample(t0, vec![tunnel(5, "x1", 0)], vec![]), 1);
        let d = |cause| Diagnosis {
            cause,
            text: format!("{cause:?}"),
        };
        let no_sa = d(Cause::NoOutboundSa);
        assert_eq!(b.record_diagnosis(5, no_sa.clone(), at(1), keep), no_sa);
        // The SA is back when the last errors are looked up: still no SA.
        assert_eq!(b.record_diagnosis(5, d(Cause::Unknown), at(2), keep), no_sa);
        // Keeping does not extend the window.
        assert_eq!(b.record_diagnosis(5, d(Cause::Unknown), at(3), keep), no_sa);
        assert_eq!(
            b.record_diagnosis(5, d(Cause::Unknown), at(5), keep),
            d(Cause::Unknown),
            "long after the cause: unknown"
        );
        // A real cause always replaces.
        let block = d(Cause::PolicyBlock);
        assert_eq!(b.record_diagnosis(5, block.clone(), at(6), keep), block);
        let route = d(Cause::NoRouteToPeer);
        assert_eq!(b.record_diagnosis(5, route.clone(), at(6), keep), route);
    }
}
