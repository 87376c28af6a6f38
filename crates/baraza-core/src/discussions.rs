//! Discussions about a dataset or a reuse, as on data.gouv.fr.
//!
//! Whoever sees the subject reads its discussions; anyone signed in who sees it opens one
//! (a title and a first message) and replies. A dataset's project managers, or a reuse's
//! owner, close a discussion with a closing message (site administrators too). Anyone signed
//! in reports a message as spam or abuse; moderators (site administrators, the managers of
//! the dataset's project, or of a reused dataset's project) hide a message with a reason:
//! its text is kept for the audit, readers see "message hidden by moderation".
//!
//! Messages are plain text of at most [`MAX_MESSAGE`] characters; one account posts at most
//! [`MESSAGES_PER_WINDOW`] messages in [`WINDOW_SECS`] seconds.

use crate::access::Principal;
use crate::audit::{Actor, Target};
use crate::catalogue::{Catalogue, Viewer};
use crate::reuses::{standing, text};
use crate::{Core, CoreError};
use baraza_store::{DiscussionRow, DiscussionSubject};
use baraza_types::ProjectId;
use serde::Serialize;
use serde_json::json;

/// The longest message, in characters.
pub const MAX_MESSAGE: usize = 5000;
/// The longest discussion title, in characters.
pub const MAX_TITLE: usize = 200;
/// How many messages (openings, replies, closings) one account may post per window.
pub const MESSAGES_PER_WINDOW: i64 = 10;
pub const WINDOW_SECS: i64 = 600;

/// What a discussion is about, as a reader names it.
#[derive(Debug, Clone)]
pub enum SubjectRef {
    /// A dataset, by name or id.
    Dataset(String),
    /// A reuse, by id.
    Reuse(i64),
}

/// A discussion's subject as the reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectView {
    /// `dataset` or `reuse`.
    pub kind: &'static str,
    /// The dataset's name or the reuse's id.
    pub id: String,
    pub title: String,
    /// Its page.
    pub url: String,
}

/// A message as one reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub author: String,
    /// Empty when hidden, except for moderators.
    pub body: String,
    pub created: i64,
    pub hidden: bool,
    /// Why it was hidden, and how many reported it (moderators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<i64>,
}

/// A discussion as one reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct DiscussionView {
    pub id: i64,
    pub subject: SubjectView,
    pub title: String,
    pub author: String,
    pub created: i64,
    pub closed: Option<i64>,
    pub closed_by: Option<String>,
    /// How many messages, and when the last was posted.
    pub messages_count: i64,
    pub last_message: i64,
    /// Filled on the discussion's page; empty in lists.
    pub messages: Vec<MessageView>,
    pub can_reply: bool,
    pub can_close: bool,
    pub can_moderate: bool,
}

/// Who the reader is towards a subject.
struct Rights {
    subject: SubjectView,
    project: Option<ProjectId>,
    signed_in: bool,
    closes: bool,
    moderates: bool,
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

fn view(d: DiscussionRow, r: &Rights, with_messages: bool) -> DiscussionView {
    let messages = if with_messages {
        d.messages
            .into_iter()
            .map(|m| MessageView {
                id: m.id,
                author: m.author_name,
                body: if m.hidden && !r.moderates {
                    String::new()
                } else {
                    m.body
                },
                created: m.created_at,
                hidden: m.hidden,
                hidden_reason: (m.hidden && r.moderates).then_some(m.hidden_reason),
                reports: r.moderates.then_some(m.reports),
            })
            .collect()
    } else {
        Vec::new()
    };
    let open = d.closed_at.is_none();
    DiscussionView {
        id: d.id,
        subject: r.subject.clone(),
        title: d.title,
        author: d.opener_name,
        created: d.created_at,
        closed: d.closed_at,
        closed_by: d.closed_at.map(|_| d.closer_name),
        messages_count: d.message_count,
        last_message: d.last_at,
        messages,
        can_reply: open && r.signed_in,
        can_close: open && r.closes,
        can_moderate: r.moderates,
    }
}

impl Core {
    /// The reader's rights towards a subject, or `NotFound` when they cannot see it.
    async fn rights(
        &self,
        principal: &Principal,
        cat: &Catalogue,
        viewer: &Viewer,
        subject: DiscussionSubject,
    ) -> Result<Rights, CoreError> {
        let signed_in = principal.user().is_some();
        match subject {
            DiscussionSubject::Dataset(row) => {
                let d = cat
                    .by_row(row)
                    .filter(|d| viewer.sees(cat, d))
                    .ok_or(CoreError::NotFound { what: "dataset" })?;
                let manages = viewer.is_admin() || viewer.edits(cat, d);
                Ok(Rights {
                    subject: SubjectView {
                        kind: "dataset",
                        id: d.name.clone(),
                        title: d.title.clone(),
                        url: format!("/dataset/{}", d.name),
                    },
                    project: cat.project_of(d).map(ProjectId),
                    signed_in,
                    closes: manages,
                    moderates: manages,
                })
            }
            DiscussionSubject::Reuse(id) => {
                let row = self
                    .store
                    .reuse(id)
                    .await?
                    .ok_or(CoreError::NotFound { what: "reuse" })?;
                let s = standing(cat, viewer, principal.user().map(|u| u.id.0), &row);
                if !s.visible {
                    return Err(CoreError::NotFound { what: "reuse" });
                }
                Ok(Rights {
                    subject: SubjectView {
                        kind: "reuse",
                        id: row.id.to_string(),
                        title: row.title.clone(),
                        url: format!("/reuses/{}", row.id),
                    },
                    project: None,
                    signed_in,
                    closes: s.owner || s.moderates,
                    moderates: s.moderates,
                })
            }
        }
    }

    /// Resolves a subject as the reader names it.
    async fn subject_of(
        &self,
        cat: &Catalogue,
        viewer: &Viewer,
        subject: &SubjectRef,
    ) -> Result<DiscussionSubject, CoreError> {
        Ok(match subject {
            SubjectRef::Dataset(name) => DiscussionSubject::Dataset(
                cat.index
                    .get(name)
                    .filter(|d| viewer.sees(cat, d))
                    .and_then(|d| cat.row_of(d))
                    .ok_or(CoreError::NotFound { what: "dataset" })?,
            ),
            SubjectRef::Reuse(id) => DiscussionSubject::Reuse(*id),
        })
    }

    /// `project:P/dataset:NAME/discussion:ID` (in the dataset's project's log), or
    /// `reuse:R/discussion:ID`.
    fn discussion_target(r: &Rights, id: i64) -> Target {
        let subject = format!("{}:{}/discussion:{id}", r.subject.kind, r.subject.id);
        Target {
            project: r.project,
            text: match r.project {
                Some(p) => format!("project:{}/{subject}", p.0),
                None => subject,
            },
        }
    }

    /// The discussions of a subject, newest first (without their messages).
    pub async fn discussions(
        &self,
        principal: &Principal,
        subject: &SubjectRef,
    ) -> Result<Vec<DiscussionView>, CoreError> {
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        let s = self.subject_of(&cat, &viewer, subject).await?;
        let r = self.rights(principal, &cat, &viewer, s).await?;
        Ok(self
            .store
            .discussions_of(s)
            .await?
            .into_iter()
            .map(|d| view(d, &r, false))
            .collect())
    }

    /// One discussion with its messages.
    pub async fn discussion(
        &self,
        principal: &Principal,
        id: i64,
    ) -> Result<DiscussionView, CoreError> {
        let (d, r) = self.discussion_with_rights(principal, id).await?;
        Ok(view(d, &r, true))
    }

    async fn discussion_with_rights(
        &self,
        principal: &Principal,
        id: i64,
    ) -> Result<(DiscussionRow, Rights), CoreError> {
        let d = self
            .store
            .discussion(id)
            .await?
            .ok_or(CoreError::NotFound { what: "discussion" })?;
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        // A subject the reader cannot see hides its discussions too.
        let r = self
            .rights(principal, &cat, &viewer, d.subject)
            .await
            .map_err(|e| match e {
                CoreError::NotFound { .. } => CoreError::NotFound { what: "discussion" },
                e => e,
            })?;
        Ok((d, r))
    }

    /// Opens a discussion with its first message; returns its id.
    pub async fn open_discussion(
        &self,
        principal: &Principal,
        subject: &SubjectRef,
        title: &str,
        body: &str,
    ) -> Result<i64, CoreError> {
        let user = principal.require_user()?;
        let viewer = self.catalogue_viewer(principal).await?;
        let cat = self.catalogue().await?;
        let s = self.subject_of(&cat, &viewer, subject).await?;
        let r = self.rights(principal, &cat, &viewer, s).await?;
        let title = text(title, MAX_TITLE, true, "title", "discussion_title")?.replace('\n', " ");
        let body = text(body, MAX_MESSAGE, true, "comment", "message_length")?;
        self.posting("message", user.id.0, MESSAGES_PER_WINDOW, WINDOW_SECS)
            .await?;
        let id = self
            .store
            .insert_discussion(s, &title, &body, Some(user.id.0), self.now())
            .await?;
        self.audit(
            Actor::User(user.id),
            "discussion.open",
            &Self::discussion_target(&r, id),
            json!({ "title": title, "chars": body.chars().count() }),
        )
        .await?;
        Ok(id)
    }

    /// Replies to an open discussion; returns the message's id.
    pub async fn reply_discussion(
        &self,
        principal: &Principal,
        id: i64,
        body: &str,
    ) -> Result<i64, CoreError> {
        let user = principal.require_user()?;
        let (d, r) = self.discussion_with_rights(principal, id).await?;
        if d.closed_at.is_some() {
            return Err(invalid("discussion", "discussion_closed"));
        }
        let body = text(body, MAX_MESSAGE, true, "comment", "message_length")?;
        self.posting("message", user.id.0, MESSAGES_PER_WINDOW, WINDOW_SECS)
            .await?;
        let mid = self
            .store
            .add_message(id, &body, Some(user.id.0), self.now())
            .await?
            .ok_or(invalid("discussion", "discussion_closed"))?;
        self.audit(
            Actor::User(user.id),
            "discussion.reply",
            &Self::discussion_target(&r, id),
            json!({ "message": mid, "chars": body.chars().count() }),
        )
        .await?;
        Ok(mid)
    }

    /// Closes a discussion, with a closing message if one is given.
    pub async fn close_discussion(
        &self,
        principal: &Principal,
        id: i64,
        body: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let (d, r) = self.discussion_with_rights(principal, id).await?;
        if !r.closes {
            return Err(CoreError::Forbidden);
        }
        if d.closed_at.is_some() {
            return Err(invalid("discussion", "discussion_closed"));
        }
        let body = text(body, MAX_MESSAGE, false, "comment", "message_length")?;
        if !body.is_empty() {
            self.posting("message", user.id.0, MESSAGES_PER_WINDOW, WINDOW_SECS)
                .await?;
        }
        if !self
            .store
            .close_discussion(id, &body, Some(user.id.0), self.now())
            .await?
        {
            return Err(invalid("discussion", "discussion_closed"));
        }
        self.audit(
            Actor::User(user.id),
            "discussion.close",
            &Self::discussion_target(&r, id),
            json!({ "title": d.title, "chars": body.chars().count() }),
        )
        .await?;
        Ok(())
    }

    /// Reports a message as spam or abuse; true when this report is new (a second report by
    /// the same person changes nothing).
    pub async fn report_message(
        &self,
        principal: &Principal,
        id: i64,
        message: i64,
        reason: &str,
    ) -> Result<bool, CoreError> {
        let user = principal.require_user()?;
        let (d, r) = self.discussion_with_rights(principal, id).await?;
        if !d.messages.iter().any(|m| m.id == message) {
            return Err(CoreError::NotFound { what: "message" });
        }
        let reason = text(reason, 1000, false, "reason", "moderation_reason")?;
        let new = self
            .store
            .report_message(message, user.id.0, &reason, self.now())
            .await?;
        if new {
            self.audit(
                Actor::User(user.id),
                "discussion.report",
                &Self::discussion_target(&r, id),
                json!({ "message": message, "reason": reason }),
            )
            .await?;
        }
        Ok(new)
    }

    /// Hides a message with a reason, or shows it again (moderators).
    pub async fn moderate_message(
        &self,
        principal: &Principal,
        id: i64,
        message: i64,
        hide: bool,
        reason: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_user()?;
        let (d, r) = self.discussion_with_rights(principal, id).await?;
        if !r.moderates {
            return Err(CoreError::Forbidden);
        }
        let m = d
            .messages
            .iter()
            .find(|m| m.id == message)
            .ok_or(CoreError::NotFound { what: "message" })?;
        let reason = text(reason, 1000, hide, "reason", "moderation_reason")?;
        self.store
            .set_message_hidden(message, hide, &reason, Some(user.id.0), self.now())
            .await?;
        self.audit(
            Actor::User(user.id),
            if hide {
                "discussion.hide_message"
            } else {
                "discussion.unhide_message"
            },
            &Self::discussion_target(&r, id),
            json!({ "message": message, "author": m.author_id, "reason": reason, "reports": m.reports }),
        )
        .await?;
        Ok(())
    }
}
