//! A dataset as a Frictionless Data Package v2 descriptor (`datapackage.json`).
//!
//! The [Data Package](https://datapackage.org/standard/data-package/) is how a dataset travels
//! with its own documentation: frictionless-py, Open Knowledge's tools and many portals read it
//! to load the tables with their column types. The descriptor written here follows version 2:
//!
//! * the package: `$schema` (the v2 profile), `name` (the dataset's URL name), `id`, `title`,
//!   `description`, `version`, `created`, `homepage`, `keywords`, `licenses` (left out when no
//!   licence was chosen) and `contributors` (the organisation as publisher, the maintainer as
//!   contact);
//! * each resource: a `name` that is unique in the package and of `[a-z0-9._-]` (made from the
//!   resource's name, accents folded), an absolute `path` (the download URL), `title`,
//!   `description`, lower-case `format`, `mediatype`, `bytes` and `hash` (`sha256:<hex>`);
//! * a tabular resource (one with columns) is `"type": "table"` with a Table Schema v2 `schema`
//!   whose fields carry their HXL hashtag in a custom `hxl` property, and a CSV one has its
//!   `dialect` (with `commentRows: [2]` when it is HXL-tagged: the hashtag row follows the
//!   header).
//!
//! Column types outside Table Schema's list are written as `any`, so the descriptor itself stays
//! valid; [`problems`] says so, with the other things that make the package unusable (no
//! resources, empty or repeated column names, a resource without a usable name). The quality
//! score counts a package with no problem.

use crate::dcat::{download_url, organisation_uri};
use crate::time::iso_timestamp;
use baraza_catalogue::fold::fold;
use baraza_catalogue::licences::licence;
use baraza_catalogue::model::valid_name;
use baraza_catalogue::{Dataset, Resource};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// The profile a v2 descriptor declares.
pub const PROFILE: &str = "https://datapackage.org/profiles/2.0/datapackage.json";

/// Table Schema v2's field types.
pub const FIELD_TYPES: [&str; 16] = [
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array",
    "list",
    "date",
    "time",
    "datetime",
    "year",
    "yearmonth",
    "duration",
    "geopoint",
    "geojson",
    "any",
];

/// The descriptor, as a JSON value.
pub fn descriptor(base: &str, d: &Dataset) -> Value {
    let base = base.trim_end_matches('/');
    let mut p = Map::new();
    p.insert("$schema".into(), json!(PROFILE));
    p.insert("name".into(), json!(d.name));
    p.insert("id".into(), json!(d.id));
    p.insert("title".into(), json!(d.title));
    if !d.notes.is_empty() {
        p.insert("description".into(), json!(d.notes));
    }
    if !d.version.is_empty() {
        p.insert("version".into(), json!(d.version));
    }
    p.insert("created".into(), json!(iso_timestamp(d.created)));
    p.insert("homepage".into(), json!(crate::dcat::dataset_uri(base, d)));
    if !d.tags.is_empty() {
        p.insert("keywords".into(), json!(d.tags));
    }
    if let Some(l) = licence(&d.license_id).filter(|l| l.id != "notspecified") {
        let mut lic = Map::new();
        lic.insert("name".into(), json!(l.id));
        if !l.url.is_empty() {
            lic.insert("path".into(), json!(l.url));
        }
        lic.insert("title".into(), json!(l.title));
        p.insert("licenses".into(), json!([lic]));
    }
    let mut contributors = vec![json!({
        "title": d.organisation.title,
        "path": organisation_uri(base, &d.organisation.name),
        "roles": ["publisher"],
    })];
    if !d.maintainer.is_empty() || !d.maintainer_email.is_empty() {
        let mut c = Map::new();
        c.insert(
            "title".into(),
            json!(if d.maintainer.is_empty() {
                &d.maintainer_email
            } else {
                &d.maintainer
            }),
        );
        if !d.maintainer_email.is_empty() {
            c.insert("email".into(), json!(d.maintainer_email));
        }
        c.insert("roles".into(), json!(["contact"]));
        contributors.push(Value::Object(c));
    }
    p.insert("contributors".into(), json!(contributors));
    let names = resource_names(d);
    let resources: Vec<Value> = d
        .resources
        .iter()
        .zip(&names)
        .map(|(r, name)| resource(base, d, r, name))
        .collect();
    p.insert("resources".into(), json!(resources));
    Value::Object(p)
}

/// The descriptor as pretty-printed JSON (`datapackage.json`).
pub fn datapackage(base: &str, d: &Dataset) -> String {
    // Serialising a Value (string keys) cannot fail.
    serde_json::to_string_pretty(&descriptor(base, d)).unwrap_or_default()
}

fn is_csv(r: &Resource) -> bool {
    r.format.eq_ignore_ascii_case("CSV")
        || r.format.eq_ignore_ascii_case("SDMX-CSV")
        || r.media_type.starts_with("text/csv")
}

fn field_type(t: &str) -> Option<&'static str> {
    let t = t.to_ascii_lowercase();
    FIELD_TYPES.iter().copied().find(|f| *f == t)
}

fn resource(base: &str, d: &Dataset, r: &Resource, name: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("path".into(), json!(download_url(base, d, r)));
    m.insert(
        "title".into(),
        json!(if r.name.is_empty() {
            &r.file_name
        } else {
            &r.name
        }),
    );
    if !r.description.is_empty() {
        m.insert("description".into(), json!(r.description));
    }
    if !r.format.is_empty() {
        // SDMX-CSV is CSV to a Data Package reader (frictionless knows "csv", not "sdmx-csv").
        let format = match r.format.as_str() {
            "SDMX-CSV" => "csv".to_string(),
            // An IATI activity file is XML to a Data Package reader.
            "IATI-XML" => "xml".to_string(),
            f => f.to_ascii_lowercase(),
        };
        m.insert("format".into(), json!(format));
    }
    if !r.media_type.is_empty() {
        m.insert("mediatype".into(), json!(r.media_type));
    }
    if let Some(size) = r.size.filter(|s| *s >= 0) {
        m.insert("bytes".into(), json!(size));
    }
    if let Some(hash) = &r.hash {
        m.insert("hash".into(), json!(hash));
    }
    if r.is_tabular() {
        m.insert("type".into(), json!("table"));
        let fields: Vec<Value> = r
            .fields
            .iter()
            .map(|f| {
                let mut fm = Map::new();
                fm.insert("name".into(), json!(f.name));
                fm.insert("type".into(), json!(field_type(&f.r#type).unwrap_or("any")));
                if !f.description.is_empty() {
                    fm.insert("description".into(), json!(f.description));
                }
                if let Some(hxl) = &f.hxl {
                    fm.insert("hxl".into(), json!(hxl));
                }
                Value::Object(fm)
            })
            .collect();
        m.insert(
            "schema".into(),
            json!({
                "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
                "fields": fields,
            }),
        );
        if is_csv(r) {
            // An HXL-tagged CSV carries its hashtag row right after the header (the catalogue
            // serves it so): row 2 is a comment, not data.
            let dialect = if r.fields.iter().any(|f| f.hxl.is_some()) {
                json!({"header": true, "delimiter": ",", "commentRows": [2]})
            } else {
                json!({"header": true, "delimiter": ","})
            };
            m.insert("dialect".into(), dialect);
        }
    }
    Value::Object(m)
}

/// A resource name made of `[a-z0-9._-]`: folded, lower case, runs of anything else as one `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in fold(s).chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// Whether a resource name is valid: non-empty `[a-z0-9._-]`.
pub fn valid_resource_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// The resource's name without the de-duplication (empty when neither its name nor its file
/// name gives one).
fn base_name(r: &Resource) -> String {
    let s = slug(&r.name);
    if s.is_empty() {
        slug(&r.file_name)
    } else {
        s
    }
}

/// Each resource's package name, unique: the second `data` becomes `data-2`.
fn resource_names(d: &Dataset) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    d.resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut b = base_name(r);
            if b.is_empty() {
                b = format!("resource-{}", i + 1);
            }
            let mut name = b.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{b}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// What would make the dataset's Data Package invalid or unusable; empty when it is fine.
pub fn problems(d: &Dataset) -> Vec<String> {
    let mut out = Vec::new();
    if !valid_name(&d.name) {
        out.push(format!(
            "the dataset's name \"{}\" is not 2 to 100 of a-z, 0-9, - and _",
            d.name
        ));
    }
    if d.resources.is_empty() {
        out.push("the package has no resources".to_string());
    }
    for (i, (r, name)) in d.resources.iter().zip(resource_names(d)).enumerate() {
        let label = if r.name.is_empty() {
            format!("resource {}", i + 1)
        } else {
            format!("resource \"{}\"", r.name)
        };
        if base_name(r).is_empty() {
            out.push(format!(
                "{label} has no name usable in a package (a-z, 0-9, ., _ and -)"
            ));
        } else if !valid_resource_name(&name) {
            out.push(format!("{label} has an invalid name \"{name}\""));
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for (j, f) in r.fields.iter().enumerate() {
            if f.name.trim().is_empty() {
                out.push(format!("{label}: column {} has no name", j + 1));
            } else if !seen.insert(f.name.as_str()) {
                out.push(format!("{label}: column \"{}\" appears twice", f.name));
            }
            if field_type(&f.r#type).is_none() {
                out.push(format!(
                    "{label}: column \"{}\" has type \"{}\", not a Table Schema type",
                    f.name, f.r#type
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcat::tests::sample_dataset;
    use baraza_catalogue::model::Field;

    #[test]
    fn descriptor_v2() {
        let mut d = sample_dataset("points-eau", "Points d'eau");
        let mut second = d.resources[0].clone();
        second.name = "Points d’eau".into(); // slugs to the same name
        second.format = "PDF".into();
        second.media_type = "application/pdf".into();
        second.fields.clear();
        d.resources.push(second);
        let v: Value =
            serde_json::from_str(&datapackage("https://data.example.org/", &d)).expect("JSON");
        assert_eq!(v["$schema"], PROFILE);
        assert_eq!(v["name"], "points-eau");
        assert_eq!(v["id"], d.id.as_str());
        assert_eq!(v["created"], "2026-09-21T14:13:20.000Z");
        assert_eq!(v["homepage"], "https://data.example.org/dataset/points-eau");
        assert_eq!(v["keywords"], json!(["eau", "water points"]));
        assert_eq!(
            v["licenses"],
            json!([{"name": "cc-by", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "Creative Commons Attribution 4.0"}])
        );
        assert_eq!(v["contributors"][0]["roles"], json!(["publisher"]));
        assert_eq!(v["contributors"][0]["title"], "Eau Tchad");
        assert_eq!(v["contributors"][1]["email"], "amina@example.org");
        let r = &v["resources"];
        assert_eq!(r[0]["name"], "points-d-eau");
        assert_eq!(r[1]["name"], "points-d-eau-2");
        assert_eq!(
            r[0]["path"],
            format!(
                "https://data.example.org/dataset/points-eau/resource/{}/download",
                d.resources[0].id
            )
        );
        assert_eq!(r[0]["format"], "csv");
        assert_eq!(r[0]["mediatype"], "text/csv");
        assert_eq!(r[0]["bytes"], 12_345);
        assert_eq!(r[0]["hash"], format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(r[0]["type"], "table");
        // Its first field is HXL-tagged: the hashtag row is declared a comment row.
        assert_eq!(
            r[0]["dialect"],
            json!({"header": true, "delimiter": ",", "commentRows": [2]})
        );
        assert_eq!(
            r[0]["schema"]["fields"][0],
            json!({"name": "province", "type": "string", "description": "Province", "hxl": "#adm1+name"})
        );
        assert!(r[1].get("schema").is_none() && r[1].get("type").is_none());
        assert!(problems(&d).is_empty(), "{:?}", problems(&d));

        d.license_id = "notspecified".into();
        assert!(descriptor("https://x", &d).get("licenses").is_none());
    }

    #[test]
    fn problems_found() {
        let mut d = sample_dataset("points-eau", "Points d'eau");
        d.resources[0].fields.push(Field {
            name: "province".into(),
            r#type: "select_one".into(),
            hxl: None,
            description: String::new(),
        });
        d.resources[0].fields.push(Field {
            name: " ".into(),
            r#type: "string".into(),
            hxl: None,
            description: String::new(),
        });
        d.resources[0].name = "!!!".into();
        d.resources[0].file_name = "???".into();
        let p = problems(&d);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("no name usable"));
        assert!(p[1].contains("appears twice"));
        assert!(p[2].contains("\"select_one\", not a Table Schema type"));
        assert!(p[3].contains("column 4 has no name"));
        // The descriptor stays valid: the unknown type is written as `any`, the name made up.
        let v = descriptor("https://x", &d);
        assert_eq!(v["resources"][0]["schema"]["fields"][2]["type"], "any");
        assert_eq!(v["resources"][0]["name"], "resource-1");

        d.resources.clear();
        assert_eq!(
            problems(&d),
            vec!["the package has no resources".to_string()]
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Économie — 2026.csv"), "economie-2026.csv");
        assert_eq!(slug("  A_B  "), "a_b");
        assert!(valid_resource_name("a.b_c-1"));
        assert!(!valid_resource_name("A"));
    }
}
