//! Catalog pages in path order (`CatalogOrder::Path`): folder path compared name by name,
//! then name, then id, for every shape a drive is browsed with (a folder's children, the
//! top level, a site's top level through its libraries, the whole tree), with offsets and
//! keyset cursors.

use openvbo_core::backup::{
    CatalogCursor, CatalogItem, CatalogItemKind, CatalogOrder, CatalogQuery, CatalogScope, Job,
    ResourceKind,
};
use openvbo_core::store::Store;

use super::super::fixtures::at;
use super::fixtures::{catalog_item, point, resource};

fn entry(
    scope: &CatalogScope,
    id: &str,
    parent: Option<&str>,
    kind: CatalogItemKind,
    path: &str,
    name: &str,
) -> CatalogItem {
    CatalogItem {
        path: path.into(),
        name: name.into(),
        ..catalog_item(scope, id, parent, kind)
    }
}

fn ids(items: &[CatalogItem]) -> Vec<&str> {
    items.iter().map(|i| i.item_id.as_str()).collect()
}

fn query(
    scope: &CatalogScope,
    parent: Option<Option<&str>>,
    kind: CatalogItemKind,
    limit: u64,
) -> CatalogQuery {
    CatalogQuery {
        kind: Some(kind),
        order: CatalogOrder::Path,
        ..CatalogQuery::new(scope.clone(), parent.map(|p| p.map(str::to_owned)), limit)
    }
}

pub(super) async fn run(store: &dyn Store, job: &Job) {
    use CatalogItemKind::{File, Folder, Library};
    let p = point(job, at(600));
    store.insert_restore_point(&p).await.unwrap();
    store
        .add_restore_point_resource(&resource(p.id, ResourceKind::Site, "site", "Projects"))
        .await
        .unwrap();
    let site = CatalogScope {
        restore_point_id: p.id,
        resource_kind: ResourceKind::Site,
        resource_id: "site".into(),
    };
    // Ids run against the path order, so that an id order would show.
    let batch = [
        entry(&site, "z-lib-a", None, Library, "/Archive", "Archive"),
        entry(&site, "y-lib-d", None, Library, "/Documents", "Documents"),
        entry(&site, "f9", Some("y-lib-d"), Folder, "/Specs", "Specs"),
        entry(&site, "f8", Some("f9"), Folder, "/Specs/Q3", "Q3"),
        // '/' sorts below ' ': the subtree of /Specs comes before "/Specs copy".
        entry(
            &site,
            "f7",
            Some("y-lib-d"),
            Folder,
            "/Specs copy",
            "Specs copy",
        ),
        entry(&site, "f6", Some("z-lib-a"), Folder, "/2019", "2019"),
        entry(&site, "f5", Some("f8"), Folder, "/Specs/Q3/Deep", "Deep"),
        // Two folders of the same path (two libraries): then by id.
        entry(&site, "f4", Some("z-lib-a"), Folder, "/Specs", "Specs"),
        entry(&site, "d9", Some("y-lib-d"), File, "", "readme.txt"),
        entry(&site, "d8", Some("z-lib-a"), File, "", "index.txt"),
        entry(&site, "d7", Some("f9"), File, "/Specs", "b.txt"),
        entry(&site, "d6", Some("f9"), File, "/Specs", "a.txt"),
        entry(&site, "d5", Some("f8"), File, "/Specs/Q3", "report.txt"),
        entry(&site, "d4", Some("f9"), File, "/Specs", "a.txt"),
        entry(&site, "d3", None, File, "", "loose.txt"),
    ];
    store.insert_catalog_items(&batch).await.unwrap();
    let list = |q: CatalogQuery| async move { store.list_catalog_items(&q).await.unwrap() };
    let partial = list(query(&site, None, Folder, 100)).await;
    assert_eq!(
        (partial.items.len(), partial.complete),
        (6, false),
        "catalog: a page of a catalog not yet complete says so"
    );
    store.complete_catalog(&site).await.unwrap();
    let tree = list(query(&site, None, Folder, 100)).await;
    assert_eq!(
        ids(&tree.items),
        ["f6", "f4", "f9", "f8", "f5", "f7"],
        "catalog: folders by path name by name, then id"
    );
    assert!(
        tree.complete,
        "catalog: a page of a complete catalog says so"
    );
    let in_specs = list(query(&site, Some(Some("f9")), File, 100)).await;
    assert_eq!(
        ids(&in_specs.items),
        ["d4", "d6", "d7"],
        "catalog: a folder's files by name, then id"
    );
    let every_file = list(query(&site, None, File, 100)).await;
    assert_eq!(
        ids(&every_file.items),
        ["d8", "d3", "d9", "d4", "d6", "d7", "d5"],
        "catalog: every file by folder path, then name"
    );
    let top = list(query(&site, Some(None), File, 100)).await;
    assert_eq!(ids(&top.items), ["d3"], "catalog: only what has no parent");
    let through = |kind, skip, limit| {
        let mut q = query(&site, Some(None), kind, limit);
        q.through_libraries = true;
        q.skip = skip;
        q
    };
    let site_top = list(through(Folder, 0, 100)).await;
    assert_eq!(
        ids(&site_top.items),
        ["f6", "f4", "f9", "f7"],
        "catalog: a site's top level is its libraries' top levels, in path order"
    );
    let site_files = list(through(File, 0, 100)).await;
    assert_eq!(ids(&site_files.items), ["d8", "d3", "d9"]);
    let window = list(through(Folder, 1, 2)).await;
    assert_eq!(ids(&window.items), ["f4", "f9"]);
    assert!(window.next.is_some(), "catalog: f7 follows the window");
    let in_library = list(query(&site, Some(Some("y-lib-d")), Folder, 100)).await;
    assert_eq!(ids(&in_library.items), ["f9", "f7"]);

    // Offset windows of every size cover the tree once, in order.
    let expected = ids(&every_file.items).join(",");
    for size in 1..=4u64 {
        let mut seen = Vec::new();
        let mut skip = 0;
        loop {
            let mut q = query(&site, None, File, size);
            q.skip = skip;
            let page = list(q).await;
            assert!(page.items.len() as u64 <= size);
            seen.extend(page.items.iter().map(|i| i.item_id.clone()));
            skip += size;
            if page.next.is_none() {
                break;
            }
            assert!(skip < 100, "catalog: offset paging must end");
        }
        assert_eq!(seen.join(","), expected, "catalog: windows of {size}");
    }
    // Keyset pages go on after the cursor's key in path order.
    let mut seen = Vec::new();
    let mut after: Option<CatalogCursor> = None;
    loop {
        let mut q = query(&site, None, File, 3);
        q.after = after.clone();
        let page = list(q).await;
        seen.extend(page.items.iter().map(|i| i.item_id.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(seen.len() < 100, "catalog: keyset paging must end");
    }
    assert_eq!(
        seen.join(","),
        expected,
        "catalog: keyset pages in path order"
    );
    let gone = {
        let mut q = query(&site, None, File, 3);
        q.after = Some(CatalogCursor("no-such-item".into()));
        list(q).await
    };
    assert_eq!(
        (gone.items.len(), gone.next),
        (0, None),
        "catalog: an unknown cursor ends the listing, it does not restart it"
    );
    // Item id order is still the default.
    let by_id = list(CatalogQuery {
        kind: Some(Folder),
        ..CatalogQuery::new(site.clone(), None, 100)
    })
    .await;
    assert_eq!(ids(&by_id.items), ["f4", "f5", "f6", "f7", "f8", "f9"]);

    // Cleared (an item-level clean-up): pages say the catalog is not complete.
    store.clear_catalog(&site).await.unwrap();
    let cleared = list(query(&site, None, Folder, 100)).await;
    assert_eq!((cleared.items.len(), cleared.complete), (0, false));

    assert!(store.delete_restore_point(p.id).await.unwrap());
}
