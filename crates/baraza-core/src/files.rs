//! Files received with submissions and web-form drafts (photos, recordings, documents), sealed
//! at rest, each under a key of its own.
//!
//! A file is sealed while it arrives ([`Core::file_writer`]): a fresh random key per file, the
//! plaintext sealed in 64 KiB chunks (XChaCha20-Poly1305, STREAM) before any byte reaches the
//! disk, the blob addressed by the digest of its ciphertext. When the file is attached to a
//! project's record or draft, its key is sealed under the project's newest data key, bound to
//! the blob's digest (`file:<sha256>`), and kept in the row that names the file
//! (`<data key version>:<base64>`). Nothing else holds it.
//!
//! This is crypto-shredding for files: deleting that row (erasure, retention, a withdrawn
//! consent) destroys the only key, so that whatever copy of the blob's bytes remains — a block
//! the file system did not overwrite, a snapshot of the volume, a replica — can no longer be
//! read. The blob is also overwritten and removed, as before.
//!
//! Files are sealed whatever the sensitivity of their question: a photo or a recording is
//! personal by default, no analysis reads inside them, and a file cannot be sealed later
//! without reading it back in clear. Files stored in clear before this (or while encryption at
//! rest was off) are sealed by [`Core::seal_existing_files`], at start and every hour.

use std::sync::Arc;

use baraza_protect::DataKey;
use baraza_store::{BlobError, BlobRef, BlobWriter, ReceivedFile, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use tokio::io::AsyncReadExt;

use crate::keyring::random;
use crate::{Core, CoreError};

/// The key of a file being received or stored.
#[derive(Clone)]
pub enum FileKey {
    /// Made for an upload in progress; sealed under the project's data key once the file is
    /// attached to one of its records or drafts.
    New(Arc<DataKey>),
    /// As stored in the row that names the file: `<data key version>:<base64>`.
    Stored(String),
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileKey::New(_) => f.write_str("FileKey::New(..)"),
            FileKey::Stored(_) => f.write_str("FileKey::Stored(..)"),
        }
    }
}

/// A file being received: sealed as it arrives when encryption at rest is on.
pub struct FileWriter {
    writer: BlobWriter,
    key: Option<Arc<DataKey>>,
}

impl FileWriter {
    /// Takes the next piece of the file.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.writer.write(chunk).await
    }

    /// Makes the file durable; returns the blob (its `size` is the file's) and its key.
    pub async fn finish(self) -> Result<(BlobRef, Option<FileKey>), BlobError> {
        let blob = self.writer.finish().await?;
        Ok((blob, self.key.map(FileKey::New)))
    }
}

/// The associated data of a file's sealed key: the blob it opens.
fn file_place(sha256: &str) -> String {
    format!("file:{sha256}")
}

fn corrupt(detail: String) -> CoreError {
    CoreError::Store(StoreError::Corrupt(detail))
}

impl Core {
    /// Starts receiving a file of at most `limit` bytes.
    pub async fn file_writer(&self, limit: u64) -> Result<FileWriter, BlobError> {
        if !self.keyring.enabled {
            return Ok(FileWriter {
                writer: self.blobs.writer(limit).await?,
                key: None,
            });
        }
        let key = Arc::new(DataKey::from_bytes(random()));
        let writer = self.blobs.sealed_writer(limit, &key, random()).await?;
        Ok(FileWriter {
            writer,
            key: Some(key),
        })
    }

    /// Stores a file already in memory (a decrypted ODK attachment), sealed like an upload.
    pub(crate) async fn put_file(
        &self,
        bytes: &[u8],
    ) -> Result<(BlobRef, Option<FileKey>), CoreError> {
        let mut w = self
            .file_writer(bytes.len() as u64)
            .await
            .map_err(crate::forms::blob_error)?;
        w.write(bytes).await.map_err(crate::forms::blob_error)?;
        w.finish().await.map_err(crate::forms::blob_error)
    }

    /// A file's key as the row that names the file keeps it: a new key sealed under the
    /// project's newest data key; a stored one as it is.
    pub(crate) async fn stored_file_key(
        &self,
        project_id: i64,
        key: Option<&FileKey>,
        sha256: &str,
    ) -> Result<Option<String>, CoreError> {
        match key {
            None => Ok(None),
            Some(FileKey::Stored(text)) => Ok(Some(text.clone())),
            Some(FileKey::New(key)) => {
                let (version, data_key) = self.sealing_key(project_id).await?;
                let sealed = data_key.seal_key(key, file_place(sha256).as_bytes(), random());
                Ok(Some(format!("{version}:{}", B64.encode(sealed))))
            }
        }
    }

    /// Files received with a submission, as the store keeps them: each new key sealed under
    /// the project's data key.
    pub(crate) async fn received_files(
        &self,
        project: baraza_types::ProjectId,
        files: impl Iterator<Item = &crate::forms::IncomingFile>,
    ) -> Result<Vec<ReceivedFile>, CoreError> {
        let mut out = Vec::new();
        for f in files {
            out.push(ReceivedFile {
                name: f.name.clone(),
                blob: f.blob.clone(),
                key: self
                    .stored_file_key(project.0, f.key.as_ref(), &f.blob.sha256)
                    .await?,
            });
        }
        Ok(out)
    }

    /// The bytes of a stored file: opened with its key when it is sealed. A changed or swapped
    /// blob, or a key that is not the file's, is an error, never wrong bytes.
    pub(crate) async fn read_file(
        &self,
        project_id: i64,
        sha256: &str,
        key: Option<&str>,
    ) -> Result<Vec<u8>, CoreError> {
        let unavailable =
            |e: String| CoreError::Store(StoreError::Unavailable(format!("file {sha256}: {e}")));
        let Some(text) = key else {
            return self
                .blobs
                .read(sha256)
                .await
                .map_err(|e| unavailable(e.to_string()));
        };
        let file_key = self.open_file_key(project_id, sha256, text).await?;
        match self.blobs.read_sealed(sha256, file_key).await {
            Ok(bytes) => Ok(bytes),
            Err(BlobError::Seal(e)) => Err(corrupt(format!("file {sha256}: {e}"))),
            Err(e) => Err(unavailable(e.to_string())),
        }
    }

    /// The bytes of an attachment of a stored submission, opened, for callers that already
    /// checked access to it (the API's download, maintenance). Not found while the file has
    /// not arrived.
    pub async fn stored_attachment(
        &self,
        project: baraza_types::ProjectId,
        submission_id: i64,
        name: &str,
    ) -> Result<Vec<u8>, CoreError> {
        let file = self
            .store
            .submission_attachments(submission_id)
            .await?
            .into_iter()
            .find(|f| f.name == name)
            .ok_or(CoreError::NotFound { what: "attachment" })?;
        let sha = file
            .sha256
            .as_deref()
            .ok_or(CoreError::NotFound { what: "attachment" })?;
        self.read_file(project.0, sha, file.key.as_deref()).await
    }

    async fn open_file_key(
        &self,
        project_id: i64,
        sha256: &str,
        text: &str,
    ) -> Result<DataKey, CoreError> {
        let bad = |e: String| corrupt(format!("key of file {sha256}: {e}"));
        let (version, b64) = text
            .split_once(':')
            .ok_or_else(|| bad("no data key version".into()))?;
        let version: i64 = version
            .parse()
            .map_err(|_| bad("bad data key version".into()))?;
        let sealed = B64.decode(b64).map_err(|e| bad(e.to_string()))?;
        self.data_key(project_id, version)
            .await?
            .open_key(&sealed, file_place(sha256).as_bytes())
            .map_err(|e| bad(e.to_string()))
    }

    /// Seals the attachments stored in clear (received before files were sealed, or while
    /// encryption at rest was off): each is copied into a sealed blob, its row pointed at the
    /// copy with the copy's key, and the clear blob overwritten and removed once no row names
    /// it. Returns how many rows were sealed.
    pub async fn seal_existing_files(&self) -> Result<u64, CoreError> {
        if !self.keyring.enabled {
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let rows = self.store.clear_attachments(100).await?;
            if rows.is_empty() {
                break;
            }
            let mut progressed = false;
            for (submission_id, project_id, file) in rows {
                let Some(old) = file.sha256.as_deref() else {
                    continue;
                };
                let Some(path) = self.blobs.path(old) else {
                    continue;
                };
                let mut source = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    // A file that is gone cannot be sealed; its row stays as it is.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(crate::forms::blob_error(e.into())),
                };
                let mut w = self
                    .file_writer(u64::MAX)
                    .await
                    .map_err(crate::forms::blob_error)?;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = source
                        .read(&mut buf)
                        .await
                        .map_err(|e| crate::forms::blob_error(e.into()))?;
                    if n == 0 {
                        break;
                    }
                    w.write(&buf[..n]).await.map_err(crate::forms::blob_error)?;
                }
                let (blob, key) = w.finish().await.map_err(crate::forms::blob_error)?;
                let key = self
                    .stored_file_key(project_id, key.as_ref(), &blob.sha256)
                    .await?
                    .ok_or_else(|| corrupt("sealing is on but the file has no key".into()))?;
                let changed = self
                    .store
                    .seal_attachment(submission_id, &file.name, old, &blob.sha256, &key)
                    .await?;
                if changed == 0 {
                    // Changed meanwhile (erased, sealed by another instance): drop the copy.
                    self.blobs
                        .wipe(&blob.sha256)
                        .await
                        .map_err(|e| crate::forms::blob_error(e.into()))?;
                    continue;
                }
                progressed = true;
                total += changed;
                if !self.store.blob_referenced(old).await? {
                    self.blobs
                        .wipe(old)
                        .await
                        .map_err(|e| crate::forms::blob_error(e.into()))?;
                }
            }
            if !progressed {
                break;
            }
        }
        if total > 0 {
            self.audit(
                crate::audit::Actor::System,
                "keys.sealed_existing",
                &crate::audit::Target::none(),
                serde_json::json!({ "files": total }),
            )
            .await?;
        }
        Ok(total)
    }

    /// Wipes the sealed files received by a request that no stored row names (a replay whose
    /// files had already arrived, a refused consent). Files in clear are content-addressed and
    /// may be another record's: those are wiped only when `clear_too`, as for a refusal.
    pub(crate) async fn wipe_unnamed(
        &self,
        files: &[crate::forms::IncomingFile],
        clear_too: bool,
    ) -> Result<(), CoreError> {
        for f in files {
            let unnamed = if matches!(f.key, Some(FileKey::New(_))) {
                !self
                    .store
                    .blob_named_by_a_submission(&f.blob.sha256)
                    .await?
            } else {
                clear_too && !self.store.blob_referenced(&f.blob.sha256).await?
            };
            if unnamed {
                self.blobs.wipe(&f.blob.sha256).await.map_err(|e| {
                    CoreError::Store(StoreError::Unavailable(format!(
                        "wiping a file no record names: {e}"
                    )))
                })?;
            }
        }
        Ok(())
    }
}
