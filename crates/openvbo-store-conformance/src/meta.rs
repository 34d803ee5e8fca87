use openvbo_core::store::Store;

pub(super) async fn run(store: &dyn Store) {
    assert_eq!(
        store.meta_get("key-check").await.unwrap(),
        None,
        "meta: a fresh store has no metadata"
    );
    let first = store
        .meta_get_or_insert("key-check", b"\x01first")
        .await
        .unwrap();
    assert_eq!(
        first, b"\x01first",
        "meta: a new key stores the given value"
    );

    let again = store
        .meta_get_or_insert("key-check", b"second")
        .await
        .unwrap();
    assert_eq!(
        again, b"\x01first",
        "meta: an existing key keeps its first value"
    );

    assert_eq!(
        store.meta_get("key-check").await.unwrap().as_deref(),
        Some(&b"\x01first"[..]),
        "meta: meta_get reads what was stored"
    );

    let other = store.meta_get_or_insert("other", b"").await.unwrap();
    assert!(
        other.is_empty(),
        "meta: keys are independent; empty values allowed"
    );
    let other = store.meta_get_or_insert("other", b"x").await.unwrap();
    assert!(other.is_empty(), "meta: an empty value is still a value");
    assert_eq!(store.meta_get("other").await.unwrap(), Some(Vec::new()));
    assert_eq!(store.meta_get("never").await.unwrap(), None);
}
