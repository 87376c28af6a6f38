//! The project's registers: personal-data breaches (incidents), data-sharing agreements, and the
//! answers of the data protection impact assessment.
//!
//! An incident or an agreement is one row holding its current state, and every recording or
//! change also appends an event (`register_events`) with the values before and after, in the same
//! transaction: the row and its history never disagree. Impact-assessment answers are appended,
//! never updated: the latest row of a question is its answer.

use crate::db::{q, Mode, Row, Tx};
use crate::{Store, StoreError};
use serde::Serialize;

/// What a person says of an incident (everything but its id and bookkeeping).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentFields {
    pub title: String,
    /// What happened.
    pub description: String,
    /// When it happened, if known (Unix seconds).
    pub occurred_at: Option<i64>,
    /// When it was discovered: the 72 hours of GDPR art. 33 run from here.
    pub discovered_at: i64,
    /// The categories of data concerned (`positions GPS, diarrhée des enfants`…).
    pub data_categories: String,
    /// Approximate numbers of people and of records concerned.
    pub people_affected: Option<i64>,
    pub records_affected: Option<i64>,
    /// Likely consequences for the people.
    pub consequences: String,
    /// Measures taken or proposed.
    pub measures: String,
    /// Whether the supervisory authority must be notified; if not, why not.
    pub notify_authority: bool,
    pub no_notify_reason: String,
    pub authority_notified_at: Option<i64>,
    /// When the people concerned were told (art. 34), if they were.
    pub people_informed_at: Option<i64>,
    /// `open`, `notified` or `closed`.
    pub status: String,
}

/// An incident as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: i64,
    #[serde(flatten)]
    pub fields: IncidentFields,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a data-sharing agreement says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgreementFields {
    /// The organisation receiving the data.
    pub recipient: String,
    pub purpose: String,
    /// The forms whose data may be shared (xmlFormIds).
    pub forms: Vec<String>,
    /// The sensitivity levels that may be shared (`public`, `internal`, `personal`, `sensitive`).
    pub levels: Vec<String>,
    /// Only aggregates (tables, indicators), never records.
    pub aggregated_only: bool,
    pub lawful_basis: String,
    /// Start and end (Unix seconds at midnight UTC); no end: open-ended.
    pub starts_on: i64,
    pub ends_on: Option<i64>,
    /// A transfer outside the country, and the safeguard that covers it.
    pub outside_country: bool,
    pub safeguard: String,
    /// Where the signed agreement is kept (a reference, not the document).
    pub document_ref: String,
    /// `draft`, `in_force` or `ended`.
    pub status: String,
}

/// An agreement as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub id: i64,
    #[serde(flatten)]
    pub fields: AgreementFields,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which register an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Incident,
    Agreement,
}

impl Register {
    pub fn as_str(self) -> &'static str {
        match self {
            Register::Incident => "incident",
            Register::Agreement => "agreement",
        }
    }
}

/// One recording or change of an incident or agreement.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEvent {
    pub id: i64,
    /// `recorded` or `updated`.
    pub kind: String,
    /// JSON: `{"field": {"from": …, "to": …}}` (on `recorded`, only `to`).
    pub changes: String,
    pub note: String,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub at: i64,
}

/// An event to append with a recording or a change.
#[derive(Debug, Clone)]
pub struct NewRegisterEvent<'a> {
    pub changes: &'a str,
    pub note: &'a str,
    pub user_id: Option<i64>,
    pub at: i64,
}

/// One answer of the impact assessment, with who gave it and when.
#[derive(Debug, Clone, Serialize)]
pub struct DpiaAnswer {
    pub question: String,
    pub answer: String,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub at: i64,
}

const INCIDENT_COLUMNS: &str = "id, title, description, occurred_at, discovered_at, \
    data_categories, people_affected, records_affected, consequences, measures, notify_authority, \
    no_notify_reason, authority_notified_at, people_informed_at, status, created_at, updated_at";

const AGREEMENT_COLUMNS: &str = "id, recipient, purpose, forms, levels, aggregated_only, \
    lawful_basis, starts_on, ends_on, outside_country, safeguard, document_ref, status, \
    created_at, updated_at";

fn incident_from(r: &Row) -> Result<Incident, StoreError> {
    Ok(Incident {
        id: r.get("id")?,
        fields: IncidentFields {
            title: r.get("title")?,
            description: r.get("description")?,
            occurred_at: r.get("occurred_at")?,
            discovered_at: r.get("discovered_at")?,
            data_categories: r.get("data_categories")?,
            people_affected: r.get("people_affected")?,
            records_affected: r.get("records_affected")?,
            consequences: r.get("consequences")?,
            measures: r.get("measures")?,
            notify_authority: r.get("notify_authority")?,
            no_notify_reason: r.get("no_notify_reason")?,
            authority_notified_at: r.get("authority_notified_at")?,
            people_informed_at: r.get("people_informed_at")?,
            status: r.get("status")?,
        },
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn agreement_from(r: &Row) -> Result<Agreement, StoreError> {
    Ok(Agreement {
        id: r.get("id")?,
        fields: AgreementFields {
            recipient: r.get("recipient")?,
            purpose: r.get("purpose")?,
            forms: words(r.get("forms")?),
            levels: words(r.get("levels")?),
            aggregated_only: r.get("aggregated_only")?,
            lawful_basis: r.get("lawful_basis")?,
            starts_on: r.get("starts_on")?,
            ends_on: r.get("ends_on")?,
            outside_country: r.get("outside_country")?,
            safeguard: r.get("safeguard")?,
            document_ref: r.get("document_ref")?,
            status: r.get("status")?,
        },
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

async fn append_event(
    tx: &mut Tx,
    project_id: i64,
    register: Register,
    item_id: i64,
    kind: &str,
    e: &NewRegisterEvent<'_>,
) -> Result<(), StoreError> {
    tx.conn()
        .execute(
            q("INSERT INTO register_events
                 (project_id, register, item_id, kind, changes, note, user_id, at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(project_id)
            .bind(register.as_str())
            .bind(item_id)
            .bind(kind)
            .bind(e.changes)
            .bind(e.note)
            .bind(e.user_id)
            .bind(e.at),
        )
        .await?;
    Ok(())
}

impl Store {
    /// Records an incident and its `recorded` event; returns its id.
    pub async fn insert_incident(
        &self,
        project_id: i64,
        f: &IncidentFields,
        event: &NewRegisterEvent<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let id: i64 = tx
            .conn()
            .fetch_one(
                q(
                    "INSERT INTO incidents (project_id, title, description, occurred_at,
                     discovered_at, data_categories, people_affected, records_affected,
                     consequences, measures, notify_authority, no_notify_reason,
                     authority_notified_at, people_informed_at, status, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                     $16, $16)
                   RETURNING id",
                )
                .bind(project_id)
                .bind(f.title.as_str())
                .bind(f.description.as_str())
                .bind(f.occurred_at)
                .bind(f.discovered_at)
                .bind(f.data_categories.as_str())
                .bind(f.people_affected)
                .bind(f.records_affected)
                .bind(f.consequences.as_str())
                .bind(f.measures.as_str())
                .bind(f.notify_authority)
                .bind(f.no_notify_reason.as_str())
                .bind(f.authority_notified_at)
                .bind(f.people_informed_at)
                .bind(f.status.as_str())
                .bind(event.at),
            )
            .await?
            .get("id")?;
        append_event(
            &mut tx,
            project_id,
            Register::Incident,
            id,
            "recorded",
            event,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces an incident's fields and appends the `updated` event; `false` when the project
    /// has no such incident.
    pub async fn update_incident(
        &self,
        project_id: i64,
        id: i64,
        f: &IncidentFields,
        event: &NewRegisterEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n = tx
            .conn()
            .execute(
                q(
                    "UPDATE incidents SET title = $1, description = $2, occurred_at = $3,
                     discovered_at = $4, data_categories = $5, people_affected = $6,
                     records_affected = $7, consequences = $8, measures = $9,
                     notify_authority = $10, no_notify_reason = $11, authority_notified_at = $12,
                     people_informed_at = $13, status = $14, updated_at = $15
                   WHERE id = $16 AND project_id = $17",
                )
                .bind(f.title.as_str())
                .bind(f.description.as_str())
                .bind(f.occurred_at)
                .bind(f.discovered_at)
                .bind(f.data_categories.as_str())
                .bind(f.people_affected)
                .bind(f.records_affected)
                .bind(f.consequences.as_str())
                .bind(f.measures.as_str())
                .bind(f.notify_authority)
                .bind(f.no_notify_reason.as_str())
                .bind(f.authority_notified_at)
                .bind(f.people_informed_at)
                .bind(f.status.as_str())
                .bind(event.at)
                .bind(id)
                .bind(project_id),
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        append_event(
            &mut tx,
            project_id,
            Register::Incident,
            id,
            "updated",
            event,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A project's incidents, most recently discovered first.
    pub async fn incidents(&self, project_id: i64) -> Result<Vec<Incident>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE project_id = $1
                     ORDER BY discovered_at DESC, id DESC"
                ))
                .bind(project_id),
            )
            .await?
            .iter()
            .map(incident_from)
            .collect()
    }

    pub async fn incident(&self, project_id: i64, id: i64) -> Result<Option<Incident>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE project_id = $1 AND id = $2"
                ))
                .bind(project_id)
                .bind(id),
            )
            .await?
            .as_ref()
            .map(incident_from)
            .transpose()
    }

    /// Records an agreement and its `recorded` event; returns its id.
    pub async fn insert_agreement(
        &self,
        project_id: i64,
        f: &AgreementFields,
        event: &NewRegisterEvent<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let id: i64 = tx
            .conn()
            .fetch_one(
                q(
                    "INSERT INTO sharing_agreements (project_id, recipient, purpose, forms, levels,
                     aggregated_only, lawful_basis, starts_on, ends_on, outside_country,
                     safeguard, document_ref, status, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
                   RETURNING id",
                )
                .bind(project_id)
                .bind(f.recipient.as_str())
                .bind(f.purpose.as_str())
                .bind(f.forms.join(" "))
                .bind(f.levels.join(" "))
                .bind(f.aggregated_only)
                .bind(f.lawful_basis.as_str())
                .bind(f.starts_on)
                .bind(f.ends_on)
                .bind(f.outside_country)
                .bind(f.safeguard.as_str())
                .bind(f.document_ref.as_str())
                .bind(f.status.as_str())
                .bind(event.at),
            )
            .await?
            .get("id")?;
        append_event(
            &mut tx,
            project_id,
            Register::Agreement,
            id,
            "recorded",
            event,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces an agreement's fields and appends the `updated` event; `false` when the project
    /// has no such agreement.
    pub async fn update_agreement(
        &self,
        project_id: i64,
        id: i64,
        f: &AgreementFields,
        event: &NewRegisterEvent<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n = tx
            .conn()
            .execute(
                q(
                    "UPDATE sharing_agreements SET recipient = $1, purpose = $2, forms = $3,
                     levels = $4, aggregated_only = $5, lawful_basis = $6, starts_on = $7,
                     ends_on = $8, outside_country = $9, safeguard = $10, document_ref = $11,
                     status = $12, updated_at = $13
                   WHERE id = $14 AND project_id = $15",
                )
                .bind(f.recipient.as_str())
                .bind(f.purpose.as_str())
                .bind(f.forms.join(" "))
                .bind(f.levels.join(" "))
                .bind(f.aggregated_only)
                .bind(f.lawful_basis.as_str())
                .bind(f.starts_on)
                .bind(f.ends_on)
                .bind(f.outside_country)
                .bind(f.safeguard.as_str())
                .bind(f.document_ref.as_str())
                .bind(f.status.as_str())
                .bind(event.at)
                .bind(id)
                .bind(project_id),
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        append_event(
            &mut tx,
            project_id,
            Register::Agreement,
            id,
            "updated",
            event,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A project's agreements, newest first.
    pub async fn agreements(&self, project_id: i64) -> Result<Vec<Agreement>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {AGREEMENT_COLUMNS} FROM sharing_agreements WHERE project_id = $1
                     ORDER BY starts_on DESC, id DESC"
                ))
                .bind(project_id),
            )
            .await?
            .iter()
            .map(agreement_from)
            .collect()
    }

    pub async fn agreement(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<Agreement>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(format!(
                    "SELECT {AGREEMENT_COLUMNS} FROM sharing_agreements
                     WHERE project_id = $1 AND id = $2"
                ))
                .bind(project_id)
                .bind(id),
            )
            .await?
            .as_ref()
            .map(agreement_from)
            .transpose()
    }

    /// The history of one incident or agreement, oldest first.
    pub async fn register_events(
        &self,
        project_id: i64,
        register: Register,
        item_id: i64,
    ) -> Result<Vec<RegisterEvent>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT e.id, e.kind, e.changes, e.note, e.user_id, u.name AS user_name, e.at
                   FROM register_events e LEFT JOIN users u ON u.id = e.user_id
                   WHERE e.project_id = $1 AND e.register = $2 AND e.item_id = $3
                   ORDER BY e.id",
                )
                .bind(project_id)
                .bind(register.as_str())
                .bind(item_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(RegisterEvent {
                    id: r.get("id")?,
                    kind: r.get("kind")?,
                    changes: r.get("changes")?,
                    note: r.get("note")?,
                    user_id: r.get("user_id")?,
                    user_name: r.get("user_name")?,
                    at: r.get("at")?,
                })
            })
            .collect()
    }

    /// Every answer ever given in a project's impact assessment, oldest first.
    pub async fn dpia_answers(&self, project_id: i64) -> Result<Vec<DpiaAnswer>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT a.question, a.answer, a.user_id, u.name AS user_name, a.at
                   FROM dpia_answers a LEFT JOIN users u ON u.id = a.user_id
                   WHERE a.project_id = $1 ORDER BY a.id",
                )
                .bind(project_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(DpiaAnswer {
                    question: r.get("question")?,
                    answer: r.get("answer")?,
                    user_id: r.get("user_id")?,
                    user_name: r.get("user_name")?,
                    at: r.get("at")?,
                })
            })
            .collect()
    }

    /// Appends new answers (question, answer) in one transaction.
    pub async fn add_dpia_answers(
        &self,
        project_id: i64,
        answers: &[(String, String)],
        user_id: Option<i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        for (question, answer) in answers {
            tx.conn()
                .execute(
                    q(
                        "INSERT INTO dpia_answers (project_id, question, answer, user_id, at)
                       VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(project_id)
                    .bind(question.as_str())
                    .bind(answer.as_str())
                    .bind(user_id)
                    .bind(at),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Notes a successful verification of the whole audit log.
    pub async fn add_audit_verification(
        &self,
        at: i64,
        entries: i64,
        anchor: &str,
        user_id: Option<i64>,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "INSERT INTO audit_verifications (at, entries, anchor, user_id)
                   VALUES ($1, $2, $3, $4)",
                )
                .bind(at)
                .bind(entries)
                .bind(anchor)
                .bind(user_id),
            )
            .await?;
        Ok(())
    }

    /// When the whole audit log was last verified successfully, if ever.
    pub async fn last_audit_verification(&self) -> Result<Option<i64>, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT MAX(at) AS at FROM audit_verifications"),
            )
            .await?
            .get("at")
    }
}
