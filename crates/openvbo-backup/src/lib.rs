//! # openvbo-backup: the backup engine
//!
//! Backs up one resource — a mailbox, a OneDrive, a document library — from
//! Microsoft 365 into an `openvbo-repo` repository: a [unit of
//! work](openvbo_core::jobs::UnitOfWork) in, a [report](openvbo_core::jobs::UnitReport) out.
//!
//! ```text
//! let worker = Arc::new(Worker::new(repositories, sources));  // ports: repository by id, M365 content
//! let queue = InProcessQueue::new(worker, InProcessQueue::default_concurrency());
//! let report = queue.run(unit, UnitControl::new(events)).await; // waits for a slot, then runs
//! ```
//!
//! - **Incremental**: the delta state (Graph tokens per folder) is stored
//!   with each restore point; the next run asks only for changes. A lost
//!   token (410) means enumerating the folder again, downloading only what
//!   the previous point lacks.
//! - **Partial failure is normal**: an item that fails after a retry is
//!   listed in the report (status Warning) and its folder keeps the old
//!   token so the next run tries again; a failing folder does not stop the
//!   mailbox, a failing resource does not stop the job.
//! - **Resumable**: checkpoints every `checkpoint_every` items and after each
//!   folder; a run after a crash resumes the checkpoint and skips what it
//!   stored.
//! - **Parallel within a resource**: up to four items download at once (the
//!   per-mailbox limit) while the repository stores them one by one, in
//!   delta order, so checkpoints and resume are unchanged (module `ahead`).
//! - **Bounded memory**: one delta page, and per item in flight a few
//!   chunks (or, ahead of its turn, at most 1 MiB); the ids of one folder
//!   only while it is re-enumerated.
//!
//! - **Drives**: a OneDrive is found through its user (the restore point's
//!   resource id is the user's; `extra.driveId` names the drive); a site's
//!   document libraries are top-level folders of the site's tree, each with
//!   its drive id as folder id (`extra.libraries` lists them). Files keep
//!   Graph's item ids; a file's version is its cTag, else its eTag (which a
//!   rename or move also changes). A changed file whose quickXorHash and
//!   size match a file of the base (renamed, moved) is stored from the
//!   repository's copy, without a download.
//!
//! Sources are ports ([`MailSource`], [`DriveSource`]) so the engine is
//! tested against in-memory tenants; the adapters on `openvbo-m365`
//! ([`graph`], [`graph_drive`]) are tested against the simulator.

pub(crate) mod ahead;
pub mod connector;
/// Sign-in and the directory reads, behind core's `TokenSource` and `DirectorySession`.
pub mod directory_adapter;
mod drive;
pub mod engines;
pub mod error;
pub mod graph;
pub mod graph_drive;
mod mailbox;
pub mod resolve;
pub mod restore;
mod run;
mod site;
pub mod source;
mod stall;
pub mod state;
mod worker;

pub use error::{SourceError, SourceErrorKind, UnitError};
pub use source::{
    ByteStream, DeltaEvent, DriveChange, DriveEntry, DriveInfo, DriveSource, MailSource,
    MessageChange, MessageMeta, SourceFolder,
};
pub use worker::{InProcessQueue, RepositoryOpener, SourceProvider, Worker};
