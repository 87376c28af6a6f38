//! The sufficient statistics of a cell and the estimates made from them.
//!
//! SKELETON: the estimation functions are to be written (see each `todo!`).

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
    pub fn add(&mut self, value: f64, n: i64, w: f64) {
        let _ = (value, n, w);
        todo!("keep values sorted; drop a value whose records reach 0")
    }
}

/// A proportion (every `y` is 0 or 1): Wilson interval when unweighted; with weights, the
/// linearised variance, the design effect and a Wilson interval on the effective sample size.
/// `None` for an empty cell.
pub fn share(m: &Moments, weighted: bool) -> Option<Estimate> {
    let _ = (m, weighted);
    todo!()
}

/// A mean: normal interval with the sample variance; with weights, the linearised variance
/// of the ratio Σwy/Σw and the design effect.
pub fn mean(m: &Moments, weighted: bool) -> Option<Estimate> {
    let _ = (m, weighted);
    todo!()
}

/// A total (Σy, or Σwy with weights) with its interval.
pub fn total(m: &Moments, weighted: bool) -> Option<Estimate> {
    let _ = (m, weighted);
    todo!()
}

/// A median (weighted when the weights differ), with an interval from order statistics.
pub fn median(d: &Distribution, weighted: bool) -> Option<Estimate> {
    let _ = (d, weighted);
    todo!()
}
