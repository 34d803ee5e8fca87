//! OneDrive and SharePoint document libraries: read a drive's changes, read
//! and write file content, politely and in bounded memory.
//!
//! The public API, for the backup engine and restore:
//!
//! ```text
//! let units = ResourceUnits::new(ResourceUnits::DEFAULT_PER_MINUTE); // one per tenant
//! let drives = session.drives(&units);
//!
//! // Backup: stream the changes since the restore point's token.
//! let mut folders = FolderPaths::default();            // stored with the restore point
//! let outcome = drives.delta(&drive_id, previous.as_ref(), &mut folders, |page| {
//!     if page.reset { /* the token was gone: a full enumeration follows */ }
//!     for change in page.changes { /* DriveChange::Upsert(item) | DriveChange::Deleted { .. } */ }
//!     Ok(())
//! }).await?;
//! store(outcome.delta_link, folders);                  // next time's `previous`
//!
//! // A file's bytes, chunk by chunk (resumes with Range after a dropped
//! // connection, fetches a fresh URL when one expires, checks the hash).
//! let mut file = drives.download(&drive_id, &item.id, item.file_facts()).await?;
//! while let Some(chunk) = file.next_chunk().await? { /* … */ }
//!
//! // Restore: any size; small files in one PUT, large ones in an upload session.
//! let item = drives.upload(&drive_id, &parent_id, "name.bin", size, ConflictBehavior::Rename, reader).await?;
//! let folder = drives.create_folder(&drive_id, &parent_id, "Restored", ConflictBehavior::Replace).await?;
//! ```
//!
//! Memory: one delta page, plus the folder map (folders only), plus one
//! chunk in flight per download or upload, whatever the size of a drive or
//! a file. Every request (and every retry, as Microsoft counts them) is
//! charged to the tenant's [`ResourceUnits`], then sent in the tenant's
//! [`Lane`](crate::Lane): background for `session.drives(&units)` (backup
//! and restore wait out `Retry-After` within the background budget),
//! interactive for `session.drives(&units).interactive()` (a person
//! browsing gets a clear `Throttled` error instead of a long wait). A
//! download holds one of the lane's slots until its body ends.

mod delta;
mod download;
mod http;
mod resource_units;
mod types;
mod upload;

pub use delta::{DeltaOutcome, DeltaRound};
pub use download::FileDownload;
pub use http::DriveApi;
pub use resource_units::ResourceUnits;
pub use types::{
    ConflictBehavior, DeltaLink, DeltaPage, DriveChange, DriveId, DriveItem, DriveItemKind,
    FileFacts, FolderPaths, ItemId,
};
pub use upload::{quick_xor_hash, SIMPLE_UPLOAD_MAX, UPLOAD_CHUNK};
