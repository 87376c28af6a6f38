//! The open-data census: the public table and its twins, submitting, reviewing, permissions.

use crate::common::*;
use baraza::demo::{CENSUS, ORG_SLUG};
use reqwest::StatusCode;

fn table_path() -> String {
    format!("/census/{CENSUS}")
}

/// Form fields answering every Open Data Index question with `answer`, except those given.
fn answers<'a>(answer: &'a str, except: &[(&'a str, &'a str)]) -> Vec<(String, &'a str)> {
    baraza_catalogue::census::godi_questions()
        .into_iter()
        .map(|q| {
            let a = except
                .iter()
                .find(|(k, _)| *k == q.key)
                .map(|(_, a)| *a)
                .unwrap_or(answer);
            (format!("q.{}", q.key), a)
        })
        .collect()
}

async fn submit(
    app: &TestApp,
    c: &reqwest::Client,
    place: &str,
    category: &str,
    answers: &[(String, &str)],
) -> reqwest::Response {
    let page = format!("/census/{CENSUS}/submit");
    let mut fields: Vec<(&str, &str)> = vec![
        ("place", place),
        ("category", category),
        ("sources", "https://data.gouv.td/budget"),
        ("comments", "Vérifié en ligne."),
    ];
    for (k, v) in answers {
        fields.push((k.as_str(), v));
    }
    post_form(app, c, &page, &page, &fields).await
}

fn cell(table: &serde_json::Value, place: &str, category: &str) -> Option<f64> {
    table["table"]["cells"][place][category].as_f64()
}

#[tokio::test]
async fn census_table_submit_review_and_twins() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();

        // The list and the public table, for anyone; the demo's entries are scored.
        let list = get_json(&app, &anon, "/census").await;
        assert!(list["censuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == CENSUS));
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(t["census"]["questions"].as_array().unwrap().len(), 9);
        // Exists, digital, public, free: 30 of 100.
        assert_eq!(cell(&t, "TD", "budget"), Some(30.0));
        // The rejected entry (TD water) and the one awaiting review (TD companies) are not shown.
        assert_eq!(cell(&t, "TD", "water"), None);
        assert_eq!(cell(&t, "TD", "companies"), None);
        assert_eq!(t["can_review"], false);
        assert!(t["pending"].is_null());
        let html = anon.get(app.url(&table_path())).send().await.unwrap();
        assert_eq!(html.status(), StatusCode::OK);
        assert!(html.text().await.unwrap().contains("National budget"));

        // The CSV twin: one row per place and category.
        let csv = anon
            .get(app.url(&format!("{}.csv", table_path())))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let body = csv.text().await.unwrap();
        assert!(
            body.starts_with("place,place_name,category,score\r\n"),
            "{body}"
        );
        assert!(
            body.contains("TD,Tchad (national),budget,30.0\r\n"),
            "{body}"
        );
        assert!(body.contains("TD,Tchad (national),water,\r\n"), "{body}");
        assert_eq!(body.lines().count(), 1 + 5 * 6);

        // An outsider submits an entry: fully open budget data.
        let outsider = signed_in(&app, OUTSIDER).await;
        let res = submit(&app, &outsider, "TD", "budget", &answers("yes", &[])).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Not yet in the table.
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(cell(&t, "TD", "budget"), Some(30.0));

        // Neither the outsider nor an analyst reviews.
        for who in [OUTSIDER, IDRISS] {
            let c = signed_in(&app, who).await;
            let res = c
                .get(app.url(&format!("/census/{CENSUS}/review.json")))
                .send()
                .await
                .unwrap();
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::FORBIDDEN, "forbidden"),
                "{who}"
            );
        }

        // Amina (owner) sees it in the queue and publishes it: the score changes.
        let amina = signed_in(&app, AMINA).await;
        let t = get_json(&app, &amina, &table_path()).await;
        assert_eq!(t["can_review"], true);
        assert_eq!(t["pending"], 2);
        let queue = get_json(&app, &amina, &format!("/census/{CENSUS}/review")).await;
        let entry = queue["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["place"] == "TD" && e["category"] == "budget")
            .unwrap()
            .clone();
        assert_eq!(entry["score"], 100.0);
        let id = entry["id"].as_i64().unwrap();
        let review_page = format!("/census/{CENSUS}/review");
        let review = format!("/census/{CENSUS}/entries/{id}/review");
        // The outsider cannot review it by posting either.
        let res = post_form(
            &app,
            &outsider,
            &table_path(),
            &review,
            &[("decision", "publish"), ("note", "")],
        )
        .await;
        assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN);
        let res = post_form(
            &app,
            &amina,
            &review_page,
            &review,
            &[("decision", "maybe"), ("note", "")],
        )
        .await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        let res = post_form(
            &app,
            &amina,
            &review_page,
            &review,
            &[("decision", "publish"), ("note", "Vérifié.")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(cell(&t, "TD", "budget"), Some(100.0));
        // Reviewed once only.
        let res = post_form(
            &app,
            &amina,
            &review_page,
            &review,
            &[("decision", "reject"), ("note", "")],
        )
        .await;
        assert_eq!(error_code(res).await.0, StatusCode::NOT_FOUND);

        // The cell's page: the published entry, the earlier one in its history.
        let c = get_json(&app, &anon, &format!("/census/{CENSUS}/TD/budget")).await;
        assert_eq!(c["published"]["score"], 100.0);
        assert_eq!(c["published"]["answers"]["open_licence"], "yes");
        assert_eq!(c["published"]["sources"][0], "https://data.gouv.td/budget");
        assert_eq!(c["published"]["submitted_by_name"], "");
        let history = c["history"].as_array().unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0]["state"], "superseded");
        // The rejected entry never shows to the public, but reviewers see it.
        let c = get_json(&app, &anon, &format!("/census/{CENSUS}/TD/water")).await;
        assert!(c["published"].is_null());
        assert!(c["history"].as_array().unwrap().is_empty());
        let c = get_json(&app, &amina, &format!("/census/{CENSUS}/TD/water")).await;
        assert_eq!(c["history"][0]["state"], "rejected");

        // A manager of one of the organisation's projects reviews too: Claire rejects.
        let res = submit(
            &app,
            &outsider,
            "TD-LO",
            "water",
            &answers("no", &[("exists", "unsure")]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let claire = signed_in(&app, CLAIRE).await;
        let queue = get_json(&app, &claire, &review_page).await;
        let id = queue["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["place"] == "TD-LO")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let res = post_form(
            &app,
            &claire,
            &review_page,
            &format!("/census/{CENSUS}/entries/{id}/review"),
            &[("decision", "reject"), ("note", "Aucune source.")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(cell(&t, "TD-LO", "water"), None);

        // Every review and submission is in the audit log.
        let admin = signed_in(&app, ADMIN).await;
        let log = get_json(&app, &admin, "/-/audit").await.to_string();
        for action in ["census.create", "census.submit", "census.review"] {
            assert!(log.contains(action), "{action}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn census_bad_entries_are_refused_and_nothing_is_written() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let before = get_json(&app, &anon, &table_path()).await;
        let idriss = signed_in(&app, IDRISS).await;
        #[allow(clippy::type_complexity)]
        let bad: Vec<(&str, &str, Vec<(String, &str)>, &str)> = vec![
            (
                "TD",
                "budget",
                answers("yes", &[("free", "maybe")]),
                "census_answer",
            ),
            (
                "TD-XX",
                "budget",
                answers("yes", &[]),
                "census_place_unknown",
            ),
            (
                "TD",
                "roads",
                answers("yes", &[]),
                "census_category_unknown",
            ),
            (
                "TD",
                "budget",
                answers("yes", &[]).into_iter().skip(1).collect(),
                "census_answer_missing",
            ),
            (
                "TD",
                "budget",
                {
                    let mut a = answers("yes", &[]);
                    a.push(("q.colour".into(), "yes"));
                    a
                },
                "census_question_unknown",
            ),
        ];
        for (place, category, a, why) in bad {
            let res = submit(&app, &idriss, place, category, &a).await;
            let (status, code, message) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                "{why}: {message}"
            );
        }
        // Anonymous visitors are asked to sign in.
        let res = anon
            .get(app.url(&format!("/census/{CENSUS}/submit.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "unauthenticated");
        // Unknown census, place or category: 404.
        for path in [
            "/census/no-such-census".to_owned(),
            format!("/census/{CENSUS}/TD-XX/budget"),
            format!("/census/{CENSUS}/TD/roads"),
        ] {
            let res = anon
                .get(app.url(&format!("{path}.json")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let amina = signed_in(&app, AMINA).await;
        let after = get_json(&app, &amina, &table_path()).await;
        assert_eq!(before["table"], after["table"]);
        assert_eq!(after["pending"], 1, "nothing half-written");

        // Creating a census: owners only, with the default questions.
        let org = format!("/orgs/{ORG_SLUG}");
        let fields = [
            ("title", "Open data — Sahel cities"),
            ("slug", "sahel-cities"),
            ("places", "TD-ND | N’Djamena\nNE-8 | Niamey"),
            (
                "categories",
                "budget | Budget | Budget\nwater | Water quality | Qualité de l’eau",
            ),
        ];
        let res = post_form(&app, &idriss, &org, &format!("{org}/census"), &fields).await;
        assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN);
        let res = post_form(
            &app,
            &amina,
            &org,
            &format!("{org}/census"),
            &[
                ("title", "Bad"),
                ("places", ""),
                ("categories", "budget | Budget"),
            ],
        )
        .await;
        assert_eq!(error_code(res).await.1, "validation_failed");
        let res = post_form(&app, &amina, &org, &format!("{org}/census"), &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, "/census/sahel-cities").await;
        assert_eq!(t["census"]["places"].as_array().unwrap().len(), 2);
        assert_eq!(t["census"]["categories"][1]["title_fr"], "Qualité de l’eau");
        let weights: u64 = t["census"]["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["weight"].as_u64().unwrap())
            .sum();
        assert_eq!(weights, 100);
        assert!(t["table"]["overall"].is_null());
        app.stop().await;
    }
}
