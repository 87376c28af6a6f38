//! Inequality between groups and within a distribution.
//!
//! # Between two groups
//!
//! The groups' estimates come from disjoint sets of records (women and men, one province and
//! another) and are treated as independent, so their variances add.
//!
//! * [`gap`]: `a − b`, interval `(a − b) ± z·√(se_a² + se_b²)`.
//! * [`ratio`]: `r = a / b`, interval by the delta method on the log scale,
//!   `se(log r) = √((se_a/a)² + (se_b/b)²)`, interval `r·exp(±z·se(log r))`. A ratio is skewed
//!   (bounded below by 0, not above), its logarithm much less so; the interval is
//!   asymmetric around `r` and never negative. It needs `a > 0` and `b > 0`; otherwise only the
//!   value is given (and nothing when `b = 0`).
//! * [`adjusted_parity`]: the adjusted parity index of SDG indicator 4.5.1 (UNESCO Institute
//!   for Statistics, *SDG 4 metadata, indicator 4.5.1: parity indices*, and UIS, *Handbook on
//!   Measuring Equity in Education*, 2018). The plain parity index `r = focus/reference`
//!   is not symmetric around 1 (a group with half the other's value gives 0.5, a group with
//!   twice gives 2), so the UIS folds the values above 1:
//!
//!   ```text
//!   API = r            when r ≤ 1   (focus ≤ reference)
//!   API = 2 − 1/r      when r > 1   (i.e. 2 − reference/focus)
//!   ```
//!
//!   bounded in 0..2 and symmetric around 1 (parity): 0.5 and 1.5 are the same disparity
//!   in the two directions. The function is continuous and increasing, so the interval is the
//!   ratio's interval with both endpoints sent through it.
//! * [`significant_change`]: whether the 95 % interval of `a − b` excludes 0. A figure is
//!   called higher, lower, better or worse than another only when the difference exceeds the
//!   uncertainty of the two.
//!
//! # Within a distribution
//!
//! Both measures read a [`Distribution`] sorted by value, each value carrying its mass: the
//! sum of its records' weights when `weighted`, its records otherwise.
//!
//! * [`gini`]: the mean absolute difference over twice the mean,
//!
//!   ```text
//!   G = Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ),   W = Σ w,  μ = Σ w x / W
//!   ```
//!
//!   (the "population" definition, without the `n/(n−1)` correction; for 1, 2, 3, 4, 5 it
//!   gives 40/150 = 0.2667). On sorted values the double sum is
//!   `2 Σ_i w_i x_i (B_i − A_i)`, `B_i` and `A_i` the mass strictly below and strictly above
//!   `x_i`, computed in one pass. It is 0 when all values are equal, and it is given only for
//!   2 records or more and a positive mean.
//! * [`palma`]: the share of the total held by the top 10 % of the population over the share
//!   held by the bottom 40 % (Palma 2011; Cobham & Sumner 2013). The population is ordered by
//!   value and the cut points at 40 % and 90 % of the mass fall, in general, inside a value's
//!   mass: that value contributes in proportion to the part of its mass on each side. `None`
//!   when the bottom 40 % holds nothing (or less than nothing, with negative values).

use serde::{Deserialize, Serialize};

use crate::stats::{Distribution, Estimate, Z95};

/// A comparison of two groups' figures, with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Comparison {
    fn bare(value: f64) -> Comparison {
        Comparison {
            value,
            low: None,
            high: None,
        }
    }
}

/// `a − b`, with an interval when both standard errors are known.
pub fn gap(a: &Estimate, b: &Estimate) -> Comparison {
    let value = a.value - b.value;
    match (a.se, b.se) {
        (Some(sa), Some(sb)) => {
            let half = Z95 * (sa * sa + sb * sb).sqrt();
            Comparison {
                value,
                low: Some(value - half),
                high: Some(value + half),
            }
        }
        _ => Comparison::bare(value),
    }
}

/// `a / b` (`None` when `b` is 0), with a log-scale interval when both values are positive and
/// both standard errors known.
pub fn ratio(a: &Estimate, b: &Estimate) -> Option<Comparison> {
    if b.value == 0.0 || !b.value.is_finite() || !a.value.is_finite() {
        return None;
    }
    let r = a.value / b.value;
    match (a.se, b.se) {
        (Some(sa), Some(sb)) if a.value > 0.0 && b.value > 0.0 => {
            let se_log = ((sa / a.value).powi(2) + (sb / b.value).powi(2)).sqrt();
            Some(Comparison {
                value: r,
                low: Some(r * (-Z95 * se_log).exp()),
                high: Some(r * (Z95 * se_log).exp()),
            })
        }
        _ => Some(Comparison::bare(r)),
    }
}

/// The UIS adjustment of a parity index: `r` up to 1, `2 − 1/r` above.
fn adjust(r: f64) -> f64 {
    if r <= 1.0 {
        r
    } else {
        2.0 - 1.0 / r
    }
}

/// The adjusted parity index of SDG 4.5.1 of `focus` (e.g. women) against `reference`.
/// `None` when the reference is 0 or either value is negative (the index is defined for
/// non-negative figures).
pub fn adjusted_parity(focus: &Estimate, reference: &Estimate) -> Option<Comparison> {
    if focus.value < 0.0 || reference.value < 0.0 {
        return None;
    }
    let r = ratio(focus, reference)?;
    Some(Comparison {
        value: adjust(r.value),
        low: r.low.map(adjust),
        high: r.high.map(adjust),
    })
}

/// Whether `a` and `b` differ beyond their uncertainty: the 95 % interval of `a − b` excludes
/// 0. `None` when a standard error is missing.
pub fn significant_change(a: &Estimate, b: &Estimate) -> Option<bool> {
    let g = gap(a, b);
    match (g.low, g.high) {
        (Some(low), Some(high)) => Some(low > 0.0 || high < 0.0),
        _ => None,
    }
}

/// The Gini coefficient of a distribution (see the module's documentation for the
/// definition). `None` below 2 records or when the mean is not positive.
pub fn gini(d: &Distribution, weighted: bool) -> Option<f64> {
    if d.records() < 2 {
        return None;
    }
    let masses: Vec<(f64, f64)> = d.masses(weighted).collect();
    let total: f64 = masses.iter().map(|e| e.1).sum();
    if total <= 0.0 {
        return None;
    }
    let mu = masses.iter().map(|&(x, w)| x * w).sum::<f64>() / total;
    if mu <= 0.0 || !mu.is_finite() {
        return None;
    }
    let mut below = 0.0;
    let mut pairs = 0.0;
    for &(x, w) in &masses {
        let above = total - below - w;
        pairs += w * x * (below - above);
        below += w;
    }
    Some((2.0 * pairs / (2.0 * total * total * mu)).max(0.0))
}

/// The Palma ratio: the share of the top 10 % over the share of the bottom 40 %.
pub fn palma(d: &Distribution, weighted: bool) -> Option<f64> {
    let masses: Vec<(f64, f64)> = d.masses(weighted).collect();
    let total: f64 = masses.iter().map(|e| e.1).sum();
    if total <= 0.0 {
        return None;
    }
    let (cut_low, cut_high) = (0.4 * total, 0.9 * total);
    let mut before = 0.0;
    let mut bottom = 0.0;
    let mut top = 0.0;
    for &(x, w) in &masses {
        let after = before + w;
        bottom += x * (cut_low.min(after) - before).max(0.0);
        top += x * (after - cut_high.max(before)).max(0.0);
        before = after;
    }
    if bottom <= 0.0 {
        return None;
    }
    Some(top / bottom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Method;

    fn est(value: f64, se: Option<f64>) -> Estimate {
        Estimate {
            n: 100,
            value,
            se,
            low: se.map(|s| value - Z95 * s),
            high: se.map(|s| value + Z95 * s),
            deff: None,
            method: Method::Normal,
        }
    }

    fn dist(values: &[f64]) -> Distribution {
        let mut d = Distribution::default();
        for &v in values {
            d.add(v, 1, 1.0);
        }
        d
    }

    #[test]
    fn gap_adds_variances() {
        // 0.6 − 0.4 = 0.2, se = √(0.03² + 0.04²) = 0.05, half-width 1.96·0.05 = 0.098.
        let g = gap(&est(0.6, Some(0.03)), &est(0.4, Some(0.04)));
        assert!((g.value - 0.2).abs() < 1e-12);
        assert!((g.low.unwrap() - (0.2 - Z95 * 0.05)).abs() < 1e-12);
        assert!((g.high.unwrap() - 0.298).abs() < 1e-4);
        assert_eq!(gap(&est(0.6, None), &est(0.4, Some(0.04))).low, None);
    }

    #[test]
    fn ratio_on_the_log_scale() {
        // 0.6/0.4 = 1.5; se(log r) = √(0.05² + 0.1²) = 0.111803;
        // interval 1.5·exp(∓1.96·0.111803) = [1.2048, 1.8675].
        let r = ratio(&est(0.6, Some(0.03)), &est(0.4, Some(0.04))).unwrap();
        assert!((r.value - 1.5).abs() < 1e-12);
        assert!((r.low.unwrap() - 1.2048).abs() < 1e-4);
        assert!((r.high.unwrap() - 1.8675).abs() < 1e-4);
        assert!(ratio(&est(0.6, Some(0.03)), &est(0.0, Some(0.04))).is_none());
        let z = ratio(&est(0.0, Some(0.03)), &est(0.4, Some(0.04))).unwrap();
        assert_eq!((z.value, z.low, z.high), (0.0, None, None));
    }

    #[test]
    fn adjusted_parity_index() {
        // UIS: F/M = 0.8 → 0.8; F/M = 1.25 → 2 − 1/1.25 = 1.2; 2 → 1.5; 0.5 → 0.5.
        for (f, m, api) in [
            (0.4, 0.5, 0.8),
            (0.5, 0.4, 1.2),
            (0.8, 0.4, 1.5),
            (0.2, 0.4, 0.5),
        ] {
            let c = adjusted_parity(&est(f, None), &est(m, None)).unwrap();
            assert!((c.value - api).abs() < 1e-12, "{f}/{m}");
        }
        // The interval is the ratio's, endpoints adjusted: [1.2048, 1.8675] → [1.1700, 1.4645].
        let c = adjusted_parity(&est(0.6, Some(0.03)), &est(0.4, Some(0.04))).unwrap();
        assert!((c.value - (2.0 - 1.0 / 1.5)).abs() < 1e-12);
        assert!((c.low.unwrap() - (2.0 - 1.0 / 1.204_825)).abs() < 1e-4);
        assert!((c.high.unwrap() - (2.0 - 1.0 / 1.867_491)).abs() < 1e-4);
        assert!(c.high.unwrap() < 2.0);
        assert!(adjusted_parity(&est(0.5, None), &est(0.0, None)).is_none());
        assert!(adjusted_parity(&est(-0.5, None), &est(1.0, None)).is_none());
    }

    #[test]
    fn change_beyond_the_uncertainty() {
        assert_eq!(
            significant_change(&est(0.6, Some(0.03)), &est(0.4, Some(0.04))),
            Some(true)
        );
        assert_eq!(
            significant_change(&est(0.45, Some(0.03)), &est(0.4, Some(0.04))),
            Some(false)
        );
        assert_eq!(significant_change(&est(0.6, None), &est(0.4, None)), None);
    }

    #[test]
    fn gini_by_hand() {
        // Σ|xi − xj| over ordered pairs of 1..5 = 40; 2n²μ = 2·25·3 = 150; G = 0.2667.
        let g = gini(&dist(&[1.0, 2.0, 3.0, 4.0, 5.0]), false).unwrap();
        assert!((g - 40.0 / 150.0).abs() < 1e-12);
        assert_eq!(gini(&dist(&[3.0, 3.0, 3.0]), false), Some(0.0));
        // One person holds everything among 4: G = (n − 1)/n = 0.75.
        let g = gini(&dist(&[0.0, 0.0, 0.0, 8.0]), false).unwrap();
        assert!((g - 0.75).abs() < 1e-12);
        assert_eq!(gini(&dist(&[3.0]), false), None);
        assert_eq!(gini(&dist(&[0.0, 0.0]), false), None);
    }

    #[test]
    fn weighted_gini_is_the_gini_of_the_repeated_values() {
        // 1 with weight 2 and 4 with weight 1 is 1, 1, 4.
        let mut d = Distribution::default();
        d.add(1.0, 1, 2.0);
        d.add(4.0, 1, 1.0);
        let g = gini(&d, true).unwrap();
        let h = gini(&dist(&[1.0, 1.0, 4.0]), false).unwrap();
        assert!((g - h).abs() < 1e-12);
        // Σ|xi − xj| = 4·3 = 12; 2·9·2 = 36: G = 1/3.
        assert!((h - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn palma_by_hand() {
        // 1..10, one each: top 10 % = 10, bottom 40 % = 1 + 2 + 3 + 4 = 10.
        let d = dist(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((palma(&d, false).unwrap() - 1.0).abs() < 1e-12);
        // 1..5: the 40 % cut falls after 2 records (1 + 2 = 3), the 90 % cut in the middle of
        // the 5: top = 2.5; Palma = 2.5/3.
        let d = dist(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((palma(&d, false).unwrap() - 2.5 / 3.0).abs() < 1e-12);
        // Nine at 1, one at 11: 11/4.
        let mut v = vec![1.0; 9];
        v.push(11.0);
        assert!((palma(&dist(&v), false).unwrap() - 2.75).abs() < 1e-12);
        // The bottom 40 % hold nothing.
        assert_eq!(palma(&dist(&[0.0, 0.0, 5.0, 6.0]), false), None);
        assert_eq!(palma(&Distribution::default(), false), None);
    }
}
