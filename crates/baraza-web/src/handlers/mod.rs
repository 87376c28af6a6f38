//! Thin handlers: extract (the guard checks access), call `baraza-core`, render a page or its
//! `.json` twin.

pub mod account;
pub mod admin;
pub mod api;
pub mod audit;
pub mod catalogue;
pub mod census;
pub mod central;
pub mod ckan;
pub mod dataset_versions;
pub mod encryption;
pub mod exports;
pub mod fill;
pub mod forms;
pub mod harvest;
pub mod iati;
pub mod import;
pub mod indicators;
pub mod learn;
pub mod listing;
pub mod openrosa;
pub mod orgs;
pub mod records;
pub mod registers;
pub mod releases;
pub mod reports;
pub mod reuses;
pub mod subjects;
pub mod system;
pub mod table;
mod views;

use crate::ctx::{Ctx, Format};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;
use serde::Serialize;

/// A page and its `.json` twin: the same data, rendered as the request asks.
pub(crate) fn respond<D: Serialize>(
    ctx: &Ctx,
    data: &D,
    html: impl FnOnce() -> Markup,
) -> Response {
    match ctx.format() {
        Format::Json => axum::Json(data).into_response(),
        // Only tabular pages have a `.csv` twin; they answer it themselves.
        Format::Csv => crate::error::WebError::not_found().into_response(),
        Format::Html => {
            let mut res = html().into_response();
            // Pages can hold personal data and CSRF tokens: never cache them in shared caches.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            res
        }
    }
}

/// After a successful POST: back to a page (303, so a reload does not post again).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form page shown again with its error, at the error's status. The edge middleware leaves it
/// as it is.
pub(crate) fn form_again(status: StatusCode, markup: Markup) -> Response {
    let mut res = (status, markup).into_response();
    res.extensions_mut().insert(crate::middleware::Rendered);
    res
}
