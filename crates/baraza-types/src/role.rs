//! Roles and the permissions they grant.
//!
//! One table, [`Role::grants`], says what each role may do; `baraza-core` consults only it.
//! Later features add permissions here, and the table-driven tests of the web router walk them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person's role in one project.
///
/// Ordered from least to most trusted, so that a token's role can be capped by the owner's role
/// with `min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads what the project shares with its members: dashboards, aggregates, published data.
    Viewer,
    /// Fills forms and submits data in the field; sees their own submissions.
    Collector,
    /// Reads and analyses the project's data, with personal fields masked.
    Analyst,
    /// Runs the project day to day: people, forms, reviews. Also the data-protection officer's role.
    Manager,
    /// Answers for the project: everything a manager does, plus settings, owners and deletion.
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Collector,
        Role::Analyst,
        Role::Manager,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Collector => "collector",
            Role::Analyst => "analyst",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    /// The permission table: the one place that says what a role may do.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ViewProject | ViewMembers | ViewForms => true,
            SubmitData => self >= Role::Collector,
            // Collectors read only the records they sent: see baraza_core::scope.
            ViewData => self >= Role::Collector,
            // Analysts moderate reports without seeing who sent them.
            ModerateReports => self >= Role::Analyst,
            ManageMembers | ManageForms | ManageAppUsers | ReviewData | EditData | ViewAudit
            | ViewPersonal | KeepRegisters | ReleaseData | ManageIndicators | PublishData => {
                self >= Role::Manager
            }
            GrantOwner | ManageProject => self == Role::Owner,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// What a principal may do within a project. See [`Role::grants`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the project page and its public facts.
    ViewProject,
    /// See who works on the project and in which role.
    ViewMembers,
    /// Add people, change their roles (up to manager), remove them.
    ManageMembers,
    /// Make someone an owner, or change an owner's role.
    GrantOwner,
    /// Change the project's name, description and visibility.
    ManageProject,
    /// See the project's forms and download them.
    ViewForms,
    /// Fill in forms and submit data.
    SubmitData,
    /// Read the project's submissions: personal fields masked below manager, and only the
    /// records within the reader's row scope (a collector's own; a member's scope).
    ViewData,
    /// Upload forms and new versions, publish and close them.
    ManageForms,
    /// Create and revoke the app users that ODK Collect signs in as.
    ManageAppUsers,
    /// Set the review state of submissions and comment on them.
    ReviewData,
    /// Correct submissions (each edit is a new version, with who and why).
    EditData,
    /// Read the project's accountability records: the audit log (who signed in, read, exported
    /// or changed what), the record of processing, the incident register, the data protection
    /// impact assessment and the data-sharing agreements.
    ViewAudit,
    /// Keep the project's registers: record and update incidents and data-sharing agreements,
    /// answer the impact assessment's questions.
    KeepRegisters,
    /// See answers to `personal` and `sensitive` fields in clear (others see them masked).
    ViewPersonal,
    /// Prepare releases of a form's microdata (keys, recodings, suppression, checked against the
    /// project's release policy), release them and set that policy.
    ReleaseData,
    /// Define the project's indicators, import official series beside them.
    ManageIndicators,
    /// Put the project's released tables, indicator series and files in the open-data
    /// catalogue, edit, publish and withdraw them.
    PublishData,
    /// Moderate the project's citizen reports: the queue of every state, the checklist, moving
    /// reports between states, comments, the exact positions. Not the senders' numbers (that
    /// is `ViewPersonal`).
    ModerateReports,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ViewProject,
        Permission::ViewMembers,
        Permission::ManageMembers,
        Permission::GrantOwner,
        Permission::ManageProject,
        Permission::ViewForms,
        Permission::SubmitData,
        Permission::ViewData,
        Permission::ManageForms,
        Permission::ManageAppUsers,
        Permission::ReviewData,
        Permission::EditData,
        Permission::ViewAudit,
        Permission::KeepRegisters,
        Permission::ViewPersonal,
        Permission::ReleaseData,
        Permission::ManageIndicators,
        Permission::PublishData,
        Permission::ModerateReports,
    ];

    /// The least role that holds this permission.
    pub fn min_role(self) -> Role {
        Role::ALL
            .into_iter()
            .find(|r| r.grants(self))
            // Invariant: every permission is granted to owners (checked by a test below).
            .unwrap_or(Role::Owner)
    }
}

/// A person's standing in an organisation. Organisation owners create projects and act as owners
/// of every project of the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Member,
    Owner,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Member => "member",
            OrgRole::Owner => "owner",
        }
    }
}

impl FromStr for OrgRole {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "member" => Ok(OrgRole::Member),
            "owner" => Ok(OrgRole::Owner),
            _ => Err(()),
        }
    }
}

/// Who may see a project without being a member of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only members see it.
    Private,
    /// Everyone, signed in or not, sees the project page and what it publishes.
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }
}

impl FromStr for Visibility {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_hold_every_permission() {
        for p in Permission::ALL {
            assert!(Role::Owner.grants(p), "{p:?}");
        }
    }

    #[test]
    fn grants_are_monotonic() {
        // A more trusted role never loses a permission that a less trusted one has.
        for p in Permission::ALL {
            for w in Role::ALL.windows(2) {
                assert!(
                    !w[0].grants(p) || w[1].grants(p),
                    "{p:?}: {:?} -> {:?}",
                    w[0],
                    w[1]
                );
            }
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn min_roles() {
        assert_eq!(Permission::ViewProject.min_role(), Role::Viewer);
        assert_eq!(Permission::ManageMembers.min_role(), Role::Manager);
        assert_eq!(Permission::ManageProject.min_role(), Role::Owner);
    }
}
