//! SUDA: special uniques, their minimal sample uniques (MSUs), SUDA and DIS-SUDA scores.
//!
//! References: M. J. Elliot, A. M. Manning and R. W. Ford, *A computational algorithm for
//! handling the special uniques problem*, IJUFKS 10(5), 2002 (SUDA); A. M. Manning, D. J. Haglin
//! and J. A. Keane, *A recursive search algorithm for statistical disclosure assessment*, Data
//! Min Knowl Disc 16:165–196, 2008 (SUDA2); M. J. Elliot, *DIS: a new approach to the
//! measurement of statistical disclosure risk*, Risk Management 2(4), 2000; and sdcMicro's
//! implementation (R/suda2.R, src/Suda2.h) for the scores.
//!
//! **Definitions.** A record is a *sample unique* on a set of keys `S` when no other record has
//! its values on `S`. `S` is a *minimal sample unique* (MSU) of the record when it is unique on
//! `S` and on no proper subset of `S`. A record with an MSU smaller than the whole key set is a
//! *special unique*: an intruder needs to know fewer of its attributes to single it out.
//!
//! **Search.** SUDA2 finds every MSU of size at most `max_size` by a depth-first recursive
//! partition of the records. This module finds the same set level by level, using the two
//! properties SUDA2 rests on:
//!
//! 1. uniqueness is monotone: a record unique on `T` is unique on every superset of `T`, so
//!    only records unique on all keys can have an MSU, and
//! 2. `S` is minimal as soon as the record is unique on none of the `|S|` subsets of `S` with
//!    one key fewer (any smaller unique subset would be inside one of them).
//!
//! For each size `k ≤ max_size` and each of the `C(m, k)` key sets, the records are counted by
//! their values on the set (one hash operation per record, the values packed in an integer),
//! and each candidate record unique there whose `k` subsets of size `k − 1` were all
//! non-unique has found an MSU. Cost: `O(n · Σ_{k ≤ max_size} C(m, k))` hash operations plus,
//! per candidate, one bit per key set of the previous level. A missing value is never part of
//! an MSU (as in sdcMicro, where an item with the missing code is ignored).
//!
//! **Scores** (sdcMicro's `suda2(original_scores = TRUE)`, Elliot et al.): an MSU of size `k`
//! among `m` keys weighs `(m − k)!`; a record's SUDA score is the sum over its MSUs. With
//! `max_size < m`, MSUs larger than `max_size` are not searched and do not count.
//!
//! **DIS-SUDA** (as src/Suda2.h): with `U` the sample uniques on all keys, `P` the records
//! sharing their combination with exactly one other, and `f` the sampling fraction,
//! `dis = U f / (U f + P (1 − f))`; with `Q = 1 + (8 − m)/20` and `A = Σ score^−Q` over the
//! records with a score, a record's DIS-SUDA score is
//! `1 / (1 + (U/dis − U) / (score^Q · A))`, and 0 without a score. sdcMicro counts `U` only
//! among records alone in their 16-bit hash bucket (its test `k == g_NbPerHash[i]` can never
//! hold); here every sample unique counts.

use crate::hash::{fx_map, group_ids, FxMap};
use crate::table::{KeyTable, MISSING};
use serde::Serialize;

/// The summary of a SUDA run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suda {
    pub max_size: usize,
    pub dis_fraction: f64,
    /// Records unique on all keys (`U`).
    pub sample_uniques: usize,
    /// Records whose combination is shared with exactly one other (`P`).
    pub records_in_pairs: usize,
    /// Records with at least one MSU of size at most `max_size` (a SUDA score above 0).
    pub special_uniques: usize,
    /// MSUs found, by size: `msus_by_size[0]` counts MSUs of one key.
    pub msus_by_size: Vec<usize>,
    /// Share (percent) of the total SUDA score carried by MSUs holding each key, in the order
    /// of the keys (sdcMicro's `attribute_contributions`).
    pub contributions: Vec<KeyContribution>,
    pub max_score: f64,
    pub max_dis_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyContribution {
    pub variable: String,
    pub percent: f64,
}

/// SUDA scores per record and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SudaScores {
    pub summary: Suda,
    pub score: Vec<f64>,
    pub dis_score: Vec<f64>,
    /// Each record's MSUs (bit `j` for key `j`), when asked for.
    pub msus: Vec<Vec<u64>>,
}

/// Runs SUDA; `keep_msus` keeps each record's MSUs (for tests and reports of few records).
pub fn suda(table: &KeyTable, max_size: usize, dis_fraction: f64, keep_msus: bool) -> SudaScores {
    let n = table.rows();
    let m = table.width();
    let max_size = max_size.min(m);
    // Sample uniques and pairs on all keys (a missing value as a category, as sdcMicro).
    let all: Vec<usize> = (0..m).collect();
    let (cell, cells) = group_ids(&table.codes, m, n, &all);
    let mut size = vec![0u32; cells as usize];
    for &c in &cell {
        size[c as usize] += 1;
    }
    let candidates: Vec<usize> = (0..n).filter(|&i| size[cell[i] as usize] == 1).collect();
    let uniques = candidates.len();
    let pairs = cell.iter().filter(|&&c| size[c as usize] == 2).count();

    let fact = |k: usize| -> f64 { (1..=k).map(|i| i as f64).product() };
    let weight: Vec<f64> = (0..=m).map(|k| fact(m.saturating_sub(k))).collect();

    let mut score = vec![0f64; n];
    let mut msus_by_size = vec![0usize; max_size];
    let mut per_key = vec![0f64; m];
    let mut msus: Vec<Vec<u64>> = if keep_msus {
        vec![Vec::new(); n]
    } else {
        Vec::new()
    };
    // Unique[set] for each candidate, for the previous level.
    let mut previous: FxMap<u64, Vec<bool>> = fx_map(0);
    for k in 1..=max_size {
        let mut current: FxMap<u64, Vec<bool>> = fx_map(0);
        for set in subsets(m, k) {
            let unique = unique_on(table, set, &candidates);
            for (ci, &r) in candidates.iter().enumerate() {
                if !unique[ci] {
                    continue;
                }
                // Minimal: unique on none of the subsets with one key fewer. Every set of size
                // k − 1 was stored at the previous level, so the lookup cannot fail.
                let minimal = k == 1
                    || (0..m)
                        .filter(|j| set & (1 << j) != 0)
                        .all(|j| !previous[&(set & !(1 << j))][ci]);
                if minimal {
                    score[r] += weight[k];
                    msus_by_size[k - 1] += 1;
                    for (j, c) in per_key.iter_mut().enumerate() {
                        if set & (1 << j) != 0 {
                            *c += weight[k];
                        }
                    }
                    if keep_msus {
                        msus[r].push(set);
                    }
                }
            }
            current.insert(set, unique);
        }
        previous = current;
    }

    // DIS-SUDA.
    let dis_score = dis(&score, uniques, pairs, dis_fraction, m);
    let total: f64 = score.iter().sum();
    let summary = Suda {
        max_size,
        dis_fraction,
        sample_uniques: uniques,
        records_in_pairs: pairs,
        special_uniques: score.iter().filter(|&&s| s > 0.0).count(),
        msus_by_size,
        contributions: table
            .keys
            .iter()
            .zip(&per_key)
            .map(|(v, c)| KeyContribution {
                variable: v.name.clone(),
                percent: if total > 0.0 { 100.0 * c / total } else { 0.0 },
            })
            .collect(),
        max_score: score.iter().copied().fold(0.0, f64::max),
        max_dis_score: dis_score.iter().copied().fold(0.0, f64::max),
    };
    SudaScores {
        summary,
        score,
        dis_score,
        msus,
    }
}

fn dis(score: &[f64], uniques: usize, pairs: usize, f: f64, m: usize) -> Vec<f64> {
    let u = uniques as f64;
    let d = u * f / (u * f + pairs as f64 * (1.0 - f));
    let q = 1.0 + (8.0 - m as f64) / 20.0;
    let adj: f64 = score
        .iter()
        .filter(|&&s| s > 0.0)
        .map(|s| 1.0 / s.powf(q))
        .sum();
    score
        .iter()
        .map(|&s| {
            if s > 0.0 && d > 0.0 {
                1.0 / (1.0 + (u / d - u) / (s.powf(q) * adj))
            } else {
                0.0
            }
        })
        .collect()
}

/// The key sets of size `k` among `m` keys, as bit masks, in increasing order.
fn subsets(m: usize, k: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    if k == 0 || k > m {
        return out;
    }
    loop {
        out.push(idx.iter().fold(0u64, |acc, &j| acc | (1 << j)));
        // Next combination.
        let mut i = k;
        while i > 0 && idx[i - 1] == m - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return out;
        }
        idx[i - 1] += 1;
        for t in i..k {
            idx[t] = idx[t - 1] + 1;
        }
    }
}

/// For each candidate: is it alone (among all records) with its values on `set`? A candidate
/// with a missing value in `set` is not.
fn unique_on(table: &KeyTable, set: u64, candidates: &[usize]) -> Vec<bool> {
    unique_on_with(table, set, candidates, true)
}

/// [`unique_on`], packing the values in an integer only when `pack` (and the categories allow).
fn unique_on_with(table: &KeyTable, set: u64, candidates: &[usize], pack: bool) -> Vec<bool> {
    let m = table.width();
    let n = table.rows();
    let vars: Vec<usize> = (0..m).filter(|j| set & (1 << j) != 0).collect();
    // Pack the values in a u128 when the categories allow (always for up to 4 keys).
    let radix: Option<Vec<u128>> = vars
        .iter()
        .map(|&j| table.keys[j].categories.len().max(1) as u128)
        .try_fold((Vec::new(), 1u128), |(mut acc, prod), card| {
            acc.push(prod);
            prod.checked_mul(card).map(|p| (acc, p))
        })
        .map(|(acc, _)| acc)
        .filter(|_| pack);
    let key = |r: usize, radix: &[u128]| -> u128 {
        vars.iter()
            .zip(radix)
            .map(|(&j, &w)| u128::from(table.code(r, j)) * w)
            .sum()
    };
    match radix {
        Some(radix) => {
            let mut count: FxMap<u128, u32> = fx_map(n.min(1 << 16));
            for r in 0..n {
                if table.missing[r] & set == 0 {
                    *count.entry(key(r, &radix)).or_insert(0) += 1;
                }
            }
            // A candidate without a missing value in `set` was counted above: the lookup after
            // the `&&` cannot fail.
            candidates
                .iter()
                .map(|&r| table.missing[r] & set == 0 && count[&key(r, &radix)] == 1)
                .collect()
        }
        None => {
            let (ids, groups) = group_ids(&table.codes, m, n, &vars);
            let mut count = vec![0u32; groups as usize];
            for &g in &ids {
                count[g as usize] += 1;
            }
            candidates
                .iter()
                .map(|&r| {
                    vars.iter().all(|&j| table.code(r, j) != MISSING) && count[ids[r] as usize] == 1
                })
                .collect()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::table::{KeyTable, Row, TableBuilder};

    pub(crate) fn table_of(rows: &[&[&str]]) -> KeyTable {
        let names: Vec<String> = (0..rows[0].len()).map(|j| format!("k{j}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut b = TableBuilder::new(&names, None, None, &[]).unwrap();
        for (i, r) in rows.iter().enumerate() {
            let keys: Vec<Option<&str>> = r.iter().map(|v| (*v != "NA").then_some(*v)).collect();
            b.push(Row {
                number: i + 1,
                keys: &keys,
                weight: None,
                household: None,
                sensitive: &[],
            })
            .unwrap();
        }
        b.finish().unwrap()
    }

    #[test]
    fn packed_and_grouped_counts_agree() {
        let t = table_of(&[
            &["a", "x", "1"],
            &["a", "NA", "1"],
            &["a", "x", "2"],
            &["b", "y", "1"],
            &["b", "y", "1"],
        ]);
        let candidates: Vec<usize> = (0..5).collect();
        for set in 1u64..8 {
            let packed = unique_on_with(&t, set, &candidates, true);
            assert_eq!(
                packed,
                unique_on_with(&t, set, &candidates, false),
                "set {set:b}"
            );
        }
        // By hand, keys {0, 2}: (a,1) twice, (a,2) once, (b,1) twice.
        assert_eq!(
            unique_on_with(&t, 0b101, &candidates, false),
            vec![false, false, true, false, false]
        );
    }

    #[test]
    fn subsets_in_order() {
        assert_eq!(subsets(3, 2), vec![0b011, 0b101, 0b110]);
        assert_eq!(subsets(4, 1).len(), 4);
        assert_eq!(subsets(5, 3).len(), 10);
        assert_eq!(subsets(2, 3), Vec::<u64>::new());
    }

    /// sdcMicro's tests/testthat/test_suda2.R, with the expected scores there.
    #[test]
    fn sdcmicro_scores() {
        let book: &[&[&str]] = &[
            &["20s", "male", "50k+", "highschool"],
            &["20s", "male", "50k+", "highschool"],
            &["20s", "male", "50k-", "highschool"],
            &["20s", "male", "50k-", "highschool"],
            &["20s", "female", "50k-", "university"],
            &["20s", "female", "50k-", "highschool"],
            &["20s", "female", "50k-", "middleschool"],
            &["60s", "male", "50k-", "university"],
        ];
        let guideline: &[&[&str]] = &[
            &["Urban", "Female", "Secondary incomplete", "Employed"],
            &["Urban", "Female", "Secondary incomplete", "Employed"],
            &["Urban", "Female", "Primary incomplete", "Non-LF"],
            &["Urban", "Male", "Secondary complete", "Employed"],
            &["Rural", "Female", "Secondary complete", "Unemployed"],
            &["Urban", "Male", "Secondary complete", "Employed"],
            &["Urban", "Female", "Primary complete", "Non-LF"],
            &["Urban", "Male", "Post-secondary", "Unemployed"],
            &["Urban", "Female", "Secondary incomplete", "Non-LF"],
            &["Urban", "Female", "Secondary incomplete", "Non-LF"],
        ];
        let small: &[&[&str]] = &[&["2", "0", "0"], &["1", "3", "6"], &["1", "0", "0"]];
        type Rows<'a> = &'a [&'a [&'a str]];
        let cases: &[(&str, Rows, &[f64])] = &[
            // "suda2 book example": scores of records 5 to 8 are 4, 2, 6, 8.
            ("book", book, &[0.0, 0.0, 0.0, 0.0, 4.0, 2.0, 6.0, 8.0]),
            (
                "guideline",
                guideline,
                &[0.0, 0.0, 6.0, 0.0, 12.0, 0.0, 6.0, 10.0, 0.0, 0.0],
            ),
            // "simple example contribution": MSUs {a} of 1 (2! = 2), {b} and {c} of 2, {a,b}
            // and {a,c} of 3 (1! each).
            ("small", small, &[2.0, 4.0, 2.0]),
        ];
        for (name, rows, want) in cases {
            let t = table_of(rows);
            let s = suda(&t, 4, 0.01, false);
            assert_eq!(&s.score, want, "{name}");
        }
        // Contributions of the small example: 50, 37.5, 37.5 percent.
        let s = suda(&table_of(small), 3, 0.01, false);
        let pct: Vec<f64> = s.summary.contributions.iter().map(|c| c.percent).collect();
        assert_eq!(pct, vec![50.0, 37.5, 37.5]);
        assert_eq!(s.summary.msus_by_size, vec![3, 2, 0]);
    }

    #[test]
    fn max_size_limits_the_search() {
        // Record 3 (1,0,0) has only MSUs of size 2: with max size 1 it is no special unique.
        let t = table_of(&[&["2", "0", "0"], &["1", "3", "6"], &["1", "0", "0"]]);
        let s = suda(&t, 1, 0.01, true);
        assert_eq!(s.score, vec![2.0, 4.0, 0.0]);
        assert_eq!(s.summary.special_uniques, 2);
        assert_eq!(s.msus[1], vec![0b010, 0b100]);
    }

    #[test]
    fn missing_values_are_never_in_an_msu() {
        // Record 2's only distinguishing value is missing.
        let t = table_of(&[&["a", "x"], &["a", "NA"], &["a", "x"], &["b", "y"]]);
        let s = suda(&t, 2, 0.01, true);
        assert!(s.msus[1].is_empty());
        assert_eq!(s.msus[3], vec![0b01, 0b10]);
    }

    #[test]
    fn dis_suda_by_hand() {
        // 3 keys, scores 2 and 4 (the small example), U = 3 uniques, P = 0 pairs: dis = 1,
        // U/dis − U = 0, every record with a score gets 1.
        let s = suda(
            &table_of(&[&["2", "0", "0"], &["1", "3", "6"], &["1", "0", "0"]]),
            3,
            0.1,
            false,
        );
        assert_eq!(s.dis_score, vec![1.0, 1.0, 1.0]);
        // One unique with two MSUs of one key, each weighing (2 − 1)! = 1: score 2; one pair;
        // m = 2, f = 0.5: dis = 0.5/(0.5 + 2·0.5) = 1/3; Q = 1.3; A = 2^−1.3;
        // DIS = 1/(1 + (3 − 1)/(2^1.3 · 2^−1.3)) = 1/3.
        let s = suda(
            &table_of(&[&["a", "x"], &["a", "x"], &["b", "y"]]),
            2,
            0.5,
            false,
        );
        assert_eq!(s.score, vec![0.0, 0.0, 2.0]);
        assert!(
            (s.dis_score[2] - 1.0 / 3.0).abs() < 1e-12,
            "{:?}",
            s.dis_score
        );
    }
}
