//! Microsoft 365 as the engine reads it: a small port per content type, so
//! the engine is tested against in-memory tenants and runs against the
//! connector (`openvbo-m365`) through an adapter.
//!
//! Deltas are pull-based streams of pages ending with the token to keep:
//! the engine stores each page before asking for the next, so memory is one
//! page whatever the folder's size.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::SourceError;

/// A mail folder, with its place in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFolder {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    /// From the mailbox root: `/Inbox/Projects`.
    pub path: String,
    /// Messages in it as the listing counts them (Graph's
    /// `totalItemCount`); `None` when unknown. A folder that holds none
    /// and held none at the end of the last run needs no delta request.
    pub item_count: Option<u64>,
}

/// What a delta page says of one message, enough for the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageMeta {
    pub id: String,
    pub change_key: String,
    pub subject: String,
    pub sender: Option<String>,
    pub size: u64,
    /// Unix seconds.
    pub received: Option<i64>,
    /// Unix seconds; none for a draft.
    pub sent: Option<i64>,
    /// Whether the user has read it; a restore brings it back so. Exchange
    /// gives a message a new change key when only this flips, so an
    /// incremental delta lists it as a change.
    pub is_read: Option<bool>,
    pub modified: i64,
    /// A draft's content can change; a sent or received message's cannot
    /// (Graph updates its body, subject and recipients only while
    /// `isDraft`), so a change of the latter with the same facts below
    /// keeps the stored MIME.
    pub draft: bool,
    pub internet_message_id: Option<String>,
    pub has_attachments: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageChange {
    Upsert(MessageMeta),
    Removed { id: String },
}

/// One step of a delta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeltaEvent<C> {
    /// Changes, in order. `reset`: the token was gone and this is (part of)
    /// a full enumeration: items not listed by the end are gone.
    Page { changes: Vec<C>, reset: bool },
    /// The delta is complete; keep `token` for the next run.
    End { token: String },
}

pub type ByteStream = BoxStream<'static, Result<Bytes, SourceError>>;

/// Mailbox content.
#[async_trait]
pub trait MailSource: Send + Sync {
    /// The whole folder tree (hundreds of folders at most).
    async fn folders(&self, mailbox: &str) -> Result<Vec<SourceFolder>, SourceError>;
    /// The folder's changes since `since`, or every message without it.
    async fn message_delta(
        &self,
        mailbox: &str,
        folder: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<MessageChange>, SourceError>>, SourceError>;
    /// The message's RFC 5322 bytes, chunk by chunk.
    async fn message_mime(&self, mailbox: &str, message: &str) -> Result<ByteStream, SourceError>;
}

/// A file or folder of a drive, as a delta reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveEntry {
    pub id: String,
    /// None for the drive's root.
    pub parent: Option<String>,
    pub name: String,
    pub is_folder: bool,
    /// The content's version (cTag, else eTag).
    pub change_key: String,
    pub size: u64,
    /// Unix seconds.
    pub modified: i64,
    /// Microsoft's quickXorHash (base64), when it reports one: the
    /// download is checked against it.
    pub hash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveChange {
    Upsert(DriveEntry),
    Removed { id: String },
}

/// A drive as Microsoft lists it: a user's OneDrive or a site's library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveInfo {
    pub id: String,
    pub name: String,
    pub url: String,
}

/// OneDrive and document library content.
#[async_trait]
pub trait DriveSource: Send + Sync {
    /// The user's OneDrive; `None` when the user has none (no licence, no
    /// personal site yet).
    async fn user_drive(&self, user: &str) -> Result<Option<DriveInfo>, SourceError>;
    /// A site's document libraries (tens at most).
    async fn site_libraries(&self, site: &str) -> Result<Vec<DriveInfo>, SourceError>;
    async fn drive_delta(
        &self,
        drive: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<DriveChange>, SourceError>>, SourceError>;
    /// A file's bytes, chunk by chunk, checked against the entry's size
    /// and hash.
    async fn file_content(&self, drive: &str, file: &DriveEntry)
        -> Result<ByteStream, SourceError>;
}
