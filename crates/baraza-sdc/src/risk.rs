//! Individual, global and household risk, and k-anonymity.

use crate::freq::Frequencies;
use crate::table::{KeyTable, MISSING};
use serde::Serialize;

/// The individual risk of a record: the probability that it is correctly re-identified by an
/// intruder who matches its key values against the population.
///
/// Without weights the sample is the population and the risk is `1/fk` (sdcMicro's
/// `indivRisk(survey = FALSE)`, which `measure_risk` uses when no weight is given).
///
/// With weights, the Benedetti–Franconi model as sdcMicro's `indivRisk(method = "approx")`
/// (R/indivRisk.R; Franconi and Polettini, *Individual risk estimation in μ-Argus: a review*,
/// PSD 2004), with `p = fk/Fk`:
///
/// * `fk = 1`: `p/(1−p) · ln(1/p)`
/// * `fk = 2`: `p/(1−p) − (p/(1−p))² · ln(1/p)`
/// * `fk ≥ 3`: `p / (fk − (1−p))`
///
/// and `1/fk` when `Fk = fk` (the whole population is in the sample). sdcMicro applies that
/// last rule only on exact equality; here it also covers `Fk < fk` (weights below 1), where the
/// formulas would leave `[0, 1]`.
pub fn individual_risk(fk: u32, big_fk: f64, weighted: bool) -> f64 {
    let f = f64::from(fk.max(1));
    if !weighted || big_fk <= f {
        return 1.0 / f;
    }
    let p = f / big_fk;
    let odds = p / (1.0 - p);
    match fk {
        0 | 1 => odds * (1.0 / p).ln(),
        2 => odds - odds * odds * (1.0 / p).ln(),
        _ => p / (f - (1.0 - p)),
    }
}

/// Records violating k-anonymity for one `k`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KAnonymity {
    pub k: u32,
    /// Records whose `fk` is below `k`.
    pub records: usize,
    /// Distinct key combinations (a missing value as its own category) of those records.
    pub combinations: usize,
}

pub(crate) fn k_anonymity(f: &Frequencies, ks: &[u32]) -> Vec<KAnonymity> {
    let mut cell_fk = vec![0u32; f.cells as usize];
    for (&c, &fk) in f.cell.iter().zip(&f.fk) {
        cell_fk[c as usize] = fk;
    }
    ks.iter()
        .map(|&k| KAnonymity {
            k,
            records: f.fk.iter().filter(|&&fk| fk < k).count(),
            combinations: cell_fk.iter().filter(|&&fk| fk < k).count(),
        })
        .collect()
}

/// Global risk: what the individual risks add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalRisk {
    /// Sum of the individual risks: the number of records an intruder is expected to
    /// re-identify (sdcMicro's `global_risk_ER`).
    pub expected_reidentifications: f64,
    /// The same as a share of the records, in [0, 1] (`global_risk`).
    pub share: f64,
    /// The same in percent (`global_risk_pct`).
    pub percent: f64,
    /// Records whose risk stands out: above the median plus three median absolute deviations
    /// and above 0.1 (the rule of sdcMicro's `print.measure_risk`).
    pub high_risk_records: usize,
}

pub(crate) fn global(risks: &[f64]) -> GlobalRisk {
    let er: f64 = risks.iter().sum();
    let share = er / risks.len().max(1) as f64;
    let med = median(risks.to_vec());
    // R's mad(): 1.4826 times the median absolute deviation.
    let mad = 1.4826 * median(risks.iter().map(|r| (r - med).abs()).collect());
    GlobalRisk {
        expected_reidentifications: er,
        share,
        percent: share * 100.0,
        high_risk_records: risks
            .iter()
            .filter(|&&r| r > med + 3.0 * mad && r > 0.1)
            .count(),
    }
}

/// The median as R computes it (the mean of the two middle values for an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    // Selection rather than a sort: the values of ranks n/2 (and n/2 − 1, the largest of those
    // before it) are those the sorted order has there.
    let n = v.len();
    let (below, &mut mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        mid
    } else {
        let before = below.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
        (before + mid) / 2.0
    }
}

/// Household risk: a household is re-identified when at least one of its members is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdRisk {
    pub variable: String,
    pub households: usize,
    /// Sum over records of their household's risk (sdcMicro's `hier_risk_ER`).
    pub expected_reidentifications: f64,
    /// The same divided by the number of records (`hier_risk`).
    pub share: f64,
    pub percent: f64,
}

/// Each record's household risk, `1 − Π(1 − r_i)` over the members of its household (sdcMicro's
/// `measure_risk` with `hid`, `fast_hier = TRUE`). A record without a household id is a
/// household of its own.
pub(crate) fn household(table: &KeyTable, risks: &[f64]) -> Option<(HouseholdRisk, Vec<f64>)> {
    let (var, ids) = table.household.as_ref()?;
    // Household ids are the codes of their variable, dense from 0: an array indexed by them.
    let mut safe = vec![1f64; var.categories.len()];
    let mut seen = vec![false; var.categories.len()];
    let mut alone = 0;
    for (&h, &r) in ids.iter().zip(risks) {
        if h == MISSING {
            alone += 1;
        } else {
            safe[h as usize] *= 1.0 - r;
            seen[h as usize] = true;
        }
    }
    let per_record: Vec<f64> = ids
        .iter()
        .zip(risks)
        .map(|(&h, &r)| {
            if h == MISSING {
                r
            } else {
                1.0 - safe[h as usize]
            }
        })
        .collect();
    let households = seen.iter().filter(|&&s| s).count() + alone;
    let er: f64 = per_record.iter().sum();
    let share = er / per_record.len().max(1) as f64;
    Some((
        HouseholdRisk {
            variable: var.name.clone(),
            households,
            expected_reidentifications: er,
            share,
            percent: share * 100.0,
        },
        per_record,
    ))
}

/// One key combination and what it risks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Combination {
    /// The key values in the order of the keys, `None` where missing.
    pub values: Vec<Option<String>>,
    /// Records with exactly these values.
    pub records: usize,
    pub fk: u32,
    #[serde(rename = "Fk")]
    pub big_fk: f64,
    pub risk: f64,
}

/// The `limit` combinations of highest individual risk (then lowest `fk`, then first seen).
pub(crate) fn riskiest(
    table: &KeyTable,
    f: &Frequencies,
    risks: &[f64],
    limit: usize,
) -> Vec<Combination> {
    let nc = f.cells as usize;
    let mut first = vec![usize::MAX; nc];
    let mut records = vec![0usize; nc];
    for (i, &c) in f.cell.iter().enumerate() {
        let c = c as usize;
        records[c] += 1;
        if first[c] == usize::MAX {
            first[c] = i;
        }
    }
    let mut order: Vec<usize> = (0..nc).collect();
    let by_risk = |&a: &usize, &b: &usize| {
        risks[first[b]]
            .total_cmp(&risks[first[a]])
            .then(f.fk[first[a]].cmp(&f.fk[first[b]]))
            .then(first[a].cmp(&first[b]))
    };
    // The order is total (cells have distinct first records): selecting the first `limit`
    // then sorting them gives what sorting everything would.
    if limit < nc {
        order.select_nth_unstable_by(limit, by_risk);
        order.truncate(limit);
    }
    order.sort_unstable_by(by_risk);
    order
        .into_iter()
        .take(limit)
        .map(|c| {
            let r = first[c];
            Combination {
                values: (0..table.width())
                    .map(|j| table.value(r, j).map(str::to_owned))
                    .collect(),
                records: records[c],
                fk: f.fk[r],
                big_fk: f.big_fk[r],
                risk: risks[r],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::{table, SDCMICRO_MISSING, SDCMICRO_WEIGHTS};
    use crate::freq::{frequencies, MissingMode};

    fn close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < tol, "record {}: got {g}, want {w}", i + 1);
        }
    }

    /// sdcMicro's tests/testthat/test_indivRisk.R, weighted, method "approx", qual 1: the
    /// expected values there are given to 8 digits.
    #[test]
    fn sdcmicro_indiv_risk_approx() {
        let complete: [[Option<&str>; 3]; 8] = [
            [Some("2"), Some("3"), Some("1")],
            [Some("3"), Some("3"), Some("3")],
            [Some("2"), Some("3"), Some("1")],
            [Some("2"), Some("3"), Some("2")],
            [Some("3"), Some("3"), Some("1")],
            [Some("3"), Some("3"), Some("1")],
            [Some("1"), Some("4"), Some("1")],
            [Some("2"), Some("3"), Some("1")],
        ];
        type Sample<'a> = &'a [[Option<&'a str>; 3]; 8];
        let cases: [(Sample, [f64; 8]); 2] = [
            (
                &complete,
                [
                    0.01369863, 0.08579129, 0.01369863, 0.17707583, 0.01877883, 0.01877883,
                    0.03931625, 0.01369863,
                ],
            ),
            (
                &SDCMICRO_MISSING,
                [
                    0.013698630,
                    0.085791288,
                    0.010554090,
                    0.032466112,
                    0.009836066,
                    0.009836066,
                    0.039316254,
                    0.005973716,
                ],
            ),
        ];
        for (rows, want) in cases {
            let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
            let t = table(&rows, Some(&SDCMICRO_WEIGHTS));
            let f = frequencies(&t, MissingMode::Any);
            let risks: Vec<f64> =
                f.fk.iter()
                    .zip(&f.big_fk)
                    .map(|(&fk, &big)| individual_risk(fk, big, true))
                    .collect();
            close(&risks, &want, 5e-9);
            // Unweighted: 1/fk (the same test file, survey = FALSE).
            let unweighted: Vec<f64> =
                f.fk.iter()
                    .map(|&fk| individual_risk(fk, fk as f64, false))
                    .collect();
            close(
                &unweighted,
                &f.fk.iter().map(|&k| 1.0 / k as f64).collect::<Vec<_>>(),
                1e-15,
            );
        }
    }

    #[test]
    fn special_cases() {
        // Fk = fk: the whole population is in the sample.
        assert_eq!(individual_risk(3, 3.0, true), 1.0 / 3.0);
        // Fk < fk (weights below 1): kept at 1/fk instead of leaving [0, 1].
        assert_eq!(individual_risk(2, 1.5, true), 0.5);
        // fk = 1, Fk = 2: p = 1/2, 1 · ln 2.
        assert!((individual_risk(1, 2.0, true) - std::f64::consts::LN_2).abs() < 1e-15);
        // fk = 4, Fk = 8: p = 1/2, 0.5 / 3.5.
        assert!((individual_risk(4, 8.0, true) - 0.5 / 3.5).abs() < 1e-15);
    }

    #[test]
    fn global_and_high_risk() {
        // 10 records: eight at 0.1, one at 0.5, one at 1.0. Median 0.1, MAD 0: the two
        // above 0.1 stand out. Expected re-identifications 0.8 + 0.5 + 1.0 = 2.3.
        let mut risks = vec![0.1; 8];
        risks.extend([0.5, 1.0]);
        let g = global(&risks);
        assert!((g.expected_reidentifications - 2.3).abs() < 1e-12);
        assert!((g.percent - 23.0).abs() < 1e-9);
        assert_eq!(g.high_risk_records, 2);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    #[test]
    fn household_risk_is_one_minus_product() {
        let a = Some("a");
        let mut b = crate::TableBuilder::new(&["k"], None, Some("hh"), &[]).unwrap();
        for (i, h) in [Some("h1"), Some("h1"), Some("h2"), None]
            .iter()
            .enumerate()
        {
            b.push(crate::Row {
                number: i + 1,
                keys: &[a],
                weight: None,
                household: *h,
                sensitive: &[],
            })
            .unwrap();
        }
        let t = b.finish().unwrap();
        let risks = [0.5, 0.2, 0.1, 0.3];
        let (h, per) = household(&t, &risks).unwrap();
        // h1: 1 − 0.5·0.8 = 0.6 for both members; h2: 0.1; no household: its own 0.3.
        close(&per, &[0.6, 0.6, 0.1, 0.3], 1e-12);
        assert_eq!(h.households, 3);
        assert!((h.expected_reidentifications - 1.6).abs() < 1e-12);
        assert!((h.share - 0.4).abs() < 1e-12);
    }
}
