//! Inequality between groups and within a distribution.
//!
//! SKELETON: to be written.

use serde::{Deserialize, Serialize};

use crate::stats::{Distribution, Estimate};

/// A comparison of two groups' figures, with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// `a − b`.
pub fn gap(a: &Estimate, b: &Estimate) -> Comparison {
    let _ = (a, b);
    todo!()
}

/// `a / b` (`None` when `b` is 0).
pub fn ratio(a: &Estimate, b: &Estimate) -> Option<Comparison> {
    let _ = (a, b);
    todo!()
}

/// The adjusted parity index of SDG 4.5.1 of `focus` (e.g. women) against `reference`.
pub fn adjusted_parity(focus: &Estimate, reference: &Estimate) -> Option<Comparison> {
    let _ = (focus, reference);
    todo!()
}

/// The Gini coefficient of a distribution.
pub fn gini(d: &Distribution, weighted: bool) -> Option<f64> {
    let _ = (d, weighted);
    todo!()
}

/// The Palma ratio: the share of the top 10 % over the share of the bottom 40 %.
pub fn palma(d: &Distribution, weighted: bool) -> Option<f64> {
    let _ = (d, weighted);
    todo!()
}
