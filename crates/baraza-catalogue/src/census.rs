//! The open-data census, pure: a question set with weights, answers, scores.
//!
//! Groups of data activists audit their government's openness the way the Global Open Data
//! Index did: for each *place* and each *dataset category*, someone answers a fixed set of
//! yes/no questions (does the data exist, is it online, openly licensed…), a reviewer accepts or
//! rejects the entry, and accepted entries are scored and shown in a public table.
//!
//! # Scoring
//!
//! An entry's score is the weighted share of questions answered "yes", from 0 to 100. "Unsure"
//! scores like "no" (the entry does not show the data is open) but is kept and shown, so that
//! readers see what is doubtful. A place's score is the mean of its assessed categories'
//! scores, a category's the mean over the places assessed; cells without a published entry
//! are not counted (they are shown as not assessed, not as zero).
//!
//! # The default question set
//!
//! [`godi_questions`] are the nine questions of the Open Data Index as run by Open Knowledge
//! from 2013 to 2015, with their published weights (100 in all): exists 5, digital 5, public 5,
//! free 15, online 5, machine-readable 15, bulk 10, openly licensed 30, up to date 10. Source:
//! the Index's methodology page (<http://2014.index.okfn.org/methodology>, "Scoring"), quoted
//! in the assessment-criteria table of the 2013 index and in Wikipedia's "Open data index".
//! The 2016/17 edition replaced these with a different survey (a few scored questions on
//! access, format and licence); a census may configure its own set.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One question of a census.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub key: String,
    pub text_en: String,
    pub text_fr: String,
    /// Its weight in an entry's score (the weights need not add up to 100).
    pub weight: u32,
}

impl Question {
    /// The question in a language (`fr` or anything else for English).
    pub fn text(&self, lang: &str) -> &str {
        if lang == "fr" && !self.text_fr.is_empty() {
            &self.text_fr
        } else {
            &self.text_en
        }
    }
}

/// An answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Yes,
    No,
    Unsure,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim() {
            "yes" => Some(Answer::Yes),
            "no" => Some(Answer::No),
            "unsure" => Some(Answer::Unsure),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Unsure => "unsure",
        }
    }
}

/// Why answers or a question set were refused: a stable reason code (the web edge shows
/// `invalid.<reason>`) and the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub reason: &'static str,
    pub key: String,
}

fn q(key: &str, text_en: &str, text_fr: &str, weight: u32) -> Question {
    Question {
        key: key.into(),
        text_en: text_en.into(),
        text_fr: text_fr.into(),
        weight,
    }
}

/// The Open Data Index's nine questions with their weights (see the module's documentation).
pub fn godi_questions() -> Vec<Question> {
    vec![
        q(
            "exists",
            "Does the data exist?",
            "Les données existent-elles ?",
            5,
        ),
        q(
            "digital",
            "Is the data in digital form?",
            "Les données sont-elles sous forme numérique ?",
            5,
        ),
        q(
            "public",
            "Is the data publicly available?",
            "Les données sont-elles accessibles au public ?",
            5,
        ),
        q(
            "free",
            "Is the data available for free?",
            "Les données sont-elles gratuites ?",
            15,
        ),
        q(
            "online",
            "Is the data available online?",
            "Les données sont-elles en ligne ?",
            5,
        ),
        q(
            "machine_readable",
            "Is the data machine-readable?",
            "Les données sont-elles lisibles par une machine ?",
            15,
        ),
        q(
            "bulk",
            "Is the data available in bulk?",
            "Les données sont-elles téléchargeables en bloc ?",
            10,
        ),
        q(
            "open_licence",
            "Is the data openly licensed?",
            "Les données sont-elles sous licence ouverte ?",
            30,
        ),
        q(
            "up_to_date",
            "Is the data provided on a timely and up to date basis?",
            "Les données sont-elles publiées à temps et à jour ?",
            10,
        ),
    ]
}

/// Whether a key is short lower-case ASCII (letters, digits, `-`, `_`).
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks a question set: at least one question, keys valid and distinct, texts given,
/// weights positive.
pub fn check_questions(questions: &[Question]) -> Result<(), Problem> {
    if questions.is_empty() {
        return Err(Problem {
            reason: "census_questions_empty",
            key: String::new(),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for question in questions {
        if !valid_key(&question.key) || !seen.insert(question.key.as_str()) {
            return Err(Problem {
                reason: "census_question_key",
                key: question.key.clone(),
            });
        }
        if question.text_en.trim().is_empty() || question.weight == 0 {
            return Err(Problem {
                reason: "census_question",
                key: question.key.clone(),
            });
        }
    }
    Ok(())
}

/// Reads answers given as (question key, answer) pairs: every question answered once with
/// yes, no or unsure, and no unknown key.
pub fn parse_answers(
    questions: &[Question],
    given: &[(String, String)],
) -> Result<BTreeMap<String, Answer>, Problem> {
    let mut out = BTreeMap::new();
    for (key, value) in given {
        if !questions.iter().any(|q| &q.key == key) {
            return Err(Problem {
                reason: "census_question_unknown",
                key: key.clone(),
            });
        }
        let answer = Answer::parse(value).ok_or_else(|| Problem {
            reason: "census_answer",
            key: key.clone(),
        })?;
        if out.insert(key.clone(), answer).is_some() {
            return Err(Problem {
                reason: "census_answer_twice",
                key: key.clone(),
            });
        }
    }
    if let Some(missing) = questions.iter().find(|q| !out.contains_key(&q.key)) {
        return Err(Problem {
            reason: "census_answer_missing",
            key: missing.key.clone(),
        });
    }
    Ok(out)
}

/// An entry's score: the weighted share of "yes" answers, 0 to 100. Questions without an
/// answer count as "no".
pub fn score(questions: &[Question], answers: &BTreeMap<String, Answer>) -> f64 {
    let total: u64 = questions.iter().map(|q| u64::from(q.weight)).sum();
    if total == 0 {
        return 0.0;
    }
    let yes: u64 = questions
        .iter()
        .filter(|q| answers.get(&q.key) == Some(&Answer::Yes))
        .map(|q| u64::from(q.weight))
        .sum();
    100.0 * yes as f64 / total as f64
}

/// The census table: a score per assessed (place, category), and the means.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Table {
    /// Scores by place code, then category key (assessed cells only).
    pub cells: BTreeMap<String, BTreeMap<String, f64>>,
    /// Mean score of each place over its assessed categories.
    pub places: BTreeMap<String, f64>,
    /// Mean score of each category over the places where it was assessed.
    pub categories: BTreeMap<String, f64>,
    /// Mean of every assessed cell, if any.
    pub overall: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Builds the table from (place, category, score) of the published entries.
pub fn table<'a>(scores: impl IntoIterator<Item = (&'a str, &'a str, f64)>) -> Table {
    let mut t = Table::default();
    for (place, category, s) in scores {
        t.cells
            .entry(place.to_owned())
            .or_default()
            .insert(category.to_owned(), s);
    }
    for (place, row) in &t.cells {
        if let Some(m) = mean(row.values().copied()) {
            t.places.insert(place.clone(), m);
        }
    }
    let mut by_category: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for row in t.cells.values() {
        for (category, s) in row {
            by_category.entry(category).or_default().push(*s);
        }
    }
    for (category, v) in by_category {
        if let Some(m) = mean(v.into_iter()) {
            t.categories.insert(category.to_owned(), m);
        }
    }
    t.overall = mean(t.cells.values().flat_map(|r| r.values().copied()));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(questions: &[Question], a: Answer) -> BTreeMap<String, Answer> {
        questions.iter().map(|q| (q.key.clone(), a)).collect()
    }

    #[test]
    fn the_default_weights_add_up_to_a_hundred() {
        let qs = godi_questions();
        assert_eq!(qs.len(), 9);
        assert_eq!(qs.iter().map(|q| q.weight).sum::<u32>(), 100);
        let licence = qs.iter().find(|q| q.key == "open_licence").unwrap();
        assert_eq!(licence.weight, 30);
        assert!(check_questions(&qs).is_ok());
    }

    #[test]
    fn scores_are_the_weighted_share_of_yes() {
        let qs = godi_questions();
        assert_eq!(score(&qs, &all(&qs, Answer::Yes)), 100.0);
        assert_eq!(score(&qs, &all(&qs, Answer::No)), 0.0);
        assert_eq!(score(&qs, &all(&qs, Answer::Unsure)), 0.0);
        // Exists, digital, public, online: 20 points; unsure about the licence changes nothing.
        let mut a = all(&qs, Answer::No);
        for k in ["exists", "digital", "public", "online"] {
            a.insert(k.into(), Answer::Yes);
        }
        a.insert("open_licence".into(), Answer::Unsure);
        assert_eq!(score(&qs, &a), 20.0);
    }

    #[test]
    fn answers_must_be_complete_known_and_yes_no_or_unsure() {
        let qs = godi_questions();
        let mut given: Vec<(String, String)> = qs
            .iter()
            .map(|q| (q.key.clone(), "yes".to_owned()))
            .collect();
        assert_eq!(parse_answers(&qs, &given).unwrap().len(), 9);
        given[0].1 = "maybe".into();
        assert_eq!(
            parse_answers(&qs, &given).unwrap_err().reason,
            "census_answer"
        );
        given[0].1 = "no".into();
        given.push(("colour".into(), "yes".into()));
        assert_eq!(
            parse_answers(&qs, &given).unwrap_err().reason,
            "census_question_unknown"
        );
        given.pop();
        given.remove(3);
        let p = parse_answers(&qs, &given).unwrap_err();
        assert_eq!(
            (p.reason, p.key.as_str()),
            ("census_answer_missing", "free")
        );
    }

    #[test]
    fn question_sets_are_checked() {
        let mut qs = godi_questions();
        qs[1].key = "exists".into();
        assert_eq!(
            check_questions(&qs).unwrap_err().reason,
            "census_question_key"
        );
        let mut qs = godi_questions();
        qs[2].weight = 0;
        assert_eq!(check_questions(&qs).unwrap_err().reason, "census_question");
        assert!(check_questions(&[]).is_err());
    }

    #[test]
    fn the_table_averages_assessed_cells_only() {
        let t = table([
            ("TD-ND", "budget", 100.0),
            ("TD-ND", "water", 50.0),
            ("TD-OD", "budget", 20.0),
        ]);
        assert_eq!(t.places["TD-ND"], 75.0);
        assert_eq!(t.places["TD-OD"], 20.0);
        assert_eq!(t.categories["budget"], 60.0);
        assert_eq!(t.categories["water"], 50.0);
        assert!((t.overall.unwrap() - 170.0 / 3.0).abs() < 1e-9);
        assert_eq!(table([]).overall, None);
    }
}
