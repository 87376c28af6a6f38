//! The XForm instance of a filling, as ODK Collect would submit it: the form's elements in the
//! order of the form, repeat instances in order, not-relevant answers left empty, and `meta`.

use crate::engine::{Engine, Env, Relevance};
use crate::index::Item;
use crate::record::Filling;
use baraza_xlsform::model::QType;
use baraza_xlsform::xform::escape_text;

/// The identity of the submission being written.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    /// `uuid:…`
    pub instance_id: &'a str,
    /// The instance this one replaces (an edit).
    pub deprecated_id: Option<&'a str>,
    /// The `end` metadata: `None` for now (`env.now`), or a given value (imports keep theirs,
    /// so that importing the same row twice writes the same bytes).
    pub end: Option<&'a str>,
}

/// Whether a repeat has a generated `NAME_count` node (pyxform's rule).
fn count_node(repeat_count: Option<&str>) -> bool {
    match repeat_count.map(str::trim) {
        None => false,
        Some(c) => !(c.starts_with("${") && c.ends_with('}') && c.matches("${").count() == 1),
    }
}

impl Engine<'_> {
    /// The submission XML. `end` metadata takes `env.now`.
    pub fn to_xml(&self, f: &Filling, rel: &Relevance, env: &Env, meta: &Meta<'_>) -> String {
        let form = self.form();
        let mut out = String::with_capacity(4096);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push('<');
        out.push_str(&form.root);
        out.push_str(" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\" id=\"");
        out.push_str(&baraza_xlsform::xform::escape_attr(&form.id));
        out.push('"');
        if let Some(v) = &form.version {
            out.push_str(" version=\"");
            out.push_str(&baraza_xlsform::xform::escape_attr(v));
            out.push('"');
        }
        out.push('>');
        self.write_level(&mut out, f, rel, env, meta, &self.idx.top, &[]);
        out.push_str("<meta><instanceID>");
        out.push_str(&escape_text(meta.instance_id));
        out.push_str("</instanceID>");
        if let Some(d) = meta.deprecated_id {
            out.push_str("<deprecatedID>");
            out.push_str(&escape_text(d));
            out.push_str("</deprecatedID>");
        }
        if form.instance_name.is_some() {
            if let Some(name) = self.instance_name(&f.answers, rel, env) {
                out.push_str("<instanceName>");
                out.push_str(&escape_text(&name));
                out.push_str("</instanceName>");
            }
        }
        out.push_str("</meta></");
        out.push_str(&form.root);
        out.push_str(">\n");
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn write_level(
        &self,
        out: &mut String,
        f: &Filling,
        rel: &Relevance,
        env: &Env,
        meta: &Meta<'_>,
        ids: &[usize],
        loc: &[usize],
    ) {
        for &id in ids {
            let def = self.idx.def(id);
            let name = def.name();
            match def.item {
                Item::Question(q) => {
                    let path = self.idx.path(id, loc);
                    let value = if rel.is_off(&path) {
                        ""
                    } else if q.qtype == QType::End {
                        match meta.end {
                            Some(e) => e,
                            None => env.now.as_str(),
                        }
                    } else {
                        f.answers.get(&self.idx, id, loc)
                    };
                    leaf(out, name, value);
                    if q.or_other {
                        let other = if rel.is_off(&path) {
                            ""
                        } else {
                            f.answers.get_extra(&self.idx, id, loc, "_other")
                        };
                        leaf(out, &format!("{name}_other"), other);
                    }
                }
                Item::Group(g) if g.repeat => {
                    let n = f.answers.count(&self.idx, id, loc);
                    if count_node(g.repeat_count.as_deref()) {
                        leaf(out, &format!("{name}_count"), &n.to_string());
                    }
                    for i in 0..n {
                        let mut inner = loc.to_vec();
                        inner.push(i);
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                        self.write_level(out, f, rel, env, meta, &def.children, &inner);
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                    }
                }
                Item::Group(_) => {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                    self.write_level(out, f, rel, env, meta, &def.children, loc);
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
}

fn leaf(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    if value.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        out.push_str(&escape_text(value));
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}
