//! Assembles the repository service: core's rules over the store, the sealer, and the
//! engine adapter (`openvbo-engines`) holding the master key. (Part of the composition
//! root; it moves with the rest of it.)

use std::sync::Arc;

use openvbo_core::repositories::{RepositoryEngines, RepositoryOptions, RepositoryService};
use openvbo_core::store::Store;
use openvbo_engines::RepoEngines;

use crate::bootstrap::DataDir;
use crate::config::ServerConfig;

pub fn service(data: &DataDir, config: &ServerConfig) -> RepositoryService {
    let engines: Arc<dyn RepositoryEngines> = Arc::new(RepoEngines::new(
        *data.master_key.expose_bytes(),
        data.installation_id.hyphenated().to_string(),
    ));
    let store: Arc<dyn Store> = data.store.clone();
    RepositoryService::new(
        store,
        data.sealer.clone(),
        engines,
        openvbo_core::clock::system(),
        RepositoryOptions {
            host_name: host_name(),
            protected_paths: vec![absolute(&config.data_dir)],
        },
    )
}

fn absolute(p: &std::path::Path) -> std::path::PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// What the `Local` proxy shows as its host name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
