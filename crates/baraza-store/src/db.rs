//! The thin layer that lets every query be written once for both backends.
//!
//! SQL is written with `$1, $2…` placeholders, which PostgreSQL and SQLite (through sqlx) both
//! understand, and in the common subset of both dialects (`RETURNING`, `ON CONFLICT`, `BIGINT`,
//! `BOOLEAN`, `TEXT`). Arguments are a small closed set of value types; rows are read by column name
//! into any type both drivers can decode. Where the dialects truly differ (the DDL of identity
//! columns), the per-backend migrations hold the difference, not the queries.

use crate::StoreError;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Decode, Postgres, Row as _, Sqlite, Type};

/// One bound argument.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    F64(f64),
    OptF64(Option<f64>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptI64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Arg::OptF64(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::F64(v)
    }
}

/// A query and its arguments.
#[derive(Debug)]
pub(crate) struct Sql {
    sql: std::borrow::Cow<'static, str>,
    args: Vec<Arg>,
}

pub(crate) fn q(sql: &'static str) -> Sql {
    Sql {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A query whose text is assembled at run time from fragments of our own (never from input:
/// values are always bound arguments).
pub(crate) fn q_built(sql: String) -> Sql {
    Sql {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Sql {
    /// The query's text.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.sql
    }

    pub(crate) fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    fn sqlite(&self) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for a in &self.args {
            query = match a {
                Arg::I64(v) => query.bind(*v),
                Arg::OptI64(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_str()),
                Arg::OptText(v) => query.bind(v.as_deref()),
                Arg::Bool(v) => query.bind(*v),
                Arg::F64(v) => query.bind(*v),
                Arg::OptF64(v) => query.bind(*v),
            };
        }
        query
    }

    fn pg(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        let mut query = sqlx::query(&self.sql);
        for a in &self.args {
            query = match a {
                Arg::I64(v) => query.bind(*v),
                Arg::OptI64(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_str()),
                Arg::OptText(v) => query.bind(v.as_deref()),
                Arg::Bool(v) => query.bind(*v),
                Arg::F64(v) => query.bind(*v),
                Arg::OptF64(v) => query.bind(*v),
            };
        }
        query
    }
}

/// A value both drivers can decode from a column.
pub(crate) trait Col:
    Sized + for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}
impl<T> Col for T where
    T: Sized
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
{
}

/// A result row from either backend.
pub(crate) enum Row {
    S(SqliteRow),
    P(PgRow),
}

impl Row {
    pub(crate) fn get<T: Col>(&self, col: &str) -> Result<T, StoreError> {
        let r = match self {
            Row::S(r) => r.try_get::<T, _>(col),
            Row::P(r) => r.try_get::<T, _>(col),
        };
        r.map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
    }
}

/// A connection borrowed from either backend, plain or inside a transaction.
pub(crate) enum Conn<'c> {
    S(&'c mut SqliteConnection),
    P(&'c mut PgConnection),
}

impl Conn<'_> {
    pub(crate) async fn execute(&mut self, q: Sql) -> Result<u64, StoreError> {
        Ok(match self {
            Conn::S(c) => q.sqlite().execute(&mut **c).await?.rows_affected(),
            Conn::P(c) => q.pg().execute(&mut **c).await?.rows_affected(),
        })
    }

    pub(crate) async fn fetch_all(&mut self, q: Sql) -> Result<Vec<Row>, StoreError> {
        Ok(match self {
            Conn::S(c) => q
                .sqlite()
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::S)
                .collect(),
            Conn::P(c) => q
                .pg()
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::P)
                .collect(),
        })
    }

    pub(crate) async fn fetch_optional(&mut self, q: Sql) -> Result<Option<Row>, StoreError> {
        Ok(match self {
            Conn::S(c) => q.sqlite().fetch_optional(&mut **c).await?.map(Row::S),
            Conn::P(c) => q.pg().fetch_optional(&mut **c).await?.map(Row::P),
        })
    }

    pub(crate) async fn fetch_one(&mut self, q: Sql) -> Result<Row, StoreError> {
        self.fetch_optional(q)
            .await?
            .ok_or_else(|| StoreError::Corrupt("query returned no row".into()))
    }
}

/// The pools of one store.
///
/// SQLite has one writer connection (SQLite serialises writers anyway; one connection makes that
/// explicit and avoids `SQLITE_BUSY` between our own connections) and a pool of read-only readers,
/// which WAL mode lets run beside the writer. PostgreSQL has one pool for both.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Whether a statement only reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Read,
    Write,
}

macro_rules! with_conn {
    ($pools:expr, $mode:expr, |$c:ident| $body:expr) => {
        match $pools {
            Pools::Sqlite { writer, reader } => {
                let pool = if $mode == Mode::Read { reader } else { writer };
                let mut guard = pool.acquire().await?;
                let mut $c = Conn::S(&mut guard);
                $body
            }
            Pools::Postgres(pool) => {
                let mut guard = pool.acquire().await?;
                let mut $c = Conn::P(&mut guard);
                $body
            }
        }
    };
}

impl Pools {
    pub(crate) async fn execute(&self, q: Sql) -> Result<u64, StoreError> {
        with_conn!(self, Mode::Write, |c| c.execute(q).await)
    }

    pub(crate) async fn fetch_all(&self, mode: Mode, q: Sql) -> Result<Vec<Row>, StoreError> {
        with_conn!(self, mode, |c| c.fetch_all(q).await)
    }

    pub(crate) async fn fetch_optional(
        &self,
        mode: Mode,
        q: Sql,
    ) -> Result<Option<Row>, StoreError> {
        with_conn!(self, mode, |c| c.fetch_optional(q).await)
    }

    pub(crate) async fn fetch_one(&self, mode: Mode, q: Sql) -> Result<Row, StoreError> {
        with_conn!(self, mode, |c| c.fetch_one(q).await)
    }

    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Pools::Sqlite { writer, .. } => Tx::S(writer.begin().await?),
            Pools::Postgres(pool) => Tx::P(pool.begin().await?),
        })
    }
}

/// A write transaction: committed explicitly, rolled back when dropped.
pub(crate) enum Tx {
    S(sqlx::Transaction<'static, Sqlite>),
    P(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::S(t) => Conn::S(t),
            Tx::P(t) => Conn::P(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::S(t) => t.commit().await?,
            Tx::P(t) => t.commit().await?,
        }
        Ok(())
    }
}
