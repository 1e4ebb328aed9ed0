//! VICI packets: a big-endian u32 length, then a type byte, a name (one
//! length byte plus bytes) for the named types, then the message.

use super::message::{Message, MessageError};

/// Largest packet accepted or sent: charon's own limit
/// (`VICI_MESSAGE_SIZE_MAX`, 512 KiB in strongSwan 5.9).
pub const MAX_PACKET_LEN: usize = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    CmdRequest,
    CmdResponse,
    CmdUnknown,
    EventRegister,
    EventUnregister,
    EventConfirm,
    EventUnknown,
    Event,
}

impl PacketKind {
    fn code(self) -> u8 {
        match self {
            Self::CmdRequest => 0,
            Self::CmdResponse => 1,
            Self::CmdUnknown => 2,
            Self::EventRegister => 3,
            Self::EventUnregister => 4,
            Self::EventConfirm => 5,
            Self::EventUnknown => 6,
            Self::Event => 7,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::CmdRequest,
            1 => Self::CmdResponse,
            2 => Self::CmdUnknown,
            3 => Self::EventRegister,
            4 => Self::EventUnregister,
            5 => Self::EventConfirm,
            6 => Self::EventUnknown,
            7 => Self::Event,
            _ => return None,
        })
    }

    /// Whether packets of this kind carry a name (command or event).
    fn is_named(self) -> bool {
        matches!(
            self,
            Self::CmdRequest | Self::EventRegister | Self::EventUnregister | Self::Event
        )
    }

    /// Whether packets of this kind carry a message body.
    fn has_message(self) -> bool {
        matches!(self, Self::CmdRequest | Self::CmdResponse | Self::Event)
    }
}

/// One packet without its length prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub kind: PacketKind,
    /// The command or event name; empty for unnamed kinds.
    pub name: String,
    /// Empty for kinds without a body.
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0}")]
    UnknownKind(u8),
    #[error("packet name truncated")]
    NameTruncated,
    #[error("packet name is not UTF-8")]
    NameNotUtf8,
    #[error("packet name longer than 255 bytes")]
    NameTooLong,
    #[error("unexpected body after a packet of type {0:?}")]
    UnexpectedBody(PacketKind),
    #[error("packet of {0} bytes exceeds the {MAX_PACKET_LEN}-byte limit")]
    TooLarge(usize),
    #[error(transparent)]
    Message(#[from] MessageError),
}

impl Packet {
    pub fn new(kind: PacketKind, name: &str, message: Message) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            message,
        }
    }

    /// The packet with its length prefix, ready to write.
    pub fn encode(&self) -> Result<Vec<u8>, PacketError> {
        let mut out = vec![0; 4];
        out.push(self.kind.code());
        if self.kind.is_named() {
            let len = u8::try_from(self.name.len()).map_err(|_| PacketError::NameTooLong)?;
            out.push(len);
            out.extend_from_slice(self.name.as_bytes());
        }
        if self.kind.has_message() {
            self.message.encode_into(&mut out)?;
        } else if !self.message.entries.is_empty() {
            return Err(PacketError::UnexpectedBody(self.kind));
        }
        let len = out.len() - 4;
        if len > MAX_PACKET_LEN {
            return Err(PacketError::TooLarge(len));
        }
        out[..4].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(out)
    }

    /// Decodes one packet body (without the length prefix).
    pub fn decode(bytes: &[u8]) -> Result<Packet, PacketError> {
        if bytes.len() > MAX_PACKET_LEN {
            return Err(PacketError::TooLarge(bytes.len()));
        }
        let (&code, mut rest) = bytes.split_first().ok_or(PacketError::Empty)?;
        let kind = PacketKind::from_code(code).ok_or(PacketError::UnknownKind(code))?;
        let mut name = String::new();
        if kind.is_named() {
            let (&len, after) = rest.split_first().ok_or(PacketError::NameTruncated)?;
            let len = len as usize;
            if after.len() < len {
                return Err(PacketError::NameTruncated);
            }
            name = std::str::from_utf8(&after[..len])
                .map_err(|_| PacketError::NameNotUtf8)?
                .to_owned();
            rest = &after[len..];
        }
        let message = if kind.has_message() {
            Message::decode(rest)?
        } else if rest.is_empty() {
            Message::new()
        } else {
            return Err(PacketError::UnexpectedBody(kind));
        };
        Ok(Packet {
            kind,
            name,
            message,
        })
    }
}

/// Splits a byte stream into packet bodies; refuses a length above
/// [`MAX_PACKET_LEN`] before buffering it.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// How many more bytes the next frame needs (at least 1 while incomplete).
    pub fn wanted(&self) -> usize {
        match self.announced_len() {
            Some(len) => (4 + len).saturating_sub(self.buffer.len()).max(1),
            None => 4 - self.buffer.len().min(3),
        }
    }

    fn announced_len(&self) -> Option<usize> {
        let prefix: [u8; 4] = self.buffer.get(..4)?.try_into().ok()?;
        Some(u32::from_be_bytes(prefix) as usize)
    }

    /// The next complete packet body, if buffered. After an error the stream
    /// is out of sync and must be dropped.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, PacketError> {
        let Some(len) = self.announced_len() else {
            return Ok(None);
        };
        if len > MAX_PACKET_LEN {
            return Err(PacketError::TooLarge(len));
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        let frame = self.buffer[4..4 + len].to_vec();
        self.buffer.drain(..4 + len);
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_command_request_by_hand() {
        let request = Packet::new(
            PacketKind::CmdRequest,
            "version",
            Message::new().with_value("a", "b"),
        );
        let expected = [
            &[0, 0, 0, 15][..],
            &[0, 7],
            b"version",
            &[3, 1, b'a', 0, 1, b'b'],
        ]
        .concat();
        assert_eq!(request.encode().unwrap(), expected);
    }

    #[test]
    fn decodes_every_kind() {
        let cases: [(&[u8], PacketKind, &str); 8] = [
            (&[0, 1, b'x'], PacketKind::CmdRequest, "x"),
            (&[1], PacketKind::CmdResponse, ""),
            (&[2], PacketKind::CmdUnknown, ""),
            (&[3, 2, b'l', b'g'], PacketKind::EventRegister, "lg"),
            (&[4, 1, b'l'], PacketKind::EventUnregister, "l"),
            (&[5], PacketKind::EventConfirm, ""),
            (&[6], PacketKind::EventUnknown, ""),
            (&[7, 3, b'l', b'o', b'g'], PacketKind::Event, "log"),
        ];
        for (bytes, kind, name) in cases {
            let packet = Packet::decode(bytes).unwrap();
            assert_eq!((packet.kind, packet.name.as_str()), (kind, name));
            assert_eq!(&packet.encode().unwrap()[4..], bytes);
        }
    }

    #[test]
    fn event_carries_its_message() {
        let bytes = [&[7, 3][..], b"log", &[3, 3], b"msg", &[0, 2], b"hi"].concat();
        let packet = Packet::decode(&bytes).unwrap();
        assert_eq!(packet.message.text("msg").as_deref(), Some("hi"));
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(Packet::decode(&[]), Err(PacketError::Empty));
        assert_eq!(Packet::decode(&[8]), Err(PacketError::UnknownKind(8)));
        assert_eq!(Packet::decode(&[7]), Err(PacketError::NameTruncated));
        assert_eq!(
            Packet::decode(&[7, 5, b'a']),
            Err(PacketError::NameTruncated)
        );
        assert_eq!(Packet::decode(&[7, 1, 0xff]), Err(PacketError::NameNotUtf8));
        assert_eq!(
            Packet::decode(&[5, 1]),
            Err(PacketError::UnexpectedBody(PacketKind::EventConfirm))
        );
        assert!(matches!(
            Packet::decode(&[1, 9]),
            Err(PacketError::Message(_))
        ));
    }

    #[test]
    fn frames_split_across_reads() {
        let first = Packet::new(
            PacketKind::CmdResponse,
            "",
            Message::new().with_value("k", "v"),
        )
        .encode()
        .unwrap();
        let second = Packet::new(PacketKind::EventConfirm, "", Message::new())
            .encode()
            .unwrap();
        let stream = [first.clone(), second.clone()].concat();
        let mut frames = FrameDecoder::new();
        let mut out = Vec::new();
        for byte in stream {
            frames.extend(&[byte]);
            while let Some(frame) = frames.next_frame().unwrap() {
                out.push(frame);
            }
        }
        assert_eq!(out, vec![first[4..].to_vec(), second[4..].to_vec()]);
    }

    #[test]
    fn refuses_an_oversized_length_before_buffering_it() {
        let mut frames = FrameDecoder::new();
        frames.extend(&((MAX_PACKET_LEN + 1) as u32).to_be_bytes());
        assert_eq!(
            frames.next_frame(),
            Err(PacketError::TooLarge(MAX_PACKET_LEN + 1))
        );
    }

    #[test]
    fn wanted_counts_down_to_a_full_frame() {
        let mut frames = FrameDecoder::new();
        assert_eq!(frames.wanted(), 4);
        frames.extend(&[0, 0, 0, 3, 1]);
        assert_eq!(frames.wanted(), 2);
    }
}
