//! The open-data catalogue's pages: search with facets, a dataset with its resources and
//! quality, the editing forms, and the machine-readable catalogue (DCAT in Turtle, JSON-LD and
//! RDF/XML with Hydra paging, an Atom feed, a Data Package per dataset).
//!
//! What a reader sees is decided by `baraza_core::catalogue::Viewer`: published public datasets
//! for everyone, drafts and private ones for the project's members.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, ProjectGuard, PublishData, SessionUser};
use crate::error::{WebError, WebResult};
use crate::handlers::exports::BodyWriter;
use crate::handlers::forms::{base_url, CsrfUpload};
use crate::handlers::views::ProjectView;
use crate::i18n::Lang;
use crate::pages::{csrf_field, decimal, layout, when, Chrome};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use baraza_catalogue::licences::{self, LICENCES};
use baraza_catalogue::quality::Quality;
use baraza_catalogue::search::{Facet, Query};
use baraza_catalogue::{Dataset, DatasetState, Resource, Source};
use baraza_core::catalogue::{Catalogue, DatasetInput, Origin, ResourceBody, Upload, Viewer};
use baraza_core::discussions::{DiscussionView, SubjectRef};
use baraza_core::reuses::{ReuseFilter, ReuseView};
use baraza_publish::convert::{convert, point_columns, Target};
use baraza_publish::{atom, datapackage, dcat, schemaorg};
use maud::{html, Markup, PreEscaped};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes read from disk at a time when a file is downloaded.
const DOWNLOAD_CHUNK: usize = 256 * 1024;
/// Datasets per page of the HTML search.
const PAGE_SIZE: usize = 20;
/// Datasets per page of the DCAT catalogue (Hydra paging).
const DCAT_PAGE_SIZE: usize = 100;
/// The facets the search page shows, in order.
const PAGE_FACETS: [&str; 6] = [
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "frequency",
];

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|r| serde_urlencoded::from_str::<Vec<(String, String)>>(r).ok())
        .unwrap_or_default()
}

fn first<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('"', ""))
}

/// A group's title: "6. Clean water and sanitation".
pub(crate) fn group_title(ctx: &Ctx, name: &str) -> String {
    let fw = ctx.state.core.framework();
    name.strip_prefix("sdg-")
        .and_then(|n| n.parse::<u8>().ok())
        .and_then(|n| fw.goal(n))
        .map(|g| {
            format!(
                "{}. {}",
                g.number,
                baraza_indicators::framework::title(&g.short, ctx.lang().code())
            )
        })
        .unwrap_or_else(|| name.to_string())
}

fn facet_label(ctx: &Ctx, field: &str, value: &str) -> String {
    match field {
        "groups" => group_title(ctx, value),
        "license_id" => licences::licence(value)
            .map(|l| l.title.to_string())
            .unwrap_or_else(|| value.to_string()),
        "frequency" => licences::frequency(value)
            .map(|f| f.label(ctx.lang().code()).to_string())
            .unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

#[derive(Serialize)]
struct SearchData<'a> {
    q: String,
    count: usize,
    page: usize,
    pages: usize,
    selected: Vec<(String, String)>,
    results: Vec<&'a Dataset>,
    facets: Vec<Facet>,
}

/// `GET /catalogue`: search the catalogue, with facets (`.json` twin).
pub async fn search(ctx: Ctx, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let p = pairs(raw.as_deref());
    let core = &ctx.state.core;
    let viewer = core.catalogue_viewer(&ctx.principal).await?;
    let cat = core.catalogue().await?;
    let q = first(&p, "q").unwrap_or("").to_string();
    let selected: Vec<(String, String)> = p
        .iter()
        .filter(|(k, v)| PAGE_FACETS.contains(&k.as_str()) && !v.is_empty())
        .cloned()
        .collect();
    let fq = selected
        .iter()
        .map(|(k, v)| format!("{k}:{}", quote(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let sort = match first(&p, "sort") {
        Some("newest") => "metadata_modified desc",
        Some("name") => "title_string asc",
        Some("reuses") => "num_reuses desc, metadata_modified desc",
        _ => "score desc, metadata_modified desc",
    };
    let page = first(&p, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let query = Query {
        q: q.clone(),
        fq,
        sort: sort.into(),
        rows: PAGE_SIZE,
        start: (page - 1) * PAGE_SIZE,
        facet_fields: PAGE_FACETS.iter().map(|s| s.to_string()).collect(),
        facet_limit: 10,
        facet_mincount: 1,
        now: core.now(),
    };
    let found = cat
        .index
        .search(&query, &|d| viewer.sees(&cat, d))
        .map_err(|e| baraza_core::CoreError::SearchInvalid {
            problem: e.to_string(),
        })?;
    let pages = found.count.div_ceil(PAGE_SIZE).max(1);
    let data = SearchData {
        q,
        count: found.count,
        page,
        pages,
        selected,
        results: found.results,
        facets: found.facets,
    };
    Ok(respond(&ctx, &data, || search_page(&ctx, &p, &data)))
}

/// A link to the search page with `key=value` added (or removed when `remove`), page reset.
fn search_link(p: &[(String, String)], key: &str, value: &str, remove: bool) -> String {
    let mut out: Vec<(String, String)> = p
        .iter()
        .filter(|(k, v)| k != "page" && !(remove && k == key && v == value))
        .cloned()
        .collect();
    if !remove {
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    let qs = serde_urlencoded::to_string(&out).unwrap_or_default();
    if qs.is_empty() {
        "/catalogue".into()
    } else {
        format!("/catalogue?{qs}")
    }
}

fn search_page(ctx: &Ctx, p: &[(String, String)], data: &SearchData) -> Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        ctx.t("cat.title"),
        html! {
            h1 { (ctx.t("cat.title")) }
            p { (ctx.t("cat.intro")) " " a href="/learn" { (ctx.t("cat.learn")) } }
            form.search method="get" action="/catalogue" role="search" {
                @for (k, v) in &data.selected {
                    input type="hidden" name=(k) value=(v);
                }
                label for="q" { (ctx.t("cat.search")) }
                input #q type="search" name="q" value=(data.q);
                select name="sort" aria-label=(ctx.t("cat.sort")) {
                    option value="relevance" { (ctx.t("cat.sort_relevance")) }
                    option value="newest" selected[first(p, "sort") == Some("newest")] { (ctx.t("cat.sort_newest")) }
                    option value="name" selected[first(p, "sort") == Some("name")] { (ctx.t("cat.sort_name")) }
                    option value="reuses" selected[first(p, "sort") == Some("reuses")] { (ctx.t("cat.sort_reuses")) }
                }
                button type="submit" { (ctx.t("cat.search_button")) }
            }
            p.muted { (ctx.tf("cat.count", &[("count", &data.count.to_string())])) }
            @if !data.selected.is_empty() {
                p {
                    @for (k, v) in &data.selected {
                        a.chip href=(search_link(p, k, v, true)) { (facet_label(ctx, k, v)) " ×" }
                        " "
                    }
                }
            }
            div.catalogue {
                aside.facets {
                    @for f in &data.facets {
                        @if !f.items.is_empty() {
                            h2 { (ctx.t(&format!("cat.facet.{}", f.field))) }
                            ul {
                                @for (v, n) in &f.items {
                                    li { a href=(search_link(p, &f.field, v, false)) { (facet_label(ctx, &f.field, v)) } " (" (n) ")" }
                                }
                            }
                        }
                    }
                }
                section.results {
                    @for d in &data.results {
                        article.dataset {
                            h2 { a href={ "/dataset/" (d.name) } { (d.title) } }
                            p.muted {
                                (d.organisation.title)
                                @if d.state == DatasetState::Draft { " · " strong { (ctx.t("cat.draft")) } }
                                @if d.private { " · " strong { (ctx.t("cat.private")) } }
                                " · " (when(d.modified))
                                @if d.reuses > 0 {
                                    " · " a href={ "/reuses?dataset=" (d.name) } { (ctx.tf("cat.reuses_count", &[("n", &d.reuses.to_string())])) }
                                }
                            }
                            p { (excerpt(&d.notes, 240)) }
                            p {
                                @for f in formats(d) { span.badge { (f) } " " }
                            }
                        }
                    }
                    @if data.results.is_empty() { p { (ctx.t("cat.none")) } }
                    @if data.pages > 1 {
                        nav.pager aria-label=(ctx.t("cat.pages")) {
                            @if data.page > 1 {
                                a rel="prev" href=(search_link(p, "page", &(data.page - 1).to_string(), false)) { (ctx.t("cat.previous")) }
                            }
                            " " (data.page) " / " (data.pages) " "
                            @if data.page < data.pages {
                                a rel="next" href=(search_link(p, "page", &(data.page + 1).to_string(), false)) { (ctx.t("cat.next")) }
                            }
                        }
                    }
                }
            }
            p.muted {
                (ctx.t("cat.machine")) " "
                a href="/catalog.ttl" { "DCAT (Turtle)" } " · "
                a href="/catalog.jsonld" { "JSON-LD" } " · "
                a href="/catalog.rdf" { "RDF/XML" } " · "
                a href="/feeds/datasets.atom" { "Atom" } " · "
                a href="/api/3/action/package_search" { "CKAN API" }
            }
        },
    )
}

fn excerpt(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

fn formats(d: &Dataset) -> Vec<&str> {
    let mut f: Vec<&str> = d.resources.iter().map(|r| r.format.as_str()).collect();
    f.sort();
    f.dedup();
    f
}

#[derive(Serialize)]
struct DatasetData<'a> {
    dataset: &'a Dataset,
    quality: Quality,
    licence: Option<&'static licences::Licence>,
    can_edit: bool,
    /// Its reuses that are not hidden, newest first.
    reuses: Vec<ReuseView>,
    discussions: Vec<DiscussionView>,
    /// The number of the latest version the reader may see (`/dataset/{name}/versions`).
    latest_version: Option<i64>,
}

async fn seen(ctx: &Ctx, name: &str) -> WebResult<(Viewer, Arc<Catalogue>, Dataset)> {
    let viewer = ctx.state.core.catalogue_viewer(&ctx.principal).await?;
    let (cat, d) = ctx.state.core.dataset_seen(&viewer, name).await?;
    Ok((viewer, cat, d))
}

fn typed(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// `GET /dataset/{name}` (and `.json`): a dataset, its resources, licence and quality;
/// `/dataset/{name}.ttl`, `.jsonld` and `.rdf` give it as DCAT.
pub async fn dataset_page(
    ctx: Ctx,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> WebResult<Response> {
    for (ext, ct) in [
        (".ttl", "text/turtle; charset=utf-8"),
        (".jsonld", "application/ld+json"),
        (".rdf", "application/rdf+xml"),
    ] {
        if let Some(n) = name.strip_suffix(ext) {
            let (_, _, d) = seen(&ctx, n).await?;
            let base = base_url(&ctx, &headers);
            let body = match ext {
                ".ttl" => dcat::dataset_turtle(&base, &d),
                ".jsonld" => dcat::dataset_jsonld(&base, &d),
                _ => dcat::dataset_rdfxml(&base, &d),
            };
            return Ok(typed(body, ct));
        }
    }
    let (viewer, cat, d) = seen(&ctx, &name).await?;
    let core = &ctx.state.core;
    let quality = core.dataset_quality(&d).await?;
    let reuses = core
        .reuses(
            &ctx.principal,
            &ReuseFilter {
                dataset: Some(d.name.clone()),
                ..ReuseFilter::default()
            },
        )
        .await?;
    let discussions = core
        .discussions(&ctx.principal, &SubjectRef::Dataset(d.name.clone()))
        .await?;
    let latest_version = core.dataset_latest_version(&viewer, &cat, &d).await?;
    let data = DatasetData {
        dataset: &d,
        quality,
        licence: licences::licence(&d.license_id),
        can_edit: viewer.edits(&cat, &d),
        reuses,
        discussions,
        latest_version,
    };
    let base = base_url(&ctx, &headers);
    Ok(respond(&ctx, &data, || dataset_html(&ctx, &base, &data)))
}

pub(crate) fn size_text(lang: Lang, bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{} KiB", decimal(lang, b as f64 / 1024.0, 1)),
        Some(b) => format!("{} MiB", decimal(lang, b as f64 / 1048576.0, 1)),
    }
}

fn dataset_html(ctx: &Ctx, base: &str, data: &DatasetData) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let d = data.dataset;
    let lang = ctx.lang();
    let lc = lang.code();
    layout(
        &c,
        &d.title,
        html! {
            script type="application/ld+json" { (PreEscaped(schemaorg::dataset(base, d))) }
            p.muted { a href="/catalogue" { (ctx.t("cat.title")) } " › " (d.organisation.title) }
            h1 { (d.title) }
            @if d.state == DatasetState::Draft { p.notice { (ctx.t("cat.draft_notice")) } }
            @if d.private { p.notice { (ctx.t("cat.private_notice")) } }
            @if let Source::Harvest { source_title, original_url, .. } = &d.source {
                p.notice {
                    (ctx.tf("cat.harvested_from", &[("source", source_title)]))
                    @if !original_url.is_empty() {
                        " (" a href=(original_url) rel="nofollow noopener" { (ctx.t("cat.original_page")) } ")"
                    }
                    br; small { (ctx.t("cat.harvested_notice")) }
                }
            }
            @for para in d.notes.split("\n\n") { p { (para) } }
            @if data.can_edit && !d.source.is_harvested() {
                p { a.button href={ "/dataset/" (d.name) "/edit" } { (ctx.t("cat.edit")) } }
            }
            h2 { (ctx.t("cat.resources")) }
            table {
                thead { tr {
                    th { (ctx.t("cat.resource")) } th { (ctx.t("cat.format")) } th { (ctx.t("cat.size")) } th { }
                } }
                tbody {
                    @for r in &d.resources {
                        tr {
                            td { (r.name) @if !r.description.is_empty() { br; small.muted { (r.description) } } }
                            td { span.badge { (r.format) } }
                            td { (size_text(lang, r.size)) }
                            @if let Some(url) = r.kind.link() {
                                td { a href=(url) rel="nofollow noopener" { (ctx.t("cat.download")) } br; small.muted { (ctx.t("cat.remote_file")) } }
                            } @else {
                            td {
                                a href=(download_path(d, r)) download=(r.file_name) { (ctx.t("cat.download")) }
                                @if r.is_tabular() {
                                    " · " a href=(crate::handlers::table::table_path(d, r)) { (ctx.t("table.explore")) }
                                }
                                @if convertible(r) {
                                    br;
                                    small.muted {
                                        (ctx.t("cat.also_as")) " "
                                        a href={ (download_path(d, r)) ".ndjson" } { "NDJSON" } " · "
                                        a href={ (download_path(d, r)) ".xlsx" } { "XLSX" }
                                        @if point_columns(&r.fields).is_some() {
                                            " · " a href={ (download_path(d, r)) ".geojson" } { "GeoJSON" }
                                        }
                                    }
                                }
                            }
                            }
                        }
                    }
                }
            }
            h2 { (ctx.t("cat.about")) }
            dl.facts {
                dt { (ctx.t("cat.licence")) }
                dd {
                    @match data.licence {
                        Some(l) => {
                            @if l.url.is_empty() { (l.title) } @else { a href=(l.url) rel="license" { (l.title) } }
                            br; small { (l.explain(lc)) }
                        }
                        None => { (d.license_id) }
                    }
                }
                dt { (ctx.t("cat.publisher")) } dd { (d.organisation.title) }
                @if let Some(f) = licences::frequency(&d.frequency) {
                    dt { (ctx.t("cat.frequency")) } dd { (f.label(lc)) }
                }
                @if !d.temporal_start.is_empty() {
                    dt { (ctx.t("cat.temporal")) } dd { (d.temporal_start) " – " (d.temporal_end) }
                }
                @if !d.spatial.is_empty() {
                    dt { (ctx.t("cat.spatial")) } dd { (d.spatial_label) " (" (d.spatial.join(", ")) ")" }
                }
                @if !d.version.is_empty() { dt { (ctx.t("cat.version")) } dd { (d.version) } }
                @if !d.maintainer.is_empty() {
                    dt { (ctx.t("cat.maintainer")) }
                    dd { (d.maintainer) @if !d.maintainer_email.is_empty() { " · " a href={ "mailto:" (d.maintainer_email) } { (d.maintainer_email) } } }
                }
                @if !d.tags.is_empty() {
                    dt { (ctx.t("cat.tags")) }
                    dd { @for t in &d.tags { a.chip href={ "/catalogue?tags=" (crate::middleware::url_encode(t)) } { (t) } " " } }
                }
                @if !d.groups.is_empty() {
                    dt { (ctx.t("cat.groups")) }
                    dd { @for g in &d.groups { a.chip href={ "/catalogue?groups=" (g) } { (group_title(ctx, g)) } " " } }
                }
                dt { (ctx.t("cat.reuses")) }
                dd { a href="#reuses" { (d.reuses) } }
                dt { (ctx.t("cat.discussions")) }
                dd { a href="#discussions" { (ctx.tf("cat.discussions_count", &[("n", &data.discussions.len().to_string())])) } }
                dt { (ctx.t("cat.modified")) } dd { (when(d.modified)) }
                dt { (ctx.t("cat.created")) } dd { (when(d.created)) }
                dt { (ctx.t("ver.history")) }
                dd {
                    a href={ "/dataset/" (d.name) "/versions" } {
                        @match data.latest_version {
                            Some(n) => { (ctx.tf("ver.link", &[("n", &n.to_string())])) }
                            None => { (ctx.t("ver.history")) }
                        }
                    }
                }
            }
            @if !d.methodology.is_empty() {
                h2 { (ctx.t("cat.methodology")) }
                p { (d.methodology) }
            }
            h2 { (ctx.tf("cat.quality", &[("score", &data.quality.score.to_string())])) }
            p.muted { (ctx.t("cat.quality_intro")) }
            ul.quality {
                @for q in &data.quality.criteria {
                    li {
                        @match q.passed {
                            Some(true) => { span.ok { "✓ " } (ctx.t(&format!("quality.{}", q.code))) }
                            Some(false) => {
                                span.bad { "✗ " } (ctx.t(&format!("quality.{}", q.code)))
                                br; small { (ctx.t(&format!("quality.{}_hint", q.code))) }
                                @if !q.detail.is_empty() { small.muted { " (" (q.detail) ")" } }
                            }
                            None => { span.muted { "– " (ctx.t(&format!("quality.{}", q.code))) " · " (ctx.t("quality.not_applicable")) } }
                        }
                    }
                }
            }
            section.reuses {
                h2 #reuses { (ctx.tf("reuse.on_dataset", &[("n", &d.reuses.to_string())])) }
                @if data.reuses.is_empty() { p.muted { (ctx.t("reuse.dataset_none")) } }
                ul { @for r in &data.reuses { (super::reuses::reuse_item(ctx, r)) } }
                p { a.button href={ "/reuses/new?dataset=" (d.name) } { (ctx.t("reuse.register")) } }
            }
            (super::reuses::discussion_section(ctx, &Chrome::from_ctx(ctx), &data.discussions, &format!("/dataset/{}/discussions", d.name), &format!("/dataset/{}", d.name)))
            h2 { (ctx.t("cat.machine_title")) }
            (super::learn::guide_link(&Chrome::from_ctx(ctx), "using-the-apis"))
            p {
                a href={ "/dataset/" (d.name) "/datapackage.json" } { "Data Package" } " · "
                a href={ "/dataset/" (d.name) ".ttl" } { "DCAT (Turtle)" } " · "
                a href={ "/dataset/" (d.name) ".jsonld" } { "JSON-LD" } " · "
                a href={ "/dataset/" (d.name) ".rdf" } { "RDF/XML" } " · "
                a href={ "/api/3/action/package_show?id=" (d.name) } { "CKAN API" }
            }
        },
    )
}

/// Whether a resource can be converted as it streams: a table read from CSV.
fn convertible(r: &Resource) -> bool {
    r.is_tabular() && r.media_type == "text/csv"
}

/// `GET /dataset/{name}/resource/{id}/download.{ndjson,xlsx,geojson}`: a tabular resource
/// converted as it streams (baraza-publish's `convert`): never held whole in memory, whatever
/// its size. GeoJSON exists only for a table with latitude and longitude columns.
pub async fn download_converted(
    ctx: Ctx,
    Path((name, id, file)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let target = file
        .strip_prefix("download.")
        .and_then(Target::parse)
        .ok_or_else(WebError::not_found)?;
    let (_, _, d) = seen(&ctx, &name).await?;
    let r = d
        .resources
        .iter()
        .find(|r| r.id == id)
        .filter(|r| convertible(r))
        .filter(|r| target != Target::GeoJson || point_columns(&r.fields).is_some())
        .ok_or_else(WebError::not_found)?;
    let reader: Box<dyn std::io::Read + Send> = match ctx.state.core.resource_body(&d, r).await? {
        ResourceBody::Bytes(b) => Box::new(std::io::Cursor::new(b)),
        ResourceBody::File { file, .. } => Box::new(std::io::BufReader::with_capacity(
            DOWNLOAD_CHUNK,
            file.into_std().await,
        )),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let fields = r.fields.clone();
    let created = ctx.state.core.now();
    let what = format!("{}/{}", d.name, r.id);
    tokio::task::spawn_blocking(move || {
        let out = BodyWriter::new(tx.clone());
        if let Err(e) = convert(reader, &fields, target, created, out) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::warn!(resource = %what, error = %e, "conversion cut short");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut res = Response::new(axum::body::Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(target.content_type()),
    );
    let stem = r
        .file_name
        .rsplit_once('.')
        .map_or(r.file_name.as_str(), |(s, _)| s);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{stem}.{}\"",
        target.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

fn download_path(d: &Dataset, r: &Resource) -> String {
    format!("/dataset/{}/resource/{}/download", d.name, r.id)
}

/// `GET /dataset/{name}/resource/{id}/download`: the file.
pub async fn download(ctx: Ctx, Path((name, id)): Path<(String, String)>) -> WebResult<Response> {
    let (_, _, d) = seen(&ctx, &name).await?;
    let r = d
        .resources
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(WebError::not_found)?;
    // A harvested file stays on its server: the reader is sent there (nothing is proxied).
    if let Some(url) = r.kind.link() {
        return Ok(axum::response::IntoResponse::into_response(
            axum::response::Redirect::temporary(url),
        ));
    }
    serve_resource(&ctx, &d, r).await
}

/// A resource's bytes as a download (an uploaded file streamed from disk in chunks). `d` is
/// the dataset as it is now (it says whose project holds the bytes); `r` may be a resource of
/// an older version.
pub(crate) async fn serve_resource(ctx: &Ctx, d: &Dataset, r: &Resource) -> WebResult<Response> {
    let mut length = None;
    let body = match ctx.state.core.resource_body(d, r).await? {
        ResourceBody::Bytes(b) => axum::body::Body::from(b),
        ResourceBody::File { file, len } => {
            use futures::StreamExt;
            let stream = futures::stream::unfold(file, |mut f| async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; DOWNLOAD_CHUNK];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), f))
                    }
                    Err(e) => Some((Err(e), f)),
                }
            })
            // The compression layer may poll once more after the end.
            .fuse();
            length = len;
            axum::body::Body::from_stream(stream)
        }
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    if let Some(len) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&r.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", r.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

/// `GET /dataset/{name}/datapackage.json`: the Frictionless Data Package (v2) descriptor. The
/// edge strips `.json`, so the route is `/dataset/{name}/datapackage`.
pub async fn datapackage(
    ctx: Ctx,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> WebResult<Response> {
    let (_, _, d) = seen(&ctx, &name).await?;
    let base = base_url(&ctx, &headers);
    Ok(typed(
        datapackage::datapackage(&base, &d),
        "application/json",
    ))
}

/// `GET /catalog.ttl|.jsonld|.rdf`: the catalogue as DCAT, `page` by page (Hydra), only
/// datasets modified since `modified_since` when given. Public datasets only.
pub async fn catalog(
    ctx: Ctx,
    headers: HeaderMap,
    path: axum::extract::MatchedPath,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let (kind, ct) = match path.as_str() {
        "/catalog.ttl" => (0, "text/turtle; charset=utf-8"),
        "/catalog.jsonld" => (1, "application/ld+json"),
        "/catalog.rdf" => (2, "application/rdf+xml"),
        _ => return Err(WebError::not_found()),
    };
    let p = pairs(raw.as_deref());
    let cat = ctx.state.core.catalogue().await?;
    let since = first(&p, "modified_since").map(str::to_string);
    let fq = match &since {
        Some(s) => format!("metadata_modified:[{s} TO *]"),
        None => String::new(),
    };
    let page = first(&p, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let query = Query {
        fq,
        sort: "metadata_modified desc".into(),
        rows: DCAT_PAGE_SIZE,
        start: (page - 1) * DCAT_PAGE_SIZE,
        now: ctx.state.core.now(),
        ..Query::default()
    };
    let found = cat.index.search(&query, &|d| d.is_public()).map_err(|e| {
        baraza_core::CoreError::SearchInvalid {
            problem: e.to_string(),
        }
    })?;
    let base = base_url(&ctx, &headers);
    let modified = cat
        .index
        .all()
        .filter(|d| d.is_public())
        .map(|d| d.modified)
        .max()
        .unwrap_or(0);
    let page_data = dcat::CatalogPage {
        base: &base,
        title: ctx.t("cat.dcat_title"),
        description: ctx.t("cat.dcat_description"),
        publisher: "Baraza",
        datasets: &found.results,
        page,
        page_size: DCAT_PAGE_SIZE,
        total: found.count,
        modified_since: since.as_deref(),
        modified,
    };
    let body = match kind {
        0 => dcat::turtle(&page_data),
        1 => dcat::jsonld(&page_data),
        _ => dcat::rdfxml(&page_data),
    };
    Ok(typed(body, ct))
}

/// `GET /feeds/datasets.atom`: new and changed public datasets, newest first.
pub async fn atom_feed(ctx: Ctx, headers: HeaderMap) -> WebResult<Response> {
    let cat = ctx.state.core.catalogue().await?;
    let query = Query {
        sort: "metadata_modified desc".into(),
        rows: 50,
        ..Query::default()
    };
    let found = cat
        .index
        .search(&query, &|d| d.is_public())
        .map_err(|e| baraza_core::CoreError::Internal(e.to_string()))?;
    let base = base_url(&ctx, &headers);
    let updated = found.results.first().map(|d| d.modified).unwrap_or(0);
    let body = atom::feed(
        &base,
        ctx.t("cat.feed_title"),
        &format!("{base}/feeds/datasets.atom"),
        &found.results,
        updated,
    );
    Ok(typed(body, "application/atom+xml"))
}

/// The metadata fields of the dataset form, filled from a dataset (or empty for a new one).
fn input_of(d: &Dataset) -> DatasetInput {
    DatasetInput {
        name: d.name.clone(),
        title: d.title.clone(),
        notes: d.notes.clone(),
        license_id: d.license_id.clone(),
        state: d.state.as_str().into(),
        private: d.private,
        frequency: d.frequency.clone(),
        temporal_start: d.temporal_start.clone(),
        temporal_end: d.temporal_end.clone(),
        spatial: d.spatial.join(", "),
        spatial_label: d.spatial_label.clone(),
        methodology: d.methodology.clone(),
        version: d.version.clone(),
        maintainer: d.maintainer.clone(),
        maintainer_email: d.maintainer_email.clone(),
        tags: d.tags.join(", "),
        groups: d.groups.join(", "),
    }
}

/// A form's fields as sent: repeated `groups` checkboxes joined, `private` as a checkbox.
fn input_from(f: &[(String, String)]) -> DatasetInput {
    let get = |k: &str| first(f, k).unwrap_or("").to_string();
    let groups: Vec<&str> = f
        .iter()
        .filter(|(k, v)| k == "groups" && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect();
    DatasetInput {
        name: get("name").trim().to_string(),
        title: get("title"),
        notes: get("notes"),
        license_id: get("license_id"),
        state: get("state"),
        private: matches!(first(f, "private"), Some("on" | "true" | "1")),
        frequency: get("frequency"),
        temporal_start: get("temporal_start"),
        temporal_end: get("temporal_end"),
        spatial: get("spatial"),
        spatial_label: get("spatial_label"),
        methodology: get("methodology"),
        version: get("version"),
        maintainer: get("maintainer"),
        maintainer_email: get("maintainer_email"),
        tags: get("tags"),
        groups: groups.join(","),
    }
}

/// The metadata fields (shared by the create and edit forms), with the licence chooser.
fn metadata_fields(ctx: &Ctx, i: &DatasetInput, with_name: bool) -> Markup {
    let lc = ctx.lang().code();
    let license = if i.license_id.is_empty() {
        "cc-by"
    } else {
        i.license_id.as_str()
    };
    html! {
        label for="title" { (ctx.t("cat.f.title")) }
        input #title name="title" required value=(i.title) maxlength="300";
        @if with_name {
            label for="name" { (ctx.t("cat.f.name")) }
            input #name name="name" value=(i.name) pattern="[a-z0-9_\\-]{2,100}";
            small.muted { (ctx.t("cat.f.name_hint")) }
        }
        label for="notes" { (ctx.t("cat.f.notes")) }
        textarea #notes name="notes" rows="5" { (i.notes) }
        small.muted { (ctx.t("cat.f.notes_hint")) }
        fieldset {
            legend { (ctx.t("cat.f.licence")) }
            (super::learn::guide_link(&Chrome::from_ctx(ctx), "open-licences"))
            @for l in LICENCES.iter() {
                label.choice {
                    input type="radio" name="license_id" value=(l.id) checked[l.id == license];
                    strong { (l.title) } br;
                    small { (l.explain(lc)) }
                }
            }
        }
        label for="frequency" { (ctx.t("cat.f.frequency")) }
        select #frequency name="frequency" {
            option value="" { "—" }
            @for f in licences::FREQUENCIES.iter() {
                option value=(f.code) selected[f.code == i.frequency] { (f.label(lc)) }
            }
        }
        label for="temporal_start" { (ctx.t("cat.f.temporal_start")) }
        input #temporal_start type="date" name="temporal_start" value=(i.temporal_start);
        label for="temporal_end" { (ctx.t("cat.f.temporal_end")) }
        input #temporal_end type="date" name="temporal_end" value=(i.temporal_end);
        label for="spatial" { (ctx.t("cat.f.spatial")) }
        input #spatial name="spatial" value=(i.spatial);
        small.muted { (ctx.t("cat.f.spatial_hint")) }
        label for="spatial_label" { (ctx.t("cat.f.spatial_label")) }
        input #spatial_label name="spatial_label" value=(i.spatial_label);
        label for="methodology" { (ctx.t("cat.f.methodology")) }
        textarea #methodology name="methodology" rows="4" { (i.methodology) }
        label for="tags" { (ctx.t("cat.f.tags")) }
        input #tags name="tags" value=(i.tags);
        fieldset {
            legend { (ctx.t("cat.f.groups")) }
            @for n in 1..=17u8 {
                @let g = format!("sdg-{n}");
                label.inline {
                    input type="checkbox" name="groups" value=(g) checked[i.groups.split(',').any(|x| x.trim() == g || x.trim() == n.to_string())];
                    " " (group_title(ctx, &g))
                }
            }
        }
        label for="version" { (ctx.t("cat.f.version")) }
        input #version name="version" value=(i.version);
        label for="maintainer" { (ctx.t("cat.f.maintainer")) }
        input #maintainer name="maintainer" value=(i.maintainer);
        label for="maintainer_email" { (ctx.t("cat.f.maintainer_email")) }
        input #maintainer_email type="email" name="maintainer_email" value=(i.maintainer_email);
        label for="state" { (ctx.t("cat.f.state")) }
        select #state name="state" {
            option value="draft" selected[i.state != "published"] { (ctx.t("cat.draft")) }
            option value="published" selected[i.state == "published"] { (ctx.t("cat.published")) }
        }
        label.inline {
            input type="checkbox" name="private" checked[i.private];
            " " (ctx.t("cat.f.private"))
        }
    }
}

async fn editable(ctx: &Ctx, name: &str) -> WebResult<Dataset> {
    let (viewer, cat, d) = seen(ctx, name).await?;
    if !viewer.edits(&cat, &d) {
        return Err(baraza_core::CoreError::Forbidden.into());
    }
    if d.source.is_harvested() {
        return Err(baraza_core::CoreError::DatasetHarvested.into());
    }
    Ok(d)
}

/// `GET /dataset/{name}/edit`: the metadata form, the resources and their upload.
pub async fn edit_page(
    SessionUser { ctx }: SessionUser,
    Path(name): Path<String>,
) -> WebResult<Response> {
    let d = editable(&ctx, &name).await?;
    Ok(respond(&ctx, &d, || edit_html(&ctx, &d, &input_of(&d))))
}

fn edit_html(ctx: &Ctx, d: &Dataset, i: &DatasetInput) -> Markup {
    let c = Chrome::from_ctx(ctx);
    layout(
        &c,
        &d.title,
        html! {
            p.muted { a href={ "/dataset/" (d.name) } { (d.title) } }
            h1 { (ctx.t("cat.edit")) }
            form.stack method="post" action={ "/dataset/" (d.name) "/edit" } {
                (csrf_field(c.csrf))
                (metadata_fields(ctx, i, true))
                button type="submit" { (ctx.t("cat.save")) }
            }
            h2 { (ctx.t("cat.resources")) }
            ul {
                @for r in &d.resources {
                    li {
                        (r.name) " " span.badge { (r.format) } " "
                        form.inline method="post" action={ "/dataset/" (d.name) "/resources/" (r.id) "/delete" } {
                            (csrf_field(c.csrf))
                            button.link type="submit" { (ctx.t("cat.remove")) }
                        }
                    }
                }
            }
            h3 { (ctx.t("cat.add_file")) }
            form.stack method="post" enctype="multipart/form-data" action={ "/dataset/" (d.name) "/resources" } {
                (csrf_field(c.csrf))
                label for="rname" { (ctx.t("cat.f.resource_name")) }
                input #rname name="resource_name";
                label for="rdesc" { (ctx.t("cat.f.resource_description")) }
                input #rdesc name="resource_description";
                label for="file" { (ctx.t("cat.f.file")) }
                input #file type="file" name="file" required accept=".csv,.xlsx,.geojson,.json,.pdf,.txt,.md";
                small.muted { (ctx.t("cat.f.file_hint")) }
                button type="submit" { (ctx.t("cat.upload")) }
            }
            h2 { (ctx.t("cat.delete_title")) }
            form method="post" action={ "/dataset/" (d.name) "/delete" } {
                (csrf_field(c.csrf))
                button.danger type="submit" { (ctx.t("cat.delete")) }
            }
        },
    )
}

/// `POST /dataset/{name}/edit`.
pub async fn save(
    SessionUser { ctx }: SessionUser,
    Path(name): Path<String>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let input = input_from(&f);
    let name = ctx
        .state
        .core
        .update_dataset(&ctx.principal, &name, input)
        .await?;
    Ok(see_other(&format!("/dataset/{name}")))
}

/// `POST /dataset/{name}/resources` (multipart): adds a file.
pub async fn add_file(
    SessionUser { ctx }: SessionUser,
    Path(name): Path<String>,
    upload: CsrfUpload,
) -> WebResult<Response> {
    let field = |k: &str| upload.fields.get(k).cloned().unwrap_or_default();
    ctx.state
        .core
        .add_dataset_file(
            &ctx.principal,
            &name,
            Upload {
                name: field("resource_name"),
                description: field("resource_description"),
                file_name: upload.file_name.clone(),
                bytes: upload.bytes,
            },
        )
        .await?;
    Ok(see_other(&format!("/dataset/{name}/edit")))
}

/// `POST /dataset/{name}/resources/{id}/delete`.
pub async fn remove_file(
    SessionUser { ctx }: SessionUser,
    Path((name, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> WebResult<Response> {
    ctx.state
        .core
        .delete_dataset_resource(&ctx.principal, &name, &id)
        .await?;
    Ok(see_other(&format!("/dataset/{name}/edit")))
}

/// `POST /dataset/{name}/delete`.
pub async fn delete(
    SessionUser { ctx }: SessionUser,
    Path(name): Path<String>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> WebResult<Response> {
    let d = editable(&ctx, &name).await?;
    ctx.state
        .core
        .delete_dataset(&ctx.principal, &d.name)
        .await?;
    let (org, project) = d.project.split_once('/').unwrap_or_default();
    Ok(see_other(&format!(
        "/orgs/{org}/projects/{project}/catalogue"
    )))
}

#[derive(Serialize)]
struct ProjectCatalogue {
    datasets: Vec<Dataset>,
    publishable: baraza_core::catalogue::Publishable,
    /// The reuses of the project's datasets (not hidden).
    reuses: Vec<ReuseView>,
}

/// `GET /orgs/{org}/projects/{project}/catalogue`: the project's datasets and what it can add.
pub async fn project_page(g: ProjectGuard<PublishData>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let core = &ctx.state.core;
    let data = ProjectCatalogue {
        datasets: core.project_datasets(&g.access).await?,
        publishable: core.publishable(&g.access).await?,
        reuses: core.project_reuses(&g.access, &ctx.principal).await?,
    };
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || project_html(ctx, &pv, &data)))
}

fn project_html(ctx: &Ctx, pv: &ProjectView, data: &ProjectCatalogue) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lc = ctx.lang().code();
    let base = format!("{}/catalogue", pv.url);
    let blank = DatasetInput::default();
    layout(
        &c,
        ctx.t("cat.project_title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } }
            h1 { (ctx.t("cat.project_title")) }
            @if data.datasets.is_empty() { p { (ctx.t("cat.project_none")) } }
            ul {
                @for d in &data.datasets {
                    li {
                        a href={ "/dataset/" (d.name) } { (d.title) } " · "
                        (ctx.t(if d.state == DatasetState::Draft { "cat.draft" } else { "cat.published" }))
                        @if d.private { " · " (ctx.t("cat.private")) }
                        @if d.reuses > 0 { " · " (ctx.tf("cat.reuses_count", &[("n", &d.reuses.to_string())])) }
                        @if d.source.is_harvested() { " · " (ctx.t("cat.harvested")) } @else {
                            " · " a href={ "/dataset/" (d.name) "/edit" } { (ctx.t("cat.edit")) }
                        }
                    }
                }
            }
            (super::reuses::reused_block(ctx, &data.reuses, &format!("/reuses?organization={}", pv.org)))
            p { a href={ (base) "/harvest" } { (ctx.t("cat.harvest_sources")) } }
            h2 { (ctx.t("cat.new_title")) }
            p { (ctx.t("cat.new_intro")) }
            form.stack method="post" action=(base) {
                (csrf_field(c.csrf))
                label for="origin" { (ctx.t("cat.f.origin")) }
                select #origin name="origin" required {
                    @for (form, id, name) in &data.publishable.releases {
                        option value={ "release:" (form) ":" (id) } { (ctx.t("cat.from_release")) " — " (name) }
                    }
                    @for (slug, title) in &data.publishable.indicators {
                        option value={ "indicator:" (slug) } {
                            (ctx.t("cat.from_indicator")) " — "
                            (title.get(lc).or_else(|| title.get("en")).cloned().unwrap_or_else(|| slug.clone()))
                        }
                    }
                    @if let Some(code) = &data.publishable.iati_activity {
                        option value="iati" { (ctx.t("cat.from_iati")) " — " (code) }
                    }
                }
                @if data.publishable.releases.is_empty() { small.muted { (ctx.t("cat.no_release")) } }
                (metadata_fields(ctx, &blank, true))
                button type="submit" { (ctx.t("cat.create")) }
            }
            h2 { (ctx.t("cat.upload_title")) }
            form.stack method="post" enctype="multipart/form-data" action={ (base) "/upload" } {
                (csrf_field(c.csrf))
                label for="file" { (ctx.t("cat.f.file")) }
                input #file type="file" name="file" required accept=".csv,.xlsx,.geojson,.json,.pdf,.txt,.md";
                small.muted { (ctx.t("cat.f.file_hint")) }
                (metadata_fields(ctx, &blank, true))
                button type="submit" { (ctx.t("cat.create")) }
            }
        },
    )
}

/// `POST /orgs/{org}/projects/{project}/catalogue`: a dataset from a release or an indicator.
pub async fn create(
    g: ProjectGuard<PublishData>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let origin = match first(&f, "origin")
        .unwrap_or("")
        .split(':')
        .collect::<Vec<_>>()[..]
    {
        ["release", form, id] => Origin::Release {
            form: form.to_string(),
            release_id: id.parse().map_err(|_| WebError::not_found())?,
        },
        ["indicator", slug] => Origin::Indicator {
            slug: slug.to_string(),
        },
        ["iati"] => Origin::IatiActivity,
        _ => {
            return Err(baraza_core::CoreError::Invalid {
                field: "origin",
                reason: "dataset_origin",
            }
            .into())
        }
    };
    let name = g
        .ctx
        .state
        .core
        .create_dataset(&g.access, input_from(&f), origin)
        .await?;
    Ok(see_other(&format!("/dataset/{name}")))
}

/// `POST /orgs/{org}/projects/{project}/catalogue/upload` (multipart): a dataset from a file.
pub async fn create_upload(
    g: ProjectGuard<PublishData>,
    upload: CsrfUpload,
) -> WebResult<Response> {
    let mut pairs: Vec<(String, String)> = upload
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Repeated `groups` checkboxes arrive joined by commas: split them back.
    pairs = pairs
        .into_iter()
        .flat_map(|(k, v)| {
            if k == "groups" {
                v.split(',')
                    .map(|g| (k.clone(), g.to_string()))
                    .collect::<Vec<_>>()
            } else {
                vec![(k, v)]
            }
        })
        .collect();
    let input = input_from(&pairs);
    let name = g
        .ctx
        .state
        .core
        .create_dataset(
            &g.access,
            input,
            Origin::Upload(Upload {
                name: String::new(),
                description: String::new(),
                file_name: upload.file_name.clone(),
                bytes: upload.bytes,
            }),
        )
        .await?;
    Ok(see_other(&format!("/dataset/{name}")))
}
