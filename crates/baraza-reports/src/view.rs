//! The map's viewport, navigable with plain links: a zoom and a centre, written in a query
//! string (`?z=6&lat=12.1345&lon=15.0444`) and turned into the box of latitudes and longitudes
//! a page of `width × height` pixels shows.
//!
//! # Design
//!
//! * **Web Mercator with 256-pixel tiles**, like [`cluster`](crate::cluster): at zoom `z` the
//!   world is `256 · 2^z` pixels square, so that the grid of [`cluster`](crate::cluster::cluster)
//!   at [`View::cluster_zoom`] has cells of 32 pixels on screen.
//! * **The centre is the state.** A [`View`] is `(zoom, lat, lon)`; what it shows depends on
//!   the size of the map, given to each call ([`View::bbox`], [`View::pan`]).
//! * **Latitudes are clamped** to Mercator's ±85.0511°. **Longitudes are clamped, not
//!   wrapped**, to −180..180: a [`BBox`] cannot cross the antimeridian, and a map of one
//!   country's reports never needs to. A box near the edge of the world is cut at the edge.
//! * **Panning** moves the centre by half the visible width or height, and keeps the visible
//!   box inside the world when the world is larger than the map (at low zooms it stays
//!   centred on the world's middle instead).
//! * **Links.** [`View::to_query`] writes the centre with as many decimals as keep it within
//!   a fraction of a pixel: 4 up to zoom 11, then more (8 at zoom 22). Trailing zeros are
//!   dropped. [`View::from_query`] reads it back with errors that name the parameter.

use std::f64::consts::PI;
use std::fmt::Write;

use crate::cluster::{BBox, Point, CELL_BITS, MAX_LAT, MAX_ZOOM};

/// Pixels per tile side.
pub const TILE_PX: f64 = 256.0;

/// A zoom and a centre in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// 0 to [`MAX_ZOOM`].
    pub zoom: u8,
    pub lat: f64,
    pub lon: f64,
}

/// A direction to pan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    North,
    South,
    East,
    West,
}

/// Why a view's query parameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewError {
    #[error("the map needs z, lat and lon together: add `{param}`")]
    Missing { param: &'static str },
    #[error("`{param}` is given more than once: keep one")]
    Repeated { param: &'static str },
    #[error("`z` must be a whole number from 0 to {max}, not {value:?}", max = MAX_ZOOM)]
    Zoom { value: String },
    #[error("`{param}` must be a number of degrees, not {value:?}")]
    NotANumber { param: &'static str, value: String },
    #[error("`{param}` must be between {min} and {max}, not {value}")]
    OutOfRange {
        param: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
}

/// Web Mercator x of a longitude, 0 (west) to 1 (east).
fn merc_x(lon: f64) -> f64 {
    (lon.clamp(-180.0, 180.0) + 180.0) / 360.0
}

/// Web Mercator y of a latitude, 0 (north, at `MAX_LAT`) to 1 (south).
fn merc_y(lat: f64) -> f64 {
    let s = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    (0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI)).clamp(0.0, 1.0)
}

fn lon_of(x: f64) -> f64 {
    (x.clamp(0.0, 1.0) * 360.0 - 180.0).clamp(-180.0, 180.0)
}

fn lat_of(y: f64) -> f64 {
    (PI * (1.0 - 2.0 * y.clamp(0.0, 1.0)))
        .sinh()
        .atan()
        .to_degrees()
        .clamp(-MAX_LAT, MAX_LAT)
}

/// The world's side in pixels at `zoom`.
fn world_px(zoom: u8) -> f64 {
    TILE_PX * f64::from(1u32 << zoom.min(MAX_ZOOM))
}

/// Half the size of the map in pixels, at least half a pixel.
fn half(width_px: u32, height_px: u32) -> (f64, f64) {
    (
        f64::from(width_px.max(1)) / 2.0,
        f64::from(height_px.max(1)) / 2.0,
    )
}

/// A box with finite sides, clamped to the map, sides put in order.
fn sane(b: BBox) -> Option<BBox> {
    if ![b.south, b.west, b.north, b.east]
        .iter()
        .all(|v| v.is_finite())
    {
        return None;
    }
    let lat = |v: f64| v.clamp(-MAX_LAT, MAX_LAT);
    let lon = |v: f64| v.clamp(-180.0, 180.0);
    Some(BBox {
        south: lat(b.south.min(b.north)),
        north: lat(b.south.max(b.north)),
        west: lon(b.west.min(b.east)),
        east: lon(b.west.max(b.east)),
    })
}

impl Default for View {
    /// The whole world at zoom 0.
    fn default() -> Self {
        View::WORLD
    }
}

impl View {
    /// The whole world at zoom 0.
    pub const WORLD: View = View {
        zoom: 0,
        lat: 0.0,
        lon: 0.0,
    };

    /// A view with its zoom and centre clamped to the map; a centre that is not a number is
    /// the world's middle.
    pub fn new(zoom: u8, lat: f64, lon: f64) -> View {
        View {
            zoom: zoom.min(MAX_ZOOM),
            lat: if lat.is_finite() {
                lat.clamp(-MAX_LAT, MAX_LAT)
            } else {
                0.0
            },
            lon: if lon.is_finite() {
                lon.clamp(-180.0, 180.0)
            } else {
                0.0
            },
        }
    }

    /// The largest zoom at which `bbox` fits in a map of `width_px × height_px`, centred on
    /// it. A point gets [`MAX_ZOOM`]; a box larger than the world at zoom 0 gets zoom 0. A box
    /// whose sides are not numbers gets [`View::WORLD`]; reversed sides are read swapped.
    pub fn fit(bbox: BBox, width_px: u32, height_px: u32) -> View {
        let Some(b) = sane(bbox) else {
            return View::WORLD;
        };
        let (x0, x1) = (merc_x(b.west), merc_x(b.east));
        let (y0, y1) = (merc_y(b.north), merc_y(b.south));
        let (hw, hh) = half(width_px, height_px);
        let zoom = (0..=MAX_ZOOM)
            .rev()
            .find(|&z| {
                let s = world_px(z);
                (x1 - x0) * s <= 2.0 * hw && (y1 - y0) * s <= 2.0 * hh
            })
            .unwrap_or(0);
        View::new(zoom, lat_of((y0 + y1) / 2.0), lon_of((x0 + x1) / 2.0))
    }

    /// The centre in world pixels at this zoom.
    fn center_px(&self) -> (f64, f64) {
        let v = View::new(self.zoom, self.lat, self.lon);
        let s = world_px(v.zoom);
        (merc_x(v.lon) * s, merc_y(v.lat) * s)
    }

    /// What a map of `width_px × height_px` shows, cut at the edges of the world.
    pub fn bbox(&self, width_px: u32, height_px: u32) -> BBox {
        let s = world_px(self.zoom);
        let (cx, cy) = self.center_px();
        let (hw, hh) = half(width_px, height_px);
        BBox {
            south: lat_of((cy + hh) / s),
            west: lon_of((cx - hw) / s),
            north: lat_of((cy - hh) / s),
            east: lon_of((cx + hw) / s),
        }
    }

    /// The visible box widened to the whole cells of the cluster grid it touches: filter the
    /// points with it before [`cluster`](crate::cluster::cluster), so that a cell cut by the
    /// edge of the map is counted whole and keeps its count when the map is panned.
    pub fn cells_bbox(&self, width_px: u32, height_px: u32) -> BBox {
        let s = world_px(self.zoom);
        let cell = TILE_PX / f64::from(1u32 << CELL_BITS);
        let (cx, cy) = self.center_px();
        let (hw, hh) = half(width_px, height_px);
        let lo = |v: f64| (v / cell).floor() * cell / s;
        let hi = |v: f64| (v / cell).ceil() * cell / s;
        BBox {
            south: lat_of(hi(cy + hh)),
            west: lon_of(lo(cx - hw)),
            north: lat_of(lo(cy - hh)),
            east: lon_of(hi(cx + hw)),
        }
    }

    /// One zoom in, same centre (no change at [`MAX_ZOOM`]).
    pub fn zoom_in(&self) -> View {
        View::new(self.zoom.saturating_add(1), self.lat, self.lon)
    }

    /// One zoom out, same centre (no change at zoom 0).
    pub fn zoom_out(&self) -> View {
        View::new(self.zoom.saturating_sub(1), self.lat, self.lon)
    }

    /// One zoom in, centred on `p` (a cluster's link); a point that is not a number keeps the
    /// centre.
    pub fn zoom_in_at(&self, p: Point) -> View {
        if p.lat.is_finite() && p.lon.is_finite() {
            View::new(self.zoom.saturating_add(1), p.lat, p.lon)
        } else {
            self.zoom_in()
        }
    }

    /// Moves by half the visible width (east, west) or height (north, south) of a map of
    /// `width_px × height_px`, keeping the visible box inside the world where it fits.
    pub fn pan(&self, dir: Direction, width_px: u32, height_px: u32) -> View {
        let s = world_px(self.zoom);
        let (mut cx, mut cy) = self.center_px();
        let (hw, hh) = half(width_px, height_px);
        match dir {
            Direction::North => cy -= hh,
            Direction::South => cy += hh,
            Direction::East => cx += hw,
            Direction::West => cx -= hw,
        }
        // The centre stays far enough from the edges for the box to stay inside, or in the
        // middle when the world is smaller than the map.
        let keep = |v: f64, h: f64| {
            if s > 2.0 * h {
                v.clamp(h, s - h)
            } else {
                s / 2.0
            }
        };
        // The other coordinate is kept as it is (no round trip through pixels).
        match dir {
            Direction::North | Direction::South => {
                View::new(self.zoom, lat_of(keep(cy, hh) / s), self.lon)
            }
            Direction::East | Direction::West => {
                View::new(self.zoom, self.lat, lon_of(keep(cx, hw) / s))
            }
        }
    }

    /// The zoom to pass to [`cluster`](crate::cluster::cluster): cells of 32 pixels on screen.
    pub fn cluster_zoom(&self) -> u8 {
        self.zoom.min(MAX_ZOOM)
    }

    /// Decimals of the centre in links: a tenth of a pixel or finer at the equator.
    fn decimals(&self) -> usize {
        let pixel_deg = 360.0 / world_px(self.zoom);
        ((4.0 / pixel_deg).log10().ceil() as usize).clamp(4, 8)
    }

    /// `z=6&lat=12.1345&lon=15.0444`.
    pub fn to_query(&self) -> String {
        let v = View::new(self.zoom, self.lat, self.lon);
        let d = v.decimals();
        let mut o = String::with_capacity(40);
        let _ = write!(
            o,
            "z={}&lat={}&lon={}",
            v.zoom,
            fixed(v.lat, d),
            fixed(v.lon, d)
        );
        o
    }

    /// Reads `z`, `lat` and `lon` from query pairs (other pairs are ignored). None of them
    /// (or only empty ones) is `Ok(None)`; some but not all, a repeated one, or a bad value is
    /// an error naming it. Latitudes beyond Mercator's ±85.0511° (up to ±90) are clamped.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Option<View>, ViewError> {
        let mut found: [Option<&str>; 3] = [None; 3];
        const NAMES: [&str; 3] = ["z", "lat", "lon"];
        for (k, v) in pairs {
            let Some(i) = NAMES.iter().position(|n| *n == k) else {
                continue;
            };
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if found[i].is_some() {
                return Err(ViewError::Repeated { param: NAMES[i] });
            }
            found[i] = Some(v);
        }
        if found.iter().all(Option::is_none) {
            return Ok(None);
        }
        let [Some(z), Some(lat), Some(lon)] = found else {
            let i = found.iter().position(Option::is_none).unwrap_or(0);
            return Err(ViewError::Missing { param: NAMES[i] });
        };
        let zoom = z
            .parse::<u8>()
            .ok()
            .filter(|z| *z <= MAX_ZOOM)
            .ok_or_else(|| ViewError::Zoom { value: clip(z) })?;
        let lat = degrees("lat", lat, 90.0)?;
        let lon = degrees("lon", lon, 180.0)?;
        Ok(Some(View::new(zoom, lat, lon)))
    }
}

/// A number of degrees within ±`max`.
fn degrees(param: &'static str, v: &str, max: f64) -> Result<f64, ViewError> {
    // `inf` and `nan` are not numbers of degrees; `1e999` is one, out of range.
    let spelled = v
        .chars()
        .any(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'));
    let x = v
        .parse::<f64>()
        .ok()
        .filter(|x| !x.is_nan() && !spelled)
        .ok_or_else(|| ViewError::NotANumber {
            param,
            value: clip(v),
        })?;
    if !(-max..=max).contains(&x) {
        return Err(ViewError::OutOfRange {
            param,
            value: x,
            min: -max,
            max,
        });
    }
    Ok(x)
}

/// A value quoted in an error, cut short.
fn clip(v: &str) -> String {
    v.chars().take(40).collect()
}

/// `d` decimals, trailing zeros dropped, never `-0`.
fn fixed(v: f64, d: usize) -> String {
    let mut s = format!("{v:.d$}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(t);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHAD: BBox = BBox {
        south: 7.44,
        west: 13.47,
        north: 23.45,
        east: 24.0,
    };

    fn q(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn contains(outer: &BBox, inner: &BBox, eps: f64) -> bool {
        outer.south <= inner.south + eps
            && outer.north >= inner.north - eps
            && outer.west <= inner.west + eps
            && outer.east >= inner.east - eps
    }

    #[test]
    fn chad_fits_at_zoom_6_in_a_page_map() {
        let v = View::fit(CHAD, 640, 800);
        assert_eq!(v.zoom, 6);
        assert_eq!(v.cluster_zoom(), 6);
        assert!(contains(&v.bbox(640, 800), &CHAD, 1e-9));
        // Centred in Mercator, which stretches the north: north of the middle latitude.
        assert!((v.lon - 18.735).abs() < 1e-9);
        assert!(
            v.lat > (CHAD.south + CHAD.north) / 2.0 && v.lat < 16.5,
            "{v:?}"
        );
        // Half as large a map: one zoom less.
        assert_eq!(View::fit(CHAD, 320, 400).zoom, 5);
        // A point: the finest zoom; nonsense: the world.
        let p = BBox {
            south: 12.1,
            west: 15.0,
            north: 12.1,
            east: 15.0,
        };
        assert_eq!(View::fit(p, 640, 480).zoom, MAX_ZOOM);
        let nan = BBox {
            south: f64::NAN,
            ..CHAD
        };
        assert_eq!(View::fit(nan, 640, 480), View::WORLD);
        // Reversed sides are read swapped; a zero-sized map does not divide by zero.
        let rev = BBox {
            south: CHAD.north,
            north: CHAD.south,
            west: CHAD.east,
            east: CHAD.west,
        };
        assert_eq!(View::fit(rev, 640, 800), v);
        assert_eq!(View::fit(CHAD, 0, 0).zoom, 0);
    }

    #[test]
    fn the_world_at_zoom_0_is_256_pixels() {
        let b = View::WORLD.bbox(256, 256);
        assert!((b.west + 180.0).abs() < 1e-9 && (b.east - 180.0).abs() < 1e-9);
        assert!((b.north - MAX_LAT).abs() < 1e-9 && (b.south + MAX_LAT).abs() < 1e-9);
        // A larger map is cut at the edges of the world.
        assert_eq!(View::WORLD.bbox(1000, 1000), b);
        // Half the world: 128 px of 256 across.
        let h = View::WORLD.bbox(128, 128);
        assert!((h.west + 90.0).abs() < 1e-9 && (h.east - 90.0).abs() < 1e-9);
    }

    #[test]
    fn zooming_keeps_the_centre() {
        let v = View::new(6, 12.1345, 15.0444);
        assert_eq!(v.zoom_in(), View::new(7, 12.1345, 15.0444));
        assert_eq!(v.zoom_out().zoom, 5);
        assert_eq!(View::new(MAX_ZOOM, 1.0, 2.0).zoom_in().zoom, MAX_ZOOM);
        assert_eq!(View::WORLD.zoom_out(), View::WORLD);
        let at = v.zoom_in_at(Point {
            lat: 8.57,
            lon: 16.07,
        });
        assert_eq!(at, View::new(7, 8.57, 16.07));
        let bad = Point {
            lat: f64::NAN,
            lon: 1.0,
        };
        assert_eq!(v.zoom_in_at(bad), v.zoom_in());
        // Zooming in halves the visible span.
        let (a, b) = (v.bbox(640, 480), v.zoom_in().bbox(640, 480));
        assert!(((a.east - a.west) / (b.east - b.west) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn panning_moves_half_a_map_and_stays_in_the_world() {
        let v = View::new(6, 12.0, 18.0);
        let (w, h) = (640, 480);
        let b = v.bbox(w, h);
        let e = v.pan(Direction::East, w, h);
        assert!((e.lon - v.lon - (b.east - b.west) / 2.0).abs() < 1e-9);
        assert_eq!(e.lat, v.lat);
        let back = e.pan(Direction::West, w, h);
        assert!((back.lon - v.lon).abs() < 1e-9 && back.zoom == 6);
        let n = v.pan(Direction::North, w, h);
        assert!(n.lat > v.lat && n.lon == v.lon);
        // Half the height: the old centre is the new map's bottom edge.
        assert!((n.bbox(w, h).south - v.lat).abs() < 1e-9);
        let s = v.pan(Direction::South, w, h);
        assert!((s.pan(Direction::North, w, h).lat - v.lat).abs() < 1e-9);
        // Far north, far east: the box stays in the world.
        let mut x = v;
        for _ in 0..200 {
            x = x.pan(Direction::North, w, h).pan(Direction::East, w, h);
        }
        let xb = x.bbox(w, h);
        assert!((xb.north - MAX_LAT).abs() < 1e-6, "{xb:?}");
        assert!((xb.east - 180.0).abs() < 1e-6, "{xb:?}");
        // At zoom 0 the world is smaller than the map: panning keeps it centred.
        assert_eq!(View::WORLD.pan(Direction::West, 640, 480), View::WORLD);
    }

    #[test]
    fn cells_bbox_holds_whole_cells() {
        let v = View::fit(CHAD, 640, 800);
        let (vis, cells) = (v.bbox(640, 800), v.cells_bbox(640, 800));
        assert!(contains(&cells, &vis, 0.0));
        // Its sides are cell sides (32 px in the world's pixels).
        let s = world_px(v.zoom) / 32.0;
        for x in [merc_x(cells.west), merc_x(cells.east)] {
            assert!(((x * s) - (x * s).round()).abs() < 1e-6, "{x}");
        }
        for y in [merc_y(cells.north), merc_y(cells.south)] {
            assert!(((y * s) - (y * s).round()).abs() < 1e-6, "{y}");
        }
        // At most one cell (32 px) wider on each side.
        let px = 360.0 / world_px(v.zoom);
        assert!(vis.west - cells.west <= 32.0 * px + 1e-9);
        assert!(cells.east - vis.east <= 32.0 * px + 1e-9);
    }

    #[test]
    fn queries() {
        let v = View::new(6, 12.134_52, 15.044_39);
        assert_eq!(v.to_query(), "z=6&lat=12.1345&lon=15.0444");
        assert_eq!(View::new(0, 0.0, -0.00001).to_query(), "z=0&lat=0&lon=0");
        assert_eq!(
            View::new(22, 12.123_456_789, 1.0).to_query(),
            "z=22&lat=12.12345679&lon=1"
        );
        assert_eq!(
            View::from_query(&q("z=6&lat=12.1345&lon=15.0444&x=1")),
            Ok(Some(View::new(6, 12.1345, 15.0444)))
        );
        assert_eq!(View::from_query(&q("q=water")), Ok(None));
        assert_eq!(View::from_query(&q("z=&lat=&lon=")), Ok(None));
        assert_eq!(
            View::from_query(&q("z= 6 &lat=89.9&lon=-180")),
            Ok(Some(View::new(6, MAX_LAT, -180.0)))
        );
        let err = |s: &str| View::from_query(&q(s)).unwrap_err();
        assert_eq!(err("z=6&lon=1"), ViewError::Missing { param: "lat" });
        assert_eq!(
            err("z=23&lat=1&lon=1"),
            ViewError::Zoom { value: "23".into() }
        );
        assert_eq!(
            err("z=-1&lat=1&lon=1"),
            ViewError::Zoom { value: "-1".into() }
        );
        assert_eq!(
            err("z=6.5&lat=1&lon=1"),
            ViewError::Zoom {
                value: "6.5".into()
            }
        );
        assert_eq!(
            err("z=6&lat=north&lon=1"),
            ViewError::NotANumber {
                param: "lat",
                value: "north".into()
            }
        );
        assert_eq!(
            err("z=6&lat=1&lon=NaN"),
            ViewError::NotANumber {
                param: "lon",
                value: "NaN".into()
            }
        );
        assert_eq!(
            err("z=6&lat=1&lon=181"),
            ViewError::OutOfRange {
                param: "lon",
                value: 181.0,
                min: -180.0,
                max: 180.0
            }
        );
        assert_eq!(
            err("z=6&z=7&lat=1&lon=1"),
            ViewError::Repeated { param: "z" }
        );
        assert_eq!(
            err("z=30&lat=1&lon=1").to_string(),
            "`z` must be a whole number from 0 to 22, not \"30\""
        );
        assert_eq!(
            err("z=6&lat=-91&lon=1").to_string(),
            "`lat` must be between -90 and 90, not -91"
        );
        // Hostile values are quoted cut short.
        let long = format!("z=6&lat={}&lon=1", "9".repeat(5000));
        assert!(matches!(
            View::from_query(&q(&long)),
            Err(ViewError::OutOfRange { param: "lat", .. })
        ));
        assert!(matches!(
            err("z=6&lat=1&lon=-inf"),
            ViewError::NotANumber { param: "lon", .. }
        ));
        let junk = format!("z=6&lat={}&lon=1", "x".repeat(5000));
        assert!(err(&junk).to_string().len() < 100);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn fit_shows_the_whole_box(
            s in -85.0f64..85.0, dlat in 0.0f64..60.0,
            w in -180.0f64..180.0, dlon in 0.0f64..200.0,
            width in 256u32..2000, height in 256u32..2000,
        ) {
            let b = BBox {
                south: s,
                north: (s + dlat).min(85.0),
                west: w,
                east: (w + dlon).min(180.0),
            };
            let v = View::fit(b, width, height);
            prop_assert!(contains(&v.bbox(width, height), &b, 1e-9), "{v:?} {b:?}");
            // The next zoom would not fit (unless already the finest).
            if v.zoom < MAX_ZOOM {
                prop_assert!(!contains(&v.zoom_in().bbox(width, height), &b, -1e-9));
            }
        }

        #[test]
        fn zoom_in_then_out_is_identity(
            z in 0u8..MAX_ZOOM, lat in -85.0f64..85.0, lon in -180.0f64..180.0,
        ) {
            let v = View::new(z, lat, lon);
            prop_assert_eq!(v.zoom_in().zoom_out(), v);
            if z > 0 {
                prop_assert_eq!(v.zoom_out().zoom_in(), v);
            }
        }

        #[test]
        fn query_round_trip(
            z in 0u8..=MAX_ZOOM, lat in -90.0f64..90.0, lon in -180.0f64..180.0,
        ) {
            let v = View::new(z, lat, lon);
            let text = v.to_query();
            let back = View::from_query(&q(&text)).unwrap().unwrap();
            prop_assert_eq!(back.zoom, v.zoom);
            // Within a fraction of a pixel (the decimals written), and stable once rounded.
            let pixel = 360.0 / world_px(z);
            prop_assert!((back.lat - v.lat).abs() <= pixel / 8.0, "{text}");
            prop_assert!((back.lon - v.lon).abs() <= pixel / 8.0, "{text}");
            prop_assert_eq!(back.to_query(), text);
        }
    }
}
