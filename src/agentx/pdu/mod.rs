//! The AgentX wire codec (RFC 2741 §5, §6).
//!
//! [`FrameDecoder`] cuts a byte stream into PDUs; [`Pdu::decode`] turns one
//! PDU's bytes into a [`Pdu`] (either byte order), [`Pdu::encode`] does the
//! reverse (always network byte order). Decoding arbitrary bytes returns an
//! error rather than panicking, and allocates no more than the input's size.

mod body;
mod error;
mod fields;
mod frame;
mod header;
mod status;
mod types;
mod wire;

#[cfg(test)]
mod strategy;

pub use error::{DecodeError, EncodeError};
pub use frame::FrameDecoder;
pub use header::{Flags, Header, PduType, HEADER_LEN, MAX_PAYLOAD_LEN};
pub use status::{CloseReason, ErrorStatus};
pub use types::*;
pub use wire::ByteOrder;

use header::PAYLOAD_LENGTH_OFFSET;
use wire::Writer;

impl Pdu {
    /// Decodes exactly one PDU: `bytes` must be a header plus precisely the
    /// payload it announces (as [`FrameDecoder::next_frame`] returns).
    pub fn decode(bytes: &[u8]) -> Result<Pdu, DecodeError> {
        let header = Header::decode(bytes)?;
        let payload = &bytes[HEADER_LEN..];
        if payload.len() != header.payload_length as usize {
            return Err(DecodeError::LengthMismatch {
                declared: header.payload_length,
                actual: payload.len(),
            });
        }
        Ok(Pdu {
            session_id: header.session_id,
            transaction_id: header.transaction_id,
            packet_id: header.packet_id,
            body: body::decode_body(&header, payload)?,
        })
    }

    /// Encodes in network byte order. The header flags follow from the body
    /// (context present, instance registration, index allocation mode).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        // Sized up front: growing byte by byte from empty costs several
        // reallocations per reply on the GetNext hot path.
        let mut w = Writer::with_capacity(HEADER_LEN + body::size_hint(&self.body));
        Header {
            pdu_type: self.body.pdu_type(),
            flags: body::flags_for(&self.body),
            session_id: self.session_id,
            transaction_id: self.transaction_id,
            packet_id: self.packet_id,
            payload_length: 0,
        }
        .encode(&mut w);
        body::encode_body(&mut w, &self.body)?;
        let len = w.len() - HEADER_LEN;
        let len32 = u32::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_PAYLOAD_LEN)
            .ok_or(EncodeError::PayloadTooLarge {
                len,
                max: MAX_PAYLOAD_LEN,
            })?;
        w.patch_u32(PAYLOAD_LENGTH_OFFSET, len32);
        Ok(w.into_vec())
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU8;

    use proptest::prelude::*;

    use super::*;
    use crate::oid::Oid;
    use crate::value::Value;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    /// Flips a big-endian PDU built from 4-byte words into little endian:
    /// `layout` says, per word, how it splits into integers (4 = one u32,
    /// 2 = two u16s, 1 = four single bytes, 8 = first half of a u64).
    fn to_little_endian(be: &[u8], layout: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(be.len());
        let mut words = be.chunks(4).zip(layout.iter());
        while let Some((word, &kind)) = words.next() {
            match kind {
                1 => out.extend_from_slice(word),
                2 => {
                    out.extend(word[..2].iter().rev());
                    out.extend(word[2..].iter().rev());
                }
                4 => out.extend(word.iter().rev()),
                8 => {
                    let (low, _) = words.next().expect("u64 needs two words");
                    out.extend(low.iter().rev());
                    out.extend(word.iter().rev());
                }
                _ => unreachable!(),
            }
        }
        out[2] &= !Flags::NETWORK_BYTE_ORDER.0;
        out
    }

    /// An Open as net-snmp would send it: timeout 0, id 1.3.6.1.4.1.8072.9999,
    /// descr "vti".
    fn open_be() -> Vec<u8> {
        [
            [1, 1, 0x10, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 1],
            [0, 0, 0, 28],
            [5, 0, 0, 0],
            [3, 4, 0, 0],
            [0, 0, 0, 1],
            [0, 0, 0x1f, 0x88],
            [0, 0, 0x27, 0x0f],
            [0, 0, 0, 3],
            [b'v', b't', b'i', 0],
        ]
        .concat()
    }

    fn open_pdu() -> Pdu {
        Pdu {
            session_id: 0,
            transaction_id: 0,
            packet_id: 1,
            body: Body::Open(Open {
                timeout: 5,
                id: oid("1.3.6.1.4.1.8072.9999"),
                descr: b"vti".to_vec(),
            }),
        }
    }

    #[test]
    fn open_in_both_byte_orders() {
        let be = open_be();
        assert_eq!(Pdu::decode(&be).unwrap(), open_pdu());
        assert_eq!(open_pdu().encode().unwrap(), be);
        let le = to_little_endian(&be, &[1, 4, 4, 4, 4, 1, 1, 4, 4, 4, 4, 1]);
        assert_eq!(Pdu::decode(&le).unwrap(), open_pdu());
    }

    /// RFC 2741 §6.2.3's example: row 7 of ifTable as 1.3.6.1.2.1.2.2.1.[1-22].7.
    fn register_be() -> Vec<u8> {
        [
            [1, 3, 0x10, 0],
            [0, 0, 0, 42],
            [0, 0, 0, 0],
            [0, 0, 0, 2],
            [0, 0, 0, 36],
            [0, 127, 10, 0],
            [6, 2, 0, 0],
            [0, 0, 0, 1],
            [0, 0, 0, 2],
            [0, 0, 0, 2],
            [0, 0, 0, 1],
            [0, 0, 0, 1],
            [0, 0, 0, 7],
            [0, 0, 0, 22],
        ]
        .concat()
    }

    #[test]
    fn register_with_range_matches_rfc_example() {
        let want = Pdu {
            session_id: 42,
            transaction_id: 0,
            packet_id: 2,
            body: Body::Register(Register {
                context: None,
                timeout: 0,
                priority: 127,
                subtree: oid("1.3.6.1.2.1.2.2.1.1.7"),
                range: Some(SubidRange {
                    subid: NonZeroU8::new(10).unwrap(),
                    upper_bound: 22,
                }),
                instance: false,
            }),
        };
        let be = register_be();
        assert_eq!(Pdu::decode(&be).unwrap(), want);
        assert_eq!(want.encode().unwrap(), be);
        let le = to_little_endian(&be, &[1, 4, 4, 4, 4, 1, 1, 4, 4, 4, 4, 4, 4, 4]);
        assert_eq!(Pdu::decode(&le).unwrap(), want);
    }

    /// A GetNext in a non-default context "ab" for 1.3.6.1.4.1 (include) up to
    /// 1.3.6.1.5.
    fn getnext_ctx_be() -> Vec<u8> {
        [
            [1, 6, 0x18, 0],
            [0, 0, 0, 9],
            [0, 0, 0, 77],
            [0, 0, 0, 3],
            [0, 0, 0, 20],
            [0, 0, 0, 2],
            [b'a', b'b', 0, 0],
            [1, 4, 1, 0],
            [0, 0, 0, 1],
            [0, 5, 0, 0],
        ]
        .concat()
    }

    #[test]
    fn getnext_with_context_in_both_byte_orders() {
        let want = Pdu {
            session_id: 9,
            transaction_id: 77,
            packet_id: 3,
            body: Body::GetNext {
                context: Some(b"ab".to_vec()),
                ranges: vec![SearchRange {
                    start: oid("1.3.6.1.4.1"),
                    include: true,
                    end: oid("1.3.6.1.5"),
                }],
            },
        };
        let be = getnext_ctx_be();
        assert_eq!(Pdu::decode(&be).unwrap(), want);
        assert_eq!(want.encode().unwrap(), be);
        let le = to_little_endian(&be, &[1, 4, 4, 4, 4, 4, 1, 1, 4, 1]);
        assert_eq!(Pdu::decode(&le).unwrap(), want);
    }

    /// A Response carrying one varbind of every type.
    fn response_be() -> (Vec<u8>, Vec<u8>) {
        let mut be: Vec<[u8; 4]> = vec![
            [1, 18, 0x10, 0],
            [0, 0, 0, 9],
            [0, 0, 0, 77],
            [0, 0, 0, 3],
            [0, 0, 0, 0],       // patched below
            [0, 0, 0x30, 0x39], // sysUpTime 12345
            [0, 0, 0, 0],       // noError, index 0
        ];
        let mut layout = vec![1, 4, 4, 4, 4, 4, 2];
        let name = |n: u8| [[1, 2, 0, 0], [0, 0, 0, n]];
        let mut vb = |tag: u8, data: &[([u8; 4], u8)]| {
            be.push([0, tag, 0, 0]);
            layout.push(2);
            be.extend(name(tag));
            layout.extend([1, 4]);
            for (word, kind) in data {
                be.push(*word);
                layout.push(*kind);
            }
        };
        vb(2, &[([0xff, 0xff, 0xff, 0xfe], 4)]); // Integer -2
        vb(
            4,
            &[
                ([0, 0, 0, 5], 4),
                ([0, 1, 2, 0xff], 1),
                ([b'\n', 0, 0, 0], 1),
            ],
        );
        vb(5, &[]);
        vb(
            6,
            &[([2, 2, 0, 0], 1), ([0, 0, 0, 1], 4), ([0, 0, 0, 2], 4)],
        );
        vb(64, &[([0, 0, 0, 4], 4), ([192, 0, 2, 1], 1)]);
        vb(65, &[([0x80, 0, 0, 0], 4)]);
        vb(66, &[([0, 0, 0, 66], 4)]);
        vb(67, &[([0, 0, 1, 0], 4)]);
        vb(68, &[([0, 0, 0, 1], 4), ([0x9f, 0, 0, 0], 1)]);
        vb(
            70,
            &[([0x01, 0x02, 0x03, 0x04], 8), ([0x05, 0x06, 0x07, 0x08], 0)],
        );
        vb(128, &[]);
        vb(129, &[]);
        vb(130, &[]);
        let mut bytes = be.concat();
        let payload = (bytes.len() - HEADER_LEN) as u32;
        bytes[16..20].copy_from_slice(&payload.to_be_bytes());
        (bytes, layout)
    }

    fn response_pdu() -> Pdu {
        let n = |k: u32| oid(&format!("1.3.6.1.2.{k}"));
        Pdu {
            session_id: 9,
            transaction_id: 77,
            packet_id: 3,
            body: Body::Response(Response {
                sys_uptime: 12345,
                error: ErrorStatus::NoError,
                index: 0,
                varbinds: vec![
                    VarBind::new(n(2), Value::Integer(-2)),
                    VarBind::new(n(4), Value::OctetString(vec![0, 1, 2, 0xff, b'\n'])),
                    VarBind::new(n(5), Value::Null),
                    VarBind::new(n(6), Value::ObjectIdentifier(oid("1.3.6.1.2.1.2"))),
                    VarBind::new(n(64), Value::IpAddress([192, 0, 2, 1])),
                    VarBind::new(n(65), Value::Counter32(0x8000_0000)),
                    VarBind::new(n(66), Value::Gauge32(66)),
                    VarBind::new(n(67), Value::TimeTicks(256)),
                    VarBind::new(n(68), Value::Opaque(vec![0x9f])),
                    VarBind::new(n(70), Value::Counter64(0x0102_0304_0506_0708)),
                    VarBind::new(n(128), Value::NoSuchObject),
                    VarBind::new(n(129), Value::NoSuchInstance),
                    VarBind::new(n(130), Value::EndOfMibView),
                ],
            }),
        }
    }

    #[test]
    fn response_with_every_value_type_in_both_byte_orders() {
        let (be, layout) = response_be();
        assert_eq!(Pdu::decode(&be).unwrap(), response_pdu());
        assert_eq!(response_pdu().encode().unwrap(), be);
        let le = to_little_endian(&be, &layout);
        assert_ne!(le, be);
        assert_eq!(Pdu::decode(&le).unwrap(), response_pdu());
    }

    #[test]
    fn agentx_error_codes_decode() {
        let mut bytes = response_be().0;
        bytes.truncate(HEADER_LEN + 8);
        bytes[16..20].copy_from_slice(&8u32.to_be_bytes());
        bytes[24..28].copy_from_slice(&[1, 7, 0, 0]); // duplicateRegistration(263)
        let Body::Response(res) = Pdu::decode(&bytes).unwrap().body else {
            panic!("not a response")
        };
        assert_eq!(res.error, ErrorStatus::DuplicateRegistration);
        assert!(res.varbinds.is_empty());
    }

    #[test]
    fn every_truncation_is_an_error() {
        for full in [open_be(), register_be(), getnext_ctx_be(), response_be().0] {
            for cut in 0..full.len() {
                assert!(Pdu::decode(&full[..cut]).is_err(), "cut at {cut}");
                // Also with the header agreeing on the shorter payload, so the
                // body decoder itself meets the end.
                if cut >= HEADER_LEN && (cut - HEADER_LEN).is_multiple_of(4) && cut < full.len() {
                    let mut short = full[..cut].to_vec();
                    let len = (cut - HEADER_LEN) as u32;
                    short[16..20].copy_from_slice(&len.to_be_bytes());
                    let r = Pdu::decode(&short);
                    // A response or search-range list may legitimately end at
                    // a varbind boundary; nothing else may decode.
                    if let Ok(pdu) = r {
                        assert!(matches!(pdu.body, Body::Response(_) | Body::GetNext { .. }));
                    }
                }
            }
        }
    }

    #[test]
    fn trailing_and_mismatched_lengths_are_errors() {
        let mut bytes = open_be();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            Pdu::decode(&bytes),
            Err(DecodeError::LengthMismatch {
                declared: 28,
                actual: 32
            })
        );
        bytes[19] = 32;
        assert_eq!(Pdu::decode(&bytes), Err(DecodeError::TrailingBytes(4)));
    }

    #[test]
    fn oversized_inner_lengths_are_rejected() {
        let mut bytes = open_be();
        bytes[40..44].copy_from_slice(&[0x7f, 0xff, 0xff, 0xff]); // descr length
        assert!(matches!(
            Pdu::decode(&bytes),
            Err(DecodeError::OctetStringOverrun { .. })
        ));
        let mut bytes = open_be();
        bytes[24] = 200; // n_subid
        assert_eq!(Pdu::decode(&bytes), Err(DecodeError::OidTooLong(205)));
    }

    #[test]
    fn context_flag_ignored_where_no_context_exists() {
        // Close with NON_DEFAULT_CONTEXT set: the flag has no meaning there.
        let bytes = [
            [1, 2, 0x18, 0],
            [0, 0, 0, 1],
            [0, 0, 0, 0],
            [0, 0, 0, 5],
            [0, 0, 0, 4],
            [5, 0, 0, 0],
        ]
        .concat();
        assert_eq!(
            Pdu::decode(&bytes).unwrap().body,
            Body::Close {
                reason: CloseReason::Shutdown
            }
        );
    }

    #[test]
    fn encode_rejects_unencodable_oid() {
        let pdu = Pdu {
            session_id: 0,
            transaction_id: 0,
            packet_id: 0,
            body: Body::RemoveAgentCaps {
                context: None,
                id: Oid::new(vec![1; 200]),
            },
        };
        assert_eq!(pdu.encode(), Err(EncodeError::OidTooLong(200)));
    }

    /// The fuzz seed corpus doubles as hand-made vectors: every `NAME_be` /
    /// `NAME_le` pair must decode, to the same PDU, and re-encode to `NAME_be`.
    #[test]
    fn fuzz_seed_pairs_decode_identically() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/pdu_decode");
        let mut pairs = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(stem) = name.strip_suffix("_be") else {
                continue;
            };
            let be = std::fs::read(&path).unwrap();
            let le = std::fs::read(dir.join(format!("{stem}_le"))).unwrap();
            let pdu = Pdu::decode(&be).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(Pdu::decode(&le).unwrap(), pdu, "{stem}_le");
            assert_eq!(pdu.encode().unwrap(), be, "{name} re-encodes");
            pairs += 1;
        }
        assert!(pairs >= 15, "only {pairs} seed pairs found");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn encode_then_decode_is_identity(pdu in strategy::pdu()) {
            let bytes = pdu.encode().unwrap();
            prop_assert_eq!(bytes.len() % 4, 0);
            prop_assert_eq!(Pdu::decode(&bytes).unwrap(), pdu.clone());
            let mut frames = FrameDecoder::new();
            frames.extend(&bytes);
            prop_assert_eq!(frames.next_frame().unwrap(), Some(bytes));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Pdu::decode(&bytes);
            let mut frames = FrameDecoder::new();
            frames.extend(&bytes);
            while let Ok(Some(frame)) = frames.next_frame() {
                let _ = Pdu::decode(&frame);
            }
        }

        /// Valid headers with random payloads reach deep into the body
        /// decoders, which random bytes alone rarely do.
        #[test]
        fn decoding_random_payloads_never_panics(
            pdu_type in 1u8..=18,
            flags in any::<u8>(),
            payload in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let mut bytes = vec![1, pdu_type, flags, 0];
            bytes.extend_from_slice(&[0; 12]);
            let len = payload.len() as u32;
            if flags & Flags::NETWORK_BYTE_ORDER.0 != 0 {
                bytes.extend_from_slice(&len.to_be_bytes());
            } else {
                bytes.extend_from_slice(&len.to_le_bytes());
            }
            bytes.extend_from_slice(&payload);
            if let Ok(pdu) = Pdu::decode(&bytes) {
                // Whatever decodes must re-encode and decode to itself.
                let again = pdu.encode().unwrap();
                prop_assert_eq!(Pdu::decode(&again).unwrap(), pdu);
            }
        }
    }
}
