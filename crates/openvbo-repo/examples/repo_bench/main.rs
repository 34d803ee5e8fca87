//! The engine side of `scripts/bench/repo/run`: backs up a directory (one resource per
//! top-level folder, one item per file, as a mailbox would be) or a single stream into a
//! repository, incrementally against the previous point, restores it, checks it, and prints
//! one JSON line of counters. Run under `/usr/bin/time -v` for RSS and CPU.
//!
//! usage: repo_bench <init|items|stream|restore|check> <repo dir> [source|target]
//!        repo_bench <gen-a|gen-b|churn|shift> <path> [out]   (seeded corpora, §10)
// A benchmark driver run by scripts/bench/repo with arguments it builds itself: a bad
// argument or a failed step should stop the run loudly, so it may unwrap, index and panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod corpus;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use futures::TryStreamExt;
use openvbo_repo::*;

fn key() -> WrappingKey {
    WrappingKey::from_bytes([0x42; 32])
}

async fn open(dir: &Path) -> Repository {
    let b: DynBackend = if std::env::var("BENCH_S3_ENDPOINT").is_ok() {
        open_backend_s3(dir)
    } else {
        Arc::new(LocalBackend::new(dir))
    };
    let mut o = RepoOptions::default();
    if let Some(mib) = std::env::var("BENCH_PACK_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        o.data_pack_size = mib << 20;
    }
    Repository::open(b, Unlock::Master(&key()), o)
        .await
        .unwrap()
}

fn resource(name: &str) -> ResourceRef {
    ResourceRef {
        organization: "bench".into(),
        resource: name.into(),
        kind: ResourceKind::OneDrive,
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
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
    out.sort();
    out
}

fn mtime(p: &Path) -> i64 {
    std::fs::metadata(p)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// What the reading thread found for one file.
enum Read {
    Unchanged(String),
    Small(String, u64, i64, Vec<u8>),
    Big(String, u64, i64, PathBuf),
}

fn read_files(
    top: &Path,
    files: Vec<PathBuf>,
    prev: &HashMap<String, (u64, i64)>,
    tx: tokio::sync::mpsc::Sender<Vec<Read>>,
) {
    let mut batch = Vec::new();
    let mut batch_bytes = 0u64;
    for f in files {
        let id = f.strip_prefix(top).unwrap().to_string_lossy().to_string();
        let size = std::fs::metadata(&f).unwrap().len();
        let mt = mtime(&f);
        if prev.get(&id) == Some(&(size, mt)) {
            batch.push(Read::Unchanged(id));
        } else if size <= 8 << 20 {
            batch_bytes += size;
            batch.push(Read::Small(id, size, mt, std::fs::read(&f).unwrap()));
        } else {
            batch.push(Read::Big(id, size, mt, f));
        }
        if batch.len() >= 64 || batch_bytes >= 1 << 20 {
            if tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                return;
            }
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
}

/// One resource per top-level folder, written concurrently (as the backup engine would).
async fn items(repo: &Repository, src: &Path) -> (u64, u64, u64) {
    let mut tops: Vec<PathBuf> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    tops.sort();
    let sem = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = Vec::new();
    for top in tops {
        let repo = repo.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let name = top.file_name().unwrap().to_string_lossy().to_string();
            let r = resource(&name);
            let base = repo.latest_point(&r).await.unwrap();
            let mut prev: HashMap<String, (u64, i64)> = HashMap::new();
            if let Some(b) = &base {
                let mut s = repo.entries(b);
                while let Some(e) = s.try_next().await.unwrap() {
                    if let TreeEntry::Item(i) = e {
                        prev.insert(i.id.clone(), (i.size, i.modified));
                    }
                }
            }
            let mut w = repo.writer(r, base.as_ref()).await.unwrap();
            let (mut n, mut bytes) = (0u64, 0u64);
            let mut seen = std::collections::HashSet::new();
            // Files are stat'ed and read on one blocking thread per resource, handed over in
            // batches (1 MiB; 4 resources at once, so read-ahead is a few MiB in all): one hand-off per batch rather than one per file, as the
            // backup engine gets a page of items from Graph at a time.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Read>>(1);
            let files = files_in(&top);
            let top2 = top.clone();
            let prev2 = prev.clone();
            let reader = tokio::task::spawn_blocking(move || read_files(&top2, files, &prev2, tx));
            while let Some(batch) = rx.recv().await {
                for r in batch {
                    let (id, size, mt, part) = match r {
                        Read::Unchanged(id) => {
                            seen.insert(id); // carried over by the commit
                            continue;
                        }
                        Read::Small(id, size, mt, data) => {
                            (id, size, mt, Part::bytes("content", data))
                        }
                        Read::Big(id, size, mt, path) => {
                            let f = tokio::fs::File::open(&path).await.unwrap();
                            (id, size, mt, Part::new("content", f))
                        }
                    };
                    seen.insert(id.clone());
                    let item = NewItem {
                        folder: "root".into(),
                        id: id.clone(),
                        change_key: mt.to_string(),
                        modified: mt,
                        metadata: serde_json::json!({ "name": id }),
                    };
                    w.put_item(item, vec![part]).await.unwrap();
                    n += 1;
                    bytes += size;
                }
            }
            reader.await.unwrap();
            let mut deleted = 0;
            for id in prev.keys() {
                if !seen.contains(id) {
                    w.delete(id);
                    deleted += 1;
                }
            }
            w.commit(b"", serde_json::Value::Null).await.unwrap();
            (n, bytes, deleted)
        }));
    }
    let mut t = (0, 0, 0);
    for task in tasks {
        let (a, b, c) = task.await.unwrap();
        t = (t.0 + a, t.1 + b, t.2 + c);
    }
    t
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (cmd, dir) = (args[1].as_str(), PathBuf::from(&args[2]));
    let start = Instant::now();
    if let Some(done) = corpus::run(cmd, &args) {
        return done;
    }
    if cmd == "init" {
        if std::env::var("BENCH_S3_ENDPOINT").is_err() {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let b: DynBackend = Arc::new(LocalBackend::new(&dir));
        let b = if std::env::var("BENCH_S3_ENDPOINT").is_ok() {
            open_backend_s3(&dir)
        } else {
            b
        };
        Repository::init(b, &key(), None, RepoOptions::default())
            .await
            .unwrap();
        return;
    }
    let repo = open(&dir).await;
    let mut out = serde_json::json!({ "cmd": cmd });
    match cmd {
        "items" => {
            let (n, bytes, deleted) = items(&repo, Path::new(&args[3])).await;
            out["items"] = n.into();
            out["bytes"] = bytes.into();
            out["deleted"] = deleted.into();
        }
        "stream" => {
            let r = resource("stream");
            let base = repo.latest_point(&r).await.unwrap();
            let mut w = repo.writer(r, base.as_ref()).await.unwrap();
            let file = tokio::fs::File::open(&args[3]).await.unwrap();
            let e = w
                .put_item(
                    NewItem {
                        folder: "root".into(),
                        id: "stream".into(),
                        change_key: "x".into(),
                        modified: 0,
                        metadata: serde_json::Value::Null,
                    },
                    vec![Part::new(
                        "content",
                        tokio::io::BufReader::with_capacity(1 << 20, file),
                    )],
                )
                .await
                .unwrap();
            let st = w.stats().clone();
            w.commit(b"", serde_json::Value::Null).await.unwrap();
            out["items"] = 1.into();
            out["bytes"] = e.size.into();
            out["chunks_new"] = st.chunks_new.into();
            out["bytes_stored"] = st.bytes_stored.into();
        }
        "restore" => {
            let to = PathBuf::from(&args[3]);
            let (mut n, mut bytes) = (0u64, 0u64);
            let points = repo.list_points(None).await.unwrap();
            let mut latest: HashMap<String, RestorePoint> = HashMap::new();
            for p in points.into_iter().filter(|p| p.complete) {
                latest.insert(p.resource.resource.clone(), p);
            }
            for (name, p) in latest {
                let dir = to.join(&name);
                let mut s = repo.entries(&p);
                let mut batch: Vec<ItemEntry> = Vec::new();
                let mut batch_bytes = 0u64;
                let mut writing: Option<tokio::task::JoinHandle<u64>> = None;
                loop {
                    let next = s.try_next().await.unwrap();
                    let end = next.is_none();
                    if let Some(TreeEntry::Item(i)) = next {
                        if i.size > 8 << 20 {
                            // Big files stream through write_part (bounded memory).
                            let path = dir.join(&i.id);
                            tokio::fs::create_dir_all(path.parent().unwrap())
                                .await
                                .unwrap();
                            let mut f = tokio::fs::File::create(&path).await.unwrap();
                            for part in &i.parts {
                                bytes += repo.write_part(part, &mut f).await.unwrap();
                            }
                            n += 1;
                        } else {
                            batch_bytes += i.size;
                            batch.push(i);
                        }
                    }
                    if batch.is_empty() || !(end || batch.len() >= 512 || batch_bytes >= 4 << 20) {
                        if end {
                            break;
                        }
                        continue;
                    }
                    // Small items: their chunks read per pack in one batch, then written by
                    // one blocking task while the next batch is read.
                    let items = std::mem::take(&mut batch);
                    batch_bytes = 0;
                    let ids: Vec<ChunkId> = items
                        .iter()
                        .flat_map(|i| i.parts.iter().flat_map(|p| p.chunks.iter().copied()))
                        .collect();
                    let chunks: Vec<bytes::Bytes> =
                        repo.read_chunks(ids).try_collect().await.unwrap();
                    if let Some(h) = writing.take() {
                        bytes += h.await.unwrap();
                    }
                    n += items.len() as u64;
                    let dir = dir.clone();
                    writing = Some(tokio::task::spawn_blocking(move || {
                        write_files(&dir, &items, chunks)
                    }));
                    if end {
                        break;
                    }
                }
                if let Some(h) = writing.take() {
                    bytes += h.await.unwrap();
                }
            }
            out["items"] = n.into();
            out["bytes"] = bytes.into();
        }
        "check" => {
            let rep = repo
                .check(CheckOptions {
                    read_data_percent: Some(100.0),
                })
                .await
                .unwrap();
            assert!(rep.ok(), "{:?}", rep.errors);
            out["items"] = rep.items.into();
            out["blobs"] = rep.blobs_verified.into();
        }
        _ => panic!("unknown command {cmd}"),
    }
    out["secs"] = start.elapsed().as_secs_f64().into();
    out["puts"] = repo.counters().puts.load(Ordering::Relaxed).into();
    out["put_bytes"] = repo.counters().put_bytes.load(Ordering::Relaxed).into();
    out["gets"] = repo.counters().gets.load(Ordering::Relaxed).into();
    println!("{out}");
}

/// Writes restored small items: each item's parts are its next chunks, in order.
fn write_files(dir: &Path, items: &[ItemEntry], chunks: Vec<bytes::Bytes>) -> u64 {
    use std::io::Write;
    let mut chunks = chunks.into_iter();
    let mut made: Option<PathBuf> = None;
    let mut total = 0;
    for i in items {
        let path = dir.join(&i.id);
        let parent = path.parent().unwrap().to_path_buf();
        if made.as_ref() != Some(&parent) {
            std::fs::create_dir_all(&parent).unwrap();
            made = Some(parent);
        }
        let mut f = std::fs::File::create(&path).unwrap();
        for p in &i.parts {
            let mut n = 0;
            for _ in &p.chunks {
                let c = chunks.next().unwrap();
                f.write_all(&c).unwrap();
                n += c.len() as u64;
            }
            assert_eq!(n, p.size, "part {:?} of {:?}", p.name, i.id);
            total += n;
        }
    }
    total
}

fn open_backend_s3(dir: &Path) -> DynBackend {
    Arc::new(
        ObjectBackend::s3(
            &S3Location {
                endpoint: std::env::var("BENCH_S3_ENDPOINT").ok(),
                region: "us-east-1".into(),
                bucket: std::env::var("BENCH_S3_BUCKET").unwrap(),
                prefix: dir.to_string_lossy().trim_start_matches('/').into(),
                access_key_id: "bench".into(),
                secret_access_key: "bench".into(),
                virtual_hosted_style: false,
                allow_http: true,
                ..Default::default()
            },
            Default::default(),
        )
        .unwrap(),
    )
}
