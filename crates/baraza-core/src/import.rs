//! Bulk import of answers from a spreadsheet (CSV, XLSX, XLS) into a published form.
//!
//! Every row is checked against the form exactly as the web form checks a filling (types,
//! choices, required answers, relevance, constraints), and written as the submission a phone
//! would send. Nothing is stored unless every row passes: the report lists each rejected row with
//! its column and reason. A row without an `instanceID` column gets one made from its content, so
//! importing the same file twice adds nothing the second time.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{self, Actor};
use crate::forms::{Ingested, Submitter};
use crate::{Core, CoreError};
use baraza_fill::import::{
    instance_id_from_digest, read_table, ColumnIssue, Table, TableError, Target,
};
use baraza_fill::{Engine, Meta, Problem, ProblemKind};
use baraza_store::FormState;
use baraza_types::Permission;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// Rejected rows listed in a report at most (the count is always exact).
pub const MAX_REPORTED_ROWS: usize = 1_000;

/// One problem of one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowProblem {
    /// The row's number in the file (as the spreadsheet shows it).
    pub row: usize,
    /// The column concerned (its header), when one is.
    pub column: Option<String>,
    /// `required`, `constraint`, `type`, `not_a_choice`, `bad_rank`, `too_long`,
    /// `duplicate_instance`, `submission_invalid`.
    pub kind: String,
    pub detail: Option<String>,
    /// The form's own message in the chosen language, if it has one.
    pub message: Option<String>,
}

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    pub file: String,
    /// Rows read (header excluded).
    pub rows: usize,
    /// Rows stored as new submissions.
    pub stored: usize,
    /// Rows already stored by an earlier import of the same rows.
    pub already: usize,
    /// Why the file could not be read at all: `import_format`, `import_unreadable`,
    /// `import_empty`, `import_too_many_rows`.
    pub file_problem: Option<(String, String)>,
    /// Columns that answer nothing of the form.
    pub column_problems: Vec<(String, String)>,
    /// Rows with problems (at most [`MAX_REPORTED_ROWS`] of them listed).
    pub rejected: Vec<RowProblem>,
    /// How many rows were rejected.
    pub rejected_rows: usize,
}

impl ImportReport {
    pub fn ok(&self) -> bool {
        self.file_problem.is_none() && self.column_problems.is_empty() && self.rejected_rows == 0
    }
}

fn problem_row(row: usize, column: Option<String>, p: &Problem) -> RowProblem {
    let (kind, detail) = match &p.kind {
        ProblemKind::Required => ("required", None),
        ProblemKind::Constraint => ("constraint", None),
        ProblemKind::Type(t) => ("type", Some((*t).to_owned())),
        ProblemKind::NotAChoice(c) => ("not_a_choice", Some(c.clone())),
        ProblemKind::BadRank => ("bad_rank", None),
        ProblemKind::TooLong(n) => ("too_long", Some(n.to_string())),
    };
    RowProblem {
        row,
        column,
        kind: kind.to_owned(),
        detail,
        message: p.message.clone(),
    }
}

/// A row ready to store.
struct Ready {
    instance_id: String,
    xml: String,
}

/// Checks every row; returns the rows ready to store, or the report of what is wrong.
fn check_rows(
    model: &baraza_xlsform::Form,
    version: &str,
    lang: &str,
    list_files: &HashMap<String, Vec<u8>>,
    table: &Table,
    env: &baraza_fill::Env,
    report: &mut ImportReport,
) -> Vec<Ready> {
    let engine = Engine::new(model, lang, list_files);
    let targets = match engine.map_columns(&table.headers) {
        Ok(t) => t,
        Err(issues) => {
            report.column_problems = issues
                .into_iter()
                .map(|i| match i {
                    ColumnIssue::Unknown { column } => (column, "unknown".to_owned()),
                    ColumnIssue::InRepeat { column } => (column, "in_repeat".to_owned()),
                    ColumnIssue::Twice { column } => (column, "twice".to_owned()),
                })
                .collect();
            return Vec::new();
        }
    };
    // Which column answers each question, to say where a problem is.
    let mut column_of: HashMap<usize, String> = HashMap::new();
    for (t, h) in targets.iter().zip(&table.headers) {
        match t {
            Target::Question(id) | Target::GeoPart(id, _) | Target::Other(id) => {
                column_of.entry(*id).or_insert_with(|| h.clone());
            }
            _ => {}
        }
    }
    let end_id = engine.idx.defs.iter().position(|d| {
        d.question()
            .is_some_and(|q| q.qtype == baraza_xlsform::model::QType::End)
    });
    let mut seen: HashSet<String> = HashSet::new();
    let mut ready = Vec::with_capacity(table.rows.len());
    for (number, cells) in &table.rows {
        let (mut filling, given_id) = engine.row_filling(&targets, cells, &env.now);
        let problems = engine.check_all(&mut filling, env);
        let mut row_problems: Vec<RowProblem> = problems
            .iter()
            .map(|p| problem_row(*number, column_of.get(&p.def).cloned(), p))
            .collect();
        let instance_id = match given_id {
            Some(id) if id.starts_with("uuid:") => id,
            Some(id) => format!("uuid:{id}"),
            None => {
                let mut h = Sha256::new();
                h.update(model.id.as_bytes());
                h.update([0x1f]);
                h.update(version.as_bytes());
                for c in cells {
                    h.update([0x1f]);
                    h.update(c.trim().as_bytes());
                }
                instance_id_from_digest(&hex::encode(h.finalize()))
            }
        };
        if !seen.insert(instance_id.clone()) {
            row_problems.push(RowProblem {
                row: *number,
                column: None,
                kind: "duplicate_instance".into(),
                detail: Some(instance_id.clone()),
                message: None,
            });
        }
        if row_problems.is_empty() {
            let rel = engine.refresh(&mut filling, env);
            let end = end_id
                .map(|id| filling.answers.get(&engine.idx, id, &[]).to_owned())
                .unwrap_or_default();
            let xml = engine.to_xml(
                &filling,
                &rel,
                env,
                &Meta {
                    instance_id: &instance_id,
                    deprecated_id: None,
                    end: Some(&end),
                },
            );
            // The same checks as ingestion, before anything is stored.
            let checked = baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default())
                .map_err(|e| e.to_string())
                .and_then(|sub| {
                    baraza_openrosa::type_values(model, &sub)
                        .map(|_| ())
                        .map_err(|errs| {
                            errs.iter()
                                .map(|e| e.to_string())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                });
            match checked {
                Ok(()) => ready.push(Ready {
                    instance_id: instance_id.clone(),
                    xml,
                }),
                Err(detail) => row_problems.push(RowProblem {
                    row: *number,
                    column: None,
                    kind: "submission_invalid".into(),
                    detail: Some(detail),
                    message: None,
                }),
            }
        }
        if !row_problems.is_empty() {
            report.rejected_rows += 1;
            if report.rejected.len() < MAX_REPORTED_ROWS {
                report.rejected.extend(row_problems);
            }
        }
    }
    ready
}

impl Core {
    /// The columns a spreadsheet for this form may have (questions outside repeats), for a
    /// template.
    pub async fn import_columns(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<Vec<(String, bool)>, CoreError> {
        access.require(Permission::EditData)?;
        let (_, version) = self.form(access, xml_form_id).await?;
        let model = crate::forms::read_model(&version.model_json)?;
        let engine = Engine::new(&model, "default", &HashMap::new());
        let mut out = Vec::new();
        for def in &engine.idx.defs {
            let Some(q) = def.question() else { continue };
            if !def.repeats.is_empty()
                || !q.qtype.has_control()
                || q.qtype == baraza_xlsform::model::QType::Note
            {
                continue;
            }
            let required = q.required.as_deref().is_some_and(|r| r.trim() != "false()");
            out.push((q.name.clone(), required));
            if q.or_other {
                out.push((format!("{}_other", q.name), false));
            }
        }
        Ok(out)
    }

    /// Imports the rows of a spreadsheet into a published form, all or nothing.
    pub async fn import_submissions(
        &self,
        access: &ProjectAccess,
        principal: &Principal,
        xml_form_id: &str,
        file_name: &str,
        bytes: &[u8],
        lang: &str,
    ) -> Result<ImportReport, CoreError> {
        access.require(Permission::EditData)?;
        let user = principal.require_user()?.clone();
        let (form, version) = self.form(access, xml_form_id).await?;
        if form.state != FormState::Published {
            return Err(CoreError::FormNotOpen);
        }
        let mut report = ImportReport {
            file: file_name.to_owned(),
            ..Default::default()
        };
        let table = match read_table(bytes, file_name) {
            Ok(t) => t,
            Err(e) => {
                report.file_problem = Some(match e {
                    TableError::Format => ("import_format".into(), file_name.to_owned()),
                    TableError::Unreadable(d) => ("import_unreadable".into(), d),
                    TableError::Empty => ("import_empty".into(), String::new()),
                    TableError::TooManyRows(n) => ("import_too_many_rows".into(), n.to_string()),
                });
                return Ok(report);
            }
        };
        report.rows = table.rows.len();
        let model = crate::forms::read_model(&version.model_json)?;
        let list_files = self.list_files(form.id, &model).await?;
        let env = self.fill_env(Some(&user));
        let lang = lang.to_owned();
        let number = version.version.clone();
        // Checking is CPU work: off the request threads.
        let report_rows: Vec<(usize, ())> = table.rows.iter().map(|(n, _)| (*n, ())).collect();
        let (report, ready) = tokio::task::spawn_blocking(move || {
            let mut report = report;
            let ready = check_rows(
                &model,
                &number,
                &lang,
                &list_files,
                &table,
                &env,
                &mut report,
            );
            (report, ready)
        })
        .await
        .map_err(|e| CoreError::Store(baraza_store::StoreError::Unavailable(e.to_string())))?;
        let mut report = report;
        if !report.ok() {
            return Ok(report);
        }
        // Rows stored earlier under the same instanceID must be these same rows: otherwise the
        // file conflicts with what is stored, and nothing is written.
        for (r, (number, _)) in ready.iter().zip(&report_rows) {
            if let Some(existing) = self.store.submission(form.id, &r.instance_id).await? {
                let sha = hex::encode(Sha256::digest(r.xml.as_bytes()));
                if existing.xml_sha256 != sha {
                    report.rejected_rows += 1;
                    if report.rejected.len() < MAX_REPORTED_ROWS {
                        report.rejected.push(RowProblem {
                            row: *number,
                            column: None,
                            kind: "instance_conflict".into(),
                            detail: Some(r.instance_id.clone()),
                            message: None,
                        });
                    }
                }
            }
        }
        if !report.ok() {
            return Ok(report);
        }
        // One transaction: every row, or none.
        let xmls: Vec<String> = ready.iter().map(|r| r.xml.clone()).collect();
        match self
            .ingest_all(access.project.id, Submitter::User(user.id), &xmls)
            .await
        {
            Ok(outcomes) => {
                for o in outcomes {
                    match o {
                        Ingested::Created => report.stored += 1,
                        Ingested::Duplicate => report.already += 1,
                    }
                }
                self.audit(
                    Actor::User(user.id),
                    "data.import",
                    &audit::Target::form(access.project.id, xml_form_id),
                    serde_json::json!({ "stored": report.stored, "already": report.already }),
                )
                .await?;
            }
            Err((i, CoreError::SubmissionConflict)) => {
                // Stored by someone else between the check and the write.
                report.rejected_rows += 1;
                report.rejected.push(RowProblem {
                    row: report_rows.get(i).map(|(n, _)| *n).unwrap_or(0),
                    column: None,
                    kind: "instance_conflict".into(),
                    detail: ready.get(i).map(|r| r.instance_id.clone()),
                    message: None,
                });
                return Ok(report);
            }
            Err((_, e)) => return Err(e),
        }
        tracing::info!(
            form = xml_form_id,
            stored = report.stored,
            already = report.already,
            "import"
        );
        Ok(report)
    }
}
