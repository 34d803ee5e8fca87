//! Assembles the repository service: core's rules over the store, the sealer, and the
//! engine adapter (`openvbo-engines`) holding the master key.

use std::sync::Arc;

use openvbo_core::repositories::{
    CleanupScheduler, RepositoryEngines, RepositoryOptions, RepositoryService,
};
use openvbo_engines::RepoEngines;

use crate::config::ServerConfig;
use crate::data_dir::DataDir;
use crate::LaunchError;

pub(crate) fn service(
    data: &DataDir,
    config: &ServerConfig,
    clock: openvbo_core::clock::SharedClock,
) -> Result<RepositoryService, LaunchError> {
    let mut engines = RepoEngines::new(
        *data.master_key.expose_bytes(),
        data.installation_id.hyphenated().to_string(),
    );
    // Read and checked at start-up, so a wrong path or a file without a certificate stops
    // the server with the reason instead of failing every object-storage repository later.
    if let Some(path) = &config.s3_ca_file {
        let pem =
            std::fs::read(path).map_err(|e| LaunchError::setup("cannot read the s3_ca_file", e))?;
        engines = engines
            .with_trusted_certificates(pem)
            .map_err(|e| LaunchError::setup("the s3_ca_file holds no usable certificate", e))?;
    }
    let engines: Arc<dyn RepositoryEngines> = Arc::new(engines);
    Ok(RepositoryService::new(
        data.store.clone(),
        data.sealer.clone(),
        engines,
        clock,
        RepositoryOptions {
            host_name: host_name(),
            protected_paths: vec![absolute(&config.data_dir)],
        },
    ))
}

/// How often the clean-up scheduler looks for repositories whose retention time has come.
const CLEANUP_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts the retention clean-up loop: each repository at the time its settings name.
pub(crate) fn start_cleanup(service: &RepositoryService, clock: openvbo_core::clock::SharedClock) {
    Arc::new(CleanupScheduler::new(service.clone())).spawn(clock, CLEANUP_TICK);
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
