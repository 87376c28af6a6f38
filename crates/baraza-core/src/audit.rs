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
use baraza_store::{AuditEntry, AuditQuery, Chained, NewAuditEntry, StoreError};
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
    /// server's own.
    pub async fn verify_audit(
        &self,
        signature_every: u64,
        anchor: Option<(u64, [u8; 32])>,
        public_key: Option<AuditPublicKey>,
    ) -> Result<AuditVerified, AuditBroken> {
        let key = public_key.unwrap_or_else(|| self.audit_key.public());
        let signature_every = signature_every.max(1);
        // The head now: entries appended while we verify are left for the next verification.
        let (head_seq, head_hash) = self.store.audit_head().await?;
        // Reading runs ahead of checking, one batch at a time, so that the two cores share the
        // work.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<
            Result<Vec<baraza_store::PackedAuditEntry>, StoreError>,
        >(2);
        let store = self.store.clone();
        let reader = tokio::spawn(async move {
            let mut after = 0i64;
            loop {
                let batch = store
                    .audit_batch(after, head_seq, 20_000, signature_every as i64)
                    .await;
                let last = match &batch {
                    Ok(b) => b.last().and_then(|e| e.seq()),
                    Err(_) => None,
                };
                let done = last.is_none();
                if tx.send(batch).await.is_err() || done {
                    break;
                }
                after = last.unwrap_or(after);
            }
        });
        let mut verifier = ChainVerifier::new(key.clone(), signature_every, anchor);
        let mut prev = chain::GENESIS;
        let result = async {
            while let Some(batch) = rx.recv().await {
                let batch = batch?;
                if batch.is_empty() {
                    break;
                }
                for packed in &batch {
                    let corrupt = || {
                        AuditBroken::from(StoreError::Corrupt(
                            "an audit entry read for verification does not have ten fields".into(),
                        ))
                    };
                    let e = packed.fields().ok_or_else(corrupt)?;
                    let seq: i64 = e.seq.parse().map_err(|_| corrupt())?;
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
                        // The hash covers the previous hash: recomputing from the running one
                        // checks the link and the content at once.
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
                }
            }
            Ok(())
        }
        .await;
        reader.abort();
        result?;
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
