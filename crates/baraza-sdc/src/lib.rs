//! Statistical disclosure control: how easily could someone be re-identified in a table of
//! microdata, before it leaves Baraza?
//!
//! # The question
//!
//! An intruder who knows a few facts about a person — their age group, sex, village, household
//! size — looks for records with exactly those facts. Those facts are the *key variables*
//! (quasi-identifiers). A record whose combination of keys is rare in the sample, and rare in
//! the population the sample was drawn from, is at risk. This crate measures that risk the way
//! the reference tool, the R package sdcMicro, does, so that figures computed here can be
//! compared with figures an expert computed there, and it says where it departs from it.
//!
//! # The pieces
//!
//! * [`table`]: a [`KeyTable`] holds the keys of every record as small integer codes (each
//!   variable's categories in order of first appearance), a missing value explicit
//!   ([`MISSING`], and one bit per key in a pattern per record), with optional sampling
//!   weights, household ids and sensitive variables. The crate does no IO: the caller parses a
//!   file and pushes rows through a [`TableBuilder`], which checks weights and names the row of
//!   any problem.
//! * [`freq`]: `fk` (records sharing a record's combination) and `Fk` (the sum of their
//!   weights), with a missing value matching any category (sdcMicro's convention) or being a
//!   category of its own ([`MissingMode`]). The first is computed per pair of missing-value
//!   patterns rather than per pair of records, so it stays near linear.
//! * [`risk`]: k-anonymity, the individual risk of the Benedetti–Franconi model (sdcMicro's
//!   `indivRisk`, "approx"), the global risk as expected re-identifications and as a share,
//!   household risk, and the riskiest combinations.
//! * [`ldiv`]: l-diversity (distinct, entropy, recursive) of sensitive variables in each
//!   equivalence class.
//! * [`suda`]: SUDA's minimal sample uniques up to a size, the SUDA and DIS-SUDA scores.
//!
//! [`assess`] runs them all and returns an [`Assessment`]: plain data that serialises to JSON.
//!
//! Then the methods that lower the risk, each returning a new table and a report of what it
//! cost (the input is never changed):
//!
//! * [`recode`](mod@recode): global recoding — merged categories, intervals, top and bottom coding, a level
//!   up a hierarchy (village → district → province), dates coarsened.
//! * [`suppress`]: local suppression that *guarantees* k-anonymity (a suppressed value matches
//!   any category), suppressing in the least important key first.
//! * [`generalise`]: the least costly combination of hierarchy levels that reaches k with at
//!   most a given share of records left to suppress (a best-first search of the lattice, with
//!   ARX's monotonicity pruning).
//! * [`pram`](mod@pram): PRAM with a seed; [`mdav`](mod@mdav): MDAV microaggregation of numeric variables.
//! * [`loss`]: information loss between two tables: suppressed cells and merged categories per
//!   variable.
//! * [`cells`]: small counts in published tables hidden, with secondary suppression so that no
//!   total gives them away.
//!
//! # Releasing a table
//!
//! * [`recipe`]: a [`Recipe`] (serde, written in TOML or JSON) names the keys, the columns to
//!   drop and the ordered steps (recodings, local suppression, PRAM with its seed); [`apply`]
//!   runs them and re-scores the table after each step (records below k, expected
//!   re-identifications, global risk, the information the step lost).
//! * [`policy`]: a [`Policy`] (by default k ≥ 3 and a global risk under 3 %, variables that must
//!   not leave unless allowed, keys that must be assessed) and [`evaluate`], which returns a
//!   [`Verdict`]: every check with what was required and what was found.
//! * [`release`](mod@release): [`release()`] applies a recipe to [`Microdata`] (every column as
//!   text), judges the result and returns a [`Released`] table with its [`ReleaseReport`], or
//!   [`Refused`]. **Invariant:** `Released` has private fields and no other constructor, so a
//!   `Released` always satisfies the policy it was judged by; whatever publishes or exports
//!   microdata takes a `Released`.
//!
//! # Rules kept
//!
//! Pure: no IO, no clock, no global state; randomness only from a seed the caller gives (PRAM);
//! the same table gives the same result.
//! Input never makes it panic: every problem is an [`SdcError`] that names the row and the
//! variable. Every grouping packs a record's integer codes into one integer and groups by an
//! array indexed by it, a radix sort or hashing (`hash.rs`), linear in the records, so the
//! measures of a survey take milliseconds and those of a million records with 8 keys a fraction
//! of a second (docs/BENCHMARKS.md); docs/sdc.md explains each measure to a data officer.

pub mod cells;
mod error;
pub mod freq;
pub mod generalise;
mod hash;
pub mod ldiv;
pub mod loss;
pub mod mdav;
pub mod policy;
pub mod pram;
pub mod recipe;
pub mod recode;
pub mod release;
pub mod risk;
pub mod suda;
pub mod suppress;
pub mod table;

pub use error::SdcError;
pub use freq::{frequencies, Frequencies, MissingMode};
pub use generalise::{optimal_generalisation, GeneralisationReport, KeyLevel};
pub use ldiv::{ClassDiversity, LDiversity};
pub use loss::{compare, InformationLoss, VariableLoss};
pub use mdav::{mdav, MdavReport, Microaggregation};
pub use policy::{evaluate, Check, Policy, Rule, Verdict};
pub use pram::{pram, PramReport, PramVariable, Transition};
pub use recipe::{apply, Recipe, RiskSummary, Step, StepReport};
pub use recode::{recode, Hierarchy, RecodeReport, Recoding};
pub use release::{release, Microdata, Refused, ReleaseReport, Released};
pub use risk::{individual_risk, Combination, GlobalRisk, HouseholdRisk, KAnonymity};
pub use suda::{KeyContribution, Suda};
pub use suppress::{local_suppression, SuppressionReport};
pub use table::{KeyTable, Row, TableBuilder, Variable, MISSING};

use serde::Serialize;

/// What to measure, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub missing: MissingMode,
    /// The values of k for which k-anonymity violations are counted.
    pub k: Vec<u32>,
    /// The largest MSU searched by SUDA; `None` skips SUDA.
    pub suda_max_size: Option<usize>,
    /// The sampling fraction of DIS-SUDA (sdcMicro's `DisFraction`, 0.01 by default there).
    pub dis_fraction: f64,
    /// The constant `c` of recursive (c, l)-diversity (sdcMicro's `l_recurs_c`, 2).
    pub recursive_c: f64,
    /// How many of the riskiest key combinations to list.
    pub riskiest: usize,
    /// Keep every record's measures in [`Assessment::per_record`].
    pub per_record: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing: MissingMode::Any,
            k: vec![2, 3, 5],
            suda_max_size: Some(3),
            dis_fraction: 0.01,
            recursive_c: 2.0,
            riskiest: 10,
            per_record: true,
        }
    }
}

impl Options {
    fn check(&self) -> Result<(), SdcError> {
        if self.k.contains(&0) {
            return Err(SdcError::ZeroK);
        }
        if self.suda_max_size == Some(0) {
            return Err(SdcError::ZeroSudaSize);
        }
        if !(self.dis_fraction > 0.0 && self.dis_fraction < 1.0) {
            return Err(SdcError::DisFraction {
                value: self.dis_fraction,
            });
        }
        if !(self.recursive_c > 0.0 && self.recursive_c.is_finite()) {
            return Err(SdcError::RecursiveC {
                value: self.recursive_c,
            });
        }
        Ok(())
    }
}

/// The measures of one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordRisk {
    pub fk: u32,
    #[serde(rename = "Fk")]
    pub big_fk: f64,
    pub risk: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_risk: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suda_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dis_suda_score: Option<f64>,
}

/// Everything [`assess`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub records: usize,
    pub keys: Vec<String>,
    pub missing: MissingMode,
    /// The weight variable, when the risk was estimated for a sample.
    pub weight: Option<String>,
    /// Records with at least one missing key.
    pub records_with_missing_keys: usize,
    /// Distinct key combinations (a missing value as its own category).
    pub combinations: usize,
    pub k_anonymity: Vec<KAnonymity>,
    pub global: GlobalRisk,
    pub household: Option<HouseholdRisk>,
    pub riskiest: Vec<Combination>,
    pub l_diversity: Vec<LDiversity>,
    pub suda: Option<Suda>,
    /// Every record's measures, in the table's order (empty unless asked for).
    pub per_record: Vec<RecordRisk>,
}

/// Measures the re-identification risk of a table.
pub fn assess(table: &KeyTable, options: &Options) -> Result<Assessment, SdcError> {
    options.check()?;
    let f = frequencies(table, options.missing);
    let weighted = table.weight.is_some();
    let risks: Vec<f64> =
        f.fk.iter()
            .zip(&f.big_fk)
            .map(|(&fk, &big)| individual_risk(fk, big, weighted))
            .collect();
    let household = risk::household(table, &risks);
    let suda = options.suda_max_size.map(|size| {
        suda::suda_of_cells(table, &f.cell, f.cells, size, options.dis_fraction, false)
    });
    let per_record = if options.per_record {
        (0..table.rows())
            .map(|i| RecordRisk {
                fk: f.fk[i],
                big_fk: f.big_fk[i],
                risk: risks[i],
                household_risk: household.as_ref().map(|(_, h)| h[i]),
                suda_score: suda.as_ref().map(|s| s.score[i]),
                dis_suda_score: suda.as_ref().map(|s| s.dis_score[i]),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Assessment {
        records: table.rows(),
        keys: table.keys.iter().map(|k| k.name.clone()).collect(),
        missing: options.missing,
        weight: table.weight.as_ref().map(|(n, _)| n.clone()),
        records_with_missing_keys: table.missing.iter().filter(|&&p| p != 0).count(),
        combinations: f.cells as usize,
        k_anonymity: risk::k_anonymity(&f, &options.k),
        global: risk::global(&risks),
        household: household.map(|(h, _)| h),
        riskiest: risk::riskiest(table, &f, &risks, options.riskiest),
        l_diversity: ldiv::l_diversity(table, &f.cell, f.cells, options.recursive_c),
        suda: suda.map(|s| s.summary),
        per_record,
    })
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod timing;
