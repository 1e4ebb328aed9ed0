//! The real agent (`agent::run_until`, the same session, poller, classifier
//! and MIB index the binary runs) fed by a generated fixture instead of
//! netlink, for benchmarks of the SNMP path at any scale:
//!
//!     bench_agent --master unix:/tmp/x/master --tunnels 10000 [--interval 10]
//!
//! N tunnels (vti, vti6, xfrm in turn), 4 SAs each (an old and a new pair
//! after a rekey: out + in), realistic counters that advance every poll; one
//! tunnel in 50 has carrier errors rising (so the classifier, the diagnosis
//! and the alarm engine do real work). Runs until SIGTERM/SIGINT. Used by
//! `bench/*.sh`; not a test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use vti_agentx::agent::{run_until, Settings};
use vti_agentx::config::Config;
use vti_agentx::model::*;

/// First fixture ifIndex (real ones start low and are sparse; any works).
const FIRST_IFINDEX: u32 = 100;

/// The counters in `/proc/net/xfrm_stat` on a 6.x kernel, in file order.
const XFRM_STAT_NAMES: &[&str] = &[
    "XfrmInError",
    "XfrmInBufferError",
    "XfrmInHdrError",
    "XfrmInNoStates",
    "XfrmInStateProtoError",
    "XfrmInStateModeError",
    "XfrmInStateSeqError",
    "XfrmInStateExpired",
    "XfrmInStateMismatch",
    "XfrmInStateInvalid",
    "XfrmInTmplMismatch",
    "XfrmInNoPols",
    "XfrmInPolBlock",
    "XfrmInPolError",
    "XfrmOutError",
    "XfrmOutBundleGenError",
    "XfrmOutBundleCheckError",
    "XfrmOutNoStates",
    "XfrmOutStateProtoError",
    "XfrmOutStateModeError",
    "XfrmOutStateSeqError",
    "XfrmOutStateExpired",
    "XfrmOutPolBlock",
    "XfrmOutPolDead",
    "XfrmOutPolError",
    "XfrmFwdHdrError",
    "XfrmOutStateInvalid",
    "XfrmAcquireError",
    "XfrmOutStateDirError",
    "XfrmInStateDirError",
];

struct Fixture {
    tunnels: usize,
    polls: u64,
    started_unix: u64,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Fixture {
    fn new(tunnels: usize) -> Self {
        Fixture {
            tunnels,
            polls: 0,
            started_unix: now_unix(),
        }
    }

    fn kind(i: usize) -> TunnelKind {
        match i % 3 {
            0 => TunnelKind::Vti,
            1 => TunnelKind::Vti6,
            _ => TunnelKind::Xfrm,
        }
    }

    /// Outer endpoints of tunnel `i`: (local, remote).
    fn endpoints(i: usize) -> (IpAddr, IpAddr) {
        let n = i as u32;
        match Self::kind(i) {
            TunnelKind::Vti6 => (
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0x100,
                    0,
                    0,
                    0,
                    (n >> 16) as u16,
                    n as u16,
                )),
            ),
            _ => (
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                IpAddr::V4(Ipv4Addr::from(0x6440_0000 | n)), // 100.64.0.0/10
            ),
        }
    }

    fn tunnel(&self, i: usize) -> Tunnel {
        let ifindex = FIRST_IFINDEX + i as u32;
        let kind = Self::kind(i);
        let (local, remote) = Self::endpoints(i);
        let keyed = kind != TunnelKind::Xfrm;
        let p = self.polls;
        let seed = i as u64;
        // Traffic grows every poll at a per-tunnel rate; one tunnel in 50
        // has carrier errors rising, one in 70 a too-big error now and then.
        let rate = 200 + (seed * 7919) % 5000;
        let tx_packets = 1_000_000 + seed * 1013 + p * rate;
        let carrier = if i % 50 == 7 { 3 + p * 2 } else { 0 };
        let too_big = if i % 70 == 3 { p / 3 } else { 0 };
        let collisions = u64::from(i % 500 == 11);
        let aborted = (seed % 13) / 12;
        let name = match kind {
            TunnelKind::Vti => format!("vti{i}"),
            TunnelKind::Vti6 => format!("vti6-{i}"),
            TunnelKind::Xfrm => format!("xfrm{i}"),
        };
        Tunnel {
            ifindex,
            name,
            kind,
            local: keyed.then_some(local),
            remote: keyed.then_some(remote),
            ikey: keyed.then_some(ifindex),
            okey: keyed.then_some(ifindex),
            fwmark: None,
            if_id: (!keyed).then_some(ifindex),
            link: 2,
            mtu: if kind == TunnelKind::Vti6 { 1380 } else { 1400 },
            admin_up: true,
            oper: OperStatus::Up,
            stats: LinkStats {
                tx_packets,
                tx_bytes: tx_packets * 612,
                tx_errors: carrier + too_big + collisions + aborted,
                tx_dropped: if kind == TunnelKind::Vti { 0 } else { carrier },
                tx_carrier_errors: carrier,
                collisions,
                tx_aborted_errors: aborted,
                rx_packets: tx_packets * 9 / 10,
                rx_bytes: tx_packets * 9 / 10 * 580,
                rx_errors: 0,
                rx_dropped: seed % 3,
            },
            error_counters_valid: true,
        }
    }

    /// Tunnel `i`'s four SAs: the pair from the previous rekey (older,
    /// still installed) and the current pair.
    fn sas(&self, i: usize, t: &Tunnel, out: &mut Vec<SecurityAssociation>) {
        let (local, remote) = Self::endpoints(i);
        let p = self.polls;
        let now = now_unix();
        for generation in 0..2u32 {
            for direction in [SaDirection::Out, SaDirection::In] {
                let spi = 0xc000_0000
                    | ((i as u32) << 3)
                    | (generation << 1)
                    | (direction == SaDirection::In) as u32;
                let (src, dst) = match direction {
                    SaDirection::Out => (local, remote),
                    SaDirection::In => (remote, local),
                };
                let key = match direction {
                    SaDirection::Out => t.okey,
                    SaDirection::In => t.ikey,
                };
                let packets = if generation == 0 {
                    50_000 + (i as u64 % 977)
                } else {
                    p * (100 + i as u64 % 400)
                };
                let added = if generation == 0 {
                    self.started_unix.saturating_sub(3000)
                } else {
                    self.started_unix.saturating_sub(200)
                };
                out.push(SecurityAssociation {
                    spi,
                    proto: 50,
                    mode: XfrmMode::Tunnel,
                    src,
                    dst,
                    reqid: i as u32 + 1,
                    direction,
                    mark: key.map(|k| (k, 0xffff_ffff)),
                    set_mark: None,
                    if_id: t.if_id,
                    algorithms: AlgorithmNames {
                        enc_alg: Some("rfc4106(gcm(aes))".into()),
                        ..AlgorithmNames::default()
                    }
                    .into(),
                    selector_family: Family::Any,
                    lifetime: SaLifetime {
                        soft_byte_limit: u64::MAX,
                        hard_byte_limit: u64::MAX,
                        soft_packet_limit: u64::MAX,
                        hard_packet_limit: u64::MAX,
                        soft_add_expires_seconds: 3240 + (i as u64 % 300),
                        hard_add_expires_seconds: 3600,
                        ..SaLifetime::default()
                    }
                    .into(),
                    current: SaCurrent {
                        bytes: packets * 640,
                        packets,
                        add_time: added,
                        use_time: if packets > 0 { now - 1 } else { 0 },
                    },
                    stats: SaStats {
                        replay_window: 0,
                        replay: u32::from(direction == SaDirection::In && i.is_multiple_of(97)),
                        integrity_failed: 0,
                    },
                    replay: SaReplay {
                        oseq: if direction == SaDirection::Out {
                            packets
                        } else {
                            0
                        },
                        seq: if direction == SaDirection::In {
                            packets
                        } else {
                            0
                        },
                        window: 32,
                        esn: false,
                    },
                });
            }
        }
    }

    fn sample(&mut self) -> Sample {
        self.polls += 1;
        let tunnels: Vec<Tunnel> = (0..self.tunnels).map(|i| self.tunnel(i)).collect();
        let mut sas = Vec::with_capacity(self.tunnels * 4);
        for (i, t) in tunnels.iter().enumerate() {
            self.sas(i, t, &mut sas);
        }
        let failing = (self.tunnels / 50) as u64;
        let xfrm_stat = XFRM_STAT_NAMES
            .iter()
            .map(|&n| {
                let v = match n {
                    "XfrmOutNoStates" => failing * self.polls * 2,
                    "XfrmInNoStates" => 17,
                    _ => 0,
                };
                (n.to_string(), v)
            })
            .collect();
        Sample {
            taken_at: Instant::now(),
            wall_time: SystemTime::now(),
            kernel_release: "6.1.0-bench-fixture".into(),
            tunnels,
            sas: Availability::Available(sas),
            policies: Availability::Available(Vec::new()),
            xfrm_stat: Availability::Available(xfrm_stat),
            ike: None,
        }
    }
}

struct Source(Fixture);

impl SampleSource for Source {
    fn collect(&mut self) -> impl std::future::Future<Output = anyhow::Result<Sample>> + Send {
        let sample = self.0.sample();
        async move { Ok(sample) }
    }
}

impl Lookups for Source {
    async fn route_to(
        &mut self,
        _dst: IpAddr,
        _src: Option<IpAddr>,
        _mark: u32,
    ) -> Option<RouteAnswer> {
        Some(RouteAnswer::Via {
            oif: 2,
            oif_name: "eth0".into(),
            mtu: 1500,
        })
    }

    async fn default_out_blocks(&mut self) -> Option<bool> {
        Some(false)
    }
}

fn usage() -> ! {
    eprintln!("usage: bench_agent --master unix:PATH|tcp:HOST:PORT --tunnels N [--interval SECS]");
    std::process::exit(2)
}

fn main() -> anyhow::Result<()> {
    let mut master = None;
    let mut tunnels = None;
    let mut interval = 10u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--master" => master = Some(value()),
            "--tunnels" => tunnels = Some(value().parse::<usize>().unwrap_or_else(|_| usage())),
            "--interval" => interval = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let (Some(master), Some(tunnels)) = (master, tunnels) else {
        usage()
    };
    let cfg = Config {
        master,
        poll_interval_secs: interval,
        ..Config::default()
    };
    vti_agentx::logging::init(&cfg.log_level);
    // As `vti-agentx run` does.
    vti_agentx::agent::limit_heap_retention();
    let settings = Settings::from_config(&cfg).map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        run_until(settings, Source(Fixture::new(tunnels)), None, shutdown).await
    })
}
