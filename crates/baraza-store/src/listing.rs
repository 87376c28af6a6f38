//! A form's current submissions, filtered and sorted, read by keyset batches: the submissions
//! table, its twins and every export read through here.
//!
//! The query is assembled from fixed fragments (one per filter in use and one per direction), so
//! each backend plans exactly the query asked, and every value is bound. Paging is keyset on
//! `(received_at, id)`, in either direction: no OFFSET, whatever the filters. Filters on answers
//! read `filter_json` through `json_extract` (see `migrations/*/0007_submission_filters.sql`).

use crate::db::{q, q_built, Mode, Row};
use crate::scope::push_scope;
use crate::{RowScope, Store, StoreError};

/// Who sent a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitterRef {
    AppUser(i64),
    User(i64),
}

/// A comparison of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberOp {
    Eq,
    Lt,
    Gt,
}

/// A filter on one answer outside repeats. `key` is the `json_extract` path of the answer in
/// `filter_json` (e.g. `$."#/data/household/size"`), made by `baraza-core`.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerFilter {
    /// The answer's text equals.
    Text { key: String, value: String },
    /// The numeric answer compares.
    Number {
        key: String,
        op: NumberOp,
        value: f64,
    },
    /// The key exists (a choice of a select_multiple is among the chosen).
    Present { key: String },
}

/// Which submissions, in which order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmissionQuery {
    pub review_state: Option<String>,
    pub submitter: Option<SubmitterRef>,
    /// Received at or after (Unix seconds).
    pub received_from: Option<i64>,
    /// Received before (Unix seconds).
    pub received_before: Option<i64>,
    pub answer: Option<AnswerFilter>,
    pub newest_first: bool,
    /// Only submissions with an id up to this one: a snapshot bound for readers that go over the
    /// same submissions several times.
    pub max_id: Option<i64>,
}

/// A position in a listing: the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub received_at: i64,
    pub id: i64,
}

/// A submission as listed and exported.
#[derive(Debug, Clone)]
pub struct ListedSubmission {
    pub id: i64,
    pub instance_id: String,
    /// The instanceID of the record's first version (its stable key).
    pub root_instance_id: String,
    pub form_version: String,
    pub received_at: i64,
    pub review_state: String,
    pub values_json: String,
    pub submitter: Option<SubmitterRef>,
    pub submitter_name: Option<String>,
    pub attachments_expected: i64,
    pub attachments_present: i64,
    /// Versions of the record before this one.
    pub edits: i64,
}

impl ListedSubmission {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            received_at: self.received_at,
            id: self.id,
        }
    }
}

/// Someone who may have sent submissions to a project's forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    pub who: SubmitterRef,
    pub name: String,
}

const LIST_SELECT: &str = "SELECT s.id, s.instance_id, s.root_instance_id, v.version AS form_version, s.received_at,
       s.review_state, s.values_json, s.app_user_id, s.user_id,
       COALESCE(a.name, u.name) AS submitter_name,
       (SELECT COUNT(*) FROM submission_attachments sa WHERE sa.submission_id = s.id) AS attachments_expected,
       (SELECT COUNT(sa.sha256) FROM submission_attachments sa WHERE sa.submission_id = s.id) AS attachments_present,
       CASE WHEN s.instance_id = s.root_instance_id THEN 0
            ELSE (SELECT COUNT(*) FROM submissions h WHERE h.form_id = s.form_id AND h.root_instance_id = s.root_instance_id AND h.id < s.id)
       END AS edits
FROM submissions s
JOIN form_versions v ON v.id = s.form_version_id
LEFT JOIN app_users a ON a.id = s.app_user_id
LEFT JOIN users u ON u.id = s.user_id
WHERE s.form_id = $1 AND s.is_current";

/// The query text and its arguments for a listing.
fn listing_sql(
    form_id: i64,
    scope: &RowScope,
    query: &SubmissionQuery,
    after: Option<Cursor>,
    limit: i64,
) -> crate::db::Sql {
    let mut sql = String::from(LIST_SELECT);
    let mut args: Vec<crate::db::Arg> = vec![form_id.into()];
    push_scope(scope, &mut sql, &mut args);
    let mut arg = |sql: &mut String, fragment: &str, value: crate::db::Arg| {
        args.push(value);
        sql.push_str(&fragment.replace('?', &format!("${}", args.len())));
    };
    if let Some(state) = &query.review_state {
        arg(&mut sql, " AND s.review_state = ?", state.clone().into());
    }
    match query.submitter {
        Some(SubmitterRef::AppUser(id)) => arg(
            &mut sql,
            " AND s.app_user_id = ? AND s.user_id IS NULL",
            id.into(),
        ),
        Some(SubmitterRef::User(id)) => arg(
            &mut sql,
            " AND s.app_user_id IS NULL AND s.user_id = ?",
            id.into(),
        ),
        None => {}
    }
    if let Some(from) = query.received_from {
        arg(&mut sql, " AND s.received_at >= ?", from.into());
    }
    if let Some(before) = query.received_before {
        arg(&mut sql, " AND s.received_at < ?", before.into());
    }
    if let Some(max) = query.max_id {
        arg(&mut sql, " AND s.id <= ?", max.into());
    }
    match &query.answer {
        Some(AnswerFilter::Text { key, value }) => {
            arg(
                &mut sql,
                " AND json_extract(s.filter_json, ?)",
                key.clone().into(),
            );
            arg(&mut sql, " = ?", value.clone().into());
        }
        Some(AnswerFilter::Number { key, op, value }) => {
            arg(
                &mut sql,
                " AND CAST(json_extract(s.filter_json, ?) AS DOUBLE PRECISION)",
                key.clone().into(),
            );
            let op = match op {
                NumberOp::Eq => " = ?",
                NumberOp::Lt => " < ?",
                NumberOp::Gt => " > ?",
            };
            arg(&mut sql, op, (*value).into());
        }
        Some(AnswerFilter::Present { key }) => {
            arg(
                &mut sql,
                " AND json_extract(s.filter_json, ?) IS NOT NULL",
                key.clone().into(),
            );
        }
        None => {}
    }
    if let Some(c) = after {
        let cmp = if query.newest_first { "<" } else { ">" };
        arg(
            &mut sql,
            &format!(" AND (s.received_at, s.id) {cmp} (?"),
            c.received_at.into(),
        );
        arg(&mut sql, ", ?)", c.id.into());
    }
    sql.push_str(if query.newest_first {
        " ORDER BY s.received_at DESC, s.id DESC"
    } else {
        " ORDER BY s.received_at, s.id"
    });
    arg(&mut sql, " LIMIT ?", limit.into());
    let mut built = q_built(sql);
    for a in args {
        built = built.bind(a);
    }
    built
}

fn listed_from(r: &Row) -> Result<ListedSubmission, StoreError> {
    let app: Option<i64> = r.get("app_user_id")?;
    let user: Option<i64> = r.get("user_id")?;
    Ok(ListedSubmission {
        id: r.get("id")?,
        instance_id: r.get("instance_id")?,
        root_instance_id: r.get("root_instance_id")?,
        form_version: r.get("form_version")?,
        received_at: r.get("received_at")?,
        review_state: r.get("review_state")?,
        values_json: r.get("values_json")?,
        submitter: match (app, user) {
            (Some(a), _) => Some(SubmitterRef::AppUser(a)),
            (None, Some(u)) => Some(SubmitterRef::User(u)),
            (None, None) => None,
        },
        submitter_name: r.get("submitter_name")?,
        attachments_expected: r.get("attachments_expected")?,
        attachments_present: r.get("attachments_present")?,
        edits: r.get("edits")?,
    })
}

impl Store {
    /// Up to `limit` current submissions of a form inside `scope` matching `query`, after
    /// `after` in the query's order.
    pub async fn find_submissions(
        &self,
        form_id: i64,
        scope: &RowScope,
        query: &SubmissionQuery,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<ListedSubmission>, StoreError> {
        self.pools
            .fetch_all(Mode::Read, listing_sql(form_id, scope, query, after, limit))
            .await?
            .iter()
            .map(listed_from)
            .collect()
    }

    /// How many current submissions a form has.
    pub async fn count_current_submissions(&self, form_id: i64) -> Result<i64, StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT COUNT(*) AS n FROM submissions WHERE form_id = $1 AND is_current")
                    .bind(form_id),
            )
            .await?;
        r.get("n")
    }

    /// The highest submission id of a form (0 when it has none): the snapshot bound of a
    /// reader that goes over the submissions several times.
    pub async fn last_submission_id(&self, form_id: i64) -> Result<i64, StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT COALESCE(MAX(id), 0) AS m FROM submissions WHERE form_id = $1")
                    .bind(form_id),
            )
            .await?;
        r.get("m")
    }

    /// The project's app users and the accounts that hold a role in it (members, and owners of
    /// its organisation): who may have sent its submissions.
    pub async fn project_submitters(
        &self,
        project: baraza_types::ProjectId,
    ) -> Result<Vec<Submitter>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT 'app' AS kind, id, name FROM app_users WHERE project_id = $1
                   UNION ALL
                   SELECT 'user' AS kind, u.id, u.name FROM users u
                   WHERE u.id IN (SELECT user_id FROM project_members WHERE project_id = $1)
                      OR u.id IN (SELECT om.user_id FROM org_members om JOIN projects p ON p.org_id = om.org_id
                                  WHERE p.id = $1 AND om.role = 'owner')
                   ORDER BY kind, name, id")
                .bind(project.0),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get("id")?;
                let kind: String = r.get("kind")?;
                Ok(Submitter {
                    who: if kind == "app" {
                        SubmitterRef::AppUser(id)
                    } else {
                        SubmitterRef::User(id)
                    },
                    name: r.get("name")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_bound() {
        let query = SubmissionQuery {
            review_state: Some("approved' OR 1=1 --".into()),
            submitter: Some(SubmitterRef::User(3)),
            received_from: Some(1),
            received_before: Some(2),
            answer: Some(AnswerFilter::Number {
                key: "$.\"#/data/x\"".into(),
                op: NumberOp::Lt,
                value: 3.5,
            }),
            newest_first: true,
            max_id: Some(9),
        };
        let scope = RowScope {
            first_sent_by: Some(4),
            answer_in: Some(("$.\"/data/region\"".into(), vec!["lac' --".into()])),
            nothing: false,
        };
        let built = listing_sql(
            7,
            &scope,
            &query,
            Some(Cursor {
                received_at: 5,
                id: 6,
            }),
            50,
        );
        let sql = built.text();
        assert!(
            !sql.contains("approved") && !sql.contains("#/data") && !sql.contains("lac"),
            "{sql}"
        );
        assert!(sql.contains("o.user_id = $2"), "{sql}");
        assert!(sql.contains("IN ($4)"), "{sql}");
        assert!(sql.contains("(s.received_at, s.id) < ($12, $13)"), "{sql}");
        assert!(sql.contains("LIMIT $14"), "{sql}");
        assert!(
            sql.contains("ORDER BY s.received_at DESC, s.id DESC"),
            "{sql}"
        );
    }
}
