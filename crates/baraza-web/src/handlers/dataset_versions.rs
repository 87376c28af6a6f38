//! A dataset's history: its versions (newest first, who, when, what changed), one version's
//! metadata and files as they then were, and an older version's files downloaded as they were
//! (docs/catalogue.md, "Versions").
//!
//! Who sees what is decided by the core (`Core::dataset_history`): the dataset's page rules,
//! then, for readers outside the project, only the versions made while it was public and
//! "an editor" in place of a name.

use super::catalogue::{serve_resource, size_text};
use super::respond;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::pages::{layout, when, Chrome};
use axum::extract::Path;
use axum::response::Response;
use baraza_catalogue::versions::{Changes, ResourceChange, Start};
use baraza_catalogue::{licences, Dataset, DatasetState};
use baraza_core::catalogue::{version_resource_kept, VersionBy, VersionEntry};
use maud::{html, Markup};
use serde::Serialize;

#[derive(Serialize)]
struct HistoryData<'a> {
    dataset: &'a str,
    title: &'a str,
    /// Newest first.
    versions: &'a [VersionEntry],
}

/// `GET /dataset/{name}/versions` (and `.json`): the dataset's versions, newest first.
pub async fn history(ctx: Ctx, Path(name): Path<String>) -> WebResult<Response> {
    let viewer = ctx.state.core.catalogue_viewer(&ctx.principal).await?;
    let (d, versions) = ctx.state.core.dataset_history(&viewer, &name).await?;
    let data = HistoryData {
        dataset: &d.name,
        title: &d.title,
        versions: &versions,
    };
    Ok(respond(&ctx, &data, || history_html(&ctx, &d, &versions)))
}

fn history_html(ctx: &Ctx, d: &Dataset, versions: &[VersionEntry]) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let title = ctx.tf("ver.history_title", &[("title", &d.title)]);
    layout(
        &c,
        &title,
        html! {
            p.muted { a href="/catalogue" { (ctx.t("cat.title")) } " › " a href={ "/dataset/" (d.name) } { (d.title) } }
            h1 { (title) }
            p.muted { (ctx.t("ver.intro")) }
            @if versions.is_empty() {
                p { (ctx.t("ver.none")) }
            } @else {
                table {
                    thead { tr {
                        th { (ctx.t("ver.number")) } th { (ctx.t("ver.when")) } th { (ctx.t("ver.by")) } th { (ctx.t("ver.what")) }
                    } }
                    tbody {
                        @for v in versions {
                            tr {
                                td { a href={ "/dataset/" (d.name) "/versions/" (v.number) } { (v.number) } }
                                td { (when(v.at)) }
                                td { (by_text(ctx, &v.by)) }
                                td { (summary(ctx, &v.changes)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn by_text(ctx: &Ctx, by: &VersionBy) -> String {
    match by {
        VersionBy::User { name: Some(n) } => n.clone(),
        VersionBy::User { name: None } => ctx.t("ver.an_editor").to_string(),
        VersionBy::Harvest => ctx.t("ver.by_harvest").to_string(),
        VersionBy::System => ctx.t("ver.by_system").to_string(),
    }
}

/// A metadata field's label (the edit form's), by its CKAN name.
fn field_label<'a>(ctx: &'a Ctx, field: &'a str) -> &'a str {
    let key = match field {
        "name" => "cat.f.name",
        "title" => "cat.f.title",
        "notes" => "cat.f.notes",
        "license_id" => "cat.f.licence",
        "state" => "cat.f.state",
        "private" => "cat.private",
        "frequency" => "cat.f.frequency",
        "temporal_start" => "cat.f.temporal_start",
        "temporal_end" => "cat.f.temporal_end",
        "spatial" => "cat.f.spatial",
        "spatial_label" => "cat.f.spatial_label",
        "methodology" => "cat.f.methodology",
        "version" => "cat.f.version",
        "maintainer" => "cat.f.maintainer",
        "maintainer_email" => "cat.f.maintainer_email",
        "tags" => "cat.tags",
        "groups" => "cat.f.groups",
        "source" => "ver.field_source",
        other => return other,
    };
    ctx.t(key)
}

fn short_hash(h: &Option<String>) -> String {
    match h.as_deref().and_then(|h| h.strip_prefix("sha256:")) {
        Some(hex) => format!("sha256:{}…", hex.get(..12).unwrap_or(hex)),
        None => String::new(),
    }
}

fn resource_line(ctx: &Ctx, r: &ResourceChange) -> Markup {
    let size = size_text(ctx.lang(), r.size);
    html! {
        (r.name) " (" (r.format)
        @if !size.is_empty() { ", " (size) }
        ")"
        @if r.hash.is_some() { " " code title=[r.hash.as_deref()] { (short_hash(&r.hash)) } }
        @if r.previous_hash.is_some() {
            " " small.muted { (ctx.t("ver.was")) " " code title=[r.previous_hash.as_deref()] { (short_hash(&r.previous_hash)) } }
        }
    }
}

/// What a version changed, in a few lines.
fn summary(ctx: &Ctx, ch: &Changes) -> Markup {
    html! {
        @match ch.start {
            Start::Created => { p { (ctx.t("ver.created")) } }
            Start::Baseline => { p { (ctx.t("ver.baseline")) } }
            Start::Changed => {}
        }
        @if !ch.fields.is_empty() {
            p {
                (ctx.t("ver.fields")) " "
                @for (i, f) in ch.fields.iter().enumerate() {
                    @if i > 0 { ", " }
                    (field_label(ctx, f))
                }
            }
        }
        @for (key, list) in [("ver.added", &ch.added), ("ver.removed", &ch.removed), ("ver.changed", &ch.changed)] {
            @if !list.is_empty() {
                p { (ctx.t(key)) }
                ul { @for r in list { li { (resource_line(ctx, r)) } } }
            }
        }
    }
}

#[derive(Serialize)]
struct VersionData<'a> {
    dataset: &'a str,
    /// The version's number, when it was made, by whom, what changed.
    version: &'a VersionEntry,
    /// The dataset's metadata and files as they were at this version.
    snapshot: &'a Dataset,
    /// The latest version the reader may see.
    latest: Option<i64>,
}

fn number(n: &str) -> WebResult<i64> {
    n.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        WebError::from(baraza_core::CoreError::NotFound {
            what: "dataset_version",
        })
    })
}

/// `GET /dataset/{name}/versions/{n}` (and `.json`): one version's metadata and files.
pub async fn version_page(
    ctx: Ctx,
    Path((name, n)): Path<(String, String)>,
) -> WebResult<Response> {
    let n = number(&n)?;
    let core = &ctx.state.core;
    let viewer = core.catalogue_viewer(&ctx.principal).await?;
    let (d, v, then) = core.dataset_version(&viewer, &name, n).await?;
    let cat = core.catalogue().await?;
    let latest = core.dataset_latest_version(&viewer, &cat, &d).await?;
    let data = VersionData {
        dataset: &d.name,
        version: &v,
        snapshot: &then,
        latest,
    };
    Ok(respond(&ctx, &data, || {
        version_html(&ctx, &d, &v, &then, latest)
    }))
}

fn version_html(
    ctx: &Ctx,
    d: &Dataset,
    v: &VersionEntry,
    then: &Dataset,
    latest: Option<i64>,
) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lang = ctx.lang();
    let lc = lang.code();
    let n = v.number.to_string();
    let title = ctx.tf("ver.version_title", &[("n", &n), ("title", &then.title)]);
    let base = format!("/dataset/{}/versions", d.name);
    layout(
        &c,
        &title,
        html! {
            p.muted {
                a href="/catalogue" { (ctx.t("cat.title")) } " › "
                a href={ "/dataset/" (d.name) } { (d.title) } " › "
                a href=(base) { (ctx.t("ver.history")) }
            }
            h1 { (then.title) }
            p.notice {
                (ctx.tf("ver.this_is", &[("n", &n), ("when", &when(v.at)), ("by", &by_text(ctx, &v.by))]))
                @if latest != Some(v.number) {
                    " " a href={ "/dataset/" (d.name) } { (ctx.t("ver.see_current")) }
                }
            }
            nav.pager {
                @if v.number > 1 { a href={ (base) "/" (v.number - 1) } rel="prev" { (ctx.t("ver.older")) } " · " }
                a href=(base) { (ctx.t("ver.history")) }
                @if latest.is_some_and(|l| l > v.number) { " · " a href={ (base) "/" (v.number + 1) } rel="next" { (ctx.t("ver.newer")) } }
            }
            h2 { (ctx.t("ver.what")) }
            (summary(ctx, &v.changes))
            @if then.state == DatasetState::Draft { p.notice { (ctx.t("cat.draft")) } }
            @if then.private { p.notice { (ctx.t("cat.private")) } }
            @for para in then.notes.split("\n\n") { p { (para) } }
            h2 { (ctx.t("cat.resources")) }
            @if then.resources.is_empty() {
                p.muted { (ctx.t("ver.no_files")) }
            } @else {
                table {
                    thead { tr {
                        th { (ctx.t("cat.resource")) } th { (ctx.t("cat.format")) } th { (ctx.t("cat.size")) } th { (ctx.t("ver.hash")) } th { }
                    } }
                    tbody {
                        @for r in &then.resources {
                            tr {
                                td { (r.name) @if !r.description.is_empty() { br; small.muted { (r.description) } } }
                                td { span.badge { (r.format) } }
                                td { (size_text(lang, r.size)) }
                                td { @if let Some(h) = &r.hash { code title=(h) { (short_hash(&r.hash)) } } }
                                td {
                                    @if let Some(url) = r.kind.link() {
                                        a href=(url) rel="nofollow noopener" { (ctx.t("cat.download")) }
                                    } @else if version_resource_kept(r) {
                                        a href={ (base) "/" (v.number) "/resource/" (r.id) "/download" } download=(r.file_name) { (ctx.t("cat.download")) }
                                    } @else {
                                        small.muted { (ctx.t("ver.live_file")) }
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
                    @match licences::licence(&then.license_id) {
                        Some(l) => { (l.title) }
                        None => { (then.license_id) }
                    }
                }
                @if let Some(f) = licences::frequency(&then.frequency) {
                    dt { (ctx.t("cat.frequency")) } dd { (f.label(lc)) }
                }
                @if !then.temporal_start.is_empty() {
                    dt { (ctx.t("cat.temporal")) } dd { (then.temporal_start) " – " (then.temporal_end) }
                }
                @if !then.spatial.is_empty() {
                    dt { (ctx.t("cat.spatial")) } dd { (then.spatial_label) " (" (then.spatial.join(", ")) ")" }
                }
                @if !then.version.is_empty() { dt { (ctx.t("cat.version")) } dd { (then.version) } }
                @if !then.maintainer.is_empty() { dt { (ctx.t("cat.maintainer")) } dd { (then.maintainer) } }
                @if !then.tags.is_empty() { dt { (ctx.t("cat.tags")) } dd { (then.tags.join(", ")) } }
                @if !then.groups.is_empty() { dt { (ctx.t("cat.groups")) } dd { (then.groups.join(", ")) } }
                dt { (ctx.t("cat.modified")) } dd { (when(v.at)) }
            }
            @if !then.methodology.is_empty() {
                h2 { (ctx.t("cat.methodology")) }
                p { (then.methodology) }
            }
        },
    )
}

/// `GET /dataset/{name}/versions/{n}/resource/{id}/download`: a file as it was at that
/// version: an uploaded file by its content address (while its blob exists), a release's
/// table. A live resource (an indicator's series, an IATI activity) has no older bytes: 404.
pub async fn download(
    ctx: Ctx,
    Path((name, n, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let n = number(&n)?;
    let core = &ctx.state.core;
    let viewer = core.catalogue_viewer(&ctx.principal).await?;
    let (d, _, then) = core.dataset_version(&viewer, &name, n).await?;
    let r = then
        .resources
        .iter()
        .find(|r| r.id == id)
        .filter(|r| version_resource_kept(r))
        .ok_or_else(WebError::not_found)?;
    serve_resource(&ctx, &d, r).await
}
