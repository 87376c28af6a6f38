//! The open-data census: censuses with their places and dataset categories, and entries.
//!
//! Accepting an entry marks the cell's previous published entry `superseded` and publishes
//! the new one in one transaction: a cell never has two published entries (a unique partial
//! index says so too).

use crate::db::{q, Conn, Mode, Row};
use crate::{Store, StoreError};
use baraza_catalogue::census::{Answer, Question};
use std::collections::BTreeMap;

/// A census as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CensusRow {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub org_id: i64,
    pub org_slug: String,
    pub org_name: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub scope: String,
    pub questions: Vec<Question>,
    pub state: String,
    pub created_at: i64,
    pub places: Vec<CensusPlace>,
    pub categories: Vec<CensusCategory>,
}

/// A place of a census (a country, a province, a city).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CensusPlace {
    pub code: String,
    pub name: String,
}

/// A dataset category of a census.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CensusCategory {
    pub code: String,
    pub title_en: String,
    pub title_fr: String,
    pub description: String,
}

impl CensusCategory {
    pub fn title(&self, lang: &str) -> &str {
        if lang == "fr" && !self.title_fr.is_empty() {
            &self.title_fr
        } else {
            &self.title_en
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CensusEntryRow {
    pub id: i64,
    pub place: String,
    pub category: String,
    pub answers: BTreeMap<String, Answer>,
    pub comments: String,
    pub sources: Vec<String>,
    #[serde(skip)]
    pub submitted_by: Option<i64>,
    /// The submitter's name (shown to reviewers only; the core blanks it for others).
    pub submitted_by_name: String,
    pub submitted_at: i64,
    pub state: String,
    #[serde(skip)]
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<i64>,
    pub review_note: String,
}

/// A new census.
#[derive(Debug, Clone)]
pub struct NewCensus<'a> {
    pub org_id: i64,
    pub slug: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub scope: &'a str,
    pub questions: &'a [Question],
    pub places: &'a [CensusPlace],
    pub categories: &'a [CensusCategory],
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// A new entry.
#[derive(Debug, Clone)]
pub struct NewCensusEntry<'a> {
    pub census_id: i64,
    pub place: &'a str,
    pub category: &'a str,
    pub answers: &'a BTreeMap<String, Answer>,
    pub comments: &'a str,
    pub sources: &'a [String],
    pub submitted_by: Option<i64>,
    pub submitted_at: i64,
}

/// A census's settings as its organisers edit them: everything but its slug and state.
#[derive(Debug, Clone)]
pub struct CensusSettings<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub scope: &'a str,
    pub questions: &'a [Question],
    pub places: &'a [CensusPlace],
    pub categories: &'a [CensusCategory],
}

/// Why new settings were refused: they drop a place or a category that has entries published
/// or awaiting review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CensusInUse {
    Place(String),
    Category(String),
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse<T: serde::de::DeserializeOwned>(r: &Row, col: &str) -> Result<T, StoreError> {
    let s: String = r.get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

const CENSUS_SELECT: &str = "SELECT c.id, c.org_id, c.slug, c.title, c.description, c.scope,
       c.questions, c.state, c.created_at, o.slug AS org_slug, o.name AS org_name
     FROM censuses c JOIN organisations o ON o.id = c.org_id";

const ENTRY_SELECT: &str = "SELECT e.id, e.place, e.category, e.answers, e.comments, e.sources,
       e.submitted_by, COALESCE(u.name, '') AS submitter, e.submitted_at, e.state,
       e.reviewed_by, e.reviewed_at, e.review_note
     FROM census_entries e LEFT JOIN users u ON u.id = e.submitted_by";

fn census_from(r: &Row) -> Result<CensusRow, StoreError> {
    Ok(CensusRow {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org_slug: r.get("org_slug")?,
        org_name: r.get("org_name")?,
        slug: r.get("slug")?,
        title: r.get("title")?,
        description: r.get("description")?,
        scope: r.get("scope")?,
        questions: parse(r, "questions")?,
        state: r.get("state")?,
        created_at: r.get("created_at")?,
        places: Vec::new(),
        categories: Vec::new(),
    })
}

fn entry_from(r: &Row) -> Result<CensusEntryRow, StoreError> {
    Ok(CensusEntryRow {
        id: r.get("id")?,
        place: r.get("place")?,
        category: r.get("category")?,
        answers: parse(r, "answers")?,
        comments: r.get("comments")?,
        sources: parse(r, "sources")?,
        submitted_by: r.get("submitted_by")?,
        submitted_by_name: r.get("submitter")?,
        submitted_at: r.get("submitted_at")?,
        state: r.get("state")?,
        reviewed_by: r.get("reviewed_by")?,
        reviewed_at: r.get("reviewed_at")?,
        review_note: r.get("review_note")?,
    })
}

async fn fill(c: &mut Conn<'_>, census: &mut CensusRow) -> Result<(), StoreError> {
    for r in c
        .fetch_all(
            q("SELECT code, name FROM census_places WHERE census_id = $1 ORDER BY position")
                .bind(census.id),
        )
        .await?
    {
        census.places.push(CensusPlace {
            code: r.get("code")?,
            name: r.get("name")?,
        });
    }
    for r in c
        .fetch_all(
            q(
                "SELECT code, title_en, title_fr, description FROM census_categories
               WHERE census_id = $1 ORDER BY position",
            )
            .bind(census.id),
        )
        .await?
    {
        census.categories.push(CensusCategory {
            code: r.get("code")?,
            title_en: r.get("title_en")?,
            title_fr: r.get("title_fr")?,
            description: r.get("description")?,
        });
    }
    Ok(())
}

async fn insert_places_and_categories(
    c: &mut Conn<'_>,
    census_id: i64,
    places: &[CensusPlace],
    categories: &[CensusCategory],
) -> Result<(), StoreError> {
    for (i, p) in places.iter().enumerate() {
        c.execute(
            q("INSERT INTO census_places (census_id, code, position, name)
                   VALUES ($1, $2, $3, $4)")
            .bind(census_id)
            .bind(p.code.as_str())
            .bind(i as i64)
            .bind(p.name.as_str()),
        )
        .await?;
    }
    for (i, k) in categories.iter().enumerate() {
        c.execute(
            q(
                "INSERT INTO census_categories (census_id, code, position, title_en, title_fr,
                     description)
                   VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(census_id)
            .bind(k.code.as_str())
            .bind(i as i64)
            .bind(k.title_en.as_str())
            .bind(k.title_fr.as_str())
            .bind(k.description.as_str()),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// Every census (without places and categories), newest first.
    pub async fn censuses(&self) -> Result<Vec<CensusRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "{CENSUS_SELECT} ORDER BY c.created_at DESC, c.id DESC"
                )),
            )
            .await?
            .iter()
            .map(census_from)
            .collect()
    }

    /// One census by slug, with its places and categories.
    pub async fn census(&self, slug: &str) -> Result<Option<CensusRow>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let Some(row) = c
            .fetch_optional(
                crate::db::q_built(format!("{CENSUS_SELECT} WHERE c.slug = $1")).bind(slug),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut census = census_from(&row)?;
        fill(&mut c, &mut census).await?;
        tx.commit().await?;
        Ok(Some(census))
    }

    /// Creates a census with its places and categories; a slug already taken is
    /// `Conflict { what: "censuses.slug" }`.
    pub async fn insert_census(&self, n: &NewCensus<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let id: i64 = c
            .fetch_one(
                q(
                    "INSERT INTO censuses (org_id, slug, title, description, scope, questions,
                     state, created_by, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) RETURNING id",
                )
                .bind(n.org_id)
                .bind(n.slug)
                .bind(n.title)
                .bind(n.description)
                .bind(n.scope)
                .bind(json(&n.questions))
                .bind(n.created_by)
                .bind(n.created_at),
            )
            .await?
            .get("id")?;
        insert_places_and_categories(&mut c, id, n.places, n.categories).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a census's title, description, scope, questions, places and categories, in
    /// one transaction. Places and categories are kept by code, in the order given. A place or
    /// category left out while it still has entries published or awaiting review refuses the
    /// whole change (`Ok(Err(..))`, nothing written); entries of other states stay stored.
    pub async fn update_census(
        &self,
        census_id: i64,
        s: &CensusSettings<'_>,
    ) -> Result<Result<(), CensusInUse>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let used = c
            .fetch_all(
                q("SELECT DISTINCT place, category FROM census_entries
                   WHERE census_id = $1 AND state IN ('published', 'submitted')
                   ORDER BY place, category")
                .bind(census_id),
            )
            .await?;
        for r in &used {
            let place: String = r.get("place")?;
            let category: String = r.get("category")?;
            if !s.places.iter().any(|p| p.code == place) {
                return Ok(Err(CensusInUse::Place(place)));
            }
            if !s.categories.iter().any(|k| k.code == category) {
                return Ok(Err(CensusInUse::Category(category)));
            }
        }
        c.execute(
            q(
                "UPDATE censuses SET title = $2, description = $3, scope = $4, questions = $5
               WHERE id = $1",
            )
            .bind(census_id)
            .bind(s.title)
            .bind(s.description)
            .bind(s.scope)
            .bind(json(&s.questions)),
        )
        .await?;
        c.execute(q("DELETE FROM census_places WHERE census_id = $1").bind(census_id))
            .await?;
        c.execute(q("DELETE FROM census_categories WHERE census_id = $1").bind(census_id))
            .await?;
        insert_places_and_categories(&mut c, census_id, s.places, s.categories).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Opens or closes a census (`open` | `closed`). False when it is already in that state.
    pub async fn set_census_state(&self, census_id: i64, state: &str) -> Result<bool, StoreError> {
        let n = self
            .pools
            .execute(
                q("UPDATE censuses SET state = $2 WHERE id = $1 AND state <> $2")
                    .bind(census_id)
                    .bind(state),
            )
            .await?;
        Ok(n > 0)
    }

    /// Stores a submitted entry; returns its id.
    pub async fn insert_census_entry(&self, n: &NewCensusEntry<'_>) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO census_entries (census_id, place, category, answers, comments,
                     sources, submitted_by, submitted_at, state)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted') RETURNING id",
                )
                .bind(n.census_id)
                .bind(n.place)
                .bind(n.category)
                .bind(json(n.answers))
                .bind(n.comments)
                .bind(json(&n.sources))
                .bind(n.submitted_by)
                .bind(n.submitted_at),
            )
            .await?
            .get("id")
    }

    /// A census's entries in some states (all when `states` is empty), oldest first.
    pub async fn census_entries(
        &self,
        census_id: i64,
        states: &[&str],
    ) -> Result<Vec<CensusEntryRow>, StoreError> {
        let rows = self
            .pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "{ENTRY_SELECT} WHERE e.census_id = $1 ORDER BY e.submitted_at, e.id"
                ))
                .bind(census_id),
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let e = entry_from(r)?;
            if states.is_empty() || states.contains(&e.state.as_str()) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Every entry of one cell, newest first.
    pub async fn census_cell(
        &self,
        census_id: i64,
        place: &str,
        category: &str,
    ) -> Result<Vec<CensusEntryRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                crate::db::q_built(format!(
                    "{ENTRY_SELECT} WHERE e.census_id = $1 AND e.place = $2 AND e.category = $3
                     ORDER BY e.submitted_at DESC, e.id DESC"
                ))
                .bind(census_id)
                .bind(place)
                .bind(category),
            )
            .await?
            .iter()
            .map(entry_from)
            .collect()
    }

    /// Reviews a submitted entry: publishes it (the cell's published entry becomes
    /// `superseded`) or rejects it. False when the census has no such entry awaiting review.
    pub async fn review_census_entry(
        &self,
        census_id: i64,
        entry_id: i64,
        publish: bool,
        note: &str,
        by: Option<i64>,
        at: i64,
    ) -> Result<Option<CensusEntryRow>, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let Some(row) = c
            .fetch_optional(
                crate::db::q_built(format!(
                    "{ENTRY_SELECT} WHERE e.census_id = $1 AND e.id = $2 AND e.state = 'submitted'"
                ))
                .bind(census_id)
                .bind(entry_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let mut entry = entry_from(&row)?;
        if publish {
            c.execute(
                q("UPDATE census_entries SET state = 'superseded'
                   WHERE census_id = $1 AND place = $2 AND category = $3 AND state = 'published'")
                .bind(census_id)
                .bind(entry.place.as_str())
                .bind(entry.category.as_str()),
            )
            .await?;
        }
        let state = if publish { "published" } else { "rejected" };
        c.execute(
            q(
                "UPDATE census_entries SET state = $2, reviewed_by = $3, reviewed_at = $4,
                 review_note = $5
               WHERE id = $1",
            )
            .bind(entry_id)
            .bind(state)
            .bind(by)
            .bind(at)
            .bind(note),
        )
        .await?;
        tx.commit().await?;
        entry.state = state.into();
        entry.reviewed_by = by;
        entry.reviewed_at = Some(at);
        entry.review_note = note.into();
        Ok(Some(entry))
    }

    /// Whether a person manages (or owns) a project of this organisation.
    pub async fn manages_in_org(&self, org_id: i64, user_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .fetch_optional(
                Mode::Read,
                q("SELECT 1 AS one FROM project_members pm JOIN projects p ON p.id = pm.project_id
                   WHERE p.org_id = $1 AND pm.user_id = $2 AND pm.role IN ('manager', 'owner')")
                .bind(org_id)
                .bind(user_id),
            )
            .await?
            .is_some())
    }
}
