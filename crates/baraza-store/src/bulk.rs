//! Many submissions stored at once, for loads that are not ODK Collect's: seeding benchmarks and
//! test fixtures. One transaction per call, multi-row INSERTs; no replay or conflict checks
//! (instanceIDs must be new: a duplicate fails the whole call, nothing half-stored).

use crate::db::{q_built, Arg};
use crate::{Store, StoreError};
use baraza_types::UserId;

/// A submission to store in bulk: a record's first version, with its review state and time.
#[derive(Debug, Clone)]
pub struct BulkSubmission<'a> {
    pub form_id: i64,
    pub form_version_id: i64,
    pub instance_id: &'a str,
    pub xml_sha256: &'a str,
    pub xml_size: i64,
    pub values_json: &'a str,
    pub app_user_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub review_state: &'a str,
    pub received_at: i64,
}

/// Rows per INSERT statement (11 bound values each: well under both backends' limits).
const ROWS_PER_STATEMENT: usize = 500;

impl Store {
    /// Stores new submissions in one transaction; returns how many.
    pub async fn insert_submissions_bulk(
        &self,
        subs: &[BulkSubmission<'_>],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for chunk in subs.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO submissions (form_id, form_version_id, instance_id, root_instance_id, is_current,
                 xml_sha256, xml_size, values_json, app_user_id, user_id, review_state, received_at) VALUES ",
            );
            let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 11);
            for (i, s) in chunk.iter().enumerate() {
                let b = i * 10;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, TRUE, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10
                ));
                args.extend([
                    s.form_id.into(),
                    s.form_version_id.into(),
                    s.instance_id.into(),
                    s.xml_sha256.into(),
                    s.xml_size.into(),
                    s.values_json.into(),
                    s.app_user_id.into(),
                    s.user_id.map(|u| u.0).into(),
                    s.review_state.into(),
                    s.received_at.into(),
                ]);
            }
            let mut query = q_built(sql);
            for a in args {
                query = query.bind(a);
            }
            n += tx.conn().execute(query).await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

impl Store {
    /// Adds blind-index entries for stored submissions of a form, by instanceID, in one
    /// transaction (seeding benchmarks). Returns how many were added.
    pub async fn insert_subject_tokens_bulk(
        &self,
        form_id: i64,
        rows: &[(&str, &str, &str)],
    ) -> Result<u64, StoreError> {
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for (instance_id, token, path) in rows {
            n += tx
                .conn()
                .execute(
                    crate::db::q(
                        "INSERT INTO subject_index (submission_id, project_id, token, path)
                         SELECT s.id, f.project_id, $1, $2 FROM submissions s
                         JOIN forms f ON f.id = s.form_id
                         WHERE s.form_id = $3 AND s.instance_id = $4",
                    )
                    .bind(*token)
                    .bind(*path)
                    .bind(form_id)
                    .bind(*instance_id),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// A record's answers as a dashboard built on SQL alone would keep them: one flat row, one
/// column per field (`baraza bench --only indicators` compares its aggregation with an
/// indicator's recompute).
#[derive(Debug, Clone)]
pub struct FlatRecord {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub province: String,
    pub sexe: String,
    /// Household size (records without one are left out, as the weight would be missing).
    pub taille: Option<f64>,
    pub fonctionnel: String,
    pub type_point: String,
    pub minutes: Option<f64>,
}

/// The eight sums an indicator cell keeps, in SQL over the flat table's rows `r`.
const FLAT_SUMS: &str = "COUNT(*) AS n, SUM(w) AS sw, SUM(w * y) AS swy, SUM(w * w) AS sw2,
    SUM(w * w * y) AS sw2y, SUM(w * w * y * y) AS sw2y2, SUM(y) AS sy, SUM(y * y) AS sy2";

/// The flat table's rows with what the demo's `eau-de-base` indicator reads: the month, the
/// place, the sex of the head of household, the household-size band, the weight and the
/// numerator (1/0), computed in SQL.
const FLAT_ROWS: &str = "WITH r AS (SELECT substr(day, 1, 7) AS period, province AS place,
    sexe AS sex,
    CASE WHEN taille < 5 THEN '1-4' WHEN taille < 9 THEN '5-8' ELSE '9+' END AS band,
    taille AS w,
    CASE WHEN fonctionnel = 'oui' AND type_point <> 'puits' AND minutes * 2 <= 30
      THEN 1.0 ELSE 0.0 END AS y
  FROM bench_flat_records WHERE taille > 0) ";

impl Store {
    /// Creates (again) the table `bench_flat_records` holding these rows.
    pub async fn create_flat_records(&self, rows: &[FlatRecord]) -> Result<u64, StoreError> {
        self.pools
            .execute(q_built("DROP TABLE IF EXISTS bench_flat_records".into()))
            .await?;
        self.pools
            .execute(q_built(
                "CREATE TABLE bench_flat_records (day TEXT NOT NULL, province TEXT NOT NULL,
                   sexe TEXT NOT NULL, taille DOUBLE PRECISION, fonctionnel TEXT NOT NULL,
                   type_point TEXT NOT NULL, minutes DOUBLE PRECISION)"
                    .into(),
            ))
            .await?;
        let mut tx = self.pools.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO bench_flat_records (day, province, sexe, taille, fonctionnel,
                 type_point, minutes) VALUES ",
            );
            let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 7);
            for (i, r) in chunk.iter().enumerate() {
                let b = i * 7;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                ));
                args.extend([
                    r.day.clone().into(),
                    r.province.clone().into(),
                    r.sexe.clone().into(),
                    r.taille.unwrap_or(0.0).into(),
                    r.fonctionnel.clone().into(),
                    r.type_point.clone().into(),
                    r.minutes.unwrap_or(1e9).into(),
                ]);
            }
            let mut query = q_built(sql);
            for a in args {
                query = query.bind(a);
            }
            n += tx.conn().execute(query).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Aggregates `bench_flat_records` as a dashboard in SQL would; returns the rows (cells)
    /// it gives. `every_cell` false: one `GROUP BY month, province, sex`; true: every cell an
    /// indicator page reads (month × place or total × each disaggregation's groups or total),
    /// six `GROUP BY`s in one `UNION ALL`.
    pub async fn aggregate_flat_records(&self, every_cell: bool) -> Result<usize, StoreError> {
        let sql = if every_cell {
            let t = "CAST('_T' AS TEXT)";
            let groupings = [
                ("place", t, t, "period, place"),
                (t, t, t, "period"),
                (
                    "place",
                    "CAST('sexe_chef' AS TEXT)",
                    "sex",
                    "period, place, sex",
                ),
                (t, "CAST('sexe_chef' AS TEXT)", "sex", "period, sex"),
                (
                    "place",
                    "CAST('taille_menage' AS TEXT)",
                    "band",
                    "period, place, band",
                ),
                (t, "CAST('taille_menage' AS TEXT)", "band", "period, band"),
            ];
            let selects: Vec<String> = groupings
                .iter()
                .map(|(place, dim, grp, by)| {
                    format!(
                        "SELECT period, {place} AS place, {dim} AS dim, {grp} AS grp, {FLAT_SUMS}
                         FROM r GROUP BY {by}"
                    )
                })
                .collect();
            format!("{FLAT_ROWS}{}", selects.join(" UNION ALL "))
        } else {
            format!("{FLAT_ROWS}SELECT period, place, sex, {FLAT_SUMS} FROM r GROUP BY period, place, sex")
        };
        Ok(self
            .pools
            .fetch_all(crate::db::Mode::Read, q_built(sql))
            .await?
            .len())
    }
}
