//! Exchange Online mail content: what the backup engine reads and what
//! restore writes, politely (every call runs in the mailbox's background
//! [`Lane`](crate::Lane): at most 4 in flight per mailbox, a request
//! budget below Microsoft's, `Retry-After` pauses per mailbox) and in
//! bounded memory (one page, or one chunk of MIME, at a time).
//!
//! Public API, all on [`GraphSession`](crate::GraphSession); `mailbox` is a
//! user id or UPN:
//!
//! - `mail_folders(mailbox) -> Vec<MailFolder>`: the whole folder tree,
//!   hidden folders included, each with its path (`/Inbox/Projects`). A
//!   mailbox has hundreds of folders at most, so the tree is returned
//!   whole; messages never are.
//! - `message_delta(mailbox, folder_id, since, on_page) -> DeltaOutcome`:
//!   the folder's changes since `since` (a [`MessageDeltaToken`] kept with
//!   the previous restore point), or every message without one, handed to
//!   `on_page` one page at a time. When Microsoft says the token is gone
//!   (410 `SyncStateNotFound`, `ResyncRequired`, `SyncStateInvalid`) the
//!   reader starts a full enumeration, marks the pages after that
//!   [`Enumeration::Full`] and reports `reset: true`: the caller must treat
//!   that folder as re-read from scratch (items it does not see are gone).
//!   Store `outcome.token` with the restore point once the pages are safely
//!   stored. `NotFound` from a delta means the folder itself was deleted
//!   (Exchange's `ErrorSyncFolderNotFound`): drop its state, as a tombstone.
//! - `message_mime(mailbox, message_id) -> MimeStream`: the RFC 5322 bytes
//!   (`$value`), chunk by chunk; the mailbox slot is held until the stream
//!   ends or is dropped.
//! - `create_mail_folder(mailbox, parent, name) -> MailFolder`: creates a
//!   folder, or returns the existing one of that name (Exchange answers
//!   `ErrorFolderExists`); its `path` is `/{name}`, relative to `parent`.
//! - `restore_message(mailbox, folder_id, &RestoreMessage) -> String`: writes
//!   a message back as a **non-draft** with its original sent/received
//!   times and read state (JSON with `singleValueExtendedProperties`; a MIME
//!   import would always be a draft), then its attachments; returns the new
//!   id. [`RestoreMessage::from_mime`] builds one from stored MIME.
//!
//! Errors are [`M365Error`](crate::M365Error)s whose [`ErrorKind`](crate::ErrorKind) says
//! what went wrong and `is_transient()` whether retrying can help:
//! `Throttled` and `Unavailable` (Microsoft failing, after bounded retries)
//! are transient; `Gone`, `NotFound`, `Forbidden`, `Unauthorized` (the
//! access token expired: refresh and retry), `Conflict` and `Protocol` are
//! not. A backup marks the one item or mailbox failed and carries on.

mod delta;
mod folders;
mod http;
mod mime;
mod restore;

pub use delta::{
    DeltaOutcome, DeltaPage, EmailAddress, Enumeration, MessageChange, MessageDeltaToken,
    MessageSummary, Recipient,
};
pub use folders::MailFolder;
pub use mime::MimeStream;
pub use restore::{RestoreAttachment, RestoreMessage};
