//! Times the map of a million reports over Chad, step by step: the view's box, clustering,
//! k-anonymity and the SVG with the 23 provinces.
//!
//! `cargo run --release -p baraza-charts --example map_million`
//!
//! Prints the median of 5 runs of each step, in milliseconds, for a map of the whole country
//! (zoom 6), one of the capital and one of the sparse north (zoom 10). The points are deterministic: a third spread
//! evenly over Chad, the rest around seven towns.

use std::hint::black_box;
use std::time::{Duration, Instant};

use baraza_charts::geo::{read_geojson, Feature, Limits};
use baraza_charts::points::{render_points, BaseArea, Marker, PointMapSpec, Viewport};
use baraza_reports::cluster::{cluster, cluster_in, k_anonymous, BBox, Point};
use baraza_reports::view::View;

const TCD: &[u8] = include_bytes!("../../baraza/demo/boundaries/TCD-adm1.geojson");
const CHAD: BBox = BBox {
    south: 7.4,
    west: 13.4,
    north: 23.5,
    east: 24.0,
};
const TOWNS: [(f64, f64); 7] = [
    (12.13, 15.06), // N'Djamena
    (8.57, 16.08),  // Moundou
    (9.14, 18.39),  // Sarh
    (13.83, 20.83), // Abéché
    (12.18, 18.69), // Mongo
    (17.93, 19.11), // Faya-Largeau
    (10.98, 20.28), // Am Timan
];
const N: usize = 1_000_000;
const RUNS: usize = 5;
const W: u32 = 640;
const H: u32 = 800;

/// xorshift64*: deterministic, good enough for a cloud of points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn points() -> Vec<Point> {
    let mut r = Rng(0x5eed_cafe_f00d_0001);
    (0..N)
        .map(|i| {
            if i % 3 == 0 {
                Point {
                    lat: CHAD.south + r.next() * (CHAD.north - CHAD.south),
                    lon: CHAD.west + r.next() * (CHAD.east - CHAD.west),
                }
            } else {
                // Bigger towns get more reports; a triangular spread of ±0.6° around them.
                let t = TOWNS[(r.next() * r.next() * TOWNS.len() as f64) as usize];
                Point {
                    lat: t.0 + (r.next() + r.next() - 1.0) * 0.6,
                    lon: t.1 + (r.next() + r.next() - 1.0) * 0.6,
                }
            }
        })
        .collect()
}

fn median(mut d: Vec<Duration>) -> f64 {
    d.sort();
    d[d.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let pts = points();
    let t = Instant::now();
    let provinces = read_geojson(TCD, &Limits::default()).expect("Chad's provinces");
    println!(
        "reading the provinces' GeoJSON (once): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let chad = View::fit(CHAD, W, H);
    assert_eq!(chad.zoom, 6, "Chad fits a {W} × {H} map at zoom 6");
    println!("\nChad, {W} × {H}, {}", chad.to_query());
    run(&pts, &provinces, chad);
    // Zoomed in on the capital: dense cells.
    let city = View::new(10, 12.13, 15.06);
    println!("\nN'Djamena, {W} × {H}, {}", city.to_query());
    run(&pts, &provinces, city);
    // Zoomed in on the empty north: a few reports per cell, so k-anonymity has work to do.
    let north = View::new(10, 21.0, 17.5);
    println!("\nTibesti, {W} × {H}, {}", north.to_query());
    run(&pts, &provinces, north);
}

fn run(pts: &[Point], provinces: &[Feature], view: View) {
    let zoom = view.cluster_zoom();

    let mut times: [Vec<Duration>; 6] = Default::default();
    let mut summary = String::new();
    for run in 0..RUNS {
        let start = Instant::now();

        let t = Instant::now();
        let bbox = view.cells_bbox(W, H);
        let visible: Vec<Point> = pts.iter().copied().filter(|p| bbox.contains(*p)).collect();
        times[0].push(t.elapsed());

        let t = Instant::now();
        let clusters = cluster(visible.iter().copied(), zoom);
        times[1].push(t.elapsed());

        let t = Instant::now();
        let public = k_anonymous(&clusters, 5, 3);
        times[2].push(t.elapsed());

        let t = Instant::now();
        let markers: Vec<Marker> = public
            .shown
            .iter()
            .map(|c| Marker {
                lat: c.lat,
                lon: c.lon,
                count: c.count,
                label: format!("{} reports", c.count),
                href: Some(format!(
                    "?{}",
                    view.zoom_in_at(Point {
                        lat: c.lat,
                        lon: c.lon
                    })
                    .to_query()
                )),
                approximate: c.zoom < zoom,
            })
            .collect();
        let visible_box = view.bbox(W, H);
        let spec = PointMapSpec {
            id: "reports".into(),
            title: "Reports".into(),
            desc: "Published reports, grouped by place.".into(),
            attribution:
                "Chad provinces: © OpenStreetMap contributors (ODbL 1.0), via geoBoundaries.".into(),
            areas: provinces
                .iter()
                .map(|f| BaseArea {
                    code: f.properties.get("iso_3166_2").map_or("", String::as_str),
                    name: f.properties.get("name").map_or("", String::as_str),
                    polygons: &f.polygons,
                    href: None,
                })
                .collect(),
            markers,
            view: Viewport {
                south: visible_box.south,
                west: visible_box.west,
                north: visible_box.north,
                east: visible_box.east,
            },
            width: W,
            height: H,
        };
        let svg = render_points(&spec);
        times[3].push(t.elapsed());
        times[4].push(start.elapsed());

        // The filter and the clustering in one pass, as `cluster_in` does them.
        let t = Instant::now();
        black_box(cluster_in(pts, zoom, bbox));
        times[5].push(t.elapsed());

        if run == 0 {
            summary = format!(
                "{} points, {} in view at zoom {zoom}, {} cells, {} shown after k = 5 ({} reports hidden), SVG {} bytes",
                pts.len(),
                visible.len(),
                clusters.cells.len(),
                public.shown.len(),
                public.hidden,
                svg.len()
            );
        }
        black_box(svg);
    }
    println!("{summary}");
    for (name, t) in [
        "filter by the view's box",
        "cluster",
        "k_anonymous (k = 5, 3 levels)",
        "markers and render_points",
        "total",
        "cluster_in (filter and cluster in one pass)",
    ]
    .iter()
    .zip(times)
    {
        println!("{name}: {:.1} ms (median of {RUNS})", median(t));
    }
}
