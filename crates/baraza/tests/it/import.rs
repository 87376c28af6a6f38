//! Bulk import of answers from spreadsheets: every row checked like the web form checks answers,
//! all rows stored or none, a report of every problem, and the same file twice adds nothing.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::Value;

fn form_url() -> String {
    format!("{}/forms/points_eau", private_project())
}

async fn import(app: &TestApp, c: &Client, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let url = format!("{}/import", form_url());
    let token = csrf(app, c, &url).await;
    let form = Form::new()
        .text("_csrf", token)
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let res = c
        .post(app.url(&url))
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

async fn count(app: &TestApp, c: &Client) -> i64 {
    let forms: Value = c
        .get(app.url(&format!("{}/forms.json", private_project())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    forms["forms"][0]["submissions"].as_i64().unwrap()
}

const HEADER: &str = "province;commune;localisation-quartier;gps-Latitude;gps-Longitude;type_point;point/fonctionnel;pannes;jours_panne;temps_trajet;prix;sexe_chef;taille_menage;nb_enfants;SubmissionDate";

/// A semicolon CSV as French spreadsheets save it, in Windows-1252.
fn windows_1252_csv(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push_str("\r\n");
        text.push_str(r);
    }
    text.chars()
        .map(|c| match c {
            '’' => 0x92,
            'é' => 0xe9,
            'è' => 0xe8,
            'ï' => 0xef,
            c if (c as u32) < 0x80 => c as u8,
            c => panic!("no Windows-1252 byte for {c}"),
        })
        .collect()
}

const GOOD: &[&str] = &[
    "ndjamena;arr1;Farcha;12.14;15.01;forage;oui;;;20;25;femme;5;0;2026-03-01",
    // A choice by its label; a broken point with its breakdowns.
    "ndjamena;arr7;Chagoua;12.10;15.06;Borne-fontaine;non;robinet tuyau;12;45;50;homme;8;0;2026-03-02",
    "ouaddai;abeche;Am Siégo;13.83;20.83;puits;oui;;;5;;femme;3;0;2026-03-03",
];

#[tokio::test]
async fn a_spreadsheet_is_imported_whole_and_only_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let before = count(&app, &claire).await;
        let (status, body) = import(&app, &claire, "menages.csv", windows_1252_csv(GOOD)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["report"]["stored"], 3, "{body}");
        assert_eq!(count(&app, &claire).await, before + 3);
        // The rows are submissions like any other, typed, sent by Claire.
        let mut url = format!("{}/submissions.json", form_url());
        let mut chagoua = None;
        loop {
            let page: Value = claire
                .get(app.url(&url))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for s in page["submissions"].as_array().unwrap() {
                if s["values"]["localisation/quartier"] == "Chagoua"
                    && s["submitter"]["name"] == "Claire Ngarlem"
                {
                    chagoua = Some(s.clone());
                }
            }
            match page["next_url"].as_str() {
                // The page's link; its twin answers the same query.
                Some(n) => url = n.replacen("/submissions?", "/submissions.json?", 1),
                None => break,
            }
        }
        let chagoua = chagoua.expect("the imported row");
        let v = &chagoua["values"];
        assert_eq!(v["point/type_point"], "borne", "a label became its name");
        assert_eq!(v["point/pannes"], "robinet tuyau", "{v}");
        assert!(
            v["localisation/gps"]
                .as_str()
                .unwrap()
                .starts_with("12.1 15.06"),
            "{v}"
        );
        assert_eq!(v["acces_30min"], "0", "calculated on import");
        assert_eq!(chagoua["submitter"]["name"], "Claire Ngarlem");
        // The same file again: nothing new.
        let (status, body) = import(&app, &claire, "menages.csv", windows_1252_csv(GOOD)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["report"]["stored"], 0);
        assert_eq!(body["report"]["already"], 3);
        assert_eq!(count(&app, &claire).await, before + 3);
        app.stop().await;
    }
}

#[tokio::test]
async fn one_bad_row_refuses_the_whole_file_with_every_problem() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let before = count(&app, &claire).await;
        let csv = format!(
            "{}\n{}\n{}\n{}\n{}\n",
            HEADER.replace(';', ","),
            "ndjamena,arr1,Farcha,12.14,15.01,forage,oui,,,20,25,femme,5,0,",
            // Too far to walk (constraint), in row 3.
            "ndjamena,arr1,Milezi,12.14,15.01,forage,oui,,,900,25,femme,5,0,",
            // No neighbourhood (required), a commune of another province, in row 4.
            "ndjamena,abeche,,12.14,15.01,forage,oui,,,20,25,femme,5,0,",
            // Not a number, and a breakdown list although the point works (not relevant: fine).
            "ndjamena,arr9,Walia,12.14,15.01,forage,oui,pompe,,vingt,25,femme,5,0,",
        );
        let (status, body) = import(&app, &claire, "menages.csv", csv.into_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let report = &body["report"];
        assert_eq!(report["stored"], 0);
        assert_eq!(report["rejected_rows"], 3, "{report}");
        let problems: Vec<(i64, String, String)> = report["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["row"].as_i64().unwrap(),
                    p["column"].as_str().unwrap_or("").to_owned(),
                    p["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            problems.contains(&(3, "temps_trajet".into(), "constraint".into())),
            "{problems:?}"
        );
        assert!(
            problems.contains(&(4, "localisation-quartier".into(), "required".into())),
            "{problems:?}"
        );
        assert!(
            problems.contains(&(4, "commune".into(), "not_a_choice".into())),
            "{problems:?}"
        );
        assert!(
            problems.contains(&(5, "temps_trajet".into(), "type".into())),
            "{problems:?}"
        );
        // The form's own message, in the reader's language.
        let msg = report["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "constraint")
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(msg.contains("600"), "{msg}");
        assert_eq!(count(&app, &claire).await, before, "nothing half-imported");

        // Columns the form does not have, and a repeat's question.
        let (status, body) = import(
            &app,
            &claire,
            "x.csv",
            b"quartier,colour,age_mois\nWalia,red,3\n".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let cols = body["report"]["column_problems"].to_string();
        assert!(
            cols.contains("colour") && cols.contains("unknown"),
            "{cols}"
        );
        assert!(
            cols.contains("age_mois") && cols.contains("in_repeat"),
            "{cols}"
        );
        // Not a spreadsheet, and a damaged workbook.
        let (status, body) = import(&app, &claire, "notes.txt", b"hello".to_vec()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["report"]["file_problem"][0], "import_format");
        let (status, body) =
            import(&app, &claire, "book.xlsx", b"PK\x03\x04 broken".to_vec()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["report"]["file_problem"][0], "import_unreadable");
        assert_eq!(count(&app, &claire).await, before);
        app.stop().await;
    }
}

#[tokio::test]
async fn import_is_for_managers_and_offers_a_template() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let idriss = signed_in(&app, IDRISS).await;
        let res = idriss
            .get(app.url(&format!("{}/import", form_url())))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let claire = signed_in(&app, CLAIRE).await;
        let res = claire
            .get(app.url(&format!("{}/import.csv", form_url())))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let template = res.text().await.unwrap();
        assert!(
            template.starts_with("province,commune,quartier,gps,type_point"),
            "{template}"
        );
        assert!(
            !template.contains("age_mois"),
            "repeats are not in the template"
        );
        // The template itself imports (no rows: a header alone is refused as empty of rows? no:
        // it is a file with zero rows, which imports nothing).
        let (status, body) = import(&app, &claire, "t.csv", template.into_bytes()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["report"]["rows"], 0);
        app.stop().await;
    }
}
