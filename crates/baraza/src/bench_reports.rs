//! `baraza bench --only reports`: citizen reports, from the gateway's webhook to the public map.
//!
//! The demo (its reports project, `signalements-citoyens`) gets a generic gateway channel and
//! `--reports-count` reports (1,000,000 for the recorded figures) stored in batches with
//! `Store::insert_reports`, at positions spread over Chad's 23 provinces (around each
//! province's centre, in proportion to a rough population weight), most of them published.
//! A real `baraza serve` is then started on a loopback port (SQLite in a temporary directory,
//! or `--database-url`), and measured over HTTP:
//!
//! 1. **the map**: the clustered view of the whole of Chad and a view zoomed on N'Djamena, as
//!    JSON (`…/reports/map.json`), as the HTML page and as GeoJSON (`…/reports.geojson`), for
//!    the public (anonymous, published reports only, fuzzed, k-anonymous) and for a moderator
//!    (every state, exact positions). The first request builds the project's in-memory index
//!    from the database and is reported apart. Then `WARM` requests of the same view (the
//!    project keeps its last maps until the next write, so these measure a shared view), and
//!    `WARM` requests of views never asked before (a `to` date far in the future, different
//!    each time, keeps every report but changes the view), each filtered and clustered over
//!    the whole index: median and 95th percentile, timed by the client from request to
//!    complete body over loopback;
//! 2. **webhook intake**: `--requests` distinct SMS (a sender and a text each, naming a
//!    province) POSTed as the generic gateway's JSON signed with `X-Baraza-Signature`, by
//!    `--concurrency` clients at once; each is checked, pseudonymised and sealed, read by the
//!    gazetteer, deduplicated and stored with its report and reply in one transaction before
//!    its answer (the writers batch them, sharing one flush per batch). Messages per second and latency percentiles; every answer must be a success
//!    and every message must have made a report;
//! 3. **the map after that intake**: the index catches up with the new reports on the next
//!    request (one request, then warm ones again).

use crate::bench::{settings_for, sign_in, spawn_server, stop_server, temp_dir, BenchOptions};
use crate::{demo, Application};
use anyhow::{anyhow, bail, Context, Result};
use baraza_store::NewReport;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Warm requests per map measurement.
const WARM: usize = 30;
/// Reports per `insert_reports` transaction.
const BATCH: usize = 10_000;
const SECRET: &str = "bench-generic-gateway-secret-2026";

/// Province code, name and a rough population weight.
const PROVINCES: [(&str, &str, u32); 23] = [
    ("TD-BA", "Batha", 5),
    ("TD-BG", "Bahr el Gazel", 3),
    ("TD-BO", "Borkou", 1),
    ("TD-CB", "Chari-Baguirmi", 6),
    ("TD-EE", "Ennedi-Est", 1),
    ("TD-EO", "Ennedi-Ouest", 1),
    ("TD-GR", "Guéra", 5),
    ("TD-HL", "Hadjer-Lamis", 6),
    ("TD-KA", "Kanem", 4),
    ("TD-LC", "Lac", 5),
    ("TD-LO", "Logone Occidental", 9),
    ("TD-LR", "Logone Oriental", 8),
    ("TD-MA", "Mandoul", 6),
    ("TD-MC", "Moyen-Chari", 6),
    ("TD-ME", "Mayo-Kebbi Est", 8),
    ("TD-MO", "Mayo-Kebbi Ouest", 6),
    ("TD-ND", "N'Djamena", 16),
    ("TD-OD", "Ouaddaï", 8),
    ("TD-SA", "Salamat", 3),
    ("TD-SI", "Sila", 3),
    ("TD-TA", "Tandjilé", 6),
    ("TD-TI", "Tibesti", 1),
    ("TD-WF", "Wadi Fira", 3),
];
const CATEGORIES: [&str; 4] = ["eau", "sante", "ecole", "securite"];
const KEYWORDS: [&str; 4] = ["EAU", "SANTE", "ECOLE", "SECURITE"];

fn weighted(rng: &mut StdRng) -> usize {
    let total: u32 = PROVINCES.iter().map(|p| p.2).sum();
    let mut n = rng.gen_range(0..total);
    for (i, p) in PROVINCES.iter().enumerate() {
        if n < p.2 {
            return i;
        }
        n -= p.2;
    }
    PROVINCES.len() - 1
}

/// Each province's box (west, south, east, north), from the places the demo imported.
async fn province_boxes(core: &baraza_core::Core) -> Result<Vec<[f64; 4]>> {
    let rows = core.places(true).await.map_err(|e| anyhow!("{e}"))?;
    PROVINCES
        .iter()
        .map(|(code, _, _)| {
            let row = rows
                .iter()
                .find(|r| r.code == *code)
                .ok_or_else(|| anyhow!("the demo has no place {code}"))?;
            let polys: Vec<Vec<baraza_charts::geo::Ring>> =
                serde_json::from_str(row.geometry.as_deref().unwrap_or("[]"))?;
            baraza_charts::geo::bbox_of(&polys).ok_or_else(|| anyhow!("{code} has no shape"))
        })
        .collect()
}

/// Seeds `count` reports into the project in batches; returns how long it took.
async fn seed_reports(
    core: &baraza_core::Core,
    project: i64,
    count: usize,
    boxes: &[[f64; 4]],
) -> Result<(Duration, usize)> {
    let mut rng = StdRng::seed_from_u64(27);
    let mut published = 0;
    let now = core.now();
    let started = Instant::now();
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let rows: Vec<(usize, usize, f64, f64, &str, i64, String)> = (0..n)
            .map(|i| {
                let p = weighted(&mut rng);
                let [w, s, e, no] = boxes[p];
                // Around the box's middle, closer to it more often.
                let (cx, cy) = ((w + e) / 2.0, (s + no) / 2.0);
                let spread = |r: &mut StdRng| (r.gen::<f64>() - 0.5) * (r.gen::<f64>() * 0.8);
                let lon = cx + spread(&mut rng) * (e - w);
                let lat = cy + spread(&mut rng) * (no - s);
                let state = match rng.gen_range(0..100) {
                    0..=69 => "published",
                    70..=79 => "in_review",
                    80..=87 => "verified",
                    88..=93 => "archived",
                    _ => "rejected",
                };
                let c = rng.gen_range(0..CATEGORIES.len());
                let at = now - rng.gen_range(0..365 * 86_400);
                let body = format!(
                    "{} signalement {} à {}",
                    KEYWORDS[c],
                    done + i,
                    PROVINCES[p].1
                );
                (p, c, lat, lon, state, at, body)
            })
            .collect();
        let reports: Vec<(NewReport, &str)> = rows
            .into_iter()
            .map(|(p, c, lat, lon, state, at, body)| {
                (
                    NewReport {
                        project_id: project,
                        source: "sms".into(),
                        channel_id: None,
                        form_id: None,
                        answers: "{}".into(),
                        category: CATEGORIES[c].into(),
                        body,
                        place_code: Some(PROVINCES[p].0.into()),
                        place_match: "exact".into(),
                        lat: Some(lat),
                        lon: Some(lon),
                        sender: None,
                        sender_sealed: None,
                        key_version: None,
                        author_id: None,
                        reported_at: at,
                        created_at: at,
                    },
                    state,
                )
            })
            .collect();
        published += reports.iter().filter(|r| r.1 == "published").count();
        core.store().insert_reports_in_state(&reports).await?;
        done += n;
    }
    Ok((started.elapsed(), published))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and 95th percentile in milliseconds.
fn p50_p95(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let n = v.len().max(1);
    let at = |q: usize| v.get((n * q / 100).min(n - 1)).map_or(0.0, |d| ms(*d));
    (at(50), at(95))
}

async fn timed_get(client: &reqwest::Client, url: &str) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let res = client.get(url).send().await?;
    let status = res.status();
    let body = res.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    Ok((took, body.len()))
}

pub(crate) async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("reports");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let count = opts.reports_count;
    let settings = settings_for(
        &dir,
        opts.database_url.as_deref(),
        &[("default_calling_code", "235")],
    )?;
    let (token, seed_time, backend, published) = {
        let app = Application::build(&settings).await?;
        let core = app.core().clone();
        demo::seed(&core).await?;
        let owner = core
            .store()
            .user_by_email(demo::ACCOUNTS[1].email)
            .await?
            .ok_or_else(|| anyhow!("demo owner"))?;
        let principal = core
            .cli_principal(owner.id)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let access = core
            .project_access(&principal, demo::ORG_SLUG, demo::REPORTS_PROJECT)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let channel = core
            .add_report_channel(&principal, &access, "generic", "bench", SECRET, &[])
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let boxes = province_boxes(&core).await?;
        let (took, published) = seed_reports(&core, access.project.id.0, count, &boxes).await?;
        let backend = core.store().backend().as_str().to_owned();
        core.store().close().await;
        (
            channel
                .webhook_path
                .trim_start_matches("/hooks/reports/")
                .to_owned(),
            took,
            backend,
            published,
        )
    };
    let (child, pid, base) = spawn_server(opts, &dir, opts.database_url.as_deref()).await?;
    let result = measure(
        opts, report, &base, &token, count, seed_time, &backend, published,
    )
    .await;
    stop_server(child, pid).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    opts: &BenchOptions,
    report: &mut String,
    base: &str,
    token: &str,
    count: usize,
    seed_time: Duration,
    backend: &str,
    published: usize,
) -> Result<()> {
    let public = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let moderator = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in(&moderator, base, &demo::ACCOUNTS[2]).await?;
    let project = format!(
        "{base}/orgs/{}/projects/{}",
        demo::ORG_SLUG,
        demo::REPORTS_PROJECT
    );
    report.push_str(&format!(
        "\n## Citizen reports ({backend}; {count} reports, {published} published)\n\n\
         Seeded in {:.1} s with `Store::insert_reports` ({:.0} reports/s).\n\n",
        seed_time.as_secs_f64(),
        count as f64 / seed_time.as_secs_f64().max(1e-9)
    ));

    // The map. Chad at the page's own fitted view, and N'Djamena zoomed.
    const CHAD_BBOX: &str = "13.4,7.4,24.0,23.5";
    const NDJ_BBOX: &str = "14.85,11.95,15.25,12.25";
    let views: Vec<(String, String)> = vec![
        (
            "map JSON, whole of Chad".into(),
            format!("{project}/reports/map.json"),
        ),
        (
            "map JSON, N'Djamena (zoom 11)".into(),
            format!("{project}/reports/map.json?z=11&lat=12.11&lon=15.05"),
        ),
        (
            "map page (HTML), whole of Chad".into(),
            format!("{project}/reports/map"),
        ),
        (
            "map page (HTML), N'Djamena (zoom 11)".into(),
            format!("{project}/reports/map?z=11&lat=12.11&lon=15.05"),
        ),
        (
            "GeoJSON, whole of Chad (zoom 5)".into(),
            format!("{project}/reports.geojson?zoom=5&bbox={CHAD_BBOX}"),
        ),
        (
            "GeoJSON, N'Djamena (zoom 11)".into(),
            format!("{project}/reports.geojson?zoom=11&bbox={NDJ_BBOX}"),
        ),
    ];
    // The first request reads every report into the project's index.
    let (first, _) = timed_get(&public, &views[0].1).await?;
    report.push_str(&format!(
        "First map request (builds the project's index from the database): {:.0} ms.\n\n\
         | view (client time over loopback, {WARM} requests each) | reader | kept view p50 | new view p50 | new view p95 | body |\n|---|---|---|---|---|---|\n",
        ms(first)
    ));
    map_rows(report, &public, &moderator, &views).await?;

    // Webhook intake.
    let n = opts.requests.max(1);
    let url = format!("{base}/hooks/reports/{token}");
    let mut rng = StdRng::seed_from_u64(33);
    let bodies: Vec<(String, String)> = (0..n)
        .map(|i| {
            let p = weighted(&mut rng);
            let c = rng.gen_range(0..KEYWORDS.len());
            let body = serde_json::json!({
                "id": format!("bench-{i}"),
                "from": format!("+2356{:07}", rng.gen_range(0..10_000_000)),
                "to": "3535",
                "text": format!("{} panne signalée à {} (message {i})", KEYWORDS[c], PROVINCES[p].1),
            })
            .to_string();
            let sig = format!(
                "sha256={}",
                baraza_reports::gateway::generic_signature(SECRET, body.as_bytes())
            );
            (body, sig)
        })
        .collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((body, sig)) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(times);
                };
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-baraza-signature", sig)
                    .body(body.clone())
                    .send()
                    .await?;
                let status = res.status();
                let text = res.text().await?;
                if !status.is_success() {
                    bail!("webhook {i} answered {status}: {text}");
                }
                times.push(t.elapsed());
            }
        }));
    }
    let mut times = Vec::with_capacity(n);
    for t in tasks {
        times.extend(t.await.context("webhook client")??);
    }
    let elapsed = started.elapsed();
    let (p50, p95) = p50_p95(times);
    report.push_str(&format!(
        "\n| webhook intake ({n} distinct SMS, generic gateway, HMAC-signed, {} in flight) | msgs/s | p50 | p95 |\n|---|---|---|---|\n| `POST /hooks/reports/{{token}}`, each stored with its report and reply before its answer | {:.0} | {p50:.1} ms | {p95:.1} ms |\n",
        opts.concurrency.max(1),
        n as f64 / elapsed.as_secs_f64()
    ));
    // Every message made a report: the moderator's world map counts them (every state).
    let v: serde_json::Value = moderator
        .get(format!("{project}/reports/map.json?z=1&lat=0&lon=0"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let all = v["shown"].as_u64().unwrap_or(0) + v["unplaced"].as_u64().unwrap_or(0);
    let demo_reports = (demo::REPORT_SMS_SAMPLE + 2) as u64;
    if all != (count + n) as u64 + demo_reports {
        bail!(
            "the moderator's map counts {all} reports, not the {count} seeded, {n} received and {demo_reports} of the demo"
        );
    }

    // The index catches up with the new reports.
    let (catch_up, _) = timed_get(&public, &views[0].1).await?;
    report.push_str(&format!(
        "\nFirst map request after the intake (the index reads the {n} new reports): {:.0} ms.\n",
        ms(catch_up)
    ));
    Ok(())
}

/// `url` with a `to` date far in the future, different for each `i`: a filter that keeps every
/// report but makes a view the server has not computed yet.
fn uncached(url: &str, i: usize) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}to=2100-{:02}-{:02}",
        1 + (i / 28) % 12,
        1 + i % 28
    )
}

async fn map_rows(
    report: &mut String,
    public: &reqwest::Client,
    moderator: &reqwest::Client,
    views: &[(String, String)],
) -> Result<()> {
    for (v, (label, url)) in views.iter().enumerate() {
        for (r, (reader, client)) in [("public", public), ("moderator", moderator)]
            .into_iter()
            .enumerate()
        {
            // The same view again: served from the maps the project keeps.
            let mut cached = Vec::with_capacity(WARM);
            let mut size = 0;
            for _ in 0..WARM + 2 {
                let (t, len) = timed_get(client, url).await?;
                cached.push(t);
                size = len;
            }
            cached.drain(..2);
            // A view not asked for before: filtered and clustered over every report.
            let mut fresh = Vec::with_capacity(WARM);
            for i in 0..WARM {
                let n = (v * 2 + r) * WARM + i;
                fresh.push(timed_get(client, &uncached(url, n)).await?.0);
            }
            let (c50, _) = p50_p95(cached);
            let (f50, f95) = p50_p95(fresh);
            report.push_str(&format!(
                "| {label} | {reader} | {c50:.1} ms | {f50:.1} ms | {f95:.1} ms | {:.1} KiB |\n",
                size as f64 / 1024.0
            ));
        }
    }
    Ok(())
}
