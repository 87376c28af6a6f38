//! `baraza bench --only encryption`, second part: finding one person among many records through
//! the blind index, as a data-subject request does (`Core::find_subject`: normalise the phone
//! number, hash it with the project's index key, look it up, read the records, audit the search).
//!
//! The records are stored in bulk with their blind-index entries, computed with the project's
//! real data key (one phone number per record); their answers are not needed by the lookup.

use crate::bench::{temp_dir, BenchOptions};
use crate::demo;
use anyhow::{anyhow, bail, Result};
use baraza_protect::BlindKind;
use baraza_store::BulkSubmission;
use std::sync::Arc;
use std::time::Instant;

const FORM: &str = "| survey | | | |\n| | type | name | label |\n| | text | nom_complet | Nom complet |\n| | text | telephone | Téléphone |\n| settings | | |\n| | form_id | version |\n| | contacts | 1 |\n";
const CHUNK: usize = 20_000;
const LOOKUPS: usize = 300;

fn phone(i: usize) -> String {
    format!("66{i:06}")
}

pub(crate) async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let n = opts.subject_records.clamp(1, 1_000_000);
    let dir = temp_dir("subjects");
    let _ = std::fs::remove_dir_all(&dir);
    let settings = crate::bench::settings_for(
        &dir,
        opts.database_url.as_deref(),
        &[("default_calling_code", "235")],
    )?;
    let store = crate::app::open_store(&settings).await?;
    let core = crate::app::build_core(&settings, store, Arc::new(baraza_core::SystemClock)).await?;
    demo::seed(&core).await?;
    let amina = core
        .store()
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
    core.upload_form(&access, &principal, "contacts.md", FORM.as_bytes())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (form, version) = core
        .form(&access, "contacts")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (_, key) = core
        .sealing_key(access.project.id.0)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let index = key.blind_index_key();
    let kind = BlindKind::Phone {
        default_calling_code: Some(235),
    };
    let started = Instant::now();
    let now = core.now();
    for from in (0..n).step_by(CHUNK) {
        let to = (from + CHUNK).min(n);
        let ids: Vec<String> = (from..to).map(|i| format!("uuid:subject-{i}")).collect();
        let tokens: Vec<String> = (from..to)
            .map(|i| index.index(kind, &phone(i)))
            .collect::<Result<_, _>>()?;
        let bulk: Vec<BulkSubmission> = ids
            .iter()
            .map(|id| BulkSubmission {
                form_id: form.id,
                form_version_id: version.id,
                instance_id: id,
                xml_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
                xml_size: 0,
                values_json: "[]",
                app_user_id: None,
                user_id: Some(amina.id),
                review_state: "received",
                received_at: now,
            })
            .collect();
        core.store().insert_submissions_bulk(&bulk).await?;
        let rows: Vec<(&str, &str, &str)> = ids
            .iter()
            .zip(&tokens)
            .map(|(id, t)| (id.as_str(), t.as_str(), "/data/telephone"))
            .collect();
        core.store()
            .insert_subject_tokens_bulk(form.id, &rows)
            .await?;
    }
    let seed_secs = started.elapsed().as_secs_f64();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut times = Vec::with_capacity(LOOKUPS);
    for _ in 0..LOOKUPS {
        let i = rng.gen_range(0..n);
        // As a manager would type it: international form, spaces.
        let typed = format!(
            "+235 66 {:02} {:02} {:02}",
            i / 10_000,
            i / 100 % 100,
            i % 100
        );
        let t = Instant::now();
        let found = core
            .find_subject(&access, &typed)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        times.push(t.elapsed());
        if found.records.len() != 1 || found.records[0].instance_id != format!("uuid:subject-{i}") {
            bail!("the lookup of record {i} found {:?}", found.records);
        }
    }
    times.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    let backend = core.store().backend().as_str();
    report.push_str("| measurement | mean | p50 | p99 |\n|---|---|---|---|\n");
    report.push_str(&format!(
        "| one person found among {n} records by phone number (blind index, {backend}; {LOOKUPS} lookups, each audited; seeding took {seed_secs:.0} s) | {mean:.2} ms | {:.2} ms | {:.2} ms |\n\n",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
    ));
    core.store().close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
