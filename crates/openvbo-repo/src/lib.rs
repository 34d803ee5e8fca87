//! # openvbo-repo: the backup repository
//!
//! Deduplicated, compressed, encrypted storage for restore points, on a local directory or
//! S3-compatible object storage, readable without the server (`openvbo repo …`). The format
//! is documented in `docs/repository-format.md`.
//!
//! ## How the rest of the product uses it
//!
//! ```text
//! // once per repository, per process (cheap to clone, share it between all writers)
//! let backend: DynBackend = Arc::new(LocalBackend::new(path));       // or ObjectBackend::s3(..)
//! let repo = Repository::init(backend, &master_key, Some(password), RepoOptions::default()).await?;
//! let repo = Repository::open(backend, Unlock::Master(&master_key), opts).await?;
//!
//! // one backup of one resource (many run concurrently on one handle)
//! let base = repo.latest_point(&resource).await?;                    // previous restore point
//! let mut w = match repo.pending_checkpoint(&resource).await? {       // interrupted run?
//!     Some(cp) => repo.resume(&cp).await?,
//!     None => repo.writer(resource, base.as_ref()).await?,
//! };
//! w.put_folder(FolderEntry { .. }).await?;
//! if !w.already_stored(&id, &change_key) {
//!     w.put_item(NewItem { folder, id, change_key, modified, metadata },
//!                vec![Part::new("mime", reader), Part::new("attachment/1", att)]).await?;
//! }
//! w.delete(&removed_id);                                             // from the Graph delta
//! w.checkpoint(&delta_state_so_far).await?;                          // every N items / T s
//! let point = w.commit(&delta_state, stats_json).await?;             // the restore point
//!
//! // browsing, restore, catalog rebuild
//! for p in repo.list_points(None).await? { let mut s = repo.entries(&p); /* TreeEntry… */ }
//! repo.write_part(&part, &mut file).await?;                          // bounded memory
//!
//! // maintenance (the scheduler calls these; `openvbo repo forget/prune` too)
//! repo.forget(&RetentionRule::SnapshotBased { keep_ms }).await?;
//! repo.prune().await?;
//! repo.check(CheckOptions { read_data_percent: Some(10.0) }).await?;
//! repo.stats().await?;
//! ```
//!
//! Items unchanged since the base need no call at all: the commit carries the base's
//! entries over (by reference to whole tree blobs when nothing in them changed), and only
//! items put or deleted in this run replace or drop theirs.

pub mod backend;
mod batch_read;
mod check;
mod chunker;
pub mod cli;
pub mod clock;
mod cpu;
mod crypto;
mod error;
mod ids;
mod index;
mod maintenance;
mod model;
mod pack;
mod reader;
mod repo;
mod session;
mod stats;
mod writer;

pub use backend::{Backend, Capacity, DynBackend, LocalBackend, ObjectBackend, S3Location};
pub use check::{CheckOptions, CheckProblem, CheckReport};
pub use crypto::{KdfParams, WrappingKey};
pub use error::{ErrorKind, RepoError, Result};
pub use ids::{ChunkId, ResourceKind, ResourceRef, RestorePointId};
pub use maintenance::{ForgetReport, PruneReport, RetentionRule, STALE_TEMPORARY};
pub use model::{FolderEntry, ItemEntry, PartEntry, RestorePoint, TreeEntry, WriteStats};
pub use repo::{Counters, RepoConfig, RepoOptions, Repository, Unlock};
pub use stats::RepoStats;
pub use writer::{NewItem, Part, ResourceWriter};
