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
            for f in files_in(&top) {
                let id = f.strip_prefix(&top).unwrap().to_string_lossy().to_string();
                let size = std::fs::metadata(&f).unwrap().len();
                let mt = mtime(&f);
                seen.insert(id.clone());
                if prev.get(&id) == Some(&(size, mt)) {
                    continue; // unchanged: carried over by the commit
                }
                // Small files in one read (one hop to the blocking pool), big ones streamed.
                let part = if size <= 8 << 20 {
                    let path = f.clone();
                    let data = tokio::task::spawn_blocking(move || std::fs::read(path))
                        .await
                        .unwrap()
                        .unwrap();
                    Part::bytes("content", data)
                } else {
                    Part::new("content", tokio::fs::File::open(&f).await.unwrap())
                };
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
                let mut s = repo.entries(&p);
                while let Some(e) = s.try_next().await.unwrap() {
                    let TreeEntry::Item(i) = e else { continue };
                    let path = to.join(&name).join(&i.id);
                    tokio::fs::create_dir_all(path.parent().unwrap())
                        .await
                        .unwrap();
                    let mut f = tokio::fs::File::create(&path).await.unwrap();
                    for part in &i.parts {
                        bytes += repo.write_part(part, &mut f).await.unwrap();
                    }
                    n += 1;
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
