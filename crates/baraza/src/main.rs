//! The `baraza` command line.

use anyhow::{bail, Context, Result};
use baraza::app::{open_store, shutdown_signal, Application};
use baraza::config::{LogFormat, Overrides, Settings};
use baraza::{backup, bench, demo};
use baraza_core::{Core, SystemClock};
use clap::{Args, Parser, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "baraza",
    version,
    about = "Citizen data for accountability: collect, protect, analyse and publish, in one program."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// Configuration file (TOML). See docs/config.md.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and stored files [default: ./baraza-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create (or reuse) a demo data directory with a demo organisation, print its accounts, and serve it.
    Demo {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Seed the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply pending database migrations (the server also does this at start).
    Migrate {
        /// Only list migrations and whether each is applied.
        #[arg(long)]
        status: bool,
    },
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Destroy the records past their form's retention period now (the server also does it
    /// every hour); prints the destruction certificates.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Harvest other catalogues now: the sources that are due (daily, weekly), or every
    /// source with --all, or one with --source (docs/harvest.md).
    Harvest {
        /// Only this source (its id), due or not.
        #[arg(long)]
        source: Option<i64>,
        /// Every source, due or not.
        #[arg(long)]
        all: bool,
        /// A full run (withdraws the datasets a source no longer lists); needs --source.
        #[arg(long, requires = "source")]
        full: bool,
        /// Print the runs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Encryption at rest: the master key and the projects' data keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check or read the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Administrative areas (for indicators' places and maps).
    Places {
        #[command(subcommand)]
        command: PlacesCommand,
    },
    /// Write the database and every stored file into one encrypted archive (age), while the
    /// server keeps running. The audit log's signing key is not included: keep it apart.
    Backup {
        /// The archive to write (replaced only once complete).
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// Encrypt with the passphrase in this file (or set BARAZA_BACKUP_PASSPHRASE).
        #[arg(long, value_name = "FILE", conflicts_with = "recipient")]
        passphrase_file: Option<PathBuf>,
        /// Encrypt to this age public key (age1…); repeat for several.
        #[arg(long, value_name = "AGE_PUBLIC_KEY")]
        recipient: Vec<String>,
    },
    /// Restore an archive written by `baraza backup` into the configured database and data
    /// directory. Stop the servers first. Nothing changes unless the whole archive checks out.
    Restore {
        /// The archive.
        file: PathBuf,
        /// The passphrase is in this file (or set BARAZA_BACKUP_PASSPHRASE).
        #[arg(long, value_name = "FILE", conflicts_with = "identity")]
        passphrase_file: Option<PathBuf>,
        /// An age identity file (from age-keygen) whose key the archive was encrypted to.
        #[arg(long, value_name = "FILE")]
        identity: Vec<PathBuf>,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
    /// Show the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Compile an XLSForm (.xlsx, .xls, .csv, .md) into an ODK XForm, offline. Problems go to
    /// standard error (or standard output with --json); exit status 1 when there are errors.
    Xlsform {
        /// The form file.
        file: PathBuf,
        /// Where to write the XForm [default: standard output].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the diagnostics as JSON on standard output instead.
        #[arg(long)]
        json: bool,
        /// Language of the messages: en or fr [default: from LANG].
        #[arg(long)]
        lang: Option<String>,
    },
    /// Statistical disclosure control of microdata, offline (see docs/sdc.md).
    Sdc {
        #[command(subcommand)]
        command: SdcCommand,
    },
    /// Measure server time, throughput and memory (see docs/BENCHMARKS.md).
    Bench {
        /// Requests per measurement.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Run only part: all, server, xlsform, submissions, export, audit, encryption, sdc,
        /// indicators, catalogue, table or reports (`all` runs every part but `table`, which
        /// starts Datasette beside Baraza, and `reports`, which stores its own million reports).
        #[arg(long, default_value = "all", value_parser = ["all", "server", "xlsform", "submissions", "export", "audit", "encryption", "sdc", "indicators", "catalogue", "table", "reports"])]
        only: String,
        /// Submissions of the demo form to export (`--only export`; 1000000 for the recorded
        /// figures). The form is filled up to this number.
        #[arg(long, default_value_t = 10_000)]
        export_rows: usize,
        /// Audit entries to verify (`--only audit`; 1000000 for the recorded figures).
        #[arg(long, default_value_t = 20_000)]
        audit_entries: usize,
        /// Times the sampled verification of the audit log is run, each reported (`--only
        /// audit`; the best of several is what a machine shared with other work can show).
        #[arg(long, default_value_t = 1)]
        audit_runs: usize,
        /// Records holding a person's phone number among which one is found (`--only
        /// encryption`; 1000000 for the recorded figures).
        #[arg(long, default_value_t = 100_000)]
        subject_records: usize,
        /// Submissions of the demo survey counted by an indicator's catch-up and recompute
        /// (`--only indicators`; 20000 for the recorded figures).
        #[arg(long, default_value_t = 2_000)]
        indicator_records: usize,
        /// Records behind the measured indicator page, generated in memory and aggregated into
        /// its cells (`--only indicators`; 10000000 for the recorded figures).
        #[arg(long, default_value_t = 200_000)]
        page_records: usize,
        /// Datasets in the catalogue searched by `package_search` (`--only catalogue`; 10000
        /// for the recorded figures).
        #[arg(long, default_value_t = 2_000)]
        catalogue_datasets: usize,
        /// Rows of the CSV resource whose download is streamed (`--only catalogue`; 1000000
        /// for the recorded figures).
        #[arg(long, default_value_t = 100_000)]
        csv_rows: usize,
        /// Rows of the water-point register behind the measured table page (`--only table`;
        /// 1000000 for the recorded figures).
        #[arg(long, default_value_t = 1_000_000)]
        table_rows: usize,
        /// The `datasette` executable that the table page is compared with (`--only table`);
        /// by default the first `datasette` on PATH, and Baraza alone when there is none.
        #[arg(long)]
        datasette: Option<std::path::PathBuf>,
        /// Citizen reports behind the measured maps (`--only reports`; 1000000 for the recorded
        /// figures); `--requests` SMS are then posted to the webhook.
        #[arg(long, default_value_t = 1_000_000)]
        reports_count: usize,
    },
}

#[derive(Subcommand)]
enum SdcCommand {
    /// The re-identification risk of a CSV file (header row first): frequencies, k-anonymity,
    /// individual, global and household risk, l-diversity and SUDA. No server, configuration
    /// or database is used. Exit status 2 when the input is unusable.
    Risk {
        /// The CSV file.
        file: PathBuf,
        /// The key variables (quasi-identifiers): columns an intruder could know.
        #[arg(long, required = true, value_delimiter = ',', value_name = "COLUMN,…")]
        keys: Vec<String>,
        /// The column of sampling weights (omit it when the file is the whole population).
        #[arg(long, value_name = "COLUMN")]
        weight: Option<String>,
        /// The column of household ids, for the household risk.
        #[arg(long, value_name = "COLUMN")]
        household: Option<String>,
        /// Sensitive variables, for l-diversity.
        #[arg(long, value_delimiter = ',', value_name = "COLUMN,…")]
        sensitive: Vec<String>,
        /// A missing key value matches any category (sdcMicro's convention) or is a category.
        #[arg(long, default_value = "any", value_parser = ["any", "category"])]
        missing: String,
        /// The cell texts that mean a missing value, separated by commas (an empty one included).
        #[arg(long, default_value = "NA,,.", value_name = "TEXT,…")]
        missing_values: String,
        /// Count violations of k-anonymity for these k.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "2,3,5",
            value_name = "K,…"
        )]
        k: Vec<u32>,
        /// The largest key set searched for minimal sample uniques (SUDA).
        #[arg(long, default_value_t = 3, value_name = "N")]
        suda_max_size: usize,
        /// Print the whole result, every record's measures included, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply a recipe (keys, columns to drop, recodings, suppression, PRAM) to a CSV file and
    /// write the result only if the policy passes (see docs/sdc.md, "Releasing a file"). Exit
    /// status 2 when the input is unusable, 3 when the policy refuses.
    Release {
        /// The CSV file.
        file: PathBuf,
        /// The recipe, TOML (or JSON when the name ends in .json).
        #[arg(long, value_name = "FILE")]
        recipe: PathBuf,
        /// The policy, TOML or JSON [default: k ≥ 3, global risk under 3 %].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Where to write the released CSV file.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// Where to write the report (JSON).
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// The cell texts that mean a missing value, separated by commas (an empty one included).
        #[arg(long, default_value = "NA,,.", value_name = "TEXT,…")]
        missing_values: String,
    },
    /// Check the signature of a release report downloaded from a Baraza server (`report.json`,
    /// with the `key` and `signature` of its `Baraza-Signature` header or of its printable
    /// page). Exit status 0 when it is valid, 1 when it is not, 2 when the input is unusable.
    VerifyReport {
        /// The report, exactly as downloaded.
        file: PathBuf,
        /// The server's public key (64 hexadecimal digits).
        #[arg(long, value_name = "HEX")]
        key: String,
        /// The signature (128 hexadecimal digits).
        #[arg(long, value_name = "HEX")]
        signature: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from standard input with --password-stdin,
    /// otherwise generated and printed once.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account a site administrator.
        #[arg(long)]
        admin: bool,
        /// Language of the account (en or fr).
        #[arg(long)]
        locale: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for an account and end its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Run the retention rules once.
    Run {
        /// Print the certificates as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// The master key's fingerprint and the data keys it wraps.
    Status,
    /// Write a new random master key to a file (readable by its owner only), to start a rotation.
    NewMaster {
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Rewrap every data key with the current master key (after `previous_master_key_file` was
    /// set to the old one), in one transaction; or, with --data-keys, give every project a new
    /// data key for the records stored from now on.
    Rotate {
        #[arg(long)]
        data_keys: bool,
    },
    /// Seal now the records stored in clear before encryption at rest (the server also does it
    /// at start and every hour).
    SealExisting,
}

#[derive(Subcommand)]
enum PlacesCommand {
    /// Import areas from a GeoJSON FeatureCollection of polygons (each feature's code and name
    /// from its properties, the geometry simplified for display), or a hierarchy without
    /// geometry from a .csv file (columns code, name, level, parent). All or nothing.
    Import {
        /// The GeoJSON or CSV file.
        file: PathBuf,
        /// The property holding each area's code (ISO 3166-2, P-code).
        #[arg(long, default_value = "iso_3166_2")]
        code_property: String,
        /// The property holding each area's name.
        #[arg(long, default_value = "name")]
        name_property: String,
        /// Administrative level (0 country, 1 region or province, 2 district…) of a GeoJSON
        /// file's areas (a CSV gives each its own).
        #[arg(long, default_value_t = 1)]
        level: i64,
        /// The code of the area they lie in (e.g. the country, TD).
        #[arg(long)]
        parent: Option<String>,
        /// Where the boundaries come from.
        #[arg(long, default_value = "")]
        source: String,
        /// The attribution their licence asks maps to show.
        #[arg(long, default_value = "")]
        attribution: String,
        /// The licence (SPDX id, e.g. ODbL-1.0).
        #[arg(long, default_value = "")]
        licence: String,
        /// Simplification tolerance, in degrees.
        #[arg(long, default_value_t = 0.01)]
        tolerance: f64,
    },
    /// List the areas (code, level, parent, name).
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every entry's hash and check the signatures; exit status 1 when the log was
    /// changed. Prints the anchor (SEQ:HASH) to note down for the next verification.
    Verify {
        /// Check every entry's signature, not one in --every and the last.
        #[arg(long)]
        all_signatures: bool,
        /// Check the signature of every N-th entry (and always of the last).
        #[arg(long, default_value_t = 1000, value_name = "N")]
        every: u64,
        /// An anchor printed by an earlier verification: that entry must still be there, with
        /// its hash (catches entries cut off the end).
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<String>,
        /// Check with this public key (hexadecimal, as published) instead of the server's own.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the public key that checks the log's signatures, to publish or give to an auditor.
    PublicKey,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print every setting, where it came from, with secrets masked.
    Show,
}

fn overrides(
    g: &Global,
    listen: Option<&String>,
    defaults: Vec<(&'static str, String)>,
) -> Overrides {
    let mut values = Vec::new();
    if let Some(d) = &g.data_dir {
        values.push(("data_dir", d.display().to_string()));
    }
    if let Some(u) = &g.database_url {
        values.push(("database_url", u.clone()));
    }
    if let Some(l) = listen {
        values.push(("listen", l.clone()));
    }
    Overrides {
        config: g.config.clone(),
        values,
        defaults,
    }
}

fn init_tracing(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{},sqlx=warn", s.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match s.log_format {
        LogFormat::Json => builder.json().with_current_span(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn read_password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        if p.is_empty() {
            bail!("no password on standard input");
        }
        Ok((p, false))
    } else {
        Ok((baraza_core::auth::generate_password(), true))
    }
}

async fn cli_core(settings: &Settings) -> Result<Core> {
    let store = open_store(settings).await?;
    baraza::app::build_core(settings, store, Arc::new(SystemClock)).await
}

/// `baraza xlsform`: returns the exit status.
fn xlsform(
    file: &std::path::Path,
    output: Option<&std::path::Path>,
    json: bool,
    lang: baraza_xlsform::Lang,
) -> Result<i32> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let bytes = baraza_xlsform::read::read_limited(f)?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("form.xlsx");
    let compiled = baraza_xlsform::compile_file(&bytes, name);
    let failed = compiled.has_errors();
    if json {
        let diags: Vec<serde_json::Value> = compiled
            .diagnostics
            .iter()
            .map(|d| {
                serde_json::json!({
                    "code": d.code,
                    "severity": d.severity,
                    "sheet": d.sheet,
                    "row": d.row,
                    "column": d.column,
                    "message": d.message(lang),
                    "message_en": d.message(baraza_xlsform::Lang::En),
                    "message_fr": d.message(baraza_xlsform::Lang::Fr),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": !failed,
                "file": file.display().to_string(),
                "diagnostics": diags,
            }))?
        );
    } else {
        for d in &compiled.diagnostics {
            let sev = match (d.severity, lang) {
                (baraza_xlsform::Severity::Error, baraza_xlsform::Lang::Fr) => "erreur",
                (baraza_xlsform::Severity::Error, _) => "error",
                (_, baraza_xlsform::Lang::Fr) => "avertissement",
                _ => "warning",
            };
            eprintln!(
                "{}: {sev} [{}] {}: {}",
                file.display(),
                d.code,
                d.location(lang),
                d.message(lang)
            );
        }
    }
    if let Some(xml) = &compiled.xform {
        match output {
            Some(out) => std::fs::write(out, xml)
                .with_context(|| format!("cannot write {}", out.display()))?,
            None if !json => print!("{xml}"),
            None => {}
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// `baraza audit verify`: returns the exit status.
async fn audit_verify(
    core: &Core,
    all_signatures: bool,
    every: u64,
    anchor: Option<&str>,
    public_key: Option<&str>,
    json: bool,
) -> Result<i32> {
    use baraza_protect::chain::{parse_anchor, AuditPublicKey};
    let anchor = anchor.map(parse_anchor).transpose()?;
    let key = public_key.map(AuditPublicKey::from_hex).transpose()?;
    let every = if all_signatures { 1 } else { every };
    let started = std::time::Instant::now();
    let result = core.verify_audit(every, anchor, key).await;
    let secs = started.elapsed().as_secs_f64();
    let (code, value) = match &result {
        Ok(v) => (
            0,
            serde_json::json!({
                "ok": true,
                "entries": v.entries,
                "signatures_checked": v.signatures_checked,
                "anchor": v.anchor,
                "public_key": v.public_key,
                "seconds": secs,
            }),
        ),
        Err(baraza_core::audit::AuditBroken::Store(e)) => bail!("cannot read the audit log: {e}"),
        Err(e) => (
            1,
            serde_json::json!({ "ok": false, "error": e.to_string() }),
        ),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        match result {
            Ok(v) => {
                println!(
                    "audit log verified: {} entries, {} signatures checked, in {:.2} s",
                    v.entries, v.signatures_checked, secs
                );
                if let Some(a) = v.anchor {
                    println!("anchor (note it down; give it as --anchor next time): {a}");
                }
                println!("public key: {}", v.public_key);
            }
            Err(e) => eprintln!("audit log BROKEN: {e}"),
        }
    }
    Ok(code)
}

/// The backup passphrase: from `file`, else from `BARAZA_BACKUP_PASSPHRASE`.
fn passphrase(file: Option<&std::path::Path>) -> Result<Option<String>> {
    if let Some(f) = file {
        return backup::passphrase_from_file(f).map(Some);
    }
    match std::env::var("BARAZA_BACKUP_PASSPHRASE") {
        Ok(p) if !p.is_empty() => Ok(Some(p)),
        _ => Ok(None),
    }
}

fn load(o: &Overrides) -> Result<Settings> {
    Settings::load(o, &|k| std::env::var(k).ok())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Serve { listen } => {
            let settings = load(&overrides(&cli.global, listen.as_ref(), vec![]))?;
            init_tracing(&settings);
            let app = Application::build(&settings).await?;
            println!("Baraza listening on http://{}", app.addr());
            tracing::info!(
                addr = %app.addr(),
                database = app.core().store().backend().as_str(),
                "listening"
            );
            app.run_until(shutdown_signal()).await?;
        }
        Command::Demo { listen, no_serve } => {
            let mut defaults = vec![
                ("data_dir", "./baraza-demo".to_owned()),
                // The demo's people are in Chad: numbers typed without +235 find them too.
                ("default_calling_code", "235".to_owned()),
                ("default_language", "fr".to_owned()),
            ];
            if *no_serve {
                // Seeding only: no port to take (two seedings may run side by side).
                defaults.push(("listen", "127.0.0.1:0".to_owned()));
            }
            let settings = load(&overrides(&cli.global, listen.as_ref(), defaults))?;
            init_tracing(&settings);
            let app = Application::build(&settings).await?;
            demo::seed_in(app.core(), Some(&settings.data_dir))
                .await
                .context("seeding the demo")?;
            let url = format!("http://{}", app.addr());
            if *no_serve {
                println!("Demo data ready in {}", settings.data_dir.display());
                app.core().store().close().await;
                return Ok(());
            }
            println!(
                "{}",
                demo::banner(
                    &url,
                    demo::collect_path(&settings.data_dir).as_deref(),
                    demo::public_path(&settings.data_dir).as_deref(),
                )
            );
            app.run_until(shutdown_signal()).await?;
        }
        Command::Migrate { status } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            std::fs::create_dir_all(&settings.data_dir)?;
            let store = baraza_store::Store::connect(
                &settings.database_url,
                &baraza_store::StoreOptions::default(),
            )
            .await?;
            if !*status {
                store.migrate().await?;
            }
            for m in store.migration_status().await? {
                println!(
                    "{:>4}  {:<8}  {}",
                    m.version,
                    if m.applied { "applied" } else { "pending" },
                    m.description
                );
            }
            store.close().await;
        }
        Command::Admin { command } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let core = cli_core(&settings).await?;
            match command {
                AdminCommand::CreateUser {
                    email,
                    name,
                    admin,
                    locale,
                    password_stdin,
                } => {
                    let (password, generated) = read_password(*password_stdin)?;
                    let u = core
                        .create_user(email, name, &password, *admin, locale.as_deref())
                        .await?;
                    core.audit(
                        baraza_core::audit::Actor::System,
                        "account.created",
                        &baraza_core::audit::Target::user(u.id),
                        serde_json::json!({ "admin": *admin, "via": "command line" }),
                    )
                    .await?;
                    println!("created account {} ({})", u.email, u.id);
                    if generated {
                        println!("password: {password}");
                    }
                }
                AdminCommand::ResetPassword {
                    email,
                    password_stdin,
                } => {
                    let (password, generated) = read_password(*password_stdin)?;
                    let u = core.reset_password(email, &password).await?;
                    println!(
                        "new password set for {}; their sessions were ended",
                        u.email
                    );
                    if generated {
                        println!("password: {password}");
                    }
                }
            }
            core.store().close().await;
        }
        Command::Retention {
            command: RetentionCommand::Run { json },
        } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let core = cli_core(&settings).await?;
            let certs = core.run_retention().await?;
            let answers = core.run_field_retention().await?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "records": certs, "answers": answers })
                    )?
                );
            } else if certs.is_empty() && answers.is_empty() {
                println!("nothing to destroy");
            } else {
                for a in &answers {
                    println!(
                        "form {} (project {}): answers to {} erased from {} stored versions of records first received more than {} days ago; certificate in audit entry {}",
                        a.form, a.project, a.fields.join(", "), a.versions, a.retention_days, a.audit_seq.unwrap_or(0)
                    );
                }
                for c in &certs {
                    let days = match &c.rule {
                        baraza_core::retention::Rule::Retention { retention_days, .. } => {
                            *retention_days
                        }
                        baraza_core::retention::Rule::Erasure { .. } => 0,
                    };
                    println!(
                        "form {} (project {}): {} records ({} versions, {} attachments, {} files wiped) first received more than {days} days ago destroyed; certificate in audit entry {}",
                        c.form, c.project, c.records, c.versions, c.attachments, c.files_wiped, c.audit_seq.unwrap_or(0)
                    );
                }
            }
            core.store().close().await;
        }
        Command::Harvest {
            source,
            all,
            full,
            json,
        } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let core = cli_core(&settings).await?;
            let runs = match (source, full) {
                (Some(id), true) => {
                    let s = core
                        .store()
                        .harvest_source(*id)
                        .await?
                        .with_context(|| format!("no harvest source {id}"))?;
                    let r = core
                        .run_harvest(&s, true, baraza_core::audit::Actor::System)
                        .await;
                    vec![(s, r)]
                }
                _ => core.run_due_harvests(*source, *all).await?,
            };
            if let Some(id) = source.filter(|_| runs.is_empty()) {
                anyhow::bail!("no harvest source {id}");
            }
            let mut failed = false;
            let mut out = Vec::new();
            for (s, r) in &runs {
                match r {
                    Ok(run) => {
                        failed |= run.status == "failed";
                        if *json {
                            out.push(
                                serde_json::json!({ "source": s.id, "title": s.title, "run": run }),
                            );
                        } else {
                            println!(
                                "source {} ({}): {} — {} new, {} changed, {} unchanged, {} withdrawn, {} skipped",
                                s.id, s.title, run.status, run.counts.created, run.counts.updated,
                                run.counts.unchanged, run.counts.withdrawn, run.counts.errors
                            );
                            for line in run.log.lines().filter(|_| run.status != "ok") {
                                println!("  {line}");
                            }
                        }
                    }
                    Err(e) => {
                        failed = true;
                        if *json {
                            out.push(serde_json::json!({ "source": s.id, "title": s.title, "error": e.to_string() }));
                        } else {
                            println!("source {} ({}): {e}", s.id, s.title);
                        }
                    }
                }
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else if runs.is_empty() {
                println!("no harvest source is due");
            }
            core.store().close().await;
            if failed {
                std::process::exit(1);
            }
        }
        Command::Keys { command } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            if let KeysCommand::NewMaster { output } = command {
                let fingerprint = baraza::app::new_master_key_file(output)?;
                println!(
                    "new master key written to {} (fingerprint {fingerprint}); see docs/protection.md for the rotation",
                    output.display()
                );
                return Ok(());
            }
            let core = cli_core(&settings).await?;
            match command {
                KeysCommand::Status => {
                    let masters = core.keyring().fingerprints();
                    println!("master key: {}", masters[0]);
                    for m in &masters[1..] {
                        println!("previous master key: {m}");
                    }
                    let keys = core.store().all_project_keys().await?;
                    let mut by_master: std::collections::BTreeMap<String, usize> =
                        Default::default();
                    for k in &keys {
                        let fp = baraza_protect::WrappedKey::from_text(&k.wrapped)
                            .map(|w| w.master_fingerprint())
                            .unwrap_or_else(|_| "unreadable".into());
                        *by_master.entry(fp).or_default() += 1;
                    }
                    let projects: std::collections::BTreeSet<i64> =
                        keys.iter().map(|k| k.project_id).collect();
                    println!(
                        "data keys: {} for {} project(s)",
                        keys.len(),
                        projects.len()
                    );
                    for (fp, n) in by_master {
                        println!("  {n} wrapped by {fp}");
                    }
                }
                KeysCommand::Rotate { data_keys: true } => {
                    let n = core.rotate_data_keys().await?;
                    println!(
                        "{n} project(s) got a new data key; records stored before keep theirs"
                    );
                }
                KeysCommand::Rotate { data_keys: false } => {
                    let (n, already) = core.rewrap_data_keys().await?;
                    println!(
                        "{n} data key(s) rewrapped with master key {}; {already} already were",
                        core.keyring().current().fingerprint()
                    );
                }
                KeysCommand::SealExisting => {
                    let n = core.seal_existing().await?;
                    println!("{n} record(s) stored in clear were sealed");
                    let n = core.seal_existing_files().await?;
                    println!("{n} file(s) stored in clear were sealed");
                }
                KeysCommand::NewMaster { .. } => {}
            }
            core.store().close().await;
        }
        Command::Places { command } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let core = cli_core(&settings).await?;
            match command {
                PlacesCommand::Import {
                    file,
                    code_property,
                    name_property,
                    level,
                    parent,
                    source,
                    attribution,
                    licence,
                    tolerance,
                } => {
                    let bytes = std::fs::read(file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let is_csv = file
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                    let n = if is_csv {
                        core.import_places_csv(&bytes, source, licence).await
                    } else {
                        core.import_places(
                            &bytes,
                            code_property,
                            name_property,
                            *level,
                            parent.as_deref(),
                            source,
                            attribution,
                            licence,
                            *tolerance,
                        )
                        .await
                    }
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    println!("{n} areas imported from {}", file.display());
                }
                PlacesCommand::List => {
                    for p in core.places(false).await? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            p.code,
                            p.level,
                            p.parent.unwrap_or_default(),
                            p.name
                        );
                    }
                }
            }
            core.store().close().await;
        }
        Command::Audit { command } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let core = cli_core(&settings).await?;
            let code = match command {
                AuditCommand::PublicKey => {
                    println!("{}", core.audit_public_key().to_hex());
                    0
                }
                AuditCommand::Verify {
                    all_signatures,
                    every,
                    anchor,
                    public_key,
                    json,
                } => {
                    audit_verify(
                        &core,
                        *all_signatures,
                        *every,
                        anchor.as_deref(),
                        public_key.as_deref(),
                        *json,
                    )
                    .await?
                }
            };
            core.store().close().await;
            std::process::exit(code);
        }
        Command::Backup {
            output,
            passphrase_file,
            recipient,
        } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let key = if !recipient.is_empty() {
                backup::Key::Recipients(backup::parse_recipients(recipient)?)
            } else {
                backup::Key::Passphrase(passphrase(passphrase_file.as_deref())?.context(
                    "give --passphrase-file, BARAZA_BACKUP_PASSPHRASE or --recipient: Baraza does not write unencrypted backups",
                )?)
            };
            let started = std::time::Instant::now();
            let r = backup::backup(&settings, output, key).await?;
            let m = &r.manifest;
            println!(
                "backup written: {} ({} bytes, in {:.1} s)",
                r.output.display(),
                r.bytes,
                started.elapsed().as_secs_f64()
            );
            println!(
                "database: {}, migration {}, {} tables, {} rows; blobs: {} files, {} bytes",
                m.backend,
                m.migration_version.unwrap_or(0),
                m.tables.len(),
                m.tables.iter().map(|t| t.rows).sum::<i64>(),
                m.blobs.count,
                m.blobs.bytes
            );
            println!(
                "NOT in the archive: the audit log's signing key ({}). Keep a copy of it apart from the backups; a restore needs it",
                settings.audit_key_file.display()
            );
            println!(
                "NOT in the archive: the master key ({}). Keep a copy of it apart from the backups; without it the encrypted answers in the archive cannot be read",
                master_key_place(&settings)
            );
        }
        Command::Restore {
            file,
            passphrase_file,
            identity,
            force,
        } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            init_tracing(&settings);
            let key = if !identity.is_empty() {
                let mut ids = Vec::new();
                for path in identity {
                    ids.extend(backup::read_identities(path)?);
                }
                backup::Key::Identities(ids)
            } else {
                backup::Key::Passphrase(passphrase(passphrase_file.as_deref())?.context(
                    "give --passphrase-file, BARAZA_BACKUP_PASSPHRASE or --identity to decrypt the archive",
                )?)
            };
            let r = backup::restore(&settings, file, key, *force)
                .await
                .with_context(|| {
                    format!("restore of {} refused; nothing was changed", file.display())
                })?;
            let m = &r.manifest;
            println!(
                "restored {} (made {} by Baraza {}): {} tables, {} rows; {} blobs ({} new)",
                file.display(),
                m.created_at,
                m.baraza_version,
                m.tables.len(),
                m.tables.iter().map(|t| t.rows).sum::<i64>(),
                m.blobs.count,
                r.blobs_written
            );
            if r.erasures_carried > 0 {
                println!(
                    "{} record(s) erased on request after this archive was made will be erased again when the server starts",
                    r.erasures_carried
                );
            }
            println!(
                "the audit log's signing key is not in the archive: put the original key file at {} before starting the server",
                settings.audit_key_file.display()
            );
            println!(
                "the master key is not in the archive: put the original master key at {} before starting the server",
                master_key_place(&settings)
            );
        }
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            let settings = load(&overrides(&cli.global, None, vec![]))?;
            print!("{}", settings.show());
        }
        Command::Xlsform {
            file,
            output,
            json,
            lang,
        } => {
            let lang = lang
                .clone()
                .or_else(|| std::env::var("LANG").ok())
                .filter(|l| l.to_ascii_lowercase().starts_with("fr"))
                .map(|_| baraza_xlsform::Lang::Fr)
                .unwrap_or(baraza_xlsform::Lang::En);
            let code = xlsform(file, output.as_deref(), *json, lang)?;
            std::process::exit(code);
        }
        Command::Sdc {
            command:
                SdcCommand::Risk {
                    file,
                    keys,
                    weight,
                    household,
                    sensitive,
                    missing,
                    missing_values,
                    k,
                    suda_max_size,
                    json,
                },
        } => {
            let args = baraza::sdc::RiskArgs {
                file: file.clone(),
                keys: keys.clone(),
                weight: weight.clone(),
                household: household.clone(),
                sensitive: sensitive.clone(),
                missing: if missing == "category" {
                    baraza_sdc::MissingMode::Category
                } else {
                    baraza_sdc::MissingMode::Any
                },
                missing_values: missing_values.split(',').map(str::to_owned).collect(),
                k: k.clone(),
                suda_max_size: *suda_max_size,
                json: *json,
            };
            match baraza::sdc::risk(&args) {
                Ok(out) => print!("{out}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            }
        }
        Command::Sdc {
            command:
                SdcCommand::Release {
                    file,
                    recipe,
                    policy,
                    output,
                    report,
                    missing_values,
                },
        } => {
            let args = baraza::sdc::ReleaseArgs {
                file: file.clone(),
                recipe: recipe.clone(),
                policy: policy.clone(),
                output: output.clone(),
                report: report.clone(),
                missing_values: missing_values.split(',').map(str::to_owned).collect(),
            };
            match baraza::sdc::release(&args) {
                Ok(out) => print!("{out}"),
                Err(baraza::sdc::ReleaseError::Input(e)) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
                Err(baraza::sdc::ReleaseError::Refused(why)) => {
                    eprintln!("{why}");
                    std::process::exit(3);
                }
            }
        }
        Command::Sdc {
            command:
                SdcCommand::VerifyReport {
                    file,
                    key,
                    signature,
                },
        } => match baraza::sdc::verify_report(file, key, signature) {
            Ok(true) => println!(
                "valid: {} was signed by the server whose key is {}",
                file.display(),
                key.trim()
            ),
            Ok(false) => {
                eprintln!(
                    "NOT valid: {} is not the report this key signed (changed, or signed by another server)",
                    file.display()
                );
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        },
        Command::Bench {
            requests,
            concurrency,
            only,
            export_rows,
            audit_entries,
            audit_runs,
            subject_records,
            indicator_records,
            page_records,
            catalogue_datasets,
            csv_rows,
            table_rows,
            datasette,
            reports_count,
        } => {
            let report = bench::run(&bench::BenchOptions {
                only: only.clone(),
                database_url: cli.global.database_url.clone(),
                requests: *requests,
                concurrency: *concurrency,
                binary: std::env::current_exe()?,
                export_rows: *export_rows,
                audit_entries: *audit_entries,
                audit_runs: *audit_runs,
                subject_records: *subject_records,
                indicator_records: *indicator_records,
                page_records: *page_records,
                catalogue_datasets: *catalogue_datasets,
                csv_rows: *csv_rows,
                table_rows: *table_rows,
                datasette: datasette.clone(),
                reports_count: *reports_count,
            })
            .await?;
            println!("{report}");
        }
    }
    Ok(())
}

/// Where the master key comes from, for messages.
fn master_key_place(settings: &Settings) -> String {
    if settings.master_key.is_some() {
        "BARAZA_MASTER_KEY (master_key)".to_owned()
    } else {
        settings.master_key_file.display().to_string()
    }
}
