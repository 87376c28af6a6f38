//! The audit log: appended under the lock of its one head row, read in keyset batches.
//!
//! The hashing and signing are the caller's (`baraza_protect::chain` through `baraza-core`): the
//! store hands the caller the next sequence number and the previous hash inside the transaction
//! and stores what the caller computed from them, so entries from several instances chain in one
//! order. The tables refuse updates and deletes (triggers of migration 0008).

use crate::db::{q, q_built, Mode, Row};
use crate::{Store, StoreError};

/// An entry to append, before it is chained.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    /// Query columns; they must agree with `actor` and `target`.
    pub user_id: Option<i64>,
    pub project_id: Option<i64>,
}

/// What the caller computes for the entry: its hash and signature, in hexadecimal.
#[derive(Debug, Clone)]
pub struct Chained {
    pub hash: String,
    pub signature: String,
}

/// One stored entry.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    pub signature: String,
    pub user_id: Option<i64>,
    pub project_id: Option<i64>,
}

fn entry_from(r: &Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.get("seq")?,
        at: r.get("at")?,
        actor: r.get("actor")?,
        action: r.get("action")?,
        target: r.get("target")?,
        details: r.get("details")?,
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
        signature: r.get("signature")?,
        user_id: r.get("user_id")?,
        project_id: r.get("project_id")?,
    })
}

/// A `LIKE` pattern (with `ESCAPE '\\'`) matching text that starts with `prefix`.
fn like_prefix(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

const COLS: &str =
    "seq, at, actor, action, target, details, prev_hash, hash, signature, user_id, project_id";

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub project_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Actions starting with this (`export.` for every export).
    pub action_prefix: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Newest first, entries before this sequence number (the next page's cursor).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Separates the fields of an entry read for verification.
const SEP: char = '\u{1f}';
/// Separates the entries of a batch read for verification.
const ENTRY_SEP: char = '\u{1e}';

/// A batch of entries as verification reads them: every entry's fields in one string, split in
/// place.
#[derive(Debug, Clone, Default)]
pub struct AuditBatch {
    packed: String,
    count: usize,
}

/// The fields of one entry of an [`AuditBatch`], borrowed. `signature` is empty when not
/// sampled; the ids are empty when NULL.
#[derive(Debug, Clone, Copy)]
pub struct PackedFields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    pub hash: &'a str,
    pub signature: &'a str,
    pub user_id: &'a str,
    pub project_id: &'a str,
}

impl<'a> PackedFields<'a> {
    /// The fields of one entry; `None` unless it holds exactly ten and a sequence number.
    fn split(entry: &'a str) -> Option<PackedFields<'a>> {
        let mut it = entry.split(SEP);
        let mut next = || it.next();
        let f = PackedFields {
            seq: next()?.parse().ok()?,
            at: next()?,
            actor: next()?,
            action: next()?,
            target: next()?,
            details: next()?,
            hash: next()?,
            signature: next()?,
            user_id: next()?,
            project_id: next()?,
        };
        it.next().is_none().then_some(f)
    }
}

impl AuditBatch {
    /// How many entries the batch holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries' fields, in the order of their sequence numbers. An error if an entry does
    /// not hold exactly ten fields, or if the text does not hold exactly as many entries as
    /// the database counted rows: with one entry per row and ten fields per entry, no stored
    /// value can hold a separator and shift what is read.
    pub fn entries(&self) -> Result<Vec<PackedFields<'_>>, StoreError> {
        let corrupt = |what: &str| {
            StoreError::Corrupt(format!("audit entries read for verification: {what}"))
        };
        if self.count == 0 {
            return Ok(Vec::new());
        }
        let mut entries = self
            .packed
            .split(ENTRY_SEP)
            .map(PackedFields::split)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt("an entry does not have ten fields"))?;
        if entries.len() != self.count {
            return Err(corrupt("a stored value holds a separator"));
        }
        // The aggregate's order is not promised by either database (in practice it is the
        // order read); the sequence numbers are.
        if !entries.is_sorted_by_key(|e| e.seq) {
            entries.sort_by_key(|e| e.seq);
        }
        Ok(entries)
    }
}

impl Store {
    /// Appends entries in one transaction (one flush for all) and returns the sequence number
    /// of the last. `chain(entry, seq, prev_hash)` computes each entry's hash and signature from
    /// its sequence number and the previous entry's hash. The head row's lock orders concurrent
    /// appends, on either backend.
    pub async fn append_audit(
        &self,
        entries: &[NewAuditEntry<'_>],
        mut chain: impl FnMut(&NewAuditEntry<'_>, i64, &str) -> Chained,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n = entries.len() as i64;
        // The UPDATE takes the row lock (PostgreSQL) or runs on the one writer (SQLite).
        let head = tx
            .conn()
            .fetch_one(
                q("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash").bind(n),
            )
            .await?;
        let last: i64 = head.get("seq")?;
        let mut prev: String = head.get("hash")?;
        for (i, e) in entries.iter().enumerate() {
            let seq = last - n + 1 + i as i64;
            let Chained { hash, signature } = chain(e, seq, &prev);
            tx.conn()
                .execute(
                    q("INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash, signature, user_id, project_id)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                    .bind(seq)
                    .bind(e.at)
                    .bind(e.actor)
                    .bind(e.action)
                    .bind(e.target)
                    .bind(e.details)
                    .bind(prev.as_str())
                    .bind(hash.as_str())
                    .bind(signature.as_str())
                    .bind(e.user_id)
                    .bind(e.project_id),
                )
                .await?;
            prev = hash;
        }
        tx.conn()
            .execute(q("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(prev.as_str()))
            .await?;
        tx.commit().await?;
        Ok(last)
    }

    /// The entries after `after_seq` up to `upto_seq` (a range the caller keeps short: a few
    /// thousand entries), as verification reads them: without `prev_hash` (the chain is
    /// recomputed from the hashes), and with the signature only of every `sign_every`-th entry
    /// and of entry `upto_seq` (empty otherwise), so that a million entries are read quickly.
    pub async fn audit_batch(
        &self,
        after_seq: i64,
        upto_seq: i64,
        sign_every: i64,
    ) -> Result<AuditBatch, StoreError> {
        // The whole batch is one row of one text column: each entry's fields joined by U+001F,
        // the entries by U+001E (which JSON details escape and the other fields, ours, never
        // hold; `AuditBatch::entries` checks the counts, so a stored separator is caught). Most
        // of what reading a million entries cost was the driver's work per row. `concat` builds
        // an entry's text in one step where `||` copied it once per field (and reads NULL ids
        // as empty); `concat_ws` would be shorter, but SQLite's leaves out empty values. A
        // range of sequence numbers needs no sorting or subquery, as `ORDER BY … LIMIT` did.
        let row = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT COUNT(*) AS n,
                          string_agg(concat(seq, $4, at, $4, actor, $4, action, $4, target, $4,
                              details, $4, hash, $4,
                              CASE WHEN seq % $3 = 0 OR seq = $2 THEN signature ELSE '' END, $4,
                              user_id, $4, project_id), $5) AS packed
                   FROM audit_log WHERE seq > $1 AND seq <= $2")
                .bind(after_seq)
                .bind(upto_seq)
                .bind(sign_every.max(1))
                .bind(SEP.to_string())
                .bind(ENTRY_SEP.to_string()),
            )
            .await?;
        let count: i64 = row.get("n")?;
        Ok(AuditBatch {
            packed: row.get::<Option<String>>("packed")?.unwrap_or_default(),
            count: usize::try_from(count)
                .map_err(|_| StoreError::Corrupt("a negative count of audit entries".into()))?,
        })
    }

    /// The head: the last sequence number and its hash (0 and zeros for an empty log).
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT seq, hash FROM audit_head WHERE id = 1"),
            )
            .await?;
        Ok((r.get("seq")?, r.get("hash")?))
    }

    /// Entries matching `query`, newest first.
    pub async fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = format!("SELECT {COLS} FROM audit_log WHERE 1 = 1");
        let mut args: Vec<crate::db::Arg> = Vec::new();
        let mut push = |cond: &str, arg: crate::db::Arg, sql: &mut String| {
            args.push(arg);
            sql.push_str(&format!(" AND {cond} ${}", args.len()));
        };
        if let Some(p) = query.project_id {
            push("project_id =", p.into(), &mut sql);
        }
        if let Some(u) = query.user_id {
            push("user_id =", u.into(), &mut sql);
        }
        if let Some(prefix) = &query.action_prefix {
            push("action LIKE", like_prefix(prefix).into(), &mut sql);
            sql.push_str(" ESCAPE '\\'");
        }
        if let Some(s) = query.since {
            push("at >=", s.into(), &mut sql);
        }
        if let Some(u) = query.until {
            push("at <", u.into(), &mut sql);
        }
        if let Some(b) = query.before_seq {
            push("seq <", b.into(), &mut sql);
        }
        args.push(query.limit.into());
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", args.len()));
        let mut stmt = q_built(sql);
        for a in args {
            stmt = stmt.bind(a);
        }
        self.pools
            .fetch_all(Mode::Read, stmt)
            .await?
            .iter()
            .map(entry_from)
            .collect()
    }

    /// How many entries of `action` (prefix) one account made since `since`: what the export
    /// alert compares with the account's usual.
    pub async fn audit_count(
        &self,
        user_id: i64,
        action_prefix: &str,
        since: i64,
        until: i64,
    ) -> Result<i64, StoreError> {
        let like = like_prefix(action_prefix);
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT COUNT(*) AS n FROM audit_log
                   WHERE user_id = $1 AND action LIKE $2 ESCAPE '\\' AND at >= $3 AND at < $4")
                .bind(user_id)
                .bind(like)
                .bind(since)
                .bind(until),
            )
            .await?
            .get("n")
    }
}
