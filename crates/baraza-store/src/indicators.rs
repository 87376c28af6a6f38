//! Indicators: their definitions, the cells that hold their figures, the contributions of each
//! record, places and official series.
//!
//! The cells are updated by a *catch-up*: the core reads what changed since the indicator's
//! marks (`high_water`, the last submission id read; `change_seq`, the last change read), works
//! out the contributions, and hands [`IndicatorDelta`] to [`Store::apply_indicator_delta`], which
//! writes it in one transaction only if the marks are still those it read (a compare-and-swap):
//! two servers catching up at once never count a record twice; the loser reads again.

use crate::db::{q, Mode, Row};
use crate::{Store, StoreError};

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub id: i64,
    pub project_id: i64,
    pub form_id: i64,
    pub slug: String,
    /// One `[[indicator]]` table of baraza-indicators' definition file (TOML).
    pub spec: String,
    /// The canonical SDG indicator code it is linked to, if any.
    pub sdg: Option<String>,
    pub position: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub high_water: i64,
    pub change_seq: i64,
    /// When the cells were last brought up to date (seconds).
    pub as_of: i64,
}

const INDICATOR_COLUMNS: &str = "id, project_id, form_id, slug, spec, sdg, position, created_by, \
     created_at, updated_at, high_water, change_seq, as_of";

fn indicator_from(r: &Row) -> Result<IndicatorRow, StoreError> {
    Ok(IndicatorRow {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        form_id: r.get("form_id")?,
        slug: r.get("slug")?,
        spec: r.get("spec")?,
        sdg: r.get("sdg")?,
        position: r.get("position")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        high_water: r.get("high_water")?,
        change_seq: r.get("change_seq")?,
        as_of: r.get("as_of")?,
    })
}

/// A new or changed definition.
#[derive(Debug, Clone)]
pub struct NewIndicator<'a> {
    pub project_id: i64,
    pub form_id: i64,
    pub slug: &'a str,
    pub spec: &'a str,
    pub sdg: Option<&'a str>,
    pub by: Option<i64>,
    pub at: i64,
}

/// The sums of one cell, as stored (see baraza-indicators' `Moments`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CellSums {
    pub n: i64,
    pub sw: f64,
    pub swy: f64,
    pub sw2: f64,
    pub sw2y: f64,
    pub sw2y2: f64,
    pub sy: f64,
    pub sy2: f64,
}

/// A cell's key: period × place × (dimension, group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKeyRow {
    pub period: String,
    pub place: String,
    pub dim: String,
    pub grp: String,
}

/// A record of the form, as the catch-up reads it.
#[derive(Debug, Clone)]
pub struct IndicatorRecord {
    pub id: i64,
    pub instance_id: String,
    /// Stored typed values (answers may be sealed: the core opens them).
    pub values_json: String,
    pub received_at: i64,
    /// Current (not replaced by an edit) and not rejected.
    pub counts: bool,
}

/// What a catch-up writes.
#[derive(Debug, Clone, Default)]
pub struct IndicatorDelta {
    /// The marks read before the catch-up; nothing is written unless they are still current.
    pub expected_high_water: i64,
    pub expected_change_seq: i64,
    pub high_water: i64,
    pub change_seq: i64,
    pub as_of: i64,
    /// Sums to add to cells (negative to take away).
    pub cells: Vec<(CellKeyRow, CellSums)>,
    /// (cell, value, records, weights) to add to distributions.
    pub values: Vec<(CellKeyRow, f64, i64, f64)>,
    /// Contributions to write: (submission, contribution JSON, error); both `None` removes.
    pub contributions: Vec<(i64, Option<String>, Option<String>)>,
}

/// A place of the administrative hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRow {
    pub code: String,
    pub name: String,
    pub level: i64,
    pub parent: Option<String>,
    /// Simplified polygons (JSON: polygon → ring → [lon, lat]).
    pub geometry: Option<String>,
    pub source: String,
    pub attribution: String,
    pub licence: String,
    pub imported_at: i64,
}

/// One imported official series.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficialSeriesRow {
    pub id: i64,
    pub project_id: i64,
    pub indicator: String,
    pub series: String,
    pub title: String,
    pub source: String,
    pub layout: String,
    /// JSON array of baraza-indicators' `official::Observation`.
    pub observations: String,
    pub imported_by: Option<i64>,
    pub imported_at: i64,
}

impl Store {
    pub async fn indicators(&self, project_id: i64) -> Result<Vec<IndicatorRow>, StoreError> {
        let sql = format!(
            "SELECT {INDICATOR_COLUMNS} FROM indicators WHERE project_id = $1 ORDER BY position, id"
        );
        self.pools
            .fetch_all(Mode::Read, crate::db::q_built(sql).bind(project_id))
            .await?
            .iter()
            .map(indicator_from)
            .collect()
    }

    pub async fn indicators_of_form(&self, form_id: i64) -> Result<Vec<IndicatorRow>, StoreError> {
        let sql =
            format!("SELECT {INDICATOR_COLUMNS} FROM indicators WHERE form_id = $1 ORDER BY id");
        self.pools
            .fetch_all(Mode::Read, crate::db::q_built(sql).bind(form_id))
            .await?
            .iter()
            .map(indicator_from)
            .collect()
    }

    pub async fn indicator(
        &self,
        project_id: i64,
        slug: &str,
    ) -> Result<Option<IndicatorRow>, StoreError> {
        let sql = format!(
            "SELECT {INDICATOR_COLUMNS} FROM indicators WHERE project_id = $1 AND slug = $2"
        );
        self.pools
            .fetch_optional(
                Mode::Read,
                crate::db::q_built(sql).bind(project_id).bind(slug),
            )
            .await?
            .as_ref()
            .map(indicator_from)
            .transpose()
    }

    /// Creates an indicator, or replaces the definition of the one with this slug: its cells
    /// and contributions are emptied and its marks reset, so the next catch-up computes it
    /// again from every record.
    pub async fn put_indicator(&self, n: &NewIndicator<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        let existing = c
            .fetch_optional(
                q("SELECT id FROM indicators WHERE project_id = $1 AND slug = $2")
                    .bind(n.project_id)
                    .bind(n.slug),
            )
            .await?;
        // Changes before now are reflected by a computation from scratch.
        let seq: i64 = c
            .fetch_one(q(
                "SELECT COALESCE(MAX(seq), 0) AS s FROM submission_changes",
            ))
            .await?
            .get("s")?;
        let id =
            match existing {
                Some(r) => {
                    let id: i64 = r.get("id")?;
                    for table in [
                        "DELETE FROM indicator_cells WHERE indicator_id = $1",
                        "DELETE FROM indicator_values WHERE indicator_id = $1",
                        "DELETE FROM indicator_contributions WHERE indicator_id = $1",
                    ] {
                        c.execute(q(table).bind(id)).await?;
                    }
                    c.execute(
                    q("UPDATE indicators SET form_id = $2, spec = $3, sdg = $4, updated_at = $5,
                         high_water = 0, change_seq = $6, as_of = 0 WHERE id = $1")
                    .bind(id)
                    .bind(n.form_id)
                    .bind(n.spec)
                    .bind(n.sdg)
                    .bind(n.at)
                    .bind(seq),
                )
                .await?;
                    id
                }
                None => {
                    let position: i64 = c
                        .fetch_one(
                            q("SELECT COALESCE(MAX(position), 0) + 1 AS p FROM indicators
                           WHERE project_id = $1")
                            .bind(n.project_id),
                        )
                        .await?
                        .get("p")?;
                    c.fetch_one(
                    q("INSERT INTO indicators (project_id, form_id, slug, spec, sdg, position,
                         created_by, created_at, updated_at, change_seq)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id")
                    .bind(n.project_id)
                    .bind(n.form_id)
                    .bind(n.slug)
                    .bind(n.spec)
                    .bind(n.sdg)
                    .bind(position)
                    .bind(n.by)
                    .bind(n.at)
                    .bind(seq),
                )
                .await?
                .get("id")?
                }
            };
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_indicator(&self, project_id: i64, slug: &str) -> Result<bool, StoreError> {
        Ok(self
            .pools
            .execute(
                q("DELETE FROM indicators WHERE project_id = $1 AND slug = $2")
                    .bind(project_id)
                    .bind(slug),
            )
            .await?
            > 0)
    }

    /// The form's records with an id above `after`, oldest first (at most `limit`).
    pub async fn indicator_new_records(
        &self,
        form_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<IndicatorRecord>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT id, instance_id, values_json, received_at,
                     CAST(CASE WHEN is_current AND review_state <> 'rejected' THEN 1 ELSE 0 END AS BIGINT) AS counts
                   FROM submissions WHERE form_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(form_id)
                .bind(after)
                .bind(limit),
            )
            .await?
            .iter()
            .map(record_from)
            .collect()
    }

    /// The records with these ids still stored (erased ones are absent).
    pub async fn indicator_records(
        &self,
        form_id: i64,
        ids: &[i64],
    ) -> Result<Vec<IndicatorRecord>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let list = id_list(chunk);
            let sql = format!(
                "SELECT id, instance_id, values_json, received_at,
                   CAST(CASE WHEN is_current AND review_state <> 'rejected' THEN 1 ELSE 0 END AS BIGINT) AS counts
                 FROM submissions WHERE form_id = $1 AND id IN ({list})"
            );
            for r in self
                .pools
                .fetch_all(Mode::Read, crate::db::q_built(sql).bind(form_id))
                .await?
            {
                out.push(record_from(&r)?);
            }
        }
        Ok(out)
    }

    /// Changes to the form's records after `after`: (seq, submission id), oldest first.
    pub async fn submission_changes(
        &self,
        form_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q("SELECT seq, submission_id FROM submission_changes
                   WHERE form_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                .bind(form_id)
                .bind(after)
                .bind(limit),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("seq")?, r.get("submission_id")?)))
            .collect()
    }

    /// The stored contributions of these records to an indicator: (submission, contribution
    /// JSON, error).
    pub async fn indicator_contributions(
        &self,
        indicator_id: i64,
        ids: &[i64],
    ) -> Result<Vec<(i64, Option<String>, Option<String>)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let list = id_list(chunk);
            let sql = format!(
                "SELECT submission_id, contribution, error FROM indicator_contributions
                 WHERE indicator_id = $1 AND submission_id IN ({list})"
            );
            for r in self
                .pools
                .fetch_all(Mode::Read, crate::db::q_built(sql).bind(indicator_id))
                .await?
            {
                out.push((
                    r.get("submission_id")?,
                    r.get("contribution")?,
                    r.get("error")?,
                ));
            }
        }
        Ok(out)
    }

    /// Records that could not be counted, and the first few reasons.
    pub async fn indicator_errors(
        &self,
        indicator_id: i64,
    ) -> Result<(i64, Vec<(i64, String)>), StoreError> {
        let count: i64 = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT COUNT(*) AS c FROM indicator_contributions
                   WHERE indicator_id = $1 AND error IS NOT NULL")
                .bind(indicator_id),
            )
            .await?
            .get("c")?;
        let first = self
            .pools
            .fetch_all(
                Mode::Read,
                q("SELECT submission_id, error FROM indicator_contributions
                   WHERE indicator_id = $1 AND error IS NOT NULL ORDER BY submission_id LIMIT 5")
                .bind(indicator_id),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("submission_id")?, r.get("error")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok((count, first))
    }

    /// Writes a catch-up's delta if the marks are still those it read; `false` when another
    /// catch-up moved them first (nothing written; read again).
    pub async fn apply_indicator_delta(
        &self,
        indicator_id: i64,
        d: &IndicatorDelta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        // The compare-and-swap comes first: it also takes the row's write lock.
        let moved = c
            .execute(
                q(
                    "UPDATE indicators SET high_water = $2, change_seq = $3, as_of = $4
                   WHERE id = $1 AND high_water = $5 AND change_seq = $6",
                )
                .bind(indicator_id)
                .bind(d.high_water)
                .bind(d.change_seq)
                .bind(d.as_of)
                .bind(d.expected_high_water)
                .bind(d.expected_change_seq),
            )
            .await?;
        if moved != 1 {
            return Ok(false);
        }
        for (k, s) in &d.cells {
            c.execute(
                q("INSERT INTO indicator_cells (indicator_id, period, place, dim, grp, n, sw, swy,
                     sw2, sw2y, sw2y2, sy, sy2)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                   ON CONFLICT (indicator_id, period, place, dim, grp) DO UPDATE SET
                     n = indicator_cells.n + excluded.n, sw = indicator_cells.sw + excluded.sw,
                     swy = indicator_cells.swy + excluded.swy,
                     sw2 = indicator_cells.sw2 + excluded.sw2,
                     sw2y = indicator_cells.sw2y + excluded.sw2y,
                     sw2y2 = indicator_cells.sw2y2 + excluded.sw2y2,
                     sy = indicator_cells.sy + excluded.sy,
                     sy2 = indicator_cells.sy2 + excluded.sy2")
                .bind(indicator_id)
                .bind(k.period.as_str())
                .bind(k.place.as_str())
                .bind(k.dim.as_str())
                .bind(k.grp.as_str())
                .bind(s.n)
                .bind(s.sw)
                .bind(s.swy)
                .bind(s.sw2)
                .bind(s.sw2y)
                .bind(s.sw2y2)
                .bind(s.sy)
                .bind(s.sy2),
            )
            .await?;
        }
        if !d.cells.is_empty() {
            c.execute(
                q("DELETE FROM indicator_cells WHERE indicator_id = $1 AND n <= 0")
                    .bind(indicator_id),
            )
            .await?;
        }
        for (k, x, n, w) in &d.values {
            c.execute(
                q(
                    "INSERT INTO indicator_values (indicator_id, period, place, dim, grp, x, n, sw)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (indicator_id, period, place, dim, grp, x) DO UPDATE SET
                     n = indicator_values.n + excluded.n, sw = indicator_values.sw + excluded.sw",
                )
                .bind(indicator_id)
                .bind(k.period.as_str())
                .bind(k.place.as_str())
                .bind(k.dim.as_str())
                .bind(k.grp.as_str())
                .bind(*x)
                .bind(*n)
                .bind(*w),
            )
            .await?;
        }
        if !d.values.is_empty() {
            c.execute(
                q("DELETE FROM indicator_values WHERE indicator_id = $1 AND n <= 0")
                    .bind(indicator_id),
            )
            .await?;
        }
        for (sub, contribution, error) in &d.contributions {
            if contribution.is_none() && error.is_none() {
                c.execute(
                    q("DELETE FROM indicator_contributions
                       WHERE indicator_id = $1 AND submission_id = $2")
                    .bind(indicator_id)
                    .bind(*sub),
                )
                .await?;
            } else {
                c.execute(
                    q(
                        "INSERT INTO indicator_contributions (indicator_id, submission_id,
                         contribution, error) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (indicator_id, submission_id) DO UPDATE SET
                         contribution = excluded.contribution, error = excluded.error",
                    )
                    .bind(indicator_id)
                    .bind(*sub)
                    .bind(contribution.clone())
                    .bind(error.clone()),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The form's last submission id and last noted change (0 when none): a catch-up with
    /// marks at least these has nothing to read.
    pub async fn form_marks(&self, form_id: i64) -> Result<(i64, i64), StoreError> {
        let r = self
            .pools
            .fetch_one(
                Mode::Read,
                q("SELECT (SELECT COALESCE(MAX(id), 0) FROM submissions WHERE form_id = $1) AS hw,
                     (SELECT COALESCE(MAX(seq), 0) FROM submission_changes WHERE form_id = $1)
                     AS seq")
                .bind(form_id),
            )
            .await?;
        Ok((r.get("hw")?, r.get("seq")?))
    }

    /// Forms (with their project) whose records changed since their indicators last read.
    pub async fn forms_with_changes(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT DISTINCT f.project_id, f.id FROM submission_changes c
                   JOIN forms f ON f.id = c.form_id ORDER BY f.id",
                ),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("project_id")?, r.get("id")?)))
            .collect()
    }

    /// Forgets the changes every indicator of the form has read.
    pub async fn prune_submission_changes(&self, form_id: i64) -> Result<u64, StoreError> {
        self.pools
            .execute(
                q(
                    "DELETE FROM submission_changes WHERE form_id = $1 AND seq <= COALESCE(
                     (SELECT MIN(change_seq) FROM indicators WHERE form_id = $1),
                     (SELECT MAX(seq) FROM submission_changes WHERE form_id = $1))",
                )
                .bind(form_id),
            )
            .await
    }

    /// Every cell of an indicator.
    pub async fn indicator_cells(
        &self,
        indicator_id: i64,
    ) -> Result<Vec<(CellKeyRow, CellSums)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT period, place, dim, grp, n, sw, swy, sw2, sw2y, sw2y2, sy, sy2
                   FROM indicator_cells WHERE indicator_id = $1
                   ORDER BY period, place, dim, grp",
                )
                .bind(indicator_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    key_from(r)?,
                    CellSums {
                        n: r.get("n")?,
                        sw: r.get("sw")?,
                        swy: r.get("swy")?,
                        sw2: r.get("sw2")?,
                        sw2y: r.get("sw2y")?,
                        sw2y2: r.get("sw2y2")?,
                        sy: r.get("sy")?,
                        sy2: r.get("sy2")?,
                    },
                ))
            })
            .collect()
    }

    /// Every distribution entry of an indicator: (cell, value, records, weights).
    pub async fn indicator_values(
        &self,
        indicator_id: i64,
    ) -> Result<Vec<(CellKeyRow, f64, i64, f64)>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT period, place, dim, grp, x, n, sw FROM indicator_values
                   WHERE indicator_id = $1 ORDER BY period, place, dim, grp, x",
                )
                .bind(indicator_id),
            )
            .await?
            .iter()
            .map(|r| Ok((key_from(r)?, r.get("x")?, r.get("n")?, r.get("sw")?)))
            .collect()
    }

    // Places.

    /// Adds or replaces places (by code), all or none.
    pub async fn put_places(&self, places: &[PlaceRow]) -> Result<(), StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut c = tx.conn();
        for p in places {
            c.execute(
                q(
                    "INSERT INTO places (code, name, level, parent, geometry, source, attribution,
                     licence, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                     parent = excluded.parent, geometry = excluded.geometry,
                     source = excluded.source, attribution = excluded.attribution,
                     licence = excluded.licence, imported_at = excluded.imported_at",
                )
                .bind(p.code.as_str())
                .bind(p.name.as_str())
                .bind(p.level)
                .bind(p.parent.clone())
                .bind(p.geometry.clone())
                .bind(p.source.as_str())
                .bind(p.attribution.as_str())
                .bind(p.licence.as_str())
                .bind(p.imported_at),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Places, without their geometry unless asked.
    pub async fn places(&self, with_geometry: bool) -> Result<Vec<PlaceRow>, StoreError> {
        let sql = if with_geometry {
            "SELECT code, name, level, parent, geometry, source, attribution, licence, imported_at
             FROM places ORDER BY level, code"
        } else {
            "SELECT code, name, level, parent, NULL AS geometry, source, attribution, licence,
               imported_at FROM places ORDER BY level, code"
        };
        self.pools
            .fetch_all(Mode::Read, q(sql))
            .await?
            .iter()
            .map(|r| {
                Ok(PlaceRow {
                    code: r.get("code")?,
                    name: r.get("name")?,
                    level: r.get("level")?,
                    parent: r.get("parent")?,
                    geometry: r.get("geometry")?,
                    source: r.get("source")?,
                    attribution: r.get("attribution")?,
                    licence: r.get("licence")?,
                    imported_at: r.get("imported_at")?,
                })
            })
            .collect()
    }

    // Official series.

    /// Adds an official series, or replaces the one with the same indicator and series code.
    pub async fn put_official_series(&self, s: &OfficialSeriesRow) -> Result<i64, StoreError> {
        self.pools
            .fetch_one(
                Mode::Write,
                q(
                    "INSERT INTO official_series (project_id, indicator, series, title, source,
                     layout, observations, imported_by, imported_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (project_id, indicator, series) DO UPDATE SET
                     title = excluded.title, source = excluded.source, layout = excluded.layout,
                     observations = excluded.observations, imported_by = excluded.imported_by,
                     imported_at = excluded.imported_at
                   RETURNING id",
                )
                .bind(s.project_id)
                .bind(s.indicator.as_str())
                .bind(s.series.as_str())
                .bind(s.title.as_str())
                .bind(s.source.as_str())
                .bind(s.layout.as_str())
                .bind(s.observations.as_str())
                .bind(s.imported_by)
                .bind(s.imported_at),
            )
            .await?
            .get("id")
    }

    pub async fn official_series(
        &self,
        project_id: i64,
    ) -> Result<Vec<OfficialSeriesRow>, StoreError> {
        self.pools
            .fetch_all(
                Mode::Read,
                q(
                    "SELECT id, project_id, indicator, series, title, source, layout, observations,
                     imported_by, imported_at
                   FROM official_series WHERE project_id = $1 ORDER BY indicator, series",
                )
                .bind(project_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(OfficialSeriesRow {
                    id: r.get("id")?,
                    project_id: r.get("project_id")?,
                    indicator: r.get("indicator")?,
                    series: r.get("series")?,
                    title: r.get("title")?,
                    source: r.get("source")?,
                    layout: r.get("layout")?,
                    observations: r.get("observations")?,
                    imported_by: r.get("imported_by")?,
                    imported_at: r.get("imported_at")?,
                })
            })
            .collect()
    }
}

/// Ids for an `IN (…)` list: integers only, never input text.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn key_from(r: &Row) -> Result<CellKeyRow, StoreError> {
    Ok(CellKeyRow {
        period: r.get("period")?,
        place: r.get("place")?,
        dim: r.get("dim")?,
        grp: r.get("grp")?,
    })
}

fn record_from(r: &Row) -> Result<IndicatorRecord, StoreError> {
    Ok(IndicatorRecord {
        id: r.get("id")?,
        instance_id: r.get("instance_id")?,
        values_json: r.get("values_json")?,
        received_at: r.get("received_at")?,
        counts: r.get::<i64>("counts")? == 1,
    })
}
