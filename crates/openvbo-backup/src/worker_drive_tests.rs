//! A OneDrive unit asks Graph for the user's drive only when it does not
//! know it: the restore point it builds on names the drive, and a drive
//! Graph no longer knows (provisioned again, with a new id) is looked up
//! then and read in full.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_core::backup::{RepositoryId, ResourceKind};
use openvbo_core::jobs::{NoEvents, ResourceTarget, UnitControl, UnitOfWork, UnitStatus};
use openvbo_core::OrganizationId;
use openvbo_repo::{DynBackend, LocalBackend, RepoOptions, Repository, WrappingKey};

use super::{RepositoryOpener, SourceProvider, Worker};
use crate::error::{SourceError, SourceErrorKind, UnitError};
use crate::source::{
    ByteStream, DeltaEvent, DriveChange, DriveEntry, DriveInfo, DriveSource, MailSource,
};

#[derive(Default)]
struct Tenant {
    /// The user's drive now.
    drive: String,
    lookups: u64,
    downloads: u64,
}

#[derive(Clone, Default)]
struct Drives(Arc<Mutex<Tenant>>);

fn entry(id: &str, parent: Option<&str>, is_folder: bool) -> DriveEntry {
    DriveEntry {
        id: id.into(),
        parent: parent.map(str::to_string),
        name: id.into(),
        is_folder,
        change_key: "c1".into(),
        size: 5,
        modified: 1_700_000_000,
        hash: None,
    }
}

#[async_trait]
impl DriveSource for Drives {
    async fn user_drive(&self, _user: &str) -> Result<Option<DriveInfo>, SourceError> {
        let mut t = self.0.lock().unwrap();
        t.lookups += 1;
        Ok(Some(DriveInfo {
            id: t.drive.clone(),
            name: "OneDrive".into(),
            url: format!(
                "https://contoso-my.sharepoint.com/personal/nancy/{}",
                t.drive
            ),
        }))
    }

    async fn site_libraries(&self, _site: &str) -> Result<Vec<DriveInfo>, SourceError> {
        Ok(Vec::new())
    }

    async fn drive_delta(
        &self,
        drive: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<DriveChange>, SourceError>>, SourceError> {
        let current = self.0.lock().unwrap().drive.clone();
        // As Graph answers for a drive that is gone: 404 on the first page.
        if drive != current {
            let gone = SourceError::new(SourceErrorKind::NotFound, "itemNotFound: no such drive");
            return Ok(stream::iter(vec![Err(gone)]).boxed());
        }
        let root = format!("root-{drive}");
        let changes = match since {
            None => vec![
                DriveChange::Upsert(entry(&root, None, true)),
                DriveChange::Upsert(entry(&format!("file-{drive}"), Some(&root), false)),
            ],
            Some(_) => Vec::new(),
        };
        Ok(stream::iter(vec![
            Ok(DeltaEvent::Page {
                changes,
                reset: false,
            }),
            Ok(DeltaEvent::End {
                token: format!("token-{drive}"),
            }),
        ])
        .boxed())
    }

    async fn file_content(
        &self,
        _drive: &str,
        _file: &DriveEntry,
    ) -> Result<ByteStream, SourceError> {
        self.0.lock().unwrap().downloads += 1;
        Ok(stream::iter(vec![Ok(Bytes::from_static(b"hello"))]).boxed())
    }
}

struct Sources(Drives);

#[async_trait]
impl SourceProvider for Sources {
    async fn mail(&self, _o: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError> {
        Err(SourceError::new(SourceErrorKind::Other, "no mail here"))
    }
    async fn drives(&self, _o: OrganizationId) -> Result<Arc<dyn DriveSource>, SourceError> {
        Ok(Arc::new(self.0.clone()))
    }
}

struct Repos(Repository);

#[async_trait]
impl RepositoryOpener for Repos {
    async fn open(&self, _id: RepositoryId) -> Result<Repository, UnitError> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn a_known_drive_is_not_looked_up_again_and_a_gone_one_is() {
    let dir = tempfile::tempdir().unwrap();
    let backend: DynBackend = Arc::new(LocalBackend::new(dir.path()));
    let repo = Repository::init(
        backend,
        &WrappingKey::from_bytes([3u8; 32]),
        None,
        RepoOptions::default(),
    )
    .await
    .unwrap();
    let drives = Drives::default();
    drives.0.lock().unwrap().drive = "drive-1".into();
    let worker = Worker::new(
        Arc::new(Repos(repo.clone())),
        Arc::new(Sources(drives.clone())),
    );
    let unit = UnitOfWork {
        organization_id: OrganizationId::new_random(),
        repository_id: RepositoryId::new_random(),
        resource: ResourceTarget {
            kind: ResourceKind::OneDrive,
            id: "user-nancy".into(),
            display_name: "Nancy Davolio".into(),
            address: "nancy@contoso.example".into(),
        },
        previous: None,
        origin: Default::default(),
    };
    let control = UnitControl::new(Arc::new(NoEvents));
    let counts = |d: &Drives| {
        let t = d.0.lock().unwrap();
        (t.lookups, t.downloads)
    };

    let first = worker.back_up(&unit, &control).await;
    assert_eq!(first.status, UnitStatus::Success, "{first:?}");
    assert_eq!(counts(&drives), (1, 1));

    // The point names drive-1: no lookup, nothing new.
    let second = worker.back_up(&unit, &control).await;
    assert_eq!(second.status, UnitStatus::Success, "{second:?}");
    assert_eq!(second.downloaded_items, 0);
    assert_eq!(counts(&drives), (1, 1));

    // Provisioned again: drive-1 is gone, the user's drive is drive-2,
    // read in full.
    drives.0.lock().unwrap().drive = "drive-2".into();
    let third = worker.back_up(&unit, &control).await;
    assert_eq!(third.status, UnitStatus::Success, "{third:?}");
    assert_eq!(third.downloaded_items, 1);
    assert_eq!(counts(&drives), (2, 2));
    let point = repo
        .read_point(&openvbo_repo::RestorePointId(third.point.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(point.extra["driveId"], "drive-2");
    // What was in drive-1 is not in the user's OneDrive any more: the new
    // point holds drive-2's file only (drive-1's stays in the first point).
    let ids = |point: openvbo_repo::RestorePoint| {
        let repo = repo.clone();
        async move {
            let mut ids: Vec<String> = repo
                .entries(&point)
                .filter_map(|e| async move {
                    match e.unwrap() {
                        openvbo_repo::TreeEntry::Item(i) => Some(i.id),
                        openvbo_repo::TreeEntry::Folder(_) => None,
                    }
                })
                .collect()
                .await;
            ids.sort();
            ids
        }
    };
    assert_eq!(ids(point).await, vec!["file-drive-2".to_string()]);
    let first_point = repo
        .read_point(&openvbo_repo::RestorePointId(first.point.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(ids(first_point).await, vec!["file-drive-1".to_string()]);

    // And the next run builds on drive-2 without a lookup.
    let fourth = worker.back_up(&unit, &control).await;
    assert_eq!(fourth.status, UnitStatus::Success, "{fourth:?}");
    assert_eq!(counts(&drives), (2, 2));
}
