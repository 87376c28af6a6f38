//! The table that is assessed: key variables coded as small integers, a missing value explicit.

use crate::error::SdcError;
use crate::hash::FxMap;
use serde::Serialize;

/// The code of a missing value in [`KeyTable::code`].
pub const MISSING: u32 = u32::MAX;

/// Most key variables a table may have (one bit each in a record's missing pattern).
pub const MAX_KEYS: usize = 64;

/// One categorical variable: its name and its categories in order of first appearance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    pub name: String,
    pub categories: Vec<String>,
}

/// A variable being coded: its categories and their codes.
#[derive(Debug, Default)]
struct Coder {
    name: String,
    categories: Vec<String>,
    /// Codes of the values of 8 bytes or more.
    index: FxMap<String, u32>,
    /// Codes of the shorter values, by their bytes and length packed in a `u64`.
    short: FxMap<u64, u32>,
}

impl Coder {
    fn new(name: &str) -> Self {
        Coder {
            name: name.to_owned(),
            ..Default::default()
        }
    }

    fn code(&mut self, value: Option<&str>) -> u32 {
        let Some(v) = value else { return MISSING };
        if v.len() < 8 {
            // Most categories are short: looked up as one integer (the bytes, then the length
            // in the last byte), without hashing and comparing a string.
            let mut word = [0u8; 8];
            word[..v.len()].copy_from_slice(v.as_bytes());
            word[7] = v.len() as u8;
            let key = u64::from_le_bytes(word);
            if let Some(&c) = self.short.get(&key) {
                return c;
            }
            let c = self.add(v);
            self.short.insert(key, c);
            return c;
        }
        if let Some(c) = self.index.get(v) {
            return *c;
        }
        let c = self.add(v);
        self.index.insert(v.to_owned(), c);
        c
    }

    /// A new category: its code.
    fn add(&mut self, v: &str) -> u32 {
        // A category count reaching u32::MAX would need more records than a table may hold
        // (rows are counted in u32 too), so the cast cannot collide with MISSING.
        let c = self.categories.len() as u32;
        self.categories.push(v.to_owned());
        c
    }

    fn finish(self) -> Variable {
        Variable {
            name: self.name,
            categories: self.categories,
        }
    }
}

/// Key variables (quasi-identifiers) of every record, coded; with optional sampling weights,
/// household ids and sensitive variables. Build one with [`TableBuilder`].
#[derive(Debug, Clone)]
pub struct KeyTable {
    pub(crate) keys: Vec<Variable>,
    /// Row-major codes, `rows × keys.len()`; [`MISSING`] for a missing value.
    pub(crate) codes: Vec<u32>,
    /// Bit `j` set when key `j` of the record is missing.
    pub(crate) missing: Vec<u64>,
    pub(crate) weight: Option<(String, Vec<f64>)>,
    pub(crate) household: Option<(Variable, Vec<u32>)>,
    pub(crate) sensitive: Vec<(Variable, Vec<u32>)>,
}

impl KeyTable {
    /// Number of records.
    pub fn rows(&self) -> usize {
        self.missing.len()
    }

    /// The key variables, in the order given.
    pub fn keys(&self) -> &[Variable] {
        &self.keys
    }

    /// The code of key `key` in record `row` ([`MISSING`] when missing).
    pub fn code(&self, row: usize, key: usize) -> u32 {
        self.codes[row * self.keys.len() + key]
    }

    /// The value of key `key` in record `row`, `None` when missing.
    pub fn value(&self, row: usize, key: usize) -> Option<&str> {
        let c = self.code(row, key);
        (c != MISSING).then(|| self.keys[key].categories[c as usize].as_str())
    }

    /// The sampling weights, when the table has them.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weight.as_ref().map(|(_, w)| w.as_slice())
    }

    pub(crate) fn width(&self) -> usize {
        self.keys.len()
    }
}

/// One record handed to [`TableBuilder::push`]. `None` is a missing value.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The record's number as the user knows it (for instance its line in the file), for
    /// messages.
    pub number: usize,
    pub keys: &'a [Option<&'a str>],
    pub weight: Option<f64>,
    pub household: Option<&'a str>,
    pub sensitive: &'a [Option<&'a str>],
}

/// Builds a [`KeyTable`] record by record, coding each variable's values.
#[derive(Debug)]
pub struct TableBuilder {
    keys: Vec<Coder>,
    codes: Vec<u32>,
    missing: Vec<u64>,
    weight: Option<(String, Vec<f64>)>,
    household: Option<(Coder, Vec<u32>)>,
    sensitive: Vec<(Coder, Vec<u32>)>,
}

impl TableBuilder {
    /// A builder for these key variables, optionally with a weight variable, a household
    /// variable and sensitive variables (names are used in results and messages only).
    pub fn new(
        keys: &[&str],
        weight: Option<&str>,
        household: Option<&str>,
        sensitive: &[&str],
    ) -> Result<Self, SdcError> {
        if keys.is_empty() {
            return Err(SdcError::NoKeys);
        }
        if keys.len() > MAX_KEYS {
            return Err(SdcError::TooManyKeys { count: keys.len() });
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in keys
            .iter()
            .chain(weight.iter())
            .chain(household.iter())
            .chain(sensitive.iter())
        {
            if !seen.insert(*name) {
                return Err(SdcError::DuplicateVariable {
                    name: (*name).to_owned(),
                });
            }
        }
        Ok(TableBuilder {
            keys: keys.iter().map(|k| Coder::new(k)).collect(),
            codes: Vec::new(),
            missing: Vec::new(),
            weight: weight.map(|w| (w.to_owned(), Vec::new())),
            household: household.map(|h| (Coder::new(h), Vec::new())),
            sensitive: sensitive
                .iter()
                .map(|s| (Coder::new(s), Vec::new()))
                .collect(),
        })
    }

    /// Adds one record.
    pub fn push(&mut self, row: Row<'_>) -> Result<(), SdcError> {
        if row.keys.len() != self.keys.len() {
            return Err(SdcError::RowWidth {
                row: row.number,
                expected: self.keys.len(),
                got: row.keys.len(),
            });
        }
        if row.sensitive.len() != self.sensitive.len() {
            return Err(SdcError::SensitiveWidth {
                row: row.number,
                expected: self.sensitive.len(),
                got: row.sensitive.len(),
            });
        }
        match (&mut self.weight, row.weight) {
            (Some((name, _)), None) => {
                return Err(SdcError::MissingWeight {
                    row: row.number,
                    variable: name.clone(),
                })
            }
            (Some((name, _)), Some(w)) if !(w.is_finite() && w > 0.0) => {
                return Err(SdcError::BadWeight {
                    row: row.number,
                    variable: name.clone(),
                    value: w,
                })
            }
            (Some((_, ws)), Some(w)) => ws.push(w),
            (None, Some(_)) => return Err(SdcError::UnexpectedWeight { row: row.number }),
            (None, None) => {}
        }
        let mut mask = 0u64;
        for (j, (coder, value)) in self.keys.iter_mut().zip(row.keys).enumerate() {
            let c = coder.code(*value);
            if c == MISSING {
                mask |= 1 << j;
            }
            self.codes.push(c);
        }
        self.missing.push(mask);
        if let Some((coder, codes)) = &mut self.household {
            codes.push(coder.code(row.household));
        }
        for ((coder, codes), value) in self.sensitive.iter_mut().zip(row.sensitive) {
            codes.push(coder.code(*value));
        }
        Ok(())
    }

    /// The table; an error when it has no records.
    pub fn finish(self) -> Result<KeyTable, SdcError> {
        if self.missing.is_empty() {
            return Err(SdcError::Empty);
        }
        Ok(KeyTable {
            keys: self.keys.into_iter().map(Coder::finish).collect(),
            codes: self.codes,
            missing: self.missing,
            weight: self.weight,
            household: self.household.map(|(c, v)| (c.finish(), v)),
            sensitive: self
                .sensitive
                .into_iter()
                .map(|(c, v)| (c.finish(), v))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short and long values share one numbering, in order of first appearance.
    #[test]
    fn codes_in_order_of_first_appearance() {
        let mut c = Coder::new("v");
        let values = [
            "a",
            "a long value",
            "",
            "a",
            "1234567",
            "12345678",
            "a long value",
            "",
            "\0",
            "b",
        ];
        let codes: Vec<u32> = values.iter().map(|v| c.code(Some(v))).collect();
        assert_eq!(codes, vec![0, 1, 2, 0, 3, 4, 1, 2, 5, 6]);
        assert_eq!(c.code(None), MISSING);
        let v = c.finish();
        assert_eq!(
            v.categories,
            vec!["a", "a long value", "", "1234567", "12345678", "\0", "b"]
        );
    }
}
