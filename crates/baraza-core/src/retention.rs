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
use std::collections::HashSet;

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

/// What one erasure of answers past their question's retention removed, as recorded in the
/// audit log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldCertificate {
    pub project: i64,
    pub form: String,
    /// The questions (model paths) whose answers were erased.
    pub fields: Vec<String>,
    pub retention_days: u32,
    /// Records first received before this time (Unix seconds).
    pub received_before: i64,
    /// Stored versions rewritten.
    pub versions: u64,
    pub method: &'static str,
    /// The audit entry that holds this certificate (absent from the entry itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_seq: Option<i64>,
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

    /// After records were destroyed and the database compacted: their files wiped unless other
    /// rows name them, and the certificate written to the audit log.
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
        let destroyed = self
            .destroy_on_request(access, xml_form_id, instance_id, reason)
            .await?
            .ok_or(CoreError::NotFound { what: "submission" })?;
        self.compact_after_destruction().await?;
        self.certify_erasure(access, xml_form_id, instance_id, reason, &destroyed)
            .await
    }

    /// The destruction of [`Core::erase_record`], without the compaction and the certificate
    /// (so that erasing several records compacts once); `None` when there is no such record.
    pub(crate) async fn destroy_on_request(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
        reason: &str,
    ) -> Result<Option<baraza_store::Destroyed>, CoreError> {
        access.require(Permission::EditData)?;
        if !ERASURE_REASONS.contains(&reason) {
            return Err(CoreError::Invalid {
                field: "reason",
                reason: "erasure_reason",
            });
        }
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let now = self.now();
        Ok(self
            .store
            .destroy_record(
                form.id,
                instance_id,
                (reason == "consent_withdrawn").then_some(now),
                Some((reason, now)),
            )
            .await?)
    }

    /// Erases again the records erased on request that are back: a backup made before their
    /// erasure restored over the database (`baraza restore` carries the erasure ledger over), or
    /// a device that sent one again. Each gets a certificate (`data.erased_again`), with the
    /// reason of the first erasure. Run when the server starts, before it serves, and hourly.
    pub async fn reapply_erasures(&self) -> Result<Vec<Certificate>, CoreError> {
        let back = self.store.erased_records_back().await?;
        if back.is_empty() {
            return Ok(Vec::new());
        }
        let mut destroyed = Vec::with_capacity(back.len());
        for e in back {
            let withdrawn = (e.reason == "consent_withdrawn").then_some(e.erased_at);
            if let Some(d) = self
                .store
                .destroy_record(e.form_id, &e.root_instance_id, withdrawn, None)
                .await?
            {
                destroyed.push((e, d));
            }
        }
        self.compact_after_destruction().await?;
        let mut out = Vec::with_capacity(destroyed.len());
        for (e, d) in destroyed {
            let (project, xml_form_id) = match self.store.form_by_id(e.form_id).await? {
                Some(f) => (f.project_id, f.xml_form_id),
                None => (ProjectId(0), String::new()),
            };
            out.push(
                self.certify(
                    &d,
                    project,
                    &xml_form_id,
                    Rule::Erasure { reason: e.reason },
                    Actor::System,
                    "data.erased_again",
                    &Target::submission(project, &xml_form_id, &e.root_instance_id),
                )
                .await?,
            );
        }
        tracing::info!(records = out.len(), "erasures applied again");
        Ok(out)
    }

    /// The certificate of a record erased on request, once the database is compacted.
    pub(crate) async fn certify_erasure(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        instance_id: &str,
        reason: &str,
        destroyed: &baraza_store::Destroyed,
    ) -> Result<Certificate, CoreError> {
        self.certify(
            destroyed,
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

    /// Erases the answers to questions with their own retention (`retention_days` in the
    /// XLSForm) from every version of the records received longer ago, the rest of each record
    /// staying: from the stored values (sealed or not; their blind-index entries too) and from
    /// the stored XML (opened, emptied at those elements, sealed again). One destruction
    /// certificate per form version and period goes to the audit log. Idempotent.
    pub async fn run_field_retention(&self) -> Result<Vec<FieldCertificate>, CoreError> {
        let now = self.now();
        let mut out = Vec::new();
        for version_id in self.store.all_form_version_ids().await? {
            let model = self.form_model(version_id).await?;
            // Per period: the questions' model paths, and their names (what the store's query
            // looks for in the stored values; each answer's path is then checked).
            type Questions = (Vec<String>, Vec<String>);
            let mut by_days: std::collections::BTreeMap<u32, Questions> = Default::default();
            for (path, q) in model.question_paths() {
                if let Some(days) = q.retention_days {
                    let (paths, names) = by_days.entry(days).or_default();
                    paths.push(path);
                    names.push(q.name.clone());
                }
            }
            for (days, (paths, names)) in by_days {
                let before = now - i64::from(days) * 86_400;
                let set: HashSet<String> = paths.iter().cloned().collect();
                let mut erased = 0u64;
                let mut target = None;
                let mut after = 0;
                loop {
                    let batch = self
                        .store
                        .versions_with_expired_answers(version_id, before, &names, after, 200)
                        .await?;
                    let Some(last) = batch.last() else { break };
                    after = last.id;
                    let mut updates = Vec::with_capacity(batch.len());
                    for v in batch {
                        if target.is_none() {
                            let form = self.store.form_by_id(v.form_id).await?;
                            target = Some((
                                ProjectId(v.project_id),
                                form.map(|f| f.xml_form_id).unwrap_or_default(),
                            ));
                        }
                        if let Some(u) = self.erase_expired(&v, &set).await? {
                            updates.push(u);
                        }
                    }
                    erased += self.store.erase_answers(&updates).await?;
                }
                let Some((project, xml_form_id)) = target.filter(|_| erased > 0) else {
                    continue;
                };
                self.compact_after_destruction().await?;
                let mut cert = FieldCertificate {
                    project: project.0,
                    form: xml_form_id.clone(),
                    fields: paths,
                    retention_days: days,
                    received_before: before,
                    versions: erased,
                    method: match self.store.backend() {
                        baraza_store::Backend::Sqlite => "answers removed from the stored values and emptied in the stored XML (sealed again), their blind-index entries deleted; rows rewritten with secure_delete, WAL checkpointed and truncated, database vacuumed",
                        baraza_store::Backend::Postgres => "answers removed from the stored values and emptied in the stored XML (sealed again), their blind-index entries deleted, in one transaction per batch; tables vacuumed",
                    },
                    audit_seq: None,
                };
                let details = serde_json::to_value(&cert)
                    .map_err(|e| baraza_store::StoreError::Corrupt(e.to_string()))?;
                cert.audit_seq = Some(
                    self.audit(
                        Actor::System,
                        "retention.answers_erased",
                        &Target::form(project, &xml_form_id),
                        details,
                    )
                    .await?,
                );
                tracing::info!(form = %xml_form_id, versions = erased, "retention: answers erased");
                out.push(cert);
            }
        }
        Ok(out)
    }

    /// One version with the answers to `questions` removed, or `None` if it holds none.
    async fn erase_expired(
        &self,
        v: &baraza_store::ExpiredAnswers,
        questions: &HashSet<String>,
    ) -> Result<Option<baraza_store::AnswersErased>, CoreError> {
        let corrupt = |e: String| baraza_store::StoreError::Corrupt(e);
        let values: Vec<serde_json::Value> = serde_json::from_str(&v.values_json)
            .map_err(|e| corrupt(format!("stored values: {e}")))?;
        let mut removed = Vec::new();
        let kept: Vec<&serde_json::Value> = values
            .iter()
            .filter(|e| {
                let path = e.get("path").and_then(|p| p.as_str()).unwrap_or("");
                let hit = questions.contains(&crate::mask::model_path(path));
                if hit {
                    removed.push(path.to_owned());
                }
                !hit
            })
            .collect();
        if removed.is_empty() {
            return Ok(None);
        }
        let values_json = serde_json::to_string(&kept).map_err(|e| corrupt(e.to_string()))?;
        let xml = match (&v.xml, v.key_version) {
            (None, _) => None,
            (Some(clear), None) => baraza_openrosa::erase_answers(clear, questions)
                .map_err(|e| corrupt(e.to_string()))?,
            (Some(sealed), Some(kv)) => {
                let opened = self
                    .open_xml(v.project_id, v.form_id, &v.instance_id, kv, sealed)
                    .await?;
                let opened = String::from_utf8(opened).map_err(|e| corrupt(e.to_string()))?;
                match baraza_openrosa::erase_answers(&opened, questions)
                    .map_err(|e| corrupt(e.to_string()))?
                {
                    Some(x) => Some(
                        self.reseal_xml(v.project_id, v.form_id, &v.instance_id, kv, &x)
                            .await?,
                    ),
                    None => None,
                }
            }
        };
        Ok(Some(baraza_store::AnswersErased {
            id: v.id,
            xml,
            values_json,
            paths: removed,
        }))
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
            self.compact_after_destruction().await?;
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
