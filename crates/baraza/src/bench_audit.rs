//! `baraza bench --only audit`: the audit log's cost to those who use Baraza (one durable append)
//! and to those who check it (entries verified per second, sampled and with every signature).

use crate::bench::{temp_dir, BenchOptions};
use crate::config::{Overrides, Settings};
use crate::Application;
use anyhow::{anyhow, Result};
use baraza_core::audit::{Actor, Target};
use baraza_types::{ProjectId, UserId};
use std::time::Instant;

/// The CPU time this process has used, user and system, all threads (Linux; clock ticks of
/// 1/100 s): on a machine shared with other work it says what a measurement cost, which its
/// elapsed time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

pub async fn run(opts: &BenchOptions, report: &mut String) -> Result<()> {
    let dir = temp_dir("audit");
    let _ = std::fs::remove_dir_all(&dir);
    let mut values = vec![
        ("data_dir", dir.display().to_string()),
        ("listen", "127.0.0.1:0".to_owned()),
        ("log_level", "warn".to_owned()),
    ];
    if let Some(url) = &opts.database_url {
        values.push(("database_url", url.clone()));
    }
    let settings = Settings::load(
        &Overrides {
            config: None,
            values,
            defaults: vec![],
        },
        &|_| None,
    )?;
    let app = Application::build(&settings).await?;
    let core = app.core().clone();

    // One durable append at a time, as a request makes it.
    let singles = 500;
    let started = Instant::now();
    for i in 0..singles {
        core.audit(
            Actor::User(UserId(1 + i % 7)),
            "data.view",
            &Target::submission(ProjectId(1), "points_eau", &format!("uuid:{i:08}")),
            serde_json::json!({}),
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    }
    let per_append = started.elapsed().as_secs_f64() / singles as f64;

    // The log filled in batches, then verified.
    let total = opts.audit_entries.max(singles as usize);
    let mut left = total - singles as usize;
    while left > 0 {
        let n = left.min(20_000);
        let batch = (0..n)
            .map(|i| {
                (
                    Actor::User(UserId(1 + (i % 7) as i64)),
                    if i % 50 == 0 {
                        "export.download"
                    } else {
                        "data.view"
                    }
                    .to_owned(),
                    Target::submission(ProjectId(1), "points_eau", &format!("uuid:{i:08}-{left}")),
                    serde_json::json!({ "format": "csv" }),
                )
            })
            .collect();
        core.audit_many(batch).await.map_err(|e| anyhow!("{e}"))?;
        left -= n;
    }
    let mut rows = Vec::new();
    // `None`: as `baraza audit verify` does (one part per core); `Some(1)`: in one part, to
    // show what checking ranges at once brings.
    let sampled = std::iter::repeat_n(
        ("one signature in 1000 and the last", 1000, None),
        opts.audit_runs.max(1),
    );
    let runs = sampled.chain([
        (
            "one signature in 1000 and the last, in one part",
            1000,
            Some(1),
        ),
        ("every signature", 1, None),
    ]);
    for (label, every, parts) in runs {
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let v = match parts {
            None => core.verify_audit(every, None, None).await,
            Some(parts) => core.verify_audit_in_parts(every, None, None, parts).await,
        }
        .map_err(|e| anyhow!("{e}"))?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = match (cpu_before, cpu_seconds()) {
            (Some(a), Some(b)) => format!(
                ", {:.2} s of CPU: {:.2} µs an entry",
                b - a,
                (b - a) * 1e6 / v.entries.max(1) as f64
            ),
            _ => String::new(),
        };
        rows.push(format!(
            "| audit verification, {} entries, {label} | {:.0} entries/s ({:.2} s, {} signatures{cpu}) |\n",
            v.entries,
            v.entries as f64 / secs,
            secs,
            v.signatures_checked
        ));
    }
    report.push_str("| measurement | result |\n|---|---|\n");
    report.push_str(&format!(
        "| one audit entry appended and durable, one at a time | {:.2} ms |\n",
        per_append * 1000.0
    ));
    for r in rows {
        report.push_str(&r);
    }
    report.push('\n');
    core.store().close().await;
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
