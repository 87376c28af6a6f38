//! Line and bar charts as inline SVG.
//!
//! # Design
//!
//! * **Reading without colour.** Series are told apart by colour *and* by shape: citizen
//!   series have solid lines and round, diamond or triangle markers in the Okabe–Ito palette
//!   (safe for the common colour-vision deficiencies); an **official** series is near-black,
//!   dashed (`6 3`) with square markers, and its legend entry shows the dash. The target is a
//!   dotted vermilion line labelled in the plot. In a bar chart the official series is the
//!   near-black bar. A chart printed in black and white stays
//!   readable.
//! * **Honest marks.** A [`Mark::Suppressed`] figure is never drawn and never used for the
//!   axis range (the range must not give a hidden figure away): a line chart breaks there and
//!   shows `×` on the axis; a bar chart shows a short hatched outline with `×`. A
//!   [`Mark::Bracketed`] figure (small sample) is hollow or light, with a lighter whisker, and
//!   its bar label is in brackets. A [`Mark::NotRepresentative`] figure is hollow and has no
//!   whisker. A missing value (`None`) breaks the line.
//! * **Axes.** The value axis uses 1-2-5 steps, includes zero for bars, stays within 0–100 for
//!   percentages that fit there, and obeys `y_min`/`y_max` (what falls outside is clipped).
//!   The time axis of a line chart is continuous (decimal years): ticks on years when the
//!   span is two years or more, otherwise on the points' own labels, thinned to fit.
//! * **Text.** The title is not drawn (the page has its heading); it is the accessible name
//!   (`<title>`), with `<desc>` as description. The page puts the data table under the chart.
//!   Numbers follow `decimal_comma` (French: `12,5 %`, thousands with a narrow no-break space).
//! * **Size.** One `<g>` per series carries the styling; coordinates have at most one
//!   decimal. A 24-point series with whiskers is about 3 KB.
//!
//! Elements carry small classes so that tests (and page styles) can find them: `g.w` holds a
//! series' whiskers (one `<path>` each), `g.m` its markers, `g.x` its suppressed marks, `g.b`
//! its bars, `g.v` the bar value labels, `g.k` the legend.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::svg::{self, esc, fmt_num, n, text_width, with_unit};

/// The kind of chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Values over continuous time.
    #[default]
    Line,
    /// Values by category; several series make grouped bars.
    Bar,
}

/// How a figure may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Drawn as it is.
    #[default]
    Normal,
    /// Small sample: drawn lighter or hollow, value label in brackets.
    Bracketed,
    /// Hidden: no value drawn, a small `×` (and a hatched gap for bars) instead.
    Suppressed,
    /// Drawn without whiskers, with a hollow marker.
    NotRepresentative,
}

/// One figure of a series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    /// For a line chart, time as a decimal year (`2026.75`); unused by bar charts.
    pub x: f64,
    /// Axis or category label (`"2026-10"`, `"Femme"`).
    pub label: String,
    pub value: Option<f64>,
    /// Lower end of the interval.
    pub low: Option<f64>,
    /// Upper end of the interval.
    pub high: Option<f64>,
    pub mark: Mark,
}

/// A series of figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    /// Official statistics: dashed, near-black, square markers.
    pub official: bool,
    pub points: Vec<Point>,
}

/// A horizontal target line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetLine {
    pub value: f64,
    pub label: String,
}

/// A chart to render.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Chart {
    /// Prefix of every id in the SVG; unique per page. Reduced to `[A-Za-z0-9_-]`.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// Unit appended to tick labels (`"%"`).
    pub unit: String,
    pub kind: Kind,
    pub series: Vec<Series>,
    pub target: Option<TargetLine>,
    pub y_min: Option<f64>,
    pub y_max: Option<f64>,
    pub width: u32,
    pub height: u32,
    /// French number formatting in tick and value labels.
    pub decimal_comma: bool,
    /// Message shown when there is no figure to draw.
    pub no_data: String,
}

const PALETTE: [&str; 5] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"];
const OFFICIAL: &str = "#222";
const TARGET: &str = "#D55E00";
const OFFICIAL_DASH: &str = "6 3";
const FONT: f64 = 12.0;
const LEGEND_ROW: f64 = 18.0;

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Circle,
    Square,
    Diamond,
    Triangle,
}

struct Style {
    color: &'static str,
    shape: Shape,
    official: bool,
}

fn styles(series: &[Series]) -> Vec<Style> {
    let mut citizen = 0;
    series
        .iter()
        .map(|s| {
            if s.official {
                Style {
                    color: OFFICIAL,
                    shape: Shape::Square,
                    official: true,
                }
            } else {
                let i = citizen;
                citizen += 1;
                Style {
                    color: PALETTE[i % PALETTE.len()],
                    shape: [Shape::Circle, Shape::Diamond, Shape::Triangle][i % 3],
                    official: false,
                }
            }
        })
        .collect()
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// The value a point shows, if any (never for a suppressed point).
fn shown(p: &Point) -> Option<f64> {
    if p.mark == Mark::Suppressed {
        None
    } else {
        finite(p.value)
    }
}

/// The interval a point shows, if any.
fn interval(p: &Point) -> (Option<f64>, Option<f64>) {
    if shown(p).is_none() || p.mark == Mark::NotRepresentative {
        (None, None)
    } else {
        (finite(p.low), finite(p.high))
    }
}

/// A linear value axis.
struct YAxis {
    d0: f64,
    d1: f64,
    ticks: Vec<f64>,
    decimals: usize,
    clipped: bool,
}

fn y_axis(c: &Chart, plot_h: f64) -> Option<YAxis> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in &c.series {
        for p in &s.points {
            if let Some(v) = shown(p) {
                lo = lo.min(v);
                hi = hi.max(v);
                let (l, h) = interval(p);
                for e in [l, h].into_iter().flatten() {
                    lo = lo.min(e);
                    hi = hi.max(e);
                }
            }
        }
    }
    if lo > hi {
        return None;
    }
    if let Some(t) = c.target.as_ref().map(|t| t.value).filter(|v| v.is_finite()) {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if c.kind == Kind::Bar {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let (data_lo, data_hi) = (lo, hi);
    let mut fix_lo = finite(c.y_min);
    let mut fix_hi = finite(c.y_max);
    if let (Some(a), Some(b)) = (fix_lo, fix_hi) {
        if a >= b {
            fix_lo = None;
            fix_hi = None;
        }
    }
    if let Some(a) = fix_lo {
        lo = a;
        if hi <= a {
            fix_lo = None;
            lo = data_lo;
        }
    }
    if let Some(b) = fix_hi {
        hi = b;
        if lo >= b {
            fix_hi = None;
            hi = data_hi;
        }
    }
    if hi <= lo {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
        if c.kind == Kind::Bar && data_lo >= 0.0 {
            lo = lo.max(0.0);
        }
    }
    let target_ticks = (plot_h / 40.0).clamp(2.0, 10.0);
    let mut span = hi - lo;
    if !span.is_finite() {
        span = f64::MAX;
    }
    let step = svg::nice_step(span / target_ticks);
    let mut d0 = fix_lo.unwrap_or_else(|| (lo / step).floor() * step);
    let mut d1 = fix_hi.unwrap_or_else(|| (hi / step).ceil() * step);
    if c.unit.trim() == "%" && data_lo >= 0.0 && data_hi <= 100.0 {
        if fix_lo.is_none() {
            d0 = d0.max(0.0);
        }
        if fix_hi.is_none() {
            d1 = d1.min(100.0);
        }
    }
    if !d0.is_finite() || !d1.is_finite() || d1 <= d0 {
        d0 = lo.max(-f64::MAX);
        d1 = hi.min(f64::MAX);
        if d1 <= d0 {
            return None;
        }
    }
    let first = (d0 / step).ceil();
    let mut ticks = Vec::new();
    for i in 0..50 {
        let t = (first + i as f64) * step;
        if t > d1 + step * 1e-6 || !t.is_finite() {
            break;
        }
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
    }
    Some(YAxis {
        d0,
        d1,
        ticks,
        decimals: svg::step_decimals(step),
        clipped: c.y_min.is_some() || c.y_max.is_some(),
    })
}

/// Renders a chart as an SVG element for inline use (see [`crate::standalone`] for a file).
pub fn render(c: &Chart) -> String {
    let id = svg::sanitize_id(&c.id);
    let w = f64::from(c.width.clamp(160, 4000));
    let h = f64::from(c.height.clamp(100, 4000));
    let mut o = String::with_capacity(4096);
    svg::open(&mut o, &id, w, h, FONT, &c.title, &c.desc);
    let st = styles(&c.series);

    // Legend rows first: they take room at the bottom.
    let legend: Vec<(usize, &str)> = c
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.label.trim().is_empty())
        .map(|(i, s)| (i, s.label.as_str()))
        .collect();
    let legend_pos = flow(
        legend.iter().map(|(_, l)| 34.0 + text_width(l, FONT)),
        w - 16.0,
    );
    let legend_rows = legend_pos.last().map_or(0, |p| p.1 + 1);

    let plot_top = 16.0;
    let x_labels_h = 20.0;
    let mut plot_bottom = h - 6.0 - legend_rows as f64 * LEGEND_ROW - x_labels_h;

    // Bar categories may need rotated labels.
    let categories = categories(c);
    let rotate = c.kind == Kind::Bar && {
        let max_w = categories
            .iter()
            .map(|l| text_width(l, FONT))
            .fold(0.0, f64::max);
        let guess_plot_w = w - 60.0;
        max_w + 6.0 > guess_plot_w / categories.len().max(1) as f64
    };
    if rotate {
        let max_w = categories
            .iter()
            .map(|l| text_width(&truncate(l), FONT))
            .fold(0.0, f64::max);
        // A label slanted by 40° reaches down by sin 40° of its width, plus its height.
        plot_bottom -= (max_w * 0.66 + 4.0).min(h / 3.0);
    }

    let Some(ya) = y_axis(c, (plot_bottom - plot_top).max(20.0)) else {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></svg>",
            n(w / 2.0),
            n(h / 2.0),
            esc(&c.no_data)
        );
        return o;
    };
    if plot_bottom - plot_top < 20.0 {
        plot_bottom = plot_top + 20.0;
    }
    let tick_labels: Vec<String> = ya
        .ticks
        .iter()
        .map(|t| {
            with_unit(
                &fmt_num(*t, ya.decimals, c.decimal_comma),
                &c.unit,
                c.decimal_comma,
            )
        })
        .collect();
    let label_w = tick_labels
        .iter()
        .map(|l| text_width(l, FONT))
        .fold(0.0, f64::max);
    let mut plot_left = (label_w + 10.0).min(w / 3.0);
    if rotate {
        // The first category's slanted label must not run off the left edge.
        let first_w = categories
            .first()
            .map_or(0.0, |l| text_width(&truncate(l), FONT));
        let band = (w - 12.0 - plot_left) / categories.len().max(1) as f64;
        plot_left = plot_left.max((first_w * 0.8 + 8.0 - band / 2.0).min(w / 3.0));
    }
    let plot_right = w - 12.0;
    let y = |v: f64| {
        let r = plot_bottom - (v - ya.d0) / (ya.d1 - ya.d0) * (plot_bottom - plot_top);
        if r.is_finite() {
            r.clamp(-1e4, 1e4)
        } else {
            plot_bottom
        }
    };

    let needs_hatch = c.kind == Kind::Bar
        && c.series
            .iter()
            .any(|s| s.points.iter().any(|p| p.mark == Mark::Suppressed));
    if needs_hatch || ya.clipped {
        o.push_str("<defs>");
        if needs_hatch {
            svg::hatch_def(&mut o, &id);
        }
        if ya.clipped {
            let _ = write!(
                o,
                "<clipPath id=\"{id}-c\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>",
                n(plot_left),
                n(plot_top - 4.0),
                n(plot_right - plot_left),
                n(plot_bottom - plot_top + 8.0)
            );
        }
        o.push_str("</defs>");
    }

    // Grid and value axis.
    o.push_str("<g stroke=\"#ddd\">");
    for t in &ya.ticks {
        let _ = write!(
            o,
            "<path d=\"M{} {}H{}\"/>",
            n(plot_left),
            n(y(*t)),
            n(plot_right)
        );
    }
    o.push_str("</g><g text-anchor=\"end\">");
    for (t, l) in ya.ticks.iter().zip(&tick_labels) {
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            n(plot_left - 5.0),
            n(y(*t) + 4.0),
            esc(l)
        );
    }
    o.push_str("</g>");
    let base = if ya.d0 <= 0.0 && ya.d1 >= 0.0 {
        y(0.0)
    } else if ya.d1 < 0.0 {
        plot_top
    } else {
        plot_bottom
    };
    let _ = write!(
        o,
        "<path d=\"M{} {}H{}\" stroke=\"#555\"/>",
        n(plot_left),
        n(base),
        n(plot_right)
    );

    let geo = Geo {
        left: plot_left,
        right: plot_right,
        bottom: plot_bottom,
        base,
    };
    // The clip is for the data: the bodies open it after their axis labels, which lie outside.
    let clip = if ya.clipped {
        format!("<g clip-path=\"url(#{id}-c)\">")
    } else {
        String::new()
    };
    match c.kind {
        Kind::Line => line_body(&mut o, c, &st, &geo, &y, &clip),
        Kind::Bar => bar_body(&mut o, c, &id, &st, &geo, &y, &categories, rotate, &clip),
    }
    if ya.clipped {
        o.push_str("</g>");
    }

    if let Some(t) = c.target.as_ref().filter(|t| t.value.is_finite()) {
        let ty = y(t.value);
        if ty >= plot_top - 0.5 && ty <= plot_bottom + 0.5 {
            let _ = write!(
                o,
                "<path d=\"M{} {}H{}\" stroke=\"{TARGET}\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>",
                n(plot_left),
                n(ty),
                n(plot_right)
            );
            if !t.label.trim().is_empty() {
                let _ = write!(
                    o,
                    "<text class=\"s\" font-size=\"10\" x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{TARGET}\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                    n(plot_right - 2.0),
                    n(if ty - 4.0 < plot_top + 8.0 { ty + 12.0 } else { ty - 4.0 }),
                    esc(&t.label)
                );
            }
        }
    }

    // Legend.
    if !legend.is_empty() {
        let top = h - 6.0 - legend_rows as f64 * LEGEND_ROW;
        o.push_str("<g class=\"k\">");
        for ((i, label), (x, row)) in legend.iter().zip(&legend_pos) {
            let x = 8.0 + x;
            let cy = top + *row as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
            let s = &st[*i];
            match c.kind {
                Kind::Line => {
                    let _ = write!(
                        o,
                        "<path d=\"M{} {}h26\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                        n(x),
                        n(cy),
                        s.color,
                        dash(s)
                    );
                    let _ = write!(
                        o,
                        "<g fill=\"{c}\" stroke=\"{c}\">{}</g>",
                        marker(s.shape, x + 13.0, cy, false),
                        c = s.color
                    );
                }
                Kind::Bar => {
                    let _ = write!(
                        o,
                        "<rect x=\"{}\" y=\"{}\" width=\"24\" height=\"10\" fill=\"{}\"/>",
                        n(x + 1.0),
                        n(cy - 5.0),
                        s.color
                    );
                }
            }
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(x + 32.0),
                n(cy + 4.0),
                esc(label)
            );
        }
        o.push_str("</g>");
    }
    o.push_str("</svg>");
    o
}

struct Geo {
    left: f64,
    right: f64,
    bottom: f64,
    /// Where zero is (or the bottom/top edge when zero is off the axis).
    base: f64,
}

/// Lays items of the given widths out in rows; returns (x, row) for each.
fn flow(widths: impl Iterator<Item = f64>, max_w: f64) -> Vec<(f64, usize)> {
    let mut out = Vec::new();
    let (mut x, mut row) = (0.0, 0);
    for wd in widths {
        if x > 0.0 && x + wd > max_w {
            x = 0.0;
            row += 1;
        }
        out.push((x, row));
        x += wd + 14.0;
    }
    out
}

fn dash(s: &Style) -> String {
    if s.official {
        format!(" stroke-dasharray=\"{OFFICIAL_DASH}\"")
    } else {
        String::new()
    }
}

fn marker(shape: Shape, x: f64, y: f64, hollow: bool) -> String {
    let fill = if hollow { " fill=\"#fff\"" } else { "" };
    match shape {
        Shape::Circle => format!("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\"{fill}/>", n(x), n(y)),
        Shape::Square => format!(
            "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\"{fill}/>",
            n(x - 3.5),
            n(y - 3.5)
        ),
        Shape::Diamond => format!(
            "<path d=\"M{} {}l4.5 4.5-4.5 4.5-4.5-4.5z\"{fill}/>",
            n(x),
            n(y - 4.5)
        ),
        Shape::Triangle => format!("<path d=\"M{} {}l4.5 7.5h-9z\"{fill}/>", n(x), n(y - 4.5)),
    }
}

fn whisker(x: f64, lo: Option<f64>, hi: Option<f64>, v: f64, cap: f64) -> String {
    let mut d = String::new();
    let top = hi.unwrap_or(v);
    let bottom = lo.unwrap_or(v);
    let _ = write!(d, "M{} {}V{}", n(x), n(top), n(bottom));
    if hi.is_some() {
        let _ = write!(d, "M{} {}h{}", n(x - cap), n(top), n(2.0 * cap));
    }
    if lo.is_some() {
        let _ = write!(d, "M{} {}h{}", n(x - cap), n(bottom), n(2.0 * cap));
    }
    d
}

fn line_body(o: &mut String, c: &Chart, st: &[Style], g: &Geo, y: &dyn Fn(f64) -> f64, clip: &str) {
    let xs: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .filter(|x| x.is_finite())
        .collect();
    let mut x0 = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let mut x1 = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if x0 > x1 {
        x0 = 0.0;
        x1 = 1.0;
    }
    let span = x1 - x0;
    if !(span > 0.0 && span.is_finite()) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let pad = (x1 - x0) * 0.04;
    let (d0, d1) = (x0 - pad, x1 + pad);
    let plot_w = g.right - g.left;
    let x = |v: f64| {
        let r = g.left + (v - d0) / (d1 - d0) * plot_w;
        if r.is_finite() {
            r
        } else {
            g.left
        }
    };

    // Time axis.
    o.push_str("<g text-anchor=\"middle\">");
    let ly = g.bottom + 15.0;
    if span >= 2.0 && span.is_finite() {
        let max_ticks = (plot_w / 48.0).max(2.0);
        let step = svg::nice_step(span / max_ticks).max(1.0);
        let first = (x0 / step).ceil();
        for i in 0..60 {
            let t = (first + i as f64) * step;
            if t > x1 {
                break;
            }
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(x(t)),
                n(ly),
                fmt_year(t)
            );
        }
    } else {
        let mut labelled: Vec<(f64, &str)> = Vec::new();
        for s in &c.series {
            for p in &s.points {
                if p.x.is_finite() && !labelled.iter().any(|(lx, _)| *lx == p.x) {
                    labelled.push((p.x, p.label.as_str()));
                }
            }
        }
        labelled.sort_by(|a, b| a.0.total_cmp(&b.0));
        let widest = labelled
            .iter()
            .map(|(_, l)| text_width(l, FONT))
            .fold(0.0, f64::max);
        let fit = ((plot_w / (widest + 10.0)).floor() as usize).max(1);
        let every = labelled.len().div_ceil(fit).max(1);
        for (lx, l) in labelled.iter().step_by(every) {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(x(*lx)),
                n(ly),
                esc(l)
            );
        }
    }
    o.push_str("</g>");
    o.push_str(clip);

    for (si, (s, sty)) in c.series.iter().zip(st).enumerate() {
        let mut pts: Vec<&Point> = s.points.iter().filter(|p| p.x.is_finite()).collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        // The line, broken at gaps.
        let mut d = String::new();
        let mut run = 0;
        for p in &pts {
            match shown(p) {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{} {}",
                        if run == 0 { "M" } else { " " },
                        n(x(p.x)),
                        n(y(v))
                    );
                    run += 1;
                }
                None => run = 0,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                o,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                sty.color,
                dash(sty)
            );
        }
        // Whiskers.
        let mut wk = String::new();
        for p in &pts {
            if let (Some(v), (lo, hi)) = (shown(p), interval(p)) {
                if lo.is_some() || hi.is_some() {
                    let light = if p.mark == Mark::Bracketed {
                        " stroke-opacity=\".45\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        wk,
                        "<path d=\"{}\"{light}/>",
                        whisker(x(p.x), lo.map(y), hi.map(y), y(v), 3.0)
                    );
                }
            }
        }
        if !wk.is_empty() {
            let _ = write!(
                o,
                "<g class=\"w\" stroke=\"{}\" fill=\"none\">{wk}</g>",
                sty.color
            );
        }
        // Markers.
        let mut mk = String::new();
        for p in &pts {
            if let Some(v) = shown(p) {
                mk.push_str(&marker(sty.shape, x(p.x), y(v), p.mark != Mark::Normal));
            }
        }
        if !mk.is_empty() {
            let _ = write!(
                o,
                "<g class=\"m\" fill=\"{c}\" stroke=\"{c}\" stroke-width=\"1.5\">{mk}</g>",
                c = sty.color
            );
        }
        // Suppressed figures: a cross above the axis, one row per series.
        let mut sx = String::new();
        for p in &pts {
            if p.mark == Mark::Suppressed {
                let _ = write!(
                    sx,
                    "<text x=\"{}\" y=\"{}\">\u{d7}</text>",
                    n(x(p.x)),
                    n(g.bottom - 3.0 - 11.0 * si as f64)
                );
            }
        }
        if !sx.is_empty() {
            let _ = write!(
                o,
                "<g class=\"x\" text-anchor=\"middle\" fill=\"{c}\">{sx}</g>",
                c = sty.color
            );
        }
    }
}

fn fmt_year(t: f64) -> String {
    if t.abs() < 1e9 {
        format!("{}", t.round() as i64)
    } else {
        fmt_num(t, 0, false)
    }
}

fn categories(c: &Chart) -> Vec<String> {
    let mut cats: Vec<String> = Vec::new();
    for s in &c.series {
        for p in &s.points {
            if !cats.contains(&p.label) {
                cats.push(p.label.clone());
            }
        }
    }
    cats
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 18 {
        let mut t: String = s.chars().take(17).collect();
        t.push('\u{2026}');
        t
    } else {
        s.to_string()
    }
}

#[allow(clippy::too_many_arguments)]
fn bar_body(
    o: &mut String,
    c: &Chart,
    id: &str,
    st: &[Style],
    g: &Geo,
    y: &dyn Fn(f64) -> f64,
    cats: &[String],
    rotate: bool,
    clip: &str,
) {
    let ncat = cats.len().max(1) as f64;
    let band = (g.right - g.left) / ncat;
    let nser = c.series.len().max(1) as f64;
    let bar_w = band * 0.8 / nser;
    let max_abs = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(shown))
        .fold(0.0, |m: f64, v| m.max(v.abs()));
    let dec = svg::value_decimals(max_abs);

    // Category labels.
    o.push_str(if rotate {
        "<g text-anchor=\"end\">"
    } else {
        "<g text-anchor=\"middle\">"
    });
    for (i, cat) in cats.iter().enumerate() {
        let cx = g.left + band * (i as f64 + 0.5);
        if rotate {
            let (lx, ly) = (n(cx + 4.0), n(g.bottom + 12.0));
            let _ = write!(
                o,
                "<text x=\"{lx}\" y=\"{ly}\" transform=\"rotate(-40 {lx} {ly})\">{}</text>",
                esc(&truncate(cat))
            );
        } else {
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                n(cx),
                n(g.bottom + 15.0),
                esc(cat)
            );
        }
    }
    o.push_str("</g>");
    o.push_str(clip);

    for (si, (s, sty)) in c.series.iter().zip(st).enumerate() {
        let mut bars = String::new();
        let mut whiskers = String::new();
        let mut labels = String::new();
        let mut crosses = String::new();
        for (ci, cat) in cats.iter().enumerate() {
            let Some(p) = s.points.iter().find(|p| &p.label == cat) else {
                continue;
            };
            let bx = g.left + band * (ci as f64 + 0.1) + bar_w * si as f64;
            let cx = bx + bar_w / 2.0;
            let inner = (bar_w - 2.0).max(1.0);
            if p.mark == Mark::Suppressed {
                let top = g.base - 14.0;
                let _ = write!(
                    bars,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"url(#{id}-h)\" stroke=\"{}\"/>",
                    n(bx + 1.0),
                    n(top),
                    n(inner),
                    sty.color
                );
                let _ = write!(
                    crosses,
                    "<text x=\"{}\" y=\"{}\">\u{d7}</text>",
                    n(cx),
                    n(top - 3.0)
                );
                continue;
            }
            let Some(v) = shown(p) else { continue };
            let vy = y(v);
            let (top, height) = if vy <= g.base {
                (vy, g.base - vy)
            } else {
                (g.base, vy - g.base)
            };
            let extra = match p.mark {
                Mark::Bracketed => format!(" fill-opacity=\".4\" stroke=\"{}\"", sty.color),
                Mark::NotRepresentative => {
                    format!(
                        " fill=\"#fff\" stroke=\"{}\" stroke-width=\"1.5\"",
                        sty.color
                    )
                }
                _ => String::new(),
            };
            let _ = write!(
                bars,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{extra}/>",
                n(bx + 1.0),
                n(top),
                n(inner),
                n(height.max(0.5))
            );
            let (lo, hi) = interval(p);
            if lo.is_some() || hi.is_some() {
                let _ = write!(
                    whiskers,
                    "<path d=\"{}\"/>",
                    whisker(cx, lo.map(y), hi.map(y), vy, (bar_w / 5.0).clamp(1.5, 5.0))
                );
            }
            let num = fmt_num(v, dec, c.decimal_comma);
            let text = if p.mark == Mark::Bracketed {
                format!("({num})")
            } else {
                num
            };
            if text_width(&text, 10.0) <= bar_w + 1.0 {
                let (ext_hi, ext_lo) = (
                    hi.map(y).unwrap_or(vy).min(vy),
                    lo.map(y).unwrap_or(vy).max(vy),
                );
                let ly = if v >= 0.0 {
                    ext_hi - 4.0
                } else {
                    ext_lo + 11.0
                };
                let _ = write!(
                    labels,
                    "<text x=\"{}\" y=\"{}\">{}</text>",
                    n(cx),
                    n(ly.max(9.0)),
                    esc(&text)
                );
            }
        }
        if !bars.is_empty() {
            let _ = write!(o, "<g class=\"b\" fill=\"{}\">{bars}</g>", sty.color);
        }
        if !whiskers.is_empty() {
            let _ = write!(o, "<g class=\"w\" stroke=\"#222\">{whiskers}</g>");
        }
        if !labels.is_empty() {
            let _ = write!(
                o,
                "<g class=\"v\" font-size=\"10\" text-anchor=\"middle\">{labels}</g>"
            );
        }
        if !crosses.is_empty() {
            let _ = write!(
                o,
                "<g class=\"x\" text-anchor=\"middle\" fill=\"{}\">{crosses}</g>",
                sty.color
            );
        }
    }
}
