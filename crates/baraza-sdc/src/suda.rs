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
//! their values on the set, and each candidate record unique there whose `k` subsets of size
//! `k − 1` were all non-unique has found an MSU. The counting is done on the `C ≤ n` distinct
//! combinations of all keys (cells), each adding its number of records, with the values on the
//! set packed in one integer by mixed radix; the count is an array indexed by that integer when
//! the set has few enough combinations (always, for a few keys of up to a few dozen categories),
//! else a hash map. Cost: `O(C · Σ_{k ≤ max_size} k · C(m, k))` array or hash operations plus,
//! per candidate unique on a set, `k` bits of the previous level. A missing value is never part
//! of an MSU (as in sdcMicro, where an item with the missing code is ignored).
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
    let all: Vec<usize> = (0..table.width()).collect();
    let (cell, cells) = group_ids(&table.codes, table.width(), table.rows(), &all);
    suda_of_cells(table, &cell, cells, max_size, dis_fraction, keep_msus)
}

/// [`suda`], with each record's cell (exact combination of all keys, a missing value as a
/// category: [`Frequencies::cell`](crate::Frequencies::cell)) already known.
pub(crate) fn suda_of_cells(
    table: &KeyTable,
    cell: &[u32],
    cells: u32,
    max_size: usize,
    dis_fraction: f64,
    keep_msus: bool,
) -> SudaScores {
    let n = table.rows();
    let m = table.width();
    let max_size = max_size.min(m);
    // Sample uniques and pairs on all keys (a missing value as a category, as sdcMicro).
    let mut size = vec![0u32; cells as usize];
    for &c in cell {
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
    let mut counter = Counter::new(table, cell, &size, &candidates);
    // For the previous level: each key set's index, and which candidates are unique on it.
    let mut previous: FxMap<u64, usize> = fx_map(0);
    let mut previous_unique: Vec<Bits> = Vec::new();
    for k in 1..=max_size {
        let sets = subsets(m, k);
        let mut current_unique = Vec::with_capacity(sets.len());
        for &set in &sets {
            let unique = counter.unique_on(set, Method::Fastest);
            // Minimal: unique on none of the subsets with one key fewer. Every set of size
            // k − 1 was stored at the previous level, so the lookup cannot fail.
            let parents: Vec<&Bits> = if k == 1 {
                Vec::new()
            } else {
                (0..m)
                    .filter(|j| set & (1 << j) != 0)
                    .map(|j| &previous_unique[previous[&(set & !(1 << j))]])
                    .collect()
            };
            for ci in unique.ones() {
                if parents.iter().any(|p| p.get(ci)) {
                    continue;
                }
                let r = candidates[ci];
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
            current_unique.push(unique);
        }
        previous = sets.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        previous_unique = current_unique;
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

/// One bit per candidate.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Self {
        Bits(vec![0; len.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    /// The indices of the bits set, in increasing order.
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let b = word.trailing_zeros() as usize;
                    word &= word - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// Column-major codes in the narrowest integer that holds every key's radix: the passes of
/// SUDA over the cells are bound by memory, a byte a code moves a quarter of a `u32`.
enum Columns {
    Byte(Vec<Vec<u8>>),
    Short(Vec<Vec<u16>>),
    Word(Vec<Vec<u32>>),
}

impl Columns {
    /// `m` columns of `len` codes, `code(j, i)`, each below `widest`.
    fn new(m: usize, len: usize, widest: usize, code: impl Fn(usize, usize) -> u32) -> Self {
        fn build<T>(m: usize, len: usize, code: impl Fn(usize, usize) -> T) -> Vec<Vec<T>> {
            (0..m)
                .map(|j| (0..len).map(|i| code(j, i)).collect())
                .collect()
        }
        // The casts cannot truncate: every code is below `widest`.
        if widest <= 1 << 8 {
            Columns::Byte(build(m, len, |j, i| code(j, i) as u8))
        } else if widest <= 1 << 16 {
            Columns::Short(build(m, len, |j, i| code(j, i) as u16))
        } else {
            Columns::Word(build(m, len, code))
        }
    }

    /// Calls `f` with each index `i` and its key `Σ column[j][i] · w` over the `(j, w)` of
    /// `weights` (at most `DENSE_LIMIT`, so in 32 bits).
    fn for_each_key(&self, weights: &[(usize, u32)], f: impl FnMut(usize, u32)) {
        match self {
            Columns::Byte(c) => keys_of(c, weights, f),
            Columns::Short(c) => keys_of(c, weights, f),
            Columns::Word(c) => keys_of(c, weights, f),
        }
    }

    /// `packed[i] = packed[i] · radix + column[j][i]`.
    fn pack(&self, j: usize, radix: u64, packed: &mut [u64]) {
        fn go<T: Copy + Into<u64>>(col: &[T], radix: u64, packed: &mut [u64]) {
            for (p, &code) in packed.iter_mut().zip(col) {
                *p = *p * radix + code.into();
            }
        }
        match self {
            Columns::Byte(c) => go(&c[j], radix, packed),
            Columns::Short(c) => go(&c[j], radix, packed),
            Columns::Word(c) => go(&c[j], radix, packed),
        }
    }
}

/// [`Columns::for_each_key`], the loops for 1, 2 and 3 keys written out.
fn keys_of<T: Copy + Into<u32>>(
    columns: &[Vec<T>],
    weights: &[(usize, u32)],
    mut f: impl FnMut(usize, u32),
) {
    match *weights {
        [(a, wa)] => {
            for (i, &a) in columns[a].iter().enumerate() {
                f(i, a.into() * wa);
            }
        }
        [(a, wa), (b, wb)] => {
            for (i, (&a, &b)) in columns[a].iter().zip(&columns[b]).enumerate() {
                f(i, a.into() * wa + b.into() * wb);
            }
        }
        [(a, wa), (b, wb), (c, wc)] => {
            let abc = columns[a].iter().zip(&columns[b]).zip(&columns[c]);
            for (i, ((&a, &b), &c)) in abc.enumerate() {
                f(i, a.into() * wa + b.into() * wb + c.into() * wc);
            }
        }
        _ => {
            let first = weights.first().map_or(&[][..], |&(j, _)| &columns[j][..]);
            for (i, _) in first.iter().enumerate() {
                f(
                    i,
                    weights.iter().map(|&(j, w)| columns[j][i].into() * w).sum(),
                );
            }
        }
    }
}

/// How [`Counter::unique_on`] counts the combinations of a key set.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    /// The first of the three below that the categories allow.
    Fastest,
    /// An array indexed by the combination packed in an integer (mixed radix).
    Dense,
    /// A hash map of the packed combinations.
    Hashed,
    /// Grouping one key at a time (always possible).
    Grouped,
}

/// The most combinations [`Method::Dense`] counts in an array (of `u32`: 16 MB at most).
const DENSE_LIMIT: u64 = 1 << 22;

/// Counts, for key sets in turn, how many records share each candidate's values on the set.
///
/// The work is done on the distinct combinations of all keys (cells) rather than on records:
/// a cell's records have the same values on every set, so a cell adds its size to its
/// combination's count (saturated at 2: only "alone or not" matters).
struct Counter<'a> {
    table: &'a KeyTable,
    /// Column-major codes of the cells: `column[j][c]`, a missing value coded as the key's
    /// number of categories (one digit more), so that every set can be packed.
    column: Columns,
    /// Each cell's record count, saturated at 2.
    size: Vec<u8>,
    /// Row-major codes of the cells (for [`Method::Grouped`]).
    codes: Vec<u32>,
    /// The cell of each candidate, its missing pattern, and its codes column-major (as in
    /// `column`); the candidates with a missing key, and their pattern.
    candidate: Vec<u32>,
    pattern: Vec<u64>,
    candidate_column: Columns,
    with_missing: Vec<(usize, u64)>,
    /// Buffers kept between sets.
    packed: Vec<u64>,
    dense: Vec<u32>,
}

impl<'a> Counter<'a> {
    fn new(table: &'a KeyTable, cell: &[u32], size: &[u32], candidates: &[usize]) -> Self {
        let m = table.width();
        let cells = size.len();
        let mut codes = vec![0u32; cells * m];
        let mut seen = vec![false; cells];
        for (i, &c) in cell.iter().enumerate() {
            let c = c as usize;
            if !seen[c] {
                seen[c] = true;
                codes[c * m..(c + 1) * m].copy_from_slice(&table.codes[i * m..(i + 1) * m]);
            }
        }
        // The widest radix decides the width of the columns.
        let widest = table
            .keys
            .iter()
            .map(|k| k.categories.len() + 1)
            .max()
            .unwrap_or(1);
        let code = |c: usize, j: usize| match codes[c * m + j] {
            MISSING => table.keys[j].categories.len() as u32,
            code => code,
        };
        let column = Columns::new(m, cells, widest, |j, c| code(c, j));
        let candidate: Vec<u32> = candidates.iter().map(|&r| cell[r]).collect();
        let candidate_column = Columns::new(m, candidate.len(), widest, |j, ci| {
            code(candidate[ci] as usize, j)
        });
        let with_missing = candidates
            .iter()
            .enumerate()
            .filter(|&(_, &r)| table.missing[r] != 0)
            .map(|(ci, &r)| (ci, table.missing[r]))
            .collect();
        Counter {
            table,
            column,
            candidate_column,
            size: size.iter().map(|&s| s.min(2) as u8).collect(),
            codes,
            candidate,
            with_missing,
            pattern: candidates.iter().map(|&r| table.missing[r]).collect(),
            packed: Vec::new(),
            dense: Vec::new(),
        }
    }

    /// Which candidates are alone (among all records) with their values on `set`. A candidate
    /// with a missing value in `set` is not.
    fn unique_on(&mut self, set: u64, method: Method) -> Bits {
        let m = self.table.width();
        let cells = self.size.len();
        let vars: Vec<usize> = (0..m).filter(|j| set & (1 << j) != 0).collect();
        // Radices: the categories and one digit for a missing value.
        let product = vars.iter().try_fold(1u64, |p, &j| {
            p.checked_mul(self.table.keys[j].categories.len() as u64 + 1)
        });
        let method = match (method, product) {
            (Method::Fastest, Some(p)) if p <= DENSE_LIMIT => Method::Dense,
            (Method::Fastest, Some(_)) => Method::Hashed,
            (Method::Fastest, None) => Method::Grouped,
            // A packed method asked for where the combinations do not fit in 64 bits, or an
            // array where they are too many.
            (Method::Dense | Method::Hashed, None) => Method::Grouped,
            (Method::Dense, Some(p)) if p > DENSE_LIMIT => Method::Hashed,
            (other, _) => other,
        };
        let mut unique = Bits::new(self.candidate.len());
        // A candidate is unique when its count is 1 and none of its values on the set is
        // missing.
        let mut mark = |alone: &dyn Fn(usize) -> bool| {
            for (ci, (&c, &p)) in self.candidate.iter().zip(&self.pattern).enumerate() {
                if p & set == 0 && alone(c as usize) {
                    unique.set(ci);
                }
            }
        };
        match method {
            Method::Dense => {
                // The weight of each key's digit: the product of the radices after it. The key
                // of a cell is at most `DENSE_LIMIT`, so it fits in 32 bits.
                let mut weights: Vec<(usize, u32)> = Vec::with_capacity(vars.len());
                let mut w = 1u32;
                for &j in vars.iter().rev() {
                    weights.push((j, w));
                    w *= self.table.keys[j].categories.len() as u32 + 1;
                }
                // Four interleaved copies of the counts when they are few: consecutive cells
                // with the same key then do not wait on each other's store. Counts are at most
                // the number of records, so they fit in 32 bits.
                let keys = w as usize;
                let lane_bits = if keys <= 1 << 12 { 2 } else { 0 };
                let lane_mask = (1 << lane_bits) - 1;
                self.dense.clear();
                self.dense.resize(keys << lane_bits, 0);
                let dense = &mut self.dense;
                let size = &self.size;
                self.column.for_each_key(&weights, |c, key| {
                    dense[((key as usize) << lane_bits) | (c & lane_mask)] += u32::from(size[c]);
                });
                if lane_bits > 0 {
                    // Entry k is read before being written, and entries below k are done.
                    for k in 0..keys {
                        dense[k] = dense[k << lane_bits..(k + 1) << lane_bits].iter().sum();
                    }
                }
                let dense = &self.dense;
                self.candidate_column.for_each_key(&weights, |ci, key| {
                    if dense[key as usize] == 1 {
                        unique.set(ci);
                    }
                });
                // A missing value was counted as one more category: those candidates are not
                // unique on the set, whatever their count.
                for &(ci, p) in &self.with_missing {
                    if p & set != 0 {
                        unique.clear(ci);
                    }
                }
            }
            Method::Hashed => {
                self.packed.clear();
                self.packed.resize(cells, 0);
                for &j in &vars {
                    let radix = self.table.keys[j].categories.len() as u64 + 1;
                    self.column.pack(j, radix, &mut self.packed);
                }
                let packed = &self.packed;
                let mut count: FxMap<u64, u8> = fx_map(cells.min(1 << 16));
                for (&key, &s) in packed.iter().zip(&self.size) {
                    let d = count.entry(key).or_insert(0);
                    *d = d.saturating_add(s);
                }
                mark(&|c| count.get(&packed[c]) == Some(&1));
            }
            Method::Grouped | Method::Fastest => {
                let (ids, groups) = group_ids(&self.codes, m, cells, &vars);
                let mut count = vec![0u8; groups as usize];
                for (&g, &s) in ids.iter().zip(&self.size) {
                    let d = &mut count[g as usize];
                    *d = d.saturating_add(s);
                }
                mark(&|c| count[ids[c] as usize] == 1);
            }
        }
        unique
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
    fn dense_hashed_and_grouped_counts_agree() {
        let t = table_of(&[
            &["a", "x", "1"],
            &["a", "NA", "1"],
            &["a", "x", "2"],
            &["b", "y", "1"],
            &["b", "y", "1"],
            &["c", "NA", "3"],
        ]);
        let all: Vec<usize> = (0..3).collect();
        let (cell, cells) = group_ids(&t.codes, 3, t.rows(), &all);
        let mut size = vec![0u32; cells as usize];
        for &c in &cell {
            size[c as usize] += 1;
        }
        // Every record as a candidate, even those sharing their cell.
        let candidates: Vec<usize> = (0..t.rows()).collect();
        let mut counter = Counter::new(&t, &cell, &size, &candidates);
        let ones = |b: Bits| b.ones().collect::<Vec<_>>();
        for set in 1u64..8 {
            let dense = ones(counter.unique_on(set, Method::Dense));
            assert_eq!(
                dense,
                ones(counter.unique_on(set, Method::Hashed)),
                "set {set:b}"
            );
            assert_eq!(
                dense,
                ones(counter.unique_on(set, Method::Grouped)),
                "set {set:b}"
            );
        }
        // By hand, keys {0, 2}: (a,1) twice, (a,2) once, (b,1) twice, (c,3) once.
        assert_eq!(ones(counter.unique_on(0b101, Method::Grouped)), vec![2, 5]);
        // Key 1: x twice, y twice; the missing values are never unique.
        assert!(ones(counter.unique_on(0b010, Method::Dense)).is_empty());
    }

    /// Codes wider than a byte are kept in wider columns, with the same counts.
    #[test]
    fn wide_columns_count_the_same() {
        // 600 records: key 0 with 300 categories (each twice but the last 5 once), key 1 with 3.
        let text: Vec<[String; 2]> = (0..600usize)
            .map(|i| {
                [
                    (i % 300).min(294 + i / 300 * 5 + i % 5).to_string(),
                    (i % 3).to_string(),
                ]
            })
            .collect();
        let rows: Vec<Vec<&str>> = text
            .iter()
            .map(|r| vec![r[0].as_str(), r[1].as_str()])
            .collect();
        let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
        let t = table_of(&rows);
        assert!(t.keys[0].categories.len() > 256);
        let all = [0, 1];
        let (cell, cells) = group_ids(&t.codes, 2, t.rows(), &all);
        let mut size = vec![0u32; cells as usize];
        for &c in &cell {
            size[c as usize] += 1;
        }
        let candidates: Vec<usize> = (0..t.rows()).collect();
        let mut counter = Counter::new(&t, &cell, &size, &candidates);
        assert!(matches!(counter.column, Columns::Short(_)));
        let ones = |b: Bits| b.ones().collect::<Vec<_>>();
        for set in 1u64..4 {
            let dense = ones(counter.unique_on(set, Method::Dense));
            assert_eq!(
                dense,
                ones(counter.unique_on(set, Method::Grouped)),
                "set {set:b}"
            );
            assert_eq!(
                dense,
                ones(counter.unique_on(set, Method::Hashed)),
                "set {set:b}"
            );
        }
        assert!(!ones(counter.unique_on(0b11, Method::Dense)).is_empty());
    }

    #[test]
    fn bits_in_order() {
        let mut b = Bits::new(130);
        for i in [0, 63, 64, 129] {
            b.set(i);
        }
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 63, 64, 129]);
        assert!(b.get(64) && !b.get(65));
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
