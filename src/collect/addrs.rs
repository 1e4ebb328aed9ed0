//! The addresses of this network namespace (one RTM_GETADDR dump), used to
//! tell inbound SAs (destination is ours) from outbound ones when the kernel
//! does not send XFRMA_SA_DIR.

use std::collections::HashSet;
use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};

/// One RTM_GETADDR dump, all families.
pub async fn dump_local_addresses(
    handle: &rtnetlink::Handle,
) -> Result<HashSet<IpAddr>, rtnetlink::Error> {
    let mut addrs = handle.address().get().execute();
    let mut local = HashSet::new();
    while let Some(msg) = addrs.try_next().await? {
        if let Some(ip) = local_address(&msg) {
            local.insert(ip);
        }
    }
    Ok(local)
}

/// The interface's own address: IFA_LOCAL when present (on point-to-point
/// IPv4 links IFA_ADDRESS is the peer), else IFA_ADDRESS — as iproute2 does.
pub fn local_address(msg: &AddressMessage) -> Option<IpAddr> {
    let mut address = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(ip) => return Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    address
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_ifa_local() {
        let mut msg = AddressMessage::default();
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let me: IpAddr = "10.0.0.1".parse().unwrap();
        msg.attributes.push(AddressAttribute::Address(peer));
        assert_eq!(local_address(&msg), Some(peer));
        msg.attributes.push(AddressAttribute::Local(me));
        assert_eq!(local_address(&msg), Some(me));
        assert_eq!(local_address(&AddressMessage::default()), None);
    }
}
