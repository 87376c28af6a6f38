//! Signing in and out, the language switch, one's account, and API tokens.

use super::orgs::{parse_role, Empty};
use super::views::{token_view, ProjectView, TokenView, UserView};
use super::{form_again, respond, see_other};
use crate::ctx::{safe_next, CsrfForm, Ctx, SessionUser, LANG_COOKIE, SESSION_COOKIE};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::middleware::cookie_header;
use crate::pages::{csrf_field, form_error, layout, Chrome};
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::Response;
use baraza_core::auth::{MAX_TOKEN_DAYS, MIN_PASSWORD_CHARS};
use baraza_core::CoreError;
use baraza_types::{ErrorCode, Role, TokenId};
use maud::html;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Serialize)]
struct LoginData {
    signed_in: bool,
    action: &'static str,
    fields: [&'static str; 3],
}

fn login_markup(ctx: &Ctx, email: &str, next: &str, error: Option<&str>) -> maud::Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        c.t("login.title"),
        html! {
            h1 { (c.t("login.title")) }
            (form_error(error))
            form.stack method="post" action="/login" {
                (csrf_field(c.csrf))
                input type="hidden" name="next" value=(next);
                label { (c.t("field.email")) input type="email" name="email" value=(email) required autocomplete="username" autofocus; }
                label { (c.t("field.password")) input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { (c.t("login.submit")) }
            }
            p.muted { (c.t("login.help")) }
        },
    )
}

/// `GET /login`.
pub async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> WebResult<Response> {
    let next = safe_next(&q.next).unwrap_or("/");
    if ctx.user().is_some() && ctx.format() == crate::ctx::Format::Html {
        return Ok(see_other(next));
    }
    let data = LoginData {
        signed_in: ctx.user().is_some(),
        action: "/login",
        fields: ["email", "password", "next"],
    };
    Ok(respond(&ctx, &data, || login_markup(&ctx, "", next, None)))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: a session cookie and back to where the person was going, or the form again
/// with what went wrong.
pub async fn login(ctx: Ctx, CsrfForm(f): CsrfForm<LoginForm>) -> WebResult<Response> {
    let next = safe_next(&f.next).unwrap_or("/").to_owned();
    match ctx
        .state
        .core
        .login(&f.email, &f.password, &ctx.client)
        .await
    {
        Ok(s) => {
            let mut res = see_other(&next);
            let secure = ctx.state.settings.secure_cookies;
            let max_age = ctx.state.core.settings().session_idle_secs;
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                cookie_header(SESSION_COOKIE, &s.secret, Some(max_age), secure),
            );
            if let Some(lang) = s.user.locale.as_deref().and_then(Lang::from_code) {
                h.append(
                    header::SET_COOKIE,
                    cookie_header(LANG_COOKIE, lang.code(), Some(LANG_MAX_AGE), secure),
                );
            }
            Ok(res)
        }
        Err(e @ (CoreError::InvalidCredentials | CoreError::TooManyAttempts { .. })) => {
            if ctx.format() == crate::ctx::Format::Json {
                return Err(e.into());
            }
            let err = WebError::from(e);
            let status =
                StatusCode::from_u16(err.0.code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let args: Vec<(&str, &str)> =
                err.0.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let msg = ctx.tf(&format!("error.{}", err.0.code.as_str()), &args);
            let mut res = form_again(status, login_markup(&ctx, &f.email, &next, Some(&msg)));
            if let Some(secs) = err.0.retry_after {
                if let Ok(v) = secs.to_string().parse() {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`.
pub async fn logout(ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> WebResult<Response> {
    ctx.state.core.logout(&ctx.principal).await?;
    let mut res = see_other("/");
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            SESSION_COOKIE,
            "",
            Some(0),
            ctx.state.settings.secure_cookies,
        ),
    );
    Ok(res)
}

const LANG_MAX_AGE: i64 = 365 * 24 * 3600;

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    next: String,
}

/// `POST /-/lang`: the language switch. A cookie makes it stick; a signed-in person's choice is
/// also saved to their account.
pub async fn set_lang(ctx: Ctx, CsrfForm(f): CsrfForm<LangForm>) -> WebResult<Response> {
    let lang = Lang::from_code(&f.lang)
        .ok_or_else(|| WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.lang"))?;
    ctx.state
        .core
        .set_locale(&ctx.principal, lang.code())
        .await?;
    let mut res = see_other(safe_next(&f.next).unwrap_or("/"));
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            LANG_COOKIE,
            lang.code(),
            Some(LANG_MAX_AGE),
            ctx.state.settings.secure_cookies,
        ),
    );
    Ok(res)
}

#[derive(Serialize)]
struct AccountData {
    user: UserView,
    projects: Vec<ProjectView>,
    /// Whether Digest sign-in (ODK Collect over plain HTTP) is allowed for the account.
    digest_enabled: bool,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// Which form of the account page an error belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountForm {
    Password,
    Digest,
}

fn account_markup(
    ctx: &Ctx,
    data: &AccountData,
    notice: Option<&str>,
    error: Option<(AccountForm, &str)>,
) -> maud::Markup {
    let error_of = |form: AccountForm| error.filter(|(f, _)| *f == form).map(|(_, m)| m);
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        c.t("account.title"),
        html! {
            h1 { (c.t("account.title")) }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            div.card {
                dl {
                    dt { (c.t("field.name")) } dd { (data.user.name) }
                    dt { (c.t("field.email")) } dd { (data.user.email) }
                    @if data.user.is_admin { dt { (c.t("account.site_role")) } dd { (c.t("account.admin")) } }
                }
            }
            h2 { (c.t("account.projects")) }
            ul.cards {
                @for p in &data.projects {
                    li {
                        a href=(p.url) { (p.name) }
                        @if let Some(r) = p.your_role { " " span.badge { (c.t(&format!("role.{}", r.as_str()))) } }
                    }
                }
            }
            p { a href="/account/tokens" { (c.t("tokens.title")) } }
            (super::central::digest_section(&c, data.digest_enabled, error_of(AccountForm::Digest)))
            h2 #password { (c.t("account.password")) }
            (form_error(error_of(AccountForm::Password)))
            form.stack method="post" action="/account/password" {
                (csrf_field(c.csrf))
                label { (c.t("account.current_password")) input type="password" name="current" required autocomplete="current-password"; }
                label {
                    (c.t("account.new_password"))
                    span.hint { (c.tf("account.password_hint", &[("min", &MIN_PASSWORD_CHARS.to_string())])) }
                    input type="password" name="new" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
                }
                label { (c.t("account.confirm_password")) input type="password" name="confirm" required autocomplete="new-password"; }
                button type="submit" { (c.t("account.change_password")) }
            }
        },
    )
}

/// The projects in which the person has a role.
async fn my_projects(ctx: &Ctx) -> WebResult<Vec<ProjectView>> {
    Ok(ctx
        .state
        .core
        .visible_projects(&ctx.principal, None)
        .await?
        .iter()
        .map(ProjectView::from_listing)
        .filter(|p| p.your_role.is_some())
        .collect())
}

async fn account_data(ctx: &Ctx) -> WebResult<AccountData> {
    let user = ctx.principal.require_session_user()?;
    Ok(AccountData {
        user: UserView::from(user),
        projects: my_projects(ctx).await?,
        digest_enabled: ctx.state.core.digest_enabled(&ctx.principal).await?,
    })
}

/// `GET /account`.
pub async fn account_page(
    SessionUser { ctx }: SessionUser,
    Query(q): Query<DoneQuery>,
) -> WebResult<Response> {
    let data = account_data(&ctx).await?;
    let notice = match q.done.as_str() {
        "password" => Some(ctx.t("account.password_changed")),
        "digest_on" => Some(ctx.t("digest.done_enabled")),
        "digest_off" => Some(ctx.t("digest.done_disabled")),
        _ => None,
    };
    Ok(respond(&ctx, &data, || {
        account_markup(&ctx, &data, notice, None)
    }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// `POST /account/password`: ends the person's other sessions.
pub async fn change_password(
    SessionUser { ctx }: SessionUser,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    let result = if f.new != f.confirm {
        Err(WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.password_mismatch"))
    } else {
        ctx.state
            .core
            .change_password(&ctx.principal, &f.current, &f.new)
            .await
            .map_err(WebError::from)
    };
    match result {
        Ok(()) => Ok(see_other("/account?done=password")),
        Err(err) => account_error(&ctx, err, AccountForm::Password).await,
    }
}

/// The account page shown again with the error of one of its forms (or, for JSON clients and
/// failures of ours, the error itself).
pub(crate) async fn account_error(
    ctx: &Ctx,
    err: WebError,
    form: AccountForm,
) -> WebResult<Response> {
    if ctx.format() != crate::ctx::Format::Html || err.0.code == ErrorCode::Internal {
        return Err(err);
    }
    let args: Vec<(&str, &str)> = err.0.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut msg = ctx.tf(&format!("error.{}", err.0.code.as_str()), &args);
    if let Some(d) = &err.0.detail_key {
        msg = format!("{msg} ({})", ctx.t(d));
    }
    let data = account_data(ctx).await?;
    let status =
        StatusCode::from_u16(err.0.code.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    Ok(form_again(
        status,
        account_markup(ctx, &data, None, Some((form, &msg))),
    ))
}

#[derive(Serialize)]
struct TokensData {
    tokens: Vec<TokenView>,
    /// Projects the person can mint a token for, with the highest role they can give it.
    projects: Vec<ProjectView>,
    /// Set once, right after creation: the token's secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_token: Option<String>,
}

async fn tokens_data(ctx: &Ctx, new_token: Option<String>) -> WebResult<TokensData> {
    let now = ctx.state.core.now();
    let tokens = ctx.state.core.list_tokens(&ctx.principal).await?;
    Ok(TokensData {
        tokens: tokens.iter().map(|t| token_view(t, now)).collect(),
        projects: my_projects(ctx).await?,
        new_token,
    })
}

fn tokens_markup(ctx: &Ctx, data: &TokensData) -> maud::Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        c.t("tokens.title"),
        html! {
            p.muted { a href="/account" { (c.t("account.title")) } }
            h1 { (c.t("tokens.title")) }
            p { (c.t("tokens.intro")) }
            @if let Some(secret) = &data.new_token {
                div.card role="status" {
                    p.notice { (c.t("tokens.copy_now")) }
                    p.secret { (secret) }
                }
            }
            @if data.tokens.is_empty() {
                p.muted { (c.t("tokens.none")) }
            } @else {
                table.responsive {
                    thead { tr {
                        th scope="col" { (c.t("field.name")) }
                        th scope="col" { (c.t("tokens.project")) }
                        th scope="col" { (c.t("field.role")) }
                        th scope="col" { (c.t("tokens.expires")) }
                        th scope="col" { (c.t("tokens.last_used")) }
                        th scope="col" { span.skip { (c.t("people.actions")) } }
                    } }
                    tbody {
                        @for t in &data.tokens {
                            tr {
                                td { (t.name) br; code { (t.prefix) "…" } }
                                td { (t.project) }
                                td { (c.t(&format!("role.{}", t.role.as_str()))) }
                                td { (t.expires.get(..10).unwrap_or("")) }
                                td { (t.last_used.as_deref().and_then(|s| s.get(..10)).unwrap_or("—")) }
                                td {
                                    @if t.active {
                                        form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                                            (csrf_field(c.csrf))
                                            button.danger type="submit" { (c.t("tokens.revoke")) }
                                        }
                                    } @else if t.revoked.is_some() {
                                        (c.t("tokens.revoked"))
                                    } @else {
                                        (c.t("tokens.expired"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !data.projects.is_empty() {
                h2 { (c.t("tokens.create")) }
                form.stack method="post" action="/account/tokens" {
                    (csrf_field(c.csrf))
                    label { (c.t("field.name")) span.hint { (c.t("tokens.name_hint")) } input name="name" required maxlength="200"; }
                    label { (c.t("tokens.project"))
                        select name="project" {
                            @for p in &data.projects {
                                option value={ (p.org) "/" (p.slug) } { (p.name) " (" (p.org_name) ")" }
                            }
                        }
                    }
                    label { (c.t("field.role")) span.hint { (c.t("tokens.role_hint")) }
                        select name="role" {
                            @for r in Role::ALL {
                                option value=(r.as_str()) selected[r == Role::Viewer] { (c.t(&format!("role.{}", r.as_str()))) }
                            }
                        }
                    }
                    label { (c.t("tokens.days")) input type="number" name="days" value="90" min="1" max=(MAX_TOKEN_DAYS) required; }
                    button type="submit" { (c.t("tokens.create")) }
                }
            }
        },
    )
}

/// `GET /account/tokens`.
pub async fn tokens_page(SessionUser { ctx }: SessionUser) -> WebResult<Response> {
    let data = tokens_data(&ctx, None).await?;
    Ok(respond(&ctx, &data, || tokens_markup(&ctx, &data)))
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    project: String,
    role: String,
    days: String,
}

/// `POST /account/tokens`: mints a token and shows its secret once.
pub async fn create_token(
    SessionUser { ctx }: SessionUser,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> WebResult<Response> {
    let role = parse_role(&f.role)?;
    let days: i64 = f.days.trim().parse().map_err(|_| {
        WebError::from(CoreError::Invalid {
            field: "days",
            reason: "token_days",
        })
    })?;
    let (org, project) = f
        .project
        .split_once('/')
        .ok_or_else(|| WebError::code(ErrorCode::NotFound).with_detail("not_found.project"))?;
    let access = ctx
        .state
        .core
        .project_access(&ctx.principal, org, project)
        .await?;
    let minted = ctx
        .state
        .core
        .create_token(&ctx.principal, &access, &f.name, role, days)
        .await?;
    let data = tokens_data(&ctx, Some(minted.secret)).await?;
    let mut res = respond(&ctx, &data, || tokens_markup(&ctx, &data));
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `POST /account/tokens/{id}/revoke`.
pub async fn revoke_token(
    SessionUser { ctx }: SessionUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id: i64 = id.parse().map_err(|_| WebError::not_found())?;
    ctx.state
        .core
        .revoke_token(&ctx.principal, TokenId(id))
        .await?;
    Ok(see_other("/account/tokens"))
}
