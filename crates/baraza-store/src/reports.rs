//! Citizen reports: settings, gateway channels, the message ledger that drops repeats, reports
//! and their moderation, the outbox of replies and the alerts (migration 0027).
//!
//! Every write to a project's reports takes the next value of its report version in the same
//! transaction and stamps the rows it writes with it (`seq`), so that the map's in-memory index
//! reloads only what changed since the version it holds, on any instance.

use crate::db::{q, q_built, Conn, Mode, Row};
use crate::{Store, StoreError};

/// A project's report settings as stored (see migration 0027 for the meaning of each).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettingsRow {
    pub project_id: i64,
    pub web_form: bool,
    pub hide_author: bool,
    pub hide_time: bool,
    pub fuzz: String,
    pub fuzz_km: f64,
    pub k_threshold: i64,
    /// JSON.
    pub categories: String,
    /// JSON.
    pub checklist: String,
    /// JSON.
    pub sms_forms: String,
    pub alert_threshold: i64,
    pub alert_window_hours: i64,
    /// Sealed JSON list of numbers.
    pub alert_phones: Option<String>,
    pub alert_key_version: Option<i64>,
    pub modified_at: i64,
}

/// A gateway channel as stored; `secret` and `outbound` are sealed.
#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: i64,
    pub project_id: i64,
    pub token: String,
    pub gateway: String,
    pub name: String,
    pub secret: String,
    pub outbound: String,
    pub key_version: i64,
    pub enabled: bool,
    pub bucket_milli: Option<i64>,
    pub bucket_at_ms: Option<i64>,
    pub created_at: i64,
}

/// A message taken from a gateway, for the ledger, with the report it makes and the replies it
/// needs: stored together by the writers that group commits (see `ingest.rs`).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel_id: i64,
    pub provider_id: Option<String>,
    /// The key of its window.
    pub content_key: String,
    /// The keys a repeat would have (its window's and the one before).
    pub repeat_keys: [String; 2],
    pub sender: String,
    pub received_at: i64,
    /// `report`, `form_error`, `unknown`.
    pub outcome: String,
    pub report: Option<NewReport>,
    pub replies: Vec<NewOutgoing>,
}

/// A report to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub project_id: i64,
    pub source: String,
    pub channel_id: Option<i64>,
    pub form_id: Option<String>,
    pub answers: String,
    pub category: String,
    pub body: String,
    pub place_code: Option<String>,
    pub place_match: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub sender: Option<String>,
    pub sender_sealed: Option<String>,
    pub key_version: Option<i64>,
    pub author_id: Option<i64>,
    pub reported_at: i64,
    pub created_at: i64,
}

/// A reply or alert to queue.
#[derive(Debug, Clone)]
pub struct NewOutgoing {
    pub channel_id: i64,
    pub kind: String,
    pub recipient: String,
    pub recipient_sealed: String,
    pub key_version: i64,
    pub body: String,
    pub uuid: String,
    pub next_at_ms: i64,
    pub created_at: i64,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Stored, with its report if it made one.
    Stored { report_id: Option<i64> },
    /// Its channel had its provider id, or its content was seen in the window.
    Repeat,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub id: i64,
    pub project_id: i64,
    pub source: String,
    pub channel_id: Option<i64>,
    pub channel_name: String,
    pub form_id: Option<String>,
    pub answers: String,
    pub category: String,
    pub body: String,
    pub place_code: Option<String>,
    pub place_name: String,
    pub place_match: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub state: String,
    pub sender: Option<String>,
    pub sender_sealed: Option<String>,
    pub key_version: Option<i64>,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub checklist: String,
    pub reported_at: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

/// What the list of reports is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportQuery {
    pub states: Vec<String>,
    pub category: Option<String>,
    /// A place and the places under it.
    pub places: Vec<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The beginning of a sender's pseudonym (hex).
    pub sender: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One report as the map's index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPoint {
    pub id: i64,
    pub category: String,
    pub state: String,
    pub place_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub reported_at: i64,
}

/// A comment on a report.
#[derive(Debug, Clone)]
pub struct ReportCommentRow {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
}

/// A message of the outbox.
#[derive(Debug, Clone)]
pub struct OutgoingRow {
    pub id: i64,
    pub channel_id: i64,
    pub report_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub recipient_sealed: String,
    pub key_version: i64,
    pub body: String,
    pub uuid: String,
    pub state: String,
    pub attempts: i64,
    pub next_at_ms: i64,
    pub last_error: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// An alert on a spike.
#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: i64,
    pub project_id: i64,
    pub category: String,
    pub place_code: String,
    pub place_name: String,
    pub window_start: i64,
    pub count: i64,
    pub created_at: i64,
    pub notified: i64,
}

const REPORT_SELECT: &str = "SELECT r.id, r.project_id, r.source, r.channel_id,
       COALESCE(c.name, '') AS channel_name, r.form_id, r.answers, r.category, r.body,
       r.place_code, COALESCE(p.name, '') AS place_name, r.place_match, r.lat, r.lon, r.state,
       r.sender, r.sender_sealed, r.key_version, r.author_id, COALESCE(u.name, '') AS author_name,
       r.checklist, r.reported_at, r.created_at, r.modified_at
     FROM reports r LEFT JOIN report_channels c ON c.id = r.channel_id
     LEFT JOIN places p ON p.code = r.place_code LEFT JOIN users u ON u.id = r.author_id";

/// Marks a pending message (`$1`) sent at `$2`.
const MARK_SENT: &str = "UPDATE report_outbox SET state = 'sent', sent_at = $2,
       attempts = attempts + 1 WHERE id = $1 AND state = 'pending'";

const OUTGOING_SELECT: &str = "SELECT id, channel_id, report_id, kind, recipient,
       recipient_sealed, key_version, body, uuid, state, attempts, next_at_ms, last_error,
       created_at, sent_at FROM report_outbox";

fn settings_from(r: &Row) -> Result<ReportSettingsRow, StoreError> {
    Ok(ReportSettingsRow {
        project_id: r.get("project_id")?,
        web_form: r.get("web_form")?,
        hide_author: r.get("hide_author")?,
        hide_time: r.get("hide_time")?,
        fuzz: r.get("fuzz")?,
        fuzz_km: r.get("fuzz_km")?,
        k_threshold: r.get("k_threshold")?,
        categories: r.get("categories")?,
        checklist: r.get("checklist")?,
        sms_forms: r.get("sms_forms")?,
        alert_threshold: r.get("alert_threshold")?,
        alert_window_hours: r.get("alert_window_hours")?,
        alert_phones: r.get("alert_phones")?,
        alert_key_version: r.get("alert_key_version")?,
        modified_at: r.get("modified_at")?,
    })
}

fn channel_from(r: &Row) -> Result<ChannelRow, StoreError> {
    Ok(ChannelRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        token: r.get("token")?,
        gateway: r.get("gateway")?,
        name: r.get("name")?,
        secret: r.get("secret")?,
        outbound: r.get("outbound")?,
        key_version: r.get("key_version")?,
        enabled: r.get("enabled")?,
        bucket_milli: r.get("bucket_milli")?,
        bucket_at_ms: r.get("bucket_at_ms")?,
        created_at: r.get("created_at")?,
    })
}

fn report_from(r: &Row) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        source: r.get("source")?,
        channel_id: r.get("channel_id")?,
        channel_name: r.get("channel_name")?,
        form_id: r.get("form_id")?,
        answers: r.get("answers")?,
        category: r.get("category")?,
        body: r.get("body")?,
        place_code: r.get("place_code")?,
        place_name: r.get("place_name")?,
        place_match: r.get("place_match")?,
        lat: r.get("lat")?,
        lon: r.get("lon")?,
        state: r.get("state")?,
        sender: r.get("sender")?,
        sender_sealed: r.get("sender_sealed")?,
        key_version: r.get("key_version")?,
        author_id: r.get("author_id")?,
        author_name: r.get("author_name")?,
        checklist: r.get("checklist")?,
        reported_at: r.get("reported_at")?,
        created_at: r.get("created_at")?,
        modified_at: r.get("modified_at")?,
    })
}

fn outgoing_from(r: &Row) -> Result<OutgoingRow, StoreError> {
    Ok(OutgoingRow {
        id: r.get("id")?,
        channel_id: r.get("channel_id")?,
        report_id: r.get("report_id")?,
        kind: r.get("kind")?,
        recipient: r.get("recipient")?,
        recipient_sealed: r.get("recipient_sealed")?,
        key_version: r.get("key_version")?,
        body: r.get("body")?,
        uuid: r.get("uuid")?,
        state: r.get("state")?,
        attempts: r.get("attempts")?,
        next_at_ms: r.get("next_at_ms")?,
        last_error: r.get("last_error")?,
        created_at: r.get("created_at")?,
        sent_at: r.get("sent_at")?,
    })
}

/// Takes the project's next report version.
async fn next_seq(c: &mut Conn<'_>, project: i64) -> Result<i64, StoreError> {
    c.fetch_one(
        q(
            "INSERT INTO report_versions (project_id, version) VALUES ($1, 1)
           ON CONFLICT (project_id) DO UPDATE SET version = report_versions.version + 1
           RETURNING version",
        )
        .bind(project),
    )
    .await?
    .get("version")
}

async fn insert_report_in(c: &mut Conn<'_>, r: &NewReport, seq: i64) -> Result<i64, StoreError> {
    insert_report_as(c, r, seq, "in_review").await
}

async fn insert_report_as(
    c: &mut Conn<'_>,
    r: &NewReport,
    seq: i64,
    state: &str,
) -> Result<i64, StoreError> {
    c.fetch_one(
        q(
            "INSERT INTO reports (project_id, source, channel_id, form_id, answers, category, body,
               place_code, place_match, lat, lon, sender, sender_sealed, key_version, author_id,
               reported_at, created_at, modified_at, seq, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
               $17, $18, $19)
             RETURNING id",
        )
        .bind(r.project_id)
        .bind(r.source.as_str())
        .bind(r.channel_id)
        .bind(r.form_id.as_deref())
        .bind(r.answers.as_str())
        .bind(r.category.as_str())
        .bind(r.body.as_str())
        .bind(r.place_code.as_deref())
        .bind(r.place_match.as_str())
        .bind(r.lat)
        .bind(r.lon)
        .bind(r.sender.as_deref())
        .bind(r.sender_sealed.as_deref())
        .bind(r.key_version)
        .bind(r.author_id)
        .bind(r.reported_at)
        .bind(r.created_at)
        .bind(seq)
        .bind(state),
    )
    .await?
    .get("id")
}

async fn insert_outgoing_in(
    c: &mut Conn<'_>,
    o: &NewOutgoing,
    report: Option<i64>,
) -> Result<(), StoreError> {
    c.execute(
        q(
            "INSERT INTO report_outbox (channel_id, report_id, kind, recipient, recipient_sealed,
               key_version, body, uuid, next_at_ms, created_at)
             VALUES ($1, $10, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(o.channel_id)
        .bind(o.kind.as_str())
        .bind(o.recipient.as_str())
        .bind(o.recipient_sealed.as_str())
        .bind(o.key_version)
        .bind(o.body.as_str())
        .bind(o.uuid.as_str())
        .bind(o.next_at_ms)
        .bind(o.created_at)
        .bind(report),
    )
    .await?;
    Ok(())
}

/// Stores one message inside a writer's transaction (see `ingest.rs`): nothing when it is a
/// repeat of a stored message, or of one earlier in the same batch.
pub(crate) async fn store_message(
    c: &mut Conn<'_>,
    m: &NewMessage,
) -> Result<MessageOutcome, StoreError> {
    // One round trip for the provider's id and both windows' content keys. Three lookups on
    // their unique indexes rather than one `OR`: a prepared statement's generic plan, made
    // while the ledger is small, must not become a scan of the ledger once it is large.
    let [this_window, last_window] = &m.repeat_keys;
    if c.fetch_optional(
        q(
            "SELECT 1 AS x FROM report_messages WHERE channel_id = $1 AND provider_id = $2
           UNION ALL SELECT 1 AS x FROM report_messages WHERE content_key = $3
           UNION ALL SELECT 1 AS x FROM report_messages WHERE content_key = $4
           LIMIT 1",
        )
        .bind(m.channel_id)
        .bind(m.provider_id.as_deref())
        .bind(this_window.as_str())
        .bind(last_window.as_str()),
    )
    .await?
    .is_some()
    {
        return Ok(MessageOutcome::Repeat);
    }
    // A repeat racing this one in another process loses on the unique indexes.
    let Some(row) = c
        .fetch_optional(
            q(
                "INSERT INTO report_messages (channel_id, provider_id, content_key, sender,
                   received_at, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(m.channel_id)
            .bind(m.provider_id.as_deref())
            .bind(m.content_key.as_str())
            .bind(m.sender.as_str())
            .bind(m.received_at)
            .bind(m.outcome.as_str()),
        )
        .await?
    else {
        return Ok(MessageOutcome::Repeat);
    };
    let message_id: i64 = row.get("id")?;
    let mut report_id = None;
    if let Some(r) = &m.report {
        let seq = next_seq(c, r.project_id).await?;
        let id = insert_report_in(c, r, seq).await?;
        c.execute(
            q("UPDATE report_messages SET report_id = $2 WHERE id = $1")
                .bind(message_id)
                .bind(id),
        )
        .await?;
        report_id = Some(id);
    }
    for o in &m.replies {
        insert_outgoing_in(c, o, report_id).await?;
    }
    Ok(MessageOutcome::Stored { report_id })
}

impl Store {
    /// A project's report settings, if it has any.
    pub async fn report_settings(
        &self,
        project: i64,
    ) -> Result<Option<ReportSettingsRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT * FROM report_settings WHERE project_id = $1").bind(project),
            )
            .await?
            .as_ref()
            .map(settings_from)
            .transpose()
    }

    /// Replaces a project's report settings.
    pub async fn put_report_settings(&self, s: &ReportSettingsRow) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "INSERT INTO report_settings (project_id, web_form, hide_author, hide_time,
                       fuzz, fuzz_km, k_threshold, categories, checklist, sms_forms,
                       alert_threshold, alert_window_hours, alert_phones, alert_key_version,
                       modified_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                     ON CONFLICT (project_id) DO UPDATE SET web_form = $2, hide_author = $3,
                       hide_time = $4, fuzz = $5, fuzz_km = $6, k_threshold = $7,
                       categories = $8, checklist = $9, sms_forms = $10, alert_threshold = $11,
                       alert_window_hours = $12, alert_phones = $13, alert_key_version = $14,
                       modified_at = $15",
                )
                .bind(s.project_id)
                .bind(s.web_form)
                .bind(s.hide_author)
                .bind(s.hide_time)
                .bind(s.fuzz.as_str())
                .bind(s.fuzz_km)
                .bind(s.k_threshold)
                .bind(s.categories.as_str())
                .bind(s.checklist.as_str())
                .bind(s.sms_forms.as_str())
                .bind(s.alert_threshold)
                .bind(s.alert_window_hours)
                .bind(s.alert_phones.as_deref())
                .bind(s.alert_key_version)
                .bind(s.modified_at),
            )
            .await?;
        Ok(())
    }

    /// Adds a gateway channel; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_channel(
        &self,
        project: i64,
        token: &str,
        gateway: &str,
        name: &str,
        secret: &str,
        outbound: &str,
        key_version: i64,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO report_channels (project_id, token, gateway, name, secret,
                       outbound, key_version, created_at, modified_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(project)
                .bind(token)
                .bind(gateway)
                .bind(name)
                .bind(secret)
                .bind(outbound)
                .bind(key_version)
                .bind(at),
            )
            .await?
            .get("id")
    }

    /// A project's channels, oldest first.
    pub async fn channels(&self, project: i64) -> Result<Vec<ChannelRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT * FROM report_channels WHERE project_id = $1 ORDER BY id").bind(project),
            )
            .await?
            .iter()
            .map(channel_from)
            .collect()
    }

    /// A channel by id.
    pub async fn channel(&self, id: i64) -> Result<Option<ChannelRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT * FROM report_channels WHERE id = $1").bind(id),
            )
            .await?
            .as_ref()
            .map(channel_from)
            .transpose()
    }

    /// The channel a webhook URL names.
    pub async fn channel_by_token(&self, token: &str) -> Result<Option<ChannelRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT * FROM report_channels WHERE token = $1").bind(token),
            )
            .await?
            .as_ref()
            .map(channel_from)
            .transpose()
    }

    /// Turns a channel on or off.
    pub async fn set_channel_enabled(
        &self,
        id: i64,
        enabled: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE report_channels SET enabled = $2, modified_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(enabled)
                    .bind(at),
            )
            .await?;
        Ok(())
    }

    /// Stores a channel's token bucket after a send.
    pub async fn set_channel_bucket(
        &self,
        id: i64,
        milli: i64,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE report_channels SET bucket_milli = $2, bucket_at_ms = $3 WHERE id = $1")
                    .bind(id)
                    .bind(milli)
                    .bind(at_ms),
            )
            .await?;
        Ok(())
    }

    /// Records a message from a gateway with the report it makes and the replies it needs, in
    /// one transaction, unless it is a repeat. It is stored by the writers that group commits,
    /// beside submissions and other messages: the answer comes once that commit has returned.
    pub async fn ingest_message(&self, m: NewMessage) -> Result<MessageOutcome, StoreError> {
        self.committer.message(m).await
    }

    /// Stores a report from the web form; returns its id.
    pub async fn insert_report(&self, r: &NewReport) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let seq = next_seq(&mut c, r.project_id).await?;
        let id = insert_report_in(&mut c, r, seq).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Stores many reports at once (the demo and the benchmark); returns how many.
    pub async fn insert_reports(&self, reports: &[NewReport]) -> Result<usize, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        for r in reports {
            let seq = next_seq(&mut c, r.project_id).await?;
            insert_report_in(&mut c, r, seq).await?;
        }
        tx.commit().await?;
        Ok(reports.len())
    }

    /// Stores many reports at once, each already in the state given beside it (the benchmark's
    /// million reports, which no one moderates one by one); returns how many.
    pub async fn insert_reports_in_state(
        &self,
        reports: &[(NewReport, &str)],
    ) -> Result<usize, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        for (r, state) in reports {
            let seq = next_seq(&mut c, r.project_id).await?;
            insert_report_as(&mut c, r, seq, state).await?;
        }
        tx.commit().await?;
        Ok(reports.len())
    }

    /// One report.
    pub async fn report(&self, id: i64) -> Result<Option<ReportRow>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q_built(format!("{REPORT_SELECT} WHERE r.id = $1")).bind(id),
            )
            .await?
            .as_ref()
            .map(report_from)
            .transpose()
    }

    /// A project's reports, newest first, with how many match in all.
    pub async fn reports(
        &self,
        project: i64,
        f: &ReportQuery,
    ) -> Result<(Vec<ReportRow>, i64), StoreError> {
        let mut sql = String::from(" WHERE r.project_id = $1");
        let mut args: Vec<crate::db::Arg> = vec![project.into()];
        let mut n = 1;
        let mut param = |args: &mut Vec<crate::db::Arg>, a: crate::db::Arg| {
            args.push(a);
            n += 1;
            format!("${n}")
        };
        if !f.states.is_empty() {
            let ps: Vec<String> = f
                .states
                .iter()
                .map(|s| param(&mut args, s.clone().into()))
                .collect();
            sql.push_str(&format!(" AND r.state IN ({})", ps.join(", ")));
        }
        if let Some(c) = &f.category {
            let p = param(&mut args, c.clone().into());
            sql.push_str(&format!(" AND r.category = {p}"));
        }
        if !f.places.is_empty() {
            let ps: Vec<String> = f
                .places
                .iter()
                .map(|s| param(&mut args, s.clone().into()))
                .collect();
            sql.push_str(&format!(" AND r.place_code IN ({})", ps.join(", ")));
        }
        if let Some(from) = f.from {
            let p = param(&mut args, from.into());
            sql.push_str(&format!(" AND r.reported_at >= {p}"));
        }
        if let Some(to) = f.to {
            let p = param(&mut args, to.into());
            sql.push_str(&format!(" AND r.reported_at < {p}"));
        }
        if let Some(s) = &f.sender {
            let prefix: String = s.chars().filter(char::is_ascii_hexdigit).collect();
            let p = param(&mut args, format!("{prefix}%").into());
            sql.push_str(&format!(" AND r.sender LIKE {p}"));
        }
        let mut count = q_built(format!("SELECT COUNT(*) AS n FROM reports r{sql}"));
        for a in &args {
            count = count.bind(a.clone());
        }
        let total: i64 = self.pools.fetch_one(Mode::Read, count).await?.get("n")?;
        let lim = param(&mut args, f.limit.max(0).into());
        let off = param(&mut args, f.offset.max(0).into());
        let mut list = q_built(format!(
            "{REPORT_SELECT}{sql} ORDER BY r.reported_at DESC, r.id DESC LIMIT {lim} OFFSET {off}"
        ));
        for a in args {
            list = list.bind(a);
        }
        let rows = self
            .pools
            .fetch_all(Mode::Read, list)
            .await?
            .iter()
            .map(report_from)
            .collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    /// How many reports a project has in each state.
    pub async fn report_counts(&self, project: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT state, COUNT(*) AS n FROM reports WHERE project_id = $1 GROUP BY state
                   ORDER BY state",
                )
                .bind(project),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("state")?, r.get("n")?)))
            .collect()
    }

    /// A project's report version (0 before its first report).
    pub async fn report_version(&self, project: i64) -> Result<i64, StoreError> {
        Ok(self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT version FROM report_versions WHERE project_id = $1").bind(project),
            )
            .await?
            .map(|r| r.get("version"))
            .transpose()?
            .unwrap_or(0))
    }

    /// The reports written after version `since`, for the map's index, with the version read.
    pub async fn report_points_since(
        &self,
        project: i64,
        since: i64,
    ) -> Result<(Vec<ReportPoint>, i64), StoreError> {
        // A version is visible only once the transaction that took it has committed, with
        // every row it stamped: reading the version first makes the rows up to it complete.
        let version = self.report_version(project).await?;
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, category, state, place_code, lat, lon, reported_at FROM reports
                   WHERE project_id = $1 AND seq > $2 AND seq <= $3",
                )
                .bind(project)
                .bind(since)
                .bind(version),
            )
            .await?;
        let points = rows
            .iter()
            .map(|r| {
                Ok(ReportPoint {
                    id: r.get("id")?,
                    category: r.get("category")?,
                    state: r.get("state")?,
                    place_code: r.get("place_code")?,
                    lat: r.get("lat")?,
                    lon: r.get("lon")?,
                    reported_at: r.get("reported_at")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((points, version))
    }

    /// Moves a report to a state with its checklist; `false` if its state was not `from`
    /// any more (another moderator was first).
    pub async fn set_report_state(
        &self,
        id: i64,
        project: i64,
        from: &str,
        to: &str,
        checklist: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let seq = next_seq(&mut c, project).await?;
        let n = c
            .execute(
                q(
                    "UPDATE reports SET state = $3, checklist = $4, modified_at = $5, seq = $6
                   WHERE id = $1 AND state = $2",
                )
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(checklist)
                .bind(at)
                .bind(seq),
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Sets where a report is (a moderator's correction), its category too.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_report_place(
        &self,
        id: i64,
        project: i64,
        category: &str,
        place_code: Option<&str>,
        lat: Option<f64>,
        lon: Option<f64>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let seq = next_seq(&mut c, project).await?;
        c.execute(
            q(
                "UPDATE reports SET category = $2, place_code = $3, lat = $4, lon = $5,
                 place_match = 'moderator', modified_at = $6, seq = $7 WHERE id = $1",
            )
            .bind(id)
            .bind(category)
            .bind(place_code)
            .bind(lat)
            .bind(lon)
            .bind(at)
            .bind(seq),
        )
        .await?;
        tx.commit().await
    }

    /// Adds a comment to a report.
    pub async fn add_report_comment(
        &self,
        report: i64,
        author: Option<i64>,
        body: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO report_comments (report_id, author_id, body, created_at)
                   VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(report)
                .bind(author)
                .bind(body)
                .bind(at),
            )
            .await?
            .get("id")
    }

    /// A report's comments, oldest first.
    pub async fn report_comments(&self, report: i64) -> Result<Vec<ReportCommentRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT c.id, c.author_id, COALESCE(u.name, '') AS author_name, c.body,
                     c.created_at
                   FROM report_comments c LEFT JOIN users u ON u.id = c.author_id
                   WHERE c.report_id = $1 ORDER BY c.id",
                )
                .bind(report),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ReportCommentRow {
                    id: r.get("id")?,
                    author_id: r.get("author_id")?,
                    author_name: r.get("author_name")?,
                    body: r.get("body")?,
                    created_at: r.get("created_at")?,
                })
            })
            .collect()
    }

    /// Queues a message (an alert) outside an ingestion.
    pub async fn queue_outgoing(&self, o: &NewOutgoing) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        insert_outgoing_in(&mut c, o, None).await?;
        tx.commit().await
    }

    /// Pending messages due by `now_ms`, oldest first, for channels that are sent to (not
    /// polled).
    pub async fn due_outgoing(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutgoingRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "{OUTGOING_SELECT} WHERE state = 'pending' AND next_at_ms <= $1
                     AND channel_id IN (SELECT id FROM report_channels WHERE gateway <> 'smssync'
                       AND enabled = TRUE)
                     ORDER BY next_at_ms, id LIMIT $2"
                ))
                .bind(now_ms)
                .bind(limit),
            )
            .await?
            .iter()
            .map(outgoing_from)
            .collect()
    }

    /// A channel's pending messages (an SMSSync phone's poll), oldest first.
    pub async fn pending_outgoing(
        &self,
        channel: i64,
        limit: i64,
    ) -> Result<Vec<OutgoingRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "{OUTGOING_SELECT} WHERE channel_id = $1 AND state = 'pending'
                     ORDER BY id LIMIT $2"
                ))
                .bind(channel)
                .bind(limit),
            )
            .await?
            .iter()
            .map(outgoing_from)
            .collect()
    }

    /// The messages queued for a report, oldest first.
    pub async fn report_outgoing(&self, report: i64) -> Result<Vec<OutgoingRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q_built(format!(
                    "{OUTGOING_SELECT} WHERE report_id = $1 ORDER BY id"
                ))
                .bind(report),
            )
            .await?
            .iter()
            .map(outgoing_from)
            .collect()
    }

    /// Marks a message sent; `false` if it was not pending any more.
    pub async fn outgoing_sent(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        Ok(self.pools.execute(q(MARK_SENT).bind(id).bind(at)).await? > 0)
    }

    /// Marks pending messages sent, in one transaction (the demo's replies to past messages).
    pub async fn outgoing_all_sent(&self, ids: &[i64], at: i64) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let mut n = 0;
        for &id in ids {
            n += c.execute(q(MARK_SENT).bind(id).bind(at)).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Marks SMSSync's messages taken by its phone, by uuid.
    pub async fn outgoing_sent_by_uuid(
        &self,
        channel: i64,
        uuids: &[String],
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        for u in uuids {
            n += self
                .pools
                .execute(
                    q("UPDATE report_outbox SET state = 'sent', sent_at = $3,
                         attempts = attempts + 1
                       WHERE channel_id = $1 AND uuid = $2 AND state = 'pending'")
                    .bind(channel)
                    .bind(u.as_str())
                    .bind(at),
                )
                .await?;
        }
        Ok(n)
    }

    /// Records a failed attempt: retried at `next_at_ms`, or failed for good when `None`.
    pub async fn outgoing_failed(
        &self,
        id: i64,
        error: &str,
        next_at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let (state, next) = match next_at_ms {
            Some(t) => ("pending", t),
            None => ("failed", 0),
        };
        self.pools
            .execute(
                q(
                    "UPDATE report_outbox SET state = $2, attempts = attempts + 1,
                     last_error = $3, next_at_ms = CASE WHEN $2 = 'pending' THEN $4
                       ELSE next_at_ms END
                   WHERE id = $1",
                )
                .bind(id)
                .bind(state)
                .bind(error)
                .bind(next),
            )
            .await?;
        Ok(())
    }

    /// How many reports of a category were reported in a place since `from`.
    pub async fn count_reports_in(
        &self,
        project: i64,
        category: &str,
        place: &str,
        from: i64,
    ) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q(
                    "SELECT COUNT(*) AS n FROM reports WHERE project_id = $1 AND category = $2
                   AND place_code = $3 AND reported_at >= $4 AND state <> 'rejected'",
                )
                .bind(project)
                .bind(category)
                .bind(place)
                .bind(from),
            )
            .await?
            .get("n")
    }

    /// Records an alert; `None` if this category, place and window already has one.
    pub async fn insert_alert(
        &self,
        project: i64,
        category: &str,
        place: &str,
        window_start: i64,
        count: i64,
        at: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Write,
                q(
                    "INSERT INTO report_alerts (project_id, category, place_code, window_start,
                     count, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(project)
                .bind(category)
                .bind(place)
                .bind(window_start)
                .bind(count)
                .bind(at),
            )
            .await?
            .map(|r| r.get("id"))
            .transpose()
    }

    /// Records how many people an alert was sent to.
    pub async fn set_alert_notified(&self, id: i64, notified: i64) -> Result<(), StoreError> {
        self.pools
            .execute(
                q("UPDATE report_alerts SET notified = $2 WHERE id = $1")
                    .bind(id)
                    .bind(notified),
            )
            .await?;
        Ok(())
    }

    /// A project's alerts, newest first.
    pub async fn report_alerts(
        &self,
        project: i64,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT a.id, a.project_id, a.category, a.place_code,
                     COALESCE(p.name, a.place_code) AS place_name, a.window_start, a.count,
                     a.created_at, a.notified
                   FROM report_alerts a LEFT JOIN places p ON p.code = a.place_code
                   WHERE a.project_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2")
                .bind(project)
                .bind(limit),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(AlertRow {
                    id: r.get("id")?,
                    project_id: r.get("project_id")?,
                    category: r.get("category")?,
                    place_code: r.get("place_code")?,
                    place_name: r.get("place_name")?,
                    window_start: r.get("window_start")?,
                    count: r.get("count")?,
                    created_at: r.get("created_at")?,
                    notified: r.get("notified")?,
                })
            })
            .collect()
    }
}
