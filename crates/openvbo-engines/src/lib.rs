//! # openvbo-engines: the repository engine behind core's port
//!
//! [`RepoEngines`] implements [`openvbo_core::repositories::RepositoryEngines`] on
//! `openvbo-repo`. The composition root builds one per process with the master key:
//!
//! ```text
//! let engines: Arc<dyn RepositoryEngines> = Arc::new(RepoEngines::new(master_key_bytes));
//! ```
//!
//! One [`openvbo_repo::Repository`] handle is kept per location, so every writer of a
//! repository in this process shares its packs; `handle.as_any().downcast_ref::<Repository>()`
//! gives it to code that writes backups.

mod browse;
mod engines;
mod errors;
mod location;

pub use engines::RepoEngines;
