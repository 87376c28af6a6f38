//! `baraza bench --only catalogue`: the open-data catalogue's targets.
//!
//! 1. **`package_search` with facets over `--catalogue-datasets` datasets** (10,000 for the
//!    recorded figures; aim: under 10 ms). The demo is seeded, then ten organisations with a
//!    project each, and the datasets are written straight to the store (titles and
//!    descriptions drawn from a French and English vocabulary of water, health, schools and
//!    places; 1 to 6 tags, 1 or 2 SDG groups, 1 to 3 resources of mixed formats, eight
//!    licences, spread over two years). The search index is then built once (timed), and
//!    CKAN's `package_search` is asked — handed to the router in this process, as `--only
//!    server` measures server time — for a word with five facets, a filtered query
//!    (`fq=groups:… res_format:CSV`), a date range, a 1,000-row page sorted by `id asc` (what
//!    harvesters page with), and the HTML search page.
//! 2. **CSV streaming rate**: a CSV file of `--csv-rows` rows (1,000,000 for the recorded
//!    figures; nine typed columns of a water-point register, ~60 bytes a row) stored as a
//!    dataset's resource, downloaded through the router and counted as it streams (rows per
//!    second and the largest chunk held); then the same resource converted as it streams to
//!    NDJSON, GeoJSON and XLSX.

use crate::bench::{temp_dir, BenchOptions};
use crate::bench_indicators::grouped;
use crate::{demo, Application};
use anyhow::{anyhow, bail, Result};
use axum::body::Body;
use axum::http::Request;
use baraza_catalogue::model::Field;
use baraza_catalogue::{DatasetState, ResourceKind, Source};
use baraza_core::orgs::ProjectInput;
use baraza_store::{DatasetWrite, ResourceWrite};
use baraza_types::Visibility;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ORGS: usize = 10;
const REQUESTS: usize = 200;
const WORDS: [&str; 40] = [
    "eau",
    "water",
    "forage",
    "borehole",
    "santé",
    "health",
    "école",
    "school",
    "élèves",
    "pupils",
    "ménages",
    "households",
    "accès",
    "access",
    "marché",
    "market",
    "prix",
    "price",
    "femmes",
    "women",
    "enfants",
    "children",
    "vaccination",
    "nutrition",
    "assainissement",
    "sanitation",
    "latrines",
    "budget",
    "dépenses",
    "spending",
    "routes",
    "roads",
    "électricité",
    "electricity",
    "pluie",
    "rainfall",
    "récoltes",
    "harvest",
    "sécurité",
    "safety",
];
const PLACES: [&str; 12] = [
    "N'Djamena",
    "Abéché",
    "Moundou",
    "Sarh",
    "Kathmandu",
    "Pokhara",
    "Nairobi",
    "Kisumu",
    "Buenos Aires",
    "Rosario",
    "Dakar",
    "Bamako",
];
const FORMATS: [(&str, &str); 5] = [
    ("CSV", "text/csv"),
    ("GEOJSON", "application/geo+json"),
    (
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("PDF", "application/pdf"),
    ("JSON", "application/json"),
];
const LICENCES: [&str; 8] = [
    "cc-by",
    "cc-by-sa",
    "cc-zero",
    "lov2",
    "etalab-2.0",
    "odc-odbl",
    "odc-by",
    "notspecified",
];

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

fn spread(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ms(v[((v.len() as f64 - 1.0) * q).round() as usize]);
    (at(0.5), at(0.95), ms(*v.last().unwrap_or(&Duration::ZERO)))
}

pub(crate) async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("catalogue");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let settings = crate::bench::settings_for(&dir, opts.database_url.as_deref(), &[])?;
    let app = Application::build(&settings).await?;
    let core = app.core().clone();
    demo::seed(&core).await?;
    let store = core.store().clone();
    let backend = store.backend().as_str();
    let admin = store
        .user_by_email(demo::ACCOUNTS[0].email)
        .await?
        .ok_or_else(|| anyhow!("demo admin"))?;
    let admin_p = core
        .cli_principal(admin.id)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut projects = Vec::new();
    for i in 0..ORGS {
        let slug = format!("bench-org-{i}");
        core.create_org(
            &admin_p,
            &format!("Organisation {i}"),
            &slug,
            "",
            Some(admin.id),
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
        let p = core
            .create_project(
                &admin_p,
                &slug,
                &ProjectInput {
                    name: format!("Projet {i}"),
                    slug: "donnees".into(),
                    description: String::new(),
                    visibility: Visibility::Public,
                },
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
        projects.push(p.id.0);
    }

    // 1. The catalogue.
    let n = opts.catalogue_datasets.max(1);
    let mut rng = StdRng::seed_from_u64(8);
    let now = core.now();
    let started = Instant::now();
    for i in 0..n {
        let words: Vec<&str> = (0..rng.gen_range(3..7))
            .map(|_| *pick(&mut rng, &WORDS))
            .collect();
        let place = *pick(&mut rng, &PLACES);
        let title = format!("{} — {place} {}", words.join(" "), 2020 + i % 7);
        let notes = format!(
            "{} {} {} {place}. {}",
            pick(&mut rng, &WORDS),
            pick(&mut rng, &WORDS),
            pick(&mut rng, &WORDS),
            words.iter().rev().cloned().collect::<Vec<_>>().join(", ")
        );
        let tags: Vec<String> = (0..rng.gen_range(1..7))
            .map(|_| pick(&mut rng, &WORDS).to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut groups: Vec<String> = (0..rng.gen_range(1..3))
            .map(|_| format!("sdg-{}", rng.gen_range(1..18)))
            .collect();
        groups.sort();
        groups.dedup();
        let name = format!("bench-{i:06}");
        let resources: Vec<(String, String, &str, &str, ResourceKind)> = (0..rng.gen_range(1..4))
            .map(|j| {
                let (f, m) = *pick(&mut rng, &FORMATS);
                (
                    format!("{i:08}-0000-4000-8000-{j:012}"),
                    format!("{name} {j}"),
                    f,
                    m,
                    ResourceKind::File {
                        sha256: format!("{:064x}", i * 4 + j),
                    },
                )
            })
            .collect();
        let writes: Vec<ResourceWrite> = resources
            .iter()
            .map(|(uuid, rname, f, m, kind)| ResourceWrite {
                uuid,
                name: rname,
                description: "",
                format: f,
                media_type: m,
                file_name: "data",
                size: Some(1000),
                hash: None,
                kind,
                fields: &[],
            })
            .collect();
        let licence = *pick(&mut rng, &LICENCES);
        let w = DatasetWrite {
            name: &name,
            title: &title,
            notes: &notes,
            license_id: licence,
            state: DatasetState::Published,
            private: false,
            frequency: "annual",
            temporal_start: "2024-01-01",
            temporal_end: "2024-12-31",
            spatial: &[],
            spatial_label: place,
            methodology: "",
            version: "",
            maintainer: "",
            maintainer_email: "",
            tags: &tags,
            groups: &groups,
        };
        store
            .insert_dataset(
                *pick(&mut rng, &projects),
                &format!("{i:08}-aaaa-4000-8000-000000000000"),
                &w,
                &Source::Upload,
                &writes,
                None,
                now - rng.gen_range(0..2 * 365 * 86_400),
            )
            .await?;
    }
    let seeded = started.elapsed();
    let started = Instant::now();
    let cat = core.catalogue().await.map_err(|e| anyhow!("{e}"))?;
    let build = started.elapsed();
    let count = cat.index.len();
    drop(cat);

    let state = baraza_web::AppState::new(core.clone(), crate::app::web_settings(&settings))
        .map_err(|e| anyhow!(e))?;
    let router = baraza_web::router(state);
    let facets = "facet.field=%5B%22organization%22%2C%22groups%22%2C%22tags%22%2C%22res_format%22%2C%22license_id%22%5D";
    report.push_str(&format!(
        "\n## Catalogue ({backend}; {} datasets)\n\n| measure | p50 | p95 | max |\n|---|---|---|---|\n",
        grouped(count as u64)
    ));
    report.push_str(&format!(
        "| writing {} datasets to the store (one transaction each) | {:.1} s | | |\n\
         | building the search index from the store (`Core::catalogue`, after a change) | {:.0} ms | | |\n",
        grouped(n as u64),
        seeded.as_secs_f64(),
        build.as_secs_f64() * 1e3
    ));
    for (label, path) in [
        (
            "`package_search?q=eau` with 5 facets, 10 rows",
            format!("/api/3/action/package_search?q=eau&{facets}"),
        ),
        (
            "`package_search` `fq=groups:sdg-6 res_format:CSV`, 5 facets",
            format!("/api/3/action/package_search?fq=groups:sdg-6%20res_format:CSV&{facets}"),
        ),
        (
            "`package_search` `fq=metadata_modified:[NOW-1YEAR TO *]`, 5 facets",
            format!("/api/3/action/package_search?fq=metadata_modified:%5BNOW-1YEAR%20TO%20*%5D&{facets}"),
        ),
        (
            "`package_search` 1,000 rows, `sort=id asc` (a harvester's page)",
            "/api/3/action/package_search?rows=1000&sort=id%20asc".to_string(),
        ),
        (
            "HTML search page `/catalogue?q=eau&groups=sdg-6` (6 facets)",
            "/catalogue?q=eau&groups=sdg-6".to_string(),
        ),
    ] {
        let mut times = Vec::with_capacity(REQUESTS);
        for i in 0..REQUESTS + 10 {
            let req = Request::get(&path).body(Body::empty())?;
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
        let (p50, p95, max) = spread(times);
        report.push_str(&format!("| {label} | {p50:.2} ms | {p95:.2} ms | {max:.2} ms |\n"));
    }

    // 2. CSV streaming.
    let rows = opts.csv_rows.max(1);
    let mut csv = String::with_capacity(rows * 64);
    csv.push_str("code,nom,type,province,etat,derniere_visite,latitude,longitude,usagers\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "PE-{i:07},Point {i},{},{},{},2026-11-{:02},{:.4},{:.4},{}\n",
            ["forage", "puits", "borne-fontaine"][i % 3],
            ["TD-ND", "TD-OD", "TD-LO", "TD-MC"][i % 4],
            ["fonctionnel", "en panne"][i % 2],
            1 + i % 28,
            12.0 + (i % 1000) as f64 / 1000.0,
            15.0 + (i % 997) as f64 / 1000.0,
            i % 500
        ));
    }
    let bytes = csv.len();
    let blob = core
        .blobs()
        .put(csv.as_bytes())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    drop(csv);
    let kind = ResourceKind::File {
        sha256: blob.sha256.clone(),
    };
    let fields: Vec<Field> = [
        ("code", "string"),
        ("nom", "string"),
        ("type", "string"),
        ("province", "string"),
        ("etat", "string"),
        ("derniere_visite", "date"),
        ("latitude", "number"),
        ("longitude", "number"),
        ("usagers", "integer"),
    ]
    .into_iter()
    .map(|(name, ty)| Field {
        name: name.into(),
        r#type: ty.into(),
        hxl: None,
        description: String::new(),
    })
    .collect();
    store
        .insert_dataset(
            projects[0],
            "bench-csv-0000-4000-8000-000000000000",
            &DatasetWrite {
                name: "bench-csv",
                title: "Big register",
                notes: "",
                license_id: "cc-by",
                state: DatasetState::Published,
                private: false,
                frequency: "",
                temporal_start: "",
                temporal_end: "",
                spatial: &[],
                spatial_label: "",
                methodology: "",
                version: "",
                maintainer: "",
                maintainer_email: "",
                tags: &[],
                groups: &[],
            },
            &Source::Upload,
            &[ResourceWrite {
                uuid: "bench-csv-resource",
                name: "register",
                description: "",
                format: "CSV",
                media_type: "text/csv",
                file_name: "register.csv",
                size: Some(bytes as i64),
                hash: None,
                kind: &kind,
                fields: &fields,
            }],
            None,
            now,
        )
        .await?;
    let path = "/dataset/bench-csv/resource/bench-csv-resource/download";
    report.push_str(&format!(
        "\n| resource download, streamed ({} rows, CSV {:.0} MiB; best of 3) | time | rows/s | bytes | largest chunk |\n|---|---|---|---|---|\n",
        grouped(rows as u64),
        bytes as f64 / 1_048_576.0,
    ));
    // The file as stored, then converted as it streams (line ends counted: the header and the
    // GeoJSON's opening and closing lines aside, one a record; XLSX is compressed).
    for (label, suffix, extra_lines) in [
        ("CSV, the file as stored", "", Some(1)),
        ("NDJSON, converted", ".ndjson", Some(0)),
        ("GeoJSON, converted", ".geojson", Some(2)),
        ("XLSX, converted", ".xlsx", None),
    ] {
        let url = format!("{path}{suffix}");
        let mut best: Option<(Duration, usize, usize)> = None;
        for _ in 0..3 {
            let req = Request::get(&url).body(Body::empty())?;
            let started = Instant::now();
            let res = router.clone().oneshot(req).await?;
            if !res.status().is_success() {
                bail!("{url} answered {}", res.status());
            }
            let mut stream = res.into_body().into_data_stream();
            let (mut lines, mut largest, mut size) = (0usize, 0usize, 0usize);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                largest = largest.max(chunk.len());
                size += chunk.len();
                lines += chunk.iter().filter(|&&b| b == b'\n').count();
            }
            let took = started.elapsed();
            if let Some(extra) = extra_lines {
                if lines != rows + extra {
                    bail!("{url} had {lines} lines, not {}", rows + extra);
                }
            }
            if best.is_none_or(|(t, _, _)| took < t) {
                best = Some((took, size, largest));
            }
        }
        let (took, size, largest) = best.ok_or_else(|| anyhow!("no download"))?;
        report.push_str(&format!(
            "| {label} | {:.2} s | **{}** | {:.0} MiB | {} KiB |\n",
            took.as_secs_f64(),
            grouped((rows as f64 / took.as_secs_f64()) as u64),
            size as f64 / 1_048_576.0,
            largest / 1024
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
