//! Reading and simplifying real boundaries (Chad's 23 provinces, ODbL: see
//! `crates/baraza/demo/boundaries/TCD-adm1.SOURCE.md`), and refusing hostile files.

use baraza_charts::geo::{
    bbox, bbox_of, property, read_geojson, round, simplify, vertex_count, Feature, GeoError,
    Limits, DISPLAY_TOLERANCE,
};

const TCD: &[u8] = include_bytes!("../../baraza/demo/boundaries/TCD-adm1.geojson");

fn chad() -> Vec<Feature> {
    read_geojson(TCD, &Limits::default()).expect("Chad's provinces")
}

/// The GeoJSON a set of features would be stored as (coordinates rounded to 5 decimals).
fn stored_size(features: &[Feature]) -> usize {
    features
        .iter()
        .map(|f| {
            serde_json::json!({"type": "Feature", "properties": f.properties,
                "geometry": {"type": "MultiPolygon", "coordinates": round(&f.polygons, 5)}})
            .to_string()
            .len()
        })
        .sum()
}

#[test]
fn chad_has_23_provinces_with_names_and_codes() {
    let f = chad();
    assert_eq!(f.len(), 23);
    let mut codes: Vec<&str> = (0..f.len())
        .map(|i| property(&f, i, "iso_3166_2").unwrap())
        .collect();
    codes.dedup();
    assert_eq!(codes.len(), 23);
    assert!(codes.iter().all(|c| c.starts_with("TD-")));
    assert_eq!(property(&f, 0, "name").unwrap(), "Batha");
    let total: usize = f.iter().map(|f| vertex_count(&f.polygons)).sum();
    assert_eq!(total, 11_918);
    let b = bbox(&f).unwrap();
    assert!(
        (b[0] - 13.473).abs() < 1e-3 && (b[3] - 23.497).abs() < 1e-3,
        "{b:?}"
    );
}

#[test]
fn display_simplification_cuts_vertices_and_keeps_shape() {
    let f = chad();
    let before: usize = f.iter().map(|f| vertex_count(&f.polygons)).sum();
    let simple: Vec<Feature> = f
        .iter()
        .map(|f| Feature {
            properties: f.properties.clone(),
            polygons: simplify(&f.polygons, DISPLAY_TOLERANCE),
        })
        .collect();
    let after: usize = simple.iter().map(|f| vertex_count(&f.polygons)).sum();
    let (raw, small) = (stored_size(&f), stored_size(&simple));
    eprintln!(
        "Chad at {DISPLAY_TOLERANCE}°: {before} → {after} vertices, {raw} → {small} bytes of GeoJSON"
    );
    assert!(after * 4 < before, "{before} → {after}");
    assert!(small < 60_000, "{small} bytes");
    for (a, b) in f.iter().zip(&simple) {
        assert!(!b.polygons.is_empty());
        for ring in b.polygons.iter().flatten() {
            assert!(ring.len() >= 4);
            assert_eq!(ring.first(), ring.last());
        }
        // Only vertices of the original remain.
        let orig: Vec<[f64; 2]> = a.polygons.iter().flatten().flatten().copied().collect();
        assert!(b
            .polygons
            .iter()
            .flatten()
            .flatten()
            .all(|p| orig.contains(p)));
        let (ba, bb) = (bbox_of(&a.polygons).unwrap(), bbox_of(&b.polygons).unwrap());
        for k in 0..4 {
            assert!((ba[k] - bb[k]).abs() <= DISPLAY_TOLERANCE, "{ba:?} {bb:?}");
        }
    }
    // Even an absurd tolerance keeps every province.
    for a in &f {
        let s = simplify(&a.polygons, 100.0);
        assert_eq!(s.len(), 1);
        assert_eq!(bbox_of(&s), bbox_of(&a.polygons));
    }
}

#[test]
fn bare_feature_and_geometry_and_null_geometry() {
    let poly = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
    let f = read_geojson(poly.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(vertex_count(&f[0].polygons), 4);
    let feat = format!(
        r#"{{"type":"Feature","properties":{{"name":"A","pop":12.5,"x":null,"o":{{}}}},"geometry":{poly}}}"#
    );
    let f = read_geojson(feat.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(f[0].properties.get("pop").map(String::as_str), Some("12.5"));
    assert_eq!(f[0].properties.len(), 2);
    let multi = r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#;
    let f = read_geojson(multi.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(f[0].polygons.len(), 2);
    assert_eq!(f[0].polygons[0][0].len(), 4, "an open ring is closed");
    let null = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"N"},"geometry":null}]}"#;
    let f = read_geojson(null.as_bytes(), &Limits::default()).unwrap();
    assert!(f[0].polygons.is_empty());
    assert!(simplify(&f[0].polygons, 0.1).is_empty());
}

fn err(json: &str) -> GeoError {
    read_geojson(json.as_bytes(), &Limits::default()).unwrap_err()
}

fn collection(geometry: &str) -> String {
    let ok = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#;
    format!(
        r#"{{"type":"FeatureCollection","features":[{ok},{{"type":"Feature","properties":{{}},"geometry":{geometry}}}]}}"#
    )
}

#[test]
fn hostile_and_wrong_files_are_refused_with_context() {
    assert!(matches!(
        err(&collection(r#"{"type":"Point","coordinates":[1,2]}"#)),
        GeoError::UnsupportedGeometry { feature: 1, ref kind } if kind == "Point"
    ));
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,"x"],[1,1],[0,0]]]}"#
        )),
        GeoError::BadCoordinate {
            feature: 1,
            vertex: 1,
            ..
        }
    ));
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}"#
        )),
        GeoError::BadCoordinate { feature: 1, .. }
    ));
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#
        )),
        GeoError::BadRing { feature: 1, .. }
    ));
    assert!(matches!(
        err(&collection(r#"{"type":"Polygon","coordinates":{"a":1}}"#)),
        GeoError::BadFeature { feature: 1, .. }
    ));
    // NaN is not JSON; huge numbers are out of f64's range; both refused by the parser.
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,NaN],[1,0],[1,1],[0,0]]]}"#
        )),
        GeoError::Json(_)
    ));
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,1e999],[1,0],[1,1],[0,0]]]}"#
        )),
        GeoError::Json(_)
    ));
    assert!(matches!(
        err(&collection(
            r#"{"type":"Polygon","coordinates":[[[0,1e300],[1,0],[1,1],[0,0]]]}"#
        )),
        GeoError::BadCoordinate { .. }
    ));
    // Deep nesting.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(err(&deep), GeoError::Json(_)));
    let deep = collection(&format!(
        r#"{{"type":"Polygon","coordinates":{}{}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    ));
    assert!(matches!(err(&deep), GeoError::Json(_)));
    // Not GeoJSON.
    assert!(matches!(err(r#"{"features":[]}"#), GeoError::NotGeoJson(_)));
    assert!(matches!(err("[1,2]"), GeoError::NotGeoJson(_)));
    assert!(matches!(
        err(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{}}]}"#),
        GeoError::BadFeature { feature: 0, .. }
    ));
}

#[test]
fn limits_are_enforced() {
    let small = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        read_geojson(TCD, &small),
        Err(GeoError::TooLarge { .. })
    ));
    let few = Limits {
        max_features: 10,
        ..Limits::default()
    };
    assert_eq!(
        read_geojson(TCD, &few),
        Err(GeoError::TooManyFeatures { max: 10 })
    );
    let thin = Limits {
        max_vertices: 5_000,
        ..Limits::default()
    };
    assert!(matches!(
        read_geojson(TCD, &thin),
        Err(GeoError::TooManyVertices { max: 5_000, .. })
    ));
    // Many vertices in one ring, refused before the ring is converted.
    let ring: Vec<String> = (0..20_000).map(|i| format!("[{},0]", i % 100)).collect();
    let json = format!(
        r#"{{"type":"Polygon","coordinates":[[{}]]}}"#,
        ring.join(",")
    );
    assert!(matches!(
        read_geojson(json.as_bytes(), &thin),
        Err(GeoError::TooManyVertices { .. })
    ));
    // Numbers hidden in a property are counted too.
    let many: Vec<String> = (0..300_000).map(|i| (i % 10).to_string()).collect();
    let json = format!(
        r#"{{"type":"Feature","properties":{{"x":[{}]}},"geometry":null}}"#,
        many.join(",")
    );
    assert!(matches!(
        read_geojson(json.as_bytes(), &thin),
        Err(GeoError::TooManyNumbers { .. })
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, failure_persistence: None, ..Default::default() })]
    /// Simplification only removes vertices, keeps rings closed, never empties an area.
    #[test]
    fn simplify_only_removes(
        rings in proptest::collection::vec(proptest::collection::vec((-10.0f64..10.0, -10.0f64..10.0), 3..60), 1..4),
        tolerance in 0.0f64..5.0,
    ) {
        let polygons: Vec<Vec<baraza_charts::geo::Ring>> = rings.iter().map(|r| {
            let mut ring: baraza_charts::geo::Ring = r.iter().map(|(x, y)| [*x, *y]).collect();
            ring.push(ring[0]);
            vec![ring]
        }).collect();
        let s = simplify(&polygons, tolerance);
        proptest::prop_assert!(!s.is_empty());
        let all: Vec<[f64; 2]> = polygons.iter().flatten().flatten().copied().collect();
        for ring in s.iter().flatten() {
            proptest::prop_assert!(ring.len() >= 4);
            proptest::prop_assert_eq!(ring.first(), ring.last());
            proptest::prop_assert!(ring.iter().all(|p| all.contains(p)));
        }
        proptest::prop_assert!(vertex_count(&s) <= vertex_count(&polygons));
        let r = round(&polygons, 2);
        proptest::prop_assert!(!r.is_empty());
    }
}
