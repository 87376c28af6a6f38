//! IATI records: an organisation's IATI identity, a project's activity, its budgets and
//! transactions (see baraza-publish's `iati` for what they mean, and the core for the checks).
//!
//! A change to an activity, a budget or a transaction also touches the catalogue's datasets
//! made from the activity (their `modified` moves and the catalogue's version is bumped), so
//! that harvesters reading `modified_since` and the Atom feed see the file change.

use crate::db::{q, Conn, Mode, Row};
use crate::{Store, StoreError};
use baraza_publish::iati::{ActivityFields, Budget, Transaction};
use baraza_types::{OrgId, ProjectId};

/// An organisation's IATI identity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IatiOrgRow {
    pub identifier: String,
    pub org_type: String,
    pub updated_at: i64,
}

/// A project's activity as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IatiActivityRow {
    pub project_id: i64,
    pub code: String,
    pub fields: ActivityFields,
    pub created_at: i64,
    pub updated_at: i64,
}

fn activity_from(r: &Row) -> Result<IatiActivityRow, StoreError> {
    let fields: String = r.get("fields")?;
    Ok(IatiActivityRow {
        project_id: r.get("project_id")?,
        code: r.get("code")?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| StoreError::Corrupt(format!("iati_activities.fields: {e}")))?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn budget_from(r: &Row) -> Result<Budget, StoreError> {
    Ok(Budget {
        id: r.get("id")?,
        budget_type: r.get("budget_type")?,
        status: r.get("status")?,
        period_start: r.get("period_start")?,
        period_end: r.get("period_end")?,
        value: r.get("value")?,
        currency: r.get("currency")?,
        value_date: r.get("value_date")?,
    })
}

fn transaction_from(r: &Row) -> Result<Transaction, StoreError> {
    Ok(Transaction {
        id: r.get("id")?,
        transaction_type: r.get("transaction_type")?,
        date: r.get("tx_date")?,
        value: r.get("value")?,
        currency: r.get("currency")?,
        value_date: r.get("value_date")?,
        description: r.get("description")?,
        provider_name: r.get("provider_name")?,
        provider_ref: r.get("provider_ref")?,
        receiver_name: r.get("receiver_name")?,
        receiver_ref: r.get("receiver_ref")?,
    })
}

/// The activity changed: its `updated_at`, and the datasets made from it.
async fn changed(c: &mut Conn<'_>, project_id: i64, at: i64) -> Result<(), StoreError> {
    c.execute(
        q("UPDATE iati_activities SET updated_at = $2 WHERE project_id = $1")
            .bind(project_id)
            .bind(at),
    )
    .await?;
    let n = c
        .execute(
            q("UPDATE datasets SET modified_at = $2
               WHERE project_id = $1 AND source LIKE '%\"kind\":\"iati_activity\"%'")
            .bind(project_id)
            .bind(at),
        )
        .await?;
    if n > 0 {
        c.execute(q(
            "INSERT INTO catalogue_version (id, version) VALUES (1, 1)
               ON CONFLICT (id) DO UPDATE SET version = catalogue_version.version + 1",
        ))
        .await?;
    }
    Ok(())
}

impl Store {
    /// An organisation's IATI identity, if it has told it.
    pub async fn iati_org(&self, org: OrgId) -> Result<Option<IatiOrgRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT identifier, org_type, updated_at FROM iati_organisations
                   WHERE org_id = $1",
                )
                .bind(org.0),
            )
            .await?
            .map(|r| {
                Ok(IatiOrgRow {
                    identifier: r.get("identifier")?,
                    org_type: r.get("org_type")?,
                    updated_at: r.get("updated_at")?,
                })
            })
            .transpose()
    }

    /// Records (or replaces) an organisation's IATI identity. Its activities' identifiers
    /// follow: they are the organisation's identifier and the project code.
    pub async fn set_iati_org(
        &self,
        org: OrgId,
        identifier: &str,
        org_type: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q(
                "INSERT INTO iati_organisations (org_id, identifier, org_type, updated_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (org_id) DO UPDATE SET identifier = excluded.identifier,
                 org_type = excluded.org_type, updated_at = excluded.updated_at",
            )
            .bind(org.0)
            .bind(identifier)
            .bind(org_type)
            .bind(at),
        )
        .await?;
        let projects: Vec<i64> = c
            .fetch_all(
                q("SELECT a.project_id FROM iati_activities a
                   JOIN projects p ON p.id = a.project_id WHERE p.org_id = $1")
                .bind(org.0),
            )
            .await?
            .iter()
            .map(|r| r.get("project_id"))
            .collect::<Result<_, _>>()?;
        for p in projects {
            changed(&mut c, p, at).await?;
        }
        tx.commit().await
    }

    /// A project's activity, if it has one.
    pub async fn iati_activity(
        &self,
        project: ProjectId,
    ) -> Result<Option<IatiActivityRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT project_id, code, fields, created_at, updated_at
                   FROM iati_activities WHERE project_id = $1")
                .bind(project.0),
            )
            .await?
            .map(|r| activity_from(&r))
            .transpose()
    }

    /// The activities of an organisation's projects, in project-code order.
    pub async fn iati_activities_of_org(
        &self,
        org: OrgId,
    ) -> Result<Vec<IatiActivityRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT a.project_id, a.code, a.fields, a.created_at, a.updated_at
                   FROM iati_activities a JOIN projects p ON p.id = a.project_id
                   WHERE p.org_id = $1 ORDER BY a.code, a.project_id",
                )
                .bind(org.0),
            )
            .await?
            .iter()
            .map(activity_from)
            .collect()
    }

    /// Records (or replaces) a project's activity. A code another project of the same
    /// organisation holds is `Conflict { what: "iati_activities.code" }`.
    pub async fn put_iati_activity(
        &self,
        project: ProjectId,
        code: &str,
        fields: &ActivityFields,
        at: i64,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(fields)
            .map_err(|e| StoreError::Corrupt(format!("iati fields: {e}")))?;
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let taken = c
            .fetch_optional(
                q("SELECT a.project_id FROM iati_activities a
                   JOIN projects p ON p.id = a.project_id
                   JOIN projects me ON me.org_id = p.org_id AND me.id = $1
                   WHERE a.code = $2 AND a.project_id <> $1")
                .bind(project.0)
                .bind(code),
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict {
                what: "iati_activities.code",
            });
        }
        c.execute(
            q(
                "INSERT INTO iati_activities (project_id, code, fields, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $4)
               ON CONFLICT (project_id) DO UPDATE SET code = excluded.code,
                 fields = excluded.fields, updated_at = excluded.updated_at",
            )
            .bind(project.0)
            .bind(code)
            .bind(doc)
            .bind(at),
        )
        .await?;
        changed(&mut c, project.0, at).await?;
        tx.commit().await
    }

    /// A project's budgets, by period.
    pub async fn iati_budgets(&self, project: ProjectId) -> Result<Vec<Budget>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, budget_type, status, period_start, period_end, value, currency,
                     value_date FROM iati_budgets WHERE project_id = $1
                   ORDER BY period_start, id",
                )
                .bind(project.0),
            )
            .await?
            .iter()
            .map(budget_from)
            .collect()
    }

    /// Adds a budget to a project's activity (which must exist); returns its id.
    pub async fn add_iati_budget(
        &self,
        project: ProjectId,
        b: &Budget,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO iati_budgets (project_id, budget_type, status, period_start,
                     period_end, value, currency, value_date, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(project.0)
                .bind(b.budget_type.as_str())
                .bind(b.status.as_str())
                .bind(b.period_start.as_str())
                .bind(b.period_end.as_str())
                .bind(b.value.as_str())
                .bind(b.currency.as_str())
                .bind(b.value_date.as_str())
                .bind(at),
            )
            .await?
            .get("id")?;
        changed(&mut c, project.0, at).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a budget; false when the project has none with this id.
    pub async fn delete_iati_budget(
        &self,
        project: ProjectId,
        id: i64,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let n = c
            .execute(
                q("DELETE FROM iati_budgets WHERE project_id = $1 AND id = $2")
                    .bind(project.0)
                    .bind(id),
            )
            .await?;
        if n > 0 {
            changed(&mut c, project.0, at).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// A project's transactions, by date.
    pub async fn iati_transactions(
        &self,
        project: ProjectId,
    ) -> Result<Vec<Transaction>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, transaction_type, tx_date, value, currency, value_date,
                     description, provider_name, provider_ref, receiver_name, receiver_ref
                   FROM iati_transactions WHERE project_id = $1 ORDER BY tx_date, id",
                )
                .bind(project.0),
            )
            .await?
            .iter()
            .map(transaction_from)
            .collect()
    }

    /// Adds a transaction to a project's activity (which must exist); returns its id.
    pub async fn add_iati_transaction(
        &self,
        project: ProjectId,
        t: &Transaction,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO iati_transactions (project_id, transaction_type, tx_date, value,
                     currency, value_date, description, provider_name, provider_ref,
                     receiver_name, receiver_ref, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                )
                .bind(project.0)
                .bind(t.transaction_type.as_str())
                .bind(t.date.as_str())
                .bind(t.value.as_str())
                .bind(t.currency.as_str())
                .bind(t.value_date.as_str())
                .bind(t.description.as_str())
                .bind(t.provider_name.as_str())
                .bind(t.provider_ref.as_str())
                .bind(t.receiver_name.as_str())
                .bind(t.receiver_ref.as_str())
                .bind(at),
            )
            .await?
            .get("id")?;
        changed(&mut c, project.0, at).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a transaction; false when the project has none with this id.
    pub async fn delete_iati_transaction(
        &self,
        project: ProjectId,
        id: i64,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let n = c
            .execute(
                q("DELETE FROM iati_transactions WHERE project_id = $1 AND id = $2")
                    .bind(project.0)
                    .bind(id),
            )
            .await?;
        if n > 0 {
            changed(&mut c, project.0, at).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}
