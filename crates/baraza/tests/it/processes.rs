//! The real `baraza` executable: two instances on one PostgreSQL database, graceful shutdown,
//! and the command line.

use crate::common::*;
use baraza_store::{testing, Backend};
use reqwest::StatusCode;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_baraza");

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `baraza serve` and waits for the line that says where it listens.
    fn start(data_dir: &std::path::Path, database_url: &str, extra_env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--database-url")
            .arg(database_url)
            .env("BARAZA_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start baraza");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        Server { child, base }
    }

    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "server did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "baraza-proc-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn two_instances_share_one_postgres_database() {
    if testing::postgres_url().is_none() {
        eprintln!("skipped: BARAZA_TEST_DATABASE_URL is not set");
        return;
    }
    let db = testing::fresh(Backend::Postgres).await;
    let dir = temp("two");
    // Seed the demo through the command line, as an operator would.
    let out = Command::new(BIN)
        .args([
            "demo",
            "--no-serve",
            "--database-url",
            &db.url,
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Instances of one database share the audit log's signing key and the master key, as
    // docs/config.md says.
    let key = dir.join("audit.key").display().to_string();
    let master = dir.join("master.key").display().to_string();
    let shared = [
        ("BARAZA_AUDIT_KEY_FILE", key.as_str()),
        ("BARAZA_MASTER_KEY_FILE", master.as_str()),
    ];
    let a = Server::start(&dir.join("a"), &db.url, &shared);
    let b = Server::start(&dir.join("b"), &db.url, &shared);
    assert_ne!(a.base, b.base);

    // Sign in through A; the cookie works on B: sessions live in the database.
    let c = browser();
    let html = c
        .get(a.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&html);
    let res = c
        .post(a.url("/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", AMINA),
            ("password", "demo-amina-2026"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("baraza_session="))
        .unwrap();
    // A second browser that carries the cookie by hand (no cookie store, no redirects followed).
    let other = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = other
        .get(b.url(&format!("{}.json", private_project())))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["project"]["your_role"], "owner");

    // A write through B (with the session's CSRF token, shown by B) is seen through A.
    let page = other
        .get(b.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let t = csrf_from(&page);
    let res = other
        .post(b.url(&format!("{}/people", private_project())))
        .header("cookie", &cookie)
        .form(&[
            ("_csrf", t.as_str()),
            ("email", "admin@baraza.example"),
            ("role", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let people: serde_json::Value = other
        .get(a.url(&format!("{}/people.json", private_project())))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(people["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["email"] == "admin@baraza.example"));

    // Throttling counts across instances: failures through A lock the account on B.
    for _ in 0..5 {
        let c = browser();
        let t = csrf_from(
            &c.get(a.url("/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        c.post(a.url("/login"))
            .form(&[
                ("_csrf", t.as_str()),
                ("email", MOUSSA),
                ("password", "wrong-password"),
            ])
            .send()
            .await
            .unwrap();
    }
    let c = browser();
    let t = csrf_from(
        &c.get(b.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let res = c
        .post(b.url("/login"))
        .form(&[
            ("_csrf", t.as_str()),
            ("email", MOUSSA),
            ("password", "demo-moussa-2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Signing out through B ends the session for A as well.
    let res = other
        .post(b.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("_csrf", t.as_str())])
        .send()
        .await
        .unwrap();
    // `t` is the anonymous token of another client: refused, the session lives on.
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = other
        .get(b.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let t = csrf_from(&page);
    let res = other
        .post(b.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("_csrf", t.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = other
        .get(a.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    drop(a);
    drop(b);
    db.cleanup().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn graceful_shutdown_finishes_requests_in_flight() {
    for backend in backends() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt.block_on(testing::fresh(backend));
        let dir = temp("shutdown");
        let mut server = Server::start(&dir, &db.url, &[]);
        let addr = server.base.trim_start_matches("http://").to_owned();

        // A request whose body is still arriving when the signal comes.
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let body = "email=a%40b.org&password=x";
        write!(
            s,
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nAccept: application/json\r\nConnection: close\r\n\r\n{}",
            body.len(),
            &body[..10]
        )
        .unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        server.terminate();
        std::thread::sleep(Duration::from_millis(300));
        // New connections are refused once shutdown has begun...
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "the listener is closed"
        );
        // ...but the request in flight completes with a full answer.
        s.write_all(&body.as_bytes()[10..]).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}"); // no CSRF token: a full, proper answer
        assert!(answer.contains("csrf_failed"), "{answer}");
        let status = server.wait(Duration::from_secs(20));
        assert!(status.success(), "exit status {status:?}");
        rt.block_on(db.cleanup());
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn command_line_admin_and_config() {
    let dir = temp("cli");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--data-dir")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        child.wait_with_output().unwrap()
    };
    let out = run(&["migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));

    let out = run(
        &[
            "admin",
            "create-user",
            "--email",
            "ravi@ngo.example",
            "--name",
            "Ravi",
            "--admin",
            "--password-stdin",
        ],
        Some("a-long-enough-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same address again: a clear refusal, non-zero exit.
    let out = run(
        &[
            "admin",
            "create-user",
            "--email",
            "RAVI@ngo.example",
            "--name",
            "Ravi",
            "--password-stdin",
        ],
        Some("another-long-password\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // Generated password, printed once.
    let out = run(
        &["admin", "reset-password", "--email", "ravi@ngo.example"],
        None,
    );
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("password: ") && l.len() == "password: ".len() + 20),
        "{printed}"
    );

    let out = Command::new(BIN)
        .args([
            "config",
            "show",
            "--database-url",
            "postgres://baraza:hunter2-secret@db/baraza",
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        !shown.contains("hunter2-secret") && shown.contains("baraza:***@db"),
        "{shown}"
    );
    assert!(shown.contains("listen = \"127.0.0.1:8080\"  # default"));

    let out = Command::new(BIN)
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("configuration key listen"));
    let _ = std::fs::remove_dir_all(dir);
}

/// The server's log, at its most talkative, never holds personal data: not the e-mail address or
/// password of a failed sign-in, not the answers of a submission (accepted or refused), not what
/// an export or a record's page shows.
#[tokio::test]
async fn logs_never_hold_personal_data() {
    let dir = temp("logs");
    let db_url = format!("sqlite://{}", dir.join("baraza.db").display());
    let out = Command::new(BIN)
        .args(["demo", "--no-serve", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let collect = std::fs::read_to_string(dir.join("demo-collect.txt")).unwrap();
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .args(["--database-url", &db_url])
        .env("BARAZA_LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let url = |p: &str| format!("{base}{p}");

    const EMAIL: &str = "sentinel.person@example.org";
    const PASSWORD: &str = "Sentinel-Pass-4242";
    const PLACE: &str = "SENTINEL-QUARTIER-7781";
    const BAD_NUMBER: &str = "SENTINEL-NOT-A-NUMBER-5512";

    // A failed sign-in, twice (the second through Basic on OpenRosa).
    let c = browser();
    let html = c
        .get(url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&html);
    let res = c
        .post(url("/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", EMAIL),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = reqwest::Client::new()
        .get(url("/v1/projects/1/formList"))
        .basic_auth(EMAIL, Some(PASSWORD))
        .header("X-OpenRosa-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A submission accepted, one refused, through ODK Collect's path.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let xml = baraza::demo::submission(900_001, &mut rng, "2026011");
    let start = xml.find("<quartier>").unwrap() + "<quartier>".len();
    let end = xml.find("</quartier>").unwrap();
    let good = format!("{}{PLACE}{}", &xml[..start], &xml[end..]);
    let bad = xml.replace("uuid:", "uuid:b").replace(
        &xml[xml.find("<taille_menage>").unwrap()..xml.find("</taille_menage>").unwrap()],
        &format!("<taille_menage>{BAD_NUMBER}"),
    );
    for (body, expected) in [(good, StatusCode::CREATED), (bad, StatusCode::BAD_REQUEST)] {
        let form = reqwest::multipart::Form::new().part(
            "xml_submission_file",
            reqwest::multipart::Part::bytes(body.into_bytes())
                .file_name("submission.xml")
                .mime_str("text/xml")
                .unwrap(),
        );
        let res = reqwest::Client::new()
            .post(url(&format!("{}/submission", collect.trim())))
            .header("X-OpenRosa-Version", "1.0")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }

    // A manager reads the table, a record and an export: the place is in what they receive…
    let claire = browser();
    let html = claire
        .get(url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&html);
    let password = baraza::demo::ACCOUNTS
        .iter()
        .find(|a| a.email == CLAIRE)
        .unwrap()
        .password;
    let res = claire
        .post(url("/login"))
        .form(&[
            ("_csrf", token.as_str()),
            ("email", CLAIRE),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let csv = claire
        .get(url(&format!(
            "{}/forms/points_eau/submissions.csv",
            private_project()
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(PLACE), "the manager's export has the place");

    // …and nowhere in the log.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let mut text = String::new();
    std::fs::File::open(&log_path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(
        text.lines().count() > 10,
        "the log has the requests: {text}"
    );
    for sentinel in [EMAIL, PASSWORD, PLACE, BAD_NUMBER, password] {
        assert!(
            !text.contains(sentinel),
            "{sentinel} is in the server's log"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
