//! Finding a person's records across the project's forms (a data-subject request's first step).
//! The value searched for is personal data: it comes in a POST body, never in a URL, so that it
//! stays out of access logs and browser history.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Format, ProjectGuard, ViewPersonal};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, iso, iso_date, layout, Chrome};
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_core::subjects::{
    NewSubjectRequest, PersonRecord, SubjectRequestView, SubjectSearch, REQUEST_KINDS,
    REQUEST_STATUSES,
};
use baraza_types::ErrorCode;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize)]
struct SubjectData {
    project: ProjectView,
    #[serde(flatten)]
    search: Option<SubjectSearch>,
}

#[derive(Deserialize)]
pub struct SubjectForm {
    #[serde(default)]
    value: String,
}

/// `GET /orgs/{org}/projects/{project}/subjects`: the search form.
pub async fn subjects_page(g: ProjectGuard<ViewPersonal>) -> WebResult<Response> {
    Ok(render(&g, None))
}

/// `POST /orgs/{org}/projects/{project}/subjects` (and `.json`): the search.
pub async fn search(
    g: ProjectGuard<ViewPersonal>,
    CsrfForm(f): CsrfForm<SubjectForm>,
) -> WebResult<Response> {
    let found = g.ctx.state.core.find_subject(&g.access, &f.value).await?;
    Ok(render(&g, Some((found, f.value))))
}

fn render(g: &ProjectGuard<ViewPersonal>, search: Option<(SubjectSearch, String)>) -> Response {
    let ctx = &g.ctx;
    let (search, value) = match search {
        Some((s, v)) => (Some(s), v),
        None => (None, String::new()),
    };
    let data = SubjectData {
        project: ProjectView::from_access(&g.access),
        search,
    };
    respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.project;
        layout(
            &c,
            &format!("{} · {}", c.t("subject.title"), p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } }
                h1 { (c.t("subject.title")) }
                p { (c.t("subject.intro")) }
                (super::learn::guide_link(&c, "consent-and-responsible-data"))
                form.stack method="post" action={ (p.url) "/subjects" } autocomplete="off" {
                    (csrf_field(c.csrf))
                    label { (c.t("subject.value")) input name="value" required maxlength="200" autocomplete="off"; }
                    button type="submit" { (c.t("subject.search")) }
                }
                p { a href={ (p.url) "/subjects/requests" } { (c.t("subject.register")) } }
                @if let Some(s) = &data.search { (results(&c, p, s, &value)) }
            },
        )
    })
}

fn results(c: &Chrome<'_>, p: &ProjectView, s: &SubjectSearch, value: &str) -> Markup {
    html! {
        h2 { (c.t("subject.results")) }
        p.muted {
            (c.t("subject.read_as")) " "
            (s.read_as.iter().map(|k| c.t(&format!("subject.kind_{k}")).to_owned()).collect::<Vec<_>>().join(", "))
        }
        @if s.records.is_empty() {
            p { (c.t("subject.none")) }
        } @else {
            table.responsive {
                thead { tr {
                    th scope="col" { (c.t("subject.form")) }
                    th scope="col" { (c.t("subject.record")) }
                    th scope="col" { (c.t("subject.matched")) }
                    th scope="col" { (c.t("subject.received")) }
                } }
                tbody {
                    @for r in &s.records {
                        tr {
                            td { (r.form_title) " " code.muted { (r.xml_form_id) } }
                            td { a href={ (p.url) "/forms/" (r.xml_form_id) "/submissions/" (r.instance_id) } { code { (r.instance_id) } } }
                            td { @for path in &r.paths { code { (path) } " " } }
                            td { time datetime=(iso(r.received_at)) { (iso_date(r.received_at)) } }
                        }
                    }
                }
            }
            @if s.truncated { p.muted { (c.t("subject.truncated")) } }
            p { (c.t("subject.next")) }
        }
        h2 { (c.t("subject.open_request")) }
        form.stack method="post" action={ (p.url) "/subjects/requests" } autocomplete="off" {
            (csrf_field(c.csrf))
            input type="hidden" name="value" value=(value);
            label { (c.t("subject.kind")) select name="kind" {
                @for k in REQUEST_KINDS { option value=(k) { (c.t(&format!("subject.kind_request_{k}"))) } }
            } }
            label { (c.t("subject.reference")) input name="reference" maxlength="2000"; }
            label { (c.t("subject.received_on")) input name="received" type="date"; }
            button type="submit" { (c.t("subject.open_request")) }
        }
    }
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    value: String,
}

/// `POST …/subjects/requests`: registers a request for the person searched for.
pub async fn open_request(
    g: ProjectGuard<ViewPersonal>,
    CsrfForm(f): CsrfForm<RequestForm>,
) -> WebResult<Response> {
    let id = g
        .ctx
        .state
        .core
        .open_subject_request(
            &g.access,
            &g.ctx.principal,
            &NewSubjectRequest {
                kind: f.kind,
                reference: f.reference,
                received: f.received,
                value: f.value,
            },
        )
        .await?;
    let url = format!(
        "{}/subjects/requests/{id}",
        ProjectView::from_access(&g.access).url
    );
    if g.ctx.format() == Format::Json {
        return Ok(
            axum::Json(serde_json::json!({ "ok": true, "id": id, "url": url })).into_response(),
        );
    }
    Ok(see_other(&url))
}

fn request_id(params: &HashMap<String, String>) -> WebResult<i64> {
    params
        .get("id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| WebError::code(ErrorCode::NotFound))
}

/// The deadline as people read it.
fn deadline(c: &Chrome<'_>, r: &SubjectRequestView) -> Markup {
    html! {
        time datetime=(iso(r.due_at)) { (iso_date(r.due_at)) }
        @match r.days_left {
            Some(d) if d < 0 => { " " strong { (c.tf("subject.overdue", &[("days", &(-d).to_string())])) } }
            Some(d) => { " " span.muted { (c.tf("subject.days_left", &[("days", &d.to_string())])) } }
            None if r.answered_late => { " " strong { (c.t("subject.answered_late")) } }
            None => { " " span.muted { (c.t("subject.answered_in_time")) } }
        }
    }
}

#[derive(Serialize)]
struct RequestsData {
    project: ProjectView,
    requests: Vec<SubjectRequestView>,
}

/// `GET …/subjects/requests` (and `.json`): the register.
pub async fn requests_page(g: ProjectGuard<ViewPersonal>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = RequestsData {
        project: ProjectView::from_access(&g.access),
        requests: ctx.state.core.subject_requests(&g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.project;
        layout(
            &c,
            &format!("{} · {}", c.t("subject.register"), p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } " · " a href={ (p.url) "/subjects" } { (c.t("subject.title")) } }
                h1 { (c.t("subject.register")) }
                p { (c.t("subject.register_intro")) }
                @if data.requests.is_empty() { p { (c.t("subject.no_requests")) } } @else {
                    table.responsive {
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { (c.t("subject.kind")) }
                            th scope="col" { (c.t("subject.received")) }
                            th scope="col" { (c.t("subject.due")) }
                            th scope="col" { (c.t("subject.status")) }
                        } }
                        tbody {
                            @for r in &data.requests {
                                tr {
                                    td { a href={ (p.url) "/subjects/requests/" (r.id) } { (r.id) } }
                                    td { (c.t(&format!("subject.kind_request_{}", r.kind))) }
                                    td { (iso_date(r.received_at)) }
                                    td { (deadline(&c, r)) }
                                    td { (c.t(&format!("subject.status_{}", r.status))) }
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

#[derive(Serialize)]
struct RequestData {
    project: ProjectView,
    #[serde(flatten)]
    request: SubjectRequestView,
}

/// `GET …/subjects/requests/{id}` (and `.json`).
pub async fn request_page(
    g: ProjectGuard<ViewPersonal>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = request_id(&params)?;
    let data = RequestData {
        project: ProjectView::from_access(&g.access),
        request: ctx.state.core.subject_request(&g.access, id).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.project;
        let r = &data.request;
        let url = format!("{}/subjects/requests/{}", p.url, r.id);
        layout(
            &c,
            &format!("{} {} · {}", c.t("subject.request"), r.id, p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } " · " a href={ (p.url) "/subjects/requests" } { (c.t("subject.register")) } }
                h1 { (c.t("subject.request")) " " (r.id) " — " (c.t(&format!("subject.kind_request_{}", r.kind))) }
                dl {
                    dt { (c.t("subject.status")) } dd { strong { (c.t(&format!("subject.status_{}", r.status))) } }
                    dt { (c.t("subject.received")) } dd { (iso_date(r.received_at)) }
                    dt { (c.t("subject.due")) } dd { (deadline(&c, r)) }
                    @if !r.reference.is_empty() { dt { (c.t("subject.reference")) } dd { (r.reference) } }
                    @if !r.outcome.is_empty() { dt { (c.t("subject.outcome")) } dd { (r.outcome) } }
                }
                h2 { (c.t("subject.results")) }
                @if r.records.is_empty() { p { (c.t("subject.none")) } } @else {
                    ul {
                        @for rec in &r.records {
                            li {
                                (rec.form_title) " — "
                                @match &rec.instance_id {
                                    Some(i) => a href={ (p.url) "/forms/" (rec.xml_form_id) "/submissions/" (i) } { code { (i) } },
                                    None => span.muted { (c.t("subject.erased")) },
                                }
                            }
                        }
                    }
                    p {
                        (c.t("subject.export")) " "
                        a href={ (url) "/export?lang=fr" } { "français" } " · "
                        a href={ (url) "/export?lang=en" } { "English" } " · "
                        a href={ (url) "/export.csv?lang=" (c.lang.code()) } { "CSV" } " · "
                        a href={ (url) "/export.json?lang=" (c.lang.code()) } { "JSON" }
                    }
                }
                @if (r.status == "open" || r.status == "extended") && r.kind == "erasure"
                    && r.records.iter().any(|rec| rec.instance_id.is_some()) {
                    h2 { (c.t("subject.erase_all")) }
                    p { (c.t("subject.erase_all_help")) }
                    form method="post" action={ (url) "/erase" } {
                        (csrf_field(c.csrf))
                        button.danger type="submit" { (c.t("subject.erase_all")) }
                    }
                }
                @if r.status == "open" || r.status == "extended" {
                    h2 { (c.t("subject.update")) }
                    form.stack method="post" action=(url) {
                        (csrf_field(c.csrf))
                        label { (c.t("subject.status")) select name="status" {
                            @for s in REQUEST_STATUSES { @if s != "open" { option value=(s) { (c.t(&format!("subject.status_{s}"))) } } }
                        } }
                        label { (c.t("subject.outcome")) textarea name="outcome" rows="3" maxlength="2000" {} }
                        button type="submit" { (c.t("subject.save")) }
                    }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
}

/// `POST …/subjects/requests/{id}`: extended, answered or refused.
pub async fn update_request(
    g: ProjectGuard<ViewPersonal>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<UpdateForm>,
) -> WebResult<Response> {
    let id = request_id(&params)?;
    g.ctx
        .state
        .core
        .update_subject_request(&g.access, id, &f.status, &f.outcome)
        .await?;
    Ok(see_other(&format!(
        "{}/subjects/requests/{id}",
        ProjectView::from_access(&g.access).url
    )))
}

/// `POST …/subjects/requests/{id}/erase`: erase every record of the person of an erasure
/// request (managers).
pub async fn erase_records(
    g: ProjectGuard<ViewPersonal>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let id = request_id(&params)?;
    g.ctx
        .state
        .core
        .erase_subject_records(&g.access, id)
        .await?;
    Ok(see_other(&format!(
        "{}/subjects/requests/{id}",
        ProjectView::from_access(&g.access).url
    )))
}

#[derive(Deserialize)]
pub struct ExportParams {
    #[serde(default)]
    lang: String,
}

#[derive(Serialize)]
struct ExportData {
    request: i64,
    records: Vec<PersonRecord>,
}

/// `GET …/subjects/requests/{id}/export` (printable page, `.json`, `.csv`): every answer of the
/// person's records, in their language, to send them.
pub async fn export(
    g: ProjectGuard<ViewPersonal>,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<ExportParams>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = request_id(&params)?;
    let lang = match q.lang.as_str() {
        "fr" | "en" => q.lang.clone(),
        _ => ctx.lang().code().to_owned(),
    };
    let format = match ctx.format() {
        Format::Csv => "csv",
        Format::Json => "json",
        _ => "html",
    };
    let records = ctx
        .state
        .core
        .subject_request_export(&g.access, id, &lang, format)
        .await?;
    let data = ExportData {
        request: id,
        records,
    };
    if ctx.format() == Format::Csv {
        let mut body = baraza_publish::csv::line(&[
            "form",
            "form_title",
            "instance_id",
            "received_at",
            "question",
            "label",
            "value",
        ]);
        for r in &data.records {
            for a in &r.answers {
                body.push_str(&baraza_publish::csv::line(&[
                    r.xml_form_id.clone(),
                    r.form_title.clone(),
                    r.instance_id.clone(),
                    iso(r.received_at),
                    a.path.clone(),
                    a.label.clone(),
                    a.value.clone(),
                ]));
            }
        }
        let mut res = body.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"request-{id}.csv\""))
        {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let title = if lang == "fr" {
            "Vos données"
        } else {
            "Your data"
        };
        layout(
            &c,
            title,
            html! {
                h1 { (title) }
                @for r in &data.records {
                    h2 { (r.form_title) " " span.muted { (iso_date(r.received_at)) } }
                    table.responsive {
                        tbody {
                            @for a in &r.answers {
                                tr { th scope="row" { (a.label) } td { (a.value) } }
                            }
                        }
                    }
                }
            },
        )
    }))
}
