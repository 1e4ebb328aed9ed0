//! SNMP varbind values as AgentX carries them (RFC 2741 §5.4).
//!
//! Shared by the codec (`agentx::pdu`) and the MIB index (`mib`), so it lives
//! at the crate root. Octet strings are raw bytes: InetAddress values and
//! binary keys must round-trip unchanged.

use crate::oid::Oid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectIdentifier(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    /// The AgentX type tag of RFC 2741 §5.4.
    pub fn type_tag(&self) -> u16 {
        match self {
            Value::Integer(_) => 2,
            Value::OctetString(_) => 4,
            Value::Null => 5,
            Value::ObjectIdentifier(_) => 6,
            Value::IpAddress(_) => 64,
            Value::Counter32(_) => 65,
            Value::Gauge32(_) => 66,
            Value::TimeTicks(_) => 67,
            Value::Opaque(_) => 68,
            Value::Counter64(_) => 70,
            Value::NoSuchObject => 128,
            Value::NoSuchInstance => 129,
            Value::EndOfMibView => 130,
        }
    }

    /// A DisplayString value.
    pub fn text(s: impl AsRef<str>) -> Value {
        Value::OctetString(s.as_ref().as_bytes().to_vec())
    }

    /// A DisplayString value cut to the type's 255 octets (at a character
    /// boundary), for free text such as a diagnosis.
    pub fn display_string(s: &str) -> Value {
        Value::text(display_string(s))
    }

    /// A TruthValue (SNMPv2-TC): true(1), false(2).
    pub fn truth(b: bool) -> Value {
        Value::Integer(if b { 1 } else { 2 })
    }
}

/// DisplayString (SNMPv2-TC) is at most 255 octets: cut at a character
/// boundary.
pub fn display_string(s: &str) -> &str {
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
