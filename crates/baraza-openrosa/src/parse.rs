//! Submission XML to a flat list of leaf values, refusing anything that could make a parser
//! misbehave (DTDs, external or custom entities, processing instructions, non-UTF-8 text,
//! oversized, overdeep or overlong documents).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

/// What a submission may cost us. Every limit is checked while reading, before the work it
/// bounds is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the XML document, in bytes. The paths of the parsed values may take at most
    /// [`PATH_BUDGET_FACTOR`] times as much.
    pub max_bytes: usize,
    /// Element nesting, the root counting as 1.
    pub max_depth: usize,
    /// Number of elements, the root included.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_depth: 64,
            max_elements: 200_000,
        }
    }
}

/// The values' paths may take this many times [`Limits::max_bytes`] in total: deep elements with
/// long names and many leaves would otherwise let a small document expand into gigabytes of
/// paths.
pub const PATH_BUDGET_FACTOR: usize = 8;

/// Longest element name accepted, in bytes (XForm names are short identifiers).
pub const MAX_NAME_BYTES: usize = 255;

/// One leaf element of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Value {
    /// Absolute path of local names, e.g. `/data/member[2]/name`; a segment carries a 1-based
    /// `[n]` when its element has a sibling of the same name.
    pub path: String,
    /// The text, entities resolved and line ends normalised, otherwise as sent.
    pub value: String,
}

/// A parsed submission: its identity and its leaf values in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// Local name of the root element.
    pub root: String,
    /// The root's `id` attribute.
    pub form_id: String,
    /// The root's `version` attribute.
    pub version: Option<String>,
    /// `meta/instanceID`, trimmed, never empty.
    pub instance_id: String,
    /// `meta/deprecatedID` when present and not empty (the instance this one edits).
    pub deprecated_id: Option<String>,
    /// `meta/instanceName` when present and not empty.
    pub instance_name: Option<String>,
    /// Every leaf element below the root, in document order.
    pub values: Vec<Value>,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("the submission has a DOCTYPE (DTD or entity declarations), which is never accepted")]
    Dtd,
    #[error("the submission is larger than {limit} bytes (or its paths would be)")]
    TooLarge { limit: usize },
    #[error("the submission nests elements deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the submission has more than {limit} elements")]
    TooManyElements { limit: usize },
    #[error("the submission is not well-formed XML at byte {offset}: {detail}")]
    Malformed { offset: usize, detail: String },
    #[error("the submission is not UTF-8")]
    NotUtf8,
    #[error("the submission has no meta/instanceID")]
    MissingInstanceId,
    #[error("the submission's root element has no id attribute")]
    MissingFormId,
}

impl SubmissionError {
    /// A stable snake_case code, for APIs and translations.
    pub fn code(&self) -> &'static str {
        match self {
            SubmissionError::Dtd => "submission_dtd",
            SubmissionError::TooLarge { .. } => "submission_too_large",
            SubmissionError::TooDeep { .. } => "submission_too_deep",
            SubmissionError::TooManyElements { .. } => "submission_too_many_elements",
            SubmissionError::Malformed { .. } => "submission_malformed",
            SubmissionError::NotUtf8 => "submission_not_utf8",
            SubmissionError::MissingInstanceId => "submission_missing_instance_id",
            SubmissionError::MissingFormId => "submission_missing_form_id",
        }
    }
}

fn malformed(offset: usize, detail: impl Into<String>) -> SubmissionError {
    SubmissionError::Malformed {
        offset,
        detail: detail.into(),
    }
}

/// XML's whitespace (not Unicode's).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(crate) fn trim_xml(s: &str) -> &str {
    s.trim_matches(is_xml_space)
}

/// XML 1.0's `Char` production (Rust's `char` already excludes surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// A conservative XML name: letters, digits, `_ - .`, non-ASCII, at most one `:` (prefix).
fn valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.matches(':').count() > 1 {
        return false;
    }
    name.split(':').all(|part| {
        let mut chars = part.chars();
        match chars.next() {
            Some(c) if c.is_alphabetic() || c == '_' => {}
            _ => return false,
        }
        chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Resolves one reference (`name` between `&` and `;`): the five predefined entities and
/// character references only.
fn resolve_ref(name: &str) -> Result<char, String> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let num = name
                .strip_prefix('#')
                .ok_or_else(|| format!("undefined entity &{name};"))?;
            let code = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()
                }
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
                    num.parse::<u32>().ok()
                }
                _ => None,
            };
            code.and_then(char::from_u32)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(|| format!("invalid character reference &{name};"))?
        }
    };
    Ok(c)
}

/// Unescapes an attribute value with [`resolve_ref`], refusing `<` and lone `&`.
fn unescape_attr(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with('<') {
            return Err("'<' in an attribute value".into());
        }
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "'&' without ';' in an attribute value".to_owned())?;
        out.push(resolve_ref(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    // Attribute-value normalisation: whitespace characters become spaces.
    Ok(out
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect())
}

/// One element of the document tree. Elements are stored in start-tag order, which is the
/// document order and puts every parent before its children.
struct Elem {
    name: String,
    children: Vec<usize>,
    text: String,
}

impl Elem {
    fn new(name: String) -> Self {
        Elem {
            name,
            children: Vec::new(),
            text: String::new(),
        }
    }
}

struct Tree {
    elems: Vec<Elem>,
    stack: Vec<usize>,
    root_done: bool,
    form_id: Option<String>,
    version: Option<String>,
}

impl Tree {
    /// Appends character data to the open element, refusing text outside the root and text
    /// mixed with child elements.
    fn text(&mut self, s: &str, offset: usize) -> Result<(), SubmissionError> {
        let blank = s.chars().all(is_xml_space);
        let Some(&top) = self.stack.last() else {
            return if blank {
                Ok(())
            } else {
                Err(malformed(offset, "text outside the root element"))
            };
        };
        // The stack only holds indices of pushed elements.
        let Some(elem) = self.elems.get_mut(top) else {
            return Ok(());
        };
        if !blank && (top == 0 || !elem.children.is_empty()) {
            return Err(malformed(
                offset,
                format!("text mixed with elements in <{}>", elem.name),
            ));
        }
        if elem.children.is_empty() && top != 0 {
            elem.text.push_str(s);
        }
        Ok(())
    }

    fn open(
        &mut self,
        e: &BytesStart<'_>,
        limits: &Limits,
        offset: usize,
    ) -> Result<usize, SubmissionError> {
        let qname = e.name().into_inner();
        if !valid_name(qname) {
            return Err(malformed(offset, "invalid element name"));
        }
        if self.root_done {
            return Err(malformed(offset, "a second root element"));
        }
        if self.elems.len() >= limits.max_elements {
            return Err(SubmissionError::TooManyElements {
                limit: limits.max_elements,
            });
        }
        if self.stack.len() >= limits.max_depth {
            return Err(SubmissionError::TooDeep {
                limit: limits.max_depth,
            });
        }
        let is_root = self.stack.is_empty();
        for attr in e.attributes() {
            let attr = attr.map_err(|err| malformed(offset, err.to_string()))?;
            let value = unescape_attr(&attr.value).map_err(|d| malformed(offset, d))?;
            let key = attr.key.into_inner();
            if !valid_name(key) {
                return Err(malformed(offset, "invalid attribute name"));
            }
            if is_root && !key.contains(':') {
                match key {
                    "id" => self.form_id = Some(value),
                    "version" => self.version = Some(value),
                    _ => {}
                }
            }
        }
        let index = self.elems.len();
        if let Some(&parent) = self.stack.last() {
            if let Some(p) = self.elems.get_mut(parent) {
                if p.text.chars().any(|c| !is_xml_space(c)) {
                    return Err(malformed(
                        offset,
                        format!("text mixed with elements in <{}>", p.name),
                    ));
                }
                p.text = String::new();
                p.children.push(index);
            }
        }
        self.elems.push(Elem::new(local(qname).to_owned()));
        Ok(index)
    }
}

/// Whether a submission is ODK's encrypted envelope: its root element has `encrypted="yes"`
/// (any case). Reads only up to the root's start tag; anything unreadable is not an envelope
/// (the normal parser then says what is wrong with it).
pub fn is_encrypted_envelope(xml: &[u8]) -> bool {
    let body = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut reader = Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return e.attributes().flatten().any(|a| {
                    a.key.into_inner() == "encrypted"
                        && unescape_attr(&a.value).is_ok_and(|v| v.eq_ignore_ascii_case("yes"))
                });
            }
            Ok(Event::Eof) | Err(_) | Ok(Event::DocType(_)) => return false,
            Ok(_) => {}
        }
    }
}

/// Parses a submission's XML, safely: see the crate documentation for what is refused.
pub fn parse_submission(xml: &[u8], limits: &Limits) -> Result<Submission, SubmissionError> {
    if xml.len() > limits.max_bytes {
        return Err(SubmissionError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let (bom, body) = match xml.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, xml),
    };
    let text = std::str::from_utf8(body).map_err(|_| SubmissionError::NotUtf8)?;
    if let Some((i, c)) = text.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(malformed(
            bom + i,
            format!("character U+{:04X} is not allowed in XML", u32::from(c)),
        ));
    }

    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
    }
    let mut tree = Tree {
        elems: Vec::new(),
        stack: Vec::new(),
        root_done: false,
        form_id: None,
        version: None,
    };
    let mut first = true;
    loop {
        let before = bom + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|err| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            malformed(bom.saturating_add(at), err.to_string())
        })?;
        let was_first = std::mem::replace(&mut first, false);
        match event {
            Event::DocType(_) => return Err(SubmissionError::Dtd),
            Event::Decl(d) => {
                if !was_first {
                    return Err(malformed(before, "XML declaration not at the start"));
                }
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|err| malformed(before, err.to_string()))?;
                    if !matches!(enc.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                        return Err(SubmissionError::NotUtf8);
                    }
                }
            }
            Event::PI(_) => {
                return Err(malformed(
                    before,
                    "processing instructions are not accepted",
                ))
            }
            Event::Comment(_) => {}
            Event::Start(e) => {
                let index = tree.open(&e, limits, before)?;
                tree.stack.push(index);
            }
            Event::Empty(e) => {
                tree.open(&e, limits, before)?;
                if tree.stack.is_empty() {
                    tree.root_done = true;
                }
            }
            Event::End(_) => {
                tree.stack.pop();
                if tree.stack.is_empty() {
                    tree.root_done = true;
                }
            }
            Event::Text(t) => tree.text(&t.xml10_content(), before)?,
            Event::CData(c) => {
                if tree.stack.is_empty() {
                    return Err(malformed(before, "CDATA outside the root element"));
                }
                let content = c.xml10_content();
                tree.text(&content, before)?;
            }
            Event::GeneralRef(r) => {
                let c = resolve_ref(&r).map_err(|d| malformed(before, d))?;
                let mut buf = [0u8; 4];
                tree.text(c.encode_utf8(&mut buf), before)?;
            }
            Event::Eof => break,
        }
    }
    let end = bom + text.len();
    if let Some(&open) = tree.stack.last() {
        let name = tree.elems.get(open).map_or("?", |e| e.name.as_str());
        return Err(malformed(end, format!("element <{name}> is not closed")));
    }
    if tree.elems.is_empty() {
        return Err(malformed(end, "no root element"));
    }
    finish(tree, limits)
}

/// Computes paths and metadata once the tree is complete.
fn finish(tree: Tree, limits: &Limits) -> Result<Submission, SubmissionError> {
    let Tree {
        mut elems,
        form_id,
        version,
        ..
    } = tree;
    let form_id = form_id
        .map(|s| trim_xml(&s).to_owned())
        .filter(|s| !s.is_empty())
        .ok_or(SubmissionError::MissingFormId)?;

    let root = elems.first().map(|e| e.name.clone()).unwrap_or_default();
    let meta_text = |elems: &[Elem], field: &str| -> Option<String> {
        let root = elems.first()?;
        let meta = root
            .children
            .iter()
            .filter_map(|&i| elems.get(i))
            .find(|e| e.name == "meta")?;
        meta.children
            .iter()
            .filter_map(|&i| elems.get(i))
            .find(|e| e.name == field && e.children.is_empty())
            .map(|e| trim_xml(&e.text).to_owned())
            .filter(|s| !s.is_empty())
    };
    let instance_id = meta_text(&elems, "instanceID").ok_or(SubmissionError::MissingInstanceId)?;
    let deprecated_id = meta_text(&elems, "deprecatedID");
    let instance_name = meta_text(&elems, "instanceName");

    // Paths: parents come before children, so one pass in index order fills them all.
    let budget = limits.max_bytes.saturating_mul(PATH_BUDGET_FACTOR);
    let mut spent = 0usize;
    let mut paths: Vec<String> = vec![String::new(); elems.len()];
    if let Some(p) = paths.first_mut() {
        *p = format!("/{root}");
    }
    let mut values = Vec::new();
    for i in 0..elems.len() {
        let Some(elem) = elems.get(i) else { break };
        if elem.children.is_empty() {
            continue;
        }
        // An element's children have larger indices: its own path is no longer needed once
        // they have theirs (leaves keep theirs, for the values).
        let parent_path = paths.get_mut(i).map(std::mem::take).unwrap_or_default();
        let mut totals: std::collections::HashMap<&str, usize> = Default::default();
        for &c in &elem.children {
            if let Some(child) = elems.get(c) {
                *totals.entry(child.name.as_str()).or_default() += 1;
            }
        }
        let mut seen: std::collections::HashMap<&str, usize> = Default::default();
        for &c in &elem.children {
            let Some(child) = elems.get(c) else { continue };
            let name = child.name.as_str();
            let path = if totals.get(name).copied().unwrap_or(0) > 1 {
                let n = seen.entry(name).or_default();
                *n += 1;
                format!("{parent_path}/{name}[{n}]")
            } else {
                format!("{parent_path}/{name}")
            };
            spent = spent.saturating_add(path.len());
            if spent > budget {
                return Err(SubmissionError::TooLarge {
                    limit: limits.max_bytes,
                });
            }
            if let Some(slot) = paths.get_mut(c) {
                *slot = path;
            }
        }
    }
    for (i, elem) in elems.iter_mut().enumerate().skip(1) {
        if elem.children.is_empty() {
            let path = paths.get_mut(i).map(std::mem::take).unwrap_or_default();
            values.push(Value {
                path,
                value: std::mem::take(&mut elem.text),
            });
        }
    }
    Ok(Submission {
        root,
        form_id,
        version,
        instance_id,
        deprecated_id,
        instance_name,
        values,
    })
}

#[cfg(test)]
mod envelope_tests {
    use super::is_encrypted_envelope;

    #[test]
    fn recognises_encrypted_envelopes_by_their_root() {
        assert!(is_encrypted_envelope(
            br#"<?xml version='1.0'?><data id="f" encrypted="yes"><a/></data>"#
        ));
        assert!(is_encrypted_envelope(br#"<data encrypted='YES'/>"#));
        assert!(!is_encrypted_envelope(
            br#"<data id="f"><encrypted>yes</encrypted></data>"#
        ));
        assert!(!is_encrypted_envelope(
            br#"<!DOCTYPE d><data encrypted="yes"/>"#
        ));
        assert!(!is_encrypted_envelope(b"not xml <"));
    }
}
