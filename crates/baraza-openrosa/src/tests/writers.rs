use crate::*;

#[test]
fn md5_of_known_inputs() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "md5:d41d8cd98f00b204e9800998ecf8427e"),
        (b"abc", "md5:900150983cd24fb0d6963f7d28e17f72"),
        (
            b"The quick brown fox jumps over the lazy dog",
            "md5:9e107d9d372bb6826bd81d3542a419d6",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(md5_hash(input), *want);
    }
}

#[test]
fn form_list_shape() {
    let entries = [
        FormListEntry {
            form_id: "hh".into(),
            name: "Household".into(),
            version: Some("2026011".into()),
            hash: "md5:abc".into(),
            download_url: "https://x.org/v1/projects/1/forms/hh.xml".into(),
            manifest_url: Some("https://x.org/v1/projects/1/forms/hh/manifest".into()),
        },
        FormListEntry {
            form_id: "b".into(),
            name: "B".into(),
            version: None,
            hash: "md5:def".into(),
            download_url: "https://x.org/b.xml".into(),
            manifest_url: None,
        },
    ];
    let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<xforms xmlns="http://openrosa.org/xforms/xformsList">
  <xform>
    <formID>hh</formID>
    <name>Household</name>
    <version>2026011</version>
    <hash>md5:abc</hash>
    <downloadUrl>https://x.org/v1/projects/1/forms/hh.xml</downloadUrl>
    <manifestUrl>https://x.org/v1/projects/1/forms/hh/manifest</manifestUrl>
  </xform>
  <xform>
    <formID>b</formID>
    <name>B</name>
    <version></version>
    <hash>md5:def</hash>
    <downloadUrl>https://x.org/b.xml</downloadUrl>
  </xform>
</xforms>
"#;
    assert_eq!(form_list(&entries), want);
    assert_eq!(form_list(&entries), form_list(&entries));
    assert_eq!(
        form_list(&[]),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n</xforms>\n"
    );
}

#[test]
fn manifest_shape() {
    let files = [MediaFile {
        filename: "logo.png".into(),
        hash: md5_hash(b"png"),
        download_url: "https://x.org/logo.png".into(),
    }];
    let want = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://openrosa.org/xforms/xformsManifest">
  <mediaFile>
    <filename>logo.png</filename>
    <hash>{}</hash>
    <downloadUrl>https://x.org/logo.png</downloadUrl>
  </mediaFile>
</manifest>
"#,
        md5_hash(b"png")
    );
    assert_eq!(manifest(&files), want);
}

#[test]
fn responses() {
    assert_eq!(
        openrosa_response("full submission upload was successful!"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">\n  <message nature=\"submit_success\">full submission upload was successful!</message>\n</OpenRosaResponse>\n"
    );
    assert_eq!(
        openrosa_error("no"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">\n  <message nature=\"error\">no</message>\n</OpenRosaResponse>\n"
    );
}

#[test]
fn escaping_everywhere() {
    let nasty = r#"<a href="x">&'b'</a>"#;
    let escaped = "&lt;a href=&quot;x&quot;&gt;&amp;&apos;b&apos;&lt;/a&gt;";
    let list = form_list(&[FormListEntry {
        form_id: nasty.into(),
        name: nasty.into(),
        version: Some(nasty.into()),
        hash: nasty.into(),
        download_url: format!("https://x.org/?a=1&b=2{nasty}"),
        manifest_url: Some(nasty.into()),
    }]);
    assert_eq!(list.matches(escaped).count(), 6, "{list}");
    assert!(list.contains("?a=1&amp;b=2"));
    let m = manifest(&[MediaFile {
        filename: nasty.into(),
        hash: nasty.into(),
        download_url: nasty.into(),
    }]);
    assert_eq!(m.matches(escaped).count(), 3, "{m}");
    for doc in [openrosa_response(nasty), openrosa_error(nasty)] {
        assert_eq!(doc.matches(escaped).count(), 1, "{doc}");
    }
    // Characters XML cannot carry are replaced; carriage returns survive as references.
    let r = openrosa_error("a\u{0}b\u{1b}c\rd\te\nf");
    assert!(r.contains(">a\u{FFFD}b\u{FFFD}c&#13;d\te\nf<"), "{r}");
}

#[test]
fn written_documents_parse_back() {
    // Our own safe parser accepts what we write (a formList has no instanceID, so it stops
    // there, after reading the whole document).
    let list = form_list(&[FormListEntry {
        form_id: "a&b".into(),
        name: "<x>".into(),
        version: None,
        hash: md5_hash(b""),
        download_url: "u".into(),
        manifest_url: None,
    }]);
    assert_eq!(
        parse_submission(list.as_bytes(), &Limits::default()),
        Err(SubmissionError::MissingFormId)
    );
}
