//! `baraza bench --only export [--export-rows N]`: exports of a big form, over HTTP, from a real
//! `baraza serve` process.
//!
//! 1. **Seeding**: the demo's water-point survey is filled up to `N` submissions (1,000,000 for
//!    the figures in docs/BENCHMARKS.md), each one a realistic submission as ODK Collect would
//!    send it (`demo::submission`), parsed and typed exactly as at ingest, then stored in bulk
//!    transactions of 5,000 (their XML is not kept as blobs: exports never read it). Received
//!    times spread over 120 days; review states and submitters vary. Seeding tops up: a database
//!    that already holds the rows (a second run with `--database-url`) is reused.
//! 2. **Exports**: a `baraza serve` child process serves them; a client in this process downloads
//!    each format whole (CSV, CSV zip, XLSX, JSON, GeoJSON), timing from request to last byte,
//!    while another task samples the server's resident memory (VmRSS) every 20 ms: at 100,000
//!    rows received and at the end, for the CSV, to show that memory stays flat.
//! 3. **Pages**: the submissions table's `.json` twin under each filter, on the same rows.

use crate::bench::{rss_kib, sign_in, spawn_server, stop_server, temp_dir, BenchOptions};
use crate::{demo, Application};
use anyhow::{anyhow, bail, Context, Result};
use baraza_store::BulkSubmission;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Submissions generated and stored per transaction.
const CHUNK: usize = 5_000;
const DAY: i64 = 86_400;

pub(crate) struct Generated {
    pub(crate) instance_id: String,
    pub(crate) sha256: String,
    pub(crate) size: i64,
    pub(crate) values_json: String,
    pub(crate) review_state: &'static str,
    pub(crate) received_at: i64,
    pub(crate) by_phone: bool,
}

impl Generated {
    /// The row the bulk insert takes: sent from `phone` or by the person `user`.
    pub(crate) fn bulk(
        &self,
        form_id: i64,
        form_version_id: i64,
        phone: i64,
        user: baraza_types::UserId,
    ) -> BulkSubmission<'_> {
        BulkSubmission {
            form_id,
            form_version_id,
            instance_id: &self.instance_id,
            xml_sha256: &self.sha256,
            xml_size: self.size,
            values_json: &self.values_json,
            app_user_id: self.by_phone.then_some(phone),
            user_id: (!self.by_phone).then_some(user),
            review_state: self.review_state,
            received_at: self.received_at,
        }
    }
}

/// Submissions `from..to` of the benchmark, as ingest would store them.
pub(crate) fn generate(
    model: &baraza_xlsform::Form,
    version: &str,
    from: usize,
    to: usize,
    first_received: i64,
    spacing: f64,
) -> Result<Vec<Generated>> {
    use sha2::Digest;
    let mut rng = rand::rngs::StdRng::seed_from_u64(from as u64);
    (from..to)
        .map(|i| {
            let xml = demo::submission(10_000_000 + i, &mut rng, version);
            let sub = baraza_openrosa::parse_submission(
                xml.as_bytes(),
                &baraza_openrosa::Limits::default(),
            )
            .map_err(|e| anyhow!("generated submission {i}: {e}"))?;
            let values = baraza_openrosa::type_values(model, &sub)
                .map_err(|e| anyhow!("generated submission {i}: {e:?}"))?;
            let review_state = match rng.gen_range(0..100) {
                0..=84 => "received",
                85..=92 => "approved",
                93..=97 => "has_issues",
                _ => "rejected",
            };
            Ok(Generated {
                instance_id: sub.instance_id,
                sha256: hex::encode(sha2::Sha256::digest(xml.as_bytes())),
                size: xml.len() as i64,
                values_json: serde_json::to_string(&values)?,
                review_state,
                received_at: first_received + (i as f64 * spacing) as i64,
                by_phone: rng.gen_bool(0.9),
            })
        })
        .collect()
}

/// Counts CSV records (line ends outside quotes).
#[derive(Default)]
struct RecordCounter {
    quoted: bool,
    records: u64,
}

impl RecordCounter {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.records += 1,
                _ => {}
            }
        }
    }
}

struct Measured {
    secs: f64,
    bytes: u64,
    records: u64,
    rss_at_100k: Option<u64>,
    rss_end: u64,
    rss_peak: u64,
}

/// Downloads `url` whole while sampling the server's memory.
async fn measure(client: &reqwest::Client, url: &str, pid: u32, csv: bool) -> Result<Measured> {
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let progress = progress.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut at_100k = None;
            let mut peak = 0;
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                if let Ok(rss) = rss_kib(pid) {
                    peak = peak.max(rss);
                    last = rss;
                    if at_100k.is_none() && progress.load(Ordering::Relaxed) >= 100_000 {
                        at_100k = Some(rss);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (at_100k, last, peak)
        })
    };
    let started = Instant::now();
    let mut res = client.get(url).send().await?;
    if !res.status().is_success() {
        bail!("{url} answered {}", res.status());
    }
    let mut counter = RecordCounter::default();
    let mut bytes = 0u64;
    while let Some(chunk) = res.chunk().await? {
        bytes += chunk.len() as u64;
        if csv {
            counter.feed(&chunk);
            progress.store(counter.records, Ordering::Relaxed);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let rss_end = rss_kib(pid)?;
    done.store(true, Ordering::Relaxed);
    let (rss_at_100k, _, peak) = sampler.await?;
    Ok(Measured {
        secs,
        bytes,
        records: counter.records,
        rss_at_100k,
        rss_end,
        rss_peak: peak.max(rss_end),
    })
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Thousands separated by commas.
fn grouped(n: u64) -> String {
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

pub async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("export");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let settings = crate::bench::settings_for(&dir, opts.database_url.as_deref(), &[])?;
    let target = opts.export_rows.max(1);

    // 1. Seeding.
    let (backend, seeded, seed_secs, phone) = {
        let app = Application::build(&settings).await?;
        let core = app.core().clone();
        demo::seed(&core).await?;
        let store = core.store();
        let amina = store
            .user_by_email(demo::ACCOUNTS[1].email)
            .await?
            .ok_or_else(|| anyhow!("demo owner"))?;
        let principal = core
            .cli_principal(amina.id)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let access = core
            .project_access(&principal, demo::ORG_SLUG, demo::PRIVATE_PROJECT)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let (form, version) = core
            .form(&access, "points_eau")
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let model: Arc<baraza_xlsform::Form> =
            Arc::new(baraza_core::forms::read_model(&version.model_json)?);
        let phone = store
            .list_app_users(access.project.id)
            .await?
            .first()
            .map(|u| u.id)
            .ok_or_else(|| anyhow!("demo phone"))?;
        let fatime = store
            .user_by_email(demo::ACCOUNTS[4].email)
            .await?
            .ok_or_else(|| anyhow!("demo collector"))?
            .id;
        let existing = store.count_current_submissions(form.id).await? as usize;
        let started = Instant::now();
        let now = core.now();
        let first_received = now - 120 * DAY;
        let spacing = (120 * DAY) as f64 / target as f64;
        let mut from = existing;
        let gen = |from: usize| {
            let model = model.clone();
            let v = version.version.clone();
            let to = (from + CHUNK).min(target);
            tokio::task::spawn_blocking(move || {
                generate(&model, &v, from, to, first_received, spacing)
            })
        };
        let mut next = (from < target).then(|| gen(from));
        while let Some(handle) = next.take() {
            let rows = handle.await??;
            from += rows.len();
            // Generate the next chunk while this one is stored.
            next = (from < target).then(|| gen(from));
            let bulk: Vec<BulkSubmission> = rows
                .iter()
                .map(|g| g.bulk(form.id, version.id, phone, fatime))
                .collect();
            store.insert_submissions_bulk(&bulk).await?;
        }
        let seeded = from.saturating_sub(existing);
        // Sealed as the server would (encryption at rest), so that exports open what managers
        // open.
        core.seal_existing().await.map_err(|e| anyhow!("{e}"))?;
        let secs = started.elapsed().as_secs_f64();
        let total = store.count_current_submissions(form.id).await? as u64;
        if total < target as u64 {
            bail!("the form holds {total} submissions, fewer than {target}");
        }
        let backend = store.backend().as_str();
        store.close().await;
        (backend, (seeded, total), secs, phone)
    };
    let (seeded, total) = seeded;
    if seeded > 0 {
        report.push_str(&format!(
            "| seeding: {} realistic submissions generated, typed, stored in bulk and sealed ({backend}) | {:.0} s | {:.0} per second |\n\n",
            grouped(seeded as u64),
            seed_secs,
            seeded as f64 / seed_secs
        ));
    }

    // 2. Exports over HTTP from a real server process.
    let (child, pid, base) = spawn_server(opts, &dir, opts.database_url.as_deref()).await?;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    sign_in(&client, &base, &demo::ACCOUNTS[1]).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_kib(pid)?;
    let path = format!(
        "/orgs/{}/projects/{}/forms/points_eau/submissions",
        demo::ORG_SLUG,
        demo::PRIVATE_PROJECT
    );
    let api = format!(
        "/api/v1/projects/{}/{}/forms/points_eau/submissions",
        demo::ORG_SLUG,
        demo::PRIVATE_PROJECT
    );
    report.push_str(&format!(
        "| export of {} submissions over HTTP ({backend}; server idle at {}) | time | rows/s | size | server VmRSS at 100k rows → end (peak) |\n|---|---|---|---|---|\n",
        grouped(total),
        mib(idle)
    ));
    let formats = [
        ("CSV, main table (`.csv`)", format!("{path}.csv"), true),
        (
            "CSV zip, one file per repeat (`.csv.zip`)",
            format!("{path}.csv.zip"),
            false,
        ),
        (
            "XLSX, one sheet per repeat (`.xlsx`)",
            format!("{path}.xlsx"),
            false,
        ),
        ("JSON, nested (`/api/v1/…/submissions`)", api, false),
        ("GeoJSON (`.geojson`)", format!("{path}.geojson"), false),
    ];
    for (label, url, csv) in formats {
        let m = measure(&client, &format!("{base}{url}"), pid, csv)
            .await
            .with_context(|| label.to_owned())?;
        if csv && m.records != total + 1 {
            bail!(
                "the CSV export has {} records, not {} (header and rows)",
                m.records,
                total + 1
            );
        }
        let memory = match m.rss_at_100k {
            Some(at) => format!("{} → {} ({})", mib(at), mib(m.rss_end), mib(m.rss_peak)),
            None => format!("end {} (peak {})", mib(m.rss_end), mib(m.rss_peak)),
        };
        report.push_str(&format!(
            "| {label} | {:.2} s | {} | {:.1} MiB | {memory} |\n",
            m.secs,
            grouped((total as f64 / m.secs) as u64),
            m.bytes as f64 / (1024.0 * 1024.0),
        ));
    }

    // 3. The table's first page under each filter.
    let day = |offset: i64| {
        let t = baraza_publish::iso_timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
                - offset * DAY,
        );
        t[..10].to_owned()
    };
    let pages = [
        ("newest first", String::new()),
        ("oldest first", "?sort=oldest".to_owned()),
        ("review state", "?review=rejected".to_owned()),
        ("submitter", format!("?submitter=app:{phone}")),
        (
            "received on one day",
            format!("?from={}&to={}", day(60), day(60)),
        ),
        (
            "number answer > 110",
            "?question=point/temps_trajet&op=gt&value=110".to_owned(),
        ),
        (
            "select_multiple includes",
            "?question=point/pannes&value=tarie".to_owned(),
        ),
        (
            "text answer equals (rare)",
            "?question=localisation/quartier&value=Nowhere".to_owned(),
        ),
    ];
    report.push_str(&format!(
        "\n| submissions table, first page of 50 (`.json`), {} rows, {backend} | median of 5, over HTTP |\n|---|---|\n",
        grouped(total)
    ));
    for (label, query) in pages {
        let url = format!("{base}{path}.json{query}");
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let res = client.get(&url).send().await?;
            if !res.status().is_success() {
                bail!("{url} answered {}", res.status());
            }
            res.bytes().await?;
            times.push(started.elapsed());
        }
        times.sort();
        report.push_str(&format!(
            "| {label} (`{}`) | {:.1} ms |\n",
            if query.is_empty() { "" } else { &query },
            times[2].as_secs_f64() * 1e3
        ));
    }
    report.push('\n');
    stop_server(child, pid).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_records_not_lines() {
        let mut c = super::RecordCounter::default();
        c.feed(b"a,b\r\n\"x\ny\",2\r\n");
        c.feed(b"\"split");
        c.feed(b"\nhere\",3\r\n");
        assert_eq!(c.records, 3);
        assert_eq!(super::grouped(1_234_567), "1,234,567");
        assert_eq!(super::grouped(12), "12");
    }

    #[test]
    fn generated_submissions_type_as_at_ingest() {
        let compiled =
            baraza_xlsform::compile_file(crate::demo::SURVEY.as_bytes(), "points-eau.md");
        let model = compiled.form.unwrap();
        let version = model.version.clone().unwrap();
        let rows = super::generate(&model, &version, 0, 20, 1_790_000_000, 10.0).unwrap();
        assert_eq!(rows.len(), 20);
        let ids: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.instance_id.as_str()).collect();
        assert_eq!(ids.len(), 20);
        assert_eq!(rows[19].received_at, 1_790_000_190);
        assert!(rows[0]
            .values_json
            .contains("\"question\":\"temps_trajet\""));
    }
}
