//! Configuration: defaults, then `baraza.toml` (`--config`), then `BARAZA_*` environment variables
//! (`BARAZA_*_FILE` to read a secret from a file), then command-line flags. Read and checked once,
//! at start, into one [`Settings`] that is passed down; nothing else reads the environment.
//!
//! [`KEYS`] is the single list of keys: it drives parsing, `baraza config show` and the table in
//! docs/config.md (a test checks that the doc names every key).

use anyhow::{anyhow, bail, Context, Result};
use baraza_web::i18n::Lang;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// One configuration key.
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub secret: bool,
    pub doc: &'static str,
}

pub const KEYS: &[Key] = &[
    Key { name: "listen", default: "127.0.0.1:8080", secret: false, doc: "Address and port to listen on. Use 0.0.0.0:8080 to accept connections from other machines." },
    Key { name: "data_dir", default: "./baraza-data", secret: false, doc: "Directory for the SQLite database and stored files. Created if missing." },
    Key { name: "database_url", default: "sqlite://<data_dir>/baraza.db", secret: true, doc: "sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB. Several instances may share one PostgreSQL database." },
    Key { name: "db_max_connections", default: "8", secret: false, doc: "PostgreSQL connections per instance, or SQLite reader connections." },
    Key { name: "public_url", default: "", secret: false, doc: "The URL people use to reach Baraza, e.g. https://data.example.org. When it starts with https, cookies are marked Secure." },
    Key { name: "behind_proxy", default: "false", secret: false, doc: "Trust the last X-Forwarded-For hop as the client address (set when behind a load balancer or reverse proxy)." },
    Key { name: "default_language", default: "en", secret: false, doc: "Language (en or fr) for visitors whose browser asks for neither." },
    Key { name: "max_body_bytes", default: "65536", secret: false, doc: "Largest form or JSON body accepted, in bytes." },
    Key { name: "request_timeout_secs", default: "30", secret: false, doc: "A request taking longer is answered 408." },
    Key { name: "session_idle_hours", default: "336", secret: false, doc: "A session unused this long expires (14 days by default)." },
    Key { name: "login_max_failures_per_account", default: "5", secret: false, doc: "Failed sign-ins per account within the window before it is throttled." },
    Key { name: "login_max_failures_per_address", default: "30", secret: false, doc: "Failed sign-ins per client address within the window before it is throttled." },
    Key { name: "login_failure_window_minutes", default: "15", secret: false, doc: "The throttling window." },
    Key { name: "public_form_submissions_per_hour", default: "60", secret: false, doc: "Submissions per hour from one client address through forms' public links (new drafts: four times as many). Many phones can share one address behind a mobile operator's NAT: keep it generous." },
    Key { name: "audit_key_file", default: "<data_dir>/audit.key", secret: false, doc: "The file of the key that signs the audit log (created at first start, readable by Baraza only). Instances sharing a PostgreSQL database must share this file. Keep a copy apart from the database's backups: whoever holds both could rewrite the log." },
    Key { name: "master_key", default: "", secret: true, doc: "The master key that wraps the projects' data keys (encryption at rest): 64 hex digits or base64 of 32 bytes. When empty, master_key_file (BARAZA_MASTER_KEY_FILE) is read. Never stored in the database nor in backups." },
    Key { name: "master_key_file", default: "<data_dir>/master.key", secret: false, doc: "The file of the master key, used when master_key is empty; created at first start (readable by Baraza only) while the database holds no data key. Instances sharing a PostgreSQL database must share it. Keep a copy apart from backups: without it, encrypted answers cannot be read." },
    Key { name: "previous_master_key_file", default: "", secret: false, doc: "During a master-key rotation, the file of the previous master key: data keys it wrapped still open until `baraza keys rotate` rewraps them. See docs/protection.md." },
    Key { name: "default_calling_code", default: "", secret: false, doc: "Country calling code (e.g. 235 for Chad) that completes phone numbers written without one, so that a person's records are found by their number however it was typed. Empty: numbers are compared as written." },
    Key { name: "table_cache_mb", default: "256", secret: false, doc: "Memory kept for the tables that dataset table pages read (filters, facets, sorting over a CSV resource), in MB. The least recently used tables leave when it is full; a table that alone needs more is refused with a message." },
    Key { name: "table_max_file_mb", default: "200", secret: false, doc: "The largest file, in MB, that a dataset's table page reads (a million rows of ten columns is about 75 MB). Larger files can still be downloaded." },
    Key { name: "harvest_allow_private_addresses", default: "false", secret: false, doc: "Let harvest sources (docs/harvest.md) reach private, loopback and link-local addresses (10.x, 192.168.x, 127.x, 169.254.x, fc00::/7…). Off by default, so that a manager cannot make the server read its own network; turn it on for a source on the same private network." },
    Key { name: "harvest_interval_minutes", default: "60", secret: false, doc: "How often the server looks for harvest sources that are due (daily or weekly) and runs them; 0 turns the scheduler off (`baraza harvest` still runs them). Safe with several instances: a source is run by one at a time." },
    Key { name: "log_level", default: "info", secret: false, doc: "Log filter, in tracing's syntax (e.g. info, debug, baraza_web=debug)." },
    Key { name: "log_format", default: "text", secret: false, doc: "text (for people) or json (for log collectors)." },
];

/// Where a value came from, for `baraza config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "environment",
            Source::Flag => "flag",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub db_max_connections: u32,
    pub public_url: Option<String>,
    pub behind_proxy: bool,
    pub default_language: Lang,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    pub session_idle_hours: i64,
    pub login_max_failures_per_account: i64,
    pub login_max_failures_per_address: i64,
    pub login_failure_window_minutes: i64,
    pub public_form_submissions_per_hour: i64,
    pub audit_key_file: PathBuf,
    /// The master key given directly (in clear: never print it).
    pub master_key: Option<String>,
    pub master_key_file: PathBuf,
    pub previous_master_key_file: Option<PathBuf>,
    pub default_calling_code: Option<u16>,
    pub table_cache_mb: usize,
    pub table_max_file_mb: usize,
    pub harvest_allow_private_addresses: bool,
    pub harvest_interval_minutes: u64,
    pub log_level: String,
    pub log_format: LogFormat,
    /// Each key's final value as text and its source (secrets in clear: mask before printing).
    pub sources: BTreeMap<&'static str, (String, Source)>,
}

/// Overrides from command-line flags.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub values: Vec<(&'static str, String)>,
    /// Defaults that a sub-command changes (e.g. `demo` uses its own data directory).
    pub defaults: Vec<(&'static str, String)>,
}

fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

fn env_name(key: &str) -> String {
    format!("BARAZA_{}", key.to_ascii_uppercase())
}

impl Settings {
    /// Loads the configuration. `env` reads an environment variable (injected for tests).
    pub fn load(o: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
        let mut values: BTreeMap<&'static str, (String, Source)> = KEYS
            .iter()
            .map(|k| (k.name, (k.default.to_owned(), Source::Default)))
            .collect();
        for (name, v) in &o.defaults {
            values.insert(name, (v.clone(), Source::Default));
        }
        // The file named by --config, or by BARAZA_CONFIG.
        let file = o
            .config
            .clone()
            .or_else(|| env("BARAZA_CONFIG").map(PathBuf::from));
        if let Some(path) = &file {
            for (name, v) in read_file(path)? {
                values.insert(name, (v, Source::File));
            }
        }
        for k in KEYS {
            let var = env_name(k.name);
            if let Some(v) = env(&var) {
                values.insert(k.name, (v, Source::Env));
            }
            let file_var = format!("{var}_FILE");
            // `master_key`'s file form is the key `master_key_file` (whose variable is
            // BARAZA_MASTER_KEY_FILE): a path, read, or created at first start.
            let has_file_key = KEYS.iter().any(|o| o.name == format!("{}_file", k.name));
            if let Some(path) = env(&file_var).filter(|_| !has_file_key) {
                let v = std::fs::read_to_string(&path)
                    .with_context(|| format!("{file_var}: cannot read {path}"))?;
                values.insert(k.name, (v.trim().to_owned(), Source::Env));
            }
        }
        for (name, v) in &o.values {
            values.insert(name, (v.clone(), Source::Flag));
        }

        if values["database_url"].1 == Source::Default {
            let dir = PathBuf::from(values["data_dir"].0.trim());
            let url = format!("sqlite://{}", dir.join("baraza.db").display());
            values.insert("database_url", (url, Source::Default));
        }
        if values["audit_key_file"].1 == Source::Default {
            let dir = PathBuf::from(values["data_dir"].0.trim());
            let file = dir.join("audit.key").display().to_string();
            values.insert("audit_key_file", (file, Source::Default));
        }
        if values["master_key_file"].1 == Source::Default {
            let dir = PathBuf::from(values["data_dir"].0.trim());
            let file = dir.join("master.key").display().to_string();
            values.insert("master_key_file", (file, Source::Default));
        }
        let get = |name: &str| values[name].0.clone();
        let err = |name: &str, what: &str| {
            let (v, src) = &values[name];
            let shown = if key(name).is_some_and(|k| k.secret) {
                "(hidden)".to_owned()
            } else {
                format!("{v:?}")
            };
            anyhow!(
                "configuration key {name} = {shown} (from {}): {what}",
                describe(src, name, file.as_deref())
            )
        };
        let int = |name: &str, min: i64, max: i64| -> Result<i64> {
            let n: i64 = get(name)
                .trim()
                .parse()
                .map_err(|_| err(name, "not a whole number"))?;
            if !(min..=max).contains(&n) {
                return Err(err(name, &format!("must be between {min} and {max}")));
            }
            Ok(n)
        };
        let boolean = |name: &str| -> Result<bool> {
            match get(name).trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" | "" => Ok(false),
                _ => Err(err(name, "must be true or false")),
            }
        };

        let listen: SocketAddr = get("listen")
            .trim()
            .parse()
            .map_err(|_| err("listen", "not an address:port, e.g. 127.0.0.1:8080"))?;
        let data_dir = PathBuf::from(get("data_dir").trim());
        let database_url = get("database_url").trim().to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        let public_url = Some(get("public_url").trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(u) = &public_url {
            url::Url::parse(u).map_err(|_| err("public_url", "not a URL"))?;
        }
        let default_language = Lang::from_code(get("default_language").trim())
            .ok_or_else(|| err("default_language", "must be en or fr"))?;
        let log_format = match get("log_format").trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(err("log_format", "must be text or json")),
        };
        let default_calling_code = match get("default_calling_code").trim().trim_start_matches('+')
        {
            "" => None,
            code => Some(
                code.parse::<u16>()
                    .ok()
                    .filter(|c| (1..=999).contains(c))
                    .ok_or_else(|| {
                        err("default_calling_code", "must be 1 to 3 digits, e.g. 235")
                    })?,
            ),
        };
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            db_max_connections: int("db_max_connections", 1, 1000)? as u32,
            public_url,
            behind_proxy: boolean("behind_proxy")?,
            default_language,
            max_body_bytes: int("max_body_bytes", 1024, 1 << 30)? as usize,
            request_timeout_secs: int("request_timeout_secs", 1, 3600)? as u64,
            session_idle_hours: int("session_idle_hours", 1, 24 * 365)?,
            login_max_failures_per_account: int("login_max_failures_per_account", 1, 1000)?,
            login_max_failures_per_address: int("login_max_failures_per_address", 1, 100_000)?,
            login_failure_window_minutes: int("login_failure_window_minutes", 1, 24 * 60)?,
            public_form_submissions_per_hour: int(
                "public_form_submissions_per_hour",
                1,
                1_000_000,
            )?,
            audit_key_file: PathBuf::from(get("audit_key_file").trim()),
            master_key: Some(get("master_key").trim().to_owned()).filter(|s| !s.is_empty()),
            master_key_file: PathBuf::from(get("master_key_file").trim()),
            previous_master_key_file: Some(get("previous_master_key_file").trim().to_owned())
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            default_calling_code,
            table_cache_mb: int("table_cache_mb", 1, 1 << 20)? as usize,
            table_max_file_mb: int("table_max_file_mb", 1, 1 << 20)? as usize,
            harvest_allow_private_addresses: boolean("harvest_allow_private_addresses")?,
            harvest_interval_minutes: int("harvest_interval_minutes", 0, 7 * 24 * 60)? as u64,
            log_level: get("log_level").trim().to_owned(),
            log_format,
            sources: values,
        })
    }

    /// Whether cookies must be marked Secure.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// `key = value  # source` lines, secrets masked.
    pub fn show(&self) -> String {
        let mut out = String::new();
        for k in KEYS {
            let (v, src) = &self.sources[k.name];
            let shown = if k.secret { mask(v) } else { v.clone() };
            out.push_str(&format!("{} = {:?}  # {}\n", k.name, shown, src.as_str()));
        }
        out
    }
}

fn describe(src: &Source, name: &str, file: Option<&Path>) -> String {
    match src {
        Source::Default => "the default".into(),
        Source::File => format!(
            "file {}",
            file.map(|p| p.display().to_string()).unwrap_or_default()
        ),
        Source::Env => format!("environment variable {}", env_name(name)),
        Source::Flag => "a command-line flag".into(),
    }
}

/// Hides the password of a URL (`postgres://u:secret@h/db` -> `postgres://u:***@h/db`).
pub fn mask(v: &str) -> String {
    match url::Url::parse(v) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => v.to_owned(),
        Err(_) if v.is_empty() => String::new(),
        Err(_) => "***".to_owned(),
    }
}

fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| anyhow!("configuration file {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (k, v) in table {
        let Some(known) = key(&k) else {
            let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
            bail!(
                "configuration file {}: unknown key {k:?}; known keys: {}",
                path.display(),
                names.join(", ")
            );
        };
        let s = match v {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => bail!(
                "configuration file {}: key {k} must be a string, number or boolean, not {}",
                path.display(),
                other.type_str()
            ),
        };
        out.push((known.name, s));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)], o: Overrides) -> Result<Settings> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(&o, &|k| env.get(k).cloned())
    }

    #[test]
    fn starts_with_nothing() {
        let s = load(&[], Overrides::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./baraza-data"));
        assert_eq!(s.database_url, "sqlite://./baraza-data/baraza.db");
        assert!(!s.secure_cookies());
    }

    #[test]
    fn layers_override_in_order() {
        let dir = std::env::temp_dir().join(format!("baraza-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("baraza.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/baraza\"\nbehind_proxy = true\nmax_body_bytes = 2048\n").unwrap();
        let secret = dir.join("db-url");
        std::fs::write(&secret, "postgres://baraza:s3cret@db/baraza\n").unwrap();
        let o = Overrides {
            config: Some(file),
            values: vec![("listen", "127.0.0.1:7000".into())],
            defaults: vec![],
        };
        let s = load(
            &[
                ("BARAZA_DATA_DIR", "/var/lib/baraza"),
                ("BARAZA_DATABASE_URL_FILE", secret.to_str().unwrap()),
                ("BARAZA_PUBLIC_URL", "https://data.example.org"),
            ],
            o,
        )
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/baraza"));
        assert_eq!(s.database_url, "postgres://baraza:s3cret@db/baraza");
        assert!(s.behind_proxy);
        assert_eq!(s.max_body_bytes, 2048);
        assert!(s.secure_cookies());
        let shown = s.show();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://baraza:***@db/baraza"));
        assert!(shown.contains("listen = \"127.0.0.1:7000\"  # flag"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_values_say_what_and_where() {
        let e = load(&[("BARAZA_LISTEN", "nowhere")], Overrides::default()).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("listen") && m.contains("BARAZA_LISTEN"), "{m}");
        let e = load(
            &[("BARAZA_DATABASE_URL", "mysql://x")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(
            !e.to_string().contains("mysql://x"),
            "secrets are not echoed"
        );
        let e = load(&[("BARAZA_SESSION_IDLE_HOURS", "0")], Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("between 1 and"));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("baraza-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("baraza.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let e = load(
            &[],
            Overrides {
                config: Some(file),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown key \"lisen\""), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn masking() {
        assert_eq!(mask("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(mask("sqlite://./x.db"), "sqlite://./x.db");
    }

    #[test]
    fn docs_list_every_key() {
        let doc = include_str!("../../../docs/config.md");
        for k in KEYS {
            assert!(
                doc.contains(&format!("`{}`", k.name)),
                "docs/config.md lacks {}",
                k.name
            );
            assert!(
                doc.contains(&env_name(k.name)),
                "docs/config.md lacks {}",
                env_name(k.name)
            );
        }
    }
}
