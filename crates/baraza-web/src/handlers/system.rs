//! System pages under `/-/`, static assets, and the answers for unknown routes and methods.

use crate::error::WebError;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_types::ErrorCode;

/// `GET /-/health`: 200 when the database answers, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> Response {
    let store = state.core.store();
    let db_ok = store.ping().await.is_ok();
    let body = serde_json::json!({
        "ok": db_ok,
        "status": if db_ok { "ok" } else { "degraded" },
        "version": state.settings.version,
        "database": { "backend": store.backend().as_str(), "ok": db_ok },
    });
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The edge renders error statuses; this one has already said what it means.
    res.extensions_mut().insert(crate::middleware::Rendered);
    res
}

/// `GET /-/version`.
pub async fn version(State(state): State<AppState>) -> Response {
    axum::Json(serde_json::json!({
        "name": "baraza",
        "version": state.settings.version,
        "database": state.core.store().backend().as_str(),
    }))
    .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/baraza.css"),
    )
}

/// The web form's optional script (the form works without it).
pub async fn fill_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/fill.js"),
    )
}

pub async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("../../assets/favicon.svg"))
}

pub async fn not_found() -> WebError {
    WebError::code(ErrorCode::NotFound)
}

pub async fn method_not_allowed() -> WebError {
    WebError::code(ErrorCode::MethodNotAllowed)
}
