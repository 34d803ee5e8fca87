//! Reading ahead: while the repository stores one item of a resource, the
//! next few are already downloading, so a mailbox keeps up to Microsoft's
//! four requests in flight instead of one (at 50 ms of latency a request at
//! a time caps a mailbox at 20 messages/s, whatever the machine).
//!
//! Items are still stored one at a time and in delta order, so checkpoints
//! and crash-resume mean what they did: an item counts as stored once the
//! writer has it. Memory stays bounded: an item read ahead of its turn is
//! held in memory only up to [`AHEAD_BUDGET`]; past that it lets go of its
//! download (and of its request slot) and reads again when its turn comes,
//! and one whose size is known to be larger waits for its turn before
//! asking at all. Only the item being stored streams with backpressure.
//!
//! Why not simply stall an early item until its turn: it would hold one of
//! the mailbox's (or the tenant's) request slots while waiting, and two
//! backups waiting on each other's slots never finish. Here a download that
//! is not being stored never waits for anything but Microsoft.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use tokio::sync::{mpsc, oneshot};

use crate::error::{SourceError, SourceErrorKind};
use crate::source::ByteStream;

/// Items in flight per resource: the item being stored and those behind
/// it. Microsoft allows four concurrent requests per mailbox (the connector
/// enforces it; more here would only queue there).
pub(crate) const DEPTH: usize = 4;

/// Bytes one item may hold in memory before its turn. Most messages (and
/// many files) are smaller, so their download finishes and frees its slot
/// at once; the worst case is `DEPTH` × this per resource.
pub(crate) const AHEAD_BUDGET: usize = 1024 * 1024;

/// Chunks queued between the download and the repository once it is the
/// item's turn: the repository's pace then sets the download's.
const CHUNKS_QUEUED: usize = 4;

/// Opens an item's byte stream; called once, or twice when the first read
/// went over the budget.
pub(crate) type Opener =
    Arc<dyn Fn() -> BoxFuture<'static, Result<ByteStream, SourceError>> + Send + Sync>;

pub(crate) fn opener<F, Fut>(open: F) -> Opener
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ByteStream, SourceError>> + Send + 'static,
{
    Arc::new(move || Box::pin(open()))
}

enum Msg {
    Chunk(Bytes),
    Fail(SourceError),
    End,
}

/// Aborts the download task when the item is dropped unstored (a stop, a
/// failed folder): nothing keeps reading for nobody.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One item downloading ahead of its turn.
pub(crate) struct Ahead {
    turn: oneshot::Sender<()>,
    rx: mpsc::Receiver<Msg>,
    task: AbortOnDrop,
}

impl Ahead {
    /// Starts downloading now, or (when `size` says it will not fit the
    /// budget) as soon as it is the item's turn.
    pub(crate) fn start(open: Opener, size: Option<u64>) -> Self {
        let (turn, turn_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(CHUNKS_QUEUED);
        let wait = size.is_some_and(|s| s > AHEAD_BUDGET as u64);
        let task = tokio::spawn(read_ahead(open, wait, turn_rx, tx));
        Ahead {
            turn,
            rx,
            task: AbortOnDrop(task),
        }
    }

    /// The item's bytes, for the repository: its turn has come.
    pub(crate) fn into_stream(self) -> ByteStream {
        let Ahead { turn, rx, task } = self;
        let _ = turn.send(());
        stream::unfold(Some((rx, task)), |state| async move {
            let (mut rx, task) = state?;
            match rx.recv().await {
                Some(Msg::Chunk(b)) => Some((Ok(b), Some((rx, task)))),
                Some(Msg::Fail(e)) => Some((Err(e), None)),
                Some(Msg::End) => None,
                // Ended without saying so (it panicked): never pass a
                // truncated item off as whole.
                None => Some((
                    Err(SourceError::new(
                        SourceErrorKind::Transient,
                        "the download ended before the item was complete",
                    )),
                    None,
                )),
            }
        })
        .boxed()
    }
}

/// How reading before the item's turn ended.
enum Early {
    /// The whole item (or its failure) is in memory.
    Done(Vec<Bytes>, Option<SourceError>),
    /// It is the item's turn; the download goes on from here.
    Turn(Vec<Bytes>, ByteStream),
    /// Over the budget: dropped, to be read again at the item's turn.
    TooBig,
    /// The item was dropped unstored.
    Dropped,
}

async fn read_early(open: &Opener, turn: &mut oneshot::Receiver<()>) -> (Early, bool) {
    let mut opening = open();
    let mut at_turn = false;
    let opened = tokio::select! {
        biased;
        r = &mut opening => r,
        t = &mut *turn => {
            if t.is_err() {
                return (Early::Dropped, false);
            }
            at_turn = true;
            opening.await
        }
    };
    let mut stream = match opened {
        Ok(s) => s,
        Err(e) => return (Early::Done(Vec::new(), Some(e)), at_turn),
    };
    let mut held = Vec::new();
    let mut bytes = 0usize;
    if at_turn {
        return (Early::Turn(held, stream), true);
    }
    loop {
        tokio::select! {
            biased;
            t = &mut *turn => {
                if t.is_err() {
                    return (Early::Dropped, false);
                }
                return (Early::Turn(held, stream), true);
            }
            next = stream.next() => match next {
                Some(Ok(chunk)) => {
                    bytes += chunk.len();
                    held.push(chunk);
                    if bytes > AHEAD_BUDGET {
                        return (Early::TooBig, false);
                    }
                }
                Some(Err(e)) => return (Early::Done(held, Some(e)), false),
                None => return (Early::Done(held, None), false),
            }
        }
    }
}

async fn read_ahead(
    open: Opener,
    wait: bool,
    mut turn: oneshot::Receiver<()>,
    tx: mpsc::Sender<Msg>,
) {
    let (early, at_turn) = if wait {
        (Early::TooBig, false)
    } else {
        read_early(&open, &mut turn).await
    };
    let (held, rest) = match early {
        Early::Dropped => return,
        Early::Done(held, failure) => {
            if !at_turn && turn.await.is_err() {
                return;
            }
            for chunk in held {
                if tx.send(Msg::Chunk(chunk)).await.is_err() {
                    return;
                }
            }
            let _ = tx
                .send(match failure {
                    Some(e) => Msg::Fail(e),
                    None => Msg::End,
                })
                .await;
            return;
        }
        Early::Turn(held, stream) => (held, stream),
        Early::TooBig => {
            if turn.await.is_err() {
                return;
            }
            match open().await {
                Ok(s) => (Vec::new(), s),
                Err(e) => {
                    let _ = tx.send(Msg::Fail(e)).await;
                    return;
                }
            }
        }
    };
    for chunk in held {
        if tx.send(Msg::Chunk(chunk)).await.is_err() {
            return;
        }
    }
    let mut rest = rest;
    while let Some(next) = rest.next().await {
        let msg = match next {
            Ok(chunk) => Msg::Chunk(chunk),
            Err(e) => {
                let _ = tx.send(Msg::Fail(e)).await;
                return;
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::End).await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::TryStreamExt;

    use super::*;

    fn counting(chunks: Vec<usize>, opens: Arc<AtomicUsize>) -> Opener {
        opener(move || {
            opens.fetch_add(1, Ordering::SeqCst);
            let chunks = chunks.clone();
            async move {
                let s: ByteStream = stream::iter(
                    chunks
                        .into_iter()
                        .map(|n| Ok::<_, SourceError>(Bytes::from(vec![7u8; n]))),
                )
                .boxed();
                Ok(s)
            }
        })
    }

    async fn all(a: Ahead) -> Result<usize, SourceError> {
        let parts: Vec<Bytes> = a.into_stream().try_collect().await?;
        Ok(parts.iter().map(Bytes::len).sum())
    }

    #[tokio::test]
    async fn a_small_item_is_read_once_before_its_turn() {
        let opens = Arc::new(AtomicUsize::new(0));
        let a = Ahead::start(counting(vec![1000, 2000], opens.clone()), None);
        tokio::task::yield_now().await;
        assert_eq!(all(a).await.unwrap(), 3000);
        assert_eq!(opens.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_item_over_the_budget_is_read_again_at_its_turn_and_whole() {
        let opens = Arc::new(AtomicUsize::new(0));
        let chunk = AHEAD_BUDGET / 4 + 1;
        let a = Ahead::start(counting(vec![chunk; 8], opens.clone()), None);
        // Let it run into the budget before its turn.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert_eq!(all(a).await.unwrap(), chunk * 8);
        assert_eq!(opens.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_known_large_item_waits_for_its_turn_and_is_read_once() {
        let opens = Arc::new(AtomicUsize::new(0));
        let a = Ahead::start(
            counting(vec![AHEAD_BUDGET; 3], opens.clone()),
            Some(3 * AHEAD_BUDGET as u64),
        );
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert_eq!(opens.load(Ordering::SeqCst), 0, "not before its turn");
        assert_eq!(all(a).await.unwrap(), 3 * AHEAD_BUDGET);
        assert_eq!(opens.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failure_reaches_the_repository_as_an_error() {
        let open = opener(|| async {
            let s: ByteStream = stream::iter(vec![
                Ok(Bytes::from_static(b"abc")),
                Err(SourceError::new(SourceErrorKind::Transient, "cut")),
            ])
            .boxed();
            Ok(s)
        });
        let err = all(Ahead::start(open, None)).await.unwrap_err();
        assert_eq!(err.kind, SourceErrorKind::Transient);
    }
}
