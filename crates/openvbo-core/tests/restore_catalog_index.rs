//! The catalog indexer over a real (SQLite) store: a snapshot is written in batches as it is
//! read, marked complete only at its end (an indexing cut short is cleared and done again),
//! a user's mailbox and OneDrive are indexed apart, and a resource whose catalog an
//! item-level clean-up dropped is indexed again from what the snapshot now holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::sync::Mutex;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogQuery, CatalogScope, JobId, RepositoryId, ResourceKind,
    RestorePoint, RestorePointId, RestorePointResource,
};
use openvbo_core::restore::content::{CatalogIndexer, ContentStream, RestoreContent, BATCH};
use openvbo_core::restore::mail::MessageFacts;
use openvbo_core::restore::ChosenResource;
use openvbo_core::store::RestorePointStore;
use openvbo_core::{CoreError, OrganizationId};
use openvbo_store::SqliteStore;
use time::macros::datetime;

const USER: &str = "00000000-0000-4000-8000-000001000001";

/// A repository whose snapshot of each resource is a list the test sets, optionally failing
/// after some entries (a repository read error half-way).
#[derive(Default)]
struct FakeContent {
    mailbox: Mutex<Vec<String>>,
    drive: Mutex<Vec<String>>,
    fail_after: Mutex<Option<usize>>,
    reads: Mutex<usize>,
}

fn entry(chosen: &ChosenResource, id: &str) -> CatalogItem {
    let (kind, parent) = match (chosen.resource.kind, id) {
        (_, "inbox" | "docs") => (CatalogItemKind::Folder, Some("root".to_owned())),
        (ResourceKind::OneDrive, _) => (CatalogItemKind::File, Some("docs".to_owned())),
        _ => (CatalogItemKind::Message, Some("inbox".to_owned())),
    };
    CatalogItem {
        restore_point_id: chosen.point_id,
        resource_kind: chosen.resource.kind,
        resource_id: chosen.resource.resource_id.clone(),
        item_id: id.to_owned(),
        parent_id: parent,
        kind,
        name: format!("name of {id}"),
        sender: None,
        size_bytes: 10,
        created: None,
        modified: None,
        path: String::new(),
        content_ref: id.as_bytes().to_vec(),
    }
}

#[async_trait]
impl RestoreContent for FakeContent {
    async fn entries(
        &self,
        _repository: RepositoryId,
        chosen: &ChosenResource,
    ) -> Result<BoxStream<'static, Result<CatalogItem, CoreError>>, CoreError> {
        *self.reads.lock().unwrap() += 1;
        let ids = match chosen.resource.kind {
            ResourceKind::OneDrive => self.drive.lock().unwrap().clone(),
            _ => self.mailbox.lock().unwrap().clone(),
        };
        let fail_after = *self.fail_after.lock().unwrap();
        let mut out: Vec<Result<CatalogItem, CoreError>> =
            ids.iter().map(|id| Ok(entry(chosen, id))).collect();
        if let Some(n) = fail_after {
            out.truncate(n);
            out.push(Err(CoreError::Internal("the repository went away".into())));
        }
        Ok(futures::stream::iter(out).boxed())
    }

    async fn open(&self, _: RepositoryId, _: &[u8]) -> Result<ContentStream, CoreError> {
        Err(CoreError::Internal("not read here".into()))
    }

    fn message_facts(&self, _: &[u8]) -> MessageFacts {
        MessageFacts::default()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    mailbox: ChosenResource,
    drive: ChosenResource,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("openvbo.db"))
        .await
        .unwrap();
    let at = datetime!(2026-03-01 10:00:00 UTC);
    let point = RestorePoint {
        id: RestorePointId::new_random(),
        repository_id: RepositoryId::new_random(),
        job_id: JobId::new_random(),
        job_session_id: None,
        organization_id: OrganizationId::new_random(),
        backup_time: at,
        is_exchange: true,
        is_sharepoint: false,
        is_onedrive: true,
        is_teams: false,
        is_long_term_copy: false,
        is_retrieved: false,
        retrieval_id: None,
    };
    store.insert_restore_point(&point).await.unwrap();
    let mut chosen = Vec::new();
    // The user's mailbox and OneDrive: one id, two resources.
    for kind in [ResourceKind::Mailbox, ResourceKind::OneDrive] {
        let resource = RestorePointResource {
            restore_point_id: point.id,
            kind,
            resource_id: USER.into(),
            display_name: "Nancy Davolio".into(),
            address: "nancy@contoso.test".into(),
            item_count: 0,
            size_bytes: 0,
            record: vec![1],
        };
        store.add_restore_point_resource(&resource).await.unwrap();
        chosen.push(ChosenResource {
            point_id: point.id,
            backup_time: at,
            resource,
        });
    }
    let drive = chosen.pop().unwrap();
    let mailbox = chosen.pop().unwrap();
    Fixture {
        _dir: dir,
        store,
        mailbox,
        drive,
    }
}

/// Every entry of a resource, by walking its catalog pages.
async fn catalogued(store: &dyn RestorePointStore, chosen: &ChosenResource) -> Vec<CatalogItem> {
    let mut all = Vec::new();
    let mut query = CatalogQuery::new(CatalogScope::of(&chosen.resource), None, 700);
    loop {
        let page = store.list_catalog_items(&query).await.unwrap();
        all.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return all,
        }
    }
}

fn messages(n: usize) -> Vec<String> {
    let mut ids = vec!["inbox".to_owned()];
    ids.extend((0..n).map(|i| format!("m{i:05}")));
    ids
}

#[tokio::test]
async fn an_indexing_cut_short_is_not_taken_as_complete_and_is_redone_whole() {
    let f = fixture().await;
    let store: &dyn RestorePointStore = &f.store;
    let scope = CatalogScope::of(&f.mailbox.resource);
    let content = FakeContent::default();
    let total = 2 * BATCH + 500;
    *content.mailbox.lock().unwrap() = messages(total - 1);
    // The repository fails after one and a half batches.
    *content.fail_after.lock().unwrap() = Some(BATCH + BATCH / 2);
    let indexer = CatalogIndexer::default();

    let failed = indexer.ensure(store, &content, &f.mailbox).await;
    assert!(failed.is_err(), "the read error is reported");
    // Batches were written as the snapshot was read: the first one is there...
    assert_eq!(catalogued(store, &f.mailbox).await.len(), BATCH);
    // ...but the catalog does not pass for complete.
    assert!(!store.catalog_complete(&scope).await.unwrap());

    // The next session indexes it again, from scratch (no duplicate conflicts), whole.
    *content.fail_after.lock().unwrap() = None;
    indexer.ensure(store, &content, &f.mailbox).await.unwrap();
    assert!(store.catalog_complete(&scope).await.unwrap());
    let all = catalogued(store, &f.mailbox).await;
    assert_eq!(all.len(), total);
    let ids: Vec<&str> = all.iter().map(|i| i.item_id.as_str()).collect();
    let mut expected = messages(total - 1);
    expected.sort();
    assert_eq!(ids, expected, "every entry once");
    // The top folder's parent (the never backed-up root) is None; messages keep the inbox.
    let inbox = store
        .get_catalog_item(&scope, "inbox")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inbox.parent_id, None);
    let m = store
        .get_catalog_item(&scope, "m00007")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.parent_id.as_deref(), Some("inbox"));

    // Complete: the next call reads nothing from the repository.
    let reads = *content.reads.lock().unwrap();
    indexer.ensure(store, &content, &f.mailbox).await.unwrap();
    assert_eq!(*content.reads.lock().unwrap(), reads);
}

#[tokio::test]
async fn a_users_mailbox_and_onedrive_are_indexed_apart() {
    let f = fixture().await;
    let store: &dyn RestorePointStore = &f.store;
    let content = FakeContent::default();
    *content.mailbox.lock().unwrap() = messages(3);
    *content.drive.lock().unwrap() = vec!["docs".into(), "plan.docx".into(), "m00001".into()];
    let indexer = CatalogIndexer::default();
    indexer.ensure(store, &content, &f.mailbox).await.unwrap();
    // Before, the OneDrive's catalog looked present because the mailbox's had the same id.
    indexer.ensure(store, &content, &f.drive).await.unwrap();

    let kinds = |items: Vec<CatalogItem>| {
        items
            .into_iter()
            .map(|i| (i.item_id, i.kind, i.resource_kind))
            .collect::<Vec<_>>()
    };
    use CatalogItemKind::{File, Folder, Message};
    use ResourceKind::{Mailbox, OneDrive};
    assert_eq!(
        kinds(catalogued(store, &f.mailbox).await),
        vec![
            ("inbox".into(), Folder, Mailbox),
            ("m00000".into(), Message, Mailbox),
            ("m00001".into(), Message, Mailbox),
            ("m00002".into(), Message, Mailbox),
        ]
    );
    assert_eq!(
        kinds(catalogued(store, &f.drive).await),
        vec![
            ("docs".into(), Folder, OneDrive),
            ("m00001".into(), File, OneDrive),
            ("plan.docx".into(), File, OneDrive),
        ]
    );
}

#[tokio::test]
async fn after_an_item_level_clean_up_the_catalog_shows_what_the_snapshot_still_holds() {
    let f = fixture().await;
    let store: &dyn RestorePointStore = &f.store;
    let content = FakeContent::default();
    *content.mailbox.lock().unwrap() = messages(4);
    *content.drive.lock().unwrap() = vec!["docs".into(), "plan.docx".into()];
    let indexer = CatalogIndexer::default();
    indexer.ensure(store, &content, &f.mailbox).await.unwrap();
    indexer.ensure(store, &content, &f.drive).await.unwrap();

    // Retention removed m00002 from the mailbox's snapshot and resized the resource.
    content.mailbox.lock().unwrap().retain(|id| id != "m00002");
    assert!(store
        .set_restore_point_resource_size(f.mailbox.point_id, ResourceKind::Mailbox, USER, 3, 30)
        .await
        .unwrap());

    let reads = *content.reads.lock().unwrap();
    indexer.ensure(store, &content, &f.mailbox).await.unwrap();
    indexer.ensure(store, &content, &f.drive).await.unwrap();
    assert_eq!(
        *content.reads.lock().unwrap(),
        reads + 1,
        "only the cleaned-up resource is read again"
    );
    let ids: Vec<String> = catalogued(store, &f.mailbox)
        .await
        .into_iter()
        .map(|i| i.item_id)
        .collect();
    assert_eq!(ids, ["inbox", "m00000", "m00001", "m00003"]);
    assert_eq!(catalogued(store, &f.drive).await.len(), 2);
}
