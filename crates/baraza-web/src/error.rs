//! Errors at the web edge: one envelope for JSON, one page for HTML, in the user's language.
//!
//! Handlers return [`WebError`], which becomes a bare response carrying an [`ErrorInfo`]
//! extension. The `render_errors` middleware (in `middleware.rs`) turns it into the HTML page or
//! the JSON envelope, depending on the request. Errors raised below our handlers (the router's
//! 404 and 405, the body limit's 413, a timeout) carry no `ErrorInfo`; the middleware derives one
//! from their status, so every error looks the same to the client:
//!
//! ```json
//! {"ok": false, "error": {"code": "not_found", "message": "…"}, "status": 404, "request_id": "…"}
//! ```
//!
//! A 5xx is logged with its cause; the client sees only the code, a generic message and the
//! request id, never the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baraza_core::CoreError;
use baraza_types::{ErrorCode, ErrorKind};

/// What the renderer needs to explain an error.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    /// Values for the message's `{placeholders}`.
    pub args: Vec<(&'static str, String)>,
    /// A catalogue key for a more precise explanation, shown after the message.
    pub detail_key: Option<String>,
    /// Seconds after which a retry may succeed (sent as `Retry-After`).
    pub retry_after: Option<i64>,
    /// A `WWW-Authenticate` challenge for a 401 (HTTP Basic on OpenRosa endpoints).
    pub challenge: Option<&'static str>,
    /// Further `WWW-Authenticate` challenges, each sent as a header of its own after
    /// `challenge` (Digest, whose nonce changes).
    pub extra_challenges: Vec<String>,
}

impl ErrorInfo {
    pub fn new(code: ErrorCode) -> Self {
        ErrorInfo {
            code,
            args: Vec::new(),
            detail_key: None,
            retry_after: None,
            challenge: None,
            extra_challenges: Vec::new(),
        }
    }
}

/// An error returned by a handler.
#[derive(Debug)]
pub struct WebError(pub ErrorInfo);

impl WebError {
    pub fn code(code: ErrorCode) -> Self {
        WebError(ErrorInfo::new(code))
    }

    pub fn with_detail(mut self, key: impl Into<String>) -> Self {
        self.0.detail_key = Some(key.into());
        self
    }

    pub fn not_found() -> Self {
        WebError::code(ErrorCode::NotFound)
    }
}

impl From<ErrorCode> for WebError {
    fn from(code: ErrorCode) -> Self {
        WebError::code(code)
    }
}

impl From<CoreError> for WebError {
    fn from(e: CoreError) -> Self {
        let code = e.code();
        if code.kind() == ErrorKind::Internal {
            // The span carries the request id; the client gets only the id.
            tracing::error!(error = %e, code = code.as_str(), "request failed");
        }
        let mut info = ErrorInfo::new(code);
        match &e {
            CoreError::TooManyAttempts { retry_after_secs }
            | CoreError::RateLimited { retry_after_secs }
            | CoreError::PostingTooFast { retry_after_secs } => {
                let minutes = (retry_after_secs + 59) / 60;
                info.args.push(("minutes", minutes.to_string()));
                info.retry_after = Some(*retry_after_secs);
            }
            CoreError::WeakPassword { min } => info.args.push(("min", min.to_string())),
            CoreError::Invalid { field, reason } => {
                info.args.push(("field", (*field).to_owned()));
                info.detail_key = Some(format!("invalid.{reason}"));
            }
            CoreError::InvalidSlug { slug, reason } => {
                info.args.push(("slug", slug.clone()));
                info.detail_key = Some(format!("invalid.{reason}"));
            }
            CoreError::SlugTaken { slug } => info.args.push(("slug", slug.clone())),
            CoreError::CensusInUse { field, code } => {
                info.args.push(("field", (*field).to_owned()));
                info.args.push(("code", code.clone()));
                info.detail_key = Some(format!("invalid.census_{field}_in_use"));
            }
            CoreError::ReleaseRefused { problem } => {
                let (key, args) = crate::handlers::releases::problem_text(problem);
                info.detail_key = Some(key);
                info.args.extend(args);
            }
            CoreError::IndicatorInvalid { problems } => {
                info.args.push(("problems", problems.join(" · ")));
            }
            CoreError::SearchInvalid { problem } => {
                info.args.push(("problem", problem.clone()));
            }
            CoreError::TableQuery { param, problem } => {
                info.args.push(("param", param.clone()));
                info.args.push(("problem", problem.clone()));
            }
            CoreError::TableTooLarge { what } => info.args.push(("what", what.clone())),
            CoreError::TableUnreadable { problem } => {
                info.args.push(("problem", problem.clone()));
            }
            CoreError::WebhookRefused { reason } => info.args.push(("reason", reason.clone())),
            CoreError::WebhookInvalid { detail } => info.args.push(("detail", detail.clone())),
            CoreError::ReportTransition { from, to } => {
                info.args.push(("from", (*from).to_owned()));
                info.args.push(("to", (*to).to_owned()));
            }
            CoreError::NotFound { what } => {
                info.detail_key = Some(format!("not_found.{what}"));
            }
            _ => {}
        }
        WebError(info)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        res.extensions_mut().insert(self.0);
        res
    }
}

pub type WebResult<T> = Result<T, WebError>;
