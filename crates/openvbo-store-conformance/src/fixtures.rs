//! Values the checks are built from.

use openvbo_core::crypto::SealedSecret;
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::store::{IssuedToken, NewSession, StoreError, TokenHash};
use openvbo_core::{OrganizationId, Region, Upn};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A fixed instant with a millisecond part, so precision loss shows.
pub(super) fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_704_067_200_123_000_000).unwrap()
}

pub(super) fn at(minutes: i64) -> OffsetDateTime {
    t0() + Duration::minutes(minutes)
}

pub(super) fn hash(label: &str) -> TokenHash {
    // Shaped like the real thing (64 hex digits) but readable in failures.
    let hex: String = label.bytes().map(|b| format!("{b:02x}")).collect();
    TokenHash(format!("{hex:0>64}"))
}

pub(super) fn token(label: &str, expires_at: OffsetDateTime) -> IssuedToken {
    IssuedToken {
        hash: hash(label),
        expires_at,
    }
}

/// A session whose tokens are `<label>-access` and `<label>-refresh`.
pub(super) fn session(
    label: &str,
    user_name: &str,
    access_expires: OffsetDateTime,
    refresh_expires: OffsetDateTime,
) -> NewSession {
    NewSession {
        session_id: Uuid::new_v4(),
        user_name: user_name.to_owned(),
        issued_at: at(0),
        access: token(&format!("{label}-access"), access_expires),
        refresh: token(&format!("{label}-refresh"), refresh_expires),
    }
}

pub(super) fn account(upn: &str, secret: &[u8]) -> ServiceAccount {
    ServiceAccount {
        account: Upn::parse(upn).unwrap(),
        password: SealedSecret::from_bytes(secret.to_vec()),
        grant_admin_access: true,
        use_custom_veeam_aad_application: false,
        share_point_save_all_web_parts: true,
    }
}

/// An organization with both accounts, created at `created_at`.
pub(super) fn organization(name: &str, created_at: OffsetDateTime) -> Organization {
    let domain = format!("{name}.onmicrosoft.com");
    Organization {
        id: OrganizationId::new_random(),
        tenant_id: Uuid::new_v4().to_string(),
        name: domain.clone(),
        office_name: domain.clone(),
        display_name: format!("{name} — Ünïcode Ltd."),
        region: Region::Worldwide,
        exchange: Some(account(&format!("exchange@{domain}"), &[1, 0, 255, 7])),
        sharepoint: Some(account(&format!("SharePoint@{domain}"), &[1, 2, 3])),
        is_teams_online: true,
        is_teams_chats_online: false,
        revision: 1,
        created_at,
        updated_at: created_at,
    }
}

/// Panics unless `result` is a conflict whose message contains `needle`;
/// returns the message.
pub(super) fn assert_conflict<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
    needle: &str,
) -> String {
    match result {
        Err(StoreError::Conflict(message)) => {
            assert!(
                message.contains(needle),
                "{what}: conflict message {message:?} should mention {needle:?}"
            );
            message
        }
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}
