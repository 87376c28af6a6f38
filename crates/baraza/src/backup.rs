//! `baraza backup` and `baraza restore`: the database and every blob in one archive encrypted with
//! age (age-encryption.org/v1), by passphrase (scrypt) or to X25519 recipients.
//!
//! # The archive
//!
//! Inside the age stream, a sequence of named members, each cut into frames so that a member of
//! unknown length (a PostgreSQL table streaming out of `COPY`) needs no size up front:
//!
//! ```text
//! "BARAZA-BACKUP\n"                                  magic
//! 'F' u16 name length, name (UTF-8)                  a member...
//!     (u32 length, bytes)*  u32 0                    ...its frames, a zero length ends it
//! 'Z'                                                end of the archive
//! ```
//!
//! (Lengths are big-endian.) Members, in order: `header.json` (format, backend and migration,
//! read first so that a restore refuses a foreign archive before loading anything); the
//! database (`database/baraza.sqlite`, a `VACUUM INTO` snapshot, or one
//! `database/<table>.pgcopy` per table in COPY binary format, in dependency order); every blob
//! as `blobs/<sha256>`; and last `manifest.json`, which repeats the header and adds the row count
//! of every table, the number and size of the blobs and the SHA-256 of every other member (it
//! can only be written once they have all streamed by).
//!
//! # Guarantees
//!
//! * Constant memory: members stream through in 64 KiB pieces.
//! * A backup is written to a temporary file, flushed to disk and renamed into place: a failed
//!   backup never leaves a file that looks complete. Nothing unencrypted is ever written out.
//! * A restore stages everything (the SQLite file next to the database, PostgreSQL rows inside
//!   one open transaction, blobs in the blob store's temporary directory), checks every digest
//!   and row count against the manifest, and only then replaces the database: a wrong
//!   passphrase, a damaged, truncated or foreign archive leaves the target as it was.
//! * The audit log's signing key and the master key are not in the archive (see
//!   docs/backup.md): the data keys inside it are wrapped by the master key.

use crate::app::open_store;
use crate::config::Settings;
use anyhow::{anyhow, bail, Context, Result};
use baraza_store::{Backend, BlobStore, ExportSink, Store, TableCount};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The version of the archive's layout this program writes and reads.
pub const FORMAT: u32 = 1;
const MAGIC: &[u8] = b"BARAZA-BACKUP\n";
const CHUNK: usize = 64 * 1024;
/// The JSON members are read into memory: bound them.
const MAX_JSON: u64 = 64 * 1024 * 1024;
const SQLITE_MEMBER: &str = "database/baraza.sqlite";
const MASTER_KEY_NOTE: &str = "not included: the master key (master_key_file or BARAZA_MASTER_KEY) that wraps the projects' data keys is kept apart from backups; without it the encrypted answers cannot be read";
const AUDIT_KEY_NOTE: &str = "not included: the audit log's signing key (audit_key_file) is kept apart from backups; restore it separately";

/// How the archive is encrypted, or decrypted.
pub enum Key {
    Passphrase(String),
    Recipients(Vec<age::x25519::Recipient>),
    Identities(Vec<Box<dyn age::Identity>>),
}

/// Reads a passphrase file (one line; the line end is not part of it).
pub fn passphrase_from_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the passphrase file {}", path.display()))?;
    let p = text.trim_end_matches(['\r', '\n']).to_owned();
    if p.is_empty() {
        bail!("the passphrase file {} is empty", path.display());
    }
    Ok(p)
}

/// Parses age public keys (`age1…`).
pub fn parse_recipients(keys: &[String]) -> Result<Vec<age::x25519::Recipient>> {
    keys.iter()
        .map(|k| {
            k.trim()
                .parse::<age::x25519::Recipient>()
                .map_err(|e| anyhow!("--recipient {k:?} is not an age public key (age1…): {e}"))
        })
        .collect()
}

/// Reads an age identity file (as written by `age-keygen`).
pub fn read_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity>>> {
    let file = age::IdentityFile::from_file(path.display().to_string())
        .with_context(|| format!("cannot read the identity file {}", path.display()))?;
    file.into_identities()
        .map_err(|e| anyhow!("the identity file {}: {e}", path.display()))
}

// ----- the framed format -------------------------------------------------------------------

/// One member's name, size and digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemberSum {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

struct ArchiveWriter<W: Write> {
    out: W,
    sums: Vec<MemberSum>,
    current: Option<(String, Sha256, u64)>,
}

impl<W: Write> ArchiveWriter<W> {
    fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(MAGIC)?;
        Ok(ArchiveWriter {
            out,
            sums: Vec::new(),
            current: None,
        })
    }

    fn begin(&mut self, name: &str) -> std::io::Result<()> {
        debug_assert!(self.current.is_none());
        let len = u16::try_from(name.len()).map_err(|_| std::io::Error::other("name too long"))?;
        self.out.write_all(b"F")?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.current = Some((name.to_owned(), Sha256::new(), 0));
        Ok(())
    }

    fn chunk(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        let (_, hasher, size) = self
            .current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no member open"))?;
        while !bytes.is_empty() {
            let n = bytes.len().min(CHUNK);
            hasher.update(&bytes[..n]);
            *size += n as u64;
            self.out.write_all(&(n as u32).to_be_bytes())?;
            self.out.write_all(&bytes[..n])?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn end(&mut self) -> std::io::Result<MemberSum> {
        let (name, hasher, size) = self
            .current
            .take()
            .ok_or_else(|| std::io::Error::other("no member open"))?;
        self.out.write_all(&0u32.to_be_bytes())?;
        let sum = MemberSum {
            name,
            size,
            sha256: hex::encode(hasher.finalize()),
        };
        self.sums.push(sum.clone());
        Ok(sum)
    }

    fn member_bytes(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<MemberSum> {
        self.begin(name)?;
        self.chunk(bytes)?;
        self.end()
    }

    fn member_file(&mut self, name: &str, path: &Path) -> std::io::Result<MemberSum> {
        let mut f = std::fs::File::open(path)?;
        self.begin(name)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.chunk(&buf[..n])?;
        }
        self.end()
    }

    fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"Z")?;
        Ok(self.out)
    }
}

impl<W: Write> ExportSink for ArchiveWriter<W> {
    fn begin_table(&mut self, table: &str) -> std::io::Result<()> {
        self.begin(&format!("database/{table}.pgcopy"))
    }
    fn chunk(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        ArchiveWriter::chunk(self, bytes)
    }
    fn end_table(&mut self) -> std::io::Result<()> {
        self.end().map(|_| ())
    }
}

/// Reads members one after the other.
struct ArchiveReader<R: Read> {
    r: R,
}

/// Turns what the age reader reports (authentication failures, a cut stream) into words.
fn damaged(e: std::io::Error) -> anyhow::Error {
    anyhow!("the archive is damaged, truncated or was altered ({e})")
}

impl<R: Read> ArchiveReader<R> {
    fn new(mut r: R) -> Result<Self> {
        let mut magic = [0u8; MAGIC.len()];
        r.read_exact(&mut magic).map_err(damaged)?;
        if magic != MAGIC {
            bail!("this is not a Baraza backup (it decrypts, but does not start like one)");
        }
        Ok(ArchiveReader { r })
    }

    /// The next member's name, or `None` at the end of the archive.
    fn next(&mut self) -> Result<Option<String>> {
        let mut tag = [0u8; 1];
        self.r.read_exact(&mut tag).map_err(damaged)?;
        match tag[0] {
            b'Z' => {
                // Nothing may follow the end mark.
                let mut rest = [0u8; 1];
                if self.r.read(&mut rest).map_err(damaged)? != 0 {
                    bail!("the archive has bytes after its end mark");
                }
                Ok(None)
            }
            b'F' => {
                let mut len = [0u8; 2];
                self.r.read_exact(&mut len).map_err(damaged)?;
                let mut name = vec![0u8; u16::from_be_bytes(len) as usize];
                self.r.read_exact(&mut name).map_err(damaged)?;
                Ok(Some(
                    String::from_utf8(name).map_err(|_| anyhow!("a member's name is not UTF-8"))?,
                ))
            }
            t => bail!("the archive is malformed (unexpected byte {t:#04x} between members)"),
        }
    }

    fn member(&mut self) -> MemberReader<'_, R> {
        MemberReader {
            r: &mut self.r,
            left: 0,
            done: false,
            hasher: Sha256::new(),
            size: 0,
        }
    }
}

/// One member's bytes, hashed as they are read.
struct MemberReader<'a, R: Read> {
    r: &'a mut R,
    left: u32,
    done: bool,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for MemberReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_frames(buf).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("the archive is damaged, truncated or was altered ({e})"),
            )
        })
    }
}

impl<R: Read> MemberReader<'_, R> {
    fn read_frames(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut len = [0u8; 4];
            self.r.read_exact(&mut len)?;
            self.left = u32::from_be_bytes(len);
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left as usize);
        self.r.read_exact(&mut buf[..want])?;
        self.left -= want as u32;
        self.hasher.update(&buf[..want]);
        self.size += want as u64;
        Ok(want)
    }
}

impl<R: Read> MemberReader<'_, R> {
    /// Reads what the consumer left and returns the member's digest.
    fn finish(mut self, name: &str) -> Result<MemberSum> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok(MemberSum {
            name: name.to_owned(),
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }

    fn json<T: serde::de::DeserializeOwned>(mut self, name: &str) -> Result<(T, MemberSum)> {
        let mut bytes = Vec::new();
        (&mut self).take(MAX_JSON).read_to_end(&mut bytes)?;
        let sum = self.finish(name)?;
        let value =
            serde_json::from_slice(&bytes).with_context(|| format!("{name} is not valid"))?;
        Ok((value, sum))
    }
}

// ----- manifest ----------------------------------------------------------------------------

/// `header.json`: what a restore must know before it loads anything.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub baraza_version: String,
    pub backend: String,
    pub created_at: String,
    pub migration_version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableRows {
    pub name: String,
    pub rows: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlobTotals {
    pub count: u64,
    pub bytes: u64,
}

/// `manifest.json`, the archive's last member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub baraza_version: String,
    pub backend: String,
    pub created_at: String,
    pub migration_version: Option<i64>,
    pub tables: Vec<TableRows>,
    pub blobs: BlobTotals,
    pub members: Vec<MemberSum>,
    pub audit_key: String,
    #[serde(default)]
    pub master_key: String,
}

fn rows(counts: &[TableCount]) -> Vec<TableRows> {
    counts
        .iter()
        .map(|t| TableRows {
            name: t.name.clone(),
            rows: t.rows,
        })
        .collect()
}

/// The `format` of a header or manifest (0 when missing).
fn format_of(v: &serde_json::Value) -> u32 {
    v.get("format")
        .and_then(serde_json::Value::as_u64)
        .and_then(|f| u32::try_from(f).ok())
        .unwrap_or(0)
}

/// Checks the format before anything else is read.
fn check_format(format: u32, what: &str) -> Result<()> {
    if format > FORMAT {
        bail!("{what} is in backup format {format}, newer than this Baraza reads ({FORMAT}): restore it with a newer Baraza");
    }
    if format == 0 {
        bail!("{what} has no valid format version");
    }
    Ok(())
}

// ----- files -------------------------------------------------------------------------------

/// A file removed when dropped, unless kept.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn beside(target: &Path, tag: &str) -> TempFile {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "baraza".into());
        let path = target.with_file_name(format!(".{name}.{tag}-{:016x}", rand::random::<u64>()));
        TempFile { path, keep: false }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            if self.path.is_dir() {
                let _ = std::fs::remove_dir_all(&self.path);
            } else {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Every blob under `blobs/` (`ab/cd/<sha256>`), sorted, with its size.
fn list_blobs(root: &Path) -> Result<Vec<(String, PathBuf, u64)>> {
    let mut out = Vec::new();
    let Ok(level1) = std::fs::read_dir(root) else {
        return Ok(out);
    };
    let is_hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    for a in level1 {
        let a = a?;
        let an = a.file_name().to_string_lossy().into_owned();
        if !is_hex(&an, 2) || !a.file_type()?.is_dir() {
            continue;
        }
        for b in std::fs::read_dir(a.path())? {
            let b = b?;
            let bn = b.file_name().to_string_lossy().into_owned();
            if !is_hex(&bn, 2) || !b.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(b.path())? {
                let f = f?;
                let name = f.file_name().to_string_lossy().into_owned();
                if is_hex(&name, 64) && f.file_type()?.is_file() {
                    out.push((name, f.path(), f.metadata()?.len()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

// ----- backup ------------------------------------------------------------------------------

/// What a backup wrote.
pub struct BackupReport {
    pub output: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
}

/// Writes the archive to `output`. `key` is a passphrase or recipients.
pub async fn backup(settings: &Settings, output: &Path, key: Key) -> Result<BackupReport> {
    let encryptor = match &key {
        Key::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone().into()),
        Key::Recipients(r) if !r.is_empty() => {
            age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| anyhow!("cannot encrypt to these recipients: {e}"))?
        }
        _ => bail!("no passphrase and no recipient: Baraza does not write unencrypted backups"),
    };
    let store = open_store(settings).await?;
    let result = write_backup(settings, &store, output, encryptor).await;
    store.close().await;
    result
}

async fn write_backup(
    settings: &Settings,
    store: &Store,
    output: &Path,
    encryptor: age::Encryptor,
) -> Result<BackupReport> {
    let blob_root = settings.data_dir.join("blobs");
    let mut tmp = TempFile::beside(output, "partial");
    let file = create_private(&tmp.path)
        .with_context(|| format!("cannot create a file next to {}", output.display()))?;
    let age_out = encryptor
        .wrap_output(BufWriter::with_capacity(CHUNK, file))
        .context("starting the encryption")?;
    let mut w = ArchiveWriter::new(age_out)?;

    let backend = store.backend();
    let migration_version = store.latest_migration().await?;
    let header = Header {
        format: FORMAT,
        baraza_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: backend.as_str().to_owned(),
        created_at: now_rfc3339(),
        migration_version,
    };
    w.member_bytes("header.json", &serde_json::to_vec_pretty(&header)?)?;

    let snapshot = match backend {
        Backend::Sqlite => {
            // The snapshot is as sensitive as the database: it lives beside it, briefly.
            let snap = TempFile::beside(&settings.data_dir.join("baraza.db"), "backup");
            let s = store
                .sqlite_snapshot(&snap.path)
                .await
                .context("taking a snapshot of the SQLite database")?;
            w.member_file(SQLITE_MEMBER, &snap.path)
                .context("writing the database into the archive")?;
            s
        }
        Backend::Postgres => store
            .pg_export(&mut w)
            .await
            .context("exporting the PostgreSQL tables")?,
    };
    if snapshot.migration_version != migration_version {
        bail!("a migration ran during the backup: run it again");
    }

    let mut blobs = BlobTotals { count: 0, bytes: 0 };
    for (sha, path, _) in list_blobs(&blob_root)? {
        let sum = w
            .member_file(&format!("blobs/{sha}"), &path)
            .with_context(|| format!("reading the blob {}", path.display()))?;
        if sum.sha256 != sha {
            bail!(
                "the blob {} is damaged (its content does not match its name): restore it from an older backup or remove it, then back up again",
                path.display()
            );
        }
        blobs.count += 1;
        blobs.bytes += sum.size;
    }

    let manifest = Manifest {
        format: FORMAT,
        baraza_version: header.baraza_version,
        backend: header.backend,
        created_at: header.created_at,
        migration_version,
        tables: rows(&snapshot.tables),
        blobs,
        members: w.sums.clone(),
        audit_key: AUDIT_KEY_NOTE.to_owned(),
        master_key: MASTER_KEY_NOTE.to_owned(),
    };
    w.member_bytes("manifest.json", &serde_json::to_vec_pretty(&manifest)?)?;
    let age_out = w.finish()?;
    let buffered = age_out.finish().context("finishing the encryption")?;
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    drop(file);
    std::fs::rename(&tmp.path, output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    tmp.keep = true;
    sync_dir(output);
    Ok(BackupReport {
        output: output.to_owned(),
        bytes,
        manifest,
    })
}

// ----- restore -----------------------------------------------------------------------------

/// What a restore did.
pub struct RestoreReport {
    pub manifest: Manifest,
    pub blobs_written: u64,
    /// Erasures on request made after the archive (from the replaced database's ledger), which
    /// the server applies again at its start.
    pub erasures_carried: u64,
}

/// Restores `archive` into the configured database and data directory.
pub async fn restore(
    settings: &Settings,
    archive: &Path,
    key: Key,
    force: bool,
) -> Result<RestoreReport> {
    let identities: Vec<Box<dyn age::Identity>> = match key {
        Key::Passphrase(p) => vec![Box::new(age::scrypt::Identity::new(p.into()))],
        Key::Identities(ids) if !ids.is_empty() => ids,
        _ => bail!("give the archive's passphrase (--passphrase-file or BARAZA_BACKUP_PASSPHRASE) or an identity file (--identity)"),
    };
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot open {}", archive.display()))?;
    let decryptor =
        age::Decryptor::new_buffered(BufReader::with_capacity(CHUNK, file)).map_err(|e| {
            anyhow!(
                "{} is not an age-encrypted archive or is damaged: {e}",
                archive.display()
            )
        })?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => anyhow!(
                "cannot decrypt {}: wrong passphrase or identity",
                archive.display()
            ),
            e => anyhow!("cannot decrypt {}: {e}", archive.display()),
        })?;
    let mut ar = ArchiveReader::new(BufReader::with_capacity(CHUNK, reader))?;

    // The header comes first: refuse a foreign archive before touching anything.
    let (header, header_sum): (Header, MemberSum) = match ar.next()? {
        Some(n) if n == "header.json" => {
            // The format is checked before the rest is read: a newer header may have another shape.
            let (v, sum) = ar.member().json::<serde_json::Value>(&n)?;
            check_format(format_of(&v), "the archive")?;
            (
                serde_json::from_value(v).context("header.json is not valid")?,
                sum,
            )
        }
        _ => bail!("the archive does not start with header.json"),
    };
    let backend = Backend::parse(&header.backend)
        .ok_or_else(|| anyhow!("the archive names an unknown backend {:?}", header.backend))?;

    let store = open_store(settings).await?;
    let target = store.backend();
    let prepared = prepare_target(&store, &header, backend, force).await;
    // The erasures on request of the database being replaced: the archive may predate some of
    // them. They are carried into the restored database, whose server erases those records
    // again before it serves.
    let ledger = match &prepared {
        Ok(()) => store.erasure_ledger().await?,
        Err(_) => Vec::new(),
    };
    let result = match prepared {
        Ok(()) if target == Backend::Sqlite => {
            // The database file is replaced: no connection may stay open on it.
            store.close().await;
            restore_members(settings, &mut ar, &header, header_sum, None).await
        }
        Ok(()) => {
            let import = store.pg_import().await?;
            let r = restore_members(settings, &mut ar, &header, header_sum, Some(import)).await;
            store.close().await;
            r
        }
        Err(e) => {
            store.close().await;
            Err(e)
        }
    };
    let mut report = result?;
    if !ledger.is_empty() {
        let store = open_store(settings).await?;
        let added = store.add_to_erasure_ledger(&ledger).await;
        store.close().await;
        report.erasures_carried = added.context(
            "the archive is restored, but the erasure ledger of the database it replaced could not be carried over: erase those records again before starting the server",
        )?;
    }
    Ok(report)
}

async fn prepare_target(
    store: &Store,
    header: &Header,
    archive: Backend,
    force: bool,
) -> Result<()> {
    let target = store.backend();
    if archive != target {
        bail!(
            "the archive holds a {} database and the target is {}: restore into the same kind of database",
            archive.as_str(),
            target.as_str()
        );
    }
    let ours = store.latest_migration().await?;
    if ours != header.migration_version {
        bail!(
            "the archive was made at migration {} (Baraza {}) and this database is at migration {}: restore with the Baraza version that made the archive",
            header.migration_version.unwrap_or(0),
            header.baraza_version,
            ours.unwrap_or(0)
        );
    }
    if !force && store.has_data().await? {
        bail!("the target database already holds data: restore into an empty database, or give --force to replace it");
    }
    Ok(())
}

/// Reads every member after the header, stages it, checks it all against the manifest, and
/// only then replaces the database and adds the blobs.
async fn restore_members<R: Read>(
    settings: &Settings,
    ar: &mut ArchiveReader<R>,
    header: &Header,
    header_sum: MemberSum,
    mut import: Option<baraza_store::PgImport>,
) -> Result<RestoreReport> {
    let mut seen: Vec<MemberSum> = vec![header_sum];
    let blobs =
        BlobStore::open(&settings.data_dir.join("blobs")).context("opening the blob directory")?;
    let staging = TempFile {
        path: settings
            .data_dir
            .join("blobs")
            .join("tmp")
            .join(format!("restore-{:016x}", rand::random::<u64>())),
        keep: false,
    };
    std::fs::create_dir_all(&staging.path)?;
    let sqlite_target = Store::sqlite_file(&settings.database_url);
    let mut staged_db: Option<TempFile> = None;
    let mut staged_blobs: Vec<(String, PathBuf)> = Vec::new();
    let mut pg_rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut manifest: Option<(Manifest, MemberSum)> = None;

    while let Some(name) = ar.next()? {
        if manifest.is_some() {
            bail!("the archive has a member ({name}) after its manifest");
        }
        if name == "manifest.json" {
            let (v, sum) = ar.member().json::<serde_json::Value>(&name)?;
            check_format(format_of(&v), "the manifest")?;
            let m: Manifest = serde_json::from_value(v).context("manifest.json is not valid")?;
            manifest = Some((m, sum));
            continue;
        }
        let sum = if name == SQLITE_MEMBER {
            let target = sqlite_target.as_ref().ok_or_else(|| {
                anyhow!("the archive holds a SQLite database but the target is not SQLite")
            })?;
            let tmp = TempFile::beside(target, "restore");
            let mut f = create_private(&tmp.path)
                .with_context(|| format!("cannot create a file next to {}", target.display()))?;
            let mut m = ar.member();
            copy_member(&mut m, &mut f)?;
            f.sync_all()?;
            staged_db = Some(tmp);
            m.finish(&name)?
        } else if let Some(table) = name
            .strip_prefix("database/")
            .and_then(|n| n.strip_suffix(".pgcopy"))
        {
            let import = import.as_mut().ok_or_else(|| {
                anyhow!("the archive holds PostgreSQL tables but the target is not PostgreSQL")
            })?;
            let mut m = ar.member();
            let n = import
                .table(table, &mut m)
                .await
                .with_context(|| format!("loading the table {table}"))?;
            pg_rows.insert(table.to_owned(), n);
            m.finish(&name)?
        } else if let Some(sha) = name.strip_prefix("blobs/") {
            if blobs.path(sha).is_none() {
                bail!("the archive holds a blob with a malformed name: {name}");
            }
            let path = staging.path.join(sha);
            let mut f = create_private(&path)?;
            let mut m = ar.member();
            copy_member(&mut m, &mut f)?;
            f.sync_all()?;
            let sum = m.finish(&name)?;
            if sum.sha256 != sha {
                bail!("the blob {sha} in the archive does not match its name");
            }
            staged_blobs.push((sha.to_owned(), path));
            sum
        } else {
            bail!("the archive holds an unexpected member: {name}");
        };
        seen.push(sum);
    }

    // Everything has been read (age has authenticated the whole stream): check it all.
    let (manifest, _) =
        manifest.ok_or_else(|| anyhow!("the archive has no manifest.json: it is incomplete"))?;
    if manifest.backend != header.backend || manifest.migration_version != header.migration_version
    {
        bail!("the manifest does not agree with the archive's header");
    }
    let mut expected: BTreeMap<&str, &MemberSum> = manifest
        .members
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    for s in &seen {
        match expected.remove(s.name.as_str()) {
            Some(m) if m.sha256 == s.sha256 && m.size == s.size => {}
            Some(_) => bail!(
                "the member {} does not match its SHA-256 in the manifest",
                s.name
            ),
            None => bail!("the member {} is not in the manifest", s.name),
        }
    }
    if let Some(missing) = expected.keys().next() {
        bail!("the member {missing} is listed in the manifest but missing from the archive");
    }
    let want: Vec<TableRows> = manifest.tables.clone();
    match (&staged_db, import.as_mut()) {
        (Some(db), None) => {
            let snap = baraza_store::inspect_sqlite_file(&db.path)
                .await
                .context("checking the restored SQLite database")?;
            if rows(&snap.tables) != want {
                bail!("the database in the archive does not hold the rows its manifest counts");
            }
            if snap.migration_version != manifest.migration_version {
                bail!("the database in the archive is not at the manifest's migration");
            }
        }
        (None, Some(import)) => {
            let have = rows(&import.counts().await?);
            if have != want {
                bail!("the tables loaded do not hold the rows the manifest counts");
            }
        }
        _ => bail!("the archive holds no database"),
    }

    // All checked: the blobs first (extra content-addressed files harm nothing), then the
    // database, in one step.
    let mut written = 0;
    for (sha, path) in &staged_blobs {
        let dest = blobs.path(sha).ok_or_else(|| anyhow!("blob name"))?;
        if dest.exists() {
            continue;
        }
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(path, &dest)?;
        sync_dir(&dest);
        written += 1;
    }
    if let Some(import) = import {
        import
            .commit()
            .await
            .context("committing the restored tables")?;
    }
    if let (Some(mut db), Some(target)) = (staged_db, sqlite_target) {
        for suffix in ["-wal", "-shm"] {
            let mut p = target.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        std::fs::rename(&db.path, &target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
        db.keep = true;
        sync_dir(&target);
    }
    Ok(RestoreReport {
        manifest,
        blobs_written: written,
        erasures_carried: 0,
    })
}

fn copy_member<R: Read>(m: &mut MemberReader<'_, R>, out: &mut std::fs::File) -> Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = m.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_through_frames() {
        let mut w = ArchiveWriter::new(Vec::new()).unwrap();
        w.member_bytes("a", b"hello").unwrap();
        let big = vec![7u8; CHUNK * 2 + 5];
        w.member_bytes("b", &big).unwrap();
        w.member_bytes("empty", b"").unwrap();
        let sums = w.sums.clone();
        let bytes = w.finish().unwrap();
        let mut r = ArchiveReader::new(&bytes[..]).unwrap();
        let mut got = Vec::new();
        while let Some(name) = r.next().unwrap() {
            let mut m = r.member();
            let mut content = Vec::new();
            m.read_to_end(&mut content).unwrap();
            got.push((m.finish(&name).unwrap(), content.len()));
        }
        assert_eq!(got.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), sums);
        assert_eq!(got[1].1, big.len());
        // Cut short, it is an error, not a shorter member.
        let mut r = ArchiveReader::new(&bytes[..bytes.len() - 20]).unwrap();
        r.next().unwrap();
        r.member().finish("a").unwrap();
        r.next().unwrap();
        assert!(r.member().finish("b").is_err());
    }

    #[test]
    fn newer_formats_are_refused() {
        assert!(check_format(FORMAT, "x").is_ok());
        let e = check_format(FORMAT + 1, "the archive")
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer"), "{e}");
    }
}
