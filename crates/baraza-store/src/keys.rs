//! Project data keys (stored wrapped; see migration 0011) and the blind index of the answers that
//! identify a person.

use crate::db::{q, q_built, Arg, Mode};
use crate::{Store, StoreError};

/// One wrapped data key of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub project_id: i64,
    pub version: i64,
    /// `baraza_protect::WrappedKey`'s text form.
    pub wrapped: String,
    pub created_at: i64,
}

/// A current record that a blind index found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectHit {
    pub submission_id: i64,
    pub form_id: i64,
    pub xml_form_id: String,
    pub instance_id: String,
    /// The instanceID of the record's first version (a request names records by it).
    pub root_instance_id: String,
    /// The answer's instance path.
    pub path: String,
    pub received_at: i64,
}

impl Store {
    /// A project's data keys, oldest first.
    pub async fn project_keys(&self, project_id: i64) -> Result<Vec<StoredKey>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT project_id, version, wrapped, created_at FROM project_keys
                   WHERE project_id = $1 ORDER BY version",
                )
                .bind(project_id),
            )
            .await?;
        rows.iter().map(stored_key).collect()
    }

    /// Every data key of every project (for master-key rotation and `baraza keys status`).
    pub async fn all_project_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT project_id, version, wrapped, created_at FROM project_keys
                   ORDER BY project_id, version",
                ),
            )
            .await?;
        rows.iter().map(stored_key).collect()
    }

    /// Adds a project's data key of this version; `false` if another instance added that
    /// version first (the caller then reads the keys again).
    pub async fn add_project_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q(
                    "INSERT INTO project_keys (project_id, version, wrapped, created_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, version) DO NOTHING",
                )
                .bind(key.project_id)
                .bind(key.version)
                .bind(key.wrapped.as_str())
                .bind(key.created_at),
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces the wrapping of keys (master-key rotation), all in one transaction: each key
    /// is updated only if it is still wrapped as `old` says, so two rotations racing cannot
    /// lose a key. Returns how many were rewrapped.
    pub async fn rewrap_project_keys(
        &self,
        keys: &[(StoredKey, String)],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for (old, new_wrapped) in keys {
            n += tx
                .conn()
                .execute(
                    q("UPDATE project_keys SET wrapped = $1
                       WHERE project_id = $2 AND version = $3 AND wrapped = $4")
                    .bind(new_wrapped.as_str())
                    .bind(old.project_id)
                    .bind(old.version)
                    .bind(old.wrapped.as_str()),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The current records of a project that hold an answer with one of these blind indexes,
    /// newest first, at most `limit`.
    pub async fn find_subject(
        &self,
        project_id: i64,
        tokens: &[String],
        limit: i64,
    ) -> Result<Vec<SubjectHit>, StoreError> {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let mut args: Vec<Arg> = vec![project_id.into()];
        let mut marks = Vec::with_capacity(tokens.len());
        for t in tokens {
            args.push(t.as_str().into());
            marks.push(format!("${}", args.len()));
        }
        args.push(limit.into());
        let sql = format!(
            "SELECT s.id, s.form_id, f.xml_form_id, s.instance_id, s.root_instance_id, si.path, s.received_at
             FROM subject_index si
             JOIN submissions s ON s.id = si.submission_id
             JOIN forms f ON f.id = s.form_id
             WHERE si.project_id = $1 AND si.token IN ({}) AND s.is_current
             ORDER BY s.received_at DESC, s.id DESC, si.path
             LIMIT ${}",
            marks.join(", "),
            args.len()
        );
        let mut query = q_built(sql);
        for a in args {
            query = query.bind(a);
        }
        let rows = self.pools.fetch_all(Mode::Read, query).await?;
        rows.iter()
            .map(|r| {
                Ok(SubjectHit {
                    submission_id: r.get("id")?,
                    form_id: r.get("form_id")?,
                    xml_form_id: r.get("xml_form_id")?,
                    instance_id: r.get("instance_id")?,
                    root_instance_id: r.get("root_instance_id")?,
                    path: r.get("path")?,
                    received_at: r.get("received_at")?,
                })
            })
            .collect()
    }
}

fn stored_key(r: &crate::db::Row) -> Result<StoredKey, StoreError> {
    Ok(StoredKey {
        project_id: r.get("project_id")?,
        version: r.get("version")?,
        wrapped: r.get("wrapped")?,
        created_at: r.get("created_at")?,
    })
}

/// A submission stored in clear whose form version has protected questions (stored before
/// encryption at rest), to seal.
#[derive(Debug, Clone)]
pub struct ClearSubmission {
    pub id: i64,
    pub project_id: i64,
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    /// `None`: the XML is in a blob (submissions stored before migration 0005).
    pub xml: Option<String>,
    pub values_json: String,
}

/// A clear submission, sealed.
#[derive(Debug, Clone)]
pub struct SealedUpdate {
    pub id: i64,
    /// The sealed XML (base64), or `None` to leave the XML where it is.
    pub xml: Option<String>,
    pub values_json: String,
    pub key_version: i64,
    pub subjects: Vec<crate::SubjectToken>,
}

impl Store {
    /// The ids of every form version.
    pub async fn all_form_version_ids(&self) -> Result<Vec<i64>, StoreError> {
        self.pools
            .fetch_all(Mode::Read, q("SELECT id FROM form_versions ORDER BY id"))
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect()
    }

    /// Up to `limit` submissions stored in clear, filled with one of these form versions.
    pub async fn clear_submissions(
        &self,
        version_ids: &[i64],
        limit: i64,
    ) -> Result<Vec<ClearSubmission>, StoreError> {
        if version_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = version_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "SELECT s.id, f.project_id, s.form_id, s.form_version_id, s.instance_id, s.xml, s.values_json
                     FROM submissions s JOIN forms f ON f.id = s.form_id
                     WHERE s.key_version IS NULL AND s.form_version_id IN ({list})
                     ORDER BY s.id LIMIT $1"
                ))
                .bind(limit),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ClearSubmission {
                    id: r.get("id")?,
                    project_id: r.get("project_id")?,
                    form_id: r.get("form_id")?,
                    form_version_id: r.get("form_version_id")?,
                    instance_id: r.get("instance_id")?,
                    xml: r.get("xml")?,
                    values_json: r.get("values_json")?,
                })
            })
            .collect()
    }

    /// Writes sealed submissions in place of their clear rows, in one transaction; a row sealed
    /// meanwhile (by another instance) is left alone. Returns how many were sealed.
    pub async fn seal_clear_submissions(
        &self,
        updates: &[SealedUpdate],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for u in updates {
            let done = tx
                .conn()
                .execute(
                    q("UPDATE submissions SET xml = COALESCE($1, xml), values_json = $2, key_version = $3
                       WHERE id = $4 AND key_version IS NULL")
                    .bind(u.xml.as_deref())
                    .bind(u.values_json.as_str())
                    .bind(u.key_version)
                    .bind(u.id),
                )
                .await?;
            if done == 0 {
                continue;
            }
            n += done;
            for s in &u.subjects {
                tx.conn()
                    .execute(
                        q(
                            "INSERT INTO subject_index (submission_id, project_id, token, path)
                           SELECT s.id, f.project_id, $1, $2 FROM submissions s
                           JOIN forms f ON f.id = s.form_id WHERE s.id = $3",
                        )
                        .bind(s.token.as_str())
                        .bind(s.path.as_str())
                        .bind(u.id),
                    )
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(n)
    }
}
