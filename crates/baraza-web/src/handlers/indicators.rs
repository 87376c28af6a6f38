//! The SDG dashboard of a project (docs/indicators.md): the 17 goals, a page per goal, a page
//! per indicator with its chart, disaggregations, map, official figures and credibility card;
//! downloads (CSV, JSON, SDMX-CSV), an embeddable chart, an analytics endpoint in the spirit
//! of DHIS2's, and the definitions page. Every choice (period, disaggregation) is a link: no
//! script. Charts and maps are inline SVG made by `baraza-charts`.

use super::{form_again, respond, see_other};
use crate::ctx::{CsrfForm, Ctx, Format, ManageIndicators, ProjectGuard, ViewProject};
use crate::error::{WebError, WebResult};
use crate::handlers::forms::CsrfUpload;
use crate::handlers::views::ProjectView;
use crate::i18n::Lang;
use crate::pages::{csrf_field, layout, when, Chrome};
use axum::extract::{Path, Query, RawQuery};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_charts::chart::{self, Chart, Kind, Mark, Point, Series, TargetLine};
use baraza_charts::map::{self, Area, MapSpec};
use baraza_core::indicators::{Figure, IndicatorView, Shown};
use baraza_core::CoreError;
use baraza_indicators::compute::{CellKey, TOTAL};
use baraza_indicators::define::{
    self, Aggregation, Alignment, Participation, Sampling, Validation,
};
use baraza_indicators::framework::{self as fw, Framework};
use baraza_indicators::inequality;
use baraza_indicators::official::Observation;
use baraza_indicators::progress::{self, Direction, Options, Status};
use baraza_indicators::stats::Estimate;
use maud::{html, Markup, PreEscaped};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

// ----- numbers ---------------------------------------------------------------------------------

use crate::pages::decimal as num;

fn decimals(def: &define::Definition) -> usize {
    match def.spec.aggregation {
        Aggregation::Count | Aggregation::Sum => 0,
        _ => 1,
    }
}

fn unit(view: &IndicatorView, lang: Lang) -> String {
    define::text(&view.def.spec.unit, lang.code()).to_owned()
}

/// The short unit symbol put after a value: `%` for shares, else nothing (the unit is in the
/// column head).
fn suffix(view: &IndicatorView) -> &'static str {
    match view.def.spec.aggregation {
        Aggregation::Share => "\u{a0}%",
        _ => "",
    }
}

/// A figure as text: `62,4 %`, `(45,0 %)` for a bracketed one, `—` when hidden or empty.
fn value_text(lang: Lang, view: &IndicatorView, f: Option<&Figure>) -> String {
    match f {
        Some(Figure {
            shown,
            estimate: Some(e),
            ..
        }) if *shown != Shown::Hidden => {
            let v = format!(
                "{}{}",
                num(lang, e.value, decimals(&view.def)),
                suffix(view)
            );
            if *shown == Shown::Bracketed {
                format!("({v})")
            } else {
                v
            }
        }
        _ => "—".to_owned(),
    }
}

fn interval_text(lang: Lang, view: &IndicatorView, e: &Estimate) -> String {
    match (e.low, e.high) {
        (Some(l), Some(h)) => format!(
            "{} – {}",
            num(lang, l, decimals(&view.def)),
            num(lang, h, decimals(&view.def))
        ),
        _ => String::new(),
    }
}

fn mark_of(f: &Figure) -> Mark {
    match f.shown {
        Shown::Hidden => Mark::Suppressed,
        Shown::Bracketed => Mark::Bracketed,
        Shown::Shown => Mark::Normal,
    }
}

fn representative(view: &IndicatorView) -> bool {
    view.def.spec.credibility.sampling == Sampling::Probability
}

// ----- paths -----------------------------------------------------------------------------------

fn base(p: &ProjectView) -> String {
    format!("{}/indicators", p.url)
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> WebResult<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(WebError::not_found)
}

/// What an indicator page shows: a period, a disaggregation, a place.
#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    place: Option<String>,
}

// ----- JSON shapes -----------------------------------------------------------------------------

#[derive(Serialize)]
struct Summary {
    id: String,
    title: String,
    url: String,
    sdg: Option<String>,
    alignment: Option<Alignment>,
    goals: Vec<u8>,
    unit: String,
    as_of: String,
    latest_period: Option<String>,
    latest: Option<Figure>,
    representative: bool,
}

fn summary(c: &Chrome<'_>, p: &ProjectView, v: &IndicatorView) -> Summary {
    let lang = c.lang.code();
    let latest_period = v.periods().last().cloned();
    Summary {
        id: v.row.slug.clone(),
        title: define::text(&v.def.spec.title, lang).to_owned(),
        url: format!("{}/{}", base(p), v.row.slug),
        sdg: v.sdg.as_ref().map(|i| i.code.clone()),
        alignment: v.def.spec.sdg.as_ref().map(|l| l.alignment),
        goals: v.sdg.as_ref().map(|i| i.goals.clone()).unwrap_or_default(),
        unit: unit(v, c.lang),
        as_of: when(v.row.as_of),
        latest: latest_period
            .as_deref()
            .and_then(|per| v.figure(per, TOTAL, TOTAL, TOTAL))
            .cloned(),
        latest_period,
        representative: representative(v),
    }
}

#[derive(Serialize)]
struct GoalSummary {
    number: u8,
    short: String,
    title: String,
    url: String,
    indicators: Vec<String>,
}

#[derive(Serialize)]
struct DashboardData {
    project: ProjectView,
    framework_version: &'static str,
    goals: Vec<GoalSummary>,
    indicators: Vec<Summary>,
}

fn goal_summaries(
    c: &Chrome<'_>,
    p: &ProjectView,
    fw: &Framework,
    views: &[IndicatorView],
) -> Vec<GoalSummary> {
    fw.goals
        .iter()
        .map(|g| GoalSummary {
            number: g.number,
            short: fw::title(&g.short, c.lang.code()).to_owned(),
            title: fw::title(&g.title, c.lang.code()).to_owned(),
            url: format!("{}/goals/{}", base(p), g.number),
            indicators: views
                .iter()
                .filter(|v| v.sdg.as_ref().is_some_and(|i| i.goals.contains(&g.number)))
                .map(|v| v.row.slug.clone())
                .collect(),
        })
        .collect()
}

// ----- the dashboard ---------------------------------------------------------------------------

fn badge(c: &Chrome<'_>, a: Alignment) -> Markup {
    let key = match a {
        Alignment::Exact => "ind.align_exact",
        Alignment::Proxy => "ind.align_proxy",
        Alignment::Partial => "ind.align_partial",
    };
    html! { span.badge title=(c.t(&format!("{key}_hint"))) { (c.t(key)) } }
}

fn headline(c: &Chrome<'_>, v: &IndicatorView, f: Option<&Figure>) -> Markup {
    html! {
        @match f {
            Some(f) if f.shown != Shown::Hidden && f.estimate.is_some() => {
                @let e = f.estimate.as_ref().map(|e| *e);
                strong.figure { (value_text(c.lang, v, Some(f))) }
                " " span { (unit(v, c.lang)) } br;
                span.muted {
                    @if let Some(e) = e {
                        @let iv = interval_text(c.lang, v, &e);
                        @if !iv.is_empty() { (c.tf("ind.interval", &[("interval", &iv)])) " · " }
                    }
                    (c.tf("ind.n", &[("n", &f.n.unwrap_or(0).to_string())]))
                }
                @if !representative(v) { " " span.badge.warn { (c.t("ind.not_representative")) } }
                @if f.shown == Shown::Bracketed { " " span.badge { (c.t("ind.few_records")) } }
            }
            Some(_) => { span.muted { (c.t("ind.hidden")) } }
            None => { span.muted { (c.t("ind.no_data")) } }
        }
    }
}

/// `GET …/indicators` (and `.json`): the 17 goals and the project's indicators.
pub async fn dashboard(g: ProjectGuard<ViewProject>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let core = &ctx.state.core;
    let views = core.indicator_views(&g.access).await?;
    let fw = core.framework();
    let c = Chrome::from_ctx(ctx);
    let project = ProjectView::from_access(&g.access);
    let data = DashboardData {
        goals: goal_summaries(&c, &project, &fw, &views),
        indicators: views.iter().map(|v| summary(&c, &project, v)).collect(),
        framework_version: fw.version,
        project,
    };
    let manage = g.access.can(baraza_types::Permission::ManageIndicators);
    Ok(respond(ctx, &data, || {
        let p = &data.project;
        layout(
            &c,
            &format!("{} · {}", c.t("ind.title"), p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } }
                h1 { (c.t("ind.title")) }
                p { (c.t("ind.intro")) }
                (super::learn::guide_link(&c, "reading-sdg-indicators"))
                p {
                    a href={ (base(p)) "/analytics" } { (c.t("ind.analytics")) }
                    @if manage { " · " a href={ (base(p)) "/definitions" } { (c.t("ind.manage")) } }
                }
                h2 { (c.t("ind.goals")) }
                ol.goals {
                    @for goal in &data.goals {
                        li class=(if goal.indicators.is_empty() { "goal" } else { "goal tracked" }) {
                            a href=(goal.url) {
                                span.num { (goal.number) }
                                " " (goal.short)
                                br;
                                span.muted { (c.tf("ind.tracked", &[("n", &goal.indicators.len().to_string())])) }
                            }
                        }
                    }
                }
                h2 { (c.t("ind.indicators")) }
                @if views.is_empty() { p.muted { (c.t("ind.none")) } }
                @for (v, s) in views.iter().zip(&data.indicators) {
                    section.card {
                        h3 { a href=(s.url) { (s.title) } }
                        p.muted {
                            @if let Some(i) = &v.sdg {
                                (c.tf("ind.sdg_code", &[("code", &i.code)])) " "
                                @if let Some(a) = s.alignment { (badge(&c, a)) }
                                " · "
                            }
                            @if let Some(per) = &s.latest_period { (per) " · " }
                            (c.tf("ind.as_of", &[("when", &s.as_of)]))
                        }
                        p { (headline(&c, v, s.latest.as_ref())) }
                    }
                }
                p.muted { (c.t("ind.framework_version")) }
            },
        )
    }))
}

// ----- a goal ----------------------------------------------------------------------------------

#[derive(Serialize)]
struct GoalData {
    project: ProjectView,
    goal: GoalSummary,
    targets: Vec<TargetData>,
    official: Vec<Observation>,
}

#[derive(Serialize)]
struct TargetData {
    code: String,
    title: String,
    indicators: Vec<SdgIndicatorData>,
}

#[derive(Serialize)]
struct SdgIndicatorData {
    code: String,
    title: String,
    tracked: Vec<Summary>,
}

/// `GET …/indicators/goals/{goal}`: a goal's targets, their indicators, which of them the
/// project tracks, and the official series imported for them.
pub async fn goal_page(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let core = &ctx.state.core;
    let number: u8 = param(&params, "goal")?
        .parse()
        .map_err(|_| WebError::not_found())?;
    let fw = core.framework();
    fw.goal(number).ok_or_else(WebError::not_found)?;
    let views = core.indicator_views(&g.access).await?;
    let c = Chrome::from_ctx(ctx);
    let lang = c.lang.code();
    let project = ProjectView::from_access(&g.access);
    let official: Vec<Observation> = core
        .official_series(&g.access)
        .await?
        .into_iter()
        .filter(|s| {
            fw.indicator(&s.indicator)
                .is_some_and(|i| i.goals.contains(&number))
        })
        .flat_map(|s| serde_json::from_str::<Vec<Observation>>(&s.observations).unwrap_or_default())
        .collect();
    let targets = fw
        .targets_of_goal(number)
        .into_iter()
        .map(|t| TargetData {
            code: t.code.clone(),
            title: fw::title(&t.title, lang).to_owned(),
            indicators: fw
                .indicators_of_goal(number)
                .into_iter()
                .filter(|i| i.targets.contains(&t.code))
                .map(|i| SdgIndicatorData {
                    code: i
                        .codes
                        .iter()
                        .find(|c| c.starts_with(&format!("{}.", t.code)))
                        .cloned()
                        .unwrap_or_else(|| i.code.clone()),
                    title: fw::title(&i.title, lang).to_owned(),
                    tracked: views
                        .iter()
                        .filter(|v| v.sdg.as_ref().is_some_and(|s| s.code == i.code))
                        .map(|v| summary(&c, &project, v))
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let data = GoalData {
        goal: goal_summaries(&c, &project, &fw, &views)
            .into_iter()
            .find(|s| s.number == number)
            .ok_or_else(WebError::not_found)?,
        project,
        targets,
        official,
    };
    Ok(respond(ctx, &data, || {
        let p = &data.project;
        layout(
            &c,
            &format!("{} {} · {}", c.t("ind.goal"), number, p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } " › " a href=(base(p)) { (c.t("ind.title")) } }
                h1 { (c.t("ind.goal")) " " (number) " · " (data.goal.short) }
                p { (data.goal.title) }
                @if !data.official.is_empty() {
                    h2 { (c.t("ind.official")) }
                    (official_table(&c, &data.official))
                }
                @for t in &data.targets {
                    section {
                        h2 { (c.t("ind.target")) " " (t.code) }
                        p { (t.title) }
                        ul {
                            @for i in &t.indicators {
                                li {
                                    strong { (i.code) } " " (i.title)
                                    @for s in &i.tracked {
                                        br;
                                        "→ " a href=(s.url) { (s.title) } " "
                                        @if let Some(a) = s.alignment { (badge(&c, a)) }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

fn official_table(c: &Chrome<'_>, obs: &[Observation]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th { (c.t("ind.col_indicator")) } th { (c.t("ind.col_series")) } th { (c.t("ind.col_area")) }
                th { (c.t("ind.col_period")) } th.num { (c.t("ind.col_value")) } th { (c.t("ind.col_source")) }
            } }
            tbody {
                @for o in obs {
                    tr {
                        td { (o.indicator) } td { (o.series_title) " " span.muted { (o.series) } }
                        td { (o.area_name) @for (k, v) in &o.dims { @if v != "_T" { " · " (k) "=" (v) } } }
                        td { (o.period) } td.num { (num(c.lang, o.value, 1)) " " span.muted { (unit_symbol(&o.unit)) } }
                        td.muted { (o.source) }
                    }
                }
            }
        } }
    }
}

/// A unit code as people write it (SDMX's `PERCENT`, `PT` → `%`).
fn unit_symbol(code: &str) -> &str {
    match code {
        "PERCENT" | "PT" | "PC" => "%",
        other => other,
    }
}

// ----- an indicator ----------------------------------------------------------------------------

#[derive(Serialize)]
struct IndicatorData {
    project: ProjectView,
    indicator: Summary,
    definition: define::Spec,
    period: Option<String>,
    by: Option<String>,
    place: String,
    figures: Vec<Figure>,
    comparisons: Vec<GroupComparison>,
    worst_off: Vec<Figure>,
    gini: Option<f64>,
    palma: Option<f64>,
    official: Vec<Observation>,
    progress_official: Option<progress::Progress>,
    progress_citizen: Option<progress::Progress>,
    records_not_counted: i64,
}

/// A group against the best-off group of its dimension (same period and place).
#[derive(Serialize)]
struct GroupComparison {
    dim: String,
    group: String,
    reference: String,
    gap: inequality::Comparison,
    ratio: Option<inequality::Comparison>,
    parity_index: Option<inequality::Comparison>,
    /// Whether the gap exceeds the uncertainty.
    significant: Option<bool>,
}

fn comparisons(v: &IndicatorView, period: &str, place: &str, dim: &str) -> Vec<GroupComparison> {
    let higher = v.def.spec.higher_is_better;
    let groups = v.groups_of(dim);
    let shown: Vec<(&String, Estimate)> = groups
        .iter()
        .filter_map(|g| {
            let f = v.figure(period, place, dim, g)?;
            if f.shown == Shown::Hidden {
                return None;
            }
            Some((g, f.estimate?))
        })
        .collect();
    let Some((best, best_e)) = shown
        .iter()
        .max_by(|a, b| {
            let o = a.1.value.total_cmp(&b.1.value);
            if higher {
                o
            } else {
                o.reverse()
            }
        })
        .map(|(g, e)| ((*g).clone(), *e))
    else {
        return Vec::new();
    };
    shown
        .iter()
        .filter(|(g, _)| **g != best)
        .map(|(g, e)| GroupComparison {
            dim: dim.to_owned(),
            group: (*g).clone(),
            reference: best.clone(),
            gap: inequality::gap(e, &best_e),
            ratio: inequality::ratio(e, &best_e),
            parity_index: inequality::adjusted_parity(e, &best_e),
            significant: inequality::significant_change(e, &best_e),
        })
        .collect()
}

/// The worst-off groups and places of a period, worst first (shown figures only).
fn worst_off(v: &IndicatorView, period: &str) -> Vec<Figure> {
    let mut all: Vec<Figure> = v
        .figures
        .values()
        .filter(|f| {
            f.period == period
                && f.shown != Shown::Hidden
                && f.estimate.is_some()
                && !(f.place == TOTAL && f.dim == TOTAL)
        })
        .cloned()
        .collect();
    let higher = v.def.spec.higher_is_better;
    all.sort_by(|a, b| {
        let (x, y) = (
            a.estimate.map_or(0.0, |e| e.value),
            b.estimate.map_or(0.0, |e| e.value),
        );
        if higher {
            x.total_cmp(&y)
        } else {
            y.total_cmp(&x)
        }
    });
    all.truncate(5);
    all
}

/// A figure's group and place, as a reader says them.
fn who(c: &Chrome<'_>, v: &IndicatorView, f: &Figure) -> String {
    let mut parts = Vec::new();
    if f.place != TOTAL {
        parts.push(v.place_name(&f.place));
    }
    if f.dim != TOTAL {
        parts.push(format!(
            "{}{}{}",
            v.dimension_title(&f.dim, c.lang.code()),
            c.t("ind.colon"),
            v.group_label(&f.dim, &f.group, c.lang.code())
        ));
    }
    if parts.is_empty() {
        c.t("ind.all").to_owned()
    } else {
        parts.join(" · ")
    }
}

fn direction(v: &IndicatorView) -> Direction {
    if v.def.spec.higher_is_better {
        Direction::Higher
    } else {
        Direction::Lower
    }
}

/// Open SDG's progress assessment of the official series (national totals) towards the
/// indicator's target.
fn official_progress(v: &IndicatorView) -> Option<progress::Progress> {
    let mut series: Vec<(i32, f64)> = v
        .official
        .iter()
        .filter(|o| o.dims.values().all(|d| d == "_T"))
        .filter_map(|o| Some((o.period.get(..4)?.parse().ok()?, o.value)))
        .collect();
    series.sort_by_key(|(y, _)| *y);
    series.dedup_by_key(|(y, _)| *y);
    if series.len() < 2 {
        return None;
    }
    let options = Options {
        direction: direction(v),
        target: v.def.spec.target.as_ref().map(|t| t.value),
        target_year: v.def.spec.target.as_ref().map_or(2030, |t| t.year),
        ..Options::default()
    };
    progress::assess(&series, &options).ok()
}

/// The citizen series' change from its first to its last year, called a change only when it
/// exceeds the intervals.
fn citizen_progress(v: &IndicatorView) -> Option<progress::Progress> {
    let mut by_year: BTreeMap<i32, Estimate> = BTreeMap::new();
    for per in v.periods() {
        let Some(year) = per.get(..4).and_then(|y| y.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(Figure {
            estimate: Some(e),
            shown,
            ..
        }) = v.figure(&per, TOTAL, TOTAL, TOTAL)
        {
            if *shown != Shown::Hidden {
                by_year.insert(year, *e);
            }
        }
    }
    if by_year.len() < 2 {
        return None;
    }
    let series: Vec<(i32, Estimate)> = by_year.into_iter().collect();
    let options = Options {
        direction: direction(v),
        target: v.def.spec.target.as_ref().map(|t| t.value),
        target_year: v.def.spec.target.as_ref().map_or(2030, |t| t.year),
        base_year: series[0].0,
        ..Options::default()
    };
    progress::assess_with_uncertainty(&series, &options).ok()
}

fn status_key(s: Status) -> &'static str {
    match s {
        Status::TargetAchieved => "ind.status_achieved",
        Status::SubstantialProgress => "ind.status_substantial",
        Status::ModerateProgress => "ind.status_moderate",
        Status::LimitedProgress => "ind.status_limited",
        Status::Deterioration => "ind.status_deterioration",
        Status::NotAvailable => "ind.status_na",
        Status::NoMeasurableChange => "ind.status_no_change",
    }
}

/// The chart of the indicator over time: the citizen series (all places), the official
/// series (national totals) in their own style, and the target.
pub(crate) fn time_chart(c: &Chrome<'_>, v: &IndicatorView, id: &str) -> Chart {
    let lang = c.lang.code();
    let citizen: Vec<Point> = v
        .periods()
        .iter()
        .filter_map(|per| {
            let f = v.figure(per, TOTAL, TOTAL, TOTAL)?;
            let e = f.estimate;
            Some(Point {
                x: define::Period::decimal_year(per)?,
                label: per.clone(),
                value: e.map(|e| e.value),
                low: e.and_then(|e| e.low),
                high: e.and_then(|e| e.high),
                mark: if representative(v) {
                    mark_of(f)
                } else if f.shown == Shown::Hidden {
                    Mark::Suppressed
                } else {
                    Mark::NotRepresentative
                },
            })
        })
        .collect();
    let mut series = vec![Series {
        label: c.tf("ind.series_citizen", &[("org", &v.form_title)]),
        official: false,
        points: citizen,
    }];
    let mut by_series: BTreeMap<String, Vec<&Observation>> = BTreeMap::new();
    for o in v
        .official
        .iter()
        .filter(|o| o.dims.values().all(|d| d == "_T"))
    {
        by_series.entry(o.series_title.clone()).or_default().push(o);
    }
    for (title, obs) in by_series {
        let mut points: Vec<Point> = obs
            .iter()
            .map(|o| Point {
                x: o.year,
                label: o.period.clone(),
                value: Some(o.value),
                low: o.low,
                high: o.high,
                mark: Mark::Normal,
            })
            .collect();
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        series.push(Series {
            label: format!("{} ({})", title, c.t("ind.official_short")),
            official: true,
            points,
        });
    }
    let title = define::text(&v.def.spec.title, lang).to_owned();
    Chart {
        id: id.to_owned(),
        desc: c.tf("ind.chart_desc", &[("title", &title)]),
        title,
        unit: suffix(v).trim().to_owned(),
        kind: Kind::Line,
        series,
        target: v.def.spec.target.as_ref().map(|t| TargetLine {
            value: t.value,
            label: define::text(&t.label, lang).to_owned(),
        }),
        y_min: Some(0.0),
        y_max: None,
        width: 640,
        height: 300,
        decimal_comma: c.lang == Lang::Fr,
        no_data: c.t("ind.no_data").to_owned(),
    }
}

fn group_chart(c: &Chrome<'_>, v: &IndicatorView, period: &str, place: &str, dim: &str) -> Chart {
    let lang = c.lang.code();
    let points = v
        .groups_of(dim)
        .iter()
        .filter_map(|g| {
            let f = v.figure(period, place, dim, g)?;
            let e = f.estimate;
            Some(Point {
                x: 0.0,
                label: v.group_label(dim, g, lang),
                value: e.map(|e| e.value),
                low: e.and_then(|e| e.low),
                high: e.and_then(|e| e.high),
                mark: if representative(v) || f.shown == Shown::Hidden {
                    mark_of(f)
                } else {
                    Mark::NotRepresentative
                },
            })
        })
        .collect();
    let title = format!(
        "{} — {} ({period})",
        define::text(&v.def.spec.title, lang),
        v.dimension_title(dim, lang)
    );
    Chart {
        id: "groups".into(),
        desc: c.tf("ind.chart_desc", &[("title", &title)]),
        title,
        unit: suffix(v).trim().to_owned(),
        kind: Kind::Bar,
        series: vec![Series {
            label: String::new(),
            official: false,
            points,
        }],
        target: None,
        y_min: Some(0.0),
        y_max: None,
        width: 640,
        height: 280,
        decimal_comma: c.lang == Lang::Fr,
        no_data: c.t("ind.no_data").to_owned(),
    }
}

/// The map of a period's figures by place, over every imported place of the same level.
fn place_map(
    c: &Chrome<'_>,
    v: &IndicatorView,
    places: &[(String, String, Vec<Vec<baraza_charts::geo::Ring>>)],
    attribution: &str,
    period: &str,
    link: &dyn Fn(&str) -> String,
) -> String {
    let areas: Vec<Area<'_>> = places
        .iter()
        .map(|(code, name, polygons)| {
            let f = v.figure(period, code, TOTAL, TOTAL);
            let shown = f.filter(|f| f.shown != Shown::Hidden);
            Area {
                code,
                name,
                polygons,
                value: shown.and_then(|f| f.estimate).map(|e| e.value),
                label: value_text(c.lang, v, f),
                mark: match f {
                    None => Mark::Suppressed,
                    Some(f) if !representative(v) && f.shown != Shown::Hidden => {
                        Mark::NotRepresentative
                    }
                    Some(f) => mark_of(f),
                },
                href: f.map(|_| link(code)),
            }
        })
        .collect();
    let lang = c.lang.code();
    map::render(&MapSpec {
        id: "map".into(),
        title: format!("{} — {period}", define::text(&v.def.spec.title, lang)),
        desc: c.t("ind.map_desc").to_owned(),
        legend_title: unit(v, c.lang),
        no_data_label: c.t("ind.map_no_data").to_owned(),
        not_representative_label: c.t("ind.not_representative").to_owned(),
        attribution: attribution.to_owned(),
        areas,
        classes: 5,
        higher_is_better: v.def.spec.higher_is_better,
        width: 480,
        decimal_comma: c.lang == Lang::Fr,
    })
}

fn figure_rows(c: &Chrome<'_>, v: &IndicatorView, figures: &[&Figure]) -> Markup {
    html! {
        div.scroll { table {
            thead { tr {
                th { (c.t("ind.col_who")) } th { (c.t("ind.col_period")) } th.num { (c.t("ind.col_value")) }
                th.num { (c.t("ind.col_interval")) } th.num { (c.t("ind.col_n")) } th { (c.t("ind.col_note")) }
            } }
            tbody {
                @for f in figures {
                    tr {
                        td { (who(c, v, f)) } td { (f.period) }
                        td.num { (value_text(c.lang, v, Some(f))) }
                        td.num { @if let Some(e) = &f.estimate { (interval_text(c.lang, v, e)) } }
                        td.num { @if let Some(n) = f.n { (n) } }
                        td {
                            @match f.shown {
                                Shown::Hidden => { (c.t("ind.hidden")) }
                                Shown::Bracketed => { (c.t("ind.few_records")) }
                                Shown::Shown => {}
                            }
                        }
                    }
                }
            }
        } }
    }
}

fn credibility(c: &Chrome<'_>, v: &IndicatorView) -> Markup {
    let lang = c.lang.code();
    let cr = &v.def.spec.credibility;
    let sampling = match cr.sampling {
        Sampling::Probability => "ind.sampling_probability",
        Sampling::NonProbability => "ind.sampling_non_probability",
        Sampling::Census => "ind.sampling_census",
    };
    let participation = match cr.participation {
        Participation::Contributory => "ind.participation_contributory",
        Participation::Collaborative => "ind.participation_collaborative",
        Participation::CoCreated => "ind.participation_co_created",
        Participation::CitizenLed => "ind.participation_citizen_led",
    };
    let validation = match cr.validation {
        Validation::SelfDeclared => "ind.validation_self",
        Validation::PeerReviewed => "ind.validation_peer",
        Validation::ValidatedByStatisticsOffice => "ind.validation_nso",
    };
    html! {
        section.card #credibility {
            h2 { (c.t("ind.credibility")) }
            dl.facts {
                dt { (c.t("ind.cred_who")) } dd { (define::text(&cr.collected_by, lang)) }
                dt { (c.t("ind.cred_how")) } dd { (c.t(sampling)) @let m = define::text(&cr.method, lang); @if !m.is_empty() { " " (m) } }
                @let cov = define::text(&cr.coverage, lang);
                @if !cov.is_empty() { dt { (c.t("ind.cred_where")) } dd { (cov) } }
                dt { (c.t("ind.cred_when")) } dd { (v.periods().first().cloned().unwrap_or_default()) " – " (v.periods().last().cloned().unwrap_or_default()) }
                dt { (c.t("ind.cred_participation")) } dd { (c.t(participation)) }
                dt { (c.t("ind.cred_alignment")) }
                dd {
                    @if let (Some(l), Some(i)) = (&v.def.spec.sdg, &v.sdg) {
                        (badge(c, l.alignment)) " " (i.code) " " (fw::title(&i.title, lang))
                        @let d = define::text(&l.differences, lang);
                        @if !d.is_empty() { br; (d) }
                    } @else { (c.t("ind.no_sdg")) }
                }
                dt { (c.t("ind.cred_validation")) } dd { (c.t(validation)) }
                dt { (c.t("ind.cred_safeguards")) }
                dd {
                    (define::text(&cr.safeguards, lang)) " "
                    (c.tf("ind.small_cells_rule", &[("hide", &v.def.spec.small_cells.hide_below.to_string()), ("bracket", &v.def.spec.small_cells.bracket_below.to_string())]))
                }
            }
        }
    }
}

/// The place polygons to draw: every imported place of the level of the indicator's places.
async fn map_places(
    ctx: &Ctx,
    v: &IndicatorView,
) -> WebResult<(
    Vec<(String, String, Vec<Vec<baraza_charts::geo::Ring>>)>,
    String,
)> {
    let places = ctx.state.core.places(true).await?;
    let used: Vec<&baraza_store::PlaceRow> = places
        .iter()
        .filter(|p| v.place_names.contains_key(&p.code))
        .filter(|p| v.figures.keys().any(|k| k.place == p.code))
        .collect();
    let Some(level) = used.first().map(|p| (p.level, p.parent.clone())) else {
        return Ok((Vec::new(), String::new()));
    };
    let mut attribution = Vec::new();
    let out = places
        .iter()
        .filter(|p| p.level == level.0 && p.parent == level.1)
        .filter_map(|p| {
            if !p.attribution.is_empty() && !attribution.contains(&p.attribution) {
                attribution.push(p.attribution.clone());
            }
            let polygons = serde_json::from_str(p.geometry.as_deref()?).ok()?;
            Some((p.code.clone(), p.name.clone(), polygons))
        })
        .collect();
    Ok((out, attribution.join(" ")))
}

/// `GET …/indicators/{indicator}` (`.json`, `.csv`): one indicator.
pub async fn indicator_page(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
    Query(choice): Query<Choice>,
    headers: axum::http::HeaderMap,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let v = ctx.state.core.indicator_view(&g.access, slug).await?;
    if ctx.format() == Format::Csv {
        return Ok(csv_response(&format!("{slug}.csv"), figures_csv(&v)));
    }
    let c = Chrome::from_ctx(ctx);
    let lang = c.lang.code();
    let project = ProjectView::from_access(&g.access);
    let periods = v.periods();
    let period = choice
        .period
        .filter(|p| periods.contains(p))
        .or_else(|| periods.last().cloned());
    let by = choice
        .by
        .filter(|d| v.def.dimensions.iter().any(|x| x.name() == d))
        .or_else(|| v.def.dimensions.first().map(|d| d.name().to_owned()));
    let place = choice
        .place
        .filter(|p| v.figures.keys().any(|k| &k.place == p))
        .unwrap_or_else(|| TOTAL.to_owned());
    let (comparisons, worst, gini, palma) = match (&period, &by) {
        (Some(per), Some(dim)) => (
            comparisons(&v, per, &place, dim),
            worst_off(&v, per),
            None,
            None,
        ),
        (Some(per), None) => (Vec::new(), worst_off(&v, per), None, None),
        _ => (Vec::new(), Vec::new(), None, None),
    };
    let (gini, palma) = match &period {
        Some(per) => {
            let key = CellKey::new(per, &place, TOTAL, TOTAL);
            let hidden = v.figures.get(&key).is_none_or(|f| f.shown == Shown::Hidden);
            match v.distribution(&key) {
                Some(d) if !hidden => (
                    inequality::gini(d, v.def.weight.is_some()),
                    inequality::palma(d, v.def.weight.is_some()),
                ),
                _ => (gini, palma),
            }
        }
        None => (gini, palma),
    };
    let data = IndicatorData {
        indicator: summary(&c, &project, &v),
        definition: v.def.spec.clone(),
        figures: v.figures.values().cloned().collect(),
        period: period.clone(),
        by: by.clone(),
        place: place.clone(),
        comparisons,
        worst_off: worst,
        gini,
        palma,
        official: v.official.clone(),
        progress_official: official_progress(&v),
        progress_citizen: citizen_progress(&v),
        records_not_counted: v.errors.0,
        project,
    };
    let (places, attribution) = if ctx.format() == Format::Html {
        map_places(ctx, &v).await?
    } else {
        (Vec::new(), String::new())
    };
    let manage = g.access.can(baraza_types::Permission::ManageIndicators);
    Ok(respond(ctx, &data, || {
        let p = &data.project;
        let url = format!("{}/{}", base(p), v.row.slug);
        let link = |per: &str, dim: Option<&str>, pl: &str| {
            let mut q = format!("{url}?period={}", crate::middleware::url_encode(per));
            if let Some(d) = dim {
                let _ = write!(q, "&by={}", crate::middleware::url_encode(d));
            }
            if pl != TOTAL {
                let _ = write!(q, "&place={}", crate::middleware::url_encode(pl));
            }
            q
        };
        let title = define::text(&v.def.spec.title, lang);
        let latest = period
            .as_deref()
            .and_then(|per| v.figure(per, &place, TOTAL, TOTAL));
        layout(
            &c,
            &format!("{title} · {}", p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } " › " a href=(base(p)) { (c.t("ind.title")) }
                    @if let Some(i) = &v.sdg { @for goal in &i.goals { " › " a href={ (base(p)) "/goals/" (goal) } { (c.t("ind.goal")) " " (goal) } } } }
                h1 { (title) }
                p.muted {
                    @if let (Some(i), Some(l)) = (&v.sdg, &v.def.spec.sdg) {
                        (c.tf("ind.sdg_code", &[("code", &i.code)])) " " (fw::title(&i.title, lang)) " " (badge(&c, l.alignment)) br;
                    }
                    (c.tf("ind.as_of", &[("when", &when(v.row.as_of))]))
                    @if data.records_not_counted > 0 { " · " (c.tf("ind.not_counted", &[("n", &data.records_not_counted.to_string())])) }
                }
                p { (define::text(&v.def.spec.description, lang)) }
                section.card {
                    h2 { @if let Some(per) = &period { (per) } " · " (if place == TOTAL { c.t("ind.all").to_owned() } else { v.place_name(&place) }) }
                    p { (headline(&c, &v, latest)) }
                    @if let Some(e) = latest.and_then(|f| f.estimate).filter(|e| e.low.is_some()) {
                        p.muted { (c.t(method_key(e.method))) @if let Some(d) = e.deff { " · " (c.tf("ind.deff", &[("deff", &num(c.lang, d, 2))])) } }
                    }
                    p.muted.small { (c.tf("ind.read_rule", &[("hide", &v.def.spec.small_cells.hide_below.to_string()), ("bracket", &v.def.spec.small_cells.bracket_below.to_string())])) }
                }
                @if periods.len() > 1 {
                    nav.choices aria-label=(c.t("ind.periods")) {
                        (c.t("ind.periods")) ": "
                        @for per in &periods {
                            @if Some(per) == period.as_ref() { strong { (per) } } @else { a href=(link(per, by.as_deref(), &place)) { (per) } }
                            " "
                        }
                    }
                }
                h2 { (c.t("ind.over_time")) }
                figure {
                    (PreEscaped(chart::render(&time_chart(&c, &v, "time"))))
                    figcaption.muted { (c.t("ind.chart_caption")) }
                }
                (figure_rows(&c, &v, &periods.iter().filter_map(|per| v.figure(per, TOTAL, TOTAL, TOTAL)).collect::<Vec<_>>()))
                @if let Some(pr) = &data.progress_citizen {
                    p { (c.t("ind.progress_citizen")) ": " strong { (c.t(status_key(pr.status))) } }
                }
                @if !v.def.dimensions.is_empty() {
                    h2 { (c.t("ind.by_group")) }
                    nav.choices aria-label=(c.t("ind.by_group")) {
                        @for d in &v.def.dimensions {
                            @if Some(d.name()) == by.as_deref() { strong { (v.dimension_title(d.name(), lang)) } }
                            @else { a href=(link(period.as_deref().unwrap_or_default(), Some(d.name()), &place)) { (v.dimension_title(d.name(), lang)) } }
                            " "
                        }
                    }
                    @if let (Some(per), Some(dim)) = (&period, &by) {
                        figure { (PreEscaped(chart::render(&group_chart(&c, &v, per, &place, dim)))) }
                        (figure_rows(&c, &v, &v.groups_of(dim).iter().filter_map(|g| v.figure(per, &place, dim, g)).collect::<Vec<_>>()))
                        @if !data.comparisons.is_empty() {
                            h3 { (c.t("ind.inequality")) }
                            div.scroll { table {
                                thead { tr { th { (c.t("ind.col_who")) } th { (c.t("ind.col_reference")) } th.num { (c.t("ind.col_gap")) } th.num { (c.t("ind.col_ratio")) } th.num { (c.t("ind.col_parity")) } th { (c.t("ind.col_note")) } } }
                                tbody {
                                    @for cmp in &data.comparisons {
                                        tr {
                                            td { (v.group_label(dim, &cmp.group, lang)) } td { (v.group_label(dim, &cmp.reference, lang)) }
                                            td.num { (num(c.lang, cmp.gap.value, 1)) @if let (Some(l), Some(h)) = (cmp.gap.low, cmp.gap.high) { br; span.muted { (num(c.lang, l, 1)) " – " (num(c.lang, h, 1)) } } }
                                            td.num { @if let Some(r) = &cmp.ratio { (num(c.lang, r.value, 2)) } }
                                            td.num { @if let Some(r) = &cmp.parity_index { (num(c.lang, r.value, 2)) } }
                                            td { @match cmp.significant { Some(true) => { (c.t("ind.significant")) } Some(false) => { (c.t("ind.not_significant")) } None => {} } }
                                        }
                                    }
                                }
                            } }
                            p.muted.small { (c.t("ind.inequality_help")) }
                        }
                    }
                }
                @if let (Some(g), Some(pa)) = (data.gini, data.palma) {
                    p { (c.tf("ind.gini_palma", &[("gini", &num(c.lang, g, 2)), ("palma", &num(c.lang, pa, 2))])) }
                }
                @if let Some(per) = &period {
                    @if !places.is_empty() {
                        h2 { (c.t("ind.map")) }
                        figure { (PreEscaped(place_map(&c, &v, &places, &attribution, per, &|code| link(per, by.as_deref(), code)))) }
                        (figure_rows(&c, &v, &v.places_in(per).iter().filter_map(|pl| v.figure(per, pl, TOTAL, TOTAL)).collect::<Vec<_>>()))
                    }
                    @if !data.worst_off.is_empty() {
                        h2 { (c.t("ind.lnob")) }
                        p.muted { (c.t("ind.lnob_help")) }
                        (figure_rows(&c, &v, &data.worst_off.iter().collect::<Vec<_>>()))
                    }
                }
                @if !v.official.is_empty() {
                    h2 { (c.t("ind.official")) }
                    p.muted { (c.t("ind.official_help")) }
                    (official_table(&c, &v.official))
                    @if let Some(pr) = &data.progress_official {
                        p { (c.t("ind.progress_official")) ": " strong { (c.t(status_key(pr.status))) } }
                    }
                }
                (credibility(&c, &v))
                h2 { (c.t("ind.downloads")) }
                ul {
                    li { a href={ (url) ".csv" } { "CSV" } " · " a href={ (url) ".json" } { "JSON" } " · " a href={ (url) "/sdmx.csv" } { "SDMX-CSV" } " · " a href={ (url) "/sdmx2.csv" } { "SDMX-CSV 2.0" } " (" a href={ (url) "/sdmx-structure.xml" } { (c.t("ind.sdmx_structure")) } ")" }
                    li { a href={ (url) "/chart.svg" } { (c.t("ind.svg")) } }
                }
                p { (c.t("ind.embed")) }
                // The snippet goes into other sites' pages: the address must be absolute.
                pre.embed { "<iframe src=\"" (super::forms::base_url(ctx, &headers)) (url) "/embed\" width=\"660\" height=\"480\" title=\"" (title) "\"></iframe>" }
                @if manage {
                    form.inline method="post" action={ (url) "/recompute" } { (csrf_field(c.csrf)) button type="submit" { (c.t("ind.recompute")) } }
                }
            },
        )
    }))
}

fn method_key(m: baraza_indicators::stats::Method) -> &'static str {
    use baraza_indicators::stats::Method as M;
    match m {
        M::Wilson => "ind.method_wilson",
        M::WilsonEffective => "ind.method_wilson_effective",
        M::Linearised => "ind.method_linearised",
        M::Normal => "ind.method_normal",
        M::OrderStatistics => "ind.method_order",
        M::None => "ind.method_none",
    }
}

fn csv_response(name: &str, body: String) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Every figure as CSV (hidden figures without value or count).
fn figures_csv(v: &IndicatorView) -> String {
    let mut out = baraza_publish::csv::line(&[
        "indicator",
        "period",
        "place",
        "dimension",
        "group",
        "shown",
        "n",
        "value",
        "low",
        "high",
        "method",
    ]);
    for f in v.figures.values() {
        out.push_str(&baraza_publish::csv::line(&[
            v.row.slug.clone(),
            f.period.clone(),
            f.place.clone(),
            f.dim.clone(),
            f.group.clone(),
            shown_text(f.shown).to_owned(),
            f.n.map(|n| n.to_string()).unwrap_or_default(),
            opt(f.estimate.map(|e| e.value)),
            opt(f.estimate.and_then(|e| e.low)),
            opt(f.estimate.and_then(|e| e.high)),
            f.estimate
                .and_then(|e| serde_json::to_value(e.method).ok())
                .and_then(|m| m.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ]));
    }
    out
}

fn shown_text(s: Shown) -> &'static str {
    match s {
        Shown::Shown => "shown",
        Shown::Bracketed => "bracketed",
        Shown::Hidden => "hidden",
    }
}

/// `GET …/indicators/{indicator}/sdmx.csv`: the figures as SDMX-CSV.
pub async fn sdmx(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let csv = ctx.state.core.indicator_sdmx(&g.access, slug).await?;
    Ok(csv_response(&format!("{slug}.sdmx.csv"), csv))
}

/// `GET …/indicators/{indicator}/sdmx2.csv`: the figures as SDMX-CSV 2.0, read against the
/// structure at `…/sdmx-structure.xml`.
pub async fn sdmx2(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let csv = ctx.state.core.indicator_sdmx2(&g.access, slug).await?;
    Ok(csv_response(&format!("{slug}.sdmx2.csv"), csv))
}

/// `GET …/indicators/{indicator}/sdmx-structure.xml`: the SDMX-ML 2.1 structure message
/// (dataflow, data structure, concepts, codelists) of the SDMX-CSV 2.0.
pub async fn sdmx_structure(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let xml = ctx
        .state
        .core
        .indicator_sdmx_structure(&g.access, slug)
        .await?;
    let mut res = xml.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.sdmx.structure+xml; version=2.1; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{slug}.sdmx-structure.xml\""))
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `GET …/indicators/{indicator}/chart.svg`: the chart over time as a standalone SVG file.
pub async fn chart_svg(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let v = ctx.state.core.indicator_view(&g.access, slug).await?;
    let c = Chrome::from_ctx(ctx);
    let svg = baraza_charts::standalone(&chart::render(&time_chart(&c, &v, "chart")));
    let mut res = svg.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml; charset=utf-8"),
    );
    Ok(res)
}

/// `GET …/indicators/{indicator}/embed`: the chart and its table, for an `<iframe>` in an
/// article; the only page other sites may frame.
pub async fn embed(
    g: ProjectGuard<ViewProject>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let slug = param(&params, "indicator")?;
    let v = ctx.state.core.indicator_view(&g.access, slug).await?;
    let c = Chrome::from_ctx(ctx);
    let p = ProjectView::from_access(&g.access);
    let lang = c.lang.code();
    let url = format!("{}/{}", base(&p), v.row.slug);
    let periods = v.periods();
    let markup = html! {
        (maud::DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (define::text(&v.def.spec.title, lang)) }
                link rel="stylesheet" href="/-/static/baraza.css";
            }
            body.embed {
                p { strong { (define::text(&v.def.spec.title, lang)) } }
                (PreEscaped(chart::render(&time_chart(&c, &v, "time"))))
                (figure_rows(&c, &v, &periods.iter().filter_map(|per| v.figure(per, TOTAL, TOTAL, TOTAL)).collect::<Vec<_>>()))
                p.muted.small { (p.org_name) " · " a href=(url) target="_blank" rel="noopener" { (c.t("ind.source_link")) } }
            }
        }
    };
    let mut res = markup.into_response();
    res.extensions_mut().insert(crate::middleware::Embeddable);
    Ok(res)
}

// ----- analytics -------------------------------------------------------------------------------

#[derive(Serialize)]
struct AnalyticsRow {
    indicator: String,
    period: String,
    place: String,
    dimension: String,
    group: String,
    shown: Shown,
    n: Option<i64>,
    value: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
}

#[derive(Serialize)]
struct Analytics {
    headers: [&'static str; 10],
    rows: Vec<AnalyticsRow>,
}

/// `GET …/indicators/analytics` (`.json`, `.csv`), in the spirit of DHIS2's analytics API:
/// `dimension=dx:a;b` (indicators), `dimension=pe:2026-10;2026-11` (periods),
/// `dimension=ou:TD-ND` (places; `_T` for all), and one disaggregation `dimension=sexe_chef`
/// or `dimension=sexe_chef:femme`. Without a dimension, everything.
pub async fn analytics(
    g: ProjectGuard<ViewProject>,
    RawQuery(query): RawQuery,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let mut dx: Option<Vec<String>> = None;
    let mut pe: Option<Vec<String>> = None;
    let mut ou: Option<Vec<String>> = None;
    let mut dis: Option<(String, Option<Vec<String>>)> = None;
    for (k, val) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if k != "dimension" && k != "filter" {
            continue;
        }
        let (name, items) = match val.split_once(':') {
            Some((n, i)) => (
                n.to_owned(),
                Some(i.split(';').map(str::to_owned).collect::<Vec<_>>()),
            ),
            None => (val.to_string(), None),
        };
        match name.as_str() {
            "dx" => dx = items,
            "pe" => pe = items,
            "ou" => ou = items,
            _ => dis = Some((name, items)),
        }
    }
    let views = ctx.state.core.indicator_views(&g.access).await?;
    let mut rows = Vec::new();
    // The page shows a sample; the twins give every row.
    let limit = if ctx.format() == Format::Html {
        200
    } else {
        usize::MAX
    };
    for v in &views {
        if dx.as_ref().is_some_and(|d| !d.contains(&v.row.slug)) {
            continue;
        }
        for f in v.figures.values() {
            let keep = pe.as_ref().is_none_or(|p| p.contains(&f.period))
                && ou.as_ref().is_none_or(|o| o.contains(&f.place))
                && match &dis {
                    None => f.dim == TOTAL,
                    Some((d, groups)) => {
                        &f.dim == d && groups.as_ref().is_none_or(|g| g.contains(&f.group))
                    }
                };
            if keep && rows.len() < limit {
                rows.push(AnalyticsRow {
                    indicator: v.row.slug.clone(),
                    period: f.period.clone(),
                    place: f.place.clone(),
                    dimension: f.dim.clone(),
                    group: f.group.clone(),
                    shown: f.shown,
                    n: f.n,
                    value: f.estimate.map(|e| e.value),
                    low: f.estimate.and_then(|e| e.low),
                    high: f.estimate.and_then(|e| e.high),
                });
            }
        }
    }
    let data = Analytics {
        headers: [
            "indicator",
            "period",
            "place",
            "dimension",
            "group",
            "shown",
            "n",
            "value",
            "low",
            "high",
        ],
        rows,
    };
    match ctx.format() {
        Format::Csv => {
            let mut out = baraza_publish::csv::line(&data.headers);
            for r in &data.rows {
                out.push_str(&baraza_publish::csv::line(&[
                    r.indicator.clone(),
                    r.period.clone(),
                    r.place.clone(),
                    r.dimension.clone(),
                    r.group.clone(),
                    shown_text(r.shown).to_owned(),
                    r.n.map(|n| n.to_string()).unwrap_or_default(),
                    opt(r.value),
                    opt(r.low),
                    opt(r.high),
                ]));
            }
            Ok(csv_response("analytics.csv", out))
        }
        Format::Json => Ok(axum::Json(data).into_response()),
        Format::Html => {
            let c = Chrome::from_ctx(ctx);
            let p = ProjectView::from_access(&g.access);
            Ok(respond(ctx, &data, || {
                layout(
                    &c,
                    &format!("{} · {}", c.t("ind.analytics"), p.name),
                    html! {
                        p.muted { a href=(p.url) { (p.name) } " › " a href=(base(&p)) { (c.t("ind.title")) } }
                        h1 { (c.t("ind.analytics")) }
                        p { (c.t("ind.analytics_help")) }
                        pre.embed { (base(&p)) "/analytics.json?dimension=dx:ID;ID&dimension=pe:2026-10;2026-11&dimension=ou:_T&dimension=FIELD" }
                        table {
                            thead { tr { @for h in data.headers { th { (h) } } } }
                            tbody {
                                @for r in &data.rows {
                                    tr {
                                        td { (r.indicator) } td { (r.period) } td { (r.place) } td { (r.dimension) } td { (r.group) }
                                        td { (shown_text(r.shown)) }
                                        td.num { @if let Some(n) = r.n { (n) } }
                                        td.num { @if let Some(v) = r.value { (num(c.lang, v, 2)) } }
                                        td.num { @if let Some(v) = r.low { (num(c.lang, v, 2)) } }
                                        td.num { @if let Some(v) = r.high { (num(c.lang, v, 2)) } }
                                    }
                                }
                            }
                        }
                    },
                )
            }))
        }
    }
}

// ----- definitions -----------------------------------------------------------------------------

#[derive(Serialize)]
struct DefinitionsData {
    project: ProjectView,
    definitions: String,
    official: Vec<OfficialSummary>,
}

#[derive(Serialize)]
struct OfficialSummary {
    indicator: String,
    series: String,
    title: String,
    source: String,
    observations: usize,
    imported: String,
}

fn definitions_markup(
    c: &Chrome<'_>,
    data: &DefinitionsData,
    text: &str,
    problems: &[String],
) -> Markup {
    let p = &data.project;
    layout(
        c,
        &format!("{} · {}", c.t("ind.definitions"), p.name),
        html! {
            p.muted { a href=(p.url) { (p.name) } " › " a href=(base(p)) { (c.t("ind.title")) } }
            h1 { (c.t("ind.definitions")) }
            p { (c.t("ind.definitions_help")) }
            @if !problems.is_empty() {
                div.error role="alert" {
                    p { (c.t("ind.definitions_refused")) }
                    ul { @for pr in problems { li { (pr) } } }
                }
            }
            form.stack method="post" action={ (base(p)) "/definitions" } {
                (csrf_field(c.csrf))
                label { (c.t("ind.definitions_file"))
                    textarea name="definitions" rows="24" spellcheck="false" { (text) } }
                button type="submit" { (c.t("ind.save")) }
            }
            p { a href={ (base(p)) "/definitions.toml" } { (c.t("ind.download_toml")) } }
            h2 { (c.t("ind.official")) }
            @if data.official.is_empty() { p.muted { (c.t("ind.no_official")) } }
            @else {
                table {
                    thead { tr { th { (c.t("ind.col_indicator")) } th { (c.t("ind.col_series")) } th { (c.t("ind.col_source")) } th.num { (c.t("ind.col_n")) } th { (c.t("ind.col_imported")) } } }
                    tbody { @for s in &data.official { tr { td { (s.indicator) } td { (s.title) " " span.muted { (s.series) } } td.muted { (s.source) } td.num { (s.observations) } td { (s.imported) } } } }
                }
            }
            form.stack method="post" enctype="multipart/form-data" action={ (base(p)) "/official" } {
                (csrf_field(c.csrf))
                label { (c.t("ind.official_file")) input type="file" name="file" accept=".csv,text/csv" required; span.hint { (c.t("ind.official_file_hint")) } }
                label { (c.t("ind.official_indicator")) input type="text" name="indicator" placeholder="6.1.1"; span.hint { (c.t("ind.official_indicator_hint")) } }
                button type="submit" { (c.t("ind.import")) }
            }
        },
    )
}

async fn definitions_data(g: &ProjectGuard<ManageIndicators>) -> WebResult<DefinitionsData> {
    let core = &g.ctx.state.core;
    let official = core
        .official_series(&g.access)
        .await?
        .into_iter()
        .map(|s| OfficialSummary {
            observations: serde_json::from_str::<Vec<serde_json::Value>>(&s.observations)
                .map_or(0, |v| v.len()),
            indicator: s.indicator,
            series: s.series,
            title: s.title,
            source: s.source,
            imported: when(s.imported_at),
        })
        .collect();
    Ok(DefinitionsData {
        project: ProjectView::from_access(&g.access),
        definitions: core.indicator_definitions(&g.access).await?,
        official,
    })
}

/// `GET …/indicators/definitions` (`.json`): the definitions file and the official series.
pub async fn definitions_page(g: ProjectGuard<ManageIndicators>) -> WebResult<Response> {
    let data = definitions_data(&g).await?;
    let ctx = &g.ctx;
    Ok(respond(ctx, &data, || {
        definitions_markup(&Chrome::from_ctx(ctx), &data, &data.definitions, &[])
    }))
}

/// `GET …/indicators/definitions.toml`.
pub async fn definitions_file(g: ProjectGuard<ManageIndicators>) -> WebResult<Response> {
    let text = g.ctx.state.core.indicator_definitions(&g.access).await?;
    let mut res = text.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/toml; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"indicators.toml\""),
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct DefinitionsForm {
    definitions: String,
}

/// `POST …/indicators/definitions`: saves the file (all its indicators, or none).
pub async fn save_definitions(
    g: ProjectGuard<ManageIndicators>,
    CsrfForm(form): CsrfForm<DefinitionsForm>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    match ctx
        .state
        .core
        .define_indicators(&g.access, &form.definitions)
        .await
    {
        Ok(_) => Ok(see_other(&base(&ProjectView::from_access(&g.access)))),
        Err(CoreError::IndicatorInvalid { problems }) if ctx.format() == Format::Html => {
            let data = definitions_data(&g).await?;
            Ok(form_again(
                StatusCode::UNPROCESSABLE_ENTITY,
                definitions_markup(&Chrome::from_ctx(ctx), &data, &form.definitions, &problems),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST …/indicators/official`: imports an official series file.
pub async fn import_official(
    g: ProjectGuard<ManageIndicators>,
    upload: CsrfUpload,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    ctx.state
        .core
        .import_official(
            &g.access,
            &upload.bytes,
            &upload.file_name,
            upload
                .fields
                .get("indicator")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty()),
        )
        .await?;
    Ok(see_other(&format!(
        "{}/definitions",
        base(&ProjectView::from_access(&g.access))
    )))
}

/// `POST …/indicators/{indicator}/recompute`.
pub async fn recompute(
    g: ProjectGuard<ManageIndicators>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> WebResult<Response> {
    let slug = param(&params, "indicator")?;
    g.ctx
        .state
        .core
        .recompute_indicator(&g.access, slug)
        .await?;
    Ok(see_other(&format!(
        "{}/{slug}",
        base(&ProjectView::from_access(&g.access))
    )))
}

/// `POST …/indicators/{indicator}/delete`.
pub async fn delete(
    g: ProjectGuard<ManageIndicators>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> WebResult<Response> {
    let slug = param(&params, "indicator")?;
    g.ctx.state.core.remove_indicator(&g.access, slug).await?;
    Ok(see_other(&base(&ProjectView::from_access(&g.access))))
}
