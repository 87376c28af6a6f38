//! Microaggregation of numeric variables by MDAV (maximum distance to average vector).
//!
//! # The method
//!
//! Records are put in groups of at least `k` similar records and every value is replaced by
//! its group's mean, so no record's numbers are its own any more; the means of the variables
//! are kept exactly. MDAV is the heuristic of Domingo-Ferrer and Mateo-Sanz (2002), the
//! default of sdcMicro's `microaggregation(method = "mdav")`:
//!
//! 1. every variable is standardised (minus its mean, divided by its standard deviation; a
//!    constant variable is only centred), so that distances weigh variables alike;
//! 2. while at least `3k` records are left: take the centroid of the records left, the record
//!    `r` farthest from it, and group `r` with its `k - 1` nearest records; then the record `s`
//!    farthest from `r` among those left, grouped with its `k - 1` nearest;
//! 3. when `2k` to `3k - 1` records are left: one more group of `k` around the record farthest
//!    from the centroid, and the rest (`k` to `2k - 1` records) form the last group;
//!    when fewer than `2k` are left, they form the last group.
//!
//! Distances are Euclidean on the standardised values; ties go to the record given first, so
//! the result is deterministic.
//!
//! # The loss
//!
//! `SSE/SST`: the sum of squared distances of the (standardised) records to their group's mean,
//! over the sum of squared distances to the overall mean; 0 % when nothing changed, 100 % when
//! every record was replaced by the overall mean. It is the information loss measure of
//! Domingo-Ferrer and Mateo-Sanz.
//!
//! # Cost
//!
//! `O(n² · p / k)` for `n` records and `p` variables: each group costs one pass over the records
//! left. Quadratic, as MDAV is everywhere: fine for the numeric variables of a survey (thousands
//! to tens of thousands of records); not yet measured beyond.

use crate::error::SdcError;
use serde::Serialize;

/// What microaggregation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MdavReport {
    pub k: usize,
    pub records: usize,
    pub variables: usize,
    pub groups: usize,
    /// Within-group sum of squares, of the standardised values.
    pub sse: f64,
    /// Total sum of squares, of the standardised values.
    pub sst: f64,
    /// `100 · SSE / SST` (0 when SST is 0: all records alike).
    pub information_loss_percent: f64,
}

/// The microaggregated records and their groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Microaggregation {
    /// Each value replaced by its group's mean, records in the input's order.
    pub data: Vec<Vec<f64>>,
    /// The group of each record, numbered in the order the groups were made.
    pub group: Vec<usize>,
    pub report: MdavReport,
}

/// Microaggregates `records` (each a vector of the same `p` numeric variables) in groups of at
/// least `k ≥ 2` records by MDAV; see the module's documentation.
pub fn mdav(records: &[Vec<f64>], k: usize) -> Result<Microaggregation, SdcError> {
    let n = records.len();
    if k < 2 || n < k {
        return Err(SdcError::GroupSize { k, records: n });
    }
    let p = records[0].len();
    for (i, r) in records.iter().enumerate() {
        if r.len() != p {
            return Err(SdcError::RecordWidth {
                row: i + 1,
                expected: p,
                got: r.len(),
            });
        }
        if let Some((j, &v)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SdcError::NotFinite {
                row: i + 1,
                variable: j + 1,
                value: v,
            });
        }
    }
    // Standardised values, row-major.
    let mut z = vec![0f64; n * p];
    for j in 0..p {
        let mean = records.iter().map(|r| r[j]).sum::<f64>() / n as f64;
        let var = records.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n as f64;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for (i, r) in records.iter().enumerate() {
            z[i * p + j] = (r[j] - mean) / sd;
        }
    }
    let row = |i: usize| &z[i * p..(i + 1) * p];
    let dist =
        |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum() };

    let mut left: Vec<usize> = (0..n).collect();
    let mut group = vec![usize::MAX; n];
    let mut groups = 0;
    // The farthest of `left` from `point` (first one on ties).
    let farthest = |left: &[usize], point: &[f64]| -> usize {
        // Starting from the first record keeps a valid index even if every distance were NaN
        // (numbers near f64::MAX overflow when standardised); `left` is never empty here.
        let mut best = (f64::NEG_INFINITY, left[0]);
        for &i in left {
            let d = dist(row(i), point);
            if d > best.0 {
                best = (d, i);
            }
        }
        best.1
    };
    // Removes from `left` the record `r` and its k - 1 nearest, as group `g`.
    let take = |left: &mut Vec<usize>, r: usize, g: usize, group: &mut Vec<usize>| {
        let centre = row(r).to_vec();
        let mut by_distance: Vec<(f64, usize)> =
            left.iter().map(|&i| (dist(row(i), &centre), i)).collect();
        // The record itself is at distance 0 and comes first among equals by index only if
        // it is the lowest; put it first explicitly.
        let key = |&(d, i): &(f64, usize)| (i != r, d, i);
        if by_distance.len() > k {
            by_distance.select_nth_unstable_by(k - 1, |a, b| {
                let (a, b) = (key(a), key(b));
                a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
            });
        }
        for &(_, i) in by_distance.iter().take(k) {
            group[i] = g;
        }
        left.retain(|&i| group[i] == usize::MAX);
    };
    let centroid = |left: &[usize]| -> Vec<f64> {
        let mut c = vec![0f64; p];
        for &i in left {
            for (cj, v) in c.iter_mut().zip(row(i)) {
                *cj += v;
            }
        }
        for cj in &mut c {
            *cj /= left.len() as f64;
        }
        c
    };
    while left.len() >= 3 * k {
        let r = farthest(&left, &centroid(&left));
        take(&mut left, r, groups, &mut group);
        groups += 1;
        let s = farthest(&left, row(r));
        take(&mut left, s, groups, &mut group);
        groups += 1;
    }
    if left.len() >= 2 * k {
        let r = farthest(&left, &centroid(&left));
        take(&mut left, r, groups, &mut group);
        groups += 1;
    }
    if !left.is_empty() {
        for &i in &left {
            group[i] = groups;
        }
        groups += 1;
    }

    // Group means, on both scales.
    let mut size = vec![0usize; groups];
    let mut sum = vec![0f64; groups * p];
    let mut zsum = vec![0f64; groups * p];
    for (i, &g) in group.iter().enumerate() {
        size[g] += 1;
        for j in 0..p {
            sum[g * p + j] += records[i][j];
            zsum[g * p + j] += z[i * p + j];
        }
    }
    let mut sse = 0.0;
    let mut sst = 0.0;
    let data = group
        .iter()
        .enumerate()
        .map(|(i, &g)| {
            (0..p)
                .map(|j| {
                    let zmean = zsum[g * p + j] / size[g] as f64;
                    sse += (z[i * p + j] - zmean).powi(2);
                    // Standardised values have mean 0.
                    sst += z[i * p + j].powi(2);
                    sum[g * p + j] / size[g] as f64
                })
                .collect()
        })
        .collect();
    Ok(Microaggregation {
        data,
        group,
        report: MdavReport {
            k,
            records: n,
            variables: p,
            groups,
            sse,
            sst,
            information_loss_percent: if sst > 0.0 { 100.0 * sse / sst } else { 0.0 },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column(values: &[f64]) -> Vec<Vec<f64>> {
        values.iter().map(|&v| vec![v]).collect()
    }

    #[test]
    fn hand_computed() {
        // (name, values, k, expected means, expected groups, IL %)
        type Case<'a> = (&'a str, Vec<f64>, usize, Vec<f64>, Vec<usize>, f64);
        let cases: Vec<Case> = vec![
            // 6 records, k = 3: fewer than 3k, at least 2k. Centroid 6.5; 1 and 12 are both
            // 5.5 away, the first (1) wins: {1, 2, 3}, then the rest {10, 11, 12}. Means 2
            // and 11. SSE = 1 + 0 + 1 + 1 + 0 + 1 = 4; SST = 2 · (5.5² + 4.5² + 3.5²) = 125.5;
            // IL = 4 / 125.5 = 3.187 %. One variable: standardising does not change the ratio.
            (
                "two groups",
                vec![1.0, 2.0, 3.0, 10.0, 11.0, 12.0],
                3,
                vec![2.0, 2.0, 2.0, 11.0, 11.0, 11.0],
                vec![0, 0, 0, 1, 1, 1],
                400.0 / 125.5,
            ),
            // 7 records, k = 3: centroid 115/7 = 16.43, farthest 100 with 5 and 4: mean
            // 109/3; the last 4 records {0, 1, 2, 3}: mean 1.5. SSE = (2·1.5² + 2·0.5²) +
            // (16 + 25 + 10000 − 109²/3) = 5 + 18242/3; SST = Σx² − (Σx)²/7 = 10055 − 115²/7.
            (
                "an outlier and a last group of 4",
                vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 100.0],
                3,
                vec![1.5, 1.5, 1.5, 1.5, 109.0 / 3.0, 109.0 / 3.0, 109.0 / 3.0],
                vec![1, 1, 1, 1, 0, 0, 0],
                100.0 * (5.0 + 18242.0 / 3.0) / (10055.0 - 115.0 * 115.0 / 7.0),
            ),
            // 10 records 0..9, k = 3: 10 ≥ 3k. Centroid 4.5, 0 and 9 tie, 0 wins: {0, 1, 2};
            // farthest from 0 is 9: {9, 8, 7}; 4 left (< 2k): {3, 4, 5, 6}. Means 1, 8, 4.5.
            // SSE = 2 + 2 + 5 = 9; SST = 82.5; IL = 10.909 %.
            (
                "the loop of two groups",
                (0..10).map(f64::from).collect(),
                3,
                vec![1.0, 1.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0],
                vec![0, 0, 0, 2, 2, 2, 2, 1, 1, 1],
                900.0 / 82.5,
            ),
            // All alike: nothing to lose, SST = 0.
            (
                "constant",
                vec![7.0; 4],
                2,
                vec![7.0; 4],
                vec![0, 0, 1, 1],
                0.0,
            ),
        ];
        for (name, values, k, means, groups, il) in cases {
            let m = mdav(&column(&values), k).unwrap();
            for (got, want) in m.data.iter().zip(&means) {
                assert!((got[0] - want).abs() < 1e-9, "{name}: {:?}", m.data);
            }
            assert_eq!(m.group, groups, "{name}");
            assert!(
                (m.report.information_loss_percent - il).abs() < 1e-9,
                "{name}: {} vs {il}",
                m.report.information_loss_percent
            );
        }
    }

    /// `cargo test -p baraza-sdc --release -- --ignored --nocapture timing_mdav`
    #[test]
    #[ignore]
    fn timing_mdav_10k() {
        let mut rng = crate::pram::SplitMix64::new(7);
        let records: Vec<Vec<f64>> = (0..10_000)
            .map(|_| (0..3).map(|_| rng.next_f64() * 100.0).collect())
            .collect();
        let start = std::time::Instant::now();
        let m = mdav(&records, 3).unwrap();
        println!(
            "MDAV, 10,000 records x 3 variables, k = 3: {:?}; {} groups, IL {:.2} %",
            start.elapsed(),
            m.report.groups,
            m.report.information_loss_percent
        );
    }

    #[test]
    fn huge_values_do_not_panic() {
        let m = mdav(
            &column(&[f64::MAX, f64::MAX, -f64::MAX, 1.0, 2.0, 3.0, 4.0]),
            2,
        )
        .unwrap();
        assert_eq!(m.group.len(), 7);
    }

    #[test]
    fn errors() {
        let cases: Vec<(Vec<Vec<f64>>, usize, SdcError)> = vec![
            (
                column(&[1.0, 2.0]),
                1,
                SdcError::GroupSize { k: 1, records: 2 },
            ),
            (
                column(&[1.0, 2.0]),
                3,
                SdcError::GroupSize { k: 3, records: 2 },
            ),
            (vec![], 2, SdcError::GroupSize { k: 2, records: 0 }),
            (
                vec![vec![1.0, 2.0], vec![1.0]],
                2,
                SdcError::RecordWidth {
                    row: 2,
                    expected: 2,
                    got: 1,
                },
            ),
            (
                vec![vec![1.0, 2.0], vec![1.0, f64::INFINITY]],
                2,
                SdcError::NotFinite {
                    row: 2,
                    variable: 2,
                    value: f64::INFINITY,
                },
            ),
        ];
        for (records, k, want) in cases {
            assert_eq!(mdav(&records, k).unwrap_err(), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Groups of k to 2k − 1 records, means kept, loss between 0 and 100 %.
        #[test]
        fn groups_and_means(
            (p, records) in (1usize..=3).prop_flat_map(|p| (Just(p), proptest::collection::vec(proptest::collection::vec(-100.0f64..100.0, p), 2..60))),
            k in 2usize..=5,
        ) {
            let n = records.len();
            if n < k {
                prop_assert!(mdav(&records, k).is_err());
                return Ok(());
            }
            let m = mdav(&records, k).unwrap();
            let mut size = vec![0usize; m.report.groups];
            for &g in &m.group {
                size[g] += 1;
            }
            for s in &size {
                prop_assert!(*s >= k && *s < 2 * k, "sizes {:?}", size);
            }
            for j in 0..p {
                let before: f64 = records.iter().map(|r| r[j]).sum();
                let after: f64 = m.data.iter().map(|r| r[j]).sum();
                prop_assert!((before - after).abs() < 1e-6 * (1.0 + before.abs()));
            }
            // Records of a group have the same values.
            for i in 0..n {
                for o in 0..n {
                    if m.group[i] == m.group[o] {
                        prop_assert_eq!(&m.data[i], &m.data[o]);
                    }
                }
            }
            let il = m.report.information_loss_percent;
            prop_assert!((0.0..=100.0 + 1e-9).contains(&il), "{}", il);
        }
    }
}
