//! The tamper-evident audit log: who signed in, who read or exported personal data, who changed
//! what, which roles and keys changed.
//!
//! Entries are chained and signed by `baraza_protect::chain` with the server's audit key, which
//! the binary reads from a file (never from the database). [`Core::verify_audit`] reads the whole
//! log in batches and checks it in constant memory. Managers browse their project's entries
//! ([`Core::project_audit`]); administrators the whole log.
//!
//! # What is recorded
//!
//! Actions are stable dotted codes (docs/audit.md lists them). Details are small JSON objects
//! that name things by id and never carry answers: the log says *that* Claire exported the water
//! points with a filter, not what the records said.
//!
//! An export by an account far above its usual (more than [`ALERT_MIN_EXPORTS`] in a day and
//! more than [`ALERT_FACTOR`] times its daily average of the previous 30 days) adds an
//! `alert.unusual_exports` entry, which the project's audit page shows first.

use crate::access::ProjectAccess;
use crate::{Core, CoreError, Principal};
use baraza_protect::chain::{self, AuditPublicKey, Break, ChainVerifier, Content};
use baraza_store::{
    AuditBatch, AuditEntry, AuditQuery, Chained, NewAuditEntry, PackedFields, StoreError,
};
use baraza_types::{Permission, ProjectId, UserId};
use serde_json::Value;

/// Exports in one day below which no alert is raised, whatever the account's usual.
pub const ALERT_MIN_EXPORTS: i64 = 20;
/// How many times its daily average an account must export in a day to raise an alert.
pub const ALERT_FACTOR: i64 = 5;

/// Who did something, as the log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    /// An ODK Collect app user of a project.
    AppUser(i64),
    /// Someone not signed in (a public link, a failed sign-in).
    Anonymous,
    /// The server itself (scheduled jobs, the command line's maintenance).
    System,
}

impl Actor {
    pub fn of(principal: &Principal) -> Actor {
        principal
            .user()
            .map(|u| Actor::User(u.id))
            .unwrap_or(Actor::Anonymous)
    }

    pub fn of_access(access: &ProjectAccess) -> Actor {
        access.user.map(Actor::User).unwrap_or(Actor::Anonymous)
    }

    pub fn text(self) -> String {
        match self {
            Actor::User(u) => format!("user:{}", u.0),
            Actor::AppUser(a) => format!("app-user:{a}"),
            Actor::Anonymous => "anonymous".into(),
            Actor::System => "system".into(),
        }
    }

    fn user_id(self) -> Option<i64> {
        match self {
            Actor::User(u) => Some(u.0),
            _ => None,
        }
    }
}

/// What an action was done to: `project:3/form:points_eau/submission:uuid:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub project: Option<ProjectId>,
    pub text: String,
}

impl Target {
    pub fn none() -> Target {
        Target::default()
    }

    pub fn project(id: ProjectId) -> Target {
        Target {
            project: Some(id),
            text: format!("project:{}", id.0),
        }
    }

    pub fn form(project: ProjectId, xml_form_id: &str) -> Target {
        Target {
            project: Some(project),
            text: format!("project:{}/form:{xml_form_id}", project.0),
        }
    }

    pub fn submission(project: ProjectId, xml_form_id: &str, instance_id: &str) -> Target {
        Target {
            project: Some(project),
            text: format!(
                "project:{}/form:{xml_form_id}/submission:{instance_id}",
                project.0
            ),
        }
    }

    pub fn user(id: UserId) -> Target {
        Target {
            project: None,
            text: format!("user:{}", id.0),
        }
    }

    pub fn org(slug: &str) -> Target {
        Target {
            project: None,
            text: format!("org:{slug}"),
        }
    }

    /// The project a target's text names, as verification reads it back.
    fn project_of(text: &str) -> Option<i64> {
        text.strip_prefix("project:")?
            .split('/')
            .next()?
            .parse()
            .ok()
    }
}

/// Where verification found the log broken.
#[derive(Debug, thiserror::Error)]
pub enum AuditBroken {
    #[error("{0}")]
    Chain(Break),
    #[error("entry {seq}: its {column} column does not agree with what the entry says")]
    Column { seq: i64, column: &'static str },
    #[error("entry {seq} cannot be read: {what}")]
    Unreadable { seq: i64, what: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of a verification that found nothing wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerified {
    pub entries: u64,
    pub signatures_checked: u64,
    /// `SEQ:HASH` of the last entry, to note down and give as the next verification's anchor.
    pub anchor: Option<String>,
    /// The public key that checked the signatures, hexadecimal.
    pub public_key: String,
}

fn user_of(actor: &str) -> Option<i64> {
    actor.strip_prefix("user:").and_then(|u| u.parse().ok())
}

fn unhex<const N: usize>(seq: i64, text: &str, what: &'static str) -> Result<[u8; N], AuditBroken> {
    chain::from_hex::<N>(text).ok_or(AuditBroken::Unreadable { seq, what })
}

/// The fewest entries a part of a verification checks: below, one part does it all.
pub const MIN_PART: u64 = 50_000;

/// Entries read from the store at a time by each part of a verification.
const BATCH: u64 = 5_000;

/// Tasks stopped when the handles are dropped.
struct AbortOnDrop<T>(Vec<tokio::task::JoinHandle<T>>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Checks the entries after `lo` up to `hi` with `verifier`, which (unless `lo` is 0) starts
/// after the entry it finds first from `lo` on, whatever that is: the part before checks that
/// entry, and joining the two checks that they meet there. Returns the verifier, to be joined
/// with the others, and what broke the part, if anything.
async fn verify_part(
    store: baraza_store::Store,
    mut verifier: ChainVerifier,
    lo: u64,
    hi: u64,
) -> (ChainVerifier, Option<AuditBroken>) {
    let every = verifier.signature_every();
    // Reading runs one batch ahead of checking.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<AuditBatch, StoreError>>(1);
    let reader = AbortOnDrop(vec![tokio::spawn(async move {
        // Ranges of sequence numbers: in a whole log, `BATCH` entries each.
        let mut after = lo.saturating_sub(1);
        while after < hi {
            let upto = hi.min(after + BATCH);
            let batch = store
                .audit_batch(after as i64, upto as i64, every as i64)
                .await;
            if tx.send(batch).await.is_err() {
                break;
            }
            after = upto;
        }
    })]);
    let mut start = lo > 0;
    let mut prev = chain::GENESIS;
    let mut check = |e: PackedFields<'_>| -> Result<(), AuditBroken> {
        let corrupt = || {
            AuditBroken::from(StoreError::Corrupt(
                "an audit entry read for verification does not have ten fields".into(),
            ))
        };
        let seq = e.seq;
        if start {
            // The entry before the range: only its stored hash is used here.
            let hash = unhex(seq, e.hash, "hash")?;
            verifier.start_after(seq as u64, hash);
            prev = hash;
            start = false;
            return Ok(());
        }
        let at: i64 = e.at.parse().map_err(|_| corrupt())?;
        let id = |v: &str, column: &'static str| -> Result<Option<i64>, AuditBroken> {
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| AuditBroken::Column { seq, column })
        };
        let signature = if e.signature.is_empty() {
            [0u8; 64]
        } else {
            unhex(seq, e.signature, "signature")?
        };
        let stored = chain::Stored {
            seq: seq as u64,
            content: Content {
                at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                details: e.details,
            },
            // The hash covers the previous hash: recomputing from the running one checks the
            // link and the content at once.
            prev,
            hash: unhex(seq, e.hash, "hash")?,
            signature,
        };
        verifier.push(&stored).map_err(AuditBroken::Chain)?;
        prev = stored.hash;
        if id(e.user_id, "user_id")? != user_of(e.actor) {
            return Err(AuditBroken::Column {
                seq,
                column: "user_id",
            });
        }
        if id(e.project_id, "project_id")? != Target::project_of(e.target) {
            return Err(AuditBroken::Column {
                seq,
                column: "project_id",
            });
        }
        Ok(())
    };
    let mut broken = None;
    'read: while let Some(batch) = rx.recv().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                broken = Some(e.into());
                break;
            }
        };
        let entries = match batch.entries() {
            Ok(entries) => entries,
            Err(e) => {
                broken = Some(e.into());
                break;
            }
        };
        for e in entries {
            if let Err(e) = check(e) {
                broken = Some(e);
                break 'read;
            }
        }
    }
    drop(reader);
    (verifier, broken)
}

impl Core {
    /// Appends one entry to the audit log and returns its sequence number. A failure to record
    /// is an error of the action that asked for it: an action that must be audited does not
    /// happen unaudited.
    pub async fn audit(
        &self,
        actor: Actor,
        action: &str,
        target: &Target,
        details: Value,
    ) -> Result<i64, CoreError> {
        self.audit_many(vec![(actor, action.to_owned(), target.clone(), details)])
            .await
    }

    /// Appends several entries in one transaction (one flush for all); returns the last one's
    /// sequence number.
    pub async fn audit_many(
        &self,
        entries: Vec<(Actor, String, Target, Value)>,
    ) -> Result<i64, CoreError> {
        let key = self.audit_key.clone();
        let store = self.store.clone();
        let at = self.now();
        // The append runs in a task of its own: a request dropped half-way (a client that goes
        // away while its export streams) must not leave the head row locked by a transaction
        // that nobody finishes.
        let task = tokio::spawn(async move {
            let texts: Vec<(String, String, Target, String, Option<i64>)> = entries
                .into_iter()
                .map(|(actor, action, target, details)| {
                    let user = actor.user_id();
                    (actor.text(), action, target, details.to_string(), user)
                })
                .collect();
            let new: Vec<NewAuditEntry<'_>> = texts
                .iter()
                .map(|(actor, action, target, details, user)| NewAuditEntry {
                    at,
                    actor,
                    action,
                    target: &target.text,
                    details,
                    user_id: *user,
                    project_id: target.project.map(|p| p.0),
                })
                .collect();
            store
                .append_audit(&new, |e, seq, prev| {
                    let content = Content {
                        at: e.at,
                        actor: e.actor,
                        action: e.action,
                        target: e.target,
                        details: e.details,
                    };
                    // Invariant: the head's hash is always one this code wrote (64 hex
                    // digits); a damaged head chains from zeros, which verification reports.
                    let prev = chain::from_hex::<32>(prev).unwrap_or(chain::GENESIS);
                    let hash = chain::entry_hash(seq as u64, &content, &prev);
                    Chained {
                        hash: hex::encode(hash),
                        signature: hex::encode(key.sign(seq as u64, &hash)),
                    }
                })
                .await
        });
        match task.await {
            Ok(seq) => Ok(seq?),
            Err(e) => Err(StoreError::Unavailable(format!("audit append: {e}")).into()),
        }
    }

    /// Records an export or download, then checks whether this account is exporting far more
    /// than usual.
    pub async fn audit_export(
        &self,
        access: &ProjectAccess,
        action: &str,
        target: &Target,
        details: Value,
    ) -> Result<(), CoreError> {
        let actor = Actor::of_access(access);
        self.audit(actor, action, target, details).await?;
        let Actor::User(user) = actor else {
            return Ok(());
        };
        let now = self.now();
        let day = 24 * 3600;
        let today = self
            .store
            .audit_count(user.0, "export.", now - day, now + 1)
            .await?;
        let before = self
            .store
            .audit_count(user.0, "export.", now - 31 * day, now - day)
            .await?;
        let average = before / 30;
        // Raised once, when the day's count first goes over the threshold.
        let threshold = ALERT_MIN_EXPORTS.max(ALERT_FACTOR * average);
        if today == threshold + 1 {
            tracing::warn!(
                user = user.0,
                exports_today = today,
                daily_average = average,
                "unusual number of exports"
            );
            self.audit(
                Actor::System,
                "alert.unusual_exports",
                &Target::project(access.project.id),
                serde_json::json!({
                    "user": user.0,
                    "exports_last_24h": today,
                    "daily_average_30d": average,
                }),
            )
            .await?;
        }
        Ok(())
    }

    /// The public half of the audit key.
    pub fn audit_public_key(&self) -> AuditPublicKey {
        self.audit_key.public()
    }

    /// Checks the whole log: every hash, the signature of every `signature_every`-th entry and of
    /// the last one, the query columns against the hashed text, and the anchor if one is given.
    /// `public_key` (hexadecimal) checks against a key published earlier instead of this
    /// server's own. A long log is checked in parts at once, one per core and of at least
    /// [`MIN_PART`] entries (see [`Core::verify_audit_in_parts`]).
    pub async fn verify_audit(
        &self,
        signature_every: u64,
        anchor: Option<(u64, [u8; 32])>,
        public_key: Option<AuditPublicKey>,
    ) -> Result<AuditVerified, AuditBroken> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        self.verify(signature_every, anchor, public_key, |head| {
            cores.min(head / MIN_PART).max(1)
        })
        .await
    }

    /// [`Core::verify_audit`] in `parts` ranges of the log checked at once (fewer if the log
    /// has fewer entries): part `j` of `n` holds the entries after `head·j/n` up to
    /// `head·(j+1)/n` and starts from the *stored* hash of the entry before its range, which the
    /// part before it checks; the parts are joined in order, so that the result, and the first
    /// break found, are those of checking the log in one go.
    pub async fn verify_audit_in_parts(
        &self,
        signature_every: u64,
        anchor: Option<(u64, [u8; 32])>,
        public_key: Option<AuditPublicKey>,
        parts: u64,
    ) -> Result<AuditVerified, AuditBroken> {
        self.verify(signature_every, anchor, public_key, |head| {
            parts.clamp(1, head.max(1))
        })
        .await
    }

    async fn verify(
        &self,
        signature_every: u64,
        anchor: Option<(u64, [u8; 32])>,
        public_key: Option<AuditPublicKey>,
        parts: impl FnOnce(u64) -> u64,
    ) -> Result<AuditVerified, AuditBroken> {
        let key = public_key.unwrap_or_else(|| self.audit_key.public());
        let signature_every = signature_every.max(1);
        // The head now: entries appended while we verify are left for the next verification.
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let head = u64::try_from(head_seq).unwrap_or(0);
        let parts = parts(head);
        let bound = |j: u64| (u128::from(head) * u128::from(j) / u128::from(parts)) as u64;
        // Dropping the handles (an error, or a caller that goes away) stops every part.
        let mut tasks = AbortOnDrop(
            (0..parts)
                .map(|j| {
                    tokio::spawn(verify_part(
                        self.store.clone(),
                        ChainVerifier::new(key.clone(), signature_every, anchor),
                        bound(j),
                        bound(j + 1),
                    ))
                })
                .collect(),
        );
        let mut joined: Option<ChainVerifier> = None;
        for task in tasks.0.iter_mut() {
            let (part, broken) = task
                .await
                .map_err(|e| StoreError::Unavailable(format!("audit verification: {e}")))?;
            joined = Some(match joined {
                None => part,
                Some(before) => before.join(part).map_err(AuditBroken::Chain)?,
            });
            if let Some(broken) = broken {
                return Err(broken);
            }
        }
        drop(tasks);
        let verifier = joined.unwrap_or_else(|| ChainVerifier::new(key.clone(), 1, anchor));
        let done = verifier.finish().map_err(AuditBroken::Chain)?;
        // The head row must agree with the last entry: a cut tail leaves it ahead.
        let last = done.head.map(|(s, h)| (s as i64, hex::encode(h)));
        if last.as_ref().map(|(s, _)| *s).unwrap_or(0) != head_seq
            || last
                .as_ref()
                .is_some_and(|(_, h)| !crate::constant_time_eq(h, &head_hash))
        {
            return Err(AuditBroken::Chain(Break::Gap {
                expected: last.map(|(s, _)| s as u64).unwrap_or(0) + 1,
                found: head_seq as u64,
            }));
        }
        Ok(AuditVerified {
            entries: done.entries,
            signatures_checked: done.signatures_checked,
            anchor: done.head.map(|(s, h)| format!("{s}:{}", hex::encode(h))),
            public_key: key.to_hex(),
        })
    }

    /// Notes a successful verification of the whole log (when, how many entries, the anchor),
    /// in its own table and in the log itself: the impact assessment says when the log was last
    /// checked.
    pub async fn note_audit_verified(
        &self,
        principal: &Principal,
        v: &AuditVerified,
    ) -> Result<(), CoreError> {
        let anchor = v.anchor.clone().unwrap_or_default();
        self.store
            .add_audit_verification(
                self.now(),
                v.entries as i64,
                &anchor,
                principal.user().map(|u| u.id.0),
            )
            .await?;
        self.audit(
            Actor::of(principal),
            "audit.verified",
            &Target::none(),
            serde_json::json!({ "entries": v.entries, "anchor": anchor }),
        )
        .await?;
        Ok(())
    }

    /// A project's audit entries, newest first, for its managers.
    pub async fn project_audit(
        &self,
        access: &ProjectAccess,
        mut query: AuditQuery,
    ) -> Result<Vec<AuditEntry>, CoreError> {
        access.require(Permission::ViewAudit)?;
        query.project_id = Some(access.project.id.0);
        query.limit = query.limit.clamp(1, 1000);
        Ok(self.store.audit_entries(&query).await?)
    }

    /// The whole log, for site administrators.
    pub async fn site_audit(
        &self,
        principal: &Principal,
        mut query: AuditQuery,
    ) -> Result<Vec<AuditEntry>, CoreError> {
        principal.require_admin()?;
        query.limit = query.limit.clamp(1, 1000);
        Ok(self.store.audit_entries(&query).await?)
    }
}
