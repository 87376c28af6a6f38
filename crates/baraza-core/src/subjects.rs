//! Finding a person: the first step of a data-subject request (access, rectification, erasure).
//!
//! A manager types what the person gave: a phone number, an e-mail, a name, an identity number.
//! The value is normalised and hashed with each of the project's blind-index keys (one per data
//! key version) as each kind of identifier, and the blind index (`subject_index`) gives the
//! records that hold it, across every form of the project, without opening any other record.
//!
//! The value searched for is personal data: it never reaches the audit log or the logs (only the
//! kinds it was read as and how many records were found), and the web edge takes it in a POST
//! body, never in a URL.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_protect::BlindKind;
use baraza_types::Permission;
use serde::Serialize;

/// Longest value searched for, in characters.
const MAX_QUERY: usize = 200;

/// Most records a search returns.
const MAX_HITS: i64 = 500;

/// A record of the person.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRecord {
    #[serde(skip)]
    pub form_id: i64,
    pub xml_form_id: String,
    pub form_title: String,
    pub instance_id: String,
    #[serde(skip)]
    pub root_instance_id: String,
    /// The answers that matched (instance paths).
    pub paths: Vec<String>,
    pub received_at: i64,
}

/// What a search found.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectSearch {
    /// The kinds of identifier the value could be read as (`phone`, `email`, `name`,
    /// `identifier`).
    pub read_as: Vec<&'static str>,
    pub records: Vec<SubjectRecord>,
    /// Whether more records matched than are listed.
    pub truncated: bool,
}

fn kind_name(kind: BlindKind) -> &'static str {
    match kind {
        BlindKind::Phone { .. } => "phone",
        BlindKind::Email => "email",
        BlindKind::Name => "name",
        BlindKind::Identifier => "identifier",
    }
}

impl Core {
    /// The project's current records that hold this value in an answer that identifies a
    /// person, newest first. Needs the right to see personal data; audited without the value.
    pub async fn find_subject(
        &self,
        access: &ProjectAccess,
        value: &str,
    ) -> Result<SubjectSearch, CoreError> {
        access.require(Permission::ViewPersonal)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(CoreError::Invalid {
                field: "value",
                reason: "subject.value_missing",
            });
        }
        if value.chars().count() > MAX_QUERY {
            return Err(CoreError::Invalid {
                field: "value",
                reason: "subject.value_length",
            });
        }
        let kinds = [
            BlindKind::Phone {
                default_calling_code: self.settings.default_calling_code,
            },
            BlindKind::Email,
            BlindKind::Name,
            BlindKind::Identifier,
        ];
        let mut tokens = Vec::new();
        let mut read_as = Vec::new();
        for key in self.data_keys(access.project.id.0).await?.values() {
            let index = key.blind_index_key();
            for kind in kinds {
                // A value that cannot be a phone number (letters) is simply not read as one.
                if let Ok(token) = index.index(kind, value) {
                    tokens.push(token);
                    if !read_as.contains(&kind_name(kind)) {
                        read_as.push(kind_name(kind));
                    }
                }
            }
        }
        let hits = self
            .store
            .find_subject(access.project.id.0, &tokens, MAX_HITS + 1)
            .await?;
        let truncated = hits.len() as i64 > MAX_HITS;
        let mut records: Vec<SubjectRecord> = Vec::new();
        let mut titles = std::collections::HashMap::new();
        for h in hits.into_iter().take(MAX_HITS as usize) {
            if let Some(r) = records
                .iter_mut()
                .find(|r| r.instance_id == h.instance_id && r.xml_form_id == h.xml_form_id)
            {
                r.paths.push(h.path);
                continue;
            }
            let title = match titles.get(&h.form_id) {
                Some(t) => String::clone(t),
                None => {
                    let t = self
                        .store
                        .form_by_id(h.form_id)
                        .await?
                        .map(|f| f.title)
                        .unwrap_or_default();
                    titles.insert(h.form_id, t.clone());
                    t
                }
            };
            records.push(SubjectRecord {
                form_id: h.form_id,
                xml_form_id: h.xml_form_id,
                form_title: title,
                instance_id: h.instance_id,
                root_instance_id: h.root_instance_id,
                paths: vec![h.path],
                received_at: h.received_at,
            });
        }
        self.audit(
            Actor::of_access(access),
            "subject.search",
            &Target::project(access.project.id),
            serde_json::json!({ "read_as": read_as, "records": records.len() }),
        )
        .await?;
        Ok(SubjectSearch {
            read_as,
            records,
            truncated,
        })
    }
}

/// The kinds of request of the GDPR's articles 15 to 21.
pub const REQUEST_KINDS: [&str; 6] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
];
/// A request's states: open, extended (art. 12(3): two more months, the person told why), then
/// answered or refused (identity not established, manifestly unfounded…).
pub const REQUEST_STATUSES: [&str; 4] = ["open", "extended", "answered", "refused"];

/// Longest reference or outcome, in characters.
const MAX_REQUEST_TEXT: usize = 2000;

/// What a manager types to register a request.
#[derive(Debug, Clone, Default)]
pub struct NewSubjectRequest {
    pub kind: String,
    /// How the request came (a letter's date, a phone call…): not the person's identity.
    pub reference: String,
    /// When it was received, `YYYY-MM-DD` (empty: today).
    pub received: String,
    /// What the person gave, searched again to link their records.
    pub value: String,
}

/// A record found for the person, as the request lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub xml_form_id: String,
    pub form_title: String,
    pub root_instance_id: String,
    /// The current version's instanceID; `None` once the record was erased.
    pub instance_id: Option<String>,
}

/// A request with its deadline worked out.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRequestView {
    pub id: i64,
    pub kind: String,
    pub reference: String,
    pub received_at: i64,
    pub due_at: i64,
    pub status: String,
    pub outcome: String,
    pub answered_at: Option<i64>,
    /// Whole days left before the deadline (negative: overdue), while the request is open.
    pub days_left: Option<i64>,
    /// Whether it was answered after its deadline.
    pub answered_late: bool,
    pub records: Vec<RequestRecord>,
}

/// One answer of a person's record, for the export.
#[derive(Debug, Clone, Serialize)]
pub struct PersonAnswer {
    pub path: String,
    pub label: String,
    pub value: String,
}

/// One record of the person, for the export.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecord {
    pub xml_form_id: String,
    pub form_title: String,
    pub instance_id: String,
    pub received_at: i64,
    pub answers: Vec<PersonAnswer>,
}

/// The same day one month (or `months`) later, the day clamped to the month's length
/// (31 January + 1 month = 28 or 29 February), at the same time of day.
pub fn months_later(ts: i64, months: u8) -> i64 {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ts) else {
        return ts + i64::from(months) * 31 * 86_400;
    };
    let total = i32::from(u8::from(t.month())) - 1 + i32::from(months);
    let year = t.year() + total / 12;
    let month = time::Month::try_from((total % 12 + 1) as u8).unwrap_or(time::Month::January);
    let day = t.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .map(|d| d.with_time(t.time()).assume_utc().unix_timestamp())
        .unwrap_or(ts + i64::from(months) * 31 * 86_400)
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

fn checked_text(text: &str, field: &'static str) -> Result<String, CoreError> {
    let text = text.trim();
    if text.chars().count() > MAX_REQUEST_TEXT {
        return Err(invalid(field, "subject.text_length"));
    }
    Ok(text.to_owned())
}

impl Core {
    fn request_view(&self, r: baraza_store::SubjectRequestRow) -> SubjectRequestView {
        let open = r.status == "open" || r.status == "extended";
        SubjectRequestView {
            id: r.id,
            days_left: open.then(|| (r.due_at - self.now()).div_euclid(86_400)),
            answered_late: r.answered_at.is_some_and(|a| a > r.due_at),
            kind: r.kind,
            reference: r.reference,
            received_at: r.received_at,
            due_at: r.due_at,
            status: r.status,
            outcome: r.outcome,
            answered_at: r.answered_at,
            records: Vec::new(),
        }
    }

    /// Registers a data-subject request: the person's records are found again from the value
    /// they gave and linked to it; the deadline is one month from receipt (GDPR art. 12(3)).
    pub async fn open_subject_request(
        &self,
        access: &ProjectAccess,
        principal: &crate::Principal,
        new: &NewSubjectRequest,
    ) -> Result<i64, CoreError> {
        access.require(Permission::ViewPersonal)?;
        let kind = new.kind.trim();
        if !REQUEST_KINDS.contains(&kind) {
            return Err(invalid("kind", "subject.kind"));
        }
        let reference = checked_text(&new.reference, "reference")?;
        let now = self.now();
        let received_at = match new.received.trim() {
            "" => now,
            t => crate::registers::parse_time(t)
                .filter(|&at| at <= now + 86_400 && at > now - 5 * 365 * 86_400)
                .ok_or_else(|| invalid("received", "subject.received"))?,
        };
        let found = self.find_subject(access, &new.value).await?;
        let records: Vec<(i64, String)> = found
            .records
            .into_iter()
            .map(|r| (r.form_id, r.root_instance_id))
            .collect();
        let user = principal.require_user()?;
        let id = self
            .store
            .insert_subject_request(&baraza_store::SubjectRequestRow {
                id: 0,
                project_id: access.project.id.0,
                kind: kind.to_owned(),
                reference,
                received_at,
                due_at: months_later(received_at, 1),
                status: "open".into(),
                outcome: String::new(),
                answered_at: None,
                created_by: Some(user.id),
                created_at: now,
                updated_at: now,
                records: records.clone(),
            })
            .await?;
        self.audit(
            Actor::of_access(access),
            "subject.request_opened",
            &Target::project(access.project.id),
            serde_json::json!({ "request": id, "kind": kind, "records": records.len() }),
        )
        .await?;
        Ok(id)
    }

    /// The project's requests, open ones first by deadline.
    pub async fn subject_requests(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<SubjectRequestView>, CoreError> {
        access.require(Permission::ViewPersonal)?;
        Ok(self
            .store
            .subject_requests(access.project.id.0)
            .await?
            .into_iter()
            .map(|r| self.request_view(r))
            .collect())
    }

    /// One request with its records (an erased record shows without its instanceID).
    pub async fn subject_request(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<SubjectRequestView, CoreError> {
        access.require(Permission::ViewPersonal)?;
        let row = self
            .store
            .subject_request(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "request" })?;
        let links = row.records.clone();
        let mut view = self.request_view(row);
        for (form_id, root) in links {
            let form = self.store.form_by_id(form_id).await?;
            let current = self
                .store
                .submission_history(form_id, &root)
                .await?
                .into_iter()
                .find(|s| s.is_current);
            view.records.push(RequestRecord {
                xml_form_id: form
                    .as_ref()
                    .map(|f| f.xml_form_id.clone())
                    .unwrap_or_default(),
                form_title: form.map(|f| f.title).unwrap_or_default(),
                root_instance_id: root,
                instance_id: current.map(|s| s.instance_id),
            });
        }
        Ok(view)
    }

    /// Changes a request's status: `extended` moves the deadline two months further; `answered`
    /// and `refused` need an outcome (what was done, or why not).
    pub async fn update_subject_request(
        &self,
        access: &ProjectAccess,
        id: i64,
        status: &str,
        outcome: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ViewPersonal)?;
        let mut row = self
            .store
            .subject_request(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "request" })?;
        let status = status.trim();
        if !REQUEST_STATUSES.contains(&status) {
            return Err(invalid("status", "subject.status"));
        }
        let outcome = checked_text(outcome, "outcome")?;
        let closed = |s: &str| s == "answered" || s == "refused";
        if closed(&row.status) {
            return Err(invalid("status", "subject.closed"));
        }
        if closed(status) && outcome.is_empty() {
            return Err(invalid("outcome", "subject.outcome_missing"));
        }
        if status == "extended" {
            if row.status == "extended" {
                return Err(invalid("status", "subject.extended_twice"));
            }
            row.due_at = months_later(row.due_at, 2);
        }
        let now = self.now();
        row.answered_at = closed(status).then_some(now);
        row.status = status.to_owned();
        row.outcome = outcome;
        row.updated_at = now;
        self.store.update_subject_request(&row).await?;
        self.audit(
            Actor::of_access(access),
            "subject.request_updated",
            &Target::project(access.project.id),
            serde_json::json!({ "request": id, "status": status, "late": row.answered_at.is_some_and(|a| a > row.due_at) }),
        )
        .await?;
        Ok(())
    }

    /// Erases every record linked to an erasure request that is not erased yet, each with its
    /// destruction certificate (see [`Core::erase_record`]), and records the whole in the audit
    /// log. Each record is erased in its own transaction, the database compacted once after
    /// all of them: if one fails, those before it stay erased and running this again finishes
    /// the rest. Returns how many were erased now.
    pub async fn erase_subject_records(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<usize, CoreError> {
        access.require(Permission::ViewPersonal)?;
        access.require(Permission::EditData)?;
        let row = self
            .store
            .subject_request(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "request" })?;
        if row.kind != "erasure" {
            return Err(invalid("kind", "subject.not_erasure"));
        }
        if row.status == "answered" || row.status == "refused" {
            return Err(invalid("status", "subject.closed"));
        }
        const REASON: &str = "subject_request";
        let mut destroyed = Vec::new();
        for (form_id, root) in &row.records {
            let Some(form) = self.store.form_by_id(*form_id).await? else {
                continue;
            };
            // `None`: erased before (by hand, by retention, or by an earlier run).
            if let Some(d) = self
                .destroy_on_request(access, &form.xml_form_id, root, REASON)
                .await?
            {
                destroyed.push((form.xml_form_id, root, d));
            }
        }
        if !destroyed.is_empty() {
            self.compact_after_destruction().await?;
        }
        for (xml_form_id, root, d) in &destroyed {
            self.certify_erasure(access, xml_form_id, root, REASON, d)
                .await?;
        }
        let erased = destroyed.len();
        self.audit(
            Actor::of_access(access),
            "subject.records_erased",
            &Target::project(access.project.id),
            serde_json::json!({ "request": id, "records": erased }),
        )
        .await?;
        Ok(erased)
    }

    /// Every answer of the person's records (current versions), opened, with the questions'
    /// labels in `lang` (the person's language): the answer to an access or portability request.
    /// Audited as an export.
    pub async fn subject_request_export(
        &self,
        access: &ProjectAccess,
        id: i64,
        lang: &str,
        format: &str,
    ) -> Result<Vec<PersonRecord>, CoreError> {
        let request = self.subject_request(access, id).await?;
        let mut out = Vec::new();
        let mut masks: std::collections::HashMap<i64, crate::mask::Mask> = Default::default();
        for r in &request.records {
            let Some(instance) = &r.instance_id else {
                continue;
            };
            let Some(form) = self
                .store
                .form_by_xml_id(access.project.id, &r.xml_form_id)
                .await?
            else {
                continue;
            };
            let Some(row) = self.store.submission(form.id, instance).await? else {
                continue;
            };
            let model = self.form_model(row.form_version_id).await?;
            let labels: std::collections::HashMap<String, String> = model
                .question_paths()
                .into_iter()
                .map(|(p, q)| {
                    let label = q
                        .texts
                        .label
                        .get(lang)
                        .or_else(|| q.texts.label.any())
                        .unwrap_or(&q.name)
                        .to_owned();
                    (p, label)
                })
                .collect();
            let mask = match masks.get(&form.id) {
                Some(m) => m.clone(),
                None => {
                    let m = self.mask_for(access, form.id).await?;
                    masks.insert(form.id, m.clone());
                    m
                }
            };
            let opened = mask.apply(&row.values_json, &row.instance_id)?;
            let values: Vec<baraza_openrosa::TypedValue> = serde_json::from_str(&opened)
                .map_err(|e| baraza_store::StoreError::Corrupt(e.to_string()))?;
            out.push(PersonRecord {
                xml_form_id: form.xml_form_id.clone(),
                form_title: form.title.clone(),
                instance_id: row.instance_id.clone(),
                received_at: row.received_at,
                answers: values
                    .iter()
                    .map(|v| PersonAnswer {
                        label: labels
                            .get(&crate::mask::model_path(&v.path))
                            .cloned()
                            .unwrap_or_else(|| v.question.clone()),
                        path: v.path.clone(),
                        value: v.value.to_raw(),
                    })
                    .collect(),
            });
        }
        self.audit_export(
            access,
            "subject.export",
            &Target::project(access.project.id),
            serde_json::json!({ "request": id, "records": out.len(), "format": format }),
        )
        .await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_month_is_a_calendar_month_clamped() {
        let at = |s: &str| crate::registers::parse_time(s).unwrap();
        assert_eq!(months_later(at("2026-01-31"), 1), at("2026-02-28"));
        assert_eq!(months_later(at("2028-01-31"), 1), at("2028-02-29"));
        assert_eq!(
            months_later(at("2026-11-15T10:30"), 1),
            at("2026-12-15T10:30")
        );
        assert_eq!(months_later(at("2026-12-15"), 1), at("2027-01-15"));
        assert_eq!(months_later(at("2026-11-30"), 2), at("2027-01-30"));
    }
}
