//! What a handler knows about its request, and the extractors that check access.
//!
//! Permissions live in the extractors' types: a handler that takes
//! `ProjectGuard<ManageMembers>` cannot run unless `baraza-core` allowed `ManageMembers` in the
//! project named by the path. Guards run before the body is read, so a refused request costs no
//! parsing and reveals nothing about what the body would have done.

use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use baraza_core::auth::ClientInfo;
use baraza_core::{constant_time_eq, Principal, ProjectAccess, Via};
use baraza_store::{Org, User};
use baraza_types::{ErrorCode, Permission};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "baraza_session";
pub const CSRF_COOKIE: &str = "baraza_csrf";
pub const LANG_COOKIE: &str = "lang";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// How the client wants the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    /// The `.csv` twin of a tabular page.
    Csv,
}

/// Facts about a request established by the edge middleware before routing.
#[derive(Debug, Clone)]
pub struct ReqInfo {
    pub request_id: String,
    pub lang: Lang,
    pub format: Format,
    /// The path as the client sent it (with any `.json`), for links and `next=`.
    pub original_path: String,
    /// The anonymous CSRF token (double-submit cookie), for forms shown before sign-in.
    pub pre_csrf: String,
    pub method: Method,
    /// An OpenRosa client (ODK Collect) that reads errors as an `OpenRosaResponse`: it sends
    /// `X-OpenRosa-Version` and does not ask for JSON.
    pub openrosa: bool,
}

/// Everything a handler needs about who asks and how to answer.
#[derive(Clone)]
pub struct Ctx {
    pub state: AppState,
    pub principal: Principal,
    pub info: ReqInfo,
    pub client: ClientInfo,
}

impl Ctx {
    pub fn lang(&self) -> Lang {
        self.info.lang
    }

    pub fn format(&self) -> Format {
        self.info.format
    }

    /// Text from the catalogue in the request's language.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.state.i18n.t(self.info.lang, key)
    }

    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.state.i18n.tf(self.info.lang, key, args)
    }

    /// The token that forms on this page must carry.
    pub fn csrf_token(&self) -> &str {
        match &self.principal {
            Principal::User {
                via: Via::Session { csrf_token, .. },
                ..
            } => csrf_token,
            _ => &self.info.pre_csrf,
        }
    }

    pub fn user(&self) -> Option<&User> {
        self.principal.user()
    }

    /// Checks the CSRF token a state-changing request presents: it must be this session's (or,
    /// before sign-in, the double-submit cookie's). Bearer tokens are never sent by browsers on
    /// their own, so requests authenticated by one need no CSRF token.
    pub fn check_csrf(&self, presented: &str) -> WebResult<()> {
        if let Principal::User {
            via: Via::Token { .. },
            ..
        } = &self.principal
        {
            return Ok(());
        }
        let expected = self.csrf_token();
        if expected.is_empty() || !constant_time_eq(expected, presented) {
            return Err(ErrorCode::CsrfFailed.into());
        }
        Ok(())
    }
}

/// Parses a `Cookie` header into (name, value) pairs, skipping malformed parts.
pub fn parse_cookies(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|part| {
        let (k, v) = part.split_once('=')?;
        let k = k.trim();
        let v = v.trim().trim_matches('"');
        (!k.is_empty()).then_some((k, v))
    })
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(parse_cookies)
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The bearer token of an `Authorization` header, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

fn client_info(parts: &Parts, behind_proxy: bool) -> ClientInfo {
    let forwarded = behind_proxy
        .then(|| {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.rsplit(',').next())
                .map(|s| s.trim().to_owned())
                .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        })
        .flatten();
    let ip = forwarded.or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
    });
    ClientInfo {
        ip,
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
    }
}

impl<S> FromRequestParts<S> for Ctx
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Ctx> {
        if let Some(ctx) = parts.extensions.get::<Ctx>() {
            return Ok(ctx.clone());
        }
        let state = AppState::from_ref(state);
        let principal = if let Some(token) = bearer(&parts.headers) {
            state.core.token_principal(token).await?
        } else if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            state
                .core
                .session_principal(secret)
                .await?
                .unwrap_or(Principal::Anonymous)
        } else {
            Principal::Anonymous
        };
        Ok(Ctx::for_principal(parts, &state, principal))
    }
}

impl Ctx {
    /// The context of a request whose principal is already known (the API guards establish it
    /// from the `Authorization` header), remembered for the request's other extractors.
    pub(crate) fn for_principal(parts: &mut Parts, state: &AppState, principal: Principal) -> Ctx {
        let info = parts
            .extensions
            .get::<ReqInfo>()
            .cloned()
            // Invariant: the edge middleware inserts ReqInfo before routing; this arm only serves
            // a router used without it, as in unit tests of handlers.
            .unwrap_or_else(|| ReqInfo {
                request_id: "-".into(),
                lang: state.settings.default_lang,
                format: Format::Html,
                original_path: parts.uri.path().to_owned(),
                pre_csrf: String::new(),
                method: parts.method.clone(),
                openrosa: false,
            });
        let ctx = Ctx {
            client: client_info(parts, state.settings.behind_proxy),
            state: state.clone(),
            principal,
            info,
        };
        parts.extensions.insert(ctx.clone());
        ctx
    }
}

macro_rules! principal_guard {
    ($(#[$doc:meta])* $name:ident => $check:ident) => {
        $(#[$doc])*
        pub struct $name {
            pub ctx: Ctx,
        }

        impl<S> FromRequestParts<S> for $name
        where
            AppState: FromRef<S>,
            S: Send + Sync,
        {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
                let ctx = Ctx::from_request_parts(parts, state).await?;
                ctx.principal.$check()?;
                Ok($name { ctx })
            }
        }
    };
}

principal_guard!(
    /// A signed-in person, through a session or a token.
    SignedIn => require_user
);
principal_guard!(
    /// A person signed in through a browser session (API tokens are refused).
    SessionUser => require_session_user
);
principal_guard!(
    /// A site administrator, signed in through a session.
    Admin => require_admin
);

/// An owner of the organisation named `{org}` in the path (or a site administrator).
pub struct OrgOwner {
    pub ctx: Ctx,
    pub org: Org,
}

impl<S> FromRequestParts<S> for OrgOwner
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        ctx.principal.require_session_user()?;
        let params = path_params(parts, state).await?;
        let slug = params.get("org").ok_or_else(WebError::not_found)?;
        let view = ctx.state.core.org_view(&ctx.principal, slug).await?;
        if !view.can_create_project {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(OrgOwner { ctx, org: view.org })
    }
}

async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> WebResult<HashMap<String, String>> {
    Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map(|p| p.0)
        .map_err(|_| WebError::not_found())
}

/// A permission a route needs in its project. See [`ProjectGuard`].
pub trait Need: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! needs {
    ($($name:ident => $perm:ident),* $(,)?) => {$(
        #[doc = concat!("Needs `Permission::", stringify!($perm), "`.")]
        pub struct $name;
        impl Need for $name {
            const PERMISSION: Permission = Permission::$perm;
        }
    )*};
}

needs! {
    ViewProject => ViewProject,
    ViewMembers => ViewMembers,
    ManageMembers => ManageMembers,
    ManageProject => ManageProject,
    ViewForms => ViewForms,
    ViewData => ViewData,
    SubmitData => SubmitData,
    ManageForms => ManageForms,
    ManageAppUsers => ManageAppUsers,
    ReviewData => ReviewData,
    EditData => EditData,
    ViewAudit => ViewAudit,
    KeepRegisters => KeepRegisters,
    ViewPersonal => ViewPersonal,
    ReleaseData => ReleaseData,
    ManageIndicators => ManageIndicators,
    PublishData => PublishData,
    ModerateReports => ModerateReports,
}

/// Access to the project `{org}/{project}` of the path, with permission `N` checked.
pub struct ProjectGuard<N: Need> {
    pub ctx: Ctx,
    pub access: ProjectAccess,
    _need: PhantomData<N>,
}

impl<S, N: Need> FromRequestParts<S> for ProjectGuard<N>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let (Some(org), Some(project)) = (params.get("org"), params.get("project")) else {
            return Err(WebError::not_found());
        };
        let access = ctx
            .state
            .core
            .project_access(&ctx.principal, org, project)
            .await?;
        access.require(N::PERMISSION)?;
        Ok(ProjectGuard {
            ctx,
            access,
            _need: PhantomData,
        })
    }
}

impl<N: Need> ProjectGuard<N> {
    /// A guard for an access already checked (to render a page of a lesser permission).
    pub fn from_parts(ctx: Ctx, access: ProjectAccess) -> Self {
        ProjectGuard {
            ctx,
            access,
            _need: PhantomData,
        }
    }
}

/// A URL-encoded form whose `_csrf` field matches the session's (or, before sign-in, the
/// double-submit cookie's) token, from a page of our own origin.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> WebResult<Self> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        check_origin(&parts.headers)?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        let limit = AppState::from_ref(state).settings.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| WebError::code(ErrorCode::PayloadTooLarge))?;
        let presented: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        ctx.check_csrf(&presented.csrf)?;
        let value: T = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| WebError::code(ErrorCode::InvalidForm).with_detail(format!("raw:{e}")))?;
        Ok(CsrfForm(value))
    }
}

/// For `/api/` writes without a body (DELETE): through a session cookie, the `X-CSRF-Token`
/// header must match; through a bearer token nothing more is needed.
pub struct CsrfHeader;

impl<S> FromRequestParts<S> for CsrfHeader
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        check_origin(&parts.headers)?;
        let presented = parts
            .headers
            .get("x-csrf-token")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        ctx.check_csrf(presented)?;
        Ok(CsrfHeader)
    }
}

/// A JSON body for `/api/` writes. Through a session cookie it also needs the `X-CSRF-Token`
/// header; through a bearer token it does not.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> WebResult<Self> {
        let (mut parts, body) = req.into_parts();
        CsrfHeader::from_request_parts(&mut parts, state).await?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        let limit = AppState::from_ref(state).settings.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| WebError::code(ErrorCode::PayloadTooLarge))?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| WebError::code(ErrorCode::InvalidJson).with_detail(format!("raw:{e}")))?;
        Ok(ApiJson(value))
    }
}

/// Refuses a cross-site request: a browser always sends `Origin` on cross-origin POSTs, and it
/// must name the host the request was sent to.
pub(crate) fn check_origin(headers: &HeaderMap) -> WebResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .unwrap_or("");
    if origin == "null" || origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
        return Err(ErrorCode::CsrfFailed.into());
    }
    Ok(())
}

/// Whether `next` is a safe place to send someone after sign-in: a path on this site.
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n'])
        && next.len() < 2000)
        .then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    #[test]
    fn cookies() {
        let h = "a=1; baraza_session=abc; lang=fr; junk; =x; q=\"quoted\"";
        let got: Vec<_> = parse_cookies(h).collect();
        assert_eq!(
            got,
            vec![
                ("a", "1"),
                ("baraza_session", "abc"),
                ("lang", "fr"),
                ("q", "quoted")
            ]
        );
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer bz_x"),
        );
        assert_eq!(bearer(&h), Some("bz_x"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  bz_y "),
        );
        assert_eq!(bearer(&h), Some("bz_y"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("baraza.example:8080"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://baraza.example:8080"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_origin(&h).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(check_origin(&h).is_err());
    }

    #[test]
    fn next_paths() {
        assert_eq!(safe_next("/orgs/x"), Some("/orgs/x"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn cookie_parser_never_panics(h in ".{0,400}") {
            for (k, _v) in parse_cookies(&h) {
                prop_assert!(!k.is_empty());
            }
        }

        #[test]
        fn safe_next_only_accepts_local_paths(s in ".{0,100}") {
            if let Some(n) = safe_next(&s) {
                prop_assert!(n.starts_with('/') && !n.starts_with("//"));
            }
        }
    }
}
