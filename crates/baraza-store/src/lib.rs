//! All of Baraza's SQL, behind one [`Store`] API, on SQLite or PostgreSQL.
//!
//! # Design
//!
//! * **Two real backends, one set of queries.** Each query is written once, in the subset of SQL
//!   that both SQLite and PostgreSQL accept (see `db.rs`). The schemas differ only where the
//!   dialects must (identity columns), and live in `migrations/sqlite` and `migrations/postgres`,
//!   embedded in the binary and applied at start.
//! * **SQLite is tuned for one machine**: WAL journal, foreign keys on, a busy timeout, one writer
//!   connection and a pool of read-only readers.
//! * **PostgreSQL is for several stateless instances**: nothing here caches rows in memory, so
//!   any number of `baraza serve` processes can share a database; migrations take sqlx's advisory
//!   lock so that instances starting together do not race.
//! * **The store knows no rules.** It stores and finds; who may do what, password hashing and token
//!   generation belong to `baraza-core`. Times are passed in (Unix seconds), never read here.

mod audit;
mod backup;
pub mod blobs;
mod bulk;
mod catalogue;
mod census;
mod central;
mod consent;
mod db;
mod encrypted;
mod fill;
mod forms;
mod harvest;
mod iati;
mod indicators;
mod ingest;
mod keys;
mod listing;
mod models;
mod registers;
mod releases;
mod reports;
mod retention;
mod reuses;
mod scope;
mod subjects;

pub use audit::{AuditBatch, AuditEntry, AuditQuery, Chained, NewAuditEntry, PackedFields};
pub use backup::{inspect_sqlite_file, ExportSink, PgImport, Snapshot, TableCount};
pub use blobs::{BlobError, BlobRef, BlobStore, BlobWriter};
pub use bulk::{BulkSubmission, FlatRecord};
pub use catalogue::{DatasetVersionRow, DatasetWrite, ResourceWrite, StoredDataset, VersionAuthor};
pub use census::{
    CensusCategory, CensusEntryRow, CensusInUse, CensusPlace, CensusRow, CensusSettings, NewCensus,
    NewCensusEntry,
};
pub use central::*;
pub use consent::{ConsentCounts, ConsentRecord, NewConsent};
pub use encrypted::{EncryptedSubmissionRow, NewEncryptedSubmission, ProjectFormKey};
pub use fill::*;
pub use forms::*;
pub use harvest::{
    HarvestCounts, HarvestRunRow, HarvestSourceRow, HarvestSourceWrite, HarvestWrite, HarvestedRow,
};
pub use iati::{IatiActivityRow, IatiOrgRow};
pub use indicators::{
    CellKeyRow, CellSums, IndicatorDelta, IndicatorRecord, IndicatorRow, NewIndicator,
    OfficialSeriesRow, PlaceRow,
};
pub use ingest::{
    IngestOutcome, IngestStats, NewSubmission, ReceivedFile, SubjectToken, SubmissionXml, MAX_BATCH,
};
pub use keys::{ClearSubmission, SealedUpdate, StoredKey, SubjectHit};
pub use listing::*;
pub use models::*;
pub use registers::{
    Agreement, AgreementFields, DpiaAnswer, Incident, IncidentFields, NewRegisterEvent, Register,
    RegisterEvent,
};
pub use releases::{ReleasePolicyRow, ReleaseRow, ReleasedFields};
pub use reports::{
    AlertRow, ChannelRow, MessageOutcome, NewMessage, NewOutgoing, NewReport, OutgoingRow,
    ReportCommentRow, ReportPoint, ReportQuery, ReportRow, ReportSettingsRow,
};
pub use retention::{
    AnswersErased, Destroyed, ErasedRecord, ExpiredAnswers, FormPurpose, RetentionRule,
};
pub use reuses::{DiscussionRow, DiscussionSubject, MessageRow, ReuseRow, ReuseWrite};
pub use scope::RowScope;
pub use subjects::SubjectRequestRow;

use baraza_types::{OrgId, OrgRole, ProjectId, Role, TokenId, UserId, Visibility};
use db::{q, Mode, Pools, Row};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; `what` names the rule (e.g. `users.email`).
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// The database cannot be reached or is overloaded; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row did not have the shape the code expects.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The database URL or options are wrong.
    #[error("database configuration: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let msg = db.message().to_owned();
                let constraint = db.constraint().unwrap_or("").to_owned();
                StoreError::Conflict {
                    what: conflict_name(&constraint, &msg),
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Names a uniqueness violation the same way on both backends (PostgreSQL reports the constraint,
/// SQLite the columns in its message).
fn conflict_name(constraint: &str, message: &str) -> &'static str {
    let hay = format!("{constraint} {message}");
    if hay.contains("email") {
        "users.email"
    } else if hay.contains("organisations") {
        "organisations.slug"
    } else if hay.contains("projects") {
        "projects.slug"
    } else if hay.contains("token") {
        "api_tokens.token_hash"
    } else {
        "row"
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Tuning of the connection pools.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections to PostgreSQL, or SQLite readers.
    pub max_connections: u32,
    /// How long a query waits for a connection (or SQLite for a lock) before giving up.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A migration that the binary knows, and whether the database has it.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// The store: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Store {
    pools: Pools,
    /// The writers that store submissions with group commit (see `ingest.rs`).
    committer: std::sync::Arc<ingest::Committer>,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, `sqlite::memory:` is refused, or `postgres://…`) without
    /// migrating. Call [`Store::migrate`] next, or use [`Store::open`].
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
                })?;
            // PostgreSQL shares the WAL flushes of concurrent commits: a few writers keep
            // several batches in flight, leaving most connections to readers.
            let writers = (opts.max_connections / 2).clamp(1, 4) as usize;
            Ok(Store::with_pools(Pools::Postgres(pool), writers))
        } else if url.starts_with("sqlite:") {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(StoreError::Config(
                    "an in-memory SQLite database would lose everything at exit; give a file path"
                        .into(),
                ));
            }
            let base = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before it returns, so an acknowledged submission
                // survives a power cut (NORMAL would only protect against corruption).
                .synchronous(SqliteSynchronous::Full)
                // PRIVACY: deleted content is overwritten with zeros in the database file (and
                // the WAL), so that destroyed records leave no bytes behind.
                .pragma("secure_delete", "ON")
                .foreign_keys(true)
                .busy_timeout(opts.acquire_timeout);
            let writer = connect_sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(opts.acquire_timeout),
                base.clone().create_if_missing(true),
            )
            .await?;
            let reader = connect_sqlite(
                SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout),
                base.read_only(true),
            )
            .await?;
            // One writer: SQLite has one write connection, and group commit is what lets it
            // keep up.
            Ok(Store::with_pools(Pools::Sqlite { writer, reader }, 1))
        } else {
            Err(StoreError::Config(format!(
                "database URL must start with sqlite:// or postgres://, got {:?}",
                url.split(':').next().unwrap_or("")
            )))
        }
    }

    fn with_pools(pools: Pools, writers: usize) -> Store {
        Store {
            committer: std::sync::Arc::new(ingest::Committer::new(pools.clone(), writers)),
            pools,
        }
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        let store = Store::connect(url, opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this binary embeds and the database lacks. Safe to run from several
    /// instances at once (PostgreSQL takes an advisory lock; SQLite has one writer).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => {
                // sqlx takes no lock on SQLite. When two processes (a server and `baraza admin`,
                // say) migrate a new file at once, the loser's migration fails because the
                // winner's, serialised by SQLite's write lock, already ran. Running again then
                // finds it applied; a migration that is really broken fails every time. Each
                // race loses at most one migration, so the attempts grow with their number.
                let attempts = SQLITE_MIGRATIONS.iter().count() as u64;
                let mut attempt = 0;
                loop {
                    match SQLITE_MIGRATIONS.run(writer).await {
                        Ok(()) => break,
                        Err(e) if attempt < attempts => {
                            tracing::debug!(error = %e, "migration raced with another process; retrying");
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(20 * attempt.min(10))).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The migrations this binary knows and whether each is applied.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let migrator = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> = match self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version"),
            )
            .await
        {
            Ok(rows) => rows
                .iter()
                .map(|r| r.get::<i64>("version"))
                .collect::<Result<_, _>>()?,
            // No table yet: nothing applied.
            Err(StoreError::Database(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(migrator
            .iter()
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pools
            .fetch_one(Mode::Read, q("SELECT 1 AS one"))
            .await
            .map(|_| ())
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.committer.stop();
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    // ----- users -----------------------------------------------------------------------------

    /// Creates an account. `email_norm` (the lowercased address) must be unique.
    pub async fn create_user(&self, u: &NewUser<'_>) -> Result<User, StoreError> {
        let row = self
            .pools
            .fetch_one(
                Mode::Write,
                q("INSERT INTO users (email, email_norm, name, password_hash, is_admin, locale, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   RETURNING id, email, name, password_hash, is_admin, locale, created_at, disabled_at")
                .bind(u.email)
                .bind(u.email.to_lowercase())
                .bind(u.name)
                .bind(u.password_hash)
                .bind(u.is_admin)
                .bind(u.locale)
                .bind(u.created_at),
            )
            .await?;
        user_from(&row)
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT id, email, name, password_hash, is_admin, locale, created_at, disabled_at
                   FROM users WHERE id = $1")
                .bind(id.0),
            )
            .await?
            .map(|r| user_from(&r))
            .transpose()
    }

    /// Finds an account by e-mail address, ignoring case.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT id, email, name, password_hash, is_admin, locale, created_at, disabled_at
                   FROM users WHERE email_norm = $1")
                .bind(email.trim().to_lowercase()),
            )
            .await?
            .map(|r| user_from(&r))
            .transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT id, email, name, password_hash, is_admin, locale, created_at, disabled_at
                   FROM users ORDER BY email_norm"),
            )
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    /// Replaces a password hash. Returns false when there is no such user.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(id.0),
            )
            .await?
            == 1)
    }

    pub async fn set_user_locale(
        &self,
        id: UserId,
        locale: Option<&str>,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE users SET locale = $1 WHERE id = $2")
                    .bind(locale)
                    .bind(id.0),
            )
            .await?;
        Ok(())
    }

    // ----- organisations ---------------------------------------------------------------------

    /// Creates an organisation and, in the same transaction, makes `owner` its owner.
    pub async fn create_org(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        owner: Option<UserId>,
        now: i64,
    ) -> Result<Org, StoreError> {
        let mut tx = self.pools.begin().await?;
        let row = tx
            .conn()
            .fetch_one(
                q(
                    "INSERT INTO organisations (slug, name, description, created_at)
                   VALUES ($1, $2, $3, $4) RETURNING id, slug, name, description, created_at",
                )
                .bind(slug)
                .bind(name)
                .bind(description)
                .bind(now),
            )
            .await?;
        let org = org_from(&row)?;
        if let Some(owner) = owner {
            tx.conn()
                .execute(
                    q("INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
                        .bind(org.id.0)
                        .bind(owner.0)
                        .bind(now),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(org)
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT id, slug, name, description, created_at FROM organisations WHERE slug = $1")
                    .bind(slug),
            )
            .await?
            .map(|r| org_from(&r))
            .transpose()
    }

    pub async fn org_by_id(&self, id: OrgId) -> Result<Option<Org>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT id, slug, name, description, created_at FROM organisations WHERE id = $1")
                    .bind(id.0),
            )
            .await?
            .map(|r| org_from(&r))
            .transpose()
    }

    pub async fn list_orgs(&self) -> Result<Vec<Org>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT id, slug, name, description, created_at FROM organisations ORDER BY name"),
            )
            .await?
            .iter()
            .map(org_from)
            .collect()
    }

    /// Makes `user` a member or owner of an organisation, unless that would leave it without an
    /// owner.
    pub async fn set_org_member(
        &self,
        org: OrgId,
        user: UserId,
        role: OrgRole,
        now: i64,
    ) -> Result<MemberChange, StoreError> {
        let mut tx = self.pools.begin().await?;
        if role != OrgRole::Owner && would_orphan_org(&mut tx, org, user).await? {
            return Ok(MemberChange::LastOwner);
        }
        tx.conn()
            .execute(
                q("INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role")
                .bind(org.0)
                .bind(user.0)
                .bind(role.as_str())
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(MemberChange::Done)
    }

    /// The members of an organisation, owners first.
    pub async fn list_org_members(&self, org: OrgId) -> Result<Vec<OrgMember>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT u.id, u.email, u.name, om.role, om.created_at
                   FROM org_members om JOIN users u ON u.id = om.user_id
                   WHERE om.org_id = $1 ORDER BY om.role DESC, u.name, u.id")
                .bind(org.0),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OrgMember {
                    user_id: UserId(r.get("id")?),
                    email: r.get("email")?,
                    name: r.get("name")?,
                    role: parse_enum(&r.get::<String>("role")?, "org_members.role")?,
                    since: r.get("created_at")?,
                })
            })
            .collect()
    }

    /// Removes someone from an organisation, unless they are its last owner.
    pub async fn remove_org_member(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<MemberChange, StoreError> {
        let mut tx = self.pools.begin().await?;
        if would_orphan_org(&mut tx, org, user).await? {
            return Ok(MemberChange::LastOwner);
        }
        let n = tx
            .conn()
            .execute(
                q("DELETE FROM org_members WHERE org_id = $1 AND user_id = $2")
                    .bind(org.0)
                    .bind(user.0),
            )
            .await?;
        tx.commit().await?;
        Ok(if n == 0 {
            MemberChange::NotMember
        } else {
            MemberChange::Done
        })
    }

    pub async fn org_role(&self, org: OrgId, user: UserId) -> Result<Option<OrgRole>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2")
                    .bind(org.0)
                    .bind(user.0),
            )
            .await?;
        row.map(|r| parse_enum::<OrgRole>(&r.get::<String>("role")?, "org_members.role"))
            .transpose()
    }

    // ----- projects --------------------------------------------------------------------------

    /// Creates a project and, in the same transaction, gives `owner` the owner role in it.
    pub async fn create_project(&self, p: &NewProject<'_>) -> Result<Project, StoreError> {
        let mut tx = self.pools.begin().await?;
        let row = tx
            .conn()
            .fetch_one(
                q(
                    "INSERT INTO projects (org_id, slug, name, description, visibility, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   RETURNING id, org_id, slug, name, description, visibility, created_at",
                )
                .bind(p.org.0)
                .bind(p.slug)
                .bind(p.name)
                .bind(p.description)
                .bind(p.visibility.as_str())
                .bind(p.created_at),
            )
            .await?;
        let project = project_from(&row)?;
        if let Some(owner) = p.owner {
            tx.conn()
                .execute(
                    q(
                        "INSERT INTO project_members (project_id, user_id, role, created_at)
                       VALUES ($1, $2, 'owner', $3)",
                    )
                    .bind(project.id.0)
                    .bind(owner.0)
                    .bind(p.created_at),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(project)
    }

    pub async fn project_by_slug(
        &self,
        org: OrgId,
        slug: &str,
    ) -> Result<Option<Project>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT id, org_id, slug, name, description, visibility, created_at
                   FROM projects WHERE org_id = $1 AND slug = $2",
                )
                .bind(org.0)
                .bind(slug),
            )
            .await?
            .map(|r| project_from(&r))
            .transpose()
    }

    pub async fn project_by_id(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT id, org_id, slug, name, description, visibility, created_at
                   FROM projects WHERE id = $1",
                )
                .bind(id.0),
            )
            .await?
            .map(|r| project_from(&r))
            .transpose()
    }

    pub async fn update_project(
        &self,
        id: ProjectId,
        name: &str,
        description: &str,
        visibility: Visibility,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE projects SET name = $1, description = $2, visibility = $3 WHERE id = $4")
                    .bind(name)
                    .bind(description)
                    .bind(visibility.as_str())
                    .bind(id.0),
            )
            .await?;
        Ok(())
    }

    /// Projects of every organisation that `viewer` may see: public ones, those they are a member
    /// of, and every project of organisations they own. `None` lists public projects only; a site
    /// administrator passes `all = true`.
    pub async fn list_projects(
        &self,
        org: Option<OrgId>,
        viewer: Option<UserId>,
        all: bool,
    ) -> Result<Vec<ProjectListing>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT p.id, p.org_id, p.slug, p.name, p.description, p.visibility, p.created_at,
                          o.slug AS org_slug, o.name AS org_name,
                          pm.role AS member_role, om.role AS org_role
                   FROM projects p
                   JOIN organisations o ON o.id = p.org_id
                   LEFT JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = $1
                   LEFT JOIN org_members om ON om.org_id = p.org_id AND om.user_id = $1
                   WHERE ($2 IS NULL OR p.org_id = $2)
                     AND ($3 OR p.visibility = 'public' OR pm.role IS NOT NULL OR om.role = 'owner')
                   ORDER BY o.name, p.name")
                .bind(viewer.map(|v| v.0))
                .bind(org.map(|o| o.0))
                .bind(all),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ProjectListing {
                    project: project_from(r)?,
                    org_slug: r.get("org_slug")?,
                    org_name: r.get("org_name")?,
                    member_role: r
                        .get::<Option<String>>("member_role")?
                        .map(|s| parse_enum::<Role>(&s, "project_members.role"))
                        .transpose()?,
                    org_owner: r.get::<Option<String>>("org_role")?.as_deref() == Some("owner"),
                })
            })
            .collect()
    }

    // ----- project members -------------------------------------------------------------------

    pub async fn project_role(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Role>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2")
                    .bind(project.0)
                    .bind(user.0),
            )
            .await?;
        row.map(|r| parse_enum::<Role>(&r.get::<String>("role")?, "project_members.role"))
            .transpose()
    }

    /// A member's role and row-level scope in a project.
    pub async fn project_membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<(Role, Option<MemberScope>)>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT role, scope_field, scope_values FROM project_members WHERE project_id = $1 AND user_id = $2")
                    .bind(project.0)
                    .bind(user.0),
            )
            .await?;
        row.map(|r| {
            Ok((
                parse_enum::<Role>(&r.get::<String>("role")?, "project_members.role")?,
                member_scope(&r)?,
            ))
        })
        .transpose()
    }

    /// Sets or clears a member's row-level scope. Returns false if they are not a member.
    pub async fn set_member_scope(
        &self,
        project: ProjectId,
        user: UserId,
        scope: Option<&MemberScope>,
    ) -> Result<bool, StoreError> {
        // One value per line (values hold no control characters: baraza-core checks).
        let values = scope.map(|s| s.values.join("\n"));
        let n = self
            .pools
            .execute(
                q("UPDATE project_members SET scope_field = $3, scope_values = $4 WHERE project_id = $1 AND user_id = $2")
                    .bind(project.0)
                    .bind(user.0)
                    .bind(scope.map(|s| s.field.as_str()))
                    .bind(values),
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn list_members(&self, project: ProjectId) -> Result<Vec<Member>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT u.id, u.email, u.name, pm.role, pm.created_at, pm.scope_field, pm.scope_values
                   FROM project_members pm JOIN users u ON u.id = pm.user_id
                   WHERE pm.project_id = $1 ORDER BY u.name, u.id")
                .bind(project.0),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: UserId(r.get("id")?),
                    email: r.get("email")?,
                    name: r.get("name")?,
                    role: parse_enum(&r.get::<String>("role")?, "project_members.role")?,
                    since: r.get("created_at")?,
                    scope: member_scope(r)?,
                })
            })
            .collect()
    }

    /// Sets a member's role, adding them if needed, unless that would leave the project without
    /// an owner. The check and the write happen in one transaction.
    pub async fn set_member_role(
        &self,
        project: ProjectId,
        user: UserId,
        role: Role,
        now: i64,
    ) -> Result<MemberChange, StoreError> {
        let mut tx = self.pools.begin().await?;
        if role != Role::Owner && would_orphan(&mut tx, project, user).await? {
            return Ok(MemberChange::LastOwner);
        }
        tx.conn()
            .execute(
                q(
                    "INSERT INTO project_members (project_id, user_id, role, created_at)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(project.0)
                .bind(user.0)
                .bind(role.as_str())
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(MemberChange::Done)
    }

    /// Removes a member, unless they are the last owner.
    pub async fn remove_member(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<MemberChange, StoreError> {
        let mut tx = self.pools.begin().await?;
        if would_orphan(&mut tx, project, user).await? {
            return Ok(MemberChange::LastOwner);
        }
        let n = tx
            .conn()
            .execute(
                q("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
                    .bind(project.0)
                    .bind(user.0),
            )
            .await?;
        tx.commit().await?;
        Ok(if n == 0 {
            MemberChange::NotMember
        } else {
            MemberChange::Done
        })
    }

    // ----- sessions --------------------------------------------------------------------------

    pub async fn create_session(&self, s: &Session) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(s.id_hash.as_str())
                .bind(s.user_id.0)
                .bind(s.csrf_token.as_str())
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .bind(s.ip.as_deref())
                .bind(s.user_agent.as_deref()),
            )
            .await?;
        Ok(())
    }

    /// A session that has not expired at `now`, with its user.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let row = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at AS s_created_at,
                          s.last_seen_at, s.expires_at, s.ip, s.user_agent,
                          u.id, u.email, u.name, u.password_hash, u.is_admin, u.locale, u.created_at, u.disabled_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                   WHERE s.id_hash = $1 AND s.expires_at > $2")
                .bind(id_hash)
                .bind(now),
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let session = Session {
            id_hash: r.get("id_hash")?,
            user_id: UserId(r.get("user_id")?),
            csrf_token: r.get("csrf_token")?,
            created_at: r.get("s_created_at")?,
            last_seen_at: r.get("last_seen_at")?,
            expires_at: r.get("expires_at")?,
            ip: r.get("ip")?,
            user_agent: r.get("user_agent")?,
        };
        Ok(Some((session, user_from(&r)?)))
    }

    /// Slides a session's expiry forward.
    pub async fn touch_session(
        &self,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3")
                    .bind(now)
                    .bind(expires_at)
                    .bind(id_hash),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.pools
            .execute(q("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash))
            .await?;
        Ok(())
    }

    /// Ends every session of a user but `keep` (after a password change or reset).
    pub async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.pools
            .execute(
                q("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
                    .bind(user.0)
                    .bind(keep),
            )
            .await
    }

    /// Deletes expired sessions and stale login failures; returns how many rows went.
    pub async fn purge_expired(&self, now: i64, failures_before: i64) -> Result<u64, StoreError> {
        let a = self
            .pools
            .execute(q("DELETE FROM sessions WHERE expires_at <= $1").bind(now))
            .await?;
        let b = self
            .pools
            .execute(q("DELETE FROM login_failures WHERE at < $1").bind(failures_before))
            .await?;
        Ok(a + b)
    }

    // ----- API tokens ------------------------------------------------------------------------

    pub async fn create_token(&self, t: &NewToken<'_>) -> Result<ApiToken, StoreError> {
        let row = self
            .pools
            .fetch_one(
                Mode::Write,
                q("INSERT INTO api_tokens (token_hash, prefix, user_id, project_id, role, name, created_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   RETURNING id, token_hash, prefix, user_id, project_id, role, name, created_at, expires_at, revoked_at, last_used_at")
                .bind(t.token_hash)
                .bind(t.prefix)
                .bind(t.user.0)
                .bind(t.project.0)
                .bind(t.role.as_str())
                .bind(t.name)
                .bind(t.created_at)
                .bind(t.expires_at),
            )
            .await?;
        token_from(&row)
    }

    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT id, token_hash, prefix, user_id, project_id, role, name, created_at, expires_at, revoked_at, last_used_at
                   FROM api_tokens WHERE token_hash = $1")
                .bind(hash),
            )
            .await?
            .map(|r| token_from(&r))
            .transpose()
    }

    pub async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiTokenListing>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT t.id, t.token_hash, t.prefix, t.user_id, t.project_id, t.role, t.name, t.created_at,
                          t.expires_at, t.revoked_at, t.last_used_at,
                          p.slug AS project_slug, p.name AS project_name, o.slug AS org_slug
                   FROM api_tokens t
                   JOIN projects p ON p.id = t.project_id
                   JOIN organisations o ON o.id = p.org_id
                   WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id DESC")
                .bind(user.0),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenListing {
                    token: token_from(r)?,
                    project_slug: r.get("project_slug")?,
                    project_name: r.get("project_name")?,
                    org_slug: r.get("org_slug")?,
                })
            })
            .collect()
    }

    /// Revokes a token of `user`. Returns false when the user has no such live token.
    pub async fn revoke_token(
        &self,
        id: TokenId,
        user: UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("UPDATE api_tokens SET revoked_at = $1
                   WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(id.0)
                .bind(user.0),
            )
            .await?
            == 1)
    }

    pub async fn touch_token(&self, id: TokenId, now: i64) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id.0),
            )
            .await?;
        Ok(())
    }

    // ----- login throttling ------------------------------------------------------------------

    /// Records one failed sign-in under each key.
    pub async fn record_login_failure(&self, keys: &[&str], now: i64) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        for key in keys {
            tx.conn()
                .execute(
                    q("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                        .bind(*key)
                        .bind(now),
                )
                .await?;
        }
        tx.commit().await
    }

    /// Failed sign-ins under `key` since `since`, and the time of the latest.
    pub async fn login_failures(&self, key: &str, since: i64) -> Result<(i64, i64), StoreError> {
        let row = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT COUNT(*) AS n, COALESCE(MAX(at), 0) AS latest
                   FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(since),
            )
            .await?;
        Ok((row.get("n")?, row.get("latest")?))
    }

    /// Forgets the failures under `key` (after a successful sign-in).
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        self.pools
            .execute(q("DELETE FROM login_failures WHERE key = $1").bind(key))
            .await?;
        Ok(())
    }
}

/// Opens a SQLite pool. Switching a new database file to WAL takes an exclusive lock that SQLite
/// does not wait for, so when several processes open the same new file at once, one of them sees
/// "database is locked": try again for a few seconds before giving up.
async fn connect_sqlite(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<sqlx::SqlitePool, StoreError> {
    let mut attempt: u64 = 0;
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Ok(p) => return Ok(p),
            Err(e) if attempt < 20 && e.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(25 * attempt)).await;
            }
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "cannot open SQLite database: {e}"
                )))
            }
        }
    }
}

/// Would changing `user` away from owner leave `project` without one?
async fn would_orphan(
    tx: &mut db::Tx,
    project: ProjectId,
    user: UserId,
) -> Result<bool, StoreError> {
    let row = tx
        .conn()
        .fetch_one(
            q("SELECT COUNT(*) AS owners,
                      COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS is_owner
               FROM project_members WHERE project_id = $1 AND role = 'owner'")
            .bind(project.0)
            .bind(user.0),
        )
        .await?;
    last_owner(&row)
}

/// Would changing `user` away from owner leave organisation `org` without one?
async fn would_orphan_org(tx: &mut db::Tx, org: OrgId, user: UserId) -> Result<bool, StoreError> {
    let row = tx
        .conn()
        .fetch_one(
            q("SELECT COUNT(*) AS owners,
                      COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) AS is_owner
               FROM org_members WHERE org_id = $1 AND role = 'owner'")
            .bind(org.0)
            .bind(user.0),
        )
        .await?;
    last_owner(&row)
}

fn last_owner(row: &Row) -> Result<bool, StoreError> {
    let owners: i64 = row.get("owners")?;
    let is_owner: i64 = row.get("is_owner")?;
    Ok(is_owner > 0 && owners <= 1)
}

fn parse_enum<T: FromStr>(s: &str, what: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: unknown value {s:?}")))
}

fn user_from(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(r.get("id")?),
        email: r.get("email")?,
        name: r.get("name")?,
        password_hash: r.get("password_hash")?,
        is_admin: r.get("is_admin")?,
        locale: r.get("locale")?,
        created_at: r.get("created_at")?,
        disabled_at: r.get("disabled_at")?,
    })
}

fn org_from(r: &Row) -> Result<Org, StoreError> {
    Ok(Org {
        id: OrgId(r.get("id")?),
        slug: r.get("slug")?,
        name: r.get("name")?,
        description: r.get("description")?,
        created_at: r.get("created_at")?,
    })
}

fn project_from(r: &Row) -> Result<Project, StoreError> {
    Ok(Project {
        id: ProjectId(r.get("id")?),
        org_id: OrgId(r.get("org_id")?),
        slug: r.get("slug")?,
        name: r.get("name")?,
        description: r.get("description")?,
        visibility: parse_enum(&r.get::<String>("visibility")?, "projects.visibility")?,
        created_at: r.get("created_at")?,
    })
}

fn token_from(r: &Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: TokenId(r.get("id")?),
        token_hash: r.get("token_hash")?,
        prefix: r.get("prefix")?,
        user_id: UserId(r.get("user_id")?),
        project_id: ProjectId(r.get("project_id")?),
        role: parse_enum(&r.get::<String>("role")?, "api_tokens.role")?,
        name: r.get("name")?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
        revoked_at: r.get("revoked_at")?,
        last_used_at: r.get("last_used_at")?,
    })
}

pub mod testing;

/// The row-level scope stored with a membership (`scope_field`, `scope_values`).
fn member_scope(r: &Row) -> Result<Option<MemberScope>, StoreError> {
    let field: Option<String> = r.get("scope_field")?;
    let values: Option<String> = r.get("scope_values")?;
    match (field, values) {
        (Some(field), Some(values)) => Ok(Some(MemberScope {
            field,
            values: values.split('\n').map(str::to_owned).collect(),
        })),
        _ => Ok(None),
    }
}
