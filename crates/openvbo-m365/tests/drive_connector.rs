//! The connector's drive reader and writer against the simulator over real
//! HTTP: full and incremental delta with paths rebuilt from parents, the
//! 410 fallback, resumption after a dropped connection, fresh URLs after
//! expiry, uploads of every size with conflict behaviour.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod drive_support;

use std::collections::BTreeMap;

use drive_support::*;
use m365_sim::SimOptions;
use openvbo_m365::drive::{
    ConflictBehavior, DeltaLink, DriveApi, DriveChange, DriveItem, DriveItemKind, FileFacts,
    FolderPaths, ItemId,
};
use openvbo_m365::ErrorKind;
use reqwest::Method;
use serde_json::json;

/// One whole round: upserts by id, deleted ids, whether it was reset.
async fn round(
    h: &Harness,
    since: Option<&DeltaLink>,
    folders: &mut FolderPaths,
) -> (
    BTreeMap<String, DriveItem>,
    Vec<String>,
    DeltaLink,
    bool,
    bool,
) {
    let mut upserts = BTreeMap::new();
    let mut deleted = Vec::new();
    let mut first_page_reset = false;
    let mut first = true;
    let outcome = h
        .session
        .drives(&h.units)
        .delta(&h.drive, since, folders, |page| {
            if first {
                first_page_reset = page.reset;
                first = false;
            }
            for change in page.changes {
                match change {
                    DriveChange::Upsert(item) => {
                        upserts.insert(item.id.0.clone(), item);
                    }
                    DriveChange::Deleted { id, .. } => deleted.push(id.0),
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    deleted.sort();
    (
        upserts,
        deleted,
        outcome.delta_link,
        outcome.reset,
        first_page_reset,
    )
}

fn paths(items: &BTreeMap<String, DriveItem>) -> Vec<String> {
    let mut p: Vec<String> = items
        .values()
        .map(|i| i.path.clone().unwrap_or_else(|| format!("?{}", i.name)))
        .collect();
    p.sort();
    p
}

#[tokio::test]
async fn a_full_enumeration_then_incrementals_see_exactly_the_changes() {
    let h = start(None, SimOptions::default()).await;
    let drives = h.session.drives(&h.units);
    let mut folders = FolderPaths::default();
    let (full, deleted, t0, reset, _) = round(&h, None, &mut folders).await;
    assert!(!reset && deleted.is_empty());
    assert_eq!(
        paths(&full),
        [
            "",
            "Documents",
            "Documents/Q3",
            "Documents/Q3/plan.txt",
            "Documents/notes.txt",
            "Empty folder",
            "Videos",
            "Videos/clip.bin"
        ]
    );
    let plan = full.values().find(|i| i.name == "plan.txt").unwrap();
    assert_eq!(plan.size, 11);
    assert_eq!(
        plan.kind,
        DriveItemKind::File {
            quick_xor_hash: Some("aCgDG9jwBhDc4Q1yawMZAAAAAAA=".into()),
            mime_type: Some("text/plain".into())
        }
    );
    let id = |path: &str| {
        full.values()
            .find(|i| i.path.as_deref() == Some(path))
            .unwrap()
            .id
            .clone()
    };
    let (docs, q3, notes, videos, clip) = (
        id("Documents"),
        id("Documents/Q3"),
        id("Documents/notes.txt"),
        id("Videos"),
        id("Videos/clip.bin"),
    );

    // Changes: a new folder with a file (the connector's writer), a rename,
    // a move, a changed file and a deleted one (someone else).
    let reports = drives
        .create_folder(&h.drive, &docs, "Reports", ConflictBehavior::Fail)
        .await
        .unwrap();
    let new = drives
        .upload(
            &h.drive,
            &reports.id,
            "r1.txt",
            4,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size: 4 },
        )
        .await
        .unwrap();
    assert_eq!(new.path.as_deref(), Some("Documents/Reports/r1.txt"));
    let d = &h.drive.0;
    let (s, _) = h
        .graph(
            Method::PATCH,
            &format!("/drives/{d}/items/{}", q3.0),
            Some(json!({"name": "Q4"})),
        )
        .await;
    assert!(s.is_success());
    let (s, _) = h
        .graph(
            Method::PATCH,
            &format!("/drives/{d}/items/{}", clip.0),
            Some(json!({"parentReference": {"id": docs.0}})),
        )
        .await;
    assert!(s.is_success());
    let (s, _) = h
        .graph(
            Method::DELETE,
            &format!("/drives/{d}/items/{}", notes.0),
            None,
        )
        .await;
    assert!(s.is_success());
    let (s, _) = h
        .graph(
            Method::PUT,
            &format!("/drives/{d}/root:/Documents/Q4/plan.txt:/content"),
            None,
        )
        .await;
    assert!(s.is_success(), "{s}");

    let (inc, deleted, t1, reset, _) = round(&h, Some(&t0), &mut folders).await;
    assert!(!reset);
    assert_eq!(deleted, vec![notes.0.clone()]);
    // Parents of changed items come along (their cTag changed), as at Microsoft.
    assert_eq!(
        paths(&inc),
        [
            "",
            "Documents",
            "Documents/Q4",
            "Documents/Q4/plan.txt",
            "Documents/Reports",
            "Documents/Reports/r1.txt",
            "Documents/clip.bin",
            "Videos"
        ]
    );
    assert_eq!(inc[&q3.0].name, "Q4");
    assert_eq!(inc[&clip.0].parent_id.as_ref(), Some(&docs));
    let plan_now = inc.values().find(|i| i.name == "plan.txt").unwrap();
    assert_eq!(plan_now.size, 0, "emptied by the PUT");
    assert!(
        inc.contains_key(&videos.0),
        "the folder the clip left changed"
    );

    // Nothing more: an empty round. Then one more change, one more round.
    let (none, deleted, t2, _, _) = round(&h, Some(&t1), &mut folders).await;
    assert!(none.is_empty() && deleted.is_empty(), "{none:?}");
    let (s, _) = h
        .graph(
            Method::DELETE,
            &format!("/drives/{d}/items/{}", reports.id.0),
            None,
        )
        .await;
    assert!(s.is_success());
    let (after, deleted, _, _, _) = round(&h, Some(&t2), &mut folders).await;
    let mut want = vec![reports.id.0.clone(), new.id.0.clone()];
    want.sort();
    assert_eq!(deleted, want, "a deleted folder reports its children too");
    assert_eq!(paths(&after), ["", "Documents"]);
    assert_eq!(
        folders.folder_path(&reports.id.0),
        None,
        "deleted folders leave the map"
    );
    assert!(h.units.used() > 0);
}

#[tokio::test]
async fn an_expired_token_falls_back_to_a_full_enumeration_and_says_so() {
    let h = start(None, SimOptions::default()).await;
    let mut folders = FolderPaths::default();
    let (full, _, token, _, _) = round(&h, None, &mut folders).await;
    assert!(h.sim.expire_drive_delta(&h.drive.0));
    let (again, deleted, fresh, reset, first_page_reset) =
        round(&h, Some(&token), &mut folders).await;
    assert!(reset && first_page_reset);
    assert!(deleted.is_empty());
    assert_eq!(paths(&again), paths(&full));
    // The new token works as usual.
    let (none, _, _, reset, _) = round(&h, Some(&fresh), &mut folders).await;
    assert!(none.is_empty() && !reset);
}

#[tokio::test]
async fn a_connection_reset_mid_file_resumes_with_range() {
    let h = start(None, SimOptions::default()).await;
    let item = h.item("Videos/clip.bin").await;
    let id = ItemId(item["id"].as_str().unwrap().to_owned());
    let reference = h.reference_hash("Videos/clip.bin").await;
    h.sim.reset_downloads_after(1_000_000, 2);
    let drives = h.session.drives(&h.units);
    let facts = FileFacts {
        size: Some(5_000_000),
        quick_xor_hash: None,
    };
    let mut file = drives.download(&h.drive, &id, facts).await.unwrap();
    let mut hasher = quickxorhash::QuickXorHash::new();
    let mut total = 0;
    let mut biggest = 0;
    while let Some(chunk) = file.next_chunk().await.unwrap() {
        total += chunk.len();
        biggest = biggest.max(chunk.len());
        hasher.update(&chunk);
    }
    assert_eq!(total, 5_000_000);
    assert_eq!(file.resumes(), 2, "two broken connections, two resumes");
    let ours = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        hasher.finalize(),
    );
    assert_eq!(ours, reference);
    assert_eq!(file.quick_xor_hash(), Some(reference.as_str()));
    assert!(biggest <= 1 << 20, "chunks stay small: {biggest}");
    // 1 MB + 1 MB + the rest: the resumes asked only for what was missing.
    assert_eq!(h.sim.stats().content.file_bytes, 5_000_000 * 2);
}

#[tokio::test]
async fn an_expired_download_url_is_replaced_and_a_wrong_hash_is_refused() {
    let h = start(None, SimOptions::default()).await;
    let item = h.item("Videos/clip.bin").await;
    let id = ItemId(item["id"].as_str().unwrap().to_owned());
    let drives = h.session.drives(&h.units);
    h.sim.reset_downloads_after(2_000_000, 1);
    let mut file = drives
        .download(&h.drive, &id, FileFacts::default())
        .await
        .unwrap();
    let first = file.next_chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    // An hour passes: the URL has expired by the time the reset forces a resume.
    h.sim.advance_drive_clock(3700);
    let mut total = first.len();
    while let Some(chunk) = file.next_chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 5_000_000);
    assert_eq!((file.resumes(), file.url_refreshes()), (1, 1));

    let wrong = FileFacts {
        size: Some(11),
        quick_xor_hash: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()),
    };
    let plan = ItemId(
        h.item("Documents/Q3/plan.txt").await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let mut file = drives.download(&h.drive, &plan, wrong).await.unwrap();
    let error = loop {
        match file.next_chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a wrong hash must not pass"),
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind, ErrorKind::Protocol);
    assert!(error.message.contains("quickXorHash"), "{}", error.message);
}

#[tokio::test]
async fn uploads_of_any_size_with_conflict_behaviour() {
    let h = start(None, SimOptions::default()).await;
    let drives = h.session.drives(&h.units);
    let root = h
        .graph(Method::GET, &format!("/drives/{}/root", h.drive.0), None)
        .await
        .1;
    let root = ItemId(root["id"].as_str().unwrap().to_owned());
    let size = 2 * openvbo_m365::drive::UPLOAD_CHUNK as u64 + 12_345;
    let big = drives
        .upload(
            &h.drive,
            &root,
            "large.bin",
            size,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size },
        )
        .await
        .unwrap();
    assert_eq!(big.size, size);
    let expected = hash(&pattern(size));
    assert_eq!(
        big.file_facts().quick_xor_hash.as_deref(),
        Some(expected.as_str())
    );
    assert_eq!(h.reference_hash("large.bin").await, expected);
    assert_eq!(big.path.as_deref(), Some("large.bin"));

    let again = drives
        .upload(
            &h.drive,
            &root,
            "large.bin",
            size,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size },
        )
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Conflict, "{}", again.message);
    let small_fail = drives
        .upload(
            &h.drive,
            &root,
            "LARGE.bin",
            3,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size: 3 },
        )
        .await
        .unwrap_err();
    assert_eq!(small_fail.kind, ErrorKind::Conflict);
    let renamed = drives
        .upload(
            &h.drive,
            &root,
            "large.bin",
            3,
            ConflictBehavior::Rename,
            PatternReader { pos: 0, size: 3 },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "large 1.bin");
    let replaced = drives
        .upload(
            &h.drive,
            &root,
            "large.bin",
            5,
            ConflictBehavior::Replace,
            PatternReader { pos: 0, size: 5 },
        )
        .await
        .unwrap();
    assert_eq!((replaced.id.clone(), replaced.size), (big.id.clone(), 5));
    let empty = drives
        .upload(
            &h.drive,
            &root,
            "empty.txt",
            0,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size: 0 },
        )
        .await
        .unwrap();
    assert_eq!(empty.size, 0);
    assert_eq!(
        empty.file_facts().quick_xor_hash.as_deref(),
        Some(hash(b"").as_str())
    );
    // A source shorter than announced is refused before anything is committed.
    let short = drives
        .upload(
            &h.drive,
            &root,
            "short.bin",
            size,
            ConflictBehavior::Fail,
            PatternReader { pos: 0, size: 1000 },
        )
        .await
        .unwrap_err();
    assert!(short.message.contains("ended after"), "{}", short.message);
    let (status, _) = h
        .graph(
            Method::GET,
            &format!("/drives/{}/root:/short.bin", h.drive.0),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

/// The tenant's small files (under 100 bytes), by name, read whole: a
/// full delta (2 units) and per file `/content` and the download URL (1
/// each).
async fn small_files(
    h: &Harness,
    drives: DriveApi<'_>,
) -> Result<BTreeMap<String, Vec<u8>>, openvbo_m365::M365Error> {
    let mut files = Vec::new();
    drives
        .delta(&h.drive, None, &mut FolderPaths::default(), |page| {
            for change in page.changes {
                if let DriveChange::Upsert(item) = change {
                    if item.size < 100 && !item.is_folder() {
                        files.push(item);
                    }
                }
            }
            Ok(())
        })
        .await?;
    let mut out = BTreeMap::new();
    for file in &files {
        let mut d = drives
            .download(&h.drive, &file.id, file.file_facts())
            .await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = d.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        out.insert(file.name.clone(), bytes);
    }
    Ok(out)
}

#[tokio::test]
async fn resource_units_count_what_microsoft_charges() {
    use m365_sim::{Budget, ThrottleOptions, ThrottleProfile};
    use openvbo_m365::drive::ResourceUnits;
    use std::time::{Duration, Instant};
    let options = SimOptions {
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    };
    let h = start(None, options).await;
    let expected = BTreeMap::from([
        ("notes.txt".to_owned(), b"notes".to_vec()),
        ("plan.txt".to_owned(), b"hello world".to_vec()),
    ]);
    let charged = |h: &Harness| {
        let t = h.sim.stats().throttle;
        (t.resource_units, t.rejected)
    };
    h.sim.set_drive_resource_units(Budget {
        requests: 9,
        window: Duration::from_secs(600),
    });
    // 6 units, on our count and Microsoft's; a bucket of 10 never has to
    // be told to wait.
    let polite = ResourceUnits::new(10);
    let files = small_files(&h, h.session.drives(&polite)).await.unwrap();
    assert_eq!(files, expected);
    assert_eq!(polite.used(), 6);
    assert_eq!(charged(&h), (6, 0));

    // A person browsing overruns the tenant's 9 on the fourth request:
    // Microsoft's Retry-After (the rest of the 600 s window) is longer than
    // the interactive lane waits (10 s), so it says so at once, without
    // asking again.
    let greedy = ResourceUnits::new(1000);
    let started = Instant::now();
    let error = small_files(&h, h.session.drives(&greedy).interactive())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let retry_after = match error.kind {
        ErrorKind::Throttled { retry_after } | ErrorKind::Unavailable { retry_after } => {
            retry_after
        }
        _ => panic!("{error:?}"),
    };
    assert!(
        retry_after.is_some_and(|d| d > Duration::from_secs(500)),
        "{error:?}"
    );
    assert!(
        error
            .message
            .contains("throttling requests (HTTP 429) after 1 attempt(s)"),
        "{}",
        error.message
    );
    assert_eq!(greedy.used(), 4);
    assert_eq!(charged(&h), (10, 1));

    // A backup in the background lane waits Retry-After out instead: with
    // 4 units per 2 s window, the second file's `/content` is refused, the
    // lane waits for the next window, and every file arrives whole. The
    // retry is charged on our side too, so the counts still agree.
    h.sim.set_drive_resource_units(Budget {
        requests: 4,
        window: Duration::from_secs(2),
    });
    let background = ResourceUnits::new(1000);
    let started = Instant::now();
    let files = small_files(&h, h.session.drives(&background))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(files, expected);
    let (units, rejected) = charged(&h);
    assert_eq!(rejected, 2, "one refusal, then the next window");
    assert_eq!(background.used(), 7, "6 and the refused request");
    assert_eq!(units - 10, background.used());
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
}

#[tokio::test]
async fn a_large_drive_reads_over_many_pages_and_survives_expiry_mid_round() {
    let h = start_synthetic(1200).await;
    let mut folders = FolderPaths::default();
    let drives = h.session.drives(&h.units);
    let mut files = 0;
    let mut unresolved = 0;
    let outcome = drives
        .delta(&h.drive, None, &mut folders, |page| {
            for change in page.changes {
                if let DriveChange::Upsert(item) = change {
                    files += usize::from(!item.is_folder());
                    unresolved += usize::from(item.path.is_none());
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(files, 1200);
    assert_eq!(unresolved, 0, "parents always come before their children");
    assert!(outcome.pages >= 3, "{} pages of at most 500", outcome.pages);
    assert!(!outcome.reset);

    // The token expires between two pages of a round: the round starts
    // over, the restart is flagged, and it still ends complete.
    let mut pages = 0;
    let mut reset_at = None;
    let mut after_reset = 0;
    let sim = h.sim.clone();
    let drive = h.drive.0.clone();
    let outcome = drives
        .delta(&h.drive, None, &mut folders, |page| {
            pages += 1;
            if page.reset {
                reset_at = Some(pages);
                after_reset = 0;
            }
            after_reset += page
                .changes
                .iter()
                .filter(|c| matches!(c, DriveChange::Upsert(i) if !i.is_folder()))
                .count();
            if pages == 1 {
                assert!(sim.expire_drive_delta(&drive));
            }
            Ok(())
        })
        .await
        .unwrap();
    assert!(outcome.reset);
    assert_eq!(
        reset_at,
        Some(2),
        "the page after the expiry starts the full enumeration"
    );
    assert_eq!(
        after_reset, 1200,
        "everything is read again after the reset"
    );
}
