//! The open-data census's pages: the list, a census's public table (with `.json` and `.csv`
//! twins), a cell's entry and history, the submission form, the review queue, and creating a
//! census for an organisation.
//!
//! Who may do what is decided by `baraza_core::census`.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, OrgOwner, SessionUser};
use crate::error::WebResult;
use crate::pages::{csrf_field, decimal, layout, when, Chrome};
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_catalogue::census::Answer;
use baraza_core::census::{CensusInput, EntryInput, ScoredEntry};
use baraza_store::{CensusCategory, CensusPlace, CensusRow};
use maud::{html, Markup};
use serde::Serialize;

fn first<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn base(c: &CensusRow) -> String {
    format!("/census/{}", c.slug)
}

fn score_text(ctx: &Ctx, s: Option<f64>) -> String {
    match s {
        Some(v) => decimal(ctx.lang(), v, 0),
        None => "—".into(),
    }
}

fn answer_key(a: Option<&Answer>) -> &'static str {
    match a {
        Some(Answer::Yes) => "census.yes",
        Some(Answer::No) => "census.no",
        Some(Answer::Unsure) => "census.unsure",
        None => "census.unanswered",
    }
}

#[derive(Serialize)]
struct ListData {
    censuses: Vec<CensusRow>,
}

/// `GET /census`.
pub async fn list(ctx: Ctx) -> WebResult<Response> {
    let data = ListData {
        censuses: ctx.state.core.censuses().await?,
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        layout(
            &c,
            ctx.t("census.title"),
            html! {
                h1 { (ctx.t("census.title")) }
                p { (ctx.t("census.intro")) }
                @if data.censuses.is_empty() { p.muted { (ctx.t("census.none")) } }
                ul {
                    @for k in &data.censuses {
                        li {
                            a href=(base(k)) { (k.title) } " · "
                            a href={ "/orgs/" (k.org_slug) } { (k.org_name) }
                            @if !k.scope.is_empty() { " · " (k.scope) }
                        }
                    }
                }
            },
        )
    }))
}

/// `GET /census/{census}` (and `.json`, `.csv`): places × categories.
pub async fn table(ctx: Ctx, Path(slug): Path<String>) -> WebResult<Response> {
    let data = ctx.state.core.census_table(&ctx.principal, &slug).await?;
    let k = &data.census;
    let t = &data.table;
    if matches!(ctx.format(), Format::Csv) {
        let mut out = baraza_publish::csv::line(&["place", "place_name", "category", "score"]);
        for p in &k.places {
            for cat in &k.categories {
                let s = t.cells.get(&p.code).and_then(|r| r.get(&cat.code));
                out.push_str(&baraza_publish::csv::line(&[
                    p.code.clone(),
                    p.name.clone(),
                    cat.code.clone(),
                    s.map(|v| format!("{v:.1}")).unwrap_or_default(),
                ]));
            }
        }
        let mut res = out.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", k.slug)) {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let lc = ctx.lang().code();
        let b = base(k);
        layout(
            &c,
            &k.title,
            html! {
                p.muted { a href="/census" { (ctx.t("census.title")) } " › " a href={ "/orgs/" (k.org_slug) } { (k.org_name) } }
                h1 { (k.title) }
                @if !k.description.is_empty() { p { (k.description) } }
                p {
                    a href={ (b) "/submit" } { (ctx.t("census.submit")) }
                    " · " a href={ (b) ".csv" } { "CSV" }
                    " · " a href={ (b) ".json" } { "JSON" }
                    @if let Some(n) = data.pending {
                        " · " a href={ (b) "/review" } { (ctx.tf("census.pending", &[("n", &n.to_string())])) }
                    }
                }
                p.muted { (ctx.t("census.score_help")) }
                table {
                    thead { tr {
                        th { (ctx.t("census.place")) }
                        @for cat in &k.categories { th { (cat.title(lc)) } }
                        th { (ctx.t("census.mean")) }
                    } }
                    tbody {
                        @for p in &k.places {
                            tr {
                                th { (p.name) " " small.muted { (p.code) } }
                                @for cat in &k.categories {
                                    @let s = t.cells.get(&p.code).and_then(|r| r.get(&cat.code)).copied();
                                    td { a href={ (b) "/" (p.code) "/" (cat.code) } { (score_text(&ctx, s)) } }
                                }
                                td { strong { (score_text(&ctx, t.places.get(&p.code).copied())) } }
                            }
                        }
                        tr {
                            th { (ctx.t("census.mean")) }
                            @for cat in &k.categories { td { (score_text(&ctx, t.categories.get(&cat.code).copied())) } }
                            td { strong { (score_text(&ctx, t.overall)) } }
                        }
                    }
                }
                h2 { (ctx.t("census.questions")) }
                table {
                    thead { tr { th { (ctx.t("census.question")) } th { (ctx.t("census.weight")) } } }
                    tbody { @for q in &k.questions { tr { td { (q.text(lc)) } td { (q.weight) } } } }
                }
            },
        )
    }))
}

fn answers_table(ctx: &Ctx, k: &CensusRow, e: &ScoredEntry) -> Markup {
    let lc = ctx.lang().code();
    html! {
        table {
            thead { tr { th { (ctx.t("census.question")) } th { (ctx.t("census.weight")) } th { (ctx.t("census.answer")) } } }
            tbody {
                @for q in &k.questions {
                    tr { td { (q.text(lc)) } td { (q.weight) } td { (ctx.t(answer_key(e.entry.answers.get(&q.key)))) } }
                }
            }
        }
        p { (ctx.t("census.score")) " : " strong { (score_text(ctx, Some(e.score))) } " / 100" }
        @if !e.entry.sources.is_empty() {
            p { (ctx.t("census.sources")) }
            ul { @for s in &e.entry.sources { li { a href=(s) rel="nofollow noopener" { (s) } } } }
        }
        @if !e.entry.comments.is_empty() { p { (e.entry.comments) } }
    }
}

fn entry_meta(ctx: &Ctx, e: &ScoredEntry) -> Markup {
    html! {
        (ctx.t(&format!("census.state.{}", e.entry.state))) " · " (when(e.entry.submitted_at))
        @if !e.entry.submitted_by_name.is_empty() { " · " (e.entry.submitted_by_name) }
        " · " (score_text(ctx, Some(e.score)))
        @if !e.entry.review_note.is_empty() { " · " em { (e.entry.review_note) } }
    }
}

/// `GET /census/{census}/{place}/{category}`: the cell's published entry and history.
pub async fn cell(
    ctx: Ctx,
    Path((slug, place, category)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let data = ctx
        .state
        .core
        .census_cell(&ctx.principal, &slug, &place, &category)
        .await?;
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let k = &data.census;
        let title = format!(
            "{} — {}",
            data.place.name,
            data.category.title(ctx.lang().code())
        );
        layout(
            &c,
            &title,
            html! {
                p.muted { a href=(base(k)) { (k.title) } }
                h1 { (title) }
                @if !data.category.description.is_empty() { p.muted { (data.category.description) } }
                @match &data.published {
                    Some(e) => {
                        p.muted { (entry_meta(&ctx, e)) }
                        (answers_table(&ctx, k, e))
                    }
                    None => { p { (ctx.t("census.not_assessed")) } }
                }
                p { a href={ (base(k)) "/submit?place=" (data.place.code) "&category=" (data.category.code) } { (ctx.t("census.submit")) } }
                @if !data.history.is_empty() {
                    h2 { (ctx.t("census.history")) }
                    ul { @for e in &data.history { li { (entry_meta(&ctx, e)) } } }
                }
            },
        )
    }))
}

#[derive(Serialize)]
struct SubmitData {
    census: CensusRow,
}

fn submit_html(ctx: &Ctx, k: &CensusRow, place: &str, category: &str) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lc = ctx.lang().code();
    layout(
        &c,
        ctx.t("census.submit"),
        html! {
            p.muted { a href=(base(k)) { (k.title) } }
            h1 { (ctx.t("census.submit")) }
            p { (ctx.t("census.submit_help")) }
            form.stack method="post" action={ (base(k)) "/submit" } {
                (csrf_field(c.csrf))
                label for="place" { (ctx.t("census.place")) }
                select #place name="place" required {
                    @for p in &k.places { option value=(p.code) selected[p.code == place] { (p.name) } }
                }
                label for="category" { (ctx.t("census.category")) }
                select #category name="category" required {
                    @for cat in &k.categories { option value=(cat.code) selected[cat.code == category] { (cat.title(lc)) } }
                }
                @for q in &k.questions {
                    fieldset {
                        legend { (q.text(lc)) " (" (q.weight) ")" }
                        @for a in ["yes", "no", "unsure"] {
                            label {
                                input type="radio" name={ "q." (q.key) } value=(a) required checked[a == "unsure"];
                                " " (ctx.t(&format!("census.{a}")))
                            }
                        }
                    }
                }
                label for="sources" { (ctx.t("census.sources")) }
                textarea #sources name="sources" rows="3" {}
                small.muted { (ctx.t("census.sources_help")) }
                label for="comments" { (ctx.t("census.comments")) }
                textarea #comments name="comments" rows="4" {}
                button type="submit" { (ctx.t("census.send")) }
            }
        },
    )
}

/// `GET /census/{census}/submit`: the form (`place` and `category` may be preselected).
pub async fn submit_page(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> WebResult<Response> {
    let census = ctx.state.core.census(&slug).await?;
    let pairs: Vec<(String, String)> = raw
        .and_then(|r| serde_urlencoded::from_str(&r).ok())
        .unwrap_or_default();
    let data = SubmitData { census };
    Ok(respond(&ctx, &data, || {
        submit_html(
            &ctx,
            &data.census,
            first(&pairs, "place"),
            first(&pairs, "category"),
        )
    }))
}

/// `POST /census/{census}/submit`: `place`, `category`, `q.KEY` = yes | no | unsure for
/// every question, `sources` (URLs), `comments` → 303 to the cell.
pub async fn submit(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let input = EntryInput {
        place: first(&f, "place").to_owned(),
        category: first(&f, "category").to_owned(),
        answers: f
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("q.")?.to_owned(), v.clone())))
            .collect(),
        sources: first(&f, "sources").to_owned(),
        comments: first(&f, "comments").to_owned(),
    };
    ctx.state
        .core
        .submit_census_entry(&ctx.principal, &slug, &input)
        .await?;
    Ok(see_other(&format!(
        "/census/{slug}/{}/{}?submitted=1",
        input.place, input.category
    )))
}

#[derive(Serialize)]
struct QueueData {
    census: CensusRow,
    entries: Vec<ScoredEntry>,
}

/// `GET /census/{census}/review`: entries awaiting review (reviewers only).
pub async fn queue(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
) -> WebResult<Response> {
    let (census, entries) = ctx.state.core.census_queue(&ctx.principal, &slug).await?;
    let data = QueueData { census, entries };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let k = &data.census;
        let lc = ctx.lang().code();
        let place = |code: &str| {
            k.places
                .iter()
                .find(|p| p.code == code)
                .map(|p| p.name.clone())
                .unwrap_or_default()
        };
        let category = |code: &str| {
            k.categories
                .iter()
                .find(|x| x.code == code)
                .map(|x| x.title(lc).to_owned())
                .unwrap_or_default()
        };
        layout(
            &c,
            ctx.t("census.review"),
            html! {
                p.muted { a href=(base(k)) { (k.title) } }
                h1 { (ctx.t("census.review")) }
                @if data.entries.is_empty() { p { (ctx.t("census.queue_empty")) } }
                @for e in &data.entries {
                    section {
                        h2 { (place(&e.entry.place)) " — " (category(&e.entry.category)) }
                        p.muted { (entry_meta(&ctx, e)) }
                        (answers_table(&ctx, k, e))
                        form.stack method="post" action={ (base(k)) "/entries/" (e.entry.id) "/review" } {
                            (csrf_field(c.csrf))
                            label for={ "note-" (e.entry.id) } { (ctx.t("census.note")) }
                            textarea id={ "note-" (e.entry.id) } name="note" rows="2" {}
                            button type="submit" name="decision" value="publish" { (ctx.t("census.publish")) }
                            button type="submit" name="decision" value="reject" { (ctx.t("census.reject")) }
                        }
                    }
                }
            },
        )
    }))
}

/// `POST /census/{census}/entries/{id}/review`: `decision` = publish | reject, `note`.
pub async fn review(
    SessionUser { ctx }: SessionUser,
    Path((slug, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let publish = match first(&f, "decision") {
        "publish" => true,
        "reject" => false,
        _ => {
            return Err(baraza_core::CoreError::Invalid {
                field: "decision",
                reason: "census_decision",
            }
            .into())
        }
    };
    let id: i64 = id
        .parse()
        .map_err(|_| crate::error::WebError::not_found())?;
    ctx.state
        .core
        .review_census_entry(&ctx.principal, &slug, id, publish, first(&f, "note"))
        .await?;
    Ok(see_other(&format!("/census/{slug}/review")))
}

/// Lines `CODE | Name` (places) or `code | English title | French title | description`
/// (categories); blank lines skipped.
fn lines(raw: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(|p| p.trim().to_owned()).collect())
}

/// `POST /orgs/{org}/census`: `title`, `slug`, `description`, `scope`, `places` (lines
/// `CODE | Name`), `categories` (lines `code | title in English | title in French |
/// description`), with the Open Data Index's questions.
pub async fn create(
    OrgOwner { ctx, org }: OrgOwner,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let input = CensusInput {
        title: first(&f, "title").to_owned(),
        slug: first(&f, "slug").to_owned(),
        description: first(&f, "description").to_owned(),
        scope: first(&f, "scope").to_owned(),
        places: lines(first(&f, "places"))
            .map(|p| CensusPlace {
                name: p.get(1).cloned().unwrap_or_else(|| p[0].clone()),
                code: p[0].clone(),
            })
            .collect(),
        categories: lines(first(&f, "categories"))
            .map(|p| CensusCategory {
                code: p[0].clone(),
                title_en: p.get(1).cloned().unwrap_or_else(|| p[0].clone()),
                title_fr: p.get(2).cloned().unwrap_or_default(),
                description: p.get(3).cloned().unwrap_or_default(),
            })
            .collect(),
        questions: None,
    };
    let census = ctx
        .state
        .core
        .create_census(&ctx.principal, &org.slug, &input)
        .await?;
    Ok(see_other(&base(&census)))
}
