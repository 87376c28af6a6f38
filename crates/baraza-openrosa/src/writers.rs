//! The OpenRosa documents we send: formList, manifest, and responses to submissions.
//!
//! Their shapes follow ODK Central (`lib/formats/openrosa.js`). Every text is escaped, and
//! characters XML 1.0 cannot carry at all are replaced by U+FFFD, so the output is always
//! well-formed; it depends only on the input.

use md5::{Digest, Md5};
use serde::Serialize;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Escapes text for element content or a double- or single-quoted attribute.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn leaf(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// `md5:<lowercase hex>` of `bytes`, as OpenRosa hashes forms and media.
pub fn md5_hash(bytes: &[u8]) -> String {
    format!("md5:{}", hex::encode(Md5::digest(bytes)))
}

/// One form of a formList.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormListEntry {
    pub form_id: String,
    pub name: String,
    pub version: Option<String>,
    /// `md5:<hex>` of the XForm, see [`md5_hash`].
    pub hash: String,
    pub download_url: String,
    /// Only for forms with media files.
    pub manifest_url: Option<String>,
}

/// The OpenRosa formList (`GET /formList`). `<version>` is always written, empty without a
/// version, as ODK Central does.
pub fn form_list(entries: &[FormListEntry]) -> String {
    let mut out = String::from(DECL);
    out.push_str("<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n");
    for e in entries {
        out.push_str("  <xform>\n");
        leaf(&mut out, "    ", "formID", &e.form_id);
        leaf(&mut out, "    ", "name", &e.name);
        leaf(
            &mut out,
            "    ",
            "version",
            e.version.as_deref().unwrap_or_default(),
        );
        leaf(&mut out, "    ", "hash", &e.hash);
        leaf(&mut out, "    ", "downloadUrl", &e.download_url);
        if let Some(url) = &e.manifest_url {
            leaf(&mut out, "    ", "manifestUrl", url);
        }
        out.push_str("  </xform>\n");
    }
    out.push_str("</xforms>\n");
    out
}

/// One media file of a form's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaFile {
    pub filename: String,
    /// `md5:<hex>` of the file, see [`md5_hash`].
    pub hash: String,
    pub download_url: String,
}

/// The OpenRosa manifest of a form's media files.
pub fn manifest(files: &[MediaFile]) -> String {
    let mut out = String::from(DECL);
    out.push_str("<manifest xmlns=\"http://openrosa.org/xforms/xformsManifest\">\n");
    for f in files {
        out.push_str("  <mediaFile>\n");
        leaf(&mut out, "    ", "filename", &f.filename);
        leaf(&mut out, "    ", "hash", &f.hash);
        leaf(&mut out, "    ", "downloadUrl", &f.download_url);
        out.push_str("  </mediaFile>\n");
    }
    out.push_str("</manifest>\n");
    out
}

fn response(nature: &str, message: &str) -> String {
    format!(
        "{DECL}<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">\n  <message nature=\"{nature}\">{}</message>\n</OpenRosaResponse>\n",
        escape(message)
    )
}

/// The response to an accepted submission (`nature="submit_success"`).
pub fn openrosa_response(message: &str) -> String {
    response("submit_success", message)
}

/// The response to a refused request (`nature="error"`).
pub fn openrosa_error(message: &str) -> String {
    response("error", message)
}
