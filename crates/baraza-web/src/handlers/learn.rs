//! The learning zone: guides in French and English, written for Baraza, embedded in the binary
//! as Markdown (`crates/baraza-web/guides/{en,fr}/<slug>.md`), rendered on the server,
//! searchable with accents and case folded, and linked from the screens they explain.
//!
//! Raw HTML in a guide never reaches the page: it is shown as text (the CSP forbids inline
//! scripts and styles, and a guide must be safe whoever writes it).

use super::respond;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::pages::{layout, Chrome};
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use baraza_catalogue::fold::words;
use maud::{html, Markup, PreEscaped};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::sync::OnceLock;

/// The guides, in the order the list shows them. Each exists in both languages.
pub const SLUGS: [&str; 6] = [
    "collecting-well",
    "consent-and-responsible-data",
    "disclosure-control",
    "open-licences",
    "reading-sdg-indicators",
    "using-the-apis",
];

macro_rules! guide_sources {
    ($($slug:literal),* $(,)?) => {
        &[
            $(
                ("en", $slug, include_str!(concat!("../../guides/en/", $slug, ".md"))),
                ("fr", $slug, include_str!(concat!("../../guides/fr/", $slug, ".md"))),
            )*
        ]
    };
}

/// (language, slug, Markdown) of every guide, read at compile time.
const SOURCES: &[(&str, &str, &str)] = guide_sources!(
    "collecting-well",
    "consent-and-responsible-data",
    "disclosure-control",
    "open-licences",
    "reading-sdg-indicators",
    "using-the-apis",
);

/// The longest snippet a search result shows, in characters.
const SNIPPET_CHARS: usize = 220;

/// One guide in one language.
#[derive(Debug, Clone, Serialize)]
pub struct Guide {
    pub slug: &'static str,
    pub title: String,
    pub summary: String,
    /// Everything after the `# Title` line (the summary included).
    pub body_markdown: String,
    pub lang: &'static str,
    /// The folded words of the title, for search.
    #[serde(skip)]
    title_words: Vec<String>,
    /// The text of each block (paragraph, heading, item…), for snippets.
    #[serde(skip)]
    blocks: Vec<String>,
    /// The folded words of each block.
    #[serde(skip)]
    block_words: Vec<Vec<String>>,
}

impl Guide {
    fn parse(lang: &'static str, slug: &'static str, source: &str) -> Guide {
        let source = source.trim_start_matches('\u{feff}');
        let (first, rest) = source.split_once('\n').unwrap_or((source, ""));
        let title = first.trim().trim_start_matches('#').trim().to_string();
        let body_markdown = rest.trim_start_matches(['\n', '\r']).to_string();
        let summary = body_markdown
            .split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let blocks = plain_blocks(&body_markdown);
        let block_words = blocks.iter().map(|b| words(b)).collect();
        Guide {
            slug,
            title_words: words(&title),
            title,
            summary,
            body_markdown,
            lang,
            blocks,
            block_words,
        }
    }

    /// The guide's body as HTML (raw HTML in the Markdown shown as text).
    pub fn html(&self) -> String {
        render(&self.body_markdown)
    }

    pub fn url(&self) -> String {
        format!("/learn/{}", self.slug)
    }
}

/// Every guide in both languages, parsed once.
pub fn guides() -> &'static [Guide] {
    static GUIDES: OnceLock<Vec<Guide>> = OnceLock::new();
    GUIDES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, slug, src)| Guide::parse(lang, slug, src))
            .collect()
    })
}

/// One guide in one language.
pub fn guide(lang: Lang, slug: &str) -> Option<&'static Guide> {
    guides()
        .iter()
        .find(|g| g.slug == slug && g.lang == lang.code())
}

/// The guides of one language, in the order of `SLUGS`.
pub fn in_language(lang: Lang) -> impl Iterator<Item = &'static Guide> {
    SLUGS.iter().filter_map(move |s| guide(lang, s))
}

/// Markdown to HTML. `Event::Html` and `Event::InlineHtml` become text (escaped); an HTML block
/// becomes a paragraph; links and images to `javascript:`, `data:` or `vbscript:` go nowhere.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    if ["javascript:", "data:", "vbscript:"]
        .iter()
        .any(|s| scheme.starts_with(s))
    {
        CowStr::Borrowed("#")
    } else {
        url
    }
}

/// The text of each block of a Markdown document (paragraphs, headings, items, cells).
fn plain_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut cur = String::new();
    for e in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match e {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                cur.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak => cur.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock,
            ) => {
                let b = cur.split_whitespace().collect::<Vec<_>>().join(" ");
                if !b.is_empty() {
                    blocks.push(b);
                }
                cur.clear();
            }
            _ => {}
        }
    }
    blocks
}

/// A word of the query matches a word of the text when it begins it ("licen" finds "licences").
fn matches(doc: &[String], q: &str) -> usize {
    doc.iter().filter(|w| w.starts_with(q)).count()
}

/// A guide found by a search.
#[derive(Debug, Serialize)]
pub struct Hit {
    pub slug: &'static str,
    pub title: String,
    pub summary: String,
    pub url: String,
    pub snippet: String,
    pub score: usize,
}

/// The guides of `lang` in which every word of `q` occurs (accents and case folded), title hits
/// first, then by how often the words occur.
pub fn search(lang: Lang, q: &str) -> Vec<Hit> {
    let terms = words(q);
    if terms.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(usize, usize, Hit)> = Vec::new();
    for g in in_language(lang) {
        let mut title_hits = 0;
        let mut body_hits = 0;
        let mut all = true;
        for t in &terms {
            let th = matches(&g.title_words, t);
            let bh: usize = g.block_words.iter().map(|b| matches(b, t)).sum();
            if th + bh == 0 {
                all = false;
                break;
            }
            title_hits += th;
            body_hits += bh;
        }
        if !all {
            continue;
        }
        // The first block holding most of the query's words.
        let best = g
            .block_words
            .iter()
            .enumerate()
            .max_by_key(|(i, b)| {
                let n = terms.iter().filter(|t| matches(b, t) > 0).count();
                (n, std::cmp::Reverse(*i))
            })
            .map(|(i, _)| i);
        let snippet = best
            .and_then(|i| g.blocks.get(i))
            .map(|b| shorten(b, SNIPPET_CHARS))
            .unwrap_or_default();
        hits.push((
            title_hits,
            body_hits,
            Hit {
                slug: g.slug,
                title: g.title.clone(),
                summary: g.summary.clone(),
                url: g.url(),
                snippet,
                score: title_hits * 10 + body_hits,
            },
        ));
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    hits.into_iter().map(|(_, _, h)| h).collect()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

/// The query string's `q` and `lang`.
fn query(raw: Option<&str>) -> (String, Option<Lang>) {
    let pairs: Vec<(String, String)> = raw
        .and_then(|r| serde_urlencoded::from_str(r).ok())
        .unwrap_or_default();
    let q = pairs
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let lang = pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::from_code(v));
    (q, lang)
}

#[derive(Serialize)]
struct ListItem {
    slug: &'static str,
    title: String,
    summary: String,
    url: String,
}

#[derive(Serialize)]
struct ListData {
    lang: &'static str,
    q: String,
    count: usize,
    guides: Vec<ListItem>,
    results: Vec<Hit>,
}

/// `GET /learn`: the guides in the reader's language, and a search (`q`).
pub async fn index(ctx: Ctx, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let (q, lang) = query(raw.as_deref());
    let lang = lang.unwrap_or_else(|| ctx.lang());
    let guides: Vec<ListItem> = in_language(lang)
        .map(|g| ListItem {
            slug: g.slug,
            title: g.title.clone(),
            summary: g.summary.clone(),
            url: g.url(),
        })
        .collect();
    let results = search(lang, &q);
    let data = ListData {
        lang: lang.code(),
        count: if q.is_empty() {
            guides.len()
        } else {
            results.len()
        },
        q,
        guides,
        results,
    };
    Ok(respond(&ctx, &data, || list_page(&ctx, &data)))
}

fn list_page(ctx: &Ctx, data: &ListData) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let count = data.results.len().to_string();
    let found = ctx.tf("learn.found", &[("count", &count), ("q", &data.q)]);
    layout(
        &c,
        ctx.t("learn.title"),
        html! {
            h1 { (ctx.t("learn.title")) }
            p.lead { (ctx.t("learn.intro")) }
            form.search method="get" action="/learn" role="search" {
                label for="learn-q" { (ctx.t("learn.search_label")) }
                " "
                input #learn-q type="search" name="q" value=(data.q);
                " "
                button type="submit" { (ctx.t("learn.search")) }
            }
            @if data.q.is_empty() {
                ul.guides lang=(data.lang) {
                    @for g in &data.guides {
                        li {
                            a href=(g.url) { strong { (g.title) } }
                            br;
                            span.muted { (g.summary) }
                        }
                    }
                }
            } @else {
                p { (found) }
                @if data.results.is_empty() {
                    p.muted { (ctx.t("learn.none")) " " a href="/learn" { (ctx.t("learn.all")) } }
                } @else {
                    ol.results lang=(data.lang) {
                        @for h in &data.results {
                            li {
                                a href=(h.url) { strong { (h.title) } }
                                br;
                                span.muted { (h.snippet) }
                            }
                        }
                    }
                    p { a href="/learn" { (ctx.t("learn.all")) } }
                }
            }
        },
    )
}

/// "Guide: …", the link a screen gives to the guide that explains it.
pub(crate) fn guide_link(c: &Chrome<'_>, slug: &str) -> Markup {
    let title = guide(c.lang, slug)
        .map(|g| g.title.as_str())
        .unwrap_or(slug);
    html! {
        p.muted.guide-link { (c.t("learn.guide")) " " a href={ "/learn/" (slug) } { (title) } }
    }
}

#[derive(Serialize)]
struct OtherLanguage {
    lang: &'static str,
    title: String,
    url: String,
}

#[derive(Serialize)]
struct GuideData<'a> {
    guide: &'a Guide,
    html: String,
    other_language: OtherLanguage,
}

/// `GET /learn/{slug}`: one guide, in the reader's language (or `?lang=`), with a link to the
/// other language's version.
pub async fn guide_page(
    ctx: Ctx,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let (_, lang) = query(raw.as_deref());
    let lang = lang.unwrap_or_else(|| ctx.lang());
    let g =
        guide(lang, &slug).ok_or_else(|| WebError::not_found().with_detail("not_found.guide"))?;
    let other = match lang {
        Lang::En => Lang::Fr,
        Lang::Fr => Lang::En,
    };
    let o = guide(other, &slug).ok_or_else(WebError::not_found)?;
    let data = GuideData {
        guide: g,
        html: g.html(),
        other_language: OtherLanguage {
            lang: other.code(),
            title: o.title.clone(),
            url: format!("/learn/{}?lang={}", o.slug, other.code()),
        },
    };
    Ok(respond(&ctx, &data, || guide_view(&ctx, &data)))
}

fn guide_view(ctx: &Ctx, data: &GuideData<'_>) -> Markup {
    let c = Chrome::from_ctx(ctx);
    let g = data.guide;
    let other = Lang::from_code(data.other_language.lang).unwrap_or(Lang::En);
    layout(
        &c,
        &g.title,
        html! {
            p.muted { a href="/learn" { (ctx.t("learn.title")) } }
            article.guide lang=(g.lang) {
                h1 { (g.title) }
                (PreEscaped(&data.html))
            }
            p.muted {
                (ctx.t("learn.other_language")) " "
                a href=(data.other_language.url) hreflang=(data.other_language.lang) lang=(data.other_language.lang) {
                    (data.other_language.title) " (" (other.native_name()) ")"
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guide_exists_in_both_languages() {
        for lang in Lang::ALL {
            let slugs: Vec<_> = in_language(lang).map(|g| g.slug).collect();
            assert_eq!(slugs, SLUGS, "{lang:?}");
        }
        assert_eq!(guides().len(), SLUGS.len() * 2);
        for g in guides() {
            assert!(!g.title.is_empty(), "{} {}", g.lang, g.slug);
            assert!(!g.summary.is_empty(), "{} {}", g.lang, g.slug);
            assert!(!g.summary.starts_with('#'), "{} {}", g.lang, g.slug);
            let n = words(&g.body_markdown).len();
            assert!(
                (250..=1200).contains(&n),
                "{} {}: {n} words",
                g.lang,
                g.slug
            );
            assert!(!g.html().contains("<script"), "{} {}", g.lang, g.slug);
        }
    }

    #[test]
    fn the_sources_start_with_a_title() {
        for (lang, slug, src) in SOURCES {
            assert!(src.starts_with("# "), "{lang}/{slug}.md");
        }
    }

    #[test]
    fn raw_html_is_escaped() {
        let html = render(
            "Hello <script>alert(1)</script> world\n\n<div onclick=\"x()\">block</div>\n\n<style>p{}</style>\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(!html.contains("<style"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("&lt;div onclick"), "{html}");
        let links = render("[x](javascript:alert(1)) [y]( JaVaScRiPt:alert(1)) [z](/learn)");
        assert!(!links.to_lowercase().contains("javascript:"), "{links}");
        assert!(links.contains("href=\"/learn\""), "{links}");
    }

    #[test]
    fn markdown_is_rendered() {
        let html =
            render("## Part\n\nSome *text* and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h2>Part</h2>"), "{html}");
        assert!(html.contains("<em>text</em>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn search_folds_accents_and_case() {
        for lang in Lang::ALL {
            for q in ["licence", "LICENCE", "licénce"] {
                let hits = search(lang, q);
                assert_eq!(
                    hits.first().map(|h| h.slug),
                    Some("open-licences"),
                    "{lang:?} {q}"
                );
            }
        }
        let fr = search(Lang::Fr, "données");
        assert!(!fr.is_empty());
        assert_eq!(search(Lang::Fr, "DONNEES").len(), fr.len());
        assert!(fr.iter().all(|h| !h.snippet.is_empty()));
        assert!(search(Lang::En, "").is_empty());
        assert!(search(Lang::En, "zzzyxw").is_empty());
    }

    #[test]
    fn title_hits_come_first() {
        let hits = search(Lang::En, "indicators");
        assert_eq!(hits.first().map(|h| h.slug), Some("reading-sdg-indicators"));
        let hits = search(Lang::Fr, "consentement");
        assert_eq!(
            hits.first().map(|h| h.slug),
            Some("consent-and-responsible-data")
        );
    }

    #[test]
    fn snippets_are_short() {
        let s = shorten(&"mot ".repeat(200), 50);
        assert!(s.chars().count() <= 51);
        assert!(s.ends_with('…'));
    }
}
