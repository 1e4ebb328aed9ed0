//! The IKE view as served: one row per configured (or live) IKE
//! connection / CHILD_SA config, joined to the tunnel it drives, and the
//! per-tunnel summary of it. Built by `classify::ike` from the collected
//! `IkeSample`. Algorithm names, SPIs and states only: never keys or PSKs.

use serde::Serialize;

use super::{IkeFailure, TermReason};

/// charon's IKE_SA states (`ike_sa_state_t`), plus `None` for a connection
/// with no IKE SA at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IkeSaState {
    #[default]
    None = 1,
    Created = 2,
    Connecting = 3,
    Established = 4,
    Passive = 5,
    Rekeying = 6,
    Rekeyed = 7,
    Deleting = 8,
    Destroying = 9,
    Other = 10,
}

impl IkeSaState {
    /// charon's state name as `list-sas` reports it.
    pub fn parse(state: &str) -> Self {
        match state {
            "CREATED" => Self::Created,
            "CONNECTING" => Self::Connecting,
            "ESTABLISHED" => Self::Established,
            "PASSIVE" => Self::Passive,
            "REKEYING" => Self::Rekeying,
            "REKEYED" => Self::Rekeyed,
            "DELETING" => Self::Deleting,
            "DESTROYING" => Self::Destroying,
            _ => Self::Other,
        }
    }

    /// The IKE SA can carry CHILD_SAs.
    pub fn is_up(self) -> bool {
        matches!(self, Self::Established | Self::Rekeying | Self::Rekeyed)
    }
}

/// charon's CHILD_SA states (`child_sa_state_t`), plus `None` for a child
/// config with no CHILD_SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChildSaState {
    #[default]
    None = 1,
    Created = 2,
    Routed = 3,
    Installing = 4,
    Installed = 5,
    Updating = 6,
    Rekeying = 7,
    Rekeyed = 8,
    Retrying = 9,
    Deleting = 10,
    Deleted = 11,
    Destroying = 12,
    Other = 13,
}

impl ChildSaState {
    pub fn parse(state: &str) -> Self {
        match state {
            "CREATED" => Self::Created,
            "ROUTED" => Self::Routed,
            "INSTALLING" => Self::Installing,
            "INSTALLED" => Self::Installed,
            "UPDATING" => Self::Updating,
            "REKEYING" => Self::Rekeying,
            "REKEYED" => Self::Rekeyed,
            "RETRYING" => Self::Retrying,
            "DELETING" => Self::Deleting,
            "DELETED" => Self::Deleted,
            "DESTROYING" => Self::Destroying,
            _ => Self::Other,
        }
    }

    /// Its SAs are in the kernel and carry traffic (a rekey in progress
    /// included: the old SA works until the new one is installed).
    pub fn is_up(self) -> bool {
        matches!(
            self,
            Self::Installed | Self::Updating | Self::Rekeying | Self::Rekeyed
        )
    }

    /// charon's name, for texts.
    pub fn label(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Created => "CREATED",
            Self::Routed => "ROUTED",
            Self::Installing => "INSTALLING",
            Self::Installed => "INSTALLED",
            Self::Updating => "UPDATING",
            Self::Rekeying => "REKEYING",
            Self::Rekeyed => "REKEYED",
            Self::Retrying => "RETRYING",
            Self::Deleting => "DELETING",
            Self::Deleted => "DELETED",
            Self::Destroying => "DESTROYING",
            Self::Other => "other",
        }
    }
}

/// The MIB's label of a failure reason (VtiIkeFailReason).
pub fn reason_label(reason: TermReason) -> &'static str {
    match reason {
        TermReason::AuthFailed => "authFailed",
        TermReason::NoProposalChosen => "noProposalChosen",
        TermReason::TsUnacceptable => "tsUnacceptable",
        TermReason::PeerUnreachable => "peerUnreachable",
        TermReason::DpdTimeout => "dpdTimeout",
        TermReason::DeletedByPeer => "deletedByPeer",
        TermReason::DeletedLocally => "deletedLocally",
        TermReason::RekeyFailed => "rekeyFailed",
        TermReason::Other => "other",
    }
}

/// vtiIkeAvailable and the rows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IkeView {
    /// The IKE view is configured (`[ike] enabled`).
    pub enabled: bool,
    /// The last poll reached charon.
    pub available: bool,
    /// Why not, when not.
    pub unavailable: Option<String>,
    /// Sorted by `index`.
    pub rows: Vec<IkeRow>,
}

/// One IKE connection / CHILD_SA config (vtiIkeTable row). Times are Unix
/// seconds so that "seconds to …" is computed when asked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IkeRow {
    /// Stable while the (connection, child) pair exists.
    pub index: u32,
    pub conn: String,
    /// Empty for a connection without CHILD_SA configs.
    pub child: String,
    pub ike_state: IkeSaState,
    pub child_state: ChildSaState,
    /// 1 or 2; 0 when unknown.
    pub version: u8,
    pub local_host: String,
    pub remote_host: String,
    pub remote_id: String,
    pub established_unix: Option<u64>,
    pub ike_rekey_unix: Option<u64>,
    pub ike_reauth_unix: Option<u64>,
    pub child_rekey_unix: Option<u64>,
    pub child_expire_unix: Option<u64>,
    /// e.g. "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048".
    pub ike_algorithms: String,
    pub child_algorithms: String,
    pub reqid: u32,
    pub spi_in: u32,
    pub spi_out: u32,
    pub if_id_in: u32,
    pub if_id_out: u32,
    pub mark_in: u32,
    pub mark_out: u32,
    /// The tunnel it drives; 0 = none found.
    pub tunnel_ifindex: u32,
    pub last_failure: Option<IkeFailure>,
}

impl IkeRow {
    /// The CHILD_SA carries traffic (or, for a child-less connection, the
    /// IKE SA is established).
    pub fn is_up(&self) -> bool {
        if self.child.is_empty() {
            self.ike_state.is_up()
        } else {
            self.child_state.is_up()
        }
    }
}

/// What a tunnel row shows of the IKE row it joins to.
#[derive(Clone, Debug, Serialize)]
pub struct TunnelIke {
    /// vtiIkeIndex of that row.
    pub index: u32,
    pub conn: String,
    pub child: String,
    pub ike_state: IkeSaState,
    pub child_state: ChildSaState,
    /// `IkeRow::is_up` of that row.
    pub up: bool,
    pub last_failure: Option<IkeFailure>,
}
