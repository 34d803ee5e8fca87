//! Shared test helpers: repositories in temp dirs, seeded content, resources.
// Test helpers may index: a slip is a failed test, not a reachable panic (clippy.toml allows
// it inside #[test] functions only, and these helpers sit outside them).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;

use openvbo_repo::clock::FakeClock;
use openvbo_repo::*;

pub(crate) const MASTER: [u8; 32] = [7u8; 32];

pub(crate) fn master() -> WrappingKey {
    WrappingKey::from_bytes(MASTER)
}

pub(crate) fn opts(clock: Arc<FakeClock>) -> RepoOptions {
    RepoOptions {
        data_pack_size: 4 * 1024 * 1024,
        clock,
        ..RepoOptions::default()
    }
}

pub(crate) fn clock() -> Arc<FakeClock> {
    // 2026-06-01T00:00:00Z
    Arc::new(FakeClock::new(1_780_272_000_000))
}

pub(crate) async fn local_repo(dir: &Path) -> Repository {
    let backend: DynBackend = Arc::new(LocalBackend::new(dir));
    Repository::init(backend, &master(), None, opts(clock()))
        .await
        .unwrap()
}

pub(crate) async fn local_repo_with(dir: &Path, o: RepoOptions) -> Repository {
    let backend: DynBackend = Arc::new(LocalBackend::new(dir));
    Repository::init(backend, &master(), None, o).await.unwrap()
}

pub(crate) fn mailbox(n: usize) -> ResourceRef {
    ResourceRef {
        organization: "org-contoso".into(),
        resource: format!("user{n}@contoso.example"),
        kind: ResourceKind::Mailbox,
    }
}

pub(crate) fn drive(n: usize) -> ResourceRef {
    ResourceRef {
        organization: "org-contoso".into(),
        resource: format!("drive-{n}"),
        kind: ResourceKind::OneDrive,
    }
}

/// Seeded pseudo-random bytes (xorshift), incompressible.
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Seeded word text (compressible like mail bodies).
pub(crate) fn text(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "meeting", "budget", "quarter", "please", "review", "attached", "thanks", "regards",
        "project", "deadline", "update", "the", "and", "for", "with", "report", "team", "draft",
        "customer", "invoice", "schedule", "tomorrow", "agenda", "notes", "follow", "up",
    ];
    let r = random_bytes(seed, len / 2 + 16);
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0;
    while out.len() < len {
        out.extend_from_slice(WORDS[r[i % r.len()] as usize % WORDS.len()].as_bytes());
        out.push(if r[(i + 1) % r.len()].is_multiple_of(11) {
            b'\n'
        } else {
            b' '
        });
        i += 1;
    }
    out.truncate(len);
    out
}

pub(crate) fn item(folder: &str, id: &str) -> NewItem {
    NewItem {
        folder: folder.into(),
        id: id.into(),
        change_key: "ck1".into(),
        modified: 1_780_000_000,
        metadata: serde_json::json!({"subject": format!("subject of {id}")}),
    }
}

/// Total bytes of every file under `dir` with a path containing `part`.
pub(crate) fn bytes_under(dir: &Path, part: &str) -> u64 {
    let mut total = 0;
    for f in files(dir) {
        if f.to_string_lossy().contains(part) {
            total += std::fs::metadata(&f).unwrap().len();
        }
    }
    total
}

pub(crate) fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

pub(crate) async fn read_all(repo: &Repository, part: &PartEntry) -> Vec<u8> {
    let mut out = Vec::new();
    repo.write_part(part, &mut out).await.unwrap();
    out
}

pub(crate) async fn local_repo_clock(dir: &Path) -> (Repository, Arc<FakeClock>) {
    let c = clock();
    (local_repo_with(dir, opts(c.clone())).await, c)
}
