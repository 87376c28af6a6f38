//! Envelope encryption. One master key per server (32 bytes that the operator keeps outside the
//! database) wraps one data key per project; data keys seal the values and files. A wrapped key
//! is bound to its key id (`project:12:v3`) as associated data, so it cannot be moved to another
//! project, and it records the fingerprint of the master key that wrapped it, so that a server
//! started with the wrong master key says so instead of "decryption failed". Rotating the master
//! key is [`rewrap`]: every data key is unwrapped with the old master key and wrapped with the new.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::{ProtectError, Result};

/// Length of every symmetric key of the crate.
pub const KEY_LEN: usize = 32;

const FINGERPRINT_LABEL: &[u8] = b"baraza-protect/master-key-fingerprint/v1\0";
const WRAP_LABEL: &[u8] = b"baraza-protect/wrap/v1\0";
const WRAPPED_PREFIX: &str = "v1";

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("hmac takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The server's master key: wraps the data keys, never touches data itself.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    /// A master key from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Reads a master key as it comes from a file or an environment variable: 64 hex digits or
    /// base64 (standard or URL-safe, padded or not) of 32 bytes, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let mut bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            hex::decode(text).map_err(|e| ProtectError::MasterKeyEncoding {
                reason: e.to_string(),
            })?
        } else {
            let unpadded = text.trim_end_matches('=');
            STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|e| ProtectError::MasterKeyEncoding {
                    reason: e.to_string(),
                })?
        };
        if bytes.len() != KEY_LEN {
            let found = bytes.len();
            bytes.zeroize();
            return Err(ProtectError::MasterKeyLength { found });
        }
        let mut key = [0u8; KEY_LEN];
        key.copy_from_slice(&bytes);
        bytes.zeroize();
        Ok(Self(key))
    }

    /// The master key's fingerprint: 16 hex digits, safe to print and store.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.fingerprint_bytes())
    }

    fn fingerprint_bytes(&self) -> [u8; 8] {
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_LABEL)
            .chain_update(self.0)
            .finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }

    fn aead(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.0))
    }

    /// Wraps a data key for `key_id` (such as `project:12:v3`); `nonce` must be fresh random
    /// bytes from the caller.
    pub fn wrap(&self, data_key: &DataKey, key_id: &str, nonce: [u8; 24]) -> WrappedKey {
        let fingerprint = self.fingerprint_bytes();
        let aad = wrap_aad(&fingerprint, key_id);
        let ciphertext = self
            .aead()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &data_key.0,
                    aad: &aad,
                },
            )
            // XChaCha20-Poly1305 fails only on messages longer than 256 GiB.
            .expect("a 32-byte message always encrypts");
        WrappedKey {
            fingerprint,
            nonce,
            ciphertext,
        }
    }

    /// Unwraps a data key wrapped for `key_id`.
    pub fn unwrap(&self, wrapped: &WrappedKey, key_id: &str) -> Result<DataKey> {
        let fingerprint = self.fingerprint_bytes();
        if fingerprint != wrapped.fingerprint {
            return Err(ProtectError::WrongMasterKey {
                expected: hex::encode(wrapped.fingerprint),
                found: hex::encode(fingerprint),
            });
        }
        let aad = wrap_aad(&fingerprint, key_id);
        let mut plain = self
            .aead()
            .decrypt(
                XNonce::from_slice(&wrapped.nonce),
                Payload {
                    msg: &wrapped.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| ProtectError::UnwrapFailed {
                key_id: key_id.to_owned(),
            })?;
        if plain.len() != KEY_LEN {
            plain.zeroize();
            return Err(ProtectError::UnwrapFailed {
                key_id: key_id.to_owned(),
            });
        }
        let mut key = [0u8; KEY_LEN];
        key.copy_from_slice(&plain);
        plain.zeroize();
        let data_key = DataKey::from_bytes(key);
        key.zeroize();
        Ok(data_key)
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.fingerprint())
    }
}

fn wrap_aad(fingerprint: &[u8; 8], key_id: &str) -> Vec<u8> {
    [WRAP_LABEL, fingerprint, key_id.as_bytes()].concat()
}

/// Moves a wrapped data key from one master key to another (master key rotation).
pub fn rewrap(
    old_master: &MasterKey,
    new_master: &MasterKey,
    wrapped: &WrappedKey,
    key_id: &str,
    nonce: [u8; 24],
) -> Result<WrappedKey> {
    let data_key = old_master.unwrap(wrapped, key_id)?;
    Ok(new_master.wrap(&data_key, key_id, nonce))
}

/// A project's data key: seals its values and files, and keys its blind indexes. The sub-keys
/// that sealing uses are derived once, when the key is made, not for every value.
#[derive(Clone)]
pub struct DataKey(pub(crate) [u8; KEY_LEN], pub(crate) SealKeys);

/// Sub-keys of a [`DataKey`] for sealing (see `seal.rs`).
#[derive(Clone)]
pub(crate) struct SealKeys {
    pub(crate) seal: [u8; KEY_LEN],
    pub(crate) check: [u8; KEY_LEN],
}

impl DataKey {
    /// A data key from bytes; a new key takes 32 fresh random bytes from the caller.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let derive = |label: &[u8]| hmac_sha256(&bytes, &[b"baraza-protect/derive/v1\0", label]);
        let keys = SealKeys {
            seal: derive(b"seal"),
            check: derive(b"seal-check"),
        };
        Self(bytes, keys)
    }

    /// A sub-key for one purpose, so that one secret per project serves several jobs without
    /// one use weakening another.
    pub(crate) fn derive(&self, label: &[u8]) -> [u8; KEY_LEN] {
        hmac_sha256(&self.0, &[b"baraza-protect/derive/v1\0", label])
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
        self.1.seal.zeroize();
        self.1.check.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A data key wrapped under a master key; safe to store next to the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    fingerprint: [u8; 8],
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl WrappedKey {
    /// Fingerprint of the master key that wrapped this key.
    pub fn master_fingerprint(&self) -> String {
        hex::encode(self.fingerprint)
    }

    /// Stable text form: `v1.<master fingerprint hex>.<base64 nonce>.<base64 ciphertext>`.
    pub fn to_text(&self) -> String {
        format!(
            "{WRAPPED_PREFIX}.{}.{}.{}",
            hex::encode(self.fingerprint),
            STANDARD.encode(self.nonce),
            STANDARD.encode(&self.ciphertext)
        )
    }

    /// Reads the text form written by [`WrappedKey::to_text`].
    pub fn from_text(text: &str) -> Result<Self> {
        let bad = |reason: &str| ProtectError::WrappedKeyFormat {
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = text.trim().split('.').collect();
        let [version, fingerprint, nonce, ciphertext] = parts.as_slice() else {
            return Err(bad("expected four parts separated by dots"));
        };
        if *version != WRAPPED_PREFIX {
            return Err(bad(&format!("unknown version `{version}`")));
        }
        let fingerprint: [u8; 8] = hex::decode(fingerprint)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("fingerprint is not 16 hex digits"))?;
        let nonce: [u8; 24] = STANDARD
            .decode(nonce)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("nonce is not 24 bytes of base64"))?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| bad("ciphertext is not base64"))?;
        if ciphertext.len() != KEY_LEN + 16 {
            return Err(bad("ciphertext is not 48 bytes"));
        }
        Ok(Self {
            fingerprint,
            nonce,
            ciphertext,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn master_key_parses_hex_and_base64() {
        let reference = MasterKey::parse(HEX).unwrap().fingerprint();
        let raw: Vec<u8> = (0u8..32).collect();
        let cases = [
            HEX.to_uppercase(),
            format!("  {HEX}\n"),
            STANDARD.encode(&raw),
            STANDARD_NO_PAD.encode(&raw),
            URL_SAFE_NO_PAD.encode(&raw),
            format!("{}\n", STANDARD.encode(&raw)),
        ];
        for text in cases {
            let parsed = MasterKey::parse(&text).unwrap();
            assert_eq!(parsed.fingerprint(), reference, "{text:?}");
        }
    }

    #[test]
    fn master_key_refuses_bad_text() {
        let cases: [(&str, &str); 5] = [
            ("", "master_key_invalid"),
            ("not a key at all!", "master_key_invalid"),
            (&HEX[..62], "master_key_invalid"),
            ("AAECAwQFBgcICQoLDA0ODw==", "master_key_invalid"),
            (
                "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "master_key_invalid",
            ),
        ];
        for (text, code) in cases {
            let err = MasterKey::parse(text).unwrap_err();
            assert_eq!(err.code(), code, "{text:?}");
        }
        assert!(matches!(
            MasterKey::parse("AAECAwQFBgcICQoLDA0ODw==").unwrap_err(),
            ProtectError::MasterKeyLength { found: 16 }
        ));
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        let master = MasterKey::from_bytes([0xab; 32]);
        let shown = format!("{master:?} {:?}", DataKey::from_bytes([0xcd; 32]));
        assert!(
            !shown.contains("abab") && !shown.contains("cdcd") && !shown.contains("171"),
            "{shown}"
        );
        assert!(shown.contains(&master.fingerprint()));
    }

    #[test]
    fn wrap_unwrap_and_text_round_trip() {
        let master = MasterKey::from_bytes([7; 32]);
        let data = DataKey::from_bytes([9; 32]);
        let wrapped = master.wrap(&data, "project:12:v3", [1; 24]);
        let text = wrapped.to_text();
        assert!(
            text.starts_with(&format!("v1.{}.", master.fingerprint())),
            "{text}"
        );
        let back = WrappedKey::from_text(&text).unwrap();
        assert_eq!(back, wrapped);
        assert_eq!(master.unwrap(&back, "project:12:v3").unwrap().0, [9; 32]);
    }

    #[test]
    fn unwrap_failures_are_told_apart() {
        let master = MasterKey::from_bytes([7; 32]);
        let other = MasterKey::from_bytes([8; 32]);
        let wrapped = master.wrap(&DataKey::from_bytes([9; 32]), "project:12:v3", [1; 24]);
        let mut altered = wrapped.clone();
        altered.ciphertext[3] ^= 1;
        let cases: [(&MasterKey, &WrappedKey, &str, &str); 3] = [
            (&other, &wrapped, "project:12:v3", "wrong_master_key"),
            (&master, &wrapped, "project:13:v3", "unwrap_failed"),
            (&master, &altered, "project:12:v3", "unwrap_failed"),
        ];
        for (key, wrapped, key_id, code) in cases {
            assert_eq!(
                key.unwrap(wrapped, key_id).unwrap_err().code(),
                code,
                "{key_id}"
            );
        }
        let message = other
            .unwrap(&wrapped, "project:12:v3")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&master.fingerprint()) && message.contains(&other.fingerprint()),
            "{message}"
        );
    }

    #[test]
    fn wrapped_text_refuses_garbage() {
        let good = MasterKey::from_bytes([7; 32])
            .wrap(&DataKey::from_bytes([9; 32]), "k", [1; 24])
            .to_text();
        let cases = [
            String::new(),
            "v1.abc".to_owned(),
            good.replacen("v1.", "v2.", 1),
            good.replacen('.', ".zz", 1),
            format!("{good}AAAA"),
            good.replace(".", ".."),
        ];
        for text in cases {
            assert_eq!(
                WrappedKey::from_text(&text).unwrap_err().code(),
                "wrapped_key_malformed",
                "{text}"
            );
        }
    }

    #[test]
    fn rewrap_moves_a_key_to_the_new_master() {
        let old = MasterKey::from_bytes([1; 32]);
        let new = MasterKey::from_bytes([2; 32]);
        let wrapped = old.wrap(&DataKey::from_bytes([3; 32]), "project:1:v1", [4; 24]);
        let moved = rewrap(&old, &new, &wrapped, "project:1:v1", [5; 24]).unwrap();
        assert_eq!(moved.master_fingerprint(), new.fingerprint());
        assert_eq!(new.unwrap(&moved, "project:1:v1").unwrap().0, [3; 32]);
        assert_eq!(
            old.unwrap(&moved, "project:1:v1").unwrap_err().code(),
            "wrong_master_key"
        );
        assert_eq!(
            rewrap(&new, &old, &wrapped, "project:1:v1", [5; 24])
                .unwrap_err()
                .code(),
            "wrong_master_key"
        );
    }
}
