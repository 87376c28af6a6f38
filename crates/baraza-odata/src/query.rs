//! The query options of a feed request and the resource path after `.svc`.

use crate::filter::{parse_filter, Filter};
use crate::ODataError;

/// The query options Baraza understands. Others (`$format=json` and unknown parameters) are
/// ignored, as ODK Central ignores them; `$orderby`, `$search`, `$apply` and `$compute` are
/// refused as unsupported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub top: Option<u64>,
    pub skip: u64,
    pub count: bool,
    pub wkt: bool,
    pub expand: bool,
    pub filter: Option<Filter>,
    /// The properties of `$select` (None, or `*`: every property).
    pub select: Option<Vec<String>>,
    /// The opaque position that `@odata.nextLink` carries.
    pub skiptoken: Option<String>,
}

fn number(key: &str, v: &str) -> Result<u64, ODataError> {
    if v.is_empty() || v.len() > 18 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ODataError::Invalid(format!(
            "{key} must be a whole number of 0 or more, not {v:?}"
        )));
    }
    v.parse()
        .map_err(|_| ODataError::Invalid(format!("{key} is too large")))
}

/// `true` or `false`, in any case (pyodk sends Python's `True`, as ODK Central accepts).
fn boolean(key: &str, v: &str) -> Result<bool, ODataError> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ODataError::Invalid(format!(
            "{key} must be true or false, not {v:?}"
        ))),
    }
}

impl Options {
    /// Reads the options from the decoded query pairs.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Options, ODataError> {
        let mut o = Options::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            if k.starts_with('$') {
                if seen.contains(&k) {
                    return Err(ODataError::Invalid(format!("{k} is given twice")));
                }
                seen.push(k);
            }
            match k {
                "$top" => o.top = Some(number(k, v)?),
                "$skip" => o.skip = number(k, v)?,
                "$count" => o.count = boolean(k, v)?,
                "$wkt" => o.wkt = boolean(k, v)?,
                "$filter" => o.filter = Some(parse_filter(v)?),
                "$expand" => match v.trim() {
                    "*" => o.expand = true,
                    "" => {}
                    other => {
                        return Err(ODataError::Unsupported(format!(
                            "$expand={other} is not supported; use $expand=*"
                        )))
                    }
                },
                "$select" => {
                    let v = v.trim();
                    if v != "*" && !v.is_empty() {
                        o.select = Some(v.split(',').map(|p| p.trim().to_owned()).collect());
                    }
                }
                "$skiptoken" => o.skiptoken = Some(v.to_owned()),
                "$format" if v == "json" || v.starts_with("application/json") => {}
                "$format" => {
                    return Err(ODataError::Unsupported(format!(
                        "$format={v} is not supported; the feed is JSON"
                    )))
                }
                "$orderby" | "$search" | "$apply" | "$compute" | "$levels" | "$index" => {
                    return Err(ODataError::Unsupported(format!("{k} is not supported")))
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// What a request after `.svc/` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `$metadata`.
    Metadata,
    /// A whole entity set: `Submissions` or `Submissions.menage.enfant`.
    Table(String),
    /// One submission, or the rows of one of its repeats:
    /// `Submissions('uuid:…')`, `Submissions('uuid:…')/menage/enfant`,
    /// `Submissions('uuid:…')/outer('…')/inner`.
    Entity {
        instance_id: String,
        /// The path below the submission: names (sanitised), each with the `__id` of a repeat
        /// instance if one was given.
        path: Vec<(String, Option<String>)>,
    },
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `name('key')` → (name, key), `name` → (name, None).
fn keyed(segment: &str) -> Result<(String, Option<String>), ODataError> {
    let bad = || ODataError::NotFound(format!("no entity set {segment:?}"));
    let decoded = percent_decode(segment).ok_or_else(bad)?;
    match decoded.split_once('(') {
        None => Ok((decoded, None)),
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .and_then(|r| r.strip_prefix('\''))
                .and_then(|r| r.strip_suffix('\''))
                .ok_or_else(bad)?;
            if inner.is_empty() || inner.replace("''", "").contains('\'') {
                return Err(bad());
            }
            Ok((name.to_owned(), Some(inner.replace("''", "'"))))
        }
    }
}

impl Resource {
    /// Reads the path after `.svc/` (as received, percent-encoded).
    pub fn parse(rest: &str) -> Result<Resource, ODataError> {
        let rest = rest.trim_start_matches('/');
        if rest == "$metadata" {
            return Ok(Resource::Metadata);
        }
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.len() > 64 {
            return Err(ODataError::NotFound("the path is too deep".into()));
        }
        let (first, key) = keyed(segments[0])?;
        match key {
            None if segments.len() == 1 => Ok(Resource::Table(first)),
            None => Err(ODataError::NotFound(format!(
                "{first} needs a key such as Submissions('uuid:…') before /"
            ))),
            Some(id) if first == "Submissions" => {
                let path = segments[1..]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| keyed(s))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Resource::Entity {
                    instance_id: id,
                    path,
                })
            }
            Some(_) => Err(ODataError::NotFound(format!("no entity set {first:?}"))),
        }
    }
}

/// The `$skiptoken` of the position after the submission with this id (the store's keyset).
pub fn skiptoken(last_id: i64) -> String {
    format!("v1.{last_id}")
}

/// The id a `$skiptoken` made by [`skiptoken`] carries.
pub fn read_skiptoken(token: &str) -> Result<i64, ODataError> {
    token
        .strip_prefix("v1.")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ODataError::Invalid(
                "$skiptoken is not one this server made; follow @odata.nextLink as given".into(),
            )
        })
}
