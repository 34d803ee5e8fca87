//! The quickXorHash of generated (`size` + `seed`) files, which are never
//! held whole: Microsoft reports `file.hashes.quickXorHash` for every file,
//! so a client can tell a renamed or moved file from a changed one without
//! downloading it. Computed once per file, the first time a listing (delta,
//! children, one item) shows it, streaming through one small buffer, on a
//! blocking thread and outside the drive's lock (a 20 MB file takes a
//! while), then kept in the item like any other hash.

use std::sync::{Arc, Mutex};

use crate::drive_content::{generated_hash, Content};
use crate::drive_store::{relock, Drive, ItemIx, ItemKind};

/// Generated files among `ixs` whose hash is not known yet.
fn unhashed(drive: &Drive, ixs: &[ItemIx]) -> Vec<(ItemIx, u64, u64)> {
    ixs.iter()
        .filter_map(|&ix| match &drive.item(ix).kind {
            ItemKind::File {
                content: Content::Generated { size, seed },
                hash: None,
            } => Some((ix, *seed, *size)),
            _ => None,
        })
        .collect()
}

/// Makes sure every generated file among the items `pick` chooses has its
/// hash, computing the missing ones.
pub(crate) async fn ensure(drive: &Arc<Mutex<Drive>>, pick: impl FnOnce(&Drive) -> Vec<ItemIx>) {
    let wanted = {
        let d = relock(drive.lock());
        let ixs = pick(&d);
        unhashed(&d, &ixs)
    };
    if wanted.is_empty() {
        return;
    }
    let computed = tokio::task::spawn_blocking(move || {
        wanted
            .into_iter()
            .map(|(ix, seed, size)| (ix, seed, size, generated_hash(seed, size)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let mut d = relock(drive.lock());
    for (ix, seed, size, computed) in computed {
        // Only if the item still holds that content: a write in the
        // meantime brought its own hash.
        if let ItemKind::File {
            content: Content::Generated { size: s, seed: k },
            hash: hash @ None,
        } = &mut d.item_mut(ix).kind
        {
            if (*s, *k) == (size, seed) {
                *hash = Some(computed);
            }
        }
    }
}
