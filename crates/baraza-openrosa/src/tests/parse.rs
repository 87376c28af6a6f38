use super::doc;
use crate::*;

fn parse(xml: &str) -> Result<Submission, SubmissionError> {
    parse_submission(xml.as_bytes(), &Limits::default())
}

fn values(s: &Submission) -> Vec<(&str, &str)> {
    s.values
        .iter()
        .map(|v| (v.path.as_str(), v.value.as_str()))
        .collect()
}

/// (case name, body, expected values)
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const META: (&str, &str) = ("/data/meta/instanceID", "uuid:0001");

#[test]
fn good_submissions() {
    let cases: &[Case] = &[
        ("flat", "<age>42</age><title>Hi</title>", &[("/data/age", "42"), ("/data/title", "Hi"), META]),
        ("group", "<g><inner>x</inner></g>", &[("/data/g/inner", "x"), META]),
        (
            "repeats",
            "<member><name>A</name></member><member><name>B</name></member>",
            &[("/data/member[1]/name", "A"), ("/data/member[2]/name", "B"), META],
        ),
        (
            "single repeat is not indexed in the raw parse",
            "<member><name>A</name></member>",
            &[("/data/member/name", "A"), META],
        ),
        (
            "nested repeats",
            "<member><name>A</name><visit><when>2026-01-01</when></visit><visit><when>2026-01-02</when></visit></member>\
             <member><name>B</name><visit><when>2026-02-01</when></visit></member>",
            &[
                ("/data/member[1]/name", "A"),
                ("/data/member[1]/visit[1]/when", "2026-01-01"),
                ("/data/member[1]/visit[2]/when", "2026-01-02"),
                ("/data/member[2]/name", "B"),
                ("/data/member[2]/visit/when", "2026-02-01"),
                META,
            ],
        ),
        ("select_multiple", "<fruits>apple banana</fruits>", &[("/data/fruits", "apple banana"), META]),
        ("geopoint", "<loc>-1.28 36.82 1700 5</loc>", &[("/data/loc", "-1.28 36.82 1700 5"), META]),
        ("attachment", "<photo>1712.jpg</photo>", &[("/data/photo", "1712.jpg"), META]),
        ("empty elements", "<title/><age></age>", &[("/data/title", ""), ("/data/age", ""), META]),
        (
            "entities and character references",
            "<title>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#xE9;</title>",
            &[("/data/title", "a <b> & \"c\" 'd' éé"), META],
        ),
        ("cdata", "<title><![CDATA[<not> & markup]]></title>", &[("/data/title", "<not> & markup"), META]),
        ("comments", "<!-- c --><title>a<!-- inside -->b</title>", &[("/data/title", "ab"), META]),
        ("whitespace kept in leaves", "<title>  two  words \n</title>", &[("/data/title", "  two  words \n"), META]),
        ("line ends normalised", "<title>a\r\nb</title>", &[("/data/title", "a\nb"), META]),
        (
            "namespaced elements keep local names",
            "<orx:extra xmlns:orx=\"http://openrosa.org/xforms\">v</orx:extra>",
            &[("/data/extra", "v"), META],
        ),
    ];
    for (name, body, want) in cases {
        let s = parse(&doc(body)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(values(&s), *want, "{name}");
        assert_eq!(s.root, "data", "{name}");
        assert_eq!(s.form_id, "hh", "{name}");
        assert_eq!(s.version.as_deref(), Some("2026011"), "{name}");
        assert_eq!(s.instance_id, "uuid:0001", "{name}");
    }
}

#[test]
fn metadata() {
    let xml = r#"<?xml version='1.0'?><survey id="f&amp;1" orx:version="x" other="y" xmlns:orx="http://openrosa.org/xforms">
        <a>1</a>
        <orx:meta>
          <orx:instanceID> uuid:new </orx:instanceID>
          <orx:deprecatedID>uuid:old</orx:deprecatedID>
          <orx:instanceName>Household 12</orx:instanceName>
        </orx:meta></survey>"#;
    let s = parse(xml).expect("parses");
    assert_eq!(s.root, "survey");
    assert_eq!(s.form_id, "f&1");
    assert_eq!(
        s.version, None,
        "a prefixed version attribute is not the version"
    );
    assert_eq!(s.instance_id, "uuid:new");
    assert_eq!(s.deprecated_id.as_deref(), Some("uuid:old"));
    assert_eq!(s.instance_name.as_deref(), Some("Household 12"));
    assert_eq!(
        values(&s),
        [
            ("/survey/a", "1"),
            ("/survey/meta/instanceID", " uuid:new "),
            ("/survey/meta/deprecatedID", "uuid:old"),
            ("/survey/meta/instanceName", "Household 12"),
        ]
    );
    // Empty optional metadata is absent; a BOM is fine.
    let xml = "\u{FEFF}<d id=\"x\"><meta><instanceID>u</instanceID><deprecatedID/><instanceName> </instanceName></meta></d>";
    let s = parse(xml).expect("parses");
    assert_eq!((s.deprecated_id, s.instance_name), (None, None));
}

fn code(xml: &[u8], limits: &Limits) -> &'static str {
    match parse_submission(xml, limits) {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e.code(),
    }
}

#[test]
fn bad_submissions() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<data id="hh"><title>&lol3;</title><meta><instanceID>u</instanceID></meta></data>"#;
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<data id="hh"><title>&x;</title><meta><instanceID>u</instanceID></meta></data>"#;
    let deep = format!(
        "<data id=\"hh\">{}{}<meta><instanceID>u</instanceID></meta></data>",
        "<g>".repeat(100),
        "</g>".repeat(100)
    );
    let wide = format!(
        "<data id=\"hh\">{}<meta><instanceID>u</instanceID></meta></data>",
        "<a/>".repeat(300_000)
    );
    let latin1 = [
        &b"<data id=\"hh\"><title>caf\xE9</title>"[..],
        b"<meta><instanceID>u</instanceID></meta></data>",
    ]
    .concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("billion laughs", billion_laughs.into(), "submission_dtd"),
        ("xxe", xxe.into(), "submission_dtd"),
        (
            "doctype alone",
            doc("")
                .replacen("<data", "<!DOCTYPE data>\n<data", 1)
                .into(),
            "submission_dtd",
        ),
        (
            "doctype with public id",
            format!(
                "<!DOCTYPE data PUBLIC \"-//x\" \"http://evil/x.dtd\">{}",
                doc("").split_once("?>").map(|x| x.1).unwrap_or("")
            )
            .into(),
            "submission_dtd",
        ),
        (
            "undefined entity",
            doc("<title>&nbsp;</title>").into(),
            "submission_malformed",
        ),
        (
            "undefined entity in attribute",
            doc("").replacen("id=\"hh\"", "id=\"&x;\"", 1).into(),
            "submission_malformed",
        ),
        (
            "invalid character reference",
            doc("<title>&#0;</title>").into(),
            "submission_malformed",
        ),
        (
            "surrogate character reference",
            doc("<title>&#xD800;</title>").into(),
            "submission_malformed",
        ),
        (
            "dangling ampersand",
            doc("<title>a & b</title>").into(),
            "submission_malformed",
        ),
        (
            "unclosed tag",
            doc("<title>x").into(),
            "submission_malformed",
        ),
        (
            "unclosed root",
            b"<data id=\"hh\"><meta><instanceID>u</instanceID></meta>".to_vec(),
            "submission_malformed",
        ),
        (
            "mismatched tag",
            doc("<title>x</age>").into(),
            "submission_malformed",
        ),
        (
            "text in a group",
            doc("<g>oops<inner>x</inner></g>").into(),
            "submission_malformed",
        ),
        (
            "text after a child",
            doc("<g><inner>x</inner>oops</g>").into(),
            "submission_malformed",
        ),
        (
            "text in the root",
            doc("oops").into(),
            "submission_malformed",
        ),
        (
            "entity text in a group",
            doc("<g>&amp;<inner>x</inner></g>").into(),
            "submission_malformed",
        ),
        (
            "two roots",
            format!("{}<data id=\"hh\"/>", doc("")).into(),
            "submission_malformed",
        ),
        (
            "text after the root",
            format!("{}x", doc("")).into(),
            "submission_malformed",
        ),
        (
            "processing instruction",
            doc("<?php evil() ?>").into(),
            "submission_malformed",
        ),
        (
            "late declaration",
            format!(" {}", doc("")).into(),
            "submission_malformed",
        ),
        (
            "NUL character",
            doc("<title>a\u{0}b</title>").into(),
            "submission_malformed",
        ),
        (
            "control character",
            doc("<title>a\u{1}b</title>").into(),
            "submission_malformed",
        ),
        (
            "bad element name",
            doc("<a/b>x</a/b>").into(),
            "submission_malformed",
        ),
        ("empty document", Vec::new(), "submission_malformed"),
        (
            "only a declaration",
            b"<?xml version=\"1.0\"?>".to_vec(),
            "submission_malformed",
        ),
        (
            "missing instanceID",
            b"<data id=\"hh\"><age>1</age></data>".to_vec(),
            "submission_missing_instance_id",
        ),
        (
            "empty instanceID",
            b"<data id=\"hh\"><meta><instanceID> </instanceID></meta></data>".to_vec(),
            "submission_missing_instance_id",
        ),
        (
            "instanceID outside meta",
            b"<data id=\"hh\"><instanceID>u</instanceID></data>".to_vec(),
            "submission_missing_instance_id",
        ),
        (
            "missing form id",
            b"<data><meta><instanceID>u</instanceID></meta></data>".to_vec(),
            "submission_missing_form_id",
        ),
        (
            "empty form id",
            b"<data id=\"\"><meta><instanceID>u</instanceID></meta></data>".to_vec(),
            "submission_missing_form_id",
        ),
        ("too deep", deep.into(), "submission_too_deep"),
        (
            "too many elements",
            wide.into(),
            "submission_too_many_elements",
        ),
        ("not UTF-8", latin1, "submission_not_utf8"),
        (
            "UTF-16",
            b"\xFF\xFE<\x00d\x00/\x00>\x00".to_vec(),
            "submission_not_utf8",
        ),
        (
            "declared latin-1",
            doc("").replacen("UTF-8", "ISO-8859-1", 1).into(),
            "submission_not_utf8",
        ),
    ];
    for (name, xml, want) in &cases {
        let got = code(xml, &Limits::default());
        assert_eq!(got, *want, "{name}");
    }
}

#[test]
fn limits_are_exact() {
    let xml = doc("<g><inner>x</inner></g>");
    let limits = Limits::default();
    // Size.
    let exact = Limits {
        max_bytes: xml.len(),
        ..limits
    };
    assert!(parse_submission(xml.as_bytes(), &exact).is_ok());
    let small = Limits {
        max_bytes: xml.len() - 1,
        ..limits
    };
    assert_eq!(
        parse_submission(xml.as_bytes(), &small),
        Err(SubmissionError::TooLarge {
            limit: xml.len() - 1
        })
    );
    // Depth: data/g/inner is 3 deep.
    let three = Limits {
        max_depth: 3,
        ..limits
    };
    assert!(parse_submission(xml.as_bytes(), &three).is_ok());
    let two = Limits {
        max_depth: 2,
        ..limits
    };
    assert_eq!(
        parse_submission(xml.as_bytes(), &two),
        Err(SubmissionError::TooDeep { limit: 2 })
    );
    // Elements: data, g, inner, meta, instanceID.
    let five = Limits {
        max_elements: 5,
        ..limits
    };
    assert!(parse_submission(xml.as_bytes(), &five).is_ok());
    let four = Limits {
        max_elements: 4,
        ..limits
    };
    assert_eq!(
        parse_submission(xml.as_bytes(), &four),
        Err(SubmissionError::TooManyElements { limit: 4 })
    );
}

#[test]
fn path_expansion_is_bounded() {
    // Long names, deep, many leaves: small input, huge paths.
    let name = "n".repeat(250);
    let open = format!("<{name}>").repeat(60);
    let close = format!("</{name}>").repeat(60);
    let xml = format!(
        "<data id=\"hh\">{open}{}{close}<meta><instanceID>u</instanceID></meta></data>",
        "<a/>".repeat(20_000)
    );
    assert!(xml.len() < 200_000);
    let limits = Limits {
        max_bytes: 200_000,
        ..Limits::default()
    };
    assert_eq!(
        parse_submission(xml.as_bytes(), &limits),
        Err(SubmissionError::TooLarge { limit: 200_000 })
    );
    // Names longer than 255 bytes are refused.
    let long = "n".repeat(256);
    assert_eq!(
        code(doc(&format!("<{long}/>")).as_bytes(), &Limits::default()),
        "submission_malformed"
    );
}

#[test]
fn malformed_errors_have_offsets() {
    let xml = doc("<title>&bogus;</title>");
    let Err(SubmissionError::Malformed { offset, detail }) = parse(&xml) else {
        panic!("not malformed");
    };
    assert!(detail.contains("bogus"), "{detail}");
    assert!(offset > 0 && offset <= xml.len(), "{offset}");
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (SubmissionError::Dtd, "submission_dtd"),
        (
            SubmissionError::TooLarge { limit: 1 },
            "submission_too_large",
        ),
        (SubmissionError::TooDeep { limit: 1 }, "submission_too_deep"),
        (
            SubmissionError::TooManyElements { limit: 1 },
            "submission_too_many_elements",
        ),
        (
            SubmissionError::Malformed {
                offset: 0,
                detail: String::new(),
            },
            "submission_malformed",
        ),
        (SubmissionError::NotUtf8, "submission_not_utf8"),
        (
            SubmissionError::MissingInstanceId,
            "submission_missing_instance_id",
        ),
        (SubmissionError::MissingFormId, "submission_missing_form_id"),
    ];
    for (e, c) in all {
        assert_eq!(e.code(), c);
        assert!(!e.to_string().is_empty());
    }
}
