//! New and changed datasets as an Atom 1.0 feed (RFC 4287).
//!
//! Journalists, partner portals and feed readers follow the catalogue through this feed: one
//! entry per dataset, newest change first. An entry's `id` is permanent (RFC 4287 §4.2.6): the
//! dataset's UUID as `urn:uuid:…` when its id is one, else the dataset's URL, so that a renamed
//! title is the same entry, updated. `updated` is the dataset's last change and `published` its
//! creation; the `summary` is the description as plain text, cut at 500 characters; the
//! organisation is the author; each tag is a `category`.
//!
//! Everything written is XML-escaped, and characters XML 1.0 cannot carry are dropped.

use crate::dcat::{dataset_uri, organisation_uri};
use crate::time::iso_timestamp;
use baraza_catalogue::Dataset;
use std::fmt::Write as _;

/// The longest summary, in characters (the cut one ends with `…` within it).
pub const SUMMARY_CHARS: usize = 500;

/// The feed of `entries` (sorted here, newest change first), last updated at `updated`.
pub fn feed(base: &str, title: &str, self_url: &str, entries: &[&Dataset], updated: i64) -> String {
    let base = base.trim_end_matches('/');
    let mut sorted: Vec<&Dataset> = entries.to_vec();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.modified));

    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    element(&mut out, 2, "id", self_url);
    element(&mut out, 2, "title", title);
    element(&mut out, 2, "updated", &iso_timestamp(updated));
    link(&mut out, 2, "self", self_url, Some("application/atom+xml"));
    link(
        &mut out,
        2,
        "alternate",
        &format!("{base}/"),
        Some("text/html"),
    );
    out.push_str("  <generator>Baraza</generator>\n");
    for d in sorted {
        entry(&mut out, base, d);
    }
    out.push_str("</feed>\n");
    out
}

/// Whether `s` is a UUID in its 8-4-4-4-12 hex form.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn entry(out: &mut String, base: &str, d: &Dataset) {
    let url = dataset_uri(base, d);
    out.push_str("  <entry>\n");
    let id = if is_uuid(&d.id) {
        format!("urn:uuid:{}", d.id.to_ascii_lowercase())
    } else {
        url.clone()
    };
    element(out, 4, "id", &id);
    element(out, 4, "title", &d.title);
    element(out, 4, "updated", &iso_timestamp(d.modified));
    element(out, 4, "published", &iso_timestamp(d.created));
    link(out, 4, "alternate", &url, Some("text/html"));
    out.push_str("    <author>\n");
    element(out, 6, "name", &d.organisation.title);
    element(out, 6, "uri", &organisation_uri(base, &d.organisation.name));
    out.push_str("    </author>\n");
    if !d.notes.trim().is_empty() {
        let _ = write!(out, "    <summary type=\"text\">");
        text(out, &truncate(d.notes.trim(), SUMMARY_CHARS));
        out.push_str("</summary>\n");
    }
    for tag in &d.tags {
        out.push_str("    <category term=\"");
        attr(out, tag);
        out.push_str("\"/>\n");
    }
    out.push_str("  </entry>\n");
}

/// At most `max` characters, the last one `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

fn element(out: &mut String, indent: usize, name: &str, value: &str) {
    let _ = write!(out, "{:indent$}<{name}>", "");
    text(out, value);
    let _ = writeln!(out, "</{name}>");
}

fn link(out: &mut String, indent: usize, rel: &str, href: &str, media_type: Option<&str>) {
    let _ = write!(out, "{:indent$}<link rel=\"{rel}\" href=\"", "");
    attr(out, href);
    out.push('"');
    if let Some(t) = media_type {
        let _ = write!(out, " type=\"{t}\"");
    }
    out.push_str("/>\n");
}

fn allowed(c: char) -> bool {
    crate::dcat::xml_char(c)
}

pub(crate) fn text(out: &mut String, s: &str) {
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

pub(crate) fn attr(out: &mut String, s: &str) {
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcat::tests::{sample_dataset, HOSTILE};

    const ATOM: &str = "http://www.w3.org/2005/Atom";

    #[test]
    fn feed_parses_and_is_newest_first() {
        let old = sample_dataset("old-one", "Old");
        let mut new = sample_dataset("new-one", HOSTILE);
        new.id = "not-a-uuid".into();
        new.modified += 1000;
        new.notes = "é".repeat(600);
        new.tags.push("a&b \"c\"".into());
        let xml = feed(
            "https://data.example.org/",
            "Baraza <datasets> & more",
            "https://data.example.org/feeds/datasets.atom",
            &[&old, &new],
            1_790_200_000,
        );
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = doc.root_element();
        assert!(root.has_tag_name((ATOM, "feed")));
        let child = |n: roxmltree::Node<'_, '_>, name: &str| {
            n.children()
                .find(|c| c.has_tag_name((ATOM, name)))
                .and_then(|c| c.text())
                .map(str::to_string)
        };
        assert_eq!(
            child(root, "title").as_deref(),
            Some("Baraza <datasets> & more")
        );
        assert_eq!(
            child(root, "updated").as_deref(),
            Some(iso_timestamp(1_790_200_000).as_str())
        );
        let entries: Vec<_> = root
            .children()
            .filter(|c| c.has_tag_name((ATOM, "entry")))
            .collect();
        assert_eq!(entries.len(), 2);
        // Newest first; a non-UUID id falls back to the dataset's URL.
        assert_eq!(
            child(entries[0], "id").as_deref(),
            Some("https://data.example.org/dataset/new-one")
        );
        let cleaned: String = HOSTILE.chars().filter(|&c| allowed(c)).collect();
        assert_eq!(child(entries[0], "title"), Some(cleaned));
        let summary = child(entries[0], "summary").expect("summary");
        assert_eq!(summary.chars().count(), SUMMARY_CHARS);
        assert!(summary.ends_with('…'));
        let cats: Vec<_> = entries[0]
            .children()
            .filter(|c| c.has_tag_name((ATOM, "category")))
            .filter_map(|c| c.attribute("term"))
            .collect();
        assert_eq!(cats, ["eau", "water points", "a&b \"c\""]);
        assert_eq!(
            child(entries[1], "id").as_deref(),
            Some("urn:uuid:0b9a3c4e-6f1d-4d2a-9e8b-1c2d3e4f5a6b")
        );
        assert_eq!(
            child(entries[1], "published").as_deref(),
            Some("2026-09-21T14:13:20.000Z")
        );
        let alt = entries[1]
            .children()
            .find(|c| c.has_tag_name((ATOM, "link")))
            .and_then(|c| c.attribute("href"));
        assert_eq!(alt, Some("https://data.example.org/dataset/old-one"));
        let author = entries[1]
            .children()
            .find(|c| c.has_tag_name((ATOM, "author")))
            .expect("author");
        assert_eq!(child(author, "name").as_deref(), Some("Eau Tchad"));
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("0b9a3c4e-6f1d-4d2a-9e8b-1c2d3e4f5a6b"));
        assert!(!is_uuid("0b9a3c4e-6f1d-4d2a-9e8b-1c2d3e4f5a6"));
        assert!(!is_uuid("0b9a3c4e_6f1d-4d2a-9e8b-1c2d3e4f5a6b"));
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
    }
}
