//! `TestApp`: the real application on 127.0.0.1:0 with a fresh database and the demo data,
//! spoken to over HTTP.

use baraza::config::{Overrides, Settings};
use baraza::{demo, Application};
use baraza_core::ManualClock;
use baraza_store::testing::{self, TestDb};
use baraza_store::Backend;
use reqwest::{Client, StatusCode};
use std::path::PathBuf;
use std::sync::Arc;

pub use baraza_store::testing::backends;

pub const T0: i64 = 1_790_000_000; // 2026-09-21, the tests' "now" at start.

pub struct TestApp {
    pub base: String,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub core: baraza_core::Core,
    pub db: Option<TestDb>,
    pub data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, &[]).await
    }

    /// Spawns with extra configuration values (`key`, `value`).
    pub async fn spawn_with(backend: Backend, extra: &[(&'static str, &str)]) -> TestApp {
        let db = testing::fresh(backend).await;
        let data_dir = std::env::temp_dir().join(format!(
            "baraza-it-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let mut values = vec![
            ("data_dir", data_dir.display().to_string()),
            ("database_url", db.url.clone()),
            ("listen", "127.0.0.1:0".to_owned()),
        ];
        for (k, v) in extra {
            values.push((k, v.to_string()));
        }
        let settings = Settings::load(
            &Overrides {
                config: None,
                values,
                defaults: vec![],
            },
            &|_| None,
        )
        .expect("settings");
        let clock = Arc::new(ManualClock::new(T0));
        let app = Application::build_with_clock(&settings, clock.clone())
            .await
            .expect("build app");
        demo::seed(app.core()).await.expect("seed demo");
        app.core()
            .create_user(
                "outsider@example.org",
                "Outsider",
                "outsider-password-1",
                false,
                Some("en"),
            )
            .await
            .expect("outsider");
        let base = format!("http://{}", app.addr());
        let core = app.core().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            backend,
            clock,
            core,
            db: Some(db),
            data_dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and removes its database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server result");
        }
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

/// A browser-like client: cookies kept, redirects not followed (tests look at them).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn csrf_from(html: &str) -> String {
    baraza::bench::csrf_from(html).expect("a CSRF field on the page")
}

/// The CSRF token of the page at `path`, for this client.
pub async fn csrf(app: &TestApp, c: &Client, path: &str) -> String {
    let html = c
        .get(app.url(path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_from(&html)
}

/// Signs in through the form, as a person would; returns the response.
pub async fn try_login(
    app: &TestApp,
    c: &Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let token = csrf(app, c, "/login").await;
    c.post(app.url("/login"))
        .header("accept-language", "en")
        .form(&[
            ("_csrf", token.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

/// A client signed in as `email`.
pub async fn signed_in(app: &TestApp, email: &str) -> Client {
    let c = browser();
    let password = demo::ACCOUNTS
        .iter()
        .find(|a| a.email == email)
        .map(|a| a.password)
        .unwrap_or("outsider-password-1");
    let res = try_login(app, &c, email, password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in as {email}");
    c
}

/// A bearer token for the `/v1` API: a session opened with `POST /v1/sessions`, as pyodk does.
pub async fn api_session(app: &TestApp, email: &str) -> String {
    let password = demo::ACCOUNTS
        .iter()
        .find(|a| a.email == email)
        .map(|a| a.password)
        .unwrap_or("outsider-password-1");
    let res = reqwest::Client::new()
        .post(app.url("/v1/sessions"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "API session for {email}");
    let body: serde_json::Value = res.json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
}

pub const AMINA: &str = "amina@eau-tchad.example";
pub const CLAIRE: &str = "claire@eau-tchad.example";
pub const IDRISS: &str = "idriss@eau-tchad.example";
pub const FATIME: &str = "fatime@eau-tchad.example";
pub const MOUSSA: &str = "moussa@eau-tchad.example";
pub const ADMIN: &str = "admin@baraza.example";
pub const OUTSIDER: &str = "outsider@example.org";

pub fn private_project() -> String {
    format!(
        "/orgs/{}/projects/{}",
        demo::ORG_SLUG,
        demo::PRIVATE_PROJECT
    )
}

pub fn public_project() -> String {
    format!("/orgs/{}/projects/{}", demo::ORG_SLUG, demo::PUBLIC_PROJECT)
}

/// The JSON error envelope's code, checking the envelope's shape on the way; or, for OpenRosa
/// clients, the `OpenRosaResponse` message and the `X-Error-Code` header.
pub async fn error_code(res: reqwest::Response) -> (StatusCode, String, String) {
    let status = res.status();
    let xml = res
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with("text/xml"));
    if xml {
        assert_eq!(res.headers()["x-openrosa-version"], "1.0");
        let code = res.headers()["x-error-code"].to_str().unwrap().to_owned();
        let body = res.text().await.unwrap();
        assert!(body.contains("<OpenRosaResponse"), "{body}");
        let message = body
            .split_once("<message nature=\"error\">")
            .and_then(|(_, rest)| rest.split_once("</message>"))
            .map(|(m, _)| m.to_owned())
            .expect("a message");
        assert!(!message.is_empty());
        return (status, code, message);
    }
    let body: serde_json::Value = res.json().await.expect("a JSON error envelope");
    assert_eq!(body["ok"], false, "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_owned();
    assert!(!message.is_empty());
    (status, code, message)
}

/// Files under `dir` that contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p.display().to_string());
                }
            }
        }
    }
    found
}

/// Files holding `needle`: in the data directory, and on SQLite in the database's directory.
pub fn traces(app: &TestApp, needle: &str) -> Vec<String> {
    let mut dirs = vec![app.data_dir.clone()];
    if app.backend == baraza_store::Backend::Sqlite {
        let url = &app.db.as_ref().unwrap().url;
        let db_file = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
        dirs.push(db_file.parent().unwrap().to_path_buf());
    }
    dirs.iter()
        .flat_map(|d| files_containing(d, needle.as_bytes()))
        .collect()
}

/// The demo's private project as its owner, Amina: her account, her principal and her access.
pub async fn owner_access(
    core: &baraza_core::Core,
) -> (
    baraza_store::User,
    baraza_core::Principal,
    baraza_core::ProjectAccess,
) {
    let amina = core.store().user_by_email(AMINA).await.unwrap().unwrap();
    let principal = core.cli_principal(amina.id).await.unwrap();
    let access = core
        .project_access(
            &principal,
            baraza::demo::ORG_SLUG,
            baraza::demo::PRIVATE_PROJECT,
        )
        .await
        .unwrap();
    (amina, principal, access)
}

/// A page's `.json` twin, which must answer 200.
pub async fn get_json(app: &TestApp, c: &reqwest::Client, path: &str) -> serde_json::Value {
    let res = c
        .get(app.url(&format!("{path}.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// Posts a form as the page's own form would (CSRF token from the page); JSON errors.
pub async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(app, c, page).await;
    let mut form = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(to))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap()
}
