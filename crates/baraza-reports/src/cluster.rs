//! Map clusters computed on the server, in one pass over the points.
//!
//! At zoom `z` the world is cut like the Web Mercator tiles of zoom `z + 3`: 8 × 8 cells per map
//! tile, a cell 32 pixels wide on screen. Each point falls in one cell, named by an integer key
//! (`x << 32 | y`), and a cell's cluster is its count and the mean position of its points. The
//! work is one hash-map update per point: a million points take tens of milliseconds.
//!
//! For public maps, [`k_anonymous`] makes sure no cluster shows fewer than `k` reports: small
//! cells are merged with their neighbours in the parent cell (zoom − 1), then the grandparent…,
//! and what is still under `k` after `max_levels` is hidden (only its count is kept, for a
//! notice). Merged clusters are drawn at the centre of their cell, not at the mean of their few
//! points. [`snap_km`] fuzzes one location to the centre of a grid cell of a given size.

use foldhash::{HashMap, HashMapExt};
use std::f64::consts::PI;

/// Cells per tile side, as a power of two (8 × 8 cells per tile).
pub const CELL_BITS: u8 = 3;
/// The finest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Web Mercator's latitude limit.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// A box of latitudes and longitudes (west ≤ east; boxes across the antimeridian are two).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl BBox {
    pub fn contains(&self, p: Point) -> bool {
        p.lat >= self.south && p.lat <= self.north && p.lon >= self.west && p.lon <= self.east
    }
}

/// One cell's cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cluster {
    /// The zoom whose grid the cell belongs to.
    pub zoom: u8,
    /// `x << 32 | y` in that grid.
    pub key: u64,
    pub count: u64,
    /// Where to draw it: the mean of its points, or the cell's centre for merged clusters.
    pub lat: f64,
    pub lon: f64,
}

/// The clusters of a set of points at one zoom, by key; `skipped` counts points outside the
/// map (not numbers, or beyond the Mercator latitudes).
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    pub zoom: u8,
    pub cells: Vec<Cluster>,
    pub skipped: u64,
}

fn side(zoom: u8) -> u32 {
    1u32 << (zoom.min(MAX_ZOOM) + CELL_BITS)
}

/// The key of the cell holding `p` at `zoom`; `None` off the map.
pub fn cell_key(p: Point, zoom: u8) -> Option<u64> {
    if !(p.lat.is_finite() && p.lon.is_finite()) || p.lat.abs() > MAX_LAT || p.lon.abs() > 180.0 {
        return None;
    }
    let n = f64::from(side(zoom));
    let max = side(zoom) - 1;
    let x = (((p.lon + 180.0) / 360.0) * n) as u32;
    // Mercator's y: atanh(sin φ) = ½ ln((1 + sin φ) / (1 − sin φ)), one sine and one logarithm.
    let s = p.lat.to_radians().sin();
    let y = ((0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI)) * n) as u32;
    Some((u64::from(x.min(max)) << 32) | u64::from(y.min(max)))
}

/// The centre of a cell.
pub fn cell_center(key: u64, zoom: u8) -> Point {
    let n = f64::from(side(zoom));
    let x = (key >> 32) as f64 + 0.5;
    let y = (key & 0xffff_ffff) as f64 + 0.5;
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    Point { lat, lon }
}

fn parent(key: u64) -> u64 {
    ((key >> 33) << 32) | ((key & 0xffff_ffff) >> 1)
}

/// Clusters `points` at `zoom`.
pub fn cluster(points: impl IntoIterator<Item = Point>, zoom: u8) -> Clusters {
    let zoom = zoom.min(MAX_ZOOM);
    let points = points.into_iter();
    let mut acc: HashMap<u64, (u64, f64, f64)> =
        HashMap::with_capacity(points.size_hint().0.min(1 << 16));
    let mut skipped = 0u64;
    for p in points {
        match cell_key(p, zoom) {
            Some(k) => {
                let e = acc.entry(k).or_insert((0, 0.0, 0.0));
                e.0 += 1;
                e.1 += p.lat;
                e.2 += p.lon;
            }
            None => skipped += 1,
        }
    }
    let mut cells: Vec<Cluster> = acc
        .into_iter()
        .map(|(key, (count, lat, lon))| Cluster {
            zoom,
            key,
            count,
            lat: lat / count as f64,
            lon: lon / count as f64,
        })
        .collect();
    cells.sort_unstable_by_key(|c| c.key);
    Clusters {
        zoom,
        cells,
        skipped,
    }
}

/// Clusters the points inside `bbox` only.
pub fn cluster_in(points: &[Point], zoom: u8, bbox: BBox) -> Clusters {
    cluster(points.iter().copied().filter(|p| bbox.contains(*p)), zoom)
}

/// What a public map may show.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicClusters {
    /// Clusters of at least `k` reports: cells of the zoom asked, or coarser merged cells.
    pub shown: Vec<Cluster>,
    /// Reports in cells that stayed under `k`.
    pub hidden: u64,
}

/// Merges clusters under `k` into their parent cells, up to `max_levels` zooms out, and hides
/// what is still under `k`.
pub fn k_anonymous(clusters: &Clusters, k: u64, max_levels: u8) -> PublicClusters {
    let mut shown: Vec<Cluster> = Vec::new();
    let mut small: HashMap<u64, u64> = HashMap::new();
    for c in &clusters.cells {
        if c.count >= k {
            shown.push(*c);
        } else {
            *small.entry(c.key).or_insert(0) += c.count;
        }
    }
    let mut zoom = clusters.zoom;
    for _ in 0..max_levels {
        if small.is_empty() || zoom == 0 {
            break;
        }
        zoom -= 1;
        let mut up: HashMap<u64, u64> = HashMap::new();
        for (key, count) in small {
            *up.entry(parent(key)).or_insert(0) += count;
        }
        small = HashMap::new();
        for (key, count) in up {
            if count >= k {
                let c = cell_center(key, zoom);
                shown.push(Cluster {
                    zoom,
                    key,
                    count,
                    lat: c.lat,
                    lon: c.lon,
                });
            } else {
                small.insert(key, count);
            }
        }
    }
    shown.sort_by_key(|c| (std::cmp::Reverse(c.zoom), c.key));
    PublicClusters {
        shown,
        hidden: small.values().sum(),
    }
}

/// The centre of the cell of about `km` × `km` holding the point: a location fuzzed for the
/// public. Every point of a cell gets the same position; cells keep their width in kilometres
/// at every latitude (longitude steps widen towards the poles).
pub fn snap_km(p: Point, km: f64) -> Point {
    if !(km.is_finite() && km > 0.0 && p.lat.is_finite() && p.lon.is_finite()) {
        return p;
    }
    const KM_PER_DEGREE: f64 = 111.32;
    let lat_step = (km / KM_PER_DEGREE).min(180.0);
    let lat = ((p.lat.clamp(-90.0, 90.0) / lat_step).floor() + 0.5) * lat_step;
    let lat = lat.clamp(-90.0, 90.0);
    let lon_step = (km / (KM_PER_DEGREE * lat.to_radians().cos().max(0.01))).min(360.0);
    let lon = -180.0 + (((p.lon.clamp(-180.0, 180.0) + 180.0) / lon_step).floor() + 0.5) * lon_step;
    Point {
        lat,
        lon: lon.clamp(-180.0, 180.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(lat: f64, lon: f64) -> Point {
        Point { lat, lon }
    }

    /// A small deterministic generator, for reproducible clouds of points.
    fn cloud(n: usize, seed: u64, center: Point, spread: f64) -> Vec<Point> {
        let mut s = seed;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                pt(
                    center.lat + (next() - 0.5) * spread,
                    center.lon + (next() - 0.5) * spread,
                )
            })
            .collect()
    }

    #[test]
    fn cells_and_centres_agree() {
        let ndj = pt(12.1348, 15.0557);
        for zoom in [0, 5, 10, 15, MAX_ZOOM] {
            let k = cell_key(ndj, zoom).unwrap();
            let c = cell_center(k, zoom);
            assert_eq!(cell_key(c, zoom), Some(k), "zoom {zoom}");
            // The parent cell holds the point one zoom out.
            if zoom > 0 {
                assert_eq!(cell_key(ndj, zoom - 1), Some(parent(k)));
            }
        }
        // At zoom 0 the world is 8 × 8 cells.
        assert_eq!(cell_key(pt(MAX_LAT, -180.0), 0), Some(0));
        assert_eq!(cell_key(pt(-MAX_LAT, 180.0), 0), Some((7 << 32) | 7));
        for bad in [
            pt(f64::NAN, 0.0),
            pt(89.0, 0.0),
            pt(0.0, 181.0),
            pt(0.0, f64::INFINITY),
        ] {
            assert_eq!(cell_key(bad, 3), None);
        }
    }

    #[test]
    fn clusters_count_every_point_once() {
        let mut pts = cloud(10_000, 7, pt(12.1, 15.0), 0.5);
        pts.extend(cloud(3_000, 9, pt(8.57, 16.07), 0.2));
        pts.push(pt(f64::NAN, 1.0));
        let c = cluster(pts.iter().copied(), 3);
        assert_eq!(c.skipped, 1);
        assert_eq!(c.cells.iter().map(|c| c.count).sum::<u64>(), 13_000);
        // At zoom 3 the two towns are two clusters; zoomed in, many more.
        assert_eq!(c.cells.len(), 2, "{:?}", c.cells);
        assert!(cluster(pts.iter().copied(), 12).cells.len() > 50);
        // A cluster sits at the mean of its points.
        let big = c.cells.iter().find(|c| c.count == 10_000).unwrap();
        assert!((big.lat - 12.1).abs() < 0.02 && (big.lon - 15.0).abs() < 0.02);
        // A box keeps what is inside.
        let b = BBox {
            south: 8.0,
            west: 15.5,
            north: 9.0,
            east: 17.0,
        };
        assert_eq!(
            cluster_in(&pts, 3, b)
                .cells
                .iter()
                .map(|c| c.count)
                .sum::<u64>(),
            3_000
        );
    }

    #[test]
    fn public_maps_merge_or_hide_clusters_under_k() {
        let mut pts = vec![pt(12.1, 15.0); 50];
        // Three isolated reports in neighbouring villages, and one alone far away.
        pts.extend([
            pt(13.0, 14.0),
            pt(13.01, 14.02),
            pt(13.02, 14.01),
            pt(-4.0, 30.0),
        ]);
        let c = cluster(pts.iter().copied(), 12);
        let p = k_anonymous(&c, 3, 4);
        assert!(p.shown.iter().all(|c| c.count >= 3));
        assert_eq!(p.hidden, 1);
        assert_eq!(p.shown.iter().map(|c| c.count).sum::<u64>() + p.hidden, 54);
        // The three villages show as one merged cluster at a coarser zoom, at its cell's centre.
        let merged = p.shown.iter().find(|c| c.count == 3).unwrap();
        assert!(merged.zoom < 12);
        let centre = cell_center(merged.key, merged.zoom);
        assert_eq!((merged.lat, merged.lon), (centre.lat, centre.lon));
        // With no level to climb, small clusters are hidden; k = 1 shows everything as it is.
        let none = k_anonymous(&c, 3, 0);
        assert!(none.hidden >= 4);
        assert_eq!(k_anonymous(&c, 1, 4).shown.len(), c.cells.len());
    }

    #[test]
    fn fuzzing_snaps_to_the_centre_of_a_cell() {
        let a = snap_km(pt(12.1348, 15.0557), 10.0);
        let b = snap_km(pt(12.1349, 15.0556), 10.0);
        assert_eq!(a, b);
        assert!((a.lat - 12.1348).abs() < 0.05 && (a.lon - 15.0557).abs() < 0.05);
        // Far enough apart, two cells.
        assert_ne!(a, snap_km(pt(12.3, 15.0557), 10.0));
        // Snapping a snapped point changes nothing.
        assert_eq!(snap_km(a, 10.0), a);
        // Poles, date line and nonsense stay on the map.
        for p in [pt(90.0, 180.0), pt(-90.0, -180.0), pt(89.99, 179.99)] {
            let s = snap_km(p, 25.0);
            assert!(s.lat.abs() <= 90.0 && s.lon.abs() <= 180.0, "{s:?}");
        }
        assert_eq!(snap_km(pt(1.0, 2.0), 0.0), pt(1.0, 2.0));
        assert_eq!(snap_km(pt(1.0, 2.0), f64::NAN), pt(1.0, 2.0));
    }

    #[test]
    fn a_million_points() {
        let pts = cloud(1_000_000, 42, pt(13.0, 18.0), 14.0);
        // CPU time of this thread where Linux tells it (other processes do not count), else
        // wall time.
        fn cpu_ns() -> Option<u64> {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        }
        let (wall, cpu) = (std::time::Instant::now(), cpu_ns());
        let c = cluster(pts.iter().copied(), 8);
        let took = match (cpu, cpu_ns()) {
            (Some(a), Some(b)) => std::time::Duration::from_nanos(b - a),
            _ => wall.elapsed(),
        };
        assert_eq!(c.cells.iter().map(|c| c.count).sum::<u64>(), 1_000_000);
        // Timed only on request, in an optimised build on an otherwise idle machine:
        // `BARAZA_TIMING=1 cargo test --release -p baraza-reports a_million -- --nocapture`.
        if std::env::var_os("BARAZA_TIMING").is_some() {
            println!("clustered 1,000,000 points in {took:?}");
            assert!(cfg!(debug_assertions) || took.as_millis() < 100, "{took:?}");
        }
    }
}
