//! Harvesting, the pure part: what another catalogue says about a dataset, read from a CKAN
//! Action API answer or a DCAT graph (Turtle or RDF/XML), normalised into one
//! [`RemoteDataset`], and the content hash that tells whether it changed since the last run.
//!
//! Nothing here fetches anything: the core brings the bytes, decides what to store and keeps
//! the watermark. Each remote record is mapped on its own, so that one bad record is one error
//! in the run's log and the rest of the page is still read.
//!
//! RDF is parsed with `oxttl` and `oxrdfxml` (maintained, pure Rust, no DTD or external entity
//! is ever loaded), never by hand.

use crate::licences::{self, LICENCES};
use crate::model::{clean_tag, slugify, valid_name};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Longest title kept (the local rule), in characters.
const MAX_TITLE: usize = 300;
/// Longest description kept, in characters.
const MAX_NOTES: usize = 20_000;
/// Most resources kept per dataset.
const MAX_RESOURCES: usize = 200;
/// Most tags kept per dataset.
const MAX_TAGS: usize = 100;

/// A dataset as a remote catalogue describes it, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteDataset {
    /// The key, stable across runs: CKAN's `id`, DCAT's `dct:identifier` or the dataset's IRI.
    pub remote_id: String,
    /// The remote URL name (CKAN `name`, or the IRI's last segment), from which the local name
    /// is derived.
    pub name: String,
    pub title: String,
    pub notes: String,
    /// A licence id known here, or empty when the remote's is unknown (the source's default
    /// licence then applies).
    pub license_id: String,
    pub tags: Vec<String>,
    /// `sdg-N` groups only; the remote's other groups have no meaning here.
    pub groups: Vec<String>,
    /// A code of [`crate::licences::FREQUENCIES`], or empty.
    pub frequency: String,
    pub temporal_start: String,
    pub temporal_end: String,
    pub spatial: Vec<String>,
    pub spatial_label: String,
    pub methodology: String,
    pub version: String,
    pub maintainer: String,
    pub maintainer_email: String,
    /// The remote's last modification (seconds since 1970), when it says.
    pub modified: Option<i64>,
    /// The dataset's page on the remote catalogue.
    pub original_url: String,
    pub resources: Vec<RemoteResource>,
}

/// A file of a remote dataset: kept as a link, never copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteResource {
    pub url: String,
    pub name: String,
    pub description: String,
    /// Upper-case format name (CSV, XLSX, PDF…), possibly empty.
    pub format: String,
    pub media_type: String,
}

impl RemoteDataset {
    /// The SHA-256 of the normalised record, without `modified` (a remote that touches a
    /// dataset without changing it does not make an update here).
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("modified");
        }
        hex::encode(Sha256::digest(v.to_string().as_bytes()))
    }
}

/// Why one remote record was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the record has no {0}")]
    Missing(&'static str),
    #[error("the record is not a JSON object")]
    NotAnObject,
}

/// Why a whole page could not be read (the run stops, the watermark stays).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    #[error("the answer is not a CKAN Action API answer (no success/result): {0}")]
    NotCkan(String),
    #[error("the CKAN API answered with an error: {0}")]
    CkanError(String),
    #[error("the answer is not valid RDF ({syntax}): {detail}")]
    NotRdf {
        syntax: &'static str,
        detail: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Text and dates

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Control characters (but line breaks and tabs) removed: they have no place in metadata.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_string()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// An ISO 8601 date or date-time (`2026-09-21`, `2026-09-21T10:00:00`, with fractions, `Z` or
/// an offset) as seconds since 1970; a date-time without a zone is read as UTC (CKAN's way).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some(secs);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut sec = 0;
    if b.get(16) == Some(&b':') {
        sec = num(17..19)?;
        i = 19;
        if b.get(19) == Some(&b'.') {
            i = 20;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + sec;
    match &s[i..] {
        "" | "Z" | "z" => Some(secs),
        off if off.len() == 6 && matches!(&off[..1], "+" | "-") && &off[3..4] == ":" => {
            let oh: i64 = off[1..3].parse().ok()?;
            let om: i64 = off[4..6].parse().ok()?;
            let o = oh * 3600 + om * 60;
            Some(if &off[..1] == "+" { secs - o } else { secs + o })
        }
        _ => None,
    }
}

/// A `YYYY-MM-DD` date from the start of an ISO date or date-time, or empty.
fn date_part(s: &str) -> String {
    let s = s.trim();
    match s.get(..10) {
        Some(d) if parse_time(d).is_some() => d.to_string(),
        _ => String::new(),
    }
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (what a CKAN `fq` range accepts).
pub fn iso_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Licences, frequencies, formats, groups

/// A licence id known here for what a remote says (an id such as `CC-BY-4.0`, `cc-by`,
/// `odc-odbl`, or a licence URL); empty when unknown.
pub fn licence_id(remote: &str) -> String {
    let r = remote.trim();
    if r.is_empty() {
        return String::new();
    }
    if let Some(l) = licences::licence(r) {
        return l.id.to_string();
    }
    let norm = |s: &str| {
        s.trim()
            .trim_end_matches('/')
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .to_ascii_lowercase()
    };
    let n = norm(r);
    if let Some(l) = LICENCES
        .iter()
        .find(|l| !l.url.is_empty() && norm(l.url) == n)
    {
        return l.id.to_string();
    }
    let alias = match n.as_str() {
        "cc-by-4.0" | "cc-by-3.0" | "cc-by-2.0" | "creativecommons.org/licenses/by/3.0" => "cc-by",
        "cc-by-sa-4.0" | "cc-by-sa-3.0" | "creativecommons.org/licenses/by-sa/3.0" => "cc-by-sa",
        "cc0" | "cc0-1.0" | "cc-0" => "cc-zero",
        "odbl" | "odbl-1.0" | "odc-odbl-1.0" => "odc-odbl",
        "odc-by-1.0" => "odc-by",
        "pddl" | "pddl-1.0" | "odc-pddl-1.0" => "odc-pddl",
        "cc-by-nc-4.0" | "cc-by-nc" => "cc-nc",
        "fr-lo" | "lov1" | "licence-ouverte" => "lov2",
        "etalab" | "etalab-2" => "etalab-2.0",
        "not specified" | "notspecified" => "notspecified",
        _ => "",
    };
    if !alias.is_empty() {
        return alias.to_string();
    }
    // A Creative Commons URL of another version.
    for (part, id) in [
        ("creativecommons.org/licenses/by-sa/", "cc-by-sa"),
        ("creativecommons.org/licenses/by-nc", "cc-nc"),
        ("creativecommons.org/licenses/by/", "cc-by"),
        ("creativecommons.org/publicdomain/zero/", "cc-zero"),
        ("opendatacommons.org/licenses/odbl", "odc-odbl"),
        ("etalab", "etalab-2.0"),
        (
            "publications.europa.eu/resource/authority/licence/cc_by_4_0",
            "cc-by",
        ),
        (
            "publications.europa.eu/resource/authority/licence/cc0",
            "cc-zero",
        ),
        (
            "publications.europa.eu/resource/authority/licence/odbl",
            "odc-odbl",
        ),
    ] {
        if n.contains(part) {
            return id.to_string();
        }
    }
    String::new()
}

/// A frequency code for a code or an EU frequency URI (`…/frequency/MONTHLY`); empty if unknown.
pub fn frequency_code(remote: &str) -> String {
    let r = remote.trim();
    if let Some(f) = licences::frequency(&r.to_ascii_lowercase()) {
        return f.code.to_string();
    }
    let last = r.rsplit(['/', '#']).next().unwrap_or("");
    licences::FREQUENCIES
        .iter()
        .find(|f| f.uri.eq_ignore_ascii_case(last))
        .map(|f| f.code.to_string())
        .unwrap_or_default()
}

/// An upper-case format name from a format text, an EU file-type URI or a media type.
fn format_name(format: &str, media_type: &str, url: &str) -> String {
    let f = format.trim();
    let f = f.rsplit('/').next().unwrap_or(f).trim_start_matches('.');
    let f = match f.to_ascii_uppercase().as_str() {
        "" => String::new(),
        "SDMX_CSV" => "SDMX-CSV".into(),
        other => other.to_string(),
    };
    let f = if f.contains(' ') || f.len() > 20 {
        String::new()
    } else {
        f
    };
    if !f.is_empty() {
        return f;
    }
    let m = media_type.trim().to_ascii_lowercase();
    let from_media = match m.rsplit("media-types/").next().unwrap_or(&m) {
        "text/csv" => "CSV",
        "application/json" => "JSON",
        "application/geo+json" | "application/vnd.geo+json" => "GEOJSON",
        "application/pdf" => "PDF",
        "application/xml" | "text/xml" => "XML",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "XLSX",
        "application/vnd.ms-excel" => "XLS",
        "application/zip" => "ZIP",
        "text/plain" => "TXT",
        "text/html" => "HTML",
        _ => "",
    };
    if !from_media.is_empty() {
        return from_media.into();
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    match path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if (2..=7).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            e.to_ascii_uppercase()
        }
        _ => String::new(),
    }
}

/// The media type that goes with a format, when the remote gave none.
fn media_for(format: &str, media_type: &str) -> String {
    let m = media_type.trim();
    let m = m.rsplit("media-types/").next().unwrap_or(m);
    if !m.is_empty() && m.contains('/') && m.len() < 120 {
        return m.to_string();
    }
    match format {
        "CSV" | "SDMX-CSV" => "text/csv",
        "JSON" => "application/json",
        "GEOJSON" => "application/geo+json",
        "PDF" => "application/pdf",
        "XML" => "application/xml",
        "XLSX" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ZIP" => "application/zip",
        "TXT" => "text/plain",
        "HTML" => "text/html",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// `sdg-N` for a group name or an SDG theme URI (`http://metadata.un.org/sdg/6`).
fn sdg_group(s: &str) -> Option<String> {
    let s = s.trim();
    let n = s
        .strip_prefix("sdg-")
        .or_else(|| s.strip_prefix("http://metadata.un.org/sdg/"))
        .or_else(|| s.strip_prefix("https://metadata.un.org/sdg/"))?;
    let n: u8 = n.trim_end_matches('/').parse().ok()?;
    (1..=17).contains(&n).then(|| format!("sdg-{n}"))
}

/// Only http and https links are kept (no `javascript:`, no `file:`).
fn web_url(u: &str) -> Option<String> {
    let u = u.trim();
    let lower = u.to_ascii_lowercase();
    ((lower.starts_with("http://") || lower.starts_with("https://"))
        && u.len() <= 2000
        && !u.chars().any(|c| c.is_whitespace() || c.is_control()))
    .then(|| u.to_string())
}

fn finish(mut d: RemoteDataset) -> RemoteDataset {
    d.title = truncate(&clean(&d.title), MAX_TITLE);
    d.notes = truncate(&clean(&d.notes), MAX_NOTES);
    d.tags = d.tags.iter().filter_map(|t| clean_tag(t)).collect();
    d.tags.sort();
    d.tags.dedup();
    d.tags.truncate(MAX_TAGS);
    d.groups.sort_by_key(|g| g[4..].parse::<u8>().unwrap_or(0));
    d.groups.dedup();
    d.spatial.sort();
    d.spatial.dedup();
    if !d.temporal_end.is_empty() && d.temporal_end < d.temporal_start {
        d.temporal_end.clear();
    }
    for s in [
        &mut d.spatial_label,
        &mut d.methodology,
        &mut d.version,
        &mut d.maintainer,
        &mut d.maintainer_email,
    ] {
        *s = truncate(&clean(s), 1000);
    }
    if !d.maintainer_email.contains('@') {
        d.maintainer_email.clear();
    }
    d.resources.truncate(MAX_RESOURCES);
    for r in &mut d.resources {
        r.name = truncate(&clean(&r.name), 300);
        r.description = truncate(&clean(&r.description), 5000);
    }
    d
}

/// A local URL name for a remote name or title: the remote name when it is a valid one, else
/// a slug of the title (a suffix is added by the core on a clash).
pub fn local_name(d: &RemoteDataset) -> String {
    let n = d.name.trim().to_ascii_lowercase();
    if valid_name(&n) && n.len() <= 90 {
        n
    } else {
        slugify(if d.title.is_empty() {
            &d.name
        } else {
            &d.title
        })
    }
}

// ---------------------------------------------------------------------------------------------
// CKAN

/// One page of `package_search`: the total count and the raw records.
pub fn ckan_page(bytes: &[u8]) -> Result<(usize, Vec<Value>), PageError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| PageError::NotJson(e.to_string()))?;
    let ok = v.get("success").and_then(Value::as_bool).ok_or_else(|| {
        PageError::NotCkan(
            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
                .trim()
                .to_string(),
        )
    })?;
    if !ok {
        let e = v.get("error").cloned().unwrap_or(Value::Null);
        let msg = e
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return Err(PageError::CkanError(truncate(&msg, 300)));
    }
    let result = v
        .get("result")
        .ok_or_else(|| PageError::NotCkan("no result".into()))?;
    let count = result.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
    let results = result
        .get("results")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| PageError::NotCkan("no result.results list".into()))?;
    Ok((count, results))
}

/// A CKAN `package_show`-like record, mapped. Extras are read at the top level (as
/// ckanext-scheming puts them) and in the `extras` list.
pub fn from_ckan(v: &Value, page_base: &str) -> Result<RemoteDataset, RecordError> {
    let o = v.as_object().ok_or(RecordError::NotAnObject)?;
    let id = text(o.get("id"));
    if id.is_empty() {
        return Err(RecordError::Missing("id"));
    }
    let name = text(o.get("name"));
    let title = match text(o.get("title")) {
        t if t.is_empty() => name.clone(),
        t => t,
    };
    if title.is_empty() {
        return Err(RecordError::Missing("title"));
    }
    let mut extras: HashMap<String, String> = HashMap::new();
    if let Some(list) = o.get("extras").and_then(Value::as_array) {
        for e in list {
            let k = text(e.get("key"));
            if !k.is_empty() {
                extras.insert(k, text(e.get("value")));
            }
        }
    }
    let extra = |keys: &[&str]| -> String {
        for k in keys {
            let t = text(o.get(*k));
            if !t.is_empty() {
                return t;
            }
            if let Some(t) = extras.get(*k).filter(|t| !t.is_empty()) {
                return t.clone();
            }
        }
        String::new()
    };
    let tags = o
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| match t {
                    Value::String(s) => s.clone(),
                    t => text(t.get("display_name").or_else(|| t.get("name"))),
                })
                .collect()
        })
        .unwrap_or_default();
    let groups = o
        .get("groups")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| match g {
                    Value::String(s) => sdg_group(s),
                    g => sdg_group(&text(g.get("name"))),
                })
                .collect()
        })
        .unwrap_or_default();
    let spatial_raw = extra(&["spatial"]);
    // A GeoJSON geometry (ckanext-spatial) is not a place code: only a code list is kept.
    let spatial = if spatial_raw.starts_with('{') {
        Vec::new()
    } else {
        spatial_raw
            .split(',')
            .map(str::trim)
            .filter(|c| {
                !c.is_empty()
                    && c.len() <= 40
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(str::to_string)
            .collect()
    };
    let mut resources = Vec::new();
    for r in o
        .get("resources")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(url) = web_url(&text(r.get("url"))) else {
            continue;
        };
        let mt = text(r.get("mimetype"));
        let format = format_name(&text(r.get("format")), &mt, &url);
        resources.push(RemoteResource {
            name: match text(r.get("name")) {
                n if n.is_empty() => url.rsplit('/').next().unwrap_or("").to_string(),
                n => n,
            },
            description: text(r.get("description")),
            media_type: media_for(&format, &mt),
            format,
            url,
        });
    }
    let original_url = web_url(&format!(
        "{}/dataset/{}",
        page_base.trim_end_matches('/'),
        if name.is_empty() { &id } else { &name }
    ))
    .unwrap_or_default();
    Ok(finish(RemoteDataset {
        remote_id: id,
        name,
        title,
        notes: text(o.get("notes")),
        license_id: licence_id(&text(o.get("license_id"))),
        tags,
        groups,
        frequency: frequency_code(&extra(&["frequency", "accrual_periodicity"])),
        temporal_start: date_part(&extra(&["temporal_start", "temporal_coverage_start"])),
        temporal_end: date_part(&extra(&["temporal_end", "temporal_coverage_end"])),
        spatial,
        spatial_label: extra(&["spatial_label", "spatial_text"]),
        methodology: extra(&["methodology"]),
        version: text(o.get("version")),
        maintainer: text(o.get("maintainer")),
        maintainer_email: text(o.get("maintainer_email")),
        modified: parse_time(&text(o.get("metadata_modified"))),
        original_url,
        resources,
    }))
}

// ---------------------------------------------------------------------------------------------
// DCAT

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const SCHEMA: &str = "http://schema.org/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const OWL: &str = "http://www.w3.org/2002/07/owl#";

/// The RDF syntaxes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfSyntax {
    Turtle,
    RdfXml,
}

impl RdfSyntax {
    /// The syntax of a media type (`text/turtle`, `application/rdf+xml`), else of a URL's
    /// extension, else Turtle.
    pub fn guess(content_type: &str, url: &str) -> RdfSyntax {
        let ct = content_type.to_ascii_lowercase();
        let path = url
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if ct.contains("rdf+xml")
            || ct.contains("application/xml")
            || ct.contains("text/xml")
            || path.ends_with(".rdf")
            || path.ends_with(".xml")
        {
            RdfSyntax::RdfXml
        } else {
            RdfSyntax::Turtle
        }
    }

    fn name(self) -> &'static str {
        match self {
            RdfSyntax::Turtle => "Turtle",
            RdfSyntax::RdfXml => "RDF/XML",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Obj {
    Iri(String),
    Blank(String),
    Lit { value: String, lang: String },
}

/// A graph as subject → (predicate, object) lists. Subjects: an IRI, or `_:` and a blank id.
struct Graph(HashMap<String, Vec<(String, Obj)>>);

impl Graph {
    fn key(o: &Obj) -> Option<String> {
        match o {
            Obj::Iri(i) => Some(i.clone()),
            Obj::Blank(b) => Some(format!("_:{b}")),
            Obj::Lit { .. } => None,
        }
    }
    fn objects<'a>(&'a self, s: &str, p: &'a str) -> impl Iterator<Item = &'a Obj> + 'a {
        self.0
            .get(s)
            .into_iter()
            .flatten()
            .filter(move |(pp, _)| pp == p)
            .map(|(_, o)| o)
    }
    fn iri_or_lit(&self, s: &str, p: &str) -> String {
        self.objects(s, p)
            .find_map(|o| match o {
                Obj::Iri(i) => Some(i.clone()),
                Obj::Lit { value, .. } => Some(value.clone()),
                Obj::Blank(_) => None,
            })
            .unwrap_or_default()
    }
    /// A literal, in the first of `langs` found, else without a language, else any.
    fn literal(&self, s: &str, p: &str, langs: &[&str]) -> String {
        let lits: Vec<(&str, &str)> = self
            .objects(s, p)
            .filter_map(|o| match o {
                Obj::Lit { value, lang } => Some((value.as_str(), lang.as_str())),
                _ => None,
            })
            .collect();
        for want in langs.iter().copied().chain([""]) {
            if let Some((v, _)) = lits.iter().find(|(_, l)| {
                l.eq_ignore_ascii_case(want) || (!want.is_empty() && l.starts_with(want))
            }) {
                return v.to_string();
            }
        }
        lits.first().map(|(v, _)| v.to_string()).unwrap_or_default()
    }
    fn has_type(&self, s: &str, class: &str) -> bool {
        self.objects(s, RDF_TYPE)
            .any(|o| matches!(o, Obj::Iri(i) if i == class))
    }
}

fn parse_graph(bytes: &[u8], syntax: RdfSyntax, base: &str) -> Result<Graph, PageError> {
    let err = |e: String| PageError::NotRdf {
        syntax: syntax.name(),
        detail: truncate(&e, 300),
    };
    let mut g: HashMap<String, Vec<(String, Obj)>> = HashMap::new();
    let mut add = |t: oxrdf::Triple| {
        let s = match t.subject {
            oxrdf::NamedOrBlankNode::NamedNode(n) => n.into_string(),
            oxrdf::NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
        };
        let o = match t.object {
            oxrdf::Term::NamedNode(n) => Obj::Iri(n.into_string()),
            oxrdf::Term::BlankNode(b) => Obj::Blank(b.as_str().to_string()),
            oxrdf::Term::Literal(l) => Obj::Lit {
                value: l.value().to_string(),
                lang: l.language().unwrap_or("").to_string(),
            },
            #[allow(unreachable_patterns)]
            _ => return,
        };
        g.entry(s).or_default().push((t.predicate.into_string(), o));
    };
    match syntax {
        RdfSyntax::Turtle => {
            let mut p = oxttl::TurtleParser::new();
            if let Ok(with) = oxttl::TurtleParser::new().with_base_iri(base) {
                p = with;
            }
            for t in p.for_slice(bytes) {
                add(t.map_err(|e| err(e.to_string()))?);
            }
        }
        RdfSyntax::RdfXml => {
            let mut p = oxrdfxml::RdfXmlParser::new();
            if let Ok(with) = oxrdfxml::RdfXmlParser::new().with_base_iri(base) {
                p = with;
            }
            for t in p.for_slice(bytes) {
                add(t.map_err(|e| err(e.to_string()))?);
            }
        }
    }
    Ok(Graph(g))
}

/// One page of a DCAT catalogue: its datasets (each mapped or its error, with the dataset's
/// IRI) and the next page's URL (Hydra's `next` or `nextPage`).
pub struct DcatPage {
    pub datasets: Vec<(String, Result<RemoteDataset, RecordError>)>,
    pub next: Option<String>,
}

/// Reads a DCAT page. `langs` orders the languages preferred for titles and descriptions.
pub fn dcat_page(
    bytes: &[u8],
    syntax: RdfSyntax,
    base: &str,
    langs: &[&str],
) -> Result<DcatPage, PageError> {
    let g = parse_graph(bytes, syntax, base)?;
    let mut next = None;
    let mut subjects: Vec<&String> = g.0.keys().collect();
    subjects.sort();
    for s in &subjects {
        for p in ["next", "nextPage"] {
            if let Some(n) = g.objects(s, &format!("{HYDRA}{p}")).find_map(|o| match o {
                Obj::Iri(i) => Some(i.clone()),
                Obj::Lit { value, .. } => Some(value.clone()),
                Obj::Blank(_) => None,
            }) {
                next.get_or_insert(n);
            }
        }
    }
    let datasets = subjects
        .into_iter()
        .filter(|s| g.has_type(s, &format!("{DCAT}Dataset")))
        .map(|s| (s.clone(), dcat_dataset(&g, s, langs)))
        .collect();
    Ok(DcatPage { datasets, next })
}

fn dcat_dataset(g: &Graph, s: &str, langs: &[&str]) -> Result<RemoteDataset, RecordError> {
    let dct = |p: &str| format!("{DCT}{p}");
    let dcat = |p: &str| format!("{DCAT}{p}");
    let identifier = g.literal(s, &dct("identifier"), langs);
    let is_iri = !s.starts_with("_:");
    let remote_id = if !identifier.is_empty() {
        identifier
    } else if is_iri {
        s.to_string()
    } else {
        return Err(RecordError::Missing("IRI or dct:identifier"));
    };
    let title = g.literal(s, &dct("title"), langs);
    if title.is_empty() {
        return Err(RecordError::Missing("dct:title"));
    }
    let landing = web_url(&g.iri_or_lit(s, &dcat("landingPage"))).unwrap_or_default();
    let original_url = if landing.is_empty() && is_iri {
        web_url(s).unwrap_or_default()
    } else {
        landing
    };
    let name = if is_iri {
        s.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    } else {
        String::new()
    };
    let mut license = licence_id(&g.iri_or_lit(s, &dct("license")));
    let tags = g
        .objects(s, &dcat("keyword"))
        .filter_map(|o| match o {
            Obj::Lit { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    let groups = g
        .objects(s, &dcat("theme"))
        .filter_map(|o| match o {
            Obj::Iri(i) => sdg_group(i),
            _ => None,
        })
        .collect();
    let (mut start, mut end) = (String::new(), String::new());
    if let Some(t) = g.objects(s, &dct("temporal")).find_map(Graph::key) {
        let first = |ps: [String; 2]| {
            ps.iter()
                .map(|p| date_part(&g.iri_or_lit(&t, p)))
                .find(|d| !d.is_empty())
                .unwrap_or_default()
        };
        start = first([dcat("startDate"), format!("{SCHEMA}startDate")]);
        end = first([dcat("endDate"), format!("{SCHEMA}endDate")]);
    }
    let spatial = g
        .objects(s, &dct("spatial"))
        .filter_map(|o| match o {
            Obj::Iri(i) => i
                .strip_prefix("https://www.geonames.org/countries/")
                .or_else(|| i.strip_prefix("http://www.geonames.org/countries/"))
                .map(|c| c.trim_end_matches('/').to_ascii_uppercase())
                .filter(|c| c.len() == 2),
            _ => None,
        })
        .collect();
    let (mut maintainer, mut email) = (String::new(), String::new());
    if let Some(c) = g.objects(s, &dcat("contactPoint")).find_map(Graph::key) {
        maintainer = g.literal(&c, &format!("{VCARD}fn"), langs);
        email = g
            .iri_or_lit(&c, &format!("{VCARD}hasEmail"))
            .trim_start_matches("mailto:")
            .to_string();
    }
    let mut version = g.literal(s, &dcat("version"), langs);
    if version.is_empty() {
        version = g.literal(s, &format!("{OWL}versionInfo"), langs);
    }
    let mut resources = Vec::new();
    for dist in g.objects(s, &dcat("distribution")).filter_map(Graph::key) {
        let url = web_url(&g.iri_or_lit(&dist, &dcat("downloadURL")))
            .or_else(|| web_url(&g.iri_or_lit(&dist, &dcat("accessURL"))));
        let Some(url) = url else { continue };
        let mt = g.iri_or_lit(&dist, &dcat("mediaType"));
        let format = format_name(&g.iri_or_lit(&dist, &dct("format")), &mt, &url);
        if license.is_empty() {
            license = licence_id(&g.iri_or_lit(&dist, &dct("license")));
        }
        resources.push(RemoteResource {
            name: match g.literal(&dist, &dct("title"), langs) {
                n if n.is_empty() => url.rsplit('/').next().unwrap_or("").to_string(),
                n => n,
            },
            description: g.literal(&dist, &dct("description"), langs),
            media_type: media_for(&format, &mt),
            format,
            url,
        });
    }
    // Distributions come from a hash map: the order is made stable by URL then name.
    resources.sort_by(|a, b| (&a.url, &a.name).cmp(&(&b.url, &b.name)));
    Ok(finish(RemoteDataset {
        remote_id,
        name,
        title,
        notes: g.literal(s, &dct("description"), langs),
        license_id: license,
        tags,
        groups,
        frequency: frequency_code(&g.iri_or_lit(s, &dct("accrualPeriodicity"))),
        temporal_start: start,
        temporal_end: end,
        spatial,
        spatial_label: String::new(),
        methodology: String::new(),
        version,
        maintainer,
        maintainer_email: email,
        modified: parse_time(&g.iri_or_lit(s, &dct("modified"))),
        original_url,
        resources,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2026-09-21T00:00:00Z"), Some(1_789_948_800));
        assert_eq!(
            parse_time("2026-09-21T01:02:03.000000"),
            Some(1_789_948_800 + 3723)
        );
        assert_eq!(
            parse_time("2026-09-21T03:02:03+02:00"),
            Some(1_789_948_800 + 3723)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-13-01"), None);
        assert_eq!(iso_utc(1_789_948_800 + 3723), "2026-09-21T01:02:03Z");
        for t in [0, 86_399, 951_782_400, 1_789_948_800] {
            assert_eq!(parse_time(&iso_utc(t)), Some(t));
        }
    }

    #[test]
    fn licences_and_frequencies() {
        assert_eq!(licence_id("CC-BY-4.0"), "cc-by");
        assert_eq!(licence_id("odc-odbl"), "odc-odbl");
        assert_eq!(
            licence_id("https://creativecommons.org/licenses/by/4.0/"),
            "cc-by"
        );
        assert_eq!(
            licence_id("http://creativecommons.org/licenses/by-sa/3.0/"),
            "cc-by-sa"
        );
        assert_eq!(licence_id("proprietary-thing"), "");
        assert_eq!(
            frequency_code("http://publications.europa.eu/resource/authority/frequency/MONTHLY"),
            "monthly"
        );
        assert_eq!(frequency_code("annual"), "annual");
        assert_eq!(frequency_code("sometimes"), "");
    }

    #[test]
    fn ckan_record() {
        let v = json!({
            "id": "abc", "name": "points-eau", "title": "Points d'eau\u{0007}",
            "notes": "Des points.", "license_id": "CC-BY-4.0",
            "tags": [{"name": "eau"}, {"display_name": "eau"}, {"name": "!"}],
            "groups": [{"name": "sdg-6"}, {"name": "health"}],
            "metadata_modified": "2026-09-21T00:00:00.000000",
            "frequency": "monthly",
            "extras": [{"key": "temporal_start", "value": "2026-01-01"}, {"key": "spatial", "value": "{\"type\":\"Point\"}"}],
            "resources": [
                {"url": "https://x.org/a.csv", "format": "csv", "name": "A"},
                {"url": "javascript:alert(1)", "format": "HTML"},
                {"url": "https://x.org/doc", "mimetype": "application/pdf"}
            ]
        });
        let d = from_ckan(&v, "https://portal.example.org/").unwrap();
        assert_eq!(d.remote_id, "abc");
        assert_eq!(d.title, "Points d'eau");
        assert_eq!(d.license_id, "cc-by");
        assert_eq!(d.tags, vec!["eau"]);
        assert_eq!(d.groups, vec!["sdg-6"]);
        assert_eq!(d.frequency, "monthly");
        assert_eq!(d.temporal_start, "2026-01-01");
        assert!(d.spatial.is_empty());
        assert_eq!(d.modified, Some(1_789_948_800));
        assert_eq!(
            d.original_url,
            "https://portal.example.org/dataset/points-eau"
        );
        assert_eq!(d.resources.len(), 2);
        assert_eq!(d.resources[0].format, "CSV");
        assert_eq!(d.resources[0].media_type, "text/csv");
        assert_eq!(d.resources[1].format, "PDF");
        assert_eq!(
            from_ckan(&json!({"name": "x"}), ""),
            Err(RecordError::Missing("id"))
        );
        assert_eq!(from_ckan(&json!([1]), ""), Err(RecordError::NotAnObject));
        // The hash ignores `modified` and sees any other change.
        let mut e = d.clone();
        e.modified = Some(5);
        assert_eq!(d.content_hash(), e.content_hash());
        e.notes.push('!');
        assert_ne!(d.content_hash(), e.content_hash());
    }

    #[test]
    fn ckan_pages() {
        let (n, r) =
            ckan_page(br#"{"success": true, "result": {"count": 3, "results": [{}]}}"#).unwrap();
        assert_eq!((n, r.len()), (3, 1));
        assert!(matches!(ckan_page(b"<html>"), Err(PageError::NotJson(_))));
        assert!(matches!(
            ckan_page(b"{\"a\": 1}"),
            Err(PageError::NotCkan(_))
        ));
        assert!(matches!(
            ckan_page(br#"{"success": false, "error": {"message": "Not found"}}"#),
            Err(PageError::CkanError(m)) if m == "Not found"
        ));
    }

    const TTL: &str = r#"
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://d.example.org/catalog.ttl?page=1> a hydra:PagedCollection ;
  hydra:nextPage "https://d.example.org/catalog.ttl?page=2" .
<https://d.example.org/dataset/eau> a dcat:Dataset ;
  dct:identifier "u-1" ;
  dct:title "Water points"@en, "Points d'eau"@fr ;
  dct:description "Description."@en ;
  dct:modified "2026-09-21T00:00:00Z"^^xsd:dateTime ;
  dct:license <https://creativecommons.org/licenses/by/4.0/> ;
  dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/ANNUAL> ;
  dcat:keyword "eau", "water" ;
  dcat:theme <http://metadata.un.org/sdg/6> ;
  dct:spatial <https://www.geonames.org/countries/TD/> ;
  dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2026-01-01"^^xsd:date ; dcat:endDate "2026-06-30"^^xsd:date ] ;
  dcat:distribution [ a dcat:Distribution ; dct:title "CSV" ;
     dcat:downloadURL <https://d.example.org/f.csv> ;
     dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv> ] .
_:b a dcat:Dataset ; dct:description "no title, no id" .
"#;

    #[test]
    fn dcat_turtle() {
        let p = dcat_page(
            TTL.as_bytes(),
            RdfSyntax::Turtle,
            "https://d.example.org/catalog.ttl",
            &["fr", "en"],
        )
        .unwrap();
        assert_eq!(
            p.next.as_deref(),
            Some("https://d.example.org/catalog.ttl?page=2")
        );
        assert_eq!(p.datasets.len(), 2);
        let ok: Vec<_> = p
            .datasets
            .iter()
            .filter_map(|(_, d)| d.as_ref().ok())
            .collect();
        assert_eq!(ok.len(), 1);
        let d = ok[0];
        assert_eq!(d.remote_id, "u-1");
        assert_eq!(d.name, "eau");
        assert_eq!(d.title, "Points d'eau");
        assert_eq!(d.notes, "Description.");
        assert_eq!(d.license_id, "cc-by");
        assert_eq!(d.frequency, "annual");
        assert_eq!(d.groups, vec!["sdg-6"]);
        assert_eq!(d.spatial, vec!["TD"]);
        assert_eq!(
            (d.temporal_start.as_str(), d.temporal_end.as_str()),
            ("2026-01-01", "2026-06-30")
        );
        assert_eq!(d.modified, Some(1_789_948_800));
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].format, "CSV");
        assert_eq!(d.original_url, "https://d.example.org/dataset/eau");
        assert!(matches!(
            dcat_page(b"<not turtle", RdfSyntax::Turtle, "https://x/", &[]),
            Err(PageError::NotRdf {
                syntax: "Turtle",
                ..
            })
        ));
    }

    #[test]
    fn dcat_rdfxml_without_entities() {
        let xml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://d.example.org/dataset/x">
    <dct:title>X</dct:title>
    <dcat:distribution><dcat:Distribution>
      <dcat:accessURL rdf:resource="https://d.example.org/x.pdf"/>
    </dcat:Distribution></dcat:distribution>
  </dcat:Dataset>
</rdf:RDF>"#;
        let p = dcat_page(
            xml.as_bytes(),
            RdfSyntax::RdfXml,
            "https://d.example.org/",
            &[],
        )
        .unwrap();
        let d = p.datasets[0].1.as_ref().unwrap();
        assert_eq!(d.remote_id, "https://d.example.org/dataset/x");
        assert_eq!(d.resources[0].format, "PDF");
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="https://x/"><rdf:value>&b;</rdf:value></rdf:Description></rdf:RDF>"#;
        // Either refused or read without blowing up; never an expansion to a huge text.
        if let Ok(p) = dcat_page(bomb.as_bytes(), RdfSyntax::RdfXml, "https://x/", &[]) {
            assert!(p.datasets.is_empty());
        }
    }

    #[test]
    fn names() {
        let mut d = from_ckan(
            &json!({"id": "1", "name": "Bad Name!", "title": "Écoles 2026"}),
            "",
        )
        .unwrap();
        assert_eq!(local_name(&d), "ecoles-2026");
        d.name = "ecoles".into();
        assert_eq!(local_name(&d), "ecoles");
    }
}
