//! Moving through a form one page at a time: what a post does (answers, then an action), and
//! where the person goes next.

use crate::engine::{Engine, Env, Problem};
use crate::record::Filling;
use crate::view::Widget;
use serde::{Deserialize, Serialize};

/// Where a person is in a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "at", content = "page")]
pub enum At {
    /// A page of the form (index into [`Engine::pages`]).
    Page(usize),
    /// The review of every answer, before sending.
    Review,
}

/// What the person asked for with the button they pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Keep the answers and stay (also "save and finish later").
    Save,
    /// Keep the answers and recompute what depends on them (no checks).
    Refresh,
    Next,
    Previous,
    /// Go to a page (from the review).
    Goto(usize),
    /// Add an instance to the repeat at this path.
    Add(String),
    /// Remove the repeat instance at this path.
    Remove(String),
}

/// Why the person stays on the page they posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Some answers have problems.
    Problems,
    /// Answers on this page made other questions appear on it.
    NewQuestions,
    Saved,
    /// A repeat instance was added or removed.
    Changed,
    /// The repeat cannot take more instances, or that instance cannot be removed.
    NotChanged,
}

/// The outcome of a post.
#[derive(Debug, Clone)]
pub struct Step {
    pub at: At,
    pub problems: Vec<Problem>,
    pub notice: Option<Notice>,
}

fn question_paths(widgets: &[Widget], out: &mut Vec<String>) {
    for w in widgets {
        match w {
            Widget::Question { path, control, .. } => {
                if *control != crate::view::Control::Note {
                    out.push(path.clone());
                }
            }
            Widget::Group { children, .. } => question_paths(children, out),
            Widget::Repeat { instances, .. } => {
                for i in instances {
                    question_paths(&i.children, out);
                }
            }
        }
    }
}

/// The choices each select of a page offers, by path.
fn choice_sets(widgets: &[Widget], out: &mut Vec<(String, Vec<String>)>) {
    for w in widgets {
        match w {
            Widget::Question {
                path,
                choices,
                control,
                ..
            } => {
                use crate::view::Control as C;
                if matches!(control, C::SelectOne | C::Dropdown | C::SelectMultiple) {
                    out.push((
                        path.clone(),
                        choices.iter().map(|c| c.name.clone()).collect(),
                    ));
                }
            }
            Widget::Group { children, .. } => choice_sets(children, out),
            Widget::Repeat { instances, .. } => {
                for i in instances {
                    choice_sets(&i.children, out);
                }
            }
        }
    }
}

impl Engine<'_> {
    /// The choices the selects of a page offer now (they follow choice filters).
    fn page_choices(&self, f: &Filling, env: &Env, page: &[usize]) -> Vec<(String, Vec<String>)> {
        let mut f2 = f.clone();
        let rel = self.refresh(&mut f2, env);
        let mut out = Vec::new();
        choice_sets(&self.widgets(&f2, &rel, env, page, &[]), &mut out);
        out
    }

    /// The questions a page shows now.
    pub fn shown(&self, f: &Filling, env: &Env, page: usize) -> Vec<String> {
        let mut f2 = f.clone();
        let rel = self.refresh(&mut f2, env);
        let pages = self.pages();
        let mut out = Vec::new();
        if let Some(p) = pages.get(page) {
            question_paths(&self.widgets(&f2, &rel, env, p, &[]), &mut out);
        }
        out
    }

    /// The first page with something to show at or after `from`, or the review.
    pub fn next_visible(&self, f: &Filling, env: &Env, from: usize) -> At {
        let mut f2 = f.clone();
        let rel = self.refresh(&mut f2, env);
        let pages = self.pages();
        (from..pages.len())
            .find(|i| self.page_visible(&f2, &rel, &pages[*i]))
            .map(At::Page)
            .unwrap_or(At::Review)
    }

    /// The last page with something to show before `before`, if any.
    pub fn previous_visible(&self, f: &Filling, env: &Env, before: usize) -> Option<usize> {
        let mut f2 = f.clone();
        let rel = self.refresh(&mut f2, env);
        let pages = self.pages();
        (0..before.min(pages.len()))
            .rev()
            .find(|i| self.page_visible(&f2, &rel, &pages[*i]))
    }

    /// Takes a post of page `at`: its answers, then its action.
    pub fn step(
        &self,
        f: &mut Filling,
        env: &Env,
        at: At,
        posted: &[(String, String)],
        action: &Action,
    ) -> Step {
        let pages = self.pages();
        let rel = self.refresh(f, env);
        let page_ids: Vec<usize> = match at {
            At::Page(n) => pages.get(n).cloned().unwrap_or_default(),
            At::Review => Vec::new(),
        };
        let choices_before = self.page_choices(f, env, &page_ids);
        if !page_ids.is_empty() {
            self.apply(f, &rel, env, &page_ids, posted);
        }
        let rel = self.refresh(f, env);
        let stay = |notice: Option<Notice>, problems: Vec<Problem>| Step {
            at,
            problems,
            notice,
        };
        match action {
            Action::Save => stay(Some(Notice::Saved), Vec::new()),
            Action::Refresh => stay(None, Vec::new()),
            Action::Add(path) => {
                let added = self.idx.parse_path(path).is_some_and(|(id, loc)| {
                    self.idx.def(id).is_repeat()
                        && self.on_page(id, &page_ids)
                        && self.repeat_is_manual(id)
                        && self.add_instance(&mut f.answers, id, &loc, env)
                });
                self.refresh(f, env);
                stay(
                    Some(if added {
                        Notice::Changed
                    } else {
                        Notice::NotChanged
                    }),
                    Vec::new(),
                )
            }
            Action::Remove(path) => {
                let removed = self.parse_instance(path).is_some_and(|(id, loc, i)| {
                    self.on_page(id, &page_ids) && self.remove_instance(&mut f.answers, id, &loc, i)
                });
                self.refresh(f, env);
                stay(
                    Some(if removed {
                        Notice::Changed
                    } else {
                        Notice::NotChanged
                    }),
                    Vec::new(),
                )
            }
            Action::Previous => {
                let before = match at {
                    At::Page(n) => n,
                    At::Review => pages.len(),
                };
                Step {
                    at: self
                        .previous_visible(f, env, before)
                        .map(At::Page)
                        .unwrap_or(at),
                    problems: Vec::new(),
                    notice: None,
                }
            }
            Action::Goto(n) => Step {
                at: if *n < pages.len() {
                    At::Page(*n)
                } else {
                    At::Review
                },
                problems: Vec::new(),
                notice: None,
            },
            Action::Next => {
                let At::Page(n) = at else {
                    return stay(None, Vec::new());
                };
                // Questions that appeared because of answers on this page are shown first.
                let posted_shown: Vec<&str> = posted
                    .iter()
                    .filter(|(k, _)| k == "_f")
                    .map(|(_, v)| v.as_str())
                    .collect();
                let now_shown = self.shown(f, env, n);
                let problems = self.check(f, &rel, env, Some(&page_ids));
                // Selects whose choices changed with answers on this page (a choice filter on
                // the same page) and are not answered yet: their new choices are shown first.
                let choices_after = self.page_choices(f, env, &page_ids);
                let refiltered: Vec<&str> = choices_after
                    .iter()
                    .filter(|(path, names)| {
                        let before = choices_before.iter().find(|(p, _)| p == path);
                        before.is_some_and(|(_, b)| b != names)
                            && self.idx.parse_path(path).is_some_and(|(id, loc)| {
                                let v = f.answers.get(&self.idx, id, &loc);
                                v.is_empty()
                                    || v.split_whitespace().any(|c| !names.iter().any(|n| n == c))
                            })
                    })
                    .map(|(p, _)| p.as_str())
                    .collect();
                if !refiltered.is_empty()
                    || now_shown
                        .iter()
                        .any(|p| !posted_shown.contains(&p.as_str()))
                {
                    // Only the problems of questions the person has seen as they are now.
                    let seen: Vec<Problem> = problems
                        .into_iter()
                        .filter(|p| {
                            posted_shown.contains(&p.path.as_str())
                                && !refiltered.contains(&p.path.as_str())
                        })
                        .collect();
                    return stay(Some(Notice::NewQuestions), seen);
                }
                if !problems.is_empty() {
                    return stay(Some(Notice::Problems), problems);
                }
                Step {
                    at: self.next_visible(f, env, n + 1),
                    problems: Vec::new(),
                    notice: None,
                }
            }
        }
    }

    /// Reads the path of one repeat instance: the repeat, its location, the instance (0-based).
    pub fn parse_instance(&self, path: &str) -> Option<(usize, Vec<usize>, usize)> {
        let last = path.rsplit('/').next()?;
        let index: usize = last
            .strip_suffix(']')?
            .split_once('[')?
            .1
            .parse()
            .ok()
            .filter(|i| *i >= 1)?;
        let (id, loc) = self.idx.parse_path(path)?;
        self.idx.def(id).is_repeat().then_some((id, loc, index - 1))
    }

    /// Every problem of the whole form, for sending.
    pub fn check_all(&self, f: &mut Filling, env: &Env) -> Vec<Problem> {
        let rel = self.refresh(f, env);
        self.check(f, &rel, env, None)
    }

    /// The page a problem's question is on.
    pub fn page_of(&self, path: &str) -> Option<usize> {
        let (id, _) = self.idx.parse_path(path)?;
        self.pages().iter().position(|p| self.on_page(id, p))
    }
}
