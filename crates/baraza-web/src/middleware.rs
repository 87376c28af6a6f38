//! The layers every request passes through, outermost first:
//!
//! 1. [`trace`]: a request id, a tracing span that puts it on every log line, one access-log line
//!    per request, and the `X-Request-Id` response header.
//! 2. [`security_headers`]: CSP without inline script, no sniffing, no framing, no referrer leaks.
//! 3. gzip compression (tower-http), for 2G connections.
//! 4. [`edge`]: language, format (`.json` twins: the suffix is stripped before routing), the
//!    anonymous CSRF cookie; then, on the way out, every error rendered as a page or an envelope.
//! 5. a timeout (tower-http). Bodies are limited where they are read (`ctx.rs`).

use crate::ctx::{cookie, Format, ReqInfo, CSRF_COOKIE, LANG_COOKIE};
use crate::error::ErrorInfo;
use crate::i18n::Lang;
use crate::{pages, AppState};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baraza_types::{ErrorCode, ErrorKind};
use rand::RngCore;
use tracing::Instrument;

/// A short random id for a request, shown on error pages and in logs.
pub fn new_request_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn trace(mut req: Request, next: Next) -> Response {
    let id = new_request_id();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = std::time::Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    let micros = started.elapsed().as_micros() as u64;
    let status = res.status().as_u16();
    span.in_scope(|| {
        if status >= 500 && status != 501 {
            tracing::error!(status, micros, "request");
        } else {
            tracing::info!(status, micros, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The same policy for the pages other sites may put in an `<iframe>` (an indicator's embed).
pub const CSP_EMBED: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors *; base-uri 'none'";

/// Marks a response that other sites may frame.
#[derive(Clone, Copy, Debug)]
pub struct Embeddable;

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let embeddable = res.extensions().get::<Embeddable>().is_some();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if embeddable { CSP_EMBED } else { CSP }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !embeddable {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// The language of a request: the switch's cookie, then `Accept-Language`, then the default.
fn pick_lang(req: &Request, default: Lang) -> Lang {
    cookie(req.headers(), LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|h| h.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(default)
}

fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
        || req.uri().path().starts_with("/v1/")
        // SMS gateways' webhooks: machines, which log what they are answered.
        || req.uri().path().starts_with("/hooks/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// Strips a `.json` suffix from the last path segment, keeping the query.
fn strip_json(uri: &Uri) -> Option<Uri> {
    strip_suffix(uri, ".json")
}

/// Strips a `.json` or `.csv` twin suffix from the last path segment, keeping the query.
fn strip_suffix(uri: &Uri, suffix: &str) -> Option<Uri> {
    let path = uri.path();
    let stem = path.strip_suffix(suffix)?;
    if path.starts_with("/-/static/") || path.starts_with("/api/") || path.starts_with("/v1/") {
        return None;
    }
    // `/index.json` is the home page's twin.
    let stem = if stem == "/index" || stem.is_empty() {
        "/"
    } else {
        stem
    };
    let pq = match uri.query() {
        Some(q) => format!("{stem}?{q}"),
        None => stem.to_owned(),
    };
    pq.parse().ok()
}

pub fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    // Invariant: names and values are our own ASCII (random base64url, language codes).
    HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""))
}

pub async fn edge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(new_request_id);
    let lang = pick_lang(&req, state.settings.default_lang);
    let original_path = req.uri().path().to_owned();
    let mut format = if wants_json(&req) {
        Format::Json
    } else {
        Format::Html
    };
    if let Some(uri) = strip_json(req.uri()) {
        *req.uri_mut() = uri;
        format = Format::Json;
    } else if let Some(uri) = strip_suffix(req.uri(), ".csv") {
        *req.uri_mut() = uri;
        format = Format::Csv;
    }
    let existing_csrf = cookie(req.headers(), CSRF_COOKIE)
        .filter(|c| c.len() >= 32 && c.len() <= 64)
        .map(str::to_owned);
    let new_csrf = existing_csrf.is_none().then(new_csrf_token);
    let method = req.method().clone();
    let openrosa = req.uri().path().starts_with("/v1/")
        && req.headers().contains_key("x-openrosa-version")
        && !req
            .headers()
            .get(header::ACCEPT)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
    let info = ReqInfo {
        request_id: request_id.clone(),
        lang,
        format,
        original_path,
        pre_csrf: existing_csrf
            .or_else(|| new_csrf.clone())
            .unwrap_or_default(),
        method: method.clone(),
        openrosa,
    };
    req.extensions_mut().insert(info.clone());

    let mut res = next.run(req).await;

    if res.status().is_client_error() || res.status().is_server_error() {
        res = render_error(&state, &info, res);
    }
    if let Some(token) = new_csrf {
        let is_html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html"));
        if is_html {
            res.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(CSRF_COOKIE, &token, None, state.settings.secure_cookies),
            );
        }
    }
    res
}

fn new_csrf_token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Turns an error response into the page or envelope the client expects.
fn render_error(state: &AppState, info: &ReqInfo, res: Response) -> Response {
    // A handler may have rendered its own error page (a form shown again with its error).
    if res.extensions().get::<Rendered>().is_some() {
        return res;
    }
    let status = res.status();
    let err = res
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo::new(ErrorCode::from_http_status(status.as_u16())));
    let i18n = &state.i18n;
    let lang = info.lang;
    let args: Vec<(&str, &str)> = err.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut message = i18n.tf(lang, &format!("error.{}", err.code.as_str()), &args);
    if let Some(detail) = &err.detail_key {
        let extra = match detail.strip_prefix("raw:") {
            // Parser messages (serde) are technical English; they help API clients only.
            Some(raw) if info.format != Format::Html => raw.to_owned(),
            Some(_) => String::new(),
            None => i18n.tf(lang, detail, &args),
        };
        if !extra.is_empty() && extra != *detail {
            message = format!("{message} ({extra})");
        }
    }
    let mut out = if info.openrosa {
        // ODK Collect shows the message of an OpenRosaResponse, and nothing of a JSON body.
        let mut r = (status, baraza_openrosa::openrosa_error(&message)).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        h.insert("x-openrosa-version", HeaderValue::from_static("1.0"));
        h.insert("x-error-code", HeaderValue::from_static(err.code.as_str()));
        if err.code.kind() == ErrorKind::Internal {
            if let Ok(v) = HeaderValue::from_str(&info.request_id) {
                h.insert("x-request-id", v);
            }
        }
        r
    } else if info.format != Format::Html {
        let mut body = serde_json::json!({
            "ok": false,
            "error": { "code": err.code.as_str(), "message": message },
            "status": status.as_u16(),
        });
        if err.code.kind() == ErrorKind::Internal {
            body["request_id"] = info.request_id.clone().into();
        }
        (status, axum::Json(body)).into_response()
    } else if err.code == ErrorCode::Unauthenticated && info.method == Method::GET {
        // A person following a link to a members-only page: sign in, then come back.
        let next = url_encode(&info.original_path);
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&format!("/login?next={next}")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    } else {
        let markup = pages::error_page(state, info, status.as_u16(), err.code, &message);
        (status, markup).into_response()
    };
    if let Some(c) = err.challenge {
        out.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
    for c in &err.extra_challenges {
        if let Ok(v) = HeaderValue::from_str(c) {
            out.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    if let Some(secs) = err.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            out.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    // Keep headers set by the inner layers that matter to the client.
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// Marks a response whose error page a handler rendered itself.
#[derive(Clone, Copy, Debug)]
pub struct Rendered;

pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn json_suffix() {
        let cases = [
            ("/orgs.json", Some("/orgs")),
            ("/orgs/eau-tchad.json?x=1", Some("/orgs/eau-tchad?x=1")),
            ("/index.json", Some("/")),
            ("/.json", Some("/")),
            ("/orgs", None),
            ("/-/static/x.json", None),
            ("/api/v1/me.json", None),
        ];
        for (input, want) in cases {
            let uri: Uri = input.parse().unwrap();
            assert_eq!(
                strip_json(&uri).map(|u| u.to_string()),
                want.map(str::to_owned),
                "{input}"
            );
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(url_encode("/orgs/a b?c=d"), "/orgs/a%20b%3Fc%3Dd");
    }

    proptest! {
        #[test]
        fn strip_json_never_panics(path in "/[a-zA-Z0-9._~%/-]{0,80}") {
            if let Ok(uri) = path.parse::<Uri>() {
                if let Some(u) = strip_json(&uri) {
                    prop_assert!(u.path().starts_with('/'));
                    prop_assert!(u.path().len() < uri.path().len());
                }
            }
        }
    }
}
