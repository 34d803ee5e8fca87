use openvbo_core::store::{AdminRecord, Store};

use super::fixtures::assert_conflict;

pub(super) async fn run(store: &dyn Store) {
    assert_eq!(
        store.admin_count().await.unwrap(),
        0,
        "admins: a fresh store has none"
    );
    assert_eq!(store.find_admin("Admin").await.unwrap(), None);

    let admin = AdminRecord {
        user_name: "Admin".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$one".into(),
    };
    store.create_admin(&admin).await.unwrap();
    assert_eq!(store.admin_count().await.unwrap(), 1);

    let found = store.find_admin("aDMIN").await.unwrap();
    assert_eq!(
        found.as_ref(),
        Some(&admin),
        "admins: lookup is case-insensitive and returns the name as created"
    );

    let clash = AdminRecord {
        user_name: "ADMIN".into(),
        password_hash: "$argon2id$other".into(),
    };
    assert_conflict(
        "admins: a name differing only in case",
        store.create_admin(&clash).await,
        "ADMIN",
    );
    assert_eq!(store.admin_count().await.unwrap(), 1);
    assert_eq!(
        store
            .find_admin("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        admin.password_hash,
        "admins: a refused creation changes nothing"
    );

    let second = AdminRecord {
        user_name: "operator".into(),
        password_hash: "$argon2id$two".into(),
    };
    store.create_admin(&second).await.unwrap();
    assert_eq!(store.admin_count().await.unwrap(), 2);

    assert!(
        !store
            .set_admin_password("nobody", "$argon2id$x")
            .await
            .unwrap(),
        "admins: changing the password of an unknown user reports false"
    );
    assert!(store
        .set_admin_password("OPERATOR", "$argon2id$three")
        .await
        .unwrap());
    assert_eq!(
        store
            .find_admin("operator")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$three"
    );
    assert_eq!(
        store
            .find_admin("admin")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        admin.password_hash,
        "admins: changing one password leaves the others"
    );
}
