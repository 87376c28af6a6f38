//! Reuses of datasets and discussions about datasets and reuses.
//!
//! A reuse's writes bump the catalogue's version in the same transaction: a dataset's reuse
//! count lives in the catalogue's index, which is rebuilt when the version moves.

use crate::catalogue::bump;
use crate::db::{q, q_built, Conn, Mode, Row};
use crate::{Store, StoreError};

/// A reuse as stored, with the names of its datasets.
#[derive(Debug, Clone)]
pub struct ReuseRow {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub url: String,
    pub description: String,
    pub topic: String,
    pub owner_id: Option<i64>,
    pub owner_name: String,
    pub hidden: bool,
    pub hidden_reason: String,
    pub hidden_by: Option<i64>,
    pub hidden_at: Option<i64>,
    pub created_at: i64,
    pub modified_at: i64,
    /// The names of its datasets, in name order.
    pub datasets: Vec<String>,
}

/// A reuse's editable fields.
#[derive(Debug, Clone)]
pub struct ReuseWrite<'a> {
    pub title: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub topic: &'a str,
    /// Row ids of its datasets.
    pub datasets: &'a [i64],
}

/// What a discussion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscussionSubject {
    /// A dataset, by row id.
    Dataset(i64),
    /// A reuse, by id.
    Reuse(i64),
}

/// A discussion as stored; `messages` is filled by [`Store::discussion`] only.
#[derive(Debug, Clone)]
pub struct DiscussionRow {
    pub id: i64,
    pub subject: DiscussionSubject,
    pub title: String,
    pub opened_by: Option<i64>,
    pub opener_name: String,
    pub created_at: i64,
    pub closed_by: Option<i64>,
    pub closer_name: String,
    pub closed_at: Option<i64>,
    /// How many messages it has, hidden ones included.
    pub message_count: i64,
    /// The time of its last message.
    pub last_at: i64,
    pub messages: Vec<MessageRow>,
}

/// A message of a discussion.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
    pub hidden: bool,
    pub hidden_reason: String,
    pub hidden_by: Option<i64>,
    pub hidden_at: Option<i64>,
    /// How many people reported it.
    pub reports: i64,
}

const REUSE_SELECT: &str = "SELECT r.id, r.title, r.kind, r.url, r.description, r.topic,
       r.owner_id, COALESCE(u.name, '') AS owner_name, r.hidden, r.hidden_reason, r.hidden_by,
       r.hidden_at, r.created_at, r.modified_at
     FROM reuses r LEFT JOIN users u ON u.id = r.owner_id";

const DISCUSSION_SELECT: &str = "SELECT d.id, d.dataset_id, d.reuse_id, d.title, d.opened_by,
       COALESCE(o.name, '') AS opener_name, d.created_at, d.closed_by,
       COALESCE(c.name, '') AS closer_name, d.closed_at,
       (SELECT COUNT(*) FROM discussion_messages m WHERE m.discussion_id = d.id) AS message_count,
       (SELECT COALESCE(MAX(m.created_at), d.created_at) FROM discussion_messages m
          WHERE m.discussion_id = d.id) AS last_at
     FROM discussions d LEFT JOIN users o ON o.id = d.opened_by
     LEFT JOIN users c ON c.id = d.closed_by";

fn reuse_from(r: &Row) -> Result<ReuseRow, StoreError> {
    Ok(ReuseRow {
        id: r.get("id")?,
        title: r.get("title")?,
        kind: r.get("kind")?,
        url: r.get("url")?,
        description: r.get("description")?,
        topic: r.get("topic")?,
        owner_id: r.get("owner_id")?,
        owner_name: r.get("owner_name")?,
        hidden: r.get("hidden")?,
        hidden_reason: r.get("hidden_reason")?,
        hidden_by: r.get("hidden_by")?,
        hidden_at: r.get("hidden_at")?,
        created_at: r.get("created_at")?,
        modified_at: r.get("modified_at")?,
        datasets: Vec::new(),
    })
}

fn discussion_from(r: &Row) -> Result<DiscussionRow, StoreError> {
    let dataset: Option<i64> = r.get("dataset_id")?;
    let reuse: Option<i64> = r.get("reuse_id")?;
    let subject = match (dataset, reuse) {
        (Some(d), None) => DiscussionSubject::Dataset(d),
        (None, Some(u)) => DiscussionSubject::Reuse(u),
        _ => return Err(StoreError::Corrupt("discussion without one subject".into())),
    };
    Ok(DiscussionRow {
        id: r.get("id")?,
        subject,
        title: r.get("title")?,
        opened_by: r.get("opened_by")?,
        opener_name: r.get("opener_name")?,
        created_at: r.get("created_at")?,
        closed_by: r.get("closed_by")?,
        closer_name: r.get("closer_name")?,
        closed_at: r.get("closed_at")?,
        message_count: r.get("message_count")?,
        last_at: r.get("last_at")?,
        messages: Vec::new(),
    })
}

async fn link_datasets(c: &mut Conn<'_>, reuse: i64, datasets: &[i64]) -> Result<(), StoreError> {
    let mut ids = datasets.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for d in ids {
        c.execute(
            q("INSERT INTO reuse_datasets (reuse_id, dataset_id) VALUES ($1, $2)")
                .bind(reuse)
                .bind(d),
        )
        .await?;
    }
    Ok(())
}

async fn insert_message(
    c: &mut Conn<'_>,
    discussion: i64,
    body: &str,
    by: Option<i64>,
    at: i64,
) -> Result<i64, StoreError> {
    c.fetch_one(
        q(
            "INSERT INTO discussion_messages (discussion_id, author_id, body, created_at)
           VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(discussion)
        .bind(by)
        .bind(body)
        .bind(at),
    )
    .await?
    .get("id")
}

impl Store {
    /// Every reuse with its datasets' names, newest first.
    pub async fn reuses(&self) -> Result<Vec<ReuseRow>, StoreError> {
        let mut out: Vec<ReuseRow> = self
            .pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "{REUSE_SELECT} ORDER BY r.created_at DESC, r.id DESC"
                )),
            )
            .await?
            .iter()
            .map(reuse_from)
            .collect::<Result<_, _>>()?;
        let links = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT rd.reuse_id, d.name FROM reuse_datasets rd
                   JOIN datasets d ON d.id = rd.dataset_id ORDER BY d.name"),
            )
            .await?;
        let mut by_id: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for l in &links {
            by_id
                .entry(l.get("reuse_id")?)
                .or_default()
                .push(l.get("name")?);
        }
        for r in &mut out {
            r.datasets = by_id.remove(&r.id).unwrap_or_default();
        }
        Ok(out)
    }

    /// One reuse with its datasets' names.
    pub async fn reuse(&self, id: i64) -> Result<Option<ReuseRow>, StoreError> {
        let Some(row) = self
            .pools
            .fetch_optional(
                Mode::Read,
                q_built(format!("{REUSE_SELECT} WHERE r.id = $1")).bind(id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut r = reuse_from(&row)?;
        for l in self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT d.name FROM reuse_datasets rd JOIN datasets d ON d.id = rd.dataset_id
                   WHERE rd.reuse_id = $1 ORDER BY d.name",
                )
                .bind(id),
            )
            .await?
        {
            r.datasets.push(l.get("name")?);
        }
        Ok(Some(r))
    }

    /// Registers a reuse of some datasets; returns its id.
    pub async fn insert_reuse(
        &self,
        w: &ReuseWrite<'_>,
        owner: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO reuses (title, kind, url, description, topic, owner_id,
                     created_at, modified_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                )
                .bind(w.title)
                .bind(w.kind)
                .bind(w.url)
                .bind(w.description)
                .bind(w.topic)
                .bind(owner)
                .bind(at),
            )
            .await?
            .get("id")?;
        link_datasets(&mut c, id, w.datasets).await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a reuse's fields and datasets.
    pub async fn update_reuse(
        &self,
        id: i64,
        w: &ReuseWrite<'_>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q(
                "UPDATE reuses SET title = $2, kind = $3, url = $4, description = $5, topic = $6,
                 modified_at = $7
               WHERE id = $1",
            )
            .bind(id)
            .bind(w.title)
            .bind(w.kind)
            .bind(w.url)
            .bind(w.description)
            .bind(w.topic)
            .bind(at),
        )
        .await?;
        c.execute(q("DELETE FROM reuse_datasets WHERE reuse_id = $1").bind(id))
            .await?;
        link_datasets(&mut c, id, w.datasets).await?;
        bump(&mut c).await?;
        tx.commit().await
    }

    /// Deletes a reuse with its discussions.
    pub async fn delete_reuse(&self, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q(
                "DELETE FROM discussion_reports WHERE message_id IN (SELECT m.id
                 FROM discussion_messages m JOIN discussions d ON d.id = m.discussion_id
                 WHERE d.reuse_id = $1)",
            )
            .bind(id),
        )
        .await?;
        c.execute(
            q("DELETE FROM discussion_messages WHERE discussion_id IN
                 (SELECT id FROM discussions WHERE reuse_id = $1)")
            .bind(id),
        )
        .await?;
        c.execute(q("DELETE FROM discussions WHERE reuse_id = $1").bind(id))
            .await?;
        c.execute(q("DELETE FROM reuse_datasets WHERE reuse_id = $1").bind(id))
            .await?;
        let n = c
            .execute(q("DELETE FROM reuses WHERE id = $1").bind(id))
            .await?;
        bump(&mut c).await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Hides a reuse with a reason, or shows it again.
    pub async fn set_reuse_hidden(
        &self,
        id: i64,
        hidden: bool,
        reason: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        c.execute(
            q(
                "UPDATE reuses SET hidden = $2, hidden_reason = $3, hidden_by = $4, hidden_at = $5
               WHERE id = $1",
            )
            .bind(id)
            .bind(hidden)
            .bind(reason)
            .bind(by)
            .bind(at),
        )
        .await?;
        bump(&mut c).await?;
        tx.commit().await
    }

    /// The discussions of a dataset or a reuse (without their messages), newest first.
    pub async fn discussions_of(
        &self,
        subject: DiscussionSubject,
    ) -> Result<Vec<DiscussionRow>, StoreError> {
        let (col, id) = match subject {
            DiscussionSubject::Dataset(id) => ("dataset_id", id),
            DiscussionSubject::Reuse(id) => ("reuse_id", id),
        };
        self.pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "{DISCUSSION_SELECT} WHERE d.{col} = $1 ORDER BY d.created_at DESC, d.id DESC"
                ))
                .bind(id),
            )
            .await?
            .iter()
            .map(discussion_from)
            .collect()
    }

    /// One discussion with its messages, oldest first.
    pub async fn discussion(&self, id: i64) -> Result<Option<DiscussionRow>, StoreError> {
        let Some(row) = self
            .pools
            .fetch_optional(
                Mode::Read,
                q_built(format!("{DISCUSSION_SELECT} WHERE d.id = $1")).bind(id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut d = discussion_from(&row)?;
        for m in self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT m.id, m.author_id, COALESCE(u.name, '') AS author_name, m.body,
                       m.created_at, m.hidden, m.hidden_reason, m.hidden_by, m.hidden_at,
                       (SELECT COUNT(*) FROM discussion_reports x WHERE x.message_id = m.id)
                         AS reports
                     FROM discussion_messages m LEFT JOIN users u ON u.id = m.author_id
                     WHERE m.discussion_id = $1 ORDER BY m.id",
                )
                .bind(id),
            )
            .await?
        {
            d.messages.push(MessageRow {
                id: m.get("id")?,
                author_id: m.get("author_id")?,
                author_name: m.get("author_name")?,
                body: m.get("body")?,
                created_at: m.get("created_at")?,
                hidden: m.get("hidden")?,
                hidden_reason: m.get("hidden_reason")?,
                hidden_by: m.get("hidden_by")?,
                hidden_at: m.get("hidden_at")?,
                reports: m.get("reports")?,
            });
        }
        Ok(Some(d))
    }

    /// Opens a discussion with its first message; returns its id.
    pub async fn insert_discussion(
        &self,
        subject: DiscussionSubject,
        title: &str,
        body: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let (dataset, reuse) = match subject {
            DiscussionSubject::Dataset(id) => (Some(id), None),
            DiscussionSubject::Reuse(id) => (None, Some(id)),
        };
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO discussions (dataset_id, reuse_id, title, opened_by, created_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(dataset)
                .bind(reuse)
                .bind(title)
                .bind(by)
                .bind(at),
            )
            .await?
            .get("id")?;
        insert_message(&mut c, id, body, by, at).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a message to a discussion that is still open; `None` when it was closed meanwhile.
    pub async fn add_message(
        &self,
        discussion: i64,
        body: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let open = c
            .fetch_optional(
                q("SELECT 1 AS one FROM discussions WHERE id = $1 AND closed_at IS NULL")
                    .bind(discussion),
            )
            .await?
            .is_some();
        if !open {
            return Ok(None);
        }
        let id = insert_message(&mut c, discussion, body, by, at).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Closes an open discussion, with a closing message when `body` is not empty; false when
    /// it was already closed.
    pub async fn close_discussion(
        &self,
        discussion: i64,
        body: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let n = c
            .execute(
                q("UPDATE discussions SET closed_by = $2, closed_at = $3
                   WHERE id = $1 AND closed_at IS NULL")
                .bind(discussion)
                .bind(by)
                .bind(at),
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        if !body.is_empty() {
            insert_message(&mut c, discussion, body, by, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records a person's report of a message; false when they had already reported it.
    pub async fn report_message(
        &self,
        message: i64,
        user: i64,
        reason: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q(
                    "INSERT INTO discussion_reports (message_id, user_id, reason, at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (message_id, user_id) DO NOTHING",
                )
                .bind(message)
                .bind(user)
                .bind(reason)
                .bind(at),
            )
            .await?;
        Ok(n > 0)
    }

    /// Hides a message with a reason (its text is kept), or shows it again.
    pub async fn set_message_hidden(
        &self,
        message: i64,
        hidden: bool,
        reason: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "UPDATE discussion_messages SET hidden = $2, hidden_reason = $3,
                     hidden_by = $4, hidden_at = $5
                   WHERE id = $1",
                )
                .bind(message)
                .bind(hidden)
                .bind(reason)
                .bind(by)
                .bind(at),
            )
            .await?;
        Ok(())
    }
}
