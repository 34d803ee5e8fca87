//! The HTTP surface, one module per resource.

mod accounts;
mod backup_data;
mod discovery;
mod encryption_keys;
mod fallback;
mod job_sessions;
mod jobs;
mod licensed_users;
mod object_storage;
mod openapi;
mod organizations;
mod proxies;
mod repositories;
mod repositories_sync;
pub(crate) mod restore;
mod restore_points;
mod service_instance;

pub(crate) use organizations::ListBodies;
pub use service_instance::COMPATIBLE_VERSION;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Paths are declared in their canonical lower-case form; see `paths`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/v6/token", post(token::issue))
        .route(
            "/v6/organizations",
            get(organizations::list).post(organizations::add),
        )
        .route(
            "/v6/organizations/{organization_id}",
            get(organizations::get_one)
                .put(organizations::update)
                .delete(organizations::remove),
        )
        .route(
            "/v6/organizations/{organization_id}/users",
            get(discovery::users),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}",
            get(discovery::user),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}/onedrives",
            get(discovery::onedrives),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}/onedrives/{onedrive_id}",
            get(discovery::onedrive),
        )
        .route(
            "/v6/organizations/{organization_id}/groups",
            get(discovery::groups),
        )
        .route(
            "/v6/organizations/{organization_id}/groups/{group_id}",
            get(discovery::group),
        )
        .route(
            "/v6/organizations/{organization_id}/groups/{group_id}/members",
            get(discovery::members),
        )
        .route(
            "/v6/organizations/{organization_id}/sites",
            get(discovery::sites),
        )
        .route(
            "/v6/organizations/{organization_id}/sites/{site_id}",
            get(discovery::site),
        )
        .route(
            "/v6/organizations/{organization_id}/teams",
            get(discovery::teams),
        )
        .route(
            "/v6/organizations/{organization_id}/teams/{team_id}",
            get(discovery::team),
        )
        .route(
            "/v6/organizations/{organization_id}/licensinginformation",
            get(discovery::licensing),
        )
        .route(
            "/v6/organizations/{organization_id}/jobs",
            get(jobs::list_of_organization).post(jobs::add),
        )
        .route("/v6/jobs", get(jobs::list))
        .route(
            "/v6/jobs/{job_id}",
            get(jobs::get_one).put(jobs::update).delete(jobs::remove),
        )
        .route("/v6/jobs/{job_id}/enable", post(jobs::enable))
        .route("/v6/jobs/{job_id}/disable", post(jobs::disable))
        .route("/v6/jobs/{job_id}/start", post(jobs::start))
        .route("/v6/jobs/{job_id}/stop", post(jobs::stop))
        .route(
            "/v6/jobs/{job_id}/selecteditems",
            get(jobs::selected)
                .post(jobs::add_selected)
                .delete(jobs::remove_selected),
        )
        .route(
            "/v6/jobs/{job_id}/selecteditems/{item_id}",
            get(jobs::selected_one).put(jobs::update_selected),
        )
        .route(
            "/v6/jobs/{job_id}/excludeditems",
            get(jobs::excluded)
                .post(jobs::add_excluded)
                .delete(jobs::remove_excluded),
        )
        .route(
            "/v6/jobs/{job_id}/excludeditems/{item_id}",
            get(jobs::excluded_one).put(jobs::update_excluded),
        )
        .route(
            "/v6/jobs/{job_id}/jobsessions",
            get(job_sessions::list_of_job),
        )
        .route("/v6/jobsessions", get(job_sessions::list))
        .route("/v6/jobsessions/{session_id}", get(job_sessions::get_one))
        .route(
            "/v6/jobsessions/{session_id}/logitems",
            get(job_sessions::log_items),
        )
        .route(
            "/v6/jobsessions/{session_id}/logitems/{log_item_id}",
            get(job_sessions::log_item),
        )
        .route("/v6/restorepoints", get(restore_points::list))
        .route("/v6/restorepoints/{point_id}", get(restore_points::get_one))
        .route(
            "/v6/restorepoints/{point_id}/mailboxes",
            get(restore_points::mailboxes),
        )
        .route(
            "/v6/restorepoints/{point_id}/onedrives",
            get(restore_points::onedrives),
        )
        .route(
            "/v6/restorepoints/{point_id}/webs",
            get(restore_points::webs),
        )
        .route(
            "/v6/restorepoints/{point_id}/teams",
            get(restore_points::teams),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/userdata",
            get(backup_data::users),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/userdata/{user_id}",
            get(backup_data::user),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/mailboxdata",
            get(backup_data::mailboxes),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/mailboxdata/{mailbox_id}",
            get(backup_data::mailbox),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/onedrivedata",
            get(backup_data::onedrives),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/onedrivedata/{onedrive_id}",
            get(backup_data::onedrive),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/sitedata",
            get(backup_data::sites),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/sitedata/{site_id}",
            get(backup_data::site),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/organizationdata",
            get(backup_data::organizations),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/organizationdata/{organization_id}",
            get(backup_data::organization),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/backeduporganizations",
            get(backup_data::backed_up_organizations),
        )
        .route(
            "/v6/organizations/{organization_id}/usedrepositories",
            get(backup_data::used_repositories),
        )
        .route("/v6/licensedusers", get(backup_data::licensed_users))
        .route(
            "/v6/licensedusers/{licensed_user_id}",
            axum::routing::delete(licensed_users::remove),
        )
        .route("/v6/proxies", get(proxies::list))
        .route("/v6/proxies/{proxy_id}", get(proxies::get_one))
        .route(
            "/v6/backuprepositories",
            get(repositories::list).post(repositories::add),
        )
        .route(
            "/v6/backuprepositories/{repository_id}",
            get(repositories::get_one)
                .put(repositories::update)
                .delete(repositories::remove),
        )
        .route(
            "/v6/backuprepositories/{repository_id}/sync",
            post(repositories_sync::start),
        )
        .route(
            "/v6/repositorysynchronizesessions",
            get(repositories_sync::list),
        )
        .route(
            "/v6/repositorysynchronizesessions/{session_id}",
            get(repositories_sync::get_one),
        )
        .route(
            "/v6/repositorysynchronizesessions/{session_id}/stopsynchronize",
            post(repositories_sync::stop),
        )
        .route("/v6/accounts", get(accounts::list).post(accounts::add))
        .route(
            "/v6/accounts/{account_id}",
            get(accounts::get_one)
                .put(accounts::update)
                .delete(accounts::remove),
        )
        .route(
            "/v6/objectstoragerepositories",
            get(object_storage::list).post(object_storage::add),
        )
        .route(
            "/v6/objectstoragerepositories/{repository_id}",
            get(object_storage::get_one)
                .put(object_storage::update)
                .delete(object_storage::remove),
        )
        .route(
            "/v6/s3compatibleresources/buckets",
            get(object_storage::buckets),
        )
        .route(
            "/v6/s3compatibleresources/buckets/{bucket}",
            get(object_storage::bucket),
        )
        .route(
            "/v6/s3compatibleresources/buckets/{bucket}/folders",
            get(object_storage::folders).post(object_storage::add_folder),
        )
        .route(
            "/v6/s3compatibleresources/buckets/{bucket}/folders/{name}",
            get(object_storage::folder),
        )
        .route(
            "/v6/encryptionkeys",
            get(encryption_keys::list).post(encryption_keys::add),
        )
        .route(
            "/v6/encryptionkeys/{key_id}",
            get(encryption_keys::get_one).delete(encryption_keys::remove),
        )
        .route("/v6/serviceinstance", get(service_instance::get))
        .route("/swagger/docs/v6", get(openapi::document))
        .merge(restore::routes())
        .fallback(fallback::not_routed)
        .method_not_allowed_fallback(fallback::not_routed)
        // Around every route and both fallbacks: nothing answers anonymously
        // but what `authn::PUBLIC` lists.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::authn::require_token,
        ))
        .with_state(state)
}
