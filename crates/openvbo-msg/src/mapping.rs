//! From a parsed MIME message to the MAPI properties of the message, its recipients and its
//! attachments (MS-OXPROPS names in the constants).

use std::borrow::Cow;

use mail_parser::{Address, Message, MessagePart, MimeHeaders};

use crate::props::{Property, Value};
use crate::time::filetime_from_unix;

// Message properties.
const PID_TAG_MESSAGE_CLASS: u16 = 0x001A;
const PID_TAG_SUBJECT: u16 = 0x0037;
const PID_TAG_CLIENT_SUBMIT_TIME: u16 = 0x0039;
const PID_TAG_SENT_REPRESENTING_NAME: u16 = 0x0042;
const PID_TAG_SENT_REPRESENTING_ADDRESS_TYPE: u16 = 0x0064;
const PID_TAG_SENT_REPRESENTING_EMAIL_ADDRESS: u16 = 0x0065;
const PID_TAG_CONVERSATION_TOPIC: u16 = 0x0070;
const PID_TAG_TRANSPORT_MESSAGE_HEADERS: u16 = 0x007D;
const PID_TAG_SENDER_NAME: u16 = 0x0C1A;
const PID_TAG_SENDER_ADDRESS_TYPE: u16 = 0x0C1E;
const PID_TAG_SENDER_EMAIL_ADDRESS: u16 = 0x0C1F;
const PID_TAG_DISPLAY_BCC: u16 = 0x0E02;
const PID_TAG_DISPLAY_CC: u16 = 0x0E03;
const PID_TAG_DISPLAY_TO: u16 = 0x0E04;
const PID_TAG_MESSAGE_DELIVERY_TIME: u16 = 0x0E06;
const PID_TAG_MESSAGE_FLAGS: u16 = 0x0E07;
const PID_TAG_NORMALIZED_SUBJECT: u16 = 0x0E1D;
const PID_TAG_HAS_ATTACHMENTS: u16 = 0x0E1B;
const PID_TAG_BODY: u16 = 0x1000;
const PID_TAG_HTML: u16 = 0x1013;
const PID_TAG_INTERNET_MESSAGE_ID: u16 = 0x1035;
const PID_TAG_CREATION_TIME: u16 = 0x3007;
const PID_TAG_LAST_MODIFICATION_TIME: u16 = 0x3008;
const PID_TAG_STORE_SUPPORT_MASK: u16 = 0x340D;
const PID_TAG_INTERNET_CODEPAGE: u16 = 0x3FDE;
const PID_TAG_SENDER_SMTP_ADDRESS: u16 = 0x5D01;
const PID_TAG_SENT_REPRESENTING_SMTP_ADDRESS: u16 = 0x5D02;

// Recipient properties.
const PID_TAG_RECIPIENT_TYPE: u16 = 0x0C15;
const PID_TAG_OBJECT_TYPE: u16 = 0x0FFE;
const PID_TAG_ROWID: u16 = 0x3000;
const PID_TAG_DISPLAY_NAME: u16 = 0x3001;
const PID_TAG_ADDRESS_TYPE: u16 = 0x3002;
const PID_TAG_EMAIL_ADDRESS: u16 = 0x3003;
const PID_TAG_DISPLAY_TYPE: u16 = 0x3900;
const PID_TAG_SMTP_ADDRESS: u16 = 0x39FE;

// Attachment properties.
const PID_TAG_ATTACH_SIZE: u16 = 0x0E20;
const PID_TAG_ATTACH_NUMBER: u16 = 0x0E21;
const PID_TAG_ATTACH_DATA_BINARY: u16 = 0x3701;
const PID_TAG_ATTACH_EXTENSION: u16 = 0x3703;
const PID_TAG_ATTACH_FILENAME: u16 = 0x3704;
const PID_TAG_ATTACH_METHOD: u16 = 0x3705;
const PID_TAG_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PID_TAG_RENDERING_POSITION: u16 = 0x370B;
const PID_TAG_ATTACH_MIME_TAG: u16 = 0x370E;
const PID_TAG_ATTACH_CONTENT_ID: u16 = 0x3712;

const MSGFLAG_READ: u32 = 0x0001;
const MSGFLAG_HASATTACH: u32 = 0x0010;
/// STORE_UNICODE_OK: string properties are UTF-16 (`…001F`), not the ANSI code page.
const STORE_UNICODE_OK: u32 = 0x0004_0000;
const CODEPAGE_UTF8: u32 = 65001;
const MAPI_MAILUSER: u32 = 6;
const MAPI_ATTACH: u32 = 7;
const ATTACH_BY_VALUE: u32 = 1;

/// What the MIME does not say but Exchange knew when the message was backed up.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgOptions {
    /// The message had been read (sets `MSGFLAG_READ`).
    pub read: bool,
    /// When Exchange received it, as a Unix timestamp; the `Date` header is used when absent.
    pub received_unix: Option<i64>,
}

/// The properties of one message and of its child objects, ready to be written.
pub(crate) struct MessageModel<'a> {
    pub message: Vec<Property<'a>>,
    pub recipients: Vec<Vec<Property<'a>>>,
    pub attachments: Vec<Vec<Property<'a>>>,
}

fn text(id: u16, value: impl Into<Cow<'static, str>>) -> Property<'static> {
    Property::new(id, Value::Text(value.into()))
}

fn borrowed_text(id: u16, value: &str) -> Property<'_> {
    Property::new(id, Value::Text(Cow::Borrowed(value)))
}

/// One display string per address: `Name <address>` is what Outlook shows in To/Cc.
fn display_list(address: Option<&Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    address
        .iter()
        .map(|a| a.name().or(a.address()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn model<'a>(message: &'a Message<'a>, options: MsgOptions) -> MessageModel<'a> {
    let mut props = vec![
        text(PID_TAG_MESSAGE_CLASS, "IPM.Note"),
        Property::new(PID_TAG_STORE_SUPPORT_MASK, Value::Long(STORE_UNICODE_OK)),
        Property::new(PID_TAG_INTERNET_CODEPAGE, Value::Long(CODEPAGE_UTF8)),
    ];
    if let Some(subject) = message.subject() {
        props.push(borrowed_text(PID_TAG_SUBJECT, subject));
        props.push(borrowed_text(PID_TAG_NORMALIZED_SUBJECT, subject));
        props.push(borrowed_text(PID_TAG_CONVERSATION_TOPIC, subject));
    }
    if let Some(from) = message.from().and_then(Address::first) {
        let address = from.address().unwrap_or_default();
        let name = from.name().unwrap_or(address);
        for (name_id, type_id, email_id, smtp_id) in [
            (
                PID_TAG_SENDER_NAME,
                PID_TAG_SENDER_ADDRESS_TYPE,
                PID_TAG_SENDER_EMAIL_ADDRESS,
                PID_TAG_SENDER_SMTP_ADDRESS,
            ),
            (
                PID_TAG_SENT_REPRESENTING_NAME,
                PID_TAG_SENT_REPRESENTING_ADDRESS_TYPE,
                PID_TAG_SENT_REPRESENTING_EMAIL_ADDRESS,
                PID_TAG_SENT_REPRESENTING_SMTP_ADDRESS,
            ),
        ] {
            props.push(borrowed_text(name_id, name));
            props.push(text(type_id, "SMTP"));
            props.push(borrowed_text(email_id, address));
            props.push(borrowed_text(smtp_id, address));
        }
    }
    props.push(text(PID_TAG_DISPLAY_TO, display_list(message.to())));
    props.push(text(PID_TAG_DISPLAY_CC, display_list(message.cc())));
    props.push(text(PID_TAG_DISPLAY_BCC, display_list(message.bcc())));

    let sent = message.date().map(|d| filetime_from_unix(d.to_timestamp()));
    let received = options.received_unix.map(filetime_from_unix).or(sent);
    if let Some(sent) = sent {
        props.push(Property::new(PID_TAG_CLIENT_SUBMIT_TIME, Value::Time(sent)));
    }
    if let Some(received) = received {
        for id in [
            PID_TAG_MESSAGE_DELIVERY_TIME,
            PID_TAG_CREATION_TIME,
            PID_TAG_LAST_MODIFICATION_TIME,
        ] {
            props.push(Property::new(id, Value::Time(received)));
        }
    }
    if let Some(id) = message.message_id() {
        // The header value without its angle brackets is what mail-parser returns.
        props.push(text(PID_TAG_INTERNET_MESSAGE_ID, format!("<{id}>")));
    }

    if let Some(body) = message.body_text(0) {
        props.push(Property::new(PID_TAG_BODY, Value::Text(body)));
    }
    // Only a real HTML part: mail-parser would otherwise synthesize HTML from the text.
    if let Some(html) = message.html_part(0).filter(|p| p.is_text_html()) {
        props.push(Property::new(PID_TAG_HTML, Value::Binary(html.contents())));
    }
    let raw = message.raw_message();
    let root = message.root_part();
    let header_end = (root.raw_body_offset() as usize).min(raw.len());
    let header_start = (root.raw_header_offset() as usize).min(header_end);
    if header_end > header_start {
        let headers =
            String::from_utf8_lossy(raw.get(header_start..header_end).unwrap_or_default());
        props.push(Property::new(
            PID_TAG_TRANSPORT_MESSAGE_HEADERS,
            Value::Text(headers),
        ));
    }

    let recipients = recipients(message);
    let attachments: Vec<_> = message
        .attachments()
        .enumerate()
        .map(|(n, part)| attachment(n, part))
        .collect();
    let mut flags = 0;
    if options.read {
        flags |= MSGFLAG_READ;
    }
    if !attachments.is_empty() {
        flags |= MSGFLAG_HASATTACH;
    }
    props.push(Property::new(PID_TAG_MESSAGE_FLAGS, Value::Long(flags)));
    props.push(Property::new(
        PID_TAG_HAS_ATTACHMENTS,
        Value::Bool(!attachments.is_empty()),
    ));
    props.sort_by_key(Property::tag);
    MessageModel {
        message: props,
        recipients,
        attachments,
    }
}

fn recipients<'a>(message: &'a Message<'a>) -> Vec<Vec<Property<'a>>> {
    let mut out = Vec::new();
    // MAPI_TO, MAPI_CC, MAPI_BCC.
    for (kind, list) in [(1u32, message.to()), (2, message.cc()), (3, message.bcc())] {
        for addr in list.into_iter().flat_map(Address::iter) {
            let Some(address) = addr.address() else {
                continue;
            };
            let row = u32::try_from(out.len()).unwrap_or(u32::MAX);
            let mut props = vec![
                Property::new(PID_TAG_RECIPIENT_TYPE, Value::Long(kind)),
                Property::new(PID_TAG_OBJECT_TYPE, Value::Long(MAPI_MAILUSER)),
                Property::new(PID_TAG_ROWID, Value::Long(row)),
                borrowed_text(PID_TAG_DISPLAY_NAME, addr.name().unwrap_or(address)),
                text(PID_TAG_ADDRESS_TYPE, "SMTP"),
                borrowed_text(PID_TAG_EMAIL_ADDRESS, address),
                Property::new(PID_TAG_DISPLAY_TYPE, Value::Long(0)),
                borrowed_text(PID_TAG_SMTP_ADDRESS, address),
            ];
            props.sort_by_key(Property::tag);
            out.push(props);
        }
    }
    out
}

fn attachment<'a>(number: usize, part: &'a MessagePart<'a>) -> Vec<Property<'a>> {
    let data = part.contents();
    let name: Cow<'a, str> = match part.attachment_name() {
        Some(name) => Cow::Borrowed(name),
        None if part.is_message() => Cow::Owned(format!("attachment-{}.eml", number + 1)),
        None => Cow::Owned(format!("attachment-{}.bin", number + 1)),
    };
    let extension = name.rfind('.').map(|dot| name[dot..].to_owned());
    let mut props = vec![
        Property::new(
            PID_TAG_ATTACH_NUMBER,
            Value::Long(u32::try_from(number).unwrap_or(u32::MAX)),
        ),
        Property::new(PID_TAG_OBJECT_TYPE, Value::Long(MAPI_ATTACH)),
        Property::new(PID_TAG_ATTACH_METHOD, Value::Long(ATTACH_BY_VALUE)),
        Property::new(
            PID_TAG_ATTACH_SIZE,
            Value::Long(u32::try_from(data.len()).unwrap_or(u32::MAX)),
        ),
        Property::new(PID_TAG_RENDERING_POSITION, Value::Long(u32::MAX)),
        Property::new(PID_TAG_ATTACH_DATA_BINARY, Value::Binary(data)),
        Property::new(PID_TAG_DISPLAY_NAME, Value::Text(name.clone())),
        Property::new(PID_TAG_ATTACH_FILENAME, Value::Text(name.clone())),
        Property::new(PID_TAG_ATTACH_LONG_FILENAME, Value::Text(name)),
    ];
    if let Some(extension) = extension {
        props.push(text(PID_TAG_ATTACH_EXTENSION, extension));
    }
    if let Some(ct) = part.content_type() {
        let mime = match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        };
        props.push(text(PID_TAG_ATTACH_MIME_TAG, mime));
    }
    if let Some(cid) = part.content_id() {
        props.push(borrowed_text(PID_TAG_ATTACH_CONTENT_ID, cid));
    }
    props.sort_by_key(Property::tag);
    props
}
