// Test code: failed expectations panic, fixtures are indexed, helpers are pub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

//! The catalog of a big mailbox: written in batches, paged by keyset, the
//! last page as cheap as the first.

use std::time::{Duration, Instant};

use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogQuery, CatalogScope, JobId, RepositoryId, ResourceKind,
    RestorePoint, RestorePointId, RestorePointResource,
};
use openvbo_core::store::RestorePointStore as _;
use openvbo_core::OrganizationId;
use openvbo_store::SqliteStore;
use time::OffsetDateTime;

const ITEMS: usize = 20_000;
const BATCH: usize = 2_000;
const PAGE: u64 = 1_000;

fn item(point: RestorePointId, i: usize) -> CatalogItem {
    CatalogItem {
        restore_point_id: point,
        resource_kind: ResourceKind::Mailbox,
        resource_id: "mailbox-1".into(),
        item_id: format!("AAMkAG{i:08}"),
        parent_id: Some("inbox".into()),
        kind: CatalogItemKind::Message,
        name: format!("Quarterly report {i}"),
        sender: Some("adele@contoso.example".into()),
        size_bytes: 10_000 + i64::try_from(i).unwrap(),
        created: None,
        modified: None,
        path: "/Inbox".into(),
        content_ref: i.to_le_bytes().to_vec(),
    }
}

#[tokio::test]
async fn twenty_thousand_items_page_through_in_order_and_deep_pages_stay_cheap() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("openvbo.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let point = RestorePoint {
        id: RestorePointId::new_random(),
        repository_id: RepositoryId::new_random(),
        job_id: JobId::new_random(),
        job_session_id: None,
        organization_id: OrganizationId::new_random(),
        backup_time: now,
        is_exchange: false,
        is_sharepoint: false,
        is_onedrive: false,
        is_teams: false,
        is_long_term_copy: false,
        is_retrieved: false,
        retrieval_id: None,
    };
    store.insert_restore_point(&point).await.unwrap();
    store
        .add_restore_point_resource(&RestorePointResource {
            restore_point_id: point.id,
            kind: ResourceKind::Mailbox,
            resource_id: "mailbox-1".into(),
            display_name: "Adele Vance".into(),
            address: "adele@contoso.example".into(),
            item_count: ITEMS as i64,
            size_bytes: 0,
            record: vec![1],
        })
        .await
        .unwrap();
    // Written in reverse, so that order comes from the store, not the input.
    let all: Vec<CatalogItem> = (0..ITEMS).rev().map(|i| item(point.id, i)).collect();
    for batch in all.chunks(BATCH) {
        store.insert_catalog_items(batch).await.unwrap();
    }

    let scope = CatalogScope {
        restore_point_id: point.id,
        resource_kind: ResourceKind::Mailbox,
        resource_id: "mailbox-1".into(),
    };
    let query = |after| CatalogQuery {
        kind: Some(CatalogItemKind::Message),
        after,
        ..CatalogQuery::new(scope.clone(), Some(Some("inbox".into())), PAGE)
    };
    let mut after = None;
    let mut seen = 0_usize;
    let mut pages = 0;
    let (mut first, mut slowest) = (Duration::ZERO, Duration::ZERO);
    loop {
        let started = Instant::now();
        let page = store
            .list_catalog_items(&query(after.clone()))
            .await
            .unwrap();
        let took = started.elapsed();
        if pages == 0 {
            first = took;
        }
        slowest = slowest.max(took);
        for (offset, got) in page.items.iter().enumerate() {
            assert_eq!(
                got,
                &item(point.id, seen + offset),
                "item {}",
                seen + offset
            );
        }
        seen += page.items.len();
        pages += 1;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!((seen, pages), (ITEMS, ITEMS / PAGE as usize));
    // Keyset paging: no page scans what came before it. Generous, for a
    // loaded 2-core machine; an OFFSET scan would grow 20-fold.
    assert!(
        slowest < first * 8 + Duration::from_millis(200),
        "first page {first:?}, slowest {slowest:?}"
    );
    store.close().await;
}
