//! A recipe: the key variables of a release, the variables dropped, and the ordered steps that
//! lower the risk (recodings, local suppression, PRAM).
//!
//! A [`Recipe`] is plain data (serde), written by a person in TOML or JSON and read by the
//! caller; the crate reads no file. [`apply`] runs its steps on a [`KeyTable`] one after the
//! other and re-scores the table after each one, so that a user sees what each step bought
//! (records below k, expected re-identifications, global risk) and what it cost (the
//! information lost by that step). The input table is never changed.
//!
//! In TOML:
//!
//! ```toml
//! keys = ["age", "sex", "village"]
//! weight = "weight"
//! drop = ["name", "phone"]
//!
//! [[steps]]
//! recode = { variable = "age", method = "intervals", breaks = [18, 30, 45, 60] }
//!
//! [[steps]]
//! recode = { variable = "village", method = "merge", map = { Kibera = "Nairobi", Likoni = "Mombasa" } }
//!
//! [[steps]]
//! suppress = { k = 3, importance = ["sex", "age"] }
//!
//! [[steps]]
//! pram = { variables = ["sex"], keep = 0.9, seed = 42 }
//! ```
//!
//! Recoding methods: `merge` (`map`), `intervals` (`breaks`), `top` and `bottom` (`at`),
//! `hierarchy` (`levels`, a list of child → parent maps, and `level`), `date` (`precision`:
//! `month` or `year`); see [`recode()`](crate::recode()). `suppress` takes `k` and an optional
//! `importance`: keys from the most important (least willingly blanked) down, the keys not
//! named coming after them. `pram` takes `variables`, the probability `keep` of keeping a value
//! and the `seed` of its draws, recorded in the report so that the release can be made again.

use crate::error::SdcError;
use crate::loss::{compare, InformationLoss};
use crate::pram::{pram, PramReport, PramVariable, Transition};
use crate::recode::{recode, DatePrecision, Hierarchy, RecodeReport, Recoding};
use crate::risk::KAnonymity;
use crate::suppress::{local_suppression, SuppressionReport};
use crate::table::KeyTable;
use crate::{assess, Assessment, MissingMode, Options};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a release is made of (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The key variables (quasi-identifiers) the risk is measured on.
    pub keys: Vec<String>,
    /// The column of sampling weights, when the data is a sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// Columns that do not leave.
    #[serde(default)]
    pub drop: Vec<String>,
    /// The steps, run in this order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One step of a recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Recode(RecodeStep),
    Suppress(SuppressStep),
    Pram(PramStep),
}

/// The recoding methods, by the names a recipe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecodeMethod {
    Merge,
    Intervals,
    Top,
    Bottom,
    Hierarchy,
    Date,
}

/// A global recoding of one key; the fields its method needs are given, the others left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecodeStep {
    pub variable: String,
    pub method: RecodeMethod,
    /// `merge`: old category → new label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
    /// `intervals`: increasing break points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaks: Option<Vec<f64>>,
    /// `top`, `bottom`: the bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// `hierarchy`: `levels[l]` maps a value of level `l` to its parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<BTreeMap<String, String>>>,
    /// `hierarchy`: how many steps up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// `date`: `month` or `year`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<DatePrecision>,
}

/// Local suppression to k-anonymity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressStep {
    pub k: u32,
    /// Keys from the most important down; keys not named come after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importance: Option<Vec<String>>,
}

/// PRAM of some keys with a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PramStep {
    pub variables: Vec<String>,
    /// The probability of keeping a value.
    pub keep: f64,
    pub seed: u64,
}

impl Step {
    /// The step's method code: `recode_<method>`, `suppress` or `pram`.
    pub fn method(&self) -> String {
        match self {
            Step::Recode(r) => format!(
                "recode_{}",
                match r.method {
                    RecodeMethod::Merge => "merge",
                    RecodeMethod::Intervals => "intervals",
                    RecodeMethod::Top => "top",
                    RecodeMethod::Bottom => "bottom",
                    RecodeMethod::Hierarchy => "hierarchy",
                    RecodeMethod::Date => "date",
                }
            ),
            Step::Suppress(_) => "suppress".into(),
            Step::Pram(_) => "pram".into(),
        }
    }
}

/// The risk of a table in a few figures: what each step is judged on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskSummary {
    pub records: usize,
    /// Records below k, for each k counted.
    pub k_anonymity: Vec<KAnonymity>,
    pub expected_reidentifications: f64,
    pub global_risk_percent: f64,
}

impl RiskSummary {
    pub fn of(a: &Assessment) -> Self {
        RiskSummary {
            records: a.records,
            k_anonymity: a.k_anonymity.clone(),
            expected_reidentifications: a.global.expected_reidentifications,
            global_risk_percent: a.global.percent,
        }
    }

    /// Records below `k`, when it was counted.
    pub fn below(&self, k: u32) -> Option<usize> {
        self.k_anonymity
            .iter()
            .find(|x| x.k == k)
            .map(|x| x.records)
    }
}

/// What one step did: its parameters, its own report, what it cost and the risk after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// Counted from 1, in the recipe's order.
    pub step: usize,
    /// `recode_<method>`, `suppress` or `pram`.
    pub method: String,
    /// The step as the recipe gave it.
    pub parameters: Step,
    /// The seed of the step's random draws (PRAM), for making the release again.
    pub seed: Option<u64>,
    pub effect: StepEffect,
    /// The information lost by this step (the table before it against the table after it).
    pub loss: InformationLoss,
    pub risk_after: RiskSummary,
}

/// The report of the method a step ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEffect {
    Recode(RecodeReport),
    Suppress(SuppressionReport),
    Pram(PramReport),
}

/// The options a step is re-scored with: k = 2, 3, 5, the recipe's suppression k and `extra`.
pub(crate) fn scoring(recipe: &Recipe, extra: &[u32]) -> Options {
    let mut k = vec![2, 3, 5];
    for s in &recipe.steps {
        if let Step::Suppress(s) = s {
            k.push(s.k);
        }
    }
    k.extend_from_slice(extra);
    k.retain(|&k| k > 0);
    k.sort_unstable();
    k.dedup();
    Options {
        missing: MissingMode::Any,
        k,
        suda_max_size: None,
        riskiest: 0,
        per_record: false,
        ..Options::default()
    }
}

/// Runs the recipe's steps on `table` and re-scores it after each; the input is not changed.
/// The keys and dropped columns of the recipe are the caller's business here: `table` holds the
/// keys already.
pub fn apply(table: &KeyTable, recipe: &Recipe) -> Result<(KeyTable, Vec<StepReport>), SdcError> {
    apply_scored(table, recipe, &scoring(recipe, &[]))
}

pub(crate) fn apply_scored(
    table: &KeyTable,
    recipe: &Recipe,
    options: &Options,
) -> Result<(KeyTable, Vec<StepReport>), SdcError> {
    let mut current = table.clone();
    let mut reports = Vec::with_capacity(recipe.steps.len());
    for (i, step) in recipe.steps.iter().enumerate() {
        let in_step = |e: SdcError| SdcError::Step {
            step: i + 1,
            method: step.method(),
            source: Box::new(e),
        };
        let (next, effect, seed) = run(&current, step).map_err(in_step)?;
        let loss = compare(&current, &next).map_err(in_step)?;
        let risk_after = RiskSummary::of(&assess(&next, options).map_err(in_step)?);
        reports.push(StepReport {
            step: i + 1,
            method: step.method(),
            parameters: step.clone(),
            seed,
            effect,
            loss,
            risk_after,
        });
        current = next;
    }
    Ok((current, reports))
}

fn missing(what: &str, method: &str) -> SdcError {
    SdcError::Recipe {
        problem: format!("the {method} recoding needs {what}"),
    }
}

fn recoding(r: &RecodeStep) -> Result<Recoding, SdcError> {
    Ok(match r.method {
        RecodeMethod::Merge => Recoding::Merge(r.map.clone().ok_or_else(|| {
            missing(
                "a map of old category to new label (map = { old = \"new\" })",
                "merge",
            )
        })?),
        RecodeMethod::Intervals => Recoding::Intervals(
            r.breaks
                .clone()
                .ok_or_else(|| missing("break points (breaks = [18, 30, 60])", "intervals"))?,
        ),
        RecodeMethod::Top => {
            Recoding::Top(r.at.ok_or_else(|| missing("a bound (at = 65)", "top"))?)
        }
        RecodeMethod::Bottom => {
            Recoding::Bottom(r.at.ok_or_else(|| missing("a bound (at = 18)", "bottom"))?)
        }
        RecodeMethod::Hierarchy => Recoding::Hierarchy {
            hierarchy: Hierarchy {
                levels: r.levels.clone().ok_or_else(|| {
                    missing("levels (a list of child = \"parent\" maps)", "hierarchy")
                })?,
            },
            level: r
                .level
                .ok_or_else(|| missing("the level to climb to (level = 1)", "hierarchy"))?,
        },
        RecodeMethod::Date => {
            Recoding::Date(r.precision.ok_or_else(|| {
                missing("a precision (precision = \"month\" or \"year\")", "date")
            })?)
        }
    })
}

/// The ranks of local suppression from a list of keys, most important first.
fn ranks(table: &KeyTable, order: &[String]) -> Result<Vec<u32>, SdcError> {
    let m = table.width();
    let mut rank = vec![order.len() as u32 + 1; m];
    for (r, name) in order.iter().enumerate() {
        let j = crate::recode::key_index(table, name)?;
        rank[j] = r as u32 + 1;
    }
    Ok(rank)
}

fn run(table: &KeyTable, step: &Step) -> Result<(KeyTable, StepEffect, Option<u64>), SdcError> {
    Ok(match step {
        Step::Recode(r) => {
            let (t, report) = recode(table, &r.variable, &recoding(r)?)?;
            (t, StepEffect::Recode(report), None)
        }
        Step::Suppress(s) => {
            let rank = s
                .importance
                .as_deref()
                .map(|o| ranks(table, o))
                .transpose()?;
            let (t, report) = local_suppression(table, s.k, rank.as_deref())?;
            (t, StepEffect::Suppress(report), None)
        }
        Step::Pram(p) => {
            if p.variables.is_empty() {
                return Err(SdcError::Recipe {
                    problem: "PRAM needs at least one variable (variables = [\"sex\"])".into(),
                });
            }
            let specs: Vec<PramVariable> = p
                .variables
                .iter()
                .map(|v| PramVariable {
                    variable: v.clone(),
                    transition: Transition::Keep(p.keep),
                })
                .collect();
            let (t, report) = pram(table, &specs, p.seed)?;
            (t, StepEffect::Pram(report), Some(p.seed))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::table;

    fn recipe(steps: &str) -> Recipe {
        serde_json::from_str(&format!(r#"{{"keys": ["k0", "k1"], "steps": {steps}}}"#)).unwrap()
    }

    #[test]
    fn steps_are_run_and_rescored() {
        let (y, o) = (Some("25"), Some("31"));
        let (f, m) = (Some("f"), Some("m"));
        // Ages 25, 27, 31, 33, 35, 62 with sexes f f m m f m: every record unique (fk = 1).
        let rows: Vec<[Option<&str>; 2]> = vec![
            [y, f],
            [Some("27"), f],
            [o, m],
            [Some("33"), m],
            [Some("35"), f],
            [Some("62"), m],
        ];
        let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let t = table(&rows, None);
        let r = recipe(
            r#"[{"recode": {"variable": "k0", "method": "intervals", "breaks": [30, 60]}},
                {"suppress": {"k": 2, "importance": ["k0"]}}]"#,
        );
        let (out, steps) = apply(&t, &r).unwrap();
        assert_eq!(steps.len(), 2);
        // Step 1: < 30 f, < 30 f, [30,60) m, [30,60) m, [30,60) f, ≥ 60 m: fk 2 2 2 2 1 1;
        // global risk (1/2 · 4 + 1 + 1)/6 = 4/6.
        let s1 = &steps[0];
        assert_eq!(s1.method, "recode_intervals");
        assert_eq!(s1.risk_after.below(2), Some(2));
        assert!((s1.risk_after.expected_reidentifications - 4.0).abs() < 1e-12);
        assert!((s1.risk_after.global_risk_percent - 400.0 / 6.0).abs() < 1e-9);
        assert_eq!(s1.loss.changed, 6);
        // Step 2: records 5 and 6 are unique. Record 5 ([30,60), f): sex, the less important,
        // is tried first and is sure (records 3 and 4 share [30,60)): blanked. Record 6 (≥ 60,
        // m): blanking sex leaves it alone on age (bound 1), blanking age makes it match the
        // three men (bound 3): age is blanked. Two values.
        let s2 = &steps[1];
        assert_eq!(s2.method, "suppress");
        assert_eq!(s2.risk_after.below(2), Some(0));
        assert_eq!(s2.loss.suppressed, 2);
        assert_eq!(out.value(4, 1), None);
        assert_eq!(out.value(5, 0), None);
        assert_eq!(out.value(5, 1), Some("m"));
        // The input is left alone.
        assert_eq!(t.value(0, 0), Some("25"));
    }

    #[test]
    fn problems_name_the_step() {
        let a = Some("a");
        let t = table(&[&[a, a], &[a, a]], None);
        let cases = [
            (
                r#"[{"recode": {"variable": "k0", "method": "merge", "map": {}}},
                    {"recode": {"variable": "age", "method": "top", "at": 3}}]"#,
                "step 2 (recode_top): there is no key variable \"age\"",
            ),
            (
                r#"[{"recode": {"variable": "k0", "method": "intervals"}}]"#,
                "step 1 (recode_intervals): the intervals recoding needs break points",
            ),
            (
                r#"[{"recode": {"variable": "k0", "method": "intervals", "breaks": [1]}}]"#,
                "step 1 (recode_intervals): record 1: the value \"a\" of \"k0\" is not a number",
            ),
            (
                r#"[{"suppress": {"k": 2, "importance": ["k9"]}}]"#,
                "step 1 (suppress): there is no key variable \"k9\"",
            ),
            (
                r#"[{"pram": {"variables": ["k1"], "keep": 2, "seed": 1}}]"#,
                "step 1 (pram): the PRAM probability",
            ),
        ];
        for (steps, want) in cases {
            let e = apply(&t, &recipe(steps)).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
    }

    #[test]
    fn pram_is_seeded_and_reported() {
        let (a, b) = (Some("a"), Some("b"));
        let rows: Vec<[Option<&str>; 2]> = (0..40)
            .map(|i| [if i % 2 == 0 { a } else { b }, a])
            .collect();
        let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let t = table(&rows, None);
        let r = recipe(r#"[{"pram": {"variables": ["k0"], "keep": 0.5, "seed": 7}}]"#);
        let (one, s1) = apply(&t, &r).unwrap();
        let (two, s2) = apply(&t, &r).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(one.codes, two.codes);
        assert_eq!(s1[0].seed, Some(7));
        let StepEffect::Pram(p) = &s1[0].effect else {
            panic!("not a PRAM report")
        };
        assert_eq!(p.variables[0].changed, s1[0].loss.changed);
    }

    #[test]
    fn toml_and_json_read_alike() {
        let text = r#"
keys = ["age", "sex"]
drop = ["name"]

[[steps]]
recode = { variable = "age", method = "intervals", breaks = [18, 30] }

[[steps]]
recode = { variable = "sex", method = "merge", map = { F = "f", M = "m" } }

[[steps]]
suppress = { k = 3 }

[[steps]]
pram = { variables = ["sex"], keep = 0.9, seed = 42 }
"#;
        let r: Recipe = toml::from_str(text).unwrap();
        assert_eq!(r.steps.len(), 4);
        let json = serde_json::to_string(&r).unwrap();
        let back: Recipe = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        let bad = toml::from_str::<Recipe>(
            "keys = [\"a\"]\n[[steps]]\nrecode = { variable = \"a\", method = \"round\" }\n",
        );
        assert!(bad.unwrap_err().to_string().contains("line 3"));
    }
}
