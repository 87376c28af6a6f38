//! Reuses and discussions: the list of reuses (with `.json` and `.csv` twins), a reuse's
//! page with its editing and moderation forms, registering a reuse, and a discussion's page
//! with its reply, close, report and hide forms. Server-rendered, no script.
//!
//! Who sees and may do what is decided by `baraza_core::reuses` and
//! `baraza_core::discussions`; these handlers extract, call, render.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, SessionUser};
use crate::error::{WebError, WebResult};
use crate::middleware::url_encode;
use crate::pages::{csrf_field, layout, when, Chrome};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_core::discussions::{DiscussionView, SubjectRef, MAX_MESSAGE};
use baraza_core::reuses::{
    ReuseFilter, ReuseInput, ReuseView, MAX_DESCRIPTION, MAX_TITLE, MAX_TOPIC, MAX_URL, REUSE_TYPES,
};
use maud::{html, Markup};
use serde::Serialize;

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .unwrap_or_default()
}

fn first<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn id_of(s: &str) -> WebResult<i64> {
    s.parse().map_err(|_| WebError::not_found())
}

/// Plain text as paragraphs (blank lines) and line breaks; escaped by the template.
pub fn plain_text(s: &str) -> Markup {
    html! {
        @for para in s.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}

/// A reuse's type in the reader's language.
pub fn type_label(ctx: &Ctx, kind: &str) -> String {
    ctx.t(&format!("reuse.type.{kind}")).to_owned()
}

/// The outside link of a reuse: user-given, so not followed by search engines nor given
/// this page as opener.
fn outside_link(url: &str, text: &str) -> Markup {
    html! { a href=(url) rel="nofollow ugc noopener noreferrer" { (text) } }
}

/// A reuse in a list: title, type, who, when, the datasets the reader sees.
pub fn reuse_item(ctx: &Ctx, r: &ReuseView) -> Markup {
    html! {
        li.reuse {
            a href={ "/reuses/" (r.id) } { (r.title) }
            " · " span.badge { (type_label(ctx, &r.kind)) }
            @if r.hidden { " · " strong { (ctx.t("reuse.hidden")) } }
            br;
            small.muted {
                (r.owner) " · " (when(r.created))
                @if !r.datasets.is_empty() {
                    " · " (ctx.t("reuse.of")) " "
                    @for (i, d) in r.datasets.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/dataset/" (d.name) } { (d.title) }
                    }
                }
            }
        }
    }
}

/// The "your data was reused N times" block of a project's or an organisation's pages.
pub fn reused_block(ctx: &Ctx, reuses: &[ReuseView], more: &str) -> Markup {
    html! {
        section.reused {
            h2 { (ctx.t("reuse.feedback_title")) }
            @if reuses.is_empty() {
                p.muted { (ctx.t("reuse.feedback_none")) }
            } @else {
                p { strong { (ctx.tf("reuse.feedback_count", &[("n", &reuses.len().to_string())])) } }
                ul { @for r in reuses.iter().take(20) { (reuse_item(ctx, r)) } }
                @if reuses.len() > 20 { p { a href=(more) { (ctx.t("reuse.see_all")) } } }
            }
        }
    }
}

#[derive(Serialize)]
struct ListData {
    count: usize,
    #[serde(rename = "type")]
    kind: Option<String>,
    dataset: Option<String>,
    organization: Option<String>,
    reuses: Vec<ReuseView>,
}

/// `GET /reuses` (and `.json`, `.csv`): reuses, newest first; `type`, `dataset` and
/// `organization` filter.
pub async fn list(ctx: Ctx, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let p = pairs(raw.as_deref());
    let opt = |k: &str| Some(first(&p, k).trim().to_owned()).filter(|v| !v.is_empty());
    let filter = ReuseFilter {
        kind: opt("type"),
        dataset: opt("dataset"),
        organization: opt("organization"),
    };
    let reuses = ctx.state.core.reuses(&ctx.principal, &filter).await?;
    if matches!(ctx.format(), Format::Csv) {
        let mut out = baraza_publish::csv::line(&[
            "id", "title", "type", "url", "topic", "owner", "created", "datasets",
        ]);
        for r in &reuses {
            out.push_str(&baraza_publish::csv::line(&[
                r.id.to_string(),
                r.title.clone(),
                r.kind.clone(),
                r.url.clone(),
                r.topic.clone(),
                r.owner.clone(),
                crate::pages::iso_date(r.created),
                r.datasets
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]));
        }
        let mut res = out.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        res.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"reuses.csv\""),
        );
        return Ok(res);
    }
    let data = ListData {
        count: reuses.len(),
        kind: filter.kind,
        dataset: filter.dataset,
        organization: filter.organization,
        reuses,
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let qs = raw.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
        layout(
            &c,
            ctx.t("reuse.title"),
            html! {
                p.muted { a href="/catalogue" { (ctx.t("cat.title")) } }
                h1 { (ctx.t("reuse.title")) }
                p { (ctx.t("reuse.intro")) }
                form.search method="get" action="/reuses" {
                    label for="type" { (ctx.t("reuse.f.type")) }
                    select #type name="type" {
                        option value="" { (ctx.t("reuse.all_types")) }
                        @for k in REUSE_TYPES {
                            option value=(k) selected[data.kind.as_deref() == Some(k)] { (type_label(&ctx, k)) }
                        }
                    }
                    @if let Some(d) = &data.dataset { input type="hidden" name="dataset" value=(d); }
                    @if let Some(o) = &data.organization { input type="hidden" name="organization" value=(o); }
                    button type="submit" { (ctx.t("reuse.filter")) }
                }
                p.muted { (ctx.tf("reuse.count", &[("count", &data.count.to_string())])) }
                @if data.reuses.is_empty() { p { (ctx.t("reuse.none")) } }
                ul { @for r in &data.reuses { (reuse_item(&ctx, r)) } }
                p { a.button href="/reuses/new" { (ctx.t("reuse.register")) } }
                p.muted { a href={ "/reuses.csv" (qs) } { "CSV" } }
            },
        )
    }))
}

fn fields(ctx: &Ctx, i: &ReuseInput) -> Markup {
    html! {
        label for="title" { (ctx.t("reuse.f.title")) }
        input #title name="title" required maxlength=(MAX_TITLE) value=(i.title);
        label for="kind" { (ctx.t("reuse.f.type")) }
        select #kind name="type" required {
            @for k in REUSE_TYPES {
                option value=(k) selected[i.kind == k] { (type_label(ctx, k)) }
            }
        }
        label for="url" { (ctx.t("reuse.f.url")) }
        input #url name="url" type="url" required maxlength=(MAX_URL) placeholder="https://" value=(i.url);
        small.muted { (ctx.t("reuse.f.url_hint")) }
        label for="description" { (ctx.t("reuse.f.description")) }
        textarea #description name="description" rows="5" maxlength=(MAX_DESCRIPTION) { (i.description) }
        label for="topic" { (ctx.t("reuse.f.topic")) }
        input #topic name="topic" maxlength=(MAX_TOPIC) value=(i.topic);
        label for="datasets" { (ctx.t("reuse.f.datasets")) }
        input #datasets name="datasets" required value=(i.datasets.join(", "));
        small.muted { (ctx.t("reuse.f.datasets_hint")) }
    }
}

fn input_from(f: &[(String, String)]) -> ReuseInput {
    ReuseInput {
        title: first(f, "title").to_owned(),
        kind: first(f, "type").to_owned(),
        url: first(f, "url").to_owned(),
        description: first(f, "description").to_owned(),
        topic: first(f, "topic").to_owned(),
        datasets: f
            .iter()
            .filter(|(k, _)| k == "datasets" || k == "dataset")
            .flat_map(|(_, v)| v.split([',', ' ', '\n']))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

#[derive(Serialize)]
struct NewData {
    types: &'static [&'static str],
    dataset: Option<String>,
}

/// `GET /reuses/new?dataset=NAME`: the form to register a reuse.
pub async fn new_page(
    SessionUser { ctx }: SessionUser,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let p = pairs(raw.as_deref());
    let dataset = Some(first(&p, "dataset").trim().to_owned()).filter(|d| !d.is_empty());
    // The dataset named must be one the reader sees (else 404, as its page would).
    let title = match &dataset {
        Some(n) => {
            let viewer = ctx.state.core.catalogue_viewer(&ctx.principal).await?;
            Some(ctx.state.core.dataset_seen(&viewer, n).await?.1.title)
        }
        None => None,
    };
    let data = NewData {
        types: &REUSE_TYPES,
        dataset,
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let input = ReuseInput {
            kind: "news_article".into(),
            datasets: data.dataset.iter().cloned().collect(),
            ..ReuseInput::default()
        };
        layout(
            &c,
            ctx.t("reuse.register"),
            html! {
                p.muted { a href="/reuses" { (ctx.t("reuse.title")) } }
                h1 { (ctx.t("reuse.register")) }
                @if let (Some(t), Some(n)) = (&title, &data.dataset) {
                    p { (ctx.t("reuse.of")) " " a href={ "/dataset/" (n) } { (t) } }
                }
                p { (ctx.t("reuse.register_intro")) }
                form.stack method="post" action="/reuses" {
                    (csrf_field(c.csrf))
                    (fields(&ctx, &input))
                    button type="submit" { (ctx.t("reuse.register")) }
                }
            },
        )
    }))
}

/// `POST /reuses`: `title`, `type`, `url`, `description`, `topic`, `datasets` (names,
/// separated by commas) → 303 to the reuse.
pub async fn create(
    SessionUser { ctx }: SessionUser,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = ctx
        .state
        .core
        .create_reuse(&ctx.principal, &input_from(&f))
        .await?;
    Ok(see_other(&format!("/reuses/{id}")))
}

#[derive(Serialize)]
struct ReuseData {
    reuse: ReuseView,
    discussions: Vec<DiscussionView>,
}

/// `GET /reuses/{id}` (and `.json`): a reuse, its datasets, its discussions.
pub async fn page(ctx: Ctx, Path(id): Path<String>) -> WebResult<Response> {
    let id = id_of(&id)?;
    let core = &ctx.state.core;
    let reuse = core.reuse(&ctx.principal, id).await?;
    let discussions = core
        .discussions(&ctx.principal, &SubjectRef::Reuse(id))
        .await?;
    let data = ReuseData { reuse, discussions };
    Ok(respond(&ctx, &data, || reuse_html(&ctx, &data)))
}

fn reuse_html(ctx: &Ctx, data: &ReuseData) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let r = &data.reuse;
    let base = format!("/reuses/{}", r.id);
    let input = ReuseInput {
        title: r.title.clone(),
        kind: r.kind.clone(),
        url: r.url.clone(),
        description: r.description.clone(),
        topic: r.topic.clone(),
        datasets: r.datasets.iter().map(|d| d.name.clone()).collect(),
    };
    layout(
        &c,
        &r.title,
        html! {
            p.muted { a href="/reuses" { (ctx.t("reuse.title")) } }
            h1 { (r.title) }
            @if r.hidden {
                p.notice {
                    (ctx.t("reuse.hidden_notice"))
                    @if let Some(why) = &r.hidden_reason { " " (ctx.t("reuse.reason")) " " (why) }
                }
            }
            p {
                span.badge { (type_label(ctx, &r.kind)) }
                @if !r.topic.is_empty() { " · " (r.topic) }
                " · " (r.owner) " · " (when(r.created))
            }
            p { (outside_link(&r.url, &r.url)) }
            (plain_text(&r.description))
            h2 { (ctx.t("reuse.datasets")) }
            ul {
                @for d in &r.datasets {
                    li { a href={ "/dataset/" (d.name) } { (d.title) } " · " (d.organization_title) }
                }
            }
            (discussion_section(ctx, &c, &data.discussions, &format!("{base}/discussions"), &base))
            @if r.can_edit {
                details {
                    summary { (ctx.t("reuse.edit")) }
                    form.stack method="post" action={ (base) "/edit" } {
                        (csrf_field(c.csrf))
                        (fields(ctx, &input))
                        button type="submit" { (ctx.t("reuse.save")) }
                    }
                    form method="post" action={ (base) "/delete" } {
                        (csrf_field(c.csrf))
                        button.danger type="submit" { (ctx.t("reuse.delete")) }
                    }
                }
            }
            @if r.can_moderate {
                details {
                    summary { (ctx.t("reuse.moderate")) }
                    form.stack method="post" action={ (base) "/moderate" } {
                        (csrf_field(c.csrf))
                        @if r.hidden {
                            input type="hidden" name="hidden" value="0";
                            button type="submit" { (ctx.t("reuse.unhide")) }
                        } @else {
                            input type="hidden" name="hidden" value="1";
                            label for="reason" { (ctx.t("reuse.reason")) }
                            input #reason name="reason" required maxlength="1000";
                            button type="submit" { (ctx.t("reuse.hide")) }
                        }
                    }
                }
            }
        },
    )
}

/// The discussions of a subject and the form to open one.
pub fn discussion_section(
    ctx: &Ctx,
    c: &Chrome<'_>,
    discussions: &[DiscussionView],
    open_action: &str,
    here: &str,
) -> Markup {
    let open = discussions.iter().filter(|d| d.closed.is_none()).count();
    html! {
        section.discussions {
            h2 #discussions { (ctx.tf("discussion.count", &[("n", &discussions.len().to_string()), ("open", &open.to_string())])) }
            @if discussions.is_empty() { p.muted { (ctx.t("discussion.none")) } }
            ul {
                @for d in discussions {
                    li {
                        a href={ "/discussions/" (d.id) } { (d.title) }
                        @if d.closed.is_some() { " · " span.badge { (ctx.t("discussion.closed")) } }
                        br;
                        small.muted {
                            (d.author) " · " (when(d.created)) " · "
                            (ctx.tf("discussion.messages", &[("n", &d.messages_count.to_string())]))
                        }
                    }
                }
            }
            @if c.user.is_some() {
                details {
                    summary { (ctx.t("discussion.open")) }
                    form.stack method="post" action=(open_action) {
                        (csrf_field(c.csrf))
                        label for="d-title" { (ctx.t("discussion.f.title")) }
                        input #d-title name="title" required maxlength=(baraza_core::discussions::MAX_TITLE);
                        label for="d-comment" { (ctx.t("discussion.f.comment")) }
                        textarea #d-comment name="comment" rows="5" required maxlength=(MAX_MESSAGE) {}
                        small.muted { (ctx.t("discussion.f.plain")) }
                        button type="submit" { (ctx.t("discussion.open")) }
                    }
                }
            } @else {
                p { a href={ "/login?next=" (url_encode(here)) } { (ctx.t("discussion.sign_in")) } }
            }
        }
    }
}

/// `POST /reuses/{id}/edit`: the registering form's fields → 303 to the reuse.
pub async fn save(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    ctx.state
        .core
        .update_reuse(&ctx.principal, id, &input_from(&f))
        .await?;
    Ok(see_other(&format!("/reuses/{id}")))
}

/// `POST /reuses/{id}/delete` → 303 to the list.
pub async fn delete(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    ctx.state
        .core
        .delete_reuse(&ctx.principal, id_of(&id)?)
        .await?;
    Ok(see_other("/reuses"))
}

/// `POST /reuses/{id}/moderate`: `hidden` = 1 (with a `reason`) or 0.
pub async fn moderate(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    ctx.state
        .core
        .moderate_reuse(
            &ctx.principal,
            id,
            first(&f, "hidden") != "0",
            first(&f, "reason"),
        )
        .await?;
    Ok(see_other(&format!("/reuses/{id}")))
}

async fn open(ctx: &Ctx, subject: SubjectRef, f: &[(String, String)]) -> WebResult<Response> {
    let id = ctx
        .state
        .core
        .open_discussion(
            &ctx.principal,
            &subject,
            first(f, "title"),
            first(f, "comment"),
        )
        .await?;
    Ok(see_other(&format!("/discussions/{id}")))
}

/// `POST /reuses/{id}/discussions`: `title`, `comment` → 303 to the discussion.
pub async fn open_on_reuse(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    open(&ctx, SubjectRef::Reuse(id_of(&id)?), &f).await
}

/// `POST /dataset/{name}/discussions`: `title`, `comment` → 303 to the discussion.
pub async fn open_on_dataset(
    SessionUser { ctx }: SessionUser,
    Path(name): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    open(&ctx, SubjectRef::Dataset(name), &f).await
}

/// `GET /discussions/{id}` (and `.json`): a discussion and its messages.
pub async fn discussion(ctx: Ctx, Path(id): Path<String>) -> WebResult<Response> {
    let d = ctx
        .state
        .core
        .discussion(&ctx.principal, id_of(&id)?)
        .await?;
    Ok(respond(&ctx, &d, || discussion_html(&ctx, &d)))
}

fn discussion_html(ctx: &Ctx, d: &DiscussionView) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let base = format!("/discussions/{}", d.id);
    layout(
        &c,
        &d.title,
        html! {
            p.muted {
                (ctx.t(&format!("discussion.about_{}", d.subject.kind))) " "
                a href={ (d.subject.url) "#discussions" } { (d.subject.title) }
            }
            h1 { (d.title) }
            @if let Some(at) = d.closed {
                p.notice { (ctx.tf("discussion.closed_by", &[("name", d.closed_by.as_deref().unwrap_or("")), ("when", &when(at))])) }
            }
            @for m in &d.messages {
                article.message id={ "m" (m.id) } {
                    p.muted { strong { (m.author) } " · " (when(m.created)) }
                    @if m.hidden {
                        p.notice {
                            (ctx.t("discussion.hidden_message"))
                            @if let Some(why) = &m.hidden_reason { " " (ctx.t("reuse.reason")) " " (why) }
                        }
                    }
                    @if !m.body.is_empty() { (plain_text(&m.body)) }
                    @if let Some(n) = m.reports.filter(|n| *n > 0) {
                        p.muted { (ctx.tf("discussion.reports", &[("n", &n.to_string())])) }
                    }
                    @if c.user.is_some() && !m.hidden {
                        details {
                            summary { (ctx.t("discussion.report")) }
                            form.stack method="post" action={ (base) "/messages/" (m.id) "/report" } {
                                (csrf_field(c.csrf))
                                label for={ "why-" (m.id) } { (ctx.t("discussion.report_reason")) }
                                input id={ "why-" (m.id) } name="reason" maxlength="1000";
                                button type="submit" { (ctx.t("discussion.report")) }
                            }
                        }
                    }
                    @if d.can_moderate {
                        form.inline method="post" action={ (base) "/messages/" (m.id) "/hide" } {
                            (csrf_field(c.csrf))
                            @if m.hidden {
                                input type="hidden" name="hidden" value="0";
                                button type="submit" { (ctx.t("discussion.unhide")) }
                            } @else {
                                input type="hidden" name="hidden" value="1";
                                label for={ "hide-" (m.id) } { (ctx.t("reuse.reason")) }
                                input id={ "hide-" (m.id) } name="reason" required maxlength="1000";
                                button type="submit" { (ctx.t("discussion.hide")) }
                            }
                        }
                    }
                }
            }
            @if d.can_reply {
                form.stack method="post" action={ (base) "/reply" } {
                    (csrf_field(c.csrf))
                    label for="comment" { (ctx.t("discussion.reply")) }
                    textarea #comment name="comment" rows="5" required maxlength=(MAX_MESSAGE) {}
                    small.muted { (ctx.t("discussion.f.plain")) }
                    button type="submit" { (ctx.t("discussion.send")) }
                }
            } @else if d.closed.is_none() {
                p { a href={ "/login?next=" (url_encode(&base)) } { (ctx.t("discussion.sign_in")) } }
            }
            @if d.can_close {
                details {
                    summary { (ctx.t("discussion.close")) }
                    form.stack method="post" action={ (base) "/close" } {
                        (csrf_field(c.csrf))
                        label for="closing" { (ctx.t("discussion.closing")) }
                        textarea #closing name="comment" rows="3" maxlength=(MAX_MESSAGE) {}
                        button type="submit" { (ctx.t("discussion.close")) }
                    }
                }
            }
        },
    )
}

/// `POST /discussions/{id}/reply`: `comment` → 303 to the new message.
pub async fn reply(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let m = ctx
        .state
        .core
        .reply_discussion(&ctx.principal, id, first(&f, "comment"))
        .await?;
    Ok(see_other(&format!("/discussions/{id}#m{m}")))
}

/// `POST /discussions/{id}/close`: `comment` (optional closing message).
pub async fn close(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    ctx.state
        .core
        .close_discussion(&ctx.principal, id, first(&f, "comment"))
        .await?;
    Ok(see_other(&format!("/discussions/{id}")))
}

/// `POST /discussions/{id}/messages/{message}/report`: `reason` (optional).
pub async fn report(
    SessionUser { ctx }: SessionUser,
    Path((id, message)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (id, message) = (id_of(&id)?, id_of(&message)?);
    ctx.state
        .core
        .report_message(&ctx.principal, id, message, first(&f, "reason"))
        .await?;
    Ok(see_other(&format!(
        "/discussions/{id}?reported=1#m{message}"
    )))
}

/// `POST /discussions/{id}/messages/{message}/hide`: `hidden` = 1 (with a `reason`) or 0.
pub async fn hide(
    SessionUser { ctx }: SessionUser,
    Path((id, message)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (id, message) = (id_of(&id)?, id_of(&message)?);
    ctx.state
        .core
        .moderate_message(
            &ctx.principal,
            id,
            message,
            first(&f, "hidden") != "0",
            first(&f, "reason"),
        )
        .await?;
    Ok(see_other(&format!("/discussions/{id}#m{message}")))
}
