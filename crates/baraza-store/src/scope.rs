//! Row-level scopes in SQL: the one fragment that limits every read of a form's records to
//! those a reader may see (see `baraza_core::scope`). Every query that reads records for a
//! reader appends it: the listing (table and exports), ODK Central's feed and its count, Central's
//! submission list, and the check of a single record.

use crate::db::{q_built, Arg, Mode};
use crate::{Store, StoreError};

/// Which of a form's records a reader may see. The default sees all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowScope {
    /// Only records whose first version this account sent.
    pub first_sent_by: Option<i64>,
    /// Only records whose current answer at this `filter_json` key (`$."/data/region"`) is one
    /// of these values.
    pub answer_in: Option<(String, Vec<String>)>,
    /// No record at all (e.g. the reader's scope names a question this form does not have).
    pub nothing: bool,
}

impl RowScope {
    /// Whether this scope sees every record.
    pub fn is_all(&self) -> bool {
        *self == RowScope::default()
    }
}

/// Appends the scope's conditions on the submission row aliased `s` (each starting with
/// ` AND `), binding its values after those already in `args`.
pub(crate) fn push_scope(scope: &RowScope, sql: &mut String, args: &mut Vec<Arg>) {
    if scope.nothing {
        sql.push_str(" AND 1 = 0");
        return;
    }
    if let Some(user) = scope.first_sent_by {
        args.push(Arg::I64(user));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM submissions o WHERE o.form_id = s.form_id \
             AND o.instance_id = s.root_instance_id AND o.user_id = ${})",
            args.len()
        ));
    }
    if let Some((key, values)) = &scope.answer_in {
        if values.is_empty() {
            sql.push_str(" AND 1 = 0");
            return;
        }
        args.push(Arg::Text(key.clone()));
        sql.push_str(&format!(
            " AND json_extract(s.filter_json, ${}) IN (",
            args.len()
        ));
        for (i, v) in values.iter().enumerate() {
            args.push(Arg::Text(v.clone()));
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", args.len()));
        }
        sql.push(')');
    }
}

impl Store {
    /// Whether the record whose first version has this instanceID is current in the form and
    /// inside `scope`.
    pub async fn record_in_scope(
        &self,
        form_id: i64,
        root_instance_id: &str,
        scope: &RowScope,
    ) -> Result<bool, StoreError> {
        if scope.is_all() {
            return Ok(true);
        }
        let mut sql = String::from(
            "SELECT 1 AS one FROM submissions s WHERE s.form_id = $1 AND s.root_instance_id = $2 AND s.is_current",
        );
        let mut args = vec![Arg::I64(form_id), Arg::Text(root_instance_id.to_owned())];
        push_scope(scope, &mut sql, &mut args);
        let mut query = q_built(sql);
        for a in args {
            query = query.bind(a);
        }
        Ok(self
            .pools
            .fetch_optional(Mode::Read, query)
            .await?
            .is_some())
    }
}
