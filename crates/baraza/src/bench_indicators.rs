//! `baraza bench --only indicators`: the three targets of the indicators issue, on the demo's
//! `eau-de-base` indicator (a share weighted by household size, by month × province × sex of
//! the head of household and household-size band; crates/baraza/demo/indicateurs.toml).
//!
//! 1. **Incremental update** (`--indicator-records N`, 20,000 for the recorded figures): N
//!    realistic submissions of the demo survey (`demo::submission`, typed as at ingest) are
//!    stored in bulk and sealed (encryption at rest) while the indicator is away, then it is
//!    saved again as it was and one catch-up counts every record of the form (µs per
//!    submission: read, decrypt, evaluate the definition, store each contribution and the
//!    cells' changes, 500 records per transaction). Then 100 more submissions, each stored alone
//!    (in clear) and followed by its own catch-up, as ingest runs one after every submission:
//!    the latency of one.
//! 2. **Full recompute** of the indicator from its records (`Core::recompute_indicator`),
//!    beside what a dashboard in SQL alone would run over the same records kept flat (one
//!    column per field, built once outside the timing): one `GROUP BY month, province, sex`,
//!    and every cell the indicator page reads (six `GROUP BY`s in one `UNION ALL`).
//! 3. **The indicator page** over `--page-records` records (10,000,000 for the recorded
//!    figures). A page reads cells, not records, so the records are generated in memory —
//!    24 months, Chad's 23 provinces (a few large, many small), both sexes, household sizes
//!    1–14 — aggregated through the real code path (`compute::contribution`, then
//!    `Delta::apply`: the pure cost per record), and the cells written to the indicator through
//!    `Store::apply_indicator_delta`, in addition to the demo's and step 1's records (their
//!    contributions are not stored, only the cells). The page is then requested as HTML and
//!    `.json`, handed to the router in this process (server time, as `--only server` measures
//!    it: session, access check, the catch-up's check for new records, the cells read,
//!    figures and suppression computed, the page rendered), and `Core::indicator_view` alone.

use crate::bench::{temp_dir, BenchOptions};
use crate::{demo, Application};
use anyhow::{anyhow, bail, Result};
use axum::body::Body;
use axum::http::{header, Request};
use baraza_core::auth::ClientInfo;
use baraza_indicators::compute::{self, Delta, Record};
use baraza_indicators::define::Definition;
use baraza_store::{
    BulkSubmission, CellKeyRow, CellSums, FlatRecord, IndicatorDelta, NewIndicator,
};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SLUG: &str = "eau-de-base";
/// Submissions stored per bulk transaction.
const CHUNK: usize = 5_000;
/// Submissions each followed by its own catch-up.
const SINGLES: usize = 100;
/// Requests per page measurement (after 10 not counted).
const PAGE_REQUESTS: usize = 200;
/// Months of the generated records.
const MONTHS: usize = 24;
/// Generated records aggregated per round (generation is not timed).
const ROUND: usize = 100_000;
const DAY: i64 = 86_400;

/// A generated record: what the definition reads of it.
struct Synthetic {
    day: String,
    place: usize,
    woman: bool,
    size: u32,
    works: bool,
    type_point: &'static str,
    minutes: u32,
}

fn synthetic(rng: &mut rand::rngs::StdRng, places: usize) -> Synthetic {
    // Months 2024-12 … 2026-11.
    let m = rng.gen_range(0..MONTHS) + 11;
    let (year, month) = (2024 + m / 12, m % 12 + 1);
    // A few provinces hold most records (the capital, the east), many hold few.
    let place = ((rng.gen::<f64>().powi(3)) * places as f64) as usize;
    let minutes = if place < 3 {
        rng.gen_range(2..60)
    } else {
        rng.gen_range(5..150)
    };
    Synthetic {
        day: format!("{year}-{month:02}-{:02}", rng.gen_range(1..=28)),
        place: place.min(places - 1),
        woman: rng.gen_bool(0.34),
        size: rng.gen_range(1..15),
        works: rng.gen_bool(0.65),
        type_point: ["forage", "forage", "puits", "borne", "vendeur"][rng.gen_range(0..5)],
        minutes,
    }
}

/// Adds generated records to `delta` through the real code path; returns the time spent in
/// `contribution` and `Delta::apply` alone.
fn aggregate(
    def: &Definition,
    records: &[Synthetic],
    places: &[String],
    delta: &mut Delta,
) -> Result<Duration> {
    let distribution = compute::needs_distribution(def.spec.aggregation);
    let started = Instant::now();
    for s in records {
        let values = |name: &str| -> Option<String> {
            Some(match name {
                "today" => s.day.clone(),
                "province" => places[s.place].clone(),
                "sexe_chef" => (if s.woman { "femme" } else { "homme" }).to_owned(),
                "taille_menage" => s.size.to_string(),
                "fonctionnel" => (if s.works { "oui" } else { "non" }).to_owned(),
                "type_point" => s.type_point.to_owned(),
                "temps_trajet" => s.minutes.to_string(),
                _ => return None,
            })
        };
        let record = Record {
            values: &values,
            received: &s.day,
        };
        if let Some(c) = compute::contribution(def, &record).map_err(|e| anyhow!(e))? {
            delta.apply(&c, 1, distribution);
        }
    }
    Ok(started.elapsed())
}

/// What the catch-up does for each record apart from reading and writing the store and
/// decrypting: the values read, the contribution computed, written as JSON and added.
fn evaluate(
    def: &Definition,
    rows: &[crate::bench_export::Generated],
    distribution: bool,
) -> Result<Duration> {
    let mut delta = Delta::default();
    let started = Instant::now();
    for g in rows {
        let a = answers(&g.values_json)?;
        let received = baraza_publish::iso_timestamp(g.received_at);
        let values = |name: &str| a.get(name).cloned();
        let record = Record {
            values: &values,
            received: &received[..10.min(received.len())],
        };
        if let Some(c) = compute::contribution(def, &record).map_err(|e| anyhow!(e))? {
            let json = serde_json::to_string(&c)?;
            let c: compute::Contribution = serde_json::from_str(&json)?;
            delta.apply(&c, 1, distribution);
        }
    }
    Ok(started.elapsed())
}

/// A stored record's top-level answers by field name, as text (as indicators read them).
fn answers(values_json: &str) -> Result<BTreeMap<String, String>> {
    let values =
        baraza_publish::values::parse_values(values_json).map_err(|e| anyhow!("values: {e}"))?;
    Ok(values
        .iter()
        .filter(|v| v.repeat.is_none())
        .map(|v| {
            (
                v.question.rsplit('/').next().unwrap_or_default().to_owned(),
                baraza_publish::table::value_text(&v.value),
            )
        })
        .collect())
}

fn flat(values_json: &str) -> Result<FlatRecord> {
    let a = answers(values_json)?;
    let text = |k: &str| a.get(k).cloned().unwrap_or_default();
    let number = |k: &str| a.get(k).and_then(|v| v.trim().parse::<f64>().ok());
    Ok(FlatRecord {
        day: text("today"),
        province: text("province"),
        sexe: text("sexe_chef"),
        taille: number("taille_menage"),
        fonctionnel: text("fonctionnel"),
        type_point: text("type_point"),
        minutes: number("temps_trajet"),
    })
}

struct Spread {
    p50: f64,
    p95: f64,
    max: f64,
}

/// Milliseconds.
fn spread(mut v: Vec<Duration>) -> Spread {
    v.sort();
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let n = v.len();
    Spread {
        p50: ms(v.get(n / 2)),
        p95: ms(v.get((n * 95) / 100)),
        max: ms(v.last()),
    }
}

/// Thousands separated by commas.
pub(crate) fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn core_err(e: baraza_core::CoreError) -> anyhow::Error {
    anyhow!("{e}")
}

pub(crate) async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("indicators");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let settings = crate::bench::settings_for(&dir, opts.database_url.as_deref(), &[])?;
    let app = Application::build(&settings).await?;
    let core = app.core().clone();
    demo::seed(&core).await?;
    let store = core.store().clone();
    let backend = store.backend().as_str();
    let account = &demo::ACCOUNTS[1];
    let session = core
        .login(account.email, account.password, &ClientInfo::default())
        .await
        .map_err(|e| anyhow!("login: {e}"))?;
    let principal = core
        .cli_principal(session.user.id)
        .await
        .map_err(core_err)?;
    let access = core
        .project_access(&principal, demo::ORG_SLUG, demo::PRIVATE_PROJECT)
        .await
        .map_err(core_err)?;
    let project = access.project.id;
    let (form, version) = core.form(&access, "points_eau").await.map_err(core_err)?;
    let definition = core.indicator_view(&access, SLUG).await.map_err(core_err)?;
    // The measured indicator is taken away while the records are stored and sealed (sealing
    // notes each record as changed and catches up), then saved again as it was: its catch-up
    // then counts every record of the form, none counted yet. The survey's other indicators are
    // taken away for good: only the measured one counts.
    let mut measured = None;
    for row in store.indicators(project.0).await? {
        if row.form_id == form.id {
            core.remove_indicator(&access, &row.slug)
                .await
                .map_err(core_err)?;
            if row.slug == SLUG {
                measured = Some(row);
            }
        }
    }
    let measured = measured.ok_or_else(|| anyhow!("the demo has no indicator {SLUG}"))?;
    let def = definition.def.clone();
    let model: Arc<baraza_xlsform::Form> =
        Arc::new(baraza_core::forms::read_model(&version.model_json)?);
    let phone = store
        .list_app_users(project)
        .await?
        .first()
        .map(|u| u.id)
        .ok_or_else(|| anyhow!("demo phone"))?;
    let fatime = store
        .user_by_email(demo::ACCOUNTS[4].email)
        .await?
        .ok_or_else(|| anyhow!("demo collector"))?
        .id;
    let store_rows = |rows: Vec<crate::bench_export::Generated>| {
        let store = store.clone();
        async move {
            let bulk: Vec<BulkSubmission> = rows
                .iter()
                .map(|g| g.bulk(form.id, version.id, phone, fatime))
                .collect();
            store.insert_submissions_bulk(&bulk).await?;
            Ok::<_, anyhow::Error>(())
        }
    };
    let now = core.now();

    // 1. Incremental update through the catch-up.
    let n = opts.indicator_records.max(1);
    let mut flats = Vec::with_capacity(n + SINGLES);
    let mut evaluation = Duration::ZERO;
    let distribution = compute::needs_distribution(
        baraza_indicators::define::read_file(&measured.spec)
            .map_err(|e| anyhow!("{e}"))?
            .first()
            .map_or(baraza_indicators::define::Aggregation::Share, |s| {
                s.aggregation
            }),
    );
    let started = Instant::now();
    for from in (0..n).step_by(CHUNK) {
        let to = (from + CHUNK).min(n);
        let rows =
            crate::bench_export::generate(&model, &version.version, from, to, now - 60 * DAY, 1.0)?;
        for g in &rows {
            flats.push(flat(&g.values_json)?);
        }
        evaluation += evaluate(&def, &rows, distribution)?;
        store_rows(rows).await?;
    }
    core.seal_existing().await.map_err(core_err)?;
    let seed_secs = started.elapsed().as_secs_f64();
    store
        .put_indicator(&NewIndicator {
            project_id: project.0,
            form_id: form.id,
            slug: SLUG,
            spec: &measured.spec,
            sdg: measured.sdg.as_deref(),
            by: Some(session.user.id.0),
            at: core.now(),
        })
        .await?;
    let before = store
        .indicator(project.0, SLUG)
        .await?
        .ok_or_else(|| anyhow!("indicator {SLUG}"))?;
    let started = Instant::now();
    core.catch_up_indicators(project).await.map_err(core_err)?;
    let catch_up = started.elapsed();
    let counted = store.count_current_submissions(form.id).await?.max(1);
    let view = core.indicator_view(&access, SLUG).await.map_err(core_err)?;
    let def = view.def.clone();
    let after = store
        .indicator(project.0, SLUG)
        .await?
        .ok_or_else(|| anyhow!("indicator {SLUG}"))?;
    if after.high_water <= before.high_water {
        bail!("the catch-up counted nothing");
    }
    let mut singles = Vec::with_capacity(SINGLES);
    for i in 0..SINGLES {
        let rows = crate::bench_export::generate(
            &model,
            &version.version,
            n + i,
            n + i + 1,
            now - DAY,
            1.0,
        )?;
        flats.push(flat(&rows[0].values_json)?);
        // Stored in clear: sealing one record alone would catch up and compact the database
        // each time. The batch above includes the decryption.
        store_rows(rows).await?;
        let started = Instant::now();
        core.catch_up_indicators(project).await.map_err(core_err)?;
        singles.push(started.elapsed());
    }
    let single = spread(singles);
    report.push_str(&format!(
        "| indicator `{SLUG}` ({backend}) | time | per submission |\n|---|---|---|\n\
         | seeding: {} realistic submissions generated, typed, stored in bulk and sealed | {seed_secs:.1} s | |\n\
         | one catch-up counting the form's {} submissions not counted yet (read, decrypt, evaluate, store contributions and cells, 500 per transaction) | {:.2} s | {:.0} µs |\n\
         | of which evaluating the records alone, in clear (values JSON read, `contribution`, its JSON, `Delta::apply`) | {:.2} s | {:.1} µs |\n\
         | catch-up after each of {SINGLES} submissions stored one by one (in clear), as ingest runs it: p50 / p95 / max | {:.2} / {:.2} / {:.2} ms | |\n",
        grouped(n as u64),
        grouped(counted as u64),
        catch_up.as_secs_f64(),
        catch_up.as_secs_f64() * 1e6 / counted as f64,
        evaluation.as_secs_f64(),
        evaluation.as_secs_f64() * 1e6 / n as f64,
        single.p50,
        single.p95,
        single.max,
    ));

    // 2. Full recompute, and the same aggregation in SQL over a flat table.
    let total = store.count_current_submissions(form.id).await? as usize;
    let mut recomputes = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        core.recompute_indicator(&access, SLUG)
            .await
            .map_err(core_err)?;
        recomputes.push(started.elapsed());
    }
    store.create_flat_records(&flats).await?;
    let mut sql_one = Vec::new();
    let mut sql_all = Vec::new();
    let (mut rows_one, mut rows_all) = (0, 0);
    for _ in 0..5 {
        let started = Instant::now();
        rows_one = store.aggregate_flat_records(false).await?;
        sql_one.push(started.elapsed());
        let started = Instant::now();
        rows_all = store.aggregate_flat_records(true).await?;
        sql_all.push(started.elapsed());
    }
    let cells_now = store.indicator_cells(after.id).await?.len();
    let r = spread(recomputes);
    let one = spread(sql_one);
    let all = spread(sql_all);
    report.push_str(&format!(
        "| full recompute over {} submissions ({backend}; median of 3 / of 5) | time | per submission |\n|---|---|---|\n\
         | `Core::recompute_indicator` (from scratch: decrypt, evaluate, store {} contributions and {cells_now} cells) | {:.0} ms | {:.1} µs |\n\
         | plain SQL over a flat table of the same {} records: `GROUP BY` month, province, sex ({rows_one} rows) | {:.1} ms | {:.2} µs |\n\
         | plain SQL, every cell of the page: six `GROUP BY`s in a `UNION ALL` ({rows_all} rows) | {:.1} ms | {:.2} µs |\n",
        grouped(total as u64),
        grouped(total as u64),
        r.p50,
        r.p50 * 1e3 / total as f64,
        grouped(flats.len() as u64),
        one.p50,
        one.p50 * 1e3 / flats.len() as f64,
        all.p50,
        all.p50 * 1e3 / flats.len() as f64,
    ));

    // 3. The page over many records.
    let page_records = opts.page_records.max(1);
    let mut places: Vec<String> = core
        .places(false)
        .await
        .map_err(core_err)?
        .into_iter()
        .filter(|p| p.level == 1)
        .map(|p| p.code)
        .collect();
    places.sort();
    // The capital and the east first: they hold most records.
    for (i, code) in ["TD-ND", "TD-OD"].iter().enumerate() {
        if let Some(at) = places.iter().position(|p| p == code) {
            places.swap(i, at);
        }
    }
    if places.is_empty() {
        bail!("the demo imported no provinces");
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(611);
    let mut delta = Delta::default();
    let mut pure = Duration::ZERO;
    let mut done = 0;
    while done < page_records {
        let round = ROUND.min(page_records - done);
        let records: Vec<Synthetic> = (0..round)
            .map(|_| synthetic(&mut rng, places.len()))
            .collect();
        pure += aggregate(&def, &records, &places, &mut delta)?;
        done += round;
    }
    let row = store
        .indicator(project.0, SLUG)
        .await?
        .ok_or_else(|| anyhow!("indicator {SLUG}"))?;
    let d = IndicatorDelta {
        expected_high_water: row.high_water,
        expected_change_seq: row.change_seq,
        high_water: row.high_water,
        change_seq: row.change_seq,
        as_of: core.now(),
        cells: delta
            .moments
            .iter()
            .map(|(k, m)| {
                (
                    CellKeyRow {
                        period: k.period.clone(),
                        place: k.place.clone(),
                        dim: k.dim.clone(),
                        grp: k.group.clone(),
                    },
                    CellSums {
                        n: m.n,
                        sw: m.sw,
                        swy: m.swy,
                        sw2: m.sw2,
                        sw2y: m.sw2y,
                        sw2y2: m.sw2y2,
                        sy: m.sy,
                        sy2: m.sy2,
                    },
                )
            })
            .collect(),
        values: delta
            .values
            .iter()
            .map(|((k, bits), (n, w))| {
                (
                    CellKeyRow {
                        period: k.period.clone(),
                        place: k.place.clone(),
                        dim: k.dim.clone(),
                        grp: k.group.clone(),
                    },
                    f64::from_bits(*bits),
                    *n,
                    *w,
                )
            })
            .collect(),
        contributions: Vec::new(),
    };
    let started = Instant::now();
    if !store.apply_indicator_delta(row.id, &d).await? {
        bail!("the indicator moved while its cells were written");
    }
    let write = started.elapsed();
    let cells = store.indicator_cells(row.id).await?.len();
    let behind: i64 = store
        .indicator_cells(row.id)
        .await?
        .iter()
        .filter(|(k, _)| k.place == compute::TOTAL && k.dim == compute::TOTAL)
        .map(|(_, s)| s.n)
        .sum();

    let state = baraza_web::AppState::new(core.clone(), crate::app::web_settings(&settings))
        .map_err(|e| anyhow!(e))?;
    let router = baraza_web::router(state);
    let cookie = format!("baraza_session={}", session.secret);
    let page = format!(
        "/orgs/{}/projects/{}/indicators/{SLUG}",
        demo::ORG_SLUG,
        demo::PRIVATE_PROJECT
    );
    report.push_str(&format!(
        "| indicator page over {} records ({backend}; {cells} cells) | p50 | p95 | max |\n|---|---|---|---|\n",
        grouped(behind as u64)
    ));
    report.push_str(&format!(
        "| aggregating {} generated records: `contribution` + `Delta::apply` ({:.2} µs per record) | {:.1} s | | |\n\
         | writing their cells: `Store::apply_indicator_delta` | {:.0} ms | | |\n",
        grouped(page_records as u64),
        pure.as_secs_f64() * 1e6 / page_records as f64,
        pure.as_secs_f64(),
        write.as_secs_f64() * 1e3,
    ));
    for (label, path) in [
        ("server time, indicator page (HTML)", page.clone()),
        (
            "server time, indicator page (`.json`)",
            format!("{page}.json"),
        ),
    ] {
        let mut times = Vec::with_capacity(PAGE_REQUESTS);
        for i in 0..PAGE_REQUESTS + 10 {
            let req = Request::get(&path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())?;
            let started = Instant::now();
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            let took = started.elapsed();
            if !status.is_success() {
                bail!("{path} answered {status}");
            }
            if i >= 10 {
                times.push(took);
            }
        }
        let s = spread(times);
        report.push_str(&format!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2} ms |\n",
            s.p50, s.p95, s.max
        ));
    }
    let mut times = Vec::with_capacity(PAGE_REQUESTS);
    for _ in 0..PAGE_REQUESTS {
        let started = Instant::now();
        let v = core.indicator_view(&access, SLUG).await.map_err(core_err)?;
        times.push(started.elapsed());
        if v.cells.moments.len() != cells {
            bail!("the view has {} cells, not {cells}", v.cells.moments.len());
        }
    }
    let s = spread(times);
    report.push_str(&format!(
        "| `Core::indicator_view` alone (catch-up check, cells read, figures and suppression) | {:.2} ms | {:.2} ms | {:.2} ms |\n",
        s.p50, s.p95, s.max
    ));
    let (mut reads, mut computes) = (Vec::new(), Vec::new());
    let mut last = compute::Cells::default();
    for _ in 0..PAGE_REQUESTS {
        let started = Instant::now();
        let stored = store.indicator_cells(row.id).await?;
        reads.push(started.elapsed());
        let mut cells = compute::Cells::default();
        for (k, s) in &stored {
            cells.moments.insert(
                compute::CellKey::new(&k.period, &k.place, &k.dim, &k.grp),
                baraza_indicators::stats::Moments {
                    n: s.n,
                    sw: s.sw,
                    swy: s.swy,
                    sw2: s.sw2,
                    sw2y: s.sw2y,
                    sw2y2: s.sw2y2,
                    sy: s.sy,
                    sy2: s.sy2,
                },
            );
        }
        let started = Instant::now();
        let figures = baraza_core::indicators::figures(&def, &cells);
        computes.push(started.elapsed());
        if figures.len() < cells.moments.len() {
            bail!(
                "{} figures for {} cells",
                figures.len(),
                cells.moments.len()
            );
        }
        last = cells;
    }
    let (r, c) = (spread(reads), spread(computes));
    report.push_str(&format!(
        "| of which reading the {} cells (`Store::indicator_cells`) | {:.2} ms | {:.2} ms | {:.2} ms |\n\
         | of which figures and small-cell suppression (`figures`) | {:.2} ms | {:.2} ms | {:.2} ms |\n\n",
        last.moments.len(), r.p50, r.p95, r.max, c.p50, c.p95, c.max
    ));
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_records_count_in_the_demo_indicator() {
        let spec = baraza_indicators::define::read_file(crate::demo::INDICATORS)
            .unwrap()
            .into_iter()
            .find(|s| s.id == SLUG)
            .unwrap();
        use baraza_indicators::define::{FieldInfo, FieldKind};
        let one = |name: &str, choices: &[&str]| FieldInfo {
            name: name.to_owned(),
            kind: FieldKind::SelectOne(choices.iter().map(|c| (*c).to_owned()).collect()),
        };
        let number = |name: &str| FieldInfo {
            name: name.to_owned(),
            kind: FieldKind::Number,
        };
        let fields = vec![
            one("fonctionnel", &["oui", "non"]),
            one("type_point", &["forage", "puits", "borne", "vendeur"]),
            one("province", &["ndjamena", "ouaddai"]),
            one("sexe_chef", &["femme", "homme"]),
            number("temps_trajet"),
            number("taille_menage"),
            FieldInfo {
                name: "today".to_owned(),
                kind: FieldKind::Date,
            },
        ];
        let def = baraza_indicators::define::check(spec, &fields, &|_| true).unwrap();
        let places: Vec<String> = (0..23).map(|i| format!("TD-{i:02}")).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let records: Vec<Synthetic> = (0..2_000).map(|_| synthetic(&mut rng, 23)).collect();
        let mut delta = Delta::default();
        aggregate(&def, &records, &places, &mut delta).unwrap();
        let totals: Vec<_> = delta
            .moments
            .iter()
            .filter(|(k, _)| k.place == compute::TOTAL && k.dim == compute::TOTAL)
            .collect();
        // Every record counts once per month, over 24 months.
        assert_eq!(totals.len(), MONTHS);
        assert_eq!(totals.iter().map(|(_, m)| m.n).sum::<i64>(), 2_000);
        // Sex and household-size groups split each total.
        assert!(delta.moments.keys().any(|k| k.dim == "sexe_chef"));
        assert!(delta.moments.keys().any(|k| k.dim == "taille_menage"));
    }
}
