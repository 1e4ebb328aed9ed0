//! The IKE view as plain data: what one poll of charon produced, plus the
//! last failure per connection captured from its event stream.

use serde::{Deserialize, Serialize};

/// One poll of the IKE daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IkeSample {
    /// Whether this poll reached charon; when false, `connections` and
    /// `ike_sas` are empty and `unavailable` says why.
    pub available: bool,
    pub unavailable: Option<String>,
    /// Whether the long-lived event connection (failure reasons) is up.
    pub events_connected: bool,
    /// Configured connections (`list-conns`), including those without an SA.
    pub connections: Vec<IkeConnection>,
    /// Live IKE SAs (`list-sas`) with their CHILD SAs.
    pub ike_sas: Vec<IkeSa>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IkeConnection {
    pub name: String,
    /// `IKEv1`, `IKEv2` or `IKE` (either), as charon reports it.
    pub version: String,
    pub local_addrs: Vec<String>,
    pub remote_addrs: Vec<String>,
    pub children: Vec<ChildConfig>,
    /// The most recent failure of this connection seen on the event stream.
    pub last_failure: Option<IkeFailure>,
}

/// A configured CHILD_SA. charon's `list-conns` (5.9 and later) does not
/// report if_id or marks of a child config, so they are those of the last
/// CHILD_SA of this config seen installed (by a poll or an up event), and
/// absent until one was.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChildConfig {
    pub name: String,
    pub mode: String,
    #[serde(flatten)]
    pub binding: ChildBinding,
}

/// How a CHILD_SA attaches to an interface: what the join to tunnels uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChildBinding {
    pub reqid: Option<u32>,
    pub if_id_in: Option<u32>,
    pub if_id_out: Option<u32>,
    pub mark_in: Option<Mark>,
    pub mark_out: Option<Mark>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub value: u32,
    pub mask: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IkeSa {
    /// The connection (config) name.
    pub name: String,
    pub uniqueid: u32,
    /// charon's state name: CREATED, CONNECTING, ESTABLISHED, PASSIVE,
    /// REKEYING, REKEYED, DELETING, DESTROYING.
    pub state: String,
    pub version: u8,
    pub local_host: String,
    pub local_port: Option<u16>,
    pub local_id: String,
    pub remote_host: String,
    pub remote_port: Option<u16>,
    pub remote_id: String,
    pub initiator: bool,
    pub if_id_in: Option<u32>,
    pub if_id_out: Option<u32>,
    pub encr_alg: Option<String>,
    pub encr_keysize: Option<u32>,
    pub integ_alg: Option<String>,
    pub prf_alg: Option<String>,
    pub dh_group: Option<String>,
    /// Seconds since the SA was established.
    pub established_secs: Option<u64>,
    /// Seconds until it is rekeyed / reauthenticated.
    pub rekey_secs: Option<u64>,
    pub reauth_secs: Option<u64>,
    pub children: Vec<ChildSa>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChildSa {
    pub name: String,
    pub uniqueid: u32,
    /// INSTALLED, REKEYING, REKEYED, DELETING, …
    pub state: String,
    pub mode: String,
    pub protocol: String,
    /// SPIs as 8 hex digits, as charon prints them.
    pub spi_in: Option<String>,
    pub spi_out: Option<String>,
    #[serde(flatten)]
    pub binding: ChildBinding,
    pub encr_alg: Option<String>,
    pub encr_keysize: Option<u32>,
    pub integ_alg: Option<String>,
    pub dh_group: Option<String>,
    /// Seconds since installation; until rekey; until hard expiry.
    pub install_secs: Option<u64>,
    pub rekey_secs: Option<u64>,
    pub life_secs: Option<u64>,
    pub bytes_in: u64,
    pub packets_in: u64,
    pub bytes_out: u64,
    pub packets_out: u64,
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
}

/// Why a connection's SA went away, modelled on CISCO-IPSEC-FLOW-MONITOR-MIB's
/// cikeTunHistTermReason / cipSecTunHistTermReason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TermReason {
    /// The peer rejected our authentication, or we rejected the peer's.
    AuthFailed,
    /// No common IKE or ESP proposal.
    NoProposalChosen,
    /// The peers' traffic selectors do not match.
    TsUnacceptable,
    /// No answer while establishing (retransmits exhausted).
    PeerUnreachable,
    /// No answer to dead peer detection on an established SA.
    DpdTimeout,
    /// The peer sent a DELETE.
    DeletedByPeer,
    /// This side deleted it (operator, inactivity, config change, charon
    /// shutting down).
    DeletedLocally,
    /// Rekeying or reauthentication failed.
    RekeyFailed,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IkeFailure {
    pub reason: TermReason,
    /// charon's own log line (sanitised, at most [`super::reason::MAX_MESSAGE_CHARS`]).
    pub message: String,
    /// Wall-clock time, seconds since the Unix epoch.
    pub unix_secs: u64,
    /// The IKE SA it happened on, when known.
    pub ike_sa_uniqueid: Option<u32>,
    /// The CHILD_SA name, when the failure is a CHILD_SA's.
    pub child: Option<String>,
}
