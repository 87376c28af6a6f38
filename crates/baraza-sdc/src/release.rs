//! A release: a recipe applied to microdata, judged by a policy. Only this module makes a
//! [`Released`] table, and only when the policy passed.
//!
//! [`Microdata`] holds every column of the records as text (the caller reads the file);
//! [`release`] builds the key table from the recipe's keys and weight, assesses it, runs the
//! recipe ([`apply`](crate::recipe::apply)), assesses the result, evaluates the policy on it
//! and on the columns that would leave (all but the recipe's `drop`), and returns a
//! [`Released`] table with its [`ReleaseReport`] — or [`Refused`] with the report and the
//! verdict.
//!
//! **Invariant:** a [`Released`] value satisfies its policy. Its fields are private and it has
//! no other constructor, so code that accepts a `Released` (publishing, export) cannot be given
//! a table that was not judged:
//!
//! ```compile_fail,E0451
//! use baraza_sdc::release::Released;
//! let forged = Released { columns: Vec::new(), values: Vec::new(), report: todo!() };
//! ```

use crate::error::SdcError;
use crate::loss::{compare, InformationLoss};
use crate::policy::{evaluate, Policy, Verdict};
use crate::recipe::{apply_scored, scoring, Recipe, RiskSummary, StepReport};
use crate::table::{KeyTable, Row, TableBuilder};
use crate::{assess, MissingMode};
use serde::Serialize;

/// Records with every column as text (`None` for a missing value), in the caller's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Microdata {
    columns: Vec<String>,
    /// Column-major: `values[c][i]` is column `c` of record `i`.
    values: Vec<Vec<Option<String>>>,
    /// The number of each record as the user knows it (its line), for messages.
    numbers: Vec<usize>,
}

impl Microdata {
    /// An empty table with these columns.
    pub fn new(columns: Vec<String>) -> Result<Self, SdcError> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &columns {
            if !seen.insert(c) {
                return Err(SdcError::DuplicateVariable { name: c.clone() });
            }
        }
        let values = vec![Vec::new(); columns.len()];
        Ok(Microdata {
            columns,
            values,
            numbers: Vec::new(),
        })
    }

    /// Adds record `number` (its line, for messages), one value per column.
    pub fn push(&mut self, number: usize, values: Vec<Option<String>>) -> Result<(), SdcError> {
        if values.len() != self.columns.len() {
            return Err(SdcError::RecordWidth {
                row: number,
                expected: self.columns.len(),
                got: values.len(),
            });
        }
        for (column, v) in self.values.iter_mut().zip(values) {
            column.push(v);
        }
        self.numbers.push(number);
        Ok(())
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn rows(&self) -> usize {
        self.numbers.len()
    }

    fn column(&self, name: &str, role: &str) -> Result<usize, SdcError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| SdcError::UnknownColumn {
                variable: name.to_owned(),
                role: role.to_owned(),
                columns: self.columns.join(", "),
            })
    }

    /// The key table of the recipe's keys and weight.
    fn key_table(&self, recipe: &Recipe) -> Result<KeyTable, SdcError> {
        let keys: Vec<usize> = recipe
            .keys
            .iter()
            .map(|k| self.column(k, "key variable of the recipe"))
            .collect::<Result<_, _>>()?;
        let weight = recipe
            .weight
            .as_deref()
            .map(|w| self.column(w, "weight of the recipe"))
            .transpose()?;
        let names: Vec<&str> = recipe.keys.iter().map(String::as_str).collect();
        let mut b = TableBuilder::new(&names, recipe.weight.as_deref(), None, &[])?;
        for (i, &number) in self.numbers.iter().enumerate() {
            let values: Vec<Option<&str>> =
                keys.iter().map(|&c| self.values[c][i].as_deref()).collect();
            let w =
                match weight {
                    None => None,
                    Some(c) => match self.values[c][i].as_deref() {
                        None => None,
                        Some(text) => Some(text.trim().parse::<f64>().map_err(|_| {
                            SdcError::WeightNotNumber {
                                row: number,
                                variable: self.columns[c].clone(),
                                value: text.to_owned(),
                            }
                        })?),
                    },
                };
            b.push(Row {
                number,
                keys: &values,
                weight: w,
                household: None,
                sensitive: &[],
            })?;
        }
        b.finish()
    }
}

/// Everything a release did, as figures and stable codes (no sentences: callers render it in
/// French or English).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseReport {
    pub records: usize,
    pub keys: Vec<String>,
    pub weight: Option<String>,
    /// How a missing key value was counted (`any`: it matches any category).
    pub missing: MissingMode,
    /// The columns that leave, in order.
    pub columns: Vec<String>,
    /// The columns the recipe dropped.
    pub dropped: Vec<String>,
    pub risk_before: RiskSummary,
    pub steps: Vec<StepReport>,
    pub risk_after: RiskSummary,
    /// The original keys against the released ones.
    pub loss: InformationLoss,
    pub policy: Policy,
    pub verdict: Verdict,
}

/// A table that passed its policy. Only [`release`] makes one.
#[derive(Debug, Clone)]
pub struct Released {
    columns: Vec<String>,
    /// Column-major, as in [`Microdata`], with the keys as released.
    values: Vec<Vec<Option<String>>>,
    report: ReleaseReport,
}

impl Released {
    /// The columns that leave.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn rows(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    /// Column `column` of record `row`, `None` when missing or suppressed.
    pub fn value(&self, row: usize, column: usize) -> Option<&str> {
        self.values[column][row].as_deref()
    }

    /// Record `row`, one value per column.
    pub fn row(&self, row: usize) -> Vec<Option<&str>> {
        self.values.iter().map(|c| c[row].as_deref()).collect()
    }

    pub fn report(&self) -> &ReleaseReport {
        &self.report
    }
}

/// Why no [`Released`] table was made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    /// The recipe or the data cannot be used (a variable that does not exist, a bad step):
    /// nothing was judged.
    #[error(transparent)]
    Invalid(#[from] SdcError),
    /// The policy refused the result; the report holds the verdict and the figures.
    #[error("the policy refused the release: {}", failed(.0))]
    Policy(Box<ReleaseReport>),
}

fn failed(report: &ReleaseReport) -> String {
    let codes: Vec<String> = report
        .verdict
        .failed()
        .map(|c| match &c.variable {
            Some(v) => format!("{:?} ({v})", c.rule),
            None => format!("{:?}", c.rule),
        })
        .collect();
    format!("{} failed: change the recipe", codes.join(", "))
}

/// Applies `recipe` to `data`, assesses the result and returns it when `policy` passes.
pub fn release(data: &Microdata, recipe: &Recipe, policy: &Policy) -> Result<Released, Refused> {
    for d in &recipe.drop {
        data.column(d, "column to drop")?;
    }
    if policy.k == 0 {
        return Err(SdcError::ZeroK.into());
    }
    let table = data.key_table(recipe)?;
    let options = scoring(recipe, &[policy.k]);
    let before = assess(&table, &options)?;
    let (after_table, steps) = apply_scored(&table, recipe, &options)?;
    let after = assess(&after_table, &options)?;
    let loss = compare(&table, &after_table)?;
    let kept: Vec<usize> = (0..data.columns.len())
        .filter(|&c| !recipe.drop.contains(&data.columns[c]))
        .collect();
    let columns: Vec<String> = kept.iter().map(|&c| data.columns[c].clone()).collect();
    let verdict = evaluate(&after, policy, &columns);
    let report = ReleaseReport {
        records: data.rows(),
        keys: recipe.keys.clone(),
        weight: recipe.weight.clone(),
        missing: MissingMode::Any,
        dropped: recipe.drop.clone(),
        columns: columns.clone(),
        risk_before: RiskSummary::of(&before),
        steps,
        risk_after: RiskSummary::of(&after),
        loss,
        policy: policy.clone(),
        verdict,
    };
    if !report.verdict.passed {
        return Err(Refused::Policy(Box::new(report)));
    }
    let values = kept
        .iter()
        .map(
            |&c| match recipe.keys.iter().position(|k| *k == data.columns[c]) {
                Some(j) => (0..after_table.rows())
                    .map(|i| after_table.value(i, j).map(str::to_owned))
                    .collect(),
                None => data.values[c].clone(),
            },
        )
        .collect();
    Ok(Released {
        columns,
        values,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Rule;
    use crate::Options;
    use proptest::prelude::*;

    fn data(columns: &[&str], rows: &[Vec<Option<&str>>]) -> Microdata {
        let mut d = Microdata::new(columns.iter().map(|c| (*c).to_owned()).collect()).unwrap();
        for (i, r) in rows.iter().enumerate() {
            d.push(i + 2, r.iter().map(|v| v.map(str::to_owned)).collect())
                .unwrap();
        }
        d
    }

    fn recipe(json: &str) -> Recipe {
        serde_json::from_str(json).unwrap()
    }

    /// Twelve people: name, age, sex, weight. Ages are all different, so every record is
    /// unique on (age, sex).
    fn people() -> Microdata {
        let ages = [
            "21", "23", "25", "27", "34", "36", "38", "41", "52", "55", "57", "59",
        ];
        let rows: Vec<Vec<Option<&str>>> = ages
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let name = ["Achieng", "Baraka", "Chebet", "Daudi"][i % 4];
                let sex = if i % 2 == 0 { "f" } else { "m" };
                vec![Some(name), Some(*a), Some(sex), Some("100")]
            })
            .collect();
        data(&["name", "age", "sex", "weight"], &rows)
    }

    #[test]
    fn a_release_passes_or_is_refused() {
        let d = people();
        let policy = Policy {
            withheld: vec!["name".into()],
            ..Policy::default()
        };
        // As it is: 12 uniques, and the name leaves.
        let nothing = recipe(r#"{"keys": ["age", "sex"], "weight": "weight"}"#);
        let Err(Refused::Policy(report)) = release(&d, &nothing, &policy) else {
            panic!("the raw table passed")
        };
        let failed: Vec<Rule> = report.verdict.failed().map(|c| c.rule).collect();
        assert!(failed.contains(&Rule::KAnonymity) && failed.contains(&Rule::VariableWithheld));
        assert_eq!(report.risk_before.below(3), Some(12));
        // Ages by 20 years ([20,40) ×7: f m f m f m f, [40,60) ×5: m f m f m): cells of 4 f,
        // 3 m, 2 f, 3 m; the two women of 40–59 are suppressed on sex (k0 age is named the
        // more important), matching all five of 40–59: fk 5. Weights 100: Fk = 100·fk, risks
        // small (fk 3: p/(fk − (1 − p)) with p = 0.01: 0.01/2.01 ≈ 0.5 %).
        let good = recipe(
            r#"{"keys": ["age", "sex"], "weight": "weight", "drop": ["name"], "steps": [
                {"recode": {"variable": "age", "method": "intervals", "breaks": [20, 40, 60]}},
                {"suppress": {"k": 3, "importance": ["age"]}}]}"#,
        );
        let r = release(&d, &good, &policy).unwrap();
        assert_eq!(r.columns(), ["age", "sex", "weight"]);
        assert_eq!(r.rows(), 12);
        assert_eq!(r.row(0), vec![Some("[20,40)"), Some("f"), Some("100")]);
        assert_eq!(r.row(8), vec![Some("[40,60)"), None, Some("100")]);
        assert_eq!(r.row(9), vec![Some("[40,60)"), Some("m"), Some("100")]);
        let rep = r.report();
        assert!(rep.verdict.passed);
        assert_eq!(rep.risk_after.below(3), Some(0));
        assert!(rep.risk_after.global_risk_percent < 3.0);
        assert_eq!(rep.steps.len(), 2);
        assert_eq!(rep.steps[0].risk_after.below(3), Some(2));
        assert_eq!(rep.loss.suppressed, 2);
        assert_eq!(rep.dropped, vec!["name".to_owned()]);
        // The report serialises with its stable codes.
        let json = serde_json::to_value(rep).unwrap();
        assert_eq!(json["verdict"]["checks"][0]["rule"], "k_anonymity");
        assert_eq!(json["steps"][1]["method"], "suppress");
    }

    #[test]
    fn bad_recipes_are_invalid_not_refused() {
        let d = people();
        let p = Policy::default();
        let cases = [
            (
                r#"{"keys": ["age", "village"]}"#,
                "there is no column \"village\" for the key variable of the recipe",
            ),
            (
                r#"{"keys": ["age"], "drop": ["phone"]}"#,
                "there is no column \"phone\" for the column to drop",
            ),
            (
                r#"{"keys": ["age"], "weight": "name"}"#,
                "record 2: the weight \"Achieng\" in \"name\" is not a number",
            ),
            (
                r#"{"keys": ["age"], "steps": [{"recode": {"variable": "sex", "method": "top", "at": 1}}]}"#,
                "step 1 (recode_top): there is no key variable \"sex\"",
            ),
        ];
        for (json, want) in cases {
            match release(&d, &recipe(json), &p) {
                Err(Refused::Invalid(e)) => assert!(e.to_string().starts_with(want), "{e}"),
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    /// Random tables of 1 to 4 keys and 1 to 50 records, with or without weights, and random
    /// recipes that end with a suppression to k.
    type Case = (Vec<Vec<Option<u8>>>, Option<Vec<u8>>, u32, bool, u64);

    fn cases() -> impl Strategy<Value = Case> {
        (1usize..=4, 1usize..=50, any::<bool>()).prop_flat_map(|(m, n, weighted)| {
            let cell = prop_oneof![9 => (0u8..5).prop_map(Some), 1 => Just(None)];
            let rows = proptest::collection::vec(proptest::collection::vec(cell, m), n);
            let weights = if weighted {
                proptest::collection::vec(1u8..=200, n)
                    .prop_map(Some)
                    .boxed()
            } else {
                Just(None).boxed()
            };
            (rows, weights, 2u32..=5, any::<bool>(), any::<u64>())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_released_table_satisfies_its_policy((rows, weights, k, merge, seed) in cases()) {
            let m = rows[0].len();
            let mut columns: Vec<String> = (0..m).map(|j| format!("k{j}")).collect();
            columns.push("w".into());
            let text: Vec<Vec<Option<String>>> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut v: Vec<Option<String>> = r.iter().map(|x| x.map(|x| x.to_string())).collect();
                    v.push(Some(weights.as_ref().map_or(1, |w| w[i]).to_string()));
                    v
                })
                .collect();
            let mut d = Microdata::new(columns.clone()).unwrap();
            for (i, r) in text.iter().enumerate() {
                d.push(i + 2, r.clone()).unwrap();
            }
            let keys: Vec<String> = columns[..m].to_vec();
            let mut steps = Vec::new();
            if merge {
                steps.push(serde_json::json!({"recode": {"variable": "k0", "method": "merge", "map": {"0": "1"}}}));
            }
            steps.push(serde_json::json!({"pram": {"variables": [keys[m - 1].clone()], "keep": 0.7, "seed": seed}}));
            steps.push(serde_json::json!({"suppress": {"k": k}}));
            let r: Recipe = serde_json::from_value(serde_json::json!({
                "keys": keys,
                "weight": weights.as_ref().map(|_| "w"),
                "steps": steps,
            })).unwrap();
            let policy = Policy { k, max_global_risk_percent: 40.0, ..Policy::default() };
            match release(&d, &r, &policy) {
                Ok(released) => {
                    // Re-assess the released text itself.
                    let names: Vec<&str> = keys.iter().map(String::as_str).collect();
                    let mut b = TableBuilder::new(&names, weights.as_ref().map(|_| "w"), None, &[]).unwrap();
                    for i in 0..released.rows() {
                        let row = released.row(i);
                        b.push(Row {
                            number: i + 1,
                            keys: &row[..m],
                            weight: weights.as_ref().map(|_| row[m].unwrap().parse().unwrap()),
                            household: None,
                            sensitive: &[],
                        }).unwrap();
                    }
                    let t = b.finish().unwrap();
                    let options = Options { k: vec![k], suda_max_size: None, per_record: false, ..Options::default() };
                    let a = assess(&t, &options).unwrap();
                    prop_assert_eq!(a.k_anonymity[0].records, 0);
                    prop_assert!(a.global.percent < 40.0);
                    prop_assert!(evaluate(&a, &policy, released.columns()).passed);
                    prop_assert!((a.global.percent - released.report().risk_after.global_risk_percent).abs() < 1e-9);
                }
                Err(Refused::Invalid(SdcError::Step { source, .. })) => {
                    // Only possible failure: fewer records than k.
                    let too_few = matches!(*source, SdcError::TooFewRecords { .. });
                    prop_assert!(too_few);
                    prop_assert!(rows.len() < k as usize);
                }
                Err(Refused::Policy(report)) => {
                    // A suppression to k always reaches k: only the risk may fail.
                    prop_assert_eq!(report.risk_after.below(k), Some(0));
                    prop_assert!(report.risk_after.global_risk_percent >= 40.0);
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
