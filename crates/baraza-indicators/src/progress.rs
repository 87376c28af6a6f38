//! Progress towards a target, as Open SDG assesses it.
//!
//! # Source
//!
//! Open SDG's progress measure was designed by Statistics Canada for Canada's SDG data hub
//! and is implemented in `sdg-build` (the Python library that builds Open SDG sites), file
//! `sdg/ProgressMeasure.py`, read at commit `139fede74ba534d2ed8b9eee4cd878b41f54cb67` of
//! `github.com/open-sdg/sdg-build`; the methodology is written up in Open SDG's
//! `docs/progress-methodology.md` (commit `26d2e38700e4fee329fea4823e908c4298064693` of
//! `github.com/open-sdg/open-sdg`), which says it was inspired by Eurostat's method for the
//! EU SDG monitoring report. This module reproduces the series-level calculation (`SeriesProgress`), not the
//! averaging of several series into an indicator's score.
//!
//! # The calculation
//!
//! 1. The series is `(year, value)` pairs; missing values (NaN) are dropped, and a year given
//!    twice is an error (as in `sdg-build`).
//! 2. The latest year `t` is the last year with data, `y_t` its value. The base year `t₀` is
//!    the configured one (2015) when it has data, otherwise the first year *after* it with
//!    data; `y₀` its value. With no year at or after the base year, nothing can be assessed.
//! 3. The compound annual growth rate is `CAGR(a, b, t_a, t_b) = (a/b)^(1/(t_a − t_b)) − 1`.
//!    A base value of 0 is replaced by 0.001 (and so is a target of 0), since growth from 0 is
//!    not defined. Base and latest values of opposite signs, fewer than one year between them,
//!    give no progress value. `s = −1` when `y₀ < 0`, else `+1`; `d = +1` when higher is
//!    better, `−1` when lower is better.
//! 4. Without a target ("method 1"): the progress value is `s·d·CAGR(y_t, y₀, t, t₀)`,
//!    compared with the thresholds high = 1.5 %, med = 0.5 %, low = 0. With a natural limit
//!    (e.g. 100 % for a coverage), the thresholds are multiplied by
//!    `C = 1 − (|y₀|/|lim|)^4.44` when `|y₀| ≤ |lim|`, `C = 1 − ((2|lim| − |y₀|)/|lim|)^4.44`
//!    when `|lim| < |y₀| < 2|lim|`, and `C = 1` beyond: near the limit, smaller growth counts
//!    as progress.
//! 5. With a target `y_T` for the target year `T` (2030) ("method 2"): the required growth
//!    `CAGR_T = CAGR(y_T, y₀, T, t₀)` and the progress value is the ratio
//!    `R = s·d·CAGR_t / |CAGR_T|`, compared with high = 0.95, med = 0.6, low = 0. A limit is
//!    ignored when there is a target.
//! 6. The status: *target achieved* when there is a target and the latest value has reached
//!    it (`y_t ≥ y_T` when higher is better, `y_t ≤ y_T` when lower is), whatever the growth;
//!    otherwise *substantial progress* when the value ≥ high, *moderate progress* when
//!    ≥ med, *limited progress* when ≥ low, *deterioration* below; *not available* when there
//!    is no progress value.
//! 7. The score in −5..5 (used by Open SDG to average several series) is the piecewise-linear
//!    function of `sdg-build`: without a target, `max(125v − 2.5, −5)` below `low`, and for
//!    `v ≥ low` `500v/C − 2.5`, `250v/C − 1.25`, `min(500v/C − 5, 5)` from low, med and high
//!    (5 when `C = 0`); with a target, `max(4.1667R − 2.5, −5)` below `med` and
//!    `min(7.1429R − 4.2857, 5)` from `med`; 5 when the target is achieved.
//!
//! Open SDG's configuration defaults the direction to *negative* (lower is better);
//! [`Options::default`] keeps that default, but an indicator definition should always say.
//!
//! # Change beyond the uncertainty
//!
//! Citizen figures come with intervals, and the growth between two figures whose intervals
//! overlap may be noise. [`assess_with_uncertainty`] makes the same assessment on the
//! estimates' values, then tests the difference between the latest and the base estimate
//! ([`crate::inequality::significant_change`]: the 95 % interval of the difference, with the
//! standard errors; failing those, whether the two intervals are disjoint). When the
//! difference is not significant, the status is [`Status::NoMeasurableChange`] instead of a
//! progress or deterioration category (a reached target stays [`Status::TargetAchieved`],
//! since it is about the level, not the change); the Open SDG status is kept in
//! [`Progress::assessed`]. When nothing tells the uncertainty, the status stands and
//! [`Progress::change_significant`] is `None`.

use serde::{Deserialize, Serialize};

use crate::inequality::significant_change;
use crate::stats::Estimate;

/// Open SDG's default base year.
pub const BASE_YEAR: i32 = 2015;
/// Open SDG's default target year.
pub const TARGET_YEAR: i32 = 2030;

/// Which way is progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better (Open SDG's `positive`).
    #[serde(alias = "positive")]
    Higher,
    /// Lower is better (Open SDG's `negative`, its default).
    #[serde(alias = "negative")]
    #[default]
    Lower,
}

impl Direction {
    fn sign(self) -> f64 {
        match self {
            Direction::Higher => 1.0,
            Direction::Lower => -1.0,
        }
    }
}

/// The thresholds a progress value is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub high: f64,
    pub med: f64,
    pub low: f64,
}

impl Thresholds {
    /// Open SDG's defaults without a target: compound annual growth rates of 1.5 %, 0.5 %, 0.
    pub const WITHOUT_TARGET: Thresholds = Thresholds {
        high: 0.015,
        med: 0.005,
        low: 0.0,
    };
    /// Open SDG's defaults with a target: ratios of observed to required growth of 0.95, 0.6, 0.
    pub const WITH_TARGET: Thresholds = Thresholds {
        high: 0.95,
        med: 0.6,
        low: 0.0,
    };
}

/// How to assess a series (Open SDG's `progress_calculation_options` for one series).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    pub direction: Direction,
    /// The value to reach, if the target is quantitative.
    pub target: Option<f64>,
    pub target_year: i32,
    pub base_year: i32,
    /// A natural limit (minimum or maximum) of the indicator, used without a target.
    pub limit: Option<f64>,
    /// Thresholds replacing the defaults of the method (with or without a target).
    pub thresholds: Option<Thresholds>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            direction: Direction::Lower,
            target: None,
            target_year: TARGET_YEAR,
            base_year: BASE_YEAR,
            limit: None,
            thresholds: None,
        }
    }
}

/// Open SDG's progress categories, plus the verdict on changes within the uncertainty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    TargetAchieved,
    SubstantialProgress,
    ModerateProgress,
    LimitedProgress,
    Deterioration,
    /// Too little data, or data the method cannot use.
    NotAvailable,
    /// The change from the base year is within the uncertainty of the figures (only from
    /// [`assess_with_uncertainty`]).
    NoMeasurableChange,
}

/// One observation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub year: i32,
    pub value: f64,
}

/// The assessment of a series.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub status: Status,
    /// The status by Open SDG's rules alone (equal to `status` except for
    /// [`Status::NoMeasurableChange`]).
    pub assessed: Status,
    /// Observed compound annual growth rate from the base to the latest year (raw, whatever the
    /// direction).
    pub observed_cagr: Option<f64>,
    /// Growth rate required to reach the target in the target year, when there is a target.
    pub required_cagr: Option<f64>,
    /// `s·d·observed / |required|`, when there is a target.
    pub ratio: Option<f64>,
    /// The value compared with the thresholds (the direction-adjusted CAGR, or `ratio`).
    pub progress_value: Option<f64>,
    /// Open SDG's score in −5..=5.
    pub score: Option<f64>,
    pub base: Option<Point>,
    pub latest: Option<Point>,
    /// The target used (0 replaced by 0.001) and its year.
    pub target: Option<f64>,
    pub target_year: i32,
    /// The thresholds used, after any scaling for a limit.
    pub thresholds: Thresholds,
    /// The limit coefficient `C` (without a target, with a limit).
    pub coefficient: Option<f64>,
    /// Whether the latest figure differs from the base one beyond their uncertainty
    /// (only from [`assess_with_uncertainty`], when it can tell).
    pub change_significant: Option<bool>,
}

/// A series that cannot be assessed at all.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum ProgressError {
    #[error("the year {0} has more than one value")]
    DuplicateYear(i32),
}

/// Compound annual growth rate from `(t0, v0)` to `(t1, v1)`; `None` when not a real number.
fn cagr(v1: f64, v0: f64, t1: i32, t0: i32) -> Option<f64> {
    let g = (v1 / v0).powf(1.0 / f64::from(t1 - t0)) - 1.0;
    g.is_finite().then_some(g)
}

/// The limit coefficient `C` of `sdg-build`.
fn limit_coefficient(base: f64, limit: f64) -> f64 {
    let (b, l) = (base.abs(), limit.abs());
    const A: f64 = 4.44;
    if b >= 2.0 * l {
        1.0
    } else if b <= l {
        1.0 - (b / l).powf(A)
    } else {
        1.0 - ((2.0 * l - b) / l).powf(A)
    }
}

fn status_of(value: Option<f64>, t: &Thresholds, target_achieved: bool) -> Status {
    if target_achieved {
        return Status::TargetAchieved;
    }
    match value {
        Some(v) if v >= t.high => Status::SubstantialProgress,
        Some(v) if v >= t.med => Status::ModerateProgress,
        Some(v) if v >= t.low => Status::LimitedProgress,
        Some(v) if v < t.low => Status::Deterioration,
        _ => Status::NotAvailable,
    }
}

fn score_of(
    value: Option<f64>,
    t: &Thresholds,
    with_target: bool,
    coeff: f64,
    target_achieved: bool,
) -> Option<f64> {
    if target_achieved {
        return Some(5.0);
    }
    let v = value?;
    let s = if !with_target {
        if v < t.low {
            (125.0 * v - 2.5).max(-5.0)
        } else if coeff == 0.0 {
            5.0
        } else if v >= t.high {
            (500.0 * v / coeff - 5.0).min(5.0)
        } else if v >= t.med {
            250.0 * v / coeff - 1.25
        } else {
            500.0 * v / coeff - 2.5
        }
    } else if v >= t.med {
        (7.1429 * v - 4.2857).min(5.0)
    } else {
        (4.1667 * v - 2.5).max(-5.0)
    };
    Some(s)
}

/// Assesses the progress of a series of `(year, value)` towards `options`' target (or its
/// direction), by Open SDG's method (see the module's documentation).
pub fn assess(series: &[(i32, f64)], options: &Options) -> Result<Progress, ProgressError> {
    let mut data: Vec<(i32, f64)> = series.iter().copied().filter(|p| !p.1.is_nan()).collect();
    data.sort_by_key(|p| p.0);
    if let Some(w) = data.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ProgressError::DuplicateYear(w[0].0));
    }
    let target = options.target.map(|t| if t == 0.0 { 0.001 } else { t });
    let with_target = target.is_some();
    let mut progress = Progress {
        status: Status::NotAvailable,
        assessed: Status::NotAvailable,
        observed_cagr: None,
        required_cagr: None,
        ratio: None,
        progress_value: None,
        score: None,
        base: None,
        latest: None,
        target,
        target_year: options.target_year,
        thresholds: options.thresholds.unwrap_or(if with_target {
            Thresholds::WITH_TARGET
        } else {
            Thresholds::WITHOUT_TARGET
        }),
        coefficient: None,
        change_significant: None,
    };
    let Some(&(latest_year, latest_value)) = data.last() else {
        return Ok(progress);
    };
    progress.latest = Some(Point {
        year: latest_year,
        value: latest_value,
    });
    let Some(&(base_year, base_value)) = data.iter().find(|p| p.0 >= options.base_year) else {
        return Ok(progress);
    };
    progress.base = Some(Point {
        year: base_year,
        value: base_value,
    });
    let sign = if base_value < 0.0 { -1.0 } else { 1.0 };
    let d = options.direction.sign();
    let mut coeff = 1.0;
    if !with_target {
        if let Some(limit) = options.limit {
            coeff = limit_coefficient(base_value, limit);
            let t = &mut progress.thresholds;
            t.high *= coeff;
            t.med *= coeff;
            t.low *= coeff;
            progress.coefficient = Some(coeff);
        }
    }
    let target_achieved = match (target, options.direction) {
        (Some(t), Direction::Higher) => latest_value >= t,
        (Some(t), Direction::Lower) => latest_value <= t,
        (None, _) => false,
    };
    let base_value = if base_value == 0.0 { 0.001 } else { base_value };
    let opposite_signs =
        (base_value > 0.0 && latest_value < 0.0) || (base_value < 0.0 && latest_value > 0.0);
    if !opposite_signs && latest_year - base_year >= 1 {
        progress.observed_cagr = cagr(latest_value, base_value, latest_year, base_year);
        match target {
            None => progress.progress_value = progress.observed_cagr.map(|g| sign * d * g),
            Some(t) => {
                progress.required_cagr = cagr(t, base_value, options.target_year, base_year);
                if let (Some(o), Some(r)) = (progress.observed_cagr, progress.required_cagr) {
                    let ratio = sign * d * o / r.abs();
                    if ratio.is_finite() {
                        progress.ratio = Some(ratio);
                        progress.progress_value = Some(ratio);
                    }
                }
            }
        }
    }
    progress.status = status_of(
        progress.progress_value,
        &progress.thresholds,
        target_achieved,
    );
    progress.assessed = progress.status;
    progress.score = score_of(
        progress.progress_value,
        &progress.thresholds,
        with_target,
        coeff,
        target_achieved,
    );
    Ok(progress)
}

/// Whether two estimates differ beyond their uncertainty: the test on the difference when both
/// standard errors are known, else whether their intervals are disjoint.
fn changed(base: &Estimate, latest: &Estimate) -> Option<bool> {
    if let Some(s) = significant_change(latest, base) {
        return Some(s);
    }
    match (base.low, base.high, latest.low, latest.high) {
        (Some(bl), Some(bh), Some(ll), Some(lh)) => Some(lh < bl || ll > bh),
        _ => None,
    }
}

/// Like [`assess`] on the estimates' values, but a change from the base year is called
/// progress or deterioration only when it exceeds the uncertainty of the base and latest
/// estimates; otherwise the status is [`Status::NoMeasurableChange`].
pub fn assess_with_uncertainty(
    series: &[(i32, Estimate)],
    options: &Options,
) -> Result<Progress, ProgressError> {
    let values: Vec<(i32, f64)> = series.iter().map(|(y, e)| (*y, e.value)).collect();
    let mut progress = assess(&values, options)?;
    let find = |p: Option<Point>| {
        p.and_then(|p| {
            series
                .iter()
                .find(|(y, e)| *y == p.year && !e.value.is_nan())
                .map(|(_, e)| e)
        })
    };
    if let (Some(base), Some(latest)) = (find(progress.base), find(progress.latest)) {
        if progress.base.map(|p| p.year) != progress.latest.map(|p| p.year) {
            progress.change_significant = changed(base, latest);
        }
    }
    let calls_a_change = matches!(
        progress.status,
        Status::SubstantialProgress
            | Status::ModerateProgress
            | Status::LimitedProgress
            | Status::Deterioration
    );
    if calls_a_change && progress.change_significant == Some(false) {
        progress.status = Status::NoMeasurableChange;
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Method, Z95};

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn sdg_build_test_asset_1_1_1() {
        // sdg-build tests/assets/progress-calculation: indicator 1-1-1, headline 2020: 100,
        // 2021: 120, no options but `auto_progress_calculation` (so direction negative, base
        // 2015 → 2020 the first year with data). CAGR = 20 %, progress value −0.2.
        let p = assess(&[(2020, 100.0), (2021, 120.0)], &Options::default()).unwrap();
        assert_eq!(
            p.base,
            Some(Point {
                year: 2020,
                value: 100.0
            })
        );
        assert_eq!(
            p.latest,
            Some(Point {
                year: 2021,
                value: 120.0
            })
        );
        assert!(close(p.observed_cagr, 0.2));
        assert!(close(p.progress_value, -0.2));
        assert_eq!(p.status, Status::Deterioration);
        // Score: max(125·(−0.2) − 2.5, −5) = −5.
        assert!(close(p.score, -5.0));
    }

    #[test]
    fn sdg_build_test_asset_3_3_3() {
        // sdg-build tests/assets/progress-calculation: indicator 3-3-3, headline series,
        // options `direction: negative, target: 0` (so target 0.001, year 2030, base 2015).
        let series = [
            (2010, 1.51),
            (2011, 1.51),
            (2012, 1.38),
            (2013, 1.4),
            (2014, 1.27),
            (2015, 1.55),
            (2016, 1.69),
            (2017, 1.65),
            (2018, 1.62),
            (2019, 1.82),
        ];
        let options = Options {
            direction: Direction::Lower,
            target: Some(0.0),
            ..Options::default()
        };
        let p = assess(&series, &options).unwrap();
        assert_eq!(p.target, Some(0.001));
        assert_eq!(
            p.base,
            Some(Point {
                year: 2015,
                value: 1.55
            })
        );
        // CAGR_o = (1.82/1.55)^(1/4) − 1 = 0.0409621; CAGR_T = (0.001/1.55)^(1/15) − 1
        // = −0.3872106; R = −0.0409621/0.3872106 = −0.1057877.
        assert!((p.observed_cagr.unwrap() - 0.040_962_1).abs() < 1e-7);
        assert!((p.required_cagr.unwrap() + 0.387_210_6).abs() < 1e-7);
        assert!((p.ratio.unwrap() + 0.105_787_7).abs() < 1e-7);
        assert_eq!(p.status, Status::Deterioration);
        // Score max(4.1667·R − 2.5, −5) = −2.94079.
        assert!((p.score.unwrap() + 2.940_785).abs() < 1e-5);
        // Female series of the same file, 2015: 1.16 → 2019: 1.28: deterioration too.
        let female = [(2015, 1.16), (2019, 1.28)];
        assert_eq!(
            assess(&female, &options).unwrap().status,
            Status::Deterioration
        );
    }

    #[test]
    fn ratio_categories_with_a_target() {
        // Higher is better, 50 in 2015 → 60 in 2020, target 80 in 2030:
        // CAGR_o = 0.0371373, CAGR_T = 0.0318296, R = 1.16675 ≥ 0.95: substantial.
        let o = Options {
            direction: Direction::Higher,
            target: Some(80.0),
            ..Options::default()
        };
        let p = assess(&[(2015, 50.0), (2020, 60.0)], &o).unwrap();
        assert!((p.ratio.unwrap() - 1.166_751_8).abs() < 1e-6);
        assert_eq!(p.status, Status::SubstantialProgress);
        // Score min(7.1429·R − 4.2857, 5) = 4.04829.
        assert!((p.score.unwrap() - 4.048_29).abs() < 1e-4);
        let at = |o: &Options, v: f64| assess(&[(2015, 50.0), (2020, v)], o).unwrap().status;
        assert_eq!(at(&o, 80.0), Status::TargetAchieved);
        assert_eq!(at(&o, 57.0), Status::ModerateProgress); // R = 0.835
        assert_eq!(at(&o, 52.0), Status::LimitedProgress); // R = 0.249
        assert_eq!(at(&o, 49.0), Status::Deterioration);
        // Lower is better, target 20: 50 → 30 is CAGR −9.71 % against −5.93 % required.
        let lower = Options {
            direction: Direction::Lower,
            target: Some(20.0),
            ..o
        };
        assert_eq!(at(&lower, 20.0), Status::TargetAchieved);
        assert_eq!(at(&lower, 30.0), Status::SubstantialProgress);
        assert_eq!(at(&lower, 40.0), Status::ModerateProgress); // R = 0.735
        assert_eq!(at(&lower, 55.0), Status::Deterioration);
    }

    #[test]
    fn growth_categories_without_a_target() {
        let higher = Options {
            direction: Direction::Higher,
            ..Options::default()
        };
        let at = |v: f64| assess(&[(2015, 100.0), (2016, v)], &higher).unwrap().status;
        assert_eq!(at(102.0), Status::SubstantialProgress); // 2 % ≥ 1.5 %
        assert_eq!(at(101.0), Status::ModerateProgress); // 1 % ≥ 0.5 %
        assert_eq!(at(100.2), Status::LimitedProgress); // 0.2 % ≥ 0
        assert_eq!(at(100.0), Status::LimitedProgress); // 0 is limited progress, not decline
        assert_eq!(at(99.0), Status::Deterioration);
    }

    #[test]
    fn thresholds_shrink_near_a_limit() {
        // Coverage 95 % → 96 % in 5 years, limit 100: CAGR = 0.2096 %, below 0.5 %; with the
        // limit, C = 1 − 0.95^4.44 = 0.20367 and the thresholds 0.3055 %, 0.1018 %, 0:
        // moderate progress, score 250·CAGR/C − 1.25 = 1.32334.
        let mut o = Options {
            direction: Direction::Higher,
            ..Options::default()
        };
        let series = [(2015, 95.0), (2020, 96.0)];
        assert_eq!(assess(&series, &o).unwrap().status, Status::LimitedProgress);
        o.limit = Some(100.0);
        let p = assess(&series, &o).unwrap();
        assert!((p.coefficient.unwrap() - 0.203_670_5).abs() < 1e-6);
        assert!((p.thresholds.high - 0.003_055_06).abs() < 1e-8);
        assert_eq!(p.status, Status::ModerateProgress);
        assert!((p.score.unwrap() - 1.323_341).abs() < 1e-5);
    }

    #[test]
    fn edge_cases() {
        let o = Options::default();
        // No data; no data from the base year on; a single year.
        assert_eq!(assess(&[], &o).unwrap().status, Status::NotAvailable);
        let p = assess(&[(2010, 1.0), (2012, 2.0)], &o).unwrap();
        assert_eq!((p.status, p.base), (Status::NotAvailable, None));
        let p = assess(&[(2018, 1.0)], &o).unwrap();
        assert_eq!((p.status, p.progress_value), (Status::NotAvailable, None));
        // Opposite signs give no progress value.
        let p = assess(&[(2015, 1.0), (2018, -1.0)], &o).unwrap();
        assert_eq!(p.status, Status::NotAvailable);
        // A base of 0 is taken as 0.001.
        let p = assess(&[(2015, 0.0), (2016, 0.002)], &o).unwrap();
        assert!(close(p.observed_cagr, 1.0));
        // Negative values: s = −1 (−10 → −5, lower is better, is a growth of −50 % in the
        // ratio, turned into +50 %... times d = −1: deterioration, as the value rose).
        let p = assess(&[(2015, -10.0), (2016, -5.0)], &o).unwrap();
        assert!(close(p.progress_value, -0.5));
        assert_eq!(p.status, Status::Deterioration);
        // Missing values are skipped; a year twice is an error.
        let p = assess(&[(2015, 2.0), (2016, f64::NAN), (2017, 1.0)], &o).unwrap();
        assert_eq!(p.latest.map(|l| l.year), Some(2017));
        assert_eq!(
            assess(&[(2015, 2.0), (2015, 1.0)], &o),
            Err(ProgressError::DuplicateYear(2015))
        );
    }

    #[test]
    fn serialises_in_snake_case() {
        let o = Options {
            direction: Direction::Higher,
            target: Some(80.0),
            ..Options::default()
        };
        let p = assess(&[(2015, 50.0), (2020, 60.0)], &o).unwrap();
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["status"], "substantial_progress");
        assert!(json["observed_cagr"].is_number());
        assert_eq!(json["base"]["year"], 2015);
        assert_eq!(
            serde_json::to_string(&Status::NoMeasurableChange).unwrap(),
            "\"no_measurable_change\""
        );
        let o: Options = serde_json::from_str(r#"{"direction": "positive", "target": 1}"#).unwrap();
        assert_eq!(
            (o.direction, o.base_year, o.target_year),
            (Direction::Higher, 2015, 2030)
        );
    }

    fn share(value: f64, se: f64) -> Estimate {
        Estimate {
            n: 200,
            value,
            se: Some(se),
            low: Some(value - Z95 * se),
            high: Some(value + Z95 * se),
            deff: None,
            method: Method::Wilson,
        }
    }

    #[test]
    fn a_change_must_exceed_the_uncertainty() {
        let o = Options {
            direction: Direction::Higher,
            ..Options::default()
        };
        // 0.50 → 0.53 in three years is 1.96 % a year (substantial) but within ±0.05.
        let series = [(2015, share(0.50, 0.035)), (2018, share(0.53, 0.035))];
        let p = assess_with_uncertainty(&series, &o).unwrap();
        assert_eq!(p.assessed, Status::SubstantialProgress);
        assert_eq!(p.status, Status::NoMeasurableChange);
        assert_eq!(p.change_significant, Some(false));
        // With narrow intervals the same change is progress.
        let series = [(2015, share(0.50, 0.005)), (2018, share(0.53, 0.005))];
        let p = assess_with_uncertainty(&series, &o).unwrap();
        assert_eq!(
            (p.status, p.change_significant),
            (Status::SubstantialProgress, Some(true))
        );
        // Intervals without standard errors: disjoint or not.
        let mut a = share(0.50, 0.035);
        let mut b = share(0.53, 0.035);
        a.se = None;
        b.se = None;
        let p = assess_with_uncertainty(&[(2015, a), (2018, b)], &o).unwrap();
        assert_eq!(p.status, Status::NoMeasurableChange);
        // No uncertainty at all: Open SDG's status stands.
        a.low = None;
        a.high = None;
        let p = assess_with_uncertainty(&[(2015, a), (2018, b)], &o).unwrap();
        assert_eq!(
            (p.status, p.change_significant),
            (Status::SubstantialProgress, None)
        );
        // A reached target stays reached.
        let t = Options {
            target: Some(0.52),
            ..o
        };
        let series = [(2015, share(0.50, 0.035)), (2018, share(0.53, 0.035))];
        let p = assess_with_uncertainty(&series, &t).unwrap();
        assert_eq!(p.status, Status::TargetAchieved);
    }
}
