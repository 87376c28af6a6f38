//! Indicators on citizen data: what share of households reach a working water point within
//! thirty minutes, by province and by sex of the head of household, month by month, with the
//! interval that says how sure the figure is and the official figure beside it.
//!
//! # The pieces
//!
//! * [`framework`]: the SDG global indicator framework (17 goals, 169 targets, 231 unique
//!   indicators) as data, with titles in six languages, its version and provenance; repeated
//!   indicators (1.5.1 = 11.5.1 = 13.1.1) resolve to one.
//! * [`define`]: an indicator definition (TOML), written in the XLSForm expression language
//!   over a form's fields: filters, value, weight, period, place, disaggregations, unit, SDG
//!   link and the credibility card. Checked against the form's fields, all problems at once.
//! * [`compute`]: one record's *contribution* to the cells of an indicator (period × place ×
//!   group), and the cells themselves, which can add and take away contributions so that an
//!   edit or an erasure updates them without a rebuild.
//! * [`stats`]: the sufficient statistics of a cell ([`stats::Moments`], a value distribution for
//!   medians), estimates with their intervals (Wilson for proportions, linearised variance
//!   with weights, design effect), small-cell flags.
//! * [`inequality`]: gap, ratio and adjusted parity index between groups with intervals; Gini
//!   and Palma for numeric outcomes.
//! * [`official`]: official series read from CSV, the UN SDG database's CSV layout or
//!   SDMX-CSV, never blended with citizen figures; SDMX-CSV 1.0 written for ours.
//! * [`sdmx`]: SDMX-CSV 2.0 for our series and the SDMX-ML 2.1 structure message (dataflow,
//!   DSD, concepts, codelists) it is read against.
//! * [`progress`]: progress towards a target, as Open SDG assesses it (the Statistics Canada
//!   method), called a change only when it exceeds the intervals.
//!
//! The crate is pure: no IO, no clock, no database. The store keeps cells and contributions;
//! the core decides when to update them.

pub mod compute;
pub mod define;
pub mod framework;
pub mod inequality;
pub mod official;
pub mod progress;
pub mod sdmx;
pub mod stats;
