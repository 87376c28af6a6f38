//! What `baraza backup` and `baraza restore` need from the database: a consistent snapshot out,
//! an all-or-nothing load in.
//!
//! * **The list of tables comes from the catalogue**, never from a list written here, so a table
//!   added by a future migration is backed up without anyone remembering to. Tables are ordered
//!   so that a table comes after every table its foreign keys point to (loading in that order
//!   never breaks a reference). `_sqlx_migrations` is not data: only its latest version is kept,
//!   to check that the target has the same schema.
//! * **SQLite**: `VACUUM INTO` writes a compact copy of the database as one read transaction
//!   sees it, while the server keeps writing beside it (WAL). Restoring a SQLite database is
//!   replacing its file, which the binary does; [`inspect_sqlite_file`] checks a file before it
//!   takes the database's place.
//! * **PostgreSQL**: every table is exported with `COPY … TO STDOUT (FORMAT binary)` inside one
//!   `REPEATABLE READ READ ONLY` transaction, so all tables (and their row counts) are from the
//!   same instant, and loaded with `COPY … FROM STDIN` inside one transaction ([`PgImport`]),
//!   committed only when the caller has checked everything: a failure leaves the target as it was.
//!
//! Nothing here holds a table in memory: rows pass through in the driver's chunks.

use crate::db::Pools;
use crate::{Backend, Store, StoreError};
use futures::StreamExt;
use sqlx::{Connection, Postgres, Row as _};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One table and how many rows it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

/// What a snapshot holds: its tables in dependency order, and the schema's version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub tables: Vec<TableCount>,
    /// The latest applied migration, if any.
    pub migration_version: Option<i64>,
}

/// Receives a PostgreSQL export, table by table, chunk by chunk.
pub trait ExportSink {
    fn begin_table(&mut self, table: &str) -> std::io::Result<()>;
    fn chunk(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    fn end_table(&mut self) -> std::io::Result<()>;
}

/// A table name as an SQL identifier. Names come from the catalogue, but are quoted anyway.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Orders tables so that each comes after the tables it references (alphabetically among
/// equals). A reference cycle, which the schema does not have, would leave its tables last.
fn dependency_order(tables: Vec<String>, edges: Vec<(String, String)>) -> Vec<String> {
    let known: BTreeSet<String> = tables.iter().cloned().collect();
    let mut needs: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .map(|t| (t.clone(), BTreeSet::new()))
        .collect();
    for (child, parent) in edges {
        if child != parent && known.contains(&child) && known.contains(&parent) {
            needs.entry(child).or_default().insert(parent);
        }
    }
    let mut order = Vec::with_capacity(tables.len());
    let mut placed = BTreeSet::new();
    loop {
        let ready: Vec<String> = needs
            .iter()
            .filter(|(t, deps)| !placed.contains(*t) && deps.iter().all(|d| placed.contains(d)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        for t in ready {
            placed.insert(t.clone());
            order.push(t);
        }
    }
    order.extend(needs.into_keys().filter(|t| !placed.contains(t)));
    order
}

const SQLITE_TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' \
     AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name";
const SQLITE_REFERENCES: &str = "SELECT m.name AS child, f.\"table\" AS parent \
     FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'";
const PG_TABLES: &str = "SELECT c.relname::text AS name FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname <> '_sqlx_migrations' \
     ORDER BY 1";
const PG_REFERENCES: &str = "SELECT ch.relname::text AS child, pa.relname::text AS parent \
     FROM pg_constraint k JOIN pg_class ch ON ch.oid = k.conrelid \
     JOIN pg_class pa ON pa.oid = k.confrelid JOIN pg_namespace n ON n.oid = ch.relnamespace \
     WHERE k.contype = 'f' AND n.nspname = current_schema()";
const LATEST_MIGRATION: &str =
    "SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success = TRUE";

async fn sqlite_tables(c: &mut sqlx::SqliteConnection) -> Result<Vec<String>, StoreError> {
    let tables = sqlx::query(SQLITE_TABLES)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect::<Result<Vec<_>, _>>()?;
    let edges = sqlx::query(SQLITE_REFERENCES)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("child")?, r.try_get("parent")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(dependency_order(tables, edges))
}

async fn pg_tables(c: &mut sqlx::PgConnection) -> Result<Vec<String>, StoreError> {
    let tables = sqlx::query(PG_TABLES)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect::<Result<Vec<_>, _>>()?;
    let edges = sqlx::query(PG_REFERENCES)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("child")?, r.try_get("parent")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(dependency_order(tables, edges))
}

async fn sqlite_counts(
    c: &mut sqlx::SqliteConnection,
    tables: &[String],
) -> Result<Vec<TableCount>, StoreError> {
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", ident(t)))
            .fetch_one(&mut *c)
            .await?;
        out.push(TableCount {
            name: t.clone(),
            rows,
        });
    }
    Ok(out)
}

async fn pg_counts(
    c: &mut sqlx::PgConnection,
    tables: &[String],
) -> Result<Vec<TableCount>, StoreError> {
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", ident(t)))
            .fetch_one(&mut *c)
            .await?;
        out.push(TableCount {
            name: t.clone(),
            rows,
        });
    }
    Ok(out)
}

/// The tables that the migrations themselves fill (the audit log's head, one row): a database
/// holding only these rows holds no data.
const SEEDED_BY_MIGRATIONS: &[&str] = &["audit_head"];

impl Store {
    /// The application's tables, each after the tables it references.
    pub async fn data_tables(&self) -> Result<Vec<String>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => sqlite_tables(&mut *reader.acquire().await?).await,
            Pools::Postgres(pool) => pg_tables(&mut *pool.acquire().await?).await,
        }
    }

    /// Rows per application table, in dependency order.
    pub async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => {
                let mut c = reader.acquire().await?;
                let tables = sqlite_tables(&mut c).await?;
                sqlite_counts(&mut c, &tables).await
            }
            Pools::Postgres(pool) => {
                let mut c = pool.acquire().await?;
                let tables = pg_tables(&mut c).await?;
                pg_counts(&mut c, &tables).await
            }
        }
    }

    /// Whether any table holds a row that the migrations did not put there.
    pub async fn has_data(&self) -> Result<bool, StoreError> {
        Ok(self
            .table_counts()
            .await?
            .iter()
            .any(|t| t.rows > 0 && !SEEDED_BY_MIGRATIONS.contains(&t.name.as_str())))
    }

    /// The latest migration applied to this database, if any.
    pub async fn latest_migration(&self) -> Result<Option<i64>, StoreError> {
        let v = match &self.pools {
            Pools::Sqlite { reader, .. } => {
                sqlx::query_scalar::<_, Option<i64>>(LATEST_MIGRATION)
                    .fetch_one(reader)
                    .await
            }
            Pools::Postgres(pool) => {
                sqlx::query_scalar::<_, Option<i64>>(LATEST_MIGRATION)
                    .fetch_one(pool)
                    .await
            }
        };
        match v {
            Ok(v) => Ok(v),
            // No migrations table yet: nothing applied.
            Err(sqlx::Error::Database(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a consistent copy of a SQLite database to `dest` (which must not exist) with
    /// `VACUUM INTO`, while writers carry on, and describes it.
    pub async fn sqlite_snapshot(&self, dest: &Path) -> Result<Snapshot, StoreError> {
        let Pools::Sqlite { reader, .. } = &self.pools else {
            return Err(StoreError::Config(
                "a SQLite snapshot of a PostgreSQL database".into(),
            ));
        };
        let path = dest
            .to_str()
            .ok_or_else(|| StoreError::Config(format!("{} is not UTF-8", dest.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(reader)
            .await?;
        inspect_sqlite_file(dest).await
    }

    /// Exports every application table of a PostgreSQL database into `sink`, all from one
    /// snapshot (`REPEATABLE READ READ ONLY`), with the row counts of that same snapshot.
    pub async fn pg_export(&self, sink: &mut dyn ExportSink) -> Result<Snapshot, StoreError> {
        let Pools::Postgres(pool) = &self.pools else {
            return Err(StoreError::Config(
                "a PostgreSQL export of a SQLite database".into(),
            ));
        };
        let mut conn = pool.acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let migration_version: Option<i64> = sqlx::query_scalar(LATEST_MIGRATION)
            .fetch_one(&mut *tx)
            .await?;
        let tables = pg_tables(&mut tx).await?;
        let counts = pg_counts(&mut tx, &tables).await?;
        for t in &tables {
            sink.begin_table(t).map_err(io)?;
            let mut copy = tx
                .copy_out_raw(&format!("COPY {} TO STDOUT (FORMAT binary)", ident(t)))
                .await?;
            while let Some(chunk) = copy.next().await {
                sink.chunk(&chunk?).map_err(io)?;
            }
            drop(copy);
            sink.end_table().map_err(io)?;
        }
        tx.rollback().await?;
        Ok(Snapshot {
            tables: counts,
            migration_version,
        })
    }

    /// Starts loading tables into this PostgreSQL database, in one transaction. Every table is
    /// emptied first (with `force` the caller accepted losing what is there; otherwise only
    /// the migrations' own rows are).
    pub async fn pg_import(&self) -> Result<PgImport, StoreError> {
        let Pools::Postgres(pool) = &self.pools else {
            return Err(StoreError::Config(
                "a PostgreSQL import into a SQLite database".into(),
            ));
        };
        let mut tx = pool.begin().await?;
        let tables = pg_tables(&mut tx).await?;
        for t in tables.iter().rev() {
            let any: bool =
                sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {})", ident(t)))
                    .fetch_one(&mut *tx)
                    .await?;
            if any {
                // The audit log refuses deletions by trigger: that rule protects a live log,
                // not one being replaced whole. The triggers are back before the load, and the
                // whole change rolls back if anything fails.
                for stmt in [
                    format!("ALTER TABLE {} DISABLE TRIGGER USER", ident(t)),
                    format!("DELETE FROM {}", ident(t)),
                    format!("ALTER TABLE {} ENABLE TRIGGER USER", ident(t)),
                ] {
                    sqlx::query(&stmt).execute(&mut *tx).await?;
                }
            }
        }
        Ok(PgImport { tx, tables })
    }

    /// For SQLite, the database file this store opened.
    pub fn sqlite_file(url: &str) -> Option<PathBuf> {
        let rest = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        (!path.is_empty()).then(|| PathBuf::from(path))
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("writing the export: {e}"))
}

/// Checks a SQLite database file (`PRAGMA quick_check`) and describes it, opening it read-only.
pub async fn inspect_sqlite_file(path: &Path) -> Result<Snapshot, StoreError> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut c)
        .await?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "the SQLite file {} fails its check: {check}",
            path.display()
        )));
    }
    let migration_version = sqlx::query_scalar::<_, Option<i64>>(LATEST_MIGRATION)
        .fetch_one(&mut c)
        .await
        .unwrap_or(None);
    let tables = sqlite_tables(&mut c).await?;
    let counts = sqlite_counts(&mut c, &tables).await?;
    c.close().await?;
    Ok(Snapshot {
        tables: counts,
        migration_version,
    })
}

/// A load into PostgreSQL in progress: one transaction, rolled back if dropped before
/// [`PgImport::commit`].
pub struct PgImport {
    tx: sqlx::Transaction<'static, Postgres>,
    tables: Vec<String>,
}

impl PgImport {
    /// Loads one table from COPY binary data read from `data`; returns the rows loaded.
    pub async fn table(&mut self, name: &str, data: &mut dyn Read) -> Result<u64, StoreError> {
        if !self.tables.iter().any(|t| t == name) {
            return Err(StoreError::Corrupt(format!(
                "the archive holds a table {name:?} that this database does not have"
            )));
        }
        let mut copy = self
            .tx
            .copy_in_raw(&format!("COPY {} FROM STDIN (FORMAT binary)", ident(name)))
            .await?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    copy.send(&buf[..n]).await?;
                }
                Err(e) => {
                    let _ = copy.abort(e.to_string()).await;
                    return Err(StoreError::Corrupt(format!("table {name}: {e}")));
                }
            }
        }
        Ok(copy.finish().await?)
    }

    /// Rows per table as the transaction sees them now.
    pub async fn counts(&mut self) -> Result<Vec<TableCount>, StoreError> {
        pg_counts(&mut self.tx, &self.tables).await
    }

    /// Moves every identity sequence past the largest id loaded, then commits.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let sequences = sqlx::query(
            "SELECT c.table_name::text AS t, c.column_name::text AS col, \
                    pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) AS seq \
             FROM information_schema.columns c \
             WHERE c.table_schema = current_schema() \
               AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        for r in sequences {
            let (t, col, seq): (String, String, String) =
                (r.try_get("t")?, r.try_get("col")?, r.try_get("seq")?);
            sqlx::query(&format!(
                "SELECT setval($1, COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                ident(&col),
                ident(&t)
            ))
            .bind(seq)
            .execute(&mut *self.tx)
            .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

impl Backend {
    /// Parses [`Backend::as_str`].
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_after_what_they_reference() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let e = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let order = dependency_order(
            s(&["a_members", "projects", "users", "orgs", "tree"]),
            vec![
                e("a_members", "projects"),
                e("a_members", "users"),
                e("projects", "orgs"),
                e("tree", "tree"),
            ],
        );
        assert_eq!(
            order,
            s(&["orgs", "tree", "users", "projects", "a_members"])
        );
    }

    #[test]
    fn sqlite_file_from_url() {
        assert_eq!(
            Store::sqlite_file("sqlite:///srv/b/baraza.db?mode=rwc"),
            Some(PathBuf::from("/srv/b/baraza.db"))
        );
        assert_eq!(
            Store::sqlite_file("sqlite://./d/baraza.db"),
            Some(PathBuf::from("./d/baraza.db"))
        );
        assert_eq!(Store::sqlite_file("postgres://x@y/z"), None);
    }
}
