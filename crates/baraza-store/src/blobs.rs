//! Content-addressed files: XLSForm sources, submission XML, attachments.
//!
//! A blob is written chunk by chunk to a temporary file while its SHA-256 is computed, flushed to
//! disk (`fsync`), then renamed to `blobs/ab/cd/<sha256>`, and the directory is flushed too: once
//! [`BlobWriter::finish`] returns, the bytes survive a crash. The same content is stored once.
//! Nothing holds a whole blob in memory. With several instances, the data directory must be
//! shared (a network volume) so that every instance sees every blob.
//!
//! A blob may be written sealed ([`BlobStore::sealed_writer`]): the plaintext is sealed chunk by
//! chunk as it arrives (`baraza_protect::FileSealer`), so that only ciphertext ever reaches the
//! disk, and the blob is addressed by the digest of its ciphertext. Such blobs are read with
//! [`BlobStore::read_sealed`] and the file's key, which the caller keeps (sealed) elsewhere.

use baraza_protect::{DataKey, FileSealer};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("sealing a file: {0}")]
    Seal(#[from] baraza_protect::ProtectError),
}

/// Associated data of every sealed blob: a file's key is its own, so the place is bound where
/// that key is sealed (by the caller), not here.
const SEALED_BLOB_AAD: &[u8] = b"baraza/blob/v1";

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Blobs under `dir` (created if missing).
    pub fn open(dir: &Path) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        Ok(BlobStore {
            root: dir.to_path_buf(),
        })
    }

    /// Where the blob with this digest lives (whether or not it exists).
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(
            self.root
                .join(&sha256[0..2])
                .join(&sha256[2..4])
                .join(sha256),
        )
    }

    /// Destroys a blob: its bytes overwritten with zeros and flushed, then the file removed and
    /// its directory flushed. A blob that is not there is not an error (already destroyed).
    pub async fn wipe(&self, sha256: &str) -> std::io::Result<bool> {
        let Some(path) = self.path(sha256) else {
            return Ok(false);
        };
        tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            use std::io::Write;
            let len = match std::fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(e),
            };
            let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
            let zeros = [0u8; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                f.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            f.sync_all()?;
            drop(f);
            std::fs::remove_file(&path)?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(true)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Starts writing a blob of at most `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<BlobWriter, BlobError> {
        let mut r = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut r);
        let tmp = self.root.join("tmp").join(hex::encode(r));
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(BlobWriter {
            store: self.clone(),
            tmp,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            limit,
            sealer: None,
        })
    }

    /// Starts writing a blob sealed under `key` (a key of this file alone); at most `limit`
    /// bytes of plaintext. `nonce` must be fresh random bytes.
    pub async fn sealed_writer(
        &self,
        limit: u64,
        key: &DataKey,
        nonce: [u8; baraza_protect::seal::STREAM_NONCE_LEN],
    ) -> Result<BlobWriter, BlobError> {
        let mut w = self.writer(limit).await?;
        w.sealer = Some(key.file_sealer(SEALED_BLOB_AAD, nonce));
        Ok(w)
    }

    /// Reads a blob written by [`BlobStore::sealed_writer`] and opens it. A changed, truncated or
    /// swapped blob is an error, never wrong bytes.
    pub async fn read_sealed(&self, sha256: &str, key: DataKey) -> Result<Vec<u8>, BlobError> {
        let path = self.path(sha256).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a SHA-256")
        })?;
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>, BlobError> {
            let file = std::io::BufReader::new(std::fs::File::open(&path)?);
            let mut out = Vec::new();
            key.open_stream(file, &mut out, SEALED_BLOB_AAD)?;
            Ok(out)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Stores bytes already in memory.
    pub async fn put(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let mut w = self.writer(bytes.len() as u64).await?;
        w.write(bytes).await?;
        w.finish().await
    }

    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path(sha256).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a SHA-256")
        })?;
        tokio::fs::read(path).await
    }
}

/// A blob being written. Dropped without [`finish`](BlobWriter::finish), it leaves nothing
/// behind but a temporary file that the next start may clean.
pub struct BlobWriter {
    store: BlobStore,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    sealer: Option<FileSealer>,
}

impl BlobWriter {
    /// Takes the next piece of the file (plaintext; sealed here when the writer seals).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        match self.sealer.as_mut() {
            Some(sealer) => {
                let sealed = sealer.update(chunk)?;
                self.put_raw(&sealed).await
            }
            None => self.put_raw(chunk).await,
        }
    }

    async fn put_raw(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.hasher.update(bytes);
        if let Some(f) = self.file.as_mut() {
            f.write_all(bytes).await?;
        }
        Ok(())
    }

    /// Flushes the blob to disk and moves it to its content address. `size` in the answer is
    /// the file's (plaintext) size.
    pub async fn finish(mut self) -> Result<BlobRef, BlobError> {
        if let Some(sealer) = self.sealer.take() {
            let (last, _) = sealer.finish()?;
            self.put_raw(&last).await?;
        }
        let sha256 = hex::encode(self.hasher.clone().finalize());
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
            f.sync_all().await?;
        }
        let dest = self
            .store
            .path(&sha256)
            .ok_or_else(|| std::io::Error::other("digest"))?;
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        tokio::fs::create_dir_all(&dir).await?;
        if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
            tokio::fs::remove_file(&self.tmp).await?;
        } else {
            tokio::fs::rename(&self.tmp, &dest).await?;
            // The rename itself must reach the disk.
            if let Ok(d) = tokio::fs::File::open(&dir).await {
                let _ = d.sync_all().await;
            }
        }
        Ok(BlobRef {
            sha256,
            size: self.size,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_and_bounded() {
        let dir = std::env::temp_dir().join(format!("baraza-blobs-{}", rand::random::<u32>()));
        let store = BlobStore::open(&dir).unwrap();
        let a = store.put(b"hello").await.unwrap();
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let b = store.put(b"hello").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.read(&a.sha256).await.unwrap(), b"hello");
        let mut w = store.writer(4).await.unwrap();
        assert!(matches!(
            w.write(b"hello").await,
            Err(BlobError::TooLarge { limit: 4 })
        ));
        drop(w);
        assert_eq!(
            std::fs::read_dir(dir.join("tmp")).unwrap().count(),
            0,
            "no temporary file left"
        );
        assert!(store.path("../../etc/passwd").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
