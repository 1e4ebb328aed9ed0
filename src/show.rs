//! `vti-agentx show`: the same snapshot SNMP serves, for humans or scripts.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::UNIX_EPOCH;

use crate::alarm::AlarmTable;
use crate::model::{Availability, Cause, SaDirection, SaRow, Snapshot, TunnelKind, TunnelRow};

/// JSON: the snapshot's serde form and the alarm table (key material never
/// reaches the model).
pub fn json(snapshot: &Snapshot, alarms: &AlarmTable) -> String {
    #[derive(serde::Serialize)]
    struct Shown<'a> {
        #[serde(flatten)]
        snapshot: &'a Snapshot,
        alarms: &'a AlarmTable,
    }
    serde_json::to_string_pretty(&Shown { snapshot, alarms }).expect("snapshot serializes")
}

pub fn human(snapshot: &Snapshot) -> String {
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
    out
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
    let _ = writeln!(out, "{ident} mtu {} {:?}", t.mtu, t.oper);
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
        if row.diagnosis.cause != Cause::None {
            let _ = writeln!(
                out,
                "  diagnosis: {} — {}",
                row.diagnosis.cause.name(),
                row.diagnosis.text
            );
        }
    } else {
        let _ = writeln!(
            out,
            "error counters not exported by this kernel for {} interfaces, tx_dropped {}",
            t.kind.as_str(),
            s.tx_dropped
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
