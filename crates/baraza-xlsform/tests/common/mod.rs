//! Helpers shared by the test binaries.
#![allow(dead_code)]

use std::fmt::Write as _;

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn prefix(ns: Option<&str>) -> &'static str {
    match ns {
        Some("http://www.w3.org/1999/xhtml") => "h:",
        Some("http://openrosa.org/javarosa") => "jr:",
        Some("http://openrosa.org/xforms") => "orx:",
        Some("http://www.opendatakit.org/xforms") => "odk:",
        Some("http://www.w3.org/2001/xml-events") => "ev:",
        _ => "",
    }
}

/// A canonical text form of an XForm's structure.
pub fn canonical(xml: &str) -> Result<String, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    let mut out = String::new();
    fn node(n: roxmltree::Node, depth: usize, out: &mut String) {
        let name = format!(
            "{}{}",
            prefix(n.tag_name().namespace()),
            n.tag_name().name()
        );
        let mut attrs: Vec<String> = n
            .attributes()
            .map(|a| {
                format!(
                    "{}{}={:?}",
                    prefix(a.namespace()),
                    a.name(),
                    collapse(a.value())
                )
            })
            .collect();
        attrs.sort();
        let mut line = format!("{}{} {}", "  ".repeat(depth), name, attrs.join(" "));
        let text: String = n
            .children()
            .filter(|c| c.is_text())
            .map(|c| c.text().unwrap_or(""))
            .collect();
        let text = collapse(&text);
        if !text.is_empty() {
            let _ = write!(line, " = {text:?}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
        let children: Vec<roxmltree::Node> = n.children().filter(|c| c.is_element()).collect();
        let unordered = matches!(name.as_str(), "model" | "translation");
        if unordered && name == "model" {
            // Keep instances and itext in order, binds as a set.
            let mut binds = Vec::new();
            for c in &children {
                if c.tag_name().name() == "bind" {
                    let mut s = String::new();
                    node(*c, depth + 1, &mut s);
                    binds.push(s);
                } else {
                    node(*c, depth + 1, out);
                }
            }
            binds.sort();
            for b in binds {
                out.push_str(&b);
            }
        } else if unordered {
            let mut texts: Vec<String> = children
                .iter()
                .map(|c| {
                    let mut s = String::new();
                    node(*c, depth + 1, &mut s);
                    s
                })
                .collect();
            texts.sort();
            for t in texts {
                out.push_str(&t);
            }
        } else {
            for c in children {
                node(c, depth + 1, out);
            }
        }
    }
    node(doc.root_element(), 0, &mut out);
    Ok(out)
}
