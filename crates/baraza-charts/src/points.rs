//! Maps of clustered points (citizen reports) over administrative areas, as inline SVG, with
//! no tile server.
//!
//! # Design
//!
//! * **Projection.** Web Mercator ([`mercator`]), the projection of web map tiles and of the
//!   clustering grid of `baraza-reports`: the box `view` is fitted into `width × height` pixels
//!   with one scale for both axes and centred. When `view` is the box that
//!   `baraza_reports::view::View::bbox(width, height)` returns, the scale is exactly
//!   `256 · 2^zoom` pixels for the world, so a cluster grid cell is 32 pixels on the map and
//!   markers land where the grid puts them. This crate does not depend on `baraza-reports`:
//!   the projection is the few lines of [`mercator`], and the tests check both agree.
//! * **Areas** are light grey paths under the markers, each with its name as `<title>` and in
//!   an `<a href>` when it links somewhere. Rings are projected to pixels, cut to the map's
//!   rectangle (plus 2 pixels, so the cut edges stay out of sight) by
//!   [`geo::clip_rect`], simplified at half a pixel by [`geo::simplify`] and written with
//!   integer relative coordinates, as the choropleth of [`crate::map`] does. Areas whose
//!   bounding box misses the view are skipped before projection. A `<clipPath>` of the map's
//!   rectangle hides what overhangs.
//! * **Markers** are circles whose **area is proportional to the count**, relative to the
//!   largest marker drawn: radius `22 · √(count / largest)` pixels, at least 8 (so a small
//!   cluster stays visible and can be tapped), at most 22 (a cell is 32 pixels: neighbours may
//!   overlap a little). The count is written inside when it fits. Larger markers are drawn
//!   first, so smaller ones stay on top and can be reached. Each marker has a `<title>` (its
//!   `label`, e.g. "37 reports") and is inside an `<a href>` when it links somewhere (zoom in).
//!   An **approximate** marker (a cluster merged into a coarser cell, or a fuzzed position) is
//!   pale with a dashed outline, so it does not pass for a precise place.
//! * Markers outside `view`, not numbers, or with a count of 0 are not drawn.
//! * **Links:** only relative and `http(s)` links are kept (no `javascript:` nor `data:`).
//! * The **attribution** is printed under the map. Every text is escaped; the output depends
//!   only on the spec.

use std::f64::consts::PI;
use std::fmt::Write;

use crate::geo::{self, Ring};
use crate::svg::{self, esc, n, text_width};

/// Web Mercator's latitude limit.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

const R_MIN: f64 = 8.0;
const R_MAX: f64 = 22.0;
const PAD: f64 = 8.0;

/// One area drawn under the markers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BaseArea<'a> {
    /// Its tooltip when `name` is empty.
    pub code: &'a str,
    pub name: &'a str,
    /// Polygons in longitude, latitude (see [`geo::Feature::polygons`]).
    pub polygons: &'a [Vec<Ring>],
    pub href: Option<String>,
}

/// One cluster (or one report) on the map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Marker {
    pub lat: f64,
    pub lon: f64,
    pub count: u64,
    /// Tooltip and accessible name, e.g. "37 reports"; the count when empty.
    pub label: String,
    /// Link followed when the marker is clicked (e.g. the view zoomed in on it).
    pub href: Option<String>,
    /// A merged or fuzzed position: drawn pale with a dashed outline.
    pub approximate: bool,
}

/// A box of latitudes and longitudes in degrees (west ≤ east).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Viewport {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

/// A map of points to render.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointMapSpec<'a> {
    /// Prefix of every id in the SVG; unique per page.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// Shown under the map (required by ODbL sources).
    pub attribution: String,
    pub areas: Vec<BaseArea<'a>>,
    pub markers: Vec<Marker>,
    /// What the map shows. When its sides are not numbers or it has no size, the areas' box
    /// (or the world) is shown instead.
    pub view: Viewport,
    /// Size of the map in pixels (160 to 4000 wide, 120 to 4000 high); the attribution adds
    /// its lines below.
    pub width: u32,
    pub height: u32,
}

/// Web Mercator of a longitude and latitude, as fractions of the world: `[x, y]`, `x` from 0
/// (180° W) to 1 (180° E), `y` from 0 (85.05° N) to 1 (85.05° S). Multiply by `256 · 2^zoom`
/// for the pixels of web map tiles at a zoom. Latitudes beyond ±85.05° are clamped.
pub fn mercator(lon: f64, lat: f64) -> [f64; 2] {
    let s = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    [
        (lon.clamp(-180.0, 180.0) + 180.0) / 360.0,
        (0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI)).clamp(0.0, 1.0),
    ]
}

/// The view as it will be drawn: finite, ordered, on the map, with a size.
fn viewport(spec: &PointMapSpec) -> Viewport {
    let v = spec.view;
    let sane = [v.south, v.west, v.north, v.east]
        .iter()
        .all(|x| x.is_finite());
    if sane {
        let v = Viewport {
            south: v.south.min(v.north).clamp(-MAX_LAT, MAX_LAT),
            north: v.south.max(v.north).clamp(-MAX_LAT, MAX_LAT),
            west: v.west.min(v.east).clamp(-180.0, 180.0),
            east: v.west.max(v.east).clamp(-180.0, 180.0),
        };
        if v.north > v.south && v.east > v.west {
            return v;
        }
    }
    let areas = spec
        .areas
        .iter()
        .filter_map(|a| geo::bbox_of(a.polygons))
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
        .filter(|b| b[2] > b[0] && b[3] > b[1]);
    match areas {
        Some([west, south, east, north]) => Viewport {
            south: south.max(-MAX_LAT),
            west,
            north: north.min(MAX_LAT),
            east,
        },
        None => Viewport {
            south: -MAX_LAT,
            west: -180.0,
            north: MAX_LAT,
            east: 180.0,
        },
    }
}

/// Web Mercator scaled and centred so that the view fills the map.
struct Fit {
    scale: f64,
    off_x: f64,
    off_y: f64,
}

impl Fit {
    fn new(v: &Viewport, w: f64, h: f64) -> Fit {
        let [x0, y0] = mercator(v.west, v.north);
        let [x1, y1] = mercator(v.east, v.south);
        // `viewport` gives a box with a size; the floor only guards the division.
        let (dx, dy) = ((x1 - x0).max(1e-15), (y1 - y0).max(1e-15));
        let scale = (w / dx).min(h / dy);
        Fit {
            scale,
            off_x: (w - dx * scale) / 2.0 - x0 * scale,
            off_y: (h - dy * scale) / 2.0 - y0 * scale,
        }
    }

    fn apply(&self, lon: f64, lat: f64) -> [f64; 2] {
        let [x, y] = mercator(lon, lat);
        [x * self.scale + self.off_x, y * self.scale + self.off_y]
    }
}

/// Radius of a marker of `count` when the largest drawn has `largest`.
fn radius(count: u64, largest: u64) -> f64 {
    let f = count as f64 / largest.max(1) as f64;
    (R_MAX * f.sqrt()).clamp(R_MIN, R_MAX)
}

/// Renders a map of points as an SVG element for inline use (see [`crate::standalone`] for a
/// file).
pub fn render_points(spec: &PointMapSpec) -> String {
    let id = svg::sanitize_id(&spec.id);
    let w = f64::from(spec.width.clamp(160, 4000));
    let h = f64::from(spec.height.clamp(120, 4000));
    let view = viewport(spec);
    let fit = Fit::new(&view, w, h);
    let attribution = svg::wrap(&spec.attribution, 10.0, w - 2.0 * PAD);
    let total_h = if attribution.is_empty() {
        h
    } else {
        h + 6.0 + attribution.len() as f64 * 13.0 + 4.0
    };
    let mut o = String::with_capacity(32 * 1024 + spec.markers.len() * 160);
    svg::open(&mut o, &id, w, total_h, 11.0, &spec.title, &spec.desc);
    let _ = write!(
        o,
        "<defs><clipPath id=\"{id}-c\"><rect width=\"{w}\" height=\"{h}\"/></clipPath></defs>\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#f6f6f4\"/><g clip-path=\"url(#{id}-c)\">",
        w = n(w),
        h = n(h)
    );

    // Areas.
    o.push_str(
        "<g class=\"a\" fill=\"#e2e2de\" stroke=\"#999\" stroke-width=\".5\" \
         stroke-linejoin=\"round\" fill-rule=\"evenodd\">",
    );
    let cut = Some([-2.0, -2.0, w + 2.0, h + 2.0]);
    for a in &spec.areas {
        let Some(b) = geo::bbox_of(a.polygons) else {
            continue;
        };
        if b[2] < view.west || b[0] > view.east || b[3] < view.south || b[1] > view.north {
            continue;
        }
        let d = svg::pixel_path(a.polygons, |p| fit.apply(p[0], p[1]), cut);
        if d.is_empty() {
            continue;
        }
        let name = if a.name.trim().is_empty() {
            a.code
        } else {
            a.name
        };
        let href = a.href.as_deref().filter(|h| svg::safe_link(h));
        if let Some(href) = href {
            let _ = write!(o, "<a href=\"{}\">", esc(href));
        }
        let _ = write!(o, "<path d=\"{d}\"><title>{}</title></path>", esc(name));
        if href.is_some() {
            o.push_str("</a>");
        }
    }
    o.push_str("</g>");

    // Markers: the largest first, so that smaller ones stay on top.
    let mut shown: Vec<&Marker> = spec
        .markers
        .iter()
        .filter(|m| {
            m.count > 0
                && m.lat.is_finite()
                && m.lon.is_finite()
                && (view.south..=view.north).contains(&m.lat)
                && (view.west..=view.east).contains(&m.lon)
        })
        .collect();
    shown.sort_by_key(|m| std::cmp::Reverse(m.count));
    let largest = shown.first().map_or(1, |m| m.count);
    o.push_str(
        "<g class=\"m\" fill=\"#fff\" stroke-width=\"1.5\" text-anchor=\"middle\" \
         font-size=\"10\" font-weight=\"bold\">",
    );
    for m in shown {
        let [x, y] = fit.apply(m.lon, m.lat);
        let r = radius(m.count, largest);
        let count = m.count.to_string();
        let label = if m.label.trim().is_empty() {
            count.as_str()
        } else {
            m.label.as_str()
        };
        let href = m.href.as_deref().filter(|h| svg::safe_link(h));
        match href {
            Some(href) => {
                let _ = write!(o, "<a href=\"{}\">", esc(href));
            }
            None => o.push_str("<g>"),
        }
        let (fill, extra, text_fill) = if m.approximate {
            (
                "#fcd9b6",
                " stroke=\"#b03a2e\" stroke-dasharray=\"3 2\"",
                " fill=\"#7a1d12\"",
            )
        } else {
            ("#c0392b", " stroke=\"#fff\"", "")
        };
        let _ = write!(
            o,
            "<title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\"{extra}/>",
            esc(label),
            n(x),
            n(y),
            n(r)
        );
        if text_width(&count, 10.0) <= 2.0 * r - 3.0 {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\"{text_fill}>{count}</text>",
                n(x),
                n(y + 3.5)
            );
        }
        o.push_str(if href.is_some() { "</a>" } else { "</g>" });
    }
    o.push_str("</g></g>");
    let _ = write!(
        o,
        "<rect width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#bbb\"/>",
        n(w),
        n(h)
    );

    if !attribution.is_empty() {
        o.push_str("<g fill=\"#444\">");
        for (i, line) in attribution.iter().enumerate() {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
                n(PAD),
                n(h + 6.0 + 10.0 + i as f64 * 13.0),
                esc(line)
            );
        }
        o.push_str("</g>");
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_matches_the_tile_grid() {
        assert_eq!(mercator(-180.0, MAX_LAT), [0.0, 0.0]);
        let [x, y] = mercator(180.0, -MAX_LAT);
        assert!((x - 1.0).abs() < 1e-12 && (y - 1.0).abs() < 1e-12);
        assert_eq!(mercator(0.0, 0.0), [0.5, 0.5]);
        // N'Djamena is in tile (138, 119) at zoom 8 (OpenStreetMap's tile numbering).
        let [x, y] = mercator(15.0444, 12.1345);
        assert_eq!(((x * 256.0) as u32, (y * 256.0) as u32), (138, 119));
        assert_eq!(mercator(0.0, 90.0), mercator(0.0, MAX_LAT));
    }

    #[test]
    fn radius_is_by_area_and_bounded() {
        assert_eq!(radius(100, 100), R_MAX);
        assert!((radius(25, 100) - R_MAX / 2.0).abs() < 1e-12);
        assert_eq!(radius(1, 1_000_000), R_MIN);
        assert_eq!(radius(0, 0), R_MIN);
    }
}
