//! Tunnel interfaces from an RTM_GETLINK dump (rtnetlink / netlink-packet-route).
//!
//! IFLA_STATS64 length: `struct rtnl_link_stats64` grows across kernel
//! versions (rx_nohandler in 4.6, rx_otherhost_dropped in 6.0). The parsed
//! `Stats64` of netlink-packet-route 0.34 hides the attribute length, but it
//! does the right thing with it (`expand_buffer_if_small` +
//! `Stats64::parse`): it copies `min(attribute length, struct size)` bytes
//! and zero-fills the rest, and it ignores trailing bytes from a newer,
//! longer struct. Every field we use (up to tx_carrier_errors, byte 144)
//! has been in the struct since IFLA_STATS64 appeared (2.6.35), so the
//! zero-fill never hides a counter we report. The tests below pin this
//! behaviour on hand-built messages so a crate upgrade that changes it fails.

use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVti, InfoXfrm, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State,
    Stats64,
};

use super::kernel::{error_counters_valid, KernelVersion};
use crate::model::{LinkStats, OperStatus, Tunnel, TunnelKind};

/// One RTM_GETLINK dump; returns the vti/vti6/xfrm interfaces, sorted by
/// ifindex.
pub async fn dump_tunnels(
    handle: &rtnetlink::Handle,
    kernel: Option<KernelVersion>,
) -> Result<Vec<Tunnel>, rtnetlink::Error> {
    let mut links = handle.link().get().execute();
    let mut tunnels = Vec::new();
    while let Some(msg) = links.try_next().await? {
        if let Some(t) = tunnel_from_link(&msg, kernel) {
            tunnels.push(t);
        }
    }
    tunnels.sort_by_key(|t| t.ifindex);
    Ok(tunnels)
}

/// Converts one link message; `None` unless its IFLA_INFO_KIND is vti, vti6
/// or xfrm.
pub fn tunnel_from_link(msg: &LinkMessage, kernel: Option<KernelVersion>) -> Option<Tunnel> {
    let infos = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => Some(infos),
        _ => None,
    })?;
    let kind = infos.iter().find_map(|i| match i {
        LinkInfo::Kind(InfoKind::Vti) => Some(TunnelKind::Vti),
        LinkInfo::Kind(InfoKind::Vti6) => Some(TunnelKind::Vti6),
        LinkInfo::Kind(InfoKind::Xfrm) => Some(TunnelKind::Xfrm),
        LinkInfo::Kind(InfoKind::Other(k)) => TunnelKind::from_link_kind(k),
        _ => None,
    })?;

    let mut t = Tunnel {
        ifindex: msg.header.index,
        name: String::new(),
        kind,
        local: None,
        remote: None,
        ikey: None,
        okey: None,
        fwmark: None,
        if_id: None,
        link: 0,
        mtu: 0,
        admin_up: msg.header.flags.contains(LinkFlags::Up),
        oper: OperStatus::Unknown,
        stats: LinkStats::default(),
        error_counters_valid: false,
    };
    let mut have_stats = false;
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(name) => t.name = name.clone(),
            LinkAttribute::Mtu(mtu) => t.mtu = *mtu,
            LinkAttribute::OperState(state) => t.oper = oper_status(*state),
            LinkAttribute::Stats64(s) => {
                t.stats = link_stats(s);
                have_stats = true;
            }
            _ => {}
        }
    }
    for info in infos {
        match info {
            LinkInfo::Data(InfoData::Vti(vti)) => apply_vti(&mut t, vti),
            LinkInfo::Data(InfoData::Xfrm(xfrm)) => apply_xfrm(&mut t, xfrm),
            _ => {}
        }
    }
    // Without IFLA_STATS64 we have no counters at all: unavailable, not zero.
    t.error_counters_valid = have_stats && error_counters_valid(kind, kernel);
    (!is_fallback_device(&t)).then_some(t)
}

/// ip_vti0 / ip6_vti0: the per-namespace catch-all devices the vti modules
/// create for received packets that match no tunnel. They never carry
/// outbound traffic of their own, and their key 0 would "match" every
/// unmarked policy: not tunnels an operator configured.
fn is_fallback_device(t: &Tunnel) -> bool {
    let fallback_name = match t.kind {
        TunnelKind::Vti => "ip_vti0",
        TunnelKind::Vti6 => "ip6_vti0",
        TunnelKind::Xfrm => return false,
    };
    t.name == fallback_name && t.local.is_none() && t.remote.is_none()
}

fn apply_vti(t: &mut Tunnel, attrs: &[InfoVti]) {
    for a in attrs {
        match a {
            // netlink-packet-route reads the keys with parse_u32_be:
            // they are already in host order here.
            InfoVti::IKey(k) => t.ikey = Some(*k),
            InfoVti::OKey(k) => t.okey = Some(*k),
            InfoVti::Local(ip) => t.local = specified(*ip),
            InfoVti::Remote(ip) => t.remote = specified(*ip),
            InfoVti::Link(l) => t.link = *l,
            InfoVti::FwMark(m) => t.fwmark = (*m != 0).then_some(*m),
            _ => {}
        }
    }
}

fn apply_xfrm(t: &mut Tunnel, attrs: &[InfoXfrm]) {
    for a in attrs {
        match a {
            InfoXfrm::IfId(id) => t.if_id = Some(*id),
            InfoXfrm::Link(l) => t.link = *l,
            _ => {}
        }
    }
}

/// The kernel always sends IFLA_VTI_LOCAL/REMOTE; the unspecified address
/// means "any".
fn specified(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

fn oper_status(state: State) -> OperStatus {
    match state {
        State::Up => OperStatus::Up,
        State::Down => OperStatus::Down,
        State::LowerLayerDown => OperStatus::LowerLayerDown,
        State::Testing => OperStatus::Testing,
        State::Dormant => OperStatus::Dormant,
        State::NotPresent => OperStatus::NotPresent,
        State::Unknown | State::Other(_) => OperStatus::Unknown,
        #[allow(unreachable_patterns)] // State is non_exhaustive
        _ => OperStatus::Unknown,
    }
}

fn link_stats(s: &Stats64) -> LinkStats {
    LinkStats {
        rx_packets: s.rx_packets,
        tx_packets: s.tx_packets,
        rx_bytes: s.rx_bytes,
        tx_bytes: s.tx_bytes,
        rx_errors: s.rx_errors,
        tx_errors: s.tx_errors,
        rx_dropped: s.rx_dropped,
        tx_dropped: s.tx_dropped,
        collisions: s.collisions,
        tx_aborted_errors: s.tx_aborted_errors,
        tx_carrier_errors: s.tx_carrier_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NlaBuffer, Parseable};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const V6_1: Option<KernelVersion> = Some(KernelVersion { major: 6, minor: 1 });
    const V5_10: Option<KernelVersion> = Some(KernelVersion {
        major: 5,
        minor: 10,
    });

    /// Appends one netlink attribute (4-byte aligned).
    fn nla(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        buf.extend_from_slice(&(len as u16).to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(value);
        while !buf.len().is_multiple_of(4) {
            buf.push(0);
        }
    }

    /// IFLA_STATS64 payload of `fields` u64s, field i = (i + 1) * 1000.
    fn stats64(fields: usize) -> Vec<u8> {
        (0..fields)
            .flat_map(|i| ((i as u64 + 1) * 1000).to_ne_bytes())
            .collect()
    }

    const IFLA_IFNAME: u16 = 3;
    const IFLA_MTU: u16 = 4;
    const IFLA_OPERSTATE: u16 = 16;
    const IFLA_LINKINFO: u16 = 18;
    const IFLA_STATS64: u16 = 23;
    const IFLA_INFO_KIND: u16 = 1;
    const IFLA_INFO_DATA: u16 = 2;
    const NLA_F_NESTED: u16 = 0x8000;

    /// A RTM_NEWLINK payload (ifinfomsg + attributes) as the kernel builds it.
    fn link_msg(
        index: u32,
        name: &str,
        kind: &str,
        data: &[u8],
        stats: Option<&[u8]>,
        operstate: u8,
    ) -> LinkMessage {
        let mut buf = vec![0u8; 16];
        buf[4..8].copy_from_slice(&(index as i32).to_ne_bytes());
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        nla(&mut buf, IFLA_IFNAME, &n);
        nla(&mut buf, IFLA_MTU, &1480u32.to_ne_bytes());
        nla(&mut buf, IFLA_OPERSTATE, &[operstate]);
        if let Some(s) = stats {
            nla(&mut buf, IFLA_STATS64, s);
        }
        let mut info = Vec::new();
        nla(&mut info, IFLA_INFO_KIND, kind.as_bytes());
        nla(&mut info, IFLA_INFO_DATA | NLA_F_NESTED, data);
        nla(&mut buf, IFLA_LINKINFO | NLA_F_NESTED, &info);
        LinkMessage::parse(buf.as_slice()).expect("link message parses")
    }

    fn vti_data(local: &[u8], remote: &[u8], ikey: u32, okey: u32) -> Vec<u8> {
        let mut d = Vec::new();
        nla(&mut d, 1, &7u32.to_ne_bytes()); // IFLA_VTI_LINK
        nla(&mut d, 2, &ikey.to_be_bytes()); // IFLA_VTI_IKEY, big-endian
        nla(&mut d, 3, &okey.to_be_bytes()); // IFLA_VTI_OKEY, big-endian
        nla(&mut d, 4, local);
        nla(&mut d, 5, remote);
        nla(&mut d, 6, &0u32.to_ne_bytes()); // IFLA_VTI_FWMARK
        d
    }

    #[test]
    fn vti_link_with_keys_in_host_order() {
        let data = vti_data(&[192, 0, 2, 1], &[192, 0, 2, 2], 0x0102_0304, 5);
        let s = stats64(25);
        let msg = link_msg(9, "vti0", "vti", &data, Some(&s), 6);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert_eq!(t.ifindex, 9);
        assert_eq!(t.name, "vti0");
        assert_eq!(t.kind, TunnelKind::Vti);
        assert_eq!(t.ikey, Some(0x0102_0304));
        assert_eq!(t.okey, Some(5));
        assert_eq!(t.local, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(t.remote, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))));
        assert_eq!(t.link, 7);
        assert_eq!(t.fwmark, None);
        assert_eq!(t.mtu, 1480);
        assert_eq!(t.oper, OperStatus::Up);
        assert!(t.error_counters_valid);
        // rtnl_link_stats64 field order.
        assert_eq!(t.stats.rx_packets, 1000);
        assert_eq!(t.stats.tx_packets, 2000);
        assert_eq!(t.stats.tx_errors, 6000);
        assert_eq!(t.stats.tx_dropped, 8000);
        assert_eq!(t.stats.collisions, 10000);
        assert_eq!(t.stats.tx_aborted_errors, 17000);
        assert_eq!(t.stats.tx_carrier_errors, 18000);
    }

    #[test]
    fn vti6_wildcard_endpoints_are_none() {
        let data = vti_data(&[0; 16], &Ipv6Addr::LOCALHOST.octets(), 0, 0);
        let msg = link_msg(3, "ip6vti0", "vti6", &data, Some(&stats64(23)), 0);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert_eq!(t.kind, TunnelKind::Vti6);
        assert_eq!(t.local, None);
        assert_eq!(t.remote, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!((t.ikey, t.okey), (Some(0), Some(0)));
        assert_eq!(t.oper, OperStatus::Unknown);
    }

    #[test]
    fn xfrm_link_and_the_5_10_rule() {
        let mut data = Vec::new();
        nla(&mut data, 1, &2u32.to_ne_bytes()); // IFLA_XFRM_LINK
        nla(&mut data, 2, &0x42u32.to_ne_bytes()); // IFLA_XFRM_IF_ID
        nla(&mut data, 3, &[]); // IFLA_XFRM_COLLECT_METADATA (flag)
        let msg = link_msg(4, "xfrm0", "xfrm", &data, Some(&stats64(25)), 2);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert_eq!((t.kind, t.if_id, t.link), (TunnelKind::Xfrm, Some(0x42), 2));
        assert_eq!(t.oper, OperStatus::Down);
        assert!(t.error_counters_valid);
        let old = tunnel_from_link(&msg, V5_10).unwrap();
        assert!(!old.error_counters_valid);
    }

    #[test]
    fn other_kinds_are_ignored() {
        let msg = link_msg(5, "gre0", "gre", &[], Some(&stats64(23)), 6);
        assert!(tunnel_from_link(&msg, V6_1).is_none());
    }

    #[test]
    fn stats64_sized_by_attribute_length() {
        let data = vti_data(&[10, 0, 0, 1], &[10, 0, 0, 2], 1, 1);
        // 23 fields (pre-4.6), 24 (4.6..5.19), 25 (6.0+), and a future 27.
        for fields in [23usize, 24, 25, 27] {
            let s = stats64(fields);
            let msg = link_msg(1, "vti1", "vti", &data, Some(&s), 6);
            let t = tunnel_from_link(&msg, V6_1).unwrap();
            assert_eq!(t.stats.tx_carrier_errors, 18000, "{fields} fields");
            assert_eq!(t.stats.tx_bytes, 4000, "{fields} fields");
        }
        // A truncated struct: present fields read, the missing ones zero.
        let s = stats64(9);
        let msg = link_msg(1, "vti1", "vti", &data, Some(&s), 6);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert_eq!(t.stats.tx_dropped, 8000);
        assert_eq!(t.stats.collisions, 0);
        assert_eq!(t.stats.tx_carrier_errors, 0);
        // And the crate's own view of the short attribute.
        let mut raw = Vec::new();
        nla(&mut raw, IFLA_STATS64, &stats64(9));
        let parsed = Stats64::parse(&stats64(9)).unwrap();
        assert_eq!((parsed.tx_dropped, parsed.collisions), (8000, 0));
        assert_eq!(NlaBuffer::new(&raw).value_length(), 72);
    }

    #[test]
    fn missing_stats64_means_counters_unavailable() {
        let data = vti_data(&[10, 0, 0, 1], &[10, 0, 0, 2], 1, 1);
        let msg = link_msg(1, "vti1", "vti", &data, None, 6);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert!(!t.error_counters_valid);
        assert_eq!(t.stats, LinkStats::default());
    }
}
