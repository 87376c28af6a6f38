//! `baraza bench`: the figures recorded in docs/BENCHMARKS.md.
//!
//! * **Server time**: requests handed straight to the router in this process (no network), one
//!   at a time, timed from request to complete response body: what the server spends on a page.
//! * **Throughput**: a real `baraza serve` child process on 127.0.0.1, loaded over HTTP by
//!   concurrent clients in this process (so client and server share the machine's cores).
//! * **Memory**: the child's resident set size (VmRSS) when idle after start, and after the load.
//!
//! Everything runs on a fresh SQLite database seeded with the demo, in a temporary directory.

use crate::config::{Overrides, Settings};
use crate::{demo, Application};
use anyhow::{anyhow, bail, Context, Result};
use axum::body::Body;
use axum::http::{header, Request};
use baraza_core::auth::ClientInfo;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tower::ServiceExt;

pub struct BenchOptions {
    /// Which parts to run: `all`, `server`, `xlsform`, `submissions`, `export`, `audit`,
    /// `encryption`, `sdc`, `indicators`, `catalogue`, `table` or `reports`.
    pub only: String,
    /// The database for the submissions benchmark (SQLite in a temporary directory by default).
    pub database_url: Option<String>,
    /// Requests per measurement.
    pub requests: usize,
    /// Concurrent HTTP clients for throughput.
    pub concurrency: usize,
    /// The `baraza` executable to start as the measured server.
    pub binary: PathBuf,
    /// Submissions of the demo form to export (the form is filled up to this number).
    pub export_rows: usize,
    /// Entries of the audit log to verify (`--only audit`).
    pub audit_entries: usize,
    /// Times the sampled verification runs (`--only audit`).
    pub audit_runs: usize,
    /// Records among which one person is found by the blind index (`--only encryption`).
    pub subject_records: usize,
    /// Submissions counted by an indicator's catch-up and recompute (`--only indicators`).
    pub indicator_records: usize,
    /// Records behind the measured indicator page (`--only indicators`).
    pub page_records: usize,
    /// Datasets in the searched catalogue (`--only catalogue`).
    pub catalogue_datasets: usize,
    /// Rows of the streamed CSV resource (`--only catalogue`).
    pub csv_rows: usize,
    /// Rows of the table page's resource (`--only table`).
    pub table_rows: usize,
    /// The `datasette` executable to compare with (`--only table`; else looked for on PATH).
    pub datasette: Option<PathBuf>,
    /// Reports behind the measured maps (`--only reports`).
    pub reports_count: usize,
}

struct Stats {
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let n = v.len().max(1);
    Stats {
        mean_us: v.iter().map(|d| us(*d)).sum::<f64>() / n as f64,
        p50_us: v.get(n / 2).map(|d| us(*d)).unwrap_or(0.0),
        p99_us: v.get((n * 99) / 100).map(|d| us(*d)).unwrap_or(0.0),
    }
}

pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("baraza-bench-{tag}-{}", std::process::id()))
}

/// The settings of a benchmark's server: its data directory, any free port, quiet logs, the
/// database given with `--database-url` (else SQLite in `dir`), and `extra` values.
pub(crate) fn settings_for(
    dir: &Path,
    database_url: Option<&str>,
    extra: &[(&'static str, &str)],
) -> Result<Settings> {
    let mut values = vec![
        ("data_dir", dir.display().to_string()),
        ("listen", "127.0.0.1:0".to_owned()),
        ("log_level", "warn".to_owned()),
    ];
    if let Some(url) = database_url {
        values.push(("database_url", url.to_owned()));
    }
    values.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Settings::load(
        &Overrides {
            config: None,
            values,
            defaults: vec![],
        },
        &|_| None,
    )
}

const PAGE: &str = "/orgs/eau-tchad/projects/acces-eau-ndjamena-2026";

/// A synthetic but realistic XLSForm in pyxform's CSV layout: `questions` questions in groups of
/// 100, in English and French, mixing types, constraints, relevance, choice lists, calculations
/// and labels that show earlier answers.
pub fn big_form(questions: usize) -> String {
    let mut s = String::from("survey,,,,,,,,\n,type,name,label::English (en),label::Français (fr),hint::English (en),hint::Français (fr),relevant,constraint,calculation\n");
    let mut prev = String::new();
    for i in 0..questions {
        if i % 100 == 0 {
            if i > 0 {
                s.push_str(",end group,,,,,,,,\n");
            }
            s.push_str(&format!(",begin group,g{i},Section {i},Section {i},,,,,\n"));
        }
        let name = format!("q{i}");
        let relevant = if prev.is_empty() {
            String::new()
        } else {
            format!("${{{prev}}} != ''")
        };
        let row = match i % 7 {
            0 => format!(",text,{name},Name {i},Nom {i},Full name,Nom complet,{relevant},,"),
            1 => format!(",integer,{name},Age {i},Âge {i},In years,En années,{relevant},. >= 0 and . <= 120,"),
            2 => format!(",select_one yn,{name},Water {i}?,Eau {i} ?,,,{relevant},,"),
            3 => format!(",decimal,{name},Distance {i},Distance {i},km,km,,. > 0,"),
            4 => format!(",select_multiple src,{name},Sources {i},Sources {i},,,{relevant},,"),
            5 => format!(",note,{name},You said ${{{prev}}},Vous avez dit ${{{prev}}},,,,,"),
            _ => format!(",calculate,{name},,,,,,,\"if(${{{prev}}} = '', 0, 1)\""),
        };
        s.push_str(&row);
        s.push('\n');
        prev = name;
    }
    s.push_str(",end group,,,,,,,,\n");
    s.push_str("choices,,,,\n,list_name,name,label::English (en),label::Français (fr)\n,yn,yes,Yes,Oui\n,yn,no,No,Non\n");
    for j in 0..50 {
        s.push_str(&format!(",src,s{j},Source {j},Source {j}\n"));
    }
    s.push_str("settings,,\n,form_title,form_id\n,Big form,big_form\n");
    s
}

/// OpenRosa submissions (the demo survey, as ODK Collect posts it) accepted per second, each one
/// durable (its transaction committed, shared with the submissions that arrived with it) before
/// its 201.
async fn bench_submissions(opts: &BenchOptions, report: &mut String, sealing: bool) -> Result<()> {
    use rand::SeedableRng;
    let dir = temp_dir("subs");
    let _ = std::fs::remove_dir_all(&dir);
    let settings = settings_for(&dir, opts.database_url.as_deref(), &[])?;
    let store = crate::app::open_store(&settings).await?;
    let core = crate::app::build_core_with(
        &settings,
        store,
        Arc::new(baraza_core::SystemClock),
        sealing,
    )
    .await?;
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
    let (_, token) = core
        .create_app_user(&access, &principal, "bench")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (_, version) = core
        .form(&access, "points_eau")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let state = baraza_web::AppState::new(core.clone(), crate::app::web_settings(&settings))
        .map_err(|e| anyhow!(e))?;
    let router = baraza_web::router(state);
    let path = format!(
        "/v1/key/{token}/projects/{}/submission",
        access.project.id.0
    );
    let n = opts.requests.min(20_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let xml = demo::submission(100_000 + i, &mut rng, &version.version);
            let mut b = Vec::new();
            b.extend_from_slice(b"--BNDRY\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"submission.xml\"\r\nContent-Type: text/xml\r\n\r\n");
            b.extend_from_slice(xml.as_bytes());
            b.extend_from_slice(b"\r\n--BNDRY--\r\n");
            b
        })
        .collect();
    let backend = core.store().backend().as_str();
    let stats_before = core.store().ingest_stats();
    let concurrency = opts.concurrency.max(1);
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let router = router.clone();
        let queue = queue.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(body) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let req = Request::post(&path)
                    .header("x-openrosa-version", "1.0")
                    .header(header::CONTENT_TYPE, "multipart/form-data; boundary=BNDRY")
                    .body(Body::from(body))?;
                let res = router.clone().oneshot(req).await?;
                if res.status() != axum::http::StatusCode::CREATED {
                    let status = res.status();
                    let text = axum::body::to_bytes(res.into_body(), 10_000)
                        .await
                        .unwrap_or_default();
                    bail!(
                        "submission answered {status}: {}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let stats = core.store().ingest_stats();
    let batches = stats.batches - stats_before.batches;
    report.push_str(&format!(
        "| OpenRosa submissions accepted, durable, {backend}, {concurrency} concurrent ({n} submissions; {batches} commits, {:.1} submissions per commit){} | {:.0} per second |\n",
        (stats.submissions - stats_before.submissions) as f64 / batches.max(1) as f64,
        if sealing { "" } else { ", encryption at rest OFF" },
        n as f64 / secs
    ));
    core.store().close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn vm_hwm_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Compiles a 10,000-question, two-language form a few times.
fn bench_xlsform(report: &mut String) -> Result<()> {
    let form = big_form(10_000);
    let before = vm_hwm_kib().unwrap_or(0);
    let mut times = Vec::new();
    let mut xform_len = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let compiled =
            baraza_xlsform::compile(form.as_bytes(), baraza_xlsform::Format::Csv, "big_form");
        times.push(started.elapsed());
        if compiled.has_errors() {
            bail!(
                "the benchmark form does not compile: {}",
                compiled
                    .errors()
                    .next()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
        }
        xform_len = compiled.xform.map(|x| x.len()).unwrap_or(0);
    }
    let after = vm_hwm_kib().unwrap_or(0);
    times.sort();
    report.push_str(&format!(
        "| XLSForm compile, 10,000 questions, 2 languages ({} KiB CSV -> {} KiB XForm) | best {:.0} ms, median {:.0} ms | peak memory growth {:.1} MiB |\n\n",
        form.len() / 1024,
        xform_len / 1024,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        after.saturating_sub(before) as f64 / 1024.0
    ));
    Ok(())
}

/// Runs the benchmark and returns its report as Markdown.
pub async fn run(opts: &BenchOptions) -> Result<String> {
    let mut report = String::new();
    if opts.only == "all" || opts.only == "xlsform" {
        report.push_str("| measurement | time | memory |\n|---|---|---|\n");
        bench_xlsform(&mut report)?;
    }
    if opts.only == "submissions" {
        report.push_str("| measurement | rate |\n|---|---|\n");
    }
    if opts.only == "all" || opts.only == "submissions" {
        bench_submissions(opts, &mut report, true).await?;
        report.push('\n');
    }
    if opts.only == "encryption" {
        // Off and on twice, alternating, so that a drift of the machine shows.
        report.push_str("| measurement | rate |\n|---|---|\n");
        for sealing in [false, true, false, true] {
            bench_submissions(opts, &mut report, sealing).await?;
        }
        report.push('\n');
    }
    if opts.only == "all" || opts.only == "encryption" {
        crate::bench_subjects::run(opts, &mut report).await?;
    }
    if opts.only == "all" || opts.only == "export" {
        crate::bench_export::run(opts, &mut report).await?;
    }
    if opts.only == "all" || opts.only == "audit" {
        crate::bench_audit::run(opts, &mut report).await?;
    }
    if opts.only == "all" || opts.only == "sdc" {
        crate::bench_sdc::run(&mut report)?;
    }
    if opts.only == "all" || opts.only == "indicators" {
        crate::bench_indicators::run(opts, &mut report).await?;
    }
    if opts.only == "all" || opts.only == "catalogue" {
        crate::bench_catalogue::run(opts, &mut report).await?;
    }
    // Not part of `all`: it starts Datasette beside Baraza and builds its own million rows.
    if opts.only == "table" {
        crate::bench_table::run(opts, &mut report).await?;
    }
    // Not part of `all` either: it builds its own million reports.
    if opts.only == "reports" {
        crate::bench_reports::run(opts, &mut report).await?;
    }
    if [
        "xlsform",
        "submissions",
        "export",
        "audit",
        "encryption",
        "sdc",
        "indicators",
        "catalogue",
        "table",
        "reports",
    ]
    .contains(&opts.only.as_str())
    {
        return Ok(report);
    }
    run_server(opts, report).await
}

async fn run_server(opts: &BenchOptions, mut report: String) -> Result<String> {
    let dir = temp_dir("data");
    let _ = std::fs::remove_dir_all(&dir);
    let settings = settings_for(&dir, None, &[])?;

    // 1. Server time, in process.
    {
        let app = Application::build(&settings).await?;
        demo::seed(app.core()).await?;
        let account = &demo::ACCOUNTS[1];
        let session = app
            .core()
            .login(account.email, account.password, &ClientInfo::default())
            .await
            .map_err(|e| anyhow!("login: {e}"))?;
        let state =
            baraza_web::AppState::new(app.core().clone(), crate::app::web_settings(&settings))
                .map_err(|e| anyhow!(e))?;
        let router = baraza_web::router(state);
        let cookie = format!("baraza_session={}", session.secret);
        // A draft of the demo survey in the web form, at its first page.
        let principal = app.core().cli_principal(session.user.id).await?;
        let access = app
            .core()
            .project_access(&principal, demo::ORG_SLUG, demo::PRIVATE_PROJECT)
            .await?;
        let draft = app
            .core()
            .start_fill(&access, &principal, "points_eau")
            .await
            .map_err(|e| anyhow!("web form: {e}"))?;
        let fill = format!("{PAGE}/forms/points_eau/fill/{}", draft.id);
        report.push_str("| measurement | mean | p50 | p99 |\n|---|---|---|---|\n");
        for (label, path, with_cookie) in [
            ("server time, `GET /-/health`", "/-/health", false),
            ("server time, signed-in project page (HTML)", PAGE, true),
            (
                "server time, signed-in project page (`.json`)",
                "/orgs/eau-tchad/projects/acces-eau-ndjamena-2026.json",
                true,
            ),
            (
                "server time, web form page (HTML, evaluated on the server)",
                fill.as_str(),
                true,
            ),
        ] {
            let mut times = Vec::with_capacity(opts.requests);
            for i in 0..opts.requests + 100 {
                let mut req = Request::get(path);
                if with_cookie {
                    req = req.header(header::COOKIE, &cookie);
                }
                let req = req.body(Body::empty())?;
                let started = Instant::now();
                let res = router.clone().oneshot(req).await?;
                let status = res.status();
                axum::body::to_bytes(res.into_body(), usize::MAX).await?;
                let took = started.elapsed();
                if !status.is_success() {
                    bail!("{path} answered {status}");
                }
                if i >= 100 {
                    times.push(took);
                }
            }
            let s = stats(times);
            report.push_str(&format!(
                "| {label} | {:.0} µs | {:.0} µs | {:.0} µs |\n",
                s.mean_us, s.p50_us, s.p99_us
            ));
        }
        // What a phone downloads for a page of the web form, compressed as it travels.
        let mut weight = 0usize;
        for path in [fill.as_str(), "/-/static/baraza.css", "/-/static/fill.js"] {
            let req = Request::get(path)
                .header(header::COOKIE, &cookie)
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())?;
            let res = router.clone().oneshot(req).await?;
            weight += axum::body::to_bytes(res.into_body(), usize::MAX)
                .await?
                .len();
        }
        report.push_str(&format!(
            "\n| page weight | gzip |\n|---|---|\n| web form page with its CSS and optional script | {:.1} KiB |\n",
            weight as f64 / 1024.0
        ));
        app.core().store().close().await;
    }

    // 2. A real server process: idle memory, throughput, memory under load.
    let (child, pid, base) = spawn_server(opts, &dir, None).await?;

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    client
        .get(format!("{base}/-/health"))
        .send()
        .await?
        .error_for_status()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(pid)?;

    sign_in(&client, &base, &demo::ACCOUNTS[1]).await?;
    report.push_str(&format!(
        "\n| measurement ({} clients, {} requests) | requests/s |\n|---|---|\n",
        opts.concurrency, opts.requests
    ));
    for (label, path) in [
        ("`GET /-/health` over HTTP", "/-/health".to_owned()),
        ("signed-in project page over HTTP", PAGE.to_owned()),
    ] {
        let rps = load(
            &client,
            &format!("{base}{path}"),
            opts.requests,
            opts.concurrency,
        )
        .await?;
        report.push_str(&format!("| {label} | {rps:.0} |\n"));
    }
    let loaded_rss = rss_kib(pid)?;
    report.push_str(&format!(
        "\n| memory of the server process | VmRSS |\n|---|---|\n| idle, after start | {:.1} MiB |\n| after the load above | {:.1} MiB |\n",
        idle_rss as f64 / 1024.0,
        loaded_rss as f64 / 1024.0
    ));

    stop_server(child, pid).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// Starts `baraza serve` on a free port of 127.0.0.1 over `dir` (and `database_url`, if given);
/// returns the child, its pid and its base URL once it listens.
pub(crate) async fn spawn_server(
    opts: &BenchOptions,
    dir: &Path,
    database_url: Option<&str>,
) -> Result<(tokio::process::Child, u32, String)> {
    let mut cmd = tokio::process::Command::new(&opts.binary);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .arg("--listen")
        .arg("127.0.0.1:0");
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    let mut child = cmd
        .env("BARAZA_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", opts.binary.display()))?;
    let pid = child.id().ok_or_else(|| anyhow!("no child pid"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no child stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return Ok::<_, anyhow::Error>(url.trim_end_matches('/').to_owned());
            }
        }
        bail!("server exited before listening")
    })
    .await
    .context("server did not start within 60 s")??;
    // Keep reading what the server prints, so that it never writes to a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, pid, base))
}

/// Stops a server started by [`spawn_server`] (SIGTERM, then waits).
pub(crate) async fn stop_server(mut child: tokio::process::Child, pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
}

pub(crate) async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    a: &demo::DemoAccount,
) -> Result<()> {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = csrf_from(&page).ok_or_else(|| anyhow!("no CSRF token on the sign-in page"))?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", a.email),
            ("password", a.password),
            ("next", "/"),
        ])
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("sign-in answered {}", res.status());
    }
    Ok(())
}

/// The value of the first `_csrf` hidden field of a page.
pub fn csrf_from(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

async fn load(
    client: &reqwest::Client,
    url: &str,
    requests: usize,
    concurrency: usize,
) -> Result<f64> {
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(requests));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let client = client.clone();
        let url = url.to_owned();
        let remaining = remaining.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let left = remaining.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                if left == 0 || left > requests {
                    return Ok::<_, anyhow::Error>(());
                }
                let res = client.get(&url).send().await?;
                if !res.status().is_success() {
                    bail!("{url} answered {}", res.status());
                }
                res.bytes().await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}

pub(crate) fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (memory figures need Linux)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmark_form_compiles() {
        let form = super::big_form(300);
        let c = baraza_xlsform::compile(form.as_bytes(), baraza_xlsform::Format::Csv, "big");
        assert!(!c.has_errors(), "{:?}", c.diagnostics.first());
        assert_eq!(c.form.unwrap().questions().len(), 300);
    }
}
