//! A dataset page's schema.org `Dataset` JSON-LD, for search engines (Google Dataset Search
//! reads it).
//!
//! The description follows schema.org's `Dataset`: name, description, URL, identifier,
//! keywords, licence (a URL), the organisation as creator and publisher, creation and
//! modification dates, temporal coverage as an ISO 8601 interval (`start/end`, `..` for an open
//! end), spatial coverage as its readable label, one `DataDownload` per resource, free access.
//!
//! The JSON is meant for an HTML `<script type="application/ld+json">` element, whose content
//! ends at the first `</script>` whatever JSON thinks of it. So `<`, `>` and `&` are written as
//! `\u003c`, `\u003e` and `\u0026` (and the line separators U+2028 and U+2029 as escapes too):
//! the same JSON to a parser, and no title can close the script or open a comment.

use crate::dcat::{dataset_uri, download_url, licence_uri, organisation_uri};
use crate::time::iso_timestamp;
use baraza_catalogue::Dataset;
use serde_json::{json, Map, Value};

/// The JSON-LD, as a value (not yet escaped for HTML).
pub fn value(base: &str, d: &Dataset) -> Value {
    let base = base.trim_end_matches('/');
    let url = dataset_uri(base, d);
    let org = json!({
        "@type": "Organization",
        "name": d.organisation.title,
        "url": organisation_uri(base, &d.organisation.name),
    });
    let mut m = Map::new();
    m.insert("@context".into(), json!("https://schema.org/"));
    m.insert("@type".into(), json!("Dataset"));
    m.insert("@id".into(), json!(url));
    m.insert("name".into(), json!(d.title));
    m.insert(
        "description".into(),
        json!(if d.notes.trim().is_empty() {
            &d.title
        } else {
            &d.notes
        }),
    );
    m.insert("url".into(), json!(url));
    m.insert("identifier".into(), json!(d.id));
    if !d.tags.is_empty() {
        m.insert("keywords".into(), json!(d.tags));
    }
    if let Some(l) = licence_uri(base, &d.license_id) {
        m.insert("license".into(), json!(l));
    }
    m.insert("creator".into(), org.clone());
    m.insert("publisher".into(), org);
    m.insert("dateCreated".into(), json!(iso_timestamp(d.created)));
    m.insert("dateModified".into(), json!(iso_timestamp(d.modified)));
    if !d.version.is_empty() {
        m.insert("version".into(), json!(d.version));
    }
    if !d.temporal_start.is_empty() || !d.temporal_end.is_empty() {
        let end = |s: &str| {
            if s.is_empty() {
                "..".to_string()
            } else {
                s.to_string()
            }
        };
        m.insert(
            "temporalCoverage".into(),
            json!(format!(
                "{}/{}",
                end(&d.temporal_start),
                end(&d.temporal_end)
            )),
        );
    }
    let spatial = if d.spatial_label.is_empty() {
        d.spatial.join(", ")
    } else {
        d.spatial_label.clone()
    };
    if !spatial.is_empty() {
        m.insert("spatialCoverage".into(), json!(spatial));
    }
    let downloads: Vec<Value> = d
        .resources
        .iter()
        .map(|r| {
            let mut dl = Map::new();
            dl.insert("@type".into(), json!("DataDownload"));
            dl.insert(
                "name".into(),
                json!(if r.name.is_empty() {
                    &r.file_name
                } else {
                    &r.name
                }),
            );
            if !r.description.is_empty() {
                dl.insert("description".into(), json!(r.description));
            }
            dl.insert(
                "encodingFormat".into(),
                json!(if r.media_type.is_empty() {
                    &r.format
                } else {
                    &r.media_type
                }),
            );
            dl.insert("contentUrl".into(), json!(download_url(base, d, r)));
            if let Some(size) = r.size.filter(|s| *s >= 0) {
                dl.insert("contentSize".into(), json!(format!("{size} B")));
            }
            Value::Object(dl)
        })
        .collect();
    if !downloads.is_empty() {
        m.insert("distribution".into(), json!(downloads));
    }
    m.insert(
        "includedInDataCatalog".into(),
        json!({"@type": "DataCatalog", "url": format!("{base}/catalog")}),
    );
    m.insert("isAccessibleForFree".into(), json!(true));
    Value::Object(m)
}

/// The JSON-LD as text safe inside `<script type="application/ld+json">`.
pub fn dataset(base: &str, d: &Dataset) -> String {
    // Serialising a Value (string keys) cannot fail.
    let json = serde_json::to_string_pretty(&value(base, d)).unwrap_or_default();
    script_safe(&json)
}

/// JSON with `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes. These characters can only be
/// inside JSON strings, where the escape means the same character.
pub fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcat::tests::sample_dataset;

    #[test]
    fn dataset_json_ld() {
        let d = sample_dataset("points-eau", "Points d'eau");
        let v: Value =
            serde_json::from_str(&dataset("https://data.example.org", &d)).expect("JSON");
        assert_eq!(v["@context"], "https://schema.org/");
        assert_eq!(v["@type"], "Dataset");
        assert_eq!(v["url"], "https://data.example.org/dataset/points-eau");
        assert_eq!(v["license"], "https://creativecommons.org/licenses/by/4.0/");
        assert_eq!(v["publisher"]["@type"], "Organization");
        assert_eq!(v["creator"]["name"], "Eau Tchad");
        assert_eq!(v["temporalCoverage"], "2026-01-01/2026-06-30");
        assert_eq!(v["spatialCoverage"], "Tchad");
        assert_eq!(v["keywords"], json!(["eau", "water points"]));
        assert_eq!(v["distribution"][0]["@type"], "DataDownload");
        assert_eq!(v["distribution"][0]["encodingFormat"], "text/csv");
        assert!(v["distribution"][0]["contentUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/download")));
        assert_eq!(v["isAccessibleForFree"], true);
        assert_eq!(v["dateModified"], iso_timestamp(d.modified));
    }

    #[test]
    fn script_cannot_be_closed() {
        let mut d = sample_dataset("x-1", "</script><script>alert(1)</script> & <!--");
        d.notes = "a\u{2028}b".into();
        d.temporal_end.clear();
        let s = dataset("https://data.example.org", &d);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}'));
        assert!(s.contains("\\u003c/script\\u003e"));
        let v: Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(v["name"], "</script><script>alert(1)</script> & <!--");
        assert_eq!(v["description"], "a\u{2028}b");
        assert_eq!(v["temporalCoverage"], "2026-01-01/..");
    }
}
