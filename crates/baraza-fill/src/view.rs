//! Pages and what a page shows: a tree of widgets with their labels, answers, choices and
//! problems, ready for a template; and the review of all answers.

use crate::engine::{Engine, Env, Problem, Relevance};
use crate::index::Item;
use crate::record::Filling;
use baraza_xlsform::model::QType;
use serde::Serialize;

/// How a question is answered in a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Text,
    Multiline,
    Integer,
    Decimal,
    Range,
    Date,
    Time,
    DateTime,
    /// Radio buttons.
    SelectOne,
    /// A drop-down list (`minimal`).
    Dropdown,
    /// Check boxes.
    SelectMultiple,
    /// A number per choice giving its rank.
    Rank,
    Geopoint,
    /// Points as `lat lon; lat lon…` (geotrace, geoshape).
    Points,
    File,
    Acknowledge,
    /// A note: label and hint only.
    Note,
    /// Not answerable in a browser (e.g. `select_one_external`); shown as text input.
    Barcode,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChoiceView {
    pub name: String,
    pub label: String,
    pub selected: bool,
    /// For ranks: the choice's position (1-based) in the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
}

/// One thing a page shows. (Questions are the big variant and the common one: boxing them would
/// save nothing on pages of a few dozen widgets.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Widget {
    Question {
        /// The instance path: the name of the HTML input.
        path: String,
        name: String,
        control: Control,
        label: Option<String>,
        hint: Option<String>,
        value: String,
        required: bool,
        readonly: bool,
        choices: Vec<ChoiceView>,
        /// Accepted file types for files (`image/*`…).
        #[serde(skip_serializing_if = "Option::is_none")]
        accept: Option<&'static str>,
        /// For ranges: start, end, step.
        #[serde(skip_serializing_if = "Option::is_none")]
        range: Option<(String, String, String)>,
        /// `NAME_other`, when the select has `or_other` and `other` is chosen.
        #[serde(skip_serializing_if = "Option::is_none")]
        other: Option<String>,
        problems: Vec<ProblemView>,
        appearance: Option<String>,
        /// Other elements of the page depend on this answer.
        live: bool,
    },
    Group {
        path: String,
        label: Option<String>,
        children: Vec<Widget>,
    },
    Repeat {
        /// The repeat's path (where "add" puts a new instance).
        path: String,
        label: Option<String>,
        instances: Vec<Instance>,
        /// People add and remove instances (no count given by the form).
        manual: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub path: String,
    pub number: usize,
    pub children: Vec<Widget>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemView {
    pub kind: String,
    /// The form's own message, if it has one in the language shown.
    pub message: Option<String>,
    /// A detail: the expected type, or the choice that is not allowed.
    pub detail: Option<String>,
}

impl ProblemView {
    pub fn of(p: &Problem) -> ProblemView {
        use crate::engine::ProblemKind as K;
        let (kind, detail) = match &p.kind {
            K::Required => ("required", None),
            K::Constraint => ("constraint", None),
            K::Type(t) => ("type", Some((*t).to_owned())),
            K::NotAChoice(c) => ("not_a_choice", Some(c.clone())),
            K::BadRank => ("bad_rank", None),
            K::TooLong(n) => ("too_long", Some(n.to_string())),
        };
        ProblemView {
            kind: kind.to_owned(),
            message: p.message.clone(),
            detail,
        }
    }
}

/// One line of the review page.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewLine {
    pub page: usize,
    pub path: String,
    /// Labels of the groups and repeat instances around the question, outermost first.
    pub context: Vec<String>,
    pub label: String,
    pub answer: String,
}

fn control_of(qtype: QType, appearance: Option<&str>) -> Option<Control> {
    use QType::*;
    let app = appearance.unwrap_or("").to_ascii_lowercase();
    let minimal = app
        .split_whitespace()
        .any(|a| a == "minimal" || a == "autocomplete");
    Some(match qtype {
        Text if app.contains("multiline") => Control::Multiline,
        Text => Control::Text,
        Integer => Control::Integer,
        Decimal => Control::Decimal,
        Range => Control::Range,
        Date => Control::Date,
        Time => Control::Time,
        DateTime => Control::DateTime,
        SelectOne | SelectOneFromFile if minimal => Control::Dropdown,
        SelectOne | SelectOneFromFile => Control::SelectOne,
        SelectMultiple | SelectMultipleFromFile => Control::SelectMultiple,
        SelectOneExternal | Barcode => Control::Barcode,
        Rank => Control::Rank,
        Geopoint => Control::Geopoint,
        Geotrace | Geoshape => Control::Points,
        Image | Audio | Video | File => Control::File,
        Acknowledge => Control::Acknowledge,
        Note => Control::Note,
        _ => return None,
    })
}

fn accept_of(qtype: QType) -> Option<&'static str> {
    match qtype {
        QType::Image => Some("image/*"),
        QType::Audio => Some("audio/*"),
        QType::Video => Some("video/*"),
        _ => None,
    }
}

impl<'f> Engine<'f> {
    /// The pages of the form: each top-level group or repeat is a page; top-level questions
    /// that follow each other share one.
    pub fn pages(&self) -> Vec<Vec<usize>> {
        let mut pages: Vec<Vec<usize>> = Vec::new();
        let mut loose: Vec<usize> = Vec::new();
        for &id in &self.idx.top {
            match self.idx.def(id).item {
                Item::Group(_) => {
                    if !loose.is_empty() {
                        pages.push(std::mem::take(&mut loose));
                    }
                    pages.push(vec![id]);
                }
                Item::Question(_) => loose.push(id),
            }
        }
        if !loose.is_empty() {
            pages.push(loose);
        }
        // Pages without anything to show (only metadata and calculations) are dropped.
        pages.retain(|p| p.iter().any(|id| self.shows_anything(*id)));
        pages
    }

    fn shows_anything(&self, id: usize) -> bool {
        let def = self.idx.def(id);
        match def.item {
            Item::Question(q) => control_of(q.qtype, q.appearance.as_deref()).is_some(),
            Item::Group(_) => def.children.iter().any(|c| self.shows_anything(*c)),
        }
    }

    /// Whether a page has something relevant to show.
    pub fn page_visible(&self, f: &Filling, rel: &Relevance, page: &[usize]) -> bool {
        page.iter().any(|id| self.visible(f, rel, *id, &[]))
    }

    fn visible(&self, f: &Filling, rel: &Relevance, id: usize, loc: &[usize]) -> bool {
        let def = self.idx.def(id);
        match def.item {
            Item::Question(q) => {
                control_of(q.qtype, q.appearance.as_deref()).is_some()
                    && !rel.is_off(&self.idx.path(id, loc))
            }
            Item::Group(g) if g.repeat => {
                if rel.is_off(&self.idx.path(id, loc)) {
                    return false;
                }
                // A repeat people fill by hand shows even without instances (to add one).
                if self.repeat_is_manual(id) {
                    return true;
                }
                (0..f.answers.count(&self.idx, id, loc)).any(|i| {
                    let mut inner = loc.to_vec();
                    inner.push(i);
                    def.children
                        .iter()
                        .any(|c| self.visible(f, rel, *c, &inner))
                })
            }
            Item::Group(_) => {
                !rel.is_off(&self.idx.path(id, loc))
                    && def.children.iter().any(|c| self.visible(f, rel, *c, loc))
            }
        }
    }

    /// The widgets of a page.
    pub fn widgets(
        &self,
        f: &Filling,
        rel: &Relevance,
        env: &Env,
        page: &[usize],
        problems: &[Problem],
    ) -> Vec<Widget> {
        let live = self.live_questions(page);
        self.widgets_of(f, rel, env, page, &[], problems, &live)
    }

    #[allow(clippy::too_many_arguments)]
    fn widgets_of(
        &self,
        f: &Filling,
        rel: &Relevance,
        env: &Env,
        ids: &[usize],
        loc: &[usize],
        problems: &[Problem],
        live: &[usize],
    ) -> Vec<Widget> {
        let mut out = Vec::new();
        for &id in ids {
            let def = self.idx.def(id);
            let path = self.idx.path(id, loc);
            if rel.is_off(&path) {
                continue;
            }
            match def.item {
                Item::Question(q) => {
                    let Some(control) = control_of(q.qtype, q.appearance.as_deref()) else {
                        continue;
                    };
                    let rec = &f.answers;
                    let value = rec.get(&self.idx, id, loc).to_owned();
                    let picked: Vec<&str> = value.split_whitespace().collect();
                    let choices = if q.qtype.is_select() {
                        let list = if q.qtype == QType::Rank {
                            self.all_choices(q)
                        } else {
                            self.choices(rec, id, loc, rel, env)
                        };
                        list.into_iter()
                            .map(|c| ChoiceView {
                                name: c.name.clone(),
                                label: self.choice_label(c),
                                selected: picked.contains(&c.name.as_str()),
                                rank: (q.qtype == QType::Rank)
                                    .then(|| {
                                        picked.iter().position(|p| *p == c.name).map(|i| i + 1)
                                    })
                                    .flatten(),
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let range = (q.qtype == QType::Range).then(|| {
                        let p = |k: &str, d: &str| {
                            q.parameters
                                .iter()
                                .find(|(n, _)| n == k)
                                .map(|(_, v)| v.clone())
                                .unwrap_or_else(|| d.to_owned())
                        };
                        (p("start", "1"), p("end", "10"), p("step", "1"))
                    });
                    let other = (q.or_other && picked.contains(&"other"))
                        .then(|| rec.get_extra(&self.idx, id, loc, "_other").to_owned());
                    out.push(Widget::Question {
                        path: path.clone(),
                        name: q.name.clone(),
                        control,
                        label: self.label(rec, id, loc, rel),
                        hint: self.hint(rec, id, loc, rel),
                        value,
                        required: self.is_required(rec, id, loc, rel, env),
                        readonly: self.is_readonly(rec, id, loc, rel, env),
                        choices,
                        accept: accept_of(q.qtype),
                        range,
                        other,
                        problems: problems
                            .iter()
                            .filter(|p| p.path == path)
                            .map(ProblemView::of)
                            .collect(),
                        appearance: q.appearance.clone(),
                        live: live.contains(&id),
                    });
                }
                Item::Group(g) if g.repeat => {
                    let n = f.answers.count(&self.idx, id, loc);
                    let mut instances = Vec::new();
                    for i in 0..n {
                        let ipath = self.idx.instance_path(id, loc, i);
                        if rel.is_off(&ipath) {
                            continue;
                        }
                        let mut inner = loc.to_vec();
                        inner.push(i);
                        instances.push(Instance {
                            path: ipath,
                            number: i + 1,
                            children: self.widgets_of(
                                f,
                                rel,
                                env,
                                &def.children,
                                &inner,
                                problems,
                                live,
                            ),
                        });
                    }
                    out.push(Widget::Repeat {
                        path,
                        label: self.label(&f.answers, id, loc, rel),
                        instances,
                        manual: self.repeat_is_manual(id),
                    });
                }
                Item::Group(_) => {
                    let children = self.widgets_of(f, rel, env, &def.children, loc, problems, live);
                    if !children.is_empty() {
                        out.push(Widget::Group {
                            path,
                            label: self.label(&f.answers, id, loc, rel),
                            children,
                        });
                    }
                }
            }
        }
        out
    }

    /// Every relevant answer, page by page, for the review page.
    pub fn review(&self, f: &Filling, rel: &Relevance, env: &Env) -> Vec<ReviewLine> {
        let mut out = Vec::new();
        for (n, page) in self.pages().iter().enumerate() {
            for w in self.widgets(f, rel, env, page, &[]) {
                flatten(&w, n, &mut Vec::new(), &mut out);
            }
        }
        out
    }
}

fn flatten(w: &Widget, page: usize, context: &mut Vec<String>, out: &mut Vec<ReviewLine>) {
    match w {
        Widget::Question {
            path,
            name,
            control,
            label,
            value,
            choices,
            other,
            ..
        } => {
            if *control == Control::Note {
                return;
            }
            let answer = if choices.is_empty() {
                value.clone()
            } else if *control == Control::Rank {
                let mut ranked: Vec<&ChoiceView> =
                    choices.iter().filter(|c| c.rank.is_some()).collect();
                ranked.sort_by_key(|c| c.rank);
                ranked
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect::<Vec<_>>()
                    .join(" › ")
            } else {
                let mut labels: Vec<String> = choices
                    .iter()
                    .filter(|c| c.selected)
                    .map(|c| c.label.clone())
                    .collect();
                if let Some(o) = other.as_ref().filter(|o| !o.is_empty()) {
                    labels.push(o.clone());
                }
                labels.join(", ")
            };
            out.push(ReviewLine {
                page,
                path: path.clone(),
                context: context.clone(),
                label: label.clone().unwrap_or_else(|| name.clone()),
                answer,
            });
        }
        Widget::Group {
            label, children, ..
        } => {
            let pushed = label.is_some();
            if let Some(l) = label {
                context.push(l.clone());
            }
            for c in children {
                flatten(c, page, context, out);
            }
            if pushed {
                context.pop();
            }
        }
        Widget::Repeat {
            label, instances, ..
        } => {
            for i in instances {
                context.push(
                    format!("{} {}", label.as_deref().unwrap_or(""), i.number)
                        .trim()
                        .to_owned(),
                );
                for c in &i.children {
                    flatten(c, page, context, out);
                }
                context.pop();
            }
        }
    }
}
