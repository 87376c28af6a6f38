//! Fresh databases for tests, on SQLite always and on PostgreSQL when `BARAZA_TEST_DATABASE_URL`
//! is set.
//!
//! Each PostgreSQL test database is a new schema inside the database that the variable names,
//! selected through the connection's `search_path`, so tests run in parallel without seeing each
//! other and without the cost of `CREATE DATABASE`. Under `CI=true` a missing variable is an error,
//! so that CI cannot silently skip the PostgreSQL half of the suite.

use crate::Backend;
use rand::RngCore;
use std::path::PathBuf;

/// Where a test's database lives. Dropping it removes a SQLite file; PostgreSQL schemas are dropped
/// with [`TestDb::cleanup`] (the CI database itself is fresh per run).
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    dir: Option<PathBuf>,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// Drops a PostgreSQL test schema; a no-op on SQLite.
    pub async fn cleanup(mut self) {
        if let Some((admin_url, schema)) = self.schema.take() {
            use sqlx::Connection;
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The PostgreSQL URL of the test server, if any. Panics under `CI=true` when it is missing.
pub fn postgres_url() -> Option<String> {
    match std::env::var("BARAZA_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but BARAZA_TEST_DATABASE_URL is not set: the PostgreSQL half of the tests would be skipped");
            }
            None
        }
    }
}

/// The backends to test on: SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if postgres_url().is_some() {
        v.push(Backend::Postgres);
    }
    v
}

/// A fresh, empty database on `backend`.
pub async fn fresh(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("baraza-test-{}", random_suffix()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}", dir.join("baraza.db").display());
            TestDb {
                backend,
                url,
                dir: Some(dir),
                schema: None,
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin_url = postgres_url().expect("BARAZA_TEST_DATABASE_URL");
            let schema = format!("t_{}", random_suffix());
            let mut c = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to BARAZA_TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut c)
                .await
                .expect("create test schema");
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{sep}options[search_path]={schema}");
            TestDb {
                backend,
                url,
                dir: None,
                schema: Some((admin_url, schema)),
            }
        }
    }
}
