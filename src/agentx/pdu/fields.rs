//! The composite fields of RFC 2741 §5: Object Identifier (with the
//! 1.3.6.1.x prefix compression), Octet String (padded), VarBind and
//! SearchRange.
//!
//! Decoders never allocate more than the input could describe: every length
//! is checked against the bytes actually remaining before any buffer is made.

use super::error::{DecodeError, EncodeError};
use super::types::{SearchRange, VarBind};
use super::wire::{padding, Reader, Writer};
use crate::oid::{Oid, MAX_OID_LEN};
use crate::value::Value;

/// "internet": the implicit prefix of a compressed OID.
const INTERNET: [u32; 4] = [1, 3, 6, 1];

/// Decodes an Object Identifier, returning it and its `include` byte.
pub(crate) fn read_oid(r: &mut Reader<'_>) -> Result<(Oid, bool), DecodeError> {
    let n_subid = usize::from(r.u8("OID header")?);
    let prefix = r.u8("OID header")?;
    let include = r.u8("OID header")? != 0;
    let _reserved = r.u8("OID header")?;
    let implicit = if prefix == 0 { 0 } else { INTERNET.len() + 1 };
    if n_subid + implicit > MAX_OID_LEN {
        return Err(DecodeError::OidTooLong(n_subid + implicit));
    }
    // The bounds check happens before the allocation it justifies.
    let raw = r.take(n_subid * 4, "OID sub-identifiers")?;
    let mut sub = Reader::new(raw, r.order());
    let mut subids = Vec::with_capacity(n_subid + implicit);
    if prefix != 0 {
        subids.extend_from_slice(&INTERNET);
        subids.push(u32::from(prefix));
    }
    for _ in 0..n_subid {
        subids.push(sub.u32("OID sub-identifier")?);
    }
    Ok((Oid::new(subids), include))
}

/// The prefix byte and the sub-identifiers that follow it on the wire.
fn compress(oid: &Oid) -> (u8, &[u32]) {
    match oid.as_slice() {
        [1, 3, 6, 1, x, rest @ ..] if (1..=255).contains(x) => (*x as u8, rest),
        all => (0, all),
    }
}

pub(crate) fn write_oid(w: &mut Writer, oid: &Oid, include: bool) -> Result<(), EncodeError> {
    if oid.len() > MAX_OID_LEN {
        return Err(EncodeError::OidTooLong(oid.len()));
    }
    let (prefix, rest) = compress(oid);
    w.u8(rest.len() as u8); // <= 128 by the check above
    w.u8(prefix);
    w.u8(u8::from(include));
    w.u8(0);
    for &s in rest {
        w.u32(s);
    }
    Ok(())
}

pub(crate) fn oid_len(oid: &Oid) -> usize {
    4 + 4 * compress(oid).1.len()
}

pub(crate) fn read_octets(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let len = r.u32("octet string length")?;
    let padded = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(padding(l)))
        .filter(|&p| p <= r.remaining())
        .ok_or(DecodeError::OctetStringOverrun {
            len,
            remaining: r.remaining(),
        })?;
    let bytes = r.take(padded, "octet string")?;
    // Padding must be zero per §5.3, but its content changes nothing, so a
    // sloppy peer is tolerated.
    Ok(bytes[..len as usize].to_vec())
}

pub(crate) fn write_octets(w: &mut Writer, bytes: &[u8]) -> Result<(), EncodeError> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| EncodeError::OctetStringTooLong(bytes.len()))?;
    w.u32(len);
    w.bytes(bytes);
    w.bytes(&[0u8; 3][..padding(bytes.len())]);
    Ok(())
}

fn octets_len(bytes: &[u8]) -> usize {
    4 + bytes.len() + padding(bytes.len())
}

pub(crate) fn read_varbind(r: &mut Reader<'_>) -> Result<VarBind, DecodeError> {
    let tag = r.u16("varbind type")?;
    let _reserved = r.u16("varbind type")?;
    let (name, _include) = read_oid(r)?;
    let value = match tag {
        2 => Value::Integer(r.u32("Integer")? as i32),
        4 => Value::OctetString(read_octets(r)?),
        5 => Value::Null,
        6 => Value::ObjectIdentifier(read_oid(r)?.0),
        64 => {
            let octets = read_octets(r)?;
            let quad: [u8; 4] = octets
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError::BadIpAddressLength(octets.len()))?;
            Value::IpAddress(quad)
        }
        65 => Value::Counter32(r.u32("Counter32")?),
        66 => Value::Gauge32(r.u32("Gauge32")?),
        67 => Value::TimeTicks(r.u32("TimeTicks")?),
        68 => Value::Opaque(read_octets(r)?),
        70 => Value::Counter64(r.u64("Counter64")?),
        128 => Value::NoSuchObject,
        129 => Value::NoSuchInstance,
        130 => Value::EndOfMibView,
        other => return Err(DecodeError::UnknownValueType(other)),
    };
    Ok(VarBind { name, value })
}

pub(crate) fn write_varbind(w: &mut Writer, vb: &VarBind) -> Result<(), EncodeError> {
    w.u16(vb.value.type_tag());
    w.u16(0);
    write_oid(w, &vb.name, false)?;
    match &vb.value {
        Value::Integer(i) => w.u32(*i as u32),
        Value::OctetString(b) | Value::Opaque(b) => write_octets(w, b)?,
        Value::ObjectIdentifier(oid) => write_oid(w, oid, false)?,
        Value::IpAddress(quad) => write_octets(w, quad)?,
        Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => w.u32(*v),
        Value::Counter64(v) => w.u64(*v),
        Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {}
    }
    Ok(())
}

impl VarBind {
    /// Bytes this varbind takes on the wire, for response size budgets.
    pub fn encoded_len(&self) -> usize {
        let data = match &self.value {
            Value::Integer(_) | Value::Counter32(_) | Value::Gauge32(_) | Value::TimeTicks(_) => 4,
            Value::Counter64(_) => 8,
            Value::OctetString(b) | Value::Opaque(b) => octets_len(b),
            Value::IpAddress(q) => octets_len(q),
            Value::ObjectIdentifier(oid) => oid_len(oid),
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => 0,
        };
        4 + oid_len(&self.name) + data
    }
}

/// A VarBindList runs to the end of the payload (§5.4); each entry is at least
/// 8 bytes, so the list length is bounded by the input.
pub(crate) fn read_varbinds(r: &mut Reader<'_>) -> Result<Vec<VarBind>, DecodeError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(read_varbind(r)?);
    }
    Ok(out)
}

pub(crate) fn write_varbinds(w: &mut Writer, vbs: &[VarBind]) -> Result<(), EncodeError> {
    vbs.iter().try_for_each(|vb| write_varbind(w, vb))
}

pub(crate) fn read_search_range(r: &mut Reader<'_>) -> Result<SearchRange, DecodeError> {
    let (start, include) = read_oid(r)?;
    // §5.2: the ending OID's include byte "is always 0"; ignore it.
    let (end, _) = read_oid(r)?;
    Ok(SearchRange {
        start,
        include,
        end,
    })
}

pub(crate) fn write_search_range(w: &mut Writer, sr: &SearchRange) -> Result<(), EncodeError> {
    write_oid(w, &sr.start, sr.include)?;
    write_oid(w, &sr.end, false)
}

/// A SearchRangeList runs to the end of the payload; each entry is at least
/// 8 bytes.
pub(crate) fn read_search_ranges(r: &mut Reader<'_>) -> Result<Vec<SearchRange>, DecodeError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(read_search_range(r)?);
    }
    Ok(out)
}

pub(crate) fn write_search_ranges(w: &mut Writer, srs: &[SearchRange]) -> Result<(), EncodeError> {
    srs.iter().try_for_each(|sr| write_search_range(w, sr))
}

#[cfg(test)]
mod tests {
    use super::super::wire::ByteOrder;
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn encode_oid(o: &Oid, include: bool) -> Vec<u8> {
        let mut w = Writer::default();
        write_oid(&mut w, o, include).unwrap();
        w.into_vec()
    }

    #[test]
    fn oid_uses_internet_prefix_like_rfc_example() {
        // RFC 2741 §5.1: sysDescr.0 = 1.3.6.1.2.1.1.1.0 → n_subid 4, prefix 2.
        let bytes = encode_oid(&oid("1.3.6.1.2.1.1.1.0"), false);
        assert_eq!(
            bytes,
            [4, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(read_oid(&mut r).unwrap(), (oid("1.3.6.1.2.1.1.1.0"), false));
        assert_eq!(oid_len(&oid("1.3.6.1.2.1.1.1.0")), bytes.len());
    }

    #[test]
    fn oid_without_prefix_and_edge_cases() {
        // RFC example 1.2.3.4: no prefix.
        assert_eq!(encode_oid(&oid("1.2.3.4"), false)[..4], [4, 0, 0, 0]);
        // x = 0 or x > 255 cannot be compressed.
        assert_eq!(encode_oid(&oid("1.3.6.1.0.7"), false)[..4], [6, 0, 0, 0]);
        assert_eq!(encode_oid(&oid("1.3.6.1.256"), false)[..4], [5, 0, 0, 0]);
        // Exactly internet.x compresses to zero sub-identifiers.
        assert_eq!(encode_oid(&oid("1.3.6.1.4"), true), [0, 4, 1, 0]);
        // Null OID.
        assert_eq!(encode_oid(&Oid::default(), false), [0, 0, 0, 0]);
    }

    #[test]
    fn oid_little_endian_and_include() {
        let bytes = [2, 4, 1, 0, 1, 0, 0, 0, 0x48, 0x1f, 0, 0];
        let mut r = Reader::new(&bytes, ByteOrder::Little);
        assert_eq!(read_oid(&mut r).unwrap(), (oid("1.3.6.1.4.1.8008"), true));
    }

    #[test]
    fn oid_length_limits() {
        let long = Oid::new(vec![7; MAX_OID_LEN + 1]);
        let mut w = Writer::default();
        assert_eq!(
            write_oid(&mut w, &long, false),
            Err(EncodeError::OidTooLong(129))
        );
        // 124 sub-identifiers plus the 5 implied by a prefix is 129.
        let mut bytes = vec![124, 2, 0, 0];
        bytes.extend(std::iter::repeat_n(0u8, 124 * 4));
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(read_oid(&mut r), Err(DecodeError::OidTooLong(129)));
        // n_subid claims more than is there.
        let bytes = [3, 0, 0, 0, 0, 0, 0, 1];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert!(matches!(
            read_oid(&mut r),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn octet_string_is_binary_safe_and_padded() {
        let data = [0u8, 0xff, b'\n', 0x80, 0];
        let mut w = Writer::default();
        write_octets(&mut w, &data).unwrap();
        let bytes = w.into_vec();
        assert_eq!(bytes, [0, 0, 0, 5, 0, 0xff, b'\n', 0x80, 0, 0, 0, 0]);
        assert_eq!(octets_len(&data), bytes.len());
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(read_octets(&mut r).unwrap(), data);
        assert!(r.is_empty());
    }

    #[test]
    fn octet_string_overrun_is_rejected_before_allocating() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert!(matches!(
            read_octets(&mut r),
            Err(DecodeError::OctetStringOverrun { len: u32::MAX, .. })
        ));
        // Missing padding counts as an overrun too.
        let bytes = [0, 0, 0, 1, 9];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert!(read_octets(&mut r).is_err());
    }

    #[test]
    fn varbind_values_in_both_byte_orders() {
        // Counter64 = 0x0102030405060708 named 1.3.6.1.2.1.1.
        let be = [
            0, 70, 0, 0, 2, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        let le = [
            70, 0, 0, 0, 2, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
        ];
        let want = VarBind::new(
            oid("1.3.6.1.2.1.1"),
            Value::Counter64(0x0102_0304_0506_0708),
        );
        for (bytes, order) in [(&be, ByteOrder::Big), (&le, ByteOrder::Little)] {
            let mut r = Reader::new(bytes, order);
            assert_eq!(read_varbind(&mut r).unwrap(), want);
            assert!(r.is_empty());
        }
        assert_eq!(want.encoded_len(), be.len());
    }

    #[test]
    fn ip_address_must_be_four_octets() {
        let bytes = [0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 10, 0, 0, 0];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(
            read_varbind(&mut r),
            Err(DecodeError::BadIpAddressLength(3))
        );
        let bytes = [0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 10, 1, 2, 3];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(
            read_varbind(&mut r).unwrap().value,
            Value::IpAddress([10, 1, 2, 3])
        );
    }

    #[test]
    fn unknown_value_type_is_rejected() {
        let bytes = [0, 99, 0, 0, 0, 0, 0, 0];
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(read_varbind(&mut r), Err(DecodeError::UnknownValueType(99)));
    }

    #[test]
    fn search_range_matches_rfc_example() {
        // RFC 2741 §5.2: 1.3.6.1.2.1.25.2 (inclusive) to 1.3.6.1.2.1.25.2.1.
        let sr = SearchRange {
            start: oid("1.3.6.1.2.1.25.2"),
            include: true,
            end: oid("1.3.6.1.2.1.25.2.1"),
        };
        let mut w = Writer::default();
        write_search_range(&mut w, &sr).unwrap();
        let bytes = w.into_vec();
        let want: Vec<u8> = [
            [3, 2, 1, 0],
            [0, 0, 0, 1],
            [0, 0, 0, 25],
            [0, 0, 0, 2],
            [4, 2, 0, 0],
            [0, 0, 0, 1],
            [0, 0, 0, 25],
            [0, 0, 0, 2],
            [0, 0, 0, 1],
        ]
        .concat();
        assert_eq!(bytes, want);
        let mut r = Reader::new(&bytes, ByteOrder::Big);
        assert_eq!(read_search_range(&mut r).unwrap(), sr);
    }
}
