//! ODK encrypted forms: projects' managed form keys, and the submissions received encrypted and
//! not decrypted yet (their envelope and the blobs of their encrypted files).
//!
//! An encrypted submission is stored in one transaction, like any other, and the same rules
//! apply to its instanceID: a replay (same envelope bytes) adds only the files still missing, a
//! different envelope under the same instanceID is a conflict, and an instanceID that is already
//! a (decrypted or clear) submission of the form is a replay that changes nothing. Decrypting
//! one stores the decrypted submission through the ingestion's `store_one` and deletes the
//! encrypted row in the same transaction ([`Store::insert_decrypted_submission`]).

use crate::db::{q, Conn, Mode};
use crate::forms::{stored_file_ref, StoredFileRef};
use crate::ingest::{store_one, IngestOutcome, NewSubmission, ReceivedFile};
use crate::{Store, StoreError};
use baraza_types::UserId;

/// A project's managed form key.
#[derive(Debug, Clone)]
pub struct ProjectFormKey {
    pub project_id: i64,
    /// Base64 DER SubjectPublicKeyInfo, as it goes into `base64RsaPublicKey`.
    pub public_key: String,
    /// The private key sealed under the passphrase (`SealedFormKey::to_text`).
    pub sealed_key: String,
    pub hint: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// An encrypted submission to store.
#[derive(Debug, Clone)]
pub struct NewEncryptedSubmission {
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    /// The envelope exactly as received.
    pub manifest: String,
    pub manifest_sha256: String,
    pub app_user_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub received_at: i64,
    /// Every file the envelope names (media files, then the submission file).
    pub names: Vec<String>,
    /// The files received with it, already durable blobs.
    pub files: Vec<ReceivedFile>,
}

/// A stored encrypted submission.
#[derive(Debug, Clone)]
pub struct EncryptedSubmissionRow {
    pub id: i64,
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    pub manifest: String,
    pub app_user_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub received_at: i64,
    /// The envelope's files: name, and the blob's digest and sealed key once the file arrived.
    pub files: Vec<StoredFileRef>,
}

impl Store {
    /// The project's managed form key, if encryption was turned on for it.
    pub async fn project_form_key(
        &self,
        project_id: i64,
    ) -> Result<Option<ProjectFormKey>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT project_id, public_key, sealed_key, hint, created_by, created_at
                   FROM project_form_keys WHERE project_id = $1",
                )
                .bind(project_id),
            )
            .await?
            .map(|r| {
                Ok(ProjectFormKey {
                    project_id: r.get("project_id")?,
                    public_key: r.get("public_key")?,
                    sealed_key: r.get("sealed_key")?,
                    hint: r.get("hint")?,
                    created_by: r.get("created_by")?,
                    created_at: r.get("created_at")?,
                })
            })
            .transpose()
    }

    /// Records a project's managed form key; a project has at most one (`Conflict` otherwise).
    pub async fn insert_project_form_key(&self, k: &ProjectFormKey) -> Result<(), StoreError> {
        let n = self
            .pools
            .execute(
                q("INSERT INTO project_form_keys (project_id, public_key, sealed_key, hint, created_by, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id) DO NOTHING")
                .bind(k.project_id)
                .bind(k.public_key.as_str())
                .bind(k.sealed_key.as_str())
                .bind(k.hint.as_str())
                .bind(k.created_by)
                .bind(k.created_at),
            )
            .await?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                what: "project_form_key",
            })
        }
    }

    /// Stores an encrypted submission in one transaction, or recognises a replay (adding the
    /// files still missing) or a conflict. `Replay` carries the id of the encrypted row, or 0
    /// when the instanceID is already a submission of the form.
    pub async fn insert_encrypted_submission(
        &self,
        s: &NewEncryptedSubmission,
    ) -> Result<IngestOutcome, StoreError> {
        let mut tx = self.pools.begin().await?;
        let outcome = store_encrypted(&mut tx.conn(), s).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The encrypted submissions of a form, oldest first.
    pub async fn encrypted_submissions(
        &self,
        form_id: i64,
    ) -> Result<Vec<EncryptedSubmissionRow>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT id, form_id, form_version_id, instance_id, manifest, app_user_id, user_id, received_at
                   FROM encrypted_submissions WHERE form_id = $1 ORDER BY received_at, id")
                .bind(form_id),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.get("id")?;
            let files = self
                .pools
                .fetch_all(
                    Mode::Read,
                    q(
                        "SELECT name, sha256, file_key FROM encrypted_submission_files
                       WHERE encrypted_submission_id = $1",
                    )
                    .bind(id),
                )
                .await?
                .iter()
                .map(stored_file_ref)
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(EncryptedSubmissionRow {
                id,
                form_id: r.get("form_id")?,
                form_version_id: r.get("form_version_id")?,
                instance_id: r.get("instance_id")?,
                manifest: r.get("manifest")?,
                app_user_id: r.get("app_user_id")?,
                user_id: r.get::<Option<i64>>("user_id")?.map(UserId),
                received_at: r.get("received_at")?,
                files,
            });
        }
        Ok(out)
    }

    /// How many encrypted submissions each form of a project holds (forms with none omitted).
    pub async fn encrypted_counts(&self, project_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT e.form_id, COUNT(*) AS n FROM encrypted_submissions e
                   JOIN forms f ON f.id = e.form_id WHERE f.project_id = $1
                   GROUP BY e.form_id ORDER BY e.form_id",
                )
                .bind(project_id),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("form_id")?, r.get("n")?)))
            .collect()
    }

    /// Deletes an encrypted submission (one that will never be decrypted: a damaged or
    /// tampered upload); returns the digests of its files, or `None` when there is none.
    pub async fn delete_encrypted_submission(
        &self,
        form_id: i64,
        instance_id: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let Some(r) = tx
            .conn()
            .fetch_optional(
                q("SELECT id FROM encrypted_submissions WHERE form_id = $1 AND instance_id = $2")
                    .bind(form_id)
                    .bind(instance_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let id: i64 = r.get("id")?;
        let shas = tx
            .conn()
            .fetch_all(
                q("SELECT sha256 FROM encrypted_submission_files
                   WHERE encrypted_submission_id = $1 AND sha256 IS NOT NULL")
                .bind(id),
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("sha256"))
            .collect::<Result<Vec<_>, _>>()?;
        tx.conn()
            .execute(q("DELETE FROM encrypted_submissions WHERE id = $1").bind(id))
            .await?;
        tx.commit().await?;
        Ok(Some(shas))
    }

    /// Stores a decrypted submission through the ingestion's rules and deletes the encrypted
    /// row it came from, in one transaction: both happen, or (a conflict with another record of
    /// the same instanceID, a failure) neither.
    pub async fn insert_decrypted_submission(
        &self,
        encrypted_id: i64,
        s: &NewSubmission,
    ) -> Result<IngestOutcome, StoreError> {
        let mut tx = self.pools.begin().await?;
        let outcome = store_one(&mut tx.conn(), s).await?;
        if !matches!(
            outcome,
            IngestOutcome::Created(_) | IngestOutcome::Replay(_)
        ) {
            return Ok(outcome);
        }
        let gone = tx
            .conn()
            .execute(q("DELETE FROM encrypted_submissions WHERE id = $1").bind(encrypted_id))
            .await?;
        if gone != 1 {
            // Decrypted meanwhile by someone else: their transaction stored it.
            return Err(StoreError::Conflict {
                what: "encrypted_submission",
            });
        }
        tx.commit().await?;
        Ok(outcome)
    }
}

async fn store_encrypted(
    c: &mut Conn<'_>,
    s: &NewEncryptedSubmission,
) -> Result<IngestOutcome, StoreError> {
    if let Some(r) = c
        .fetch_optional(
            q("SELECT id FROM submissions WHERE form_id = $1 AND instance_id = $2")
                .bind(s.form_id)
                .bind(s.instance_id.as_str()),
        )
        .await?
    {
        // Already decrypted (or received in clear): nothing more to keep.
        let _: i64 = r.get("id")?;
        return Ok(IngestOutcome::Replay(0));
    }
    let inserted = c
        .fetch_optional(
            q("INSERT INTO encrypted_submissions (form_id, form_version_id, instance_id, manifest, manifest_sha256,
                                                  app_user_id, user_id, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (form_id, instance_id) DO NOTHING RETURNING id")
            .bind(s.form_id)
            .bind(s.form_version_id)
            .bind(s.instance_id.as_str())
            .bind(s.manifest.as_str())
            .bind(s.manifest_sha256.as_str())
            .bind(s.app_user_id)
            .bind(s.user_id.map(|u| u.0))
            .bind(s.received_at),
        )
        .await?;
    let (id, outcome) = match inserted {
        Some(r) => {
            let id: i64 = r.get("id")?;
            for name in &s.names {
                c.execute(
                    q("INSERT INTO encrypted_submission_files (encrypted_submission_id, name) VALUES ($1, $2)
                       ON CONFLICT (encrypted_submission_id, name) DO NOTHING")
                    .bind(id)
                    .bind(name.as_str()),
                )
                .await?;
            }
            (id, IngestOutcome::Created(id))
        }
        None => {
            let r = c
                .fetch_one(
                    q("SELECT id, manifest_sha256 FROM encrypted_submissions
                       WHERE form_id = $1 AND instance_id = $2")
                    .bind(s.form_id)
                    .bind(s.instance_id.as_str()),
                )
                .await?;
            if r.get::<String>("manifest_sha256")? != s.manifest_sha256 {
                return Ok(IngestOutcome::Conflict);
            }
            let id: i64 = r.get("id")?;
            (id, IngestOutcome::Replay(id))
        }
    };
    for f in &s.files {
        c.execute(
            q(
                "UPDATE encrypted_submission_files SET sha256 = $1, size = $2, file_key = $3
               WHERE encrypted_submission_id = $4 AND name = $5 AND sha256 IS NULL",
            )
            .bind(f.blob.sha256.as_str())
            .bind(f.blob.size as i64)
            .bind(f.key.as_deref())
            .bind(id)
            .bind(f.name.as_str()),
        )
        .await?;
    }
    Ok(outcome)
}
