//! Organisations, projects and the people in them.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_store::{
    Member, MemberChange, NewProject, Org, OrgMember, Project, ProjectListing, StoreError,
};
use baraza_types::{check_slug, slugify, OrgRole, Permission, Role, UserId, Visibility};

/// An organisation's page: the organisation and the projects the viewer may see.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub org: Org,
    pub projects: Vec<ProjectListing>,
    /// Whether the viewer may create projects here.
    pub can_create_project: bool,
}

/// What a new project needs.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    pub name: String,
    /// Derived from the name when empty.
    pub slug: String,
    pub description: String,
    pub visibility: Visibility,
}

fn check_name(name: &str) -> Result<&str, CoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CoreError::Invalid {
            field: "name",
            reason: "name_length",
        });
    }
    Ok(name)
}

pub(crate) fn check_description(d: &str) -> Result<&str, CoreError> {
    let d = d.trim();
    if d.chars().count() > 5000 {
        return Err(CoreError::Invalid {
            field: "description",
            reason: "description_length",
        });
    }
    Ok(d)
}

pub(crate) fn pick_slug(slug: &str, name: &str) -> Result<String, CoreError> {
    let slug = if slug.trim().is_empty() {
        slugify(name)
    } else {
        slug.trim().to_owned()
    };
    check_slug(&slug).map_err(|reason| CoreError::InvalidSlug {
        slug: slug.clone(),
        reason,
    })?;
    Ok(slug)
}

impl Core {
    /// Every organisation (their names are public; their projects may not be).
    pub async fn list_orgs(&self) -> Result<Vec<Org>, CoreError> {
        Ok(self.store.list_orgs().await?)
    }

    /// Creates an organisation; only site administrators may. `owner` becomes its owner (the
    /// administrator by default).
    pub async fn create_org(
        &self,
        principal: &Principal,
        name: &str,
        slug: &str,
        description: &str,
        owner: Option<UserId>,
    ) -> Result<Org, CoreError> {
        let user = principal.require_admin()?;
        let name = check_name(name)?;
        let description = check_description(description)?;
        let slug = pick_slug(slug, name)?;
        match self
            .store
            .create_org(
                &slug,
                name,
                description,
                Some(owner.unwrap_or(user.id)),
                self.now(),
            )
            .await
        {
            Err(StoreError::Conflict { .. }) => Err(CoreError::SlugTaken { slug }),
            Err(e) => Err(e.into()),
            Ok(org) => {
                self.audit(
                    Actor::User(user.id),
                    "org.created",
                    &Target::org(&org.slug),
                    serde_json::json!({ "owner": owner.unwrap_or(user.id).0 }),
                )
                .await?;
                Ok(org)
            }
        }
    }

    /// The members of an organisation (its owners may see them).
    pub async fn org_members(
        &self,
        principal: &Principal,
        org: &Org,
    ) -> Result<Vec<OrgMember>, CoreError> {
        if !self.is_org_owner(principal, org).await? {
            return Err(CoreError::Forbidden);
        }
        Ok(self.store.list_org_members(org.id).await?)
    }

    /// Makes the person with this e-mail address a member or owner of an organisation. Owners of
    /// an organisation are owners of all its projects. An organisation keeps at least one owner.
    pub async fn set_org_role(
        &self,
        principal: &Principal,
        org: &Org,
        email: &str,
        role: OrgRole,
    ) -> Result<(), CoreError> {
        if !self.is_org_owner(principal, org).await? {
            return Err(CoreError::Forbidden);
        }
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(CoreError::NotFound { what: "account" })?;
        match self
            .store
            .set_org_member(org.id, user.id, role, self.now())
            .await?
        {
            MemberChange::LastOwner => Err(CoreError::LastOwner),
            _ => {
                self.audit(
                    Actor::of(principal),
                    "org.role_set",
                    &Target::org(&org.slug),
                    serde_json::json!({ "user": user.id.0, "role": role.as_str() }),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// Removes someone from an organisation.
    pub async fn remove_org_member(
        &self,
        principal: &Principal,
        org: &Org,
        user: UserId,
    ) -> Result<(), CoreError> {
        if !self.is_org_owner(principal, org).await? {
            return Err(CoreError::Forbidden);
        }
        match self.store.remove_org_member(org.id, user).await? {
            MemberChange::Done => {
                self.audit(
                    Actor::of(principal),
                    "org.member_removed",
                    &Target::org(&org.slug),
                    serde_json::json!({ "user": user.0 }),
                )
                .await?;
                Ok(())
            }
            MemberChange::LastOwner => Err(CoreError::LastOwner),
            MemberChange::NotMember => Err(CoreError::NotFound { what: "member" }),
        }
    }

    /// An organisation's page, as `principal` may see it.
    pub async fn org_view(&self, principal: &Principal, slug: &str) -> Result<OrgView, CoreError> {
        let org = self
            .store
            .org_by_slug(slug)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        let projects = self.visible_projects(principal, Some(&org)).await?;
        let can_create_project = self.is_org_owner(principal, &org).await?;
        Ok(OrgView {
            org,
            projects,
            can_create_project,
        })
    }

    /// The projects `principal` may see, in one organisation or in all.
    pub async fn visible_projects(
        &self,
        principal: &Principal,
        org: Option<&Org>,
    ) -> Result<Vec<ProjectListing>, CoreError> {
        let mut list = self
            .store
            .list_projects(org.map(|o| o.id), principal.user().map(|u| u.id), false)
            .await?;
        if let Principal::User {
            via: crate::Via::Token { project, .. },
            ..
        } = principal
        {
            // A token sees only its own project.
            list.retain(|p| p.project.id == *project);
        }
        Ok(list)
    }

    /// Creates a project in `org`; organisation owners (and site administrators) may. The creator
    /// becomes its owner.
    pub async fn create_project(
        &self,
        principal: &Principal,
        org_slug: &str,
        input: &ProjectInput,
    ) -> Result<Project, CoreError> {
        let user = principal.require_session_user()?;
        let org = self
            .store
            .org_by_slug(org_slug)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        if !self.is_org_owner(principal, &org).await? {
            return Err(CoreError::Forbidden);
        }
        let name = check_name(&input.name)?;
        let description = check_description(&input.description)?;
        let slug = pick_slug(&input.slug, name)?;
        match self
            .store
            .create_project(&NewProject {
                org: org.id,
                slug: &slug,
                name,
                description,
                visibility: input.visibility,
                owner: Some(user.id),
                created_at: self.now(),
            })
            .await
        {
            Err(StoreError::Conflict { .. }) => Err(CoreError::SlugTaken { slug }),
            Err(e) => Err(e.into()),
            Ok(project) => {
                self.audit(
                    Actor::User(user.id),
                    "project.created",
                    &Target::project(project.id),
                    serde_json::json!({ "org": org.slug, "slug": project.slug, "visibility": input.visibility.as_str() }),
                )
                .await?;
                Ok(project)
            }
        }
    }

    /// Changes a project's name, description and visibility (owners only).
    pub async fn update_project(
        &self,
        access: &ProjectAccess,
        name: &str,
        description: &str,
        visibility: Visibility,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageProject)?;
        let name = check_name(name)?;
        let description = check_description(description)?;
        self.store
            .update_project(access.project.id, name, description, visibility)
            .await?;
        self.audit(
            Actor::of_access(access),
            "project.updated",
            &Target::project(access.project.id),
            serde_json::json!({ "visibility": visibility.as_str() }),
        )
        .await?;
        Ok(())
    }

    /// The people of a project.
    pub async fn members(&self, access: &ProjectAccess) -> Result<Vec<Member>, CoreError> {
        access.require(Permission::ViewMembers)?;
        Ok(self.store.list_members(access.project.id).await?)
    }

    /// Adds a person (by e-mail address) to a project, or changes their role.
    ///
    /// Managers may give any role but owner; only owners make or unmake owners. A project always
    /// keeps at least one owner.
    pub async fn set_member(
        &self,
        access: &ProjectAccess,
        email: &str,
        role: Role,
    ) -> Result<Member, CoreError> {
        access.require(Permission::ManageMembers)?;
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(CoreError::NotFound { what: "account" })?;
        let membership = self
            .store
            .project_membership(access.project.id, user.id)
            .await?;
        let current = membership.as_ref().map(|(r, _)| *r);
        if role == Role::Owner || current == Some(Role::Owner) {
            access.require(Permission::GrantOwner)?;
        }
        match self
            .store
            .set_member_role(access.project.id, user.id, role, self.now())
            .await?
        {
            MemberChange::LastOwner => Err(CoreError::LastOwner),
            _ => {
                self.audit(
                    Actor::of_access(access),
                    "member.role_set",
                    &Target::project(access.project.id),
                    serde_json::json!({
                        "user": user.id.0,
                        "role": role.as_str(),
                        "previous": current.map(|r| r.as_str()),
                    }),
                )
                .await?;
                Ok(Member {
                    user_id: user.id,
                    email: user.email,
                    name: user.name,
                    role,
                    since: self.now(),
                    // Kept across changes of role; it applies only below manager.
                    scope: membership.and_then(|(_, s)| s),
                })
            }
        }
    }

    /// Removes a person from a project.
    pub async fn remove_member(
        &self,
        access: &ProjectAccess,
        user: UserId,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageMembers)?;
        let current = self.store.project_role(access.project.id, user).await?;
        if current == Some(Role::Owner) {
            access.require(Permission::GrantOwner)?;
        }
        match self.store.remove_member(access.project.id, user).await? {
            MemberChange::Done => {
                self.audit(
                    Actor::of_access(access),
                    "member.removed",
                    &Target::project(access.project.id),
                    serde_json::json!({ "user": user.0, "previous": current.map(|r| r.as_str()) }),
                )
                .await?;
                Ok(())
            }
            MemberChange::LastOwner => Err(CoreError::LastOwner),
            MemberChange::NotMember => Err(CoreError::NotFound { what: "member" }),
        }
    }
}
