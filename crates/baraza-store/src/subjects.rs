//! The register of data-subject requests (migration 0014).

use crate::db::{q, Mode, Row};
use crate::{Store, StoreError};
use baraza_types::UserId;

/// A data-subject request as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRequestRow {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub reference: String,
    pub received_at: i64,
    pub due_at: i64,
    pub status: String,
    pub outcome: String,
    pub answered_at: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The records found for the person: (form id, first version's instanceID).
    pub records: Vec<(i64, String)>,
}

const COLS: &str = "id, project_id, kind, reference, received_at, due_at, status, outcome, answered_at, created_by, created_at, updated_at";

fn row(r: &Row) -> Result<SubjectRequestRow, StoreError> {
    Ok(SubjectRequestRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        kind: r.get("kind")?,
        reference: r.get("reference")?,
        received_at: r.get("received_at")?,
        due_at: r.get("due_at")?,
        status: r.get("status")?,
        outcome: r.get("outcome")?,
        answered_at: r.get("answered_at")?,
        created_by: r.get::<Option<i64>>("created_by")?.map(UserId),
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        records: Vec::new(),
    })
}

impl Store {
    /// Registers a request and the records found for the person, in one transaction.
    pub async fn insert_subject_request(&self, r: &SubjectRequestRow) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let id: i64 = tx
            .conn()
            .fetch_one(
                q("INSERT INTO subject_requests (project_id, kind, reference, received_at, due_at, status,
                   outcome, answered_at, created_by, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
                .bind(r.project_id)
                .bind(r.kind.as_str())
                .bind(r.reference.as_str())
                .bind(r.received_at)
                .bind(r.due_at)
                .bind(r.status.as_str())
                .bind(r.outcome.as_str())
                .bind(r.answered_at)
                .bind(r.created_by.map(|u| u.0))
                .bind(r.created_at),
            )
            .await?
            .get("id")?;
        for (form_id, root) in &r.records {
            tx.conn()
                .execute(
                    q("INSERT INTO subject_request_records (request_id, form_id, root_instance_id)
                       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(*form_id)
                    .bind(root.as_str()),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// A project's requests, those still open first, by deadline.
    pub async fn subject_requests(
        &self,
        project_id: i64,
    ) -> Result<Vec<SubjectRequestRow>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {COLS} FROM subject_requests WHERE project_id = $1
                     ORDER BY CASE WHEN status IN ('open', 'extended') THEN 0 ELSE 1 END, due_at, id"
                ))
                .bind(project_id),
            )
            .await?;
        rows.iter().map(row).collect()
    }

    /// One request of a project, with its records.
    pub async fn subject_request(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<SubjectRequestRow>, StoreError> {
        let Some(r) = self
            .pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {COLS} FROM subject_requests WHERE project_id = $1 AND id = $2"
                ))
                .bind(project_id)
                .bind(id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut out = row(&r)?;
        out.records = self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT form_id, root_instance_id FROM subject_request_records
                   WHERE request_id = $1 ORDER BY form_id, root_instance_id",
                )
                .bind(id),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("form_id")?, r.get("root_instance_id")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(out))
    }

    /// Changes a request's status, outcome, deadline and answer time.
    pub async fn update_subject_request(&self, r: &SubjectRequestRow) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "UPDATE subject_requests SET status = $1, outcome = $2, due_at = $3,
                   answered_at = $4, updated_at = $5 WHERE id = $6 AND project_id = $7",
                )
                .bind(r.status.as_str())
                .bind(r.outcome.as_str())
                .bind(r.due_at)
                .bind(r.answered_at)
                .bind(r.updated_at)
                .bind(r.id)
                .bind(r.project_id),
            )
            .await?;
        Ok(())
    }
}
