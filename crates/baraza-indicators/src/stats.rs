//! The sufficient statistics of a cell and the estimates made from them.
//!
//! # Sufficient statistics
//!
//! A cell (period × place × group of an indicator) keeps [`Moments`]: a handful of sums over
//! its records that can be added to and taken away from, so that an edited or erased record
//! updates the cell without reading the others again. Every estimate of this module is a
//! function of those sums only. Medians, Gini and Palma need the values themselves, kept in a
//! [`Distribution`] (value → records, Σ weights), which adds and takes away in the same way.
//!
//! # Proportions ([`share`])
//!
//! Each record's `y` is 1 or 0.
//!
//! * Unweighted: `p = Σy / n`, `se = √(p(1−p)/n)` and the Wilson score interval
//!   (Wilson 1927; Agresti & Coull 1998), which, unlike the Wald interval `p ± z·se`, stays in
//!   0..1 and keeps its coverage for small cells and shares near 0 or 1:
//!
//!   ```text
//!   centre    = (p + z²/2n) / (1 + z²/n)
//!   half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)
//!   ```
//!
//!   with `z = 1.959963984540054` (the 97.5 % normal quantile). For 8 of 10 this gives
//!   [0.4902, 0.9433], as R's `prop.test(8, 10, correct = FALSE)` does.
//! * Weighted: the ratio estimator `p = Σwy / Σw`. Its linearised (Taylor) variance, with the
//!   with-replacement approximation that R's `survey` package uses for a one-stage design
//!   without strata (`svymean` on `svydesign(ids = ~1, weights = ~w)`), is
//!
//!   ```text
//!   var(p) = n/(n−1) · Σ w²(y − p)² / (Σw)²
//!          = n/(n−1) · (Σw²y² − 2p·Σw²y + p²·Σw²) / (Σw)²
//!   ```
//!
//!   the second line being what [`Moments`] can give. Cancellation can leave a tiny negative
//!   number where the truth is 0 (all `y` equal): it is clamped to 0. The design effect is
//!   `deff = var(p) / (p(1−p)/n)` (none when `p(1−p) = 0`), the effective sample size
//!   `n_eff = n / deff`, and the interval is Wilson's on `n_eff` (Korn & Graubard 1998 give
//!   the same idea for Clopper–Pearson; Franco et al. 2019 show the Wilson version behaves
//!   well). With all weights 1 the value is the unweighted one and
//!   `var(p) = p(1−p)/(n−1)`, so `deff = n/(n−1)`: the `n/(n−1)` factor of the variance
//!   estimator against the `1/n` of the binomial one, not a design effect; it vanishes as
//!   `n` grows.
//!
//! # Means ([`mean`])
//!
//! * Unweighted: `ȳ = Σy/n`, the sample variance `s² = (Σy² − (Σy)²/n)/(n−1)`,
//!   `se = s/√n`, interval `ȳ ± z·se` (normal, not Student: cells large enough to be shown
//!   are large enough for it, see [`reliability`]).
//! * Weighted: `ȳ_w = Σwy/Σw` with the same linearised variance as for a share, `y` now
//!   numeric; `deff = var(ȳ_w) / (s²/n)`, `s²` the unweighted sample variance of `y` (Kish's
//!   design effect written with variances). With all weights 1, `var(ȳ_w) = s²/n` exactly
//!   and `deff = 1`.
//!
//! # Totals ([`total`])
//!
//! * Unweighted: `Σy`, `se = n·se(ȳ) = √n·s`.
//! * Weighted: `Ŷ = Σwy`, with the with-replacement (Hansen–Hurwitz) variance
//!   `var(Ŷ) = n/(n−1) · Σ(w y − Ŷ/n)² = n/(n−1) · (Σw²y² − Ŷ²/n)`: `Σ(wy)² = Σw²y²` *is*
//!   one of the moments, so no approximation is needed. It is the sample variance of the
//!   expanded values `w·y` times `n`, hence [`Method::Normal`]. `deff` compares it with a
//!   simple random sample estimating `N·ȳ` with `N = Σw`: `(Σw)²·s²/n`; it is 1 when all
//!   weights are 1.
//!
//! # Medians ([`median`])
//!
//! The median is the smallest value whose cumulative weight (records when unweighted)
//! reaches half the total: a value that was observed, the lower median when `n` is even.
//! The interval comes from the order statistics (binomial with p = ½, normal approximation;
//! Campbell & Gardner 1988, BMJ 296:1454, Conover 1999): the ranks
//!
//! ```text
//! r = n/2 − z·√n/2,    s = 1 + n/2 + z·√n/2      (rounded to the nearest integer, in 1..=n)
//! ```
//!
//! give the values bounding the interval (for n = 100: the 40th and the 61st). With weights,
//! the same ranks are computed on Kish's effective sample size `n_eff = (Σw)²/Σw²` and read as
//! shares `r/n_eff`, `s/n_eff` of the cumulative weight (Woodruff's idea: an interval for the
//! cumulative share, mapped back to values). A [`Distribution`] keeps `Σw` per value, not
//! `Σw²` per record, so `Σw²` is taken as `Σ_v (Σw)_v²/n_v`, exact when the records sharing
//! a value share a weight and otherwise an underestimate (so `n_eff` is overestimated and the
//! interval a little narrow); with all weights 1 it is exact and the weighted median and its
//! interval are the unweighted ones. `deff = n/n_eff`. No interval below 2 records.
//!
//! # Small cells ([`reliability`])
//!
//! A figure from fewer than [`HIDE_BELOW`] records is not shown; below [`BRACKET_BELOW`] it is
//! shown in brackets, to be read with care: the convention of the DHS reports ("figures in
//! parentheses are based on 25–49 unweighted cases; an asterisk … fewer than 25").
//!
//! # A single record
//!
//! One record gives a value and no interval ([`Method::None`]): no variance can be estimated
//! from it.

use serde::{Deserialize, Serialize};

/// Sufficient statistics of one cell for a weighted ratio (share, mean) estimator: sums that
/// can be added and taken away, so that a record's contribution can be removed when it is
/// edited or erased. `y` is the record's value (1/0 for a share), `w` its weight (1 when the
/// indicator has none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Records (unweighted).
    pub n: i64,
    /// Σ w
    pub sw: f64,
    /// Σ w·y
    pub swy: f64,
    /// Σ w²
    pub sw2: f64,
    /// Σ w²·y
    pub sw2y: f64,
    /// Σ w²·y²
    pub sw2y2: f64,
    /// Σ y (unweighted)
    pub sy: f64,
    /// Σ y² (unweighted)
    pub sy2: f64,
}

impl Moments {
    /// The moments of one record.
    pub fn of(y: f64, w: f64) -> Moments {
        Moments {
            n: 1,
            sw: w,
            swy: w * y,
            sw2: w * w,
            sw2y: w * w * y,
            sw2y2: w * w * y * y,
            sy: y,
            sy2: y * y,
        }
    }

    /// Adds `o`'s records to these.
    pub fn add(&mut self, o: &Moments) {
        self.n += o.n;
        self.sw += o.sw;
        self.swy += o.swy;
        self.sw2 += o.sw2;
        self.sw2y += o.sw2y;
        self.sw2y2 += o.sw2y2;
        self.sy += o.sy;
        self.sy2 += o.sy2;
    }

    /// Takes `o`'s records away (the inverse of [`Moments::add`]).
    pub fn sub(&mut self, o: &Moments) {
        self.n -= o.n;
        self.sw -= o.sw;
        self.swy -= o.swy;
        self.sw2 -= o.sw2;
        self.sw2y -= o.sw2y;
        self.sw2y2 -= o.sw2y2;
        self.sy -= o.sy;
        self.sy2 -= o.sy2;
    }

    /// True when no record is left.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// How an interval was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Wilson score interval (unweighted proportion).
    Wilson,
    /// Wilson interval on the effective sample size n/deff (weighted proportion, linearised
    /// variance).
    WilsonEffective,
    /// Normal interval with the linearised (Taylor) variance of a weighted ratio.
    Linearised,
    /// Normal interval with the sample variance (unweighted mean, total).
    Normal,
    /// Interval for a median from the order statistics (binomial).
    OrderStatistics,
    /// No interval (a single record, or a non-probability sample).
    None,
}

/// One figure with its uncertainty.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Records behind the figure (unweighted).
    pub n: i64,
    /// The estimate (a share is in 0..=1, not a percentage).
    pub value: f64,
    /// Its standard error, when there is one.
    pub se: Option<f64>,
    /// The 95 % interval.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The design effect (variance with the weights over the variance of a simple random
    /// sample of the same size), for weighted estimates.
    pub deff: Option<f64>,
    pub method: Method,
}

/// A value distribution of a cell (value → records and their weights), for medians and the
/// inequality of a numeric outcome (Gini, Palma); it can add and take away records too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// (value, records, Σ weights), sorted by value, values distinct.
    pub values: Vec<(f64, i64, f64)>,
}

impl Distribution {
    /// Adds `n` records of `value` whose weights sum to `w` (negative to take away).
    ///
    /// Values are ordered by [`f64::total_cmp`]; a NaN value is ignored. A value whose records
    /// reach 0 (or below, when more is taken away than was added) is dropped, whatever float
    /// residue its weight sum holds. Taking away a value that is not there does nothing.
    pub fn add(&mut self, value: f64, n: i64, w: f64) {
        if value.is_nan() {
            return;
        }
        match self.values.binary_search_by(|e| e.0.total_cmp(&value)) {
            Ok(i) => {
                let e = &mut self.values[i];
                e.1 += n;
                e.2 += w;
                if e.1 <= 0 {
                    self.values.remove(i);
                }
            }
            Err(i) => {
                if n > 0 {
                    self.values.insert(i, (value, n, w));
                }
            }
        }
    }

    /// Takes `n` records of `value` whose weights sum to `w` away (`add` with the signs turned).
    pub fn sub(&mut self, value: f64, n: i64, w: f64) {
        self.add(value, -n, -w);
    }

    /// Adds all of `o`'s records to these.
    pub fn merge(&mut self, o: &Distribution) {
        for &(v, n, w) in &o.values {
            self.add(v, n, w);
        }
    }

    /// True when no record is left.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Records (unweighted).
    pub fn records(&self) -> i64 {
        self.values.iter().map(|e| e.1).sum()
    }

    /// Σ weights.
    pub fn total_weight(&self) -> f64 {
        self.values.iter().map(|e| e.2).sum()
    }

    /// (value, mass) pairs: the weight sum of each value, or its records when unweighted.
    pub(crate) fn masses(&self, weighted: bool) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.values
            .iter()
            .map(move |&(v, n, w)| (v, if weighted { w } else { n as f64 }))
    }
}

/// The 97.5 % quantile of the standard normal distribution.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Below this many records a figure is hidden.
pub const HIDE_BELOW: i64 = 25;

/// Below this many records (and from [`HIDE_BELOW`]) a figure is shown in brackets.
pub const BRACKET_BELOW: i64 = 50;

/// How a figure from a small cell is to be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reliability {
    /// Too few records: not shown.
    Hidden,
    /// Few records: shown in brackets, to be read with care.
    Bracketed,
    /// Shown.
    Shown,
}

/// The [`Reliability`] of a figure from `n` records (usually [`HIDE_BELOW`] and
/// [`BRACKET_BELOW`] as the limits).
pub fn reliability(n: i64, hide_below: i64, bracket_below: i64) -> Reliability {
    if n < hide_below {
        Reliability::Hidden
    } else if n < bracket_below {
        Reliability::Bracketed
    } else {
        Reliability::Shown
    }
}

/// The Wilson score interval of a proportion `p` observed on `n` (possibly effective,
/// non-integer) records.
pub fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).max(0.0).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// A value with no interval.
fn bare(n: i64, value: f64) -> Estimate {
    Estimate {
        n,
        value,
        se: None,
        low: None,
        high: None,
        deff: None,
        method: Method::None,
    }
}

/// A normal interval `value ± z·se`.
fn normal(n: i64, value: f64, se: f64, deff: Option<f64>, method: Method) -> Estimate {
    Estimate {
        n,
        value,
        se: Some(se),
        low: Some(value - Z95 * se),
        high: Some(value + Z95 * se),
        deff,
        method,
    }
}

/// The linearised variance of the ratio `r = Σwy/Σw` (see the module's documentation),
/// clamped at 0 against cancellation. Needs `n ≥ 2` and `Σw ≠ 0`.
fn ratio_variance(m: &Moments, r: f64) -> f64 {
    let n = m.n as f64;
    let ss = m.sw2y2 - 2.0 * r * m.sw2y + r * r * m.sw2;
    (n / (n - 1.0) * ss / (m.sw * m.sw)).max(0.0)
}

/// The unweighted sample variance of `y`, clamped at 0. Needs `n ≥ 2`.
fn sample_variance(m: &Moments) -> f64 {
    let n = m.n as f64;
    ((m.sy2 - m.sy * m.sy / n) / (n - 1.0)).max(0.0)
}

/// A proportion (every `y` is 0 or 1): Wilson interval when unweighted; with weights, the
/// linearised variance, the design effect and a Wilson interval on the effective sample size.
/// `None` for an empty cell (or one whose weights sum to 0).
pub fn share(m: &Moments, weighted: bool) -> Option<Estimate> {
    if m.n <= 0 {
        return None;
    }
    let n = m.n as f64;
    // Σy counts the records with y = 1: a whole number, kept exactly by floats. When it is 0
    // or n the share is exactly 0 or 1, whatever residue adding and taking away weights left
    // in Σwy.
    let successes = m.sy.round();
    let all_or_none = (successes <= 0.0)
        .then_some(0.0)
        .or((successes >= n).then_some(1.0));
    if !weighted {
        let p = all_or_none.unwrap_or(successes / n);
        if m.n == 1 {
            return Some(bare(m.n, p));
        }
        let (low, high) = wilson(p, n);
        return Some(Estimate {
            n: m.n,
            value: p,
            se: Some((p * (1.0 - p) / n).max(0.0).sqrt()),
            low: Some(low),
            high: Some(high),
            deff: None,
            method: Method::Wilson,
        });
    }
    if m.sw == 0.0 {
        return None;
    }
    let p = all_or_none.unwrap_or((m.swy / m.sw).clamp(0.0, 1.0));
    if m.n == 1 {
        return Some(bare(m.n, p));
    }
    // All records alike: no variance, whatever the float residue says.
    let var = if all_or_none.is_some() {
        0.0
    } else {
        ratio_variance(m, p)
    };
    let srs = p * (1.0 - p) / n;
    let deff = (srs > 0.0).then(|| var / srs);
    // With no design effect to speak of (all y equal, or a zero variance from zero weights)
    // the interval is taken on the records themselves.
    let n_eff = match deff {
        Some(d) if d > 0.0 => n / d,
        _ => n,
    };
    let (low, high) = wilson(p, n_eff);
    Some(Estimate {
        n: m.n,
        value: p,
        se: Some(var.sqrt()),
        low: Some(low),
        high: Some(high),
        deff,
        method: Method::WilsonEffective,
    })
}

/// A mean: normal interval with the sample variance; with weights, the linearised variance
/// of the ratio Σwy/Σw and the design effect.
pub fn mean(m: &Moments, weighted: bool) -> Option<Estimate> {
    if m.n <= 0 {
        return None;
    }
    let n = m.n as f64;
    if !weighted {
        let ybar = m.sy / n;
        if m.n == 1 {
            return Some(bare(m.n, ybar));
        }
        let se = (sample_variance(m) / n).sqrt();
        return Some(normal(m.n, ybar, se, None, Method::Normal));
    }
    if m.sw == 0.0 {
        return None;
    }
    let ybar = m.swy / m.sw;
    if m.n == 1 {
        return Some(bare(m.n, ybar));
    }
    let var = ratio_variance(m, ybar);
    let srs = sample_variance(m) / n;
    let deff = (srs > 0.0).then(|| var / srs);
    Some(normal(m.n, ybar, var.sqrt(), deff, Method::Linearised))
}

/// A total (Σy, or Σwy with weights) with its interval: `√n·s` when unweighted, the
/// with-replacement variance of Σwy with weights (see the module's documentation).
pub fn total(m: &Moments, weighted: bool) -> Option<Estimate> {
    if m.n <= 0 {
        return None;
    }
    let n = m.n as f64;
    if !weighted {
        if m.n == 1 {
            return Some(bare(m.n, m.sy));
        }
        let se = (n * sample_variance(m)).sqrt();
        return Some(normal(m.n, m.sy, se, None, Method::Normal));
    }
    if m.n == 1 {
        return Some(bare(m.n, m.swy));
    }
    let var = (n / (n - 1.0) * (m.sw2y2 - m.swy * m.swy / n)).max(0.0);
    let srs = m.sw * m.sw * sample_variance(m) / n;
    let deff = (srs > 0.0).then(|| var / srs);
    Some(normal(m.n, m.swy, var.sqrt(), deff, Method::Normal))
}

/// The smallest value whose cumulative mass reaches `target` (the largest value when float
/// rounding leaves the last cumulative sum a hair below the total).
fn value_at(masses: &[(f64, f64)], target: f64, total: f64) -> f64 {
    // Relative tolerance against rounding in the cumulative sums (0.1 + 0.2 ≠ 0.3).
    let eps = 1e-12 * total.abs();
    let mut cum = 0.0;
    for &(v, m) in masses {
        cum += m;
        if cum >= target - eps {
            return v;
        }
    }
    // `masses` is not empty here (callers check), so `last` exists; the fallback only
    // guards an impossible state.
    masses.last().map_or(f64::NAN, |e| e.0)
}

/// A median (weighted when `weighted`), with an interval from order statistics.
/// `None` for an empty distribution (or one whose weights sum to 0 or less).
pub fn median(d: &Distribution, weighted: bool) -> Option<Estimate> {
    let n = d.records();
    if n <= 0 {
        return None;
    }
    let masses: Vec<(f64, f64)> = d.masses(weighted).collect();
    let total: f64 = masses.iter().map(|e| e.1).sum();
    if total <= 0.0 {
        return None;
    }
    let value = value_at(&masses, total / 2.0, total);
    if n < 2 {
        return Some(bare(n, value));
    }
    // Effective sample size: n itself, or Kish's (Σw)²/Σw² with Σw² from the per-value sums.
    let (n_eff, deff) = if weighted {
        let sw2: f64 = d.values.iter().map(|&(_, k, w)| w * w / k as f64).sum();
        if sw2 <= 0.0 {
            return Some(bare(n, value));
        }
        let n_eff = total * total / sw2;
        (n_eff, Some(n as f64 / n_eff))
    } else {
        (n as f64, None)
    };
    let half = Z95 * n_eff.sqrt() / 2.0;
    let r = (n_eff / 2.0 - half).round().clamp(1.0, n_eff.max(1.0));
    let s = (1.0 + n_eff / 2.0 + half)
        .round()
        .clamp(1.0, n_eff.max(1.0));
    let low = value_at(&masses, r / n_eff * total, total);
    let high = value_at(&masses, s / n_eff * total, total);
    Some(Estimate {
        n,
        value,
        se: None,
        low: Some(low),
        high: Some(high),
        deff,
        method: Method::OrderStatistics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    fn moments(records: &[(f64, f64)]) -> Moments {
        let mut m = Moments::default();
        for &(y, w) in records {
            m.add(&Moments::of(y, w));
        }
        m
    }

    fn unweighted(ys: &[f64]) -> Moments {
        moments(&ys.iter().map(|&y| (y, 1.0)).collect::<Vec<_>>())
    }

    #[test]
    fn wilson_reference_values() {
        // (successes, n, low, high): R `prop.test(x, n, correct = FALSE)$conf.int`, which is
        // the Wilson interval; 0/10 has the closed form [0, z²/(n + z²)].
        let cases = [
            (8.0, 10.0, 0.4902, 0.9433),
            (0.0, 10.0, 0.0, 0.2775),
            (10.0, 10.0, 0.7225, 1.0),
            (50.0, 100.0, 0.4038, 0.5962),
            (1.0, 20.0, 0.0089, 0.2361),
        ];
        for (x, n, low, high) in cases {
            let (l, h) = wilson(x / n, n);
            assert!((l - low).abs() < 1e-4, "{x}/{n}: low {l} ≠ {low}");
            assert!((h - high).abs() < 1e-4, "{x}/{n}: high {h} ≠ {high}");
        }
    }

    #[test]
    fn unweighted_share() {
        let m = unweighted(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        let e = share(&m, false).unwrap();
        assert_eq!(e.n, 10);
        assert!(close(e.value, 0.8, 1e-12));
        // se = √(0.8·0.2/10) = 0.126491
        assert!(close(e.se.unwrap(), 0.126_491_1, 1e-6));
        assert!((e.low.unwrap() - 0.4902).abs() < 1e-4);
        assert!((e.high.unwrap() - 0.9433).abs() < 1e-4);
        assert_eq!(e.method, Method::Wilson);
        assert_eq!(e.deff, None);
    }

    #[test]
    fn weighted_share_by_hand() {
        // y = 1, 1, 0, 0; w = 1, 2, 3, 4. p = 3/10.
        // Σw²(y − p)² = 1·0.49 + 4·0.49 + 9·0.09 + 16·0.09 = 4.70
        // var = 4/3 · 4.70 / 10² = 0.0626667 (R: svymean(~y, svydesign(ids=~1, weights=~w)),
        // SE 0.25033); deff = 0.0626667 / (0.3·0.7/4) = 1.193651.
        let m = moments(&[(1.0, 1.0), (1.0, 2.0), (0.0, 3.0), (0.0, 4.0)]);
        let e = share(&m, true).unwrap();
        assert!(close(e.value, 0.3, 1e-12));
        assert!(close(e.se.unwrap(), 0.250_333_1, 1e-6));
        assert!(close(e.deff.unwrap(), 1.193_651, 1e-6));
        assert_eq!(e.method, Method::WilsonEffective);
        let (l, h) = wilson(0.3, 4.0 / 1.193_650_8);
        assert!(close(e.low.unwrap(), l, 1e-6) && close(e.high.unwrap(), h, 1e-6));
    }

    #[test]
    fn weighted_share_all_equal_has_no_deff() {
        let m = moments(&[(1.0, 2.0), (1.0, 5.0), (1.0, 0.5)]);
        let e = share(&m, true).unwrap();
        assert_eq!(e.value, 1.0);
        assert_eq!(e.se, Some(0.0));
        assert_eq!(e.deff, None);
        assert!(e.low.unwrap() < 1.0 && e.high.unwrap() == 1.0);
    }

    #[test]
    fn single_record_has_no_interval() {
        let m = Moments::of(1.0, 3.0);
        for e in [
            share(&m, false),
            share(&m, true),
            mean(&m, false),
            mean(&m, true),
            total(&m, false),
            total(&m, true),
        ] {
            let e = e.unwrap();
            assert_eq!(
                (e.se, e.low, e.high, e.method),
                (None, None, None, Method::None)
            );
        }
        let mut d = Distribution::default();
        d.add(4.0, 1, 3.0);
        let e = median(&d, true).unwrap();
        assert_eq!((e.value, e.low, e.method), (4.0, None, Method::None));
    }

    #[test]
    fn empty_cells_have_no_estimate() {
        let m = Moments::default();
        assert!(share(&m, false).is_none() && mean(&m, true).is_none());
        assert!(total(&m, false).is_none());
        assert!(median(&Distribution::default(), false).is_none());
        // Records whose weights sum to 0 give no weighted ratio.
        let z = moments(&[(1.0, 0.0), (0.0, 0.0)]);
        assert!(share(&z, true).is_none() && mean(&z, true).is_none());
    }

    #[test]
    fn unweighted_mean_and_total() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s² = 32/7, se = √(32/56) = 0.755929.
        let m = unweighted(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        let e = mean(&m, false).unwrap();
        assert!(close(e.value, 5.0, 1e-12));
        assert!(close(e.se.unwrap(), 0.755_928_9, 1e-6));
        assert!(close(e.low.unwrap(), 5.0 - Z95 * 0.755_928_9, 1e-6));
        assert_eq!(e.method, Method::Normal);
        let t = total(&m, false).unwrap();
        assert!(close(t.value, 40.0, 1e-12));
        assert!(close(t.se.unwrap(), 8.0 * 0.755_928_9, 1e-6));
    }

    #[test]
    fn weighted_mean_and_total_by_hand() {
        // y = 1, 2, 3, 4 with w = 1, 2, 3, 4: mean = 30/10 = 3.
        // Σw²(y − 3)² = 4 + 4 + 0 + 16 = 24; var = 4/3 · 24/100 = 0.32, se = 0.565685.
        // s² of y = 5/3, s²/n = 0.416667, deff = 0.768.
        let m = moments(&[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 4.0)]);
        let e = mean(&m, true).unwrap();
        assert!(close(e.value, 3.0, 1e-12));
        assert!(close(e.se.unwrap(), 0.32f64.sqrt(), 1e-9));
        assert!(close(e.deff.unwrap(), 0.768, 1e-9));
        assert_eq!(e.method, Method::Linearised);
        // Total: Σwy = 30; wy = 1, 4, 9, 16, Σ(wy)² = 354;
        // var = 4/3 · (354 − 30²/4) = 172 (R: svytotal, SE 13.11488).
        let t = total(&m, true).unwrap();
        assert!(close(t.value, 30.0, 1e-12));
        assert!(close(t.se.unwrap(), 172f64.sqrt(), 1e-9));
        // deff = 172 / (10² · (5/3) / 4) = 4.128
        assert!(close(t.deff.unwrap(), 4.128, 1e-9));
    }

    #[test]
    fn median_from_order_statistics() {
        // 1..=100: the lower median is 50; ranks 50 − 9.8 → 40 and 1 + 50 + 9.8 → 61
        // (Campbell & Gardner 1988).
        let mut d = Distribution::default();
        for v in 1..=100 {
            d.add(f64::from(v), 1, 1.0);
        }
        let e = median(&d, false).unwrap();
        assert_eq!((e.value, e.low, e.high), (50.0, Some(40.0), Some(61.0)));
        assert_eq!(e.method, Method::OrderStatistics);
        // 1, 2, 3: ranks clamp to 1..=3.
        let mut d = Distribution::default();
        for v in [3.0, 1.0, 2.0] {
            d.add(v, 1, 1.0);
        }
        let e = median(&d, false).unwrap();
        assert_eq!((e.value, e.low, e.high), (2.0, Some(1.0), Some(3.0)));
    }

    #[test]
    fn weighted_median() {
        // Weights 1, 1, 1, 5 on 1, 2, 3, 4: half of 8 is reached at 4.
        let mut d = Distribution::default();
        for (v, w) in [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 5.0)] {
            d.add(v, 1, w);
        }
        assert_eq!(median(&d, true).unwrap().value, 4.0);
        assert_eq!(median(&d, false).unwrap().value, 2.0);
        // Kish: n_eff = 64 / 28, deff = 4 / n_eff = 1.75.
        assert!(close(median(&d, true).unwrap().deff.unwrap(), 1.75, 1e-12));
        // Cumulative sums that miss one half by a rounding error still reach it.
        let mut d = Distribution::default();
        for (v, w) in [(1.0, 0.1), (2.0, 0.2), (3.0, 0.3)] {
            d.add(v, 1, w);
        }
        assert_eq!(median(&d, true).unwrap().value, 2.0);
    }

    #[test]
    fn distribution_keeps_order_and_drops_emptied_values() {
        let mut d = Distribution::default();
        d.add(3.0, 1, 1.0);
        d.add(-1.0, 2, 4.0);
        d.add(f64::NAN, 1, 1.0);
        d.add(3.0, 1, 2.0);
        d.add(0.5, 1, 1.0);
        assert_eq!(d.values, vec![(-1.0, 2, 4.0), (0.5, 1, 1.0), (3.0, 2, 3.0)]);
        assert_eq!(d.records(), 5);
        d.sub(0.5, 1, 1.0);
        d.add(-1.0, -2, -4.0);
        d.add(7.0, -1, -1.0); // not there: nothing happens
        assert_eq!(d.values, vec![(3.0, 2, 3.0)]);
        d.sub(3.0, 2, 3.0);
        assert!(d.is_empty());
    }

    #[test]
    fn small_cells() {
        assert_eq!(
            reliability(0, HIDE_BELOW, BRACKET_BELOW),
            Reliability::Hidden
        );
        assert_eq!(
            reliability(24, HIDE_BELOW, BRACKET_BELOW),
            Reliability::Hidden
        );
        assert_eq!(
            reliability(25, HIDE_BELOW, BRACKET_BELOW),
            Reliability::Bracketed
        );
        assert_eq!(
            reliability(49, HIDE_BELOW, BRACKET_BELOW),
            Reliability::Bracketed
        );
        assert_eq!(
            reliability(50, HIDE_BELOW, BRACKET_BELOW),
            Reliability::Shown
        );
        assert_eq!(
            serde_json::to_string(&Reliability::Bracketed).unwrap(),
            "\"bracketed\""
        );
    }

    fn same(a: &Option<Estimate>, b: &Option<Estimate>, tol: f64) -> bool {
        let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => close(x, y, tol),
            (None, None) => true,
            _ => false,
        };
        match (a, b) {
            (Some(a), Some(b)) => {
                a.n == b.n
                    && a.method == b.method
                    && close(a.value, b.value, tol)
                    && opt(a.se, b.se)
                    && opt(a.low, b.low)
                    && opt(a.high, b.high)
                    && opt(a.deff, b.deff)
            }
            (None, None) => true,
            _ => false,
        }
    }

    fn records() -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop::collection::vec((0.0f64..100.0, 0.5f64..5.0), 3..40)
    }

    fn shares() -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop::collection::vec((prop::bool::ANY, 0.5f64..5.0), 3..40).prop_map(|v| {
            v.into_iter()
                .map(|(b, w)| (if b { 1.0 } else { 0.0 }, w))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn add_then_sub_gives_back_the_estimates(
            base in records(), extra in records(), bits in shares(), more in shares()
        ) {
            let m0 = moments(&base);
            let mut m = m0;
            let x = moments(&extra);
            m.add(&x);
            m.sub(&x);
            for weighted in [false, true] {
                prop_assert!(same(&mean(&m, weighted), &mean(&m0, weighted), 1e-9));
                prop_assert!(same(&total(&m, weighted), &total(&m0, weighted), 1e-9));
            }
            let s0 = moments(&bits);
            let mut s = s0;
            let x = moments(&more);
            s.add(&x);
            s.sub(&x);
            for weighted in [false, true] {
                prop_assert!(same(&share(&s, weighted), &share(&s0, weighted), 1e-9));
            }
        }

        #[test]
        fn merging_halves_gives_the_whole(rs in records(), cut in 0usize..40) {
            let cut = cut.min(rs.len());
            let (a, b) = rs.split_at(cut);
            let mut m = moments(a);
            m.add(&moments(b));
            let whole = moments(&rs);
            let mut da = Distribution::default();
            let mut db = Distribution::default();
            let mut dw = Distribution::default();
            for &(y, w) in a { da.add(y.round(), 1, w); dw.add(y.round(), 1, w); }
            for &(y, w) in b { db.add(y.round(), 1, w); dw.add(y.round(), 1, w); }
            da.merge(&db);
            for weighted in [false, true] {
                prop_assert!(same(&mean(&m, weighted), &mean(&whole, weighted), 1e-9));
                prop_assert!(same(&total(&m, weighted), &total(&whole, weighted), 1e-9));
                prop_assert!(same(&median(&da, weighted), &median(&dw, weighted), 1e-9));
            }
            prop_assert_eq!(da.values.len(), dw.values.len());
            for (x, y) in da.values.iter().zip(&dw.values) {
                prop_assert!(x.0 == y.0 && x.1 == y.1 && close(x.2, y.2, 1e-12));
            }
        }

        #[test]
        fn unit_weights_give_the_unweighted_figures(rs in records(), bits in shares()) {
            let ys: Vec<(f64, f64)> = rs.iter().map(|&(y, _)| (y, 1.0)).collect();
            let m = moments(&ys);
            let (u, w) = (mean(&m, false).unwrap(), mean(&m, true).unwrap());
            // For a mean the linearised variance with unit weights is exactly s²/n: deff = 1.
            prop_assert!(close(u.value, w.value, 1e-9) && close(u.se.unwrap(), w.se.unwrap(), 1e-9));
            if let Some(deff) = w.deff { prop_assert!(close(deff, 1.0, 1e-9)); }
            let (u, w) = (total(&m, false).unwrap(), total(&m, true).unwrap());
            prop_assert!(close(u.value, w.value, 1e-9) && close(u.se.unwrap(), w.se.unwrap(), 1e-9));
            // For a share, var = p(1−p)/(n−1) against p(1−p)/n: deff = n/(n−1).
            let bs: Vec<(f64, f64)> = bits.iter().map(|&(y, _)| (y, 1.0)).collect();
            let s = moments(&bs);
            let (u, w) = (share(&s, false).unwrap(), share(&s, true).unwrap());
            prop_assert!(close(u.value, w.value, 1e-12));
            let k = s.n as f64;
            if let Some(deff) = w.deff { prop_assert!(close(deff, k / (k - 1.0), 1e-9)); }
            let mut d = Distribution::default();
            for &(y, _) in &rs { d.add(y.round(), 1, 1.0); }
            let (u, w) = (median(&d, false).unwrap(), median(&d, true).unwrap());
            prop_assert_eq!((u.value, u.low, u.high), (w.value, w.low, w.high));
        }
    }
}
