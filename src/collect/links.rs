//! Tunnel interfaces from an RTM_GETLINK dump, read on a NETLINK_ROUTE
//! socket of our own.
//!
//! Each datagram of the dump is read into one reused buffer and each
//! RTM_NEWLINK in it is looked at in place (`netlink-packet-core`'s
//! `NetlinkBuffer` / `NlasIterator`): links that are not vti, vti6 or xfrm
//! cost no allocation, and a tunnel keeps only the fields we serve. Decoding
//! every attribute of every link into a `LinkMessage` and queueing the whole
//! dump (what rtnetlink's handle does) made the poll-time memory peak grow
//! with the number of interfaces several times over the data we keep.
//!
//! IFLA_STATS64 length: `struct rtnl_link_stats64` grows across kernel
//! versions (rx_nohandler in 4.6, rx_otherhost_dropped in 6.0). A field is
//! read when the attribute holds it and is zero otherwise; trailing fields
//! of a newer, longer struct are ignored. Every field we use (up to
//! tx_carrier_errors, byte 144) has been in the struct since IFLA_STATS64
//! appeared (2.6.35), so the zero-fill never hides a counter we report.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    parse_ip, parse_u32, parse_u32_be, NetlinkBuffer, NlasIterator, NLA_HEADER_SIZE, NLMSG_DONE,
    NLMSG_ERROR, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use tokio::io::unix::AsyncFd;

use super::kernel::{error_counters_valid, KernelVersion};
use crate::model::{LinkStats, OperStatus, Tunnel, TunnelKind};

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
/// `struct ifinfomsg`: family, pad, type, index, flags, change.
const IFINFOMSG_LEN: usize = 16;
/// `ifinfomsg.ifi_flags` bit: administratively up.
const IFF_UP: u32 = 0x1;
const NLMSG_HDR_LEN: usize = 16;

const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_STATS64: u16 = 23;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;

const IFLA_VTI_LINK: u16 = 1;
const IFLA_VTI_IKEY: u16 = 2;
const IFLA_VTI_OKEY: u16 = 3;
const IFLA_VTI_LOCAL: u16 = 4;
const IFLA_VTI_REMOTE: u16 = 5;
const IFLA_VTI_FWMARK: u16 = 6;
const IFLA_XFRM_LINK: u16 = 1;
const IFLA_XFRM_IF_ID: u16 = 2;

/// The kernel sizes a dump datagram to the reader's buffer, up to 32 KiB
/// (`netlink_dump`); twice that leaves room for one oversized link.
const RECV_BUFFER: usize = 64 * 1024;

/// A NETLINK_ROUTE socket for the link dump, kept open across polls.
pub struct LinkDumper {
    socket: AsyncFd<Socket>,
    buffer: Vec<u8>,
    seq: u32,
}

impl LinkDumper {
    /// Opens and binds the socket. Must be called inside a tokio runtime.
    pub fn open() -> io::Result<LinkDumper> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket.set_non_blocking(true)?;
        // SAFETY: `Socket` owns its descriptor, closes it only on drop and
        // is never swapped out of the `AsyncFd`, so the registered fd stays
        // the same open socket for the `AsyncFd`'s lifetime.
        let socket = unsafe { AsyncFd::register(socket) }.map_err(io::Error::from)?;
        Ok(LinkDumper {
            socket,
            buffer: Vec::new(),
            seq: 0,
        })
    }

    /// One RTM_GETLINK dump; returns the vti/vti6/xfrm interfaces, sorted by
    /// ifindex. Messages of an earlier, abandoned dump are skipped by their
    /// sequence number.
    pub async fn dump_tunnels(&mut self, kernel: Option<KernelVersion>) -> io::Result<Vec<Tunnel>> {
        self.seq = self.seq.wrapping_add(1);
        self.send(&dump_request(self.seq)).await?;
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.reserve_exact(RECV_BUFFER);
        let mut tunnels = Vec::new();
        let outcome = loop {
            buffer.clear();
            let len = match self.recv(&mut buffer).await {
                Ok(len) => len,
                Err(e) => break Err(e),
            };
            if len > buffer.len() {
                break Err(io::Error::other(format!(
                    "RTM_GETLINK datagram of {len} bytes exceeds the {} byte buffer",
                    buffer.len()
                )));
            }
            match read_datagram(&buffer, self.seq, kernel, &mut tunnels) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(e) => break Err(e),
            }
        };
        self.buffer = buffer;
        outcome?;
        tunnels.sort_by_key(|t| t.ifindex);
        Ok(tunnels)
    }

    async fn send(&self, request: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.socket.writable().await?;
            match guard.try_io(|s| s.get_ref().send(request, 0)) {
                Ok(sent) => return sent.map(drop),
                Err(_would_block) => continue,
            }
        }
    }

    /// One datagram into `buffer`; returns its full length (MSG_TRUNC), which
    /// exceeds the buffer's when it was cut.
    async fn recv(&self, buffer: &mut Vec<u8>) -> io::Result<usize> {
        loop {
            let mut guard = self.socket.readable().await?;
            match guard.try_io(|s| s.get_ref().recv(buffer, libc::MSG_TRUNC)) {
                Ok(received) => return received,
                Err(_would_block) => continue,
            }
        }
    }
}

/// RTM_GETLINK with NLM_F_DUMP for every address family.
fn dump_request(seq: u32) -> [u8; NLMSG_HDR_LEN + IFINFOMSG_LEN] {
    const LEN: usize = NLMSG_HDR_LEN + IFINFOMSG_LEN;
    let mut request = [0u8; LEN];
    request[0..4].copy_from_slice(&(LEN as u32).to_ne_bytes());
    request[4..6].copy_from_slice(&RTM_GETLINK.to_ne_bytes());
    request[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    request[8..12].copy_from_slice(&seq.to_ne_bytes());
    request
}

/// Reads the netlink messages of one datagram of the dump numbered `seq`,
/// appending its tunnels. `Ok(true)` at NLMSG_DONE.
fn read_datagram(
    mut datagram: &[u8],
    seq: u32,
    kernel: Option<KernelVersion>,
    tunnels: &mut Vec<Tunnel>,
) -> io::Result<bool> {
    while !datagram.is_empty() {
        let message = NetlinkBuffer::new_checked(datagram)
            .map_err(|e| io::Error::other(format!("malformed RTM_GETLINK datagram: {e}")))?;
        let len = message.length() as usize;
        let payload = message.payload();
        if message.sequence_number() == seq {
            match message.message_type() {
                RTM_NEWLINK => tunnels.extend(tunnel_from_link(payload, kernel)),
                NLMSG_DONE => return status(payload).map(|()| true),
                NLMSG_ERROR => status(payload)?,
                _ => {}
            }
        }
        // Messages are 4-byte aligned within a datagram.
        datagram = datagram.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(false)
}

/// The error code leading an NLMSG_ERROR or NLMSG_DONE payload (negative
/// errno, 0 for none).
fn status(payload: &[u8]) -> io::Result<()> {
    match payload
        .get(..4)
        .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
    {
        Some(code) if code < 0 => Err(io::Error::from_raw_os_error(-code)),
        _ => Ok(()),
    }
}

/// The attributes of one link that we serve, as slices of its message.
#[derive(Default)]
struct LinkAttributes<'a> {
    name: Option<&'a [u8]>,
    mtu: Option<&'a [u8]>,
    oper: Option<&'a [u8]>,
    stats64: Option<&'a [u8]>,
    kind: Option<&'a [u8]>,
    data: Option<&'a [u8]>,
}

impl<'a> LinkAttributes<'a> {
    fn find(attributes: &'a [u8]) -> LinkAttributes<'a> {
        let mut found = LinkAttributes::default();
        for (kind, value) in nlas(attributes) {
            match kind {
                IFLA_IFNAME => found.name = Some(value),
                IFLA_MTU => found.mtu = Some(value),
                IFLA_OPERSTATE => found.oper = Some(value),
                IFLA_STATS64 => found.stats64 = Some(value),
                IFLA_LINKINFO => {
                    for (info, value) in nlas(value) {
                        match info {
                            IFLA_INFO_KIND => found.kind = Some(value),
                            IFLA_INFO_DATA => found.data = Some(value),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        found
    }
}

/// (type, value) of the well-formed attributes of a block; iteration stops
/// at the first malformed one.
fn nlas(block: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    NlasIterator::new(block).map_while(Result::ok).map(|nla| {
        let (kind, len) = (nla.kind(), nla.length() as usize);
        (kind, &nla.into_inner()[NLA_HEADER_SIZE..len])
    })
}

/// Converts one RTM_NEWLINK payload (`ifinfomsg` + attributes); `None`
/// unless its IFLA_INFO_KIND is vti, vti6 or xfrm.
pub fn tunnel_from_link(payload: &[u8], kernel: Option<KernelVersion>) -> Option<Tunnel> {
    let header = payload.get(..IFINFOMSG_LEN)?;
    let attrs = LinkAttributes::find(&payload[IFINFOMSG_LEN..]);
    let kind = TunnelKind::from_link_kind(c_string(attrs.kind?)?)?;

    let mut t = Tunnel {
        ifindex: u32::from_ne_bytes(header[4..8].try_into().unwrap()),
        name: attrs.name.and_then(c_string).unwrap_or_default().to_owned(),
        kind,
        local: None,
        remote: None,
        ikey: None,
        okey: None,
        fwmark: None,
        if_id: None,
        link: 0,
        mtu: attrs.mtu.and_then(|v| parse_u32(v).ok()).unwrap_or(0),
        admin_up: u32::from_ne_bytes(header[8..12].try_into().unwrap()) & IFF_UP != 0,
        oper: attrs
            .oper
            .and_then(|v| v.first())
            .map_or(OperStatus::Unknown, |&s| oper_status(s)),
        stats: attrs.stats64.map(link_stats).unwrap_or_default(),
        error_counters_valid: false,
    };
    if let Some(data) = attrs.data {
        match kind {
            TunnelKind::Vti | TunnelKind::Vti6 => apply_vti(&mut t, data),
            TunnelKind::Xfrm => apply_xfrm(&mut t, data),
        }
    }
    // Without IFLA_STATS64 we have no counters at all: unavailable, not zero.
    t.error_counters_valid = attrs.stats64.is_some() && error_counters_valid(kind, kernel);
    (!is_fallback_device(&t)).then_some(t)
}

/// A NUL-terminated (or unterminated) UTF-8 string attribute.
fn c_string(value: &[u8]) -> Option<&str> {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    std::str::from_utf8(&value[..end]).ok()
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

/// IFLA_INFO_DATA of vti and vti6 (`vti_fill_info`).
fn apply_vti(t: &mut Tunnel, data: &[u8]) {
    for (kind, value) in nlas(data) {
        match kind {
            // The keys are big-endian on the wire (__be32).
            IFLA_VTI_IKEY => t.ikey = parse_u32_be(value).ok(),
            IFLA_VTI_OKEY => t.okey = parse_u32_be(value).ok(),
            IFLA_VTI_LOCAL => t.local = parse_ip(value).ok().and_then(specified),
            IFLA_VTI_REMOTE => t.remote = parse_ip(value).ok().and_then(specified),
            IFLA_VTI_LINK => t.link = parse_u32(value).unwrap_or(0),
            IFLA_VTI_FWMARK => t.fwmark = parse_u32(value).ok().filter(|&m| m != 0),
            _ => {}
        }
    }
}

/// IFLA_INFO_DATA of xfrm (`xfrmi_fill_info`).
fn apply_xfrm(t: &mut Tunnel, data: &[u8]) {
    for (kind, value) in nlas(data) {
        match kind {
            IFLA_XFRM_IF_ID => t.if_id = parse_u32(value).ok(),
            IFLA_XFRM_LINK => t.link = parse_u32(value).unwrap_or(0),
            _ => {}
        }
    }
}

/// The kernel always sends IFLA_VTI_LOCAL/REMOTE; the unspecified address
/// means "any".
fn specified(ip: IpAddr) -> Option<IpAddr> {
    (!ip.is_unspecified()).then_some(ip)
}

/// IF_OPER_* (RFC 2863 operational status as the kernel numbers it).
fn oper_status(state: u8) -> OperStatus {
    match state {
        1 => OperStatus::NotPresent,
        2 => OperStatus::Down,
        3 => OperStatus::LowerLayerDown,
        4 => OperStatus::Testing,
        5 => OperStatus::Dormant,
        6 => OperStatus::Up,
        _ => OperStatus::Unknown,
    }
}

/// The counters we serve from `struct rtnl_link_stats64` (u64 fields in
/// order: rx/tx packets, rx/tx bytes, rx/tx errors, rx/tx dropped,
/// multicast, collisions, six rx_*_errors, tx_aborted_errors,
/// tx_carrier_errors, …); a field past the attribute's end reads zero.
fn link_stats(value: &[u8]) -> LinkStats {
    let field = |i: usize| {
        value
            .get(i * 8..i * 8 + 8)
            .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap()))
    };
    LinkStats {
        rx_packets: field(0),
        tx_packets: field(1),
        rx_bytes: field(2),
        tx_bytes: field(3),
        rx_errors: field(4),
        tx_errors: field(5),
        rx_dropped: field(6),
        tx_dropped: field(7),
        collisions: field(9),
        tx_aborted_errors: field(16),
        tx_carrier_errors: field(17),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NLA_F_NESTED;
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

    /// A RTM_NEWLINK payload (ifinfomsg + attributes) as the kernel builds it.
    fn link_msg(
        index: u32,
        name: &str,
        kind: &str,
        data: &[u8],
        stats: Option<&[u8]>,
        operstate: u8,
    ) -> Vec<u8> {
        let mut buf = vec![0u8; 16];
        buf[4..8].copy_from_slice(&(index as i32).to_ne_bytes());
        buf[8..12].copy_from_slice(&IFF_UP.to_ne_bytes());
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
        buf
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

    /// One netlink message (header + payload), padded to 4 bytes.
    fn frame(datagram: &mut Vec<u8>, message_type: u16, seq: u32, payload: &[u8]) {
        let len = NLMSG_HDR_LEN + payload.len();
        datagram.extend_from_slice(&(len as u32).to_ne_bytes());
        datagram.extend_from_slice(&message_type.to_ne_bytes());
        datagram.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
        datagram.extend_from_slice(&seq.to_ne_bytes());
        datagram.extend_from_slice(&0u32.to_ne_bytes());
        datagram.extend_from_slice(payload);
        while !datagram.len().is_multiple_of(4) {
            datagram.push(0);
        }
    }

    #[test]
    fn vti_link_with_keys_in_host_order() {
        let data = vti_data(&[192, 0, 2, 1], &[192, 0, 2, 2], 0x0102_0304, 5);
        let s = stats64(25);
        let msg = link_msg(9, "vti0", "vti", &data, Some(&s), 6);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert_eq!(t.ifindex, 9);
        assert!(t.admin_up, "IFF_UP in ifi_flags");
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
        assert_eq!(t.stats.rx_bytes, 3000);
        assert_eq!(t.stats.tx_bytes, 4000);
        assert_eq!(t.stats.rx_errors, 5000);
        assert_eq!(t.stats.tx_errors, 6000);
        assert_eq!(t.stats.rx_dropped, 7000);
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
    fn fallback_devices_are_not_tunnels() {
        let data = vti_data(&[0; 4], &[0; 4], 0, 0);
        let msg = link_msg(2, "ip_vti0", "vti", &data, Some(&stats64(25)), 2);
        assert!(tunnel_from_link(&msg, V6_1).is_none());
        let data = vti_data(&[0; 16], &[0; 16], 0, 0);
        let msg = link_msg(3, "ip6_vti0", "vti6", &data, Some(&stats64(25)), 2);
        assert!(tunnel_from_link(&msg, V6_1).is_none());
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
        // No IFLA_LINKINFO at all (lo, physical NICs).
        let mut plain = vec![0u8; 16];
        nla(&mut plain, IFLA_IFNAME, b"lo\0");
        assert!(tunnel_from_link(&plain, V6_1).is_none());
        // The kernel NUL-terminates IFLA_INFO_KIND; a longer kind is not ours.
        let msg = link_msg(6, "x", "vti6x", &[], None, 6);
        assert!(tunnel_from_link(&msg, V6_1).is_none());
        let msg = link_msg(6, "x", "vti6\0", &[], None, 6);
        assert_eq!(tunnel_from_link(&msg, V6_1).unwrap().kind, TunnelKind::Vti6);
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
    }

    #[test]
    fn missing_stats64_means_counters_unavailable() {
        let data = vti_data(&[10, 0, 0, 1], &[10, 0, 0, 2], 1, 1);
        let msg = link_msg(1, "vti1", "vti", &data, None, 6);
        let t = tunnel_from_link(&msg, V6_1).unwrap();
        assert!(!t.error_counters_valid);
        assert_eq!(t.stats, LinkStats::default());
    }

    #[test]
    fn malformed_messages_never_panic() {
        let data = vti_data(&[10, 0, 0, 1], &[10, 0, 0, 2], 1, 1);
        let msg = link_msg(1, "vti1", "vti", &data, Some(&stats64(25)), 6);
        // Every truncation: no panic; the header alone is never a tunnel.
        for cut in 0..msg.len() {
            let _ = tunnel_from_link(&msg[..cut], V6_1);
        }
        assert!(tunnel_from_link(&msg[..16], V6_1).is_none());
        // An attribute claiming more than the message holds.
        let mut bad = msg.clone();
        bad[16..18].copy_from_slice(&0xfff0u16.to_ne_bytes());
        assert!(tunnel_from_link(&bad, V6_1).is_none());
        // A malformed vti address is left unset, the rest is read.
        let mut d = Vec::new();
        nla(&mut d, IFLA_VTI_LOCAL, &[10, 0, 0]);
        nla(&mut d, IFLA_VTI_OKEY, &9u32.to_be_bytes());
        let t = tunnel_from_link(&link_msg(1, "v", "vti", &d, None, 6), V6_1).unwrap();
        assert_eq!((t.local, t.okey), (None, Some(9)));
    }

    #[test]
    fn a_dump_datagram_keeps_its_tunnels_until_done() {
        let vti = link_msg(
            9,
            "vti9",
            "vti",
            &vti_data(&[192, 0, 2, 1], &[192, 0, 2, 2], 1, 1),
            Some(&stats64(25)),
            6,
        );
        let gre = link_msg(5, "gre0", "gre", &[], Some(&stats64(25)), 6);
        let stale = link_msg(
            8,
            "vti8",
            "vti",
            &vti_data(&[192, 0, 2, 1], &[192, 0, 2, 3], 2, 2),
            None,
            6,
        );
        let mut datagram = Vec::new();
        frame(&mut datagram, RTM_NEWLINK, 7, &vti);
        frame(&mut datagram, RTM_NEWLINK, 7, &gre);
        frame(&mut datagram, RTM_NEWLINK, 6, &stale); // an abandoned dump
        let mut tunnels = Vec::new();
        assert!(!read_datagram(&datagram, 7, V6_1, &mut tunnels).unwrap());
        assert_eq!(tunnels.iter().map(|t| t.ifindex).collect::<Vec<_>>(), [9]);

        let mut last = Vec::new();
        frame(&mut last, NLMSG_DONE, 6, &0i32.to_ne_bytes()); // not ours
        frame(&mut last, NLMSG_DONE, 7, &0i32.to_ne_bytes());
        assert!(read_datagram(&last, 7, V6_1, &mut tunnels).unwrap());

        let mut failed = Vec::new();
        frame(&mut failed, NLMSG_ERROR, 7, &(-libc::EBUSY).to_ne_bytes());
        let e = read_datagram(&failed, 7, V6_1, &mut tunnels).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
        let mut interrupted = Vec::new();
        frame(
            &mut interrupted,
            NLMSG_DONE,
            7,
            &(-libc::EINTR).to_ne_bytes(),
        );
        assert!(read_datagram(&interrupted, 7, V6_1, &mut tunnels).is_err());
        // A header cut short is an error, not a panic.
        assert!(read_datagram(&datagram[..10], 7, V6_1, &mut tunnels).is_err());
    }

    #[test]
    fn dump_request_bytes() {
        let r = dump_request(0x0102_0304);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 32);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), RTM_GETLINK);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(
            u32::from_ne_bytes(r[8..12].try_into().unwrap()),
            0x0102_0304
        );
        assert!(r[12..].iter().all(|&b| b == 0));
    }

    /// The real kernel: a dump on this host's namespace completes, and twice
    /// in a row on the same socket (sequence numbers advance).
    #[tokio::test]
    async fn dumps_this_namespace() {
        let mut dumper = LinkDumper::open().unwrap();
        let first = dumper.dump_tunnels(V6_1).await.unwrap();
        let second = dumper.dump_tunnels(V6_1).await.unwrap();
        assert_eq!(
            first.iter().map(|t| t.ifindex).collect::<Vec<_>>(),
            second.iter().map(|t| t.ifindex).collect::<Vec<_>>()
        );
        assert!(first.windows(2).all(|w| w[0].ifindex < w[1].ifindex));
    }
}
