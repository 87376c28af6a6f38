//! Maps of clustered reports over Chad's 23 provinces (ODbL: see
//! `crates/baraza/demo/boundaries/TCD-adm1.SOURCE.md`), checked against the clustering grid and
//! the view of `baraza-reports`.

use baraza_charts::geo::{read_geojson, Feature, Limits};
use baraza_charts::points::{render_points, BaseArea, Marker, PointMapSpec, Viewport};
use baraza_reports::cluster::{cell_center, cluster, BBox, Point};
use baraza_reports::view::View;

const TCD: &[u8] = include_bytes!("../../baraza/demo/boundaries/TCD-adm1.geojson");
const ATTRIBUTION: &str = "Chad provinces: © OpenStreetMap contributors (ODbL 1.0), via geoBoundaries (www.geoboundaries.org), boundary TCD-ADM1-23847190.";
const CHAD: BBox = BBox {
    south: 7.44,
    west: 13.47,
    north: 23.45,
    east: 24.0,
};
const W: u32 = 640;
const H: u32 = 800;

fn chad() -> Vec<Feature> {
    read_geojson(TCD, &Limits::default()).unwrap()
}

fn viewport(b: BBox) -> Viewport {
    Viewport {
        south: b.south,
        west: b.west,
        north: b.north,
        east: b.east,
    }
}

fn areas(features: &[Feature]) -> Vec<BaseArea<'_>> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| BaseArea {
            code: &f.properties["iso_3166_2"],
            name: if i == 0 {
                "<script>alert(1)</script> & Co"
            } else {
                &f.properties["name"]
            },
            polygons: &f.polygons,
            href: Some(if i == 1 {
                "javascript:alert(1)".into()
            } else {
                format!("?province={}&z=7", f.properties["iso_3166_2"])
            }),
        })
        .collect()
}

fn spec<'a>(features: &'a [Feature], markers: Vec<Marker>, view: View) -> PointMapSpec<'a> {
    PointMapSpec {
        id: "reports-map".into(),
        title: "Reports of the last 30 days".into(),
        desc: "Published reports, grouped by place.".into(),
        attribution: ATTRIBUTION.into(),
        areas: areas(features),
        markers,
        view: viewport(view.bbox(W, H)),
        width: W,
        height: H,
    }
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"))
}

fn marker(lat: f64, lon: f64, count: u64) -> Marker {
    Marker {
        lat,
        lon,
        count,
        label: format!("{count} reports"),
        href: None,
        approximate: false,
    }
}

/// A deterministic cloud of points over Chad, denser around towns.
fn cloud(n: usize) -> Vec<Point> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let towns = [(12.13, 15.06), (8.57, 16.08), (13.83, 20.83), (9.14, 18.39)];
    (0..n)
        .map(|i| {
            if i % 3 == 0 {
                Point {
                    lat: CHAD.south + next() * (CHAD.north - CHAD.south),
                    lon: CHAD.west + next() * (CHAD.east - CHAD.west),
                }
            } else {
                let (lat, lon) = towns[i % towns.len()];
                Point {
                    lat: lat + (next() + next() - 1.0) * 0.8,
                    lon: lon + (next() + next() - 1.0) * 0.8,
                }
            }
        })
        .collect()
}

#[test]
fn markers_links_titles_and_escaping() {
    let f = chad();
    let view = View::fit(CHAD, W, H);
    let markers = vec![
        Marker {
            href: Some(format!(
                "?{}",
                view.zoom_in_at(Point {
                    lat: 12.13,
                    lon: 15.06
                })
                .to_query()
            )),
            ..marker(12.13, 15.06, 1234)
        },
        Marker {
            label: "<script>alert(2)</script>".into(),
            href: Some(" JavaScript:alert(3)".into()),
            ..marker(8.57, 16.08, 40)
        },
        Marker {
            approximate: true,
            ..marker(13.8, 20.8, 7)
        },
        Marker {
            href: Some("data:text/html,x".into()),
            ..marker(17.9, 19.1, 5)
        },
        // Out of the view (Niamey), not a number, nothing to count: not drawn.
        marker(13.51, 2.11, 500),
        marker(f64::NAN, 15.0, 3),
        marker(12.0, 16.0, 0),
    ];
    let s = spec(&f, markers, view);
    let svg = render_points(&s);
    std::fs::write(std::env::temp_dir().join("baraza-points.svg"), &svg).ok();
    assert_eq!(render_points(&s), svg, "deterministic");
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(
        root.attribute("aria-labelledby"),
        Some("reports-map-t reports-map-d")
    );

    // One circle per drawn marker, largest first.
    let circles: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "circle")
        .collect();
    assert_eq!(circles.len(), 4);
    let r: Vec<f64> = circles
        .iter()
        .map(|c| c.attribute("r").unwrap().parse().unwrap())
        .collect();
    assert!(r.windows(2).all(|w| w[0] >= w[1]), "{r:?}");
    assert_eq!(r[0], 22.0);
    assert_eq!(r[3], 8.0);
    // Each marker's title is its label, escaped in the file and whole once parsed.
    let titles: Vec<&str> = circles
        .iter()
        .map(|c| c.prev_sibling_element().unwrap().text().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "1234 reports",
            "<script>alert(2)</script>",
            "7 reports",
            "5 reports"
        ]
    );
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    // Counts are written when they fit: 1234 in the largest circle, 40 and 7 and 5 too.
    let texts: Vec<&str> = circles
        .iter()
        .filter_map(|c| c.next_sibling_element())
        .filter(|t| t.tag_name().name() == "text")
        .map(|t| t.text().unwrap())
        .collect();
    assert_eq!(texts, ["1234", "40", "7", "5"]);
    // Only the safe link is kept, on markers and on areas.
    let links: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "a")
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(!svg.to_ascii_lowercase().contains("javascript:"));
    assert!(!svg.contains("data:"));
    assert!(links.contains(&"?z=7&lat=12.13&lon=15.06"));
    assert_eq!(
        links.iter().filter(|l| l.starts_with("?province=")).count(),
        22
    );
    // The approximate marker is dashed; the others are not.
    let dashed: Vec<_> = circles
        .iter()
        .filter(|c| c.attribute("stroke-dasharray").is_some())
        .collect();
    assert_eq!(dashed.len(), 1);
    assert_eq!(
        dashed[0].prev_sibling_element().unwrap().text(),
        Some("7 reports")
    );

    // The 23 provinces, each titled, under a clip path of the map's rectangle.
    let group = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("a"))
        .unwrap();
    let paths: Vec<_> = group
        .descendants()
        .filter(|n| n.tag_name().name() == "path")
        .collect();
    assert_eq!(paths.len(), 23);
    assert!(paths
        .iter()
        .any(|p| p.first_element_child().unwrap().text() == Some("Borkou")));
    assert_eq!(
        group.parent_element().unwrap().attribute("clip-path"),
        Some("url(#reports-map-c)")
    );
    assert!(doc
        .descendants()
        .any(|n| n.tag_name().name() == "clipPath" && n.attribute("id") == Some("reports-map-c")));
    assert!(svg.contains("© OpenStreetMap contributors"));
}

#[test]
fn markers_sit_on_the_cluster_grid() {
    let f = chad();
    let view = View::fit(CHAD, W, H);
    let pts = cloud(20_000);
    let c = cluster(pts.iter().copied(), view.cluster_zoom());
    let markers: Vec<Marker> = c
        .cells
        .iter()
        .map(|c| marker(c.lat, c.lon, c.count))
        .collect();
    let svg = render_points(&spec(&f, markers, view));
    let doc = parse(&svg);
    // Where the view puts a point on a W × H map: 256 · 2^z pixels for the world.
    let world = 256.0 * f64::from(1u32 << view.zoom);
    let px = |lat: f64, lon: f64| {
        let s = lat.to_radians().sin();
        let y = 0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * std::f64::consts::PI);
        let x = (lon + 180.0) / 360.0;
        let cx = (view.lon + 180.0) / 360.0;
        let sc = view.lat.to_radians().sin();
        let cy = 0.5 - ((1.0 + sc) / (1.0 - sc)).ln() / (4.0 * std::f64::consts::PI);
        (
            (x - cx) * world + f64::from(W) / 2.0,
            (y - cy) * world + f64::from(H) / 2.0,
        )
    };
    let circles: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "circle")
        .map(|c| {
            (
                c.attribute("cx").unwrap().parse().unwrap(),
                c.attribute("cy").unwrap().parse().unwrap(),
            )
        })
        .collect();
    let bbox = view.bbox(W, H);
    let inside: Vec<_> = c
        .cells
        .iter()
        .filter(|c| {
            bbox.contains(Point {
                lat: c.lat,
                lon: c.lon,
            })
        })
        .collect();
    assert_eq!(circles.len(), inside.len());
    assert!(inside.len() > 100, "{}", inside.len());
    for cell in inside {
        let (x, y) = px(cell.lat, cell.lon);
        assert!(
            circles
                .iter()
                .any(|(cx, cy)| (cx - x).abs() <= 0.051 && (cy - y).abs() <= 0.051),
            "no circle at ({x}, {y})"
        );
        // A cluster is inside its 32-pixel cell.
        let centre = cell_center(cell.key, view.zoom);
        let (cx, cy) = px(centre.lat, centre.lon);
        assert!((x - cx).abs() <= 16.0 + 1e-6 && (y - cy).abs() <= 16.0 + 1e-6);
    }
}

#[test]
fn chad_with_500_markers_stays_small() {
    let f = chad();
    let view = View::fit(CHAD, W, H);
    let bbox = view.bbox(W, H);
    // 500 markers spread over the view, each linked to the view zoomed in on it.
    let markers: Vec<Marker> = (0..500)
        .map(|i| {
            let lat = bbox.south + 0.5 + (i / 25) as f64 * 0.75;
            let lon = bbox.west + 0.3 + (i % 25) as f64 * 0.55;
            let count = 5 + (i * 7919) % 20_000;
            Marker {
                href: Some(format!(
                    "?{}",
                    view.zoom_in_at(Point { lat, lon }).to_query()
                )),
                approximate: i % 10 == 0,
                ..marker(lat, lon, count as u64)
            }
        })
        .collect();
    let svg = render_points(&spec(&f, markers, view));
    eprintln!(
        "Chad, 23 provinces, 500 markers, {W} × {H}: {} bytes",
        svg.len()
    );
    let doc = parse(&svg);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.tag_name().name() == "circle")
            .count(),
        500
    );
    assert!(svg.len() < 120_000, "{} bytes", svg.len());
}

#[test]
fn zoomed_in_maps_write_only_what_shows() {
    let f = chad();
    // N'Djamena at zoom 11: the provinces' borders are cut to the map.
    let view = View::new(11, 12.13, 15.06);
    let svg = render_points(&spec(&f, vec![marker(12.13, 15.06, 9)], view));
    eprintln!("N'Djamena at zoom 11: {} bytes", svg.len());
    assert!(svg.len() < 12_000, "{} bytes", svg.len());
    let doc = parse(&svg);
    let paths: Vec<_> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "path")
        .collect();
    // The city province and its neighbours, not the whole country.
    assert!(!paths.is_empty() && paths.len() < 5, "{}", paths.len());
    // Every absolute move is near the map.
    for p in &paths {
        let d = p.attribute("d").unwrap();
        for m in d.split('M').skip(1) {
            let mut it = m
                .split(|c: char| !(c.is_ascii_digit() || c == '-'))
                .filter(|s| !s.is_empty());
            let x: i64 = it.next().unwrap().parse().unwrap();
            let y: i64 = it.next().unwrap().parse().unwrap();
            assert!(
                (-3..=643).contains(&x) && (-3..=803).contains(&y),
                "{x} {y}"
            );
        }
    }
    assert_eq!(
        doc.descendants()
            .filter(|n| n.tag_name().name() == "circle")
            .count(),
        1
    );
}

#[test]
fn hostile_specs_do_not_break_the_map() {
    let f = chad();
    for view in [
        Viewport {
            south: f64::NAN,
            west: 0.0,
            north: 1.0,
            east: 1.0,
        },
        Viewport::default(),
        Viewport {
            south: 90.0,
            west: 200.0,
            north: -90.0,
            east: -200.0,
        },
    ] {
        let s = PointMapSpec {
            id: "\"><x".into(),
            title: "]]><!--".into(),
            width: 0,
            height: u32::MAX,
            view,
            areas: areas(&f),
            markers: vec![marker(12.0, 15.0, u64::MAX), marker(12.0, 15.0, 1)],
            ..PointMapSpec::default()
        };
        let svg = render_points(&s);
        let doc = parse(&svg);
        assert_eq!(doc.root_element().attribute("id"), Some("x"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.tag_name().name() == "circle")
                .count(),
            2
        );
    }
    // No area, no marker: an empty frame.
    let svg = render_points(&PointMapSpec::default());
    parse(&svg);
    assert!(!svg.contains("<circle"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, failure_persistence: None, ..Default::default() })]
    #[test]
    fn any_markers_and_view_make_a_valid_map(
        view in proptest::array::uniform4(proptest::num::f64::ANY),
        markers in proptest::collection::vec(
            (-100.0f64..100.0, -200.0f64..200.0, proptest::num::u64::ANY, "\\PC{0,12}", proptest::option::of("\\PC{0,12}"), proptest::bool::ANY),
            0..20,
        ),
        width in proptest::num::u32::ANY,
        height in proptest::num::u32::ANY,
    ) {
        let [south, west, north, east] = view;
        let n = markers.len();
        let s = PointMapSpec {
            id: "p".into(),
            title: "t".into(),
            view: Viewport { south, west, north, east },
            markers: markers
                .into_iter()
                .map(|(lat, lon, count, label, href, approximate)| Marker { lat, lon, count, label, href, approximate })
                .collect(),
            width,
            height,
            ..PointMapSpec::default()
        };
        let svg = render_points(&s);
        let doc = roxmltree::Document::parse(&svg).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
        let circles = doc.descendants().filter(|n| n.tag_name().name() == "circle").count();
        proptest::prop_assert!(circles <= n);
        proptest::prop_assert_eq!(render_points(&s), svg);
    }
}
