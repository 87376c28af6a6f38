//! Answers posted by a browser, put into a filling.
//!
//! A page's form carries, besides its inputs, one hidden `_f` field per question it showed
//! (the question's instance path). Only those questions take answers from the post, so that a
//! check box left unticked clears its answer and nothing outside the page can be set. Inputs
//! are named by instance path, with a suffix for composite ones: `#lat`, `#lon`, `#alt`, `#acc`
//! (geopoints), `#other` (the text of an `or_other` select), `#rank:CHOICE` (ranks).

use crate::engine::{Engine, Env, Relevance, MAX_ANSWER_CHARS};
use crate::record::Filling;
use baraza_xlsform::model::QType;

/// Most questions one post may answer.
pub const MAX_POSTED_FIELDS: usize = 5_000;

/// The values posted under one name, in order.
fn all<'a>(posted: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    posted
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn one<'a>(posted: &'a [(String, String)], name: &str) -> &'a str {
    posted
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn clip(s: &str) -> String {
    // Browsers send CRLF in text areas; XML keeps LF.
    // Characters XML cannot carry are dropped.
    let s: String = s
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| {
            (*c == '\n' || *c == '\t' || !c.is_control()) && *c != '\u{FFFE}' && *c != '\u{FFFF}'
        })
        .collect();
    if s.chars().count() > MAX_ANSWER_CHARS + 1 {
        s.chars().take(MAX_ANSWER_CHARS + 1).collect()
    } else {
        s
    }
}

impl Engine<'_> {
    /// Puts the posted answers of the questions listed in `_f` into `f`, for questions on
    /// `page` that are relevant and not read-only. Files are not read here (see
    /// [`Engine::file_questions`]). Returns the paths that took an answer.
    pub fn apply(
        &self,
        f: &mut Filling,
        rel: &Relevance,
        env: &Env,
        page: &[usize],
        posted: &[(String, String)],
    ) -> Vec<String> {
        let mut done = Vec::new();
        for path in all(posted, "_f").take(MAX_POSTED_FIELDS) {
            let Some((id, loc)) = self.idx.parse_path(path) else {
                continue;
            };
            let Some(q) = self.idx.def(id).question() else {
                continue;
            };
            // A question the page showed takes its answer even if an answer given on the same
            // page has just made it not relevant (it is then submitted empty, and kept in the
            // draft in case it becomes relevant again).
            if !self.on_page(id, page) || self.idx.path(id, &loc) != path {
                continue;
            }
            // Only repeat instances that exist: a post cannot make thousands of them.
            if f.answers.level(&self.idx, id, &loc).is_none() {
                continue;
            }
            if self.is_readonly(&f.answers, id, &loc, rel, env) || q.qtype.is_metadata() {
                continue;
            }
            let value = match q.qtype {
                QType::SelectMultiple | QType::SelectMultipleFromFile => {
                    let mut picked: Vec<&str> = Vec::new();
                    for v in all(posted, path) {
                        let v = v.trim();
                        if !v.is_empty() && !picked.contains(&v) {
                            picked.push(v);
                        }
                    }
                    picked.join(" ")
                }
                QType::Rank => {
                    let mut ranks: Vec<(f64, String)> = Vec::new();
                    let prefix = format!("{path}#rank:");
                    for (k, v) in posted {
                        if let Some(choice) = k.strip_prefix(&prefix) {
                            if let Ok(n) = v.trim().parse::<f64>() {
                                ranks.push((n, choice.to_owned()));
                            }
                        }
                    }
                    ranks.sort_by(|a, b| a.0.total_cmp(&b.0));
                    ranks
                        .into_iter()
                        .map(|(_, c)| c)
                        .collect::<Vec<_>>()
                        .join(" ")
                }
                QType::Geopoint => {
                    let part = |s: &str| one(posted, &format!("{path}#{s}")).trim().to_owned();
                    let (lat, lon, alt, acc) = (part("lat"), part("lon"), part("alt"), part("acc"));
                    if lat.is_empty() && lon.is_empty() {
                        String::new()
                    } else {
                        let mut v = format!("{lat} {lon}");
                        if !alt.is_empty() || !acc.is_empty() {
                            v.push(' ');
                            v.push_str(if alt.is_empty() { "0" } else { &alt });
                            if !acc.is_empty() {
                                v.push(' ');
                                v.push_str(&acc);
                            }
                        }
                        v
                    }
                }
                QType::Acknowledge => {
                    if one(posted, path).is_empty() {
                        String::new()
                    } else {
                        "OK".to_owned()
                    }
                }
                QType::Image | QType::Audio | QType::Video | QType::File => continue,
                QType::DateTime => {
                    let v = one(posted, path).trim();
                    // A browser's `datetime-local` gives minutes only.
                    if v.len() == 16 && v.as_bytes().get(10) == Some(&b'T') {
                        format!("{v}:00")
                    } else {
                        v.to_owned()
                    }
                }
                QType::Time => {
                    let v = one(posted, path).trim();
                    if v.len() == 5 {
                        format!("{v}:00")
                    } else {
                        v.to_owned()
                    }
                }
                QType::Integer | QType::Decimal | QType::Range | QType::Date => {
                    one(posted, path).trim().to_owned()
                }
                QType::SelectOne | QType::SelectOneFromFile | QType::SelectOneExternal => {
                    one(posted, path).trim().to_owned()
                }
                _ => clip(one(posted, path)),
            };
            let value = clip(&value);
            f.answers.set(&self.idx, id, &loc, &value);
            if q.or_other {
                let other = if value.split_whitespace().any(|c| c == "other") {
                    clip(one(posted, &format!("{path}#other")).trim())
                } else {
                    String::new()
                };
                f.answers.set_extra(&self.idx, id, &loc, "_other", &other);
            }
            done.push(path.to_owned());
        }
        done
    }

    /// Whether element `id` is on `page` (inside one of its top-level elements).
    pub fn on_page(&self, id: usize, page: &[usize]) -> bool {
        let mut at = Some(id);
        while let Some(i) = at {
            if page.contains(&i) {
                return true;
            }
            at = self.idx.def(i).parent;
        }
        false
    }

    /// The file questions among the `_f` paths of a post, on `page`, in repeat instances that
    /// exist: where an uploaded file may be stored.
    pub fn file_questions(
        &self,
        f: &Filling,
        page: &[usize],
        posted: &[(String, String)],
    ) -> Vec<String> {
        all(posted, "_f")
            .take(MAX_POSTED_FIELDS)
            .filter(|path| {
                self.idx.parse_path(path).is_some_and(|(id, loc)| {
                    self.idx.def(id).question().is_some_and(|q| {
                        matches!(
                            q.qtype,
                            QType::Image | QType::Audio | QType::Video | QType::File
                        )
                    }) && self.on_page(id, page)
                        && self.idx.path(id, &loc) == *path
                        && f.answers.level(&self.idx, id, &loc).is_some()
                })
            })
            .map(str::to_owned)
            .collect()
    }

    /// Sets the answer at an instance path (for files, edits and imports). False when the path
    /// names no question of the form.
    pub fn set_path(&self, f: &mut Filling, path: &str, value: &str) -> bool {
        match self.idx.parse_path(path) {
            Some((id, loc)) if self.idx.def(id).question().is_some() => {
                f.answers.set(&self.idx, id, &loc, value);
                true
            }
            _ => {
                // `NAME_other` of an or_other select.
                if let Some(base) = path.strip_suffix("_other") {
                    if let Some((id, loc)) = self.idx.parse_path(base) {
                        if self.idx.def(id).question().is_some_and(|q| q.or_other) {
                            f.answers.set_extra(&self.idx, id, &loc, "_other", value);
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    /// A filling from the values of a stored submission (paths and raw texts, as
    /// `baraza_openrosa` gives them), for editing it. Metadata are kept; repeats get as many
    /// instances as the values name.
    pub fn filling_from_values<'v>(
        &self,
        values: impl IntoIterator<Item = (&'v str, &'v str)>,
        started: &str,
    ) -> Filling {
        let mut f = Filling {
            started: started.to_owned(),
            ..Default::default()
        };
        for (path, raw) in values {
            if path.contains("/meta/") {
                continue;
            }
            // `NAME_count` nodes are recomputed.
            self.set_path(&mut f, path, raw);
        }
        f
    }
}
