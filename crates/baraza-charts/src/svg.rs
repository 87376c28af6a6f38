//! Small helpers shared by charts and maps: escaping, compact numbers, ids, nice steps and a
//! rough text width (there is no font metrics here, so layout estimates it).

use std::fmt::Write;

use crate::geo::{self, Ring};

/// Escapes a text for XML content and attribute values, and drops the characters XML 1.0 does
/// not allow (control characters other than tab, newline and carriage return).
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\t' | '\n' | '\r' => o.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => o.push(c),
        }
    }
    o
}

/// A coordinate with at most one decimal, no trailing zeros, never `-0`, never `NaN`.
pub(crate) fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 {
        return "0".into();
    }
    let mut s = format!("{r:.1}");
    if s.ends_with(".0") {
        s.truncate(s.len() - 2);
    }
    s
}

/// The id prefix made safe for XML ids and CSS selectors: ASCII letters, digits, `-` and `_`,
/// starting with a letter.
pub(crate) fn sanitize_id(id: &str) -> String {
    let mut o: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if !o.starts_with(|c: char| c.is_ascii_alphabetic()) {
        o.insert(0, 'c');
    }
    o
}

/// The 1-2-5 step at or above `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let f = raw / base;
    let m = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    let s = m * base;
    if s.is_finite() && s > 0.0 {
        s
    } else {
        f64::MAX
    }
}

/// Decimals needed to show multiples of `step`.
pub(crate) fn step_decimals(step: f64) -> usize {
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    (-(step.log10() + 1e-9).floor()).clamp(0.0, 10.0) as usize
}

/// Decimals for value labels: one for everyday magnitudes, none from 100 on, more below 1.
pub(crate) fn value_decimals(max_abs: f64) -> usize {
    if !max_abs.is_finite() || max_abs <= 0.0 {
        return 0;
    }
    // Two significant digits at least, one decimal for everyday magnitudes (9,5 and 62,5
    // alike), none from 100 on.
    if max_abs >= 100.0 {
        0
    } else if max_abs >= 1.0 {
        1
    } else {
        (1.0 - max_abs.log10().floor()).clamp(1.0, 6.0) as usize
    }
}

/// A number for people: fixed decimals (trailing zeros dropped), thousands grouped from
/// 10 000 on (`,` in English, a narrow no-break space in French), decimal comma in French,
/// and an exponent for magnitudes a table would not print in full.
pub(crate) fn fmt_num(v: f64, decimals: usize, comma: bool) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    if a >= 1e15 || (a > 0.0 && a < 1e-6) {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        let m = if comma { m.replace('.', ",") } else { m };
        return format!("{m}e{e}");
    }
    let s = format!("{:.*}", decimals, a);
    let s = trim_zeros(&s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut o = String::new();
    let negative = v < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if negative {
        o.push('\u{2212}');
    }
    if int.len() > 4 {
        let sep = if comma { '\u{202f}' } else { ',' };
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                o.push(sep);
            }
            o.push(ch);
        }
    } else {
        o.push_str(&int);
    }
    if let Some(f) = frac {
        o.push(if comma { ',' } else { '.' });
        o.push_str(&f);
    }
    o
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// A number followed by its unit: `62%` in English, `62 %` (narrow no-break space) in French,
/// `12 km` when the unit is a word.
pub(crate) fn with_unit(num: &str, unit: &str, comma: bool) -> String {
    let unit = unit.trim();
    if unit.is_empty() {
        num.to_string()
    } else if comma || unit.starts_with(|c: char| c.is_alphanumeric()) {
        format!("{num}\u{202f}{unit}")
    } else {
        format!("{num}{unit}")
    }
}

/// Rough width in pixels of a text in a sans-serif font of `px` pixels.
pub(crate) fn text_width(s: &str, px: f64) -> f64 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | '\'' | '|' | '!' | ':' | ';' | ' ' | '\u{202f}' => 0.3,
            'm' | 'w' | 'M' | 'W' => 0.85,
            c if c.is_uppercase() => 0.68,
            _ => 0.6,
        })
        .sum::<f64>()
        * px
}

/// The root element with its accessible name and description as first children.
/// Text is styled by presentation attributes on the root (inherited), never by a `<style>`
/// element or attribute: pages forbid inline styles (their Content-Security-Policy), and so does
/// the standalone file served with the same policy.
pub(crate) fn open(o: &mut String, id: &str, w: f64, h: f64, font: f64, title: &str, desc: &str) {
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" \
         font-family=\"sans-serif\" font-size=\"{f}\">\
         <title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{d}</desc>",
        w = n(w),
        h = n(h),
        f = n(font),
        t = esc(title),
        d = esc(desc),
    );
}

/// The hatch used for "no figure": grey diagonal lines on white, visible in black and white.
pub(crate) fn hatch_def(o: &mut String, id: &str) {
    let _ = write!(
        o,
        "<pattern id=\"{id}-h\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff\"/>\
         <path d=\"M0 0V6\" stroke=\"#777\" stroke-width=\"2\"/></pattern>"
    );
}

/// Splits a text into lines of at most `max_w` pixels (by words; a word longer than a line
/// stays whole).
pub(crate) fn wrap(s: &str, px: f64, max_w: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if !cur.is_empty() && text_width(&cand, px) > max_w {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = cand;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A link is kept when it is relative or `http(s)`: no `javascript:` nor `data:` link can
/// reach a page through a map.
pub(crate) fn safe_link(h: &str) -> bool {
    let h = h.trim_start();
    match h.find([':', '/', '?', '#']) {
        Some(i) if h.as_bytes()[i] == b':' => {
            let scheme = h[..i].to_ascii_lowercase();
            scheme == "http" || scheme == "https"
        }
        _ => true,
    }
}

/// Pixel tolerance of the display simplification.
pub(crate) const PIXEL_TOLERANCE: f64 = 0.5;

/// Polygons in longitude, latitude made path data: projected to pixels by `project`, cut to
/// the rectangle `clip` (`[x0, y0, x1, y1]` in pixels) when given, simplified at half a pixel
/// ([`geo::simplify`]), then written by [`path_data`]. Empty when nothing is left.
pub(crate) fn pixel_path(
    polygons: &[Vec<Ring>],
    project: impl Fn(&[f64; 2]) -> [f64; 2],
    clip: Option<[f64; 4]>,
) -> String {
    let projected: Vec<Vec<Ring>> = polygons
        .iter()
        .map(|p| p.iter().map(|r| r.iter().map(&project).collect()).collect())
        .collect();
    let projected = match clip {
        Some(rect) => geo::clip_rect(&projected, rect),
        None => projected,
    };
    if projected.is_empty() {
        return String::new();
    }
    path_data(&geo::simplify(&projected, PIXEL_TOLERANCE))
}

/// Path data in integer pixels: absolute move, then relative lines, repeated pixels skipped.
pub(crate) fn path_data(polygons: &[Vec<Ring>]) -> String {
    let mut d = String::new();
    for ring in polygons.iter().flatten() {
        if ring.len() < 4 {
            continue;
        }
        let pts: Vec<(i64, i64)> = ring
            .iter()
            .map(|p| (p[0].round() as i64, p[1].round() as i64))
            .collect();
        let mut ring_d = String::new();
        let mut last = pts[0];
        let mut moves = 0;
        let _ = write!(ring_d, "M{} {}", last.0, last.1);
        for &q in &pts[1..pts.len() - 1] {
            if q == last {
                continue;
            }
            let (dx, dy) = (q.0 - last.0, q.1 - last.1);
            if moves == 0 {
                ring_d.push('l');
            } else if dx >= 0 {
                ring_d.push(' ');
            }
            let _ = write!(ring_d, "{dx}");
            if dy >= 0 {
                ring_d.push(' ');
            }
            let _ = write!(ring_d, "{dy}");
            last = q;
            moves += 1;
        }
        if moves >= 2 {
            d.push_str(&ring_d);
            d.push('z');
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.345), "12.3");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(f64::NAN), "0");
        assert_eq!(fmt_num(12345.678, 1, false), "12,345.7");
        assert_eq!(fmt_num(12345.678, 1, true), "12\u{202f}345,7");
        assert_eq!(fmt_num(2.50, 2, true), "2,5");
        assert_eq!(fmt_num(-3.0, 0, false), "\u{2212}3");
        assert_eq!(fmt_num(-0.001, 1, false), "0");
        assert_eq!(fmt_num(2e20, 0, false), "2e20");
        assert_eq!(with_unit("62", "%", false), "62%");
        assert_eq!(with_unit("62", "%", true), "62\u{202f}%");
    }

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(13.0), 20.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(0.0012), 0.002);
        assert_eq!(step_decimals(0.2), 1);
        assert_eq!(step_decimals(20.0), 0);
    }

    #[test]
    fn escaping_and_ids() {
        assert_eq!(
            esc("</svg><script>&'\"\u{1}"),
            "&lt;/svg&gt;&lt;script&gt;&amp;&#39;&quot;"
        );
        assert_eq!(sanitize_id("1 a\"b"), "c1ab");
    }
}
