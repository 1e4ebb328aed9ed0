//! The OID layout of IPSEC-VTI-MIB, relative to the module root.
//!
//! `mibs/IPSEC-VTI-MIB.txt` must agree with every number here and in
//! `columns`; the test `tests/mib_file.rs` checks both with snmptranslate.

/// netSnmpPlaypen (NET-SNMP-MIB) . 2741 — the default module root until the
/// project has its own enterprise number. Overridable with `oid_root`.
pub const DEFAULT_ROOT: &[u32] = &[1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 2741];

/// vtiNotifications(0) — notification OIDs are root.0.N.
pub const NOTIFICATIONS: u32 = 0;
pub mod notification {
    pub const TX_ERROR_RISING: u32 = 1;
    pub const TX_ERROR_FALLING: u32 = 2;
    pub const SA_DOWN: u32 = 3;
    pub const SA_UP: u32 = 4;
    pub const SA_EXPIRING: u32 = 5;
    pub const IKE_DOWN: u32 = 6;
    pub const IKE_UP: u32 = 7;
    pub const TUNNEL_DOWN: u32 = 8;
    pub const TUNNEL_UP: u32 = 9;
}

/// vtiObjects(1)
pub const OBJECTS: u32 = 1;
/// vtiConformance(2)
pub const CONFORMANCE: u32 = 2;

/// Under vtiObjects.
pub const GLOBAL: u32 = 1;
pub const XFRM_STAT_TABLE: u32 = 2;
pub const IF_TABLE: u32 = 3;
pub const SA_TABLE: u32 = 4;
pub const ALARM_TABLE: u32 = 5;
pub const IKE_TABLE: u32 = 7;
pub const EVENT_TABLE: u32 = 6;

/// The objects under vtiGlobal and each table's entry: sub-identifiers
/// from their descriptions (`columns`).
pub use super::columns::{
    alarm_col, event_col, event_global, global, if_col, ike_col, sa_col, xfrm_stat,
};

/// Under vtiConformance: vtiGroups(1), vtiCompliances(2). Nothing here is
/// served; the numbers are for sysORTable/AgentCaps and the MIB test.
pub mod conformance {
    pub const GROUPS: u32 = 1;
    pub const COMPLIANCES: u32 = 2;
    /// vtiCompliance, under vtiCompliances.
    pub const COMPLIANCE: u32 = 1;
    /// Object and notification groups, under vtiGroups.
    pub const GLOBAL_GROUP: u32 = 1;
    pub const XFRM_STAT_GROUP: u32 = 2;
    pub const IF_GROUP: u32 = 3;
    pub const SA_GROUP: u32 = 4;
    pub const ALARM_GROUP: u32 = 5;
    pub const NOTIFICATION_GROUP: u32 = 6;
    pub const IKE_GROUP: u32 = 7;
    pub const EVENT_GROUP: u32 = 8;
    pub const IKE_NOTIFICATION_GROUP: u32 = 9;
}
