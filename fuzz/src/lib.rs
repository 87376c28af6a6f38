//! What the fuzz targets share: real form models and the properties every result must have.
//!
//! The models are the demo's water-point survey (groups, a repeat, selects, a geopoint,
//! integers and decimals with constraints, dates and times) and the inspection form of the ODK
//! Collect conversation test (photos), compiled from their XLSForms as the server compiles them.

use baraza_openrosa::{Submission, Typed, TypedValue};
use baraza_xlsform::Form;
use std::collections::HashSet;
use std::sync::OnceLock;

const SURVEY: &[u8] = include_bytes!("../../crates/baraza/demo/points-eau.md");
const INSPECTION: &[u8] =
    include_bytes!("../../crates/baraza/tests/it/fixtures/collect/inspection_pompe.md");
/// Submissions of those forms, as ODK Collect sends them: their paths are the fuzzers' words.
pub const SAMPLES: &[&[u8]] = &[
    include_bytes!("../../crates/baraza/tests/it/fixtures/collect/points_eau.xml"),
    include_bytes!("../../crates/baraza/tests/it/fixtures/collect/inspection.xml"),
    include_bytes!("../../crates/baraza/tests/it/fixtures/collect/inspection-edit.xml"),
];

/// The forms, compiled once.
pub fn forms() -> &'static [Form] {
    static FORMS: OnceLock<Vec<Form>> = OnceLock::new();
    FORMS.get_or_init(|| {
        [(SURVEY, "points-eau.md"), (INSPECTION, "inspection_pompe.md")]
            .iter()
            .map(|(bytes, name)| {
                let compiled = baraza_xlsform::compile_file(bytes, name);
                assert!(!compiled.has_errors(), "{name} must compile");
                compiled.form.expect("a compiled form")
            })
            .collect()
    })
}

/// Every path of the sample submissions, and the paths of their parents.
pub fn known_paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut out: Vec<String> = Vec::new();
        for xml in SAMPLES {
            let sub = baraza_openrosa::parse_submission(xml, &Default::default())
                .expect("the samples parse");
            for v in sub.values {
                let mut p = v.path.as_str();
                while let Some((parent, _)) = p.rsplit_once('/') {
                    if !out.iter().any(|o| o == p) {
                        out.push(p.to_owned());
                    }
                    p = parent;
                }
            }
        }
        out
    })
}

/// A character XML 1.0 allows (the parser promises nothing else gets through).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn valid_segment(seg: &str) -> bool {
    let name = match seg.strip_suffix(']') {
        Some(s) => match s.split_once('[') {
            Some((name, n)) => {
                if n.parse::<usize>().map_or(true, |n| n == 0) || n.starts_with('0') {
                    return false;
                }
                name
            }
            None => return false,
        },
        None => seg,
    };
    !name.is_empty() && !name.contains(['/', '[', ']', ':'])
}

/// What a parsed submission always satisfies.
pub fn check_parsed(sub: &Submission) {
    assert!(!sub.instance_id.is_empty());
    assert_eq!(
        sub.instance_id,
        sub.instance_id.trim_matches([' ', '\t', '\n', '\r'])
    );
    assert!(!sub.form_id.is_empty());
    assert!(!sub.root.is_empty() && !sub.root.contains(':'));
    let prefix = format!("/{}/", sub.root);
    let mut seen = HashSet::new();
    for v in &sub.values {
        assert!(v.path.starts_with(&prefix), "{} outside the root", v.path);
        assert!(
            v.path[1..].split('/').all(valid_segment),
            "bad path {}",
            v.path
        );
        assert!(seen.insert(v.path.as_str()), "{} twice", v.path);
        assert!(v.value.chars().all(xml_char), "a forbidden character");
    }
    for s in [&sub.instance_id, &sub.form_id]
        .into_iter()
        .chain(sub.version.as_ref())
        .chain(sub.deprecated_id.as_ref())
        .chain(sub.instance_name.as_ref())
    {
        assert!(s.chars().all(xml_char), "a forbidden character");
    }
}

/// What typed values always satisfy.
pub fn check_typed(values: &[TypedValue]) {
    let mut seen = HashSet::new();
    for v in values {
        assert!(seen.insert(v.path.as_str()), "{} twice", v.path);
        if let Some(r) = &v.repeat {
            assert!(
                v.path.starts_with(&format!("{r}/")),
                "{} not inside its repeat {r}",
                v.path
            );
        }
        match &v.value {
            Typed::Decimal(d) => assert!(d.is_finite()),
            Typed::Geopoint { lat, lon, alt, acc } => {
                assert!((-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon));
                assert!(alt.is_none_or(f64::is_finite) && acc.is_none_or(f64::is_finite));
            }
            Typed::Geotrace(points) => assert!(points
                .iter()
                .all(|(a, b)| (-90.0..=90.0).contains(a) && (-180.0..=180.0).contains(b))),
            Typed::File(name) => assert!(baraza_openrosa::safe_attachment_name(name)),
            _ => {}
        }
    }
    for name in baraza_openrosa::attachment_names(values) {
        assert!(baraza_openrosa::safe_attachment_name(&name));
    }
}
