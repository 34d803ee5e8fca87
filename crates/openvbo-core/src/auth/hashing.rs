//! A few dedicated threads for argon2, behind a bounded queue.
//!
//! Each hash takes ~19 MiB and tens of milliseconds: on the async runtime it
//! would stall other requests, and on tokio's many blocking threads each
//! thread's allocator arena keeps its own 19 MiB (a login flood once grew the
//! server past 1 GiB). One thread per core bounds both the CPU and the
//! memory that logins can take. The queue in front of them is bounded too:
//! when it is full a sign-in is refused at once (the caller answers 503 with
//! `Retry-After`) rather than waiting behind a flood, so the wait of a real
//! login stays short and the queue's memory stays small.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::CoreError;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub(crate) struct HashingPool {
    jobs: mpsc::SyncSender<Job>,
}

/// Why a job was not run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full: try again shortly.
    Busy,
    ShuttingDown,
}

impl From<Refused> for CoreError {
    fn from(value: Refused) -> Self {
        match value {
            Refused::Busy => CoreError::Busy {
                what: "sign-in",
                retry_after: std::time::Duration::from_secs(2),
            },
            Refused::ShuttingDown => CoreError::Internal("the server is shutting down".into()),
        }
    }
}

impl HashingPool {
    /// `threads` workers; at most `queue` jobs wait for one.
    pub(crate) fn new(threads: usize, queue: usize) -> Result<Self, CoreError> {
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for i in 0..threads.max(1) {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("openvbo-hash-{i}"))
                .spawn(move || loop {
                    // The lock is held only to take the next job.
                    let job = {
                        let waiting = waiting.lock().unwrap_or_else(|p| p.into_inner());
                        waiting.recv()
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // every sender is gone
                    }
                })
                .map_err(|e| CoreError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a hashing thread, or refuses at once if the queue is
    /// full.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        self.submit(work)?.await.map_err(|_| Refused::ShuttingDown)
    }

    /// Queues `work`; the receiver gets its result.
    fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, Refused> {
        let (done, result) = oneshot::channel();
        self.jobs
            .try_send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => Refused::Busy,
                mpsc::TrySendError::Disconnected(_) => Refused::ShuttingDown,
            })?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn runs_work_on_its_threads_and_returns_the_result() {
        let pool = HashingPool::new(2, 16).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("openvbo-hash-"));
        let results = futures::future::join_all((0..10).map(|i| pool.run(move || i * 2))).await;
        let values: Vec<i32> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(values, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_accepts_again_when_drained() {
        let pool = HashingPool::new(1, 2).unwrap();
        // Hold the one worker until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = oneshot::channel();
        let blocker = pool
            .submit(move || {
                let _ = started_tx.send(());
                let _ = held.recv();
                1
            })
            .unwrap();
        started.await.unwrap();
        // Two wait in the queue; the third is refused without waiting.
        let queued: Vec<_> = (0..2)
            .map(|i| pool.submit(move || 10 + i).unwrap())
            .collect();
        assert_eq!(pool.submit(|| 0).err(), Some(Refused::Busy));
        assert!(matches!(
            CoreError::from(Refused::Busy),
            CoreError::Busy { .. }
        ));
        release.send(()).unwrap();
        assert_eq!(blocker.await.unwrap(), 1);
        let mut values = Vec::new();
        for q in queued {
            values.push(q.await.unwrap());
        }
        assert_eq!(values, [10, 11]);
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
