//! The open-data census: data activists audit their government's openness.
//!
//! An organisation runs a census: a question set (the Open Data Index's by default, see
//! `baraza_catalogue::census`), places and dataset categories. Anyone signed in submits an
//! entry for a (place, category); the organisation's owners and the managers of its projects
//! (and site administrators) review it: published, it replaces the cell's previous entry in
//! the public table; rejected, it stays in the cell's history for reviewers only.

use crate::access::Principal;
use crate::audit::{Actor, Target};
use crate::orgs::{check_description, pick_slug};
use crate::{Core, CoreError};
use baraza_catalogue::census::{self, Answer, Question, Table};
use baraza_store::{
    CensusCategory, CensusEntryRow, CensusInUse, CensusPlace, CensusRow, CensusSettings, NewCensus,
    NewCensusEntry, StoreError,
};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The most places, categories or sources a census or an entry may have.
const MAX_ITEMS: usize = 300;

/// The most a question may weigh.
pub const MAX_WEIGHT: u32 = 1000;

/// A census to create, or its new settings (`slug` is then ignored).
#[derive(Debug, Clone, Default)]
pub struct CensusInput {
    pub title: String,
    pub slug: String,
    pub description: String,
    /// What the places are ("Chad's provinces").
    pub scope: String,
    pub places: Vec<CensusPlace>,
    pub categories: Vec<CensusCategory>,
    /// `None`: the Open Data Index's questions (for a new census) or the census's own (for new
    /// settings).
    pub questions: Option<Vec<Question>>,
}

/// An entry as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct EntryInput {
    pub place: String,
    pub category: String,
    /// (question key, "yes" | "no" | "unsure").
    pub answers: Vec<(String, String)>,
    /// URLs, one a line (or separated by spaces).
    pub sources: String,
    pub comments: String,
}

/// An entry with its score.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredEntry {
    #[serde(flatten)]
    pub entry: CensusEntryRow,
    pub score: f64,
}

/// The public table of a census.
#[derive(Debug, Clone, Serialize)]
pub struct CensusTable {
    pub census: CensusRow,
    pub table: Table,
    /// Whether the reader reviews entries.
    pub can_review: bool,
    /// Entries awaiting review (counted for reviewers only).
    pub pending: Option<usize>,
}

/// One cell of a census: its published entry and its history.
#[derive(Debug, Clone, Serialize)]
pub struct CensusCell {
    pub census: CensusRow,
    pub place: CensusPlace,
    pub category: CensusCategory,
    pub published: Option<ScoredEntry>,
    /// Earlier published entries; for reviewers also those awaiting review and rejected.
    pub history: Vec<ScoredEntry>,
    pub can_review: bool,
}

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

fn census_target(c: &CensusRow) -> Target {
    Target {
        project: None,
        text: format!("org:{}/census:{}", c.org_slug, c.slug),
    }
}

fn scored(c: &CensusRow, entry: CensusEntryRow) -> ScoredEntry {
    ScoredEntry {
        score: census::score(&c.questions, &entry.answers),
        entry,
    }
}

/// Sources: http(s) URLs, one a line or separated by spaces.
fn parse_sources(raw: &str) -> Result<Vec<String>, CoreError> {
    let out: Vec<String> = raw.split_whitespace().map(str::to_owned).collect();
    if out.len() > MAX_ITEMS
        || out
            .iter()
            .any(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2000)
    {
        return Err(invalid("sources", "census_source"));
    }
    Ok(out)
}

fn check_places(places: &[CensusPlace]) -> Result<(), CoreError> {
    let mut seen = std::collections::BTreeSet::new();
    if places.is_empty() || places.len() > MAX_ITEMS {
        return Err(invalid("places", "census_places"));
    }
    for p in places {
        if p.code.is_empty()
            || p.code.len() > 64
            || !p
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || p.name.trim().is_empty()
            || !seen.insert(p.code.as_str())
        {
            return Err(invalid("places", "census_places"));
        }
    }
    Ok(())
}

fn check_categories(categories: &[CensusCategory]) -> Result<(), CoreError> {
    let mut seen = std::collections::BTreeSet::new();
    if categories.is_empty() || categories.len() > MAX_ITEMS {
        return Err(invalid("categories", "census_categories"));
    }
    for k in categories {
        if !census::valid_key(&k.code)
            || k.title_en.trim().is_empty()
            || !seen.insert(k.code.as_str())
        {
            return Err(invalid("categories", "census_categories"));
        }
    }
    Ok(())
}

/// Title, description, scope and questions of a census, checked.
struct Checked<'a> {
    title: &'a str,
    description: &'a str,
    scope: &'a str,
    questions: Vec<Question>,
}

fn check_input(input: &CensusInput) -> Result<Checked<'_>, CoreError> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        return Err(invalid("title", "census_title"));
    }
    let description = check_description(&input.description)?;
    let scope = input.scope.trim();
    if scope.chars().count() > 300 {
        return Err(invalid("scope", "census_title"));
    }
    let questions = input
        .questions
        .clone()
        .unwrap_or_else(census::godi_questions);
    census::check_questions(&questions).map_err(|p| invalid("questions", p.reason))?;
    if questions.len() > MAX_ITEMS || questions.iter().any(|q| q.weight > MAX_WEIGHT) {
        return Err(invalid("questions", "census_weight_range"));
    }
    check_places(&input.places)?;
    check_categories(&input.categories)?;
    Ok(Checked {
        title,
        description,
        scope,
        questions,
    })
}

/// What changed between two lists keyed by code: added, removed, changed (same code, other
/// content) and whether the codes kept are in another order.
fn diff<T: PartialEq>(before: &[T], after: &[T], code: impl Fn(&T) -> &str) -> serde_json::Value {
    let find = |list: &[T], c: &str| list.iter().any(|x| code(x) == c);
    let codes = |list: &[T]| list.iter().map(|x| code(x).to_owned()).collect::<Vec<_>>();
    let added: Vec<String> = codes(after)
        .into_iter()
        .filter(|c| !find(before, c))
        .collect();
    let removed: Vec<String> = codes(before)
        .into_iter()
        .filter(|c| !find(after, c))
        .collect();
    let changed: Vec<String> = after
        .iter()
        .filter(|x| before.iter().any(|y| code(y) == code(x) && y != *x))
        .map(|x| code(x).to_owned())
        .collect();
    let kept_before: Vec<String> = codes(before)
        .into_iter()
        .filter(|c| find(after, c))
        .collect();
    let kept_after: Vec<String> = codes(after)
        .into_iter()
        .filter(|c| find(before, c))
        .collect();
    json!({
        "added": added,
        "removed": removed,
        "changed": changed,
        "reordered": kept_before != kept_after,
    })
}

impl Core {
    async fn census_or_404(&self, slug: &str) -> Result<CensusRow, CoreError> {
        self.store
            .census(slug)
            .await?
            .ok_or(CoreError::NotFound { what: "census" })
    }

    /// Whether `principal` reviews this census's entries: a site administrator, an owner of
    /// its organisation, or a manager (or owner) of one of the organisation's projects.
    pub async fn reviews_census(
        &self,
        principal: &Principal,
        c: &CensusRow,
    ) -> Result<bool, CoreError> {
        let Some(user) = principal.user() else {
            return Ok(false);
        };
        let Some(org) = self.store.org_by_slug(&c.org_slug).await? else {
            return Ok(false);
        };
        if self.is_org_owner(principal, &org).await? {
            return Ok(true);
        }
        Ok(self.store.manages_in_org(c.org_id, user.id.0).await?)
    }

    /// Every census (public).
    pub async fn censuses(&self) -> Result<Vec<CensusRow>, CoreError> {
        Ok(self.store.censuses().await?)
    }

    /// Creates a census for an organisation; its owners (and site administrators) may.
    pub async fn create_census(
        &self,
        principal: &Principal,
        org_slug: &str,
        input: &CensusInput,
    ) -> Result<CensusRow, CoreError> {
        let user = principal.require_session_user()?;
        let org = self
            .store
            .org_by_slug(org_slug)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        if !self.is_org_owner(principal, &org).await? {
            return Err(CoreError::Forbidden);
        }
        let Checked {
            title,
            description,
            scope,
            questions,
        } = check_input(input)?;
        let slug = pick_slug(&input.slug, title)?;
        match self
            .store
            .insert_census(&NewCensus {
                org_id: org.id.0,
                slug: &slug,
                title,
                description,
                scope,
                questions: &questions,
                places: &input.places,
                categories: &input.categories,
                created_by: Some(user.id.0),
                created_at: self.now(),
            })
            .await
        {
            Err(StoreError::Conflict { .. }) => return Err(CoreError::SlugTaken { slug }),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let c = self.census_or_404(&slug).await?;
        self.audit(
            Actor::User(user.id),
            "census.create",
            &census_target(&c),
            json!({
                "title": c.title,
                "places": c.places.len(),
                "categories": c.categories.len(),
                "questions": c.questions.iter().map(|q| (q.key.clone(), q.weight)).collect::<BTreeMap<_, _>>(),
            }),
        )
        .await?;
        Ok(c)
    }

    /// A census with its places, categories and questions (public).
    pub async fn census(&self, slug: &str) -> Result<CensusRow, CoreError> {
        self.census_or_404(slug).await
    }

    /// The public table: the score of every cell's published entry, and the means.
    pub async fn census_table(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<CensusTable, CoreError> {
        let c = self.census_or_404(slug).await?;
        let entries = self.store.census_entries(c.id, &[]).await?;
        let can_review = self.reviews_census(principal, &c).await?;
        let pending = can_review.then(|| entries.iter().filter(|e| e.state == "submitted").count());
        let scores: Vec<(String, String, f64)> = entries
            .iter()
            .filter(|e| e.state == "published")
            .map(|e| {
                (
                    e.place.clone(),
                    e.category.clone(),
                    census::score(&c.questions, &e.answers),
                )
            })
            .collect();
        let table = census::table(scores.iter().map(|(p, k, s)| (p.as_str(), k.as_str(), *s)));
        Ok(CensusTable {
            census: c,
            table,
            can_review,
            pending,
        })
    }

    /// One cell: its published entry and its history.
    pub async fn census_cell(
        &self,
        principal: &Principal,
        slug: &str,
        place: &str,
        category: &str,
    ) -> Result<CensusCell, CoreError> {
        let c = self.census_or_404(slug).await?;
        let p = c
            .places
            .iter()
            .find(|p| p.code == place)
            .cloned()
            .ok_or(CoreError::NotFound { what: "place" })?;
        let k = c
            .categories
            .iter()
            .find(|k| k.code == category)
            .cloned()
            .ok_or(CoreError::NotFound { what: "category" })?;
        let can_review = self.reviews_census(principal, &c).await?;
        let mut published = None;
        let mut history = Vec::new();
        for mut e in self.store.census_cell(c.id, place, category).await? {
            if !can_review {
                // Who submitted and who reviewed is for the organisation to know.
                e.submitted_by_name.clear();
            }
            match e.state.as_str() {
                "published" => published = Some(scored(&c, e)),
                "superseded" => history.push(scored(&c, e)),
                _ if can_review => history.push(scored(&c, e)),
                _ => {}
            }
        }
        Ok(CensusCell {
            census: c,
            place: p,
            category: k,
            published,
            history,
            can_review,
        })
    }

    /// Submits an entry; anyone signed in may, while the census is open. Returns its id.
    pub async fn submit_census_entry(
        &self,
        principal: &Principal,
        slug: &str,
        input: &EntryInput,
    ) -> Result<i64, CoreError> {
        let user = principal.require_user()?;
        let c = self.census_or_404(slug).await?;
        if c.state != "open" {
            return Err(CoreError::CensusClosed);
        }
        if !c.places.iter().any(|p| p.code == input.place) {
            return Err(invalid("place", "census_place_unknown"));
        }
        if !c.categories.iter().any(|k| k.code == input.category) {
            return Err(invalid("category", "census_category_unknown"));
        }
        let answers: BTreeMap<String, Answer> = census::parse_answers(&c.questions, &input.answers)
            .map_err(|p| invalid("answers", p.reason))?;
        let sources = parse_sources(&input.sources)?;
        let comments = input.comments.trim();
        if comments.chars().count() > 5000 {
            return Err(invalid("comments", "description_length"));
        }
        let id = self
            .store
            .insert_census_entry(&NewCensusEntry {
                census_id: c.id,
                place: &input.place,
                category: &input.category,
                answers: &answers,
                comments,
                sources: &sources,
                submitted_by: Some(user.id.0),
                submitted_at: self.now(),
            })
            .await?;
        self.audit(
            Actor::User(user.id),
            "census.submit",
            &census_target(&c),
            json!({
                "entry": id,
                "place": input.place,
                "category": input.category,
                "score": census::score(&c.questions, &answers),
            }),
        )
        .await?;
        Ok(id)
    }

    /// A census for its settings page: for those who review it (owners of its organisation,
    /// managers of its projects, site administrators).
    pub async fn census_for_edit(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<CensusRow, CoreError> {
        principal.require_session_user()?;
        let c = self.census_or_404(slug).await?;
        if !self.reviews_census(principal, &c).await? {
            return Err(CoreError::Forbidden);
        }
        Ok(c)
    }

    /// Changes a census's title, description, scope, places, categories and questions (the
    /// slug stays). Entries keep their answers by question key: a removed question no longer
    /// counts in scores, a new one counts as unanswered (like *no*) in older entries. A place
    /// or category that has entries published or awaiting review cannot be removed
    /// ([`CoreError::CensusInUse`]); nothing is then changed.
    pub async fn update_census(
        &self,
        principal: &Principal,
        slug: &str,
        input: &CensusInput,
    ) -> Result<CensusRow, CoreError> {
        let user = principal.require_session_user()?;
        let before = self.census_for_edit(principal, slug).await?;
        let mut input = input.clone();
        if input.questions.is_none() {
            // Settings sent without questions keep the census's own.
            input.questions = Some(before.questions.clone());
        }
        let Checked {
            title,
            description,
            scope,
            questions,
        } = check_input(&input)?;
        let settings = CensusSettings {
            title,
            description,
            scope,
            questions: &questions,
            places: &input.places,
            categories: &input.categories,
        };
        match self.store.update_census(before.id, &settings).await? {
            Ok(()) => {}
            Err(CensusInUse::Place(code)) => {
                return Err(CoreError::CensusInUse {
                    field: "place",
                    code,
                })
            }
            Err(CensusInUse::Category(code)) => {
                return Err(CoreError::CensusInUse {
                    field: "category",
                    code,
                })
            }
        }
        let after = self.census_or_404(slug).await?;
        let weights = |qs: &[Question]| {
            qs.iter()
                .map(|q| (q.key.clone(), q.weight))
                .collect::<BTreeMap<_, _>>()
        };
        self.audit(
            Actor::User(user.id),
            "census.update",
            &census_target(&after),
            json!({
                "title": after.title,
                "places": diff(&before.places, &after.places, |p| p.code.as_str()),
                "categories": diff(&before.categories, &after.categories, |k| k.code.as_str()),
                "questions": diff(&before.questions, &after.questions, |q| q.key.as_str()),
                "weights_before": weights(&before.questions),
                "weights_after": weights(&after.questions),
            }),
        )
        .await?;
        Ok(after)
    }

    /// Closes (no new entries; the table stays public and reviewing goes on) or reopens a
    /// census. Doing it twice changes nothing and audits nothing.
    pub async fn set_census_open(
        &self,
        principal: &Principal,
        slug: &str,
        open: bool,
    ) -> Result<CensusRow, CoreError> {
        let user = principal.require_session_user()?;
        let c = self.census_for_edit(principal, slug).await?;
        let state = if open { "open" } else { "closed" };
        if self.store.set_census_state(c.id, state).await? {
            self.audit(
                Actor::User(user.id),
                if open {
                    "census.reopen"
                } else {
                    "census.close"
                },
                &census_target(&c),
                json!({ "title": c.title }),
            )
            .await?;
        }
        self.census_or_404(slug).await
    }

    /// Entries awaiting review, oldest first (reviewers only).
    pub async fn census_queue(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<(CensusRow, Vec<ScoredEntry>), CoreError> {
        principal.require_user()?;
        let c = self.census_or_404(slug).await?;
        if !self.reviews_census(principal, &c).await? {
            return Err(CoreError::Forbidden);
        }
        let entries = self.store.census_entries(c.id, &["submitted"]).await?;
        let entries = entries.into_iter().map(|e| scored(&c, e)).collect();
        Ok((c, entries))
    }

    /// Publishes or rejects an entry awaiting review, with a note.
    pub async fn review_census_entry(
        &self,
        principal: &Principal,
        slug: &str,
        entry_id: i64,
        publish: bool,
        note: &str,
    ) -> Result<ScoredEntry, CoreError> {
        let user = principal.require_user()?;
        let c = self.census_or_404(slug).await?;
        if !self.reviews_census(principal, &c).await? {
            return Err(CoreError::Forbidden);
        }
        let note = note.trim();
        if note.chars().count() > 5000 {
            return Err(invalid("note", "description_length"));
        }
        let entry = self
            .store
            .review_census_entry(c.id, entry_id, publish, note, Some(user.id.0), self.now())
            .await?
            .ok_or(CoreError::NotFound { what: "entry" })?;
        self.audit(
            Actor::User(user.id),
            "census.review",
            &census_target(&c),
            json!({
                "entry": entry.id,
                "place": entry.place,
                "category": entry.category,
                "decision": if publish { "publish" } else { "reject" },
            }),
        )
        .await?;
        Ok(scored(&c, entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, name: &str) -> CensusPlace {
        CensusPlace {
            code: code.into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_audit_names_what_changed_in_settings() {
        let before = [
            place("TD", "Tchad"),
            place("TD-ND", "N’Djamena"),
            place("TD-ME", "Mayo"),
        ];
        let after = [
            place("TD-ND", "Ville de N’Djamena"),
            place("TD", "Tchad"),
            place("TD-BG", "Batha"),
        ];
        let d = diff(&before, &after, |p| p.code.as_str());
        assert_eq!(d["added"], json!(["TD-BG"]));
        assert_eq!(d["removed"], json!(["TD-ME"]));
        assert_eq!(d["changed"], json!(["TD-ND"]));
        assert_eq!(d["reordered"], true);
        // Removing one does not make the others "moved".
        let d = diff(&before, &before[1..], |p| p.code.as_str());
        assert_eq!(d["removed"], json!(["TD"]));
        assert_eq!(d["changed"], json!([]));
        assert_eq!(d["reordered"], false);
    }

    #[test]
    fn weights_above_the_maximum_are_refused() {
        let mut questions = census::godi_questions();
        let input = |questions: Vec<Question>| CensusInput {
            title: "Census".into(),
            places: vec![place("TD", "Tchad")],
            categories: vec![CensusCategory {
                code: "budget".into(),
                title_en: "Budget".into(),
                title_fr: String::new(),
                description: String::new(),
            }],
            questions: Some(questions),
            ..CensusInput::default()
        };
        assert!(check_input(&input(questions.clone())).is_ok());
        questions[0].weight = MAX_WEIGHT + 1;
        assert!(matches!(
            check_input(&input(questions)),
            Err(CoreError::Invalid {
                field: "questions",
                reason: "census_weight_range"
            })
        ));
    }
}
