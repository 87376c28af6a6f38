//! Information loss: what the anonymisation of a table cost, key by key.
//!
//! [`compare`] takes a table and its anonymised version (same records in the same order, same
//! keys: what [`recode`](fn@crate::recode), [`local_suppression`](crate::local_suppression) and
//! PRAM return) and counts, per key:
//!
//! * the values **suppressed**: present before, missing after;
//! * the values **changed**: present before and after, with another value (recoding, PRAM);
//! * the categories in use before and after, and the categories **merged**: categories of
//!   before whose records now share their value with records of another category of before
//!   (merging "goat" and "sheep" into "small ruminant" merges 2 categories);
//!
//! and, over all keys, the records touched. It says nothing about whether a change was wise;
//! it shows the cost next to the risk, so a user sees what each step took. The numeric
//! counterpart, for microaggregation, is the SSE/SST of microaggregation (MDAV).
//!
//! Cost: one pass over the records, `O(n · m · log c)`.

use crate::error::SdcError;
use crate::table::{KeyTable, MISSING};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The information lost in one key variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableLoss {
    pub variable: String,
    /// Distinct values in use (missing not counted).
    pub categories_before: usize,
    pub categories_after: usize,
    /// Categories of before whose records now share a value with another category's.
    pub categories_merged: usize,
    /// Values present before and missing after.
    pub suppressed: usize,
    /// Values present before and after, but different.
    pub changed: usize,
    pub missing_before: usize,
    pub missing_after: usize,
}

/// The information lost between a table and its anonymised version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InformationLoss {
    pub records: usize,
    /// Records with at least one value suppressed or changed.
    pub records_changed: usize,
    /// All keys together.
    pub suppressed: usize,
    pub changed: usize,
    /// Per key, in the table's order.
    pub variables: Vec<VariableLoss>,
}

/// Compares `before` with `after`, its anonymised version.
pub fn compare(before: &KeyTable, after: &KeyTable) -> Result<InformationLoss, SdcError> {
    if before.rows() != after.rows() {
        return Err(SdcError::TablesDiffer {
            what: format!("their records ({} and {})", before.rows(), after.rows()),
        });
    }
    let names = |t: &KeyTable| t.keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
    if names(before) != names(after) {
        return Err(SdcError::TablesDiffer {
            what: format!("their keys ({:?} and {:?})", names(before), names(after)),
        });
    }
    let n = before.rows();
    let m = before.width();
    let mut touched = vec![false; n];
    let mut variables = Vec::with_capacity(m);
    for j in 0..m {
        let mut loss = VariableLoss {
            variable: before.keys[j].name.clone(),
            categories_before: 0,
            categories_after: 0,
            categories_merged: 0,
            suppressed: 0,
            changed: 0,
            missing_before: 0,
            missing_after: 0,
        };
        let mut used_before = BTreeSet::new();
        let mut used_after = BTreeSet::new();
        // After's value → before's categories that went to it.
        let mut sources: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        for (i, touched) in touched.iter_mut().enumerate() {
            let (b, a) = (before.code(i, j), after.code(i, j));
            if b == MISSING {
                loss.missing_before += 1;
            } else {
                used_before.insert(b);
            }
            if a == MISSING {
                loss.missing_after += 1;
            } else {
                used_after.insert(a);
            }
            match (b == MISSING, a == MISSING) {
                (false, true) => {
                    loss.suppressed += 1;
                    *touched = true;
                }
                (false, false) => {
                    sources.entry(a).or_default().insert(b);
                    if before.keys[j].categories[b as usize] != after.keys[j].categories[a as usize]
                    {
                        loss.changed += 1;
                        *touched = true;
                    }
                }
                _ => {}
            }
        }
        loss.categories_before = used_before.len();
        loss.categories_after = used_after.len();
        loss.categories_merged = sources
            .values()
            .filter(|s| s.len() > 1)
            .flatten()
            .collect::<BTreeSet<_>>()
            .len();
        variables.push(loss);
    }
    Ok(InformationLoss {
        records: n,
        records_changed: touched.iter().filter(|&&t| t).count(),
        suppressed: variables.iter().map(|v| v.suppressed).sum(),
        changed: variables.iter().map(|v| v.changed).sum(),
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::table;
    use crate::recode::{recode, Recoding};

    #[test]
    fn recoding_then_suppression() {
        let (g, s, c) = (Some("goat"), Some("sheep"), Some("cow"));
        let (x, y) = (Some("x"), Some("y"));
        let rows = [[g, x], [s, x], [c, y], [c, x], [None, y]];
        let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let t = table(&rows, None);
        let merge = Recoding::Merge(
            [("goat", "small"), ("sheep", "small")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        );
        let (merged, _) = recode(&t, "k0", &merge).unwrap();
        // Then blank record 3's k1 by hand, as a suppression would.
        let mut after = merged.clone();
        after.codes[2 * 2 + 1] = MISSING;
        after.missing[2] |= 2;
        let loss = compare(&t, &after).unwrap();
        // k0: goat, sheep, cow in use (3) → small, cow (2); goat and sheep merged (2);
        // records 1 and 2 changed; one missing before and after.
        // k1: x, y before and after; record 3 suppressed; missing 0 → 1.
        assert_eq!(
            loss.variables,
            vec![
                VariableLoss {
                    variable: "k0".into(),
                    categories_before: 3,
                    categories_after: 2,
                    categories_merged: 2,
                    suppressed: 0,
                    changed: 2,
                    missing_before: 1,
                    missing_after: 1,
                },
                VariableLoss {
                    variable: "k1".into(),
                    categories_before: 2,
                    categories_after: 2,
                    categories_merged: 0,
                    suppressed: 1,
                    changed: 0,
                    missing_before: 0,
                    missing_after: 1,
                },
            ]
        );
        // Records 1, 2 (changed) and 3 (suppressed).
        assert_eq!(
            (loss.records_changed, loss.suppressed, loss.changed),
            (3, 1, 2)
        );
        // A table against itself loses nothing.
        let none = compare(&t, &t).unwrap();
        assert_eq!(
            (none.records_changed, none.suppressed, none.changed),
            (0, 0, 0)
        );
    }

    #[test]
    fn different_tables_are_refused() {
        let a = Some("a");
        let t = table(&[&[a], &[a]], None);
        let u = table(&[&[a]], None);
        let v = table(&[&[a, a], &[a, a]], None);
        assert!(matches!(
            compare(&t, &u),
            Err(SdcError::TablesDiffer { .. })
        ));
        assert!(matches!(
            compare(&t, &v),
            Err(SdcError::TablesDiffer { .. })
        ));
    }
}
