//! Snapshot → `MibIndex`: which value each IPSEC-VTI-MIB object has.
//!
//! The SMI types here must match `mibs/IPSEC-VTI-MIB.txt` (Unsigned32 and
//! Gauge32 share a wire tag; Integer32, enums, TruthValue and
//! InterfaceIndex are Integer; CounterBasedGauge64 is Counter64).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use super::index::{MibIndex, Region, RenderCtx, Scalar, Table};
use super::oids::{self, alarm_col, global, if_col, sa_col, xfrm_stat};
use crate::model::{SaDirection, Snapshot, TunnelKind, TunnelRow};
use crate::oid::Oid;
use crate::value::Value;

/// The agent's version, served as vtiAgentVersion.
pub const AGENT_VERSION: &str = concat!("vti-agentx ", env!("CARGO_PKG_VERSION"));

pub fn render(snapshot: Arc<Snapshot>, root: &Oid) -> MibIndex {
    let objects = root.child(&[oids::OBJECTS]);
    let mut regions: Vec<Region> = scalars(&snapshot, &objects)
        .into_iter()
        .map(Region::Scalar)
        .collect();
    regions.push(Region::Table(xfrm_stat_table(&snapshot, &objects)));
    regions.push(Region::Table(if_table(&snapshot, &objects)));
    regions.push(Region::Table(sa_table(&snapshot, &objects)));
    regions.push(Region::Table(alarm_table(&snapshot, &objects)));
    MibIndex::new(root.clone(), regions)
}

/// A vtiGlobal scalar's value, from the snapshot.
type GlobalFn = fn(&Snapshot, &RenderCtx) -> Value;

const GLOBALS: &[(u32, GlobalFn)] = &[
    (global::POLL_INTERVAL, |s, _| {
        Value::Gauge32(s.poll_interval_secs)
    }),
    (global::LAST_POLL_TIME, |s, ctx| {
        Value::TimeTicks(ctx.clock.timestamp(s.taken_at))
    }),
    (global::AGENT_VERSION, |_, _| Value::text(AGENT_VERSION)),
    (global::TUNNEL_COUNT, |s, _| {
        Value::Gauge32(count(s.tunnels.len()))
    }),
    (global::SA_COUNT, |s, _| Value::Gauge32(count(s.sas.len()))),
    (global::XFRM_AVAILABLE, |s, _| {
        Value::truth(s.xfrm_available)
    }),
    (global::POLL_FAILURES, |s, _| {
        Value::Counter64(s.poll_failures)
    }),
    (global::KERNEL_RELEASE, |s, _| {
        Value::text(&s.kernel_release)
    }),
];

fn scalars(snap: &Arc<Snapshot>, objects: &Oid) -> Vec<Scalar> {
    let base = objects.child(&[oids::GLOBAL]);
    GLOBALS
        .iter()
        .map(|&(n, f)| {
            let snap = Arc::clone(snap);
            Scalar::new(base.child(&[n]), Box::new(move |ctx| Some(f(&snap, ctx))))
        })
        .collect()
}

fn xfrm_stat_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::XFRM_STAT_TABLE, 1]);
    let n = snap.xfrm_stat.as_ref().map_or(0, Vec::len);
    // Index = 1-based position in /proc/net/xfrm_stat; the kernel only ever
    // appends names, so positions are stable across polls and upgrades.
    let rows = (1..=n as u32).map(|i| [i]).collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        vec![xfrm_stat::NAME, xfrm_stat::VALUE],
        rows,
        Box::new(move |row, col, _| {
            let (name, value) = snap.xfrm_stat.as_ref()?.get(row)?;
            match col {
                xfrm_stat::NAME => Some(Value::text(name)),
                xfrm_stat::VALUE => Some(Value::Counter64(*value)),
                _ => None,
            }
        }),
    )
}

const IF_COLUMNS: &[u32] = &[
    if_col::NAME,
    if_col::KIND,
    if_col::LOCAL_ADDR_TYPE,
    if_col::LOCAL_ADDR,
    if_col::REMOTE_ADDR_TYPE,
    if_col::REMOTE_ADDR,
    if_col::IKEY,
    if_col::OKEY,
    if_col::XFRM_IF_ID,
    if_col::UNDERLAY_IF_INDEX,
    if_col::MTU,
    if_col::OPER_STATUS,
    if_col::TX_PACKETS,
    if_col::TX_OCTETS,
    if_col::TX_ERRORS,
    if_col::TX_DROPPED,
    if_col::TX_CARRIER_ERRORS,
    if_col::COLLISIONS,
    if_col::TX_ABORTED_ERRORS,
    if_col::RX_PACKETS,
    if_col::RX_OCTETS,
    if_col::RX_ERRORS,
    if_col::RX_DROPPED,
    if_col::ERROR_COUNTERS_VALID,
    if_col::CAT_CARRIER,
    if_col::CAT_LOOP,
    if_col::CAT_TOO_BIG,
    if_col::CAT_OUTPUT_ERRORS,
    if_col::CAT_DROPPED,
    if_col::SUSPECTED_UNDERLAY_DROPS,
    if_col::CAUSE,
    if_col::DIAGNOSIS,
    if_col::LAST_ERROR_TIME,
    if_col::DISCONTINUITY_TIME,
    if_col::OUT_SA_COUNT,
    if_col::IN_SA_COUNT,
    if_col::NO_OUTBOUND_SA,
    if_col::SECONDS_TO_HARD_EXPIRY,
    if_col::SEQ_HEADROOM,
];

fn if_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::IF_TABLE, 1]);
    let rows = snap.tunnels.iter().map(|t| [t.tunnel.ifindex]).collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        IF_COLUMNS.to_vec(),
        rows,
        Box::new(move |row, col, ctx| if_cell(&snap.tunnels[row], col, snap.xfrm_available, ctx)),
    )
}

fn if_cell(row: &TunnelRow, col: u32, xfrm_available: bool, ctx: &RenderCtx) -> Option<Value> {
    let t = &row.tunnel;
    let s = &t.stats;
    // Counters the kernel does not export for this interface are absent,
    // never zero: an NMS must not graph "no errors" it cannot know.
    let error_counter = |v: u64| t.error_counters_valid.then_some(Value::Counter64(v));
    // SA-derived columns need the XFRM dump (CAP_NET_ADMIN).
    let sa_info = |v: Value| xfrm_available.then_some(v);
    match col {
        if_col::NAME => Some(Value::text(&t.name)),
        if_col::KIND => Some(Value::Integer(kind_code(t.kind))),
        if_col::LOCAL_ADDR_TYPE => Some(inet_type(t.local)),
        if_col::LOCAL_ADDR => Some(inet_addr(t.local)),
        if_col::REMOTE_ADDR_TYPE => Some(inet_type(t.remote)),
        if_col::REMOTE_ADDR => Some(inet_addr(t.remote)),
        // MIB: keys are 0 on xfrm interfaces, the if_id is 0 on vti/vti6.
        if_col::IKEY => Some(Value::Gauge32(t.ikey.unwrap_or(0))),
        if_col::OKEY => Some(Value::Gauge32(t.okey.unwrap_or(0))),
        if_col::XFRM_IF_ID => Some(Value::Gauge32(t.if_id.unwrap_or(0))),
        if_col::UNDERLAY_IF_INDEX => Some(Value::Integer(int32(u64::from(t.link)))),
        if_col::MTU => Some(Value::Gauge32(t.mtu)),
        if_col::OPER_STATUS => Some(Value::Integer(t.oper as i32)),
        if_col::TX_PACKETS => Some(Value::Counter64(s.tx_packets)),
        if_col::TX_OCTETS => Some(Value::Counter64(s.tx_bytes)),
        if_col::TX_ERRORS => error_counter(s.tx_errors),
        if_col::TX_DROPPED => Some(Value::Counter64(s.tx_dropped)),
        if_col::TX_CARRIER_ERRORS => error_counter(s.tx_carrier_errors),
        if_col::COLLISIONS => error_counter(s.collisions),
        if_col::TX_ABORTED_ERRORS => error_counter(s.tx_aborted_errors),
        if_col::RX_PACKETS => Some(Value::Counter64(s.rx_packets)),
        if_col::RX_OCTETS => Some(Value::Counter64(s.rx_bytes)),
        if_col::RX_ERRORS => error_counter(s.rx_errors),
        if_col::RX_DROPPED => Some(Value::Counter64(s.rx_dropped)),
        if_col::ERROR_COUNTERS_VALID => Some(Value::truth(t.error_counters_valid)),
        if_col::CAT_CARRIER => error_counter(row.categories.carrier),
        if_col::CAT_LOOP => error_counter(row.categories.routing_loop),
        if_col::CAT_TOO_BIG => error_counter(row.categories.too_big),
        if_col::CAT_OUTPUT_ERRORS => error_counter(row.categories.output_errors),
        if_col::CAT_DROPPED => Some(Value::Counter64(row.categories.dropped)),
        // Only vti/vti6 disguise underlay drops as 1-byte packets; the MIB
        // has this always 0 on xfrm (they count them as output errors).
        if_col::SUSPECTED_UNDERLAY_DROPS => Some(Value::Counter64(match t.kind {
            TunnelKind::Xfrm => 0,
            TunnelKind::Vti | TunnelKind::Vti6 => row.categories.underlay_drops,
        })),
        if_col::CAUSE => Some(Value::Integer(row.diagnosis.cause as i32)),
        if_col::DIAGNOSIS => Some(Value::display_string(&row.diagnosis.text)),
        if_col::LAST_ERROR_TIME => Some(Value::TimeTicks(
            row.last_error_at.map_or(0, |at| ctx.clock.timestamp(at)),
        )),
        if_col::DISCONTINUITY_TIME => {
            Some(Value::TimeTicks(ctx.clock.timestamp(row.discontinuity_at)))
        }
        if_col::OUT_SA_COUNT => sa_info(Value::Gauge32(row.sa_summary.outbound)),
        if_col::IN_SA_COUNT => sa_info(Value::Gauge32(row.sa_summary.inbound)),
        if_col::NO_OUTBOUND_SA => sa_info(Value::truth(row.sa_summary.outbound == 0)),
        if_col::SECONDS_TO_HARD_EXPIRY => sa_info(Value::Integer(seconds_until(
            row.sa_summary.hard_expiry_unix,
            ctx,
        ))),
        if_col::SEQ_HEADROOM => row
            .sa_summary
            .seq_headroom
            .and_then(|h| sa_info(Value::Counter64(h))),
        _ => None,
    }
}

const SA_COLUMNS: &[u32] = &[
    sa_col::SPI,
    sa_col::DIRECTION,
    sa_col::SRC_ADDR_TYPE,
    sa_col::SRC_ADDR,
    sa_col::DST_ADDR_TYPE,
    sa_col::DST_ADDR,
    sa_col::PROTOCOL,
    sa_col::MODE,
    sa_col::REQID,
    sa_col::MARK,
    sa_col::MARK_MASK,
    sa_col::IF_ID,
    sa_col::ENC_ALG,
    sa_col::AUTH_ALG,
    sa_col::AGE,
    sa_col::CUR_BYTES,
    sa_col::CUR_PACKETS,
    sa_col::SOFT_BYTE_LIMIT,
    sa_col::HARD_BYTE_LIMIT,
    sa_col::SOFT_PACKET_LIMIT,
    sa_col::HARD_PACKET_LIMIT,
    sa_col::SOFT_ADD_EXPIRES,
    sa_col::HARD_ADD_EXPIRES,
    sa_col::SECONDS_TO_SOFT_EXPIRY,
    sa_col::SECONDS_TO_HARD_EXPIRY,
    sa_col::REPLAY_WINDOW_ERRORS,
    sa_col::REPLAY_ERRORS,
    sa_col::INTEGRITY_FAILURES,
    sa_col::OUT_SEQ,
    sa_col::REPLAY_WINDOW,
    sa_col::ESN,
];

fn sa_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::SA_TABLE, 1]);
    let rows = snap
        .sas
        .iter()
        .map(|r| [r.tunnel_ifindex, r.index])
        .collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        SA_COLUMNS.to_vec(),
        rows,
        Box::new(move |row, col, ctx| sa_cell(&snap.sas[row].sa, col, ctx)),
    )
}

fn sa_cell(sa: &crate::model::SecurityAssociation, col: u32, ctx: &RenderCtx) -> Option<Value> {
    let lft = sa.lifetime.get();
    match col {
        sa_col::SPI => Some(Value::Gauge32(sa.spi)),
        sa_col::DIRECTION => Some(Value::Integer(match sa.direction {
            SaDirection::In => 1,
            SaDirection::Out => 2,
        })),
        sa_col::SRC_ADDR_TYPE => Some(inet_type(Some(sa.src))),
        sa_col::SRC_ADDR => Some(inet_addr(Some(sa.src))),
        sa_col::DST_ADDR_TYPE => Some(inet_type(Some(sa.dst))),
        sa_col::DST_ADDR => Some(inet_addr(Some(sa.dst))),
        sa_col::PROTOCOL => Some(Value::Integer(i32::from(sa.proto))),
        sa_col::MODE => Some(Value::Integer(i32::from(sa.mode) + 1)),
        sa_col::REQID => Some(Value::Gauge32(sa.reqid)),
        // MIB: no mark = 0 with mask 0; no if_id = 0; no algorithm = empty.
        sa_col::MARK => Some(Value::Gauge32(sa.mark.map_or(0, |(v, _)| v))),
        sa_col::MARK_MASK => Some(Value::Gauge32(sa.mark.map_or(0, |(_, m)| m))),
        sa_col::IF_ID => Some(Value::Gauge32(sa.if_id.unwrap_or(0))),
        // The cipher; for AEAD SAs the AEAD algorithm, for IPComp the
        // compression algorithm.
        sa_col::ENC_ALG => Some(Value::text(
            sa.algorithms
                .enc_alg
                .as_deref()
                .or(sa.algorithms.aead_alg.as_deref())
                .or(sa.algorithms.comp_alg.as_deref())
                .unwrap_or(""),
        )),
        sa_col::AUTH_ALG => Some(Value::text(sa.algorithms.auth_alg.as_deref().unwrap_or(""))),
        sa_col::AGE => Some(Value::Gauge32(
            unix_now(ctx)
                .saturating_sub(sa.current.add_time)
                .min(u64::from(u32::MAX)) as u32,
        )),
        sa_col::CUR_BYTES => Some(Value::Counter64(sa.current.bytes)),
        sa_col::CUR_PACKETS => Some(Value::Counter64(sa.current.packets)),
        sa_col::SOFT_BYTE_LIMIT => Some(Value::Counter64(lft.soft_byte_limit)),
        sa_col::HARD_BYTE_LIMIT => Some(Value::Counter64(lft.hard_byte_limit)),
        sa_col::SOFT_PACKET_LIMIT => Some(Value::Counter64(lft.soft_packet_limit)),
        sa_col::HARD_PACKET_LIMIT => Some(Value::Counter64(lft.hard_packet_limit)),
        sa_col::SOFT_ADD_EXPIRES => Some(Value::Gauge32(saturate32(lft.soft_add_expires_seconds))),
        sa_col::HARD_ADD_EXPIRES => Some(Value::Gauge32(saturate32(lft.hard_add_expires_seconds))),
        sa_col::SECONDS_TO_SOFT_EXPIRY => {
            Some(Value::Integer(seconds_until(sa.soft_expiry_unix(), ctx)))
        }
        sa_col::SECONDS_TO_HARD_EXPIRY => {
            Some(Value::Integer(seconds_until(sa.hard_expiry_unix(), ctx)))
        }
        sa_col::REPLAY_WINDOW_ERRORS => Some(Value::Counter32(sa.stats.replay_window)),
        sa_col::REPLAY_ERRORS => Some(Value::Counter32(sa.stats.replay)),
        sa_col::INTEGRITY_FAILURES => Some(Value::Counter32(sa.stats.integrity_failed)),
        sa_col::OUT_SEQ => Some(Value::Counter64(sa.replay.oseq)),
        sa_col::REPLAY_WINDOW => Some(Value::Gauge32(sa.replay.window)),
        sa_col::ESN => Some(Value::truth(sa.replay.esn)),
        _ => None,
    }
}

fn alarm_table(snap: &Arc<Snapshot>, objects: &Oid) -> Table {
    let entry = objects.child(&[oids::ALARM_TABLE, 1]);
    let rows = snap
        .alarms
        .iter()
        .map(|a| [a.ifindex, a.category as u32])
        .collect();
    let snap = Arc::clone(snap);
    Table::new(
        entry,
        vec![
            alarm_col::INTERVAL,
            alarm_col::RISING_THRESHOLD,
            alarm_col::FALLING_THRESHOLD,
            alarm_col::STATE,
            alarm_col::LAST_DELTA,
            alarm_col::LAST_EVENT_TIME,
            alarm_col::EVENTS_SENT,
            alarm_col::EVENTS_SUPPRESSED,
        ],
        rows,
        Box::new(move |row, col, ctx| {
            let a = snap.alarms.get(row);
            Some(match col {
                alarm_col::INTERVAL => Value::Gauge32(a.interval_secs),
                alarm_col::RISING_THRESHOLD => Value::Gauge32(a.rising),
                alarm_col::FALLING_THRESHOLD => Value::Gauge32(a.falling),
                alarm_col::STATE => Value::Integer(a.state as i32),
                alarm_col::LAST_DELTA => Value::Counter64(a.last_delta),
                alarm_col::LAST_EVENT_TIME => {
                    Value::TimeTicks(a.last_event_at.map_or(0, |at| ctx.clock.timestamp(at)))
                }
                alarm_col::EVENTS_SENT => Value::Counter64(a.sent),
                alarm_col::EVENTS_SUPPRESSED => Value::Counter64(a.suppressed),
                _ => return None,
            })
        }),
    )
}

fn kind_code(kind: TunnelKind) -> i32 {
    match kind {
        TunnelKind::Vti => 1,
        TunnelKind::Vti6 => 2,
        TunnelKind::Xfrm => 3,
    }
}

/// InetAddressType: unknown(0), ipv4(1), ipv6(2).
fn inet_type(addr: Option<IpAddr>) -> Value {
    Value::Integer(match addr {
        None => 0,
        Some(IpAddr::V4(_)) => 1,
        Some(IpAddr::V6(_)) => 2,
    })
}

/// InetAddress: 4 or 16 raw bytes; empty for unknown(0).
fn inet_addr(addr: Option<IpAddr>) -> Value {
    Value::OctetString(match addr {
        None => Vec::new(),
        Some(IpAddr::V4(a)) => a.octets().to_vec(),
        Some(IpAddr::V6(a)) => a.octets().to_vec(),
    })
}

fn unix_now(ctx: &RenderCtx) -> u64 {
    ctx.wall_now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds from now until `at` (0 once passed); -1 when there is no limit.
fn seconds_until(at: Option<u64>, ctx: &RenderCtx) -> i32 {
    match at {
        None => -1,
        Some(at) => int32(at.saturating_sub(unix_now(ctx))),
    }
}

fn int32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn saturate32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::testutil::{sa, xfrm_tunnel};
    use crate::mib::clock::MasterClock;
    use crate::model::{AlgorithmNames, Categories, Diagnosis, SaSummary};
    use std::time::Instant;

    fn row(t: crate::model::Tunnel) -> TunnelRow {
        TunnelRow {
            tunnel: t,
            discontinuity_at: Instant::now(),
            categories: Categories::default(),
            last_delta: Categories::default(),
            last_error_at: None,
            diagnosis: Diagnosis::none(),
            sa_summary: SaSummary::default(),
        }
    }

    /// Columns the MIB describes as 0 or empty when the kernel has nothing are
    /// instantiated with 0 or empty, not left out (no holes in a row).
    #[test]
    fn absent_settings_are_zero_or_empty_as_the_mib_says() {
        let ctx = RenderCtx::now(MasterClock::local());
        let x = row(xfrm_tunnel(5, "xfrm1", 7));
        for col in [if_col::IKEY, if_col::OKEY] {
            assert_eq!(if_cell(&x, col, true, &ctx), Some(Value::Gauge32(0)));
        }
        assert_eq!(
            if_cell(&x, if_col::SUSPECTED_UNDERLAY_DROPS, true, &ctx),
            Some(Value::Counter64(0))
        );
        let v = row(crate::classify::testutil::vti_tunnel(
            6,
            "vti1",
            "192.0.2.1",
            "192.0.2.2",
            11,
        ));
        assert_eq!(
            if_cell(&v, if_col::XFRM_IF_ID, true, &ctx),
            Some(Value::Gauge32(0))
        );
        assert_eq!(
            if_cell(&v, if_col::IKEY, true, &ctx),
            Some(Value::Gauge32(11))
        );

        let mut s = sa(0x100, "192.0.2.1", "192.0.2.2", SaDirection::Out);
        for col in [sa_col::MARK, sa_col::MARK_MASK, sa_col::IF_ID] {
            assert_eq!(sa_cell(&s, col, &ctx), Some(Value::Gauge32(0)));
        }
        s.algorithms = AlgorithmNames {
            aead_alg: Some("rfc4106(gcm(aes))".into()),
            ..AlgorithmNames::default()
        }
        .intern();
        assert_eq!(
            sa_cell(&s, sa_col::ENC_ALG, &ctx),
            Some(Value::text("rfc4106(gcm(aes))"))
        );
        assert_eq!(sa_cell(&s, sa_col::AUTH_ALG, &ctx), Some(Value::text("")));
        s.algorithms = AlgorithmNames {
            comp_alg: Some("deflate".into()),
            ..AlgorithmNames::default()
        }
        .intern();
        assert_eq!(
            sa_cell(&s, sa_col::ENC_ALG, &ctx),
            Some(Value::text("deflate"))
        );
        s.algorithms = AlgorithmNames::default().intern();
        assert_eq!(sa_cell(&s, sa_col::ENC_ALG, &ctx), Some(Value::text("")));
    }
}
