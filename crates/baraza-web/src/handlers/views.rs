//! The JSON shapes of Baraza's pages and API. Documented in docs/api.md; fields are only added,
//! never renamed, within `/api/v1`.

use crate::pages::iso;
use baraza_core::ProjectAccess;
use baraza_store::{ApiTokenListing, Member, Org, Project, ProjectListing, User};
use baraza_types::{Permission, Role, Visibility};
use serde::Serialize;

#[derive(Serialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub locale: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
            is_admin: u.is_admin,
            locale: u.locale.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct OrgView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub created: String,
}

impl From<&Org> for OrgView {
    fn from(o: &Org) -> Self {
        OrgView {
            slug: o.slug.clone(),
            name: o.name.clone(),
            description: o.description.clone(),
            url: format!("/orgs/{}", o.slug),
            created: iso(o.created_at),
        }
    }
}

#[derive(Serialize)]
pub struct ProjectView {
    pub id: i64,
    pub org: String,
    pub org_name: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub url: String,
    pub created: String,
    /// The viewer's effective role, if they have one.
    pub your_role: Option<Role>,
}

pub fn project_url(org: &str, project: &str) -> String {
    format!("/orgs/{org}/projects/{project}")
}

impl ProjectView {
    pub fn new(org_slug: &str, org_name: &str, p: &Project, role: Option<Role>) -> Self {
        ProjectView {
            id: p.id.0,
            org: org_slug.to_owned(),
            org_name: org_name.to_owned(),
            slug: p.slug.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            visibility: p.visibility,
            url: project_url(org_slug, &p.slug),
            created: iso(p.created_at),
            your_role: role,
        }
    }

    pub fn from_listing(l: &ProjectListing) -> Self {
        let role = if l.org_owner {
            Some(Role::Owner)
        } else {
            l.member_role
        };
        ProjectView::new(&l.org_slug, &l.org_name, &l.project, role)
    }

    pub fn from_access(a: &ProjectAccess) -> Self {
        ProjectView::new(&a.org.slug, &a.org.name, &a.project, a.role)
    }
}

#[derive(Serialize)]
pub struct MemberView {
    pub user_id: i64,
    pub name: String,
    /// Shown only to those who manage the project's people.
    pub email: Option<String>,
    pub role: Role,
    pub since: String,
    /// The records they are limited to (see `baraza_core::scope`), shown only to those who
    /// manage the project's people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<baraza_store::MemberScope>,
}

pub fn members_view(access: &ProjectAccess, members: &[Member]) -> Vec<MemberView> {
    let show_email = access.can(Permission::ManageMembers);
    members
        .iter()
        .map(|m| MemberView {
            user_id: m.user_id.0,
            name: m.name.clone(),
            email: show_email.then(|| m.email.clone()),
            role: m.role,
            since: iso(m.since),
            scope: m.scope.clone().filter(|_| show_email),
        })
        .collect()
}

#[derive(Serialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub project: String,
    pub role: Role,
    pub created: String,
    pub expires: String,
    pub revoked: Option<String>,
    pub last_used: Option<String>,
    pub active: bool,
}

pub fn token_view(t: &ApiTokenListing, now: i64) -> TokenView {
    let k = &t.token;
    TokenView {
        id: k.id.0,
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        project: format!("{}/{}", t.org_slug, t.project_slug),
        role: k.role,
        created: iso(k.created_at),
        expires: iso(k.expires_at),
        revoked: k.revoked_at.map(iso),
        last_used: k.last_used_at.map(iso),
        active: k.revoked_at.is_none() && k.expires_at > now,
    }
}
