//! The web form: a form filled page by page in any browser, JavaScript or not.
//!
//! Each page is an HTML form posted as `multipart/form-data` (files included) to the draft's
//! URL; the button pressed says what to do (`_action`: `next`, `prev`, `save`, `refresh`,
//! `send`, `discard`, `goto:N`, `add:PATH`, `remove:PATH`). The draft lives on the server, so
//! a person can stop and come back on another day, and nothing is lost when the connection
//! drops between pages. Evaluation is `baraza-fill`'s; the rules are `baraza-core`'s.
//!
//! Members fill forms under `/orgs/{org}/projects/{project}/forms/{form}/fill`; anyone with a
//! form's public link under `/f/{token}`, holding their draft by a cookie.

use super::views::{project_url, ProjectView};
use super::{form_again, respond, see_other};
use crate::ctx::{check_origin, cookie, Ctx, ProjectGuard, CSRF_FIELD};
use crate::error::{WebError, WebResult};
use crate::middleware::cookie_header;
use crate::pages::{csrf_field, iso, layout, Chrome};
use axum::extract::{FromRequest, Multipart, Path, Query, Request};
use axum::http::{header, StatusCode};
use axum::response::Response;
use baraza_core::fill::{FillMode, FillOwner, FillState, Sent, Upload};
use baraza_fill::{Action, At, ChoiceView, Control, Notice, Problem, ProblemView, Widget};
use baraza_types::ErrorCode;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The largest post of a page (its files included).
pub const MAX_FILL_POST_BYTES: usize = 25 * 1024 * 1024;
/// The largest file answered in a form.
const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// The largest text field of a post.
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Most fields in a post.
const MAX_FIELDS: usize = baraza_fill::post::MAX_POSTED_FIELDS * 2 + 100;
/// The cookie that holds the secret of a public-link draft.
const PUBLIC_COOKIE: &str = "baraza_fill";
/// The honeypot: an input people never see, that robots fill.
const HONEYPOT: &str = "website";

/// A page's post: its fields, the files it carried (already durable blobs), the CSRF token
/// checked.
pub struct FillPost {
    pub pairs: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
}

impl FillPost {
    fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn action(&self) -> String {
        self.get("_action").to_owned()
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::code(ErrorCode::PayloadTooLarge)
    } else {
        WebError::code(ErrorCode::InvalidForm).with_detail(format!("raw:{e}"))
    }
}

use super::openrosa::blob_error;

impl FromRequest<crate::AppState> for FillPost {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &crate::AppState) -> WebResult<Self> {
        let (mut parts, body) = req.into_parts();
        let ctx = <Ctx as axum::extract::FromRequestParts<crate::AppState>>::from_request_parts(
            &mut parts, state,
        )
        .await?;
        check_origin(&parts.headers)?;
        let req = Request::from_parts(parts, body);
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::code(ErrorCode::UnsupportedMediaType))?;
        let mut pairs = Vec::new();
        let mut uploads = Vec::new();
        let mut csrf = String::new();
        let core = &state.core;
        while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
            if pairs.len() + uploads.len() > MAX_FIELDS {
                return Err(WebError::code(ErrorCode::PayloadTooLarge));
            }
            let name = field.name().unwrap_or("").to_owned();
            if let Some(file_name) = field.file_name().map(str::to_owned) {
                // An empty file input sends a part with no name and no bytes.
                // Sealed as it arrives (encryption at rest): no clear byte reaches the disk.
                let mut writer = core.file_writer(MAX_FILE_BYTES).await.map_err(blob_error)?;
                let mut size = 0usize;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len();
                    writer.write(&chunk).await.map_err(blob_error)?;
                }
                if size == 0 || file_name.is_empty() {
                    continue;
                }
                let (blob, key) = writer.finish().await.map_err(blob_error)?;
                uploads.push(Upload {
                    path: name,
                    file_name,
                    blob,
                    key,
                });
                continue;
            }
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if text.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(WebError::code(ErrorCode::PayloadTooLarge));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text).map_err(|_| {
                WebError::code(ErrorCode::InvalidForm).with_detail("raw:a field is not UTF-8")
            })?;
            if name == CSRF_FIELD {
                csrf = text;
            } else {
                pairs.push((name, text));
            }
        }
        ctx.check_csrf(&csrf)?;
        Ok(FillPost { pairs, uploads })
    }
}

fn parse_action(s: &str) -> Option<ActionOrSend> {
    Some(match s {
        "" | "next" => ActionOrSend::Step(Action::Next),
        "prev" => ActionOrSend::Step(Action::Previous),
        "save" => ActionOrSend::Step(Action::Save),
        "refresh" => ActionOrSend::Step(Action::Refresh),
        "review" => ActionOrSend::Step(Action::Goto(usize::MAX)),
        "send" => ActionOrSend::Send,
        "discard" => ActionOrSend::Discard,
        _ => {
            if let Some(n) = s.strip_prefix("goto:") {
                ActionOrSend::Step(Action::Goto(n.parse().ok()?))
            } else if let Some(p) = s.strip_prefix("add:") {
                ActionOrSend::Step(Action::Add(p.to_owned()))
            } else if let Some(p) = s.strip_prefix("remove:") {
                ActionOrSend::Step(Action::Remove(p.to_owned()))
            } else {
                return None;
            }
        }
    })
}

enum ActionOrSend {
    Step(Action),
    Send,
    Discard,
}

#[derive(Deserialize, Default)]
pub struct FillQuery {
    /// The form language to show (one of the form's languages).
    #[serde(default)]
    flang: Option<String>,
    /// After sending: the instanceID sent.
    #[serde(default)]
    sent: Option<String>,
}

/// The form language: the one asked for if the form has it, else the best for the UI language.
fn form_lang(ctx: &Ctx, form: &baraza_xlsform::Form, asked: Option<&str>) -> String {
    if let Some(a) = asked {
        if form.languages.iter().any(|l| l == a) {
            return a.to_owned();
        }
    }
    baraza_fill::pick_language(form, ctx.lang().code())
}

fn with_flang(url: &str, flang: Option<&str>) -> String {
    match flang {
        Some(l) => format!("{url}?flang={}", crate::middleware::url_encode(l)),
        None => url.to_owned(),
    }
}

// ----- the page ----------------------------------------------------------------------------

#[derive(Serialize)]
struct FillData {
    form_title: String,
    xml_form_id: String,
    mode: &'static str,
    /// Where the person is: `{"at":"page","page":N}` or `{"at":"review"}`.
    at: At,
    pages: usize,
    /// The form's languages and the one shown.
    languages: Vec<String>,
    language: String,
    widgets: Vec<Widget>,
    review: Vec<baraza_fill::ReviewLine>,
    problems: Vec<ProblemLine>,
    notice: Option<Notice>,
    /// An error about the post as a whole (e.g. an edit without its reason).
    error: Option<String>,
    /// The URL pages post to.
    action: String,
    #[serde(skip)]
    back: String,
    #[serde(skip)]
    flang_param: Option<String>,
    #[serde(skip)]
    page_titles: Vec<String>,
}

#[derive(Serialize, Clone)]
struct ProblemLine {
    path: String,
    page: Option<usize>,
    label: String,
    problem: ProblemView,
}

fn mode_name(m: &FillMode) -> &'static str {
    match m {
        FillMode::Submit => "submit",
        FillMode::Test => "test",
        FillMode::Edit { .. } => "edit",
        FillMode::Public => "public",
    }
}

/// A problem as a sentence in the person's language (the form's own message first).
fn problem_text(ctx: &Ctx, p: &ProblemView) -> String {
    if let Some(m) = &p.message {
        return m.clone();
    }
    let detail = p.detail.clone().unwrap_or_default();
    ctx.tf(&format!("fill.problem_{}", p.kind), &[("detail", &detail)])
}

fn build_data(
    ctx: &Ctx,
    state: &mut FillState,
    flang: Option<&str>,
    problems: &[Problem],
    notice: Option<Notice>,
    action: String,
    back: String,
) -> FillData {
    let lang = form_lang(ctx, &state.model, flang);
    let env = ctx.state.core.fill_env(ctx.user());
    let model = state.model.clone();
    let files = state.list_files.clone();
    let engine = baraza_fill::Engine::new(&model, &lang, &files);
    let mut filling = state.filling.clone();
    let rel = engine.refresh(&mut filling, &env);
    let pages = engine.pages();
    let page_titles: Vec<String> = pages
        .iter()
        .map(|p| {
            p.first()
                .filter(|_| p.len() == 1)
                .and_then(|id| engine.label(&filling.answers, *id, &[], &rel))
                .unwrap_or_default()
        })
        .collect();
    let (widgets, review) = match state.at {
        At::Page(n) => (
            pages
                .get(n)
                .map(|p| engine.widgets(&filling, &rel, &env, p, problems))
                .unwrap_or_default(),
            Vec::new(),
        ),
        At::Review => (Vec::new(), engine.review(&filling, &rel, &env)),
    };
    let problem_lines = problems
        .iter()
        .map(|p| {
            let (id, loc) = engine
                .idx
                .parse_path(&p.path)
                .unwrap_or((p.def, Vec::new()));
            ProblemLine {
                path: p.path.clone(),
                page: engine.page_of(&p.path),
                label: engine
                    .label(&filling.answers, id, &loc, &rel)
                    .unwrap_or_else(|| engine.def(id).name().to_owned()),
                problem: ProblemView::of(p),
            }
        })
        .collect();
    FillData {
        form_title: state.version.title.clone(),
        xml_form_id: state.form.xml_form_id.clone(),
        mode: mode_name(&state.mode),
        at: state.at,
        pages: pages.len(),
        languages: model
            .languages
            .iter()
            .filter(|l| *l != "default")
            .cloned()
            .collect(),
        language: lang,
        widgets,
        review,
        problems: problem_lines,
        notice,
        error: None,
        action,
        back,
        flang_param: flang.map(str::to_owned),
        page_titles,
    }
}

/// The id of an input, from its path (ids must be plain for `for=` and `#` links).
fn input_id(path: &str) -> String {
    let mut out = String::from("q");
    for c in path.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    out
}

fn display_datetime(v: &str) -> String {
    // `datetime-local` wants `YYYY-MM-DDThh:mm`.
    v.get(..16).unwrap_or(v).to_owned()
}

fn display_time(v: &str) -> String {
    v.get(..5).unwrap_or(v).to_owned()
}

fn geopoint_parts(v: &str) -> [String; 4] {
    let mut it = v.split_whitespace();
    [(); 4].map(|_| it.next().unwrap_or("").to_owned())
}

fn problems_markup(ctx: &Ctx, problems: &[ProblemView], id: &str) -> Markup {
    html! {
        @for p in problems {
            p.error id={ (id) "-err" } { (problem_text(ctx, p)) }
        }
    }
}

fn label_markup(c: &Chrome<'_>, label: &Option<String>, name: &str, required: bool) -> Markup {
    html! {
        (label.clone().unwrap_or_else(|| name.to_owned()))
        @if required { " " abbr.req title=(c.t("fill.required")) { "*" } }
    }
}

fn choice_input(
    kind: &str,
    path: &str,
    id: &str,
    i: usize,
    ch: &ChoiceView,
    required: bool,
) -> Markup {
    html! {
        label.choice {
            @if kind == "radio" {
                input type="radio" name=(path) value=(ch.name) id={ (id) "-" (i) } checked[ch.selected] required[required];
            } @else {
                input type="checkbox" name=(path) value=(ch.name) id={ (id) "-" (i) } checked[ch.selected];
            }
            " " (ch.label)
        }
    }
}

fn widget_markup(ctx: &Ctx, c: &Chrome<'_>, w: &Widget, out: &mut Vec<Markup>) {
    match w {
        Widget::Question {
            path,
            name,
            control,
            label,
            hint,
            value,
            required,
            readonly,
            choices,
            accept,
            range,
            other,
            problems,
            live,
            ..
        } => {
            let id = input_id(path);
            let invalid = !problems.is_empty();
            let hint_id = format!("{id}-hint");
            let described = match (hint.is_some(), invalid) {
                (true, true) => format!("{hint_id} {id}-err"),
                (true, false) => hint_id.clone(),
                (false, true) => format!("{id}-err"),
                (false, false) => String::new(),
            };
            let described = (!described.is_empty()).then_some(described);
            let hint_m = html! { @if let Some(h) = hint { span.hint id=(hint_id) { (h) } } };
            if *control == Control::Note {
                out.push(html! {
                    div.note {
                        @if let Some(l) = label { p { (l) } }
                        (hint_m)
                    }
                });
                return;
            }
            if *readonly {
                out.push(html! {
                    div.q.readonly {
                        span.label { (label_markup(c, label, name, false)) }
                        (hint_m)
                        output { (value) }
                    }
                });
                return;
            }
            let req = *required;
            let field = match control {
                Control::SelectOne => html! {
                    fieldset.q aria-describedby=[described.as_deref()] {
                        legend { (label_markup(c, label, name, req)) }
                        (hint_m)
                        @for (i, ch) in choices.iter().enumerate() { (choice_input("radio", path, &id, i, ch, req && !choices.is_empty())) }
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::SelectMultiple => html! {
                    fieldset.q aria-describedby=[described.as_deref()] {
                        legend { (label_markup(c, label, name, req)) }
                        (hint_m)
                        @for (i, ch) in choices.iter().enumerate() { (choice_input("checkbox", path, &id, i, ch, false)) }
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::Dropdown => html! {
                    div.q {
                        label for=(id) { (label_markup(c, label, name, req)) }
                        (hint_m)
                        select id=(id) name=(path) required[req && !choices.is_empty()] aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] {
                            option value="" { "—" }
                            @for ch in choices { option value=(ch.name) selected[ch.selected] { (ch.label) } }
                        }
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::Rank => html! {
                    fieldset.q aria-describedby=[described.as_deref()] {
                        legend { (label_markup(c, label, name, req)) }
                        (hint_m)
                        p.hint { (c.t("fill.rank_help")) }
                        @for ch in choices {
                            label.rank {
                                input type="number" min="1" max=(choices.len()) step="1" inputmode="numeric"
                                    name={ (path) "#rank:" (ch.name) } value=[ch.rank];
                                " " (ch.label)
                            }
                        }
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::Geopoint => {
                    let [lat, lon, alt, acc] = geopoint_parts(value);
                    html! {
                        fieldset.q.geo aria-describedby=[described.as_deref()] data-locate=(c.t("fill.locate")) data-locate-failed=(c.t("fill.locate_failed")) {
                            legend { (label_markup(c, label, name, req)) }
                            (hint_m)
                            label { (c.t("fill.latitude")) input type="number" step="any" min="-90" max="90" inputmode="decimal" name={ (path) "#lat" } value=(lat) id=(id); }
                            label { (c.t("fill.longitude")) input type="number" step="any" min="-180" max="180" inputmode="decimal" name={ (path) "#lon" } value=(lon); }
                            label { (c.t("fill.altitude")) input type="number" step="any" inputmode="decimal" name={ (path) "#alt" } value=(alt); }
                            label { (c.t("fill.accuracy")) input type="number" step="any" min="0" inputmode="decimal" name={ (path) "#acc" } value=(acc); }
                            (problems_markup(ctx, problems, &id))
                        }
                    }
                }
                Control::File => html! {
                    div.q {
                        label for=(id) { (label_markup(c, label, name, req && value.is_empty())) }
                        (hint_m)
                        @if !value.is_empty() {
                            p { (c.t("fill.file_current")) " " code { (value) } " "
                                label.choice { input type="checkbox" name={ (path) "#remove" } value="1"; " " (c.t("fill.file_remove")) } }
                        }
                        input type="file" id=(id) name=(path) accept=[*accept] aria-describedby=[described.as_deref()];
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::Acknowledge => html! {
                    div.q {
                        label.choice for=(id) {
                            input type="checkbox" id=(id) name=(path) value="OK" checked[!value.is_empty()] required[req];
                            " " (label_markup(c, label, name, req))
                        }
                        (hint_m)
                        (problems_markup(ctx, problems, &id))
                    }
                },
                Control::Multiline | Control::Points => html! {
                    div.q {
                        label for=(id) { (label_markup(c, label, name, req)) }
                        (hint_m)
                        @if *control == Control::Points { span.hint { (c.t("fill.points_help")) } }
                        textarea id=(id) name=(path) rows="4" required[req] aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] { (value) }
                        (problems_markup(ctx, problems, &id))
                    }
                },
                _ => {
                    let (ty, step, mode, shown, min, max) = match control {
                        Control::Integer => (
                            "number",
                            Some("1".to_owned()),
                            Some("numeric"),
                            value.clone(),
                            None,
                            None,
                        ),
                        Control::Decimal => (
                            "number",
                            Some("any".to_owned()),
                            Some("decimal"),
                            value.clone(),
                            None,
                            None,
                        ),
                        Control::Range => {
                            let (s, e, st) = range.clone().unwrap_or_default();
                            (
                                "number",
                                Some(st),
                                Some("decimal"),
                                value.clone(),
                                Some(s),
                                Some(e),
                            )
                        }
                        Control::Date => ("date", None, None, value.clone(), None, None),
                        Control::Time => ("time", None, None, display_time(value), None, None),
                        Control::DateTime => (
                            "datetime-local",
                            None,
                            None,
                            display_datetime(value),
                            None,
                            None,
                        ),
                        _ => ("text", None, None, value.clone(), None, None),
                    };
                    html! {
                        div.q {
                            label for=(id) { (label_markup(c, label, name, req)) }
                            (hint_m)
                            input type=(ty) id=(id) name=(path) value=(shown) step=[step] inputmode=[mode] min=[min] max=[max]
                                required[req] aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                            (problems_markup(ctx, problems, &id))
                        }
                    }
                }
            };
            let other_m = html! {
                @if let Some(o) = other {
                    div.q.other {
                        label for={ (id) "-other" } { (c.t("fill.other_specify")) }
                        input type="text" id={ (id) "-other" } name={ (path) "#other" } value=(o);
                    }
                }
            };
            out.push(html! {
                input type="hidden" name="_f" value=(path);
                @if *live {
                    div.live data-live="1" { (field) }
                } @else {
                    (field)
                }
                (other_m)
            });
        }
        Widget::Group {
            label, children, ..
        } => {
            let mut inner = Vec::new();
            for ch in children {
                widget_markup(ctx, c, ch, &mut inner);
            }
            out.push(html! {
                fieldset.group {
                    @if let Some(l) = label { legend { (l) } }
                    @for m in &inner { (m) }
                }
            });
        }
        Widget::Repeat {
            path,
            label,
            instances,
            manual,
        } => {
            let title = label.clone().unwrap_or_default();
            let mut blocks = Vec::new();
            for i in instances {
                let mut inner = Vec::new();
                for ch in &i.children {
                    widget_markup(ctx, c, ch, &mut inner);
                }
                blocks.push(html! {
                    fieldset.instance {
                        legend { (title) " " (i.number) }
                        @for m in &inner { (m) }
                        @if *manual {
                            button.danger type="submit" name="_action" value={ "remove:" (i.path) } formnovalidate {
                                (c.tf("fill.remove", &[("what", &format!("{title} {}", i.number))]))
                            }
                        }
                    }
                });
            }
            out.push(html! {
                section.repeat {
                    @if !title.is_empty() { h2 { (title) } }
                    @if instances.is_empty() { p.muted { (c.t("fill.repeat_empty")) } }
                    @for b in &blocks { (b) }
                    @if *manual {
                        button.secondary type="submit" name="_action" value={ "add:" (path) } formnovalidate {
                            (c.tf("fill.add", &[("what", &title)]))
                        }
                    }
                }
            });
        }
    }
}

fn notice_markup(c: &Chrome<'_>, n: Option<Notice>) -> Markup {
    html! {
        @match n {
            Some(Notice::Problems) => p.error role="alert" { (c.t("fill.notice_problems")) },
            Some(Notice::NewQuestions) => p.notice role="status" { (c.t("fill.notice_new_questions")) },
            Some(Notice::Saved) => p.notice role="status" { (c.t("fill.notice_saved")) },
            Some(Notice::NotChanged) => p.error role="alert" { (c.t("fill.notice_not_changed")) },
            Some(Notice::Changed) | None => {},
        }
    }
}

fn fill_markup(ctx: &Ctx, d: &FillData, honeypot: bool) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let action = with_flang(&d.action, d.flang_param.as_deref());
    let page_no = match d.at {
        At::Page(n) => Some(n),
        At::Review => None,
    };
    let title = match page_no {
        Some(n) => d
            .page_titles
            .get(n)
            .filter(|t| !t.is_empty())
            .cloned()
            .unwrap_or_else(|| d.form_title.clone()),
        None => c.t("fill.review").to_owned(),
    };
    let mut widgets = Vec::new();
    for w in &d.widgets {
        widget_markup(ctx, &c, w, &mut widgets);
    }
    let mut review_groups: Vec<(usize, Vec<&baraza_fill::ReviewLine>)> = Vec::new();
    for line in &d.review {
        match review_groups.last_mut() {
            Some((pg, lines)) if *pg == line.page => lines.push(line),
            _ => review_groups.push((line.page, vec![line])),
        }
    }
    layout(
        &c,
        &format!("{title} · {}", d.form_title),
        html! {
            p.muted { a href=(d.back) { (d.form_title) } }
            @if d.mode == "test" { p.notice { (c.t("fill.test_mode")) } }
            @if d.mode == "edit" { p.notice { (c.t("fill.edit_mode")) } }
            @if d.languages.len() > 1 {
                form.inline.flang method="get" action=(d.action) {
                    label { (c.t("fill.form_language")) " "
                        select name="flang" {
                            @for l in &d.languages { option value=(l) selected[*l == d.language] { (l) } }
                        }
                    }
                    " " button.secondary type="submit" { (c.t("fill.switch")) }
                }
            }
            h1 { (title) }
            @if let Some(n) = page_no { p.muted { (c.tf("fill.page_of", &[("n", &(n + 1).to_string()), ("total", &d.pages.to_string())])) } }
            (notice_markup(&c, d.notice))
            @if let Some(e) = &d.error { p.error role="alert" { (e) } }
            @if !d.problems.is_empty() {
                div.error role="alert" {
                    p { (c.t("fill.problems_title")) }
                    ul {
                        @for p in &d.problems {
                            li {
                                @if page_no.is_some() {
                                    a href={ "#" (input_id(&p.path)) } { (p.label) }
                                } @else {
                                    (p.label)
                                }
                                " — " (problem_text(ctx, &p.problem))
                                @if page_no.is_none() {
                                    @if let Some(pg) = p.page {
                                        " " button.link form="fill" type="submit" name="_action" value={ "goto:" (pg) } formnovalidate { (c.t("fill.change")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form #fill.fill method="post" action=(action) enctype="multipart/form-data" {
                (csrf_field(c.csrf))
                // Enter in a field means "next": the first submit button is the default one.
                @if page_no.is_some() {
                    button.visually-hidden type="submit" name="_action" value="next" tabindex="-1" aria-hidden="true" { (c.t("fill.next")) }
                }
                @if honeypot {
                    div.visually-hidden aria-hidden="true" {
                        label { "Website" input type="text" name=(HONEYPOT) tabindex="-1" autocomplete="off"; }
                    }
                }
                @for m in &widgets { (m) }
                @if page_no.is_none() {
                    @if d.review.is_empty() { p.muted { (c.t("fill.review_empty")) } }
                    @for (pg, lines) in &review_groups {
                        h2.page {
                            (d.page_titles.get(*pg).filter(|t| !t.is_empty()).cloned().unwrap_or_else(|| c.tf("fill.page_n", &[("n", &(pg + 1).to_string())])))
                            " " button.link type="submit" name="_action" value={ "goto:" (pg) } formnovalidate { (c.t("fill.change")) }
                        }
                        @let heading = d.page_titles.get(*pg).cloned().unwrap_or_default();
                        dl.review {
                            @for line in lines {
                                // The page's own title is the heading already.
                                dt { @for ctxl in line.context.iter().skip(usize::from(line.context.first() == Some(&heading))) { span.muted { (ctxl) " › " } } (line.label) }
                                dd { @if line.answer.is_empty() { span.muted { "—" } } @else { (line.answer) } }
                            }
                        }
                    }
                    @if d.mode == "edit" {
                        div.q {
                            label for="reason" { (c.t("fill.reason")) " " abbr.req title=(c.t("fill.required")) { "*" } }
                            span.hint { (c.t("fill.reason_help")) }
                            textarea #reason name="_reason" rows="3" required {}
                        }
                    }
                }
                div.nav {
                    @if page_no.is_some_and(|n| n > 0) || page_no.is_none() {
                        button.secondary type="submit" name="_action" value="prev" formnovalidate { (c.t("fill.previous")) }
                    }
                    @if page_no.is_some() {
                        button type="submit" name="_action" value="next" { (c.t("fill.next")) }
                    } @else {
                        button type="submit" name="_action" value="send" {
                            @if d.mode == "test" { (c.t("fill.check")) } @else { (c.t("fill.send")) }
                        }
                    }
                    button.secondary type="submit" name="_action" value="save" formnovalidate { (c.t("fill.save")) }
                    @if page_no.is_some() {
                        button.link type="submit" name="_action" value="refresh" formnovalidate { (c.t("fill.refresh")) }
                    }
                }
                details.discard {
                    summary { (c.t("fill.discard")) }
                    p { (c.t("fill.discard_help")) }
                    button.danger type="submit" name="_action" value="discard" formnovalidate { (c.t("fill.discard_confirm")) }
                }
            }
            // Optional: refreshes the page when an answer changes what it shows, and fills
            // geopoints from the device. Everything works without it.
            script src="/-/static/fill.js" defer {}
        },
    )
}

/// Shows a draft at its place.
#[allow(clippy::too_many_arguments)]
fn render(
    ctx: &Ctx,
    state: &mut FillState,
    flang: Option<&str>,
    problems: &[Problem],
    notice: Option<Notice>,
    error: Option<String>,
    urls: (String, String),
    status: StatusCode,
) -> Response {
    use axum::response::IntoResponse;
    let honeypot = state.mode == FillMode::Public;
    let mut data = build_data(ctx, state, flang, problems, notice, urls.0, urls.1);
    data.error = error;
    if status == StatusCode::OK {
        respond(ctx, &data, || fill_markup(ctx, &data, honeypot))
    } else if ctx.format() == crate::ctx::Format::Json {
        let mut res = (status, axum::Json(&data)).into_response();
        res.extensions_mut().insert(crate::middleware::Rendered);
        res
    } else {
        form_again(status, fill_markup(ctx, &data, honeypot))
    }
}

/// What a post did, as a response: a redirect to the draft's new place, or the page again with
/// its problems or notice.
async fn after_post(
    ctx: &Ctx,
    owner: &FillOwner<'_>,
    mut state: FillState,
    post: FillPost,
    flang: Option<&str>,
    urls: (String, String),
    done_url: &(dyn Fn(&FillState, &str) -> String + Send + Sync),
) -> WebResult<Response> {
    let core = &ctx.state.core;
    let lang = form_lang(ctx, &state.model, flang);
    let action = parse_action(&post.action())
        .ok_or_else(|| WebError::code(ErrorCode::InvalidForm).with_detail("raw:unknown _action"))?;
    match action {
        ActionOrSend::Discard => {
            core.discard_fill(&state).await?;
            Ok(see_other(&urls.1))
        }
        ActionOrSend::Send => {
            // The review page posts no answers; a send from a page first takes that page.
            if let At::Page(_) = state.at {
                let step = core
                    .fill_step(
                        owner,
                        &mut state,
                        &lang,
                        &post.pairs,
                        &post.uploads,
                        &Action::Refresh,
                    )
                    .await?;
                let _ = step;
            }
            let honeypot = !post.get(HONEYPOT).is_empty();
            let client = ctx.client.ip.clone().unwrap_or_default();
            match core
                .fill_send(
                    owner,
                    &mut state,
                    &lang,
                    post.get("_reason"),
                    honeypot,
                    &client,
                )
                .await
            {
                Ok(Sent::Problems(problems)) => Ok(render(
                    ctx,
                    &mut state,
                    flang,
                    &problems,
                    Some(Notice::Problems),
                    None,
                    urls,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )),
                Ok(Sent::Stored { instance_id }) => Ok(see_other(&done_url(&state, &instance_id))),
                Ok(Sent::Tested { xml }) => Ok(tested_page(ctx, &state, &xml, &urls.1)),
                Err(baraza_core::CoreError::Invalid {
                    field: "reason", ..
                }) => {
                    state.at = At::Review;
                    Ok(render(
                        ctx,
                        &mut state,
                        flang,
                        &[],
                        None,
                        Some(ctx.t("fill.reason_missing").to_owned()),
                        urls,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ))
                }
                Err(e) => Err(e.into()),
            }
        }
        ActionOrSend::Step(a) => {
            let step = core
                .fill_step(owner, &mut state, &lang, &post.pairs, &post.uploads, &a)
                .await?;
            if step.problems.is_empty() && step.notice.is_none() {
                return Ok(see_other(&with_flang(&urls.0, flang)));
            }
            let status = if step.problems.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(render(
                ctx,
                &mut state,
                flang,
                &step.problems,
                step.notice,
                None,
                urls,
                status,
            ))
        }
    }
}

fn tested_page(ctx: &Ctx, state: &FillState, xml: &str, back: &str) -> Response {
    #[derive(Serialize)]
    struct Tested<'a> {
        ok: bool,
        tested: bool,
        xml: &'a str,
    }
    let data = Tested {
        ok: true,
        tested: true,
        xml,
    };
    respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        layout(
            &c,
            &state.version.title,
            html! {
                p.muted { a href=(back) { (state.version.title) } }
                h1 { (c.t("fill.tested_title")) }
                p.notice role="status" { (c.t("fill.tested")) }
                details { summary { (c.t("fill.tested_xml")) } pre.xml { (xml) } }
                p { a.button href={ (back) "/fill" } { (c.t("fill.again")) } }
            },
        )
    })
}

// ----- members -----------------------------------------------------------------------------

fn form_url(g: &ProjectGuard<crate::ctx::SubmitData>, form: &str) -> String {
    format!(
        "{}/forms/{form}",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )
}

#[derive(Serialize)]
struct OverviewData {
    project: ProjectView,
    xml_form_id: String,
    title: String,
    mode: &'static str,
    drafts: Vec<DraftView>,
    sent: Option<String>,
    start_url: String,
}

#[derive(Serialize)]
struct DraftView {
    url: String,
    started: String,
    updated: String,
    edit_of: Option<String>,
}

/// `GET …/forms/{form}/fill`: start filling, or take up a draft.
pub async fn overview(
    g: ProjectGuard<crate::ctx::SubmitData>,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<FillQuery>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let id = params
        .get("form")
        .cloned()
        .ok_or_else(WebError::not_found)?;
    let (form, version, mode, drafts) = ctx
        .state
        .core
        .fill_overview(&g.access, &ctx.principal, &id)
        .await?;
    let url = form_url(&g, &form.xml_form_id);
    let data = OverviewData {
        project: ProjectView::from_access(&g.access),
        xml_form_id: form.xml_form_id.clone(),
        title: version.title.clone(),
        mode: mode_name(&mode),
        drafts: drafts
            .iter()
            .map(|d| DraftView {
                url: format!("{url}/fill/{}", d.id),
                started: iso(d.created_at),
                updated: iso(d.updated_at),
                edit_of: d.edit_of.clone(),
            })
            .collect(),
        sent: q.sent.filter(|s| s.len() < 100),
        start_url: format!("{url}/fill"),
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        layout(
            &c,
            &format!("{} · {}", c.t("fill.title"), data.title),
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } " › " a href=(url) { (data.title) } }
                h1 { (c.t("fill.title")) " · " (data.title) }
                @if let Some(s) = &data.sent {
                    p.notice role="status" { (c.t("fill.sent")) " " code { (s) } }
                }
                @if data.mode == "test" { p.notice { (c.t("fill.test_mode")) } }
                form method="post" action=(data.start_url) {
                    (csrf_field(c.csrf))
                    button type="submit" { (c.t("fill.start")) }
                }
                @if !data.drafts.is_empty() {
                    h2 { (c.t("fill.drafts")) }
                    ul {
                        @for d in &data.drafts {
                            li {
                                a href=(d.url) {
                                    @if d.edit_of.is_some() { (c.t("fill.draft_edit")) } @else { (c.t("fill.draft")) }
                                    " · " (d.updated.get(..16).unwrap_or(""))
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

/// `POST …/forms/{form}/fill`: a new draft.
pub async fn start(
    g: ProjectGuard<crate::ctx::SubmitData>,
    Path(params): Path<HashMap<String, String>>,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let id = params
        .get("form")
        .cloned()
        .ok_or_else(WebError::not_found)?;
    let draft = g
        .ctx
        .state
        .core
        .start_fill(&g.access, &g.ctx.principal, &id)
        .await?;
    Ok(see_other(&format!(
        "{}/fill/{}",
        form_url(&g, &id),
        draft.id
    )))
}

fn draft_urls(g: &ProjectGuard<crate::ctx::SubmitData>, state: &FillState) -> (String, String) {
    let url = form_url(g, &state.form.xml_form_id);
    (format!("{url}/fill/{}", state.draft.id), url)
}

/// `GET …/forms/{form}/fill/{draft}`: the draft at its place.
pub async fn page(
    g: ProjectGuard<crate::ctx::SubmitData>,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<FillQuery>,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let draft = params.get("draft").ok_or_else(WebError::not_found)?;
    let owner = FillOwner::Account {
        access: &g.access,
        principal: &ctx.principal,
    };
    let mut state = ctx.state.core.open_fill(&owner, draft).await?;
    if params.get("form") != Some(&state.form.xml_form_id) {
        return Err(WebError::not_found());
    }
    let urls = draft_urls(&g, &state);
    Ok(render(
        ctx,
        &mut state,
        q.flang.as_deref(),
        &[],
        None,
        None,
        urls,
        StatusCode::OK,
    ))
}

/// `POST …/forms/{form}/fill/{draft}`: a page's answers and the button pressed.
pub async fn post(
    g: ProjectGuard<crate::ctx::SubmitData>,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<FillQuery>,
    post: FillPost,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let draft = params.get("draft").ok_or_else(WebError::not_found)?;
    let owner = FillOwner::Account {
        access: &g.access,
        principal: &ctx.principal,
    };
    let state = ctx.state.core.open_fill(&owner, draft).await?;
    if params.get("form") != Some(&state.form.xml_form_id) {
        return Err(WebError::not_found());
    }
    let urls = draft_urls(&g, &state);
    let base = urls.1.clone();
    let done = move |s: &FillState, instance: &str| match s.mode {
        FillMode::Edit { .. } => format!(
            "{base}/submissions/{}",
            crate::middleware::url_encode(instance)
        ),
        _ => format!(
            "{base}/fill?sent={}",
            crate::middleware::url_encode(instance)
        ),
    };
    after_post(ctx, &owner, state, post, q.flang.as_deref(), urls, &done).await
}

/// `POST …/submissions/{instance}/edit`: a draft to correct a record.
pub async fn start_edit(
    g: ProjectGuard<crate::ctx::EditData>,
    Path(params): Path<HashMap<String, String>>,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let id = params
        .get("form")
        .cloned()
        .ok_or_else(WebError::not_found)?;
    let instance = params.get("instance").ok_or_else(WebError::not_found)?;
    let draft = g
        .ctx
        .state
        .core
        .start_edit(&g.access, &g.ctx.principal, &id, instance)
        .await?;
    Ok(see_other(&format!(
        "{}/forms/{id}/fill/{}",
        project_url(&g.access.org.slug, &g.access.project.slug),
        draft.id
    )))
}

// ----- public links ------------------------------------------------------------------------

#[derive(Serialize)]
struct PublicData {
    title: String,
    xml_form_id: String,
    sent: bool,
    start_url: String,
}

/// `GET /f/{token}`: a form's public page.
pub async fn public_intro(
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<FillQuery>,
) -> WebResult<Response> {
    let public = ctx.state.core.public_form(&token).await?;
    let data = PublicData {
        title: public.version.title.clone(),
        xml_form_id: public.form.xml_form_id.clone(),
        sent: q.sent.is_some(),
        start_url: format!("/f/{token}"),
    };
    Ok(respond(&ctx, &data, || {
        let c = Chrome::from_ctx(&ctx);
        layout(
            &c,
            &data.title,
            html! {
                h1 { (data.title) }
                @if data.sent { p.notice role="status" { (c.t("fill.public_thanks")) } }
                p { (c.t("fill.public_intro")) }
                form method="post" action=(data.start_url) {
                    (csrf_field(c.csrf))
                    button type="submit" { @if data.sent { (c.t("fill.public_another")) } @else { (c.t("fill.start")) } }
                }
            },
        )
    }))
}

/// `POST /f/{token}`: a new anonymous draft, held by a cookie.
pub async fn public_start(
    ctx: Ctx,
    Path(token): Path<String>,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<super::orgs::Empty>,
) -> WebResult<Response> {
    let client = ctx.client.ip.clone().unwrap_or_default();
    let (draft, secret) = ctx.state.core.start_public_fill(&token, &client).await?;
    let mut res = see_other(&format!("/f/{token}/{}", draft.id));
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(
            PUBLIC_COOKIE,
            &secret,
            Some(3 * 24 * 3600),
            ctx.state.settings.secure_cookies,
        ),
    );
    Ok(res)
}

fn public_secret(headers: &axum::http::HeaderMap) -> WebResult<String> {
    cookie(headers, PUBLIC_COOKIE)
        .map(str::to_owned)
        .ok_or_else(WebError::not_found)
}

/// `GET /f/{token}/{draft}`.
pub async fn public_page(
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path((token, draft)): Path<(String, String)>,
    Query(q): Query<FillQuery>,
) -> WebResult<Response> {
    let secret = public_secret(&headers)?;
    let owner = FillOwner::Public {
        token: &token,
        secret: &secret,
    };
    let mut state = ctx.state.core.open_fill(&owner, &draft).await?;
    let urls = (format!("/f/{token}/{draft}"), format!("/f/{token}"));
    Ok(render(
        &ctx,
        &mut state,
        q.flang.as_deref(),
        &[],
        None,
        None,
        urls,
        StatusCode::OK,
    ))
}

/// `POST /f/{token}/{draft}`.
pub async fn public_post(
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Path((token, draft)): Path<(String, String)>,
    Query(q): Query<FillQuery>,
    post: FillPost,
) -> WebResult<Response> {
    let secret = public_secret(&headers)?;
    let owner = FillOwner::Public {
        token: &token,
        secret: &secret,
    };
    let state = ctx.state.core.open_fill(&owner, &draft).await?;
    let urls = (format!("/f/{token}/{draft}"), format!("/f/{token}"));
    let t = token.clone();
    let done = move |_: &FillState, _: &str| format!("/f/{t}?sent=1");
    after_post(&ctx, &owner, state, post, q.flang.as_deref(), urls, &done).await
}

/// `POST …/forms/{form}/public-link`: turn a form's public link on (new) or off.
pub async fn set_public_link(
    g: ProjectGuard<crate::ctx::ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    crate::ctx::CsrfForm(f): crate::ctx::CsrfForm<PublicLinkForm>,
) -> WebResult<Response> {
    let id = params
        .get("form")
        .cloned()
        .ok_or_else(WebError::not_found)?;
    let on = match f.public.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Err(
                WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.public_link")
            )
        }
    };
    g.ctx.state.core.set_public_link(&g.access, &id, on).await?;
    Ok(see_other(&format!(
        "{}/forms/{id}",
        project_url(&g.access.org.slug, &g.access.project.slug)
    )))
}

#[derive(Deserialize)]
pub struct PublicLinkForm {
    public: String,
}
