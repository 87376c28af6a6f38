//! Rows as the rest of Baraza sees them.

use baraza_types::{OrgId, OrgRole, ProjectId, Role, TokenId, UserId, Visibility};

/// An account. `password_hash` is an Argon2id PHC string, never a password.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    /// The language the person chose (`en`, `fr`), if they chose one.
    pub locale: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub locale: Option<&'a str>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: ProjectId,
    pub org_id: OrgId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    pub org: OrgId,
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
    pub owner: Option<UserId>,
    pub created_at: i64,
}

/// A project in a list, with its organisation and the viewer's standing in it.
#[derive(Debug, Clone)]
pub struct ProjectListing {
    pub project: Project,
    pub org_slug: String,
    pub org_name: String,
    pub member_role: Option<Role>,
    pub org_owner: bool,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub since: i64,
    /// The records this member is limited to, beyond what their role allows.
    pub scope: Option<MemberScope>,
}

/// A member's row-level scope: only the records whose answer to the question named `field` (a
/// question outside repeats, found by name in each form) is one of `values` (choice names or
/// texts, compared exactly).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberScope {
    pub field: String,
    pub values: Vec<String>,
}

/// A person's standing in an organisation.
#[derive(Debug, Clone)]
pub struct OrgMember {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: OrgRole,
    pub since: i64,
}

/// The outcome of a change of membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Done,
    /// Refused: the project would be left without an owner.
    LastOwner,
    /// The person was not a member.
    NotMember,
}

/// A server-side session. The cookie holds a random secret; only its SHA-256 is stored here.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An API token. Only the SHA-256 of the secret is stored; `prefix` lets people recognise it.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: TokenId,
    pub token_hash: String,
    pub prefix: String,
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub role: Role,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub user: UserId,
    pub project: ProjectId,
    pub role: Role,
    pub name: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct ApiTokenListing {
    pub token: ApiToken,
    pub project_slug: String,
    pub project_name: String,
    pub org_slug: String,
}
