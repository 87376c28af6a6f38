//! A submission's typed values as stored (`submissions.values_json`), read in place.
//!
//! The stored form is what `baraza-openrosa`'s `TypedValue` serialises to: a JSON array of
//! `{"path", "question", "repeat", "value": {"type", "value"}}`. Strings borrow from the stored
//! text whenever they hold no escape, so reading a record allocates little more than its vector.
//! A test in this crate keeps this reader in step with that writer.

use serde::Deserialize;
use std::borrow::Cow;

/// A string that borrows from the input when it can.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// One stored value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredValue<'a> {
    /// Normalised path: every repeat segment carries its `[n]`, other segments never do.
    #[serde(borrow)]
    pub path: Str<'a>,
    #[serde(borrow)]
    pub question: Str<'a>,
    /// The innermost repeat instance holding the value, e.g. `/data/member[2]`.
    #[serde(borrow, default)]
    pub repeat: Option<Str<'a>>,
    #[serde(borrow)]
    pub value: Typed<'a>,
}

/// A stored value's type and content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Typed<'a> {
    Empty,
    Text(#[serde(borrow)] Str<'a>),
    Int(i64),
    Decimal(f64),
    Date(#[serde(borrow)] Str<'a>),
    Time(#[serde(borrow)] Str<'a>),
    DateTime(#[serde(borrow)] Str<'a>),
    Geopoint {
        lat: f64,
        lon: f64,
        alt: Option<f64>,
        acc: Option<f64>,
    },
    Geotrace(Vec<(f64, f64)>),
    Choices(#[serde(borrow)] Vec<Str<'a>>),
    Choice(#[serde(borrow)] Str<'a>),
    File(#[serde(borrow)] Str<'a>),
}

impl Typed<'_> {
    pub fn is_empty(&self) -> bool {
        matches!(self, Typed::Empty)
    }
}

/// Reads a stored `values_json`.
pub fn parse_values(json: &str) -> Result<Vec<StoredValue<'_>>, serde_json::Error> {
    serde_json::from_str(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_type_and_borrows() {
        let json = r#"[
          {"path":"/data/a","question":"a","repeat":null,"value":{"type":"empty"}},
          {"path":"/data/b","question":"b","repeat":null,"value":{"type":"text","value":"x \"q\""}},
          {"path":"/data/c","question":"c","repeat":null,"value":{"type":"int","value":-3}},
          {"path":"/data/d","question":"d","repeat":null,"value":{"type":"decimal","value":1.5}},
          {"path":"/data/e","question":"e","repeat":null,"value":{"type":"date","value":"2026-01-02"}},
          {"path":"/data/f","question":"f","repeat":null,"value":{"type":"time","value":"10:00"}},
          {"path":"/data/g","question":"g","repeat":null,"value":{"type":"date_time","value":"2026-01-02T10:00:00Z"}},
          {"path":"/data/h","question":"h","repeat":null,"value":{"type":"geopoint","value":{"lat":1.0,"lon":2.0,"alt":null,"acc":4.0}}},
          {"path":"/data/i","question":"i","repeat":null,"value":{"type":"geotrace","value":[[1.0,2.0],[3.0,4.0]]}},
          {"path":"/data/r[2]/j","question":"j","repeat":"/data/r[2]","value":{"type":"choices","value":["x","y"]}},
          {"path":"/data/k","question":"k","repeat":null,"value":{"type":"choice","value":"z"}},
          {"path":"/data/l","question":"l","repeat":null,"value":{"type":"file","value":"p.jpg"}}
        ]"#;
        let v = parse_values(json).unwrap();
        assert_eq!(v.len(), 12);
        assert_eq!(v[0].value, Typed::Empty);
        assert!(matches!(&v[1].value, Typed::Text(s) if &**s == "x \"q\""));
        assert!(matches!(&v[1].path.0, Cow::Borrowed("/data/b")));
        assert_eq!(v[2].value, Typed::Int(-3));
        assert!(matches!(v[7].value, Typed::Geopoint { alt: None, acc: Some(a), .. } if a == 4.0));
        assert_eq!(v[8].value, Typed::Geotrace(vec![(1.0, 2.0), (3.0, 4.0)]));
        assert_eq!(v[9].repeat.as_deref(), Some("/data/r[2]"));
        match &v[9].value {
            Typed::Choices(c) => {
                assert!(matches!(c[0].0, Cow::Borrowed("x")));
                assert_eq!(c.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_is_not_the_stored_form() {
        for bad in [
            "",
            "{}",
            r#"[{"path":"/d/a","question":"a","value":{"type":"bogus"}}]"#,
            r#"[{"path":"/d/a","question":"a","value":{"type":"int","value":"x"}}]"#,
        ] {
            assert!(parse_values(bad).is_err(), "{bad}");
        }
    }
}
