//! Batched reads (`read_chunks`): blobs of many items come back in the caller's order, byte
//! for byte, with far fewer storage requests than blobs; a missing or damaged blob ends the
//! stream with an error after the blobs before it, never with wrong bytes.
// The helpers below sit outside #[test] functions (where clippy.toml allows these): a slip
// in them is a failed test, not a reachable panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::atomic::Ordering;

use common::*;
use futures::TryStreamExt;
use openvbo_repo::*;

/// 300 small items (text and random, some identical) and one 20 MiB file, over several
/// 4 MiB packs; returns each item's stored entry with its content.
async fn backup(repo: &Repository) -> Vec<(ItemEntry, Vec<u8>)> {
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    let mut out = Vec::new();
    for n in 0..300u64 {
        // Every 7th item repeats item 0's bytes: one blob, referenced many times.
        let seed = if n % 7 == 0 { 0 } else { n };
        let data = if n % 2 == 0 {
            text(seed, 30_000 + (seed as usize % 5) * 1000)
        } else {
            random_bytes(seed, 20_000 + (seed as usize % 9) * 3000)
        };
        let e = w
            .put_item(
                item("inbox", &format!("m{n}")),
                vec![Part::bytes("mime", data.clone())],
            )
            .await
            .unwrap();
        out.push((e, data));
    }
    let big = random_bytes(999, 20 << 20);
    let e = w
        .put_item(
            item("inbox", "big"),
            vec![Part::bytes("content", big.clone())],
        )
        .await
        .unwrap();
    assert!(e.parts[0].chunks.len() > 8, "{}", e.parts[0].chunks.len());
    out.push((e, big));
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    out
}

async fn collect(repo: &Repository, ids: Vec<ChunkId>) -> (Vec<bytes::Bytes>, Option<RepoError>) {
    let mut s = repo.read_chunks(ids);
    let mut got = Vec::new();
    loop {
        match s.try_next().await {
            Ok(Some(b)) => got.push(b),
            Ok(None) => return (got, None),
            Err(e) => {
                // The stream ends after its first error.
                assert!(s.try_next().await.unwrap().is_none());
                return (got, Some(e));
            }
        }
    }
}

#[tokio::test]
async fn many_items_come_back_in_the_callers_order_with_few_requests() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let items = backup(&repo).await;
    let packs = files(dir.path())
        .iter()
        .filter(|f| f.to_string_lossy().contains("/data/"))
        .count();
    assert!(packs >= 5, "{packs} data packs");

    // Newest first, every item's part twice in a row, the big file in the middle: an order
    // that crosses packs back and forth.
    let mut order: Vec<usize> = (0..items.len()).rev().collect();
    order.insert(150, items.len() - 1);
    let mut ids = Vec::new();
    let mut want = Vec::new();
    for &i in &order {
        let (e, data) = &items[i];
        for _ in 0..2 {
            ids.extend(e.parts[0].chunks.iter().copied());
            want.extend_from_slice(data);
        }
    }
    let gets_before = repo.counters().gets.load(Ordering::Relaxed);
    let (got, err) = collect(&repo, ids.clone()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), ids.len());
    let joined: Vec<u8> = got.iter().flat_map(|b| b.iter().copied()).collect();
    assert_eq!(joined.len(), want.len());
    assert!(joined == want, "restored bytes differ");
    let gets = repo.counters().gets.load(Ordering::Relaxed) - gets_before;
    // One request per blob would be ids.len() (> 640); per window and pack it is a few dozen.
    assert!(
        gets * 10 < ids.len() as u64,
        "{gets} requests for {} blobs",
        ids.len()
    );

    // A big part alone, through read_part/write_part, is the same bytes.
    let (e, data) = items.last().unwrap();
    assert!(read_all(&repo, &e.parts[0]).await == *data);
}

#[tokio::test]
async fn a_chunk_missing_from_the_index_ends_the_stream_after_the_ones_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let items = backup(&repo).await;
    let a = items[1].0.parts[0].chunks[0];
    let b = items[2].0.parts[0].chunks[0];
    let unknown = ChunkId([0xAB; 32]);
    let (got, err) = collect(&repo, vec![a, b, unknown, a]).await;
    assert_eq!(got.len(), 2);
    assert!(got[0] == items[1].1 && got[1] == items[2].1);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupted);
    assert!(
        err.message().contains("not in the index"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_truncated_or_missing_pack_is_an_error_never_short_or_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let items = backup(&repo).await;
    let ids: Vec<ChunkId> = items
        .iter()
        .flat_map(|(e, _)| e.parts[0].chunks.iter().copied())
        .collect();
    let mut packs: Vec<_> = files(dir.path())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("/data/"))
        .collect();
    packs.sort();

    // Cut the first pack in half: the blobs past the cut cannot be read.
    let len = std::fs::metadata(&packs[0]).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&packs[0])
        .unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let (got, err) = collect(&repo, ids.clone()).await;
    assert!(got.len() < ids.len());
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupted, "{}", err.message());
    assert!(err.message().contains("truncated"), "{}", err.message());

    // Remove it: the error names the pack.
    std::fs::remove_file(&packs[0]).unwrap();
    let (_, err) = collect(&repo, ids).await;
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupted);
    let name = packs[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(err.message().contains(&name), "{}", err.message());
    assert!(err.message().contains("is missing"), "{}", err.message());
}
