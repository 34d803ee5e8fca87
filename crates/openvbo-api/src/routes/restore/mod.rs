//! `/v6/…/explore` and `/v6/RestoreSessions/…`: restore sessions and what they show.
//!
//! - `sessions.rs`: explore, list, get, stop, events, the session's organization;
//! - `exchange.rs`: mailboxes, folders and items of a `Vex` session;
//! - `exchange_actions.rs`: saving messages (MSG, EML, zip) and restoring them
//!   (`msg_export.rs`: a big message's `.msg` built in a temporary file);
//! - `repo_content.rs`: the repository behind the catalog and the saves;
//! - `drive_area.rs` (with `drive_tree.rs`, `drive_content.rs`): what OneDrives and document
//!   libraries share — folder and document listings, saves, restores — as one route table;
//! - `onedrive.rs`: OneDrives of a `Veod` session, and copies to another OneDrive
//!   (`onedrive/bulk.rs`: several OneDrives restored at once);
//! - `sharepoint.rs`: sites and document libraries of a `Vesp` session, and `restoreTo`;
//! - `views.rs`: the v6 shapes (`RESTRestoreSession`, events, pages).
//!
//! Operations of the area not implemented yet (PST export, sends, searches, SharePoint lists
//! and items, versions, Teams) fall through to the router's fallback, which answers 501
//! naming the operation.

mod exchange;
mod exchange_actions;
mod msg_export;
mod repo_content;
mod sessions;
mod views;
// OneDrive (`Veod`) and SharePoint (`Vesp`): browse, save, restore, copy.
mod drive_area;
mod drive_catalog;
mod drive_content;
mod drive_tree;
mod onedrive;
mod sharepoint;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use openvbo_core::clock::SharedClock;
use openvbo_core::restore::content::CatalogIndexer;
use openvbo_core::restore::credentials::RestoreAccess;
use openvbo_core::restore::RestoreSessions;
use openvbo_core::store::Store;

use crate::state::AppState;

/// What the restore routes need beyond the shared services.
pub(crate) struct RestoreState {
    pub sessions: RestoreSessions,
    pub store: Arc<dyn Store>,
    /// Fills each shown resource's catalog from its repository on first use.
    pub indexer: CatalogIndexer,
    /// Signs restores in and gives the writers they write through.
    pub access: RestoreAccess,
    /// Where `.msg` files of big messages are built (the data dir's `tmp`).
    pub temp_dir: std::path::PathBuf,
    /// The configured SharePoint resource units per minute of an organization's drive
    /// restores (`None`: the connector's default); read through [`Self::drive_units`].
    drive_units_per_minute: Option<NonZeroU32>,
}

impl RestoreState {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        idle: Duration,
        access: RestoreAccess,
        temp_dir: std::path::PathBuf,
        drive_units_per_minute: Option<NonZeroU32>,
    ) -> Arc<Self> {
        Arc::new(Self {
            sessions: RestoreSessions::new(store.clone(), clock, idle),
            store,
            indexer: CatalogIndexer::default(),
            access,
            temp_dir,
            drive_units_per_minute,
        })
    }

    /// The units per minute every OneDrive and SharePoint restore asks its organization's
    /// budget to be made with (the single, copy and bulk restores alike).
    pub(crate) fn drive_units(&self) -> Option<u32> {
        self.drive_units_per_minute.map(NonZeroU32::get)
    }
}

const SESSION: &str = "/v6/restoresessions/{session_id}";
const MAILBOX: &str = "/v6/restoresessions/{session_id}/organization/mailboxes/{mailbox_id}";

/// Paths in their canonical lower-case form (see `paths`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v6/organizations/{organization_id}/explore",
            post(sessions::explore_organization),
        )
        .route("/v6/jobs/{job_id}/explore", post(sessions::explore_job))
        .route("/v6/restoresessions", get(sessions::list))
        .route(SESSION, get(sessions::get_one))
        .route(&format!("{SESSION}/stop"), post(sessions::stop))
        .route(&format!("{SESSION}/events"), get(sessions::events))
        .route(
            &format!("{SESSION}/events/{{event_id}}"),
            get(sessions::event),
        )
        .route(
            &format!("{SESSION}/organization"),
            get(sessions::organization),
        )
        .route(
            &format!("{SESSION}/organization/mailboxes"),
            get(exchange::mailboxes),
        )
        .route(MAILBOX, get(exchange::mailbox))
        .route(&format!("{MAILBOX}/folders"), get(exchange::folders))
        .route(
            &format!("{MAILBOX}/folders/{{folder_id}}"),
            get(exchange::folder),
        )
        .route(&format!("{MAILBOX}/items"), get(exchange::items))
        .route(&format!("{MAILBOX}/items/{{item_id}}"), get(exchange::item))
        .route(
            &format!("{MAILBOX}/items/{{item_id}}/save"),
            post(exchange_actions::save_item),
        )
        .route(
            &format!("{MAILBOX}/items/save"),
            post(exchange_actions::save_items),
        )
        .route(
            &format!("{MAILBOX}/items/restore"),
            post(exchange_actions::restore_items::<false>),
        )
        .route(
            &format!("{MAILBOX}/items/restoreto"),
            post(exchange_actions::restore_items::<true>),
        )
        .route(
            &format!("{MAILBOX}/items/{{item_id}}/restore"),
            post(exchange_actions::restore_item::<false>),
        )
        .route(
            &format!("{MAILBOX}/items/{{item_id}}/restoreto"),
            post(exchange_actions::restore_item::<true>),
        )
        .route(
            &format!("{MAILBOX}/folders/{{folder_id}}/restore"),
            post(exchange_actions::restore_folder::<false>),
        )
        .route(
            &format!("{MAILBOX}/folders/{{folder_id}}/restoreto"),
            post(exchange_actions::restore_folder::<true>),
        )
        .route(
            &format!("{MAILBOX}/restore"),
            post(exchange_actions::restore_mailbox::<false>),
        )
        .route(
            &format!("{MAILBOX}/restoreto"),
            post(exchange_actions::restore_mailbox::<true>),
        )
        .route(
            &format!("{SESSION}/organization/mailboxes/restore"),
            post(exchange_actions::restore_mailboxes),
        )
        .merge(onedrive::routes())
        .merge(sharepoint::routes())
}
