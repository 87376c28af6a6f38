//! What ODK Central's API reads (submissions with their system data, filtered and keyset-paged
//! for the OData feed; form versions) and what Digest sign-in keeps (password digests of the
//! accounts that allowed it, the instance's nonce key).
//!
//! The feed's filter is a small typed expression ([`SubmissionFilter`]) turned into SQL here:
//! the text is assembled from fragments of this file only and every value is a bound argument.
//! Each comparison is two-valued (never SQL's unknown), so `NOT` means what OData means.

use crate::db::{q, q_built, Arg, Mode, Row};
use crate::scope::push_scope;
use crate::{FormVersionRow, RowScope, Store, StoreError};
use baraza_types::UserId;

/// A submission fact that the feed can filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionField {
    /// When the first version was received (Unix seconds).
    SubmissionDate,
    /// When the current version was received, if the submission was edited; else null.
    UpdatedAt,
    /// The account id of the submitter, or minus the app user's id; null if it was deleted.
    SubmitterId,
    /// Central's review state: null (received), `edited`, `hasIssues`, `approved`, `rejected`.
    ReviewState,
    /// The first version's instanceID.
    InstanceId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Null,
    Int(i64),
    Text(String),
}

/// A filter on a form's current submissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionFilter {
    Const(bool),
    Cmp(SubmissionField, FilterOp, FilterValue),
    Not(Box<SubmissionFilter>),
    And(Box<SubmissionFilter>, Box<SubmissionFilter>),
    Or(Box<SubmissionFilter>, Box<SubmissionFilter>),
}

/// A current submission with what Central's API says of it.
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub id: i64,
    /// The current version's instanceID.
    pub instance_id: String,
    /// The first version's instanceID: the submission's identity in Central's API.
    pub root_instance_id: String,
    pub deprecated_id: Option<String>,
    pub xml_sha256: String,
    pub values_json: String,
    /// When the current version was received.
    pub received_at: i64,
    /// When the first version was received.
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub submitter_id: Option<i64>,
    pub submitter_name: Option<String>,
    /// In Central's words (see [`SubmissionField::ReviewState`]).
    pub review_state: Option<String>,
    pub form_version: String,
    pub attachments_present: i64,
    pub attachments_expected: i64,
    pub edits: i64,
}

/// A page of the feed: current submissions of a form, newest first.
#[derive(Debug, Clone, Copy)]
pub struct FeedPage<'a> {
    pub form_id: i64,
    /// The records the reader may see.
    pub scope: &'a RowScope,
    pub filter: Option<&'a SubmissionFilter>,
    /// Only submissions with a smaller id (the keyset of the previous page).
    pub before_id: Option<i64>,
    pub offset: i64,
    pub limit: i64,
}

const CREATED: &str = "(CASE WHEN s.deprecated_id IS NULL THEN s.received_at ELSE \
     (SELECT MIN(r.received_at) FROM submissions r WHERE r.form_id = s.form_id AND r.root_instance_id = s.root_instance_id) END)";
const UPDATED: &str = "(CASE WHEN s.deprecated_id IS NULL THEN NULL ELSE s.received_at END)";
const SUBMITTER: &str = "(CASE WHEN s.user_id IS NOT NULL THEN s.user_id \
     WHEN s.app_user_id IS NOT NULL THEN -s.app_user_id ELSE NULL END)";
const REVIEW: &str = "(CASE WHEN s.review_state = 'received' THEN \
     (CASE WHEN s.deprecated_id IS NULL THEN NULL ELSE 'edited' END) \
     WHEN s.review_state = 'has_issues' THEN 'hasIssues' ELSE s.review_state END)";

const FEED_SELECT: &str = "SELECT s.id, s.instance_id, s.root_instance_id, s.deprecated_id, s.xml_sha256, \
     s.values_json, s.received_at, v.version AS form_version, COALESCE(u.name, a.name) AS submitter_name, \
     (SELECT COUNT(*) FROM submission_attachments t WHERE t.submission_id = s.id) AS att_expected, \
     (SELECT COUNT(*) FROM submission_attachments t WHERE t.submission_id = s.id AND t.sha256 IS NOT NULL) AS att_present, \
     (CASE WHEN s.deprecated_id IS NULL THEN 0 ELSE \
       (SELECT COUNT(*) FROM submissions e WHERE e.form_id = s.form_id AND e.root_instance_id = s.root_instance_id) - 1 END) AS edits";

const FEED_FROM: &str = " FROM submissions s \
     JOIN form_versions v ON v.id = s.form_version_id \
     LEFT JOIN users u ON u.id = s.user_id \
     LEFT JOIN app_users a ON a.id = s.app_user_id";

fn column(f: SubmissionField) -> &'static str {
    match f {
        SubmissionField::SubmissionDate => CREATED,
        SubmissionField::UpdatedAt => UPDATED,
        SubmissionField::SubmitterId => SUBMITTER,
        SubmissionField::ReviewState => REVIEW,
        SubmissionField::InstanceId => "s.root_instance_id",
    }
}

/// Appends the SQL of `f` to `sql`, pushing its values to `args` (numbered after `first`).
fn filter_sql(f: &SubmissionFilter, sql: &mut String, args: &mut Vec<Arg>, first: usize) {
    match f {
        SubmissionFilter::Const(true) => sql.push_str("(1 = 1)"),
        SubmissionFilter::Const(false) => sql.push_str("(1 = 0)"),
        SubmissionFilter::Not(inner) => {
            sql.push_str("(NOT ");
            filter_sql(inner, sql, args, first);
            sql.push(')');
        }
        SubmissionFilter::And(a, b) | SubmissionFilter::Or(a, b) => {
            let op = if matches!(f, SubmissionFilter::And(..)) {
                " AND "
            } else {
                " OR "
            };
            sql.push('(');
            filter_sql(a, sql, args, first);
            sql.push_str(op);
            filter_sql(b, sql, args, first);
            sql.push(')');
        }
        SubmissionFilter::Cmp(field, op, value) => {
            let col = column(*field);
            let bind = |v: &FilterValue, args: &mut Vec<Arg>| -> String {
                args.push(match v {
                    FilterValue::Int(i) => Arg::I64(*i),
                    FilterValue::Text(t) => Arg::Text(t.clone()),
                    FilterValue::Null => Arg::OptI64(None),
                });
                format!("${}", first + args.len() - 1)
            };
            match (op, value) {
                (FilterOp::Eq, FilterValue::Null) => sql.push_str(&format!("({col} IS NULL)")),
                (FilterOp::Ne, FilterValue::Null) => sql.push_str(&format!("({col} IS NOT NULL)")),
                // Ordering comparisons with null are false in OData.
                (_, FilterValue::Null) => sql.push_str("(1 = 0)"),
                (FilterOp::Ne, v) => {
                    let p = bind(v, args);
                    sql.push_str(&format!("({col} IS NULL OR {col} <> {p})"));
                }
                (op, v) => {
                    let p = bind(v, args);
                    let o = match op {
                        FilterOp::Eq => "=",
                        FilterOp::Lt => "<",
                        FilterOp::Le => "<=",
                        FilterOp::Gt => ">",
                        FilterOp::Ge => ">=",
                        FilterOp::Ne => "<>",
                    };
                    sql.push_str(&format!("COALESCE(({col} {o} {p}), FALSE)"));
                }
            }
        }
    }
}

fn feed_from(r: &Row) -> Result<FeedRow, StoreError> {
    Ok(FeedRow {
        id: r.get("id")?,
        instance_id: r.get("instance_id")?,
        root_instance_id: r.get("root_instance_id")?,
        deprecated_id: r.get("deprecated_id")?,
        xml_sha256: r.get("xml_sha256")?,
        values_json: r.get("values_json")?,
        received_at: r.get("received_at")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        submitter_id: r.get("submitter_id")?,
        submitter_name: r.get("submitter_name")?,
        review_state: r.get("central_review")?,
        form_version: r.get("form_version")?,
        attachments_present: r.get("att_present")?,
        attachments_expected: r.get("att_expected")?,
        edits: r.get("edits")?,
    })
}

fn system_columns() -> String {
    format!(
        ", {CREATED} AS created_at, {UPDATED} AS updated_at, {SUBMITTER} AS submitter_id, {REVIEW} AS central_review"
    )
}

impl Store {
    /// A page of a form's current submissions, newest first, with their system data.
    pub async fn feed_rows(&self, p: &FeedPage<'_>) -> Result<Vec<FeedRow>, StoreError> {
        let mut sql = format!(
            "{FEED_SELECT}{}{FEED_FROM} WHERE s.form_id = $1 AND s.is_current",
            system_columns()
        );
        let mut args = vec![Arg::I64(p.form_id)];
        push_scope(p.scope, &mut sql, &mut args);
        if let Some(before) = p.before_id {
            args.push(Arg::I64(before));
            sql.push_str(&format!(" AND s.id < ${}", args.len()));
        }
        if let Some(f) = p.filter {
            sql.push_str(" AND ");
            let first = args.len() + 1;
            let mut fargs = Vec::new();
            filter_sql(f, &mut sql, &mut fargs, first);
            args.extend(fargs);
        }
        args.push(Arg::I64(p.limit.max(0)));
        sql.push_str(&format!(" ORDER BY s.id DESC LIMIT ${}", args.len()));
        args.push(Arg::I64(p.offset.max(0)));
        sql.push_str(&format!(" OFFSET ${}", args.len()));
        let mut query = q_built(sql);
        for a in args {
            query = query.bind(a);
        }
        self.pools
            .fetch_all(Mode::Read, query)
            .await?
            .iter()
            .map(feed_from)
            .collect()
    }

    /// How many current submissions of a form inside `scope` pass the filter.
    pub async fn feed_count(
        &self,
        form_id: i64,
        scope: &RowScope,
        filter: Option<&SubmissionFilter>,
    ) -> Result<i64, StoreError> {
        let mut sql =
            "SELECT COUNT(*) AS n FROM submissions s WHERE s.form_id = $1 AND s.is_current"
                .to_owned();
        let mut args = vec![Arg::I64(form_id)];
        push_scope(scope, &mut sql, &mut args);
        if let Some(f) = filter {
            sql.push_str(" AND ");
            let first = args.len() + 1;
            let mut fargs = Vec::new();
            filter_sql(f, &mut sql, &mut fargs, first);
            args.extend(fargs);
        }
        let mut query = q_built(sql);
        for a in args {
            query = query.bind(a);
        }
        self.pools.fetch_one(Mode::Read, query).await?.get("n")
    }

    /// The current version of the submission whose first version has this instanceID, if it is
    /// inside `scope`.
    pub async fn feed_row(
        &self,
        form_id: i64,
        root_instance_id: &str,
        scope: &RowScope,
    ) -> Result<Option<FeedRow>, StoreError> {
        let mut sql = format!(
            "{FEED_SELECT}{}{FEED_FROM} WHERE s.form_id = $1 AND s.is_current AND s.root_instance_id = $2",
            system_columns()
        );
        let mut args = vec![Arg::I64(form_id), Arg::Text(root_instance_id.to_owned())];
        push_scope(scope, &mut sql, &mut args);
        let mut query = q_built(sql);
        for a in args {
            query = query.bind(a);
        }
        self.pools
            .fetch_optional(Mode::Read, query)
            .await?
            .map(|r| feed_from(&r))
            .transpose()
    }

    /// When a form was first published.
    pub async fn form_published_at(&self, form_id: i64) -> Result<Option<i64>, StoreError> {
        self.pools
            .fetch_one(
                Mode::Read,
                q("SELECT published_at FROM forms WHERE id = $1").bind(form_id),
            )
            .await?
            .get("published_at")
    }

    /// Every version of a form, newest first.
    pub async fn form_versions(&self, form_id: i64) -> Result<Vec<FormVersionRow>, StoreError> {
        let ids = self.form_version_ids(form_id).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = self.form_version(id).await? {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The ids of a form's versions, newest first.
    pub async fn form_version_ids(&self, form_id: i64) -> Result<Vec<i64>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT id FROM form_versions WHERE form_id = $1 ORDER BY id DESC").bind(form_id),
            )
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect()
    }

    // ----- Digest sign-in ----------------------------------------------------------------------

    /// The secret called `name`, made from `candidate` by whichever instance asks first. Once it
    /// exists this is a read (every unauthenticated OpenRosa request asks for it).
    pub async fn server_secret(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let existing = self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT value FROM server_secrets WHERE name = $1").bind(name),
            )
            .await?;
        if let Some(r) = existing {
            return r.get("value");
        }
        self.pools
            .execute(
                q(
                    "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
                   ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(candidate)
                .bind(now),
            )
            .await?;
        self.pools
            .fetch_one(
                Mode::Write,
                q("SELECT value FROM server_secrets WHERE name = $1").bind(name),
            )
            .await?
            .get("value")
    }

    /// The Digest password digests (MD5, SHA-256) of an account, if its owner allowed Digest.
    pub async fn digest_credentials(
        &self,
        user: UserId,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.pools
            .fetch_optional(
                Mode::Read,
                q("SELECT ha1_md5, ha1_sha256 FROM digest_credentials WHERE user_id = $1")
                    .bind(user.0),
            )
            .await?
            .map(|r| Ok((r.get("ha1_md5")?, r.get("ha1_sha256")?)))
            .transpose()
    }

    pub async fn set_digest_credentials(
        &self,
        user: UserId,
        ha1_md5: &str,
        ha1_sha256: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.pools
            .execute(
                q(
                    "INSERT INTO digest_credentials (user_id, ha1_md5, ha1_sha256, created_at)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (user_id) DO UPDATE SET ha1_md5 = excluded.ha1_md5,
                       ha1_sha256 = excluded.ha1_sha256, created_at = excluded.created_at",
                )
                .bind(user.0)
                .bind(ha1_md5)
                .bind(ha1_sha256)
                .bind(now),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_digest_credentials(&self, user: UserId) -> Result<(), StoreError> {
        self.pools
            .execute(q("DELETE FROM digest_credentials WHERE user_id = $1").bind(user.0))
            .await?;
        Ok(())
    }

    /// Replaces a password hash and, in the same transaction, the Digest digests of an account
    /// that keeps them (so the old password stops working over Digest at the same moment).
    pub async fn set_password_and_digest(
        &self,
        user: UserId,
        hash: &str,
        digest: Option<(&str, &str)>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let n = tx
            .conn()
            .execute(
                q("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(user.0),
            )
            .await?;
        match digest {
            Some((md5, sha256)) => {
                tx.conn()
                    .execute(
                        q("UPDATE digest_credentials SET ha1_md5 = $1, ha1_sha256 = $2 WHERE user_id = $3")
                            .bind(md5)
                            .bind(sha256)
                            .bind(user.0),
                    )
                    .await?;
            }
            None => {
                tx.conn()
                    .execute(q("DELETE FROM digest_credentials WHERE user_id = $1").bind(user.0))
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(n == 1)
    }
}
