//! The learning zone: guides in French and English, searchable, each with its `.json` twin.

use crate::common::*;
use reqwest::StatusCode;

async fn page(app: &TestApp, c: &reqwest::Client, path: &str, lang: &str) -> (StatusCode, String) {
    let res = c
        .get(app.url(path))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn json(app: &TestApp, c: &reqwest::Client, path: &str, lang: &str) -> serde_json::Value {
    let res = c
        .get(app.url(path))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn learn_guides_in_both_languages_searchable() {
    for backend in backends() {
        check(backend).await;
    }
}

async fn check(backend: baraza_store::Backend) {
    let app = TestApp::spawn(backend).await;
    let c = browser();

    // The list, in the reader's language, linked from every page's header.
    let (status, en) = page(&app, &c, "/learn", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(en.contains("<html lang=\"en\">"), "{en}");
    assert!(
        en.contains("href=\"/learn\""),
        "the header links the learning zone"
    );
    assert!(en.contains("href=\"/learn/open-licences\""));
    assert!(
        en.contains("href=\"/learn.json\""),
        "the page links its twin"
    );
    let (status, fr) = page(&app, &c, "/learn", "fr-TD,fr;q=0.9").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fr.contains("<html lang=\"fr\">"));
    assert!(fr.contains("Apprendre"));
    assert!(fr.contains("Licences ouvertes"), "{fr}");

    let v = json(&app, &c, "/learn.json", "en").await;
    assert_eq!(v["lang"], "en");
    assert_eq!(v["guides"].as_array().unwrap().len(), 6);
    let v = json(&app, &c, "/learn.json", "fr").await;
    assert_eq!(v["lang"], "fr");
    let slugs: Vec<&str> = v["guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["slug"].as_str().unwrap())
        .collect();
    assert!(slugs.contains(&"using-the-apis"), "{slugs:?}");

    // A guide, rendered, with a link to the other language's version.
    let (status, g) = page(&app, &c, "/learn/open-licences", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(g.contains("<h1>Open licences"), "{g}");
    assert!(g.contains("<table>"), "Markdown tables are rendered");
    assert!(g.contains("href=\"/learn/open-licences?lang=fr\""), "{g}");
    let (status, g) = page(&app, &c, "/learn/open-licences?lang=fr", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(g.contains("<h1>Licences ouvertes"), "{g}");
    let v = json(&app, &c, "/learn/disclosure-control.json", "fr").await;
    assert_eq!(v["guide"]["slug"], "disclosure-control");
    assert_eq!(v["guide"]["lang"], "fr");
    assert!(v["guide"]["title"]
        .as_str()
        .unwrap()
        .starts_with("Contrôle"));
    assert!(v["html"].as_str().unwrap().contains("<h2>"));
    assert_eq!(v["other_language"]["lang"], "en");

    // Search folds accents and case; title hits come first.
    let v = json(&app, &c, "/learn.json?q=LIC%C3%89NCE", "en").await;
    assert_eq!(v["results"][0]["slug"], "open-licences", "{v}");
    assert!(!v["results"][0]["snippet"].as_str().unwrap().is_empty());
    let v = json(&app, &c, "/learn.json?q=donnees", "fr").await;
    assert!(v["count"].as_u64().unwrap() >= 3, "{v}");
    let (status, html) = page(&app, &c, "/learn?q=consentement", "fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/learn/consent-and-responsible-data\""));
    let v = json(&app, &c, "/learn.json?q=zzzyxw", "en").await;
    assert_eq!(v["count"], 0);

    // Raw HTML never reaches a page, whatever the query.
    let (_, html) = page(&app, &c, "/learn?q=%3Cscript%3Ex%3C/script%3E", "en").await;
    assert!(!html.contains("<script>x"));

    // An unknown guide.
    let res = c
        .get(app.url("/learn/no-such-guide.json"))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = page(&app, &c, "/learn/no-such-guide", "fr").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The screens link the guides that explain them.
    let amina = signed_in(&app, "amina@eau-tchad.example").await;
    let (_, html) = page(&app, &amina, &format!("{}/forms", private_project()), "en").await;
    assert!(html.contains("href=\"/learn/collecting-well\""));
    let (_, html) = page(
        &app,
        &amina,
        &format!("{}/indicators", private_project()),
        "fr",
    )
    .await;
    assert!(html.contains("href=\"/learn/reading-sdg-indicators\""));
    let (_, html) = page(&app, &c, "/dataset/registre-points-eau", "en").await;
    assert!(html.contains("href=\"/learn/using-the-apis\""));
    app.stop().await;
}
