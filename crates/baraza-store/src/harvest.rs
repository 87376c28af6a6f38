//! Harvest sources, their runs, and the key of each harvested dataset.
//!
//! A harvested dataset is written with its resources and its key row in one transaction, so
//! that a run that stops half-way leaves whole datasets only. The run lock is one conditional
//! UPDATE on the source's row: it works the same with one server on SQLite and with several
//! servers sharing a PostgreSQL database.

use crate::catalogue::{
    bump, insert_dataset_row, insert_resource, record_version, update_dataset_row, VersionAuthor,
};
use crate::db::{q, Conn, Mode, Row};
use crate::{DatasetWrite, ResourceWrite, Store, StoreError};
use baraza_catalogue::Source;
use std::collections::HashMap;

/// A harvest source as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HarvestSourceRow {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub url: String,
    /// `ckan` or `dcat`.
    pub kind: String,
    pub filter: String,
    pub default_licence: String,
    /// `manual`, `daily` or `weekly`.
    pub schedule: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_run_at: Option<i64>,
    /// `ok`, `partial` (records skipped), `failed`, `running`, or empty (never run).
    pub last_status: String,
    pub last: HarvestCounts,
    /// The highest remote modification time seen by the last good run, minus the overlap.
    pub watermark: Option<i64>,
    /// Until when a run holds the source (a run in progress).
    pub locked_until: Option<i64>,
}

/// A source's editable settings.
#[derive(Debug, Clone)]
pub struct HarvestSourceWrite<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub kind: &'a str,
    pub filter: &'a str,
    pub default_licence: &'a str,
    pub schedule: &'a str,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct HarvestCounts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub withdrawn: i64,
    pub errors: i64,
}

/// One run of a source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HarvestRunRow {
    pub id: i64,
    pub source_id: i64,
    /// A full run (withdraws what disappeared) or an incremental one (since the watermark).
    pub full: bool,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    pub counts: HarvestCounts,
    /// One line per problem, bounded.
    pub log: String,
}

/// A harvested dataset's key row.
#[derive(Debug, Clone)]
pub struct HarvestedRow {
    pub dataset_id: i64,
    pub content_hash: String,
    pub withdrawn: bool,
}

/// A harvested dataset to write: its key, metadata and link resources.
pub struct HarvestWrite<'a> {
    pub source_id: i64,
    pub remote_id: &'a str,
    pub content_hash: &'a str,
    pub remote_modified: Option<i64>,
    pub dataset: &'a DatasetWrite<'a>,
    pub source: &'a Source,
    pub resources: &'a [ResourceWrite<'a>],
}

const SOURCE_SELECT: &str = "SELECT id, project_id, title, url, kind, filter, default_licence,
       schedule, created_by, created_at, updated_at, last_run_at, last_status, last_created,
       last_updated, last_unchanged, last_withdrawn, last_errors, watermark, locked_until
     FROM harvest_sources";

fn source_from(r: &Row) -> Result<HarvestSourceRow, StoreError> {
    Ok(HarvestSourceRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        title: r.get("title")?,
        url: r.get("url")?,
        kind: r.get("kind")?,
        filter: r.get("filter")?,
        default_licence: r.get("default_licence")?,
        schedule: r.get("schedule")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        last_run_at: r.get("last_run_at")?,
        last_status: r.get("last_status")?,
        last: HarvestCounts {
            created: r.get("last_created")?,
            updated: r.get("last_updated")?,
            unchanged: r.get("last_unchanged")?,
            withdrawn: r.get("last_withdrawn")?,
            errors: r.get("last_errors")?,
        },
        watermark: r.get("watermark")?,
        locked_until: r.get("locked_until")?,
    })
}

fn run_from(r: &Row) -> Result<HarvestRunRow, StoreError> {
    Ok(HarvestRunRow {
        id: r.get("id")?,
        source_id: r.get("source_id")?,
        full: r.get("full_run")?,
        started_at: r.get("started_at")?,
        finished_at: r.get("finished_at")?,
        status: r.get("status")?,
        counts: HarvestCounts {
            created: r.get("created")?,
            updated: r.get("updated")?,
            unchanged: r.get("unchanged")?,
            withdrawn: r.get("withdrawn")?,
            errors: r.get("errors")?,
        },
        log: r.get("log")?,
    })
}

async fn replace_resources(
    c: &mut Conn<'_>,
    dataset_id: i64,
    resources: &[ResourceWrite<'_>],
    at: i64,
) -> Result<(), StoreError> {
    c.execute(q("DELETE FROM dataset_resources WHERE dataset_id = $1").bind(dataset_id))
        .await?;
    for (i, r) in resources.iter().enumerate() {
        insert_resource(c, dataset_id, i as i64, r, at).await?;
    }
    Ok(())
}

impl Store {
    /// Adds a source to a project; returns its id.
    pub async fn insert_harvest_source(
        &self,
        project_id: i64,
        w: &HarvestSourceWrite<'_>,
        by: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO harvest_sources (project_id, title, url, kind, filter,
                     default_licence, schedule, created_by, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(project_id)
                .bind(w.title)
                .bind(w.url)
                .bind(w.kind)
                .bind(w.filter)
                .bind(w.default_licence)
                .bind(w.schedule)
                .bind(by)
                .bind(at),
            )
            .await?
            .get("id")
    }

    /// Changes a source's settings. A new URL, kind or filter clears the watermark (the next
    /// run reads everything again).
    pub async fn update_harvest_source(
        &self,
        id: i64,
        w: &HarvestSourceWrite<'_>,
        at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("UPDATE harvest_sources SET
                     watermark = CASE WHEN url = $3 AND kind = $4 AND filter = $5
                                      THEN watermark ELSE NULL END,
                     title = $2, url = $3, kind = $4, filter = $5, default_licence = $6,
                     schedule = $7, updated_at = $8
                   WHERE id = $1")
                .bind(id)
                .bind(w.title)
                .bind(w.url)
                .bind(w.kind)
                .bind(w.filter)
                .bind(w.default_licence)
                .bind(w.schedule)
                .bind(at),
            )
            .await?
            > 0)
    }

    /// Deletes a source, its runs and the datasets harvested from it, in one transaction.
    pub async fn delete_harvest_source(&self, id: i64) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let ids: Vec<i64> = c
            .fetch_all(q("SELECT dataset_id FROM harvested_datasets WHERE source_id = $1").bind(id))
            .await?
            .iter()
            .map(|r| r.get("dataset_id"))
            .collect::<Result<_, _>>()?;
        c.execute(q("DELETE FROM harvested_datasets WHERE source_id = $1").bind(id))
            .await?;
        for d in &ids {
            c.execute(q("DELETE FROM dataset_resources WHERE dataset_id = $1").bind(*d))
                .await?;
            c.execute(q("DELETE FROM dataset_versions WHERE dataset_id = $1").bind(*d))
                .await?;
            c.execute(q("DELETE FROM datasets WHERE id = $1").bind(*d))
                .await?;
        }
        c.execute(q("DELETE FROM harvest_runs WHERE source_id = $1").bind(id))
            .await?;
        c.execute(q("DELETE FROM harvest_sources WHERE id = $1").bind(id))
            .await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    pub async fn harvest_source(&self, id: i64) -> Result<Option<HarvestSourceRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!("{SOURCE_SELECT} WHERE id = $1")).bind(id),
            )
            .await?
            .as_ref()
            .map(source_from)
            .transpose()
    }

    /// A project's sources, or every source (`None`), by id.
    pub async fn harvest_sources(
        &self,
        project_id: Option<i64>,
    ) -> Result<Vec<HarvestSourceRow>, StoreError> {
        let rows = match project_id {
            Some(p) => {
                self.pools
                    .fetch_all(
                        Mode::Read,
                        crate::db::q_built(format!(
                            "{SOURCE_SELECT} WHERE project_id = $1 ORDER BY id"
                        ))
                        .bind(p),
                    )
                    .await?
            }
            None => {
                self.pools
                    .fetch_all(
                        Mode::Read,
                        crate::db::q_built(format!("{SOURCE_SELECT} ORDER BY id")),
                    )
                    .await?
            }
        };
        rows.iter().map(source_from).collect()
    }

    /// Takes the source's run lock until `until`; false when another run holds it.
    pub async fn lock_harvest_source(
        &self,
        id: i64,
        token: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q(
                    "UPDATE harvest_sources SET locked_until = $3, lock_token = $4
                   WHERE id = $1 AND (locked_until IS NULL OR locked_until < $2)",
                )
                .bind(id)
                .bind(now)
                .bind(until)
                .bind(token),
            )
            .await?
            == 1)
    }

    /// Gives the lock back (only the holder's token does).
    pub async fn unlock_harvest_source(&self, id: i64, token: &str) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "UPDATE harvest_sources SET locked_until = NULL, lock_token = NULL
                   WHERE id = $1 AND lock_token = $2",
                )
                .bind(id)
                .bind(token),
            )
            .await?;
        Ok(())
    }

    /// Records the start of a run; returns its id.
    pub async fn start_harvest_run(
        &self,
        source_id: i64,
        full: bool,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO harvest_runs (source_id, full_run, started_at, status)
                   VALUES ($1, $2, $3, 'running') RETURNING id",
                )
                .bind(source_id)
                .bind(full)
                .bind(at),
            )
            .await?
            .get("id")?;
        c.execute(
            q("UPDATE harvest_sources SET last_status = 'running', last_run_at = $2 WHERE id = $1")
                .bind(source_id)
                .bind(at),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the end of a run, copies its counts to the source, and moves the watermark when
    /// one is given (a failed run gives none: the next run starts from the same place).
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_harvest_run(
        &self,
        run_id: i64,
        source_id: i64,
        status: &str,
        counts: &HarvestCounts,
        log: &str,
        watermark: Option<i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q(
                "UPDATE harvest_runs SET finished_at = $2, status = $3, created = $4, updated = $5,
                 unchanged = $6, withdrawn = $7, errors = $8, log = $9
               WHERE id = $1",
            )
            .bind(run_id)
            .bind(at)
            .bind(status)
            .bind(counts.created)
            .bind(counts.updated)
            .bind(counts.unchanged)
            .bind(counts.withdrawn)
            .bind(counts.errors)
            .bind(log),
        )
        .await?;
        c.execute(
            q(
                "UPDATE harvest_sources SET last_status = $2, last_created = $3, last_updated = $4,
                 last_unchanged = $5, last_withdrawn = $6, last_errors = $7,
                 watermark = COALESCE($8, watermark)
               WHERE id = $1",
            )
            .bind(source_id)
            .bind(status)
            .bind(counts.created)
            .bind(counts.updated)
            .bind(counts.unchanged)
            .bind(counts.withdrawn)
            .bind(counts.errors)
            .bind(watermark),
        )
        .await?;
        tx.commit().await
    }

    /// A source's latest runs, newest first.
    pub async fn harvest_runs(
        &self,
        source_id: i64,
        limit: i64,
    ) -> Result<Vec<HarvestRunRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, source_id, full_run, started_at, finished_at, status, created,
                     updated, unchanged, withdrawn, errors, log
                   FROM harvest_runs WHERE source_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(source_id)
                .bind(limit),
            )
            .await?
            .iter()
            .map(run_from)
            .collect()
    }

    /// The key rows of a source's harvested datasets, by remote id.
    pub async fn harvested(
        &self,
        source_id: i64,
    ) -> Result<HashMap<String, HarvestedRow>, StoreError> {
        let mut out = HashMap::new();
        for r in self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT remote_id, dataset_id, content_hash, withdrawn
                   FROM harvested_datasets WHERE source_id = $1")
                .bind(source_id),
            )
            .await?
        {
            out.insert(
                r.get("remote_id")?,
                HarvestedRow {
                    dataset_id: r.get("dataset_id")?,
                    content_hash: r.get("content_hash")?,
                    withdrawn: r.get("withdrawn")?,
                },
            );
        }
        Ok(out)
    }

    /// Creates a harvested dataset, its link resources and its key, in one transaction.
    pub async fn harvest_create(
        &self,
        project_id: i64,
        uuid: &str,
        h: &HarvestWrite<'_>,
        by: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id = insert_dataset_row(&mut c, project_id, uuid, h.dataset, h.source, by, at).await?;
        for (i, r) in h.resources.iter().enumerate() {
            insert_resource(&mut c, id, i as i64, r, at).await?;
        }
        c.execute(
            q(
                "INSERT INTO harvested_datasets (source_id, remote_id, dataset_id, content_hash,
                 remote_modified, withdrawn, seen_at)
               VALUES ($1, $2, $3, $4, $5, FALSE, $6)",
            )
            .bind(h.source_id)
            .bind(h.remote_id)
            .bind(id)
            .bind(h.content_hash)
            .bind(h.remote_modified)
            .bind(at),
        )
        .await?;
        record_version(&mut c, id, VersionAuthor::Harvest, true, at).await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a harvested dataset's metadata and resources (the name stays) and its key's
    /// hash, in one transaction; it is published again if it had been withdrawn.
    pub async fn harvest_update(
        &self,
        dataset_id: i64,
        h: &HarvestWrite<'_>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        // The name stays (`dataset_write` leaves it empty for an update).
        update_dataset_row(&mut c, dataset_id, h.dataset, Some(h.source), at).await?;
        replace_resources(&mut c, dataset_id, h.resources, at).await?;
        c.execute(
            q(
                "UPDATE harvested_datasets SET content_hash = $3, remote_modified = $4,
                 withdrawn = FALSE, seen_at = $5
               WHERE source_id = $1 AND remote_id = $2",
            )
            .bind(h.source_id)
            .bind(h.remote_id)
            .bind(h.content_hash)
            .bind(h.remote_modified)
            .bind(at),
        )
        .await?;
        record_version(&mut c, dataset_id, VersionAuthor::Harvest, false, at).await?;
        bump(&mut c).await?;
        tx.commit().await
    }

    /// Withdraws a harvested dataset that left its source: it becomes a draft (seen by the
    /// project's members only), kept with its key so that it comes back if the remote does.
    pub async fn harvest_withdraw(
        &self,
        source_id: i64,
        remote_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q("UPDATE datasets SET state = 'draft', modified_at = $3
               WHERE id = (SELECT dataset_id FROM harvested_datasets
                           WHERE source_id = $1 AND remote_id = $2)")
            .bind(source_id)
            .bind(remote_id)
            .bind(at),
        )
        .await?;
        c.execute(
            q("UPDATE harvested_datasets SET withdrawn = TRUE
               WHERE source_id = $1 AND remote_id = $2")
            .bind(source_id)
            .bind(remote_id),
        )
        .await?;
        if let Some(id) = c
            .fetch_optional(
                q("SELECT dataset_id FROM harvested_datasets
                   WHERE source_id = $1 AND remote_id = $2")
                .bind(source_id)
                .bind(remote_id),
            )
            .await?
        {
            let id: i64 = id.get("dataset_id")?;
            record_version(&mut c, id, VersionAuthor::Harvest, false, at).await?;
        }
        bump(&mut c).await?;
        tx.commit().await
    }

    /// Whether a dataset name is taken.
    pub async fn dataset_name_taken(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT 1 AS one FROM datasets WHERE name = $1").bind(name),
            )
            .await?
            .is_some())
    }
}
