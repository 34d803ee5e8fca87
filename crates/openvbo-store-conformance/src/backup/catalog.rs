use openvbo_core::backup::{CatalogItemKind, CatalogQuery, Job, ResourceKind};
use openvbo_core::store::{Store, StoreError};

use super::super::fixtures::at;
use super::fixtures::{catalog_item, point, resource};

const MESSAGES: usize = 24;

pub(super) async fn run(store: &dyn Store, job: &Job) {
    let p = point(job, at(500));
    store.insert_restore_point(&p).await.unwrap();
    store
        .add_restore_point_resource(&resource(p.id, ResourceKind::Mailbox, "mbx", "Nancy"))
        .await
        .unwrap();

    let mut batch = vec![catalog_item(
        p.id,
        "mbx",
        "inbox",
        None,
        CatalogItemKind::Folder,
    )];
    for i in (0..MESSAGES).rev() {
        batch.push(catalog_item(
            p.id,
            "mbx",
            &format!("m{i:02}"),
            Some("inbox"),
            CatalogItemKind::Message,
        ));
    }
    store.insert_catalog_items(&batch).await.unwrap();

    // All or nothing: a duplicate refuses the whole batch.
    let retry = [
        catalog_item(p.id, "mbx", "new", Some("inbox"), CatalogItemKind::Message),
        catalog_item(p.id, "mbx", "m03", Some("inbox"), CatalogItemKind::Message),
    ];
    assert!(matches!(
        store.insert_catalog_items(&retry).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_catalog_item(p.id, "mbx", "new").await.unwrap(),
        None
    );
    assert!(
        store
            .insert_catalog_items(&[catalog_item(
                p.id,
                "other",
                "x",
                None,
                CatalogItemKind::File
            )])
            .await
            .is_err(),
        "catalog: the point must hold the resource"
    );

    // Keyset pages of a folder, in item id order.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_catalog_items(&CatalogQuery {
                restore_point_id: p.id,
                resource_id: "mbx".into(),
                parent_id: Some(Some("inbox".into())),
                after: after.clone(),
                limit: 10,
            })
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().map(|i| i.item_id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 10, "catalog: paging must end");
    }
    let expected: Vec<String> = (0..MESSAGES).map(|i| format!("m{i:02}")).collect();
    assert_eq!(seen, expected, "catalog: every child once, in order");
    assert_eq!(pages, 3, "catalog: 24 children in pages of 10");

    let top = store
        .list_catalog_items(&CatalogQuery {
            restore_point_id: p.id,
            resource_id: "mbx".into(),
            parent_id: Some(None),
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(
        (
            top.items.len(),
            top.items[0].item_id.as_str(),
            top.next.is_none()
        ),
        (1, "inbox", true)
    );
    let all = store
        .list_catalog_items(&CatalogQuery {
            restore_point_id: p.id,
            resource_id: "mbx".into(),
            parent_id: None,
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), MESSAGES + 1);

    let one = store.get_catalog_item(p.id, "mbx", "m07").await.unwrap();
    assert_eq!(
        one,
        batch.iter().find(|i| i.item_id == "m07").cloned(),
        "catalog: every field round-trips"
    );

    assert!(store.delete_restore_point(p.id).await.unwrap());
    assert_eq!(
        store.get_catalog_item(p.id, "mbx", "m07").await.unwrap(),
        None,
        "catalog: goes with its restore point"
    );
}
