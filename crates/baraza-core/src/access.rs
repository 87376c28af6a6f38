//! Who is asking, and what they may do in a project.
//!
//! A request carries a [`Principal`]. For a project, [`Core::project_access`] works out the
//! principal's *effective role* once:
//!
//! * a member's role in the project, raised to `owner` for owners of the project's organisation;
//! * through an API token, the lesser of the token's role and the person's current role, and
//!   nothing at all outside the token's project;
//! * for anyone else, no role: a public project shows its page, a private one does not exist.
//!
//! Then [`ProjectAccess::require`] checks one permission against `Role::grants`.
//! Site administrators run the instance (organisations, accounts) but hold no role in projects by
//! virtue of that: seeing people's data takes a role given in the project, which is visible there.

use crate::scope::RowRule;
use crate::{Core, CoreError};
use baraza_store::{Org, Project, User};
use baraza_types::{OrgRole, Permission, ProjectId, Role, TokenId, Visibility};

/// How a signed-in person reached us.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session; `csrf_token` must accompany every state-changing form.
    Session { id_hash: String, csrf_token: String },
    /// An API token, limited to one project and a role.
    Token {
        token_id: TokenId,
        project: ProjectId,
        role: Role,
    },
    /// The command line, run by whoever controls the server.
    Cli,
    /// Credentials in the `Authorization` header, checked on this request: HTTP Basic (OpenRosa,
    /// Central's API) or Digest (OpenRosa, for accounts that allowed it).
    Basic,
}

/// Who is making a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    User { user: Box<User>, via: Via },
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User { user, .. } => Some(user),
            Principal::Anonymous => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_admin)
    }

    /// The signed-in user, or `Unauthenticated`.
    pub fn require_user(&self) -> Result<&User, CoreError> {
        self.user().ok_or(CoreError::Unauthenticated)
    }

    /// The signed-in user reached through a browser session (not a token), or an error: some
    /// actions (minting tokens, changing a password) must not be done with a token.
    pub fn require_session_user(&self) -> Result<&User, CoreError> {
        match self {
            Principal::User {
                user,
                via: Via::Session { .. } | Via::Cli,
            } => Ok(user),
            Principal::User {
                via: Via::Token { .. } | Via::Basic,
                ..
            } => Err(CoreError::TokenScope),
            Principal::Anonymous => Err(CoreError::Unauthenticated),
        }
    }

    /// A site administrator reached through a browser session, or an error.
    pub fn require_admin(&self) -> Result<&User, CoreError> {
        let user = self.require_session_user()?;
        if user.is_admin {
            Ok(user)
        } else {
            Err(CoreError::Forbidden)
        }
    }

    pub fn session_id_hash(&self) -> Option<&str> {
        match self {
            Principal::User {
                via: Via::Session { id_hash, .. },
                ..
            } => Some(id_hash),
            _ => None,
        }
    }
}

/// A principal's standing in one project, resolved once per request.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub org: Org,
    pub project: Project,
    /// The effective role, if any.
    pub role: Option<Role>,
    /// The account asking, if signed in (what the audit log names as the actor).
    pub user: Option<baraza_types::UserId>,
    /// Which records they may read (see [`crate::scope`]); every record when no role limits it.
    pub rows: RowRule,
    anonymous: bool,
    via_token: bool,
}

impl ProjectAccess {
    /// A viewer's standing without an account: what the catalogue uses to read what a
    /// published dataset makes public (an indicator's suppressed figures). Never given to a
    /// request.
    pub(crate) fn reader(org: Org, project: Project) -> ProjectAccess {
        ProjectAccess {
            org,
            project,
            role: Some(Role::Viewer),
            user: None,
            rows: RowRule::default(),
            anonymous: false,
            via_token: false,
        }
    }

    /// Allows the action, or says why not.
    ///
    /// Outsiders to a private project get `NotFound` (its existence is not disclosed), anonymous
    /// visitors get `Unauthenticated` where signing in could help, members whose role is too low
    /// get `Forbidden` (or `TokenScope` when it is their token's role that is too low).
    pub fn require(&self, permission: Permission) -> Result<Role, CoreError> {
        if let Some(role) = self.role {
            if role.grants(permission) {
                return Ok(role);
            }
            return Err(if self.via_token {
                CoreError::TokenScope
            } else {
                CoreError::Forbidden
            });
        }
        let public = self.project.visibility == Visibility::Public;
        if public && permission == Permission::ViewProject {
            // Anyone may see a public project's page; this is the one thing without a role.
            return Ok(Role::Viewer);
        }
        if self.anonymous {
            return Err(CoreError::Unauthenticated);
        }
        if public {
            Err(CoreError::Forbidden)
        } else {
            Err(CoreError::NotFound { what: "project" })
        }
    }

    /// Whether the action would be allowed, for showing or hiding links and forms.
    pub fn can(&self, permission: Permission) -> bool {
        self.require(permission).is_ok()
    }
}

impl Core {
    /// Resolves `principal`'s standing in the project with this id (OpenRosa paths use ids).
    pub async fn project_access_by_id(
        &self,
        principal: &Principal,
        project: baraza_types::ProjectId,
    ) -> Result<ProjectAccess, CoreError> {
        let p = self
            .store
            .project_by_id(project)
            .await?
            .ok_or(CoreError::NotFound { what: "project" })?;
        let org = self
            .store
            .org_by_id(p.org_id)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        self.project_access(principal, &org.slug, &p.slug).await
    }

    /// Resolves `principal`'s standing in the project `org_slug/project_slug`.
    pub async fn project_access(
        &self,
        principal: &Principal,
        org_slug: &str,
        project_slug: &str,
    ) -> Result<ProjectAccess, CoreError> {
        let org = self
            .store
            .org_by_slug(org_slug)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        let project = self
            .store
            .project_by_slug(org.id, project_slug)
            .await?
            .ok_or(CoreError::NotFound { what: "project" })?;
        let mut scope = None;
        let (role, via_token) = match principal {
            Principal::Anonymous => (None, false),
            Principal::User { user, via } => {
                let member = self.store.project_membership(project.id, user.id).await?;
                let org_owner = self.store.org_role(org.id, user.id).await? == Some(OrgRole::Owner);
                let own = if org_owner {
                    Some(Role::Owner)
                } else {
                    member.map(|(role, s)| {
                        scope = s;
                        role
                    })
                };
                match via {
                    Via::Token {
                        project: scope,
                        role: cap,
                        ..
                    } => {
                        if *scope != project.id {
                            return Err(CoreError::TokenScope);
                        }
                        (own.map(|r| r.min(*cap)), true)
                    }
                    Via::Session { .. } | Via::Cli | Via::Basic => (own, false),
                }
            }
        };
        let user = principal.user().map(|u| u.id);
        let rows = match (user, role) {
            (Some(u), Some(r)) => RowRule::for_member(u, r, scope),
            // Without a role nothing is readable anyway.
            _ => RowRule::default(),
        };
        Ok(ProjectAccess {
            org,
            project,
            role,
            user,
            rows,
            anonymous: matches!(principal, Principal::Anonymous),
            via_token,
        })
    }

    /// Whether `principal` owns the organisation (or administers the site).
    pub async fn is_org_owner(&self, principal: &Principal, org: &Org) -> Result<bool, CoreError> {
        let Some(user) = principal.user() else {
            return Ok(false);
        };
        if matches!(
            principal,
            Principal::User {
                via: Via::Token { .. },
                ..
            }
        ) {
            // Tokens are scoped to a project, never to an organisation.
            return Ok(false);
        }
        if user.is_admin {
            return Ok(true);
        }
        Ok(self.store.org_role(org.id, user.id).await? == Some(OrgRole::Owner))
    }
}
