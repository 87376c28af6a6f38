//! Harvest sources of a project's catalogue: list, add, edit, delete, "harvest now", and each
//! source's runs with their counts and errors. Managers only (`publish_data`).
//!
//! "Harvest now" starts the run in its own task and waits for it a bounded time: a short run
//! is shown finished; a long one goes on after the answer (the page shows it running), so that
//! no request outlives the server's request timeout and no run is cut half-way.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, ProjectGuard, PublishData};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, layout, when, Chrome};
use axum::extract::Path;
use axum::response::Response;
use baraza_catalogue::licences::LICENCES;
use baraza_core::audit::Actor;
use baraza_core::harvest::{SourceInput, SourceView, KINDS, SCHEDULES};
use baraza_store::{HarvestRunRow, HarvestSourceRow};
use maud::{html, Markup};
use serde::Serialize;
use std::time::Duration;

/// How long "harvest now" waits for its run before answering.
const RUN_WAIT: Duration = Duration::from_secs(20);

fn base(pv: &ProjectView) -> String {
    format!("{}/catalogue/harvest", pv.url)
}

fn input_from(f: &[(String, String)]) -> SourceInput {
    let get = |k: &str| {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    SourceInput {
        title: get("title"),
        url: get("url"),
        kind: get("kind"),
        filter: get("filter"),
        default_licence: match get("default_licence") {
            l if l.is_empty() => "notspecified".into(),
            l => l,
        },
        schedule: match get("schedule") {
            s if s.is_empty() => "manual".into(),
            s => s,
        },
    }
}

fn source_fields(ctx: &Ctx, s: Option<&HarvestSourceRow>) -> Markup {
    let title = s.map_or("", |s| s.title.as_str());
    let url = s.map_or("", |s| s.url.as_str());
    let kind = s.map_or("ckan", |s| s.kind.as_str());
    let filter = s.map_or("", |s| s.filter.as_str());
    let licence = s.map_or("notspecified", |s| s.default_licence.as_str());
    let schedule = s.map_or("manual", |s| s.schedule.as_str());
    html! {
        label for="h-title" { (ctx.t("harvest.f.title")) }
        input #h-title name="title" required maxlength="200" value=(title);
        label for="h-url" { (ctx.t("harvest.f.url")) }
        input #h-url name="url" type="url" required value=(url) placeholder="https://data.example.org/api/3/action/";
        small.muted { (ctx.t("harvest.f.url_hint")) }
        label for="h-kind" { (ctx.t("harvest.f.kind")) }
        select #h-kind name="kind" {
            @for k in KINDS { option value=(k) selected[kind == k] { (ctx.t(&format!("harvest.kind_{k}"))) } }
        }
        label for="h-filter" { (ctx.t("harvest.f.filter")) }
        input #h-filter name="filter" maxlength="500" value=(filter);
        small.muted { (ctx.t("harvest.f.filter_hint")) }
        label for="h-licence" { (ctx.t("harvest.f.default_licence")) }
        select #h-licence name="default_licence" {
            @for l in LICENCES.iter() { option value=(l.id) selected[licence == l.id] { (l.title) } }
        }
        label for="h-schedule" { (ctx.t("harvest.f.schedule")) }
        select #h-schedule name="schedule" {
            @for k in SCHEDULES { option value=(k) selected[schedule == k] { (ctx.t(&format!("harvest.schedule_{k}"))) } }
        }
    }
}

fn status_text(ctx: &Ctx, status: &str) -> String {
    if status.is_empty() {
        ctx.t("harvest.status_never").to_string()
    } else {
        ctx.t(&format!("harvest.status_{status}")).to_string()
    }
}

fn runs_table(ctx: &Ctx, runs: &[HarvestRunRow]) -> Markup {
    html! {
        @if runs.is_empty() { p.muted { (ctx.t("harvest.no_runs")) } } @else {
            table {
                thead { tr {
                    th scope="col" { (ctx.t("harvest.started")) }
                    th scope="col" { (ctx.t("harvest.mode")) }
                    th scope="col" { (ctx.t("harvest.status")) }
                    th scope="col" { (ctx.t("harvest.created")) }
                    th scope="col" { (ctx.t("harvest.updated")) }
                    th scope="col" { (ctx.t("harvest.unchanged")) }
                    th scope="col" { (ctx.t("harvest.withdrawn")) }
                    th scope="col" { (ctx.t("harvest.errors")) }
                } }
                tbody {
                    @for r in runs {
                        tr {
                            td { (when(r.started_at)) }
                            td { (ctx.t(if r.full { "harvest.full" } else { "harvest.incremental" })) }
                            td { (status_text(ctx, &r.status)) }
                            td.num { (r.counts.created) }
                            td.num { (r.counts.updated) }
                            td.num { (r.counts.unchanged) }
                            td.num { (r.counts.withdrawn) }
                            td.num { (r.counts.errors) }
                        }
                        @if !r.log.is_empty() {
                            tr { td colspan="8" { details { summary { (ctx.t("harvest.log")) } pre { (r.log) } } } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /orgs/{org}/projects/{project}/catalogue/harvest`: the sources, and a form to add one.
pub async fn list(g: ProjectGuard<PublishData>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = SourceList {
        sources: ctx.state.core.harvest_sources(&g.access).await?,
    };
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || list_html(ctx, &pv, &data.sources)))
}

#[derive(Serialize)]
struct SourceList {
    sources: Vec<SourceView>,
}

fn list_html(ctx: &Ctx, pv: &ProjectView, data: &[SourceView]) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let base = base(pv);
    layout(
        &c,
        ctx.t("harvest.title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href={ (pv.url) "/catalogue" } { (ctx.t("cat.project_title")) } }
            h1 { (ctx.t("harvest.title")) }
            p { (ctx.t("harvest.intro")) }
            @if data.is_empty() { p.muted { (ctx.t("harvest.none")) } } @else {
                table {
                    thead { tr {
                        th scope="col" { (ctx.t("harvest.f.title")) }
                        th scope="col" { (ctx.t("harvest.f.kind")) }
                        th scope="col" { (ctx.t("harvest.f.schedule")) }
                        th scope="col" { (ctx.t("harvest.last_run")) }
                        th scope="col" { (ctx.t("harvest.datasets")) }
                    } }
                    tbody {
                        @for v in data {
                            tr {
                                td { a href={ (base) "/" (v.source.id) } { (v.source.title) } br; small.muted { (v.source.url) } }
                                td { (ctx.t(&format!("harvest.kind_{}", v.source.kind))) }
                                td { (ctx.t(&format!("harvest.schedule_{}", v.source.schedule))) }
                                td {
                                    (status_text(ctx, &v.source.last_status))
                                    @if let Some(t) = v.source.last_run_at { br; small.muted { (when(t)) } }
                                }
                                td.num { (v.datasets) }
                            }
                        }
                    }
                }
            }
            h2 { (ctx.t("harvest.add")) }
            form.stack method="post" action=(base) {
                (csrf_field(c.csrf))
                (source_fields(ctx, None))
                button type="submit" { (ctx.t("harvest.add")) }
            }
        },
    )
}

/// `POST /orgs/{org}/projects/{project}/catalogue/harvest`: adds a source.
pub async fn create(
    g: ProjectGuard<PublishData>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = g
        .ctx
        .state
        .core
        .create_harvest_source(&g.access, input_from(&f))
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}

#[derive(Serialize)]
struct SourcePage {
    source: HarvestSourceRow,
    runs: Vec<HarvestRunRow>,
    datasets: usize,
}

/// `GET /orgs/{org}/projects/{project}/catalogue/harvest/{source}`: a source, its settings and
/// its runs.
pub async fn page(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id: i64 = id.parse().map_err(|_| WebError::not_found())?;
    let v = ctx
        .state
        .core
        .harvest_sources(&g.access)
        .await?
        .into_iter()
        .find(|v| v.source.id == id)
        .ok_or_else(WebError::not_found)?;
    let data = SourcePage {
        source: v.source,
        runs: v.runs,
        datasets: v.datasets,
    };
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || page_html(ctx, &pv, &data)))
}

fn page_html(ctx: &Ctx, pv: &ProjectView, data: &SourcePage) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let s = &data.source;
    let url = format!("{}/{}", base(pv), s.id);
    let running = s.last_status == "running";
    layout(
        &c,
        &s.title,
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(base(pv)) { (ctx.t("harvest.title")) } }
            h1 { (s.title) }
            p { a href=(s.url) rel="nofollow noopener" { (s.url) } }
            dl.facts {
                dt { (ctx.t("harvest.f.kind")) } dd { (ctx.t(&format!("harvest.kind_{}", s.kind))) }
                dt { (ctx.t("harvest.last_run")) } dd { (status_text(ctx, &s.last_status)) @if let Some(t) = s.last_run_at { " · " (when(t)) } }
                dt { (ctx.t("harvest.datasets")) } dd { a href={ (pv.url) "/catalogue" } { (data.datasets) } }
                dt { (ctx.t("harvest.watermark")) }
                dd { @match s.watermark { Some(w) => { (when(w)) } None => { (ctx.t("harvest.no_watermark")) } } }
            }
            @if running { p.notice { (ctx.t("harvest.running_notice")) } }
            form.inline method="post" action={ (url) "/run" } {
                (csrf_field(c.csrf))
                button type="submit" { (ctx.t("harvest.run_now")) }
            }
            " "
            form.inline method="post" action={ (url) "/run" } {
                (csrf_field(c.csrf))
                input type="hidden" name="full" value="1";
                button.secondary type="submit" { (ctx.t("harvest.run_full")) }
            }
            p.muted { small { (ctx.t("harvest.run_hint")) } }
            h2 { (ctx.t("harvest.runs")) }
            (runs_table(ctx, &data.runs))
            h2 { (ctx.t("harvest.edit")) }
            form.stack method="post" action=(url) {
                (csrf_field(c.csrf))
                (source_fields(ctx, Some(s)))
                button type="submit" { (ctx.t("cat.save")) }
            }
            h2 { (ctx.t("harvest.delete_title")) }
            p { (ctx.t("harvest.delete_hint")) }
            form method="post" action={ (url) "/delete" } {
                (csrf_field(c.csrf))
                button.danger type="submit" { (ctx.t("harvest.delete")) }
            }
        },
    )
}

fn source_id(id: &str) -> WebResult<i64> {
    id.parse().map_err(|_| WebError::not_found())
}

/// `POST …/harvest/{source}`: changes a source's settings.
pub async fn update(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = source_id(&id)?;
    g.ctx
        .state
        .core
        .update_harvest_source(&g.access, id, input_from(&f))
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}

/// `POST …/harvest/{source}/delete`: deletes a source and its harvested datasets.
pub async fn delete(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = source_id(&id)?;
    g.ctx
        .state
        .core
        .delete_harvest_source(&g.access, id)
        .await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&base(&pv)))
}

/// `POST …/harvest/{source}/run` (`full=1` for a full run): harvests now, then shows the
/// source with the run (finished, or still running when it takes long).
pub async fn run(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let id = source_id(&id)?;
    let full = f.iter().any(|(k, v)| k == "full" && v == "1");
    let core = g.ctx.state.core.clone();
    let source = core.harvest_source(&g.access, id).await?;
    let actor = Actor::of_access(&g.access);
    let task = tokio::spawn(async move { core.run_harvest(&source, full, actor).await });
    if let Ok(joined) = tokio::time::timeout(RUN_WAIT, task).await {
        joined.map_err(|e| baraza_core::CoreError::Internal(format!("harvest task: {e}")))??;
    }
    let pv = ProjectView::from_access(&g.access);
    Ok(see_other(&format!("{}/{id}", base(&pv))))
}
