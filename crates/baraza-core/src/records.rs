//! The record of processing activities (GDPR art. 30), generated from what Baraza knows and kept
//! current by construction: each form's purpose, lawful basis and data subjects (said by its
//! managers), the categories of data (from the fields' sensitivity in the XLSForm), who receives
//! the data in clear and who sees it masked (from the project's roles), which organisations
//! receive data under an agreement in force (from the data-sharing register), the retention
//! period, the consent question and how many people gave, refused or withdrew consent, and the
//! security measures in force.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_store::FormPurpose;
use baraza_types::{Permission, Role};
use baraza_xlsform::model::Sensitivity;
use serde::Serialize;

/// The lawful bases of GDPR art. 6(1).
pub const LAWFUL_BASES: [&str; 6] = [
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
];

/// Longest purpose or description of data subjects, in characters.
const MAX_TEXT: usize = 2000;

/// A field as the record names it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldRef {
    pub path: String,
    pub name: String,
    /// Its labels by language, as the form gives them.
    pub labels: Vec<(String, String)>,
    pub sensitivity: Sensitivity,
    pub quasi_identifier: bool,
    /// Whether the author declared the level (rather than Baraza assuming it).
    pub declared: bool,
}

/// One form's processing.
#[derive(Debug, Clone, Serialize)]
pub struct FormRecord {
    pub xml_form_id: String,
    pub title: String,
    pub state: String,
    pub purpose: String,
    pub lawful_basis: String,
    pub data_subjects: String,
    pub retention_days: Option<i64>,
    pub records: i64,
    pub sensitivity: Sensitivity,
    /// Fields by level, personal and sensitive ones named, the others counted.
    pub personal: Vec<FieldRef>,
    pub sensitive: Vec<FieldRef>,
    pub quasi_identifiers: Vec<FieldRef>,
    pub internal_fields: usize,
    pub public_fields: usize,
    /// The consent question (the XLSForm `consent` column), if the form has one.
    pub consent_question: Option<String>,
    /// The version of the notice its label is.
    pub consent_notice_version: Option<String>,
    /// Records by consent state (withdrawn: erased records of which only the proof is kept).
    pub consents: baraza_store::ConsentCounts,
}

/// Someone who receives the project's data.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub name: String,
    pub role: Role,
    /// Whether they see personal and sensitive answers in clear.
    pub in_clear: bool,
    /// Only the records they sent (collectors).
    pub own_records_only: bool,
    /// Only the records with these answers (see [`crate::scope`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<baraza_store::MemberScope>,
}

/// An organisation receiving data under an agreement in force.
#[derive(Debug, Clone, Serialize)]
pub struct SharedWith {
    pub agreement: i64,
    pub recipient: String,
    pub purpose: String,
    pub levels: Vec<String>,
    pub aggregated_only: bool,
    pub outside_country: bool,
    pub safeguard: String,
    pub ends_on: Option<i64>,
}

/// The project's record of processing.
#[derive(Debug, Clone, Serialize)]
pub struct RecordOfProcessing {
    pub generated_at: i64,
    /// The organisation answering for the processing.
    pub controller: String,
    pub project: String,
    pub sensitivity: Option<Sensitivity>,
    pub forms: Vec<FormRecord>,
    pub recipients: Vec<Recipient>,
    /// Organisations receiving data under an agreement in force (the data-sharing register).
    pub shared_with: Vec<SharedWith>,
    /// Codes of the security measures in force (their texts are in the catalogues).
    pub measures: Vec<&'static str>,
    /// What the record cannot say yet (each a code with a text in the catalogues).
    pub gaps: Vec<String>,
}

impl Core {
    /// A form's purpose, lawful basis and data subjects.
    pub async fn form_purpose(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<FormPurpose, CoreError> {
        access.require(Permission::ViewForms)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        Ok(self.store.form_purpose(form.id).await?)
    }

    /// Says why a form's data is collected, on what basis, about whom.
    pub async fn set_form_purpose(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        purpose: &FormPurpose,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageForms)?;
        let p = FormPurpose {
            purpose: purpose.purpose.trim().to_owned(),
            lawful_basis: purpose.lawful_basis.trim().to_owned(),
            data_subjects: purpose.data_subjects.trim().to_owned(),
        };
        if !p.lawful_basis.is_empty() && !LAWFUL_BASES.contains(&p.lawful_basis.as_str()) {
            return Err(CoreError::Invalid {
                field: "lawful_basis",
                reason: "lawful_basis",
            });
        }
        if p.purpose.chars().count() > MAX_TEXT || p.data_subjects.chars().count() > MAX_TEXT {
            return Err(CoreError::Invalid {
                field: "purpose",
                reason: "purpose_length",
            });
        }
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        self.store.set_form_purpose(form.id, &p).await?;
        self.audit(
            Actor::of_access(access),
            "form.purpose_set",
            &Target::form(access.project.id, xml_form_id),
            serde_json::json!({ "lawful_basis": p.lawful_basis }),
        )
        .await?;
        Ok(())
    }

    /// The project's record of processing, as of now.
    pub async fn record_of_processing(
        &self,
        access: &ProjectAccess,
    ) -> Result<RecordOfProcessing, CoreError> {
        access.require(Permission::ViewAudit)?;
        let mut forms = Vec::new();
        let mut gaps = Vec::new();
        for listing in self.store.list_forms(access.project.id).await? {
            let Some(version_id) = listing.form.current_version_id else {
                continue;
            };
            let model = self.form_model(version_id).await?;
            let purpose = self.store.form_purpose(listing.form.id).await?;
            let retention_days = self.store.form_retention(listing.form.id).await?;
            let mut record = FormRecord {
                xml_form_id: listing.form.xml_form_id.clone(),
                title: model.title.clone(),
                state: listing.form.state.as_str().to_owned(),
                purpose: purpose.purpose,
                lawful_basis: purpose.lawful_basis,
                data_subjects: purpose.data_subjects,
                retention_days,
                records: listing.submissions,
                sensitivity: model.sensitivity_class(),
                personal: Vec::new(),
                sensitive: Vec::new(),
                quasi_identifiers: Vec::new(),
                internal_fields: 0,
                public_fields: 0,
                consent_question: model.consent.as_ref().map(|c| c.question.clone()),
                consent_notice_version: model
                    .consent
                    .as_ref()
                    .and_then(|c| c.notice_version.clone()),
                consents: self.store.consent_counts(listing.form.id).await?,
            };
            for (path, q) in model.question_paths() {
                let field = FieldRef {
                    path,
                    name: q.name.clone(),
                    labels: q.texts.label.0.clone(),
                    sensitivity: q.sensitivity,
                    quasi_identifier: q.quasi_identifier,
                    declared: q.sensitivity_declared,
                };
                if field.quasi_identifier {
                    record.quasi_identifiers.push(field.clone());
                }
                match q.sensitivity {
                    Sensitivity::Sensitive => record.sensitive.push(field),
                    Sensitivity::Personal => record.personal.push(field),
                    Sensitivity::Internal => record.internal_fields += 1,
                    Sensitivity::Public => record.public_fields += 1,
                }
            }
            for (missing, code) in [
                (record.purpose.is_empty(), "purpose"),
                (record.lawful_basis.is_empty(), "lawful_basis"),
                (record.retention_days.is_none(), "retention"),
            ] {
                if missing {
                    gaps.push(format!("{}:{code}", record.xml_form_id));
                }
            }
            forms.push(record);
        }
        let mut recipients: Vec<Recipient> = self
            .store
            .list_members(access.project.id)
            .await?
            .into_iter()
            .filter(|m| m.role.grants(Permission::ViewData))
            .map(|m| {
                let rows = crate::scope::RowRule::for_member(m.user_id, m.role, m.scope);
                Recipient {
                    name: m.name,
                    role: m.role,
                    in_clear: m.role.grants(Permission::ViewPersonal),
                    own_records_only: rows.own.is_some(),
                    scope: rows.scope,
                }
            })
            .collect();
        // Owners of the organisation act as owners of every project.
        for m in self.store.list_org_members(access.org.id).await? {
            if m.role == baraza_types::OrgRole::Owner
                && !recipients
                    .iter()
                    .any(|r| r.name == m.name && r.role == Role::Owner)
            {
                recipients.push(Recipient {
                    name: m.name,
                    role: Role::Owner,
                    in_clear: true,
                    own_records_only: false,
                    scope: None,
                });
            }
        }
        recipients.sort_by(|a, b| b.role.cmp(&a.role).then(a.name.cmp(&b.name)));
        let sensitivity = forms.iter().map(|f| f.sensitivity).max();
        let shared_with = self
            .agreements(access)
            .await?
            .into_iter()
            .filter(|a| a.active)
            .map(|a| SharedWith {
                agreement: a.agreement.id,
                recipient: a.agreement.fields.recipient,
                purpose: a.agreement.fields.purpose,
                levels: a.agreement.fields.levels,
                aggregated_only: a.agreement.fields.aggregated_only,
                outside_country: a.agreement.fields.outside_country,
                safeguard: a.agreement.fields.safeguard,
                ends_on: a.agreement.fields.ends_on,
            })
            .collect();
        Ok(RecordOfProcessing {
            generated_at: self.now(),
            controller: access.org.name.clone(),
            project: access.project.name.clone(),
            sensitivity,
            forms,
            recipients,
            shared_with,
            measures: vec![
                "masking",
                "roles",
                "audit",
                "retention",
                "secure_delete",
                "backups",
                "passwords",
                "transport",
                "logs",
            ],
            gaps,
        })
    }
}
