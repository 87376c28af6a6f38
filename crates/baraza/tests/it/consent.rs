//! Consent: a form's consent question (the XLSForm `consent` column) makes every submission
//! record what the person answered, under which notice, in which language, how and when; a
//! refusal is accepted but keeps no other answer; a withdrawal erases the record and leaves only
//! the proof of withdrawal. Shown on the record's page (and its `.json`) and counted in the
//! record of processing.

use crate::common::*;
use baraza_core::forms::Submitter;
use baraza_store::Backend;
use reqwest::StatusCode;
use serde_json::Value;

const FORM: &str = "| survey | | | | | | |\n| | type | name | label::Français (fr) | label::English (en) | relevant | consent |\n| | start | start | | | | |\n| | end | end | | | | |\n| | select_one oui_non | accord | Acceptez-vous de répondre ? | Do you agree to answer? | | yes |\n| | text | nom | Nom | Name | ${accord} = 'oui' | |\n| | text | commentaire | Commentaire | Comment | ${accord} = 'oui' | |\n| choices | | | | |\n| | list_name | name | label::Français (fr) | label::English (en) |\n| | oui_non | oui | Oui | Yes |\n| | oui_non | non | Non | No |\n| settings | | | | |\n| | form_id | version | default_language | consent_notice_version |\n| | accord | 1 | Français (fr) | v3 |\n";
const GIVEN_NOTE: &str = "SENTINEL-ACCORD-3318";
const REFUSED_NOTE: &str = "SENTINEL-REFUS-5521";

fn xml(instance: &str, answer: &str, name: &str, note: &str, deprecated: Option<&str>) -> String {
    let dep = deprecated
        .map(|d| format!("<deprecatedID>{d}</deprecatedID>"))
        .unwrap_or_default();
    format!(
        "<data id=\"accord\" version=\"1\"><start>2026-09-21T08:00:00.000+01:00</start><end>2026-09-21T08:05:00.000+01:00</end><accord>{answer}</accord><nom>{name}</nom><commentaire>{note}</commentaire><meta><instanceID>{instance}</instanceID>{dep}</meta></data>"
    )
}

/// Sends a submission as ODK Collect does, with an app user's token, and files.
async fn collect(
    app: &TestApp,
    base: &str,
    xml: &str,
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().part(
        "xml_submission_file",
        reqwest::multipart::Part::bytes(xml.as_bytes().to_vec())
            .file_name("submission.xml")
            .mime_str("text/xml")
            .unwrap(),
    );
    for (name, bytes) in files {
        form = form.part(
            name.to_string(),
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    reqwest::Client::new()
        .post(app.url(&format!("{base}/submission")))
        .header("X-OpenRosa-Version", "1.0")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn get_json(c: &reqwest::Client, url: String) -> Value {
    let res = c
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn form_of<'a>(record: &'a Value, id: &str) -> &'a Value {
    record["forms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["xml_form_id"] == id)
        .unwrap_or_else(|| panic!("{id} in the record of processing"))
}

#[tokio::test]
async fn consent_is_recorded_shown_and_a_refusal_keeps_no_answer() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let (amina, principal, access) = owner_access(core).await;
        core.upload_form(&access, &principal, "accord.md", FORM.as_bytes())
            .await
            .expect("form");
        core.set_form_state(&access, "accord", baraza_store::FormState::Published)
            .await
            .unwrap();
        let (_, token) = core
            .create_app_user(&access, &principal, "Téléphone d'essai")
            .await
            .unwrap();
        let base = format!("/v1/key/{token}/projects/{}", access.project.id.0);

        // ODK Collect sends one consent given and one refused (and the refusal again).
        let given = xml("uuid:accord-oui", "oui", "Awa Mahamat", GIVEN_NOTE, None);
        let refused = xml("uuid:accord-non", "non", "Zara Idriss", REFUSED_NOTE, None);
        // The refusal comes with a file: it is wiped, since no record keeps it.
        let file: &[u8] = b"\xff\xd8 SENTINEL-REFUS-FICHIER-8812 \xff\xd9";
        for (body, files) in [
            (&given, &[][..]),
            (&refused, &[("photo.jpg", file)][..]),
            (&refused, &[][..]),
        ] {
            assert_eq!(
                collect(&app, &base, body, files).await.status(),
                StatusCode::CREATED
            );
        }
        assert_eq!(
            traces(&app, "SENTINEL-REFUS-FICHIER-8812"),
            Vec::<String>::new()
        );
        // Through the API (a person's account), consent not answered: the answers stay.
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            xml("uuid:accord-vide", "", "", "sans réponse", None).as_bytes(),
            &[],
        )
        .await
        .unwrap();
        // An edit cannot turn consent into a refusal: the record must be erased instead.
        let err = core
            .ingest_submission(
                access.project.id,
                Submitter::User(amina.id),
                xml("uuid:accord-oui-2", "non", "", "", Some("uuid:accord-oui")).as_bytes(),
                &[],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                baraza_core::CoreError::SubmissionInvalid {
                    code: "consent_refused_in_edit",
                    ..
                }
            ),
            "{err:?}"
        );

        // The manager reads the consent on the record's page and in its .json.
        let claire = signed_in(&app, CLAIRE).await;
        let record = |id: &str| format!("{}/forms/accord/submissions/{id}", private_project());
        // (Claire reads in French, her account's language.)
        let page = claire
            .get(app.url(&record("uuid:accord-oui")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for text in [
            "Consentement",
            "donné",
            "v3",
            "Français (fr)",
            "ODK Collect",
        ] {
            assert!(page.contains(text), "{text} on the page");
        }
        let json = get_json(
            &claire,
            app.url(&format!("{}.json", record("uuid:accord-oui"))),
        )
        .await;
        let c = &json["consent"];
        assert_eq!(c["state"], "given", "{json}");
        assert_eq!(c["notice_version"], "v3");
        assert_eq!(c["language"], "Français (fr)");
        assert_eq!(c["language_source"], "form_default");
        assert_eq!(c["channel"], "odk_collect");
        assert_eq!(c["started"], "2026-09-21T08:00:00.000+01:00");
        assert_eq!(c["ended"], "2026-09-21T08:05:00.000+01:00");
        assert!(c["received"].as_str().unwrap().starts_with("2026-09-21"));
        assert!(json.to_string().contains(GIVEN_NOTE));

        // The refusal is on record, with nothing else: no name, no comment, in no file.
        let json = get_json(
            &claire,
            app.url(&format!("{}.json", record("uuid:accord-non"))),
        )
        .await;
        assert_eq!(json["consent"]["state"], "refused", "{json}");
        let answers: Vec<&str> = json["versions"][0]["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        assert_eq!(answers, ["/data/accord", "/data/meta/instanceID"]);
        let kept = String::from_utf8(
            core.submission_xml(&access, "accord", "uuid:accord-non")
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(
            !kept.contains(REFUSED_NOTE) && !kept.contains("Zara"),
            "{kept}"
        );
        if backend == Backend::Sqlite {
            assert_eq!(traces(&app, REFUSED_NOTE), Vec::<String>::new());
            assert!(
                !traces(&app, GIVEN_NOTE).is_empty(),
                "the scan finds clear answers"
            );
        }
        let json = get_json(
            &claire,
            app.url(&format!("{}.json", record("uuid:accord-vide"))),
        )
        .await;
        assert_eq!(json["consent"]["state"], "not_answered");
        assert_eq!(json["consent"]["channel"], "api");
        assert!(json.to_string().contains("sans réponse"));

        // The record of processing names the question and counts the answers.
        let rop = get_json(
            &claire,
            app.url(&format!("{}/record-of-processing.json", private_project())),
        )
        .await;
        let f = form_of(&rop, "accord");
        assert_eq!(f["consent_question"], "accord");
        assert_eq!(f["consent_notice_version"], "v3");
        assert_eq!(
            f["consents"],
            serde_json::json!({"given": 1, "refused": 1, "not_answered": 1, "withdrawn": 0})
        );
        assert!(form_of(&rop, "points_eau")["consent_question"].is_null());

        // Withdrawal: the record is erased; only the proof of withdrawal stays.
        let token = csrf_from(
            &claire
                .get(app.url(&record("uuid:accord-oui")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let res = claire
            .post(app.url(&format!("{}/erase", record("uuid:accord-oui"))))
            .form(&[
                ("_csrf", token.as_str()),
                ("reason", "consent_withdrawn"),
                ("confirm", "yes"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let form = core
            .store()
            .form_by_xml_id(access.project.id, "accord")
            .await
            .unwrap()
            .unwrap();
        assert!(core
            .store()
            .submission(form.id, "uuid:accord-oui")
            .await
            .unwrap()
            .is_none());
        let proof = core
            .store()
            .consent(form.id, "uuid:accord-oui")
            .await
            .unwrap()
            .expect("the proof of withdrawal");
        assert_eq!(proof.state, "withdrawn");
        assert_eq!(proof.withdrawn_at, Some(T0));
        assert_eq!(proof.notice_version.as_deref(), Some("v3"));
        assert_eq!(
            (
                &proof.instance_id,
                &proof.language,
                &proof.channel,
                &proof.received_at,
                &proof.started,
                &proof.ended
            ),
            (&None, &None, &None, &None, &None, &None)
        );
        if backend == Backend::Sqlite {
            assert_eq!(traces(&app, GIVEN_NOTE), Vec::<String>::new());
        }
        let audit = get_json(
            &claire,
            app.url(&format!("{}/audit.json?kind=data", private_project())),
        )
        .await;
        let erased = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "data.erased")
            .expect("a certificate")
            .clone();
        assert_eq!(erased["details"]["reason"], "consent_withdrawn");
        assert_eq!(erased["details"]["consent_withdrawn"], true);

        // Any other erasure removes the consent record with the record.
        core.erase_record(&access, "accord", "uuid:accord-non", "collected_in_error")
            .await
            .unwrap();
        assert!(core
            .store()
            .consent(form.id, "uuid:accord-non")
            .await
            .unwrap()
            .is_none());
        let rop = get_json(
            &claire,
            app.url(&format!("{}/record-of-processing.json", private_project())),
        )
        .await;
        assert_eq!(
            form_of(&rop, "accord")["consents"],
            serde_json::json!({"given": 0, "refused": 0, "not_answered": 1, "withdrawn": 1})
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_demo_asks_for_consent_and_two_people_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let rop = get_json(
            &claire,
            app.url(&format!("{}/record-of-processing.json", private_project())),
        )
        .await;
        let f = form_of(&rop, baraza::demo::CONSENT_FORM);
        assert_eq!(f["consent_question"], "consentement");
        assert_eq!(f["consent_notice_version"], "2026-01");
        let refused = baraza::demo::CONSENT_REFUSED.len() as i64;
        assert_eq!(f["consents"]["refused"], refused);
        assert_eq!(
            f["consents"]["given"],
            baraza::demo::CONSENT_SUBMISSIONS as i64 - refused
        );
        assert!(
            rop["gaps"].as_array().unwrap().is_empty(),
            "{}",
            rop["gaps"]
        );
        // The refused ones keep only the consent answer; the others are sealed as usual.
        let page = get_json(
            &claire,
            app.url(&format!(
                "{}/forms/{}/submissions.json",
                private_project(),
                baraza::demo::CONSENT_FORM
            )),
        )
        .await;
        let rows = page["submissions"].as_array().unwrap();
        assert_eq!(rows.len(), baraza::demo::CONSENT_SUBMISSIONS);
        let empty = rows
            .iter()
            .filter(|r| {
                r["values"]
                    .get("avis/nom_complet")
                    .is_none_or(|v| v.is_null() || v == "")
            })
            .count();
        assert_eq!(empty as i64, refused, "{page}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_web_form_records_its_language_and_channel() {
    use crate::webform::{location, start_at};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let (_, principal, access) = owner_access(core).await;
        core.upload_form(&access, &principal, "accord.md", FORM.as_bytes())
            .await
            .expect("form");
        core.set_form_state(&access, "accord", baraza_store::FormState::Published)
            .await
            .unwrap();
        let url = format!("{}/forms/accord", private_project());
        let browser = signed_in(&app, AMINA).await;
        for (answer, state) in [("oui", "given"), ("non", "refused")] {
            let f = start_at(&app, browser.clone(), &url, "en").await;
            // One page: it is shown again while relevance changes what it holds.
            let mut fields = vec![("/data/accord", answer)];
            if answer == "oui" {
                fields.push(("/data/nom", "Awa Mahamat"));
                fields.push(("/data/commentaire", GIVEN_NOTE));
            }
            let mut status = StatusCode::OK;
            for _ in 0..3 {
                status = f.post(&fields, "next").await.status();
                if status == StatusCode::SEE_OTHER {
                    break;
                }
            }
            assert_eq!(status, StatusCode::SEE_OTHER, "{fields:?}");
            let res = f.post(&[], "send").await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let to = location(&res);
            let instance = to.split("sent=").nth(1).unwrap().replace("%3A", ":");
            let json = get_json(
                &browser,
                app.url(&format!("{url}/submissions/{instance}.json")),
            )
            .await;
            let c = &json["consent"];
            assert_eq!(c["state"], state, "{json}");
            assert_eq!(c["channel"], "web_form");
            assert_eq!(c["language_source"], "web_form");
            assert!(c["language"].as_str().unwrap().ends_with(')'), "{c}");
            assert_eq!(c["notice_version"], "v3");
        }
        app.stop().await;
    }
}
