//! A netlink codec for the XFRM connection that never logs message bytes and
//! wipes each received message after parsing.
//!
//! netlink-proto's standard `NetlinkCodec` hex-dumps, at error level, a
//! message it cannot decode ("failed to decode packet {:#x?}") and the rest of
//! a datagram it cannot frame ("failed to decode datagram, clearing buffer").
//! On NETLINK_XFRM those bytes are SA dumps with their keys. This codec logs
//! only lengths and types; message decoding itself cannot fail for
//! `XfrmDumpMessage` (see `xfrm_msg`).

use std::fmt::Debug;
use std::io;

use bytes::{BufMut, BytesMut};
use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkMessage, NetlinkSerializable,
};
use netlink_proto::NetlinkMessageCodec;

/// See the module documentation.
pub struct KeySafeCodec;

impl NetlinkMessageCodec for KeySafeCodec {
    fn decode<T>(src: &mut BytesMut) -> io::Result<Option<NetlinkMessage<T>>>
    where
        T: NetlinkDeserializable + Debug,
    {
        loop {
            if src.is_empty() {
                return Ok(None);
            }
            let len = match NetlinkBuffer::new_checked(src.as_ref()) {
                Ok(buf) => buf.length() as usize,
                Err(_) => {
                    tracing::warn!(
                        bytes = src.len(),
                        "dropping a truncated or malformed netlink datagram"
                    );
                    wipe(src);
                    src.clear();
                    return Ok(None);
                }
            };
            let mut bytes = src.split_to(len);
            let parsed = NetlinkMessage::<T>::deserialize(&bytes);
            let message_type = NetlinkBuffer::new(&bytes[..]).message_type();
            wipe(&mut bytes);
            match parsed {
                Ok(msg) => return Ok(Some(msg)),
                Err(_) => {
                    tracing::warn!(message_type, len, "dropping an undecodable netlink message");
                }
            }
        }
    }

    fn encode<T>(msg: NetlinkMessage<T>, buf: &mut BytesMut) -> io::Result<()>
    where
        T: NetlinkSerializable + Debug,
    {
        let len = msg.buffer_len();
        if buf.remaining_mut() < len {
            return Err(io::Error::other(
                "netlink message does not fit the send buffer",
            ));
        }
        let old = buf.len();
        buf.resize(old + len, 0);
        msg.serialize(&mut buf[old..old + len]);
        Ok(())
    }
}

/// Overwrites bytes that may have carried key material.
fn wipe(bytes: &mut BytesMut) {
    bytes.as_mut().fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::xfrm_msg::tests::{keyed_sa_payload, CRYPT_KEY};
    use crate::collect::xfrm_msg::XfrmDumpMessage;
    use netlink_packet_core::{NetlinkPayload, NLMSG_DONE};
    use netlink_packet_xfrm::XFRM_MSG_NEWSA;

    fn frame(message_type: u16, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len();
        let mut v = Vec::with_capacity(len);
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&message_type.to_ne_bytes());
        v.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_datagram() {
        let mut datagram = frame(XFRM_MSG_NEWSA, &keyed_sa_payload());
        datagram.extend(frame(NLMSG_DONE, &[0; 4]));
        let mut src = BytesMut::from(&datagram[..]);
        let first = KeySafeCodec::decode::<XfrmDumpMessage>(&mut src)
            .unwrap()
            .unwrap();
        assert!(matches!(
            first.payload,
            NetlinkPayload::InnerMessage(XfrmDumpMessage::Sa(_))
        ));
        let second = KeySafeCodec::decode::<XfrmDumpMessage>(&mut src)
            .unwrap()
            .unwrap();
        assert!(matches!(second.payload, NetlinkPayload::Done(_)));
        assert!(KeySafeCodec::decode::<XfrmDumpMessage>(&mut src)
            .unwrap()
            .is_none());
        assert!(!format!("{first:?}").contains("SECRET"));
    }

    #[test]
    fn truncated_datagram_is_dropped_quietly() {
        let datagram = frame(XFRM_MSG_NEWSA, &keyed_sa_payload());
        let cut = datagram.len() - 10;
        let mut src = BytesMut::from(&datagram[..cut]);
        assert!(KeySafeCodec::decode::<XfrmDumpMessage>(&mut src)
            .unwrap()
            .is_none());
        assert!(src.is_empty());
        // Short of even a header.
        let mut src = BytesMut::from(&CRYPT_KEY[..7]);
        assert!(KeySafeCodec::decode::<XfrmDumpMessage>(&mut src)
            .unwrap()
            .is_none());
    }

    #[test]
    fn encodes_dump_requests() {
        let mut msg = NetlinkMessage::from(XfrmDumpMessage::DumpSas);
        msg.finalize();
        let mut buf = BytesMut::with_capacity(64);
        KeySafeCodec::encode(msg, &mut buf).unwrap();
        assert_eq!(buf.len(), 16);
    }
}
