//! Data-subject requests: a manager finds a person, registers their request with its one-month
//! deadline, sends them their data in their language (printable page, JSON, CSV), and closes the
//! request; late requests show as overdue; analysts have no access; the audit log has every step
//! and never the value searched for.

use crate::common::*;
use crate::encryption::{contacts, PHONE};
use reqwest::StatusCode;
use serde_json::Value;

async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(app, c, page).await;
    let mut form = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(to)).form(&form).send().await.unwrap()
}

async fn json(app: &TestApp, c: &reqwest::Client, path: &str) -> Value {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_request_is_registered_answered_in_the_persons_language_and_closed() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("default_calling_code", "235")]).await;
        contacts(&app).await;
        let base = format!("{}/subjects", private_project());
        let claire = signed_in(&app, CLAIRE).await;

        // The demo's requests: an access request answered in time, with the respondent's
        // records; an erasure request open.
        let demo = json(&app, &claire, &format!("{base}/requests.json")).await;
        let demo = demo["requests"].as_array().unwrap().clone();
        assert_eq!(demo.len(), 2);
        let answered = demo.iter().find(|r| r["kind"] == "access").unwrap();
        assert_eq!(answered["status"], "answered");
        assert_eq!(answered["answered_late"], false);
        let one = json(
            &app,
            &claire,
            &format!("{base}/requests/{}.json", answered["id"]),
        )
        .await;
        assert!(!one["records"].as_array().unwrap().is_empty(), "{one}");

        // Bad input is named and registers nothing.
        let res = post_form(
            &app,
            &claire,
            &base,
            &format!("{base}/requests.json"),
            &[("kind", "delete"), ("value", PHONE)],
        )
        .await;
        let (status, _, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains("kind"), "{message}");
        let res = post_form(
            &app,
            &claire,
            &base,
            &format!("{base}/requests.json"),
            &[
                ("kind", "access"),
                ("value", PHONE),
                ("received", "2099-01-01"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            json(&app, &claire, &format!("{base}/requests.json")).await["requests"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // Registered from the search, with the phone number as the person gave it.
        let res = post_form(
            &app,
            &claire,
            &base,
            &format!("{base}/requests"),
            &[
                ("kind", "access"),
                ("reference", "lettre du 20 novembre"),
                ("value", "+235 66 77 31 90"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let url = res.headers()["location"].to_str().unwrap().to_owned();
        let request = json(&app, &claire, &format!("{url}.json")).await;
        assert_eq!(request["status"], "open");
        assert_eq!(request["kind"], "access");
        let received = request["received_at"].as_i64().unwrap();
        let due = request["due_at"].as_i64().unwrap();
        assert!(
            (28..=31).contains(&((due - received) / 86_400)),
            "one month: {request}"
        );
        assert_eq!(request["records"].as_array().unwrap().len(), 1, "{request}");
        assert_eq!(request["records"][0]["instance_id"], "uuid:contact-a");
        let page = claire
            .get(app.url(&url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("/export?lang=fr"));

        // The person's data, opened, with the labels in their language.
        let export = json(&app, &claire, &format!("{url}/export.json?lang=fr")).await;
        let answers = export["records"][0]["answers"].as_array().unwrap();
        let name = answers
            .iter()
            .find(|a| a["path"].as_str().unwrap().ends_with("/nom_complet"))
            .unwrap();
        assert_eq!(name["label"], "Nom complet");
        assert!(name["value"]
            .as_str()
            .unwrap()
            .contains("SENTINEL-NOM-7731"));
        let csv = claire
            .get(app.url(&format!("{url}/export.csv?lang=fr")))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        assert!(
            csv.starts_with("form,form_title,instance_id") && csv.contains("SENTINEL-NOM-7731"),
            "{csv}"
        );
        let printable = claire
            .get(app.url(&format!("{url}/export?lang=fr")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(printable.contains("Vos données") && printable.contains("Nom complet"));

        // Closing needs an outcome; once answered, in time, it stays closed.
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}.json"),
            &[("status", "answered")],
        )
        .await;
        let (status, _, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains("outcome"), "{message}");
        let res = post_form(
            &app,
            &claire,
            &url,
            &url,
            &[
                ("status", "answered"),
                ("outcome", "données envoyées par courrier"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let request = json(&app, &claire, &format!("{url}.json")).await;
        assert_eq!(request["status"], "answered");
        assert_eq!(request["answered_late"], false);
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}.json"),
            &[("status", "refused"), ("outcome", "x")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A request left open past its month is overdue; an extension adds two months, once.
        let res = post_form(
            &app,
            &claire,
            &base,
            &format!("{base}/requests"),
            &[("kind", "erasure"), ("value", "99 00 11 22")],
        )
        .await;
        let late = res.headers()["location"].to_str().unwrap().to_owned();
        app.clock.advance(40 * 86_400);
        // (Sessions expire after two idle weeks: sign in again.)
        let claire = signed_in(&app, CLAIRE).await;
        let request = json(&app, &claire, &format!("{late}.json")).await;
        assert!(request["days_left"].as_i64().unwrap() < 0, "{request}");
        let page = claire
            .get(app.url(&format!("{base}/requests")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("overdue") || page.contains("en retard"),
            "{page}"
        );
        let res = post_form(
            &app,
            &claire,
            &late,
            &late,
            &[("status", "extended"), ("outcome", "identité à vérifier")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let request = json(&app, &claire, &format!("{late}.json")).await;
        assert!(request["days_left"].as_i64().unwrap() > 0, "{request}");
        let res = post_form(
            &app,
            &claire,
            &late,
            &format!("{late}.json"),
            &[("status", "extended")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Analysts and viewers do not see the register.
        for who in [IDRISS, MOUSSA] {
            let c = signed_in(&app, who).await;
            let res = c
                .get(app.url(&format!("{base}/requests")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
            let res = c
                .get(app.url(&format!("{url}/export.json")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        }
        // Every step is in the audit log, never the phone number.
        let audit = claire
            .get(app.url(&format!("{}/audit.json", private_project())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for action in [
            "subject.request_opened",
            "subject.export",
            "subject.request_updated",
        ] {
            assert!(audit.contains(action), "{action}");
        }
        assert!(!audit.contains("77 31 90") && !audit.contains("66773190"));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_erasure_request_erases_every_record_of_the_person_at_once() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("default_calling_code", "235")]).await;
        contacts(&app).await;
        let base = format!("{}/subjects", private_project());
        let claire = signed_in(&app, CLAIRE).await;
        let mut urls = Vec::new();
        for kind in ["erasure", "access"] {
            let res = post_form(
                &app,
                &claire,
                &base,
                &format!("{base}/requests"),
                &[("kind", kind), ("value", PHONE)],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            urls.push(res.headers()["location"].to_str().unwrap().to_owned());
        }
        let (erasure, access) = (&urls[0], &urls[1]);
        let page = claire
            .get(app.url(erasure))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("{erasure}/erase")), "the button");
        // Only an erasure request erases; only managers erase.
        let res = post_form(&app, &claire, access, &format!("{access}/erase.json"), &[]).await;
        let (status, _, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains("kind"), "{message}");
        let idriss = signed_in(&app, IDRISS).await;
        let res = post_form(
            &app,
            &idriss,
            &format!("{}/forms", private_project()),
            &format!("{erasure}/erase.json"),
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let record = format!(
            "{}/forms/contacts/submissions/uuid:contact-a",
            private_project()
        );
        assert_eq!(
            claire.get(app.url(&record)).send().await.unwrap().status(),
            StatusCode::OK
        );

        let res = post_form(&app, &claire, erasure, &format!("{erasure}/erase"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let request = json(&app, &claire, &format!("{erasure}.json")).await;
        let records = request["records"].as_array().unwrap();
        assert!(!records.is_empty());
        assert!(
            records.iter().all(|r| r["instance_id"].is_null()),
            "{request}"
        );
        assert_eq!(request["status"], "open", "answering stays a person's act");
        assert_eq!(
            claire.get(app.url(&record)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        // The other person's record stays; the button is gone; a second run erases nothing.
        let other = format!(
            "{}/forms/contacts/submissions/uuid:contact-b",
            private_project()
        );
        assert_eq!(
            claire.get(app.url(&other)).send().await.unwrap().status(),
            StatusCode::OK
        );
        let page = claire
            .get(app.url(erasure))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains(&format!("{erasure}/erase")));
        let res = post_form(&app, &claire, erasure, &format!("{erasure}/erase"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let audit = json(&app, &claire, &format!("{}/audit.json", private_project()))
            .await
            .to_string();
        assert!(
            audit.contains("subject_request"),
            "a certificate per record"
        );
        assert!(audit.contains("subject.records_erased"));
        app.stop().await;
    }
}
