//! Part "ike" (scenarios/ike.sh, issue 12 "Prove"): real charons (Debian's strongSwan
//! 5.9) in both namespaces, IKEv2 PSK, a vti tunnel (`classic1`, mark 11, connection
//! `peer-mark`) and a VyOS-layout xfrm tunnel (`vti1`, if_id 2, connection `peer-vyos`),
//! with a VyOS-like updown hook on the left. Every step's outcome is checked from what
//! the left side shows: `swanctl --list-sas`, the left charon's log lines of the step,
//! the hook's calls and `ip -d -j link show`:
//!
//! - baseline: both IKE SAs ESTABLISHED, both CHILD_SAs INSTALLED with the right match
//!   (mark 0xb in and out; if_id 2 in and out), the links of the right kind (vti with
//!   ikey/okey 11; xfrm with if_id 2) and UP through the hook, 3 pings through each.
//! - rekey: both children have new inbound and outbound SPIs, one CHILD_SA per name,
//!   the log shows the old ones closed, the hook was not called (no link flap), links
//!   UP, pings pass.
//! - peer_delete: the left logs "received DELETE for ESP CHILD_SA", peer-vyos's IKE SA
//!   stays but its child is gone, the hook set vti1 down (classic1 untouched); after
//!   re-initiation the hook set it up again, pings pass.
//! - dpd: after the right's charon is killed, the left logs DPD requests, "giving up
//!   after 2 retransmits" for both IKE SAs, no IKE SA is left, the hook set both links
//!   down.
//! - restart: the left's charon logs SIGTERM (its down hooks leave both links down)
//!   and starts again; both SAs re-established
//!   with SPIs other than before the restart; the hook ran down then up for both; links
//!   UP; pings pass.
//! - psk / proposal / unreachable: initiating peer-vyos fails (swanctl rc ≠ 0) with
//!   "received AUTHENTICATION_FAILED notify error" / "received NO_PROPOSAL_CHOSEN notify
//!   error" / "error writing to socket: Network is unreachable" + "giving up after 2
//!   retransmits" + "peer not responding"; no peer-vyos IKE SA, vti1 down, while
//!   peer-mark's child stays INSTALLED and classic1 UP (no collateral damage).
//! - No section except `ike.secrets` contains one of the lab's PSKs, and no charon or
//!   hook log file does (`ike.psk_leak`).
//! - `ike.<step>.ike_dump` (the agent's VICI view, `examples/ike_dump --watch` running
//!   through the step): checked only when the guest had the binary, i.e. when the
//!   sections exist (see `ike_dump` below): live SAs and SPIs as swanctl lists them, and
//!   the step's last failure reason (deletedByPeer, dpdTimeout, authFailed,
//!   noProposalChosen, peerUnreachable; none after baseline and rekey).
//! - The agent (`ike.agent.*`, `ike.traps`): in psk, no vtiIkeDown of peer-vyos says
//!   other (the local terminate at its start is deletedLocally).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::alarms::{traps, Trap};
use crate::common::{json_in, parse_walk, Sections, Snmp};

/// A CHILD_SA line of `swanctl --list-sas` and its SPI lines.
#[derive(Debug, Default, Clone)]
struct Child {
    name: String,
    state: String,
    spi_in: String,
    spi_out: String,
    /// What swanctl prints in parentheses after the SPI: `0x0000000b` (mark) or
    /// `-|0x00000002` (no mark | if_id).
    match_in: String,
    match_out: String,
}

#[derive(Debug, Default)]
struct IkeSa {
    state: String,
    children: Vec<Child>,
}

/// `swanctl --list-sas` text: IKE SAs by connection name (one per name here).
fn parse_list_sas(body: &str) -> BTreeMap<String, IkeSa> {
    let mut out: BTreeMap<String, IkeSa> = BTreeMap::new();
    let mut ike: Option<String> = None;
    for line in body.lines() {
        let indent = line.len() - line.trim_start().len();
        let words: Vec<&str> = line.split_whitespace().collect();
        match (indent, words.as_slice()) {
            // "peer-vyos: #2, ESTABLISHED, IKEv2, db93…_i* 7f15…_r"
            (0, [name, id, state, ..]) if id.starts_with('#') => {
                let name = name.trim_end_matches(':').to_string();
                out.entry(name.clone()).or_default().state =
                    state.trim_end_matches(',').to_string();
                ike = Some(name);
            }
            // "  peer-vyos-vti: #4, reqid 2, INSTALLED, TUNNEL, ESP:…"
            (2, [name, id, _reqid, _n, state, ..]) if id.starts_with('#') => {
                if let Some(sa) = ike.as_ref().and_then(|i| out.get_mut(i)) {
                    sa.children.push(Child {
                        name: name.trim_end_matches(':').to_string(),
                        state: state.trim_end_matches(',').to_string(),
                        ..Child::default()
                    });
                }
            }
            // "    in  cd31d653 (-|0x00000002),    252 bytes, …"
            (4, [dir @ ("in" | "out"), spi, rest @ ..]) => {
                let Some(child) = ike
                    .as_ref()
                    .and_then(|i| out.get_mut(i))
                    .and_then(|sa| sa.children.last_mut())
                else {
                    continue;
                };
                let spi = spi.trim_end_matches(',').to_string();
                let m = rest
                    .first()
                    .filter(|m| m.starts_with('('))
                    .map(|m| m.trim_matches(|c| "(),".contains(c)).to_string())
                    .unwrap_or_default();
                if *dir == "in" {
                    (child.spi_in, child.match_in) = (spi, m);
                } else {
                    (child.spi_out, child.match_out) = (spi, m);
                }
            }
            _ => {}
        }
    }
    out
}

fn child<'a>(sas: &'a BTreeMap<String, IkeSa>, ike: &str, name: &str) -> Vec<&'a Child> {
    sas.get(ike)
        .map(|sa| sa.children.iter().filter(|c| c.name == name).collect())
        .unwrap_or_default()
}

/// The step's `list_sas`, parsed (a problem if the section is missing or failed).
fn sas_of(secs: &Sections, step: &str, errs: &mut Vec<String>) -> BTreeMap<String, IkeSa> {
    let name = format!("ike.{step}.list_sas");
    secs.require_ok(&[&name], errs);
    parse_list_sas(secs.body(&name))
}

/// The one INSTALLED CHILD_SA `name` of IKE SA `ike` (ESTABLISHED), else a problem.
fn installed<'a>(
    sas: &'a BTreeMap<String, IkeSa>,
    step: &str,
    ike: &str,
    name: &str,
    errs: &mut Vec<String>,
) -> Option<&'a Child> {
    match sas.get(ike) {
        Some(sa) if sa.state == "ESTABLISHED" => {}
        Some(sa) => {
            errs.push(format!(
                "{step}: IKE SA {ike} is {}, not ESTABLISHED",
                sa.state
            ));
            return None;
        }
        None => {
            errs.push(format!("{step}: no IKE SA {ike} in swanctl --list-sas"));
            return None;
        }
    }
    let found = child(sas, ike, name);
    match found.as_slice() {
        [c] if c.state == "INSTALLED" && !c.spi_in.is_empty() && !c.spi_out.is_empty() => Some(c),
        _ => {
            errs.push(format!(
                "{step}: expected one INSTALLED CHILD_SA {name} with SPIs, found {found:?}"
            ));
            None
        }
    }
}

/// The expected match of each child: vti by mark 11, VyOS's vti1 by if_id 2.
const MATCHES: [(&str, &str, &str); 2] = [
    ("peer-mark", "peer-mark-tunnel", "0x0000000b"),
    ("peer-vyos", "peer-vyos-vti", "-|0x00000002"),
];

fn both_installed(secs: &Sections, step: &str, errs: &mut Vec<String>) -> Vec<(String, String)> {
    let sas = sas_of(secs, step, errs);
    let mut spis = Vec::new();
    for (ike, name, want) in MATCHES {
        if let Some(c) = installed(&sas, step, ike, name, errs) {
            if c.match_in != want || c.match_out != want {
                errs.push(format!(
                    "{step}: {name} in/out match ({}, {}), expected ({want}) both ways",
                    c.match_in, c.match_out
                ));
            }
            spis.push((c.spi_in.clone(), c.spi_out.clone()));
        }
    }
    spis
}

/// Links of the left namespace (`ip -d -j link show`), by name.
fn links(secs: &Sections, name: &str, errs: &mut Vec<String>) -> BTreeMap<String, Value> {
    let Some(s) = secs.need(name, errs) else {
        return BTreeMap::new();
    };
    match serde_json::from_str::<Value>(&s.body) {
        Ok(Value::Array(a)) => a
            .into_iter()
            .filter_map(|l| Some((l["ifname"].as_str()?.to_string(), l)))
            .collect(),
        _ => {
            errs.push(format!("{name} is not `ip -j link` JSON:\n{}", s.body));
            BTreeMap::new()
        }
    }
}

fn admin_up(link: &Value) -> bool {
    link["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == "UP"))
}

/// Each (interface, up?) of `want` as the section shows it.
fn expect_links(secs: &Sections, section: &str, want: &[(&str, bool)], errs: &mut Vec<String>) {
    let l = links(secs, section, errs);
    for (name, up) in want {
        match l.get(*name) {
            None => errs.push(format!("{section}: no interface {name}")),
            Some(link) if admin_up(link) != *up => errs.push(format!(
                "{section}: {name} is {} (flags {}), expected {}",
                if admin_up(link) { "up" } else { "down" },
                link["flags"],
                if *up { "up" } else { "down" }
            )),
            Some(_) => {}
        }
    }
}

fn expect_in(secs: &Sections, section: &str, needles: &[&str], errs: &mut Vec<String>) {
    let Some(s) = secs.need(section, errs) else {
        return;
    };
    for n in needles {
        if !s.body.contains(n) {
            errs.push(format!("{section} lacks {n:?}:\n{}", s.body));
        }
    }
}

/// The hook's calls of a section: (verb, interface) in order.
fn hook_calls(secs: &Sections, section: &str, errs: &mut Vec<String>) -> Vec<(String, String)> {
    let Some(s) = secs.need(section, errs) else {
        return Vec::new();
    };
    s.body
        .lines()
        .filter_map(|l| {
            // "<uptime> <verb> <child> <ifname>", or "<uptime> FAILED ip link set …"
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() != 4 || w[1] == "FAILED" {
                errs.push(format!("{section}: hook call failed or malformed: {l}"));
                return None;
            }
            Some((w[1].to_string(), w[3].to_string()))
        })
        .collect()
}

fn expect_hook(secs: &Sections, section: &str, want: &[(&str, &str)], errs: &mut Vec<String>) {
    let got = hook_calls(secs, section, errs);
    let got: Vec<(&str, &str)> = got.iter().map(|(v, i)| (v.as_str(), i.as_str())).collect();
    let mut want_sorted = want.to_vec();
    let mut got_sorted = got.clone();
    // Two children going down together may call the hook in either order; per
    // interface the order must match.
    want_sorted.sort_by_key(|(_, i)| *i);
    got_sorted.sort_by_key(|(_, i)| *i);
    if want_sorted != got_sorted {
        errs.push(format!(
            "{section}: updown hook calls {got:?}, expected {want:?}"
        ));
    }
}

fn pings(secs: &Sections, step: &str, tunnels: &[&str], errs: &mut Vec<String>) {
    for t in tunnels {
        let name = format!("ike.{step}.ping.{t}");
        if let Some(s) = secs.need(&name, errs) {
            if s.rc != 0 || !s.body.contains("3 received") {
                errs.push(format!("{name}: ping through {t} failed:\n{}", s.body));
            }
        }
    }
}

fn baseline(secs: &Sections, errs: &mut Vec<String>) {
    for (_, child, _) in MATCHES {
        let s = format!("ike.baseline.initiate.{child}");
        secs.require_ok(&[&s], errs);
        expect_in(secs, &s, &[&format!("CHILD_SA {child}{{")], errs);
    }
    both_installed(secs, "baseline", errs);
    let l = links(secs, "ike.baseline.links", errs);
    let kind = |n: &str| l.get(n).map(|l| l["linkinfo"].clone()).unwrap_or_default();
    let classic = kind("classic1");
    if classic["info_kind"] != "vti"
        || classic["info_data"]["ikey"] != "0.0.0.11"
        || classic["info_data"]["okey"] != "0.0.0.11"
    {
        errs.push(format!("classic1 is not a vti with key 11: {classic}"));
    }
    let vyos = kind("vti1");
    if vyos["info_kind"] != "xfrm" || vyos["info_data"]["if_id"] != "0x2" {
        errs.push(format!(
            "vti1 is not an xfrm interface with if_id 2: {vyos}"
        ));
    }
    expect_links(
        secs,
        "ike.baseline.links",
        &[("classic1", true), ("vti1", true)],
        errs,
    );
    expect_hook(
        secs,
        "ike.baseline.updown",
        &[("up-client", "classic1"), ("up-client", "vti1")],
        errs,
    );
    pings(secs, "baseline", &["classic1", "vti1"], errs);
}

fn rekey(secs: &Sections, errs: &mut Vec<String>) {
    let before = both_installed(secs, "baseline", &mut Vec::new());
    secs.require_ok(
        &[
            "ike.rekey.rekey.peer-mark-tunnel",
            "ike.rekey.rekey.peer-vyos-vti",
            "ike.rekey.wait",
        ],
        errs,
    );
    let after = both_installed(secs, "rekey", errs);
    if before.len() == 2 && after.len() == 2 {
        for (i, (_, child, _)) in MATCHES.iter().enumerate() {
            let (b, a) = (&before[i], &after[i]);
            if a.0 == b.0 || a.1 == b.1 {
                errs.push(format!(
                    "rekey: {child} SPIs in/out {a:?} not all new (before {b:?})"
                ));
            }
            expect_in(
                secs,
                "ike.rekey.log",
                &[
                    &format!("closing CHILD_SA {child}{{"),
                    &format!("CHILD_SA {child}{{"),
                    &format!("SPIs {}_i {}_o", a.0, a.1),
                ],
                errs,
            );
        }
    } else {
        errs.push("rekey: SPIs before/after not both known".into());
    }
    expect_hook(secs, "ike.rekey.updown", &[], errs);
    expect_links(
        secs,
        "ike.rekey.links",
        &[("classic1", true), ("vti1", true)],
        errs,
    );
    pings(secs, "rekey", &["classic1", "vti1"], errs);
}

fn peer_delete(secs: &Sections, errs: &mut Vec<String>) {
    secs.require_ok(
        &[
            "ike.peer_delete.terminate",
            "ike.peer_delete.wait",
            "ike.peer_delete.reinitiate",
            "ike.peer_delete.wait_up",
        ],
        errs,
    );
    expect_in(
        secs,
        "ike.peer_delete.log",
        &[
            "received DELETE for ESP CHILD_SA",
            "closing CHILD_SA peer-vyos-vti{",
        ],
        errs,
    );
    let sas = sas_of(secs, "peer_delete", errs);
    if sas.get("peer-vyos").map(|s| s.state.as_str()) != Some("ESTABLISHED") {
        errs.push("peer_delete: the peer-vyos IKE SA should have stayed ESTABLISHED".into());
    }
    if !child(&sas, "peer-vyos", "peer-vyos-vti").is_empty() {
        errs.push("peer_delete: CHILD_SA peer-vyos-vti still listed".into());
    }
    installed(&sas, "peer_delete", "peer-mark", "peer-mark-tunnel", errs);
    expect_hook(
        secs,
        "ike.peer_delete.updown",
        &[("down-client", "vti1")],
        errs,
    );
    expect_links(
        secs,
        "ike.peer_delete.links",
        &[("classic1", true), ("vti1", false)],
        errs,
    );
    expect_hook(
        secs,
        "ike.peer_delete.updown_after",
        &[("down-client", "vti1"), ("up-client", "vti1")],
        errs,
    );
    expect_links(secs, "ike.peer_delete.links_after", &[("vti1", true)], errs);
    pings(secs, "peer_delete", &["vti1"], errs);
}

fn dpd(secs: &Sections, errs: &mut Vec<String>) {
    secs.require_ok(&["ike.dpd.kill", "ike.dpd.wait"], errs);
    let log = secs.body("ike.dpd.log");
    for ike in ["peer-mark", "peer-vyos"] {
        for what in ["sending DPD request", "giving up after 2 retransmits"] {
            if !log
                .lines()
                .any(|l| l.contains(&format!("<{ike}|")) && l.contains(what))
            {
                errs.push(format!(
                    "dpd: the left's log has no {what:?} for {ike}:\n{log}"
                ));
            }
        }
    }
    let sas = sas_of(secs, "dpd", errs);
    if !sas.is_empty() {
        errs.push(format!(
            "dpd: IKE SAs left after the DPD timeout: {:?}",
            sas.keys()
        ));
    }
    expect_hook(
        secs,
        "ike.dpd.updown",
        &[("down-client", "classic1"), ("down-client", "vti1")],
        errs,
    );
    expect_links(
        secs,
        "ike.dpd.links",
        &[("classic1", false), ("vti1", false)],
        errs,
    );
    secs.require_ok(
        &[
            "ike.dpd.right_restart",
            "ike.dpd.right_load",
            "ike.dpd.reinitiate.peer-mark-tunnel",
            "ike.dpd.reinitiate.peer-vyos-vti",
            "ike.dpd.wait_up",
        ],
        errs,
    );
}

fn restart(secs: &Sections, errs: &mut Vec<String>) {
    secs.require_ok(
        &[
            "ike.restart.before",
            "ike.restart.start",
            "ike.restart.load",
            "ike.restart.initiate.peer-mark-tunnel",
            "ike.restart.initiate.peer-vyos-vti",
            "ike.restart.wait",
        ],
        errs,
    );
    // bg_stop's status: charon exits 0 on SIGTERM, running the down hooks first.
    secs.require_ok(&["ike.restart.stop"], errs);
    expect_links(
        secs,
        "ike.restart.stopped_links",
        &[("classic1", false), ("vti1", false)],
        errs,
    );
    expect_in(
        secs,
        "ike.restart.log",
        &[
            "SIGTERM received, shutting down",
            "Starting IKE charon daemon",
        ],
        errs,
    );
    let before: Vec<(String, String)> = MATCHES
        .iter()
        .filter_map(|(ike, name, _)| {
            let sas = parse_list_sas(secs.body("ike.restart.before"));
            let c = child(&sas, ike, name).first().map(|c| (*c).clone())?;
            Some((c.spi_in, c.spi_out))
        })
        .collect();
    let after = both_installed(secs, "restart", errs);
    if before.len() != 2 {
        errs.push(format!(
            "restart: both children should have been up before the restart:\n{}",
            secs.body("ike.restart.before")
        ));
    } else if before.iter().any(|b| after.contains(b)) {
        errs.push(format!(
            "restart: SPIs after {after:?} repeat ones from before {before:?}"
        ));
    }
    expect_hook(
        secs,
        "ike.restart.updown",
        &[
            ("down-client", "classic1"),
            ("up-client", "classic1"),
            ("down-client", "vti1"),
            ("up-client", "vti1"),
        ],
        errs,
    );
    expect_links(
        secs,
        "ike.restart.links",
        &[("classic1", true), ("vti1", true)],
        errs,
    );
    pings(secs, "restart", &["classic1", "vti1"], errs);
}

/// psk / proposal / unreachable: peer-vyos cannot be established, for the reason in
/// `needles` (the initiate output or the log), and peer-mark is untouched.
fn failed_initiation(
    secs: &Sections,
    step: &str,
    needles: &[&str],
    hook: &[(&str, &str)],
    errs: &mut Vec<String>,
) {
    if step == "psk" {
        secs.require_ok(&["ike.psk.terminate", "ike.psk.wait_down"], errs);
    }
    let init = format!("ike.{step}.initiate");
    if let Some(s) = secs.need(&init, errs) {
        if s.rc == 0 {
            errs.push(format!("{init}: initiation succeeded:\n{}", s.body));
        }
        if !s.body.contains("initiate failed") {
            errs.push(format!(
                "{init}: swanctl did not report the failure:\n{}",
                s.body
            ));
        }
    }
    expect_in(secs, &format!("ike.{step}.log"), needles, errs);
    let sas = sas_of(secs, step, errs);
    if sas.contains_key("peer-vyos") {
        errs.push(format!(
            "{step}: an IKE SA peer-vyos exists: {:?}",
            sas["peer-vyos"]
        ));
    }
    installed(&sas, step, "peer-mark", "peer-mark-tunnel", errs);
    expect_hook(secs, &format!("ike.{step}.updown"), hook, errs);
    expect_links(
        secs,
        &format!("ike.{step}.links"),
        &[("classic1", true), ("vti1", false)],
        errs,
    );
}

/// No section but ike.secrets contains a lab PSK; no log file does either.
fn no_psk(secs: &Sections, errs: &mut Vec<String>) {
    let psks: Vec<String> = secs
        .body("ike.secrets")
        .split_whitespace()
        .map(String::from)
        .collect();
    if psks.len() != 3 {
        errs.push(format!("ike.secrets: expected 3 PSKs, got {psks:?}"));
        return;
    }
    for name in secs.order.iter().filter(|n| *n != "ike.secrets") {
        let body = secs.body(name);
        for p in &psks {
            if body.contains(p.as_str()) {
                errs.push(format!("section {name} contains a PSK"));
            }
        }
    }
    if let Some(s) = secs.need("ike.psk_leak", errs) {
        if !s.body.trim().is_empty() {
            errs.push(format!("log files containing a PSK:\n{}", s.body));
        }
    }
}

/// The last JSON document of a body (ike_dump may print one per poll).
fn last_json(body: &str) -> Option<Value> {
    let starts = std::iter::once(0).chain(body.match_indices("\n{").map(|(i, _)| i + 1));
    let starts: Vec<usize> = starts.collect();
    starts
        .iter()
        .rev()
        .find_map(|&i| serde_json::from_str(&body[i..]).ok())
        .or_else(|| json_in(body))
}

/// What ike_dump's view must show after a step: the live IKE SAs (with their CHILD_SA
/// installed, or without any child), and the last failure reason expected per
/// connection (None: no failure may have been recorded during the step — a rekey is no
/// failure; a connection not named: not checked).
struct DumpStep {
    step: &'static str,
    live: &'static [(&'static str, bool)],
    reasons: &'static [(&'static str, Option<&'static str>)],
}
const BOTH_UP: &[(&str, bool)] = &[("peer-mark", true), ("peer-vyos", true)];
const NO_FAILURE: &[(&str, Option<&str>)] = &[("peer-mark", None), ("peer-vyos", None)];
const DUMP_STEPS: [DumpStep; 8] = [
    DumpStep {
        step: "baseline",
        live: BOTH_UP,
        reasons: NO_FAILURE,
    },
    DumpStep {
        step: "rekey",
        live: BOTH_UP,
        reasons: NO_FAILURE,
    },
    DumpStep {
        step: "peer_delete",
        live: &[("peer-mark", true), ("peer-vyos", false)],
        reasons: &[("peer-mark", None), ("peer-vyos", Some("deletedByPeer"))],
    },
    DumpStep {
        step: "dpd",
        live: &[],
        reasons: &[
            ("peer-mark", Some("dpdTimeout")),
            ("peer-vyos", Some("dpdTimeout")),
        ],
    },
    DumpStep {
        step: "restart",
        live: BOTH_UP,
        reasons: &[],
    },
    DumpStep {
        step: "psk",
        live: &[("peer-mark", true)],
        reasons: &[("peer-mark", None), ("peer-vyos", Some("authFailed"))],
    },
    DumpStep {
        step: "proposal",
        live: &[("peer-mark", true)],
        reasons: &[("peer-mark", None), ("peer-vyos", Some("noProposalChosen"))],
    },
    DumpStep {
        step: "unreachable",
        live: &[("peer-mark", true)],
        reasons: &[("peer-mark", None), ("peer-vyos", Some("peerUnreachable"))],
    },
];

/// The agent's VICI view (`examples/ike_dump --watch`, run through each step), checked
/// only where the guest had the binary (the sections exist): charon available, both
/// connections configured, the live IKE SAs and CHILD_SAs as swanctl lists them (same
/// SPIs, mark 11 / if_id 2), and the last failure reason the step should have left.
fn ike_dump(secs: &Sections, errs: &mut Vec<String>) {
    for DumpStep {
        step,
        live,
        reasons,
    } in DUMP_STEPS
    {
        let name = format!("ike.{step}.ike_dump");
        let Some(s) = secs.get(&name) else { continue };
        secs.require_ok(&[&format!("ike.{step}.ike_dump_sync")], errs);
        let Some(json) = last_json(&s.body) else {
            errs.push(format!("{name}: not JSON (rc {}):\n{}", s.rc, s.body));
            continue;
        };
        let mut problems = Vec::new();
        if s.rc != 0 {
            problems.push(format!("ike_dump exited {}", s.rc));
        }
        if json["available"] != true {
            // Nothing else in the sample to check.
            problems.push(format!(
                "charon not available in the last sample: {}",
                json["unavailable"]
            ));
            errs.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
            continue;
        }
        let conns = json["connections"].as_array().cloned().unwrap_or_default();
        let conn = |n: &str| conns.iter().find(|c| c["name"] == n).cloned();
        for c in ["peer-mark", "peer-vyos"] {
            if conn(c).is_none() {
                problems.push(format!("connection {c} not listed"));
            }
        }
        for (c, want) in reasons {
            let got = conn(c)
                .map(|c| c["last_failure"]["reason"].clone())
                .unwrap_or_default();
            match want {
                None if !got.is_null() => problems.push(format!("{c}: unexpected failure {got}")),
                Some(w) if got != *w => {
                    problems.push(format!("{c}: last failure {got}, expected {w}"))
                }
                _ => {}
            }
        }
        let sas = json["ike_sas"].as_array().cloned().unwrap_or_default();
        let listed = sas_of(secs, step, &mut Vec::new());
        for (ike, child_name, _) in MATCHES {
            let want = live.iter().find(|(i, _)| *i == ike).map(|(_, c)| *c);
            let sa = sas.iter().find(|sa| sa["name"] == ike);
            let (sa, with_child) = match (sa, want) {
                (None, None) => continue,
                (Some(_), None) => {
                    problems.push(format!("IKE SA {ike} listed, expected none"));
                    continue;
                }
                (None, Some(_)) => {
                    problems.push(format!("IKE SA {ike} not listed"));
                    continue;
                }
                (Some(sa), Some(with_child)) => (sa, with_child),
            };
            if sa["state"] != "ESTABLISHED" {
                problems.push(format!("IKE SA {ike} state {}", sa["state"]));
            }
            let children: Vec<Value> = sa["children"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c["name"] == child_name)
                .collect();
            // Beside the INSTALLED row, charon may briefly list a rekeyed or deleted
            // one (REKEYED, DELETED): ike_dump's sample and swanctl's are taken at
            // different moments, so only the INSTALLED row is compared.
            let rows = children
                .iter()
                .filter(|c| c["state"] == "INSTALLED")
                .count();
            if rows > 1 {
                problems.push(format!("{rows} INSTALLED rows of CHILD_SA {child_name}"));
            }
            let installed = children.iter().find(|c| c["state"] == "INSTALLED");
            let ch = match (installed.or(children.first()), with_child) {
                (Some(ch), true) => ch,
                (None, false) => continue,
                (Some(ch), false) => {
                    problems.push(format!("CHILD_SA {child_name} listed, expected none: {ch}"));
                    continue;
                }
                (None, true) => {
                    problems.push(format!("CHILD_SA {child_name} missing"));
                    continue;
                }
            };
            let binding_ok = if ike == "peer-mark" {
                ch["mark_in"]["value"] == 11 && ch["mark_out"]["value"] == 11
            } else {
                ch["if_id_in"] == 2 && ch["if_id_out"] == 2
            };
            if ch["state"] != "INSTALLED" || !binding_ok {
                problems.push(format!("CHILD_SA {child_name} state/binding wrong: {ch}"));
            }
            if let Some(sw) = child(&listed, ike, child_name).first() {
                if ch["spi_in"] != sw.spi_in.as_str() || ch["spi_out"] != sw.spi_out.as_str() {
                    problems.push(format!(
                        "CHILD_SA {child_name} SPIs {}/{} but swanctl lists {}/{}",
                        ch["spi_in"], ch["spi_out"], sw.spi_in, sw.spi_out
                    ));
                }
            }
        }
        errs.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
    }
}

pub fn check(secs: &Sections, _kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    secs.require_ok(
        &[
            "ike.versions",
            "ike.start.left",
            "ike.start.right",
            "ike.load.left",
            "ike.load.right",
        ],
        &mut errs,
    );
    expect_in(secs, "ike.versions", &["strongSwan 5.9"], &mut errs);
    baseline(secs, &mut errs);
    rekey(secs, &mut errs);
    peer_delete(secs, &mut errs);
    dpd(secs, &mut errs);
    restart(secs, &mut errs);
    failed_initiation(
        secs,
        "psk",
        &["received AUTHENTICATION_FAILED notify error"],
        // peer-vyos was terminated at the start of the step.
        &[("down-client", "vti1")],
        &mut errs,
    );
    failed_initiation(
        secs,
        "proposal",
        &["received NO_PROPOSAL_CHOSEN notify error"],
        &[],
        &mut errs,
    );
    failed_initiation(
        secs,
        "unreachable",
        &[
            "error writing to socket: Network is unreachable",
            "giving up after 2 retransmits",
            "establishing IKE_SA failed, peer not responding",
        ],
        &[],
        &mut errs,
    );
    no_psk(secs, &mut errs);
    ike_dump(secs, &mut errs);
    agent(secs, &mut errs);
    errs
}

const ROOT: &str = ".1.3.6.1.4.1.8072.9999.9999.2741";

/// What the agent must serve after a step (through snmpd) and have sent (snmptrapd):
/// per connection, whether its CHILD_SA is up and, for a failed one, the reason
/// (VtiIkeFailReason number) in vtiIkeLastFailReason, in a vtiIkeDown of the step and,
/// as a label, in the diagnosis of its (VyOS hook: admin-down) tunnel, whose vtiIfCause
/// is tunnelDown(16) and which got a vtiTunnelDown.
/// A connection's expected state: (name, CHILD_SA up, failure reason number and label
/// when down).
type ConnWant = (&'static str, bool, Option<(i64, &'static str)>);

struct AgentStep {
    step: &'static str,
    conns: &'static [ConnWant],
    /// No vtiIkeDown / vtiTunnelDown / vtiSaDown during the step (a rekey).
    quiet: bool,
}
const AGENT_STEPS: [AgentStep; 8] = [
    AgentStep {
        step: "baseline",
        conns: &[("peer-mark", true, None), ("peer-vyos", true, None)],
        quiet: false,
    },
    AgentStep {
        step: "rekey",
        conns: &[("peer-mark", true, None), ("peer-vyos", true, None)],
        quiet: true,
    },
    AgentStep {
        step: "peer_delete",
        conns: &[
            ("peer-mark", true, None),
            ("peer-vyos", false, Some((7, "deletedByPeer"))),
        ],
        quiet: false,
    },
    AgentStep {
        step: "dpd",
        conns: &[
            ("peer-mark", false, Some((6, "dpdTimeout"))),
            ("peer-vyos", false, Some((6, "dpdTimeout"))),
        ],
        quiet: false,
    },
    AgentStep {
        step: "restart",
        conns: &[("peer-mark", true, None), ("peer-vyos", true, None)],
        quiet: false,
    },
    AgentStep {
        step: "psk",
        conns: &[
            ("peer-mark", true, None),
            ("peer-vyos", false, Some((2, "authFailed"))),
        ],
        quiet: false,
    },
    AgentStep {
        step: "proposal",
        conns: &[
            ("peer-mark", true, None),
            ("peer-vyos", false, Some((3, "noProposalChosen"))),
        ],
        quiet: false,
    },
    AgentStep {
        step: "unreachable",
        conns: &[
            ("peer-mark", true, None),
            ("peer-vyos", false, Some((5, "peerUnreachable"))),
        ],
        quiet: false,
    },
];

/// The tunnel each connection drives.
fn tunnel_of(conn: &str) -> &'static str {
    if conn == "peer-mark" {
        "classic1"
    } else {
        "vti1"
    }
}

/// vtiIkeTable rows of a walk: row index → column → value.
fn ike_rows(body: &str) -> BTreeMap<u32, BTreeMap<u32, Snmp>> {
    let prefix = crate::common::oid(&format!("{ROOT}.1.7.1")).unwrap_or_default();
    let mut rows: BTreeMap<u32, BTreeMap<u32, Snmp>> = BTreeMap::new();
    for (oid, v) in parse_walk(body) {
        if let Some([col, idx]) = oid.strip_prefix(prefix.as_slice()) {
            rows.entry(*idx).or_default().insert(*col, v);
        }
    }
    rows
}

fn text(v: Option<&Snmp>) -> String {
    match v {
        Some(Snmp::Str(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

fn num(v: Option<&Snmp>) -> i128 {
    v.and_then(Snmp::num).unwrap_or(-999)
}

/// The value of the varbind whose OID is `oid`.
fn vb<'a>(t: &'a Trap, oid: &str) -> Option<&'a str> {
    t.varbinds
        .iter()
        .find(|v| v.oid == oid)
        .map(|v| v.value.as_str())
}

/// The agent's view, step by step (only when the part ran the agent: ike.agent.up).
fn agent(secs: &Sections, errs: &mut Vec<String>) {
    if secs.get("ike.agent.up").is_none() {
        errs.push("ike: the agent did not run (no ike.agent.up)".into());
        return;
    }
    secs.require_ok(
        &[
            "ike.agent.up",
            "ike.agent.ike_available",
            "ike.restart.agent_unavailable",
            "ike.restart.agent_available",
        ],
        errs,
    );
    expect_in(
        secs,
        "ike.restart.agent_unavailable_why",
        &["INTEGER: 2"],
        errs,
    );
    // Least privilege: the socket is group nogroup's, mode 0770; the agent runs as nobody.
    expect_in(
        secs,
        "ike.agent.socket",
        &["srwxrwx---", "root", "nogroup"],
        errs,
    );
    let ifindex: BTreeMap<String, u32> = {
        let words: Vec<&str> = secs.body("ike.agent.ifindex").split_whitespace().collect();
        words
            .chunks(2)
            .filter_map(|w| Some((w.first()?.to_string(), w.get(1)?.parse().ok()?)))
            .collect()
    };
    let all_traps = traps(secs.body("ike.traps")).unwrap_or_else(|e| {
        errs.push(format!("ike.traps: {e}"));
        Vec::new()
    });
    if all_traps.is_empty() {
        errs.push("ike.traps: no notification received".into());
    }
    let mut spi_before: BTreeMap<String, u64> = BTreeMap::new();
    for AgentStep { step, conns, quiet } in AGENT_STEPS {
        let mut problems = Vec::new();
        secs.require_ok(
            &[
                &format!("ike.{step}.agent_polls"),
                &format!("ike.{step}.walk_ike"),
                &format!("ike.{step}.walk_if"),
                &format!("ike.{step}.show"),
            ],
            errs,
        );
        if !secs
            .body(&format!("ike.{step}.walk_global"))
            .contains(&format!("{ROOT}.1.1.9.0 = INTEGER: 1"))
        {
            problems.push("vtiIkeAvailable is not true(1)".to_string());
        }
        let rows = ike_rows(secs.body(&format!("ike.{step}.walk_ike")));
        let row_of = |conn: &str| {
            rows.iter()
                .find(|(_, r)| text(r.get(&2)) == conn)
                .map(|(i, r)| (*i, r))
        };
        let listed = sas_of(secs, step, &mut Vec::new());
        let cells: BTreeMap<Vec<u32>, Snmp> = parse_walk(secs.body(&format!("ike.{step}.walk_if")))
            .into_iter()
            .collect();
        let if_cell = |col: u32, idx: u32| {
            let mut o = crate::common::oid(&format!("{ROOT}.1.3.1")).unwrap_or_default();
            o.extend([col, idx]);
            cells.get(&o).cloned()
        };
        let step_traps = traps(secs.body(&format!("ike.{step}.traps"))).unwrap_or_default();
        let of_kind = |n: u32| -> Vec<&Trap> {
            let oid = format!("{ROOT}.0.{n}");
            step_traps.iter().filter(|t| t.oid == oid).collect()
        };
        if quiet {
            for (n, what) in [(3, "vtiSaDown"), (6, "vtiIkeDown"), (8, "vtiTunnelDown")] {
                if !of_kind(n).is_empty() {
                    problems.push(format!("{what} sent during a normal rekey"));
                }
            }
        }
        for (conn, up, failure) in conns {
            let Some((idx, row)) = row_of(conn) else {
                problems.push(format!("no vtiIkeTable row for {conn}"));
                continue;
            };
            let tunnel = tunnel_of(conn);
            let Some(&tidx) = ifindex.get(tunnel) else {
                problems.push(format!("no ifindex of {tunnel}"));
                continue;
            };
            // The join: vtiIkeIfIndex is the tunnel (mark 11 / if_id 2).
            if num(row.get(&24)) != i128::from(tidx) {
                problems.push(format!(
                    "{conn}: vtiIkeIfIndex {:?}, expected {tunnel} ({tidx})",
                    row.get(&24)
                ));
            }
            let child_state = num(row.get(&5));
            let sw_child = child(
                &listed,
                conn,
                if *conn == "peer-mark" {
                    "peer-mark-tunnel"
                } else {
                    "peer-vyos-vti"
                },
            )
            .into_iter()
            .find(|c| c.state == "INSTALLED")
            .cloned();
            if *up {
                if child_state != 5 || num(row.get(&4)) != 4 {
                    problems.push(format!(
                        "{conn}: IKE/CHILD state {:?}/{:?}, expected established(4)/installed(5)",
                        row.get(&4),
                        row.get(&5)
                    ));
                }
                // Same outbound SPI as swanctl lists (after a rekey: the new one).
                let spi = num(row.get(&19));
                match &sw_child {
                    Some(c) if i128::from(crate::common::hex(&c.spi_out)) == spi => {}
                    Some(c) => problems.push(format!(
                        "{conn}: vtiIkeSpiOut {spi:x}, swanctl lists {}",
                        c.spi_out
                    )),
                    None => problems.push(format!("{conn}: swanctl lists no INSTALLED child")),
                }
                if step == "rekey" && spi_before.get(*conn).is_some_and(|b| i128::from(*b) == spi) {
                    problems.push(format!("{conn}: vtiIkeSpiOut did not move to the new SA"));
                }
                if step == "baseline" || step == "rekey" {
                    spi_before.insert(conn.to_string(), u64::try_from(spi).unwrap_or(0));
                }
                if num(if_cell(45, tidx).as_ref()) != 1 {
                    problems.push(format!(
                        "{tunnel}: vtiIfAdminStatus {:?}, expected up(1)",
                        if_cell(45, tidx)
                    ));
                }
                if num(if_cell(32, tidx).as_ref()) == 16 {
                    problems.push(format!("{tunnel}: vtiIfCause tunnelDown while up"));
                }
                continue;
            }
            if child_state == 5 {
                problems.push(format!("{conn}: CHILD_SA installed(5), expected down"));
            }
            if sw_child.is_some() {
                problems.push(format!("{conn}: swanctl still lists an INSTALLED child"));
            }
            let Some((reason, label)) = failure else {
                continue;
            };
            if num(row.get(&25)) != i128::from(*reason) {
                problems.push(format!(
                    "{conn}: vtiIkeLastFailReason {:?} ({}), expected {reason} ({label})",
                    row.get(&25),
                    text(row.get(&26))
                ));
            }
            if text(row.get(&26)).is_empty() || num(row.get(&27)) <= 0 {
                problems.push(format!(
                    "{conn}: no failure text/time: {:?} {:?}",
                    row.get(&26),
                    row.get(&27)
                ));
            }
            // The VyOS layout: the hook downed the tunnel; the agent says so, and why.
            if num(if_cell(45, tidx).as_ref()) != 2 || num(if_cell(32, tidx).as_ref()) != 16 {
                problems.push(format!("{tunnel}: vtiIfAdminStatus {:?} vtiIfCause {:?}, expected down(2) tunnelDown(16)", if_cell(45, tidx), if_cell(32, tidx)));
            }
            let diagnosis = text(if_cell(33, tidx).as_ref());
            if !diagnosis.contains(label) || !diagnosis.contains("administratively down") {
                problems.push(format!(
                    "{tunnel}: vtiIfDiagnosis {diagnosis:?} does not say admin down and {label}"
                ));
            }
            if num(if_cell(51, tidx).as_ref()) != i128::from(*reason) {
                problems.push(format!(
                    "{tunnel}: vtiIfIkeLastFailReason {:?}, expected {reason}",
                    if_cell(51, tidx)
                ));
            }
            // vtiIkeDown of this row with the reason, during the step.
            let conn_oid = format!("{ROOT}.1.7.1.2.{idx}");
            let reason_oid = format!("{ROOT}.1.7.1.25.{idx}");
            let downs: Vec<&Trap> = of_kind(6)
                .into_iter()
                .filter(|t| vb(t, &conn_oid) == Some(conn))
                .collect();
            if !downs
                .iter()
                .any(|t| vb(t, &reason_oid) == Some(&reason.to_string()))
            {
                problems.push(format!(
                    "{conn}: no vtiIkeDown with reason {reason} ({label}); got {:?}",
                    downs.iter().map(|t| vb(t, &reason_oid)).collect::<Vec<_>>()
                ));
            }
            // psk starts with a local terminate of peer-vyos: a vtiIkeDown for it (sent
            // only when a poll saw it before the auth failure) says deletedLocally (8),
            // never other (10).
            if step == "psk" {
                let reasons: Vec<_> = downs.iter().map(|t| vb(t, &reason_oid)).collect();
                if reasons.contains(&Some("10")) {
                    problems.push(format!(
                        "{conn}: vtiIkeDown reasons {reasons:?}, none may be other (10)"
                    ));
                }
            }
            // vtiTunnelDown of the tunnel in the steps where the hook downed it (in psk
            // the terminate at its start; in proposal and unreachable it stays down).
            let name_oid = format!("{ROOT}.1.3.1.2.{tidx}");
            let went_down = matches!(step, "peer_delete" | "dpd" | "psk");
            if went_down && !of_kind(8).iter().any(|t| vb(t, &name_oid) == Some(tunnel)) {
                problems.push(format!("{tunnel}: no vtiTunnelDown during the step"));
            }
        }
        // show --json: the same states. The one-shot show has no event history: its
        // failure reasons come from the running agent's state file (checked in psk),
        // and a child that is down cannot be joined (charon's list-conns does not
        // report a child config's if_id/mark; the running agent remembers them from
        // when the child was up).
        match json_in(secs.body(&format!("ike.{step}.show"))) {
            Some(show) => {
                if show["ike"]["available"] != true {
                    problems.push(format!("show: IKE not available: {}", show["ike"]));
                }
                for (conn, up, want) in conns {
                    let row = show["ike"]["rows"]
                        .as_array()
                        .and_then(|r| r.iter().find(|r| r["conn"] == *conn).cloned());
                    let state = row
                        .as_ref()
                        .map(|r| r["child_state"].clone())
                        .unwrap_or_default();
                    if (state == "installed") != *up {
                        problems.push(format!("show: {conn} child_state {state}"));
                    }
                    let tunnel = tunnel_of(conn);
                    let t = show["tunnels"]
                        .as_array()
                        .and_then(|ts| ts.iter().find(|t| t["tunnel"]["name"] == tunnel).cloned())
                        .unwrap_or_default();
                    if *up && t["ike"]["conn"] != *conn {
                        problems.push(format!("show: {tunnel} not joined to {conn}: {}", t["ike"]));
                    }
                    if !up && t["diagnosis"]["cause"] != "tunnelDown" {
                        problems.push(format!("show: {tunnel} cause {}", t["diagnosis"]["cause"]));
                    }
                    // The reason comes from the running agent's state file.
                    if let (true, Some((_, reason))) = (step == "psk", want) {
                        let got = row
                            .as_ref()
                            .map(|r| r["last_failure"]["reason"].clone())
                            .unwrap_or_default();
                        let from_agent = show["ikeFailuresFromAgent"]["connections"]
                            .as_array()
                            .is_some_and(|c| c.iter().any(|c| c == *conn));
                        if got != *reason || !from_agent {
                            problems.push(format!(
                                "show: {conn} last failure {got} (want {reason}), from the \
                                 agent: {from_agent}"
                            ));
                        }
                    }
                }
            }
            None => problems.push("show: no JSON".into()),
        }
        errs.extend(
            problems
                .into_iter()
                .map(|p| format!("ike.{step} (agent): {p}")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// swanctl 5.9.8's output in the lab (baseline step, trimmed).
    const LIST_SAS: &str = "\
peer-vyos: #2, ESTABLISHED, IKEv2, db93b37e254a5169_i* 7f155f67614b207f_r
  local  '192.0.2.3' @ 192.0.2.3[4500]
  remote '192.0.2.4' @ 192.0.2.4[4500]
  AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519
  established 2s ago, rekeying in 13689s
  peer-vyos-vti: #2, reqid 2, INSTALLED, TUNNEL, ESP:AES_CBC-128/HMAC_SHA2_256_128
    installed 2s ago, rekeying in 3321s, expires in 3958s
    in  cb6b0e40 (-|0x00000002),    252 bytes,     3 packets,     1s ago
    out c1904b71 (-|0x00000002),    252 bytes,     3 packets,     1s ago
    local  0.0.0.0/0
    remote 0.0.0.0/0
peer-mark: #1, CONNECTING, IKEv2, 6ce72816a4e95f1f_i* 0000000000000000_r
  local  '192.0.2.1' @ 192.0.2.1[500]
  remote '192.0.2.2' @ 192.0.2.2[500]
  peer-mark-tunnel: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_CBC-128/HMAC_SHA2_256_128
    in  c9e0fb07 (0x0000000b),    252 bytes,     3 packets,     1s ago
    out cb70411b (0x0000000b),    252 bytes,     3 packets,     1s ago
";

    #[test]
    fn list_sas_parser() {
        let sas = parse_list_sas(LIST_SAS);
        assert_eq!(sas.len(), 2);
        assert_eq!(sas["peer-vyos"].state, "ESTABLISHED");
        let c = &sas["peer-vyos"].children[0];
        assert_eq!(
            (c.name.as_str(), c.state.as_str()),
            ("peer-vyos-vti", "INSTALLED")
        );
        assert_eq!(
            (c.spi_in.as_str(), c.spi_out.as_str()),
            ("cb6b0e40", "c1904b71")
        );
        assert_eq!(
            (c.match_in.as_str(), c.match_out.as_str()),
            ("-|0x00000002", "-|0x00000002")
        );
        assert_eq!(sas["peer-mark"].children[0].match_in, "0x0000000b");
        let mut errs = Vec::new();
        assert!(installed(&sas, "t", "peer-vyos", "peer-vyos-vti", &mut errs).is_some());
        assert!(installed(&sas, "t", "peer-mark", "peer-mark-tunnel", &mut errs).is_none());
        assert!(installed(&sas, "t", "peer-x", "peer-vyos-vti", &mut errs).is_none());
        assert_eq!(errs.len(), 2, "{errs:?}");
    }
}
