//! OpenRosa, the way ODK Central speaks it, so that ODK Collect and KoboCollect connect with the
//! QR code of an app user: `/v1/key/{token}/projects/{pid}/formList`, `…/forms/{id}.xml`,
//! `…/forms/{id}/manifest`, `HEAD` and `POST …/submission`; and the same under
//! `/v1/projects/{pid}/…` for people signing in with HTTP Basic or Digest credentials (or a
//! bearer token), see `central::auth`.
//!
//! A submission's attachments are streamed to content-addressed blobs as they arrive; the XML
//! part (at most 10 MiB) is kept in memory, to be parsed and stored in the submission's row. Only
//! when every attachment is durable does the core record the submission (its commit shared with
//! the submissions arriving at the same time), and only once that commit returns does the answer
//! say 201.

use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::{FromRequestParts, Multipart, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_core::forms::{IncomingFile, Ingested, Submitter};
use baraza_core::CoreError;
use baraza_store::{BlobError, Project};
use baraza_types::{ErrorCode, Permission, ProjectId};
use std::collections::HashMap;

/// The largest submission request accepted (XML and attachments together).
pub const MAX_SUBMISSION_BYTES: usize = 100 * 1024 * 1024;
/// The largest submission XML part.
const MAX_XML_BYTES: usize = 10 * 1024 * 1024;
/// The multipart field with which ODK Collect says that more attachments follow in another
/// request (its value is `yes`).
const INCOMPLETE_FIELD: &str = "*isIncomplete*";

/// Who is speaking OpenRosa: an app user, by the token in the path
/// (`/v1/key/{token}/projects/{pid}/…`), or a person with HTTP Basic credentials
/// (`/v1/projects/{pid}/…`), in the project of the path.
pub struct Caller {
    pub ctx: Ctx,
    pub project: Project,
    pub submitter: Submitter,
    /// Whether this caller may submit (app users always; people from the collector role up).
    pub can_submit: bool,
    /// The path prefix of this caller's OpenRosa URLs.
    pub prefix: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::not_found())?;
        let pid: i64 = params
            .get("pid")
            .and_then(|p| p.parse().ok())
            .ok_or_else(WebError::not_found)?;
        if let Some(token) = params.get("token") {
            let ctx = Ctx::from_request_parts(parts, state).await?;
            let (app_user, project) = state
                .core
                .app_user_in_project(token, ProjectId(pid))
                .await?;
            return Ok(Caller {
                ctx,
                project,
                submitter: Submitter::AppUser(app_user.id),
                can_submit: true,
                prefix: format!("/v1/key/{token}/projects/{pid}"),
            });
        }
        // People: Basic or Digest credentials (or a bearer token), see `central::auth`.
        let (ctx, access, _) =
            super::central::auth::account_access(parts, state, true, Permission::ViewForms).await?;
        let user = ctx
            .principal
            .user()
            .map(|u| u.id)
            .ok_or_else(|| WebError::code(ErrorCode::Unauthenticated))?;
        Ok(Caller {
            can_submit: access.can(Permission::SubmitData),
            project: access.project,
            ctx,
            submitter: Submitter::User(user),
            prefix: format!("/v1/projects/{pid}"),
        })
    }
}

/// A [`Caller`] who may submit (app users, and people from the collector role up), checked
/// before the body is read.
pub struct SubmittingCaller(pub Caller);

impl FromRequestParts<AppState> for SubmittingCaller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.can_submit {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(SubmittingCaller(caller))
    }
}

fn require_openrosa(headers: &HeaderMap) -> WebResult<()> {
    match headers
        .get("x-openrosa-version")
        .and_then(|h| h.to_str().ok())
    {
        Some(v) if v.trim() == "1.0" => Ok(()),
        _ => Err(ErrorCode::OpenrosaVersionMissing.into()),
    }
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    h.insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    res
}

fn base(g: &Caller, headers: &HeaderMap) -> String {
    format!("{}{}", super::forms::base_url(&g.ctx, headers), g.prefix)
}

/// `GET /v1/key/{token}/projects/{pid}/formList`: the published forms.
pub async fn form_list(g: Caller, headers: HeaderMap) -> WebResult<Response> {
    require_openrosa(&headers)?;
    let base = base(&g, &headers);
    let forms = g.ctx.state.core.open_forms(g.project.id).await?;
    let entries: Vec<baraza_openrosa::FormListEntry> = forms
        .iter()
        .map(|(f, v)| baraza_openrosa::FormListEntry {
            form_id: f.xml_form_id.clone(),
            name: v.title.clone(),
            version: Some(v.version.clone()),
            hash: v.xform_md5.clone(),
            download_url: format!("{base}/forms/{}.xml", f.xml_form_id),
            manifest_url: Some(format!("{base}/forms/{}/manifest", f.xml_form_id)),
        })
        .collect();
    Ok(xml_response(
        StatusCode::OK,
        baraza_openrosa::form_list(&entries),
    ))
}

fn form_id_param(params: &HashMap<String, String>) -> WebResult<String> {
    let raw = params.get("form").ok_or_else(WebError::not_found)?;
    Ok(raw.strip_suffix(".xml").unwrap_or(raw).to_owned())
}

/// `GET /v1/key/{token}/projects/{pid}/forms/{id}.xml`: the XForm.
pub async fn form_xml(
    g: Caller,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let id = form_id_param(&params)?;
    let (_, version) = g.ctx.state.core.open_form(g.project.id, &id).await?;
    Ok(xml_response(StatusCode::OK, version.xform))
}

/// `GET /v1/key/{token}/projects/{pid}/forms/{id}/manifest`: the form's media and CSV files.
pub async fn manifest(
    g: Caller,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    require_openrosa(&headers)?;
    let id = form_id_param(&params)?;
    let base = base(&g, &headers);
    let files: Vec<baraza_openrosa::MediaFile> = g
        .ctx
        .state
        .core
        .open_form_attachments(g.project.id, &id)
        .await?
        .into_iter()
        .map(|a| baraza_openrosa::MediaFile {
            download_url: format!("{base}/forms/{id}/attachments/{}", a.name),
            filename: a.name,
            hash: a.md5,
        })
        .collect();
    Ok(xml_response(
        StatusCode::OK,
        baraza_openrosa::manifest(&files),
    ))
}

/// `GET …/forms/{id}/attachments/{name}`: a file of a published form.
pub async fn attachment(
    g: Caller,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let id = form_id_param(&params)?;
    let name = params.get("name").ok_or_else(WebError::not_found)?;
    let files = g
        .ctx
        .state
        .core
        .open_form_attachments(g.project.id, &id)
        .await?;
    let file = files
        .iter()
        .find(|a| &a.name == name)
        .ok_or_else(WebError::not_found)?;
    let bytes = g
        .ctx
        .state
        .core
        .blobs()
        .read(&file.sha256)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "form attachment unreadable");
            WebError::code(ErrorCode::Unavailable)
        })?;
    let mut res = bytes.into_response();
    res.headers_mut()
        .insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(res)
}

/// `HEAD /v1/key/{token}/projects/{pid}/submission`: how much may be sent at once.
pub async fn submission_head(
    SubmittingCaller(_g): SubmittingCaller,
    headers: HeaderMap,
) -> WebResult<Response> {
    require_openrosa(&headers)?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    h.insert(
        "x-openrosa-accept-content-length",
        HeaderValue::from(MAX_SUBMISSION_BYTES as u64),
    );
    Ok(res)
}

/// A file that could not be received: too large, or the storage failed (logged).
pub(crate) fn blob_error(e: BlobError) -> WebError {
    match e {
        BlobError::TooLarge { .. } => WebError::code(ErrorCode::PayloadTooLarge),
        other => {
            tracing::error!(error = %other, "blob storage failed");
            WebError::code(ErrorCode::Unavailable)
        }
    }
}

fn multipart_err(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::code(ErrorCode::PayloadTooLarge)
    } else {
        WebError::code(ErrorCode::SubmissionInvalid)
            .with_detail(format!("raw:malformed multipart body: {e}"))
    }
}

/// `POST /v1/key/{token}/projects/{pid}/submission`: a submission and its attachments.
pub async fn submission_post(
    SubmittingCaller(g): SubmittingCaller,
    headers: HeaderMap,
    mut mp: Multipart,
) -> WebResult<Response> {
    require_openrosa(&headers)?;
    let core = &g.ctx.state.core;
    let mut xml: Option<Vec<u8>> = None;
    let mut files = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(multipart_err)? {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        if name == INCOMPLETE_FIELD {
            // ODK Collect marks every request of a split upload but the last: the rest of the
            // attachments follow in another request with the same XML, which is then a replay
            // that adds them. Nothing to do but not to take the flag for a file.
            while field.chunk().await.map_err(multipart_err)?.is_some() {}
            continue;
        }
        if name == "xml_submission_file" {
            let mut kept = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
                if kept.len() + chunk.len() > MAX_XML_BYTES {
                    return Err(WebError::code(ErrorCode::PayloadTooLarge));
                }
                kept.extend_from_slice(&chunk);
            }
            xml = Some(kept);
            continue;
        }
        // Sealed as it arrives (encryption at rest): no clear byte reaches the disk.
        let mut writer = core
            .file_writer(MAX_SUBMISSION_BYTES as u64)
            .await
            .map_err(blob_error)?;
        while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
            writer.write(&chunk).await.map_err(blob_error)?;
        }
        let Some(f) = file_name.or(Some(name)).filter(|n| !n.is_empty()) else {
            continue;
        };
        let (blob, key) = writer.finish().await.map_err(blob_error)?;
        files.push(IncomingFile { name: f, blob, key });
    }
    let Some(xml) = xml else {
        return Err(WebError::code(ErrorCode::SubmissionInvalid)
            .with_detail("raw:no xml_submission_file part"));
    };
    let outcome = g
        .ctx
        .state
        .core
        .ingest_submission_via(
            g.project.id,
            g.submitter,
            baraza_core::consent::Channel::OdkCollect,
            None,
            &xml,
            &files,
        )
        .await;
    match outcome {
        Ok(Ingested::Created) => Ok(xml_response(
            StatusCode::CREATED,
            baraza_openrosa::openrosa_response("Form received. Merci !"),
        )),
        Ok(Ingested::Duplicate) => Ok(xml_response(
            StatusCode::CREATED,
            baraza_openrosa::openrosa_response(
                "Already received; any missing attachments were added.",
            ),
        )),
        Err(CoreError::SubmissionInvalid { code, detail }) => {
            // PRIVACY: the detail quotes the refused answer; the phone is told, the log is not.
            tracing::info!(code, "submission refused");
            Err(WebError::code(ErrorCode::SubmissionInvalid)
                .with_detail(format!("raw:{code}: {detail}")))
        }
        Err(CoreError::EncryptedInvalid { detail }) => {
            tracing::info!("encrypted submission refused");
            Err(WebError::code(ErrorCode::EncryptedSubmissionInvalid)
                .with_detail(format!("raw:{detail}")))
        }
        Err(e) => Err(e.into()),
    }
}
