//! The project's registers, beside its record of processing: incidents with the 72-hour clock,
//! the impact assessment's checklist and answers, and data-sharing agreements. Printable pages
//! with their `.json` twins; plain HTML forms (no JavaScript) for managers and owners.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, KeepRegisters, ProjectGuard, ViewAudit};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, iso, iso_date, layout, when, Chrome};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use baraza_core::dpia::{Dpia, DECISIONS, DECLARED_CRITERIA, TEXT_QUESTIONS};
use baraza_core::records::LAWFUL_BASES;
use baraza_core::registers::{
    AgreementInput, AgreementView, EventView, History, IncidentInput, IncidentView, NotifyClock,
    AGREEMENT_STATUSES, INCIDENT_STATUSES,
};
use baraza_core::ProjectAccess;
use baraza_store::{AgreementFields, IncidentFields};
use baraza_types::Permission;
use baraza_xlsform::model::Sensitivity;
use maud::{html, Markup};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

fn base(access: &ProjectAccess) -> String {
    ProjectView::from_access(access).url
}

fn id_param(params: &HashMap<String, String>) -> WebResult<i64> {
    params
        .get("id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(WebError::not_found)
}

/// The value of a `datetime-local` input: `2026-09-18T09:30`.
fn input_time(ts: Option<i64>) -> String {
    ts.map(|t| iso(t).chars().take(16).collect())
        .unwrap_or_default()
}

fn time_el(ts: i64) -> Markup {
    html! { time datetime=(iso(ts)) { (when(ts)) } }
}

/// A duration as people read it: `2 d 5 h`, `5 h 12 min`.
fn duration(c: &Chrome<'_>, secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        c.tf(
            "registers.days_hours",
            &[("d", &d.to_string()), ("h", &h.to_string())],
        )
    } else {
        c.tf(
            "registers.hours_minutes",
            &[("h", &h.to_string()), ("m", &m.to_string())],
        )
    }
}

fn clock(c: &Chrome<'_>, i: &IncidentView) -> Markup {
    let deadline = when(i.deadline);
    html! {
        @match &i.clock {
            NotifyClock::Running { seconds_left } => strong.clock.running {
                (c.tf("incidents.clock_running", &[("time", &duration(c, *seconds_left)), ("deadline", &deadline)]))
            },
            NotifyClock::Overdue { seconds_over } => strong.clock.overdue {
                (c.tf("incidents.clock_overdue", &[("time", &duration(c, *seconds_over)), ("deadline", &deadline)]))
            },
            NotifyClock::NotifiedInTime { notified_at } => span.clock.ok {
                (c.tf("incidents.clock_in_time", &[("at", &when(*notified_at))]))
            },
            NotifyClock::NotifiedLate { notified_at, seconds_late } => strong.clock.late {
                (c.tf("incidents.clock_late", &[("at", &when(*notified_at)), ("time", &duration(c, *seconds_late))]))
            },
            NotifyClock::NotRequired => span.clock {
                (c.t("incidents.clock_not_required"))
            },
        }
    }
}

fn history(c: &Chrome<'_>, h: &History) -> Markup {
    let line = |e: &EventView| -> Markup {
        let fields: Vec<String> = e
            .changes
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        html! {
            li {
                (time_el(e.at)) " — " (e.by.as_deref().unwrap_or("?")) " — "
                (c.t(&format!("registers.event_{}", e.kind)))
                @if !fields.is_empty() && e.kind == "updated" {
                    " (" (fields.join(", ")) ")"
                }
                @if !e.note.is_empty() { br; span.muted { (e.note) } }
                @if e.kind == "updated" {
                    @if let Some(m) = e.changes.as_object() {
                        details {
                            summary { (c.t("registers.before_after")) }
                            dl {
                                @for (k, v) in m {
                                    dt { code { (k) } }
                                    dd { (show(&v["from"])) " → " (show(&v["to"])) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html! {
        h2 { (c.t("registers.history")) }
        ol.history { @for e in &h.events { (line(e)) } }
    }
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) if s.is_empty() => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn back(access: &ProjectAccess) -> Markup {
    let p = ProjectView::from_access(access);
    html! { p.muted { a href=(p.url) { (p.name) } } }
}

/// A label with its input and, below, a hint.
fn hint(text: &str) -> Markup {
    html! { span.hint { (text) } }
}

fn post_ok(ctx: &Ctx, to: &str, id: i64) -> Response {
    if ctx.format() == Format::Json {
        return axum::Json(serde_json::json!({ "ok": true, "id": id, "url": to })).into_response();
    }
    see_other(to)
}

// ----- incidents ------------------------------------------------------------------------------

#[derive(Serialize)]
struct IncidentsData {
    project: ProjectView,
    incidents: Vec<IncidentView>,
}

fn incident_form(c: &Chrome<'_>, action: &str, f: Option<&IncidentFields>) -> Markup {
    let v = |s: Option<&str>| s.unwrap_or("").to_owned();
    let notify = f.map(|f| f.notify_authority);
    let status = f.map(|f| f.status.as_str()).unwrap_or("open");
    html! {
        form.stack.no-print method="post" action=(action) {
            (csrf_field(c.csrf))
            label { (c.t("incidents.f_title")) input name="title" required maxlength="200" value=(v(f.map(|f| f.title.as_str()))); }
            label { (c.t("incidents.f_description")) textarea name="description" rows="3" required maxlength="5000" { (v(f.map(|f| f.description.as_str()))) } }
            label { (c.t("incidents.f_occurred_at")) input type="datetime-local" name="occurred_at" value=(input_time(f.and_then(|f| f.occurred_at))); (hint(c.t("incidents.utc_hint"))) }
            label { (c.t("incidents.f_discovered_at")) input type="datetime-local" name="discovered_at" required value=(input_time(f.map(|f| f.discovered_at))); (hint(c.t("incidents.discovered_hint"))) }
            label { (c.t("incidents.f_data_categories")) textarea name="data_categories" rows="2" maxlength="5000" { (v(f.map(|f| f.data_categories.as_str()))) } }
            label { (c.t("incidents.f_people_affected")) input type="number" min="0" name="people_affected" value=[f.and_then(|f| f.people_affected)]; }
            label { (c.t("incidents.f_records_affected")) input type="number" min="0" name="records_affected" value=[f.and_then(|f| f.records_affected)]; }
            label { (c.t("incidents.f_consequences")) textarea name="consequences" rows="2" maxlength="5000" { (v(f.map(|f| f.consequences.as_str()))) } }
            label { (c.t("incidents.f_measures")) textarea name="measures" rows="2" maxlength="5000" { (v(f.map(|f| f.measures.as_str()))) } }
            fieldset {
                legend { (c.t("incidents.f_notify_authority")) }
                label { input type="radio" name="notify_authority" value="yes" checked[notify == Some(true)]; (c.t("registers.yes")) }
                label { input type="radio" name="notify_authority" value="no" checked[notify == Some(false)]; (c.t("registers.no")) }
            }
            label { (c.t("incidents.f_no_notify_reason")) textarea name="no_notify_reason" rows="2" maxlength="2000" { (v(f.map(|f| f.no_notify_reason.as_str()))) } (hint(c.t("incidents.no_notify_hint"))) }
            label { (c.t("incidents.f_authority_notified_at")) input type="datetime-local" name="authority_notified_at" value=(input_time(f.and_then(|f| f.authority_notified_at))); }
            label { (c.t("incidents.f_people_informed_at")) input type="datetime-local" name="people_informed_at" value=(input_time(f.and_then(|f| f.people_informed_at))); (hint(c.t("incidents.informed_hint"))) }
            label { (c.t("registers.status"))
                select name="status" {
                    @for s in INCIDENT_STATUSES {
                        option value=(s) selected[s == status] { (c.t(&format!("incidents.status_{s}"))) }
                    }
                }
            }
            @if f.is_some() {
                label { (c.t("registers.note")) textarea name="note" rows="2" maxlength="2000" {} (hint(c.t("registers.note_hint"))) }
            }
            button type="submit" { (c.t(if f.is_some() { "registers.save_changes" } else { "incidents.record" })) }
        }
    }
}

/// `GET …/incidents` (and `.json`): the incident register, each incident with its clock.
pub async fn incidents_page(g: ProjectGuard<ViewAudit>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = IncidentsData {
        project: ProjectView::from_access(&g.access),
        incidents: ctx.state.core.incidents(&g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let url = format!("{}/incidents", data.project.url);
        layout(
            &c,
            &format!("{} · {}", c.t("incidents.title"), data.project.name),
            html! {
                (back(&g.access))
                h1 { (c.t("incidents.title")) }
                p { (c.t("incidents.intro")) }
                @if data.incidents.is_empty() {
                    p.muted { (c.t("incidents.none")) }
                } @else {
                    table.responsive {
                        thead { tr {
                            th scope="col" { (c.t("incidents.f_title")) }
                            th scope="col" { (c.t("incidents.discovered")) }
                            th scope="col" { (c.t("registers.status")) }
                            th scope="col" { (c.t("incidents.clock")) }
                        } }
                        tbody {
                            @for i in &data.incidents {
                                tr {
                                    td { a href={ (url) "/" (i.incident.id) } { (i.incident.fields.title) } }
                                    td { (time_el(i.incident.fields.discovered_at)) }
                                    td { (c.t(&format!("incidents.status_{}", i.incident.fields.status))) }
                                    td { (clock(&c, i)) }
                                }
                            }
                        }
                    }
                }
                @if g.access.can(Permission::KeepRegisters) {
                    h2.no-print { (c.t("incidents.new")) }
                    (incident_form(&c, &url, None))
                }
            },
        )
    }))
}

/// `POST …/incidents`: records an incident.
pub async fn record_incident(
    g: ProjectGuard<KeepRegisters>,
    CsrfForm(input): CsrfForm<IncidentInput>,
) -> WebResult<Response> {
    let id = g.ctx.state.core.record_incident(&g.access, &input).await?;
    Ok(post_ok(
        &g.ctx,
        &format!("{}/incidents/{id}", base(&g.access)),
        id,
    ))
}

#[derive(Serialize)]
struct IncidentData {
    project: ProjectView,
    #[serde(flatten)]
    incident: IncidentView,
    history: Vec<EventView>,
}

/// `GET …/incidents/{id}` (and `.json`): one incident, its clock, its history.
pub async fn incident_page(
    g: ProjectGuard<ViewAudit>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = id_param(&params)?;
    let (incident, hist) = ctx.state.core.incident(&g.access, id).await?;
    let data = IncidentData {
        project: ProjectView::from_access(&g.access),
        incident,
        history: hist.events.clone(),
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let i = &data.incident;
        let f = &i.incident.fields;
        let list = format!("{}/incidents", data.project.url);
        let opt = |t: Option<i64>| match t {
            Some(t) => time_el(t),
            None => html! { span.muted { (c.t("registers.not_said")) } },
        };
        let txt = |s: &str| {
            if s.is_empty() {
                html! { span.muted { (c.t("registers.not_said")) } }
            } else {
                html! { (s) }
            }
        };
        let num = |n: Option<i64>| match n {
            Some(n) => html! { "≈ " (n) },
            None => html! { span.muted { (c.t("registers.not_said")) } },
        };
        layout(
            &c,
            &format!("{} · {}", f.title, c.t("incidents.title")),
            html! {
                (back(&g.access))
                p.muted.no-print { a href=(list) { (c.t("incidents.title")) } }
                h1 { (f.title) }
                p { (clock(&c, i)) }
                dl {
                    dt { (c.t("registers.status")) } dd { (c.t(&format!("incidents.status_{}", f.status))) }
                    dt { (c.t("incidents.f_description")) } dd { (f.description) }
                    dt { (c.t("incidents.f_occurred_at")) } dd { (opt(f.occurred_at)) }
                    dt { (c.t("incidents.f_discovered_at")) } dd { (time_el(f.discovered_at)) }
                    dt { (c.t("incidents.deadline")) } dd { (time_el(i.deadline)) }
                    dt { (c.t("incidents.f_data_categories")) } dd { (txt(&f.data_categories)) }
                    dt { (c.t("incidents.f_people_affected")) } dd { (num(f.people_affected)) }
                    dt { (c.t("incidents.f_records_affected")) } dd { (num(f.records_affected)) }
                    dt { (c.t("incidents.f_consequences")) } dd { (txt(&f.consequences)) }
                    dt { (c.t("incidents.f_measures")) } dd { (txt(&f.measures)) }
                    dt { (c.t("incidents.f_notify_authority")) } dd {
                        @if f.notify_authority { (c.t("registers.yes")) } @else { (c.t("registers.no")) " — " (f.no_notify_reason) }
                    }
                    dt { (c.t("incidents.f_authority_notified_at")) } dd { (opt(f.authority_notified_at)) }
                    dt { (c.t("incidents.f_people_informed_at")) } dd { (opt(f.people_informed_at)) }
                }
                (history(&c, &hist))
                @if g.access.can(Permission::KeepRegisters) {
                    h2.no-print { (c.t("registers.update")) }
                    (incident_form(&c, &format!("{list}/{}", i.incident.id), Some(f)))
                }
            },
        )
    }))
}

/// `POST …/incidents/{id}`: updates an incident (its history keeps what it said before).
pub async fn update_incident(
    g: ProjectGuard<KeepRegisters>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(input): CsrfForm<IncidentInput>,
) -> WebResult<Response> {
    let id = id_param(&params)?;
    g.ctx
        .state
        .core
        .update_incident(&g.access, id, &input)
        .await?;
    Ok(post_ok(
        &g.ctx,
        &format!("{}/incidents/{id}", base(&g.access)),
        id,
    ))
}

// ----- data-sharing agreements -----------------------------------------------------------------

#[derive(Serialize)]
struct AgreementsData {
    project: ProjectView,
    agreements: Vec<AgreementView>,
    /// The project's forms (xmlFormIds), which agreements may name.
    forms: Vec<String>,
}

fn agreement_form(
    c: &Chrome<'_>,
    action: &str,
    forms: &[String],
    f: Option<&AgreementFields>,
) -> Markup {
    let v = |s: Option<&str>| s.unwrap_or("").to_owned();
    let status = f.map(|f| f.status.as_str()).unwrap_or("draft");
    let basis = f.map(|f| f.lawful_basis.as_str()).unwrap_or("");
    let outside = f.map(|f| f.outside_country);
    html! {
        form.stack.no-print method="post" action=(action) {
            (csrf_field(c.csrf))
            label { (c.t("agreements.f_recipient")) input name="recipient" required maxlength="200" value=(v(f.map(|f| f.recipient.as_str()))); }
            label { (c.t("agreements.f_purpose")) textarea name="purpose" rows="2" required maxlength="2000" { (v(f.map(|f| f.purpose.as_str()))) } }
            fieldset {
                legend { (c.t("agreements.f_forms")) }
                @for id in forms {
                    label { input type="checkbox" name="forms" value=(id) checked[f.is_some_and(|f| f.forms.contains(id))]; code { (id) } }
                }
            }
            fieldset {
                legend { (c.t("agreements.f_levels")) }
                @for s in Sensitivity::ALL {
                    label { input type="checkbox" name="levels" value=(s.as_str()) checked[f.is_some_and(|f| f.levels.iter().any(|l| l == s.as_str()))]; (c.t(&format!("sensitivity.{}", s.as_str()))) }
                }
                label { input type="checkbox" name="aggregated_only" value="yes" checked[f.is_some_and(|f| f.aggregated_only)]; (c.t("agreements.f_aggregated_only")) }
            }
            label { (c.t("records.lawful_basis"))
                select name="lawful_basis" required {
                    option value="" { "—" }
                    @for b in LAWFUL_BASES {
                        option value=(b) selected[b == basis] { (c.t(&format!("records.basis_{b}"))) }
                    }
                }
            }
            label { (c.t("agreements.f_starts_on")) input type="date" name="starts_on" required value=(f.map(|f| iso_date(f.starts_on)).unwrap_or_default()); }
            label { (c.t("agreements.f_ends_on")) input type="date" name="ends_on" value=(f.and_then(|f| f.ends_on).map(iso_date).unwrap_or_default()); }
            fieldset {
                legend { (c.t("agreements.f_outside_country")) }
                label { input type="radio" name="outside_country" value="no" checked[outside != Some(true)]; (c.t("registers.no")) }
                label { input type="radio" name="outside_country" value="yes" checked[outside == Some(true)]; (c.t("registers.yes")) }
            }
            label { (c.t("agreements.f_safeguard")) input name="safeguard" maxlength="2000" value=(v(f.map(|f| f.safeguard.as_str()))); (hint(c.t("agreements.safeguard_hint"))) }
            label { (c.t("agreements.f_document_ref")) input name="document_ref" maxlength="2000" value=(v(f.map(|f| f.document_ref.as_str()))); (hint(c.t("agreements.document_hint"))) }
            label { (c.t("registers.status"))
                select name="status" {
                    @for s in AGREEMENT_STATUSES {
                        option value=(s) selected[s == status] { (c.t(&format!("agreements.status_{s}"))) }
                    }
                }
            }
            @if f.is_some() {
                label { (c.t("registers.note")) textarea name="note" rows="2" maxlength="2000" {} (hint(c.t("registers.note_hint"))) }
            }
            button type="submit" { (c.t(if f.is_some() { "registers.save_changes" } else { "agreements.record" })) }
        }
    }
}

fn levels_text(c: &Chrome<'_>, f: &AgreementFields) -> String {
    let mut s: Vec<String> = f
        .levels
        .iter()
        .map(|l| c.t(&format!("sensitivity.{l}")).to_owned())
        .collect();
    if f.aggregated_only {
        s.push(c.t("agreements.aggregated_only").to_owned());
    }
    s.join(", ")
}

fn period(f: &AgreementFields) -> String {
    match f.ends_on {
        Some(e) => format!("{} → {}", iso_date(f.starts_on), iso_date(e)),
        None => format!("{} →", iso_date(f.starts_on)),
    }
}

fn agreement_status(c: &Chrome<'_>, a: &AgreementView) -> Markup {
    html! {
        (c.t(&format!("agreements.status_{}", a.agreement.fields.status)))
        @if a.expired { " " strong.clock.overdue { (c.t("agreements.expired")) } }
    }
}

fn agreement_input(pairs: Vec<(String, String)>) -> AgreementInput {
    let mut a = AgreementInput::default();
    for (k, v) in pairs {
        match k.as_str() {
            "recipient" => a.recipient = v,
            "purpose" => a.purpose = v,
            "forms" => a.forms.push(v),
            "levels" => a.levels.push(v),
            "aggregated_only" => a.aggregated_only = v,
            "lawful_basis" => a.lawful_basis = v,
            "starts_on" => a.starts_on = v,
            "ends_on" => a.ends_on = v,
            "outside_country" => a.outside_country = v,
            "safeguard" => a.safeguard = v,
            "document_ref" => a.document_ref = v,
            "status" => a.status = v,
            "note" => a.note = v,
            _ => {}
        }
    }
    a
}

async fn form_ids(ctx: &Ctx, access: &ProjectAccess) -> WebResult<Vec<String>> {
    Ok(ctx
        .state
        .core
        .forms(access)
        .await?
        .into_iter()
        .map(|l| l.form.xml_form_id)
        .collect())
}

/// `GET …/agreements` (and `.json`): the register of data-sharing agreements.
pub async fn agreements_page(g: ProjectGuard<ViewAudit>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = AgreementsData {
        project: ProjectView::from_access(&g.access),
        agreements: ctx.state.core.agreements(&g.access).await?,
        forms: form_ids(ctx, &g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let url = format!("{}/agreements", data.project.url);
        layout(
            &c,
            &format!("{} · {}", c.t("agreements.title"), data.project.name),
            html! {
                (back(&g.access))
                h1 { (c.t("agreements.title")) }
                p { (c.t("agreements.intro")) }
                @if data.agreements.is_empty() {
                    p.muted { (c.t("agreements.none")) }
                } @else {
                    table.responsive {
                        thead { tr {
                            th scope="col" { (c.t("agreements.f_recipient")) }
                            th scope="col" { (c.t("agreements.what")) }
                            th scope="col" { (c.t("agreements.period")) }
                            th scope="col" { (c.t("agreements.f_outside_country")) }
                            th scope="col" { (c.t("registers.status")) }
                        } }
                        tbody {
                            @for a in &data.agreements {
                                @let f = &a.agreement.fields;
                                tr {
                                    td { a href={ (url) "/" (a.agreement.id) } { (f.recipient) } br; span.muted { (f.purpose) } }
                                    td { (f.forms.join(", ")) br; span.muted { (levels_text(&c, f)) } }
                                    td { (period(f)) }
                                    td { @if f.outside_country { (c.t("registers.yes")) " — " (f.safeguard) } @else { (c.t("registers.no")) } }
                                    td { (agreement_status(&c, a)) }
                                }
                            }
                        }
                    }
                }
                @if g.access.can(Permission::KeepRegisters) {
                    h2.no-print { (c.t("agreements.new")) }
                    (agreement_form(&c, &url, &data.forms, None))
                }
            },
        )
    }))
}

/// `POST …/agreements`: records an agreement.
pub async fn record_agreement(
    g: ProjectGuard<KeepRegisters>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let input = agreement_input(pairs);
    let id = g.ctx.state.core.record_agreement(&g.access, &input).await?;
    Ok(post_ok(
        &g.ctx,
        &format!("{}/agreements/{id}", base(&g.access)),
        id,
    ))
}

#[derive(Serialize)]
struct AgreementData {
    project: ProjectView,
    #[serde(flatten)]
    agreement: AgreementView,
    history: Vec<EventView>,
}

/// `GET …/agreements/{id}` (and `.json`): one agreement and its history.
pub async fn agreement_page(
    g: ProjectGuard<ViewAudit>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = id_param(&params)?;
    let (agreement, hist) = ctx.state.core.agreement(&g.access, id).await?;
    let forms = form_ids(ctx, &g.access).await?;
    let data = AgreementData {
        project: ProjectView::from_access(&g.access),
        agreement,
        history: hist.events.clone(),
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let a = &data.agreement;
        let f = &a.agreement.fields;
        let list = format!("{}/agreements", data.project.url);
        layout(
            &c,
            &format!("{} · {}", f.recipient, c.t("agreements.title")),
            html! {
                (back(&g.access))
                p.muted.no-print { a href=(list) { (c.t("agreements.title")) } }
                h1 { (f.recipient) }
                dl {
                    dt { (c.t("registers.status")) } dd { (agreement_status(&c, a)) }
                    dt { (c.t("agreements.f_purpose")) } dd { (f.purpose) }
                    dt { (c.t("agreements.f_forms")) } dd { (f.forms.join(", ")) }
                    dt { (c.t("agreements.f_levels")) } dd { (levels_text(&c, f)) }
                    dt { (c.t("records.lawful_basis")) } dd { (c.t(&format!("records.basis_{}", f.lawful_basis))) }
                    dt { (c.t("agreements.period")) } dd { (period(f)) }
                    dt { (c.t("agreements.f_outside_country")) } dd {
                        @if f.outside_country { (c.t("registers.yes")) " — " (f.safeguard) } @else { (c.t("registers.no")) }
                    }
                    dt { (c.t("agreements.f_document_ref")) } dd {
                        @if f.document_ref.is_empty() { span.muted { (c.t("registers.not_said")) } } @else { (f.document_ref) }
                    }
                }
                (history(&c, &hist))
                @if g.access.can(Permission::KeepRegisters) {
                    h2.no-print { (c.t("registers.update")) }
                    (agreement_form(&c, &format!("{list}/{}", a.agreement.id), &forms, Some(f)))
                }
            },
        )
    }))
}

/// `POST …/agreements/{id}`: updates an agreement (its history keeps what it said before).
pub async fn update_agreement(
    g: ProjectGuard<KeepRegisters>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_param(&params)?;
    let input = agreement_input(pairs);
    g.ctx
        .state
        .core
        .update_agreement(&g.access, id, &input)
        .await?;
    Ok(post_ok(
        &g.ctx,
        &format!("{}/agreements/{id}", base(&g.access)),
        id,
    ))
}

// ----- the impact assessment -------------------------------------------------------------------

#[derive(Serialize)]
struct DpiaData {
    project: ProjectView,
    #[serde(flatten)]
    dpia: Dpia,
}

/// `GET …/dpia` (and `.json`): the impact assessment's checklist, criteria and answers.
pub async fn dpia_page(g: ProjectGuard<ViewAudit>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = DpiaData {
        project: ProjectView::from_access(&g.access),
        dpia: ctx.state.core.dpia(&g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let d = &data.dpia;
        let answer = |q: &str| {
            d.answers
                .iter()
                .find(|a| a.question == q)
                .map(|a| a.answer.as_str())
                .unwrap_or("")
        };
        let why = |code: &str, ok: bool, args: &BTreeMap<&'static str, String>| {
            let mut args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
            for (k, v) in args.iter_mut() {
                if *k == "at" && !v.is_empty() {
                    *v = v.parse().map(iso_date).unwrap_or_default();
                }
                if *k == "level" {
                    *v = c.t(&format!("sensitivity.{v}")).to_owned();
                }
            }
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.tf(
                &format!("dpia.why_{code}_{}", if ok { "ok" } else { "attention" }),
                &args,
            )
        };
        layout(
            &c,
            &format!("{} · {}", c.t("dpia.title"), data.project.name),
            html! {
                (back(&g.access))
                h1 { (c.t("dpia.title")) }
                p { (c.t("dpia.intro")) }
                div.card role="note" {
                    p {
                        strong { (c.t(if d.required { "dpia.required" } else { "dpia.not_required" })) }
                        " " (c.tf("dpia.criteria_met", &[("n", &d.criteria_met.to_string())]))
                    }
                    p.muted { (c.t("registers.generated")) " " time datetime=(iso(d.generated_at)) { (iso_date(d.generated_at)) } }
                }
                h2 { (c.t("dpia.checklist")) }
                table.responsive {
                    thead { tr {
                        th scope="col" { (c.t("dpia.item")) }
                        th scope="col" { (c.t("registers.status")) }
                        th scope="col" { (c.t("dpia.why")) }
                    } }
                    tbody {
                        @for i in &d.checklist {
                            tr {
                                td { (c.t(&format!("dpia.item_{}", i.code))) }
                                td {
                                    @if i.ok { span.clock.ok { (c.t("dpia.ok")) } }
                                    @else { strong.clock.overdue { (c.t("dpia.attention")) } }
                                }
                                td { (why(i.code, i.ok, &i.why)) }
                            }
                        }
                    }
                }
                h2 { (c.t("dpia.criteria")) }
                p.muted { (c.t("dpia.criteria_help")) }
                ul {
                    @for cr in &d.criteria {
                        li {
                            @if cr.met { "☑ " } @else { "☐ " }
                            (c.t(&format!("dpia.criterion_{}", cr.code)))
                            " " span.muted { "(" (c.t(if cr.computed { "dpia.computed" } else { "dpia.declared" })) ")" }
                        }
                    }
                }
                h2 { (c.t("dpia.answers")) }
                dl {
                    @for a in d.answers.iter().filter(|a| !a.question.starts_with("criterion_")) {
                        dt { (c.t(&format!("dpia.q_{}", a.question))) }
                        dd {
                            @if a.answer.is_empty() { span.muted { (c.t("registers.not_said")) } }
                            @else if a.question == "decision" { strong { (c.t(&format!("dpia.decision_{}", a.answer))) } }
                            @else { (a.answer) }
                            @if let (Some(by), Some(at)) = (&a.by, a.at) {
                                br; span.muted { (c.tf("dpia.answered_by", &[("name", by), ("date", &iso_date(at))])) }
                            }
                        }
                    }
                }
                @if g.access.can(Permission::KeepRegisters) {
                    h2.no-print { (c.t("dpia.edit")) }
                    form.stack.no-print method="post" action={ (data.project.url) "/dpia" } {
                        (csrf_field(c.csrf))
                        fieldset {
                            legend { (c.t("dpia.criteria_declared")) }
                            @for cr in DECLARED_CRITERIA {
                                @let q = format!("criterion_{cr}");
                                label { input type="checkbox" name=(q) value="yes" checked[answer(&q) == "yes"]; (c.t(&format!("dpia.criterion_{cr}"))) }
                            }
                        }
                        @for q in TEXT_QUESTIONS {
                            label { (c.t(&format!("dpia.q_{q}"))) textarea name=(q) rows="3" maxlength="5000" { (answer(q)) } (hint(c.t(&format!("dpia.h_{q}")))) }
                        }
                        label { (c.t("dpia.q_decision"))
                            select name="decision" {
                                option value="" { "—" }
                                @for dc in DECISIONS {
                                    option value=(dc) selected[answer("decision") == dc] { (c.t(&format!("dpia.decision_{dc}"))) }
                                }
                            }
                        }
                        button type="submit" { (c.t("action.save")) }
                    }
                }
                @if !d.history.is_empty() {
                    details {
                        summary { (c.t("registers.history")) }
                        ol.history {
                            @for h in &d.history {
                                li {
                                    (time_el(h.at)) " — " (h.user_name.as_deref().unwrap_or("?")) " — "
                                    code { (h.question) } ": " (if h.answer.is_empty() { "—" } else { h.answer.as_str() })
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

/// `POST …/dpia`: saves the answers that changed.
pub async fn answer_dpia(
    g: ProjectGuard<KeepRegisters>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let given: BTreeMap<String, String> = pairs.into_iter().collect();
    let changed = g.ctx.state.core.answer_dpia(&g.access, &given).await?;
    let to = format!("{}/dpia", base(&g.access));
    if g.ctx.format() == Format::Json {
        return Ok(
            axum::Json(serde_json::json!({ "ok": true, "changed": changed, "url": to }))
                .into_response(),
        );
    }
    Ok(see_other(&to))
}
