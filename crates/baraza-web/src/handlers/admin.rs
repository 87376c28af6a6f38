//! Site administration: accounts.

use super::respond;
use super::views::UserView;
use crate::ctx::{Admin, CsrfForm, Ctx};
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::pages::{csrf_field, layout, Chrome};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::html;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct UsersData {
    users: Vec<UserView>,
    /// Set once, right after creation: the new account and its password, to hand over.
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<Created>,
}

#[derive(Serialize)]
struct Created {
    email: String,
    password: String,
}

fn users_markup(ctx: &Ctx, data: &UsersData) -> maud::Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        c.t("admin.users"),
        html! {
            h1 { (c.t("admin.users")) }
            @if let Some(new) = &data.created {
                div.card role="status" {
                    p.notice { (c.tf("admin.created", &[("email", &new.email)])) }
                    p.secret { (new.password) }
                    p.muted { (c.t("admin.hand_over")) }
                }
            }
            table.responsive {
                thead { tr {
                    th scope="col" { (c.t("field.name")) }
                    th scope="col" { (c.t("field.email")) }
                    th scope="col" { (c.t("account.site_role")) }
                } }
                tbody {
                    @for u in &data.users {
                        tr {
                            td { (u.name) }
                            td { (u.email) }
                            td { @if u.is_admin { (c.t("account.admin")) } }
                        }
                    }
                }
            }
            h2 { (c.t("admin.create")) }
            form.stack method="post" action="/admin/users" {
                (csrf_field(c.csrf))
                label { (c.t("field.name")) input name="name" required maxlength="200"; }
                label { (c.t("field.email")) input type="email" name="email" required autocomplete="off"; }
                label { (c.t("admin.language"))
                    select name="locale" {
                        @for l in Lang::ALL {
                            option value=(l.code()) selected[l == c.lang] { (l.native_name()) }
                        }
                    }
                }
                label { input type="checkbox" name="admin" value="true"; " " (c.t("admin.make_admin")) }
                button type="submit" { (c.t("admin.create")) }
            }
        },
    )
}

/// `GET /admin/users` (site administrators).
pub async fn users_page(Admin { ctx }: Admin) -> WebResult<Response> {
    let users = ctx.state.core.list_users(&ctx.principal).await?;
    let data = UsersData {
        users: users.iter().map(UserView::from).collect(),
        created: None,
    };
    Ok(respond(&ctx, &data, || users_markup(&ctx, &data)))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    name: String,
    email: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    admin: String,
}

/// `POST /admin/users`: creates an account with a generated password, shown once.
pub async fn create_user(
    Admin { ctx }: Admin,
    CsrfForm(f): CsrfForm<NewUserForm>,
) -> WebResult<Response> {
    let locale = Lang::from_code(&f.locale).map(|l| l.code());
    let (user, password) = ctx
        .state
        .core
        .admin_create_user(&ctx.principal, &f.email, &f.name, f.admin == "true", locale)
        .await?;
    let users = ctx.state.core.list_users(&ctx.principal).await?;
    let data = UsersData {
        users: users.iter().map(UserView::from).collect(),
        created: Some(Created {
            email: user.email,
            password,
        }),
    };
    let mut res = respond(&ctx, &data, || users_markup(&ctx, &data));
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
