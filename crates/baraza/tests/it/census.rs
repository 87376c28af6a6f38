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

/// The question rows a census form sends for `questions` (a census's JSON), with the weights
/// in `weights` changed and the keys in `remove` ticked for removal.
fn question_fields(
    questions: &serde_json::Value,
    weights: &[(&str, &str)],
    remove: &[&str],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, q) in questions.as_array().unwrap().iter().enumerate() {
        let key = q["key"].as_str().unwrap();
        let weight = weights
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, w)| (*w).to_owned())
            .unwrap_or_else(|| q["weight"].to_string());
        out.push((format!("question.{i}.key"), key.to_owned()));
        out.push((
            format!("question.{i}.text_en"),
            q["text_en"].as_str().unwrap().to_owned(),
        ));
        out.push((
            format!("question.{i}.text_fr"),
            q["text_fr"].as_str().unwrap().to_owned(),
        ));
        out.push((format!("question.{i}.weight"), weight));
        if remove.contains(&key) {
            out.push((format!("question.{i}.remove"), "1".into()));
        }
    }
    out
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Posts a form as a browser does (HTML answers: a form shown again with its error).
async fn post_html(
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
        .header("accept", "text/html")
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The census settings the form shows for `census` (its JSON), with places and categories
/// replaced where given.
fn settings_fields(
    census: &serde_json::Value,
    places: Option<&str>,
    categories: Option<&str>,
) -> Vec<(String, String)> {
    let lines = |key: &str, f: &dyn Fn(&serde_json::Value) -> String| -> String {
        census[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| f(x) + "\n")
            .collect()
    };
    let mut out = vec![
        (
            "title".to_owned(),
            census["title"].as_str().unwrap().to_owned(),
        ),
        (
            "description".to_owned(),
            census["description"].as_str().unwrap().to_owned(),
        ),
        (
            "scope".to_owned(),
            census["scope"].as_str().unwrap().to_owned(),
        ),
        (
            "places".to_owned(),
            places.map(str::to_owned).unwrap_or_else(|| {
                lines("places", &|p| {
                    format!(
                        "{} | {}",
                        p["code"].as_str().unwrap(),
                        p["name"].as_str().unwrap()
                    )
                })
            }),
        ),
        (
            "categories".to_owned(),
            categories.map(str::to_owned).unwrap_or_else(|| {
                lines("categories", &|k| {
                    format!(
                        "{} | {} | {}",
                        k["code"].as_str().unwrap(),
                        k["title_en"].as_str().unwrap(),
                        k["title_fr"].as_str().unwrap()
                    )
                })
            }),
        ),
    ];
    out.extend(question_fields(&census["questions"], &[], &[]));
    out
}

#[tokio::test]
async fn census_created_through_the_form_with_its_own_questions() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let org = format!("/orgs/{ORG_SLUG}");
        let new = format!("{org}/census/new");
        let amina = signed_in(&app, AMINA).await;

        // The organisation's page links the form for its owners only.
        let page = amina
            .get(app.url(&org))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("href=\"{new}\"")));
        let idriss = signed_in(&app, IDRISS).await;
        let page = idriss
            .get(app.url(&org))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains(&format!("href=\"{new}\"")));
        let res = idriss
            .get(app.url(&format!("{new}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN);

        // The form starts with the Open Data Index's nine questions and their weights.
        let data = get_json(&app, &amina, &new).await;
        let rows = data["form"]["questions"].as_array().unwrap();
        assert_eq!(rows.len(), 9);
        assert!(rows
            .iter()
            .any(|q| q["key"] == "open_licence" && q["weight"] == "30"));
        let html = amina
            .get(app.url(&new))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Is the data openly licensed?"), "{html}");
        assert!(
            html.contains("name=\"question.9.key\""),
            "a blank row to add a question"
        );

        // The form as an organiser fills it: a weight changed, a question removed, one added.
        let godi = serde_json::to_value(baraza_catalogue::census::godi_questions()).unwrap();
        let mut fields = vec![
            ("title".to_owned(), "Open data — Sahel cities".to_owned()),
            ("slug".to_owned(), "sahel-cities".to_owned()),
            ("scope".to_owned(), "Three cities".to_owned()),
            (
                "places".to_owned(),
                "TD-ND | N’Djamena\nNE-8 Niamey\nML-BKO | Bamako\n".to_owned(),
            ),
            (
                "categories".to_owned(),
                "budget | City budget | Budget municipal | Adopted and executed\nwater | Water quality | Qualité de l’eau".to_owned(),
            ),
        ];
        fields.extend(question_fields(
            &godi,
            &[("open_licence", "40")],
            &["digital"],
        ));
        fields.extend([
            ("question.9.key".to_owned(), "in_french".to_owned()),
            (
                "question.9.text_en".to_owned(),
                "Is the data in French?".to_owned(),
            ),
            (
                "question.9.text_fr".to_owned(),
                "Les données sont-elles en français ?".to_owned(),
            ),
            ("question.9.weight".to_owned(), "5".to_owned()),
        ]);

        // A weight that is not a number: the form again, values kept, the error by the questions.
        let mut bad = fields.clone();
        for (k, v) in bad.iter_mut() {
            if k == "question.7.weight" {
                *v = "thirty".into();
            }
        }
        let res = post_html(&app, &amina, &new, &format!("{org}/census"), &refs(&bad)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        // Amina reads French.
        let error = "question « open_licence » : le poids est un nombre entier de 1 à 1000";
        let at = html.find(error).expect(&html);
        assert!(
            html[..at].contains("id=\"questions\""),
            "next to the questions"
        );
        assert!(!html[at..].contains("id=\"questions\""));
        assert!(html.contains("value=\"thirty\""), "what was typed is kept");
        assert!(html.contains("value=\"Open data — Sahel cities\""));
        assert!(html.contains("Bamako"));
        assert!(html.contains("value=\"in_french\""));
        assert!(!html.contains("value=\"digital\""), "the removal is kept");
        // The same for JSON clients, and zero is no weight either.
        for w in ["thirty", "0", "-5", "1001"] {
            let mut bad = fields.clone();
            for (k, v) in bad.iter_mut() {
                if k == "question.7.weight" {
                    *v = w.into();
                }
            }
            let res = post_form(&app, &amina, &new, &format!("{org}/census"), &refs(&bad)).await;
            let (status, code, message) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                "{w}"
            );
            assert!(message.contains("open_licence"), "{message}");
        }
        // Bad places: the error by the places field.
        let mut bad = fields.clone();
        bad[3].1 = "TD ND | N’Djamena".into();
        let res = post_html(&app, &amina, &new, &format!("{org}/census"), &refs(&bad)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        let at = html.find("indiquez de 1 à 300 lieux").expect(&html);
        assert!(html[..at].rfind("id=\"places\"") > html[..at].rfind("id=\"scope\""));
        assert!(!html[at..].contains("id=\"places\""));
        let t = get_json(&app, &amina, "/census").await;
        assert!(!t.to_string().contains("sahel-cities"), "nothing created");

        // The good form: created, with its questions.
        let res = post_html(&app, &amina, &new, &format!("{org}/census"), &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/census/sahel-cities");
        let t = get_json(&app, &amina, "/census/sahel-cities").await;
        let c = &t["census"];
        assert_eq!(c["state"], "open");
        assert_eq!(c["places"][1]["code"], "NE-8");
        assert_eq!(c["places"][1]["name"], "Niamey");
        assert_eq!(c["categories"][0]["description"], "Adopted and executed");
        let keys: Vec<&str> = c["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), 9);
        assert!(!keys.contains(&"digital"));
        assert_eq!(keys[8], "in_french");
        let licence = c["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == "open_licence")
            .unwrap();
        assert_eq!(licence["weight"], 40);
        // The page links its settings and review queue for its organisers.
        let html = amina
            .get(app.url("/census/sahel-cities"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("href=\"/census/sahel-cities/edit\""));
        assert!(html.contains("href=\"/census/sahel-cities/review\""));
        app.stop().await;
    }
}

#[tokio::test]
async fn census_settings_places_categories_questions_and_closing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let edit = format!("/census/{CENSUS}/edit");
        let amina = signed_in(&app, AMINA).await;

        // Who may: organisers (owners, managers of the organisation's projects), no one else.
        let claire = signed_in(&app, CLAIRE).await;
        assert_eq!(
            get_json(&app, &claire, &edit).await["census"]["slug"],
            CENSUS
        );
        for who in [IDRISS, OUTSIDER] {
            let c = signed_in(&app, who).await;
            let res = c
                .get(app.url(&format!("{edit}.json")))
                .send()
                .await
                .unwrap();
            assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN, "{who}");
            let res = post_form(
                &app,
                &c,
                &format!("/census/{CENSUS}"),
                &format!("/census/{CENSUS}/state"),
                &[("state", "closed")],
            )
            .await;
            assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN, "{who}");
            let html = c
                .get(app.url(&format!("/census/{CENSUS}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(!html.contains(&format!("href=\"{edit}\"")));
        }
        let res = anon
            .get(app.url(&format!("{edit}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "unauthenticated");
        let res = amina
            .get(app.url("/census/no-such-census/edit.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // The settings form shows the census as it is.
        let census = get_json(&app, &amina, &edit).await["census"].clone();
        let html = amina
            .get(app.url(&edit))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("TD-ND | N’Djamena"), "{html}");
        assert!(html.contains("Clore le recensement"));
        // An outsider cannot save settings.
        let outsider = signed_in(&app, OUTSIDER).await;
        let fields = settings_fields(&census, None, None);
        let res = post_form(
            &app,
            &outsider,
            &format!("/census/{CENSUS}"),
            &edit,
            &refs(&fields),
        )
        .await;
        assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN);

        // Places: reordered, one renamed, one without entries removed, one added.
        let places = "TD | Tchad (national)\nTD-ND | Ville de N’Djamena\nTD-BG | Batha\nTD-OD | Ouaddaï\nTD-LO | Logone Occidental\n";
        let fields = settings_fields(&census, Some(places), None);
        let res = post_html(&app, &amina, &edit, &edit, &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        let codes: Vec<&str> = t["census"]["places"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["TD", "TD-ND", "TD-BG", "TD-OD", "TD-LO"]);
        assert_eq!(t["census"]["places"][1]["name"], "Ville de N’Djamena");
        // The published entries stay where they were.
        assert_eq!(cell(&t, "TD", "budget"), Some(30.0));
        assert!(cell(&t, "TD-OD", "health-spending").is_some());

        // Removing a place with a published entry, or a category with one awaiting review, is
        // refused, naming it; nothing changes.
        let census = get_json(&app, &amina, &edit).await["census"].clone();
        let without_od = "TD | Tchad (national)\nTD-ND | N’Djamena\nTD-LO | Logone Occidental\n";
        let fields = settings_fields(&census, Some(without_od), None);
        let res = post_form(&app, &amina, &edit, &edit, &refs(&fields)).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "census_in_use")
        );
        assert!(message.contains("TD-OD"), "{message}");
        let res = post_html(&app, &amina, &edit, &edit, &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = res.text().await.unwrap();
        let at = html
            .find("« TD-OD » a des contributions publiées ou en attente de relecture")
            .expect(&html);
        assert!(html[..at].rfind("id=\"places\"") > html[..at].rfind("id=\"scope\""));
        assert!(
            html.contains("TD-LO | Logone Occidental"),
            "what was typed is kept"
        );
        let categories = "budget | National budget | Budget national\nelections | Election results | Résultats électoraux\nstatistics | National statistics | Statistiques nationales\nwater | Water quality | Qualité de l’eau\nhealth-spending | Health spending | Dépenses de santé\n";
        let fields = settings_fields(&census, None, Some(categories));
        let res = post_form(&app, &amina, &edit, &edit, &refs(&fields)).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "census_in_use")
        );
        assert!(message.contains("companies"), "{message}");
        assert_eq!(get_json(&app, &amina, &edit).await["census"], census);

        // Categories: a new one, renamed ones, reordered.
        let categories = "water | Drinking-water quality | Qualité de l’eau potable\nbudget | National budget | Budget national\nelections | Election results | Résultats électoraux\nstatistics | National statistics | Statistiques nationales\ncompanies | Company register | Registre des entreprises\nhealth-spending | Health spending | Dépenses de santé\nprocurement | Public procurement | Marchés publics | Contracts awarded\n";
        let fields = settings_fields(&census, None, Some(categories));
        let res = post_form(&app, &amina, &edit, &edit, &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let c = get_json(&app, &anon, &table_path()).await["census"].clone();
        assert_eq!(c["categories"][0]["title_en"], "Drinking-water quality");
        assert_eq!(c["categories"][6]["code"], "procurement");
        assert_eq!(c["categories"][6]["description"], "Contracts awarded");

        // Questions: TD budget answered yes to exists, digital, public and free (30 of 100).
        // Free weighs 65 now: 80 of 150.
        let census = get_json(&app, &amina, &edit).await["census"].clone();
        let mut fields = settings_fields(&census, None, None);
        fields.retain(|(k, _)| !k.starts_with("question."));
        fields.extend(question_fields(
            &census["questions"],
            &[("free", "65")],
            &[],
        ));
        let res = post_form(&app, &amina, &edit, &edit, &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        let s = cell(&t, "TD", "budget").unwrap();
        assert!((s - 100.0 * 80.0 / 150.0).abs() < 1e-9, "{s}");
        // A bad weight on the settings page: the form again with the error, nothing changed.
        let mut bad = fields.clone();
        bad.retain(|(k, _)| !k.starts_with("question."));
        bad.extend(question_fields(
            &census["questions"],
            &[("bulk", "ten")],
            &[],
        ));
        let res = post_html(&app, &amina, &edit, &edit, &refs(&bad)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("question « bulk » : le poids est un nombre entier de 1 à 1000"));
        assert!(html.contains("value=\"ten\""));
        // Free removed: 15 of 85; the stored answers keep it.
        let census = get_json(&app, &amina, &edit).await["census"].clone();
        let mut fields = settings_fields(&census, None, None);
        fields.retain(|(k, _)| !k.starts_with("question."));
        fields.extend(question_fields(&census["questions"], &[], &["free"]));
        let res = post_form(&app, &amina, &edit, &edit, &refs(&fields)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(t["census"]["questions"].as_array().unwrap().len(), 8);
        let s = cell(&t, "TD", "budget").unwrap();
        assert!((s - 100.0 * 15.0 / 85.0).abs() < 1e-9, "{s}");
        let cell_page = get_json(&app, &anon, &format!("/census/{CENSUS}/TD/budget")).await;
        assert_eq!(cell_page["published"]["answers"]["free"], "yes");
        // New entries answer the questions as they are now: free is no longer asked.
        let res = submit(
            &app,
            &outsider,
            "TD-BG",
            "procurement",
            &answers("yes", &[]),
        )
        .await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        let mut a = answers("yes", &[]);
        a.retain(|(k, _)| k != "q.free");
        let res = submit(&app, &outsider, "TD-BG", "procurement", &a).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Closed: no new entries, the table stays public and says so.
        let page = format!("/census/{CENSUS}");
        let state = format!("/census/{CENSUS}/state");
        let res = post_form(&app, &amina, &edit, &state, &[("state", "shut")]).await;
        assert_eq!(error_code(res).await.1, "validation_failed");
        let res = post_form(&app, &claire, &edit, &state, &[("state", "closed")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let t = get_json(&app, &anon, &table_path()).await;
        assert_eq!(t["census"]["state"], "closed");
        assert_eq!(cell(&t, "TD", "budget").map(|s| s > 0.0), Some(true));
        let list = get_json(&app, &anon, "/census").await;
        assert!(list["censuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == CENSUS && c["state"] == "closed"));
        let html = anon
            .get(app.url(&page))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("This census is closed"), "{html}");
        assert!(!html.contains(&format!("href=\"{page}/submit\"")));
        let html = anon
            .get(app.url("/census"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Closed"));
        let res = submit(&app, &outsider, "TD-BG", "budget", &a).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "census_closed")
        );
        assert!(message.contains("clos"), "{message}");
        // Reopened: entries again.
        let res = post_form(&app, &amina, &edit, &state, &[("state", "open")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            get_json(&app, &anon, &table_path()).await["census"]["state"],
            "open"
        );
        let res = submit(&app, &outsider, "TD-BG", "budget", &a).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Every change is audited, under the census kind.
        let admin = signed_in(&app, ADMIN).await;
        let log = admin
            .get(app.url("/-/audit.json?kind=census"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for action in ["census.update", "census.close", "census.reopen"] {
            assert!(log.contains(action), "{action}");
        }
        assert!(!log.contains("auth.login"));
        app.stop().await;
    }
}
