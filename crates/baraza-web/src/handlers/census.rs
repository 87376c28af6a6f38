//! The open-data census's pages: the list, a census's public table (with `.json` and `.csv`
//! twins), a cell's entry and history, the submission form, the review queue, and the
//! organisers' screens: creating a census, its settings, closing and reopening it.
//!
//! Who may do what is decided by `baraza_core::census`.

use super::{form_again, respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, OrgOwner, SessionUser};
use crate::error::{WebError, WebResult};
use crate::pages::{csrf_field, decimal, layout, when, Chrome};
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_catalogue::census::{self, Answer, Question};
use baraza_core::census::{CensusInput, EntryInput, ScoredEntry, MAX_WEIGHT};
use baraza_store::{CensusCategory, CensusPlace, CensusRow};
use baraza_types::ErrorCode;
use maud::{html, Markup};
use serde::Serialize;
use std::collections::BTreeMap;

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
                            " · " span class={ "state-" (k.state) } { (state_text(&ctx, k)) }
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
                p.muted { (ctx.t("census.status")) " : " strong class={ "state-" (k.state) } { (state_text(&ctx, k)) } }
                @if !k.description.is_empty() { p { (k.description) } }
                @if k.state != "open" { p.notice { (ctx.t("census.closed_notice")) } }
                p {
                    @if k.state == "open" {
                        a href={ (b) "/submit" } { (ctx.t("census.submit")) } " · "
                    }
                    a href={ (b) ".csv" } { "CSV" }
                    " · " a href={ (b) ".json" } { "JSON" }
                    @if let Some(n) = data.pending {
                        " · " a href={ (b) "/review" } { (ctx.t("census.review")) " (" (ctx.tf("census.pending", &[("n", &n.to_string())])) ")" }
                        " · " a href={ (b) "/edit" } { (ctx.t("census.settings")) }
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
                @if k.state == "open" {
                    p { a href={ (base(k)) "/submit?place=" (data.place.code) "&category=" (data.category.code) } { (ctx.t("census.submit")) } }
                } @else {
                    p.muted { (ctx.t("census.closed_notice")) }
                }
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
            @if k.state != "open" {
                p.notice role="status" { (ctx.t("census.closed_notice")) }
            } @else {
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

// --- Organisers' screens: creating a census, its settings, closing and reopening it. ---

/// One row of the question set as typed in a form.
#[derive(Debug, Clone, Default, Serialize)]
struct QuestionRow {
    key: String,
    text_en: String,
    text_fr: String,
    weight: String,
}

/// A census form's values as typed, shown again with an error.
#[derive(Debug, Clone, Default, Serialize)]
struct CensusForm {
    title: String,
    slug: String,
    description: String,
    scope: String,
    /// Lines `CODE | Name`.
    places: String,
    /// Lines `code | English title | French title | description`.
    categories: String,
    questions: Vec<QuestionRow>,
}

fn question_rows(questions: &[Question]) -> Vec<QuestionRow> {
    questions
        .iter()
        .map(|q| QuestionRow {
            key: q.key.clone(),
            text_en: q.text_en.clone(),
            text_fr: q.text_fr.clone(),
            weight: q.weight.to_string(),
        })
        .collect()
}

impl CensusForm {
    fn of(c: &CensusRow) -> CensusForm {
        CensusForm {
            title: c.title.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            scope: c.scope.clone(),
            places: c
                .places
                .iter()
                .map(|p| format!("{} | {}\n", p.code, p.name))
                .collect(),
            categories: c
                .categories
                .iter()
                .map(|k| {
                    let mut line = format!("{} | {} | {}", k.code, k.title_en, k.title_fr);
                    if !k.description.is_empty() {
                        line.push_str(" | ");
                        line.push_str(&k.description);
                    }
                    line.push('\n');
                    line
                })
                .collect(),
            questions: question_rows(&c.questions),
        }
    }
}

/// An error shown next to a field of a census form.
struct FieldError {
    /// `title`, `slug`, `description`, `scope`, `places`, `categories`, `questions`, or
    /// empty (shown above the form).
    field: String,
    /// Where in the field (a question's key), if anywhere.
    at: String,
    err: WebError,
}

fn field_of(err: &WebError) -> String {
    if matches!(err.0.code, ErrorCode::SlugTaken | ErrorCode::InvalidSlug) {
        return "slug".into();
    }
    let field = err
        .0
        .args
        .iter()
        .find(|(k, _)| *k == "field")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    match field {
        "place" => "places".into(),
        "category" => "categories".into(),
        f => f.into(),
    }
}

/// The message of an error, as the error page would give it.
pub(crate) fn message_of(ctx: &Ctx, err: &WebError) -> String {
    let args: Vec<(&str, &str)> = err.0.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut msg = ctx.tf(&format!("error.{}", err.0.code.as_str()), &args);
    if let Some(d) = &err.0.detail_key {
        msg = format!("{msg} ({})", ctx.tf(d, &args));
    }
    msg
}

fn question_problem(row: usize, key: &str, reason: &'static str) -> FieldError {
    let mut err = WebError::code(ErrorCode::ValidationFailed);
    err.0.args.push(("field", "questions".into()));
    err.0.args.push(("key", key.to_owned()));
    err.0.args.push(("row", (row + 1).to_string()));
    err.0.detail_key = Some(format!("invalid.{reason}"));
    FieldError {
        field: "questions".into(),
        at: key.to_owned(),
        err,
    }
}

/// Reads a census form: the values as typed, and the census they describe (or the first
/// problem of the question set). Without any `question.N.*` field the questions are `None`.
fn read_form(f: &[(String, String)]) -> (CensusForm, Result<CensusInput, FieldError>) {
    let mut rows: BTreeMap<usize, (QuestionRow, bool)> = BTreeMap::new();
    for (k, v) in f {
        let Some(rest) = k.strip_prefix("question.") else {
            continue;
        };
        let Some((i, part)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        if i > 1000 {
            continue;
        }
        let row = rows.entry(i).or_default();
        let v = v.trim().to_owned();
        match part {
            "key" => row.0.key = v,
            "text_en" => row.0.text_en = v,
            "text_fr" => row.0.text_fr = v,
            "weight" => row.0.weight = v,
            "remove" => row.1 = true,
            _ => {}
        }
    }
    let form = CensusForm {
        title: first(f, "title").to_owned(),
        slug: first(f, "slug").to_owned(),
        description: first(f, "description").to_owned(),
        scope: first(f, "scope").to_owned(),
        places: first(f, "places").to_owned(),
        categories: first(f, "categories").to_owned(),
        questions: rows
            .values()
            .filter(|(r, removed)| {
                let blank = [&r.key, &r.text_en, &r.text_fr, &r.weight]
                    .iter()
                    .all(|v| v.is_empty());
                !(*removed || blank)
            })
            .map(|(r, _)| r.clone())
            .collect(),
    };
    let questions = if rows.is_empty() {
        None
    } else {
        let mut out = Vec::new();
        for (i, r) in form.questions.iter().enumerate() {
            if !census::valid_key(&r.key) || r.text_en.is_empty() {
                return (
                    form.clone(),
                    Err(question_problem(i, &r.key, "census_question_row")),
                );
            }
            let weight = match r.weight.parse::<u32>() {
                Ok(w) if (1..=MAX_WEIGHT).contains(&w) => w,
                _ => {
                    return (
                        form.clone(),
                        Err(question_problem(i, &r.key, "census_weight")),
                    )
                }
            };
            out.push(Question {
                key: r.key.clone(),
                text_en: r.text_en.clone(),
                text_fr: r.text_fr.clone(),
                weight,
            });
        }
        if let Err(p) = census::check_questions(&out) {
            let i = out.iter().position(|q| q.key == p.key).unwrap_or(0);
            return (form.clone(), Err(question_problem(i, &p.key, p.reason)));
        }
        Some(out)
    };
    let input = CensusInput {
        title: form.title.clone(),
        slug: form.slug.clone(),
        description: form.description.clone(),
        scope: form.scope.clone(),
        places: lines(&form.places)
            .map(|p| {
                if p.len() == 1 {
                    // `CODE Name` without a bar: the first word is the code.
                    let (code, name) = p[0]
                        .split_once(char::is_whitespace)
                        .unwrap_or((p[0].as_str(), ""));
                    let name = name.trim();
                    CensusPlace {
                        code: code.to_owned(),
                        name: if name.is_empty() { code } else { name }.to_owned(),
                    }
                } else {
                    CensusPlace {
                        code: p[0].clone(),
                        name: p[1].clone(),
                    }
                }
            })
            .collect(),
        categories: lines(&form.categories)
            .map(|p| CensusCategory {
                code: p[0].clone(),
                title_en: p.get(1).cloned().unwrap_or_else(|| p[0].clone()),
                title_fr: p.get(2).cloned().unwrap_or_default(),
                description: p.get(3).cloned().unwrap_or_default(),
            })
            .collect(),
        questions,
    };
    (form, Ok(input))
}

fn error_here(ctx: &Ctx, error: Option<&FieldError>, field: &str) -> Markup {
    html! {
        @if let Some(e) = error.filter(|e| e.field == field) {
            p.error role="alert" { (message_of(ctx, &e.err)) }
        }
    }
}

/// The fields of a census form (the same for creating and for the settings).
fn census_fields(
    ctx: &Ctx,
    form: &CensusForm,
    error: Option<&FieldError>,
    with_slug: bool,
    fixed_keys: &[String],
) -> Markup {
    let known = [
        "title",
        "slug",
        "description",
        "scope",
        "places",
        "categories",
        "questions",
    ];
    let top = error.filter(|e| !known.contains(&e.field.as_str()));
    let blank = form.questions.len();
    html! {
        @if let Some(e) = top { p.error role="alert" { (message_of(ctx, &e.err)) } }
        label for="title" { (ctx.t("census.field_title")) }
        input #title name="title" required maxlength="300" value=(form.title);
        (error_here(ctx, error, "title"))
        @if with_slug {
            label for="slug" { (ctx.t("field.slug")) }
            input #slug name="slug" maxlength="63" value=(form.slug);
            small.muted { (ctx.t("field.slug_hint")) }
            (error_here(ctx, error, "slug"))
        }
        label for="description" { (ctx.t("field.description")) }
        textarea #description name="description" rows="3" maxlength="5000" { (form.description) }
        (error_here(ctx, error, "description"))
        label for="scope" { (ctx.t("census.scope")) }
        input #scope name="scope" maxlength="300" value=(form.scope);
        small.muted { (ctx.t("census.scope_hint")) }
        (error_here(ctx, error, "scope"))
        label for="places" { (ctx.t("census.places")) }
        textarea #places name="places" rows="8" required { (form.places) }
        small.muted { (ctx.t("census.places_hint")) }
        (error_here(ctx, error, "places"))
        label for="categories" { (ctx.t("census.categories")) }
        textarea #categories name="categories" rows="8" required { (form.categories) }
        small.muted { (ctx.t("census.categories_hint")) }
        (error_here(ctx, error, "categories"))
        fieldset #questions {
            legend { (ctx.t("census.question_set")) }
            p.muted { (ctx.t("census.question_set_hint")) }
            (error_here(ctx, error, "questions"))
            table {
                thead { tr {
                    th { (ctx.t("census.key")) } th { (ctx.t("census.text_en")) }
                    th { (ctx.t("census.text_fr")) } th { (ctx.t("census.weight")) }
                    th { (ctx.t("census.remove")) }
                } }
                tbody {
                    @for (i, q) in form.questions.iter().enumerate() {
                        @let wrong = error.is_some_and(|e| e.field == "questions" && e.at == q.key);
                        tr.error[wrong] {
                            td { input name={ "question." (i) ".key" } value=(q.key) size="14" maxlength="64"
                                    readonly[fixed_keys.contains(&q.key)] aria-label=(ctx.t("census.key")); }
                            td { input name={ "question." (i) ".text_en" } value=(q.text_en) aria-label=(ctx.t("census.text_en")); }
                            td { input name={ "question." (i) ".text_fr" } value=(q.text_fr) aria-label=(ctx.t("census.text_fr")); }
                            td { input name={ "question." (i) ".weight" } value=(q.weight) size="5" inputmode="numeric"
                                    aria-label=(ctx.t("census.weight")) aria-invalid=[wrong.then_some("true")]; }
                            td { input type="checkbox" name={ "question." (i) ".remove" } value="1" aria-label=(ctx.t("census.remove")); }
                        }
                    }
                    tr {
                        td { input name={ "question." (blank) ".key" } size="14" maxlength="64" placeholder=(ctx.t("census.key")) aria-label=(ctx.t("census.new_question")); }
                        td { input name={ "question." (blank) ".text_en" } placeholder=(ctx.t("census.new_question")) aria-label=(ctx.t("census.text_en")); }
                        td { input name={ "question." (blank) ".text_fr" } aria-label=(ctx.t("census.text_fr")); }
                        td { input name={ "question." (blank) ".weight" } size="5" inputmode="numeric" aria-label=(ctx.t("census.weight")); }
                        td {}
                    }
                }
            }
        }
    }
}

#[derive(Serialize)]
struct NewCensusData {
    organisation: String,
    /// The form's starting values: the Open Data Index's questions with their weights.
    form: CensusForm,
}

fn new_census_html(
    ctx: &Ctx,
    org: &baraza_store::Org,
    form: &CensusForm,
    error: Option<&FieldError>,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        ctx.t("census.create"),
        html! {
            p.muted { a href={ "/orgs/" (org.slug) } { (org.name) } " › " a href="/census" { (ctx.t("census.title")) } }
            h1 { (ctx.t("census.create")) }
            p { (ctx.t("census.create_help")) }
            form.stack method="post" action={ "/orgs/" (org.slug) "/census" } {
                (csrf_field(c.csrf))
                (census_fields(ctx, form, error, true, &[]))
                button type="submit" { (ctx.t("census.create")) }
            }
        },
    )
}

/// `GET /orgs/{org}/census/new`: the form to create a census (owners of the organisation).
pub async fn new_page(OrgOwner { ctx, org }: OrgOwner) -> WebResult<Response> {
    let data = NewCensusData {
        organisation: org.slug.clone(),
        form: CensusForm {
            questions: question_rows(&census::godi_questions()),
            ..CensusForm::default()
        },
    };
    Ok(respond(&ctx, &data, || {
        new_census_html(&ctx, &org, &data.form, None)
    }))
}

/// A form shown again with its error (browsers), or the error (JSON clients, failures of ours).
fn again(
    ctx: &Ctx,
    e: FieldError,
    page: impl FnOnce(&FieldError) -> Markup,
) -> WebResult<Response> {
    if ctx.format() != Format::Html || e.err.0.code.kind() == baraza_types::ErrorKind::Internal {
        return Err(e.err);
    }
    let status = StatusCode::from_u16(e.err.0.code.http_status())
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    Ok(form_again(status, page(&e)))
}

fn core_error(e: baraza_core::CoreError) -> FieldError {
    let err = WebError::from(e);
    FieldError {
        field: field_of(&err),
        at: String::new(),
        err,
    }
}

/// `POST /orgs/{org}/census`: `title`, `slug`, `description`, `scope`, `places` (lines
/// `CODE | Name`, or `CODE Name`), `categories` (lines `code | title in English | title in
/// French | description`), and the questions as rows `question.N.key`, `.text_en`,
/// `.text_fr`, `.weight` and `.remove` (without any, the Open Data Index's). A browser gets
/// the form again with the error next to its field.
pub async fn create(
    OrgOwner { ctx, org }: OrgOwner,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (form, input) = read_form(&f);
    let result = match input {
        Ok(input) => ctx
            .state
            .core
            .create_census(&ctx.principal, &org.slug, &input)
            .await
            .map_err(core_error),
        Err(e) => Err(e),
    };
    match result {
        Ok(census) => Ok(see_other(&base(&census))),
        Err(e) => {
            // The form shows the default questions again when none were sent.
            let mut form = form;
            if !f.iter().any(|(k, _)| k.starts_with("question.")) {
                form.questions = question_rows(&census::godi_questions());
            }
            again(&ctx, e, |e| new_census_html(&ctx, &org, &form, Some(e)))
        }
    }
}

#[derive(Serialize)]
struct EditData {
    census: CensusRow,
}

fn edit_html(
    ctx: &Ctx,
    k: &CensusRow,
    form: &CensusForm,
    error: Option<&FieldError>,
    saved: bool,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let b = base(k);
    let fixed: Vec<String> = k.questions.iter().map(|q| q.key.clone()).collect();
    let open = k.state == "open";
    layout(
        &c,
        ctx.t("census.settings"),
        html! {
            p.muted { a href=(b) { (k.title) } " · " a href={ (b) "/review" } { (ctx.t("census.review")) } }
            h1 { (ctx.t("census.settings")) }
            @if saved { p.notice role="status" { (ctx.t("census.saved")) } }
            p { (ctx.t("census.status")) " : " strong { (state_text(ctx, k)) } }
            form.stack method="post" action={ (b) "/state" } {
                (csrf_field(c.csrf))
                @if open {
                    p.muted { (ctx.t("census.close_help")) }
                    button type="submit" name="state" value="closed" { (ctx.t("census.close")) }
                } @else {
                    p.muted { (ctx.t("census.closed_notice")) }
                    button type="submit" name="state" value="open" { (ctx.t("census.reopen")) }
                }
            }
            p { (ctx.t("census.settings_help")) }
            form.stack method="post" action={ (b) "/edit" } {
                (csrf_field(c.csrf))
                (census_fields(ctx, form, error, false, &fixed))
                button type="submit" { (ctx.t("census.save")) }
            }
        },
    )
}

/// `GET /census/{census}/edit`: the settings (owners of the organisation, managers of its
/// projects, site administrators). Its `.json` twin gives the census as stored.
pub async fn edit_page(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> WebResult<Response> {
    let census = ctx
        .state
        .core
        .census_for_edit(&ctx.principal, &slug)
        .await?;
    let saved = raw.is_some_and(|r| r.split('&').any(|p| p == "saved=1"));
    let data = EditData { census };
    Ok(respond(&ctx, &data, || {
        edit_html(
            &ctx,
            &data.census,
            &CensusForm::of(&data.census),
            None,
            saved,
        )
    }))
}

/// `POST /census/{census}/edit`: the same fields as creating one (the slug stays); without
/// any `question.N.*` field the questions stay as they are. A place or category that has
/// entries published or awaiting review cannot be removed (`census_in_use`).
pub async fn save(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let census = ctx
        .state
        .core
        .census_for_edit(&ctx.principal, &slug)
        .await?;
    let (mut form, input) = read_form(&f);
    let result = match input {
        Ok(input) => ctx
            .state
            .core
            .update_census(&ctx.principal, &slug, &input)
            .await
            .map_err(core_error),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("{}/edit?saved=1", base(&census)))),
        Err(e) => {
            if !f.iter().any(|(k, _)| k.starts_with("question.")) {
                form.questions = question_rows(&census.questions);
            }
            again(&ctx, e, |e| edit_html(&ctx, &census, &form, Some(e), false))
        }
    }
}

/// `POST /census/{census}/state`: `state` = open | closed.
pub async fn set_state(
    SessionUser { ctx }: SessionUser,
    Path(slug): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let open = match first(&f, "state") {
        "open" => true,
        "closed" => false,
        _ => {
            return Err(baraza_core::CoreError::Invalid {
                field: "state",
                reason: "census_state",
            }
            .into())
        }
    };
    let census = ctx
        .state
        .core
        .set_census_open(&ctx.principal, &slug, open)
        .await?;
    Ok(see_other(&format!("{}/edit", base(&census))))
}

fn state_text<'a>(ctx: &'a Ctx, k: &CensusRow) -> &'a str {
    if k.state == "open" {
        ctx.t("census.open")
    } else {
        ctx.t("census.closed")
    }
}
