//! Bulk import of answers from a spreadsheet into a form: the page that explains the columns
//! (its `.csv` twin is an empty template), and the upload that checks every row and stores all
//! of them or none.

use super::forms::CsrfUpload;
use super::views::{project_url, ProjectView};
use super::{form_again, respond};
use crate::ctx::{Ctx, EditData, Format, ProjectGuard};
use crate::error::{WebError, WebResult};
use crate::pages::{csrf_field, layout, Chrome};
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_core::import::{ImportReport, RowProblem};
use maud::html;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct ImportPage {
    project: ProjectView,
    xml_form_id: String,
    /// The columns a file may have: question name and whether it is required.
    columns: Vec<ColumnView>,
    template: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ImportReport>,
}

#[derive(Serialize)]
struct ColumnView {
    name: String,
    required: bool,
}

fn form_param(params: &HashMap<String, String>) -> WebResult<String> {
    params.get("form").cloned().ok_or_else(WebError::not_found)
}

fn row_problem_text(ctx: &Ctx, p: &RowProblem) -> String {
    if let Some(m) = &p.message {
        return m.clone();
    }
    let detail = p.detail.clone().unwrap_or_default();
    let key = match p.kind.as_str() {
        "duplicate_instance" | "submission_invalid" | "instance_conflict" => {
            format!("import.problem_{}", p.kind)
        }
        k => format!("fill.problem_{k}"),
    };
    ctx.tf(&key, &[("detail", &detail)])
}

async fn page_data(
    g: &ProjectGuard<EditData>,
    id: &str,
    report: Option<ImportReport>,
) -> WebResult<ImportPage> {
    let columns = g.ctx.state.core.import_columns(&g.access, id).await?;
    let project = ProjectView::from_access(&g.access);
    Ok(ImportPage {
        template: format!(
            "{}/forms/{id}/import.csv",
            project_url(&g.access.org.slug, &g.access.project.slug)
        ),
        project,
        xml_form_id: id.to_owned(),
        columns: columns
            .into_iter()
            .map(|(name, required)| ColumnView { name, required })
            .collect(),
        report,
    })
}

fn markup(ctx: &Ctx, d: &ImportPage) -> maud::Markup {
    let c = Chrome::from_ctx(ctx);
    let form_url = format!("{}/forms/{}", d.project.url, d.xml_form_id);
    layout(
        &c,
        &format!("{} · {}", c.t("import.title"), d.xml_form_id),
        html! {
            p.muted { a href=(d.project.url) { (d.project.name) } " › " a href=(form_url) { code { (d.xml_form_id) } } }
            h1 { (c.t("import.title")) }
            @if let Some(r) = &d.report {
                @if r.ok() {
                    p.notice role="status" {
                        (c.tf("import.done", &[("stored", &r.stored.to_string()), ("already", &r.already.to_string()), ("rows", &r.rows.to_string())]))
                    }
                    p { a href={ (form_url) "/submissions" } { (c.t("submissions.see")) } }
                } @else {
                    div.error role="alert" {
                        p { strong { (c.tf("import.refused", &[("file", &r.file)])) } }
                        @if let Some((code, detail)) = &r.file_problem {
                            p { (c.tf(&format!("import.{code}"), &[("detail", detail)])) }
                        }
                        @if !r.column_problems.is_empty() {
                            ul {
                                @for (col, kind) in &r.column_problems {
                                    li { code { (col) } " — " (c.t(&format!("import.column_{kind}"))) }
                                }
                            }
                        }
                        @if r.rejected_rows > 0 {
                            p { (c.tf("import.rejected", &[("n", &r.rejected_rows.to_string()), ("rows", &r.rows.to_string())])) }
                        }
                    }
                    @if !r.rejected.is_empty() {
                        div.scroll {
                            table {
                                thead { tr {
                                    th scope="col" { (c.t("forms.row")) }
                                    th scope="col" { (c.t("forms.column")) }
                                    th scope="col" { (c.t("forms.problem")) }
                                } }
                                tbody {
                                    @for p in &r.rejected {
                                        tr {
                                            td { (p.row) }
                                            td { @if let Some(col) = &p.column { code { (col) } } }
                                            td { (row_problem_text(ctx, p)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { (c.t("import.help")) }
            p.muted { (c.t("import.help_columns")) }
            form.stack method="post" enctype="multipart/form-data" {
                (csrf_field(c.csrf))
                label { (c.t("import.file")) span.hint { (c.t("import.file_help")) } input type="file" name="file" accept=".csv,.xlsx,.xls" required; }
                button type="submit" { (c.t("import.submit")) }
            }
            h2 { (c.t("import.columns")) }
            p { a href=(d.template) { (c.t("import.template")) } }
            ul {
                @for col in &d.columns {
                    li { code { (col.name) } @if col.required { " " abbr.req title=(c.t("fill.required")) { "*" } } }
                }
            }
        },
    )
}

/// `GET …/forms/{form}/import` (and its `.csv` twin: an empty template).
pub async fn import_page(
    g: ProjectGuard<EditData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let data = page_data(&g, &id, None).await?;
    if g.ctx.format() == Format::Csv {
        let names: Vec<String> = data.columns.iter().map(|c| c.name.clone()).collect();
        let body = baraza_publish::csv::line(&names);
        let mut res = body.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}-import.csv\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    Ok(respond(&g.ctx, &data, || markup(&g.ctx, &data)))
}

/// `POST …/forms/{form}/import`: every row checked; all stored, or none and the report.
pub async fn import_post(
    g: ProjectGuard<EditData>,
    Path(params): Path<HashMap<String, String>>,
    upload: CsrfUpload,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let ctx = &g.ctx;
    let (_, version) = ctx.state.core.form(&g.access, &id).await?;
    let model: Option<baraza_xlsform::Form> =
        baraza_core::forms::read_model(&version.model_json).ok();
    let lang = model
        .as_ref()
        .map(|m| baraza_fill::pick_language(m, ctx.lang().code()))
        .unwrap_or_else(|| "default".to_owned());
    let report = ctx
        .state
        .core
        .import_submissions(
            &g.access,
            &ctx.principal,
            &id,
            &upload.file_name,
            &upload.bytes,
            &lang,
        )
        .await?;
    let ok = report.ok();
    let data = page_data(&g, &id, Some(report)).await?;
    if ok {
        return Ok(respond(ctx, &data, || markup(ctx, &data)));
    }
    if ctx.format() == Format::Json {
        let mut res = (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(&data)).into_response();
        res.extensions_mut().insert(crate::middleware::Rendered);
        return Ok(res);
    }
    Ok(form_again(
        StatusCode::UNPROCESSABLE_ENTITY,
        markup(ctx, &data),
    ))
}
