//! ODK encrypted forms: receiving Collect's encrypted submissions, the projects' managed form
//! keys, and decryption on demand into the protected store.
//!
//! * **Receiving.** A submission whose root says `encrypted="yes"` is ODK's envelope (see
//!   `baraza_protect::odk`). It is accepted only for a form version that has a public key, and
//!   stored as it came: the envelope and its encrypted files (durable blobs), no answers, in one
//!   transaction, with the same instanceID rules as other submissions (a replay adds missing
//!   files; other bytes are a conflict). Clear submissions to an encrypted form are accepted
//!   too, as ODK Central accepts them (devices that still have the previous version send them).
//! * **Managed keys.** A manager turns encryption on for a project with a passphrase and a
//!   hint: the server makes an RSA-2048 key pair and keeps only the private key sealed under
//!   the passphrase (`SealedFormKey`); the passphrase is neither stored nor logged. Each form
//!   without a key of its own then gets a *new version* (`<version>[encrypted]`) whose XForm
//!   carries `base64RsaPublicKey`, as ODK Central does: the form list's hash and version
//!   change, so devices fetch it, and submissions name the version they were made with. Later
//!   uploads to the project get the key too. A form whose XLSForm has its own `public_key`
//!   keeps it; its private key stays with its author and is given, in PEM, only to decrypt.
//! * **Decrypting.** With the passphrase or the PEM, every complete encrypted record of a form
//!   that the key opens is decrypted, its signature checked, and then stored through the same
//!   `prepare_submission` as any submission (typing, consent, sealing of personal answers under
//!   the project's data key), replacing the encrypted record in one transaction per record. All
//!   of them are checked first, so that a tampered one changes nothing.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::consent::Channel;
use crate::forms::{read_model, IncomingFile, Ingested, Submitter};
use crate::{Core, CoreError};
use baraza_protect::odk::{
    decrypt_submission, DecryptedSubmission, FormPrivateKey, KdfParams, SealedFormKey,
    SubmissionManifest,
};
use baraza_protect::ProtectError;
use baraza_store::{
    FormState, IngestOutcome, NewEncryptedSubmission, NewFormVersion, ProjectFormKey, StoreError,
};
use baraza_types::{Permission, ProjectId};
use rand::RngCore;
use sha2::Digest;

/// The largest envelope accepted (Collect's are about a kilobyte, plus a line per media file).
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;
/// The most files one envelope may name.
pub const MAX_ENVELOPE_FILES: usize = 1000;
/// The shortest passphrase accepted for a managed key (as in ODK Central).
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// The suffix of the version that carries a project's managed key.
pub const ENCRYPTED_VERSION_SUFFIX: &str = "[encrypted]";

/// What opens a form's encrypted submissions.
pub enum FormKeyInput<'a> {
    /// The passphrase of the project's managed key.
    Passphrase(&'a str),
    /// The author's private key, in PEM (never stored).
    Pem(&'a str),
}

/// Whose key a form's current version carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyHolder {
    /// No key: submissions arrive in clear.
    None,
    /// The project's managed key (passphrase).
    Managed,
    /// A key of the form's author (XLSForm `public_key`; PEM to decrypt).
    Author,
}

/// A form's encryption, for the pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FormEncryption {
    pub xml_form_id: String,
    pub title: String,
    pub key: KeyHolder,
    /// Encrypted records not decrypted yet.
    pub pending: i64,
}

/// A project's encryption, for the pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectEncryption {
    /// The managed key's hint, when encryption is on.
    pub hint: Option<String>,
    pub enabled_at: Option<i64>,
    pub forms: Vec<FormEncryption>,
}

/// An encrypted record waiting to be decrypted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PendingRecord {
    pub instance_id: String,
    pub received_at: i64,
    /// Whether every file its envelope names has arrived.
    pub complete: bool,
}

/// What a decryption did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Decrypted {
    /// Records decrypted into the protected store.
    pub decrypted: usize,
    /// Records left encrypted: another key opens them, or some of their files have not
    /// arrived yet.
    pub remaining: usize,
}

fn invalid(detail: impl Into<String>) -> CoreError {
    CoreError::EncryptedInvalid {
        detail: detail.into(),
    }
}

fn protect_unavailable(e: impl std::fmt::Display) -> CoreError {
    CoreError::Store(StoreError::Unavailable(format!("form key: {e}")))
}

fn blocking_failed(e: tokio::task::JoinError) -> CoreError {
    CoreError::Store(StoreError::Unavailable(format!(
        "decryption task failed: {e}"
    )))
}

impl Core {
    /// Stores an encrypted submission (ODK's envelope) and the encrypted files that came with
    /// it; called by the ingestion when the root says `encrypted="yes"`.
    pub(crate) async fn ingest_encrypted(
        &self,
        project: ProjectId,
        submitter: Submitter,
        xml: &[u8],
        files: &[IncomingFile],
    ) -> Result<Ingested, CoreError> {
        if xml.len() > MAX_ENVELOPE_BYTES {
            return Err(invalid(format!(
                "the envelope is larger than {MAX_ENVELOPE_BYTES} bytes"
            )));
        }
        let text = std::str::from_utf8(xml).map_err(|_| invalid("the envelope is not UTF-8"))?;
        let manifest = SubmissionManifest::parse(text).map_err(|e| invalid(e.to_string()))?;
        if manifest.base64_encrypted_element_signature.is_none() {
            return Err(invalid(
                "the envelope has no base64EncryptedElementSignature",
            ));
        }
        let names: Vec<String> = manifest.files().map(str::to_owned).collect();
        if names.len() > MAX_ENVELOPE_FILES {
            return Err(invalid(format!(
                "the envelope names more than {MAX_ENVELOPE_FILES} files"
            )));
        }
        let (form, version_id) = self
            .store
            .form_with_version(
                project,
                &manifest.form_id,
                manifest.version.as_deref().unwrap_or(""),
            )
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        if form.state != FormState::Published {
            return Err(CoreError::FormNotOpen);
        }
        let version_id = version_id.ok_or_else(|| {
            invalid(format!(
                "this form has no version {:?}: update the form on the device",
                manifest.version.as_deref().unwrap_or("")
            ))
        })?;
        let model = self.form_model(version_id).await?;
        if model.public_key.is_none() {
            return Err(invalid(
                "this form version has no public key, so it takes no encrypted submissions",
            ));
        }
        let (app_user_id, user_id) = match submitter {
            Submitter::AppUser(id) => (Some(id), None),
            Submitter::User(u) => (None, Some(u)),
            Submitter::Anonymous => (None, None),
        };
        // Files the envelope does not name are ignored, as for other submissions.
        let received = self
            .received_files(project, files.iter().filter(|f| names.contains(&f.name)))
            .await?;
        let outcome = self
            .store
            .insert_encrypted_submission(&NewEncryptedSubmission {
                form_id: form.id,
                form_version_id: version_id,
                instance_id: manifest.instance_id.clone(),
                manifest: text.to_owned(),
                manifest_sha256: hex::encode(sha2::Sha256::digest(xml)),
                app_user_id,
                user_id,
                received_at: self.now(),
                files: received,
                names,
            })
            .await?;
        self.wipe_unnamed(files, false).await?;
        match outcome {
            IngestOutcome::Created(_) => Ok(Ingested::Created),
            IngestOutcome::Replay(_) => Ok(Ingested::Duplicate),
            _ => Err(CoreError::SubmissionConflict),
        }
    }

    /// The project's encryption: its managed key's hint, and each form's key and pending
    /// encrypted records.
    pub async fn project_encryption(
        &self,
        access: &ProjectAccess,
    ) -> Result<ProjectEncryption, CoreError> {
        access.require(Permission::ManageForms)?;
        let key = self.store.project_form_key(access.project.id.0).await?;
        let counts = self.store.encrypted_counts(access.project.id.0).await?;
        let mut forms = Vec::new();
        for l in self.store.list_forms(access.project.id).await? {
            let Some(vid) = l.form.current_version_id else {
                continue;
            };
            let model = self.form_model(vid).await?;
            let pending = counts
                .iter()
                .find(|(f, _)| *f == l.form.id)
                .map_or(0, |(_, n)| *n);
            forms.push(FormEncryption {
                xml_form_id: l.form.xml_form_id.clone(),
                title: l.form.title.clone(),
                key: key_holder(model.public_key.as_deref(), key.as_ref()),
                pending,
            });
        }
        Ok(ProjectEncryption {
            hint: key.as_ref().map(|k| k.hint.clone()),
            enabled_at: key.as_ref().map(|k| k.created_at),
            forms,
        })
    }

    /// How many encrypted submissions of a form wait to be decrypted (shown on the form's
    /// page, since no table or export holds them).
    pub async fn encrypted_pending(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<i64, CoreError> {
        access.require(Permission::ViewForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        Ok(self
            .store
            .encrypted_counts(access.project.id.0)
            .await?
            .into_iter()
            .find(|(f, _)| *f == form.id)
            .map_or(0, |(_, n)| n))
    }

    /// One form's encryption (for its decryption page).
    pub async fn form_encryption(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(FormEncryption, Option<String>), CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, version) = self.form_in(access.project.id, xml_form_id).await?;
        let key = self.store.project_form_key(access.project.id.0).await?;
        let model = self.form_model(version.id).await?;
        let pending = self.store.encrypted_submissions(form.id).await?.len() as i64;
        Ok((
            FormEncryption {
                xml_form_id: form.xml_form_id,
                title: version.title,
                key: key_holder(model.public_key.as_deref(), key.as_ref()),
                pending,
            },
            key.map(|k| k.hint),
        ))
    }

    /// Turns managed encryption on for the project: a new key pair, its private half sealed
    /// under `passphrase` (never stored), and a new version of every form without a key of its
    /// own that serves the public key. Returns how many forms got a new version.
    pub async fn enable_managed_encryption(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        passphrase: &str,
        hint: &str,
    ) -> Result<usize, CoreError> {
        access.require(Permission::ManageForms)?;
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(CoreError::Invalid {
                field: "passphrase",
                reason: "passphrase_short",
            });
        }
        let hint = hint.trim();
        if hint.chars().count() > 200 {
            return Err(CoreError::Invalid {
                field: "hint",
                reason: "hint_long",
            });
        }
        if self
            .store
            .project_form_key(access.project.id.0)
            .await?
            .is_some()
        {
            return Err(CoreError::Store(StoreError::Conflict {
                what: "project_form_key",
            }));
        }
        let passphrase = passphrase.to_owned();
        let hint_owned = hint.to_owned();
        // RSA key generation and Argon2id take a while: off the async workers.
        let (public_key, sealed) = tokio::task::spawn_blocking(move || {
            let mut rng = rand::rngs::OsRng;
            let key = FormPrivateKey::generate(&mut rng)?;
            let mut salt = [0u8; 16];
            let mut nonce = [0u8; 24];
            rng.fill_bytes(&mut salt);
            rng.fill_bytes(&mut nonce);
            let sealed = key.seal(
                &passphrase,
                &hint_owned,
                KdfParams::RECOMMENDED,
                salt,
                nonce,
            )?;
            Ok::<_, ProtectError>((key.public_key_base64()?, sealed))
        })
        .await
        .map_err(blocking_failed)?
        .map_err(protect_unavailable)?;
        let now = self.now();
        self.store
            .insert_project_form_key(&ProjectFormKey {
                project_id: access.project.id.0,
                public_key: public_key.clone(),
                sealed_key: sealed.to_text(),
                hint: hint.to_owned(),
                created_by: principal.user().map(|u| u.id.0),
                created_at: now,
            })
            .await?;
        let mut versions = 0;
        for l in self.store.list_forms(access.project.id).await? {
            let Some(vid) = l.form.current_version_id else {
                continue;
            };
            let Some(v) = self.store.form_version(vid).await? else {
                continue;
            };
            let mut model = read_model(&v.model_json)?;
            if model.public_key.is_some() {
                continue;
            }
            model.public_key = Some(public_key.clone());
            let version = format!("{}{ENCRYPTED_VERSION_SUFFIX}", v.version);
            model.version = Some(version.clone());
            let xform = baraza_xlsform::xform::write(&model);
            let model_json =
                serde_json::to_string(&model).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.store
                .add_form_version(&NewFormVersion {
                    project: access.project.id,
                    xml_form_id: &l.form.xml_form_id,
                    version: &version,
                    title: &v.title,
                    xform: &xform,
                    xform_md5: &baraza_openrosa::md5_hash(xform.as_bytes()),
                    model_json: &model_json,
                    warnings_json: &v.warnings_json,
                    source_name: &v.source_name,
                    source_sha256: &v.source_sha256,
                    created_by: principal.user().map(|u| u.id),
                    created_at: now,
                })
                .await?;
            versions += 1;
        }
        // PRIVACY: neither the passphrase nor the hint goes into the audit log.
        self.audit(
            Actor::of(principal),
            "keys.form_encryption_enabled",
            &Target::project(access.project.id),
            serde_json::json!({ "forms": versions }),
        )
        .await?;
        Ok(versions)
    }

    /// The public key of the project's managed encryption, for forms uploaded without one.
    pub(crate) async fn managed_public_key(
        &self,
        project: ProjectId,
    ) -> Result<Option<String>, CoreError> {
        Ok(self
            .store
            .project_form_key(project.0)
            .await?
            .map(|k| k.public_key))
    }

    /// Decrypts every complete encrypted record of a form that `key` opens into the protected
    /// store. A wrong passphrase or key, or any record that fails its checks, changes nothing.
    pub async fn decrypt_form(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        key: FormKeyInput<'_>,
    ) -> Result<Decrypted, CoreError> {
        access.require(Permission::ManageForms)?;
        access.require(Permission::ViewPersonal)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let private_key = match key {
            FormKeyInput::Passphrase(passphrase) => {
                let stored = self
                    .store
                    .project_form_key(access.project.id.0)
                    .await?
                    .ok_or(CoreError::FormKeyWrong)?;
                let sealed =
                    SealedFormKey::from_text(&stored.sealed_key).map_err(protect_unavailable)?;
                let passphrase = passphrase.to_owned();
                tokio::task::spawn_blocking(move || sealed.open(&passphrase))
                    .await
                    .map_err(blocking_failed)?
                    .map_err(|e| match e {
                        ProtectError::WrongPassphrase { .. } | ProtectError::EmptyPassphrase => {
                            CoreError::FormKeyWrong
                        }
                        other => protect_unavailable(other),
                    })?
            }
            FormKeyInput::Pem(pem) => {
                FormPrivateKey::from_pem(pem).map_err(|_| CoreError::Invalid {
                    field: "private_key",
                    reason: "private_key_format",
                })?
            }
        };
        let records = self.store.encrypted_submissions(form.id).await?;
        let mut result = Decrypted::default();
        // First pass: decrypt and check every record this key opens, storing nothing.
        let mut opened = Vec::new();
        for r in &records {
            if r.files.iter().any(|f| f.sha256.is_none()) {
                result.remaining += 1;
                continue;
            }
            match self
                .decrypt_record(access.project.id.0, &private_key, r)
                .await?
            {
                None => result.remaining += 1,
                Some(d) => {
                    self.check_decrypted(access.project.id, r, &d).await?;
                    opened.push(r);
                }
            }
        }
        if opened.is_empty() && result.remaining > 0 {
            // Nothing this key opens, while records wait: most likely the wrong key.
            let complete = records
                .iter()
                .any(|r| r.files.iter().all(|f| f.sha256.is_some()));
            if complete {
                return Err(CoreError::FormKeyWrong);
            }
        }
        // Second pass: each record stored through the ingestion, replacing its encrypted row.
        for r in opened {
            let Some(d) = self
                .decrypt_record(access.project.id.0, &private_key, r)
                .await?
            else {
                continue;
            };
            self.store_decrypted(access.project.id, r, d).await?;
            result.decrypted += 1;
        }
        if result.decrypted > 0 {
            self.audit(
                Actor::of_access(access),
                "data.decrypted",
                &Target::form(access.project.id, xml_form_id),
                serde_json::json!({ "count": result.decrypted, "remaining": result.remaining }),
            )
            .await?;
        }
        Ok(result)
    }

    /// Erases an encrypted record that will never be decrypted (a tampered or damaged upload
    /// that would otherwise stop its form's decryption): its row and its encrypted files.
    pub async fn erase_encrypted(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageForms)?;
        access.require(Permission::EditData)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let shas = self
            .store
            .delete_encrypted_submission(form.id, instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        for sha in &shas {
            if !self.store.blob_referenced(sha).await? {
                let _ = self.blobs.wipe(sha).await;
            }
        }
        self.audit(
            Actor::of_access(access),
            "data.encrypted_erased",
            &Target::submission(access.project.id, xml_form_id, instance_id),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// The encrypted records of a form waiting to be decrypted: instanceID, when received, and
    /// whether all their files arrived.
    pub async fn encrypted_records(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<Vec<PendingRecord>, CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        Ok(self
            .store
            .encrypted_submissions(form.id)
            .await?
            .into_iter()
            .map(|r| PendingRecord {
                complete: r.files.iter().all(|f| f.sha256.is_some()),
                instance_id: r.instance_id,
                received_at: r.received_at,
            })
            .collect())
    }

    /// Decrypts one record in memory; `None` when the key is not the one that encrypted it.
    async fn decrypt_record(
        &self,
        project: i64,
        key: &FormPrivateKey,
        r: &baraza_store::EncryptedSubmissionRow,
    ) -> Result<Option<DecryptedSubmission>, CoreError> {
        let mut contents = Vec::with_capacity(r.files.len());
        for f in &r.files {
            let sha = f.sha256.as_deref().unwrap_or_default();
            let bytes = self.read_file(project, sha, f.key.as_deref()).await?;
            contents.push((f.name.clone(), bytes));
        }
        let key = key.clone();
        let manifest = r.manifest.clone();
        let instance_id = r.instance_id.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            decrypt_submission(&key, &manifest, |name| {
                contents
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, b)| b.as_slice())
            })
        })
        .await
        .map_err(blocking_failed)?;
        match outcome {
            Ok(d) => Ok(Some(d)),
            Err(ProtectError::SubmissionKeyUndecryptable { .. }) => Ok(None),
            Err(e) => Err(CoreError::EncryptedTampered {
                instance_id,
                detail: e.to_string(),
            }),
        }
    }

    /// Checks that a decrypted record is the one its envelope announced, and that it would be
    /// accepted by the ingestion (without storing anything).
    async fn check_decrypted(
        &self,
        project: ProjectId,
        r: &baraza_store::EncryptedSubmissionRow,
        d: &DecryptedSubmission,
    ) -> Result<(), CoreError> {
        let new = self
            .prepare_submission(
                project,
                submitter_of(r),
                Channel::OdkCollect,
                None,
                &d.xml,
                &[],
            )
            .await
            .map_err(|e| CoreError::EncryptedTampered {
                instance_id: r.instance_id.clone(),
                detail: format!("the decrypted submission is refused: {e}"),
            })?;
        if new.form_id != r.form_id || new.instance_id != r.instance_id {
            return Err(CoreError::EncryptedTampered {
                instance_id: r.instance_id.clone(),
                detail: "the decrypted submission names another form or instanceID".into(),
            });
        }
        Ok(())
    }

    /// Stores a decrypted record: its media as blobs, then the submission through the
    /// ingestion's preparation, replacing the encrypted row in one transaction.
    async fn store_decrypted(
        &self,
        project: ProjectId,
        r: &baraza_store::EncryptedSubmissionRow,
        d: DecryptedSubmission,
    ) -> Result<(), CoreError> {
        let mut files = Vec::with_capacity(d.media.len());
        for (name, bytes) in &d.media {
            let (blob, key) = self.put_file(bytes).await?;
            files.push(IncomingFile {
                name: name.clone(),
                blob,
                key,
            });
        }
        let mut new = self
            .prepare_submission(
                project,
                submitter_of(r),
                Channel::OdkCollect,
                None,
                &d.xml,
                &files,
            )
            .await?;
        // The record was received when the envelope was.
        new.received_at = r.received_at;
        let refused = new.consent.as_ref().is_some_and(|c| c.state == "refused");
        match self.store.insert_decrypted_submission(r.id, &new).await? {
            IngestOutcome::Created(_) | IngestOutcome::Replay(_) => {}
            _ => return Err(CoreError::SubmissionConflict),
        }
        if refused {
            self.wipe_unnamed(&files, true).await?;
        }
        // The encrypted files are no longer needed once nothing names them.
        for sha in r.files.iter().filter_map(|f| f.sha256.as_deref()) {
            if !self.store.blob_referenced(sha).await? {
                let _ = self.blobs.wipe(sha).await;
            }
        }
        Ok(())
    }
}

fn submitter_of(r: &baraza_store::EncryptedSubmissionRow) -> Submitter {
    match (r.app_user_id, r.user_id) {
        (Some(id), _) => Submitter::AppUser(id),
        (None, Some(u)) => Submitter::User(u),
        (None, None) => Submitter::Anonymous,
    }
}

fn key_holder(public_key: Option<&str>, managed: Option<&ProjectFormKey>) -> KeyHolder {
    match (public_key, managed) {
        (None, _) => KeyHolder::None,
        (Some(k), Some(m)) if k.trim() == m.public_key => KeyHolder::Managed,
        (Some(_), _) => KeyHolder::Author,
    }
}
