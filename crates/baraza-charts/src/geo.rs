//! Administrative areas read from GeoJSON, and simplified for display.
//!
//! # Reading
//!
//! [`read_geojson`] accepts a `FeatureCollection`, a bare `Feature`, or a bare `Polygon` /
//! `MultiPolygon` geometry (WGS84 longitude, latitude, as RFC 7946 says). Rules:
//!
//! * Limits come first: the byte size, and the count of numbers in the file (at most two per
//!   allowed vertex, plus 100 000 for properties), before parsing, since a parsed JSON number
//!   takes tens of bytes (so the default limits bound the parse to a few hundred MB at worst;
//!   lower `max_vertices` for uploads from strangers); then the number of features and of
//!   vertices while converting ([`Limits`]). Nesting deeper than the JSON parser's limit
//!   (128) and numbers out of `f64` range are refused by the parser.
//! * Only `Polygon` and `MultiPolygon` are areas; any other geometry type is refused with the
//!   feature's index. A feature whose geometry is `null` (allowed by RFC 7946: an unlocated
//!   feature) is **kept with no polygons**, so that the caller still sees the area and can say
//!   it cannot be drawn; [`simplify`] and the map leave it empty.
//! * Coordinates must be finite, longitude within −180..180 and latitude within −90..90; a
//!   position's third number (altitude) is ignored. A ring that is not closed is closed by
//!   repeating its first position (no new geometry); a ring with fewer than four positions
//!   once closed is refused.
//! * Properties: strings as they are, numbers and booleans as their JSON text; `null`, arrays
//!   and objects are left out.
//!
//! # Simplifying
//!
//! [`simplify`] runs Douglas–Peucker on each ring in plain degrees (equirectangular, which is
//! fine at a country's scale). It only removes vertices, never moves or adds one. A ring that
//! collapses below four positions is dropped, and a polygon whose outer ring is dropped goes
//! with its holes; if that would leave nothing, the largest ring is kept reduced to its
//! extreme vertices (west, south, east, north), so the area keeps its bounding box and stays
//! on the map. Rings are simplified independently, so a border shared by two areas may differ
//! by up to the tolerance on each side: at display tolerance (see [`DISPLAY_TOLERANCE`], about
//! a pixel) this is hidden by the outline stroke.
//!
//! [`clip_rect`] cuts rings to a rectangle (Sutherland–Hodgman, ring by ring): a ring across
//! the rectangle gets edges along its sides, which a map hides under a clip path of the same
//! rectangle made a little smaller. It keeps a zoomed-in map from writing the vertices of
//! borders far out of sight.
//!
//! [`round`] rounds coordinates for storage (5 decimals ≈ 1 m), then removes the repeated
//! vertices rounding creates, with the same rules for collapsed rings.

use std::collections::BTreeMap;

use serde_json::Value;

/// A ring of (longitude, latitude) positions, closed (first = last).
pub type Ring = Vec<[f64; 2]>;

/// Tolerance in degrees that suits a country map a few hundred pixels wide (0.01° ≈ 1.1 km).
pub const DISPLAY_TOLERANCE: f64 = 0.01;

/// One area.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feature {
    /// String, number and boolean properties, as text.
    pub properties: BTreeMap<String, String>,
    /// Polygons, each as rings: the outer ring first, then its holes.
    pub polygons: Vec<Vec<Ring>>,
}

/// Limits against hostile or mistaken files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_features: usize,
    pub max_vertices: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_features: 10_000,
            max_vertices: 5_000_000,
        }
    }
}

/// Why a GeoJSON file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    #[error("the file has {bytes} bytes, more than the limit of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is not valid JSON: {0}")]
    Json(String),
    #[error("the file is not GeoJSON: {0}")]
    NotGeoJson(String),
    #[error("more than {max} features")]
    TooManyFeatures { max: usize },
    #[error("the file holds {numbers} numbers, more than the {max} its vertex limit allows")]
    TooManyNumbers { numbers: usize, max: usize },
    #[error("more than {max} vertices (feature {feature})")]
    TooManyVertices { feature: usize, max: usize },
    #[error("feature {feature}: {reason}")]
    BadFeature { feature: usize, reason: String },
    #[error("feature {feature}: geometry type {kind} is not an area (Polygon or MultiPolygon)")]
    UnsupportedGeometry { feature: usize, kind: String },
    #[error("feature {feature}, polygon {polygon}, ring {ring}: {reason}")]
    BadRing {
        feature: usize,
        polygon: usize,
        ring: usize,
        reason: String,
    },
    #[error("feature {feature}, polygon {polygon}, ring {ring}, vertex {vertex}: {reason}")]
    BadCoordinate {
        feature: usize,
        polygon: usize,
        ring: usize,
        vertex: usize,
        reason: String,
    },
    #[error("feature {feature}: property {property:?} is missing")]
    MissingProperty { feature: usize, property: String },
}

/// Reads areas from GeoJSON (see the module documentation for the rules).
pub fn read_geojson(bytes: &[u8], limits: &Limits) -> Result<Vec<Feature>, GeoError> {
    if bytes.len() > limits.max_bytes {
        return Err(GeoError::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    // Parsed JSON takes tens of bytes per number: count them first, so that a file of many
    // small numbers cannot take much more memory than `max_vertices` allows.
    let numbers = count_numbers(bytes);
    let max_numbers = limits
        .max_vertices
        .saturating_mul(2)
        .saturating_add(NUMBERS_SLACK);
    if numbers > max_numbers {
        return Err(GeoError::TooManyNumbers {
            numbers,
            max: max_numbers,
        });
    }
    let root: Value = serde_json::from_slice(bytes).map_err(|e| GeoError::Json(e.to_string()))?;
    let kind = root
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| GeoError::NotGeoJson("no \"type\" member at the top".into()))?;
    let mut vertices = 0usize;
    let mut out = Vec::new();
    match kind {
        "FeatureCollection" => {
            let features = root
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| GeoError::NotGeoJson("\"features\" is not an array".into()))?;
            if features.len() > limits.max_features {
                return Err(GeoError::TooManyFeatures {
                    max: limits.max_features,
                });
            }
            for (i, f) in features.iter().enumerate() {
                out.push(feature(f, i, limits, &mut vertices)?);
            }
        }
        "Feature" => out.push(feature(&root, 0, limits, &mut vertices)?),
        _ => out.push(Feature {
            properties: BTreeMap::new(),
            polygons: geometry(&root, 0, limits, &mut vertices)?,
        }),
    }
    Ok(out)
}

/// Numbers allowed beyond two per vertex (properties, `bbox` members).
const NUMBERS_SLACK: usize = 100_000;

/// Number tokens outside strings (a quick scan; the parser checks the syntax afterwards).
fn count_numbers(bytes: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped, mut in_number) = (0usize, false, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        let starts = b == b'-' || b.is_ascii_digit();
        let continues = starts || matches!(b, b'.' | b'e' | b'E' | b'+');
        if !in_number && starts {
            count += 1;
        }
        in_number = if in_number { continues } else { starts };
        if b == b'"' {
            in_string = true;
        }
    }
    count
}

fn feature(
    f: &Value,
    i: usize,
    limits: &Limits,
    vertices: &mut usize,
) -> Result<Feature, GeoError> {
    let bad = |reason: &str| GeoError::BadFeature {
        feature: i,
        reason: reason.into(),
    };
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(bad("not a Feature object"));
    }
    let mut properties = BTreeMap::new();
    match f.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(x) => x.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                properties.insert(k.clone(), text);
            }
        }
        Some(_) => return Err(bad("\"properties\" is not an object")),
    }
    let polygons = match f.get("geometry") {
        None => return Err(bad("no \"geometry\" member")),
        Some(Value::Null) => Vec::new(),
        Some(g) => geometry(g, i, limits, vertices)?,
    };
    Ok(Feature {
        properties,
        polygons,
    })
}

fn geometry(
    g: &Value,
    i: usize,
    limits: &Limits,
    vertices: &mut usize,
) -> Result<Vec<Vec<Ring>>, GeoError> {
    let kind = g
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| GeoError::BadFeature {
            feature: i,
            reason: "the geometry has no \"type\"".into(),
        })?;
    let coords = || {
        g.get("coordinates")
            .and_then(Value::as_array)
            .ok_or_else(|| GeoError::BadFeature {
                feature: i,
                reason: "\"coordinates\" is not an array".into(),
            })
    };
    match kind {
        "Polygon" => Ok(vec![polygon(coords()?, i, 0, limits, vertices)?]),
        "MultiPolygon" => {
            let mut out = Vec::new();
            for (pi, p) in coords()?.iter().enumerate() {
                let rings = p.as_array().ok_or_else(|| GeoError::BadRing {
                    feature: i,
                    polygon: pi,
                    ring: 0,
                    reason: "a polygon is not an array of rings".into(),
                })?;
                out.push(polygon(rings, i, pi, limits, vertices)?);
            }
            if out.is_empty() {
                return Err(GeoError::BadFeature {
                    feature: i,
                    reason: "a MultiPolygon without polygons".into(),
                });
            }
            Ok(out)
        }
        other => Err(GeoError::UnsupportedGeometry {
            feature: i,
            kind: other.chars().take(40).collect(),
        }),
    }
}

fn polygon(
    rings: &[Value],
    i: usize,
    pi: usize,
    limits: &Limits,
    vertices: &mut usize,
) -> Result<Vec<Ring>, GeoError> {
    if rings.is_empty() {
        return Err(GeoError::BadRing {
            feature: i,
            polygon: pi,
            ring: 0,
            reason: "a polygon without rings".into(),
        });
    }
    let mut out = Vec::with_capacity(rings.len());
    for (ri, r) in rings.iter().enumerate() {
        let bad_ring = |reason: &str| GeoError::BadRing {
            feature: i,
            polygon: pi,
            ring: ri,
            reason: reason.into(),
        };
        let positions = r
            .as_array()
            .ok_or_else(|| bad_ring("a ring is not an array of positions"))?;
        *vertices = vertices.saturating_add(positions.len());
        if *vertices > limits.max_vertices {
            return Err(GeoError::TooManyVertices {
                feature: i,
                max: limits.max_vertices,
            });
        }
        let mut ring: Ring = Vec::with_capacity(positions.len() + 1);
        for (vi, p) in positions.iter().enumerate() {
            let bad = |reason: &str| GeoError::BadCoordinate {
                feature: i,
                polygon: pi,
                ring: ri,
                vertex: vi,
                reason: reason.into(),
            };
            let a = p
                .as_array()
                .filter(|a| a.len() >= 2)
                .ok_or_else(|| bad("a position is not an array of two numbers or more"))?;
            let lon = a[0]
                .as_f64()
                .ok_or_else(|| bad("longitude is not a number"))?;
            let lat = a[1]
                .as_f64()
                .ok_or_else(|| bad("latitude is not a number"))?;
            if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                return Err(bad(&format!("longitude {lon} is outside -180..180")));
            }
            if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
                return Err(bad(&format!("latitude {lat} is outside -90..90")));
            }
            ring.push([lon, lat]);
        }
        if ring.first() != ring.last() {
            let first = ring[0];
            ring.push(first);
        }
        if ring.len() < 4 {
            return Err(bad_ring("a ring needs at least four positions"));
        }
        out.push(ring);
    }
    Ok(out)
}

/// A property of a feature, or an error naming the feature and the property.
pub fn property<'a>(features: &'a [Feature], index: usize, key: &str) -> Result<&'a str, GeoError> {
    features
        .get(index)
        .and_then(|f| f.properties.get(key))
        .map(String::as_str)
        .ok_or_else(|| GeoError::MissingProperty {
            feature: index,
            property: key.into(),
        })
}

/// Bounding box `[west, south, east, north]` of polygons, `None` when there is no vertex.
pub fn bbox_of(polygons: &[Vec<Ring>]) -> Option<[f64; 4]> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in polygons.iter().flatten().flatten() {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    (b[0] <= b[2]).then_some(b)
}

/// Bounding box `[west, south, east, north]` of features, `None` when there is no vertex.
pub fn bbox(features: &[Feature]) -> Option<[f64; 4]> {
    features
        .iter()
        .filter_map(|f| bbox_of(&f.polygons))
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
}

/// Number of positions in polygons (closing positions included).
pub fn vertex_count(polygons: &[Vec<Ring>]) -> usize {
    polygons.iter().flatten().map(Vec::len).sum()
}

/// Douglas–Peucker simplification of every ring (see the module documentation).
pub fn simplify(polygons: &[Vec<Ring>], tolerance: f64) -> Vec<Vec<Ring>> {
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return polygons.to_vec();
    }
    cleanup(polygons, |r| simplify_ring(r, tolerance))
}

/// Rounds coordinates to `decimals` (at most 10) and removes the repeated vertices it creates.
pub fn round(polygons: &[Vec<Ring>], decimals: u32) -> Vec<Vec<Ring>> {
    let f = 10f64.powi(decimals.min(10) as i32);
    cleanup(polygons, |r| {
        let mut out: Ring = Vec::with_capacity(r.len());
        for p in r {
            let q = [(p[0] * f).round() / f, (p[1] * f).round() / f];
            if out.last() != Some(&q) {
                out.push(q);
            }
        }
        out
    })
}

/// Cuts every ring to the rectangle `[x0, y0, x1, y1]` (see the module documentation). Rings
/// left with fewer than three distinct positions are dropped, and a polygon whose outer ring is
/// dropped goes with its holes; unlike [`simplify`], the result may be empty.
pub fn clip_rect(polygons: &[Vec<Ring>], rect: [f64; 4]) -> Vec<Vec<Ring>> {
    let [x0, y0, x1, y1] = rect;
    let mut out = Vec::new();
    for poly in polygons {
        let mut rings = Vec::with_capacity(poly.len());
        for (ri, r) in poly.iter().enumerate() {
            let c = clip_ring(r, x0, y0, x1, y1);
            if c.len() >= 4 {
                rings.push(c);
            } else if ri == 0 {
                break;
            }
        }
        if !rings.is_empty() {
            out.push(rings);
        }
    }
    out
}

fn clip_ring(r: &Ring, x0: f64, y0: f64, x1: f64, y1: f64) -> Ring {
    if r.is_empty() {
        return Vec::new();
    }
    let b = r.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    );
    if b[0] >= x0 && b[2] <= x1 && b[1] >= y0 && b[3] <= y1 {
        return r.clone();
    }
    if b[2] < x0 || b[0] > x1 || b[3] < y0 || b[1] > y1 {
        return Vec::new();
    }
    // The open ring (without its closing position), cut by each side in turn.
    let mut pts: Vec<[f64; 2]> = r[..r.len().saturating_sub(1)].to_vec();
    // (axis, bound, keep the side above the bound)
    for (axis, bound, above) in [(0, x0, true), (0, x1, false), (1, y0, true), (1, y1, false)] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let mut next = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (a, b) = (pts[(i + pts.len() - 1) % pts.len()], pts[i]);
            let (ia, ib) = (inside(&a), inside(&b));
            if ia != ib {
                let t = (bound - a[axis]) / (b[axis] - a[axis]);
                let mut q = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                q[axis] = bound;
                next.push(q);
            }
            if ib {
                next.push(b);
            }
        }
        pts = next;
    }
    pts.dedup();
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let mut distinct = pts.clone();
    distinct.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    distinct.dedup();
    if distinct.len() < 3 {
        return Vec::new();
    }
    pts.push(pts[0]);
    pts
}

/// Applies `f` to each ring, drops collapsed rings (and polygons whose outer ring collapsed),
/// and never turns a non-empty input into nothing.
fn cleanup(polygons: &[Vec<Ring>], f: impl Fn(&Ring) -> Ring) -> Vec<Vec<Ring>> {
    let mut out = Vec::with_capacity(polygons.len());
    for poly in polygons {
        let mut rings = Vec::with_capacity(poly.len());
        for (ri, r) in poly.iter().enumerate() {
            let s = f(r);
            if s.len() >= 4 && s.first() == s.last() {
                rings.push(s);
            } else if ri == 0 {
                break;
            }
        }
        if !rings.is_empty() {
            out.push(rings);
        }
    }
    if out.is_empty() {
        if let Some(r) = largest_ring(polygons) {
            out.push(vec![extremes(r)]);
        }
    }
    out
}

fn largest_ring(polygons: &[Vec<Ring>]) -> Option<&Ring> {
    polygons
        .iter()
        .filter_map(|p| p.first())
        .filter(|r| !r.is_empty())
        .max_by(|a, b| {
            let area = |r: &Ring| {
                bbox_of(&[vec![r.clone()]]).map_or(0.0, |b| (b[2] - b[0]) * (b[3] - b[1]))
            };
            area(a).total_cmp(&area(b))
        })
}

/// The ring reduced to the vertices that hold its bounding box, in ring order; when those are
/// fewer than three distinct positions, the farthest vertex from them is added; when the ring
/// itself has fewer than three distinct positions, it is kept as it is.
fn extremes(r: &Ring) -> Ring {
    let body = &r[..r.len().saturating_sub(1).max(1)];
    let mut idx = Vec::new();
    let pick = |key: &dyn Fn(&[f64; 2]) -> f64| {
        body.iter()
            .enumerate()
            .min_by(|a, b| key(a.1).total_cmp(&key(b.1)))
            .map(|(i, _)| i)
    };
    for k in [
        pick(&|p| p[0]),
        pick(&|p| p[1]),
        pick(&|p| -p[0]),
        pick(&|p| -p[1]),
    ]
    .into_iter()
    .flatten()
    {
        if !idx.iter().any(|&i: &usize| body[i] == body[k]) {
            idx.push(k);
        }
    }
    if idx.len() < 3 {
        let a = body[idx[0]];
        let b = body[*idx.last().unwrap_or(&idx[0])];
        let far = body
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != a && **p != b)
            .max_by(|x, y| seg_dist(x.1, &a, &b).total_cmp(&seg_dist(y.1, &a, &b)))
            .map(|(i, _)| i);
        match far {
            Some(i) => idx.push(i),
            None => return r.clone(),
        }
    }
    idx.sort_unstable();
    let mut out: Ring = idx.iter().map(|&i| body[i]).collect();
    out.push(out[0]);
    out
}

fn seg_dist(p: &[f64; 2], a: &[f64; 2], b: &[f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - qx).powi(2) + (p[1] - qy).powi(2)).sqrt()
}

/// Douglas–Peucker on a closed ring: the ring is cut at its first vertex and at the vertex
/// farthest from it, and each half is simplified keeping both ends.
fn simplify_ring(r: &Ring, tol: f64) -> Ring {
    if r.len() < 5 {
        return r.clone();
    }
    let n = r.len() - 1; // the last position repeats the first
    let far = (1..n)
        .max_by(|&a, &b| dist2(&r[a], &r[0]).total_cmp(&dist2(&r[b], &r[0])))
        .unwrap_or(1);
    let mut keep = vec![false; r.len()];
    keep[0] = true;
    keep[far] = true;
    keep[n] = true;
    dp(r, 0, far, tol, &mut keep);
    dp(r, far, n, tol, &mut keep);
    r.iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect()
}

fn dist2(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Iterative (no recursion depth to fear on long rings).
fn dp(r: &Ring, first: usize, last: usize, tol: f64, keep: &mut [bool]) {
    let mut stack = vec![(first, last)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut best_d) = (0, -1.0);
        for i in a + 1..b {
            let d = seg_dist(&r[i], &r[a], &r[b]);
            if d > best_d {
                best = i;
                best_d = d;
            }
        }
        if best_d > tol {
            keep[best] = true;
            stack.push((a, best));
            stack.push((best, b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Ring {
        vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    }

    #[test]
    fn simplify_removes_collinear_vertices_only() {
        let r = vec![
            [0.0, 0.0],
            [0.5, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.5, 1.0001],
            [0.0, 1.0],
            [0.0, 0.0],
        ];
        let s = simplify(&[vec![r.clone()]], 0.01);
        assert_eq!(s, vec![vec![square()]]);
        for p in &s[0][0] {
            assert!(r.contains(p));
        }
    }

    #[test]
    fn a_tiny_area_is_never_lost() {
        let tiny = vec![vec![vec![
            [0.0, 0.0],
            [0.001, 0.0],
            [0.002, 0.001],
            [0.001, 0.002],
            [0.0, 0.001],
            [0.0, 0.0],
        ]]];
        let s = simplify(&tiny, 1.0);
        assert_eq!(s.len(), 1);
        let r = &s[0][0];
        assert!(r.len() >= 4);
        assert_eq!(r.first(), r.last());
        assert_eq!(bbox_of(&s), bbox_of(&tiny));
        assert!(r.iter().all(|p| tiny[0][0].contains(p)));
    }

    #[test]
    fn holes_go_with_their_outer_ring_and_small_holes_go_alone() {
        let hole = vec![
            [0.4, 0.4],
            [0.4, 0.401],
            [0.401, 0.401],
            [0.401, 0.4],
            [0.4, 0.4],
        ];
        let poly = vec![square(), hole];
        let s = simplify(&[poly], 0.01);
        assert_eq!(s, vec![vec![square()]]);
    }

    #[test]
    fn clipping_cuts_rings_to_the_rectangle() {
        let big = vec![vec![
            vec![
                [-1.0, -1.0],
                [3.0, -1.0],
                [3.0, 3.0],
                [-1.0, 3.0],
                [-1.0, -1.0],
            ],
            // A hole outside the rectangle goes; the polygon stays.
            vec![[2.0, 2.0], [2.5, 2.0], [2.5, 2.5], [2.0, 2.0]],
        ]];
        let c = clip_rect(&big, [0.0, 0.0, 1.0, 1.0]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].len(), 1);
        assert_eq!(bbox_of(&c), Some([0.0, 0.0, 1.0, 1.0]));
        assert_eq!(c[0][0].first(), c[0][0].last());
        // Inside: unchanged; outside: gone (holes with it).
        assert_eq!(
            clip_rect(&[vec![square()]], [-1.0, -1.0, 2.0, 2.0]),
            vec![vec![square()]]
        );
        assert!(clip_rect(&big, [5.0, 5.0, 6.0, 6.0]).is_empty());
        // A triangle across a corner keeps only the part inside.
        let tri = vec![vec![vec![[0.5, 0.5], [2.0, 0.5], [0.5, 2.0], [0.5, 0.5]]]];
        let c = clip_rect(&tri, [0.0, 0.0, 1.0, 1.0]);
        assert!(c[0][0].iter().all(|p| p[0] <= 1.0 && p[1] <= 1.0));
        assert_eq!(bbox_of(&c), Some([0.5, 0.5, 1.0, 1.0]));
        // Touching the rectangle along a side only: nothing left.
        let side = vec![vec![vec![
            [1.0, 0.0],
            [2.0, 0.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 0.0],
        ]]];
        assert!(clip_rect(&side, [0.0, 0.0, 1.0, 1.0]).is_empty());
    }

    #[test]
    fn round_removes_repeats() {
        let r = vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.000001, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.0, 0.0],
        ];
        assert_eq!(round(&[vec![r]], 3), vec![vec![square()]]);
    }

    #[test]
    fn numbers_are_counted_outside_strings() {
        assert_eq!(count_numbers(br#"{"a":"12 -3 \"4","b":[1,-2.5e-3,0]}"#), 3);
    }

    #[test]
    fn property_errors_name_feature_and_property() {
        let f = vec![Feature::default()];
        let e = property(&f, 0, "iso_3166_2").unwrap_err();
        assert_eq!(
            e,
            GeoError::MissingProperty {
                feature: 0,
                property: "iso_3166_2".into()
            }
        );
    }
}
