//! Charts and maps as inline SVG, rendered on the server so that a page needs no script and no
//! request to anyone else, and weighs a few kilobytes on a 2G phone.
//!
//! * [`chart`]: line and bar charts of one or more series, with interval whiskers, the official
//!   series in a distinct style, a target line, and marks for suppressed, bracketed (small
//!   sample) and not-representative figures. Every chart has `<title>` and `<desc>`; the page
//!   puts the data table under it.
//! * [`geo`]: administrative areas read from GeoJSON (polygons and multipolygons, with limits
//!   against hostile files), simplified for display.
//! * [`map`]: a choropleth map of areas, with a legend and a hatched "no data / suppressed"
//!   class.
//! * [`points`]: a map of clustered points (citizen reports) over grey administrative areas, in
//!   Web Mercator so that clusters sit on the grid they were computed on; circles sized by
//!   count, linked for zooming in.
//!
//! Every text that reaches the SVG is escaped; numbers are written with few digits.

pub mod chart;
pub mod geo;
pub mod map;
pub mod points;
mod svg;

/// Makes an SVG from [`chart::render`] or [`map::render`] a standalone `.svg` file: the XML
/// declaration in front (the root already carries its namespace).
pub fn standalone(svg: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n")
}
