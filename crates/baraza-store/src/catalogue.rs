//! The open-data catalogue: datasets, their resources, and the catalogue's version.
//!
//! Every write bumps `catalogue_version` in its own transaction, so that a server's search
//! index (kept by the core) is rebuilt exactly when another server — or this one — changed
//! something.
//!
//! Every write that alters a dataset also calls [`record_version`] in that transaction: it
//! compares the dataset as it now is with its last version's snapshot and, when a reader would
//! get something else, writes the next version (a change and its version commit together or
//! not at all).

use crate::db::{q, Conn, Mode, Row};
use crate::{Store, StoreError};
use baraza_catalogue::model::Field;
use baraza_catalogue::versions::{diff, Changes};
use baraza_catalogue::{Dataset, DatasetState, Organisation, Resource, ResourceKind, Source};

/// A dataset's editable metadata.
#[derive(Debug, Clone)]
pub struct DatasetWrite<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub notes: &'a str,
    pub license_id: &'a str,
    pub state: DatasetState,
    pub private: bool,
    pub frequency: &'a str,
    pub temporal_start: &'a str,
    pub temporal_end: &'a str,
    pub spatial: &'a [String],
    pub spatial_label: &'a str,
    pub methodology: &'a str,
    pub version: &'a str,
    pub maintainer: &'a str,
    pub maintainer_email: &'a str,
    pub tags: &'a [String],
    pub groups: &'a [String],
}

/// A new resource.
#[derive(Debug, Clone)]
pub struct ResourceWrite<'a> {
    pub uuid: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub format: &'a str,
    pub media_type: &'a str,
    pub file_name: &'a str,
    pub size: Option<i64>,
    pub hash: Option<&'a str>,
    pub kind: &'a ResourceKind,
    pub fields: &'a [Field],
}

/// A dataset with the ids the core needs to decide access.
#[derive(Debug, Clone)]
pub struct StoredDataset {
    pub row_id: i64,
    pub project_id: i64,
    pub dataset: Dataset,
}

/// Who made a version of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionAuthor {
    /// A person, by user id.
    User(i64),
    /// A harvest run (the remote catalogue is the dataset's master).
    Harvest,
    /// Baraza itself (a job, the command line without a user).
    System,
}

impl VersionAuthor {
    /// `Some(id)` is that user; `None` is the system.
    pub fn user_or_system(user: Option<i64>) -> Self {
        user.map_or(VersionAuthor::System, VersionAuthor::User)
    }

    fn kind(self) -> &'static str {
        match self {
            VersionAuthor::User(_) => "user",
            VersionAuthor::Harvest => "harvest",
            VersionAuthor::System => "system",
        }
    }

    fn id(self) -> Option<i64> {
        match self {
            VersionAuthor::User(id) => Some(id),
            _ => None,
        }
    }
}

/// One version of a dataset, as its history lists it.
#[derive(Debug, Clone)]
pub struct DatasetVersionRow {
    pub number: i64,
    pub created_at: i64,
    pub author: VersionAuthor,
    /// The author's display name, while their account exists.
    pub author_name: Option<String>,
    /// Whether the dataset was published and not private at this version.
    pub public: bool,
    pub changes: Changes,
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse<T: serde::de::DeserializeOwned>(r: &Row, col: &str) -> Result<T, StoreError> {
    let s: String = r.get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

const DATASET_SELECT: &str = "SELECT d.id, d.uuid, d.name, d.project_id, d.title, d.notes,
       d.license_id, d.state, d.private, d.frequency, d.temporal_start, d.temporal_end,
       d.spatial, d.spatial_label, d.methodology, d.version, d.maintainer, d.maintainer_email,
       d.tags, d.sdg_groups, d.source, d.created_at, d.modified_at,
       p.slug AS project_slug, o.slug AS org_slug, o.name AS org_name,
       o.description AS org_description, o.created_at AS org_created,
       (SELECT COUNT(*) FROM reuse_datasets rd JOIN reuses r ON r.id = rd.reuse_id
          WHERE rd.dataset_id = d.id AND r.hidden = FALSE) AS reuses
     FROM datasets d JOIN projects p ON p.id = d.project_id
     JOIN organisations o ON o.id = p.org_id";

const RESOURCE_SELECT: &str = "SELECT dataset_id, uuid, position, name, description, format,
       media_type, file_name, size, hash, kind, fields, created_at, modified_at
     FROM dataset_resources";

fn dataset_from(r: &Row) -> Result<StoredDataset, StoreError> {
    let org_slug: String = r.get("org_slug")?;
    let project_slug: String = r.get("project_slug")?;
    let state: String = r.get("state")?;
    Ok(StoredDataset {
        row_id: r.get("id")?,
        project_id: r.get("project_id")?,
        dataset: Dataset {
            id: r.get("uuid")?,
            name: r.get("name")?,
            title: r.get("title")?,
            notes: r.get("notes")?,
            organisation: Organisation {
                id: org_slug.clone(),
                name: org_slug.clone(),
                title: r.get("org_name")?,
                description: r.get("org_description")?,
                created: r.get("org_created")?,
            },
            project: format!("{org_slug}/{project_slug}"),
            license_id: r.get("license_id")?,
            state: DatasetState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("dataset state {state}")))?,
            private: r.get("private")?,
            frequency: r.get("frequency")?,
            temporal_start: r.get("temporal_start")?,
            temporal_end: r.get("temporal_end")?,
            spatial: parse(r, "spatial")?,
            spatial_label: r.get("spatial_label")?,
            methodology: r.get("methodology")?,
            version: r.get("version")?,
            maintainer: r.get("maintainer")?,
            maintainer_email: r.get("maintainer_email")?,
            tags: parse(r, "tags")?,
            groups: parse(r, "sdg_groups")?,
            resources: Vec::new(),
            source: parse(r, "source")?,
            created: r.get("created_at")?,
            modified: r.get("modified_at")?,
            reuses: r.get("reuses")?,
        },
    })
}

fn resource_from(r: &Row) -> Result<(i64, Resource), StoreError> {
    Ok((
        r.get("dataset_id")?,
        Resource {
            id: r.get("uuid")?,
            name: r.get("name")?,
            description: r.get("description")?,
            format: r.get("format")?,
            media_type: r.get("media_type")?,
            file_name: r.get("file_name")?,
            size: r.get("size")?,
            hash: r.get("hash")?,
            position: r.get("position")?,
            created: r.get("created_at")?,
            modified: r.get("modified_at")?,
            kind: parse(r, "kind")?,
            fields: parse(r, "fields")?,
        },
    ))
}

pub(crate) async fn bump(c: &mut Conn<'_>) -> Result<(), StoreError> {
    c.execute(q(
        "INSERT INTO catalogue_version (id, version) VALUES (1, 1)
           ON CONFLICT (id) DO UPDATE SET version = catalogue_version.version + 1",
    ))
    .await?;
    Ok(())
}

/// A dataset's files changed: it is modified now, and so is the catalogue.
async fn touch(c: &mut Conn<'_>, row_id: i64, at: i64) -> Result<(), StoreError> {
    c.execute(
        q("UPDATE datasets SET modified_at = $2 WHERE id = $1")
            .bind(row_id)
            .bind(at),
    )
    .await?;
    bump(c).await
}

/// A dataset with its resources, read inside a transaction.
async fn dataset_in(c: &mut Conn<'_>, row_id: i64) -> Result<Option<Dataset>, StoreError> {
    let Some(row) = c
        .fetch_optional(
            crate::db::q_built(format!("{DATASET_SELECT} WHERE d.id = $1")).bind(row_id),
        )
        .await?
    else {
        return Ok(None);
    };
    let mut d = dataset_from(&row)?.dataset;
    for r in c
        .fetch_all(
            crate::db::q_built(format!(
                "{RESOURCE_SELECT} WHERE dataset_id = $1 ORDER BY position"
            ))
            .bind(row_id),
        )
        .await?
    {
        d.resources.push(resource_from(&r)?.1);
    }
    Ok(Some(d))
}

/// Records the dataset's next version when what a reader gets changed since its last one;
/// returns the version's number, or `None` when nothing did. Called by every write to a
/// dataset after its rows are written, in the same transaction: the write has already updated
/// the dataset's row, whose lock orders two writers of one dataset (the second reads the
/// first's version). `created` says the dataset was just made.
pub(crate) async fn record_version(
    c: &mut Conn<'_>,
    row_id: i64,
    author: VersionAuthor,
    created: bool,
    at: i64,
) -> Result<Option<i64>, StoreError> {
    let Some(mut now) = dataset_in(c, row_id).await? else {
        return Ok(None);
    };
    // The reuse count is not the dataset's content (and moves without a version).
    now.reuses = 0;
    let last = c
        .fetch_optional(
            q(
                "SELECT number, snapshot FROM dataset_versions WHERE dataset_id = $1
               ORDER BY number DESC LIMIT 1",
            )
            .bind(row_id),
        )
        .await?;
    let (number, previous) = match &last {
        Some(r) => (
            r.get::<i64>("number")?,
            Some(parse::<Dataset>(r, "snapshot")?),
        ),
        None => (0, None),
    };
    let changes = diff(previous.as_ref(), &now, created && previous.is_none());
    if changes.is_empty() {
        return Ok(None);
    }
    let number = number + 1;
    c.execute(
        q(
            "INSERT INTO dataset_versions (dataset_id, number, created_at, author_kind, author_id,
             public, changes, snapshot)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row_id)
        .bind(number)
        .bind(at)
        .bind(author.kind())
        .bind(author.id())
        .bind(now.is_public())
        .bind(json(&changes))
        .bind(json(&now)),
    )
    .await?;
    Ok(Some(number))
}

const VERSION_SELECT: &str = "SELECT v.number, v.created_at, v.author_kind, v.author_id,
       v.public, v.changes, u.name AS author_name
     FROM dataset_versions v LEFT JOIN users u ON u.id = v.author_id";

fn version_from(r: &Row) -> Result<DatasetVersionRow, StoreError> {
    let kind: String = r.get("author_kind")?;
    let author = match (kind.as_str(), r.get::<Option<i64>>("author_id")?) {
        ("user", Some(id)) => VersionAuthor::User(id),
        ("harvest", _) => VersionAuthor::Harvest,
        ("system", _) => VersionAuthor::System,
        (k, _) => return Err(StoreError::Corrupt(format!("dataset version author {k}"))),
    };
    Ok(DatasetVersionRow {
        number: r.get("number")?,
        created_at: r.get("created_at")?,
        author,
        author_name: r.get("author_name")?,
        public: r.get("public")?,
        changes: parse(r, "changes")?,
    })
}

/// Inserts a dataset's row (no resources, no version bump); returns its row id.
pub(crate) async fn insert_dataset_row(
    c: &mut Conn<'_>,
    project_id: i64,
    uuid: &str,
    w: &DatasetWrite<'_>,
    source: &Source,
    by: Option<i64>,
    at: i64,
) -> Result<i64, StoreError> {
    let id: i64 = c
        .fetch_one(
            q(
                "INSERT INTO datasets (uuid, name, project_id, title, notes, license_id, state,
                 private, frequency, temporal_start, temporal_end, spatial, spatial_label,
                 methodology, version, maintainer, maintainer_email, tags, sdg_groups, source,
                 created_by, created_at, modified_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 $16, $17, $18, $19, $20, $21, $22, $22)
               RETURNING id",
            )
            .bind(uuid)
            .bind(w.name)
            .bind(project_id)
            .bind(w.title)
            .bind(w.notes)
            .bind(w.license_id)
            .bind(w.state.as_str())
            .bind(w.private)
            .bind(w.frequency)
            .bind(w.temporal_start)
            .bind(w.temporal_end)
            .bind(json(&w.spatial))
            .bind(w.spatial_label)
            .bind(w.methodology)
            .bind(w.version)
            .bind(w.maintainer)
            .bind(w.maintainer_email)
            .bind(json(&w.tags))
            .bind(json(&w.groups))
            .bind(json(source))
            .bind(by)
            .bind(at),
        )
        .await?
        .get("id")?;
    Ok(id)
}

/// Replaces a dataset's metadata in place (not its resources), for an edit and for a harvest
/// run alike: an empty `w.name` keeps the stored name (a harvested dataset is never renamed), and
/// `source`, when given, replaces what it was made from.
pub(crate) async fn update_dataset_row(
    c: &mut Conn<'_>,
    row_id: i64,
    w: &DatasetWrite<'_>,
    source: Option<&Source>,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        q(
            "UPDATE datasets SET name = CASE WHEN $2 = '' THEN name ELSE $2 END, title = $3,
             notes = $4, license_id = $5, state = $6, private = $7, frequency = $8,
             temporal_start = $9, temporal_end = $10, spatial = $11, spatial_label = $12,
             methodology = $13, version = $14, maintainer = $15, maintainer_email = $16,
             tags = $17, sdg_groups = $18, source = COALESCE($19, source), modified_at = $20
           WHERE id = $1",
        )
        .bind(row_id)
        .bind(w.name)
        .bind(w.title)
        .bind(w.notes)
        .bind(w.license_id)
        .bind(w.state.as_str())
        .bind(w.private)
        .bind(w.frequency)
        .bind(w.temporal_start)
        .bind(w.temporal_end)
        .bind(json(&w.spatial))
        .bind(w.spatial_label)
        .bind(w.methodology)
        .bind(w.version)
        .bind(w.maintainer)
        .bind(w.maintainer_email)
        .bind(json(&w.tags))
        .bind(json(&w.groups))
        .bind(source.map(json))
        .bind(at),
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_resource(
    c: &mut Conn<'_>,
    dataset_id: i64,
    position: i64,
    r: &ResourceWrite<'_>,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        q(
            "INSERT INTO dataset_resources (uuid, dataset_id, position, name, description, format,
             media_type, file_name, size, hash, kind, fields, created_at, modified_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(r.uuid)
        .bind(dataset_id)
        .bind(position)
        .bind(r.name)
        .bind(r.description)
        .bind(r.format)
        .bind(r.media_type)
        .bind(r.file_name)
        .bind(r.size)
        .bind(r.hash)
        .bind(json(r.kind))
        .bind(json(&r.fields))
        .bind(at),
    )
    .await?;
    Ok(())
}

impl Store {
    /// The catalogue's version: it changes whenever a dataset or resource does.
    pub async fn catalogue_version(&self) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT COALESCE(MAX(version), 0) AS version FROM catalogue_version"),
            )
            .await?
            .get("version")
    }

    /// The version and every dataset with its resources, in name order. The version is read
    /// first: a write that lands between the reads makes the caller rebuild once more, never
    /// keep stale data under a current version.
    pub async fn catalogue(&self) -> Result<(i64, Vec<StoredDataset>), StoreError> {
        let version = self.catalogue_version().await?;
        let mut out: Vec<StoredDataset> = self
            .pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!("{DATASET_SELECT} ORDER BY d.id")),
            )
            .await?
            .iter()
            .map(dataset_from)
            .collect::<Result<_, _>>()?;
        let resources = self
            .pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!("{RESOURCE_SELECT} ORDER BY dataset_id, position")),
            )
            .await?;
        // Datasets are ordered by id, resources by dataset id: one merge pass.
        let mut i = 0;
        for row in &resources {
            let (dataset_id, r) = resource_from(row)?;
            while i < out.len() && out[i].row_id < dataset_id {
                i += 1;
            }
            if i < out.len() && out[i].row_id == dataset_id {
                out[i].dataset.resources.push(r);
            }
        }
        out.sort_by(|a, b| a.dataset.name.cmp(&b.dataset.name));
        Ok((version, out))
    }

    /// One dataset by name or id, with its resources.
    pub async fn dataset(&self, name_or_id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let Some(row) = self
            .pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!("{DATASET_SELECT} WHERE d.name = $1 OR d.uuid = $1"))
                    .bind(name_or_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut d = dataset_from(&row)?;
        for r in self
            .pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "{RESOURCE_SELECT} WHERE dataset_id = $1 ORDER BY position"
                ))
                .bind(d.row_id),
            )
            .await?
        {
            d.dataset.resources.push(resource_from(&r)?.1);
        }
        Ok(Some(d))
    }

    /// Creates a dataset with its first resources; returns its row id. A name already taken
    /// is `Conflict { what: "datasets.name" }`.
    pub async fn insert_dataset(
        &self,
        project_id: i64,
        uuid: &str,
        w: &DatasetWrite<'_>,
        source: &Source,
        resources: &[ResourceWrite<'_>],
        by: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id = insert_dataset_row(&mut c, project_id, uuid, w, source, by, at).await?;
        for (i, r) in resources.iter().enumerate() {
            insert_resource(&mut c, id, i as i64, r, at).await?;
        }
        record_version(&mut c, id, VersionAuthor::user_or_system(by), true, at).await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a dataset's metadata (not its resources).
    pub async fn update_dataset(
        &self,
        row_id: i64,
        w: &DatasetWrite<'_>,
        by: VersionAuthor,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        update_dataset_row(&mut c, row_id, w, None, at).await?;
        record_version(&mut c, row_id, by, false, at).await?;
        bump(&mut c).await?;
        tx.commit().await
    }

    /// Adds a resource at the end of a dataset's list.
    pub async fn add_resource(
        &self,
        row_id: i64,
        r: &ResourceWrite<'_>,
        by: VersionAuthor,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let position: i64 = c
            .fetch_one(
                q(
                    "SELECT COALESCE(MAX(position), -1) + 1 AS p FROM dataset_resources
                   WHERE dataset_id = $1",
                )
                .bind(row_id),
            )
            .await?
            .get("p")?;
        insert_resource(&mut c, row_id, position, r, at).await?;
        touch(&mut c, row_id, at).await?;
        record_version(&mut c, row_id, by, false, at).await?;
        tx.commit().await
    }

    /// Removes a resource; false when the dataset has none with this id.
    pub async fn delete_resource(
        &self,
        row_id: i64,
        uuid: &str,
        by: VersionAuthor,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let n = c
            .execute(
                q("DELETE FROM dataset_resources WHERE dataset_id = $1 AND uuid = $2")
                    .bind(row_id)
                    .bind(uuid),
            )
            .await?;
        if n > 0 {
            touch(&mut c, row_id, at).await?;
            record_version(&mut c, row_id, by, false, at).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Deletes a dataset and its resources (their blobs stay for the sweep).
    pub async fn delete_dataset(&self, row_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(q("DELETE FROM dataset_resources WHERE dataset_id = $1").bind(row_id))
            .await?;
        c.execute(q("DELETE FROM dataset_versions WHERE dataset_id = $1").bind(row_id))
            .await?;
        let n = c
            .execute(q("DELETE FROM datasets WHERE id = $1").bind(row_id))
            .await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Whether any resource, or any version of a dataset, still points at this blob (before it
    /// is wiped): an older version's file is served while its blob exists.
    pub async fn blob_in_catalogue(&self, sha256: &str) -> Result<bool, StoreError> {
        let pattern = format!("%\"sha256\":\"{sha256}\"%");
        Ok(self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT 1 AS one FROM dataset_resources WHERE kind LIKE $1
                   UNION ALL
                   SELECT 1 AS one FROM dataset_versions WHERE snapshot LIKE $1")
                .bind(pattern),
            )
            .await?
            .is_some())
    }

    /// A dataset's versions, newest first.
    pub async fn dataset_versions(
        &self,
        row_id: i64,
    ) -> Result<Vec<DatasetVersionRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "{VERSION_SELECT} WHERE v.dataset_id = $1 ORDER BY v.number DESC"
                ))
                .bind(row_id),
            )
            .await?
            .iter()
            .map(version_from)
            .collect()
    }

    /// The number of a dataset's latest version (of its public ones when `public_only`).
    pub async fn dataset_latest_version(
        &self,
        row_id: i64,
        public_only: bool,
    ) -> Result<Option<i64>, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT MAX(number) AS n FROM dataset_versions
                   WHERE dataset_id = $1 AND (public OR NOT $2)")
                .bind(row_id)
                .bind(public_only),
            )
            .await?
            .get("n")
    }

    /// One version of a dataset, with the dataset as it then was.
    pub async fn dataset_version(
        &self,
        row_id: i64,
        number: i64,
    ) -> Result<Option<(DatasetVersionRow, Dataset)>, StoreError> {
        let Some(r) = self
            .pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT v.number, v.created_at, v.author_kind, v.author_id, v.public,
                     v.changes, v.snapshot, u.name AS author_name
                   FROM dataset_versions v LEFT JOIN users u ON u.id = v.author_id
                   WHERE v.dataset_id = $1 AND v.number = $2",
                )
                .bind(row_id)
                .bind(number),
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((version_from(&r)?, parse(&r, "snapshot")?)))
    }
}
