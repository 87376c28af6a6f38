//! PRAM (post-randomisation): each value of some key variables is changed at random, by known
//! probabilities, so that an intruder can no longer trust a match while tables of the
//! variable stay close to the original.
//!
//! # What is done, exactly
//!
//! For each variable named, every value (a missing value stays missing) is drawn anew from a
//! row of a transition matrix `P`, `P[i][j]` being the probability that category `i` becomes
//! `j`:
//!
//! * [`Transition::Keep`]`(p)` (the default; `p` = 0.8 is usual): a value is kept with
//!   probability `p`; otherwise it becomes another category `j` with probability proportional
//!   to `j`'s count in the table: `P[i][j] = (1 − p) · f_j / (N − f_i)` for `j ≠ i`, `N` the
//!   non-missing values and `f` the counts. A variable with a single category is left alone.
//!   This keeps frequent categories frequent, in the spirit of sdcMicro's `pram` default, but
//!   it is *not* sdcMicro's invariant PRAM: the expected count of a category after is
//!   `p · f_j + (1 − p) · f_j · Σ_{i≠j} f_i / (N − f_i)`, equal to `f_j` when the categories
//!   are equally frequent and close to it otherwise; the matrix is not made invariant.
//! * [`Transition::Matrix`]: the caller's rows, by category label: `from → (to → probability)`,
//!   each row summing to 1 (within 1e-9) with no negative entry. A category without a row is
//!   kept; a `to` label that is not a category yet becomes one.
//!
//! # Randomness
//!
//! The crate reads no clock and no global generator: the caller gives a seed, recorded in the
//! report, and the same seed on the same table gives the same result on every machine. The
//! generator is SplitMix64 (Steele, Lea and Flood, 2014; the seeding generator of the xoshiro
//! family): one 64-bit state, good statistical quality for sampling, not cryptographic — PRAM's
//! protection comes from the published probabilities, not from secrecy of the draws. Variables
//! are drawn in the order given, records in the table's order, from one stream.
//!
//! Cost: `O(n · log c)` per variable.

use crate::error::SdcError;
use crate::recode::key_index;
use crate::table::{KeyTable, MISSING};
use serde::Serialize;
use std::collections::BTreeMap;

/// SplitMix64: a small, fast, deterministic generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// How one variable's values are redrawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// Keep with this probability, else another category in proportion to its count.
    Keep(f64),
    /// `from → (to → probability)`, rows summing to 1.
    Matrix(BTreeMap<String, BTreeMap<String, f64>>),
}

/// A variable to randomise and how.
#[derive(Debug, Clone, PartialEq)]
pub struct PramVariable {
    pub variable: String,
    pub transition: Transition,
}

/// What PRAM did to one variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PramVariableReport {
    pub variable: String,
    /// `keep` for [`Transition::Keep`], `matrix` for the caller's.
    pub transition: String,
    /// The probability of keeping a value, for `keep`.
    pub keep: Option<f64>,
    /// Values drawn (the non-missing ones).
    pub values: usize,
    /// Values that came out different.
    pub changed: usize,
}

/// What [`pram`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PramReport {
    pub seed: u64,
    pub variables: Vec<PramVariableReport>,
}

/// Randomises the named key variables; see the module's documentation. The input is not
/// changed.
pub fn pram(
    table: &KeyTable,
    variables: &[PramVariable],
    seed: u64,
) -> Result<(KeyTable, PramReport), SdcError> {
    let mut rng = SplitMix64::new(seed);
    let mut out = table.clone();
    let mut reports = Vec::with_capacity(variables.len());
    for spec in variables {
        let j = key_index(table, &spec.variable)?;
        let report = match &spec.transition {
            Transition::Keep(p) => keep(&mut out, j, *p, &mut rng)?,
            Transition::Matrix(rows) => matrix(&mut out, j, rows, &mut rng)?,
        };
        reports.push(report);
    }
    Ok((
        out,
        PramReport {
            seed,
            variables: reports,
        },
    ))
}

fn keep(
    t: &mut KeyTable,
    j: usize,
    p: f64,
    rng: &mut SplitMix64,
) -> Result<PramVariableReport, SdcError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(SdcError::PramProbability { value: p });
    }
    let m = t.width();
    let c = t.keys[j].categories.len();
    let mut count = vec![0u64; c];
    for i in 0..t.rows() {
        let v = t.codes[i * m + j];
        if v != MISSING {
            count[v as usize] += 1;
        }
    }
    let total: u64 = count.iter().sum();
    // cum[x] = values of categories before x.
    let mut cum = Vec::with_capacity(c + 1);
    let mut acc = 0u64;
    cum.push(0);
    for &f in &count {
        acc += f;
        cum.push(acc);
    }
    let mut changed = 0;
    for i in 0..t.rows() {
        let v = t.codes[i * m + j];
        if v == MISSING {
            continue;
        }
        let fi = count[v as usize];
        let others = total - fi;
        // Draw both numbers for every value, so the stream does not depend on the outcome.
        let u = rng.next_f64();
        let w = rng.next_u64();
        if u < p || others == 0 {
            continue;
        }
        // A value among the others' `others` values, uniformly: its category is drawn in
        // proportion to the counts. Skip over category v's own block.
        let mut x = w % others;
        if x >= cum[v as usize] {
            x += fi;
        }
        // The category whose block [cum[t], cum[t + 1]) holds x; empty blocks are never hit.
        let to = cum.partition_point(|&s| s <= x) - 1;
        t.codes[i * m + j] = to as u32;
        changed += 1;
    }
    Ok(PramVariableReport {
        variable: t.keys[j].name.clone(),
        transition: "keep".into(),
        keep: Some(p),
        values: total as usize,
        changed,
    })
}

fn matrix(
    t: &mut KeyTable,
    j: usize,
    rows: &BTreeMap<String, BTreeMap<String, f64>>,
    rng: &mut SplitMix64,
) -> Result<PramVariableReport, SdcError> {
    let name = t.keys[j].name.clone();
    for (from, row) in rows {
        let sum: f64 = row.values().sum();
        if row.values().any(|q| q.is_nan() || *q < 0.0) || (sum - 1.0).abs() > 1e-9 {
            return Err(SdcError::PramMatrix {
                variable: name,
                category: from.clone(),
                sum,
            });
        }
    }
    // New labels become categories.
    let mut index: BTreeMap<String, u32> = t.keys[j]
        .categories
        .iter()
        .enumerate()
        .map(|(c, l)| (l.clone(), c as u32))
        .collect();
    // Per category code: cumulative probabilities and target codes.
    let mut table_rows: Vec<Option<(Vec<f64>, Vec<u32>)>> = Vec::new();
    let old = t.keys[j].categories.clone();
    for label in &old {
        let Some(row) = rows.get(label) else {
            table_rows.push(None);
            continue;
        };
        let mut cum = Vec::with_capacity(row.len());
        let mut to = Vec::with_capacity(row.len());
        let mut acc = 0.0;
        for (target, &q) in row {
            acc += q;
            cum.push(acc);
            let next = t.keys[j].categories.len() as u32;
            let code = *index.entry(target.clone()).or_insert_with(|| {
                t.keys[j].categories.push(target.clone());
                next
            });
            to.push(code);
        }
        table_rows.push(Some((cum, to)));
    }
    let m = t.width();
    let (mut values, mut changed) = (0, 0);
    for i in 0..t.rows() {
        let v = t.codes[i * m + j];
        if v == MISSING {
            continue;
        }
        values += 1;
        let u = rng.next_f64();
        let Some((cum, to)) = &table_rows[v as usize] else {
            continue;
        };
        // Rounding may leave the last cumulative a hair under 1: fall back to the last.
        let pick = cum.partition_point(|&c| c <= u).min(to.len() - 1);
        if to[pick] != v {
            t.codes[i * m + j] = to[pick];
            changed += 1;
        }
    }
    Ok(PramVariableReport {
        variable: name,
        transition: "matrix".into(),
        keep: None,
        values,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::table;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs for seed 1234567 of the reference C implementation (Vigna).
        let mut r = SplitMix64::new(1_234_567);
        let want = [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for w in want {
            assert_eq!(r.next_u64(), w);
        }
        let x = r.next_f64();
        assert!((0.0..1.0).contains(&x));
    }

    fn column(t: &KeyTable) -> Vec<Option<&str>> {
        (0..t.rows()).map(|i| t.value(i, 0)).collect()
    }

    #[test]
    fn cases() {
        let (a, b, c) = (Some("a"), Some("b"), Some("c"));
        let keep = |p| Transition::Keep(p);
        let rows_of = |pairs: &[(&str, &[(&str, f64)])]| {
            Transition::Matrix(
                pairs
                    .iter()
                    .map(|(f, row)| {
                        (
                            (*f).to_owned(),
                            row.iter().map(|(t, q)| ((*t).to_owned(), *q)).collect(),
                        )
                    })
                    .collect(),
            )
        };
        // (name, values, transition, expected values, changed)
        type Case<'a> = (
            &'a str,
            Vec<Option<&'a str>>,
            Transition,
            Vec<Option<&'a str>>,
            usize,
        );
        let cases: Vec<Case> = vec![
            (
                "p = 1 keeps all",
                vec![a, b, None, c],
                keep(1.0),
                vec![a, b, None, c],
                0,
            ),
            // p = 0 with two categories: the other one has probability 1.
            (
                "p = 0 swaps two categories",
                vec![a, b, b, None],
                keep(0.0),
                vec![b, a, a, None],
                3,
            ),
            (
                "a single category stays",
                vec![a, a, None],
                keep(0.0),
                vec![a, a, None],
                0,
            ),
            (
                "a matrix sending a to c surely, b kept (no row)",
                vec![a, b, a],
                rows_of(&[("a", &[("c", 1.0)])]),
                vec![c, b, c],
                2,
            ),
            (
                "a matrix to a new label",
                vec![a, None],
                rows_of(&[("a", &[("z", 1.0)])]),
                vec![Some("z"), None],
                1,
            ),
        ];
        for (name, values, transition, want, changed) in cases {
            let rows: Vec<Vec<Option<&str>>> = values.iter().map(|v| vec![*v]).collect();
            let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
            let t = table(&rows, None);
            let spec = [PramVariable {
                variable: "k0".into(),
                transition,
            }];
            let (out, report) = pram(&t, &spec, 7).unwrap();
            assert_eq!(column(&out), want, "{name}");
            assert_eq!(report.variables[0].changed, changed, "{name}");
            assert_eq!(column(&t), values, "{name}: input changed");
        }
    }

    #[test]
    fn seeded_and_near_p() {
        // 10,000 values of 4 categories, p = 0.8: about 2,000 change (binomial, sd 40).
        let labels = ["a", "b", "c", "d"];
        let rows: Vec<[Option<&str>; 1]> = (0..10_000).map(|i| [Some(labels[i % 4])]).collect();
        let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let t = table(&rows, None);
        let spec = [PramVariable {
            variable: "k0".into(),
            transition: Transition::Keep(0.8),
        }];
        let (one, r1) = pram(&t, &spec, 42).unwrap();
        let (two, r2) = pram(&t, &spec, 42).unwrap();
        let (three, _) = pram(&t, &spec, 43).unwrap();
        assert_eq!(r1, r2);
        assert_eq!(one.codes, two.codes);
        assert_ne!(one.codes, three.codes);
        let changed = r1.variables[0].changed;
        assert!((1_800..=2_200).contains(&changed), "{changed}");
        let loss = crate::loss::compare(&t, &one).unwrap();
        assert_eq!(loss.changed, changed);
        assert_eq!(loss.suppressed, 0);
    }

    #[test]
    fn errors() {
        let t = table(&[&[Some("a")]], None);
        let run = |transition| {
            pram(
                &t,
                &[PramVariable {
                    variable: "k0".into(),
                    transition,
                }],
                1,
            )
            .unwrap_err()
        };
        assert_eq!(
            run(Transition::Keep(1.5)),
            SdcError::PramProbability { value: 1.5 }
        );
        let bad: BTreeMap<String, BTreeMap<String, f64>> = [(
            "a".to_owned(),
            [("b".to_owned(), 0.5)].into_iter().collect(),
        )]
        .into_iter()
        .collect();
        assert_eq!(
            run(Transition::Matrix(bad)),
            SdcError::PramMatrix {
                variable: "k0".into(),
                category: "a".into(),
                sum: 0.5
            }
        );
        let e = pram(
            &t,
            &[PramVariable {
                variable: "age".into(),
                transition: Transition::Keep(0.8),
            }],
            1,
        )
        .unwrap_err();
        assert_eq!(
            e,
            SdcError::UnknownVariable {
                variable: "age".into()
            }
        );
    }
}
