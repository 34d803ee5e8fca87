//! Core's [`MailWriter`] on the connector's mail API: folders listed and created, a folder's
//! messages read through a fresh delta round (ids and subjects only), messages created as
//! non-drafts with their original times (`openvbo_m365::mail::restore`), in the mailbox's
//! lane (Microsoft's per-mailbox concurrency).

use std::sync::Arc;

use openvbo_core::microsoft365::{M365Failure, PortFuture, Sink};
use openvbo_core::restore::writers::{
    AttachmentToWrite, LiveMailFolder, MailWriter, MessageToWrite, PresentMessage,
};
use openvbo_m365::mail::{DeltaPage, MailFolder, MessageChange, RestoreAttachment, RestoreMessage};
use openvbo_m365::{GraphSession, M365Error};

use crate::connector::failure;

pub(super) struct GraphMailWriter {
    graph: Arc<GraphSession>,
}

impl GraphMailWriter {
    pub(super) fn new(graph: Arc<GraphSession>) -> Self {
        Self { graph }
    }
}

fn live(folder: MailFolder) -> LiveMailFolder {
    LiveMailFolder {
        id: folder.id,
        path: folder.path,
    }
}

fn to_core(m: RestoreMessage) -> MessageToWrite {
    MessageToWrite {
        subject: m.subject,
        body: m.body,
        body_is_html: m.body_is_html,
        from: m.from,
        to: m.to,
        cc: m.cc,
        internet_message_id: m.internet_message_id,
        importance: m.importance,
        is_read: m.is_read,
        sent: m.sent,
        received: m.received,
        attachments: m
            .attachments
            .into_iter()
            .map(|a| AttachmentToWrite {
                name: a.name,
                content_type: a.content_type,
                bytes: a.bytes,
            })
            .collect(),
    }
}

// By value both ways: attachment bytes are moved, never copied.
fn to_connector(m: MessageToWrite) -> RestoreMessage {
    RestoreMessage {
        subject: m.subject,
        body: m.body,
        body_is_html: m.body_is_html,
        from: m.from,
        to: m.to,
        cc: m.cc,
        internet_message_id: m.internet_message_id,
        importance: m.importance,
        is_read: m.is_read,
        sent: m.sent,
        received: m.received,
        attachments: m
            .attachments
            .into_iter()
            .map(|a| RestoreAttachment {
                name: a.name,
                content_type: a.content_type,
                bytes: a.bytes,
            })
            .collect(),
    }
}

/// The messages of a delta page that core's skip rules can compare (those with an
/// Internet message id).
fn present(page: DeltaPage) -> Vec<PresentMessage> {
    page.changes
        .into_iter()
        .filter_map(|change| match change {
            MessageChange::Upsert(m) => m.internet_message_id.map(|id| PresentMessage {
                internet_message_id: id,
                subject: m.subject.unwrap_or_default(),
            }),
            MessageChange::Removed { .. } => None,
        })
        .collect()
}

impl MailWriter for GraphMailWriter {
    fn folders<'a>(&'a self, mailbox: &'a str) -> PortFuture<'a, Vec<LiveMailFolder>> {
        Box::pin(async move {
            let folders = self.graph.mail_folders(mailbox).await.map_err(failure)?;
            Ok(folders.into_iter().map(live).collect())
        })
    }

    fn create_folder<'a>(
        &'a self,
        mailbox: &'a str,
        parent: Option<&'a str>,
        name: &'a str,
    ) -> PortFuture<'a, LiveMailFolder> {
        Box::pin(async move {
            self.graph
                .create_mail_folder(mailbox, parent, name)
                .await
                .map(live)
                .map_err(failure)
        })
    }

    fn messages<'a>(
        &'a self,
        mailbox: &'a str,
        folder: &'a str,
        sink: Sink<'a, PresentMessage>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            // A sink's refusal travels through the connector as a stop signal and comes back
            // as it was.
            let mut refused: Option<M365Failure> = None;
            let mut on_page = |page: DeltaPage| {
                sink(present(page)).map_err(|e| {
                    refused = Some(e);
                    M365Error::too_large(0)
                })
            };
            let result = self
                .graph
                .message_delta(mailbox, folder, None, &mut on_page)
                .await;
            match refused {
                Some(refusal) => Err(refusal),
                None => result.map(|_| ()).map_err(failure),
            }
        })
    }

    fn parse(
        &self,
        mime: &[u8],
        is_read: bool,
        sent: Option<&str>,
        received: Option<&str>,
    ) -> Result<MessageToWrite, M365Failure> {
        RestoreMessage::from_mime(mime, is_read, sent, received)
            .map(to_core)
            .map_err(failure)
    }

    fn create_message<'a>(
        &'a self,
        mailbox: &'a str,
        folder: &'a str,
        message: Box<MessageToWrite>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let message = to_connector(*message);
            self.graph
                .restore_message(mailbox, folder, &message)
                .await
                .map(|_| ())
                .map_err(failure)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_round_trip_through_cores_record() {
        let message = RestoreMessage {
            subject: "Q3 plan".into(),
            body: "<p>hi</p>".into(),
            body_is_html: true,
            from: Some("a@contoso.com".into()),
            to: vec!["b@contoso.com".into()],
            cc: vec!["c@contoso.com".into()],
            internet_message_id: Some("<x@contoso.com>".into()),
            importance: Some("high".into()),
            is_read: true,
            sent: Some("2026-01-02T03:04:05Z".into()),
            received: Some("2026-01-02T03:04:06Z".into()),
            attachments: vec![RestoreAttachment {
                name: "a.bin".into(),
                content_type: "application/octet-stream".into(),
                bytes: vec![1, 2, 3],
            }],
        };
        assert_eq!(to_connector(to_core(message.clone())), message);
    }
}
