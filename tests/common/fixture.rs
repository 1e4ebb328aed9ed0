//! A `SampleSource` with hand-built tunnels and SAs, fed through the same
//! seam (`model::SampleSource`) the netlink collector uses.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use vti_agentx::model::*;

#[derive(Clone)]
pub struct FixtureSource {
    pub data: Arc<Mutex<FixtureData>>,
}

#[derive(Clone)]
pub struct FixtureData {
    pub tunnels: Vec<Tunnel>,
    pub sas: Vec<SecurityAssociation>,
    pub xfrm_stat: Vec<(String, u64)>,
}

impl FixtureSource {
    pub fn new(data: FixtureData) -> Self {
        FixtureSource {
            data: Arc::new(Mutex::new(data)),
        }
    }
}

impl SampleSource for FixtureSource {
    fn collect(&mut self) -> impl std::future::Future<Output = anyhow::Result<Sample>> + Send {
        let d = self.data.lock().unwrap().clone();
        async move {
            Ok(Sample {
                taken_at: Instant::now(),
                wall_time: SystemTime::now(),
                kernel_release: "6.1.0-fixture".into(),
                tunnels: d.tunnels,
                sas: Availability::Available(d.sas),
                policies: Availability::Available(vec![]),
                xfrm_stat: Availability::Available(d.xfrm_stat),
            })
        }
    }
}

pub fn tunnel(ifindex: u32, name: &str, kind: TunnelKind) -> Tunnel {
    let (local, remote) = match kind {
        TunnelKind::Vti => (
            Some("192.0.2.1".parse().unwrap()),
            Some("198.51.100.7".parse().unwrap()),
        ),
        TunnelKind::Vti6 => (
            Some("2001:db8::1".parse().unwrap()),
            Some("2001:db8::7".parse().unwrap()),
        ),
        TunnelKind::Xfrm => (None, None),
    };
    let keyed = kind != TunnelKind::Xfrm;
    Tunnel {
        ifindex,
        name: name.into(),
        kind,
        local,
        remote,
        ikey: keyed.then_some(ifindex),
        okey: keyed.then_some(ifindex),
        fwmark: None,
        if_id: (!keyed).then_some(ifindex + 100),
        link: 2,
        mtu: 1400,
        oper: OperStatus::Up,
        stats: LinkStats {
            tx_packets: 1000 + u64::from(ifindex),
            tx_bytes: 84_000 + u64::from(ifindex),
            tx_errors: 7,
            tx_dropped: 4,
            tx_carrier_errors: 3,
            collisions: 1,
            tx_aborted_errors: 2,
            rx_packets: 900,
            rx_bytes: 75_600,
            rx_errors: 0,
            rx_dropped: 0,
        },
        error_counters_valid: true,
    }
}

pub fn sa(spi: u32, src: &str, dst: &str, direction: SaDirection) -> SecurityAssociation {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    SecurityAssociation {
        spi,
        proto: 50,
        mode: 1,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        reqid: spi,
        direction,
        mark: None,
        set_mark: None,
        if_id: None,
        enc_alg: Some("cbc(aes)".into()),
        auth_alg: Some("hmac(sha256)".into()),
        aead_alg: None,
        comp_alg: None,
        selector_family: 0,
        lifetime: SaLifetime {
            soft_byte_limit: u64::MAX,
            hard_byte_limit: u64::MAX,
            soft_packet_limit: u64::MAX,
            hard_packet_limit: u64::MAX,
            soft_add_expires_seconds: 3000,
            hard_add_expires_seconds: 3600,
            ..SaLifetime::default()
        },
        current: SaCurrent {
            bytes: 4242,
            packets: 42,
            add_time: now - 100,
            use_time: now - 90,
        },
        stats: SaStats::default(),
        replay: SaReplay {
            oseq: 42,
            seq: 0,
            window: 32,
            esn: false,
        },
    }
}

/// Three tunnels (one of each kind), each with an outbound and an inbound SA.
pub fn three_tunnels() -> FixtureData {
    let vti = tunnel(11, "vti1", TunnelKind::Vti);
    let vti6 = tunnel(12, "vti6x", TunnelKind::Vti6);
    let xfrm = tunnel(13, "xfrm1", TunnelKind::Xfrm);
    let mut sas = Vec::new();
    for (t, base) in [(&vti, 0x1000), (&vti6, 0x2000)] {
        let (l, r) = (t.local.unwrap().to_string(), t.remote.unwrap().to_string());
        let mut out = sa(base + 1, &l, &r, SaDirection::Out);
        out.mark = Some((t.okey.unwrap(), 0xffff_ffff));
        let mut inb = sa(base + 2, &r, &l, SaDirection::In);
        inb.mark = Some((t.ikey.unwrap(), 0xffff_ffff));
        sas.extend([out, inb]);
    }
    let mut out = sa(0x3001, "203.0.113.1", "203.0.113.9", SaDirection::Out);
    out.if_id = xfrm.if_id;
    let mut inb = sa(0x3002, "203.0.113.9", "203.0.113.1", SaDirection::In);
    inb.if_id = xfrm.if_id;
    sas.extend([out, inb]);
    FixtureData {
        tunnels: vec![vti, vti6, xfrm],
        sas,
        xfrm_stat: vec![
            ("XfrmInError".into(), 0),
            ("XfrmOutNoStates".into(), 12),
            ("XfrmOutBundleGenError".into(), 3),
        ],
    }
}

impl Lookups for FixtureSource {
    async fn route_to(
        &mut self,
        _dst: std::net::IpAddr,
        _src: Option<std::net::IpAddr>,
        _mark: u32,
    ) -> Option<RouteAnswer> {
        None
    }

    async fn default_out_blocks(&mut self) -> Option<bool> {
        None
    }
}
