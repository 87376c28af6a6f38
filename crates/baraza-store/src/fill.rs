//! Drafts of the web form, public links of forms, the review of submissions (states, comments,
//! reasons of edits) and rate-limit events.

use crate::db::{q, Mode, Row};
use crate::forms::{stored_file_ref, StoredFileRef};
use crate::{Store, StoreError};
use baraza_types::UserId;

/// A form being filled in a browser, kept between pages.
#[derive(Debug, Clone)]
pub struct DraftRow {
    pub id: String,
    pub form_id: i64,
    pub form_version_id: i64,
    pub user_id: Option<UserId>,
    pub secret_hash: Option<String>,
    /// The instanceID this draft edits.
    pub edit_of: Option<String>,
    /// The answers (`baraza_fill::Filling` as JSON).
    pub state_json: String,
    /// Where the person is (`baraza_fill::At` as JSON).
    pub at_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! draft_cols {
    () => {
        "id, form_id, form_version_id, user_id, secret_hash, edit_of, state_json, at_json, created_at, updated_at"
    };
}

fn draft_from(r: &Row) -> Result<DraftRow, StoreError> {
    Ok(DraftRow {
        id: r.get("id")?,
        form_id: r.get("form_id")?,
        form_version_id: r.get("form_version_id")?,
        user_id: r.get::<Option<i64>>("user_id")?.map(UserId),
        secret_hash: r.get("secret_hash")?,
        edit_of: r.get("edit_of")?,
        state_json: r.get("state_json")?,
        at_json: r.get("at_json")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// What happened to a record besides its versions.
#[derive(Debug, Clone)]
pub struct SubmissionEvent {
    pub id: i64,
    /// `comment`, `review` or `edit`.
    pub kind: String,
    /// For `review`: the new state.
    pub review_state: Option<String>,
    /// For `edit`: the version it made.
    pub instance_id: Option<String>,
    /// A comment, or the reason given for a review or an edit.
    pub body: String,
    pub user_id: Option<UserId>,
    /// The author's name, when the account still exists.
    pub user_name: Option<String>,
    pub created_at: i64,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewSubmissionEvent<'a> {
    pub form_id: i64,
    pub root_instance_id: &'a str,
    pub kind: &'a str,
    pub review_state: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    pub body: &'a str,
    pub user_id: Option<UserId>,
    pub created_at: i64,
}

impl Store {
    // ----- drafts ----------------------------------------------------------------------------

    pub async fn create_draft(&self, d: &DraftRow) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("INSERT INTO form_drafts (id, form_id, form_version_id, user_id, secret_hash, edit_of, state_json, at_json, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(d.id.as_str())
                .bind(d.form_id)
                .bind(d.form_version_id)
                .bind(d.user_id.map(|u| u.0))
                .bind(d.secret_hash.as_deref())
                .bind(d.edit_of.as_deref())
                .bind(d.state_json.as_str())
                .bind(d.at_json.as_str())
                .bind(d.created_at)
                .bind(d.updated_at),
            )
            .await?;
        Ok(())
    }

    pub async fn draft(&self, id: &str) -> Result<Option<DraftRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Write,
                q(concat!(
                    "SELECT ",
                    draft_cols!(),
                    " FROM form_drafts WHERE id = $1"
                ))
                .bind(id),
            )
            .await?
            .map(|r| draft_from(&r))
            .transpose()
    }

    /// Saves a draft's answers and place. False when the draft no longer exists.
    pub async fn update_draft(
        &self,
        id: &str,
        state_json: &str,
        at_json: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("UPDATE form_drafts SET state_json = $1, at_json = $2, updated_at = $3 WHERE id = $4")
                    .bind(state_json)
                    .bind(at_json)
                    .bind(now)
                    .bind(id),
            )
            .await?
            == 1)
    }

    pub async fn delete_draft(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(q("DELETE FROM form_drafts WHERE id = $1").bind(id))
            .await?
            == 1)
    }

    /// A person's drafts of a form, newest first.
    pub async fn user_drafts(
        &self,
        form_id: i64,
        user: UserId,
    ) -> Result<Vec<DraftRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(concat!(
                    "SELECT ",
                    draft_cols!(),
                    " FROM form_drafts WHERE form_id = $1 AND user_id = $2 ORDER BY updated_at DESC, id LIMIT 100"
                ))
                .bind(form_id)
                .bind(user.0),
            )
            .await?
            .iter()
            .map(draft_from)
            .collect()
    }

    /// Removes drafts not touched since `account_before` (drafts of accounts) or
    /// `anonymous_before` (drafts of public links).
    pub async fn purge_drafts(
        &self,
        account_before: i64,
        anonymous_before: i64,
    ) -> Result<u64, StoreError> {
        let a = self
            .pools
            .execute(
                q("DELETE FROM form_drafts WHERE user_id IS NOT NULL AND updated_at < $1")
                    .bind(account_before),
            )
            .await?;
        let b = self
            .pools
            .execute(
                q("DELETE FROM form_drafts WHERE user_id IS NULL AND updated_at < $1")
                    .bind(anonymous_before),
            )
            .await?;
        Ok(a + b)
    }

    // ----- public links ----------------------------------------------------------------------

    /// Sets (or with `None` removes) a form's public link.
    pub async fn set_public_token(
        &self,
        form_id: i64,
        token: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE forms SET public_token = $1, updated_at = $2 WHERE id = $3")
                    .bind(token)
                    .bind(now)
                    .bind(form_id),
            )
            .await?;
        Ok(())
    }

    pub async fn public_token(&self, form_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT public_token FROM forms WHERE id = $1").bind(form_id),
            )
            .await?
            .map(|r| r.get::<Option<String>>("public_token"))
            .transpose()?
            .flatten())
    }

    /// The form a public link opens: its project and XML id.
    pub async fn form_by_public_token(
        &self,
        token: &str,
    ) -> Result<Option<(baraza_types::ProjectId, String)>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT project_id, xml_form_id FROM forms WHERE public_token = $1").bind(token),
            )
            .await?
            .map(|r| {
                Ok((
                    baraza_types::ProjectId(r.get("project_id")?),
                    r.get("xml_form_id")?,
                ))
            })
            .transpose()
    }

    // ----- review ----------------------------------------------------------------------------

    /// Sets the review state of the current version of a record, recording who and why, in one
    /// transaction. False when the record has no current version.
    pub async fn set_review_state(
        &self,
        e: &NewSubmissionEvent<'_>,
        state: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n = tx
            .conn()
            .execute(
                q("UPDATE submissions SET review_state = $1 WHERE form_id = $2 AND root_instance_id = $3 AND is_current")
                    .bind(state)
                    .bind(e.form_id)
                    .bind(e.root_instance_id),
            )
            .await?;
        if n != 1 {
            return Ok(false);
        }
        insert_event(&mut tx, e).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn add_submission_event(&self, e: &NewSubmissionEvent<'_>) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        insert_event(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A record's events, oldest first.
    pub async fn submission_events(
        &self,
        form_id: i64,
        root_instance_id: &str,
    ) -> Result<Vec<SubmissionEvent>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT e.id, e.kind, e.review_state, e.instance_id, e.body, e.user_id, u.name AS user_name, e.created_at
                   FROM submission_events e LEFT JOIN users u ON u.id = e.user_id
                   WHERE e.form_id = $1 AND e.root_instance_id = $2 ORDER BY e.id")
                .bind(form_id)
                .bind(root_instance_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(SubmissionEvent {
                    id: r.get("id")?,
                    kind: r.get("kind")?,
                    review_state: r.get("review_state")?,
                    instance_id: r.get("instance_id")?,
                    body: r.get("body")?,
                    user_id: r.get::<Option<i64>>("user_id")?.map(UserId),
                    user_name: r.get("user_name")?,
                    created_at: r.get("created_at")?,
                })
            })
            .collect()
    }

    /// The names of people and phones, for showing who sent each version.
    pub async fn submitter_names(
        &self,
        user_ids: &[i64],
        app_user_ids: &[i64],
    ) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>), StoreError> {
        let mut users = Vec::new();
        for id in user_ids {
            if let Some(r) = self
                .pools
                .fetch_optional(
                    Mode::Read,
                    q("SELECT name FROM users WHERE id = $1").bind(*id),
                )
                .await?
            {
                users.push((*id, r.get("name")?));
            }
        }
        let mut apps = Vec::new();
        for id in app_user_ids {
            if let Some(r) = self
                .pools
                .fetch_optional(
                    Mode::Read,
                    q("SELECT name FROM app_users WHERE id = $1").bind(*id),
                )
                .await?
            {
                apps.push((*id, r.get("name")?));
            }
        }
        Ok((users, apps))
    }

    /// Who sent a version: `(user_id, app_user_id)`.
    pub async fn submission_submitter(
        &self,
        submission_id: i64,
    ) -> Result<(Option<i64>, Option<i64>), StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT user_id, app_user_id FROM submissions WHERE id = $1").bind(submission_id),
            )
            .await?;
        Ok((r.get("user_id")?, r.get("app_user_id")?))
    }

    // ----- rate limits -----------------------------------------------------------------------

    /// Counts events of `key` since `since`, and records one more at `now` when under `limit`.
    /// Returns whether the event was allowed.
    pub async fn rate_hit(
        &self,
        key: &str,
        since: i64,
        limit: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n: i64 = tx
            .conn()
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM rate_events WHERE key = $1 AND at >= $2")
                    .bind(key)
                    .bind(since),
            )
            .await?
            .get("n")?;
        if n >= limit {
            return Ok(false);
        }
        tx.conn()
            .execute(
                q("INSERT INTO rate_events (key, at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn purge_rate_events(&self, before: i64) -> Result<u64, StoreError> {
        self.pools
            .execute(q("DELETE FROM rate_events WHERE at < $1").bind(before))
            .await
    }
}

async fn insert_event(
    tx: &mut crate::db::Tx,
    e: &NewSubmissionEvent<'_>,
) -> Result<(), StoreError> {
    tx.conn()
        .execute(
            q("INSERT INTO submission_events (form_id, root_instance_id, kind, review_state, instance_id, body, user_id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(e.form_id)
            .bind(e.root_instance_id)
            .bind(e.kind)
            .bind(e.review_state)
            .bind(e.instance_id)
            .bind(e.body)
            .bind(e.user_id.map(|u| u.0))
            .bind(e.created_at),
        )
        .await?;
    Ok(())
}

impl Store {
    /// The attachments of a version that arrived: name, digest and size.
    pub async fn received_attachments(
        &self,
        submission_id: i64,
    ) -> Result<Vec<(StoredFileRef, i64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT name, sha256, file_key, size FROM submission_attachments
                   WHERE submission_id = $1 AND sha256 IS NOT NULL ORDER BY name",
                )
                .bind(submission_id),
            )
            .await?
            .iter()
            .map(|r| Ok((stored_file_ref(r)?, r.get("size")?)))
            .collect()
    }

    /// Sets the review state of a record's current version without an event (an edit keeps the
    /// state the record had).
    pub async fn carry_review_state(
        &self,
        form_id: i64,
        root_instance_id: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE submissions SET review_state = $1 WHERE form_id = $2 AND root_instance_id = $3 AND is_current")
                    .bind(state)
                    .bind(form_id)
                    .bind(root_instance_id),
            )
            .await?;
        Ok(())
    }
}
