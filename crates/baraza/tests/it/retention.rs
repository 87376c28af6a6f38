//! Retention and verified destruction: records past their form's period are destroyed with
//! their files, a certificate goes to the audit log, and — on SQLite — no byte of them is left in
//! any file of the database or the data directory. (The sentinel is written both in a personal
//! answer, sealed at rest, and in an ordinary one, stored in clear, so that the scan has clear
//! bytes to look for.)

use crate::common::*;
use baraza_core::forms::{IncomingFile, Submitter};
use baraza_store::Backend;
use reqwest::StatusCode;

const FORM: &str = "| survey | | | |\n| | type | name | label |\n| | text | nom | Nom |\n| | text | village | Village |\n| | image | photo | Photo |\n| | integer | age | Âge |\n| settings | | |\n| | form_id | version |\n| | temoins | 1 |\n";
const SENTINEL: &str = "SENTINEL-TEMOIN-4471";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 SENTINEL-PHOTO-BYTES-9902 \xff\xd9";

fn xml(instance: &str, name: &str) -> String {
    format!(
        "<data id=\"temoins\" version=\"1\"><nom>{name}</nom><village>{name}</village><photo>photo.jpg</photo><age>41</age><meta><instanceID>{instance}</instanceID></meta></data>"
    )
}

/// The test form `temoins`, published in the demo's private project by its owner, and a photo
/// stored for its records.
async fn temoins(
    app: &TestApp,
) -> (
    baraza_store::User,
    baraza_core::ProjectAccess,
    baraza_store::BlobRef,
    [IncomingFile; 1],
) {
    let core = &app.core;
    let (amina, principal, access) = owner_access(core).await;
    core.upload_form(&access, &principal, "temoins.md", FORM.as_bytes())
        .await
        .expect("form");
    core.set_form_state(&access, "temoins", baraza_store::FormState::Published)
        .await
        .unwrap();
    let photo = core.blobs().put(PHOTO).await.unwrap();
    let files = [IncomingFile {
        name: "photo.jpg".into(),
        blob: photo.clone(),
        // Stored in clear, as before files were sealed: destruction must remove it too.
        key: None,
    }];
    (amina, access, photo, files)
}

#[tokio::test]
async fn records_past_their_period_are_destroyed_without_a_trace() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let (amina, access, photo, files) = temoins(&app).await;
        // An old record with a name and a photo; its files are on disk.
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            xml("uuid:old-1", SENTINEL).as_bytes(),
            &files,
        )
        .await
        .expect("old record");
        // A correction of it, later: still the same record, destroyed with it.
        let corrected = xml("uuid:old-2", &format!("{SENTINEL}-corrigé"))
            .replace("<meta>", "<meta><deprecatedID>uuid:old-1</deprecatedID>");
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            corrected.as_bytes(),
            &[],
        )
        .await
        .expect("correction");
        if backend == Backend::Sqlite {
            assert!(
                !traces(&app, SENTINEL).is_empty(),
                "the scan finds the record before its destruction"
            );
        }
        assert!(!files_containing(&app.data_dir, b"SENTINEL-PHOTO-BYTES").is_empty());

        // 40 days later, a new record arrives; the form keeps records 30 days.
        app.clock.advance(40 * 86_400);
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            xml("uuid:new-1", "Récent").as_bytes(),
            &[],
        )
        .await
        .expect("new record");
        // The setting, through the form's page as its manager would.
        let claire = signed_in(&app, CLAIRE).await;
        let form_url = format!("{}/forms/temoins", private_project());
        let token = csrf(&app, &claire, &form_url).await;
        for (days, status) in [
            ("0", StatusCode::UNPROCESSABLE_ENTITY),
            ("abc", StatusCode::UNPROCESSABLE_ENTITY),
            ("30", StatusCode::SEE_OTHER),
        ] {
            let res = claire
                .post(app.url(&format!("{form_url}/retention")))
                .form(&[("_csrf", token.as_str()), ("days", days)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), status, "days={days}");
        }
        let page: serde_json::Value = claire
            .get(app.url(&format!("{form_url}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["retention_days"], 30);
        let idriss = signed_in(&app, IDRISS).await;
        let token = csrf(&app, &idriss, &form_url).await;
        let res = idriss
            .post(app.url(&format!("{form_url}/retention")))
            .form(&[("_csrf", token.as_str()), ("days", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "analysts do not set retention"
        );

        let certs = core.run_retention().await.expect("retention");
        assert_eq!(certs.len(), 1, "{certs:?}");
        let c = &certs[0];
        assert_eq!(
            (
                c.form.as_str(),
                c.records,
                c.versions,
                c.attachments,
                c.files_wiped
            ),
            ("temoins", 1, 2, 2, 1)
        );
        // Nothing left of it: no row, no file, no byte.
        let form = core
            .store()
            .form_by_xml_id(access.project.id, "temoins")
            .await
            .unwrap()
            .unwrap();
        assert!(core
            .store()
            .submission(form.id, "uuid:old-1")
            .await
            .unwrap()
            .is_none());
        assert!(core
            .store()
            .submission(form.id, "uuid:old-2")
            .await
            .unwrap()
            .is_none());
        assert!(
            core.store()
                .submission(form.id, "uuid:new-1")
                .await
                .unwrap()
                .is_some(),
            "the recent record stays"
        );
        assert!(!core.blobs().path(&photo.sha256).unwrap().exists());
        assert!(files_containing(&app.data_dir, b"SENTINEL-PHOTO-BYTES").is_empty());
        let left = traces(&app, SENTINEL);
        assert!(left.is_empty(), "the sentinel survives in {left:?}");
        // The certificate is in the audit log, which still verifies; a second run does nothing.
        let log = core
            .site_audit(
                &core
                    .cli_principal(core.store().user_by_email(ADMIN).await.unwrap().unwrap().id)
                    .await
                    .unwrap(),
                baraza_store::AuditQuery {
                    action_prefix: Some("retention.".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // (The demo's pilot survey has its own certificate, from when the demo was seeded.)
        let log: Vec<_> = log
            .iter()
            .filter(|e| e.target.contains("temoins"))
            .collect();
        assert_eq!(log.len(), 1);
        assert_eq!(Some(log[0].seq), c.audit_seq);
        assert!(log[0].details.contains("\"records\":1") && !log[0].details.contains(SENTINEL));
        core.verify_audit(1, None, None)
            .await
            .expect("the log verifies");
        assert!(core.run_retention().await.unwrap().is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_record_is_erased_at_the_request_of_the_person_it_is_about() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let (amina, access, _, files) = temoins(&app).await;
        for (id, name) in [("uuid:erase-me", SENTINEL), ("uuid:keep-me", "Gardé")] {
            core.ingest_submission(
                access.project.id,
                Submitter::User(amina.id),
                xml(id, name).as_bytes(),
                &files,
            )
            .await
            .unwrap();
        }
        let record = format!(
            "{}/forms/temoins/submissions/uuid:erase-me",
            private_project()
        );
        let erase = app.url(&format!("{record}/erase"));

        // Analysts may not; a manager must say why and confirm.
        let idriss = signed_in(&app, IDRISS).await;
        let token = csrf(
            &app,
            &idriss,
            &format!("{}/forms/temoins", private_project()),
        )
        .await;
        let res = idriss
            .post(&erase)
            .form(&[
                ("_csrf", token.as_str()),
                ("reason", "consent_withdrawn"),
                ("confirm", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let claire = signed_in(&app, CLAIRE).await;
        let page = claire
            .get(app.url(&record))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("/erase"),
            "the record's page offers the erasure"
        );
        let token = csrf_from(&page);
        for (reason, confirm, status) in [
            ("because", "yes", StatusCode::UNPROCESSABLE_ENTITY),
            ("consent_withdrawn", "", StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let res = claire
                .post(&erase)
                .form(&[
                    ("_csrf", token.as_str()),
                    ("reason", reason),
                    ("confirm", confirm),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{reason} {confirm}");
        }
        let res = claire
            .post(&erase)
            .form(&[
                ("_csrf", token.as_str()),
                ("reason", "consent_withdrawn"),
                ("confirm", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = claire
            .post(&erase)
            .form(&[
                ("_csrf", token.as_str()),
                ("reason", "consent_withdrawn"),
                ("confirm", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "erased already");

        // Gone; the other record and the photo it still names stay.
        let form = core
            .store()
            .form_by_xml_id(access.project.id, "temoins")
            .await
            .unwrap()
            .unwrap();
        assert!(core
            .store()
            .submission(form.id, "uuid:erase-me")
            .await
            .unwrap()
            .is_none());
        let kept = core
            .store()
            .submission(form.id, "uuid:keep-me")
            .await
            .unwrap()
            .expect("the other record stays");
        // Its photo still reads back. The server's housekeeping, which starts with the server,
        // may meanwhile have sealed the photo stored in clear (a new blob, the clear one
        // removed once no row names it): the bytes count, not which blob holds them.
        assert_eq!(
            core.stored_attachment(access.project.id, kept.id, "photo.jpg")
                .await
                .expect("still named by the other record"),
            PHOTO
        );
        let left = traces(&app, SENTINEL);
        assert!(left.is_empty(), "the erased answers survive in {left:?}");
        let audit: serde_json::Value = claire
            .get(app.url(&format!("{}/audit.json?kind=data", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let erased = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "data.erased")
            .expect("a certificate")
            .clone();
        assert_eq!(erased["details"]["reason"], "consent_withdrawn");
        assert_eq!(erased["details"]["records"], 1);
        assert!(!erased.to_string().contains(SENTINEL));
        app.stop().await;
    }
}

/// A phone number kept 30 days to call the person back, the rest of the record two years: after
/// 30 days the answer is gone from every version's values and XML (sealed or not), from the
/// blind index, and (SQLite) from every file; the rest of the record stays; a certificate is in
/// the audit log; a second run changes nothing.
#[tokio::test]
async fn answers_past_their_questions_retention_are_erased_and_the_record_kept() {
    const FORM: &str = "| survey | | | | |\n| | type | name | label | retention_days |\n| | text | telephone | Téléphone | 30 |\n| | text | rappel | Rappel | 30 |\n| | text | avis | Avis | |\n| settings | | |\n| | form_id | version |\n| | rappels | 1 |\n";
    // The call-back note is in clear (not personal): the old record's must leave every file.
    let record = |instance: &str, phone: &str, deprecated: Option<&str>| {
        let note = if instance.starts_with("uuid:r1") {
            "RAPPEL-CLAIR-3318"
        } else {
            "RAPPEL-NEUF-7702"
        };
        let dep = deprecated
            .map(|d| format!("<deprecatedID>{d}</deprecatedID>"))
            .unwrap_or_default();
        format!(
            "<data id=\"rappels\" version=\"1\"><telephone>{phone}</telephone><rappel>{note}</rappel><avis>AVIS-GARDE-5521</avis><meta><instanceID>{instance}</instanceID>{dep}</meta></data>"
        )
    };
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("default_calling_code", "235")]).await;
        let core = &app.core;
        let (amina, principal, access) = owner_access(core).await;
        core.upload_form(&access, &principal, "rappels.md", FORM.as_bytes())
            .await
            .expect("form");
        core.set_form_state(&access, "rappels", baraza_store::FormState::Published)
            .await
            .unwrap();
        let send = |xml: String| async move {
            core.ingest_submission(
                access.project.id,
                Submitter::User(amina.id),
                xml.as_bytes(),
                &[],
            )
            .await
            .expect("record")
        };
        // A record, then its correction: two versions, both with the phone.
        send(record("uuid:r1", "066 12 34 56", None)).await;
        send(record("uuid:r1b", "066 12 34 56", Some("uuid:r1"))).await;
        app.clock.advance(20 * 86_400);
        send(record("uuid:r2", "066 98 76 54", None)).await;
        let found = |phone: &'static str| {
            let app = &app;
            async move {
                let c = signed_in(app, CLAIRE).await;
                let url = format!("{}/subjects", private_project());
                let token = csrf(app, &c, &url).await;
                let v: serde_json::Value = c
                    .post(app.url(&format!("{url}.json")))
                    .form(&[("_csrf", token.as_str()), ("value", phone)])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["records"].as_array().map(Vec::len).unwrap_or(0)
            }
        };
        assert_eq!(found("066123456").await, 1);
        // Nothing is due before 30 days.
        assert!(core.run_field_retention().await.unwrap().is_empty());
        app.clock.advance(15 * 86_400);
        let certs = core.run_field_retention().await.expect("retention");
        assert_eq!(certs.len(), 1, "{certs:?}");
        assert_eq!(certs[0].versions, 2, "both versions of the older record");
        assert_eq!(certs[0].retention_days, 30);
        assert!(certs[0].audit_seq.is_some());
        // The older record keeps its other answers, not the phone nor the call-back note.
        let (_, history) = core
            .submission_history(&access, "rappels", "uuid:r1")
            .await
            .unwrap();
        for v in &history {
            assert!(!v.values_json.contains("telephone"), "{}", v.values_json);
            assert!(!v.values_json.contains("RAPPEL-CLAIR"), "{}", v.values_json);
            assert!(v.values_json.contains("AVIS-GARDE-5521"));
            let xml = String::from_utf8(
                core.submission_xml(&access, "rappels", &v.instance_id)
                    .await
                    .unwrap(),
            )
            .unwrap();
            assert!(xml.contains("<telephone></telephone>"), "{xml}");
            assert!(!xml.contains("RAPPEL-CLAIR") && xml.contains("AVIS-GARDE-5521"));
        }
        // The newer record is untouched; the older one is no longer found by its phone.
        let (_, newer) = core
            .submission_history(&access, "rappels", "uuid:r2")
            .await
            .unwrap();
        assert!(newer[0].values_json.contains("telephone"));
        assert_eq!(found("066123456").await, 0);
        assert_eq!(found("066987654").await, 1);
        if backend == Backend::Sqlite {
            assert!(
                traces(&app, "RAPPEL-CLAIR-3318").is_empty(),
                "a file still holds the erased answer"
            );
            assert!(!traces(&app, "RAPPEL-NEUF-7702").is_empty());
        }
        // Idempotent.
        assert!(core.run_field_retention().await.unwrap().is_empty());
        let audit = core
            .store()
            .audit_entries(&baraza_store::AuditQuery {
                action_prefix: Some("retention.answers_erased".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.len(), 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_bad_retention_days_cell_is_named() {
    for (cell, code) in [
        ("30.5", "retention_days_invalid"),
        ("0", "retention_days_invalid"),
    ] {
        let md = format!("| survey | | | | |\n| | type | name | label | retention_days |\n| | text | t | T | {cell} |\n");
        let c = baraza_xlsform::compile_file(md.as_bytes(), "f.md");
        let d = c.diagnostics.iter().find(|d| d.code == code).expect(code);
        assert_eq!((d.sheet.as_str(), d.row), ("survey", Some(2)), "{cell}");
    }
    let md = "| survey | | | | |\n| | type | name | label | retention_days |\n| | image | p | P | 30 |\n";
    let c = baraza_xlsform::compile_file(md.as_bytes(), "f.md");
    assert!(c
        .diagnostics
        .iter()
        .any(|d| d.code == "retention_days_file"));
}
