//! Outlook `.msg` files from stored MIME messages.
//!
//! v6 promises a restore session's `…/items/{id}/save` answers an Outlook message file. Graph
//! gives us MIME, so this crate converts: the MIME is parsed with `mail-parser`, mapped onto the
//! MAPI properties MS-OXMSG names (subject, sender, recipients, dates, plain and HTML bodies,
//! transport headers, attachments) and written as a compound file with `cfb`.
//!
//! Layout written (MS-OXMSG §2.2):
//! - the root storage's `__properties_version1.0` stream (32-byte header: next recipient and
//!   attachment ids and their counts) and one `__substg1.0_TTTTTTTT` stream per variable-length
//!   property;
//! - `__nameid_version1.0`, the named-property mapping storage, with its GUID, entry and string
//!   streams (empty: no named property is written, but readers require the storage);
//! - one `__recip_version1.0_#XXXXXXXX` storage per recipient and one
//!   `__attach_version1.0_#XXXXXXXX` per attachment, each with its own property stream.
//!
//! Memory: `mail-parser` parses the whole message in memory, decoding each part (attachments
//! included), so converting a message costs about twice its MIME size plus the compound file's
//! sector tables. The compound file itself is written to the caller's `Read + Write + Seek`
//! (a temporary file keeps big messages out of memory); attachment bytes are copied into their
//! streams without a further copy. Exchange Online caps a message at 150 MB, which bounds this.

mod error;
mod mapping;
mod props;
mod time;
mod writer;

pub use error::MsgError;
pub use mapping::MsgOptions;
pub use writer::{write_msg, write_msg_to_vec};

/// The media type served for `.msg` downloads.
pub const MSG_CONTENT_TYPE: &str = "application/vnd.ms-outlook";
