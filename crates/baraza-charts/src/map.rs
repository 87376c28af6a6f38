//! Choropleth maps of administrative areas as inline SVG.
//!
//! # Design
//!
//! * **Projection.** Equirectangular, longitudes scaled by the cosine of the middle latitude
//!   of the areas' bounding box, north up: shapes are right for a country, and the code is a
//!   few lines. The map fills the width and is at most 1.25 times as tall as wide.
//! * **Small paths.** Rings are projected to pixels, simplified there by Douglas–Peucker at
//!   half a pixel ([`geo::simplify`](crate::geo::simplify): vertices are only removed, and no
//!   area disappears), then written with integer relative coordinates (`l3-2 5 1…`),
//!   repeated pixels skipped. Callers may pre-simplify for storage at
//!   [`geo::DISPLAY_TOLERANCE`](crate::geo::DISPLAY_TOLERANCE); the output is the same size.
//! * **Classes.** Over the values that may be shown (not suppressed, finite). With at least
//!   four values per class, **quantiles** (classes of about equal counts; a class's legend
//!   gives the smallest and largest value in it; tied values stay together, so there may be
//!   fewer classes). With fewer values, **nice equal intervals** (1-2-5 steps, as few classes as
//!   needed up to `classes`), which read better and stay comparable between maps. Quantiles
//!   that ties would merge into fewer classes than there are distinct values (up to
//!   `classes`) give way to equal intervals too. One value, one class.
//! * **Colours.** ColorBrewer's sequential *YlGnBu* for the number of classes (3–7): safe for
//!   colour-blind readers and ordered from light to dark in grey print. **Dark means good**:
//!   when `higher_is_better` is false the palette is reversed, so the lowest values are dark.
//! * **No figure.** An area without a value, or whose mark is
//!   [`Mark::Suppressed`], is filled with a hatch (`<pattern id="{id}-h">`) and has its legend
//!   entry (`no_data_label`). An area marked [`Mark::NotRepresentative`] is coloured but has a
//!   dashed black outline, and its tooltip and legend say so (`not_representative_label`). A
//!   [`Mark::Bracketed`] area is coloured normally; its label (given by the caller, e.g.
//!   `"(45 %)"`) says the rest.
//! * **Each area** is one `<path>` with a `<title>` "Name: label" (tooltip and accessible
//!   name), inside `<a href>` when it links somewhere (drill-down; only relative and
//!   `http(s)` links are kept). Areas without geometry
//!   are not drawn.
//! * The **attribution** is printed under the legend, as ODbL sources require.

use std::fmt::Write;

use crate::chart::Mark;
use crate::geo::{self, Ring};
use crate::svg::{self, esc, fmt_num, n, text_width};

/// One area on the map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Area<'a> {
    /// Code of the area (e.g. ISO 3166-2 `TD-BA`); its tooltip's name when `name` is empty.
    pub code: &'a str,
    pub name: &'a str,
    /// Polygons in longitude, latitude (see [`geo::Feature::polygons`]).
    pub polygons: &'a [Vec<Ring>],
    pub value: Option<f64>,
    /// The value as the page shows it (`"62 %"`, `"(45 %)"`).
    pub label: String,
    pub mark: Mark,
    /// Link followed when the area is clicked.
    pub href: Option<String>,
}

/// A map to render.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapSpec<'a> {
    /// Prefix of every id in the SVG; unique per page.
    pub id: String,
    pub title: String,
    pub desc: String,
    pub legend_title: String,
    /// Legend entry of the hatched class ("no data or suppressed").
    pub no_data_label: String,
    /// Legend entry and tooltip note for not-representative figures; nothing when empty.
    pub not_representative_label: String,
    /// Shown at the bottom (required by ODbL sources).
    pub attribution: String,
    pub areas: Vec<Area<'a>>,
    /// Number of classes, 3 to 7.
    pub classes: usize,
    pub higher_is_better: bool,
    pub width: u32,
    pub decimal_comma: bool,
}

/// ColorBrewer YlGnBu, light to dark, for 3 to 7 classes.
const YLGNBU: [&[&str]; 5] = [
    &["#edf8b1", "#7fcdbb", "#2c7fb8"],
    &["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
    &["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
    &[
        "#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494",
    ],
    &[
        "#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84",
    ],
];

const PAD: f64 = 8.0;

/// Class breaks over the shown values.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    /// Lower bound of each class (a value belongs to the last class whose bound it reaches).
    pub lower: Vec<f64>,
    /// Legend text of each class.
    pub labels: Vec<String>,
}

impl Classes {
    /// Index of the class of `v`.
    pub fn of(&self, v: f64) -> usize {
        self.lower.iter().rposition(|b| v >= *b).unwrap_or(0)
    }
}

/// Computes the classes (see the module documentation); `None` when no value may be shown.
pub fn classes(values: &[f64], wanted: usize, decimal_comma: bool) -> Option<Classes> {
    let k = wanted.clamp(3, 7);
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let range = |a: f64, b: f64, d: usize| {
        if a == b {
            fmt_num(a, d, decimal_comma)
        } else {
            format!(
                "{}\u{2013}{}",
                fmt_num(a, d, decimal_comma),
                fmt_num(b, d, decimal_comma)
            )
        }
    };
    if lo == hi {
        let d = svg::value_decimals(lo.abs());
        return Some(Classes {
            lower: vec![lo],
            labels: vec![range(lo, lo, d)],
        });
    }
    let mut distinct = v.clone();
    distinct.dedup();
    let mut lower = vec![lo];
    if v.len() >= 4 * k {
        for i in 1..k {
            let t = v[i * v.len() / k];
            if t > *lower.last().unwrap_or(&lo) {
                lower.push(t);
            }
        }
    }
    if lower.len() >= k.min(distinct.len()) {
        let d = svg::value_decimals(lo.abs().max(hi.abs()));
        let c = Classes {
            lower,
            labels: Vec::new(),
        };
        let labels = (0..c.lower.len())
            .map(|i| {
                let members = v.iter().filter(|x| c.of(**x) == i);
                let a = members.clone().copied().fold(f64::INFINITY, f64::min);
                let b = members.copied().fold(f64::NEG_INFINITY, f64::max);
                range(a, b, d)
            })
            .collect();
        return Some(Classes { labels, ..c });
    }
    let mut step = svg::nice_step((hi - lo) / k as f64);
    loop {
        let start = (lo / step).floor() * step;
        let count = (((hi - start) / step - 1e-9).ceil() as usize).max(1);
        if count <= k || !step.is_finite() {
            let d = svg::step_decimals(step);
            let lower: Vec<f64> = (0..count).map(|i| start + i as f64 * step).collect();
            let labels = lower.iter().map(|a| range(*a, a + step, d)).collect();
            return Some(Classes { lower, labels });
        }
        step = svg::nice_step(step * 1.01);
    }
}

fn palette(count: usize, higher_is_better: bool) -> Vec<&'static str> {
    let mut p: Vec<&str> = match count {
        0 => Vec::new(),
        1 => vec![YLGNBU[0][1]],
        2 => vec![YLGNBU[0][0], YLGNBU[0][2]],
        c => YLGNBU[c.min(7) - 3].to_vec(),
    };
    if !higher_is_better {
        p.reverse();
    }
    p
}

fn shown(a: &Area) -> Option<f64> {
    if a.mark == Mark::Suppressed {
        None
    } else {
        a.value.filter(|v| v.is_finite())
    }
}

/// Renders a map as an SVG element for inline use (see [`crate::standalone`] for a file).
pub fn render(m: &MapSpec) -> String {
    let id = svg::sanitize_id(&m.id);
    let w = f64::from(m.width.clamp(160, 4000));
    let mut o = String::with_capacity(16 * 1024);
    let bb = m
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
        });
    let values: Vec<f64> = m.areas.iter().filter_map(shown).collect();
    let cls = classes(&values, m.classes, m.decimal_comma);
    let colours = palette(
        cls.as_ref().map_or(0, |c| c.lower.len()),
        m.higher_is_better,
    );

    // Projection.
    let proj = bb.map(|b| Projection::fit(b, w));
    let map_h = proj.as_ref().map_or(0.0, |p| p.height);
    let project = |p: &[f64; 2]| proj.as_ref().map_or([0.0, 0.0], |pr| pr.apply(p));

    // Legend layout.
    let uses_hatch = m
        .areas
        .iter()
        .any(|a| shown(a).is_none() && !a.polygons.is_empty());
    let any_nr = m.areas.iter().any(|a| a.mark == Mark::NotRepresentative)
        && !m.not_representative_label.trim().is_empty();
    let mut entries: Vec<(String, String)> = Vec::new(); // (swatch attributes, label)
    if let Some(c) = &cls {
        for (i, l) in c.labels.iter().enumerate() {
            entries.push((format!("fill=\"{}\"", colours[i]), l.clone()));
        }
    }
    if uses_hatch {
        entries.push((format!("fill=\"url(#{id}-h)\""), m.no_data_label.clone()));
    }
    if any_nr {
        entries.push((
            "fill=\"#fff\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"3 2\"".into(),
            m.not_representative_label.clone(),
        ));
    }
    let mut pos = Vec::new();
    let (mut x, mut row) = (0.0, 0usize);
    for (_, l) in &entries {
        let iw = 22.0 + text_width(l, 11.0);
        if x > 0.0 && x + iw > w - 2.0 * PAD {
            x = 0.0;
            row += 1;
        }
        pos.push((x, row));
        x += iw + 12.0;
    }
    let legend_top = PAD + map_h + 10.0;
    let title_h = if m.legend_title.trim().is_empty() {
        0.0
    } else {
        18.0
    };
    let rows = if entries.is_empty() { 0 } else { row + 1 };
    let attribution = svg::wrap(&m.attribution, 10.0, w - 2.0 * PAD);
    let attr_top = legend_top + title_h + rows as f64 * 18.0 + 6.0;
    let h = (attr_top + attribution.len() as f64 * 13.0 + PAD).ceil();

    svg::open(&mut o, &id, w, h, 11.0, &m.title, &m.desc);
    if uses_hatch {
        o.push_str("<defs>");
        svg::hatch_def(&mut o, &id);
        o.push_str("</defs>");
    }
    if bb.is_none() {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            n(w / 2.0),
            n(legend_top - 4.0),
            esc(&m.no_data_label)
        );
    }

    // Areas: the not-representative ones last, so that their dashed outline shows whole.
    o.push_str("<g class=\"a\" stroke=\"#444\" stroke-width=\".5\" stroke-linejoin=\"round\" fill-rule=\"evenodd\">");
    let order = m
        .areas
        .iter()
        .filter(|a| a.mark != Mark::NotRepresentative)
        .chain(m.areas.iter().filter(|a| a.mark == Mark::NotRepresentative));
    for a in order {
        if a.polygons.is_empty() {
            continue;
        }
        let d = svg::pixel_path(a.polygons, project, None);
        if d.is_empty() {
            continue;
        }
        let fill = match (shown(a), &cls) {
            (Some(v), Some(c)) => colours[c.of(v)].to_string(),
            _ => format!("url(#{id}-h)"),
        };
        let nr = a.mark == Mark::NotRepresentative;
        let extra = if nr {
            " stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"3 2\""
        } else {
            ""
        };
        let label = if shown(a).is_some() {
            a.label.as_str()
        } else {
            m.no_data_label.as_str()
        };
        let name = if a.name.trim().is_empty() {
            a.code
        } else {
            a.name
        };
        let mut tip = format!("{name}: {label}");
        if nr && !m.not_representative_label.trim().is_empty() {
            let _ = write!(tip, " ({})", m.not_representative_label);
        }
        let href = a.href.as_deref().filter(|h| svg::safe_link(h));
        if let Some(href) = href {
            let _ = write!(o, "<a href=\"{}\">", esc(href));
        }
        let _ = write!(
            o,
            "<path d=\"{d}\" fill=\"{fill}\"{extra}><title>{}</title></path>",
            esc(&tip)
        );
        if href.is_some() {
            o.push_str("</a>");
        }
    }
    o.push_str("</g>");

    // Legend.
    let mut y0 = legend_top;
    if title_h > 0.0 {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>",
            n(PAD),
            n(y0 + 12.0),
            esc(&m.legend_title)
        );
        y0 += title_h;
    }
    if !entries.is_empty() {
        o.push_str("<g class=\"k\">");
        for ((sw, l), (x, row)) in entries.iter().zip(&pos) {
            let top = y0 + *row as f64 * 18.0;
            let _ = write!(
                o,
                "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"11\" {sw}/><text x=\"{}\" y=\"{}\">{}</text>",
                n(PAD + x),
                n(top + 1.0),
                n(PAD + x + 21.0),
                n(top + 11.0),
                esc(l)
            );
        }
        o.push_str("</g>");
    }
    if !attribution.is_empty() {
        o.push_str("<g fill=\"#444\">");
        for (i, line) in attribution.iter().enumerate() {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
                n(PAD),
                n(attr_top + 10.0 + i as f64 * 13.0),
                esc(line)
            );
        }
        o.push_str("</g>");
    }
    o.push_str("</svg>");
    o
}

/// Equirectangular projection fitted to a bounding box.
struct Projection {
    west: f64,
    north: f64,
    k: f64,
    scale: f64,
    off_x: f64,
    height: f64,
}

impl Projection {
    fn fit([west, south, east, north]: [f64; 4], w: f64) -> Self {
        let k = ((south + north) / 2.0).to_radians().cos().max(0.05);
        let gw = (east - west) * k;
        let gh = north - south;
        let avail_w = w - 2.0 * PAD;
        let mut scale = f64::INFINITY;
        if gw > 0.0 {
            scale = scale.min(avail_w / gw);
        }
        if gh > 0.0 {
            scale = scale.min(w * 1.25 / gh);
        }
        if !scale.is_finite() {
            scale = 1.0;
        }
        Projection {
            west,
            north,
            k,
            scale,
            off_x: PAD + (avail_w - gw * scale) / 2.0,
            height: (gh * scale).max(1.0),
        }
    }

    fn apply(&self, p: &[f64; 2]) -> [f64; 2] {
        [
            self.off_x + (p[0] - self.west) * self.k * self.scale,
            PAD + (self.north - p[1]) * self.scale,
        ]
    }
}
