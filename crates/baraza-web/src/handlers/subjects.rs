//! Finding a person's records across the project's forms (a data-subject request's first step).
//! The value searched for is personal data: it comes in a POST body, never in a URL, so that it
//! stays out of access logs and browser history.

use super::respond;
use crate::ctx::{CsrfForm, ProjectGuard, ViewPersonal};
use crate::error::WebResult;
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, iso, iso_date, layout, Chrome};
use axum::response::Response;
use baraza_core::subjects::SubjectSearch;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

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
    Ok(render(&g, Some(found)))
}

fn render(g: &ProjectGuard<ViewPersonal>, search: Option<SubjectSearch>) -> Response {
    let ctx = &g.ctx;
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
                form.stack method="post" action={ (p.url) "/subjects" } autocomplete="off" {
                    (csrf_field(c.csrf))
                    label { (c.t("subject.value")) input name="value" required maxlength="200" autocomplete="off"; }
                    button type="submit" { (c.t("subject.search")) }
                }
                @if let Some(s) = &data.search { (results(&c, p, s)) }
            },
        )
    })
}

fn results(c: &Chrome<'_>, p: &ProjectView, s: &SubjectSearch) -> Markup {
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
    }
}
