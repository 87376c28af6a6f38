//! The crate's one error type. Every variant carries what the user needs to act on it, and no
//! variant ever carries secret material (keys, passphrases, plaintext).

/// Why a protection operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProtectError {
    // ---- keys -------------------------------------------------------------------------------
    /// The master key text is neither hex nor base64.
    #[error("master key is neither 64 hex digits nor base64 ({reason}): generate one with `openssl rand -base64 32`")]
    MasterKeyEncoding { reason: String },

    /// The master key decodes to the wrong number of bytes.
    #[error("master key is {found} bytes long, it must be exactly 32: generate one with `openssl rand -base64 32`")]
    MasterKeyLength { found: usize },

    /// A wrapped key's text form could not be read.
    #[error("wrapped key is malformed ({reason}): restore it from a backup of the key table")]
    WrappedKeyFormat { reason: String },

    /// The wrapped key was wrapped under another master key.
    #[error("wrong master key: this key was wrapped under master key {expected}, the server has {found}; start the server with the master key that wrapped it")]
    WrongMasterKey { expected: String, found: String },

    /// The wrapped key does not open under this key id, or was altered.
    #[error("data key for `{key_id}` could not be unwrapped: it belongs to another key id or was altered; restore it from a backup of the key table")]
    UnwrapFailed { key_id: String },

    // ---- sealed values ----------------------------------------------------------------------
    /// The sealed value is shorter than its header and tag.
    #[error("sealed value is truncated ({len} bytes, at least {min} expected): restore it from a backup")]
    SealedTruncated { len: usize, min: usize },

    /// The sealed value has a version this build does not know.
    #[error("sealed value has unknown format version {found}: upgrade the server or restore the value from a backup")]
    SealedVersion { found: u8 },

    /// The sealed value was sealed under another data key.
    #[error("sealed value was sealed under another data key: open it with the key of the project it came from")]
    SealedWrongKey,

    /// The sealed value was sealed for another place (its associated data differs).
    #[error("sealed value belongs to another place than `{aad}`: it was copied from elsewhere; do not trust it")]
    SealedWrongPlace { aad: String },

    /// The sealed value fails authentication although key and place match: it was altered.
    #[error("sealed value was altered after sealing: restore it from a backup")]
    SealedTampered,

    /// A chunk of a sealed stream fails authentication.
    #[error("sealed file fails at chunk {chunk}: it was truncated, reordered or altered; restore it from a backup")]
    StreamChunk { chunk: u64 },

    /// A sealed stream does not start with a header this build knows.
    #[error("sealed file header is missing or unknown ({reason}): this is not a file sealed by this server")]
    StreamHeader { reason: String },

    /// Reading from the caller's reader or writing to its writer failed.
    #[error("i/o failed while {during}: {source}; check the storage and retry")]
    Io {
        during: &'static str,
        #[source]
        source: std::io::Error,
    },

    // ---- blind indexes ----------------------------------------------------------------------
    /// The value has nothing left to index once normalised.
    #[error("{kind} `{shown}` is empty once normalised: leave it blank or correct it")]
    BlindEmpty { kind: &'static str, shown: String },

    /// A phone number holds characters that are not digits or separators.
    #[error("phone number `{shown}` holds `{found}`, which is not a digit nor a separator: keep only the number")]
    PhoneInvalid { shown: String, found: char },

    /// A country calling code out of range.
    #[error("country calling code {code} is not valid: give 1 to 3 digits, such as 235 for Chad")]
    CallingCode { code: u16 },

    // ---- ODK encrypted submissions ----------------------------------------------------------
    /// The submission manifest is not well-formed XML or holds a DTD.
    #[error("encrypted submission manifest is not valid XML: {reason}; resend the submission from ODK Collect")]
    ManifestXml { reason: String },

    /// The submission manifest misses an element or attribute.
    #[error("encrypted submission manifest has no {what}: resend the submission from ODK Collect")]
    ManifestMissing { what: &'static str },

    /// The manifest holds an element that ODK's encrypted envelope does not have.
    #[error("encrypted submission manifest has an unexpected element `{element}`: send the envelope exactly as ODK Collect writes it")]
    ManifestUnexpected { element: String },

    /// The manifest is not an encrypted submission at all.
    #[error("submission is not encrypted (root `{root}`, encrypted=`{encrypted}`): send it as a plain submission")]
    NotEncrypted { root: String, encrypted: String },

    /// A base64 field of the manifest could not be decoded.
    #[error("encrypted submission field {field} is not valid base64: resend the submission from ODK Collect")]
    ManifestBase64 { field: &'static str },

    /// The form's private key does not open the submission's symmetric key.
    #[error("the form's private key does not open this submission's key: check that this is the key of form `{form_id}`")]
    SubmissionKeyUndecryptable { form_id: String },

    /// A media file named in the manifest was not supplied.
    #[error("encrypted submission lacks the file `{name}` named in its manifest: resend the submission with all its attachments")]
    MissingMediaFile { name: String },

    /// An encrypted file's AES-CFB ciphertext or padding is wrong.
    #[error("encrypted file `{name}` cannot be decrypted ({reason}): it was altered or cut short; resend it from ODK Collect")]
    FileUndecryptable { name: String, reason: &'static str },

    /// The element signature does not match the decrypted files.
    #[error("encrypted submission `{instance_id}` fails its signature check: a file was altered, swapped or left out; resend it from ODK Collect")]
    SignatureMismatch { instance_id: String },

    /// A private key in PEM could not be read.
    #[error("private key is not an RSA key in PEM (PKCS#1 or PKCS#8): {reason}; export it again from the tool that made it")]
    PrivateKeyFormat { reason: String },

    /// RSA key generation or export failed.
    #[error("form key could not be {during}: {reason}; retry")]
    FormKey {
        during: &'static str,
        reason: String,
    },

    /// A passphrase is empty.
    #[error(
        "passphrase is empty: choose a passphrase of several words and keep it outside the server"
    )]
    EmptyPassphrase,

    /// The passphrase does not open the sealed private key.
    #[error("wrong passphrase for this form key (hint: {hint}): try again")]
    WrongPassphrase { hint: String },

    /// A sealed private key's text form could not be read.
    #[error("sealed form key is malformed ({reason}): restore it from a backup")]
    SealedKeyFormat { reason: String },
}

impl ProtectError {
    /// A stable snake_case code, for the error-code table of the server.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MasterKeyEncoding { .. } | Self::MasterKeyLength { .. } => "master_key_invalid",
            Self::WrappedKeyFormat { .. } => "wrapped_key_malformed",
            Self::WrongMasterKey { .. } => "wrong_master_key",
            Self::UnwrapFailed { .. } => "unwrap_failed",
            Self::SealedTruncated { .. } => "sealed_truncated",
            Self::SealedVersion { .. } => "sealed_version_unknown",
            Self::SealedWrongKey => "sealed_wrong_key",
            Self::SealedWrongPlace { .. } => "sealed_wrong_place",
            Self::SealedTampered => "sealed_tampered",
            Self::StreamChunk { .. } => "sealed_file_tampered",
            Self::StreamHeader { .. } => "sealed_file_header",
            Self::Io { .. } => "io",
            Self::BlindEmpty { .. } => "blind_index_empty",
            Self::PhoneInvalid { .. } => "phone_invalid",
            Self::CallingCode { .. } => "calling_code_invalid",
            Self::ManifestXml { .. } => "odk_manifest_xml",
            Self::ManifestMissing { .. } => "odk_manifest_incomplete",
            Self::ManifestUnexpected { .. } => "odk_manifest_unexpected",
            Self::NotEncrypted { .. } => "odk_not_encrypted",
            Self::ManifestBase64 { .. } => "odk_manifest_base64",
            Self::SubmissionKeyUndecryptable { .. } => "odk_wrong_private_key",
            Self::MissingMediaFile { .. } => "odk_missing_media",
            Self::FileUndecryptable { .. } => "odk_file_undecryptable",
            Self::SignatureMismatch { .. } => "odk_signature_mismatch",
            Self::PrivateKeyFormat { .. } => "private_key_format",
            Self::FormKey { .. } => "form_key",
            Self::EmptyPassphrase => "empty_passphrase",
            Self::WrongPassphrase { .. } => "wrong_passphrase",
            Self::SealedKeyFormat { .. } => "sealed_key_malformed",
        }
    }
}

/// Result with [`ProtectError`].
pub type Result<T, E = ProtectError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_lowercase_and_end_without_a_period() {
        let s = || "x".to_owned();
        let all = [
            ProtectError::MasterKeyEncoding { reason: s() },
            ProtectError::MasterKeyLength { found: 3 },
            ProtectError::WrappedKeyFormat { reason: s() },
            ProtectError::WrongMasterKey {
                expected: s(),
                found: s(),
            },
            ProtectError::UnwrapFailed { key_id: s() },
            ProtectError::SealedTruncated { len: 1, min: 2 },
            ProtectError::SealedVersion { found: 9 },
            ProtectError::SealedWrongKey,
            ProtectError::SealedWrongPlace { aad: s() },
            ProtectError::SealedTampered,
            ProtectError::StreamChunk { chunk: 2 },
            ProtectError::StreamHeader { reason: s() },
            ProtectError::Io {
                during: "reading",
                source: std::io::Error::other("disk"),
            },
            ProtectError::BlindEmpty {
                kind: "name",
                shown: s(),
            },
            ProtectError::PhoneInvalid {
                shown: s(),
                found: 'x',
            },
            ProtectError::CallingCode { code: 0 },
            ProtectError::ManifestXml { reason: s() },
            ProtectError::ManifestMissing {
                what: "meta/instanceID",
            },
            ProtectError::ManifestUnexpected { element: s() },
            ProtectError::NotEncrypted {
                root: s(),
                encrypted: s(),
            },
            ProtectError::ManifestBase64 {
                field: "base64EncryptedKey",
            },
            ProtectError::SubmissionKeyUndecryptable { form_id: s() },
            ProtectError::MissingMediaFile { name: s() },
            ProtectError::FileUndecryptable {
                name: s(),
                reason: "padding",
            },
            ProtectError::SignatureMismatch { instance_id: s() },
            ProtectError::PrivateKeyFormat { reason: s() },
            ProtectError::FormKey {
                during: "generated",
                reason: s(),
            },
            ProtectError::EmptyPassphrase,
            ProtectError::WrongPassphrase { hint: s() },
            ProtectError::SealedKeyFormat { reason: s() },
        ];
        let mut codes = std::collections::BTreeSet::new();
        for err in all {
            let message = err.to_string();
            assert!(message.starts_with(|c: char| c.is_lowercase()), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            codes.insert(err.code());
        }
        // Distinct failures keep distinct codes (the two master-key parse errors share one).
        assert_eq!(codes.len(), 29);
    }
}
