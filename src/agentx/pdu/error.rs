//! What can go wrong turning bytes into PDUs and back.

use crate::oid::MAX_OID_LEN;

/// Why a byte sequence is not a valid AgentX PDU. Every variant names the
/// offending construct so a log line is enough to debug a peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated {what}: {needed} more byte(s) needed at payload offset {offset}")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
    },
    #[error("unsupported AgentX version {0} (expected 1)")]
    BadVersion(u8),
    #[error("unknown PDU type {0}")]
    UnknownPduType(u8),
    #[error("payload length {len} exceeds the limit of {max} bytes")]
    PayloadTooLarge { len: u32, max: u32 },
    #[error("header says payload is {declared} bytes but {actual} bytes follow it")]
    LengthMismatch { declared: u32, actual: usize },
    #[error("OID with {0} sub-identifiers (max {MAX_OID_LEN})")]
    OidTooLong(usize),
    #[error("octet string of {len} bytes (plus padding) but only {remaining} bytes remain")]
    OctetStringOverrun { len: u32, remaining: usize },
    #[error("unknown varbind type {0}")]
    UnknownValueType(u16),
    #[error("IpAddress of {0} octets (expected 4)")]
    BadIpAddressLength(usize),
    #[error("{0} unexpected trailing byte(s) after the PDU body")]
    TrailingBytes(usize),
}

/// Why a PDU cannot be put on the wire. Only reachable with values the
/// protocol cannot express; the session checks sizes before building replies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("OID with {0} sub-identifiers cannot be encoded (max {MAX_OID_LEN})")]
    OidTooLong(usize),
    #[error("octet string of {0} bytes is too long to encode")]
    OctetStringTooLong(usize),
    #[error("encoded payload of {len} bytes exceeds the limit of {max} bytes")]
    PayloadTooLarge { len: usize, max: u32 },
}
