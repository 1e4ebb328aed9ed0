//! Part "agent" (scenarios/agent.sh), issue 3 "Prove it": `vti-agentx run` under the
//! guest's snmpd (AgentX), on the standard topology after traffic and five kinds of TX
//! error, compared with the kernel at one quiet instant.
//!
//! What each group of checks proves:
//! - **quiet**: iproute2's dumps before and after the SNMP walks are identical, so the
//!   comparison is at one instant (a difference here voids the rest: traffic moved).
//! - **scenario**: the faults really produced carrier, loop, too-big, aborted and
//!   dropped counts, so the counter comparisons compare non-zero numbers.
//! - **walk**: snmpwalk and snmpbulkwalk of the whole subtree are strictly increasing,
//!   all under the root, every value of a known SMI type, and identical to each other
//!   (except the columns that count seconds).
//! - **vtiIfTable**: per tunnel (every vti/vti6/xfrm link iproute2 shows except the
//!   kernel's fallback devices): every column equals what the MIB says it holds,
//!   computed from `ip -s -s -d -j link show` and `ip -s xfrm state` - identity, kind,
//!   endpoints (InetAddress bytes), keys/if_id, underlay, MTU, oper status, every raw
//!   counter, the classified categories from the raw counters, the SA summary - with
//!   the MIB's SMI type; cause/diagnosis/last-error time consistent with whether the
//!   tunnel had errors.
//! - **vtiSaTable**: per SA of `ip -s xfrm state`: exactly one row, under the tunnel
//!   the kernel's rule attaches it to (xfrm by if_id; vti/vti6 by mark and endpoints;
//!   else 0), and every column equal to iproute2's (times within the walk's window).
//! - **globals / vtiXfrmStatTable**: counts, availability, kernel release, and every
//!   /proc/net/xfrm_stat counter by name and position.
//! - **show**: `vti-agentx show --json` (a separate one-shot process) agrees with the
//!   walk, tunnel by tunnel and SA by SA.
//! - **dynamic**: an interface created while the agent runs appears within 3 s, a
//!   deleted one disappears within 3 s, one re-created under the same name (new
//!   ifindex) has a later vtiIfCounterDiscontinuityTime, and so does one re-created
//!   with the same name *and* ifindex between two polls (its counters restarted).
//! - **nocap**: without CAP_NET_ADMIN (iproute2 is refused, proving the setup), `show`
//!   lists the tunnels with their counters and reports SAs unavailable; `run` serves
//!   vtiXfrmAvailable = false(2), no SA rows, no SA summary columns, the tunnel counters
//!   equal to the kernel's; its log has exactly one CAP_NET_ADMIN warning.
//! - **keys**: no SA key (hex either case, raw text, byte lists) in the agent's trace
//!   log, the nobody run's log, `show --json`, or any walk; searched in the guest (the
//!   search finds every key in iproute2's dump, so it works) and again here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::Write;
use std::net::IpAddr;

use serde_json::Value;

use vti_agentx::mib::columns::served_ids;
use vti_agentx::mib::oids::{
    global, if_col, sa_col, xfrm_stat, GLOBAL, IF_TABLE, OBJECTS, SA_TABLE, XFRM_STAT_TABLE,
};

use crate::common::{json_in, left_local, parse_ip_sas, parse_walk, IpSa, Sections, Snmp};

/// vtiIfEntry and vtiSaEntry, relative to the module root.
const IF_ENTRY: [u32; 3] = [OBJECTS, IF_TABLE, 1];
const SA_ENTRY: [u32; 3] = [OBJECTS, SA_TABLE, 1];

/// netSnmpPlaypen.2741, the agent's default root.
const ROOT: [u32; 10] = [1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 2741];

/// Problems found, with "agent vs expected" phrasing.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, s: impl Into<String>) {
        self.0.push(s.into());
    }
    /// `got` (the agent's) must equal `want` (the kernel's / the MIB's).
    fn eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) -> bool {
        let ok = got == want;
        if !ok {
            self.push(format!("{what}: agent {got:?}, expected {want:?}"));
        }
        ok
    }
    /// `got` must be an integer of `want`'s type within lo..=hi.
    fn within(&mut self, what: &str, got: Option<&Snmp>, want: &Snmp, lo: i128, hi: i128) -> bool {
        let ok = got.is_some_and(|g| {
            std::mem::discriminant(g) == std::mem::discriminant(want)
                && g.num().is_some_and(|n| (lo..=hi).contains(&n))
        });
        if !ok {
            self.push(format!(
                "{what}: agent {got:?}, expected {want:?}-typed in {lo}..={hi}"
            ));
        }
        ok
    }
}

/// Writes to the real stderr (the test harness captures `eprintln!`).
fn show(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

// ---- the walk -------------------------------------------------------------------------------

/// A vtiSaTable row: column → value.
type SaRow = BTreeMap<u32, Snmp>;
/// A row found by SPI and destination: its index (tunnel ifindex, row) and cells.
type Found<'a> = Vec<(&'a (u32, u32), &'a SaRow)>;

/// One walk of the subtree: OID suffix (after ROOT) → value.
struct Walk {
    cells: BTreeMap<Vec<u32>, Snmp>,
}

impl Walk {
    /// Parses a walk section; ordering and typing problems go to `p`.
    fn parse(secs: &Sections, name: &str, p: &mut Problems) -> Walk {
        let mut cells = BTreeMap::new();
        let body = secs.body(name);
        let vbs = parse_walk(body);
        let mut prev: Option<&Vec<u32>> = None;
        for (i, (oid, v)) in vbs.iter().enumerate() {
            if *v == Snmp::EndOfMib && i + 1 == vbs.len() {
                continue;
            }
            let Some(rel) = oid.strip_prefix(&ROOT[..]) else {
                p.push(format!("{name}: {oid:?} is outside the root"));
                continue;
            };
            if prev.is_some_and(|q| oid <= q) {
                p.push(format!("{name}: OIDs not strictly increasing at {oid:?}"));
            }
            prev = Some(oid);
            if matches!(
                v,
                Snmp::Other(_) | Snmp::NoSuchInstance | Snmp::NoSuchObject | Snmp::EndOfMib
            ) {
                p.push(format!("{name}: {oid:?} = {v:?}"));
            }
            cells.insert(rel.to_vec(), v.clone());
        }
        if cells.len() < 50 {
            p.push(format!("{name}: only {} varbinds:\n{body}", cells.len()));
        }
        Walk { cells }
    }

    fn get(&self, rel: &[u32]) -> Option<&Snmp> {
        self.cells.get(rel)
    }

    fn global(&self, n: u32) -> Option<&Snmp> {
        self.get(&[OBJECTS, GLOBAL, n, 0])
    }

    /// vtiIfTable row indexes.
    fn if_rows(&self) -> BTreeSet<u32> {
        self.cells
            .keys()
            .filter(|k| k.len() == 5 && k[..3] == IF_ENTRY)
            .map(|k| k[4])
            .collect()
    }

    /// vtiIfTable cells of one row: column → value.
    fn if_row(&self, ifindex: u32) -> BTreeMap<u32, Snmp> {
        self.cells
            .iter()
            .filter(|(k, _)| k.len() == 5 && k[..3] == IF_ENTRY && k[4] == ifindex)
            .map(|(k, v)| (k[3], v.clone()))
            .collect()
    }

    /// vtiSaTable rows: (tunnel ifindex, row) → column → value.
    fn sa_rows(&self) -> BTreeMap<(u32, u32), SaRow> {
        let mut rows: BTreeMap<(u32, u32), SaRow> = BTreeMap::new();
        for (k, v) in &self.cells {
            if k.len() == 6 && k[..3] == SA_ENTRY {
                rows.entry((k[4], k[5]))
                    .or_default()
                    .insert(k[3], v.clone());
            }
        }
        rows
    }
}

/// Columns whose value counts seconds, so two walks a moment apart may differ:
/// vtiLastPollTime, vtiIfSecondsToHardExpiry, vtiSaAge, vtiSaSecondsTo{Soft,Hard}Expiry.
fn time_varying(rel: &[u32]) -> bool {
    rel == [OBJECTS, GLOBAL, global::LAST_POLL_TIME, 0]
        || (rel.len() == 5 && rel[..3] == IF_ENTRY && rel[3] == if_col::SECONDS_TO_HARD_EXPIRY)
        || (rel.len() == 6
            && rel[..3] == SA_ENTRY
            && [
                sa_col::AGE,
                sa_col::SECONDS_TO_SOFT_EXPIRY,
                sa_col::SECONDS_TO_HARD_EXPIRY,
            ]
            .contains(&rel[3]))
}

/// `max_secs`: how far apart in time the two walks may have read a cell.
fn compare_walks(p: &mut Problems, walk: &Walk, bulk: &Walk, max_secs: u64) {
    let a: BTreeSet<&Vec<u32>> = walk.cells.keys().collect();
    let b: BTreeSet<&Vec<u32>> = bulk.cells.keys().collect();
    for only in a.difference(&b) {
        p.push(format!("{only:?} in snmpwalk but not in snmpbulkwalk"));
    }
    for only in b.difference(&a) {
        p.push(format!("{only:?} in snmpbulkwalk but not in snmpwalk"));
    }
    for (k, v) in &walk.cells {
        let Some(w) = bulk.cells.get(k) else { continue };
        if time_varying(k) {
            let unit = if matches!(v, Snmp::Ticks(_)) { 100 } else { 1 };
            let close = std::mem::discriminant(v) == std::mem::discriminant(w)
                && v.num()
                    .zip(w.num())
                    .is_some_and(|(x, y)| (x - y).abs() <= i128::from(max_secs) * unit);
            if !close {
                p.push(format!("{k:?}: snmpwalk {v:?}, snmpbulkwalk {w:?}"));
            }
        } else if v != w {
            p.push(format!("{k:?}: snmpwalk {v:?}, snmpbulkwalk {w:?}"));
        }
    }
}

// ---- the kernel's view ------------------------------------------------------------------------

/// A tunnel link from `ip -s -s -d -j link show` (fallback devices excluded).
struct Link<'a> {
    ifindex: u32,
    name: &'a str,
    kind: &'a str,
    v: &'a Value,
}

impl Link<'_> {
    fn tx(&self, f: &str) -> u64 {
        self.v["stats64"]["tx"][f].as_u64().unwrap_or(u64::MAX)
    }
    fn rx(&self, f: &str) -> u64 {
        self.v["stats64"]["rx"][f].as_u64().unwrap_or(u64::MAX)
    }
    fn data(&self, f: &str) -> Option<&str> {
        self.v["linkinfo"]["info_data"][f].as_str()
    }
    fn too_big(&self) -> u64 {
        self.tx("errors").saturating_sub(
            self.tx("carrier_errors") + self.tx("collisions") + self.tx("aborted_errors"),
        )
    }
    fn had_errors(&self) -> bool {
        self.tx("errors") > 0
    }
    /// An outer address of the tunnel (`local`/`remote`), None for "any" or xfrm.
    fn addr(&self, f: &str) -> Option<IpAddr> {
        self.data(f).and_then(|s| s.parse().ok())
    }
    /// ikey/okey: iproute2 prints them as a dotted quad ("0.0.0.11") or hex.
    fn key(&self, f: &str) -> u32 {
        match self.data(f) {
            Some(s) if s.contains('.') => s.parse::<std::net::Ipv4Addr>().map_or(0, u32::from),
            Some(s) => u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0),
            None => 0,
        }
    }
    fn if_id(&self) -> u32 {
        self.data("if_id").map_or(0, |s| {
            u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0)
        })
    }
}

fn tunnel_links(links: &Value) -> Vec<Link<'_>> {
    links
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|l| {
            let kind = l["linkinfo"]["info_kind"].as_str()?;
            let name = l["ifname"].as_str()?;
            (["vti", "vti6", "xfrm"].contains(&kind) && !["ip_vti0", "ip6_vti0"].contains(&name))
                .then(|| Link {
                    ifindex: l["ifindex"].as_u64().unwrap_or(0) as u32,
                    name,
                    kind,
                    v: l,
                })
        })
        .collect()
}

fn inet(addr: Option<IpAddr>) -> (Snmp, Snmp) {
    match addr {
        None => (Snmp::Int(0), Snmp::Str(vec![])),
        Some(IpAddr::V4(a)) => (Snmp::Int(1), Snmp::Str(a.octets().to_vec())),
        Some(IpAddr::V6(a)) => (Snmp::Int(2), Snmp::Str(a.octets().to_vec())),
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn is_out(sa: &IpSa) -> bool {
    !left_local(&sa.dst)
}

/// The tunnel the kernel uses `sa` for (MIB vtiSaTable: xfrm by if_id; vti/vti6 by mark
/// - okey outbound, ikey inbound - and endpoints, tunnel mode, outer family), else 0.
fn owner(sa: &IpSa, tunnels: &[Link]) -> u32 {
    let found = tunnels.iter().find(|t| {
        if t.kind == "xfrm" {
            return sa.if_id.is_some_and(|id| id != 0 && id == t.if_id());
        }
        let Some((value, mask)) = sa.mark else {
            return false;
        };
        let (key, src, dst) = if is_out(sa) {
            (t.key("okey"), t.addr("local"), t.addr("remote"))
        } else {
            (t.key("ikey"), t.addr("remote"), t.addr("local"))
        };
        sa.if_id.unwrap_or(0) == 0
            && key & mask == value
            && sa.mode == "tunnel"
            && src == ip(&sa.src)
            && dst == ip(&sa.dst)
    });
    found.map_or(0, |t| t.ifindex)
}

/// Unix time of an SA's expiry by time (the model's rule: add + add-limit, use +
/// use-limit once used, the earlier), `None` without a time limit.
fn expiry(sa: &IpSa, add_limit: u64, use_limit: u64) -> Option<u64> {
    let by_add = (add_limit != 0).then(|| sa.add_time + add_limit);
    let by_use = (use_limit != 0 && sa.use_time != 0).then(|| sa.use_time + use_limit);
    match (by_add, by_use) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The walk's time window [t0, t1] (guest Unix seconds), for columns counting seconds.
#[derive(Clone, Copy)]
struct Window {
    t0: u64,
    t1: u64,
}

impl Window {
    /// Range of "seconds until `at`" over the window (0 once passed, -1 = none).
    fn until(&self, at: Option<u64>) -> (i128, i128) {
        match at {
            None => (-1, -1),
            Some(at) => (
                i128::from(at.saturating_sub(self.t1 + 1)),
                i128::from(at.saturating_sub(self.t0)),
            ),
        }
    }
}

// ---- vtiIfTable ---------------------------------------------------------------------------------

/// Expected vtiIfTable cells of one tunnel from the kernel: exact values (`None` = the
/// cell must not exist).
fn expected_if(
    l: &Link,
    names: &HashMap<&str, u32>,
    sas: &[(&IpSa, u32)],
) -> BTreeMap<u32, Option<Snmp>> {
    let mut e = BTreeMap::new();
    let c = Snmp::Counter64;
    let xfrm = l.kind == "xfrm";
    e.insert(if_col::NAME, Some(Snmp::text(l.name)));
    let kind = match l.kind {
        "vti" => 1,
        "vti6" => 2,
        _ => 3,
    };
    e.insert(if_col::KIND, Some(Snmp::Int(kind)));
    let (lt, la) = inet(if xfrm { None } else { l.addr("local") });
    let (rt, ra) = inet(if xfrm { None } else { l.addr("remote") });
    e.insert(if_col::LOCAL_ADDR_TYPE, Some(lt));
    e.insert(if_col::LOCAL_ADDR, Some(la));
    e.insert(if_col::REMOTE_ADDR_TYPE, Some(rt));
    e.insert(if_col::REMOTE_ADDR, Some(ra));
    // MIB: 0 for xfrm (keys) / for vti and vti6 (if_id).
    e.insert(if_col::IKEY, Some(Snmp::Gauge(u64::from(l.key("ikey")))));
    e.insert(if_col::OKEY, Some(Snmp::Gauge(u64::from(l.key("okey")))));
    e.insert(if_col::XFRM_IF_ID, Some(Snmp::Gauge(u64::from(l.if_id()))));
    // iproute2 prints the mark only when set.
    let fwmark = l.v["linkinfo"]["info_data"]["fwmark"].as_u64().unwrap_or(0);
    e.insert(if_col::FW_MARK, Some(Snmp::Gauge(fwmark)));
    let underlay = l.v["link"]
        .as_str()
        .and_then(|n| names.get(n))
        .copied()
        .unwrap_or(0);
    e.insert(
        if_col::UNDERLAY_IF_INDEX,
        Some(Snmp::Int(i64::from(underlay))),
    );
    e.insert(
        if_col::MTU,
        Some(Snmp::Gauge(l.v["mtu"].as_u64().unwrap_or(0))),
    );
    let oper = match l.v["operstate"].as_str().unwrap_or("") {
        "UP" => 1,
        "DOWN" => 2,
        "TESTING" => 3,
        "DORMANT" => 5,
        "NOTPRESENT" => 6,
        "LOWERLAYERDOWN" => 7,
        _ => 4,
    };
    e.insert(if_col::OPER_STATUS, Some(Snmp::Int(oper)));
    for (col, v) in [
        (if_col::TX_PACKETS, l.tx("packets")),
        (if_col::TX_OCTETS, l.tx("bytes")),
        (if_col::TX_ERRORS, l.tx("errors")),
        (if_col::TX_DROPPED, l.tx("dropped")),
        (if_col::TX_CARRIER_ERRORS, l.tx("carrier_errors")),
        (if_col::COLLISIONS, l.tx("collisions")),
        (if_col::TX_ABORTED_ERRORS, l.tx("aborted_errors")),
        (if_col::RX_PACKETS, l.rx("packets")),
        (if_col::RX_OCTETS, l.rx("bytes")),
        (if_col::RX_ERRORS, l.rx("errors")),
        (if_col::RX_DROPPED, l.rx("dropped")),
    ] {
        e.insert(col, Some(c(v)));
    }
    e.insert(if_col::ERROR_COUNTERS_VALID, Some(Snmp::truth(true)));
    e.insert(if_col::CAT_CARRIER, Some(c(l.tx("carrier_errors"))));
    e.insert(if_col::CAT_LOOP, Some(c(l.tx("collisions"))));
    e.insert(if_col::CAT_TOO_BIG, Some(c(l.too_big())));
    e.insert(if_col::CAT_OUTPUT_ERRORS, Some(c(l.tx("aborted_errors"))));
    // vtiIfCatDropped = tx_dropped (the MIB documents that it is not independent on
    // vti6/xfrm, where the kernel counts tx_dropped = tx_errors - tx_aborted_errors).
    e.insert(if_col::CAT_DROPPED, Some(c(l.tx("dropped"))));
    // No underlay drops in this scenario; MIB: always 0 on xfrm.
    e.insert(if_col::SUSPECTED_UNDERLAY_DROPS, Some(c(0)));
    // SA summary (MIB: vtiIfOutSaCount, vtiIfInSaCount, vtiIfNoOutboundSa,
    // vtiIfSeqHeadroom = the smallest headroom over non-ESN outbound SAs).
    let mine: Vec<&IpSa> = sas
        .iter()
        .filter(|(_, o)| *o == l.ifindex)
        .map(|(s, _)| *s)
        .collect();
    let out = mine.iter().filter(|s| is_out(s)).count() as u64;
    e.insert(if_col::OUT_SA_COUNT, Some(Snmp::Gauge(out)));
    e.insert(
        if_col::IN_SA_COUNT,
        Some(Snmp::Gauge(mine.len() as u64 - out)),
    );
    e.insert(if_col::NO_OUTBOUND_SA, Some(Snmp::truth(out == 0)));
    let headroom = mine
        .iter()
        .filter(|s| is_out(s) && !s.esn_flag)
        .map(|s| u64::from(u32::MAX).saturating_sub(s.oseq))
        .min();
    e.insert(if_col::SEQ_HEADROOM, headroom.map(c));
    // Peer (issue 13): the configured remote (tunnelConfig(1)), else the destination
    // of the tunnel's outbound SA (outboundSa(2)). Tunnels with neither (policy
    // template or unknown) are the alarms part's to check.
    let remote = if xfrm { None } else { l.addr("remote") };
    let out_dst = mine.iter().find(|s| is_out(s)).and_then(|s| ip(&s.dst));
    let peer = match (remote, out_dst) {
        (Some(r), _) => Some((r, 1)),
        (None, Some(d)) => Some((d, 2)),
        (None, None) => None,
    };
    if let Some((addr, source)) = peer {
        let (t, a) = inet(Some(addr));
        e.insert(if_col::PEER_ADDR_TYPE, Some(t));
        e.insert(if_col::PEER_ADDR, Some(a));
        e.insert(if_col::PEER_ADDR_SOURCE, Some(Snmp::Int(source)));
    }
    e
}

/// vtiIfSecondsToHardExpiry range: the latest hard expiry among the outbound SAs.
fn if_hard_expiry(l: &Link, sas: &[(&IpSa, u32)], w: Window) -> (i128, i128) {
    let at = sas
        .iter()
        .filter(|(s, o)| *o == l.ifindex && is_out(s))
        .filter_map(|(s, _)| expiry(s, s.limits[5], s.limits[7]))
        .max();
    w.until(at)
}

fn check_if_table(
    p: &mut Problems,
    walk: &Walk,
    tunnels: &[Link],
    names: &HashMap<&str, u32>,
    sas: &[(&IpSa, u32)],
    w: Window,
    kernel: &str,
) {
    let want: BTreeSet<u32> = tunnels.iter().map(|t| t.ifindex).collect();
    p.eq("vtiIfTable rows (ifindexes)", walk.if_rows(), want);
    let mut table = vec![format!(
        "agent {kernel}: vtiIfTable vs `ip -s -s -d -j link` (kernel numbers; * = agent differs)\n  \
         {:<6} {:<4} {:>3} {:>6} {:>7} {:>5} {:>4} {:>4} {:>4} {:>4} {:>6} | {:>4} {:>4} {:>4} {:>4} {:>4} | {:>3} {:>3} | cause",
        "name", "kind", "idx", "txPkts", "txOct", "txErr", "drop", "carr", "coll", "abrt", "rxPkts",
        "cCar", "cLoo", "cBig", "cOut", "cDrp", "out", "in"
    )];
    for l in tunnels {
        let row = walk.if_row(l.ifindex);
        let before = p.0.len();
        for (col, want) in expected_if(l, names, sas) {
            p.eq(
                &format!("{} vtiIfEntry.{col}", l.name),
                row.get(&col).cloned(),
                want,
            );
        }
        let (lo, hi) = if_hard_expiry(l, sas, w);
        p.within(
            &format!("{} vtiIfSecondsToHardExpiry", l.name),
            row.get(&if_col::SECONDS_TO_HARD_EXPIRY),
            &Snmp::Int(0),
            lo,
            hi,
        );
        // Cause, diagnosis and the last error time say whether errors happened.
        let cause = row.get(&if_col::CAUSE).and_then(Snmp::num);
        let diag = row.get(&if_col::DIAGNOSIS);
        let last_err = row.get(&if_col::LAST_ERROR_TIME).and_then(Snmp::num);
        if l.had_errors() {
            if cause.is_none_or(|c| c == 1) || matches!(diag, Some(Snmp::Str(d)) if d.is_empty()) {
                p.push(format!(
                    "{}: had TX errors but vtiIfCause {cause:?}, vtiIfDiagnosis {diag:?}",
                    l.name
                ));
            }
            if last_err.is_none_or(|t| t == 0) {
                p.push(format!(
                    "{}: had TX errors but vtiIfLastErrorTime {last_err:?}",
                    l.name
                ));
            }
        } else {
            p.eq(
                &format!("{} vtiIfCause", l.name),
                row.get(&if_col::CAUSE),
                Some(&Snmp::Int(1)),
            );
            p.eq(
                &format!("{} vtiIfDiagnosis", l.name),
                row.get(&if_col::DIAGNOSIS),
                Some(&Snmp::text("")),
            );
            p.eq(
                &format!("{} vtiIfLastErrorTime", l.name),
                row.get(&if_col::LAST_ERROR_TIME),
                Some(&Snmp::Ticks(0)),
            );
        }
        if !matches!(row.get(&if_col::DISCONTINUITY_TIME), Some(Snmp::Ticks(t)) if *t > 0) {
            p.push(format!(
                "{} vtiIfCounterDiscontinuityTime: {:?}",
                l.name,
                row.get(&if_col::DISCONTINUITY_TIME)
            ));
        }
        let columns = served_ids(if_col::COLUMNS);
        let extra: Vec<&u32> = row.keys().filter(|c| !columns.contains(c)).collect();
        if !extra.is_empty() {
            p.push(format!("{}: unknown vtiIfEntry columns {extra:?}", l.name));
        }
        let mark = if p.0.len() > before { "*" } else { " " };
        let n = |c: u32| {
            row.get(&c)
                .and_then(Snmp::num)
                .map_or("-".into(), |v| v.to_string())
        };
        table.push(format!(
            "{mark} {:<6} {:<4} {:>3} {:>6} {:>7} {:>5} {:>4} {:>4} {:>4} {:>4} {:>6} | {:>4} {:>4} {:>4} {:>4} {:>4} | {:>3} {:>3} | {}",
            l.name, l.kind, l.ifindex, l.tx("packets"), l.tx("bytes"), l.tx("errors"),
            l.tx("dropped"), l.tx("carrier_errors"), l.tx("collisions"), l.tx("aborted_errors"),
            l.rx("packets"), n(26), n(27), n(28), n(29), n(30), n(36), n(37), n(32)
        ));
    }
    show(&table.join("\n"));
}

// ---- vtiSaTable -----------------------------------------------------------------------------------

fn mode_code(mode: &str) -> i64 {
    // XFRM_MODE_* + 1
    match mode {
        "transport" => 1,
        "tunnel" => 2,
        "ro" => 3,
        "in_trigger" => 4,
        "beet" => 5,
        _ => 0,
    }
}

/// Expected vtiSaTable cells of one SA (exact ones; times are checked separately).
fn expected_sa(sa: &IpSa) -> BTreeMap<u32, Snmp> {
    let c = Snmp::Counter64;
    let g = |v: u64| Snmp::Gauge(v);
    let mut e = BTreeMap::new();
    e.insert(sa_col::SPI, g(u64::from(sa.spi)));
    e.insert(sa_col::DIRECTION, Snmp::Int(if is_out(sa) { 2 } else { 1 }));
    let (st, sv) = inet(ip(&sa.src));
    let (dt, dv) = inet(ip(&sa.dst));
    e.insert(sa_col::SRC_ADDR_TYPE, st);
    e.insert(sa_col::SRC_ADDR, sv);
    e.insert(sa_col::DST_ADDR_TYPE, dt);
    e.insert(sa_col::DST_ADDR, dv);
    let proto = match sa.proto.as_str() {
        "esp" => 50,
        "ah" => 51,
        "comp" => 108,
        _ => 0,
    };
    e.insert(sa_col::PROTOCOL, Snmp::Int(proto));
    e.insert(sa_col::MODE, Snmp::Int(mode_code(&sa.mode)));
    e.insert(sa_col::REQID, g(u64::from(sa.reqid)));
    let (mark, mask) = sa.mark.unwrap_or((0, 0));
    e.insert(sa_col::MARK, g(u64::from(mark)));
    e.insert(sa_col::MARK_MASK, g(u64::from(mask)));
    e.insert(sa_col::IF_ID, g(u64::from(sa.if_id.unwrap_or(0))));
    let enc = sa.enc.clone().or(sa.aead.clone()).or(sa.comp.clone());
    e.insert(sa_col::ENC_ALG, Snmp::text(&enc.unwrap_or_default()));
    e.insert(
        sa_col::AUTH_ALG,
        Snmp::text(&sa.auth.clone().unwrap_or_default()),
    );
    e.insert(sa_col::CUR_BYTES, c(sa.cur_bytes));
    e.insert(sa_col::CUR_PACKETS, c(sa.cur_packets));
    let limits = [
        sa_col::SOFT_BYTE_LIMIT,
        sa_col::HARD_BYTE_LIMIT,
        sa_col::SOFT_PACKET_LIMIT,
        sa_col::HARD_PACKET_LIMIT,
    ];
    for (i, col) in limits.into_iter().enumerate() {
        e.insert(col, c(sa.limits[i]));
    }
    e.insert(
        sa_col::SOFT_ADD_EXPIRES,
        g(sa.limits[4].min(u64::from(u32::MAX))),
    );
    e.insert(
        sa_col::HARD_ADD_EXPIRES,
        g(sa.limits[5].min(u64::from(u32::MAX))),
    );
    e.insert(
        sa_col::REPLAY_WINDOW_ERRORS,
        Snmp::Counter32(u64::from(sa.stats[0])),
    );
    e.insert(
        sa_col::REPLAY_ERRORS,
        Snmp::Counter32(u64::from(sa.stats[1])),
    );
    e.insert(
        sa_col::INTEGRITY_FAILURES,
        Snmp::Counter32(u64::from(sa.stats[2])),
    );
    e.insert(sa_col::OUT_SEQ, c(sa.oseq));
    e.insert(sa_col::REPLAY_WINDOW, g(u64::from(sa.window())));
    e.insert(sa_col::ESN, Snmp::truth(sa.esn_flag));
    e
}

fn check_sa_table(p: &mut Problems, walk: &Walk, sas: &[(&IpSa, u32)], w: Window, kernel: &str) {
    let rows = walk.sa_rows();
    p.eq("vtiSaTable rows", rows.len(), sas.len());
    let mut table = vec![format!(
        "agent {kernel}: vtiSaTable vs `ip -s xfrm state` (kernel numbers; * = agent differs)\n  \
         {:<10} {:<15} {:<4} {:>5} {:>7} {:>5} {:>6} {:>4} {:<18} {:>5}",
        "spi", "dst", "dir", "tunnl", "bytes", "pkts", "oseq", "win", "enc", "hardT"
    )];
    let mut used = BTreeSet::new();
    for (sa, owner) in sas {
        let what = format!("SA {:#x} → {}", sa.spi, sa.dst);
        let dst = inet(ip(&sa.dst)).1;
        let found: Found = rows
            .iter()
            .filter(|(_, r)| {
                r.get(&sa_col::SPI) == Some(&Snmp::Gauge(u64::from(sa.spi)))
                    && r.get(&sa_col::DST_ADDR) == Some(&dst)
            })
            .collect();
        let before = p.0.len();
        let [(key, row)] = found.as_slice() else {
            p.push(format!(
                "{what}: {} rows in vtiSaTable, expected 1",
                found.len()
            ));
            continue;
        };
        used.insert(**key);
        p.eq(&format!("{what} vtiSaIfIndex (tunnel)"), key.0, *owner);
        for (col, want) in expected_sa(sa) {
            p.eq(
                &format!("{what} vtiSaEntry.{col}"),
                row.get(&col),
                Some(&want),
            );
        }
        // Age and expiries against the walk's time window.
        let age = (
            i128::from(w.t0.saturating_sub(sa.add_time)),
            i128::from((w.t1 + 1).saturating_sub(sa.add_time)),
        );
        p.within(
            &format!("{what} vtiSaAge"),
            row.get(&sa_col::AGE),
            &Snmp::Gauge(0),
            age.0,
            age.1,
        );
        let (lo, hi) = w.until(expiry(sa, sa.limits[4], sa.limits[6]));
        p.within(
            &format!("{what} vtiSaSecondsToSoftExpiry"),
            row.get(&sa_col::SECONDS_TO_SOFT_EXPIRY),
            &Snmp::Int(0),
            lo,
            hi,
        );
        let (lo, hi) = w.until(expiry(sa, sa.limits[5], sa.limits[7]));
        p.within(
            &format!("{what} vtiSaSecondsToHardExpiry"),
            row.get(&sa_col::SECONDS_TO_HARD_EXPIRY),
            &Snmp::Int(0),
            lo,
            hi,
        );
        let columns = served_ids(sa_col::COLUMNS);
        let extra: Vec<&u32> = row.keys().filter(|c| !columns.contains(c)).collect();
        if !extra.is_empty() {
            p.push(format!("{what}: unknown vtiSaEntry columns {extra:?}"));
        }
        let mark = if p.0.len() > before { "*" } else { " " };
        let hard = row
            .get(&sa_col::SECONDS_TO_HARD_EXPIRY)
            .and_then(Snmp::num)
            .unwrap_or(-99);
        table.push(format!(
            "{mark} {:<10} {:<15} {:<4} {:>5} {:>7} {:>5} {:>6} {:>4} {:<18} {:>5}",
            format!("{:#x}", sa.spi),
            sa.dst,
            if is_out(sa) { "out" } else { "in" },
            owner,
            sa.cur_bytes,
            sa.cur_packets,
            sa.oseq,
            sa.window(),
            sa.enc.as_deref().or(sa.aead.as_deref()).unwrap_or("-"),
            hard
        ));
    }
    for key in rows.keys().filter(|k| !used.contains(*k)) {
        p.push(format!(
            "vtiSaTable row {key:?} matches no SA of the kernel"
        ));
    }
    show(&table.join("\n"));
}

// ---- globals, xfrm_stat ----------------------------------------------------------------------------

fn xfrm_stat(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

fn check_globals(p: &mut Problems, walk: &Walk, tunnels: usize, sas: usize, uname: &str) {
    p.eq(
        "vtiPollInterval.0",
        walk.global(global::POLL_INTERVAL),
        Some(&Snmp::Gauge(1)),
    );
    if !matches!(walk.global(global::LAST_POLL_TIME), Some(Snmp::Ticks(t)) if *t > 0) {
        p.push(format!(
            "vtiLastPollTime.0: {:?}",
            walk.global(global::LAST_POLL_TIME)
        ));
    }
    if !matches!(walk.global(global::AGENT_VERSION), Some(Snmp::Str(s)) if s.starts_with(b"vti-agentx "))
    {
        p.push(format!(
            "vtiAgentVersion.0: {:?}",
            walk.global(global::AGENT_VERSION)
        ));
    }
    p.eq(
        "vtiTunnelCount.0",
        walk.global(global::TUNNEL_COUNT),
        Some(&Snmp::Gauge(tunnels as u64)),
    );
    p.eq(
        "vtiSaCount.0",
        walk.global(global::SA_COUNT),
        Some(&Snmp::Gauge(sas as u64)),
    );
    p.eq(
        "vtiXfrmAvailable.0",
        walk.global(global::XFRM_AVAILABLE),
        Some(&Snmp::truth(true)),
    );
    p.eq(
        "vtiPollFailures.0",
        walk.global(global::POLL_FAILURES),
        Some(&Snmp::Counter64(0)),
    );
    p.eq(
        "vtiKernelRelease.0",
        walk.global(global::KERNEL_RELEASE),
        Some(&Snmp::text(uname.trim())),
    );
}

fn check_xfrm_stat(p: &mut Problems, walk: &Walk, proc_text: &str) {
    let stat = xfrm_stat(proc_text);
    if stat.len() < 20 {
        p.push(format!(
            "/proc/net/xfrm_stat has {} counters:\n{proc_text}",
            stat.len()
        ));
    }
    let rows: BTreeSet<u32> = walk
        .cells
        .keys()
        .filter(|k| k.len() == 5 && k[..3] == [1, 2, 1])
        .map(|k| k[4])
        .collect();
    p.eq(
        "vtiXfrmStatTable rows",
        rows,
        (1..=stat.len() as u32).collect(),
    );
    for (i, (name, value)) in stat.iter().enumerate() {
        let i = i as u32 + 1;
        p.eq(
            &format!("vtiXfrmStatName.{i}"),
            walk.get(&[OBJECTS, XFRM_STAT_TABLE, 1, xfrm_stat::NAME, i]),
            Some(&Snmp::text(name)),
        );
        p.eq(
            &format!("vtiXfrmStatValue.{i} ({name})"),
            walk.get(&[OBJECTS, XFRM_STAT_TABLE, 1, xfrm_stat::VALUE, i]),
            Some(&Snmp::Counter64(*value)),
        );
    }
}

// ---- show --json -------------------------------------------------------------------------------------

fn check_show(p: &mut Problems, doc: &Value, walk: &Walk) {
    p.eq(
        "show xfrm_available",
        doc["xfrm_available"].as_bool(),
        Some(true),
    );
    p.eq(
        "show kernel_release",
        walk.global(global::KERNEL_RELEASE).cloned(),
        doc["kernel_release"].as_str().map(Snmp::text),
    );
    let tunnels = doc["tunnels"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let idx: BTreeSet<u32> = tunnels
        .iter()
        .filter_map(|t| t["tunnel"]["ifindex"].as_u64())
        .map(|i| i as u32)
        .collect();
    p.eq("show tunnels (ifindexes) vs walk", idx, walk.if_rows());
    let c = |v: &Value| v.as_u64().map(Snmp::Counter64);
    let g = |v: &Value| v.as_u64().map(Snmp::Gauge);
    for t in tunnels {
        let tu = &t["tunnel"];
        let i = tu["ifindex"].as_u64().unwrap_or(0) as u32;
        let row = walk.if_row(i);
        let s = &tu["stats"];
        let cat = &t["categories"];
        let name = tu["name"].as_str().unwrap_or("?");
        for (col, v) in [
            (2, tu["name"].as_str().map(Snmp::text)),
            (12, g(&tu["mtu"])),
            (14, c(&s["tx_packets"])),
            (15, c(&s["tx_bytes"])),
            (16, c(&s["tx_errors"])),
            (17, c(&s["tx_dropped"])),
            (18, c(&s["tx_carrier_errors"])),
            (19, c(&s["collisions"])),
            (20, c(&s["tx_aborted_errors"])),
            (21, c(&s["rx_packets"])),
            (22, c(&s["rx_bytes"])),
            (23, c(&s["rx_errors"])),
            (24, c(&s["rx_dropped"])),
            (26, c(&cat["carrier"])),
            (27, c(&cat["loop"])),
            (28, c(&cat["too_big"])),
            (29, c(&cat["output_errors"])),
            (30, c(&cat["dropped"])),
            (36, g(&t["sa_summary"]["outbound"])),
            (37, g(&t["sa_summary"]["inbound"])),
            (40, c(&t["sa_summary"]["seq_headroom"])),
        ] {
            p.eq(
                &format!("show {name} (col {col}) vs walk"),
                row.get(&col).cloned(),
                v,
            );
        }
    }
    let rows = walk.sa_rows();
    let sas = doc["sas"].as_array().map(Vec::as_slice).unwrap_or_default();
    p.eq("show SAs vs walk rows", sas.len(), rows.len());
    for r in sas {
        let sa = &r["sa"];
        let spi = sa["spi"].as_u64().unwrap_or(0);
        let dst = inet(sa["dst"].as_str().and_then(ip)).1;
        let found: Found = rows
            .iter()
            .filter(|(_, c)| {
                c.get(&sa_col::SPI) == Some(&Snmp::Gauge(spi))
                    && c.get(&sa_col::DST_ADDR) == Some(&dst)
            })
            .collect();
        let what = format!("show SA {spi:#x}");
        let [(key, row)] = found.as_slice() else {
            p.push(format!("{what}: {} walk rows", found.len()));
            continue;
        };
        p.eq(
            &format!("{what} tunnel"),
            u64::from(key.0),
            r["tunnel_ifindex"].as_u64().unwrap_or(u64::MAX),
        );
        let lt = &sa["lifetime"];
        for (col, v) in [
            (11, g(&sa["reqid"])),
            (18, c(&sa["current"]["bytes"])),
            (19, c(&sa["current"]["packets"])),
            (20, c(&lt["soft_byte_limit"])),
            (21, c(&lt["hard_byte_limit"])),
            (22, c(&lt["soft_packet_limit"])),
            (23, c(&lt["hard_packet_limit"])),
            (31, c(&sa["replay"]["oseq"])),
            (32, g(&sa["replay"]["window"])),
        ] {
            p.eq(
                &format!("{what} (col {col}) vs walk"),
                row.get(&col).cloned(),
                v,
            );
        }
    }
}

// ---- dynamic interfaces ----------------------------------------------------------------------------

/// `key=value` from a section body.
fn kv(body: &str, key: &str) -> Option<u64> {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.trim().parse().ok())
}

fn values(secs: &Sections, name: &str) -> Vec<Snmp> {
    parse_walk(secs.body(name))
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

fn check_dynamic(p: &mut Problems, secs: &Sections) {
    for (name, what) in [
        ("agent.dyn.add", "new xfrm3 row"),
        ("agent.dyn.del", "deleted xfrm3 row gone"),
        ("agent.dyn.recreate", "re-created xfrm3 row"),
    ] {
        let body = secs.body(name);
        match kv(body, "after_cs") {
            Some(cs) if cs <= 300 => {}
            _ => p.push(format!("{what}: not within 3 s ({name}):\n{body}")),
        }
    }
    let idx1 = kv(secs.body("agent.dyn.add"), "ifindex");
    let idx2 = kv(secs.body("agent.dyn.recreate"), "ifindex");
    if idx1.is_none() || idx1 == idx2 {
        p.push(format!(
            "re-created xfrm3: ifindex {idx2:?}, before {idx1:?} (expected a new one)"
        ));
    }
    let disc0 = values(secs, "agent.dyn.disc0");
    let disc1 = values(secs, "agent.dyn.disc1");
    match (disc0.as_slice(), disc1.as_slice()) {
        ([Snmp::Ticks(a)], [Snmp::Ticks(b)]) if b > a => {}
        (a, b) => p.push(format!(
            "re-created xfrm3 (new ifindex): vtiIfCounterDiscontinuityTime {b:?}, expected later than {a:?}"
        )),
    }
    // Same name and ifindex, deleted and re-added between two polls.
    let before = values(secs, "agent.dyn.before_same");
    let after = values(secs, "agent.dyn.after_same");
    match (before.as_slice(), after.as_slice()) {
        (
            [Snmp::Str(n1), Snmp::Counter64(e1), Snmp::Ticks(d1)],
            [Snmp::Str(n2), Snmp::Counter64(e2), Snmp::Ticks(d2)],
        ) if n1 == b"xfrm3" && n2 == b"xfrm3" => {
            if *e1 == 0 {
                p.push("xfrm3 had no TX errors before its re-creation: the same-ifindex test proves nothing");
            }
            p.eq("re-created xfrm3 (same ifindex): vtiIfTxErrors", *e2, 0);
            if d2 <= d1 {
                p.push(format!(
                    "re-created xfrm3 (same ifindex): vtiIfCounterDiscontinuityTime {d2}, expected later than {d1}"
                ));
            }
        }
        (b, a) => p.push(format!(
            "xfrm3 same-ifindex re-creation: before {b:?}, after {a:?}"
        )),
    }
    let same = json_in(secs.body("agent.dyn.link_same"));
    let same_idx = same.as_ref().and_then(|v| v[0]["ifindex"].as_u64());
    p.eq(
        "xfrm3 re-created with `index`: kernel ifindex",
        same_idx,
        idx2,
    );
}

// ---- without CAP_NET_ADMIN ----------------------------------------------------------------------------

fn check_nocap(p: &mut Problems, secs: &Sections) {
    let proof = secs.get("agent.nocap.proof");
    if !proof.is_some_and(|s| s.rc != 0 && s.body.contains("Operation not permitted")) {
        p.push(format!(
            "iproute2 as nobody was not refused the SA dump, so the no-capability runs prove nothing: {proof:?}"
        ));
    }
    let links_doc =
        serde_json::from_str::<Value>(secs.body("agent.nocap.links")).unwrap_or(Value::Null);
    let tunnels = tunnel_links(&links_doc);
    if tunnels.len() != 6 {
        p.push(format!(
            "agent.nocap.links: {} tunnels, expected 6",
            tunnels.len()
        ));
    }
    // show --json as nobody.
    match json_in(secs.body("agent.nocap.show")) {
        None => p.push(format!(
            "agent.nocap.show is not JSON:\n{}",
            secs.body("agent.nocap.show")
        )),
        Some(doc) => {
            p.eq(
                "nocap show xfrm_available",
                doc["xfrm_available"].as_bool(),
                Some(false),
            );
            p.eq(
                "nocap show sas",
                doc["sas"].as_array().map(Vec::len),
                Some(0),
            );
            let shown = doc["tunnels"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            p.eq("nocap show tunnels", shown.len(), tunnels.len());
            for l in &tunnels {
                let t = shown
                    .iter()
                    .find(|t| t["tunnel"]["ifindex"].as_u64() == Some(u64::from(l.ifindex)));
                let got = t.map(|t| {
                    let s = &t["tunnel"]["stats"];
                    [
                        s["tx_packets"].as_u64(),
                        s["tx_errors"].as_u64(),
                        s["rx_packets"].as_u64(),
                    ]
                });
                p.eq(
                    &format!("nocap show {} tx packets/errors, rx packets", l.name),
                    got,
                    Some([
                        Some(l.tx("packets")),
                        Some(l.tx("errors")),
                        Some(l.rx("packets")),
                    ]),
                );
            }
        }
    }
    // `run` as nobody, through snmpd.
    let mut wp = Problems::default();
    let walk = Walk::parse(secs, "agent.nocap.bulkwalk", &mut wp);
    p.0.extend(wp.0.into_iter().map(|e| format!("nocap: {e}")));
    p.eq(
        "nocap vtiXfrmAvailable.0",
        walk.global(global::XFRM_AVAILABLE),
        Some(&Snmp::truth(false)),
    );
    p.eq(
        "nocap vtiSaCount.0",
        walk.global(global::SA_COUNT),
        Some(&Snmp::Gauge(0)),
    );
    p.eq("nocap vtiSaTable rows", walk.sa_rows().len(), 0);
    p.eq(
        "nocap vtiIfTable rows",
        walk.if_rows(),
        tunnels.iter().map(|t| t.ifindex).collect(),
    );
    for l in &tunnels {
        let row = walk.if_row(l.ifindex);
        for col in [
            if_col::OUT_SA_COUNT,
            if_col::IN_SA_COUNT,
            if_col::NO_OUTBOUND_SA,
            if_col::SECONDS_TO_HARD_EXPIRY,
            if_col::SEQ_HEADROOM,
        ] {
            p.eq(
                &format!("nocap {} SA summary column {col}", l.name),
                row.get(&col),
                None,
            );
        }
        for (col, v) in [
            (if_col::TX_PACKETS, l.tx("packets")),
            (if_col::TX_OCTETS, l.tx("bytes")),
            (if_col::TX_ERRORS, l.tx("errors")),
            (if_col::TX_CARRIER_ERRORS, l.tx("carrier_errors")),
            (if_col::RX_PACKETS, l.rx("packets")),
            (if_col::RX_OCTETS, l.rx("bytes")),
        ] {
            p.eq(
                &format!("nocap {} vtiIfEntry.{col}", l.name),
                row.get(&col),
                Some(&Snmp::Counter64(v)),
            );
        }
    }
    let got = values(secs, "agent.nocap.get");
    let vti1 = tunnels
        .iter()
        .find(|t| t.name == "vti1")
        .map_or(0, |t| t.tx("packets"));
    p.eq(
        "nocap snmpget vtiXfrmAvailable.0, vtiIfOutSaCount.vti1, vtiIfTxPackets.vti1",
        got,
        vec![
            Snmp::truth(false),
            Snmp::NoSuchInstance,
            Snmp::Counter64(vti1),
        ],
    );
    let log = secs.body("agent.nocap.log");
    let warns: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && !no_charon_here(l))
        .collect();
    let cap_warns = warns.iter().filter(|l| l.contains("CAP_NET_ADMIN")).count();
    if cap_warns != 1 || warns.len() != 1 || log.contains("ERROR") {
        p.push(format!(
            "nocap agent log: {cap_warns} CAP_NET_ADMIN warning(s), {} warning(s) in all, expected exactly one:\n{log}",
            warns.len()
        ));
    }
}

// ---- key material ---------------------------------------------------------------------------------------

/// The forms of a hex key we look for: hex both cases, the raw text if printable, and
/// its first 8 bytes as decimal and hex lists (a Debug-printed byte slice, white space
/// removed).
fn key_forms(key: &str) -> Vec<String> {
    let bytes: Vec<u8> = (0..key.len() / 2)
        .filter_map(|i| u8::from_str_radix(&key[2 * i..2 * i + 2], 16).ok())
        .collect();
    let mut forms = vec![key.to_lowercase(), key.to_uppercase()];
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        forms.push(String::from_utf8(bytes.clone()).unwrap());
    }
    let head = &bytes[..bytes.len().min(8)];
    forms.push(head.iter().map(u8::to_string).collect::<Vec<_>>().join(","));
    forms.push(
        head.iter()
            .map(|b| format!("{b:x}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    forms
}

fn check_keys(p: &mut Problems, secs: &Sections, sas: &[IpSa]) {
    let keys: BTreeSet<String> = sas
        .iter()
        .flat_map(|s| s.keys.iter().map(|k| k.to_lowercase()))
        .collect();
    // 12 tunnel SAs (enc + auth) + the AEAD SA + the transport SA (enc + auth).
    if keys.len() < 20 {
        p.push(format!(
            "only {} distinct SA keys in ip xfrm state",
            keys.len()
        ));
    }
    if !keys
        .iter()
        .any(|k| k == "6c61622d7365637265742d616561642d6b657921")
    {
        p.push("the printable AEAD key is not among the kernel's SAs");
    }
    let patterns: BTreeSet<&str> = secs.body("agent.keys").lines().collect();
    for k in &keys {
        if !patterns.contains(k.as_str()) {
            p.push(format!("the guest's key search lacks key {k}"));
        }
    }
    // The guest's search: the control (iproute2's dump) finds the keys, nothing else does.
    let grep = secs.body("agent.keygrep");
    let mut emitted = BTreeSet::new();
    for line in grep.lines().filter(|l| l.contains(" matches=")) {
        let w: Vec<&str> = line.split_whitespace().collect();
        let num = |k: &str| {
            w.iter()
                .find_map(|x| x.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse::<u64>().ok())
        };
        match w.first() {
            Some(&"control") if num("matches").unwrap_or(0) < keys.len() as u64 => {
                p.push(format!(
                    "key search control found too little (search broken?): {line}"
                ));
            }
            Some(&"emitted") => {
                emitted.insert(w[1].to_string());
                if num("matches") != Some(0) || num("stripped_matches") != Some(0) {
                    p.push(format!(
                        "KEY MATERIAL in the agent's output: {line}\n{grep}"
                    ));
                }
            }
            _ => {}
        }
    }
    if !grep.lines().any(|l| l.starts_with("control ")) {
        p.push(format!(
            "the guest's key search has no control line:\n{grep}"
        ));
    }
    for f in [
        "root.log",
        "nocap.log",
        "agent.walk",
        "agent.bulkwalk",
        "agent.show",
        "agent.nocap.show",
        "agent.nocap.bulkwalk",
    ] {
        if !emitted.contains(f) {
            p.push(format!("the guest did not search {f} for keys:\n{grep}"));
        }
    }
    // And here, in everything the guest sent back from the agent.
    for name in [
        "agent.walk",
        "agent.bulkwalk",
        "agent.show",
        "agent.nocap.show",
        "agent.nocap.bulkwalk",
        "agent.nocap.get",
        "agent.nocap.log",
        "agent.root_log",
        "agent.dyn.before_same",
        "agent.dyn.after_same",
    ] {
        let body = secs.body(name);
        let stripped: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        for k in &keys {
            for f in key_forms(k) {
                if body.contains(&f) || stripped.contains(&f) {
                    p.push(format!("KEY MATERIAL {f:?} (key {k}) in {name}"));
                }
            }
        }
    }
}

/// The IKE view's one warning: this part runs no charon (the ike part does, and checks
/// the agent's IKE view against it).
fn no_charon_here(line: &str) -> bool {
    line.contains("WARN IKE view unavailable: no VICI socket")
}

fn check_logs(p: &mut Problems, secs: &Sections) {
    let log = secs.body("agent.root_log");
    let trace = kv(log, "trace_lines").unwrap_or(0);
    if trace < 100 {
        p.push(format!(
            "the root agent's log has {trace} TRACE lines: was RUST_LOG=trace in effect?\n{log}"
        ));
    }
    let problems: Vec<&str> = log
        .split("--- WARN/ERROR lines:")
        .nth(1)
        .and_then(|s| s.split("--- INFO lines:").next())
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty() && !no_charon_here(l))
        .collect();
    if !problems.is_empty() {
        p.push(format!(
            "the root agent logged warnings or errors:\n{}",
            problems.join("\n")
        ));
    }
}

// ---- the check --------------------------------------------------------------------------------------------

pub fn check(secs: &Sections, kernel: &str) -> Vec<String> {
    let mut p = Problems::default();
    secs.require_ok(
        &[
            "agent.snmpd",
            "agent.start",
            "agent.pings",
            "agent.restored_pings",
            "agent.t0",
            "agent.links",
            "agent.xfrm_state",
            "agent.xfrm_stat",
            "agent.walk",
            "agent.bulkwalk",
            "agent.show",
            "agent.links_after",
            "agent.xfrm_state_after",
            "agent.t1",
            "agent.uname",
            "agent.stop",
            "agent.dyn.errors",
            "agent.dyn.reset",
            "agent.nocap.show",
            "agent.nocap.start",
            "agent.nocap.bulkwalk",
            "agent.nocap.stop",
        ],
        &mut p.0,
    );
    let (Ok(links), Ok(links_after)) = (
        serde_json::from_str::<Value>(secs.body("agent.links")),
        serde_json::from_str::<Value>(secs.body("agent.links_after")),
    ) else {
        p.push("agent.links / agent.links_after are not JSON");
        return p.0;
    };
    let tunnels = tunnel_links(&links);
    let names: HashMap<&str, u32> = links
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|l| Some((l["ifname"].as_str()?, l["ifindex"].as_u64()? as u32)))
        .collect();
    let ip_sas = parse_ip_sas(secs.body("agent.xfrm_state"));
    let ip_sas_after = parse_ip_sas(secs.body("agent.xfrm_state_after"));
    let t0: Option<u64> = secs.body("agent.t0").trim().parse().ok();
    let t1: Option<u64> = secs.body("agent.t1").trim().parse().ok();
    let (Some(t0), Some(t1)) = (t0, t1) else {
        p.push("agent.t0 / agent.t1 are not Unix times");
        return p.0;
    };
    let w = Window { t0, t1 };
    show(&format!(
        "agent {kernel}: agent CPU over its last two polls (guest, debug build, RUST_LOG=trace): {}; \
         the comparison window (walk, bulkwalk, show) took {} s",
        secs.body("agent.cpu").trim(),
        t1 - t0
    ));

    // Quiet: the kernel's numbers did not move while we read the agent's.
    let after = tunnel_links(&links_after);
    for l in &tunnels {
        let a = after.iter().find(|a| a.ifindex == l.ifindex);
        if a.map(|a| &a.v["stats64"]) != Some(&l.v["stats64"]) {
            p.push(format!(
                "{}: counters moved during the comparison (traffic not quiesced): {} then {}",
                l.name,
                l.v["stats64"],
                a.map_or(Value::Null, |a| a.v["stats64"].clone())
            ));
        }
    }
    let sa_state = |s: &[IpSa]| -> Vec<(u32, String, u64, u64, u64)> {
        s.iter()
            .map(|x| (x.spi, x.dst.clone(), x.cur_bytes, x.cur_packets, x.oseq))
            .collect()
    };
    p.eq(
        "SAs moved during the comparison (ip xfrm state before vs after)",
        sa_state(&ip_sas_after),
        sa_state(&ip_sas),
    );

    // The scenario produced every kind of TX error (else the equalities prove little).
    let by_name = |n: &str| tunnels.iter().find(|t| t.name == n);
    for (name, what, ok) in [
        (
            "vti2",
            "carrier errors",
            by_name("vti2").is_some_and(|t| t.tx("carrier_errors") > 0),
        ),
        (
            "xfrm2",
            "carrier errors",
            by_name("xfrm2").is_some_and(|t| t.tx("carrier_errors") > 0),
        ),
        (
            "xfrm2",
            "tx_dropped",
            by_name("xfrm2").is_some_and(|t| t.tx("dropped") > 0),
        ),
        (
            "vti61",
            "collisions (loop)",
            by_name("vti61").is_some_and(|t| t.tx("collisions") > 0),
        ),
        (
            "vti1",
            "too-big errors",
            by_name("vti1").is_some_and(|t| t.too_big() > 0),
        ),
        (
            "xfrm1",
            "aborted errors",
            by_name("xfrm1").is_some_and(|t| t.tx("aborted_errors") > 0),
        ),
    ] {
        if !ok {
            p.push(format!("scenario: {name} has no {what}"));
        }
    }
    for t in ["vti62"] {
        if by_name(t).is_none_or(|t| t.had_errors() || t.tx("packets") < 3 || t.rx("packets") < 3) {
            p.push(format!(
                "scenario: {t} should be a clean tunnel with traffic"
            ));
        }
    }
    if tunnels.len() != 6 {
        p.push(format!(
            "{} tunnels in agent.links, expected the standard 6",
            tunnels.len()
        ));
    }

    let owners: Vec<(&IpSa, u32)> = ip_sas.iter().map(|s| (s, owner(s, &tunnels))).collect();
    if ip_sas.len() != 14 || owners.iter().filter(|(_, o)| *o == 0).count() != 2 {
        p.push(format!(
            "scenario: {} SAs ({} attached to no tunnel), expected 12 tunnel SAs + 2",
            ip_sas.len(),
            owners.iter().filter(|(_, o)| *o == 0).count()
        ));
    }

    let walk = Walk::parse(secs, "agent.walk", &mut p);
    let bulk = Walk::parse(secs, "agent.bulkwalk", &mut p);
    compare_walks(&mut p, &walk, &bulk, t1 - t0 + 2);
    check_globals(
        &mut p,
        &walk,
        tunnels.len(),
        ip_sas.len(),
        secs.body("agent.uname"),
    );
    check_xfrm_stat(&mut p, &walk, secs.body("agent.xfrm_stat"));
    check_if_table(&mut p, &walk, &tunnels, &names, &owners, w, kernel);
    check_sa_table(&mut p, &walk, &owners, w, kernel);
    match json_in(secs.body("agent.show")) {
        Some(doc) => check_show(&mut p, &doc, &walk),
        None => p.push(format!(
            "agent.show is not JSON:\n{}",
            secs.body("agent.show")
        )),
    }
    check_dynamic(&mut p, secs);
    check_nocap(&mut p, secs);
    check_keys(&mut p, secs, &ip_sas);
    check_logs(&mut p, secs);
    p.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms_cover_hex_text_and_byte_lists() {
        let f = key_forms("6c61622d7365637265742d616561642d6b657921");
        assert!(f.contains(&"6C61622D7365637265742D616561642D6B657921".to_string()));
        assert!(f.contains(&"lab-secret-aead-key!".to_string()));
        assert!(f.contains(&"108,97,98,45,115,101,99,114".to_string()));
        assert!(f.contains(&"6c,61,62,2d,73,65,63,72".to_string()));
        let f = key_forms("0000101100001011");
        assert_eq!(f.len(), 4, "{f:?}"); // not printable
    }

    /// The key check fails when a key shows up in what the agent emitted.
    #[test]
    fn key_check_finds_a_leak() {
        let key = "6c61622d7365637265742d616561642d6b657921";
        let results = |show: &str| {
            format!(
                "=== BEGIN agent.xfrm_state ===\nsrc 192.0.2.7 dst 203.0.113.7\n\
                 \tproto esp spi 0x00007777(30583) reqid 77(0x0000004d) mode tunnel\n\
                 \taead rfc4106(gcm(aes)) 0x{key} (160 bits) 128\n\
                 === END agent.xfrm_state rc=0 ===\n\
                 === BEGIN agent.keys ===\n{key}\n=== END agent.keys rc=0 ===\n\
                 === BEGIN agent.keygrep ===\ncontrol agent.xfrm_state bytes=9 matches=1 \
                 stripped_matches=1\nemitted agent.show bytes=9 matches=0 stripped_matches=0\n\
                 === END agent.keygrep rc=0 ===\n\
                 === BEGIN agent.show ===\n{show}\n=== END agent.show rc=0 ===\n"
            )
        };
        let leaks = |show: &str| {
            let secs = Sections::parse(&results(show));
            let mut p = Problems::default();
            check_keys(&mut p, &secs, &parse_ip_sas(secs.body("agent.xfrm_state")));
            p.0.into_iter()
                .filter(|e| e.starts_with("KEY MATERIAL"))
                .count()
        };
        assert_eq!(leaks("{\"enc_alg\": \"rfc4106(gcm(aes))\"}"), 0);
        assert!(leaks("{\"key\": \"lab-secret-aead-key!\"}") > 0);
        assert!(leaks("key: [108, 97, 98, 45,\n 115, 101, 99, 114, 101]") > 0);
        // As snmpwalk prints an OCTET STRING of those bytes.
        let spaced: Vec<String> = (0..key.len() / 2)
            .map(|i| key[2 * i..2 * i + 2].to_uppercase())
            .collect();
        assert!(leaks(&format!("Hex-STRING: {}", spaced.join(" "))) > 0);
    }
}
