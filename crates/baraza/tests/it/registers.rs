//! The project's registers, used as a person would: a manager records an incident and watches
//! its 72-hour clock, answers the impact assessment, records data-sharing agreements; analysts and
//! viewers are refused; bad input is refused with its field named; the audit log has it all.

use crate::common::*;
use baraza_core::registers::format_time;
use reqwest::{Client, StatusCode};
use serde_json::Value;

/// Asserts a refusal for bad input whose message names the field (in either language).
async fn refused(res: reqwest::Response, names: &[&str]) {
    let (status, code, message) = error_code(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
    assert_eq!(code, "validation_failed");
    assert!(
        names.iter().any(|n| message.contains(n)),
        "{message} should name one of {names:?}"
    );
}

/// The actions of the project's audit log of one kind (`incident`, `dpia`…).
async fn audit_actions(app: &TestApp, c: &Client, kind: &str) -> Vec<String> {
    let url = format!("{}/audit.json?kind={kind}", private_project());
    let r: Value = c
        .get(app.url(&url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_manager_records_an_incident_and_watches_the_72_hour_clock() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let list = format!("{}/incidents", private_project());

        // The demo's incident, discovered six days ago, was notified in time.
        let r = get_json(&app, &claire, &list).await;
        let demo = &r["incidents"][0];
        assert_eq!(demo["status"], "notified");
        assert_eq!(demo["clock"]["state"], "notified_in_time");

        // Claire records a breach discovered ten hours ago (times are typed to the minute).
        let now = T0 + 60 - T0 % 60;
        app.clock.advance(now - T0);
        let discovered = format_time(now - 10 * 3600);
        let mut fields = vec![
            ("title", "Export envoyé au mauvais destinataire"),
            (
                "description",
                "Un export CSV a été envoyé par e-mail à une adresse erronée.",
            ),
            ("discovered_at", discovered.as_str()),
            ("data_categories", "Positions GPS, composition des ménages"),
            ("people_affected", "120"),
            ("notify_authority", "yes"),
        ];
        let res = post_form(&app, &claire, &list, &list, &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let created: Value = res.json().await.unwrap();
        let url = created["url"].as_str().unwrap().to_owned();
        let i = get_json(&app, &claire, &url).await;
        assert_eq!(i["status"], "open");
        assert_eq!(i["people_affected"], 120);
        assert_eq!(i["clock"]["state"], "running");
        assert_eq!(i["clock"]["seconds_left"], 62 * 3600);
        let html = claire
            .get(app.url(&list))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("2 d 14 h left") || html.contains("Reste 2 j 14 h"),
            "the list shows the time left: {html}"
        );
        assert!(html.contains("no-print"), "the forms are not printed");

        // Three days later, nobody has notified: overdue.
        app.clock.advance(3 * 86_400);
        let i = get_json(&app, &claire, &url).await;
        assert_eq!(i["clock"]["state"], "overdue");
        assert_eq!(i["clock"]["seconds_over"], 10 * 3600);
        let page = claire
            .get(app.url(&url))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Overdue by 10 h 0 min") || page.contains("En retard de 10 h 0 min"),
            "{page}"
        );

        // Bad input is refused, the field named, and nothing is written.
        let mut bad = fields.clone();
        bad[2] = ("discovered_at", "hier");
        refused(
            post_form(&app, &claire, &list, &list, &bad).await,
            &["discovered", "découverte"],
        )
        .await;
        let mut bad = fields.clone();
        bad[5] = ("notify_authority", "no");
        refused(
            post_form(&app, &claire, &list, &list, &bad).await,
            &["why the authority", "pourquoi l’autorité"],
        )
        .await;
        refused(
            post_form(
                &app,
                &claire,
                &url,
                &url,
                &[fields.clone(), vec![("status", "notified")]].concat(),
            )
            .await,
            &["status", "statut"],
        )
        .await;
        assert_eq!(
            get_json(&app, &claire, &list).await["incidents"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // She notifies the authority, late; the history keeps what the incident said before.
        let notified = format_time(now + 3 * 86_400 - 3600);
        fields.extend([
            ("authority_notified_at", notified.as_str()),
            ("status", "notified"),
            (
                "note",
                "Notification faite par le formulaire en ligne de l’autorité.",
            ),
        ]);
        let res = post_form(&app, &claire, &url, &url, &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let i = get_json(&app, &claire, &url).await;
        assert_eq!(i["clock"]["state"], "notified_late");
        assert_eq!(i["clock"]["seconds_late"], 9 * 3600);
        let history = i["history"].as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0]["kind"], "recorded");
        assert_eq!(history[1]["kind"], "updated");
        assert_eq!(history[1]["by"], "Claire Ngarlem");
        assert_eq!(
            history[1]["changes"]["status"],
            serde_json::json!({"from": "open", "to": "notified"})
        );
        assert!(history[1]["note"]
            .as_str()
            .unwrap()
            .contains("Notification"));

        // Analysts and viewers do not see the register; outsiders do not know it exists.
        for (who, status) in [
            (IDRISS, StatusCode::FORBIDDEN),
            (MOUSSA, StatusCode::FORBIDDEN),
            (OUTSIDER, StatusCode::NOT_FOUND),
        ] {
            let c = signed_in(&app, who).await;
            let res = c
                .get(app.url(&format!("{list}.json")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{who} reads");
        }
        // Nor record in it (the token of a page they may see).
        let idriss = signed_in(&app, IDRISS).await;
        let res = post_form(&app, &idriss, &private_project(), &list, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // The audit log says who recorded and changed it.
        let actions = audit_actions(&app, &claire, "incident").await;
        assert!(
            actions.contains(&"incident.recorded".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"incident.updated".to_owned()),
            "{actions:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_impact_assessment_says_whether_it_is_required_and_keeps_its_answers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let url = format!("{}/dpia", private_project());
        let d = get_json(&app, &claire, &url).await;
        // Sensitive fields and children among the data subjects: two criteria, so required.
        assert_eq!(d["required"], true);
        assert_eq!(d["criteria_met"], 2);
        let item = |d: &Value, code: &str| {
            d["checklist"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["code"] == code)
                .cloned()
                .unwrap()
        };
        assert_eq!(item(&d, "sensitive_data")["ok"], false);
        assert_eq!(item(&d, "vulnerable")["ok"], false);
        assert_eq!(item(&d, "public_links")["ok"], false);
        assert_eq!(item(&d, "retention")["ok"], true);
        assert_eq!(item(&d, "large_scale")["ok"], true);
        assert_eq!(
            item(&d, "audit_verified")["ok"],
            true,
            "the demo's administrator verified the log"
        );
        let decision = d["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["question"] == "decision")
            .cloned()
            .unwrap();
        assert_eq!(decision["answer"], "proceed_with_measures");
        assert_eq!(decision["by"], "Claire Ngarlem");

        // A wrong decision is refused, named.
        refused(
            post_form(&app, &claire, &url, &url, &[("decision", "maybe")]).await,
            &["decision", "décision"],
        )
        .await;
        // Claire ticks systematic monitoring and changes the decision; the old answers stay in
        // the history.
        let before = d["history"].as_array().unwrap().len();
        let res = post_form(
            &app,
            &claire,
            &url,
            &url,
            &[
                ("criterion_monitoring", "yes"),
                ("necessity", d["answers"][6]["answer"].as_str().unwrap()),
                ("risks", "Réidentification des ménages."),
                ("decision", "consult_authority"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let d = get_json(&app, &claire, &url).await;
        assert_eq!(d["criteria_met"], 3);
        assert!(d["history"].as_array().unwrap().len() > before);
        let answer = |q: &str| {
            d["answers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["question"] == q)
                .unwrap()["answer"]
                .clone()
        };
        assert_eq!(answer("decision"), "consult_authority");
        assert_eq!(answer("mitigations"), "");

        // Three months later the verification is stale; a new one by an administrator turns the
        // item back to "ok". (Sessions expire meanwhile: sign in again.)
        app.clock.advance(91 * 86_400);
        let claire = signed_in(&app, CLAIRE).await;
        let d = get_json(&app, &claire, &url).await;
        assert_eq!(item(&d, "audit_verified")["ok"], false);
        let admin = signed_in(&app, ADMIN).await;
        let token = csrf(&app, &admin, "/-/audit").await;
        let res = admin
            .post(app.url("/-/audit/verify"))
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let d = get_json(&app, &claire, &url).await;
        assert_eq!(item(&d, "audit_verified")["ok"], true);

        // Analysts neither read nor answer it.
        let idriss = signed_in(&app, IDRISS).await;
        let res = idriss
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(&app, &idriss, &private_project(), &url, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        let actions = audit_actions(&app, &claire, "dpia").await;
        assert!(actions.contains(&"dpia.answered".to_owned()), "{actions:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn agreements_in_force_appear_in_the_record_of_processing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let list = format!("{}/agreements", private_project());
        let r = get_json(&app, &claire, &list).await;
        let demo = &r["agreements"][0];
        assert_eq!(demo["status"], "in_force");
        assert_eq!(demo["active"], true);
        assert_eq!(demo["aggregated_only"], true);
        assert!(
            r["forms"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("points_eau")),
            "{}",
            r["forms"]
        );
        let record = get_json(
            &app,
            &claire,
            &format!("{}/record-of-processing", private_project()),
        )
        .await;
        assert!(record["shared_with"][0]["recipient"]
            .as_str()
            .unwrap()
            .starts_with("Ministère de l’Eau"));

        // A transfer outside the country needs its safeguard; forms must be the project's.
        let mut fields = vec![
            (
                "recipient",
                "Université de Genève — Institut de santé globale",
            ),
            (
                "purpose",
                "Étude de la diarrhée infantile et de l’accès à l’eau.",
            ),
            ("forms", "points_eau"),
            ("levels", "internal"),
            ("levels", "sensitive"),
            ("lawful_basis", "consent"),
            ("starts_on", "2025-01-01"),
            ("ends_on", "2025-12-31"),
            ("outside_country", "yes"),
            ("status", "in_force"),
        ];
        refused(
            post_form(&app, &claire, &list, &list, &fields).await,
            &["safeguard", "garantie"],
        )
        .await;
        let mut other = fields.clone();
        other[2] = ("forms", "autre_formulaire");
        refused(
            post_form(&app, &claire, &list, &list, &other).await,
            &["forms", "formulaires"],
        )
        .await;
        fields.push((
            "safeguard",
            "Clauses contractuelles types de la Commission européenne",
        ));
        let res = post_form(&app, &claire, &list, &list, &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let url = res.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        // It ended last year but is still said to be in force: flagged, and kept out of the
        // record of processing.
        let a = get_json(&app, &claire, &url).await;
        assert_eq!(a["levels"], serde_json::json!(["internal", "sensitive"]));
        assert_eq!(a["expired"], true);
        assert_eq!(a["active"], false);
        let record = get_json(
            &app,
            &claire,
            &format!("{}/record-of-processing", private_project()),
        )
        .await;
        assert_eq!(record["shared_with"].as_array().unwrap().len(), 1);
        let d = get_json(&app, &claire, &format!("{}/dpia", private_project())).await;
        let agreements = d["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "agreements")
            .cloned()
            .unwrap();
        assert_eq!(agreements["ok"], false);
        assert!(agreements["why"]["recipients"]
            .as_str()
            .unwrap()
            .contains("Genève"));

        // Ending it is a change with its history.
        fields[9] = ("status", "ended");
        let res = post_form(&app, &claire, &url, &url, &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let a = get_json(&app, &claire, &url).await;
        assert_eq!(a["expired"], false);
        assert_eq!(
            a["history"][1]["changes"]["status"],
            serde_json::json!({"from": "in_force", "to": "ended"})
        );

        let moussa = signed_in(&app, MOUSSA).await;
        let res = moussa
            .get(app.url(&format!("{list}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let actions = audit_actions(&app, &claire, "agreement").await;
        assert!(
            actions.contains(&"agreement.recorded".to_owned()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"agreement.updated".to_owned()),
            "{actions:?}"
        );
        app.stop().await;
    }
}
