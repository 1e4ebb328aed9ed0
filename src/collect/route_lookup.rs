//! `ip route get DST from SRC mark MARK` over netlink: a single (non-dump)
//! RTM_GETROUTE, done only when a tunnel's errors rose.

use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteMetric, RouteType,
};
use netlink_packet_route::AddressFamily;

use crate::model::RouteAnswer;

/// The kernel's answer for the outer route to `dst`; `None` when the
/// question itself failed (not an answer about reachability).
pub async fn route_to(
    handle: &rtnetlink::Handle,
    dst: IpAddr,
    src: Option<IpAddr>,
    mark: u32,
) -> Option<RouteAnswer> {
    let mut msg = RouteMessage::default();
    msg.header.address_family = match dst {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    msg.header.destination_prefix_length = full_prefix(dst);
    msg.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(dst)));
    // A wildcard or other-family source would make the kernel refuse the
    // question (EINVAL) rather than answer it.
    if let Some(src) = src.filter(|s| !s.is_unspecified() && s.is_ipv4() == dst.is_ipv4()) {
        msg.header.source_prefix_length = full_prefix(src);
        msg.attributes
            .push(RouteAttribute::Source(RouteAddress::from(src)));
    }
    if mark != 0 {
        msg.attributes.push(RouteAttribute::Mark(mark));
    }
    let answer = handle.route().get(msg).execute().try_next().await;
    match answer {
        Ok(Some(route)) => Some(describe(handle, &route).await),
        Ok(None) => None,
        Err(rtnetlink::Error::NetlinkError(e)) => {
            let errno = e.raw_code().unsigned_abs() as i32;
            Some(RouteAnswer::Unreachable(
                std::io::Error::from_raw_os_error(errno).to_string(),
            ))
        }
        Err(e) => {
            tracing::debug!("route look-up to {dst} failed: {e}");
            None
        }
    }
}

async fn describe(handle: &rtnetlink::Handle, route: &RouteMessage) -> RouteAnswer {
    match route.header.kind {
        RouteType::Unreachable => return RouteAnswer::Unreachable("unreachable route".into()),
        RouteType::BlackHole => return RouteAnswer::Unreachable("blackhole route".into()),
        RouteType::Prohibit => return RouteAnswer::Unreachable("prohibit route".into()),
        _ => {}
    }
    let oif = route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Oif(i) => Some(*i),
        _ => None,
    });
    let Some(oif) = oif else {
        return RouteAnswer::Unreachable("route has no output interface".into());
    };
    // A PMTU learned for this destination beats the device MTU.
    let route_mtu = route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Metrics(m) => m.iter().find_map(|m| match m {
            RouteMetric::Mtu(v) => Some(*v),
            _ => None,
        }),
        _ => None,
    });
    let (name, link_mtu) = link_name_mtu(handle, oif).await;
    RouteAnswer::Via {
        oif,
        oif_name: name,
        mtu: route_mtu.or(link_mtu).unwrap_or(0),
    }
}

async fn link_name_mtu(handle: &rtnetlink::Handle, ifindex: u32) -> (String, Option<u32>) {
    let link = handle
        .link()
        .get()
        .match_index(ifindex)
        .execute()
        .try_next()
        .await;
    let Ok(Some(link)) = link else {
        return (format!("ifindex {ifindex}"), None);
    };
    let mut name = format!("ifindex {ifindex}");
    let mut mtu = None;
    for attr in &link.attributes {
        match attr {
            LinkAttribute::IfName(n) => name = n.clone(),
            LinkAttribute::Mtu(m) => mtu = Some(*m),
            _ => {}
        }
    }
    (name, mtu)
}

fn full_prefix(a: IpAddr) -> u8 {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}
