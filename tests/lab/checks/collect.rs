//! Part "collect" (scenarios/collect.sh): the netlink collector against iproute2. The
//! guest runs the `collect_once` example (one NetlinkCollector poll, the Sample as JSON)
//! on the standard topology plus faults that move the error counters,
//! ESN/AEAD/if_id/output-mark/limit SAs, a larval ACQUIRE SA, block and multi-template
//! policies, and this compares every field of the collector's JSON with iproute2's view
//! taken right before and right after it (`ip -s -s -d -j link`, `ip -s xfrm state`,
//! `ip xfrm policy`, /proc/net/xfrm_stat): counters must lie between the two, everything
//! else must be equal. Also: no key material in the output, and the degraded run as
//! nobody without capabilities (links as root saw them, SAs and policies unavailable,
//! exactly one warning in three polls).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use serde_json::Value;

use crate::common::{hex, json_in, left_local, mark_pair, parse_ip_sas, IpSa, Sections};

// ---- `ip xfrm policy` text ----------------------------------------------------------------

#[derive(Debug, Default, Clone, PartialEq)]
struct IpTmpl {
    src: Option<String>,
    dst: Option<String>,
    proto: String,
    reqid: u32,
    mode: String,
    spi: u32,
}

#[derive(Debug, Default, Clone)]
struct IpPolicy {
    sel_src: String,
    sel_dst: String,
    dir: String,
    action: String,
    priority: u32,
    mark: Option<(u32, u32)>,
    if_id: Option<u32>,
    tmpls: Vec<IpTmpl>,
}

fn unspec(a: &str) -> Option<String> {
    (a != "0.0.0.0" && a != "::").then(|| a.to_string())
}

fn parse_ip_policies(text: &str) -> Vec<IpPolicy> {
    let mut out: Vec<IpPolicy> = Vec::new();
    for raw in text.lines() {
        let w: Vec<&str> = raw.split_whitespace().collect();
        if w.is_empty() {
            continue;
        }
        if !raw.starts_with('\t') && w[0] == "src" {
            out.push(IpPolicy {
                sel_src: w[1].into(),
                sel_dst: w[3].into(),
                action: "allow".into(),
                ..IpPolicy::default()
            });
            continue;
        }
        let Some(p) = out.last_mut() else { continue };
        match w[0] {
            "dir" => {
                p.dir = w[1].into();
                let mut i = 2;
                while i + 1 < w.len() {
                    match w[i] {
                        "action" => p.action = w[i + 1].into(),
                        "priority" => p.priority = w[i + 1].parse().unwrap(),
                        _ => {}
                    }
                    i += 2;
                }
            }
            "mark" => p.mark = Some(mark_pair(w[1])),
            "if_id" => p.if_id = Some(hex(w[1]) as u32),
            "tmpl" => p.tmpls.push(IpTmpl {
                src: unspec(w[2]),
                dst: unspec(w[4]),
                ..IpTmpl::default()
            }),
            "proto" => {
                let t = p.tmpls.last_mut().expect("proto line after tmpl");
                t.proto = w[1].into();
                let mut i = 2;
                while i + 1 < w.len() {
                    match w[i] {
                        "spi" => t.spi = hex(w[i + 1]) as u32,
                        "reqid" => t.reqid = w[i + 1].parse().unwrap(),
                        "mode" => t.mode = w[i + 1].into(),
                        _ => {}
                    }
                    i += 2;
                }
            }
            _ => {}
        }
    }
    out
}

// ---- comparison ---------------------------------------------------------------------------

fn proto_name(n: u64) -> &'static str {
    match n {
        50 => "esp",
        51 => "ah",
        108 => "comp",
        _ => "?",
    }
}

fn mode_name(n: u64) -> &'static str {
    match n {
        0 => "transport",
        1 => "tunnel",
        2 => "ro",
        3 => "in_trigger",
        4 => "beet",
        _ => "?",
    }
}

fn pair(v: &Value) -> Option<(u32, u32)> {
    let a = v.as_array()?;
    Some((a.first()?.as_u64()? as u32, a.get(1)?.as_u64()? as u32))
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

struct Ctx<'a> {
    errs: &'a mut Vec<String>,
}

impl Ctx<'_> {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, ours: T, theirs: T) {
        if ours != theirs {
            self.errs
                .push(format!("{what}: collector {ours:?} != iproute2 {theirs:?}"));
        }
    }
    fn within(&mut self, what: &str, ours: u64, before: u64, after: u64) {
        if ours < before || ours > after {
            self.errs.push(format!(
                "{what}: collector {ours} not within iproute2 before {before} .. after {after}"
            ));
        }
    }
}

fn check_tunnels(c: &mut Ctx, ours: &Value, before: &Value, after: &Value) {
    let ifname_index: HashMap<&str, u64> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["ifname"].as_str().unwrap(),
                l["ifindex"].as_u64().unwrap(),
            )
        })
        .collect();
    // The kernel's catch-all devices ip_vti0 / ip6_vti0 are not tunnels
    // anyone configured; the collector leaves them out.
    let is_tunnel = |l: &&Value| {
        matches!(
            l["linkinfo"]["info_kind"].as_str(),
            Some("vti" | "vti6" | "xfrm")
        ) && !matches!(l["ifname"].as_str(), Some("ip_vti0" | "ip6_vti0"))
    };
    let theirs: Vec<&Value> = before
        .as_array()
        .unwrap()
        .iter()
        .filter(is_tunnel)
        .collect();
    let ours = ours.as_array().unwrap();
    c.eq("number of tunnels", ours.len(), theirs.len());
    for l in theirs {
        let name = l["ifname"].as_str().unwrap();
        let Some(t) = ours.iter().find(|t| t["name"] == name) else {
            c.errs
                .push(format!("tunnel {name} missing from the collector's output"));
            continue;
        };
        let a = after
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["ifname"] == name)
            .unwrap();
        let kind = l["linkinfo"]["info_kind"].as_str().unwrap();
        let data = &l["linkinfo"]["info_data"];
        let w = |f: &str| format!("{name}.{f}");
        c.eq(&w("ifindex"), t["ifindex"].as_u64(), l["ifindex"].as_u64());
        c.eq(&w("kind"), t["kind"].as_str(), Some(kind));
        c.eq(&w("mtu"), t["mtu"].as_u64(), l["mtu"].as_u64());
        let oper = match l["operstate"].as_str().unwrap() {
            "LOWERLAYERDOWN" => "lowerLayerDown".to_string(),
            "NOTPRESENT" => "notPresent".to_string(),
            s => s.to_lowercase(),
        };
        c.eq(&w("oper"), t["oper"].as_str(), Some(oper.as_str()));
        // IFLA_LINK (top-level "link", an ifname) equals IFLA_VTI_LINK / IFLA_XFRM_LINK.
        let link = l["link"].as_str().map_or(0, |n| ifname_index[n]);
        c.eq(&w("link"), t["link"].as_u64(), Some(link));
        let addr =
            |v: &Value| -> Option<String> { v.as_str().filter(|s| *s != "any").map(String::from) };
        let key = |v: &Value| -> u64 {
            v.as_str()
                .map_or(0, |s| u32::from(s.parse::<Ipv4Addr>().unwrap()) as u64)
        };
        if kind == "xfrm" {
            c.eq(
                &w("if_id"),
                t["if_id"].as_u64(),
                data["if_id"].as_str().map(hex),
            );
            c.eq(&w("local"), opt_str(&t["local"]), None);
        } else {
            c.eq(&w("local"), opt_str(&t["local"]), addr(&data["local"]));
            c.eq(&w("remote"), opt_str(&t["remote"]), addr(&data["remote"]));
            c.eq(
                &w("ikey"),
                t["ikey"].as_u64().unwrap_or(0),
                key(&data["ikey"]),
            );
            c.eq(
                &w("okey"),
                t["okey"].as_u64().unwrap_or(0),
                key(&data["okey"]),
            );
            c.eq(&w("fwmark"), t["fwmark"].as_u64(), data["fwmark"].as_u64());
        }
        c.eq(
            &w("error_counters_valid"),
            t["error_counters_valid"].as_bool(),
            Some(true),
        );
        for (ours_f, dir, theirs_f) in [
            ("rx_packets", "rx", "packets"),
            ("rx_bytes", "rx", "bytes"),
            ("rx_errors", "rx", "errors"),
            ("rx_dropped", "rx", "dropped"),
            ("tx_packets", "tx", "packets"),
            ("tx_bytes", "tx", "bytes"),
            ("tx_errors", "tx", "errors"),
            ("tx_dropped", "tx", "dropped"),
            ("collisions", "tx", "collisions"),
            ("tx_aborted_errors", "tx", "aborted_errors"),
            ("tx_carrier_errors", "tx", "carrier_errors"),
        ] {
            c.within(
                &w(ours_f),
                t["stats"][ours_f].as_u64().unwrap(),
                l["stats64"][dir][theirs_f].as_u64().unwrap(),
                a["stats64"][dir][theirs_f].as_u64().unwrap(),
            );
        }
    }
}

fn check_sas(c: &mut Ctx, ours: &Value, before: &[IpSa], after: &[IpSa]) {
    let ours = ours.as_array().unwrap();
    // Larval (ACQUIRE) states come and go on their own (a router solicitation into a
    // tunnel without an SA creates one): an SA may appear or vanish between the two
    // iproute2 dumps, so the collector must report exactly the SAs present in both,
    // and nothing that is in neither.
    let same =
        |s: &Value, x: &IpSa| s["spi"].as_u64() == Some(x.spi as u64) && s["dst"] == x.dst.as_str();
    for s in ours {
        if !before.iter().chain(after).any(|x| same(s, x)) {
            c.errs.push(format!(
                "collector reports SA {} dst {} that iproute2 never listed",
                s["spi"], s["dst"]
            ));
        }
    }
    for b in before {
        let id = format!("SA {:#x} dst {}", b.spi, b.dst);
        let in_after = after.iter().any(|a| a.spi == b.spi && a.dst == b.dst);
        let Some(s) = ours.iter().find(|s| same(s, b)) else {
            if in_after {
                c.errs
                    .push(format!("{id} missing from the collector's output"));
            }
            continue;
        };
        let a = after.iter().find(|a| a.spi == b.spi && a.dst == b.dst);
        let w = |f: &str| format!("{id}.{f}");
        c.eq(&w("src"), s["src"].as_str(), Some(b.src.as_str()));
        c.eq(
            &w("proto"),
            proto_name(s["proto"].as_u64().unwrap()),
            b.proto.as_str(),
        );
        c.eq(
            &w("mode"),
            mode_name(s["mode"].as_u64().unwrap()),
            b.mode.as_str(),
        );
        c.eq(&w("reqid"), s["reqid"].as_u64(), Some(b.reqid as u64));
        c.eq(&w("mark"), pair(&s["mark"]), b.mark);
        c.eq(&w("set_mark"), pair(&s["set_mark"]), b.output_mark);
        c.eq(&w("if_id"), s["if_id"].as_u64(), b.if_id.map(u64::from));
        c.eq(&w("enc_alg"), opt_str(&s["enc_alg"]), b.enc.clone());
        c.eq(&w("auth_alg"), opt_str(&s["auth_alg"]), b.auth.clone());
        c.eq(&w("aead_alg"), opt_str(&s["aead_alg"]), b.aead.clone());
        c.eq(&w("comp_alg"), opt_str(&s["comp_alg"]), b.comp.clone());
        c.eq(
            &w("selector_family"),
            s["selector_family"].as_u64(),
            Some(b.sel_family as u64),
        );
        let direction = if left_local(&b.dst) { "in" } else { "out" };
        c.eq(&w("direction"), s["direction"].as_str(), Some(direction));
        let r = &s["replay"];
        c.eq(&w("replay.esn"), r["esn"].as_bool(), Some(b.esn_flag));
        c.eq(
            &w("replay.window"),
            r["window"].as_u64(),
            Some(b.esn_window.unwrap_or(b.replay_window_field) as u64),
        );
        let (oseq_after, seq_after) = a.map_or((b.oseq, b.seq), |a| (a.oseq, a.seq));
        c.within(
            &w("replay.oseq"),
            r["oseq"].as_u64().unwrap(),
            b.oseq,
            oseq_after,
        );
        c.within(
            &w("replay.seq"),
            r["seq"].as_u64().unwrap(),
            b.seq,
            seq_after,
        );
        let names = [
            "soft_byte_limit",
            "hard_byte_limit",
            "soft_packet_limit",
            "hard_packet_limit",
            "soft_add_expires_seconds",
            "hard_add_expires_seconds",
            "soft_use_expires_seconds",
            "hard_use_expires_seconds",
        ];
        for (i, n) in names.iter().enumerate() {
            c.eq(&w(n), s["lifetime"][n].as_u64(), Some(b.limits[i]));
        }
        let cur = &s["current"];
        let (bytes_after, packets_after, use_after) = a
            .map_or((b.cur_bytes, b.cur_packets, b.use_time), |a| {
                (a.cur_bytes, a.cur_packets, a.use_time)
            });
        c.within(
            &w("current.bytes"),
            cur["bytes"].as_u64().unwrap(),
            b.cur_bytes,
            bytes_after,
        );
        c.within(
            &w("current.packets"),
            cur["packets"].as_u64().unwrap(),
            b.cur_packets,
            packets_after,
        );
        c.eq(
            &w("current.add_time"),
            cur["add_time"].as_u64(),
            Some(b.add_time),
        );
        c.within(
            &w("current.use_time"),
            cur["use_time"].as_u64().unwrap(),
            b.use_time,
            use_after,
        );
        let st = &s["stats"];
        c.eq(
            &w("stats"),
            [&st["replay_window"], &st["replay"], &st["integrity_failed"]]
                .map(|v| v.as_u64().unwrap() as u32),
            b.stats,
        );
    }
}

fn check_policies(c: &mut Ctx, ours: &Value, theirs: &[IpPolicy]) {
    let ours = ours.as_array().unwrap();
    c.eq("number of policies", ours.len(), theirs.len());
    for (i, (p, t)) in ours.iter().zip(theirs).enumerate() {
        let w = |f: &str| format!("policy #{i} ({} {} → {}).{f}", t.dir, t.sel_src, t.sel_dst);
        let prefix = |v: &Value| -> String {
            let a = v.as_array().unwrap();
            format!("{}/{}", a[0].as_str().unwrap(), a[1])
        };
        c.eq(
            &w("direction"),
            p["direction"].as_str(),
            Some(t.dir.as_str()),
        );
        c.eq(&w("action"), p["action"].as_str(), Some(t.action.as_str()));
        c.eq(
            &w("priority"),
            p["priority"].as_u64(),
            Some(t.priority as u64),
        );
        c.eq(
            &w("selector_src"),
            prefix(&p["selector_src"]),
            t.sel_src.clone(),
        );
        c.eq(
            &w("selector_dst"),
            prefix(&p["selector_dst"]),
            t.sel_dst.clone(),
        );
        c.eq(&w("mark"), pair(&p["mark"]), t.mark);
        c.eq(&w("if_id"), p["if_id"].as_u64(), t.if_id.map(u64::from));
        let tmpls: Vec<IpTmpl> = p["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| IpTmpl {
                src: opt_str(&x["src"]),
                dst: opt_str(&x["dst"]),
                proto: proto_name(x["proto"].as_u64().unwrap()).into(),
                reqid: x["reqid"].as_u64().unwrap() as u32,
                mode: mode_name(x["mode"].as_u64().unwrap()).into(),
                spi: x["spi"].as_u64().unwrap() as u32,
            })
            .collect();
        c.eq(&w("templates"), tmpls, t.tmpls.clone());
    }
}

fn xfrm_stat(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

/// Our SA→tunnel mapping on real data: lib.sh gives the SAs of a standard tunnel
/// reqid = its key (vti/vti6) or if_id (xfrm); larval ACQUIRE SAs inherit the
/// template's reqid (and if_id). The scenario's extra SAs use other reqids.
fn check_mapping(c: &mut Ctx, doc: &Value) {
    let tunnels = doc["tunnels"].as_array().unwrap();
    let sas = doc["sas"]["value"].as_array().unwrap();
    let map = doc["mapping"]["sa_tunnel_ifindex"].as_array().unwrap();
    c.eq("mapping length", map.len(), sas.len());
    for (sa, ifindex) in sas.iter().zip(map) {
        let reqid = sa["reqid"].as_u64().unwrap();
        let want = tunnels
            .iter()
            .find(|t| {
                let id = t["if_id"].as_u64().or(t["okey"].as_u64()).unwrap_or(0);
                id != 0 && id == reqid
            })
            .map_or(0, |t| t["ifindex"].as_u64().unwrap());
        let what = format!(
            "SA {:#x} {} → {} (reqid {reqid}) → tunnel ifindex",
            sa["spi"].as_u64().unwrap(),
            sa["src"].as_str().unwrap(),
            sa["dst"].as_str().unwrap()
        );
        c.eq(&what, ifindex.as_u64(), Some(want));
    }
    for tp in doc["mapping"]["tunnel_policies"].as_array().unwrap() {
        let t = tunnels
            .iter()
            .find(|t| t["ifindex"] == tp["ifindex"])
            .unwrap();
        if t["name"].as_str().unwrap().starts_with("ip") {
            continue; // fallback devices ip_vti0 / ip6_vti0
        }
        for dir in ["out_policy_index", "in_policy_index"] {
            if tp[dir].is_null() {
                c.errs.push(format!("{}: no {dir}", t["name"]));
            }
        }
    }
}

/// Everything wrong with one kernel's run (empty = pass).
pub fn check(secs: &Sections, _kernel: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let body = |name: &str| secs.body(name);
    secs.require_ok(
        &[
            "collect.root",
            "collect.nocap",
            "collect.before.links",
            "collect.after.links",
            "collect.before.xfrm_state",
            "collect.after.xfrm_state",
            "collect.before.xfrm_policy",
            "collect.before.xfrm_stat",
            "collect.after.xfrm_stat",
        ],
        &mut errs,
    );
    if !errs.is_empty() {
        return errs;
    }
    let Some(doc) = json_in(body("collect.root")) else {
        errs.push(format!(
            "collect.root is not JSON:\n{}",
            body("collect.root")
        ));
        return errs;
    };
    let root_log = body("collect.root");
    if root_log.contains("WARN") || root_log.contains("ERROR") {
        errs.push(format!("collector logged a problem as root:\n{root_log}"));
    }
    let links = |s| serde_json::from_str::<Value>(body(s)).expect("ip -j link output");
    let before_sas = parse_ip_sas(body("collect.before.xfrm_state"));
    let after_sas = parse_ip_sas(body("collect.after.xfrm_state"));
    let policies = parse_ip_policies(body("collect.before.xfrm_policy"));
    let mut c = Ctx { errs: &mut errs };

    // The scenario's special cases must be there at all, or the checks prove little.
    for (what, ok) in [
        (
            "a larval SA (SPI 0)",
            before_sas.iter().any(|s| s.spi == 0 && s.enc.is_none()),
        ),
        ("an ESN SA", before_sas.iter().any(|s| s.esn_flag)),
        ("an AEAD SA", before_sas.iter().any(|s| s.aead.is_some())),
        (
            "an output-mark SA",
            before_sas.iter().any(|s| s.output_mark.is_some()),
        ),
        (
            "a block policy",
            policies.iter().any(|p| p.action == "block"),
        ),
    ] {
        if !ok {
            c.errs.push(format!("scenario produced no {what}"));
        }
    }

    c.eq(
        "kernel_release is set",
        doc["kernel_release"].as_str().map(str::is_empty),
        Some(false),
    );
    check_tunnels(
        &mut c,
        &doc["tunnels"],
        &links("collect.before.links"),
        &links("collect.after.links"),
    );
    c.eq(
        "sas.status",
        doc["sas"]["status"].as_str(),
        Some("available"),
    );
    check_sas(&mut c, &doc["sas"]["value"], &before_sas, &after_sas);
    c.eq(
        "policies.status",
        doc["policies"]["status"].as_str(),
        Some("available"),
    );
    check_policies(&mut c, &doc["policies"]["value"], &policies);
    let (stat_b, stat_a) = (
        xfrm_stat(body("collect.before.xfrm_stat")),
        xfrm_stat(body("collect.after.xfrm_stat")),
    );
    let ours_stat: Vec<(String, u64)> = doc["xfrm_stat"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    c.eq(
        "xfrm_stat names",
        ours_stat.iter().map(|p| &p.0).collect::<Vec<_>>(),
        stat_b.iter().map(|p| &p.0).collect::<Vec<_>>(),
    );
    for ((n, v), ((_, b), (_, a))) in ours_stat.iter().zip(stat_b.iter().zip(&stat_a)) {
        c.within(&format!("xfrm_stat {n}"), *v, *b, *a);
    }
    check_mapping(&mut c, &doc);

    // No key material anywhere in what the collector printed: neither as the hex
    // iproute2 shows nor as a list of byte values.
    let printed: String = root_log.chars().filter(|c| !c.is_whitespace()).collect();
    for key in before_sas.iter().flat_map(|s| &s.keys) {
        let bytes: Vec<String> = (0..key.len() / 2)
            .map(|i| {
                u8::from_str_radix(&key[2 * i..2 * i + 2], 16)
                    .unwrap()
                    .to_string()
            })
            .collect();
        let decimal = bytes[..bytes.len().min(8)].join(",");
        if printed.contains(key.as_str()) || printed.contains(&decimal) {
            c.errs.push(format!(
                "key material {key} appears in the collector's output"
            ));
        }
    }
    if before_sas.iter().map(|s| s.keys.len()).sum::<usize>() < 20 {
        c.errs
            .push("fewer keys than expected parsed from ip xfrm state".into());
    }

    // Without CAP_NET_ADMIN: links as root saw them, SAs/policies unavailable, one warning.
    let nocap_log = body("collect.nocap");
    match json_in(nocap_log) {
        None => c
            .errs
            .push(format!("collect.nocap is not JSON:\n{nocap_log}")),
        Some(n) => {
            for part in ["sas", "policies"] {
                c.eq(
                    &format!("nocap {part}.status"),
                    n[part]["status"].as_str(),
                    Some("unavailable"),
                );
                let reason = n[part]["value"].as_str().unwrap_or("");
                if !reason.contains("CAP_NET_ADMIN") {
                    c.errs.push(format!(
                        "nocap {part} reason lacks CAP_NET_ADMIN: {reason:?}"
                    ));
                }
            }
            let names = |d: &Value| -> Vec<(u64, String)> {
                d["tunnels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        (
                            t["ifindex"].as_u64().unwrap(),
                            t["name"].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            };
            c.eq("nocap tunnels", names(&n), names(&doc));
            c.eq(
                "nocap xfrm_stat.status",
                n["xfrm_stat"]["status"].as_str(),
                Some("available"),
            );
            let warns = nocap_log.lines().filter(|l| l.contains("WARN")).count();
            c.eq("warnings in 3 polls without CAP_NET_ADMIN", warns, 1);
        }
    }
    if !body("collect.nocap_id").contains("Operation not permitted") {
        c.errs.push(format!(
            "iproute2 as nobody was not refused, so the no-cap run proves nothing:\n{}",
            body("collect.nocap_id")
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_xfrm_policy_text_parser() {
        let text = "src 10.1.0.0/24 dst 10.2.0.0/24 \n\tdir out priority 99 ptype main \n\tmark 0x100/0xf00 \n\ttmpl src 192.0.2.7 dst 203.0.113.7\n\t\tproto esp reqid 77 mode tunnel\n\ttmpl src 0.0.0.0 dst 0.0.0.0\n\t\tproto comp reqid 0 mode transport\n\t\tlevel use \nsrc 10.9.0.0/16 dst 10.8.0.0/16 \n\tdir fwd action block priority 7 ptype main \n";
        let p = parse_ip_policies(text);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].dir.as_str(), p[0].priority, p[0].mark),
            ("out", 99, Some((0x100, 0xf00)))
        );
        assert_eq!(p[0].tmpls.len(), 2);
        assert_eq!(p[0].tmpls[1].src, None);
        assert_eq!(p[0].tmpls[1].proto, "comp");
        assert_eq!((p[1].action.as_str(), p[1].priority), ("block", 7));
    }
}
