//! The audit log's pages: a project's entries for its managers, the whole log and its
//! verification for site administrators. Each page has its `.json` and `.csv` twins.

use super::respond;
use crate::ctx::{Admin, Ctx, Format, ProjectGuard, ViewAudit};
use crate::error::WebResult;
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, iso, layout, Chrome};
use axum::extract::Query;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_store::{AuditEntry, AuditQuery};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Entries per page.
const PAGE: i64 = 100;
/// Entries per `.csv` download.
const CSV_MAX: i64 = 1000;

/// The filters, in the query string.
#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    /// `auth`, `data`, `export`, `member`, `form`, `alert`… (the start of the action).
    #[serde(default)]
    kind: String,
    /// Entries of one account.
    #[serde(default)]
    user: String,
    /// Entries before this sequence number (the next page).
    #[serde(default)]
    before: String,
}

/// The kinds offered in the filter: the first part of the action codes.
const KINDS: [&str; 25] = [
    "auth",
    "account",
    "data",
    "export",
    "member",
    "form",
    "app_user",
    "token",
    "retention",
    "incident",
    "agreement",
    "dpia",
    "alert",
    "subject",
    "keys",
    "release",
    "indicator",
    "place",
    "dataset",
    "reuse",
    "discussion",
    "iati",
    "harvest",
    "census",
    "report",
];

impl AuditParams {
    fn query(&self, limit: i64) -> AuditQuery {
        AuditQuery {
            action_prefix: KINDS
                .contains(&self.kind.as_str())
                .then(|| format!("{}.", self.kind)),
            user_id: self.user.trim().parse().ok(),
            before_seq: self.before.trim().parse().ok(),
            limit,
            ..AuditQuery::default()
        }
    }
}

#[derive(Serialize)]
pub struct EntryView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    /// The account's name, when the viewer may know it.
    pub actor_name: Option<String>,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub hash: String,
}

#[derive(Serialize)]
pub struct AuditData {
    pub project: Option<ProjectView>,
    pub entries: Vec<EntryView>,
    /// Alerts (unusual exports) among the latest entries, shown first.
    pub alerts: Vec<EntryView>,
    pub next_url: Option<String>,
    pub kind: String,
    pub user: String,
    /// The result of a verification just run (site page only).
    pub verification: Option<Verification>,
}

#[derive(Serialize, Clone)]
pub struct Verification {
    pub ok: bool,
    pub entries: u64,
    pub signatures_checked: u64,
    pub anchor: Option<String>,
    pub public_key: String,
    pub error: Option<String>,
}

fn view(e: &AuditEntry, names: &HashMap<i64, String>) -> EntryView {
    EntryView {
        seq: e.seq,
        at: iso(e.at),
        actor: e.actor.clone(),
        actor_name: e.user_id.and_then(|u| names.get(&u).cloned()),
        action: e.action.clone(),
        target: e.target.clone(),
        details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
        hash: e.hash.clone(),
    }
}

fn next_url(base: &str, p: &AuditParams, entries: &[AuditEntry], limit: i64) -> Option<String> {
    if (entries.len() as i64) < limit {
        return None;
    }
    let last = entries.last()?.seq;
    let mut q = vec![("before", last.to_string())];
    if !p.kind.is_empty() {
        q.push(("kind", p.kind.clone()));
    }
    if !p.user.is_empty() {
        q.push(("user", p.user.clone()));
    }
    Some(format!(
        "{base}?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    ))
}

/// Whose log a page shows.
enum Scope<'a> {
    /// A project's entries, for its managers.
    Project(&'a baraza_core::ProjectAccess),
    /// The whole log, for administrators.
    Site,
}

/// `GET /orgs/{org}/projects/{project}/audit` (and `.json`, `.csv`).
pub async fn project_audit(
    g: ProjectGuard<ViewAudit>,
    Query(p): Query<AuditParams>,
) -> WebResult<Response> {
    page(&g.ctx, Scope::Project(&g.access), p, None).await
}

/// `GET /-/audit` (and `.json`, `.csv`): the whole log, for administrators.
pub async fn site_audit(Admin { ctx }: Admin, Query(p): Query<AuditParams>) -> WebResult<Response> {
    page(&ctx, Scope::Site, p, None).await
}

/// A page of the log (or its `.json`, `.csv` twin), alerts first on the first page.
async fn page(
    ctx: &Ctx,
    scope: Scope<'_>,
    p: AuditParams,
    verification: Option<Verification>,
) -> WebResult<Response> {
    let core = &ctx.state.core;
    let csv = ctx.format() == Format::Csv;
    let limit = if csv { CSV_MAX } else { PAGE };
    let read = |q: AuditQuery| async {
        match &scope {
            Scope::Project(access) => core.project_audit(access, q).await,
            Scope::Site => core.site_audit(&ctx.principal, q).await,
        }
    };
    let entries = read(p.query(limit)).await?;
    let alerts = if p.before.is_empty() {
        read(AuditQuery {
            action_prefix: Some("alert.".into()),
            limit: 5,
            ..AuditQuery::default()
        })
        .await?
    } else {
        Vec::new()
    };
    let (project, names): (Option<ProjectView>, HashMap<i64, String>) = match &scope {
        Scope::Project(access) => (
            Some(ProjectView::from_access(access)),
            core.members(access)
                .await?
                .into_iter()
                .map(|m| (m.user_id.0, m.name))
                .collect(),
        ),
        Scope::Site => (
            None,
            core.list_users(&ctx.principal)
                .await?
                .into_iter()
                .map(|u| (u.id.0, u.name))
                .collect(),
        ),
    };
    let base = match &project {
        Some(project) => format!("{}/audit", project.url),
        None => "/-/audit".to_owned(),
    };
    let data = AuditData {
        project,
        next_url: next_url(&base, &p, &entries, limit),
        entries: entries.iter().map(|e| view(e, &names)).collect(),
        alerts: alerts.iter().map(|e| view(e, &names)).collect(),
        kind: p.kind.clone(),
        user: p.user.clone(),
        verification,
    };
    if csv {
        return Ok(csv_response(&data.entries, "audit.csv"));
    }
    Ok(respond(ctx, &data, || markup(ctx, &data, &base)))
}

/// `POST /-/audit/verify`: verifies the whole log now and shows the result above the entries.
pub async fn verify(
    Admin { ctx }: Admin,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let core = &ctx.state.core;
    let v = match core.verify_audit(1000, None, None).await {
        Ok(v) => {
            core.note_audit_verified(&ctx.principal, &v).await?;
            Verification {
                ok: true,
                entries: v.entries,
                signatures_checked: v.signatures_checked,
                anchor: v.anchor,
                public_key: v.public_key,
                error: None,
            }
        }
        Err(baraza_core::audit::AuditBroken::Store(e)) => {
            return Err(baraza_core::CoreError::Store(e).into())
        }
        Err(e) => Verification {
            ok: false,
            entries: 0,
            signatures_checked: 0,
            anchor: None,
            public_key: core.audit_public_key().to_hex(),
            error: Some(e.to_string()),
        },
    };
    if !v.ok {
        tracing::error!(
            error = v.error.as_deref().unwrap_or(""),
            "the audit log does not verify"
        );
    }
    page(&ctx, Scope::Site, AuditParams::default(), Some(v)).await
}

fn csv_response(entries: &[EntryView], name: &str) -> Response {
    let mut body = baraza_publish::csv::line(&[
        "seq",
        "at",
        "actor",
        "actor_name",
        "action",
        "target",
        "details",
        "hash",
    ]);
    for e in entries {
        body.push_str(&baraza_publish::csv::line(&[
            e.seq.to_string(),
            e.at.clone(),
            e.actor.clone(),
            e.actor_name.clone().unwrap_or_default(),
            e.action.clone(),
            e.target.clone(),
            e.details.to_string(),
            e.hash.clone(),
        ]));
    }
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn action_label(c: &Chrome<'_>, action: &str) -> String {
    let key = format!("audit.action.{}", action.replace('.', "_"));
    let t = c.t(&key);
    if t == key {
        action.to_owned()
    } else {
        t.to_owned()
    }
}

fn entries_table(c: &Chrome<'_>, entries: &[EntryView]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (c.t("audit.when")) }
                th scope="col" { (c.t("audit.who")) }
                th scope="col" { (c.t("audit.what")) }
                th scope="col" { (c.t("audit.target")) }
                th scope="col" { (c.t("audit.details")) }
            } }
            tbody {
                @for e in entries {
                    tr {
                        td { (e.seq) }
                        td { time datetime=(e.at) { (e.at.replace('T', " ").trim_end_matches('Z')) } }
                        td { @if let Some(n) = &e.actor_name { (n) br; } code.muted { (e.actor) } }
                        td { (action_label(c, &e.action)) br; code.muted { (e.action) } }
                        td { code { (e.target) } }
                        td { @if e.details.as_object().is_some_and(|o| !o.is_empty()) { code { (e.details.to_string()) } } }
                    }
                }
            }
        } }
    }
}

fn markup(ctx: &Ctx, data: &AuditData, base: &str) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let title = match &data.project {
        Some(p) => format!("{} · {}", c.t("audit.title"), p.name),
        None => c.t("audit.title").to_owned(),
    };
    layout(
        &c,
        &title,
        html! {
            @if let Some(p) = &data.project {
                p.muted { a href=(p.url) { (p.name) } }
            }
            h1 { (c.t("audit.title")) }
            p { (c.t("audit.intro")) }
            @if let Some(v) = &data.verification {
                div.card role="status" {
                    @if v.ok {
                        p.notice { (c.tf("audit.verified", &[("n", &v.entries.to_string()), ("s", &v.signatures_checked.to_string())])) }
                        @if let Some(a) = &v.anchor { p { (c.t("audit.anchor")) br; code.secret { (a) } } }
                    } @else {
                        p.error { (c.t("audit.broken")) " " (v.error.as_deref().unwrap_or("")) }
                    }
                    p.muted { (c.t("audit.public_key")) " " code { (v.public_key) } }
                }
            }
            @if data.project.is_none() {
                form method="post" action="/-/audit/verify" {
                    (csrf_field(c.csrf))
                    button type="submit" { (c.t("audit.verify")) }
                }
            }
            @if !data.alerts.is_empty() {
                h2 { (c.t("audit.alerts")) }
                (entries_table(&c, &data.alerts))
            }
            form.inline method="get" action=(base) {
                label { (c.t("audit.kind")) " "
                    select name="kind" {
                        option value="" selected[data.kind.is_empty()] { (c.t("audit.all")) }
                        @for k in KINDS {
                            option value=(k) selected[data.kind == k] { (c.t(&format!("audit.kind_{k}"))) }
                        }
                    }
                }
                " "
                label { (c.t("audit.user")) " " input name="user" value=(data.user) size="6" inputmode="numeric"; }
                " "
                button type="submit" { (c.t("audit.filter")) }
            }
            p.muted {
                a href={ (base) ".csv" } { (c.t("audit.download_csv")) }
            }
            @if data.entries.is_empty() {
                p.muted { (c.t("audit.none")) }
            } @else {
                (entries_table(&c, &data.entries))
            }
            @if let Some(next) = &data.next_url {
                p { a href=(next) { (c.t("audit.older")) } }
            }
        },
    )
}
