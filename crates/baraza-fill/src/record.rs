//! The answers of one filling of a form, shaped like the XForm instance: each repeat instance
//! holds its own answers and its nested repeats.

use crate::index::Index;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Answers at one level: the form's root or one repeat instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Answers by key (the path below this level: `group/question`), as the XML text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Instances of the repeats at this level, by the repeat's key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repeats: BTreeMap<String, Vec<Record>>,
}

/// A file answered in the form (an image, a recording…), stored apart; the answer is its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub sha256: String,
    pub size: u64,
    /// The file's own key, sealed (as the server keeps it), when the blob is sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A form being filled: its answers and what the engine keeps beside them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filling {
    pub answers: Record,
    /// The `instanceID` the submission will carry, chosen when filling starts so that sending
    /// twice cannot make two records.
    #[serde(default)]
    pub instance_id: String,
    /// When filling started, as an ISO 8601 date-time (the `start` metadata).
    pub started: String,
    /// Files answered so far, by answer (file name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, FileRef>,
    /// Calculations with a trigger, by instance path, and the trigger's value when last
    /// computed (they recompute only when their trigger changes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, String>,
}

impl Record {
    /// The instance that holds the answers of element `id` at `loc`.
    pub fn level(&self, idx: &Index<'_>, id: usize, loc: &[usize]) -> Option<&Record> {
        let mut at = self;
        for (r, i) in idx.def(id).repeats.iter().zip(loc) {
            at = at.repeats.get(&idx.def(*r).key)?.get(*i)?;
        }
        Some(at)
    }

    /// The same, created on the way when missing.
    pub fn level_mut(&mut self, idx: &Index<'_>, id: usize, loc: &[usize]) -> &mut Record {
        let mut at = self;
        for (r, i) in idx.def(id).repeats.iter().zip(loc) {
            let list = at.repeats.entry(idx.def(*r).key.clone()).or_default();
            while list.len() <= *i {
                list.push(Record::default());
            }
            at = &mut list[*i];
        }
        at
    }

    /// The answer of question `id` at `loc` ("" when there is none).
    pub fn get(&self, idx: &Index<'_>, id: usize, loc: &[usize]) -> &str {
        self.level(idx, id, loc)
            .and_then(|l| l.fields.get(&idx.def(id).key))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Sets (or, with an empty value, removes) the answer of question `id` at `loc`; says
    /// whether anything changed.
    pub fn set(&mut self, idx: &Index<'_>, id: usize, loc: &[usize], value: &str) -> bool {
        let key = idx.def(id).key.clone();
        let level = self.level_mut(idx, id, loc);
        if value.is_empty() {
            level.fields.remove(&key).is_some()
        } else if level.fields.get(&key).map(String::as_str) == Some(value) {
            false
        } else {
            level.fields.insert(key, value.to_owned());
            true
        }
    }

    /// The answer of a generated field beside question `id` (`NAME_other`).
    pub fn get_extra(&self, idx: &Index<'_>, id: usize, loc: &[usize], suffix: &str) -> &str {
        let key = format!("{}{suffix}", idx.def(id).key);
        self.level(idx, id, loc)
            .and_then(|l| l.fields.get(&key))
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn set_extra(
        &mut self,
        idx: &Index<'_>,
        id: usize,
        loc: &[usize],
        suffix: &str,
        value: &str,
    ) -> bool {
        let key = format!("{}{suffix}", idx.def(id).key);
        let level = self.level_mut(idx, id, loc);
        if value.is_empty() {
            level.fields.remove(&key).is_some()
        } else if level.fields.get(&key).map(String::as_str) == Some(value) {
            false
        } else {
            level.fields.insert(key, value.to_owned());
            true
        }
    }

    /// How many instances repeat `id` has at `loc`.
    pub fn count(&self, idx: &Index<'_>, id: usize, loc: &[usize]) -> usize {
        let Some(level) = self.level(idx, id, loc) else {
            return 0;
        };
        level
            .repeats
            .get(&idx.def(id).key)
            .map(Vec::len)
            .unwrap_or(0)
    }

    /// The instances of repeat `id` at `loc`, created when missing.
    pub fn instances_mut(&mut self, idx: &Index<'_>, id: usize, loc: &[usize]) -> &mut Vec<Record> {
        let key = idx.def(id).key.clone();
        self.level_mut(idx, id, loc).repeats.entry(key).or_default()
    }
}
