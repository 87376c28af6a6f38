//! Who sees what: answers to personal and sensitive fields reach managers and owners in clear,
//! and no other reader on any read path (the table and its twins, every export, a record's page,
//! ODK Central's API and OData feed); filters on them and the raw XML are refused.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Read;

/// Every file of a zip archive, as text.
fn unzip_text(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut out = String::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        f.read_to_string(&mut out).unwrap();
    }
    out
}

/// What one reader gets from every read path of the demo form, as one text to search.
async fn everything(
    app: &TestApp,
    c: &reqwest::Client,
    token: &str,
    instance: &str,
) -> (String, Vec<(String, StatusCode)>) {
    let base = format!("{}/forms/points_eau", private_project());
    let mut text = String::new();
    let mut statuses = Vec::new();
    for path in [
        format!("{base}/submissions"),
        format!("{base}/submissions.json"),
        format!("{base}/submissions.csv"),
        format!("{base}/submissions.geojson"),
        format!("{base}/submissions/{instance}"),
        format!("{base}/submissions/{instance}.json"),
    ] {
        let res = c.get(app.url(&path)).send().await.unwrap();
        statuses.push((path, res.status()));
        text.push_str(&res.text().await.unwrap());
    }
    for path in [
        format!("{base}/submissions.csv.zip"),
        format!("{base}/submissions.xlsx"),
    ] {
        let res = c.get(app.url(&path)).send().await.unwrap();
        statuses.push((path, res.status()));
        let bytes = res.bytes().await.unwrap();
        text.push_str(&unzip_text(&bytes));
    }
    let pid = app
        .core
        .store()
        .org_by_slug(baraza::demo::ORG_SLUG)
        .await
        .unwrap()
        .unwrap();
    let project = app
        .core
        .store()
        .project_by_slug(pid.id, baraza::demo::PRIVATE_PROJECT)
        .await
        .unwrap()
        .unwrap();
    let api = format!("/v1/projects/{}/forms/points_eau", project.id.0);
    for path in [
        format!("{api}.svc/Submissions"),
        format!("{api}.svc/Submissions?$expand=*"),
        format!("{api}.svc/Submissions('{instance}')"),
        format!("{api}/submissions/{instance}"),
        format!("{api}/submissions/{instance}/attachments"),
    ] {
        let res = reqwest::Client::new()
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        statuses.push((path, res.status()));
        text.push_str(&res.text().await.unwrap());
    }
    (text, statuses)
}

#[tokio::test]
async fn personal_answers_reach_managers_only_on_every_read_path() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let base = format!("{}/forms/points_eau", private_project());
        let page: Value = claire
            .get(app.url(&format!("{base}/submissions.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let row = page["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["values"]["localisation/gps"].is_string())
            .expect("a record with a position")
            .clone();
        let instance = row["instance_id"].as_str().unwrap().to_owned();
        let gps = row["values"]["localisation/gps"]
            .as_str()
            .unwrap()
            .to_owned();
        let latitude = gps.split(' ').next().unwrap().to_owned();
        let csv = claire
            .get(app.url(&format!("{base}/submissions.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let deviceid = csv
            .lines()
            .nth(1)
            .and_then(|l| l.split(',').find(|c| c.starts_with("collect:")))
            .expect("a device id in the manager's export")
            .to_owned();
        // The columns say so to the analyst.
        let masked: Vec<bool> = page["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["masked"].as_bool().unwrap())
            .collect();
        assert!(masked.iter().all(|m| !m), "nothing masked for a manager");

        let claire_token = api_session(&app, CLAIRE).await;
        let (managers, statuses) = everything(&app, &claire, &claire_token, &instance).await;
        for (path, status) in &statuses {
            assert_eq!(*status, StatusCode::OK, "manager: {path}");
        }
        assert!(managers.contains(&latitude), "the manager sees positions");
        assert!(managers.contains(&deviceid), "the manager sees device ids");

        // The analyst reads every path, and finds neither.
        let idriss = signed_in(&app, IDRISS).await;
        let idriss_token = api_session(&app, IDRISS).await;
        let (analysts, statuses) = everything(&app, &idriss, &idriss_token, &instance).await;
        for (path, status) in &statuses {
            assert_eq!(*status, StatusCode::OK, "analyst: {path}");
        }
        assert!(
            !analysts.contains(&latitude),
            "a position leaked to the analyst"
        );
        assert!(
            !analysts.contains(&deviceid),
            "a device id leaked to the analyst"
        );
        // …while the rest of the record is there.
        assert!(analysts.contains(row["values"]["localisation/quartier"].as_str().unwrap()));
        let page: Value = idriss
            .get(app.url(&format!("{base}/submissions.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let gps_column = page["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "gps")
            .unwrap()
            .clone();
        assert_eq!(gps_column["masked"], true);
        let html = idriss
            .get(app.url(&format!("{base}/submissions")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("masked (personal data)")
                || html.contains("masqué (données personnelles)")
        );

        // A filter on a masked question would disclose it one guess at a time: refused.
        let res = idriss
            .get(app.url(&format!(
                "{base}/submissions.json?question=localisation/gps&value=1"
            )))
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code, "validation_failed");
        assert!(
            message.contains("personal data") || message.contains("données personnelles"),
            "{message}"
        );
        // The raw XML cannot be masked: refused to the analyst, served to the manager.
        let project_api = statuses
            .iter()
            .find(|(p, _)| p.starts_with("/v1/projects/"))
            .unwrap()
            .0
            .split("/forms/")
            .next()
            .unwrap()
            .to_owned();
        let xml_url = app.url(&format!(
            "{project_api}/forms/points_eau/submissions/{instance}.xml"
        ));
        let res = reqwest::Client::new()
            .get(&xml_url)
            .bearer_auth(&idriss_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = reqwest::Client::new()
            .get(&xml_url)
            .bearer_auth(&claire_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains(&latitude));

        // Viewers do not read data at all; collectors only the records they sent (none of
        // these: tests/it/scopes.rs walks every path with records of theirs).
        let c = signed_in(&app, MOUSSA).await;
        let res = c
            .get(app.url(&format!("{base}/submissions.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let c = signed_in(&app, FATIME).await;
        let res: serde_json::Value = c
            .get(app.url(&format!("{base}/submissions.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(res["submissions"], serde_json::json!([]));
        app.stop().await;
    }
}
