//! A VICI message: an ordered list of named elements, each a value (bytes),
//! a section (a nested message) or a list of values.
//!
//! Wire encoding (one type byte per element):
//! `SECTION_START(1) name` … `SECTION_END(2)`, `KEY_VALUE(3) name value`,
//! `LIST_START(4) name` `LIST_ITEM(5) value`… `LIST_END(6)`; a name is one
//! length byte plus bytes, a value a big-endian u16 length plus bytes.
//! Values are binary-safe: they stay bytes until a caller reads them as text.

use std::fmt;

const SECTION_START: u8 = 1;
const SECTION_END: u8 = 2;
const KEY_VALUE: u8 = 3;
const LIST_START: u8 = 4;
const LIST_ITEM: u8 = 5;
const LIST_END: u8 = 6;

/// Deepest section nesting accepted (charon's own messages use ≤ 5 levels);
/// bounds the decoder's recursion.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub entries: Vec<(String, Element)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Value(Vec<u8>),
    Section(Message),
    List(Vec<Vec<u8>>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message truncated at byte {0}")]
    Truncated(usize),
    #[error("unknown element type {kind} at byte {at}")]
    UnknownElement { kind: u8, at: usize },
    #[error("element type {kind} not allowed here (byte {at})")]
    Misplaced { kind: u8, at: usize },
    #[error("sections nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("section not closed at end of message")]
    Unclosed,
    #[error("name at byte {0} is not UTF-8")]
    NameNotUtf8(usize),
    #[error("name longer than 255 bytes")]
    NameTooLong,
    #[error("value longer than 65535 bytes")]
    ValueTooLong,
}

impl Message {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder-style: adds a key/value.
    pub fn with_value(mut self, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.entries
            .push((key.to_owned(), Element::Value(value.into())));
        self
    }

    /// The first element named `key`.
    pub fn get(&self, key: &str) -> Option<&Element> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }

    /// The value named `key`, as bytes.
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        match self.get(key)? {
            Element::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value named `key` as text (invalid UTF-8 replaced).
    pub fn text(&self, key: &str) -> Option<String> {
        self.value(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub fn section(&self, key: &str) -> Option<&Message> {
        match self.get(key)? {
            Element::Section(m) => Some(m),
            _ => None,
        }
    }

    pub fn list(&self, key: &str) -> Option<&[Vec<u8>]> {
        match self.get(key)? {
            Element::List(l) => Some(l),
            _ => None,
        }
    }

    /// The sections of this message, by name, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Message)> {
        self.entries.iter().filter_map(|(k, e)| match e {
            Element::Section(m) => Some((k.as_str(), m)),
            _ => None,
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), MessageError> {
        for (name, element) in &self.entries {
            match element {
                Element::Value(v) => {
                    out.push(KEY_VALUE);
                    put_name(out, name)?;
                    put_value(out, v)?;
                }
                Element::Section(m) => {
                    out.push(SECTION_START);
                    put_name(out, name)?;
                    m.encode_into(out)?;
                    out.push(SECTION_END);
                }
                Element::List(items) => {
                    out.push(LIST_START);
                    put_name(out, name)?;
                    for item in items {
                        out.push(LIST_ITEM);
                        put_value(out, item)?;
                    }
                    out.push(LIST_END);
                }
            }
        }
        Ok(())
    }

    /// Decodes a whole message body (what follows a packet's header).
    pub fn decode(bytes: &[u8]) -> Result<Message, MessageError> {
        let mut reader = Reader { bytes, at: 0 };
        let message = reader.section_body(0)?;
        if reader.at < bytes.len() {
            // Only a SECTION_END can stop a body early: one too many.
            return Err(MessageError::Misplaced {
                kind: SECTION_END,
                at: reader.at,
            });
        }
        Ok(message)
    }
}

fn put_name(out: &mut Vec<u8>, name: &str) -> Result<(), MessageError> {
    let len = u8::try_from(name.len()).map_err(|_| MessageError::NameTooLong)?;
    out.push(len);
    out.extend_from_slice(name.as_bytes());
    Ok(())
}

fn put_value(out: &mut Vec<u8>, value: &[u8]) -> Result<(), MessageError> {
    let len = u16::try_from(value.len()).map_err(|_| MessageError::ValueTooLong)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MessageError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(MessageError::Truncated(self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, MessageError> {
        Ok(self.take(1)?[0])
    }

    fn name(&mut self) -> Result<String, MessageError> {
        let len = self.byte()? as usize;
        let at = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| MessageError::NameNotUtf8(at))
    }

    fn value(&mut self) -> Result<Vec<u8>, MessageError> {
        let len = self.take(2)?;
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        Ok(self.take(len)?.to_vec())
    }

    /// Elements until SECTION_END (depth > 0) or the end of input (depth 0).
    fn section_body(&mut self, depth: usize) -> Result<Message, MessageError> {
        let mut message = Message::new();
        loop {
            if self.at == self.bytes.len() {
                return if depth == 0 {
                    Ok(message)
                } else {
                    Err(MessageError::Unclosed)
                };
            }
            let at = self.at;
            match self.byte()? {
                SECTION_END if depth > 0 => return Ok(message),
                SECTION_END => {
                    self.at = at;
                    return Ok(message);
                }
                SECTION_START => {
                    if depth + 1 > MAX_DEPTH {
                        return Err(MessageError::TooDeep);
                    }
                    let name = self.name()?;
                    let inner = self.section_body(depth + 1)?;
                    message.entries.push((name, Element::Section(inner)));
                }
                KEY_VALUE => {
                    let name = self.name()?;
                    let value = self.value()?;
                    message.entries.push((name, Element::Value(value)));
                }
                LIST_START => {
                    let name = self.name()?;
                    let items = self.list_items()?;
                    message.entries.push((name, Element::List(items)));
                }
                kind @ (LIST_ITEM | LIST_END) => return Err(MessageError::Misplaced { kind, at }),
                kind => return Err(MessageError::UnknownElement { kind, at }),
            }
        }
    }

    fn list_items(&mut self) -> Result<Vec<Vec<u8>>, MessageError> {
        let mut items = Vec::new();
        loop {
            let at = self.at;
            match self.byte()? {
                LIST_ITEM => items.push(self.value()?),
                LIST_END => return Ok(items),
                kind @ (SECTION_START | SECTION_END | KEY_VALUE | LIST_START) => {
                    return Err(MessageError::Misplaced { kind, at })
                }
                kind => return Err(MessageError::UnknownElement { kind, at }),
            }
        }
    }
}

impl fmt::Display for Message {
    /// swanctl's `--raw` layout, values as lossy text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, element)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match element {
                Element::Value(v) => write!(f, "{name}={}", String::from_utf8_lossy(v))?,
                Element::Section(m) => write!(f, "{name} {m}")?,
                Element::List(items) => {
                    write!(f, "{name}=[")?;
                    for (j, item) in items.iter().enumerate() {
                        if j > 0 {
                            f.write_str(" ")?;
                        }
                        f.write_str(&String::from_utf8_lossy(item))?;
                    }
                    f.write_str("]")?;
                }
            }
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{version=2 child-sas {c-1 {spi-in=\x00\xff}} local-ts=[10.0.0.0/8 ::/0]}`
    /// written out by hand from the README's grammar.
    fn sample_bytes() -> Vec<u8> {
        let mut b = vec![KEY_VALUE, 7];
        b.extend_from_slice(b"version");
        b.extend_from_slice(&[0, 1, b'2']);
        b.push(SECTION_START);
        b.push(9);
        b.extend_from_slice(b"child-sas");
        b.push(SECTION_START);
        b.push(3);
        b.extend_from_slice(b"c-1");
        b.push(KEY_VALUE);
        b.push(6);
        b.extend_from_slice(b"spi-in");
        b.extend_from_slice(&[0, 2, 0x00, 0xff]);
        b.push(SECTION_END);
        b.push(SECTION_END);
        b.push(LIST_START);
        b.push(8);
        b.extend_from_slice(b"local-ts");
        b.push(LIST_ITEM);
        b.extend_from_slice(&[0, 10]);
        b.extend_from_slice(b"10.0.0.0/8");
        b.push(LIST_ITEM);
        b.extend_from_slice(&[0, 4]);
        b.extend_from_slice(b"::/0");
        b.push(LIST_END);
        b
    }

    #[test]
    fn decodes_hand_made_bytes() {
        let m = Message::decode(&sample_bytes()).unwrap();
        assert_eq!(m.text("version").as_deref(), Some("2"));
        let child = m.section("child-sas").unwrap().section("c-1").unwrap();
        assert_eq!(child.value("spi-in"), Some(&[0x00, 0xff][..]));
        assert_eq!(
            m.list("local-ts").unwrap(),
            &[b"10.0.0.0/8".to_vec(), b"::/0".to_vec()]
        );
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        let bytes = sample_bytes();
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(m.encode().unwrap(), bytes);
    }

    #[test]
    fn empty_body_is_an_empty_message() {
        assert_eq!(Message::decode(&[]).unwrap(), Message::new());
    }

    #[test]
    fn every_truncation_inside_an_element_is_an_error() {
        let bytes = sample_bytes();
        // Cuts between the three top-level elements leave a valid message.
        let list_len = (1 + 1 + 8) + (1 + 2 + 10) + (1 + 2 + 4) + 1;
        let boundaries = [12, bytes.len() - list_len];
        for cut in 1..bytes.len() {
            let decoded = Message::decode(&bytes[..cut]);
            assert_eq!(decoded.is_ok(), boundaries.contains(&cut), "cut at {cut}");
        }
    }

    #[test]
    fn rejects_structural_errors() {
        assert_eq!(
            Message::decode(&[9]),
            Err(MessageError::UnknownElement { kind: 9, at: 0 })
        );
        assert_eq!(
            Message::decode(&[SECTION_END]),
            Err(MessageError::Misplaced {
                kind: SECTION_END,
                at: 0
            })
        );
        assert_eq!(
            Message::decode(&[LIST_ITEM, 0, 0]),
            Err(MessageError::Misplaced {
                kind: LIST_ITEM,
                at: 0
            })
        );
        assert_eq!(
            Message::decode(&[SECTION_START, 1, b's']),
            Err(MessageError::Unclosed)
        );
        // A key/value inside a list.
        assert_eq!(
            Message::decode(&[LIST_START, 1, b'l', KEY_VALUE]),
            Err(MessageError::Misplaced {
                kind: KEY_VALUE,
                at: 3
            })
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH {
            deep.extend_from_slice(&[SECTION_START, 0]);
        }
        deep.extend(std::iter::repeat_n(SECTION_END, MAX_DEPTH + 1));
        assert_eq!(Message::decode(&deep), Err(MessageError::TooDeep));

        let ok_depth = &deep[2..deep.len() - 1];
        assert!(Message::decode(ok_depth).is_ok());
    }

    #[test]
    fn encode_refuses_oversized_names_and_values() {
        let long_name = "n".repeat(256);
        assert_eq!(
            Message::new().with_value(&long_name, "v").encode(),
            Err(MessageError::NameTooLong)
        );
        assert_eq!(
            Message::new().with_value("k", vec![0; 65536]).encode(),
            Err(MessageError::ValueTooLong)
        );
    }

    #[test]
    fn displays_like_swanctl_raw() {
        let m = Message::decode(&sample_bytes()).unwrap();
        assert_eq!(
            m.to_string(),
            "{version=2 child-sas {c-1 {spi-in=\u{0}\u{fffd}}} local-ts=[10.0.0.0/8 ::/0]}"
        );
    }
}
