//! XLSForm in, ODK XForm out, with every mistake explained.
//!
//! Our users design surveys as XLSForm spreadsheets, the format of KoboToolbox and ODK. This crate
//! takes their file as it is (`.xlsx`, `.xls`, or pyxform's `.csv`/`.md` one-table layouts) and
//! goes through three stages, each in its module:
//!
//! 1. [`read`]: bytes to sheets of text cells, refusing zip bombs and oversized sheets before any
//!    expansion, decoding non-UTF-8 CSV as Windows-1252 with a warning, keeping row numbers;
//! 2. [`compile`] and [`refs`]: sheets to a checked [`model::Form`]. Every row is looked at even
//!    after a mistake, so that *all* problems are reported at once, each a [`diag::Diagnostic`]
//!    with a stable code, its sheet, row and column, and a message in English and French.
//!    Expressions are parsed and checked with `baraza-expr`; `${references}` must exist;
//!    calculations must not depend on each other in a circle;
//! 3. [`xform`]: the form to the XForm XML that ODK Collect runs, structured as pyxform writes it
//!    (primary instance with repeat templates, secondary instances for choice lists, binds, itext
//!    translations, body controls). Expressions are written as the author typed them, with each
//!    `${name}` replaced by its path — absolute, or relative when both ends share a repeat — which
//!    is what pyxform does too.
//!
//! Every question also leaves the compiler with a [`model::Sensitivity`] — `public`, `internal`,
//! `personal` or `sensitive` — because data-responsibility guidance asks that each field be
//! classified and the rest of Baraza (encryption at rest, exports, disclosure control) must not
//! guess. The author writes it in a `sensitivity` column, on the question or on a group whose
//! fields inherit it, and marks `quasi_identifier` fields for disclosure control. Fields that say
//! nothing take the `sensitivity` setting (`internal` by default), except media, locations,
//! identifying metadata and names that look like personal data (a tested list of English and
//! French words), which are assumed `personal` with a warning asking the author to confirm.
//! The level is decided once, at compile time, so readers never recompute it. These columns
//! are Baraza's own: they never reach the XForm, which stays what pyxform writes, and pyxform
//! ignores them.
//!
//! The crate is pure: no IO beyond the bytes it is given, no clock, no globals. Nothing in it
//! panics on input; `tests/conformance.rs` runs a corpus of forms whose expected XForms were
//! produced by pyxform, and prints the pass rate.

pub mod compile;
pub mod diag;
pub mod model;
pub mod read;
pub mod refs;
pub mod xform;

pub use diag::{Diagnostic, Lang, Severity};
pub use model::Form;
pub use read::Format;

/// The outcome of compiling a form.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub form: Option<Form>,
    /// The XForm, when the form has no error.
    pub xform: Option<String>,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// Compiles a form file. `file_name` gives the format (by extension) and, without a `form_id`
/// setting, the form's id.
pub fn compile_file(bytes: &[u8], file_name: &str) -> Compiled {
    let stem = std::path::Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data");
    match Format::from_name(file_name) {
        Some(format) => compile(bytes, format, stem),
        None => Compiled {
            form: None,
            xform: None,
            diagnostics: vec![Diagnostic::error("file_unreadable", "-").arg(
                "detail",
                format!("{file_name}: use .xlsx, .xls, .csv or .md"),
            )],
        },
    }
}

/// Compiles form bytes in `format`; `form_name` is the id used when settings give none.
pub fn compile(bytes: &[u8], format: Format, form_name: &str) -> Compiled {
    let mut diagnostics = Vec::new();
    let form = read::read(bytes, format, &mut diagnostics)
        .and_then(|book| compile::compile_workbook(&book, form_name, &mut diagnostics));
    let has_errors = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let xform = match (&form, has_errors) {
        (Some(f), false) => Some(xform::write(f)),
        _ => None,
    };
    Compiled {
        form,
        xform,
        diagnostics,
    }
}
