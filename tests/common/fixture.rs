//! A `SampleSource` with hand-built tunnels and SAs, fed through the same
//! seam (`model::SampleSource`) the netlink collector uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use vti_agentx::classify::testutil;
use vti_agentx::model::*;

/// Runs at every collect, before the data is read: `(data, n)` with `n`
/// the number of the collect (1 for the first).
pub type CollectHook = Box<dyn FnMut(&mut FixtureData, u64) + Send>;

#[derive(Clone)]
pub struct FixtureSource {
    pub data: Arc<Mutex<FixtureData>>,
    hook: Arc<Mutex<Option<CollectHook>>>,
    collects: Arc<AtomicU64>,
}

#[derive(Clone)]
pub struct FixtureData {
    pub tunnels: Vec<Tunnel>,
    pub sas: Vec<SecurityAssociation>,
    /// XFRM policies (none unless a test adds them, e.g. `out_policies`).
    pub policies: Vec<Policy>,
    pub xfrm_stat: Vec<(String, u64)>,
}

impl FixtureSource {
    pub fn new(data: FixtureData) -> Self {
        FixtureSource {
            data: Arc::new(Mutex::new(data)),
            hook: Arc::default(),
            collects: Arc::default(),
        }
    }

    /// Change the data in step with the poller: `hook` runs at the start of
    /// every later collect (so a test can script per-poll deltas).
    pub fn on_collect(&self, hook: impl FnMut(&mut FixtureData, u64) + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::new(hook));
    }

    pub fn clear_hook(&self) {
        *self.hook.lock().unwrap() = None;
    }

    /// How many times the poller has collected so far.
    pub fn collects(&self) -> u64 {
        self.collects.load(Ordering::SeqCst)
    }

    /// Apply `f` to the data now (between polls).
    pub fn update(&self, f: impl FnOnce(&mut FixtureData)) {
        f(&mut self.data.lock().unwrap());
    }
}

impl FixtureData {
    pub fn tunnel_mut(&mut self, ifindex: u32) -> &mut Tunnel {
        self.tunnels
            .iter_mut()
            .find(|t| t.ifindex == ifindex)
            .expect("no such fixture tunnel")
    }

    /// `n` more packets failed with carrier errors (no SA, no route, …), as
    /// the kernel counts them: tx_errors and tx_carrier_errors both rise.
    pub fn add_carrier_errors(&mut self, ifindex: u32, n: u64) {
        let s = &mut self.tunnel_mut(ifindex).stats;
        s.tx_errors += n;
        s.tx_carrier_errors += n;
    }
}

impl SampleSource for FixtureSource {
    fn collect(&mut self) -> impl std::future::Future<Output = anyhow::Result<Sample>> + Send {
        let n = self.collects.fetch_add(1, Ordering::SeqCst) + 1;
        let d = {
            let mut data = self.data.lock().unwrap();
            if let Some(hook) = self.hook.lock().unwrap().as_mut() {
                hook(&mut data, n);
            }
            data.clone()
        };
        async move {
            Ok(Sample {
                taken_at: Instant::now(),
                wall_time: SystemTime::now(),
                kernel_release: "6.1.0-fixture".into(),
                tunnels: d.tunnels,
                sas: Availability::Available(d.sas),
                policies: Availability::Available(d.policies),
                xfrm_stat: Availability::Available(d.xfrm_stat),
                ike: None,
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
        admin_up: true,
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

/// `testutil::sa` with what an SA that has carried traffic shows: counters,
/// an add time 100 s ago and time limits (soft 3000 s, hard 3600 s).
pub fn sa(spi: u32, src: &str, dst: &str, direction: SaDirection) -> SecurityAssociation {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut sa = testutil::sa(spi, src, dst, direction);
    sa.reqid = spi;
    sa.lifetime = SaLifetime {
        soft_add_expires_seconds: 3000,
        hard_add_expires_seconds: 3600,
        ..sa.lifetime.get()
    }
    .into();
    sa.current = SaCurrent {
        bytes: 4242,
        packets: 42,
        add_time: now - 100,
        use_time: now - 90,
    };
    sa.replay = SaReplay {
        oseq: 42,
        seq: 0,
        window: 32,
        esn: false,
    };
    sa
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
        policies: vec![],
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

/// An outbound ESP tunnel-mode policy per tunnel, matched the way the
/// kernel matches it (mark = okey for vti/vti6, if_id for xfrm), as an IKE
/// daemon installs them: with these, a missing SA is diagnosed as such.
pub fn out_policies(tunnels: &[Tunnel]) -> Vec<Policy> {
    tunnels
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (src, dst) = match (t.local, t.remote) {
                (Some(l), Some(r)) => (l, r),
                _ => (
                    "203.0.113.1".parse().unwrap(),
                    "203.0.113.9".parse().unwrap(),
                ),
            };
            let mut policy = testutil::out_policy(t.okey, t.if_id, &dst.to_string());
            policy.index = 8 * (i as u32 + 1) + 1;
            policy.templates[0].src = Some(src);
            policy.templates[0].reqid = 0;
            policy
        })
        .collect()
}
