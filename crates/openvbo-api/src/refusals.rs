//! hyper answers what it cannot parse — bad syntax (400), a URI too long
//! (414), too many or too large headers (431) — itself, before any service
//! sees the request, with an empty body. This wrapper of a connection's byte
//! stream gives those answers the `{"message"}` body every other refusal
//! has. It recognises them by their shape: a head alone, status 400, 414 or
//! 431, and no header but the few hyper writes (our own refusals always
//! carry a JSON body and its content type, so they never match).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub(crate) struct JsonRefusals<S> {
    inner: S,
    /// A rewritten answer still being written, and how much of the
    /// caller's buffer it stands for.
    pending: Option<Pending>,
}

struct Pending {
    bytes: Vec<u8>,
    written: usize,
    consumed: usize,
}

impl<S> JsonRefusals<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// hyper's own refusal in `buf`, rewritten with a body; `None` otherwise.
fn rewritten(buf: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(buf).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?;
    let (code, message) = match rest.get(..3)? {
        "400" => ("400 Bad Request", "the request is not valid HTTP"),
        "414" => ("414 URI Too Long", "the request URI is too long"),
        "431" => (
            "431 Request Header Fields Too Large",
            "the request has too many headers, or headers too large",
        ),
        _ => return None,
    };
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" if value.trim() == "0" => {}
            "connection" | "date" => {}
            _ => return None,
        }
    }
    let body = serde_json::json!({ "message": message }).to_string();
    Some(
        format!(
            "HTTP/1.1 {code}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\nserver: openvbo\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match rewritten(buf) {
                Some(bytes) => {
                    this.pending = Some(Pending {
                        bytes,
                        written: 0,
                        consumed: buf.len(),
                    })
                }
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // The caller repeats the same buffer until it hears back.
        while let Some(p) = this.pending.as_mut() {
            let rest = p.bytes.get(p.written..).unwrap_or_default();
            if rest.is_empty() {
                let consumed = p.consumed;
                this.pending = None;
                return Poll::Ready(Ok(consumed));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            p.written += n;
        }
        Poll::Ready(Ok(0))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A head written alone may be a refusal; anything else passes.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next()) {
            return self.poll_write(cx, only);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_hypers_own_bodiless_refusals_are_rewritten() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 02:00:00 GMT\r\n\r\n";
        let text = String::from_utf8(rewritten(hyper).unwrap()).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["message"].as_str().unwrap().contains("headers"));
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"\x00\x00\x08\x06\x00\x00\x00\x00\x00",
        ] {
            assert!(rewritten(other).is_none(), "{:?}", String::from_utf8_lossy(other));
        }
    }
}
