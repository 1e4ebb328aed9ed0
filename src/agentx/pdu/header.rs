//! The fixed 20-byte AgentX header (RFC 2741 §6.1).

use super::error::DecodeError;
use super::wire::{ByteOrder, Reader, Writer};

pub const HEADER_LEN: usize = 20;

/// The largest payload we accept or send. AgentX has no limit of its own;
/// this one keeps a hostile or broken peer from making us allocate
/// gigabytes, and is far above anything an SNMP message can carry.
pub const MAX_PAYLOAD_LEN: u32 = 1 << 20;

pub const AGENTX_VERSION: u8 = 1;

/// `h.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PduType {
    Open = 1,
    Close = 2,
    Register = 3,
    Unregister = 4,
    Get = 5,
    GetNext = 6,
    GetBulk = 7,
    TestSet = 8,
    CommitSet = 9,
    UndoSet = 10,
    CleanupSet = 11,
    Notify = 12,
    Ping = 13,
    IndexAllocate = 14,
    IndexDeallocate = 15,
    AddAgentCaps = 16,
    RemoveAgentCaps = 17,
    Response = 18,
}

impl PduType {
    const ALL: [PduType; 18] = [
        PduType::Open,
        PduType::Close,
        PduType::Register,
        PduType::Unregister,
        PduType::Get,
        PduType::GetNext,
        PduType::GetBulk,
        PduType::TestSet,
        PduType::CommitSet,
        PduType::UndoSet,
        PduType::CleanupSet,
        PduType::Notify,
        PduType::Ping,
        PduType::IndexAllocate,
        PduType::IndexDeallocate,
        PduType::AddAgentCaps,
        PduType::RemoveAgentCaps,
        PduType::Response,
    ];

    pub fn from_u8(v: u8) -> Option<PduType> {
        Self::ALL.get(usize::from(v).checked_sub(1)?).copied()
    }

    /// RFC 2741 §6.1.1: the PDU types that may carry a context octet string
    /// after the header when NON_DEFAULT_CONTEXT is set.
    pub fn carries_context(self) -> bool {
        !matches!(
            self,
            PduType::Open
                | PduType::Close
                | PduType::CommitSet
                | PduType::UndoSet
                | PduType::CleanupSet
                | PduType::Response
        )
    }
}

/// `h.flags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    pub const INSTANCE_REGISTRATION: Flags = Flags(0x01);
    pub const NEW_INDEX: Flags = Flags(0x02);
    pub const ANY_INDEX: Flags = Flags(0x04);
    pub const NON_DEFAULT_CONTEXT: Flags = Flags(0x08);
    pub const NETWORK_BYTE_ORDER: Flags = Flags(0x10);

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn set(&mut self, other: Flags, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }

    pub fn byte_order(self) -> ByteOrder {
        if self.contains(Flags::NETWORK_BYTE_ORDER) {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub pdu_type: PduType,
    pub flags: Flags,
    pub session_id: u32,
    pub transaction_id: u32,
    pub packet_id: u32,
    pub payload_length: u32,
}

/// The two header fields framing needs, readable even when the rest of the
/// header is nonsense. `None` until 20 bytes are available.
pub(crate) fn peek_payload_length(bytes: &[u8]) -> Option<Result<u32, DecodeError>> {
    let head = bytes.get(..HEADER_LEN)?;
    if head[0] != AGENTX_VERSION {
        return Some(Err(DecodeError::BadVersion(head[0])));
    }
    let mut r = Reader::new(&head[16..20], Flags(head[2]).byte_order());
    Some(r.u32("payload_length").and_then(check_payload_length))
}

fn check_payload_length(len: u32) -> Result<u32, DecodeError> {
    if len > MAX_PAYLOAD_LEN {
        Err(DecodeError::PayloadTooLarge {
            len,
            max: MAX_PAYLOAD_LEN,
        })
    } else {
        Ok(len)
    }
}

impl Header {
    /// Decodes the first 20 bytes of `bytes`; the rest is ignored.
    pub fn decode(bytes: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(bytes, ByteOrder::Big);
        let version = r.u8("header")?;
        let pdu_type = r.u8("header")?;
        let flags = Flags(r.u8("header")?);
        let _reserved = r.u8("header")?;
        if version != AGENTX_VERSION {
            return Err(DecodeError::BadVersion(version));
        }
        let pdu_type = PduType::from_u8(pdu_type).ok_or(DecodeError::UnknownPduType(pdu_type))?;
        let mut r = Reader::new(r.take(16, "header")?, flags.byte_order());
        Ok(Header {
            pdu_type,
            flags,
            session_id: r.u32("h.sessionID")?,
            transaction_id: r.u32("h.transactionID")?,
            packet_id: r.u32("h.packetID")?,
            payload_length: check_payload_length(r.u32("h.payload_length")?)?,
        })
    }

    /// Writes the header in network byte order (forcing that flag on) with a
    /// payload length the caller patches at [`PAYLOAD_LENGTH_OFFSET`].
    pub(crate) fn encode(&self, w: &mut Writer) {
        let mut flags = self.flags;
        flags.set(Flags::NETWORK_BYTE_ORDER, true);
        w.u8(AGENTX_VERSION);
        w.u8(self.pdu_type as u8);
        w.u8(flags.0);
        w.u8(0);
        w.u32(self.session_id);
        w.u32(self.transaction_id);
        w.u32(self.packet_id);
        w.u32(self.payload_length);
    }
}

pub(crate) const PAYLOAD_LENGTH_OFFSET: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_code_round_trips() {
        for t in PduType::ALL {
            assert_eq!(PduType::from_u8(t as u8), Some(t));
        }
        assert_eq!(PduType::from_u8(0), None);
        assert_eq!(PduType::from_u8(19), None);
        assert_eq!(PduType::from_u8(255), None);
    }

    #[test]
    fn decodes_little_endian_header() {
        let bytes = [
            1, 13, 0x00, 0, // Ping, little endian
            0x78, 0x56, 0x34, 0x12, // session
            2, 0, 0, 0, // transaction
            3, 0, 0, 0, // packet
            0, 0, 0, 0, // payload length
        ];
        let h = Header::decode(&bytes).unwrap();
        assert_eq!(h.pdu_type, PduType::Ping);
        assert_eq!(h.session_id, 0x1234_5678);
        assert_eq!((h.transaction_id, h.packet_id, h.payload_length), (2, 3, 0));
        assert_eq!(h.flags.byte_order(), ByteOrder::Little);
    }

    #[test]
    fn rejects_bad_version_type_and_length() {
        let mut bytes = [0u8; 20];
        bytes[0] = 2;
        bytes[1] = 13;
        assert_eq!(Header::decode(&bytes), Err(DecodeError::BadVersion(2)));
        bytes[0] = 1;
        bytes[1] = 99;
        assert_eq!(Header::decode(&bytes), Err(DecodeError::UnknownPduType(99)));
        bytes[1] = 13;
        bytes[2] = Flags::NETWORK_BYTE_ORDER.0;
        bytes[16..20].copy_from_slice(&(MAX_PAYLOAD_LEN + 1).to_be_bytes());
        assert!(matches!(
            Header::decode(&bytes),
            Err(DecodeError::PayloadTooLarge { .. })
        ));
        assert!(matches!(
            peek_payload_length(&bytes),
            Some(Err(DecodeError::PayloadTooLarge { .. }))
        ));
        assert!(peek_payload_length(&bytes[..19]).is_none());
        assert!(matches!(
            Header::decode(&bytes[..19]),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
