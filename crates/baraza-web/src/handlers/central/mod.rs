//! ODK Central's REST API, the subset that pyodk uses:
//! `POST /v1/sessions`, the current user, projects, forms and their versions, submissions (list,
//! one, its XML, its attachments, create from XML) and the OData feed (`odata.rs`).
//!
//! JSON is shaped as Central's: camelCase names (`xmlFormId`, `instanceId`, `createdAt`…),
//! times as `2026-09-21T14:13:20.000Z`. Where Baraza differs it says so in docs/api.md:
//! Baraza's draft forms are `closed` (with `publishedAt` null if never published), app users
//! have negative actor ids, and the order of submissions is newest first by arrival.
//!
//! Credentials come from the `Authorization` header only (`auth.rs`).

pub mod auth;
pub mod odata;

use crate::ctx::{self, CsrfForm, SessionUser};
use crate::error::{WebError, WebResult};
use crate::handlers::see_other;
use auth::{Account, ApiUser, CollectAccount, NoCredentials, Scheme};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_core::central::{CentralForm, FeedSubmission};
use baraza_core::forms::Ingested;
use baraza_core::CoreError;
use baraza_odata::time::iso_ms;
use baraza_store::{FormState, FormVersionRow, Project};
use baraza_types::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The largest submission XML accepted by `POST …/forms/{id}/submissions`.
pub const MAX_REST_SUBMISSION_BYTES: usize = 10 * 1024 * 1024;

pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut res = (status, axum::Json(v)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn ok(v: Value) -> WebResult<Response> {
    Ok(json_response(StatusCode::OK, &v))
}

fn iso_opt(t: Option<i64>) -> Value {
    t.map(iso_ms).map(Value::from).unwrap_or(Value::Null)
}

pub(crate) fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id.0,
        "name": p.name,
        "description": p.description,
        "keyId": null,
        "archived": false,
        "createdAt": iso_ms(p.created_at),
        "updatedAt": null,
        "deletedAt": null,
    })
}

/// Central's form states: Baraza's published forms are `open`; closed and draft forms (neither
/// served to ODK Collect nor accepting submissions) are `closed`.
fn central_state(s: FormState) -> &'static str {
    match s {
        FormState::Published => "open",
        FormState::Closed | FormState::Draft => "closed",
    }
}

fn md5_hex(openrosa_hash: &str) -> &str {
    openrosa_hash.strip_prefix("md5:").unwrap_or(openrosa_hash)
}

fn form_json(f: &CentralForm, extended: bool) -> Value {
    let mut v = json!({
        "projectId": f.form.project_id.0,
        "xmlFormId": f.form.xml_form_id,
        "name": f.version.title,
        "version": f.version.version,
        "enketoId": null,
        "enketoOnceId": null,
        "hash": md5_hex(&f.version.xform_md5),
        "keyId": null,
        "state": central_state(f.form.state),
        "publishedAt": iso_opt(f.published_at),
        "createdAt": iso_ms(f.form.created_at),
        "updatedAt": iso_ms(f.form.updated_at),
        "webformsEnabled": false,
    });
    if extended {
        v["submissions"] = f.submissions.into();
    }
    v
}

fn version_json(f: &CentralForm, v: &FormVersionRow) -> Value {
    let current = f.form.current_version_id == Some(v.id);
    json!({
        "projectId": f.form.project_id.0,
        "xmlFormId": f.form.xml_form_id,
        "name": v.title,
        "version": v.version,
        "enketoId": null,
        "hash": md5_hex(&v.xform_md5),
        "keyId": null,
        "state": central_state(f.form.state),
        "publishedAt": if current { iso_opt(f.published_at) } else { Value::Null },
        "createdAt": iso_ms(v.created_at),
        "updatedAt": null,
    })
}

pub(crate) fn submission_json(s: &FeedSubmission) -> Value {
    let r = &s.row;
    json!({
        "instanceId": r.root_instance_id,
        "submitterId": r.submitter_id,
        "deviceId": null,
        "userAgent": null,
        "reviewState": r.review_state,
        "createdAt": iso_ms(r.created_at),
        "updatedAt": iso_opt(r.updated_at),
        "currentVersion": {
            "instanceId": r.instance_id,
            "instanceName": s.instance_name(),
            "submitterId": r.submitter_id,
            "deviceId": null,
            "userAgent": null,
            "createdAt": iso_ms(r.received_at),
            "current": true,
        },
    })
}

fn extended(headers: &HeaderMap) -> bool {
    headers
        .get("x-extended-metadata")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn param<'a>(params: &'a HashMap<String, String>, key: &str) -> WebResult<&'a str> {
    params
        .get(key)
        .map(String::as_str)
        .ok_or_else(WebError::not_found)
}

#[derive(Deserialize)]
struct SessionBody {
    email: String,
    password: String,
}

/// `POST /v1/sessions`: `{email, password}` → `{token, csrf, expiresAt, createdAt}`.
pub async fn create_session(
    NoCredentials { ctx }: NoCredentials,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult<Response> {
    ctx::check_origin(&headers)?;
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if !json_body {
        return Err(ErrorCode::UnsupportedMediaType.into());
    }
    let b: SessionBody = serde_json::from_slice(&body)
        .map_err(|e| WebError::code(ErrorCode::InvalidJson).with_detail(format!("raw:{e}")))?;
    let s = ctx
        .state
        .core
        .open_api_session(&b.email, &b.password, &ctx.client)
        .await?;
    ok(json!({
        "createdAt": iso_ms(s.session.created_at),
        "expiresAt": iso_ms(s.session.expires_at),
        "token": s.secret,
        "csrf": s.session.csrf_token,
    }))
}

/// `DELETE /v1/sessions/{token}` (or `current`): signs the session out.
pub async fn delete_session(
    ApiUser { ctx }: ApiUser,
    Path(token): Path<String>,
) -> WebResult<Response> {
    ctx.state
        .core
        .end_api_session(&ctx.principal, &token)
        .await?;
    ok(json!({ "success": true }))
}

/// `GET /v1/users/current`.
pub async fn current_user(ApiUser { ctx }: ApiUser) -> WebResult<Response> {
    let u = ctx.principal.require_user().map_err(WebError::from)?;
    ok(json!({
        "id": u.id.0,
        "type": "user",
        "displayName": u.name,
        "email": u.email,
        "createdAt": iso_ms(u.created_at),
        "updatedAt": null,
        "deletedAt": null,
    }))
}

/// `GET /v1/projects`: the projects in which the caller holds a role.
pub async fn projects(ApiUser { ctx }: ApiUser) -> WebResult<Response> {
    let list = ctx.state.core.member_projects(&ctx.principal).await?;
    ok(Value::Array(
        list.iter().map(|p| project_json(&p.project)).collect(),
    ))
}

/// `GET /v1/projects/{pid}`.
pub async fn project(g: Account<ctx::ViewProject>) -> WebResult<Response> {
    ok(project_json(&g.access.project))
}

/// `GET /v1/projects/{pid}/forms`.
pub async fn forms(g: Account<ctx::ViewForms>, headers: HeaderMap) -> WebResult<Response> {
    let ext = extended(&headers);
    let list = g.ctx.state.core.central_forms(&g.access).await?;
    ok(Value::Array(
        list.iter().map(|f| form_json(f, ext)).collect(),
    ))
}

/// `GET /v1/projects/{pid}/forms/{form}`: the form (JSON), its XForm (`{form}.xml`, for ODK
/// Collect as for pyodk) or its OData service document (`{form}.svc`).
pub async fn form(
    g: CollectAccount<ctx::ViewForms>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let raw = param(&params, "form")?;
    if let Some(id) = raw.strip_suffix(".xml") {
        let (_, version) = g.ctx.state.core.open_form(g.access.project.id, id).await?;
        return Ok(super::openrosa::xml_response(StatusCode::OK, version.xform));
    }
    if g.scheme == Scheme::Digest {
        // Digest credentials open the OpenRosa endpoints only.
        let mut e = WebError::code(ErrorCode::Unauthenticated);
        e.0.challenge = Some("Basic realm=\"Baraza\", charset=\"UTF-8\"");
        return Err(e);
    }
    if let Some(id) = raw.strip_suffix(".svc") {
        return odata::service_document(&g.ctx, &g.access, id, &headers).await;
    }
    let f = g.ctx.state.core.central_form(&g.access, raw).await?;
    ok(form_json(&f, extended(&headers)))
}

/// `GET /v1/projects/{pid}/forms/{form}/versions`.
pub async fn form_versions(
    g: Account<ctx::ViewForms>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let (f, versions) = g
        .ctx
        .state
        .core
        .central_form_versions(&g.access, param(&params, "form")?)
        .await?;
    ok(Value::Array(
        versions.iter().map(|v| version_json(&f, v)).collect(),
    ))
}

/// `GET /v1/projects/{pid}/forms/{form}/submissions`: every current submission, newest first,
/// streamed.
pub async fn submissions(
    g: Account<ctx::ViewData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let form = g
        .ctx
        .state
        .core
        .data_form(&g.access, param(&params, "form")?)
        .await?;
    Ok(odata::rest_list(&g.ctx, g.access, form))
}

/// `GET /v1/projects/{pid}/forms/{form}/submissions/{instance}`: one submission (JSON), or the
/// XML of its current version (`{instance}.xml`).
pub async fn submission(
    g: Account<ctx::ViewData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let core = &g.ctx.state.core;
    let form = core.data_form(&g.access, param(&params, "form")?).await?;
    let raw = param(&params, "instance")?;
    if let Some(id) = raw.strip_suffix(".xml") {
        let xml = core.feed_submission_xml(&g.access, &form, id).await?;
        let mut res = (StatusCode::OK, xml).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
        return Ok(res);
    }
    let sub = core.feed_submission(&g.access, &form, raw).await?;
    ok(submission_json(&sub))
}

/// `GET /v1/projects/{pid}/forms/{form}/submissions/{instance}/attachments`.
pub async fn submission_attachments(
    g: Account<ctx::ViewData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let core = &g.ctx.state.core;
    let form = core.data_form(&g.access, param(&params, "form")?).await?;
    let list = core
        .feed_attachments(&g.access, &form, param(&params, "instance")?)
        .await?;
    ok(Value::Array(
        list.into_iter()
            .map(|(name, exists)| json!({ "name": name, "exists": exists }))
            .collect(),
    ))
}

/// `GET /v1/projects/{pid}/forms/{form}/submissions/{instance}/attachments/{name}`: one file of
/// a submission's current version (pyodk's `client.submissions.get_attachment`… and Central's
/// own route), opened from its sealed blob. Served as a download, never rendered by the
/// browser: the bytes are whatever the sender sent.
pub async fn submission_attachment(
    g: Account<ctx::ViewData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let core = &g.ctx.state.core;
    let form = core.data_form(&g.access, param(&params, "form")?).await?;
    let name = param(&params, "name")?;
    let bytes = core
        .feed_attachment(&g.access, &form, param(&params, "instance")?, name)
        .await?;
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(name)),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The name passed `safe_attachment_name` when the submission was stored: no quote, no
    // slash, no control character.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The media type of an attachment, by its extension (as ODK Collect names files); anything
/// else is a plain download.
fn media_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "amr" => "audio/amr",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        "webm" => "video/webm",
        "pdf" => "application/pdf",
        "csv" => "text/csv",
        "geojson" => "application/geo+json",
        _ => "application/octet-stream",
    }
}

/// `POST /v1/projects/{pid}/forms/{form}/submissions`: a submission's XML as the body (pyodk's
/// `client.submissions.create`). 200 with the submission; the same instanceID again is a 409
/// (`submission_exists` when the bytes are the same, `submission_conflict` when they differ),
/// as in ODK Central.
pub async fn create_submission(
    g: Account<ctx::SubmitData>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> WebResult<Response> {
    let id = param(&params, "form")?;
    let outcome = g
        .ctx
        .state
        .core
        .create_submission(&g.access, &g.ctx.principal, id, &body)
        .await;
    match outcome {
        Ok((Ingested::Created, Some(sub))) => ok(submission_json(&sub)),
        Ok(_) => Err(ErrorCode::SubmissionExists.into()),
        Err(CoreError::SubmissionInvalid { code, detail }) => {
            Err(WebError::code(ErrorCode::SubmissionInvalid)
                .with_detail(format!("raw:{code}: {detail}")))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DigestForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/digest`: allow (`action=enable`, with `password`) or withdraw
/// (`action=disable`) Digest sign-in for older ODK Collect.
pub async fn set_digest(
    SessionUser { ctx }: SessionUser,
    CsrfForm(f): CsrfForm<DigestForm>,
) -> WebResult<Response> {
    let core = &ctx.state.core;
    match f.action.as_str() {
        "enable" => {
            let result = core
                .enable_digest(&ctx.principal, &f.password, &ctx.client)
                .await;
            match result {
                Ok(()) => Ok(see_other("/account?done=digest_on#digest")),
                Err(e) => {
                    super::account::account_error(
                        &ctx,
                        e.into(),
                        super::account::AccountForm::Digest,
                    )
                    .await
                }
            }
        }
        "disable" => {
            core.disable_digest(&ctx.principal).await?;
            Ok(see_other("/account?done=digest_off#digest"))
        }
        _ => Err(WebError::code(ErrorCode::InvalidForm)
            .with_detail("raw:action must be enable or disable")),
    }
}

/// The account page's section about Digest sign-in.
pub(crate) fn digest_section(
    c: &crate::pages::Chrome<'_>,
    enabled: bool,
    error: Option<&str>,
) -> maud::Markup {
    maud::html! {
        h2 #digest { (c.t("digest.title")) }
        p.muted { (c.t("digest.explain")) }
        (crate::pages::form_error(error))
        @if enabled {
            p { strong { (c.t("digest.enabled")) } }
            form.stack method="post" action="/account/digest" {
                (crate::pages::csrf_field(c.csrf))
                input type="hidden" name="action" value="disable";
                button type="submit" { (c.t("digest.disable")) }
            }
        } @else {
            p { (c.t("digest.disabled")) }
            form.stack method="post" action="/account/digest" {
                (crate::pages::csrf_field(c.csrf))
                input type="hidden" name="action" value="enable";
                label { (c.t("digest.password")) input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { (c.t("digest.enable")) }
            }
        }
    }
}
