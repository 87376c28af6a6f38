//! Releases of a form's microdata: disclosure control before records about people leave.
//!
//! A release is a `baraza_sdc::Recipe` (key variables, columns dropped, steps: recodings, local
//! suppression, PRAM) applied to a *snapshot* of a form's records: those received up to one
//! submission when the release was started. Records erased since are not read, so an erasure
//! reaches drafts too. Every change of the recipe is checked by running it, and every view
//! re-scores it: the risk before, after each step and at the end, and the project's policy's
//! verdict.
//!
//! The project's policy: k-anonymity on the keys (k = 3 unless changed), the global risk under a
//! limit (3 %, HDX's threshold), and every `personal` or `sensitive` field of the form withheld
//! unless the policy allows it by name. Locations, files, device metadata and repeats never enter
//! a release (they are listed as excluded).
//!
//! **Invariant:** the only way to store a released table is [`Core::release_now`], which writes
//! what `baraza_sdc::release` returned — a `baraza_sdc::Released`, which exists only when the
//! policy passed. The report is signed with the server's key (`AuditKey::sign_document`, kind
//! [`REPORT_KIND`]) over its exact bytes, which are kept and served as they were signed.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_publish::{parse_values, FieldKind, Schema};
use baraza_sdc::{Microdata, Policy, Recipe, Refused, Released, Step};
use baraza_store::{ReleasePolicyRow, ReleaseRow, ReleasedFields, SubmissionQuery};
use baraza_types::Permission;
use baraza_xlsform::model::Sensitivity;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The kind named in a release report's signature (see `AuditKey::sign_document`).
pub const REPORT_KIND: &str = "baraza-release-report";
/// The default policy: k-anonymity with k = 3.
pub const DEFAULT_K: u32 = 3;
/// The default policy: global risk under 3 % (HDX publishes microdata only below it).
pub const DEFAULT_MAX_GLOBAL_RISK: f64 = 3.0;
/// Steps a recipe may hold.
pub const MAX_STEPS: usize = 50;
const MAX_NAME: usize = 200;

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

/// A project's release policy, as the pages show and edit it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleasePolicy {
    pub k: u32,
    pub max_global_risk_percent: f64,
    /// Withheld variables (personal or sensitive) that may leave all the same, by column name.
    pub allowed: Vec<String>,
    /// Whether these are the defaults (no policy was set).
    pub is_default: bool,
    pub updated_at: Option<i64>,
}

impl ReleasePolicy {
    fn defaults() -> Self {
        ReleasePolicy {
            k: DEFAULT_K,
            max_global_risk_percent: DEFAULT_MAX_GLOBAL_RISK,
            allowed: Vec::new(),
            is_default: true,
            updated_at: None,
        }
    }
}

/// The policy form: k, the risk limit in percent, the allowed variables (comma-separated).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyInput {
    #[serde(default)]
    pub k: String,
    #[serde(default)]
    pub max_global_risk_percent: String,
    #[serde(default)]
    pub allowed: String,
}

/// A column of a form's microdata, with what the policy says of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    /// The column name (as in the CSV export: the path below the root, joined with `-`).
    pub name: String,
    /// The question's label in the form's first language.
    pub label: String,
    /// `text`, `integer`, `decimal`, `date`, `select_one`, `select_multiple`…
    pub kind: &'static str,
    pub sensitivity: Sensitivity,
    /// Marked `quasi_identifier` in the XLSForm.
    pub quasi_identifier: bool,
    /// Personal or sensitive, and not allowed by the project's policy: it must be dropped.
    pub withheld: bool,
    /// The HXL hashtag the XLSForm's `hxl` column gives the question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hxl: Option<String>,
}

/// A release as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseSummary {
    pub id: i64,
    pub name: String,
    pub form: String,
    /// `draft` or `released`.
    pub state: String,
    pub up_to_submission: i64,
    pub created_at: i64,
    pub released_at: Option<i64>,
}

impl ReleaseSummary {
    fn of(r: &ReleaseRow, form: &str) -> Self {
        ReleaseSummary {
            id: r.id,
            name: r.name.clone(),
            form: form.to_owned(),
            state: r.state.clone(),
            up_to_submission: r.up_to_submission,
            created_at: r.created_at,
            released_at: r.released_at,
        }
    }
}

/// The figures of a report the pages render (a subset of `baraza_sdc::ReleaseReport`, read
/// back from its JSON, so that a stored report and a fresh one render alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub records: usize,
    pub keys: Vec<String>,
    #[serde(default)]
    pub weight: Option<String>,
    pub columns: Vec<String>,
    pub dropped: Vec<String>,
    pub risk_before: RiskView,
    pub steps: Vec<StepView>,
    pub risk_after: RiskView,
    pub loss: LossView,
    pub policy: Policy,
    pub verdict: baraza_sdc::Verdict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskView {
    pub records: usize,
    pub k_anonymity: Vec<KView>,
    pub expected_reidentifications: f64,
    pub global_risk_percent: f64,
}

impl RiskView {
    /// Records below `k`, when counted.
    pub fn below(&self, k: u32) -> Option<usize> {
        self.k_anonymity
            .iter()
            .find(|x| x.k == k)
            .map(|x| x.records)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KView {
    pub k: u32,
    pub records: usize,
    pub combinations: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub step: usize,
    pub method: String,
    pub parameters: Step,
    #[serde(default)]
    pub seed: Option<u64>,
    pub loss: LossView,
    pub risk_after: RiskView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossView {
    pub records: usize,
    pub records_changed: usize,
    pub suppressed: usize,
    pub changed: usize,
    pub variables: Vec<VariableLossView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableLossView {
    pub variable: String,
    pub categories_before: usize,
    pub categories_after: usize,
    pub categories_merged: usize,
    pub suppressed: usize,
    pub changed: usize,
}

/// Why a release cannot be made, as a code and its values, so that pages say it in the reader's
/// language (`message` is the English of `baraza-sdc`, for logs and scripts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// `not_numeric`, `not_a_date`, `not_in_hierarchy`, `unknown_variable`, `bad_breaks`,
    /// `too_few_records`, `parent_ambiguous`, `policy`, or `other` (only `message` then).
    pub code: &'static str,
    /// The step (from 1) and its method, when a step failed.
    pub step: Option<usize>,
    pub method: Option<String>,
    /// The code's values: `variable`, `row`, `value`, `k`, `records`, `checks`…
    pub args: BTreeMap<&'static str, String>,
    pub message: String,
}

impl Problem {
    fn new(code: &'static str, message: String) -> Self {
        Problem {
            code,
            step: None,
            method: None,
            args: BTreeMap::new(),
            message,
        }
    }

    fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.insert(name, value.to_string());
        self
    }

    /// What `baraza-sdc` said, as a code and values.
    pub fn of(e: &baraza_sdc::SdcError) -> Self {
        use baraza_sdc::SdcError as E;
        let message = e.to_string();
        match e {
            E::Step {
                step,
                method,
                source,
            } => {
                let mut p = Problem::of(source);
                p.step = Some(*step);
                p.method = Some(method.clone());
                p.message = message;
                p
            }
            E::NotNumeric {
                variable,
                row,
                value,
            }
            | E::NotADate {
                variable,
                row,
                value,
            }
            | E::NotInHierarchy {
                variable,
                row,
                value,
                ..
            } => {
                let code = match e {
                    E::NotNumeric { .. } => "not_numeric",
                    E::NotADate { .. } => "not_a_date",
                    _ => "not_in_hierarchy",
                };
                Problem::new(code, message)
                    .with("variable", variable)
                    .with("row", row)
                    .with("value", value)
            }
            E::UnknownVariable { variable } | E::UnknownColumn { variable, .. } => {
                Problem::new("unknown_variable", message).with("variable", variable)
            }
            E::BadBreaks { variable, .. } | E::BadBound { variable, .. } => {
                Problem::new("bad_breaks", message).with("variable", variable)
            }
            E::TooFewRecords { k, records } => Problem::new("too_few_records", message)
                .with("k", k)
                .with("records", records),
            _ => Problem::new("other", message),
        }
    }
}

impl From<Problem> for CoreError {
    fn from(p: Problem) -> Self {
        CoreError::ReleaseRefused {
            problem: Box::new(p),
        }
    }
}

/// What running the recipe gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The policy passes: the release may be made.
    Passed { report: Box<ReportView> },
    /// The policy refuses: the report says which checks failed.
    Refused { report: Box<ReportView> },
    /// The recipe cannot run on this data.
    Invalid { problem: Problem },
}

impl Outcome {
    pub fn report(&self) -> Option<&ReportView> {
        match self {
            Outcome::Passed { report } | Outcome::Refused { report } => Some(report),
            Outcome::Invalid { .. } => None,
        }
    }
}

/// A release with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseView {
    #[serde(flatten)]
    pub summary: ReleaseSummary,
    pub form_title: String,
    pub recipe: Recipe,
    pub variables: Vec<Variable>,
    /// Fields that never enter a release: locations, files, device metadata, repeats.
    pub excluded: Vec<String>,
    pub policy: ReleasePolicy,
    pub outcome: Outcome,
    /// Once released: the report's signature (hex) and the key that checks it (hex).
    pub signature: Option<String>,
    pub public_key: String,
    pub data_sha256: Option<String>,
}

/// A release's report as it was signed.
#[derive(Debug, Clone)]
pub struct SignedReport {
    /// The JSON, byte for byte as signed.
    pub text: String,
    /// The Ed25519 signature (hex) of [`REPORT_KIND`] and the text.
    pub signature: String,
    pub sha256: String,
}

/// The release form: a name and the key variables (names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewRelease {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub weight: String,
}

/// A step as the release page's forms send it: the method and its fields as text.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StepInput {
    /// `merge`, `parent`, `intervals`, `top`, `bottom`, `date`, `suppress`, `pram`.
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub variable: String,
    /// `merge`: one `old = new` per line (several old values: `a, b = new`).
    #[serde(default)]
    pub map: String,
    /// `intervals`: break points separated by commas.
    #[serde(default)]
    pub breaks: String,
    /// `top`, `bottom`: the bound.
    #[serde(default)]
    pub at: String,
    /// `date`: `month` or `year`.
    #[serde(default)]
    pub precision: String,
    /// `parent`: the column whose value replaces the variable's (a district for a
    /// neighbourhood).
    #[serde(default)]
    pub parent: String,
    /// `suppress`: k.
    #[serde(default)]
    pub k: String,
    /// `suppress`: keys from the most important, comma-separated.
    #[serde(default)]
    pub importance: String,
    /// `pram`: keys, comma-separated.
    #[serde(default)]
    pub variables: String,
    /// `pram`: the probability of keeping a value.
    #[serde(default)]
    pub keep: String,
    /// `pram`: the seed (a new random one when empty).
    #[serde(default)]
    pub seed: String,
}

fn list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number(field: &'static str, s: &str) -> Result<f64, CoreError> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| invalid(field, "release.number"))
}

impl StepInput {
    /// The step, checked for its shape (the data checks it when the recipe runs).
    pub fn step(&self, random_seed: u64) -> Result<Step, CoreError> {
        use baraza_sdc::recipe::{PramStep, RecodeMethod, RecodeStep, SuppressStep};
        use baraza_sdc::recode::DatePrecision;
        let variable = self.variable.trim().to_owned();
        let recode = |method| RecodeStep {
            variable: variable.clone(),
            method,
            map: None,
            breaks: None,
            at: None,
            levels: None,
            level: None,
            precision: None,
        };
        let needs_variable = || {
            if variable.is_empty() {
                Err(invalid("variable", "release.variable_missing"))
            } else {
                Ok(())
            }
        };
        Ok(match self.method.trim() {
            "merge" => {
                needs_variable()?;
                let mut map = BTreeMap::new();
                for line in self.map.lines().filter(|l| !l.trim().is_empty()) {
                    let (old, new) = line
                        .split_once('=')
                        .ok_or_else(|| invalid("map", "release.map_line"))?;
                    let new = new.trim();
                    if new.is_empty() {
                        return Err(invalid("map", "release.map_line"));
                    }
                    for o in list(old) {
                        map.insert(o, new.to_owned());
                    }
                }
                if map.is_empty() {
                    return Err(invalid("map", "release.map_line"));
                }
                Step::Recode(RecodeStep {
                    map: Some(map),
                    ..recode(RecodeMethod::Merge)
                })
            }
            "intervals" => {
                needs_variable()?;
                let breaks = list(&self.breaks.replace(';', ","))
                    .iter()
                    .map(|b| number("breaks", b))
                    .collect::<Result<Vec<_>, _>>()?;
                if breaks.is_empty() {
                    return Err(invalid("breaks", "release.number"));
                }
                Step::Recode(RecodeStep {
                    breaks: Some(breaks),
                    ..recode(RecodeMethod::Intervals)
                })
            }
            m @ ("top" | "bottom") => {
                needs_variable()?;
                Step::Recode(RecodeStep {
                    at: Some(number("at", &self.at)?),
                    ..recode(if m == "top" {
                        RecodeMethod::Top
                    } else {
                        RecodeMethod::Bottom
                    })
                })
            }
            "date" => {
                needs_variable()?;
                let precision = match self.precision.trim() {
                    "month" => DatePrecision::Month,
                    "year" => DatePrecision::Year,
                    _ => return Err(invalid("precision", "release.precision")),
                };
                Step::Recode(RecodeStep {
                    precision: Some(precision),
                    ..recode(RecodeMethod::Date)
                })
            }
            "suppress" => {
                let k: u32 = self
                    .k
                    .trim()
                    .parse()
                    .ok()
                    .filter(|k| (1..=1000).contains(k))
                    .ok_or_else(|| invalid("k", "release.k"))?;
                let importance = list(&self.importance);
                Step::Suppress(SuppressStep {
                    k,
                    importance: (!importance.is_empty()).then_some(importance),
                })
            }
            "pram" => {
                let variables = list(&self.variables);
                if variables.is_empty() {
                    return Err(invalid("variables", "release.variable_missing"));
                }
                let keep = number("keep", &self.keep)?;
                if !(0.0..=1.0).contains(&keep) {
                    return Err(invalid("keep", "release.keep"));
                }
                let seed = match self.seed.trim() {
                    "" => random_seed,
                    s => s.parse().map_err(|_| invalid("seed", "release.seed"))?,
                };
                Step::Pram(PramStep {
                    variables,
                    keep,
                    seed,
                })
            }
            _ => return Err(invalid("method", "release.method")),
        })
    }
}

/// A form's microdata as a release reads it: its columns and which fields are left out.
struct Columns {
    /// (schema field, variable).
    kept: Vec<(usize, Variable)>,
    excluded: Vec<String>,
}

fn kind_name(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "text",
        FieldKind::Int => "integer",
        FieldKind::Decimal => "decimal",
        FieldKind::Date => "date",
        FieldKind::Time => "time",
        FieldKind::DateTime => "datetime",
        FieldKind::Geopoint => "geopoint",
        FieldKind::Geotrace => "geotrace",
        FieldKind::Geoshape => "geoshape",
        FieldKind::SelectOne => "select_one",
        FieldKind::SelectMultiple => "select_multiple",
        FieldKind::File => "file",
    }
}

fn columns(model: &baraza_xlsform::Form, schema: &Schema, policy: &ReleasePolicy) -> Columns {
    let mut by_path: HashMap<String, (&baraza_xlsform::model::Question, bool)> = HashMap::new();
    for (path, q) in model.question_paths() {
        if q.or_other {
            by_path.insert(format!("{path}_other"), (q, false));
        }
        by_path.insert(path, (q, true));
    }
    let mut kept = Vec::new();
    let mut excluded = Vec::new();
    for (i, f) in schema.fields.iter().enumerate() {
        let question = by_path.get(&f.path);
        // Notes hold no answer: they are neither kept nor listed.
        if question.is_some_and(|(q, own)| *own && q.qtype == baraza_xlsform::model::QType::Note) {
            continue;
        }
        let leaves_out = f.table != 0
            || f.metadata
            || f.width != 1
            || f.kind.is_geo()
            || f.kind == FieldKind::File;
        if leaves_out {
            excluded.push(f.header.clone());
            continue;
        }
        let (sensitivity, qi) = question
            .map(|(q, own)| (q.sensitivity, *own && q.quasi_identifier))
            .unwrap_or((Sensitivity::Internal, false));
        // The `_other` column of a select is not what the hashtag describes.
        let hxl = question.and_then(|(q, own)| q.hxl.clone().filter(|_| *own));
        let withheld = sensitivity.is_protected() && !policy.allowed.contains(&f.header);
        kept.push((
            i,
            Variable {
                name: f.header.clone(),
                label: f.labels.first().map(|(_, l)| l.clone()).unwrap_or_default(),
                kind: kind_name(f.kind),
                sensitivity,
                quasi_identifier: qi,
                withheld,
                hxl,
            },
        ));
    }
    Columns { kept, excluded }
}

fn sdc_policy(p: &ReleasePolicy, variables: &[Variable]) -> Policy {
    Policy {
        k: p.k,
        max_global_risk_percent: p.max_global_risk_percent,
        withheld: variables
            .iter()
            .filter(|v| v.sensitivity.is_protected())
            .map(|v| v.name.clone())
            .collect(),
        allowed: p.allowed.clone(),
        required_keys: Vec::new(),
    }
}

fn view_of(report: &baraza_sdc::ReleaseReport) -> Result<(String, ReportView), CoreError> {
    let text = serde_json::to_string(report)
        .map_err(|e| CoreError::Internal(format!("release report: {e}")))?;
    let view = serde_json::from_str(&text)
        .map_err(|e| CoreError::Internal(format!("release report view: {e}")))?;
    Ok((text, view))
}

fn run(data: &Microdata, recipe: &Recipe, policy: &Policy) -> (Outcome, Option<Released>) {
    match baraza_sdc::release(data, recipe, policy) {
        Ok(released) => match view_of(released.report()) {
            Ok((_, view)) => (
                Outcome::Passed {
                    report: Box::new(view),
                },
                Some(released),
            ),
            Err(e) => (
                Outcome::Invalid {
                    problem: Problem::new("other", e.to_string()),
                },
                None,
            ),
        },
        Err(Refused::Policy(report)) => match view_of(&report) {
            Ok((_, view)) => (
                Outcome::Refused {
                    report: Box::new(view),
                },
                None,
            ),
            Err(e) => (
                Outcome::Invalid {
                    problem: Problem::new("other", e.to_string()),
                },
                None,
            ),
        },
        Err(Refused::Invalid(e)) => (
            Outcome::Invalid {
                problem: Problem::of(&e),
            },
            None,
        ),
    }
}

/// The released table as CSV (RFC 4180, a header row; a suppressed value is an empty cell).
fn released_csv(r: &Released) -> String {
    let mut out = baraza_publish::csv::line(r.columns());
    for i in 0..r.rows() {
        let row: Vec<&str> = r.row(i).into_iter().map(|v| v.unwrap_or("")).collect();
        out.push_str(&baraza_publish::csv::line(&row));
    }
    out
}

impl Core {
    /// The project's release policy (the defaults when none was set).
    pub async fn release_policy(&self, access: &ProjectAccess) -> Result<ReleasePolicy, CoreError> {
        access.require(Permission::ReleaseData)?;
        self.policy_of(access).await
    }

    async fn policy_of(&self, access: &ProjectAccess) -> Result<ReleasePolicy, CoreError> {
        Ok(
            match self.store.release_policy(access.project.id.0).await? {
                None => ReleasePolicy::defaults(),
                Some(row) => ReleasePolicy {
                    k: u32::try_from(row.k).unwrap_or(DEFAULT_K),
                    max_global_risk_percent: row.max_global_risk,
                    allowed: serde_json::from_str(&row.allowed).unwrap_or_default(),
                    is_default: false,
                    updated_at: Some(row.updated_at),
                },
            },
        )
    }

    /// Sets the project's release policy.
    pub async fn set_release_policy(
        &self,
        access: &ProjectAccess,
        input: &PolicyInput,
    ) -> Result<ReleasePolicy, CoreError> {
        access.require(Permission::ReleaseData)?;
        let k: u32 = input
            .k
            .trim()
            .parse()
            .ok()
            .filter(|k| (2..=100).contains(k))
            .ok_or_else(|| invalid("k", "release.policy_k"))?;
        let risk = number("max_global_risk_percent", &input.max_global_risk_percent)?;
        if !(0.0..=100.0).contains(&risk) || risk == 0.0 {
            return Err(invalid("max_global_risk_percent", "release.policy_risk"));
        }
        let allowed = list(&input.allowed);
        if allowed.len() > 500 || allowed.iter().any(|a| a.chars().count() > 200) {
            return Err(invalid("allowed", "release.policy_allowed"));
        }
        let before = self.policy_of(access).await?;
        let now = self.now();
        self.store
            .set_release_policy(
                access.project.id.0,
                &ReleasePolicyRow {
                    k: i64::from(k),
                    max_global_risk: risk,
                    allowed: serde_json::to_string(&allowed).unwrap_or_else(|_| "[]".into()),
                    updated_by: access.user.map(|u| u.0),
                    updated_at: now,
                },
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "release.policy",
            &Target::project(access.project.id),
            json!({
                "before": { "k": before.k, "max_global_risk_percent": before.max_global_risk_percent, "allowed": before.allowed },
                "after": { "k": k, "max_global_risk_percent": risk, "allowed": allowed },
            }),
        )
        .await?;
        self.policy_of(access).await
    }

    /// The variables a release of this form may use, and the fields left out.
    pub async fn release_variables(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<(Vec<Variable>, Vec<String>), CoreError> {
        access.require(Permission::ReleaseData)?;
        let source = self.submission_source(access, xml_form_id).await?;
        let policy = self.policy_of(access).await?;
        let cols = columns(&source.model, &source.schema, &policy);
        Ok((
            cols.kept.into_iter().map(|(_, v)| v).collect(),
            cols.excluded,
        ))
    }

    /// The HXL hashtags of a form's released columns (column name → hashtag), from the `hxl`
    /// column of its current XLSForm, for the catalogue's datasets made from its releases.
    pub(crate) async fn release_hxl(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<HashMap<String, String>, CoreError> {
        let (_, version) = self.form_in(access.project.id, xml_form_id).await?;
        let model = crate::forms::read_model(&version.model_json)?;
        let schema = Schema::new(&model, xml_form_id);
        let policy = self.policy_of(access).await?;
        Ok(columns(&model, &schema, &policy)
            .kept
            .into_iter()
            .filter_map(|(_, v)| v.hxl.map(|t| (v.name, t)))
            .collect())
    }

    /// The releases of a form, newest first.
    pub async fn releases(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
    ) -> Result<Vec<ReleaseSummary>, CoreError> {
        access.require(Permission::ReleaseData)?;
        let (form, _) = self.form(access, xml_form_id).await?;
        Ok(self
            .store
            .releases(access.project.id.0, form.id)
            .await?
            .iter()
            .map(|r| ReleaseSummary::of(r, xml_form_id))
            .collect())
    }

    /// Starts a release of a form's records received until now, with its key variables; the
    /// first recipe drops every withheld variable. Returns its id.
    pub async fn create_release(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        input: &NewRelease,
    ) -> Result<i64, CoreError> {
        access.require(Permission::ReleaseData)?;
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(invalid("name", "release.name"));
        }
        let source = self.submission_source(access, xml_form_id).await?;
        let policy = self.policy_of(access).await?;
        let cols = columns(&source.model, &source.schema, &policy);
        let known = |n: &str| cols.kept.iter().any(|(_, v)| v.name == n);
        let mut keys: Vec<String> = Vec::new();
        for k in input
            .keys
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
        {
            if !known(k) {
                return Err(invalid("keys", "release.unknown_variable"));
            }
            if !keys.iter().any(|x| x == k) {
                keys.push(k.to_owned());
            }
        }
        if keys.is_empty() {
            return Err(invalid("keys", "release.no_keys"));
        }
        let weight = match input.weight.trim() {
            "" => None,
            w if known(w) && !keys.iter().any(|k| k == w) => Some(w.to_owned()),
            _ => return Err(invalid("weight", "release.unknown_variable")),
        };
        let recipe = Recipe {
            keys,
            weight,
            drop: cols
                .kept
                .iter()
                .filter(|(_, v)| v.withheld)
                .map(|(_, v)| v.name.clone())
                .collect(),
            steps: Vec::new(),
        };
        let up_to = self.store.last_submission_id(source.form.id).await?;
        let text = serde_json::to_string(&recipe)
            .map_err(|e| CoreError::Internal(format!("recipe: {e}")))?;
        let id = self
            .store
            .insert_release(
                access.project.id.0,
                source.form.id,
                name,
                &text,
                up_to,
                access.user.map(|u| u.0).unwrap_or(0),
                self.now(),
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "release.create",
            &Target::form(access.project.id, xml_form_id),
            json!({ "release": id, "keys": recipe.keys, "up_to_submission": up_to }),
        )
        .await?;
        Ok(id)
    }

    async fn release_row(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<(ReleaseRow, crate::listing::SubmissionSource), CoreError> {
        let source = self.submission_source(access, xml_form_id).await?;
        let row = self
            .store
            .release(access.project.id.0, id)
            .await?
            .filter(|r| r.form_id == source.form.id)
            .ok_or(CoreError::NotFound { what: "release" })?;
        Ok((row, source))
    }

    /// The snapshot's records as microdata: the kept columns, every value as text.
    /// The snapshot's records, one value per kept column (text; `None` when unanswered).
    async fn snapshot_rows(
        &self,
        access: &ProjectAccess,
        source: &crate::listing::SubmissionSource,
        cols: &Columns,
        up_to: i64,
    ) -> Result<Vec<Vec<Option<String>>>, CoreError> {
        let slot: HashMap<usize, usize> = cols
            .kept
            .iter()
            .enumerate()
            .map(|(c, (f, _))| (*f, c))
            .collect();
        let query = SubmissionQuery {
            max_id: Some(up_to),
            newest_first: false,
            ..SubmissionQuery::default()
        };
        let mut after = None;
        let mut rows = Vec::new();
        loop {
            let batch = self
                .export_batch(access, source, &query, after, 2000)
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.cursor());
            for r in &batch {
                let values = parse_values(&r.values_json)
                    .map_err(|e| CoreError::Internal(format!("stored values: {e}")))?;
                let mut row: Vec<Option<String>> = vec![None; cols.kept.len()];
                for v in values.iter().filter(|v| v.repeat.is_none()) {
                    if let Some(c) = source.schema.field_at(&v.path).and_then(|f| slot.get(&f)) {
                        let text = baraza_publish::table::value_text(&v.value);
                        if !text.is_empty() {
                            row[*c] = Some(text);
                        }
                    }
                }
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// The snapshot as microdata (record `n` is the `n`-th received, oldest first).
    async fn microdata(
        &self,
        access: &ProjectAccess,
        source: &crate::listing::SubmissionSource,
        cols: &Columns,
        up_to: i64,
    ) -> Result<Microdata, CoreError> {
        let names: Vec<String> = cols.kept.iter().map(|(_, v)| v.name.clone()).collect();
        let mut data =
            Microdata::new(names).map_err(|e| CoreError::Internal(format!("microdata: {e}")))?;
        for (n, row) in self
            .snapshot_rows(access, source, cols, up_to)
            .await?
            .into_iter()
            .enumerate()
        {
            data.push(n + 1, row)
                .map_err(|e| CoreError::Internal(format!("microdata: {e}")))?;
        }
        Ok(data)
    }

    /// The step that replaces a place by the larger one another column gives (a neighbourhood
    /// by its district): a hierarchy recoding whose map is read from the snapshot, each value
    /// of `variable` mapped to the one value of `parent` its records have.
    async fn parent_step(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
        variable: &str,
        parent: &str,
    ) -> Result<Step, CoreError> {
        use baraza_sdc::recipe::{RecodeMethod, RecodeStep};
        let (row, source) = self.release_row(access, xml_form_id, id).await?;
        let recipe: Recipe = serde_json::from_str(&row.recipe)
            .map_err(|e| CoreError::Internal(format!("stored recipe: {e}")))?;
        if !recipe.keys.iter().any(|k| k == variable) {
            return Err(invalid("variable", "release.variable_missing"));
        }
        let policy = self.policy_of(access).await?;
        let cols = columns(&source.model, &source.schema, &policy);
        let at = |name: &str| cols.kept.iter().position(|(_, v)| v.name == name);
        let child = at(variable).ok_or_else(|| invalid("variable", "release.unknown_variable"))?;
        let up = at(parent)
            .filter(|&p| p != child)
            .ok_or_else(|| invalid("parent", "release.unknown_variable"))?;
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for r in self
            .snapshot_rows(access, &source, &cols, row.up_to_submission)
            .await?
        {
            let (Some(c), Some(p)) = (&r[child], &r[up]) else {
                continue;
            };
            match map.get(c) {
                Some(known) if known != p => {
                    return Err(Problem::new(
                        "parent_ambiguous",
                        format!(
                            "{variable} = {c:?} is found with {parent} = {known:?} and {parent} = {p:?}: \
                             its records are not in one larger place; merge or correct them first"
                        ),
                    )
                    .with("variable", variable)
                    .with("value", c)
                    .with("parent", parent)
                    .with("first", known)
                    .with("second", p)
                    .into())
                }
                Some(_) => {}
                None => {
                    map.insert(c.clone(), p.clone());
                }
            }
        }
        if map.is_empty() {
            return Err(invalid("parent", "release.parent_empty"));
        }
        Ok(Step::Recode(RecodeStep {
            variable: variable.to_owned(),
            method: RecodeMethod::Hierarchy,
            map: None,
            breaks: None,
            at: None,
            levels: Some(vec![map]),
            level: Some(1),
            precision: None,
        }))
    }

    /// A release with its variables, and its recipe run on its snapshot (re-scored now); a
    /// released one shows its stored, signed report.
    pub async fn release_view(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<ReleaseView, CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, source) = self.release_row(access, xml_form_id, id).await?;
        let (view, _) = self.evaluate_release(access, &row, &source).await?;
        Ok(view)
    }

    async fn evaluate_release(
        &self,
        access: &ProjectAccess,
        row: &ReleaseRow,
        source: &crate::listing::SubmissionSource,
    ) -> Result<(ReleaseView, Option<Released>), CoreError> {
        let policy = self.policy_of(access).await?;
        let cols = columns(&source.model, &source.schema, &policy);
        let recipe: Recipe = serde_json::from_str(&row.recipe)
            .map_err(|e| CoreError::Internal(format!("stored recipe: {e}")))?;
        let variables: Vec<Variable> = cols.kept.iter().map(|(_, v)| v.clone()).collect();
        let (outcome, released) = if row.state == "released" {
            let report: ReportView = row
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .ok_or_else(|| CoreError::Internal("stored release report".into()))?;
            (
                Outcome::Passed {
                    report: Box::new(report),
                },
                None,
            )
        } else {
            let data = self
                .microdata(access, source, &cols, row.up_to_submission)
                .await?;
            let sdc = sdc_policy(&policy, &variables);
            let recipe = recipe.clone();
            tokio::task::spawn_blocking(move || run(&data, &recipe, &sdc))
                .await
                .map_err(|e| CoreError::Internal(format!("release: {e}")))?
        };
        let view = ReleaseView {
            summary: ReleaseSummary::of(row, &source.form.xml_form_id),
            form_title: source.form.title.clone(),
            recipe,
            variables,
            excluded: cols.excluded,
            policy,
            outcome,
            signature: row.signature.clone(),
            public_key: self.audit_key.public_hex(),
            data_sha256: row.data_sha256.clone(),
        };
        Ok((view, released))
    }

    async fn change_recipe(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
        change: impl FnOnce(&mut Recipe) -> Result<serde_json::Value, CoreError>,
    ) -> Result<(), CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, source) = self.release_row(access, xml_form_id, id).await?;
        if row.state != "draft" {
            return Err(invalid("release", "release.not_draft"));
        }
        let mut recipe: Recipe = serde_json::from_str(&row.recipe)
            .map_err(|e| CoreError::Internal(format!("stored recipe: {e}")))?;
        let details = change(&mut recipe)?;
        let text = serde_json::to_string(&recipe)
            .map_err(|e| CoreError::Internal(format!("recipe: {e}")))?;
        let changed = ReleaseRow {
            recipe: text.clone(),
            ..row.clone()
        };
        // A recipe that cannot run on the snapshot is refused here, with what `baraza-sdc` said.
        let (view, _) = self.evaluate_release(access, &changed, &source).await?;
        if let Outcome::Invalid { problem } = view.outcome {
            return Err(problem.into());
        }
        if !self
            .store
            .set_release_recipe(access.project.id.0, id, &text, self.now())
            .await?
        {
            return Err(invalid("release", "release.not_draft"));
        }
        self.audit(
            Actor::of_access(access),
            "release.change",
            &Target::form(access.project.id, xml_form_id),
            json!({ "release": id, "change": details }),
        )
        .await?;
        Ok(())
    }

    /// Adds a step at the end of a draft's recipe (refused when it cannot run on the snapshot).
    pub async fn add_release_step(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
        input: &StepInput,
    ) -> Result<(), CoreError> {
        let step = if input.method.trim() == "parent" {
            self.parent_step(
                access,
                xml_form_id,
                id,
                input.variable.trim(),
                input.parent.trim(),
            )
            .await?
        } else {
            input.step(rand::random::<u32>() as u64)?
        };
        self.change_recipe(access, xml_form_id, id, move |r| {
            if r.steps.len() >= MAX_STEPS {
                return Err(invalid("method", "release.too_many_steps"));
            }
            let details = json!({ "added": step });
            r.steps.push(step);
            Ok(details)
        })
        .await
    }

    /// Removes one step of a draft's recipe (numbered from 1).
    pub async fn remove_release_step(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
        step: usize,
    ) -> Result<(), CoreError> {
        self.change_recipe(access, xml_form_id, id, move |r| {
            if step == 0 || step > r.steps.len() {
                return Err(invalid("step", "release.no_such_step"));
            }
            let removed = r.steps.remove(step - 1);
            Ok(json!({ "removed": step, "step": removed }))
        })
        .await
    }

    /// Sets which columns a draft drops (withheld ones stay dropped unless the policy allows
    /// them).
    pub async fn set_release_columns(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
        drop: &[String],
    ) -> Result<(), CoreError> {
        let (variables, _) = self.release_variables(access, xml_form_id).await?;
        let mut out: Vec<String> = Vec::new();
        for d in drop.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
            if !variables.iter().any(|v| v.name == d) {
                return Err(invalid("drop", "release.unknown_variable"));
            }
            if !out.iter().any(|x| x == d) {
                out.push(d.to_owned());
            }
        }
        self.change_recipe(access, xml_form_id, id, move |r| {
            if out
                .iter()
                .any(|d| r.keys.contains(d) || r.weight.as_ref() == Some(d))
            {
                return Err(invalid("drop", "release.drop_key"));
            }
            let details = json!({ "drop": out });
            r.drop = out;
            Ok(details)
        })
        .await
    }

    /// Releases a draft: runs its recipe on its snapshot and, when the project's policy passes,
    /// stores the released table with its report signed by the server's key. Refused (with the
    /// failed checks) otherwise; a draft that changed meanwhile is run as it is now.
    pub async fn release_now(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<(), CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, source) = self.release_row(access, xml_form_id, id).await?;
        if row.state != "draft" {
            return Err(invalid("release", "release.not_draft"));
        }
        let (view, released) = self.evaluate_release(access, &row, &source).await?;
        let released = match (released, &view.outcome) {
            (Some(r), _) => r,
            (None, Outcome::Invalid { problem }) => return Err(problem.clone().into()),
            (None, _) => {
                let failed: Vec<String> = view
                    .outcome
                    .report()
                    .map(|r| {
                        r.verdict
                            .failed()
                            .map(|c| match &c.variable {
                                Some(v) => format!("{:?} ({v})", c.rule),
                                None => format!("{:?}", c.rule),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let checks = failed.join(", ");
                return Err(
                    Problem::new("policy", format!("the policy failed: {checks}"))
                        .with("checks", checks)
                        .into(),
                );
            }
        };
        self.store_released(access, xml_form_id, &row, &released)
            .await
    }

    /// The one writer of released tables: it takes a `Released`, which only `baraza-sdc` makes,
    /// and only when the policy passed.
    async fn store_released(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        row: &ReleaseRow,
        released: &Released,
    ) -> Result<(), CoreError> {
        let (report_text, _) = view_of(released.report())?;
        let signature = hex::encode(
            self.audit_key
                .sign_document(REPORT_KIND, report_text.as_bytes()),
        );
        let csv = released_csv(released);
        let sha = hex::encode(Sha256::digest(csv.as_bytes()));
        let now = self.now();
        let stored = self
            .store
            .mark_released(
                access.project.id.0,
                row.id,
                &ReleasedFields {
                    recipe: &row.recipe,
                    report: &report_text,
                    signature: &signature,
                    data_csv: &csv,
                    data_sha256: &sha,
                    by: access.user.map(|u| u.0).unwrap_or(0),
                    at: now,
                },
            )
            .await?;
        if !stored {
            return Err(invalid("release", "release.not_draft"));
        }
        let report = released.report();
        self.audit(
            Actor::of_access(access),
            "release.release",
            &Target::form(access.project.id, xml_form_id),
            json!({
                "release": row.id,
                "records": report.records,
                "columns": report.columns,
                "keys": report.keys,
                "global_risk_before": report.risk_before.global_risk_percent,
                "global_risk_after": report.risk_after.global_risk_percent,
                "data_sha256": sha,
            }),
        )
        .await?;
        Ok(())
    }

    /// A released release's signed report: the exact bytes signed, the signature and the
    /// report's SHA-256 (hex).
    pub async fn release_report(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<SignedReport, CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, _) = self.release_row(access, xml_form_id, id).await?;
        match (row.state.as_str(), row.report, row.signature) {
            ("released", Some(text), Some(signature)) => Ok(SignedReport {
                sha256: hex::encode(Sha256::digest(text.as_bytes())),
                text,
                signature,
            }),
            _ => Err(CoreError::NotFound { what: "release" }),
        }
    }

    /// A released table (CSV), audited as a download.
    pub async fn release_table(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<String, CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, _) = self.release_row(access, xml_form_id, id).await?;
        let csv = self
            .store
            .release_data(access.project.id.0, row.id)
            .await?
            .ok_or(CoreError::NotFound { what: "release" })?;
        self.audit(
            Actor::of_access(access),
            "release.download",
            &Target::form(access.project.id, xml_form_id),
            json!({ "release": row.id, "data_sha256": row.data_sha256 }),
        )
        .await?;
        Ok(csv)
    }

    /// Deletes a draft release.
    pub async fn delete_release_draft(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        id: i64,
    ) -> Result<(), CoreError> {
        access.require(Permission::ReleaseData)?;
        let (row, _) = self.release_row(access, xml_form_id, id).await?;
        if !self
            .store
            .delete_release_draft(access.project.id.0, row.id)
            .await?
        {
            return Err(invalid("release", "release.not_draft"));
        }
        self.audit(
            Actor::of_access(access),
            "release.delete",
            &Target::form(access.project.id, xml_form_id),
            json!({ "release": row.id }),
        )
        .await?;
        Ok(())
    }
}
