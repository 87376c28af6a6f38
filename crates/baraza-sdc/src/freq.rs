//! Frequency counts: `fk`, the number of records of the sample sharing a record's key
//! combination, and `Fk`, the sum of their sampling weights (the estimated number of people in
//! the population with that combination).

use crate::hash::{fx_map, group_ids, FxMap};
use crate::table::KeyTable;
use serde::{Deserialize, Serialize};

/// What a missing key value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingMode {
    /// A missing value could be any category: a record counts in every combination it could
    /// match (sdcMicro's `freqCalc`/`measure_risk` convention, with `alpha = 1`). Two records
    /// match when they agree on every key that both have.
    #[default]
    Any,
    /// A missing value is one more category, matched only by other missing values.
    Category,
}

/// `fk` and `Fk` of every record, in the table's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Frequencies {
    pub fk: Vec<u32>,
    /// Sums of weights; equal to `fk` when the table has no weights.
    pub big_fk: Vec<f64>,
    /// The id of each record's exact key combination (a missing value being its own
    /// category), dense from 0: records with the same cell have the same `fk` and `Fk`.
    pub cell: Vec<u32>,
    pub cells: u32,
}

/// Computes `fk` and `Fk`.
///
/// *Category*: one grouping of the records by all keys, `O(n · m)` for `n` records and `m`
/// keys.
///
/// *Any*: records are first grouped into cells (distinct combinations, `C ≤ n`), and cells by
/// their pattern of missing keys (`P` patterns, usually a handful). A cell of pattern `p`
/// matches a cell of pattern `q` exactly when they are equal on the keys missing in neither,
/// `u = ¬(p ∪ q)`; so for each pair of patterns, the cells of `q` are summed by their values on
/// `u` and each cell of `p` looks its own values up. Cells are grouped on `u` once per distinct
/// `u`. Cost: `O(n · m + D · C · m + P · C)` hash operations for `D` distinct `u` (at most
/// `P²`, at most `2^m`), instead of the `O(n²)` comparison of every pair of records; with no
/// missing value at all it is the *category* computation.
pub fn frequencies(table: &KeyTable, mode: MissingMode) -> Frequencies {
    let n = table.rows();
    let m = table.width();
    let all: Vec<usize> = (0..m).collect();
    let (cell, cells) = group_ids(&table.codes, m, n, &all);
    let nc = cells as usize;
    // Per cell: count, weight, a representative row.
    let mut count = vec![0u32; nc];
    let mut weight = vec![0f64; nc];
    let mut first = vec![usize::MAX; nc];
    for (i, &c) in cell.iter().enumerate() {
        let c = c as usize;
        count[c] += 1;
        weight[c] += table.weights().map_or(1.0, |w| w[i]);
        if first[c] == usize::MAX {
            first[c] = i;
        }
    }
    let any_missing = table.missing.iter().any(|&p| p != 0);
    let (cell_fk, cell_big_fk) = if mode == MissingMode::Category || !any_missing {
        (count, weight)
    } else {
        wildcard_counts(table, &first, &count, &weight)
    };
    Frequencies {
        fk: cell.iter().map(|&c| cell_fk[c as usize]).collect(),
        big_fk: cell.iter().map(|&c| cell_big_fk[c as usize]).collect(),
        cell,
        cells,
    }
}

/// Counts of the *any* mode, per cell (see [`frequencies`]).
fn wildcard_counts(
    table: &KeyTable,
    first: &[usize],
    count: &[u32],
    weight: &[f64],
) -> (Vec<u32>, Vec<f64>) {
    let m = table.width();
    let nc = first.len();
    // The cells' codes, row-major, and their missing patterns.
    let mut codes = Vec::with_capacity(nc * m);
    let mut pattern = Vec::with_capacity(nc);
    for &r in first {
        codes.extend_from_slice(&table.codes[r * m..(r + 1) * m]);
        pattern.push(table.missing[r]);
    }
    // Cells by pattern.
    let mut by_pattern: Vec<(u64, Vec<usize>)> = Vec::new();
    {
        let mut index: FxMap<u64, usize> = fx_map(8);
        for (c, &p) in pattern.iter().enumerate() {
            let i = *index.entry(p).or_insert_with(|| {
                by_pattern.push((p, Vec::new()));
                by_pattern.len() - 1
            });
            by_pattern[i].1.push(c);
        }
    }
    // Pairs (receiving pattern, contributing pattern) by the keys they must agree on.
    let full: u64 = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
    let mut by_shared: std::collections::BTreeMap<u64, Vec<(usize, usize)>> = Default::default();
    for (pi, (p, _)) in by_pattern.iter().enumerate() {
        for (qi, (q, _)) in by_pattern.iter().enumerate() {
            by_shared.entry(full & !(p | q)).or_default().push((pi, qi));
        }
    }
    let mut fk = vec![0u32; nc];
    let mut big_fk = vec![0f64; nc];
    // Sums by group on the shared keys, cleared after each contributing pattern.
    let mut sums: Vec<(u32, f64)> = Vec::new();
    for (shared, mut pairs) in by_shared {
        let vars: Vec<usize> = (0..m).filter(|j| shared & (1 << j) != 0).collect();
        let (ids, groups) = if vars.len() == m {
            // Cells are distinct on all keys: each is its own group.
            ((0..nc as u32).collect(), nc as u32)
        } else {
            group_ids(&codes, m, nc, &vars)
        };
        sums.clear();
        sums.resize(groups as usize, (0, 0.0));
        pairs.sort_by_key(|&(p, q)| (q, p));
        let mut i = 0;
        while i < pairs.len() {
            let q = pairs[i].1;
            // Sums of the cells of pattern q by their values on the shared keys.
            for &c in &by_pattern[q].1 {
                let e = &mut sums[ids[c] as usize];
                e.0 += count[c];
                e.1 += weight[c];
            }
            while i < pairs.len() && pairs[i].1 == q {
                for &c in &by_pattern[pairs[i].0].1 {
                    let (k, w) = sums[ids[c] as usize];
                    if k > 0 {
                        fk[c] += k;
                        big_fk[c] += w;
                    }
                }
                i += 1;
            }
            for &c in &by_pattern[q].1 {
                sums[ids[c] as usize] = (0, 0.0);
            }
        }
    }
    (fk, big_fk)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::table::{Row, TableBuilder};

    pub(crate) fn table(rows: &[&[Option<&str>]], weights: Option<&[f64]>) -> KeyTable {
        let width = rows[0].len();
        let names: Vec<String> = (0..width).map(|j| format!("k{j}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut b = TableBuilder::new(&names, weights.map(|_| "w"), None, &[]).unwrap();
        for (i, r) in rows.iter().enumerate() {
            b.push(Row {
                number: i + 1,
                keys: r,
                weight: weights.map(|w| w[i]),
                household: None,
                sensitive: &[],
            })
            .unwrap();
        }
        b.finish().unwrap()
    }

    /// A table of small integer codes (`None`: missing), as property tests draw them.
    pub(crate) fn table_of_codes(rows: &[Vec<Option<u8>>]) -> KeyTable {
        let text: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| r.iter().map(|v| v.map(|v| v.to_string())).collect())
            .collect();
        let refs: Vec<Vec<Option<&str>>> = text
            .iter()
            .map(|r| r.iter().map(|v| v.as_deref()).collect())
            .collect();
        let slices: Vec<&[Option<&str>]> = refs.iter().map(Vec::as_slice).collect();
        table(&slices, None)
    }

    /// The sample of sdcMicro's `tests/testthat/test_indivRisk.R` ("with missing"): keys A, B, C,
    /// NA in A of record 8 and in C of records 3 and 7.
    pub(crate) const SDCMICRO_MISSING: [[Option<&str>; 3]; 8] = [
        [Some("2"), Some("3"), Some("1")],
        [Some("3"), Some("3"), Some("3")],
        [Some("2"), Some("3"), None],
        [Some("2"), Some("3"), Some("2")],
        [Some("3"), Some("3"), Some("1")],
        [Some("3"), Some("3"), Some("1")],
        [Some("1"), Some("4"), None],
        [None, Some("3"), Some("1")],
    ];
    pub(crate) const SDCMICRO_WEIGHTS: [f64; 8] = [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51.0];

    #[test]
    fn sdcmicro_missing_values_match_any_category() {
        let rows: Vec<&[Option<&str>]> = SDCMICRO_MISSING.iter().map(|r| &r[..]).collect();
        let t = table(&rows, Some(&SDCMICRO_WEIGHTS));
        // sdcMicro's expected 1/fk: 0.33333 1 0.25 0.5 0.33333 0.33333 1 0.2. By hand: record 1
        // (2,3,1) matches 3 (2,3,NA) and 8 (NA,3,1); record 3 matches 1, 4 and 8; record 8
        // matches 1, 3, 5 and 6.
        let f = frequencies(&t, MissingMode::Any);
        assert_eq!(f.fk, vec![3, 1, 4, 2, 3, 3, 1, 5]);
        // Fk of record 1: 18 + 39 + 51; record 8: 51 + 18 + 39 + 92 + 8.
        let want = [108.0, 45.5, 125.0, 56.0, 151.0, 151.0, 123.5, 208.0];
        for (got, want) in f.big_fk.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{:?}", f.big_fk);
        }
        // As a category, NA only matches NA: only records 5 and 6 share a combination.
        let f = frequencies(&t, MissingMode::Category);
        assert_eq!(f.fk, vec![1, 1, 1, 1, 2, 2, 1, 1]);
        assert_eq!(f.big_fk[4], 100.0);
    }

    #[test]
    fn wildcard_cases() {
        let a = Some("a");
        let b = Some("b");
        type Rows<'a> = &'a [&'a [Option<&'a str>]];
        let cases: &[(&str, Rows, &[u32])] = &[
            ("no missing", &[&[a, a], &[a, a], &[a, b]], &[2, 2, 1]),
            // All keys missing: matches everyone, and everyone matches it (sdcMicro gives n).
            (
                "all missing",
                &[&[None, None], &[a, a], &[a, b]],
                &[3, 2, 2],
            ),
            // NA against NA on the same key: no constraint on that key.
            (
                "same pattern",
                &[&[a, None], &[a, None], &[b, None]],
                &[2, 2, 1],
            ),
            // Crossed patterns: (a,NA) and (NA,b) agree where both are known (nowhere).
            ("crossed", &[&[a, None], &[None, b], &[b, b]], &[2, 3, 2]),
            ("single key", &[&[a], &[None], &[b], &[b]], &[2, 4, 3, 3]),
        ];
        for (name, rows, want) in cases {
            let t = table(rows, None);
            let f = frequencies(&t, MissingMode::Any);
            assert_eq!(&f.fk, want, "{name}");
        }
    }
}
