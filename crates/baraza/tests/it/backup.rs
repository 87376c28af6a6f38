//! `baraza backup` and `baraza restore`, through the real executable: a round trip into a fresh
//! database and data directory compared row by row and byte by byte, then archives that are
//! wrong in every way we can think of, each refused without changing the target.

use crate::common::*;
use baraza_store::{testing, Backend};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_baraza");
const PASSPHRASE: &str = "correct horse battery staple, in Ndjamena";

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "baraza-backup-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the executable on this data directory and database, off the test's runtime thread (the
/// test's own server keeps answering meanwhile).
async fn run(args: Vec<String>, data_dir: &Path, url: &str, env: Vec<(String, String)>) -> Output {
    let data_dir = data_dir.to_owned();
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        cmd.args(&args)
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--database-url")
            .arg(&url)
            .env_remove("BARAZA_BACKUP_PASSPHRASE")
            .env("BARAZA_LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Every row of every table (and the migrations applied), rendered as text and sorted.
async fn dump(backend: Backend, url: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let cols: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                let expr = cols
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows: Vec<String> =
                    sqlx::query(&format!("SELECT {expr} AS r FROM \"{t}\" ORDER BY 1"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get::<String, _>("r"))
                        .collect();
                out.insert(t, rows);
            }
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let mut rows: Vec<String> =
                    sqlx::query(&format!("SELECT x::text AS r FROM \"{t}\" x ORDER BY 1"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get::<String, _>("r"))
                        .collect();
                if t == "_sqlx_migrations" {
                    // When and how fast each migration ran differs between the two databases.
                    rows = sqlx::query_scalar(
                        "SELECT version::text || ' ' || encode(checksum, 'hex') FROM _sqlx_migrations ORDER BY 1",
                    )
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                }
                out.insert(t, rows);
            }
        }
    }
    if backend == Backend::Sqlite {
        // Same reason as above, for SQLite.
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT version || ' ' || hex(checksum) FROM _sqlx_migrations ORDER BY 1",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        out.insert("_sqlx_migrations".into(), rows);
    }
    out
}

/// Every blob file under `<data_dir>/blobs` and its bytes' digest.
fn blobs(data_dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![data_dir.join("blobs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let e = e.unwrap();
            if e.file_name() == "tmp" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                out.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    hex::encode(Sha256::digest(&bytes)),
                );
            }
        }
    }
    out
}

/// What a failed restore must leave untouched: the rows, and for SQLite the file's bytes.
async fn state(backend: Backend, url: &str) -> (BTreeMap<String, Vec<String>>, Option<String>) {
    let file = baraza_store::Store::sqlite_file(url)
        .map(|p| hex::encode(Sha256::digest(std::fs::read(p).unwrap())));
    (dump(backend, url).await, file)
}

/// Decrypts an archive and splits it into its members (the test's archives are small).
fn members(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let d = age::Decryptor::new(archive).unwrap();
    let id = age::scrypt::Identity::new(PASSPHRASE.to_owned().into());
    let mut plain = Vec::new();
    d.decrypt(std::iter::once(&id as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert!(plain.starts_with(b"BARAZA-BACKUP\n"));
    let mut p = &plain[14..];
    let mut out = Vec::new();
    while p[0] == b'F' {
        let n = u16::from_be_bytes([p[1], p[2]]) as usize;
        let name = String::from_utf8(p[3..3 + n].to_vec()).unwrap();
        p = &p[3 + n..];
        let mut content = Vec::new();
        loop {
            let len = u32::from_be_bytes(p[..4].try_into().unwrap()) as usize;
            p = &p[4..];
            if len == 0 {
                break;
            }
            content.extend_from_slice(&p[..len]);
            p = &p[len..];
        }
        out.push((name, content));
    }
    assert_eq!(p, b"Z");
    out
}

/// Frames and encrypts members again, as `baraza backup` would.
fn archive(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut plain = b"BARAZA-BACKUP\n".to_vec();
    for (name, content) in members {
        plain.push(b'F');
        plain.extend_from_slice(&(name.len() as u16).to_be_bytes());
        plain.extend_from_slice(name.as_bytes());
        for chunk in content.chunks(65536) {
            plain.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
            plain.extend_from_slice(chunk);
        }
        plain.extend_from_slice(&0u32.to_be_bytes());
    }
    plain.push(b'Z');
    let e = age::Encryptor::with_user_passphrase(PASSPHRASE.to_owned().into());
    let mut out = Vec::new();
    let mut w = e.wrap_output(&mut out).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap();
    out
}

/// Starts the restored server and checks that it answers.
async fn serves(data_dir: &Path, url: &str) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--database-url")
        .arg(url)
        .env("BARAZA_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("the restored server did not start: {line:?}"))
        .to_owned();
    let res = reqwest::get(format!("{base}/-/health")).await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn backup_and_restore_round_trip_and_refusals() {
    for backend in backends() {
        round_trip(backend).await;
    }
}

async fn round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let source_url = app.db.as_ref().unwrap().url.clone();
    let work = temp("work");
    let pass = work.join("passphrase");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    let out_file = work.join("baraza.age");

    // No key: refused, and no file written.
    let o = run(
        s(&["backup", "--output", out_file.to_str().unwrap()]),
        &app.data_dir,
        &source_url,
        vec![],
    )
    .await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("unencrypted"), "{}", text(&o));
    assert!(!out_file.exists());

    // A backup while the server runs.
    let o = run(
        s(&[
            "backup",
            "--output",
            out_file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ]),
        &app.data_dir,
        &source_url,
        vec![],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("NOT in the archive"), "{}", text(&o));
    let bytes = std::fs::read(&out_file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        2,
        "no temporary file left beside the archive"
    );
    let parts = members(&bytes);
    assert_eq!(parts.first().unwrap().0, "header.json");
    assert_eq!(parts.last().unwrap().0, "manifest.json");
    let manifest: serde_json::Value = serde_json::from_slice(&parts.last().unwrap().1).unwrap();
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["backend"], backend.as_str());
    assert!(manifest["audit_key"]
        .as_str()
        .unwrap()
        .contains("not included"));
    assert!(manifest["blobs"]["count"].as_u64().unwrap() > 0);
    let source_blobs = blobs(&app.data_dir);
    assert_eq!(
        manifest["blobs"]["count"].as_u64().unwrap(),
        source_blobs.len() as u64
    );

    // Restore into a fresh database and data directory.
    let target = testing::fresh(backend).await;
    let target_dir = temp("target");
    let restore = |extra: &[&str]| {
        let mut a = s(&["restore"]);
        a.extend(s(extra));
        a
    };
    let o = run(
        restore(&[
            out_file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ]),
        &target_dir,
        &target.url,
        vec![],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("signing key is not in the archive"));
    assert!(text(&o).contains("master key is not in the archive"));

    let source = dump(backend, &source_url).await;
    let restored = dump(backend, &target.url).await;
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        restored.keys().collect::<Vec<_>>()
    );
    for (t, rows) in &source {
        assert_eq!(rows, &restored[t], "table {t} differs after the restore");
    }
    assert!(
        source["submissions"].len() > 1,
        "the demo data was restored"
    );
    assert_eq!(blobs(&target_dir), source_blobs);

    // With the original audit key, the log verifies and the server starts.
    std::fs::copy(app.data_dir.join("audit.key"), target_dir.join("audit.key")).unwrap();
    // Without the master key, the server refuses to start rather than make a new one.
    let o = run(s(&["audit", "verify"]), &target_dir, &target.url, vec![]).await;
    assert!(!o.status.success());
    assert!(
        text(&o).contains("master key file") && text(&o).contains("is missing"),
        "{}",
        text(&o)
    );
    std::fs::copy(
        app.data_dir.join("master.key"),
        target_dir.join("master.key"),
    )
    .unwrap();
    let o = run(s(&["audit", "verify"]), &target_dir, &target.url, vec![]).await;
    assert!(o.status.success(), "{}", text(&o));
    serves(&target_dir, &target.url).await;
    // New rows get fresh ids (PostgreSQL's sequences were moved past the restored ones).
    let o = run(
        s(&[
            "admin",
            "create-user",
            "--email",
            "new@ngo.example",
            "--name",
            "New",
        ]),
        &target_dir,
        &target.url,
        vec![],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run(s(&["audit", "verify"]), &target_dir, &target.url, vec![]).await;
    assert!(o.status.success(), "{}", text(&o));

    // Now everything that must be refused, each leaving the restored target as it is.
    let before = state(backend, &target.url).await;
    let before_blobs = blobs(&target_dir);
    let bad = work.join("bad.age");
    let refused = |o: &Output, what: &str| {
        assert!(!o.status.success(), "{}", text(o));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(err.contains(what), "expected {what:?} in: {}", text(o));
    };

    // Not empty, no --force.
    let o = run(
        restore(&[
            out_file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ]),
        &target_dir,
        &target.url,
        vec![],
    )
    .await;
    refused(&o, "already holds data");

    // A wrong passphrase (given through the environment).
    let o = run(
        restore(&[out_file.to_str().unwrap(), "--force"]),
        &target_dir,
        &target.url,
        vec![(
            "BARAZA_BACKUP_PASSPHRASE".into(),
            "not the passphrase".into(),
        )],
    )
    .await;
    refused(&o, "wrong passphrase");

    let with_force = |file: &Path| {
        restore(&[
            file.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
            "--force",
        ])
    };
    // Truncated: cut near the end, then in the middle.
    for keep in [bytes.len() - 10, bytes.len() / 2] {
        std::fs::write(&bad, &bytes[..keep]).unwrap();
        let o = run(with_force(&bad), &target_dir, &target.url, vec![]).await;
        refused(&o, "truncated");
    }
    // One byte changed.
    let mut tampered = bytes.clone();
    let i = tampered.len() * 2 / 3;
    tampered[i] ^= 0x01;
    std::fs::write(&bad, &tampered).unwrap();
    let o = run(with_force(&bad), &target_dir, &target.url, vec![]).await;
    refused(&o, "altered");

    // A newer format.
    let mut newer = parts.clone();
    // (a later format may well shape its header differently)
    newer[0].1 = serde_json::to_vec(&serde_json::json!({"format": 2, "engine": "?"})).unwrap();
    std::fs::write(&bad, archive(&newer)).unwrap();
    let o = run(with_force(&bad), &target_dir, &target.url, vec![]).await;
    refused(&o, "format 2");

    // A missing member: a blob left out (its database rows are loaded by then).
    let missing: Vec<_> = parts
        .iter()
        .filter(|(n, _)| n.as_str() != format!("blobs/{}", source_blobs.keys().next().unwrap()))
        .cloned()
        .collect();
    assert_eq!(missing.len(), parts.len() - 1);
    std::fs::write(&bad, archive(&missing)).unwrap();
    let o = run(with_force(&bad), &target_dir, &target.url, vec![]).await;
    refused(&o, "missing from the archive");

    // A member whose content does not match the manifest.
    let mut changed = parts.clone();
    let db = changed
        .iter_mut()
        .find(|(n, _)| n.starts_with("database/"))
        .unwrap();
    db.1.push(0);
    std::fs::write(&bad, archive(&changed)).unwrap();
    let o = run(with_force(&bad), &target_dir, &target.url, vec![]).await;
    assert!(!o.status.success(), "{}", text(&o));

    assert_eq!(
        state(backend, &target.url).await,
        before,
        "a refused restore changed the database"
    );
    assert_eq!(
        blobs(&target_dir),
        before_blobs,
        "a refused restore changed the blobs"
    );

    // --force with a good archive replaces the database.
    let o = run(with_force(&out_file), &target_dir, &target.url, vec![]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(dump(backend, &target.url).await, source);

    app.stop().await;
    target.cleanup().await;
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&target_dir);
}

/// Encrypted to an age public key, restored with the matching identity file.
#[tokio::test]
async fn backup_to_an_age_recipient() {
    let backend = Backend::Sqlite;
    let app = TestApp::spawn(backend).await;
    let url = app.db.as_ref().unwrap().url.clone();
    let work = temp("recipient");
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let id_file = work.join("key.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &id_file,
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
    }
    let out_file = work.join("b.age");
    let o = run(
        s(&[
            "backup",
            "-o",
            out_file.to_str().unwrap(),
            "--recipient",
            &public,
        ]),
        &app.data_dir,
        &url,
        vec![],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let target = testing::fresh(backend).await;
    let target_dir = temp("recipient-target");
    let o = run(
        s(&[
            "restore",
            out_file.to_str().unwrap(),
            "--identity",
            id_file.to_str().unwrap(),
        ]),
        &target_dir,
        &target.url,
        vec![],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(dump(backend, &target.url).await, dump(backend, &url).await);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&target_dir);
}

/// Runs one query returning one text column, on either backend.
async fn texts(backend: Backend, url: &str, sql: &str) -> Vec<String> {
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

/// A record erased on request stays erased: sent again by a phone, or brought back by
/// restoring, over the database, an archive made before its erasure (`baraza restore` carries
/// the replaced database's erasure ledger over, and the restored server erases it again before
/// it serves, with a certificate).
#[tokio::test]
async fn an_erasure_survives_a_resend_and_the_restore_of_an_older_archive() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let url = app.db.as_ref().unwrap().url.clone();
        let core = &app.core;
        let (_, _, access) = owner_access(core).await;
        let form = core
            .store()
            .list_forms(access.project.id)
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        let xml_form_id = form.form.xml_form_id.clone();
        let root = texts(
            backend,
            &url,
            &format!(
                "SELECT root_instance_id FROM submissions WHERE form_id = {} AND is_current = {} ORDER BY id LIMIT 1",
                form.form.id,
                if backend == Backend::Sqlite { "1" } else { "true" }
            ),
        )
        .await
        .remove(0);
        let versions = |url: String, root: String| async move {
            texts(
                backend,
                &url,
                &format!("SELECT instance_id FROM submissions WHERE root_instance_id = '{root}'"),
            )
            .await
            .len()
        };
        let count = |root: String| versions(url.clone(), root);
        let work = temp("erasure");
        let pass = work.join("passphrase");
        std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
        let backup = |file: &Path| {
            s(&[
                "backup",
                "--output",
                file.to_str().unwrap(),
                "--passphrase-file",
                pass.to_str().unwrap(),
            ])
        };
        // Archive A holds the record.
        let before = work.join("before.age");
        let o = run(backup(&before), &app.data_dir, &url, vec![]).await;
        assert!(o.status.success(), "{}", text(&o));

        // The person asks for erasure; the phone then sends the record again.
        let xml = core
            .submission_xml(&access, &xml_form_id, &root)
            .await
            .unwrap();
        core.erase_record(&access, &xml_form_id, &root, "subject_request")
            .await
            .unwrap();
        assert_eq!(count(root.clone()).await, 0);
        core.ingest_submission(
            access.project.id,
            baraza_core::forms::Submitter::Anonymous,
            &xml,
            &[],
        )
        .await
        .unwrap();
        assert_eq!(count(root.clone()).await, 1, "the resend was stored");
        let again = core.reapply_erasures().await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].records, 1);
        assert_eq!(count(root.clone()).await, 0, "and erased again");
        assert!(core.reapply_erasures().await.unwrap().is_empty());

        // Archive B is made after the erasure; restored into a fresh database, then A over it.
        let after = work.join("after.age");
        let o = run(backup(&after), &app.data_dir, &url, vec![]).await;
        assert!(o.status.success(), "{}", text(&o));
        let target = testing::fresh(backend).await;
        let target_dir = temp("erasure-target");
        let restore = |file: &Path, force: bool| {
            let mut a = s(&[
                "restore",
                file.to_str().unwrap(),
                "--passphrase-file",
                pass.to_str().unwrap(),
            ]);
            if force {
                a.push("--force".into());
            }
            a
        };
        let o = run(restore(&after, false), &target_dir, &target.url, vec![]).await;
        assert!(o.status.success(), "{}", text(&o));
        let o = run(restore(&before, true), &target_dir, &target.url, vec![]).await;
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("1 record(s) erased on request after this archive was made"),
            "{}",
            text(&o)
        );
        let in_target = |root: String| versions(target.url.clone(), root);
        assert_eq!(
            in_target(root.clone()).await,
            1,
            "archive A holds the record"
        );
        for key in ["audit.key", "master.key"] {
            std::fs::copy(app.data_dir.join(key), target_dir.join(key)).unwrap();
        }
        serves(&target_dir, &target.url).await;
        assert_eq!(
            in_target(root.clone()).await,
            0,
            "the restored server erased it again before serving"
        );
        let certified = texts(
            backend,
            &target.url,
            "SELECT action FROM audit_log WHERE action = 'data.erased_again'",
        )
        .await;
        assert_eq!(certified.len(), 1);
        let o = run(s(&["audit", "verify"]), &target_dir, &target.url, vec![]).await;
        assert!(o.status.success(), "{}", text(&o));
        app.stop().await;
    }
}
