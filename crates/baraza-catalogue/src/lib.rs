//! The open-data catalogue, pure.
//!
//! What a civil-society organisation has collected and protected leaves Baraza as *datasets*:
//! a released table of a survey (only ever a `Released` table from `baraza-sdc`), an indicator
//! series, or a file someone uploaded (CSV, XLSX, GeoJSON, a PDF of documentation). A dataset
//! has *resources* (its files), belongs to an organisation, sits in groups (the 17 SDGs), carries
//! tags, a licence, an update frequency, a temporal and a spatial coverage and its methodology.
//!
//! # The pieces
//!
//! * [`model`]: the dataset and resource as every reader of the catalogue sees them (CKAN's
//!   package dictionary, DCAT, the HTML pages and the Data Package are all written from it).
//! * [`licences`]: the licences a dataset may carry, with opendefinition.org ids, Licence
//!   Ouverte 2.0 (`lov2`, `etalab-2.0`), ODbL, CC-BY and CC0, each explained in French and
//!   English for the chooser; and the update frequencies (the EU vocabulary that uData uses).
//! * [`fold`]: text folded for search: lower case, accents removed, so that "Économie", "economie"
//!   and an NFD-written "Économie" are one word.
//! * [`search`]: an in-memory index over the whole catalogue and CKAN's query language
//!   (`q`, `fq` with `field:value`, ranges `[A TO *]`, `sort`, `rows`/`start`, facets). The
//!   index is built from the store and thrown away when the catalogue changes; ten thousand
//!   datasets are searched with facets in well under ten milliseconds.
//! * [`census`]: the open-data census's question set (the Open Data Index's, by default),
//!   answers and scores.
//! * [`quality`]: data.gouv.fr's quality criteria, plus a valid Data Package, HXL tag
//!   coverage and a documented methodology, each with a hint that says how to fix it.
//! * [`table`]: a tabular resource held in memory in columns (dictionary-encoded values, a
//!   numeric view of numbers and dates) and the table page's query over it: equality,
//!   `contains` and range filters, full-text search, sort, keyset paging and facet counts.
//! * [`versions`]: what changed between two states of a dataset (its history's summaries).
//!
//! The crate is pure: no IO, no clock (callers pass "now"), no database.

pub mod census;
pub mod fold;
pub mod harvest;
pub mod licences;
pub mod model;
pub mod quality;
pub mod search;
pub mod table;
pub mod versions;

pub use model::{Dataset, DatasetState, Organisation, Resource, ResourceKind, Source};
