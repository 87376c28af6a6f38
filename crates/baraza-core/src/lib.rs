//! Baraza's use cases, and the one place where access is decided.
//!
//! The web edge (and the CLI) call [`Core`]; `Core` checks who is asking through
//! [`access`], applies the rule, and calls the store. Nothing here knows HTTP: a web handler
//! extracts, calls one method, renders.
//!
//! # Invariants
//!
//! * **Access is decided here and only here.** Every path to a project's data goes through
//!   [`Core::project_access`] and [`access::ProjectAccess::require`], which consult the permission
//!   table in `baraza_types::Role::grants`.
//! * **No secret is stored in clear.** Passwords are Argon2id hashes; session cookies and API
//!   tokens are random secrets of which only a SHA-256 digest is stored. The one exception is
//!   chosen per account: Digest sign-in for older ODK Collect keeps password equivalents
//!   (see [`digest`]).
//! * **No state lives in process memory** that another instance would need: sessions, throttling
//!   counters and tokens are all in the store, so instances behind a load balancer agree. (Parsed
//!   form models are cached by version id, but a stored version never changes.)
//! * **Time is injected** through [`Clock`], so tests control expiry and throttling windows.

pub mod access;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod census;
pub mod central;
pub mod consent;
pub mod digest;
pub mod discussions;
pub mod dpia;
pub mod encrypted;
mod error;
pub mod files;
pub mod fill;
pub mod forms;
pub mod harvest;
pub mod iati;
pub mod import;
pub mod indicators;
pub mod keyring;
pub mod listing;
pub mod mask;
pub mod orgs;
pub mod records;
pub mod registers;
pub mod releases;
pub mod reports;
pub mod retention;
pub mod reuses;
pub mod scope;
mod secret;
pub mod subjects;
pub mod tables;
pub use secret::constant_time_eq;

pub use access::{Principal, ProjectAccess, Via};
pub use error::CoreError;

use baraza_store::{BlobStore, Store};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The source of "now", in Unix seconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        ManualClock(AtomicI64::new(start))
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Policy knobs of the core, set from configuration by the binary.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// How long a session lives without use, in seconds.
    pub session_idle_secs: i64,
    /// Failed sign-ins per account within the window before the account is throttled.
    pub max_failures_per_account: i64,
    /// Failed sign-ins per client address within the window before the address is throttled.
    pub max_failures_per_address: i64,
    /// The throttling window, in seconds.
    pub failure_window_secs: i64,
    /// Submissions per hour and per client address through public links (new drafts: four
    /// times as many).
    pub public_submissions_per_hour: i64,
    /// The country calling code that completes phone numbers written without one (235 for
    /// Chad), so that `66 12 34 56` and `+235 66 12 34 56` find the same person.
    pub default_calling_code: Option<u16>,
    /// Memory kept for tables read by the table page (see [`tables`]), in bytes.
    pub table_cache_bytes: usize,
    /// The largest file the table page reads, in bytes.
    pub table_max_file_bytes: usize,
    /// Whether harvests may reach private, loopback and link-local addresses (a harvest
    /// source on the same network; the tests).
    pub harvest_allow_private_addresses: bool,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            session_idle_secs: 14 * 24 * 3600,
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            failure_window_secs: 15 * 60,
            public_submissions_per_hour: 60,
            default_calling_code: None,
            table_cache_bytes: 256 << 20,
            table_max_file_bytes: 200 << 20,
            harvest_allow_private_addresses: false,
        }
    }
}

/// The entry point of every use case. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub(crate) store: Store,
    pub(crate) blobs: BlobStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<CoreSettings>,
    pub(crate) dummy_hash: Arc<String>,
    /// Parsed form models by version id (versions never change once stored).
    pub(crate) models: Arc<forms::ModelCache>,
    /// The key that signs the audit log (read from a file by the binary).
    pub(crate) audit_key: Arc<baraza_protect::chain::AuditKey>,
    /// The master keys and the unwrapped data keys (encryption at rest).
    pub(crate) keyring: Arc<keyring::Keyring>,
    /// The SDG framework, parsed on first use.
    pub(crate) framework: Arc<std::sync::OnceLock<Arc<baraza_indicators::framework::Framework>>>,
    /// Projects whose indicators are being brought up to date in the background, and whether
    /// another submission arrived meanwhile (see [`Core::schedule_catch_up`]).
    pub(crate) catch_ups: Arc<std::sync::Mutex<std::collections::HashMap<i64, bool>>>,
    /// The catalogue's search index at the store's catalogue version it was built from.
    pub(crate) catalogue_cache: Arc<std::sync::RwLock<Option<Arc<catalogue::Catalogue>>>>,
    /// Held while the index is rebuilt, so that one request rebuilds and the others wait.
    pub(crate) catalogue_rebuild: Arc<tokio::sync::Mutex<()>>,
    /// Tabular resources read for the table page, within a memory budget.
    pub(crate) tables: Arc<tables::TableCache>,
    /// The map's in-memory index of each project's reports.
    pub(crate) report_indexes: Arc<reports::ReportIndexes>,
    /// The gazetteer reports are placed with, read again after a minute.
    pub(crate) reports_places: Arc<reports::PlacesCache>,
    pub(crate) reports_cache: Arc<reports::ReportCache>,
}

impl Core {
    pub fn new(
        store: Store,
        blobs: BlobStore,
        clock: Arc<dyn Clock>,
        settings: CoreSettings,
        audit_key: Arc<baraza_protect::chain::AuditKey>,
        keyring: Arc<keyring::Keyring>,
    ) -> Core {
        // Invariant: hashing a fresh random secret with default Argon2 parameters cannot fail.
        let dummy_hash = auth::hash_password(&secret::random_secret()).unwrap_or_default();
        let tables = Arc::new(tables::TableCache::new(
            settings.table_cache_bytes,
            settings.table_max_file_bytes,
        ));
        Core {
            store,
            blobs,
            clock,
            settings: Arc::new(settings),
            dummy_hash: Arc::new(dummy_hash),
            models: Arc::default(),
            audit_key,
            keyring,
            framework: Arc::default(),
            catch_ups: Arc::default(),
            catalogue_cache: Arc::default(),
            catalogue_rebuild: Arc::default(),
            tables,
            report_indexes: Arc::default(),
            reports_places: Arc::default(),
            reports_cache: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Housekeeping that any instance may run at any time: expired sessions and old throttling
    /// records go. Idempotent, so several instances running it at once is harmless.
    pub async fn purge_expired(&self) -> Result<u64, CoreError> {
        let now = self.now();
        let n = self
            .store
            .purge_expired(now, now - 2 * self.settings.failure_window_secs)
            .await?;
        Ok(n + self.purge_fill().await?)
    }
}
