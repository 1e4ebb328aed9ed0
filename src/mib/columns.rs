//! Every IPSEC-VTI-MIB object below vtiObjects, described once as data: its
//! sub-identifier, its MIB name, its SYNTAX, whether it is served, and how
//! its value is read from a row.
//!
//! This one description drives rendering (`render`: which columns a table
//! has and what each cell holds), the MIB-file test (`tests/mib_file.rs`:
//! the names, OIDs and SYNTAX of `mibs/IPSEC-VTI-MIB.txt` against it) and
//! the lab checks' column lists. Adding a column is: its OBJECT-TYPE in the
//! MIB text, one line here, and whatever produces the value it reads.
//!
//! Conventions the readers follow (the MIB's DESCRIPTIONs):
//! - counters the kernel does not export for an interface are absent, never
//!   zero: an NMS must not graph "no errors" it cannot know;
//! - SA-derived tunnel columns need the XFRM dump (CAP_NET_ADMIN) and are
//!   absent without it;
//! - settings that are absent are served as 0 or empty where the MIB says
//!   so (no holes in a row).

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::index::RenderCtx;
use crate::alarm::{AlarmRow, AlarmState, EventKind, EventRecord, EventTable, Notified};
use crate::model::{
    Cause, ChildSaState, ErrorCategory, IkeFailure, IkeRow, IkeSaState, OperStatus, PeerSource,
    SaDirection, SaRow, Snapshot, TermReason, TunnelKind, TunnelRow, XfrmMode,
};
use crate::value::Value;

/// The agent's version, served as vtiAgentVersion.
pub const AGENT_VERSION_TEXT: &str = concat!("vti-agentx ", env!("CARGO_PKG_VERSION"));

/// A column's (or scalar's) SYNTAX as the MIB declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    DisplayString,
    InetAddressType,
    InetAddress,
    InterfaceIndex,
    InterfaceIndexOrZero,
    /// `INTEGER { … }` written out in the OBJECT-TYPE.
    Enumeration,
    TruthValue,
    Integer32,
    Unsigned32,
    Gauge32,
    Counter32,
    Counter64,
    CounterBasedGauge64,
    TimeStamp,
    /// IPSEC-VTI-MIB's Unsigned32 shown in hex.
    VtiHex32,
    /// IPSEC-VTI-MIB's Integer32 seconds, -1 = never.
    VtiSeconds,
    VtiErrorCategory,
    VtiIkeSaState,
    VtiChildSaState,
    VtiIkeFailReason,
    VtiCause,
    DateAndTime,
}

impl Syntax {
    /// The first word of the SYNTAX clause in the MIB text.
    pub fn mib_name(self) -> &'static str {
        match self {
            Syntax::DisplayString => "DisplayString",
            Syntax::InetAddressType => "InetAddressType",
            Syntax::InetAddress => "InetAddress",
            Syntax::InterfaceIndex => "InterfaceIndex",
            Syntax::InterfaceIndexOrZero => "InterfaceIndexOrZero",
            Syntax::Enumeration => "INTEGER",
            Syntax::TruthValue => "TruthValue",
            Syntax::Integer32 => "Integer32",
            Syntax::Unsigned32 => "Unsigned32",
            Syntax::Gauge32 => "Gauge32",
            Syntax::Counter32 => "Counter32",
            Syntax::Counter64 => "Counter64",
            Syntax::CounterBasedGauge64 => "CounterBasedGauge64",
            Syntax::TimeStamp => "TimeStamp",
            Syntax::VtiHex32 => "VtiHex32",
            Syntax::VtiSeconds => "VtiSeconds",
            Syntax::VtiErrorCategory => "VtiErrorCategory",
            Syntax::VtiIkeSaState => "VtiIkeSaState",
            Syntax::VtiChildSaState => "VtiChildSaState",
            Syntax::VtiIkeFailReason => "VtiIkeFailReason",
            Syntax::VtiCause => "VtiCause",
            Syntax::DateAndTime => "DateAndTime",
        }
    }

    /// The AgentX type tag its values travel with (RFC 2741 §5.4):
    /// Unsigned32 and Gauge32 share one; enumerations, TruthValue and
    /// interface indexes are Integer; CounterBasedGauge64 is Counter64.
    pub fn type_tag(self) -> u16 {
        let like = match self {
            Syntax::DisplayString | Syntax::InetAddress | Syntax::DateAndTime => {
                Value::OctetString(Vec::new())
            }
            Syntax::InetAddressType
            | Syntax::InterfaceIndex
            | Syntax::InterfaceIndexOrZero
            | Syntax::Enumeration
            | Syntax::TruthValue
            | Syntax::Integer32
            | Syntax::VtiSeconds
            | Syntax::VtiErrorCategory
            | Syntax::VtiIkeSaState
            | Syntax::VtiChildSaState
            | Syntax::VtiIkeFailReason => Value::Integer(0),
            Syntax::VtiCause => Value::Integer(0),
            Syntax::Unsigned32 | Syntax::Gauge32 | Syntax::VtiHex32 => Value::Gauge32(0),
            Syntax::Counter32 => Value::Counter32(0),
            Syntax::Counter64 | Syntax::CounterBasedGauge64 => Value::Counter64(0),
            Syntax::TimeStamp => Value::TimeTicks(0),
        };
        like.type_tag()
    }
}

/// MAX-ACCESS, as far as serving goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// not-accessible: part of the row's index, never served.
    Index,
    ReadOnly,
    /// accessible-for-notify: only in notifications, never served.
    Notify,
}

/// Reads one cell from a row `R` of a table whose rows share `S`.
pub type Read<R, S> = fn(&R, &S, &RenderCtx) -> Option<Value>;

/// One object of the MIB, relative to its table entry (or to vtiGlobal).
pub struct Column<R: 'static, S: 'static = ()> {
    pub id: u32,
    pub name: &'static str,
    pub syntax: Syntax,
    pub access: Access,
    pub read: Read<R, S>,
}

impl<R, S> Column<R, S> {
    pub fn served(&self) -> bool {
        self.access == Access::ReadOnly
    }
}

/// The served sub-identifiers of `columns`.
pub fn served_ids<R, S>(columns: &[Column<R, S>]) -> Vec<u32> {
    columns
        .iter()
        .filter(|c| c.served())
        .map(|c| c.id)
        .collect()
}

/// The column with sub-identifier `id` (`columns` ascending).
pub fn by_id<R, S>(columns: &'static [Column<R, S>], id: u32) -> Option<&'static Column<R, S>> {
    // Sub-ids are almost always consecutive: try the direct position first.
    let first = columns.first()?.id;
    if let Some(c) = id
        .checked_sub(first)
        .and_then(|i| columns.get(i as usize))
        .filter(|c| c.id == id)
    {
        return Some(c);
    }
    columns
        .binary_search_by_key(&id, |c| c.id)
        .ok()
        .map(|i| &columns[i])
}

/// For index and notify-only objects.
fn not_served<R, S>(_: &R, _: &S, _: &RenderCtx) -> Option<Value> {
    None
}

/// `name: Row, Shared;` then one line per object:
/// `sub-id CONSTANT "mibName" Syntax Access reader;`.
macro_rules! columns {
    (
        $(#[$doc:meta])* $module:ident: $R:ty, $S:ty;
        $( $(#[$cdoc:meta])* $id:literal $konst:ident $name:literal $syntax:ident $access:ident $read:expr; )*
    ) => {
        $(#[$doc])*
        pub mod $module {
            #[allow(unused_imports)]
            use super::*;
            $( $(#[$cdoc])* pub const $konst: u32 = $id; )*
            /// In ascending sub-identifier order.
            pub static COLUMNS: &[Column<$R, $S>] = &[
                $( Column {
                    id: $id,
                    name: $name,
                    syntax: Syntax::$syntax,
                    access: Access::$access,
                    read: $read,
                }, )*
            ];

            /// Cell `id` of `row` (`None`: no such object, or no value in
            /// this row): the readers of `COLUMNS`, called directly (the
            /// request path; no look-up, no indirect call).
            #[inline]
            pub fn read(id: u32, row: &$R, shared: &$S, ctx: &RenderCtx) -> Option<Value> {
                match id {
                    $( $id => {
                        let read: Read<$R, $S> = $read;
                        read(row, shared, ctx)
                    } )*
                    _ => None,
                }
            }
        }
    };
}

columns! {
    /// vtiGlobal scalars (instance .0).
    global: Snapshot, ();
    1 POLL_INTERVAL "vtiPollInterval" Unsigned32 ReadOnly
        |s, _, _| Some(Value::Gauge32(s.poll_interval_secs));
    2 LAST_POLL_TIME "vtiLastPollTime" TimeStamp ReadOnly
        |s, _, ctx| Some(Value::TimeTicks(ctx.clock.timestamp(s.taken_at)));
    3 AGENT_VERSION "vtiAgentVersion" DisplayString ReadOnly
        |_, _, _| Some(Value::text(AGENT_VERSION_TEXT));
    4 TUNNEL_COUNT "vtiTunnelCount" Gauge32 ReadOnly
        |s, _, _| Some(Value::Gauge32(count(s.tunnels.len())));
    5 SA_COUNT "vtiSaCount" Gauge32 ReadOnly
        |s, _, _| Some(Value::Gauge32(count(s.sas.len())));
    6 XFRM_AVAILABLE "vtiXfrmAvailable" TruthValue ReadOnly
        |s, _, _| Some(Value::truth(s.xfrm_available));
    7 POLL_FAILURES "vtiPollFailures" Counter64 ReadOnly
        |s, _, _| Some(Value::Counter64(s.poll_failures));
    8 KERNEL_RELEASE "vtiKernelRelease" DisplayString ReadOnly
        |s, _, _| Some(Value::text(&s.kernel_release));
    9 IKE_AVAILABLE "vtiIkeAvailable" TruthValue ReadOnly
        |s, _, _| Some(Value::truth(s.ike.available));
    10 IKE_UNAVAILABLE_REASON "vtiIkeUnavailableReason" DisplayString ReadOnly
        |s, _, _| Some(Value::display_string(&ike_unavailable(s)));
    11 IKE_COUNT "vtiIkeCount" Gauge32 ReadOnly
        |s, _, _| Some(Value::Gauge32(count(s.ike.rows.len())));
}

columns! {
    /// vtiXfrmStatEntry, INDEX { vtiXfrmStatIndex }: one row per
    /// /proc/net/xfrm_stat line, (name, value).
    xfrm_stat: (String, u64), ();
    1 INDEX "vtiXfrmStatIndex" Unsigned32 Index not_served;
    2 NAME "vtiXfrmStatName" DisplayString ReadOnly |s, _, _| Some(Value::text(&s.0));
    3 VALUE "vtiXfrmStatValue" Counter64 ReadOnly |s, _, _| Some(Value::Counter64(s.1));
}

columns! {
    /// vtiIfEntry, INDEX { vtiIfIndex } (= ifIndex).
    if_col: TunnelRow, Snapshot;
    1 INDEX "vtiIfIndex" InterfaceIndex Index not_served;
    2 NAME "vtiIfName" DisplayString ReadOnly |r, _, _| Some(Value::text(&r.tunnel.name));
    3 KIND "vtiIfKind" Enumeration ReadOnly |r, _, _| Some(enumerated(r.tunnel.kind));
    4 LOCAL_ADDR_TYPE "vtiIfLocalAddrType" InetAddressType ReadOnly |r, _, _| Some(inet_type(r.tunnel.local));
    5 LOCAL_ADDR "vtiIfLocalAddr" InetAddress ReadOnly |r, _, _| Some(inet_addr(r.tunnel.local));
    6 REMOTE_ADDR_TYPE "vtiIfRemoteAddrType" InetAddressType ReadOnly |r, _, _| Some(inet_type(r.tunnel.remote));
    7 REMOTE_ADDR "vtiIfRemoteAddr" InetAddress ReadOnly |r, _, _| Some(inet_addr(r.tunnel.remote));
    // MIB: keys are 0 on xfrm interfaces, the if_id is 0 on vti/vti6.
    8 IKEY "vtiIfIKey" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.tunnel.ikey.unwrap_or(0)));
    9 OKEY "vtiIfOKey" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.tunnel.okey.unwrap_or(0)));
    10 XFRM_IF_ID "vtiIfXfrmIfId" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.tunnel.if_id.unwrap_or(0)));
    11 UNDERLAY_IF_INDEX "vtiIfUnderlayIfIndex" InterfaceIndexOrZero ReadOnly
        |r, _, _| Some(Value::Integer(int32(u64::from(r.tunnel.link))));
    12 MTU "vtiIfMtu" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(r.tunnel.mtu));
    13 OPER_STATUS "vtiIfOperStatus" Enumeration ReadOnly |r, _, _| Some(enumerated(r.tunnel.oper));
    14 TX_PACKETS "vtiIfTxPackets" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.tx_packets));
    15 TX_OCTETS "vtiIfTxOctets" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.tx_bytes));
    16 TX_ERRORS "vtiIfTxErrors" Counter64 ReadOnly |r, _, _| error_counter(r, r.tunnel.stats.tx_errors);
    17 TX_DROPPED "vtiIfTxDropped" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.tx_dropped));
    18 TX_CARRIER_ERRORS "vtiIfTxCarrierErrors" Counter64 ReadOnly |r, _, _| error_counter(r, r.tunnel.stats.tx_carrier_errors);
    19 COLLISIONS "vtiIfCollisions" Counter64 ReadOnly |r, _, _| error_counter(r, r.tunnel.stats.collisions);
    20 TX_ABORTED_ERRORS "vtiIfTxAbortedErrors" Counter64 ReadOnly |r, _, _| error_counter(r, r.tunnel.stats.tx_aborted_errors);
    21 RX_PACKETS "vtiIfRxPackets" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.rx_packets));
    22 RX_OCTETS "vtiIfRxOctets" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.rx_bytes));
    23 RX_ERRORS "vtiIfRxErrors" Counter64 ReadOnly |r, _, _| error_counter(r, r.tunnel.stats.rx_errors);
    24 RX_DROPPED "vtiIfRxDropped" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.tunnel.stats.rx_dropped));
    25 ERROR_COUNTERS_VALID "vtiIfErrorCountersValid" TruthValue ReadOnly |r, _, _| Some(Value::truth(r.tunnel.error_counters_valid));
    26 CAT_CARRIER "vtiIfCatCarrier" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::Carrier);
    27 CAT_LOOP "vtiIfCatLoop" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::Loop);
    28 CAT_TOO_BIG "vtiIfCatTooBig" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::TooBig);
    29 CAT_OUTPUT_ERRORS "vtiIfCatOutputErrors" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::OutputErrors);
    30 CAT_DROPPED "vtiIfCatDropped" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::Dropped);
    31 SUSPECTED_UNDERLAY_DROPS "vtiIfSuspectedUnderlayDrops" Counter64 ReadOnly |r, _, _| category(r, ErrorCategory::UnderlayDrops);
    32 CAUSE "vtiIfCause" VtiCause ReadOnly |r, _, _| Some(enumerated(r.diagnosis.cause));
    33 DIAGNOSIS "vtiIfDiagnosis" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.diagnosis.text));
    34 LAST_ERROR_TIME "vtiIfLastErrorTime" TimeStamp ReadOnly
        |r, _, ctx| Some(Value::TimeTicks(r.last_error_at.map_or(0, |at| ctx.clock.timestamp(at))));
    35 DISCONTINUITY_TIME "vtiIfCounterDiscontinuityTime" TimeStamp ReadOnly
        |r, _, ctx| Some(Value::TimeTicks(ctx.clock.timestamp(r.discontinuity_at)));
    36 OUT_SA_COUNT "vtiIfOutSaCount" Gauge32 ReadOnly |r, s, _| sa_info(s, Value::Gauge32(r.sa_summary.outbound));
    37 IN_SA_COUNT "vtiIfInSaCount" Gauge32 ReadOnly |r, s, _| sa_info(s, Value::Gauge32(r.sa_summary.inbound));
    38 NO_OUTBOUND_SA "vtiIfNoOutboundSa" TruthValue ReadOnly |r, s, _| sa_info(s, Value::truth(r.sa_summary.outbound == 0));
    39 SECONDS_TO_HARD_EXPIRY "vtiIfSecondsToHardExpiry" VtiSeconds ReadOnly
        |r, s, ctx| sa_info(s, Value::Integer(seconds_until(r.sa_summary.hard_expiry_unix, ctx)));
    40 SEQ_HEADROOM "vtiIfSeqHeadroom" CounterBasedGauge64 ReadOnly
        |r, s, _| r.sa_summary.seq_headroom.and_then(|h| sa_info(s, Value::Counter64(h)));
    41 FW_MARK "vtiIfFwMark" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.tunnel.fwmark.unwrap_or(0)));
    42 PEER_ADDR_TYPE "vtiIfPeerAddrType" InetAddressType ReadOnly |r, _, _| Some(inet_type(r.peer.addr));
    43 PEER_ADDR "vtiIfPeerAddr" InetAddress ReadOnly |r, _, _| Some(inet_addr(r.peer.addr));
    44 PEER_ADDR_SOURCE "vtiIfPeerAddrSource" Enumeration ReadOnly |r, _, _| Some(enumerated(r.peer.source));
    45 ADMIN_STATUS "vtiIfAdminStatus" Enumeration ReadOnly
        |r, _, _| Some(Value::Integer(if r.tunnel.admin_up { 1 } else { 2 }));
    // The IKE columns: 0 / empty / none when no IKE row joins the tunnel.
    46 IKE_INDEX "vtiIfIkeIndex" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(r.ike.as_ref().map_or(0, |i| i.index)));
    47 IKE_CONN_NAME "vtiIfIkeConnName" DisplayString ReadOnly
        |r, _, _| Some(Value::display_string(r.ike.as_ref().map_or("", |i| &i.conn)));
    48 IKE_CHILD_NAME "vtiIfIkeChildName" DisplayString ReadOnly
        |r, _, _| Some(Value::display_string(r.ike.as_ref().map_or("", |i| &i.child)));
    49 IKE_STATE "vtiIfIkeState" VtiIkeSaState ReadOnly
        |r, _, _| Some(enumerated(r.ike.as_ref().map_or(IkeSaState::None, |i| i.ike_state)));
    50 IKE_CHILD_STATE "vtiIfIkeChildState" VtiChildSaState ReadOnly
        |r, _, _| Some(enumerated(r.ike.as_ref().map_or(ChildSaState::None, |i| i.child_state)));
    51 IKE_LAST_FAIL_REASON "vtiIfIkeLastFailReason" VtiIkeFailReason ReadOnly
        |r, _, _| Some(fail_reason(r.ike.as_ref().and_then(|i| i.last_failure.as_ref())));
    52 IKE_LAST_FAIL_TEXT "vtiIfIkeLastFailText" DisplayString ReadOnly
        |r, _, _| Some(fail_text(r.ike.as_ref().and_then(|i| i.last_failure.as_ref())));
    53 IKE_LAST_FAIL_TIME "vtiIfIkeLastFailTime" TimeStamp ReadOnly
        |r, _, ctx| Some(fail_time(r.ike.as_ref().and_then(|i| i.last_failure.as_ref()), ctx));
}

columns! {
    /// vtiIkeEntry, INDEX { vtiIkeIndex }: one row per IKE connection /
    /// CHILD_SA config (or live CHILD_SA whose config is gone).
    ike_col: IkeRow, ();
    1 INDEX "vtiIkeIndex" Unsigned32 Index not_served;
    2 CONN_NAME "vtiIkeConnName" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.conn));
    3 CHILD_NAME "vtiIkeChildName" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.child));
    4 STATE "vtiIkeState" VtiIkeSaState ReadOnly |r, _, _| Some(enumerated(r.ike_state));
    5 CHILD_STATE "vtiIkeChildState" VtiChildSaState ReadOnly |r, _, _| Some(enumerated(r.child_state));
    6 VERSION "vtiIkeVersion" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(u32::from(r.version)));
    7 LOCAL_HOST "vtiIkeLocalHost" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.local_host));
    8 REMOTE_HOST "vtiIkeRemoteHost" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.remote_host));
    9 REMOTE_ID "vtiIkeRemoteId" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.remote_id));
    10 SECONDS_ESTABLISHED "vtiIkeSecondsEstablished" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(r.established_unix.map_or(-1, |at| int32(unix_now(ctx).saturating_sub(at)))));
    11 SECONDS_TO_REKEY "vtiIkeSecondsToRekey" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.ike_rekey_unix, ctx)));
    12 SECONDS_TO_REAUTH "vtiIkeSecondsToReauth" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.ike_reauth_unix, ctx)));
    13 CHILD_SECONDS_TO_REKEY "vtiIkeChildSecondsToRekey" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.child_rekey_unix, ctx)));
    14 CHILD_SECONDS_TO_EXPIRY "vtiIkeChildSecondsToExpiry" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.child_expire_unix, ctx)));
    15 ALGORITHMS "vtiIkeAlgorithms" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.ike_algorithms));
    16 CHILD_ALGORITHMS "vtiIkeChildAlgorithms" DisplayString ReadOnly |r, _, _| Some(Value::display_string(&r.child_algorithms));
    17 REQID "vtiIkeReqid" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(r.reqid));
    18 SPI_IN "vtiIkeSpiIn" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.spi_in));
    19 SPI_OUT "vtiIkeSpiOut" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.spi_out));
    20 IF_ID_IN "vtiIkeIfIdIn" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.if_id_in));
    21 IF_ID_OUT "vtiIkeIfIdOut" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.if_id_out));
    22 MARK_IN "vtiIkeMarkIn" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.mark_in));
    23 MARK_OUT "vtiIkeMarkOut" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.mark_out));
    24 IF_INDEX "vtiIkeIfIndex" InterfaceIndexOrZero ReadOnly |r, _, _| Some(Value::Integer(int32(u64::from(r.tunnel_ifindex))));
    25 LAST_FAIL_REASON "vtiIkeLastFailReason" VtiIkeFailReason ReadOnly |r, _, _| Some(fail_reason(r.last_failure.as_ref()));
    26 LAST_FAIL_TEXT "vtiIkeLastFailText" DisplayString ReadOnly |r, _, _| Some(fail_text(r.last_failure.as_ref()));
    27 LAST_FAIL_TIME "vtiIkeLastFailTime" TimeStamp ReadOnly |r, _, ctx| Some(fail_time(r.last_failure.as_ref(), ctx));
}

fn ike_unavailable(s: &Snapshot) -> String {
    match (&s.ike.unavailable, s.ike.enabled) {
        (Some(why), _) => why.clone(),
        (None, false) => "disabled in the configuration ([ike] enabled = false)".into(),
        (None, true) => String::new(),
    }
}

/// VtiIkeFailReason: none(1) when there was no failure.
fn fail_reason(f: Option<&IkeFailure>) -> Value {
    f.map_or(Value::Integer(1), |f| enumerated(f.reason))
}

fn fail_text(f: Option<&IkeFailure>) -> Value {
    Value::display_string(f.map_or("", |f| f.message.as_str()))
}

/// sysUpTime when the failure happened; 0 when none (or before the agent
/// started, which TimeStamp cannot express).
fn fail_time(f: Option<&IkeFailure>, ctx: &RenderCtx) -> Value {
    let Some(f) = f else {
        return Value::TimeTicks(0);
    };
    let ago = Duration::from_secs(unix_now(ctx).saturating_sub(f.unix_secs));
    Value::TimeTicks(
        ctx.now
            .checked_sub(ago)
            .map_or(0, |at| ctx.clock.timestamp(at)),
    )
}

columns! {
    /// vtiSaEntry, INDEX { vtiSaIfIndex, vtiSaIndex }.
    sa_col: SaRow, ();
    /// InterfaceIndexOrZero: 0 = SA not attached to any tunnel.
    1 IF_INDEX "vtiSaIfIndex" InterfaceIndexOrZero Index not_served;
    2 INDEX "vtiSaIndex" Unsigned32 Index not_served;
    3 SPI "vtiSaSpi" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.spi));
    4 DIRECTION "vtiSaDirection" Enumeration ReadOnly |r, _, _| Some(enumerated(r.sa.direction));
    5 SRC_ADDR_TYPE "vtiSaSrcAddrType" InetAddressType ReadOnly |r, _, _| Some(inet_type(Some(r.sa.src)));
    6 SRC_ADDR "vtiSaSrcAddr" InetAddress ReadOnly |r, _, _| Some(inet_addr(Some(r.sa.src)));
    7 DST_ADDR_TYPE "vtiSaDstAddrType" InetAddressType ReadOnly |r, _, _| Some(inet_type(Some(r.sa.dst)));
    8 DST_ADDR "vtiSaDstAddr" InetAddress ReadOnly |r, _, _| Some(inet_addr(Some(r.sa.dst)));
    9 PROTOCOL "vtiSaProtocol" Enumeration ReadOnly |r, _, _| Some(Value::Integer(i32::from(r.sa.proto)));
    10 MODE "vtiSaMode" Enumeration ReadOnly |r, _, _| Some(enumerated(r.sa.mode));
    11 REQID "vtiSaReqid" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.reqid));
    // MIB: no mark = 0 with mask 0; no if_id = 0; no algorithm = empty.
    12 MARK "vtiSaMark" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.mark.map_or(0, |(v, _)| v)));
    13 MARK_MASK "vtiSaMarkMask" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.mark.map_or(0, |(_, m)| m)));
    14 IF_ID "vtiSaIfId" VtiHex32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.if_id.unwrap_or(0)));
    // The cipher; for AEAD SAs the AEAD algorithm, for IPComp the
    // compression algorithm.
    15 ENC_ALG "vtiSaEncAlg" DisplayString ReadOnly |r, _, _| {
        let a = &r.sa.algorithms;
        Some(Value::text(
            a.enc_alg.as_deref().or(a.aead_alg.as_deref()).or(a.comp_alg.as_deref()).unwrap_or(""),
        ))
    };
    16 AUTH_ALG "vtiSaAuthAlg" DisplayString ReadOnly
        |r, _, _| Some(Value::text(r.sa.algorithms.auth_alg.as_deref().unwrap_or("")));
    17 AGE "vtiSaAge" Unsigned32 ReadOnly |r, _, ctx| Some(Value::Gauge32(
        unix_now(ctx).saturating_sub(r.sa.current.add_time).min(u64::from(u32::MAX)) as u32,
    ));
    18 CUR_BYTES "vtiSaCurBytes" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.sa.current.bytes));
    19 CUR_PACKETS "vtiSaCurPackets" Counter64 ReadOnly |r, _, _| Some(Value::Counter64(r.sa.current.packets));
    20 SOFT_BYTE_LIMIT "vtiSaSoftByteLimit" CounterBasedGauge64 ReadOnly
        |r, _, _| Some(Value::Counter64(r.sa.lifetime.get().soft_byte_limit));
    21 HARD_BYTE_LIMIT "vtiSaHardByteLimit" CounterBasedGauge64 ReadOnly
        |r, _, _| Some(Value::Counter64(r.sa.lifetime.get().hard_byte_limit));
    22 SOFT_PACKET_LIMIT "vtiSaSoftPacketLimit" CounterBasedGauge64 ReadOnly
        |r, _, _| Some(Value::Counter64(r.sa.lifetime.get().soft_packet_limit));
    23 HARD_PACKET_LIMIT "vtiSaHardPacketLimit" CounterBasedGauge64 ReadOnly
        |r, _, _| Some(Value::Counter64(r.sa.lifetime.get().hard_packet_limit));
    24 SOFT_ADD_EXPIRES "vtiSaSoftAddExpires" Unsigned32 ReadOnly
        |r, _, _| Some(Value::Gauge32(saturate32(r.sa.lifetime.get().soft_add_expires_seconds)));
    25 HARD_ADD_EXPIRES "vtiSaHardAddExpires" Unsigned32 ReadOnly
        |r, _, _| Some(Value::Gauge32(saturate32(r.sa.lifetime.get().hard_add_expires_seconds)));
    26 SECONDS_TO_SOFT_EXPIRY "vtiSaSecondsToSoftExpiry" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.sa.soft_expiry_unix(), ctx)));
    27 SECONDS_TO_HARD_EXPIRY "vtiSaSecondsToHardExpiry" VtiSeconds ReadOnly
        |r, _, ctx| Some(Value::Integer(seconds_until(r.sa.hard_expiry_unix(), ctx)));
    28 REPLAY_WINDOW_ERRORS "vtiSaReplayWindowErrors" Counter32 ReadOnly |r, _, _| Some(Value::Counter32(r.sa.stats.replay_window));
    29 REPLAY_ERRORS "vtiSaReplayErrors" Counter32 ReadOnly |r, _, _| Some(Value::Counter32(r.sa.stats.replay));
    30 INTEGRITY_FAILURES "vtiSaIntegrityFailures" Counter32 ReadOnly |r, _, _| Some(Value::Counter32(r.sa.stats.integrity_failed));
    31 OUT_SEQ "vtiSaOutSeq" CounterBasedGauge64 ReadOnly |r, _, _| Some(Value::Counter64(r.sa.replay.oseq));
    32 REPLAY_WINDOW "vtiSaReplayWindow" Unsigned32 ReadOnly |r, _, _| Some(Value::Gauge32(r.sa.replay.window));
    33 ESN "vtiSaEsn" TruthValue ReadOnly |r, _, _| Some(Value::truth(r.sa.replay.esn));
}

columns! {
    /// vtiAlarmEntry, INDEX { vtiIfIndex, vtiAlarmCategory }.
    alarm_col: AlarmRow, ();
    1 CATEGORY "vtiAlarmCategory" VtiErrorCategory Index not_served;
    2 INTERVAL "vtiAlarmInterval" Unsigned32 ReadOnly |a, _, _| Some(Value::Gauge32(a.interval_secs));
    3 RISING_THRESHOLD "vtiAlarmRisingThreshold" Unsigned32 ReadOnly |a, _, _| Some(Value::Gauge32(a.rising));
    4 FALLING_THRESHOLD "vtiAlarmFallingThreshold" Unsigned32 ReadOnly |a, _, _| Some(Value::Gauge32(a.falling));
    5 STATE "vtiAlarmState" Enumeration ReadOnly |a, _, _| Some(enumerated(a.state));
    6 LAST_DELTA "vtiAlarmLastDelta" CounterBasedGauge64 ReadOnly |a, _, _| Some(Value::Counter64(a.last_delta));
    7 LAST_EVENT_TIME "vtiAlarmLastEventTime" TimeStamp ReadOnly
        |a, _, ctx| Some(Value::TimeTicks(a.last_event_at.map_or(0, |at| ctx.clock.timestamp(at))));
    8 EVENTS_SENT "vtiAlarmEventsSent" Counter64 ReadOnly |a, _, _| Some(Value::Counter64(a.sent));
    9 EVENTS_SUPPRESSED "vtiAlarmEventsSuppressed" Counter64 ReadOnly |a, _, _| Some(Value::Counter64(a.suppressed));
    /// vtiAlarmEventCategory: accessible-for-notify copy of the category,
    /// carried in vtiTxErrorRising/Falling (an index object cannot be).
    10 EVENT_CATEGORY "vtiAlarmEventCategory" VtiErrorCategory Notify not_served;
}

columns! {
    /// vtiGlobal scalars about the event history (instance .0).
    event_global: EventTable, ();
    12 LAST_INDEX "vtiEventLastIndex" Unsigned32 ReadOnly |t, _, _| Some(Value::Gauge32(t.last_index));
    13 TABLE_SIZE "vtiEventTableSize" Unsigned32 ReadOnly |t, _, _| Some(Value::Gauge32(count(t.capacity)));
}

columns! {
    /// vtiEventEntry, INDEX { vtiEventIndex }.
    event_col: EventRecord, ();
    1 INDEX "vtiEventIndex" Unsigned32 Index not_served;
    2 TIME "vtiEventTime" TimeStamp ReadOnly |e, _, ctx| Some(Value::TimeTicks(ctx.clock.timestamp(e.at)));
    3 DATE_AND_TIME "vtiEventDateAndTime" DateAndTime ReadOnly |e, _, _| Some(date_and_time(e.wall_time));
    4 KIND "vtiEventKind" Enumeration ReadOnly |e, _, _| Some(enumerated(e.kind));
    5 IF_INDEX "vtiEventIfIndex" InterfaceIndexOrZero ReadOnly |e, _, _| Some(Value::Integer(int32(u64::from(e.ifindex))));
    6 IF_NAME "vtiEventIfName" DisplayString ReadOnly |e, _, _| Some(Value::text(&e.name));
    7 CAUSE "vtiEventCause" VtiCause ReadOnly |e, _, _| Some(enumerated(e.cause));
    // Threshold events only.
    8 CATEGORY "vtiEventCategory" VtiErrorCategory ReadOnly |e, _, _| e.category.map(enumerated);
    9 PEER_ADDR_TYPE "vtiEventPeerAddrType" InetAddressType ReadOnly |e, _, _| Some(inet_type(e.peer_addr));
    10 PEER_ADDR "vtiEventPeerAddr" InetAddress ReadOnly |e, _, _| Some(inet_addr(e.peer_addr));
    11 TEXT "vtiEventText" DisplayString ReadOnly |e, _, _| Some(Value::display_string(&e.text));
    12 NOTIFICATION "vtiEventNotification" Enumeration ReadOnly |e, _, _| Some(enumerated(e.notified));
}

/// An error counter of the kernel, absent where it exports none.
fn error_counter(r: &TunnelRow, v: u64) -> Option<Value> {
    r.tunnel.error_counters_valid.then_some(Value::Counter64(v))
}

/// A classified category: an error counter, except `dropped` (which the
/// kernel always exports); underlay drops exist on vti/vti6 only (the MIB
/// has them 0 on xfrm, which counts them as output errors).
fn category(r: &TunnelRow, c: ErrorCategory) -> Option<Value> {
    let v = r.categories[c];
    match c {
        ErrorCategory::Dropped => Some(Value::Counter64(v)),
        ErrorCategory::UnderlayDrops => Some(Value::Counter64(match r.tunnel.kind {
            TunnelKind::Xfrm => 0,
            TunnelKind::Vti | TunnelKind::Vti6 => v,
        })),
        _ => error_counter(r, v),
    }
}

/// SA-derived columns need the XFRM dump (CAP_NET_ADMIN).
fn sa_info(s: &Snapshot, v: Value) -> Option<Value> {
    s.xfrm_available.then_some(v)
}

/// A model enumeration whose values an `INTEGER { … }` column (or a
/// notification varbind) carries: the one mapping to the MIB's numbers.
pub trait MibEnum: Copy {
    fn mib_number(self) -> i32;
}

fn enumerated(v: impl MibEnum) -> Value {
    Value::Integer(v.mib_number())
}

/// vtiIfKind.
impl MibEnum for TunnelKind {
    fn mib_number(self) -> i32 {
        match self {
            TunnelKind::Vti => 1,
            TunnelKind::Vti6 => 2,
            TunnelKind::Xfrm => 3,
        }
    }
}

/// vtiIfOperStatus: IF-MIB's ifOperStatus numbers, which `OperStatus` keeps.
impl MibEnum for OperStatus {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// vtiIfCause: `Cause` keeps the MIB's numbers.
impl MibEnum for Cause {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// vtiIfPeerAddrSource: `PeerSource` keeps the MIB's numbers.
impl MibEnum for PeerSource {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// vtiEventKind: `EventKind` keeps the MIB's numbers.
impl MibEnum for EventKind {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// vtiEventNotification: `Notified` keeps the MIB's numbers.
impl MibEnum for Notified {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// vtiSaDirection.
impl MibEnum for SaDirection {
    fn mib_number(self) -> i32 {
        match self {
            SaDirection::In => 1,
            SaDirection::Out => 2,
        }
    }
}

/// vtiSaMode: the kernel's XFRM_MODE_* plus 1.
impl MibEnum for XfrmMode {
    fn mib_number(self) -> i32 {
        i32::from(u8::from(self)) + 1
    }
}

/// vtiAlarmState: `AlarmState` keeps the MIB's numbers.
impl MibEnum for AlarmState {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// VtiIkeSaState: `IkeSaState` keeps the MIB's numbers.
impl MibEnum for IkeSaState {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// VtiChildSaState: `ChildSaState` keeps the MIB's numbers.
impl MibEnum for ChildSaState {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// VtiIkeFailReason (none(1) is "no failure", not a reason).
impl MibEnum for TermReason {
    fn mib_number(self) -> i32 {
        match self {
            TermReason::AuthFailed => 2,
            TermReason::NoProposalChosen => 3,
            TermReason::TsUnacceptable => 4,
            TermReason::PeerUnreachable => 5,
            TermReason::DpdTimeout => 6,
            TermReason::DeletedByPeer => 7,
            TermReason::DeletedLocally => 8,
            TermReason::RekeyFailed => 9,
            TermReason::Other => 10,
        }
    }
}

/// VtiErrorCategory: `ErrorCategory` keeps the MIB's numbers.
impl MibEnum for ErrorCategory {
    fn mib_number(self) -> i32 {
        self as i32
    }
}

/// InetAddressType: unknown(0), ipv4(1), ipv6(2).
pub fn inet_type(addr: Option<IpAddr>) -> Value {
    Value::Integer(match addr {
        None => 0,
        Some(IpAddr::V4(_)) => 1,
        Some(IpAddr::V6(_)) => 2,
    })
}

/// InetAddress: 4 or 16 raw bytes; empty for unknown(0).
pub fn inet_addr(addr: Option<IpAddr>) -> Value {
    Value::OctetString(match addr {
        None => Vec::new(),
        Some(IpAddr::V4(a)) => a.octets().to_vec(),
        Some(IpAddr::V6(a)) => a.octets().to_vec(),
    })
}

/// DateAndTime (SNMPv2-TC), UTC: year (2 octets), month, day, hour,
/// minutes, seconds, deci-seconds, '+', 0, 0.
fn date_and_time(at: SystemTime) -> Value {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let of_day = secs % 86_400;
    let mut v = Vec::with_capacity(11);
    v.extend_from_slice(&(year.clamp(0, 65_535) as u16).to_be_bytes());
    v.extend_from_slice(&[
        month,
        day,
        (of_day / 3600) as u8,
        (of_day / 60 % 60) as u8,
        (of_day % 60) as u8,
        (since.subsec_millis() / 100) as u8,
        b'+',
        0,
        0,
    ]);
    Value::OctetString(v)
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic
/// Gregorian; Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn unix_now(ctx: &RenderCtx) -> u64 {
    ctx.wall_now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds from now until `at` (0 once passed); -1 when there is no limit.
fn seconds_until(at: Option<u64>, ctx: &RenderCtx) -> i32 {
    match at {
        None => -1,
        Some(at) => int32(at.saturating_sub(unix_now(ctx))),
    }
}

fn int32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn saturate32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::agentx::clock::MasterClock;
    use crate::classify::testutil::{sa, tunnel_row as row, vti_tunnel, xfrm_tunnel};
    use crate::model::{AlgorithmNames, Availability, SaSummary};

    fn snapshot(tunnels: Vec<TunnelRow>, sas: Vec<SaRow>) -> Snapshot {
        Snapshot {
            taken_at: Instant::now(),
            wall_time: SystemTime::now(),
            poll_interval_secs: 10,
            kernel_release: "6.1.0-test".into(),
            xfrm_available: true,
            xfrm_stat: Availability::Available(vec![("XfrmOutNoStates".into(), 3)]),
            xfrm_stat_delta: vec![],
            tunnels,
            sas,
            policies: Availability::Available(vec![]),
            poll_failures: 0,
            ike: Default::default(),
        }
    }

    fn read<R, S>(columns: &'static [Column<R, S>], id: u32, r: &R, s: &S) -> Option<Value> {
        let ctx = RenderCtx::now(MasterClock::local());
        (by_id(columns, id).expect("a described column").read)(r, s, &ctx)
    }

    /// Columns the MIB describes as 0 or empty when the kernel has nothing are
    /// instantiated with 0 or empty, not left out (no holes in a row).
    #[test]
    fn absent_settings_are_zero_or_empty_as_the_mib_says() {
        let x = row(xfrm_tunnel(5, "xfrm1", 7));
        let snap = snapshot(vec![], vec![]);
        let cell = |r: &TunnelRow, id| read(if_col::COLUMNS, id, r, &snap);
        for col in [if_col::IKEY, if_col::OKEY] {
            assert_eq!(cell(&x, col), Some(Value::Gauge32(0)));
        }
        assert_eq!(
            cell(&x, if_col::SUSPECTED_UNDERLAY_DROPS),
            Some(Value::Counter64(0))
        );
        let v = row(vti_tunnel(6, "vti1", "192.0.2.1", "192.0.2.2", 11));
        assert_eq!(cell(&v, if_col::XFRM_IF_ID), Some(Value::Gauge32(0)));
        assert_eq!(cell(&v, if_col::IKEY), Some(Value::Gauge32(11)));

        let mut s = SaRow {
            tunnel_ifindex: 6,
            index: 1,
            sa: sa(0x100, "192.0.2.1", "192.0.2.2", SaDirection::Out),
        };
        let sa_cell = |s: &SaRow, id| read(sa_col::COLUMNS, id, s, &());
        for col in [sa_col::MARK, sa_col::MARK_MASK, sa_col::IF_ID] {
            assert_eq!(sa_cell(&s, col), Some(Value::Gauge32(0)));
        }
        s.sa.algorithms = AlgorithmNames {
            aead_alg: Some("rfc4106(gcm(aes))".into()),
            ..AlgorithmNames::default()
        }
        .into();
        assert_eq!(
            sa_cell(&s, sa_col::ENC_ALG),
            Some(Value::text("rfc4106(gcm(aes))"))
        );
        assert_eq!(sa_cell(&s, sa_col::AUTH_ALG), Some(Value::text("")));
        s.sa.algorithms = AlgorithmNames {
            comp_alg: Some("deflate".into()),
            ..AlgorithmNames::default()
        }
        .into();
        assert_eq!(sa_cell(&s, sa_col::ENC_ALG), Some(Value::text("deflate")));
        s.sa.algorithms = AlgorithmNames::default().into();
        assert_eq!(sa_cell(&s, sa_col::ENC_ALG), Some(Value::text("")));
    }

    /// Every served column, read from a row that has everything, gives a
    /// value of the wire type its SYNTAX calls for; ids ascend and names are
    /// the table's.
    fn check<R, S>(
        columns: &'static [Column<R, S>],
        direct: fn(u32, &R, &S, &RenderCtx) -> Option<Value>,
        prefix: &str,
        r: &R,
        s: &S,
    ) {
        let ctx = RenderCtx::now(MasterClock::local());
        assert_eq!(direct(0, r, s, &ctx), None, "{prefix}: no column 0");
        assert!(
            columns.windows(2).all(|w| w[0].id < w[1].id),
            "{prefix}: ids ascend"
        );
        for c in columns {
            assert!(c.name.starts_with(prefix), "{}", c.name);
            assert_eq!(by_id(columns, c.id).map(|f| f.name), Some(c.name));
            let got = read(columns, c.id, r, s);
            // The same reader either way (time-dependent cells aside).
            if c.syntax != Syntax::TimeStamp && c.syntax != Syntax::VtiSeconds {
                assert_eq!(direct(c.id, r, s, &ctx), got, "{}", c.name);
            }
            if !c.served() {
                assert_eq!(got, None, "{} is not served", c.name);
                continue;
            }
            let v = got.unwrap_or_else(|| panic!("{}: no value", c.name));
            assert_eq!(v.type_tag(), c.syntax.type_tag(), "{}: {v:?}", c.name);
        }
    }

    #[test]
    fn every_column_reads_the_type_its_syntax_says() {
        let mut r = row(vti_tunnel(6, "vti1", "192.0.2.1", "192.0.2.2", 11));
        r.sa_summary = SaSummary {
            outbound: 1,
            inbound: 1,
            hard_expiry_unix: Some(1),
            seq_headroom: Some(5),
        };
        let s = SaRow {
            tunnel_ifindex: 6,
            index: 1,
            sa: sa(0x100, "192.0.2.1", "192.0.2.2", SaDirection::Out),
        };
        let snap = snapshot(vec![r.clone()], vec![s.clone()]);
        check(global::COLUMNS, global::read, "vti", &snap, &());
        check(
            xfrm_stat::COLUMNS,
            xfrm_stat::read,
            "vtiXfrmStat",
            &("XfrmInError".into(), 1),
            &(),
        );
        check(if_col::COLUMNS, if_col::read, "vtiIf", &r, &snap);
        check(sa_col::COLUMNS, sa_col::read, "vtiSa", &s, &());
        let alarm = AlarmRow {
            ifindex: 6,
            category: ErrorCategory::Carrier,
            interval_secs: 60,
            rising: 1,
            falling: 0,
            state: AlarmState::ArmedRising,
            last_delta: 0,
            last_event_at: None,
            sent: 0,
            suppressed: 0,
        };
        check(alarm_col::COLUMNS, alarm_col::read, "vtiAlarm", &alarm, &());
        let record = EventRecord {
            index: 1,
            at: Instant::now(),
            wall_time: SystemTime::now(),
            kind: EventKind::TxErrorRising,
            ifindex: 6,
            name: "vti1".into(),
            cause: Cause::NoOutboundSa,
            peer_addr: Some("192.0.2.2".parse().unwrap()),
            category: Some(ErrorCategory::Carrier),
            text: "no outbound SA".into(),
            notified: Notified::Sent,
        };
        check(
            event_col::COLUMNS,
            event_col::read,
            "vtiEvent",
            &record,
            &(),
        );
        check(
            event_global::COLUMNS,
            event_global::read,
            "vtiEvent",
            &EventTable::default(),
            &(),
        );
    }

    #[test]
    fn date_and_time_is_utc_in_eleven_octets() {
        // 2026-12-04 21:30:05.7 UTC
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_796_419_805_700);
        assert_eq!(
            date_and_time(at),
            Value::OctetString(vec![0x07, 0xea, 12, 4, 21, 30, 5, 7, b'+', 0, 0])
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
