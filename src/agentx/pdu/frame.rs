//! Splitting a byte stream into PDUs by the header's payload length.

use super::error::DecodeError;
use super::header::{peek_payload_length, HEADER_LEN};

/// Accumulates bytes read from the transport and hands out complete PDUs
/// (header + payload), however the stream was split: a PDU across several
/// reads, or several PDUs in one read.
///
/// A frame error (wrong version, oversized payload) is fatal for the stream:
/// without a trustworthy length there is no way to find the next PDU.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already returned as frames. Compacted on the next
    /// `extend`, so a read holding many PDUs costs one move, not one each.
    consumed: usize,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// The next complete PDU's bytes, `Ok(None)` if more input is needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let pending = &self.buf[self.consumed..];
        let Some(len) = peek_payload_length(pending) else {
            return Ok(None);
        };
        // `len` is capped at MAX_PAYLOAD_LEN, so this cannot overflow and the
        // buffer never holds more than one maximal PDU plus one read.
        let total = HEADER_LEN + len? as usize;
        let Some(frame) = pending.get(..total) else {
            return Ok(None);
        };
        let frame = frame.to_vec();
        self.consumed += total;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::super::header::MAX_PAYLOAD_LEN;
    use super::*;

    fn ping(packet_id: u8) -> Vec<u8> {
        let mut v = vec![1, 13, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, packet_id];
        v.extend_from_slice(&[0, 0, 0, 0]);
        v
    }

    fn close(packet_id: u8) -> Vec<u8> {
        let mut v = vec![1, 2, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, packet_id];
        v.extend_from_slice(&[0, 0, 0, 4, 5, 0, 0, 0]);
        v
    }

    #[test]
    fn yields_pdus_split_across_reads() {
        let pdu = close(7);
        let mut d = FrameDecoder::new();
        for (i, b) in pdu.iter().enumerate() {
            assert_eq!(d.next_frame().unwrap(), None, "incomplete after {i} bytes");
            d.extend(&[*b]);
        }
        assert_eq!(d.next_frame().unwrap(), Some(pdu));
        assert_eq!(d.next_frame().unwrap(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn yields_several_pdus_from_one_read() {
        let mut d = FrameDecoder::new();
        let mut bytes = [ping(1), close(2), ping(3)].concat();
        bytes.extend_from_slice(&ping(4)[..5]);
        d.extend(&bytes);
        assert_eq!(d.next_frame().unwrap(), Some(ping(1)));
        assert_eq!(d.next_frame().unwrap(), Some(close(2)));
        assert_eq!(d.next_frame().unwrap(), Some(ping(3)));
        assert_eq!(d.next_frame().unwrap(), None);
        d.extend(&ping(4)[5..]);
        assert_eq!(d.next_frame().unwrap(), Some(ping(4)));
    }

    #[test]
    fn little_endian_length_is_honoured() {
        let mut pdu = close(9);
        pdu[2] = 0; // little endian
        pdu[16..20].copy_from_slice(&4u32.to_le_bytes());
        let mut d = FrameDecoder::new();
        d.extend(&pdu);
        d.extend(&ping(1));
        assert_eq!(d.next_frame().unwrap(), Some(pdu));
        assert_eq!(d.next_frame().unwrap(), Some(ping(1)));
    }

    #[test]
    fn oversized_payload_is_rejected_without_waiting_for_it() {
        let mut pdu = ping(1);
        pdu[16..20].copy_from_slice(&(MAX_PAYLOAD_LEN + 1).to_be_bytes());
        let mut d = FrameDecoder::new();
        d.extend(&pdu);
        assert!(matches!(
            d.next_frame(),
            Err(DecodeError::PayloadTooLarge { .. })
        ));
        let mut pdu = ping(1);
        pdu[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        let mut d = FrameDecoder::new();
        d.extend(&pdu);
        assert!(d.next_frame().is_err());
    }

    #[test]
    fn garbage_version_is_a_frame_error() {
        let mut d = FrameDecoder::new();
        d.extend(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(d.next_frame(), Err(DecodeError::BadVersion(b'G'))));
    }
}
