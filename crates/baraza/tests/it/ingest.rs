//! Many phones submitting at once over HTTP: new submissions, byte-identical replays and
//! conflicting copies of the same instanceIDs, all in flight together so that they share group
//! commits. Exactly one record per instanceID, every replay acknowledged, every conflict refused,
//! and the XML kept byte for byte (also for records stored before the XML moved into the
//! database, whose XML is still read from its blob).

use crate::common::*;
use rand::SeedableRng;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use std::collections::HashMap;

const RECORDS: usize = 120;

#[tokio::test]
async fn concurrent_submissions_keep_one_record_per_instance_id() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let amina = core.store().user_by_email(AMINA).await.unwrap().unwrap();
        let p = core.cli_principal(amina.id).await.unwrap();
        let access = core
            .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        let (_, version) = core.form(&access, "points_eau").await.unwrap();
        let (_, token) = core.create_app_user(&access, &p, "load").await.unwrap();
        let url = app.url(&format!(
            "/v1/key/{token}/projects/{}/submission?deviceID=collect%3Atest",
            access.project.id.0
        ));

        // Every record once; a third of them twice more with the same bytes, a quarter also with
        // other bytes (the same answers, one more line end), sent first for some of them.
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let mut requests: Vec<(String, String)> = Vec::new();
        for i in 0..RECORDS {
            let xml = baraza::demo::submission(500_000 + i, &mut rng, &version.version);
            let id = instance_id(&xml);
            let other = xml.replace("</data>", "</data>\n");
            if i % 8 == 0 {
                requests.push((id.clone(), other.clone()));
            }
            requests.push((id.clone(), xml.clone()));
            if i % 3 == 0 {
                requests.push((id.clone(), xml.clone()));
                requests.push((id.clone(), xml));
            }
            if i % 4 == 1 {
                requests.push((id, other));
            }
        }
        let before = core.store().ingest_stats();
        let http = reqwest::Client::new();
        let mut set = tokio::task::JoinSet::new();
        for (id, xml) in requests.clone() {
            let http = http.clone();
            let url = url.clone();
            set.spawn(async move {
                let form = Form::new().part(
                    "xml_submission_file",
                    Part::bytes(xml.clone().into_bytes())
                        .file_name("submission.xml")
                        .mime_str("text/xml")
                        .unwrap(),
                );
                let res = http
                    .post(url)
                    .header("X-OpenRosa-Version", "1.0")
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                (id, xml, status, res.text().await.unwrap())
            });
        }
        let answers = set.join_all().await;
        let after = core.store().ingest_stats();
        assert!(
            after.batches - before.batches < after.submissions - before.submissions,
            "concurrent submissions shared commits: {before:?} then {after:?}"
        );

        // Per instanceID, exactly one request created the record; the requests with its bytes
        // were acknowledged as replays, the others refused as conflicts.
        let mut winners: HashMap<&str, &str> = HashMap::new();
        for (id, xml, status, body) in &answers {
            if *status == StatusCode::CREATED && body.contains("Form received") {
                assert!(winners.insert(id, xml).is_none(), "{id} created twice");
            }
        }
        assert_eq!(winners.len(), RECORDS);
        let (mut replays, mut conflicts) = (0, 0);
        for (id, xml, status, body) in &answers {
            let winner = winners[id.as_str()];
            if xml == winner {
                assert_eq!(*status, StatusCode::CREATED, "{body}");
                replays += usize::from(body.contains("Already received"));
            } else {
                assert_eq!(*status, StatusCode::CONFLICT, "{id}: {body}");
                conflicts += 1;
            }
        }
        let mut copies: HashMap<(&str, &str), usize> = HashMap::new();
        for (id, xml) in &requests {
            *copies.entry((id, xml)).or_default() += 1;
        }
        let expected_replays: usize = winners
            .iter()
            .map(|(id, xml)| copies[&(*id, *xml)] - 1)
            .sum();
        assert_eq!(replays, expected_replays);
        assert_eq!(replays + conflicts + RECORDS, requests.len());
        assert!(conflicts >= RECORDS / 4, "{conflicts}");

        // One current record per instanceID, its XML exactly the bytes that won.
        let (form, _) = core.form(&access, "points_eau").await.unwrap();
        let rows = core
            .store()
            .list_submissions(form.id, 0, 1000)
            .await
            .unwrap();
        assert_eq!(rows.len(), baraza::demo::SUBMISSIONS + RECORDS);
        for (id, xml) in &winners {
            let stored = core
                .submission_xml(&access, "points_eau", id)
                .await
                .unwrap();
            assert_eq!(std::str::from_utf8(&stored).unwrap(), *xml);
        }

        // A record stored before the XML moved into the database has its XML in a blob only:
        // it is read from there, and a replay of it is still recognised by its digest.
        let (id, xml) = winners.iter().next().map(|(a, b)| (*a, *b)).unwrap();
        let blob = core.blobs().put(xml.as_bytes()).await.unwrap();
        clear_inline_xml(&app, id).await;
        let row = core.store().submission(form.id, id).await.unwrap().unwrap();
        assert_eq!(row.xml_sha256, blob.sha256);
        let stored = core
            .submission_xml(&access, "points_eau", id)
            .await
            .unwrap();
        assert_eq!(stored, xml.as_bytes());
        let res = http
            .post(&url)
            .header("X-OpenRosa-Version", "1.0")
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.as_bytes().to_vec()).file_name("submission.xml"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert!(res.text().await.unwrap().contains("Already received"));
        app.stop().await;
    }
}

fn instance_id(xml: &str) -> String {
    let start = xml.find("<instanceID>").unwrap() + "<instanceID>".len();
    let end = xml.find("</instanceID>").unwrap();
    xml[start..end].to_owned()
}

/// Puts a record in the state of one stored before migration 0005 (its XML only in a blob).
async fn clear_inline_xml(app: &TestApp, instance_id: &str) {
    let url = &app.db.as_ref().unwrap().url;
    let sql = "UPDATE submissions SET xml = NULL WHERE instance_id = $1";
    match app.backend {
        baraza_store::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let done = sqlx::query(sql)
                .bind(instance_id)
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
        baraza_store::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let done = sqlx::query(sql)
                .bind(instance_id)
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
            pool.close().await;
        }
    }
}
