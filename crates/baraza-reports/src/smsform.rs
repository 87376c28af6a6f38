//! SMS forms: an XLSForm answered by a text message from any phone.
//!
//! A form gets a **keyword** (the XLSForm `prefix` setting, else its `form_id` in capitals;
//! more keywords, one per language, may be added) and each question it asks by SMS a short
//! **tag** (the `compact_tag` column, else `q1`, `q2`… in the order of the form). Answers come in
//! two styles, told apart by the word after the keyword:
//!
//! - positional: `EAU 3 KHOUMA PANNE`, the values in the order of the questions, one word each,
//!   the last text question taking the rest of the message;
//! - tagged: `EAU q3 PANNE q1 3 q2 KHOUMA`, each tag followed by its value (several words
//!   allowed), in any order, optional questions left out.
//!
//! Values are separated by spaces, or by the form's `delimiter` setting (e.g. `*` or `#`).
//! Each is typed by its question: `integer`, `decimal` (a comma is read as the decimal point),
//! `text`, `select_one` (the choice's name or label without regard to case or accents, else its
//! number in the list — a choice *named* `2` wins over the second choice). Other question types, notes, calculations and metadata are not asked by
//! SMS; a form whose *required* question cannot be asked is refused when it is built. Relevance
//! and constraints are the form engine's business, after this step.
//!
//! A mistake is answered with one reply in the sender's language — that of the keyword used,
//! else the form's default language — naming the question (tag and label) and what was expected.

use crate::text::fold;
use baraza_xlsform::model::{ChoiceList, Form, LangText, QType, Question};
use baraza_xlsform::{Format, Severity};
use std::fmt::Write as _;
use thiserror::Error;

/// The languages replies are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// `fr`, `Français (fr)`, `french`… → French; anything else English.
    pub fn guess(s: &str) -> Lang {
        let f = fold(s);
        if f == "fr"
            || f.starts_with("fr ")
            || f.contains("(fr)")
            || f.ends_with(" fr")
            || f.starts_with("francais")
            || f.starts_with("french")
        {
            Lang::Fr
        } else {
            Lang::En
        }
    }
}

/// How a question's value is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Integer,
    Decimal,
    Text,
    SelectOne(Vec<SmsChoice>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmsChoice {
    pub name: String,
    /// Folded name and labels it is recognised by.
    pub matches: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmsQuestion {
    /// The question's `name` in the form.
    pub name: String,
    /// Its SMS tag, as written (compared without regard to case).
    pub tag: String,
    pub kind: Kind,
    pub required: bool,
    pub label_en: String,
    pub label_fr: String,
}

impl SmsQuestion {
    fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.label_en,
            Lang::Fr => &self.label_fr,
        }
    }
}

/// A form's SMS settings, when they are not read from the spreadsheet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmsSpec {
    /// The keyword (`prefix`); the form id in capitals when `None`.
    pub prefix: Option<String>,
    /// One character separating values (`delimiter`); white space when `None`.
    pub delimiter: Option<char>,
    /// Question name → tag (`compact_tag`).
    pub tags: Vec<(String, String)>,
    /// More keywords, each with the language of its replies (`WATER` English, `EAU` French).
    pub keywords: Vec<(String, Lang)>,
    /// The language of replies to the `prefix` keyword; from the form's `default_language`
    /// when `None`.
    pub default_lang: Option<Lang>,
}

/// An XLSForm as an SMS form.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsForm {
    pub form_id: String,
    /// Keywords in capitals, each with its reply language; the first is the form's `prefix`.
    pub keywords: Vec<(String, Lang)>,
    pub delimiter: Option<char>,
    pub questions: Vec<SmsQuestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    #[error("the form does not compile: {0}")]
    Form(String),
    #[error("keyword {0:?}: use letters and digits, starting with a letter")]
    Keyword(String),
    #[error("delimiter {0:?}: use one character that is not a letter or a digit")]
    Delimiter(String),
    #[error("question `{question}`: tag {tag:?}: use letters and digits, starting with a letter")]
    Tag { question: String, tag: String },
    #[error("tag {tag:?} is given to `{first}` and `{second}`")]
    DuplicateTag {
        tag: String,
        first: String,
        second: String,
    },
    #[error("`{0}` has a compact_tag but is not a question of the form")]
    UnknownQuestion(String),
    #[error(
        "question `{question}` ({qtype}) cannot be answered by SMS, yet it is required or tagged"
    )]
    Unsupported { question: String, qtype: String },
    #[error("the form has no question that can be answered by SMS")]
    NoQuestion,
}

fn valid_word(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_alphabetic()) && s.chars().all(char::is_alphanumeric)
}

fn is_required(q: &Question) -> bool {
    q.required.as_deref().is_some_and(|r| {
        matches!(
            r.trim().to_ascii_lowercase().as_str(),
            "yes" | "true" | "true()" | "1" | "oui"
        )
    })
}

fn label_in(texts: &LangText, lang: Lang, fallback: &str) -> String {
    texts
        .0
        .iter()
        .find(|(l, v)| !v.is_empty() && l != "default" && Lang::guess(l) == lang)
        .map(|(_, v)| v.clone())
        .or_else(|| {
            texts
                .get("default")
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
        .or_else(|| texts.any().map(str::to_owned))
        .unwrap_or_else(|| fallback.to_owned())
}

fn choices(list: &ChoiceList) -> Vec<SmsChoice> {
    list.choices
        .iter()
        .map(|c| {
            let mut matches = vec![fold(&c.name)];
            for (_, l) in &c.texts.label.0 {
                let f = fold(l);
                if !f.is_empty() && !matches.contains(&f) {
                    matches.push(f);
                }
            }
            SmsChoice {
                name: c.name.clone(),
                matches,
            }
        })
        .collect()
}

impl SmsForm {
    /// Builds the SMS form of a compiled form model with `spec`.
    pub fn from_model(form: &Form, spec: &SmsSpec) -> Result<SmsForm, BuildError> {
        let default_lang = spec.default_lang.unwrap_or_else(|| {
            form.default_language
                .as_deref()
                .map(Lang::guess)
                .unwrap_or(Lang::En)
        });
        let prefix = spec
            .prefix
            .clone()
            .unwrap_or_else(|| form.id.clone())
            .trim()
            .to_uppercase();
        let mut keywords = vec![(prefix, default_lang)];
        for (k, l) in &spec.keywords {
            keywords.push((k.trim().to_uppercase(), *l));
        }
        for (k, _) in &keywords {
            if !valid_word(k) {
                return Err(BuildError::Keyword(k.clone()));
            }
        }
        keywords.dedup_by(|a, b| a.0 == b.0);
        if let Some(d) = spec.delimiter {
            if d.is_alphanumeric() {
                return Err(BuildError::Delimiter(d.to_string()));
            }
        }
        let all = form.questions();
        for (name, _) in &spec.tags {
            if !all.iter().any(|q| &q.name == name) {
                return Err(BuildError::UnknownQuestion(name.clone()));
            }
        }
        let mut questions: Vec<SmsQuestion> = Vec::new();
        for q in all {
            let tag = spec
                .tags
                .iter()
                .find(|(n, _)| n == &q.name)
                .map(|(_, t)| t.trim().to_owned());
            let kind = match q.qtype {
                QType::Integer => Some(Kind::Integer),
                QType::Decimal | QType::Range => Some(Kind::Decimal),
                QType::Text => Some(Kind::Text),
                QType::SelectOne => q
                    .list
                    .as_deref()
                    .and_then(|l| form.list(l))
                    .map(|l| Kind::SelectOne(choices(l))),
                _ => None,
            };
            let Some(kind) = kind else {
                if q.qtype.has_control() && (is_required(q) || tag.is_some()) {
                    return Err(BuildError::Unsupported {
                        question: q.name.clone(),
                        qtype: q.type_text.clone(),
                    });
                }
                continue;
            };
            let tag = tag.unwrap_or_else(|| format!("q{}", questions.len() + 1));
            if !valid_word(&tag) {
                return Err(BuildError::Tag {
                    question: q.name.clone(),
                    tag,
                });
            }
            if let Some(other) = questions
                .iter()
                .find(|o| o.tag.eq_ignore_ascii_case(&tag) || fold(&o.tag) == fold(&tag))
            {
                return Err(BuildError::DuplicateTag {
                    tag,
                    first: other.name.clone(),
                    second: q.name.clone(),
                });
            }
            questions.push(SmsQuestion {
                name: q.name.clone(),
                tag,
                kind,
                required: is_required(q),
                label_en: label_in(&q.texts.label, Lang::En, &q.name),
                label_fr: label_in(&q.texts.label, Lang::Fr, &q.name),
            });
        }
        if questions.is_empty() {
            return Err(BuildError::NoQuestion);
        }
        Ok(SmsForm {
            form_id: form.id.clone(),
            keywords,
            delimiter: spec.delimiter,
            questions,
        })
    }

    /// Compiles an XLSForm file and builds its SMS form from its `prefix` and `delimiter`
    /// settings and its `compact_tag` column; `keywords` adds keywords in other languages.
    pub fn from_xlsform(
        bytes: &[u8],
        format: Format,
        form_name: &str,
        keywords: &[(String, Lang)],
    ) -> Result<SmsForm, BuildError> {
        let compiled = baraza_xlsform::compile(bytes, format, form_name);
        let form = match (&compiled.form, compiled.has_errors()) {
            (Some(f), false) => f,
            _ => {
                let first = compiled
                    .diagnostics
                    .iter()
                    .find(|d| d.severity == Severity::Error)
                    .map(|d| d.code.to_string())
                    .unwrap_or_else(|| "unreadable".into());
                return Err(BuildError::Form(first));
            }
        };
        let mut diags = Vec::new();
        let book = baraza_xlsform::read::read(bytes, format, &mut diags)
            .ok_or_else(|| BuildError::Form("unreadable".into()))?;
        let mut spec = SmsSpec {
            keywords: keywords.to_vec(),
            ..SmsSpec::default()
        };
        if let Some((header, rows)) = book.sheet("settings").and_then(table) {
            if let Some(row) = rows.first() {
                let cell = |name: &str| {
                    header
                        .iter()
                        .position(|h| h == name)
                        .and_then(|i| row.get(i))
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                };
                spec.prefix = cell("prefix");
                if let Some(d) = cell("delimiter") {
                    let mut cs = d.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => spec.delimiter = Some(c),
                        _ => return Err(BuildError::Delimiter(d)),
                    }
                }
            }
        }
        if let Some((header, rows)) = book.sheet("survey").and_then(table) {
            if let (Some(n), Some(t)) = (
                header.iter().position(|h| h == "name"),
                header.iter().position(|h| h == "compact_tag"),
            ) {
                for row in rows {
                    let name = row.get(n).map(|s| s.trim()).unwrap_or("");
                    let tag = row.get(t).map(|s| s.trim()).unwrap_or("");
                    if !name.is_empty() && !tag.is_empty() {
                        spec.tags.push((name.to_owned(), tag.to_owned()));
                    }
                }
            }
        }
        SmsForm::from_model(form, &spec)
    }

    /// The language of replies to `keyword`, if it is one of this form's.
    pub fn keyword_lang(&self, keyword: &str) -> Option<Lang> {
        let k = fold(keyword).to_uppercase();
        self.keywords
            .iter()
            .find(|(kw, _)| fold(kw).to_uppercase() == k)
            .map(|(_, l)| *l)
    }

    fn split<'t>(&self, text: &'t str) -> Vec<&'t str> {
        match self.delimiter {
            None => text.split_whitespace().collect(),
            Some(d) => {
                // The keyword may be followed by a space or by the delimiter.
                let text = text.trim();
                let (first, rest) = match text.find(|c: char| c.is_whitespace() || c == d) {
                    Some(i) => (&text[..i], &text[i..]),
                    None => (text, ""),
                };
                let mut out = vec![first];
                let rest = rest.trim_start().strip_prefix(d).unwrap_or(rest);
                if !rest.trim().is_empty() {
                    out.extend(rest.split(d).map(str::trim));
                }
                out
            }
        }
    }

    /// Reads a message addressed to this form (keyword first).
    pub fn parse(&self, text: &str) -> Result<SmsAnswers, SmsError> {
        let words = self.split(text);
        let default = self.keywords[0].1;
        let Some(first) = words.first() else {
            return Err(SmsError::new(default, &self.keywords[0].0, Problem::Empty));
        };
        let Some(lang) = self.keyword_lang(first) else {
            return Err(SmsError::new(
                default,
                &self.keywords[0].0,
                Problem::UnknownKeyword {
                    got: first.chars().take(20).collect(),
                    known: self.keywords.iter().map(|(k, _)| k.clone()).collect(),
                },
            ));
        };
        let keyword = first.to_uppercase();
        let err = |p: Problem| SmsError::new(lang, &keyword, p);
        let values = &words[1..];
        let tag_of = |w: &str| {
            let f = fold(w);
            self.questions.iter().position(|q| fold(&q.tag) == f)
        };
        let joiner = match self.delimiter {
            None => " ".to_owned(),
            Some(d) => d.to_string(),
        };
        let mut raw: Vec<Option<String>> = vec![None; self.questions.len()];
        let tagged = values.len() >= 2 && values.first().is_some_and(|w| tag_of(w).is_some());
        if tagged {
            let mut current: Option<usize> = None;
            for w in values {
                if let Some(i) = tag_of(w) {
                    if raw[i].is_some() {
                        return Err(err(Problem::Repeated(self.qref(i, lang))));
                    }
                    raw[i] = Some(String::new());
                    current = Some(i);
                } else if let Some(i) = current {
                    let slot = raw[i].get_or_insert_with(String::new);
                    if !slot.is_empty() {
                        slot.push_str(&joiner);
                    }
                    slot.push_str(w);
                }
            }
        } else {
            let n = self.questions.len();
            for (i, w) in values.iter().enumerate() {
                if i < n {
                    raw[i] = Some((*w).to_owned());
                } else if matches!(self.questions[n - 1].kind, Kind::Text) {
                    let slot = raw[n - 1].get_or_insert_with(String::new);
                    slot.push_str(&joiner);
                    slot.push_str(w);
                } else {
                    return Err(err(Problem::TooMany {
                        questions: n,
                        values: values.len(),
                    }));
                }
            }
        }
        let mut answers = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            let v = raw[i].as_deref().map(str::trim).filter(|v| !v.is_empty());
            let Some(v) = v else {
                if q.required {
                    return Err(err(Problem::Missing(self.qref(i, lang))));
                }
                continue;
            };
            let answer = match &q.kind {
                Kind::Text => Answer::Text(v.to_owned()),
                Kind::Integer => match v.parse::<i64>() {
                    Ok(n) => Answer::Integer(n),
                    Err(_) => return Err(err(Problem::NotInteger(self.qref(i, lang), short(v)))),
                },
                Kind::Decimal => match decimal(v) {
                    Some(d) => Answer::Decimal(d),
                    None => return Err(err(Problem::NotDecimal(self.qref(i, lang), short(v)))),
                },
                Kind::SelectOne(choices) => {
                    let f = fold(v);
                    let by_number = f
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=choices.len()).contains(n))
                        .map(|n| &choices[n - 1]);
                    let by_name = || choices.iter().find(|c| c.matches.contains(&f));
                    match by_name().or(by_number) {
                        Some(c) => Answer::Choice(c.name.clone()),
                        None => return Err(err(Problem::NotAChoice(self.qref(i, lang), short(v)))),
                    }
                }
            };
            answers.push((q.name.clone(), answer));
        }
        Ok(SmsAnswers {
            form_id: self.form_id.clone(),
            lang,
            answers,
        })
    }

    fn qref(&self, i: usize, lang: Lang) -> Box<QuestionRef> {
        let q = &self.questions[i];
        let expected = match (&q.kind, lang) {
            (Kind::Integer, Lang::En) => "a whole number".to_owned(),
            (Kind::Integer, Lang::Fr) => "un nombre entier".to_owned(),
            (Kind::Decimal, Lang::En) => "a number".to_owned(),
            (Kind::Decimal, Lang::Fr) => "un nombre".to_owned(),
            (Kind::Text, Lang::En) => "some text".to_owned(),
            (Kind::Text, Lang::Fr) => "du texte".to_owned(),
            (Kind::SelectOne(cs), _) => {
                let mut s = String::from(match lang {
                    Lang::En => "one of ",
                    Lang::Fr => "l'un de ",
                });
                for (n, c) in cs.iter().enumerate().take(9) {
                    if n > 0 {
                        s.push_str(", ");
                    }
                    let _ = write!(s, "{}={}", n + 1, c.name);
                }
                if cs.len() > 9 {
                    s.push_str(", …");
                }
                s
            }
        };
        Box::new(QuestionRef {
            name: q.name.clone(),
            tag: q.tag.clone(),
            label: q.label(lang).to_owned(),
            expected,
        })
    }
}

fn short(v: &str) -> String {
    let mut s: String = v.chars().take(24).collect();
    if v.chars().count() > 24 {
        s.push('…');
    }
    s
}

/// `3`, `-2.5`, `3,5` → canonical decimal text; anything else `None`.
fn decimal(v: &str) -> Option<String> {
    let v = v.replace(',', ".");
    let ok = !v.is_empty()
        && v.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
        && v.matches('.').count() <= 1
        && v.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    let x: f64 = v.parse().ok()?;
    x.is_finite().then(|| {
        let v = v.trim_start_matches('+');
        if v.starts_with('.') {
            format!("0{v}")
        } else if let Some(r) = v.strip_prefix("-.") {
            format!("-0.{r}")
        } else {
            v.trim_end_matches('.').to_owned()
        }
    })
}

/// The header (lower-cased, trimmed) and the rows after it of a raw sheet.
fn table(sheet: &baraza_xlsform::read::Sheet) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let at = sheet
        .rows
        .iter()
        .position(|r| r.cells.iter().any(|c| !c.trim().is_empty()))?;
    let header = sheet.rows[at]
        .cells
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let rows = sheet.rows[at + 1..]
        .iter()
        .map(|r| r.cells.clone())
        .collect();
    Some((header, rows))
}

/// A typed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Integer(i64),
    /// Canonical decimal text (`3.5`).
    Decimal(String),
    /// The choice's name.
    Choice(String),
    Text(String),
}

/// A message read: the answers by question name, and the language to reply in.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsAnswers {
    pub form_id: String,
    pub lang: Lang,
    pub answers: Vec<(String, Answer)>,
}

impl SmsAnswers {
    pub fn get(&self, name: &str) -> Option<&Answer> {
        self.answers.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The confirmation to send back.
    pub fn confirmation(&self, keyword: &str) -> String {
        match self.lang {
            Lang::En => format!("{keyword}: thank you, your report was received."),
            Lang::Fr => format!("{keyword} : merci, votre signalement est bien reçu."),
        }
    }
}

/// The question a mistake is about, in the reply's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionRef {
    pub name: String,
    pub tag: String,
    pub label: String,
    /// What the question expects, e.g. `a whole number`, `l'un de 1=ok, 2=panne`.
    pub expected: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    UnknownKeyword { got: String, known: Vec<String> },
    Missing(Box<QuestionRef>),
    Repeated(Box<QuestionRef>),
    NotInteger(Box<QuestionRef>, String),
    NotDecimal(Box<QuestionRef>, String),
    NotAChoice(Box<QuestionRef>, String),
    TooMany { questions: usize, values: usize },
}

/// Why a message could not be read, with the reply to send.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.reply())]
pub struct SmsError {
    pub lang: Lang,
    pub keyword: String,
    pub problem: Problem,
}

impl SmsError {
    fn new(lang: Lang, keyword: &str, problem: Problem) -> SmsError {
        SmsError {
            lang,
            keyword: keyword.to_uppercase(),
            problem,
        }
    }

    /// The question concerned, if any.
    pub fn question(&self) -> Option<&QuestionRef> {
        match &self.problem {
            Problem::Missing(q)
            | Problem::Repeated(q)
            | Problem::NotInteger(q, _)
            | Problem::NotDecimal(q, _)
            | Problem::NotAChoice(q, _) => Some(q.as_ref()),
            _ => None,
        }
    }

    /// The SMS reply, short and in the sender's language.
    pub fn reply(&self) -> String {
        let k = &self.keyword;
        match (&self.problem, self.lang) {
            (Problem::Empty, Lang::En) => format!("{k}: the message is empty."),
            (Problem::Empty, Lang::Fr) => format!("{k} : le message est vide."),
            (Problem::UnknownKeyword { got, known }, Lang::En) => format!(
                "Unknown keyword \"{got}\". Start your message with {}.",
                known.join(" or ")
            ),
            (Problem::UnknownKeyword { got, known }, Lang::Fr) => format!(
                "Mot-clé « {got} » inconnu. Commencez votre message par {}.",
                known.join(" ou ")
            ),
            (Problem::Missing(q), Lang::En) => format!(
                "{k}: answer missing for {} ({}): {} expected.",
                q.tag, q.label, q.expected
            ),
            (Problem::Missing(q), Lang::Fr) => format!(
                "{k} : réponse manquante pour {} ({}) : {} attendu.",
                q.tag, q.label, q.expected
            ),
            (Problem::Repeated(q), Lang::En) => {
                format!("{k}: {} ({}) is answered twice.", q.tag, q.label)
            }
            (Problem::Repeated(q), Lang::Fr) => {
                format!("{k} : {} ({}) a deux réponses.", q.tag, q.label)
            }
            (
                Problem::NotInteger(q, v) | Problem::NotDecimal(q, v) | Problem::NotAChoice(q, v),
                Lang::En,
            ) => format!(
                "{k}: {} ({}): \"{v}\" is not valid, {} expected.",
                q.tag, q.label, q.expected
            ),
            (
                Problem::NotInteger(q, v) | Problem::NotDecimal(q, v) | Problem::NotAChoice(q, v),
                Lang::Fr,
            ) => format!(
                "{k} : {} ({}) : « {v} » n'est pas valable, {} attendu.",
                q.tag, q.label, q.expected
            ),
            (Problem::TooMany { questions, values }, Lang::En) => format!(
                "{k}: {values} values for {questions} questions. Send one value per question, in order."
            ),
            (Problem::TooMany { questions, values }, Lang::Fr) => format!(
                "{k} : {values} valeurs pour {questions} questions. Envoyez une valeur par question, dans l'ordre."
            ),
        }
    }
}

/// Finds the form a message is for by its first word, among `forms`.
pub fn route<'f>(forms: &'f [SmsForm], text: &str) -> Option<&'f SmsForm> {
    let first = text
        .split(|c: char| c.is_whitespace() || (!c.is_alphanumeric()))
        .find(|w| !w.is_empty())?;
    forms.iter().find(|f| f.keyword_lang(first).is_some())
}

#[cfg(test)]
mod tests;
