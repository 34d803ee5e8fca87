//! A few dedicated threads for argon2. Each hash takes ~19 MiB and tens of
//! milliseconds: on the async runtime it would stall other requests, and on
//! tokio's many blocking threads each thread's allocator arena keeps its own
//! 19 MiB (a login flood once grew the server past 1 GiB). One thread per
//! core bounds both the CPU and the memory that logins can take.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::CoreError;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub(crate) struct HashingPool {
    jobs: mpsc::Sender<Job>,
}

impl HashingPool {
    pub fn new(threads: usize) -> Result<Self, CoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("openvbo-hash-{i}"))
                .spawn(move || loop {
                    // The lock is held only to take the next job.
                    let job = {
                        let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
                        queue.recv()
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

    /// Runs `work` on a hashing thread; waits its turn behind other logins.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| shutting_down())?;
        result.await.map_err(|_| shutting_down())
    }
}

fn shutting_down() -> CoreError {
    CoreError::Internal("the server is shutting down".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_on_its_threads_and_returns_the_result() {
        let pool = HashingPool::new(2).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("openvbo-hash-"));
        let results = futures::future::join_all((0..10).map(|i| pool.run(move || i * 2))).await;
        let values: Vec<i32> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(values, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }
}
