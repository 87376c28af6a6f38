//! ODK encrypted forms, as ODK Collect (and Enketo) encrypt and ODK Central decrypts.
//!
//! When a form has a `public_key` setting, ODK Collect sends, instead of the submission, a
//! *manifest* (`<data encrypted="yes" id=… version=…>`) and the files it names, each encrypted:
//!
//! 1. a fresh 256-bit AES key, encrypted with the form's RSA public key using OAEP with SHA-256;
//!    the MGF1 digest depends on the crypto provider of the phone (SHA-256 with Bouncy Castle's
//!    `OAEPWithSHA256AndMGF1Padding`, SHA-1 with the JCE's and with Enketo), so both are tried;
//! 2. the IV seed, MD5(instanceID as UTF-8 ‖ AES key); before each file, byte `i % 16` of the
//!    seed is incremented (wrapping) for the `i`-th file, cumulatively, and the seed is the IV:
//!    the media files first in manifest order, then `submission.xml` last;
//! 3. each file encrypted with AES-256-CFB (128-bit segments) and PKCS#5 padding;
//! 4. the element signature: MD5 over the lines (each ended by `\n`) form id, version (only if
//!    the form has one), the base64 encrypted key, the instanceID, then `name::md5hex` for each
//!    media file and finally for the submission file, names without `.enc` and MD5s of the
//!    *plaintext*, lowercase hex; the 16-byte digest is RSA-OAEP encrypted like the key.
//!
//! Read from ODK Collect's `EncryptionUtils.java`, ODK Central's `lib/util/crypto.js` (with
//! `quarantine/oaep.js`) and Enketo's `encryptor.js`. Central does not check the element
//! signature; we do, and report a mismatch.
//!
//! A form that has no key gets one here: RSA-2048 from the caller's RNG, the public key as the
//! base64 DER SubjectPublicKeyInfo that goes into the XLSForm `public_key` setting, and the
//! private key sealed under a passphrase that the server never stores (Argon2id, then
//! XChaCha20-Poly1305 over the PKCS#8 DER). An organisation's existing key is read from PEM.

use std::fmt;
use std::io::{Read, Write};

use aes::Aes256;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use cfb_mode::cipher::KeyIvInit;
use cfb_mode::BufDecryptor;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use md5::{Digest, Md5};
use rand_core::CryptoRngCore;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{ProtectError, Result};

/// Size in bits of the form keys made here.
pub const FORM_KEY_BITS: usize = 2048;

// ---------------------------------------------------------------------------------------------
// The manifest

/// The submission manifest that ODK Collect sends in place of an encrypted submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionManifest {
    /// The form id (`id` attribute).
    pub form_id: String,
    /// The form version, when the form has one (`version` attribute).
    pub version: Option<String>,
    /// The RSA-encrypted AES key, base64, as sent.
    pub base64_encrypted_key: String,
    /// `meta/instanceID`, such as `uuid:…`.
    pub instance_id: String,
    /// The encrypted media files, in manifest order, with their `.enc` suffix.
    pub media_files: Vec<String>,
    /// The encrypted submission file, usually `submission.xml.enc`.
    pub encrypted_xml_file: String,
    /// The RSA-encrypted element signature, base64, when sent.
    pub base64_encrypted_element_signature: Option<String>,
}

impl SubmissionManifest {
    /// Reads a manifest; refuses DTDs, and file names that hold a path.
    pub fn parse(xml: &str) -> Result<Self> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(xml, options).map_err(|e| {
            ProtectError::ManifestXml {
                reason: e.to_string(),
            }
        })?;
        let root = doc.root_element();
        let encrypted = root.attribute("encrypted").unwrap_or_default();
        if root.tag_name().name() != "data" || !encrypted.eq_ignore_ascii_case("yes") {
            return Err(ProtectError::NotEncrypted {
                root: root.tag_name().name().to_owned(),
                encrypted: encrypted.to_owned(),
            });
        }
        let form_id = root
            .attribute("id")
            .filter(|id| !id.trim().is_empty())
            .ok_or(ProtectError::ManifestMissing {
                what: "form id (`id` attribute)",
            })?
            .to_owned();
        let version = root.attribute("version").map(str::to_owned);
        // Only the envelope's own elements: anything else is not an envelope this code knows.
        if let Some(other) = root.children().find(|n| {
            n.is_element()
                && !matches!(
                    n.tag_name().name(),
                    "base64EncryptedKey"
                        | "meta"
                        | "media"
                        | "encryptedXmlFile"
                        | "base64EncryptedElementSignature"
                )
        }) {
            return Err(ProtectError::ManifestUnexpected {
                element: other.tag_name().name().chars().take(64).collect(),
            });
        }
        let text_of = |node: roxmltree::Node| node.text().unwrap_or_default().trim().to_owned();
        let child = |name: &str| {
            root.children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
        };
        let base64_encrypted_key = child("base64EncryptedKey")
            .map(text_of)
            .filter(|t| !t.is_empty())
            .ok_or(ProtectError::ManifestMissing {
                what: "base64EncryptedKey",
            })?;
        let instance_id = child("meta")
            .and_then(|meta| {
                meta.children()
                    .find(|n| n.is_element() && n.tag_name().name() == "instanceID")
            })
            .map(text_of)
            .filter(|t| !t.is_empty())
            .ok_or(ProtectError::ManifestMissing {
                what: "meta/instanceID",
            })?;
        let mut media_files = Vec::new();
        for media in root
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "media")
        {
            for file in media
                .children()
                .filter(|n| n.is_element() && n.tag_name().name() == "file")
            {
                media_files.push(checked_file_name(text_of(file))?);
            }
        }
        let encrypted_xml_file = child("encryptedXmlFile")
            .map(text_of)
            .filter(|t| !t.is_empty())
            .ok_or(ProtectError::ManifestMissing {
                what: "encryptedXmlFile",
            })?;
        let encrypted_xml_file = checked_file_name(encrypted_xml_file)?;
        let base64_encrypted_element_signature = child("base64EncryptedElementSignature")
            .map(text_of)
            .filter(|t| !t.is_empty());
        Ok(Self {
            form_id,
            version,
            base64_encrypted_key,
            instance_id,
            media_files,
            encrypted_xml_file,
            base64_encrypted_element_signature,
        })
    }

    /// Every encrypted file of the submission in decryption order: the media files, then the
    /// submission file. The position in this list is the file's IV index.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.media_files
            .iter()
            .chain(std::iter::once(&self.encrypted_xml_file))
            .map(String::as_str)
    }
}

fn checked_file_name(name: String) -> Result<String> {
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(ProtectError::ManifestXml {
            reason: format!("file name `{name}` is empty or holds a path"),
        });
    }
    Ok(name)
}

/// A file's name as it was before encryption (without `.enc`).
fn plain_name(name: &str) -> &str {
    name.strip_suffix(".enc").unwrap_or(name)
}

// ---------------------------------------------------------------------------------------------
// The form's private key

/// Which MGF1 digest a phone used with RSA-OAEP (the OAEP digest is SHA-256 either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OaepMgf {
    /// MGF1 with SHA-256 (Bouncy Castle's `OAEPWithSHA256AndMGF1Padding`).
    Sha256,
    /// MGF1 with SHA-1 (the JCE's `OAEPWithSHA-256AndMGF1Padding`, Enketo).
    Sha1,
}

/// A form's RSA private key, which opens its encrypted submissions.
#[derive(Clone)]
pub struct FormPrivateKey(RsaPrivateKey);

impl fmt::Debug for FormPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FormPrivateKey(..)")
    }
}

impl FormPrivateKey {
    /// Makes a new RSA-2048 key pair with the caller's random number generator.
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Result<Self> {
        RsaPrivateKey::new(rng, FORM_KEY_BITS)
            .map(Self)
            .map_err(|e| ProtectError::FormKey {
                during: "generated",
                reason: e.to_string(),
            })
    }

    /// Reads a private key in PEM, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`), as organisations already using ODK keep it.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let bad = |reason: String| ProtectError::PrivateKeyFormat { reason };
        let pem = pem.trim();
        let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| bad(e.to_string()))?
        } else if pem.contains("BEGIN PRIVATE KEY") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| bad(e.to_string()))?
        } else if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            return Err(bad(
                "the PEM is itself encrypted; remove its passphrase with `openssl pkey` first"
                    .to_owned(),
            ));
        } else {
            return Err(bad(
                "no `BEGIN PRIVATE KEY` nor `BEGIN RSA PRIVATE KEY` line".to_owned(),
            ));
        };
        key.validate().map_err(|e| bad(e.to_string()))?;
        Ok(Self(key))
    }

    /// The public key as ODK wants it in the XLSForm `public_key` setting: base64 of the DER
    /// SubjectPublicKeyInfo, on one line.
    pub fn public_key_base64(&self) -> Result<String> {
        let der = RsaPublicKey::from(&self.0)
            .to_public_key_der()
            .map_err(|e| ProtectError::FormKey {
                during: "exported",
                reason: e.to_string(),
            })?;
        Ok(STANDARD.encode(der.as_bytes()))
    }

    /// The private key in PKCS#8 PEM, for an organisation that wants to keep a copy.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| ProtectError::FormKey {
                during: "exported",
                reason: e.to_string(),
            })
    }

    /// RSA-OAEP (SHA-256) decryption, trying MGF1 with SHA-256, then with SHA-1.
    fn oaep_decrypt(&self, ciphertext: &[u8]) -> Option<(Zeroizing<Vec<u8>>, OaepMgf)> {
        if let Ok(plain) = self.0.decrypt(Oaep::new::<sha2::Sha256>(), ciphertext) {
            return Some((Zeroizing::new(plain), OaepMgf::Sha256));
        }
        self.0
            .decrypt(
                Oaep::new_with_mgf_hash::<sha2::Sha256, sha1::Sha1>(),
                ciphertext,
            )
            .ok()
            .map(|plain| (Zeroizing::new(plain), OaepMgf::Sha1))
    }

    /// Seals this key under `passphrase` (Argon2id with the caller's `salt`, then
    /// XChaCha20-Poly1305 with the caller's `nonce`); `hint` is kept in clear to remind the
    /// holder of the passphrase, and is bound to the sealed key.
    pub fn seal(
        &self,
        passphrase: &str,
        hint: &str,
        params: KdfParams,
        salt: [u8; 16],
        nonce: [u8; 24],
    ) -> Result<SealedFormKey> {
        if passphrase.is_empty() {
            return Err(ProtectError::EmptyPassphrase);
        }
        let der = self.0.to_pkcs8_der().map_err(|e| ProtectError::FormKey {
            during: "exported",
            reason: e.to_string(),
        })?;
        let key = passphrase_key(passphrase, params, &salt)?;
        let aad = sealed_key_aad(params, &salt, hint);
        let ciphertext = XChaCha20Poly1305::new(Key::from_slice(&*key))
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: der.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| ProtectError::FormKey {
                during: "sealed",
                reason: "encryption failed".to_owned(),
            })?;
        Ok(SealedFormKey {
            params,
            salt,
            nonce,
            hint: hint.to_owned(),
            ciphertext,
        })
    }
}

/// Argon2id cost parameters of a sealed form key; stored with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about a quarter of a second on a small server, paid only when
    /// someone decrypts.
    pub const RECOMMENDED: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
}

fn passphrase_key(passphrase: &str, params: KdfParams, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let bad = |e: argon2::Error| ProtectError::SealedKeyFormat {
        reason: format!("argon2 parameters: {e}"),
    };
    let argon_params =
        argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(bad)?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut *key)
        .map_err(bad)?;
    Ok(key)
}

fn sealed_key_aad(params: KdfParams, salt: &[u8; 16], hint: &str) -> Vec<u8> {
    let mut aad = b"baraza-protect/odk-form-key/v1\0".to_vec();
    for n in [params.m_cost_kib, params.t_cost, params.p_cost] {
        aad.extend_from_slice(&n.to_le_bytes());
    }
    aad.extend_from_slice(salt);
    aad.extend_from_slice(hint.as_bytes());
    aad
}

/// A form's private key sealed under a passphrase; safe to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedFormKey {
    params: KdfParams,
    salt: [u8; 16],
    nonce: [u8; 24],
    hint: String,
    ciphertext: Vec<u8>,
}

impl SealedFormKey {
    /// The passphrase hint.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// Opens the key with its passphrase.
    pub fn open(&self, passphrase: &str) -> Result<FormPrivateKey> {
        if passphrase.is_empty() {
            return Err(ProtectError::EmptyPassphrase);
        }
        let key = passphrase_key(passphrase, self.params, &self.salt)?;
        let aad = sealed_key_aad(self.params, &self.salt, &self.hint);
        let der = XChaCha20Poly1305::new(Key::from_slice(&*key))
            .decrypt(
                XNonce::from_slice(&self.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| ProtectError::WrongPassphrase {
                hint: self.hint.clone(),
            })?;
        RsaPrivateKey::from_pkcs8_der(&der)
            .map(FormPrivateKey)
            .map_err(|e| ProtectError::SealedKeyFormat {
                reason: e.to_string(),
            })
    }

    /// Stable text form:
    /// `v1.argon2id.<m>.<t>.<p>.<base64 salt>.<base64 nonce>.<base64url hint>.<base64 ciphertext>`.
    pub fn to_text(&self) -> String {
        format!(
            "v1.argon2id.{}.{}.{}.{}.{}.{}.{}",
            self.params.m_cost_kib,
            self.params.t_cost,
            self.params.p_cost,
            STANDARD.encode(self.salt),
            STANDARD.encode(self.nonce),
            URL_SAFE_NO_PAD.encode(self.hint.as_bytes()),
            STANDARD.encode(&self.ciphertext)
        )
    }

    /// Reads the text form written by [`SealedFormKey::to_text`].
    pub fn from_text(text: &str) -> Result<Self> {
        let bad = |reason: &str| ProtectError::SealedKeyFormat {
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = text.trim().split('.').collect();
        let ["v1", "argon2id", m, t, p, salt, nonce, hint, ciphertext] = parts.as_slice() else {
            return Err(bad(
                "expected `v1.argon2id.` and seven more parts separated by dots",
            ));
        };
        let number = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| bad("argon2 cost is not a number"))
        };
        let params = KdfParams {
            m_cost_kib: number(m)?,
            t_cost: number(t)?,
            p_cost: number(p)?,
        };
        // Costs far above what this crate writes would only make opening the key a way to
        // exhaust the server's memory or time.
        if params.m_cost_kib > 1024 * 1024 || params.t_cost > 64 || params.p_cost > 64 {
            return Err(bad("argon2 costs are beyond what this server accepts"));
        }
        let salt = STANDARD
            .decode(salt)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("salt is not 16 bytes of base64"))?;
        let nonce = STANDARD
            .decode(nonce)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("nonce is not 24 bytes of base64"))?;
        let hint = URL_SAFE_NO_PAD
            .decode(hint)
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| bad("hint is not base64 of UTF-8 text"))?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| bad("ciphertext is not base64"))?;
        Ok(Self {
            params,
            salt,
            nonce,
            hint,
            ciphertext,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Decryption

/// A decrypted file's name (without `.enc`), length and MD5, for the signature check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptedFile {
    /// Name before encryption.
    pub name: String,
    /// Plaintext bytes.
    pub len: u64,
    /// MD5 of the plaintext, lowercase hex, as in the element signature.
    pub md5_hex: String,
}

/// Decrypts the files of one encrypted submission, in constant memory.
pub struct SubmissionDecryptor<'k> {
    private_key: &'k FormPrivateKey,
    manifest: SubmissionManifest,
    aes_key: Zeroizing<[u8; 32]>,
    seed: [u8; 16],
    mgf: OaepMgf,
}

impl fmt::Debug for SubmissionDecryptor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmissionDecryptor")
            .field("manifest", &self.manifest)
            .field("mgf", &self.mgf)
            .finish()
    }
}

impl<'k> SubmissionDecryptor<'k> {
    /// Opens the submission's AES key with the form's private key.
    pub fn new(private_key: &'k FormPrivateKey, manifest: SubmissionManifest) -> Result<Self> {
        let encrypted = STANDARD
            .decode(manifest.base64_encrypted_key.as_bytes())
            .map_err(|_| ProtectError::ManifestBase64 {
                field: "base64EncryptedKey",
            })?;
        let undecryptable = || ProtectError::SubmissionKeyUndecryptable {
            form_id: manifest.form_id.clone(),
        };
        let (plain, mgf) = private_key
            .oaep_decrypt(&encrypted)
            .ok_or_else(undecryptable)?;
        let aes_key: [u8; 32] = plain.as_slice().try_into().map_err(|_| undecryptable())?;
        let aes_key = Zeroizing::new(aes_key);
        let seed: [u8; 16] = Md5::new()
            .chain_update(manifest.instance_id.as_bytes())
            .chain_update(*aes_key)
            .finalize()
            .into();
        Ok(Self {
            private_key,
            manifest,
            aes_key,
            seed,
            mgf,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &SubmissionManifest {
        &self.manifest
    }

    /// Which MGF1 digest the phone used.
    pub fn mgf(&self) -> OaepMgf {
        self.mgf
    }

    /// The IV of the `index`-th file of [`SubmissionManifest::files`].
    pub fn iv(&self, index: usize) -> [u8; 16] {
        let mut iv = self.seed;
        for i in 0..=index {
            iv[i % 16] = iv[i % 16].wrapping_add(1);
        }
        iv
    }

    /// Decrypts the file named `name` in the manifest from `reader` into `writer`.
    pub fn decrypt_file<R: Read, W: Write>(
        &self,
        name: &str,
        mut reader: R,
        mut writer: W,
    ) -> Result<DecryptedFile> {
        let index = self
            .manifest
            .files()
            .position(|f| f == name)
            .ok_or_else(|| ProtectError::FileUndecryptable {
                name: name.to_owned(),
                reason: "the submission's manifest does not name it",
            })?;
        let io = |during| move |source| ProtectError::Io { during, source };
        let undecryptable = |reason| ProtectError::FileUndecryptable {
            name: name.to_owned(),
            reason,
        };
        let mut cipher =
            BufDecryptor::<Aes256>::new(&(*self.aes_key).into(), &self.iv(index).into());
        let mut md5 = Md5::new();
        let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
        // Decrypted bytes not yet written: the last 16 may be padding.
        let mut pending = Zeroizing::new(Vec::with_capacity(buf.len() + 16));
        let mut total_in = 0u64;
        let mut total_out = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io("reading an encrypted file")(e)),
            };
            total_in += n as u64;
            cipher.decrypt(&mut buf[..n]);
            pending.extend_from_slice(&buf[..n]);
            if pending.len() > 16 {
                let ready = pending.len() - 16;
                writer
                    .write_all(&pending[..ready])
                    .map_err(io("writing a decrypted file"))?;
                md5.update(&pending[..ready]);
                total_out += ready as u64;
                pending.drain(..ready);
            }
        }
        if total_in == 0 || !total_in.is_multiple_of(16) {
            return Err(undecryptable(
                "its length is not a positive multiple of 16 bytes",
            ));
        }
        let pad = usize::from(pending[15]);
        if pad == 0 || pad > 16 || !pending[16 - pad..].iter().all(|&b| usize::from(b) == pad) {
            return Err(undecryptable(
                "its padding is wrong, the sign of an altered file or a wrong key",
            ));
        }
        let tail = &pending[..16 - pad];
        writer
            .write_all(tail)
            .map_err(io("writing a decrypted file"))?;
        writer.flush().map_err(io("writing a decrypted file"))?;
        md5.update(tail);
        total_out += tail.len() as u64;
        Ok(DecryptedFile {
            name: plain_name(name).to_owned(),
            len: total_out,
            md5_hex: hex::encode(md5.finalize()),
        })
    }

    /// Checks the element signature against the decrypted files, given in the order of
    /// [`SubmissionManifest::files`] (media files, then the submission file).
    pub fn verify_signature(&self, files: &[DecryptedFile]) -> Result<()> {
        let m = &self.manifest;
        let mismatch = || ProtectError::SignatureMismatch {
            instance_id: m.instance_id.clone(),
        };
        let signature = m.base64_encrypted_element_signature.as_deref().ok_or(
            ProtectError::ManifestMissing {
                what: "base64EncryptedElementSignature",
            },
        )?;
        let encrypted =
            STANDARD
                .decode(signature.as_bytes())
                .map_err(|_| ProtectError::ManifestBase64 {
                    field: "base64EncryptedElementSignature",
                })?;
        let expected_names: Vec<&str> = m.files().map(plain_name).collect();
        let given_names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        if expected_names != given_names {
            return Err(mismatch());
        }
        let mut source = String::new();
        source.push_str(&m.form_id);
        source.push('\n');
        if let Some(version) = &m.version {
            source.push_str(version);
            source.push('\n');
        }
        source.push_str(&m.base64_encrypted_key);
        source.push('\n');
        source.push_str(&m.instance_id);
        source.push('\n');
        for file in files {
            source.push_str(&format!("{}::{}\n", file.name, file.md5_hex));
        }
        let digest = Md5::digest(source.as_bytes());
        let (signed, _) = self
            .private_key
            .oaep_decrypt(&encrypted)
            .ok_or_else(mismatch)?;
        if signed.len() == digest.len() && bool::from(signed.as_slice().ct_eq(digest.as_slice())) {
            Ok(())
        } else {
            Err(mismatch())
        }
    }
}

impl Drop for SubmissionDecryptor<'_> {
    fn drop(&mut self) {
        self.seed.zeroize();
    }
}

/// A submission decrypted in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedSubmission {
    /// The manifest it came with.
    pub manifest: SubmissionManifest,
    /// The submission XML.
    pub xml: Vec<u8>,
    /// The media files, in manifest order, by their name before encryption.
    pub media: Vec<(String, Vec<u8>)>,
    /// Which MGF1 digest the phone used.
    pub mgf: OaepMgf,
}

impl fmt::Debug for DecryptedSubmission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PRIVACY: the decrypted content is personal data; Debug shows only its shape.
        f.debug_struct("DecryptedSubmission")
            .field("manifest", &self.manifest)
            .field("xml_len", &self.xml.len())
            .field(
                "media",
                &self
                    .media
                    .iter()
                    .map(|(n, d)| (n, d.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Decrypts a whole submission in memory and checks its signature: `manifest_xml` is what
/// ODK Collect sent as the submission, `file` gives the bytes of each encrypted file by name.
pub fn decrypt_submission<'a>(
    private_key: &FormPrivateKey,
    manifest_xml: &str,
    file: impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<DecryptedSubmission> {
    let manifest = SubmissionManifest::parse(manifest_xml)?;
    let decryptor = SubmissionDecryptor::new(private_key, manifest)?;
    let mut decrypted = Vec::new();
    let mut contents = Vec::new();
    for name in decryptor.manifest().files() {
        let bytes = file(name).ok_or_else(|| ProtectError::MissingMediaFile {
            name: name.to_owned(),
        })?;
        let mut out = Vec::with_capacity(bytes.len());
        decrypted.push(decryptor.decrypt_file(name, bytes, &mut out)?);
        contents.push(out);
    }
    decryptor.verify_signature(&decrypted)?;
    let xml = contents.pop().unwrap_or_default();
    let media = decrypted
        .into_iter()
        .map(|f| f.name)
        .zip(contents)
        .collect();
    Ok(DecryptedSubmission {
        manifest: decryptor.manifest().clone(),
        xml,
        media,
        mgf: decryptor.mgf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const KEY: &str = "c2VjcmV0";

    fn manifest(body: &str) -> String {
        format!(
            r#"<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="f" version="7" encrypted="yes">{body}</data>"#
        )
    }

    fn full() -> String {
        manifest(&format!(
            "<base64EncryptedKey> {KEY} </base64EncryptedKey>\
             <orx:meta xmlns:orx=\"http://openrosa.org/xforms\"><orx:instanceID>uuid:1</orx:instanceID></orx:meta>\n\
             <media><file>a.jpg.enc</file></media>\n<media><file>b.mp3.enc</file><file>c.png.enc</file></media>\
             <encryptedXmlFile>submission.xml.enc</encryptedXmlFile>\
             <base64EncryptedElementSignature>c2ln</base64EncryptedElementSignature>"
        ))
    }

    #[test]
    fn refuses_unknown_envelope_elements() {
        let xml = full().replace("</data>", "<nom>x</nom></data>");
        assert!(matches!(
            SubmissionManifest::parse(&xml),
            Err(ProtectError::ManifestUnexpected { element }) if element == "nom"
        ));
    }

    #[test]
    fn parses_a_collect_manifest() {
        let m = SubmissionManifest::parse(&full()).unwrap();
        assert_eq!(m.form_id, "f");
        assert_eq!(m.version.as_deref(), Some("7"));
        assert_eq!(m.base64_encrypted_key, KEY);
        assert_eq!(m.instance_id, "uuid:1");
        assert_eq!(
            m.files().collect::<Vec<_>>(),
            ["a.jpg.enc", "b.mp3.enc", "c.png.enc", "submission.xml.enc"]
        );
        assert_eq!(
            m.base64_encrypted_element_signature.as_deref(),
            Some("c2ln")
        );
    }

    #[test]
    fn refuses_bad_manifests() {
        let good = full();
        let cases = [
            ("not xml", "<data".to_owned(), "odk_manifest_xml"),
            (
                "dtd",
                format!("<!DOCTYPE data [<!ENTITY x \"y\">]>{good}"),
                "odk_manifest_xml",
            ),
            (
                "plain submission",
                "<data id=\"f\"><name>x</name></data>".to_owned(),
                "odk_not_encrypted",
            ),
            (
                "no id",
                good.replace(" id=\"f\"", ""),
                "odk_manifest_incomplete",
            ),
            (
                "no key",
                good.replace(
                    &format!("<base64EncryptedKey> {KEY} </base64EncryptedKey>"),
                    "",
                ),
                "odk_manifest_incomplete",
            ),
            (
                "no instance id",
                good.replace("instanceID", "deprecatedID"),
                "odk_manifest_incomplete",
            ),
            (
                "no xml file",
                good.replace(
                    "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>",
                    "",
                ),
                "odk_manifest_incomplete",
            ),
            (
                "unknown element",
                good.replace("base64EncryptedKey", "other"),
                "odk_manifest_unexpected",
            ),
            (
                "path in name",
                good.replace("a.jpg.enc", "../../etc/passwd"),
                "odk_manifest_xml",
            ),
        ];
        for (what, xml, code) in cases {
            assert_eq!(
                SubmissionManifest::parse(&xml).unwrap_err().code(),
                code,
                "{what}"
            );
        }
    }

    #[test]
    fn ivs_increment_the_seed_cumulatively() {
        let key = FormPrivateKey(test_key());
        let decryptor = SubmissionDecryptor {
            private_key: &key,
            manifest: SubmissionManifest::parse(&full()).unwrap(),
            aes_key: Zeroizing::new([0; 32]),
            seed: [0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            mgf: OaepMgf::Sha256,
        };
        let cases: [(usize, [u8; 16]); 4] = [
            (0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
            (1, [0, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
            (15, [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
            (16, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
        ];
        for (index, iv) in cases {
            assert_eq!(decryptor.iv(index), iv, "file {index}");
        }
    }

    fn test_key() -> RsaPrivateKey {
        // A small key keeps the test fast; real form keys are 2048 bits.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        RsaPrivateKey::new(&mut rng, 1024).unwrap()
    }

    #[test]
    fn generated_key_exports_an_odk_public_key_and_opens_both_oaep_variants() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let key = FormPrivateKey::generate(&mut rng).unwrap();
        assert_eq!(rsa::traits::PublicKeyParts::size(&key.0), FORM_KEY_BITS / 8);
        let spki = STANDARD.decode(key.public_key_base64().unwrap()).unwrap();
        let public = rsa::pkcs8::DecodePublicKey::from_public_key_der(&spki)
            .map(|k: RsaPublicKey| k)
            .unwrap();
        let sha256 = public
            .encrypt(&mut rng, Oaep::new::<sha2::Sha256>(), &[5; 32])
            .unwrap();
        let sha1 = public
            .encrypt(
                &mut rng,
                Oaep::new_with_mgf_hash::<sha2::Sha256, sha1::Sha1>(),
                &[6; 32],
            )
            .unwrap();
        let (plain, mgf) = key.oaep_decrypt(&sha256).unwrap();
        assert_eq!((plain.as_slice(), mgf), (&[5u8; 32][..], OaepMgf::Sha256));
        let (plain, mgf) = key.oaep_decrypt(&sha1).unwrap();
        assert_eq!((plain.as_slice(), mgf), (&[6u8; 32][..], OaepMgf::Sha1));
        let pem = key.to_pkcs8_pem().unwrap();
        assert_eq!(
            FormPrivateKey::from_pem(&pem)
                .unwrap()
                .public_key_base64()
                .unwrap(),
            key.public_key_base64().unwrap()
        );
        assert_eq!(format!("{key:?}"), "FormPrivateKey(..)");
    }

    #[test]
    fn sealed_form_key_opens_with_its_passphrase_only() {
        let key = FormPrivateKey(test_key());
        let params = KdfParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let sealed = key
            .seal(
                "trois chèvres au marché",
                "the goats",
                params,
                [1; 16],
                [2; 24],
            )
            .unwrap();
        let text = sealed.to_text();
        assert!(text.starts_with("v1.argon2id.64.1.1."), "{text}");
        let back = SealedFormKey::from_text(&text).unwrap();
        assert_eq!(back, sealed);
        assert_eq!(back.hint(), "the goats");
        let opened = back.open("trois chèvres au marché").unwrap();
        assert_eq!(
            opened.public_key_base64().unwrap(),
            key.public_key_base64().unwrap()
        );

        let wrong = back.open("trois chèvres au marche").unwrap_err();
        assert_eq!(wrong.code(), "wrong_passphrase");
        assert!(wrong.to_string().contains("the goats"), "{wrong}");
        assert_eq!(back.open("").unwrap_err().code(), "empty_passphrase");
        assert_eq!(
            key.seal("", "h", params, [1; 16], [2; 24])
                .unwrap_err()
                .code(),
            "empty_passphrase"
        );
        // The hint is bound to the sealed key: swapping it breaks the seal.
        let swapped = text.replace(
            &URL_SAFE_NO_PAD.encode("the goats"),
            &URL_SAFE_NO_PAD.encode("other"),
        );
        let swapped = SealedFormKey::from_text(&swapped).unwrap();
        assert_eq!(
            swapped.open("trois chèvres au marché").unwrap_err().code(),
            "wrong_passphrase"
        );
    }

    #[test]
    fn sealed_form_key_text_refuses_garbage() {
        let params = KdfParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let good = FormPrivateKey(test_key())
            .seal("p", "h", params, [1; 16], [2; 24])
            .unwrap();
        let huge = good
            .to_text()
            .replacen("v1.argon2id.64.", "v1.argon2id.99999999.", 1);
        for text in [
            "",
            "v1",
            "v2.argon2id.1.1.1.a.b.c.d",
            "v1.argon2id.x.1.1.AA.AA.AA.AA",
            "v1.argon2id.64.1.1.AA.AA.AA.AA",
            huge.as_str(),
        ] {
            assert_eq!(
                SealedFormKey::from_text(text).unwrap_err().code(),
                "sealed_key_malformed",
                "{text}"
            );
        }
    }

    #[test]
    fn from_pem_refuses_what_is_not_an_rsa_private_key() {
        let cases = [
            "",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
        ];
        for pem in cases {
            assert_eq!(
                FormPrivateKey::from_pem(pem).unwrap_err().code(),
                "private_key_format",
                "{pem}"
            );
        }
    }
}
