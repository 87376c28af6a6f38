//! A parsed submission's values, matched against the form and typed.

use std::collections::HashSet;

use baraza_xlsform::model::{Form, Group, Node, QType, Question};
use serde::{Deserialize, Serialize};

use crate::parse::{trim_xml, Submission};

/// A value once its question is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Typed {
    /// Nothing was answered (an empty element).
    Empty,
    Text(String),
    Int(i64),
    Decimal(f64),
    /// `YYYY-MM-DD`.
    Date(String),
    /// `HH:MM[:SS[.fff]][zone]`, as sent.
    Time(String),
    /// ISO 8601, as sent.
    DateTime(String),
    Geopoint {
        lat: f64,
        lon: f64,
        alt: Option<f64>,
        acc: Option<f64>,
    },
    /// A geotrace or geoshape: its points' latitude and longitude.
    Geotrace(Vec<(f64, f64)>),
    /// A `select_multiple` (or a rank): the choice names, in the order sent.
    Choices(Vec<String>),
    /// A `select_one`: the choice name.
    Choice(String),
    /// A binary field: the attachment's file name.
    File(String),
}

/// One value of a submission, with its question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedValue {
    /// Normalised path: every repeat segment carries its `[n]`, other segments never do.
    pub path: String,
    /// The question's name (for `meta/*`, the element's name).
    pub question: String,
    /// The path of the innermost repeat instance holding the value, e.g. `/data/member[2]`.
    pub repeat: Option<String>,
    pub value: Typed,
}

/// Why a submission's values do not fit the form. All of them are reported at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ValueError {
    #[error("the submission is for form {found_id} (root <{found_root}>), not {expected_id} (root <{expected_root}>)")]
    WrongForm {
        expected_id: String,
        expected_root: String,
        found_id: String,
        found_root: String,
    },
    #[error("the submission is for version {found:?} of the form, not {expected}")]
    WrongVersion {
        expected: String,
        found: Option<String>,
    },
    #[error("{path} is not a field of the form")]
    UnknownField { path: String },
    #[error("{path} occurs more than once but is not a repeat")]
    DuplicateField { path: String },
    #[error("{path}: {value:?} is not a valid {expected}")]
    BadValue {
        path: String,
        expected: String,
        value: String,
    },
}

impl ValueError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::WrongForm { .. } => "submission_wrong_form",
            ValueError::WrongVersion { .. } => "submission_wrong_version",
            ValueError::UnknownField { .. } => "submission_unknown_field",
            ValueError::DuplicateField { .. } => "submission_duplicate_field",
            ValueError::BadValue { .. } => "submission_bad_value",
        }
    }

    /// The path concerned, for field errors.
    pub fn path(&self) -> Option<&str> {
        match self {
            ValueError::UnknownField { path }
            | ValueError::DuplicateField { path }
            | ValueError::BadValue { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// Longest value quoted back in a [`ValueError::BadValue`], in characters.
const QUOTE_CHARS: usize = 100;

fn quote(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// A path segment: a name and its index, if it has one.
fn segment(seg: &str) -> Option<(&str, Option<usize>)> {
    match seg.strip_suffix(']') {
        Some(s) => {
            let (name, n) = s.split_once('[')?;
            let n: usize = n.parse().ok().filter(|n| *n >= 1)?;
            (!name.is_empty()).then_some((name, Some(n)))
        }
        None => (!seg.is_empty() && !seg.contains('[')).then_some((seg, None)),
    }
}

/// What a path segment names among a level's nodes.
enum Found<'a> {
    Question(&'a Question),
    Group(&'a Group),
    /// `NAME_other` of a select with `or_other`, or `NAME_count` of a repeat: plain text.
    Generated(String),
}

/// Whether a repeat has a generated `NAME_count` node (pyxform's rule: unless the count is a
/// single `${reference}`).
fn has_count_node(g: &Group) -> bool {
    match g.repeat_count.as_deref().map(str::trim) {
        None => false,
        Some(c) => !(c.starts_with("${") && c.ends_with('}') && c.matches("${").count() == 1),
    }
}

fn find<'a>(nodes: &'a [Node], name: &str) -> Option<Found<'a>> {
    for n in nodes {
        match n {
            // Audit lives at meta/audit, whatever its place in the sheet.
            Node::Question(q) if q.qtype == QType::Audit => {}
            Node::Question(q) if q.name == name => return Some(Found::Question(q)),
            Node::Group(g) if g.name == name => return Some(Found::Group(g)),
            Node::Question(q)
                if q.or_other && name.strip_suffix("_other") == Some(q.name.as_str()) =>
            {
                return Some(Found::Generated(name.to_owned()))
            }
            Node::Group(g)
                if g.repeat
                    && has_count_node(g)
                    && name.strip_suffix("_count") == Some(g.name.as_str()) =>
            {
                return Some(Found::Generated(name.to_owned()))
            }
            _ => {}
        }
    }
    None
}

/// Matches a submission's values to the form's questions and types them. On failure, every
/// problem found is returned (but a submission for another form or version is not looked into).
pub fn type_values(form: &Form, sub: &Submission) -> Result<Vec<TypedValue>, Vec<ValueError>> {
    let mut errors = Vec::new();
    if sub.root != form.root || sub.form_id != form.id {
        errors.push(ValueError::WrongForm {
            expected_id: form.id.clone(),
            expected_root: form.root.clone(),
            found_id: sub.form_id.clone(),
            found_root: sub.root.clone(),
        });
        return Err(errors);
    }
    if let Some(expected) = &form.version {
        if sub.version.as_deref() != Some(expected.as_str()) {
            errors.push(ValueError::WrongVersion {
                expected: expected.clone(),
                found: sub.version.clone(),
            });
            return Err(errors);
        }
    }

    let prefix = format!("/{}/", form.root);
    let mut out = Vec::with_capacity(sub.values.len());
    let mut duplicates = HashSet::new();
    // Normalised paths already given a value. The parser never repeats a path, but a
    // `Submission` built by other code may (the same path twice, or a repeat's path with and
    // without `[1]`): one node, one value.
    let mut seen: HashSet<String> = HashSet::new();
    for v in &sub.values {
        let unknown = || ValueError::UnknownField {
            path: v.path.clone(),
        };
        let Some(rest) = v.path.strip_prefix(&prefix) else {
            errors.push(unknown());
            continue;
        };
        let Some(segs) = rest.split('/').map(segment).collect::<Option<Vec<_>>>() else {
            errors.push(unknown());
            continue;
        };
        match resolve(form, &segs, &mut duplicates) {
            Resolved::Unknown => errors.push(unknown()),
            Resolved::Duplicate(path) => {
                if let Some(path) = path {
                    errors.push(ValueError::DuplicateField { path });
                }
            }
            Resolved::Container { path } => {
                if let Err(e) = first_value(&path, &mut seen, &mut duplicates) {
                    errors.extend(e);
                } else if !trim_xml(&v.value).is_empty() {
                    errors.push(ValueError::BadValue {
                        path,
                        expected: "group".into(),
                        value: quote(&v.value),
                    });
                }
            }
            Resolved::Field {
                path,
                question,
                repeat,
                kind,
            } => {
                if let Err(e) = first_value(&path, &mut seen, &mut duplicates) {
                    errors.extend(e);
                    continue;
                }
                match kind.read(&v.value) {
                    Ok(value) => out.push(TypedValue {
                        path,
                        question,
                        repeat,
                        value,
                    }),
                    Err(expected) => errors.push(ValueError::BadValue {
                        path,
                        expected: expected.into(),
                        value: quote(&v.value),
                    }),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Records that `path` is given a value. Given a second time, it is a duplicate:
/// `Err(Some(_))` the first time that is seen, `Err(None)` after.
fn first_value(
    path: &str,
    seen: &mut HashSet<String>,
    duplicates: &mut HashSet<String>,
) -> Result<(), Option<ValueError>> {
    if seen.insert(path.to_owned()) {
        return Ok(());
    }
    Err(duplicates
        .insert(path.to_owned())
        .then(|| ValueError::DuplicateField {
            path: path.to_owned(),
        }))
}

enum Resolved {
    Unknown,
    /// A non-repeat occurring more than once: its path, the first time only.
    Duplicate(Option<String>),
    /// An (empty, if all is well) group or repeat element.
    Container {
        path: String,
    },
    Field {
        path: String,
        question: String,
        repeat: Option<String>,
        kind: Kind,
    },
}

fn resolve(
    form: &Form,
    segs: &[(&str, Option<usize>)],
    duplicates: &mut HashSet<String>,
) -> Resolved {
    let mut path = format!("/{}", form.root);
    let mut repeat = None;
    let mut nodes = form.children.as_slice();
    let last = segs.len().saturating_sub(1);
    for (i, &(name, index)) in segs.iter().enumerate() {
        if i == 0 && name == "meta" {
            path.push_str("/meta");
            if index.is_some() {
                return duplicate(path, duplicates);
            }
            return meta(path, &segs[1..], duplicates);
        }
        let Some(found) = find(nodes, name) else {
            return Resolved::Unknown;
        };
        match found {
            Found::Group(g) if g.repeat => {
                path.push_str(&format!("/{name}[{}]", index.unwrap_or(1)));
                repeat = Some(path.clone());
                nodes = &g.children;
            }
            Found::Group(g) => {
                path.push('/');
                path.push_str(name);
                if index.is_some() {
                    return duplicate(path, duplicates);
                }
                nodes = &g.children;
            }
            Found::Question(_) | Found::Generated(_) if i != last => return Resolved::Unknown,
            Found::Question(_) | Found::Generated(_) if index.is_some() => {
                path.push('/');
                path.push_str(name);
                return duplicate(path, duplicates);
            }
            Found::Question(q) => {
                path.push('/');
                path.push_str(name);
                return Resolved::Field {
                    path,
                    question: q.name.clone(),
                    repeat,
                    kind: Kind::of(q),
                };
            }
            Found::Generated(n) => {
                path.push('/');
                path.push_str(name);
                return Resolved::Field {
                    path,
                    question: n,
                    repeat,
                    kind: Kind::Text,
                };
            }
        }
    }
    Resolved::Container { path }
}

fn duplicate(path: String, duplicates: &mut HashSet<String>) -> Resolved {
    let first = duplicates.insert(path.clone());
    Resolved::Duplicate(first.then_some(path))
}

/// `meta/*`: any element is accepted; `audit` is an attachment, everything else text.
fn meta(
    mut path: String,
    segs: &[(&str, Option<usize>)],
    duplicates: &mut HashSet<String>,
) -> Resolved {
    let Some(&(name, _)) = segs.last() else {
        return Resolved::Container { path };
    };
    for &(n, index) in segs {
        path.push('/');
        path.push_str(n);
        if let Some(k) = index {
            path.push_str(&format!("[{k}]"));
        }
    }
    if segs.len() == 1 && segs.iter().any(|(_, index)| index.is_some()) {
        // Two instanceIDs (or audits…) make the submission ambiguous.
        return duplicate(path, duplicates);
    }
    let kind = if segs.len() == 1 && name == "audit" {
        Kind::File
    } else {
        Kind::Text
    };
    Resolved::Field {
        path,
        question: name.to_owned(),
        repeat: None,
        kind,
    }
}

/// How to read a question's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Choice,
    Choices,
    Int,
    Decimal,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    File,
}

impl Kind {
    fn of(q: &Question) -> Kind {
        use QType::*;
        match q.qtype {
            SelectOne | SelectOneFromFile | SelectOneExternal => return Kind::Choice,
            SelectMultiple | SelectMultipleFromFile | Rank => return Kind::Choices,
            _ => {}
        }
        match q.qtype.bind_type() {
            "int" => Kind::Int,
            "decimal" => Kind::Decimal,
            "date" => Kind::Date,
            "time" => Kind::Time,
            "dateTime" => Kind::DateTime,
            "geopoint" => Kind::Geopoint,
            "geotrace" => Kind::Geotrace,
            "geoshape" => Kind::Geoshape,
            "binary" => Kind::File,
            _ => Kind::Text,
        }
    }

    /// Reads `raw`, or says what was expected.
    fn read(self, raw: &str) -> Result<Typed, &'static str> {
        if self == Kind::Text {
            return Ok(if raw.is_empty() {
                Typed::Empty
            } else {
                Typed::Text(raw.to_owned())
            });
        }
        let s = trim_xml(raw);
        if s.is_empty() {
            return Ok(Typed::Empty);
        }
        match self {
            Kind::Text => Ok(Typed::Text(raw.to_owned())),
            Kind::Choice => Ok(Typed::Choice(s.to_owned())),
            Kind::Choices => Ok(Typed::Choices(
                s.split(crate::parse::is_xml_space)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )),
            Kind::Int => int(s).map(Typed::Int).ok_or("integer"),
            Kind::Decimal => decimal(s).map(Typed::Decimal).ok_or("decimal"),
            Kind::Date => date(s)
                .then(|| Typed::Date(s.to_owned()))
                .ok_or("date (YYYY-MM-DD)"),
            Kind::Time => time(s)
                .then(|| Typed::Time(s.to_owned()))
                .ok_or("time (HH:MM:SS)"),
            Kind::DateTime => s
                .split_once('T')
                .filter(|(d, t)| date(d) && time(t))
                .map(|_| Typed::DateTime(s.to_owned()))
                .ok_or("dateTime (YYYY-MM-DDTHH:MM:SS)"),
            Kind::Geopoint => geopoint(s)
                .map(|(lat, lon, alt, acc)| Typed::Geopoint { lat, lon, alt, acc })
                .ok_or("geopoint (latitude longitude [altitude [accuracy]])"),
            Kind::Geotrace => points(s).map(Typed::Geotrace).ok_or("geotrace"),
            Kind::Geoshape => points(s).map(Typed::Geotrace).ok_or("geoshape"),
            Kind::File => safe_attachment_name(s)
                .then(|| Typed::File(s.to_owned()))
                .ok_or("attachment file name"),
        }
    }
}

/// Reads an answer to `q` as its type, or says what was expected (e.g. `"integer"`).
pub fn read_value(q: &Question, raw: &str) -> Result<Typed, &'static str> {
    Kind::of(q).read(raw)
}

impl Typed {
    /// The value as an XForm instance writes it (the inverse of [`read_value`]).
    pub fn to_raw(&self) -> String {
        fn num(x: f64) -> String {
            format!("{x}")
        }
        match self {
            Typed::Empty => String::new(),
            Typed::Text(s)
            | Typed::Date(s)
            | Typed::Time(s)
            | Typed::DateTime(s)
            | Typed::Choice(s)
            | Typed::File(s) => s.clone(),
            Typed::Int(i) => i.to_string(),
            Typed::Decimal(d) => num(*d),
            Typed::Geopoint { lat, lon, alt, acc } => {
                let mut out = format!("{} {}", num(*lat), num(*lon));
                if let Some(a) = alt {
                    out.push(' ');
                    out.push_str(&num(*a));
                    if let Some(c) = acc {
                        out.push(' ');
                        out.push_str(&num(*c));
                    }
                }
                out
            }
            Typed::Geotrace(points) => points
                .iter()
                .map(|(lat, lon)| format!("{} {}", num(*lat), num(*lon)))
                .collect::<Vec<_>>()
                .join(";"),
            Typed::Choices(c) => c.join(" "),
        }
    }
}

fn int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A finite decimal: `[+-]digits[.digits][e[+-]digits]` (no `NaN`, no `inf`, no hex).
fn decimal(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn number(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD`, a real day of the Gregorian calendar.
fn date(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (number(y, 4), number(m, 2), number(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `HH:MM[:SS[.fff]]` with an optional zone `Z`, `±HH`, `±HHMM` or `±HH:MM`.
fn time(s: &str) -> bool {
    let (clock, zone) = match s.find(['Z', '+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let ok_zone = match zone {
        None | Some("Z") => true,
        Some(z) => {
            // The zone starts with an ASCII sign.
            let z = z.get(1..).unwrap_or_default();
            let (h, m) = match z.len() {
                2 => (number(z, 2), Some(0)),
                4 => (
                    z.get(..2).and_then(|h| number(h, 2)),
                    z.get(2..).and_then(|m| number(m, 2)),
                ),
                5 if z.as_bytes().get(2) == Some(&b':') => (
                    z.get(..2).and_then(|h| number(h, 2)),
                    z.get(3..).and_then(|m| number(m, 2)),
                ),
                _ => (None, None),
            };
            matches!((h, m), (Some(h), Some(m)) if h <= 14 && m <= 59)
        }
    };
    let mut parts = clock.split(':');
    let (Some(h), Some(m), sec, None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let ok_sec = match sec {
        None => true,
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            matches!(number(whole, 2), Some(x) if x <= 59)
                && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    ok_zone
        && ok_sec
        && matches!(number(h, 2), Some(h) if h <= 23)
        && matches!(number(m, 2), Some(m) if m <= 59)
}

type Point = (f64, f64, Option<f64>, Option<f64>);

/// `lat lon [alt [acc]]`, latitude in [-90, 90], longitude in [-180, 180], accuracy ≥ 0.
fn geopoint(s: &str) -> Option<Point> {
    let nums = s
        .split(crate::parse::is_xml_space)
        .filter(|t| !t.is_empty())
        .map(decimal)
        .collect::<Option<Vec<f64>>>()?;
    let (lat, lon, alt, acc) = match nums.as_slice() {
        [lat, lon] => (*lat, *lon, None, None),
        [lat, lon, alt] => (*lat, *lon, Some(*alt), None),
        [lat, lon, alt, acc] => (*lat, *lon, Some(*alt), Some(*acc)),
        _ => return None,
    };
    let ok = (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && acc.is_none_or(|a| a >= 0.0);
    ok.then_some((lat, lon, alt, acc))
}

/// Points separated by `;` (a trailing `;` is tolerated, as ODK Collect writes one).
fn points(s: &str) -> Option<Vec<(f64, f64)>> {
    let pts = s
        .split(';')
        .map(trim_xml)
        .filter(|p| !p.is_empty())
        .map(|p| geopoint(p).map(|(lat, lon, _, _)| (lat, lon)))
        .collect::<Option<Vec<_>>>()?;
    (!pts.is_empty()).then_some(pts)
}

/// Whether `name` can be used as an attachment's file name: not empty, at most 255 bytes, no
/// `/` or `\`, no `..`, no control character, not starting with `.`.
pub fn safe_attachment_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.contains("..")
        && !name.chars().any(char::is_control)
}

/// The attachment file names that binary fields refer to, each once, in order.
pub fn attachment_names(values: &[TypedValue]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .filter_map(|v| match &v.value {
            Typed::File(name) if seen.insert(name.as_str()) => Some(name.clone()),
            _ => None,
        })
        .collect()
}
