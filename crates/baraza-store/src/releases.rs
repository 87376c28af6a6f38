//! Releases of a form's microdata (disclosure control) and each project's release policy.

use crate::db::{q, Mode, Row};
use crate::{Store, StoreError};

/// A project's release policy as stored; `None` from [`Store::release_policy`] means the
/// defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasePolicyRow {
    pub k: i64,
    pub max_global_risk: f64,
    /// A JSON array of the withheld variables that may leave all the same.
    pub allowed: String,
    pub updated_by: Option<i64>,
    pub updated_at: i64,
}

/// One release, draft or released.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRow {
    pub id: i64,
    pub project_id: i64,
    pub form_id: i64,
    pub name: String,
    /// `baraza_sdc::Recipe` as JSON.
    pub recipe: String,
    /// The snapshot: records received up to this submission id.
    pub up_to_submission: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `draft` or `released`.
    pub state: String,
    pub released_by: Option<i64>,
    pub released_at: Option<i64>,
    /// The release report (JSON), once released.
    pub report: Option<String>,
    /// The report's Ed25519 signature (hex), once released.
    pub signature: Option<String>,
    pub data_sha256: Option<String>,
}

/// What a release writes once, when the policy passed.
#[derive(Debug, Clone)]
pub struct ReleasedFields<'a> {
    pub recipe: &'a str,
    pub report: &'a str,
    pub signature: &'a str,
    pub data_csv: &'a str,
    pub data_sha256: &'a str,
    pub by: i64,
    pub at: i64,
}

const RELEASE_COLUMNS: &str = "id, project_id, form_id, name, recipe, up_to_submission, \
     created_by, created_at, updated_at, state, released_by, released_at, report, signature, \
     data_sha256";

fn release_from(r: &Row) -> Result<ReleaseRow, StoreError> {
    Ok(ReleaseRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        form_id: r.get("form_id")?,
        name: r.get("name")?,
        recipe: r.get("recipe")?,
        up_to_submission: r.get("up_to_submission")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        state: r.get("state")?,
        released_by: r.get("released_by")?,
        released_at: r.get("released_at")?,
        report: r.get("report")?,
        signature: r.get("signature")?,
        data_sha256: r.get("data_sha256")?,
    })
}

impl Store {
    pub async fn release_policy(
        &self,
        project_id: i64,
    ) -> Result<Option<ReleasePolicyRow>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT k, max_global_risk, allowed, updated_by, updated_at
                   FROM release_policies WHERE project_id = $1")
                .bind(project_id),
            )
            .await?;
        row.map(|r| {
            Ok(ReleasePolicyRow {
                k: r.get("k")?,
                max_global_risk: r.get("max_global_risk")?,
                allowed: r.get("allowed")?,
                updated_by: r.get("updated_by")?,
                updated_at: r.get("updated_at")?,
            })
        })
        .transpose()
    }

    pub async fn set_release_policy(
        &self,
        project_id: i64,
        p: &ReleasePolicyRow,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "INSERT INTO release_policies (project_id, k, max_global_risk, allowed,
                     updated_by, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (project_id) DO UPDATE SET k = excluded.k,
                     max_global_risk = excluded.max_global_risk, allowed = excluded.allowed,
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(project_id)
                .bind(p.k)
                .bind(p.max_global_risk)
                .bind(p.allowed.as_str())
                .bind(p.updated_by)
                .bind(p.updated_at),
            )
            .await?;
        Ok(())
    }

    /// Creates a draft release; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_release(
        &self,
        project_id: i64,
        form_id: i64,
        name: &str,
        recipe: &str,
        up_to_submission: i64,
        by: i64,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO releases (project_id, form_id, name, recipe, up_to_submission,
                     created_by, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                   RETURNING id",
                )
                .bind(project_id)
                .bind(form_id)
                .bind(name)
                .bind(recipe)
                .bind(up_to_submission)
                .bind(by)
                .bind(at),
            )
            .await?
            .get("id")
    }

    /// The releases of a form, newest first.
    pub async fn releases(
        &self,
        project_id: i64,
        form_id: i64,
    ) -> Result<Vec<ReleaseRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {RELEASE_COLUMNS} FROM releases WHERE project_id = $1 AND form_id = $2
                     ORDER BY id DESC"
                ))
                .bind(project_id)
                .bind(form_id),
            )
            .await?
            .iter()
            .map(release_from)
            .collect()
    }

    pub async fn release(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<ReleaseRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {RELEASE_COLUMNS} FROM releases WHERE project_id = $1 AND id = $2"
                ))
                .bind(project_id)
                .bind(id),
            )
            .await?
            .as_ref()
            .map(release_from)
            .transpose()
    }

    /// Changes a draft's recipe; `false` when the release is not a draft (any more).
    pub async fn set_release_recipe(
        &self,
        project_id: i64,
        id: i64,
        recipe: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q("UPDATE releases SET recipe = $1, updated_at = $2
                   WHERE project_id = $3 AND id = $4 AND state = 'draft'")
                .bind(recipe)
                .bind(at)
                .bind(project_id)
                .bind(id),
            )
            .await?;
        Ok(n == 1)
    }

    /// Writes a release's result, once: `false` when it was not a draft (released meanwhile).
    pub async fn mark_released(
        &self,
        project_id: i64,
        id: i64,
        f: &ReleasedFields<'_>,
    ) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q(
                    "UPDATE releases SET state = 'released', recipe = $1, report = $2,
                     signature = $3, data_csv = $4, data_sha256 = $5, released_by = $6,
                     released_at = $7, updated_at = $7
                   WHERE project_id = $8 AND id = $9 AND state = 'draft'",
                )
                .bind(f.recipe)
                .bind(f.report)
                .bind(f.signature)
                .bind(f.data_csv)
                .bind(f.data_sha256)
                .bind(f.by)
                .bind(f.at)
                .bind(project_id)
                .bind(id),
            )
            .await?;
        Ok(n == 1)
    }

    /// The released table (CSV) of a released release.
    pub async fn release_data(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT data_csv FROM releases
                   WHERE project_id = $1 AND id = $2 AND state = 'released'")
                .bind(project_id)
                .bind(id),
            )
            .await?;
        match row {
            Some(r) => r.get("data_csv"),
            None => Ok(None),
        }
    }

    /// Deletes a draft; `false` when there is no such draft.
    pub async fn delete_release_draft(&self, project_id: i64, id: i64) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q("DELETE FROM releases WHERE project_id = $1 AND id = $2 AND state = 'draft'")
                    .bind(project_id)
                    .bind(id),
            )
            .await?;
        Ok(n == 1)
    }
}
