//! Who calls the `/v1` API and OpenRosa for accounts: credentials from the `Authorization`
//! header, never from a cookie (so no CSRF token is needed, and a browser session cannot be
//! ridden by another site).
//!
//! * `Bearer bz_…`: an API token (scoped to a project and a role).
//! * `Bearer …`: a session opened with `POST /v1/sessions` (pyodk, ruODK).
//! * `Basic …`: e-mail address and password (Excel, Power BI, ODK Collect over HTTPS), throttled
//!   like the sign-in form.
//! * `Digest …`: only on the OpenRosa routes, for accounts that allowed it (ODK Collect over
//!   plain HTTP); see `baraza_core::digest`.
//!
//! A 401 challenges with `Basic`, and on OpenRosa routes also with `Digest` (MD5 first, which
//! every ODK Collect understands, then SHA-256), each in a `WWW-Authenticate` header of its own:
//! Collect picks the first scheme it may use (Basic only over HTTPS).

use crate::ctx::{Ctx, Need};
use crate::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use baraza_core::auth::TOKEN_PREFIX;
use baraza_core::digest::{DigestAlgorithm, DigestAnswer, DigestRefusal, DIGEST_REALM};
use baraza_core::{CoreError, Principal, ProjectAccess};
use baraza_types::{ErrorCode, Permission, ProjectId};
use std::collections::HashMap;
use std::marker::PhantomData;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Basic,
    Digest,
}

enum Credentials {
    None,
    Bearer(String),
    Basic(String, String),
    Digest(HashMap<String, String>),
}

fn credentials(headers: &HeaderMap) -> Credentials {
    use base64::Engine;
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    else {
        return Credentials::None;
    };
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Credentials::Bearer(rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()
            .and_then(|d| String::from_utf8(d).ok());
        if let Some((user, pass)) = decoded.as_deref().and_then(|t| t.split_once(':')) {
            return Credentials::Basic(user.to_owned(), pass.to_owned());
        }
        return Credentials::None;
    }
    if scheme.eq_ignore_ascii_case("digest") {
        if let Some(params) = digest_params(rest) {
            return Credentials::Digest(params);
        }
    }
    Credentials::None
}

/// The parameters of a Digest answer: `key=token` or `key="quoted \" string"`, separated by
/// commas. Malformed input gives `None`; keys are lowercased; a repeated key is malformed.
pub(crate) fn digest_params(s: &str) -> Option<HashMap<String, String>> {
    if s.len() > 4096 {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return None;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        if out.insert(key.to_ascii_lowercase(), value).is_some() {
            return None;
        }
    }
    Some(out)
}

const BASIC_CHALLENGE: &str = "Basic realm=\"Baraza\", charset=\"UTF-8\"";

/// A 401 with the challenges this route accepts.
async fn challenge(ctx: &Ctx, digest: bool, stale: bool, code: ErrorCode) -> WebError {
    let mut e = WebError::code(code);
    e.0.challenge = Some(BASIC_CHALLENGE);
    if digest {
        match ctx.state.core.digest_nonce().await {
            Ok(nonce) => {
                for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
                    e.0.extra_challenges.push(format!(
                        "Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\"{}",
                        alg.name(),
                        if stale { ", stale=true" } else { "" }
                    ));
                }
            }
            Err(err) => return err.into(),
        }
    }
    e
}

/// The principal of the request's `Authorization` header. Digest is accepted only when
/// `digest` is true (the OpenRosa routes).
pub(crate) async fn principal_from_header(
    ctx: &Ctx,
    parts: &Parts,
    digest: bool,
) -> WebResult<(Principal, Scheme)> {
    let core = &ctx.state.core;
    match credentials(&parts.headers) {
        Credentials::None => Err(challenge(ctx, digest, false, ErrorCode::Unauthenticated).await),
        Credentials::Bearer(token) => {
            if token.starts_with(TOKEN_PREFIX) {
                return Ok((core.token_principal(&token).await?, Scheme::Bearer));
            }
            match core.session_principal(&token).await? {
                Some(p) => Ok((p, Scheme::Bearer)),
                None => Err(WebError::code(ErrorCode::InvalidToken)),
            }
        }
        Credentials::Basic(email, password) => {
            match core.basic_principal(&email, &password, &ctx.client).await {
                Ok(p) => Ok((p, Scheme::Basic)),
                Err(CoreError::InvalidCredentials) => {
                    Err(challenge(ctx, digest, false, ErrorCode::InvalidCredentials).await)
                }
                Err(e) => Err(e.into()),
            }
        }
        Credentials::Digest(_) if !digest => {
            Err(challenge(ctx, false, false, ErrorCode::Unauthenticated).await)
        }
        Credentials::Digest(p) => {
            let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
            let target = parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("");
            let Some(algorithm) = DigestAlgorithm::parse(p.get("algorithm").map(String::as_str))
            else {
                return Err(challenge(ctx, true, false, ErrorCode::InvalidCredentials).await);
            };
            // The answer is bound to the request it signs.
            if get("uri") != target {
                return Err(challenge(ctx, true, false, ErrorCode::InvalidCredentials).await);
            }
            let answer = DigestAnswer {
                username: get("username"),
                realm: get("realm"),
                nonce: get("nonce"),
                uri: get("uri"),
                qop: get("qop"),
                nc: get("nc"),
                cnonce: get("cnonce"),
                response: get("response"),
                algorithm,
                method: parts.method.as_str(),
            };
            match core.digest_principal(&answer, &ctx.client).await {
                Ok(p) => Ok((p, Scheme::Digest)),
                Err(DigestRefusal::Stale) => {
                    Err(challenge(ctx, true, true, ErrorCode::Unauthenticated).await)
                }
                Err(DigestRefusal::Refused(CoreError::InvalidCredentials)) => {
                    Err(challenge(ctx, true, false, ErrorCode::InvalidCredentials).await)
                }
                Err(DigestRefusal::Refused(e)) => Err(e.into()),
            }
        }
    }
}

/// The caller's standing in the project `{pid}` of the path, with `permission` checked.
pub(crate) async fn account_access(
    parts: &mut Parts,
    state: &AppState,
    digest: bool,
    permission: Permission,
) -> WebResult<(Ctx, ProjectAccess, Scheme)> {
    let anonymous = Ctx::for_principal(parts, state, Principal::Anonymous);
    let (principal, scheme) = principal_from_header(&anonymous, parts, digest).await?;
    let ctx = Ctx::for_principal(parts, state, principal);
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| WebError::not_found())?;
    let pid: i64 = params
        .get("pid")
        .and_then(|p| p.parse().ok())
        .ok_or_else(WebError::not_found)?;
    let access = ctx
        .state
        .core
        .project_access_by_id(&ctx.principal, ProjectId(pid))
        .await?;
    access.require(permission)?;
    Ok((ctx, access, scheme))
}

/// A person signed in through the `Authorization` header (Bearer or Basic).
pub struct ApiUser {
    pub ctx: Ctx,
}

impl<S> FromRequestParts<S> for ApiUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let state = AppState::from_ref(state);
        let anonymous = Ctx::for_principal(parts, &state, Principal::Anonymous);
        let (principal, _) = principal_from_header(&anonymous, parts, false).await?;
        Ok(ApiUser {
            ctx: Ctx::for_principal(parts, &state, principal),
        })
    }
}

/// The request's context with no credentials read (for `POST /v1/sessions`, which must work
/// whatever stale `Authorization` header a client still sends).
pub struct NoCredentials {
    pub ctx: Ctx,
}

impl<S> FromRequestParts<S> for NoCredentials
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let state = AppState::from_ref(state);
        Ok(NoCredentials {
            ctx: Ctx::for_principal(parts, &state, Principal::Anonymous),
        })
    }
}

/// A person with permission `N` in the project `{pid}`, through Bearer or Basic credentials.
pub struct Account<N: Need> {
    pub ctx: Ctx,
    pub access: ProjectAccess,
    _need: PhantomData<N>,
}

impl<S, N: Need> FromRequestParts<S> for Account<N>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let state = AppState::from_ref(state);
        let (ctx, access, _) = account_access(parts, &state, false, N::PERMISSION).await?;
        Ok(Account {
            ctx,
            access,
            _need: PhantomData,
        })
    }
}

/// [`Account`] on a route that also serves ODK Collect, where Digest is accepted too.
pub struct CollectAccount<N: Need> {
    pub ctx: Ctx,
    pub access: ProjectAccess,
    pub scheme: Scheme,
    _need: PhantomData<N>,
}

impl<S, N: Need> FromRequestParts<S> for CollectAccount<N>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> WebResult<Self> {
        let state = AppState::from_ref(state);
        let (ctx, access, scheme) = account_access(parts, &state, true, N::PERMISSION).await?;
        Ok(CollectAccount {
            ctx,
            access,
            scheme,
            _need: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digest_parameters() {
        let p = digest_params(
            r#"username="amina@x.org", realm="Baraza", nonce="5f-ab", uri="/v1/projects/1/formList?a=b,c", algorithm=MD5, response="0a", qop=auth, nc=00000001, cnonce="x\"y""#,
        )
        .unwrap();
        assert_eq!(p["username"], "amina@x.org");
        assert_eq!(p["uri"], "/v1/projects/1/formList?a=b,c");
        assert_eq!(p["algorithm"], "MD5");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["cnonce"], "x\"y");
        for bad in [
            r#"username="unterminated"#,
            "username",
            "=x",
            r#"a="1", a="2""#,
            r#"we!rd="1""#,
        ] {
            assert!(digest_params(bad).is_none(), "{bad}");
        }
        assert_eq!(digest_params("").map(|m| m.len()), Some(0));
    }

    proptest! {
        #[test]
        fn digest_parser_never_panics(s in ".{0,300}") {
            let _ = digest_params(&s);
        }
    }
}
