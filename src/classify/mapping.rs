//! Which SAs and policies belong to which tunnel interface. Pure logic over
//! model values, following the kernel's own look-ups (Linux ≥ 3.15):
//!
//! - **xfrm** interfaces: SA, policy and device share `if_id`
//!   (`XFRMA_IF_ID == IFLA_XFRM_IF_ID`, never 0). No endpoint, mode or mark
//!   check — `xfrmi_xmit2` only compares `if_id`.
//! - **vti / vti6**: TX sets the skb mark to the okey, RX to the ikey; a
//!   policy or SA is found when `(key & mask) == value` of its
//!   `XFRMA_MARK` (no mark = 0/0, which matches every key) and its `if_id`
//!   is 0 (vti flows carry `if_id` 0). An outbound SA must then pass
//!   `vti_state_check` / `vti6_state_check`: tunnel mode, the tunnel's outer
//!   family, and endpoints — with the tunnel's remote set:
//!   `sa.dst == remote` and (`sa.src == local`, or either of those is the
//!   wildcard); with the remote a wildcard: `sa.src == local` exactly (so a
//!   tunnel with *both* endpoints wildcard accepts only SAs whose source is
//!   itself unspecified). An inbound SA belongs to the tunnel the kernel's
//!   tunnel look-up picks for its outer addresses: `sa.src == remote` and
//!   `sa.dst == local`, either tunnel side may be a wildcard, the most
//!   specific tunnel wins.
//!
//! Classic vti on kernels ≤ 3.14 used the ikey for TX; not modelled.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::model::{
    Policy, PolicyDirection, SaDirection, SecurityAssociation, Tunnel, TunnelKind, XfrmMode,
};

/// Why an SA that the tunnel's traffic finds (same key / mark) would still
/// be rejected by the tunnel (`vti_state_check`): a carrier error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaMismatch {
    /// Not tunnel mode.
    Mode,
    /// Outer family differs from the tunnel's (IPv6 SA on vti, IPv4 on vti6).
    Family,
    /// Endpoints differ from the tunnel's local/remote.
    Endpoints,
}

/// How one SA relates to one tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaFit {
    /// The kernel uses this SA for this tunnel.
    Match,
    /// The tunnel's key selects this SA (it carries an explicit mark that
    /// matches, and if_id 0) but vti would reject it. Only reported for SAs
    /// with a non-zero mark mask: an unmarked SA matches every key and would
    /// otherwise be a "mismatch" of every vti tunnel.
    Mismatch(SaMismatch),
    Unrelated,
}

fn key_matches(key: u32, mark: Option<(u32, u32)>) -> bool {
    let (value, mask) = mark.unwrap_or((0, 0));
    key & mask == value
}

fn no_if_id(if_id: Option<u32>) -> bool {
    if_id.unwrap_or(0) == 0
}

fn same_if_id(tunnel: &Tunnel, if_id: Option<u32>) -> bool {
    matches!((tunnel.if_id, if_id), (Some(t), Some(s)) if t != 0 && t == s)
}

/// The key the tunnel marks its traffic with in `direction`.
fn tunnel_key(tunnel: &Tunnel, direction: SaDirection) -> u32 {
    match direction {
        SaDirection::Out => tunnel.okey,
        SaDirection::In => tunnel.ikey,
    }
    .unwrap_or(0)
}

fn outer_family_ok(kind: TunnelKind, sa: &SecurityAssociation) -> bool {
    match kind {
        TunnelKind::Vti => sa.src.is_ipv4() && sa.dst.is_ipv4(),
        TunnelKind::Vti6 => sa.src.is_ipv6() && sa.dst.is_ipv6(),
        TunnelKind::Xfrm => true,
    }
}

fn unspecified(ip: Option<IpAddr>) -> bool {
    ip.is_none_or(|ip| ip.is_unspecified())
}

/// `vti_state_check` on the endpoints of an outbound SA.
fn out_endpoints_ok(tunnel: &Tunnel, sa: &SecurityAssociation) -> bool {
    match tunnel.remote.filter(|r| !r.is_unspecified()) {
        Some(remote) => {
            sa.dst == remote
                && (unspecified(tunnel.local)
                    || sa.src.is_unspecified()
                    || Some(sa.src) == tunnel.local)
        }
        None => match tunnel.local.filter(|l| !l.is_unspecified()) {
            Some(local) => sa.src == local,
            None => sa.src.is_unspecified(),
        },
    }
}

/// The tunnel look-up for an inbound SA's outer addresses (src = peer).
fn in_endpoints_ok(tunnel: &Tunnel, sa: &SecurityAssociation) -> bool {
    (unspecified(tunnel.remote) || tunnel.remote == Some(sa.src))
        && (unspecified(tunnel.local) || tunnel.local == Some(sa.dst))
}

/// How `sa` relates to `tunnel`.
pub fn sa_fit(tunnel: &Tunnel, sa: &SecurityAssociation) -> SaFit {
    if tunnel.kind == TunnelKind::Xfrm {
        return if same_if_id(tunnel, sa.if_id) {
            SaFit::Match
        } else {
            SaFit::Unrelated
        };
    }
    if !no_if_id(sa.if_id) || !key_matches(tunnel_key(tunnel, sa.direction), sa.mark) {
        return SaFit::Unrelated;
    }
    let explicit_mark = sa.mark.is_some_and(|(_, mask)| mask != 0);
    let endpoints_ok = match sa.direction {
        SaDirection::Out => out_endpoints_ok(tunnel, sa),
        SaDirection::In => in_endpoints_ok(tunnel, sa),
    };
    let problem = if !outer_family_ok(tunnel.kind, sa) {
        Some(SaMismatch::Family)
    } else if !endpoints_ok {
        Some(SaMismatch::Endpoints)
    } else if sa.mode != XfrmMode::Tunnel {
        Some(SaMismatch::Mode)
    } else {
        None
    };
    match problem {
        None => SaFit::Match,
        Some(p) if explicit_mark => SaFit::Mismatch(p),
        Some(_) => SaFit::Unrelated,
    }
}

/// How specifically a tunnel's endpoints are configured; the kernel's
/// tunnel look-up prefers exact (local, remote) over remote-only over
/// local-only over wildcard tunnels.
fn specificity(tunnel: &Tunnel) -> u8 {
    match (unspecified(tunnel.local), unspecified(tunnel.remote)) {
        (false, false) => 3,
        (true, false) => 2,
        (false, true) => 1,
        (true, true) => 0,
    }
}

/// The ifindex of the tunnel `sa` belongs to, 0 if none. When several
/// tunnels match, the most specific endpoints win, then the lowest ifindex.
pub fn sa_tunnel(tunnels: &[Tunnel], sa: &SecurityAssociation) -> u32 {
    tunnels
        .iter()
        .filter(|t| sa_fit(t, sa) == SaFit::Match)
        .max_by_key(|t| (specificity(t), std::cmp::Reverse(t.ifindex)))
        .map_or(0, |t| t.ifindex)
}

/// `sa_tunnel` for every SA, in the same order.
pub fn map_sas(tunnels: &[Tunnel], sas: &[SecurityAssociation]) -> Vec<u32> {
    let mapper = SaMapper::new(tunnels);
    sas.iter().map(|sa| mapper.tunnel_of(sa)).collect()
}

/// `sa_tunnel` for many SAs without comparing each SA with every tunnel
/// (4,000 SAs × 1,000 tunnels per poll would be millions of comparisons):
/// candidates come from the SA's if_id (xfrm) or its exact mark (vti/vti6);
/// only masked or absent marks fall back to every keyed tunnel. The answer
/// is the same as `sa_tunnel`'s, which stays the definition.
pub struct SaMapper<'a> {
    tunnels: &'a [Tunnel],
    by_if_id: HashMap<u32, Vec<usize>>,
    /// (direction, key) → vti/vti6 tunnels with that okey (Out) / ikey (In).
    by_key: HashMap<(bool, u32), Vec<usize>>,
    keyed: Vec<usize>,
}

impl<'a> SaMapper<'a> {
    pub fn new(tunnels: &'a [Tunnel]) -> Self {
        let mut m = SaMapper {
            tunnels,
            by_if_id: HashMap::new(),
            by_key: HashMap::new(),
            keyed: Vec::new(),
        };
        for (i, t) in tunnels.iter().enumerate() {
            match t.kind {
                TunnelKind::Xfrm => {
                    if let Some(id) = t.if_id.filter(|&id| id != 0) {
                        m.by_if_id.entry(id).or_default().push(i);
                    }
                }
                TunnelKind::Vti | TunnelKind::Vti6 => {
                    m.keyed.push(i);
                    for dir in [SaDirection::Out, SaDirection::In] {
                        let key = tunnel_key(t, dir);
                        m.by_key
                            .entry((dir == SaDirection::Out, key))
                            .or_default()
                            .push(i);
                    }
                }
            }
        }
        m
    }

    pub fn tunnel_of(&self, sa: &SecurityAssociation) -> u32 {
        let candidates: &[usize] = if !no_if_id(sa.if_id) {
            self.by_if_id
                .get(&sa.if_id.unwrap_or(0))
                .map_or(&[], Vec::as_slice)
        } else {
            match sa.mark {
                Some((value, u32::MAX)) => self
                    .by_key
                    .get(&(sa.direction == SaDirection::Out, value))
                    .map_or(&[], Vec::as_slice),
                _ => &self.keyed,
            }
        };
        candidates
            .iter()
            .map(|&i| &self.tunnels[i])
            .filter(|t| sa_fit(t, sa) == SaFit::Match)
            .max_by_key(|t| (specificity(t), std::cmp::Reverse(t.ifindex)))
            .map_or(0, |t| t.ifindex)
    }
}

/// Whether `policy` is one the tunnel's traffic in `policy.direction` can
/// hit: same if_id (xfrm), or key & mask == value and if_id 0 (vti/vti6;
/// OUT and FWD use the okey, IN the ikey). Selectors are not checked —
/// the tunnel carries arbitrary inner traffic.
pub fn policy_matches(tunnel: &Tunnel, policy: &Policy) -> bool {
    if tunnel.kind == TunnelKind::Xfrm {
        return same_if_id(tunnel, policy.if_id);
    }
    let direction = match policy.direction {
        PolicyDirection::In => SaDirection::In,
        PolicyDirection::Out | PolicyDirection::Fwd => SaDirection::Out,
    };
    no_if_id(policy.if_id) && key_matches(tunnel_key(tunnel, direction), policy.mark)
}

/// Indices (into `policies`) of the tunnel's policies in `direction`, best
/// first: explicitly marked policies before unmarked catch-alls (vti), then
/// lower priority value, then dump order.
pub fn matching_policies(
    tunnel: &Tunnel,
    policies: &[Policy],
    direction: PolicyDirection,
) -> Vec<usize> {
    let mut found: Vec<usize> = policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.direction == direction && policy_matches(tunnel, p))
        .map(|(i, _)| i)
        .collect();
    found.sort_by_key(|&i| {
        let p = &policies[i];
        let unmarked = p.mark.is_none_or(|(_, mask)| mask == 0);
        (unmarked, p.priority, i)
    });
    found
}

/// The tunnel's best OUT and IN policy, as indices into the policy list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelPolicies {
    pub out: Option<usize>,
    pub inbound: Option<usize>,
}

pub fn tunnel_policies(tunnel: &Tunnel, policies: &[Policy]) -> TunnelPolicies {
    TunnelPolicies {
        out: matching_policies(tunnel, policies, PolicyDirection::Out)
            .first()
            .copied(),
        inbound: matching_policies(tunnel, policies, PolicyDirection::In)
            .first()
            .copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;
    use crate::model::{
        AlgorithmNames, LinkStats, OperStatus, PolicyAction, SaCurrent, SaLifetime, SaReplay,
        SaStats,
    };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn vti(
        ifindex: u32,
        local: Option<&str>,
        remote: Option<&str>,
        ikey: u32,
        okey: u32,
    ) -> Tunnel {
        let kind = if local.or(remote).is_some_and(|a| a.contains(':')) {
            TunnelKind::Vti6
        } else {
            TunnelKind::Vti
        };
        Tunnel {
            ifindex,
            name: format!("vti{ifindex}"),
            kind,
            local: local.map(ip),
            remote: remote.map(ip),
            ikey: Some(ikey),
            okey: Some(okey),
            fwmark: None,
            if_id: None,
            link: 0,
            mtu: 1480,
            admin_up: true,
            oper: OperStatus::Up,
            stats: LinkStats::default(),
            error_counters_valid: true,
        }
    }

    fn vti6(ifindex: u32, local: Option<&str>, remote: Option<&str>, key: u32) -> Tunnel {
        Tunnel {
            kind: TunnelKind::Vti6,
            ..vti(ifindex, local, remote, key, key)
        }
    }

    fn xfrmi(ifindex: u32, if_id: u32) -> Tunnel {
        Tunnel {
            kind: TunnelKind::Xfrm,
            ikey: None,
            okey: None,
            if_id: Some(if_id),
            ..vti(ifindex, None, None, 0, 0)
        }
    }

    fn sa(dir: SaDirection, src: &str, dst: &str, mark: Option<(u32, u32)>) -> SecurityAssociation {
        SecurityAssociation {
            spi: 0x100,
            proto: 50,
            mode: XfrmMode::Tunnel,
            src: ip(src),
            dst: ip(dst),
            reqid: 1,
            direction: dir,
            mark,
            set_mark: None,
            if_id: None,
            algorithms: AlgorithmNames {
                enc_alg: Some("cbc(aes)".into()),
                auth_alg: Some("hmac(sha256)".into()),
                ..AlgorithmNames::default()
            }
            .into(),
            selector_family: Family::Any,
            lifetime: SaLifetime::default().into(),
            current: SaCurrent::default(),
            stats: SaStats::default(),
            replay: SaReplay::default(),
        }
    }

    fn out(src: &str, dst: &str, mark: u32) -> SecurityAssociation {
        sa(SaDirection::Out, src, dst, Some((mark, u32::MAX)))
    }

    fn inb(src: &str, dst: &str, mark: u32) -> SecurityAssociation {
        sa(SaDirection::In, src, dst, Some((mark, u32::MAX)))
    }

    fn with_if_id(mut s: SecurityAssociation, if_id: u32) -> SecurityAssociation {
        s.mark = None;
        s.if_id = Some(if_id);
        s
    }

    fn policy(
        dir: PolicyDirection,
        mark: Option<(u32, u32)>,
        if_id: Option<u32>,
        prio: u32,
    ) -> Policy {
        Policy {
            index: 0,
            direction: dir,
            action: PolicyAction::Allow,
            priority: prio,
            selector_family: Family::Inet,
            selector_src: Some((ip("0.0.0.0"), 0)),
            selector_dst: Some((ip("0.0.0.0"), 0)),
            mark,
            if_id,
            templates: Vec::new(),
        }
    }

    /// Three vti, two vti6 and three xfrm tunnels, including two vti tunnels
    /// with the same endpoints and different keys (possible with different
    /// underlying links) and wildcard endpoints.
    fn tunnels() -> Vec<Tunnel> {
        vec![
            vti(10, Some("192.0.2.1"), Some("198.51.100.1"), 5, 5),
            vti(11, Some("192.0.2.1"), Some("198.51.100.1"), 6, 7), // same endpoints
            vti(12, Some("192.0.2.1"), None, 8, 8),                 // remote wildcard
            vti(13, None, Some("203.0.113.9"), 9, 9),               // local wildcard
            vti6(20, Some("2001:db8::1"), Some("2001:db8:1::1"), 5),
            vti6(21, None, None, 0x20),
            xfrmi(30, 0x42),
            xfrmi(31, 0x43),
            xfrmi(32, 0),
        ]
    }

    #[test]
    fn vti_outbound_by_okey_and_endpoints() {
        let t = tunnels();
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.1", 5)), 10);
        // Same endpoints, the other tunnel's okey (7, not its ikey 6).
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.1", 7)), 11);
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.1", 6)), 0);
        // Mismatching mark.
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.1", 99)), 0);
        // Remote wildcard: any destination, exact source.
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.77", 8)), 12);
        assert_eq!(sa_tunnel(&t, &out("192.0.2.2", "198.51.100.77", 8)), 0);
        // Local wildcard: exact destination, any source.
        assert_eq!(sa_tunnel(&t, &out("10.9.9.9", "203.0.113.9", 9)), 13);
        assert_eq!(sa_tunnel(&t, &out("10.9.9.9", "203.0.113.8", 9)), 0);
        // An SA with an unspecified source passes the local check.
        assert_eq!(sa_tunnel(&t, &out("0.0.0.0", "198.51.100.1", 5)), 10);
    }

    #[test]
    fn vti_inbound_by_ikey_and_reversed_endpoints() {
        let t = tunnels();
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.1", "192.0.2.1", 5)), 10);
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.1", "192.0.2.1", 6)), 11);
        // okey of tunnel 11 is not its RX key.
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.1", "192.0.2.1", 7)), 0);
        // Not reversed: wrong direction of endpoints.
        assert_eq!(sa_tunnel(&t, &inb("192.0.2.1", "198.51.100.1", 5)), 0);
        // Remote wildcard on RX: any peer towards our local address.
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.50", "192.0.2.1", 8)), 12);
        // Local wildcard on RX.
        assert_eq!(sa_tunnel(&t, &inb("203.0.113.9", "10.0.0.1", 9)), 13);
    }

    #[test]
    fn most_specific_tunnel_wins_for_shared_keys() {
        let t = vec![
            vti(40, None, None, 5, 5),
            vti(41, Some("192.0.2.1"), None, 5, 5),
            vti(42, Some("192.0.2.1"), Some("198.51.100.1"), 5, 5),
        ];
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.1", "192.0.2.1", 5)), 42);
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.2", "192.0.2.1", 5)), 41);
        assert_eq!(sa_tunnel(&t, &inb("198.51.100.2", "192.0.2.9", 5)), 40);
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.1", 5)), 42);
        assert_eq!(sa_tunnel(&t, &out("192.0.2.1", "198.51.100.3", 5)), 41);
    }

    #[test]
    fn fully_wildcard_vti_only_takes_unspecified_source_on_tx() {
        let t = vec![vti(50, None, None, 5, 5)];
        assert_eq!(
            sa_fit(&t[0], &out("192.0.2.1", "198.51.100.1", 5)),
            SaFit::Mismatch(SaMismatch::Endpoints)
        );
        assert_eq!(sa_tunnel(&t, &out("0.0.0.0", "198.51.100.1", 5)), 50);
    }

    #[test]
    fn vti6_family_and_wildcards() {
        let t = tunnels();
        assert_eq!(sa_tunnel(&t, &out("2001:db8::1", "2001:db8:1::1", 5)), 20);
        assert_eq!(sa_tunnel(&t, &inb("2001:db8:1::1", "2001:db8::1", 5)), 20);
        // An IPv4 SA with the right key is not a vti6 SA (and vti 10's key
        // 5 wins for it only if the endpoints fit, which they don't here).
        let v4 = out("192.0.2.77", "198.51.100.77", 5);
        assert_eq!(sa_fit(&t[4], &v4), SaFit::Mismatch(SaMismatch::Family));
        assert_eq!(sa_tunnel(&t, &v4), 0);
        // Fully wildcard vti6: RX from anywhere with its key.
        assert_eq!(
            sa_tunnel(&t, &inb("2001:db8:9::9", "2001:db8::5", 0x20)),
            21
        );
    }

    #[test]
    fn vti_mismatch_reasons() {
        let t = &tunnels()[0];
        // SA towards another peer (lab scenario 5): same mark, other endpoints.
        assert_eq!(
            sa_fit(t, &out("192.0.2.1", "198.51.100.99", 5)),
            SaFit::Mismatch(SaMismatch::Endpoints)
        );
        let mut transport = out("192.0.2.1", "198.51.100.1", 5);
        transport.mode = XfrmMode::Transport;
        assert_eq!(sa_fit(t, &transport), SaFit::Mismatch(SaMismatch::Mode));
        assert_eq!(
            sa_fit(t, &out("2001:db8::1", "2001:db8:1::1", 5)),
            SaFit::Mismatch(SaMismatch::Family)
        );
        // Unmarked SAs: used when they fit, never reported as mismatches.
        let unmarked = sa(SaDirection::Out, "192.0.2.1", "198.51.100.1", None);
        assert_eq!(sa_fit(t, &unmarked), SaFit::Match);
        let unmarked_other = sa(SaDirection::Out, "192.0.2.1", "198.51.100.99", None);
        assert_eq!(sa_fit(t, &unmarked_other), SaFit::Unrelated);
        // A masked mark: key 5 & 0xf0 = 0 matches value 0 but the mask is
        // explicit.
        let masked = sa(
            SaDirection::Out,
            "192.0.2.1",
            "198.51.100.1",
            Some((0, 0xf0)),
        );
        assert_eq!(sa_fit(t, &masked), SaFit::Match);
        let masked_no = sa(
            SaDirection::Out,
            "192.0.2.1",
            "198.51.100.1",
            Some((0x10, 0xf0)),
        );
        assert_eq!(sa_fit(t, &masked_no), SaFit::Unrelated);
        // An SA with an if_id is invisible to vti (its flows have if_id 0).
        assert_eq!(
            sa_fit(t, &with_if_id(out("192.0.2.1", "198.51.100.1", 5), 7)),
            SaFit::Unrelated
        );
    }

    #[test]
    fn xfrm_by_if_id_without_endpoint_check() {
        let t = tunnels();
        let s = with_if_id(out("192.0.2.1", "198.51.100.1", 0), 0x42);
        assert_eq!(sa_tunnel(&t, &s), 30);
        // Towards another peer: still the same interface (lab scenario 5).
        let s = with_if_id(out("10.0.0.1", "10.99.0.1", 0), 0x43);
        assert_eq!(sa_tunnel(&t, &s), 31);
        let s = with_if_id(inb("10.99.0.1", "10.0.0.1", 0), 0x43);
        assert_eq!(sa_tunnel(&t, &s), 31);
        // IPv6 SAs on the same if_id, transport mode even: if_id is all.
        let mut s = with_if_id(out("2001:db8::1", "2001:db8::2", 0), 0x42);
        s.mode = XfrmMode::Transport;
        assert_eq!(sa_tunnel(&t, &s), 30);
        // No such if_id; and if_id 0 never matches (not even tunnel 32).
        assert_eq!(
            sa_tunnel(&t, &with_if_id(out("10.0.0.1", "10.0.0.2", 0), 0x44)),
            0
        );
        assert_eq!(
            sa_tunnel(&t, &with_if_id(out("10.0.0.1", "10.0.0.2", 0), 0)),
            0
        );
        // An unmarked SA without if_id belongs to no xfrm interface (and to
        // no vti here: its endpoints fit none).
        assert_eq!(
            sa_tunnel(&t, &sa(SaDirection::Out, "10.0.0.1", "10.0.0.2", None)),
            0
        );
    }

    #[test]
    fn map_sas_keeps_order() {
        let t = tunnels();
        let sas = vec![
            out("192.0.2.1", "198.51.100.1", 7),
            with_if_id(out("10.0.0.1", "10.0.0.2", 0), 0x42),
            out("192.0.2.1", "198.51.100.1", 1234),
            inb("198.51.100.1", "192.0.2.1", 5),
        ];
        assert_eq!(map_sas(&t, &sas), vec![11, 30, 0, 10]);
        assert!(map_sas(&t, &[]).is_empty());
        assert_eq!(map_sas(&[], &sas), vec![0, 0, 0, 0]);
    }

    #[test]
    fn policies_by_mark_and_if_id() {
        use PolicyDirection::*;
        let t = tunnels();
        let policies = vec![
            policy(Out, Some((5, u32::MAX)), None, 100), // 0: vti10 out
            policy(In, Some((5, u32::MAX)), None, 100),  // 1: vti10 in
            policy(Fwd, Some((5, u32::MAX)), None, 100), // 2: fwd, never picked
            policy(Out, Some((7, u32::MAX)), None, 100), // 3: vti11 out (okey 7)
            policy(In, Some((6, u32::MAX)), None, 100),  // 4: vti11 in (ikey 6)
            policy(Out, None, Some(0x42), 100),          // 5: xfrm30 out
            policy(In, None, Some(0x42), 100),           // 6: xfrm30 in
            policy(Out, Some((5, u32::MAX)), Some(0x43), 1), // 7: if_id: not vti's
            policy(Out, None, None, 0),                  // 8: unmarked catch-all
            policy(Out, Some((5, u32::MAX)), None, 50),  // 9: better vti10 out
        ];
        let p = |i: usize| tunnel_policies(&t[i], &policies);
        assert_eq!(
            p(0),
            TunnelPolicies {
                out: Some(9),
                inbound: Some(1)
            }
        );
        assert_eq!(matching_policies(&t[0], &policies, Out), vec![9, 0, 8]);
        assert_eq!(
            p(1),
            TunnelPolicies {
                out: Some(3),
                inbound: Some(4)
            }
        );
        // No marked policy for key 8: the unmarked catch-all is what matches.
        assert_eq!(
            p(2),
            TunnelPolicies {
                out: Some(8),
                inbound: None
            }
        );
        assert_eq!(
            p(6),
            TunnelPolicies {
                out: Some(5),
                inbound: Some(6)
            }
        );
        // xfrm 31 (if_id 0x43): policy 7 matches by if_id despite its mark.
        assert_eq!(
            p(7),
            TunnelPolicies {
                out: Some(7),
                inbound: None
            }
        );
        assert_eq!(p(8), TunnelPolicies::default());
        assert_eq!(tunnel_policies(&t[0], &[]), TunnelPolicies::default());
    }

    #[test]
    fn indexed_mapper_agrees_with_the_definition() {
        // Every combination of a small world: shared keys, wildcards,
        // masked and absent marks, if_ids, both directions.
        let addrs = [None, Some("192.0.2.1"), Some("192.0.2.2"), Some("0.0.0.0")];
        let mut world = Vec::new();
        let mut ifindex = 1;
        for (i, local) in addrs.iter().enumerate() {
            for remote in &addrs[i..] {
                for key in [0, 5, 6] {
                    world.push(vti(ifindex, *local, *remote, key, key));
                    world.push(vti(ifindex + 1000, *local, *remote, key, key + 1));
                    ifindex += 1;
                }
            }
        }
        world.push(vti6(ifindex, Some("2001:db8::1"), Some("2001:db8::2"), 5));
        world.push(xfrmi(ifindex + 1, 5));
        world.push(xfrmi(ifindex + 2, 7));
        let endpoints = [
            "192.0.2.1",
            "192.0.2.2",
            "0.0.0.0",
            "2001:db8::1",
            "2001:db8::2",
        ];
        let marks = [
            None,
            Some((5, u32::MAX)),
            Some((6, u32::MAX)),
            Some((4, 0xfe)),
            Some((0, 0)),
        ];
        let mut checked = 0;
        for dir in [SaDirection::Out, SaDirection::In] {
            for src in endpoints {
                for dst in endpoints {
                    if src.contains(':') != dst.contains(':') {
                        continue;
                    }
                    for mark in marks {
                        for if_id in [None, Some(5), Some(7), Some(9)] {
                            let mut s = sa(dir, src, dst, mark);
                            s.if_id = if_id;
                            let mapper = SaMapper::new(&world);
                            assert_eq!(mapper.tunnel_of(&s), sa_tunnel(&world, &s), "{s:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 500);
    }
}
