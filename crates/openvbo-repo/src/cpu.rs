//! A small, fixed pool of threads for the CPU-heavy part of storing a chunk (hash,
//! compress, seal). Fixed because each thread keeps its own compression contexts (about
//! 2–3 MB each): running this on tokio's elastic blocking pool would leave one set per
//! blocking thread, tens of megabytes, for no speed (there are only as many cores).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    tx: SyncSender<Job>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let (tx, rx) = sync_channel::<Job>(threads * 4);
        let rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("openvbo-repo-cpu-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
        }
        Pool { tx }
    })
}

/// Runs `f` on the pool and awaits its result.
pub(crate) async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    // The channel is bounded: hand the job over from a blocking context so a full queue
    // waits without stalling the async worker.
    let sender = pool().tx.clone();
    if let Err(std::sync::mpsc::TrySendError::Full(job)) = sender.try_send(job) {
        tokio::task::spawn_blocking(move || sender.send(job))
            .await
            .ok()?
            .ok()?;
    }
    rx.await.ok()
}
