//! Tabular resources held in memory for the table page, within a memory budget.
//!
//! A resource's table ([`baraza_catalogue::table::Table`]) is read once and kept in a cache
//! keyed by the resource's id and the hash of its content (an uploaded file's SHA-256, a
//! release's id, an indicator series' SHA-256 of its SDMX-CSV), so a changed file is a new
//! entry and the old one ages out. The cache holds at most `table_cache_bytes` (counted with
//! the sort ranks a table may still build); the least recently used tables leave first.
//! Concurrent first requests for one table wait for a single load. A file larger than
//! `table_max_file_bytes`, or a table that alone would not fit the budget, is refused with a
//! message that says so.

use crate::{Core, CoreError};
use baraza_catalogue::table::{Declared, Table, TableError};
use baraza_catalogue::{Dataset, Resource, ResourceKind};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// A loaded table and what it cost.
#[derive(Debug)]
pub struct LoadedTable {
    pub table: Table,
    /// How long reading and encoding the file took.
    pub load_time: Duration,
    /// The file's size in bytes.
    pub file_bytes: usize,
}

struct Entry {
    cell: Arc<OnceCell<Arc<LoadedTable>>>,
    /// Bytes reserved (0 while loading).
    bytes: usize,
    /// Last use, in the cache's tick.
    used: u64,
}

/// The cache of loaded tables; see the module's documentation.
pub struct TableCache {
    budget: usize,
    max_file: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    tick: u64,
    /// Loads done since start (a test checks that concurrent requests load once).
    loads: u64,
}

/// What the cache holds, for the status of the table page and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableCacheStats {
    pub tables: usize,
    pub bytes: usize,
    pub budget: usize,
    pub loads: u64,
}

impl TableCache {
    pub fn new(budget_bytes: usize, max_file_bytes: usize) -> TableCache {
        TableCache {
            budget: budget_bytes,
            max_file: max_file_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map consistent (every change is one
        // statement), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> TableCacheStats {
        let inner = self.lock();
        TableCacheStats {
            tables: inner
                .entries
                .values()
                .filter(|e| e.cell.initialized())
                .count(),
            bytes: inner.entries.values().map(|e| e.bytes).sum(),
            budget: self.budget,
            loads: inner.loads,
        }
    }

    /// The table under `key`, loaded by `load` if it is not held (once, however many ask).
    async fn get_or_load<F, Fut>(&self, key: &str, load: F) -> Result<Arc<LoadedTable>, CoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<LoadedTable, CoreError>>,
    {
        let cell = {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            let e = inner
                .entries
                .entry(key.to_string())
                .or_insert_with(|| Entry {
                    cell: Arc::new(OnceCell::new()),
                    bytes: 0,
                    used: tick,
                });
            e.used = tick;
            e.cell.clone()
        };
        let mut loaded_here = false;
        let flag = &mut loaded_here;
        let result = cell
            .get_or_try_init(|| async move {
                *flag = true;
                load().await.map(Arc::new)
            })
            .await
            .cloned();
        let t = match result {
            Ok(t) => t,
            Err(e) => {
                // Forget the failed entry (if no one else filled it meanwhile).
                let mut inner = self.lock();
                if inner
                    .entries
                    .get(key)
                    .is_some_and(|e| !e.cell.initialized())
                {
                    inner.entries.remove(key);
                }
                return Err(e);
            }
        };
        if loaded_here {
            let bytes = t.table.bytes_when_ranked();
            let mut inner = self.lock();
            inner.loads += 1;
            if bytes > self.budget {
                inner.entries.remove(key);
                return Err(CoreError::TableTooLarge {
                    what: format!(
                        "the table needs {} MB of memory, more than the {} MB the server keeps for tables (table_cache_mb)",
                        bytes.div_ceil(1 << 20),
                        self.budget >> 20
                    ),
                });
            }
            if let Some(e) = inner.entries.get_mut(key) {
                e.bytes = bytes;
            }
            // Evict the least recently used loaded tables until the budget holds.
            loop {
                let total: usize = inner.entries.values().map(|e| e.bytes).sum();
                if total <= self.budget {
                    break;
                }
                let victim = inner
                    .entries
                    .iter()
                    .filter(|(k, e)| k.as_str() != key && e.cell.initialized())
                    .min_by_key(|(_, e)| e.used)
                    .map(|(k, _)| k.clone());
                match victim {
                    Some(k) => {
                        inner.entries.remove(&k);
                    }
                    None => break,
                }
            }
        }
        Ok(t)
    }
}

fn table_error(e: TableError) -> CoreError {
    CoreError::TableUnreadable {
        problem: e.to_string(),
    }
}

impl Core {
    /// The loaded table of a tabular resource of `d` (the caller has checked that the reader
    /// sees `d`).
    pub async fn resource_table(
        &self,
        d: &Dataset,
        r: &Resource,
    ) -> Result<Arc<LoadedTable>, CoreError> {
        if !r.is_tabular() {
            return Err(CoreError::NotFound { what: "table" });
        }
        let max_file = self.tables.max_file;
        let too_large = |bytes: u64| {
            CoreError::TableTooLarge {
            what: format!(
                "the file has {} MB, more than the {} MB a table page reads (table_max_file_mb); download it instead",
                bytes.div_ceil(1 << 20),
                max_file >> 20
            ),
        }
        };
        // The key names the content: a changed file is another table.
        let (key, bytes) = match &r.kind {
            ResourceKind::File { sha256 } => {
                let path = self
                    .blobs
                    .path(sha256)
                    .ok_or(CoreError::NotFound { what: "resource" })?;
                let len = tokio::fs::metadata(&path)
                    .await
                    .map_err(|_| CoreError::NotFound { what: "resource" })?
                    .len();
                if len > max_file as u64 {
                    return Err(too_large(len));
                }
                (format!("{}:{sha256}", r.id), None)
            }
            ResourceKind::Release { release_id } => {
                (format!("{}:release:{release_id}", r.id), None)
            }
            ResourceKind::IndicatorSeries { .. } => {
                // A series changes when the indicator is recomputed: its content is the key.
                let bytes = self.resource_bytes(d, r).await?;
                (
                    format!("{}:{}", r.id, hex::encode(Sha256::digest(&bytes))),
                    Some(bytes),
                )
            }
            // An XML file, or a file that stays on another server: not a table read here.
            ResourceKind::IatiActivity | ResourceKind::Link { .. } => {
                return Err(CoreError::NotFound { what: "table" })
            }
        };
        let fields: Vec<(String, String)> = r
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.r#type.clone()))
            .collect();
        self.tables
            .get_or_load(&key, || async move {
                let bytes = match bytes {
                    Some(b) => b,
                    None => self.resource_bytes(d, r).await?,
                };
                if bytes.len() > max_file {
                    return Err(too_large(bytes.len() as u64));
                }
                let file_bytes = bytes.len();
                tokio::task::spawn_blocking(move || {
                    let started = std::time::Instant::now();
                    let declared: Vec<Declared> = fields
                        .iter()
                        .map(|(n, t)| Declared { name: n, r#type: t })
                        .collect();
                    let table = Table::load(&bytes, &declared).map_err(table_error)?;
                    Ok(LoadedTable {
                        table,
                        load_time: started.elapsed(),
                        file_bytes,
                    })
                })
                .await
                .map_err(|e| CoreError::Internal(format!("table load: {e}")))?
            })
            .await
    }

    /// What the table cache holds.
    pub fn table_cache_stats(&self) -> TableCacheStats {
        self.tables.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn loaded(rows: usize) -> LoadedTable {
        let mut csv = String::from("a,b\n");
        for i in 0..rows {
            csv.push_str(&format!("v{i},{i}\n"));
        }
        LoadedTable {
            table: Table::load(csv.as_bytes(), &[]).unwrap(),
            load_time: Duration::ZERO,
            file_bytes: csv.len(),
        }
    }

    #[tokio::test]
    async fn concurrent_first_requests_load_once() {
        let cache = Arc::new(TableCache::new(64 << 20, 64 << 20));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load("r:1", || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        Ok(loaded(100))
                    })
                    .await
                    .map(|t| t.table.rows())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 100);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats().loads, 1);
        assert_eq!(cache.stats().tables, 1);
    }

    #[tokio::test]
    async fn least_recently_used_tables_leave_to_keep_the_budget() {
        let one = loaded(1000).table.bytes_when_ranked();
        // Room for two tables, not three.
        let cache = TableCache::new(one * 2 + one / 2, 64 << 20);
        for key in ["a", "b"] {
            cache
                .get_or_load(key, || async { Ok(loaded(1000)) })
                .await
                .unwrap();
        }
        // "a" used again: "b" is now the oldest.
        cache
            .get_or_load("a", || async { unreachable!() })
            .await
            .unwrap();
        cache
            .get_or_load("c", || async { Ok(loaded(1000)) })
            .await
            .unwrap();
        let s = cache.stats();
        assert_eq!(s.tables, 2);
        assert!(s.bytes <= s.budget);
        let inner = cache.lock();
        assert!(inner.entries.contains_key("a") && inner.entries.contains_key("c"));
        assert!(!inner.entries.contains_key("b"));
    }

    #[tokio::test]
    async fn a_table_larger_than_the_budget_is_refused_and_a_failed_load_is_retried() {
        let cache = TableCache::new(1024, 64 << 20);
        let e = cache
            .get_or_load("big", || async { Ok(loaded(1000)) })
            .await
            .unwrap_err();
        assert!(matches!(e, CoreError::TableTooLarge { .. }), "{e}");
        assert_eq!(cache.stats().tables, 0);
        let e = cache
            .get_or_load("bad", || async {
                Err(CoreError::TableUnreadable {
                    problem: "x".into(),
                })
            })
            .await
            .unwrap_err();
        assert!(matches!(e, CoreError::TableUnreadable { .. }));
        assert!(cache.lock().entries.is_empty());
    }
}
