//! Property tests: the parser never panics, whatever it is fed, and what a well-behaved client
//! sends comes back typed as it was.

use proptest::prelude::*;

use super::form;
use crate::writers::escape;
use crate::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

const TOKENS: &[&str] = &[
    "<?xml version=\"1.0\"?>",
    "<?xml version=\"1.0\" encoding=\"latin1\"?>",
    "<?pi x?>",
    "<!DOCTYPE data [",
    "<!ENTITY x \"y\">",
    "]>",
    "<data id=\"hh\" version=\"2026011\">",
    "<data>",
    "</data>",
    "<meta>",
    "</meta>",
    "<instanceID>",
    "</instanceID>",
    "uuid:1",
    "<member>",
    "</member>",
    "<name>",
    "</name>",
    "<g>",
    "</g>",
    "<inner/>",
    "<orx:meta>",
    "</orx:meta>",
    "<a b='c'>",
    "<a b=\"&lt;\" b=\"x\">",
    "</a>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "&amp;",
    "&lt;",
    "&#x41;",
    "&#1114112;",
    "&#0;",
    "&x;",
    "&",
    ";",
    "<",
    ">",
    "/>",
    "/",
    "\"",
    "'",
    "=",
    " ",
    "\n",
    "\r",
    "text",
    "é",
    "\u{0}",
    "\u{FEFF}",
    "[1]",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(TOKENS).prop_map(str::to_owned),
            1 => "[a-z<>/&;=\"' ]{0,6}",
        ],
        0..60,
    )
    .prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_submission(&bytes, &Limits::default());
    }

    #[test]
    fn never_panics_on_token_soup(xml in token_soup()) {
        let limits = Limits { max_bytes: 4096, max_depth: 8, max_elements: 40 };
        if let Ok(sub) = parse_submission(xml.as_bytes(), &limits) {
            prop_assert!(!sub.instance_id.is_empty());
            prop_assert!(!sub.form_id.is_empty());
            let _ = type_values(&form(), &sub);
        }
        let _ = parse_submission(xml.as_bytes(), &Limits::default());
    }

    #[test]
    fn never_panics_on_mutations(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8)
    ) {
        let mut bytes = super::doc(
            "<title>a &amp; b</title><member><name>x</name><visit><when>2026-01-01</when></visit></member><loc>1 2</loc>",
        )
        .into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(sub) = parse_submission(&bytes, &Limits::default()) {
            let _ = type_values(&form(), &sub);
        }
    }

    #[test]
    fn typing_never_panics(values in prop::collection::vec(("[/a-z\\[\\]0-9]{0,30}", ".{0,20}"), 0..20)) {
        let sub = Submission {
            root: "data".into(),
            form_id: "hh".into(),
            version: Some("2026011".into()),
            instance_id: "u".into(),
            deprecated_id: None,
            instance_name: None,
            values: values
                .into_iter()
                .map(|(p, v)| Value { path: format!("/data/{p}"), value: v })
                .collect(),
        };
        let _ = type_values(&form(), &sub);
    }
}

/// Text XML can carry.
fn xml_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| {
        s.chars()
            .filter(|&c| {
                matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
            })
            .collect()
    })
}

fn date() -> impl Strategy<Value = String> {
    (1900u32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

#[derive(Debug, Clone)]
struct Member {
    name: String,
    visits: Vec<String>,
}

#[derive(Debug, Clone)]
struct Answers {
    title: String,
    age: i64,
    income: f64,
    dob: String,
    loc: (f64, f64, Option<(f64, f64)>),
    ok: &'static str,
    fruits: Vec<&'static str>,
    photo: String,
    inner: String,
    members: Vec<Member>,
}

fn answers() -> impl Strategy<Value = Answers> {
    let member = (xml_text(), prop::collection::vec(date(), 0..3))
        .prop_map(|(name, visits)| Member { name, visits });
    (
        (xml_text(), any::<i64>(), -1e12f64..1e12, date()),
        (
            (
                -90f64..=90.0,
                -180f64..=180.0,
                prop::option::of((-500f64..9000.0, 0f64..100.0)),
            ),
            prop::sample::select(&["yes", "no"][..]),
            prop::sample::subsequence(&["apple", "banana"][..], 0..=2),
            "[A-Za-z0-9_-]{1,20}\\.jpg",
        ),
        (xml_text(), prop::collection::vec(member, 0..4)),
    )
        .prop_map(
            |((title, age, income, dob), (loc, ok, fruits, photo), (inner, members))| Answers {
                title,
                age,
                income,
                dob,
                loc,
                ok,
                fruits,
                photo,
                inner,
                members,
            },
        )
}

fn leaf(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

impl Answers {
    fn xml(&self) -> String {
        let mut body = String::new();
        body.push_str(&leaf("title", &self.title));
        body.push_str(&leaf("age", &self.age.to_string()));
        body.push_str(&leaf("income", &self.income.to_string()));
        body.push_str(&leaf("dob", &self.dob));
        let (lat, lon, rest) = self.loc;
        let loc = match rest {
            Some((alt, acc)) => format!("{lat} {lon} {alt} {acc}"),
            None => format!("{lat} {lon}"),
        };
        body.push_str(&leaf("loc", &loc));
        body.push_str(&leaf("ok", self.ok));
        body.push_str(&leaf("fruits", &self.fruits.join(" ")));
        body.push_str(&leaf("photo", &self.photo));
        body.push_str(&format!("<g>{}</g>", leaf("inner", &self.inner)));
        for m in &self.members {
            body.push_str("<member>");
            body.push_str(&leaf("name", &m.name));
            for v in &m.visits {
                body.push_str(&format!("<visit>{}</visit>", leaf("when", v)));
            }
            body.push_str("</member>");
        }
        super::doc(&body)
    }

    fn expected(&self) -> Vec<TypedValue> {
        let text = |s: &str| {
            if s.is_empty() {
                Typed::Empty
            } else {
                Typed::Text(s.to_owned())
            }
        };
        let top = |name: &str, value: Typed| TypedValue {
            path: format!("/data/{name}"),
            question: name.to_owned(),
            repeat: None,
            value,
        };
        let (lat, lon, rest) = self.loc;
        let mut out = vec![
            top("title", text(&self.title)),
            top("age", Typed::Int(self.age)),
            top("income", Typed::Decimal(self.income)),
            top("dob", Typed::Date(self.dob.clone())),
            top(
                "loc",
                Typed::Geopoint {
                    lat,
                    lon,
                    alt: rest.map(|r| r.0),
                    acc: rest.map(|r| r.1),
                },
            ),
            top("ok", Typed::Choice(self.ok.to_owned())),
            top(
                "fruits",
                if self.fruits.is_empty() {
                    Typed::Empty
                } else {
                    Typed::Choices(self.fruits.iter().map(|f| (*f).to_owned()).collect())
                },
            ),
            top("photo", Typed::File(self.photo.clone())),
            TypedValue {
                path: "/data/g/inner".into(),
                question: "inner".into(),
                repeat: None,
                value: text(&self.inner),
            },
        ];
        for (i, m) in self.members.iter().enumerate() {
            let instance = format!("/data/member[{}]", i + 1);
            out.push(TypedValue {
                path: format!("{instance}/name"),
                question: "name".into(),
                repeat: Some(instance.clone()),
                value: text(&m.name),
            });
            for (j, v) in m.visits.iter().enumerate() {
                let visit = format!("{instance}/visit[{}]", j + 1);
                out.push(TypedValue {
                    path: format!("{visit}/when"),
                    question: "when".into(),
                    repeat: Some(visit),
                    value: Typed::Date(v.clone()),
                });
            }
        }
        out.push(top("meta/instanceID", Typed::Text("uuid:0001".into())));
        if let Some(last) = out.last_mut() {
            last.question = "instanceID".into();
        }
        out
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trips(a in answers()) {
        let xml = a.xml();
        let sub = parse_submission(xml.as_bytes(), &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
        prop_assert_eq!(&sub.instance_id, "uuid:0001");
        let typed = type_values(&form(), &sub)
            .map_err(|e| TestCaseError::fail(format!("{e:?}: {xml}")))?;
        prop_assert_eq!(typed.clone(), a.expected());
        prop_assert_eq!(attachment_names(&typed), vec![a.photo.clone()]);
    }
}
