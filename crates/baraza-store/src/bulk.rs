//! Many submissions stored at once, for loads that are not ODK Collect's: seeding benchmarks and
//! test fixtures. One transaction per call, multi-row INSERTs; no replay or conflict checks
//! (instanceIDs must be new: a duplicate fails the whole call, nothing half-stored).

use crate::db::{q_built, Arg};
use crate::{Store, StoreError};
use baraza_types::UserId;

/// A submission to store in bulk: a record's first version, with its review state and time.
#[derive(Debug, Clone)]
pub struct BulkSubmission<'a> {
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: &'a str,
    pub xml_sha256: &'a str,
    pub xml_size: i64,
    pub values_json: &'a str,
    pub app_user_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub review_state: &'a str,
    pub received_at: i64,
}

/// Rows per INSERT statement (11 bound values each: well under both backends' limits).
const ROWS_PER_STATEMENT: usize = 500;

impl Store {
    /// Stores new submissions in one transaction; returns how many.
    pub async fn insert_submissions_bulk(
        &self,
        subs: &[BulkSubmission<'_>],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for chunk in subs.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO submissions (form_id, form_version_id, instance_id, root_instance_id, is_current,
                 xml_sha256, xml_size, values_json, app_user_id, user_id, review_state, received_at) VALUES ",
            );
            let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 11);
            for (i, s) in chunk.iter().enumerate() {
                let b = i * 10;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, TRUE, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10
                ));
                args.extend([
                    s.form_id.into(),
                    s.form_version_id.into(),
                    s.instance_id.into(),
                    s.xml_sha256.into(),
                    s.xml_size.into(),
                    s.values_json.into(),
                    s.app_user_id.into(),
                    s.user_id.map(|u| u.0).into(),
                    s.review_state.into(),
                    s.received_at.into(),
                ]);
            }
            let mut query = q_built(sql);
            for a in args {
                query = query.bind(a);
            }
            n += tx.conn().execute(query).await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

impl Store {
    /// Adds blind-index entries for stored submissions of a form, by instanceID, in one
    /// transaction (seeding benchmarks). Returns how many were added.
    pub async fn insert_subject_tokens_bulk(
        &self,
        form_id: i64,
        rows: &[(&str, &str, &str)],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for (instance_id, token, path) in rows {
            n += tx
                .conn()
                .execute(
                    crate::db::q(
                        "INSERT INTO subject_index (submission_id, project_id, token, path)
                         SELECT s.id, f.project_id, $1, $2 FROM submissions s
                         JOIN forms f ON f.id = s.form_id
                         WHERE s.form_id = $3 AND s.instance_id = $4",
                    )
                    .bind(*token)
                    .bind(*path)
                    .bind(form_id)
                    .bind(*instance_id),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}
