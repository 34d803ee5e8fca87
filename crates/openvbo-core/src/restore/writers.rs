//! The ports restore writes through: what putting mail and files back needs from Microsoft 365
//! ([`MailWriter`], [`DriveWriter`]), and the connector that makes them over a signed-in
//! session ([`RestoreConnector`]).
//!
//! Core owns these traits and their records; the restore rules (what is skipped, merged or
//! replaced, how outcomes are counted) stay in `mail.rs` and `drive.rs` and are tested against
//! fakes. The adapter over `openvbo-m365` lives in `openvbo-backup/src/restore/`, beside the
//! backup engine's readers of the same connector, and is assembled in `openvbo-server`.

use std::sync::Arc;

use tokio::io::AsyncRead;

use crate::microsoft365::{DirectorySession, M365Failure, PortFuture, Sink};
use crate::OrganizationId;

/// A folder of the target mailbox, found or created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveMailFolder {
    pub id: String,
    /// Its display names from the top of the mailbox, `/` before each (`/Inbox/Projects`).
    pub path: String,
}

/// A message already in a folder, as far as the skip rules compare it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresentMessage {
    pub internet_message_id: String,
    pub subject: String,
}

/// An attachment of a message to write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachmentToWrite {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message to write, made from backed-up MIME by [`MailWriter::parse`]. `sent` and
/// `received` are RFC 3339.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageToWrite {
    pub subject: String,
    pub body: String,
    pub body_is_html: bool,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub internet_message_id: Option<String>,
    pub importance: Option<String>,
    pub is_read: bool,
    pub sent: Option<String>,
    pub received: Option<String>,
    pub attachments: Vec<AttachmentToWrite>,
}

/// Writes into mailboxes of one organization, as one signed-in account.
pub trait MailWriter: Send + Sync {
    /// Every folder of `mailbox` (an owner's id or address), with its path.
    fn folders<'a>(&'a self, mailbox: &'a str) -> PortFuture<'a, Vec<LiveMailFolder>>;
    /// A new folder `name` under `parent` (`None`: the top of the mailbox). Its `path` is
    /// left for the caller, who knows where it asked.
    fn create_folder<'a>(
        &'a self,
        mailbox: &'a str,
        parent: Option<&'a str>,
        name: &'a str,
    ) -> PortFuture<'a, LiveMailFolder>;
    /// The messages of `folder` that have an Internet message id, page by page.
    fn messages<'a>(
        &'a self,
        mailbox: &'a str,
        folder: &'a str,
        sink: Sink<'a, PresentMessage>,
    ) -> PortFuture<'a, ()>;
    /// A message from stored MIME and what MIME does not carry (read state, the times
    /// Exchange recorded; without them the MIME `Date:` is used).
    fn parse(
        &self,
        mime: &[u8],
        is_read: bool,
        sent: Option<&str>,
        received: Option<&str>,
    ) -> Result<MessageToWrite, M365Failure>;
    /// Creates `message` in `folder` as Microsoft would have stored it (not a draft, its
    /// original times and read state), attachments included.
    fn create_message<'a>(
        &'a self,
        mailbox: &'a str,
        folder: &'a str,
        message: Box<MessageToWrite>,
    ) -> PortFuture<'a, ()>;
}

/// The id a [`DriveWriter`] takes for the root folder of a drive.
pub const DRIVE_ROOT: &str = "root";

/// What a drive folder holds under one name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriveEntry {
    pub id: String,
    pub name: String,
    pub is_folder: bool,
    pub size: u64,
    /// Microsoft's quickXorHash of a file's bytes (base64), when it reports one.
    pub content_hash: Option<String>,
}

/// What an upload does when the name is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// Refuse, with [`FailureKind::Conflict`](crate::microsoft365::FailureKind::Conflict).
    Fail,
    /// Replace what is there (Microsoft keeps it as a version).
    Replace,
    /// Keep both: Microsoft picks a free name (`name 1.ext`).
    Rename,
}

/// Bytes to upload or hash, read once.
pub type ByteReader<'a> = Box<dyn AsyncRead + Unpin + Send + 'a>;

/// Writes into the drives (OneDrives, document libraries) of one organization, as one
/// signed-in account, within the organization's request budget.
pub trait DriveWriter: Send + Sync {
    /// The OneDrive of `user` (an id or a name): `None` when there is no such user or the
    /// user has no OneDrive.
    fn user_drive<'a>(&'a self, user: &'a str) -> PortFuture<'a, Option<String>>;
    /// What `folder` ([`DRIVE_ROOT`] or an item id) of `drive` holds directly.
    fn children<'a>(&'a self, drive: &'a str, folder: &'a str) -> PortFuture<'a, Vec<DriveEntry>>;
    /// The id of the folder `name` under `parent`, created unless it exists.
    fn ensure_folder<'a>(
        &'a self,
        drive: &'a str,
        parent: &'a str,
        name: &'a str,
    ) -> PortFuture<'a, String>;
    /// Uploads exactly `size` bytes from `bytes` as `name` under `parent` (small files in
    /// one request, large ones through an upload session, a fragment in memory at a time).
    fn upload<'a>(
        &'a self,
        drive: &'a str,
        parent: &'a str,
        name: &'a str,
        size: u64,
        conflict: OnConflict,
        bytes: ByteReader<'a>,
    ) -> PortFuture<'a, ()>;
    /// The hash [`DriveEntry::content_hash`] would show for `bytes`, and their length.
    fn content_hash<'a>(&'a self, bytes: ByteReader<'a>) -> PortFuture<'a, (String, u64)>;
}

/// Makes the writers of a signed-in session. Fails when the session is not the connector's.
pub trait RestoreConnector: Send + Sync {
    fn mail_writer(
        &self,
        session: Arc<dyn DirectorySession>,
    ) -> Result<Arc<dyn MailWriter>, M365Failure>;
    /// A drive writer drawing on `organization`'s budget (SharePoint's resource units, one
    /// budget per organization shared by every restore into it; `units_per_minute`, or the
    /// connector's default, when the budget is first made).
    fn drive_writer(
        &self,
        session: Arc<dyn DirectorySession>,
        organization: OrganizationId,
        units_per_minute: Option<u32>,
    ) -> Result<Arc<dyn DriveWriter>, M365Failure>;
}
