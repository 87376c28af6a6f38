//! Reuses: what people made with the catalogue's datasets, as on data.gouv.fr.
//!
//! Anyone signed in registers a reuse (an article, a visualisation, an application…) of one
//! or more datasets they can see. Its owner edits and deletes it; site administrators and
//! the managers of a linked dataset's project hide it with a reason (moderation). A dataset's
//! reuse count is the number of its reuses that are not hidden; it lives in the catalogue's
//! index (sorting by `num_reuses`) and is fed back to the project that published the data.
//!
//! **Invariant:** a reuse never names a dataset its reader cannot see. A reuse whose datasets
//! the reader can see none of is not shown to them at all (except to its owner and to site
//! administrators), since its title and text may describe what it was made from.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::catalogue::{Catalogue, Viewer};
use crate::{Core, CoreError};
use baraza_catalogue::Dataset;
use baraza_store::{ReuseRow, ReuseWrite};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;

/// uData's reuse types, in the order forms offer them.
pub const REUSE_TYPES: [&str; 8] = [
    "news_article",
    "visualization",
    "application",
    "api",
    "paper",
    "post",
    "idea",
    "hardware",
];
/// The longest title, topic, description and URL a reuse may have (in characters).
pub const MAX_TITLE: usize = 200;
pub const MAX_TOPIC: usize = 100;
pub const MAX_DESCRIPTION: usize = 5000;
pub const MAX_URL: usize = 2000;
/// The most datasets one reuse may name.
pub const MAX_DATASETS: usize = 50;
/// Reuses one account may register per hour.
const REUSES_PER_HOUR: i64 = 20;

/// A reuse as a form or an API gives it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReuseInput {
    pub title: String,
    /// One of [`REUSE_TYPES`].
    pub kind: String,
    pub url: String,
    pub description: String,
    pub topic: String,
    /// Dataset names (or ids).
    pub datasets: Vec<String>,
}

/// A dataset as a reuse names it.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetLink {
    pub name: String,
    pub title: String,
    /// The publishing organisation's slug and name.
    pub organization: String,
    pub organization_title: String,
}

/// A reuse as one reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ReuseView {
    pub id: i64,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub description: String,
    pub topic: String,
    /// The name of the person who registered it.
    pub owner: String,
    pub created: i64,
    pub modified: i64,
    pub hidden: bool,
    /// Why it was hidden (told to its owner and to moderators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
    /// The datasets it is made with that the reader can see.
    pub datasets: Vec<DatasetLink>,
    /// Whether the reader may edit and delete it (its owner, a site administrator).
    pub can_edit: bool,
    /// Whether the reader may hide it (a site administrator, a manager of a dataset's project).
    pub can_moderate: bool,
}

/// A checked reuse: its fields and its datasets' row ids.
struct Checked {
    title: String,
    kind: String,
    url: String,
    description: String,
    topic: String,
    rows: Vec<i64>,
    names: Vec<String>,
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

/// A reuse's address: an absolute `http` or `https` URL with a host and no credentials,
/// at most [`MAX_URL`] characters. Returned normalised.
pub fn check_url(raw: &str) -> Result<String, CoreError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("url", "reuse_url_missing"));
    }
    if raw.chars().count() > MAX_URL || raw.chars().any(char::is_control) {
        return Err(invalid("url", "reuse_url"));
    }
    let u = url::Url::parse(raw).map_err(|_| invalid("url", "reuse_url"))?;
    if !matches!(u.scheme(), "http" | "https")
        || u.host_str().is_none_or(str::is_empty)
        || !u.username().is_empty()
        || u.password().is_some()
    {
        return Err(invalid("url", "reuse_url"));
    }
    Ok(u.to_string())
}

/// A text field trimmed, at most `max` characters; a required one not empty.
pub(crate) fn text(
    raw: &str,
    max: usize,
    required: bool,
    field: &'static str,
    reason: &'static str,
) -> Result<String, CoreError> {
    let t = raw.trim();
    if (required && t.is_empty()) || t.chars().count() > max {
        return Err(invalid(field, reason));
    }
    // Line breaks are kept (they are shown); other control characters are not.
    Ok(t.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect())
}

fn target(id: i64) -> Target {
    Target {
        project: None,
        text: format!("reuse:{id}"),
    }
}

/// How one reader stands towards a reuse.
pub(crate) struct Standing {
    pub visible: bool,
    pub owner: bool,
    pub moderates: bool,
}

pub(crate) fn standing(
    cat: &Catalogue,
    viewer: &Viewer,
    me: Option<i64>,
    row: &ReuseRow,
) -> Standing {
    let ds: Vec<&Dataset> = row
        .datasets
        .iter()
        .filter_map(|n| cat.index.get(n))
        .collect();
    let owner = me.is_some() && row.owner_id == me;
    let moderates = viewer.is_admin() || ds.iter().any(|d| viewer.edits(cat, d));
    let seen_any = ds.iter().any(|d| viewer.sees(cat, d));
    Standing {
        visible: owner || moderates || (!row.hidden && seen_any),
        owner,
        moderates,
    }
}

fn view_of(cat: &Catalogue, viewer: &Viewer, me: Option<i64>, row: ReuseRow) -> Option<ReuseView> {
    let s = standing(cat, viewer, me, &row);
    if !s.visible {
        return None;
    }
    let datasets = row
        .datasets
        .iter()
        .filter_map(|n| cat.index.get(n))
        .filter(|d| viewer.sees(cat, d))
        .map(|d| DatasetLink {
            name: d.name.clone(),
            title: d.title.clone(),
            organization: d.organisation.name.clone(),
            organization_title: d.organisation.title.clone(),
        })
        .collect();
    Some(ReuseView {
        id: row.id,
        title: row.title,
        kind: row.kind,
        url: row.url,
        description: row.description,
        topic: row.topic,
        owner: row.owner_name,
        created: row.created_at,
        modified: row.modified_at,
        hidden: row.hidden,
        hidden_reason: (row.hidden && (s.owner || s.moderates)).then_some(row.hidden_reason),
        datasets,
        can_edit: s.owner || viewer.is_admin(),
        can_moderate: s.moderates,
    })
}

/// Filters of the reuse list.
#[derive(Debug, Clone, Default)]
pub struct ReuseFilter {
    pub kind: Option<String>,
    pub dataset: Option<String>,
    pub organization: Option<String>,
}

impl Core {
    async fn reuse_or_404(&self, id: i64) -> Result<ReuseRow, CoreError> {
        self.store
            .reuse(id)
            .await?
            .ok_or(CoreError::NotFound { what: "reuse" })
    }

    /// Checks a reuse's fields; every dataset must be one the reader sees (else `NotFound`,
    /// which discloses nothing), and there is at least one.
    async fn check_reuse(
        &self,
        viewer: &Viewer,
        input: &ReuseInput,
    ) -> Result<(std::sync::Arc<Catalogue>, Checked), CoreError> {
        let title = text(&input.title, MAX_TITLE, true, "title", "reuse_title")?;
        let kind = input.kind.trim();
        if !REUSE_TYPES.contains(&kind) {
            return Err(invalid("type", "reuse_type"));
        }
        let url = check_url(&input.url)?;
        let description = text(
            &input.description,
            MAX_DESCRIPTION,
            false,
            "description",
            "reuse_description",
        )?;
        let topic = text(&input.topic, MAX_TOPIC, false, "topic", "reuse_topic")?;
        let wanted: BTreeSet<&str> = input
            .datasets
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if wanted.is_empty() || wanted.len() > MAX_DATASETS {
            return Err(invalid("datasets", "reuse_datasets"));
        }
        let cat = self.catalogue().await?;
        let mut rows = Vec::new();
        let mut names = Vec::new();
        for n in wanted {
            let d = cat
                .index
                .get(n)
                .filter(|d| viewer.sees(&cat, d))
                .ok_or(CoreError::NotFound { what: "dataset" })?;
            rows.push(
                cat.row_of(d)
                    .ok_or(CoreError::NotFound { what: "dataset" })?,
            );
            names.push(d.name.clone());
        }
        Ok((
            cat.clone(),
            Checked {
                title,
                kind: kind.to_owned(),
                url,
                description,
                topic,
                rows,
                names,
            },
        ))
    }

    /// Counts one post of `what` by a person against its limit per window.
    pub(crate) async fn posting(
        &self,
        what: &str,
        user: i64,
        limit: i64,
        window_secs: i64,
    ) -> Result<(), CoreError> {
        let now = self.now();
        if self
            .store
            .rate_hit(&format!("{what}:{user}"), now - window_secs, limit, now)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::PostingTooFast {
                retry_after_secs: window_secs,
            })
        }
    }

    /// Registers a reuse; anyone signed in may, of datasets they see. Returns its id.
    pub async fn create_reuse(
        &self,
        principal: &Principal,
        input: &ReuseInput,
    ) -> Result<i64, CoreError> {
        let user = principal.require_user()?;
        let viewer = self.catalogue_viewer(principal).await?;
        let (_, c) = self.check_reuse(&viewer, input).await?;
        self.posting("reuse", user.id.0, REUSES_PER_HOUR, 3600)
            .await?;
        let id = self
            .store
            .insert_reuse(
                &ReuseWrite {
                    title: &c.title,
                    kind: &c.kind,
                    url: &c.url,
                    description: &c.description,
                    topic: &c.topic,
                    datasets: &c.rows,
                },
                Some(user.id.0),
                self.now(),
            )
            .await?;
        self.audit(
            Actor::User(user.id),
            "reuse.create",
            &target(id),
            json!({ "title": c.title, "type": c.kind, "url": c.url, "datasets": c.names }),
        )
        .await?;
        Ok(id)
    }

    /// One reuse as `principal` sees it, or `NotFound`.
    pub async fn reuse(&self, principal: &Principal, id: i64) -> Result<ReuseView, CoreError> {
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        let row = self.reuse_or_404(id).await?;
        view_of(&cat, &viewer, principal.user().map(|u| u.id.0), row)
            .ok_or(CoreError::NotFound { what: "reuse" })
    }

    /// The reuses `principal` sees that are not hidden, newest first, filtered.
    pub async fn reuses(
        &self,
        principal: &Principal,
        filter: &ReuseFilter,
    ) -> Result<Vec<ReuseView>, CoreError> {
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        let me = principal.user().map(|u| u.id.0);
        Ok(self
            .store
            .reuses()
            .await?
            .into_iter()
            .filter(|r| !r.hidden)
            .filter(|r| filter.kind.as_ref().is_none_or(|k| &r.kind == k))
            .filter_map(|r| view_of(&cat, &viewer, me, r))
            .filter(|v| !v.datasets.is_empty())
            .filter(|v| {
                filter
                    .dataset
                    .as_ref()
                    .is_none_or(|n| v.datasets.iter().any(|d| &d.name == n))
            })
            .filter(|v| {
                filter
                    .organization
                    .as_ref()
                    .is_none_or(|o| v.datasets.iter().any(|d| &d.organization == o))
            })
            .collect())
    }

    /// Replaces a reuse's fields and datasets (its owner or a site administrator). Links to
    /// datasets the editor can no longer see are kept: they were not offered to change.
    pub async fn update_reuse(
        &self,
        principal: &Principal,
        id: i64,
        input: &ReuseInput,
    ) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let viewer = self.catalogue_viewer(principal).await?;
        let row = self.reuse_or_404(id).await?;
        let cat = self.catalogue().await?;
        let s = standing(&cat, &viewer, Some(user.id.0), &row);
        if !s.visible {
            return Err(CoreError::NotFound { what: "reuse" });
        }
        if !(s.owner || viewer.is_admin()) {
            return Err(CoreError::Forbidden);
        }
        let (cat, mut c) = self.check_reuse(&viewer, input).await?;
        for n in &row.datasets {
            if let Some(d) = cat.index.get(n).filter(|d| !viewer.sees(&cat, d)) {
                if let Some(r) = cat.row_of(d) {
                    c.rows.push(r);
                }
            }
        }
        self.store
            .update_reuse(
                id,
                &ReuseWrite {
                    title: &c.title,
                    kind: &c.kind,
                    url: &c.url,
                    description: &c.description,
                    topic: &c.topic,
                    datasets: &c.rows,
                },
                self.now(),
            )
            .await?;
        self.audit(
            Actor::User(user.id),
            "reuse.update",
            &target(id),
            json!({ "title": c.title, "type": c.kind, "url": c.url, "datasets": c.names, "was": { "title": row.title, "url": row.url } }),
        )
        .await?;
        Ok(())
    }

    /// Deletes a reuse and its discussions (its owner or a site administrator).
    pub async fn delete_reuse(&self, principal: &Principal, id: i64) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let viewer = self.catalogue_viewer(principal).await?;
        let row = self.reuse_or_404(id).await?;
        let cat = self.catalogue().await?;
        let s = standing(&cat, &viewer, Some(user.id.0), &row);
        if !s.visible {
            return Err(CoreError::NotFound { what: "reuse" });
        }
        if !(s.owner || viewer.is_admin()) {
            return Err(CoreError::Forbidden);
        }
        self.store.delete_reuse(id).await?;
        self.audit(
            Actor::User(user.id),
            "reuse.delete",
            &target(id),
            json!({ "title": row.title, "url": row.url, "datasets": row.datasets }),
        )
        .await?;
        Ok(())
    }

    /// Hides a reuse with a reason, or shows it again (a site administrator or a manager of
    /// one of its datasets' projects).
    pub async fn moderate_reuse(
        &self,
        principal: &Principal,
        id: i64,
        hide: bool,
        reason: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let viewer = self.catalogue_viewer(principal).await?;
        let row = self.reuse_or_404(id).await?;
        let cat = self.catalogue().await?;
        let s = standing(&cat, &viewer, Some(user.id.0), &row);
        if !s.visible {
            return Err(CoreError::NotFound { what: "reuse" });
        }
        if !s.moderates {
            return Err(CoreError::Forbidden);
        }
        let reason = text(reason, 1000, hide, "reason", "moderation_reason")?;
        self.store
            .set_reuse_hidden(id, hide, &reason, Some(user.id.0), self.now())
            .await?;
        self.audit(
            Actor::User(user.id),
            if hide { "reuse.hide" } else { "reuse.unhide" },
            &target(id),
            json!({ "title": row.title, "reason": reason, "datasets": row.datasets }),
        )
        .await?;
        Ok(())
    }

    /// The reuses of a project's datasets that are not hidden: what the project's data
    /// became. For its members (the project page and its catalogue page).
    pub async fn project_reuses(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
    ) -> Result<Vec<ReuseView>, CoreError> {
        let datasets: BTreeSet<String> = self
            .project_datasets(access)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        if datasets.is_empty() {
            return Ok(Vec::new());
        }
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        let me = principal.user().map(|u| u.id.0);
        Ok(self
            .store
            .reuses()
            .await?
            .into_iter()
            .filter(|r| !r.hidden && r.datasets.iter().any(|n| datasets.contains(n)))
            .filter_map(|r| view_of(&cat, &viewer, me, r))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://example.org/article",
            "http://example.org",
            "  https://lemonde.fr/a?b=c#d ",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://example.org/x",
            "//example.org/x",
            "/relative",
            "https://user:pass@example.org/",
            "https://example.org/\u{0}x",
            "mailto:a@example.org",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
        assert!(check_url(&format!("https://example.org/{}", "a".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn texts() {
        assert!(text(" ", 10, true, "title", "r").is_err());
        assert!(text("", 10, false, "topic", "r").is_ok());
        assert!(text(&"é".repeat(11), 10, false, "topic", "r").is_err());
        assert_eq!(
            text("a\r\nb\u{7}c", 10, true, "title", "r").unwrap(),
            "a\nbc"
        );
    }
}
