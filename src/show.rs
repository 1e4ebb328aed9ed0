//! `vti-agentx show`: the same snapshot SNMP serves, for humans or scripts.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::alarm::AlarmTable;
use crate::classify::ike::ike_text;
use crate::collect::ike::state_file::AgentFailures;
use crate::model::{
    reason_label, Availability, Cause, IkeRow, IkeView, SaDirection, SaRow, Snapshot, TunnelKind,
    TunnelRow,
};

/// The last failures `show` took from the running agent's state file:
/// a one-shot poll of charon has no event history of its own.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FromAgent {
    pub file: String,
    /// When the agent wrote the file, seconds since the Unix epoch.
    pub written_unix: u64,
    /// The connections whose last failure is the agent's.
    pub connections: BTreeSet<String>,
}

/// Puts the agent's last failure on the IKE rows (and the tunnels' IKE
/// summaries) of the connections listed, where it is newer than what this
/// poll knows.
pub fn merge_agent_failures(
    snapshot: &mut Snapshot,
    agent: &AgentFailures,
    file: &Path,
) -> FromAgent {
    let mut connections = BTreeSet::new();
    let mut merge = |conn: &str, last: &mut Option<crate::model::IkeFailure>| {
        let Some(failure) = agent.failure(conn) else {
            return;
        };
        if last
            .as_ref()
            .is_none_or(|l| l.unix_secs < failure.unix_secs)
        {
            *last = Some(failure);
            connections.insert(conn.to_owned());
        }
    };
    for row in &mut snapshot.ike.rows {
        merge(&row.conn, &mut row.last_failure);
    }
    for ike in snapshot.tunnels.iter_mut().filter_map(|t| t.ike.as_mut()) {
        merge(&ike.conn, &mut ike.last_failure);
    }
    FromAgent {
        file: file.display().to_string(),
        written_unix: agent.written_unix,
        connections,
    }
}

/// JSON: the snapshot's serde form and the alarm table (key material never
/// reaches the model), and what came from the running agent.
pub fn json(snapshot: &Snapshot, alarms: &AlarmTable, from_agent: Option<&FromAgent>) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Shown<'a> {
        #[serde(flatten)]
        snapshot: &'a Snapshot,
        alarms: &'a AlarmTable,
        #[serde(skip_serializing_if = "Option::is_none")]
        ike_failures_from_agent: Option<&'a FromAgent>,
    }
    serde_json::to_string_pretty(&Shown {
        snapshot,
        alarms,
        ike_failures_from_agent: from_agent,
    })
    .expect("snapshot serializes")
}

pub fn human(snapshot: &Snapshot, from_agent: Option<&FromAgent>) -> String {
    let mut out = String::new();
    let sa_state = if snapshot.xfrm_available {
        format!("{} SAs", snapshot.sas.len())
    } else {
        "SA/policy data unavailable (needs CAP_NET_ADMIN)".to_string()
    };
    let _ = writeln!(
        out,
        "kernel {}: {} tunnel interface(s), {}",
        snapshot.kernel_release,
        snapshot.tunnels.len(),
        sa_state
    );
    let now_unix = snapshot
        .wall_time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for row in &snapshot.tunnels {
        out.push('\n');
        tunnel(&mut out, row, snapshot.xfrm_available, now_unix);
        for sa in snapshot
            .sas
            .iter()
            .filter(|s| s.tunnel_ifindex == row.tunnel.ifindex)
        {
            sa_line(&mut out, sa);
        }
    }
    let unattached: Vec<&SaRow> = snapshot
        .sas
        .iter()
        .filter(|s| s.tunnel_ifindex == 0)
        .collect();
    if !unattached.is_empty() {
        let _ = writeln!(out, "\nSAs not used by any tunnel interface:");
        for sa in unattached {
            sa_line(&mut out, sa);
        }
    }
    match &snapshot.xfrm_stat {
        Availability::Available(stats) => {
            let nonzero: Vec<String> = stats
                .iter()
                .filter(|(_, v)| *v != 0)
                .map(|(n, v)| format!("{n} {v}"))
                .collect();
            let _ = writeln!(
                out,
                "\n/proc/net/xfrm_stat: {}",
                if nonzero.is_empty() {
                    "all zero".to_string()
                } else {
                    nonzero.join(", ")
                }
            );
        }
        Availability::Unavailable(why) => {
            let _ = writeln!(out, "\n/proc/net/xfrm_stat: unavailable ({why})");
        }
    }
    ike_view(&mut out, &snapshot.ike, now_unix, from_agent);
    out
}

fn ike_view(out: &mut String, ike: &IkeView, now_unix: u64, from_agent: Option<&FromAgent>) {
    if !ike.enabled {
        let _ = writeln!(out, "\nIKE view disabled ([ike] enabled = false)");
        return;
    }
    if !ike.available {
        let _ = writeln!(
            out,
            "\nIKE view unavailable: {}",
            ike.unavailable.as_deref().unwrap_or("unknown")
        );
        return;
    }
    let _ = writeln!(
        out,
        "\nIKE (charon over VICI): {} connection/child row(s)",
        ike.rows.len()
    );
    for row in &ike.rows {
        ike_row(out, row, now_unix, from_agent);
    }
}

fn ike_row(out: &mut String, r: &IkeRow, now_unix: u64, from_agent: Option<&FromAgent>) {
    let tunnel = if r.tunnel_ifindex == 0 {
        "no tunnel".to_string()
    } else {
        format!("tunnel ifindex {}", r.tunnel_ifindex)
    };
    let _ = writeln!(
        out,
        "  [{}] {}/{} IKEv{} {} -> {} ({}): IKE_SA {:?}, CHILD_SA {:?}; {tunnel}",
        r.index,
        r.conn,
        r.child,
        r.version,
        r.local_host,
        r.remote_host,
        r.remote_id,
        r.ike_state,
        r.child_state,
    );
    if r.spi_out != 0 || r.reqid != 0 {
        let left = |at: Option<u64>| {
            at.map_or("-".into(), |at| format!("{}s", at.saturating_sub(now_unix)))
        };
        let _ = writeln!(
            out,
            "      reqid {} spi in 0x{:08x} out 0x{:08x} if_id {}/{} mark 0x{:x}/0x{:x}; [{}] [{}]; \
             rekey in {}, expiry in {}",
            r.reqid,
            r.spi_in,
            r.spi_out,
            r.if_id_in,
            r.if_id_out,
            r.mark_in,
            r.mark_out,
            r.ike_algorithms,
            r.child_algorithms,
            left(r.child_rekey_unix),
            left(r.child_expire_unix),
        );
    }
    if let Some(f) = &r.last_failure {
        let source = from_agent
            .filter(|a| a.connections.contains(&r.conn))
            .map_or(String::new(), |a| {
                format!(
                    " (from the running agent, {} written {}s ago)",
                    a.file,
                    now_unix.saturating_sub(a.written_unix)
                )
            });
        let _ = writeln!(
            out,
            "      last failure {} {}s ago{source}: {}",
            reason_label(f.reason),
            now_unix.saturating_sub(f.unix_secs),
            f.message
        );
    }
}

fn addr(a: Option<IpAddr>) -> String {
    a.map_or_else(|| "any".to_string(), |a| a.to_string())
}

fn tunnel(out: &mut String, row: &TunnelRow, xfrm_available: bool, now_unix: u64) {
    let t = &row.tunnel;
    let mut ident = format!("{} (ifindex {}, {})", t.name, t.ifindex, t.kind.as_str());
    if let Some(if_id) = t.if_id {
        let _ = write!(ident, " if_id {if_id}");
    } else {
        let _ = write!(
            ident,
            " {} -> {} ikey {} okey {}",
            addr(t.local),
            addr(t.remote),
            t.ikey.unwrap_or(0),
            t.okey.unwrap_or(0)
        );
    }
    let admin = if t.admin_up { "up" } else { "DOWN" };
    let _ = writeln!(out, "{ident} mtu {} admin {admin} oper {:?}", t.mtu, t.oper);
    let s = &t.stats;
    let _ = write!(out, "  tx {} packets, {} bytes; ", s.tx_packets, s.tx_bytes);
    if t.error_counters_valid {
        let _ = writeln!(
            out,
            "tx_errors {} (carrier {}, collisions {}, aborted {}), tx_dropped {}",
            s.tx_errors, s.tx_carrier_errors, s.collisions, s.tx_aborted_errors, s.tx_dropped
        );
        let c = &row.categories;
        let mut line = format!(
            "  classified: {} no route/policy/SA (carrier), {} routing loop, {} too big, \
             {} failed after encryption, {} dropped",
            c.carrier, c.routing_loop, c.too_big, c.output_errors, c.dropped
        );
        if t.kind != TunnelKind::Xfrm {
            let _ = write!(
                line,
                ", ~{} underlay drops counted as sent",
                c.underlay_drops
            );
        }
        let _ = writeln!(out, "{line}");
    } else {
        let _ = writeln!(
            out,
            "error counters not exported by this kernel for {} interfaces, tx_dropped {}",
            t.kind.as_str(),
            s.tx_dropped
        );
    }
    if row.diagnosis.cause != Cause::None {
        let _ = writeln!(
            out,
            "  diagnosis: {} — {}",
            row.diagnosis.cause.name(),
            row.diagnosis.text
        );
    }
    if let Some(ike) = &row.ike {
        let _ = writeln!(
            out,
            "  IKE: {}/{} (row {}): {}",
            ike.conn,
            ike.child,
            ike.index,
            ike_text(ike)
        );
    }
    if xfrm_available {
        let sum = &row.sa_summary;
        let mut line = format!("  SAs: {} out, {} in", sum.outbound, sum.inbound);
        if sum.outbound == 0 {
            line.push_str(" — NO OUTBOUND SA");
        }
        if let Some(at) = sum.hard_expiry_unix {
            let _ = write!(
                line,
                "; outbound SAs hard-expire in {} s without a rekey",
                at.saturating_sub(now_unix)
            );
        }
        if let Some(h) = sum.seq_headroom {
            let _ = write!(line, "; {h} packets before the sequence number wraps");
        }
        let _ = writeln!(out, "{line}");
    }
}

fn sa_line(out: &mut String, row: &SaRow) {
    let sa = &row.sa;
    let dir = match sa.direction {
        SaDirection::In => "in ",
        SaDirection::Out => "out",
    };
    let algs: Vec<&str> = [
        &sa.algorithms.enc_alg,
        &sa.algorithms.aead_alg,
        &sa.algorithms.auth_alg,
        &sa.algorithms.comp_alg,
    ]
    .into_iter()
    .filter_map(|a| a.as_deref())
    .collect();
    let _ = writeln!(
        out,
        "    SA {dir} spi 0x{:08x} {} -> {} proto {} reqid {} [{}] {} bytes, {} packets, oseq {}",
        sa.spi,
        sa.src,
        sa.dst,
        sa.proto,
        sa.reqid,
        algs.join(" "),
        sa.current.bytes,
        sa.current.packets,
        sa.replay.oseq
    );
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use super::*;
    use crate::collect::ike::state_file::StoredFailure;
    use crate::collect::ike::{IkeFailure, TermReason};

    fn snapshot(rows: Vec<IkeRow>) -> Snapshot {
        Snapshot {
            taken_at: Instant::now(),
            wall_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_100),
            poll_interval_secs: 10,
            kernel_release: "6.1.0-test".into(),
            xfrm_available: true,
            xfrm_stat: Availability::Available(vec![]),
            xfrm_stat_delta: vec![],
            tunnels: vec![],
            sas: vec![],
            policies: Availability::Available(vec![]),
            poll_failures: 0,
            ike: IkeView {
                enabled: true,
                available: true,
                rows,
                ..IkeView::default()
            },
        }
    }

    fn row(conn: &str, last_failure: Option<IkeFailure>) -> IkeRow {
        IkeRow {
            conn: conn.into(),
            last_failure,
            ..IkeRow::default()
        }
    }

    fn stored(reason: TermReason, unix_secs: u64) -> StoredFailure {
        StoredFailure {
            reason,
            message: format!("{reason:?} at {unix_secs}"),
            unix_secs,
        }
    }

    #[test]
    fn agent_failures_fill_listed_connections_unless_this_poll_knows_newer() {
        let newer = IkeFailure {
            reason: TermReason::DeletedByPeer,
            message: "received DELETE for IKE_SA".into(),
            unix_secs: 1_000_050,
            ike_sa_uniqueid: Some(1),
            child: None,
        };
        let mut snap = snapshot(vec![row("a", None), row("b", Some(newer.clone()))]);
        let agent = AgentFailures {
            written_unix: 1_000_090,
            failures: [
                ("a".to_string(), stored(TermReason::AuthFailed, 1_000_000)),
                ("b".to_string(), stored(TermReason::AuthFailed, 1_000_000)),
                ("gone".to_string(), stored(TermReason::Other, 1_000_000)),
            ]
            .into(),
        };
        let from = merge_agent_failures(&mut snap, &agent, Path::new("/run/x.json"));
        assert_eq!(from.connections, BTreeSet::from(["a".to_string()]));
        let a = snap.ike.rows[0].last_failure.as_ref().unwrap();
        assert_eq!((a.reason, a.unix_secs), (TermReason::AuthFailed, 1_000_000));
        assert_eq!(snap.ike.rows[1].last_failure.as_ref(), Some(&newer));

        let text = human(&snap, Some(&from));
        assert!(
            text.contains("last failure authFailed 100s ago (from the running agent, /run/x.json written 10s ago)"),
            "{text}"
        );
        assert!(
            text.contains("last failure deletedByPeer 50s ago: received"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&json(&snap, &AlarmTable::default(), Some(&from))).unwrap();
        assert_eq!(
            json["ike"]["rows"][0]["last_failure"]["reason"],
            "authFailed"
        );
        assert_eq!(json["ikeFailuresFromAgent"]["connections"][0], "a");
    }
}
