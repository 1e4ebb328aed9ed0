//! Why did a tunnel's TX errors rise? The look-ups an operator would run by
//! hand (`ip route get`, `ip xfrm policy`, `ip xfrm state`, the
//! /proc/net/xfrm_stat deltas), turned into one cause and one line of text.
//!
//! Pure logic: the evidence (SA and policy dumps from the same poll, a route
//! look-up, xfrm_stat deltas) is gathered by `classifier`.
//! xfrm_stat is per network namespace, so it only *corroborates*; the cause
//! comes from per-tunnel look-ups, which keeps two tunnels failing
//! differently at the same time apart.

use std::net::IpAddr;

use crate::classify::mapping::{matching_policies, sa_fit, tunnel_policies, SaFit, SaMismatch};
use crate::model::{
    Categories, Cause, Diagnosis, Family, Peer, PeerSource, Policy, PolicyAction, PolicyDirection,
    RouteAnswer, SaDirection, SaRow, SecurityAssociation, Tunnel, TunnelKind, XfrmMode, XfrmStat,
};

/// Everything the diagnosis looks at for one tunnel.
pub struct Evidence<'a> {
    pub tunnel: &'a Tunnel,
    pub delta: &'a Categories,
    /// All SAs and policies of the namespace (None: not readable). Each SA
    /// row names the tunnel that uses it (`mapping`, over every tunnel of the
    /// poll; 0: none).
    pub sas: Option<&'a [SaRow]>,
    pub policies: Option<&'a [Policy]>,
    /// `XFRM_MSG_GETDEFAULT`: true when unmatched outbound traffic is blocked.
    pub default_out_blocks: Option<bool>,
    /// Non-zero xfrm_stat increases over the last two poll intervals (the
    /// counters and the link stats are not read at the same instant).
    pub xfrm_stat_delta: &'a [(String, u64)],
    /// The peer's outer address, the source and mark to reach it with
    /// (`peer_of`, computed once by the caller for the route look-up).
    pub peer: Option<PeerRoute>,
    /// Route to `peer` (None: not looked up / no peer known).
    pub route: Option<RouteAnswer>,
    /// The tunnel's previous diagnosis was a hard expiry and no outbound SA
    /// has been seen since: packets finding no SA now are its aftermath.
    pub after_hard_expiry: bool,
}

/// Where a tunnel's encapsulated packets go: the peer's outer address, how
/// it was found, and the source and mark a route look-up towards it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerRoute {
    pub addr: IpAddr,
    pub source: PeerSource,
    pub from: Option<IpAddr>,
    pub mark: u32,
}

impl PeerRoute {
    /// The served peer (vtiIfPeerAddr*) of `route`, unknown without one.
    pub fn peer(route: Option<PeerRoute>) -> Peer {
        route.map_or(Peer::UNKNOWN, |r| Peer {
            addr: Some(r.addr),
            source: r.source,
        })
    }
}

/// The tunnel's peer: its configured remote (vti/vti6), or (xfrm
/// interfaces and vti with remote any have none) the destination of its
/// outbound SA, or else of its outbound policy's template. `sas` may be all
/// SAs or only the tunnel's own rows: only the outbound ones the tunnel
/// uses count.
pub fn peer_of(tunnel: &Tunnel, sas: &[SaRow], policies: &[Policy]) -> Option<PeerRoute> {
    if let Some(remote) = tunnel.remote {
        let mark = outbound_sas(tunnel, sas)
            .find_map(|sa| sa.set_mark.map(|(v, _)| v))
            .unwrap_or(tunnel.fwmark.unwrap_or(0));
        return Some(PeerRoute {
            addr: remote,
            source: PeerSource::TunnelConfig,
            from: tunnel.local,
            mark,
        });
    }
    if let Some(sa) = outbound_sas(tunnel, sas).next() {
        return Some(PeerRoute {
            addr: sa.dst,
            source: PeerSource::OutboundSa,
            from: Some(sa.src),
            mark: sa.set_mark.map_or(0, |(v, _)| v),
        });
    }
    out_policy(tunnel, policies).and_then(|p| {
        p.templates.iter().find_map(|t| {
            t.dst.map(|addr| PeerRoute {
                addr,
                source: PeerSource::PolicyTemplate,
                from: t.src,
                mark: 0,
            })
        })
    })
}

pub fn diagnose(e: &Evidence) -> Diagnosis {
    let d = e.delta;
    // Order matters where one fault moves two categories: an SA reaching its
    // hard limit counts the packet that hit it as aborted, and the next ones
    // as carrier (the SA is gone) — the root cause is the expiry.
    if d.output_errors > 0 {
        return output_error(e);
    }
    if d.carrier > 0 {
        return carrier(e);
    }
    if d.routing_loop > 0 {
        return routing_loop(e);
    }
    if d.too_big > 0 {
        return too_big(e);
    }
    if d.underlay_drops > 0 {
        return Diagnosis {
            cause: Cause::UnderlayDrop,
            text: format!(
                "about {} packet(s) dropped below the tunnel (underlay qdisc or driver): \
                 the kernel counted them as sent 1-byte packets",
                d.underlay_drops
            ),
        };
    }
    Diagnosis::none()
}

fn stat(e: &Evidence, counter: XfrmStat) -> u64 {
    counter.value_in(e.xfrm_stat_delta)
}

/// " (XfrmOutNoStates +3)" when the counter moved.
fn corroborate(e: &Evidence, counters: &[XfrmStat]) -> String {
    let moved: Vec<String> = counters
        .iter()
        .filter_map(|&c| {
            let v = stat(e, c);
            (v > 0).then(|| format!("{} +{v}", c.name()))
        })
        .collect();
    if moved.is_empty() {
        String::new()
    } else {
        format!(" ({})", moved.join(", "))
    }
}

fn output_error(e: &Evidence) -> Diagnosis {
    let n = e.delta.output_errors;
    if stat(e, XfrmStat::OutStateExpired) > 0 || out_sa_at_hard_limit(e) {
        return Diagnosis {
            cause: Cause::SaHardExpired,
            text: format!(
                "{n} packet(s) hit an outbound SA at its hard lifetime before it was rekeyed{}",
                corroborate(e, &[XfrmStat::OutStateExpired, XfrmStat::OutNoStates])
            ),
        };
    }
    if stat(e, XfrmStat::OutStateSeqError) > 0 || out_sa_seq_exhausted(e) {
        return Diagnosis {
            cause: Cause::SeqOverflow,
            text: format!(
                "{n} packet(s) refused: outbound SA sequence number exhausted (no ESN), \
                 rekey earlier{}",
                corroborate(e, &[XfrmStat::OutStateSeqError])
            ),
        };
    }
    let xfrm_errors = corroborate(
        e,
        &[
            XfrmStat::OutStateInvalid,
            XfrmStat::OutStateProtoError,
            XfrmStat::OutStateModeError,
        ],
    );
    if e.tunnel.kind == TunnelKind::Xfrm && xfrm_errors.is_empty() {
        return Diagnosis {
            cause: Cause::UnderlayDrop,
            text: format!(
                "{n} encrypted packet(s) dropped below the tunnel (underlay qdisc or driver, \
                 or a firewall dropping ESP); no XFRM error counter moved"
            ),
        };
    }
    Diagnosis {
        cause: Cause::OutputError,
        text: format!(
            "{n} packet(s) failed after encryption{}; check firewall rules for ESP and \
             'ip -s xfrm state'",
            if xfrm_errors.is_empty() {
                " with no XFRM error counter moving".to_string()
            } else {
                xfrm_errors
            }
        ),
    }
}

fn carrier(e: &Evidence) -> Diagnosis {
    let t = e.tunnel;
    let n = e.delta.carrier;
    let (Some(sas), Some(policies)) = (e.sas, e.policies) else {
        return Diagnosis {
            cause: Cause::Unknown,
            text: format!(
                "{n} packet(s) found no usable route, policy or SA{}; SA/policy data \
                 unreadable (agent lacks CAP_NET_ADMIN)",
                corroborate(
                    e,
                    &[
                        XfrmStat::OutNoStates,
                        XfrmStat::OutPolBlock,
                        XfrmStat::OutBundleGenError
                    ]
                )
            ),
        };
    };
    let selector = selector_text(t);
    // (a) the OUT policy
    let policy = out_policy(t, policies);
    match policy {
        None if e.default_out_blocks == Some(true) => {
            return Diagnosis {
                cause: Cause::PolicyBlock,
                text: format!(
                    "no outbound policy for {selector} and the default outbound policy is \
                     block{}",
                    corroborate(e, &[XfrmStat::OutPolBlock])
                ),
            };
        }
        None => {
            return Diagnosis {
                cause: Cause::NoPolicy,
                text: format!(
                    "no outbound XFRM policy for {selector}: {n} packet(s) could not be \
                     encrypted{}",
                    corroborate(e, &[XfrmStat::OutPolBlock, XfrmStat::OutNoStates])
                ),
            };
        }
        Some(p) if p.action == PolicyAction::Block => {
            return Diagnosis {
                cause: Cause::PolicyBlock,
                text: format!(
                    "outbound policy for {selector} (index {}) is block{}",
                    p.index,
                    corroborate(e, &[XfrmStat::OutPolBlock])
                ),
            };
        }
        Some(_) => {}
    }
    // (b) the outbound SA
    let matching: Vec<&SecurityAssociation> = outbound_sas(t, sas).collect();
    if matching.is_empty() {
        return missing_sa(e, sas, policy);
    }
    // (c) the route to the peer
    if let Some(RouteAnswer::Unreachable(why)) = &e.route {
        let (peer, from, mark) = match e.peer {
            Some(p) => (p.addr.to_string(), p.from, p.mark),
            None => ("(unknown)".to_string(), None, 0),
        };
        return Diagnosis {
            cause: Cause::NoRouteToPeer,
            text: format!(
                "no route to peer {peer}{}{} ({why}){}",
                from.map(|f| format!(" from {f}")).unwrap_or_default(),
                if mark != 0 {
                    format!(" mark {mark:#x}")
                } else {
                    String::new()
                },
                corroborate(e, &[XfrmStat::OutBundleGenError])
            ),
        };
    }
    // (d) the SA exists, the route exists: its selector does not cover the
    // packets — their family is that of the tunnel's OUT policy selectors
    // (vti6 carrying IPv4 needs an SA with an IPv4 selector; the kernel gives
    // an SA added without one its outer family). An SA of the right family
    // (or AF_UNSPEC, `flag af-unspec`) covers them.
    let mut inner_families: Vec<Family> = matching_policies(t, policies, PolicyDirection::Out)
        .into_iter()
        .map(|i| &policies[i])
        .filter(|p| p.action == PolicyAction::Allow && p.selector_family != Family::Any)
        .map(|p| p.selector_family)
        .collect();
    inner_families.dedup();
    for fam in inner_families {
        if matching
            .iter()
            .all(|sa| sa.selector_family != Family::Any && sa.selector_family != fam)
        {
            let sa = matching[0];
            return Diagnosis {
                cause: Cause::SelectorMismatch,
                text: format!(
                    "outbound SA spi {:#010x} has an {} selector but the tunnel's outbound \
                     policy carries {} packets: they find no state{}; add a matching 'sel' \
                     to the SA",
                    sa.spi,
                    family_name(sa.selector_family),
                    family_name(fam),
                    corroborate(e, &[XfrmStat::OutNoStates])
                ),
            };
        }
    }
    Diagnosis {
        cause: Cause::Unknown,
        text: format!(
            "{n} carrier error(s), but policy, SA and route look fine now (the condition \
             may have cleared){}",
            corroborate(
                e,
                &[
                    XfrmStat::OutNoStates,
                    XfrmStat::OutPolBlock,
                    XfrmStat::OutBundleGenError
                ]
            )
        ),
    }
}

/// No SA matches the tunnel: absent, or present with the wrong endpoints
/// (vti/vti6) or the wrong if_id (xfrm) and used by no tunnel.
fn missing_sa(e: &Evidence, sas: &[SaRow], policy: Option<&Policy>) -> Diagnosis {
    let t = e.tunnel;
    let selector = selector_text(t);
    let stats = corroborate(e, &[XfrmStat::OutNoStates]);
    // An SA at its hard limit counts the packet that hits it as aborted, then
    // the kernel deletes it and the next packets find no SA (carrier). Those
    // may fall into the next poll (lab: 0.2 s apart), and with steady traffic
    // they go on until IKE installs a new SA: the root cause stays the expiry.
    if e.after_hard_expiry {
        return Diagnosis {
            cause: Cause::SaHardExpired,
            text: format!(
                "{} packet(s) found no outbound SA for {selector}: it hard-expired and was \
                 not replaced (IKE did not rekey in time){stats}",
                e.delta.carrier
            ),
        };
    }
    match t.kind {
        TunnelKind::Vti | TunnelKind::Vti6 => {
            let mismatched = unused_out_sas(sas).find_map(|sa| match sa_fit(t, sa) {
                SaFit::Mismatch(why) => Some((sa, why)),
                _ => None,
            });
            if let Some((sa, why)) = mismatched {
                let what = match why {
                    SaMismatch::Endpoints => "endpoints differ",
                    SaMismatch::Mode => "it is not in tunnel mode",
                    SaMismatch::Family => "its address family differs",
                };
                return Diagnosis {
                    cause: Cause::SaEndpointMismatch,
                    text: format!(
                        "outbound SA spi {:#010x} for {selector} is {} -> {} ({}), but the \
                         tunnel is {} -> {}: {what}{stats}",
                        sa.spi,
                        sa.src,
                        sa.dst,
                        mode_name(sa.mode),
                        addr(t.local),
                        addr(t.remote)
                    ),
                };
            }
            Diagnosis {
                cause: Cause::NoOutboundSa,
                text: format!(
                    "no outbound SA {} -> {} for {selector} (IKE down?){stats}",
                    addr(t.local),
                    addr(t.remote)
                ),
            }
        }
        TunnelKind::Xfrm => {
            let if_id = t.if_id.unwrap_or(0);
            let template_dsts: Vec<IpAddr> = policy
                .map(|p| p.templates.iter().filter_map(|tm| tm.dst).collect())
                .unwrap_or_default();
            if let Some(sa) = unused_out_sas(sas)
                .find(|sa| sa.if_id != Some(if_id) && template_dsts.contains(&sa.dst))
            {
                return Diagnosis {
                    cause: Cause::IfIdMismatch,
                    text: format!(
                        "outbound SA spi {:#010x} to {} has if_id {} but the interface has \
                         if_id {if_id}{stats}",
                        sa.spi,
                        sa.dst,
                        sa.if_id.map_or("none".to_string(), |i| i.to_string())
                    ),
                };
            }
            let to = template_dsts
                .first()
                .map(|d| format!(" to {d}"))
                .unwrap_or_default();
            Diagnosis {
                cause: Cause::NoOutboundSa,
                text: format!("no outbound SA{to} for {selector} (IKE down?){stats}"),
            }
        }
    }
}

fn routing_loop(e: &Evidence) -> Diagnosis {
    let t = e.tunnel;
    // XFRM interfaces have no remote: the peer is their outbound SA's (or
    // policy template's) destination, as for the route look-up.
    let peer = e
        .peer
        .map(|p| p.addr.to_string())
        .unwrap_or_else(|| "the peer".to_string());
    let route = match &e.route {
        Some(RouteAnswer::Via { oif, oif_name, .. }) if *oif == t.ifindex => {
            format!("the route to {peer} goes out of {oif_name} itself")
        }
        Some(RouteAnswer::Via { oif_name, .. }) => format!(
            "the route to {peer} pointed into the tunnel (now via {oif_name}: it may have \
             changed since)"
        ),
        _ => format!("the route to {peer} pointed into the tunnel"),
    };
    Diagnosis {
        cause: Cause::RoutingLoop,
        text: format!(
            "routing loop: {route}; {} packet(s) dropped. Route the peer's outer address via \
             the underlay",
            e.delta.routing_loop
        ),
    }
}

fn too_big(e: &Evidence) -> Diagnosis {
    let t = e.tunnel;
    let n = e.delta.too_big;
    let sa = e.sas.and_then(|sas| outbound_sas(t, sas).next());
    let underlay = match &e.route {
        Some(RouteAnswer::Via { oif_name, mtu, .. }) if *mtu > 0 => Some((oif_name.clone(), *mtu)),
        _ => None,
    };
    let text = match (underlay, sa) {
        (Some((name, mtu)), Some(sa)) => {
            let inner = esp_inner_mtu(sa, mtu);
            format!(
                "{n} packet(s) too big: tunnel MTU {} but the path allows {inner} (underlay \
                 {name} MTU {mtu} minus {} bytes of ESP {}); set the tunnel MTU to {inner} or \
                 clamp TCP MSS",
                t.mtu,
                mtu.saturating_sub(inner),
                algorithms(sa)
            )
        }
        (Some((name, mtu)), None) => {
            let overhead = if is_v6_outer(t) { 93 } else { 73 };
            format!(
                "{n} packet(s) too big: tunnel MTU {} but underlay {name} MTU {mtu} minus \
                 ~{overhead} bytes of ESP overhead leaves about {}; lower the tunnel MTU or \
                 clamp TCP MSS",
                t.mtu,
                mtu.saturating_sub(overhead)
            )
        }
        (None, _) => format!(
            "{n} packet(s) too big for the path (tunnel MTU {}); lower the tunnel MTU or \
             clamp TCP MSS",
            t.mtu
        ),
    };
    Diagnosis {
        cause: Cause::MtuExceeded,
        text,
    }
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::Inet => "IPv4",
        Family::Inet6 => "IPv6",
        _ => "other-family",
    }
}

fn is_v6_outer(t: &Tunnel) -> bool {
    t.kind == TunnelKind::Vti6 || matches!(t.remote, Some(IpAddr::V6(_)))
}

/// The largest inner packet an ESP tunnel-mode SA can carry over a path of
/// `path_mtu`: the kernel's `xfrm_state_mtu` (esp4/esp6 `get_mtu` before 5.12),
/// `((mtu − header_len − icv) & ~(block − 1)) − 2`, where header_len is the
/// outer IP header + 8 (SPI, sequence) + IV and block is the cipher block size
/// rounded up to 4. This is the MTU the kernel reports in its ICMP "frag
/// needed" / "packet too big" (lab: 1438 over IPv4, 1406 over IPv6 for
/// cbc(aes) + hmac(sha256)-128 on a 1500-byte underlay).
///
/// The SA model keeps algorithm names only, so sizes come from the names:
/// the ICV assumes the RFC truncation IKE daemons negotiate (hmac(sha256) 128
/// bits, sha384 192, sha512 256, sha1/md5/xcbc/cmac 96, AEAD 128). NAT-T
/// (UDP encapsulation, 8 more bytes) is not modelled.
fn esp_inner_mtu(sa: &SecurityAssociation, path_mtu: u32) -> u32 {
    let outer = if sa.dst.is_ipv6() { 40 } else { 20 };
    let (iv, block, icv) = esp_sizes(sa);
    let header_len = outer + 8 + iv;
    (path_mtu.saturating_sub(header_len + icv) & !(block - 1)).saturating_sub(2)
}

/// (IV bytes, cipher block rounded up to 4, ICV bytes) of an ESP SA, by name.
fn esp_sizes(sa: &SecurityAssociation) -> (u32, u32, u32) {
    let name = |a: &Option<String>| a.as_deref().unwrap_or("").to_string();
    let (enc, aead, auth) = (
        name(&sa.algorithms.enc_alg),
        name(&sa.algorithms.aead_alg),
        name(&sa.algorithms.auth_alg),
    );
    if !aead.is_empty() {
        // rfc4106(gcm), rfc4309(ccm), rfc7539esp(chacha20,poly1305), rfc4543:
        // 8-byte IV, no block alignment beyond 4.
        return (8, 4, 16);
    }
    let (iv, block) = if enc.contains("des") || enc.contains("cast5") || enc.contains("blowfish") {
        (8, 8)
    } else if enc.starts_with("cbc(") {
        // aes, camellia, serpent, twofish
        (16, 16)
    } else if enc.contains("ctr") {
        (8, 4)
    } else {
        // ecb(cipher_null) and unknown: no IV
        (0, 4)
    };
    let icv = if auth.contains("sha512") {
        32
    } else if auth.contains("sha384") {
        24
    } else if auth.contains("sha256") {
        16
    } else if auth.is_empty() || auth.contains("null") {
        0
    } else {
        // hmac(sha1), hmac(md5), xcbc(aes), cmac(aes): 96 bits
        12
    };
    (iv, block, icv)
}

/// "cbc(aes)+hmac(sha256)" for the diagnosis text.
fn algorithms(sa: &SecurityAssociation) -> String {
    [
        &sa.algorithms.aead_alg,
        &sa.algorithms.enc_alg,
        &sa.algorithms.auth_alg,
    ]
    .iter()
    .filter_map(|a| a.as_deref())
    .collect::<Vec<_>>()
    .join("+")
}

/// SAs the tunnel's outbound packets can use.
pub fn outbound_sas<'a>(
    t: &'a Tunnel,
    sas: &'a [SaRow],
) -> impl Iterator<Item = &'a SecurityAssociation> + 'a {
    sas.iter()
        .map(|r| &r.sa)
        .filter(move |sa| sa.direction == SaDirection::Out && sa_fit(t, sa) == SaFit::Match)
}

/// Outbound SAs no tunnel uses: the only ones a tunnel without an SA may be
/// told is its own, misconfigured (other endpoints, other if_id). An SA
/// another tunnel uses is that tunnel's, even towards the same peer with the
/// same mark: several tunnels to one peer each have their own, and one that
/// lost its SA has no SA at all.
fn unused_out_sas(sas: &[SaRow]) -> impl Iterator<Item = &SecurityAssociation> {
    sas.iter()
        .filter(|r| r.tunnel_ifindex == 0 && r.sa.direction == SaDirection::Out)
        .map(|r| &r.sa)
}

/// The OUT policy the tunnel's packets hit.
pub fn out_policy<'a>(t: &Tunnel, policies: &'a [Policy]) -> Option<&'a Policy> {
    tunnel_policies(t, policies).out.map(|i| &policies[i])
}

fn out_sa_at_hard_limit(e: &Evidence) -> bool {
    e.sas.is_some_and(|sas| {
        outbound_sas(e.tunnel, sas).any(|sa| {
            let limits = sa.lifetime.get();
            sa.current.packets >= limits.hard_packet_limit
                || sa.current.bytes >= limits.hard_byte_limit
        })
    })
}

fn out_sa_seq_exhausted(e: &Evidence) -> bool {
    e.sas
        .is_some_and(|sas| outbound_sas(e.tunnel, sas).any(|sa| sa.seq_headroom() == Some(0)))
}

/// How a tunnel picks its policies and SAs: "mark 0x5" or "if_id 31".
pub fn selector_text(t: &Tunnel) -> String {
    match t.kind {
        TunnelKind::Xfrm => format!("if_id {}", t.if_id.unwrap_or(0)),
        _ => format!("mark {:#x}", t.okey.unwrap_or(0)),
    }
}

fn addr(a: Option<IpAddr>) -> String {
    a.map_or_else(|| "any".to_string(), |a| a.to_string())
}

fn mode_name(mode: XfrmMode) -> &'static str {
    match mode {
        XfrmMode::Transport => "transport mode",
        XfrmMode::Tunnel => "tunnel mode",
        XfrmMode::Beet => "beet mode",
        _ => "other mode",
    }
}

#[cfg(test)]
mod tests;
