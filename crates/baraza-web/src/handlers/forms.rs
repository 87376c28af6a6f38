//! A project's forms: upload (with every problem shown where it is), versions, publish and close;
//! and the app users that ODK Collect signs in as, with their QR code.

use super::views::{project_url, ProjectView};
use super::{form_again, respond, see_other};
use crate::ctx::{CsrfForm, Ctx, ManageAppUsers, ManageForms, ProjectGuard, ViewForms, CSRF_FIELD};
use crate::error::{WebError, WebResult};
use crate::pages::{csrf_field, iso, layout, Chrome};
use axum::extract::{FromRequest, Multipart, Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_core::CoreError;
use baraza_store::FormState;
use baraza_types::{ErrorCode, Permission};
use baraza_xlsform::{Diagnostic, Lang as XLang, Severity};
use maud::{html, Markup, PreEscaped};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The largest XLSForm accepted (the reader refuses larger ones too).
pub const MAX_XLSFORM_BYTES: usize = baraza_xlsform::read::MAX_FILE_BYTES;

fn xlang(ctx: &Ctx) -> XLang {
    match ctx.lang() {
        crate::i18n::Lang::Fr => XLang::Fr,
        crate::i18n::Lang::En => XLang::En,
    }
}

#[derive(Serialize)]
struct DiagnosticView {
    code: String,
    severity: Severity,
    sheet: String,
    row: Option<usize>,
    column: Option<String>,
    message: String,
}

fn diagnostic_views(ctx: &Ctx, diags: &[Diagnostic]) -> Vec<DiagnosticView> {
    diags
        .iter()
        .map(|d| DiagnosticView {
            code: d.code.to_owned(),
            severity: d.severity,
            sheet: d.sheet.clone(),
            row: d.row,
            column: d.column.clone(),
            message: d.message(xlang(ctx)),
        })
        .collect()
}

fn diagnostics_table(c: &Chrome<'_>, diags: &[DiagnosticView]) -> Markup {
    html! {
        table.responsive {
            thead { tr {
                th scope="col" { (c.t("forms.sheet")) }
                th scope="col" { (c.t("forms.row")) }
                th scope="col" { (c.t("forms.column")) }
                th scope="col" { (c.t("forms.problem")) }
            } }
            tbody {
                @for d in diags {
                    tr {
                        td { (d.sheet) }
                        td { @if let Some(r) = d.row { (r) } }
                        td { @if let Some(col) = &d.column { code { (col) } } }
                        td {
                            @if d.severity == Severity::Error { strong { (c.t("forms.error")) } } @else { (c.t("forms.warning")) }
                            " — " (d.message) " " span.muted { "(" code { (d.code) } ")" }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Serialize)]
struct FormView {
    xml_form_id: String,
    title: String,
    state: String,
    version: Option<String>,
    submissions: i64,
    url: String,
}

#[derive(Serialize)]
struct FormsData {
    project: ProjectView,
    forms: Vec<FormView>,
    can_manage: bool,
}

fn forms_url(p: &ProjectView) -> String {
    format!("{}/forms", p.url)
}

fn state_label(c: &Chrome<'_>, state: &str) -> String {
    c.t(&format!("forms.state_{state}")).to_owned()
}

fn forms_markup(ctx: &Ctx, data: &FormsData, refused: Option<&[DiagnosticView]>) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let p = &data.project;
    layout(
        &c,
        &format!("{} · {}", c.t("forms.title"), p.name),
        html! {
            p.muted { a href=(p.url) { (p.name) } }
            h1 { (c.t("forms.title")) }
            (super::learn::guide_link(&c, "collecting-well"))
            @if let Some(diags) = refused {
                div.card role="alert" {
                    p.error { (c.t("forms.refused")) }
                    (diagnostics_table(&c, diags))
                }
            }
            @if data.forms.is_empty() {
                p.muted { (c.t("forms.none")) }
            } @else {
                table.responsive {
                    thead { tr {
                        th scope="col" { (c.t("field.name")) }
                        th scope="col" { (c.t("forms.version")) }
                        th scope="col" { (c.t("forms.state")) }
                        th scope="col" { (c.t("forms.submissions")) }
                    } }
                    tbody {
                        @for f in &data.forms {
                            tr {
                                td { a href=(f.url) { (f.title) } br; code { (f.xml_form_id) } }
                                td { (f.version.as_deref().unwrap_or("")) }
                                td { span class={ "badge " (f.state) } { (state_label(&c, &f.state)) } }
                                td { (f.submissions) }
                            }
                        }
                    }
                }
            }
            @if data.can_manage {
                h2 { (c.t("forms.upload")) }
                form.stack method="post" action=(forms_url(p)) enctype="multipart/form-data" {
                    (csrf_field(c.csrf))
                    label {
                        (c.t("forms.file"))
                        span.hint { (c.t("forms.file_hint")) }
                        input type="file" name="file" required accept=".xlsx,.xls,.csv,.md";
                    }
                    button type="submit" { (c.t("forms.upload")) }
                }
                p { a href={ (p.url) "/app-users" } { (c.t("app_users.title")) } }
            }
        },
    )
}

async fn forms_data(g: &ProjectGuard<ViewForms>) -> WebResult<FormsData> {
    let project = ProjectView::from_access(&g.access);
    let forms = g.ctx.state.core.forms(&g.access).await?;
    let base = forms_url(&project);
    Ok(FormsData {
        forms: forms
            .iter()
            .map(|l| FormView {
                xml_form_id: l.form.xml_form_id.clone(),
                title: l.form.title.clone(),
                state: l.form.state.as_str().to_owned(),
                version: l.version.clone(),
                submissions: l.submissions,
                url: format!("{base}/{}", l.form.xml_form_id),
            })
            .collect(),
        can_manage: g.access.can(Permission::ManageForms),
        project,
    })
}

/// `GET /orgs/{org}/projects/{project}/forms`.
pub async fn forms_page(g: ProjectGuard<ViewForms>) -> WebResult<Response> {
    let data = forms_data(&g).await?;
    Ok(respond(&g.ctx, &data, || forms_markup(&g.ctx, &data, None)))
}

/// A multipart upload from one of our pages: the `_csrf` field must match, as in `CsrfForm`.
pub struct CsrfUpload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The form's other (text) fields.
    pub fields: std::collections::HashMap<String, String>,
}

impl FromRequest<crate::AppState> for CsrfUpload {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &crate::AppState) -> WebResult<Self> {
        let (mut parts, body) = req.into_parts();
        let ctx = <Ctx as axum::extract::FromRequestParts<crate::AppState>>::from_request_parts(
            &mut parts, state,
        )
        .await?;
        crate::ctx::check_origin(&parts.headers)?;
        let req = Request::from_parts(parts, body);
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::code(ErrorCode::UnsupportedMediaType))?;
        let mut csrf = String::new();
        let mut file: Option<(String, Vec<u8>)> = None;
        let mut fields = std::collections::HashMap::new();
        while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
            match field.name().map(str::to_owned).as_deref() {
                Some(CSRF_FIELD) => csrf = field.text().await.map_err(multipart_error)?,
                Some("file") => {
                    let name = field.file_name().unwrap_or("form.xlsx").to_owned();
                    let bytes = field.bytes().await.map_err(multipart_error)?;
                    file = Some((name, bytes.to_vec()));
                }
                // Short text fields beside the file (a dataset's metadata); a repeated field
                // (checkboxes) keeps its values joined by commas.
                Some(name) if fields.len() < 40 && field.file_name().is_none() => {
                    let name = name.to_owned();
                    let text = field.text().await.map_err(multipart_error)?;
                    if text.len() <= 5000 {
                        fields
                            .entry(name)
                            .and_modify(|v: &mut String| {
                                v.push(',');
                                v.push_str(&text);
                            })
                            .or_insert(text);
                    }
                }
                _ => {}
            }
        }
        ctx.check_csrf(&csrf)?;
        let (file_name, bytes) = file.ok_or_else(|| {
            WebError::code(ErrorCode::InvalidForm).with_detail("raw:missing field `file`")
        })?;
        Ok(CsrfUpload {
            file_name,
            bytes,
            fields,
        })
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::code(ErrorCode::PayloadTooLarge)
    } else {
        WebError::code(ErrorCode::InvalidForm).with_detail(format!("raw:{e}"))
    }
}

#[derive(Serialize)]
struct RefusedData {
    ok: bool,
    error: &'static str,
    diagnostics: Vec<DiagnosticView>,
}

/// `POST /orgs/{org}/projects/{project}/forms`: upload a form or a new version of one.
pub async fn upload(g: ProjectGuard<ManageForms>, upload: CsrfUpload) -> WebResult<Response> {
    let ctx = &g.ctx;
    match ctx
        .state
        .core
        .upload_form(&g.access, &ctx.principal, &upload.file_name, &upload.bytes)
        .await
    {
        Ok(u) => Ok(see_other(&format!(
            "{}/forms/{}",
            project_url(&g.access.org.slug, &g.access.project.slug),
            u.form.xml_form_id
        ))),
        Err(CoreError::FormRefused { diagnostics }) => {
            let views = diagnostic_views(ctx, &diagnostics);
            if ctx.format() == crate::ctx::Format::Json {
                let mut res = (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(RefusedData {
                        ok: false,
                        error: "form_invalid",
                        diagnostics: views,
                    }),
                )
                    .into_response();
                res.extensions_mut().insert(crate::middleware::Rendered);
                return Ok(res);
            }
            let view_guard = ProjectGuard::<ViewForms>::from_parts(g.ctx.clone(), g.access.clone());
            let data = forms_data(&view_guard).await?;
            Ok(form_again(
                StatusCode::UNPROCESSABLE_ENTITY,
                forms_markup(ctx, &data, Some(&views)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct FormPageData {
    project: ProjectView,
    /// Encrypted submissions not decrypted yet (ODK encrypted forms): in no table or export.
    encrypted_pending: i64,
    xml_form_id: String,
    title: String,
    state: String,
    version: String,
    uploaded: String,
    source_name: String,
    xform_url: String,
    warnings: Vec<DiagnosticView>,
    can_manage: bool,
    /// Whether this person may fill the form in the browser (or, a draft, test it).
    can_fill: bool,
    /// The form's public link, for its managers, when on.
    public_link: Option<String>,
    /// Whether this person may import answers from a spreadsheet (a published form).
    can_import: bool,
    can_release: bool,
    /// Files the form uses: name, and size when uploaded.
    files: Vec<FileView>,
    /// How many days records are kept after they arrive (none: until deleted).
    retention_days: Option<i64>,
    /// Why the data is collected, on what lawful basis, about whom.
    purpose: String,
    lawful_basis: String,
    data_subjects: String,
}

#[derive(Serialize)]
struct FileView {
    name: String,
    uploaded: bool,
    size: Option<i64>,
}

fn form_param(params: &HashMap<String, String>) -> WebResult<String> {
    params.get("form").cloned().ok_or_else(WebError::not_found)
}

/// `GET /orgs/{org}/projects/{project}/forms/{form}`.
pub async fn form_page(
    g: ProjectGuard<ViewForms>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = form_param(&params)?;
    let (form, version) = ctx.state.core.form(&g.access, &id).await?;
    let warnings: Vec<baraza_core::forms::StoredDiagnostic> =
        serde_json::from_str(&version.warnings_json).unwrap_or_default();
    let fr = ctx.lang() == crate::i18n::Lang::Fr;
    let (expected, uploaded) = ctx.state.core.form_attachments(&g.access, &id).await?;
    let files = expected
        .iter()
        .map(|name| {
            let up = uploaded.iter().find(|a| &a.name == name);
            FileView {
                name: name.clone(),
                uploaded: up.is_some(),
                size: up.map(|a| a.size),
            }
        })
        .collect();
    let project = ProjectView::from_access(&g.access);
    let url = format!("{}/{}", forms_url(&project), form.xml_form_id);
    let can_manage = g.access.can(Permission::ManageForms);
    let public_link = if can_manage {
        ctx.state
            .core
            .public_link(&g.access, &id)
            .await?
            .map(|t| format!("{}/f/{t}", base_url(ctx, &headers)))
    } else {
        None
    };
    let retention_days = ctx.state.core.retention(&g.access, &id).await?;
    let purpose = ctx.state.core.form_purpose(&g.access, &id).await?;
    let encrypted_pending = ctx.state.core.encrypted_pending(&g.access, &id).await?;
    let data = FormPageData {
        encrypted_pending,
        retention_days,
        purpose: purpose.purpose,
        lawful_basis: purpose.lawful_basis,
        data_subjects: purpose.data_subjects,
        can_fill: match form.state {
            FormState::Published => g.access.can(Permission::SubmitData),
            FormState::Draft => can_manage,
            FormState::Closed => false,
        },
        public_link,
        can_import: form.state == FormState::Published && g.access.can(Permission::EditData),
        can_release: g.access.can(Permission::ReleaseData),
        xml_form_id: form.xml_form_id.clone(),
        title: version.title.clone(),
        state: form.state.as_str().to_owned(),
        version: version.version.clone(),
        uploaded: iso(version.created_at),
        source_name: version.source_name.clone(),
        xform_url: format!("{url}/xform"),
        warnings: warnings
            .into_iter()
            .map(|d| DiagnosticView {
                message: if fr { d.message_fr } else { d.message_en },
                code: d.code,
                severity: d.severity,
                sheet: d.sheet,
                row: d.row,
                column: d.column,
            })
            .collect(),
        can_manage,
        files,
        project,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        layout(
            &c,
            &data.title,
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } " › " a href=(forms_url(&data.project)) { (c.t("forms.title")) } }
                h1 { (data.title) " " span class={ "badge " (data.state) } { (state_label(&c, &data.state)) } }
                div.card {
                    dl {
                        dt { "form_id" } dd { code { (data.xml_form_id) } }
                        dt { (c.t("forms.version")) } dd { (data.version) }
                        dt { (c.t("forms.uploaded")) } dd { (data.uploaded.get(..10).unwrap_or("")) " · " (data.source_name) }
                        dt { "XForm" } dd { a href=(data.xform_url) { (c.t("forms.download_xform")) } }
                        dt { (c.t("submissions.title")) } dd { a href={ (url) "/submissions" } { (c.t("submissions.see")) } }
                    }
                }
                @if data.encrypted_pending > 0 {
                    p.notice {
                        (c.tf("encryption.form_note", &[("n", &data.encrypted_pending.to_string())]))
                        @if data.can_manage { " " a href={ (url) "/decrypt" } { (c.t("encryption.decrypt")) } }
                    }
                }
                @if data.can_fill {
                    p { a.button href={ (url) "/fill" } {
                        @if data.state == "draft" { (c.t("fill.test")) } @else { (c.t("fill.in_browser")) }
                    } }
                }
                @if data.can_import {
                    p { a href={ (url) "/import" } { (c.t("import.link")) } }
                }
                @if data.can_release {
                    p { a href={ (url) "/releases" } { (c.t("release.link")) } }
                }
                @if data.can_manage {
                    h2 { (c.t("fill.public_link")) }
                    p.muted { (c.t("fill.public_link_help")) }
                    @if let Some(link) = &data.public_link {
                        p { a href=(link) { code { (link) } } }
                        @if data.state != "published" { p.muted { (c.t("fill.public_link_unpublished")) } }
                    }
                    form.inline method="post" action={ (url) "/public-link" } {
                        (csrf_field(c.csrf))
                        @if data.public_link.is_some() {
                            button.secondary type="submit" name="public" value="on" { (c.t("fill.public_link_renew")) } " "
                            button.danger type="submit" name="public" value="off" { (c.t("fill.public_link_off")) }
                        } @else {
                            button.secondary type="submit" name="public" value="on" { (c.t("fill.public_link_on")) }
                        }
                    }
                }
                h2 { (c.t("records.edit_title")) }
                @if data.can_manage {
                    form.stack method="post" action={ (url) "/purpose" } {
                        (csrf_field(c.csrf))
                        p.muted { (c.t("records.edit_help")) }
                        label { (c.t("records.purpose")) textarea name="purpose" rows="2" maxlength="2000" { (data.purpose) } }
                        label { (c.t("records.lawful_basis")) " "
                            select name="lawful_basis" {
                                option value="" selected[data.lawful_basis.is_empty()] { "—" }
                                @for b in baraza_core::records::LAWFUL_BASES {
                                    option value=(b) selected[data.lawful_basis == b] { (c.t(&format!("records.basis_{b}"))) }
                                }
                            }
                        }
                        label { (c.t("records.data_subjects")) input name="data_subjects" maxlength="2000" value=(data.data_subjects); }
                        button.secondary type="submit" { (c.t("action.save")) }
                    }
                } @else {
                    dl {
                        dt { (c.t("records.purpose")) } dd { (data.purpose) }
                        dt { (c.t("records.lawful_basis")) } dd { @if !data.lawful_basis.is_empty() { (c.t(&format!("records.basis_{}", data.lawful_basis))) } }
                        dt { (c.t("records.data_subjects")) } dd { (data.data_subjects) }
                    }
                }
                h2 { (c.t("retention.title")) }
                p {
                    @match data.retention_days {
                        Some(d) => (c.tf("retention.kept", &[("days", &d.to_string())])),
                        None => (c.t("retention.forever")),
                    }
                }
                @if data.can_manage {
                    form.inline method="post" action={ (url) "/retention" } {
                        (csrf_field(c.csrf))
                        label { (c.t("retention.days")) " " input type="number" name="days" min="1" max="36500" value=[data.retention_days]; }
                        " " button.secondary type="submit" { (c.t("action.save")) }
                        span.hint { " " (c.t("retention.help")) }
                    }
                }
                @if !data.files.is_empty() {
                    h2 { (c.t("forms.files")) }
                    p.muted { (c.t("forms.files_help")) }
                    ul {
                        @for f in &data.files {
                            li {
                                code { (f.name) } " — "
                                @if let Some(size) = f.size { (c.t("forms.file_uploaded")) " (" (size) " B)" } @else { strong { (c.t("forms.file_missing")) } }
                            }
                        }
                    }
                    @if data.can_manage {
                        form.stack method="post" action={ (url) "/attachments" } enctype="multipart/form-data" {
                            (csrf_field(c.csrf))
                            label { (c.t("forms.file_upload")) input type="file" name="file" required; }
                            button type="submit" { (c.t("forms.file_upload")) }
                        }
                    }
                }
                @if !data.warnings.is_empty() {
                    h2 { (c.t("forms.warnings")) }
                    (diagnostics_table(&c, &data.warnings))
                }
                @if data.can_manage {
                    h2 { (c.t("forms.lifecycle")) }
                    p.muted { (c.t("forms.lifecycle_help")) }
                    form.inline method="post" action={ (url) "/state" } {
                        (csrf_field(c.csrf))
                        @for s in ["draft", "published", "closed"] {
                            @if s != data.state {
                                button.secondary type="submit" name="state" value=(s) { (c.t(&format!("forms.to_{s}"))) } " "
                            }
                        }
                    }
                }
            },
        )
    }))
}

/// `GET /orgs/{org}/projects/{project}/forms/{form}/xform`: the XForm, as ODK Collect gets it.
pub async fn xform(
    g: ProjectGuard<ViewForms>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let (form, version) = g.ctx.state.core.form(&g.access, &id).await?;
    let mut res = version.xform.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.xml\"",
        form.xml_form_id
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `POST /orgs/{org}/projects/{project}/forms/{form}/attachments`: a file the form uses, uploaded
/// under the name the form gives it.
pub async fn upload_attachment(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    upload: CsrfUpload,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    g.ctx
        .state
        .core
        .put_form_attachment(&g.access, &id, &upload.file_name, &upload.bytes)
        .await?;
    Ok(see_other(&form_page_url(&g.access, &id)))
}

#[derive(Deserialize)]
pub struct StateForm {
    state: String,
}

/// `POST /orgs/{org}/projects/{project}/forms/{form}/state`.
pub async fn set_state(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<StateForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let state: FormState = f.state.parse().map_err(|_| {
        WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.form_state")
    })?;
    g.ctx
        .state
        .core
        .set_form_state(&g.access, &id, state)
        .await?;
    Ok(see_other(&form_page_url(&g.access, &id)))
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// `POST …/submissions/{instance}/erase`: the record destroyed now, with a certificate in the
/// audit log; back to the table.
pub async fn erase(
    g: ProjectGuard<crate::ctx::EditData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<EraseForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let instance = params
        .get("instance")
        .ok_or_else(WebError::not_found)?
        .clone();
    if f.confirm != "yes" {
        return Err(
            WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.erase_confirm")
        );
    }
    let cert = g
        .ctx
        .state
        .core
        .erase_record(&g.access, &id, &instance, &f.reason)
        .await?;
    if g.ctx.format() == crate::ctx::Format::Json {
        return Ok(axum::Json(cert).into_response());
    }
    Ok(see_other(&format!(
        "{}/submissions",
        form_page_url(&g.access, &id)
    )))
}

#[derive(Deserialize)]
pub struct PurposeForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    lawful_basis: String,
    #[serde(default)]
    data_subjects: String,
}

/// `POST …/forms/{form}/purpose`: purpose, lawful basis and data subjects of the form.
pub async fn set_purpose(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<PurposeForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    g.ctx
        .state
        .core
        .set_form_purpose(
            &g.access,
            &id,
            &baraza_store::FormPurpose {
                purpose: f.purpose,
                lawful_basis: f.lawful_basis,
                data_subjects: f.data_subjects,
            },
        )
        .await?;
    Ok(see_other(&form_page_url(&g.access, &id)))
}

#[derive(Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    days: String,
}

/// `POST …/forms/{form}/retention`: `days` (empty: keep until deleted).
pub async fn set_retention(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<RetentionForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let days = match f.days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.retention_days")
        })?),
    };
    g.ctx.state.core.set_retention(&g.access, &id, days).await?;
    Ok(see_other(&form_page_url(&g.access, &id)))
}

// ----- submissions ----------------------------------------------------------------------------

/// An answer as a person reads it.
fn answer_text(v: &serde_json::Value) -> String {
    let inner = &v["value"];
    match v["type"].as_str() {
        Some("empty") => String::new(),
        Some("choices") => inner
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
        Some("geopoint") => format!(
            "{} {}",
            inner["lat"].as_f64().unwrap_or_default(),
            inner["lon"].as_f64().unwrap_or_default()
        ),
        _ => match inner {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            // 150, not 150.0: Rust prints floats without a useless fraction.
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.to_string(),
                (None, Some(f)) => format!("{f}"),
                _ => n.to_string(),
            },
            other => other.to_string(),
        },
    }
}

#[derive(Serialize)]
struct AnswerView {
    path: String,
    question: String,
    answer: String,
}

#[derive(Serialize)]
struct VersionView {
    instance_id: String,
    received: String,
    current: bool,
    /// Who sent it: a person's or a phone's name (none for public links).
    submitter: Option<String>,
    answers: Vec<AnswerView>,
}

#[derive(Serialize)]
struct EventView {
    kind: String,
    review_state: Option<String>,
    instance_id: Option<String>,
    body: String,
    by: Option<String>,
    at: String,
}

/// A record's consent, as the page and its `.json` twin show it.
#[derive(Serialize)]
struct ConsentView {
    /// `given`, `refused`, `not_answered` or `withdrawn`.
    state: String,
    notice_version: Option<String>,
    language: Option<String>,
    /// How the language is known: `web_form`, `submission` or `form_default`.
    language_source: Option<String>,
    /// `odk_collect`, `web_form`, `public_link`, `import` or `api`.
    channel: Option<String>,
    received: Option<String>,
    /// The `start` and `end` metadata, as the device sent them.
    started: Option<String>,
    ended: Option<String>,
}

impl ConsentView {
    fn of(r: baraza_store::ConsentRecord) -> ConsentView {
        ConsentView {
            state: r.state,
            notice_version: r.notice_version,
            language: r.language,
            language_source: r.language_source,
            channel: r.channel,
            received: r.received_at.map(iso),
            started: r.started,
            ended: r.ended,
        }
    }

    fn render(&self, c: &Chrome<'_>) -> Markup {
        html! {
            section.card aria-labelledby="consent-title" {
                h2 id="consent-title" { (c.t("consent.title")) }
                dl {
                    dt { (c.t("consent.answer")) }
                    dd { strong { (c.t(&format!("consent.state_{}", self.state))) } }
                    dt { (c.t("consent.notice_version")) }
                    dd { @match &self.notice_version { Some(v) => code { (v) }, None => span.muted { (c.t("consent.no_version")) } } }
                    @if let Some(l) = &self.language {
                        dt { (c.t("consent.language")) }
                        dd { (l) @if let Some(s) = &self.language_source { " " span.muted { "(" (c.t(&format!("consent.source_{s}"))) ")" } } }
                    }
                    @if let Some(ch) = &self.channel {
                        dt { (c.t("consent.channel")) } dd { (c.t(&format!("consent.channel_{ch}"))) }
                    }
                    @if let Some(r) = &self.received {
                        dt { (c.t("consent.received")) } dd { time datetime=(r) { (r) } }
                    }
                    @if let Some(v) = &self.started { dt { (c.t("consent.started")) } dd { (v) } }
                    @if let Some(v) = &self.ended { dt { (c.t("consent.ended")) } dd { (v) } }
                }
                @if self.state == "refused" { p role="note" { (c.t("consent.refused_note")) } }
            }
        }
    }
}

#[derive(Serialize)]
struct SubmissionData {
    project: ProjectView,
    xml_form_id: String,
    instance_id: String,
    review_state: String,
    /// The record's consent, when its form has a consent question.
    consent: Option<ConsentView>,
    /// Every version of the record, newest first.
    versions: Vec<VersionView>,
    /// Reviews, comments and edits, oldest first.
    events: Vec<EventView>,
    can_review: bool,
    can_edit: bool,
}

/// `GET …/forms/{form}/submissions/{instance}`: one record with every answer (repeats included)
/// and every version of it, newest first.
pub async fn submission_page(
    g: ProjectGuard<crate::ctx::ViewData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = form_param(&params)?;
    let instance = params.get("instance").ok_or_else(WebError::not_found)?;
    let (form, history) = ctx
        .state
        .core
        .submission_history(&g.access, &id, instance)
        .await?;
    let current = history
        .iter()
        .rev()
        .find(|r| r.is_current)
        .or(history.last());
    let submitters = ctx
        .state
        .core
        .version_submitters(&g.access, &history)
        .await?;
    let events = ctx
        .state
        .core
        .submission_events(&g.access, &id, instance)
        .await?;
    let consent = match history.first() {
        Some(first) => ctx
            .state
            .core
            .record_consent(&g.access, &id, &first.root_instance_id)
            .await?
            .map(ConsentView::of),
        None => None,
    };
    let data = SubmissionData {
        consent,
        events: events
            .iter()
            .map(|e| EventView {
                kind: e.kind.clone(),
                review_state: e.review_state.clone(),
                instance_id: e.instance_id.clone(),
                body: e.body.clone(),
                by: e.user_name.clone(),
                at: iso(e.created_at),
            })
            .collect(),
        can_review: g.access.can(Permission::ReviewData),
        can_edit: g.access.can(Permission::EditData),
        project: ProjectView::from_access(&g.access),
        xml_form_id: form.xml_form_id.clone(),
        instance_id: current.map(|r| r.instance_id.clone()).unwrap_or_default(),
        review_state: current.map(|r| r.review_state.clone()).unwrap_or_default(),
        versions: history
            .iter()
            .rev()
            .map(|r| {
                let answers: Vec<serde_json::Value> =
                    serde_json::from_str(&r.values_json).unwrap_or_default();
                VersionView {
                    instance_id: r.instance_id.clone(),
                    received: iso(r.received_at),
                    current: r.is_current,
                    submitter: submitters.get(&r.id).cloned(),
                    answers: answers
                        .iter()
                        .map(|a| AnswerView {
                            path: a["path"].as_str().unwrap_or("").to_owned(),
                            question: a["question"].as_str().unwrap_or("").to_owned(),
                            answer: answer_text(&a["value"]),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let form_url = format!("{}/{}", forms_url(&data.project), data.xml_form_id);
        layout(
            &c,
            &data.instance_id,
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } " › " a href={ (form_url) "/submissions" } { (c.t("submissions.title")) } }
                h1 { code { (data.instance_id) } " " span class={ "badge " (data.review_state) } { (c.t(&format!("review.state_{}", data.review_state))) } }
                @let record_url = format!("{form_url}/submissions/{}", crate::middleware::url_encode(&data.instance_id));
                @if let Some(consent) = &data.consent { (consent.render(&c)) }
                @if data.can_review || data.can_edit {
                    div.card {
                        @if data.can_review {
                            form.stack method="post" action={ (record_url) "/review" } {
                                (csrf_field(c.csrf))
                                label { (c.t("review.state"))
                                    select name="review_state" {
                                        @for s in baraza_core::fill::REVIEW_STATES {
                                            option value=(s) selected[s == data.review_state] { (c.t(&format!("review.state_{s}"))) }
                                        }
                                    }
                                }
                                label { (c.t("review.comment")) span.hint { (c.t("review.comment_help")) } textarea name="comment" rows="2" {} }
                                button type="submit" { (c.t("review.save")) }
                            }
                        }
                        @if data.can_edit {
                            form.inline method="post" action={ (record_url) "/edit" } {
                                (csrf_field(c.csrf))
                                button.secondary type="submit" { (c.t("review.edit")) }
                            }
                            " " span.muted { (c.t("review.edit_help")) }
                        }
                    }
                }
                @if data.can_edit {
                    details {
                        summary { (c.t("erase.title")) }
                        form.stack method="post" action={ (record_url) "/erase" } {
                            (csrf_field(c.csrf))
                            p { (c.t("erase.help")) }
                            label { (c.t("erase.reason"))
                                select name="reason" required {
                                    @for r in baraza_core::retention::ERASURE_REASONS {
                                        option value=(r) { (c.t(&format!("erase.reason_{r}"))) }
                                    }
                                }
                            }
                            label { input type="checkbox" name="confirm" value="yes" required; " " (c.t("erase.confirm")) }
                            button.danger type="submit" { (c.t("erase.button")) }
                        }
                    }
                }
                h2 { (c.t("review.history")) }
                @if data.events.is_empty() { p.muted { (c.t("review.no_events")) } }
                ul.events {
                    @for e in &data.events {
                        li {
                            span.muted { (e.at.get(..16).unwrap_or("")) " · " (e.by.as_deref().unwrap_or("—")) " · " }
                            @match e.kind.as_str() {
                                "review" => { (c.t("review.event_review")) " " strong { (c.t(&format!("review.state_{}", e.review_state.as_deref().unwrap_or("received")))) } },
                                "edit" => { (c.t("review.event_edit")) " " code { (e.instance_id.as_deref().unwrap_or("")) } },
                                _ => { (c.t("review.event_comment")) },
                            }
                            @if !e.body.is_empty() { blockquote { (e.body) } }
                        }
                    }
                }
                @if data.can_review {
                    form.stack method="post" action={ (record_url) "/comments" } {
                        (csrf_field(c.csrf))
                        label { (c.t("review.add_comment")) textarea name="body" rows="2" required {} }
                        button.secondary type="submit" { (c.t("review.post_comment")) }
                    }
                }
                @for v in &data.versions {
                    h2 {
                        @if v.current { (c.t("submissions.current")) } @else { (c.t("submissions.earlier")) }
                        " · " (v.received.get(..16).unwrap_or(""))
                        @if let Some(s) = &v.submitter { " · " (s) }
                    }
                    @if !v.current { p.muted { code { (v.instance_id) } } }
                    div.scroll {
                        table {
                            thead { tr { th scope="col" { (c.t("submissions.question")) } th scope="col" { (c.t("submissions.answer")) } } }
                            tbody {
                                @for a in &v.answers {
                                    tr { td { code { (a.path) } } td { (a.answer) } }
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub struct ReviewForm {
    review_state: String,
    #[serde(default)]
    comment: String,
}

/// `POST …/submissions/{instance}/review`: a record's review state, with an optional comment.
pub async fn review(
    g: ProjectGuard<crate::ctx::ReviewData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let instance = params.get("instance").ok_or_else(WebError::not_found)?;
    g.ctx
        .state
        .core
        .review_submission(
            &g.access,
            &g.ctx.principal,
            &id,
            instance,
            &f.review_state,
            &f.comment,
        )
        .await?;
    Ok(see_other(&record_url(&g.access, &id, instance)))
}

#[derive(Deserialize)]
pub struct CommentForm {
    body: String,
}

/// `POST …/submissions/{instance}/comments`: a comment on a record.
pub async fn comment(
    g: ProjectGuard<crate::ctx::ReviewData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let instance = params.get("instance").ok_or_else(WebError::not_found)?;
    g.ctx
        .state
        .core
        .comment_submission(&g.access, &g.ctx.principal, &id, instance, &f.body)
        .await?;
    Ok(see_other(&record_url(&g.access, &id, instance)))
}

/// A form's page.
fn form_page_url(access: &baraza_core::ProjectAccess, form: &str) -> String {
    format!(
        "{}/forms/{form}",
        project_url(&access.org.slug, &access.project.slug)
    )
}

fn record_url(access: &baraza_core::ProjectAccess, form: &str, instance: &str) -> String {
    format!(
        "{}/submissions/{}",
        form_page_url(access, form),
        crate::middleware::url_encode(instance)
    )
}

// ----- app users ------------------------------------------------------------------------------

#[derive(Serialize)]
struct AppUserView {
    id: i64,
    name: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct AppUsersData {
    project: ProjectView,
    app_users: Vec<AppUserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_token: Option<NewToken>,
}

#[derive(Serialize)]
struct NewToken {
    name: String,
    token: String,
    server_url: String,
    #[serde(skip)]
    qr_svg: String,
}

/// The URL people reach this server by: the configured public URL, or the request's host.
pub fn base_url(ctx: &Ctx, headers: &HeaderMap) -> String {
    if let Some(u) = &ctx.state.settings.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

/// ODK Collect's settings QR code: JSON, zlib-compressed, base64 — as ODK Central makes it.
fn collect_qr(server_url: &str, project_name: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let settings = serde_json::json!({
        "general": { "server_url": server_url, "form_update_mode": "match_exactly", "autosend": "wifi_and_cellular" },
        "admin": {},
        "project": { "name": project_name },
    });
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = z.write_all(settings.to_string().as_bytes());
    let payload = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap_or_default());
    match qrcode::QrCode::new(payload.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

fn app_users_markup(ctx: &Ctx, data: &AppUsersData) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let p = &data.project;
    let base = format!("{}/app-users", p.url);
    layout(
        &c,
        &format!("{} · {}", c.t("app_users.title"), p.name),
        html! {
            p.muted { a href=(p.url) { (p.name) } " › " a href=(forms_url(p)) { (c.t("forms.title")) } }
            h1 { (c.t("app_users.title")) }
            p { (c.t("app_users.intro")) }
            @if let Some(t) = &data.new_token {
                div.card role="status" {
                    p.notice { (c.tf("app_users.created", &[("name", &t.name)])) }
                    div.qr { (PreEscaped(&t.qr_svg)) }
                    p { (c.t("app_users.server_url")) br; span.secret { (t.server_url) } }
                }
            }
            @if data.app_users.is_empty() {
                p.muted { (c.t("app_users.none")) }
            } @else {
                table.responsive {
                    thead { tr { th scope="col" { (c.t("field.name")) } th scope="col" { (c.t("app_users.since")) } th scope="col" { span.skip { (c.t("people.actions")) } } } }
                    tbody {
                        @for u in &data.app_users {
                            tr {
                                td { (u.name) }
                                td { (u.created.get(..10).unwrap_or("")) }
                                td {
                                    @if u.revoked.is_some() { (c.t("tokens.revoked")) } @else {
                                        form method="post" action={ (base) "/" (u.id) "/revoke" } {
                                            (csrf_field(c.csrf))
                                            button.danger type="submit" { (c.t("tokens.revoke")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (c.t("app_users.create")) }
            form.stack method="post" action=(base) {
                (csrf_field(c.csrf))
                label { (c.t("field.name")) span.hint { (c.t("app_users.name_hint")) } input name="name" required maxlength="200"; }
                button type="submit" { (c.t("app_users.create")) }
            }
        },
    )
}

async fn app_users_data(
    g: &ProjectGuard<ManageAppUsers>,
    new_token: Option<NewToken>,
) -> WebResult<AppUsersData> {
    let users = g.ctx.state.core.app_users(&g.access).await?;
    Ok(AppUsersData {
        project: ProjectView::from_access(&g.access),
        app_users: users
            .iter()
            .map(|u| AppUserView {
                id: u.id,
                name: u.name.clone(),
                created: iso(u.created_at),
                revoked: u.revoked_at.map(iso),
            })
            .collect(),
        new_token,
    })
}

/// `GET /orgs/{org}/projects/{project}/app-users`.
pub async fn app_users_page(g: ProjectGuard<ManageAppUsers>) -> WebResult<Response> {
    let data = app_users_data(&g, None).await?;
    Ok(respond(&g.ctx, &data, || app_users_markup(&g.ctx, &data)))
}

#[derive(Deserialize)]
pub struct AppUserForm {
    name: String,
}

/// `POST /orgs/{org}/projects/{project}/app-users`: a new app user, its token and QR code shown once.
pub async fn create_app_user(
    g: ProjectGuard<ManageAppUsers>,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<AppUserForm>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let (user, token) = ctx
        .state
        .core
        .create_app_user(&g.access, &ctx.principal, &f.name)
        .await?;
    let server_url = format!(
        "{}/v1/key/{token}/projects/{}",
        base_url(ctx, &headers),
        g.access.project.id.0
    );
    let qr_svg = collect_qr(&server_url, &g.access.project.name);
    let data = app_users_data(
        &g,
        Some(NewToken {
            name: user.name,
            token,
            server_url,
            qr_svg,
        }),
    )
    .await?;
    let mut res = respond(ctx, &data, || app_users_markup(ctx, &data));
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `POST /orgs/{org}/projects/{project}/app-users/{id}/revoke`.
pub async fn revoke_app_user(
    g: ProjectGuard<ManageAppUsers>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let id: i64 = params
        .get("id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(WebError::not_found)?;
    g.ctx.state.core.revoke_app_user(&g.access, id).await?;
    Ok(see_other(&format!(
        "{}/app-users",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn qr_codes_are_svg() {
        let svg = super::collect_qr("https://baraza.example/v1/key/abc/projects/1", "Eau");
        assert!(
            svg.starts_with("<?xml") || svg.starts_with("<svg"),
            "{}",
            &svg[..40.min(svg.len())]
        );
    }
}
