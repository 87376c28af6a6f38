//! The submissions table of a form: filters and sort in a GET form (works without JavaScript),
//! keyset paging whose "next page" link keeps the filters, the `.json` twin (the page's data)
//! and the `.csv` twin (the export's root table, streamed), and links to every export carrying
//! the same filters.

use super::exports::{self, ExportLinks, Format};
use super::respond;
use super::views::ProjectView;
use crate::ctx::{Ctx, ProjectGuard, ViewData};
use crate::error::{WebError, WebResult};
use crate::pages::{iso, layout, Chrome};
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use baraza_core::listing::{cursor_text, FilterParams, SubmissionSource, REVIEW_STATES};
use baraza_publish::parse_values;
use baraza_store::{Submitter, SubmitterRef};
use maud::{html, Markup};
use serde::Serialize;
use std::collections::HashMap;

/// Rows per page.
const PAGE: i64 = 50;

#[derive(Serialize)]
struct ColumnView {
    /// The question's path below the root: what the `question` filter takes.
    path: String,
    name: String,
    label: String,
    number: bool,
    /// Answers hidden from this reader (a personal or sensitive field; see `baraza_core::mask`).
    masked: bool,
}

#[derive(Serialize)]
struct SubmitterView {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct RowView {
    id: i64,
    instance_id: String,
    /// The record's key: its first version's instanceID.
    key: String,
    received: String,
    review_state: String,
    submitter: Option<SubmitterView>,
    /// Answers outside repeats, as text, by path.
    values: serde_json::Map<String, serde_json::Value>,
    /// How many answers sit in repeats.
    repeat_answers: usize,
}

#[derive(Serialize)]
struct SubmissionsData {
    project: ProjectView,
    xml_form_id: String,
    title: String,
    /// The filters in use, as given.
    filters: FilterParams,
    columns: Vec<ColumnView>,
    submissions: Vec<RowView>,
    /// The cursor of the next page, if there is one.
    next: Option<String>,
    next_url: Option<String>,
    exports: ExportLinks,
    #[serde(skip)]
    submitters: Vec<SubmitterView>,
}

fn submitter_id(s: SubmitterRef) -> String {
    match s {
        SubmitterRef::AppUser(id) => format!("app:{id}"),
        SubmitterRef::User(id) => format!("user:{id}"),
    }
}

/// A question's label in the page's language (`Français (fr)` for `fr`), else the default one.
pub(crate) fn label_for(labels: &[(String, String)], lang: &str) -> Option<String> {
    let tag = format!("({lang})");
    labels
        .iter()
        .find(|(l, t)| (l == lang || l.ends_with(&tag)) && !t.is_empty())
        .or_else(|| labels.iter().find(|(l, t)| l == "default" && !t.is_empty()))
        .or_else(|| labels.iter().find(|(_, t)| !t.is_empty()))
        .map(|(_, t)| t.clone())
}

fn columns(ctx: &Ctx, source: &SubmissionSource) -> Vec<ColumnView> {
    let schema = &source.schema;
    schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.table == 0 && !f.metadata)
        .map(|(i, f)| ColumnView {
            path: schema.relative_path(i).to_owned(),
            name: f.name.clone(),
            label: label_for(&f.labels, ctx.lang().code()).unwrap_or_else(|| f.name.clone()),
            number: f.kind.is_number(),
            masked: source.mask.covers(&f.path),
        })
        .collect()
}

fn page_url(form_url: &str, filters: &FilterParams, after: Option<&str>) -> String {
    let mut pairs = filters.pairs();
    if let Some(a) = after {
        pairs.push(("after", a));
    }
    let q = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if q.is_empty() {
        format!("{form_url}/submissions")
    } else {
        format!("{form_url}/submissions?{q}")
    }
}

/// `GET /orgs/{org}/projects/{project}/forms/{form}/submissions`, its `.json` and `.csv` twins.
pub async fn submissions_page(
    g: ProjectGuard<ViewData>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = params
        .get("form")
        .cloned()
        .ok_or_else(WebError::not_found)?;
    let (filters, options) = exports::read_params(raw.as_deref())?;
    let core = ctx.state.core.clone();
    let source = core.submission_source(&g.access, &id).await?;
    if ctx.format() == crate::ctx::Format::Csv {
        return exports::export(
            core,
            g.access.clone(),
            source,
            &filters,
            Format::Csv,
            options.hxl,
        )
        .await;
    }
    let filter = source.filter(&filters)?;
    let (rows, next) = core
        .submission_page(&g.access, &source, &filter, PAGE)
        .await?;
    let project = ProjectView::from_access(&g.access);
    let form_url = format!("{}/forms/{}", project.url, source.form.xml_form_id);
    let columns = columns(ctx, &source);
    let submissions = rows
        .iter()
        .map(|r| {
            let values = parse_values(&r.values_json).unwrap_or_default();
            let mut by_path = serde_json::Map::new();
            let mut repeat_answers = 0;
            let prefix = format!("/{}/", source.schema.root);
            for v in &values {
                if v.repeat.is_some() {
                    repeat_answers += 1;
                } else if let Some(p) = v.path.strip_prefix(&prefix) {
                    by_path.insert(
                        p.to_owned(),
                        baraza_publish::table::value_text(&v.value).into(),
                    );
                }
            }
            RowView {
                id: r.id,
                instance_id: r.instance_id.clone(),
                key: r.root_instance_id.clone(),
                received: iso(r.received_at),
                review_state: r.review_state.clone(),
                submitter: r.submitter.map(|s| SubmitterView {
                    id: submitter_id(s),
                    name: r.submitter_name.clone().unwrap_or_default(),
                }),
                values: by_path,
                repeat_answers,
            }
        })
        .collect();
    let next = next.map(cursor_text);
    let submitters: Vec<Submitter> = core.submitters(&g.access).await?;
    let data = SubmissionsData {
        xml_form_id: source.form.xml_form_id.clone(),
        title: source.version.title.clone(),
        next_url: next
            .as_deref()
            .map(|n| page_url(&form_url, &filters, Some(n))),
        next,
        exports: ExportLinks::new(&project, &source, &filters),
        columns,
        submissions,
        submitters: submitters
            .into_iter()
            .map(|s| SubmitterView {
                id: submitter_id(s.who),
                name: s.name,
            })
            .collect(),
        filters,
        project,
    };
    Ok(respond(ctx, &data, || page(ctx, &data, &form_url)))
}

fn selected_option(value: &str, current: &str, text: &str) -> Markup {
    html! {
        @if value == current {
            option value=(value) selected { (text) }
        } @else {
            option value=(value) { (text) }
        }
    }
}

fn filter_form(c: &Chrome<'_>, data: &SubmissionsData, form_url: &str) -> Markup {
    let f = &data.filters;
    html! {
        form.filters method="get" action={ (form_url) "/submissions" } aria-label=(c.t("exports.filters")) {
            label {
                (c.t("exports.review"))
                select name="review" {
                    (selected_option("", &f.review, c.t("exports.any")))
                    @for s in REVIEW_STATES {
                        (selected_option(s, &f.review, c.t(&format!("exports.state_{s}"))))
                    }
                }
            }
            label {
                (c.t("exports.submitter"))
                select name="submitter" {
                    (selected_option("", &f.submitter, c.t("exports.anyone")))
                    @for s in &data.submitters {
                        (selected_option(&s.id, &f.submitter, &s.name))
                    }
                }
            }
            label { (c.t("exports.from")) input type="date" name="from" value=(f.from); }
            label { (c.t("exports.to")) input type="date" name="to" value=(f.to); }
            label {
                (c.t("exports.question"))
                select name="question" {
                    (selected_option("", &f.question, c.t("exports.no_question")))
                    @for col in &data.columns {
                        (selected_option(&col.path, &f.question, &format!("{} ({})", col.label, col.name)))
                    }
                }
            }
            label {
                (c.t("exports.op"))
                select name="op" {
                    (selected_option("eq", &f.op, c.t("exports.op_eq")))
                    (selected_option("lt", &f.op, c.t("exports.op_lt")))
                    (selected_option("gt", &f.op, c.t("exports.op_gt")))
                }
            }
            label { (c.t("exports.value")) input type="text" name="value" value=(f.value) maxlength="500"; }
            label {
                (c.t("exports.sort"))
                select name="sort" {
                    (selected_option("newest", &f.sort, c.t("exports.newest")))
                    (selected_option("oldest", &f.sort, c.t("exports.oldest")))
                }
            }
            div.actions {
                button type="submit" { (c.t("exports.apply")) }
                a href={ (form_url) "/submissions" } { (c.t("exports.clear")) }
            }
        }
    }
}

fn page(ctx: &Ctx, data: &SubmissionsData, form_url: &str) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let e = &data.exports;
    layout(
        &c,
        &format!("{} · {}", c.t("submissions.title"), data.title),
        html! {
            p.muted { a href=(data.project.url) { (data.project.name) } " › " a href=(form_url) { (data.title) } }
            h1 { (c.t("submissions.title")) }
            (filter_form(&c, data, form_url))
            h2 { (c.t("exports.title")) }
            p.muted { (c.t("exports.help")) }
            ul.exports {
                li { a href=(e.csv) { (c.t("exports.csv")) } }
                li { a href=(e.csv_zip) { (c.t("exports.csv_zip")) } }
                li { a href=(e.xlsx) { (c.t("exports.xlsx")) } }
                li { a href=(e.json) { (c.t("exports.json")) } }
                @if let Some(g) = &e.geojson { li { a href=(g) { (c.t("exports.geojson")) } } }
            }
            @if data.submissions.is_empty() {
                p.muted { (c.t("exports.none")) }
            } @else {
                div.scroll {
                    table {
                        thead { tr {
                            th scope="col" { (c.t("submissions.received")) }
                            th scope="col" { (c.t("exports.submitter")) }
                            th scope="col" { (c.t("exports.review")) }
                            @for col in &data.columns { th scope="col" title=(col.label) { code { (col.name) } @if col.masked { br; span.muted { (c.t("submissions.masked")) } } } }
                        } }
                        tbody {
                            @for s in &data.submissions {
                                tr {
                                    td { a href={ (form_url) "/submissions/" (s.instance_id) } { (s.received.get(..16).unwrap_or("")) } }
                                    td { @if let Some(who) = &s.submitter { (who.name) } }
                                    td { (c.t(&format!("exports.state_{}", s.review_state))) }
                                    @for col in &data.columns {
                                        td { @if col.masked { span.muted aria-label=(c.t("submissions.masked")) { "•••" } } @else { (s.values.get(&col.path).and_then(|v| v.as_str()).unwrap_or("")) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(next) = &data.next_url {
                    p { a href=(next) rel="next" { (c.t("submissions.next")) } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_in_the_page_language() {
        let labels = vec![
            ("Français (fr)".to_owned(), "Ménage".to_owned()),
            ("English (en)".to_owned(), "Household".to_owned()),
        ];
        assert_eq!(
            super::label_for(&labels, "en").as_deref(),
            Some("Household")
        );
        assert_eq!(super::label_for(&labels, "fr").as_deref(), Some("Ménage"));
        assert_eq!(super::label_for(&[], "fr"), None);
        let plain = vec![("default".to_owned(), "Size".to_owned())];
        assert_eq!(super::label_for(&plain, "fr").as_deref(), Some("Size"));
    }
}
