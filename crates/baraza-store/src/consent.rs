//! Consent records: per record of a form with a consent question, what the person answered,
//! under which notice, in which language, through which channel and when (table `consents`).
//!
//! A record's consent is written in the transaction that stores its first version (see
//! `ingest.rs`); an edit replaces it only when the answer changes. Destroying the record removes
//! it, except that an erasure for withdrawn consent leaves the proof of withdrawal: the state
//! `withdrawn`, the notice version and the time, nothing that says more about the person.

use crate::db::{q, Conn, Mode};
use crate::{Store, StoreError};
use serde::Serialize;

/// A consent to record with a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    /// `given`, `refused` or `not_answered`.
    pub state: &'static str,
    pub notice_version: Option<String>,
    pub language: Option<String>,
    /// `web_form`, `submission` or `form_default`.
    pub language_source: Option<&'static str>,
    /// `odk_collect`, `web_form`, `public_link`, `import` or `api`.
    pub channel: &'static str,
    /// The `start` and `end` metadata as sent.
    pub started: Option<String>,
    pub ended: Option<String>,
}

/// A record's consent, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    pub root_instance_id: String,
    /// The version whose answer is recorded (none once withdrawn).
    pub instance_id: Option<String>,
    /// `given`, `refused`, `not_answered` or `withdrawn`.
    pub state: String,
    pub notice_version: Option<String>,
    pub language: Option<String>,
    pub language_source: Option<String>,
    pub channel: Option<String>,
    pub received_at: Option<i64>,
    pub started: Option<String>,
    pub ended: Option<String>,
    pub withdrawn_at: Option<i64>,
}

/// How many records of a form are in each consent state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ConsentCounts {
    pub given: i64,
    pub refused: i64,
    pub not_answered: i64,
    pub withdrawn: i64,
}

/// Records the consent of a record's version inside the ingestion's transaction. The first
/// version writes it; a later version (an edit) overwrites it only if its answer differs.
pub(crate) async fn record(
    c: &mut Conn<'_>,
    form_id: i64,
    root: &str,
    instance_id: &str,
    received_at: i64,
    n: &NewConsent,
) -> Result<(), StoreError> {
    c.execute(
        q("INSERT INTO consents (form_id, root_instance_id, instance_id, state, notice_version, language,
                                 language_source, channel, received_at, started, ended)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (form_id, root_instance_id) DO UPDATE SET
             instance_id = excluded.instance_id, state = excluded.state,
             notice_version = excluded.notice_version, language = excluded.language,
             language_source = excluded.language_source, channel = excluded.channel,
             received_at = excluded.received_at, started = excluded.started, ended = excluded.ended
           WHERE consents.state <> excluded.state")
        .bind(form_id)
        .bind(root)
        .bind(instance_id)
        .bind(n.state)
        .bind(n.notice_version.as_deref())
        .bind(n.language.as_deref())
        .bind(n.language_source)
        .bind(n.channel)
        .bind(received_at)
        .bind(n.started.as_deref())
        .bind(n.ended.as_deref()),
    )
    .await?;
    Ok(())
}

/// Inside a destruction's transaction: the consent of these records removed, or — when
/// `withdrawn_at` is given — reduced to the proof that consent was withdrawn.
pub(crate) async fn destroy(
    c: &mut Conn<'_>,
    form_id: i64,
    root: &str,
    withdrawn_at: Option<i64>,
) -> Result<(), StoreError> {
    let notice: Option<String> = match c
        .fetch_optional(
            q("SELECT notice_version FROM consents WHERE form_id = $1 AND root_instance_id = $2")
                .bind(form_id)
                .bind(root),
        )
        .await?
    {
        Some(r) => r.get("notice_version")?,
        None => None,
    };
    c.execute(
        q("DELETE FROM consents WHERE form_id = $1 AND root_instance_id = $2")
            .bind(form_id)
            .bind(root),
    )
    .await?;
    if let Some(at) = withdrawn_at {
        c.execute(
            q("INSERT INTO consents (form_id, root_instance_id, state, notice_version, withdrawn_at)
               VALUES ($1, $2, 'withdrawn', $3, $4)")
            .bind(form_id)
            .bind(root)
            .bind(notice.as_deref())
            .bind(at),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// The consent of a record (by its root instanceID), if one was recorded.
    pub async fn consent(
        &self,
        form_id: i64,
        root_instance_id: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        let Some(r) = self
            .pools
            .fetch_optional(
                Mode::Read,
                q(
                    "SELECT root_instance_id, instance_id, state, notice_version, language,
                          language_source, channel, received_at, started, ended, withdrawn_at
                   FROM consents WHERE form_id = $1 AND root_instance_id = $2",
                )
                .bind(form_id)
                .bind(root_instance_id),
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(ConsentRecord {
            root_instance_id: r.get("root_instance_id")?,
            instance_id: r.get("instance_id")?,
            state: r.get("state")?,
            notice_version: r.get("notice_version")?,
            language: r.get("language")?,
            language_source: r.get("language_source")?,
            channel: r.get("channel")?,
            received_at: r.get("received_at")?,
            started: r.get("started")?,
            ended: r.get("ended")?,
            withdrawn_at: r.get("withdrawn_at")?,
        }))
    }

    /// How many records of a form are in each consent state.
    pub async fn consent_counts(&self, form_id: i64) -> Result<ConsentCounts, StoreError> {
        let mut out = ConsentCounts::default();
        for r in self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT state, COUNT(*) AS n FROM consents WHERE form_id = $1 GROUP BY state")
                    .bind(form_id),
            )
            .await?
        {
            let n: i64 = r.get("n")?;
            match r.get::<String>("state")?.as_str() {
                "given" => out.given = n,
                "refused" => out.refused = n,
                "not_answered" => out.not_answered = n,
                "withdrawn" => out.withdrawn = n,
                _ => {}
            }
        }
        Ok(out)
    }
}
