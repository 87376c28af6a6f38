//! Citizen reports: the gateways' webhook, the web report form (anonymous allowed), the
//! moderation queue and a report's page with its checklist, comments and corrections, the
//! settings and channels of a project, and the map (`reports_map.rs`). Server-rendered, no
//! script.
//!
//! Who sees what is decided by `baraza_core::reports`: the public sees published reports only,
//! without their senders; moderators see the queue without the senders' numbers; people who
//! may see personal data see the number on a report's page (and that reading is audited).

use super::{respond, see_other};
use crate::ctx::{
    CsrfForm, Ctx, Format, ManageProject, ModerateReports, ProjectGuard, ViewProject,
};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, layout, when, Chrome};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use baraza_core::reports::{
    outbound_fields, ChannelView, ReportDetail, ReportFilter, ReportList, ReportSettings,
    SettingsInput, WebReportInput, MAX_REPORT_CHARS,
};
use baraza_core::Core;
use baraza_reports::gateway::{WebhookRequest, MAX_BODY};
use baraza_reports::Gateway;
use maud::{html, Markup};
use serde::Serialize;

pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .unwrap_or_default()
}

pub(crate) fn first<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn all(f: &[(String, String)], key: &str) -> Vec<String> {
    f.iter()
        .filter(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn base(pv: &ProjectView) -> String {
    format!("{}/reports", pv.url)
}

fn id_of(s: &str) -> WebResult<i64> {
    s.parse().map_err(|_| WebError::not_found())
}

/// A category's label in the reader's language.
pub(crate) fn category_label(ctx: &Ctx, s: &ReportSettings, code: &str) -> String {
    if code.is_empty() {
        return ctx.t("report.no_category").to_owned();
    }
    s.categories
        .iter()
        .find(|c| c.code == code)
        .map(|c| match ctx.lang() {
            crate::i18n::Lang::Fr => c.label_fr.clone(),
            _ => c.label_en.clone(),
        })
        .unwrap_or_else(|| code.to_owned())
}

pub(crate) fn state_label(ctx: &Ctx, state: &str) -> String {
    ctx.t(&format!("report.state.{state}")).to_owned()
}

// -------------------------------------------------------------------------------------------
// Webhooks

/// The URL the gateway called, as it signed it: the public URL when configured.
fn called_url(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    let base = match state.settings.public_url.as_deref() {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
        ),
    };
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{base}{pq}")
}

/// `GET|POST /hooks/reports/{token}`: a gateway's webhook. An SMSSync phone's poll
/// (`task=send`) and its report of what it sent (`task=sent`) come here too.
///
/// No person signs in here: the gateway's `Authorization` header (httpSMS's JWT, RapidPro's
/// token, Africa's Talking's Basic credentials) is the gateway's to check, not a session's, so
/// the handler takes the state rather than a [`Ctx`], which would read it as a Baraza token.
pub async fn webhook(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> WebResult<Response> {
    if body.len() > MAX_BODY {
        return Err(WebError::code(baraza_types::ErrorCode::PayloadTooLarge));
    }
    let query = pairs(uri.query());
    let core: &Core = &state.core;
    match first(&query, "task") {
        "send" => {
            let v = core
                .smssync_task(&token, first(&query, "secret"), None)
                .await?;
            return Ok(axum::Json(v).into_response());
        }
        "sent" => {
            let form = pairs(std::str::from_utf8(&body).ok());
            let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
            let mut uuids: Vec<String> = all(&form, "queued_messages");
            if let Some(list) = json
                .as_ref()
                .and_then(|j| j.get("queued_messages"))
                .and_then(|q| q.as_array())
            {
                uuids.extend(list.iter().filter_map(|u| u.as_str().map(str::to_owned)));
            }
            let secret = match first(&query, "secret") {
                "" => first(&form, "secret").to_owned(),
                s => s.to_owned(),
            };
            let v = core.smssync_task(&token, &secret, Some(&uuids)).await?;
            return Ok(axum::Json(v).into_response());
        }
        _ => {}
    }
    let hdrs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let url = called_url(&state, &headers, &uri);
    let body: &[u8] = if method == Method::GET { &[] } else { &body };
    let out = core
        .receive_report_webhook(
            &token,
            &WebhookRequest {
                url: &url,
                headers: &hdrs,
                body,
            },
        )
        .await?;
    let mut res = (StatusCode::OK, out.ack.body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(out.ack.content_type),
    );
    Ok(res)
}

// -------------------------------------------------------------------------------------------
// The list and the queue

fn filter_of(q: &[(String, String)]) -> ReportFilter {
    let opt = |k: &str| Some(first(q, k).trim().to_owned()).filter(|v| !v.is_empty());
    ReportFilter {
        states: all(q, "state"),
        category: opt("category"),
        place: opt("place"),
        from: opt("from"),
        to: opt("to"),
        sender: opt("sender"),
        page: first(q, "page").parse().unwrap_or(1),
    }
}

#[derive(Serialize)]
struct ListData {
    #[serde(flatten)]
    list: ReportList,
    settings: Option<ReportSettings>,
    alerts: Vec<AlertView>,
}

#[derive(Serialize)]
struct AlertView {
    category: String,
    place: String,
    count: i64,
    at: i64,
    told: i64,
}

/// `GET /orgs/{org}/projects/{project}/reports` (and `.json`, `.csv`): moderators see the
/// queue, in every state they ask for; others the published reports. Filters: `state`
/// (repeated), `category`, `place` (and the places under it), `from`, `to` (days), `page`.
pub async fn list(g: ProjectGuard<ViewProject>, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let ctx = &g.ctx;
    let q = pairs(raw.as_deref());
    let filter = filter_of(&q);
    let core = &ctx.state.core;
    let list = core.report_list(&g.access, &filter).await?;
    let settings = core.report_settings(&g.access).await?;
    let alerts = if list.moderator {
        core.report_alerts(&g.access)
            .await?
            .into_iter()
            .take(10)
            .map(|a| AlertView {
                category: a.category,
                place: a.place_name,
                count: a.count,
                at: a.created_at,
                told: a.notified,
            })
            .collect()
    } else {
        Vec::new()
    };
    if matches!(ctx.format(), Format::Csv) {
        return Ok(csv_of(&list));
    }
    let places = core.report_places().await?;
    let pv = ProjectView::from_access(&g.access);
    let can_settings = g.access.can(baraza_types::Permission::ManageProject);
    let data = ListData {
        list,
        settings: Some(settings),
        alerts,
    };
    Ok(respond(ctx, &data, || {
        list_html(ctx, &pv, &data, &filter, &places, &q, can_settings)
    }))
}

fn csv_of(list: &ReportList) -> Response {
    let mut out = baraza_publish::csv::line(&[
        "id",
        "state",
        "category",
        "place_code",
        "place",
        "lat",
        "lon",
        "reported_at",
        "source",
        "text",
    ]);
    for r in &list.reports {
        out.push_str(&baraza_publish::csv::line(&[
            r.id.to_string(),
            r.state.clone(),
            r.category.clone(),
            r.place_code.clone().unwrap_or_default(),
            r.place_name.clone(),
            r.lat.map(|v| format!("{v:.5}")).unwrap_or_default(),
            r.lon.map(|v| format!("{v:.5}")).unwrap_or_default(),
            r.reported_at.map(crate::pages::iso).unwrap_or_default(),
            r.source.clone(),
            r.body.clone(),
        ]));
    }
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    res
}

fn place_options(ctx: &Ctx, places: &[(String, String, Option<String>)], selected: &str) -> Markup {
    html! {
        option value="" { (ctx.t("report.any_place")) }
        @for (code, name, parent) in places {
            option value=(code) selected[selected == code] {
                @if parent.is_some() { "— " } (name)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn list_html(
    ctx: &Ctx,
    pv: &ProjectView,
    data: &ListData,
    f: &ReportFilter,
    places: &[(String, String, Option<String>)],
    q: &[(String, String)],
    can_settings: bool,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let base = base(pv);
    let l = &data.list;
    let settings = data.settings.clone().unwrap_or_default();
    let pages = (l.total + baraza_core::reports::PAGE_SIZE - 1) / baraza_core::reports::PAGE_SIZE;
    let page_link = |p: i64| {
        let mut q2: Vec<(String, String)> =
            q.iter().filter(|(k, _)| k != "page").cloned().collect();
        q2.push(("page".into(), p.to_string()));
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&q2).unwrap_or_default()
        )
    };
    let title = if l.moderator {
        ctx.t("report.queue_title")
    } else {
        ctx.t("report.public_title")
    };
    layout(
        &c,
        title,
        html! {
            p.muted { a href=(pv.url) { (pv.name) } }
            h1 { (title) }
            p {
                a href={ (base) "/map" } { (ctx.t("report.map_link")) }
                @if settings.web_form || l.moderator { " · " a href={ (base) "/new" } { (ctx.t("report.new_link")) } }
                @if can_settings { " · " a href={ (base) "/settings" } { (ctx.t("report.settings_link")) } }
                " · " a href={ (base) ".csv?" (serde_urlencoded::to_string(q).unwrap_or_default()) } { "CSV" }
            }
            @if l.moderator {
                p {
                    @for (s, n) in &l.counts {
                        a href={ (base) "?state=" (s) } { (state_label(ctx, s)) } ": " strong { (n) } " · "
                    }
                }
                @if !data.alerts.is_empty() {
                    section.alerts {
                        h2 { (ctx.t("report.alerts")) }
                        ul { @for a in &data.alerts {
                            li { strong { (category_label(ctx, &settings, &a.category)) } " · " (a.place) " · "
                                 (ctx.tf("report.alert_count", &[("n", &a.count.to_string())])) " · " (when(a.at))
                                 " · " (ctx.tf("report.alert_told", &[("n", &a.told.to_string())])) }
                        } }
                    }
                }
            }
            form.filters method="get" action=(base) {
                @if l.moderator {
                    fieldset {
                        legend { (ctx.t("report.f.state")) }
                        @for s in ["in_review", "verified", "published", "archived", "rejected"] {
                            label.inline { input type="checkbox" name="state" value=(s) checked[f.states.iter().any(|x| x == s)]; " " (state_label(ctx, s)) }
                        }
                    }
                }
                label for="r-cat" { (ctx.t("report.f.category")) }
                select #r-cat name="category" {
                    option value="" { (ctx.t("report.any_category")) }
                    @for cat in &settings.categories {
                        option value=(cat.code) selected[f.category.as_deref() == Some(cat.code.as_str())] { (category_label(ctx, &settings, &cat.code)) }
                    }
                }
                label for="r-place" { (ctx.t("report.f.place")) }
                select #r-place name="place" { (place_options(ctx, places, f.place.as_deref().unwrap_or(""))) }
                label for="r-from" { (ctx.t("report.f.from")) }
                input #r-from type="date" name="from" value=(f.from.clone().unwrap_or_default());
                label for="r-to" { (ctx.t("report.f.to")) }
                input #r-to type="date" name="to" value=(f.to.clone().unwrap_or_default());
                button type="submit" { (ctx.t("report.filter")) }
            }
            p { (ctx.tf("report.count", &[("n", &l.total.to_string())])) }
            @if l.reports.is_empty() { p.muted { (ctx.t("report.none")) } } @else {
                table {
                    thead { tr {
                        th scope="col" { "#" }
                        @if l.moderator { th scope="col" { (ctx.t("report.f.state")) } }
                        th scope="col" { (ctx.t("report.f.category")) }
                        th scope="col" { (ctx.t("report.f.place")) }
                        th scope="col" { (ctx.t("report.f.text")) }
                        th scope="col" { (ctx.t("report.f.when")) }
                        @if l.moderator { th scope="col" { (ctx.t("report.f.source")) } th scope="col" { (ctx.t("report.f.sender")) } }
                    } }
                    tbody { @for r in &l.reports {
                        tr {
                            td { a href={ (base) "/" (r.id) } { (r.id) } }
                            @if l.moderator { td { (state_label(ctx, &r.state)) } }
                            td { (category_label(ctx, &settings, &r.category)) }
                            td { (r.place_name) @if l.moderator && r.place_match == "ambiguous" { " " span.badge { (ctx.t("report.ambiguous")) } } }
                            td { (r.body.chars().take(140).collect::<String>()) }
                            td { @match r.reported_at { Some(t) => { (when(t)) } None => { "—" } } }
                            @if l.moderator {
                                td { (r.source) @if !r.channel.is_empty() { " · " (r.channel) } }
                                td { code { (r.sender.clone().unwrap_or_default()) } }
                            }
                        }
                    } }
                }
                @if pages > 1 {
                    nav.pages {
                        @if l.page > 1 { a href=(page_link(l.page - 1)) { "‹ " (ctx.t("report.prev")) } " " }
                        (ctx.tf("report.page_of", &[("page", &l.page.to_string()), ("pages", &pages.to_string())]))
                        @if l.page < pages { " " a href=(page_link(l.page + 1)) { (ctx.t("report.next")) " ›" } }
                    }
                }
            }
        },
    )
}

// -------------------------------------------------------------------------------------------
// The web form

#[derive(Serialize)]
struct NewPage {
    settings: ReportSettings,
    sent: bool,
}

/// `GET …/reports/new`: the web report form, for anyone who sees the project when the project
/// takes web reports (moderators always).
pub async fn new_page(
    g: ProjectGuard<ViewProject>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let settings = ctx.state.core.report_settings(&g.access).await?;
    if !settings.web_form && !Core::moderates(&g.access) {
        return Err(WebError::not_found());
    }
    let q = pairs(raw.as_deref());
    let data = NewPage {
        settings,
        sent: first(&q, "sent") == "1",
    };
    let places = ctx.state.core.report_places().await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || {
        new_html(ctx, &pv, &data, &places, &WebReportInput::default(), None)
    }))
}

fn new_html(
    ctx: &Ctx,
    pv: &ProjectView,
    data: &NewPage,
    places: &[(String, String, Option<String>)],
    input: &WebReportInput,
    error: Option<&str>,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let base = base(pv);
    layout(
        &c,
        ctx.t("report.new_title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(base) { (ctx.t("report.public_title")) } }
            h1 { (ctx.t("report.new_title")) }
            @if data.sent { p.notice role="status" { (ctx.t("report.thanks")) } }
            (crate::pages::form_error(error))
            p { (ctx.t("report.new_intro")) }
            form.stack method="post" action=(base) {
                (csrf_field(c.csrf))
                @if !data.settings.categories.is_empty() {
                    label for="n-cat" { (ctx.t("report.f.category")) }
                    select #n-cat name="category" {
                        option value="" { (ctx.t("report.no_category")) }
                        @for cat in &data.settings.categories {
                            option value=(cat.code) selected[input.category == cat.code] { (category_label(ctx, &data.settings, &cat.code)) }
                        }
                    }
                }
                label for="n-body" { (ctx.t("report.f.text")) }
                textarea #n-body name="body" required maxlength=(MAX_REPORT_CHARS) rows="5" { (input.body) }
                label for="n-place" { (ctx.t("report.f.place")) }
                select #n-place name="place" { (place_options(ctx, places, &input.place)) }
                small.muted { (ctx.t("report.place_hint")) }
                details {
                    summary { (ctx.t("report.coordinates")) }
                    label for="n-lat" { (ctx.t("report.f.lat")) }
                    input #n-lat name="lat" inputmode="decimal" value=(input.lat);
                    label for="n-lon" { (ctx.t("report.f.lon")) }
                    input #n-lon name="lon" inputmode="decimal" value=(input.lon);
                }
                label for="n-contact" { (ctx.t("report.f.contact")) }
                input #n-contact name="contact" maxlength="200" value=(input.contact) autocomplete="tel";
                small.muted { (ctx.t("report.contact_hint")) }
                button type="submit" { (ctx.t("report.send")) }
            }
            p.muted { small { (ctx.t("report.privacy")) } }
        },
    )
}

/// `POST …/reports`: stores a report from the web form (anonymous allowed where the project
/// takes them). Mistakes show the form again with what was typed.
pub async fn create(
    g: ProjectGuard<ViewProject>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let input = WebReportInput {
        category: first(&f, "category").into(),
        body: first(&f, "body").into(),
        place: first(&f, "place").into(),
        lat: first(&f, "lat").into(),
        lon: first(&f, "lon").into(),
        contact: first(&f, "contact").into(),
    };
    let client = ctx.client.ip.clone().unwrap_or_default();
    let pv = ProjectView::from_access(&g.access);
    match ctx
        .state
        .core
        .submit_web_report(&ctx.principal, &g.access, &input, &client)
        .await
    {
        Ok(id) => {
            if matches!(ctx.format(), Format::Json) {
                return Ok((
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({"id": id})),
                )
                    .into_response());
            }
            Ok(see_other(&format!("{}/new?sent=1", base(&pv))))
        }
        Err(e @ baraza_core::CoreError::Invalid { .. }) if matches!(ctx.format(), Format::Html) => {
            let web = WebError::from(e);
            let message = super::census::message_of(ctx, &web);
            let settings = ctx.state.core.report_settings(&g.access).await?;
            let places = ctx.state.core.report_places().await?;
            let data = NewPage {
                settings,
                sent: false,
            };
            Ok(super::form_again(
                StatusCode::UNPROCESSABLE_ENTITY,
                new_html(ctx, &pv, &data, &places, &input, Some(&message)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

// -------------------------------------------------------------------------------------------
// A report

/// `GET …/reports/{id}`: a report. Moderators get its checklist, the states it may move to,
/// its comments and replies, and forms to act; people who may see personal data its sender's
/// number.
pub async fn page(
    g: ProjectGuard<ViewProject>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = id_of(&id)?;
    let detail = ctx
        .state
        .core
        .report_detail(&ctx.principal, &g.access, id)
        .await?;
    let settings = ctx.state.core.report_settings(&g.access).await?;
    let moderator = Core::moderates(&g.access);
    let places = if moderator {
        ctx.state.core.report_places().await?
    } else {
        Vec::new()
    };
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &detail, || {
        page_html(ctx, &pv, &detail, &settings, moderator, &places)
    }))
}

fn page_html(
    ctx: &Ctx,
    pv: &ProjectView,
    d: &ReportDetail,
    settings: &ReportSettings,
    moderator: bool,
    places: &[(String, String, Option<String>)],
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let r = &d.report;
    let base = base(pv);
    let url = format!("{base}/{}", r.id);
    let title = ctx.tf("report.title", &[("id", &r.id.to_string())]);
    layout(
        &c,
        &title,
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(base) { (ctx.t(if moderator { "report.queue_title" } else { "report.public_title" })) } }
            h1 { (title) " · " (category_label(ctx, settings, &r.category)) }
            blockquote { (r.body) }
            dl.facts {
                dt { (ctx.t("report.f.state")) } dd { (state_label(ctx, &r.state)) }
                dt { (ctx.t("report.f.place")) }
                dd {
                    @if r.place_name.is_empty() { "—" } @else { (r.place_name) }
                    @if moderator && !r.place_match.is_empty() { " " small.muted { "(" (ctx.t(&format!("report.match.{}", r.place_match))) ")" } }
                }
                @if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                    dt { (ctx.t("report.f.position")) } dd { (format!("{lat:.4}, {lon:.4}")) }
                }
                @if let Some(t) = r.reported_at { dt { (ctx.t("report.f.when")) } dd { (when(t)) } }
                @if let Some(a) = &r.author { dt { (ctx.t("report.f.author")) } dd { (a) } }
                @if moderator {
                    dt { (ctx.t("report.f.source")) } dd { (r.source) @if !r.channel.is_empty() { " · " (r.channel) } }
                    @if let Some(s) = &r.sender { dt { (ctx.t("report.f.sender")) } dd { code { (s) } " · " a href={ (base) "?sender=" (s) } { (ctx.t("report.same_sender")) } } }
                    @if let Some(contact) = &d.sender_contact { dt { (ctx.t("report.f.contact")) } dd { (contact) } }
                    @if let Some(f) = &r.form_id { dt { (ctx.t("report.f.form")) } dd { code { (f) } } }
                }
            }
            @if let Some(obj) = r.answers.as_object() {
                @if !obj.is_empty() {
                    h2 { (ctx.t("report.answers")) }
                    table { tbody { @for (k, v) in obj {
                        tr { th scope="row" { code { (k) } } td { (v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())) } }
                    } } }
                }
            }
            @if moderator {
                h2 { (ctx.t("report.moderate")) }
                form.stack method="post" action={ (url) "/state" } {
                    (csrf_field(c.csrf))
                    @if !d.checklist.is_empty() {
                        fieldset {
                            legend { (ctx.t("report.checklist")) }
                            @for (item, ticked) in &d.checklist {
                                label { input type="checkbox" name="check" value=(item) checked[*ticked]; " " (item) }
                            }
                        }
                    }
                    label for="m-state" { (ctx.t("report.move_to")) }
                    select #m-state name="state" {
                        option value=(r.state) { (state_label(ctx, &r.state)) " (" (ctx.t("report.unchanged")) ")" }
                        @for s in &d.next_states { option value=(s) { (state_label(ctx, s)) } }
                    }
                    button type="submit" { (ctx.t("report.apply")) }
                }
                h2 { (ctx.t("report.correct")) }
                form.stack method="post" action={ (url) "/place" } {
                    (csrf_field(c.csrf))
                    label for="p-cat" { (ctx.t("report.f.category")) }
                    select #p-cat name="category" {
                        option value="" { (ctx.t("report.no_category")) }
                        @for cat in &settings.categories {
                            option value=(cat.code) selected[r.category == cat.code] { (category_label(ctx, settings, &cat.code)) }
                        }
                    }
                    label for="p-place" { (ctx.t("report.f.place")) }
                    select #p-place name="place" { (place_options(ctx, places, r.place_code.as_deref().unwrap_or(""))) }
                    button type="submit" { (ctx.t("report.save")) }
                }
                h2 { (ctx.t("report.comments")) }
                @if d.comments.is_empty() { p.muted { (ctx.t("report.no_comments")) } }
                ul { @for cm in &d.comments { li { strong { (cm.author) } " · " (when(cm.created_at)) br; (cm.body) } } }
                form.stack method="post" action={ (url) "/comments" } {
                    (csrf_field(c.csrf))
                    label for="c-body" { (ctx.t("report.comment")) }
                    textarea #c-body name="body" required maxlength="4000" rows="3" {}
                    button type="submit" { (ctx.t("report.add_comment")) }
                }
                @if !d.replies.is_empty() {
                    h2 { (ctx.t("report.replies")) }
                    ul { @for rp in &d.replies {
                        li { (rp.body) " · " (ctx.t(&format!("report.reply_state.{}", rp.state)))
                             @if !rp.last_error.is_empty() { " · " small.muted { (rp.last_error) } } }
                    } }
                }
            }
        },
    )
}

/// `POST …/reports/{id}/state`: moves a report, with the checklist as ticked.
pub async fn moderate(
    g: ProjectGuard<ModerateReports>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let ticked = all(&f, "check");
    g.ctx
        .state
        .core
        .moderate_report(&g.ctx.principal, &g.access, id, first(&f, "state"), &ticked)
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}

/// `POST …/reports/{id}/comments`: adds a moderator's comment.
pub async fn comment(
    g: ProjectGuard<ModerateReports>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    g.ctx
        .state
        .core
        .comment_report(&g.ctx.principal, &g.access, id, first(&f, "body"))
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}

/// `POST …/reports/{id}/place`: corrects a report's category and place.
pub async fn relocate(
    g: ProjectGuard<ModerateReports>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    g.ctx
        .state
        .core
        .relocate_report(
            &g.ctx.principal,
            &g.access,
            id,
            first(&f, "category"),
            first(&f, "place"),
        )
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}

// -------------------------------------------------------------------------------------------
// Settings and channels

#[derive(Serialize)]
struct SettingsData {
    settings: ReportSettings,
    channels: Vec<ChannelView>,
    gateways: Vec<GatewayInfo>,
}

#[derive(Serialize)]
struct GatewayInfo {
    code: &'static str,
    outbound: &'static [&'static str],
}

/// `GET …/reports/settings`: the project's report settings and gateway channels (owners).
pub async fn settings_page(
    g: ProjectGuard<ManageProject>,
    headers: HeaderMap,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = SettingsData {
        settings: ctx.state.core.report_settings(&g.access).await?,
        channels: ctx.state.core.report_channels(&g.access).await?,
        gateways: Gateway::ALL
            .iter()
            .map(|g| GatewayInfo {
                code: g.code(),
                outbound: outbound_fields(*g),
            })
            .collect(),
    };
    let pv = ProjectView::from_access(&g.access);
    let public = super::ckan::base_url(ctx, &headers);
    Ok(respond(ctx, &data, || {
        settings_html(ctx, &pv, &data, &public)
    }))
}

fn lines_of_categories(s: &ReportSettings) -> String {
    s.categories
        .iter()
        .map(|c| {
            format!(
                "{} | {} | {} | {}",
                c.code,
                c.label_en,
                c.label_fr,
                c.keywords.join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn lines_of_sms_forms(s: &ReportSettings) -> String {
    s.sms_forms
        .iter()
        .map(|f| {
            format!(
                "{} | {} | {} | {} | {}",
                f.form_id,
                f.prefix,
                f.keywords
                    .iter()
                    .map(|(k, l)| format!("{k}:{l}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                f.delimiter.map(String::from).unwrap_or_default(),
                f.category
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn settings_html(ctx: &Ctx, pv: &ProjectView, data: &SettingsData, public: &str) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let base = base(pv);
    let s = &data.settings;
    layout(
        &c,
        ctx.t("report.settings_title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(base) { (ctx.t("report.queue_title")) } }
            h1 { (ctx.t("report.settings_title")) }
            form.stack method="post" action={ (base) "/settings" } {
                (csrf_field(c.csrf))
                label { input type="checkbox" name="web_form" value="1" checked[s.web_form]; " " (ctx.t("report.f.web_form")) }
                label { input type="checkbox" name="hide_author" value="1" checked[s.hide_author]; " " (ctx.t("report.f.hide_author")) }
                label { input type="checkbox" name="hide_time" value="1" checked[s.hide_time]; " " (ctx.t("report.f.hide_time")) }
                label for="s-fuzz" { (ctx.t("report.f.fuzz")) }
                select #s-fuzz name="fuzz" {
                    @for f in ["none", "area", "grid"] { option value=(f) selected[s.fuzz.code() == f] { (ctx.t(&format!("report.fuzz.{f}"))) } }
                }
                label for="s-km" { (ctx.t("report.f.fuzz_km")) }
                input #s-km name="fuzz_km" inputmode="decimal" value=(s.fuzz_km);
                label for="s-k" { (ctx.t("report.f.k")) }
                input #s-k name="k_threshold" inputmode="numeric" value=(s.k_threshold);
                small.muted { (ctx.t("report.k_hint")) }
                label for="s-cat" { (ctx.t("report.f.categories")) }
                textarea #s-cat name="categories" rows="5" { (lines_of_categories(s)) }
                small.muted { (ctx.t("report.categories_hint")) }
                label for="s-check" { (ctx.t("report.f.checklist")) }
                textarea #s-check name="checklist" rows="4" { (s.checklist.join("\n")) }
                label for="s-sms" { (ctx.t("report.f.sms_forms")) }
                textarea #s-sms name="sms_forms" rows="3" { (lines_of_sms_forms(s)) }
                small.muted { (ctx.t("report.sms_forms_hint")) }
                label for="s-at" { (ctx.t("report.f.alert_threshold")) }
                input #s-at name="alert_threshold" inputmode="numeric" value=(s.alert_threshold);
                label for="s-aw" { (ctx.t("report.f.alert_window")) }
                input #s-aw name="alert_window_hours" inputmode="numeric" value=(s.alert_window_hours);
                label for="s-ap" { (ctx.t("report.f.alert_phones")) }
                textarea #s-ap name="alert_phones" rows="2" placeholder=(ctx.t(if s.alert_phones { "report.alert_phones_kept" } else { "report.alert_phones_none" })) {}
                label { input type="checkbox" name="alert_phones_clear" value="1"; " " (ctx.t("report.alert_phones_clear")) }
                button type="submit" { (ctx.t("report.save")) }
            }
            h2 { (ctx.t("report.channels")) }
            @if data.channels.is_empty() { p.muted { (ctx.t("report.no_channels")) } } @else {
                table {
                    thead { tr {
                        th scope="col" { (ctx.t("report.f.name")) }
                        th scope="col" { (ctx.t("report.f.gateway")) }
                        th scope="col" { (ctx.t("report.f.webhook")) }
                        th scope="col" { (ctx.t("report.f.outbound")) }
                        th scope="col" {}
                    } }
                    tbody { @for ch in &data.channels {
                        tr {
                            td { (ch.name) }
                            td { (ch.gateway) }
                            td { code { (public) (ch.webhook_path) } }
                            td { (ch.outbound_keys.join(", ")) }
                            td {
                                form.inline method="post" action={ (base) "/channels/" (ch.id) "/state" } {
                                    (csrf_field(c.csrf))
                                    input type="hidden" name="enabled" value=(if ch.enabled { "0" } else { "1" });
                                    button.secondary type="submit" { (ctx.t(if ch.enabled { "report.turn_off" } else { "report.turn_on" })) }
                                }
                            }
                        }
                    } }
                }
            }
            h3 { (ctx.t("report.add_channel")) }
            p.muted { (ctx.t("report.channel_hint")) }
            form.stack method="post" action={ (base) "/channels" } {
                (csrf_field(c.csrf))
                label for="ch-g" { (ctx.t("report.f.gateway")) }
                select #ch-g name="gateway" { @for gw in &data.gateways { option value=(gw.code) { (gw.code) } } }
                label for="ch-n" { (ctx.t("report.f.name")) }
                input #ch-n name="name" required maxlength="100";
                label for="ch-s" { (ctx.t("report.f.secret")) }
                input #ch-s name="secret" required minlength="16" autocomplete="off";
                small.muted { (ctx.t("report.secret_hint")) }
                label for="ch-o" { (ctx.t("report.f.outbound")) }
                textarea #ch-o name="outbound" rows="4" placeholder="account_sid=AC…\nfrom=+235…" {}
                small.muted {
                    (ctx.t("report.outbound_hint"))
                    @for gw in &data.gateways { @if !gw.outbound.is_empty() { br; code { (gw.code) } ": " (gw.outbound.join(", ")) } }
                }
                button type="submit" { (ctx.t("report.add_channel")) }
            }
        },
    )
}

/// `POST …/reports/settings`: saves the settings.
pub async fn save_settings(
    g: ProjectGuard<ManageProject>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let phones = first(&f, "alert_phones").trim().to_owned();
    let input = SettingsInput {
        web_form: first(&f, "web_form") == "1",
        hide_author: first(&f, "hide_author") == "1",
        hide_time: first(&f, "hide_time") == "1",
        fuzz: first(&f, "fuzz").into(),
        fuzz_km: first(&f, "fuzz_km").into(),
        k_threshold: first(&f, "k_threshold").into(),
        categories: first(&f, "categories").into(),
        checklist: first(&f, "checklist").into(),
        sms_forms: first(&f, "sms_forms").into(),
        alert_threshold: first(&f, "alert_threshold").into(),
        alert_window_hours: first(&f, "alert_window_hours").into(),
        alert_phones: if first(&f, "alert_phones_clear") == "1" {
            Some(String::new())
        } else if phones.is_empty() {
            None
        } else {
            Some(phones)
        },
    };
    g.ctx
        .state
        .core
        .set_report_settings(&g.ctx.principal, &g.access, &input)
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/settings", base(&pv))))
}

/// `POST …/reports/channels`: adds a gateway channel.
pub async fn add_channel(
    g: ProjectGuard<ManageProject>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let outbound: Vec<(String, String)> = first(&f, "outbound")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let ch = g
        .ctx
        .state
        .core
        .add_report_channel(
            &g.ctx.principal,
            &g.access,
            first(&f, "gateway"),
            first(&f, "name"),
            first(&f, "secret"),
            &outbound,
        )
        .await?;
    if matches!(g.ctx.format(), Format::Json) {
        return Ok((StatusCode::CREATED, axum::Json(ch)).into_response());
    }
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/settings", base(&pv))))
}

/// `POST …/reports/channels/{id}/state`: turns a channel off (`enabled=0`) or on.
pub async fn channel_state(
    g: ProjectGuard<ManageProject>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    g.ctx
        .state
        .core
        .set_report_channel_enabled(&g.ctx.principal, &g.access, id, first(&f, "enabled") == "1")
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/settings", base(&pv))))
}

// -------------------------------------------------------------------------------------------
// GeoJSON

/// The map's filters from a query: `category`, `state` (moderators), `place`, `from`, `to`.
pub(crate) fn map_filter(q: &[(String, String)]) -> WebResult<baraza_core::reports::MapFilter> {
    let day = |k: &'static str| -> WebResult<Option<i64>> {
        match first(q, k).trim() {
            "" => Ok(None),
            d => baraza_core::reports::parse_day(d).map(Some).ok_or_else(|| {
                WebError::from(baraza_core::CoreError::Invalid {
                    field: k,
                    reason: "report.day",
                })
            }),
        }
    };
    let opt = |k: &str| Some(first(q, k).trim().to_owned()).filter(|v| !v.is_empty());
    Ok(baraza_core::reports::MapFilter {
        category: opt("category"),
        states: all(q, "state"),
        place: opt("place"),
        from: day("from")?,
        to: day("to")?.map(|t| t + 86_400),
    })
}

/// `GET …/reports.geojson`: the map's clusters as GeoJSON points (RFC 7946), for other tools.
/// `bbox=west,south,east,north` and `zoom` (0–22, default 5) choose the grid; the filters are
/// the map's. The public gets the same k-anonymous clusters as the public map, never single
/// reports.
pub async fn geojson(g: ProjectGuard<ViewProject>, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let q = pairs(raw.as_deref());
    let bad = |field: &'static str| {
        WebError::from(baraza_core::CoreError::Invalid {
            field,
            reason: "report.bbox",
        })
    };
    let bbox = match first(&q, "bbox").trim() {
        "" => baraza_reports::cluster::BBox {
            south: -85.0,
            west: -180.0,
            north: 85.0,
            east: 180.0,
        },
        b => {
            let v: Vec<f64> = b
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad("bbox"))?;
            match v.as_slice() {
                [w, s, e, n]
                    if v.iter().all(|x| x.is_finite())
                        && w <= e
                        && s <= n
                        && w.abs() <= 180.0
                        && e.abs() <= 180.0
                        && s.abs() <= 90.0
                        && n.abs() <= 90.0 =>
                {
                    baraza_reports::cluster::BBox {
                        south: *s,
                        west: *w,
                        north: *n,
                        east: *e,
                    }
                }
                _ => return Err(bad("bbox")),
            }
        }
    };
    let zoom = match first(&q, "zoom").trim() {
        "" => 5,
        z => z
            .parse::<u8>()
            .ok()
            .filter(|z| *z <= baraza_reports::cluster::MAX_ZOOM)
            .ok_or_else(|| bad("zoom"))?,
    };
    let filter = map_filter(&q)?;
    let data = g
        .ctx
        .state
        .core
        .report_map(&g.access, bbox, zoom, &filter)
        .await?;
    let features: Vec<serde_json::Value> = data
        .clusters
        .iter()
        .map(|c| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [
                    (c.lon * 1e5).round() / 1e5, (c.lat * 1e5).round() / 1e5]},
                "properties": {"count": c.count, "zoom": c.zoom, "merged": c.merged},
            })
        })
        .collect();
    let body = serde_json::json!({
        "type": "FeatureCollection",
        "features": features,
        "zoom": data.zoom,
        "reports": data.shown,
        "hidden": data.hidden,
        "unplaced": data.unplaced,
        "k": data.k,
    });
    let mut res = axum::Json(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(res)
}

// -------------------------------------------------------------------------------------------
// The map

/// The map's size in pixels: small enough for a phone, and a 2G connection.
const MAP_W: u32 = 640;
const MAP_H: u32 = 560;

#[derive(Serialize)]
struct MapPage {
    view: MapViewInfo,
    #[serde(flatten)]
    data: baraza_core::reports::MapData,
}

#[derive(Serialize)]
struct MapViewInfo {
    zoom: u8,
    lat: f64,
    lon: f64,
    /// `[west, south, east, north]`.
    bbox: [f64; 4],
}

/// `GET …/reports/map`: reports clustered on the server over the admin boundaries, as SVG,
/// with zoom and pan by links (`z`, `lat`, `lon`) and the list's filters. The public sees the
/// published reports at their public positions, in clusters of at least k.
pub async fn map(g: ProjectGuard<ViewProject>, RawQuery(raw): RawQuery) -> WebResult<Response> {
    use baraza_reports::view::{Direction, View};
    let ctx = &g.ctx;
    let core = &ctx.state.core;
    let q = pairs(raw.as_deref());
    let filter = map_filter(&q)?;
    let rows = core.places(true).await?;
    let level = rows
        .iter()
        .filter(|p| p.geometry.is_some())
        .map(|p| p.level)
        .min();
    let areas: Vec<(String, String, Vec<Vec<baraza_charts::geo::Ring>>)> = rows
        .iter()
        .filter(|p| Some(p.level) == level)
        .filter_map(|p| {
            let polys = serde_json::from_str(p.geometry.as_deref()?).ok()?;
            Some((p.code.clone(), p.name.clone(), polys))
        })
        .collect();
    let attribution = rows
        .iter()
        .find(|p| Some(p.level) == level)
        .map(|p| p.attribution.clone())
        .unwrap_or_default();
    let view = match View::from_query(&q) {
        Ok(Some(v)) => v,
        Ok(None) => {
            let bb = areas
                .iter()
                .filter_map(|(_, _, p)| baraza_charts::geo::bbox_of(p))
                .reduce(|a, b| {
                    [
                        a[0].min(b[0]),
                        a[1].min(b[1]),
                        a[2].max(b[2]),
                        a[3].max(b[3]),
                    ]
                });
            match bb {
                Some([w, s, e, n]) => View::fit(
                    baraza_reports::cluster::BBox {
                        south: s,
                        west: w,
                        north: n,
                        east: e,
                    },
                    MAP_W,
                    MAP_H,
                ),
                None => View::WORLD,
            }
        }
        Err(e) => {
            return Err(WebError::code(baraza_types::ErrorCode::ValidationFailed)
                .with_detail(format!("raw:{e}")))
        }
    };
    let data = core
        .report_map(
            &g.access,
            view.cells_bbox(MAP_W, MAP_H),
            view.cluster_zoom(),
            &filter,
        )
        .await?;
    let bb = view.bbox(MAP_W, MAP_H);
    let page = MapPage {
        view: MapViewInfo {
            zoom: view.zoom,
            lat: view.lat,
            lon: view.lon,
            bbox: [bb.west, bb.south, bb.east, bb.north],
        },
        data,
    };
    if !matches!(ctx.format(), Format::Html) {
        return Ok(respond(ctx, &page, || html! {}));
    }
    let pv = ProjectView::from_access(&g.access);
    let base = base(&pv);
    let filters: Vec<(String, String)> = q
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "z" | "lat" | "lon") && !v.is_empty())
        .cloned()
        .collect();
    let link = |v: &View| {
        let f = serde_urlencoded::to_string(&filters).unwrap_or_default();
        if f.is_empty() {
            format!("{base}/map?{}", v.to_query())
        } else {
            format!("{base}/map?{}&{f}", v.to_query())
        }
    };
    let markers: Vec<baraza_charts::points::Marker> = page
        .data
        .clusters
        .iter()
        .map(|c| baraza_charts::points::Marker {
            lat: c.lat,
            lon: c.lon,
            count: c.count,
            label: ctx.tf("report.map_marker", &[("n", &c.count.to_string())]),
            href: (view.zoom < baraza_reports::cluster::MAX_ZOOM).then(|| {
                link(&view.zoom_in_at(baraza_reports::cluster::Point {
                    lat: c.lat,
                    lon: c.lon,
                }))
            }),
            approximate: c.merged,
        })
        .collect();
    let svg = baraza_charts::points::render_points(&baraza_charts::points::PointMapSpec {
        id: "rmap".into(),
        title: ctx.t("report.map_title").into(),
        desc: ctx.tf("report.map_desc", &[("n", &page.data.shown.to_string())]),
        attribution,
        areas: areas
            .iter()
            .map(|(code, name, polys)| baraza_charts::points::BaseArea {
                code,
                name,
                polygons: polys,
                href: None,
            })
            .collect(),
        markers,
        view: baraza_charts::points::Viewport {
            south: bb.south,
            west: bb.west,
            north: bb.north,
            east: bb.east,
        },
        width: MAP_W,
        height: MAP_H,
    });
    let settings = core.report_settings(&g.access).await?;
    let places = core.report_places().await?;
    let c = Chrome::from_ctx(ctx);
    let d = &page.data;
    let markup = layout(
        &c,
        ctx.t("report.map_title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(base) { (ctx.t(if d.moderator { "report.queue_title" } else { "report.public_title" })) } }
            h1 { (ctx.t("report.map_title")) }
            form.filters method="get" action={ (base) "/map" } {
                input type="hidden" name="z" value=(view.zoom);
                input type="hidden" name="lat" value=(format!("{:.5}", view.lat));
                input type="hidden" name="lon" value=(format!("{:.5}", view.lon));
                label for="m-cat" { (ctx.t("report.f.category")) }
                select #m-cat name="category" {
                    option value="" { (ctx.t("report.any_category")) }
                    @for cat in &settings.categories {
                        option value=(cat.code) selected[filter.category.as_deref() == Some(cat.code.as_str())] { (category_label(ctx, &settings, &cat.code)) }
                    }
                }
                @if d.moderator {
                    label for="m-state" { (ctx.t("report.f.state")) }
                    select #m-state name="state" {
                        option value="" { (ctx.t("report.any_state")) }
                        @for s in ["in_review", "verified", "published", "archived", "rejected"] {
                            option value=(s) selected[filter.states.iter().any(|x| x == s)] { (state_label(ctx, s)) }
                        }
                    }
                }
                label for="m-place" { (ctx.t("report.f.place")) }
                select #m-place name="place" { (place_options(ctx, &places, filter.place.as_deref().unwrap_or(""))) }
                label for="m-from" { (ctx.t("report.f.from")) }
                input #m-from type="date" name="from" value=(first(&q, "from"));
                label for="m-to" { (ctx.t("report.f.to")) }
                input #m-to type="date" name="to" value=(first(&q, "to"));
                button type="submit" { (ctx.t("report.filter")) }
            }
            nav.mapnav aria-label=(ctx.t("report.map_nav")) {
                a href=(link(&view.zoom_in())) { "+ " (ctx.t("report.zoom_in")) } " · "
                a href=(link(&view.zoom_out())) { "− " (ctx.t("report.zoom_out")) } " · "
                a href=(link(&view.pan(Direction::North, MAP_W, MAP_H))) { "↑ " (ctx.t("report.north")) } " · "
                a href=(link(&view.pan(Direction::South, MAP_W, MAP_H))) { "↓ " (ctx.t("report.south")) } " · "
                a href=(link(&view.pan(Direction::West, MAP_W, MAP_H))) { "← " (ctx.t("report.west")) } " · "
                a href=(link(&view.pan(Direction::East, MAP_W, MAP_H))) { "→ " (ctx.t("report.east")) } " · "
                a href={ (base) "/map" } { (ctx.t("report.whole_map")) }
            }
            figure.map { (maud::PreEscaped(svg)) }
            p {
                (ctx.tf("report.map_counts", &[("n", &d.shown.to_string()), ("cells", &d.clusters.len().to_string())]))
                @if d.hidden > 0 { " " (ctx.tf("report.map_hidden", &[("n", &d.hidden.to_string()), ("k", &d.k.to_string())])) }
                @if d.unplaced > 0 { " " (ctx.tf("report.map_unplaced", &[("n", &d.unplaced.to_string())])) }
            }
            @if !d.moderator { p.muted { small { (ctx.tf("report.map_public", &[("k", &d.k.to_string())])) } } }
            p { a href={ (base) ".geojson?zoom=" (view.zoom) "&bbox=" (format!("{:.5},{:.5},{:.5},{:.5}", bb.west, bb.south, bb.east, bb.north)) } { "GeoJSON" } }
        },
    );
    Ok(respond(ctx, &page, || markup))
}
