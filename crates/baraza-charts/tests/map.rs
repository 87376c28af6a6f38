//! Choropleth of Chad's 23 provinces (ODbL: see `crates/baraza/demo/boundaries/TCD-adm1.SOURCE.md`).

use baraza_charts::chart::Mark;
use baraza_charts::geo::{read_geojson, Feature, Limits};
use baraza_charts::map::{classes, render, Area, MapSpec};

const TCD: &[u8] = include_bytes!("../../baraza/demo/boundaries/TCD-adm1.geojson");
const ATTRIBUTION: &str = "Chad provinces: © OpenStreetMap contributors (ODbL 1.0), via geoBoundaries (www.geoboundaries.org), boundary TCD-ADM1-23847190.";

fn chad() -> Vec<Feature> {
    read_geojson(TCD, &Limits::default()).unwrap()
}

fn spec(features: &[Feature]) -> MapSpec<'_> {
    let areas = features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let v = 20.0 + (i as f64 * 37.0) % 70.0;
            let mark = match i {
                3 => Mark::Suppressed,
                5 => Mark::NotRepresentative,
                7 => Mark::Bracketed,
                _ => Mark::Normal,
            };
            Area {
                code: &f.properties["iso_3166_2"],
                name: &f.properties["name"],
                polygons: &f.polygons,
                value: if i == 9 { None } else { Some(v) },
                label: if i == 7 {
                    format!("({v:.0} %)")
                } else {
                    format!("{v:.0} %")
                },
                mark,
                href: Some(format!(
                    "?province={}&year=2026",
                    f.properties["iso_3166_2"]
                )),
            }
        })
        .collect();
    MapSpec {
        id: "map-water".into(),
        title: "Households with water within 30 minutes, by province".into(),
        desc: "Share of households, 2026; darker is better.".into(),
        legend_title: "Share of households (%)".into(),
        no_data_label: "no data or suppressed".into(),
        not_representative_label: "not representative".into(),
        attribution: ATTRIBUTION.into(),
        areas,
        classes: 5,
        higher_is_better: true,
        width: 360,
        decimal_comma: false,
    }
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"))
}

#[test]
fn chad_map_is_small_complete_and_accessible() {
    let f = chad();
    let m = spec(&f);
    let svg = render(&m);
    std::fs::write(std::env::temp_dir().join("baraza-map.svg"), &svg).ok();
    eprintln!(
        "Chad map, 23 provinces, {} px wide: {} bytes",
        m.width,
        svg.len()
    );
    let wide = render(&MapSpec {
        width: 640,
        ..spec(&f)
    });
    eprintln!("Chad map, 640 px wide: {} bytes", wide.len());
    assert!(svg.len() < 15_000, "{} bytes", svg.len());
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(root.attribute("role"), Some("img"));
    assert_eq!(
        root.attribute("aria-labelledby"),
        Some("map-water-t map-water-d")
    );
    let kids: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(kids[0].tag_name().name(), "title");
    assert_eq!(kids[1].tag_name().name(), "desc");
    let area_group = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("a"))
        .unwrap();
    let paths: Vec<_> = area_group
        .descendants()
        .filter(|n| n.tag_name().name() == "path")
        .collect();
    assert_eq!(paths.len(), 23);
    let links = area_group
        .children()
        .filter(|n| n.tag_name().name() == "a")
        .count();
    assert_eq!(links, 23);
    assert!(svg.contains("href=\"?province=TD-BA&amp;year=2026\""));
    // Each area titled "Name: label".
    let tips: Vec<&str> = paths
        .iter()
        .map(|p| p.first_element_child().unwrap().text().unwrap())
        .collect();
    assert!(tips.contains(&"Batha: 20 %"));
    assert!(tips.iter().any(|t| t.ends_with("(not representative)")));
    assert_eq!(
        tips.iter()
            .filter(|t| t.ends_with(": no data or suppressed"))
            .count(),
        2
    );
    // The hatch is defined once with the map's prefix and used by both areas without figure.
    let hatched = paths
        .iter()
        .filter(|p| p.attribute("fill") == Some("url(#map-water-h)"))
        .count();
    assert_eq!(hatched, 2);
    assert!(doc
        .descendants()
        .any(|n| n.tag_name().name() == "pattern" && n.attribute("id") == Some("map-water-h")));
    // Suppressed value never shown.
    let suppressed_value = 20.0 + (3.0f64 * 37.0) % 70.0;
    assert!(!tips
        .iter()
        .any(|t| t.contains(&format!("{suppressed_value:.0} %"))));
    // Not representative: coloured, dashed outline.
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.attribute("stroke-dasharray") == Some("3 2"))
            .count(),
        1
    );
    assert!(svg.contains("© OpenStreetMap contributors"));
    // Legend: class ranges, no data, not representative.
    let legend = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("k"))
        .unwrap();
    let entries: Vec<&str> = legend.children().filter_map(|n| n.text()).collect();
    assert!(entries.contains(&"no data or suppressed"));
    assert!(entries.contains(&"not representative"));
    assert_eq!(render(&m), svg, "deterministic");
}

#[test]
fn palette_is_dark_for_good_either_way() {
    let f = chad();
    let mut m = spec(&f);
    for a in &mut m.areas {
        a.mark = Mark::Normal;
        a.value = Some(if a.code == "TD-BA" { 99.0 } else { 1.0 });
    }
    let fill_of_batha = |m: &MapSpec| {
        let svg = render(m);
        let doc = parse(&svg);
        doc.descendants()
            .find(|n| {
                n.tag_name().name() == "path"
                    && n.first_element_child()
                        .and_then(|t| t.text())
                        .is_some_and(|t| t.starts_with("Batha"))
            })
            .and_then(|n| n.attribute("fill"))
            .unwrap()
            .to_string()
    };
    let better_high = fill_of_batha(&m);
    m.higher_is_better = false;
    let better_low = fill_of_batha(&m);
    assert_ne!(better_high, better_low);
    assert!(["#253494", "#2c7fb8", "#0c2c84", "#225ea8"].contains(&better_high.as_str()));
}

#[test]
fn hostile_names_and_links_are_escaped() {
    let f = chad();
    let mut m = spec(&f);
    let evil = "</svg><script>alert(1)</script>\"'&";
    m.areas[0].name = evil;
    m.areas[0].href = Some(format!("javascript:\"{evil}"));
    m.title = evil.into();
    m.legend_title = evil.into();
    m.attribution = evil.into();
    m.id = evil.into();
    let svg = render(&m);
    parse(&svg);
    assert!(!svg.contains("<script"));
    assert!(
        !svg.contains("javascript:"),
        "only relative and http(s) links"
    );
    m.areas[0].href = Some(" JavaScript:alert(1)".into());
    m.areas[1].href = Some("data:text/html,x".into());
    m.areas[2].href = Some("https://example.org/TD-BA?a=1".into());
    let svg = render(&m);
    assert!(!svg.contains("JavaScript:") && !svg.contains("data:"));
    assert!(svg.contains("href=\"https://example.org/TD-BA?a=1\""));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]
    #[test]
    fn any_values_make_a_valid_map(
        values in proptest::collection::vec((proptest::option::of(-1e6f64..1e6), 0u8..4), 23),
        classes_wanted in 0usize..10,
        higher in proptest::bool::ANY,
    ) {
        let f = chad();
        let mut m = spec(&f);
        m.classes = classes_wanted;
        m.higher_is_better = higher;
        for (a, (v, k)) in m.areas.iter_mut().zip(&values) {
            a.value = *v;
            a.mark = [Mark::Normal, Mark::Bracketed, Mark::Suppressed, Mark::NotRepresentative][*k as usize];
        }
        let svg = render(&m);
        let doc = parse(&svg);
        let paths = doc.descendants().filter(|n| n.tag_name().name() == "path" && n.parent().is_some_and(|p| p.tag_name().name() == "a")).count();
        proptest::prop_assert_eq!(paths, 23);
        let shown: Vec<f64> = m.areas.iter().filter(|a| a.mark != Mark::Suppressed).filter_map(|a| a.value).collect();
        if let Some(c) = classes(&shown, classes_wanted, false) {
            proptest::prop_assert!(c.lower.len() <= classes_wanted.clamp(3, 7));
            proptest::prop_assert!(c.lower.windows(2).all(|w| w[0] < w[1]));
        }
    }
}

#[test]
fn classes_are_quantiles_with_many_values_and_nice_intervals_with_few() {
    let few = classes(&[12.0, 47.0, 63.0, 88.0], 5, false).unwrap();
    assert_eq!(few.lower, vec![0.0, 20.0, 40.0, 60.0, 80.0]);
    assert_eq!(few.labels[1], "20\u{2013}40");
    let many: Vec<f64> = (0..40).map(|i| i as f64).collect();
    let q = classes(&many, 4, true).unwrap();
    assert_eq!(q.lower, vec![0.0, 10.0, 20.0, 30.0]);
    assert_eq!(q.labels[0], "0\u{2013}9");
    let same = classes(&[5.0; 30], 5, false).unwrap();
    assert_eq!(same.lower.len(), 1);
    assert!(classes(&[], 5, false).is_none());
    // Ties stay in one class.
    let mut tied = vec![1.0; 30];
    tied.extend([2.0, 3.0]);
    let t = classes(&tied, 3, false).unwrap();
    assert_eq!(t.of(1.0), 0);
    assert!(t.lower.len() <= 3);
}

#[test]
fn a_map_without_areas_is_still_valid() {
    let m = MapSpec {
        id: "m".into(),
        no_data_label: "Nothing to show".into(),
        width: 300,
        classes: 5,
        ..MapSpec::default()
    };
    let svg = render(&m);
    parse(&svg);
    assert!(svg.contains("Nothing to show"));
}
