//! Host-side check of the `alarms` lab part (`tests/lab/scenarios/alarms.sh`, issue 5
//! "Lab test"): what a real snmptrapd received through snmpd's trap2sink when an XFRM
//! tunnel carrying a steady ping lost its outbound SA and got it back.
//!
//! - While the SA was gone (log `alarms.traps.down`): exactly one vtiTxErrorRising
//!   (category carrier(1), delta ≥ 1, threshold 1, interval 2, a diagnosis naming the
//!   missing SA: its peer and the tunnel's if_id) and exactly one vtiSaDown
//!   (vtiIfOutSaCount 0), nothing else of ours.
//! - After the restore (whole log `alarms.traps`): additionally exactly one
//!   vtiTxErrorFalling (carrier, delta 0, threshold 0, interval 2, the diagnosis of
//!   the errors that stopped: the missing SA) and one vtiSaUp
//!   (vtiIfOutSaCount 1); no vtiSaExpiring.
//! - Every notification starts with sysUpTime.0 then snmpTrapOID.0, and its varbinds
//!   are the MIB's OBJECTS, in order, with the MIB's types; they end with the cause
//!   (noOutboundSa(5) in the rising one), the peer (xfrm1's outbound SA destination)
//!   and the event's vtiEventTable index (issue 13).
//! - Peer columns (issue 13): with the SA, xfrm1's vtiIfPeerAddr is the outbound SA's
//!   destination (`ip xfrm state`) and vtiIfPeerAddrSource outboundSa(2); without it,
//!   the outbound policy's template destination (`ip xfrm policy`), policyTemplate(3).
//! - The event table at the end lists the same events as the traps received, with the
//!   same indexes, in the same order, all sent(1); vtiEventLastIndex is the last one.

use vti_agentx::mib::oids::{
    alarm_col, event_col, event_global, if_col, ALARM_TABLE, EVENT_TABLE, GLOBAL, IF_TABLE, OBJECTS,
};

use crate::common::Sections;
use std::fmt::Write as _;

fn section<'a>(sections: &'a Sections, name: &str) -> Option<(&'a str, i32)> {
    sections.get(name).map(|s| (s.body.as_str(), s.rc))
}

const ROOT: &str = ".1.3.6.1.4.1.8072.9999.9999.2741";
const SYS_UPTIME: &str = ".1.3.6.1.2.1.1.3.0";
const TRAP_OID: &str = ".1.3.6.1.6.3.1.1.4.1.0";
const CARRIER: u32 = 1;
const TUNNEL: &str = "xfrm1";
const IF_ID: u32 = 31;
const PEER: &str = "192.0.2.6";

/// One varbind as snmptrapd printed it: OID, type ("STRING", "Gauge32", ...), value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vb {
    pub oid: String,
    pub ty: String,
    pub value: String,
}

/// One received notification.
#[derive(Clone, Debug)]
pub struct Trap {
    pub oid: String,
    pub varbinds: Vec<Vb>,
}

/// "TRAP vb\tvb\t..." lines (snmptrapd -F 'TRAP %v\n').
pub fn traps(log: &str) -> Result<Vec<Trap>, String> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("TRAP ") else {
            continue;
        };
        let mut vbs = Vec::new();
        for vb in rest.split('\t') {
            let (oid, val) = vb
                .split_once(" = ")
                .ok_or_else(|| format!("varbind without ' = ': {vb:?}"))?;
            let (ty, value) = val.split_once(": ").unwrap_or((val, ""));
            vbs.push(Vb {
                oid: oid.to_string(),
                ty: ty.to_string(),
                value: value.trim_matches('"').to_string(),
            });
        }
        if vbs.len() < 2 || vbs[0].oid != SYS_UPTIME || vbs[1].oid != TRAP_OID {
            return Err(format!(
                "notification does not start with sysUpTime.0, snmpTrapOID.0: {line}"
            ));
        }
        out.push(Trap {
            oid: vbs[1].value.clone(),
            varbinds: vbs.split_off(2),
        });
    }
    Ok(out)
}

fn name(trap_oid: &str) -> String {
    match trap_oid.strip_prefix(ROOT) {
        Some(".0.1") => "vtiTxErrorRising".into(),
        Some(".0.2") => "vtiTxErrorFalling".into(),
        Some(".0.3") => "vtiSaDown".into(),
        Some(".0.4") => "vtiSaUp".into(),
        Some(".0.5") => "vtiSaExpiring".into(),
        _ => trap_oid.to_string(),
    }
}

fn count(traps: &[Trap], n: u32) -> usize {
    let oid = format!("{ROOT}.0.{n}");
    traps.iter().filter(|t| t.oid == oid).count()
}

/// (OID, type, value check) expected for each varbind of a notification.
type Want = Vec<(String, &'static str, Box<dyn Fn(&str) -> bool>)>;

/// A vtiIfTable cell's OID.
fn if_obj(col: u32, idx: u32) -> String {
    format!("{ROOT}.{OBJECTS}.{IF_TABLE}.1.{col}.{idx}")
}

/// The varbinds every notification ends with: vtiIfCause (`cause` checks it), the
/// peer's type and address (xfrm1's SA destination) and vtiEventLastIndex.
fn tail(idx: u32, cause: fn(&str) -> bool) -> Want {
    vec![
        (if_obj(if_col::CAUSE, idx), "INTEGER", Box::new(cause)),
        (
            if_obj(if_col::PEER_ADDR_TYPE, idx),
            "INTEGER",
            Box::new(|v| v == "1"),
        ),
        (
            if_obj(if_col::PEER_ADDR, idx),
            "Hex-STRING",
            Box::new(|v| v.trim() == hex(PEER)),
        ),
        (
            last_index_oid(),
            "Gauge32",
            Box::new(|v| v.parse::<u32>().is_ok_and(|i| i > 0)),
        ),
    ]
}

fn last_index_oid() -> String {
    format!("{ROOT}.{OBJECTS}.{GLOBAL}.{}.0", event_global::LAST_INDEX)
}

/// An IPv4 address as snmp tools print an InetAddress: "C0 00 02 06".
fn hex(addr: &str) -> String {
    let octets: Vec<String> = addr
        .split('.')
        .map(|o| format!("{:02X}", o.parse::<u8>().unwrap_or(0)))
        .collect();
    octets.join(" ")
}

/// Any vtiIfCause value.
fn any_cause(v: &str) -> bool {
    v.parse::<u32>().is_ok_and(|c| (1..=15).contains(&c))
}

fn want_tx_error(idx: u32, rising: bool) -> Want {
    let alarm = |col: u32| format!("{ROOT}.{OBJECTS}.{ALARM_TABLE}.1.{col}.{idx}.{CARRIER}");
    let threshold_col = if rising {
        alarm_col::RISING_THRESHOLD
    } else {
        alarm_col::FALLING_THRESHOLD
    };
    let threshold = if rising { "1" } else { "0" };
    let mut w: Want = vec![
        (
            if_obj(if_col::NAME, idx),
            "STRING",
            Box::new(|v| v == TUNNEL),
        ),
        (
            alarm(alarm_col::EVENT_CATEGORY),
            "INTEGER",
            Box::new(|v| v == "1"),
        ),
        (
            alarm(alarm_col::LAST_DELTA),
            "Counter64",
            Box::new(move |v| {
                let d: u64 = v.parse().unwrap_or(u64::MAX);
                if rising {
                    (1..u64::MAX).contains(&d)
                } else {
                    d == 0
                }
            }),
        ),
        (
            alarm(threshold_col),
            "Gauge32",
            Box::new(move |v| v == threshold),
        ),
        (
            alarm(alarm_col::INTERVAL),
            "Gauge32",
            Box::new(|v| v == "2"),
        ),
        (
            if_obj(if_col::DIAGNOSIS, idx),
            "STRING",
            // Falling too: the cause of the errors that stopped.
            Box::new(names_missing_sa),
        ),
    ];
    w.extend(tail(idx, |v| v == "5"));
    w
}

/// The diagnosis of "no SA" on xfrm1: says the SA is missing and names its peer and
/// the interface's if_id.
fn names_missing_sa(text: &str) -> bool {
    text.contains("no outbound SA")
        && text.contains(PEER)
        && text.contains(&format!("if_id {IF_ID}"))
}

fn want_sa(idx: u32, up: bool) -> Want {
    let mut w: Want = vec![
        (
            if_obj(if_col::NAME, idx),
            "STRING",
            Box::new(|v| v == TUNNEL),
        ),
        (
            if_obj(if_col::OUT_SA_COUNT, idx),
            "Gauge32",
            Box::new(move |v| v == if up { "1" } else { "0" }),
        ),
    ];
    if !up {
        // The diagnosis at the moment the SA went away (may still be empty: the SA can
        // vanish a poll before the first packet fails).
        w.push((if_obj(if_col::DIAGNOSIS, idx), "STRING", Box::new(|_| true)));
    }
    w.extend(tail(idx, any_cause));
    w
}

/// "OID = TYPE: value" lines of an snmpget/snmpwalk (-On).
fn walked(body: &str) -> Vec<Vb> {
    body.lines()
        .filter_map(|l| {
            let (oid, val) = l.split_once(" = ")?;
            let (ty, value) = val.split_once(": ").unwrap_or((val, ""));
            Some(Vb {
                oid: oid.trim().to_string(),
                ty: ty.to_string(),
                value: value.trim().trim_matches('"').to_string(),
            })
        })
        .collect()
}

/// xfrm1's (vtiIfPeerAddrType, vtiIfPeerAddr, vtiIfPeerAddrSource) from an snmpget.
fn peer_columns(body: &str) -> Vec<String> {
    walked(body).into_iter().map(|v| v.value).collect()
}

/// The destination of the SA with SPI `spi` in `ip xfrm state` output ("src A dst B"
/// then "proto esp spi 0x... ").
fn sa_dst(state: &str, spi: u32) -> Option<String> {
    let lines: Vec<&str> = state.lines().collect();
    lines.windows(2).find_map(|w| {
        let spi_here = w[1].split_whitespace().skip_while(|t| *t != "spi").nth(1)?;
        let spi_here = u32::from_str_radix(spi_here.trim_start_matches("0x"), 16).ok()?;
        let mut t = w[0].split_whitespace();
        if spi_here != spi || t.next() != Some("src") {
            return None;
        }
        t.skip_while(|w| *w != "dst").nth(1).map(str::to_string)
    })
}

/// The template destination of the outbound policy ("tmpl src A dst B").
fn tmpl_dst(policy: &str) -> Option<String> {
    policy.lines().find_map(|l| {
        let mut t = l.split_whitespace();
        if t.next() != Some("tmpl") {
            return None;
        }
        t.skip_while(|w| *w != "dst").nth(1).map(str::to_string)
    })
}

/// vtiEventTable rows as (index, vtiEventKind, vtiEventNotification).
fn event_rows(body: &str) -> Vec<(u32, String, String)> {
    let entry = format!("{ROOT}.{OBJECTS}.{EVENT_TABLE}.1.");
    let mut rows: std::collections::BTreeMap<u32, (String, String)> = Default::default();
    for v in walked(body) {
        let Some((col, index)) = v
            .oid
            .strip_prefix(&entry)
            .and_then(|r| r.split_once('.'))
            .and_then(|(c, i)| Some((c.parse::<u32>().ok()?, i.parse::<u32>().ok()?)))
        else {
            continue;
        };
        let row = rows.entry(index).or_default();
        if col == event_col::KIND {
            row.0 = v.value;
        } else if col == event_col::NOTIFICATION {
            row.1 = v.value;
        }
    }
    rows.into_iter().map(|(i, (k, n))| (i, k, n)).collect()
}

/// The peer columns with and without the SA against the kernel's SA and policy, and
/// the event table against the traps received.
fn check_peer_and_events(sections: &Sections, all_ours: &[Trap], errs: &mut Vec<String>) {
    let body = |s: &str| section(sections, s).map_or("", |(b, _)| b);
    let sa_peer = sa_dst(body("alarms.xfrm.state"), 0x1031);
    let policy_peer = tmpl_dst(body("alarms.xfrm.policy"));
    eprintln!(
        "  peer columns (type, addr, source): with the SA {:?} (SA dst {sa_peer:?}), \
         without {:?} (policy tmpl dst {policy_peer:?})",
        peer_columns(body("alarms.peer.healthy")),
        peer_columns(body("alarms.peer.down"))
    );
    for (s, dst, source) in [
        ("alarms.peer.healthy", sa_peer, "2"),
        ("alarms.peer.down", policy_peer, "3"),
    ] {
        let Some(dst) = dst else {
            errs.push(format!("{s}: the kernel's peer address not found"));
            continue;
        };
        let want = vec!["1".to_string(), hex(&dst), source.to_string()];
        let got = peer_columns(body(s));
        if got != want {
            errs.push(format!("{s}: peer columns {got:?}, expected {want:?}"));
        }
    }
    // The traps' (index, vtiEventKind), in order, against the table.
    let from_traps: Vec<(u32, String)> = all_ours
        .iter()
        .filter_map(|t| {
            let index = t.varbinds.iter().find(|v| v.oid == last_index_oid())?;
            let kind = t.oid.strip_prefix(&format!("{ROOT}.0."))?;
            Some((index.value.parse().ok()?, kind.to_string()))
        })
        .collect();
    let rows = event_rows(body("alarms.events"));
    let from_table: Vec<(u32, String)> = rows.iter().map(|(i, k, _)| (*i, k.clone())).collect();
    eprintln!("  traps (index, kind): {from_traps:?}\n  vtiEventTable:        {rows:?}");
    if from_table != from_traps || from_traps.len() != all_ours.len() {
        errs.push(format!(
            "vtiEventTable {from_table:?} does not list the traps received {from_traps:?}"
        ));
    }
    if let Some((i, _, n)) = rows.iter().find(|(_, _, n)| n != "1") {
        errs.push(format!(
            "event {i}: vtiEventNotification {n}, expected sent(1)"
        ));
    }
    let last = walked(body("alarms.events.last"))
        .first()
        .map(|v| v.value.clone());
    let newest = rows.last().map(|(i, _, _)| i.to_string());
    if last.is_none() || last != newest {
        errs.push(format!(
            "vtiEventLastIndex {last:?}, the newest row is {newest:?}"
        ));
    }
}

fn check_varbinds(trap: &Trap, want: &Want, errs: &mut Vec<String>) {
    let got: Vec<String> = trap
        .varbinds
        .iter()
        .map(|v| format!("{} = {}: {}", v.oid, v.ty, v.value))
        .collect();
    if trap.varbinds.len() != want.len() {
        errs.push(format!(
            "{}: {} varbinds after snmpTrapOID.0, expected {}: {got:?}",
            name(&trap.oid),
            trap.varbinds.len(),
            want.len()
        ));
        return;
    }
    for (vb, (oid, ty, ok)) in trap.varbinds.iter().zip(want) {
        if vb.oid != *oid || vb.ty != *ty || !ok(&vb.value) {
            errs.push(format!(
                "{}: varbind {} = {}: {:?}, expected {oid} of type {ty} (all: {got:?})",
                name(&trap.oid),
                vb.oid,
                vb.ty,
                vb.value
            ));
        }
    }
}

/// Problems found in the alarms part of one kernel's run (empty = pass). Prints what
/// snmptrapd received to stderr.
pub fn check(sections: &Sections, kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    for s in [
        "alarms.snmptrapd",
        "alarms.snmpd",
        "alarms.agent_up",
        "alarms.ping.healthy",
        "alarms.inject",
        "alarms.restore",
    ] {
        match section(sections, s) {
            Some((_, 0)) => {}
            Some((body, rc)) => errs.push(format!("{s} failed (rc={rc}): {body}")),
            None => errs.push(format!("{s}: section missing")),
        }
    }
    let idx: Option<u32> = section(sections, "alarms.ifindex")
        .and_then(|(b, _)| b.split_whitespace().nth(1)?.parse().ok());
    let Some(idx) = idx else {
        errs.push("alarms.ifindex missing".into());
        return prefix(kernel, errs);
    };
    let parse = |s: &str| -> Result<Vec<Trap>, String> {
        let (body, _) = section(sections, s).ok_or_else(|| format!("{s}: section missing"))?;
        traps(body)
    };
    let (down, all) = match (parse("alarms.traps.down"), parse("alarms.traps")) {
        (Ok(d), Ok(a)) => (d, a),
        (Err(e), _) | (_, Err(e)) => {
            errs.push(e);
            return prefix(kernel, errs);
        }
    };
    let ours = |ts: &[Trap]| -> Vec<Trap> {
        ts.iter()
            .filter(|t| t.oid.starts_with(&format!("{ROOT}.0.")))
            .cloned()
            .collect()
    };
    let (down, all_ours) = (ours(&down), ours(&all));
    let mut report = format!("\nalarms [{kernel}] snmptrapd received (ours):\n");
    for t in &all_ours {
        let vbs: Vec<String> = t
            .varbinds
            .iter()
            .map(|v| format!("{}: {}", v.ty, v.value))
            .collect();
        let _ = writeln!(report, "  {:<18} {}", name(&t.oid), vbs.join(" | "));
    }
    let _ = writeln!(
        report,
        "  (+ {} notification(s) of snmpd itself, e.g. coldStart)",
        all.len() - all_ours.len()
    );
    if let Some((a, b)) = section(sections, "alarms.elapsed")
        .and_then(|(body, _)| body.strip_prefix("guest uptime "))
        .and_then(|r| r.trim().split_once(" -> "))
    {
        if let (Ok(a), Ok(b)) = (a.parse::<f64>(), b.parse::<f64>()) {
            let _ = writeln!(report, "  ({:.0} s in the guest)", b - a);
        }
    }
    eprint!("{report}");

    // While the SA was gone: rising + SaDown only.
    for (n, want) in [(1, 1), (2, 0), (3, 1), (4, 0), (5, 0)] {
        let c = count(&down, n);
        if c != want {
            errs.push(format!(
                "before the restore: {c} × {}, expected {want}",
                name(&format!("{ROOT}.0.{n}"))
            ));
        }
    }
    // In all: one of each, no SaExpiring.
    for (n, want) in [(1, 1), (2, 1), (3, 1), (4, 1), (5, 0)] {
        let c = count(&all_ours, n);
        if c != want {
            errs.push(format!(
                "in the whole run: {c} × {}, expected {want}",
                name(&format!("{ROOT}.0.{n}"))
            ));
        }
    }
    // The log only grows: the first part is what was received before the restore.
    if all_ours.len() < down.len()
        || all_ours[..down.len()]
            .iter()
            .zip(&down)
            .any(|(a, b)| a.oid != b.oid)
    {
        errs.push("the whole log does not start with the pre-restore log".into());
    }
    check_peer_and_events(sections, &all_ours, &mut errs);
    for t in &all_ours {
        let want = match t.oid.strip_prefix(ROOT) {
            Some(".0.1") => want_tx_error(idx, true),
            Some(".0.2") => want_tx_error(idx, false),
            Some(".0.3") => want_sa(idx, false),
            Some(".0.4") => want_sa(idx, true),
            _ => continue,
        };
        check_varbinds(t, &want, &mut errs);
    }
    prefix(kernel, errs)
}

fn prefix(kernel: &str, errs: Vec<String>) -> Vec<String> {
    errs.into_iter()
        .map(|e| format!("[{kernel}] alarms: {e}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `ip xfrm state` / `ip xfrm policy` print them (Debian 12's iproute2).
    #[test]
    fn kernel_peer_parsers() {
        let state = "src 192.0.2.6 dst 192.0.2.5\n\tproto esp spi 0x00002031 reqid 31 \
                     mode tunnel\nsrc 192.0.2.5 dst 192.0.2.6\n\tproto esp spi 0x00001031 \
                     reqid 31 mode tunnel\n";
        assert_eq!(sa_dst(state, 0x1031).as_deref(), Some("192.0.2.6"));
        assert_eq!(sa_dst(state, 0x2031).as_deref(), Some("192.0.2.5"));
        assert_eq!(sa_dst(state, 0x9), None);
        let policy = "src 0.0.0.0/0 dst 0.0.0.0/0 \n\tdir out priority 0 ptype main \n\
                      \ttmpl src 192.0.2.5 dst 192.0.2.6\n\t\tproto esp reqid 31 mode tunnel\n";
        assert_eq!(tmpl_dst(policy).as_deref(), Some("192.0.2.6"));
        assert_eq!(hex("192.0.2.6"), "C0 00 02 06");
    }
}
