//! A form's submissions as people list, filter, sort and export them.
//!
//! The same filters serve the submissions table, its `.json` and `.csv` twins and every export:
//! review state, submitter (an app user or an account), received date from/to (whole days,
//! UTC), one answer outside repeats (equals; for numbers also less or greater than; for a
//! select_multiple, "includes"), newest or oldest first. They arrive as text (query parameters)
//! and are checked here against the form's current version; a bad one is refused naming its
//! parameter. Seeing submissions takes `ViewData`, checked on every read, exports included.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::mask::Mask;
use crate::{Core, CoreError};
use baraza_publish::{FieldKind, Schema};
use baraza_store::{
    AnswerFilter, Cursor, FormRow, FormVersionRow, ListedSubmission, NumberOp, SubmissionQuery,
    Submitter, SubmitterRef,
};
use baraza_types::Permission;
use std::sync::Arc;

/// The review states a submission can be in.
pub const REVIEW_STATES: [&str; 4] = ["received", "approved", "has_issues", "rejected"];

/// Longest answer value a filter accepts, in characters.
const MAX_VALUE_CHARS: usize = 500;

/// Filters and paging as received (query parameters); empty means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FilterParams {
    /// `received`, `approved`, `has_issues` or `rejected`.
    pub review: String,
    /// `app:ID` or `user:ID`.
    pub submitter: String,
    /// `YYYY-MM-DD`, received on or after that day (UTC).
    pub from: String,
    /// `YYYY-MM-DD`, received on or before that day (UTC).
    pub to: String,
    /// A question outside repeats: its path below the root (`household/size`) or its name.
    pub question: String,
    /// `eq` (default), `lt` or `gt` (numbers only).
    pub op: String,
    pub value: String,
    /// `newest` (default) or `oldest`.
    pub sort: String,
    /// The paging cursor: `RECEIVED.ID` of the last row seen.
    pub after: String,
}

impl FilterParams {
    /// The parameters in use, for links (the cursor left out).
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("review", self.review.as_str()),
            ("submitter", &self.submitter),
            ("from", &self.from),
            ("to", &self.to),
            ("question", &self.question),
            ("op", &self.op),
            ("value", &self.value),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
    }
}

/// A paging cursor as text: `RECEIVED.ID`.
pub fn cursor_text(c: Cursor) -> String {
    format!("{}.{}", c.received_at, c.id)
}

/// A form's current version, ready for listing and export.
#[derive(Clone)]
pub struct SubmissionSource {
    pub form: FormRow,
    pub version: FormVersionRow,
    pub model: Arc<baraza_xlsform::Form>,
    pub schema: Arc<Schema>,
    /// What this reader does not see (see [`crate::mask`]).
    pub mask: Mask,
}

/// Filters checked against a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub query: SubmissionQuery,
    pub after: Option<Cursor>,
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

fn day(field: &'static str, s: &str) -> Result<i64, CoreError> {
    baraza_publish::parse_ymd(s)
        .map(|(y, m, d)| baraza_publish::unix_days(y, m, d) * 86_400)
        .ok_or_else(|| invalid(field, "filter.date"))
}

impl SubmissionSource {
    /// Checks filters against this form.
    pub fn filter(&self, p: &FilterParams) -> Result<Filter, CoreError> {
        let mut query = SubmissionQuery::default();
        let review = p.review.trim();
        if !review.is_empty() {
            if !REVIEW_STATES.contains(&review) {
                return Err(invalid("review", "filter.review"));
            }
            query.review_state = Some(review.to_owned());
        }
        let submitter = p.submitter.trim();
        if !submitter.is_empty() {
            let parsed = submitter.split_once(':').and_then(|(kind, id)| {
                let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
                match kind {
                    "app" => Some(SubmitterRef::AppUser(id)),
                    "user" => Some(SubmitterRef::User(id)),
                    _ => None,
                }
            });
            query.submitter = Some(parsed.ok_or_else(|| invalid("submitter", "filter.submitter"))?);
        }
        if !p.from.trim().is_empty() {
            query.received_from = Some(day("from", p.from.trim())?);
        }
        if !p.to.trim().is_empty() {
            let to = day("to", p.to.trim())? + 86_400;
            if query.received_from.is_some_and(|from| from >= to) {
                return Err(invalid("to", "filter.date_order"));
            }
            query.received_before = Some(to);
        }
        query.answer = self.answer_filter(p)?;
        query.newest_first = match p.sort.trim() {
            "" | "newest" => true,
            "oldest" => false,
            _ => return Err(invalid("sort", "filter.sort")),
        };
        let after = match p.after.trim() {
            "" => None,
            a => Some(
                a.split_once('.')
                    .and_then(|(t, id)| {
                        Some(Cursor {
                            received_at: t.parse().ok()?,
                            id: id.parse().ok()?,
                        })
                    })
                    .ok_or_else(|| invalid("after", "filter.after"))?,
            ),
        };
        Ok(Filter { query, after })
    }

    fn answer_filter(&self, p: &FilterParams) -> Result<Option<AnswerFilter>, CoreError> {
        let question = p.question.trim();
        let op = p.op.trim();
        let value = p.value.as_str();
        if question.is_empty() {
            if !value.is_empty() || !op.is_empty() && op != "eq" {
                return Err(invalid("question", "filter.question_missing"));
            }
            return Ok(None);
        }
        let field = self
            .schema
            .root_field(question)
            .ok_or_else(|| invalid("question", "filter.question"))?;
        let field = &self.schema.fields[field];
        if self.mask.covers(&field.path) {
            return Err(invalid("question", "filter.masked"));
        }
        if self.mask.sealed(&field.path) {
            return Err(invalid("question", "filter.sealed"));
        }
        if field.kind.is_geo() {
            return Err(invalid("question", "filter.question_kind"));
        }
        if value.is_empty() {
            return Err(invalid("value", "filter.value_missing"));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid("value", "filter.value_length"));
        }
        let op = match op {
            "" | "eq" => NumberOp::Eq,
            "lt" => NumberOp::Lt,
            "gt" => NumberOp::Gt,
            _ => return Err(invalid("op", "filter.op")),
        };
        if field.kind.is_number() {
            let v: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| invalid("value", "filter.number"))?;
            return Ok(Some(AnswerFilter::Number {
                key: format!("$.\"#{}\"", field.path),
                op,
                value: v,
            }));
        }
        if op != NumberOp::Eq {
            return Err(invalid("op", "filter.op"));
        }
        if field.kind == FieldKind::SelectMultiple {
            let choice = value.trim();
            if choice.is_empty()
                || choice
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\\')
            {
                return Err(invalid("value", "filter.choice"));
            }
            return Ok(Some(AnswerFilter::Present {
                key: format!("$.\"{} {choice}\"", field.path),
            }));
        }
        Ok(Some(AnswerFilter::Text {
            key: format!("$.\"{}\"", field.path),
            value: value.to_owned(),
        }))
    }
}

impl Core {
    /// A form's current version with its export shape, for people who may see its data.
    pub async fn submission_source(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<SubmissionSource, CoreError> {
        access.require(Permission::ViewData)?;
        let (form, version) = self.form(access, xml_form_id).await?;
        let model = crate::forms::read_model(&version.model_json)?;
        let schema = Schema::new(&model, &form.xml_form_id);
        let mask = self.mask_for(access, form.id).await?;
        Ok(SubmissionSource {
            mask,
            form,
            version,
            model: Arc::new(model),
            schema: Arc::new(schema),
        })
    }

    /// A page of submissions and the cursor of the next page, if there is one.
    pub async fn submission_page(
        &self,
        access: &ProjectAccess,
        source: &SubmissionSource,
        filter: &Filter,
        limit: i64,
    ) -> Result<(Vec<ListedSubmission>, Option<Cursor>), CoreError> {
        access.require(Permission::ViewData)?;
        let limit = limit.clamp(1, 1000);
        let mut rows = self
            .store
            .find_submissions(
                source.form.id,
                source.mask.rows(),
                &filter.query,
                filter.after,
                limit + 1,
            )
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        for r in &mut rows {
            source
                .mask
                .apply_in_place(&mut r.values_json, &r.instance_id)?;
        }
        let next = if more {
            rows.last().map(ListedSubmission::cursor)
        } else {
            None
        };
        self.audit(
            Actor::of_access(access),
            "data.list",
            &Target::form(access.project.id, &source.form.xml_form_id),
            serde_json::json!({ "rows": rows.len(), "first_page": filter.after.is_none() }),
        )
        .await?;
        Ok((rows, next))
    }

    /// The query of an export: the filter, bound to the submissions that exist now, so that an
    /// export read in several passes (one per table) reads the same records each time.
    pub async fn export_query(
        &self,
        access: &ProjectAccess,
        source: &SubmissionSource,
        filter: &Filter,
        format: &str,
    ) -> Result<SubmissionQuery, CoreError> {
        access.require(Permission::ViewData)?;
        let mut query = filter.query.clone();
        query.max_id = Some(self.store.last_submission_id(source.form.id).await?);
        self.audit_export(
            access,
            "export.download",
            &Target::form(access.project.id, &source.form.xml_form_id),
            serde_json::json!({ "format": format, "up_to_submission": query.max_id }),
        )
        .await?;
        Ok(query)
    }

    /// One batch of an export.
    pub async fn export_batch(
        &self,
        access: &ProjectAccess,
        source: &SubmissionSource,
        query: &SubmissionQuery,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<ListedSubmission>, CoreError> {
        access.require(Permission::ViewData)?;
        let mut rows = self
            .store
            .find_submissions(
                source.form.id,
                source.mask.rows(),
                query,
                after,
                limit.clamp(1, 10_000),
            )
            .await?;
        for r in &mut rows {
            source
                .mask
                .apply_in_place(&mut r.values_json, &r.instance_id)?;
        }
        Ok(rows)
    }

    /// Who may have sent the project's submissions (app users and accounts with a role), for
    /// the submitter filter. A collector, who reads only their own records, is offered only
    /// themselves; a member limited to a scope, only the project's people (whom the people page
    /// shows them anyway), not its phones.
    pub async fn submitters(&self, access: &ProjectAccess) -> Result<Vec<Submitter>, CoreError> {
        access.require(Permission::ViewData)?;
        let all = self.store.project_submitters(access.project.id).await?;
        Ok(match (&access.rows.own, &access.rows.scope) {
            (Some(me), _) => all
                .into_iter()
                .filter(|s| s.who == SubmitterRef::User(me.0))
                .collect(),
            (None, Some(_)) => all
                .into_iter()
                .filter(|s| matches!(s.who, SubmitterRef::User(_)))
                .collect(),
            (None, None) => all,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SubmissionSource {
        let md = "| survey | | | |\n| | type | name | label |\n| | integer | size | Size |\n| | select_multiple s | src | Sources |\n| | text | village | Village |\n| | geopoint | gps | GPS |\n| | begin repeat | r | R |\n| | text | inner | Inner |\n| | end repeat | | |\n| choices | | | |\n| | list_name | name | label |\n| | s | well | Well |\n| | s | tap | Tap |\n";
        let compiled = baraza_xlsform::compile_file(md.as_bytes(), "f.md");
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        let model = compiled.form.unwrap();
        let schema = Schema::new(&model, "f");
        SubmissionSource {
            mask: Mask::none(),
            form: FormRow {
                id: 1,
                project_id: baraza_types::ProjectId(1),
                xml_form_id: "f".into(),
                title: "F".into(),
                state: baraza_store::FormState::Published,
                current_version_id: Some(1),
                created_at: 0,
                updated_at: 0,
            },
            version: FormVersionRow {
                id: 1,
                form_id: 1,
                version: "1".into(),
                title: "F".into(),
                xform: String::new(),
                xform_md5: String::new(),
                model_json: String::new(),
                warnings_json: String::new(),
                source_name: String::new(),
                source_sha256: String::new(),
                created_by: None,
                created_at: 0,
            },
            model: Arc::new(model),
            schema: Arc::new(schema),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> FilterParams {
        let q = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        serde_json::from_value(serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                .collect(),
        ))
        .unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    #[test]
    fn good_filters_become_a_query() {
        let s = source();
        let f = s
            .filter(&params(&[
                ("review", "approved"),
                ("submitter", "app:3"),
                ("from", "2026-09-21"),
                ("to", "2026-09-21"),
                ("question", "size"),
                ("op", "gt"),
                ("value", "4"),
                ("sort", "oldest"),
                ("after", "1790000000.12"),
            ]))
            .unwrap();
        assert_eq!(f.query.review_state.as_deref(), Some("approved"));
        assert_eq!(f.query.submitter, Some(SubmitterRef::AppUser(3)));
        assert_eq!(f.query.received_from, Some(1_789_948_800));
        assert_eq!(f.query.received_before, Some(1_789_948_800 + 86_400));
        assert_eq!(
            f.query.answer,
            Some(AnswerFilter::Number {
                key: "$.\"#/data/size\"".into(),
                op: NumberOp::Gt,
                value: 4.0
            })
        );
        assert!(!f.query.newest_first);
        assert_eq!(
            f.after,
            Some(Cursor {
                received_at: 1_790_000_000,
                id: 12
            })
        );
        let f = s
            .filter(&params(&[("question", "src"), ("value", "well")]))
            .unwrap();
        assert_eq!(
            f.query.answer,
            Some(AnswerFilter::Present {
                key: "$.\"/data/src well\"".into()
            })
        );
        assert!(f.query.newest_first);
        let f = s
            .filter(&params(&[
                ("question", "village"),
                ("value", "Farcha \"x\""),
            ]))
            .unwrap();
        assert!(matches!(f.query.answer, Some(AnswerFilter::Text { .. })));
    }

    #[test]
    fn bad_filters_name_their_parameter() {
        let s = source();
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("review", "deleted")], "review"),
            (&[("submitter", "app:x")], "submitter"),
            (&[("submitter", "admin:1")], "submitter"),
            (&[("submitter", "user:-1")], "submitter"),
            (&[("from", "2026-02-30")], "from"),
            (&[("to", "yesterday")], "to"),
            (&[("from", "2026-10-02"), ("to", "2026-10-01")], "to"),
            (&[("question", "nope"), ("value", "1")], "question"),
            (&[("question", "inner"), ("value", "1")], "question"),
            (&[("question", "gps"), ("value", "1")], "question"),
            (&[("value", "1")], "question"),
            (&[("question", "size")], "value"),
            (&[("question", "size"), ("value", "many")], "value"),
            (&[("question", "size"), ("value", "NaN")], "value"),
            (
                &[("question", "size"), ("op", "like"), ("value", "1")],
                "op",
            ),
            (
                &[("question", "village"), ("op", "lt"), ("value", "a")],
                "op",
            ),
            (&[("question", "src"), ("value", "a\"b")], "value"),
            (&[("sort", "random")], "sort"),
            (&[("after", "12")], "after"),
            (&[("after", "a.b")], "after"),
        ];
        for (pairs, field) in cases {
            match s.filter(&params(pairs)) {
                Err(CoreError::Invalid { field: f, .. }) => assert_eq!(f, *field, "{pairs:?}"),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
        let long = "x".repeat(501);
        assert!(s
            .filter(&params(&[("question", "village"), ("value", &long)]))
            .is_err());
    }
}
