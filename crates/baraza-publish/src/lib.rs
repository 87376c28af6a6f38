//! The formats Baraza publishes, written as streams.
//!
//! # Design
//!
//! A form's submissions leave Baraza as tables, documents or features, always in **constant
//! memory**: a writer takes one record at a time and writes it out at once to any
//! [`std::io::Write`]; nothing grows with the number of records. This crate is pure: no async,
//! no database, no clock (times are passed in), no IO beyond the `Write` it is given. The web edge
//! reads the records in keyset batches and feeds them here on a blocking thread.
//!
//! * [`values`] reads a submission's stored typed values (`values_json`, as `baraza-openrosa`
//!   writes them at ingest) without copying strings.
//! * [`schema`] turns the form model into the export's shape, the way ODK Central does it: a
//!   root table with one column per field outside repeats (group paths joined with `-`, geopoints
//!   split into `-Latitude`, `-Longitude`, `-Altitude`, `-Accuracy`, select_multiple followed by
//!   one 0/1 column per known choice, `SubmissionDate` first and `KEY`, `SubmitterID`,
//!   `SubmitterName`, `AttachmentsPresent`, `AttachmentsExpected`, `Status`, `ReviewState`,
//!   `DeviceID`, `Edits`, `FormVersion` last), then one table per repeat with `PARENT_KEY` and
//!   `KEY` (`uuid:…/group/repeat[1]`) linking its rows to their parents.
//! * [`table`] flattens one record into the rows of one table, through the [`table::CellSink`]
//!   trait that the [`csv`] and [`xlsx`] writers implement (typed cells: numbers stay numbers,
//!   dates are dates in XLSX).
//! * [`zip`] writes a zip archive to a non-seekable stream (data descriptors, ZIP64 when an entry
//!   outgrows 4 GiB): the CSV archive and the XLSX workbook are both made of it.
//! * [`json`] writes submissions as nested documents (groups as objects, repeats as arrays,
//!   geopoints as GeoJSON points, system fields under `__system`, as ODK Central's OData feed
//!   shapes them); [`geojson`] writes an RFC 7946 FeatureCollection.
//!
//!
//! The catalogue's metadata (`baraza-catalogue`'s datasets) leaves as documents, built whole in
//! memory (a page of datasets is small):
//!
//! * [`dcat`] writes the catalogue and its datasets as DCAT (DCAT-AP 3) in Turtle, JSON-LD and
//!   RDF/XML from one in-memory graph, with Hydra paging as `ckanext-dcat` emits it.
//! * [`datapackage`] writes a dataset's Frictionless Data Package v2 descriptor (Table Schema
//!   with HXL hashtags for tabular resources) and lists what would make it invalid.
//! * [`atom`] writes an Atom 1.0 feed of new and changed datasets.
//! * [`schemaorg`] writes a dataset page's schema.org `Dataset` JSON-LD, safe inside `<script>`.
//!
//! A table is one zip entry, and entries cannot interleave: a writer of several tables (the CSV
//! archive, the workbook) takes the records once per table. The caller reads the same snapshot of
//! records for each pass (see `baraza-web`'s export module).
//!
//! Values whose question is not in the current version of the form (an older version's field)
//! are left out, as ODK Central does; values of a question whose type changed between versions
//! are written as their own type.

pub mod atom;
pub mod convert;
pub mod csv;
pub mod datapackage;
pub mod dcat;
pub mod geojson;
pub mod iati;
pub mod json;
pub mod schema;
pub mod schemaorg;
pub mod table;
mod time;
pub mod values;
pub mod xlsx;
pub mod zip;

pub use schema::{Field, FieldKind, Schema, Table};
pub use table::{CellSink, Flattener, Meta};
pub use time::{iso_timestamp, parse_ymd, unix_days};
pub use values::{parse_values, StoredValue, Typed};
