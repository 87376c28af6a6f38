//! Forms (upload, versions, publish, close), app users for ODK Collect, and the ingestion of
//! submissions that never loses nor duplicates a record.
//!
//! Ingestion is acknowledged only once durable: every attachment is a flushed content-addressed
//! blob before the submission is handed to the store, which records it, its XML and its typed
//! values in one transaction, committed together with the submissions that arrived at the same
//! time (group commit, see `baraza_store`'s `ingest.rs`). A replay of the same bytes under the
//! same `instanceID` finds the record and adds only attachments that arrive late (ODK Collect
//! splits large uploads); other bytes under the same `instanceID` are a conflict; a
//! `deprecatedID` makes a new version of a record and keeps the old one.
//!
//! The XML is parsed once, here, into typed values; the form model it is checked against is
//! parsed once per form version and kept ([`ModelCache`]).

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::consent::Channel;
use crate::secret::{digest, random_secret};
use crate::{Core, CoreError};
use baraza_store::{
    AppUser, BlobRef, FormListing, FormRow, FormState, FormVersionRow, IngestOutcome,
    NewFormVersion, NewSubmission, StoreError, SubmissionXml,
};
use baraza_types::{Permission, ProjectId};
use baraza_xlsform::{Diagnostic, Severity};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The outcome of an upload: the stored version and its warnings.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub form: FormRow,
    pub version: FormVersionRow,
    pub warnings: Vec<Diagnostic>,
}

/// An attachment received with a submission, already stored as a blob.
#[derive(Debug, Clone)]
pub struct IncomingFile {
    pub name: String,
    pub blob: BlobRef,
    /// Its key when the blob is sealed (see [`crate::files`]).
    pub key: Option<crate::files::FileKey>,
}

/// Parsed form models by form version id. A stored version never changes, so an entry never goes
/// stale; the cache is emptied when it holds [`ModelCache::CAPACITY`] models.
#[derive(Default)]
pub struct ModelCache(Mutex<HashMap<i64, Arc<baraza_xlsform::Form>>>);

impl ModelCache {
    const CAPACITY: usize = 256;

    fn get(&self, version_id: i64) -> Option<Arc<baraza_xlsform::Form>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&version_id)
            .cloned()
    }

    fn put(&self, version_id: i64, form: Arc<baraza_xlsform::Form>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(version_id, form);
    }
}

/// Who submits.
#[derive(Debug, Clone, Copy)]
pub enum Submitter {
    AppUser(i64),
    User(baraza_types::UserId),
    /// Someone without an account, through a form's public link.
    Anonymous,
}

/// A diagnostic as stored with a form version: its place and its message in both languages.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredDiagnostic {
    pub code: String,
    pub severity: Severity,
    pub sheet: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message_en: String,
    pub message_fr: String,
}

impl From<&Diagnostic> for StoredDiagnostic {
    fn from(d: &Diagnostic) -> Self {
        StoredDiagnostic {
            code: d.code.to_owned(),
            severity: d.severity,
            sheet: d.sheet.clone(),
            row: d.row,
            column: d.column.clone(),
            message_en: d.message(baraza_xlsform::Lang::En),
            message_fr: d.message(baraza_xlsform::Lang::Fr),
        }
    }
}

/// What happened to a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// A new record, or a new version of one.
    Created,
    /// Already stored; late attachments were added.
    Duplicate,
}

/// The civil date and time (UTC) of a Unix time: year, month, day, hour, minute, second
/// (Howard Hinnant's algorithm).
pub(crate) fn civil(unix: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// A form version stamp from the upload time, when the XLSForm gives none: `YYYYMMDDhhmmss` (UTC).
fn version_stamp(unix: i64) -> String {
    let (y, m, d, hh, mm, ss) = civil(unix);
    format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}")
}

fn md5_hex(text: &str) -> String {
    baraza_openrosa::md5_hash(text.as_bytes())
}

/// A stored form model, as every reader must take it: parsed, and — for models stored before
/// fields carried their sensitivity — classified the way a compile would classify them today, so
/// that no read path treats a personal field of an older form as `internal`.
pub fn read_model(model_json: &str) -> Result<baraza_xlsform::Form, StoreError> {
    let mut form: baraza_xlsform::Form = serde_json::from_str(model_json)
        .map_err(|e| StoreError::Corrupt(format!("form model: {e}")))?;
    form.classify_if_unclassified();
    Ok(form)
}

impl Core {
    /// Compiles an uploaded XLSForm and stores it as a new version of its form (a draft on first
    /// upload). A form with errors is refused with all of them; nothing is stored.
    pub async fn upload_form(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Uploaded, CoreError> {
        access.require(Permission::ManageForms)?;
        let compiled = baraza_xlsform::compile_file(bytes, file_name);
        if compiled.has_errors() {
            return Err(CoreError::FormRefused {
                diagnostics: compiled.diagnostics,
            });
        }
        let Some(mut form) = compiled.form else {
            return Err(CoreError::FormRefused {
                diagnostics: compiled.diagnostics,
            });
        };
        let now = self.now();
        if form.version.as_deref().is_none_or(str::is_empty) {
            form.version = Some(version_stamp(now));
        }
        if form.public_key.is_none() {
            // A project with managed encryption serves its key in every form that has none.
            form.public_key = self.managed_public_key(access.project.id).await?;
        }
        let version = form.version.clone().unwrap_or_default();
        let xform = baraza_xlsform::xform::write(&form);
        let model_json =
            serde_json::to_string(&form).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let warnings: Vec<Diagnostic> = compiled
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect();
        let stored: Vec<StoredDiagnostic> = warnings.iter().map(StoredDiagnostic::from).collect();
        let warnings_json =
            serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let source = self.blobs.put(bytes).await.map_err(blob_error)?;
        match self
            .store
            .add_form_version(&NewFormVersion {
                project: access.project.id,
                xml_form_id: &form.id,
                version: &version,
                title: &form.title,
                xform: &xform,
                xform_md5: &md5_hex(&xform),
                model_json: &model_json,
                warnings_json: &warnings_json,
                source_name: file_name,
                source_sha256: &source.sha256,
                created_by: principal.user().map(|u| u.id),
                created_at: now,
            })
            .await
        {
            Ok((form, version)) => {
                self.audit(
                    Actor::of(principal),
                    "form.uploaded",
                    &Target::form(access.project.id, &form.xml_form_id),
                    serde_json::json!({ "version": version.version, "file": file_name }),
                )
                .await?;
                Ok(Uploaded {
                    form,
                    version,
                    warnings,
                })
            }
            Err(StoreError::Conflict { .. }) => Err(CoreError::FormVersionExists { version }),
            Err(e) => Err(e.into()),
        }
    }

    /// The project's forms.
    pub async fn forms(&self, access: &ProjectAccess) -> Result<Vec<FormListing>, CoreError> {
        access.require(Permission::ViewForms)?;
        Ok(self.store.list_forms(access.project.id).await?)
    }

    /// A form and its current version.
    pub async fn form(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(FormRow, FormVersionRow), CoreError> {
        access.require(Permission::ViewForms)?;
        self.form_in(access.project.id, xml_form_id).await
    }

    pub(crate) async fn form_in(
        &self,
        project: ProjectId,
        xml_form_id: &str,
    ) -> Result<(FormRow, FormVersionRow), CoreError> {
        let form = self
            .store
            .form_by_xml_id(project, xml_form_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let version = match form.current_version_id {
            Some(id) => self.store.form_version(id).await?,
            None => None,
        }
        .ok_or(CoreError::NotFound { what: "form" })?;
        Ok((form, version))
    }

    /// One record of a form: every version of it (oldest first; the last is the current one).
    pub async fn submission_history(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<(FormRow, Vec<baraza_store::SubmissionRow>), CoreError> {
        access.require(Permission::ViewData)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let row = self
            .store
            .submission(form.id, instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let mask = self.mask_for(access, form.id).await?;
        self.require_record(mask.rows(), form.id, &row.root_instance_id)
            .await?;
        let mut history = self
            .store
            .submission_history(form.id, &row.root_instance_id)
            .await?;
        for r in &mut history {
            mask.apply_in_place(&mut r.values_json, &r.instance_id)?;
        }
        self.audit(
            Actor::of_access(access),
            "data.view",
            &Target::submission(access.project.id, xml_form_id, &row.root_instance_id),
            serde_json::json!({}),
        )
        .await?;
        Ok((form, history))
    }

    /// Publishes, closes or reopens a form as a draft.
    pub async fn set_form_state(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        state: FormState,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        self.store
            .set_form_state(form.id, state, self.now())
            .await?;
        self.audit(
            Actor::of_access(access),
            "form.state_set",
            &Target::form(access.project.id, xml_form_id),
            serde_json::json!({ "state": state.as_str() }),
        )
        .await?;
        Ok(())
    }

    /// The files a form names (from-file choice lists, pulldata tables, media in texts), with the
    /// ones already uploaded.
    pub async fn form_attachments(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(Vec<String>, Vec<baraza_store::FormAttachment>), CoreError> {
        access.require(Permission::ViewForms)?;
        let (form, version) = self.form_in(access.project.id, xml_form_id).await?;
        let expected = expected_files(&version.model_json);
        Ok((expected, self.store.form_attachments(form.id).await?))
    }

    /// Stores a file of a form, under a name the form uses.
    pub async fn put_form_attachment(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, version) = self.form_in(access.project.id, xml_form_id).await?;
        if !expected_files(&version.model_json)
            .iter()
            .any(|n| n == name)
        {
            return Err(CoreError::Invalid {
                field: "file",
                reason: "attachment_unexpected",
            });
        }
        let blob = self.blobs.put(bytes).await.map_err(blob_error)?;
        self.store
            .put_form_attachment(
                form.id,
                &baraza_store::FormAttachment {
                    name: name.to_owned(),
                    sha256: blob.sha256,
                    md5: baraza_openrosa::md5_hash(bytes),
                    size: bytes.len() as i64,
                    uploaded_at: self.now(),
                },
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "form.attachment_set",
            &Target::form(access.project.id, xml_form_id),
            serde_json::json!({ "file": name, "bytes": bytes.len() }),
        )
        .await?;
        Ok(())
    }

    /// The uploaded files of a published form, for ODK Collect's manifest.
    pub async fn open_form_attachments(
        &self,
        project: ProjectId,
        xml_form_id: &str,
    ) -> Result<Vec<baraza_store::FormAttachment>, CoreError> {
        let (form, _) = self.open_form(project, xml_form_id).await?;
        Ok(self.store.form_attachments(form.id).await?)
    }

    /// Creates an app user and returns its token, shown once.
    pub async fn create_app_user(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        name: &str,
    ) -> Result<(AppUser, String), CoreError> {
        access.require(Permission::ManageAppUsers)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(CoreError::Invalid {
                field: "name",
                reason: "name_length",
            });
        }
        let token = random_secret();
        let user = self
            .store
            .create_app_user(
                access.project.id,
                name,
                &digest(&token),
                principal.user().map(|u| u.id),
                self.now(),
            )
            .await?;
        self.audit(
            Actor::of(principal),
            "app_user.created",
            &Target::project(access.project.id),
            serde_json::json!({ "app_user": user.id }),
        )
        .await?;
        Ok((user, token))
    }

    pub async fn app_users(&self, access: &ProjectAccess) -> Result<Vec<AppUser>, CoreError> {
        access.require(Permission::ManageAppUsers)?;
        Ok(self.store.list_app_users(access.project.id).await?)
    }

    pub async fn revoke_app_user(&self, access: &ProjectAccess, id: i64) -> Result<(), CoreError> {
        access.require(Permission::ManageAppUsers)?;
        if self
            .store
            .revoke_app_user(access.project.id, id, self.now())
            .await?
        {
            self.audit(
                Actor::of_access(access),
                "app_user.revoked",
                &Target::project(access.project.id),
                serde_json::json!({ "app_user": id }),
            )
            .await?;
            Ok(())
        } else {
            Err(CoreError::NotFound { what: "app_user" })
        }
    }

    /// The live app user of a token in a project, or `InvalidToken`.
    pub async fn app_user(&self, token: &str, project: ProjectId) -> Result<AppUser, CoreError> {
        Ok(self.app_user_in_project(token, project).await?.0)
    }

    /// The live app user of a token in a project, with the project, or `InvalidToken`.
    pub async fn app_user_in_project(
        &self,
        token: &str,
        project: ProjectId,
    ) -> Result<(AppUser, baraza_store::Project), CoreError> {
        if token.is_empty() || token.len() > 100 {
            return Err(CoreError::InvalidToken);
        }
        self.store
            .app_user_in_project(&digest(token), project)
            .await?
            .ok_or(CoreError::InvalidToken)
    }

    /// The published forms that ODK Collect may download, with their current versions.
    pub async fn open_forms(
        &self,
        project: ProjectId,
    ) -> Result<Vec<(FormRow, FormVersionRow)>, CoreError> {
        let mut out = Vec::new();
        for l in self.store.list_forms(project).await? {
            if l.form.state != FormState::Published {
                continue;
            }
            if let Some(id) = l.form.current_version_id {
                if let Some(v) = self.store.form_version(id).await? {
                    out.push((l.form, v));
                }
            }
        }
        Ok(out)
    }

    /// A published form of the project, for download.
    pub async fn open_form(
        &self,
        project: ProjectId,
        xml_form_id: &str,
    ) -> Result<(FormRow, FormVersionRow), CoreError> {
        let (form, version) = self.form_in(project, xml_form_id).await?;
        if form.state != FormState::Published {
            return Err(CoreError::NotFound { what: "form" });
        }
        Ok((form, version))
    }

    /// The parsed model of a form version.
    pub(crate) async fn form_model(
        &self,
        version_id: i64,
    ) -> Result<Arc<baraza_xlsform::Form>, CoreError> {
        if let Some(m) = self.models.get(version_id) {
            return Ok(m);
        }
        let version = self
            .store
            .form_version(version_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let model = Arc::new(read_model(&version.model_json)?);
        self.models.put(version_id, model.clone());
        Ok(model)
    }

    /// Stores a submission: its XML as received and the attachments that came with it, already
    /// durable blobs. Returns once the record is committed (a replay adds only missing
    /// attachments). The XML is parsed and checked against the form version it names. The
    /// channel is taken from the submitter (an app user: ODK Collect; a person: the API; nobody:
    /// a public link); see [`Core::ingest_submission_via`].
    pub async fn ingest_submission(
        &self,
        project: ProjectId,
        submitter: Submitter,
        xml: &[u8],
        files: &[IncomingFile],
    ) -> Result<Ingested, CoreError> {
        let channel = match submitter {
            Submitter::AppUser(_) => Channel::OdkCollect,
            Submitter::User(_) => Channel::Api,
            Submitter::Anonymous => Channel::PublicLink,
        };
        self.ingest_submission_via(project, submitter, channel, None, xml, files)
            .await
    }

    /// [`Core::ingest_submission`] through a given channel; `language` is the form language the
    /// form was shown in, when the channel knows it (the web form). Both go into the record's
    /// consent when its form has a consent question. A submission whose consent is refused is
    /// stored reduced to its consent answer (see [`crate::consent`]); the files that came with
    /// it are wiped unless another record names them.
    pub async fn ingest_submission_via(
        &self,
        project: ProjectId,
        submitter: Submitter,
        channel: Channel,
        language: Option<&str>,
        xml: &[u8],
        files: &[IncomingFile],
    ) -> Result<Ingested, CoreError> {
        if baraza_openrosa::is_encrypted_envelope(xml) {
            return self.ingest_encrypted(project, submitter, xml, files).await;
        }
        let new = self
            .prepare_submission(project, submitter, channel, language, xml, files)
            .await?;
        let refused = new.consent.as_ref().is_some_and(|c| c.state == "refused");
        let outcome = self.store.insert_submission(new).await?;
        self.wipe_unnamed(files, refused).await?;
        // Indicators count the record in the background; any indicator page catches up first.
        self.schedule_catch_up(project);
        ingested(outcome)
    }

    /// Stores many submissions in one transaction: all of them, or (on any refusal) none.
    /// Replays of stored submissions count as stored.
    pub(crate) async fn ingest_all(
        &self,
        project: ProjectId,
        submitter: Submitter,
        xmls: &[String],
    ) -> Result<Vec<Ingested>, (usize, CoreError)> {
        let mut all = Vec::with_capacity(xmls.len());
        for (i, xml) in xmls.iter().enumerate() {
            all.push(
                self.prepare_submission(
                    project,
                    submitter,
                    Channel::Import,
                    None,
                    xml.as_bytes(),
                    &[],
                )
                .await
                .map_err(|e| (i, e))?,
            );
        }
        match self.store.insert_submissions_atomic(all).await {
            Ok(Ok(outcomes)) => outcomes
                .into_iter()
                .enumerate()
                .map(|(i, o)| ingested(o).map_err(|e| (i, e)))
                .collect(),
            Ok(Err((i, refused))) => Err((
                i,
                ingested(refused)
                    .err()
                    .unwrap_or(CoreError::SubmissionConflict),
            )),
            Err(e) => Err((0, e.into())),
        }
    }

    /// A submission parsed, checked against the form version it names and typed, ready for the
    /// store.
    pub(crate) async fn prepare_submission(
        &self,
        project: ProjectId,
        submitter: Submitter,
        channel: Channel,
        language: Option<&str>,
        xml: &[u8],
        files: &[IncomingFile],
    ) -> Result<NewSubmission, CoreError> {
        let sub = baraza_openrosa::parse_submission(xml, &baraza_openrosa::Limits::default())
            .map_err(|e| CoreError::SubmissionInvalid {
                code: e.code(),
                detail: e.to_string(),
            })?;
        // The parser accepted the bytes, so they are UTF-8; this only avoids a second promise.
        let text = String::from_utf8(xml.to_vec()).map_err(|_| CoreError::SubmissionInvalid {
            code: "submission_not_utf8",
            detail: "the submission is not UTF-8".into(),
        })?;
        let (form, version_id) = self
            .store
            .form_with_version(project, &sub.form_id, sub.version.as_deref().unwrap_or(""))
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        if form.state != FormState::Published {
            return Err(CoreError::FormNotOpen);
        }
        let version_id = version_id.ok_or_else(|| CoreError::SubmissionInvalid {
            code: "submission_wrong_version",
            detail: format!(
                "this form has no version {:?}: update the form on the device",
                sub.version.as_deref().unwrap_or("")
            ),
        })?;
        let model = self.form_model(version_id).await?;
        let values = baraza_openrosa::type_values(&model, &sub).map_err(|errs| {
            let first = errs.first();
            CoreError::SubmissionInvalid {
                code: first.map(|e| e.code()).unwrap_or("submission_bad_value"),
                detail: errs
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?;
        // Consent: recorded with the record; a refusal keeps nothing but the consent answer.
        let consent = crate::consent::consent_of(&model, &values, channel, language);
        let refused = consent.as_ref().is_some_and(|c| c.state == "refused");
        if refused && sub.deprecated_id.is_some() {
            return Err(CoreError::SubmissionInvalid {
                code: "consent_refused_in_edit",
                detail: "an edit cannot withdraw consent, since earlier versions keep their answers: erase the record with the reason consent_withdrawn instead".into(),
            });
        }
        let (text, values, files) = if refused {
            let (kept, values) = crate::consent::refused_only(&model, &sub, values);
            (kept, values, &[][..])
        } else {
            (text, values, files)
        };
        let names = baraza_openrosa::attachment_names(&values);
        if let Some(bad) = names
            .iter()
            .chain(files.iter().map(|f| &f.name))
            .find(|n| !baraza_openrosa::safe_attachment_name(n))
        {
            return Err(CoreError::SubmissionInvalid {
                code: "submission_bad_attachment_name",
                detail: format!("attachment name {bad:?} is not allowed"),
            });
        }
        let xml_size = text.len() as i64;
        let received = self.received_files(project, files.iter()).await?;
        let sealed = self
            .seal_submission(project.0, form.id, &model, &sub.instance_id, text, &values)
            .await?;
        let (app_user_id, user_id) = match submitter {
            Submitter::AppUser(id) => (Some(id), None),
            Submitter::User(u) => (None, Some(u)),
            Submitter::Anonymous => (None, None),
        };
        Ok(NewSubmission {
            form_id: form.id,
            form_version_id: version_id,
            instance_id: sub.instance_id,
            deprecated_id: sub.deprecated_id,
            xml_sha256: hex::encode(sha2::Sha256::digest(xml)),
            xml_size,
            xml: sealed.xml,
            values_json: sealed.values_json,
            key_version: sealed.key_version,
            subjects: sealed.subjects,
            app_user_id,
            user_id,
            received_at: self.now(),
            attachments: names,
            // Files the submission does not name are ignored, as ODK Central does.
            files: received,
            consent,
        })
    }

    /// The XML of a record's version (by its instanceID) exactly as it was received.
    pub async fn submission_xml(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<Vec<u8>, CoreError> {
        access.require(Permission::ViewData)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let row = self
            .store
            .submission(form.id, instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let mask = self.mask_for(access, form.id).await?;
        self.require_record(mask.rows(), form.id, &row.root_instance_id)
            .await?;
        // The XML cannot be masked without rewriting what was received.
        if !mask.is_empty() {
            return Err(CoreError::Forbidden);
        }
        self.stored_submission_xml(row.id).await
    }

    /// The XML of a submission exactly as it was received, by the submission's id, for callers
    /// that already checked access to it (exports, APIs listing a form's submissions). It is in
    /// the submission's row, or, for submissions stored before the XML moved into the database,
    /// in a blob.
    pub async fn stored_submission_xml(&self, submission_id: i64) -> Result<Vec<u8>, CoreError> {
        match self.store.submission_xml(submission_id).await? {
            Some(SubmissionXml::Inline(xml)) => Ok(xml.into_bytes()),
            Some(SubmissionXml::Sealed {
                key_version,
                sealed,
                project_id,
                form_id,
                instance_id,
            }) => {
                self.open_xml(project_id, form_id, &instance_id, key_version, &sealed)
                    .await
            }
            Some(SubmissionXml::Blob { sha256 }) => self.blobs.read(&sha256).await.map_err(|e| {
                CoreError::Store(StoreError::Unavailable(format!(
                    "submission XML blob {sha256}: {e}"
                )))
            }),
            None => Err(CoreError::NotFound { what: "submission" }),
        }
    }
}

/// What a store outcome means for the sender.
fn ingested(outcome: IngestOutcome) -> Result<Ingested, CoreError> {
    match outcome {
        IngestOutcome::Created(_) => Ok(Ingested::Created),
        IngestOutcome::Replay(_) => Ok(Ingested::Duplicate),
        IngestOutcome::Conflict => Err(CoreError::SubmissionConflict),
        IngestOutcome::DeprecatedUnknown => Err(CoreError::SubmissionInvalid {
            code: "submission_deprecated_unknown",
            detail: "deprecatedID names no submission of this form".into(),
        }),
        IngestOutcome::DeprecatedNotCurrent => Err(CoreError::SubmissionConflict),
    }
}

/// The files a form version names: `*_from_file` lists, `pulldata()` tables, media in texts.
fn expected_files(model_json: &str) -> Vec<String> {
    let Ok(form) = read_model(model_json) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        let n = n.trim();
        if !n.is_empty() && baraza_openrosa::safe_attachment_name(n) && !out.iter().any(|x| x == n)
        {
            out.push(n.to_owned());
        }
    };
    let media = |t: &baraza_xlsform::model::Texts| -> Vec<String> {
        [&t.image, &t.big_image, &t.audio, &t.video]
            .iter()
            .flat_map(|lt| lt.0.iter().map(|(_, v)| v.clone()))
            .collect()
    };
    for q in form.questions() {
        use baraza_xlsform::model::QType;
        if matches!(
            q.qtype,
            QType::SelectOneFromFile | QType::SelectMultipleFromFile
        ) {
            if let Some(f) = &q.list {
                add(f);
            }
        }
        for text in [
            &q.calculation,
            &q.relevant,
            &q.constraint,
            &q.default,
            &q.choice_filter,
        ]
        .into_iter()
        .flatten()
        {
            let mut rest = text.as_str();
            while let Some(at) = rest.find("pulldata(") {
                rest = &rest[at + "pulldata(".len()..];
                let arg = rest.trim_start();
                if let Some(qc) = arg.chars().next().filter(|c| *c == '\'' || *c == '"') {
                    if let Some(end) = arg[1..].find(qc) {
                        add(&format!("{}.csv", &arg[1..1 + end]));
                    }
                }
            }
        }
        for m in media(&q.texts) {
            add(&m);
        }
    }
    for l in &form.lists {
        for c in &l.choices {
            for m in media(&c.texts) {
                add(&m);
            }
        }
    }
    out
}

pub(crate) fn blob_error(e: baraza_store::BlobError) -> CoreError {
    match e {
        baraza_store::BlobError::TooLarge { .. } => CoreError::Invalid {
            field: "file",
            reason: "file_too_large",
        },
        baraza_store::BlobError::Io(io) => {
            CoreError::Store(StoreError::Unavailable(format!("blob storage: {io}")))
        }
        baraza_store::BlobError::Seal(e) => {
            CoreError::Store(StoreError::Corrupt(format!("sealed file: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_stamps() {
        assert_eq!(super::version_stamp(1_790_000_000), "20260921141320");
        assert_eq!(super::version_stamp(0), "19700101000000");
    }
}
