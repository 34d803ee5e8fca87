//! The adapter on local directories: create makes the path and a repository the master key
//! (or the password) opens; a second create is refused; a file is no directory; space is
//! the file system's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use openvbo_core::repositories::{
    EngineErrorKind, EngineLocation, EngineUnlock, RepositoryEngines,
};
use openvbo_engines::RepoEngines;
use secrecy::SecretString;

fn local(path: std::path::PathBuf) -> EngineLocation {
    EngineLocation::Local { path }
}

#[tokio::test]
async fn create_makes_the_path_and_the_keys_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = local(dir.path().join("a/b/repo"));
    let engines = RepoEngines::new([7; 32], "server-1");
    let password = SecretString::from("correct horse");
    let made = engines.create(&at, Some(&password)).await.unwrap();
    assert!(dir.path().join("a/b/repo/config").is_file());
    assert!(made
        .as_any()
        .downcast_ref::<openvbo_repo::Repository>()
        .is_some());
    assert!(made.restore_points().await.unwrap().is_empty());

    // A second add of the same path is refused, and says why.
    let again = RepoEngines::new([7; 32], "server-1");
    let e = again.create(&at, None).await.err().unwrap();
    assert_eq!(e.kind, EngineErrorKind::AlreadyExists);
    assert!(e.message.contains("already a repository"), "{}", e.message);

    // Another server: the master key opens it, so does the password; a wrong key does not.
    let opened = again.open(&at, EngineUnlock::Master).await.unwrap();
    assert_eq!(opened.engine_id(), made.engine_id());
    let other = RepoEngines::new([9; 32], "server-2");
    let e = other.open(&at, EngineUnlock::Master).await.err().unwrap();
    assert_eq!(e.kind, EngineErrorKind::WrongKey);
    let by_password = other
        .open(&at, EngineUnlock::Password(&password))
        .await
        .unwrap();
    assert_eq!(by_password.engine_id(), made.engine_id());
    // … and after that, server-2's own key opens it too.
    let fresh = RepoEngines::new([9; 32], "server-2");
    assert_eq!(
        fresh
            .open(&at, EngineUnlock::Master)
            .await
            .unwrap()
            .engine_id(),
        made.engine_id()
    );
}

#[tokio::test]
async fn a_file_is_not_a_repository_path_and_space_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let engines = RepoEngines::new([1; 32], "s");
    let e = engines
        .create(&local(file.clone()), None)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, EngineErrorKind::Unusable);
    assert!(e.message.contains("not a directory"), "{}", e.message);
    let e = engines
        .create(&local(file.join("below")), None)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, EngineErrorKind::Unusable);

    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), b"mine").unwrap();
    let e = engines
        .create(&local(busy.clone()), None)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, EngineErrorKind::Unusable);
    assert!(e.message.contains("not empty"), "{}", e.message);
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);

    let at = local(dir.path().join("repo"));
    engines.create(&at, None).await.unwrap();
    let space = engines
        .space(&at)
        .await
        .unwrap()
        .expect("df reports the file system");
    assert!(space.capacity_bytes > 0);
    assert!(space.free_bytes <= space.capacity_bytes);
}

/// Disaster recovery: the server's `master.key` file (base64) is what `openvbo repo
/// --key-file` reads, and it opens what the server created.
#[tokio::test]
async fn the_servers_master_key_file_opens_the_repository_without_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let at = local(dir.path().join("repo"));
    let master = [42u8; 32];
    let made = RepoEngines::new(master, "server")
        .create(&at, None)
        .await
        .unwrap();
    use base64::Engine as _;
    let file = base64::engine::general_purpose::STANDARD.encode(master);
    let key =
        openvbo_repo::WrappingKey::from_file_contents(format!("{file}\n").as_bytes()).unwrap();
    let backend: openvbo_repo::DynBackend =
        std::sync::Arc::new(openvbo_repo::LocalBackend::new(dir.path().join("repo")));
    let repo = openvbo_repo::Repository::open(
        backend,
        openvbo_repo::Unlock::Master(&key),
        Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(repo.id(), made.engine_id());
    assert!(openvbo_repo::WrappingKey::from_file_contents(b"not a key").is_err());
}
