//! Line and bar charts: well-formed, accessible, escaped, with the expected elements.

use baraza_charts::chart::{render, Chart, Kind, Mark, Point, Series, TargetLine};
use proptest::prelude::*;

const SVG: &str = "http://www.w3.org/2000/svg";

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"))
}

/// Root checks shared by every chart: namespace, role, title and desc first, ids unique.
fn check_root(doc: &roxmltree::Document, id: &str) {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some(SVG));
    assert_eq!(root.attribute("role"), Some("img"));
    let labelled = format!("{id}-t {id}-d");
    assert_eq!(root.attribute("aria-labelledby"), Some(labelled.as_str()));
    let kids: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(kids[0].tag_name().name(), "title");
    assert_eq!(kids[0].attribute("id"), Some(format!("{id}-t").as_str()));
    assert_eq!(kids[1].tag_name().name(), "desc");
    let mut ids: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "duplicate ids");
    assert!(ids.iter().all(|i| i.starts_with(id)));
    assert!(!doc.descendants().any(|n| n.tag_name().name() == "script"));
}

fn groups<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == "g" && n.attribute("class") == Some(class))
        .collect()
}

fn count_in(doc: &roxmltree::Document, class: &str, tag: &str) -> usize {
    groups(doc, class)
        .iter()
        .flat_map(|g| g.children())
        .filter(|n| n.tag_name().name() == tag)
        .count()
}

fn months(n: usize, official: bool) -> Series {
    Series {
        label: if official {
            "Official (INSEED)".into()
        } else {
            "Citizen survey".into()
        },
        official,
        points: (0..n)
            .map(|i| {
                let v = 40.0 + (i as f64 * 1.7).sin() * 12.0 + i as f64;
                Point {
                    x: 2025.0 + i as f64 / 12.0,
                    label: format!("{}-{:02}", 2025 + i / 12, i % 12 + 1),
                    value: Some(v),
                    low: Some(v - 6.0),
                    high: Some(v + 5.0),
                    mark: Mark::Normal,
                }
            })
            .collect(),
    }
}

fn line(series: Vec<Series>) -> Chart {
    Chart {
        id: "water".into(),
        title: "Households with water within 30 minutes".into(),
        desc: "Monthly share of households, 2025–2026, with 95% intervals.".into(),
        unit: "%".into(),
        kind: Kind::Line,
        series,
        target: Some(TargetLine {
            value: 80.0,
            label: "Target 2030: 80%".into(),
        }),
        y_min: None,
        y_max: None,
        width: 640,
        height: 320,
        decimal_comma: false,
        no_data: "No figure to show yet".into(),
    }
}

#[test]
fn a_line_chart_of_24_points_is_small_and_complete() {
    let c = line(vec![months(24, false)]);
    let svg = render(&c);
    let doc = parse(&svg);
    check_root(&doc, "water");
    assert_eq!(count_in(&doc, "w", "path"), 24, "one whisker per point");
    assert_eq!(count_in(&doc, "m", "circle"), 24, "one marker per point");
    assert!(svg.contains("Target 2030: 80%"));
    assert!(svg.len() < 5_000, "{} bytes", svg.len());
    eprintln!("line chart, 24 points with whiskers: {} bytes", svg.len());
    std::fs::write(std::env::temp_dir().join("baraza-line.svg"), &svg).ok();
    // Compact numbers: no coordinate with more than one decimal.
    assert!(!svg
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|t| t.split_once('.').is_some_and(|(_, f)| f.len() > 1)));
}

#[test]
fn the_official_series_is_dashed_with_square_markers_in_chart_and_legend() {
    let c = line(vec![months(12, false), months(12, true)]);
    let svg = render(&c);
    let doc = parse(&svg);
    check_root(&doc, "water");
    assert_eq!(count_in(&doc, "m", "rect"), 12);
    assert_eq!(count_in(&doc, "m", "circle"), 12);
    let dashed: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("stroke-dasharray") == Some("6 3"))
        .collect();
    assert_eq!(dashed.len(), 2, "the official line and its legend sample");
    let legend = &groups(&doc, "k")[0];
    assert!(legend
        .descendants()
        .any(|n| n.attribute("stroke-dasharray") == Some("6 3")));
    let texts: Vec<_> = legend.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.contains(&"Official (INSEED)"));
}

#[test]
fn marks_change_what_is_drawn() {
    let mut s = months(6, false);
    s.points[1].mark = Mark::Suppressed;
    s.points[1].value = Some(12345.678); // must not leak
    s.points[2].mark = Mark::Bracketed;
    s.points[3].mark = Mark::NotRepresentative;
    s.points[4].value = None;
    let svg = render(&line(vec![s]));
    let doc = parse(&svg);
    // 6 points: one suppressed and one missing have no marker; the NR one has no whisker.
    assert_eq!(count_in(&doc, "m", "circle"), 4);
    assert_eq!(count_in(&doc, "w", "path"), 3);
    assert_eq!(count_in(&doc, "x", "text"), 1);
    let hollow = groups(&doc, "m")[0]
        .children()
        .filter(|n| n.attribute("fill") == Some("#fff"))
        .count();
    assert_eq!(hollow, 2);
    assert!(!svg.contains("12345") && !svg.contains("12,345"));
    // The line is broken into three runs: [0], [2, 3], [5].
    let line = doc
        .descendants()
        .find(|n| n.attribute("stroke-width") == Some("2") && n.attribute("fill") == Some("none"))
        .unwrap();
    assert_eq!(line.attribute("d").unwrap().matches('M').count(), 3);
}

#[test]
fn hostile_labels_are_escaped() {
    let evil = "</svg><script>alert('x')</script>&\"\u{0}";
    let mut s = months(3, false);
    s.label = evil.into();
    s.points[0].label = evil.into();
    let mut c = line(vec![s]);
    c.id = "x\"><script>".into();
    c.title = evil.into();
    c.desc = evil.into();
    c.unit = evil.into();
    c.target = Some(TargetLine {
        value: 50.0,
        label: evil.into(),
    });
    for kind in [Kind::Line, Kind::Bar] {
        c.kind = kind;
        let svg = render(&c);
        let doc = parse(&svg);
        check_root(&doc, "xscript");
        assert!(!svg.contains("<script"));
        let title = doc.root_element().first_element_child().unwrap();
        assert_eq!(title.text(), Some("</svg><script>alert('x')</script>&\""));
    }
}

#[test]
fn bars_group_series_and_mark_figures() {
    let cat = |label: &str, v: f64, mark: Mark| Point {
        x: 0.0,
        label: label.into(),
        value: Some(v),
        low: Some(v - 4.0),
        high: Some(v + 4.0),
        mark,
    };
    let citizen = Series {
        label: "Citizen survey".into(),
        official: false,
        points: vec![
            cat("Femme", 62.5, Mark::Normal),
            cat("Homme", 45.0, Mark::Bracketed),
            cat("Autre", 33.3, Mark::Suppressed),
        ],
    };
    let official = Series {
        label: "Officiel".into(),
        official: true,
        points: vec![
            cat("Femme", 58.0, Mark::NotRepresentative),
            cat("Homme", 51.0, Mark::Normal),
        ],
    };
    let c = Chart {
        kind: Kind::Bar,
        decimal_comma: true,
        ..line(vec![citizen, official])
    };
    let svg = render(&c);
    std::fs::write(std::env::temp_dir().join("baraza-bars.svg"), &svg).ok();
    let doc = parse(&svg);
    check_root(&doc, "water");
    assert_eq!(count_in(&doc, "b", "rect"), 5);
    // Whiskers: not on the suppressed nor on the not-representative bar.
    assert_eq!(count_in(&doc, "w", "path"), 3);
    let labels: Vec<_> = groups(&doc, "v")
        .iter()
        .flat_map(|g| g.children().filter_map(|n| n.text()))
        .collect();
    assert_eq!(labels, ["62,5", "(45)", "58", "51"]);
    // The suppressed bar is hatched with the chart's own pattern, and crossed.
    assert!(doc
        .descendants()
        .any(|n| n.tag_name().name() == "pattern" && n.attribute("id") == Some("water-h")));
    assert!(svg.contains("fill=\"url(#water-h)\""));
    assert_eq!(count_in(&doc, "x", "text"), 1);
    // French tick labels.
    assert!(svg.contains("\u{202f}%<"));
    assert!(
        !doc.descendants()
            .filter_map(|n| n.text())
            .any(|t| t.contains("33")),
        "the suppressed value leaks nowhere"
    );
}

#[test]
fn no_figure_gives_the_message() {
    let mut s = months(3, false);
    for p in &mut s.points {
        p.value = None;
    }
    let svg = render(&line(vec![s]));
    let doc = parse(&svg);
    check_root(&doc, "water");
    assert!(svg.contains(">No figure to show yet</text>"));
    let svg = render(&line(vec![]));
    assert!(parse(&svg).root_element().has_children());
}

#[test]
fn axes_cope_with_equal_negative_huge_and_tiny_values_and_overrides() {
    let one = |values: &[f64]| Series {
        label: String::new(),
        official: false,
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                x: 2020.0 + i as f64,
                label: format!("{}", 2020 + i),
                value: Some(*v),
                ..Point::default()
            })
            .collect(),
    };
    let cases: [&[f64]; 7] = [
        &[5.0, 5.0, 5.0],
        &[0.0, 0.0],
        &[-12.0, 3.0, -40.0],
        &[1e12, 3e12, 2.5e12],
        &[1e-9, 3e-9],
        &[1e300, -1e300, f64::MAX],
        &[f64::NAN, f64::INFINITY, 4.0],
    ];
    for kind in [Kind::Line, Kind::Bar] {
        for values in cases {
            let mut c = line(vec![one(values)]);
            c.kind = kind;
            c.unit = String::new();
            c.target = None;
            let svg = render(&c);
            parse(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }
    // Overrides: the axis runs from 0 to 100 and data outside is clipped.
    let mut c = line(vec![one(&[20.0, 140.0, 60.0])]);
    c.y_min = Some(0.0);
    c.y_max = Some(100.0);
    let svg = render(&c);
    let doc = parse(&svg);
    assert!(svg.contains(">100%</text>") && svg.contains(">0%</text>"));
    assert!(!svg.contains(">120%<"));
    assert!(doc.descendants().any(|n| n.tag_name().name() == "clipPath"));
    // Percentages do not go past 100 nor under 0 on their own.
    let svg = render(&line(vec![one(&[2.0, 97.0])]));
    assert!(!svg.contains(">120%<") && !svg.contains("\u{2212}20%"));
}

#[test]
fn rendering_is_deterministic() {
    let c = line(vec![months(24, false), months(24, true)]);
    assert_eq!(render(&c), render(&c.clone()));
}

#[test]
fn long_spans_are_ticked_by_year_and_files_get_a_prolog() {
    let mut s = months(1, false);
    s.points = (0..9)
        .map(|i| Point {
            x: 2015.5 + i as f64,
            label: format!("{}", 2015 + i),
            value: Some(i as f64),
            ..Point::default()
        })
        .collect();
    let svg = render(&line(vec![s]));
    let doc = parse(&svg);
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        texts.contains(&"2016") && texts.contains(&"2020"),
        "{texts:?}"
    );
    let file = baraza_charts::standalone(&svg);
    assert!(file.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="));
    parse(&file);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn any_chart_is_well_formed(
        values in proptest::collection::vec(
            (proptest::option::of(-1e9f64..1e9), 0u8..4, proptest::option::of(0.0f64..1e3)), 0..30),
        bar in any::<bool>(),
        official in any::<bool>(),
        y_min in proptest::option::of(-1e3f64..1e3),
        y_max in proptest::option::of(-1e3f64..1e3),
        label in ".{0,12}",
    ) {
        let points = values.iter().enumerate().map(|(i, (v, m, e))| Point {
            x: 2000.0 + i as f64 * 0.25,
            label: format!("{label}{i}"),
            value: *v,
            low: v.zip(*e).map(|(v, e)| v - e),
            high: v.zip(*e).map(|(v, e)| v + e),
            mark: [Mark::Normal, Mark::Bracketed, Mark::Suppressed, Mark::NotRepresentative][*m as usize],
        }).collect();
        let mut c = line(vec![Series { label: label.clone(), official, points }]);
        c.kind = if bar { Kind::Bar } else { Kind::Line };
        c.y_min = y_min;
        c.y_max = y_max;
        c.title = label;
        let svg = render(&c);
        let doc = parse(&svg);
        check_root(&doc, "water");
        prop_assert!(!svg.contains("NaN"));
    }
}
