//! SIGKILL during a large backup, repeatedly: the test re-invokes its own binary as a child
//! that writes many resources (with checkpoints), kills it after a random number of items,
//! and afterwards every record opens, nothing a record names is missing, and
//! `check --read-data` passes. A last clean run resumes and completes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use openvbo_repo::*;

const CHILD_ENV: &str = "OPENVBO_REPO_CRASH_CHILD_DIR";

async fn open_or_init(dir: &std::path::Path) -> Repository {
    let backend: DynBackend = Arc::new(LocalBackend::new(dir));
    let mut o = RepoOptions {
        data_pack_size: 1024 * 1024,
        ..RepoOptions::default()
    };
    o.holder = "crash-test".into();
    match Repository::open(backend.clone(), Unlock::Master(&master()), o.clone()).await {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Repository::init(backend, &master(), None, o).await.unwrap()
        }
        Err(e) => panic!("{e}"),
    }
}

/// The child: backs up 6 mailboxes of 120 items each, resuming checkpoints it finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by crash_at_random_points_loses_nothing as a child process"]
async fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let repo = open_or_init(std::path::Path::new(&dir)).await;
    let mut n = 0u64;
    for m in 0..6 {
        let r = mailbox(m);
        let mut w = match repo.pending_checkpoint(&r).await.unwrap() {
            Some(cp) => repo.resume(&cp).await.unwrap(),
            None => {
                if repo.latest_point(&r).await.unwrap().is_some() {
                    continue;
                }
                repo.writer(r.clone(), None).await.unwrap()
            }
        };
        for i in 0..120u64 {
            let id = format!("m{m}-{i}");
            if w.already_stored(&id, "ck1") {
                continue;
            }
            let mut parts = vec![Part::bytes("mime", text(m as u64 * 1000 + i, 8_000))];
            if i % 10 == 0 {
                parts.push(Part::bytes("attachment", random_bytes(i, 200_000)));
            }
            w.put_item(item("inbox", &id), parts).await.unwrap();
            n += 1;
            println!("item {n}");
            if i % 25 == 24 {
                w.checkpoint(format!("{i}").as_bytes()).await.unwrap();
                println!("checkpoint {n}");
            }
        }
        w.commit(b"done", serde_json::Value::Null).await.unwrap();
        println!("commit {n}");
    }
    println!("finished");
}

fn run_child(dir: &std::path::Path, kill_after_items: Option<u64>) -> (u64, bool) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut items = 0;
    let mut finished = false;
    for line in out.lines() {
        let line = line.unwrap();
        if line.starts_with("item ") {
            items += 1;
            if Some(items) == kill_after_items {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        if line == "finished" {
            finished = true;
        }
    }
    child.wait().unwrap();
    (items, finished)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_at_random_points_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ std::process::id() as u64;
    let mut kills = 0;
    for _ in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let k = 5 + seed % 150;
        let (items, finished) = run_child(dir.path(), Some(k));
        if !finished && items == k {
            kills += 1;
        }
        // After each kill: consistent.
        let repo = open_or_init(dir.path()).await;
        let rep = repo
            .check(CheckOptions {
                read_data_percent: Some(100.0),
            })
            .await
            .unwrap();
        assert!(rep.ok(), "after a kill at item {k}: {:?}", rep.errors);
    }
    assert!(kills >= 3, "the child was killed mid-write {kills} times");

    // A clean run resumes from the checkpoints and finishes all 6 mailboxes.
    let (_, finished) = run_child(dir.path(), None);
    assert!(finished);
    let repo = open_or_init(dir.path()).await;
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    for m in 0..6 {
        let p = repo
            .latest_point(&mailbox(m))
            .await
            .unwrap()
            .expect("every mailbox committed");
        assert_eq!(p.item_count, 120, "mailbox {m}");
        assert!(repo
            .pending_checkpoint(&mailbox(m))
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(rep.items, 720);
}
