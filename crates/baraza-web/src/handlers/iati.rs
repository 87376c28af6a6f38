//! IATI pages: a project's activity (public page with budgets, transactions and totals, and
//! its `.json` twin), the form that records it, the activity's IATI 2.03 XML and the
//! organisation's file of activities, and the organisation's IATI identity (owners).
//!
//! What may be done and what is checked is decided by `baraza_core::iati`.

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, OrgOwner, ProjectGuard, PublishData, ViewProject};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{amount, csrf_field, layout, Chrome};
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_core::iati::IatiView;
use baraza_publish::iati::codes::{self, Code};
use baraza_publish::iati::{
    name_of, ActivityFields, Budget, Participant, SectorShare, Transaction,
};
use baraza_store::IatiOrgRow;
use maud::{html, Markup};
use serde::Serialize;

fn first<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn all<'a>(f: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn xml(body: String, file_name: &str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn base(pv: &ProjectView) -> String {
    format!("{}/iati", pv.url)
}

/// A `<select>` of a codelist, with an empty choice when `optional`.
fn chooser(
    lang: &str,
    id: &str,
    name: &str,
    list: &'static [Code],
    current: &str,
    optional: bool,
) -> Markup {
    html! {
        select id=(id) name=(name) required[!optional] {
            @if optional { option value="" selected[current.is_empty()] { "—" } }
            @for c in list {
                option value=(c.code) selected[c.code == current] { (c.code) " — " (c.name(lang)) }
            }
        }
    }
}

fn text_input(label: &str, id: &str, value: &str, kind: &str, required: bool) -> Markup {
    field(label, id, id, value, kind, required)
}

/// An input whose id differs from its name (two forms of a page share field names).
fn field(label: &str, id: &str, name: &str, value: &str, kind: &str, required: bool) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) name=(name) type=(kind) value=(value) required[required];
    }
}

/// `GET /orgs/{org}/projects/{project}/iati` (and `.json`): the activity, budgets,
/// transactions and their totals.
pub async fn activity_page(g: ProjectGuard<ViewProject>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = ctx.state.core.iati_view(&g.access).await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || activity_html(ctx, &pv, &data)))
}

fn activity_html(ctx: &Ctx, pv: &ProjectView, data: &IatiView) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lc = ctx.lang().code();
    let lang = ctx.lang();
    let b = base(pv);
    layout(
        &c,
        ctx.t("iati.title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } }
            h1 { (ctx.t("iati.title")) }
            p.muted { (ctx.t("iati.intro")) " " a href="/learn" { (ctx.t("iati.learn")) } }
            @match &data.activity {
                None => {
                    p { (ctx.t("iati.none")) }
                    @if data.can_edit { p { a href={ (b) "/edit" } { (ctx.t("iati.record")) } } }
                }
                Some(a) => {
                    @let f = &a.fields;
                    @let title = if lc == "fr" && !f.title_fr.is_empty() || f.title_en.is_empty() { &f.title_fr } else { &f.title_en };
                    @let desc = if lc == "fr" && !f.description_fr.is_empty() || f.description_en.is_empty() { &f.description_fr } else { &f.description_en };
                    h2 { (title) }
                    p { (desc) }
                    p {
                        a href={ (pv.url) "/iati.xml" } { "IATI XML" }
                        " · " a href={ (b) ".json" } { "JSON" }
                        @if data.can_edit {
                            " · " a href={ (b) "/edit" } { (ctx.t("iati.edit")) }
                            " · " a href={ (pv.url) "/catalogue" } { (ctx.t("iati.share")) }
                        }
                    }
                    dl {
                        dt { (ctx.t("iati.identifier")) } dd { code { (data.identifier.clone().unwrap_or_default()) } }
                        dt { (ctx.t("iati.f.status")) } dd { (name_of(codes::ACTIVITY_STATUSES, &f.status, lc)) }
                        @for (label, d) in [("iati.f.planned_start", &f.planned_start), ("iati.f.actual_start", &f.actual_start), ("iati.f.planned_end", &f.planned_end), ("iati.f.actual_end", &f.actual_end)] {
                            @if !d.is_empty() { dt { (ctx.t(label)) } dd { (d) } }
                        }
                        dt { (ctx.t("iati.f.country")) }
                        dd { (f.country) @if !f.region.is_empty() { " (" (amount(lang, &f.country_percentage)) " %)" } }
                        @if !f.region.is_empty() {
                            dt { (ctx.t("iati.f.region")) } dd { (name_of(codes::REGIONS, &f.region, lc)) }
                        }
                        dt { (ctx.t("iati.f.sectors")) }
                        dd { ul { @for s in &f.sectors { li { (s.code) " — " (name_of(codes::SECTORS, &s.code, lc)) @if f.sectors.len() > 1 { " (" (amount(lang, &s.percentage)) " %)" } } } } }
                        dt { (ctx.t("iati.f.currency")) } dd { (f.currency) }
                        dt { (ctx.t("iati.f.humanitarian")) } dd { (ctx.t(if f.humanitarian { "iati.yes" } else { "iati.no" })) }
                        dt { (ctx.t("iati.participants")) }
                        dd { ul { @for o in &f.participants {
                            li { (o.name) " — " (name_of(codes::ORGANISATION_ROLES, &o.role, lc))
                                 @if !o.reference.is_empty() { " · " code { (o.reference) } } }
                        } } }
                    }
                    h2 { (ctx.t("iati.budgets")) }
                    @if data.budgets.is_empty() { p.muted { (ctx.t("iati.no_budgets")) } } @else {
                        table {
                            thead { tr { th { (ctx.t("iati.f.period")) } th { (ctx.t("iati.f.budget_type")) } th { (ctx.t("iati.f.budget_status")) } th.num { (ctx.t("iati.f.value")) } } }
                            tbody { @for bu in &data.budgets { tr {
                                td { (bu.period_start) " → " (bu.period_end) }
                                td { (name_of(codes::BUDGET_TYPES, &bu.budget_type, lc)) }
                                td { (name_of(codes::BUDGET_STATUSES, &bu.status, lc)) }
                                td.num { (amount(lang, &bu.value)) " " (bu.currency) }
                            } } }
                            tfoot { @for (cur, v) in &data.budget_totals { tr { th colspan="3" { (ctx.t("iati.total")) } td.num { strong { (amount(lang, v)) " " (cur) } } } } }
                        }
                    }
                    h2 { (ctx.t("iati.transactions")) }
                    @if data.transactions.is_empty() { p.muted { (ctx.t("iati.no_transactions")) } } @else {
                        table {
                            thead { tr { th { (ctx.t("iati.f.date")) } th { (ctx.t("iati.f.transaction_type")) } th { (ctx.t("iati.f.provider")) } th { (ctx.t("iati.f.receiver")) } th { (ctx.t("iati.f.description")) } th.num { (ctx.t("iati.f.value")) } } }
                            tbody { @for t in &data.transactions { tr {
                                td { (t.date) }
                                td { (name_of(codes::TRANSACTION_TYPES, &t.transaction_type, lc)) }
                                td { (t.provider_name) } td { (t.receiver_name) } td { (t.description) }
                                td.num { (amount(lang, &t.value)) " " (t.currency) }
                            } } }
                        }
                        h3 { (ctx.t("iati.totals")) }
                        table {
                            thead { tr { th { (ctx.t("iati.f.transaction_type")) } th.num { (ctx.t("iati.total")) } } }
                            tbody { @for (ty, by) in &data.transaction_totals { @for (cur, v) in by { tr {
                                td { (name_of(codes::TRANSACTION_TYPES, ty, lc)) } td.num { (amount(lang, v)) " " (cur) }
                            } } } }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /orgs/{org}/projects/{project}/iati/edit` (and `.json`): the forms.
pub async fn edit_page(g: ProjectGuard<PublishData>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = ctx.state.core.iati_view(&g.access).await?;
    let pv = ProjectView::from_access(&g.access);
    Ok(respond(ctx, &data, || edit_html(ctx, &pv, &data)))
}

fn edit_html(ctx: &Ctx, pv: &ProjectView, data: &IatiView) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let lc = ctx.lang().code();
    let lang = ctx.lang();
    let b = base(pv);
    let blank = ActivityFields {
        lang: "fr".into(),
        country: "TD".into(),
        currency: "XAF".into(),
        status: "2".into(),
        ..ActivityFields::default()
    };
    let (code, f) = match &data.activity {
        Some(a) => (a.code.as_str(), &a.fields),
        None => ("", &blank),
    };
    let mut sectors = f.sectors.clone();
    sectors.extend(std::iter::repeat_n(SectorShare::default(), 2));
    let mut people = f.participants.clone();
    people.extend(std::iter::repeat_n(Participant::default(), 2));
    let cur = if f.currency.is_empty() {
        "XAF"
    } else {
        &f.currency
    };
    layout(
        &c,
        ctx.t("iati.edit_title"),
        html! {
            p.muted { a href=(pv.url) { (pv.name) } " › " a href=(b) { (ctx.t("iati.title")) } }
            h1 { (ctx.t("iati.edit_title")) }
            @match &data.reporting {
                None => { p.warning { (ctx.t("iati.org_first")) " " a href={ "/orgs/" (pv.org) "/iati" } { (ctx.t("iati.org_settings")) } } }
                Some(r) => { p.muted { (ctx.t("iati.reporting")) " : " code { (r.identifier) } " · " (name_of(codes::ORGANISATION_TYPES, &r.org_type, lc)) } }
            }
            h2 { (ctx.t("iati.activity")) }
            form.stack method="post" action=(b) {
                (csrf_field(c.csrf))
                (text_input(ctx.t("iati.f.code"), "code", code, "text", true))
                small.muted { (ctx.t("iati.f.code_hint")) }
                label for="lang" { (ctx.t("iati.f.lang")) }
                select #lang name="lang" {
                    option value="fr" selected[f.lang == "fr"] { "Français" }
                    option value="en" selected[f.lang == "en"] { "English" }
                }
                (text_input(ctx.t("iati.f.title_fr"), "title_fr", &f.title_fr, "text", false))
                (text_input(ctx.t("iati.f.title_en"), "title_en", &f.title_en, "text", false))
                label for="description_fr" { (ctx.t("iati.f.description_fr")) }
                textarea #description_fr name="description_fr" rows="4" { (f.description_fr) }
                label for="description_en" { (ctx.t("iati.f.description_en")) }
                textarea #description_en name="description_en" rows="4" { (f.description_en) }
                label for="status" { (ctx.t("iati.f.status")) }
                (chooser(lc, "status", "status", codes::ACTIVITY_STATUSES, &f.status, false))
                (text_input(ctx.t("iati.f.planned_start"), "planned_start", &f.planned_start, "date", false))
                (text_input(ctx.t("iati.f.actual_start"), "actual_start", &f.actual_start, "date", false))
                (text_input(ctx.t("iati.f.planned_end"), "planned_end", &f.planned_end, "date", false))
                (text_input(ctx.t("iati.f.actual_end"), "actual_end", &f.actual_end, "date", false))
                label for="country" { (ctx.t("iati.f.country")) }
                select #country name="country" required {
                    @for k in codes::countries() { option value=(k) selected[k == f.country] { (k) } }
                }
                label for="region" { (ctx.t("iati.f.region")) }
                (chooser(lc, "region", "region", codes::REGIONS, &f.region, true))
                (text_input(ctx.t("iati.f.country_percentage"), "country_percentage", &f.country_percentage, "text", false))
                small.muted { (ctx.t("iati.f.country_percentage_hint")) }
                fieldset {
                    legend { (ctx.t("iati.f.sectors")) }
                    small.muted { (ctx.t("iati.f.sectors_hint")) }
                    @for (i, s) in sectors.iter().enumerate() {
                        label for={ "sector-" (i) } { (ctx.t("iati.f.sector")) " " (i + 1) }
                        (chooser(lc, &format!("sector-{i}"), "sector", codes::SECTORS, &s.code, true))
                        label for={ "sector_percentage-" (i) } { (ctx.t("iati.f.percentage")) }
                        input id={ "sector_percentage-" (i) } name="sector_percentage" type="text" inputmode="decimal" value=(s.percentage);
                    }
                }
                label for="currency" { (ctx.t("iati.f.currency")) }
                select #currency name="currency" required {
                    @for k in codes::currencies() { option value=(k) selected[k == cur] { (k) } }
                }
                label { input type="checkbox" name="humanitarian" value="1" checked[f.humanitarian]; " " (ctx.t("iati.f.humanitarian")) }
                fieldset {
                    legend { (ctx.t("iati.participants")) }
                    small.muted { (ctx.t("iati.f.participants_hint")) }
                    @for (i, o) in people.iter().enumerate() {
                        label for={ "org_name-" (i) } { (ctx.t("iati.f.org_name")) " " (i + 1) }
                        input id={ "org_name-" (i) } name="org_name" type="text" value=(o.name);
                        label for={ "org_role-" (i) } { (ctx.t("iati.f.org_role")) }
                        (chooser(lc, &format!("org_role-{i}"), "org_role", codes::ORGANISATION_ROLES, &o.role, true))
                        label for={ "org_ref-" (i) } { (ctx.t("iati.f.org_ref")) }
                        input id={ "org_ref-" (i) } name="org_ref" type="text" value=(o.reference);
                        label for={ "org_type-" (i) } { (ctx.t("iati.f.org_type")) }
                        (chooser(lc, &format!("org_type-{i}"), "org_type", codes::ORGANISATION_TYPES, &o.org_type, true))
                    }
                }
                button type="submit" { (ctx.t("iati.save")) }
            }
            @if data.activity.is_some() {
                h2 { (ctx.t("iati.budgets")) }
                @for bu in &data.budgets {
                    form.inline method="post" action={ (b) "/budgets/" (bu.id) "/delete" } {
                        (csrf_field(c.csrf))
                        (bu.period_start) " → " (bu.period_end) " · " (amount(lang, &bu.value)) " " (bu.currency) " · "
                        (name_of(codes::BUDGET_TYPES, &bu.budget_type, lc)) " "
                        button type="submit" { (ctx.t("iati.delete")) }
                    }
                }
                h3 { (ctx.t("iati.add_budget")) }
                form.stack method="post" action={ (b) "/budgets" } {
                    (csrf_field(c.csrf))
                    label for="budget_type" { (ctx.t("iati.f.budget_type")) }
                    (chooser(lc, "budget_type", "budget_type", codes::BUDGET_TYPES, "1", false))
                    label for="budget_status" { (ctx.t("iati.f.budget_status")) }
                    (chooser(lc, "budget_status", "status", codes::BUDGET_STATUSES, "1", false))
                    (text_input(ctx.t("iati.f.period_start"), "period_start", "", "date", true))
                    (text_input(ctx.t("iati.f.period_end"), "period_end", "", "date", true))
                    small.muted { (ctx.t("iati.f.period_hint")) }
                    (field(ctx.t("iati.f.value"), "budget-value", "value", "", "text", true))
                    (money_fields(ctx, cur, "budget"))
                    button type="submit" { (ctx.t("iati.add")) }
                }
                h2 { (ctx.t("iati.transactions")) }
                @for t in &data.transactions {
                    form.inline method="post" action={ (b) "/transactions/" (t.id) "/delete" } {
                        (csrf_field(c.csrf))
                        (t.date) " · " (name_of(codes::TRANSACTION_TYPES, &t.transaction_type, lc)) " · "
                        (amount(lang, &t.value)) " " (t.currency) " "
                        button type="submit" { (ctx.t("iati.delete")) }
                    }
                }
                h3 { (ctx.t("iati.add_transaction")) }
                form.stack method="post" action={ (b) "/transactions" } {
                    (csrf_field(c.csrf))
                    label for="transaction_type" { (ctx.t("iati.f.transaction_type")) }
                    (chooser(lc, "transaction_type", "transaction_type", codes::TRANSACTION_TYPES, "3", false))
                    (text_input(ctx.t("iati.f.date"), "date", "", "date", true))
                    (field(ctx.t("iati.f.value"), "transaction-value", "value", "", "text", true))
                    (money_fields(ctx, cur, "transaction"))
                    (text_input(ctx.t("iati.f.description"), "description", "", "text", false))
                    (text_input(ctx.t("iati.f.provider"), "provider_name", "", "text", false))
                    (text_input(ctx.t("iati.f.provider_ref"), "provider_ref", "", "text", false))
                    (text_input(ctx.t("iati.f.receiver"), "receiver_name", "", "text", false))
                    (text_input(ctx.t("iati.f.receiver_ref"), "receiver_ref", "", "text", false))
                    button type="submit" { (ctx.t("iati.add")) }
                }
            }
        },
    )
}

fn money_fields(ctx: &Ctx, cur: &str, form: &str) -> Markup {
    let currency = format!("{form}-currency");
    html! {
        small.muted { (ctx.t("iati.f.value_hint")) }
        label for=(currency) { (ctx.t("iati.f.currency")) }
        select id=(currency) name="currency" {
            @for k in codes::currencies() { option value=(k) selected[k == cur] { (k) } }
        }
        (field(ctx.t("iati.f.value_date"), &format!("{form}-value_date"), "value_date", "", "date", false))
        small.muted { (ctx.t("iati.f.value_date_hint")) }
    }
}

/// The activity form's fields: sectors and participating organisations are repeated fields,
/// paired by position; rows left empty are skipped.
fn fields_from(f: &[(String, String)]) -> ActivityFields {
    let g = |k: &str| first(f, k).to_owned();
    let codes = all(f, "sector");
    let shares = all(f, "sector_percentage");
    let sectors = codes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.trim().is_empty())
        .map(|(i, c)| SectorShare {
            code: c.to_string(),
            percentage: shares.get(i).copied().unwrap_or("").to_string(),
        })
        .collect();
    let names = all(f, "org_name");
    let roles = all(f, "org_role");
    let refs = all(f, "org_ref");
    let types = all(f, "org_type");
    let at = |v: &[&str], i: usize| v.get(i).copied().unwrap_or("").to_string();
    let participants = (0..names.len())
        .filter(|&i| !names[i].trim().is_empty() || !at(&refs, i).trim().is_empty())
        .map(|i| Participant {
            role: at(&roles, i),
            name: at(&names, i),
            reference: at(&refs, i),
            org_type: at(&types, i),
        })
        .collect();
    ActivityFields {
        lang: g("lang"),
        title_fr: g("title_fr"),
        title_en: g("title_en"),
        description_fr: g("description_fr"),
        description_en: g("description_en"),
        status: g("status"),
        planned_start: g("planned_start"),
        actual_start: g("actual_start"),
        planned_end: g("planned_end"),
        actual_end: g("actual_end"),
        country: g("country"),
        region: g("region"),
        country_percentage: g("country_percentage"),
        sectors,
        currency: g("currency"),
        humanitarian: matches!(first(f, "humanitarian"), "1" | "on" | "true"),
        participants,
    }
}

/// `POST /orgs/{org}/projects/{project}/iati`: records the activity → 303 to its page.
pub async fn save(
    g: ProjectGuard<PublishData>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    g.ctx
        .state
        .core
        .save_iati_activity(&g.access, first(&f, "code"), fields_from(&f))
        .await?;
    Ok(see_other(&base(&ProjectView::from_access(&g.access))))
}

/// `POST /orgs/{org}/projects/{project}/iati/budgets`: `budget_type`, `status`,
/// `period_start`, `period_end`, `value`, `currency`, `value_date`.
pub async fn add_budget(
    g: ProjectGuard<PublishData>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let b = Budget {
        id: 0,
        budget_type: first(&f, "budget_type").into(),
        status: first(&f, "status").into(),
        period_start: first(&f, "period_start").into(),
        period_end: first(&f, "period_end").into(),
        value: first(&f, "value").into(),
        currency: first(&f, "currency").into(),
        value_date: first(&f, "value_date").into(),
    };
    g.ctx.state.core.add_iati_budget(&g.access, b).await?;
    Ok(see_other(&format!(
        "{}/edit",
        base(&ProjectView::from_access(&g.access))
    )))
}

fn id_of(s: &str) -> WebResult<i64> {
    s.parse().map_err(|_| WebError::not_found())
}

/// `POST /orgs/{org}/projects/{project}/iati/budgets/{id}/delete`.
pub async fn delete_budget(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    g.ctx
        .state
        .core
        .delete_iati_budget(&g.access, id_of(&id)?)
        .await?;
    Ok(see_other(&format!(
        "{}/edit",
        base(&ProjectView::from_access(&g.access))
    )))
}

/// `POST /orgs/{org}/projects/{project}/iati/transactions`: `transaction_type`, `date`,
/// `value`, `currency`, `value_date`, `description`, `provider_name`, `provider_ref`,
/// `receiver_name`, `receiver_ref`.
pub async fn add_transaction(
    g: ProjectGuard<PublishData>,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let t = Transaction {
        id: 0,
        transaction_type: first(&f, "transaction_type").into(),
        date: first(&f, "date").into(),
        value: first(&f, "value").into(),
        currency: first(&f, "currency").into(),
        value_date: first(&f, "value_date").into(),
        description: first(&f, "description").into(),
        provider_name: first(&f, "provider_name").into(),
        provider_ref: first(&f, "provider_ref").into(),
        receiver_name: first(&f, "receiver_name").into(),
        receiver_ref: first(&f, "receiver_ref").into(),
    };
    g.ctx.state.core.add_iati_transaction(&g.access, t).await?;
    Ok(see_other(&format!(
        "{}/edit",
        base(&ProjectView::from_access(&g.access))
    )))
}

/// `POST /orgs/{org}/projects/{project}/iati/transactions/{id}/delete`.
pub async fn delete_transaction(
    g: ProjectGuard<PublishData>,
    Path((_, _, id)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    g.ctx
        .state
        .core
        .delete_iati_transaction(&g.access, id_of(&id)?)
        .await?;
    Ok(see_other(&format!(
        "{}/edit",
        base(&ProjectView::from_access(&g.access))
    )))
}

/// `GET /orgs/{org}/projects/{project}/iati.xml`: the activity as IATI 2.03 XML.
pub async fn project_xml(g: ProjectGuard<ViewProject>) -> WebResult<Response> {
    let body = g.ctx.state.core.iati_project_xml(&g.access).await?;
    Ok(xml(
        body,
        &format!("{}-{}.iati.xml", g.access.org.slug, g.access.project.slug),
    ))
}

/// `GET /orgs/{org}/iati-activities.xml`: the organisation's file, its public projects'
/// activities (the file to register with the IATI registry).
pub async fn org_xml(ctx: Ctx, Path(org): Path<String>) -> WebResult<Response> {
    let body = ctx.state.core.iati_org_xml(&org).await?;
    Ok(xml(body, &format!("{org}-activities.xml")))
}

#[derive(Serialize)]
struct OrgSettings {
    org: String,
    iati: Option<IatiOrgRow>,
    file: String,
}

/// `GET /orgs/{org}/iati` (and `.json`): the organisation's IATI identity (owners).
pub async fn org_page(OrgOwner { ctx, org }: OrgOwner) -> WebResult<Response> {
    let data = OrgSettings {
        iati: ctx.state.core.iati_org(&org).await?,
        file: format!("/orgs/{}/iati-activities.xml", org.slug),
        org: org.slug.clone(),
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        let lc = ctx.lang().code();
        let (id, ty) = data
            .iati
            .as_ref()
            .map(|r| (r.identifier.as_str(), r.org_type.as_str()))
            .unwrap_or(("", "22"));
        layout(
            &c,
            ctx.t("iati.org_settings"),
            html! {
                p.muted { a href={ "/orgs/" (org.slug) } { (org.name) } }
                h1 { (ctx.t("iati.org_settings")) }
                p { (ctx.t("iati.org_intro")) }
                form.stack method="post" action={ "/orgs/" (org.slug) "/iati" } {
                    (csrf_field(c.csrf))
                    (text_input(ctx.t("iati.f.org_identifier"), "identifier", id, "text", true))
                    small.muted { (ctx.t("iati.f.org_identifier_hint")) }
                    label for="org_type" { (ctx.t("iati.f.org_type")) }
                    (chooser(lc, "org_type", "org_type", codes::ORGANISATION_TYPES, ty, false))
                    button type="submit" { (ctx.t("iati.save")) }
                }
                @if data.iati.is_some() {
                    p { (ctx.t("iati.org_file")) " " a href=(data.file) { (data.file) } }
                }
            },
        )
    }))
}

/// `POST /orgs/{org}/iati`: `identifier`, `org_type` → 303 to the form.
pub async fn set_org(
    OrgOwner { ctx, org }: OrgOwner,
    CsrfForm(f): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    ctx.state
        .core
        .set_iati_org(
            &ctx.principal,
            &org,
            first(&f, "identifier"),
            first(&f, "org_type"),
        )
        .await?;
    Ok(see_other(&format!("/orgs/{}/iati", org.slug)))
}
