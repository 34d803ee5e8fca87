//! A bound on how long the engine waits for Microsoft 365 without a sign
//! of life. The connector has its own timeouts (per request, per stalled
//! download), but a call that never ends — a lost wakeup, a budget that
//! never refills, a task that died without a word — would otherwise hold
//! its unit, and the session with it, Running forever. Here every source
//! call and every page or chunk of a source stream must arrive within
//! [`SOURCE_IDLE_TIMEOUT`]; past it the unit fails with a message naming
//! what it was waiting for, which the session log shows.

use std::future::Future;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};

use crate::error::{SourceError, SourceErrorKind};

/// Longer than any wait the connector takes on purpose: a mailbox's spent
/// request budget waits for its next 10-minute window, a `Retry-After` is
/// at most minutes.
pub(crate) const SOURCE_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn stalled(what: &str, after: Duration) -> SourceError {
    let message = format!(
        "no answer from Microsoft 365 for {} s while {what}; giving up on this resource",
        after.as_secs()
    );
    tracing::warn!(%message, "a Microsoft 365 call stalled");
    SourceError::new(SourceErrorKind::Transient, message)
}

/// `call`, or a stall error after `after`.
pub(crate) async fn bounded<T>(
    after: Duration,
    what: impl FnOnce() -> String,
    call: impl Future<Output = Result<T, SourceError>>,
) -> Result<T, SourceError> {
    match tokio::time::timeout(after, call).await {
        Ok(result) => result,
        Err(_) => Err(stalled(&what(), after)),
    }
}

/// `inner`, ending with a stall error when its next element takes longer
/// than `after`.
pub(crate) fn bounded_stream<T: Send + 'static>(
    after: Duration,
    what: String,
    inner: BoxStream<'static, Result<T, SourceError>>,
) -> BoxStream<'static, Result<T, SourceError>> {
    stream::unfold(Some(inner), move |state| {
        let what = what.clone();
        async move {
            let mut inner = state?;
            match tokio::time::timeout(after, inner.next()).await {
                Ok(Some(item)) => Some((item, Some(inner))),
                Ok(None) => None,
                Err(_) => Some((Err(stalled(&what, after)), None)),
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_stops_answering_ends_with_a_stall_error() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<u32, SourceError>>(4);
        tx.send(Ok(1)).await.unwrap();
        let inner =
            stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed();
        let mut s = bounded_stream(Duration::from_secs(60), "reading drive d".into(), inner);
        assert_eq!(s.next().await.unwrap().unwrap(), 1);
        let started = tokio::time::Instant::now();
        // `tx` is still alive: without the bound this would wait forever.
        let err = s.next().await.unwrap().unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(60));
        assert_eq!(err.kind, SourceErrorKind::Transient);
        assert!(
            err.message.contains("for 60 s while reading drive d"),
            "{}",
            err.message
        );
        assert!(s.next().await.is_none(), "the stream ends after the stall");
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_returns_fails_after_the_bound() {
        let never = std::future::pending::<Result<(), SourceError>>();
        let err = bounded(
            Duration::from_secs(5),
            || "finding a OneDrive".into(),
            never,
        )
        .await
        .unwrap_err();
        assert!(
            err.message.contains("for 5 s while finding a OneDrive"),
            "{}",
            err.message
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_living_stream_is_not_cut() {
        let inner = stream::iter(0..3u32)
            .then(|n| async move {
                tokio::time::sleep(Duration::from_secs(50)).await;
                Ok(n)
            })
            .boxed();
        let got: Vec<u32> = bounded_stream(Duration::from_secs(60), "x".into(), inner)
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(got, vec![0, 1, 2]);
    }
}
