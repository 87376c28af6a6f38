//! Forms and their versions, app users, submissions and their attachments.

use crate::db::{q, Mode, Row};
use crate::{parse_enum, Store, StoreError};
use baraza_types::{ProjectId, UserId};
use std::fmt;
use std::str::FromStr;

/// Where a form is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormState {
    /// Uploaded, testable by the project's people, not served to app users.
    Draft,
    /// Served to ODK Collect and open to submissions.
    Published,
    /// Kept with its data, no longer served nor open to submissions.
    Closed,
}

impl FormState {
    pub fn as_str(self) -> &'static str {
        match self {
            FormState::Draft => "draft",
            FormState::Published => "published",
            FormState::Closed => "closed",
        }
    }
}

impl fmt::Display for FormState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FormState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "draft" => Ok(FormState::Draft),
            "published" => Ok(FormState::Published),
            "closed" => Ok(FormState::Closed),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FormRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub xml_form_id: String,
    pub title: String,
    pub state: FormState,
    pub current_version_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct FormVersionRow {
    pub id: i64,
    pub form_id: i64,
    pub version: String,
    pub title: String,
    pub xform: String,
    pub xform_md5: String,
    pub model_json: String,
    pub warnings_json: String,
    pub source_name: String,
    pub source_sha256: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// What a new version carries.
#[derive(Debug, Clone)]
pub struct NewFormVersion<'a> {
    pub project: ProjectId,
    pub xml_form_id: &'a str,
    pub version: &'a str,
    pub title: &'a str,
    pub xform: &'a str,
    pub xform_md5: &'a str,
    pub model_json: &'a str,
    pub warnings_json: &'a str,
    pub source_name: &'a str,
    pub source_sha256: &'a str,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// A form in a list, with its current version's number and its number of current submissions.
#[derive(Debug, Clone)]
pub struct FormListing {
    pub form: FormRow,
    pub version: Option<String>,
    pub submissions: i64,
}

#[derive(Debug, Clone)]
pub struct AppUser {
    pub id: i64,
    pub project_id: ProjectId,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct SubmissionRow {
    pub id: i64,
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: String,
    pub root_instance_id: String,
    pub deprecated_id: Option<String>,
    pub is_current: bool,
    pub xml_sha256: String,
    pub values_json: String,
    pub review_state: String,
    pub received_at: i64,
}

const FORM_COLS: &str =
    "id, project_id, xml_form_id, title, state, current_version_id, created_at, updated_at";
const VERSION_COLS: &str = "id, form_id, version, title, xform, xform_md5, model_json, warnings_json, source_name, source_sha256, created_by, created_at";
const SUB_COLS: &str = "id, form_id, form_version_id, instance_id, root_instance_id, deprecated_id, is_current, xml_sha256, values_json, review_state, received_at";

fn form_from(r: &Row) -> Result<FormRow, StoreError> {
    Ok(FormRow {
        id: r.get("id")?,
        project_id: ProjectId(r.get("project_id")?),
        xml_form_id: r.get("xml_form_id")?,
        title: r.get("title")?,
        state: parse_enum(&r.get::<String>("state")?, "forms.state")?,
        current_version_id: r.get("current_version_id")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn version_from(r: &Row) -> Result<FormVersionRow, StoreError> {
    Ok(FormVersionRow {
        id: r.get("id")?,
        form_id: r.get("form_id")?,
        version: r.get("version")?,
        title: r.get("title")?,
        xform: r.get("xform")?,
        xform_md5: r.get("xform_md5")?,
        model_json: r.get("model_json")?,
        warnings_json: r.get("warnings_json")?,
        source_name: r.get("source_name")?,
        source_sha256: r.get("source_sha256")?,
        created_by: r.get::<Option<i64>>("created_by")?.map(UserId),
        created_at: r.get("created_at")?,
    })
}

fn submission_from(r: &Row) -> Result<SubmissionRow, StoreError> {
    Ok(SubmissionRow {
        id: r.get("id")?,
        form_id: r.get("form_id")?,
        form_version_id: r.get("form_version_id")?,
        instance_id: r.get("instance_id")?,
        root_instance_id: r.get("root_instance_id")?,
        deprecated_id: r.get("deprecated_id")?,
        is_current: r.get("is_current")?,
        xml_sha256: r.get("xml_sha256")?,
        values_json: r.get("values_json")?,
        review_state: r.get("review_state")?,
        received_at: r.get("received_at")?,
    })
}

/// The SQL texts are built once from the column lists above (each query is still one text shared
/// by both backends).
macro_rules! sql {
    ($($part:expr),+ $(,)?) => {{
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TEXT.get_or_init(|| [$($part),+].concat()).as_str()
    }};
}

impl Store {
    /// Stores a new version of a form, creating the form (as a draft) on its first upload. The new
    /// version becomes the current one. A version number already used is a conflict.
    pub async fn add_form_version(
        &self,
        v: &NewFormVersion<'_>,
    ) -> Result<(FormRow, FormVersionRow), StoreError> {
        let mut tx = self.pools.begin().await?;
        let existing = tx
            .conn()
            .fetch_optional(
                q(sql!(
                    "SELECT ",
                    FORM_COLS,
                    " FROM forms WHERE project_id = $1 AND xml_form_id = $2"
                ))
                .bind(v.project.0)
                .bind(v.xml_form_id),
            )
            .await?;
        let form_id = match existing {
            Some(r) => form_from(&r)?.id,
            None => tx
                .conn()
                .fetch_one(
                    q("INSERT INTO forms (project_id, xml_form_id, title, state, created_at, updated_at)
                       VALUES ($1, $2, $3, 'draft', $4, $4) RETURNING id")
                    .bind(v.project.0)
                    .bind(v.xml_form_id)
                    .bind(v.title)
                    .bind(v.created_at),
                )
                .await?
                .get("id")?,
        };
        let row = tx
            .conn()
            .fetch_one(
                q(sql!(
                    "INSERT INTO form_versions (form_id, version, title, xform, xform_md5, model_json, warnings_json, source_name, source_sha256, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
                    VERSION_COLS
                ))
                .bind(form_id)
                .bind(v.version)
                .bind(v.title)
                .bind(v.xform)
                .bind(v.xform_md5)
                .bind(v.model_json)
                .bind(v.warnings_json)
                .bind(v.source_name)
                .bind(v.source_sha256)
                .bind(v.created_by.map(|u| u.0))
                .bind(v.created_at),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => StoreError::Conflict {
                    what: "form_versions.version",
                },
                other => other,
            })?;
        let version = version_from(&row)?;
        let form = tx
            .conn()
            .fetch_one(
                q(sql!(
                    "UPDATE forms SET current_version_id = $1, title = $2, updated_at = $3 WHERE id = $4 RETURNING ",
                    FORM_COLS
                ))
                .bind(version.id)
                .bind(v.title)
                .bind(v.created_at)
                .bind(form_id),
            )
            .await?;
        let form = form_from(&form)?;
        tx.commit().await?;
        Ok((form, version))
    }

    pub async fn list_forms(&self, project: ProjectId) -> Result<Vec<FormListing>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT f.id, f.project_id, f.xml_form_id, f.title, f.state, f.current_version_id, f.created_at, f.updated_at,
                          v.version AS version,
                          (SELECT COUNT(*) FROM submissions s WHERE s.form_id = f.id AND s.is_current) AS n
                   FROM forms f LEFT JOIN form_versions v ON v.id = f.current_version_id
                   WHERE f.project_id = $1 ORDER BY f.title, f.id")
                .bind(project.0),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FormListing {
                    form: form_from(r)?,
                    version: r.get("version")?,
                    submissions: r.get("n")?,
                })
            })
            .collect()
    }

    pub async fn form_by_xml_id(
        &self,
        project: ProjectId,
        xml_form_id: &str,
    ) -> Result<Option<FormRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(sql!(
                    "SELECT ",
                    FORM_COLS,
                    " FROM forms WHERE project_id = $1 AND xml_form_id = $2"
                ))
                .bind(project.0)
                .bind(xml_form_id),
            )
            .await?
            .map(|r| form_from(&r))
            .transpose()
    }

    pub async fn form_by_id(&self, id: i64) -> Result<Option<FormRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(sql!("SELECT ", FORM_COLS, " FROM forms WHERE id = $1")).bind(id),
            )
            .await?
            .map(|r| form_from(&r))
            .transpose()
    }

    pub async fn form_version(&self, id: i64) -> Result<Option<FormVersionRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(sql!(
                    "SELECT ",
                    VERSION_COLS,
                    " FROM form_versions WHERE id = $1"
                ))
                .bind(id),
            )
            .await?
            .map(|r| version_from(&r))
            .transpose()
    }

    pub async fn form_version_by_number(
        &self,
        form_id: i64,
        version: &str,
    ) -> Result<Option<FormVersionRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(sql!(
                    "SELECT ",
                    VERSION_COLS,
                    " FROM form_versions WHERE form_id = $1 AND version = $2"
                ))
                .bind(form_id)
                .bind(version),
            )
            .await?
            .map(|r| version_from(&r))
            .transpose()
    }

    /// A form of a project by its id, with the id of its version with this number, if it has
    /// one: what a submission needs, in one query.
    pub async fn form_with_version(
        &self,
        project: ProjectId,
        xml_form_id: &str,
        version: &str,
    ) -> Result<Option<(FormRow, Option<i64>)>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT f.id, f.project_id, f.xml_form_id, f.title, f.state, f.current_version_id,
                          f.created_at, f.updated_at, v.id AS version_id
                   FROM forms f LEFT JOIN form_versions v ON v.form_id = f.id AND v.version = $3
                   WHERE f.project_id = $1 AND f.xml_form_id = $2")
                .bind(project.0)
                .bind(xml_form_id)
                .bind(version),
            )
            .await?
            .map(|r| Ok((form_from(&r)?, r.get("version_id")?)))
            .transpose()
    }

    pub async fn set_form_state(
        &self,
        form_id: i64,
        state: FormState,
        now: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE forms SET state = $1, updated_at = $2,
                          published_at = CASE WHEN $1 = 'published' THEN COALESCE(published_at, $2) ELSE published_at END
                   WHERE id = $3")
                    .bind(state.as_str())
                    .bind(now)
                    .bind(form_id),
            )
            .await?;
        Ok(())
    }

    // ----- app users -------------------------------------------------------------------------

    pub async fn create_app_user(
        &self,
        project: ProjectId,
        name: &str,
        token_hash: &str,
        created_by: Option<UserId>,
        now: i64,
    ) -> Result<AppUser, StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Write,
                q("INSERT INTO app_users (project_id, name, token_hash, created_by, created_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id, project_id, name, created_at, revoked_at")
                .bind(project.0)
                .bind(name)
                .bind(token_hash)
                .bind(created_by.map(|u| u.0))
                .bind(now),
            )
            .await?;
        app_user_from(&r)
    }

    pub async fn list_app_users(&self, project: ProjectId) -> Result<Vec<AppUser>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, project_id, name, created_at, revoked_at FROM app_users
                   WHERE project_id = $1 ORDER BY revoked_at IS NOT NULL, name, id",
                )
                .bind(project.0),
            )
            .await?
            .iter()
            .map(app_user_from)
            .collect()
    }

    /// The live app user whose token has this digest.
    pub async fn app_user_by_token(&self, token_hash: &str) -> Result<Option<AppUser>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT id, project_id, name, created_at, revoked_at FROM app_users
                   WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash),
            )
            .await?
            .map(|r| app_user_from(&r))
            .transpose()
    }

    /// The live app user whose token has this digest, if it belongs to `project`, with the
    /// project: what each OpenRosa request of a phone needs, in one query.
    pub async fn app_user_in_project(
        &self,
        token_hash: &str,
        project: ProjectId,
    ) -> Result<Option<(AppUser, crate::Project)>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT p.id, p.org_id, p.slug, p.name, p.description, p.visibility, p.created_at,
                          a.id AS app_user_id, a.name AS app_user_name,
                          a.created_at AS app_user_created_at
                   FROM app_users a JOIN projects p ON p.id = a.project_id
                   WHERE a.token_hash = $1 AND a.project_id = $2 AND a.revoked_at IS NULL")
                .bind(token_hash)
                .bind(project.0),
            )
            .await?
            .map(|r| {
                Ok((
                    AppUser {
                        id: r.get("app_user_id")?,
                        project_id: project,
                        name: r.get("app_user_name")?,
                        created_at: r.get("app_user_created_at")?,
                        revoked_at: None,
                    },
                    crate::project_from(&r)?,
                ))
            })
            .transpose()
    }

    pub async fn revoke_app_user(
        &self,
        project: ProjectId,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("UPDATE app_users SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .bind(project.0),
            )
            .await?
            == 1)
    }

    // ----- submissions -----------------------------------------------------------------------

    /// The attachments a submission names, with the digest (and sealed key) of those received.
    pub async fn submission_attachments(
        &self,
        submission_id: i64,
    ) -> Result<Vec<StoredFileRef>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT name, sha256, file_key FROM submission_attachments WHERE submission_id = $1 ORDER BY name")
                    .bind(submission_id),
            )
            .await?
            .iter()
            .map(stored_file_ref)
            .collect()
    }

    /// Attachments received before files were sealed at rest (or while sealing was off), with
    /// their project: at most `limit`.
    pub async fn clear_attachments(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, i64, StoredFileRef)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT a.submission_id, f.project_id, a.name, a.sha256, a.file_key
                   FROM submission_attachments a
                   JOIN submissions s ON s.id = a.submission_id
                   JOIN forms f ON f.id = s.form_id
                   WHERE a.sha256 IS NOT NULL AND a.file_key IS NULL
                   ORDER BY a.submission_id, a.name LIMIT $1",
                )
                .bind(limit),
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.get("submission_id")?,
                    r.get("project_id")?,
                    stored_file_ref(r)?,
                ))
            })
            .collect()
    }

    /// Points an attachment row that names the clear blob `old` at its sealed copy `new`, with
    /// the copy's sealed key; returns how many rows changed (0 when the row changed meanwhile).
    pub async fn seal_attachment(
        &self,
        submission_id: i64,
        name: &str,
        old: &str,
        new: &str,
        key: &str,
    ) -> Result<u64, StoreError> {
        self.pools
            .execute(
                q(
                    "UPDATE submission_attachments SET sha256 = $1, file_key = $2
                   WHERE submission_id = $3 AND name = $4 AND sha256 = $5 AND file_key IS NULL",
                )
                .bind(new)
                .bind(key)
                .bind(submission_id)
                .bind(name)
                .bind(old),
            )
            .await
    }

    pub async fn submission(
        &self,
        form_id: i64,
        instance_id: &str,
    ) -> Result<Option<SubmissionRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q(sql!(
                    "SELECT ",
                    SUB_COLS,
                    " FROM submissions WHERE form_id = $1 AND instance_id = $2"
                ))
                .bind(form_id)
                .bind(instance_id),
            )
            .await?
            .map(|r| submission_from(&r))
            .transpose()
    }

    /// Current submissions of a form after `after_id`, oldest first (keyset paging).
    pub async fn list_submissions(
        &self,
        form_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<SubmissionRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(sql!(
                    "SELECT ", SUB_COLS,
                    " FROM submissions WHERE form_id = $1 AND is_current AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(form_id)
                .bind(after_id)
                .bind(limit),
            )
            .await?
            .iter()
            .map(submission_from)
            .collect()
    }

    /// Every version of a record, oldest first.
    pub async fn submission_history(
        &self,
        form_id: i64,
        root_instance_id: &str,
    ) -> Result<Vec<SubmissionRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(sql!(
                    "SELECT ",
                    SUB_COLS,
                    " FROM submissions WHERE form_id = $1 AND root_instance_id = $2 ORDER BY id"
                ))
                .bind(form_id)
                .bind(root_instance_id),
            )
            .await?
            .iter()
            .map(submission_from)
            .collect()
    }
}

/// A file a form uses.
#[derive(Debug, Clone)]
pub struct FormAttachment {
    pub name: String,
    pub sha256: String,
    /// `md5:<hex>`, as OpenRosa manifests give it.
    pub md5: String,
    pub size: i64,
    pub uploaded_at: i64,
}

impl Store {
    /// Stores (or replaces) a file of a form.
    pub async fn put_form_attachment(
        &self,
        form_id: i64,
        a: &FormAttachment,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("INSERT INTO form_attachments (form_id, name, sha256, md5, size, uploaded_at)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (form_id, name) DO UPDATE
                   SET sha256 = excluded.sha256, md5 = excluded.md5, size = excluded.size, uploaded_at = excluded.uploaded_at")
                .bind(form_id)
                .bind(a.name.as_str())
                .bind(a.sha256.as_str())
                .bind(a.md5.as_str())
                .bind(a.size)
                .bind(a.uploaded_at),
            )
            .await?;
        Ok(())
    }

    pub async fn form_attachments(&self, form_id: i64) -> Result<Vec<FormAttachment>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT name, sha256, md5, size, uploaded_at FROM form_attachments WHERE form_id = $1 ORDER BY name")
                    .bind(form_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(FormAttachment {
                    name: r.get("name")?,
                    sha256: r.get("sha256")?,
                    md5: r.get("md5")?,
                    size: r.get("size")?,
                    uploaded_at: r.get("uploaded_at")?,
                })
            })
            .collect()
    }
}

fn app_user_from(r: &Row) -> Result<AppUser, StoreError> {
    Ok(AppUser {
        id: r.get("id")?,
        project_id: ProjectId(r.get("project_id")?),
        name: r.get("name")?,
        created_at: r.get("created_at")?,
        revoked_at: r.get("revoked_at")?,
    })
}

/// A file a stored row names: its name, the blob's digest once it arrived, and the file's own
/// key sealed under the project's data key when the blob is sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFileRef {
    pub name: String,
    pub sha256: Option<String>,
    pub key: Option<String>,
}

pub(crate) fn stored_file_ref(r: &Row) -> Result<StoredFileRef, StoreError> {
    Ok(StoredFileRef {
        name: r.get("name")?,
        sha256: r.get("sha256")?,
        key: r.get("file_key")?,
    })
}
