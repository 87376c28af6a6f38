//! CKAN's Action API, read side (`/api/3/action/{action}` and `/api/action/{action}`), so that
//! CKAN clients (ckanapi, harvesters, the data portals' aggregators) read the catalogue as they
//! read a CKAN 2.10 site.
//!
//! Everything CKAN-shaped is built by the small pure functions below (the package, resource,
//! organisation, group and licence dictionaries, the datastore's table); the handler only reads
//! the parameters, asks `baraza-core` for the catalogue and what the reader may see, and wraps
//! the answer in CKAN's envelope: `{"help", "success", "result"}`, or `{"help", "success":
//! false, "error": {"__type", ...}}` with CKAN's status codes (404 Not Found Error, 409
//! Validation Error and Search Error, 400 Search Query Error, and 400 with a bare JSON string
//! for an unknown action, as CKAN's `views/api.py` does).
//!
//! Readers see what the catalogue shows them: everyone the published public datasets; members
//! of a project its drafts and private datasets, in `package_search` only when they ask for
//! them (`include_drafts`, `include_private`), as in CKAN.

use crate::ctx::Ctx;
use crate::middleware::Rendered;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_catalogue::licences::{self, Licence, LICENCES};
use baraza_catalogue::model::{Dataset, DatasetState, Organisation, Resource, Source};
use baraza_catalogue::search::{Query, SearchError};
use baraza_catalogue::table::Table;
use baraza_core::catalogue::{Catalogue, Viewer};
use baraza_core::{CoreError, Principal};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// The CKAN version whose API this one follows.
pub const CKAN_VERSION: &str = "2.10.4";
/// The most rows `package_search` returns (CKAN's `ckan.search.rows_max`).
pub const ROWS_MAX: i64 = 1000;
/// The most records `datastore_search` returns (`ckan.datastore.search.rows_max`).
pub const DATASTORE_ROWS_MAX: i64 = 32000;
/// When the SDG groups were made (the 2030 Agenda's adoption), CKAN's group `created`.
const GROUPS_CREATED: &str = "2015-09-25T00:00:00.000000";

/// The actions answered, with the line `help_show` gives.
const ACTIONS: [(&str, &str); 16] = [
    ("package_search", "Searches for datasets: q, fq, fq_list, sort, rows, start, facet, facet.field, facet.limit, facet.mincount, include_private, include_drafts."),
    ("package_list", "Returns the names of the public datasets, sorted: limit, offset."),
    ("package_show", "Returns a dataset: id (its id or name)."),
    ("current_package_list_with_resources", "Returns the public datasets with their resources, most recently modified first: limit, offset."),
    ("organization_list", "Returns the organisations' names, or their dictionaries with all_fields: sort, limit, offset."),
    ("organization_show", "Returns an organisation: id, include_datasets."),
    ("group_list", "Returns the groups (the 17 Sustainable Development Goals): all_fields, sort, limit, offset, lang."),
    ("group_show", "Returns a group: id, include_datasets, lang."),
    ("tag_list", "Returns the tags of the visible datasets: query, all_fields."),
    ("license_list", "Returns the licences a dataset may carry."),
    ("resource_show", "Returns a resource: id."),
    ("status_show", "Returns the site's name, URL and CKAN version."),
    ("datastore_search", "Reads the rows of a tabular resource: resource_id, q, filters, fields, sort, limit, offset, include_total."),
    ("help_show", "Returns the help of an action: name."),
    ("site_read", "Returns true."),
    ("organization_autocomplete", "Returns organisations whose name or title contains q: q, limit."),
];

/// An action's failure, as CKAN reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum CkanError {
    /// 404 `Not Found Error`, with CKAN's message after "Not found: " when there is one.
    NotFound(Option<String>),
    /// 409 `Validation Error`: field -> messages.
    Validation(Vec<(String, String)>),
    /// 409 `Search Error` (what Solr refuses: an undefined field, a syntax error).
    Search(String),
    /// 400 `Search Query Error` (a bad sort).
    SearchQuery(String),
    /// 400 with a bare JSON string "Bad request - …".
    BadRequest(String),
    /// 500.
    Internal,
}

type CkanResult = Result<Value, CkanError>;

fn invalid(field: &str, message: &str) -> CkanError {
    CkanError::Validation(vec![(field.to_string(), message.to_string())])
}

impl From<CoreError> for CkanError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound { .. } => CkanError::NotFound(None),
            // A file too large to be read as a table (table_max_file_mb): said, not a 500.
            CoreError::TableTooLarge { what } => invalid("resource_id", &what),
            e => {
                tracing::error!(error = %e, "CKAN action failed");
                CkanError::Internal
            }
        }
    }
}

impl From<SearchError> for CkanError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadSort(_) => CkanError::SearchQuery("Invalid \"sort\" parameter".into()),
            e => CkanError::Search(e.to_string()),
        }
    }
}

/// The response for an action's outcome, in CKAN's envelope.
pub fn envelope(help: &str, outcome: CkanResult) -> (StatusCode, Value) {
    let fail = |status: StatusCode, error: Value| {
        (
            status,
            json!({"help": help, "success": false, "error": error}),
        )
    };
    match outcome {
        Ok(result) => (
            StatusCode::OK,
            json!({"help": help, "success": true, "result": result}),
        ),
        Err(CkanError::BadRequest(m)) => (
            StatusCode::BAD_REQUEST,
            Value::String(format!("Bad request - {m}")),
        ),
        Err(CkanError::NotFound(m)) => fail(
            StatusCode::NOT_FOUND,
            json!({"__type": "Not Found Error", "message": match m {
                Some(m) => format!("Not found: {m}"),
                None => "Not found".to_string(),
            }}),
        ),
        Err(CkanError::Validation(fields)) => {
            let mut e = Map::new();
            for (field, message) in fields {
                if let Value::Array(list) = e.entry(field).or_insert_with(|| json!([])) {
                    list.push(Value::String(message));
                }
            }
            e.insert("__type".into(), "Validation Error".into());
            fail(StatusCode::CONFLICT, Value::Object(e))
        }
        Err(CkanError::Search(m)) => fail(
            StatusCode::CONFLICT,
            json!({"__type": "Search Error", "message": format!("Search error: {m}")}),
        ),
        Err(CkanError::SearchQuery(m)) => fail(
            StatusCode::BAD_REQUEST,
            json!({"__type": "Search Query Error", "message": format!("Search Query is invalid: {m}")}),
        ),
        Err(CkanError::Internal) => fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"__type": "Internal Server Error", "message": "Internal Server Error"}),
        ),
    }
}

fn respond(help: &str, outcome: CkanResult) -> Response {
    let (status, body) = envelope(help, outcome);
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    if status != StatusCode::OK {
        // Our envelope, not the edge's.
        res.extensions_mut().insert(Rendered);
    }
    res
}

// ---------------------------------------------------------------------------------------------
// Parameters

/// An action's parameters, as CKAN reads them: one value per key, a list when repeated.
pub type Params = Map<String, Value>;

/// Key-value pairs (a query string, a form) as CKAN's `mixed()` makes them.
pub fn params_of_pairs(pairs: Vec<(String, String)>) -> Params {
    let mut out = Params::new();
    for (k, v) in pairs {
        match out.get_mut(&k) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            Some(one) => {
                let first = one.take();
                *one = Value::Array(vec![first, Value::String(v)]);
            }
            None => {
                out.insert(k, Value::String(v));
            }
        }
    }
    out
}

/// A POST body: a form (a lone key that is JSON, as `curl -d '{…}'` sends it, is read as
/// JSON), else JSON; the query string when the body is empty.
pub fn params_of_post(content_type: &str, body: &[u8], query: &str) -> Result<Params, CkanError> {
    let bad = |e: String| CkanError::BadRequest(format!("JSON Error: {e}"));
    if content_type.starts_with("application/x-www-form-urlencoded") && !body.is_empty() {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| bad(e.to_string()))?;
        if pairs.len() == 1 && matches!(pairs[0].1.as_str(), "" | "1") {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&pairs[0].0) {
                return Ok(m);
            }
        }
        return Ok(params_of_pairs(pairs));
    }
    if !query.is_empty() {
        return params_of_query(query);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(CkanError::BadRequest(format!(
            "Bad request data: Request data JSON decoded to {other} but it needs to be a dictionary."
        ))),
        Err(e) => Err(bad(e.to_string())),
    }
}

pub fn params_of_query(query: &str) -> Result<Params, CkanError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| CkanError::BadRequest(format!("JSON Error: {e}")))?;
    Ok(params_of_pairs(pairs))
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(list) => list.last().and_then(text_of),
        _ => None,
    }
}

fn text(p: &Params, key: &str) -> Option<String> {
    p.get(key).and_then(text_of)
}

/// CKAN's `asbool`: true, yes, on, y, t, 1 (any case) are true; anything else is `default`
/// unless it is one of the false words.
pub fn asbool(v: Option<&Value>, default: bool) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(v) => match text_of(v).map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("true" | "yes" | "on" | "y" | "t" | "1") => true,
            Some("false" | "no" | "off" | "n" | "f" | "0") => false,
            _ => default,
        },
        None => default,
    }
}

fn flag(p: &Params, key: &str, default: bool) -> bool {
    asbool(p.get(key), default)
}

/// An integer parameter (CKAN's `int_validator`); empty is missing.
fn int(p: &Params, key: &str) -> Result<Option<i64>, CkanError> {
    let Some(v) = p.get(key) else {
        return Ok(None);
    };
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(key, "Invalid integer")),
        v => match text_of(v).map(|s| s.trim().to_string()) {
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| invalid(key, "Invalid integer")),
            None => Err(invalid(key, "Invalid integer")),
        },
    }
}

/// A natural number parameter (CKAN's `natural_number_validator`).
fn natural(p: &Params, key: &str) -> Result<Option<i64>, CkanError> {
    match int(p, key)? {
        Some(n) if n < 0 => Err(invalid(key, "Must be a natural number")),
        n => Ok(n),
    }
}

/// A list given as a JSON list, a JSON list in a string, repeated keys, or (ours) a comma list.
pub fn list_of(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().flat_map(|i| list_of(Some(i))).collect(),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('[') {
                if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t) {
                    return items.iter().filter_map(text_of).collect();
                }
            }
            t.split(',')
                .map(|x| x.trim().trim_matches('"').to_string())
                .filter(|x| !x.is_empty())
                .collect()
        }
        Some(v) => text_of(v).into_iter().collect(),
    }
}

fn required(p: &Params, key: &str, report_as: &str) -> Result<String, CkanError> {
    text(p, key)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid(report_as, "Missing value"))
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

/// Unix seconds as CKAN writes times: naive ISO 8601 in UTC with microseconds.
pub fn iso(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A group of the catalogue (one SDG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub title: String,
    pub description: String,
}

/// The 17 SDG groups, `sdg-1` … `sdg-17`, titled "6. Clean water and sanitation" in `lang`.
pub fn sdg_groups(framework: &baraza_indicators::framework::Framework, lang: &str) -> Vec<Group> {
    use baraza_indicators::framework::title;
    (1..=17u8)
        .map(|n| {
            let (short, long) = framework
                .goal(n)
                .map(|g| (title(&g.short, lang), title(&g.title, lang)))
                .unwrap_or(("", ""));
            Group {
                name: format!("sdg-{n}"),
                title: format!("{n}. {short}").trim_end_matches(". ").to_string(),
                description: long.to_string(),
            }
        })
        .collect()
}

pub fn organization_dict(o: &Organisation) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "title": o.title,
        "type": "organization",
        "description": o.description,
        "image_url": "",
        "created": iso(o.created),
        "is_organization": true,
        "approval_status": "approved",
        "state": "active",
    })
}

/// The short group dictionary of a package's `groups`.
pub fn package_group_dict(g: &Group) -> Value {
    json!({
        "id": g.name,
        "name": g.name,
        "title": g.title,
        "display_name": g.title,
        "description": g.description,
        "image_display_url": "",
    })
}

/// The group dictionary of `group_list` (all_fields) and `group_show`.
pub fn group_dict(g: &Group, package_count: usize) -> Value {
    json!({
        "id": g.name,
        "name": g.name,
        "title": g.title,
        "display_name": g.title,
        "description": g.description,
        "type": "group",
        "is_organization": false,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": GROUPS_CREATED,
        "package_count": package_count,
    })
}

/// The organisation dictionary of `organization_list` (all_fields) and `organization_show`.
pub fn organization_full_dict(o: &Organisation, package_count: usize) -> Value {
    let mut v = organization_dict(o);
    v["display_name"] = Value::String(o.title.clone());
    v["image_display_url"] = Value::String(String::new());
    v["package_count"] = json!(package_count);
    v
}

pub fn tag_dict(tag: &str) -> Value {
    json!({
        "id": tag,
        "name": tag,
        "display_name": tag,
        "state": "active",
        "vocabulary_id": null,
    })
}

/// A licence as CKAN's `license_list` gives it (its values are strings there too).
pub fn license_dict(l: &Licence) -> Value {
    json!({
        "id": l.id,
        "title": l.title,
        "url": l.url,
        "od_conformance": if l.open { "approved" } else { "not reviewed" },
        "osd_conformance": "not reviewed",
        "domain_content": "False",
        "domain_data": if l.open { "True" } else { "False" },
        "domain_software": "False",
        "family": "",
        "is_generic": if l.id == "notspecified" || l.id == "other-closed" { "True" } else { "False" },
        "maintainer": "",
        "status": "active",
    })
}

/// The download address of a resource (a harvested link's is the remote address).
pub fn resource_url(base: &str, d: &Dataset, r: &Resource) -> String {
    if let Some(url) = r.kind.link() {
        return url.to_string();
    }
    format!("{base}/dataset/{}/resource/{}/download", d.name, r.id)
}

pub fn resource_dict(base: &str, d: &Dataset, r: &Resource) -> Value {
    json!({
        "id": r.id,
        "package_id": d.id,
        "name": r.name,
        "description": r.description,
        "format": r.format,
        "mimetype": r.media_type,
        "url": resource_url(base, d, r),
        "size": r.size,
        "hash": r.hash.clone().unwrap_or_default(),
        "created": iso(r.created),
        "last_modified": iso(r.modified),
        "metadata_modified": iso(r.modified),
        "position": r.position,
        "state": "active",
        "url_type": if r.kind.link().is_some() { Value::Null } else { json!("upload") },
        "datastore_active": r.is_tabular(),
        "cache_url": null,
        "resource_type": null,
    })
}

fn source_of(d: &Dataset) -> String {
    match &d.source {
        Source::Release { .. } => "release".into(),
        Source::Indicator { indicator } => format!("indicator:{indicator}"),
        Source::Upload => "upload".into(),
        Source::IatiActivity => "iati_activity".into(),
        Source::Harvest { source_id, .. } => format!("harvest:{source_id}"),
    }
}

/// The extra fields, as ckanext-scheming would add them at the top level, in order.
pub fn extra_fields(d: &Dataset) -> Vec<(&'static str, String)> {
    vec![
        ("frequency", d.frequency.clone()),
        ("temporal_start", d.temporal_start.clone()),
        ("temporal_end", d.temporal_end.clone()),
        ("spatial", d.spatial.join(",")),
        ("spatial_label", d.spatial_label.clone()),
        ("methodology", d.methodology.clone()),
        ("source", source_of(d)),
    ]
}

/// A dataset as CKAN 2.10's `package_show` gives it.
pub fn package_dict(base: &str, d: &Dataset, groups: &[Group]) -> Value {
    let licence = licences::licence(&d.license_id);
    let group_dicts: Vec<Value> = d
        .groups
        .iter()
        .map(|name| match groups.iter().find(|g| &g.name == name) {
            Some(g) => package_group_dict(g),
            None => package_group_dict(&Group {
                name: name.clone(),
                title: name.clone(),
                description: String::new(),
            }),
        })
        .collect();
    let extras = extra_fields(d);
    let mut v = json!({
        "id": d.id,
        "name": d.name,
        "title": d.title,
        "notes": d.notes,
        "url": format!("{base}/dataset/{}", d.name),
        "author": null,
        "author_email": null,
        "maintainer": d.maintainer,
        "maintainer_email": d.maintainer_email,
        "license_id": d.license_id,
        "license_title": licence.map_or(d.license_id.as_str(), |l| l.title),
        "isopen": licence.is_some_and(|l| l.open),
        "version": d.version,
        "state": match d.state {
            DatasetState::Published => "active",
            DatasetState::Draft => "draft",
        },
        "private": d.private,
        "type": "dataset",
        "metadata_created": iso(d.created),
        "metadata_modified": iso(d.modified),
        "creator_user_id": null,
        "owner_org": d.organisation.id,
        "organization": organization_dict(&d.organisation),
        "groups": group_dicts,
        "tags": d.tags.iter().map(|t| tag_dict(t)).collect::<Vec<_>>(),
        "num_tags": d.tags.len(),
        "resources": d.resources.iter().map(|r| resource_dict(base, d, r)).collect::<Vec<_>>(),
        "num_resources": d.resources.len(),
        // uData's count of reuses (not hidden), an extra key CKAN clients ignore.
        "num_reuses": d.reuses,
        "extras": extras
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect::<Vec<_>>(),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    });
    if let Some(url) = licence.map(|l| l.url).filter(|u| !u.is_empty()) {
        v["license_url"] = Value::String(url.to_string());
    }
    for (k, val) in extras {
        v[k] = Value::String(val);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The datastore

/// The datastore's type for a Table Schema type.
pub fn datastore_type(table_schema: &str) -> &'static str {
    match table_schema {
        "integer" => "int",
        "number" => "numeric",
        "date" => "date",
        "boolean" => "bool",
        _ => "text",
    }
}

/// The datastore's (name, type) of each column of a table, as the table page reads it: the
/// stored types, or for an HXL-tagged file the types guessed from its values.
fn datastore_columns(t: &Table) -> Vec<(String, &'static str)> {
    t.columns()
        .iter()
        .map(|c| (c.name.clone(), datastore_type(c.kind.as_str())))
        .collect()
}

fn typed(kind: &str, cell: &str) -> Value {
    let c = cell.trim();
    if c.is_empty() {
        return Value::Null;
    }
    match kind {
        "int" => c
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(cell.into())),
        "numeric" => c
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or_else(|| Value::String(cell.into())),
        "bool" => match c {
            "true" | "TRUE" | "True" => Value::Bool(true),
            "false" | "FALSE" | "False" => Value::Bool(false),
            _ => Value::String(cell.into()),
        },
        _ => Value::String(cell.into()),
    }
}

fn compare_cells(kind: &str, a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim(), b.trim());
    // Postgres puts NULLs last in ascending order.
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    if matches!(kind, "int" | "numeric") {
        if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
            return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        }
    }
    a.cmp(b)
}

fn not_in_resource(key: &str, field: &str) -> CkanError {
    invalid(key, &format!("field \"{field}\" not in resource"))
}

/// `datastore_search` over a table: the result without `resource_id` and `_links`.
pub fn datastore_query(t: &Table, p: &Params) -> CkanResult {
    let columns = datastore_columns(t);
    let col = |name: &str| t.column(name);
    // Filters: column -> value or values.
    let filters: Map<String, Value> = match p.get("filters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => Map::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(invalid("filters", "Not a json object")),
        },
        Some(_) => return Err(invalid("filters", "Not a json object")),
    };
    let mut tests: Vec<(Option<usize>, Vec<String>)> = Vec::new();
    for (k, v) in &filters {
        let values: Vec<String> = match v {
            Value::Array(items) => items.iter().filter_map(text_of).collect(),
            v => text_of(v).into_iter().collect(),
        };
        if k == "_id" {
            tests.push((None, values));
        } else {
            let i = col(k).ok_or_else(|| not_in_resource("filters", k))?;
            tests.push((Some(i), values));
        }
    }
    // Full text: every word of q begins a word of the row (or of the column, per column).
    let mut text_tests: Vec<(Option<usize>, Vec<String>)> = Vec::new();
    match p.get("q") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let i = col(k).ok_or_else(|| not_in_resource("q", k))?;
                let words = baraza_catalogue::fold::words(&text_of(v).unwrap_or_default());
                text_tests.push((Some(i), words));
            }
        }
        Some(v) => {
            let s = text_of(v).unwrap_or_default();
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&s) {
                let mut inner = p.clone();
                inner.insert("q".into(), Value::Object(m));
                return datastore_query(t, &inner);
            }
            text_tests.push((None, baraza_catalogue::fold::words(&s)));
        }
    }
    // Fields asked for.
    let wanted = list_of(p.get("fields"));
    let shown: Vec<Option<usize>> = if wanted.is_empty() {
        std::iter::once(None)
            .chain((0..columns.len()).map(Some))
            .collect()
    } else {
        wanted
            .iter()
            .map(|f| {
                if f == "_id" {
                    Ok(None)
                } else {
                    col(f).map(Some).ok_or_else(|| not_in_resource("fields", f))
                }
            })
            .collect::<Result<_, _>>()?
    };
    // Sort.
    let sort_text = text(p, "sort").unwrap_or_default();
    let mut sort: Vec<(Option<usize>, bool)> = Vec::new();
    for part in sort_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let mut it = part.split_whitespace();
        let name = it.next().unwrap_or("").trim_matches('"');
        let desc = match it.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(invalid("sort", &format!("invalid sort \"{part}\""))),
        };
        let key = if name == "_id" {
            None
        } else {
            Some(col(name).ok_or_else(|| not_in_resource("sort", name))?)
        };
        sort.push((key, desc));
    }
    let limit = natural(p, "limit")?.unwrap_or(100).min(DATASTORE_ROWS_MAX) as usize;
    let offset = natural(p, "offset")?.unwrap_or(0) as usize;
    let include_total = flag(p, "include_total", true);

    // Each test is first decided once per distinct value of its column (the table keeps each
    // column's values once), then rows are read by their codes.
    let cols = t.columns();
    let masks: Vec<(Option<usize>, Vec<bool>, Vec<usize>)> = tests
        .iter()
        .map(|(i, values)| match i {
            Some(i) => {
                let c = &cols[*i];
                let mask = (0..c.distinct() as u32)
                    .map(|code| {
                        let cell = c.value_of(code).trim();
                        values.iter().any(|v| v.trim() == cell)
                    })
                    .collect();
                (Some(*i), mask, Vec::new())
            }
            // `_id`: row numbers from 1, written as numbers are written ("01" is no id).
            None => (
                None,
                Vec::new(),
                values
                    .iter()
                    .filter_map(|v| {
                        let v = v.trim();
                        v.parse::<usize>().ok().filter(|n| n.to_string() == v)
                    })
                    .collect(),
            ),
        })
        .collect();
    // The folded words of each distinct value, once per column that a text test reads.
    let mut folded: Vec<Vec<Vec<String>>> = vec![Vec::new(); cols.len()];
    for (only, _) in &text_tests {
        for (i, c) in cols.iter().enumerate() {
            if only.is_none_or(|o| o == i) && folded[i].is_empty() {
                folded[i] = (0..c.distinct() as u32)
                    .map(|code| baraza_catalogue::fold::words(c.value_of(code)))
                    .collect();
            }
        }
    }
    // Per text word and column, which distinct values hold a word it begins (empty: a column
    // the test does not read).
    let text_masks: Vec<Vec<Vec<Vec<bool>>>> = text_tests
        .iter()
        .map(|(only, words)| {
            words
                .iter()
                .map(|w| {
                    (0..cols.len())
                        .map(|i| {
                            if only.is_some_and(|o| o != i) {
                                return Vec::new();
                            }
                            folded[i]
                                .iter()
                                .map(|have| have.iter().any(|h| h.starts_with(w.as_str())))
                                .collect()
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut hits: Vec<usize> = (0..t.rows())
        .filter(|&n| {
            let row = n as u32;
            masks.iter().all(|(i, mask, ids)| match i {
                Some(i) => mask[cols[*i].code(row) as usize],
                None => ids.contains(&(n + 1)),
            }) && text_masks.iter().all(|per_word| {
                per_word.iter().all(|per_col| {
                    per_col
                        .iter()
                        .enumerate()
                        .any(|(i, m)| !m.is_empty() && m[cols[i].code(row) as usize])
                })
            })
        })
        .collect();
    hits.sort_by(|&a, &b| {
        for (key, desc) in &sort {
            let o = match key {
                Some(i) => compare_cells(
                    columns[*i].1,
                    cols[*i].value(a as u32),
                    cols[*i].value(b as u32),
                ),
                None => a.cmp(&b),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.cmp(&b)
    });
    let total = hits.len();
    let records: Vec<Value> = hits
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|n| {
            let mut rec = Map::new();
            for i in &shown {
                match i {
                    None => {
                        rec.insert("_id".into(), json!(n + 1));
                    }
                    Some(i) => {
                        let (name, kind) = &columns[*i];
                        rec.insert(name.clone(), typed(kind, cols[*i].value(n as u32)));
                    }
                }
            }
            Value::Object(rec)
        })
        .collect();
    let fields: Vec<Value> = shown
        .iter()
        .map(|i| match i {
            None => json!({"id": "_id", "type": "int"}),
            Some(i) => json!({"id": columns[*i].0, "type": columns[*i].1}),
        })
        .collect();
    let mut out = json!({
        "fields": fields,
        "records": records,
        "limit": limit,
        "offset": offset,
        "include_total": include_total,
        "records_format": "objects",
    });
    if include_total {
        out["total"] = json!(total);
        out["total_was_estimated"] = json!(false);
    }
    if !filters.is_empty() {
        out["filters"] = Value::Object(filters);
    }
    if let Some(q) = p.get("q") {
        out["q"] = q.clone();
    }
    if !sort.is_empty() {
        out["sort"] = Value::String(sort_text);
    }
    Ok(out)
}

/// `_links` of a datastore answer: the same query from the start and the next page.
fn datastore_links(path: &str, query: &str, limit: usize, offset: usize) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let without: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "offset").collect();
    let link = |offset: Option<usize>| {
        let mut p = without.clone();
        if let Some(o) = offset {
            p.push(("offset".into(), o.to_string()));
        }
        let q = serde_urlencoded::to_string(&p).unwrap_or_default();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    };
    let mut links = json!({"start": link(None), "next": link(Some(offset + limit))});
    if offset > 0 {
        links["prev"] = Value::String(link(Some(offset.saturating_sub(limit))));
    }
    links
}

// ---------------------------------------------------------------------------------------------
// The handler

/// `GET /api/3/action/{action}` and `/api/action/{action}`.
pub async fn action_get(
    ctx: Ctx,
    Path(action): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let params = params_of_query(&query);
    run(ctx, &action, params, &headers, &query).await
}

/// `POST /api/3/action/{action}` and `/api/action/{action}`: a JSON body (or a form).
pub async fn action_post(
    ctx: Ctx,
    Path(action): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let params = params_of_post(content_type, &body, &query);
    run(ctx, &action, params, &headers, &query).await
}

/// The site's address: the configured public URL, else the `Host` the client used.
pub(crate) fn base_url(ctx: &Ctx, headers: &HeaderMap) -> String {
    if let Some(u) = ctx.state.settings.public_url.as_deref() {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn run(
    ctx: Ctx,
    action: &str,
    params: Result<Params, CkanError>,
    headers: &HeaderMap,
    query: &str,
) -> Response {
    let base = base_url(&ctx, headers);
    let help = format!(
        "{base}/api/3/action/help_show?name={}",
        crate::middleware::url_encode(action)
    );
    if !ACTIONS.iter().any(|(a, _)| *a == action) {
        return respond(
            &help,
            Err(CkanError::BadRequest(format!(
                "Action name not known: {action}"
            ))),
        );
    }
    let params = match params {
        Ok(p) => p,
        Err(e) => return respond(&help, Err(e)),
    };
    let principal = principal(&ctx, headers).await;
    let reader = Reader {
        ctx: &ctx,
        principal: &principal,
        base: &base,
    };
    let path = format!("/api/3/action/{action}");
    let outcome = reader.act(action, &params, &path, query).await;
    respond(&help, outcome)
}

/// Who asks: the context's (session or bearer token), or a token given as CKAN clients give
/// their API key (a bare `Authorization` header, or `X-CKAN-API-Key`).
async fn principal(ctx: &Ctx, headers: &HeaderMap) -> Principal {
    if ctx.principal.user().is_some() {
        return ctx.principal.clone();
    }
    let key = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get("x-ckan-api-key"))
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.contains(' '));
    match key {
        Some(k) => ctx
            .state
            .core
            .token_principal(k)
            .await
            .unwrap_or(Principal::Anonymous),
        None => Principal::Anonymous,
    }
}

struct Reader<'a> {
    ctx: &'a Ctx,
    principal: &'a Principal,
    base: &'a str,
}

/// What one reader sees of the catalogue.
struct View {
    cat: std::sync::Arc<Catalogue>,
    viewer: Viewer,
}

impl View {
    fn sees(&self, d: &Dataset) -> bool {
        self.viewer.sees(&self.cat, d)
    }
    /// Seen and published: what lists, counts and tags are made of.
    fn listed(&self, d: &Dataset) -> bool {
        d.state == DatasetState::Published && self.sees(d)
    }
}

impl Reader<'_> {
    async fn view(&self) -> Result<View, CkanError> {
        let core = &self.ctx.state.core;
        Ok(View {
            cat: core.catalogue().await?,
            viewer: core.catalogue_viewer(self.principal).await?,
        })
    }

    fn groups(&self, p: &Params) -> Vec<Group> {
        let lang = text(p, "lang")
            .filter(|l| baraza_indicators::framework::LANGUAGES.contains(&l.as_str()))
            .unwrap_or_else(|| self.ctx.lang().code().to_string());
        sdg_groups(&self.ctx.state.core.framework(), &lang)
    }

    async fn act(&self, action: &str, p: &Params, path: &str, query: &str) -> CkanResult {
        match action {
            "package_search" => self.package_search(p).await,
            "package_list" => {
                let v = self.view().await?;
                let names: Vec<&str> = v
                    .cat
                    .index
                    .all()
                    .filter(|d| d.is_public())
                    .map(|d| d.name.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                Ok(json!(page(names, p)?))
            }
            "package_show" => {
                let id = match text(p, "id").filter(|s| !s.is_empty()) {
                    Some(id) => id,
                    None => required(p, "name_or_id", "name_or_id")?,
                };
                let v = self.view().await?;
                let d = v
                    .cat
                    .index
                    .get(&id)
                    .filter(|d| v.sees(d))
                    .ok_or(CkanError::NotFound(None))?;
                Ok(package_dict(self.base, d, &self.groups(p)))
            }
            "current_package_list_with_resources" => {
                let v = self.view().await?;
                let mut list: Vec<&Dataset> = v.cat.index.all().filter(|d| d.is_public()).collect();
                list.sort_by(|a, b| {
                    b.modified
                        .cmp(&a.modified)
                        .then_with(|| a.name.cmp(&b.name))
                });
                let groups = self.groups(p);
                let list = page(list, p)?;
                Ok(json!(list
                    .into_iter()
                    .map(|d| package_dict(self.base, d, &groups))
                    .collect::<Vec<_>>()))
            }
            "organization_list" | "organization_autocomplete" => {
                self.organization_list(action, p).await
            }
            "organization_show" => {
                let id = required(p, "id", "id")?;
                let v = self.view().await?;
                let o = v
                    .cat
                    .organisations
                    .iter()
                    .find(|o| o.id == id || o.name == id)
                    .ok_or(CkanError::NotFound(None))?;
                let datasets: Vec<&Dataset> = v
                    .cat
                    .index
                    .all()
                    .filter(|d| d.organisation.name == o.name && v.listed(d))
                    .collect();
                let mut out = organization_full_dict(o, datasets.len());
                self.with_members(&mut out, datasets, p);
                Ok(out)
            }
            "group_list" => {
                let v = self.view().await?;
                let groups = self.groups(p);
                let count = |g: &Group| {
                    v.cat
                        .index
                        .all()
                        .filter(|d| v.listed(d) && d.groups.contains(&g.name))
                        .count()
                };
                let mut items: Vec<(&Group, usize)> =
                    groups.iter().map(|g| (g, count(g))).collect();
                let sort = text(p, "sort").unwrap_or_else(|| "title".into());
                sort_named(&mut items, &sort, |(g, _)| (&g.name, &g.title), |(_, n)| *n)?;
                let items = page(items, p)?;
                let all = flag(p, "all_fields", false);
                Ok(json!(items
                    .into_iter()
                    .map(|(g, n)| if all { group_dict(g, n) } else { json!(g.name) })
                    .collect::<Vec<_>>()))
            }
            "group_show" => {
                let id = required(p, "id", "id")?;
                let v = self.view().await?;
                let groups = self.groups(p);
                let g = groups
                    .iter()
                    .find(|g| g.name == id)
                    .ok_or(CkanError::NotFound(None))?;
                let datasets: Vec<&Dataset> = v
                    .cat
                    .index
                    .all()
                    .filter(|d| v.listed(d) && d.groups.contains(&g.name))
                    .collect();
                let mut out = group_dict(g, datasets.len());
                self.with_members(&mut out, datasets, p);
                Ok(out)
            }
            "tag_list" => {
                let v = self.view().await?;
                let query = text(p, "query")
                    .or_else(|| text(p, "q"))
                    .unwrap_or_default();
                let folded = baraza_catalogue::fold::fold(query.trim());
                let tags: BTreeSet<&str> = v
                    .cat
                    .index
                    .all()
                    .filter(|d| v.listed(d))
                    .flat_map(|d| d.tags.iter().map(String::as_str))
                    .filter(|t| baraza_catalogue::fold::fold(t).contains(&folded))
                    .collect();
                if flag(p, "all_fields", false) {
                    Ok(json!(tags.into_iter().map(tag_dict).collect::<Vec<_>>()))
                } else {
                    Ok(json!(tags))
                }
            }
            "license_list" => Ok(json!(LICENCES.iter().map(license_dict).collect::<Vec<_>>())),
            "resource_show" => {
                let id = required(p, "id", "id")?;
                let v = self.view().await?;
                let (d, r) = find_resource(&v, &id)
                    .ok_or_else(|| CkanError::NotFound(Some("Resource was not found.".into())))?;
                Ok(resource_dict(self.base, d, r))
            }
            "status_show" => Ok(json!({
                "site_title": "Baraza",
                "site_description": "",
                "site_url": self.base,
                "ckan_version": CKAN_VERSION,
                "error_emails_to": null,
                "locale_default": self.ctx.state.settings.default_lang.code(),
                "extensions": ["baraza"],
            })),
            "help_show" => {
                let name = required(p, "name", "name")?;
                ACTIONS
                    .iter()
                    .find(|(a, _)| *a == name)
                    .map(|(_, h)| json!(h))
                    .ok_or_else(|| CkanError::NotFound(Some("Action function not found".into())))
            }
            "site_read" => Ok(json!(true)),
            "datastore_search" => self.datastore_search(p, path, query).await,
            _ => Err(CkanError::BadRequest(format!(
                "Action name not known: {action}"
            ))),
        }
    }

    /// `packages` of an organisation or a group, with `include_datasets`; CKAN's empty member
    /// lists.
    fn with_members(&self, out: &mut Value, mut datasets: Vec<&Dataset>, p: &Params) {
        if flag(p, "include_datasets", false) {
            datasets.sort_by(|a, b| a.name.cmp(&b.name));
            let groups = self.groups(p);
            out["packages"] = json!(datasets
                .into_iter()
                .map(|d| package_dict(self.base, d, &groups))
                .collect::<Vec<_>>());
        }
        out["users"] = json!([]);
        out["extras"] = json!([]);
        out["tags"] = json!([]);
        out["groups"] = json!([]);
    }

    async fn organization_list(&self, action: &str, p: &Params) -> CkanResult {
        let v = self.view().await?;
        let q = baraza_catalogue::fold::fold(text(p, "q").unwrap_or_default().trim());
        let wanted = list_of(p.get("organizations"));
        let mut items: Vec<(&Organisation, usize)> = v
            .cat
            .organisations
            .iter()
            .filter(|o| wanted.is_empty() || wanted.contains(&o.name))
            .filter(|o| {
                q.is_empty()
                    || baraza_catalogue::fold::fold(&o.name).contains(&q)
                    || baraza_catalogue::fold::fold(&o.title).contains(&q)
            })
            .map(|o| {
                let n = v
                    .cat
                    .index
                    .all()
                    .filter(|d| d.organisation.name == o.name && v.listed(d))
                    .count();
                (o, n)
            })
            .collect();
        if action == "organization_autocomplete" {
            items.sort_by(|a, b| a.0.name.cmp(&b.0.name));
            let limit = natural(p, "limit")?.unwrap_or(20) as usize;
            return Ok(json!(items
                .into_iter()
                .take(limit)
                .map(|(o, _)| json!({"id": o.id, "name": o.name, "title": o.title}))
                .collect::<Vec<_>>()));
        }
        let sort = text(p, "sort").unwrap_or_else(|| "title".into());
        sort_named(&mut items, &sort, |(o, _)| (&o.name, &o.title), |(_, n)| *n)?;
        let all = flag(p, "all_fields", false);
        // CKAN's `ckan.group_and_organization_list_all_fields_max` and `_list_max`.
        let max = if all { 25 } else { 1000 };
        let limit = natural(p, "limit")?.unwrap_or(max).min(max) as usize;
        let offset = natural(p, "offset")?.unwrap_or(0) as usize;
        Ok(json!(items
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(o, n)| if all {
                organization_full_dict(o, n)
            } else {
                json!(o.name)
            })
            .collect::<Vec<_>>()))
    }

    async fn package_search(&self, p: &Params) -> CkanResult {
        let q = text(p, "q").unwrap_or_default();
        let mut fq = text(p, "fq").unwrap_or_default();
        for extra in list_of_raw(p.get("fq_list")) {
            fq.push(' ');
            fq.push_str(&extra);
        }
        let rows = natural(p, "rows")?.unwrap_or(10).min(ROWS_MAX) as usize;
        let start = natural(p, "start")?.unwrap_or(0) as usize;
        let sort = text(p, "sort")
            .filter(|s| !s.trim().is_empty() && s.trim() != "rank")
            .unwrap_or_else(|| "score desc, metadata_modified desc".into());
        let facet_fields = if flag(p, "facet", true) {
            list_of(p.get("facet.field"))
        } else {
            Vec::new()
        };
        let facet_limit = int(p, "facet.limit")?.unwrap_or(50);
        let facet_mincount = natural(p, "facet.mincount")?.unwrap_or(1) as usize;
        let include_private = flag(p, "include_private", false);
        let include_drafts = flag(p, "include_drafts", false);
        let state_asked = fq.contains("state:");
        let v = self.view().await?;
        let query = Query {
            q,
            fq,
            sort: sort.clone(),
            rows,
            start,
            facet_fields,
            facet_limit,
            facet_mincount,
            now: self.ctx.state.core.now(),
        };
        let visible = |d: &Dataset| {
            v.sees(d)
                && (include_private || !d.private)
                && (state_asked || include_drafts || d.state == DatasetState::Published)
        };
        let found = v.cat.index.search(&query, &visible)?;
        let groups = self.groups(p);
        let mut facets = Map::new();
        let mut search_facets = Map::new();
        for f in &found.facets {
            let counts: Map<String, Value> = f
                .items
                .iter()
                .map(|(value, n)| (value.clone(), json!(n)))
                .collect();
            facets.insert(f.field.clone(), Value::Object(counts));
            let mut items: Vec<(String, String, usize)> = f
                .items
                .iter()
                .map(|(value, n)| {
                    let display = match f.field.as_str() {
                        "organization" => v
                            .cat
                            .organisations
                            .iter()
                            .find(|o| &o.name == value)
                            .map(|o| o.title.clone()),
                        "groups" => groups
                            .iter()
                            .find(|g| &g.name == value)
                            .map(|g| g.title.clone()),
                        "license_id" => licences::licence(value).map(|l| l.title.to_string()),
                        _ => None,
                    }
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| value.clone());
                    (value.clone(), display, *n)
                })
                .collect();
            // CKAN sorts the items by display name, descending.
            items.sort_by(|a, b| b.1.cmp(&a.1));
            search_facets.insert(
                f.field.clone(),
                json!({
                    "title": f.field,
                    "items": items
                        .into_iter()
                        .map(|(name, display, n)| json!({"name": name, "display_name": display, "count": n}))
                        .collect::<Vec<_>>(),
                }),
            );
        }
        Ok(json!({
            "count": found.count,
            "facets": facets,
            "search_facets": search_facets,
            "results": found
                .results
                .iter()
                .map(|d| package_dict(self.base, d, &groups))
                .collect::<Vec<_>>(),
            "sort": sort,
        }))
    }

    async fn datastore_search(&self, p: &Params, path: &str, query: &str) -> CkanResult {
        let id = required(p, "resource_id", "resource_id")?;
        let v = self.view().await?;
        let not_found = || CkanError::NotFound(Some(format!("Resource \"{id}\" was not found.")));
        let (d, r) = find_resource(&v, &id).ok_or_else(not_found)?;
        if !r.is_tabular() {
            return Err(not_found());
        }
        // The table page's cache: the file is read once, not on every call.
        let loaded = self.ctx.state.core.resource_table(d, r).await?;
        let mut out = datastore_query(&loaded.table, p)?;
        let limit = out["limit"].as_u64().unwrap_or(100) as usize;
        let offset = out["offset"].as_u64().unwrap_or(0) as usize;
        out["resource_id"] = Value::String(r.id.clone());
        out["_links"] = datastore_links(path, query, limit, offset);
        Ok(out)
    }
}

/// A list parameter whose items are kept whole (`fq_list` items contain commas and spaces).
fn list_of_raw(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(text_of).collect(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(items)) => items.iter().filter_map(text_of).collect(),
                _ => vec![s.clone()],
            }
        }
        Some(v) => text_of(v).into_iter().collect(),
    }
}

fn find_resource<'a>(v: &'a View, id: &str) -> Option<(&'a Dataset, &'a Resource)> {
    v.cat
        .index
        .all()
        .filter(|d| v.sees(d))
        .find_map(|d| d.resources.iter().find(|r| r.id == id).map(|r| (d, r)))
}

/// `limit` and `offset` applied to a list.
fn page<T>(items: Vec<T>, p: &Params) -> Result<Vec<T>, CkanError> {
    let limit = natural(p, "limit")?;
    let offset = natural(p, "offset")?.unwrap_or(0) as usize;
    Ok(items
        .into_iter()
        .skip(offset)
        .take(limit.map_or(usize::MAX, |l| l as usize))
        .collect())
}

/// CKAN's group and organisation list sorts: `name`, `title` or `package_count` (`packages`),
/// `asc` or `desc`.
fn sort_named<T>(
    items: &mut [T],
    sort: &str,
    names: impl Fn(&T) -> (&String, &String),
    count: impl Fn(&T) -> usize,
) -> Result<(), CkanError> {
    let mut it = sort.split_whitespace();
    let field = it.next().unwrap_or("title");
    let default_desc = matches!(field, "packages" | "package_count");
    let desc = match it.next().map(str::to_ascii_lowercase).as_deref() {
        None => default_desc,
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(invalid("sort", &format!("Cannot sort by `{sort}`"))),
    };
    let key = |t: &T| -> (usize, String) {
        let (name, title) = names(t);
        match field {
            "name" => (0, name.clone()),
            "packages" | "package_count" => (count(t), name.clone()),
            _ => (0, baraza_catalogue::fold::fold(title)),
        }
    };
    if !matches!(field, "name" | "title" | "packages" | "package_count") {
        return Err(invalid("sort", &format!("Cannot sort by field `{field}`")));
    }
    items.sort_by(|a, b| {
        let o = key(a).cmp(&key(b));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use baraza_catalogue::model::{Field, ResourceKind};
    use baraza_catalogue::table::Declared;

    fn org() -> Organisation {
        Organisation {
            id: "eau-tchad".into(),
            name: "eau-tchad".into(),
            title: "Eau Tchad".into(),
            description: "Une ONG".into(),
            created: 1_790_000_000,
        }
    }

    fn dataset() -> Dataset {
        Dataset {
            id: "d1".into(),
            name: "registre".into(),
            title: "Registre".into(),
            notes: "Notes".into(),
            organisation: org(),
            project: "eau-tchad/p".into(),
            license_id: "lov2".into(),
            state: DatasetState::Published,
            private: false,
            frequency: "monthly".into(),
            temporal_start: "2026-10-01".into(),
            temporal_end: "".into(),
            spatial: vec!["TD-ND".into(), "TD-OD".into()],
            spatial_label: "Tchad".into(),
            methodology: "M".into(),
            version: "1.0".into(),
            maintainer: "Claire".into(),
            maintainer_email: "c@example.org".into(),
            tags: vec!["eau".into(), "HXL".into()],
            groups: vec!["sdg-6".into()],
            resources: vec![Resource {
                id: "r1".into(),
                name: "CSV".into(),
                description: String::new(),
                format: "CSV".into(),
                media_type: "text/csv".into(),
                file_name: "r.csv".into(),
                size: Some(10),
                hash: Some("sha256:ab".into()),
                position: 0,
                created: 0,
                modified: 86_400 + 3_661,
                kind: ResourceKind::File {
                    sha256: "ab".into(),
                },
                fields: vec![Field {
                    name: "n".into(),
                    r#type: "integer".into(),
                    hxl: None,
                    description: String::new(),
                }],
            }],
            source: Source::Upload,
            created: 0,
            modified: 1_795_000_000,
            reuses: 0,
        }
    }

    #[test]
    fn times_are_naive_iso_with_microseconds() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000000");
        assert_eq!(iso(86_400 + 3_661), "1970-01-02T01:01:01.000000");
    }

    #[test]
    fn package_dict_has_ckan_shape() {
        let groups = vec![Group {
            name: "sdg-6".into(),
            title: "6. Clean water".into(),
            description: "Ensure water".into(),
        }];
        let p = package_dict("http://x", &dataset(), &groups);
        assert_eq!(p["url"], "http://x/dataset/registre");
        assert_eq!(p["state"], "active");
        assert_eq!(p["type"], "dataset");
        assert_eq!(p["isopen"], true);
        assert_eq!(p["license_title"], "Licence Ouverte 2.0 (Etalab)");
        assert_eq!(p["organization"]["is_organization"], true);
        assert_eq!(p["owner_org"], "eau-tchad");
        assert_eq!(p["groups"][0]["display_name"], "6. Clean water");
        assert_eq!(p["tags"][1]["name"], "HXL");
        assert_eq!(p["num_tags"], 2);
        assert_eq!(p["num_resources"], 1);
        assert_eq!(p["spatial"], "TD-ND,TD-OD");
        assert_eq!(p["frequency"], "monthly");
        assert_eq!(p["temporal_end"], "");
        // Empty extras are left out of the list, kept at the top level.
        let keys: Vec<&str> = p["extras"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].as_str().unwrap())
            .collect();
        assert!(keys.contains(&"frequency") && !keys.contains(&"temporal_end"));
        let r = &p["resources"][0];
        assert_eq!(r["url"], "http://x/dataset/registre/resource/r1/download");
        assert_eq!(r["datastore_active"], true);
        assert_eq!(r["package_id"], "d1");
        assert_eq!(r["last_modified"], "1970-01-02T01:01:01.000000");
        let mut draft = dataset();
        draft.state = DatasetState::Draft;
        assert_eq!(package_dict("http://x", &draft, &groups)["state"], "draft");
    }

    #[test]
    fn envelopes_and_errors() {
        let (s, v) = envelope("h", Ok(json!(1)));
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v, json!({"help": "h", "success": true, "result": 1}));
        let (s, v) = envelope("h", Err(CkanError::NotFound(None)));
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(v["error"]["__type"], "Not Found Error");
        assert_eq!(v["error"]["message"], "Not found");
        let (s, v) = envelope("h", Err(invalid("id", "Missing value")));
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(v["error"]["id"], json!(["Missing value"]));
        assert_eq!(v["error"]["__type"], "Validation Error");
        let (s, v) = envelope(
            "h",
            Err(CkanError::BadRequest("Action name not known: x".into())),
        );
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v, json!("Bad request - Action name not known: x"));
        let e: CkanError = SearchError::UnknownField("nope".into()).into();
        let (s, v) = envelope("h", Err(e));
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(v["error"]["__type"], "Search Error");
    }

    #[test]
    fn parameters() {
        let p = params_of_query("facet.field=tags&facet.field=groups&rows=5&x=1").unwrap();
        assert_eq!(list_of(p.get("facet.field")), ["tags", "groups"]);
        assert_eq!(int(&p, "rows").unwrap(), Some(5));
        let p = params_of_query("facet.field=%5B%22tags%22%2C%22res_format%22%5D").unwrap();
        assert_eq!(list_of(p.get("facet.field")), ["tags", "res_format"]);
        let p = params_of_post(
            "application/x-www-form-urlencoded",
            b"%7B%22id%22%3A%22a%22%7D=",
            "",
        )
        .unwrap();
        assert_eq!(p["id"], "a");
        let p = params_of_post("application/json", br#"{"rows": 2}"#, "").unwrap();
        assert_eq!(natural(&p, "rows").unwrap(), Some(2));
        assert!(params_of_post("application/json", b"[1]", "").is_err());
        let p = params_of_query("rows=-1&start=x").unwrap();
        assert!(natural(&p, "rows").is_err());
        assert!(natural(&p, "start").is_err());
        assert!(asbool(Some(&json!("True")), false));
        assert!(!asbool(Some(&json!("0")), true));
        assert!(asbool(None, true));
    }

    #[test]
    fn datastore_reads_skips_hxl_filters_sorts_and_pages() {
        let csv = "code,n,etat\n#loc+code,#n,#status\nA,3,ok\nB,1,en panne\nC,2,ok\n";
        let declared = [Declared {
            name: "n",
            r#type: "integer",
        }];
        let t = Table::load(csv.as_bytes(), &declared).unwrap();
        assert_eq!(t.rows(), 3);
        assert_eq!(datastore_columns(&t)[1], ("n".to_string(), "int"));
        let q = |s: &str| datastore_query(&t, &params_of_query(s).unwrap()).unwrap();
        let all = q("");
        assert_eq!(all["total"], 3);
        assert_eq!(
            all["records"][0],
            json!({"_id": 1, "code": "A", "n": 3, "etat": "ok"})
        );
        assert_eq!(all["fields"][0], json!({"id": "_id", "type": "int"}));
        let ok = q("filters=%7B%22etat%22%3A%22ok%22%7D&sort=n%20desc");
        assert_eq!(ok["total"], 2);
        assert_eq!(ok["records"][0]["code"], "A");
        // `_id` is the row number from 1; a value not written as a number is no id.
        let second = q("filters=%7B%22_id%22%3A%5B2%2C%22x%22%5D%7D");
        assert_eq!(second["total"], 1);
        assert_eq!(second["records"][0]["code"], "B");
        assert_eq!(q("filters=%7B%22_id%22%3A%2202%22%7D")["total"], 0);
        // A word is looked for in each column, per column with q as an object.
        assert_eq!(q("q=%7B%22code%22%3A%22panne%22%7D")["total"], 0);
        assert_eq!(q("q=%7B%22etat%22%3A%22pan%22%7D")["total"], 1);
        let panne = q("q=panne");
        assert_eq!(panne["total"], 1);
        assert_eq!(panne["records"][0]["code"], "B");
        let paged = q("sort=n%20asc&limit=1&offset=1&fields=code");
        assert_eq!(paged["records"], json!([{"code": "C"}]));
        assert_eq!(paged["total"], 3);
        assert!(datastore_query(&t, &params_of_query("sort=nope").unwrap()).is_err());
        assert!(
            datastore_query(&t, &params_of_query("filters=%7B%22x%22%3A1%7D").unwrap()).is_err()
        );
        let links = datastore_links(
            "/api/3/action/datastore_search",
            "resource_id=r&limit=1",
            1,
            0,
        );
        assert_eq!(
            links["next"],
            "/api/3/action/datastore_search?resource_id=r&limit=1&offset=1"
        );
    }

    #[test]
    fn licences_and_groups() {
        let l = license_dict(licences::licence("cc-by").unwrap());
        assert_eq!(l["od_conformance"], "approved");
        let l = license_dict(licences::licence("cc-nc").unwrap());
        assert_eq!(l["od_conformance"], "not reviewed");
        let fw = baraza_indicators::framework::Framework::embedded();
        let groups = sdg_groups(&fw, "en");
        assert_eq!(groups.len(), 17);
        assert_eq!(groups[5].name, "sdg-6");
        assert!(groups[5].title.starts_with("6. "), "{}", groups[5].title);
        assert!(!groups[5].description.is_empty());
    }
}
