use openvbo_core::store::{AccessGrant, RefreshOutcome, Store};

use super::fixtures::{assert_conflict, at, hash, session, token};

/// Expects the administrators "Admin" and "operator" to exist.
pub(super) async fn run(store: &dyn Store) {
    lookup(store).await;
    rotation(store).await;
    reuse_revokes_the_session(store).await;
    expiry(store).await;
    password_change_revokes_sessions(store).await;
    purge(store).await;
}

async fn lookup(store: &dyn Store) {
    let s = session("lookup", "Admin", at(60), at(600));
    store.insert_session(&s).await.unwrap();

    let grant = store
        .find_access_token(&s.access.hash, at(1))
        .await
        .unwrap();
    assert_eq!(
        grant,
        Some(AccessGrant {
            user_name: "Admin".into(),
            session_id: s.session_id,
            expires_at: at(60),
        }),
        "tokens: a fresh access token grants its session"
    );
    assert_eq!(
        store
            .find_access_token(&s.refresh.hash, at(1))
            .await
            .unwrap(),
        None,
        "tokens: a refresh token is not an access token"
    );
    assert_eq!(
        store
            .find_access_token(&hash("never-issued"), at(1))
            .await
            .unwrap(),
        None,
        "tokens: unknown access token"
    );

    let mut dup = session("other", "Admin", at(60), at(600));
    dup.access = s.access.clone();
    assert_conflict(
        "tokens: a session reusing a stored token hash",
        store.insert_session(&dup).await,
        "",
    );
    assert_eq!(
        store
            .find_access_token(&dup.refresh.hash, at(1))
            .await
            .unwrap(),
        None,
        "tokens: a refused session leaves nothing behind"
    );
    assert_eq!(
        store
            .rotate_refresh_token(
                &dup.refresh.hash,
                &token("x1", at(60)),
                &token("x2", at(600)),
                at(1)
            )
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: a refused session's refresh token was not stored"
    );
}

async fn rotation(store: &dyn Store) {
    let s = session("rotate", "Admin", at(60), at(600));
    store.insert_session(&s).await.unwrap();

    let access2 = token("rotate-access-2", at(120));
    let refresh2 = token("rotate-refresh-2", at(700));
    assert_eq!(
        store
            .rotate_refresh_token(&s.access.hash, &access2, &refresh2, at(10))
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: an access token cannot be used to refresh"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&hash("never-issued"), &access2, &refresh2, at(10))
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: unknown refresh token"
    );
    assert_eq!(
        store
            .find_access_token(&access2.hash, at(10))
            .await
            .unwrap(),
        None,
        "tokens: a refused rotation stores nothing"
    );

    assert_eq!(
        store
            .rotate_refresh_token(&s.refresh.hash, &access2, &refresh2, at(10))
            .await
            .unwrap(),
        RefreshOutcome::Rotated {
            user_name: "Admin".into()
        }
    );
    let grant = store
        .find_access_token(&access2.hash, at(11))
        .await
        .unwrap();
    assert_eq!(
        grant,
        Some(AccessGrant {
            user_name: "Admin".into(),
            session_id: s.session_id,
            expires_at: at(120),
        }),
        "tokens: the rotated access token belongs to the same session"
    );

    let access3 = token("rotate-access-3", at(180));
    let refresh3 = token("rotate-refresh-3", at(800));
    assert_eq!(
        store
            .rotate_refresh_token(&refresh2.hash, &access3, &refresh3, at(20))
            .await
            .unwrap(),
        RefreshOutcome::Rotated {
            user_name: "Admin".into()
        },
        "tokens: the chain continues with the new refresh token"
    );
}

async fn reuse_revokes_the_session(store: &dyn Store) {
    let s = session("reuse", "Admin", at(60), at(600));
    store.insert_session(&s).await.unwrap();
    let bystander = session("bystander", "Admin", at(60), at(600));
    store.insert_session(&bystander).await.unwrap();

    let access2 = token("reuse-access-2", at(120));
    let refresh2 = token("reuse-refresh-2", at(700));
    assert!(matches!(
        store
            .rotate_refresh_token(&s.refresh.hash, &access2, &refresh2, at(10))
            .await
            .unwrap(),
        RefreshOutcome::Rotated { .. }
    ));

    let stolen_access = token("reuse-access-3", at(120));
    let stolen_refresh = token("reuse-refresh-3", at(700));
    assert_eq!(
        store
            .rotate_refresh_token(&s.refresh.hash, &stolen_access, &stolen_refresh, at(11))
            .await
            .unwrap(),
        RefreshOutcome::Reused,
        "tokens: a used refresh token presented again"
    );
    for (label, h) in [
        ("first", &s.access.hash),
        ("rotated", &access2.hash),
        ("attempted", &stolen_access.hash),
    ] {
        assert_eq!(
            store.find_access_token(h, at(12)).await.unwrap(),
            None,
            "tokens: after reuse, the session's {label} access token must not grant anything"
        );
    }
    assert_eq!(
        store
            .rotate_refresh_token(
                &refresh2.hash,
                &token("a", at(60)),
                &token("r", at(600)),
                at(12)
            )
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: after reuse, the session's latest refresh token is gone too"
    );
    assert!(
        store
            .find_access_token(&bystander.access.hash, at(12))
            .await
            .unwrap()
            .is_some(),
        "tokens: revoking one session leaves other sessions of the user"
    );
}

async fn expiry(store: &dyn Store) {
    let s = session("expiry", "operator", at(60), at(600));
    store.insert_session(&s).await.unwrap();

    assert!(store
        .find_access_token(&s.access.hash, at(59))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .find_access_token(&s.access.hash, at(60))
            .await
            .unwrap(),
        None,
        "tokens: an access token is expired at its expiry instant"
    );
    assert_eq!(
        store
            .find_access_token(&s.access.hash, at(61))
            .await
            .unwrap(),
        None,
        "tokens: expired access token"
    );

    let access2 = token("expiry-access-2", at(700));
    let refresh2 = token("expiry-refresh-2", at(1200));
    for now in [at(600), at(601)] {
        assert_eq!(
            store
                .rotate_refresh_token(&s.refresh.hash, &access2, &refresh2, now)
                .await
                .unwrap(),
            RefreshOutcome::Expired,
            "tokens: expired refresh token (presenting it again is still just expired)"
        );
    }
    assert_eq!(
        store
            .find_access_token(&access2.hash, at(601))
            .await
            .unwrap(),
        None,
        "tokens: an expired refresh stores nothing"
    );
}

async fn password_change_revokes_sessions(store: &dyn Store) {
    let mine = session("pw-mine", "OPERATOR", at(60), at(600));
    let theirs = session("pw-theirs", "Admin", at(60), at(600));
    store.insert_session(&mine).await.unwrap();
    store.insert_session(&theirs).await.unwrap();

    assert!(store
        .set_admin_password("Operator", "$argon2id$four")
        .await
        .unwrap());
    assert_eq!(
        store
            .find_access_token(&mine.access.hash, at(1))
            .await
            .unwrap(),
        None,
        "tokens: a password change revokes the user's sessions, whatever the name's case"
    );
    assert_eq!(
        store
            .rotate_refresh_token(
                &mine.refresh.hash,
                &token("pw-a", at(60)),
                &token("pw-r", at(600)),
                at(1)
            )
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: a password change revokes the user's refresh tokens"
    );
    assert!(
        store
            .find_access_token(&theirs.access.hash, at(1))
            .await
            .unwrap()
            .is_some(),
        "tokens: a password change leaves other users' sessions"
    );
    assert!(
        !store
            .set_admin_password("nobody", "$argon2id$x")
            .await
            .unwrap(),
        "tokens: unknown user"
    );
}

/// Runs last among the token checks: it counts every token stored so far.
async fn purge(store: &dyn Store) {
    // Everything above expires at at(60) or later; these go further back.
    let old = session("purge-old", "Admin", at(-120), at(-60));
    let half = session("purge-half", "Admin", at(-120), at(-30));
    let boundary = session("purge-boundary", "Admin", at(-30), at(500));
    store.insert_session(&old).await.unwrap();
    store.insert_session(&half).await.unwrap();
    store.insert_session(&boundary).await.unwrap();

    assert_eq!(
        store.purge_expired_tokens(at(-30)).await.unwrap(),
        3,
        "tokens: purge removes exactly the tokens expired strictly before the instant"
    );
    assert_eq!(
        store
            .rotate_refresh_token(
                &old.refresh.hash,
                &token("p1", at(60)),
                &token("p2", at(600)),
                at(-200)
            )
            .await
            .unwrap(),
        RefreshOutcome::Unknown,
        "tokens: a purged refresh token is forgotten"
    );
    assert_eq!(
        store
            .rotate_refresh_token(
                &half.refresh.hash,
                &token("p3", at(60)),
                &token("p4", at(600)),
                at(-200)
            )
            .await
            .unwrap(),
        RefreshOutcome::Rotated {
            user_name: "Admin".into()
        },
        "tokens: a session keeps working while it still has an unexpired token"
    );
    assert!(
        store
            .find_access_token(&boundary.access.hash, at(-31))
            .await
            .unwrap()
            .is_some(),
        "tokens: a token expiring exactly at the purge instant is kept"
    );
    assert_eq!(
        store.purge_expired_tokens(at(-30)).await.unwrap(),
        0,
        "tokens: purging again finds nothing"
    );
}
