//! Home, organisations, projects and their people.

use super::views::{members_view, project_url, OrgView, ProjectView, UserView};
use super::{respond, see_other};
use crate::ctx::{
    Admin, CsrfForm, Ctx, ManageMembers, ManageProject, OrgOwner, ProjectGuard, ViewMembers,
    ViewProject,
};
use crate::error::{WebError, WebResult};
use crate::pages::{csrf_field, iso_date, layout, Chrome};
use axum::extract::Path;
use axum::response::Response;
use baraza_core::orgs::ProjectInput;
use baraza_types::{ErrorCode, OrgRole, Permission, Role, UserId, Visibility};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn role_label(c: &Chrome<'_>, role: Role) -> String {
    c.t(&format!("role.{}", role.as_str())).to_owned()
}

fn visibility_badge(c: &Chrome<'_>, v: Visibility) -> Markup {
    html! { span class={ "badge " (v.as_str()) } { (c.t(&format!("visibility.{}", v.as_str()))) } }
}

fn project_list(c: &Chrome<'_>, projects: &[ProjectView], empty_key: &str) -> Markup {
    html! {
        @if projects.is_empty() {
            p.muted { (c.t(empty_key)) }
        } @else {
            ul.cards {
                @for p in projects {
                    li {
                        a href=(p.url) { strong { (p.name) } }
                        " " (visibility_badge(c, p.visibility))
                        @if let Some(r) = p.your_role { " " span.badge { (role_label(c, r)) } }
                        br;
                        span.muted { (p.org_name) }
                        @if !p.description.is_empty() { p { (p.description) } }
                    }
                }
            }
        }
    }
}

#[derive(Serialize)]
struct HomeData {
    signed_in_as: Option<UserView>,
    your_projects: Vec<ProjectView>,
    public_projects: Vec<ProjectView>,
}

/// `GET /`: what Baraza is, your projects, and the public ones.
pub async fn home(ctx: Ctx) -> WebResult<Response> {
    let listings = ctx
        .state
        .core
        .visible_projects(&ctx.principal, None)
        .await?;
    let (yours, public): (Vec<_>, Vec<_>) = listings
        .iter()
        .map(ProjectView::from_listing)
        .partition(|p| p.your_role.is_some());
    let data = HomeData {
        signed_in_as: ctx.user().map(UserView::from),
        your_projects: yours,
        public_projects: public,
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        layout(
            &c,
            c.t("home.title"),
            html! {
                h1 { (c.t("home.title")) }
                p.lead { (c.t("home.intro")) }
                @if ctx.user().is_some() {
                    h2 { (c.t("home.your_projects")) }
                    (project_list(&c, &data.your_projects, "home.no_projects"))
                } @else {
                    p { a.button href="/login" { (c.t("nav.login")) } }
                }
                h2 { (c.t("home.public_projects")) }
                (project_list(&c, &data.public_projects, "home.no_public_projects"))
            },
        )
    }))
}

#[derive(Serialize)]
struct OrgListData {
    organisations: Vec<OrgView>,
    can_create: bool,
}

/// `GET /orgs`.
pub async fn org_list(ctx: Ctx) -> WebResult<Response> {
    let orgs = ctx.state.core.list_orgs().await?;
    let data = OrgListData {
        organisations: orgs.iter().map(OrgView::from).collect(),
        can_create: ctx.principal.is_admin(),
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        layout(
            &c,
            c.t("orgs.title"),
            html! {
                h1 { (c.t("orgs.title")) }
                @if data.organisations.is_empty() {
                    p.muted { (c.t("orgs.none")) }
                }
                ul.cards {
                    @for o in &data.organisations {
                        li {
                            a href=(o.url) { strong { (o.name) } }
                            @if !o.description.is_empty() { p { (o.description) } }
                        }
                    }
                }
                @if data.can_create {
                    p { a href="/admin/users" { (c.t("admin.users")) } }
                    h2 { (c.t("orgs.create")) }
                    form.stack method="post" action="/orgs" {
                        (csrf_field(c.csrf))
                        label { (c.t("field.name")) input name="name" required maxlength="200"; }
                        label { (c.t("field.slug")) span.hint { (c.t("field.slug_hint")) } input name="slug" maxlength="63" pattern="[a-z][a-z0-9-]*"; }
                        label { (c.t("field.description")) textarea name="description" rows="3" maxlength="5000" {} }
                        button type="submit" { (c.t("orgs.create")) }
                    }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub struct OrgForm {
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
}

/// `POST /orgs` (site administrators).
pub async fn create_org(
    Admin { ctx }: Admin,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> WebResult<Response> {
    let org = ctx
        .state
        .core
        .create_org(&ctx.principal, &f.name, &f.slug, &f.description, None)
        .await?;
    Ok(see_other(&format!("/orgs/{}", org.slug)))
}

#[derive(Serialize)]
struct OrgPageData {
    organisation: OrgView,
    projects: Vec<ProjectView>,
    can_create_project: bool,
    /// How many reuses (not hidden) the organisation's datasets that the reader sees have.
    reuses: usize,
}

/// `GET /orgs/{org}`.
pub async fn org_page(ctx: Ctx, Path(org): Path<String>) -> WebResult<Response> {
    let view = ctx.state.core.org_view(&ctx.principal, &org).await?;
    let data = OrgPageData {
        organisation: OrgView::from(&view.org),
        projects: view
            .projects
            .iter()
            .map(ProjectView::from_listing)
            .collect(),
        can_create_project: view.can_create_project,
        reuses: ctx
            .state
            .core
            .reuses(
                &ctx.principal,
                &baraza_core::reuses::ReuseFilter {
                    organization: Some(view.org.slug.clone()),
                    ..Default::default()
                },
            )
            .await?
            .len(),
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let o = &data.organisation;
        layout(
            &c,
            &o.name,
            html! {
                p.muted { a href="/orgs" { (c.t("orgs.title")) } }
                h1 { (o.name) }
                @if !o.description.is_empty() { p { (o.description) } }
                @if data.reuses > 0 {
                    p { a href={ "/reuses?organization=" (o.slug) } { (c.tf("reuse.org_total", &[("n", &data.reuses.to_string())])) } }
                }
                h2 { (c.t("org.projects")) }
                (project_list(&c, &data.projects, "org.no_projects"))
                @if data.can_create_project {
                    p {
                        a href={ "/orgs/" (o.slug) "/people" } { (c.t("org_people.title")) }
                        " · " a href={ "/orgs/" (o.slug) "/census/new" } { (c.t("census.create")) }
                    }
                    h2 { (c.t("project.create")) }
                    form.stack method="post" action={ "/orgs/" (o.slug) "/projects" } {
                        (csrf_field(c.csrf))
                        label { (c.t("field.name")) input name="name" required maxlength="200"; }
                        label { (c.t("field.slug")) span.hint { (c.t("field.slug_hint")) } input name="slug" maxlength="63" pattern="[a-z][a-z0-9-]*"; }
                        label { (c.t("field.description")) textarea name="description" rows="3" maxlength="5000" {} }
                        (visibility_select(&c, Visibility::Private))
                        button type="submit" { (c.t("project.create")) }
                    }
                }
            },
        )
    }))
}

fn visibility_select(c: &Chrome<'_>, current: Visibility) -> Markup {
    html! {
        label {
            (c.t("field.visibility"))
            select name="visibility" {
                @for v in [Visibility::Private, Visibility::Public] {
                    option value=(v.as_str()) selected[v == current] { (c.t(&format!("visibility.{}", v.as_str()))) }
                }
            }
            span.hint { (c.t("field.visibility_hint")) }
        }
    }
}

#[derive(Deserialize)]
pub struct ProjectForm {
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    visibility: String,
}

fn parse_visibility(s: &str) -> WebResult<Visibility> {
    s.parse()
        .map_err(|_| WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.visibility"))
}

/// `POST /orgs/{org}/projects` (organisation owners).
pub async fn create_project(
    OrgOwner { ctx, org }: OrgOwner,
    CsrfForm(f): CsrfForm<ProjectForm>,
) -> WebResult<Response> {
    let input = ProjectInput {
        name: f.name,
        slug: f.slug,
        description: f.description,
        visibility: parse_visibility(&f.visibility)?,
    };
    let p = ctx
        .state
        .core
        .create_project(&ctx.principal, &org.slug, &input)
        .await?;
    Ok(see_other(&project_url(&org.slug, &p.slug)))
}

#[derive(Serialize)]
struct ProjectPageData {
    project: ProjectView,
    permissions: Vec<Permission>,
    members: Option<usize>,
    /// The highest sensitivity of the project's fields (`public` … `sensitive`).
    sensitivity: Option<baraza_xlsform::model::Sensitivity>,
    /// The reuses of the project's datasets (not hidden): what its data became.
    reuses: Vec<baraza_core::reuses::ReuseView>,
}

/// `GET /orgs/{org}/projects/{project}`.
pub async fn project_page(g: ProjectGuard<ViewProject>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let a = &g.access;
    let members = if a.can(Permission::ViewMembers) {
        Some(ctx.state.core.members(a).await?.len())
    } else {
        None
    };
    let data = ProjectPageData {
        project: ProjectView::from_access(a),
        permissions: Permission::ALL.into_iter().filter(|p| a.can(*p)).collect(),
        members,
        sensitivity: if a.can(Permission::ViewForms) {
            ctx.state.core.project_sensitivity(a).await?
        } else {
            None
        },
        reuses: ctx.state.core.project_reuses(a, &g.ctx.principal).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.project;
        layout(
            &c,
            &p.name,
            html! {
                p.muted { a href={ "/orgs/" (p.org) } { (p.org_name) } }
                h1 { (p.name) " " (visibility_badge(&c, p.visibility)) }
                @if !p.description.is_empty() { p { (p.description) } }
                div.card {
                    dl {
                        dt { (c.t("project.your_role")) }
                        dd { @match p.your_role { Some(r) => (role_label(&c, r)), None => (c.t("project.no_role")) } }
                        dt { (c.t("project.created")) }
                        dd { (iso_date(a.project.created_at)) }
                        @if let Some(s) = data.sensitivity {
                            dt { (c.t("project.sensitivity")) }
                            dd {
                                strong.badge { (c.t(&format!("sensitivity.{}", s.as_str()))) }
                                " " span.muted { (c.t(&format!("sensitivity.{}_help", s.as_str()))) }
                            }
                        }
                        @if let Some(n) = data.members {
                            dt { (c.t("project.people")) }
                            dd { a href={ (p.url) "/people" } { (c.tf("project.people_count", &[("n", &n.to_string())])) } }
                        }
                    }
                }
                @if a.can(Permission::ViewForms) {
                    p { a.button href={ (p.url) "/forms" } { (c.t("forms.title")) } }
                }
                p { a.button href={ (p.url) "/indicators" } { (c.t("ind.title")) } }
                p {
                    a.button href={ (p.url) "/reports" } {
                        (c.t(if a.can(Permission::ModerateReports) { "report.queue_title" } else { "report.public_title" }))
                    }
                    " " a href={ (p.url) "/reports/map" } { (c.t("report.map_link")) }
                }
                @if a.can(Permission::PublishData) {
                    p { a.button href={ (p.url) "/catalogue" } { (c.t("cat.project_title")) } }
                }
                @if a.can(Permission::ViewAudit) {
                    p {
                        a href={ (p.url) "/audit" } { (c.t("audit.title")) } " · "
                        a href={ (p.url) "/record-of-processing" } { (c.t("records.link")) } " · "
                        a href={ (p.url) "/dpia" } { (c.t("dpia.link")) } " · "
                        a href={ (p.url) "/incidents" } { (c.t("incidents.link")) } " · "
                        a href={ (p.url) "/agreements" } { (c.t("agreements.link")) }
                        @if a.can(Permission::ViewPersonal) { " · " a href={ (p.url) "/subjects" } { (c.t("subject.title")) } }
                        @if a.can(Permission::ManageForms) { " · " a href={ (p.url) "/encryption" } { (c.t("encryption.title")) } }
                        @if a.can(Permission::ReleaseData) { " · " a href={ (p.url) "/release-policy" } { (c.t("release.policy_title")) } }
                    }
                }
                @if !data.reuses.is_empty() || a.can(Permission::PublishData) {
                    (super::reuses::reused_block(ctx, &data.reuses, &format!("/reuses?organization={}", p.org)))
                }
                p.muted { (c.t("project.coming")) }
                @if a.can(Permission::ManageProject) {
                    h2 { (c.t("project.settings")) }
                    form.stack method="post" action={ (p.url) "/settings" } {
                        (csrf_field(c.csrf))
                        label { (c.t("field.name")) input name="name" required maxlength="200" value=(p.name); }
                        label { (c.t("field.description")) textarea name="description" rows="3" maxlength="5000" { (p.description) } }
                        (visibility_select(&c, p.visibility))
                        button type="submit" { (c.t("action.save")) }
                    }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    name: String,
    #[serde(default)]
    description: String,
    visibility: String,
}

/// `POST /orgs/{org}/projects/{project}/settings` (owners).
pub async fn update_project(
    g: ProjectGuard<ManageProject>,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> WebResult<Response> {
    let visibility = parse_visibility(&f.visibility)?;
    g.ctx
        .state
        .core
        .update_project(&g.access, &f.name, &f.description, visibility)
        .await?;
    Ok(see_other(&project_url(
        &g.access.org.slug,
        &g.access.project.slug,
    )))
}

#[derive(Serialize)]
struct PeopleData {
    project: ProjectView,
    members: Vec<super::views::MemberView>,
    can_manage: bool,
    can_grant_owner: bool,
}

/// `GET /orgs/{org}/projects/{project}/people`.
pub async fn people_page(g: ProjectGuard<ViewMembers>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let a = &g.access;
    let members = ctx.state.core.members(a).await?;
    let data = PeopleData {
        project: ProjectView::from_access(a),
        members: members_view(a, &members),
        can_manage: a.can(Permission::ManageMembers),
        can_grant_owner: a.can(Permission::GrantOwner),
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.project;
        let grantable: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Owner || data.can_grant_owner)
            .collect();
        let base = format!("{}/people", p.url);
        layout(
            &c,
            &format!("{} · {}", c.t("people.title"), p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } }
                h1 { (c.t("people.title")) }
                p.muted { (c.t("people.roles_help")) }
                table.responsive {
                    thead { tr {
                        th scope="col" { (c.t("field.name")) }
                        @if data.can_manage { th scope="col" { (c.t("field.email")) } }
                        th scope="col" { (c.t("field.role")) }
                        @if data.can_manage { th scope="col" { (c.t("people.records")) } }
                        th scope="col" { (c.t("people.since")) }
                        @if data.can_manage { th scope="col" { span.skip { (c.t("people.actions")) } } }
                    } }
                    tbody {
                        @for m in &data.members {
                            tr {
                                td { (m.name) }
                                @if data.can_manage { td { (m.email.as_deref().unwrap_or("")) } }
                                td { (role_label(&c, m.role)) }
                                @if data.can_manage {
                                    td { (scope_cell(&c, &base, m)) }
                                }
                                td { (m.since.get(..10).unwrap_or("")) }
                                @if data.can_manage {
                                    td {
                                        @if m.role != Role::Owner || data.can_grant_owner {
                                            form method="post" action=(base) {
                                                (csrf_field(c.csrf))
                                                input type="hidden" name="email" value=(m.email.as_deref().unwrap_or(""));
                                                label.skip for={ "role-" (m.user_id) } { (c.t("field.role")) }
                                                select id={ "role-" (m.user_id) } name="role" {
                                                    @for r in &grantable {
                                                        option value=(r.as_str()) selected[*r == m.role] { (role_label(&c, *r)) }
                                                    }
                                                }
                                                button.secondary type="submit" { (c.t("people.change")) }
                                            }
                                            form method="post" action={ (base) "/" (m.user_id) "/remove" } {
                                                (csrf_field(c.csrf))
                                                button.danger type="submit" { (c.t("people.remove")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if data.can_manage {
                    h2 { (c.t("people.add")) }
                    form.stack method="post" action=(base) {
                        (csrf_field(c.csrf))
                        label { (c.t("field.email")) span.hint { (c.t("people.add_hint")) } input type="email" name="email" required autocomplete="off"; }
                        label { (c.t("field.role"))
                            select name="role" {
                                @for r in &grantable {
                                    option value=(r.as_str()) selected[*r == Role::Viewer] { (role_label(&c, *r)) }
                                }
                            }
                        }
                        button type="submit" { (c.t("people.add")) }
                    }
                }
            },
        )
    }))
}

/// Which records a member reads, and for those below manager the form that limits them.
fn scope_cell(c: &Chrome, base: &str, m: &super::views::MemberView) -> Markup {
    if m.role >= Role::Manager {
        return html! { (c.t("people.records_all")) };
    }
    html! {
        @if m.role == Role::Collector { p { (c.t("people.records_own")) } }
        @match &m.scope {
            Some(s) => p { (c.t("people.records_scope")) " " code { (s.field) } " = " (s.values.join(", ")) },
            None => @if m.role != Role::Collector { p { (c.t("people.records_all")) } },
        }
        @if m.role >= Role::Collector {
            details {
                summary { (c.t("people.scope_set")) }
                form.stack method="post" action={ (base) "/" (m.user_id) "/scope" } {
                    (csrf_field(c.csrf))
                    label { (c.t("people.scope_field")) span.hint { (c.t("people.scope_field_hint")) }
                        input type="text" name="scope_field" value=(m.scope.as_ref().map(|s| s.field.as_str()).unwrap_or("")) autocomplete="off";
                    }
                    label { (c.t("people.scope_values")) span.hint { (c.t("people.scope_values_hint")) }
                        input type="text" name="scope_values" value=(m.scope.as_ref().map(|s| s.values.join(", ")).unwrap_or_default()) autocomplete="off";
                    }
                    button.secondary type="submit" { (c.t("people.scope_save")) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ScopeForm {
    #[serde(default)]
    scope_field: String,
    #[serde(default)]
    scope_values: String,
}

/// `POST /orgs/{org}/projects/{project}/people/{user}/scope`: limit a member below manager to
/// the records whose answer to a question is one of some values, or (empty question) lift the
/// limit.
pub async fn set_member_scope(
    g: ProjectGuard<ManageMembers>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<ScopeForm>,
) -> WebResult<Response> {
    let user = user_param(&params)?;
    let scope = (!f.scope_field.trim().is_empty()).then(|| baraza_store::MemberScope {
        field: f.scope_field.trim().to_owned(),
        values: f
            .scope_values
            .split([',', '\n'])
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    });
    g.ctx
        .state
        .core
        .set_member_scope(&g.access, user, scope)
        .await?;
    Ok(see_other(&format!(
        "{}/people",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )))
}

#[derive(Deserialize)]
pub struct MemberForm {
    email: String,
    role: String,
}

pub(crate) fn parse_role(s: &str) -> WebResult<Role> {
    s.parse()
        .map_err(|_| WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.role"))
}

/// `POST /orgs/{org}/projects/{project}/people`: add a person or change their role.
pub async fn set_member(
    g: ProjectGuard<ManageMembers>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> WebResult<Response> {
    let role = parse_role(&f.role)?;
    g.ctx
        .state
        .core
        .set_member(&g.access, &f.email, role)
        .await?;
    Ok(see_other(&format!(
        "{}/people",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )))
}

#[derive(Deserialize)]
pub struct Empty {}

pub(crate) fn user_param(params: &HashMap<String, String>) -> WebResult<UserId> {
    params
        .get("user")
        .and_then(|s| s.parse::<i64>().ok())
        .map(UserId)
        .ok_or_else(WebError::not_found)
}

/// `POST /orgs/{org}/projects/{project}/people/{user}/remove`.
pub async fn remove_member(
    g: ProjectGuard<ManageMembers>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let user = user_param(&params)?;
    g.ctx.state.core.remove_member(&g.access, user).await?;
    Ok(see_other(&format!(
        "{}/people",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )))
}

#[derive(Serialize)]
struct OrgPeopleData {
    organisation: OrgView,
    members: Vec<OrgMemberView>,
}

#[derive(Serialize)]
struct OrgMemberView {
    user_id: i64,
    name: String,
    email: String,
    role: OrgRole,
    since: String,
}

/// `GET /orgs/{org}/people` (organisation owners): who owns the organisation (and so all its
/// projects) and who belongs to it.
pub async fn org_people_page(OrgOwner { ctx, org }: OrgOwner) -> WebResult<Response> {
    let members = ctx.state.core.org_members(&ctx.principal, &org).await?;
    let data = OrgPeopleData {
        organisation: OrgView::from(&org),
        members: members
            .iter()
            .map(|m| OrgMemberView {
                user_id: m.user_id.0,
                name: m.name.clone(),
                email: m.email.clone(),
                role: m.role,
                since: crate::pages::iso(m.since),
            })
            .collect(),
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let o = &data.organisation;
        let base = format!("/orgs/{}/people", o.slug);
        let org_role = |r: OrgRole| c.t(&format!("org_role.{}", r.as_str())).to_owned();
        layout(
            &c,
            &format!("{} · {}", c.t("org_people.title"), o.name),
            html! {
                p.muted { a href=(o.url) { (o.name) } }
                h1 { (c.t("org_people.title")) }
                p.muted { (c.t("org_people.help")) }
                table.responsive {
                    thead { tr {
                        th scope="col" { (c.t("field.name")) }
                        th scope="col" { (c.t("field.email")) }
                        th scope="col" { (c.t("field.role")) }
                        th scope="col" { span.skip { (c.t("people.actions")) } }
                    } }
                    tbody {
                        @for m in &data.members {
                            tr {
                                td { (m.name) }
                                td { (m.email) }
                                td { (org_role(m.role)) }
                                td {
                                    form method="post" action=(base) {
                                        (csrf_field(c.csrf))
                                        input type="hidden" name="email" value=(m.email);
                                        label.skip for={ "org-role-" (m.user_id) } { (c.t("field.role")) }
                                        select id={ "org-role-" (m.user_id) } name="role" {
                                            @for r in [OrgRole::Member, OrgRole::Owner] {
                                                option value=(r.as_str()) selected[r == m.role] { (org_role(r)) }
                                            }
                                        }
                                        button.secondary type="submit" { (c.t("people.change")) }
                                    }
                                    form method="post" action={ (base) "/" (m.user_id) "/remove" } {
                                        (csrf_field(c.csrf))
                                        button.danger type="submit" { (c.t("people.remove")) }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { (c.t("people.add")) }
                form.stack method="post" action=(base) {
                    (csrf_field(c.csrf))
                    label { (c.t("field.email")) span.hint { (c.t("people.add_hint")) } input type="email" name="email" required autocomplete="off"; }
                    label { (c.t("field.role"))
                        select name="role" {
                            @for r in [OrgRole::Member, OrgRole::Owner] {
                                option value=(r.as_str()) { (org_role(r)) }
                            }
                        }
                    }
                    button type="submit" { (c.t("people.add")) }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub struct OrgMemberForm {
    email: String,
    role: String,
}

/// `POST /orgs/{org}/people`: add someone to the organisation or change their standing.
pub async fn set_org_member(
    OrgOwner { ctx, org }: OrgOwner,
    CsrfForm(f): CsrfForm<OrgMemberForm>,
) -> WebResult<Response> {
    let role: OrgRole = f
        .role
        .parse()
        .map_err(|_| WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.role"))?;
    ctx.state
        .core
        .set_org_role(&ctx.principal, &org, &f.email, role)
        .await?;
    Ok(see_other(&format!("/orgs/{}/people", org.slug)))
}

/// `POST /orgs/{org}/people/{user}/remove`.
pub async fn remove_org_member(
    OrgOwner { ctx, org }: OrgOwner,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let user = user_param(&params)?;
    ctx.state
        .core
        .remove_org_member(&ctx.principal, &org, user)
        .await?;
    Ok(see_other(&format!("/orgs/{}/people", org.slug)))
}
