//! A mail restore keeps Microsoft's per-mailbox budget busy: while WRITES_IN_FLIGHT messages
//! are written, the next one is read from the backup and parsed, and a write that ends during
//! that preparation frees its slot at once. Timed on tokio's paused clock (virtual time, so
//! the numbers are exact and nothing sleeps for real): reading a message takes READ_MS (or
//! SLOW_READ_MS), writing one WRITE_MS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, RepositoryId, ResourceKind, RestorePointId,
};
use openvbo_core::microsoft365::{FailureKind, M365Failure, PortFuture, Sink};
use openvbo_core::restore::content::{ContentStream, RestoreContent};
use openvbo_core::restore::mail::{
    MailRestoreOptions, MailRestorer, MailTarget, MessageFacts, Outcome, WRITES_IN_FLIGHT,
};
use openvbo_core::restore::writers::{LiveMailFolder, MailWriter, MessageToWrite, PresentMessage};
use openvbo_core::restore::ChosenResource;
use openvbo_core::CoreError;
use tokio::time::{sleep, Instant};

const READ_MS: u64 = 5;
/// Reads slower than a quarter of a write: reading sets the pace.
const SLOW_READ_MS: u64 = 15;
const WRITE_MS: u64 = 40;
const MESSAGES: usize = 40;

/// One message written: its subject and body, and when its write started and ended
/// (milliseconds of virtual time since the restore began).
#[derive(Clone, Debug)]
struct Written {
    subject: String,
    body: String,
    started: u64,
    ended: u64,
}

/// An Inbox-only mailbox whose writes take WRITE_MS each and are watched: how many run at
/// once, and what was written when.
struct SlowMailbox {
    began: Instant,
    in_flight: Mutex<usize>,
    max_in_flight: Mutex<usize>,
    written: Mutex<Vec<Written>>,
}

impl SlowMailbox {
    fn new() -> Self {
        Self {
            began: Instant::now(),
            in_flight: Mutex::new(0),
            max_in_flight: Mutex::new(0),
            written: Mutex::new(Vec::new()),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_millis()).unwrap()
    }
}

impl MailWriter for SlowMailbox {
    fn folders<'a>(&'a self, _mailbox: &'a str) -> PortFuture<'a, Vec<LiveMailFolder>> {
        Box::pin(async move {
            Ok(vec![LiveMailFolder {
                id: "inbox".into(),
                path: "/Inbox".into(),
            }])
        })
    }

    fn create_folder<'a>(
        &'a self,
        _mailbox: &'a str,
        _parent: Option<&'a str>,
        name: &'a str,
    ) -> PortFuture<'a, LiveMailFolder> {
        Box::pin(async move { panic!("no folder is missing, yet '{name}' was created") })
    }

    fn messages<'a>(
        &'a self,
        _mailbox: &'a str,
        _folder: &'a str,
        sink: Sink<'a, PresentMessage>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move { sink(Vec::new()) })
    }

    /// MIME here is `Subject: …` and `Message-ID: …` lines, then the body.
    fn parse(
        &self,
        mime: &[u8],
        is_read: bool,
        _sent: Option<&str>,
        _received: Option<&str>,
    ) -> Result<MessageToWrite, M365Failure> {
        let text = std::str::from_utf8(mime).unwrap();
        let (head, body) = text.split_once("\n\n").unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::to_owned)
        };
        Ok(MessageToWrite {
            subject: header("Subject: ").unwrap_or_default(),
            internet_message_id: header("Message-ID: "),
            body: body.to_owned(),
            is_read,
            ..MessageToWrite::default()
        })
    }

    fn create_message<'a>(
        &'a self,
        _mailbox: &'a str,
        folder: &'a str,
        message: Box<MessageToWrite>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            assert_eq!(folder, "inbox");
            let started = self.now_ms();
            {
                let mut now = self.in_flight.lock().unwrap();
                *now += 1;
                let mut max = self.max_in_flight.lock().unwrap();
                *max = (*max).max(*now);
            }
            sleep(Duration::from_millis(WRITE_MS)).await;
            *self.in_flight.lock().unwrap() -= 1;
            if message.subject.starts_with("refused") {
                return Err(M365Failure::new(
                    FailureKind::Forbidden,
                    "ErrorAccessDenied: the mailbox refused the write",
                ));
            }
            let ended = self.now_ms();
            self.written.lock().unwrap().push(Written {
                subject: message.subject,
                body: message.body,
                started,
                ended,
            });
            Ok(())
        })
    }
}

/// Backed-up MIME by content reference; reading one takes READ_MS, and a reference it does
/// not hold fails after that read.
struct SlowBackup {
    stored: HashMap<Vec<u8>, Vec<u8>>,
    read_ms: u64,
}

#[async_trait]
impl RestoreContent for SlowBackup {
    async fn entries(
        &self,
        _repository: RepositoryId,
        _chosen: &ChosenResource,
    ) -> Result<BoxStream<'static, Result<CatalogItem, CoreError>>, CoreError> {
        Ok(stream::empty().boxed())
    }

    async fn open(
        &self,
        _repository: RepositoryId,
        content_ref: &[u8],
    ) -> Result<ContentStream, CoreError> {
        sleep(Duration::from_millis(self.read_ms)).await;
        let bytes = self
            .stored
            .get(content_ref)
            .cloned()
            .ok_or_else(|| CoreError::NotFound("the pack holding it is gone".into()))?;
        Ok(stream::iter([Ok(bytes)]).boxed())
    }

    fn message_facts(&self, _content_ref: &[u8]) -> MessageFacts {
        MessageFacts::default()
    }
}

fn message(id: &str) -> CatalogItem {
    CatalogItem {
        restore_point_id: RestorePointId::new_random(),
        resource_kind: ResourceKind::Mailbox,
        resource_id: "nancy".into(),
        item_id: id.into(),
        parent_id: Some("inbox".into()),
        kind: CatalogItemKind::Message,
        name: id.into(),
        sender: None,
        size_bytes: 1,
        created: None,
        modified: None,
        path: "/Inbox".into(),
        content_ref: id.as_bytes().to_vec(),
    }
}

/// `subjects` as messages m0, m1, … with their own Message-ID and body; those in `unreadable`
/// are in the catalog but not in the backup.
fn backup(
    subjects: &[String],
    unreadable: &[usize],
    read_ms: u64,
) -> (Vec<CatalogItem>, SlowBackup) {
    let mut stored = HashMap::new();
    let mut items = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        let id = format!("m{i}");
        if !unreadable.contains(&i) {
            let mime = format!("Subject: {subject}\nMessage-ID: <{id}@x>\n\nbody of {id}");
            stored.insert(id.as_bytes().to_vec(), mime.into_bytes());
        }
        items.push(message(&id));
    }
    (items, SlowBackup { stored, read_ms })
}

fn original() -> MailTarget {
    MailTarget {
        mailbox: "nancy".into(),
        folder: None,
        original: true,
    }
}

/// Restores `items`; the outcomes handed to `done` by item id, and the virtual milliseconds
/// the restore took.
async fn restore(
    mailbox: &SlowMailbox,
    backup: &SlowBackup,
    items: &[CatalogItem],
) -> (
    openvbo_core::restore::mail::RestoreStats,
    Vec<(String, Outcome)>,
    u64,
) {
    let mut restorer = MailRestorer::new(
        mailbox,
        backup,
        RepositoryId::new_random(),
        original(),
        MailRestoreOptions::default(),
    )
    .await
    .unwrap();
    let began = mailbox.now_ms();
    let mut outcomes = Vec::new();
    restorer
        .restore_items(
            items,
            |_| MessageFacts::default(),
            |i, o| outcomes.push((i.item_id.clone(), o.clone())),
        )
        .await;
    let took = mailbox.now_ms() - began;
    (restorer.stats, outcomes, took)
}

#[tokio::test(start_paused = true)]
async fn the_next_message_is_read_while_four_are_written() {
    let subjects: Vec<String> = (0..MESSAGES).map(|i| format!("Subject {i}")).collect();
    let (items, backup) = backup(&subjects, &[], READ_MS);
    let mailbox = SlowMailbox::new();
    let (stats, outcomes, took) = restore(&mailbox, &backup, &items).await;

    assert_eq!(
        (stats.created, stats.merged, stats.skipped, stats.failed),
        (MESSAGES as u64, 0, 0, 0),
        "{:?}",
        stats.exceptions
    );
    assert_eq!(outcomes.len(), MESSAGES);
    assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Created));
    // Exactly Microsoft's budget at once, never more.
    assert_eq!(*mailbox.max_in_flight.lock().unwrap(), WRITES_IN_FLIGHT);

    // Every message written once, with its own subject and body.
    let written = mailbox.written.lock().unwrap().clone();
    let mut got: Vec<(String, String)> = written
        .iter()
        .map(|w| (w.subject.clone(), w.body.clone()))
        .collect();
    got.sort();
    let mut wanted: Vec<(String, String)> = (0..MESSAGES)
        .map(|i| (format!("Subject {i}"), format!("body of m{i}")))
        .collect();
    wanted.sort();
    assert_eq!(got, wanted);

    // Reading is the cheaper stage (READ_MS < WRITE_MS / 4), so the writes set the pace:
    // MESSAGES / WRITES_IN_FLIGHT rounds of WRITE_MS, after the first messages are read.
    // Measured: 420 ms (400 ms of writes, after the four reads before the first round ends).
    // Before, when the next message was read only after a slot freed and the writes were not
    // polled meanwhile, this took 600 ms = MESSAGES * (READ_MS + WRITE_MS / 4): a pushed write
    // did not even start until the reads that followed it were done, so every round waited
    // for four reads.
    let writes = (MESSAGES / WRITES_IN_FLIGHT) as u64 * WRITE_MS;
    let start = WRITES_IN_FLIGHT as u64 * READ_MS;
    assert!(
        took <= writes + start + READ_MS,
        "the restore took {took} ms of virtual time; the writes alone take {writes} ms"
    );
    // After the first round, each write starts the moment another ends: no slot waits for a
    // read.
    let mut ends: Vec<u64> = written.iter().map(|w| w.ended).collect();
    ends.sort_unstable();
    let idle: Vec<u64> = written
        .iter()
        .filter(|w| w.started >= WRITE_MS)
        .filter(|w| !ends.contains(&w.started))
        .map(|w| w.started)
        .collect();
    assert!(
        idle.is_empty(),
        "writes started after a slot idled: {idle:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn messages_that_cannot_be_read_or_written_fail_alone_and_once() {
    // m3 and m17 are not in the backup; m5, m6 and m30 are refused by the mailbox.
    let unreadable = [3, 17];
    let refused = [5, 6, 30];
    let subjects: Vec<String> = (0..MESSAGES)
        .map(|i| {
            if refused.contains(&i) {
                format!("refused {i}")
            } else {
                format!("Subject {i}")
            }
        })
        .collect();
    let (items, backup) = backup(&subjects, &unreadable, READ_MS);
    let mailbox = SlowMailbox::new();
    let (stats, outcomes, _) = restore(&mailbox, &backup, &items).await;

    let failed = unreadable.len() + refused.len();
    assert_eq!(
        (stats.created, stats.skipped, stats.failed),
        ((MESSAGES - failed) as u64, 0, failed as u64),
        "{:?}",
        stats.exceptions
    );
    // One outcome per message, each handed over once.
    assert_eq!(outcomes.len(), MESSAGES);
    let mut ids: Vec<&str> = outcomes.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), MESSAGES);
    let outcome = |i: usize| {
        outcomes
            .iter()
            .find(|(id, _)| *id == format!("m{i}"))
            .map(|(_, o)| o.clone())
            .unwrap()
    };
    for i in unreadable {
        assert!(
            matches!(outcome(i), Outcome::Failed(why) if why.starts_with("reading the backup:") && why.contains("the pack holding it is gone")),
            "m{i}: {:?}",
            outcome(i)
        );
    }
    for i in refused {
        assert!(
            matches!(outcome(i), Outcome::Failed(why) if why.starts_with("writing the message: ErrorAccessDenied")),
            "m{i}: {:?}",
            outcome(i)
        );
    }
    // Each failure reported once, naming its message.
    assert_eq!(stats.exceptions.len(), failed, "{:?}", stats.exceptions);
    for i in unreadable.iter().chain(&refused) {
        let named = format!("Message \"m{i}\" in /Inbox: ");
        assert_eq!(
            stats
                .exceptions
                .iter()
                .filter(|e| e.starts_with(&named))
                .count(),
            1,
            "{:?}",
            stats.exceptions
        );
    }
    // The others are all written, once each, with their own bytes.
    let mut got: Vec<(String, String)> = mailbox
        .written
        .lock()
        .unwrap()
        .iter()
        .map(|w| (w.subject.clone(), w.body.clone()))
        .collect();
    got.sort();
    let mut wanted: Vec<(String, String)> = (0..MESSAGES)
        .filter(|i| !unreadable.contains(i) && !refused.contains(i))
        .map(|i| (format!("Subject {i}"), format!("body of m{i}")))
        .collect();
    wanted.sort();
    assert_eq!(got, wanted);
    assert_eq!(*mailbox.max_in_flight.lock().unwrap(), WRITES_IN_FLIGHT);
}

#[tokio::test(start_paused = true)]
async fn with_slow_reads_each_message_is_written_as_soon_as_it_is_read() {
    let subjects: Vec<String> = (0..MESSAGES).map(|i| format!("Subject {i}")).collect();
    let (items, backup) = backup(&subjects, &[], SLOW_READ_MS);
    let mailbox = SlowMailbox::new();
    let (stats, _, took) = restore(&mailbox, &backup, &items).await;
    assert_eq!((stats.created, stats.failed), (MESSAGES as u64, 0));
    assert_eq!(mailbox.written.lock().unwrap().len(), MESSAGES);
    // Reads back to back, and the last write after the last read: 640 ms measured. Before,
    // every round of four waited for its four reads and then its writes: about
    // MESSAGES / 4 * (4 * SLOW_READ_MS + WRITE_MS) = 1000 ms.
    let reads = MESSAGES as u64 * SLOW_READ_MS;
    assert!(
        took <= reads + WRITE_MS,
        "the restore took {took} ms of virtual time; the reads alone take {reads} ms"
    );
    // Each write starts the moment its message is read (a multiple of SLOW_READ_MS).
    let mut starts: Vec<u64> = mailbox
        .written
        .lock()
        .unwrap()
        .iter()
        .map(|w| w.started)
        .collect();
    starts.sort_unstable();
    let read_at: Vec<u64> = (1..=MESSAGES as u64).map(|i| i * SLOW_READ_MS).collect();
    assert_eq!(starts, read_at);
    assert!(*mailbox.max_in_flight.lock().unwrap() <= WRITES_IN_FLIGHT);
}
