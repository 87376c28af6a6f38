//! Building and running the server.

use crate::config::Settings;
use anyhow::{Context, Result};
use axum::Router;
use baraza_core::audit::{Actor, Target};
use baraza_core::keyring::Keyring;
use baraza_core::{Clock, Core, CoreSettings, SystemClock};
use baraza_protect::chain::AuditKey;
use baraza_protect::MasterKey;
use baraza_store::{Store, StoreOptions};
use baraza_web::{AppState, WebSettings};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A server ready to run: its listener is bound, its database migrated.
pub struct Application {
    listener: TcpListener,
    router: Router,
    core: Core,
    addr: SocketAddr,
    /// How often due harvest sources are looked for (`None`: never).
    harvest_every: Option<Duration>,
}

/// Opens (creating if needed) the data directory and the database, and applies migrations.
pub async fn open_store(settings: &Settings) -> Result<Store> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let opts = StoreOptions {
        max_connections: settings.db_max_connections,
        ..StoreOptions::default()
    };
    let store = Store::open(&settings.database_url, &opts)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                crate::config::mask(&settings.database_url)
            )
        })?;
    Ok(store)
}

/// The content-addressed files under `<data_dir>/blobs`.
pub fn open_blobs(settings: &Settings) -> Result<baraza_store::BlobStore> {
    let dir = settings.data_dir.join("blobs");
    baraza_store::BlobStore::open(&dir)
        .with_context(|| format!("cannot create the blob directory {}", dir.display()))
}

/// Reads the audit log's signing key, creating it (readable by this user only) at first start,
/// and checks that it is the key that signed this database's log: instances sharing a database
/// must share the key file, and a lost key must not silently start a second chain of trust.
pub async fn audit_key(settings: &Settings, store: &Store) -> Result<(Arc<AuditKey>, bool)> {
    let path = &settings.audit_key_file;
    let (key, created) = match std::fs::read_to_string(path) {
        Ok(text) => (
            AuditKey::from_text(&text)
                .with_context(|| format!("the audit key file {}", path.display()))?,
            false,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            let key = AuditKey::from_bytes(&secret);
            write_private(path, key.to_text().as_bytes())
                .with_context(|| format!("cannot create the audit key file {}", path.display()))?;
            tracing::info!(file = %path.display(), public_key = %key.public_hex(), "created the audit key");
            (key, true)
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the audit key file {}", path.display()))
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ours = key.public_hex();
    let stored = store
        .server_secret("audit_public_key", &ours, now)
        .await
        .context("reading the audit log's public key")?;
    if stored != ours {
        anyhow::bail!(
            "the audit key in {} (public key {ours}) is not the key that signs this database's audit log (public key {stored}): put the right key file there, or point audit_key_file at it",
            path.display()
        );
    }
    Ok((Arc::new(key), created))
}

/// Writes a new file that only its owner can read, refusing to overwrite one.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a new random master key to a new file readable by its owner only; returns its
/// fingerprint.
pub fn new_master_key_file(path: &std::path::Path) -> Result<String> {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let key = MasterKey::from_bytes(secret);
    write_private(path, hex::encode(secret).as_bytes())
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    secret.fill(0);
    Ok(key.fingerprint())
}

/// Reads a master key file.
fn read_master_key(path: &std::path::Path) -> Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    MasterKey::parse(&text).with_context(|| format!("the master key file {}", path.display()))
}

/// The master keys (encryption at rest): `master_key` if set, else the key file, created at
/// first start while the database holds no data key (a missing file later means a lost key,
/// which must not silently start over with a new one); and the previous master key during a
/// rotation. Returns the keyring and whether the key file was created.
pub async fn keyring(settings: &Settings, store: &Store, sealing: bool) -> Result<(Keyring, bool)> {
    let (current, created) = if let Some(text) = &settings.master_key {
        (
            MasterKey::parse(text).context("master_key (BARAZA_MASTER_KEY)")?,
            false,
        )
    } else {
        let path = &settings.master_key_file;
        if path.exists() {
            (read_master_key(path)?, false)
        } else {
            let stored = store
                .all_project_keys()
                .await
                .context("reading the data keys")?;
            if let Some(k) = stored.first() {
                let fp = baraza_protect::WrappedKey::from_text(&k.wrapped)
                    .map(|w| w.master_fingerprint())
                    .unwrap_or_default();
                anyhow::bail!(
                    "the master key file {} is missing, and this database holds {} data key(s) wrapped by the master key with fingerprint {fp}: put that key file back (from where you keep it apart from backups), or give it as BARAZA_MASTER_KEY",
                    path.display(),
                    stored.len()
                );
            }
            let fingerprint = new_master_key_file(path)?;
            tracing::info!(file = %path.display(), %fingerprint, "created the master key");
            (read_master_key(path)?, true)
        }
    };
    let previous = match &settings.previous_master_key_file {
        Some(path) => vec![read_master_key(path)?],
        None => Vec::new(),
    };
    if !sealing {
        return Ok((Keyring::sealing_disabled(current), created));
    }
    Ok((Keyring::new(current, previous), created))
}

/// The core over an open store: blobs, the audit key, the master keys, the settings. Refuses
/// to start when a project's data key does not open with the master keys given.
pub async fn build_core(settings: &Settings, store: Store, clock: Arc<dyn Clock>) -> Result<Core> {
    build_core_with(settings, store, clock, true).await
}

/// [`build_core`], with sealing off when `sealing` is false: only to measure what encryption at
/// rest costs (`baraza bench --only encryption`).
pub async fn build_core_with(
    settings: &Settings,
    store: Store,
    clock: Arc<dyn Clock>,
    sealing: bool,
) -> Result<Core> {
    let (key, created) = audit_key(settings, &store).await?;
    let (keyring, master_created) = keyring(settings, &store, sealing).await?;
    let public = key.public_hex();
    let core = Core::new(
        store,
        open_blobs(settings)?,
        clock,
        core_settings(settings),
        key,
        Arc::new(keyring),
    );
    core.check_data_keys()
        .await
        .context("the master key does not open this database's data keys")?;
    if master_created {
        core.audit(
            Actor::System,
            "keys.master_created",
            &Target::none(),
            serde_json::json!({ "fingerprint": core.keyring().current().fingerprint() }),
        )
        .await
        .context("recording the new master key")?;
    }
    if created {
        core.audit(
            Actor::System,
            "audit.key_created",
            &Target::none(),
            serde_json::json!({ "public_key": public }),
        )
        .await
        .context("recording the new audit key")?;
    }
    Ok(core)
}

pub fn core_settings(settings: &Settings) -> CoreSettings {
    CoreSettings {
        session_idle_secs: settings.session_idle_hours * 3600,
        max_failures_per_account: settings.login_max_failures_per_account,
        max_failures_per_address: settings.login_max_failures_per_address,
        failure_window_secs: settings.login_failure_window_minutes * 60,
        public_submissions_per_hour: settings.public_form_submissions_per_hour,
        default_calling_code: settings.default_calling_code,
        table_cache_bytes: settings.table_cache_mb << 20,
        table_max_file_bytes: settings.table_max_file_mb << 20,
        harvest_allow_private_addresses: settings.harvest_allow_private_addresses,
    }
}

pub fn web_settings(settings: &Settings) -> WebSettings {
    WebSettings {
        secure_cookies: settings.secure_cookies(),
        behind_proxy: settings.behind_proxy,
        default_lang: settings.default_language,
        max_body_bytes: settings.max_body_bytes,
        request_timeout: Duration::from_secs(settings.request_timeout_secs),
        version: env!("CARGO_PKG_VERSION"),
        public_url: settings.public_url.clone(),
    }
}

impl Application {
    /// Builds the application with the system clock.
    pub async fn build(settings: &Settings) -> Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the application with the given clock (tests move time by hand).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Application> {
        let store = open_store(settings).await?;
        let core = build_core(settings, store, clock).await?;
        // A restored backup may hold records erased since it was made: not one is served.
        core.reapply_erasures()
            .await
            .context("applying the erasure ledger (records erased on request)")?;
        let state = AppState::new(core.clone(), web_settings(settings))
            .map_err(|e| anyhow::anyhow!("language catalogues: {e}"))?;
        let router = baraza_web::router(state);
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        Ok(Application {
            listener,
            router,
            core,
            addr,
            harvest_every: (settings.harvest_interval_minutes > 0)
                .then(|| Duration::from_secs(settings.harvest_interval_minutes * 60)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Serves until `shutdown` completes, then stops accepting connections, lets requests in
    /// flight finish, and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let core = self.core.clone();
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                // Records stored in clear before encryption at rest (or by an older instance)
                // are sealed.
                match core.seal_existing().await {
                    Ok(n) if n > 0 => tracing::info!(records = n, "sealed records stored in clear"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "sealing stored records failed"),
                }
                match core.seal_existing_files().await {
                    Ok(n) if n > 0 => tracing::info!(files = n, "sealed files stored in clear"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "sealing stored files failed"),
                }
                match core.purge_expired().await {
                    Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired sessions"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
                }
                // Retention: records past their form's period are destroyed, with certificates.
                if let Err(e) = core.run_retention().await {
                    tracing::error!(error = %e, "retention job failed");
                }
                // Answers to questions with their own retention are erased, with certificates.
                if let Err(e) = core.run_field_retention().await {
                    tracing::error!(error = %e, "retention job (answers) failed");
                }
                // Records erased on request that a device sent again are erased again.
                if let Err(e) = core.reapply_erasures().await {
                    tracing::error!(error = %e, "applying the erasure ledger failed");
                }
            }
        });
        // Replies and alerts to citizen reports, each through its gateway within its rate;
        // failures are tried again with backoff (the outbox is in the database, so any
        // instance may send what another queued).
        let outbox_core = self.core.clone();
        let outbox = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Err(e) = outbox_core.send_due_replies().await {
                    tracing::warn!(error = %e, "sending report replies failed");
                }
            }
        });
        // Harvests that are due: each source is locked in the database while it runs, so that
        // several instances looking at once run it once.
        let harvester = self.harvest_every.map(|every| {
            let core = self.core.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    tick.tick().await;
                    match core.run_due_harvests(None, false).await {
                        Ok(runs) => {
                            for (s, r) in runs {
                                match r {
                                    Ok(run) => tracing::info!(source = s.id, status = %run.status, created = run.counts.created, updated = run.counts.updated, withdrawn = run.counts.withdrawn, errors = run.counts.errors, "harvest run"),
                                    Err(e) => tracing::warn!(source = s.id, error = %e, "harvest run failed"),
                                }
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "looking for due harvests failed"),
                    }
                }
            })
        });
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        housekeeping.abort();
        outbox.abort();
        if let Some(h) = harvester {
            h.abort();
        }
        self.core.store().close().await;
        tracing::info!("stopped");
        result.context("server error")
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested: finishing requests in flight");
}
