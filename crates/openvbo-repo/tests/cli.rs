//! `openvbo repo` end to end on a directory: init (key file), ls, extract (.eml and files at
//! their paths, byte for byte), check --read-data, stats, forget --prune; JSON output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clap::Parser;
use common::*;
use openvbo_repo::cli::{run_to, RepoArgs};
use openvbo_repo::*;

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: RepoArgs,
}

async fn repo_cli(args: &[&str]) -> Result<String> {
    let mut full = vec!["openvbo-repo"];
    full.extend_from_slice(args);
    let cmd = Cmd::try_parse_from(full).unwrap();
    let mut out = Vec::new();
    run_to(cmd.args, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn init_ls_extract_check_stats_and_forget_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let key = tmp.path().join("master.key");
    let (d, k) = (dir.to_str().unwrap(), key.to_str().unwrap());
    let out = repo_cli(&["--repo", d, "--key-file", k, "--json", "init"])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"].as_str().unwrap().len(), 32);
    assert_eq!(
        std::fs::read_to_string(&key).unwrap().len(),
        64,
        "a new hex key file"
    );

    // The server side writes a mailbox and a drive through the library.
    let keybytes = WrappingKey::from_file_contents(&std::fs::read(&key).unwrap()).unwrap();
    let backend: DynBackend = Arc::new(LocalBackend::new(&dir));
    let repo = Repository::open(backend, Unlock::Master(&keybytes), opts(clock()))
        .await
        .unwrap();
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    w.put_folder(FolderEntry {
        id: "inbox-id".into(),
        parent: None,
        name: "Inbox".into(),
        metadata: serde_json::Value::Null,
    })
    .await
    .unwrap();
    let mime = b"Subject: hello\r\n\r\nbody".to_vec();
    w.put_item(
        item("inbox-id", "AAMkAD1"),
        vec![Part::bytes("mime", mime.clone())],
    )
    .await
    .unwrap();
    let mp = w.commit(b"", serde_json::Value::Null).await.unwrap();
    let mut w = repo.writer(drive(1), None).await.unwrap();
    w.put_folder(FolderEntry {
        id: "root".into(),
        parent: None,
        name: "Documents".into(),
        metadata: serde_json::Value::Null,
    })
    .await
    .unwrap();
    w.put_folder(FolderEntry {
        id: "f2".into(),
        parent: Some("root".into()),
        name: "Reports".into(),
        metadata: serde_json::Value::Null,
    })
    .await
    .unwrap();
    let file = random_bytes(4, 2_500_000);
    let mut it = item("f2", "01ABC");
    it.metadata = serde_json::json!({"name": "q3.xlsx"});
    w.put_item(it, vec![Part::bytes("content", file.clone())])
        .await
        .unwrap();
    let dp = w.commit(b"", serde_json::Value::Null).await.unwrap();

    let out = repo_cli(&["--repo", d, "--key-file", k, "--json", "ls"])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let mbx = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["resource"] == "user1@contoso.example")
        .unwrap();
    assert_eq!(mbx["items"], 1);
    assert_eq!(mbx["kind"], "Mailbox");
    let out = repo_cli(&["--repo", d, "--key-file", k, "ls", "items", &mp.id.0])
        .await
        .unwrap();
    assert!(out.contains("folder inbox-id  Inbox"), "{out}");
    assert!(out.contains("item   AAMkAD1  in inbox-id"), "{out}");
    let out = repo_cli(&["--repo", d, "--key-file", k, "--json", "ls", "resources"])
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let to = tmp.path().join("out");
    let t = to.to_str().unwrap();
    repo_cli(&["--repo", d, "--key-file", k, "extract", &mp.id.0, "--to", t])
        .await
        .unwrap();
    assert_eq!(std::fs::read(to.join("Inbox/AAMkAD1.eml")).unwrap(), mime);
    let out = repo_cli(&[
        "--repo",
        d,
        "--key-file",
        k,
        "--json",
        "extract",
        &dp.id.0,
        "--to",
        t,
    ])
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["bytes"],
        2_500_000
    );
    assert_eq!(
        std::fs::read(to.join("Documents/Reports/q3.xlsx")).unwrap(),
        file
    );

    let out = repo_cli(&[
        "--repo",
        d,
        "--key-file",
        k,
        "--json",
        "check",
        "--read-data",
    ])
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    assert_eq!(v["items"], 2);
    assert!(v["blobs_verified"].as_u64().unwrap() >= 4);

    let out = repo_cli(&["--repo", d, "--key-file", k, "--json", "stats"])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["restore_points"], 2);
    assert_eq!(v["logical_bytes"], 2_500_000 + mime.len() as u64);

    // Wrong key: a clear error, nothing printed.
    let bad = tmp.path().join("bad.key");
    std::fs::write(&bad, hex::encode([1u8; 32])).unwrap();
    let e = repo_cli(&["--repo", d, "--key-file", bad.to_str().unwrap(), "ls"])
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::WrongKey);

    // Damage a data pack: check fails and names it.
    let pack = files(&dir)
        .into_iter()
        .find(|f| f.to_string_lossy().contains("/data/"))
        .unwrap();
    let good = std::fs::read(&pack).unwrap();
    let mut b = good.clone();
    b[100] ^= 1;
    std::fs::write(&pack, b).unwrap();
    let e = repo_cli(&["--repo", d, "--key-file", k, "check", "--read-data=100"])
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Corrupted);
    // Mended: (a damaged pack may hold tree blobs too, and prune refuses to guess what is
    // referenced when it cannot read a tree).
    std::fs::write(&pack, good).unwrap();

    let out = repo_cli(&[
        "--repo",
        d,
        "--key-file",
        k,
        "--json",
        "forget",
        "--keep-days",
        "1",
        "--prune",
    ])
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["forget"]["removed"].as_array().unwrap().len(),
        0,
        "the newest of each resource stays"
    );
}
