//! Protection of personal data, pure: no IO, no clock, no randomness of its own (callers pass in
//! times and random bytes), no database.
//!
//! * [`chain`] — the audit log's hash chain: each entry commits to the one before it, so that a
//!   changed, removed or reordered entry breaks every hash after it, and the chain's head is
//!   signed so that a rewritten chain is caught too.
//! * [`keys`] — envelope encryption: the server's master key wraps one data key per project
//!   (XChaCha20-Poly1305, the key id bound as associated data), with a master-key fingerprint so
//!   that a wrong master key is named as such, and rewrapping for master-key rotation.
//! * [`seal`] — values and files sealed under a project's data key, bound to their place by
//!   associated data; files in 64 KiB chunks with the STREAM construction, in constant memory.
//! * [`blind`] — blind indexes: a keyed HMAC of a normalised phone number, e-mail, name or
//!   identifier, so that records of one person are found without decrypting them.
//! * [`odk`] — ODK encrypted forms as ODK Collect sends them: the submission manifest, the
//!   RSA-OAEP key, the per-file IVs, AES-CFB decryption and the element signature; and form key
//!   pairs whose private key is sealed under a passphrase the server never stores.
//!
//! Error messages never hold key material, passphrases nor plaintext: see [`ProtectError`].

pub mod blind;
pub mod chain;
pub mod error;
pub mod keys;
pub mod odk;
pub mod seal;

pub use blind::{normalise, BlindIndexKey, BlindKind};
pub use error::{ProtectError, Result};
pub use keys::{rewrap, DataKey, MasterKey, WrappedKey};
pub use odk::{
    decrypt_submission, DecryptedFile, DecryptedSubmission, FormPrivateKey, KdfParams, OaepMgf,
    SealedFormKey, SubmissionDecryptor, SubmissionManifest,
};
pub use seal::FileSealer;
