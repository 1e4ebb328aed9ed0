//! Byte-level reading and writing: fixed-width integers in either byte order,
//! with every read bounds-checked so malformed input becomes an error, never a
//! panic.

use super::error::DecodeError;

/// The byte order of every multi-byte integer in one PDU (RFC 2741 §6.1,
/// NETWORK_BYTE_ORDER flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Big,
    Little,
}

/// A bounds-checked cursor over one PDU's bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    order: ByteOrder,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], order: ByteOrder) -> Self {
        Reader { buf, pos: 0, order }
    }

    pub(crate) fn order(&self) -> ByteOrder {
        self.order
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                what,
                offset: self.pos,
                needed: n - self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let a = self.array(what)?;
        Ok(match self.order {
            ByteOrder::Big => u16::from_be_bytes(a),
            ByteOrder::Little => u16::from_le_bytes(a),
        })
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let a = self.array(what)?;
        Ok(match self.order {
            ByteOrder::Big => u32::from_be_bytes(a),
            ByteOrder::Little => u32::from_le_bytes(a),
        })
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let a = self.array(what)?;
        Ok(match self.order {
            ByteOrder::Big => u64::from_be_bytes(a),
            ByteOrder::Little => u64::from_le_bytes(a),
        })
    }
}

/// Appends fields in network byte order, the only order we send.
#[derive(Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer whose buffer holds `capacity` bytes before it must grow.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Overwrites a u32 written earlier (the header's payload length, known
    /// only once the body is encoded).
    pub(crate) fn patch_u32(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

/// Bytes of zero padding after `len` octets to reach a 4-byte boundary.
pub(crate) fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders() {
        let bytes = [0x01, 0x02, 0x03, 0x04];
        assert_eq!(
            Reader::new(&bytes, ByteOrder::Big).u32("x").unwrap(),
            0x0102_0304
        );
        assert_eq!(
            Reader::new(&bytes, ByteOrder::Little).u32("x").unwrap(),
            0x0403_0201
        );
        assert_eq!(
            Reader::new(&bytes, ByteOrder::Little).u16("x").unwrap(),
            0x0201
        );
    }

    #[test]
    fn short_read_is_an_error_not_a_panic() {
        let bytes = [1, 2, 3];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        let err = r.u32("thing").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                what: "thing",
                offset: 0,
                needed: 1
            }
        );
        assert_eq!(r.remaining(), 3, "a failed read consumes nothing");
        assert!(r.take(usize::MAX, "huge").is_err());
    }

    #[test]
    fn padding_reaches_four_byte_boundary() {
        assert_eq!(
            (0..8).map(padding).collect::<Vec<_>>(),
            [0, 3, 2, 1, 0, 3, 2, 1]
        );
    }
}
