//! Unit tests, table-driven, and proptest "fuzz" targets.

mod fuzz;
mod parse;
mod typed;
mod writers;

use baraza_xlsform::model::Form;

/// The form most tests use: every type, a group, nested repeats, `or_other`, an audit.
pub(crate) const FORM_MD: &str = r#"
| survey |                           |        |           |
|        | type                      | name   | label     |
|        | text                      | title  | Title     |
|        | integer                   | age    | Age       |
|        | decimal                   | income | Income    |
|        | date                      | dob    | Birth     |
|        | time                      | wake   | Wake      |
|        | datetime                  | seen   | Seen      |
|        | geopoint                  | loc    | Location  |
|        | geotrace                  | road   | Road      |
|        | geoshape                  | plot   | Plot      |
|        | select_one yn             | ok     | OK        |
|        | select_multiple fruit     | fruits | Fruits    |
|        | select_one fruit or_other | fav    | Favourite |
|        | image                     | photo  | Photo     |
|        | barcode                   | code   | Code      |
|        | begin group               | g      | Group     |
|        | text                      | inner  | Inner     |
|        | end group                 |        |           |
|        | begin repeat              | member | Member    |
|        | text                      | name   | Name      |
|        | begin repeat              | visit  | Visit     |
|        | date                      | when   | When      |
|        | end repeat                |        |           |
|        | end repeat                |        |           |
|        | audit                     | audit  |           |
| choices |           |        |        |
|         | list_name | name   | label  |
|         | yn        | yes    | Yes    |
|         | yn        | no     | No     |
|         | fruit     | apple  | Apple  |
|         | fruit     | banana | Banana |
| settings |         |         |
|          | form_id | version |
|          | hh      | 2026011 |
"#;

pub(crate) fn compile(md: &str) -> Form {
    let compiled = baraza_xlsform::compile(md.as_bytes(), baraza_xlsform::Format::Markdown, "data");
    assert!(
        !compiled.has_errors(),
        "form does not compile: {:?}",
        compiled.diagnostics
    );
    compiled.form.expect("a form without errors")
}

pub(crate) fn form() -> Form {
    compile(FORM_MD)
}

/// A submission document for the test form: `body` goes between the root and `<meta>`.
pub(crate) fn doc(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="hh" version="2026011">
{body}
<meta><instanceID>uuid:0001</instanceID></meta>
</data>"#
    )
}
