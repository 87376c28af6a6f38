//! Sealing values and files with a project's [`DataKey`] (XChaCha20-Poly1305).
//!
//! A sealed value is `version (1) || key check (4) || place check (4) || nonce (24) ||
//! ciphertext || tag (16)`. The associated data names the value's place
//! (`form:3/instance:uuid:…/path:/data/phone`), so a value copied into another row or field does
//! not open. The two checks are 4-byte HMACs, under a sub-key of the data key, of a constant and
//! of the place: they let [`DataKey::open`] say "wrong key" or "wrong place" rather than a bare
//! "decryption failed", and being inside the authenticated header they cannot be edited either.
//! They reveal only what the row already shows: which project and which place.
//!
//! Files (attachments) are sealed in constant memory with the STREAM construction
//! (`aead::stream`, big-endian 32-bit chunk counter and a last-chunk flag in the nonce) over
//! 64 KiB chunks: a dropped tail, a reordered or altered chunk fails. A sealed file is
//! `magic "BZS1" || 19-byte nonce || chunks`, each chunk 64 KiB of plaintext plus its tag, the
//! last one shorter (possibly empty). The caller passes the reader and the writer.
//! Decryption writes each chunk once it is authenticated, so a caller must treat its output as
//! untrusted until [`DataKey::open_stream`] returns `Ok`.

use std::io::{Read, Write};

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{ProtectError, Result};
use crate::keys::{hmac_sha256, DataKey};

/// Format version of sealed values.
pub const SEAL_VERSION: u8 = 1;
const CHECK_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 2 * CHECK_LEN + NONCE_LEN;
/// Plaintext bytes per chunk of a sealed file.
pub const STREAM_CHUNK: usize = 64 * 1024;
const STREAM_MAGIC: &[u8; 4] = b"BZS1";
/// Length of the nonce that [`DataKey::seal_stream`] takes (24 bytes less the 5 of the counter
/// and the last-chunk flag).
pub const STREAM_NONCE_LEN: usize = 19;

impl DataKey {
    fn seal_aead(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.1.seal))
    }

    fn checks(&self, aad: &[u8]) -> ([u8; CHECK_LEN], [u8; CHECK_LEN]) {
        let check_key = &self.1.check;
        let key_check = hmac_sha256(check_key, &[b"key"]);
        let place_check = hmac_sha256(check_key, &[b"place\0", aad]);
        let mut a = [0u8; CHECK_LEN];
        let mut b = [0u8; CHECK_LEN];
        a.copy_from_slice(&key_check[..CHECK_LEN]);
        b.copy_from_slice(&place_check[..CHECK_LEN]);
        (a, b)
    }

    /// Seals `plaintext` for the place named by `aad`; `nonce` must be fresh random bytes.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8], nonce: [u8; 24]) -> Vec<u8> {
        let (key_check, place_check) = self.checks(aad);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(SEAL_VERSION);
        out.extend_from_slice(&key_check);
        out.extend_from_slice(&place_check);
        out.extend_from_slice(&nonce);
        let full_aad = [&out[..1 + 2 * CHECK_LEN], aad].concat();
        let ciphertext = self
            .seal_aead()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &full_aad,
                },
            )
            // XChaCha20-Poly1305 fails only on messages longer than 256 GiB.
            .expect("values are far below the AEAD's size limit");
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed by [`DataKey::seal`] for the same place.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let min = HEADER_LEN + TAG_LEN;
        if sealed.len() < min {
            return Err(ProtectError::SealedTruncated {
                len: sealed.len(),
                min,
            });
        }
        if sealed[0] != SEAL_VERSION {
            return Err(ProtectError::SealedVersion { found: sealed[0] });
        }
        let (key_check, place_check) = self.checks(aad);
        if !bool::from(sealed[1..1 + CHECK_LEN].ct_eq(&key_check)) {
            return Err(ProtectError::SealedWrongKey);
        }
        if !bool::from(sealed[1 + CHECK_LEN..1 + 2 * CHECK_LEN].ct_eq(&place_check)) {
            return Err(ProtectError::SealedWrongPlace {
                aad: String::from_utf8_lossy(aad).into_owned(),
            });
        }
        let full_aad = [&sealed[..1 + 2 * CHECK_LEN], aad].concat();
        let nonce = XNonce::from_slice(&sealed[1 + 2 * CHECK_LEN..HEADER_LEN]);
        self.seal_aead()
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: &full_aad,
                },
            )
            .map_err(|_| ProtectError::SealedTampered)
    }

    /// Seals everything `reader` yields into `writer`, in 64 KiB chunks and constant memory.
    /// Returns the number of plaintext bytes. `nonce` must be fresh random bytes.
    pub fn seal_stream<R: Read, W: Write>(
        &self,
        mut reader: R,
        mut writer: W,
        aad: &[u8],
        nonce: [u8; STREAM_NONCE_LEN],
    ) -> Result<u64> {
        let io = |during| move |source| ProtectError::Io { during, source };
        writer
            .write_all(STREAM_MAGIC)
            .map_err(io("writing the sealed file"))?;
        writer
            .write_all(&nonce)
            .map_err(io("writing the sealed file"))?;
        let mut encryptor = EncryptorBE32::from_aead(self.seal_aead(), (&nonce).into());
        // One byte more than a chunk, to know whether the chunk in hand is the last one.
        let mut buf = vec![0u8; STREAM_CHUNK + 1];
        let mut held =
            read_full(&mut reader, &mut buf, 0).map_err(io("reading the file to seal"))?;
        let mut total = 0u64;
        while held > STREAM_CHUNK {
            let chunk = encryptor
                .encrypt_next(Payload {
                    msg: &buf[..STREAM_CHUNK],
                    aad,
                })
                .map_err(|_| ProtectError::StreamChunk {
                    chunk: total / STREAM_CHUNK as u64,
                })?;
            writer
                .write_all(&chunk)
                .map_err(io("writing the sealed file"))?;
            total += STREAM_CHUNK as u64;
            buf.copy_within(STREAM_CHUNK..held, 0);
            held = read_full(&mut reader, &mut buf, held - STREAM_CHUNK)
                .map_err(io("reading the file to seal"))?;
        }
        let last = encryptor
            .encrypt_last(Payload {
                msg: &buf[..held],
                aad,
            })
            .map_err(|_| ProtectError::StreamChunk {
                chunk: total / STREAM_CHUNK as u64,
            })?;
        writer
            .write_all(&last)
            .map_err(io("writing the sealed file"))?;
        writer.flush().map_err(io("writing the sealed file"))?;
        buf.zeroize();
        Ok(total + held as u64)
    }

    /// Opens a file sealed by [`DataKey::seal_stream`] for the same place, writing the plaintext
    /// into `writer`. Returns the number of plaintext bytes.
    pub fn open_stream<R: Read, W: Write>(
        &self,
        mut reader: R,
        mut writer: W,
        aad: &[u8],
    ) -> Result<u64> {
        let io = |during| move |source| ProtectError::Io { during, source };
        let mut header = [0u8; 4 + STREAM_NONCE_LEN];
        let got = read_full(&mut reader, &mut header, 0).map_err(io("reading the sealed file"))?;
        if got < header.len() {
            return Err(ProtectError::StreamHeader {
                reason: format!("only {got} bytes"),
            });
        }
        if &header[..4] != STREAM_MAGIC {
            return Err(ProtectError::StreamHeader {
                reason: "unknown magic bytes".to_owned(),
            });
        }
        let nonce: [u8; STREAM_NONCE_LEN] =
            header[4..]
                .try_into()
                .map_err(|_| ProtectError::StreamHeader {
                    reason: "short nonce".to_owned(),
                })?;
        let mut decryptor = DecryptorBE32::from_aead(self.seal_aead(), (&nonce).into());
        let sealed_chunk = STREAM_CHUNK + TAG_LEN;
        let mut buf = vec![0u8; sealed_chunk + 1];
        let mut held =
            read_full(&mut reader, &mut buf, 0).map_err(io("reading the sealed file"))?;
        let mut index = 0u64;
        let mut total = 0u64;
        while held > sealed_chunk {
            let mut plain = decryptor
                .decrypt_next(Payload {
                    msg: &buf[..sealed_chunk],
                    aad,
                })
                .map_err(|_| ProtectError::StreamChunk { chunk: index })?;
            writer
                .write_all(&plain)
                .map_err(io("writing the opened file"))?;
            plain.zeroize();
            total += STREAM_CHUNK as u64;
            index += 1;
            buf.copy_within(sealed_chunk..held, 0);
            held = read_full(&mut reader, &mut buf, held - sealed_chunk)
                .map_err(io("reading the sealed file"))?;
        }
        let mut plain = decryptor
            .decrypt_last(Payload {
                msg: &buf[..held],
                aad,
            })
            .map_err(|_| ProtectError::StreamChunk { chunk: index })?;
        writer
            .write_all(&plain)
            .map_err(io("writing the opened file"))?;
        writer.flush().map_err(io("writing the opened file"))?;
        total += plain.len() as u64;
        plain.zeroize();
        buf.zeroize();
        Ok(total)
    }
}

impl DataKey {
    /// Seals `inner` (a file's own key) under this key for the place named by `aad`: a file is
    /// sealed under a key of its own, kept only sealed in the row that names the file, so that
    /// deleting that row makes every copy of the file's bytes unreadable (crypto-shredding).
    pub fn seal_key(&self, inner: &DataKey, aad: &[u8], nonce: [u8; 24]) -> Vec<u8> {
        self.seal(&inner.0, aad, nonce)
    }

    /// Opens a key sealed by [`DataKey::seal_key`] for the same place.
    pub fn open_key(&self, sealed: &[u8], aad: &[u8]) -> Result<DataKey> {
        let mut bytes = self.open(sealed, aad)?;
        let key: std::result::Result<[u8; 32], _> = bytes.as_slice().try_into();
        bytes.zeroize();
        key.map(DataKey::from_bytes)
            .map_err(|_| ProtectError::SealedTampered)
    }

    /// Starts sealing a file that arrives in pieces (an upload being received), producing the
    /// same bytes as [`DataKey::seal_stream`] would for the whole file.
    pub fn file_sealer(&self, aad: &[u8], nonce: [u8; STREAM_NONCE_LEN]) -> FileSealer {
        FileSealer {
            encryptor: EncryptorBE32::from_aead(self.seal_aead(), (&nonce).into()),
            header: Some([&STREAM_MAGIC[..], &nonce[..]].concat()),
            aad: aad.to_vec(),
            held: Zeroizing::new(Vec::with_capacity(STREAM_CHUNK)),
            chunks: 0,
            plain_len: 0,
        }
    }
}

/// A file being sealed piece by piece, in constant memory (at most one chunk held). Feed the
/// plaintext to [`FileSealer::update`] and write what it returns; [`FileSealer::finish`] gives
/// the last chunk. Readable with [`DataKey::open_stream`].
pub struct FileSealer {
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    header: Option<Vec<u8>>,
    aad: Vec<u8>,
    /// Wiped when dropped, sealed or not.
    held: Zeroizing<Vec<u8>>,
    chunks: u64,
    plain_len: u64,
}

impl FileSealer {
    /// Takes more plaintext; returns the sealed bytes that are ready (possibly none).
    pub fn update(&mut self, mut plain: &[u8]) -> Result<Vec<u8>> {
        let mut out = self.header.take().unwrap_or_default();
        self.plain_len += plain.len() as u64;
        while !plain.is_empty() {
            // A full chunk is sealed only once a byte beyond it is known: the last chunk must be
            // sealed as the last.
            if self.held.len() == STREAM_CHUNK {
                let chunk = self
                    .encryptor
                    .encrypt_next(Payload {
                        msg: &self.held,
                        aad: &self.aad,
                    })
                    .map_err(|_| ProtectError::StreamChunk { chunk: self.chunks })?;
                out.extend_from_slice(&chunk);
                self.held.zeroize();
                self.chunks += 1;
            }
            let take = (STREAM_CHUNK - self.held.len()).min(plain.len());
            self.held.extend_from_slice(&plain[..take]);
            plain = &plain[take..];
        }
        Ok(out)
    }

    /// Seals what is held as the last chunk; returns those bytes and the plaintext length.
    pub fn finish(mut self) -> Result<(Vec<u8>, u64)> {
        // `encrypt_last` takes the encryptor; `held` is wiped when `self` is dropped.
        let mut out = self.header.take().unwrap_or_default();
        let last = self
            .encryptor
            .encrypt_last(Payload {
                msg: self.held.as_slice(),
                aad: &self.aad,
            })
            .map_err(|_| ProtectError::StreamChunk { chunk: self.chunks })?;
        out.extend_from_slice(&last);
        Ok((out, self.plain_len))
    }
}

/// Fills `buf[from..]` from `reader` until full or end of input; returns the bytes now held.
pub(crate) fn read_full<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    from: usize,
) -> std::io::Result<usize> {
    let mut held = from;
    while held < buf.len() {
        match reader.read(&mut buf[held..]) {
            Ok(0) => break,
            Ok(n) => held += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PLACE: &[u8] = b"form:3/instance:uuid:6f1c/path:/data/phone";

    /// (what, sealed value, key byte, place, expected error code)
    type Case = (&'static str, Vec<u8>, u8, &'static [u8], &'static str);

    fn key(byte: u8) -> DataKey {
        DataKey::from_bytes([byte; 32])
    }

    #[test]
    fn files_sealed_piece_by_piece_match_the_stream_and_open() {
        let aad = b"baraza/file";
        for len in [
            0usize,
            1,
            STREAM_CHUNK - 1,
            STREAM_CHUNK,
            STREAM_CHUNK + 1,
            3 * STREAM_CHUNK + 17,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut whole = Vec::new();
            key(1)
                .seal_stream(&plain[..], &mut whole, aad, [7; STREAM_NONCE_LEN])
                .unwrap();
            for piece in [1usize, 1000, STREAM_CHUNK, STREAM_CHUNK + 3] {
                let mut sealer = key(1).file_sealer(aad, [7; STREAM_NONCE_LEN]);
                let mut out = Vec::new();
                for part in plain.chunks(piece) {
                    out.extend(sealer.update(part).unwrap());
                }
                let (last, n) = sealer.finish().unwrap();
                out.extend(last);
                assert_eq!(n, len as u64);
                assert_eq!(out, whole, "length {len}, pieces of {piece}");
            }
            let mut opened = Vec::new();
            key(1).open_stream(&whole[..], &mut opened, aad).unwrap();
            assert_eq!(opened, plain);
        }
    }

    #[test]
    fn a_file_key_opens_only_with_its_key_and_place() {
        let file_key = key(9);
        let sealed = key(1).seal_key(&file_key, b"file:1:ab", [3; 24]);
        let opened = key(1).open_key(&sealed, b"file:1:ab").unwrap();
        assert_eq!(opened.0, file_key.0);
        assert_eq!(
            key(2).open_key(&sealed, b"file:1:ab").unwrap_err().code(),
            "sealed_wrong_key"
        );
        assert_eq!(
            key(1).open_key(&sealed, b"file:1:cd").unwrap_err().code(),
            "sealed_wrong_place"
        );
    }

    #[test]
    fn seal_open_round_trip() {
        for plaintext in [&b""[..], b"x", b"+23566123456", &[0u8; 1000]] {
            let sealed = key(1).seal(plaintext, PLACE, [2; 24]);
            assert_eq!(sealed.len(), HEADER_LEN + plaintext.len() + TAG_LEN);
            assert_eq!(sealed[0], SEAL_VERSION);
            assert_eq!(key(1).open(&sealed, PLACE).unwrap(), plaintext);
        }
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let sealed = key(1).seal(b"+23566123456", PLACE, [2; 24]);
        let mut body = sealed.clone();
        *body.last_mut().unwrap() ^= 0x80;
        let mut nonce = sealed.clone();
        nonce[HEADER_LEN - 1] ^= 1;
        let mut version = sealed.clone();
        version[0] = 9;
        let cases: [Case; 7] = [
            ("tampered tag", body, 1, PLACE, "sealed_tampered"),
            ("tampered nonce", nonce, 1, PLACE, "sealed_tampered"),
            (
                "wrong place",
                sealed.clone(),
                1,
                b"form:3/instance:uuid:6f1c/path:/data/name",
                "sealed_wrong_place",
            ),
            ("wrong key", sealed.clone(), 5, PLACE, "sealed_wrong_key"),
            (
                "truncated",
                sealed[..HEADER_LEN + 3].to_vec(),
                1,
                PLACE,
                "sealed_truncated",
            ),
            ("empty", Vec::new(), 1, PLACE, "sealed_truncated"),
            (
                "unknown version",
                version,
                1,
                PLACE,
                "sealed_version_unknown",
            ),
        ];
        for (name, value, k, aad, code) in cases {
            assert_eq!(key(k).open(&value, aad).unwrap_err().code(), code, "{name}");
        }
    }

    fn seal_file(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = key(1)
            .seal_stream(input, &mut out, b"attachment:9", [3; STREAM_NONCE_LEN])
            .unwrap();
        assert_eq!(n, input.len() as u64);
        out
    }

    #[test]
    fn stream_round_trips_at_chunk_edges() {
        let sizes = [
            0,
            1,
            STREAM_CHUNK - 1,
            STREAM_CHUNK,
            STREAM_CHUNK + 1,
            2 * STREAM_CHUNK,
            (1 << 20) + 5,
        ];
        for size in sizes {
            let input: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let sealed = seal_file(&input);
            let chunks = size.div_ceil(STREAM_CHUNK).max(1);
            assert_eq!(
                sealed.len(),
                4 + STREAM_NONCE_LEN + size + chunks * TAG_LEN,
                "size {size}"
            );
            let mut out = Vec::new();
            assert_eq!(
                key(1)
                    .open_stream(&sealed[..], &mut out, b"attachment:9")
                    .unwrap(),
                size as u64
            );
            assert_eq!(out, input, "size {size}");
        }
    }

    #[test]
    fn stream_detects_truncation_reordering_and_tampering() {
        let input: Vec<u8> = (0..(1usize << 20) + 5).map(|i| (i % 253) as u8).collect();
        let sealed = seal_file(&input);
        let start = 4 + STREAM_NONCE_LEN;
        let sc = STREAM_CHUNK + TAG_LEN;
        let mut swapped = sealed.clone();
        let (a, b) = swapped[start..start + 2 * sc].split_at_mut(sc);
        a.swap_with_slice(b);
        let mut flipped = sealed.clone();
        flipped[start + 3 * sc + 10] ^= 4;
        let cases: [(&str, Vec<u8>, &[u8], &str); 7] = [
            (
                "last chunk dropped",
                sealed[..sealed.len() - 21].to_vec(),
                b"attachment:9",
                "sealed_file_tampered",
            ),
            (
                "cut at chunk edge",
                sealed[..start + 2 * sc].to_vec(),
                b"attachment:9",
                "sealed_file_tampered",
            ),
            (
                "chunks swapped",
                swapped,
                b"attachment:9",
                "sealed_file_tampered",
            ),
            (
                "bit flipped",
                flipped,
                b"attachment:9",
                "sealed_file_tampered",
            ),
            (
                "other place",
                sealed.clone(),
                b"attachment:10",
                "sealed_file_tampered",
            ),
            (
                "no header",
                sealed[..10].to_vec(),
                b"attachment:9",
                "sealed_file_header",
            ),
            (
                "bad magic",
                [b"XXXX", &sealed[4..]].concat(),
                b"attachment:9",
                "sealed_file_header",
            ),
        ];
        for (name, value, aad, code) in cases {
            let err = key(1)
                .open_stream(&value[..], std::io::sink(), aad)
                .unwrap_err();
            assert_eq!(err.code(), code, "{name}");
        }
        let err = key(1)
            .open_stream(&sealed[..start + 2 * sc], std::io::sink(), b"attachment:9")
            .unwrap_err();
        assert!(
            matches!(err, ProtectError::StreamChunk { chunk: 1 }),
            "{err:?}"
        );
    }

    proptest! {
        #[test]
        fn prop_seal_open_round_trip(plain in proptest::collection::vec(any::<u8>(), 0..512),
                                     aad in proptest::collection::vec(any::<u8>(), 0..64),
                                     nonce in any::<[u8; 24]>()) {
            let sealed = key(4).seal(&plain, &aad, nonce);
            prop_assert_eq!(key(4).open(&sealed, &aad).unwrap(), plain);
        }

        #[test]
        fn prop_any_flipped_bit_fails(plain in proptest::collection::vec(any::<u8>(), 0..64),
                                      bit in any::<proptest::sample::Index>()) {
            let mut sealed = key(4).seal(&plain, b"place", [6; 24]);
            let bit = bit.index(sealed.len() * 8);
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(key(4).open(&sealed, b"place").is_err());
        }
    }
}
