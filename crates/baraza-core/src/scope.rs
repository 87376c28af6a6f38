//! Who sees which records: row-level scopes, on top of the role's permissions and the field
//! masks of [`crate::mask`].
//!
//! * A **collector** reads only the records they sent themselves (whose first version came from
//!   their account), on every read path: the table, its twins, exports, ODK Central's API and
//!   feed, a record's page, history, XML, comments and consent.
//! * A member below manager may also be given a **scope** by a manager: only the records whose
//!   answer to one question, found by name in each form (e.g. `region`), is one of a list of
//!   values, as a partner working in one region. A form without that question (or where it is
//!   sealed, a number, or inside a repeat) shows such a member nothing.
//! * Managers and owners see every record; a scope cannot be set on them.
//!
//! The rule is resolved once per request with the access ([`ProjectAccess::rows`]) and, per
//! form, into the store's [`RowScope`] carried by the reader's [`crate::mask::Mask`], which every
//! read path already asks for: lists pass it to the store's queries, single records are checked
//! with [`Core::require_record`]. A record outside the scope does not exist for the reader (404).

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_publish::schema::{FieldKind, Schema};
use baraza_store::{MemberScope, RowScope};
use baraza_types::{Permission, Role, UserId};
use std::sync::Arc;

/// The most values a scope may list.
pub const MAX_SCOPE_VALUES: usize = 200;

/// Which records a member may read in a project, before it is resolved per form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowRule {
    /// Only the records this account sent (collectors).
    pub own: Option<UserId>,
    /// Only the records whose answer to a question is one of some values.
    pub scope: Option<MemberScope>,
}

impl RowRule {
    /// The rule for a member with this effective role and stored scope.
    pub fn for_member(user: UserId, role: Role, scope: Option<MemberScope>) -> RowRule {
        if role >= Role::Manager {
            return RowRule::default();
        }
        RowRule {
            own: (role == Role::Collector).then_some(user),
            scope,
        }
    }

    /// Whether every record is readable.
    pub fn is_all(&self) -> bool {
        self.own.is_none() && self.scope.is_none()
    }

    /// This rule for one form, whose versions' models are given newest first.
    pub(crate) fn resolve(&self, models: &[Arc<baraza_xlsform::Form>]) -> RowScope {
        let mut out = RowScope {
            first_sent_by: self.own.map(|u| u.0),
            ..RowScope::default()
        };
        if let Some(scope) = &self.scope {
            match scope_key(scope, models) {
                Some(key) => out.answer_in = Some((key, scope.values.clone())),
                None => out.nothing = true,
            }
        }
        out
    }
}

/// The `filter_json` key of the scope's question in the newest version that has it, if it can
/// scope records: outside repeats, not protected (sealed answers are not in `filter_json`), and
/// compared as text.
fn scope_key(scope: &MemberScope, models: &[Arc<baraza_xlsform::Form>]) -> Option<String> {
    models.iter().find_map(|model| {
        // The name only names export files, which this does not make.
        let schema = Schema::new(model, "");
        let field = &schema.fields[schema.root_field(&scope.field)?];
        let usable = field.name == scope.field
            && !field.metadata
            && !model.protected_paths().contains(&field.path)
            && matches!(field.kind, FieldKind::Text | FieldKind::SelectOne);
        usable.then(|| format!("$.\"{}\"", field.path))
    })
}

impl Core {
    /// The records of this form that `access` may read (what [`crate::mask::Mask::rows`] carries), for
    /// callers that need no field mask.
    pub async fn rows_for(
        &self,
        access: &ProjectAccess,
        form_id: i64,
    ) -> Result<RowScope, CoreError> {
        if access.rows.is_all() {
            return Ok(RowScope::default());
        }
        Ok(access
            .rows
            .resolve(&self.models_newest_first(form_id).await?))
    }

    /// Fails with `NotFound` unless the record whose first version has this instanceID is
    /// inside `rows` (a reader's [`crate::mask::Mask::rows`] or [`Core::rows_for`]).
    pub async fn require_record(
        &self,
        rows: &RowScope,
        form_id: i64,
        root_instance_id: &str,
    ) -> Result<(), CoreError> {
        if self
            .store
            .record_in_scope(form_id, root_instance_id, rows)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound { what: "submission" })
        }
    }

    /// Sets (or, with `None`, clears) the row-level scope of a member below manager. The
    /// question must exist, outside repeats and not protected, in at least one of the project's
    /// forms, and the values must be a short list of short texts.
    pub async fn set_member_scope(
        &self,
        access: &ProjectAccess,
        user: UserId,
        scope: Option<MemberScope>,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageMembers)?;
        let role = self
            .store
            .project_role(access.project.id, user)
            .await?
            .ok_or(CoreError::NotFound { what: "member" })?;
        let scope = match scope {
            None => None,
            Some(s) => Some(self.checked_scope(access, role, s).await?),
        };
        if !self
            .store
            .set_member_scope(access.project.id, user, scope.as_ref())
            .await?
        {
            return Err(CoreError::NotFound { what: "member" });
        }
        self.audit(
            Actor::of_access(access),
            "member.scope_set",
            &Target::project(access.project.id),
            serde_json::json!({
                "user": user.0,
                "field": scope.as_ref().map(|s| s.field.as_str()),
                "values": scope.as_ref().map(|s| s.values.clone()),
            }),
        )
        .await?;
        Ok(())
    }

    async fn checked_scope(
        &self,
        access: &ProjectAccess,
        role: Role,
        scope: MemberScope,
    ) -> Result<MemberScope, CoreError> {
        let invalid = |field, reason| CoreError::Invalid { field, reason };
        if role >= Role::Manager {
            return Err(invalid("scope_field", "scope.manager"));
        }
        let field = scope.field.trim().to_owned();
        if field.is_empty() {
            return Err(invalid("scope_field", "scope.field_missing"));
        }
        let mut values: Vec<String> = Vec::new();
        for v in scope.values.iter().map(|v| v.trim()) {
            if v.is_empty() || values.iter().any(|x| x == v) {
                continue;
            }
            if v.chars().count() > 200 || v.chars().any(char::is_control) {
                return Err(invalid("scope_values", "scope.value_length"));
            }
            values.push(v.to_owned());
        }
        if values.is_empty() {
            return Err(invalid("scope_values", "scope.values_missing"));
        }
        if values.len() > MAX_SCOPE_VALUES {
            return Err(invalid("scope_values", "scope.values_many"));
        }
        let scope = MemberScope { field, values };
        let mut usable = false;
        for f in self.store.list_forms(access.project.id).await? {
            let models = self.models_newest_first(f.form.id).await?;
            if scope_key(&scope, &models).is_some() {
                usable = true;
                break;
            }
        }
        if !usable {
            return Err(invalid("scope_field", "scope.field_unknown"));
        }
        Ok(scope)
    }

    /// The models of every version of a form, newest first.
    pub(crate) async fn models_newest_first(
        &self,
        form_id: i64,
    ) -> Result<Vec<Arc<baraza_xlsform::Form>>, CoreError> {
        let mut ids = self.store.form_version_ids(form_id).await?;
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.form_model(id).await?);
        }
        Ok(out)
    }
}
