//! Global recoding: fewer, broader categories of one key variable, in every record alike.
//!
//! # Methods
//!
//! [`recode`] returns a new [`KeyTable`] (the input is not changed) where one key's categories
//! are replaced, and a [`RecodeReport`]: the categories in use before and after, and the records
//! whose value changed. A missing value stays missing. The new categories are numbered in order
//! of first appearance, like the ones a [`TableBuilder`](crate::TableBuilder) makes.
//!
//! * [`Recoding::Merge`]: a map from old category to new label; categories not in the map are
//!   kept. Mapping "Goat" and "Sheep" to "Small ruminant" merges them.
//! * [`Recoding::Intervals`]: break points `b0 < b1 < … < bn` over numeric values: a value `v`
//!   becomes `[bi,bi+1)` when `bi ≤ v < bi+1`, `< b0` below the first break and `≥ bn` from
//!   the last. Breaks 20, 30 give `< 20`, `[20,30)`, `≥ 30`.
//! * [`Recoding::Top`] and [`Recoding::Bottom`]: values `≥ b` become the label `≥ b`, values
//!   `< b` become `< b`; others are kept as they are. Labels of these two forms, left by an
//!   earlier top or bottom coding, are kept, so the two can follow each other.
//! * [`Recoding::Hierarchy`]: generalisation up a caller-given [`Hierarchy`] (village → district
//!   → province): level 0 keeps the values, level `l` climbs `l` steps; a value with no parent
//!   at some step is an error naming it, since silently keeping it would leave a rare value in.
//! * [`Recoding::Date`]: ISO 8601 dates (`YYYY-MM-DD`, with any time after it dropped) coarsened
//!   to the month (`YYYY-MM`) or the year (`YYYY`); a value already coarser is kept.
//!   [`date_hierarchy`] gives the same two steps as a [`Hierarchy`], for the optimal
//!   generalisation search.
//!
//! Numbers are read as decimal numbers (surrounding spaces ignored) and written back in their
//! shortest form (`20`, `2.5`). A value that is not a number in a numeric recoding is an error
//! that names the variable, the value and the first record holding it.
//!
//! # Cost
//!
//! The new label is computed once per category (not per record), then every record's code is
//! looked up: `O(n + c · h)` for `n` records, `c` categories and `h` hierarchy levels.

use crate::error::SdcError;
use crate::table::{KeyTable, Variable, MISSING};
use serde::Serialize;
use std::collections::BTreeMap;

/// A generalisation hierarchy: `levels[l]` maps a value of level `l` (level 0 being the data's
/// own values) to its parent at level `l + 1`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hierarchy {
    pub levels: Vec<BTreeMap<String, String>>,
}

impl Hierarchy {
    /// The number of steps up the hierarchy (its height).
    pub fn height(&self) -> usize {
        self.levels.len()
    }

    /// The ancestor of `value` `level` steps up, or the step (counting from 1) where it has no
    /// parent.
    pub fn generalise(&self, value: &str, level: usize) -> Result<String, usize> {
        let mut v = value.to_owned();
        for (step, map) in self.levels.iter().take(level).enumerate() {
            match map.get(&v) {
                Some(parent) => v = parent.clone(),
                None => return Err(step + 1),
            }
        }
        Ok(v)
    }
}

/// How far a date is coarsened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Month,
    Year,
}

/// One global recoding of a key variable (see the module's documentation).
#[derive(Debug, Clone, PartialEq)]
pub enum Recoding {
    Merge(BTreeMap<String, String>),
    Intervals(Vec<f64>),
    Top(f64),
    Bottom(f64),
    Hierarchy { hierarchy: Hierarchy, level: usize },
    Date(DatePrecision),
}

impl Recoding {
    fn name(&self) -> String {
        match self {
            Recoding::Merge(_) => "merge".into(),
            Recoding::Intervals(_) => "intervals".into(),
            Recoding::Top(_) => "top_coding".into(),
            Recoding::Bottom(_) => "bottom_coding".into(),
            Recoding::Hierarchy { level, .. } => format!("hierarchy_level_{level}"),
            Recoding::Date(DatePrecision::Month) => "date_month".into(),
            Recoding::Date(DatePrecision::Year) => "date_year".into(),
        }
    }
}

/// What a recoding did to its variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecodeReport {
    pub variable: String,
    /// `merge`, `intervals`, `top_coding`, `bottom_coding`, `hierarchy_level_<l>`,
    /// `date_month` or `date_year`.
    pub method: String,
    /// Distinct values in use (missing not counted).
    pub categories_before: usize,
    pub categories_after: usize,
    /// Records whose value changed.
    pub records_changed: usize,
}

/// The index of the key named `variable`.
pub(crate) fn key_index(table: &KeyTable, variable: &str) -> Result<usize, SdcError> {
    table
        .keys
        .iter()
        .position(|k| k.name == variable)
        .ok_or_else(|| SdcError::UnknownVariable {
            variable: variable.to_owned(),
        })
}

/// Recodes key `variable` of `table`; see the module's documentation.
pub fn recode(
    table: &KeyTable,
    variable: &str,
    recoding: &Recoding,
) -> Result<(KeyTable, RecodeReport), SdcError> {
    let j = key_index(table, variable)?;
    check(variable, recoding)?;
    let old = &table.keys[j];
    // The new label of every old category (one computation per category).
    let mut labels = Vec::with_capacity(old.categories.len());
    for (c, value) in old.categories.iter().enumerate() {
        let row = || first_row(table, j, c as u32);
        labels.push(label(variable, value, recoding, row)?);
    }
    relabel(table, j, &labels, recoding.name())
}

/// Replaces key `j`'s category `c` by `labels[c]` in every record.
pub(crate) fn relabel(
    table: &KeyTable,
    j: usize,
    labels: &[String],
    method: String,
) -> Result<(KeyTable, RecodeReport), SdcError> {
    let m = table.width();
    let old = &table.keys[j];
    let mut out = table.clone();
    let mut index: BTreeMap<&str, u32> = BTreeMap::new();
    let mut categories: Vec<String> = Vec::new();
    let mut used_before = vec![false; old.categories.len()];
    let mut changed = 0;
    for i in 0..table.rows() {
        let c = table.codes[i * m + j];
        if c == MISSING {
            continue;
        }
        used_before[c as usize] = true;
        let l = labels[c as usize].as_str();
        if l != old.categories[c as usize] {
            changed += 1;
        }
        let next = categories.len() as u32;
        let code = *index.entry(l).or_insert_with(|| {
            categories.push(l.to_owned());
            next
        });
        out.codes[i * m + j] = code;
    }
    let report = RecodeReport {
        variable: old.name.clone(),
        method,
        categories_before: used_before.iter().filter(|&&u| u).count(),
        categories_after: categories.len(),
        records_changed: changed,
    };
    out.keys[j] = Variable {
        name: old.name.clone(),
        categories,
    };
    Ok((out, report))
}

/// The first record (counting from 1) with category `c` of key `j`.
fn first_row(table: &KeyTable, j: usize, c: u32) -> usize {
    (0..table.rows())
        .find(|&i| table.code(i, j) == c)
        .map_or(0, |i| i + 1)
}

fn check(variable: &str, recoding: &Recoding) -> Result<(), SdcError> {
    match recoding {
        Recoding::Intervals(breaks) => {
            let increasing = breaks.windows(2).all(|w| w[0] < w[1]);
            if breaks.is_empty() || !increasing || breaks.iter().any(|b| !b.is_finite()) {
                return Err(SdcError::BadBreaks {
                    variable: variable.to_owned(),
                    breaks: breaks.clone(),
                });
            }
        }
        Recoding::Top(b) | Recoding::Bottom(b) if !b.is_finite() => {
            return Err(SdcError::BadBound {
                variable: variable.to_owned(),
                bound: *b,
            })
        }
        Recoding::Hierarchy { hierarchy, level } if *level > hierarchy.height() => {
            return Err(SdcError::HierarchyLevel {
                variable: variable.to_owned(),
                level: *level,
                levels: hierarchy.height(),
            })
        }
        _ => {}
    }
    Ok(())
}

fn number(variable: &str, value: &str, row: impl Fn() -> usize) -> Result<f64, SdcError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(SdcError::NotNumeric {
            variable: variable.to_owned(),
            row: row(),
            value: value.to_owned(),
        }),
    }
}

/// A label left by top or bottom coding.
fn is_coded_bound(value: &str) -> bool {
    let rest = value
        .strip_prefix("≥ ")
        .or_else(|| value.strip_prefix("< "));
    rest.is_some_and(|r| r.parse::<f64>().is_ok())
}

fn label(
    variable: &str,
    value: &str,
    recoding: &Recoding,
    row: impl Fn() -> usize,
) -> Result<String, SdcError> {
    Ok(match recoding {
        Recoding::Merge(map) => map.get(value).cloned().unwrap_or_else(|| value.to_owned()),
        Recoding::Intervals(breaks) => {
            let v = number(variable, value, row)?;
            // `breaks` is non-empty (checked): the index is in range.
            let above = breaks.partition_point(|&b| b <= v);
            if above == 0 {
                format!("< {}", breaks[0])
            } else if above == breaks.len() {
                format!("≥ {}", breaks[above - 1])
            } else {
                format!("[{},{})", breaks[above - 1], breaks[above])
            }
        }
        Recoding::Top(_) | Recoding::Bottom(_) if is_coded_bound(value) => value.to_owned(),
        Recoding::Top(b) => {
            let v = number(variable, value, row)?;
            if v >= *b {
                format!("≥ {b}")
            } else {
                value.to_owned()
            }
        }
        Recoding::Bottom(b) => {
            let v = number(variable, value, row)?;
            if v < *b {
                format!("< {b}")
            } else {
                value.to_owned()
            }
        }
        Recoding::Hierarchy { hierarchy, level } => {
            hierarchy
                .generalise(value, *level)
                .map_err(|step| SdcError::NotInHierarchy {
                    variable: variable.to_owned(),
                    row: row(),
                    value: value.to_owned(),
                    level: step,
                })?
        }
        Recoding::Date(precision) => {
            coarsen_date(value, *precision).ok_or_else(|| SdcError::NotADate {
                variable: variable.to_owned(),
                row: row(),
                value: value.to_owned(),
            })?
        }
    })
}

/// `value` (`YYYY-MM-DD`, any time after it ignored, `YYYY-MM` or `YYYY`) at `precision`;
/// `None` when it is not such a date.
pub fn coarsen_date(value: &str, precision: DatePrecision) -> Option<String> {
    let v = value.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let year = v.get(0..4).filter(|y| digits(y))?;
    let rest = &v[4..];
    if rest.is_empty() {
        return Some(year.to_owned());
    }
    let month = rest
        .strip_prefix('-')
        .and_then(|r| r.get(0..2))
        .filter(|m| digits(m) && (1..=12).contains(&m.parse::<u8>().unwrap_or(0)))?;
    let rest = &rest[3..];
    if !rest.is_empty() {
        let day = rest.strip_prefix('-').and_then(|r| r.get(0..2))?;
        if !digits(day) || !(1..=31).contains(&day.parse::<u8>().unwrap_or(0)) {
            return None;
        }
        let after = &rest[3..];
        if !(after.is_empty() || after.starts_with('T') || after.starts_with(' ')) {
            return None;
        }
    }
    Some(match precision {
        DatePrecision::Month => format!("{year}-{month}"),
        DatePrecision::Year => year.to_owned(),
    })
}

/// A two-step hierarchy for the dates of key `variable`: day → month → year. A value that is
/// already a month or a year climbs to itself where it is already coarse enough.
pub fn date_hierarchy(table: &KeyTable, variable: &str) -> Result<Hierarchy, SdcError> {
    let j = key_index(table, variable)?;
    let mut to_month = BTreeMap::new();
    let mut to_year = BTreeMap::new();
    for (c, v) in table.keys[j].categories.iter().enumerate() {
        let bad = || SdcError::NotADate {
            variable: variable.to_owned(),
            row: first_row(table, j, c as u32),
            value: v.clone(),
        };
        let month = coarsen_date(v, DatePrecision::Month).ok_or_else(bad)?;
        let year = coarsen_date(v, DatePrecision::Year).ok_or_else(bad)?;
        to_year.insert(month.clone(), year);
        to_month.insert(v.clone(), month);
    }
    Ok(Hierarchy {
        levels: vec![to_month, to_year],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::{table, table_of_codes};

    fn column(t: &KeyTable, j: usize) -> Vec<Option<&str>> {
        (0..t.rows()).map(|i| t.value(i, j)).collect()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn recodings() {
        let ages = ["5", "19", "20", "29.5", "30", "64", "70"];
        let geo = Hierarchy {
            levels: vec![
                map(&[
                    ("Kibera", "Nairobi"),
                    ("Kawangware", "Nairobi"),
                    ("Likoni", "Mombasa"),
                ]),
                map(&[("Nairobi", "Kenya"), ("Mombasa", "Kenya")]),
            ],
        };
        // (name, column 0 values, recoding, expected, categories before, after, changed)
        type Case<'a> = (
            &'a str,
            Vec<Option<&'a str>>,
            Recoding,
            Vec<Option<&'a str>>,
            usize,
            usize,
            usize,
        );
        let cases: Vec<Case> = vec![
            (
                "merge two of three, keep the third and the missing",
                vec![Some("goat"), Some("sheep"), Some("cow"), None],
                Recoding::Merge(map(&[("goat", "small"), ("sheep", "small")])),
                vec![Some("small"), Some("small"), Some("cow"), None],
                3,
                2,
                2,
            ),
            // Breaks 20, 30, 65: 5 and 19 below 20; 20 and 29.5 in [20,30); 30 and 64 in
            // [30,65); 70 from 65.
            (
                "intervals",
                ages.iter().map(|a| Some(*a)).collect(),
                Recoding::Intervals(vec![20.0, 30.0, 65.0]),
                vec![
                    Some("< 20"),
                    Some("< 20"),
                    Some("[20,30)"),
                    Some("[20,30)"),
                    Some("[30,65)"),
                    Some("[30,65)"),
                    Some("≥ 65"),
                ],
                7,
                4,
                7,
            ),
            // 64 and 70 at or above 64; the rest kept.
            (
                "top coding",
                ages.iter().map(|a| Some(*a)).collect(),
                Recoding::Top(64.0),
                vec![
                    Some("5"),
                    Some("19"),
                    Some("20"),
                    Some("29.5"),
                    Some("30"),
                    Some("≥ 64"),
                    Some("≥ 64"),
                ],
                7,
                6,
                2,
            ),
            (
                "bottom coding after top coding keeps the top label",
                vec![Some("5"), Some("19"), Some("20"), Some("≥ 64")],
                Recoding::Bottom(20.0),
                vec![Some("< 20"), Some("< 20"), Some("20"), Some("≥ 64")],
                4,
                3,
                2,
            ),
            (
                "hierarchy, one level",
                vec![Some("Kibera"), Some("Kawangware"), Some("Likoni")],
                Recoding::Hierarchy {
                    hierarchy: geo.clone(),
                    level: 1,
                },
                vec![Some("Nairobi"), Some("Nairobi"), Some("Mombasa")],
                3,
                2,
                3,
            ),
            (
                "hierarchy, two levels",
                vec![Some("Kibera"), Some("Likoni"), None],
                Recoding::Hierarchy {
                    hierarchy: geo.clone(),
                    level: 2,
                },
                vec![Some("Kenya"), Some("Kenya"), None],
                2,
                1,
                2,
            ),
            (
                "hierarchy, level 0 changes nothing",
                vec![Some("Kibera"), Some("Likoni")],
                Recoding::Hierarchy {
                    hierarchy: geo.clone(),
                    level: 0,
                },
                vec![Some("Kibera"), Some("Likoni")],
                2,
                2,
                0,
            ),
            (
                "dates to the month",
                vec![
                    Some("2024-03-05"),
                    Some("2024-03-28T10:00:00Z"),
                    Some("2024-04-01"),
                ],
                Recoding::Date(DatePrecision::Month),
                vec![Some("2024-03"), Some("2024-03"), Some("2024-04")],
                3,
                2,
                3,
            ),
            (
                "dates to the year, a year kept",
                vec![Some("2024-03-05"), Some("2023-12"), Some("2023")],
                Recoding::Date(DatePrecision::Year),
                vec![Some("2024"), Some("2023"), Some("2023")],
                3,
                2,
                2,
            ),
        ];
        for (name, values, recoding, want, before, after, changed) in cases {
            let rows: Vec<Vec<Option<&str>>> =
                values.iter().map(|v| vec![*v, Some("same")]).collect();
            let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
            let t = table(&rows, None);
            let (out, report) = recode(&t, "k0", &recoding).unwrap();
            assert_eq!(column(&out, 0), want, "{name}");
            assert_eq!(column(&out, 1), column(&t, 1), "{name}: other key");
            assert_eq!(column(&t, 0), values, "{name}: input changed");
            assert_eq!(
                (
                    report.categories_before,
                    report.categories_after,
                    report.records_changed
                ),
                (before, after, changed),
                "{name}"
            );
            // Categories in order of first appearance, all in use.
            let mut seen: Vec<&str> = Vec::new();
            for v in want.iter().flatten() {
                if !seen.contains(v) {
                    seen.push(v);
                }
            }
            assert_eq!(out.keys()[0].categories, seen, "{name}");
        }
    }

    #[test]
    fn errors() {
        let rows: Vec<&[Option<&str>]> = vec![&[Some("12")], &[Some("old")], &[None]];
        let t = table(&rows, None);
        let cases: Vec<(Recoding, SdcError)> = vec![
            (
                Recoding::Top(10.0),
                SdcError::NotNumeric {
                    variable: "k0".into(),
                    row: 2,
                    value: "old".into(),
                },
            ),
            (
                Recoding::Intervals(vec![10.0, 5.0]),
                SdcError::BadBreaks {
                    variable: "k0".into(),
                    breaks: vec![10.0, 5.0],
                },
            ),
            (
                Recoding::Intervals(vec![]),
                SdcError::BadBreaks {
                    variable: "k0".into(),
                    breaks: vec![],
                },
            ),
            (
                Recoding::Bottom(f64::NAN),
                SdcError::BadBound {
                    variable: "k0".into(),
                    bound: f64::NAN,
                },
            ),
            (
                Recoding::Hierarchy {
                    hierarchy: Hierarchy {
                        levels: vec![map(&[("12", "10s")])],
                    },
                    level: 1,
                },
                SdcError::NotInHierarchy {
                    variable: "k0".into(),
                    row: 2,
                    value: "old".into(),
                    level: 1,
                },
            ),
            (
                Recoding::Hierarchy {
                    hierarchy: Hierarchy::default(),
                    level: 1,
                },
                SdcError::HierarchyLevel {
                    variable: "k0".into(),
                    level: 1,
                    levels: 0,
                },
            ),
            (
                Recoding::Date(DatePrecision::Year),
                SdcError::NotADate {
                    variable: "k0".into(),
                    row: 1,
                    value: "12".into(),
                },
            ),
        ];
        for (recoding, want) in cases {
            let got = recode(&t, "k0", &recoding).unwrap_err();
            // NaN ≠ NaN: compare the messages.
            assert_eq!(got.to_string(), want.to_string(), "{recoding:?}");
        }
        assert_eq!(
            recode(&t, "age", &Recoding::Top(1.0)).unwrap_err(),
            SdcError::UnknownVariable {
                variable: "age".into()
            }
        );
    }

    #[test]
    fn dates() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("2024-03-05", Some("2024-03"), Some("2024")),
            ("2024-03-05 10:00", Some("2024-03"), Some("2024")),
            ("2024-03", Some("2024-03"), Some("2024")),
            ("2024", Some("2024"), Some("2024")),
            ("2024-13-01", None, None),
            ("2024-03-32", None, None),
            ("2024-3-5", None, None),
            ("24-03-05", None, None),
            ("2024-03-05x", None, None),
            ("", None, None),
            ("é", None, None),
        ];
        for (v, month, year) in cases {
            assert_eq!(
                coarsen_date(v, DatePrecision::Month).as_deref(),
                *month,
                "{v}"
            );
            assert_eq!(
                coarsen_date(v, DatePrecision::Year).as_deref(),
                *year,
                "{v}"
            );
        }
        let rows: Vec<&[Option<&str>]> = vec![&[Some("2024-03-05")], &[Some("2024-04-01")]];
        let h = date_hierarchy(&table(&rows, None), "k0").unwrap();
        assert_eq!(h.generalise("2024-03-05", 1), Ok("2024-03".into()));
        assert_eq!(h.generalise("2024-04-01", 2), Ok("2024".into()));
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Merging categories never makes a record rarer, never adds categories, and changes
        /// exactly the records whose category was mapped to another label.
        #[test]
        fn merging_never_lowers_fk(
            rows in proptest::collection::vec(proptest::collection::vec(prop_oneof![5 => (0u8..5).prop_map(Some), 1 => Just(None)], 2), 1..40),
            targets in proptest::collection::vec(0u8..3, 5),
        ) {
            let t = table_of_codes(&rows);
            let merge: BTreeMap<String, String> =
                (0u8..5).map(|v| (v.to_string(), targets[v as usize].to_string())).collect();
            let (out, report) = recode(&t, "k0", &Recoding::Merge(merge.clone())).unwrap();
            prop_assert!(report.categories_after <= report.categories_before);
            let mut changed = 0;
            for i in 0..t.rows() {
                let want = t.value(i, 0).map(|v| merge[v].as_str());
                prop_assert_eq!(out.value(i, 0), want);
                if want.is_some() && want != t.value(i, 0) {
                    changed += 1;
                }
            }
            prop_assert_eq!(report.records_changed, changed);
            for mode in [crate::MissingMode::Any, crate::MissingMode::Category] {
                let before = crate::frequencies(&t, mode);
                let after = crate::frequencies(&out, mode);
                for i in 0..t.rows() {
                    prop_assert!(after.fk[i] >= before.fk[i]);
                }
            }
        }
    }
}
