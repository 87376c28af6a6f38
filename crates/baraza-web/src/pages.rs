//! Server-rendered pages (maud). No inline script or style: the CSP forbids them.
//!
//! Each page function takes the data its handler got from `baraza-core` and returns markup;
//! the same data, serialised, is the page's `.json` twin (see `handlers`).

use crate::ctx::{Ctx, ReqInfo, CSRF_FIELD};
use crate::i18n::{I18n, Lang};
use crate::AppState;
use baraza_store::User;
use baraza_types::ErrorCode;
use maud::{html, Markup, DOCTYPE};

/// What the page frame needs: language, who is signed in, the CSRF token for its forms.
pub struct Chrome<'a> {
    pub i18n: &'a I18n,
    pub lang: Lang,
    pub user: Option<&'a User>,
    pub csrf: &'a str,
    pub path: &'a str,
    pub version: &'a str,
}

impl Chrome<'_> {
    pub fn t<'b>(&'b self, key: &'b str) -> &'b str {
        self.i18n.t(self.lang, key)
    }

    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.i18n.tf(self.lang, key, args)
    }
}

impl<'a> Chrome<'a> {
    pub fn from_ctx(ctx: &'a Ctx) -> Chrome<'a> {
        Chrome {
            i18n: &ctx.state.i18n,
            lang: ctx.lang(),
            user: ctx.user(),
            csrf: ctx.csrf_token(),
            path: &ctx.info.original_path,
            version: ctx.state.settings.version,
        }
    }
}

/// A number with fixed decimals as the reader writes it (`2,67` in French).
pub fn decimal(lang: Lang, v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

/// A decimal amount kept as text (`1250000.50`, `-300`) with its thousands grouped and the
/// locale's decimal mark (`1 250 000,50` in French, `1,250,000.50` in English); never through
/// a float. Text that is not such an amount is shown as it is.
pub fn amount(lang: Lang, s: &str) -> String {
    let (sign, digits) = s.strip_prefix('-').map_or(("", s), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let (group, mark) = match lang {
        Lang::Fr => ('\u{202f}', ','),
        Lang::En => (',', '.'),
    };
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(mark);
        out.push_str(frac);
    }
    out
}

/// The hidden CSRF field every POST form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// The `.json` twin of a page path.
pub fn json_twin(path: &str) -> String {
    if path == "/" {
        "/index.json".to_owned()
    } else if path.ends_with(".json") {
        path.to_owned()
    } else {
        format!("{path}.json")
    }
}

/// The frame of every page.
pub fn layout(c: &Chrome<'_>, title: &str, body: Markup) -> Markup {
    let twin = json_twin(c.path);
    html! {
        (DOCTYPE)
        html lang=(c.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Baraza" }
                link rel="stylesheet" href="/-/static/baraza.css";
                link rel="icon" href="/-/static/favicon.svg" type="image/svg+xml";
                link rel="alternate" type="application/json" href=(twin);
            }
            body {
                a.skip href="#main" { (c.t("nav.skip")) }
                header.top {
                    a.brand href="/" { "Baraza" }
                    nav aria-label=(c.t("nav.label")) {
                        a href="/orgs" { (c.t("nav.orgs")) }
                        a href="/catalogue" { (c.t("nav.catalogue")) }
                        a href="/learn" { (c.t("nav.learn")) }
                        a href="/census" { (c.t("nav.census")) }
                        @if let Some(u) = c.user {
                            a href="/account" { (u.name) }
                            form.inline method="post" action="/logout" {
                                (csrf_field(c.csrf))
                                button.link type="submit" { (c.t("nav.logout")) }
                            }
                        } @else {
                            a href={ "/login?next=" (crate::middleware::url_encode(c.path)) } { (c.t("nav.login")) }
                        }
                    }
                    form.lang.inline method="post" action="/-/lang" {
                        (csrf_field(c.csrf))
                        input type="hidden" name="next" value=(c.path);
                        @for l in Lang::ALL {
                            @if l == c.lang {
                                button type="submit" name="lang" value=(l.code()) aria-pressed="true" lang=(l.code()) { (l.native_name()) }
                            } @else {
                                button type="submit" name="lang" value=(l.code()) aria-pressed="false" lang=(l.code()) { (l.native_name()) }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer {
                    p {
                        (c.t("footer.tagline")) " · Baraza " (c.version) " · "
                        a href=(twin) rel="alternate" type="application/json" { "JSON" }
                    }
                }
            }
        }
    }
}

/// The error page, rendered by the edge middleware from the request's facts alone.
pub fn error_page(
    state: &AppState,
    info: &ReqInfo,
    status: u16,
    code: ErrorCode,
    message: &str,
) -> Markup {
    let c = Chrome {
        i18n: &state.i18n,
        lang: info.lang,
        user: None,
        csrf: &info.pre_csrf,
        path: &info.original_path,
        version: state.settings.version,
    };
    let title_key = format!("error.title.{status}");
    let title = c.i18n.t(c.lang, &title_key);
    let title = if title.starts_with("error.title.") {
        c.t("error.title.default")
    } else {
        title
    };
    layout(
        &c,
        title,
        html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            @if status >= 500 {
                p { (c.t("error.request_id")) " " code { (info.request_id) } }
            }
            p.muted { (c.t("error.code")) " " code { (code.as_str()) } " · HTTP " (status) }
            p { a href="/" { (c.t("error.home")) } }
        },
    )
}

/// Formats Unix seconds as an ISO 8601 date and time in UTC.
pub fn iso(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Formats Unix seconds as an ISO 8601 date.
/// An instant to the minute, as registers and reports print it: `2026-09-18 09:30 UTC`.
pub fn when(ts: i64) -> String {
    let t = iso(ts);
    format!(
        "{} {} UTC",
        t.get(..10).unwrap_or(""),
        t.get(11..16).unwrap_or("")
    )
}

pub fn iso_date(ts: i64) -> String {
    iso(ts).chars().take(10).collect()
}

/// A message shown at the top of a form after a failed submission.
pub fn form_error(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.error role="alert" { (m) }
        }
    }
}
