//! The OID layout of IPSEC-VTI-MIB, relative to the module root.
//!
//! `mibs/IPSEC-VTI-MIB.txt` must agree with every number here; the test
//! `tests/mib_file.rs` checks both with snmptranslate.

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

/// vtiGlobal scalars (instance .0).
pub mod global {
    pub const POLL_INTERVAL: u32 = 1;
    pub const LAST_POLL_TIME: u32 = 2;
    pub const AGENT_VERSION: u32 = 3;
    pub const TUNNEL_COUNT: u32 = 4;
    pub const SA_COUNT: u32 = 5;
    pub const XFRM_AVAILABLE: u32 = 6;
    pub const POLL_FAILURES: u32 = 7;
    pub const KERNEL_RELEASE: u32 = 8;
}

/// vtiXfrmStatEntry columns, INDEX { vtiXfrmStatIndex }.
pub mod xfrm_stat {
    pub const INDEX: u32 = 1;
    pub const NAME: u32 = 2;
    pub const VALUE: u32 = 3;
}

/// vtiIfEntry columns, INDEX { vtiIfIndex } (= ifIndex).
pub mod if_col {
    pub const INDEX: u32 = 1;
    pub const NAME: u32 = 2;
    pub const KIND: u32 = 3;
    pub const LOCAL_ADDR_TYPE: u32 = 4;
    pub const LOCAL_ADDR: u32 = 5;
    pub const REMOTE_ADDR_TYPE: u32 = 6;
    pub const REMOTE_ADDR: u32 = 7;
    pub const IKEY: u32 = 8;
    pub const OKEY: u32 = 9;
    pub const XFRM_IF_ID: u32 = 10;
    pub const UNDERLAY_IF_INDEX: u32 = 11;
    pub const MTU: u32 = 12;
    pub const OPER_STATUS: u32 = 13;
    pub const TX_PACKETS: u32 = 14;
    pub const TX_OCTETS: u32 = 15;
    pub const TX_ERRORS: u32 = 16;
    pub const TX_DROPPED: u32 = 17;
    pub const TX_CARRIER_ERRORS: u32 = 18;
    pub const COLLISIONS: u32 = 19;
    pub const TX_ABORTED_ERRORS: u32 = 20;
    pub const RX_PACKETS: u32 = 21;
    pub const RX_OCTETS: u32 = 22;
    pub const RX_ERRORS: u32 = 23;
    pub const RX_DROPPED: u32 = 24;
    pub const ERROR_COUNTERS_VALID: u32 = 25;
    // Classified categories (issue 4).
    pub const CAT_CARRIER: u32 = 26;
    pub const CAT_LOOP: u32 = 27;
    pub const CAT_TOO_BIG: u32 = 28;
    pub const CAT_OUTPUT_ERRORS: u32 = 29;
    pub const CAT_DROPPED: u32 = 30;
    pub const SUSPECTED_UNDERLAY_DROPS: u32 = 31;
    pub const CAUSE: u32 = 32;
    pub const DIAGNOSIS: u32 = 33;
    pub const LAST_ERROR_TIME: u32 = 34;
    pub const DISCONTINUITY_TIME: u32 = 35;
    // SA summary.
    pub const OUT_SA_COUNT: u32 = 36;
    pub const IN_SA_COUNT: u32 = 37;
    pub const NO_OUTBOUND_SA: u32 = 38;
    pub const SECONDS_TO_HARD_EXPIRY: u32 = 39;
    pub const SEQ_HEADROOM: u32 = 40;
}

/// vtiSaEntry columns, INDEX { vtiSaIfIndex, vtiSaIndex }.
pub mod sa_col {
    /// InterfaceIndexOrZero: 0 = SA not attached to any tunnel.
    pub const IF_INDEX: u32 = 1;
    pub const INDEX: u32 = 2;
    pub const SPI: u32 = 3;
    pub const DIRECTION: u32 = 4;
    pub const SRC_ADDR_TYPE: u32 = 5;
    pub const SRC_ADDR: u32 = 6;
    pub const DST_ADDR_TYPE: u32 = 7;
    pub const DST_ADDR: u32 = 8;
    pub const PROTOCOL: u32 = 9;
    pub const MODE: u32 = 10;
    pub const REQID: u32 = 11;
    pub const MARK: u32 = 12;
    pub const MARK_MASK: u32 = 13;
    pub const IF_ID: u32 = 14;
    pub const ENC_ALG: u32 = 15;
    pub const AUTH_ALG: u32 = 16;
    pub const AGE: u32 = 17;
    pub const CUR_BYTES: u32 = 18;
    pub const CUR_PACKETS: u32 = 19;
    pub const SOFT_BYTE_LIMIT: u32 = 20;
    pub const HARD_BYTE_LIMIT: u32 = 21;
    pub const SOFT_PACKET_LIMIT: u32 = 22;
    pub const HARD_PACKET_LIMIT: u32 = 23;
    pub const SOFT_ADD_EXPIRES: u32 = 24;
    pub const HARD_ADD_EXPIRES: u32 = 25;
    pub const SECONDS_TO_SOFT_EXPIRY: u32 = 26;
    pub const SECONDS_TO_HARD_EXPIRY: u32 = 27;
    pub const REPLAY_WINDOW_ERRORS: u32 = 28;
    pub const REPLAY_ERRORS: u32 = 29;
    pub const INTEGRITY_FAILURES: u32 = 30;
    pub const OUT_SEQ: u32 = 31;
    pub const REPLAY_WINDOW: u32 = 32;
    pub const ESN: u32 = 33;
}

/// vtiAlarmEntry columns, INDEX { vtiIfIndex, vtiAlarmCategory } (issue 5).
pub mod alarm_col {
    pub const CATEGORY: u32 = 1;
    pub const INTERVAL: u32 = 2;
    pub const RISING_THRESHOLD: u32 = 3;
    pub const FALLING_THRESHOLD: u32 = 4;
    pub const STATE: u32 = 5;
    pub const LAST_DELTA: u32 = 6;
    pub const LAST_EVENT_TIME: u32 = 7;
    pub const EVENTS_SENT: u32 = 8;
    pub const EVENTS_SUPPRESSED: u32 = 9;
    /// vtiAlarmEventCategory: accessible-for-notify copy of the category,
    /// carried in vtiTxErrorRising/Falling (an index object cannot be).
    /// Never served by Get/GetNext.
    pub const EVENT_CATEGORY: u32 = 10;
}

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
}
