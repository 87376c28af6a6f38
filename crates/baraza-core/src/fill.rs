//! The web form: drafts kept on the server between pages, public links for citizen reporting,
//! test fills of draft forms, edits of submissions, and their review (states, comments).
//!
//! A filled form becomes the XML a phone would send and goes through
//! [`Core::ingest_submission`], so the web form and ODK Collect share one ingestion with its
//! guarantees. The form engine (`baraza-fill`) does the evaluation; here are the rules: who may
//! fill what, rate limits and the honeypot of public links, the reason an edit needs.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::forms::{IncomingFile, Ingested, Submitter};
use crate::secret::{digest, random_secret};
use crate::{Core, CoreError};
use baraza_fill::{Action, At, Engine, Env, FileRef, Filling, Meta, Problem, Step};
use baraza_store::{
    BlobRef, DraftRow, FormRow, FormState, FormVersionRow, NewSubmissionEvent, StoreError,
    SubmissionEvent,
};
use baraza_types::{Permission, ProjectId};
use std::collections::HashMap;

/// Review states of a record.
pub const REVIEW_STATES: [&str; 4] = ["received", "approved", "has_issues", "rejected"];
/// Longest comment or reason, in characters.
pub const MAX_COMMENT_CHARS: usize = 5_000;
/// Drafts of accounts are kept this long without use.
const ACCOUNT_DRAFT_SECS: i64 = 60 * 24 * 3600;
/// Drafts of public links are kept this long without use.
const PUBLIC_DRAFT_SECS: i64 = 3 * 24 * 3600;
/// Rate-limit window of public links.
const RATE_WINDOW_SECS: i64 = 3600;

/// Why a form is being filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillMode {
    /// A member sends a submission.
    Submit,
    /// A manager tries a draft form: everything is checked, nothing is stored.
    Test,
    /// A manager corrects a record; the instanceID of the version being replaced.
    Edit { of: String },
    /// Anyone with the form's public link.
    Public,
}

/// Who holds a draft.
pub enum FillOwner<'a> {
    Account {
        access: &'a ProjectAccess,
        principal: &'a Principal,
    },
    /// The holder of a public link and of the draft's cookie secret.
    Public { token: &'a str, secret: &'a str },
}

/// A draft with everything needed to show and move it.
#[derive(Debug, Clone)]
pub struct FillState {
    pub draft: DraftRow,
    pub form: FormRow,
    pub version: FormVersionRow,
    pub model: baraza_xlsform::Form,
    pub filling: Filling,
    pub at: At,
    /// CSV files of `*_from_file` selects, by name.
    pub list_files: HashMap<String, Vec<u8>>,
    pub mode: FillMode,
    pub project: ProjectId,
}

impl FillState {
    /// The engine for this draft's form, showing texts in form language `lang`.
    pub fn engine(&self, lang: &str) -> Engine<'_> {
        Engine::new(&self.model, lang, &self.list_files)
    }
}

/// A file uploaded on a page, already a durable blob.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The question's instance path (the input's name).
    pub path: String,
    /// The name the browser gave, for its extension.
    pub file_name: String,
    pub blob: BlobRef,
    /// Its key when the blob is sealed (see [`crate::files`]).
    pub key: Option<crate::files::FileKey>,
}

/// What sending a draft did.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Not sent: these answers have problems.
    Problems(Vec<Problem>),
    /// A test of a draft form: the XML it would have sent.
    Tested { xml: String },
    /// Stored (or already stored by an earlier click).
    Stored { instance_id: String },
}

/// What a public form's page needs.
#[derive(Debug, Clone)]
pub struct PublicForm {
    pub form: FormRow,
    pub version: FormVersionRow,
    pub project: ProjectId,
}

/// A new instanceID: `uuid:` and a random (version 4) UUID.
pub(crate) fn new_instance_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `YYYY-MM-DD` and `YYYY-MM-DDThh:mm:ss.000+00:00` of a Unix time (UTC).
fn iso(unix: i64) -> (String, String) {
    let (y, m, d, hh, mm, ss) = crate::forms::civil(unix);
    let date = format!("{y:04}-{m:02}-{d:02}");
    let time = format!("{date}T{hh:02}:{mm:02}:{ss:02}.000+00:00");
    (date, time)
}

fn json_err(e: serde_json::Error) -> CoreError {
    CoreError::Store(StoreError::Corrupt(format!("draft: {e}")))
}

/// A safe stored name for an uploaded file: the time, a random part, and the extension the
/// browser gave when it is short and plain.
fn stored_file_name(given: &str, now: i64) -> String {
    use rand::RngCore;
    let ext: String = given
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".to_owned());
    let mut r = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut r);
    format!("{now}-{}.{ext}", hex::encode(r))
}

impl Core {
    /// What expressions see of the world when `principal` fills a form now.
    pub fn fill_env(&self, user: Option<&baraza_store::User>) -> Env {
        let now = self.now();
        let (today, now_iso) = iso(now);
        Env {
            now: now_iso,
            today,
            now_days: now as f64 / 86_400.0,
            device_id: "baraza-web".to_owned(),
            username: user.map(|u| u.email.clone()).unwrap_or_default(),
            email: user.map(|u| u.email.clone()).unwrap_or_default(),
        }
    }

    /// The mode in which this person may fill this form, or why not.
    fn fill_mode(&self, access: &ProjectAccess, form: &FormRow) -> Result<FillMode, CoreError> {
        match form.state {
            FormState::Published => {
                access.require(Permission::SubmitData)?;
                Ok(FillMode::Submit)
            }
            FormState::Draft => {
                access.require(Permission::ManageForms)?;
                Ok(FillMode::Test)
            }
            FormState::Closed => Err(CoreError::FormNotOpen),
        }
    }

    /// A form that a person could fill, with their drafts of it.
    pub async fn fill_overview(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
    ) -> Result<(FormRow, FormVersionRow, FillMode, Vec<DraftRow>), CoreError> {
        access.require(Permission::ViewForms)?;
        let user = principal.require_user()?;
        let (form, version) = self.form(access, xml_form_id).await?;
        let mode = self.fill_mode(access, &form)?;
        let drafts = self.store.user_drafts(form.id, user.id).await?;
        Ok((form, version, mode, drafts))
    }

    async fn create_draft(
        &self,
        form: &FormRow,
        version: &FormVersionRow,
        user: Option<&baraza_store::User>,
        secret_hash: Option<String>,
        filling: Filling,
        edit_of: Option<String>,
    ) -> Result<DraftRow, CoreError> {
        let now = self.now();
        let id = random_secret();
        let model = self.form_model(version.id).await?;
        let state_json = self
            .seal_draft(
                form.project_id.0,
                &model,
                &id,
                serde_json::to_string(&filling).map_err(json_err)?,
            )
            .await?;
        let row = DraftRow {
            id,
            form_id: form.id,
            form_version_id: version.id,
            user_id: user.map(|u| u.id),
            secret_hash,
            edit_of,
            state_json,
            at_json: serde_json::to_string(&At::Page(0)).map_err(json_err)?,
            created_at: now,
            updated_at: now,
        };
        self.store.create_draft(&row).await?;
        Ok(row)
    }

    fn model_of(version: &FormVersionRow) -> Result<baraza_xlsform::Form, CoreError> {
        Ok(crate::forms::read_model(&version.model_json)?)
    }

    /// The CSV files of a form's `*_from_file` selects.
    pub(crate) async fn list_files(
        &self,
        form_id: i64,
        model: &baraza_xlsform::Form,
    ) -> Result<HashMap<String, Vec<u8>>, CoreError> {
        use baraza_xlsform::model::QType;
        let wanted: Vec<&String> = model
            .questions()
            .into_iter()
            .filter(|q| {
                matches!(
                    q.qtype,
                    QType::SelectOneFromFile | QType::SelectMultipleFromFile
                )
            })
            .filter_map(|q| q.list.as_ref())
            .collect();
        let mut out = HashMap::new();
        if wanted.is_empty() {
            return Ok(out);
        }
        for a in self.store.form_attachments(form_id).await? {
            if wanted.contains(&&a.name) {
                if let Ok(bytes) = self.blobs.read(&a.sha256).await {
                    out.insert(a.name, bytes);
                }
            }
        }
        Ok(out)
    }

    fn new_filling(
        &self,
        model: &baraza_xlsform::Form,
        user: Option<&baraza_store::User>,
        files: &HashMap<String, Vec<u8>>,
    ) -> Filling {
        let env = self.fill_env(user);
        let engine = Engine::new(model, "default", files);
        let mut f = engine.start(&env);
        f.instance_id = new_instance_id();
        f
    }

    /// Starts filling a form as a member (or testing a draft form as a manager).
    pub async fn start_fill(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
    ) -> Result<DraftRow, CoreError> {
        let user = principal.require_user()?;
        let (form, version) = self.form(access, xml_form_id).await?;
        self.fill_mode(access, &form)?;
        let model = Self::model_of(&version)?;
        let files = self.list_files(form.id, &model).await?;
        let filling = self.new_filling(&model, Some(user), &files);
        self.create_draft(&form, &version, Some(user), None, filling, None)
            .await
    }

    /// Starts correcting a record: a draft filled with the answers of its current version.
    pub async fn start_edit(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<DraftRow, CoreError> {
        access.require(Permission::EditData)?;
        let user = principal.require_user()?;
        let (form, _) = self.form(access, xml_form_id).await?;
        let row = self
            .store
            .submission(form.id, instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let history = self
            .store
            .submission_history(form.id, &row.root_instance_id)
            .await?;
        let current = history
            .into_iter()
            .rev()
            .find(|r| r.is_current)
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let version = self
            .store
            .form_version(current.form_version_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let model = Self::model_of(&version)?;
        let files = self.list_files(form.id, &model).await?;
        let engine = Engine::new(&model, "default", &files);
        // Editing needs every answer (managers may see personal data): sealed ones are opened.
        let opened = self
            .mask_for(access, form.id)
            .await?
            .apply(&current.values_json, &current.instance_id)?;
        let values: Vec<baraza_openrosa::TypedValue> =
            serde_json::from_str(&opened).map_err(json_err)?;
        let raw: Vec<(String, String)> = values
            .iter()
            .map(|v| (v.path.clone(), v.value.to_raw()))
            .collect();
        let (_, now_iso) = iso(self.now());
        let started = raw
            .iter()
            .find(|(p, _)| p == &format!("/{}/start", model.root))
            .map(|(_, v)| v.clone())
            .unwrap_or(now_iso);
        let mut filling =
            engine.filling_from_values(raw.iter().map(|(p, v)| (p.as_str(), v.as_str())), &started);
        filling.instance_id = new_instance_id();
        for (file, size) in self.store.received_attachments(current.id).await? {
            let Some(sha256) = file.sha256 else {
                continue;
            };
            filling.files.insert(
                file.name,
                FileRef {
                    sha256,
                    size: size.max(0) as u64,
                    key: file.key,
                },
            );
        }
        self.create_draft(
            &form,
            &version,
            Some(user),
            None,
            filling,
            Some(current.instance_id),
        )
        .await
    }

    /// The form a public link opens, if the link is on and the form published.
    pub async fn public_form(&self, token: &str) -> Result<PublicForm, CoreError> {
        if token.is_empty() || token.len() > 100 {
            return Err(CoreError::NotFound { what: "form" });
        }
        let (project, xml_form_id) = self
            .store
            .form_by_public_token(token)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let (form, version) = self.form_in(project, xml_form_id.as_str()).await?;
        if form.state != FormState::Published {
            return Err(CoreError::FormNotOpen);
        }
        Ok(PublicForm {
            form,
            version,
            project,
        })
    }

    /// Counts one event of `what` for a client address against the public links' hourly limit.
    pub(crate) async fn rate(
        &self,
        what: &str,
        client: &str,
        per_hour: i64,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let key = format!("{what}:{client}");
        if self
            .store
            .rate_hit(&key, now - RATE_WINDOW_SECS, per_hour, now)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::RateLimited {
                retry_after_secs: RATE_WINDOW_SECS,
            })
        }
    }

    /// Starts filling a form through its public link; returns the draft and the secret the
    /// browser keeps in a cookie.
    pub async fn start_public_fill(
        &self,
        token: &str,
        client_addr: &str,
    ) -> Result<(DraftRow, String), CoreError> {
        let public = self.public_form(token).await?;
        self.rate(
            "public-draft",
            client_addr,
            self.settings.public_submissions_per_hour.saturating_mul(4),
        )
        .await?;
        let model = Self::model_of(&public.version)?;
        let files = self.list_files(public.form.id, &model).await?;
        let filling = self.new_filling(&model, None, &files);
        let secret = random_secret();
        let row = self
            .create_draft(
                &public.form,
                &public.version,
                None,
                Some(digest(&secret)),
                filling,
                None,
            )
            .await?;
        Ok((row, secret))
    }

    /// A draft, for its owner.
    pub async fn open_fill(
        &self,
        owner: &FillOwner<'_>,
        draft_id: &str,
    ) -> Result<FillState, CoreError> {
        let not_found = CoreError::NotFound { what: "draft" };
        if draft_id.is_empty() || draft_id.len() > 100 {
            return Err(not_found);
        }
        let draft = self.store.draft(draft_id).await?.ok_or(not_found)?;
        let (form, project, mode) = match owner {
            FillOwner::Account { access, principal } => {
                let user = principal.require_user()?;
                if draft.user_id != Some(user.id) {
                    return Err(CoreError::NotFound { what: "draft" });
                }
                let form = self
                    .store
                    .form_by_id(draft.form_id)
                    .await?
                    .filter(|f| f.project_id == access.project.id)
                    .ok_or(CoreError::NotFound { what: "draft" })?;
                let mode = match &draft.edit_of {
                    Some(of) => {
                        access.require(Permission::EditData)?;
                        FillMode::Edit { of: of.clone() }
                    }
                    None => self.fill_mode(access, &form)?,
                };
                (form, access.project.id, mode)
            }
            FillOwner::Public { token, secret } => {
                let public = self.public_form(token).await?;
                let ok = draft.user_id.is_none()
                    && draft.form_id == public.form.id
                    && draft
                        .secret_hash
                        .as_deref()
                        .is_some_and(|h| crate::constant_time_eq(h, &digest(secret)));
                if !ok {
                    return Err(CoreError::NotFound { what: "draft" });
                }
                (public.form, public.project, FillMode::Public)
            }
        };
        let version = self
            .store
            .form_version(draft.form_version_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let model = Self::model_of(&version)?;
        let list_files = self.list_files(form.id, &model).await?;
        let state_json = self
            .open_draft(project.0, &draft.id, draft.state_json.clone())
            .await?;
        let filling: Filling = serde_json::from_str(&state_json).map_err(json_err)?;
        let at: At = serde_json::from_str(&draft.at_json).map_err(json_err)?;
        Ok(FillState {
            draft,
            form,
            version,
            model,
            filling,
            at,
            list_files,
            mode,
            project,
        })
    }

    fn user_of<'a>(owner: &'a FillOwner<'_>) -> Option<&'a baraza_store::User> {
        match owner {
            FillOwner::Account { principal, .. } => principal.user(),
            FillOwner::Public { .. } => None,
        }
    }

    /// Takes a page's post: uploaded files, answers, then the action; saves the draft.
    pub async fn fill_step(
        &self,
        owner: &FillOwner<'_>,
        state: &mut FillState,
        lang: &str,
        posted: &[(String, String)],
        uploads: &[Upload],
        action: &Action,
    ) -> Result<Step, CoreError> {
        let env = self.fill_env(Self::user_of(owner));
        let model = state.model.clone();
        let files = state.list_files.clone();
        let engine = Engine::new(&model, lang, &files);
        if let (At::Page(n), false) = (state.at, uploads.is_empty()) {
            let pages = engine.pages();
            let page = pages.get(n).cloned().unwrap_or_default();
            let allowed = engine.file_questions(&state.filling, &page, posted);
            let now = self.now();
            for u in uploads {
                if allowed.contains(&u.path) {
                    let name = stored_file_name(&u.file_name, now);
                    let key = self
                        .stored_file_key(state.project.0, u.key.as_ref(), &u.blob.sha256)
                        .await?;
                    state.filling.files.insert(
                        name.clone(),
                        FileRef {
                            sha256: u.blob.sha256.clone(),
                            size: u.blob.size,
                            key,
                        },
                    );
                    engine.set_path(&mut state.filling, &u.path, &name);
                }
            }
        }
        // A file answer can be cleared with its "remove" box.
        if let At::Page(n) = state.at {
            let pages = engine.pages();
            let page = pages.get(n).cloned().unwrap_or_default();
            for path in engine.file_questions(&state.filling, &page, posted) {
                if posted
                    .iter()
                    .any(|(k, v)| k == &format!("{path}#remove") && !v.is_empty())
                {
                    engine.set_path(&mut state.filling, &path, "");
                }
            }
        }
        let step = engine.step(&mut state.filling, &env, state.at, posted, action);
        state.at = step.at;
        // Files no answer names any more are forgotten (the blobs stay, content-addressed).
        let named = answered_files(&engine, &state.filling);
        state.filling.files.retain(|k, _| named.contains(k));
        self.save_fill(state).await?;
        Ok(step)
    }

    async fn save_fill(&self, state: &FillState) -> Result<(), CoreError> {
        let state_json = self
            .seal_draft(
                state.project.0,
                &state.model,
                &state.draft.id,
                serde_json::to_string(&state.filling).map_err(json_err)?,
            )
            .await?;
        let saved = self
            .store
            .update_draft(
                &state.draft.id,
                &state_json,
                &serde_json::to_string(&state.at).map_err(json_err)?,
                self.now(),
            )
            .await?;
        if saved {
            Ok(())
        } else {
            Err(CoreError::NotFound { what: "draft" })
        }
    }

    /// Sends a draft: every answer checked, then the submission stored through the same
    /// ingestion as ODK Collect's (or, testing a draft form, only shown). An edit needs a
    /// reason. A filled honeypot (an input people never see) is thanked and dropped.
    #[allow(clippy::too_many_arguments)]
    pub async fn fill_send(
        &self,
        owner: &FillOwner<'_>,
        state: &mut FillState,
        lang: &str,
        reason: &str,
        honeypot: bool,
        client_addr: &str,
    ) -> Result<Sent, CoreError> {
        let user = Self::user_of(owner);
        let env = self.fill_env(user);
        let model = state.model.clone();
        let files = state.list_files.clone();
        let engine = Engine::new(&model, lang, &files);
        let problems = engine.check_all(&mut state.filling, &env);
        if !problems.is_empty() {
            state.at = At::Review;
            self.save_fill(state).await?;
            return Ok(Sent::Problems(problems));
        }
        let reason = reason.trim();
        if matches!(state.mode, FillMode::Edit { .. })
            && (reason.is_empty() || reason.chars().count() > MAX_COMMENT_CHARS)
        {
            return Err(CoreError::Invalid {
                field: "reason",
                reason: "reason_required",
            });
        }
        if state.mode == FillMode::Public {
            if honeypot {
                tracing::info!(form = %state.form.xml_form_id, "public form: honeypot filled, dropped");
                self.store.delete_draft(&state.draft.id).await?;
                return Ok(Sent::Stored {
                    instance_id: state.filling.instance_id.clone(),
                });
            }
            self.rate(
                "public-submission",
                client_addr,
                self.settings.public_submissions_per_hour,
            )
            .await?;
        }
        let rel = engine.refresh(&mut state.filling, &env);
        let deprecated = match &state.mode {
            FillMode::Edit { of } => Some(of.as_str()),
            _ => None,
        };
        let xml = engine.to_xml(
            &state.filling,
            &rel,
            &env,
            &Meta {
                instance_id: &state.filling.instance_id,
                deprecated_id: deprecated,
                end: None,
            },
        );
        if state.mode == FillMode::Test {
            // Checked as a phone's submission would be, then dropped.
            let sub = baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default())
                .map_err(|e| CoreError::SubmissionInvalid {
                    code: e.code(),
                    detail: e.to_string(),
                })?;
            baraza_openrosa::type_values(&state.model, &sub).map_err(|errs| {
                CoreError::SubmissionInvalid {
                    code: errs
                        .first()
                        .map(|e| e.code())
                        .unwrap_or("submission_bad_value"),
                    detail: errs
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                }
            })?;
            self.store.delete_draft(&state.draft.id).await?;
            return Ok(Sent::Tested { xml });
        }
        let named = answered_files(&engine, &state.filling);
        let incoming: Vec<IncomingFile> = state
            .filling
            .files
            .iter()
            .filter(|(name, _)| named.contains(*name))
            .map(|(name, f)| IncomingFile {
                name: name.clone(),
                blob: BlobRef {
                    sha256: f.sha256.clone(),
                    size: f.size,
                },
                key: f.key.clone().map(crate::files::FileKey::Stored),
            })
            .collect();
        let submitter = match user {
            Some(u) => Submitter::User(u.id),
            None => Submitter::Anonymous,
        };
        let previous_state = match &state.mode {
            FillMode::Edit { of } => self
                .store
                .submission(state.form.id, of)
                .await?
                .map(|r| (r.root_instance_id, r.review_state)),
            _ => None,
        };
        let outcome = self
            .ingest_submission_via(
                state.project,
                submitter,
                if user.is_some() {
                    crate::consent::Channel::WebForm
                } else {
                    crate::consent::Channel::PublicLink
                },
                Some(engine.lang.as_str()),
                xml.as_bytes(),
                &incoming,
            )
            .await;
        match outcome {
            Ok(Ingested::Created) | Ok(Ingested::Duplicate) => {}
            // An earlier click already sent this draft.
            Err(CoreError::SubmissionConflict)
                if self
                    .store
                    .submission(state.form.id, &state.filling.instance_id)
                    .await?
                    .is_some() => {}
            Err(e) => return Err(e),
        }
        if let Some((root, review_state)) = previous_state {
            self.store
                .carry_review_state(state.form.id, &root, &review_state)
                .await?;
            self.store
                .add_submission_event(&NewSubmissionEvent {
                    form_id: state.form.id,
                    root_instance_id: &root,
                    kind: "edit",
                    review_state: None,
                    instance_id: Some(&state.filling.instance_id),
                    body: reason,
                    user_id: user.map(|u| u.id),
                    created_at: self.now(),
                })
                .await?;
            self.audit(
                user.map(|u| Actor::User(u.id)).unwrap_or(Actor::Anonymous),
                "data.edit",
                &Target::submission(state.project, &state.form.xml_form_id, &root),
                serde_json::json!({ "version": state.filling.instance_id }),
            )
            .await?;
        }
        self.store.delete_draft(&state.draft.id).await?;
        Ok(Sent::Stored {
            instance_id: state.filling.instance_id.clone(),
        })
    }

    /// Throws a draft away.
    pub async fn discard_fill(&self, state: &FillState) -> Result<(), CoreError> {
        self.store.delete_draft(&state.draft.id).await?;
        Ok(())
    }

    // ----- public links --------------------------------------------------------------------

    /// A form's public link token, if it has one.
    pub async fn public_link(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<Option<String>, CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        Ok(self.store.public_token(form.id).await?)
    }

    /// Turns a form's public link on (a new token, so an old link stops working) or off.
    pub async fn set_public_link(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        on: bool,
    ) -> Result<Option<String>, CoreError> {
        access.require(Permission::ManageForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let token = on.then(|| random_secret()[..22].to_owned());
        self.store
            .set_public_token(form.id, token.as_deref(), self.now())
            .await?;
        self.audit(
            Actor::of_access(access),
            "form.public_link_set",
            &Target::form(access.project.id, xml_form_id),
            serde_json::json!({ "on": on }),
        )
        .await?;
        Ok(token)
    }

    // ----- review --------------------------------------------------------------------------

    async fn record_root(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<(FormRow, String), CoreError> {
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let row = self
            .store
            .submission(form.id, instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let rows = self.rows_for(access, form.id).await?;
        self.require_record(&rows, form.id, &row.root_instance_id)
            .await?;
        Ok((form, row.root_instance_id))
    }

    /// Sets a record's review state, with an optional comment.
    pub async fn review_submission(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
        instance_id: &str,
        state: &str,
        comment: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ReviewData)?;
        let user = principal.require_user()?;
        if !REVIEW_STATES.contains(&state) {
            return Err(CoreError::Invalid {
                field: "review_state",
                reason: "review_state_unknown",
            });
        }
        let comment = comment.trim();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(CoreError::Invalid {
                field: "comment",
                reason: "comment_too_long",
            });
        }
        let (form, root) = self.record_root(access, xml_form_id, instance_id).await?;
        let e = NewSubmissionEvent {
            form_id: form.id,
            root_instance_id: &root,
            kind: "review",
            review_state: Some(state),
            instance_id: None,
            body: comment,
            user_id: Some(user.id),
            created_at: self.now(),
        };
        if self.store.set_review_state(&e, state).await? {
            self.audit(
                Actor::User(user.id),
                "data.review",
                &Target::submission(access.project.id, xml_form_id, &root),
                serde_json::json!({ "state": state }),
            )
            .await?;
            Ok(())
        } else {
            Err(CoreError::NotFound { what: "submission" })
        }
    }

    /// Comments on a record.
    pub async fn comment_submission(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
        instance_id: &str,
        body: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ReviewData)?;
        let user = principal.require_user()?;
        let body = body.trim();
        if body.is_empty() || body.chars().count() > MAX_COMMENT_CHARS {
            return Err(CoreError::Invalid {
                field: "comment",
                reason: "comment_length",
            });
        }
        let (form, root) = self.record_root(access, xml_form_id, instance_id).await?;
        self.store
            .add_submission_event(&NewSubmissionEvent {
                form_id: form.id,
                root_instance_id: &root,
                kind: "comment",
                review_state: None,
                instance_id: None,
                body,
                user_id: Some(user.id),
                created_at: self.now(),
            })
            .await?;
        self.audit(
            Actor::User(user.id),
            "data.comment",
            &Target::submission(access.project.id, xml_form_id, &root),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// A record's comments, reviews and edits, oldest first.
    pub async fn submission_events(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
    ) -> Result<Vec<SubmissionEvent>, CoreError> {
        access.require(Permission::ViewData)?;
        let (form, root) = self.record_root(access, xml_form_id, instance_id).await?;
        Ok(self.store.submission_events(form.id, &root).await?)
    }

    /// Who sent each of these versions: a person's or a phone's name.
    pub async fn version_submitters(
        &self,
        access: &ProjectAccess,
        rows: &[baraza_store::SubmissionRow],
    ) -> Result<HashMap<i64, String>, CoreError> {
        access.require(Permission::ViewData)?;
        let mut out = HashMap::new();
        let mut users = Vec::new();
        let mut apps = Vec::new();
        let mut by_row = Vec::new();
        for r in rows {
            let (u, a) = self.store.submission_submitter(r.id).await?;
            if let Some(u) = u {
                users.push(u);
            }
            if let Some(a) = a {
                apps.push(a);
            }
            by_row.push((r.id, u, a));
        }
        let (un, an) = self.store.submitter_names(&users, &apps).await?;
        for (id, u, a) in by_row {
            let name = u
                .and_then(|u| un.iter().find(|(i, _)| *i == u).map(|(_, n)| n.clone()))
                .or_else(|| {
                    a.and_then(|a| an.iter().find(|(i, _)| *i == a).map(|(_, n)| n.clone()))
                });
            if let Some(n) = name {
                out.insert(id, n);
            }
        }
        Ok(out)
    }

    /// Housekeeping of the web form: old drafts and old rate-limit events go.
    pub async fn purge_fill(&self) -> Result<u64, CoreError> {
        let now = self.now();
        let a = self
            .store
            .purge_drafts(now - ACCOUNT_DRAFT_SECS, now - PUBLIC_DRAFT_SECS)
            .await?;
        let b = self.store.purge_rate_events(now - 24 * 3600).await?;
        Ok(a + b)
    }
}

/// The file names that file questions answer (the files a submission must carry).
fn answered_files(engine: &Engine<'_>, f: &Filling) -> Vec<String> {
    use baraza_xlsform::model::QType;
    let mut out = Vec::new();
    for (id, def) in engine.idx.defs.iter().enumerate() {
        let Some(q) = def.question() else { continue };
        if !matches!(
            q.qtype,
            QType::Image | QType::Audio | QType::Video | QType::File
        ) {
            continue;
        }
        for loc in engine.locations(&f.answers, id) {
            let v = f.answers.get(&engine.idx, id, &loc);
            if !v.is_empty() {
                out.push(v.to_owned());
            }
        }
    }
    out
}
