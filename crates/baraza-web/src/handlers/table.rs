//! A dataset's table page: one tabular resource explored with filters, full-text search, facet
//! counts, sorting and paging, as Datasette's table page does, served from the table held in
//! memory by `baraza_core::tables`.
//!
//! `GET /dataset/{name}/table/{id}` is the HTML page (no JavaScript: every action is a link or
//! a GET form); `.json` gives the page's rows, total, facets and next token; `.csv` streams
//! every filtered row in the chosen order. Parameters are Datasette's (see
//! `baraza_catalogue::table`); a parameter the table cannot use is answered 400 with its name.

use crate::ctx::{Ctx, Format};
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::pages::{layout, Chrome};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_catalogue::table::{Column, FacetCounts, Kind, Op, Query, Table};
use baraza_catalogue::{Dataset, Resource};
use baraza_core::tables::LoadedTable;
use baraza_core::CoreError;
use maud::{html, Markup};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Rows written per chunk of the CSV twin.
const CSV_CHUNK_ROWS: usize = 2000;
/// The operators of the filter form, by parameter suffix.
const FORM_OPS: [&str; 6] = ["exact", "contains", "gte", "lte", "gt", "lt"];

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .unwrap_or_default()
}

fn query_string(p: &[(String, String)]) -> String {
    serde_urlencoded::to_string(p).unwrap_or_default()
}

fn with_query(path: &str, p: &[(String, String)]) -> String {
    let qs = query_string(p);
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}

/// The page's parameters without its position (a changed filter starts from the first row).
fn unpaged(p: &[(String, String)]) -> Vec<(String, String)> {
    p.iter()
        .filter(|(k, _)| k != "_next" && k != "_offset")
        .cloned()
        .collect()
}

/// The table page's path of a resource.
pub fn table_path(d: &Dataset, r: &Resource) -> String {
    format!("/dataset/{}/table/{}", d.name, r.id)
}

/// A whole number as the page's language writes it: 1,000,000 or 1 000 000.
fn count(lang: Lang, n: usize) -> String {
    let digits = n.to_string();
    let sep = match lang {
        Lang::Fr => "\u{202f}",
        Lang::En => ",",
    };
    let mut out = String::with_capacity(digits.len() + 8);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// A cell as JSON: numbers of numeric columns as numbers, empty cells as null.
fn cell_json(col: &Column, row: u32) -> Value {
    let v = col.value(row);
    if v.trim().is_empty() {
        return Value::Null;
    }
    match col.kind {
        Kind::Integer => match col.number(row) {
            Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::from(n as i64),
            _ => Value::String(v.to_string()),
        },
        Kind::Number => col
            .number(row)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(v.to_string())),
        Kind::Boolean => match v.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(v.to_string()),
        },
        Kind::String | Kind::Date => Value::String(v.to_string()),
    }
}

/// A row as a JSON object whose keys keep the table's column order.
struct Row(Vec<(String, Value)>);

impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ColumnInfo<'a> {
    name: &'a str,
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hxl: Option<&'a str>,
}

#[derive(Serialize)]
struct FilterInfo {
    param: String,
    value: String,
    /// The page without this filter.
    remove_url: String,
}

#[derive(Serialize)]
struct FacetValue {
    value: String,
    count: usize,
    selected: bool,
    /// The page with this value's filter added (or removed, when selected).
    toggle_url: String,
}

#[derive(Serialize)]
struct FacetInfo {
    column: String,
    /// Distinct non-empty values among the filtered rows.
    distinct: usize,
    /// Whether more values exist than are listed.
    truncated: bool,
    values: Vec<FacetValue>,
}

#[derive(Serialize)]
struct TableData<'a> {
    dataset: &'a str,
    dataset_title: &'a str,
    resource: &'a str,
    resource_name: &'a str,
    columns: Vec<ColumnInfo<'a>>,
    /// Rows matching the filters.
    total: usize,
    /// Rows of the whole table.
    table_rows: usize,
    offset: usize,
    size: usize,
    rows: Vec<Row>,
    filters: Vec<FilterInfo>,
    search: &'a str,
    sort: Option<&'a str>,
    sort_desc: bool,
    facets: Vec<FacetInfo>,
    suggested_facets: Vec<&'a str>,
    /// The keyset token of the next page, and its URL.
    next: Option<String>,
    next_url: Option<String>,
    csv_url: String,
    /// Internal row numbers of the page (the `_next` tokens), in order.
    #[serde(skip)]
    row_ids: Vec<u32>,
}

/// `GET /dataset/{name}/table/{id}` (and `.json`, `.csv`).
pub async fn table_page(
    ctx: Ctx,
    Path((name, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let core = &ctx.state.core;
    let viewer = core.catalogue_viewer(&ctx.principal).await?;
    let (_, d) = core.dataset_seen(&viewer, &name).await?;
    let r = d
        .resources
        .iter()
        .find(|r| r.id == id && r.is_tabular())
        .ok_or(CoreError::NotFound { what: "table" })?
        .clone();
    let path = table_path(&d, &r);
    let p = pairs(raw.as_deref());
    // The filter form names its column, operator and value; the page's address says it as
    // `column__op=value`.
    if p.iter().any(|(k, _)| k == "_filter_column") {
        let get = |key: &str| {
            p.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let (column, op, value) = (
            get("_filter_column"),
            get("_filter_op"),
            get("_filter_value"),
        );
        let mut rest: Vec<(String, String)> = unpaged(&p)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("_filter_"))
            .collect();
        if !column.is_empty() {
            let key = match op.as_str() {
                "" | "exact" => column,
                op if FORM_OPS.contains(&op) => format!("{column}__{op}"),
                _ => {
                    return Err(CoreError::TableQuery {
                        param: "_filter_op".into(),
                        problem: format!("\"{op}\" is not one of {}", FORM_OPS.join(", ")),
                    }
                    .into())
                }
            };
            rest.push((key, value));
        }
        let mut to = with_query(&path, &rest);
        if ctx.format() == Format::Json {
            to = to.replacen(&path, &format!("{path}.json"), 1);
        }
        return Ok(super::see_other(&to));
    }
    let loaded = core.resource_table(&d, &r).await?;
    let t = &loaded.table;
    let q = Query::parse(t, &p).map_err(|e| CoreError::TableQuery {
        param: e.param,
        problem: e.problem,
    })?;
    if ctx.format() == Format::Csv {
        return Ok(csv_twin(loaded.clone(), &q, &r));
    }
    let page = t.page(&q);
    let cols = t.columns();
    let base = unpaged(&p);
    let filters = q
        .filters
        .iter()
        .flat_map(|f| f.params.iter())
        .map(|(k, v)| FilterInfo {
            param: k.clone(),
            value: v.clone(),
            remove_url: with_query(
                &path,
                &base
                    .iter()
                    .filter(|(bk, bv)| !(bk == k && bv == v))
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let facets = page
        .facets
        .iter()
        .map(|f| facet_info(t, &path, &base, &q, f))
        .collect();
    let next_url = page.next.map(|n| {
        let mut np = base.clone();
        np.push(("_next".into(), n.to_string()));
        with_query(&path, &np)
    });
    let data = TableData {
        dataset: &d.name,
        dataset_title: &d.title,
        resource: &r.id,
        resource_name: &r.name,
        columns: cols
            .iter()
            .map(|c| ColumnInfo {
                name: &c.name,
                r#type: c.kind.as_str(),
                hxl: c.hxl.as_deref(),
            })
            .collect(),
        total: page.total,
        table_rows: t.rows(),
        offset: q.offset,
        size: q.size,
        rows: page
            .rows
            .iter()
            .map(|&row| {
                Row(cols
                    .iter()
                    .map(|c| (c.name.clone(), cell_json(c, row)))
                    .collect())
            })
            .collect(),
        filters,
        search: &q.search_text,
        sort: q.sort.map(|(c, _)| cols[c].name.as_str()),
        sort_desc: q.sort.is_some_and(|(_, d)| d),
        facets,
        suggested_facets: t
            .suggested_facets(&q)
            .into_iter()
            .map(|c| cols[c].name.as_str())
            .collect(),
        next: page.next.map(|n| n.to_string()),
        next_url,
        csv_url: with_query(&format!("{path}.csv"), &base),
        row_ids: page.rows.clone(),
    };
    Ok(super::respond(&ctx, &data, || {
        table_html(&ctx, &d, &path, &p, t, &q, &data)
    }))
}

fn facet_info(
    t: &Table,
    path: &str,
    base: &[(String, String)],
    q: &Query,
    f: &FacetCounts,
) -> FacetInfo {
    let col = &t.columns()[f.column];
    let chosen: Vec<&str> = q
        .filters
        .iter()
        .filter(|fl| fl.column == f.column)
        .filter_map(|fl| match &fl.op {
            Op::Eq(values) => Some(values.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    FacetInfo {
        column: col.name.clone(),
        distinct: f.distinct,
        truncated: f.distinct > f.values.len(),
        values: f
            .values
            .iter()
            .map(|&(code, n)| {
                let value = col.value_of(code).to_string();
                let selected = chosen.contains(&value.trim());
                let toggled: Vec<(String, String)> = if selected {
                    base.iter()
                        .filter(|(k, v)| !(k == &col.name && v.trim() == value.trim()))
                        .cloned()
                        .collect()
                } else {
                    let mut v = base.to_vec();
                    v.push((col.name.clone(), value.clone()));
                    v
                };
                FacetValue {
                    toggle_url: with_query(path, &toggled),
                    value,
                    count: n,
                    selected,
                }
            })
            .collect(),
    }
}

/// The CSV twin: the header, the HXL hashtag row when the file has one, and every filtered row
/// in the page's order, written as the client reads.
fn csv_twin(loaded: Arc<LoadedTable>, q: &Query, r: &Resource) -> Response {
    let rows = loaded.table.matching(q);
    let mut head = String::new();
    {
        let t = &loaded.table;
        let names: Vec<&str> = t.columns().iter().map(|c| c.name.as_str()).collect();
        head.push_str(&baraza_publish::csv::line(&names));
        if t.has_hxl {
            let tags: Vec<&str> = t
                .columns()
                .iter()
                .map(|c| c.hxl.as_deref().unwrap_or(""))
                .collect();
            head.push_str(&baraza_publish::csv::line(&tags));
        }
    }
    let chunks = rows.len().div_ceil(CSV_CHUNK_ROWS);
    let rows = Arc::new(rows);
    let first =
        futures::stream::once(
            async move { Ok::<_, std::io::Error>(axum::body::Bytes::from(head)) },
        );
    let body = futures::stream::iter(0..chunks).map(move |i| {
        let t = &loaded.table;
        let mut out = String::with_capacity(CSV_CHUNK_ROWS * 64);
        let mut cells: Vec<&str> = Vec::with_capacity(t.columns().len());
        let end = ((i + 1) * CSV_CHUNK_ROWS).min(rows.len());
        for &row in &rows[i * CSV_CHUNK_ROWS..end] {
            cells.clear();
            cells.extend(t.columns().iter().map(|c| c.value(row)));
            out.push_str(&baraza_publish::csv::line(&cells));
        }
        Ok(axum::body::Bytes::from(out))
    });
    use futures::StreamExt;
    let stream = first.chain(body).fuse();
    let mut res = axum::body::Body::from_stream(stream).into_response();
    let file = r
        .file_name
        .rsplit_once('.')
        .map_or(r.file_name.as_str(), |(stem, _)| stem);
    let file: String = file
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-filtered.csv\"",
        if file.is_empty() { "table" } else { &file }
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn op_label(ctx: &Ctx, f: &baraza_catalogue::table::Filter, param: &str, value: &str) -> String {
    let col = param
        .rsplit_once("__")
        .filter(|(_, op)| FORM_OPS.contains(op))
        .map_or(param, |(c, _)| c);
    let op = match &f.op {
        Op::Eq(_) => "exact",
        other => other.suffix().trim_start_matches('_'),
    };
    format!("{col} {} {value}", ctx.t(&format!("table.op.{op}")))
}

fn table_html(
    ctx: &Ctx,
    d: &Dataset,
    path: &str,
    p: &[(String, String)],
    t: &Table,
    q: &Query,
    data: &TableData,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lang = ctx.lang();
    let base = unpaged(p);
    let cols = t.columns();
    let title = ctx.tf("table.title", &[("resource", data.resource_name)]);
    let link_with = |key: &str, value: &str| {
        let mut v: Vec<(String, String)> = base.iter().filter(|(k, _)| k != key).cloned().collect();
        v.push((key.to_string(), value.to_string()));
        with_query(path, &v)
    };
    let without = |key: &str, value: &str| {
        let v: Vec<(String, String)> = base
            .iter()
            .filter(|(k, val)| !(k == key && val == value))
            .cloned()
            .collect();
        with_query(path, &v)
    };
    let sort_link = |name: &str| {
        let mut v: Vec<(String, String)> = base
            .iter()
            .filter(|(k, _)| k != "_sort" && k != "_sort_desc")
            .cloned()
            .collect();
        let desc = data.sort == Some(name) && !data.sort_desc;
        v.push((
            if desc { "_sort_desc" } else { "_sort" }.to_string(),
            name.to_string(),
        ));
        with_query(path, &v)
    };
    let hidden_except = |skip: &[&str]| -> Vec<(String, String)> {
        base.iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    let from = data.offset + 1;
    let shown = data.rows.len();
    layout(
        &c,
        &title,
        html! {
            p.muted {
                a href="/catalogue" { (ctx.t("cat.title")) } " › "
                a href={ "/dataset/" (d.name) } { (d.title) }
            }
            h1 { (title) }
            p {
                @if data.total == data.table_rows {
                    (ctx.tf("table.rows", &[("count", &count(lang, data.total))]))
                } @else {
                    (ctx.tf("table.rows_of", &[("count", &count(lang, data.total)), ("total", &count(lang, data.table_rows))]))
                }
            }
            form.search method="get" action=(path) role="search" {
                @for (k, v) in hidden_except(&["_search"]) { input type="hidden" name=(k) value=(v); }
                label for="table-search" { (ctx.t("table.search")) }
                " "
                input #table-search type="search" name="_search" value=(data.search);
                " "
                button type="submit" { (ctx.t("table.search_button")) }
            }
            form.filter method="get" action=(path) {
                @for (k, v) in &base { input type="hidden" name=(k) value=(v); }
                label for="filter-column" { (ctx.t("table.column")) } " "
                select #filter-column name="_filter_column" {
                    @for col in cols { option value=(col.name) { (col.name) } }
                }
                " "
                label for="filter-op" { (ctx.t("table.op_label")) } " "
                select #filter-op name="_filter_op" {
                    @for op in FORM_OPS { option value=(op) { (ctx.t(&format!("table.op.{op}"))) } }
                }
                " "
                label for="filter-value" { (ctx.t("table.value")) } " "
                input #filter-value type="text" name="_filter_value";
                " "
                button type="submit" { (ctx.t("table.add_filter")) }
            }
            @if !q.filters.is_empty() || !data.search.is_empty() {
                p {
                    (ctx.t("table.active")) " "
                    @for f in &q.filters {
                        @for (k, v) in &f.params {
                            a.chip href=(without(k, v)) title=(ctx.t("table.remove")) { (op_label(ctx, f, k, v)) " ×" }
                            " "
                        }
                    }
                    @if !data.search.is_empty() {
                        @for (k, v) in base.iter().filter(|(k, _)| k == "_search") {
                            a.chip href=(without(k, v)) title=(ctx.t("table.remove")) { (ctx.tf("table.search_chip", &[("text", data.search)])) " ×" }
                        }
                    }
                }
            }
            @if !data.suggested_facets.is_empty() {
                p.muted {
                    (ctx.t("table.facet_by")) " "
                    @for s in &data.suggested_facets {
                        a href=({
                            let mut v = base.clone();
                            v.push(("_facet".into(), s.to_string()));
                            with_query(path, &v)
                        }) { (s) } " "
                    }
                }
            }
            div.catalogue {
                @if !data.facets.is_empty() {
                    aside.facets {
                        @for f in &data.facets {
                            h2 {
                                (f.column) " "
                                small { a href=(without("_facet", &f.column)) title=(ctx.t("table.remove_facet")) { "×" } }
                            }
                            ul {
                                @for v in &f.values {
                                    li {
                                        @if v.selected {
                                            strong { a href=(v.toggle_url) title=(ctx.t("table.remove")) { (v.value) " ×" } }
                                        } @else {
                                            a href=(v.toggle_url) { (v.value) }
                                        }
                                        " (" (count(lang, v.count)) ")"
                                    }
                                }
                            }
                            @if f.truncated {
                                p.muted { small { (ctx.tf("table.distinct", &[("count", &count(lang, f.distinct))])) } }
                            }
                        }
                    }
                }
                section.results {
                    @if data.rows.is_empty() {
                        p { (ctx.t("table.none")) }
                    } @else {
                        p.muted { (ctx.tf("table.showing", &[("from", &count(lang, from)), ("to", &count(lang, data.offset + shown))])) }
                        div.scroll {
                            table {
                                thead { tr {
                                    @for col in cols {
                                        th.num[col.kind.is_numeric() && col.kind != Kind::Date] scope="col" {
                                            a href=(sort_link(&col.name)) title=(ctx.t(if data.sort == Some(col.name.as_str()) && !data.sort_desc { "table.sort_desc" } else { "table.sort_asc" })) {
                                                (col.name)
                                                @if data.sort == Some(col.name.as_str()) {
                                                    @if data.sort_desc { " ▼" } @else { " ▲" }
                                                }
                                            }
                                            @if let Some(tag) = &col.hxl { br; small.muted { (tag) } }
                                        }
                                    }
                                } }
                                tbody {
                                    @for &row in &data.row_ids {
                                        tr {
                                            @for col in cols {
                                                td.num[col.kind.is_numeric() && col.kind != Kind::Date] { (col.value(row)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    nav.pager aria-label=(ctx.t("cat.pages")) {
                        @if p.iter().any(|(k, _)| k == "_next" || k == "_offset") {
                            a href=(with_query(path, &base)) { (ctx.t("table.first")) } " "
                        }
                        @if let Some(next) = &data.next {
                            a rel="next" href=(link_with("_next", next)) { (ctx.t("table.next")) }
                        }
                    }
                }
            }
            p.muted {
                a href=(data.csv_url) download { (ctx.t("table.download_csv")) } " · "
                a href=(with_query(&format!("{path}.json"), p)) { "JSON" } " · "
                a href={ "/dataset/" (d.name) } { (ctx.t("table.back")) }
            }
        },
    )
}
