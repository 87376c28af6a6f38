//! Writing a [`Form`] as an ODK XForm, the way pyxform does: the primary instance, secondary
//! instances for choice lists, binds, itext translations, and the body's controls.

use crate::model::*;
use crate::refs::{substitute, Paths};
use std::collections::HashMap;

/// A small XML writer: indented, escaped.
struct Xml {
    out: String,
    depth: usize,
}

pub fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;").replace('\n', "&#10;")
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn attrs(&mut self, attrs: &[(&str, String)]) {
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape_attr(v));
            self.out.push('"');
        }
    }

    fn open(&mut self, tag: &str, attrs: &[(&str, String)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, tag: &str, attrs: &[(&str, String)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push_str("/>\n");
    }

    /// `<tag attrs>text</tag>`, with `raw` already-escaped markup as content.
    fn leaf_raw(&mut self, tag: &str, attrs: &[(&str, String)], raw: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push('>');
        self.out.push_str(raw);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, tag: &str, attrs: &[(&str, String)], text: &str) {
        let t = escape_text(text);
        self.leaf_raw(tag, attrs, &t);
    }
}

/// The context a text or expression is written in.
struct Ctx<'a> {
    form: &'a Form,
    paths: Paths,
    /// For each question name, the questions whose `trigger` names it.
    triggered: HashMap<&'a str, Vec<&'a Question>>,
}

impl Ctx<'_> {
    fn root(&self) -> &str {
        &self.form.root
    }

    fn path(&self, name: &str) -> String {
        let root = self.root();
        self.paths
            .absolute(root, name)
            .unwrap_or_else(|| format!("/{root}/{name}"))
    }

    /// An expression of element `source` with its references resolved.
    fn expr(&self, source: Option<&str>, src: &str) -> String {
        substitute(src, &|n| match self.paths.from(self.root(), source, n) {
            _ if n.starts_with("last-saved#") => {
                let target = &n["last-saved#".len()..];
                format!(" instance('__last-saved'){} ", self.path(target))
            }
            Some((p, _)) => format!(" {p} "),
            None => format!("${{{n}}}"),
        })
    }

    /// A choice filter: references inside a shared repeat go through `current()`.
    fn filter(&self, source: &str, src: &str) -> String {
        substitute(
            src,
            &|n| match self.paths.from(self.root(), Some(source), n) {
                Some((p, true)) => format!(" current()/{p} "),
                Some((p, false)) => format!(" {p} "),
                None => format!("${{{n}}}"),
            },
        )
    }

    /// A label or hint, escaped, with `${name}` as `<output value="…"/>`.
    fn text(&self, source: Option<&str>, src: &str) -> String {
        let mut out = String::new();
        let mut rest = src;
        while let Some(start) = rest.find("${") {
            out.push_str(&escape_text(&rest[..start]));
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    let name = after[..end].trim();
                    let p = self
                        .paths
                        .from(self.root(), source, name)
                        .map(|x| x.0)
                        .unwrap_or_else(|| name.to_owned());
                    out.push_str(&format!("<output value=\" {} \"/>", escape_attr(&p)));
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&escape_text(&rest[start..]));
                    rest = "";
                }
            }
        }
        out.push_str(&escape_text(rest));
        out
    }
}

/// An entry of the itext block: id, then (language, form, text) values.
struct ItextEntry {
    id: String,
    source: Option<String>,
    texts: Vec<(Option<&'static str>, LangText)>,
}

fn media(t: &Texts) -> Vec<(Option<&'static str>, LangText)> {
    let mut v = Vec::new();
    for (form, lt) in [
        ("image", &t.image),
        ("big-image", &t.big_image),
        ("audio", &t.audio),
        ("video", &t.video),
    ] {
        if !lt.is_empty() {
            v.push((Some(form), lt.clone()));
        }
    }
    v
}

fn media_prefix(form: &str) -> &'static str {
    match form {
        "audio" => "jr://audio/",
        "video" => "jr://video/",
        _ => "jr://images/",
    }
}

/// Whether an element's label goes through itext, and whether its hint does.
fn label_itext(t: &Texts) -> bool {
    t.label.translated() || t.has_media()
}

fn hint_itext(t: &Texts) -> bool {
    t.hint.translated() || !t.guidance_hint.is_empty()
}

/// Writes the XForm of a checked form.
pub fn write(form: &Form) -> String {
    let questions = form.questions();
    let mut triggered: HashMap<&str, Vec<&Question>> = HashMap::new();
    for t in &questions {
        if let Some(trigger) = &t.trigger {
            for name in crate::refs::names_in(trigger) {
                if let Some(source) = questions.iter().find(|q| q.name == name) {
                    triggered.entry(source.name.as_str()).or_default().push(t);
                }
            }
        }
    }
    let cx = Ctx {
        form,
        paths: Paths::of(form),
        triggered,
    };
    let mut x = Xml {
        out: String::from("<?xml version=\"1.0\"?>\n"),
        depth: 0,
    };
    x.open(
        "h:html",
        &[
            ("xmlns", "http://www.w3.org/2002/xforms".into()),
            ("xmlns:h", "http://www.w3.org/1999/xhtml".into()),
            ("xmlns:ev", "http://www.w3.org/2001/xml-events".into()),
            ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema".into()),
            ("xmlns:jr", "http://openrosa.org/javarosa".into()),
            ("xmlns:orx", "http://openrosa.org/xforms".into()),
            ("xmlns:odk", "http://www.opendatakit.org/xforms".into()),
        ],
    );
    x.open("h:head", &[]);
    x.leaf("h:title", &[], &form.title);
    x.open("model", &[("odk:xforms-version", "1.0.0".into())]);
    write_submission(&mut x, form);
    write_itext(&mut x, &cx);
    x.open("instance", &[]);
    let mut root_attrs = vec![("id", form.id.clone())];
    if let Some(v) = &form.version {
        root_attrs.push(("version", v.clone()));
    }
    let root = form.root.as_str();
    x.open(root, &root_attrs);
    write_instance(&mut x, &form.children, Copy::Top);
    let audit = form.questions().iter().any(|q| q.qtype == QType::Audit);
    if audit || !form.omit_instance_id || form.instance_name.is_some() {
        x.open("meta", &[]);
        if audit {
            x.empty("audit", &[]);
        }
        if !form.omit_instance_id {
            x.empty("instanceID", &[]);
        }
        if form.instance_name.is_some() {
            x.empty("instanceName", &[]);
        }
        x.close("meta");
    }
    x.close(root);
    x.close("instance");
    write_secondary(&mut x, form);
    write_binds(&mut x, &cx, &form.children, &format!("/{root}"));
    for q in form.questions() {
        if q.qtype == QType::Audit {
            let mut attrs = vec![
                ("nodeset", format!("/{root}/meta/audit")),
                ("type", "binary".into()),
            ];
            for (k, v) in &q.parameters {
                attrs.push((param_attr(k), v.clone()));
            }
            x.empty("bind", &attrs);
        }
    }
    if !form.omit_instance_id {
        x.empty(
            "bind",
            &[
                ("nodeset", format!("/{root}/meta/instanceID")),
                ("type", "string".into()),
                ("readonly", "true()".into()),
                ("jr:preload", "uid".into()),
            ],
        );
    }
    if let Some(name) = &form.instance_name {
        x.empty(
            "bind",
            &[
                ("nodeset", format!("/{root}/meta/instanceName")),
                ("type", "string".into()),
                ("calculate", cx.expr(None, name)),
            ],
        );
    }
    x.close("model");
    x.close("h:head");
    let mut body_attrs = Vec::new();
    if let Some(style) = &form.style {
        body_attrs.push(("class", style.clone()));
    }
    x.open("h:body", &body_attrs);
    write_body(
        &mut x,
        &cx,
        &form.children,
        false,
        &format!("/{}", form.root),
    );
    x.close("h:body");
    x.close("h:html");
    x.out
}

/// Whether a repeat's count needs a generated `NAME_count` node (pyxform makes one unless the
/// count is a plain `${reference}`).
fn count_node(g: &Group) -> bool {
    match g.repeat_count.as_deref().map(str::trim) {
        None => false,
        Some(c) => !(c.starts_with("${") && c.ends_with('}') && c.matches("${").count() == 1),
    }
}

/// Whether a default is an expression to evaluate (pyxform's "dynamic default").
fn dynamic_default(d: &str) -> bool {
    d.contains("${")
        || d.contains('(')
        || d.contains(" + ")
        || d.contains(" - ")
        || d.contains(" * ")
        || d.contains(" div ")
}

/// The `<submission>` element: encryption key, submission URL, auto-send and auto-delete.
fn write_submission(x: &mut Xml, form: &Form) {
    let mut attrs = Vec::new();
    if form.public_key.is_some() || form.submission_url.is_some() {
        if let Some(url) = &form.submission_url {
            attrs.push(("action", url.clone()));
        }
        attrs.push(("method", "post".into()));
        if let Some(key) = &form.public_key {
            attrs.push(("base64RsaPublicKey", key.clone()));
        }
    }
    if let Some(v) = &form.auto_send {
        attrs.push(("orx:auto-send", v.clone()));
    }
    if let Some(v) = &form.auto_delete {
        attrs.push(("orx:auto-delete", v.clone()));
    }
    if !attrs.is_empty() {
        x.empty("submission", &attrs);
    }
}

fn param_attr(k: &str) -> &'static str {
    match k {
        "location-priority" => "odk:location-priority",
        "location-min-interval" => "odk:location-min-interval",
        "location-max-age" => "odk:location-max-age",
        "track-changes" => "odk:track-changes",
        "identify-user" => "odk:identify-user",
        "track-changes-reasons" => "odk:track-changes-reasons",
        _ => "odk:unknown",
    }
}

/// Which copy of a repeat is being written: at the top level a repeat has a template and a
/// first instance; inside a template, only templates; inside an instance, only instances.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Copy {
    Top,
    Template,
    Plain,
}

fn write_instance(x: &mut Xml, nodes: &[Node], copy: Copy) {
    for n in nodes {
        match n {
            Node::Question(q) => {
                if q.qtype == QType::Audit {
                    continue;
                }
                match q.default.as_deref().filter(|d| !dynamic_default(d)) {
                    Some(d) => x.leaf(&q.name, &[], d.trim()),
                    None => x.empty(&q.name, &[]),
                }
                if q.or_other {
                    x.empty(&format!("{}_other", q.name), &[]);
                }
            }
            Node::Group(g) => {
                if g.repeat && count_node(g) {
                    x.empty(&format!("{}_count", g.name), &[]);
                }
                if g.repeat {
                    if copy != Copy::Plain {
                        x.open(&g.name, &[("jr:template", String::new())]);
                        write_instance(x, &g.children, Copy::Template);
                        x.close(&g.name);
                    }
                    if copy != Copy::Template {
                        x.open(&g.name, &[]);
                        write_instance(x, &g.children, Copy::Plain);
                        x.close(&g.name);
                    }
                } else {
                    x.open(&g.name, &[]);
                    write_instance(x, &g.children, copy);
                    x.close(&g.name);
                }
            }
        }
    }
}

/// Every choice list (pyxform writes unused ones too), in sheet order, with whether a select
/// adds `other` to it.
fn used_lists(form: &Form) -> Vec<(String, bool)> {
    form.lists
        .iter()
        .map(|l| {
            let other = form
                .questions()
                .iter()
                .any(|q| q.or_other && q.list.as_deref() == Some(l.name.as_str()));
            (l.name.clone(), other)
        })
        .collect()
}

fn list_itext(list: &ChoiceList) -> bool {
    list.choices.iter().any(|c| {
        c.texts.label.translated()
            || c.texts.has_media()
            || c.texts.label.0.iter().any(|(_, v)| v.contains("${"))
    })
}

fn write_secondary(x: &mut Xml, form: &Form) {
    for (name, or_other) in used_lists(form) {
        let Some(list) = form.list(&name) else {
            continue;
        };
        let itext = list_itext(list);
        x.open("instance", &[("id", name.clone())]);
        x.open("root", &[]);
        let write_item = |x: &mut Xml,
                          i: usize,
                          c_name: &str,
                          label: Option<&str>,
                          extra: &[(String, String)]| {
            x.open("item", &[]);
            if itext {
                x.leaf("itextId", &[], &format!("{name}-{i}"));
                x.leaf("name", &[], c_name);
            } else {
                x.leaf("name", &[], c_name);
                x.leaf("label", &[], label.unwrap_or(""));
            }
            for (k, v) in extra {
                x.leaf(k, &[], v);
            }
            x.close("item");
        };
        for (i, c) in list.choices.iter().enumerate() {
            write_item(x, i, &c.name, c.texts.label.any(), &c.extra);
        }
        if or_other {
            write_item(x, list.choices.len(), "other", Some("Other"), &[]);
        }
        x.close("root");
        x.close("instance");
    }
    let mut files: Vec<String> = Vec::new();
    for q in form.questions() {
        if matches!(
            q.qtype,
            QType::SelectOneFromFile | QType::SelectMultipleFromFile
        ) {
            if let Some(f) = &q.list {
                if !files.contains(f) {
                    files.push(f.clone());
                }
            }
        }
    }
    let texts: Vec<&str> = form
        .questions()
        .iter()
        .flat_map(|q| {
            [
                &q.calculation,
                &q.relevant,
                &q.constraint,
                &q.default,
                &q.choice_filter,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
        })
        .collect();
    if texts.iter().any(|t| t.contains("${last-saved#")) {
        x.empty(
            "instance",
            &[
                ("id", "__last-saved".into()),
                ("src", "jr://instance/last-saved".into()),
            ],
        );
    }
    for f in files {
        let (stem, ext) = f.rsplit_once('.').unwrap_or((&f, "csv"));
        let src = match ext {
            "csv" => format!("jr://file-csv/{f}"),
            _ => format!("jr://file/{f}"),
        };
        x.empty("instance", &[("id", stem.to_owned()), ("src", src)]);
    }
    // pulldata('name', …) reads name.csv, which must be declared as an instance.
    let mut pulled: Vec<String> = Vec::new();
    for t in &texts {
        let mut rest = *t;
        while let Some(at) = rest.find("pulldata(") {
            rest = &rest[at + "pulldata(".len()..];
            let arg = rest.trim_start();
            if let Some(q) = arg.chars().next().filter(|c| *c == '\'' || *c == '"') {
                if let Some(end) = arg[1..].find(q) {
                    let name = arg[1..1 + end].to_owned();
                    if !pulled.contains(&name) {
                        pulled.push(name);
                    }
                }
            }
        }
    }
    for name in pulled {
        x.empty(
            "instance",
            &[
                ("id", name.clone()),
                ("src", format!("jr://file-csv/{name}.csv")),
            ],
        );
    }
}

fn write_itext(x: &mut Xml, cx: &Ctx<'_>) {
    let form = cx.form;
    let mut entries: Vec<ItextEntry> = Vec::new();
    for (name, or_other) in used_lists(form) {
        let Some(list) = form.list(&name) else {
            continue;
        };
        if !list_itext(list) {
            continue;
        }
        for (i, c) in list.choices.iter().enumerate() {
            let mut texts = vec![(None, c.texts.label.clone())];
            texts.extend(media(&c.texts));
            entries.push(ItextEntry {
                id: format!("{name}-{i}"),
                source: None,
                texts,
            });
        }
        if or_other {
            let mut other = LangText::default();
            for l in &form.languages {
                other.set(l, "Other".into());
            }
            entries.push(ItextEntry {
                id: format!("{name}-{}", list.choices.len()),
                source: None,
                texts: vec![(None, other)],
            });
        }
    }
    fn walk(nodes: &[Node], entries: &mut Vec<ItextEntry>, parent: &str) {
        for n in nodes {
            let (name, t) = match n {
                Node::Question(q) => (q.name.as_str(), &q.texts),
                Node::Group(g) => (g.name.as_str(), &g.texts),
            };
            let path = format!("{parent}/{name}");
            if label_itext(t) {
                let mut texts = vec![(None, t.label.clone())];
                texts.extend(media(t));
                entries.push(ItextEntry {
                    id: format!("{path}:label"),
                    source: Some(name.to_owned()),
                    texts,
                });
            }
            if hint_itext(t) {
                let mut texts = Vec::new();
                if !t.hint.is_empty() {
                    texts.push((None, t.hint.clone()));
                }
                if !t.guidance_hint.is_empty() {
                    texts.push((Some("guidance"), t.guidance_hint.clone()));
                }
                entries.push(ItextEntry {
                    id: format!("{path}:hint"),
                    source: Some(name.to_owned()),
                    texts,
                });
            }
            if message_itext(&t.constraint_message) {
                entries.push(ItextEntry {
                    id: format!("{path}:jr:constraintMsg"),
                    source: Some(name.to_owned()),
                    texts: vec![(None, t.constraint_message.clone())],
                });
            }
            if message_itext(&t.required_message) {
                entries.push(ItextEntry {
                    id: format!("{path}:jr:requiredMsg"),
                    source: Some(name.to_owned()),
                    texts: vec![(None, t.required_message.clone())],
                });
            }
            if let Node::Group(g) = n {
                walk(&g.children, entries, &path);
            }
        }
    }
    walk(&form.children, &mut entries, &format!("/{}", form.root));
    if entries.is_empty() {
        return;
    }
    let mut langs = form.languages.clone();
    if langs.is_empty() {
        langs.push("default".into());
    }
    x.open("itext", &[]);
    for lang in &langs {
        let mut attrs = vec![("lang", lang.clone())];
        let is_default = match form.default_language.as_deref() {
            Some(d) => d == lang,
            None => lang == "default",
        };
        if is_default {
            attrs.push(("default", "true()".into()));
        }
        x.open("translation", &attrs);
        for e in &entries {
            x.open("text", &[("id", e.id.clone())]);
            for (form_kind, lt) in &e.texts {
                let value = lt.get(lang).or_else(|| lt.get("default"));
                match form_kind {
                    Some(media_form @ ("image" | "big-image" | "audio" | "video")) => {
                        if let Some(v) = value {
                            x.leaf(
                                "value",
                                &[("form", (*media_form).to_owned())],
                                &format!("{}{v}", media_prefix(media_form)),
                            );
                        }
                    }
                    Some(kind) => {
                        let v = value.unwrap_or("-");
                        x.leaf_raw(
                            "value",
                            &[("form", (*kind).to_owned())],
                            &cx.text(e.source.as_deref(), v),
                        );
                    }
                    None if lt.is_empty() => {}
                    None => {
                        let v = value.unwrap_or("-");
                        x.leaf_raw("value", &[], &cx.text(e.source.as_deref(), v));
                    }
                }
            }
            x.close("text");
        }
        x.close("translation");
    }
    x.close("itext");
}

fn preload(q: QType) -> Option<(&'static str, &'static str)> {
    use QType::*;
    Some(match q {
        Start => ("timestamp", "start"),
        End => ("timestamp", "end"),
        Today => ("date", "today"),
        DeviceId => ("property", "deviceid"),
        Username => ("property", "username"),
        PhoneNumber => ("property", "phonenumber"),
        Email => ("property", "email"),
        SimSerial => ("property", "simserial"),
        SubscriberId => ("property", "subscriberid"),
        _ => return None,
    })
}

fn write_binds(x: &mut Xml, cx: &Ctx<'_>, nodes: &[Node], parent: &str) {
    for n in nodes {
        match n {
            Node::Question(q) => {
                if q.qtype == QType::Audit {
                    continue;
                }
                let name = q.name.as_str();
                let qpath = format!("{parent}/{name}");
                let src = Some(name);
                let mut attrs: Vec<(&str, String)> = vec![("nodeset", qpath.clone())];
                if let Some((kind, params)) = preload(q.qtype) {
                    attrs.push(("jr:preload", kind.into()));
                    attrs.push(("jr:preloadParams", params.into()));
                }
                let bind_type = if q.qtype == QType::Range
                    && q.parameters.iter().any(|(k, v)| {
                        matches!(k.as_str(), "start" | "end" | "step") && v.contains('.')
                    }) {
                    "decimal"
                } else {
                    q.qtype.bind_type()
                };
                attrs.push(("type", bind_type.into()));
                if q.qtype == QType::Note {
                    attrs.push(("readonly", "true()".into()));
                }
                if let Some(r) = &q.required {
                    attrs.push((
                        "required",
                        if r == "true()" {
                            r.clone()
                        } else {
                            cx.expr(src, r)
                        },
                    ));
                    if !q.texts.required_message.is_empty() {
                        attrs.push((
                            "jr:requiredMsg",
                            message(&qpath, &q.texts.required_message, "jr:requiredMsg"),
                        ));
                    }
                }
                if let Some(r) = &q.relevant {
                    attrs.push(("relevant", cx.expr(src, r)));
                }
                if let Some(c) = &q.constraint {
                    attrs.push(("constraint", cx.expr(src, c)));
                    if !q.texts.constraint_message.is_empty() {
                        attrs.push((
                            "jr:constraintMsg",
                            message(&qpath, &q.texts.constraint_message, "jr:constraintMsg"),
                        ));
                    }
                }
                if let Some(c) = q.calculation.as_ref().filter(|_| q.trigger.is_none()) {
                    attrs.push(("calculate", cx.expr(src, c)));
                }
                if let Some(r) = &q.readonly {
                    if q.qtype != QType::Note {
                        attrs.push((
                            "readonly",
                            if r == "true()" {
                                r.clone()
                            } else {
                                cx.expr(src, r)
                            },
                        ));
                    }
                }
                if q.qtype == QType::Image {
                    if let Some((_, v)) = q.parameters.iter().find(|(k, _)| k == "max-pixels") {
                        attrs.push(("orx:max-pixels", v.clone()));
                    }
                }
                if matches!(q.qtype, QType::Audio | QType::BackgroundAudio) {
                    if let Some((_, v)) = q.parameters.iter().find(|(k, _)| k == "quality") {
                        attrs.push(("odk:quality", v.clone()));
                    }
                }
                x.empty("bind", &attrs);
                match q.qtype {
                    QType::StartGeopoint => x.empty(
                        "odk:setgeopoint",
                        &[
                            ("ref", qpath.clone()),
                            ("event", "odk-instance-first-load".into()),
                        ],
                    ),
                    QType::BackgroundAudio => x.empty(
                        "odk:recordaudio",
                        &[
                            ("ref", qpath.clone()),
                            ("event", "odk-instance-load".into()),
                        ],
                    ),
                    _ => {}
                }
                if let Some(d) = q.default.as_deref().filter(|d| dynamic_default(d)) {
                    x.empty(
                        "setvalue",
                        &[
                            ("ref", qpath.clone()),
                            ("event", "odk-instance-first-load".into()),
                            ("value", cx.expr(src, d)),
                        ],
                    );
                }
                if q.or_other {
                    x.empty(
                        "bind",
                        &[
                            ("nodeset", format!("{}_other", qpath.clone())),
                            ("type", "string".into()),
                            ("relevant", format!("selected(../{name}, 'other')")),
                        ],
                    );
                }
            }
            Node::Group(g) => {
                let gpath = format!("{parent}/{}", g.name);
                if g.repeat && count_node(g) {
                    if let Some(c) = &g.repeat_count {
                        let path = gpath.clone();
                        let (parent, _) = path.rsplit_once('/').unwrap_or(("", ""));
                        x.empty(
                            "bind",
                            &[
                                ("nodeset", format!("{parent}/{}_count", g.name)),
                                ("type", "string".into()),
                                ("readonly", "true()".into()),
                                ("calculate", cx.expr(Some(&g.name), c)),
                            ],
                        );
                    }
                }
                if let Some(r) = &g.relevant {
                    x.empty(
                        "bind",
                        &[
                            ("nodeset", gpath.clone()),
                            ("relevant", cx.expr(Some(&g.name), r)),
                        ],
                    );
                }
                write_binds(x, cx, &g.children, &gpath);
            }
        }
    }
}

/// Whether a constraint or required message goes through itext (translated, or showing values).
fn message_itext(t: &LangText) -> bool {
    t.translated() || t.0.iter().any(|(_, v)| v.contains("${"))
}

/// A constraint or required message: inline, or a reference to its itext entry.
fn message(path: &str, t: &LangText, kind: &str) -> String {
    if message_itext(t) {
        format!("jr:itext('{path}:{kind}')")
    } else {
        t.any().unwrap_or("").to_owned()
    }
}

fn write_label_hint(
    x: &mut Xml,
    cx: &Ctx<'_>,
    path: &str,
    name: &str,
    t: &Texts,
    always_label: bool,
) {
    if label_itext(t) {
        x.empty("label", &[("ref", format!("jr:itext('{path}:label')"))]);
    } else if let Some(l) = t.label.any() {
        x.leaf_raw("label", &[], &cx.text(Some(name), l));
    } else if always_label {
        x.empty("label", &[]);
    }
    if hint_itext(t) {
        x.empty("hint", &[("ref", format!("jr:itext('{path}:hint')"))]);
    } else if let Some(h) = t.hint.any() {
        x.leaf_raw("hint", &[], &cx.text(Some(name), h));
    }
}

fn write_body(x: &mut Xml, cx: &Ctx<'_>, nodes: &[Node], in_repeat: bool, parent: &str) {
    for n in nodes {
        match n {
            Node::Question(q) => {
                write_control(x, cx, q, in_repeat, &format!("{parent}/{}", q.name))
            }
            Node::Group(g) => {
                let path = format!("{parent}/{}", g.name);
                let mut attrs = vec![("ref", path.clone())];
                if !g.repeat {
                    if let Some(a) = &g.appearance {
                        attrs.push(("appearance", a.clone()));
                    }
                }
                x.open("group", &attrs);
                write_label_hint(x, cx, &path, &g.name, &g.texts, g.repeat);
                if g.repeat {
                    let mut rattrs = vec![("nodeset", path.clone())];
                    if let Some(a) = &g.appearance {
                        rattrs.push(("appearance", a.clone()));
                    }
                    if let Some(c) = &g.repeat_count {
                        let count = if count_node(g) {
                            let (parent, _) = path.rsplit_once('/').unwrap_or(("", ""));
                            format!(" {parent}/{}_count ", g.name)
                        } else {
                            cx.expr(Some(&g.name), c)
                        };
                        rattrs.push(("jr:count", count));
                    }
                    x.open("repeat", &rattrs);
                    write_body(x, cx, &g.children, true, &path);
                    x.close("repeat");
                } else {
                    write_body(x, cx, &g.children, in_repeat, &path);
                }
                x.close("group");
            }
        }
    }
}

fn write_control(x: &mut Xml, cx: &Ctx<'_>, q: &Question, in_repeat: bool, path: &str) {
    use QType::*;
    write_control_only(x, cx, q, path);
    if in_repeat {
        if let Some(d) = q.default.as_deref().filter(|d| dynamic_default(d)) {
            x.empty(
                "setvalue",
                &[
                    ("ref", path.to_owned()),
                    ("event", "odk-new-repeat".into()),
                    ("value", cx.expr(Some(&q.name), d)),
                ],
            );
        }
    }
    let _ = Text;
}

fn write_control_only(x: &mut Xml, cx: &Ctx<'_>, q: &Question, path: &str) {
    use QType::*;
    if !q.qtype.has_control() {
        return;
    }
    // A computed question without any text is not shown (pyxform writes no control for it).
    let silent = q.texts.label.is_empty()
        && q.texts.hint.is_empty()
        && q.texts.guidance_hint.is_empty()
        && !q.texts.has_media();
    if silent && (q.calculation.is_some() || q.trigger.is_some()) {
        return;
    }
    let path = path.to_owned();
    let mut attrs: Vec<(&str, String)> = vec![("ref", path.clone())];
    let tag = match q.qtype {
        SelectOne | SelectOneFromFile => "select1",
        SelectMultiple | SelectMultipleFromFile => "select",
        Rank => "odk:rank",
        Image | Audio | Video | File => {
            attrs.push((
                "mediatype",
                match q.qtype {
                    Image => "image/*",
                    Audio => "audio/*",
                    Video => "video/*",
                    _ => "application/*",
                }
                .into(),
            ));
            "upload"
        }
        Range => {
            let p = |k: &str, d: &str| {
                q.parameters
                    .iter()
                    .find(|(x, _)| x == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| d.to_owned())
            };
            attrs.push(("start", p("start", "1")));
            attrs.push(("end", p("end", "10")));
            attrs.push(("step", p("step", "1")));
            "range"
        }
        Acknowledge => "trigger",
        SelectOneExternal => {
            let list = q.list.clone().unwrap_or_default();
            let mut query = format!("instance('{list}')/root/item");
            if let Some(f) = &q.choice_filter {
                query.push_str(&format!("[{}]", cx.filter(&q.name, f)));
            }
            attrs.push(("query", query));
            "input"
        }
        _ => "input",
    };
    if let Some(a) = &q.appearance {
        attrs.push(("appearance", a.clone()));
    }
    for (k, v) in &q.parameters {
        let attr = match (q.qtype, k.as_str()) {
            (Geopoint | Geotrace | Geoshape, "capture-accuracy") => "accuracyThreshold",
            (Geopoint | Geotrace | Geoshape, "warning-accuracy") => "unacceptableAccuracyThreshold",
            (Geopoint | Geotrace | Geoshape, "allow-mock-accuracy") => "odk:allow-mock-accuracy",
            (Geotrace | Geoshape, "incremental") => "incremental",
            (Text, "rows") => "rows",
            _ => continue,
        };
        attrs.push((attr, v.clone()));
    }
    x.open(tag, &attrs);
    write_label_hint(x, cx, &path, &q.name, &q.texts, true);
    if q.qtype.is_select() {
        let (instance, value, label) = match q.qtype {
            SelectOneFromFile | SelectMultipleFromFile => {
                let f = q.list.clone().unwrap_or_default();
                let stem = f.rsplit_once('.').map(|(s, _)| s.to_owned()).unwrap_or(f);
                let v = q
                    .parameters
                    .iter()
                    .find(|(k, _)| k == "value")
                    .map(|(_, v)| v.clone())
                    .unwrap_or("name".into());
                let l = q
                    .parameters
                    .iter()
                    .find(|(k, _)| k == "label")
                    .map(|(_, v)| v.clone())
                    .unwrap_or("label".into());
                (stem, v, l)
            }
            _ => {
                let list = q.list.clone().unwrap_or_default();
                let itext = cx.form.list(&list).is_some_and(list_itext);
                (
                    list,
                    "name".into(),
                    if itext {
                        "jr:itext(itextId)".into()
                    } else {
                        "label".into()
                    },
                )
            }
        };
        let mut nodeset = format!("instance('{instance}')/root/item");
        if let Some(f) = &q.choice_filter {
            nodeset.push_str(&format!("[{}]", cx.filter(&q.name, f)));
        }
        let randomize = q
            .parameters
            .iter()
            .find(|(k, _)| k == "randomize")
            .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"));
        if randomize {
            nodeset = match q.parameters.iter().find(|(k, _)| k == "seed") {
                Some((_, s)) => {
                    format!("randomize({nodeset}, {})", cx.expr(Some(&q.name), s).trim())
                }
                None => format!("randomize({nodeset})"),
            };
        }
        x.open("itemset", &[("nodeset", nodeset)]);
        x.empty("value", &[("ref", value)]);
        x.empty("label", &[("ref", label)]);
        x.close("itemset");
    }
    for t in cx.triggered.get(q.name.as_str()).into_iter().flatten() {
        x.empty(
            "setvalue",
            &[
                ("ref", cx.path(&t.name)),
                ("event", "xforms-value-changed".into()),
                (
                    "value",
                    t.calculation
                        .as_deref()
                        .map(|c| cx.expr(Some(&t.name), c))
                        .unwrap_or_default(),
                ),
            ],
        );
    }
    x.close(tag);
    if q.or_other {
        x.open("input", &[("ref", format!("{path}_other"))]);
        x.leaf("label", &[], "Specify other.");
        x.close("input");
    }
}
