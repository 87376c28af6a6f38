//! The project's registers: personal-data breaches with the 72-hour clock (GDPR art. 33 and 34)
//! and data-sharing agreements (art. 26, 28 and 44-46).
//!
//! Managers and owners record and update them (`KeepRegisters`); whoever reads the audit log
//! reads them (`ViewAudit`). Input arrives as people typed it ([`IncidentInput`],
//! [`AgreementInput`]) and is checked here, each refusal naming its field. A change never
//! overwrites silently: the store appends an event with the values before and after, and the
//! audit log says who changed which fields.
//!
//! Times are Unix seconds, read and shown in UTC: `2026-09-18T09:30` (a date alone is midnight).

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::records::LAWFUL_BASES;
use crate::{Core, CoreError};
use baraza_store::{
    Agreement, AgreementFields, Incident, IncidentFields, NewRegisterEvent, Register, RegisterEvent,
};
use baraza_types::Permission;
use baraza_xlsform::model::Sensitivity;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The notification deadline of GDPR art. 33(1): 72 hours from discovery.
pub const NOTIFY_WITHIN_SECS: i64 = 72 * 3600;
/// Longest title or recipient, in characters.
const MAX_SHORT: usize = 200;
/// Longest free text, in characters.
const MAX_TEXT: usize = 5000;
/// Longest note, reason, safeguard or reference, in characters.
const MAX_NOTE: usize = 2000;
/// Largest count of people or records.
const MAX_COUNT: i64 = 10_000_000_000;
/// How far in the future a time may be (clocks of phones and servers differ a little).
const CLOCK_SLACK: i64 = 300;

pub const INCIDENT_STATUSES: [&str; 3] = ["open", "notified", "closed"];
pub const AGREEMENT_STATUSES: [&str; 3] = ["draft", "in_force", "ended"];

/// Reads `2026-09-18T09:30`, `2026-09-18 09:30`, with seconds or a final `Z`, or `2026-09-18`
/// (midnight), as UTC. `None` when it is none of these.
pub fn parse_time(text: &str) -> Option<i64> {
    use time::macros::format_description;
    let t = text.trim().trim_end_matches('Z').replace(' ', "T");
    let date_time = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let with_secs = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let date = format_description!("[year]-[month]-[day]");
    let dt = time::PrimitiveDateTime::parse(&t, &date_time)
        .or_else(|_| time::PrimitiveDateTime::parse(&t, &with_secs))
        .or_else(|_| time::Date::parse(&t, &date).map(|d| d.with_time(time::Time::MIDNIGHT)))
        .ok()?;
    Some(dt.assume_utc().unix_timestamp())
}

/// Writes Unix seconds as [`parse_time`] reads them: `2026-09-18T09:30` (UTC).
pub fn format_time(ts: i64) -> String {
    use time::macros::format_description;
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]"))
                .ok()
        })
        .unwrap_or_default()
}

/// Midnight UTC of the day of `ts`.
pub fn day_of(ts: i64) -> i64 {
    ts - ts.rem_euclid(86_400)
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

/// A text of at most `max` characters, at least one if `required`.
fn text(
    value: &str,
    max: usize,
    required: bool,
    field: &'static str,
    reason: &'static str,
) -> Result<String, CoreError> {
    let v = value.trim();
    let n = v.chars().count();
    if n > max || (required && n == 0) {
        return Err(invalid(field, reason));
    }
    Ok(v.to_owned())
}

/// An optional time, not later than `now`.
fn when(
    value: &str,
    now: i64,
    field: &'static str,
    reason: &'static str,
) -> Result<Option<i64>, CoreError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    match parse_time(value) {
        Some(t) if t <= now + CLOCK_SLACK => Ok(Some(t)),
        _ => Err(invalid(field, reason)),
    }
}

fn count(value: &str, field: &'static str, reason: &'static str) -> Result<Option<i64>, CoreError> {
    let v = value.trim().replace([' ', '\u{a0}', '\u{202f}', ','], "");
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<i64>() {
        Ok(n) if (0..=MAX_COUNT).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(field, reason)),
    }
}

fn yes_no(value: &str, field: &'static str, reason: &'static str) -> Result<bool, CoreError> {
    match value.trim() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(invalid(field, reason)),
    }
}

/// An incident as typed in the form (every field a text; empty when left blank).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IncidentInput {
    pub title: String,
    pub description: String,
    pub occurred_at: String,
    pub discovered_at: String,
    pub data_categories: String,
    pub people_affected: String,
    pub records_affected: String,
    pub consequences: String,
    pub measures: String,
    /// `yes` or `no`.
    pub notify_authority: String,
    pub no_notify_reason: String,
    pub authority_notified_at: String,
    pub people_informed_at: String,
    /// `open`, `notified` or `closed` (empty: `open`).
    pub status: String,
    /// Why it changes (kept with the change in the incident's history).
    pub note: String,
}

impl IncidentInput {
    /// Checks every field; the first that is wrong is named in the error.
    pub fn check(&self, now: i64) -> Result<(IncidentFields, String), CoreError> {
        let title = text(&self.title, MAX_SHORT, true, "title", "incident_title")?;
        let description = text(
            &self.description,
            MAX_TEXT,
            true,
            "description",
            "incident_description",
        )?;
        let discovered_at = when(
            &self.discovered_at,
            now,
            "discovered_at",
            "incident_discovered_at",
        )?
        .ok_or(invalid("discovered_at", "incident_discovered_at"))?;
        let occurred_at = when(
            &self.occurred_at,
            now,
            "occurred_at",
            "incident_occurred_at",
        )?;
        if occurred_at.is_some_and(|o| o > discovered_at) {
            return Err(invalid("occurred_at", "incident_occurred_at"));
        }
        let notify_authority = yes_no(
            &self.notify_authority,
            "notify_authority",
            "incident_notify_authority",
        )?;
        let no_notify_reason = text(
            &self.no_notify_reason,
            MAX_NOTE,
            !notify_authority,
            "no_notify_reason",
            "incident_no_notify_reason",
        )?;
        let authority_notified_at = when(
            &self.authority_notified_at,
            now,
            "authority_notified_at",
            "incident_authority_notified_at",
        )?;
        if authority_notified_at.is_some_and(|t| t < discovered_at) {
            return Err(invalid(
                "authority_notified_at",
                "incident_authority_notified_at",
            ));
        }
        let people_informed_at = when(
            &self.people_informed_at,
            now,
            "people_informed_at",
            "incident_people_informed_at",
        )?;
        let status = match self.status.trim() {
            "" => "open",
            s => INCIDENT_STATUSES
                .into_iter()
                .find(|x| *x == s)
                .ok_or(invalid("status", "incident_status"))?,
        };
        if status == "notified" && authority_notified_at.is_none() {
            return Err(invalid("status", "incident_status"));
        }
        let fields = IncidentFields {
            title,
            description,
            occurred_at,
            discovered_at,
            data_categories: text(
                &self.data_categories,
                MAX_TEXT,
                false,
                "data_categories",
                "incident_text",
            )?,
            people_affected: count(
                &self.people_affected,
                "people_affected",
                "incident_people_affected",
            )?,
            records_affected: count(
                &self.records_affected,
                "records_affected",
                "incident_records_affected",
            )?,
            consequences: text(
                &self.consequences,
                MAX_TEXT,
                false,
                "consequences",
                "incident_text",
            )?,
            measures: text(&self.measures, MAX_TEXT, false, "measures", "incident_text")?,
            notify_authority,
            no_notify_reason: if notify_authority {
                String::new()
            } else {
                no_notify_reason
            },
            authority_notified_at,
            people_informed_at,
            status: status.to_owned(),
        };
        let note = text(&self.note, MAX_NOTE, false, "note", "register_note")?;
        Ok((fields, note))
    }
}

/// Where an incident stands against the 72 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NotifyClock {
    /// Not notified yet, and time is left.
    Running {
        seconds_left: i64,
    },
    /// Not notified, and the 72 hours are over.
    Overdue {
        seconds_over: i64,
    },
    NotifiedInTime {
        notified_at: i64,
    },
    NotifiedLate {
        notified_at: i64,
        seconds_late: i64,
    },
    /// The controller decided the authority need not be told (the reason is on the incident).
    NotRequired,
}

impl NotifyClock {
    pub fn of(f: &IncidentFields, now: i64) -> NotifyClock {
        let deadline = f.discovered_at + NOTIFY_WITHIN_SECS;
        match (f.notify_authority, f.authority_notified_at) {
            (_, Some(t)) if t <= deadline => NotifyClock::NotifiedInTime { notified_at: t },
            (_, Some(t)) => NotifyClock::NotifiedLate {
                notified_at: t,
                seconds_late: t - deadline,
            },
            (false, None) => NotifyClock::NotRequired,
            (true, None) if now <= deadline => NotifyClock::Running {
                seconds_left: deadline - now,
            },
            (true, None) => NotifyClock::Overdue {
                seconds_over: now - deadline,
            },
        }
    }

    /// Whether it calls for someone's attention now.
    pub fn urgent(&self) -> bool {
        matches!(
            self,
            NotifyClock::Running { .. } | NotifyClock::Overdue { .. }
        )
    }
}

/// An incident with its clock.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    /// When the 72 hours from discovery end.
    pub deadline: i64,
    pub clock: NotifyClock,
}

/// An incident or agreement with its history.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub events: Vec<EventView>,
}

/// One change, as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub kind: String,
    pub at: i64,
    pub by: Option<String>,
    pub note: String,
    /// The fields changed, with their values before (`from`) and after (`to`).
    pub changes: Value,
}

impl From<RegisterEvent> for EventView {
    fn from(e: RegisterEvent) -> EventView {
        EventView {
            kind: e.kind,
            at: e.at,
            by: e.user_name,
            note: e.note,
            changes: serde_json::from_str(&e.changes).unwrap_or(Value::Null),
        }
    }
}

/// The fields that differ between two states, `{"field": {"from": …, "to": …}}`; with no
/// `before`, every field that has a value, `{"field": {"to": …}}`.
fn changes<T: Serialize>(before: Option<&T>, after: &T) -> Map<String, Value> {
    let after = serde_json::to_value(after).unwrap_or(Value::Null);
    let before = before.and_then(|b| serde_json::to_value(b).ok());
    let mut out = Map::new();
    if let Value::Object(a) = after {
        for (k, v) in a {
            let old = before.as_ref().and_then(|b| b.get(&k)).cloned();
            let empty = matches!(&v, Value::Null | Value::Bool(false))
                || v.as_str() == Some("")
                || v.as_array().is_some_and(|a| a.is_empty());
            match old {
                None if !empty => {
                    out.insert(k, json!({ "to": v }));
                }
                Some(o) if o != v => {
                    out.insert(k, json!({ "from": o, "to": v }));
                }
                _ => {}
            }
        }
    }
    out
}

fn item_target(access: &ProjectAccess, register: Register, id: i64) -> Target {
    Target {
        project: Some(access.project.id),
        text: format!("project:{}/{}:{id}", access.project.id.0, register.as_str()),
    }
}

impl Core {
    /// The project's incidents, most recently discovered first, each with its clock.
    pub async fn incidents(&self, access: &ProjectAccess) -> Result<Vec<IncidentView>, CoreError> {
        access.require(Permission::ViewAudit)?;
        let now = self.now();
        Ok(self
            .store
            .incidents(access.project.id.0)
            .await?
            .into_iter()
            .map(|i| view(i, now))
            .collect())
    }

    /// One incident, its clock and its history.
    pub async fn incident(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<(IncidentView, History), CoreError> {
        access.require(Permission::ViewAudit)?;
        let i = self
            .store
            .incident(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "incident" })?;
        let events = self
            .store
            .register_events(access.project.id.0, Register::Incident, id)
            .await?;
        Ok((
            view(i, self.now()),
            History {
                events: events.into_iter().map(EventView::from).collect(),
            },
        ))
    }

    /// Records an incident; returns its id.
    pub async fn record_incident(
        &self,
        access: &ProjectAccess,
        input: &IncidentInput,
    ) -> Result<i64, CoreError> {
        access.require(Permission::KeepRegisters)?;
        let now = self.now();
        let (fields, note) = input.check(now)?;
        let diff = Value::Object(changes(None, &fields)).to_string();
        let id = self
            .store
            .insert_incident(
                access.project.id.0,
                &fields,
                &NewRegisterEvent {
                    changes: &diff,
                    note: &note,
                    user_id: access.user.map(|u| u.0),
                    at: now,
                },
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "incident.recorded",
            &item_target(access, Register::Incident, id),
            json!({
                "incident": id,
                "status": fields.status,
                "notify_authority": fields.notify_authority,
            }),
        )
        .await?;
        Ok(id)
    }

    /// Updates an incident, keeping what it said before in its history. Returns whether
    /// anything changed.
    pub async fn update_incident(
        &self,
        access: &ProjectAccess,
        id: i64,
        input: &IncidentInput,
    ) -> Result<bool, CoreError> {
        access.require(Permission::KeepRegisters)?;
        let now = self.now();
        let before = self
            .store
            .incident(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "incident" })?;
        let (fields, note) = input.check(now)?;
        let diff = changes(Some(&before.fields), &fields);
        if diff.is_empty() && note.is_empty() {
            return Ok(false);
        }
        let names: Vec<&String> = diff.keys().collect();
        let audit_details = json!({ "incident": id, "fields": names, "status": fields.status });
        let diff = Value::Object(diff.clone()).to_string();
        let found = self
            .store
            .update_incident(
                access.project.id.0,
                id,
                &fields,
                &NewRegisterEvent {
                    changes: &diff,
                    note: &note,
                    user_id: access.user.map(|u| u.0),
                    at: now,
                },
            )
            .await?;
        if !found {
            return Err(CoreError::NotFound { what: "incident" });
        }
        self.audit(
            Actor::of_access(access),
            "incident.updated",
            &item_target(access, Register::Incident, id),
            audit_details,
        )
        .await?;
        Ok(true)
    }
}

fn view(incident: Incident, now: i64) -> IncidentView {
    IncidentView {
        deadline: incident.fields.discovered_at + NOTIFY_WITHIN_SECS,
        clock: NotifyClock::of(&incident.fields, now),
        incident,
    }
}

// ----- data-sharing agreements -----------------------------------------------------------------

/// An agreement as typed in the form.
#[derive(Debug, Clone, Default)]
pub struct AgreementInput {
    pub recipient: String,
    pub purpose: String,
    /// The forms ticked (xmlFormIds).
    pub forms: Vec<String>,
    /// The sensitivity levels ticked.
    pub levels: Vec<String>,
    /// `yes` when only aggregates may be shared.
    pub aggregated_only: String,
    pub lawful_basis: String,
    pub starts_on: String,
    pub ends_on: String,
    /// `yes` or `no`.
    pub outside_country: String,
    pub safeguard: String,
    pub document_ref: String,
    pub status: String,
    pub note: String,
}

impl AgreementInput {
    /// Checks every field against the project's forms; the first that is wrong is named.
    pub fn check(&self, project_forms: &[String]) -> Result<(AgreementFields, String), CoreError> {
        let recipient = text(
            &self.recipient,
            MAX_SHORT,
            true,
            "recipient",
            "agreement_recipient",
        )?;
        let purpose = text(
            &self.purpose,
            MAX_NOTE,
            true,
            "purpose",
            "agreement_purpose",
        )?;
        let mut forms: Vec<String> = self.forms.iter().map(|f| f.trim().to_owned()).collect();
        forms.sort();
        forms.dedup();
        forms.retain(|f| !f.is_empty());
        if forms.is_empty() || forms.iter().any(|f| !project_forms.contains(f)) {
            return Err(invalid("forms", "agreement_forms"));
        }
        let mut levels = Vec::new();
        for s in Sensitivity::ALL {
            if self.levels.iter().any(|l| l.trim() == s.as_str()) {
                levels.push(s.as_str().to_owned());
            }
        }
        if levels.is_empty()
            || self
                .levels
                .iter()
                .any(|l| !Sensitivity::ALL.iter().any(|s| s.as_str() == l.trim()))
        {
            return Err(invalid("levels", "agreement_levels"));
        }
        let lawful_basis = self.lawful_basis.trim();
        if !LAWFUL_BASES.contains(&lawful_basis) {
            return Err(invalid("lawful_basis", "lawful_basis"));
        }
        let starts_on = parse_time(&self.starts_on)
            .map(day_of)
            .ok_or(invalid("starts_on", "agreement_starts_on"))?;
        let ends_on = match self.ends_on.trim() {
            "" => None,
            e => Some(
                parse_time(e)
                    .map(day_of)
                    .filter(|e| *e >= starts_on)
                    .ok_or(invalid("ends_on", "agreement_ends_on"))?,
            ),
        };
        let outside_country = yes_no(
            &self.outside_country,
            "outside_country",
            "agreement_outside_country",
        )?;
        let safeguard = text(
            &self.safeguard,
            MAX_NOTE,
            outside_country,
            "safeguard",
            "agreement_safeguard",
        )?;
        let status = match self.status.trim() {
            "" => "draft",
            s => AGREEMENT_STATUSES
                .into_iter()
                .find(|x| *x == s)
                .ok_or(invalid("status", "agreement_status"))?,
        };
        let fields = AgreementFields {
            recipient,
            purpose,
            forms,
            levels,
            aggregated_only: match self.aggregated_only.trim() {
                "yes" => true,
                "" | "no" => false,
                _ => return Err(invalid("aggregated_only", "agreement_aggregated_only")),
            },
            lawful_basis: lawful_basis.to_owned(),
            starts_on,
            ends_on,
            outside_country,
            safeguard: if outside_country {
                safeguard
            } else {
                String::new()
            },
            document_ref: text(
                &self.document_ref,
                MAX_NOTE,
                false,
                "document_ref",
                "agreement_document_ref",
            )?,
            status: status.to_owned(),
        };
        let note = text(&self.note, MAX_NOTE, false, "note", "register_note")?;
        Ok((fields, note))
    }
}

/// An agreement and where it stands today.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementView {
    #[serde(flatten)]
    pub agreement: Agreement,
    /// Said to be in force, but its end date has passed.
    pub expired: bool,
    /// In force and not expired: data may flow under it today.
    pub active: bool,
}

impl AgreementView {
    pub fn of(agreement: Agreement, now: i64) -> AgreementView {
        let f = &agreement.fields;
        let in_force = f.status == "in_force";
        let expired = in_force && f.ends_on.is_some_and(|e| e + 86_400 <= now);
        let active = in_force && !expired && f.starts_on <= now;
        AgreementView {
            agreement,
            expired,
            active,
        }
    }
}

impl Core {
    /// The xmlFormIds of the project's forms.
    async fn project_form_ids(&self, access: &ProjectAccess) -> Result<Vec<String>, CoreError> {
        Ok(self
            .store
            .list_forms(access.project.id)
            .await?
            .into_iter()
            .map(|l| l.form.xml_form_id)
            .collect())
    }

    /// The project's data-sharing agreements, the latest first.
    pub async fn agreements(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<AgreementView>, CoreError> {
        access.require(Permission::ViewAudit)?;
        let now = self.now();
        Ok(self
            .store
            .agreements(access.project.id.0)
            .await?
            .into_iter()
            .map(|a| AgreementView::of(a, now))
            .collect())
    }

    /// One agreement and its history.
    pub async fn agreement(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<(AgreementView, History), CoreError> {
        access.require(Permission::ViewAudit)?;
        let a = self
            .store
            .agreement(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "agreement" })?;
        let events = self
            .store
            .register_events(access.project.id.0, Register::Agreement, id)
            .await?;
        Ok((
            AgreementView::of(a, self.now()),
            History {
                events: events.into_iter().map(EventView::from).collect(),
            },
        ))
    }

    /// Records an agreement; returns its id.
    pub async fn record_agreement(
        &self,
        access: &ProjectAccess,
        input: &AgreementInput,
    ) -> Result<i64, CoreError> {
        access.require(Permission::KeepRegisters)?;
        let (fields, note) = input.check(&self.project_form_ids(access).await?)?;
        let now = self.now();
        let diff = Value::Object(changes(None, &fields)).to_string();
        let id = self
            .store
            .insert_agreement(
                access.project.id.0,
                &fields,
                &NewRegisterEvent {
                    changes: &diff,
                    note: &note,
                    user_id: access.user.map(|u| u.0),
                    at: now,
                },
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "agreement.recorded",
            &item_target(access, Register::Agreement, id),
            json!({
                "agreement": id,
                "status": fields.status,
                "levels": fields.levels,
                "outside_country": fields.outside_country,
            }),
        )
        .await?;
        Ok(id)
    }

    /// Updates an agreement, keeping what it said before in its history. Returns whether
    /// anything changed.
    pub async fn update_agreement(
        &self,
        access: &ProjectAccess,
        id: i64,
        input: &AgreementInput,
    ) -> Result<bool, CoreError> {
        access.require(Permission::KeepRegisters)?;
        let before = self
            .store
            .agreement(access.project.id.0, id)
            .await?
            .ok_or(CoreError::NotFound { what: "agreement" })?;
        let (fields, note) = input.check(&self.project_form_ids(access).await?)?;
        let diff = changes(Some(&before.fields), &fields);
        if diff.is_empty() && note.is_empty() {
            return Ok(false);
        }
        let names: Vec<&String> = diff.keys().collect();
        let audit_details = json!({ "agreement": id, "fields": names, "status": fields.status });
        let diff = Value::Object(diff.clone()).to_string();
        let found = self
            .store
            .update_agreement(
                access.project.id.0,
                id,
                &fields,
                &NewRegisterEvent {
                    changes: &diff,
                    note: &note,
                    user_id: access.user.map(|u| u.0),
                    at: self.now(),
                },
            )
            .await?;
        if !found {
            return Err(CoreError::NotFound { what: "agreement" });
        }
        self.audit(
            Actor::of_access(access),
            "agreement.updated",
            &item_target(access, Register::Agreement, id),
            audit_details,
        )
        .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000; // 2026-09-21T14:13:20Z

    fn incident() -> IncidentInput {
        IncidentInput {
            title: "Téléphone perdu".into(),
            description: "Un téléphone de collecte a été perdu au marché.".into(),
            discovered_at: "2026-09-20T08:00".into(),
            notify_authority: "yes".into(),
            ..IncidentInput::default()
        }
    }

    #[test]
    fn times() {
        for (text, want) in [
            ("2026-09-20T08:00", Some(1_789_862_400 + 8 * 3600)),
            ("2026-09-20 08:00", Some(1_789_862_400 + 8 * 3600)),
            ("2026-09-20T08:00:30Z", Some(1_789_862_400 + 8 * 3600 + 30)),
            ("2026-09-20", Some(1_789_862_400)),
            ("20/09/2026", None),
            ("", None),
            ("2026-13-01", None),
        ] {
            assert_eq!(parse_time(text), want, "{text}");
        }
        assert_eq!(format_time(NOW), "2026-09-21T14:13");
        assert_eq!(parse_time(&format_time(NOW)), Some(NOW - 20));
    }

    #[test]
    fn incidents_are_checked_field_by_field() {
        assert!(incident().check(NOW).is_ok());
        type Edit = fn(&mut IncidentInput);
        let cases: [(Edit, &str); 10] = [
            (|i| i.title = " ".into(), "title"),
            (|i| i.description.clear(), "description"),
            (|i| i.discovered_at = "hier".into(), "discovered_at"),
            (|i| i.discovered_at = "2027-01-01".into(), "discovered_at"),
            (|i| i.occurred_at = "2026-09-21T00:00".into(), "occurred_at"),
            (|i| i.notify_authority.clear(), "notify_authority"),
            (|i| i.notify_authority = "no".into(), "no_notify_reason"),
            (|i| i.people_affected = "-3".into(), "people_affected"),
            (|i| i.status = "notified".into(), "status"),
            (
                |i| i.authority_notified_at = "2026-09-19T00:00".into(),
                "authority_notified_at",
            ),
        ];
        for (edit, field) in cases {
            let mut i = incident();
            edit(&mut i);
            match i.check(NOW) {
                Err(CoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut i = incident();
        i.people_affected = "1 200".into();
        assert_eq!(i.check(NOW).unwrap().0.people_affected, Some(1200));
    }

    #[test]
    fn the_clock_runs_from_discovery() {
        let (mut f, _) = incident().check(NOW).unwrap();
        let found = f.discovered_at;
        assert_eq!(
            NotifyClock::of(&f, found + 3600),
            NotifyClock::Running {
                seconds_left: 71 * 3600
            }
        );
        assert_eq!(
            NotifyClock::of(&f, found + 80 * 3600),
            NotifyClock::Overdue {
                seconds_over: 8 * 3600
            }
        );
        f.authority_notified_at = Some(found + 70 * 3600);
        assert!(matches!(
            NotifyClock::of(&f, found + 100 * 3600),
            NotifyClock::NotifiedInTime { .. }
        ));
        f.authority_notified_at = Some(found + 73 * 3600);
        assert_eq!(
            NotifyClock::of(&f, found + 100 * 3600),
            NotifyClock::NotifiedLate {
                notified_at: found + 73 * 3600,
                seconds_late: 3600
            }
        );
        f.authority_notified_at = None;
        f.notify_authority = false;
        assert_eq!(NotifyClock::of(&f, found), NotifyClock::NotRequired);
    }

    #[test]
    fn changes_name_what_moved() {
        let (a, _) = incident().check(NOW).unwrap();
        let mut b = a.clone();
        b.status = "closed".into();
        let d = changes(Some(&a), &b);
        assert_eq!(d.len(), 1);
        assert_eq!(d["status"], json!({"from": "open", "to": "closed"}));
        let first = changes(None, &a);
        assert!(first.contains_key("title") && !first.contains_key("occurred_at"));
    }

    #[test]
    fn agreements_are_checked() {
        let forms = vec!["points_eau".to_owned()];
        let ok = AgreementInput {
            recipient: "Ministère de l’Eau".into(),
            purpose: "Planifier les réparations".into(),
            forms: forms.clone(),
            levels: vec!["public".into()],
            lawful_basis: "public_task".into(),
            starts_on: "2026-01-01".into(),
            outside_country: "no".into(),
            ..AgreementInput::default()
        };
        let (f, _) = ok.check(&forms).unwrap();
        assert_eq!(f.status, "draft");
        type Edit = fn(&mut AgreementInput);
        let cases: [(Edit, &str); 6] = [
            (|a| a.forms = vec!["autre".into()], "forms"),
            (|a| a.levels = vec!["secret".into()], "levels"),
            (|a| a.lawful_basis = "because".into(), "lawful_basis"),
            (|a| a.ends_on = "2025-01-01".into(), "ends_on"),
            (|a| a.outside_country = "yes".into(), "safeguard"),
            (|a| a.status = "signed".into(), "status"),
        ];
        for (edit, field) in cases {
            let mut a = ok.clone();
            edit(&mut a);
            match a.check(&forms) {
                Err(CoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let mut a = ok.clone();
        a.status = "in_force".into();
        a.ends_on = "2026-06-30".into();
        let (f, _) = a.check(&forms).unwrap();
        let view = AgreementView::of(
            Agreement {
                id: 1,
                fields: f,
                created_at: 0,
                updated_at: 0,
            },
            NOW,
        );
        assert!(view.expired && !view.active);
    }
}
