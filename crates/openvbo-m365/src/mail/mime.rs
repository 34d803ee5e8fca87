//! A message's MIME (`$value`) as a stream of chunks.

use bytes::Bytes;
use reqwest::Method;

use crate::error::{transport_error, M365Error};
use crate::graph::GraphSession;
use crate::limits::Permit;
use crate::mail::http::Payload;

/// The bytes of one message, read chunk by chunk. Holds the mailbox's
/// concurrency slot until the end (or until dropped).
pub struct MimeStream {
    response: reqwest::Response,
    host: String,
    timeout: std::time::Duration,
    permit: Option<Permit>,
}

impl std::fmt::Debug for MimeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MimeStream")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl MimeStream {
    /// The size Microsoft announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next chunk, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, M365Error> {
        match self.response.chunk().await {
            Ok(Some(chunk)) => Ok(Some(chunk)),
            Ok(None) => {
                self.permit = None;
                Ok(None)
            }
            Err(e) => {
                self.permit = None;
                Err(transport_error(&e, &self.host, self.timeout))
            }
        }
    }
}

impl GraphSession {
    /// The message's RFC 5322 bytes as Microsoft stores them.
    pub async fn message_mime(
        &self,
        mailbox: &str,
        message_id: &str,
    ) -> Result<MimeStream, M365Error> {
        let url = self.graph_url(&["users", mailbox, "messages", message_id, "$value"], &[])?;
        let lane = self.mail_lane(mailbox);
        let held = self
            .mail_send(&lane, Method::GET, &url, &Payload::None, None)
            .await?;
        Ok(MimeStream {
            response: held.response,
            host: crate::signin::host_of(&url),
            timeout: self.client().settings.content_timeout,
            permit: Some(held.permit),
        })
    }
}
