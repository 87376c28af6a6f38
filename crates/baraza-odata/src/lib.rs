//! The OData feed of a form, the way ODK Central serves it, so that pyodk (and Excel and Power BI,
//! which read Central's feed) read Baraza's submissions as they read Central's.
//!
//! # What Central's feed looks like
//!
//! Each form is an OData *service* (`…/forms/{id}.svc`). Its entity sets are relational tables:
//! `Submissions`, one row per submission, and one set per repeat (`Submissions.menage.enfant`),
//! one row per repeat instance. Groups are complex types nested in their row. Rows of a repeat
//! carry a stable `__id` (a SHA-1 of the submission's instanceID and the path of iterations that
//! leads to the instance) and the `__id` of their parent (`__Submissions-id`, or
//! `__Submissions-group-repeat-id` inside another repeat), so tools can join the tables again.
//! The root row carries `__system`: submission date, submitter, review state, attachments…
//! Types follow the XForm binds: `int` is `Edm.Int64`, `decimal` `Edm.Decimal`, `date`
//! `Edm.Date`, `dateTime` `Edm.DateTimeOffset`, geopoints, traces and shapes GeoJSON (or WKT with
//! `$wkt=true`), everything else `Edm.String`.
//!
//! # What this crate does
//!
//! It is pure (no IO, no clock) and knows nothing of HTTP or the database:
//!
//! * [`schema::Schema::from_form`] turns Baraza's form model into the feed's schema, in the order
//!   of the XForm instance (as pyxform writes it, `meta` last); [`schema::Schema::edmx`] and
//!   [`schema::Schema::service_document`] write the `$metadata` and service documents.
//! * [`filter::parse_filter`] reads the `$filter` subset Baraza supports (comparisons of
//!   `__system/submissionDate`, `__system/updatedAt`, `__system/submitterId`,
//!   `__system/reviewState` and `__id` with literals, `and`, `or`, `not`, parentheses) into a
//!   small, typed [`filter::Filter`] that the store turns into SQL. Everything else of OData's
//!   expression language is refused with [`ODataError::Unsupported`] (HTTP 501, as Central does)
//!   and syntax errors with [`ODataError::Invalid`] (400), each saying where.
//! * [`query::Options::parse`] reads `$top`, `$skip`, `$count`, `$filter`, `$select`, `$expand`,
//!   `$wkt` and `$skiptoken`; [`query::Resource::parse`] the resource path after `.svc`.
//! * [`rows`] turns one submission's typed values (as `baraza-openrosa` stores them) into the rows
//!   of any table, with `$select`, `$expand=*` and `$wkt` applied, in the schema's order.
//!
//! Rows are [`json::Json`] values, which keep the order of their keys (the order of the form),
//! so that spreadsheets show columns as the form has them.
//!
//! # Bounds
//!
//! A `$filter` is at most [`filter::MAX_FILTER_CHARS`] characters and nests at most
//! [`filter::MAX_DEPTH`] levels; the parser is a recursive-descent parser whose depth is checked
//! before each descent, so hostile input cannot exhaust the stack. Property tests feed it random
//! strings.

pub mod filter;
pub mod json;
pub mod query;
pub mod rows;
pub mod schema;
pub mod time;

pub use filter::{parse_filter, CmpOp, Filter, Lit, SysField};
pub use json::Json;
pub use query::{Options, Resource};
pub use rows::{Submission, System};
pub use schema::{Field, Kind, Schema, ValueType};

/// Why a request to the feed cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ODataError {
    /// The request is malformed (bad syntax, an unknown property, a bad number).
    #[error("{0}")]
    Invalid(String),
    /// The request is well-formed but asks for something Baraza does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// No such entity set or entity.
    #[error("{0}")]
    NotFound(String),
}

/// An OData identifier made from an XML name, as ODK Central makes it: a leading character that
/// is neither a letter nor `_` gets a `_` in front, and every character other than ASCII letters,
/// digits and `_` becomes `_`.
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    {
        out.push('_');
    }
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        });
    }
    out
}

/// Percent-encodes `s` as JavaScript's `encodeURIComponent` does (Central's navigation links).
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
