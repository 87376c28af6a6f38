//! Retention: each form's period, and the destruction of records past it.
//!
//! Destruction removes every version of a record, its XML (in the row), its attachments' rows,
//! its comments, reviews and edit reasons, and any web-form draft correcting it, in one
//! transaction. SQLite runs with `secure_delete` (deleted content is overwritten with zeros);
//! [`Store::compact_after_destruction`] then checkpoints and truncates the WAL, vacuums, and
//! truncates again, so that no copy of the destroyed pages survives in the database's files.
//! PostgreSQL's `VACUUM` frees the dead rows' space for reuse (the bytes of dead tuples are not
//! zeroed by PostgreSQL; per-record keys, when encryption at rest comes, will cover that case).

use crate::db::{q, Mode, Row};
use crate::{Backend, Store, StoreError};

/// A form whose records have a retention period.
#[derive(Debug, Clone)]
pub struct RetentionRule {
    pub form_id: i64,
    pub project_id: i64,
    pub xml_form_id: String,
    pub days: i64,
}

/// What one destruction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destroyed {
    /// Records (a record and all its versions count once).
    pub records: i64,
    /// Stored versions of those records.
    pub versions: i64,
    /// Attachment rows removed.
    pub attachments: i64,
    /// Digests of the files those rows named (to wipe when nothing else names them).
    pub blob_sha256: Vec<String>,
}

impl Store {
    pub async fn set_form_retention(
        &self,
        form_id: i64,
        days: Option<i64>,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE forms SET retention_days = $1 WHERE id = $2")
                    .bind(days)
                    .bind(form_id),
            )
            .await?;
        Ok(())
    }

    pub async fn form_retention(&self, form_id: i64) -> Result<Option<i64>, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT retention_days FROM forms WHERE id = $1").bind(form_id),
            )
            .await?
            .get("retention_days")
    }

    /// Every form with a retention period.
    pub async fn retention_rules(&self) -> Result<Vec<RetentionRule>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, project_id, xml_form_id, retention_days FROM forms
                   WHERE retention_days IS NOT NULL ORDER BY id",
                ),
            )
            .await?
            .iter()
            .map(|r: &Row| {
                Ok(RetentionRule {
                    form_id: r.get("id")?,
                    project_id: r.get("project_id")?,
                    xml_form_id: r.get("xml_form_id")?,
                    days: r.get("retention_days")?,
                })
            })
            .collect()
    }

    /// Destroys the records of a form first received before `before` (Unix seconds), in one
    /// transaction.
    pub async fn destroy_records_before(
        &self,
        form_id: i64,
        before: i64,
    ) -> Result<Destroyed, StoreError> {
        let mut tx = self.pools.begin().await?;
        let roots: Vec<String> = tx
            .conn()
            .fetch_all(
                q("SELECT root_instance_id FROM submissions WHERE form_id = $1
                   GROUP BY root_instance_id HAVING MIN(received_at) < $2")
                .bind(form_id)
                .bind(before),
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("root_instance_id"))
            .collect::<Result<_, _>>()?;
        let out = destroy_roots(&mut tx, form_id, &roots, None).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Destroys one record (every version of it), known by any of its versions' instanceIDs.
    /// `None` when the form has no such record. With `withdrawn_at` (consent was withdrawn), the
    /// record's consent is reduced to the proof of withdrawal instead of removed. With `ledger`
    /// (an erasure on request: its reason and time), the erasure goes into the erasure ledger in
    /// the same transaction.
    pub async fn destroy_record(
        &self,
        form_id: i64,
        instance_id: &str,
        withdrawn_at: Option<i64>,
        ledger: Option<(&str, i64)>,
    ) -> Result<Option<Destroyed>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let root = tx
            .conn()
            .fetch_optional(
                q("SELECT root_instance_id FROM submissions WHERE form_id = $1 AND instance_id = $2")
                    .bind(form_id)
                    .bind(instance_id),
            )
            .await?;
        let Some(root) = root else {
            return Ok(None);
        };
        let root: String = root.get("root_instance_id")?;
        if let Some((reason, erased_at)) = ledger {
            let entry = ErasedRecord {
                form_id,
                root_instance_id: root.clone(),
                reason: reason.to_owned(),
                erased_at,
            };
            add_to_ledger(&mut tx, &entry).await?;
        }
        let out = destroy_roots(&mut tx, form_id, &[root], withdrawn_at).await?;
        tx.commit().await?;
        Ok(Some(out))
    }

    /// Every erasure on request ever made (the erasure ledger).
    pub async fn erasure_ledger(&self) -> Result<Vec<ErasedRecord>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT form_id, root_instance_id, reason, erased_at FROM erasure_ledger
                   ORDER BY erased_at, form_id, root_instance_id",
                ),
            )
            .await?
            .iter()
            .map(erased_record)
            .collect()
    }

    /// Adds erasures to the ledger (those it holds already are kept); returns how many were new.
    pub async fn add_to_erasure_ledger(&self, erased: &[ErasedRecord]) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut added = 0;
        for e in erased {
            added += add_to_ledger(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The erasures of the ledger whose record is stored again (a restored backup, a device
    /// that sent it again).
    pub async fn erased_records_back(&self) -> Result<Vec<ErasedRecord>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Write,
                q("SELECT l.form_id, l.root_instance_id, l.reason, l.erased_at FROM erasure_ledger l
                   WHERE EXISTS (SELECT 1 FROM submissions s
                                 WHERE s.form_id = l.form_id AND s.root_instance_id = l.root_instance_id)
                   ORDER BY l.erased_at"),
            )
            .await?
            .iter()
            .map(erased_record)
            .collect()
    }

    /// Whether any stored row still names the file with this digest (another submission, a
    /// form's file or source, a draft).
    pub async fn blob_referenced(&self, sha256: &str) -> Result<bool, StoreError> {
        let like = format!("%{sha256}%");
        let r = self
            .pools
            .fetch_one(
                Mode::Write,
                q("SELECT
                     (SELECT COUNT(*) FROM submission_attachments WHERE sha256 = $1)
                   + (SELECT COUNT(*) FROM form_attachments WHERE sha256 = $1)
                   + (SELECT COUNT(*) FROM encrypted_submission_files WHERE sha256 = $1)
                   + (SELECT COUNT(*) FROM form_versions WHERE source_sha256 = $1)
                   + (SELECT COUNT(*) FROM form_drafts WHERE state_json LIKE $2) AS n")
                .bind(sha256)
                .bind(like),
            )
            .await?;
        Ok(r.get::<i64>("n")? > 0)
    }

    /// Whether a submission (stored, or received encrypted) names the file with this digest:
    /// the question for a file written by the request that asks, which nothing else can name
    /// yet (a sealed file is never shared). Indexed, unlike [`Store::blob_referenced`].
    pub async fn blob_named_by_a_submission(&self, sha256: &str) -> Result<bool, StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Write,
                q("SELECT
                     (SELECT COUNT(*) FROM submission_attachments WHERE sha256 = $1)
                   + (SELECT COUNT(*) FROM encrypted_submission_files WHERE sha256 = $1) AS n")
                .bind(sha256),
            )
            .await?;
        Ok(r.get::<i64>("n")? > 0)
    }

    /// After a destruction: no copy of the destroyed pages left in the database's files.
    /// SQLite: the WAL checkpointed and truncated, the file vacuumed (free pages dropped), the
    /// WAL truncated again. PostgreSQL: `VACUUM` of the tables that held the records.
    pub async fn compact_after_destruction(&self) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                for sql in [
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                    "VACUUM",
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ] {
                    self.pools.fetch_all(Mode::Write, q(sql)).await?;
                }
            }
            Backend::Postgres => {
                for sql in [
                    "VACUUM submissions",
                    "VACUUM submission_attachments",
                    "VACUUM submission_events",
                    "VACUUM form_drafts",
                    "VACUUM consents",
                ] {
                    self.pools.execute(q(sql)).await?;
                }
            }
        }
        Ok(())
    }
}

/// Destroys the records with these roots inside `tx`; their consent goes too, or, with
/// `withdrawn_at`, is reduced to the proof of withdrawal.
/// A record erased on request, as the erasure ledger keeps it: nothing of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedRecord {
    pub form_id: i64,
    pub root_instance_id: String,
    pub reason: String,
    pub erased_at: i64,
}

/// Writes one erasure to the ledger (kept if it is there already); 1 when it was new.
async fn add_to_ledger(tx: &mut crate::db::Tx, e: &ErasedRecord) -> Result<u64, StoreError> {
    tx.conn()
        .execute(
            q(
                "INSERT INTO erasure_ledger (form_id, root_instance_id, reason, erased_at)
               VALUES ($1, $2, $3, $4) ON CONFLICT (form_id, root_instance_id) DO NOTHING",
            )
            .bind(e.form_id)
            .bind(e.root_instance_id.as_str())
            .bind(e.reason.as_str())
            .bind(e.erased_at),
        )
        .await
}

fn erased_record(r: &Row) -> Result<ErasedRecord, StoreError> {
    Ok(ErasedRecord {
        form_id: r.get("form_id")?,
        root_instance_id: r.get("root_instance_id")?,
        reason: r.get("reason")?,
        erased_at: r.get("erased_at")?,
    })
}

async fn destroy_roots(
    tx: &mut crate::db::Tx,
    form_id: i64,
    roots: &[String],
    withdrawn_at: Option<i64>,
) -> Result<Destroyed, StoreError> {
    let mut out = Destroyed::default();
    for root in roots {
        let ids: Vec<(i64, String)> = tx
            .conn()
            .fetch_all(
                q("SELECT id, instance_id FROM submissions WHERE form_id = $1 AND root_instance_id = $2")
                    .bind(form_id)
                    .bind(root.as_str()),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get::<i64>("id")?, r.get::<String>("instance_id")?)))
            .collect::<Result<_, StoreError>>()?;
        for (id, instance) in &ids {
            let shas = tx
                .conn()
                .fetch_all(
                    q("SELECT sha256 FROM submission_attachments WHERE submission_id = $1 AND sha256 IS NOT NULL")
                        .bind(*id),
                )
                .await?;
            for s in &shas {
                out.blob_sha256.push(s.get("sha256")?);
            }
            out.attachments += tx
                .conn()
                .execute(q("DELETE FROM submission_attachments WHERE submission_id = $1").bind(*id))
                .await? as i64;
            tx.conn()
                .execute(
                    q("DELETE FROM form_drafts WHERE form_id = $1 AND edit_of = $2")
                        .bind(form_id)
                        .bind(instance.as_str()),
                )
                .await?;
        }
        crate::consent::destroy(&mut tx.conn(), form_id, root, withdrawn_at).await?;
        tx.conn()
            .execute(
                q("DELETE FROM submission_events WHERE form_id = $1 AND root_instance_id = $2")
                    .bind(form_id)
                    .bind(root.as_str()),
            )
            .await?;
        out.versions += tx
            .conn()
            .execute(
                q("DELETE FROM submissions WHERE form_id = $1 AND root_instance_id = $2")
                    .bind(form_id)
                    .bind(root.as_str()),
            )
            .await? as i64;
        out.records += 1;
    }
    out.blob_sha256.sort();
    out.blob_sha256.dedup();
    Ok(out)
}

/// What the record of processing says of a form besides its fields: why its data is collected,
/// on what lawful basis, about whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormPurpose {
    pub purpose: String,
    /// One of GDPR art. 6's bases (`consent`, `contract`, `legal_obligation`, `vital_interests`,
    /// `public_task`, `legitimate_interests`), or empty.
    pub lawful_basis: String,
    /// The people the data is about (`households of N'Djamena`…).
    pub data_subjects: String,
}

impl Store {
    pub async fn form_purpose(&self, form_id: i64) -> Result<FormPurpose, StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT purpose, lawful_basis, data_subjects FROM forms WHERE id = $1")
                    .bind(form_id),
            )
            .await?;
        Ok(FormPurpose {
            purpose: r.get("purpose")?,
            lawful_basis: r.get("lawful_basis")?,
            data_subjects: r.get("data_subjects")?,
        })
    }

    pub async fn set_form_purpose(&self, form_id: i64, p: &FormPurpose) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE forms SET purpose = $1, lawful_basis = $2, data_subjects = $3 WHERE id = $4")
                    .bind(p.purpose.as_str())
                    .bind(p.lawful_basis.as_str())
                    .bind(p.data_subjects.as_str())
                    .bind(form_id),
            )
            .await?;
        Ok(())
    }
}

/// A stored version holding answers whose retention has passed (see
/// [`Store::versions_with_expired_answers`]).
#[derive(Debug, Clone)]
pub struct ExpiredAnswers {
    pub id: i64,
    pub project_id: i64,
    pub form_id: i64,
    pub instance_id: String,
    /// `None`: the XML is in a blob (submissions stored before migration 0005).
    pub xml: Option<String>,
    /// The data key version when the XML and protected answers are sealed.
    pub key_version: Option<i64>,
    pub values_json: String,
}

/// A version with some answers erased: its new XML (if it was in the row) and values, and the
/// instance paths of the answers removed (their blind-index entries go too).
#[derive(Debug, Clone)]
pub struct AnswersErased {
    pub id: i64,
    pub xml: Option<String>,
    pub values_json: String,
    pub paths: Vec<String>,
}

/// `text` as a LIKE pattern matching itself anywhere (with `ESCAPE '\'`).
fn like_anywhere(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Up to `limit` stored versions (after `after_id`) filled with this form version, of records
    /// first received before `received_before`, whose stored values still hold an answer to a
    /// question of one of these names (the caller checks each answer's path).
    pub async fn versions_with_expired_answers(
        &self,
        form_version_id: i64,
        received_before: i64,
        names: &[String],
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ExpiredAnswers>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT s.id, f.project_id, s.form_id, s.instance_id, s.xml, s.key_version, s.values_json
             FROM submissions s JOIN forms f ON f.id = s.form_id
             WHERE s.form_version_id = $1 AND s.id > $2
               AND (SELECT MIN(r.received_at) FROM submissions r
                    WHERE r.form_id = s.form_id AND r.root_instance_id = s.root_instance_id) < $3
               AND (",
        );
        let mut query_args: Vec<crate::db::Arg> = vec![
            form_version_id.into(),
            after_id.into(),
            received_before.into(),
        ];
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            query_args.push(like_anywhere(&format!("\"question\":\"{name}\"")).into());
            sql.push_str(&format!(
                "s.values_json LIKE ${} ESCAPE '\\'",
                query_args.len()
            ));
        }
        query_args.push(limit.into());
        sql.push_str(&format!(") ORDER BY s.id LIMIT ${}", query_args.len()));
        let mut query = crate::db::q_built(sql);
        for a in query_args {
            query = query.bind(a);
        }
        self.pools
            .fetch_all(Mode::Read, query)
            .await?
            .iter()
            .map(|r| {
                Ok(ExpiredAnswers {
                    id: r.get("id")?,
                    project_id: r.get("project_id")?,
                    form_id: r.get("form_id")?,
                    instance_id: r.get("instance_id")?,
                    xml: r.get("xml")?,
                    key_version: r.get("key_version")?,
                    values_json: r.get("values_json")?,
                })
            })
            .collect()
    }

    /// Writes versions with some answers erased, and removes those answers' blind-index
    /// entries, in one transaction.
    pub async fn erase_answers(&self, updates: &[AnswersErased]) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for u in updates {
            n += tx
                .conn()
                .execute(
                    q("UPDATE submissions SET xml = COALESCE($1, xml), values_json = $2 WHERE id = $3")
                        .bind(u.xml.as_deref())
                        .bind(u.values_json.as_str())
                        .bind(u.id),
                )
                .await?;
            for p in &u.paths {
                tx.conn()
                    .execute(
                        q("DELETE FROM subject_index WHERE submission_id = $1 AND path = $2")
                            .bind(u.id)
                            .bind(p.as_str()),
                    )
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(n)
    }
}
