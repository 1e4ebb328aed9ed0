//! Plain data passed along the pipeline: the collector's `Sample` (what the
//! kernel said at one instant) and the served `Snapshot` (what SNMP answers
//! from). No I/O and no netlink types here, so every stage can be tested with
//! hand-built values.
//!
//! Security: nothing in this module may hold SA key material. The collector
//! keeps only algorithm names.

use std::net::IpAddr;
use std::time::{Instant, SystemTime};

use serde::Serialize;

mod algorithms;
mod category;
mod ike;
mod kernel;
mod lifetime;
pub use algorithms::{AlgorithmNames, Algorithms};
pub use category::{Categories, CategoryDefault, ErrorCategory, PerCategory};
pub use ike::{reason_label, ChildSaState, IkeRow, IkeSaState, IkeView, TunnelIke};
pub use kernel::{Family, XfrmMode, XfrmStat};

pub use crate::collect::ike::{IkeFailure, IkeSample, TermReason};
pub use lifetime::{Lifetime, SaLifetime};

/// The three Linux IPsec tunnel interface kinds, which count TX errors
/// differently (see README, "What each TX error means").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    /// `ip_vti` (IPv4 outer).
    Vti,
    /// `ip6_vti` (IPv6 outer).
    Vti6,
    /// XFRM interface (`ip link add … type xfrm`; VyOS ≥1.4 `interfaces vti`).
    Xfrm,
}

impl TunnelKind {
    /// `IFLA_INFO_KIND` string.
    pub fn from_link_kind(kind: &str) -> Option<TunnelKind> {
        match kind {
            "vti" => Some(TunnelKind::Vti),
            "vti6" => Some(TunnelKind::Vti6),
            "xfrm" => Some(TunnelKind::Xfrm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::Vti => "vti",
            TunnelKind::Vti6 => "vti6",
            TunnelKind::Xfrm => "xfrm",
        }
    }
}

/// RFC 2863 ifOperStatus values, as the kernel's IF_OPER_* map onto them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OperStatus {
    Up = 1,
    Down = 2,
    Testing = 3,
    Unknown = 4,
    Dormant = 5,
    NotPresent = 6,
    LowerLayerDown = 7,
}

/// The kernel's `rtnl_link_stats64` fields we use. Fields missing from a
/// shorter (older) struct are zero; see `Tunnel::error_counters_valid`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub collisions: u64,
    pub tx_aborted_errors: u64,
    pub tx_carrier_errors: u64,
}

/// One tunnel interface as RTM_GETLINK reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tunnel {
    pub ifindex: u32,
    pub name: String,
    pub kind: TunnelKind,
    /// Outer endpoints (vti/vti6); `None` when unset/wildcard or for xfrm.
    pub local: Option<IpAddr>,
    pub remote: Option<IpAddr>,
    /// vti/vti6 keys in host order (the kernel sends them big-endian).
    pub ikey: Option<u32>,
    pub okey: Option<u32>,
    /// vti/vti6 `IFLA_VTI_FWMARK` (outer route mark), if set.
    pub fwmark: Option<u32>,
    /// xfrm `IFLA_XFRM_IF_ID`.
    pub if_id: Option<u32>,
    /// Underlying link ifindex (`IFLA_VTI_LINK` / `IFLA_XFRM_LINK`), 0 = none.
    pub link: u32,
    pub mtu: u32,
    /// IFF_UP: the administrative state (`ip link set … up/down`). VyOS's
    /// vti-up-down hook sets the interface down when its CHILD_SA goes.
    pub admin_up: bool,
    pub oper: OperStatus,
    pub stats: LinkStats,
    /// False where the kernel does not export TX error counters for this
    /// interface (XFRM interfaces on ≤5.10 report only packets/bytes/dropped):
    /// the error columns are then unavailable, not zero.
    pub error_counters_valid: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SaDirection {
    In,
    Out,
}

/// One XFRM state (SA) without key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecurityAssociation {
    pub spi: u32,
    /// IP protocol number: 50 ESP, 51 AH, 108 IPComp.
    pub proto: u8,
    pub mode: XfrmMode,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub reqid: u32,
    pub direction: SaDirection,
    /// `XFRMA_MARK` (value, mask).
    pub mark: Option<(u32, u32)>,
    /// `XFRMA_SET_MARK` (value, mask): mark the outer packet gets, used for
    /// the outer route look-up.
    pub set_mark: Option<(u32, u32)>,
    pub if_id: Option<u32>,
    /// Algorithm names only (e.g. "cbc(aes)"); never keys. Shared between
    /// SAs; serialized in place as `enc_alg`, `auth_alg`, `aead_alg`,
    /// `comp_alg`.
    #[serde(flatten)]
    pub algorithms: Algorithms,
    /// Selector family (any, IPv4, IPv6) — vti6 carrying
    /// IPv4 needs an IPv4 selector.
    pub selector_family: Family,
    /// The configured limits (`Lifetime::get`), serialized as `SaLifetime`.
    pub lifetime: Lifetime,
    pub current: SaCurrent,
    pub stats: SaStats,
    pub replay: SaReplay,
}

/// `xfrm_lifetime_cur`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SaCurrent {
    pub bytes: u64,
    pub packets: u64,
    /// Unix seconds.
    pub add_time: u64,
    pub use_time: u64,
}

/// `xfrm_stats` (meaningful on inbound SAs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SaStats {
    pub replay_window: u32,
    pub replay: u32,
    pub integrity_failed: u32,
}

/// Replay state: `XFRMA_REPLAY_VAL` or `XFRMA_REPLAY_ESN_VAL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SaReplay {
    /// Output sequence number (64-bit when ESN: oseq_hi << 32 | oseq).
    pub oseq: u64,
    /// Highest input sequence number seen.
    pub seq: u64,
    pub window: u32,
    pub esn: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyDirection {
    In,
    Out,
    Fwd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyAction {
    Allow,
    Block,
}

/// One XFRM policy (SPD entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub index: u32,
    pub direction: PolicyDirection,
    pub action: PolicyAction,
    pub priority: u32,
    /// Selector: family, prefixes.
    pub selector_family: Family,
    pub selector_src: Option<(IpAddr, u8)>,
    pub selector_dst: Option<(IpAddr, u8)>,
    pub mark: Option<(u32, u32)>,
    pub if_id: Option<u32>,
    pub templates: Vec<PolicyTemplate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyTemplate {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub proto: u8,
    pub mode: XfrmMode,
    pub reqid: u32,
    pub spi: u32,
}

/// Data that may be unavailable (no CAP_NET_ADMIN, file missing, ...).
/// Unavailable is reported as such, never as empty or zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "value", rename_all = "lowercase")]
pub enum Availability<T> {
    Available(T),
    Unavailable(String),
}

impl<T> Availability<T> {
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Availability::Available(v) => Some(v),
            Availability::Unavailable(_) => None,
        }
    }
}

/// What the collector read from the kernel at one instant.
#[derive(Clone, Debug)]
pub struct Sample {
    pub taken_at: Instant,
    pub wall_time: SystemTime,
    /// `uname -r`, for the logs and the global scalars.
    pub kernel_release: String,
    pub tunnels: Vec<Tunnel>,
    pub sas: Availability<Vec<SecurityAssociation>>,
    pub policies: Availability<Vec<Policy>>,
    /// `/proc/net/xfrm_stat`, in file order, parsed by name.
    pub xfrm_stat: Availability<Vec<(String, u64)>>,
    /// The IKE daemon's view (charon over VICI), polled alongside;
    /// `None` when the IKE view is disabled in the configuration.
    pub ike: Option<IkeSample>,
}

/// What `ip route get REMOTE from LOCAL mark M` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteAnswer {
    /// Output interface and its MTU (0 when unknown).
    Via {
        oif: u32,
        oif_name: String,
        mtu: u32,
    },
    /// No route (ENETUNREACH/EHOSTUNREACH, unreachable/blackhole/prohibit).
    Unreachable(String),
}

/// The targeted look-ups behind a diagnosis, done only for a tunnel whose
/// errors rose (rate-limited), never on the SNMP request path.
pub trait Lookups: Send {
    /// `ip route get DST [from SRC] [mark MARK]`; `None` = could not ask.
    fn route_to(
        &mut self,
        dst: IpAddr,
        src: Option<IpAddr>,
        mark: u32,
    ) -> impl std::future::Future<Output = Option<RouteAnswer>> + Send;

    /// XFRM_MSG_GETDEFAULT (Linux ≥ 5.16): does unmatched outbound traffic
    /// get blocked? `None` = unknown / not supported.
    fn default_out_blocks(&mut self) -> impl std::future::Future<Output = Option<bool>> + Send;
}

/// Anything that can produce a `Sample`: the netlink collector, or a fixture
/// in tests. The binary uses exactly this seam for both.
pub trait SampleSource: Send {
    fn collect(&mut self) -> impl std::future::Future<Output = anyhow::Result<Sample>> + Send;
}

/// Per-tunnel summary of its SAs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SaSummary {
    pub outbound: u32,
    pub inbound: u32,
    /// Unix time of the *latest* hard expiry among the tunnel's outbound
    /// SAs — how long the tunnel keeps working if IKE never rekeys again.
    /// (Not the nearest: an old SA lingering after a rekey is harmless.)
    /// Seconds-to-expiry is computed when asked, so it never goes stale.
    pub hard_expiry_unix: Option<u64>,
    /// Packets left before the smallest non-ESN outbound sequence number wraps.
    pub seq_headroom: Option<u64>,
}

/// vtiIfCause (IPSEC-VTI-MIB); the numbers are the MIB's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Cause {
    None = 1,
    NoRouteToPeer = 2,
    NoPolicy = 3,
    PolicyBlock = 4,
    NoOutboundSa = 5,
    SaEndpointMismatch = 6,
    IfIdMismatch = 7,
    RoutingLoop = 8,
    MtuExceeded = 9,
    SaHardExpired = 10,
    SeqOverflow = 11,
    SelectorMismatch = 12,
    UnderlayDrop = 13,
    OutputError = 14,
    Unknown = 15,
    /// The interface is administratively or operationally down (VyOS's
    /// vti-up-down hook downs it when the CHILD_SA goes).
    TunnelDown = 16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub cause: Cause,
    pub text: String,
}

impl Diagnosis {
    pub fn none() -> Self {
        Diagnosis {
            cause: Cause::None,
            text: String::new(),
        }
    }
}

/// The MIB's enumeration label.
impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::None => "none",
            Cause::NoRouteToPeer => "noRouteToPeer",
            Cause::NoPolicy => "noPolicy",
            Cause::PolicyBlock => "policyBlock",
            Cause::NoOutboundSa => "noOutboundSa",
            Cause::SaEndpointMismatch => "saEndpointMismatch",
            Cause::IfIdMismatch => "ifIdMismatch",
            Cause::RoutingLoop => "routingLoop",
            Cause::MtuExceeded => "mtuExceeded",
            Cause::SaHardExpired => "saHardExpired",
            Cause::SeqOverflow => "seqOverflow",
            Cause::SelectorMismatch => "selectorMismatch",
            Cause::UnderlayDrop => "underlayDrop",
            Cause::OutputError => "outputError",
            Cause::Unknown => "unknown",
            Cause::TunnelDown => "tunnelDown",
        }
    }
}

/// How a tunnel's peer address was found (vtiIfPeerAddrSource; the numbers
/// are the MIB's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PeerSource {
    /// vti/vti6: the tunnel's configured remote.
    TunnelConfig = 1,
    /// The destination of the tunnel's outbound SA.
    OutboundSa = 2,
    /// The destination of the tunnel's outbound policy's template.
    PolicyTemplate = 3,
    /// None of these: no remote, no outbound SA, no policy template with
    /// a destination.
    Unknown = 4,
}

/// The peer's outer address and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Peer {
    pub addr: Option<IpAddr>,
    pub source: PeerSource,
}

impl Peer {
    pub const UNKNOWN: Peer = Peer {
        addr: None,
        source: PeerSource::Unknown,
    };
}

/// A tunnel as served: the kernel's view plus what we derived.
#[derive(Clone, Debug, Serialize)]
pub struct TunnelRow {
    pub tunnel: Tunnel,
    /// When this interface's counters last started from a new base
    /// (interface (re)created, or counters went backwards).
    #[serde(skip)]
    pub discontinuity_at: Instant,
    /// Classified TX errors since `discontinuity_at` (meaningful only when
    /// `tunnel.error_counters_valid`).
    pub categories: Categories,
    /// What moved in the last poll interval.
    pub last_delta: Categories,
    /// When an error category last rose.
    #[serde(skip)]
    pub last_error_at: Option<Instant>,
    /// Cause of the most recent error increase (kept until a later one).
    pub diagnosis: Diagnosis,
    pub sa_summary: SaSummary,
    /// The IKE connection/child this tunnel joins to, if any.
    pub ike: Option<TunnelIke>,
    /// The peer's outer address (`classify::diagnose::peer_of`).
    pub peer: Peer,
}

/// An SA as served, attached to the tunnel that uses it (0 = none).
#[derive(Clone, Debug, Serialize)]
pub struct SaRow {
    pub tunnel_ifindex: u32,
    /// Stable per-tunnel row number, assigned when the SA is first seen.
    pub index: u32,
    pub sa: SecurityAssociation,
}

/// Everything SNMP and `show` answer from: built once per poll, then
/// immutable and shared.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    #[serde(skip)]
    pub taken_at: Instant,
    #[serde(skip)]
    pub wall_time: SystemTime,
    pub poll_interval_secs: u32,
    pub kernel_release: String,
    /// False when SA/policy dumps were not possible (no CAP_NET_ADMIN).
    pub xfrm_available: bool,
    pub xfrm_stat: Availability<Vec<(String, u64)>>,
    /// Non-zero xfrm_stat increases over the last poll interval.
    pub xfrm_stat_delta: Vec<(String, u64)>,
    /// Sorted by ifindex.
    pub tunnels: Vec<TunnelRow>,
    /// Sorted by (tunnel_ifindex, index).
    pub sas: Vec<SaRow>,
    #[serde(skip)]
    pub policies: Availability<Vec<Policy>>,
    /// Polls that failed since start (the previous snapshot stays served).
    pub poll_failures: u64,
    /// The IKE view: one row per configured (or live) connection/child.
    pub ike: IkeView,
}

impl SecurityAssociation {
    /// Unix time at which the kernel will hard-expire this SA, if a time
    /// limit applies (add-expiry counts from creation, use-expiry from first
    /// use).
    pub fn hard_expiry_unix(&self) -> Option<u64> {
        let lifetime = self.lifetime.get();
        expiry(
            &self.current,
            lifetime.hard_add_expires_seconds,
            lifetime.hard_use_expires_seconds,
        )
    }

    /// Unix time of the soft expiry (when IKE should rekey), if any.
    pub fn soft_expiry_unix(&self) -> Option<u64> {
        let lifetime = self.lifetime.get();
        expiry(
            &self.current,
            lifetime.soft_add_expires_seconds,
            lifetime.soft_use_expires_seconds,
        )
    }

    /// Packets left before a non-ESN output sequence number wraps
    /// (the kernel refuses to send past 2^32 − 1: XfrmOutStateSeqError).
    pub fn seq_headroom(&self) -> Option<u64> {
        (self.direction == SaDirection::Out && !self.replay.esn)
            .then(|| u64::from(u32::MAX).saturating_sub(self.replay.oseq))
    }
}

fn expiry(cur: &SaCurrent, add_expires: u64, use_expires: u64) -> Option<u64> {
    let by_add = (add_expires != 0).then(|| cur.add_time.saturating_add(add_expires));
    let by_use =
        (use_expires != 0 && cur.use_time != 0).then(|| cur.use_time.saturating_add(use_expires));
    match (by_add, by_use) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
