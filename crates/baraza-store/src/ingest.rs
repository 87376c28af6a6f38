//! Storing submissions with group commit: many submissions, one durable commit.
//!
//! # Why
//!
//! A submission is acknowledged only once durable, so each one used to cost a flush to disk of
//! its own (SQLite with `synchronous = FULL` flushes its WAL at every commit). On an ordinary
//! disk a flush takes about half a millisecond, which caps a server at a few hundred
//! submissions per second however fast the rest is. Group commit shares the flush: the
//! submissions that arrive while one commit is being flushed are stored together in the next
//! transaction, and each caller is answered once that shared commit has returned.
//!
//! # How
//!
//! [`Store::insert_submission`] sends the submission to a writer task through a bounded
//! channel and waits for its answer. A writer takes every submission waiting (up to
//! [`MAX_BATCH`]), opens one transaction, stores them one after the other, commits, and only
//! then answers each. SQLite has one writer (it has one write connection anyway); PostgreSQL a
//! few, which keeps several transactions in flight, since PostgreSQL already shares the WAL
//! flushes of concurrent commits.
//!
//! Citizen reports that come by SMS take the same road ([`Store::ingest_message`]): a gateway's
//! message, the report it makes and its reply are one unit of work, in the same batches as
//! submissions, answered once their commit has returned. A gateway sends many small messages
//! at once, which is where sharing the flush matters most.
//!
//! # What stays true
//!
//! * **An answer means durable.** Callers get their outcome only after `COMMIT` returned (and
//!   SQLite's `synchronous = FULL` makes a returned commit one that is on disk). If the commit
//!   fails, nobody is told "created".
//! * **One record per `(form, instanceID)`.** Within a batch, submissions are stored in the order
//!   they arrived and each sees the ones before it (same transaction): two submissions of one
//!   instanceID in a batch give one record, then a replay (same bytes) or a conflict (other
//!   bytes). Across processes sharing a PostgreSQL database the unique key decides:
//!   `INSERT … ON CONFLICT DO NOTHING` waits for the other transaction, and the row it finds is
//!   then read back and compared.
//! * **One message, one report.** A message whose provider id or content key is already in the
//!   ledger, or earlier in the same batch, stores nothing and is answered as a repeat; across
//!   processes the ledger's unique indexes decide.
//! * **One bad submission cannot sink the others.** If a batch fails for any reason, it is
//!   rolled back whole and each of its submissions is then stored in a transaction of its own,
//!   so only the one that fails again gets an error.
//! * **A caller that goes away changes nothing.** The writer is a task of its own: when a client
//!   disconnects while waiting, its submission is still committed (or not) as a whole; the
//!   device, having had no answer, sends it again and gets a replay.

use crate::blobs::BlobRef;
use crate::db::{q, Conn, Pools};
use crate::reports::{MessageOutcome, NewMessage};
use crate::StoreError;
use baraza_types::UserId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// The most submissions stored in one transaction.
pub const MAX_BATCH: usize = 128;
/// Submissions waiting for a writer before senders wait too.
const QUEUE: usize = 1024;

/// A file received with a submission, already a durable blob.
#[derive(Debug, Clone)]
pub struct ReceivedFile {
    pub name: String,
    pub blob: BlobRef,
    /// The file's own key, sealed under the project's data key (`<version>:<base64>`), when
    /// the blob is sealed; `None` for a blob in clear.
    pub key: Option<String>,
}

/// A submission to store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    pub deprecated_id: Option<String>,
    /// The XML exactly as received (it was checked to be UTF-8 when parsed), or, when
    /// `key_version` is set, the sealed XML in base64.
    pub xml: String,
    /// SHA-256 of the XML as received, hex: a replay is recognised by it.
    pub xml_sha256: String,
    /// Length of the XML as received, in bytes.
    pub xml_size: i64,
    /// The typed answers; answers to protected questions sealed when `key_version` is set.
    pub values_json: String,
    /// The project data key that sealed this submission; `None`: stored in clear.
    pub key_version: Option<i64>,
    /// Blind indexes of the answers that identify a person.
    pub subjects: Vec<SubjectToken>,
    pub app_user_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub received_at: i64,
    /// The attachments the submission names (their files may come later).
    pub attachments: Vec<String>,
    /// The files received with it; those it does not name are ignored.
    pub files: Vec<ReceivedFile>,
    /// The consent this version records, when its form has a consent question (see
    /// `consent.rs`): written in the same transaction as the record.
    pub consent: Option<crate::consent::NewConsent>,
}

/// A blind index of one answer (`baraza_protect::blind`), for finding a person's records.
#[derive(Debug, Clone)]
pub struct SubjectToken {
    /// The answer's instance path.
    pub path: String,
    pub token: String,
}

/// What storing a submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new record (or a new version of one, through `deprecatedID`).
    Created(i64),
    /// The same instanceID with the same bytes: nothing new but missing attachments.
    Replay(i64),
    /// The same instanceID with other bytes.
    Conflict,
    /// `deprecatedID` names no record of this form.
    DeprecatedUnknown,
    /// `deprecatedID` names a record that was already replaced.
    DeprecatedNotCurrent,
}

/// A submission's XML as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionXml {
    /// In the submission's row.
    Inline(String),
    /// In the content-addressed blob with this digest (submissions stored before the XML moved
    /// into the database).
    Blob { sha256: String },
    /// Sealed under the project's data key of this version, in base64 as stored, for the place
    /// its project, form and instanceID name.
    Sealed {
        key_version: i64,
        sealed: String,
        project_id: i64,
        form_id: i64,
        instance_id: String,
    },
}

/// What the writers of this store have done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Transactions committed for batches (a batch split after a failure counts once).
    pub batches: u64,
    /// Submissions handed to the writers.
    pub submissions: u64,
    /// Gateway messages (citizen reports by SMS) handed to the writers.
    pub messages: u64,
    /// Batches that failed and were stored one submission at a time.
    pub split_batches: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    submissions: AtomicU64,
    messages: AtomicU64,
    split_batches: AtomicU64,
}

/// What a writer stores: a submission, or a gateway's message with its report and replies.
/// Both kinds share the batches (and so the flushes) of one writer.
enum Work {
    Submission(NewSubmission),
    Message(NewMessage),
}

enum Done {
    Submission(IngestOutcome),
    Message(MessageOutcome),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// The writer tasks and the queue that feeds them. Writers are started on first use, in the
/// runtime of the caller, and started again if that runtime has gone.
pub(crate) struct Committer {
    pools: Pools,
    writers: usize,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    counters: Arc<Counters>,
}

impl Committer {
    pub(crate) fn new(pools: Pools, writers: usize) -> Committer {
        Committer {
            pools,
            writers: writers.max(1),
            queue: Mutex::new(None),
            counters: Arc::default(),
        }
    }

    pub(crate) fn stats(&self) -> IngestStats {
        let c = &self.counters;
        IngestStats {
            batches: c.batches.load(Ordering::Relaxed),
            submissions: c.submissions.load(Ordering::Relaxed),
            messages: c.messages.load(Ordering::Relaxed),
            split_batches: c.split_batches.load(Ordering::Relaxed),
        }
    }

    fn sender(&self) -> mpsc::Sender<Job> {
        // A poisoned lock only means a panic elsewhere while swapping the sender; the Option
        // inside is still whole.
        let mut slot = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref().filter(|s| !s.is_closed()) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..self.writers {
            tokio::spawn(writer(
                self.pools.clone(),
                rx.clone(),
                self.counters.clone(),
            ));
        }
        *slot = Some(tx.clone());
        tx
    }

    async fn run(&self, work: Work) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the submission writer stopped".into());
        self.sender()
            .send(Job { work, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(crate) async fn submit(&self, sub: NewSubmission) -> Result<IngestOutcome, StoreError> {
        match self.run(Work::Submission(sub)).await? {
            Done::Submission(o) => Ok(o),
            Done::Message(_) => Err(StoreError::Corrupt(
                "a message's outcome for a submission".into(),
            )),
        }
    }

    pub(crate) async fn message(&self, m: NewMessage) -> Result<MessageOutcome, StoreError> {
        match self.run(Work::Message(m)).await? {
            Done::Message(o) => Ok(o),
            Done::Submission(_) => Err(StoreError::Corrupt(
                "a submission's outcome for a message".into(),
            )),
        }
    }

    /// Lets the writers finish what is queued and stop.
    pub(crate) fn stop(&self) {
        let mut slot = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
    }
}

async fn writer(
    pools: Pools,
    queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    counters: Arc<Counters>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        let n = queue.lock().await.recv_many(&mut jobs, MAX_BATCH).await;
        if n == 0 {
            return;
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        let messages = jobs
            .iter()
            .filter(|j| matches!(j.work, Work::Message(_)))
            .count();
        counters
            .submissions
            .fetch_add((n - messages) as u64, Ordering::Relaxed);
        counters
            .messages
            .fetch_add(messages as u64, Ordering::Relaxed);
        commit(&pools, std::mem::take(&mut jobs), &counters).await;
    }
}

/// Stores a batch in one transaction and answers each caller after the commit; if the batch
/// fails, stores each submission or message alone.
async fn commit(pools: &Pools, jobs: Vec<Job>, counters: &Counters) {
    match store_batch(pools, jobs.iter().map(|j| &j.work)).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(e) => {
            counters.split_batches.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, batch = jobs.len(), "a batch of submissions and messages failed; storing them one by one");
            for job in jobs {
                let one = store_batch(pools, std::iter::once(&job.work))
                    .await
                    .and_then(|v| {
                        v.into_iter()
                            .next()
                            .ok_or_else(|| StoreError::Corrupt("no outcome".into()))
                    });
                let _ = job.reply.send(one);
            }
        }
    }
}

async fn store_batch<'a>(
    pools: &Pools,
    works: impl Iterator<Item = &'a Work>,
) -> Result<Vec<Done>, StoreError> {
    let mut tx = pools.begin().await?;
    let mut out = Vec::new();
    for w in works {
        out.push(match w {
            Work::Submission(s) => Done::Submission(store_one(&mut tx.conn(), s).await?),
            Work::Message(m) => {
                Done::Message(crate::reports::store_message(&mut tx.conn(), m).await?)
            }
        });
    }
    tx.commit().await?;
    Ok(out)
}

const INSERT: &str = "INSERT INTO submissions (form_id, form_version_id, instance_id, root_instance_id, deprecated_id, is_current,
                                         xml_sha256, xml_size, xml, values_json, app_user_id, user_id, received_at, key_version)
                      VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8, $9, $10, $11, $12, $13)
                      ON CONFLICT (form_id, instance_id) DO NOTHING RETURNING id";

/// Inserts the record; `None` when its instanceID is already stored.
async fn insert(
    c: &mut Conn<'_>,
    s: &NewSubmission,
    root: &str,
) -> Result<Option<i64>, StoreError> {
    c.fetch_optional(
        q(INSERT)
            .bind(s.form_id)
            .bind(s.form_version_id)
            .bind(s.instance_id.as_str())
            .bind(root)
            .bind(s.deprecated_id.as_deref())
            .bind(s.xml_sha256.as_str())
            .bind(s.xml_size)
            .bind(s.xml.as_str())
            .bind(s.values_json.as_str())
            .bind(s.app_user_id)
            .bind(s.user_id.map(|u| u.0))
            .bind(s.received_at)
            .bind(s.key_version),
    )
    .await?
    .map(|r| r.get::<i64>("id"))
    .transpose()
}

/// The stored record of this instanceID, as a replay or a conflict.
async fn existing(
    c: &mut Conn<'_>,
    s: &NewSubmission,
) -> Result<Option<IngestOutcome>, StoreError> {
    let Some(r) = c
        .fetch_optional(
            q("SELECT id, xml_sha256 FROM submissions WHERE form_id = $1 AND instance_id = $2")
                .bind(s.form_id)
                .bind(s.instance_id.as_str()),
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(if r.get::<String>("xml_sha256")? == s.xml_sha256 {
        IngestOutcome::Replay(r.get("id")?)
    } else {
        IngestOutcome::Conflict
    }))
}

/// Records the files received for a stored submission, where it names them and has no file yet.
async fn attach_files(c: &mut Conn<'_>, id: i64, s: &NewSubmission) -> Result<(), StoreError> {
    for f in &s.files {
        c.execute(
            q(
                "UPDATE submission_attachments SET sha256 = $1, size = $2, file_key = $3
               WHERE submission_id = $4 AND name = $5 AND sha256 IS NULL",
            )
            .bind(f.blob.sha256.as_str())
            .bind(f.blob.size as i64)
            .bind(f.key.as_deref())
            .bind(id)
            .bind(f.name.as_str()),
        )
        .await?;
    }
    Ok(())
}

async fn created(
    c: &mut Conn<'_>,
    id: i64,
    s: &NewSubmission,
    root: &str,
) -> Result<IngestOutcome, StoreError> {
    if let Some(consent) = &s.consent {
        crate::consent::record(c, s.form_id, root, &s.instance_id, s.received_at, consent).await?;
    }
    for name in &s.attachments {
        c.execute(
            q(
                "INSERT INTO submission_attachments (submission_id, name) VALUES ($1, $2)
               ON CONFLICT (submission_id, name) DO NOTHING",
            )
            .bind(id)
            .bind(name.as_str()),
        )
        .await?;
    }
    for subject in &s.subjects {
        c.execute(
            q(
                "INSERT INTO subject_index (submission_id, project_id, token, path)
               SELECT $1, project_id, $2, $3 FROM forms WHERE id = $4",
            )
            .bind(id)
            .bind(subject.token.as_str())
            .bind(subject.path.as_str())
            .bind(s.form_id),
        )
        .await?;
    }
    attach_files(c, id, s).await?;
    Ok(IngestOutcome::Created(id))
}

async fn replayed(
    c: &mut Conn<'_>,
    outcome: IngestOutcome,
    s: &NewSubmission,
) -> Result<IngestOutcome, StoreError> {
    if let IngestOutcome::Replay(id) = outcome {
        attach_files(c, id, s).await?;
    }
    Ok(outcome)
}

/// Stores one submission inside the batch's transaction.
pub(crate) async fn store_one(
    c: &mut Conn<'_>,
    s: &NewSubmission,
) -> Result<IngestOutcome, StoreError> {
    let Some(dep) = s.deprecated_id.as_deref() else {
        // The usual case: one statement when the instanceID is new.
        if let Some(id) = insert(c, s, &s.instance_id).await? {
            return created(c, id, s, &s.instance_id).await;
        }
        let found = existing(c, s)
            .await?
            .ok_or_else(|| StoreError::Corrupt("instanceID both stored and missing".into()))?;
        return replayed(c, found, s).await;
    };
    // An edit. A replay of it must be recognised before its deprecatedID, whose record it
    // already replaced, is looked at.
    if let Some(found) = existing(c, s).await? {
        return replayed(c, found, s).await;
    }
    let Some(prev) = c
        .fetch_optional(
            q("SELECT id, root_instance_id FROM submissions WHERE form_id = $1 AND instance_id = $2")
                .bind(s.form_id)
                .bind(dep),
        )
        .await?
    else {
        return Ok(IngestOutcome::DeprecatedUnknown);
    };
    let prev_id: i64 = prev.get("id")?;
    let root: String = prev.get("root_instance_id")?;
    // Taking the "current" mark from the previous version is what decides between two edits
    // of one record racing on PostgreSQL: the second waits for the first and finds none.
    let took = c
        .execute(
            q("UPDATE submissions SET is_current = FALSE WHERE id = $1 AND is_current")
                .bind(prev_id),
        )
        .await?;
    if took != 1 {
        return Ok(IngestOutcome::DeprecatedNotCurrent);
    }
    if let Some(id) = insert(c, s, &root).await? {
        return created(c, id, s, &root).await;
    }
    // Another process stored this instanceID a moment ago: give the mark back, then compare.
    c.execute(q("UPDATE submissions SET is_current = TRUE WHERE id = $1").bind(prev_id))
        .await?;
    let found = existing(c, s)
        .await?
        .ok_or_else(|| StoreError::Corrupt("instanceID both stored and missing".into()))?;
    replayed(c, found, s).await
}

impl crate::Store {
    /// Stores a submission (with group commit: see the module's documentation), or recognises
    /// a replay or a conflict. A `deprecatedID` makes the new record the current version of the
    /// one it replaces. Returns once the outcome is durable.
    pub async fn insert_submission(&self, s: NewSubmission) -> Result<IngestOutcome, StoreError> {
        self.committer.submit(s).await
    }

    /// Stores all these submissions in one transaction (an import), outside group commit: every
    /// one stored (or recognised as a replay), or, if one is refused (a conflict, an edit of a
    /// record that is not there or was replaced), none, and the index and outcome of the first
    /// refused one.
    pub async fn insert_submissions_atomic(
        &self,
        subs: Vec<NewSubmission>,
    ) -> Result<Result<Vec<IngestOutcome>, (usize, IngestOutcome)>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut out = Vec::with_capacity(subs.len());
        for (i, s) in subs.iter().enumerate() {
            let outcome = store_one(&mut tx.conn(), s).await?;
            match outcome {
                IngestOutcome::Created(_) | IngestOutcome::Replay(_) => out.push(outcome),
                refused => return Ok(Err((i, refused))),
            }
        }
        tx.commit().await?;
        Ok(Ok(out))
    }

    /// Counts of what the submission writers did, for benchmarks and tests.
    pub fn ingest_stats(&self) -> IngestStats {
        self.committer.stats()
    }

    /// Where a submission's XML is.
    pub async fn submission_xml(
        &self,
        submission_id: i64,
    ) -> Result<Option<SubmissionXml>, StoreError> {
        let Some(r) = self
            .pools
            .fetch_optional(
                crate::db::Mode::Read,
                q("SELECT s.xml, s.xml_sha256, s.key_version, s.form_id, s.instance_id, f.project_id
                   FROM submissions s JOIN forms f ON f.id = s.form_id WHERE s.id = $1")
                .bind(submission_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let key_version: Option<i64> = r.get("key_version")?;
        Ok(Some(match r.get::<Option<String>>("xml")? {
            Some(text) => match key_version {
                Some(key_version) => SubmissionXml::Sealed {
                    key_version,
                    sealed: text,
                    project_id: r.get("project_id")?,
                    form_id: r.get("form_id")?,
                    instance_id: r.get("instance_id")?,
                },
                None => SubmissionXml::Inline(text),
            },
            None => SubmissionXml::Blob {
                sha256: r.get("xml_sha256")?,
            },
        }))
    }
}
