//! l-diversity of sensitive variables within equivalence classes (Machanavajjhala, Kifer,
//! Gehrke and Venkitasubramaniam, *l-Diversity: Privacy Beyond k-Anonymity*, ACM TKDD 1(1),
//! 2007), computed as sdcMicro's `ldiversity()` does (src/Measure_Risk.h,
//! `compute_group_ldiversity`).

use crate::table::{KeyTable, MISSING};
use serde::Serialize;

/// The three measures for one equivalence class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassDiversity {
    /// Distinct values (a missing value counts as one more when some value is known).
    pub distinct: u32,
    /// `exp(−Σ p ln p)` over the values' shares of the class (the effective number of values).
    pub entropy: f64,
    /// The largest `l` with `r1 < c · (r_l + … + r_m)`, `r` the counts of the known values in
    /// decreasing order; 1 when one value only.
    pub recursive: u32,
}

/// Class diversity from the counts of the known values and the number of missing values.
pub fn class_diversity(counts: &[u32], missing: u32, c: f64) -> ClassDiversity {
    diversity(counts, missing, c, &mut Vec::new())
}

/// [`class_diversity`], with a buffer kept between classes.
fn diversity(counts: &[u32], missing: u32, c: f64, known: &mut Vec<u32>) -> ClassDiversity {
    known.clear();
    known.extend(counts.iter().copied().filter(|&n| n > 0));
    if known.is_empty() {
        return ClassDiversity {
            distinct: 0,
            entropy: 0.0,
            recursive: 0,
        };
    }
    let size = f64::from(known.iter().sum::<u32>() + missing);
    let mut distinct = known.len() as u32;
    let mut h = 0.0;
    for &n in known.iter() {
        let p = f64::from(n) / size;
        h -= p * p.ln();
    }
    if missing > 0 {
        distinct += 1;
        let p = f64::from(missing) / size;
        h -= p * p.ln();
    }
    let sorted = known;
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let top = f64::from(sorted[0]);
    // Largest l such that r1 < c · (r_l + … + r_m), l = 1 always holding.
    let mut tail: f64 = c * sorted[1..].iter().map(|&n| f64::from(n)).sum::<f64>();
    let mut l = 1;
    while l < sorted.len() && tail > top {
        tail -= c * f64::from(sorted[l]);
        l += 1;
    }
    ClassDiversity {
        distinct,
        entropy: h.exp(),
        recursive: l as u32,
    }
}

/// l-diversity of one sensitive variable over the table's equivalence classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LDiversity {
    pub variable: String,
    /// The constant `c` of recursive (c, l)-diversity.
    pub c: f64,
    pub classes: usize,
    /// Smallest values over the classes where the variable is known at least once.
    pub min_distinct: u32,
    pub min_entropy: f64,
    pub min_recursive: u32,
    /// Records in classes where everyone with a known value has the same one (distinct l = 1
    /// and nothing missing): their sensitive value is disclosed by their keys alone.
    pub records_in_uniform_classes: usize,
}

/// l-diversity of every sensitive variable; `class` is each record's equivalence class (dense
/// ids, `classes` of them).
pub(crate) fn l_diversity(
    table: &KeyTable,
    class: &[u32],
    classes: u32,
    c: f64,
) -> Vec<LDiversity> {
    table
        .sensitive
        .iter()
        .map(|(var, codes)| {
            // (class, value) pairs sorted, then run lengths per class.
            let pairs = sorted_pairs(class, classes, codes, var.categories.len());
            let mut out = LDiversity {
                variable: var.name.clone(),
                c,
                classes: classes as usize,
                min_distinct: u32::MAX,
                min_entropy: f64::INFINITY,
                min_recursive: u32::MAX,
                records_in_uniform_classes: 0,
            };
            let mut counts = Vec::new();
            let mut known = Vec::new();
            let mut i = 0;
            while i < pairs.len() {
                let cl = pairs[i].0;
                counts.clear();
                let mut missing = 0;
                let mut size = 0usize;
                while i < pairs.len() && pairs[i].0 == cl {
                    let v = pairs[i].1;
                    let mut n = 0;
                    while i < pairs.len() && pairs[i] == (cl, v) {
                        n += 1;
                        i += 1;
                    }
                    size += n as usize;
                    if v == MISSING {
                        missing = n;
                    } else {
                        counts.push(n);
                    }
                }
                let d = diversity(&counts, missing, c, &mut known);
                if d.distinct == 0 {
                    continue;
                }
                out.min_distinct = out.min_distinct.min(d.distinct);
                out.min_entropy = out.min_entropy.min(d.entropy);
                out.min_recursive = out.min_recursive.min(d.recursive);
                if d.distinct == 1 {
                    out.records_in_uniform_classes += size;
                }
            }
            if out.min_distinct == u32::MAX {
                // The variable is never known: nothing to disclose.
                out.min_distinct = 0;
                out.min_entropy = 0.0;
                out.min_recursive = 0;
            }
            out
        })
        .collect()
}

/// The pairs (class, value) of the records in increasing order ([`MISSING`] last), by two
/// stable counting sorts (by value, then by class): `O(n + classes + values)` instead of a
/// comparison sort.
fn sorted_pairs(class: &[u32], classes: u32, codes: &[u32], values: usize) -> Vec<(u32, u32)> {
    let digit = |v: u32| if v == MISSING { values } else { v as usize };
    let mut start = vec![0usize; values + 2];
    for &v in codes {
        start[digit(v) + 1] += 1;
    }
    for d in 1..start.len() {
        start[d] += start[d - 1];
    }
    let mut by_value = vec![0u32; codes.len()];
    for (i, &v) in (0u32..).zip(codes) {
        let d = digit(v);
        by_value[start[d]] = i;
        start[d] += 1;
    }
    let mut start = vec![0usize; classes as usize + 1];
    for &c in class {
        start[c as usize + 1] += 1;
    }
    for c in 1..start.len() {
        start[c] += start[c - 1];
    }
    let mut pairs = vec![(0u32, 0u32); class.len()];
    for &i in &by_value {
        let c = class[i as usize];
        pairs[start[c as usize]] = (c, codes[i as usize]);
        start[c as usize] += 1;
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_measures() {
        /// name, counts, missing, c, then the expected distinct, entropy and recursive.
        type Case<'a> = (&'a str, &'a [u32], u32, f64, u32, f64, u32);
        let cases: &[Case] = &[
            // name, counts, missing, c, distinct, entropy, recursive
            ("one value", &[5], 0, 2.0, 1, 1.0, 1),
            // Two equal values: entropy exp(ln 2) = 2; r1 = 3 < 2·3: l = 2.
            ("two equal", &[3, 3], 0, 2.0, 2, 2.0, 2),
            // 8, 1, 1 with c = 2: 8 < 2·(1+1)? no: l = 1. Entropy exp(−(.8 ln .8 + 2·.1 ln .1)).
            (
                "skewed",
                &[8, 1, 1],
                0,
                2.0,
                3,
                (-(0.8f64 * 0.8f64.ln() + 2.0 * 0.1 * 0.1f64.ln())).exp(),
                1,
            ),
            // 3, 2, 2 with c = 1: 3 < 2+2 → l ≥ 2; 3 < 2? no → l = 2.
            (
                "c = 1",
                &[3, 2, 2],
                0,
                1.0,
                3,
                (-(3.0f64 / 7.0 * (3.0f64 / 7.0).ln() + 2.0 * 2.0 / 7.0 * (2.0f64 / 7.0).ln()))
                    .exp(),
                2,
            ),
            // 2, 2, 2 with c = 2: 2 < 2·4 → 2; 2 < 2·2 → 3.
            ("three equal", &[2, 2, 2], 0, 2.0, 3, 3.0, 3),
            // A missing value counts as a category for distinct and entropy, not recursive.
            ("missing", &[2], 2, 2.0, 2, 2.0, 1),
            ("only missing", &[], 4, 2.0, 0, 0.0, 0),
        ];
        for (name, counts, missing, c, distinct, entropy, recursive) in cases {
            let d = class_diversity(counts, *missing, *c);
            assert_eq!(d.distinct, *distinct, "{name}");
            assert!((d.entropy - entropy).abs() < 1e-12, "{name}: {}", d.entropy);
            assert_eq!(d.recursive, *recursive, "{name}");
        }
    }

    #[test]
    fn pairs_sorted_as_a_comparison_sort_would() {
        let class = [2, 0, 1, 0, 2, 2, 1, 0];
        let codes = [1, MISSING, 0, 2, 1, 0, MISSING, 2];
        let mut want: Vec<(u32, u32)> = class.iter().copied().zip(codes).collect();
        want.sort_unstable();
        assert_eq!(sorted_pairs(&class, 3, &codes, 3), want);
    }

    /// sdcMicro's tests/testthat/test_ldiversity.R: keys sex, occupation (NA in the first
    /// three records), ethnicity; sensitive 1, 0, 2, 1, 0, 0, 1. Distinct: 3, 3, 3, 2, 2, 2, 2.
    #[test]
    fn sdcmicro_distinct() {
        let mut b =
            crate::TableBuilder::new(&["sex", "occupation", "ethnicity"], None, None, &["s"])
                .unwrap();
        let rows = [
            ("female", None, "other", "1"),
            ("female", None, "other", "0"),
            ("female", None, "other", "2"),
            ("male", Some("teacher"), "other", "1"),
            ("male", Some("teacher"), "other", "0"),
            ("female", Some("nurse"), "majority", "0"),
            ("female", Some("nurse"), "majority", "1"),
        ];
        for (i, (s, o, e, v)) in rows.iter().enumerate() {
            b.push(crate::Row {
                number: i + 1,
                keys: &[Some(s), *o, Some(e)],
                weight: None,
                household: None,
                sensitive: &[Some(v)],
            })
            .unwrap();
        }
        let t = b.finish().unwrap();
        let f = crate::freq::frequencies(&t, crate::MissingMode::Category);
        let l = l_diversity(&t, &f.cell, f.cells, 2.0);
        assert_eq!(l[0].classes, 3);
        assert_eq!(l[0].min_distinct, 2);
        assert_eq!(l[0].records_in_uniform_classes, 0);
    }
}
