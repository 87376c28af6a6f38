//! IATI activities: the organisation's identifier, recording an activity with budgets and
//! transactions, the checks, who may do what, the XML files (order, privacy), and the
//! catalogue dataset made from an activity.

use crate::common::*;
use baraza::demo::{IATI_CODE, IATI_DATASET, IATI_ORG, ORG_SLUG};
use reqwest::StatusCode;

fn org_xml() -> String {
    format!("/orgs/{ORG_SLUG}/iati-activities.xml")
}

fn edit(project: &str) -> String {
    format!("{project}/iati/edit")
}

/// The fields of a valid activity, with `changes` applied (a key given twice is repeated).
fn activity<'a>(code: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("code", code),
        ("lang", "fr"),
        ("title_fr", "Enquête ménages — eau & assainissement"),
        ("title_en", "Household survey — water & sanitation"),
        ("description_fr", "Mesure de l’accès à l’eau <ODD 6.1>."),
        ("description_en", ""),
        ("status", "2"),
        ("planned_start", "2026-01-01"),
        ("actual_start", "2026-03-01"),
        ("planned_end", "2026-12-31"),
        ("actual_end", ""),
        ("country", "TD"),
        ("region", ""),
        ("country_percentage", ""),
        ("sector", "14031"),
        ("sector_percentage", "60"),
        ("sector", "14032"),
        ("sector_percentage", "40"),
        ("sector", ""),
        ("sector_percentage", ""),
        ("currency", "XAF"),
        ("org_name", "Fondation Sahel Solidaire"),
        ("org_role", "1"),
        ("org_ref", ""),
        ("org_type", "60"),
        ("org_name", ""),
        ("org_role", ""),
        ("org_ref", ""),
        ("org_type", ""),
    ];
    for (k, v) in changes {
        if let Some(slot) = f.iter_mut().find(|(key, _)| key == k) {
            slot.1 = v;
        }
    }
    f
}

async fn xml_of(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    let status = res.status();
    if status == StatusCode::OK {
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml"));
    }
    (status, res.text().await.unwrap())
}

/// The element names directly under `node`.
fn children(node: roxmltree::Node) -> Vec<String> {
    node.children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .collect()
}

#[tokio::test]
async fn iati_activity_recorded_checked_and_published() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let claire = signed_in(&app, CLAIRE).await;
        let private = private_project();
        let page = edit(&private);

        // The demo's organisation file: the public project's activity, in schema order.
        let (status, xml) = xml_of(&anon, &app, &org_xml()).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "iati-activities");
        assert_eq!(root.attribute("version"), Some("2.03"));
        let acts: Vec<_> = root.children().filter(|n| n.is_element()).collect();
        assert_eq!(acts.len(), 1);
        let a = acts[0];
        assert_eq!(a.attribute("default-currency"), Some("XAF"));
        assert_eq!(a.attribute("hierarchy"), Some("1"));
        let names = children(a);
        let order = [
            "iati-identifier",
            "reporting-org",
            "title",
            "description",
            "participating-org",
            "activity-status",
            "activity-date",
            "recipient-country",
            "sector",
            "budget",
            "transaction",
        ];
        let mut positions = order.iter().map(|o| {
            names
                .iter()
                .position(|n| n == o)
                .unwrap_or_else(|| panic!("{o}"))
        });
        let mut last = positions.next().unwrap();
        for p in positions {
            assert!(p > last, "{names:?}");
            last = p;
        }
        let text = |n: roxmltree::Node, name: &str| {
            n.children()
                .find(|c| c.has_tag_name(name))
                .and_then(|c| c.text())
                .map(str::to_string)
        };
        assert_eq!(
            text(a, "iati-identifier").unwrap(),
            format!("{IATI_ORG}-{IATI_CODE}")
        );
        assert_eq!(names.iter().filter(|n| *n == "budget").count(), 2);
        assert_eq!(names.iter().filter(|n| *n == "transaction").count(), 6);
        let reporting = a
            .children()
            .find(|c| c.has_tag_name("reporting-org"))
            .unwrap();
        assert_eq!(reporting.attribute("ref"), Some(IATI_ORG));
        assert_eq!(reporting.attribute("type"), Some("22"));

        // The public page and its twin, with totals; the project's XML.
        let public = public_project();
        let view = get_json(&app, &anon, &format!("{public}/iati")).await;
        assert_eq!(view["budget_totals"]["XAF"], "44300000");
        assert_eq!(view["transaction_totals"]["1"]["XAF"], "24500000");
        assert_eq!(view["can_edit"], false);
        let html = anon
            .get(app.url(&format!("{public}/iati")))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("44\u{202f}300\u{202f}000"), "French grouping");
        let (status, one) = xml_of(&anon, &app, &format!("{public}/iati.xml")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(one.contains(&format!("{IATI_ORG}-{IATI_CODE}")));

        // The private project has no activity yet; its manager records one.
        let (status, _) = xml_of(&claire, &app, &format!("{private}/iati.xml")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let res = post_form(
            &app,
            &claire,
            &page,
            &format!("{private}/iati"),
            &activity("ENQUETE-2026", &[]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Checks: each names its field.
        // Changes to the good activity, the error code, a word the message must hold.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let bad: &[Case] = &[
            (
                &[("planned_end", "2025-12-31")],
                "validation_failed",
                "planned_end",
            ),
            (
                &[("planned_start", "2026-02-30")],
                "validation_failed",
                "planned_start",
            ),
            (&[("sector_percentage", "30")], "validation_failed", "100"),
            (&[("currency", "FCFA")], "validation_failed", "currency"),
            (&[("code", "a/b")], "validation_failed", "code"),
            (&[("code", IATI_CODE)], "validation_failed", "code"),
            (&[("country", "ZZ")], "validation_failed", "(td, ke, np"),
            (&[("org_name", "")], "validation_failed", "particip"),
        ];
        for (changes, code, needle) in bad {
            let res = post_form(
                &app,
                &claire,
                &page,
                &format!("{private}/iati"),
                &activity("ENQUETE-2026", changes),
            )
            .await;
            let (status, c, message) = error_code(res).await;
            assert_eq!(
                (status, c.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, *code),
                "{changes:?}"
            );
            assert!(
                message.to_lowercase().contains(needle),
                "{changes:?}: {message}"
            );
        }

        // Budgets: at most a year; amounts as typed in French; bad currency refused.
        let budgets = format!("{private}/iati/budgets");
        let budget = |start: &'static str,
                      end: &'static str,
                      value: &'static str,
                      currency: &'static str| {
            vec![
                ("budget_type", "1"),
                ("status", "2"),
                ("period_start", start),
                ("period_end", end),
                ("value", value),
                ("currency", currency),
                ("value_date", ""),
            ]
        };
        let res = post_form(
            &app,
            &claire,
            &page,
            &budgets,
            &budget("2026-01-01", "2027-01-01", "1000", "XAF"),
        )
        .await;
        let (status, _, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message.contains("budget"), "{message}");
        let res = post_form(
            &app,
            &claire,
            &page,
            &budgets,
            &budget("2026-01-01", "2026-12-31", "1000", "XYZ"),
        )
        .await;
        assert_eq!(error_code(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        let res = post_form(
            &app,
            &claire,
            &page,
            &budgets,
            &budget("2026-01-01", "2026-12-31", "1 250 000,50", "XAF"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post_form(
            &app,
            &claire,
            &page,
            &budgets,
            &budget("2026-07-01", "2026-12-31", "10", "EUR"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Transactions.
        let tx = format!("{private}/iati/transactions");
        let transaction = |ty: &'static str, value: &'static str| {
            vec![
                ("transaction_type", ty),
                ("date", "2026-03-15"),
                ("value", value),
                ("currency", ""),
                ("value_date", ""),
                ("description", "Tranche <1> & frais"),
                ("provider_name", "Fondation"),
                ("provider_ref", ""),
                ("receiver_name", "ONG"),
                ("receiver_ref", IATI_ORG),
            ]
        };
        for (ty, v) in [("1", "700000"), ("3", "200000.25"), ("3", "100000")] {
            let res = post_form(&app, &claire, &page, &tx, &transaction(ty, v)).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        let res = post_form(&app, &claire, &page, &tx, &transaction("14", "1")).await;
        assert_eq!(error_code(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        let res = post_form(&app, &claire, &page, &tx, &transaction("3", "1e6")).await;
        assert_eq!(error_code(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);

        let view = get_json(&app, &claire, &format!("{private}/iati")).await;
        assert_eq!(view["identifier"], format!("{IATI_ORG}-ENQUETE-2026"));
        assert_eq!(view["budget_totals"]["XAF"], "1250000.50");
        assert_eq!(view["budget_totals"]["EUR"], "10");
        assert_eq!(view["transaction_totals"]["3"]["XAF"], "300000.25");
        assert_eq!(view["can_edit"], true);
        let first_tx = view["transactions"][0]["id"].as_i64().unwrap();

        // Deleting a transaction.
        let res = post_form(
            &app,
            &claire,
            &page,
            &format!("{tx}/{first_tx}/delete"),
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post_form(
            &app,
            &claire,
            &page,
            &format!("{tx}/{first_tx}/delete"),
            &[],
        )
        .await;
        assert_eq!(error_code(res).await.0, StatusCode::NOT_FOUND);
        let view = get_json(&app, &claire, &format!("{private}/iati")).await;
        assert_eq!(view["transactions"].as_array().unwrap().len(), 2);

        // The private project's file, for its members: escaped text, the schema's order.
        let (status, xml) = xml_of(&claire, &app, &format!("{private}/iati.xml")).await;
        assert_eq!(status, StatusCode::OK);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let a = doc.root_element().first_element_child().unwrap();
        let t = a
            .children()
            .find(|c| c.has_tag_name("transaction"))
            .unwrap();
        assert_eq!(
            children(t),
            [
                "transaction-type",
                "transaction-date",
                "value",
                "description",
                "provider-org",
                "receiver-org"
            ]
        );
        assert!(xml.contains("Tranche &lt;1&gt; &amp; frais"));
        let b = a.children().find(|c| c.has_tag_name("budget")).unwrap();
        assert_eq!(children(b), ["period-start", "period-end", "value"]);

        // …but never in the organisation's file, nor for outsiders.
        let (_, xml) = xml_of(&anon, &app, &org_xml()).await;
        assert!(!xml.contains("ENQUETE-2026"));
        assert!(!xml.contains("Enquête ménages"));
        let (status, _) = xml_of(&anon, &app, &format!("{private}/iati.xml")).await;
        assert_ne!(status, StatusCode::OK);
        let outsider = signed_in(&app, OUTSIDER).await;
        let res = outsider
            .get(app.url(&format!("{private}/iati.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // The audit log names what was done.
        let audit = get_json(
            &app,
            &signed_in(&app, AMINA).await,
            &format!("{private}/audit"),
        )
        .await;
        let text = audit.to_string();
        for action in [
            "iati.activity_save",
            "iati.budget_add",
            "iati.transaction_add",
            "iati.transaction_delete",
        ] {
            assert!(text.contains(action), "{action}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn iati_access_is_checked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let public = public_project();
        // The analyst sees the activity but may not edit it.
        let idriss = signed_in(&app, IDRISS).await;
        let view = get_json(&app, &idriss, &format!("{public}/iati")).await;
        assert_eq!(view["can_edit"], false);
        let res = idriss.get(app.url(&edit(&public))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let token = csrf(&app, &idriss, &format!("{public}/iati")).await;
        let res = idriss
            .post(app.url(&format!("{public}/iati/budgets")))
            .header("accept", "application/json")
            .form(&[
                ("_csrf", token.as_str()),
                ("budget_type", "1"),
                ("status", "1"),
                ("period_start", "2026-01-01"),
                ("period_end", "2026-06-30"),
                ("value", "5"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // An outsider: the public page yes, the forms no.
        let outsider = signed_in(&app, OUTSIDER).await;
        get_json(&app, &outsider, &format!("{public}/iati")).await;
        let res = outsider.get(app.url(&edit(&public))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The organisation's settings: owners only; the identifier is checked.
        let settings = format!("/orgs/{ORG_SLUG}/iati");
        let res = idriss.get(app.url(&settings)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let amina = signed_in(&app, AMINA).await;
        let now = get_json(&app, &amina, &settings).await;
        assert_eq!(now["iati"]["identifier"], IATI_ORG);
        for bad in ["TD/MEPD/1", "41114", "TD-MEPD-1?x", "TD MEPD 1"] {
            let res = post_form(
                &app,
                &amina,
                &settings,
                &settings,
                &[("identifier", bad), ("org_type", "22")],
            )
            .await;
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                "{bad}"
            );
        }
        let res = post_form(
            &app,
            &amina,
            &settings,
            &settings,
            &[("identifier", "XM-DAC-99999"), ("org_type", "21")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, xml) = xml_of(&browser(), &app, &org_xml()).await;
        assert!(xml.contains(&format!("XM-DAC-99999-{IATI_CODE}")));
        assert!(xml.contains("<reporting-org ref=\"XM-DAC-99999\" type=\"21\">"));
        // An organisation without an identifier has no file.
        let res = browser()
            .get(app.url("/orgs/no-such-org/iati-activities.xml"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn iati_activity_in_the_catalogue() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        // The demo's dataset: one IATI-XML resource, generated live.
        let d = get_json(&app, &anon, &format!("/dataset/{IATI_DATASET}")).await;
        let text = d.to_string();
        assert!(text.contains("IATI-XML"), "{text}");
        let show: serde_json::Value = anon
            .get(app.url(&format!("/api/3/action/package_show?id={IATI_DATASET}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(show["success"], true);
        let res = &show["result"]["resources"][0];
        assert_eq!(res["format"], "IATI-XML");
        assert_eq!(res["mimetype"], "application/xml");
        let url = res["url"].as_str().unwrap();
        let path = &url[url.find("/dataset/").unwrap()..];
        let body = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(body.status(), StatusCode::OK);
        let xml = body.text().await.unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("version"), Some("2.03"));
        assert!(xml.contains(&format!("{IATI_ORG}-{IATI_CODE}")));
        // The quality score counts it as an open format, and available.
        let criteria = d["quality"]["criteria"].as_array().unwrap();
        for code in ["has_open_format", "all_resources_available"] {
            let c = criteria.iter().find(|c| c["code"] == code).unwrap();
            assert_eq!(c["passed"], true, "{code}: {c}");
        }
        // DCAT says the standard it follows; the Data Package says XML.
        let ttl = anon
            .get(app.url(&format!("/dataset/{IATI_DATASET}.ttl")))
            .send()
            .await
            .unwrap();
        assert_eq!(ttl.status(), StatusCode::OK);
        assert!(ttl.text().await.unwrap().contains("iati-standard/203"));
        let dp: serde_json::Value = anon
            .get(app.url(&format!("/dataset/{IATI_DATASET}/datapackage")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(dp["resources"][0]["format"], "xml");

        // A manager shares the private project's activity as a new dataset.
        let claire = signed_in(&app, CLAIRE).await;
        let private = private_project();
        let res = post_form(
            &app,
            &claire,
            &edit(&private),
            &format!("{private}/iati"),
            &activity("ENQUETE-2026", &[]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cat = format!("{private}/catalogue");
        let page = claire
            .get(app.url(&cat))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("value=\"iati\""));
        let res = post_form(
            &app,
            &claire,
            &cat,
            &cat,
            &[
                ("origin", "iati"),
                ("title", "Activité IATI de l’enquête"),
                ("license_id", "cc-by"),
                ("state", "published"),
            ],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        let d = get_json(&app, &anon, "/dataset/activite-iati-de-l-enquete").await;
        assert!(d.to_string().contains("IATI-XML"));
        app.stop().await;
    }
}
