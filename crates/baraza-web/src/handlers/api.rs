//! The JSON API under `/api/v1/`, for scripts and other tools, with API tokens
//! (`Authorization: Bearer bz_…`) or a session.

use super::orgs::{parse_role, user_param};
use super::views::{members_view, MemberView, ProjectView, UserView};
use crate::ctx::{
    ApiJson, CsrfHeader, Ctx, ManageMembers, ProjectGuard, SignedIn, ViewMembers, ViewProject,
};
use crate::error::WebResult;
use axum::extract::Path;
use axum::Json;
use baraza_core::Via;
use baraza_store::Member;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize)]
pub struct MeData {
    ok: bool,
    user: UserView,
    /// `session`, `token` or `cli`.
    auth: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<TokenScope>,
}

#[derive(Serialize)]
pub struct TokenScope {
    id: i64,
    project_id: i64,
    role: baraza_types::Role,
}

/// `GET /api/v1/me`: who the credentials belong to and what they are limited to.
pub async fn me(SignedIn { ctx }: SignedIn) -> WebResult<Json<MeData>> {
    let (user, via) = match &ctx.principal {
        baraza_core::Principal::User { user, via } => (user, via),
        baraza_core::Principal::Anonymous => {
            return Err(baraza_core::CoreError::Unauthenticated.into())
        }
    };
    let (auth, token) = match via {
        Via::Session { .. } => ("session", None),
        Via::Cli => ("cli", None),
        Via::Basic => ("basic", None),
        Via::Token {
            token_id,
            project,
            role,
        } => (
            "token",
            Some(TokenScope {
                id: token_id.0,
                project_id: project.0,
                role: *role,
            }),
        ),
    };
    Ok(Json(MeData {
        ok: true,
        user: UserView::from(user.as_ref()),
        auth,
        token,
    }))
}

#[derive(Serialize)]
pub struct ProjectsData {
    ok: bool,
    projects: Vec<ProjectView>,
}

/// `GET /api/v1/projects`: the projects the caller may see.
pub async fn projects(ctx: Ctx) -> WebResult<Json<ProjectsData>> {
    let list = ctx
        .state
        .core
        .visible_projects(&ctx.principal, None)
        .await?;
    Ok(Json(ProjectsData {
        ok: true,
        projects: list.iter().map(ProjectView::from_listing).collect(),
    }))
}

#[derive(Serialize)]
pub struct ProjectData {
    ok: bool,
    project: ProjectView,
}

/// `GET /api/v1/projects/{org}/{project}`.
pub async fn project(g: ProjectGuard<ViewProject>) -> WebResult<Json<ProjectData>> {
    Ok(Json(ProjectData {
        ok: true,
        project: ProjectView::from_access(&g.access),
    }))
}

#[derive(Serialize)]
pub struct MembersData {
    ok: bool,
    members: Vec<MemberView>,
}

/// `GET /api/v1/projects/{org}/{project}/members`.
pub async fn members(g: ProjectGuard<ViewMembers>) -> WebResult<Json<MembersData>> {
    let members = g.ctx.state.core.members(&g.access).await?;
    Ok(Json(MembersData {
        ok: true,
        members: members_view(&g.access, &members),
    }))
}

#[derive(Deserialize)]
pub struct MemberBody {
    email: String,
    role: String,
}

#[derive(Serialize)]
pub struct MemberData {
    ok: bool,
    member: MemberView,
}

/// `POST /api/v1/projects/{org}/{project}/members` with `{"email": "…", "role": "analyst"}`.
pub async fn set_member(
    g: ProjectGuard<ManageMembers>,
    ApiJson(body): ApiJson<MemberBody>,
) -> WebResult<Json<MemberData>> {
    let role = parse_role(&body.role)?;
    let m: Member = g
        .ctx
        .state
        .core
        .set_member(&g.access, &body.email, role)
        .await?;
    let member = members_view(&g.access, std::slice::from_ref(&m))
        .pop()
        // Invariant: one member in, one view out.
        .ok_or(baraza_core::CoreError::NotFound { what: "member" })?;
    Ok(Json(MemberData { ok: true, member }))
}

#[derive(Serialize)]
pub struct Done {
    ok: bool,
}

/// `DELETE /api/v1/projects/{org}/{project}/members/{user}`.
pub async fn remove_member(
    g: ProjectGuard<ManageMembers>,
    Path(params): Path<HashMap<String, String>>,
    _csrf: CsrfHeader,
) -> WebResult<Json<Done>> {
    let user = user_param(&params)?;
    g.ctx.state.core.remove_member(&g.access, user).await?;
    Ok(Json(Done { ok: true }))
}
