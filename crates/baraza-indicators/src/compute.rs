//! A record's contribution to an indicator, and the cells it adds to.
//!
//! # Cells
//!
//! An indicator's figures live in *cells*: one per period × place × group, where the place
//! may be the total (`_T`, as in SDMX) and the group is one value of one disaggregation, or
//! the total. A record of October 2026 in N'Djamena whose head of household is a woman adds to
//! eight cells for an indicator with two disaggregations (sex, household size):
//! (2026-10, TD-ND | _T) × (_T | sex=femme | size=5-8). Crossing every disaggregation with every
//! other would multiply cells (and small cells) without telling more than one at a time; the
//! place is crossed with each, which is what "who is left behind, where" needs.
//!
//! # Adding and taking away
//!
//! A cell keeps sums ([`Moments`]) and, for medians and the inequality of numeric outcomes, a
//! value [`Distribution`]. Both can take a record's contribution away again. So a record's
//! contribution is kept beside it: when the record is edited, rejected or erased, the old
//! contribution is taken away and the new one (if any) added. No nightly rebuild, and a full
//! recompute from the records must give the same cells (a property test checks it).

use std::collections::BTreeMap;

use baraza_expr::{Context, Expr, Value};
use serde::{Deserialize, Serialize};

use crate::define::{Aggregation, Definition, Dimension};
use crate::stats::{self, Distribution, Estimate, Moments};

/// The total of a dimension (SDMX's `_T`).
pub const TOTAL: &str = "_T";

/// Which cell: period × place × (dimension, group).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub period: String,
    /// A place code, or [`TOTAL`].
    pub place: String,
    /// A dimension's name, or [`TOTAL`].
    pub dim: String,
    /// A group of the dimension, or [`TOTAL`].
    pub group: String,
}

impl CellKey {
    pub fn new(period: &str, place: &str, dim: &str, group: &str) -> CellKey {
        CellKey {
            period: period.to_owned(),
            place: place.to_owned(),
            dim: dim.to_owned(),
            group: group.to_owned(),
        }
    }
}

/// What one record adds to an indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub period: String,
    /// The place code, when the record has one.
    pub place: Option<String>,
    /// (dimension, group) for each disaggregation the record has a value for.
    pub groups: Vec<(String, String)>,
    /// The record's value (1/0 for a share or a rate, 1 for a count).
    pub y: f64,
    /// Its weight (1 without weights).
    pub w: f64,
}

impl Contribution {
    /// The cells it adds to.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut places = vec![TOTAL];
        if let Some(p) = &self.place {
            places.push(p);
        }
        let mut out = Vec::with_capacity(places.len() * (1 + self.groups.len()));
        for place in places {
            out.push(CellKey::new(&self.period, place, TOTAL, TOTAL));
            for (d, g) in &self.groups {
                out.push(CellKey::new(&self.period, place, d, g));
            }
        }
        out
    }
}

/// A record as indicators read it: its top-level answers by field name, as text (a
/// select_multiple's choices separated by spaces, as in XForms), and the day it was received.
pub struct Record<'a> {
    pub values: &'a dyn Fn(&str) -> Option<String>,
    /// `YYYY-MM-DD`.
    pub received: &'a str,
}

struct Ctx<'a> {
    record: &'a Record<'a>,
}

impl Context for Ctx<'_> {
    fn reference(&self, name: &str) -> Option<Value> {
        Some(Value::Str((self.record.values)(name).unwrap_or_default()))
    }
    fn current(&self) -> Value {
        Value::Str(String::new())
    }
    // An indicator reads a record as of the day it was received: `today()` is that day, so
    // that a recompute next year gives the same figures.
    fn today(&self) -> String {
        self.record.received.to_owned()
    }
    fn now(&self) -> String {
        format!("{}T12:00:00.000Z", self.record.received)
    }
    fn now_days(&self) -> f64 {
        Value::Str(self.record.received.to_owned()).to_number() + 0.5
    }
}

fn eval(e: &Expr, ctx: &Ctx<'_>, key: &str) -> Result<Value, String> {
    baraza_expr::eval(e, ctx).map_err(|err| format!("{key}: {err}"))
}

/// The record's contribution: `Ok(None)` when it is outside the population (filtered out, or
/// no value for a mean), `Err` with the key and the reason when an expression cannot be
/// evaluated on it or gives what cannot be counted (a negative weight, no date).
pub fn contribution(def: &Definition, record: &Record<'_>) -> Result<Option<Contribution>, String> {
    let ctx = Ctx { record };
    let spec = &def.spec;
    if let Some(p) = &def.population {
        if !eval(p, &ctx, "population")?.to_bool() {
            return Ok(None);
        }
    }
    let y = match spec.aggregation {
        Aggregation::Count => 1.0,
        Aggregation::Share | Aggregation::Rate => match &def.numerator {
            Some(n) => f64::from(u8::from(eval(n, &ctx, "numerator")?.to_bool())),
            None => return Err("numerator: missing".into()),
        },
        Aggregation::Mean | Aggregation::Median | Aggregation::Sum => {
            let Some(v) = &def.value else {
                return Err("value: missing".into());
            };
            let v = eval(v, &ctx, "value")?;
            if matches!(&v, Value::Str(s) if s.trim().is_empty()) {
                return Ok(None);
            }
            let x = v.to_number();
            if !x.is_finite() {
                return Ok(None);
            }
            x
        }
    };
    let w = match &def.weight {
        None => 1.0,
        Some(e) => {
            let w = eval(e, &ctx, "weight")?.to_number();
            if !w.is_finite() || w < 0.0 {
                return Err(format!("weight: {w} is not a weight (a number ≥ 0)"));
            }
            if w == 0.0 {
                return Ok(None);
            }
            w
        }
    };
    let date = match &def.date {
        Some(e) => eval(e, &ctx, "date")?.to_string_value(),
        None => record.received.to_owned(),
    };
    let period = spec
        .period
        .of_date(&date)
        .ok_or_else(|| format!("date: {date:?} is not a date"))?;
    let place = spec.place.as_deref().and_then(|f| {
        let v = (record.values)(f)?;
        let v = v.trim();
        (!v.is_empty()).then(|| spec.places.get(v).cloned().unwrap_or_else(|| v.to_owned()))
    });
    let mut groups = Vec::new();
    for d in &def.dimensions {
        match d {
            Dimension::Choice { field } => {
                if let Some(v) = (record.values)(field) {
                    let v = v.trim();
                    if !v.is_empty() {
                        groups.push((field.clone(), v.to_owned()));
                    }
                }
            }
            Dimension::Bands {
                name, field, bands, ..
            } => {
                let x = Value::Str((record.values)(field).unwrap_or_default()).to_number();
                if x.is_finite() {
                    if let Some(g) = Dimension::band_of(bands, x) {
                        groups.push((name.clone(), g));
                    }
                }
            }
        }
    }
    Ok(Some(Contribution {
        period,
        place,
        groups,
        y,
        w,
    }))
}

/// The cells of an indicator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cells {
    pub moments: BTreeMap<CellKey, Moments>,
    /// Kept only for aggregations that need a distribution ([`needs_distribution`]).
    pub distributions: BTreeMap<CellKey, Distribution>,
}

/// Whether an indicator's cells keep value distributions: medians, and the inequality (Gini,
/// Palma) of numeric outcomes.
pub fn needs_distribution(agg: Aggregation) -> bool {
    matches!(
        agg,
        Aggregation::Mean | Aggregation::Median | Aggregation::Sum
    )
}

impl Cells {
    /// Adds (`sign` = 1) or takes away (`sign` = −1) a contribution.
    pub fn apply(&mut self, c: &Contribution, sign: i8, distribution: bool) {
        let m = Moments::of(c.y, c.w);
        for key in c.cells() {
            let cell = self.moments.entry(key.clone()).or_default();
            if sign >= 0 {
                cell.add(&m);
            } else {
                cell.sub(&m);
            }
            if cell.is_empty() {
                self.moments.remove(&key);
            }
            if distribution {
                let d = self.distributions.entry(key.clone()).or_default();
                d.add(
                    c.y,
                    i64::from(sign.signum()),
                    f64::from(sign.signum()) * c.w,
                );
                if d.values.is_empty() {
                    self.distributions.remove(&key);
                }
            }
        }
    }

    /// The periods with records, in order.
    pub fn periods(&self) -> Vec<String> {
        let mut p: Vec<String> = self.moments.keys().map(|k| k.period.clone()).collect();
        p.dedup();
        p.sort();
        p.dedup();
        p
    }
}

/// Whether an indicator has weights that differ between records (an estimate is weighted).
pub fn weighted(def: &Definition) -> bool {
    def.weight.is_some()
}

/// A cell's figure, in the unit shown (a share as a percentage, a rate per `per`), with its
/// interval; `None` for an empty cell.
pub fn estimate(def: &Definition, m: &Moments, d: Option<&Distribution>) -> Option<Estimate> {
    let weighted = weighted(def);
    let scale = |mut e: Estimate, k: f64| {
        e.value *= k;
        e.se = e.se.map(|x| x * k);
        e.low = e.low.map(|x| x * k);
        e.high = e.high.map(|x| x * k);
        e
    };
    match def.spec.aggregation {
        Aggregation::Count => (m.n > 0).then_some(Estimate {
            n: m.n,
            value: if weighted { m.sw } else { m.n as f64 },
            se: None,
            low: None,
            high: None,
            deff: None,
            method: stats::Method::None,
        }),
        Aggregation::Share => stats::share(m, weighted).map(|e| scale(e, 100.0)),
        Aggregation::Rate => {
            stats::share(m, weighted).map(|e| scale(e, def.spec.per.unwrap_or(1000.0)))
        }
        Aggregation::Mean => stats::mean(m, weighted),
        Aggregation::Sum => stats::total(m, weighted),
        Aggregation::Median => d.and_then(|d| stats::median(d, weighted)),
    }
}

/// Changes to cells: contributions taken away and added, summed per cell before they are
/// written (a catch-up of 500 records touches a few dozen cells). Unlike [`Cells`], a cell
/// whose records net to zero is kept: an edit that changes a value leaves `n` as it was but
/// not the sums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    pub moments: BTreeMap<CellKey, Moments>,
    /// (cell, value's bits) → (records, weights).
    pub values: BTreeMap<(CellKey, u64), (i64, f64)>,
}

impl Delta {
    /// Adds (`sign` = 1) or takes away (`sign` = −1) a contribution.
    pub fn apply(&mut self, c: &Contribution, sign: i8, distribution: bool) {
        let m = Moments::of(c.y, c.w);
        let s = i64::from(sign.signum());
        for key in c.cells() {
            let cell = self.moments.entry(key.clone()).or_default();
            if s >= 0 {
                cell.add(&m);
            } else {
                cell.sub(&m);
            }
            if distribution {
                let v = self.values.entry((key, c.y.to_bits())).or_default();
                v.0 += s;
                v.1 += s as f64 * c.w;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.moments.is_empty() && self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::define::{self, FieldInfo, FieldKind};
    use proptest::prelude::*;

    const DEF: &str = r#"
[[indicator]]
id = "eau"
form = "f"
title = { en = "Water" }
aggregation = "share"
numerator = "${ok} = 'oui' and ${minutes} <= 30"
weight = "${size}"
period = "month"
place = "province"
places = { a = "TD-ND" }
disaggregate = ["sex", { name = "size", field = "size", bands = [1, 5, 9] }]
credibility = { collected_by = { en = "us" }, sampling = "probability", participation = "collaborative", validation = "self_declared" }
"#;

    fn definition() -> Definition {
        let spec = define::read_file(DEF).unwrap().remove(0);
        let fields = vec![
            FieldInfo {
                name: "ok".into(),
                kind: FieldKind::SelectOne(vec!["oui".into(), "non".into()]),
            },
            FieldInfo {
                name: "minutes".into(),
                kind: FieldKind::Number,
            },
            FieldInfo {
                name: "size".into(),
                kind: FieldKind::Number,
            },
            FieldInfo {
                name: "province".into(),
                kind: FieldKind::SelectOne(vec!["a".into(), "b".into()]),
            },
            FieldInfo {
                name: "sex".into(),
                kind: FieldKind::SelectOne(vec!["f".into(), "m".into()]),
            },
        ];
        define::check(spec, &fields, &|_| true).unwrap()
    }

    /// (ok, minutes, size, province, sex, month)
    type Rec = (bool, u32, u32, u8, u8, u8);

    fn contribution_of(def: &Definition, r: &Rec) -> Option<Contribution> {
        let values = |name: &str| -> Option<String> {
            Some(match name {
                "ok" => if r.0 { "oui" } else { "non" }.to_owned(),
                "minutes" => r.1.to_string(),
                "size" => r.2.to_string(),
                "province" => ["a", "b", ""][usize::from(r.3 % 3)].to_owned(),
                "sex" => ["f", "m"][usize::from(r.4 % 2)].to_owned(),
                _ => return None,
            })
        };
        let received = format!("2026-{:02}-15", 1 + r.5 % 12);
        contribution(
            def,
            &Record {
                values: &values,
                received: &received,
            },
        )
        .unwrap()
    }

    fn records() -> impl Strategy<Value = Vec<Rec>> {
        prop::collection::vec(
            (any::<bool>(), 0u32..90, 0u32..14, 0u8..3, 0u8..2, 0u8..3),
            0..120,
        )
    }

    #[test]
    fn a_record_adds_to_its_place_and_the_total_crossed_with_each_group() {
        let def = definition();
        let c = contribution_of(&def, &(true, 10, 6, 0, 0, 9)).unwrap();
        assert_eq!(c.period, "2026-10");
        assert_eq!(c.place.as_deref(), Some("TD-ND"));
        assert_eq!(
            c.groups,
            [
                ("sex".to_owned(), "f".to_owned()),
                ("size".to_owned(), "5-8".to_owned())
            ]
        );
        assert_eq!((c.y, c.w), (1.0, 6.0));
        assert_eq!(c.cells().len(), 6);
        // A zero weight is outside the population; no place means the total only.
        assert!(contribution_of(&def, &(true, 10, 0, 0, 0, 9)).is_none());
        let c = contribution_of(&def, &(false, 10, 3, 2, 1, 0)).unwrap();
        assert_eq!((c.place.clone(), c.y, c.cells().len()), (None, 0.0, 3));
    }

    proptest! {
        /// Adding every record, then taking some away and changing others (as edits, rejections
        /// and erasures do), gives the cells a recompute from the remaining records gives.
        #[test]
        fn updates_give_the_cells_of_a_recompute(all in records(), gone in prop::collection::vec(any::<bool>(), 120), changed in prop::collection::vec(any::<bool>(), 120)) {
            let def = definition();
            let mut delta = Delta::default();
            let mut kept = Vec::new();
            for r in &all {
                if let Some(c) = contribution_of(&def, r) { delta.apply(&c, 1, true); }
            }
            for (i, r) in all.iter().enumerate() {
                let old = contribution_of(&def, r);
                let now = if gone[i] { None } else if changed[i] { Some((!r.0, r.1 + 7, r.2, r.3, r.4, r.5)) } else { Some(*r) };
                let new = now.as_ref().and_then(|n| contribution_of(&def, n));
                if let Some(o) = &old { delta.apply(o, -1, true); }
                if let Some(n) = &new { delta.apply(n, 1, true); }
                if let Some(n) = now { kept.push(n); }
            }
            let mut fresh = Delta::default();
            for r in &kept {
                if let Some(c) = contribution_of(&def, r) { fresh.apply(&c, 1, true); }
            }
            for (k, m) in &delta.moments {
                let f = fresh.moments.get(k).copied().unwrap_or_default();
                prop_assert_eq!(m.n, f.n);
                for (a, b) in [(m.sw, f.sw), (m.swy, f.swy), (m.sw2, f.sw2), (m.sw2y2, f.sw2y2), (m.sy, f.sy)] {
                    prop_assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{a} != {b}");
                }
                if m.n > 0 {
                    let (e1, e2) = (estimate(&def, m, None).unwrap(), estimate(&def, &f, None).unwrap());
                    prop_assert!((e1.value - e2.value).abs() < 1e-6, "{} != {}", e1.value, e2.value);
                }
            }
            for (k, f) in &fresh.moments {
                prop_assert_eq!(delta.moments.get(k).map_or(0, |m| m.n), f.n);
            }
        }
    }
}
