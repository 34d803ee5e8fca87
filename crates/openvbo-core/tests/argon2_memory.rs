#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! argon2's working memory (19 MiB a hash) goes back to the system after each hash, even on
//! threads that live on, like the server's hashing threads. Kept resident, it was ~40 MB of
//! the backup's peak RSS (two hashing threads after the first login).
//!
//! Alone in its binary: other tests hashing at the same time would move the numbers.

#[cfg(target_os = "linux")]
#[test]
fn hashing_threads_do_not_keep_the_working_memory() {
    use std::sync::{mpsc, Barrier};

    use openvbo_core::auth::{hash_password, verify_password};
    use secrecy::SecretString;

    /// Anonymous resident memory (heap and mappings, not the binary's pages), in KiB.
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("RssAnon:"))
            .unwrap_or_else(|| panic!("no RssAnon in {status}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    const THREADS: usize = 2;
    const ROUNDS: usize = 3;
    // One hash's memory: m=19456 blocks of 1 KiB.
    const ONE_HASH_KIB: u64 = 19_456;

    let password = SecretString::from("resident memory");
    // A first hash on this thread: whatever is set up once (and the allocator's first
    // reaction to a large block) is in the baseline.
    let hash = hash_password(&password).unwrap();
    assert!(verify_password(&password, &hash));
    let before = rss_anon_kib();

    let hashed = Barrier::new(THREADS + 1);
    let measured = Barrier::new(THREADS + 1);
    let (results, verified) = mpsc::channel();
    let after = std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let (password, hash, results) = (&password, &hash, results.clone());
            let (hashed, measured) = (&hashed, &measured);
            scope.spawn(move || {
                let mut ok = 0;
                for _ in 0..ROUNDS {
                    let mine = hash_password(password).unwrap();
                    ok += usize::from(verify_password(password, &mine));
                    ok += usize::from(verify_password(password, hash));
                    ok += usize::from(!verify_password(&SecretString::from("wrong"), hash));
                }
                results.send(ok).unwrap();
                // Still alive while the memory is measured, as a hashing thread is.
                hashed.wait();
                measured.wait();
            });
        }
        hashed.wait();
        let after = rss_anon_kib();
        measured.wait();
        after
    });
    drop(results);
    let ok: usize = verified.iter().sum();
    assert_eq!(ok, THREADS * ROUNDS * 3, "every hash verified as expected");

    // Kept, each thread's buffer would add ONE_HASH_KIB; allow a fraction for the threads'
    // own small allocations and the allocator's bookkeeping.
    let grown = after.saturating_sub(before);
    assert!(
        grown < ONE_HASH_KIB / 2,
        "resident anonymous memory grew by {grown} KiB (before {before} KiB, after {after} KiB) \
         after {THREADS} threads hashed {ROUNDS} times each: the working memory stayed resident"
    );
}
