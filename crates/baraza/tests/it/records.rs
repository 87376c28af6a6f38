//! The record of processing activities: generated from the forms, their fields' sensitivity,
//! the project's roles and retention rules; purposes set on the form's page; managers only.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_record_of_processing_says_what_the_project_does_with_personal_data() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let url = format!("{}/record-of-processing", private_project());
        let res = claire
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let r: Value = res.json().await.unwrap();
        assert_eq!(r["controller"], "Eau et Assainissement pour Tous — Tchad");
        assert_eq!(r["sensitivity"], "sensitive");
        let form = &r["forms"][0];
        assert_eq!(form["xml_form_id"], "points_eau");
        assert_eq!(form["lawful_basis"], "consent");
        assert!(form["purpose"].as_str().unwrap().contains("eau potable"));
        assert_eq!(form["retention_days"], 730);
        assert_eq!(names(&form["sensitive"]), ["diarrhee"]);
        let personal = names(&form["personal"]);
        assert!(
            personal.contains(&"gps".to_owned()) && personal.contains(&"deviceid".to_owned()),
            "{personal:?}"
        );
        let quasi = names(&form["quasi_identifiers"]);
        for q in ["quartier", "sexe_chef", "taille_menage"] {
            assert!(quasi.contains(&q.to_owned()), "{q} in {quasi:?}");
        }
        // Recipients: who reads data, and whether in clear; collectors only what they sent;
        // viewers nothing.
        let recipients = r["recipients"].as_array().unwrap();
        let find = |name: &str| recipients.iter().find(|x| x["name"] == name).cloned();
        assert_eq!(find("Claire Ngarlem").unwrap()["in_clear"], true);
        assert_eq!(find("Idriss Abakar").unwrap()["in_clear"], false);
        let fatime = find("Fatimé Haroun").unwrap();
        assert_eq!(
            (&fatime["in_clear"], &fatime["own_records_only"]),
            (&serde_json::json!(false), &serde_json::json!(true))
        );
        assert!(find("Moussa Saleh").is_none() && recipients.len() == 4);
        assert!(r["measures"].as_array().unwrap().len() >= 5);
        assert!(r["gaps"].as_array().unwrap().is_empty(), "{}", r["gaps"]);
        let html = claire
            .get(app.url(&url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Registre des activités de traitement")
                || html.contains("Record of processing activities")
        );

        // Purposes are set on the form's page by its managers; a wrong basis is refused.
        let form_url = format!("{}/forms/points_eau", private_project());
        let token = csrf(&app, &claire, &form_url).await;
        let res = claire
            .post(app.url(&format!("{form_url}/purpose")))
            .form(&[
                ("_csrf", token.as_str()),
                ("purpose", "x"),
                ("lawful_basis", "because"),
                ("data_subjects", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = claire
            .post(app.url(&format!("{form_url}/purpose")))
            .form(&[
                ("_csrf", token.as_str()),
                ("purpose", ""),
                ("lawful_basis", "public_task"),
                ("data_subjects", "Points d'eau"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let r: Value = claire
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["forms"][0]["lawful_basis"], "public_task");
        assert_eq!(r["gaps"], serde_json::json!(["points_eau:purpose"]));

        // Managers and owners only.
        for (who, status) in [
            (IDRISS, StatusCode::FORBIDDEN),
            (OUTSIDER, StatusCode::NOT_FOUND),
        ] {
            let c = signed_in(&app, who).await;
            let res = c.get(app.url(&format!("{url}.json"))).send().await.unwrap();
            assert_eq!(res.status(), status, "{who}");
        }
        app.stop().await;
    }
}
