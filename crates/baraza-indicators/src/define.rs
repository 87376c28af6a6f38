//! Indicator definitions: what an indicator computes from a form's records, written in the
//! XLSForm expression language that the form's author already knows, in a TOML file that can
//! be versioned beside the XLSForm.
//!
//! ```toml
//! [[indicator]]
//! id = "eau-de-base"
//! form = "points_eau"
//! title = { fr = "Ménages ayant un point d’eau de base", en = "Households with a basic water point" }
//! aggregation = "share"                 # count | share | mean | median | sum | rate
//! population = "${fonctionnel} != ''"   # the denominator's filter (all records by default)
//! numerator = "${fonctionnel} = 'oui' and ${temps_trajet} * 2 <= 30"
//! weight = "${taille_menage}"           # optional
//! period = "month"                      # month | quarter | year
//! place = "province"                    # a select_one field
//! places = { ndjamena = "TD-ND", ouaddai = "TD-OD" }
//! disaggregate = ["sexe_chef", { name = "taille", field = "taille_menage", bands = [1, 5, 9] }]
//! unit = "%"
//! sdg = { indicator = "6.1.1", alignment = "proxy", differences = { fr = "…", en = "…" } }
//! ```
//!
//! A definition is checked against the form's fields once, when it is saved: every expression
//! parses, names only fields of the form, and the place and disaggregation fields are
//! `select_one` questions (or numbers, for bands). All problems are returned at once, each
//! naming the indicator and the key. A checked definition is a [`Definition`]; the expressions
//! are parsed once and kept.

use std::collections::BTreeMap;

use baraza_expr::Expr;
use serde::{Deserialize, Serialize};

/// Text in several languages (`fr`, `en`…).
pub type Text = BTreeMap<String, String>;

/// The text in `lang`, else English, else French, else any.
pub fn text<'a>(t: &'a Text, lang: &str) -> &'a str {
    t.get(lang)
        .or_else(|| t.get("en"))
        .or_else(|| t.get("fr"))
        .or_else(|| t.values().next())
        .map_or("", String::as_str)
}

/// How records make a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Records in the population (weighted: the sum of their weights).
    Count,
    /// Share of the population meeting the numerator (0..=1, shown as a percentage).
    Share,
    /// Mean of `value` over the population.
    Mean,
    /// Median of `value` over the population.
    Median,
    /// Sum of `value` over the population.
    Sum,
    /// Records meeting the numerator per `per` records of the population.
    Rate,
}

impl Aggregation {
    /// Whether the aggregation reads a numerator filter (else a `value`).
    pub fn uses_numerator(self) -> bool {
        matches!(self, Aggregation::Share | Aggregation::Rate)
    }
    /// Whether it reads a numeric `value`.
    pub fn uses_value(self) -> bool {
        matches!(
            self,
            Aggregation::Mean | Aggregation::Median | Aggregation::Sum
        )
    }
}

/// The length of a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    /// The period holding an ISO date (`YYYY-MM-DD…`): `2026-10`, `2026-Q4`, `2026`.
    pub fn of_date(self, date: &str) -> Option<String> {
        let b = date.as_bytes();
        if b.len() < 7 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
            return None;
        }
        let year = &date[..4];
        let month: u32 = date.get(5..7)?.parse().ok()?;
        if !(1..=12).contains(&month) {
            return None;
        }
        Some(match self {
            Period::Month => format!("{year}-{month:02}"),
            Period::Quarter => format!("{year}-Q{}", (month - 1) / 3 + 1),
            Period::Year => year.to_owned(),
        })
    }

    /// A period's middle as a decimal year (for time axes): `2026-10` → 2026.79.
    pub fn decimal_year(label: &str) -> Option<f64> {
        let year: f64 = label.get(..4)?.parse().ok()?;
        let rest = &label[4..];
        if rest.is_empty() {
            return Some(year + 0.5);
        }
        if let Some(q) = rest.strip_prefix("-Q") {
            let q: f64 = q.parse().ok()?;
            return Some(year + (q - 1.0) * 0.25 + 0.125);
        }
        let m: f64 = rest.strip_prefix('-')?.get(..2)?.parse().ok()?;
        Some(year + (m - 1.0) / 12.0 + 1.0 / 24.0)
    }
}

/// How well a citizen indicator matches the official SDG indicator it is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// Same definition as the official metadata.
    Exact,
    /// Measures the same thing another way (another question, another population).
    Proxy,
    /// Measures part of it (one component, one group).
    Partial,
}

/// How the records were chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// A probability sample: intervals are meaningful.
    Probability,
    /// Volunteers, a convenience or quota sample: figures describe those who answered and are
    /// marked "not representative", without an interval.
    NonProbability,
    /// Every unit of the population (a census of water points): no sampling error.
    Census,
}

/// Who checked the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    SelfDeclared,
    PeerReviewed,
    ValidatedByStatisticsOffice,
}

/// Citizens' part in the data's life, after the Copenhagen Framework on Citizen Data (UN
/// Statistical Commission, 2025): from contributing answers to leading the whole process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    /// Citizens give data; the design, analysis and use are others'.
    Contributory,
    /// Citizens also help design, collect or interpret.
    Collaborative,
    /// Citizens and institutions decide together at every stage.
    CoCreated,
    /// Citizens lead: they decide what is measured, collect, analyse and use it.
    CitizenLed,
}

/// The credibility card of a series: who, how, when, where, how far it matches the official
/// definition, who validated it, how privacy is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credibility {
    pub collected_by: Text,
    pub sampling: Sampling,
    #[serde(default)]
    pub method: Text,
    #[serde(default)]
    pub coverage: Text,
    pub participation: Participation,
    pub validation: Validation,
    #[serde(default)]
    pub safeguards: Text,
}

/// The link to an SDG indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdgLink {
    /// An indicator code of the framework, e.g. `6.1.1`.
    pub indicator: String,
    pub alignment: Alignment,
    /// How it differs from the official definition.
    #[serde(default)]
    pub differences: Text,
    /// Other SDG indicators whose official series are shown beside this one (e.g. 1.4.1,
    /// basic drinking water, beside a proxy of 6.1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compare: Vec<String>,
}

/// A target line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// In the unit shown (a percentage for shares: `100` for 100 %).
    pub value: f64,
    #[serde(default = "default_target_year")]
    pub year: i32,
    #[serde(default)]
    pub label: Text,
}

fn default_target_year() -> i32 {
    2030
}

/// A disaggregation: a `select_one` field, or a number cut into bands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DimensionSpec {
    Field(String),
    Bands {
        name: String,
        field: String,
        /// Lower bounds, increasing: `[0, 15, 65]` gives `0–14`, `15–64`, `65+`.
        bands: Vec<f64>,
        #[serde(default)]
        title: Text,
    },
}

/// Small-cell rules.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallCells {
    /// Figures from fewer records are hidden.
    pub hide_below: i64,
    /// Figures from fewer records are shown in brackets.
    pub bracket_below: i64,
}

impl Default for SmallCells {
    fn default() -> Self {
        SmallCells {
            hide_below: 25,
            bracket_below: 50,
        }
    }
}

/// An indicator definition as written in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub id: String,
    pub form: String,
    pub title: Text,
    #[serde(default)]
    pub description: Text,
    pub aggregation: Aggregation,
    #[serde(default)]
    pub population: Option<String>,
    #[serde(default)]
    pub numerator: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub per: Option<f64>,
    #[serde(default)]
    pub weight: Option<String>,
    /// The record's date; by default the day it was received.
    #[serde(default)]
    pub date: Option<String>,
    pub period: Period,
    #[serde(default)]
    pub place: Option<String>,
    /// Choice name → place code (ISO 3166-2, P-code); a choice not listed is its own code.
    #[serde(default)]
    pub places: BTreeMap<String, String>,
    #[serde(default)]
    pub disaggregate: Vec<DimensionSpec>,
    #[serde(default)]
    pub unit: Text,
    #[serde(default = "yes")]
    pub higher_is_better: bool,
    #[serde(default)]
    pub target: Option<TargetSpec>,
    #[serde(default)]
    pub sdg: Option<SdgLink>,
    pub credibility: Credibility,
    #[serde(default)]
    pub small_cells: SmallCells,
}

fn yes() -> bool {
    true
}

/// The file: `[[indicator]]` tables.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    pub indicator: Vec<Spec>,
}

/// What a definition needs to know of its form's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInfo {
    pub name: String,
    pub kind: FieldKind,
}

/// The kind of a form field, as far as indicators care.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    /// A `select_one` question and its choices' names.
    SelectOne(Vec<String>),
    SelectMultiple,
    Number,
    Date,
    /// Anything else with a value (text, calculate…).
    Other,
    /// Inside a repeat: not usable by an indicator on records.
    Repeated,
}

/// A problem in a definition: which indicator, which key, what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("indicator {indicator:?}, {key}: {message}")]
pub struct Problem {
    /// The indicator's id, or its position (`#2`) when it has none.
    pub indicator: String,
    pub key: String,
    pub message: String,
}

/// A disaggregation, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Dimension {
    /// A `select_one` field: the groups are its choices.
    Choice { field: String },
    /// A number cut into bands.
    Bands {
        name: String,
        field: String,
        bands: Vec<f64>,
        title: Text,
    },
}

impl Dimension {
    /// The dimension's name in cells and URLs.
    pub fn name(&self) -> &str {
        match self {
            Dimension::Choice { field } => field,
            Dimension::Bands { name, .. } => name,
        }
    }

    /// The group of a band value: `15-64`, `65+`; `None` below the first band.
    pub fn band_of(bands: &[f64], v: f64) -> Option<String> {
        let i = bands.iter().rposition(|b| v >= *b)?;
        let fmt = |x: f64| {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                format!("{x}")
            }
        };
        Some(match bands.get(i + 1) {
            // Integer bands: the upper bound is the next band's start minus one.
            Some(next) if bands[i].fract() == 0.0 && next.fract() == 0.0 => {
                format!("{}-{}", fmt(bands[i]), fmt(next - 1.0))
            }
            Some(next) => format!("{}-<{}", fmt(bands[i]), fmt(*next)),
            None => format!("{}+", fmt(bands[i])),
        })
    }

    /// Every group of a banded dimension, in order.
    pub fn band_groups(bands: &[f64]) -> Vec<String> {
        bands
            .iter()
            .filter_map(|b| Self::band_of(bands, *b))
            .collect()
    }
}

/// A checked definition with its expressions parsed.
#[derive(Clone, Debug)]
pub struct Definition {
    pub spec: Spec,
    pub population: Option<Expr>,
    pub numerator: Option<Expr>,
    pub value: Option<Expr>,
    pub weight: Option<Expr>,
    pub date: Option<Expr>,
    pub dimensions: Vec<Dimension>,
}

/// Longest expression accepted (characters).
const MAX_EXPR: usize = 4000;
/// Most disaggregations per indicator (each multiplies the cells).
pub const MAX_DIMENSIONS: usize = 6;

/// Reads a definitions file (TOML). Syntax errors name the line; each definition is then
/// checked with [`check`] by the caller, which knows the forms.
pub fn read_file(text: &str) -> Result<Vec<Spec>, Problem> {
    let file: File = toml::from_str(text).map_err(|e| Problem {
        indicator: String::new(),
        key: match e.span() {
            Some(s) => format!(
                "line {}",
                text[..s.start.min(text.len())].lines().count().max(1)
            ),
            None => "file".into(),
        },
        message: e.message().to_owned(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in file.indicator.iter().enumerate() {
        if !seen.insert(s.id.clone()) {
            return Err(Problem {
                indicator: s.id.clone(),
                key: "id".into(),
                message: format!("indicator #{} repeats an id used before", i + 1),
            });
        }
    }
    Ok(file.indicator)
}

/// Writes definitions back as a TOML file (what [`read_file`] reads).
pub fn write_file(specs: &[Spec]) -> String {
    toml::to_string_pretty(&File {
        indicator: specs.to_vec(),
    })
    .unwrap_or_default()
}

/// Checks a definition against its form's fields and, when it links one, the SDG framework
/// (`sdg_known` says whether a code exists). Returns every problem.
pub fn check(
    spec: Spec,
    fields: &[FieldInfo],
    sdg_known: &dyn Fn(&str) -> bool,
) -> Result<Definition, Vec<Problem>> {
    let mut problems = Vec::new();
    let who = spec.id.clone();
    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            indicator: who.clone(),
            key: key.to_owned(),
            message,
        })
    };
    let valid_id = !spec.id.is_empty()
        && spec.id.len() <= 64
        && spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_id {
        problem(
            "id",
            "use 1 to 64 lowercase letters, digits, '-' or '_'".into(),
        );
    }
    if spec.title.values().all(|t| t.trim().is_empty()) {
        problem("title", "give a title (in French and English)".into());
    }
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    let parse = |key: &str, src: &Option<String>, problem: &mut dyn FnMut(&str, String)| {
        let src = src.as_deref()?;
        if src.len() > MAX_EXPR {
            problem(
                key,
                format!("the expression is longer than {MAX_EXPR} characters"),
            );
            return None;
        }
        match baraza_expr::parse(src) {
            Err(e) => {
                problem(key, format!("{e}"));
                None
            }
            Ok(expr) => {
                let mut ok = true;
                for e in expr.check() {
                    problem(key, format!("{e}"));
                    ok = false;
                }
                for (name, _) in expr.references() {
                    match field(&name).map(|f| &f.kind) {
                        None => {
                            problem(key, format!("the form has no field ${{{name}}}"));
                            ok = false;
                        }
                        Some(FieldKind::Repeated) => {
                            problem(
                                key,
                                format!(
                                    "${{{name}}} is inside a repeat; an indicator counts records, so use a field of the record"
                                ),
                            );
                            ok = false;
                        }
                        Some(_) => {}
                    }
                }
                ok.then_some(expr)
            }
        }
    };
    let population = parse("population", &spec.population, &mut problem);
    let numerator = parse("numerator", &spec.numerator, &mut problem);
    let value = parse("value", &spec.value, &mut problem);
    let weight = parse("weight", &spec.weight, &mut problem);
    let date = parse("date", &spec.date, &mut problem);
    let agg = spec.aggregation;
    if agg.uses_numerator() && spec.numerator.is_none() {
        problem(
            "numerator",
            format!("a {agg:?} needs a numerator: the filter of the records counted")
                .to_lowercase(),
        );
    }
    if !agg.uses_numerator() && spec.numerator.is_some() {
        problem(
            "numerator",
            "only a share or a rate has a numerator; use population to filter".into(),
        );
    }
    if agg.uses_value() && spec.value.is_none() {
        problem("value", "a mean, median or sum needs a value".into());
    }
    if !agg.uses_value() && spec.value.is_some() {
        problem(
            "value",
            "only a mean, a median or a sum reads a value".into(),
        );
    }
    match (agg, spec.per) {
        (Aggregation::Rate, None) => problem("per", "a rate needs per (e.g. 1000)".into()),
        (Aggregation::Rate, Some(p)) if !(p > 0.0 && p.is_finite()) => {
            problem("per", "per must be a positive number".into())
        }
        (Aggregation::Rate, _) => {}
        (_, Some(_)) => problem("per", "only a rate has per".into()),
        _ => {}
    }
    if let Some(place) = &spec.place {
        match field(place).map(|f| &f.kind) {
            Some(FieldKind::SelectOne(choices)) => {
                for c in spec.places.keys() {
                    if !choices.contains(c) {
                        problem("places", format!("{place} has no choice {c:?}"));
                    }
                }
            }
            Some(_) => problem(
                "place",
                format!("{place} is not a select_one question; places are choices"),
            ),
            None => problem("place", format!("the form has no field {place}")),
        }
    } else if !spec.places.is_empty() {
        problem(
            "places",
            "places maps a place field's choices; set place".into(),
        );
    }
    let mut dimensions = Vec::new();
    if spec.disaggregate.len() > MAX_DIMENSIONS {
        problem(
            "disaggregate",
            format!("at most {MAX_DIMENSIONS} disaggregations"),
        );
    }
    for d in &spec.disaggregate {
        match d {
            DimensionSpec::Field(name) => match field(name).map(|f| &f.kind) {
                Some(FieldKind::SelectOne(_)) => dimensions.push(Dimension::Choice {
                    field: name.clone(),
                }),
                Some(FieldKind::Number) => problem(
                    "disaggregate",
                    format!("{name} is a number: cut it into bands with {{ name, field, bands }}"),
                ),
                Some(_) => problem(
                    "disaggregate",
                    format!("{name} is not a select_one question"),
                ),
                None => problem("disaggregate", format!("the form has no field {name}")),
            },
            DimensionSpec::Bands {
                name,
                field: f,
                bands,
                title,
            } => {
                let increasing = bands.windows(2).all(|w| w[0] < w[1]);
                if bands.is_empty() || !increasing || bands.iter().any(|b| !b.is_finite()) {
                    problem(
                        "disaggregate",
                        format!("{name}: bands are increasing lower bounds, e.g. [0, 15, 65]"),
                    );
                } else if !matches!(
                    field(f).map(|x| &x.kind),
                    Some(FieldKind::Number | FieldKind::Other)
                ) {
                    problem(
                        "disaggregate",
                        format!("{name}: {f} is not a number field of the form"),
                    );
                } else {
                    dimensions.push(Dimension::Bands {
                        name: name.clone(),
                        field: f.clone(),
                        bands: bands.clone(),
                        title: title.clone(),
                    });
                }
            }
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for d in &dimensions {
        if !names.insert(d.name().to_owned()) || d.name() == "_T" {
            problem("disaggregate", format!("{} is used twice", d.name()));
        }
    }
    if let Some(link) = &spec.sdg {
        for code in std::iter::once(&link.indicator).chain(&link.compare) {
            if !sdg_known(code) {
                problem(
                    "sdg",
                    format!("{code} is not an indicator of the SDG framework"),
                );
            }
        }
    }
    let sc = spec.small_cells;
    if sc.hide_below < 0 || sc.bracket_below < sc.hide_below {
        problem(
            "small_cells",
            "hide_below ≥ 0 and bracket_below ≥ hide_below".into(),
        );
    }
    if let Some(t) = &spec.target {
        if !t.value.is_finite() {
            problem("target", "the target is a number".into());
        }
    }
    if problems.is_empty() {
        Ok(Definition {
            spec,
            population,
            numerator,
            value,
            weight,
            date,
            dimensions,
        })
    } else {
        Err(problems)
    }
}
