//! Retention and verified destruction.
//!
//! A form may have a retention period in days. [`Core::run_retention`] (hourly in `serve`, and
//! `baraza retention run`) destroys the records first received longer ago than that: every
//! version, its XML, its attachments' rows, comments, reviews and drafts correcting it, in one
//! transaction; then it wipes the files no other row names (overwritten with zeros, flushed,
//! removed) and compacts the database so that no copy of the destroyed pages remains in its
//! files (see `baraza_store::retention`). Each destruction leaves a *certificate* in the audit
//! log: what, how many, when, by which rule, how.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_types::{Permission, ProjectId};
use serde::Serialize;

/// Why a record may be erased on request.
pub const ERASURE_REASONS: [&str; 4] = [
    "consent_withdrawn",
    "subject_request",
    "collected_in_error",
    "duplicate",
];

/// The longest retention period accepted, in days (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// Why records were destroyed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The form's retention period: records first received before `received_before` (Unix
    /// seconds) went.
    Retention {
        retention_days: i64,
        received_before: i64,
    },
    /// One record erased on request, for one of [`ERASURE_REASONS`].
    Erasure { reason: String },
}

/// What one destruction removed, as recorded in the audit log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Certificate {
    pub project: i64,
    pub form: String,
    #[serde(flatten)]
    pub rule: Rule,
    pub records: i64,
    pub versions: i64,
    pub attachments: i64,
    /// Files overwritten and removed (files still named by other records are kept).
    pub files_wiped: i64,
    pub method: &'static str,
    /// Set when consent was withdrawn: the record's consent was reduced to the proof of
    /// withdrawal (its instanceID, the notice version, the time), nothing else kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub consent_withdrawn: bool,
    /// The audit entry that holds this certificate (absent from the entry itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_seq: Option<i64>,
}

impl Core {
    /// A form's retention period, in days (`None`: kept until deleted).
    pub async fn retention(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<Option<i64>, CoreError> {
        access.require(Permission::ViewForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        Ok(self.store.form_retention(form.id).await?)
    }

    /// Sets or removes a form's retention period.
    pub async fn set_retention(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        days: Option<i64>,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageForms)?;
        if days.is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d)) {
            return Err(CoreError::Invalid {
                field: "retention_days",
                reason: "retention_days",
            });
        }
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        self.store.set_form_retention(form.id, days).await?;
        self.audit(
            Actor::of_access(access),
            "form.retention_set",
            &Target::form(access.project.id, xml_form_id),
            serde_json::json!({ "days": days }),
        )
        .await?;
        Ok(())
    }

    /// After records were destroyed: their files wiped unless other rows name them, the
    /// database compacted, and the certificate written to the audit log.
    async fn certify(
        &self,
        destroyed: &baraza_store::Destroyed,
        project: ProjectId,
        form: &str,
        rule: Rule,
        actor: Actor,
        action: &str,
        target: &Target,
    ) -> Result<Certificate, CoreError> {
        let mut files_wiped = 0;
        for sha in &destroyed.blob_sha256 {
            if !self.store.blob_referenced(sha).await?
                && self.blobs.wipe(sha).await.map_err(|e| {
                    CoreError::Store(baraza_store::StoreError::Unavailable(format!(
                        "wiping a destroyed file: {e}"
                    )))
                })?
            {
                files_wiped += 1;
            }
        }
        self.store.compact_after_destruction().await?;
        let method = match self.store.backend() {
            baraza_store::Backend::Sqlite => "rows deleted with secure_delete, WAL checkpointed and truncated, database vacuumed; files overwritten with zeros and removed",
            baraza_store::Backend::Postgres => "rows deleted in one transaction, tables vacuumed; files overwritten with zeros and removed",
        };
        let consent_withdrawn =
            matches!(&rule, Rule::Erasure { reason } if reason == "consent_withdrawn");
        let mut cert = Certificate {
            consent_withdrawn,
            project: project.0,
            form: form.to_owned(),
            rule,
            records: destroyed.records,
            versions: destroyed.versions,
            attachments: destroyed.attachments,
            files_wiped,
            method,
            audit_seq: None,
        };
        let details = serde_json::to_value(&cert)
            .map_err(|e| baraza_store::StoreError::Corrupt(e.to_string()))?;
        cert.audit_seq = Some(self.audit(actor, action, target, details).await?);
        Ok(cert)
    }

    /// Erases one record now — every version, file, comment and review — at the request of the
    /// person it is about (a withdrawn consent, an erasure request) or because it should not
    /// exist. The reason is a category, never free text (it goes to the audit log with the
    /// certificate). When consent was withdrawn, the record's consent is kept reduced to the
    /// proof of withdrawal (see [`crate::consent`]); any other erasure removes it. Returns the
    /// certificate.
    pub async fn erase_record(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
        reason: &str,
    ) -> Result<Certificate, CoreError> {
        access.require(Permission::EditData)?;
        if !ERASURE_REASONS.contains(&reason) {
            return Err(CoreError::Invalid {
                field: "reason",
                reason: "erasure_reason",
            });
        }
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let destroyed = self
            .store
            .destroy_record(
                form.id,
                instance_id,
                (reason == "consent_withdrawn").then(|| self.now()),
            )
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        self.certify(
            &destroyed,
            access.project.id,
            xml_form_id,
            Rule::Erasure {
                reason: reason.to_owned(),
            },
            Actor::of_access(access),
            "data.erased",
            &Target::submission(access.project.id, xml_form_id, instance_id),
        )
        .await
    }

    /// Destroys every record past its form's retention period; returns the certificates.
    /// Idempotent: several instances running it at once destroy each record once.
    pub async fn run_retention(&self) -> Result<Vec<Certificate>, CoreError> {
        let now = self.now();
        let mut out = Vec::new();
        for rule in self.store.retention_rules().await? {
            let before = now - rule.days * 86_400;
            let destroyed = self
                .store
                .destroy_records_before(rule.form_id, before)
                .await?;
            if destroyed.records == 0 {
                continue;
            }
            let project = ProjectId(rule.project_id);
            let cert = self
                .certify(
                    &destroyed,
                    project,
                    &rule.xml_form_id,
                    Rule::Retention {
                        retention_days: rule.days,
                        received_before: before,
                    },
                    Actor::System,
                    "retention.destroyed",
                    &Target::form(project, &rule.xml_form_id),
                )
                .await?;
            tracing::info!(
                form = %rule.xml_form_id,
                records = cert.records,
                files = cert.files_wiped,
                "retention: records destroyed"
            );
            out.push(cert);
        }
        Ok(out)
    }
}
