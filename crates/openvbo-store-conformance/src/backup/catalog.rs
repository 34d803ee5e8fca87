use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogQuery, CatalogScope, Job, ResourceKind,
};
use openvbo_core::store::{Store, StoreError};

use super::super::fixtures::at;
use super::fixtures::{catalog_item, point, resource};

const MESSAGES: usize = 24;

fn ids(items: &[CatalogItem]) -> Vec<&str> {
    items.iter().map(|i| i.item_id.as_str()).collect()
}

pub(super) async fn run(store: &dyn Store, job: &Job) {
    use CatalogItemKind::{File, Folder, Library, Message};
    let p = point(job, at(500));
    store.insert_restore_point(&p).await.unwrap();
    // A user's mailbox and OneDrive: two resources with the same id.
    for kind in [ResourceKind::Mailbox, ResourceKind::OneDrive] {
        store
            .add_restore_point_resource(&resource(p.id, kind, "user", "Nancy"))
            .await
            .unwrap();
    }
    let mbx = CatalogScope {
        restore_point_id: p.id,
        resource_kind: ResourceKind::Mailbox,
        resource_id: "user".into(),
    };
    let od = CatalogScope {
        resource_kind: ResourceKind::OneDrive,
        ..mbx.clone()
    };

    let mut batch = vec![catalog_item(&mbx, "inbox", None, Folder)];
    for i in (0..MESSAGES).rev() {
        batch.push(catalog_item(
            &mbx,
            &format!("m{i:02}"),
            Some("inbox"),
            Message,
        ));
    }
    // A subfolder among the messages, so kind filters have something to leave out.
    batch.push(catalog_item(&mbx, "m05-sub", Some("inbox"), Folder));
    store.insert_catalog_items(&batch).await.unwrap();
    assert!(
        !store.catalog_complete(&mbx).await.unwrap(),
        "catalog: not complete before complete_catalog"
    );

    // All or nothing: a duplicate refuses the whole batch.
    let retry = [
        catalog_item(&mbx, "new", Some("inbox"), Message),
        catalog_item(&mbx, "m03", Some("inbox"), Message),
    ];
    assert!(matches!(
        store.insert_catalog_items(&retry).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_catalog_item(&mbx, "new").await.unwrap(), None);
    let other = CatalogScope {
        resource_id: "other".into(),
        ..mbx.clone()
    };
    assert!(
        store
            .insert_catalog_items(&[catalog_item(&other, "x", None, File)])
            .await
            .is_err(),
        "catalog: the point must hold the resource"
    );
    let site = CatalogScope {
        resource_kind: ResourceKind::Site,
        ..mbx.clone()
    };
    assert!(
        store
            .insert_catalog_items(&[catalog_item(&site, "x", None, File)])
            .await
            .is_err(),
        "catalog: the point must hold the resource with that kind"
    );

    // The OneDrive's entries do not mix with the mailbox's, even with the same item id.
    let drive = [
        catalog_item(&od, "inbox", Some("drive-root"), Folder),
        catalog_item(&od, "f1", Some("drive-root"), File),
        catalog_item(&od, "f2", Some("inbox"), File),
        catalog_item(&od, "lib", None, Library),
        catalog_item(&od, "in-lib", Some("lib"), Folder),
    ];
    store.insert_catalog_items(&drive).await.unwrap();
    assert_eq!(
        store.get_catalog_item(&od, "inbox").await.unwrap(),
        Some(drive[0].clone()),
        "catalog: same item id, other resource kind"
    );
    assert_eq!(
        store
            .get_catalog_item(&mbx, "inbox")
            .await
            .unwrap()
            .map(|i| i.resource_kind),
        Some(ResourceKind::Mailbox)
    );
    assert_eq!(store.get_catalog_item(&mbx, "f1").await.unwrap(), None);

    // Keyset pages of a folder, in item id order.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_catalog_items(&CatalogQuery {
                kind: Some(Message),
                after: after.clone(),
                ..CatalogQuery::new(mbx.clone(), Some(Some("inbox".into())), 10)
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
    assert_eq!(seen, expected, "catalog: every message once, in order");
    assert_eq!(pages, 3, "catalog: 24 messages in pages of 10");

    // Offset pages: skip counts only entries of the kind asked.
    let skipped = store
        .list_catalog_items(&CatalogQuery {
            kind: Some(Message),
            skip: 20,
            ..CatalogQuery::new(mbx.clone(), Some(Some("inbox".into())), 3)
        })
        .await
        .unwrap();
    assert_eq!(ids(&skipped.items), ["m20", "m21", "m22"]);
    assert!(skipped.next.is_some(), "catalog: m23 follows");
    let last = store
        .list_catalog_items(&CatalogQuery {
            kind: Some(Message),
            skip: 22,
            ..CatalogQuery::new(mbx.clone(), Some(Some("inbox".into())), 3)
        })
        .await
        .unwrap();
    assert_eq!((ids(&last.items), last.next), (vec!["m22", "m23"], None));
    let subfolders = store
        .list_catalog_items(&CatalogQuery {
            kind: Some(Folder),
            ..CatalogQuery::new(mbx.clone(), Some(Some("inbox".into())), 100)
        })
        .await
        .unwrap();
    assert_eq!(ids(&subfolders.items), ["m05-sub"]);
    // Without a kind, every child, in order.
    let children = store
        .list_catalog_items(&CatalogQuery::new(
            mbx.clone(),
            Some(Some("inbox".into())),
            100,
        ))
        .await
        .unwrap();
    assert_eq!(children.items.len(), MESSAGES + 1);
    assert_eq!(children.items[6].item_id, "m05-sub");

    let top = store
        .list_catalog_items(&CatalogQuery::new(mbx.clone(), Some(None), 100))
        .await
        .unwrap();
    assert_eq!((ids(&top.items), top.next.is_none()), (vec!["inbox"], true));
    let all = store
        .list_catalog_items(&CatalogQuery::new(mbx.clone(), None, 100))
        .await
        .unwrap();
    assert_eq!(all.items.len(), MESSAGES + 2);
    let every_file = store
        .list_catalog_items(&CatalogQuery {
            kind: Some(File),
            ..CatalogQuery::new(od.clone(), None, 100)
        })
        .await
        .unwrap();
    assert_eq!(ids(&every_file.items), ["f1", "f2"]);

    let one = store.get_catalog_item(&mbx, "m07").await.unwrap();
    assert_eq!(
        one,
        batch.iter().find(|i| i.item_id == "m07").cloned(),
        "catalog: every field round-trips"
    );

    // Completing: parents that are no catalogued container (the drive's root) become None;
    // a folder in a library keeps the library as its parent.
    store.complete_catalog(&od).await.unwrap();
    assert!(store.catalog_complete(&od).await.unwrap());
    assert!(!store.catalog_complete(&mbx).await.unwrap());
    let parent = |id: &'static str| {
        let od = &od;
        async move {
            store
                .get_catalog_item(od, id)
                .await
                .unwrap()
                .and_then(|i| i.parent_id)
        }
    };
    assert_eq!(parent("inbox").await, None);
    assert_eq!(parent("f1").await, None);
    assert_eq!(parent("f2").await.as_deref(), Some("inbox"));
    assert_eq!(parent("in-lib").await.as_deref(), Some("lib"));
    let od_top = store
        .list_catalog_items(&CatalogQuery::new(od.clone(), Some(None), 100))
        .await
        .unwrap();
    assert_eq!(ids(&od_top.items), ["f1", "inbox", "lib"]);
    store.complete_catalog(&od).await.unwrap();
    assert!(
        store.complete_catalog(&other).await.is_err(),
        "catalog: only a resource the point holds is completed"
    );
    store.complete_catalog(&mbx).await.unwrap();
    assert_eq!(
        store
            .get_catalog_item(&mbx, "m00")
            .await
            .unwrap()
            .and_then(|i| i.parent_id)
            .as_deref(),
        Some("inbox"),
        "catalog: a message in a catalogued folder keeps it"
    );

    // Item-level retention resizes the OneDrive: its catalog goes, the mailbox's stays.
    assert!(store
        .set_restore_point_resource_size(p.id, ResourceKind::OneDrive, "user", 1, 10)
        .await
        .unwrap());
    assert!(!store.catalog_complete(&od).await.unwrap());
    assert_eq!(store.get_catalog_item(&od, "f2").await.unwrap(), None);
    assert!(store.catalog_complete(&mbx).await.unwrap());
    assert!(store.get_catalog_item(&mbx, "m07").await.unwrap().is_some());

    // Clearing drops the entries and the completion.
    store.clear_catalog(&mbx).await.unwrap();
    assert!(!store.catalog_complete(&mbx).await.unwrap());
    assert_eq!(
        store
            .list_catalog_items(&CatalogQuery::new(mbx.clone(), None, 100))
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    // Indexed again after a clear: nothing of the old entries conflicts.
    store.insert_catalog_items(&batch).await.unwrap();
    store.complete_catalog(&mbx).await.unwrap();

    assert!(store.delete_restore_point(p.id).await.unwrap());
    assert_eq!(
        store.get_catalog_item(&mbx, "m07").await.unwrap(),
        None,
        "catalog: goes with its restore point"
    );
    assert!(!store.catalog_complete(&mbx).await.unwrap());
}
