//! `baraza bench --only table`: a dataset's table page against Datasette serving the same rows.
//!
//! `--table-rows` rows (1,000,000 for the recorded figures) of a water-point register are
//! generated with a seeded random generator: a code, the province (Chad's 23), a department, a
//! village, the type of point, its status, the sex of the head of the committee, the number of
//! households served, the year it was built, its depth and the last visit's date. They are
//! stored as the CSV resource of a public dataset, and a real `baraza serve` is started on a
//! loopback port. When `datasette` is found (`--datasette PATH`, else on `PATH`), the same CSV
//! is written into an SQLite table (by Python's `sqlite3`, with typed columns and an index on
//! each filtered column) and `datasette serve` is started beside it, with its facet and SQL
//! time limits raised so that it returns complete facets; it is started again with its
//! defaults for one more line. The same HTTP client then asks both for the same filtered,
//! faceted first page (`province=Ouaddaï&status=broken`, facets `type`, `department`, `year`,
//! 50 rows) as JSON and as HTML: the first request (for Baraza it reads the table), then the
//! median and 95th percentile of warm requests; and the three facets over all rows, unfiltered.
//! The two servers' totals and facet counts are compared: a difference stops the benchmark.

use crate::bench::{rss_kib, settings_for, spawn_server, stop_server, temp_dir, BenchOptions};
use crate::bench_indicators::grouped;
use crate::{demo, Application};
use anyhow::{anyhow, bail, Context, Result};
use baraza_catalogue::model::Field;
use baraza_catalogue::table::{Declared, Table};
use baraza_catalogue::{DatasetState, ResourceKind, Source};
use baraza_store::{DatasetWrite, ResourceWrite};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Warm requests per measurement.
const WARM: usize = 50;
/// Warm requests of the unfiltered facets (they are slow on Datasette).
const WARM_ALL: usize = 10;
const DATASET: &str = "bench-table";
const RESOURCE: &str = "bench-table-resource";

const PROVINCES: [&str; 23] = [
    "Barh El Gazel",
    "Batha",
    "Borkou",
    "Chari-Baguirmi",
    "Ennedi-Est",
    "Ennedi-Ouest",
    "Guéra",
    "Hadjer-Lamis",
    "Kanem",
    "Lac",
    "Logone Occidental",
    "Logone Oriental",
    "Mandoul",
    "Mayo-Kebbi Est",
    "Mayo-Kebbi Ouest",
    "Moyen-Chari",
    "N'Djamena",
    "Ouaddaï",
    "Salamat",
    "Sila",
    "Tandjilé",
    "Tibesti",
    "Wadi Fira",
];
const PARTS: [&str; 5] = ["Centre", "Nord", "Sud", "Est", "Ouest"];
const TYPES: [&str; 5] = [
    "forage",
    "puits",
    "borne-fontaine",
    "source aménagée",
    "mini-AEP",
];
/// Status and its weight in a hundred.
const STATUS: [(&str, u32); 4] = [
    ("working", 60),
    ("broken", 20),
    ("needs_repair", 15),
    ("abandoned", 5),
];
/// Column, Table Schema type, SQLite type.
const COLUMNS: [(&str, &str, &str); 11] = [
    ("code", "string", "TEXT"),
    ("province", "string", "TEXT"),
    ("department", "string", "TEXT"),
    ("village", "string", "TEXT"),
    ("type", "string", "TEXT"),
    ("status", "string", "TEXT"),
    ("head_sex", "string", "TEXT"),
    ("households", "integer", "INTEGER"),
    ("year", "integer", "INTEGER"),
    ("depth_m", "number", "REAL"),
    ("last_visit", "date", "TEXT"),
];
const FILTER: &str =
    "province=Ouadda%C3%AF&status=broken&_facet=type&_facet=department&_facet=year&_size=50";
const ALL: &str = "_facet=type&_facet=department&_facet=year&_size=50";

/// The register as CSV, `rows` rows.
fn register(rows: usize) -> String {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut csv = String::with_capacity(rows * 100);
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    csv.push_str(&header.join(","));
    csv.push('\n');
    for i in 0..rows {
        let p = rng.gen_range(0..PROVINCES.len());
        let dept = format!("{} {}", PROVINCES[p], PARTS[rng.gen_range(0..2 + p % 4)]);
        let roll = rng.gen_range(0..100);
        let mut acc = 0;
        let status = STATUS
            .iter()
            .find(|(_, w)| {
                acc += w;
                roll < acc
            })
            .map_or("working", |s| s.0);
        let line = baraza_publish::csv::line(&[
            format!("PE-{i:07}"),
            PROVINCES[p].to_string(),
            dept,
            format!("Village {}", rng.gen_range(1..2000)),
            TYPES[rng.gen_range(0..TYPES.len())].to_string(),
            status.to_string(),
            if rng.gen_bool(0.3) { "female" } else { "male" }.to_string(),
            rng.gen_range(1..400).to_string(),
            rng.gen_range(1990..2027).to_string(),
            format!("{:.1}", rng.gen_range(5.0..120.0)),
            format!(
                "{}-{:02}-{:02}",
                rng.gen_range(2023..2027),
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            ),
        ]);
        // `line` ends rows with CRLF, as RFC 4180 says; both readers accept it.
        csv.push_str(&line);
    }
    csv
}

/// `datasette` from `--datasette`, else the first on `PATH`.
fn find_datasette(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("datasette"))
            .find(|p| p.is_file())
    })
}

/// The Python interpreter that runs `datasette` (its `#!` line), to write the SQLite file.
fn python_of(datasette: &Path) -> PathBuf {
    std::fs::read_to_string(datasette)
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.strip_prefix("#!"))
                .map(|l| l.trim().to_string())
        })
        .filter(|p| Path::new(p).is_file())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

const IMPORT: &str = r#"
import csv, sqlite3, sys
src, db, cols = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
names = [c.split(":")[0] for c in cols]
kinds = [c.split(":")[1] for c in cols]
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=OFF")
con.execute("PRAGMA synchronous=OFF")
con.execute("CREATE TABLE water_points (%s)" % ", ".join('"%s" %s' % (n, k) for n, k in zip(names, kinds)))
conv = [int if k == "INTEGER" else float if k == "REAL" else str for k in kinds]
with open(src, newline="", encoding="utf-8") as f:
    r = csv.reader(f)
    next(r)
    con.executemany("INSERT INTO water_points VALUES (%s)" % ",".join("?" * len(names)),
                    ([c(v) if v != "" else None for c, v in zip(conv, row)] for row in r))
for n in ("province", "status"):
    con.execute('CREATE INDEX "idx_%s" ON water_points ("%s")' % (n, n))
con.commit()
con.execute("ANALYZE")
con.close()
"#;

fn spread(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ms(v[((v.len() as f64 - 1.0) * q).round() as usize]);
    (at(0.5), at(0.95))
}

/// Times `n` GETs of `url` (each read whole), after one untimed.
async fn warm(client: &reqwest::Client, url: &str, n: usize) -> Result<(f64, f64)> {
    let mut times = Vec::with_capacity(n);
    for i in 0..=n {
        let started = Instant::now();
        let res = client.get(url).send().await?;
        let status = res.status();
        res.bytes().await?;
        if !status.is_success() {
            bail!("{url} answered {status}");
        }
        if i > 0 {
            times.push(started.elapsed());
        }
    }
    Ok(spread(times))
}

/// One timed GET of a JSON page.
async fn timed_json(client: &reqwest::Client, url: &str) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let res = client.get(url).send().await?;
    let status = res.status();
    let body = res.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((took, serde_json::from_slice(&body)?))
}

/// A facet's (value, count) pairs, sorted, from Baraza's or Datasette's JSON.
fn facet_counts(v: &Value, column: &str) -> Vec<(String, u64)> {
    let list = match v.get("facet_results") {
        // Datasette 0.65: {"facet_results": {"type": {"results": [...]}}}; 1.0 nests it once more.
        Some(f) => f
            .get("results")
            .unwrap_or(f)
            .get(column)
            .and_then(|c| c.get("results"))
            .cloned(),
        None => v["facets"]
            .as_array()
            .and_then(|a| a.iter().find(|f| f["column"] == column))
            .map(|f| f["values"].clone()),
    };
    let mut out: Vec<(String, u64)> = list
        .and_then(|l| l.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|x| {
            let value = match &x["value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (value, x["count"].as_u64().unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts `datasette serve` and waits until it answers.
async fn start_datasette(
    exe: &Path,
    db: &Path,
    settings: &[(&str, &str)],
) -> Result<(tokio::process::Child, u32, String)> {
    let port = free_port()?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("serve")
        .arg(db)
        .arg("--host")
        .arg("127.0.0.1")
        .arg("--port")
        .arg(port.to_string());
    for (k, v) in settings {
        cmd.arg("--setting").arg(k).arg(v);
    }
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let pid = child.id().ok_or_else(|| anyhow!("no datasette pid"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/-/versions.json")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("datasette did not answer within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((child, pid, base))
}

fn ratio(datasette: f64, baraza: f64) -> String {
    if baraza > 0.0 {
        let r = datasette / baraza;
        // Below 10×, one decimal: a ratio under 1 (Datasette faster) must not read "0×".
        if r < 10.0 {
            format!("**{r:.1}×**")
        } else {
            format!("**{r:.0}×**")
        }
    } else {
        "—".into()
    }
}

pub(crate) async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("table");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let rows = opts.table_rows.max(1);

    // The rows, in memory the way the page reads them (load time and bytes per row).
    let started = Instant::now();
    let csv = register(rows);
    let generated = started.elapsed();
    let declared: Vec<Declared> = COLUMNS
        .iter()
        .map(|(n, t, _)| Declared { name: n, r#type: t })
        .collect();
    let started = Instant::now();
    let table = Table::load(csv.as_bytes(), &declared).map_err(|e| anyhow!("{e}"))?;
    let load = started.elapsed();
    let table_bytes = table.bytes();
    drop(table);

    // A public dataset with the CSV as its resource.
    let settings = settings_for(&dir, opts.database_url.as_deref(), &[])?;
    {
        let app = Application::build(&settings).await?;
        let core = app.core().clone();
        demo::seed(&core).await?;
        let admin = core
            .store()
            .user_by_email(demo::ACCOUNTS[0].email)
            .await?
            .ok_or_else(|| anyhow!("demo admin"))?;
        let principal = core
            .cli_principal(admin.id)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let access = core
            .project_access(&principal, demo::ORG_SLUG, demo::PUBLIC_PROJECT)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let blob = core
            .blobs()
            .put(csv.as_bytes())
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let kind = ResourceKind::File {
            sha256: blob.sha256.clone(),
        };
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|(n, t, _)| Field {
                name: n.to_string(),
                r#type: t.to_string(),
                hxl: None,
                description: String::new(),
            })
            .collect();
        core.store()
            .insert_dataset(
                access.project.id.0,
                "bench-tbl-0000-4000-8000-000000000000",
                &DatasetWrite {
                    name: DATASET,
                    title: "Points d'eau du Tchad",
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
                    uuid: RESOURCE,
                    name: "water_points",
                    description: "",
                    format: "CSV",
                    media_type: "text/csv",
                    file_name: "water_points.csv",
                    size: Some(csv.len() as i64),
                    hash: None,
                    kind: &kind,
                    fields: &fields,
                }],
                None,
                core.now(),
            )
            .await?;
        core.store().close().await;
    }
    let csv_path = dir.join("water_points.csv");
    std::fs::write(&csv_path, csv.as_bytes())?;
    let csv_len = csv.len();
    drop(csv);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (child, pid, base) = spawn_server(opts, &dir, opts.database_url.as_deref()).await?;
    let page = format!("{base}/dataset/{DATASET}/table/{RESOURCE}");
    let rss_before = rss_kib(pid)?;
    let (b_cold, b_json) = timed_json(&client, &format!("{page}.json?{FILTER}")).await?;
    let rss_after = rss_kib(pid)?;
    let b_json_warm = warm(&client, &format!("{page}.json?{FILTER}"), WARM).await?;
    let b_html_warm = warm(&client, &format!("{page}?{FILTER}"), WARM).await?;
    let b_all_warm = warm(&client, &format!("{page}.json?{ALL}"), WARM_ALL).await?;
    let (_, b_all) = timed_json(&client, &format!("{page}.json?{ALL}")).await?;
    let b_total = b_json["total"].as_u64().unwrap_or(0);
    stop_server(child, pid).await;

    let datasette = find_datasette(opts.datasette.as_deref());
    let mut d_lines = String::new();
    let d_note;
    let (mut d_cold, mut d_json_warm, mut d_html_warm, mut d_all_warm) = (None, None, None, None);
    let mut db_len = 0u64;
    match &datasette {
        None => {
            d_note = "`datasette` was not found (give `--datasette PATH` or put it on PATH): Baraza alone is measured.\n".into();
        }
        Some(exe) => {
            let version = std::process::Command::new(exe)
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            let db = dir.join("points.db");
            let cols: Vec<String> = COLUMNS.iter().map(|(n, _, k)| format!("{n}:{k}")).collect();
            let started = Instant::now();
            let status = std::process::Command::new(python_of(exe))
                .arg("-c")
                .arg(IMPORT)
                .arg(&csv_path)
                .arg(&db)
                .arg(cols.join(","))
                .status()
                .context("running Python to write the SQLite file")?;
            if !status.success() {
                bail!("writing the SQLite file for Datasette failed");
            }
            let imported = started.elapsed();
            db_len = std::fs::metadata(&db)?.len();
            let raised = [
                ("facet_time_limit_ms", "10000"),
                ("sql_time_limit_ms", "10000"),
            ];
            let (child, dpid, dbase) = start_datasette(exe, &db, &raised).await?;
            let dpage = format!("{dbase}/points/water_points");
            let (cold, d_json) = timed_json(&client, &format!("{dpage}.json?{FILTER}")).await?;
            d_cold = Some(cold);
            d_json_warm = Some(warm(&client, &format!("{dpage}.json?{FILTER}"), WARM).await?);
            d_html_warm = Some(warm(&client, &format!("{dpage}?{FILTER}"), WARM).await?);
            d_all_warm = Some(warm(&client, &format!("{dpage}.json?{ALL}"), WARM_ALL).await?);
            let (_, d_all) = timed_json(&client, &format!("{dpage}.json?{ALL}")).await?;
            let d_rss = rss_kib(dpid).unwrap_or(0);
            stop_server(child, dpid).await;
            // The same answer from both.
            let d_total = d_json["filtered_table_rows_count"].as_u64().unwrap_or(0);
            if d_total != b_total {
                bail!("Baraza counts {b_total} rows, Datasette {d_total}");
            }
            for (b, d, what) in [(&b_json, &d_json, "filtered"), (&b_all, &d_all, "all rows")] {
                for col in ["type", "department", "year"] {
                    // Values tied at the cut of the 30 listed may be picked differently.
                    let sure = |mut v: Vec<(String, u64)>| {
                        if v.len() >= 30 {
                            let min = v.iter().map(|x| x.1).min().unwrap_or(0);
                            v.retain(|x| x.1 > min);
                        }
                        v
                    };
                    let (bc, dc) = (sure(facet_counts(b, col)), sure(facet_counts(d, col)));
                    if bc != dc || bc.is_empty() {
                        bail!("facet {col} ({what}) differs: Baraza {bc:?}, Datasette {dc:?}");
                    }
                }
            }
            // Datasette with its default limits (facets 200 ms, SQL 1 s).
            let (child, dpid, dbase) = start_datasette(exe, &db, &[]).await?;
            let dpage = format!("{dbase}/points/water_points");
            let _ = timed_json(&client, &format!("{dpage}.json?{FILTER}")).await;
            let def = warm(&client, &format!("{dpage}.json?{FILTER}"), WARM).await;
            let timed_out = timed_json(&client, &format!("{dpage}.json?{ALL}"))
                .await
                .map(|(t, v)| {
                    let out: Vec<String> = v["facets_timed_out"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    (t, out)
                });
            stop_server(child, dpid).await;
            d_note = format!(
                "Datasette {version}, its SQLite file written in {:.1} s ({:.0} MiB, typed columns, an index on `province` and on `status`), served with `--setting facet_time_limit_ms 10000 --setting sql_time_limit_ms 10000` so that its facets are complete; resident memory after the runs {:.0} MiB. Both servers gave the same total and the same counts for the three facets, filtered and over all rows.\n",
                imported.as_secs_f64(),
                db_len as f64 / 1_048_576.0,
                d_rss as f64 / 1024.0
            );
            if let Ok((p50, p95)) = def {
                d_lines.push_str(&format!(
                    "| Datasette with its default limits (`facet_time_limit_ms` 200, `sql_time_limit_ms` 1000): filtered page, JSON, warm p50 / p95 | | {p50:.1} / {p95:.1} ms | |\n"
                ));
            }
            if let Ok((t, out)) = timed_out {
                d_lines.push_str(&format!(
                    "| Datasette with its default limits: three facets over all rows, JSON | | {:.0} ms, facets timed out: {} | |\n",
                    t.as_secs_f64() * 1e3,
                    if out.is_empty() { "none".to_string() } else { out.join(", ") }
                ));
            }
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    report.push_str(&format!(
        "\n## Table page against Datasette ({} rows, {} columns; CSV {:.0} MiB)\n\n\
         Filtered page: `province=Ouaddaï&status=broken`, facets `type`, `department`, `year`, 50 rows ({} matching rows). Times are over HTTP on loopback, same client, request to last byte.\n\n\
         | measure | Baraza | Datasette | Datasette ÷ Baraza |\n|---|---|---|---|\n",
        grouped(rows as u64),
        COLUMNS.len(),
        csv_len as f64 / 1_048_576.0,
        grouped(b_total),
    ));
    let pair = |b: (f64, f64), d: Option<(f64, f64)>| {
        format!(
            "{:.1} / {:.1} ms | {} | {}",
            b.0,
            b.1,
            d.map_or("—".into(), |d| format!("{:.1} / {:.1} ms", d.0, d.1)),
            d.map_or("—".into(), |d| ratio(d.0, b.0))
        )
    };
    report.push_str(&format!(
        "| first request, filtered page, JSON (Baraza: includes reading the {:.0} MiB CSV into memory) | {:.0} ms | {} | {} |\n",
        csv_len as f64 / 1_048_576.0,
        ms(b_cold),
        d_cold.map_or("—".into(), |d| format!("{:.0} ms", ms(d))),
        d_cold.map_or("—".into(), |d| ratio(ms(d), ms(b_cold)))
    ));
    report.push_str(&format!(
        "| filtered page, JSON, warm p50 / p95 ({WARM} requests) | {} |\n",
        pair(b_json_warm, d_json_warm)
    ));
    report.push_str(&format!(
        "| filtered page, HTML, warm p50 / p95 ({WARM} requests) | {} |\n",
        pair(b_html_warm, d_html_warm)
    ));
    report.push_str(&format!(
        "| three facets over all {} rows, JSON, warm p50 / p95 ({WARM_ALL} requests) | {} |\n",
        grouped(rows as u64),
        pair(b_all_warm, d_all_warm)
    ));
    report.push_str(&d_lines);
    report.push_str(&format!(
        "\n| the table in memory | |\n|---|---|\n\
         | reading the CSV into columns (in process, one core) | {:.2} s ({} rows/s) |\n\
         | memory held by the table (dictionaries, codes, numbers) | {:.1} MiB, **{:.0} bytes per row** |\n\
         | server's resident memory growth on the first request | {:.1} MiB |\n\
         | generating the rows | {:.1} s |\n\n{d_note}",
        load.as_secs_f64(),
        grouped((rows as f64 / load.as_secs_f64()) as u64),
        table_bytes as f64 / 1_048_576.0,
        table_bytes as f64 / rows as f64,
        rss_after.saturating_sub(rss_before) as f64 / 1024.0,
        generated.as_secs_f64(),
    ));
    let _ = db_len;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
