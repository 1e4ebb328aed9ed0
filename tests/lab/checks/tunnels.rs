//! Part "tunnels" (scenarios/tunnels.sh), the smoke test: the standard topology exists
//! as built, each tunnel carries pings without a TX error, the left namespace holds its
//! 12 SAs and 12 policies, xfrm_stat is all zero, the agent binary and the guest tools
//! run, nobody with CAP_NET_ADMIN can dump SAs, and snmpd runs as AgentX master with
//! IF-MIB listing the tunnels.

use crate::common::{parse_ip_sas, Sections};

/// The six tunnels of the standard topology (guest/lib.sh `std_topology`) as seen from
/// the left namespace: name, kind, local, remote, key (vti/vti6) or if_id (xfrm).
pub const TUNNELS: [(&str, &str, &str, &str, u32); 6] = [
    ("vti1", "vti", "192.0.2.1", "192.0.2.2", 11),
    ("vti2", "vti", "192.0.2.3", "192.0.2.4", 12),
    ("vti61", "vti6", "2001:db8::1", "2001:db8::2", 21),
    ("vti62", "vti6", "2001:db8::3", "2001:db8::4", 22),
    ("xfrm1", "xfrm", "192.0.2.5", "192.0.2.6", 31),
    ("xfrm2", "xfrm", "2001:db8::5", "2001:db8::6", 32),
];
const PINGS: u64 = 3;

pub fn check(secs: &Sections, _kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(s) = secs.need("tunnels.agent_version", &mut errs) {
        if !s.body.contains("vti-agentx") {
            errs.push(format!(
                "agent binary did not run in the guest:\n{}",
                s.body
            ));
        }
    }
    if let Some(s) = secs.need("tunnels.tools", &mut errs) {
        // net-snmp runs; setpriv drops to nobody (the agent will run unprivileged).
        if s.rc != 0 || !s.body.contains("NET-SNMP version") || !s.body.contains("65534") {
            errs.push(format!("guest tools broken (rc {}):\n{}", s.rc, s.body));
        }
    }
    if let Some(s) = secs.need("tunnels.nobody_xfrm", &mut errs) {
        if s.rc != 0 || !s.body.contains("SAD count 12") {
            errs.push(format!(
                "nobody with CAP_NET_ADMIN cannot dump SAs:\n{}",
                s.body
            ));
        }
    }
    if let Some(s) = secs.need("tunnels.snmpd_start", &mut errs) {
        if s.rc != 0 || !s.body.contains("agentx socket /var/agentx/master") {
            errs.push(format!("snmpd did not start as AgentX master:\n{}", s.body));
        }
    }
    if let Some(s) = secs.need("tunnels.snmp_ifName", &mut errs) {
        for (name, ..) in TUNNELS {
            if !s.body.contains(&format!("STRING: \"{name}\"")) {
                errs.push(format!("snmpd IF-MIB ifName lacks {name}:\n{}", s.body));
            }
        }
    }
    for (name, ..) in TUNNELS {
        if let Some(s) = secs.need(&format!("tunnels.ping.{name}"), &mut errs) {
            if s.rc != 0 || !s.body.contains(&format!("{PINGS} received")) {
                errs.push(format!(
                    "ping through {name} failed (rc {}):\n{}",
                    s.rc, s.body
                ));
            }
        }
    }

    // Links: six tunnels of the right kinds and parameters, traffic counted, no error.
    if let Some(s) = secs.need("tunnels.left.links", &mut errs) {
        match serde_json::from_str::<serde_json::Value>(&s.body) {
            Err(e) => errs.push(format!("tunnels.left.links is not JSON ({e}):\n{}", s.body)),
            Ok(links) => {
                let links = links.as_array().cloned().unwrap_or_default();
                for (name, kind, local, remote, id) in TUNNELS {
                    let Some(l) = links.iter().find(|l| l["ifname"] == name) else {
                        errs.push(format!("tunnel {name} not found in `ip -j link` output"));
                        continue;
                    };
                    let info = &l["linkinfo"];
                    if info["info_kind"] != kind {
                        errs.push(format!("{name}: kind {} != {kind}", info["info_kind"]));
                    }
                    let data = &info["info_data"];
                    if kind == "xfrm" {
                        if data["if_id"] != format!("{id:#x}") {
                            errs.push(format!("{name}: if_id {} != {id:#x}", data["if_id"]));
                        }
                    } else {
                        let key = format!("0.0.0.{id}");
                        for (field, want) in [
                            ("local", local),
                            ("remote", remote),
                            ("ikey", &key),
                            ("okey", &key),
                        ] {
                            if data[field] != want {
                                errs.push(format!("{name}: {field} {} != {want}", data[field]));
                            }
                        }
                    }
                    let tx = &l["stats64"]["tx"];
                    let rx = &l["stats64"]["rx"];
                    if tx["packets"].as_u64().unwrap_or(0) < PINGS {
                        errs.push(format!("{name}: tx_packets {} < {PINGS}", tx["packets"]));
                    }
                    if rx["packets"].as_u64().unwrap_or(0) < PINGS {
                        errs.push(format!("{name}: rx_packets {} < {PINGS}", rx["packets"]));
                    }
                    for c in [
                        "errors",
                        "dropped",
                        "carrier_errors",
                        "collisions",
                        "aborted_errors",
                    ] {
                        if tx[c].as_u64() != Some(0) {
                            errs.push(format!("{name}: tx {c} = {} on a healthy tunnel", tx[c]));
                        }
                    }
                }
                let tunnels = links
                    .iter()
                    .filter(|l| {
                        let k = &l["linkinfo"]["info_kind"];
                        (k == "vti" || k == "vti6" || k == "xfrm")
                            && l["flags"]
                                .as_array()
                                .is_some_and(|f| f.iter().any(|f| f == "UP"))
                    })
                    .count();
                if tunnels != TUNNELS.len() {
                    errs.push(format!(
                        "{tunnels} tunnel interfaces up, expected {}",
                        TUNNELS.len()
                    ));
                }
            }
        }
    }

    // SAs: two per tunnel (SPI 0x10NN out, 0x20NN in), each used by the pings.
    if let Some(s) = secs.need("tunnels.left.xfrm_state", &mut errs) {
        if s.body.trim_start().starts_with('[') {
            let n = serde_json::from_str::<serde_json::Value>(&s.body)
                .ok()
                .and_then(|v| v.as_array().map(Vec::len));
            if n != Some(2 * TUNNELS.len()) {
                errs.push(format!("xfrm state JSON lists {n:?} SAs, expected 12"));
            }
        } else {
            let sas = parse_ip_sas(&s.body);
            if sas.len() != 2 * TUNNELS.len() {
                errs.push(format!(
                    "{} SAs in the left namespace, expected 12",
                    sas.len()
                ));
            }
            for (name, .., id) in TUNNELS {
                // lib.sh numbers SPIs 0x10<id> (out) and 0x20<id> (in), id in decimal.
                let spis =
                    ["10", "20"].map(|p| u32::from_str_radix(&format!("{p}{id}"), 16).unwrap());
                for spi in spis {
                    match sas.iter().find(|sa| sa.spi == spi) {
                        None => errs.push(format!("{name}: SA spi {spi:#x} missing")),
                        Some(sa) if sa.cur_packets < PINGS => errs.push(format!(
                            "{name}: SA spi {spi:#x} carried {} packets, expected >= {PINGS}",
                            sa.cur_packets
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    if let Some(s) = secs.need("tunnels.left.xfrm_policy", &mut errs) {
        for dir in ["out", "in"] {
            let n = s.body.matches(&format!("\tdir {dir} ")).count();
            if n != TUNNELS.len() {
                errs.push(format!(
                    "{n} `dir {dir}` policies, expected {}",
                    TUNNELS.len()
                ));
            }
        }
    }
    // xfrm_stat: present, and nothing failed on a healthy setup.
    if let Some(s) = secs.need("tunnels.left.xfrm_stat", &mut errs) {
        let counters: Vec<(&str, u64)> = s
            .body
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                Some((it.next()?, it.next()?.parse().ok()?))
            })
            .collect();
        if !counters.iter().any(|(n, _)| *n == "XfrmOutNoStates") {
            errs.push(format!(
                "tunnels.left.xfrm_stat lacks XfrmOutNoStates:\n{}",
                s.body
            ));
        }
        for (n, v) in counters {
            if v != 0 {
                errs.push(format!("xfrm_stat {n} = {v} on a healthy setup"));
            }
        }
    }
    errs
}
