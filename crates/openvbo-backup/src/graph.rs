//! The sources on the real connector (`openvbo-m365`), reached through
//! discovery's Graph sessions (one per organization account, refreshed).
//!
//! The connector hands delta pages to a callback; here a task runs the
//! delta and forwards its pages to the engine's stream. The forwarding
//! channel is unbounded because the callback cannot wait: a folder's
//! message summaries (not their content) may queue while the engine
//! downloads — a known weakness, bounded by one folder's size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::Service;
use openvbo_core::OrganizationId;
use openvbo_m365::drive::ResourceUnits;
use openvbo_m365::mail::{Enumeration, MessageChange as GraphChange, MessageDeltaToken};
use openvbo_m365::{ErrorKind, GraphSession, M365Error};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::connector::GraphSessions;
use crate::error::{SourceError, SourceErrorKind};
use crate::graph_drive::GraphDrives;
use crate::source::{
    ByteStream, DeltaEvent, DriveSource, MailSource, MessageChange, MessageMeta, SourceFolder,
};
use crate::stall::{bounded, bounded_stream, SOURCE_IDLE_TIMEOUT};
use crate::worker::SourceProvider;

pub(crate) fn source_error(e: M365Error) -> SourceError {
    let kind = match e.kind {
        ErrorKind::Gone => SourceErrorKind::Gone,
        ErrorKind::NotFound => SourceErrorKind::NotFound,
        ErrorKind::Forbidden | ErrorKind::Unauthorized | ErrorKind::SignIn(_) => {
            SourceErrorKind::Forbidden
        }
        _ if e.is_transient() => SourceErrorKind::Transient,
        _ => SourceErrorKind::Other,
    };
    SourceError::new(kind, e.message)
}

pub(crate) fn unix(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(|t| t.unix_timestamp())
}

/// Mail through one Graph session.
pub struct GraphMail {
    session: Arc<GraphSession>,
}

#[async_trait]
impl MailSource for GraphMail {
    async fn folders(&self, mailbox: &str) -> Result<Vec<SourceFolder>, SourceError> {
        let folders = bounded(
            SOURCE_IDLE_TIMEOUT,
            || format!("listing the folders of mailbox {mailbox}"),
            async {
                self.session
                    .mail_folders(mailbox)
                    .await
                    .map_err(source_error)
            },
        )
        .await?;
        Ok(folders
            .into_iter()
            .map(|f| SourceFolder {
                id: f.id,
                parent: f.parent_folder_id,
                name: f.display_name,
                path: f.path,
                item_count: Some(f.total_item_count),
            })
            .collect())
    }

    async fn message_delta(
        &self,
        mailbox: &str,
        folder: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<MessageChange>, SourceError>>, SourceError>
    {
        let what = format!("reading the delta of folder {folder} of mailbox {mailbox}");
        let (tx, rx) = mpsc::unbounded_channel();
        let session = self.session.clone();
        let (mailbox, folder) = (mailbox.to_string(), folder.to_string());
        let since = since.map(|s| MessageDeltaToken(s.to_string()));
        let incremental = since.is_some();
        tokio::spawn(async move {
            let pages = tx.clone();
            let mut on_page = move |page: openvbo_m365::mail::DeltaPage| {
                let reset = incremental && page.enumeration == Enumeration::Full;
                let changes = page.changes.into_iter().map(convert).collect();
                pages
                    .send(Ok(DeltaEvent::Page { changes, reset }))
                    .map_err(|_| M365Error {
                        kind: ErrorKind::Protocol,
                        message: "the backup stopped reading this folder".into(),
                    })
            };
            let outcome = session
                .message_delta(&mailbox, &folder, since.as_ref(), &mut on_page)
                .await;
            let _ = tx.send(match outcome {
                Ok(o) => Ok(DeltaEvent::End { token: o.token.0 }),
                Err(e) => Err(source_error(e)),
            });
        });
        let pages =
            stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed();
        Ok(bounded_stream(SOURCE_IDLE_TIMEOUT, what, pages))
    }

    async fn message_mime(&self, mailbox: &str, message: &str) -> Result<ByteStream, SourceError> {
        let what = format!("downloading message {message} of mailbox {mailbox}");
        let mime = bounded(SOURCE_IDLE_TIMEOUT, || what.clone(), async {
            self.session
                .message_mime(mailbox, message)
                .await
                .map_err(source_error)
        })
        .await?;
        let chunks = stream::unfold(Some(mime), |state| async move {
            let mut mime = state?;
            match mime.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(mime))),
                Ok(None) => None,
                Err(e) => Some((Err(source_error(e)), None)),
            }
        })
        .boxed();
        Ok(bounded_stream(SOURCE_IDLE_TIMEOUT, what, chunks))
    }
}

fn convert(change: GraphChange) -> MessageChange {
    match change {
        GraphChange::Upsert(m) => {
            let modified = unix(m.last_modified_date_time.as_deref()).unwrap_or(0);
            MessageChange::Upsert(MessageMeta {
                change_key: m
                    .change_key
                    .clone()
                    .or_else(|| m.last_modified_date_time.clone())
                    .unwrap_or_default(),
                subject: m.subject.clone().unwrap_or_default(),
                sender: m.from.as_ref().and_then(|f| f.display()),
                size: 0,
                received: unix(m.received_date_time.as_deref()),
                sent: unix(m.sent_date_time.as_deref()),
                is_read: Some(m.is_read),
                modified,
                draft: m.is_draft,
                internet_message_id: m.internet_message_id.clone(),
                has_attachments: Some(m.has_attachments),
                id: m.id,
            })
        }
        GraphChange::Removed { id } => MessageChange::Removed { id },
    }
}

/// Sources of every organization, through discovery's sessions.
pub struct GraphSources {
    discovery: DiscoveryService,
    /// SharePoint resource units per tenant: every drive backup of an
    /// organization draws on one budget, as Microsoft counts them.
    units: Mutex<HashMap<OrganizationId, Arc<ResourceUnits>>>,
    /// Each organization's budget, per minute.
    units_per_minute: u32,
}

impl GraphSources {
    pub fn new(discovery: DiscoveryService) -> Self {
        GraphSources {
            discovery,
            units: Mutex::default(),
            units_per_minute: ResourceUnits::DEFAULT_PER_MINUTE,
        }
    }

    /// Lets drive backups of each organization spend `units` a minute (Microsoft's
    /// budget grows with the tenant's licences).
    pub fn with_drive_units(mut self, units: std::num::NonZeroU32) -> Self {
        self.units_per_minute = units.get();
        self
    }
}

#[async_trait]
impl SourceProvider for GraphSources {
    async fn mail(&self, organization: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError> {
        let session = self
            .discovery
            .graph_session(organization, Service::Exchange)
            .await
            .map_err(|e| SourceError::new(SourceErrorKind::Forbidden, e.to_string()))?;
        Ok(Arc::new(GraphMail { session }))
    }

    async fn drives(
        &self,
        organization: OrganizationId,
    ) -> Result<Arc<dyn DriveSource>, SourceError> {
        // Drives are SharePoint's: its account, its resource units.
        let session = self
            .discovery
            .graph_session(organization, Service::SharePoint)
            .await
            .map_err(|e| SourceError::new(SourceErrorKind::Forbidden, e.to_string()))?;
        let units = {
            let mut all = self
                .units
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            all.entry(organization)
                .or_insert_with(|| Arc::new(ResourceUnits::new(self.units_per_minute)))
                .clone()
        };
        Ok(Arc::new(GraphDrives::new(session, units)))
    }
}
