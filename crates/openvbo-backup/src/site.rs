//! One site: its document libraries, each a top-level folder of the site's
//! tree (folder id = the library's drive id), each backed up as a drive.
//! A library that fails does not stop the others: it is logged, keeps its
//! old state, and the next run compares it with the base again.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use openvbo_repo::FolderEntry;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::drive::{back_up_drive, delete_subtrees, DriveEnd, DriveTarget};
use crate::error::{chain, UnitError};
use crate::run::Run;
use crate::source::{DriveInfo, DriveSource};
use crate::state::{encode, SiteState};

pub(crate) enum SiteEnd {
    Done(SiteState, Vec<DriveInfo>),
    Stopped,
}

pub(crate) async fn back_up_site(
    run: &mut Run<'_>,
    source: &Arc<dyn DriveSource>,
    site: &str,
    start: SiteState,
) -> Result<SiteEnd, UnitError> {
    let libraries = source.site_libraries(site).await?;
    let digest = libraries_digest(&libraries);
    // What a checkpoint records: finished libraries carry their new state,
    // the others the one this run started from.
    let mut state = start.clone();
    if digest != start.libraries_digest {
        for lib in &libraries {
            run.writer
                .put_folder(FolderEntry {
                    id: lib.id.clone(),
                    parent: None,
                    name: lib.name.clone(),
                    metadata: json!({ "kind": "library", "url": lib.url, "drive": lib.id }),
                })
                .await?;
        }
        let current: BTreeSet<&str> = libraries.iter().map(|l| l.id.as_str()).collect();
        let gone: Vec<String> = start
            .libraries
            .keys()
            .filter(|id| !current.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            run.writer.delete(&id);
            delete_subtrees(run, &id, std::slice::from_ref(&id), &HashSet::new()).await?;
            state.libraries.remove(&id);
        }
        state.libraries_digest = digest;
    }
    for lib in &libraries {
        if run.stop_requested() {
            run.checkpoint(&encode(&state)).await?;
            return Ok(SiteEnd::Stopped);
        }
        let lib_start = start.libraries.get(&lib.id).cloned().unwrap_or_default();
        let checkpoint_state = encode(&state);
        let target = DriveTarget {
            drive: &lib.id,
            root_folder: &lib.id,
        };
        match back_up_drive(run, source, &target, lib_start.clone(), &checkpoint_state).await {
            Ok(DriveEnd::Done(done)) => {
                state.libraries.insert(lib.id.clone(), done);
            }
            Ok(DriveEnd::Stopped) => return Ok(SiteEnd::Stopped),
            // Microsoft failed this library: the others go on.
            Ok(DriveEnd::Missing(e)) | Err(UnitError::Source(e)) => {
                run.failures
                    .push(format!("Library \"{}\": {}", lib.name, chain(&e)));
                let mut kept = lib_start;
                kept.recheck = true;
                state.libraries.insert(lib.id.clone(), kept);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(SiteEnd::Done(state, libraries))
}

fn libraries_digest(libraries: &[DriveInfo]) -> String {
    let mut h = Sha256::new();
    for lib in libraries {
        for s in [lib.id.as_str(), lib.name.as_str(), lib.url.as_str()] {
            h.update(s.as_bytes());
            h.update([0]);
        }
    }
    hex::encode(h.finalize())
}
