//! Writes a [`MessageModel`] as an MS-OXMSG compound file.

use std::io::{Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};

use cfb::CompoundFile;
use mail_parser::MessageParser;

use crate::mapping::{model, MessageModel, MsgOptions};
use crate::props::{properties_stream, stream_bytes, Header, Property};
use crate::MsgError;

const PROPERTIES: &str = "__properties_version1.0";
const NAMEID: &str = "/__nameid_version1.0";
/// The GUID, entry and string streams of the named-property mapping (MS-OXMSG §2.2.3).
const NAMEID_STREAMS: [&str; 3] = [
    "__substg1.0_00020102",
    "__substg1.0_00030102",
    "__substg1.0_00040102",
];
/// CLSID_MailMessage, {00020D0B-0000-0000-C000-000000000046}: what Outlook stamps on the root.
const MAIL_MESSAGE_CLSID: uuid::Uuid =
    uuid::Uuid::from_u128(0x00020D0B_0000_0000_C000_000000000046);

/// Converts the MIME message `mime` into a `.msg` compound file written to `inner`, which is
/// returned flushed. `inner` should be empty; a temporary file keeps big messages out of memory.
pub fn write_msg<F: Read + Write + Seek>(
    mime: &[u8],
    inner: F,
    options: MsgOptions,
) -> Result<F, MsgError> {
    let message = MessageParser::default()
        .parse(mime)
        .ok_or(MsgError::NotMime)?;
    let model = model(&message, options);
    write_model(&model, inner).map_err(MsgError::Write)
}

/// [`write_msg`] into memory: for small messages and tests.
pub fn write_msg_to_vec(mime: &[u8], options: MsgOptions) -> Result<Vec<u8>, MsgError> {
    write_msg(mime, Cursor::new(Vec::new()), options).map(Cursor::into_inner)
}

fn write_model<F: Read + Write + Seek>(model: &MessageModel<'_>, inner: F) -> std::io::Result<F> {
    // Version 3 (512-byte sectors) is what Outlook writes and every reader accepts.
    let mut file = CompoundFile::create_with_version(cfb::Version::V3, inner)?;
    file.set_storage_clsid("/", MAIL_MESSAGE_CLSID)?;
    let recipients = count(model.recipients.len())?;
    let attachments = count(model.attachments.len())?;
    write_object(
        &mut file,
        Path::new("/"),
        Header::TopLevel {
            recipients,
            attachments,
        },
        &model.message,
    )?;

    file.create_storage(NAMEID)?;
    for name in NAMEID_STREAMS {
        file.create_stream(Path::new(NAMEID).join(name))?;
    }
    for (n, props) in model.recipients.iter().enumerate() {
        let dir = PathBuf::from(format!("/__recip_version1.0_#{n:08X}"));
        file.create_storage(&dir)?;
        write_object(&mut file, &dir, Header::Child, props)?;
    }
    for (n, props) in model.attachments.iter().enumerate() {
        let dir = PathBuf::from(format!("/__attach_version1.0_#{n:08X}"));
        file.create_storage(&dir)?;
        write_object(&mut file, &dir, Header::Child, props)?;
    }
    file.flush()?;
    Ok(file.into_inner())
}

fn count(n: usize) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| std::io::Error::other("too many recipients or attachments"))
}

/// The property stream of one object and the streams of its variable-length values.
fn write_object<F: Read + Write + Seek>(
    file: &mut CompoundFile<F>,
    dir: &Path,
    header: Header,
    props: &[Property<'_>],
) -> std::io::Result<()> {
    let table = properties_stream(header, props).map_err(std::io::Error::other)?;
    file.create_stream(dir.join(PROPERTIES))?
        .write_all(&table)?;
    for prop in props {
        if let (Some(name), Some(bytes)) = (prop.stream_name(), stream_bytes(&prop.value)) {
            file.create_stream(dir.join(name))?.write_all(&bytes)?;
        }
    }
    Ok(())
}
