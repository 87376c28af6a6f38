//! ODK Central's API, so that pyodk (and tools that read Central's OData feed, such as Excel and
//! Power BI) work with Baraza: sessions for scripts, the person's projects, forms, submissions
//! (read, and created from XML through the one ingestion path), and the OData feed of a form.
//!
//! Every call takes the caller's [`ProjectAccess`] and checks its permission here, as every other
//! use case does: `ViewForms` for forms, `ViewData` for submissions and the feed, `SubmitData` to
//! create. A submission is known by the instanceID of its first version (Central's `instanceId`);
//! its data are those of its current version.

use crate::access::{Principal, ProjectAccess, Via};
use crate::audit::{Actor, Target};
use crate::auth::{ClientInfo, NewSession};
use crate::forms::{Ingested, Submitter};
use crate::secret::digest;
use crate::{Core, CoreError};
use baraza_odata as odata;
use baraza_openrosa::{Typed, TypedValue};
use baraza_store::{
    FeedPage, FeedRow, FilterOp, FilterValue, FormRow, FormVersionRow, ProjectListing, StoreError,
    SubmissionField, SubmissionFilter,
};
use baraza_types::Permission;

/// A form as Central's API shows it.
#[derive(Debug, Clone)]
pub struct CentralForm {
    pub form: FormRow,
    pub version: FormVersionRow,
    pub published_at: Option<i64>,
    pub submissions: i64,
}

/// A submission with its current values and its system data.
#[derive(Debug, Clone)]
pub struct FeedSubmission {
    pub row: FeedRow,
    pub values: Vec<TypedValue>,
    pub system: odata::System,
}

impl FeedSubmission {
    fn from_row(row: FeedRow) -> Result<FeedSubmission, CoreError> {
        let values = stored_values(&row.values_json)?;
        let system = odata::System {
            submission_date: row.created_at,
            updated_at: row.updated_at,
            submitter_id: row.submitter_id,
            submitter_name: row.submitter_name.clone(),
            attachments_present: row.attachments_present,
            attachments_expected: row.attachments_expected,
            review_state: row.review_state.clone(),
            edits: row.edits,
            form_version: row.form_version.clone(),
        };
        Ok(FeedSubmission {
            row,
            values,
            system,
        })
    }

    /// `meta/instanceName`, if the form gives submissions a name.
    pub fn instance_name(&self) -> Option<&str> {
        self.values.iter().find_map(|v| match &v.value {
            Typed::Text(t) if v.repeat.is_none() && v.path.ends_with("/meta/instanceName") => {
                Some(t.as_str())
            }
            _ => None,
        })
    }

    /// As the feed's row writer needs it.
    pub fn as_odata(&self) -> odata::Submission<'_> {
        odata::Submission {
            instance_id: &self.row.root_instance_id,
            values: &self.values,
            system: &self.system,
        }
    }
}

/// A submission's typed values as stored at ingestion.
fn stored_values(values_json: &str) -> Result<Vec<TypedValue>, CoreError> {
    serde_json::from_str(values_json)
        .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("submission values: {e}"))))
}

fn store_filter(f: &odata::Filter) -> SubmissionFilter {
    use odata::{CmpOp, Filter, Lit, SysField};
    match f {
        Filter::Const(b) => SubmissionFilter::Const(*b),
        Filter::Not(a) => SubmissionFilter::Not(Box::new(store_filter(a))),
        Filter::And(a, b) => {
            SubmissionFilter::And(Box::new(store_filter(a)), Box::new(store_filter(b)))
        }
        Filter::Or(a, b) => {
            SubmissionFilter::Or(Box::new(store_filter(a)), Box::new(store_filter(b)))
        }
        Filter::Cmp(field, op, lit) => SubmissionFilter::Cmp(
            match field {
                SysField::SubmissionDate => SubmissionField::SubmissionDate,
                SysField::UpdatedAt => SubmissionField::UpdatedAt,
                SysField::SubmitterId => SubmissionField::SubmitterId,
                SysField::ReviewState => SubmissionField::ReviewState,
                SysField::InstanceId => SubmissionField::InstanceId,
            },
            match op {
                CmpOp::Eq => FilterOp::Eq,
                CmpOp::Ne => FilterOp::Ne,
                CmpOp::Lt => FilterOp::Lt,
                CmpOp::Le => FilterOp::Le,
                CmpOp::Gt => FilterOp::Gt,
                CmpOp::Ge => FilterOp::Ge,
            },
            match lit {
                Lit::Null => FilterValue::Null,
                Lit::Int(i) => FilterValue::Int(*i),
                Lit::Text(t) => FilterValue::Text(t.clone()),
            },
        ),
    }
}

impl Core {
    /// Opens a session for a script (`POST /v1/sessions`): the same server-side session as a
    /// browser's, under the same throttling; its secret is the bearer token.
    pub async fn open_api_session(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<NewSession, CoreError> {
        self.login(email, password, client).await
    }

    /// Ends a session given by its token, or the caller's own (`current`). Only the session's
    /// owner may end it; another's is reported as not found.
    pub async fn end_api_session(
        &self,
        principal: &Principal,
        token: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let id_hash = if token == "current" {
            principal
                .session_id_hash()
                .ok_or(CoreError::NotFound { what: "session" })?
                .to_owned()
        } else {
            if token.is_empty() || token.len() > 100 {
                return Err(CoreError::NotFound { what: "session" });
            }
            digest(token)
        };
        match self.store.live_session(&id_hash, self.now()).await? {
            Some((session, _)) if session.user_id == user.id => {
                self.store.delete_session(&id_hash).await?;
                Ok(())
            }
            _ => Err(CoreError::NotFound { what: "session" }),
        }
    }

    /// The projects in which the person holds a role (members, and owners of the organisation);
    /// through an API token, its project only. Public projects of others are not listed.
    pub async fn member_projects(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ProjectListing>, CoreError> {
        let user = principal.require_user()?;
        let mut list = self.store.list_projects(None, Some(user.id), false).await?;
        list.retain(|p| p.member_role.is_some() || p.org_owner);
        if let Principal::User {
            via: Via::Token { project, .. },
            ..
        } = principal
        {
            list.retain(|p| p.project.id == *project);
        }
        Ok(list)
    }

    /// The project's forms with their current versions.
    pub async fn central_forms(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<CentralForm>, CoreError> {
        access.require(Permission::ViewForms)?;
        let mut out = Vec::new();
        for l in self.store.list_forms(access.project.id).await? {
            let Some(vid) = l.form.current_version_id else {
                continue;
            };
            let Some(version) = self.store.form_version(vid).await? else {
                continue;
            };
            out.push(CentralForm {
                published_at: self.store.form_published_at(l.form.id).await?,
                form: l.form,
                version,
                submissions: l.submissions,
            });
        }
        Ok(out)
    }

    /// One form of the project.
    pub async fn central_form(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<CentralForm, CoreError> {
        self.central_forms(access)
            .await?
            .into_iter()
            .find(|f| f.form.xml_form_id == xml_form_id)
            .ok_or(CoreError::NotFound { what: "form" })
    }

    /// Every version of a form, newest first.
    pub async fn central_form_versions(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(CentralForm, Vec<FormVersionRow>), CoreError> {
        let form = self.central_form(access, xml_form_id).await?;
        let versions = self.store.form_versions(form.form.id).await?;
        Ok((form, versions))
    }

    /// The feed's schema of a form (from its current version).
    pub async fn feed_schema(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(FormRow, odata::Schema), CoreError> {
        access.require(Permission::ViewData)?;
        let (form, version) = self.form(access, xml_form_id).await?;
        let model = crate::forms::read_model(&version.model_json)?;
        Ok((form, odata::Schema::from_form(&model)))
    }

    fn check_form(access: &ProjectAccess, form: &FormRow) -> Result<(), CoreError> {
        access.require(Permission::ViewData)?;
        if form.project_id != access.project.id {
            return Err(CoreError::NotFound { what: "form" });
        }
        Ok(())
    }

    /// A page of a form's current submissions, newest first: those with an id below `before`,
    /// after skipping `offset`, at most `limit`.
    pub async fn feed_page(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        filter: Option<&odata::Filter>,
        before: Option<i64>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<FeedSubmission>, CoreError> {
        Self::check_form(access, form)?;
        let filter = filter.map(store_filter);
        let mask = self.mask_for(access, form.id).await?;
        let rows = self
            .store
            .feed_rows(&FeedPage {
                form_id: form.id,
                scope: mask.rows(),
                filter: filter.as_ref(),
                before_id: before,
                offset: i64::try_from(offset).unwrap_or(i64::MAX),
                limit: i64::try_from(limit.min(10_000)).unwrap_or(10_000),
            })
            .await?;
        // The first page of a feed read is the export, recorded once; the pages after it (in
        // the same stream or through `$skiptoken`) are its continuation.
        if before.is_none() && offset == 0 {
            self.audit_export(
                access,
                "export.odata",
                &Target::form(access.project.id, &form.xml_form_id),
                serde_json::json!({ "rows": rows.len() }),
            )
            .await?;
        }
        rows.into_iter()
            .map(|mut r| {
                mask.apply_in_place(&mut r.values_json, &r.instance_id)?;
                FeedSubmission::from_row(r)
            })
            .collect()
    }

    /// How many current submissions of a form pass the filter.
    pub async fn feed_count(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        filter: Option<&odata::Filter>,
    ) -> Result<i64, CoreError> {
        Self::check_form(access, form)?;
        let filter = filter.map(store_filter);
        let mask = self.mask_for(access, form.id).await?;
        Ok(self
            .store
            .feed_count(form.id, mask.rows(), filter.as_ref())
            .await?)
    }

    /// One submission, by the instanceID of its first version.
    pub async fn feed_submission(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        instance_id: &str,
    ) -> Result<FeedSubmission, CoreError> {
        Self::check_form(access, form)?;
        let mask = self.mask_for(access, form.id).await?;
        let mut row = self
            .store
            .feed_row(form.id, instance_id, mask.rows())
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        mask.apply_in_place(&mut row.values_json, &row.instance_id)?;
        self.audit(
            Actor::of_access(access),
            "data.view",
            &Target::submission(access.project.id, &form.xml_form_id, instance_id),
            serde_json::json!({}),
        )
        .await?;
        FeedSubmission::from_row(row)
    }

    /// A form of the project, for the submission routes.
    pub async fn data_form(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<FormRow, CoreError> {
        access.require(Permission::ViewData)?;
        Ok(self.form(access, xml_form_id).await?.0)
    }

    /// The attachments a submission's current version names, and whether each file arrived.
    pub async fn feed_attachments(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        instance_id: &str,
    ) -> Result<Vec<(String, bool)>, CoreError> {
        let sub = self.feed_submission(access, form, instance_id).await?;
        // Files of masked questions are not named to those who may not see them.
        let visible = file_names(&sub.row.values_json);
        Ok(self
            .store
            .submission_attachments(sub.row.id)
            .await?
            .into_iter()
            .filter(|f| visible.contains(&f.name))
            .map(|f| (f.name, f.sha256.is_some()))
            .collect())
    }

    /// One attachment of a submission's current version, opened: its bytes. A file the reader
    /// may not see (its question is masked) is not found, as it is not listed. Downloads are
    /// audited as exports of personal data are.
    pub async fn feed_attachment(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        instance_id: &str,
        name: &str,
    ) -> Result<Vec<u8>, CoreError> {
        let sub = self.feed_submission(access, form, instance_id).await?;
        if !file_names(&sub.row.values_json).iter().any(|n| n == name) {
            return Err(CoreError::NotFound { what: "attachment" });
        }
        let bytes = self
            .stored_attachment(access.project.id, sub.row.id, name)
            .await?;
        self.audit(
            Actor::of_access(access),
            "data.download",
            &Target::submission(access.project.id, &form.xml_form_id, instance_id),
            // Not the file name: a browser may have named it after the person.
            serde_json::json!({}),
        )
        .await?;
        Ok(bytes)
    }

    /// A submission's XML as received, for readers who see every field (the XML cannot be
    /// masked without rewriting what was received).
    pub async fn feed_submission_xml(
        &self,
        access: &ProjectAccess,
        form: &FormRow,
        instance_id: &str,
    ) -> Result<Vec<u8>, CoreError> {
        let sub = self.feed_submission(access, form, instance_id).await?;
        if !self.mask_for(access, form.id).await?.is_empty() {
            return Err(CoreError::Forbidden);
        }
        self.stored_submission_xml(sub.row.id).await
    }

    /// Creates a submission from its XML (`POST …/forms/{id}/submissions`), through the one
    /// ingestion path. The XML must be for the form of the address. On a replay of the same
    /// instanceID nothing is stored and `Ingested::Duplicate` is returned.
    pub async fn create_submission(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
        xml: &[u8],
    ) -> Result<(Ingested, Option<FeedSubmission>), CoreError> {
        access.require(Permission::SubmitData)?;
        let user = principal.require_user()?;
        let sub = baraza_openrosa::parse_submission(xml, &baraza_openrosa::Limits::default())
            .map_err(|e| CoreError::SubmissionInvalid {
                code: e.code(),
                detail: e.to_string(),
            })?;
        if sub.form_id != xml_form_id {
            return Err(CoreError::SubmissionInvalid {
                code: "submission_wrong_form",
                detail: format!(
                    "the submission is for form {:?}, not {xml_form_id:?} (the form in the address)",
                    sub.form_id
                ),
            });
        }
        let outcome = self
            .ingest_submission(access.project.id, Submitter::User(user.id), xml, &[])
            .await?;
        if outcome == Ingested::Duplicate {
            return Ok((outcome, None));
        }
        let form = self
            .store
            .form_by_xml_id(access.project.id, xml_form_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let stored = self
            .store
            .submission(form.id, &sub.instance_id)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        let mask = self.mask_for(access, form.id).await?;
        let Some(mut row) = self
            .store
            .feed_row(form.id, &stored.root_instance_id, mask.rows())
            .await?
        else {
            // An edit of a record the sender may not read (another collector's): stored, but
            // not shown back.
            return Ok((outcome, None));
        };
        mask.apply_in_place(&mut row.values_json, &row.instance_id)?;
        Ok((outcome, Some(FeedSubmission::from_row(row)?)))
    }
}

/// The file names a record's stored values hold (answers to image, audio, file… questions).
fn file_names(values_json: &str) -> std::collections::HashSet<String> {
    let values: Vec<serde_json::Value> = serde_json::from_str(values_json).unwrap_or_default();
    values
        .iter()
        .filter_map(|v| {
            let typed = v.get("value")?;
            (typed.get("type")?.as_str()? == "file")
                .then(|| typed.get("value")?.as_str().map(str::to_owned))?
        })
        .collect()
}
