use super::{doc, form};
use crate::*;

fn typed(body: &str) -> Result<Vec<TypedValue>, Vec<ValueError>> {
    let sub = parse_submission(doc(body).as_bytes(), &Limits::default()).expect("parses");
    type_values(&form(), &sub)
}

fn one(body: &str, path: &str) -> Typed {
    let values = typed(body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
    values
        .into_iter()
        .find(|v| v.path == path)
        .unwrap_or_else(|| panic!("{body}: no {path}"))
        .value
}

#[test]
fn every_type() {
    let s = |x: &str| x.to_owned();
    let cases: Vec<(&str, &str, Typed)> = vec![
        (
            "<title>Hello world</title>",
            "/data/title",
            Typed::Text(s("Hello world")),
        ),
        (
            "<title> spaced </title>",
            "/data/title",
            Typed::Text(s(" spaced ")),
        ),
        ("<title/>", "/data/title", Typed::Empty),
        ("<age>42</age>", "/data/age", Typed::Int(42)),
        ("<age> -7 </age>", "/data/age", Typed::Int(-7)),
        ("<age>  </age>", "/data/age", Typed::Empty),
        (
            "<income>1234.5</income>",
            "/data/income",
            Typed::Decimal(1234.5),
        ),
        (
            "<income>-0.25</income>",
            "/data/income",
            Typed::Decimal(-0.25),
        ),
        ("<income>3</income>", "/data/income", Typed::Decimal(3.0)),
        (
            "<income>1.5E-4</income>",
            "/data/income",
            Typed::Decimal(1.5e-4),
        ),
        (
            "<dob>2024-02-29</dob>",
            "/data/dob",
            Typed::Date(s("2024-02-29")),
        ),
        (
            "<wake>06:30:00.000+03:00</wake>",
            "/data/wake",
            Typed::Time(s("06:30:00.000+03:00")),
        ),
        ("<wake>23:59</wake>", "/data/wake", Typed::Time(s("23:59"))),
        (
            "<wake>12:00:00Z</wake>",
            "/data/wake",
            Typed::Time(s("12:00:00Z")),
        ),
        (
            "<seen>2026-01-15T10:20:30.123-05:00</seen>",
            "/data/seen",
            Typed::DateTime(s("2026-01-15T10:20:30.123-05:00")),
        ),
        (
            "<loc>-1.2921 36.8219 1661.0 4.5</loc>",
            "/data/loc",
            Typed::Geopoint {
                lat: -1.2921,
                lon: 36.8219,
                alt: Some(1661.0),
                acc: Some(4.5),
            },
        ),
        (
            "<loc>10 20</loc>",
            "/data/loc",
            Typed::Geopoint {
                lat: 10.0,
                lon: 20.0,
                alt: None,
                acc: None,
            },
        ),
        (
            "<road>1 2 0 0;3 4 0 0;</road>",
            "/data/road",
            Typed::Geotrace(vec![(1.0, 2.0), (3.0, 4.0)]),
        ),
        (
            "<plot>0 0;0 1;1 1;0 0</plot>",
            "/data/plot",
            Typed::Geotrace(vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.0, 0.0)]),
        ),
        ("<ok>yes</ok>", "/data/ok", Typed::Choice(s("yes"))),
        (
            "<fruits>apple  banana</fruits>",
            "/data/fruits",
            Typed::Choices(vec![s("apple"), s("banana")]),
        ),
        ("<fruits/>", "/data/fruits", Typed::Empty),
        (
            "<fav>other</fav><fav_other>Mango</fav_other>",
            "/data/fav_other",
            Typed::Text(s("Mango")),
        ),
        (
            "<photo>1712345.jpg</photo>",
            "/data/photo",
            Typed::File(s("1712345.jpg")),
        ),
        (
            "<code>ABC-123</code>",
            "/data/code",
            Typed::Text(s("ABC-123")),
        ),
        (
            "<g><inner>in</inner></g>",
            "/data/g/inner",
            Typed::Text(s("in")),
        ),
    ];
    for (body, path, want) in cases {
        assert_eq!(one(body, path), want, "{body}");
    }
}

#[test]
fn meta_fields() {
    let body = "";
    let xml = doc(body).replace(
        "<meta>",
        "<meta><audit>audit.csv</audit><instanceName>n</instanceName><deprecatedID>uuid:old</deprecatedID><entity><label>L</label></entity>",
    );
    let sub = parse_submission(xml.as_bytes(), &Limits::default()).expect("parses");
    let values = type_values(&form(), &sub).expect("types");
    let got: Vec<(&str, &str, &Typed)> = values
        .iter()
        .map(|v| (v.path.as_str(), v.question.as_str(), &v.value))
        .collect();
    assert_eq!(
        got,
        [
            (
                "/data/meta/audit",
                "audit",
                &Typed::File("audit.csv".into())
            ),
            (
                "/data/meta/instanceName",
                "instanceName",
                &Typed::Text("n".into())
            ),
            (
                "/data/meta/deprecatedID",
                "deprecatedID",
                &Typed::Text("uuid:old".into())
            ),
            ("/data/meta/entity/label", "label", &Typed::Text("L".into())),
            (
                "/data/meta/instanceID",
                "instanceID",
                &Typed::Text("uuid:0001".into())
            ),
        ]
    );
    assert_eq!(attachment_names(&values), ["audit.csv"]);
}

#[test]
fn repeats_are_always_indexed() {
    let body = "<member><name>A</name><visit><when>2026-01-01</when></visit><visit><when/></visit></member>\
                <member><name>B</name></member>";
    let values = typed(body).expect("types");
    let got: Vec<(&str, &str, Option<&str>)> = values
        .iter()
        .map(|v| (v.path.as_str(), v.question.as_str(), v.repeat.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("/data/member[1]/name", "name", Some("/data/member[1]")),
            (
                "/data/member[1]/visit[1]/when",
                "when",
                Some("/data/member[1]/visit[1]")
            ),
            (
                "/data/member[1]/visit[2]/when",
                "when",
                Some("/data/member[1]/visit[2]")
            ),
            ("/data/member[2]/name", "name", Some("/data/member[2]")),
            ("/data/meta/instanceID", "instanceID", None),
        ]
    );
    // A single instance still gets its [1].
    let values = typed("<member><name>A</name></member><member/>").expect("types");
    assert_eq!(values[0].path, "/data/member[1]/name");
    assert_eq!(values[0].repeat.as_deref(), Some("/data/member[1]"));
    // An empty group element is fine.
    assert!(typed("<g/>").is_ok());
}

#[test]
fn wrong_form_and_version() {
    let form = form();
    let parse = |xml: String| parse_submission(xml.as_bytes(), &Limits::default()).expect("parses");
    let other_id = parse(doc("").replacen("id=\"hh\"", "id=\"other\"", 1));
    let other_root = parse(doc("").replacen("<data", "<survey", 1).replacen(
        "</data>",
        "</survey>",
        1,
    ));
    let other_version = parse(doc("<nope/>").replacen("2026011", "2026012", 1));
    let no_version = parse(doc("").replacen(" version=\"2026011\"", "", 1));
    for (sub, code) in [
        (other_id, "submission_wrong_form"),
        (other_root, "submission_wrong_form"),
        (other_version, "submission_wrong_version"),
        (no_version, "submission_wrong_version"),
    ] {
        let errors = type_values(&form, &sub).expect_err("refused");
        let codes: Vec<&str> = errors.iter().map(ValueError::code).collect();
        assert_eq!(codes, [code]);
    }
    // A form without a version takes any.
    let unversioned =
        super::compile(&super::FORM_MD.replace("| hh      | 2026011 |", "| hh      |         |"));
    assert_eq!(unversioned.version, None);
    let sub = parse(doc("").replacen("2026011", "anything", 1));
    assert!(type_values(&unversioned, &sub).is_ok());
}

#[test]
fn unknown_and_duplicate_fields() {
    let errors = typed(
        "<nope>1</nope><g><ghost/></g><age><sub>1</sub></age><title>a</title><title>b</title><member><nope/></member>",
    )
    .expect_err("refused");
    let got: Vec<(&str, Option<&str>)> = errors.iter().map(|e| (e.code(), e.path())).collect();
    assert_eq!(
        got,
        [
            ("submission_unknown_field", Some("/data/nope")),
            ("submission_unknown_field", Some("/data/g/ghost")),
            ("submission_unknown_field", Some("/data/age/sub")),
            ("submission_duplicate_field", Some("/data/title")),
            ("submission_unknown_field", Some("/data/member/nope")),
        ]
    );
    // `NAME_other` only exists for or_other selects, the audit only under meta.
    let errors = typed("<ok_other>x</ok_other><audit>a.csv</audit>").expect_err("refused");
    assert!(errors
        .iter()
        .all(|e| e.code() == "submission_unknown_field"));
    assert_eq!(errors.len(), 2);
}

#[test]
fn bad_values_are_all_reported() {
    let body = "<age>abc</age><income>NaN</income><dob>2026-13-40</dob><wake>25:00</wake>\
                <seen>2026-01-01 10:00</seen><loc>91 0</loc><road>1 2;x</road><plot>;</plot>\
                <photo>../../etc/passwd</photo><g>text</g>\
                <member><visit><when>2023-02-29</when></visit></member>";
    let errors = typed(body).expect_err("refused");
    let got: Vec<(&str, &str, &str)> = errors
        .iter()
        .map(|e| match e {
            ValueError::BadValue {
                path,
                expected,
                value,
            } => (path.as_str(), expected.as_str(), value.as_str()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let paths: Vec<&str> = got.iter().map(|g| g.0).collect();
    assert_eq!(
        paths,
        [
            "/data/age",
            "/data/income",
            "/data/dob",
            "/data/wake",
            "/data/seen",
            "/data/loc",
            "/data/road",
            "/data/plot",
            "/data/photo",
            "/data/g",
            "/data/member[1]/visit[1]/when",
        ]
    );
    assert_eq!(got[0], ("/data/age", "integer", "abc"));
    assert_eq!(got[2].2, "2026-13-40");
    assert!(errors.iter().all(|e| e.code() == "submission_bad_value"));
    assert!(errors.iter().all(|e| !e.to_string().is_empty()));
}

#[test]
fn value_checks_table() {
    // (field, raw, ok)
    let cases = [
        ("age", "9223372036854775807", true),
        ("age", "9223372036854775808", false),
        ("age", "1.0", false),
        ("age", "+5", true),
        ("age", "--5", false),
        ("income", "inf", false),
        ("income", "1e400", false),
        ("income", ".5", true),
        ("income", "5.", true),
        ("income", "0x10", false),
        ("income", "1e", false),
        ("dob", "2024-02-30", false),
        ("dob", "1900-02-29", false),
        ("dob", "2000-02-29", true),
        ("dob", "2026-1-01", false),
        ("dob", "2026-04-31", false),
        ("dob", "2026-01-01T00:00", false),
        ("wake", "24:00", false),
        ("wake", "10:60", false),
        ("wake", "10:00:60", false),
        ("wake", "10:00:00.", false),
        ("wake", "10:00+0530", true),
        ("wake", "10:00+05", true),
        ("wake", "10:00+1é", false),
        ("wake", "10:00+1é1", false),
        ("seen", "2026-01-01T10:00:00", true),
        ("seen", "2026-01-01", false),
        ("loc", "0 181", false),
        ("loc", "-90 -180 0 0", true),
        ("loc", "1", false),
        ("loc", "1 2 3 4 5", false),
        ("loc", "1 2 3 -1", false),
        ("road", "1 2", true),
        ("photo", ".hidden", false),
        ("photo", "a\\b.jpg", false),
        ("photo", "ok name.jpg", true),
    ];
    for (field, raw, ok) in cases {
        let body = format!("<{field}>{raw}</{field}>");
        assert_eq!(typed(&body).is_ok(), ok, "{field} = {raw:?}");
    }
}

#[test]
fn attachments() {
    let values =
        typed("<photo>a.jpg</photo><member><name>x</name></member><member><name>y</name></member>")
            .expect("types");
    assert_eq!(attachment_names(&values), ["a.jpg"]);
    let v = |n: &str| TypedValue {
        path: "/data/p".into(),
        question: "p".into(),
        repeat: None,
        value: Typed::File(n.into()),
    };
    assert_eq!(attachment_names(&[v("b"), v("a"), v("b")]), ["b", "a"]);

    let names = [
        ("photo.jpg", true),
        ("1712345-12_3.m4a", true),
        ("résumé.pdf", true),
        ("", false),
        (".htaccess", false),
        ("a/b", false),
        ("a\\b", false),
        ("..", false),
        ("a..b", false),
        ("a\nb", false),
        ("a\u{0}b", false),
        ("a\u{7f}b", false),
    ];
    for (name, ok) in names {
        assert_eq!(safe_attachment_name(name), ok, "{name:?}");
    }
    assert!(safe_attachment_name(&"a".repeat(255)));
    assert!(!safe_attachment_name(&"a".repeat(256)));
}

#[test]
fn generated_count_node() {
    let md = r#"
| survey |              |        |        |              |
|        | type         | name   | label  | repeat_count |
|        | integer      | n      | N      |              |
|        | begin repeat | member | Member | ${n} + 1     |
|        | text         | name   | Name   |              |
|        | end repeat   |        |        |              |
"#;
    let form = super::compile(md);
    let xml = "<data id=\"data\"><n>1</n><member_count>2</member_count><member><name>a</name></member><meta><instanceID>u</instanceID></meta></data>";
    let sub = parse_submission(xml.as_bytes(), &Limits::default()).expect("parses");
    let values = type_values(&form, &sub).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(values[1].path, "/data/member_count");
    assert_eq!(values[1].value, Typed::Text("2".into()));
}

#[test]
fn serializes() {
    // Typed derives Serialize; make sure the shapes are usable.
    fn is_serialize<T: serde::Serialize>(_: &T) {}
    let v = TypedValue {
        path: "/data/x".into(),
        question: "x".into(),
        repeat: None,
        value: Typed::Geopoint {
            lat: 1.0,
            lon: 2.0,
            alt: None,
            acc: None,
        },
    };
    is_serialize(&v);
    is_serialize(&ValueError::UnknownField { path: "/x".into() });
}

/// Found by fuzzing `type_values` (fuzz/): a `Submission` built by code other than the parser
/// may give one node two values, as the same path twice or as a repeat's path with and without
/// its `[1]`; each used to be typed twice. One node, one value: the second is a duplicate.
#[test]
fn regression_fuzz_same_path_twice_is_a_duplicate() {
    let sub = |paths: &[&str]| Submission {
        root: "data".into(),
        form_id: "hh".into(),
        version: Some("2026011".into()),
        instance_id: "uuid:1".into(),
        deprecated_id: None,
        instance_name: None,
        values: paths
            .iter()
            .map(|p| Value {
                path: (*p).into(),
                value: "x".into(),
            })
            .collect(),
    };
    for paths in [
        &["/data/title", "/data/title", "/data/title"][..],
        &["/data/member/name", "/data/member[1]/name"],
        &["/data/g/inner", "/data/g/inner"],
        &["/data/g", "/data/g"],
    ] {
        let errors = type_values(&form(), &sub(paths)).expect_err("refused");
        let got: Vec<_> = errors.iter().map(|e| e.code()).collect();
        assert!(
            got.contains(&"submission_duplicate_field")
                && got
                    .iter()
                    .filter(|c| **c == "submission_duplicate_field")
                    .count()
                    == 1,
            "{paths:?}: {errors:?}"
        );
    }
    // Distinct repeat instances are not duplicates.
    let ok = type_values(
        &form(),
        &sub(&["/data/member[1]/name", "/data/member[2]/name"]),
    )
    .expect("two members");
    assert_eq!(ok.len(), 2);
}
