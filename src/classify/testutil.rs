//! Hand-built model values for the unit tests and for the integration
//! tests' fixtures (`tests/common`). Not part of the API.

use crate::model::*;

pub fn xfrm_tunnel(ifindex: u32, name: &str, if_id: u32) -> Tunnel {
    Tunnel {
        ifindex,
        name: name.into(),
        kind: TunnelKind::Xfrm,
        local: None,
        remote: None,
        ikey: None,
        okey: None,
        fwmark: None,
        if_id: Some(if_id),
        link: 0,
        mtu: 1400,
        admin_up: true,
        oper: OperStatus::Up,
        stats: LinkStats::default(),
        error_counters_valid: true,
    }
}

pub fn vti_tunnel(ifindex: u32, name: &str, local: &str, remote: &str, key: u32) -> Tunnel {
    let local: std::net::IpAddr = local.parse().unwrap();
    Tunnel {
        kind: if local.is_ipv6() {
            TunnelKind::Vti6
        } else {
            TunnelKind::Vti
        },
        local: Some(local),
        remote: Some(remote.parse().unwrap()),
        ikey: Some(key),
        okey: Some(key),
        if_id: None,
        ..xfrm_tunnel(ifindex, name, 0)
    }
}

pub fn sa(spi: u32, src: &str, dst: &str, direction: SaDirection) -> SecurityAssociation {
    SecurityAssociation {
        spi,
        proto: 50,
        mode: XfrmMode::Tunnel,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        reqid: 1,
        direction,
        mark: None,
        set_mark: None,
        if_id: None,
        algorithms: AlgorithmNames {
            enc_alg: Some("cbc(aes)".into()),
            auth_alg: Some("hmac(sha256)".into()),
            ..AlgorithmNames::default()
        }
        .into(),
        selector_family: Family::Any,
        lifetime: SaLifetime {
            soft_byte_limit: u64::MAX,
            hard_byte_limit: u64::MAX,
            soft_packet_limit: u64::MAX,
            hard_packet_limit: u64::MAX,
            ..SaLifetime::default()
        }
        .into(),
        current: SaCurrent::default(),
        stats: SaStats::default(),
        replay: SaReplay {
            oseq: 10,
            ..SaReplay::default()
        },
    }
}

pub fn out_policy(mark: Option<u32>, if_id: Option<u32>, dst: &str) -> Policy {
    Policy {
        index: 1,
        direction: PolicyDirection::Out,
        action: PolicyAction::Allow,
        priority: 0,
        selector_family: Family::Any,
        selector_src: None,
        selector_dst: None,
        mark: mark.map(|m| (m, 0xffff_ffff)),
        if_id,
        templates: vec![PolicyTemplate {
            src: None,
            dst: Some(dst.parse().unwrap()),
            proto: 50,
            mode: XfrmMode::Tunnel,
            reqid: 1,
            spi: 0,
        }],
    }
}

/// A served row for `t` with nothing measured or diagnosed yet.
pub fn tunnel_row(t: Tunnel) -> TunnelRow {
    TunnelRow {
        tunnel: t,
        discontinuity_at: std::time::Instant::now(),
        categories: Categories::default(),
        last_delta: Categories::default(),
        last_error_at: None,
        diagnosis: Diagnosis::none(),
        sa_summary: SaSummary::default(),
        ike: None,
        peer: Peer::UNKNOWN,
    }
}
