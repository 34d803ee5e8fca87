//! MAPI properties and their MS-OXMSG encoding: the fixed-size `__properties_version1.0`
//! entries and the `__substg1.0_TTTTTTTT` streams that hold variable-length values.

use std::borrow::Cow;

use crate::MsgError;

/// Property types used here (MS-OXCDATA §2.11.1).
const PT_LONG: u16 = 0x0003;
const PT_BOOLEAN: u16 = 0x000B;
const PT_SYSTIME: u16 = 0x0040;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;

/// Flags of each entry: readable and writable (MS-OXMSG §2.4.2.1).
const PROPATTR_READABLE_WRITABLE: u32 = 0x0000_0006;

/// A property value; text and binary borrow from the parsed message, so attachment bytes are
/// not copied before they are written.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Long(u32),
    Bool(bool),
    /// A FILETIME (see `time.rs`).
    Time(u64),
    Text(Cow<'a, str>),
    Binary(&'a [u8]),
}

impl Value<'_> {
    fn property_type(&self) -> u16 {
        match self {
            Value::Long(_) => PT_LONG,
            Value::Bool(_) => PT_BOOLEAN,
            Value::Time(_) => PT_SYSTIME,
            Value::Text(_) => PT_UNICODE,
            Value::Binary(_) => PT_BINARY,
        }
    }
}

/// One property: a 16-bit property id and its value (the type comes from the value).
#[derive(Debug, Clone)]
pub(crate) struct Property<'a> {
    pub id: u16,
    pub value: Value<'a>,
}

impl<'a> Property<'a> {
    pub(crate) fn new(id: u16, value: Value<'a>) -> Self {
        Self { id, value }
    }

    /// The 32-bit tag: id in the high word, type in the low word.
    pub(crate) fn tag(&self) -> u32 {
        (u32::from(self.id) << 16) | u32::from(self.value.property_type())
    }

    /// The name of the stream holding a variable-length value, `None` for fixed-size values.
    pub(crate) fn stream_name(&self) -> Option<String> {
        match self.value {
            Value::Text(_) | Value::Binary(_) => Some(format!("__substg1.0_{:08X}", self.tag())),
            _ => None,
        }
    }
}

/// The bytes of a variable-length value's stream: UTF-16LE without terminator for text
/// (the entry's size counts the terminator, §2.4.2.2), the bytes themselves for binary.
pub(crate) fn stream_bytes<'v>(value: &'v Value<'_>) -> Option<Cow<'v, [u8]>> {
    match value {
        Value::Text(text) => Some(Cow::Owned(utf16le(text))),
        Value::Binary(bytes) => Some(Cow::Borrowed(bytes)),
        _ => None,
    }
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Which header precedes the entries: it differs between the top-level message and the
/// recipient and attachment objects (§2.4.1).
pub(crate) enum Header {
    TopLevel { recipients: u32, attachments: u32 },
    Child,
}

/// Encodes a `__properties_version1.0` stream.
pub(crate) fn properties_stream(
    header: Header,
    props: &[Property<'_>],
) -> Result<Vec<u8>, MsgError> {
    let mut out = Vec::with_capacity(32 + props.len() * 16);
    match header {
        Header::TopLevel {
            recipients,
            attachments,
        } => {
            out.extend_from_slice(&[0; 8]);
            // Next recipient and attachment ids, then the counts: ids are dense from 0.
            out.extend_from_slice(&recipients.to_le_bytes());
            out.extend_from_slice(&attachments.to_le_bytes());
            out.extend_from_slice(&recipients.to_le_bytes());
            out.extend_from_slice(&attachments.to_le_bytes());
            out.extend_from_slice(&[0; 8]);
        }
        Header::Child => out.extend_from_slice(&[0; 8]),
    }
    for prop in props {
        out.extend_from_slice(&prop.tag().to_le_bytes());
        out.extend_from_slice(&PROPATTR_READABLE_WRITABLE.to_le_bytes());
        let mut value = [0u8; 8];
        match &prop.value {
            Value::Long(v) => value[..4].copy_from_slice(&v.to_le_bytes()),
            Value::Bool(v) => value[0] = u8::from(*v),
            Value::Time(v) => value.copy_from_slice(&v.to_le_bytes()),
            Value::Text(text) => {
                let units = text.encode_utf16().count();
                let size = units
                    .checked_mul(2)
                    .and_then(|b| b.checked_add(2))
                    .and_then(|b| u32::try_from(b).ok())
                    .ok_or(MsgError::TooLarge("a text property"))?;
                value[..4].copy_from_slice(&size.to_le_bytes());
            }
            Value::Binary(bytes) => {
                let size =
                    u32::try_from(bytes.len()).map_err(|_| MsgError::TooLarge("an attachment"))?;
                value[..4].copy_from_slice(&size.to_le_bytes());
            }
        }
        out.extend_from_slice(&value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_stream_names_follow_the_spec() {
        let subject = Property::new(0x0037, Value::Text("Hi".into()));
        assert_eq!(subject.tag(), 0x0037_001F);
        assert_eq!(
            subject.stream_name().as_deref(),
            Some("__substg1.0_0037001F")
        );
        let flags = Property::new(0x0E07, Value::Long(1));
        assert_eq!(flags.tag(), 0x0E07_0003);
        assert_eq!(flags.stream_name(), None);
    }

    #[test]
    fn entries_encode_sizes_and_inline_values() {
        let props = [
            Property::new(0x0037, Value::Text("Hé".into())),
            Property::new(0x0E07, Value::Long(0x11)),
            Property::new(0x3701, Value::Binary(b"abc")),
        ];
        let bytes = properties_stream(
            Header::TopLevel {
                recipients: 2,
                attachments: 1,
            },
            &props,
        )
        .unwrap();
        assert_eq!(bytes.len(), 32 + 3 * 16);
        assert_eq!(&bytes[8..12], &2u32.to_le_bytes());
        assert_eq!(&bytes[12..16], &1u32.to_le_bytes());
        // Text: 2 UTF-16 units + terminator = 6 bytes.
        assert_eq!(&bytes[32..36], &0x0037_001Fu32.to_le_bytes());
        assert_eq!(&bytes[36..40], &6u32.to_le_bytes());
        assert_eq!(&bytes[40..44], &6u32.to_le_bytes());
        assert_eq!(&bytes[56..60], &0x11u32.to_le_bytes());
        assert_eq!(&bytes[72..76], &3u32.to_le_bytes());
        let child = properties_stream(Header::Child, &props[1..2]).unwrap();
        assert_eq!(child.len(), 8 + 16);
        assert_eq!(
            stream_bytes(&props[0].value).unwrap().as_ref(),
            &[0x48, 0, 0xE9, 0]
        );
    }
}
