//! Encryption at rest: answers to personal and sensitive questions, and the XML that holds
//! them, are stored sealed under the project's data key (no file of the data directory holds
//! them in clear); managers read them in clear, analysts never; a person's records are found by
//! the blind index however their phone number or name was typed; a sealed answer moved or
//! altered does not open; a server given another master key refuses to start.

use crate::common::*;
use baraza_core::forms::Submitter;
use baraza_store::Backend;
use reqwest::StatusCode;
use serde_json::Value;

const FORM: &str = "| survey | | | |\n| | type | name | label |\n| | text | nom_complet | Nom complet |\n| | text | telephone | Téléphone |\n| | text | commentaire | Commentaire |\n| settings | | |\n| | form_id | version |\n| | contacts | 1 |\n";
pub(crate) const NAME: &str = "Fatimé SENTINEL-NOM-7731";
pub(crate) const PHONE: &str = "066 77 31 90";
const NOTE: &str = "CLEAR-NOTE-5120";

fn xml(instance: &str, name: &str, phone: &str, note: &str) -> String {
    format!(
        "<data id=\"contacts\" version=\"1\"><nom_complet>{name}</nom_complet><telephone>{phone}</telephone><commentaire>{note}</commentaire><meta><instanceID>{instance}</instanceID></meta></data>"
    )
}

/// The form `contacts` published in the demo's private project, and two records.
pub(crate) async fn contacts(app: &TestApp) {
    let core = &app.core;
    let (amina, principal, access) = owner_access(core).await;
    core.upload_form(&access, &principal, "contacts.md", FORM.as_bytes())
        .await
        .expect("form");
    core.set_form_state(&access, "contacts", baraza_store::FormState::Published)
        .await
        .unwrap();
    for (id, name, phone, note) in [
        ("uuid:contact-a", NAME, PHONE, NOTE),
        (
            "uuid:contact-b",
            "Idriss Abakar",
            "+235 99 00 11 22",
            "autre",
        ),
    ] {
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            xml(id, name, phone, note).as_bytes(),
            &[],
        )
        .await
        .expect("record");
    }
}

async fn search(app: &TestApp, c: &reqwest::Client, value: &str) -> (StatusCode, Value) {
    let url = format!("{}/subjects", private_project());
    let token = csrf(app, c, &url).await;
    let res = c
        .post(app.url(&format!("{url}.json")))
        .form(&[("_csrf", token.as_str()), ("value", value)])
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn instances(found: &Value) -> Vec<String> {
    found["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn personal_answers_are_sealed_at_rest_and_found_by_the_blind_index() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("default_calling_code", "235")]).await;
        contacts(&app).await;
        if backend == Backend::Sqlite {
            // The ordinary answer is there in clear (so the scan works)…
            assert!(
                !traces(&app, NOTE).is_empty(),
                "the scan finds clear answers"
            );
            // …the name is in no file, in the answers nor in the XML.
            assert_eq!(traces(&app, "SENTINEL-NOM-7731"), Vec::<String>::new());
            assert_eq!(traces(&app, "77 31 90"), Vec::<String>::new());
        }

        // The manager reads the record in clear; the analyst does not.
        let record = format!(
            "{}/forms/contacts/submissions/uuid:contact-a",
            private_project()
        );
        let claire = signed_in(&app, CLAIRE).await;
        let page = claire
            .get(app.url(&format!("{record}.json")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("SENTINEL-NOM-7731") && page.contains(NOTE),
            "{page}"
        );
        let idriss = signed_in(&app, IDRISS).await;
        let page = idriss
            .get(app.url(&format!("{record}.json")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !page.contains("SENTINEL-NOM-7731") && page.contains(NOTE),
            "{page}"
        );

        // The phone number however it is typed, the name in any order and without accents.
        for value in [
            "66773190",
            "+235 66 77 31 90",
            "00235-66-77-31-90",
            "sentinel-nom-7731 FATIME",
        ] {
            let (status, found) = search(&app, &claire, value).await;
            assert_eq!(status, StatusCode::OK, "{value}");
            assert_eq!(instances(&found), ["uuid:contact-a"], "{value}: {found}");
        }
        let (_, found) = search(&app, &claire, "99 00 11 22").await;
        assert_eq!(instances(&found), ["uuid:contact-b"]);
        let (_, found) = search(&app, &claire, "66 00 00 00").await;
        assert_eq!(instances(&found), Vec::<String>::new());
        // Bad input is named; analysts and viewers may not search.
        let (status, body) = search(&app, &claire, "  ").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("value"));
        for who in [IDRISS, MOUSSA] {
            let c = signed_in(&app, who).await;
            let (status, _) = search(&app, &c, PHONE).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        // The audit log has the searches, never the values searched for.
        let audit = claire
            .get(app.url(&format!("{}/audit.json", private_project())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(audit.contains("subject.search"));
        assert!(!audit.contains("66773190") && !audit.contains("77 31 90"));

        // Filters cannot read sealed answers: refused with the reason, even for the manager.
        let res = claire
            .get(app.url(&format!(
                "{}/forms/contacts/submissions.json?question=telephone&value=1",
                private_project()
            )))
            .send()
            .await
            .unwrap();
        let (status, _, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            message.contains("encrypted") || message.contains("chiffrées"),
            "{message}"
        );
        app.stop().await;
    }
}

/// Moves B's sealed name into A's row, as someone with write access to the database could.
async fn swap_sealed_answer(app: &TestApp) {
    use sqlx::Connection;
    let url = &app.db.as_ref().unwrap().url;
    let sql_read = "SELECT values_json FROM submissions WHERE instance_id = 'uuid:contact-b'";
    let sql_write = "UPDATE submissions SET values_json = $1 WHERE instance_id = 'uuid:contact-a'";
    let b: String = match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql_read)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql_read)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    };
    let b = b.replace("contact-b", "contact-a");
    match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql_write)
                .bind(b)
                .execute(&mut c)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql_write)
                .bind(b)
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_moved_sealed_answer_does_not_open_and_a_wrong_master_key_stops_the_server() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        contacts(&app).await;
        swap_sealed_answer(&app).await;
        let claire = signed_in(&app, CLAIRE).await;
        let res = claire
            .get(app.url(&format!(
                "{}/forms/contacts/submissions/uuid:contact-a.json",
                private_project()
            )))
            .send()
            .await
            .unwrap();
        // An error with a request id; not B's name under A's record.
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = res.text().await.unwrap();
        assert!(!body.contains("Idriss Abakar"), "{body}");

        // Another master key: the server names the fingerprints and does not start.
        let settings = baraza::config::Settings::load(
            &baraza::config::Overrides {
                config: None,
                values: vec![
                    ("data_dir", app.data_dir.display().to_string()),
                    ("database_url", app.db.as_ref().unwrap().url.clone()),
                    ("master_key", "11".repeat(32)),
                ],
                defaults: vec![],
            },
            &|_| None,
        )
        .unwrap();
        let store = baraza::app::open_store(&settings).await.unwrap();
        let err = baraza::app::build_core(
            &settings,
            store,
            std::sync::Arc::new(baraza_core::SystemClock),
        )
        .await
        .err()
        .expect("refused");
        let message = format!("{err:#}");
        assert!(
            message.contains("master key") && message.contains("wrapped by master key"),
            "{message}"
        );
        app.stop().await;
    }
}

/// `baraza …` on the test app's database and data directory, with extra environment.
async fn cli(app: &TestApp, args: &[&str], env: &[(&str, String)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_baraza"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(&app.data_dir)
        .arg("--database-url")
        .arg(&app.db.as_ref().unwrap().url)
        .env("BARAZA_LOG_LEVEL", "warn")
        .env_remove("BARAZA_MASTER_KEY")
        .env_remove("BARAZA_MASTER_KEY_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[tokio::test]
async fn the_master_key_rotates_and_records_still_open() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        contacts(&app).await;
        let old = app.data_dir.join("master.key");
        let new = app.data_dir.join("master-new.key");
        let (ok, out) = cli(&app, &["keys", "status"], &[]).await;
        assert!(ok, "{out}");
        // The contacts' project, and the demo's citizen reports (their senders' numbers are
        // sealed).
        assert!(out.contains("data keys: 2 for 2 project(s)"), "{out}");
        let (ok, out) = cli(
            &app,
            &["keys", "new-master", "--output", new.to_str().unwrap()],
            &[],
        )
        .await;
        assert!(ok && out.contains("fingerprint"), "{out}");
        // The new key alone does not open the data keys: refused, nothing changed.
        let with_new = ("BARAZA_MASTER_KEY_FILE", new.display().to_string());
        let (ok, out) = cli(&app, &["keys", "status"], std::slice::from_ref(&with_new)).await;
        assert!(!ok && out.contains("wrapped by master key"), "{out}");
        // With the previous key beside it: rewrapped, then the new key alone is enough.
        let with_old = ("BARAZA_PREVIOUS_MASTER_KEY_FILE", old.display().to_string());
        let (ok, out) = cli(&app, &["keys", "rotate"], &[with_new.clone(), with_old]).await;
        assert!(ok && out.contains("2 data key(s) rewrapped"), "{out}");
        let (ok, out) = cli(
            &app,
            &["keys", "rotate", "--data-keys"],
            std::slice::from_ref(&with_new),
        )
        .await;
        assert!(
            ok && out.contains("2 project(s) got a new data key"),
            "{out}"
        );
        let (ok, out) = cli(&app, &["keys", "status"], std::slice::from_ref(&with_new)).await;
        assert!(ok && out.contains("data keys: 4 for 2 project(s)"), "{out}");
        // A server with only the new key opens the records sealed before the rotation.
        let settings = baraza::config::Settings::load(
            &baraza::config::Overrides {
                config: None,
                values: vec![
                    ("data_dir", app.data_dir.display().to_string()),
                    ("database_url", app.db.as_ref().unwrap().url.clone()),
                    ("master_key_file", new.display().to_string()),
                ],
                defaults: vec![],
            },
            &|_| None,
        )
        .unwrap();
        let store = baraza::app::open_store(&settings).await.unwrap();
        let core = baraza::app::build_core(
            &settings,
            store,
            std::sync::Arc::new(baraza_core::SystemClock),
        )
        .await
        .expect("starts with the new key");
        let (_, _, access) = owner_access(&core).await;
        let xml = core
            .submission_xml(&access, "contacts", "uuid:contact-a")
            .await
            .unwrap();
        assert!(String::from_utf8(xml)
            .unwrap()
            .contains("SENTINEL-NOM-7731"));
        let found = core
            .find_subject(&access, "Fatimé SENTINEL-NOM-7731")
            .await
            .unwrap();
        assert_eq!(found.records.len(), 1);
        core.store().close().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn records_stored_in_clear_before_encryption_are_sealed() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("default_calling_code", "235")]).await;
        contacts(&app).await;
        let core = &app.core;
        let store = core.store();
        let (amina, _, access) = owner_access(core).await;
        let (form, version) = core.form(&access, "contacts").await.unwrap();
        // A record as an older Baraza stored it: answers in clear.
        let values = serde_json::json!([
            {"path": "/data/nom_complet", "question": "nom_complet", "value": {"type": "text", "value": "Ancien OLD-CLEAR-8812"}},
            {"path": "/data/telephone", "question": "telephone", "value": {"type": "text", "value": "62 88 12 00"}},
            {"path": "/data/commentaire", "question": "commentaire", "value": {"type": "text", "value": "ancien"}},
        ])
        .to_string();
        store
            .insert_submissions_bulk(&[baraza_store::BulkSubmission {
                form_id: form.id,
                form_version_id: version.id,
                instance_id: "uuid:old-clear",
                xml_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
                xml_size: 0,
                values_json: &values,
                app_user_id: None,
                user_id: Some(amina.id),
                review_state: "received",
                received_at: core.now(),
            }])
            .await
            .unwrap();
        // (The server may already have sealed it at its start; then there is nothing left.)
        let sealed = core.seal_existing().await.unwrap();
        assert!(sealed <= 1);
        assert_eq!(
            core.seal_existing().await.unwrap(),
            0,
            "nothing left in clear"
        );
        let row = store
            .submission(form.id, "uuid:old-clear")
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.values_json.contains("OLD-CLEAR-8812") && row.values_json.contains("\"sealed\"")
        );
        if backend == baraza_store::Backend::Sqlite {
            assert_eq!(traces(&app, "OLD-CLEAR-8812"), Vec::<String>::new());
        }
        // The manager still reads it, and the person is found by their number.
        let found = core
            .find_subject(&access, "+235 62 88 12 00")
            .await
            .unwrap();
        assert_eq!(found.records.len(), 1);
        assert_eq!(found.records[0].instance_id, "uuid:old-clear");
        let opened = core
            .mask_for(&access, form.id)
            .await
            .unwrap()
            .apply(&row.values_json, &row.instance_id)
            .unwrap();
        assert!(opened.contains("OLD-CLEAR-8812"));
        app.stop().await;
    }
}
