//! Releases of a form's microdata (disclosure control, docs/sdc.md): choose the key variables,
//! add recodings and a suppression while the risk is re-scored at each step, check the
//! project's policy, release, download the signed report and the released table. Plain HTML
//! forms; each page has its `.json` twin, the release page a `.csv` twin (the released table).

use super::{respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, ProjectGuard, ReleaseData};
use crate::error::{WebError, WebResult};
use crate::handlers::views::ProjectView;
use crate::pages::{csrf_field, layout, when, Chrome};
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use baraza_core::releases::{
    NewRelease, Outcome, PolicyInput, Problem, ReleasePolicy, ReleaseSummary, ReleaseView,
    ReportView, RiskView, StepInput, Variable,
};
use baraza_sdc::{Rule, Step};
use maud::{html, Markup};
use serde::Serialize;
use std::collections::HashMap;

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> WebResult<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(WebError::not_found)
}

/// The `{form}` and `{id}` of a release's path.
fn form_and_id(params: &HashMap<String, String>) -> WebResult<(&str, i64)> {
    let id = param(params, "id")?
        .parse()
        .map_err(|_| WebError::not_found())?;
    Ok((param(params, "form")?, id))
}

fn releases_url(p: &ProjectView, form: &str) -> String {
    format!("{}/forms/{form}/releases", p.url)
}

/// A figure with two decimals, as the reader writes numbers (`2,67` in French).
fn dec(c: &Chrome<'_>, v: f64) -> String {
    crate::pages::decimal(c.lang, v, 2)
}

fn percent(c: &Chrome<'_>, v: f64) -> String {
    format!("{}\u{a0}%", dec(c, v))
}

fn back(c: &Chrome<'_>, p: &ProjectView, form: &str) -> Markup {
    html! {
        p.muted {
            a href=(p.url) { (p.name) } " › "
            a href={ (p.url) "/forms/" (form) } { (form) } " › "
            a href=(releases_url(p, form)) { (c.t("release.title")) }
        }
    }
}

/// The catalogue key and values that say a [`Problem`] in the reader's language. A problem
/// without a code of its own (`other`) is said in English, as `baraza-sdc` wrote it.
pub(crate) fn problem_text(p: &Problem) -> (String, Vec<(&'static str, String)>) {
    if p.code == "other" {
        return (format!("raw:{}", p.message), Vec::new());
    }
    let mut args: Vec<(&'static str, String)> =
        p.args.iter().map(|(k, v)| (*k, v.clone())).collect();
    let place = match (p.step, &p.method) {
        (Some(n), Some(m)) => format!("{n}. {m} — "),
        _ => String::new(),
    };
    args.push(("where", place));
    (format!("release_problem.{}", p.code), args)
}

// ----- the policy ------------------------------------------------------------------------------

#[derive(Serialize)]
struct PolicyData {
    project: ProjectView,
    policy: ReleasePolicy,
}

fn policy_card(c: &Chrome<'_>, p: &ReleasePolicy) -> Markup {
    html! {
        ul {
            li { (c.tf("release.policy_k", &[("k", &p.k.to_string())])) }
            li { (c.tf("release.policy_risk", &[("max", &percent(c, p.max_global_risk_percent))])) }
            li {
                (c.t("release.policy_withheld"))
                @if !p.allowed.is_empty() {
                    " " (c.tf("release.policy_allowed_list", &[("list", &p.allowed.join(", "))]))
                }
            }
        }
    }
}

/// `GET …/release-policy` (and `.json`): the project's release policy, and its form.
pub async fn policy_page(g: ProjectGuard<ReleaseData>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let data = PolicyData {
        project: ProjectView::from_access(&g.access),
        policy: ctx.state.core.release_policy(&g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let p = &data.policy;
        layout(
            &c,
            &format!("{} · {}", c.t("release.policy_title"), data.project.name),
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } }
                h1 { (c.t("release.policy_title")) }
                p { (c.t("release.policy_intro")) }
                (super::learn::guide_link(&c, "disclosure-control"))
                @if p.is_default { p.muted { (c.t("release.policy_default")) } }
                (policy_card(&c, p))
                form.stack method="post" action={ (data.project.url) "/release-policy" } {
                    (csrf_field(c.csrf))
                    label { (c.t("release.f_k")) input type="number" name="k" min="2" max="100" required value=(p.k); }
                    label { (c.t("release.f_max_risk")) input type="text" inputmode="decimal" name="max_global_risk_percent" required value=(p.max_global_risk_percent); }
                    label { (c.t("release.f_allowed")) input type="text" name="allowed" value=(p.allowed.join(", ")); span.hint { (c.t("release.f_allowed_hint")) } }
                    button type="submit" { (c.t("release.save_policy")) }
                }
            },
        )
    }))
}

/// `POST …/release-policy`.
pub async fn set_policy(
    g: ProjectGuard<ReleaseData>,
    CsrfForm(input): CsrfForm<PolicyInput>,
) -> WebResult<Response> {
    g.ctx
        .state
        .core
        .set_release_policy(&g.access, &input)
        .await?;
    let to = format!("{}/release-policy", ProjectView::from_access(&g.access).url);
    Ok(done(&g.ctx, &to))
}

fn done(ctx: &Ctx, to: &str) -> Response {
    if ctx.format() == Format::Json {
        return axum::Json(serde_json::json!({ "ok": true, "url": to })).into_response();
    }
    see_other(to)
}

// ----- the releases of a form ------------------------------------------------------------------

#[derive(Serialize)]
struct ListData {
    project: ProjectView,
    form: String,
    releases: Vec<ReleaseSummary>,
    variables: Vec<Variable>,
    excluded: Vec<String>,
    policy: ReleasePolicy,
}

fn sensitivity_badge(c: &Chrome<'_>, v: &Variable) -> Markup {
    let s = v.sensitivity.as_str();
    html! { span class={ "badge sens-" (s) } { (c.t(&format!("sensitivity.{s}"))) } }
}

/// `GET …/forms/{form}/releases` (and `.json`): the form's releases, and a new one.
pub async fn releases_page(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let form = param(&params, "form")?;
    let core = &ctx.state.core;
    let (variables, excluded) = core.release_variables(&g.access, form).await?;
    let data = ListData {
        project: ProjectView::from_access(&g.access),
        form: form.to_owned(),
        releases: core.releases(&g.access, form).await?,
        variables,
        excluded,
        policy: core.release_policy(&g.access).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let url = releases_url(&data.project, &data.form);
        layout(
            &c,
            &format!("{} · {}", c.t("release.title"), data.form),
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } " › " a href={ (data.project.url) "/forms/" (data.form) } { (data.form) } }
                h1 { (c.t("release.title")) }
                p { (c.t("release.intro")) }
                (super::learn::guide_link(&c, "disclosure-control"))
                p.muted { a href={ (data.project.url) "/release-policy" } { (c.t("release.policy_title")) } }
                (policy_card(&c, &data.policy))
                @if data.releases.is_empty() {
                    p.muted { (c.t("release.none")) }
                } @else {
                    table.responsive {
                        thead { tr {
                            th scope="col" { (c.t("release.name")) }
                            th scope="col" { (c.t("release.state")) }
                            th scope="col" { (c.t("release.started")) }
                            th scope="col" { (c.t("release.released_at")) }
                        } }
                        tbody {
                            @for r in &data.releases {
                                tr {
                                    td { a href={ (url) "/" (r.id) } { (r.name) } }
                                    td { span class={ "badge " (r.state) } { (c.t(&format!("release.state_{}", r.state))) } }
                                    td { (when(r.created_at)) }
                                    td { @if let Some(t) = r.released_at { (when(t)) } @else { "—" } }
                                }
                            }
                        }
                    }
                }
                h2 { (c.t("release.new")) }
                form.stack method="post" action=(url) {
                    (csrf_field(c.csrf))
                    label { (c.t("release.name")) input type="text" name="name" required maxlength="200"; }
                    fieldset {
                        legend { (c.t("release.f_keys")) }
                        p.hint { (c.t("release.f_keys_hint")) }
                        @for v in &data.variables {
                            label {
                                input type="checkbox" name="keys" value=(v.name) checked[v.quasi_identifier];
                                " " code { (v.name) } " " (v.label) " " (sensitivity_badge(&c, v))
                            }
                        }
                    }
                    label { (c.t("release.f_weight"))
                        select name="weight" {
                            option value="" { (c.t("release.no_weight")) }
                            @for v in data.variables.iter().filter(|v| v.kind == "integer" || v.kind == "decimal") {
                                option value=(v.name) { (v.name) }
                            }
                        }
                    }
                    button type="submit" { (c.t("release.start")) }
                }
                @if !data.excluded.is_empty() {
                    p.muted { (c.tf("release.excluded", &[("list", &data.excluded.join(", "))])) }
                }
            },
        )
    }))
}

/// `POST …/forms/{form}/releases`: starts a release (name, `keys` ticked, optional weight).
pub async fn create_release(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let form = param(&params, "form")?;
    let mut input = NewRelease::default();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => input.name = v,
            "keys" => input.keys.push(v),
            "weight" => input.weight = v,
            _ => {}
        }
    }
    let id = g
        .ctx
        .state
        .core
        .create_release(&g.access, form, &input)
        .await?;
    let to = format!(
        "{}/{id}",
        releases_url(&ProjectView::from_access(&g.access), form)
    );
    if g.ctx.format() == Format::Json {
        return Ok(
            axum::Json(serde_json::json!({ "ok": true, "id": id, "url": to })).into_response(),
        );
    }
    Ok(see_other(&to))
}

// ----- one release -----------------------------------------------------------------------------

#[derive(Serialize)]
struct ReleasePageData {
    project: ProjectView,
    #[serde(flatten)]
    release: ReleaseView,
}

fn risk_cells(c: &Chrome<'_>, r: &RiskView, k: u32) -> Markup {
    let below = r.below(k);
    html! {
        td { @if let Some(b) = below { (b) } @else { "—" } }
        td { (dec(c, r.expected_reidentifications)) }
        td { (percent(c, r.global_risk_percent)) }
    }
}

fn describe(c: &Chrome<'_>, s: &Step) -> String {
    match s {
        Step::Recode(r) => {
            let what = match (&r.map, &r.breaks, r.at, &r.precision) {
                (Some(map), _, _, _) => map
                    .iter()
                    .map(|(a, b)| format!("{a} → {b}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                (_, Some(b), _, _) => b
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                (_, _, Some(at), _) => at.to_string(),
                (_, _, _, Some(p)) => format!("{p:?}").to_lowercase(),
                _ => match &r.levels {
                    Some(levels) => {
                        let mut parents: Vec<&str> = levels
                            .first()
                            .map(|m| m.values().map(String::as_str).collect())
                            .unwrap_or_default();
                        parents.sort_unstable();
                        parents.dedup();
                        parents.join(", ")
                    }
                    None => String::new(),
                },
            };
            c.tf(
                &format!("release.step_{}", s.method()),
                &[("variable", &r.variable), ("what", &what)],
            )
        }
        Step::Suppress(x) => c.tf(
            "release.step_suppress",
            &[
                ("k", &x.k.to_string()),
                (
                    "importance",
                    &x.importance
                        .as_ref()
                        .map(|i| i.join(" > "))
                        .unwrap_or_default(),
                ),
            ],
        ),
        Step::Pram(p) => c.tf(
            "release.step_pram",
            &[
                ("variables", &p.variables.join(", ")),
                ("keep", &p.keep.to_string()),
                ("seed", &p.seed.to_string()),
            ],
        ),
    }
}

fn check_line(c: &Chrome<'_>, ch: &baraza_sdc::Check) -> Markup {
    let found = ch
        .found
        .map(|f| f.to_string())
        .unwrap_or_else(|| "—".into());
    let text = match ch.rule {
        Rule::KAnonymity => c.tf(
            "release.check_k",
            &[("k", &ch.k.unwrap_or(0).to_string()), ("found", &found)],
        ),
        Rule::GlobalRisk => c.tf(
            "release.check_risk",
            &[
                (
                    "found",
                    &ch.found
                        .map(|f| percent(c, f))
                        .unwrap_or_else(|| "—".into()),
                ),
                ("max", &percent(c, ch.required)),
            ],
        ),
        Rule::VariableWithheld => c.tf(
            "release.check_withheld",
            &[("variable", ch.variable.as_deref().unwrap_or(""))],
        ),
        Rule::KeyAssessed => c.tf(
            "release.check_key",
            &[("variable", ch.variable.as_deref().unwrap_or(""))],
        ),
    };
    html! {
        li class=(if ch.passed { "ok" } else { "failed" }) {
            strong { (if ch.passed { c.t("release.passed") } else { c.t("release.failed") }) } " — " (text)
        }
    }
}

/// The report's figures: the risk before, after each step and at the end, the loss, the
/// verdict. The same markup on the release page and the printable report.
pub(crate) fn report_markup(
    c: &Chrome<'_>,
    r: &ReportView,
    remove: Option<(&str, &str)>,
) -> Markup {
    let k = r.policy.k;
    html! {
        p { (c.tf("release.records", &[("n", &r.records.to_string()), ("keys", &r.keys.join(", "))])) }
        table.responsive {
            thead { tr {
                th scope="col" { (c.t("release.stage")) }
                th scope="col" { (c.tf("release.below_k", &[("k", &k.to_string())])) }
                th scope="col" { (c.t("release.expected")) }
                th scope="col" { (c.t("release.global_risk")) }
                th scope="col" { (c.t("release.cost")) }
                @if remove.is_some() { th scope="col" {} }
            } }
            tbody {
                tr { td { (c.t("release.before")) } (risk_cells(c, &r.risk_before, k)) td { "—" } @if remove.is_some() { td {} } }
                @for s in &r.steps {
                    tr {
                        td { (s.step) ". " (describe(c, &s.parameters)) }
                        (risk_cells(c, &s.risk_after, k))
                        td { (c.tf("release.step_cost", &[("suppressed", &s.loss.suppressed.to_string()), ("changed", &s.loss.changed.to_string())])) }
                        @if let Some((action, csrf)) = remove {
                            td {
                                form method="post" action=(action) {
                                    input type="hidden" name=(crate::ctx::CSRF_FIELD) value=(csrf);
                                    input type="hidden" name="step" value=(s.step);
                                    button.link type="submit" { (c.t("release.remove_step")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { (c.t("release.loss")) }
        table.responsive {
            thead { tr {
                th scope="col" { (c.t("release.variable")) }
                th scope="col" { (c.t("release.categories")) }
                th scope="col" { (c.t("release.merged")) }
                th scope="col" { (c.t("release.suppressed")) }
                th scope="col" { (c.t("release.changed")) }
            } }
            tbody {
                @for v in &r.loss.variables {
                    tr {
                        td { code { (v.variable) } }
                        td { (v.categories_before) " → " (v.categories_after) }
                        td { (v.categories_merged) }
                        td { (v.suppressed) }
                        td { (v.changed) }
                    }
                }
            }
        }
        p { (c.tf("release.columns", &[("list", &r.columns.join(", "))])) }
        @if !r.dropped.is_empty() { p { (c.tf("release.dropped", &[("list", &r.dropped.join(", "))])) } }
        h3 { (c.t("release.verdict")) }
        p { strong { (if r.verdict.passed { c.t("release.verdict_passed") } else { c.t("release.verdict_refused") }) } }
        ul.checks { @for ch in &r.verdict.checks { (check_line(c, ch)) } }
    }
}

fn step_forms(c: &Chrome<'_>, url: &str, v: &ReleaseView) -> Markup {
    let keys = &v.recipe.keys;
    let key_select = html! {
        label { (c.t("release.variable"))
            select name="variable" required { @for k in keys { option value=(k) { (k) } } }
        }
    };
    let action = format!("{url}/steps");
    html! {
        h2 { (c.t("release.add_step")) }
        div.grid {
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="merge";
                h3 { (c.t("release.m_merge")) }
                (key_select)
                label { (c.t("release.f_map")) textarea name="map" rows="3" required placeholder="Chagoua, Walia = N'Djamena 7e" {} span.hint { (c.t("release.f_map_hint")) } }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="parent";
                h3 { (c.t("release.m_parent")) }
                (key_select)
                label { (c.t("release.f_parent"))
                    select name="parent" required {
                        @for var in v.variables.iter().filter(|x| x.kind == "select_one" || x.kind == "text") {
                            option value=(var.name) { (var.name) }
                        }
                    }
                    span.hint { (c.t("release.f_parent_hint")) }
                }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="intervals";
                h3 { (c.t("release.m_intervals")) }
                (key_select)
                label { (c.t("release.f_breaks")) input type="text" name="breaks" required placeholder="18, 30, 45, 60"; span.hint { (c.t("release.f_breaks_hint")) } }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                h3 { (c.t("release.m_top_bottom")) }
                (key_select)
                label { (c.t("release.f_direction"))
                    select name="method" { option value="top" { (c.t("release.top")) } option value="bottom" { (c.t("release.bottom")) } }
                }
                label { (c.t("release.f_at")) input type="text" inputmode="decimal" name="at" required; }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="date";
                h3 { (c.t("release.m_date")) }
                (key_select)
                label { (c.t("release.f_precision"))
                    select name="precision" { option value="month" { (c.t("release.month")) } option value="year" { (c.t("release.year")) } }
                }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="suppress";
                h3 { (c.t("release.m_suppress")) }
                label { "k" input type="number" name="k" min="2" max="100" required value=(v.policy.k); }
                label { (c.t("release.f_importance")) input type="text" name="importance" placeholder=(keys.join(", ")); span.hint { (c.t("release.f_importance_hint")) } }
                button type="submit" { (c.t("release.apply")) }
            }
            form.stack.card method="post" action=(action) {
                (csrf_field(c.csrf))
                input type="hidden" name="method" value="pram";
                h3 { (c.t("release.m_pram")) }
                label { (c.t("release.f_variables")) input type="text" name="variables" required placeholder=(keys.first().map(String::as_str).unwrap_or("")); }
                label { (c.t("release.f_keep")) input type="text" inputmode="decimal" name="keep" required value="0.8"; }
                label { (c.t("release.f_seed")) input type="text" inputmode="numeric" name="seed"; span.hint { (c.t("release.f_seed_hint")) } }
                button type="submit" { (c.t("release.apply")) }
            }
        }
    }
}

/// `GET …/releases/{id}` (`.json`: the release and its re-scored report; `.csv`: the released
/// table, once released).
pub async fn release_page(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let (form, id) = form_and_id(&params)?;
    let core = &ctx.state.core;
    if ctx.format() == Format::Csv {
        let csv = core.release_table(&g.access, form, id).await?;
        let mut res = csv.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"{}-release-{id}.csv\"",
            baraza_publish::schema::safe_file_name(form)
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    let data = ReleasePageData {
        project: ProjectView::from_access(&g.access),
        release: core.release_view(&g.access, form, id).await?,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let v = &data.release;
        let url = format!("{}/{}", releases_url(&data.project, form), v.summary.id);
        let draft = v.summary.state == "draft";
        let remove_url = format!("{url}/steps/remove");
        layout(
            &c,
            &format!("{} · {}", v.summary.name, c.t("release.title")),
            html! {
                (back(&c, &data.project, form))
                h1 { (v.summary.name) " " span class={ "badge " (v.summary.state) } { (c.t(&format!("release.state_{}", v.summary.state))) } }
                p.muted { (c.tf("release.snapshot", &[("form", &v.form_title), ("id", &v.summary.up_to_submission.to_string()), ("at", &when(v.summary.created_at))])) }
                p { (c.tf("release.keys", &[("list", &v.recipe.keys.join(", "))]))
                    @if let Some(w) = &v.recipe.weight { " · " (c.tf("release.weight", &[("w", w)])) } }
                @match &v.outcome {
                    Outcome::Invalid { problem } => {
                        @let (key, args) = problem_text(problem);
                        @let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        p.error {
                            (c.t("release.invalid")) " "
                            @if let Some(raw) = key.strip_prefix("raw:") { (raw) } @else { (c.tf(&key, &args)) }
                        }
                    }
                    o => {
                        @if let Some(r) = o.report() {
                            h2 { (c.t("release.risk")) }
                            (report_markup(&c, r, if draft { Some((remove_url.as_str(), c.csrf)) } else { None }))
                        }
                    }
                }
                @if draft {
                    @if matches!(v.outcome, Outcome::Passed { .. }) {
                        form method="post" action={ (url) "/release" } {
                            (csrf_field(c.csrf))
                            p { (c.t("release.ready")) }
                            button type="submit" { (c.t("release.release")) }
                        }
                    } @else {
                        p.warn { (c.t("release.not_ready")) }
                    }
                    (step_forms(&c, &url, v))
                    h2 { (c.t("release.columns_title")) }
                    form.stack method="post" action={ (url) "/columns" } {
                        (csrf_field(c.csrf))
                        fieldset {
                            legend { (c.t("release.f_drop")) }
                            @for var in v.variables.iter().filter(|x| !v.recipe.keys.contains(&x.name)) {
                                label {
                                    input type="checkbox" name="drop" value=(var.name) checked[v.recipe.drop.contains(&var.name)];
                                    " " code { (var.name) } " " (var.label) " " (sensitivity_badge(&c, var))
                                    @if var.withheld { " " span.hint { (c.t("release.withheld")) } }
                                }
                            }
                        }
                        button type="submit" { (c.t("release.save_columns")) }
                    }
                    form method="post" action={ (url) "/delete" } {
                        (csrf_field(c.csrf))
                        button.link type="submit" { (c.t("release.delete")) }
                    }
                } @else {
                    h2 { (c.t("release.released_title")) }
                    p { (c.tf("release.released_on", &[("at", &v.summary.released_at.map(when).unwrap_or_default())])) }
                    ul {
                        li { a href={ (url) ".csv" } { (c.t("release.download_data")) } @if let Some(s) = &v.data_sha256 { " " span.muted { "SHA-256 " code { (s) } } } }
                        li { a href={ (url) "/report" } { (c.t("release.see_report")) } }
                        li { a href={ (url) "/report.json" } { (c.t("release.download_report")) } }
                    }
                }
            },
        )
    }))
}

/// `POST …/releases/{id}/steps`: adds a step (refused when it cannot run on the snapshot).
pub async fn add_step(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(input): CsrfForm<StepInput>,
) -> WebResult<Response> {
    let (form, id) = form_and_id(&params)?;
    g.ctx
        .state
        .core
        .add_release_step(&g.access, form, id, &input)
        .await?;
    Ok(back_to(&g, form, id))
}

fn back_to(g: &ProjectGuard<ReleaseData>, form: &str, id: i64) -> Response {
    let to = format!(
        "{}/{id}",
        releases_url(&ProjectView::from_access(&g.access), form)
    );
    done(&g.ctx, &to)
}

#[derive(serde::Deserialize)]
pub struct RemoveStep {
    #[serde(default)]
    step: String,
}

/// `POST …/releases/{id}/steps/remove`: removes step `step` (from 1).
pub async fn remove_step(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(input): CsrfForm<RemoveStep>,
) -> WebResult<Response> {
    let (form, id) = form_and_id(&params)?;
    let step: usize = input.step.trim().parse().unwrap_or(0);
    g.ctx
        .state
        .core
        .remove_release_step(&g.access, form, id, step)
        .await?;
    Ok(back_to(&g, form, id))
}

/// `POST …/releases/{id}/columns`: the columns dropped (`drop` ticked).
pub async fn set_columns(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (form, id) = form_and_id(&params)?;
    let drop: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "drop")
        .map(|(_, v)| v)
        .collect();
    g.ctx
        .state
        .core
        .set_release_columns(&g.access, form, id, &drop)
        .await?;
    Ok(back_to(&g, form, id))
}

/// `POST …/releases/{id}/release`: releases the draft when the policy passes.
pub async fn release(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (form, id) = form_and_id(&params)?;
    g.ctx.state.core.release_now(&g.access, form, id).await?;
    Ok(back_to(&g, form, id))
}

/// `POST …/releases/{id}/delete`: deletes a draft.
pub async fn delete(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let (form, id) = form_and_id(&params)?;
    g.ctx
        .state
        .core
        .delete_release_draft(&g.access, form, id)
        .await?;
    let to = releases_url(&ProjectView::from_access(&g.access), form);
    Ok(done(&g.ctx, &to))
}

/// `GET …/releases/{id}/report`: the signed report, printable, in the reader's language;
/// `.json`: the exact bytes that were signed, with the signature in `Baraza-Signature`.
pub async fn report(
    g: ProjectGuard<ReleaseData>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let (form, id) = form_and_id(&params)?;
    let core = &ctx.state.core;
    let signed = core.release_report(&g.access, form, id).await?;
    let view = core.release_view(&g.access, form, id).await?;
    if ctx.format() == Format::Json {
        let mut res = signed.text.into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!(
            "ed25519; kind={}; key={}; signature={}",
            baraza_core::releases::REPORT_KIND,
            view.public_key,
            signed.signature
        )) {
            h.insert("baraza-signature", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"{}-release-{id}-report.json\"",
            baraza_publish::schema::safe_file_name(form)
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(res);
    }
    let project = ProjectView::from_access(&g.access);
    let c = Chrome::from_ctx(ctx);
    let markup = layout(
        &c,
        &format!("{} · {}", c.t("release.report_title"), view.summary.name),
        html! {
            (back(&c, &project, form))
            h1 { (c.t("release.report_title")) " — " (view.summary.name) }
            p { (c.tf("release.report_intro", &[("project", &project.name), ("form", &view.form_title), ("at", &view.summary.released_at.map(when).unwrap_or_default())])) }
            @if let Some(r) = view.outcome.report() {
                (report_markup(&c, r, None))
            }
            h2 { (c.t("release.signature")) }
            p { (c.t("release.signature_intro")) }
            dl {
                dt { (c.t("release.report_sha")) } dd { code { (signed.sha256) } }
                dt { (c.t("release.signature")) } dd { code.wrap { (signed.signature) } }
                dt { (c.t("release.public_key")) } dd { code { (view.public_key) } }
                @if let Some(s) = &view.data_sha256 { dt { (c.t("release.data_sha")) } dd { code { (s) } } }
            }
            p { a href={ (releases_url(&project, form)) "/" (id) "/report.json" } { (c.t("release.download_report")) } }
        },
    );
    let mut res = markup.into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(res)
}
