//! Host-side check of the `faults` lab part (`tests/lab/scenarios/faults.sh`, issue 4
//! "Prove it"): for every kernel × kind × scenario,
//!
//! - the kernel moved what `shared/reference/lab-results.md` says it moves for that fault
//!   (the expectation table below; where a kernel differs, the table says what it does
//!   and why, in a comment),
//! - each category column read through snmpd moved by exactly the kernel's delta for
//!   that category (carrier = tx_carrier_errors, loop = collisions, outputErrors =
//!   tx_aborted_errors, tooBig = tx_errors − the three, dropped = tx_dropped,
//!   suspectedUnderlayDrops = the 1-byte packets a vti/vti6 counted as sent), so no
//!   other category moved,
//! - vtiIfCause names the injected fault (healthy traffic and faults a kernel does not
//!   count leave it unchanged),
//! - the namespace's /proc/net/xfrm_stat moved exactly as lab-results.md's rows add up
//!   to (all tunnels are faulted at once, so the per-namespace counters sum),
//!
//! and prints the table (kernel × kind × scenario → expected, got, cause, diagnosis) to
//! stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use vti_agentx::mib::oids::if_col;

use crate::common::Sections;

/// Body and rc of one section.
fn section<'a>(sections: &'a Sections, name: &str) -> Option<(&'a str, i32)> {
    sections.get(name).map(|s| (s.body.as_str(), s.rc))
}

// ---- the plan (must match faults.sh) -----------------------------------------------------

/// Tunnel → kind label (lab-results.md's kinds).
const TUNNELS: [(&str, &str); 13] = [
    ("vti1", "vti"),
    ("vti2", "vti"),
    ("vti61", "vti6"),
    ("vti62", "vti6"),
    ("vti64", "vti6-in4"),
    ("xfrm1", "xfrm"),
    ("xfrm2", "xfrm6"),
    // The "siblings" scenario's pairs: two tunnels of a kind to one peer.
    ("vti3", "vti"),
    ("vti4", "vti"),
    ("vti65", "vti6-in4"),
    ("vti66", "vti6-in4"),
    ("xfrm3", "xfrm"),
    ("xfrm4", "xfrm"),
];
/// The tunnels every single-fault scenario faults, one per kind.
const PER_KIND: [&str; 5] = ["vti1", "vti61", "vti64", "xfrm1", "xfrm2"];

fn kind_of(tunnel: &str) -> &'static str {
    TUNNELS
        .iter()
        .find(|(t, _)| *t == tunnel)
        .map_or("?", |(_, k)| k)
}

/// (scenario, [(tunnel, fault)]) in the order faults.sh runs them.
fn plan() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let every = |f: &'static str| PER_KIND.iter().map(|t| (*t, f)).collect::<Vec<_>>();
    vec![
        ("healthy", every("healthy")),
        ("nosa", every("nosa")),
        ("nopolicy", every("nopolicy")),
        ("block", every("block")),
        ("defaultblock", every("defaultblock")),
        ("noroute", every("noroute")),
        ("endpoint", every("endpoint")),
        ("ifid", vec![("xfrm1", "ifid"), ("xfrm2", "ifid")]),
        ("loop", every("loop")),
        ("toobig", every("toobig")),
        ("seq", every("seq")),
        ("hardlimit", every("hardlimit")),
        ("qdisc", every("qdisc")),
        ("selector", vec![("vti64", "selector")]),
        (
            "multi",
            vec![
                ("vti1", "nosa"),
                ("vti2", "block"),
                ("vti61", "noroute"),
                ("vti62", "endpoint"),
                ("xfrm1", "ifid"),
                ("xfrm2", "nopolicy"),
                ("vti64", "selector"),
            ],
        ),
        // Issue 15: the second of two tunnels to one peer loses its SA; the first's
        // healthy SA is not its near miss.
        (
            "siblings",
            vec![
                ("vti3", "healthy"),
                ("vti4", "nosa"),
                ("vti65", "healthy"),
                ("vti66", "nosa"),
                ("xfrm3", "healthy"),
                ("xfrm4", "nosa"),
            ],
        ),
        ("healthy2", every("healthy")),
    ]
}

// ---- expectations (lab-results.md) ---------------------------------------------------

/// vtiIfCause values (IPSEC-VTI-MIB; src/model.rs `Cause`).
mod cause {
    pub const NONE: i64 = 1;
    pub const NO_ROUTE_TO_PEER: i64 = 2;
    pub const NO_POLICY: i64 = 3;
    pub const POLICY_BLOCK: i64 = 4;
    pub const NO_OUTBOUND_SA: i64 = 5;
    pub const SA_ENDPOINT_MISMATCH: i64 = 6;
    pub const IF_ID_MISMATCH: i64 = 7;
    pub const ROUTING_LOOP: i64 = 8;
    pub const MTU_EXCEEDED: i64 = 9;
    pub const SA_HARD_EXPIRED: i64 = 10;
    pub const SEQ_OVERFLOW: i64 = 11;
    pub const SELECTOR_MISMATCH: i64 = 12;
    pub const UNDERLAY_DROP: i64 = 13;

    pub fn name(c: i64) -> &'static str {
        [
            "?",
            "none",
            "noRouteToPeer",
            "noPolicy",
            "policyBlock",
            "noOutboundSa",
            "saEndpointMismatch",
            "ifIdMismatch",
            "routingLoop",
            "mtuExceeded",
            "saHardExpired",
            "seqOverflow",
            "selectorMismatch",
            "underlayDrop",
            "outputError",
            "unknown",
        ]
        .get(usize::try_from(c).unwrap_or(0))
        .copied()
        .unwrap_or("?")
    }
}

/// Category deltas of one tunnel over one scenario, plus sent packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cats {
    carrier: u64,
    loops: u64,
    too_big: u64,
    output: u64,
    dropped: u64,
    /// 1-byte "sent" packets of a vti/vti6 (underlay drops).
    underlay: u64,
    tx_packets: u64,
}

impl Cats {
    fn show(&self) -> String {
        let mut s = String::new();
        for (name, v) in [
            ("carrier", self.carrier),
            ("loop", self.loops),
            ("tooBig", self.too_big),
            ("outErr", self.output),
            ("dropped", self.dropped),
            ("underlay", self.underlay),
            ("pkts", self.tx_packets),
        ] {
            if v > 0 {
                let _ = write!(s, "{}{name}+{v}", if s.is_empty() { "" } else { " " });
            }
        }
        if s.is_empty() {
            s.push('-');
        }
        s
    }
}

struct Expect {
    cats: Cats,
    /// None: the cause must not change (no error counted).
    cause: Option<i64>,
}

/// What lab-results.md measured for one fault on one kind (3 pings; 4 for the hard
/// limit). On vti6 and xfrm tx_dropped rises with every pre-output error.
fn expect(kind: &str, fault: &str) -> Expect {
    let xfrm = kind.starts_with("xfrm");
    let v6drop = |n: u64| if kind == "vti" { 0 } else { n };
    let carrier = |n: u64| Cats {
        carrier: n,
        dropped: v6drop(n),
        ..Cats::default()
    };
    let (cats, cause) = match fault {
        "healthy" => (
            Cats {
                tx_packets: 3,
                ..Cats::default()
            },
            None,
        ),
        "nosa" => (carrier(3), Some(cause::NO_OUTBOUND_SA)),
        "nopolicy" => (carrier(3), Some(cause::NO_POLICY)),
        "block" => (carrier(3), Some(cause::POLICY_BLOCK)),
        // Told apart from "nopolicy" only by XFRM_MSG_GETDEFAULT.
        "defaultblock" => (carrier(3), Some(cause::POLICY_BLOCK)),
        "noroute" => (carrier(3), Some(cause::NO_ROUTE_TO_PEER)),
        // XFRM interfaces do no endpoint check: an SA towards another peer carries the
        // traffic (lab-results row 5), so nothing is an error and the cause stays.
        "endpoint" if xfrm => (
            Cats {
                tx_packets: 3,
                ..Cats::default()
            },
            None,
        ),
        "endpoint" => (carrier(3), Some(cause::SA_ENDPOINT_MISMATCH)),
        "ifid" => (carrier(3), Some(cause::IF_ID_MISMATCH)),
        "loop" => (
            Cats {
                loops: 3,
                dropped: v6drop(3),
                ..Cats::default()
            },
            Some(cause::ROUTING_LOOP),
        ),
        // Counted once: the ICMP the tunnel returns lowers the PMTU and the next two
        // pings fail locally ("message too long").
        "toobig" => (
            Cats {
                too_big: 1,
                dropped: v6drop(1),
                ..Cats::default()
            },
            Some(cause::MTU_EXCEEDED),
        ),
        "seq" => (
            Cats {
                output: 3,
                ..Cats::default()
            },
            Some(cause::SEQ_OVERFLOW),
        ),
        // 4 pings: 2 sent, the 3rd hits the expired SA (aborted), the 4th finds no SA
        // (carrier; + dropped on vti6/xfrm).
        "hardlimit" => (
            Cats {
                carrier: 1,
                output: 1,
                dropped: v6drop(1),
                tx_packets: 2,
                ..Cats::default()
            },
            Some(cause::SA_HARD_EXPIRED),
        ),
        // Below an XFRM interface the drop is an aborted error; below vti/vti6 a
        // "sent" 1-byte packet.
        "qdisc" if xfrm => (
            Cats {
                output: 3,
                ..Cats::default()
            },
            Some(cause::UNDERLAY_DROP),
        ),
        "qdisc" => (
            Cats {
                underlay: 3,
                tx_packets: 3,
                ..Cats::default()
            },
            Some(cause::UNDERLAY_DROP),
        ),
        "selector" => (carrier(3), Some(cause::SELECTOR_MISMATCH)),
        _ => (Cats::default(), None),
    };
    Expect { cats, cause }
}

/// xfrm_stat counters one fault moves on one kind per packet (lab-results.md).
fn expect_xfrm_stat(kind: &str, fault: &str) -> Vec<(&'static str, u64)> {
    match fault {
        "nosa" | "ifid" | "selector" => vec![("XfrmOutNoStates", 3)],
        "block" => vec![("XfrmOutPolBlock", 3)],
        // Measured (6.1, 6.12): the default block is counted nowhere in xfrm_stat.
        "defaultblock" => vec![],
        "noroute" => vec![("XfrmOutBundleGenError", 3)],
        "seq" => vec![("XfrmOutStateSeqError", 3)],
        "hardlimit" => vec![("XfrmOutNoStates", 1), ("XfrmOutStateExpired", 1)],
        _ => {
            let _ = kind;
            vec![]
        }
    }
}

// ---- parsing ----------------------------------------------------------------------------

/// The kernel counters of one link from `ip -s -s -j link show`.
#[derive(Clone, Copy, Debug, Default)]
struct Raw {
    packets: u64,
    bytes: u64,
    errors: u64,
    dropped: u64,
    carrier: u64,
    collisions: u64,
    aborted: u64,
}

fn links(body: &str) -> Result<BTreeMap<String, (u32, Raw)>, String> {
    let v: Value = serde_json::from_str(body.trim()).map_err(|e| format!("links JSON: {e}"))?;
    let mut out = BTreeMap::new();
    for l in v.as_array().ok_or("links: not an array")? {
        let name = l["ifname"].as_str().unwrap_or_default().to_string();
        let tx = &l["stats64"]["tx"];
        let f = |k: &str| tx[k].as_u64().unwrap_or(0);
        let raw = Raw {
            packets: f("packets"),
            bytes: f("bytes"),
            errors: f("errors"),
            dropped: f("dropped"),
            carrier: f("carrier_errors"),
            collisions: f("collisions"),
            aborted: f("aborted_errors"),
        };
        let idx = l["ifindex"].as_u64().unwrap_or(0) as u32;
        out.insert(name, (idx, raw));
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum MibVal {
    Num(i128),
    Text(String),
    Missing,
}

impl MibVal {
    fn num(&self) -> Option<i128> {
        match self {
            MibVal::Num(n) => Some(*n),
            _ => None,
        }
    }
}

const IF_ENTRY: &str = ".1.3.6.1.4.1.8072.9999.9999.2741.1.3.1.";

/// `snmpget -On` output → (column, ifindex) → value.
fn mib(body: &str) -> BTreeMap<(u32, u32), MibVal> {
    let mut out = BTreeMap::new();
    for line in body.lines() {
        let Some((oid, val)) = line.split_once(" = ") else {
            continue;
        };
        let Some((col, idx)) = oid
            .trim()
            .strip_prefix(IF_ENTRY)
            .and_then(|r| r.split_once('.'))
        else {
            continue;
        };
        let (Ok(col), Ok(idx)) = (col.parse(), idx.parse()) else {
            continue;
        };
        let v = if let Some(s) = val.strip_prefix("STRING: ") {
            MibVal::Text(s.trim_matches('"').to_string())
        } else if val == "\"\"" || val.starts_with("No Such") {
            if val == "\"\"" {
                MibVal::Text(String::new())
            } else {
                MibVal::Missing
            }
        } else if let Some(t) = val.strip_prefix("Timeticks: (") {
            MibVal::Num(t.split(')').next().unwrap_or("").parse().unwrap_or(-1))
        } else if let Some((_, n)) = val.split_once(": ") {
            MibVal::Num(n.trim().parse().unwrap_or(-1))
        } else {
            MibVal::Missing
        };
        out.insert((col, idx), v);
    }
    out
}

fn xfrm_stat(body: &str) -> BTreeMap<String, u64> {
    body.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

/// The fewest 1-byte packets that explain `packets` sent in `bytes` when every real
/// packet is at least an IPv4 header (20 bytes) — the agent's bound, recomputed.
fn one_byte_packets(packets: u64, bytes: u64) -> u64 {
    let floor = packets * 20;
    if bytes >= floor {
        0
    } else {
        (floor - bytes).div_ceil(19).min(packets)
    }
}

fn kernel_cats(kind: &str, b: &Raw, a: &Raw) -> Cats {
    let d = |x: u64, y: u64| y.saturating_sub(x);
    let carrier = d(b.carrier, a.carrier);
    let loops = d(b.collisions, a.collisions);
    let output = d(b.aborted, a.aborted);
    let tx_packets = d(b.packets, a.packets);
    Cats {
        carrier,
        loops,
        too_big: d(b.errors, a.errors).saturating_sub(carrier + loops + output),
        output,
        dropped: d(b.dropped, a.dropped),
        underlay: if kind.starts_with("xfrm") {
            0
        } else {
            one_byte_packets(tx_packets, d(b.bytes, a.bytes))
        },
        tx_packets,
    }
}

fn mib_cats(
    kind: &str,
    before: &BTreeMap<(u32, u32), MibVal>,
    after: &BTreeMap<(u32, u32), MibVal>,
    idx: u32,
) -> Result<Cats, String> {
    let delta = |col: u32| -> Result<u64, String> {
        let get = |m: &BTreeMap<(u32, u32), MibVal>| m.get(&(col, idx)).and_then(MibVal::num);
        match (get(before), get(after)) {
            (Some(b), Some(a)) if a >= b => Ok((a - b) as u64),
            (Some(b), Some(a)) => Err(format!("column {col} went backwards: {b} -> {a}")),
            _ => Err(format!("column {col} not read (before/after)")),
        }
    };
    Ok(Cats {
        carrier: delta(if_col::CAT_CARRIER)?,
        loops: delta(if_col::CAT_LOOP)?,
        too_big: delta(if_col::CAT_TOO_BIG)?,
        output: delta(if_col::CAT_OUTPUT_ERRORS)?,
        dropped: delta(if_col::CAT_DROPPED)?,
        // The MIB: always 0 on XFRM interfaces (their underlay drops are aborted
        // errors), so it must be served as 0 there, never estimated.
        underlay: if kind.starts_with("xfrm") {
            match after.get(&(if_col::SUSPECTED_UNDERLAY_DROPS, idx)) {
                Some(MibVal::Num(0)) => 0,
                v => return Err(format!("suspectedUnderlayDrops on xfrm must be 0: {v:?}")),
            }
        } else {
            delta(if_col::SUSPECTED_UNDERLAY_DROPS)?
        },
        tx_packets: delta(if_col::TX_PACKETS)?,
    })
}

/// The MTU in ping's report of the tunnel's ICMP: "Frag needed and DF set (mtu = 1438)"
/// (IPv4), "Packet too big: mtu=1406" (IPv6).
fn kernel_mtu(ping: &str) -> Option<u32> {
    let rest = &ping[ping.find("mtu")? + 3..];
    let digits: String = rest
        .trim_start_matches([' ', '=', ':'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

// ---- the check ---------------------------------------------------------------------------

/// One table row.
struct Row {
    scenario: String,
    kind: String,
    tunnel: String,
    fault: String,
    expected: String,
    kernel: String,
    mib: String,
    cause: String,
    diagnosis: String,
    ok: bool,
}

/// Problems found in the faults part of one kernel's run (empty = pass). Prints the
/// table to stderr.
pub fn check(sections: &Sections, kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let mut rows = Vec::new();
    match section(sections, "faults.agent_up") {
        Some((body, 0)) if body.contains("STRING") => {}
        other => errs.push(format!(
            "faults: the agent never answered through snmpd: {other:?}"
        )),
    }
    for (scenario, faults) in plan() {
        check_scenario(sections, scenario, &faults, &mut rows, &mut errs);
    }
    print_table(kernel, &rows);
    if let Some(secs) = elapsed(section(sections, "faults.elapsed").map(|(b, _)| b)) {
        eprintln!("faults [{kernel}]: {secs:.0} s in the guest");
    }
    errs.into_iter()
        .map(|e| format!("[{kernel}] {e}"))
        .collect()
}

fn check_scenario(
    sections: &Sections,
    scenario: &str,
    faults: &[(&str, &str)],
    rows: &mut Vec<Row>,
    errs: &mut Vec<String>,
) {
    let get = |what: &str| section(sections, &format!("faults.{scenario}.{what}"));
    // The guest ran the plan the host expects.
    let want_plan: Vec<String> = faults
        .iter()
        .map(|(t, f)| format!("{t} {} {f}", kind_of(t)))
        .collect();
    let got_plan: Vec<String> = get("plan")
        .map(|(b, _)| {
            b.lines()
                .filter(|l| !l.is_empty())
                .map(|l| l.rsplit_once(' ').map_or(l, |(a, _)| a).to_string())
                .collect()
        })
        .unwrap_or_default();
    if got_plan != want_plan {
        errs.push(format!(
            "{scenario}: guest plan {got_plan:?}, expected {want_plan:?}"
        ));
        return;
    }
    let parsed = (|| -> Result<_, String> {
        let body = |w: &str| {
            get(w)
                .map(|(b, _)| b)
                .ok_or_else(|| format!("section faults.{scenario}.{w} missing"))
        };
        Ok((
            links(body("before.links")?)?,
            links(body("after.links")?)?,
            mib(body("before.mib")?),
            mib(body("after.mib")?),
            xfrm_stat(body("before.xfrm_stat")?),
            xfrm_stat(body("after.xfrm_stat")?),
        ))
    })();
    let (lb, la, mb, ma, sb, sa) = match parsed {
        Ok(p) => p,
        Err(e) => {
            errs.push(format!("{scenario}: {e}"));
            return;
        }
    };
    for (tunnel, fault) in faults {
        let kind = kind_of(tunnel);
        let mut problems = Vec::new();
        let (Some((idx, rb)), Some((_, ra))) = (lb.get(*tunnel), la.get(*tunnel)) else {
            errs.push(format!("{scenario}/{tunnel}: link missing"));
            continue;
        };
        let exp = expect(kind, fault);
        let got = kernel_cats(kind, rb, ra);
        if got != exp.cats {
            problems.push(format!(
                "kernel moved {} but lab-results.md says {}",
                got.show(),
                exp.cats.show()
            ));
        }
        let mib_got = match mib_cats(kind, &mb, &ma, *idx) {
            Ok(m) => {
                if m != got {
                    problems.push(format!(
                        "through snmpd the categories moved {} but the kernel {}",
                        m.show(),
                        got.show()
                    ));
                }
                m.show()
            }
            Err(e) => {
                problems.push(e.clone());
                e
            }
        };
        // The agent had caught up with the kernel when the MIB was read.
        for (col, k) in [
            (if_col::TX_ERRORS, ra.errors),
            (if_col::TX_DROPPED, ra.dropped),
            (if_col::TX_CARRIER_ERRORS, ra.carrier),
            (if_col::COLLISIONS, ra.collisions),
            (if_col::TX_ABORTED_ERRORS, ra.aborted),
        ] {
            let m = ma.get(&(col, *idx)).and_then(MibVal::num);
            if m != Some(i128::from(k)) {
                problems.push(format!(
                    "MIB column {col} is {m:?} after, the kernel {k}: stale read"
                ));
            }
        }
        let cause_of = |m: &BTreeMap<(u32, u32), MibVal>| {
            m.get(&(if_col::CAUSE, *idx))
                .and_then(MibVal::num)
                .map_or(-1, |n| n as i64)
        };
        let (cause_before, cause_after) = (cause_of(&mb), cause_of(&ma));
        let want_cause = match exp.cause {
            Some(c) => c,
            // The first healthy run, and the siblings' first tunnels (carrying
            // traffic only there): nothing was ever diagnosed.
            None if scenario == "healthy" || scenario == "siblings" => cause::NONE,
            None => cause_before,
        };
        if cause_after != want_cause {
            problems.push(format!(
                "vtiIfCause is {}({cause_after}), expected {}({want_cause})",
                cause::name(cause_after),
                cause::name(want_cause)
            ));
        }
        let diagnosis = match ma.get(&(if_col::DIAGNOSIS, *idx)) {
            Some(MibVal::Text(t)) => t.clone(),
            other => format!("{other:?}"),
        };
        // The diagnosis of "too big" names the inner MTU the kernel enforces: the one
        // in the ICMP the tunnel sent back to ping ("(mtu = 1438)", "mtu=1406").
        if *fault == "toobig" {
            let ping = get(&format!("ping.{tunnel}")).map_or("", |(b, _)| b);
            match kernel_mtu(ping) {
                Some(mtu) if diagnosis.contains(&format!("allows {mtu} ")) => {}
                Some(mtu) => problems.push(format!(
                    "diagnosis does not give the kernel's MTU {mtu}: {diagnosis}"
                )),
                None => problems.push(format!("no MTU in the ping output: {ping}")),
            }
        }
        if exp.cause.is_some() {
            let last_before = mb
                .get(&(if_col::LAST_ERROR_TIME, *idx))
                .and_then(MibVal::num);
            let last_after = ma
                .get(&(if_col::LAST_ERROR_TIME, *idx))
                .and_then(MibVal::num);
            if last_after <= last_before {
                problems.push(format!(
                    "vtiIfLastErrorTime did not advance ({last_before:?} -> {last_after:?})"
                ));
            }
            if diagnosis.is_empty() {
                problems.push("empty vtiIfDiagnosis".into());
            }
        }
        let ok = problems.is_empty();
        for p in problems {
            errs.push(format!("{scenario}/{kind}/{tunnel} ({fault}): {p}"));
        }
        rows.push(Row {
            scenario: scenario.to_string(),
            kind: kind.to_string(),
            tunnel: tunnel.to_string(),
            fault: fault.to_string(),
            expected: format!(
                "{} {}",
                exp.cats.show(),
                exp.cause.map_or("(cause unchanged)", cause::name)
            ),
            kernel: got.show(),
            mib: mib_got,
            cause: format!("{}({cause_after})", cause::name(cause_after)),
            diagnosis,
            ok,
        });
    }
    // The namespace's xfrm_stat: the sum of what lab-results.md says each tunnel's
    // fault moves.
    let mut want: BTreeMap<&str, u64> = BTreeMap::new();
    for (tunnel, fault) in faults {
        for (name, n) in expect_xfrm_stat(kind_of(tunnel), fault) {
            *want.entry(name).or_default() += n;
        }
    }
    let got: BTreeMap<&str, u64> = sa
        .iter()
        .filter_map(|(n, v)| {
            let d = v.saturating_sub(sb.get(n).copied().unwrap_or(0));
            (d > 0).then_some((n.as_str(), d))
        })
        .collect();
    if got != want {
        errs.push(format!(
            "{scenario}: xfrm_stat moved {got:?}, lab-results.md adds up to {want:?}"
        ));
    }
}

/// Seconds between the two uptimes of "guest uptime A -> B".
pub fn elapsed(body: Option<&str>) -> Option<f64> {
    let (a, b) = body?
        .strip_prefix("guest uptime ")?
        .trim()
        .split_once(" -> ")?;
    Some(b.parse::<f64>().ok()? - a.parse::<f64>().ok()?)
}

fn print_table(kernel: &str, rows: &[Row]) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nfaults [{kernel}]\n{:<9} {:<9} {:<6} {:<9} | {:<38} | {:<30} | {:<30} | {:<22} | diagnosis",
        "scenario", "kind", "tunnel", "fault", "expected (lab-results.md)", "kernel", "through snmpd", "vtiIfCause"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<9} {:<9} {:<6} {:<9} | {:<38} | {:<30} | {:<30} | {:<22} | {}{}",
            r.scenario,
            r.kind,
            r.tunnel,
            r.fault,
            r.expected,
            r.kernel,
            r.mib,
            r.cause,
            r.diagnosis,
            if r.ok { "" } else { "   <-- FAIL" }
        );
    }
    eprint!("{out}");
}
